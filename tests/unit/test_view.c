/*
 * test_view.c - the live view's plan without a terminal: the FLAGS cell,
 * which columns fit 40 to 200 columns and in what order they go, the
 * sparkline's scale from zero, the rows a filter and a sort give, the
 * grouping cycle and the footer's fitting (the active filter kept at
 * 80 columns).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support.h"

#include "report_judge.h"
#include "view.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_flags(void **state)
{
	struct report r;
	char buf[96];

	(void)state;
	support_build_report(&r, "app_tests");
	view_flags(buf, sizeof(buf), &r.groups[0]);
	assert_string_equal(buf, "LEAK full in 4m10s IDLE-TX");
	r.groups[0].forecast_s = INFINITY;
	view_flags(buf, sizeof(buf), &r.groups[0]);
	assert_string_equal(buf, "LEAK IDLE-TX");
	view_flags(buf, sizeof(buf), &r.groups[1]);
	assert_string_equal(buf, "");
	/* What the model set, not a rule of the view's own. */
	r.groups[1].flags = REPORT_FLAG_NEAR_LIMIT;
	view_flags(buf, sizeof(buf), &r.groups[1]);
	assert_string_equal(buf, "NEAR-LIMIT");
	report_finish(&r);
}

struct columns_case {
	int cols;
	bool oldest;
	bool trend;
	bool idle;
	bool active;
	bool forecast; /* FLAGS has room for "LEAK full in 4m10s IDLE-TX" */
	bool spark;
	bool delta;
};

/* The keys, CONN, ITX and the flag words always; then OLDEST, TREND,
 * IDLE, ACT, the keys to 12, the forecast, the sparkline and the change
 * since baseline, as room allows: the LEAK cell's forecast (26 columns
 * with IDLE-TX) gives way before OLDEST and TREND do. */
static const struct columns_case columns_cases[] = {
	{200, true, true, true, true, true, true, true},
	{120, true, true, true, true, true, true, true},
	{100, true, true, true, true, true, false, true},
	{80, true, true, true, true, false, false, false},
	{60, true, true, false, false, false, false, false},
	{40, false, false, false, false, false, false, false},
};

static void test_columns(void **state)
{
	struct report r;

	(void)state;
	support_build_report(&r, "app_tests");
	for (size_t i = 0; i < COUNT(columns_cases); i++) {
		const struct columns_case *c = &columns_cases[i];
		struct view_columns got;
		char flags[96];
		int used;

		view_plan_columns(&r, c->cols, true, &got);
		if (got.oldest != c->oldest || got.trend != c->trend ||
		    got.idle != c->idle || got.active != c->active ||
		    (got.flags >= 26) != c->forecast || got.spark != c->spark ||
		    got.delta != c->delta) {
			fail_msg("%d columns: oldest %d trend %d idle %d "
				 "active %d flags %d spark %d delta %d",
				 c->cols, got.oldest, got.trend, got.idle,
				 got.active, got.flags, got.spark, got.delta);
		}
		/* The row fills the line but for its last column. */
		used = 2 * (got.key + 1) + 12 + (got.active ? 6 : 0) +
		       (got.idle ? 6 : 0) + (got.oldest ? 8 : 0) +
		       (got.trend ? 9 : 0) + (got.spark ? 13 : 0) +
		       (got.delta ? 6 : 0) + got.flags;
		assert_int_equal(used, c->cols - 1);
		/* The flag words always fit; the forecast where it can. */
		view_flags_fit(flags, sizeof(flags), &r.groups[0], got.flags);
		assert_string_equal(flags,
				    c->forecast ? "LEAK full in 4m10s IDLE-TX"
						: "LEAK IDLE-TX");
		/* "app_tests" and "api" fit whole from 80 columns on. */
		if (c->cols >= 80) {
			assert_true(got.key >= 11);
		}
		assert_true(got.key >= 6);
	}
	/* Narrower than anything fits: cut, never narrower than 6. */
	for (int cols = 1; cols < 40; cols++) {
		struct view_columns got;

		view_plan_columns(&r, cols, true, &got);
		assert_int_equal(got.key, 6);
		assert_false(got.oldest || got.trend || got.active);
	}
	report_finish(&r);
}

struct detail_case {
	int cols;
	bool age;
	bool wait;
	int wait_w;
};

/* The query keeps 20 columns; AGE and WAIT come with room, WAIT first
 * to 20 columns ("Client:ClientRead" whole). */
static const struct detail_case detail_cases[] = {
	{80, false, false, 0}, {100, true, false, 0}, {101, true, true, 13},
	{120, true, true, 20}, {200, true, true, 20}, {40, false, false, 0},
};

static void test_detail(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(detail_cases); i++) {
		const struct detail_case *c = &detail_cases[i];
		struct view_detail_columns got;
		int used;

		view_plan_detail(c->cols, &got);
		if (got.age != c->age || got.wait != c->wait ||
		    got.wait_w != c->wait_w) {
			fail_msg("%d columns: age %d wait %d (%d)", c->cols,
				 got.age, got.wait, got.wait_w);
		}
		assert_true(got.query >= 20);
		if (c->cols < 80) {
			continue;
		}
		used = 27 + (got.age ? 9 : 0) + got.client + 1 + got.process +
		       1 + (got.wait ? got.wait_w + 1 : 0) + got.query;
		assert_int_equal(used, c->cols - 1);
	}
}

struct panes_case {
	const char *what;
	int body;
	size_t groups;
	bool detail;
	size_t sessions;
	int want_groups;
	int want_detail;
};

static const struct panes_case panes_cases[] = {
	{"no sessions pane", 45, 3, false, 20, 45, 0},
	{"too short for two", 10, 3, true, 20, 10, 0},
	{"both fit: the groups what they need", 45, 3, true, 20, 5, 40},
	{"the sessions cut: no blank rows above them", 45, 3, true, 200, 5, 40},
	{"80x24, many groups and sessions: half each", 19, 30, true, 30, 9, 10},
	{"few sessions: the groups take the rest", 19, 30, true, 2, 15, 4},
};

static void test_panes(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(panes_cases); i++) {
		const struct panes_case *c = &panes_cases[i];
		struct view_panes got;

		view_plan_panes(c->body, c->groups, c->detail, c->sessions,
				&got);
		if (got.groups != c->want_groups ||
		    got.detail != c->want_detail) {
			fail_msg("%s: groups %d detail %d", c->what, got.groups,
				 got.detail);
		}
	}
}

/* The sparkline of a group whose recent points are values. */
static void spark_of(char *buf, size_t size, const float *values, size_t n,
		     bool utf8)
{
	struct report_group g;

	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < n; i++) {
		g.recent[i] = values[i];
	}
	g.recent_count = n;
	view_sparkline(buf, size, &g, 12, utf8);
}

static void test_sparkline(void **state)
{
	static const float flat3[] = {3, 3, 3, 3};
	static const float zero[] = {0, 0, 0};
	static const float step[] = {10, 10, 11, 11};
	static const float ramp[] = {0, 1, 2, 3, 4, 5, 6, 7};
	float many[20];
	char buf[128];

	(void)state;
	/* A constant 3 is not drawn as a constant 0. */
	spark_of(buf, sizeof(buf), flat3, COUNT(flat3), false);
	assert_string_equal(buf, "@@@@");
	spark_of(buf, sizeof(buf), zero, COUNT(zero), false);
	assert_string_equal(buf, "___");
	/* 10 -> 11 is one step near the top, not the whole height. */
	spark_of(buf, sizeof(buf), step, COUNT(step), false);
	assert_string_equal(buf, "##@@");
	spark_of(buf, sizeof(buf), ramp, COUNT(ramp), false);
	assert_string_equal(buf, "_.-=+*#@");
	spark_of(buf, sizeof(buf), ramp, 2, true);
	assert_string_equal(buf, "\u2581\u2588");
	/* The newest 12 points only; a short buffer is cut whole. */
	for (size_t i = 0; i < COUNT(many); i++) {
		many[i] = (float)i;
	}
	spark_of(buf, sizeof(buf), many, COUNT(many), false);
	assert_int_equal(strlen(buf), 12);
	spark_of(buf, 8, many, COUNT(many), true);
	assert_int_equal(strlen(buf), 6);
}

static void test_rows(void **state)
{
	struct report r;
	size_t n;
	size_t *rows;

	(void)state;
	support_build_report(&r, "app_tests");
	rows = view_rows(&r, "", VIEW_SORT_CONNECTIONS, &n);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0], 0);
	free(rows);
	rows = view_rows(&r, "api", VIEW_SORT_CONNECTIONS, &n);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0], 1);
	free(rows);
	rows = view_rows(&r, "app/a*", VIEW_SORT_CONNECTIONS, &n);
	assert_int_equal(n, 1);
	free(rows);
	rows = view_rows(&r, "", VIEW_SORT_NAME, &n);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0], 1); /* "app/api" < "app_tests/..." */
	free(rows);
	rows = view_rows(&r, "nothing", VIEW_SORT_GROWTH, &n);
	assert_int_equal(n, 0);
	free(rows);
	assert_string_equal(view_sort_name(VIEW_SORT_IDLE_TX), "idle-tx age");
	report_finish(&r);
}

static void test_group_cycle(void **state)
{
	static const char *const expected[] = {"user",     "application",
					       "database", "user",
					       "state",    "user"};
	struct group_keys keys;

	(void)state;
	match_default_group_keys(&keys);
	for (size_t i = 0; i < COUNT(expected); i++) {
		view_next_group_keys(&keys);
		assert_string_equal(match_group_key_name(keys.keys[0]),
				    expected[i]);
	}
	assert_int_equal(keys.count, 2); /* back to user,app */
}

struct footer_case {
	const char *what;
	int cols;
	const char *message;
	bool typing;
	const char *filter;
	const char *footer;
};

static const struct footer_case footer_cases[] = {
	{"wide", 200, NULL, false, "",
	 "q quit  j/k select  Enter hide sessions  s sort:connections  g group"
	 "  / filter  p pause  PgUp/PgDn scroll  b baseline  +/- interval  ? "
	 "help"},
	{"80 columns", 80, NULL, false, "",
	 "q quit  j/k select  Enter hide sessions  s sort:connections  g group"
	 "  ? help"},
	{"80 columns keep the filter", 80, NULL, false, "crowd",
	 "/ filter:crowd  q quit  j/k select  Enter hide sessions  g group  ? "
	 "help"},
	{"a message first", 80, "server restarted", false, "",
	 "server restarted  q quit  j/k select  Enter hide sessions  g group  "
	 "? help"},
	{"typing", 80, "server restarted", true, "cro",
	 "filter: /cro_  (Enter keeps, Esc clears)"},
	{"too narrow for any key", 12, NULL, false, "", "? help"},
};

static void test_footer(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(footer_cases); i++) {
		const struct footer_case *c = &footer_cases[i];
		struct view_footer_state f = {
			.message = c->message,
			.typing = c->typing,
			.filter = c->filter,
			.detail = true,
			.sort = VIEW_SORT_CONNECTIONS,
		};
		char buf[256];

		view_footer(buf, sizeof(buf), c->cols, &f);
		if (strcmp(buf, c->footer) != 0) {
			fail_msg("%s: \"%s\"", c->what, buf);
		}
		assert_true((int)strlen(buf) < c->cols || c->cols < 12 + 1);
	}
}

static void test_session_state(void **state)
{
	struct report_session s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.state = SESSION_STATE_IDLE;
	assert_string_equal(view_session_state(&s), "idle");
	s.abandoned = true;
	assert_string_equal(view_session_state(&s), "abandoned");
	/* Idle in a transaction stays said, abandoned or not. */
	s.state = SESSION_STATE_IDLE_TX;
	assert_string_equal(view_session_state(&s), "idle-tx");
	s.state = SESSION_STATE_IDLE_TX_ABORTED;
	assert_string_equal(view_session_state(&s), "aborted");
	s.abandoned = false;
	s.state = SESSION_STATE_ACTIVE;
	assert_string_equal(view_session_state(&s), "active");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_detail),
		cmocka_unit_test(test_panes),
		cmocka_unit_test(test_sparkline),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_group_cycle),
		cmocka_unit_test(test_footer),
		cmocka_unit_test(test_session_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
