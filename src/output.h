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

/* True when the locale's character set is UTF-8. */
bool output_locale_is_utf8(void);

#endif
