/*
 * output.h - where and how a report is written: the output stream
 * (stdout, stderr in wrap mode, or --output FILE), the text style for
 * it (width, UTF-8, colour), and the breach lines on stderr.
 */
#ifndef PGDRIP_OUTPUT_H
#define PGDRIP_OUTPUT_H

#include "options.h"
#include "core/report.h"

#include <stdio.h>

/*
 * Writes report to --output (replaced atomically; a FIFO or a device in
 * place) or to fallback, in the chosen format, its JUnit XML to --junit
 * (likewise), then one line per failed check to stderr and, with
 * GITHUB_ACTIONS=true, a ::error workflow command per failure there.  Returns
 * false with err when any of it cannot be written, a full disk included:
 * "cannot write \"FILE\": ERROR", or "cannot write to standard output: ERROR"
 * for fallback.
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

/* A file written beside another, then renamed over it (output.c). */
struct output_replacement {
	FILE *out;    /* NULL when none is open */
	char *tmp;    /* owned: the hidden temporary file */
	char *target; /* owned: the file it replaces, links followed where
		       * safepath.h allows */
};

/*
 * --plot FILE.  Opened when the run starts, so an unwritable path is a
 * usage error before any sampling; written when the report is.  A
 * regular file (or a new one) is replaced atomically, like --output: the
 * picture goes to a hidden temporary file beside it, is flushed to disk
 * and renamed over it, so a reader (or a full disk) never leaves half a
 * picture, and a run that takes no sample leaves an older picture as it
 * was.  An existing FIFO or device (/dev/stdout) is written in place.
 */
struct plot_file {
	const char *path; /* borrowed from the options */
	FILE *out;        /* where the picture goes; NULL without --plot */
	struct output_replacement repl; /* a regular file: out is repl.out */
	bool in_place; /* a FIFO or a device, opened as it is */
};

/*
 * Checks before a run that --output's path leads nowhere pgdrip refuses
 * to write (safepath.h: another user's link in a sticky directory, a
 * dangling link); true without --output.  False with err.
 */
PGD_NODISCARD bool output_check_path(const struct options *opts,
				     struct errbuf *err);

/* Opens opts->plot_file if given; false with err ("cannot write ..."). */
PGD_NODISCARD bool output_plot_open(const struct options *opts,
				    struct plot_file *plot, struct errbuf *err);

/* Draws report and history into the plot file (no-op when none); false
 * with err ("cannot write \"FILE\": ...") when any write, the flush,
 * the fsync or the rename fails: the old picture then stays. */
PGD_NODISCARD bool output_plot_write(struct plot_file *plot,
				     const struct report *report,
				     const struct history *history,
				     struct errbuf *err);

/* Closes (a temporary file never written is removed); accepts a
 * plot_file that was never opened. */
void output_plot_close(struct plot_file *plot);

/* True when the locale's character set is UTF-8. */
bool output_locale_is_utf8(void);

#endif
