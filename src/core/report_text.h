/*
 * report_text.h - the human report (--format text) and the one-line
 * check breach messages.
 */
#ifndef PGDRIP_REPORT_TEXT_H
#define PGDRIP_REPORT_TEXT_H

#include "report.h"
#include "text.h"

#include <stdio.h>

/* A text_style width for a file or a pipe: nothing is ever cut, every
 * column is as wide as its widest value. */
#define REPORT_TEXT_UNLIMITED (-1)

/*
 * The whole report: header (server, version, total vs usable, usage,
 * idle_session_timeout when set), the groups table sorted by connections
 * (fits style->width columns, 80 when 0; with REPORT_TEXT_UNLIMITED
 * nothing is cut), the idle-in-transaction list, limits near
 * exhaustion, warnings.  Every server string goes through text.c.
 */
void report_text_write(FILE *out, const struct report *report,
		       const struct text_style *style);

/* A breached check's values as its line on stderr says them: "11
 * connections (limit 10)", "75.0% used (limit 70.0%)".  Into buf (len
 * bytes, always terminated). */
void report_text_format_check(char *buf, size_t len,
			      const struct check_result *c);

/*
 * One line per failed check, "pgdrip: check max-total failed: total: 42
 * connections (limit 10)" style, sanitized, to out (stderr); a check
 * that could not be evaluated gets a "not evaluated" line with its
 * reason, then a "pgdrip: hint:" line with what to run.
 */
void report_text_write_breaches(FILE *out, const struct report *report,
				bool utf8);

#endif
