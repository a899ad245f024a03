/*
 * verdict.h - is a group leaking?  Judged on its sessions (tracker.h),
 * with the count's trend (trend.h) as the second opinion.
 *
 * A group is leaking when abandoned sessions keep accumulating: at
 * least VERDICT_MIN_SESSIONS of them, their last uses spread over time
 * rather than one burst (an old pool set aside at a deploy goes quiet
 * all at once), some of them abandoned since the run began.  A count
 * that grows steadily (the trend) also flags a group when the growth is
 * made of sessions that were never used again since they opened, opened
 * one after another (a pool that stalled, then opened a burst of members
 * for its backlog, rests most of them until its idle timeout).  A
 * group flagged stays flagged while its abandoned sessions remain: when
 * they are most of its sessions it is "stuck" (a pool leaked full).
 *
 * Where the server hides sessions' times (no pg_read_all_stats) or a
 * record has no identities (version 1), the verdict rests on the count
 * alone, and says so.
 */
#ifndef PGDRIP_VERDICT_H
#define PGDRIP_VERDICT_H

#include "history.h"
#include "tracker.h"

enum { VERDICT_MIN_SESSIONS = 3 };

/* "ok", "leaking", "stuck". */
const char *verdict_name(enum group_verdict verdict);

/* The last uses of a group's abandoned sessions: more than this share of
 * them within one burst window is a burst, not an accumulation. */
#define VERDICT_BURST_SHARE 0.5

/*
 * Refreshes every group's session evidence and verdict from the tracker
 * after a sample at t_s (run-relative).  interval_s is the sampling
 * interval (what "a burst" and "a while" are measured in).
 */
void verdict_update(struct history *history, const struct tracker *tracker,
		    const struct filter *filter, double interval_s);

/* The index of the history group a tracked session falls in (under the
 * history's grouping), or GROUP_NONE. */
size_t verdict_group_of(const struct history *history,
			const struct tracked *session);

/* The open sessions the wrapped command opened since cmd_start (server
 * epoch) that filter passes: --settle waits for none to be left. */
size_t verdict_command_open(const struct tracker *tracker,
			    const struct filter *filter, double cmd_start);

#endif
