/*
 * test_tracker.c - the tracker's storage on the session table: sessions
 * opened, seen again and closed by identity (a reused pid is a new
 * session), the live sessions' order, the ring of closed ones, rows
 * without an identity; and its evidence over a few samples (uses,
 * passed over, abandoned, used again), table-driven where it can be.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "session_table.h"
#include "tracker.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { MAX_ROWS = 6 };

/* A row: pid, start (s; 0 hidden), state, last use (s), client pid. */
struct row {
	int pid;
	double start;
	enum session_state state;
	double used;
	int client;
};

struct feed {
	struct tracker t;
	struct sample s;
};

static void feed_init(struct feed *f, size_t closed_cap)
{
	struct tracker_params p;

	tracker_default_params(&p, 1, false);
	p.closed_cap = closed_cap;
	tracker_init(&f->t, &p);
	sample_init(&f->s);
}

static void feed_finish(struct feed *f)
{
	tracker_finish(&f->t);
	sample_finish(&f->s);
}

/* One sample at server time now of rows (a row of pid 0 ends). */
static void feed(struct feed *f, double now, const struct row *rows)
{
	sample_reset(&f->s);
	f->s.server_epoch_s = now;
	f->s.taken_at_epoch_s = now;
	for (size_t i = 0; i < MAX_ROWS && rows[i].pid != 0; i++) {
		struct session *x = sample_add_session(&f->s);

		x->pid = rows[i].pid;
		x->backend_start_us = rows[i].start > 0
					      ? session_start_us(rows[i].start)
					      : SESSION_START_UNKNOWN;
		x->user = "u";
		x->app = "app";
		x->db = "db";
		x->state = rows[i].state;
		x->query_start_epoch_s = rows[i].used;
		x->state_change_epoch_s = rows[i].used;
		x->client_pid = rows[i].client;
	}
	tracker_add(&f->t, &f->s);
}

static const struct tracked *find(const struct feed *f, int pid, double start)
{
	return tracker_find(
		&f->t, (struct session_id){.pid = pid,
					   .backend_start_us = session_start_us(
						   start)});
}

static void live_pids(const struct feed *f, char *buf, size_t size)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < f->t.live_count && at < size; i++) {
		at += (size_t)snprintf(buf + at, size - at, "%s%d",
				       i ? " " : "", f->t.live[i].pid);
	}
}

static void test_open_and_close(void **state)
{
	static const struct row a[MAX_ROWS] = {
		{1, 100, SESSION_STATE_IDLE, 100, 0},
		{2, 100, SESSION_STATE_IDLE, 100, 0},
		{3, 100, SESSION_STATE_IDLE, 100, 0},
		{4, 100, SESSION_STATE_IDLE, 100, 0}};
	/* 2 gone, 5 new. */
	static const struct row b[MAX_ROWS] = {
		{1, 100, SESSION_STATE_IDLE, 100, 0},
		{3, 100, SESSION_STATE_IDLE, 100, 0},
		{4, 100, SESSION_STATE_IDLE, 100, 0},
		{5, 110, SESSION_STATE_IDLE, 110, 0}};
	/* 1 and 4 gone. */
	static const struct row c[MAX_ROWS] = {{3, 100, SESSION_STATE_IDLE, 100,
						0},
					       {5, 110, SESSION_STATE_IDLE, 110,
						0}};
	struct feed f;
	char pids[64];

	(void)state;
	feed_init(&f, 16);
	feed(&f, 110, a);
	assert_int_equal(f.t.live_count, 4);
	assert_int_equal(f.t.opened_total, 0); /* there before the first */
	feed(&f, 111, b);
	assert_int_equal(f.t.opened_total, 1);
	assert_int_equal(f.t.closed_total, 1);
	/* A close puts the last live session in its place. */
	live_pids(&f, pids, sizeof(pids));
	assert_string_equal(pids, "1 5 3 4");
	assert_null(find(&f, 2, 100));
	assert_non_null(find(&f, 5, 110));
	assert_float_equal(find(&f, 5, 110)->first_seen, 111, 1e-9);
	feed(&f, 112, c);
	live_pids(&f, pids, sizeof(pids));
	assert_string_equal(pids, "3 5");
	/* The ring: newest first; among one sample's, the last entry's
	 * first. */
	assert_int_equal(f.t.closed_count, 3);
	assert_int_equal(tracker_closed_at(&f.t, 0)->pid, 1);
	assert_int_equal(tracker_closed_at(&f.t, 1)->pid, 4);
	assert_int_equal(tracker_closed_at(&f.t, 2)->pid, 2);
	assert_float_equal(tracker_closed_at(&f.t, 2)->closed_at, 111, 1e-9);
	feed_finish(&f);
}

static void test_identity(void **state)
{
	static const struct row a[MAX_ROWS] = {{7, 100.000001,
						SESSION_STATE_IDLE, 100, 0},
					       {8, 0, SESSION_STATE_IDLE, 100,
						0}}; /* hidden */
	/* The pid again, a microsecond later: another session. */
	static const struct row b[MAX_ROWS] = {{7, 100.000002,
						SESSION_STATE_IDLE, 100.5, 0},
					       {7, 100.000002,
						SESSION_STATE_IDLE, 100.5, 0}};
	struct feed f;

	(void)state;
	feed_init(&f, 16);
	feed(&f, 101, a);
	assert_int_equal(f.t.live_count, 1); /* the hidden one: counts only */
	assert_true(f.t.identities);
	feed(&f, 102, b);
	assert_int_equal(f.t.live_count, 1);
	/* Opened once, though its row came twice. */
	assert_int_equal(f.t.opened_total, 1);
	assert_int_equal(f.t.closed_total, 1);
	assert_null(find(&f, 7, 100.000001));
	assert_non_null(find(&f, 7, 100.000002));
	assert_float_equal(tracker_closed_at(&f.t, 0)->backend_start,
			   100.000001, 1e-7);
	feed_finish(&f);
}

static void test_ring_capacity(void **state)
{
	static const struct row none[MAX_ROWS] = {{0}};
	struct feed f;

	(void)state;
	feed_init(&f, 2);
	for (int k = 0; k < 3; k++) {
		struct row one[MAX_ROWS] = {
			{10 + k, 100 + k, SESSION_STATE_IDLE, 100 + k, 0}};

		feed(&f, 200 + 2 * k, one);
		feed(&f, 201 + 2 * k, none);
	}
	assert_int_equal(f.t.closed_total, 3);
	assert_int_equal(f.t.closed_count, 2);
	assert_int_equal(tracker_closed_at(&f.t, 0)->pid, 12);
	assert_int_equal(tracker_closed_at(&f.t, 1)->pid, 11);
	assert_int_equal(f.t.live_count, 0);
	feed_finish(&f);
}

/* A client process opens a session, uses it once and goes on with a
 * second, and a third 11 s later: the first is passed over, then
 * abandoned past the floor (10 s), its process having gone on opening
 * sessions that long (a pool warming up opens its members in a burst);
 * used again, it is neither. */
static void test_evidence(void **state)
{
	static const struct {
		double now;
		struct row rows[MAX_ROWS];
		bool passed; /* of pid 1 */
		bool abandoned;
		unsigned uses;
	} steps[] = {
		{100, {{1, 99, SESSION_STATE_IDLE, 99.5, 50}}, false, false, 1},
		{101,
		 {{1, 99, SESSION_STATE_IDLE, 99.5, 50},
		  {2, 100.5, SESSION_STATE_IDLE, 100.6, 50}},
		 true,
		 false,
		 1},
		{105,
		 {{1, 99, SESSION_STATE_IDLE, 99.5, 50},
		  {2, 100.5, SESSION_STATE_IDLE, 104, 50}},
		 true,
		 false,
		 1},
		{115,
		 {{1, 99, SESSION_STATE_IDLE, 99.5, 50},
		  {2, 100.5, SESSION_STATE_IDLE, 106, 50},
		  {3, 110, SESSION_STATE_IDLE, 110.1, 50}},
		 true,
		 true,
		 1},
		{116,
		 {{1, 99, SESSION_STATE_ACTIVE, 115.5, 50},
		  {2, 100.5, SESSION_STATE_IDLE, 106, 50},
		  {3, 110, SESSION_STATE_IDLE, 110.1, 50}},
		 false,
		 false,
		 2},
	};
	struct feed f;

	(void)state;
	feed_init(&f, 16);
	for (size_t k = 0; k < sizeof(steps) / sizeof(*steps); k++) {
		const struct tracked *one;

		feed(&f, steps[k].now, steps[k].rows);
		one = find(&f, 1, 99);
		assert_non_null(one);
		assert_int_equal(tracker_passed_over(&f.t, one),
				 steps[k].passed);
		if (tracker_abandoned(&f.t, one) != steps[k].abandoned) {
			fail_msg("step %zu: abandoned %d, unused %.1f s, "
				 "threshold %.1f s",
				 k, !steps[k].abandoned,
				 tracker_unused_s(&f.t, one),
				 tracker_threshold_s(&f.t, one->fine));
		}
		assert_int_equal(one->uses, steps[k].uses);
		assert_int_equal(one->client_pid, 50);
	}
	assert_true(find(&f, 1, 99)->exonerated);
	feed_finish(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_and_close),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_ring_capacity),
		cmocka_unit_test(test_evidence),
	};

	return cmocka_run_group_tests_name("tracker", tests, NULL, NULL);
}
