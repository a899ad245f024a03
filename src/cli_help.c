/*
 * cli_help.c - the --help text, read from the same option table as the
 * parser (cli_spec.h), so the two cannot drift apart.
 */
#include "cli.h"
#include "cli_spec.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *title;
	const char *first; /* long name of the section's first option */
} sections[] = {
	{"Connection (libpq conventions; PG* variables, ~/.pgpass work)",
	 "dbname"},
	{"Modes (default: live view on a terminal, else watch)", "once"},
	{"Timing", "interval"},
	{"Selection and grouping", "app"},
	{"Output", "format"},
	{"Checks (each breach: one line on stderr, exit 1)", "max-total"},
	{"Other", "help"},
};

static const struct {
	const char *command;
	const char *what;
} examples[] = {
	{"pgdrip --once", "who holds how many, now"},
	{"pgdrip -- pytest tests/", "watch a test suite for leaks"},
	{"pgdrip --once --max-total 10 --max-idle-tx 0", "a CI gate"},
	{"pgdrip --fail-on-growth -- pytest tests/", "fail on steady growth"},
	{"pgdrip --app my-api --wait-drain 30s", "check a shutdown drained"},
	{"pgdrip --no-live --listen :9187", "a Prometheus exporter"},
};

static void write_option(FILE *out, const struct option_spec *spec)
{
	char left[64];

	if (spec->short_name != 0) {
		snprintf(left, sizeof(left), "-%c, --%s%s%s", spec->short_name,
			 spec->name, spec->arg_name ? " " : "",
			 spec->arg_name ? spec->arg_name : "");
	} else {
		snprintf(left, sizeof(left), "    --%s%s%s", spec->name,
			 spec->arg_name ? " " : "",
			 spec->arg_name ? spec->arg_name : "");
	}
	if (strlen(left) > 26) {
		fprintf(out, "  %s\n  %-26s  %s\n", left, "", spec->help);
	} else {
		fprintf(out, "  %-26s  %s\n", left, spec->help);
	}
}

void cli_write_help(FILE *out)
{
	fputs("pgdrip finds PostgreSQL connection leaks.\n\n"
	      "Usage: pgdrip [OPTION]... [-- COMMAND [ARG]...]\n",
	      out);
	for (size_t i = 0; i < cli_spec_count; i++) {
		for (size_t s = 0; s < PGD_ARRAY_LEN(sections); s++) {
			if (strcmp(sections[s].first, cli_specs[i].name) == 0) {
				fprintf(out, "\n%s:\n", sections[s].title);
			}
		}
		write_option(out, &cli_specs[i]);
	}
	fputs("\nDurations: 250ms, 2s, 1.5m, 1h (a bare number is seconds).\n"
	      "\nExit status:\n"
	      "  0  monitored, every check passed\n"
	      "  1  a check failed, or the server/role is out of connection "
	      "slots\n"
	      "  2  usage error\n"
	      "  3  could not monitor (cannot connect, server lost), or a "
	      "check\n"
	      "     could not be evaluated (too little privilege)\n"
	      "  wrap mode: the command's own non-zero status wins\n"
	      "\nExamples:\n",
	      out);
	for (size_t i = 0; i < PGD_ARRAY_LEN(examples); i++) {
		fprintf(out, "  %-45s %s\n", examples[i].command,
			examples[i].what);
	}
}
