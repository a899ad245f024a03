/*
 * report_tests.h - per-test sessions into the report (the analysis is
 * tests.c's): the tests a runner reported, each with the sessions it
 * opened and what became of them, and the --max-leaked-per-test check.
 * (Without tests, the sessions the command abandoned are each group's
 * evidence, report.c's.)
 */
#ifndef PGDRIP_REPORT_TESTS_H
#define PGDRIP_REPORT_TESTS_H

#include "clientfacts.h"
#include "report.h"
#include "tests.h"
#include "tracker.h"

/*
 * Fills report->tests from t and tr (sessions passing filter), and
 * report->hooks from facts (the client hooks' word, report_hooks.h;
 * NULL none), adds the
 * --max-leaked-per-test check of th and sets report->exit_code again
 * (command_status as report_build() took it).  Call after
 * report_build().  With no test reported, an explicit
 * --max-leaked-per-test is not evaluated (it never passes for want of
 * data); an implied one is left out.
 */
void report_tests_build(struct report *report, const struct tests *t,
			const struct tracker *tr,
			const struct clientfacts *facts,
			const struct filter *filter,
			const struct thresholds *th, int command_status);

/* "closed", "reused", "pooled", "unused". */
const char *report_tests_fate_name(enum tests_fate fate);

#endif
