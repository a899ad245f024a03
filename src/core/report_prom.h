/*
 * report_prom.h - the report as Prometheus text exposition format 0.0.4,
 * for --format prometheus, node_exporter's textfile collector and
 * --listen's /metrics.
 *
 * Every series carries a server label (report->server_label: host:port/db,
 * never a password) so that several servers can share one exposition.
 * A label's value is the name with pgdrip's escapes, as in the JSON
 * report: any control byte other than a newline, and every byte that is
 * not valid UTF-8, becomes the text \xNN, and a backslash becomes two,
 * so the output is always valid UTF-8 and two names never make one
 * series.  The value is then escaped as the format asks (\\, \", \n):
 * a name's backslash is \\\\ in the exposition, the byte 0xFF \\xff.
 */
#ifndef PGDRIP_REPORT_PROM_H
#define PGDRIP_REPORT_PROM_H

#include "report.h"

#include <stdio.h>

/* What an HTTP server says it serves. */
#define REPORT_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Writes the report as an exposition: HELP and TYPE once per family,
 * each family's series together, warnings as comment lines.  Series
 * with no value (no forecast, no idle transaction) are left out.
 */
void report_prom_write(FILE *out, const struct report *report,
		       const char *pgdrip_version);

/*
 * The same for several servers' reports in one exposition (multi-server
 * monitoring): each family once, with every server's series in it.
 */
void report_prom_write_many(FILE *out, const struct report *const *reports,
			    size_t count, const char *pgdrip_version);

/* Writes s escaped for a label value (without the quotes). */
void report_prom_escape(FILE *out, const char *s);

#endif
