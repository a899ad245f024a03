/*
 * test_report_json.c - the JSON report drawn from hand-built reports:
 * the contract's keys and nesting, the additions, nulls for unknowns,
 * and valid UTF-8 JSON whatever bytes the names hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support.h"

#include "report_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *render(const struct report *r)
{
	return support_render_json(r);
}

/* No raw byte below 0x20 but the pretty printer's newlines. */
static void assert_json_safe(const char *out)
{
	for (const char *p = out; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 && c != '\n') {
			fail_msg("raw byte 0x%02x at offset %td", c, p - out);
		}
	}
	if (!support_json_valid(out)) {
		fail_msg("invalid JSON:\n%s", out);
	}
	assert_int_equal(out[strlen(out) - 1], '\n');
}

static void test_hostile_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < support_hostile_count; i++) {
		struct report r;
		char *out;

		support_build_report(&r, support_hostile[i]);
		out = render(&r);
		assert_json_safe(out);
		free(out);
		/* Every key grouped by, even the rare ones. */
		r.keys.count = 0;
		for (int k = 0; k < GROUP_KEY_COUNT; k++) {
			r.keys.keys[r.keys.count++] = (enum group_key)k;
			r.groups[0].keys[k] = support_hostile[i];
		}
		r.groups[1].keys[GROUP_KEY_DB] = NULL;
		out = render(&r);
		assert_json_safe(out);
		free(out);
		report_finish(&r);
	}
}

/* Substrings of the pretty output (two-space indent) for the report
 * build() makes: the contract's example and the additions. */
static const char *const expected[] = {
	"{\n  \"pgdrip\": {\n    \"version\": \"0.1.0\",\n"
	"    \"mode\": \"watch\"\n  },\n",
	"\"label\": \"app_tests\"",
	"\"version\": \"15.18\"",
	"\"version_num\": 150018",
	"\"max_connections\": 100",
	"\"reserved_connections\": 3",
	"\"usable_connections\": 97",
	"\"idle_session_timeout_s\": 300",
	"\"current_user\": \"app_tests\"",
	"\"can_read_all_stats\": true",
	"\"started_at\": \"2026-11-22T12:00:00Z\"",
	"\"ended_at\": \"2026-11-22T12:10:00Z\"",
	"\"samples\": 600",
	"\"failed_samples\": 0",
	"\"interval_s\": 1",
	"\"window_s\": 300",
	"\"total\": {\n    \"connections\": 42,\n    \"usage_pct\": 43.3,\n"
	"    \"near_limit\": false,\n    \"all_connections\": 42,\n    "
	"\"unknown_state\": 0,\n"
	"    \"sessions_opened_total\": 120,\n"
	"    \"sessions_opened_per_min\": 12,\n"
	"    \"sessions_opened_run\": 120,\n"
	"    \"sessions_opened_seen\": 95\n  }",
	"\"verdict\": {\n        \"state\": \"leaking\",\n"
	"        \"flagged\": true,\n        \"evidence\": \"sessions\",\n"
	"        \"sessions\": 30,\n        \"abandoned\": 24,\n"
	"        \"passed_over\": 0,\n        \"unused_long\": 0,\n"
	"        \"unused_min_s\": 40,\n        \"unused_max_s\": 310,\n"
	"        \"every_s\": 11.5,\n        \"reused\": 0,\n"
	"        \"threshold_s\": 30,\n"
	"        \"idle_in_transaction_over_age\": 1,\n"
	"        \"abandoned_sessions\": [\n          {\n"
	"            \"pid\": 5000,\n"
	"            \"database\": \"app_tests\",\n"
	"            \"opened_at\": \"2026-11-22T12:01:00Z\",\n"
	"            \"last_used_at\": \"2026-11-22T12:01:01Z\",\n"
	"            \"unused_s\": 310,\n            \"closed_at\": null,\n"
	"            \"state\": \"idle\",\n"
	"            \"query\": \"app_tests\",\n"
	"            \"client_process\": {\n              \"pid\": 4244,\n",
	"\"churn\": {\n        \"opened_per_min\": 5.2,\n"
	"        \"median_lifetime_s\": 1.5,\n        \"closed_seen\": 3\n"
	"      }",
	/* the steady group: no sessions known, nothing made up */
	"\"state\": \"ok\",\n        \"flagged\": false,\n"
	"        \"evidence\": \"counts\",\n        \"sessions\": 0,\n"
	"        \"abandoned\": 0,\n        \"passed_over\": 0,\n"
	"        \"unused_long\": 0,\n        \"unused_min_s\": null,\n"
	"        \"unused_max_s\": null,\n        \"every_s\": null,\n"
	"        \"reused\": 0,\n        \"threshold_s\": null,\n",
	"\"groups\": [\n    {\n      \"user\": \"app_tests\",\n"
	"      \"application\": \"app_tests\",\n      \"connections\": 30,\n"
	"      \"baseline\": 2,\n      \"peak\": 30,\n"
	"      \"minimum\": 2,\n      \"leaked\": 0,\n",
	"\"states\": {\n        \"active\": 2,\n        \"idle\": 27,\n"
	"        \"idle_in_transaction\": 1,\n"
	"        \"idle_in_transaction_aborted\": 0,\n"
	"        \"other\": 0,\n        \"waiting\": 0,\n"
	"        \"unknown\": 0\n      }",
	"\"oldest_idle_tx_s\": null",
	"\"growth\": {\n        \"flagged\": true,\n"
	"        \"trend_flagged\": true,\n"
	"        \"slope_per_min\": 60,\n        \"net_growth\": 28,\n"
	"        \"confidence\": 0.999,\n        \"first_flagged_s\": 7,\n"
	"        \"forecast\": {\n          \"seconds\": 250,\n"
	"          \"limit_kind\": \"role\",\n"
	"          \"limit_name\": \"app_tests\",\n"
	"          \"limit\": 40\n        }\n      }",
	"\"limit\": {\n        \"role\": 40,\n"
	"        \"role_usage_pct\": 75,\n        \"database\": null,\n"
	"        \"database_usage_pct\": null\n      }",
	"\"flagged\": false,\n        \"trend_flagged\": false,\n"
	"        \"slope_per_min\": 0,",
	"\"flags\": [\n        \"LEAK\",\n        \"IDLE-TX\"\n      ]",
	"\"forecast\": null",
	"\"role\": null",
	"\"idle_in_transaction\": [\n    {\n      \"pid\": 4242,\n"
	"      \"user\": \"app_tests\",\n"
	"      \"application\": \"app_tests\",\n"
	"      \"database\": \"app_tests\",\n"
	"      \"state\": \"idle in transaction\",\n"
	"      \"age_s\": 75.2,\n      \"xact_age_s\": 80,\n"
	"      \"stuck_for_s\": 75,\n      \"over_age\": true,\n"
	"      \"client_addr\": \"10.0.0.7\",\n"
	"      \"client_port\": 50432,\n      \"query\": \"app_tests\",\n"
	"      \"client_process\": {\n        \"pid\": 4243,\n"
	"        \"command\": \"app_tests\"\n      }\n    }\n  ]",
	"\"held_by\": {\n        \"pid\": 4244,\n"
	"        \"command\": \"app_tests\",\n"
	"        \"sessions\": 24,\n        \"last_seen_s\": 61.5\n      }",
	"\"held_by\": null\n    }",
	"\"limits\": [\n    {\n      \"kind\": \"server\",\n"
	"      \"name\": \"\",\n      \"limit\": 97,\n"
	"      \"used\": 42,\n      \"usage_pct\": 43.3,\n"
	"      \"near_limit\": false\n    },",
	"\"kind\": \"role\",\n      \"name\": \"app_tests\",",
	"\"checks\": [\n    {\n      \"name\": \"max-per-group\",\n"
	"      \"where\": \"group app_tests/app_tests\",\n"
	"      \"limit\": 10,\n      \"value\": 30,\n"
	"      \"ok\": false,\n      \"evaluated\": true,\n"
	"      \"reason\": null,\n      \"hint\": null\n    },",
	"\"warnings\": [\n    \"role \\\"app_tests\\\" cannot see other "
	"roles' states\"\n  ]",
	"\"exit_code\": 1\n}\n",
};

/* Keys that must not appear for this report (the groups' keys are
 * checked above: "application" is followed by "connections"). */
static const char *const absent[] = {
	"\"client\":",
	"\"command\": {",
	/* no wrapped command, nothing for a process to relate to */
	"\"relation\":",
};

static void test_contract(void **state)
{
	struct report r;
	char *out;

	(void)state;
	support_build_report(&r, "app_tests");
	out = render(&r);
	assert_json_safe(out);
	for (size_t i = 0; i < COUNT(expected); i++) {
		if (strstr(out, expected[i]) == NULL) {
			fprintf(stderr, "%s", out);
			fail_msg("missing:\n%s", expected[i]);
		}
	}
	for (size_t i = 0; i < COUNT(absent); i++) {
		if (strstr(out, absent[i]) != NULL) {
			fail_msg("unexpected %s", absent[i]);
		}
	}
	free(out);
	report_finish(&r);
}

struct variant_case {
	const char *what;
	void (*change)(struct report *r);
	const char *present;
};

/* The command as run: the joined line and each argument apart, with a
 * space, a quote, a newline and an ESC inside arguments. */
static const char *const wrapped_argv[] = {"pytest", "-k", "a b",
					   "\"tests/\"\n\x1b", NULL};

static void wrapped(struct report *r)
{
	r->mode = "wrap";
	r->wrapped = true;
	r->command = "pytest -k a b \"tests/\"\n\x1b";
	r->argv = wrapped_argv;
	r->argc = 4;
	r->command_status = 1;
	r->command_started_s = 2.5;
	r->command_ended_s = 62.25;
}

/* Wrap mode without the arguments passed apart (an older caller). */
static void wrapped_no_argv(struct report *r)
{
	wrapped(r);
	r->argv = NULL;
	r->argc = 0;
}

static void no_times(struct report *r)
{
	r->started_epoch_s = NAN;
	r->ended_epoch_s = -1;
	r->server.idle_session_timeout_s = NAN;
	r->usage_pct = INFINITY;
}

static void leap_day(struct report *r)
{
	r->started_epoch_s = 951782400.75; /* 2000-02-29 */
	r->ended_epoch_s = 4107542399;     /* 2100-02-28T23:59:59 */
}

static void hidden(struct report *r)
{
	r->unknown_states = 5;
	r->groups[0].states[SESSION_STATE_UNKNOWN] = 5;
	r->server.can_read_all_stats = false;
	r->groups[0].forecast_kind = LIMIT_KIND_SERVER;
	r->groups[0].forecast_name = "";
	r->groups[0].forecast_limit = 97;
}

static void by_db(struct report *r)
{
	r->keys.count = 1;
	r->keys.keys[0] = GROUP_KEY_DB;
	r->groups[0].keys[GROUP_KEY_DB] = "shop";
	r->groups[1].keys[GROUP_KEY_DB] = "";
	r->groups[0].db_limit = 20;
	r->groups[0].db_usage_pct = 150;
}

static void aborted(struct report *r)
{
	r->idle_tx[0].state = SESSION_STATE_IDLE_TX_ABORTED;
	r->idle_tx[0].xact_age_s = NAN;
	r->idle_tx[0].client_addr = "";
	r->idle_tx[0].client_port = -1;
}

static void traced(struct report *r)
{
	wrapped(r);
	r->groups[0].holder.command = "python3 -m pytest \x1b[2J";
	r->groups[0].holder.relation = CLIENT_RELATION_UNRELATED;
	r->idle_tx[0].client.pid = 0;
}

static void unevaluated(struct report *r)
{
	check_list_add_unevaluated(&r->checks, "max-idle-tx",
				   "idle in transaction", 0, 0,
				   "2 hidden from \"a\"",
				   "GRANT pg_monitor TO \"A\"");
	r->exit_code = 3;
}

static const struct variant_case variants[] = {
	{"holder", traced,
	 "\"command\": \"python3 -m pytest \\u001b[2J\",\n"
	 "        \"relation\": \"unrelated\","},
	{"untraced", traced, "\"client_process\": null"},
	{"wrap", wrapped,
	 "\"command\": {\n    \"argv\": \"pytest -k a b \\\"tests/\\\"\\n"
	 "\\u001b\",\n    \"args\": [\n      \"pytest\",\n      \"-k\",\n"
	 "      \"a b\",\n      \"\\\"tests/\\\"\\n\\u001b\"\n    ],\n"
	 "    \"status\": 1,\n    \"started_s\": 2.5,\n"
	 "    \"ended_s\": 62.25\n  }"},
	{"wrap, no args", wrapped_no_argv, "\"args\": null,\n"},
	{"wrap: relation", wrapped,
	 "\"client_process\": {\n        \"pid\": 4243,\n"
	 "        \"command\": \"app_tests\",\n"
	 "        \"relation\": \"command\"\n      }"},
	{"wrap: holder relation", wrapped,
	 "\"command\": \"app_tests\",\n"
	 "        \"relation\": \"descendant\",\n"
	 "        \"sessions\": 24,"},
	{"wrap mode", wrapped, "\"mode\": \"wrap\""},
	{"no times", no_times, "\"started_at\": null,\n  \"ended_at\": null"},
	{"no timeout", no_times, "\"idle_session_timeout_s\": null"},
	{"infinite usage", no_times, "\"usage_pct\": null"},
	{"leap day", leap_day,
	 "\"started_at\": \"2000-02-29T00:00:00Z\",\n"
	 "  \"ended_at\": \"2100-02-28T23:59:59Z\""},
	{"hidden", hidden, "\"unknown_state\": 5"},
	{"hidden group", hidden, "\"unknown\": 5"},
	{"no stats", hidden, "\"can_read_all_stats\": false"},
	{"server forecast", hidden,
	 "\"limit_kind\": \"server\",\n"
	 "          \"limit_name\": \"\","},
	{"by db", by_db,
	 "{\n      \"database\": \"shop\",\n"
	 "      \"connections\": 30,"},
	{"by db limit", by_db,
	 "\"database\": 20,\n"
	 "        \"database_usage_pct\": 150\n"},
	{"by db empty", by_db, "{\n      \"database\": \"\",\n"},
	{"aborted", aborted, "\"state\": \"idle in transaction (aborted)\""},
	{"aborted age", aborted, "\"xact_age_s\": null"},
	{"not evaluated", unevaluated,
	 "{\n      \"name\": \"max-idle-tx\",\n"
	 "      \"where\": \"idle in transaction\",\n"
	 "      \"limit\": 0,\n      \"value\": 0,\n"
	 "      \"ok\": false,\n      \"evaluated\": false,\n"
	 "      \"reason\": \"2 hidden from \\\"a\\\"\",\n"
	 "      \"hint\": \"GRANT pg_monitor TO \\\"A\\\"\"\n    }"},
	{"socket", aborted,
	 "\"client_addr\": \"\",\n"
	 "      \"client_port\": -1,"},
};

static void test_variants(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(variants); i++) {
		const struct variant_case *v = &variants[i];
		struct report r;
		char *out;

		support_build_report(&r, "app_tests");
		v->change(&r);
		out = render(&r);
		assert_json_safe(out);
		if (strstr(out, v->present) == NULL) {
			fail_msg("%s: missing:\n%s\nin:\n%s", v->what,
				 v->present, out);
		}
		free(out);
		report_finish(&r);
	}
}

static void test_empty(void **state)
{
	struct report r;
	char *out;

	(void)state;
	report_init(&r);
	r.started_epoch_s = NAN;
	r.ended_epoch_s = NAN;
	match_default_group_keys(&r.keys);
	out = render(&r);
	assert_json_safe(out);
	assert_non_null(strstr(out, "\"groups\": [],"));
	assert_non_null(strstr(out, "\"idle_in_transaction\": [],"));
	assert_non_null(strstr(out, "\"checks\": [],"));
	assert_non_null(strstr(out, "\"warnings\": [],"));
	assert_non_null(strstr(out, "\"label\": \"\""));
	free(out);
	report_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_contract),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests_name("report_json", tests, NULL, NULL);
}
