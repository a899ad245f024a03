/*
 * cli.h - argv to struct options.  Table-driven; never prints or exits:
 * returns a status and a one-line message for main to print.
 */
#ifndef PGDRIP_CLI_H
#define PGDRIP_CLI_H

#include "options.h"

#include <stdio.h>

enum cli_status {
	CLI_OK,
	CLI_USAGE, /* message says what; exit 2 */
};

/* Fills opts (options_finish() it afterwards, even on error). */
PGD_NODISCARD enum cli_status cli_parse(int argc, char **argv,
					struct options *opts,
					struct errbuf *err);
/* The same, for a run on a terminal or not (cli_parse() asks isatty()
 * of stdin and stdout): what decides the live view. */
PGD_NODISCARD enum cli_status cli_parse_for(int argc, char **argv,
					    bool terminal, struct options *opts,
					    struct errbuf *err);

/*
 * Splits "HOST:PORT", "[IPV6]:PORT" or ":PORT" (every interface) into
 * host (brackets removed, "" for every interface) and port (1-65535).
 */
PGD_NODISCARD bool cli_parse_listen(const char *text, char *host,
				    size_t host_size, char *port,
				    size_t port_size, struct errbuf *err);

/* The --help text. */
void cli_write_help(FILE *out);

#endif
