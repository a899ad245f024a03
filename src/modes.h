/*
 * modes.h - the modes, a small file each: what to sample when, and when
 * to stop.  Each returns the run's exit status; the loop (loop.c) does
 * the waiting, run.c the set-up and the reports.
 */
#ifndef PGDRIP_MODES_H
#define PGDRIP_MODES_H

#include "run.h"

int mode_once(struct run *run);  /* mode_once.c */
int mode_watch(struct run *run); /* mode_watch.c, one server or several */
int mode_wrap(struct run *run);  /* mode_wrap.c */
int mode_drain(struct run *run); /* mode_drain.c */
int mode_live(struct run *run);  /* mode_live.c */
int mode_replay(const struct options *opts); /* mode_replay.c: no server */

/*
 * How long a server that does not answer is tried (patience.c): a
 * server that was never reached and refuses for good (a bad password,
 * an unknown role) is given up at once; one that is down or starting is
 * waited for within --retry-for (30 s for --once and before a wrapped
 * command starts, else forever), and so is one lost mid-run.  Each says what it
 * waits for, once.
 */
struct patience {
	int64_t budget_ms; /* -1: forever */
	bool said;         /* the current outage was announced */
};

void patience_init(struct patience *p, const struct options *opts);
/* After a failed outcome of t: true when t is to be given up now (the
 * reason said, except for a server never reached: run_unreachable()
 * says that). */
bool patience_exhausted(struct patience *p, const struct target *t,
			int64_t now_ms);
/* After a sample: the next outage is announced again. */
void patience_reset(struct patience *p);

#endif
