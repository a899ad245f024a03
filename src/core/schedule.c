/*
 * schedule.c - the sampling schedule and the reconnection backoff (see
 * schedule.h).
 */
#include "schedule.h"

int64_t schedule_next_slot(int64_t due_ms, int64_t interval_ms, int64_t now_ms)
{
	due_ms += interval_ms;
	if (due_ms <= now_ms) {
		due_ms = now_ms + interval_ms - (now_ms - due_ms) % interval_ms;
	}
	return due_ms;
}

int64_t schedule_retime(int64_t due_ms, int64_t old_ms, int64_t new_ms,
			int64_t now_ms)
{
	int64_t last = due_ms - old_ms;

	return last + new_ms > now_ms ? last + new_ms : now_ms;
}

int64_t schedule_sample_deadline_ms(int64_t interval_ms)
{
	return interval_ms > SCHEDULE_SAMPLE_DEADLINE_MIN_MS
		       ? interval_ms
		       : SCHEDULE_SAMPLE_DEADLINE_MIN_MS;
}

static int64_t cancel_after_ms(int64_t interval_ms)
{
	return interval_ms > SCHEDULE_CANCEL_MIN_MS ? interval_ms
						    : SCHEDULE_CANCEL_MIN_MS;
}

enum schedule_flight schedule_in_flight(int64_t age_ms, int64_t interval_ms,
					bool cancelled)
{
	if (age_ms >= schedule_sample_deadline_ms(interval_ms)) {
		return SCHEDULE_FLIGHT_DROP;
	}
	if (!cancelled && age_ms >= cancel_after_ms(interval_ms)) {
		return SCHEDULE_FLIGHT_CANCEL;
	}
	return SCHEDULE_FLIGHT_WAIT;
}

int64_t schedule_in_flight_wake_ms(int64_t sent_ms, int64_t interval_ms,
				   bool cancelled)
{
	int64_t deadline = schedule_sample_deadline_ms(interval_ms);
	int64_t cancel = cancel_after_ms(interval_ms);

	return sent_ms + (cancelled || cancel >= deadline ? deadline : cancel);
}

int64_t schedule_backoff_ms(int64_t previous_ms)
{
	int64_t next = previous_ms > 0 ? previous_ms * 2
				       : SCHEDULE_BACKOFF_FIRST_MS;

	return next > SCHEDULE_BACKOFF_MAX_MS ? SCHEDULE_BACKOFF_MAX_MS : next;
}
