/*
 * test_clientfacts.c - the client hooks' lines: parsing (good lines,
 * garbage, wrong types, a cut stack), the table they fold into (a
 * checkout given back, one never given back and collected, a plain
 * connection never closed, an id reused after its close) and matching a
 * connection to a session by backend pid and time; and through the
 * pipeline, a session a proxy hid made the client's and its checkout
 * never returned in the report, the live view's line and the verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clientfacts.h"
#include "pipeline.h"
#include "session.h"
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parse_case {
	const char *line;
	bool ok;
	enum clientfacts_event ev;
	int backend;
	size_t frames;
};

static const struct parse_case parse_cases[] = {
	{"{\"v\":1,\"ev\":\"hello\",\"pid\":10,\"t\":1700000000.5,"
	 "\"lang\":\"python\",\"argv\":[\"pytest\"],\"libs\":[\"psycopg\"]}",
	 true, CLIENTFACTS_HELLO, 0, 0},
	{"{\"v\":1,\"ev\":\"take\",\"pid\":10,\"t\":1700000001,\"conn\":\"c1\","
	 "\"backend\":4242,\"pool\":\"p#1\",\"test\":\"t.py::test_a\","
	 "\"stack\":[{\"file\":\"t.py\",\"line\":11,\"func\":\"reserve\"},"
	 "{\"file\":\"t.py\",\"line\":20,\"func\":\"test_a\"}]}",
	 true, CLIENTFACTS_TAKE, 4242, 2},
	/* An unknown key and a frame with no file are ignored. */
	{"{\"v\":1,\"ev\":\"open\",\"pid\":1,\"t\":1,\"conn\":\"x\",\"new\":[1]"
	 ","
	 "\"stack\":[{\"line\":3},{\"file\":\"a.py\"}]}",
	 true, CLIENTFACTS_OPEN, 0, 1},
	{"{\"v\":1,\"ev\":\"unhooked\",\"pid\":1,\"t\":1,\"lib\":\"asyncpg\","
	 "\"why\":\"version 9\"}",
	 true, CLIENTFACTS_UNHOOKED, 0, 0},
	{"", false, 0, 0, 0},
	{"garbage", false, 0, 0, 0},
	{"[1,2]", false, 0, 0, 0},
	{"{\"v\":2,\"ev\":\"hello\",\"pid\":1,\"t\":1}", false, 0, 0, 0},
	{"{\"ev\":\"hello\",\"pid\":1,\"t\":1}", false, 0, 0, 0},
	{"{\"v\":1,\"ev\":\"jump\",\"pid\":1,\"t\":1}", false, 0, 0, 0},
	{"{\"v\":1,\"ev\":\"hello\",\"t\":1}", false, 0, 0, 0},
	{"{\"v\":1,\"ev\":\"hello\",\"pid\":-3,\"t\":1}", false, 0, 0, 0},
	{"{\"v\":1,\"ev\":\"hello\",\"pid\":1.5,\"t\":1}", false, 0, 0, 0},
	{"{\"v\":1,\"ev\":\"hello\",\"pid\":1}", false, 0, 0, 0},
	{"{\"v\":1,\"ev\":\"hello\",\"pid\":1,\"t\":1e300}", false, 0, 0, 0},
	{"{\"v\":1,\"ev\":\"close\",\"pid\":1,\"t\":1}", false, 0, 0, 0},
	{"{\"v\":1,\"ev\":\"take\",\"pid\":1,\"t\":1,\"conn\":7}", false, 0, 0,
	 0},
	{"{\"v\":1,\"ev\":\"take\",\"pid\":1,\"t\":1,\"conn\":\"a\","
	 "\"backend\":\"x\"}",
	 false, 0, 0, 0},
	{"{\"v\":1,\"ev\":\"hello\",\"pid\":1,\"t\":1} x", false, 0, 0, 0},
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		const struct parse_case *c = &parse_cases[i];
		struct arena arena;
		struct clientfacts_line l;
		struct errbuf err;
		bool ok;

		arena_init(&arena);
		ok = clientfacts_parse_line(c->line, strlen(c->line), &arena,
					    &l, &err);
		if (ok != c->ok) {
			fail_msg("case %zu \"%s\": %s", i, c->line,
				 ok ? "taken" : err.msg);
		}
		if (ok) {
			assert_int_equal(l.ev, c->ev);
			assert_int_equal(l.backend, c->backend);
			assert_int_equal(l.stack.count, c->frames);
		}
		arena_finish(&arena);
	}
}

static void test_parse_fields(void **state)
{
	struct arena arena;
	struct clientfacts_line l;
	struct errbuf err;
	const char *line = parse_cases[1].line;

	(void)state;
	arena_init(&arena);
	assert_true(
		clientfacts_parse_line(line, strlen(line), &arena, &l, &err));
	assert_int_equal(l.pid, 10);
	assert_true(fabs(l.t - 1700000001) < 1e-9);
	assert_string_equal(l.conn, "c1");
	assert_string_equal(l.pool, "p#1");
	assert_string_equal(l.test, "t.py::test_a");
	assert_string_equal(l.stack.frames[0].file, "t.py");
	assert_int_equal(l.stack.frames[0].line, 11);
	assert_string_equal(l.stack.frames[0].func, "reserve");
	assert_null(l.how);
	arena_finish(&arena);
}

/* A stack longer than the bound keeps its innermost frames; a line at
 * the bound is refused whatever it holds. */
static void test_parse_bounds(void **state)
{
	struct arena arena;
	struct clientfacts_line l;
	struct errbuf err;
	char *line = malloc(CLIENTFACTS_LINE_MAX + 64);
	size_t n;

	(void)state;
	arena_init(&arena);
	n = (size_t)sprintf(line, "{\"v\":1,\"ev\":\"take\",\"pid\":2,\"t\":3,"
				  "\"conn\":\"c\",\"stack\":[");
	for (int i = 0; i < 30; i++) {
		n += (size_t)sprintf(line + n,
				     "%s{\"file\":\"f%d\",\"line\":%d}",
				     i > 0 ? "," : "", i, i);
	}
	n += (size_t)sprintf(line + n, "]}");
	assert_true(clientfacts_parse_line(line, n, &arena, &l, &err));
	assert_int_equal(l.stack.count, CLIENTFACTS_STACK_MAX);
	assert_string_equal(l.stack.frames[0].file, "f0");
	memset(line, ' ', CLIENTFACTS_LINE_MAX);
	memcpy(line, "{\"v\":1}", 7);
	assert_false(clientfacts_parse_line(line, CLIENTFACTS_LINE_MAX, &arena,
					    &l, &err));
	free(line);
	arena_finish(&arena);
}

static void add(struct clientfacts *f, const char *line)
{
	struct arena arena;
	struct clientfacts_line l;
	struct errbuf err;

	arena_init(&arena);
	if (!clientfacts_parse_line(line, strlen(line), &arena, &l, &err)) {
		fail_msg("\"%s\": %s", line, err.msg);
	}
	clientfacts_add(f, &l);
	arena_finish(&arena);
}

#define EV(ev, rest) "{\"v\":1,\"ev\":\"" ev "\",\"pid\":7,\"t\":100," rest "}"

static void test_table(void **state)
{
	struct clientfacts f;

	(void)state;
	clientfacts_init(&f);
	assert_false(clientfacts_any(&f));
	add(&f, EV("hello", "\"lang\":\"python\""));
	/* Pooled: opened by the pool, taken, given back, taken, lost. */
	add(&f,
	    EV("open", "\"conn\":\"a\",\"backend\":11,\"lib\":\"psycopg\""));
	add(&f, EV("take", "\"conn\":\"a\",\"backend\":11,\"pool\":\"P\","
			   "\"test\":\"t1\",\"stack\":[{\"file\":\"x.py\","
			   "\"line\":3,\"func\":\"f\"}]"));
	add(&f, EV("give", "\"conn\":\"a\",\"pool\":\"P\""));
	assert_false(clientfacts_checkout_leaked(&f.conns[0]));
	add(&f, EV("take", "\"conn\":\"a\",\"backend\":11,\"pool\":\"P\","
			   "\"test\":\"t2\",\"stack\":[{\"file\":\"y.py\","
			   "\"line\":9,\"func\":\"g\"}]"));
	add(&f, EV("lost", "\"conn\":\"a\",\"pool\":\"P\",\"how\":\"gc\""));
	add(&f, EV("close", "\"conn\":\"a\",\"how\":\"gc\""));
	/* Plain: opened, never closed by the code. */
	add(&f, EV("open", "\"conn\":\"b\",\"backend\":12,\"test\":\"t3\","
			   "\"stack\":[{\"file\":\"r.py\",\"line\":5}]"));
	add(&f, EV("close", "\"conn\":\"b\",\"how\":\"exit\""));
	/* Plain, closed; then the id again: a new connection. */
	add(&f, EV("open", "\"conn\":\"c\",\"backend\":13"));
	add(&f, EV("close", "\"conn\":\"c\",\"how\":\"close\""));
	add(&f, EV("open", "\"conn\":\"c\",\"backend\":14,"
			   "\"stack\":[{\"file\":\"r.py\",\"line\":8}]"));
	/* Opened with no user frame (a pool filling itself): no leak. */
	add(&f, EV("open", "\"conn\":\"d\",\"backend\":15"));
	/* Opened by a pool in the caller's code (psycopg2's, asyncpg's):
	 * an idle member, no leak either. */
	add(&f, EV("open", "\"conn\":\"e\",\"backend\":16,\"pool\":\"P\","
			   "\"stack\":[{\"file\":\"c.py\",\"line\":4}]"));
	add(&f, EV("unhooked", "\"lib\":\"asyncpg\",\"why\":\"old\""));
	add(&f, EV("unhooked", "\"lib\":\"asyncpg\",\"why\":\"old\""));
	assert_int_equal(f.count, 6);
	assert_false(clientfacts_unclosed(&f.conns[4]));
	assert_false(clientfacts_unclosed(&f.conns[5]));
	assert_string_equal(f.conns[5].open_pool, "P");
	assert_int_equal(f.processes, 1);
	assert_int_equal(f.lib_count, 1);
	assert_true(clientfacts_checkout_leaked(&f.conns[0]));
	assert_true(f.conns[0].lost);
	assert_int_equal(f.conns[0].takes, 2);
	assert_string_equal(f.conns[0].take_test, "t2");
	assert_string_equal(f.conns[0].take_stack.frames[0].file, "y.py");
	assert_string_equal(f.conns[0].close_how, "gc");
	assert_false(clientfacts_unclosed(&f.conns[0]));
	assert_true(clientfacts_unclosed(&f.conns[1]));
	assert_string_equal(f.conns[1].open_test, "t3");
	assert_false(clientfacts_unclosed(&f.conns[2]));
	assert_true(clientfacts_unclosed(&f.conns[3]));
	assert_int_equal(f.conns[3].backend, 14);
	clientfacts_finish(&f);
	clientfacts_finish(NULL);
}

/* A pool is shared once it is taken from in more than one test, or in
 * one and outside any (what rests there is no test's leak); one used by
 * one test alone is not, nor another process's pool of the same id. */
static void test_pool_shared(void **state)
{
	struct clientfacts f;

	(void)state;
	clientfacts_init(&f);
	add(&f, EV("open", "\"conn\":\"z\",\"backend\":10"));
	assert_false(clientfacts_pool_shared(&f, &f.conns[0]));
	add(&f, EV("take", "\"conn\":\"a\",\"backend\":11,\"pool\":\"P\","
			   "\"test\":\"t1\""));
	add(&f, EV("give", "\"conn\":\"a\",\"pool\":\"P\""));
	add(&f, EV("take", "\"conn\":\"b\",\"backend\":12,\"pool\":\"P\","
			   "\"test\":\"t1\""));
	assert_false(clientfacts_pool_shared(&f, &f.conns[1]));
	assert_false(clientfacts_pool_shared(&f, &f.conns[2]));
	/* Another connection of the pool, in another test: both rest in a
	 * shared pool. */
	add(&f, EV("take", "\"conn\":\"c\",\"backend\":13,\"pool\":\"P\","
			   "\"test\":\"t2\""));
	assert_true(clientfacts_pool_shared(&f, &f.conns[1]));
	assert_true(clientfacts_pool_shared(&f, &f.conns[3]));
	/* Taken in one test, then outside any. */
	add(&f, EV("take", "\"conn\":\"d\",\"backend\":14,\"pool\":\"Q\","
			   "\"test\":\"t1\""));
	assert_false(clientfacts_pool_shared(&f, &f.conns[4]));
	add(&f, EV("give", "\"conn\":\"d\",\"pool\":\"Q\""));
	add(&f, EV("take", "\"conn\":\"d\",\"backend\":14,\"pool\":\"Q\""));
	assert_true(clientfacts_pool_shared(&f, &f.conns[4]));
	/* The same pool id in another process is another pool. */
	add(&f,
	    "{\"v\":1,\"ev\":\"take\",\"pid\":8,\"t\":100,"
	    "\"conn\":\"a\",\"backend\":15,\"pool\":\"P\",\"test\":\"t3\"}");
	assert_int_equal(f.count, 6);
	assert_false(clientfacts_pool_shared(&f, &f.conns[5]));
	assert_int_equal(f.pool_count, 3);
	clientfacts_finish(&f);
}

/* asyncpg: a checkout whose connection the server ended while out is
 * lost ("server"), a leak until the code releases it after all. */
static void test_lost_how(void **state)
{
	struct clientfacts f;

	(void)state;
	clientfacts_init(&f);
	add(&f, EV("take", "\"conn\":\"a\",\"backend\":11,\"pool\":\"P\""));
	add(&f, EV("lost", "\"conn\":\"a\",\"pool\":\"P\",\"how\":\"server\""));
	add(&f, EV("close", "\"conn\":\"a\",\"how\":\"server\""));
	assert_true(f.conns[0].lost);
	assert_string_equal(f.conns[0].lost_how, "server");
	assert_true(clientfacts_checkout_leaked(&f.conns[0]));
	add(&f, EV("give", "\"conn\":\"a\",\"pool\":\"P\""));
	assert_int_equal(f.count, 1);
	assert_false(clientfacts_checkout_leaked(&f.conns[0]));
	/* SQLAlchemy: a checkout the collector took, the connection back
	 * in its pool and taken again: the lost checkout stays a leak, the
	 * connection goes on in an entry of its own (one connection). */
	add(&f,
	    EV("open", "\"conn\":\"s\",\"backend\":16,\"lib\":\"sqlalchemy\","
		       "\"stack\":[{\"file\":\"s.py\",\"line\":2}]"));
	add(&f, EV("take", "\"conn\":\"s\",\"backend\":16,\"pool\":\"Q\","
			   "\"test\":\"t1\""));
	add(&f, EV("lost", "\"conn\":\"s\",\"pool\":\"Q\",\"how\":\"gc\""));
	add(&f, EV("take", "\"conn\":\"s\",\"backend\":16,\"pool\":\"Q\","
			   "\"test\":\"t2\""));
	add(&f, EV("give", "\"conn\":\"s\",\"pool\":\"Q\""));
	assert_int_equal(f.count, 3);
	assert_int_equal(f.carried, 1);
	assert_true(clientfacts_checkout_leaked(&f.conns[1]));
	assert_string_equal(f.conns[1].take_test, "t1");
	assert_false(clientfacts_checkout_leaked(&f.conns[2]));
	assert_string_equal(f.conns[2].take_test, "t2");
	assert_true(f.conns[2].opened);
	assert_string_equal(f.conns[2].open_stack.frames[0].file, "s.py");
	assert_int_equal(f.conns[2].backend, 16);
	/* A lost line without how: the collector, as before. */
	add(&f, EV("take", "\"conn\":\"b\",\"backend\":12,\"pool\":\"P\""));
	add(&f, EV("lost", "\"conn\":\"b\",\"pool\":\"P\""));
	assert_string_equal(f.conns[3].lost_how, "gc");
	clientfacts_finish(&f);
}

static void test_match(void **state)
{
	const struct clientfacts_session sessions[] = {
		{11, 50}, {12, 90}, {11, 95}, {11, 120}, {13, 10},
	};
	struct clientfacts_conn c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.backend = 11;
	/* The newest with that pid started at or before the time. */
	assert_int_equal(clientfacts_match(&c, 100, sessions, 5), 2);
	assert_int_equal(clientfacts_match(&c, 95, sessions, 5), 2);
	assert_int_equal(clientfacts_match(&c, 60, sessions, 5), 0);
	assert_int_equal(clientfacts_match(&c, 40, sessions, 5), SIZE_MAX);
	c.backend = 99;
	assert_int_equal(clientfacts_match(&c, 100, sessions, 5), SIZE_MAX);
	c.backend = 0;
	assert_int_equal(clientfacts_match(&c, 100, sessions, 5), SIZE_MAX);
}

/* One process may hold at most its share of the table; the rest is
 * counted.  Each id is found again among them all (the index). */
static void test_bounds(void **state)
{
	struct clientfacts f;
	struct clientfacts_line l;
	char id[32];
	const int n = CLIENTFACTS_MAX_CONNS_PER_PROCESS + 100;

	(void)state;
	clientfacts_init(&f);
	memset(&l, 0, sizeof(l));
	l.pid = 9;
	l.t = 100;
	l.conn = id;
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "k%d", i);
		l.ev = CLIENTFACTS_OPEN;
		l.backend = 1000 + i;
		clientfacts_add(&f, &l);
	}
	assert_int_equal(f.count, CLIENTFACTS_MAX_CONNS_PER_PROCESS);
	assert_int_equal(f.overflow, 100);
	snprintf(id, sizeof(id), "k%d", 77);
	l.ev = CLIENTFACTS_CLOSE;
	l.how = "close";
	l.backend = 0;
	clientfacts_add(&f, &l);
	assert_string_equal(f.conns[77].close_how, "close");
	assert_int_equal(f.count, CLIENTFACTS_MAX_CONNS_PER_PROCESS);
	/* Another process still has room. */
	l.pid = 10;
	l.ev = CLIENTFACTS_OPEN;
	clientfacts_add(&f, &l);
	assert_int_equal(f.count, CLIENTFACTS_MAX_CONNS_PER_PROCESS + 1);
	clientfacts_finish(&f);
}

/* ---- through the pipeline: a proxy's session, a leaked checkout ---- */

static void fill_proxied(struct sample *s, double t, const char *line)
{
	struct session *ss;

	sample_reset(s);
	s->taken_at_epoch_s = t;
	s->elapsed_ms = 2;
	snprintf(s->server.version, sizeof(s->server.version), "15.18");
	s->server.max_connections = 100;
	s->server.can_read_all_stats = true;
	ss = sample_add_session(s);
	ss->pid = 103;
	ss->user = "app";
	ss->app = "shop";
	ss->db = "shop";
	ss->state = SESSION_STATE_IDLE_TX;
	ss->state_age_s = 1;
	ss->backend_age_s = 5;
	ss->backend_start_us = session_start_us(95);
	ss->state_change_epoch_s = 96;
	/* Socket matching saw the proxy, a process outside the command. */
	ss->client_pid = 555;
	ss->client_command = "socat";
	ss->client_relation = CLIENT_RELATION_UNRELATED;
	if (line != NULL) {
		sample_add_hook_line(s, line, strlen(line));
	}
}

static void test_pipeline(void **state)
{
	static const char take[] =
		EV("take", "\"conn\":\"a\",\"backend\":103,\"pool\":\"P#1\","
			   "\"test\":\"t1\",\"stack\":[{\"file\":\"x.py\","
			   "\"line\":3,\"func\":\"f\"}]");
	struct support_run run;
	struct run_facts facts;
	const struct report_hooks *h = &run.report.hooks;

	(void)state;
	support_run_init(&run);
	fill_proxied(&run.sample, 100, NULL);
	sample_add_hook_line(&run.sample, "garbage", 7);
	support_run_absorb(&run);
	assert_int_equal(run.pipeline.tracker.live[0].client_pid, 555);
	fill_proxied(&run.sample, 101, take);
	support_run_absorb(&run);
	/* The client's word: its session, whatever the socket said. */
	assert_int_equal(run.pipeline.tracker.live[0].client_pid, 7);
	assert_int_equal(run.pipeline.tracker.live[0].client_relation,
			 CLIENT_RELATION_DESCENDANT);
	assert_int_equal(run.pipeline.clientfacts.refused, 1);
	pipeline_facts_init(&facts, "wrap");
	facts.wrapped = true;
	facts.command_status = 0;
	facts.detail = true;
	facts.detail_values[GROUP_KEY_USER] = "app";
	facts.detail_values[GROUP_KEY_APP] = "shop";
	support_run_report(&run, &facts);
	assert_true(h->reported);
	assert_int_equal(h->checkouts_out, 1);
	assert_int_equal(h->leaks[0].backend_pid, 103);
	assert_true(h->leaks[0].matched);
	assert_true(h->leaks[0].server_knew); /* idle in a transaction */
	assert_string_equal(h->leaks[0].test, "t1");
	assert_int_equal(run.report.detail_count, 1);
	assert_string_equal(run.report.detail[0].client_line,
			    "taken at x.py:3 (f) during t1, never returned");
	/* A checkout never returned fails a wrapped run. */
	assert_int_equal(run.report.exit_code, 1);
	support_run_finish(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_pool_shared),
		cmocka_unit_test(test_lost_how),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_pipeline),
	};

	return cmocka_run_group_tests_name("clientfacts", tests, NULL, NULL);
}
