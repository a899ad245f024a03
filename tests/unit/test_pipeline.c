/*
 * test_pipeline.c - the pipeline as every mode uses it: samples in, one
 * report out with every warning; groupings followed side by side (a
 * change of grouping keeps its history); what is traced; the sessions
 * of the group asked about.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pipeline.h"
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* One sample at t: n_api idle "api" sessions of app_api, n_leak idle
 * "leak" ones of app_tests, and one idle in transaction. */
static void fill(struct sample *s, double t, int n_api, int n_leak)
{
	int pid = 100;

	sample_reset(s);
	s->taken_at_epoch_s = t;
	s->elapsed_ms = 2;
	snprintf(s->server.version, sizeof(s->server.version), "15.18");
	s->server.max_connections = 100;
	s->server.can_read_all_stats = true;
	for (int i = 0; i < n_api + n_leak + 1; i++) {
		struct session *ss = sample_add_session(s);

		ss->pid = pid++;
		ss->user = i < n_api ? "app_api" : "app_tests";
		ss->app = i < n_api            ? "api"
			  : i < n_api + n_leak ? "leak"
					       : "stuck";
		ss->db = "shop";
		ss->state = i < n_api + n_leak ? SESSION_STATE_IDLE
					       : SESSION_STATE_IDLE_TX;
		ss->state_age_s = i;
		ss->backend_age_s = 1000 - i;
	}
}

static bool has_warning(const struct report *r, const char *text)
{
	for (size_t i = 0; i < r->warning_count; i++) {
		if (strstr(r->warnings[i], text) != NULL) {
			return true;
		}
	}
	return false;
}

static const struct report_group *group(const struct report *r, const char *app)
{
	for (size_t i = 0; i < r->group_count; i++) {
		const char *a = r->groups[i].keys[GROUP_KEY_APP];

		if (a != NULL && strcmp(a, app) == 0) {
			return &r->groups[i];
		}
	}
	return NULL;
}

/* The sample's contents move in; the caller's sample comes back empty. */
static void test_absorb_moves_the_sample(void **state)
{
	struct support_run run;

	(void)state;
	support_run_init(&run);
	fill(&run.sample, 1000, 2, 1);
	support_run_absorb(&run);
	assert_int_equal(run.sample.session_count, 0);
	assert_non_null(pipeline_last(&run.pipeline));
	assert_int_equal(pipeline_last(&run.pipeline)->session_count, 4);
	assert_int_equal(support_run_history(&run)->samples, 1);
	support_run_finish(&run);
}

/* Every warning the run has is in the one report. */
static void test_report_carries_every_warning(void **state)
{
	struct support_run run;
	struct run_facts facts;
	const char *edge[] = {"the edge says so"};

	(void)state;
	support_run_init(&run);
	fill(&run.sample, 1000, 2, 1);
	run.sample.elapsed_ms = 1500; /* slower than the 1 s interval */
	support_run_absorb(&run);
	support_run_fail(&run, 1001);
	pipeline_note_reconnect(&run.pipeline);
	fill(&run.sample, 1002, 2, 1);
	support_run_absorb(&run);
	pipeline_facts_init(&facts, "live");
	facts.warnings = edge;
	facts.warning_count = 1;
	support_run_report(&run, &facts);
	assert_string_equal(run.report.mode, "live");
	assert_true(run.report.up);
	assert_int_equal(run.report.samples, 2);
	assert_int_equal(run.report.failed_samples, 1);
	assert_true(has_warning(&run.report, "1 of 3 samples failed"));
	assert_true(has_warning(&run.report, "re-established 1 times"));
	assert_true(has_warning(&run.report, "took longer than the interval"));
	assert_true(has_warning(&run.report, "the edge says so"));
	/* The last attempt failing: the report says it is down. */
	support_run_fail(&run, 1003);
	support_run_report(&run, &facts);
	assert_false(run.report.up);
	support_run_finish(&run);
}

/* A sample taken under a new interval: the late flag, the tracker and
 * the report use it from that sample on, and the report says it changed. */
static void test_interval_travels_with_the_sample(void **state)
{
	struct support_run run;
	struct run_facts facts;

	(void)state;
	support_run_init(&run);
	fill(&run.sample, 1000, 2, 1);
	run.sample.interval_s = 1;
	support_run_absorb(&run);
	fill(&run.sample, 1001, 2, 1);
	run.sample.interval_s = 2;
	run.sample.elapsed_ms = 1500; /* late under 1 s, not under 2 s */
	support_run_absorb(&run);
	assert_int_equal(run.pipeline.late_samples, 0);
	assert_true(run.pipeline.config.interval_s == 2);
	pipeline_facts_init(&facts, "live");
	support_run_report(&run, &facts);
	assert_true(run.report.interval_s == 2);
	assert_true(has_warning(&run.report, "interval changed 1 times"));
	/* Unknown (0) keeps the current one. */
	fill(&run.sample, 1003, 2, 1);
	support_run_absorb(&run);
	assert_true(run.pipeline.config.interval_s == 2);
	assert_int_equal(run.pipeline.interval_changes, 1);
	support_run_finish(&run);
}

static void test_never_reached(void **state)
{
	struct support_run run;
	struct run_facts facts;

	(void)state;
	support_run_init(&run);
	support_run_fail(&run, 1000);
	pipeline_facts_init(&facts, "watch");
	support_run_report(&run, &facts);
	assert_int_equal(run.report.samples, 0);
	assert_int_equal(run.report.failed_samples, 1);
	assert_false(run.report.up);
	assert_true(
		has_warning(&run.report,
			    "no sample could be taken: connection refused"));
	support_run_finish(&run);
}

/* A grouping followed from the start keeps its history when shown. */
static void test_regroup_keeps_history(void **state)
{
	struct support_run run;
	struct run_facts facts;
	struct group_keys by_user;
	struct errbuf err;
	const struct history *h;

	(void)state;
	assert_true(match_parse_group_keys("user", &by_user, &err));
	support_run_init(&run);
	pipeline_follow_grouping(&run.pipeline, &by_user);
	for (int i = 0; i < 20; i++) {
		fill(&run.sample, 1000 + i, 3, i);
		support_run_absorb(&run);
	}
	pipeline_set_grouping(&run.pipeline, &by_user);
	h = support_run_history(&run);
	assert_int_equal(h->keys.count, 1);
	assert_int_equal(h->samples, 20);
	pipeline_facts_init(&facts, "live");
	support_run_report(&run, &facts);
	assert_int_equal(run.report.group_count, 2);
	/* app_tests: 1 at the start (the stuck one), 20 now, and the
	 * growth seen over the whole history. */
	assert_string_equal(run.report.groups[0].keys[GROUP_KEY_USER],
			    "app_tests");
	assert_int_equal(run.report.groups[0].baseline, 1);
	assert_int_equal(run.report.groups[0].connections, 20);
	assert_true(run.report.groups[0].trend.flagged);
	assert_int_equal(run.report.groups[0].recent_count, 20);
	/* Back: the first grouping has kept going too. */
	pipeline_set_grouping(&run.pipeline, &run.keys);
	assert_int_equal(support_run_history(&run)->samples, 20);
	/* A grouping never followed starts from the last sample. */
	assert_true(match_parse_group_keys("db", &by_user, &err));
	pipeline_set_grouping(&run.pipeline, &by_user);
	assert_int_equal(support_run_history(&run)->samples, 1);
	support_run_finish(&run);
}

static void test_wanted(void **state)
{
	struct support_run run;
	struct trace_policy policy = {0};
	bool wanted[16];
	struct sample next;

	(void)state;
	support_run_init(&run);
	fill(&run.sample, 1000, 2, 2);
	support_run_absorb(&run);
	sample_init(&next);
	fill(&next, 1001, 2, 2);
	/* Steady groups: only the session idle in a transaction. */
	pipeline_wanted(&run.pipeline, &next, &policy, wanted);
	assert_false(wanted[0]);
	assert_false(wanted[2]);
	assert_true(wanted[4]);
	/* The group on screen. */
	policy.shown = true;
	policy.shown_values[GROUP_KEY_USER] = "app_api";
	policy.shown_values[GROUP_KEY_APP] = "api";
	pipeline_wanted(&run.pipeline, &next, &policy, wanted);
	assert_true(wanted[0] && wanted[1]);
	assert_false(wanted[2]);
	/* A group above its baseline. */
	policy.shown = false;
	fill(&next, 1001, 2, 3);
	pipeline_wanted(&run.pipeline, &next, &policy, wanted);
	assert_false(wanted[0]);
	assert_true(wanted[2] && wanted[3]);
	/* Everything (--once, wrap mode). */
	policy.everything = true;
	pipeline_wanted(&run.pipeline, &next, &policy, wanted);
	assert_true(wanted[0]);
	sample_finish(&next);
	support_run_finish(&run);
}

/* The sessions of the group asked about, oldest first, in the report. */
static void test_detail(void **state)
{
	struct support_run run;
	struct run_facts facts;

	(void)state;
	support_run_init(&run);
	fill(&run.sample, 1000, 3, 2);
	support_run_absorb(&run);
	pipeline_facts_init(&facts, "live");
	facts.detail = true;
	facts.detail_values[GROUP_KEY_USER] = "app_tests";
	facts.detail_values[GROUP_KEY_APP] = "leak";
	support_run_report(&run, &facts);
	assert_true(run.report.detail_asked);
	assert_int_equal(run.report.detail_count, 2);
	assert_int_equal(run.report.detail[0].pid, 103);
	assert_true(run.report.detail[0].backend_age_s >
		    run.report.detail[1].backend_age_s);
	assert_non_null(group(&run.report, "leak"));
	support_run_finish(&run);
}

/* Every sample a stable "api" session and two of names never seen again
 * (a request id in application_name), each closed the next sample. */
static void fill_churn(struct sample *s, double t, int k)
{
	char *names;

	sample_reset(s);
	names = arena_alloc(&s->arena, 64);
	s->taken_at_epoch_s = t;
	s->server_epoch_s = t;
	s->server.can_read_all_stats = true;
	snprintf(names, 32, "req%d", 2 * k);
	snprintf(names + 32, 32, "req%d", 2 * k + 1);
	for (int i = 0; i < 3; i++) {
		struct session *ss = sample_add_session(s);

		ss->pid = i == 0 ? 100 : 1000 + 2 * k + i;
		ss->user = "u";
		ss->db = "d";
		ss->app = i == 0 ? "api" : names + 32 * (i - 1);
		ss->state = SESSION_STATE_IDLE;
		ss->backend_start_us = session_start_us(i == 0 ? 1 : t);
		ss->state_change_epoch_s = t;
		ss->query_start_epoch_s = t;
		ss->query = "SELECT 1";
	}
}

/* 16,000 names pass: the groups are the window's, the tracker's records
 * and strings stay bounded, and what is kept is still found. */
static void test_names_churn_is_bounded(void **state)
{
	struct pipeline_config config = {.window_s = 10, .interval_s = 1};
	struct filter filter;
	struct thresholds thresholds;
	struct pipeline p;
	struct sample s;
	struct run_facts facts;
	struct report r;
	const struct tracked *api;

	(void)state;
	match_default_group_keys(&config.keys);
	match_filter_init(&filter);
	check_thresholds_init(&thresholds);
	config.filter = &filter;
	config.thresholds = &thresholds;
	pipeline_init(&p, &config);
	sample_init(&s);
	for (int k = 0; k < 8000; k++) {
		fill_churn(&s, 1000 + k, k);
		pipeline_absorb(&p, &s);
	}
	/* 2 names a second for a 10 s window, and "api". */
	assert_in_range(pipeline_history(&p)->group_count, 3, 25);
	assert_in_range(pipeline_history(&p)->retired.groups, 15970, 15998);
	/* The closed sessions remembered (4,096) hold a name each, three
	 * strings; what came since the last prune at most doubles that. */
	assert_true(p.tracker.fine_count < 3 * p.tracker.params.closed_cap);
	assert_true(p.tracker.scope_count < 8 * p.tracker.params.closed_cap);
	assert_true(p.tracker.intern.count < 8 * p.tracker.params.closed_cap);
	api = tracker_find(&p.tracker,
			   (struct session_id){100, session_start_us(1)});
	assert_non_null(api);
	assert_string_equal(api->keys[GROUP_KEY_APP], "api");
	assert_string_equal(tracker_fine_of(&p.tracker, api->fine)->key,
			    "u\x1f"
			    "api\x1f"
			    "d");
	pipeline_facts_init(&facts, "watch");
	report_init(&r);
	pipeline_report(&p, &facts, &r);
	assert_in_range(r.retired_groups, 15970, 15998);
	assert_true(has_warning(&r, "were retired"));
	assert_non_null(group(&r, "api"));
	report_finish(&r);
	sample_finish(&s);
	pipeline_finish(&p);
	match_filter_finish(&filter);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absorb_moves_the_sample),
		cmocka_unit_test(test_report_carries_every_warning),
		cmocka_unit_test(test_interval_travels_with_the_sample),
		cmocka_unit_test(test_never_reached),
		cmocka_unit_test(test_regroup_keeps_history),
		cmocka_unit_test(test_wanted),
		cmocka_unit_test(test_detail),
		cmocka_unit_test(test_names_churn_is_bounded),
	};

	return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
