/*
 * test_report_pooler.c - the pooler's part of the report, from console
 * samples fed through the pipeline: the source named in text and JSON,
 * pools, limits (max_client_conn first) and their forecasts, waiting
 * clients and client_idle_timeout as warnings, the client pool leak
 * judged on request_time, a server session through the pooler; and a
 * console run written to a record and replayed reporting the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bouncer.h"
#include "session.h"
#include "record.h"
#include "report_json.h"
#include "report_pooler.h"
#include "report_prom.h"
#include "report_text.h"
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1796126834.0

/* A table built row by row, as poll.c passes the console's results. */
struct built {
	const char *names[32];
	const char *cells[64 * 32];
	char text[64 * 32][64];
	size_t cols;
	size_t rows;
};

static void built_init(struct built *b, const char *const *names)
{
	memset(b, 0, sizeof(*b));
	while (names[b->cols] != NULL) {
		b->names[b->cols] = names[b->cols];
		b->cols++;
	}
}

/* Appends a row of cols printf'd cells, separated by '|'. */
static void built_row(struct built *b, const char *fmt, ...)
{
	char line[1024];
	char *save = NULL;
	char *f;
	va_list ap;
	size_t c = 0;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (f = strtok_r(line, "|", &save); f != NULL;
	     f = strtok_r(NULL, "|", &save)) {
		size_t at = b->rows * b->cols + c++;

		snprintf(b->text[at], sizeof(b->text[at]), "%s",
			 strcmp(f, "-") == 0 ? "" : f);
		b->cells[at] = b->text[at];
	}
	assert_int_equal(c, b->cols);
	b->rows++;
}

static void add_built(struct sample *s, enum bouncer_show show,
		      const struct built *b)
{
	struct bouncer_table t = {b->cols, b->rows, b->names, b->cells};
	struct bouncer_self me = {40000, 1, 0};

	bouncer_sample_add(s, show, &t, &me);
}

static void utc(char *buf, size_t len, double epoch)
{
	long long t = (long long)epoch;
	long long day = t / 86400;
	long long sec = t % 86400;

	/* 2026-12-01 is day 20788; the tests stay within it. */
	assert_true(day == 20788);
	snprintf(buf, len, "2026-12-01 %02lld:%02lld:%02lld UTC", sec / 3600,
		 sec / 60 % 60, sec % 60);
}

/*
 * Sample k (at T0 + k) of a console in front of one pool in mode: a
 * steady pool of three clients of "api", used at every sample, and from
 * the third sample on one leaked client of "leaky" more per sample, each
 * used once, when it opened; waiting clients of "api" queue.
 */
static void console_sample(struct sample *s, int k, const char *mode,
			   int waiting, int pool_size)
{
	static const char *const config[] = {"key", "value", NULL};
	static const char *const pools[] = {"database",   "user",
					    "cl_active",  "cl_waiting",
					    "sv_active",  "sv_idle",
					    "sv_used",    "sv_tested",
					    "sv_login",   "maxwait",
					    "maxwait_us", "pool_mode",
					    NULL};
	static const char *const databases[] = {"name", "pool_size",
						"max_connections",
						"current_connections", NULL};
	static const char *const clients[] = {
		"user",         "database",         "state", "addr",    "port",
		"connect_time", "request_time",     "wait",  "wait_us", "ptr",
		"link",         "application_name", NULL};
	struct server_info info;
	double now = T0 + k;
	int leaked = k >= 2 ? k - 1 : 0;
	char open[64];
	char used[64];
	struct built *b = calloc(1, sizeof(*b));

	bouncer_server_info(&info, "1.18.0/bouncer", "postgres");
	bouncer_sample_begin(s, &info, now);
	built_init(b, config);
	built_row(b, "max_client_conn|%d", 40);
	built_row(b, "default_pool_size|%d", pool_size);
	built_row(b, "client_idle_timeout|%d", 0);
	add_built(s, BOUNCER_SHOW_CONFIG, b);
	built_init(b, databases);
	built_row(b, "app|%d|0|3", pool_size);
	add_built(s, BOUNCER_SHOW_DATABASES, b);
	built_init(b, pools);
	built_row(b, "app|api|3|%d|1|2|0|0|0|%d|0|%s", waiting, waiting ? 2 : 0,
		  mode);
	built_row(b, "app|app_leaky|%d|0|%d|0|0|0|0|0|0|%s", leaked,
		  strcmp(mode, "session") == 0 ? leaked : 0, mode);
	add_built(s, BOUNCER_SHOW_POOLS, b);
	built_init(b, clients);
	utc(used, sizeof(used), now);
	built_row(b,
		  "postgres|pgbouncer|active|127.0.0.1|40000|%s|%s|0|0|"
		  "0x10|-|pgdrip",
		  used, used);
	for (int i = 0; i < 3; i++) {
		utc(open, sizeof(open), T0 - 100);
		built_row(b, "api|app|active|127.0.0.1|%d|%s|%s|0|0|0x%x|-|api",
			  41000 + i, open, used, 0x1000 + 0x260 * i);
	}
	for (int i = 0; i < waiting; i++) {
		built_row(b,
			  "api|app|waiting|127.0.0.1|%d|%s|%s|2|0|0x%x|-|api",
			  42000 + i, used, used, 0x8000 + 0x260 * i);
	}
	for (int i = 0; i < leaked; i++) {
		utc(open, sizeof(open), T0 + 2 + i);
		built_row(b,
			  "app_leaky|app|active|127.0.0.1|%d|%s|%s|0|0|0x%x|-|"
			  "leaky",
			  43000 + i, open, open, 0x20000 + 0x260 * i);
	}
	add_built(s, BOUNCER_SHOW_CLIENTS, b);
	bouncer_sample_end(s);
	s->taken_at_epoch_s = now;
	record_round_times(s);
	free(b);
}

static char *text_of(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct text_style st = {true, false, -1};

	report_text_write(out, r, &st);
	fclose(out);
	return buf;
}

static char *json_of(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	report_json_write(out, r, "test");
	fclose(out);
	return buf;
}

static char *prom_of(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	report_prom_write(out, r, "test");
	fclose(out);
	return buf;
}

static void run_console(struct support_run *run, int samples, const char *mode,
			int waiting, int pool_size)
{
	struct run_facts facts;

	support_run_init(run);
	for (int k = 0; k < samples; k++) {
		console_sample(&run->sample, k, mode, waiting, pool_size);
		support_run_absorb(run);
	}
	pipeline_facts_init(&facts, "watch");
	facts.server_label = "127.0.0.1:6432/pgbouncer";
	facts.ended_epoch_s = T0 + samples - 1;
	support_run_report(run, &facts);
}

static const struct report_group *group_of(const struct report *r,
					   const char *user)
{
	for (size_t i = 0; i < r->group_count; i++) {
		if (strcmp(r->groups[i].keys[GROUP_KEY_USER], user) == 0) {
			return &r->groups[i];
		}
	}
	return NULL;
}

static const struct report_limit *limit_of(const struct report *r,
					   enum limit_kind kind,
					   const char *name)
{
	return report_find_limit(r, kind, name);
}

static void test_console_report(void **state)
{
	struct support_run run;
	const struct report *r = &run.report;
	const struct report_group *leaky;
	char *text;
	char *json;

	(void)state;
	run_console(&run, 20, "transaction", 0, 4);
	assert_int_equal(r->server.source, SAMPLE_SOURCE_PGBOUNCER);
	/* max_client_conn is the first limit, where the server's is. */
	assert_int_equal(r->limits[0].kind, LIMIT_KIND_CLIENTS);
	assert_int_equal(r->limits[0].limit, 40);
	assert_int_equal(r->limits[0].used, 3 + 18);
	assert_non_null(limit_of(r, LIMIT_KIND_POOL, "app/api"));
	assert_int_equal(limit_of(r, LIMIT_KIND_POOL, "app/api")->used, 3);
	/* The console's own pool is not shown; the two pools are. */
	assert_int_equal(r->pool_count, 2);
	leaky = group_of(r, "app_leaky");
	assert_non_null(leaky);
	assert_int_equal(leaky->connections, 18);
	assert_true(leaky->trend.flagged);
	/* In transaction pooling idle clients hold no server: only
	 * max_client_conn is run into. */
	assert_int_equal(leaky->forecast_kind, LIMIT_KIND_CLIENTS);
	assert_true(isfinite(leaky->forecast_s));
	assert_false(group_of(r, "api")->trend.flagged);
	text = text_of(r);
	assert_non_null(strstr(text, "PgBouncer 1.18.0 admin console"));
	assert_non_null(strstr(text, "client connections in use "
				     "(max_client_conn"));
	assert_non_null(strstr(text, "Pools (SHOW POOLS"));
	assert_non_null(
		strstr(text, "exhausts the pooler's max_client_conn of 40"));
	assert_non_null(strstr(text, "clients"));
	json = json_of(r);
	assert_true(support_json_valid(json));
	assert_non_null(strstr(json, "\"source\": \"pgbouncer\""));
	assert_non_null(strstr(json, "\"source_name\": \"PgBouncer 1.18.0 "
				     "admin console\""));
	assert_non_null(strstr(json, "\"pooler\": {"));
	assert_non_null(strstr(json, "\"kind\": \"clients\""));
	assert_non_null(strstr(json, "\"waiting\": 0"));
	free(text);
	free(json);
	support_run_finish(&run);
}

/* In session pooling each client holds a server: the pool's pool_size
 * is the nearer limit. */
static void test_session_forecast(void **state)
{
	struct support_run run;
	const struct report_group *leaky;

	(void)state;
	run_console(&run, 20, "session", 0, 30);
	leaky = group_of(&run.report, "app_leaky");
	assert_non_null(leaky);
	assert_true(leaky->trend.flagged);
	assert_int_equal(leaky->forecast_kind, LIMIT_KIND_POOL);
	assert_string_equal(leaky->forecast_name, "app/app_leaky");
	assert_int_equal(leaky->forecast_limit, 30);
	support_run_finish(&run);
}

static void test_waiting(void **state)
{
	struct support_run run;
	const struct report *r = &run.report;
	char *text;
	char *prom;
	bool warned = false;

	(void)state;
	run_console(&run, 3, "transaction", 2, 3);
	assert_int_equal(r->pooler_waiting, 2);
	assert_true(r->pooler_maxwait_s == 2);
	assert_int_equal(group_of(r, "api")->states[SESSION_STATE_WAITING], 2);
	for (size_t i = 0; i < r->warning_count; i++) {
		warned |= strstr(r->warnings[i], "2 clients of pool app/api "
						 "wait for a server") != NULL;
	}
	assert_true(warned);
	text = text_of(r);
	assert_non_null(strstr(text, "WAITING"));
	free(text);
	prom = prom_of(r);
	assert_non_null(strstr(prom,
			       "pgdrip_pool_client_waiting_connections{server="
			       "\"127.0.0.1:6432/pgbouncer\",database=\"app\","
			       "user=\"api\",mode=\"transaction\"} 2\n"));
	assert_non_null(strstr(prom, "pgdrip_pool_max_wait_seconds{"));
	assert_non_null(strstr(prom, "pgdrip_pool_server_idle_connections{"));
	assert_non_null(strstr(prom, "kind=\"clients\"} 40\n"));
	free(prom);
	support_run_finish(&run);
}

/* The console's run, recorded and replayed: the same report. */
static void test_record_replay(void **state)
{
	struct support_run live;
	struct support_run replay;
	struct run_facts facts;
	char *buf = NULL;
	size_t len = 0;
	FILE *rec = open_memstream(&buf, &len);
	struct record_reader reader;
	struct errbuf err;
	char *a;
	char *b;
	int got;

	(void)state;
	support_run_init(&live);
	for (int k = 0; k < 20; k++) {
		console_sample(&live.sample, k, "transaction", k % 3, 4);
		record_write_sample(rec, &live.sample);
		support_run_absorb(&live);
	}
	fclose(rec);
	support_run_init(&replay);
	rec = fmemopen(buf, len, "r");
	record_reader_init(&reader, rec);
	while ((got = record_reader_next(&reader, &replay.sample, &err)) > 0) {
		assert_int_equal(replay.sample.server.source,
				 SAMPLE_SOURCE_PGBOUNCER);
		support_run_absorb(&replay);
	}
	assert_int_equal(got, 0);
	record_reader_finish(&reader);
	fclose(rec);
	pipeline_facts_init(&facts, "watch");
	facts.server_label = "x";
	facts.ended_epoch_s = T0 + 19;
	support_run_report(&live, &facts);
	support_run_report(&replay, &facts);
	a = text_of(&live.report);
	b = text_of(&replay.report);
	assert_string_equal(a, b);
	free(a);
	free(b);
	a = json_of(&live.report);
	b = json_of(&replay.report);
	assert_string_equal(a, b);
	free(a);
	free(b);
	/* The replay followed each client by identity, as the live run. */
	assert_int_equal(live.pipeline.tracker.opened_total,
			 replay.pipeline.tracker.opened_total);
	assert_true(replay.pipeline.tracker.identities);
	free(buf);
	support_run_finish(&live);
	support_run_finish(&replay);
}

/* A server session held by pgbouncer, pinned by a client of it. */
static void test_via_pooler(void **state)
{
	struct report_process p = {4321, "node app.js",
				   CLIENT_RELATION_UNRELATED, 77,
				   "127.0.0.1:50202"};
	struct report_process itself = {77, "/usr/sbin/pgbouncer x.ini",
					CLIENT_RELATION_UNRELATED, 77, ""};
	struct report_process unknown = {0, "", CLIENT_RELATION_UNRELATED, -1,
					 "local"};
	struct report_process direct = {9, "psql", CLIENT_RELATION_UNRELATED, 0,
					""};
	char buf[512];

	(void)state;
	report_pooler_process_text(buf, sizeof(buf), &p, "");
	assert_string_equal(buf, "via pgbouncer (pid 77), its client "
				 "127.0.0.1:50202: pid 4321 (node app.js)");
	report_pooler_process_text(buf, sizeof(buf), &itself, "");
	assert_string_equal(buf, "via pgbouncer (pid 77)");
	report_pooler_process_text(buf, sizeof(buf), &unknown, "");
	assert_string_equal(buf, "via pgbouncer, its client local");
	report_pooler_process_text(buf, sizeof(buf), &direct,
				   ", the wrapped command");
	assert_string_equal(buf, "pid 9 (psql), the wrapped command");
	assert_int_equal(report_pooler_holder_via(77, itself.command), 77);
	assert_int_equal(report_pooler_holder_via(9, "psql"), 0);
}

/* Held by pgbouncer, in a server's report: text and JSON say so. */
static void test_server_via(void **state)
{
	struct support_run run;
	struct run_facts facts;
	char *text;
	char *json;

	(void)state;
	support_run_init(&run);
	for (int k = 0; k < 2; k++) {
		struct session *s = sample_add_session(&run.sample);

		run.sample.server.version_num = 150000;
		run.sample.server.max_connections = 100;
		run.sample.taken_at_epoch_s = T0 + k;
		run.sample.server_epoch_s = T0 + k;
		s->pid = 18220;
		s->user = "app_api";
		s->app = "orders";
		s->db = "app";
		s->state = SESSION_STATE_IDLE_TX;
		s->state_change_epoch_s = T0 - 60;
		s->state_age_s = 60 + k;
		s->backend_start_us = session_start_us(T0 - 100);
		s->client_pid = 4321;
		s->client_command = "node app.js";
		s->pooler_pid = 77;
		s->pooler_client = "127.0.0.1:50202";
		support_run_absorb(&run);
	}
	pipeline_facts_init(&facts, "once");
	support_run_report(&run, &facts);
	text = text_of(&run.report);
	assert_non_null(strstr(text, "client: via pgbouncer (pid 77), its "
				     "client 127.0.0.1:50202: pid 4321 "
				     "(node app.js)"));
	assert_non_null(strstr(text, "PostgreSQL"));
	json = json_of(&run.report);
	assert_true(support_json_valid(json));
	assert_non_null(strstr(json, "\"via_pooler\": {"));
	assert_non_null(strstr(json, "\"client\": \"127.0.0.1:50202\""));
	assert_non_null(strstr(json, "\"source\": \"postgresql\""));
	assert_null(strstr(json, "\"pooler\": {"));
	free(text);
	free(json);
	support_run_finish(&run);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(report_limit_kind_name(LIMIT_KIND_CLIENTS),
			    "clients");
	assert_string_equal(report_limit_kind_name(LIMIT_KIND_POOL), "pool");
	assert_string_equal(report_limit_kind_name(LIMIT_KIND_POOL_DATABASE),
			    "pool_database");
	assert_string_equal(report_limit_kind_name(LIMIT_KIND_CLIENT_USER),
			    "client_user");
	assert_string_equal(report_limit_kind_name(LIMIT_KIND_SERVER),
			    "server");
	assert_string_equal(report_pooler_setting(LIMIT_KIND_POOL_USER),
			    "max_user_connections");
	assert_false(report_pooler_is_limit_kind(LIMIT_KIND_ROLE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_console_report),
		cmocka_unit_test(test_session_forecast),
		cmocka_unit_test(test_waiting),
		cmocka_unit_test(test_record_replay),
		cmocka_unit_test(test_via_pooler),
		cmocka_unit_test(test_server_via),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests_name("report_pooler", tests, NULL, NULL);
}
