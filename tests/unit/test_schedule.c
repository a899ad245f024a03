/*
 * test_schedule.c - the sampling schedule and the reconnection backoff:
 * slots keep their spacing after a slow sample and skip the ones
 * missed, a new interval takes effect at once when faster, a sample's
 * deadline, a late sample's cancel, the backoff's doubling and cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support.h"

#include "schedule.h"

struct slot_case {
	const char *what;
	int64_t due_ms;
	int64_t interval_ms;
	int64_t now_ms;
	int64_t next_ms;
};

static const struct slot_case slot_cases[] = {
	{"on time", 1000, 1000, 1000, 2000},
	{"a slow sample keeps the spacing", 1000, 1000, 1700, 2000},
	{"missed slots are skipped", 1000, 1000, 3500, 4000},
	{"now exactly on a missed slot", 1000, 1000, 3000, 4000},
	{"a quarter second", 0, 250, 990, 1000},
};

static void test_next_slot(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(slot_cases); i++) {
		const struct slot_case *c = &slot_cases[i];
		int64_t got = schedule_next_slot(c->due_ms, c->interval_ms,
						 c->now_ms);

		if (got != c->next_ms) {
			fail_msg("%s: %lld, expected %lld", c->what,
				 (long long)got, (long long)c->next_ms);
		}
		assert_true(got > c->now_ms);
	}
}

struct retime_case {
	const char *what;
	int64_t due_ms;
	int64_t old_ms;
	int64_t new_ms;
	int64_t now_ms;
	int64_t next_ms;
};

static const struct retime_case retime_cases[] = {
	/* the last slot was at 1000, the next due at 2000 */
	{"slower: the old slot plus the new interval", 2000, 1000, 2000, 1200,
	 3000},
	{"faster: the last slot plus the new interval", 2000, 1000, 500, 1200,
	 1500},
	{"faster, already past: now", 2000, 1000, 500, 1800, 1800},
};

static void test_retime(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(retime_cases); i++) {
		const struct retime_case *c = &retime_cases[i];
		int64_t got = schedule_retime(c->due_ms, c->old_ms, c->new_ms,
					      c->now_ms);

		if (got != c->next_ms) {
			fail_msg("%s: %lld, expected %lld", c->what,
				 (long long)got, (long long)c->next_ms);
		}
	}
}

static void test_deadline(void **state)
{
	(void)state;
	assert_int_equal(schedule_sample_deadline_ms(100), 5000);
	assert_int_equal(schedule_sample_deadline_ms(5000), 5000);
	assert_int_equal(schedule_sample_deadline_ms(60000), 60000);
}

struct flight_case {
	const char *what;
	int64_t age_ms;
	int64_t interval_ms;
	bool cancelled;
	enum schedule_flight want;
	int64_t wake_ms; /* sent at 0 */
};

static const struct flight_case flight_cases[] = {
	{"young: wait", 400, 500, false, SCHEDULE_FLIGHT_WAIT, 1000},
	{"past a short slot, under 1 s: wait", 700, 500, false,
	 SCHEDULE_FLIGHT_WAIT, 1000},
	{"1 s at 500 ms: cancel", 1000, 500, false, SCHEDULE_FLIGHT_CANCEL,
	 1000},
	{"cancelled: wait for the deadline", 3000, 500, true,
	 SCHEDULE_FLIGHT_WAIT, 5000},
	{"5 s: drop", 5000, 500, true, SCHEDULE_FLIGHT_DROP, 5000},
	{"5 s, never cancelled: drop", 5000, 500, false, SCHEDULE_FLIGHT_DROP,
	 1000},
	{"2 s interval: cancel at its slot's end", 2000, 2000, false,
	 SCHEDULE_FLIGHT_CANCEL, 2000},
	{"10 s interval: the deadline is the slot's end", 10000, 10000, false,
	 SCHEDULE_FLIGHT_DROP, 10000},
};

static void test_in_flight(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(flight_cases); i++) {
		const struct flight_case *c = &flight_cases[i];
		enum schedule_flight got = schedule_in_flight(c->age_ms,
							      c->interval_ms,
							      c->cancelled);
		int64_t wake = schedule_in_flight_wake_ms(0, c->interval_ms,
							  c->cancelled);

		if (got != c->want || wake != c->wake_ms) {
			fail_msg("%s: %d wake %lld, expected %d wake %lld",
				 c->what, (int)got, (long long)wake,
				 (int)c->want, (long long)c->wake_ms);
		}
	}
}

static void test_backoff(void **state)
{
	static const int64_t expected[] = {250,  500,  1000, 2000,
					   4000, 5000, 5000};
	int64_t wait = 0;

	(void)state;
	for (size_t i = 0; i < COUNT(expected); i++) {
		wait = schedule_backoff_ms(wait);
		assert_int_equal(wait, expected[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_slot),
		cmocka_unit_test(test_retime),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_in_flight),
		cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
