/*
 * report_fold.h - the cardinality guard (--max-groups): a report with
 * thousands of groups would give a time-series database thousands of
 * series per metric; past a limit the smallest are summed into one.
 */
#ifndef PGDRIP_REPORT_FOLD_H
#define PGDRIP_REPORT_FOLD_H

#include "report.h"

/* --max-groups when not given. */
enum { REPORT_FOLD_MAX_GROUPS = 500 };

/*
 * Keeps the max_groups groups with the most connections (the report's
 * order) and sums the rest into one group with other set and every key
 * REPORT_OTHER; the same for the breakdown rows (one "other" row per
 * state).  Counts and slopes add up; the peak is the sum of the peaks
 * (an upper bound); the folded group is flagged when one of its groups
 * is, and takes the nearest forecast and the oldest idle transaction.
 * Adds a warning saying so.  0 means no limit.  Returns how many groups
 * were folded.
 */
size_t report_fold(struct report *report, size_t max_groups);

#endif
