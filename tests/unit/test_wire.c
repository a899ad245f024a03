/*
 * test_wire.c - the sample query's rows merged with the last sample
 * (changed rows whole, unchanged ones copied with their wait event as
 * now, the idle list, rows that are no session, a pid the last sample
 * lacks), the moment changes are asked from, and libpq's failure
 * messages classified; table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "session.h"
#include "wire.h"

#include <math.h>
#include <string.h>

enum { MAX_ROWS = 16 };

/* A row: kind, pid, then the other columns in order (NULL: SQL NULL);
 * only those a case needs are given. */
struct wire_row {
	const char *cells[WIRE_COL_COUNT];
};

static bool fill(struct wire_delta *d, struct sample *out,
		 const struct sample *previous, const struct wire_row *rows,
		 size_t n)
{
	const char *cells[MAX_ROWS * WIRE_COL_COUNT];

	assert_true(n <= MAX_ROWS);
	for (size_t r = 0; r < n; r++) {
		memcpy(&cells[r * WIRE_COL_COUNT], rows[r].cells,
		       sizeof(rows[r].cells));
	}
	sample_reset(out);
	wire_delta_begin(d);
	return wire_delta_fill(d, out, previous, cells, n);
}

static const struct session *by_pid(const struct sample *s, int pid)
{
	for (size_t i = 0; i < s->session_count; i++) {
		if (s->sessions[i].pid == pid) {
			return &s->sessions[i];
		}
	}
	return NULL;
}

/* A whole sample, then one with only what changed. */
static void test_merge(void **state)
{
	static const struct wire_row first[] = {
		{{"n", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		  "1000.5", "1000.25"}},
		{{"s", "11", "alice", "api", "db", "10.0.0.7", "53448", "idle",
		  "Client", "ClientRead", "900.000001", NULL, "990", "989",
		  "SELECT 1"}},
		{{"s", "12", "bob", "job", "db", NULL, "-1",
		  "idle in transaction", NULL, NULL, "901.5", "995", "996",
		  "995", "UPDATE t"}},
		{{"s", "13", "carol", "web", "db", NULL, "-1", "active", "Lock",
		  "relation", "902", "999", "999", "999",
		  "SELECT pg_sleep(9)"}},
		{{"b", "20"}},
		{{"r", NULL, "alice", "5"}},
		{{"d", NULL, "db", "-1"}},
		{{"x", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		  "4242"}},
		{{"U", "11,12,13,20"}},
	};
	/* 11 unchanged and idle (listed only), 12 unchanged ('u' with a
	 * wait event), 13 gone, 14 new. */
	static const struct wire_row second[] = {
		{{"n", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		  "1001.5", "1001.25"}},
		{{"u", "12", NULL, NULL, NULL, NULL, NULL, NULL, "Client",
		  "ClientRead"}},
		{{"s", "14", "dave", "api", "db", NULL, "-1", "idle", NULL,
		  NULL, "1001", NULL, "1001.1", "1001.1", "SELECT 2"}},
		{{"b", "20"}}, /* a process that is no session: every time */
		{{"U", "11,12,14,20"}},
	};
	struct wire_delta d;
	struct sample a;
	struct sample b;
	const struct session *s;

	(void)state;
	wire_delta_init(&d);
	sample_init(&a);
	sample_init(&b);
	assert_true(fill(&d, &a, NULL, first, 9));
	assert_int_equal(a.session_count, 3);
	assert_float_equal(a.server_epoch_s, 1000.5, 1e-9);
	assert_float_equal(a.server_tx_epoch_s, 1000.25, 1e-9);
	assert_float_equal(a.sessions_opened_total, 4242, 1e-9);
	assert_int_equal(a.role_limit_count, 1);
	assert_int_equal(a.db_limit_count, 1);
	s = by_pid(&a, 11);
	assert_int_equal(s->backend_start_us, 900000001);
	assert_int_equal(s->client_port, 53448);
	assert_string_equal(s->client_addr, "10.0.0.7");
	assert_float_equal(s->state_age_s, 10.5, 1e-9);
	s = by_pid(&a, 12);
	assert_int_equal(s->state, SESSION_STATE_IDLE_TX);
	assert_string_equal(s->wait_event, ""); /* NULL reads "" */
	assert_float_equal(s->xact_age_s, 5.5, 1e-9);

	assert_true(fill(&d, &b, &a, second, 5));
	assert_int_equal(b.session_count, 3);
	s = by_pid(&b, 12);
	/* Copied whole, its wait event as now, its ages anew. */
	assert_non_null(s);
	assert_string_equal(s->user, "bob");
	assert_string_equal(s->query, "UPDATE t");
	assert_int_equal(s->backend_start_us, 901500000);
	assert_string_equal(s->wait_event, "ClientRead");
	assert_float_equal(s->xact_age_s, 6.5, 1e-9);
	s = by_pid(&b, 11);
	assert_non_null(s);
	assert_string_equal(s->app, "api");
	assert_string_equal(s->wait_event, "ClientRead");
	assert_null(by_pid(&b, 13));
	assert_non_null(by_pid(&b, 14));
	assert_null(by_pid(&b, 20));
	sample_finish(&a);
	sample_finish(&b);
	wire_delta_finish(&d);
}

/* What the last sample cannot give: the merge fails, the caller asks
 * for everything. */
static void test_merge_fails(void **state)
{
	static const struct wire_row known[] = {
		{{"s", "11", "alice", "api", "db", NULL, "-1", "idle", NULL,
		  NULL, "900", NULL, "990", "989", "SELECT 1"}},
	};
	static const struct {
		const char *name;
		struct wire_row row;
	} cases[] = {
		{"an unchanged row of a pid the last sample lacks",
		 {{"u", "12"}}},
		{"a listed idle pid the last sample lacks", {{"U", "11,12"}}},
		{"a listed pid that is no number", {{"U", "11,x"}}},
		{"a list that ends in a comma of nothing", {{"U", "11,,"}}},
		{"a negative pid", {{"U", "-4"}}},
	};
	struct wire_delta d;
	struct sample a;
	struct sample b;

	(void)state;
	wire_delta_init(&d);
	sample_init(&a);
	sample_init(&b);
	assert_true(fill(&d, &a, NULL, known, 1));
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		if (fill(&d, &b, &a, &cases[i].row, 1)) {
			fail_msg("accepted: %s", cases[i].name);
		}
	}
	/* With nothing to copy from, an unchanged row fails too. */
	assert_false(fill(&d, &b, NULL, &cases[0].row, 1));
	/* A listed pid that is a row of this sample is no copy. */
	{
		static const struct wire_row both[] = {
			{{"b", "12"}},
			{{"U", "11,12"}},
		};

		assert_true(fill(&d, &b, &a, both, 2));
		assert_int_equal(b.session_count, 1);
	}
	sample_finish(&a);
	sample_finish(&b);
	wire_delta_finish(&d);
}

static void test_changes_since(void **state)
{
	(void)state;
	/* The caller holds the sample delivered: since its start, less
	 * the margin. */
	assert_float_equal(wire_changes_since(true, 1000.25, 1000.25),
			   1000.25 - WIRE_DELTA_MARGIN_S, 1e-9);
	/* Not that one, none, or none delivered: everything. */
	assert_float_equal(wire_changes_since(true, 999, 1000.25), 0, 0);
	assert_float_equal(wire_changes_since(false, NAN, 1000.25), 0, 0);
	assert_float_equal(wire_changes_since(true, 1000.25, NAN), 0, 0);
}

static void test_query_text(void **state)
{
	char q14[8192];
	char q13[8192];

	(void)state;
	wire_sample_query(q14, sizeof(q14), "$1", 140000);
	wire_sample_query(q13, sizeof(q13), "1000.250000", 130000);
	assert_non_null(strstr(q14, "to_timestamp($1)"));
	assert_non_null(strstr(q13, "to_timestamp(1000.250000)"));
	/* pg_stat_database.sessions from 14 on. */
	assert_non_null(strstr(q14, "sum(sessions)"));
	assert_null(strstr(q13, "sum(sessions)"));
	assert_non_null(strstr(q14, "left(a.query, 256)"));
}

static void test_errors(void **state)
{
	static const struct {
		const char *msg;
		bool slots;
		bool transient;
	} cases[] = {
		{"FATAL:  sorry, too many clients already", true, false},
		{"FATAL:  too many connections for role \"app\"", true, false},
		{"FATAL:  remaining connection slots are reserved for roles "
		 "with the SUPERUSER attribute",
		 true, false},
		{"FATAL:  the database system is starting up", false, true},
		{"FATAL:  the database system is shutting down", false, true},
		{"connection to server on socket \"/tmp/.s.PGSQL.5432\" "
		 "failed: No such file or directory",
		 false, true},
		{"connection to server at \"db\" (10.0.0.1), port 5432 "
		 "failed: Connection refused",
		 false, true},
		{"server closed the connection unexpectedly", false, true},
		/* The server answered for itself: the same again. */
		{"failed: Connection refused ... FATAL:  password "
		 "authentication failed for user \"app\"",
		 false, false},
		{"FATAL:  database \"nope\" does not exist", false, false},
		{"", false, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(wire_error_slot_refusal(cases[i].msg),
				 cases[i].slots);
		assert_int_equal(wire_error_transient(cases[i].msg),
				 cases[i].transient);
	}
}

static void test_parse_int(void **state)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{"42", 42},
		{"-1", -1},
		{"2147483647", 2147483647},
		{"", 7},
		{NULL, 7},
		{"12a", 7},
		{"2147483648", 7},
		{"-2147483648", 7},
		{" 1", 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(wire_parse_int(cases[i].text, 7),
				 cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_merge_fails),
		cmocka_unit_test(test_changes_since),
		cmocka_unit_test(test_query_text),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_parse_int),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
