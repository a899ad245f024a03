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
	bool delta;
	bool spark;
	bool oldest;
	bool trend;
};

/* The change since baseline goes first, then the sparkline, the idle-tx
 * age and the trend (the LEAK cell with its forecast takes 26 columns). */
static const struct columns_case columns_cases[] = {
	{200, true, true, true, true},    {120, true, true, true, true},
	{100, false, false, true, true},  {90, false, false, false, true},
	{80, false, false, false, false}, {40, false, false, false, false},
};

static void test_columns(void **state)
{
	struct report r;

	(void)state;
	support_build_report(&r, "app_tests");
	for (size_t i = 0; i < COUNT(columns_cases); i++) {
		const struct columns_case *c = &columns_cases[i];
		struct view_columns got;

		view_plan_columns(&r, c->cols, true, &got);
		if (got.delta != c->delta || got.spark != c->spark ||
		    got.oldest != c->oldest || got.trend != c->trend) {
			fail_msg("%d columns: delta %d spark %d oldest %d "
				 "trend %d",
				 c->cols, got.delta, got.spark, got.oldest,
				 got.trend);
		}
		/* "app_tests" and "api" fit whole from 80 columns on. */
		if (c->cols >= 80) {
			assert_int_equal(got.key, 11);
		}
		assert_true(got.key >= 6);
	}
	report_finish(&r);
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
		cmocka_unit_test(test_sparkline),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_group_cycle),
		cmocka_unit_test(test_footer),
		cmocka_unit_test(test_session_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
