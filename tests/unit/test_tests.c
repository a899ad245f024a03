/*
 * test_tests.c - per-test sessions: the runner's line protocol, and test
 * windows over a tracker fed sample by sample (a leak, a pool warmed and
 * reused, a shared set-up, parallel workers, a child process, a close
 * racing the end, an untraced session, a test that never ended).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "report_json.h"
#include "session.h"
#include "report_sessions.h"
#include "report_text.h"
#include "support.h"
#include "tests.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the line protocol ---- */

struct line_case {
	const char *line;
	bool ok;
	enum sample_mark_kind kind;
	int pid;
	const char *name;
};

static const struct line_case line_cases[] = {
	{"start tests/t.py::test_a", true, SAMPLE_MARK_START, 0,
	 "tests/t.py::test_a"},
	{"end tests/t.py::test_a\r", true, SAMPLE_MARK_END, 0,
	 "tests/t.py::test_a"},
	{"start@4242 orders lookup #3", true, SAMPLE_MARK_START, 4242,
	 "orders lookup #3"},
	{"setup shared_pool (session)", true, SAMPLE_MARK_SETUP, 0,
	 "shared_pool (session)"},
	{"setup-end@7 x", true, SAMPLE_MARK_SETUP_END, 7, "x"},
	{"phase call", true, SAMPLE_MARK_PHASE, 0, "call"},
	/* The name is every byte after the first space. */
	{"start  two  spaces\t", true, SAMPLE_MARK_START, 0, " two  spaces\t"},
	{"start \x1b[31mred", true, SAMPLE_MARK_START, 0, "\x1b[31mred"},
	{"begin x", false, 0, 0, NULL},
	{"Start x", false, 0, 0, NULL},
	{"start", false, 0, 0, NULL},
	{"start ", false, 0, 0, NULL},
	{"start@ x", false, 0, 0, NULL},
	{"start@0 x", false, 0, 0, NULL},
	{"start@12a x", false, 0, 0, NULL},
	{"start@99999999999 x", false, 0, 0, NULL},
	{"", false, 0, 0, NULL},
};

static void test_parse_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(line_cases); i++) {
		const struct line_case *c = &line_cases[i];
		struct tests_line out;
		struct errbuf err;
		bool ok = tests_parse_line(c->line, strlen(c->line), &out,
					   &err);

		assert_int_equal(ok, c->ok);
		if (!ok) {
			assert_true(err.msg[0] != '\0');
			continue;
		}
		assert_int_equal(out.kind, c->kind);
		assert_int_equal(out.pid, c->pid);
		assert_int_equal(out.name_len, strlen(c->name));
		assert_memory_equal(out.name, c->name, out.name_len);
	}
}

static void test_parse_line_nul(void **state)
{
	static const char line[] = "start a\0b";
	struct tests_line out;
	struct errbuf err;

	(void)state;
	assert_false(tests_parse_line(line, sizeof(line) - 1, &out, &err));
}

/* ---- windows over a tracker ---- */

/* A session as one sample shows it: opened at start, last used at used
 * (its state_change), held by client (0: untraced). */
struct s_sess {
	int pid;
	double start;
	double used;
	int client;
};

/* A mark the sample answered: verb as sample_mark_name() spells it. */
struct s_mark {
	const char *verb;
	int pid;
	const char *name;
	int ppid;
};

struct s_step {
	double t;
	struct s_sess sess[6];
	struct s_mark marks[3];
};

struct expect {
	const char *name;
	int before;
	int after;
	size_t opened;
	size_t closed;
	size_t left_open;
	size_t leaked;
};

struct scenario {
	const char *what;
	const struct s_step *steps;
	size_t step_count;
	const struct expect *expect;
	size_t expect_count;
	size_t leaking_tests;
};

/* s (reset) as the step's sample: its sessions and marks. */
static void fill(struct sample *sp, const struct s_step *st)
{
	struct sample s = *sp;

	sample_reset(&s);
	s.server_epoch_s = st->t;
	s.taken_at_epoch_s = st->t + 0.01;
	for (size_t i = 0; i < COUNT(st->sess) && st->sess[i].pid != 0; i++) {
		struct session *x = sample_add_session(&s);

		x->pid = st->sess[i].pid;
		x->weight = 1;
		x->user = sample_strdup(&s, "app_tests");
		x->app = sample_strdup(&s, "suite");
		x->db = sample_strdup(&s, "postgres");
		x->state = SESSION_STATE_IDLE;
		x->backend_start_us = session_start_us(st->sess[i].start);
		x->state_change_epoch_s = st->sess[i].used;
		x->query_start_epoch_s = st->sess[i].used;
		x->query = sample_strdup(&s, "SELECT 1");
		x->client_pid = st->sess[i].client;
		x->client_relation = st->sess[i].client != 0
					     ? CLIENT_RELATION_DESCENDANT
					     : CLIENT_RELATION_UNRELATED;
	}
	for (size_t i = 0; i < COUNT(st->marks) && st->marks[i].verb; i++) {
		enum sample_mark_kind kind;

		assert_true(sample_mark_parse(st->marks[i].verb, &kind));
		sample_add_mark(&s, kind, st->marks[i].pid, st->marks[i].ppid,
				st->marks[i].name);
	}
	*sp = s;
}

static void feed(struct tracker *tr, struct tests *t, const struct s_step *st)
{
	struct sample s;

	sample_init(&s);
	fill(&s, st);
	tracker_add(tr, &s);
	tests_add(t, &s);
	sample_finish(&s);
}

static const struct tests_outcome *outcome_named(const struct tests_result *r,
						 const char *name)
{
	for (size_t i = 0; i < r->count; i++) {
		if (strcmp(r->outcomes[i].window->name, name) == 0) {
			return &r->outcomes[i];
		}
	}
	fail_msg("no window %s", name);
	return NULL;
}

/* A wrap-mode tracker and the windows, fed steps[0..n). */
static void feed_all(struct tracker *tr, struct tests *t,
		     const struct s_step *steps, size_t n)
{
	struct tracker_params params;

	tracker_default_params(&params, 0.25, true);
	tracker_init(tr, &params);
	tests_init(t);
	for (size_t i = 0; i < n; i++) {
		feed(tr, t, &steps[i]);
	}
}

static void run_scenario(const struct scenario *sc)
{
	struct tracker tr;
	struct tests t;
	struct tests_result r;

	feed_all(&tr, &t, sc->steps, sc->step_count);
	tests_analyse(&t, &tr, NULL, &r);
	for (size_t i = 0; i < sc->expect_count; i++) {
		const struct expect *e = &sc->expect[i];
		const struct tests_outcome *o = outcome_named(&r, e->name);

		print_message("# %s: %s\n", sc->what, e->name);
		assert_int_equal(o->before, e->before);
		assert_int_equal(o->after, e->after);
		assert_int_equal(o->opened, e->opened);
		assert_int_equal(o->closed, e->closed);
		assert_int_equal(o->left_open, e->left_open);
		assert_int_equal(o->leaked, e->leaked);
		assert_int_equal(o->session_count, e->opened);
	}
	assert_int_equal(r.leaking_tests, sc->leaking_tests);
	tests_result_finish(&r);
	tests_finish(&t);
	tracker_finish(&tr);
}

#define SCENARIO(what, steps, expect, leaking)                            \
	{                                                                 \
		what, steps, COUNT(steps), expect, COUNT(expect), leaking \
	}

/* t1 opens 101 and never uses it again; t2 opens 102 and closes it; a
 * session of another process (900) opened during t1 is not t1's. */
static const struct s_step leak_steps[] = {
	{1.0, {{0}}, {{0}}},
	{2.0, {{0}}, {{"start", 500, "t1", 0}}},
	{2.5, {{101, 2.1, 2.2, 500}, {201, 2.3, 2.3, 900}}, {{0}}},
	{3.0,
	 {{101, 2.1, 2.2, 500}, {201, 2.3, 2.3, 900}},
	 {{"end", 500, "t1", 0}}},
	{4.0, {{101, 2.1, 2.2, 500}}, {{"start", 500, "t2", 0}}},
	{4.5, {{101, 2.1, 2.2, 500}, {102, 4.1, 4.2, 500}}, {{0}}},
	{5.0, {{101, 2.1, 2.2, 500}}, {{"end", 500, "t2", 0}}},
	{6.0, {{0}}, {{0}}},
};
static const struct expect leak_expect[] = {
	{"t1", 0, 1, 1, 0, 1, 1},
	{"t2", 1, 1, 1, 1, 0, 0},
};

/* A pool warmed in t1 (two sessions) and used by t2 and t3: no leak. */
static const struct s_step pool_steps[] = {
	{1.0, {{0}}, {{"start", 500, "t1", 0}}},
	{1.5, {{101, 1.1, 1.3, 500}, {102, 1.2, 1.4, 500}}, {{0}}},
	{2.0,
	 {{101, 1.1, 1.3, 500}, {102, 1.2, 1.4, 500}},
	 {{"end", 500, "t1", 0}}},
	{3.0,
	 {{101, 1.1, 1.3, 500}, {102, 1.2, 1.4, 500}},
	 {{"start", 500, "t2", 0}}},
	{3.6, {{101, 1.1, 3.5, 500}, {102, 1.2, 1.4, 500}}, {{0}}},
	{4.0,
	 {{101, 1.1, 3.5, 500}, {102, 1.2, 3.7, 500}},
	 {{"end", 500, "t2", 0}, {"start", 500, "t3", 0}}},
	{5.0,
	 {{101, 1.1, 4.5, 500}, {102, 1.2, 3.7, 500}},
	 {{"end", 500, "t3", 0}}},
};
static const struct expect pool_expect[] = {
	{"t1", 0, 2, 2, 0, 2, 0},
	{"t2", 2, 2, 0, 0, 0, 0},
};

/* A session-scoped fixture set up inside t1: its two sessions (one of
 * them never used again) are its own, not t1's; t1's own leaks. */
static const struct s_step setup_steps[] = {
	{1.0, {{0}}, {{"start", 500, "t1", 0}}},
	{1.1, {{0}}, {{"setup", 500, "shared_pool (session)", 0}}},
	{1.3,
	 {{101, 1.15, 1.15, 500}, {102, 1.2, 1.2, 500}},
	 {{"setup-end", 500, "shared_pool (session)", 0}}},
	{1.6,
	 {{101, 1.15, 1.15, 500}, {102, 1.2, 1.2, 500}, {103, 1.4, 1.45, 500}},
	 {{0}}},
	{2.0,
	 {{101, 1.15, 1.15, 500}, {102, 1.2, 1.2, 500}, {103, 1.4, 1.45, 500}},
	 {{"end", 500, "t1", 0}}},
	{3.0,
	 {{101, 1.15, 2.5, 500}, {102, 1.2, 1.2, 500}, {103, 1.4, 1.45, 500}},
	 {{"start", 500, "t2", 0}}},
	{4.0,
	 {{101, 1.15, 3.5, 500}, {102, 1.2, 1.2, 500}, {103, 1.4, 1.45, 500}},
	 {{"end", 500, "t2", 0}}},
};
static const struct expect setup_expect[] = {
	{"t1", 0, 3, 1, 0, 1, 1},
	{"shared_pool (session)", 0, 2, 2, 0, 2, 0},
	{"t2", 3, 3, 0, 0, 0, 0},
};

/* Two workers at once (500, 600): each session goes to its own worker's
 * test; a child of 600 (700, a parent mark) counts as 600's. */
static const struct s_step parallel_steps[] = {
	{1.0, {{0}}, {{"start", 500, "w1::a", 0}, {"start", 600, "w2::b", 0}}},
	{1.5,
	 {{101, 1.1, 1.2, 500}, {102, 1.2, 1.3, 600}, {103, 1.3, 1.3, 700}},
	 {{"parent", 700, "", 600}}},
	{2.0,
	 {{101, 1.1, 1.2, 500}, {102, 1.2, 1.3, 600}, {103, 1.3, 1.3, 700}},
	 {{"end", 500, "w1::a", 0}}},
	{2.5,
	 {{102, 1.2, 1.3, 600}, {103, 1.3, 1.3, 700}},
	 {{"start", 500, "w1::c", 0}}},
	{3.0,
	 {{102, 1.2, 1.3, 600}, {103, 1.3, 1.3, 700}},
	 {{"end", 600, "w2::b", 0}, {"end", 500, "w1::c", 0}}},
};
static const struct expect parallel_expect[] = {
	{"w1::a", 0, 1, 1, 0, 1, 1},
	{"w2::b", 0, 2, 2, 0, 2, 2},
	{"w1::c", 0, 0, 0, 0, 0, 0},
};

/* A close racing the end: 101 is still in the end's sample, gone from
 * the settling one; the end moves there and 101 closed during t1. */
static const struct s_step settle_steps[] = {
	{1.0, {{0}}, {{"start", 500, "t1", 0}}},
	{1.5, {{101, 1.1, 1.2, 500}}, {{0}}},
	{2.0, {{101, 1.1, 1.2, 500}}, {{"end", 500, "t1", 0}}},
	{2.05, {{0}}, {{"settled", 500, "", 0}}},
	{3.0, {{0}}, {{0}}},
};
static const struct expect settle_expect[] = {
	{"t1", 0, 0, 1, 1, 0, 0},
};

/* Untraced sessions (client 0) go to the only runner; a test that never
 * ended is not judged. */
static const struct s_step untraced_steps[] = {
	{1.0, {{0}}, {{"start", 500, "t1", 0}}},
	{1.5, {{101, 1.1, 1.2, 0}}, {{0}}},
	{2.0, {{101, 1.1, 1.2, 0}}, {{"end", 500, "t1", 0}}},
	{3.0, {{101, 1.1, 1.2, 0}}, {{"start", 500, "t2", 0}}},
	{3.5, {{101, 1.1, 1.2, 0}, {102, 3.1, 3.2, 0}}, {{0}}},
};
static const struct expect untraced_expect[] = {
	{"t1", 0, 1, 1, 0, 1, 1},
	{"t2", 1, 0, 1, 0, 1, 0},
};

/* A test whose fixture warms a pool of two (101, 102) and whose body
 * leaks 103; later only 101 is used.  With the body's phase reported,
 * 102 is the pool's idle member and only 103 is the test's leak. */
#define POOL_AND_LEAK(...)                                        \
	{1.0, {{0}}, {{"start", 500, "t1", 0}}},                  \
		{1.3,                                             \
		 {{101, 1.1, 1.15, 500}, {102, 1.12, 1.16, 500}}, \
		 {__VA_ARGS__}},                                  \
		{1.6,                                             \
		 {{101, 1.1, 1.15, 500},                          \
		  {102, 1.12, 1.16, 500},                         \
		  {103, 1.4, 1.45, 500}},                         \
		 {{0}}},                                          \
		{2.0,                                             \
		 {{101, 1.1, 1.15, 500},                          \
		  {102, 1.12, 1.16, 500},                         \
		  {103, 1.4, 1.45, 500}},                         \
		 {{"end", 500, "t1", 0}}},                        \
	{                                                         \
		3.0,                                              \
			{{101, 1.1, 2.5, 500},                    \
			 {102, 1.12, 1.16, 500},                  \
			 {103, 1.4, 1.45, 500}},                  \
		{                                                 \
			{                                         \
				0                                 \
			}                                         \
		}                                                 \
	}
static const struct s_step phases_steps[] = {
	POOL_AND_LEAK({"phase", 500, "call", 0}),
};
static const struct expect phases_expect[] = {
	{"t1", 0, 3, 3, 0, 3, 1},
};
/* The same without phases: the pool's idle member cannot be told from
 * the leak, and both count. */
static const struct s_step no_phases_steps[] = {
	POOL_AND_LEAK({0}),
};
static const struct expect no_phases_expect[] = {
	{"t1", 0, 3, 3, 0, 3, 2},
};

static const struct scenario scenarios[] = {
	SCENARIO("a leak", leak_steps, leak_expect, 1),
	SCENARIO("a pool", pool_steps, pool_expect, 0),
	SCENARIO("a set-up", setup_steps, setup_expect, 1),
	SCENARIO("parallel", parallel_steps, parallel_expect, 2),
	SCENARIO("settled", settle_steps, settle_expect, 0),
	SCENARIO("untraced", untraced_steps, untraced_expect, 1),
	SCENARIO("phases", phases_steps, phases_expect, 1),
	SCENARIO("no phases", no_phases_steps, no_phases_expect, 1),
};

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(scenarios); i++) {
		run_scenario(&scenarios[i]);
	}
}

/* What the edge asks before it answers an end. */
static void test_left_open(void **state)
{
	struct tracker tr;
	struct tests t;

	(void)state;
	feed_all(&tr, &t, leak_steps, 3);
	assert_int_equal(tests_left_open(&t, &tr, 500), 1);
	assert_int_equal(tests_left_open(&t, &tr, 900), 0);
	assert_true(tests_reported(&t));
	assert_int_equal(tests_count(&t), 1);
	tests_finish(&t);
	tracker_finish(&tr);
}

/* An end with no test running is counted, not applied; a second end of
 * the same test changes nothing. */
static void test_unmatched(void **state)
{
	static const struct s_step steps[] = {
		{1.0, {{0}}, {{"end", 500, "nothing", 0}}},
		{2.0, {{0}}, {{"start", 500, "t1", 0}}},
		{3.0, {{0}}, {{"end", 500, "t1", 0}}},
		{4.0, {{0}}, {{"end", 500, "t1", 0}}},
	};
	struct tracker tr;
	struct tests t;

	(void)state;
	feed_all(&tr, &t, steps, COUNT(steps));
	assert_int_equal(t.unmatched, 2);
	assert_int_equal(t.count, 1);
	assert_true(t.windows[0].ended_at == 3.0);
	tests_finish(&t);
	tracker_finish(&tr);
}

static char *render(const struct report *r, bool json)
{
	struct text_style st = {true, false, REPORT_TEXT_UNLIMITED};
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);

	assert_non_null(out);
	if (json) {
		report_json_write(out, r, "test");
	} else {
		report_text_write(out, r, &st);
		report_text_write_breaches(out, r, true);
	}
	fclose(out);
	return buf;
}

static bool has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		if (((unsigned char)*s < 0x20 && *s != '\n') || *s == 0x7f) {
			return true;
		}
	}
	return false;
}

/* The whole way to the reports: a test named by a hostile runner leaks;
 * --max-leaked-per-test 0 fails naming it; JSON stays valid and the
 * text free of control bytes. */
static void test_report(void **state)
{
	(void)state;
	for (size_t h = 0; h < support_hostile_count; h++) {
		struct support_run run;
		struct run_facts facts;
		const struct check_result *c = NULL;
		struct s_step steps[COUNT(leak_steps)];
		char *json;
		char *text;

		memcpy(steps, leak_steps, sizeof(steps));
		steps[1].marks[0].name = support_hostile[h];
		steps[3].marks[0].name = support_hostile[h];
		support_run_init(&run);
		run.thresholds.max_leaked_per_test = 0;
		for (size_t i = 0; i < COUNT(steps); i++) {
			fill(&run.sample, &steps[i]);
			support_run_absorb(&run);
		}
		pipeline_facts_init(&facts, "wrap");
		facts.wrapped = true;
		facts.command_status = 0;
		support_run_report(&run, &facts);
		assert_true(run.report.tests.reported);
		assert_int_equal(run.report.tests.tests, 2);
		assert_int_equal(run.report.tests.leaking, 1);
		for (size_t i = 0; i < run.report.checks.count; i++) {
			if (!run.report.checks.items[i].ok) {
				c = &run.report.checks.items[i];
			}
		}
		assert_non_null(c);
		assert_string_equal(c->name, "max-leaked-per-test");
		assert_int_equal(strncmp(c->where, "test ", 5), 0);
		assert_int_equal(run.report.exit_code, 1);
		json = render(&run.report, true);
		text = render(&run.report, false);
		assert_true(support_json_valid(json));
		assert_false(has_control(text));
		assert_non_null(strstr(text, "1 of 2 tests leaked:"));
		assert_non_null(
			strstr(text, "check max-leaked-per-test failed"));
		free(json);
		free(text);
		support_run_finish(&run);
	}
}

/* Without tests: an explicit --max-leaked-per-test is not evaluated
 * (exit 3), an implied one is left out. */
static void test_check_without_tests(void **state)
{
	(void)state;
	for (int implied = 0; implied < 2; implied++) {
		struct support_run run;
		struct run_facts facts;

		support_run_init(&run);
		run.thresholds.max_leaked_per_test = 0;
		run.thresholds.max_leaked_per_test_implied = implied;
		fill(&run.sample, &pool_steps[1]);
		support_run_absorb(&run);
		pipeline_facts_init(&facts, "wrap");
		facts.wrapped = true;
		facts.command_status = 0;
		support_run_report(&run, &facts);
		assert_false(run.report.tests.reported);
		if (implied) {
			assert_int_equal(run.report.checks.count, 0);
			assert_int_equal(run.report.exit_code, 0);
		} else {
			assert_int_equal(run.report.checks.count, 1);
			assert_false(run.report.checks.items[0].evaluated);
			assert_int_equal(run.report.exit_code, 3);
		}
		support_run_finish(&run);
	}
}

/* The session verdict of a wrapped run without test names: a warm
 * pool's member, used by the first tests and not by the last ones
 * (which open sessions of their own), then closed at the end, is no
 * leak; a session used once and left unused is. */
static const struct tracked *closed_pid(const struct tracker *tr, int pid)
{
	for (size_t i = 0; i < tr->closed_count; i++) {
		if (tracker_closed_at(tr, i)->pid == pid) {
			return tracker_closed_at(tr, i);
		}
	}
	fail_msg("pid %d not closed", pid);
	return NULL;
}

static void test_warm_pool_spare(void **state)
{
	struct tracker tr;
	struct tests t;
	struct s_step steps[14];

	(void)state;
	memset(steps, 0, sizeof(steps));
	for (int i = 0; i < 13; i++) {
		struct s_step *st = &steps[i];
		double now = 0.25 * (i + 1);

		st->t = now;
		/* the warm pool's one session: used every test to 2 s */
		st->sess[0] = (struct s_sess){10, 0.1, fmin(now, 2.0) - 0.1, 7};
		/* used once at 0.5, then left */
		st->sess[1] = (struct s_sess){50, 0.45, 0.5, 7};
		/* each test's own client, opened and closed */
		st->sess[2] = (struct s_sess){100 + i, now - 0.05, now - 0.05,
					      7};
	}
	steps[13].t = 3.5; /* the runner exited: all closed */
	feed_all(&tr, &t, steps, COUNT(steps));
	assert_false(report_sessions_left_by_command(&tr, closed_pid(&tr, 10),
						     0, 3.5));
	assert_true(report_sessions_left_by_command(&tr, closed_pid(&tr, 50), 0,
						    3.5));
	tests_finish(&t);
	tracker_finish(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_parse_line_nul),
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_left_open),
		cmocka_unit_test(test_unmatched),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_check_without_tests),
		cmocka_unit_test(test_warm_pool_spare),
	};

	return cmocka_run_group_tests_name("tests", tests, NULL, NULL);
}
