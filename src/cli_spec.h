/*
 * cli_spec.h - the option table of cli.c and the helpers its parser
 * shares with cli_values.c and cli_help.c; nothing outside the three
 * includes it.
 */
#ifndef PGDRIP_CLI_SPEC_H
#define PGDRIP_CLI_SPEC_H

#include "options.h"

#include <stdbool.h>
#include <stddef.h>

enum arg_kind {
	ARG_NONE,     /* a flag */
	ARG_STRING,   /* borrowed from argv */
	ARG_DURATION, /* int64_t milliseconds */
	ARG_COUNT,    /* int >= 0 */
	ARG_PERCENT,  /* double */
	ARG_RATE,     /* double per minute */
	ARG_PATTERN,  /* appended to a pattern list */
	ARG_SPECIAL,  /* handled in apply_special() */
};

struct option_spec {
	const char *name; /* long name without dashes */
	char short_name;  /* 0: none */
	enum arg_kind kind;
	size_t offset; /* of the field in struct options */
	const char *arg_name;
	const char *help;
};

/* Every option, in --help's order (cli.c). */
extern const struct option_spec cli_specs[];
extern const size_t cli_spec_count;

/* Appends a server to opts->targets; owned: freed with the options. */
void cli_add_target(struct options *opts, const char *target, bool owned);

/*
 * -p: a port, or a comma list of them for several -h hosts, each 1-65535
 * in decimal digits; false with err otherwise.
 */
bool cli_check_port(const char *value, struct errbuf *err);

/* --targets FILE: one conninfo string or URI per line (blank lines and
 * # comments skipped) appended after any -d; false with err when it
 * cannot be read, a line is too long, or it names no server. */
bool cli_read_targets(struct options *opts, const char *path,
		      struct errbuf *err);

#endif
