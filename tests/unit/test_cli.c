/*
 * test_cli.c - argv to options: every option's value in every spelling,
 * every kind of bad input with its message, and the command after "--".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_ARGS = 40, LINE_MAX_LEN = 512 };

/* One command line split into argv, with storage for the words. */
struct argv_buf {
	char text[LINE_MAX_LEN];
	char *argv[MAX_ARGS];
	int argc;
};

/*
 * Splits a space-separated command line; the word '' stands for an empty
 * argument (no other quoting is needed here).
 */
static void split(struct argv_buf *b, const char *line)
{
	static char name[] = "pgdrip";
	static char empty[] = "";
	char *save = NULL;

	assert_true(strlen(line) < sizeof(b->text));
	strcpy(b->text, line);
	b->argc = 0;
	b->argv[b->argc++] = name;
	for (char *tok = strtok_r(b->text, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		assert_true(b->argc < MAX_ARGS - 1);
		b->argv[b->argc++] = strcmp(tok, "''") == 0 ? empty : tok;
	}
	b->argv[b->argc] = NULL;
}

static enum cli_status parse(const char *line, struct argv_buf *b,
			     struct options *opts, struct errbuf *err)
{
	split(b, line);
	/* As on a terminal: --live is allowed. */
	return cli_parse_for(b->argc, b->argv, true, opts, err);
}

/* The mode is decided once, from the options and the terminal. */
static void test_mode(void **state)
{
	static const struct {
		const char *line;
		bool terminal;
		enum cli_status status;
		enum run_mode mode;
	} cases[] = {
		{"", true, CLI_OK, RUN_MODE_LIVE},
		{"", false, CLI_OK, RUN_MODE_WATCH},
		{"--no-live", true, CLI_OK, RUN_MODE_WATCH},
		{"--live", true, CLI_OK, RUN_MODE_LIVE},
		{"--live", false, CLI_USAGE, RUN_MODE_WATCH},
		{"-d a -d b", true, CLI_OK, RUN_MODE_WATCH},
		{"--once", true, CLI_OK, RUN_MODE_ONCE},
		{"--replay f", true, CLI_OK, RUN_MODE_REPLAY},
		{"--wait-drain 5s", true, CLI_OK, RUN_MODE_DRAIN},
		{"-- true", true, CLI_OK, RUN_MODE_WRAP},
	};

	(void)state;
	for (size_t i = 0; i < PGD_ARRAY_LEN(cases); i++) {
		struct options o;
		struct errbuf err = {{0}};
		struct argv_buf b;
		enum cli_status got;

		split(&b, cases[i].line);
		got = cli_parse_for(b.argc, b.argv, cases[i].terminal, &o,
				    &err);
		assert_int_equal(got, cases[i].status);
		if (got == CLI_OK) {
			assert_int_equal(o.mode, cases[i].mode);
		} else {
			assert_non_null(strstr(err.msg, "needs a terminal"));
		}
		options_finish(&o);
	}
}

static void test_defaults(void **state)
{
	struct options o;
	struct errbuf err;
	struct argv_buf b;

	(void)state;
	unsetenv("NO_COLOR");
	assert_int_equal(parse("", &b, &o, &err), CLI_OK);
	assert_null(o.dbname);
	assert_null(o.host);
	assert_null(o.port);
	assert_null(o.user);
	assert_int_equal(o.connect_timeout_ms, 0);
	assert_false(o.once);
	assert_false(o.live);
	assert_false(o.no_live);
	assert_int_equal(o.wait_drain_ms, -1);
	assert_null(o.replay_file);
	assert_int_equal(o.interval_ms, 1000);
	assert_int_equal(o.duration_ms, -1);
	assert_int_equal(o.window_ms, 300000);
	assert_int_equal(o.settle_ms, 5000);
	assert_int_equal(o.retry_for_ms, -1);
	assert_true(match_filter_is_empty(&o.filter));
	assert_int_equal(o.group_keys.count, 2);
	assert_int_equal(o.group_keys.keys[0], GROUP_KEY_USER);
	assert_int_equal(o.group_keys.keys[1], GROUP_KEY_APP);
	assert_int_equal(o.format, OUTPUT_FORMAT_TEXT);
	assert_int_equal(o.max_groups, 500);
	assert_string_equal(o.listen_port, "");
	assert_null(o.output_file);
	assert_null(o.record_file);
	assert_false(o.progress);
	assert_int_equal(o.thresholds.max_total, CHECK_UNSET);
	assert_int_equal(o.thresholds.max_per_group, CHECK_UNSET);
	assert_int_equal(o.thresholds.max_idle_tx, CHECK_UNSET);
	assert_int_equal(o.thresholds.max_leaked, CHECK_UNSET);
	assert_int_equal(o.thresholds.idle_tx_age_ms, 30000);
	assert_false(o.thresholds.fail_on_growth);
	assert_false(o.max_leaked_set);
	assert_false(o.no_color);
	assert_false(o.show_help);
	assert_false(o.show_version);
	assert_null(o.command);
	options_finish(&o);
}

/* NO_COLOR: any non-empty value turns colours off; empty does not. */
static void test_no_color_env(void **state)
{
	static const struct {
		const char *value; /* NULL: unset */
		bool no_color;
	} cases[] = {
		{NULL, false},
		{"", false},
		{"1", true},
		{"0", true}, /* no-color.org: any non-empty value */
	};
	struct options o;
	struct errbuf err;
	struct argv_buf b;

	(void)state;
	for (size_t i = 0; i < PGD_ARRAY_LEN(cases); i++) {
		if (cases[i].value == NULL) {
			unsetenv("NO_COLOR");
		} else {
			setenv("NO_COLOR", cases[i].value, 1);
		}
		assert_int_equal(parse("", &b, &o, &err), CLI_OK);
		assert_int_equal(o.no_color, cases[i].no_color);
		options_finish(&o);
	}
	unsetenv("NO_COLOR");
}

/* What a good case expects in one field of struct options. */
enum want_kind {
	WANT_STRING,
	WANT_I64,
	WANT_INT,
	WANT_DOUBLE,
	WANT_BOOL,
	WANT_PATTERNS, /* struct pattern_list: count, then the last one */
};

struct good_case {
	const char *line;
	size_t offset; /* of the field */
	enum want_kind kind;
	int64_t i;     /* WANT_I64, WANT_INT, WANT_PATTERNS (count) */
	double d;      /* WANT_DOUBLE */
	const char *s; /* WANT_STRING, WANT_PATTERNS (last pattern) */
};

#define AT(f) offsetof(struct options, f)
#define STR(line, f, v)                           \
	{                                         \
		line, AT(f), WANT_STRING, 0, 0, v \
	}
#define I64(line, f, v)                           \
	{                                         \
		line, AT(f), WANT_I64, v, 0, NULL \
	}
#define INT(line, f, v)                           \
	{                                         \
		line, AT(f), WANT_INT, v, 0, NULL \
	}
#define DBL(line, f, v)                              \
	{                                            \
		line, AT(f), WANT_DOUBLE, 0, v, NULL \
	}
#define FLAG(line, f)                              \
	{                                          \
		line, AT(f), WANT_BOOL, 1, 0, NULL \
	}
#define PATS(line, f, n, last)                         \
	{                                              \
		line, AT(f), WANT_PATTERNS, n, 0, last \
	}

static const struct good_case good[] = {
	/* connection, in every spelling */
	STR("-d app", dbname, "app"),
	STR("-dapp", dbname, "app"),
	STR("--dbname app", dbname, "app"),
	STR("--dbname=postgresql://u@h/db?x=1", dbname,
	    "postgresql://u@h/db?x=1"),
	STR("-d host=h=x", dbname, "host=h=x"),
	STR("-h /tmp", host, "/tmp"),
	STR("--host=db.example", host, "db.example"),
	STR("-p 5433", port, "5433"),
	STR("-p5433", port, "5433"),
	STR("--port 5433", port, "5433"),
	STR("-p 65535", port, "65535"),
	/* a port per -h host, as libpq takes them */
	STR("-p 5432,5433", port, "5432,5433"),
	STR("-U alice", user, "alice"),
	STR("-Ualice", user, "alice"),
	STR("--username=alice", user, "alice"),
	I64("--connect-timeout 3s", connect_timeout_ms, 3000),
	I64("--connect-timeout=1m", connect_timeout_ms, 60000),
	/* modes */
	FLAG("--once", once),
	FLAG("--live", live),
	FLAG("--no-live", no_live),
	I64("--wait-drain 30s", wait_drain_ms, 30000),
	I64("--wait-drain=0", wait_drain_ms, 0),
	STR("--replay rec.jsonl", replay_file, "rec.jsonl"),
	STR("--replay -", replay_file, "-"),
	STR("--replay=-", replay_file, "-"),
	/* timing, with the bounds */
	I64("--interval 250ms", interval_ms, 250),
	I64("--interval=2s", interval_ms, 2000),
	I64("--interval 100ms", interval_ms, 100),
	I64("--interval 1h --window 5h", interval_ms, 3600000),
	I64("--duration 10m", duration_ms, 600000),
	I64("--duration 0", duration_ms, 0),
	I64("--window 10s", window_ms, 10000),
	I64("--window=1.5m", window_ms, 90000),
	I64("--interval 2s --window 10s", window_ms, 10000),
	I64("--settle 2s", settle_ms, 2000),
	I64("--settle 0", settle_ms, 0),
	I64("--retry-for 1m", retry_for_ms, 60000),
	I64("--retry-for=0", retry_for_ms, 0),
	/* selection */
	PATS("--app api", filter.app, 1, "api"),
	PATS("--app api --app=web*", filter.app, 2, "web*"),
	PATS("--user 't_*'", filter.user, 1, "'t_*'"),
	PATS("--user a --user b --user c", filter.user, 3, "c"),
	PATS("--db shop", filter.db, 1, "shop"),
	PATS("--exclude-app psql*", filter.exclude_app, 1, "psql*"),
	PATS("--exclude-user=postgres", filter.exclude_user, 1, "postgres"),
	PATS("--exclude-db template?", filter.exclude_db, 1, "template?"),
	PATS("--app [a-c]x", filter.app, 1, "[a-c]x"),
	/* output */
	INT("--format json", format, OUTPUT_FORMAT_JSON),
	INT("--format=json", format, OUTPUT_FORMAT_JSON),
	INT("--format json --format text", format, OUTPUT_FORMAT_TEXT),
	INT("--format prometheus", format, OUTPUT_FORMAT_PROMETHEUS),
	INT("--max-groups 20", max_groups, 20),
	INT("--max-groups 0", max_groups, 0),
	STR("-o out.json", output_file, "out.json"),
	STR("-oout.json", output_file, "out.json"),
	STR("--output=out.json", output_file, "out.json"),
	STR("--record r.jsonl", record_file, "r.jsonl"),
	FLAG("--no-color", no_color),
	FLAG("--progress", progress),
	/* checks */
	INT("--max-total 10", thresholds.max_total, 10),
	INT("--max-total 1 --max-total 2", thresholds.max_total, 2),
	INT("--max-total=0", thresholds.max_total, 0),
	INT("--max-per-group 3", thresholds.max_per_group, 3),
	DBL("--max-usage 80%", thresholds.max_usage_pct, 80),
	DBL("--max-usage=12.5", thresholds.max_usage_pct, 12.5),
	INT("--max-idle-tx 0", thresholds.max_idle_tx, 0),
	I64("--idle-tx-age 2s", thresholds.idle_tx_age_ms, 2000),
	I64("--idle-tx-age=1m", thresholds.idle_tx_age_ms, 60000),
	INT("--max-leaked 2 -- ls", thresholds.max_leaked, 2),
	FLAG("--max-leaked 2 -- ls", max_leaked_set),
	INT("--max-leaked 3 -- ls", thresholds.max_leaked, 3),
	/* around a command, --max-leaked defaults to 0 */
	INT("-- ls", thresholds.max_leaked, 0),
	FLAG("--fail-on-growth", thresholds.fail_on_growth),
	/* --max-leaked-per-test: given, or implied (0) by the leak checks */
	INT("--max-leaked-per-test 2 -- ls", thresholds.max_leaked_per_test, 2),
	INT("--replay f --max-leaked-per-test 1",
	    thresholds.max_leaked_per_test, 1),
	/* Wrap mode: a test that leaked fails the run (implied 0). */
	INT("-- ls", thresholds.max_leaked_per_test, 0),
	FLAG("-- ls", thresholds.max_leaked_per_test_implied),
	INT("--fail-on-growth -- ls", thresholds.max_leaked_per_test, 0),
	FLAG("--fail-on-growth -- ls", thresholds.max_leaked_per_test_implied),
	INT("--max-leaked 1 -- ls", thresholds.max_leaked_per_test, 0),
	INT("--max-leaked-per-test 3 --fail-on-growth -- ls",
	    thresholds.max_leaked_per_test, 3),
	DBL("--max-growth 5/min", thresholds.max_growth_per_min, 5),
	DBL("--max-growth=0.5/s", thresholds.max_growth_per_min, 30),
	DBL("--max-growth 120/h", thresholds.max_growth_per_min, 2),
	/* harmless beside a mode that does not use them: no verdict
	 * depends on them */
	I64("--once --window 10m", window_ms, 600000),
	I64("--once --interval 2s", interval_ms, 2000),
	I64("--once --settle 1s", settle_ms, 1000),
	I64("--live --duration 20s", duration_ms, 20000),
	I64("--no-live --duration 20s", duration_ms, 20000),
	FLAG("--replay f --fail-on-growth", thresholds.fail_on_growth),
	DBL("--replay f --max-growth 5/min", thresholds.max_growth_per_min, 5),
	/* other; help and version skip the conflict checks */
	FLAG("--help", show_help),
	FLAG("--once --replay x --help", show_help),
	FLAG("-V", show_version),
	FLAG("--version", show_version),
};

static void check_good(const struct good_case *c, struct options *o)
{
	const char *f = (const char *)o + c->offset;
	const struct pattern_list *list = (const void *)f;

	switch (c->kind) {
	case WANT_STRING:
		assert_non_null(*(const char *const *)f);
		assert_string_equal(*(const char *const *)f, c->s);
		break;
	case WANT_I64:
		assert_int_equal(*(const int64_t *)f, c->i);
		break;
	case WANT_INT:
		/* Enums are int-sized here; the format field is one. */
		assert_int_equal(*(const int *)f, c->i);
		break;
	case WANT_DOUBLE:
		assert_float_equal(*(const double *)f, c->d, 1e-9);
		break;
	case WANT_BOOL:
		assert_int_equal(*(const bool *)f, c->i != 0);
		break;
	case WANT_PATTERNS:
		assert_int_equal(list->count, c->i);
		assert_string_equal(list->patterns[list->count - 1], c->s);
		break;
	}
}

static void test_good_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < PGD_ARRAY_LEN(good); i++) {
		struct options o;
		struct errbuf err = {{0}};
		struct argv_buf b;

		if (parse(good[i].line, &b, &o, &err) != CLI_OK) {
			fail_msg("\"%s\" was refused: %s", good[i].line,
				 err.msg);
		}
		check_good(&good[i], &o);
		options_finish(&o);
	}
}

/* Option values are borrowed from argv, not copied; -d given twice
 * names two servers, watched side by side. */
static void test_borrowed(void **state)
{
	struct options o;
	struct errbuf err;
	struct argv_buf b;

	(void)state;
	assert_int_equal(parse("-d x --dbname=y -o z", &b, &o, &err), CLI_OK);
	assert_int_equal(o.target_count, 2);
	assert_ptr_equal(o.dbname, b.argv[2]);
	assert_ptr_equal(o.targets[0].conninfo, b.argv[2]);
	assert_ptr_equal(o.targets[1].conninfo,
			 b.argv[3] + strlen("--dbname="));
	assert_ptr_equal(o.output_file, b.argv[5]);
	options_finish(&o);
}

static void test_group_by(void **state)
{
	struct options o;
	struct errbuf err;
	struct argv_buf b;

	(void)state;
	assert_int_equal(parse("--group-by db,state", &b, &o, &err), CLI_OK);
	assert_int_equal(o.group_keys.count, 2);
	assert_int_equal(o.group_keys.keys[0], GROUP_KEY_DB);
	assert_int_equal(o.group_keys.keys[1], GROUP_KEY_STATE);
	options_finish(&o);
	assert_int_equal(parse("--group-by=client", &b, &o, &err), CLI_OK);
	assert_int_equal(o.group_keys.count, 1);
	assert_int_equal(o.group_keys.keys[0], GROUP_KEY_CLIENT);
	options_finish(&o);
}

struct command_case {
	const char *line;
	const char *words[6]; /* the command; NULL-terminated */
};

static const struct command_case commands[] = {
	/* "-x" and "--once" after "--" belong to the command */
	{"--interval 2s -- pytest -x tests", {"pytest", "-x", "tests"}},
	{"-- pytest -x --once tests", {"pytest", "-x", "--once", "tests"}},
	{"-- --help", {"--help"}},
	{"-- ls -- -l", {"ls", "--", "-l"}},
	{"--app a -- sh -c true", {"sh", "-c", "true"}},
	{"--settle 0 -- -", {"-"}},
};

static void test_command(void **state)
{
	(void)state;
	for (size_t i = 0; i < PGD_ARRAY_LEN(commands); i++) {
		const struct command_case *c = &commands[i];
		struct options o;
		struct errbuf err = {{0}};
		struct argv_buf b;
		size_t n = 0;

		if (parse(c->line, &b, &o, &err) != CLI_OK) {
			fail_msg("\"%s\" was refused: %s", c->line, err.msg);
		}
		assert_non_null(o.command);
		for (; c->words[n] != NULL; n++) {
			assert_non_null(o.command[n]);
			assert_string_equal(o.command[n], c->words[n]);
		}
		assert_null(o.command[n]);
		/* It points into argv, not a copy. */
		assert_ptr_equal(o.command, b.argv + b.argc - n);
		assert_false(o.once);
		assert_false(o.show_help);
		options_finish(&o);
	}
}

/* --test-mark takes every word after it, whatever they look like, and
 * is no mode: no command, nothing else parsed. */
static void test_test_mark(void **state)
{
	static const char *const words[] = {"start", "a", "--once", "-x", NULL};
	struct options o;
	struct errbuf err = {{0}};
	struct argv_buf b;

	(void)state;
	assert_int_equal(parse("--test-mark start a --once -x", &b, &o, &err),
			 CLI_OK);
	assert_non_null(o.test_mark);
	for (size_t i = 0; words[i] != NULL; i++) {
		assert_string_equal(o.test_mark[i], words[i]);
	}
	assert_null(o.test_mark[4]);
	assert_null(o.command);
	assert_false(o.once);
	options_finish(&o);
}

struct bad_case {
	const char *line;
	const char *message;
};

static const struct bad_case bad[] = {
	/* unknown options; long names are never abbreviated */
	{"--frob", "unknown option \"--frob\""},
	{"--frob=1", "unknown option \"--frob\""},
	{"--onc", "unknown option \"--onc\""},
	{"--ONCE", "unknown option \"--ONCE\""},
	{"-x", "unknown option \"-x\""},
	{"-", "unexpected argument \"-\""},
	/* positional arguments before "--" */
	{"stray", "unexpected argument \"stray\": put the command after --"},
	{"--once stray", "unexpected argument \"stray\""},
	{"-dfoo bar", "unexpected argument \"bar\""},
	{"--", "must be followed by a command"},
	/* missing values */
	{"--interval", "option \"--interval\" needs a value"},
	{"-d", "option \"-d\" needs a value"},
	{"-o", "option \"-o\" needs a value"},
	{"--once --record", "option \"--record\" needs a value"},
	{"--app", "option \"--app\" needs a value"},
	/* empty values */
	{"--interval=", "option \"--interval\" needs a non-empty value"},
	{"--dbname ''", "option \"--dbname\" needs a non-empty value"},
	{"-h ''", "option \"-h\" needs a non-empty value"},
	{"--app ''", "needs a non-empty value"},
	{"--format=", "needs a non-empty value"},
	{"--group-by ''", "needs a non-empty value"},
	{"--output=", "needs a non-empty value"},
	/* flags take no value */
	{"--once=yes", "option \"--once\" takes no value"},
	{"--no-color=1", "takes no value"},
	{"-Vx", "option \"-V\" takes no value"},
	/* bad values, with the option named */
	{"--interval 10x", "--interval: invalid duration \"10x\""},
	{"--interval 50ms", "between 100ms and 1h"},
	{"--interval 2h", "between 100ms and 1h"},
	{"--duration -5s", "--duration: invalid duration \"-5s\""},
	{"--window 5s", "at least 10s"},
	{"--window 10s --interval 3s", "5 times --interval"},
	{"--settle x", "--settle: invalid duration \"x\""},
	{"--retry-for 1e3", "invalid duration \"1e3\""},
	{"--wait-drain soon", "invalid duration \"soon\""},
	{"--connect-timeout 5x", "--connect-timeout: invalid duration"},
	{"--connect-timeout 0", "--connect-timeout: must be above 0"},
	{"--idle-tx-age -1s", "--idle-tx-age: invalid duration"},
	{"--max-total -1", "--max-total: invalid number \"-1\""},
	{"--max-total abc", "invalid number \"abc\""},
	{"--max-per-group 1.5", "invalid number \"1.5\""},
	{"--max-idle-tx 99999999999", "--max-idle-tx:"},
	{"--max-leaked -1", "--max-leaked: invalid number"},
	{"--max-usage 101", "--max-usage: invalid percentage"},
	{"--max-growth 0", "--max-growth: invalid rate"},
	{"--max-growth 5/day", "invalid rate"},
	{"--group-by user,foo", "unknown group key \"foo\""},
	{"--app [abc", "unclosed ["},
	{"--exclude-db [", "--exclude-db:"},
	{"--format xml",
	 "unknown format \"xml\": use text, json or prometheus"},
	{"--max-groups -1", "--max-groups: invalid number"},
	{"-p 99999",
	 "-p: invalid port \"99999\": expected a number from 1 to 65535"},
	{"-p abc", "-p: invalid port \"abc\""},
	{"--port 0", "--port: invalid port \"0\""},
	{"-p 5432x", "invalid port \"5432x\""},
	{"-p +5432", "invalid port \"+5432\""},
	{"-p -5432", "invalid port \"-5432\""},
	{"-p 5432,", "invalid port \"5432,\""},
	{"-p 5432,,5433", "invalid port"},
	{"-p 065536", "invalid port"},
	{"--listen 9187", "--listen: \"9187\" is not ADDR:PORT"},
	{"--listen host:", "the port must be 1-65535"},
	{"--listen :0", "the port must be 1-65535"},
	{"--listen :65536", "the port must be 1-65535"},
	{"--listen :+80", "the port must be 1-65535"},
	{"--listen :80x", "the port must be 1-65535"},
	{"--listen ::1:9187", "put an IPv6 address in brackets"},
	{"--listen [::1:9187", "\"[::1:9187\": expected [IPV6]:PORT"},
	{"--listen [::1]x:9187", "expected [IPV6]:PORT"},
	{"--listen []:9187", "expected [IPV6]:PORT"},
	{"--once --listen :9187", "--listen and --once cannot be combined"},
	{"--replay f --listen :9187", "--listen and --replay"},
	{"--wait-drain 1s --listen :9187", "--listen and --wait-drain"},
	{"--listen :9187 -- ls", "--listen and a command after --"},
	{"--format JSON", "unknown format \"JSON\""},
	/* modes that exclude each other */
	{"--once -- ls", "--once and a command after -- cannot be combined"},
	{"--once --replay f", "--once and --replay cannot be combined"},
	{"--wait-drain 5s -- ls", "--wait-drain and a command after --"},
	{"--once --wait-drain 5s", "--once and --wait-drain"},
	{"--replay f -- ls", "--replay and a command after --"},
	{"--replay f --wait-drain 1s", "--replay and --wait-drain"},
	{"--live --once", "--once and --live cannot be combined"},
	{"--live -- ls", "a command after -- and --live"},
	{"--live --no-live", "--live and --no-live cannot be combined"},
	{"--replay f --record g", "--replay and --record cannot be combined"},
	/* options the mode never acts on: a check that cannot be evaluated
	 * is refused, never a silent pass */
	{"--once --fail-on-growth", "--once and --fail-on-growth cannot be "
				    "combined: one sample cannot show growth"},
	{"--fail-on-growth --once", "--once and --fail-on-growth"},
	{"--once --fail-on-growth",
	 "(the one-shot leak gate is --max-unused AGE)"},
	{"--max-unused-count 2", "--max-unused-count needs --max-unused"},
	{"--once --max-unused soon", "--max-unused: "},
	{"--once --max-growth 5/min",
	 "--once and --max-growth cannot be "
	 "combined: one sample cannot show growth"},
	{"--once --duration 10s", "--once and --duration cannot be combined: "
				  "--duration ends watch mode and the live "
				  "view"},
	{"--replay f --duration 10s", "--replay and --duration"},
	{"--wait-drain 5s --duration 10s", "--wait-drain and --duration"},
	{"--duration 10s -- ls", "a command after -- and --duration"},
	{"--max-leaked 0", "--max-leaked needs a command after --"},
	{"--once --max-leaked 1", "--max-leaked needs a command after --"},
	{"--replay f --max-leaked 1", "--max-leaked needs a command"},
	{"--once --max-leaked-per-test 0",
	 "--max-leaked-per-test needs a command after -- (or --replay)"},
	{"--max-leaked-per-test x -- ls", "--max-leaked-per-test: invalid"},
	{"--test-mark=start x", "put the verb and the test's name after"},
	{"--wait-drain 5s --fail-on-growth",
	 "--wait-drain and --fail-on-growth "
	 "cannot be combined"},
	{"--wait-drain 5s --max-idle-tx 0", "--wait-drain and --max-idle-tx"},
	{"--max-total 3 --wait-drain 5s", "--wait-drain and --max-total"},
};

static void test_bad_input(void **state)
{
	(void)state;
	for (size_t i = 0; i < PGD_ARRAY_LEN(bad); i++) {
		struct options o;
		struct errbuf err = {{0}};
		struct argv_buf b;

		if (parse(bad[i].line, &b, &o, &err) != CLI_USAGE) {
			fail_msg("\"%s\" was accepted", bad[i].line);
		}
		if (strstr(err.msg, bad[i].message) == NULL) {
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"",
				 bad[i].line, err.msg, bad[i].message);
		}
		/* One line, no prefix, no period: main adds "pgdrip: ". */
		assert_null(strchr(err.msg, '\n'));
		assert_true(strncmp(err.msg, "pgdrip", 6) != 0);
		assert_true(err.msg[strlen(err.msg) - 1] != '.');
		options_finish(&o);
	}
}

/* --listen: the address forms, split into host and port. */
static void test_listen(void **state)
{
	static const struct {
		const char *line;
		const char *host;
		const char *port;
	} cases[] = {
		{"--listen 127.0.0.1:9187", "127.0.0.1", "9187"},
		{"--listen :9187", "", "9187"},
		{"--listen [::1]:9187", "::1", "9187"},
		{"--listen=[::]:1", "::", "1"},
		{"--listen localhost:65535", "localhost", "65535"},
		{"--no-live --listen :09187", "", "9187"},
		{"--live --listen :9187", "", "9187"},
		{"", "", ""},
	};

	(void)state;
	for (size_t i = 0; i < PGD_ARRAY_LEN(cases); i++) {
		struct options o;
		struct errbuf err = {{0}};
		struct argv_buf b;

		if (parse(cases[i].line, &b, &o, &err) != CLI_OK) {
			fail_msg("\"%s\": %s", cases[i].line, err.msg);
		}
		assert_string_equal(o.listen_host, cases[i].host);
		assert_string_equal(o.listen_port, cases[i].port);
		options_finish(&o);
	}
}

/* options_finish() accepts NULL and a finished struct. */
static void test_finish(void **state)
{
	struct options o;
	struct errbuf err;
	struct argv_buf b;

	(void)state;
	options_finish(NULL);
	assert_int_equal(parse("--app a --app b --exclude-db c", &b, &o, &err),
			 CLI_OK);
	options_finish(&o);
	options_finish(&o);
}

static char *help_text(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	cli_write_help(f);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void test_help(void **state)
{
	static const char *const wanted[] = {
		"Usage: pgdrip [OPTION]... [-- COMMAND [ARG]...]",
		"Connection",
		"Modes",
		"Timing",
		"Selection",
		"Output",
		"Checks",
		"-d, --dbname",
		"-V, --version",
		"--interval DURATION",
		"default 1s",
		"default 5m",
		"default 5s",
		"default 30s",
		"default 10s",
		"default user,app",
		"default text",
		"Exit status",
		"  0  ",
		"  1  ",
		"  2  ",
		"  3  ",
		"wrap mode",
		"pgdrip --once ",
		"pgdrip -- pytest tests/",
		"pgdrip --once --max-total 10 --max-idle-tx 0",
		"pgdrip --app my-api --wait-drain 30s",
	};
	char *out = help_text();
	char *line;

	(void)state;
	for (size_t i = 0; i < PGD_ARRAY_LEN(wanted); i++) {
		if (strstr(out, wanted[i]) == NULL) {
			fail_msg("help lacks \"%s\"", wanted[i]);
		}
	}
	/* Fits 80 columns, no tabs. */
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (strlen(line) > 80 || strchr(line, '\t') != NULL) {
			fail_msg("help line too long: %s", line);
		}
	}
	free(out);
}

/*
 * Every long option the help lists is known to the parser (it may still
 * want a value), so the help and the option table cannot drift apart.
 */
static void test_help_options_known(void **state)
{
	char *out = help_text();
	int found = 0;

	(void)state;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char *dashes = strstr(line, "--");
		char name[64];
		size_t n;
		struct options o;
		struct errbuf err = {{0}};
		struct argv_buf b;

		/* Option lines start "  -d, --dbname" or "      --once". */
		if (strncmp(line, "  -", 3) != 0 &&
		    strncmp(line, "      --", 8) != 0) {
			continue;
		}
		assert_non_null(dashes);
		n = strspn(dashes + 2, "-abcdefghijklmnopqrstuvwxyz");
		assert_true(n > 0 && n + 2 < sizeof(name));
		memcpy(name, dashes, n + 2);
		name[n + 2] = '\0';
		if (parse(name, &b, &o, &err) != CLI_OK &&
		    strstr(err.msg, "unknown option") != NULL) {
			fail_msg("help lists %s, the parser refuses it: %s",
				 name, err.msg);
		}
		options_finish(&o);
		found++;
	}
	/* 37 options when this was written; more may come. */
	assert_true(found >= 37);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_no_color_env),
		cmocka_unit_test(test_good_values),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_borrowed),
		cmocka_unit_test(test_group_by),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_test_mark),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_help_options_known),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
