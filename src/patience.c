/*
 * patience.c - how long a server that does not answer is tried (see
 * modes.h): one policy for every mode.
 */
#include "modes.h"

#include "notice.h"

enum { PATIENCE_QUIET_CONNECT_MS = 1000 };

void patience_init(struct patience *p, const struct options *opts)
{
	/* A one-shot report and a wrapped command (which starts only
	 * after the first sample) are CI steps: a server that never comes
	 * must fail them, not hang the job. */
	bool step = opts->mode == RUN_MODE_ONCE || opts->mode == RUN_MODE_WRAP;

	p->budget_ms = opts->retry_for_ms >= 0 ? opts->retry_for_ms
		       : step                  ? 30000
					       : -1;
	p->said = false;
}

void patience_reset(struct patience *p)
{
	p->said = false;
}

/* The first line of an outage says what happens next. */
static void announce(struct patience *p, const struct target *t,
		     const char *msg)
{
	char budget[64] = "until stopped";

	if (p->said) {
		return;
	}
	p->said = true;
	if (p->budget_ms >= 0) {
		snprintf(budget, sizeof(budget), "for up to %.0fs",
			 p->budget_ms / 1000.0);
	}
	if (!target_ever_connected(t)) {
		notice_say("waiting for the server: %s", msg);
		notice_say("hint: retrying %s; --retry-for sets how long "
			   "(0: fail at once), Ctrl-C stops",
			   budget);
	} else {
		notice_say("sample failed: %s (retrying %s)", msg, budget);
	}
}

bool patience_exhausted(struct patience *p, const struct target *t,
			int64_t now_ms)
{
	const char *msg;
	enum poll_failure failure = target_failure(t, &msg);
	int64_t failing = target_failing_for_ms(t, now_ms);

	if (!target_ever_connected(t) && failure != POLL_FAILURE_DOWN) {
		return true; /* it will not heal: no waiting */
	}
	if (p->budget_ms >= 0 && failing >= p->budget_ms) {
		if (target_ever_connected(t)) {
			notice_say("giving up after %.1fs without a sample: %s",
				   failing / 1000.0, msg);
		}
		return true;
	}
	/* A first connection still in progress is not an outage until it
	 * takes noticeably long (a busy server answers in a few hundred
	 * milliseconds). */
	if (p->budget_ms != 0 &&
	    (target_ever_connected(t) || !target_connecting(t) ||
	     failing >= PATIENCE_QUIET_CONNECT_MS)) {
		announce(p, t, msg);
	}
	return false;
}
