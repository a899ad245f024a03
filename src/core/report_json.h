/*
 * report_json.h - the JSON report, the stable contract of
 * ../shared/PRODUCT.md: fields are added, never renamed.
 */
#ifndef PGDRIP_REPORT_JSON_H
#define PGDRIP_REPORT_JSON_H

#include "report.h"

#include <stdio.h>

/* Writes the report as one pretty-printed JSON object and a newline. */
void report_json_write(FILE *out, const struct report *report,
		       const char *pgdrip_version);

#endif
