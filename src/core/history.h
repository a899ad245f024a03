/*
 * history.h - the groups followed over time: whole-run figures (baseline,
 * peak, minimum, last), the window series and the detector's verdict per
 * group, and the sessions idle in transaction followed by pid.
 *
 * Groups that disappear are kept (at 0) so the report can say where they
 * went.  Memory is bounded by the number of groups, not run length.
 */
#ifndef PGDRIP_HISTORY_H
#define PGDRIP_HISTORY_H

#include "group.h"
#include "sample.h"
#include "series.h"
#include "trend.h"

struct group_history {
	char *keys[GROUP_KEY_COUNT]; /* owned; NULL for keys not grouped by */
	int baseline;                /* count at the first sample (0 if absent) */
	int peak;
	int minimum;
	int last;
	int states[SESSION_STATE_COUNT]; /* at the last sample */
	double oldest_idle_tx_s;         /* at the last sample; NAN */
	double oldest_xact_s;
	double first_seen_s; /* run-relative seconds */
	double last_seen_s;
	struct series window;   /* the last --window */
	struct series run;      /* the whole run, compacted (wrap verdict) */
	struct trend_result trend;
	double first_flagged_s; /* NAN when never flagged */
	size_t seen_in_sample;  /* history->samples when last present */
	/* The local process last seen holding most of the group's traced
	 * sessions: it outlives the process, so a leak whose sessions
	 * closed at exit can still be laid at its door.  holder_pid 0 when
	 * none was traced. */
	int holder_pid;
	char *holder_command; /* owned; NULL when holder_pid is 0 */
	enum client_relation holder_relation;
	int holder_sessions; /* the most it was seen holding at once */
	double holder_seen_s; /* run-relative, last time seen */
	double analyzed_t_s;    /* when the detector last ran */
	int analyzed_value;     /* the count it saw then */
};

/* A session idle in transaction, followed across samples by pid. */
struct idle_tx_track {
	int pid;
	double xact_start_epoch_s; /* NAN for aborted ones (none reported) */
	double first_seen_s;       /* run-relative */
	int samples_seen;
};

struct history {
	struct group_keys keys;
	double window_s;
	double interval_s;
	double started_epoch_s; /* wall clock of the first sample */
	double last_t_s;        /* run-relative time of the last sample */
	size_t samples;         /* successful samples */
	size_t failed_samples;
	struct group_history *groups; /* owned */
	size_t group_count;
	size_t group_cap;
	struct idle_tx_track *idle_tx; /* owned; as of the last sample */
	size_t idle_tx_count;
	size_t idle_tx_cap;
	struct trend_params trend_params;
	size_t *slots;     /* owned; hash of group indexes + 1, 0 empty */
	size_t slot_count; /* a power of two, at least 2x group_count */
};

void history_init(struct history *history, const struct group_keys *keys,
		  double window_s, double interval_s);
void history_finish(struct history *history);

/*
 * Folds one successful sample (already grouped into set) in.  Groups
 * absent from set count 0 this time.  Runs the detector on every group.
 */
void history_add(struct history *history, const struct sample *sample,
		 const struct group_set *set);

/* Records a failed sample at sample_epoch_s: a gap in every series. */
void history_add_failure(struct history *history, double sample_epoch_s);

/* Makes the current counts the new baseline (live view 'b'). */
void history_rebaseline(struct history *history);

/* The history entry for a group of the current set, NULL if none. */
const struct group_history *
history_find(const struct history *history, const struct group *group);

/* Seconds (run-relative) since pid was first seen idle in the same
 * transaction; NAN when not tracked. */
double history_idle_tx_since_s(const struct history *history, int pid);

#endif
