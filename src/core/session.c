/*
 * session.c - a session's identity (see session.h).
 */
#include "session.h"

#include <math.h>

/* 2^53: beyond it a double no longer holds every integer. */
static const double START_LIMIT_US = 9007199254740992.0;

int64_t session_start_us(double epoch_s)
{
	double us;

	if (!isfinite(epoch_s)) {
		return SESSION_START_UNKNOWN;
	}
	us = round(epoch_s * 1e6);
	if (!(fabs(us) < START_LIMIT_US)) {
		return SESSION_START_UNKNOWN;
	}
	return (int64_t)us;
}

double session_start_epoch_s(int64_t us)
{
	if (us == SESSION_START_UNKNOWN) {
		return NAN;
	}
	/* Whole seconds and the rest apart: the division of the whole
	 * count would round twice. */
	return (double)(us / 1000000) + (double)(us % 1000000) / 1e6;
}

struct session_id session_id_of(const struct session *s)
{
	return (struct session_id){.pid = s->pid,
				   .backend_start_us = s->backend_start_us};
}

bool session_id_known(struct session_id id)
{
	return id.pid > 0 && id.backend_start_us != SESSION_START_UNKNOWN;
}

uint64_t session_id_hash(struct session_id id)
{
	uint64_t h = (uint64_t)(uint32_t)id.pid * 0x9E3779B97F4A7C15ULL;

	h ^= (uint64_t)id.backend_start_us + 0x632BE59BD9B4E019ULL + (h << 6) +
	     (h >> 2);
	return h * 0xBF58476D1CE4E5B9ULL;
}

bool session_id_equal(struct session_id a, struct session_id b)
{
	return a.pid == b.pid && a.backend_start_us == b.backend_start_us;
}
