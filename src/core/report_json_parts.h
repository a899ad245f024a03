/*
 * report_json_parts.h - pieces shared by the JSON report's writers
 * (report_json.c, report_json_tests.c) and the record's.
 */
#ifndef PGDRIP_REPORT_JSON_PARTS_H
#define PGDRIP_REPORT_JSON_PARTS_H

#include "json.h"
#include "report_json.h"

#include <stdbool.h>

/* epoch_s (seconds, UTC) as "2026-11-22T12:00:00Z"; null when unknown
 * (NAN) or outside years 1970-9999. */
void report_json_time(struct json_writer *w, double epoch_s);

/* "pid", "command" and, when with_relation, "relation". */
void report_json_process_fields(struct json_writer *w, int pid,
				const char *command,
				enum client_relation relation,
				bool with_relation);

#endif
