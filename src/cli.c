/*
 * cli.c - the command line, table-driven: each option names the field it
 * sets and the parser for its value, so --help, the man page test and
 * the parser cannot drift apart.
 */
#include "cli.h"
#include "cli_spec.h"

#include "core/report_fold.h"
#include "core/units.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIELD(f) offsetof(struct options, f)

const struct option_spec cli_specs[] = {
	{"dbname", 'd', ARG_SPECIAL, 0, "NAME|CONNINFO|URI",
	 "database, conninfo or URI (repeatable)"},
	{"targets", 0, ARG_STRING, FIELD(targets_file), "FILE",
	 "the servers to watch, one conninfo per line"},
	{"host", 'h', ARG_STRING, FIELD(host), "HOST",
	 "server host or socket directory"},
	{"port", 'p', ARG_SPECIAL, 0, "PORT", "server port"},
	{"username", 'U', ARG_STRING, FIELD(user), "ROLE", "connect as ROLE"},
	{"password", 'W', ARG_NONE, FIELD(ask_password), NULL,
	 "ask for a password before connecting"},
	{"no-password", 'w', ARG_NONE, FIELD(no_password), NULL,
	 "never ask for a password"},
	{"connect-timeout", 0, ARG_SPECIAL, 0, "DURATION",
	 "give up connecting after DURATION (default 10s)"},
	{"once", 0, ARG_NONE, FIELD(once), NULL,
	 "take one sample, report, check, exit"},
	{"live", 0, ARG_NONE, FIELD(live), NULL, "force the live view"},
	{"no-live", 0, ARG_NONE, FIELD(no_live), NULL,
	 "never open the live view, even on a terminal"},
	{"wait-drain", 0, ARG_DURATION, FIELD(wait_drain_ms), "DURATION",
	 "exit 0 once no selected session is left, else 1"},
	{"replay", 0, ARG_STRING, FIELD(replay_file), "FILE",
	 "analyse a --record file instead of a server"},
	{"interval", 0, ARG_DURATION, FIELD(interval_ms), "DURATION",
	 "time between samples (default 1s, at least 100ms)"},
	{"duration", 0, ARG_DURATION, FIELD(duration_ms), "DURATION",
	 "stop watching after DURATION (default: Ctrl-C)"},
	{"window", 0, ARG_DURATION, FIELD(window_ms), "DURATION",
	 "growth analysis window (default 5m)"},
	{"settle", 0, ARG_DURATION, FIELD(settle_ms), "DURATION",
	 "wrap: wait this long for a drain (default 5s)"},
	{"retry-for", 0, ARG_DURATION, FIELD(retry_for_ms), "DURATION",
	 "retry a lost server (forever; --once, wrap: 30s)"},
	{"app", 0, ARG_PATTERN, FIELD(filter.app), "GLOB",
	 "only these application_names (repeatable)"},
	{"user", 0, ARG_PATTERN, FIELD(filter.user), "GLOB",
	 "only these roles (repeatable)"},
	{"db", 0, ARG_PATTERN, FIELD(filter.db), "GLOB",
	 "only these databases (repeatable)"},
	{"exclude-app", 0, ARG_PATTERN, FIELD(filter.exclude_app), "GLOB",
	 "leave out these application_names"},
	{"exclude-user", 0, ARG_PATTERN, FIELD(filter.exclude_user), "GLOB",
	 "leave out these roles"},
	{"exclude-db", 0, ARG_PATTERN, FIELD(filter.exclude_db), "GLOB",
	 "leave out these databases"},
	{"group-by", 0, ARG_SPECIAL, 0, "KEYS",
	 "of user,app,db,client,state (default user,app)"},
	{"format", 0, ARG_SPECIAL, 0, "text|json|prometheus",
	 "report format (default text)"},
	{"output", 'o', ARG_STRING, FIELD(output_file), "FILE",
	 "write the report to FILE"},
	{"record", 0, ARG_STRING, FIELD(record_file), "FILE",
	 "append every sample to FILE as JSON Lines"},
	{"listen", 0, ARG_SPECIAL, 0, "ADDR:PORT",
	 "serve /metrics for Prometheus (watch, live view)"},
	{"max-groups", 0, ARG_COUNT, FIELD(max_groups), "N",
	 "Prometheus: sum groups past N as other (def. 500)"},
	{"junit", 0, ARG_STRING, FIELD(junit_file), "FILE",
	 "also write the checks (and tests) as JUnit XML"},
	{"plot", 0, ARG_STRING, FIELD(plot_file), "FILE",
	 "at the end, draw the run as an SVG picture in FILE"},
	{"no-color", 0, ARG_NONE, FIELD(no_color), NULL,
	 "no colours (also NO_COLOR)"},
	{"progress", 0, ARG_NONE, FIELD(progress), NULL,
	 "one line per sample on stderr"},
	{"no-attribution", 0, ARG_NONE, FIELD(no_attribution), NULL,
	 "do not trace sessions to local client processes"},
	{"max-total", 0, ARG_COUNT, FIELD(thresholds.max_total), "N",
	 "fail above N selected connections"},
	{"max-per-group", 0, ARG_COUNT, FIELD(thresholds.max_per_group), "N",
	 "fail when a group holds more than N"},
	{"max-usage", 0, ARG_PERCENT, FIELD(thresholds.max_usage_pct), "PCT",
	 "fail above PCT of a server/role/db limit"},
	{"max-idle-tx", 0, ARG_COUNT, FIELD(thresholds.max_idle_tx), "N",
	 "fail above N sessions idle in transaction"},
	{"idle-tx-age", 0, ARG_DURATION, FIELD(thresholds.idle_tx_age_ms),
	 "DURATION", "count idle-tx sessions this old (default 30s)"},
	{"max-unused", 0, ARG_DURATION, FIELD(thresholds.max_unused_ms),
	 "DURATION", "fail when a group has sessions unused this long"},
	{"max-unused-count", 0, ARG_SPECIAL, 0, "N",
	 "...more than N of them (default 0)"},
	{"max-leaked", 0, ARG_SPECIAL, 0, "N",
	 "wrap: fail when a group ends N above baseline"},
	{"max-leaked-per-test", 0, ARG_SPECIAL, 0, "N",
	 "wrap: fail when a test leaves N sessions unused"},
	{"fail-on-growth", 0, ARG_NONE, FIELD(thresholds.fail_on_growth), NULL,
	 "fail when a group's count grows steadily"},
	{"max-growth", 0, ARG_RATE, FIELD(thresholds.max_growth_per_min),
	 "RATE", "fail when a group grows faster (e.g. 5/min)"},
	{"max-churn", 0, ARG_RATE, FIELD(thresholds.max_churn_per_min), "RATE",
	 "fail when a group opens more sessions a minute"},
	{"test-mark", 0, ARG_SPECIAL, 0, "VERB NAME",
	 "tell a wrapping pgdrip a test's start/end (TESTS)"},
	{"help", 0, ARG_NONE, FIELD(show_help), NULL, "show this help"},
	{"version", 'V', ARG_NONE, FIELD(show_version), NULL,
	 "show the version"},
};

const size_t cli_spec_count = PGD_ARRAY_LEN(cli_specs);

static void *field(struct options *opts, const struct option_spec *spec)
{
	return (char *)opts + spec->offset;
}

static void set_defaults(struct options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->wait_drain_ms = -1;
	opts->interval_ms = 1000;
	opts->duration_ms = -1;
	opts->window_ms = 5 * 60 * 1000;
	opts->settle_ms = 5000;
	opts->retry_for_ms = -1;
	opts->format = OUTPUT_FORMAT_TEXT;
	opts->max_groups = REPORT_FOLD_MAX_GROUPS;
	match_filter_init(&opts->filter);
	match_default_group_keys(&opts->group_keys);
	check_thresholds_init(&opts->thresholds);
}

static bool apply_special(struct options *opts, const char *name,
			  const char *value, struct errbuf *err)
{
	if (strcmp(name, "port") == 0) {
		opts->port = value;
		return cli_check_port(value, err);
	}
	if (strcmp(name, "dbname") == 0) {
		cli_add_target(opts, value, false);
		return true;
	}
	if (strcmp(name, "group-by") == 0) {
		return match_parse_group_keys(value, &opts->group_keys, err);
	}
	if (strcmp(name, "format") == 0) {
		if (strcmp(value, "text") == 0) {
			opts->format = OUTPUT_FORMAT_TEXT;
		} else if (strcmp(value, "json") == 0) {
			opts->format = OUTPUT_FORMAT_JSON;
		} else if (strcmp(value, "prometheus") == 0) {
			opts->format = OUTPUT_FORMAT_PROMETHEUS;
		} else {
			errbuf_set(err,
				   "unknown format \"%s\": use text, json "
				   "or prometheus",
				   value);
			return false;
		}
		return true;
	}
	if (strcmp(name, "listen") == 0) {
		return cli_parse_listen(value, opts->listen_host,
					sizeof(opts->listen_host),
					opts->listen_port,
					sizeof(opts->listen_port), err);
	}
	if (strcmp(name, "connect-timeout") == 0) {
		if (!units_parse_duration_ms(value, &opts->connect_timeout_ms,
					     err)) {
			return false;
		}
		/* 0 is "unset" to poll.c: it would mean 10s, not forever. */
		if (opts->connect_timeout_ms == 0) {
			errbuf_set(err, "must be above 0 (for no timeout, put "
					"connect_timeout=0 in -d)");
			return false;
		}
		return true;
	}
	if (strcmp(name, "test-mark") == 0) {
		errbuf_set(err, "put the verb and the test's name after "
				"--test-mark as words, and nothing after them");
		return false;
	}
	if (strcmp(name, "max-unused-count") == 0) {
		opts->max_unused_count_set = true;
		return units_parse_count(value,
					 &opts->thresholds.max_unused_count,
					 err);
	}
	if (strcmp(name, "max-leaked-per-test") == 0) {
		opts->max_leaked_per_test_set = true;
		return units_parse_count(value,
					 &opts->thresholds.max_leaked_per_test,
					 err);
	}
	/* max-leaked: remember it was given, so wrap mode keeps it. */
	opts->max_leaked_set = true;
	return units_parse_count(value, &opts->thresholds.max_leaked, err);
}

/*
 * Sets spec's field from value (NULL for a flag).  shown is the option as
 * the user typed it ("-d" or "--dbname"), so messages quote what they see.
 */
static bool apply(struct options *opts, const struct option_spec *spec,
		  const char *shown, const char *value, struct errbuf *err)
{
	void *f = field(opts, spec);
	struct errbuf inner;
	bool ok = true;

	if (value != NULL && value[0] == '\0') {
		errbuf_set(err, "option \"%s\" needs a non-empty value", shown);
		return false;
	}
	switch (spec->kind) {
	case ARG_NONE:
		*(bool *)f = true;
		return true;
	case ARG_STRING:
		*(const char **)f = value;
		return true;
	case ARG_DURATION:
		ok = units_parse_duration_ms(value, f, &inner);
		break;
	case ARG_COUNT:
		ok = units_parse_count(value, f, &inner);
		break;
	case ARG_PERCENT:
		ok = units_parse_percent(value, f, &inner);
		break;
	case ARG_RATE:
		ok = units_parse_rate_per_min(value, f, &inner);
		break;
	case ARG_PATTERN:
		ok = match_pattern_add(f, value, &inner);
		break;
	case ARG_SPECIAL:
		ok = apply_special(opts, spec->name, value, &inner);
		break;
	}
	if (!ok) {
		errbuf_set(err, "%s: %s", shown, inner.msg);
	}
	return ok;
}

static const struct option_spec *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < cli_spec_count; i++) {
		if (strlen(cli_specs[i].name) == len &&
		    strncmp(cli_specs[i].name, name, len) == 0) {
			return &cli_specs[i];
		}
	}
	return NULL;
}

static const struct option_spec *find_short(char c)
{
	for (size_t i = 0; i < cli_spec_count; i++) {
		if (cli_specs[i].short_name == c) {
			return &cli_specs[i];
		}
	}
	return NULL;
}

/* Parses argv[*i] (and maybe argv[*i + 1]); advances *i past them. */
static bool parse_one(int argc, char **argv, int *i, struct options *opts,
		      struct errbuf *err)
{
	const char *arg = argv[*i];
	const struct option_spec *spec;
	const char *value = NULL;
	bool inline_value = false;
	char shown[64];

	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);

		spec = find_long(name, len);
		if (spec == NULL) {
			errbuf_set(err, "unknown option \"--%.*s\"", (int)len,
				   name);
			return false;
		}
		if (eq != NULL) {
			value = eq + 1;
			inline_value = true;
		}
		snprintf(shown, sizeof(shown), "--%s", spec->name);
	} else {
		spec = find_short(arg[1]);
		if (spec == NULL) {
			errbuf_set(err, "unknown option \"%s\"", arg);
			return false;
		}
		/* -dNAME: the rest of the word is the value. */
		if (arg[2] != '\0') {
			value = arg + 2;
			inline_value = true;
		}
		snprintf(shown, sizeof(shown), "-%c", spec->short_name);
	}
	if (spec->kind == ARG_NONE) {
		if (inline_value) {
			errbuf_set(err, "option \"%s\" takes no value", shown);
			return false;
		}
		(*i)++;
		return apply(opts, spec, shown, NULL, err);
	}
	if (!inline_value) {
		if (*i + 1 >= argc) {
			errbuf_set(err, "option \"%s\" needs a value", shown);
			return false;
		}
		value = argv[++*i];
	}
	(*i)++;
	return apply(opts, spec, shown, value, err);
}

/*
 * The modes exclude each other: decide_mode() would silently pick one of
 * them, so two given together are a usage error naming both.
 */
static bool check_modes(const struct options *opts, struct errbuf *err)
{
	const struct {
		bool set;
		const char *what;
	} modes[] = {
		{opts->once, "--once"},
		{opts->replay_file != NULL, "--replay"},
		{opts->wait_drain_ms >= 0, "--wait-drain"},
		{opts->command != NULL, "a command after --"},
		/* --live only forces the view of the watch mode. */
		{opts->live, "--live"},
	};
	const char *first = NULL;

	for (size_t i = 0; i < PGD_ARRAY_LEN(modes); i++) {
		if (!modes[i].set) {
			continue;
		}
		if (first != NULL) {
			errbuf_set(err, "%s and %s cannot be combined", first,
				   modes[i].what);
			return false;
		}
		first = modes[i].what;
	}
	if (opts->live && opts->no_live) {
		errbuf_set(err, "--live and --no-live cannot be combined");
		return false;
	}
	/* A replay reads a recording; it never opens --record. */
	if (opts->replay_file != NULL && opts->record_file != NULL) {
		errbuf_set(err, "--replay and --record cannot be combined");
		return false;
	}
	return true;
}

/* The mode given, as the user spelt it; NULL for watch (and the live
 * view), which --duration ends. */
static const char *mode_option(const struct options *opts)
{
	return opts->once                  ? "--once"
	       : opts->replay_file != NULL ? "--replay"
	       : opts->wait_drain_ms >= 0  ? "--wait-drain"
	       : opts->command != NULL     ? "a command after --"
					   : NULL;
}

/* --listen serves what a running monitor samples: the one-shot modes
 * end before anyone could scrape. */
static bool check_listen(const struct options *opts, struct errbuf *err)
{
	const char *with = mode_option(opts);

	if (opts->listen_port[0] != '\0' && with != NULL) {
		errbuf_set(err,
			   "--listen and %s cannot be combined: it serves "
			   "the watch mode and the live view",
			   with);
		return false;
	}
	return true;
}

/* Several servers are watched side by side (--once or watch mode); the
 * modes that follow one server's story do not apply to a fleet. */
static bool check_fleet(const struct options *opts, struct errbuf *err)
{
	const char *one_only = opts->command != NULL       ? "a wrapped command"
			       : opts->wait_drain_ms >= 0  ? "--wait-drain"
			       : opts->replay_file != NULL ? "--replay"
			       : opts->record_file != NULL ? "--record"
			       : opts->plot_file != NULL   ? "--plot"
			       : opts->live                ? "--live"
							   : NULL;

	if (one_only != NULL) {
		errbuf_set(err, "%s follows one server, and %zu were given",
			   one_only, opts->target_count);
		return false;
	}
	return true;
}

/* The mode, once for every caller: the live view is the watch mode on
 * a terminal, unless --no-live (several servers have no live view). */
static bool decide_mode(struct options *opts, bool terminal, struct errbuf *err)
{
	opts->mode = opts->replay_file != NULL  ? RUN_MODE_REPLAY
		     : opts->once               ? RUN_MODE_ONCE
		     : opts->command != NULL    ? RUN_MODE_WRAP
		     : opts->wait_drain_ms >= 0 ? RUN_MODE_DRAIN
						: RUN_MODE_WATCH;
	if (opts->live && !terminal) {
		errbuf_set(err, "--live needs a terminal: stdin and stdout "
				"must both be one (use --no-live, or leave "
				"both out, to watch without the view)");
		return false;
	}
	if (opts->mode == RUN_MODE_WATCH && !opts->no_live &&
	    opts->target_count <= 1 && (opts->live || terminal)) {
		opts->mode = RUN_MODE_LIVE;
	}
	return true;
}

/* The first check set, as its option, or NULL when none is. */
static const char *first_check(const struct thresholds *t)
{
	return t->max_total != CHECK_UNSET       ? "--max-total"
	       : t->max_per_group != CHECK_UNSET ? "--max-per-group"
	       : t->max_usage_pct >= 0           ? "--max-usage"
	       : t->max_idle_tx != CHECK_UNSET   ? "--max-idle-tx"
	       : t->fail_on_growth               ? "--fail-on-growth"
	       : t->max_growth_per_min >= 0      ? "--max-growth"
	       : t->max_churn_per_min >= 0       ? "--max-churn"
	       : t->max_unused_ms >= 0           ? "--max-unused"
						 : NULL;
}

/*
 * Options the mode can never act on.  A check that cannot be evaluated
 * would pass without a word (one sample shows no growth; only a wrapped
 * command leaves connections behind; --wait-drain applies none), and
 * --duration would be ignored
 * while the user waits for it: both are usage errors.  Parameters that
 * decide no verdict (--window, --interval, --settle) stay harmless.
 */
static bool check_mode_options(const struct options *opts, struct errbuf *err)
{
	const char *mode = mode_option(opts);

	if (opts->once && opts->thresholds.fail_on_growth) {
		errbuf_set(err, "--once and --fail-on-growth cannot be "
				"combined: one sample cannot show growth (the "
				"one-shot leak gate is --max-unused AGE)");
		return false;
	}
	if (opts->once && opts->thresholds.max_churn_per_min >= 0) {
		errbuf_set(err, "--once and --max-churn cannot be combined: "
				"one sample cannot show sessions opening");
		return false;
	}
	if (opts->once && opts->thresholds.max_growth_per_min >= 0) {
		errbuf_set(err, "--once and --max-growth cannot be combined: "
				"one sample cannot show growth");
		return false;
	}
	/* --wait-drain's verdict is the drain itself; it draws no report. */
	if (opts->wait_drain_ms >= 0 && first_check(&opts->thresholds)) {
		errbuf_set(err,
			   "--wait-drain and %s cannot be combined: "
			   "--wait-drain checks only that the sessions "
			   "are gone",
			   first_check(&opts->thresholds));
		return false;
	}
	if (opts->max_unused_count_set && opts->thresholds.max_unused_ms < 0) {
		errbuf_set(err, "--max-unused-count needs --max-unused: it "
				"counts the sessions unused that long");
		return false;
	}
	if (opts->max_leaked_set && opts->command == NULL) {
		errbuf_set(err, "--max-leaked needs a command after --: it "
				"counts what the command leaves open");
		return false;
	}
	if (opts->max_leaked_per_test_set && opts->command == NULL &&
	    opts->replay_file == NULL) {
		errbuf_set(err, "--max-leaked-per-test needs a command after "
				"-- (or --replay): it judges the tests the "
				"command reports");
		return false;
	}
	if (opts->duration_ms >= 0 && mode != NULL) {
		errbuf_set(err,
			   "%s and --duration cannot be combined: "
			   "--duration ends watch mode and the live view",
			   mode);
		return false;
	}
	return true;
}

/* Combinations and ranges that cannot mean anything. */
static bool check_conflicts(const struct options *opts, struct errbuf *err)
{
	char a[32];
	char b[32];

	if (!check_modes(opts, err) || !check_listen(opts, err) ||
	    !check_mode_options(opts, err)) {
		return false;
	}
	if (opts->target_count > 1 && !check_fleet(opts, err)) {
		return false;
	}
	if (opts->interval_ms < 100 || opts->interval_ms > 3600 * 1000) {
		errbuf_set(err,
			   "--interval must be between 100ms and 1h (got "
			   "%s)",
			   units_format_duration(a, sizeof(a),
						 opts->interval_ms / 1000.0));
		return false;
	}
	/* The growth test needs a few samples in the window to say anything. */
	if (opts->window_ms < 10000 ||
	    opts->window_ms < 5 * opts->interval_ms) {
		errbuf_set(err,
			   "--window must be at least 10s and 5 times "
			   "--interval (got %s, interval %s)",
			   units_format_duration(a, sizeof(a),
						 opts->window_ms / 1000.0),
			   units_format_duration(b, sizeof(b),
						 opts->interval_ms / 1000.0));
		return false;
	}
	return true;
}

/*
 * NO_COLOR (non-empty, per no-color.org) is read here so that every
 * caller sees it in opts->no_color; main need not look again.  Help and
 * version skip the conflict checks: "pgdrip --once --help" shows help.
 */
enum cli_status cli_parse(int argc, char **argv, struct options *opts,
			  struct errbuf *err)
{
	return cli_parse_for(argc, argv,
			     isatty(STDIN_FILENO) && isatty(STDOUT_FILENO),
			     opts, err);
}

enum cli_status cli_parse_for(int argc, char **argv, bool terminal,
			      struct options *opts, struct errbuf *err)
{
	const char *no_color = getenv("NO_COLOR");
	int i = 1;

	set_defaults(opts);
	if (no_color != NULL && no_color[0] != '\0') {
		opts->no_color = true;
	}
	while (i < argc) {
		const char *arg = argv[i];

		if (strcmp(arg, "--test-mark") == 0) {
			/* The rest is the mark: a verb and a test's name,
			 * whatever its words look like. */
			opts->test_mark = argv + i + 1;
			return CLI_OK;
		}
		if (strcmp(arg, "--") == 0) {
			if (i + 1 >= argc) {
				errbuf_set(err, "\"--\" must be followed by a "
						"command");
				return CLI_USAGE;
			}
			opts->command = argv + i + 1;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			errbuf_set(err,
				   "unexpected argument \"%s\": put the "
				   "command after --",
				   arg);
			return CLI_USAGE;
		}
		if (!parse_one(argc, argv, &i, opts, err)) {
			return CLI_USAGE;
		}
	}
	if (opts->show_help || opts->show_version) {
		return CLI_OK;
	}

	if (opts->command != NULL && !opts->max_leaked_set) {
		opts->thresholds.max_leaked = 0;
	}
	/* Implied by the leak checks and by wrap mode (a test that leaked
	 * fails the run): 0, when the runner reports tests. */
	if (!opts->max_leaked_per_test_set &&
	    (opts->command != NULL || opts->thresholds.fail_on_growth ||
	     opts->max_leaked_set)) {
		opts->thresholds.max_leaked_per_test = 0;
		opts->thresholds.max_leaked_per_test_implied = true;
	}
	if (opts->targets_file != NULL &&
	    !cli_read_targets(opts, opts->targets_file, err)) {
		return CLI_USAGE;
	}
	opts->dbname = opts->target_count > 0 ? opts->targets[0].conninfo
					      : NULL;
	if (!check_conflicts(opts, err)) {
		return CLI_USAGE;
	}
	if (opts->ask_password && opts->no_password) {
		errbuf_set(err, "--password and --no-password cannot be "
				"combined");
		return CLI_USAGE;
	}
	return decide_mode(opts, terminal, err) ? CLI_OK : CLI_USAGE;
}
