/*
 * test_history.c - groups followed over time: whole-run figures,
 * vanished and late groups, idle-in-transaction tracking by pid, gaps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "history.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct run {
	struct history history;
	struct sample sample;
	struct filter filter;
	struct group_keys keys;
	double t;
};

static void run_init(struct run *r)
{
	match_default_group_keys(&r->keys);
	match_filter_init(&r->filter);
	sample_init(&r->sample);
	history_init(&r->history, &r->keys, 300, 1);
	r->t = 1000;
}

static void run_finish(struct run *r)
{
	history_finish(&r->history);
	sample_finish(&r->sample);
	match_filter_finish(&r->filter);
}

/* One sample: n_api idle "api" sessions, n_leak idle "leak" ones. */
static void step(struct run *r, int n_api, int n_leak)
{
	sample_reset(&r->sample);
	r->sample.taken_at_epoch_s = r->t;
	for (int i = 0; i < n_api + n_leak; i++) {
		struct session *s = sample_add_session(&r->sample);

		s->pid = i + 1;
		s->user = "u";
		s->app = i < n_api ? "api" : "leak";
		s->state = SESSION_STATE_IDLE;
	}
	history_add(&r->history, &r->sample, &r->filter, NULL);
	r->t += 1;
}

static const struct group_history *find(const struct run *r, const char *app)
{
	for (size_t i = 0; i < r->history.group_count; i++) {
		if (strcmp(r->history.groups[i].keys[GROUP_KEY_APP], app) ==
		    0) {
			return &r->history.groups[i];
		}
	}
	return NULL;
}

static void test_whole_run_figures(void **state)
{
	static const int api[] = {5, 7, 3, 5, 0};
	struct run r;
	const struct group_history *g;

	(void)state;
	run_init(&r);
	for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
		step(&r, api[i], 0);
	}
	g = find(&r, "api");
	assert_non_null(g);
	assert_int_equal(g->baseline, 5);
	assert_int_equal(g->peak, 7);
	assert_int_equal(g->minimum, 0);
	assert_int_equal(g->last, 0);
	assert_float_equal(g->first_seen_s, 0, 1e-9);
	/* Absent from the last sample, still reported. */
	assert_float_equal(g->last_seen_s, 3, 1e-9);
	assert_int_equal(r.history.samples, 5);
	assert_float_equal(r.history.last_t_s, 4, 1e-9);
	history_rebaseline(&r.history);
	assert_int_equal(g->baseline, 0);
	run_finish(&r);
}

static void test_late_group_starts_from_zero(void **state)
{
	struct run r;
	const struct group_history *g;

	(void)state;
	run_init(&r);
	step(&r, 5, 0);
	step(&r, 5, 0);
	step(&r, 5, 2);
	g = find(&r, "leak");
	assert_non_null(g);
	assert_int_equal(g->baseline, 0);
	assert_int_equal(g->minimum, 0);
	assert_int_equal(g->peak, 2);
	/* The step from zero is in the series. */
	assert_true(series_count(&g->window) >= 2);
	assert_float_equal(series_at(&g->window, 0).value, 0, 1e-9);
	run_finish(&r);
}

static void test_leak_is_flagged(void **state)
{
	struct run r;
	const struct group_history *g;
	int i;

	(void)state;
	run_init(&r);
	for (i = 0; i < 60; i++) {
		step(&r, 5, i);
	}
	g = find(&r, "leak");
	assert_true(g->trend.flagged);
	assert_float_equal(g->trend.slope_per_min, 60, 6);
	g = find(&r, "api");
	assert_false(g->trend.flagged);
	run_finish(&r);
}

static void idle_tx_sample(struct run *r, int pid, double xact_start,
			   enum session_state st)
{
	struct session *s;

	sample_reset(&r->sample);
	r->sample.taken_at_epoch_s = r->t;
	s = sample_add_session(&r->sample);
	/* A pid above 1000 is a second session of pid - 1000, which the
	 * kernel gave the same pid: another start. */
	s->backend_start_us = pid > 1000 ? 800000000 : 700000000;
	s->pid = pid > 1000 ? pid - 1000 : pid;
	s->user = "w";
	s->app = "stuck";
	s->state = st;
	s->xact_start_epoch_s = xact_start;
	history_add(&r->history, &r->sample, &r->filter, NULL);
	r->t += 1;
}

static double since(const struct run *r, int pid, int64_t start_us)
{
	return history_idle_tx_since_s(
		&r->history,
		(struct session_id){.pid = pid, .backend_start_us = start_us});
}

static void test_idle_tx_tracking(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	idle_tx_sample(&r, 42, 900, SESSION_STATE_IDLE_TX);
	idle_tx_sample(&r, 42, 900, SESSION_STATE_IDLE_TX);
	idle_tx_sample(&r, 42, 900, SESSION_STATE_IDLE_TX);
	assert_float_equal(since(&r, 42, 700000000), 0, 1e-9);
	/* Named by the whole identity: another start is another session. */
	assert_true(isnan(since(&r, 42, 800000000)));
	/* A new transaction on the same session starts a new track. */
	idle_tx_sample(&r, 42, 950, SESSION_STATE_IDLE_TX);
	assert_float_equal(since(&r, 42, 700000000), 3, 1e-9);
	/* Aborted: no xact_start; the session is the identity. */
	idle_tx_sample(&r, 42, NAN, SESSION_STATE_IDLE_TX_ABORTED);
	idle_tx_sample(&r, 42, NAN, SESSION_STATE_IDLE_TX_ABORTED);
	assert_float_equal(since(&r, 42, 700000000), 4, 1e-9);
	/* The pid closed and given to a new session, idle in an aborted
	 * transaction too: a new track, not the old one's time. */
	idle_tx_sample(&r, 1042, NAN, SESSION_STATE_IDLE_TX_ABORTED);
	assert_float_equal(since(&r, 42, 800000000), 6, 1e-9);
	assert_true(isnan(since(&r, 42, 700000000)));
	idle_tx_sample(&r, 1042, NAN, SESSION_STATE_IDLE);
	assert_true(isnan(since(&r, 42, 800000000)));
	run_finish(&r);
}

/* A group gone for a whole window is retired into the totals; one seen
 * within it, or with sessions, stays, and lookups still find the rest. */
static void test_idle_groups_retire(void **state)
{
	const char *api[GROUP_KEY_COUNT] = {"u", "api"};
	struct run r;
	size_t retired = 0;

	(void)state;
	run_init(&r);
	step(&r, 5, 2);
	step(&r, 5, 3);
	/* Up to 300 s (the window) after "leak" was last seen: kept. */
	for (int i = 0; i < 301; i++) {
		retired += history_retire_idle(&r.history);
		step(&r, 5, 0);
	}
	assert_int_equal(retired, 0);
	assert_non_null(find(&r, "leak"));
	/* Past it: retired, its figures summed. */
	step(&r, 5, 0);
	assert_int_equal(history_retire_idle(&r.history), 1);
	assert_null(find(&r, "leak"));
	assert_int_equal(r.history.group_count, 1);
	assert_int_equal(r.history.retired.groups, 1);
	assert_int_equal(r.history.retired.baseline, 2);
	assert_int_equal(r.history.retired.peak, 3);
	/* The group left is found through the rebuilt index. */
	assert_ptr_equal(history_find(&r.history, api), &r.history.groups[0]);
	assert_int_equal(history_retire_idle(&r.history), 0);
	/* The name back: a new group, from zero. */
	step(&r, 5, 1);
	assert_int_equal(find(&r, "leak")->last, 1);
	assert_int_equal(find(&r, "leak")->baseline, 0);
	assert_int_equal(find(&r, "api")->last, 5);
	run_finish(&r);
}

static void test_failures_are_gaps(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	step(&r, 5, 0);
	history_add_failure(&r.history);
	history_add_failure(&r.history);
	r.t += 2;
	step(&r, 5, 0);
	assert_int_equal(r.history.failed_samples, 2);
	assert_int_equal(r.history.samples, 2);
	history_finish(NULL);
	run_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_run_figures),
		cmocka_unit_test(test_late_group_starts_from_zero),
		cmocka_unit_test(test_leak_is_flagged),
		cmocka_unit_test(test_idle_tx_tracking),
		cmocka_unit_test(test_failures_are_gaps),
		cmocka_unit_test(test_idle_groups_retire),
	};

	return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
