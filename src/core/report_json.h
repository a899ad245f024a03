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

/* Several servers watched side by side: {"pgdrip", "servers": [one
 * report object each, as report_json_write() writes it], "exit_code"}. */
void report_json_write_fleet(FILE *out, const struct report *const *reports,
			     size_t count, int exit_code,
			     const char *pgdrip_version);

/* The members of a client process object: "pid", "command", "relation"
 * (the report's and the record's spelling alike). */
void report_json_process_members(struct json_writer *w, int pid,
				 const char *command,
				 enum client_relation relation);

#endif
