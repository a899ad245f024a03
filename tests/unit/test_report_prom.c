/*
 * test_report_prom.c - the Prometheus exposition drawn from hand-built
 * reports: exact lines, escaping of hostile names, the --max-groups
 * fold, and the shape a parser needs (HELP and TYPE once per family,
 * each family's series together, only the format's escapes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support.h"

#include "report_fold.h"
#include "report_prom.h"
#include "utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *render(const struct report *r)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	report_prom_write(f, r, "0.1.0");
	fclose(f);
	return out;
}

/* True when line (without its newline) is one whole line of out. */
static bool has_line(const char *out, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = out; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n == len && memcmp(p, line, len) == 0) {
			return true;
		}
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

static void assert_line(const char *out, const char *line)
{
	if (!has_line(out, line)) {
		fail_msg("missing line:\n%s\nin:\n%s", line, out);
	}
}

/* A label value up to its closing quote: only \\, \" and \n escapes
 * (what Prometheus' parsers accept), no raw newline. */
static const char *skip_label_value(const char *p)
{
	for (; *p != '"'; p++) {
		if (*p == '\0' || *p == '\n') {
			return NULL;
		}
		if (*p == '\\') {
			p++;
			if (*p != '\\' && *p != '"' && *p != 'n') {
				return NULL;
			}
		}
	}
	return p + 1;
}

/* name{server="...",...} VALUE: returns the name's length, 0 if bad. */
static size_t parse_sample(const char *line)
{
	const char *p = line;
	size_t name_len = strspn(line, "abcdefghijklmnopqrstuvwxyz_");
	char *end;

	p += name_len;
	if (name_len == 0 || strncmp(p, "{server=\"", 9) != 0) {
		return 0;
	}
	p = skip_label_value(p + 9);
	while (p != NULL && *p == ',') {
		p += 1 + strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
		p = strncmp(p, "=\"", 2) == 0 ? skip_label_value(p + 2) : NULL;
	}
	if (p == NULL || strncmp(p, "} ", 2) != 0) {
		return 0;
	}
	p += 2;
	if (strncmp(p, "+Inf\n", 5) != 0 && strncmp(p, "NaN\n", 4) != 0) {
		(void)strtod(p, &end);
		if (end == p || *end != '\n') {
			return 0;
		}
	}
	return name_len;
}

/* The line after p's; every line ends in a newline. */
static const char *next_line(const char *p)
{
	const char *nl = strchr(p, '\n');

	if (nl == NULL) {
		fail_msg("the last line has no newline");
		return p + strlen(p);
	}
	return nl + 1;
}

/*
 * Checks the whole exposition: valid UTF-8 with no control byte but the
 * line ends; every sample's family has had its HELP and TYPE just before
 * its first sample, once; a family's samples are together.
 */
static void assert_exposition(const char *out)
{
	char current[128] = "";
	char seen[4096] = " ";

	for (size_t i = 0, n; out[i] != '\0'; i += n) {
		unsigned cp;

		n = utf8_decode((const unsigned char *)out + i, strlen(out + i),
				&cp);
		if (n == 0 || (cp < 0x20 && cp != '\n') ||
		    (cp >= 0x7F && cp < 0xA0)) {
			fail_msg("bad byte 0x%02x at %zu",
				 (unsigned char)out[i], i);
		}
	}
	for (const char *p = out; *p != '\0'; p = next_line(p)) {
		char name[128];
		char key[140];
		size_t n;

		if (strncmp(p, "# HELP ", 7) == 0) {
			n = strcspn(p + 7, " ");
			snprintf(name, sizeof(name), "%.*s", (int)n, p + 7);
			snprintf(key, sizeof(key), " %s ", name);
			if (strstr(seen, key) != NULL) {
				fail_msg("family %s declared twice", name);
			}
			strcat(seen, key + 1);
			snprintf(key, sizeof(key), "# TYPE %s ", name);
			p = next_line(p);
			assert_int_equal(strncmp(p, key, strlen(key)), 0);
			strcpy(current, name);
			continue;
		}
		if (strncmp(p, "# warning: ", 11) == 0) {
			continue;
		}
		n = parse_sample(p);
		if (n == 0) {
			fail_msg("not a sample line: %.*s",
				 (int)strcspn(p, "\n"), p);
		}
		/* Together: the family declared last owns the sample. */
		if (strlen(current) != n || strncmp(p, current, n) != 0) {
			fail_msg("sample outside its family: %.60s", p);
		}
	}
}

static void add_breakdown(struct report *r, const char *user, const char *app,
			  enum session_state state, int n)
{
	struct report_breakdown *b;

	r->breakdown = realloc(r->breakdown,
			       (r->breakdown_count + 1) * sizeof(*b));
	b = &r->breakdown[r->breakdown_count++];
	memset(b, 0, sizeof(*b));
	b->user = user;
	b->app = app;
	b->db = "shop";
	b->state = state;
	b->connections = n;
}

static void build(struct report *r, const char *name)
{
	support_build_report(r, name);
	r->server_label = "db1:5432/shop";
	r->up = true;
	r->reconnects = 2;
	r->failed_samples = 3;
	r->last_sample_s = 0.0025;
	r->last_sample_epoch_s = 1795349400.5;
	add_breakdown(r, name, name, SESSION_STATE_IDLE, 27);
	add_breakdown(r, name, name, SESSION_STATE_ACTIVE, 2);
	add_breakdown(r, "app", "api", SESSION_STATE_IDLE, 12);
}

static void test_exact_lines(void **state)
{
	static const char *const lines[] = {
		"# HELP pgdrip_up 1 when the last sample of the server "
		"succeeded, else 0",
		"# TYPE pgdrip_up gauge",
		"pgdrip_up{server=\"db1:5432/shop\"} 1",
		"pgdrip_build_info{server=\"db1:5432/shop\",version=\"0.1.0\"} "
		"1",
		"# TYPE pgdrip_samples_total counter",
		"pgdrip_samples_total{server=\"db1:5432/shop\"} 600",
		"pgdrip_sample_failures_total{server=\"db1:5432/shop\"} 3",
		"pgdrip_reconnects_total{server=\"db1:5432/shop\"} 2",
		"pgdrip_sample_duration_seconds{server=\"db1:5432/shop\"} "
		"0.0025",
		"pgdrip_last_sample_timestamp_seconds{server=\"db1:5432/"
		"shop\"} "
		"1795349400.5",
		"pgdrip_server_max_connections{server=\"db1:5432/shop\"} 100",
		"pgdrip_server_usable_connections{server=\"db1:5432/shop\"} 97",
		"pgdrip_server_connections{server=\"db1:5432/shop\"} 42",
		"pgdrip_selected_connections{server=\"db1:5432/shop\"} 42",
		"pgdrip_connections{server=\"db1:5432/"
		"shop\",user=\"app_tests\","
		"application=\"app_tests\",database=\"shop\",state=\"idle\"} "
		"27",
		"pgdrip_connections{server=\"db1:5432/shop\",user=\"app\","
		"application=\"api\",database=\"shop\",state=\"idle\"} 12",
		"pgdrip_limit_connections{server=\"db1:5432/shop\","
		"kind=\"server\"} 97",
		"pgdrip_limit_connections{server=\"db1:5432/"
		"shop\",kind=\"role\","
		"name=\"app_tests\"} 40",
		"pgdrip_limit_used_connections{server=\"db1:5432/shop\","
		"kind=\"role\",name=\"app_tests\"} 30",
		"pgdrip_limit_usage_ratio{server=\"db1:5432/"
		"shop\",kind=\"role\","
		"name=\"app_tests\"} 0.75",
		"pgdrip_idle_in_transaction_sessions{server=\"db1:5432/shop\"} "
		"1",
		"pgdrip_idle_in_transaction_over_age_sessions{server=\"db1:"
		"5432/"
		"shop\"} 1",
		"pgdrip_idle_in_transaction_oldest_seconds{server=\"db1:5432/"
		"shop\"} 75.2",
		"pgdrip_group_connections{server=\"db1:5432/"
		"shop\",user=\"app_tests\","
		"application=\"app_tests\"} 30",
		"pgdrip_group_connections{server=\"db1:5432/"
		"shop\",user=\"app\","
		"application=\"api\"} 12",
		"pgdrip_group_baseline_connections{server=\"db1:5432/shop\","
		"user=\"app\",application=\"api\"} 2",
		"pgdrip_group_peak_connections{server=\"db1:5432/shop\","
		"user=\"app_tests\",application=\"app_tests\"} 30",
		"pgdrip_group_growth_per_minute{server=\"db1:5432/shop\","
		"user=\"app_tests\",application=\"app_tests\"} 60",
		"pgdrip_group_growth_confidence_ratio{server=\"db1:5432/shop\","
		"user=\"app_tests\",application=\"app_tests\"} 0.999",
		"pgdrip_group_leak_flagged{server=\"db1:5432/shop\","
		"user=\"app_tests\",application=\"app_tests\"} 1",
		"pgdrip_group_leak_flagged{server=\"db1:5432/"
		"shop\",user=\"app\","
		"application=\"api\"} 0",
		"pgdrip_group_exhaustion_forecast_seconds{server=\"db1:5432/"
		"shop\","
		"user=\"app_tests\",application=\"app_tests\"} 250",
		"# warning: role \\\"app_tests\\\" cannot see other roles' "
		"states",
	};
	struct report r;
	char *out;

	(void)state;
	build(&r, "app_tests");
	out = render(&r);
	assert_exposition(out);
	for (size_t i = 0; i < COUNT(lines); i++) {
		assert_line(out, lines[i]);
	}
	/* Not growing: no forecast series rather than +Inf; no idle
	 * transaction: no age.  No self CPU measured: no series. */
	assert_null(strstr(out, "exhaustion_forecast_seconds{server=\"db1:5432/"
				"shop\",user=\"app\""));
	assert_null(strstr(out, "oldest_idle_in_transaction_seconds{"));
	assert_null(strstr(out, "pgdrip_process_cpu_seconds_total{"));
	assert_null(strstr(out, "Inf"));
	free(out);
	report_finish(&r);
}

/* --listen's refusals: a counter, absent when not listening. */
static void test_listen_refused(void **state)
{
	struct report r;
	char *out;

	(void)state;
	build(&r, "app_tests");
	out = render(&r);
	assert_null(strstr(out, "pgdrip_listen_refused_total{"));
	free(out);
	r.listen_refused_total = 7;
	out = render(&r);
	assert_exposition(out);
	assert_line(out, "# TYPE pgdrip_listen_refused_total counter");
	assert_line(out,
		    "pgdrip_listen_refused_total{server=\"db1:5432/shop\"} 7");
	free(out);
	report_finish(&r);
}

static void test_down_and_empty(void **state)
{
	struct report r;
	char *out;

	(void)state;
	report_init(&r);
	r.self_cpu_s = 0.25;
	out = render(&r);
	assert_exposition(out);
	assert_line(out, "pgdrip_up{server=\"\"} 0");
	assert_line(out, "pgdrip_process_cpu_seconds_total{server=\"\"} 0.25");
	assert_null(strstr(out, "pgdrip_sample_duration_seconds{"));
	assert_non_null(strstr(out, "# TYPE pgdrip_group_connections gauge\n"));
	free(out);
	report_finish(&r);
}

/* What each hostile name must look like inside a label value. */
static const struct {
	const char *raw;
	const char *escaped;
} escapes[] = {
	/* A backslash is two in the value, four in the exposition. */
	{"a\"b\\c\nd", "a\\\"b\\\\\\\\c\\nd"},
	{"\\xff", "\\\\\\\\xff"},
	{"esc\x1b[2J\a\r\t", "esc\\\\x1b[2J\\\\x07\\\\x0d\\\\x09"},
	{"bad\xff\xc0\xaf", "bad\\\\xff\\\\xc0\\\\xaf"},
	{"c1 \xc2\x9b", "c1 \\\\xc2\\\\x9b"},
	{"rtl\xe2\x80\xae", "rtl\\\\xe2\\\\x80\\\\xae"},
	{"z\xe2\x80\x8bw", "z\\\\xe2\\\\x80\\\\x8bw"},
	{"del\x7f", "del\\\\x7f"},
	{"名前 é", "名前 é"},
	{"", ""},
};

static void test_escaping(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(escapes); i++) {
		char want[256];
		struct report r;
		char *out;

		build(&r, escapes[i].raw);
		r.server_label = escapes[i].raw;
		out = render(&r);
		assert_exposition(out);
		snprintf(want, sizeof(want), "pgdrip_up{server=\"%s\"} 1",
			 escapes[i].escaped);
		assert_line(out, want);
		snprintf(want, sizeof(want),
			 "pgdrip_limit_connections{server=\"%s\",kind=\"role\","
			 "name=\"%s\"} 40",
			 escapes[i].escaped, escapes[i].escaped);
		assert_line(out, want);
		free(out);
		report_finish(&r);
	}
	/* Every support name, in every key label there is. */
	for (size_t i = 0; i < support_hostile_count; i++) {
		struct report r;
		char *out;

		build(&r, support_hostile[i]);
		r.keys.count = 0;
		for (int k = 0; k < GROUP_KEY_COUNT; k++) {
			r.keys.keys[r.keys.count++] = (enum group_key)k;
			r.groups[0].keys[k] = support_hostile[i];
		}
		r.groups[1].keys[GROUP_KEY_DB] = NULL;
		report_add_warning(&r, "warned about \"%s\"\n",
				   support_hostile[i]);
		out = render(&r);
		assert_exposition(out);
		free(out);
		report_finish(&r);
	}
}

/* Five groups of 50, 40, 30, 20, 10 sessions; the last two growing. */
static void build_five(struct report *r)
{
	static const char *const apps[] = {"a", "b", "c", "d", "e"};

	build(r, "u");
	free(r->groups);
	r->groups = calloc(5, sizeof(*r->groups));
	r->group_count = 5;
	for (size_t i = 0; i < 5; i++) {
		struct report_group *g = &r->groups[i];

		memset(g, 0, sizeof(*g));
		g->keys[GROUP_KEY_USER] = "u";
		g->keys[GROUP_KEY_APP] = apps[i];
		g->connections = 50 - 10 * (int)i;
		g->baseline = 5;
		g->peak = 60 - 10 * (int)i;
		g->oldest_idle_tx_s = i == 4 ? 90 : NAN;
		g->forecast_s = i >= 3 ? 100.0 * (double)i : INFINITY;
		g->trend.slope_per_min = i >= 3 ? 1.5 : 0;
		g->trend.flagged = i == 4;
		g->flagged = i == 4;
		g->verdict = i == 4 ? "leaking" : "ok";
		g->first_flagged_s = NAN;
		g->opened_per_min = NAN;
		g->median_lifetime_s = NAN;
	}
	r->breakdown_count = 0;
	for (size_t i = 0; i < 5; i++) {
		add_breakdown(r, "u", apps[i],
			      i == 3 ? SESSION_STATE_ACTIVE
				     : SESSION_STATE_IDLE,
			      50 - 10 * (int)i);
	}
}

static void test_fold(void **state)
{
	static const char *const lines[] = {
		"pgdrip_group_connections{server=\"db1:5432/shop\",user=\"u\","
		"application=\"a\"} 50",
		"pgdrip_group_connections{server=\"db1:5432/shop\",user=\"u\","
		"application=\"b\"} 40",
		"pgdrip_group_connections{server=\"db1:5432/shop\","
		"user=\"__other__\",application=\"__other__\",other=\"true\"} "
		"60",
		"pgdrip_group_baseline_connections{server=\"db1:5432/shop\","
		"user=\"__other__\",application=\"__other__\",other=\"true\"} "
		"15",
		"pgdrip_group_peak_connections{server=\"db1:5432/shop\","
		"user=\"__other__\",application=\"__other__\",other=\"true\"} "
		"90",
		"pgdrip_group_growth_per_minute{server=\"db1:5432/shop\","
		"user=\"__other__\",application=\"__other__\",other=\"true\"} "
		"3",
		"pgdrip_group_leak_flagged{server=\"db1:5432/shop\","
		"user=\"__other__\",application=\"__other__\",other=\"true\"} "
		"1",
		"pgdrip_group_exhaustion_forecast_seconds{server=\"db1:5432/"
		"shop\","
		"user=\"__other__\",application=\"__other__\",other=\"true\"} "
		"300",
		"pgdrip_group_oldest_idle_in_transaction_seconds{server=\"db1:"
		"5432/shop\",user=\"__other__\",application=\"__other__\","
		"other=\"true\"} 90",
		"pgdrip_connections{server=\"db1:5432/"
		"shop\",user=\"__other__\","
		"application=\"__other__\",database=\"__other__\",state="
		"\"idle\","
		"other=\"true\"} 40",
		"pgdrip_connections{server=\"db1:5432/"
		"shop\",user=\"__other__\","
		"application=\"__other__\",database=\"__other__\",state="
		"\"active\","
		"other=\"true\"} 20",
	};
	struct report r;
	size_t warnings;
	char *out;

	(void)state;
	build_five(&r);
	warnings = r.warning_count;
	assert_int_equal(report_fold(&r, 2), 3);
	assert_int_equal(r.group_count, 3);
	/* the leak among the folded groups is the sum's verdict */
	assert_string_equal(r.groups[2].verdict, "leaking");
	assert_int_equal(r.breakdown_count, 4);
	assert_int_equal(r.warning_count, warnings + 2);
	assert_non_null(strstr(r.warnings[warnings], "3 groups past "
						     "--max-groups 2"));
	out = render(&r);
	assert_exposition(out);
	for (size_t i = 0; i < COUNT(lines); i++) {
		assert_line(out, lines[i]);
	}
	assert_null(strstr(out, "application=\"c\""));
	free(out);
	report_finish(&r);

	/* At or under the limit, and 0 (no limit): nothing changes. */
	build_five(&r);
	warnings = r.warning_count;
	assert_int_equal(report_fold(&r, 5), 0);
	assert_int_equal(report_fold(&r, 0), 0);
	assert_int_equal(r.group_count, 5);
	assert_int_equal(r.breakdown_count, 5);
	assert_int_equal(r.warning_count, warnings);
	report_finish(&r);
}

/* Two servers in one exposition: each family once, both servers in it. */
static void test_many_servers(void **state)
{
	struct report a;
	struct report b;
	const struct report *both[2] = {&a, &b};
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	build(&a, "app_tests");
	build(&b, "app_tests");
	b.server_label = "db2:5432/shop";
	b.up = false;
	f = open_memstream(&out, &len);
	report_prom_write_many(f, both, 2, "0.1.0");
	fclose(f);
	assert_exposition(out);
	assert_line(out, "pgdrip_up{server=\"db1:5432/shop\"} 1");
	assert_line(out, "pgdrip_up{server=\"db2:5432/shop\"} 0");
	assert_line(out, "pgdrip_group_connections{server=\"db2:5432/shop\","
			 "user=\"app\",application=\"api\"} 12");
	assert_line(out, "pgdrip_limit_connections{server=\"db2:5432/shop\","
			 "kind=\"server\"} 97");
	free(out);
	report_finish(&a);
	report_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_lines),
		cmocka_unit_test(test_listen_refused),
		cmocka_unit_test(test_down_and_empty),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_many_servers),
	};

	return cmocka_run_group_tests_name("report_prom", tests, NULL, NULL);
}
