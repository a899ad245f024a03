/*
 * schedule.h - when a server is sampled and retried, pure: the slots
 * every interval, a change of interval, how long a sample may take, and
 * the backoff between connection attempts.  target.c keeps the clock and
 * the connection; these rules are unit-tested on their own.
 */
#ifndef PGDRIP_SCHEDULE_H
#define PGDRIP_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

enum {
	SCHEDULE_BACKOFF_FIRST_MS = 250,
	SCHEDULE_BACKOFF_MAX_MS = 5000,
	/* A sample may take longer than the interval (it is then late),
	 * but never longer than this: the session is dropped. */
	SCHEDULE_SAMPLE_DEADLINE_MIN_MS = 5000,
	/* A sample in flight past its slot is cancelled once it has run
	 * this long at least (see schedule_in_flight()). */
	SCHEDULE_CANCEL_MIN_MS = 1000,
};

/* What a sample still in flight calls for. */
enum schedule_flight {
	SCHEDULE_FLIGHT_WAIT,   /* let it run */
	SCHEDULE_FLIGHT_CANCEL, /* ask the server to cancel it, and wait */
	SCHEDULE_FLIGHT_DROP,   /* give the session up: connect again */
};

/*
 * The slot after the one due at due_ms, all in milliseconds: a slow
 * sample does not shift the slots after it, and slots missed by now_ms
 * are skipped, not bunched up (the result is always after now_ms).
 */
int64_t schedule_next_slot(int64_t due_ms, int64_t interval_ms, int64_t now_ms);

/*
 * The next slot once the interval changes from old_ms to new_ms, with
 * the next slot due at due_ms under the old one: the slot after the
 * last one under the new interval, or now_ms when that has passed (a
 * faster rate takes effect now, not when the old slot would have come).
 */
int64_t schedule_retime(int64_t due_ms, int64_t old_ms, int64_t new_ms,
			int64_t now_ms);

/* How long a sample at interval_ms may run before its session is
 * dropped: the interval, at least SCHEDULE_SAMPLE_DEADLINE_MIN_MS. */
int64_t schedule_sample_deadline_ms(int64_t interval_ms);

/*
 * A sample in flight for age_ms at interval_ms (cancelled: its cancel
 * was asked for already).  Its slot ends with a failure at the next
 * slot whatever this says (target.c); the query itself is cancelled
 * once it has run the interval, at least SCHEDULE_CANCEL_MIN_MS (so a
 * server a little slower than a short interval still gets samples
 * through, late, rather than none), and the session is dropped at
 * schedule_sample_deadline_ms().
 */
enum schedule_flight schedule_in_flight(int64_t age_ms, int64_t interval_ms,
					bool cancelled);

/* When a sample sent at sent_ms at interval_ms is next due a look
 * (cancelled: as above): its cancel, else its deadline. */
int64_t schedule_in_flight_wake_ms(int64_t sent_ms, int64_t interval_ms,
				   bool cancelled);

/* The wait before the next connection attempt after one that failed
 * following a wait of previous_ms (0: the first failure): 250 ms, then
 * doubling, at most SCHEDULE_BACKOFF_MAX_MS. */
int64_t schedule_backoff_ms(int64_t previous_ms);

#endif
