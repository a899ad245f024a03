/*
 * report_sessions.h - the session verdict in a report: each group's
 * verdict and evidence (its abandoned sessions, oldest use first), its
 * churn, and the sessions seen idle in a transaction too long; in wrap
 * mode the wrapped command's own sessions judged over its whole run.
 */
#ifndef PGDRIP_REPORT_SESSIONS_H
#define PGDRIP_REPORT_SESSIONS_H

#include "report.h"

/*
 * Fills the session fields of report->groups, which must still be in
 * the history's order (report->groups[i] is in->history->groups[i]),
 * from in->tracker; adds the warnings the judgement has (untraced
 * sessions a wrapped command was judged without, groups whose verdict
 * rests on counts).  Without a tracker the verdict is the trend's.
 */
void report_sessions_build(struct report *report,
			   const struct report_input *in);

/* A session seen this long before the command's end was held to it:
 * seconds (two samples of a wrapped run). */
#define REPORT_SESSIONS_END_SLACK_S 0.5

/*
 * Wrap mode: true when s belongs to the wrapped command and was left by
 * it: opened during its run (from cmd_start, server epoch), and either
 * still open once the command ended (cmd_end, server epoch; NAN while
 * it runs), or passed over while its holder went on and never used
 * again: unused at least the tracker's floor until it closed, or used
 * once at most and held until the command ended.
 */
bool report_sessions_left_by_command(const struct tracker *t,
				     const struct tracked *s, double cmd_start,
				     double cmd_end);

#endif
