/*
 * options.h - what a run was asked to do: struct options, filled from
 * argv by cli.c (only main.c calls it) and read by everything below, so
 * the run, the modes and the outputs never see argv parsing.
 */
#ifndef PGDRIP_OPTIONS_H
#define PGDRIP_OPTIONS_H

#include "core/check.h"
#include "core/common.h"
#include "core/match.h"

#include <stdint.h>

enum output_format {
	OUTPUT_FORMAT_TEXT,
	OUTPUT_FORMAT_JSON,
	OUTPUT_FORMAT_PROMETHEUS,
};

/* What a run does, decided once, in cli_parse(). */
enum run_mode {
	RUN_MODE_WATCH,  /* sample until --duration or a signal, report */
	RUN_MODE_LIVE,   /* the same on a terminal, drawn as it goes */
	RUN_MODE_ONCE,   /* one sample, report */
	RUN_MODE_WRAP,   /* -- COMMAND: before, during, after it */
	RUN_MODE_DRAIN,  /* --wait-drain: until the sessions are gone */
	RUN_MODE_REPLAY, /* --replay FILE: a record, analysed again */
};

/* "watch", "live", "once", "wrap", "wait-drain", "replay": the mode a
 * report names. */
const char *options_mode_name(enum run_mode mode);

/* A server to watch: -d, or a line of --targets. */
struct target_spec {
	const char *conninfo;
	bool owned; /* read from --targets: freed with the options */
};

struct options {
	/* connection */
	const char *dbname; /* the first target, NULL none (libpq default) */
	struct target_spec *targets; /* owned; several: watched side by side */
	size_t target_count;
	size_t target_cap;
	const char *targets_file;
	const char *host;
	const char *port;
	const char *user;
	int64_t connect_timeout_ms;
	bool ask_password; /* -W: prompt before connecting */
	bool no_password;  /* -w: never prompt */

	/* modes */
	enum run_mode mode; /* from the options below and the terminal */
	bool once;
	bool live;    /* --live forces the live view; set by main otherwise */
	bool no_live; /* --no-live: never open the live view */
	int64_t wait_drain_ms; /* -1 unset */
	const char *replay_file;
	char **command; /* after "--"; NULL-terminated; borrowed; NULL none */
	/* --test-mark VERB NAME...: the words after it (borrowed); NULL
	 * when not given.  A client of a wrapping pgdrip, not a mode. */
	char **test_mark;

	/* timing */
	int64_t interval_ms;  /* default 1000, min 100 */
	int64_t duration_ms;  /* -1: until signalled */
	int64_t window_ms;    /* default 5 min */
	int64_t settle_ms;    /* default 5 s */
	int64_t retry_for_ms; /* -1: mode default */

	/* selection */
	struct filter filter; /* owned */
	struct group_keys group_keys;

	/* output */
	enum output_format format;
	const char *output_file;
	const char *record_file;
	const char *plot_file;  /* --plot: an SVG of the run, at the end */
	const char *junit_file; /* --junit: JUnit XML, written as -o is */
	bool no_color;
	bool progress;
	bool no_attribution; /* --no-attribution */
	int max_groups;      /* Prometheus cardinality guard; 0 no limit */
	/* --listen ADDR:PORT: host "" for every interface, brackets of an
	 * IPv6 address removed; listen_port "" when not given. */
	char listen_host[256];
	char listen_port[8];

	struct thresholds thresholds;
	bool max_leaked_set; /* --max-leaked given (else 0 in wrap mode) */
	bool max_leaked_per_test_set;
	bool max_unused_count_set;

	bool show_help;
	bool show_version;
};

/* Frees what opts owns (the filter, the targets read from a file);
 * NULL is fine. */
void options_finish(struct options *opts);

#endif
