/*
 * report_checks.h - the checks of a report (--max-total, --max-per-group,
 * --max-usage, --max-idle-tx, --max-leaked, --fail-on-growth,
 * --max-churn, --max-growth), run once its groups, limits and sessions
 * are built.
 */
#ifndef PGDRIP_REPORT_CHECKS_H
#define PGDRIP_REPORT_CHECKS_H

#include "report.h"

/* Adds a result to report->checks for every threshold t sets; the exit
 * code is the caller's (check_exit_status()). */
void report_checks_run(struct report *report, const struct thresholds *t);

#endif
