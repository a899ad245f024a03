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
#include "session_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- the table ---- */

enum { MAX_ROWS = 6, MAX_STEPS = 5 };

struct row {
	int pid;
	int64_t start_us; /* 0: hidden */
	double query_start;
	int weight; /* 0 stands for 1 */
};

struct merge_case {
	const char *name;
	struct row steps[MAX_STEPS][MAX_ROWS]; /* a row of pid 0 ends */
	/* Per step, the events: "O" opened, "C" changed, "U" unchanged,
	 * "G" gone, each with pid/start. */
	const char *events[MAX_STEPS];
};

static const struct merge_case merge_cases[] = {
	{"opened, unchanged, changed, gone",
	 {{{1, 10, 100, 0}, {2, 20, 200, 0}},
	  {{1, 10, 100, 0}, {2, 20, 201, 0}},
	  {{2, 20, 201, 0}}},
	 {"O1/10 O2/20", "U1/10 C2/20", "U2/20 G1/10"}},
	{"a pid reused is a new session, the old one gone",
	 {{{7, 10, 100, 0}}, {{7, 11, 100, 0}}, {{7, 11, 100, 0}}},
	 {"O7/10", "O7/11 G7/10", "U7/11"}},
	{"rows without an identity are no event",
	 {{{3, 0, 100, 0}, {4, 40, 100, 2}, {5, 50, 100, 0}}, {{3, 0, 101, 0}}},
	 {"O5/50", "G5/50"}},
	{"a session twice in one sample: opened, then again",
	 {{{8, 80, 100, 0}, {8, 80, 100, 0}},
	  {{8, 80, 100, 0}, {8, 80, 102, 0}}},
	 {"O8/80 U8/80", "U8/80 C8/80"}},
	{"gone ones from the last entry down",
	 {{{1, 1, 1, 0}, {2, 2, 1, 0}, {3, 3, 1, 0}, {4, 4, 1, 0}},
	  {{3, 3, 1, 0}},
	  {{9, 9, 1, 0}}},
	 {"O1/1 O2/2 O3/3 O4/4", "U3/3 G4/4 G2/2 G1/1", "O9/9 G3/3"}},
	{"everything gone, then back as new",
	 {{{1, 1, 1, 0}}, {{0}}, {{1, 1, 1, 0}}},
	 {"O1/1", "G1/1", "O1/1"}},
};

static void fill(struct sample *s, const struct row *rows)
{
	sample_reset(s);
	for (size_t r = 0; r < MAX_ROWS && rows[r].pid != 0; r++) {
		struct session *x = sample_add_session(s);

		x->pid = rows[r].pid;
		x->backend_start_us = rows[r].start_us != 0
					      ? rows[r].start_us
					      : SESSION_START_UNKNOWN;
		x->query_start_epoch_s = rows[r].query_start;
		x->weight = rows[r].weight != 0 ? rows[r].weight : 1;
	}
}

static void describe(const struct session_table *t, char *buf, size_t size)
{
	static const char letter[] = {[SESSION_OPENED] = 'O',
				      [SESSION_CHANGED] = 'C',
				      [SESSION_UNCHANGED] = 'U',
				      [SESSION_GONE] = 'G'};
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->event_count && at < size; i++) {
		const struct session_event *e = &t->events[i];
		const struct session_entry *x = &t->entries[e->entry];

		at += (size_t)snprintf(buf + at, size - at, "%s%c%d/%lld",
				       i ? " " : "", letter[e->change],
				       x->id.pid,
				       (long long)x->id.backend_start_us);
	}
}

static void test_merge(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(merge_cases) / sizeof(*merge_cases);
	     c++) {
		const struct merge_case *mc = &merge_cases[c];
		struct session_table t;
		struct sample s;

		session_table_init(&t, 0);
		sample_init(&s);
		for (size_t k = 0; k < MAX_STEPS && mc->events[k]; k++) {
			char got[256];

			fill(&s, mc->steps[k]);
			session_table_merge(&t, &s);
			describe(&t, got, sizeof(got));
			if (strcmp(got, mc->events[k]) != 0) {
				fail_msg("%s, sample %zu: got \"%s\", want "
					 "\"%s\"",
					 mc->name, k + 1, got, mc->events[k]);
			}
		}
		sample_finish(&s);
		session_table_finish(&t);
	}
}

/* Lookups see live sessions only; the payload moves with its entry
 * when a gone one before it is dropped. */
static void test_find_and_payload(void **state)
{
	static const struct row first[MAX_ROWS] = {{1, 10, 1, 0},
						   {2, 20, 1, 0},
						   {3, 30, 1, 0}};
	static const struct row second[MAX_ROWS] = {{3, 30, 1, 0},
						    {2, 21, 1, 0}};
	struct session_table t;
	struct sample s;
	size_t i;

	(void)state;
	session_table_init(&t, sizeof(int));
	sample_init(&s);
	fill(&s, first);
	session_table_merge(&t, &s);
	for (i = 0; i < t.count; i++) {
		*(int *)session_table_payload(&t, i) = t.entries[i].id.pid *
						       100;
	}
	fill(&s, second);
	session_table_merge(&t, &s);
	/* 1/10 and 2/20 gone: not found, though still entries. */
	assert_int_equal(session_table_find(&t, (struct session_id){1, 10}),
			 SIZE_MAX);
	assert_int_equal(session_table_find(&t, (struct session_id){2, 20}),
			 SIZE_MAX);
	i = session_table_find_pid(&t, 2);
	assert_int_not_equal(i, SIZE_MAX);
	assert_int_equal(t.entries[i].id.backend_start_us, 21);
	assert_int_equal(t.entries[i].change, SESSION_OPENED);
	assert_int_equal(session_table_find_pid(&t, 1), SIZE_MAX);
	session_table_sweep(&t);
	assert_int_equal(t.count, 2);
	i = session_table_find(&t, (struct session_id){3, 30});
	assert_int_equal(*(int *)session_table_payload(&t, i), 300);
	assert_int_equal(t.entries[i].row, 0);
	i = session_table_find(&t, (struct session_id){2, 21});
	assert_int_equal(*(int *)session_table_payload(&t, i), 0);
	assert_int_equal(t.entries[i].row, 1);
	sample_finish(&s);
	session_table_finish(&t);
}

/* A client process's facts, by backend pid and time, land on the
 * session that had the pid then, not on one started later. */
static void test_fold_client(void **state)
{
	static const struct row rows[MAX_ROWS] = {{5, 2000000, 1, 0}};
	struct session_client_facts f = {.client_pid = 4242,
					 .checked_out_epoch_s = 2.5,
					 .returned_epoch_s = NAN,
					 .where = "app.py:17"};
	struct session_table t;
	struct sample s;
	size_t i;

	(void)state;
	session_table_init(&t, 0);
	sample_init(&s);
	fill(&s, rows);
	session_table_merge(&t, &s);
	i = session_table_find_pid(&t, 5);
	assert_true(isnan(t.entries[i].client.checked_out_epoch_s));
	/* Said of pid 5 at 1.5 s: before this session started. */
	assert_false(session_table_fold_client(&t, 5, 1.5, &f));
	assert_int_equal(t.entries[i].client.client_pid, 0);
	assert_false(session_table_fold_client(&t, 6, 2.5, &f));
	assert_true(session_table_fold_client(&t, 5, 2.5, &f));
	assert_int_equal(t.entries[i].client.client_pid, 4242);
	assert_string_equal(t.entries[i].client.where, "app.py:17");
	assert_string_equal(session_change_name(SESSION_UNCHANGED),
			    "unchanged");
	sample_finish(&s);
	session_table_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_us),
		cmocka_unit_test(test_start_round_trip),
		cmocka_unit_test(test_equal_and_hash),
		cmocka_unit_test(test_hash_spread),
		cmocka_unit_test(test_of_session),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_find_and_payload),
		cmocka_unit_test(test_fold_client),
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
