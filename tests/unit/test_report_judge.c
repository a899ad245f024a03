/*
 * test_report_judge.c - the judgements every renderer shows: a group's
 * flags and their words, the near-limit rule at its edge, and that the
 * text, JSON and the --max-groups sum show the flags report_judge() set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support.h"

#include "report_fold.h"
#include "report_json.h"
#include "report_judge.h"
#include "report_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct near_case {
	double usage_pct;
	bool near;
};

static const struct near_case near_cases[] = {
	{0, false},  {79.9, false}, {80, true},
	{100, true}, {250, true},   {NAN, false},
};

static void test_near_limit(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(near_cases); i++) {
		if (report_judge_near_limit(near_cases[i].usage_pct) !=
		    near_cases[i].near) {
			fail_msg("%g%%: near %d expected",
				 near_cases[i].usage_pct, near_cases[i].near);
		}
	}
}

struct flags_case {
	const char *what;
	bool flagged;
	int idle_tx;
	int aborted;
	int waiting;
	double role_pct;
	double db_pct;
	unsigned flags;
	const char *words;
};

static const struct flags_case flags_cases[] = {
	{"nothing", false, 0, 0, 0, NAN, NAN, 0, ""},
	{"leak", true, 0, 0, 0, NAN, NAN, REPORT_FLAG_LEAK, "LEAK"},
	{"aborted is idle-tx", false, 0, 1, 0, NAN, NAN, REPORT_FLAG_IDLE_TX,
	 "IDLE-TX"},
	{"role at 80%", false, 0, 0, 0, 80, NAN, REPORT_FLAG_NEAR_LIMIT,
	 "NEAR-LIMIT"},
	{"database at 95%", false, 0, 0, 0, 10, 95, REPORT_FLAG_NEAR_LIMIT,
	 "NEAR-LIMIT"},
	{"role at 79.9%", false, 0, 0, 0, 79.9, NAN, 0, ""},
	{"all four", true, 2, 0, 3, 90, NAN,
	 REPORT_FLAG_LEAK | REPORT_FLAG_IDLE_TX | REPORT_FLAG_NEAR_LIMIT |
		 REPORT_FLAG_WAITING,
	 "LEAK IDLE-TX NEAR-LIMIT WAITING"},
};

static void test_group_flags(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(flags_cases); i++) {
		const struct flags_case *c = &flags_cases[i];
		struct report_group g;
		char words[64];
		unsigned flags;

		memset(&g, 0, sizeof(g));
		g.flagged = c->flagged;
		g.states[SESSION_STATE_IDLE_TX] = c->idle_tx;
		g.states[SESSION_STATE_IDLE_TX_ABORTED] = c->aborted;
		g.states[SESSION_STATE_WAITING] = c->waiting;
		g.role_usage_pct = c->role_pct;
		g.db_usage_pct = c->db_pct;
		flags = report_judge_group_flags(&g);
		if (flags != c->flags) {
			fail_msg("%s: flags %#x, expected %#x", c->what, flags,
				 c->flags);
		}
		assert_int_equal(report_judge_flags_text(flags, words,
							 sizeof(words)),
				 strlen(c->words));
		assert_string_equal(words, c->words);
	}
}

/* A buffer too short is cut and terminated; the length needed is
 * still told. */
static void test_flags_cut(void **state)
{
	char small[8];
	unsigned all = REPORT_FLAG_LEAK | REPORT_FLAG_IDLE_TX;

	(void)state;
	assert_int_equal(report_judge_flags_text(all, small, sizeof(small)),
			 strlen("LEAK IDLE-TX"));
	assert_string_equal(small, "LEAK ID");
	assert_string_equal(report_judge_flag_word(REPORT_FLAG_WAITING),
			    "WAITING");
}

static char *render_text(const struct report *r)
{
	return support_render_text(r, REPORT_TEXT_UNLIMITED, true, false);
}

/* The JSON with its layout's blanks taken out (none of the values
 * looked for holds one). */
static char *render_json(const struct report *r)
{
	char *buf = support_render_json(r);
	size_t n = 0;

	assert_true(support_json_valid(buf));
	for (size_t i = 0; buf[i] != '\0'; i++) {
		if (buf[i] != ' ' && buf[i] != '\n') {
			buf[n++] = buf[i];
		}
	}
	buf[n] = '\0';
	return buf;
}

/*
 * The renderers show what the model decided, not a rule of their own:
 * a role at 80% of its limit is NEAR-LIMIT in the table, the limits and
 * the JSON; moved to 79% and judged again, in none of them; and what
 * is set by hand in the model is what they show.
 */
static void test_renderers_follow(void **state)
{
	struct report r;
	char *text;
	char *json;

	(void)state;
	support_build_report(&r, "app_tests");
	r.groups[0].role_usage_pct = 80;
	r.limits[1].usage_pct = 80;
	report_judge(&r);
	text = render_text(&r);
	json = render_json(&r);
	assert_non_null(strstr(text, "LEAK IDLE-TX NEAR-LIMIT\n"));
	assert_non_null(strstr(text, "80.0%  NEAR-LIMIT\n"));
	assert_non_null(strstr(json, "\"flags\":[\"LEAK\",\"IDLE-TX\","
				     "\"NEAR-LIMIT\"]"));
	assert_non_null(strstr(json, "\"usage_pct\":80,\"near_limit\":"
				     "true"));
	free(text);
	free(json);
	r.groups[0].role_usage_pct = 79;
	r.limits[1].usage_pct = 79;
	report_judge(&r);
	text = render_text(&r);
	json = render_json(&r);
	assert_null(strstr(text, "NEAR-LIMIT"));
	assert_null(strstr(json, "NEAR-LIMIT"));
	assert_null(strstr(json, "\"near_limit\":true"));
	free(text);
	free(json);
	/* Set by hand, against the numbers: the renderers still show
	 * only what the model says. */
	r.groups[1].flags = REPORT_FLAG_WAITING;
	r.limits[1].near_limit = true;
	text = render_text(&r);
	json = render_json(&r);
	assert_non_null(strstr(text, "+0.0 WAITING\n"));
	assert_non_null(strstr(text, "79.0%  NEAR-LIMIT\n"));
	assert_non_null(strstr(json, "\"flags\":[\"WAITING\"]"));
	free(text);
	free(json);
	report_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_near_limit),
		cmocka_unit_test(test_group_flags),
		cmocka_unit_test(test_flags_cut),
		cmocka_unit_test(test_renderers_follow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
