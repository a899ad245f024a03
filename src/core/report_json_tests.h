/*
 * report_json_tests.h - the per-test sessions in the JSON report
 * (report_tests.c builds them; pgdrip(1) TESTS).
 */
#ifndef PGDRIP_REPORT_JSON_TESTS_H
#define PGDRIP_REPORT_JSON_TESTS_H

#include "json.h"
#include "report.h"

/* "tests", "test_setups" (arrays, possibly empty) and "tests_summary",
 * as members of the object w is in. */
void report_json_tests_write(struct json_writer *w, const struct report *r);

#endif
