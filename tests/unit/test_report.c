/*
 * test_report.c - the view model: limits and their usage, the
 * idle-in-transaction list, warnings, every check's pass and breach.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clientfacts.h"
#include "report.h"
#include "report_hooks.h"
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void add(struct sample *sample, const char *user, const char *app,
		enum session_state st, int pid, double idle_s, int n)
{
	for (int i = 0; i < n; i++) {
		struct session *s = sample_add_session(sample);

		s->pid = pid + i;
		s->user = sample_strdup(sample, user);
		s->app = sample_strdup(sample, app);
		s->db = "shop";
		s->state = st;
		s->state_age_s = idle_s;
		s->xact_age_s = st == SESSION_STATE_IDLE_TX ? idle_s + 5 : NAN;
		s->query = "SELECT 1";
	}
}

/* 100 max, 3 reserved: 97 usable.  app_tests has CONNECTION LIMIT 10. */
static void setup_sample(struct support_run *f)
{
	struct sample *s = &f->sample;

	support_run_init(f);
	s->taken_at_epoch_s = 1000;
	snprintf(s->server.version, sizeof(s->server.version), "15.18");
	s->server.version_num = 150018;
	s->server.max_connections = 100;
	s->server.superuser_reserved = 3;
	s->server.idle_session_timeout_s = 0;
	s->server.can_read_all_stats = true;
	snprintf(s->server.current_user, sizeof(s->server.current_user),
		 "postgres");
	add(s, "app_api", "api", SESSION_STATE_IDLE, 100, 1, 5);
	add(s, "app_tests", "pytest", SESSION_STATE_IDLE, 200, 2, 8);
	add(s, "app_worker", "stuck", SESSION_STATE_IDLE_TX, 300, 75, 1);
	add(s, "app_worker", "stuck", SESSION_STATE_IDLE_TX, 301, 10, 1);
	add(s, "app_worker", "stuck", SESSION_STATE_IDLE_TX_ABORTED, 302, 40,
	    1);
	sample_add_role_limit(s, "app_tests", 10);
	sample_add_role_limit(s, "nobody", 0);
	sample_add_db_limit(s, "shop", 200);
}

static void build(struct support_run *f, const char *mode)
{
	struct run_facts facts;

	pipeline_facts_init(&facts, mode);
	facts.server_label = "127.0.0.1:5432/postgres";
	facts.ended_epoch_s = 1000;
	support_run_absorb(f);
	support_run_report(f, &facts);
}

static const struct report_limit *limit(const struct report *r,
					enum limit_kind kind, const char *name)
{
	for (size_t i = 0; i < r->limit_count; i++) {
		if (r->limits[i].kind == kind &&
		    strcmp(r->limits[i].name, name) == 0) {
			return &r->limits[i];
		}
	}
	return NULL;
}

static void test_limits(void **state)
{
	struct support_run f;
	const struct report_limit *l;

	(void)state;
	setup_sample(&f);
	build(&f, "once");
	assert_int_equal(f.report.usable_connections, 97);
	assert_int_equal(f.report.total, 16);
	assert_int_equal(f.report.total_all, 16);
	assert_float_equal(f.report.usage_pct, 100.0 * 16 / 97, 1e-9);
	assert_int_equal(f.report.limits[0].kind, LIMIT_KIND_SERVER);
	l = limit(&f.report, LIMIT_KIND_ROLE, "app_tests");
	assert_non_null(l);
	assert_int_equal(l->used, 8);
	assert_float_equal(l->usage_pct, 80.0, 1e-9);
	/* A role limited to 0 connections, unused: 0 %, not a division. */
	l = limit(&f.report, LIMIT_KIND_ROLE, "nobody");
	assert_float_equal(l->usage_pct, 0.0, 1e-9);
	l = limit(&f.report, LIMIT_KIND_DATABASE, "shop");
	assert_int_equal(l->used, 16);
	assert_int_equal(f.report.group_count, 3);
	assert_string_equal(f.report.groups[1].keys[GROUP_KEY_USER], "app_api");
	assert_int_equal(f.report.groups[0].role_limit, 10);
	assert_float_equal(f.report.groups[0].role_usage_pct, 80.0, 1e-9);
	assert_int_equal(f.report.groups[1].role_limit, -1);
	assert_int_equal(f.report.warning_count, 0);
	assert_int_equal(f.report.checks.count, 0);
	assert_int_equal(f.report.exit_code, PGD_EXIT_OK);
	support_run_finish(&f);
}

static void test_idle_tx_list(void **state)
{
	struct support_run f;

	(void)state;
	setup_sample(&f);
	build(&f, "once");
	assert_int_equal(f.report.idle_tx_count, 3);
	/* Oldest first; the aborted one has no transaction age. */
	assert_int_equal(f.report.idle_tx[0].pid, 300);
	assert_true(f.report.idle_tx[0].over_age);
	assert_float_equal(f.report.idle_tx[0].xact_age_s, 80, 1e-9);
	assert_int_equal(f.report.idle_tx[1].pid, 302);
	assert_int_equal(f.report.idle_tx[1].state,
			 SESSION_STATE_IDLE_TX_ABORTED);
	assert_true(f.report.idle_tx[1].over_age);
	assert_true(isnan(f.report.idle_tx[1].xact_age_s));
	assert_false(f.report.idle_tx[2].over_age);
	support_run_finish(&f);
}

struct check_case {
	const char *name;
	void (*set)(struct thresholds *t);
	size_t failures;
};

static void set_total_pass(struct thresholds *t)
{
	t->max_total = 16;
}
static void set_total_fail(struct thresholds *t)
{
	t->max_total = 15;
}
static void set_group_pass(struct thresholds *t)
{
	t->max_per_group = 8;
}
static void set_group_fail(struct thresholds *t)
{
	t->max_per_group = 4;
}
static void set_usage_pass(struct thresholds *t)
{
	t->max_usage_pct = 80;
}
static void set_usage_fail(struct thresholds *t)
{
	t->max_usage_pct = 15;
}
static void set_idle_pass(struct thresholds *t)
{
	t->max_idle_tx = 2;
}
static void set_idle_fail(struct thresholds *t)
{
	t->max_idle_tx = 1;
}

static void set_idle_age_fail(struct thresholds *t)
{
	t->max_idle_tx = 0;
	t->idle_tx_age_ms = 0;
}

static const struct check_case check_cases[] = {
	{"max-total", set_total_pass, 0},
	{"max-total", set_total_fail, 1},
	{"max-per-group", set_group_pass, 0},
	/* app_tests (8) and app_api (5) are over 4; app_worker (3) not */
	{"max-per-group", set_group_fail, 2},
	{"max-usage", set_usage_pass, 0},
	/* the role at 80 % and the server at 16.5 % */
	{"max-usage", set_usage_fail, 2},
	{"max-idle-tx", set_idle_pass, 0},
	{"max-idle-tx", set_idle_fail, 1},
	{"max-idle-tx", set_idle_age_fail, 1},
};

static void test_checks(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]);
	     i++) {
		const struct check_case *c = &check_cases[i];
		struct support_run f;

		setup_sample(&f);
		c->set(&f.thresholds);
		build(&f, "once");
		assert_true(f.report.checks.count >= 1);
		assert_string_equal(f.report.checks.items[0].name, c->name);
		assert_int_equal(check_list_failures(&f.report.checks),
				 c->failures);
		assert_int_equal(f.report.exit_code,
				 c->failures ? PGD_EXIT_CHECK_FAILED
					     : PGD_EXIT_OK);
		support_run_finish(&f);
	}
}

static void test_hidden_states_warn(void **state)
{
	struct support_run f;

	(void)state;
	setup_sample(&f);
	add(&f.sample, "someone", "x", SESSION_STATE_UNKNOWN, 400, NAN, 2);
	f.sample.server.idle_session_timeout_s = 300;
	build(&f, "once");
	assert_int_equal(f.report.unknown_states, 2);
	assert_int_equal(f.report.warning_count, 2);
	assert_non_null(strstr(f.report.warnings[0], "GRANT pg_monitor"));
	assert_non_null(strstr(f.report.warnings[1], "idle_session_timeout"));
	support_run_finish(&f);
}

struct hidden_case {
	const char *what;
	const char *role;   /* pgdrip's own role */
	const char *filter; /* --user, or NULL */
	int max_idle_tx;
	bool evaluated;
	int exit_code;
	const char *hint;
};

static const struct hidden_case hidden_cases[] = {
	/* 2 seen over age, under the limit: the hidden 2 may be more */
	{"hidden may breach", "watcher", NULL, 2, false, PGD_EXIT_UNAVAILABLE,
	 "GRANT pg_monitor TO watcher"},
	{"hidden, any limit", "watcher", NULL, 100, false, PGD_EXIT_UNAVAILABLE,
	 "GRANT pg_monitor TO watcher"},
	/* a breach among those seen is a failure whatever is hidden */
	{"seen breach", "watcher", NULL, 1, true, PGD_EXIT_CHECK_FAILED, ""},
	/* the hidden sessions are not selected: nothing is missing */
	{"not selected", "watcher", "app_*", 2, true, PGD_EXIT_OK, ""},
	/* a role SQL must quote */
	{"quoted role", "CI \"bot\"", NULL, 2, false, PGD_EXIT_UNAVAILABLE,
	 "GRANT pg_monitor TO \"CI \"\"bot\"\"\""},
};

/* --max-idle-tx as a role that cannot see other roles' states: not a
 * pass, not a failure, but not evaluated with the GRANT to run. */
static void test_hidden_states_check(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hidden_cases) / sizeof(hidden_cases[0]);
	     i++) {
		const struct hidden_case *c = &hidden_cases[i];
		const struct check_result *r;
		struct support_run f;
		struct errbuf err;

		setup_sample(&f);
		snprintf(f.sample.server.current_user,
			 sizeof(f.sample.server.current_user), "%s", c->role);
		f.sample.server.can_read_all_stats = false;
		add(&f.sample, "someone", "x", SESSION_STATE_UNKNOWN, 400, NAN,
		    2);
		if (c->filter != NULL) {
			assert_true(match_pattern_add(&f.filter.user, c->filter,
						      &err));
		}
		f.thresholds.max_idle_tx = c->max_idle_tx;
		build(&f, "once");
		assert_int_equal(f.report.checks.count, 1);
		r = &f.report.checks.items[0];
		if (r->evaluated != c->evaluated) {
			fail_msg("%s: evaluated %d", c->what, r->evaluated);
		}
		assert_false(!r->evaluated && r->ok);
		assert_int_equal(f.report.exit_code, c->exit_code);
		assert_string_equal(r->hint, c->hint);
		if (!c->evaluated) {
			assert_non_null(
				strstr(r->reason, "2 selected sessions"));
		}
		support_run_finish(&f);
	}
}

/*
 * A wrapped command's run: n seconds at 1 s, "api" steady at 5, "leak"
 * at 2 that gains one session a second from leak_from_s until the
 * command ends (its sessions all close at the end: the last sample).
 */
struct wrap_case {
	const char *what;
	int seconds;
	int leak_from_s; /* < 0: never */
	double command_started_s;
	bool flagged;
	double first_min_s; /* first_flagged_s within [min, max] */
	double first_max_s;
};

static const struct wrap_case wrap_cases[] = {
	{"leak from the start", 40, 10, 10, true, 12, 20},
	{"leak late in the run", 60, 40, 5, true, 42, 50},
	/* a long run: the run series compacts past 512 points */
	{"long run, late leak", 1500, 1400, 5, true, 1400, 1430},
	{"steady", 40, -1, 5, false, NAN, NAN},
};

static void wrap_sample(struct support_run *f, int t, int n_leak)
{
	sample_reset(&f->sample);
	f->sample.taken_at_epoch_s = 1000 + t;
	add(&f->sample, "u", "api", SESSION_STATE_IDLE, 1, 1, 5);
	add(&f->sample, "u", "leak", SESSION_STATE_IDLE, 100, 1, n_leak);
	support_run_absorb(f);
}

static const struct report_group *group_named(const struct report *r,
					      const char *app)
{
	for (size_t i = 0; i < r->group_count; i++) {
		if (strcmp(r->groups[i].keys[GROUP_KEY_APP], app) == 0) {
			return &r->groups[i];
		}
	}
	return NULL;
}

/* In wrap mode "flagged" is the run's verdict: first_flagged_s says
 * when it first held, never null beside "flagged": true. */
static void test_wrap_first_flagged(void **state)
{
	static const char *const argv[] = {"suite", "-k", "a b", NULL};

	(void)state;
	for (size_t i = 0; i < sizeof(wrap_cases) / sizeof(wrap_cases[0]);
	     i++) {
		const struct wrap_case *c = &wrap_cases[i];
		const struct report_group *g;
		struct support_run f;
		struct run_facts facts;
		int n = 2;

		pipeline_facts_init(&facts, "wrap");
		facts.wrapped = true;
		facts.command = "suite -k a b";
		facts.argv = argv;
		facts.command_status = 0;
		facts.command_started_s = c->command_started_s;
		facts.command_ended_s = c->seconds - 1;
		facts.ended_epoch_s = 1000 + c->seconds;
		support_run_init(&f);
		for (int t = 0; t < c->seconds; t++) {
			if (c->leak_from_s >= 0 && t > c->leak_from_s) {
				n++;
			}
			wrap_sample(&f, t, t == c->seconds - 1 ? 2 : n);
		}
		support_run_report(&f, &facts);
		/* The arguments are copied apart, as run. */
		assert_int_equal(f.report.argc, 3);
		assert_true(f.report.argv[2] != argv[2]);
		assert_string_equal(f.report.argv[2], "a b");
		assert_null(f.report.argv[3]);
		g = group_named(&f.report, "leak");
		assert_non_null(g);
		if (g->trend.flagged != c->flagged) {
			fail_msg("%s: flagged %d", c->what, g->trend.flagged);
		}
		if (!c->flagged) {
			assert_true(isnan(g->first_flagged_s));
		} else if (!(g->first_flagged_s >= c->first_min_s &&
			     g->first_flagged_s <= c->first_max_s)) {
			fail_msg("%s: first flagged at %g, want %g-%g", c->what,
				 g->first_flagged_s, c->first_min_s,
				 c->first_max_s);
		}
		g = group_named(&f.report, "api");
		assert_false(g->trend.flagged);
		assert_true(isnan(g->first_flagged_s));
		support_run_finish(&f);
	}
}

/* One line a client hook sent, at started + t_s. */
static void hook_line(struct clientfacts *f, const char *ev, double t_s,
		      const char *rest)
{
	char line[512];
	struct arena arena;
	struct clientfacts_line l;
	struct errbuf err;

	snprintf(line, sizeof(line),
		 "{\"v\":1,\"ev\":\"%s\",\"pid\":7,\"t\":%.3f,%s}", ev,
		 1795348800 + t_s, rest);
	arena_init(&arena);
	if (!clientfacts_parse_line(line, strlen(line), &arena, &l, &err)) {
		fail_msg("\"%s\": %s", line, err.msg);
	}
	clientfacts_add(f, &l);
	arena_finish(&arena);
}

/* A wrapped command's group flagged on two sessions left unused: one
 * its client gave back to a pool its tests shared (a test file's pool,
 * resting while the next file works) is no leak of the group; with both
 * so, the group is not flagged; a checkout never given back stays. */
static void test_hooks_clear_groups(void **state)
{
	struct report r;
	struct report_group *g;
	struct clientfacts f;

	(void)state;
	support_build_report(&r, "app_tests");
	r.wrapped = true;
	g = &r.groups[0];
	g->by_sessions = true;
	g->flagged = true;
	g->leaked = 2;
	g->evidence_total = 2;
	clientfacts_init(&f);
	/* pid 5000: taken in two tests from pool P, given back. */
	hook_line(&f, "take", 100,
		  "\"conn\":\"a\",\"backend\":5000,\"pool\":\"P\","
		  "\"test\":\"t1\"");
	hook_line(&f, "give", 101, "\"conn\":\"a\",\"pool\":\"P\"");
	hook_line(&f, "take", 102,
		  "\"conn\":\"a\",\"backend\":5000,\"pool\":\"P\","
		  "\"test\":\"t2\"");
	hook_line(&f, "give", 103, "\"conn\":\"a\",\"pool\":\"P\"");
	/* pid 5001: taken, never given back. */
	hook_line(&f, "take", 104,
		  "\"conn\":\"b\",\"backend\":5001,\"pool\":\"P\","
		  "\"test\":\"t2\"");
	report_hooks_clear_groups(&r, &f);
	assert_int_equal(g->leaked, 1);
	assert_int_equal(g->evidence_count, 1);
	assert_int_equal(g->evidence[0].pid, 5001);
	assert_true(g->flagged);
	/* Given back too: nothing left. */
	hook_line(&f, "give", 105, "\"conn\":\"b\",\"pool\":\"P\"");
	report_hooks_clear_groups(&r, &f);
	assert_int_equal(g->leaked, 0);
	assert_false(g->flagged);
	assert_string_equal(g->verdict, "ok");
	clientfacts_finish(&f);
	report_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_hooks_clear_groups),
		cmocka_unit_test(test_idle_tx_list),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_hidden_states_warn),
		cmocka_unit_test(test_hidden_states_check),
		cmocka_unit_test(test_wrap_first_flagged),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
