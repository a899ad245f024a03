/*
 * report_json.h - the JSON report, the stable contract of
 * ../shared/PRODUCT.md: fields are added, never renamed.
 */
#ifndef PGDRIP_REPORT_JSON_H
#define PGDRIP_REPORT_JSON_H

#include "json.h"
#include "report.h"

#include <stdio.h>

/* Writes the report as one pretty-printed JSON object and a newline. */
void report_json_write(FILE *out, const struct report *report,
		       const char *pgdrip_version);

/* The members of a client process object: "pid", "command", "relation"
 * (the report's and the record's spelling alike). */
void report_json_process_members(struct json_writer *w, int pid,
				 const char *command,
				 enum client_relation relation);

#endif
