/*
 * test_report_text.c - the human report and the breach lines, drawn from
 * hand-built reports: hostile names never put a control byte on the
 * terminal, the groups table fits its width, and the sentences say what
 * the numbers mean.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support.h"

#include "report_text.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Names a client can send; every one must come out harmless. */
static char *render(const struct report *r, int width, bool utf8, bool color)
{
	return support_render_text(r, width, utf8, color);
}

static char *render_breaches(const struct report *r, bool utf8)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	report_text_write_breaches(f, r, utf8);
	fclose(f);
	return out;
}

/* Is s valid UTF-8 without any C1 control (encoded or raw)? */
static bool clean_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		unsigned cp;
		int n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xE0) == 0xC0) {
			n = 2, cp = *p & 0x1F;
		} else if ((*p & 0xF0) == 0xE0) {
			n = 3, cp = *p & 0x0F;
		} else if ((*p & 0xF8) == 0xF0) {
			n = 4, cp = *p & 0x07;
		} else {
			return false;
		}
		for (int i = 1; i < n; i++) {
			if ((p[i] & 0xC0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp < 0xA0 ||
		    (cp >= 0x202A && cp <= 0x202E)) {
			return false;
		}
		p += n;
	}
	return true;
}

/* No byte below 0x20 but '\n', no DEL; ESC only in SGR when allowed. */
static void assert_terminal_safe(const char *out, bool utf8, bool color)
{
	for (const char *p = out; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == 0x1b && color) {
			/* Only "ESC [ digits ; m" */
			const char *q = p + 1;

			assert_int_equal(*q, '[');
			for (q++; (*q >= '0' && *q <= '9') || *q == ';'; q++) {
			}
			assert_int_equal(*q, 'm');
			continue;
		}
		if ((c < 0x20 && c != '\n') || c == 0x7f) {
			fail_msg("control byte 0x%02x at offset %td in:\n%s", c,
				 p - out, out);
		}
		if (!utf8 && c >= 0x80) {
			fail_msg("non-ASCII byte 0x%02x at offset %td", c,
				 p - out);
		}
	}
	assert_true(clean_utf8(out));
	if (strstr(out, " \n") != NULL) {
		fail_msg("trailing space in:\n%s", out);
	}
}

static const char *find_line(const char *out, const char *start)
{
	const char *p = out;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, start, strlen(start)) == 0) {
			return p;
		}
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	return NULL;
}

/* Display width of every line of the groups table (header row to the
 * first blank line) is at most width. */
static void assert_table_fits(const char *out, int width, bool utf8)
{
	const char *p = find_line(out, "USER ");
	int rows = 0;

	assert_non_null(p);
	while (*p != '\0' && *p != '\n') {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p);
		char *line = malloc(len + 1);
		size_t n = 0;

		/* SGR sequences take no columns. */
		for (size_t i = 0; i < len; i++) {
			if (p[i] == 0x1b) {
				while (i < len && p[i] != 'm') {
					i++;
				}
				continue;
			}
			line[n++] = p[i];
		}
		line[n] = '\0';
		len = n;
		if (text_width(line, utf8) > width) {
			fail_msg("line wider than %d: \"%s\"", width, line);
		}
		assert_true(len == 0 || line[len - 1] != ' ');
		free(line);
		rows++;
		p = nl + 1;
	}
	assert_int_equal(rows, 3);
}

static const int widths[] = {40, 60, 80, 100, 200};

static void test_hostile_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < support_hostile_count; i++) {
		struct report r;

		support_build_report(&r, support_hostile[i]);
		for (size_t w = 0; w < COUNT(widths); w++) {
			for (int mask = 0; mask < 4; mask++) {
				bool utf8 = mask & 1;
				bool color = mask & 2;
				char *out = render(&r, widths[w], utf8, color);

				assert_terminal_safe(out, utf8, color);
				assert_table_fits(out, widths[w], utf8);
				free(out);
			}
		}
		/* Off a terminal nothing is cut, and nothing gets through. */
		for (int utf8 = 0; utf8 <= 1; utf8++) {
			char *out = render(&r, REPORT_TEXT_UNLIMITED, utf8,
					   false);

			assert_terminal_safe(out, utf8, false);
			assert_table_fits(out, INT_MAX, utf8);
			free(out);
		}
		for (int utf8 = 0; utf8 <= 1; utf8++) {
			char *out = render_breaches(&r, utf8);

			assert_terminal_safe(out, utf8, false);
			/* one failed check, one line */
			assert_non_null(strchr(out, '\n'));
			assert_string_equal(strchr(out, '\n'), "\n");
			free(out);
		}
		report_finish(&r);
	}
}

/* Substrings the default rendering (80 columns, UTF-8) must hold. */
static const char *const expected[] = {
	"pgdrip watch report, PostgreSQL 15.18, as app_tests\n",
	"server: app_tests\n",
	"600 samples over 10m00s",
	"42 of 97 usable connections in use (43.3%)\n",
	"idle_session_timeout: 5m00s",
	"can hide a leak",
	"USER      APPLICATION  CONN ACTIVE  IDLE IDLE-TX  PEAK TREND/MIN "
	"FLAGS\n",
	"app_tests app_tests      30      2    27       1    30     +60.0 "
	"LEAK IDLE-TX\n",
	"app       api            12      0    12       0    12      +0.0\n",
	"  PID      STATE      IDLE FOR  XACT AGE  ROLE/APPLICATION/DATABASE: "
	"QUERY\n",
	"Idle in transaction (1, oldest first):\n",
	"  4242     idle-tx       1m15s     1m20s  "
	"app_tests/app_tests/app_tests: app_te\xe2\x80\xa6\n",
	"Leaks (sessions left unused while others were opened):\n"
	"  app_tests/app_tests: 24 of its 30 open sessions unused for "
	"40.0s-5m10s\n"
	"    none reused, one more left every ~11.5s\n"
	"    growth +60.0/min over 28.0s, a steady trend (confidence 99.9%); ",
	"exhausts role app_tests's limit of 40 in 4m10s\n"
	"    up to 24 held by pid 4244 (app_tests), started by the wrapped "
	"command\n",
	"\n           client: pid 4243 (app_tests), the wrapped command\n",
	"    up to 24 held by pid 4244 (app_tests), started by the wrapped "
	"command\n"
	"    pid 5000 opened 12:01:00 UTC, unused 5m10s: app_tests (held by "
	"pid 4244)\n"
	"    pid 5001 opened 12:01:12 UTC, unused 4m58s: app_tests (held by "
	"pid 4244)\n"
	"    ... and 22 more (the JSON report lists the first 2)\n",
	"Limits (closest to exhaustion first):\n"
	"  server    (usable)                    42/97     43.3%\n"
	"  role      app_tests                   30/40     75.0%\n",
	"Warnings:\n  role \"app_tests\" cannot see",
	"Checks: 1 passed, 1 failed\n",
	"12.0 sessions opened a minute on the server (pg_stat_database); "
	"120 opened during the run, 25 of them too short-lived for a sample "
	"to see\n",
};

static void test_sentences(void **state)
{
	struct report r;
	char *out;

	(void)state;
	support_build_report(&r, "app_tests");
	out = render(&r, 0, true, false);
	for (size_t i = 0; i < COUNT(expected); i++) {
		if (strstr(out, expected[i]) == NULL) {
			/* cmocka cuts long messages: the report goes whole
			 * to stderr. */
			fprintf(stderr, "%s", out);
			fail_msg("missing \"%s\"", expected[i]);
		}
	}
	assert_null(strchr(out, 0x1b));
	free(out);
	out = render_breaches(&r, true);
	assert_string_equal(out, "pgdrip: check max-per-group failed: group "
				 "app_tests/app_tests: 30 connections "
				 "(limit 10)\n");
	free(out);
	report_finish(&r);
}

struct variant_case {
	const char *what;
	double idle_session_timeout_s;
	int unknown;
	size_t samples;
	const char *present;
	const char *absent;
};

static const struct variant_case variants[] = {
	{"timeout off", 0, 0, 600, "usable connections",
	 "idle_session_timeout"},
	{"timeout unknown", NAN, 0, 600, "usable", "idle_session_timeout"},
	{"hidden states", 300, 2, 600, "     2?   27?      1?", ""},
	{"one sample", 300, 0, 1, "taken 2026-11-22 12:10:00 UTC", "TREND"},
};

static void test_variants(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(variants); i++) {
		const struct variant_case *v = &variants[i];
		struct report r;
		char *out;

		support_build_report(&r, "app_tests");
		r.server.idle_session_timeout_s = v->idle_session_timeout_s;
		r.groups[0].states[SESSION_STATE_UNKNOWN] = v->unknown;
		r.samples = v->samples;
		out = render(&r, 80, true, false);
		if (strstr(out, v->present) == NULL) {
			fail_msg("%s: missing \"%s\" in:\n%s", v->what,
				 v->present, out);
		}
		if (v->absent[0] != '\0' && strstr(out, v->absent) != NULL) {
			fail_msg("%s: unexpected \"%s\" in:\n%s", v->what,
				 v->absent, out);
		}
		free(out);
		report_finish(&r);
	}
}

/* Narrow terminals lose numbers before names become unreadable, and the
 * connection count is never dropped. */
/*
 * One fact, one number: the verdict and the count's trend told apart
 * (no "confidence 0.0%" beside LEAK), no trend from one sample ("growth
 * +0.0/min over 0ms" in --once), no slope-times-span estimate above the
 * count ("+12 connections" for a group holding 9), and in wrap mode
 * "still open" only for what is open (not "22 more" beside CONN 0).
 */
struct fact_case {
	const char *what;
	bool trend_flagged;
	double slope_per_min;
	double span_s;
	size_t points;
	bool wrapped;
	int connections;
	int leaked;
	int open_after;
	const char *present;
	const char *absent[3];
};

static const struct fact_case fact_cases[] = {
	{"stuck pool, flat count",
	 false,
	 0,
	 20,
	 21,
	 false,
	 30,
	 0,
	 0,
	 "count +0.0/min over 20.0s, no steady trend\n",
	 {"confidence", "growth +", NULL}},
	{"one sample",
	 false,
	 0,
	 0,
	 1,
	 false,
	 30,
	 0,
	 0,
	 "\n    none reused, one more left every ~11.5s\n    up to 24 held",
	 {"over 0ms", "/min", "confidence"}},
	{"estimate above the count",
	 true,
	 60,
	 12,
	 13,
	 false,
	 9,
	 0,
	 0,
	 "growth +60.0/min over 12.0s, a steady trend (confidence 99.9%)",
	 {"+12 connections", "connections, confidence", NULL}},
	{"wrap, all closed at exit",
	 true,
	 60,
	 28,
	 29,
	 true,
	 0,
	 22,
	 0,
	 "the command left 24 sessions unused",
	 {"Still open after the command", "22 more than", NULL}},
	{"wrap, some still open",
	 true,
	 60,
	 28,
	 29,
	 true,
	 3,
	 22,
	 3,
	 "Still open after the command:\n  app_tests/app_tests: 3 more than "
	 "the 0 before it ran\n",
	 {"22 more than", NULL, NULL}},
};

static void test_one_number_per_fact(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(fact_cases); i++) {
		const struct fact_case *c = &fact_cases[i];
		struct report r;
		struct report_group *g;
		char *out;

		support_build_report(&r, "app_tests");
		g = &r.groups[0];
		g->trend.flagged = c->trend_flagged;
		g->trend.slope_per_min = c->slope_per_min;
		g->trend.net_growth = c->slope_per_min / 60 * c->span_s;
		g->trend.span_s = c->span_s;
		g->trend.points = c->points;
		g->trend.confidence = c->trend_flagged ? 0.999 : 0;
		g->forecast_s = c->trend_flagged ? 250 : INFINITY;
		r.wrapped = c->wrapped;
		g->connections = c->connections;
		g->baseline = 0;
		g->leaked = c->leaked;
		g->open_after = c->open_after;
		out = render(&r, 0, true, false);
		if (strstr(out, c->present) == NULL) {
			fail_msg("%s: missing \"%s\" in:\n%s", c->what,
				 c->present, out);
		}
		for (size_t k = 0; k < COUNT(c->absent); k++) {
			if (c->absent[k] != NULL &&
			    strstr(out, c->absent[k]) != NULL) {
				fail_msg("%s: unexpected \"%s\" in:\n%s",
					 c->what, c->absent[k], out);
			}
		}
		free(out);
		report_finish(&r);
	}
}

static void test_narrow(void **state)
{
	struct report r;
	char *out;
	const char *row;

	(void)state;
	support_build_report(&r, "app_tests");
	out = render(&r, 50, true, false);
	row = find_line(out, "USER ");
	assert_non_null(row);
	assert_non_null(strstr(row, "CONN"));
	assert_null(strstr(row, "+/-"));
	assert_non_null(find_line(out, "app_tests "));
	free(out);
	report_finish(&r);
}

/* A 63-byte name (NAMEDATALEN - 1) and a 200-byte query. */
static const char app63[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789x";

static char *long_query(void)
{
	char *q = malloc(201);

	for (int i = 0; i < 200; i++) {
		q[i] = (char)('a' + i % 26);
	}
	memcpy(q, "SELECT ", 7);
	q[200] = '\0';
	return q;
}

struct width_case {
	int width;
	bool whole; /* the name and the query appear uncut */
};

static const struct width_case width_cases[] = {
	{REPORT_TEXT_UNLIMITED, true}, {80, false}, {0, false}, /* 0 means 80 */
};

/* Off a terminal every column is as wide as its widest value; a
 * terminal's width cuts, but a short key beside a long one stays
 * whole. */
static void test_unlimited(void **state)
{
	char *query = long_query();

	(void)state;
	assert_int_equal(strlen(app63), 63);
	assert_int_equal(strlen(query), 200);
	for (size_t i = 0; i < COUNT(width_cases); i++) {
		const struct width_case *c = &width_cases[i];
		struct report r;
		const char *row;
		char *out;

		support_build_report(&r, "app_tests");
		r.groups[0].keys[GROUP_KEY_APP] = app63;
		r.idle_tx[0].query = query;
		out = render(&r, c->width, true, false);
		assert_terminal_safe(out, true, false);
		/* The groups table's row (the leak's own line below it names
		 * the group in full either way). */
		row = find_line(out, "app_tests abcdef");
		assert_non_null(row);
		if (c->whole) {
			assert_int_equal(strncmp(row + 10, app63, 63), 0);
			assert_non_null(strstr(out, query));
			assert_null(strstr(out, "\xe2\x80\xa6"));
			assert_table_fits(out, INT_MAX, true);
		} else {
			assert_int_not_equal(strncmp(row + 10, app63, 63), 0);
			assert_null(strstr(out, query));
			assert_non_null(strstr(out, "\xe2\x80\xa6"));
			assert_table_fits(out, 80, true);
		}
		free(out);
		report_finish(&r);
	}
	free(query);
}

/* A check the role cannot see the data of: its own line, then the
 * GRANT as a hint line; hostile bytes in a role name stay escaped. */
static void test_unevaluated(void **state)
{
	struct report r;
	char *out;

	(void)state;
	support_build_report(&r, "app_tests");
	check_list_add_unevaluated(&r.checks, "max-idle-tx",
				   "idle in transaction", 0, 0,
				   "the server hides the state of 2 selected "
				   "sessions from role \"\x1b[2J\"",
				   "GRANT pg_monitor TO \"\x1b[2J\"");
	out = render_breaches(&r, true);
	assert_terminal_safe(out, true, false);
	assert_non_null(strstr(out,
			       "pgdrip: check max-idle-tx not evaluated: idle "
			       "in transaction: the server hides the state of "
			       "2 selected sessions from role \"\\e[2J\"\n"
			       "pgdrip: hint: GRANT pg_monitor TO \"\\e[2J\" "
			       "(as a superuser) to let pgdrip see every "
			       "session's state\n"));
	free(out);
	out = render(&r, 80, true, false);
	assert_non_null(strstr(out, "Checks: 1 passed, 1 failed, 1 not "
				    "evaluated\n"));
	free(out);
	report_finish(&r);
}

static void test_colour(void **state)
{
	struct report r;
	char *out;

	(void)state;
	support_build_report(&r, "app_tests");
	out = render(&r, 80, true, true);
	assert_non_null(strstr(out, "\x1b[1;31mLEAK IDLE-TX\x1b[0m"));
	free(out);
	report_finish(&r);
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
	out = render(&r, 80, true, false);
	assert_non_null(strstr(out, "No client sessions match.\n"));
	assert_terminal_safe(out, true, false);
	free(out);
	out = render_breaches(&r, true);
	assert_string_equal(out, "");
	free(out);
	report_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_sentences),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_one_number_per_fact),
		cmocka_unit_test(test_narrow),
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_unevaluated),
		cmocka_unit_test(test_colour),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests_name("report_text", tests, NULL, NULL);
}
