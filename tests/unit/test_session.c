/*
 * test_session.c - a session's identity: the start's conversion to
 * integer microseconds at the edge (as the server and older records
 * write it), its way back, and the one hash and equality, table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void test_start_us(void **state)
{
	static const struct {
		double epoch_s;
		int64_t us;
	} cases[] = {
		/* As the server's date_part() sends them: six decimals. */
		{1795425818.119999, 1795425818119999},
		{1795425818.000001, 1795425818000001},
		{1795425818.5, 1795425818500000},
		/* A record of an older version may hold fewer digits, or
		 * a sum that came out a hair off the microsecond. */
		{1795425818.12, 1795425818120000},
		{1795425818.1199992, 1795425818119999},
		{1795425818.1199997, 1795425818120000},
		{0, 0},
		{-1.5, -1500000},
		{NAN, SESSION_START_UNKNOWN},
		{INFINITY, SESSION_START_UNKNOWN},
		{-INFINITY, SESSION_START_UNKNOWN},
		{1e12, SESSION_START_UNKNOWN}, /* past 2^53 us */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(session_start_us(cases[i].epoch_s),
				 cases[i].us);
	}
}

/* Microseconds to seconds and back is the same count, for any start a
 * server of this era can have, and the seconds print as the server
 * sent them. */
static void test_start_round_trip(void **state)
{
	static const int64_t starts[] = {
		1795425818119999,
		1795425818000001,
		1000000000000000,
		2147483647999999,
		4102444800000000,
		1,
		0,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		double s = session_start_epoch_s(starts[i]);

		assert_int_equal(session_start_us(s), starts[i]);
	}
	/* Every microsecond of one second, through its printed form (the
	 * record's "%.6f"), comes back exact. */
	for (int64_t us = 1795425818000000; us < 1795425819000000; us += 7) {
		char text[32];

		snprintf(text, sizeof(text), "%.6f", session_start_epoch_s(us));
		assert_int_equal(session_start_us(strtod(text, NULL)), us);
	}
	assert_true(isnan(session_start_epoch_s(SESSION_START_UNKNOWN)));
}

static void test_equal_and_hash(void **state)
{
	static const struct {
		struct session_id a;
		struct session_id b;
		bool equal;
	} cases[] = {
		{{42, 1795425818119999}, {42, 1795425818119999}, true},
		/* The pid again, a microsecond later: another session. */
		{{42, 1795425818119999}, {42, 1795425818120000}, false},
		{{42, 1795425818119999}, {43, 1795425818119999}, false},
		{{42, SESSION_START_UNKNOWN},
		 {42, SESSION_START_UNKNOWN},
		 true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(session_id_equal(cases[i].a, cases[i].b),
				 cases[i].equal);
		assert_int_equal(session_id_equal(cases[i].b, cases[i].a),
				 cases[i].equal);
		if (cases[i].equal) {
			assert_true(session_id_hash(cases[i].a) ==
				    session_id_hash(cases[i].b));
		}
	}
}

/* The hash spreads the pids of one moment and the moments of one pid
 * (a busy server's sessions share neither). */
static void test_hash_spread(void **state)
{
	enum { N = 4096, BUCKETS = 1024 };
	unsigned by_pid[BUCKETS] = {0};
	unsigned by_start[BUCKETS] = {0};
	unsigned worst_pid = 0;
	unsigned worst_start = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		struct session_id p = {1000 + i, 1795425818000000};
		struct session_id s = {1000, 1795425818000000 + i};

		by_pid[session_id_hash(p) % BUCKETS]++;
		by_start[session_id_hash(s) % BUCKETS]++;
	}
	for (int b = 0; b < BUCKETS; b++) {
		worst_pid = by_pid[b] > worst_pid ? by_pid[b] : worst_pid;
		worst_start = by_start[b] > worst_start ? by_start[b]
							: worst_start;
	}
	/* 4 a bucket on average; a poor hash piles them up. */
	assert_true(worst_pid <= 16);
	assert_true(worst_start <= 16);
}

static void test_of_session(void **state)
{
	struct session s = {0};
	struct session_id id;

	(void)state;
	s.pid = 7;
	s.backend_start_us = 1795425818119999;
	id = session_id_of(&s);
	assert_int_equal(id.pid, 7);
	assert_int_equal(id.backend_start_us, 1795425818119999);
	assert_true(session_id_known(id));
	s.backend_start_us = SESSION_START_UNKNOWN;
	assert_false(session_id_known(session_id_of(&s)));
	s.backend_start_us = 1;
	s.pid = 0;
	assert_false(session_id_known(session_id_of(&s)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_us),
		cmocka_unit_test(test_start_round_trip),
		cmocka_unit_test(test_equal_and_hash),
		cmocka_unit_test(test_hash_spread),
		cmocka_unit_test(test_of_session),
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
