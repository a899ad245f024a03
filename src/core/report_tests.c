/*
 * report_tests.c - per-test sessions into the report (see
 * report_tests.h).  Everything is copied into the report's arena: the
 * tracker moves on after the report is made.
 */
#include "report_tests.h"

#include "report_hooks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *report_tests_fate_name(enum tests_fate fate)
{
	switch (fate) {
	case TESTS_FATE_CLOSED:
		return "closed";
	case TESTS_FATE_REUSED:
		return "reused";
	case TESTS_FATE_POOLED:
		return "pooled";
	case TESTS_FATE_UNUSED:
		break;
	}
	return "unused";
}

static void *arena_zalloc(struct report *r, size_t count, size_t size)
{
	void *p = arena_alloc(&r->arena, (count ? count : 1) * size);

	memset(p, 0, (count ? count : 1) * size);
	return p;
}

static void keep_session(struct report *r, const struct tracker *tr,
			 const struct tracked *s, const char *fate,
			 struct report_test_session *out)
{
	out->pid = s->pid;
	out->user = arena_strdup(&r->arena, s->keys[GROUP_KEY_USER]);
	out->app = arena_strdup(&r->arena, s->keys[GROUP_KEY_APP]);
	out->db = arena_strdup(&r->arena, s->keys[GROUP_KEY_DB]);
	out->query = arena_strdup(&r->arena, s->query);
	out->state = s->state;
	out->opened_epoch_s = s->backend_start;
	out->last_use_epoch_s = s->last_use;
	out->closed_epoch_s = s->closed_at;
	out->opened_s = s->backend_start - tr->started;
	out->fate = fate;
	out->client.pid = s->client_pid;
	out->client.command = arena_strdup(&r->arena, s->client_command);
	out->client.relation = s->client_relation;
}

static void keep_outcome(struct report *r, const struct tracker *tr,
			 const struct tests_result *res,
			 const struct tests_outcome *o, struct report_test *out)
{
	const struct tests_window *w = o->window;

	out->name = arena_strdup(&r->arena, w->name);
	out->setup = w->setup;
	out->ended = o->ended;
	out->pid = w->pid;
	out->started_epoch_s = w->started_at;
	out->ended_epoch_s = w->ended_at;
	out->started_s = w->started_wall_s - r->started_epoch_s;
	out->ended_s = w->ended_wall_s - r->started_epoch_s;
	out->before = o->before;
	out->after = o->after;
	out->opened = (int)o->opened;
	out->closed = (int)o->closed;
	out->left_open = (int)o->left_open;
	out->leaked = (int)o->leaked;
	out->session_count = o->session_count;
	out->sessions = arena_zalloc(r, o->session_count,
				     sizeof(*out->sessions));
	for (size_t i = 0; i < o->session_count; i++) {
		const struct tests_session *ts = &res->sessions[o->first + i];

		keep_session(r, tr, ts->session,
			     report_tests_fate_name(ts->fate),
			     &out->sessions[i]);
	}
}

static void build_tests(struct report *r, const struct tests *t,
			const struct tracker *tr, const struct filter *filter)
{
	struct report_tests *rt = &r->tests;
	struct tests_result res;

	tests_analyse(t, tr, filter, &res);
	rt->reported = true;
	rt->count = res.count;
	rt->items = arena_zalloc(r, res.count, sizeof(*rt->items));
	for (size_t i = 0; i < res.count; i++) {
		keep_outcome(r, tr, &res, &res.outcomes[i], &rt->items[i]);
		rt->unfinished += !rt->items[i].ended && !rt->items[i].setup;
	}
	rt->tests = res.tests;
	rt->leaking = res.leaking_tests;
	rt->leaked = res.leaked;
	rt->processes = t->runner_count;
	rt->outside = res.outside;
	rt->unattributed = res.unattributed;
	tests_result_finish(&res);
	if (rt->unattributed > 0) {
		report_add_warning(r,
				   "%zu sessions of the command were held by "
				   "processes that reported no tests: they "
				   "count in no test",
				   rt->unattributed);
	}
	if (t->unmatched > 0) {
		report_add_warning(r,
				   "%zu test ends came from processes with no "
				   "test running: they were left out",
				   t->unmatched);
	}
}

/* ---- --max-leaked-per-test ---- */

static void check_per_test(struct report *r, const struct thresholds *th)
{
	const struct report_tests *rt = &r->tests;
	int limit = th->max_leaked_per_test;
	bool breached = false;
	int worst = 0;

	if (limit == CHECK_UNSET) {
		return;
	}
	if (!rt->reported) {
		if (!th->max_leaked_per_test_implied) {
			check_list_add_unevaluated(
				&r->checks, "max-leaked-per-test", "tests",
				limit, 0,
				"the command reported no tests (see TESTS in "
				"pgdrip(1))",
				"");
		}
		return;
	}
	for (size_t i = 0; i < rt->count; i++) {
		const struct report_test *x = &rt->items[i];
		char where[600];

		if (x->setup) {
			continue;
		}
		worst = x->leaked > worst ? x->leaked : worst;
		if (x->leaked > limit) {
			snprintf(where, sizeof(where), "test %s", x->name);
			check_list_add(&r->checks, "max-leaked-per-test", where,
				       limit, x->leaked, false);
			breached = true;
		}
	}
	if (!breached) {
		check_list_add(&r->checks, "max-leaked-per-test", "every test",
			       limit, worst, true);
	}
}

void report_tests_build(struct report *report, const struct tests *t,
			const struct tracker *tr,
			const struct clientfacts *facts,
			const struct filter *filter,
			const struct thresholds *th, int command_status)
{
	report->tests.base_epoch_s = tr->started;
	if (tests_reported(t)) {
		build_tests(report, t, tr, filter);
	}
	report_hooks_build(report, facts, t, tr);
	if (th != NULL) {
		check_per_test(report, th);
		report_hooks_check(report);
		report->exit_code = check_exit_status(&report->checks,
						      command_status);
	}
}
