/*
 * main.c - pgdrip's entry point: locale, the out-of-memory policy, the
 * command line, then the run of the mode it asks for (dispatch.c).
 */
#include "cli.h"
#include "config.h"
#include "dispatch.h"
#include "testmark.h"

#include <locale.h>
#include <stdio.h>
#include <unistd.h>

static void out_of_memory(void)
{
	static const char msg[] = "pgdrip: out of memory\n";

	/* write(2): stdio may itself need memory. */
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		(void)0;
	}
	_exit(PGD_EXIT_UNAVAILABLE);
}

int main(int argc, char **argv)
{
	struct options opts;
	struct errbuf err;
	int status;

	setlocale(LC_ALL, "");
	/* Reports and JSON write numbers with a '.', whatever the locale. */
	setlocale(LC_NUMERIC, "C");
	xalloc_set_oom_handler(out_of_memory);

	if (cli_parse(argc, argv, &opts, &err) != CLI_OK) {
		fprintf(stderr, "pgdrip: %s\n", err.msg);
		fprintf(stderr, "pgdrip: hint: try \"pgdrip --help\"\n");
		options_finish(&opts);
		return PGD_EXIT_USAGE;
	}
	if (opts.test_mark != NULL) {
		status = testmark_client(opts.test_mark);
		options_finish(&opts);
		return status;
	}
	if (opts.show_help) {
		cli_write_help(stdout);
		options_finish(&opts);
		return fflush(stdout) == 0 ? PGD_EXIT_OK : PGD_EXIT_UNAVAILABLE;
	}
	if (opts.show_version) {
		printf("pgdrip %s\n", PGDRIP_VERSION);
		options_finish(&opts);
		return fflush(stdout) == 0 ? PGD_EXIT_OK : PGD_EXIT_UNAVAILABLE;
	}
	status = dispatch_run(&opts);
	options_finish(&opts);
	return status;
}
