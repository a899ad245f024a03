/*
 * output.h - where and how a report is written: the output stream
 * (stdout, stderr in wrap mode, or --output FILE), the text style for
 * it (width, UTF-8, colour), and the breach lines on stderr.
 */
#ifndef PGDRIP_OUTPUT_H
#define PGDRIP_OUTPUT_H

#include "cli.h"
#include "core/report.h"

#include <stdio.h>

/*
 * Writes report to --output (created/truncated) or to fallback, in the
 * chosen format, then one line per failed check to stderr.  Returns
 * false with err when the file cannot be written.
 */
PGD_NODISCARD bool output_report(const struct options *opts,
				 const struct report *report, FILE *fallback,
				 struct errbuf *err);

/* The reports of several servers watched side by side, as one output:
 * text reports one after the other, one JSON object with a "servers"
 * array, one exposition; exit_code is theirs together. */
PGD_NODISCARD bool output_reports(const struct options *opts,
				  const struct report *const *reports,
				  size_t count, int exit_code, FILE *fallback,
				  struct errbuf *err);

/*
 * --plot FILE.  Opened when the run starts, so an unwritable path is a
 * usage error before any sampling; written (replacing what was there)
 * when the report is.  A file this run created and never wrote (no
 * sample could be taken) is removed on close.
 */
struct plot_file {
	const char *path; /* borrowed from the options */
	FILE *out;        /* NULL when --plot was not given */
	bool created;
	bool written;
};

/* Opens opts->plot_file if given; false with err ("cannot write ..."). */
PGD_NODISCARD bool output_plot_open(const struct options *opts,
				    struct plot_file *plot,
				    struct errbuf *err);

/* Draws report and history into the plot file (no-op when none). */
PGD_NODISCARD bool output_plot_write(struct plot_file *plot,
				     const struct report *report,
				     const struct history *history,
				     struct errbuf *err);

/* Closes; accepts a plot_file that was never opened. */
void output_plot_close(struct plot_file *plot);

/* True when the locale's character set is UTF-8. */
bool output_locale_is_utf8(void);

#endif
