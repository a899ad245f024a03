/*
 * history.h - the groups, followed over time: each sample's sessions are
 * filtered and counted into their group (found through group.h's one
 * index), and each group keeps its whole-run figures (baseline, peak,
 * minimum, last), the window and run series, and the detector's verdict.
 * Sessions idle in transaction are followed by identity (session.h).
 *
 * Groups that disappear are kept (at 0) so the report can say where they
 * went, for a --window; then, outside a wrapped run,
 * history_retire_idle() folds them into one retired total, so memory
 * and the cost of a sample are bounded by the groups of the last window,
 * not by every name ever seen (clients that put a pid or a request id in
 * application_name).
 */
#ifndef PGDRIP_HISTORY_H
#define PGDRIP_HISTORY_H

#include "group.h"
#include "sample.h"
#include "series.h"
#include "session.h"
#include "trend.h"

enum group_verdict {
	VERDICT_OK,
	VERDICT_LEAKING, /* abandoned sessions accumulate */
	VERDICT_STUCK,   /* ... and hold most of the group */
};

/* A group's sessions as the verdict saw them at the last sample. */
struct group_sessions {
	bool known;      /* identities seen: the verdict rests on sessions */
	int tracked;     /* open sessions followed */
	int abandoned;   /* passed over, unused past the threshold */
	int passed_over; /* passed over, not yet past it */
	int unused_long; /* not passed over, yet unused well past it */
	int busy;        /* in use, or used within the threshold */
	/* Unused past the threshold yet not counted, and why: */
	int listeners;       /* their last statement was LISTEN */
	int resting;         /* no sibling went on without them: a pool at rest,
			      * a pre-filled pool's untouched members */
	int fell;            /* of those: sidelined, but the work fell with
			      * them (a load falling, or a pool drained) */
	double unused_min_s; /* of those and the long unused; NAN none */
	double unused_max_s;
	double every_s;           /* mean spacing of their last uses; NAN */
	bool spread;              /* their last uses are not one burst */
	bool spread_idle;         /* ... nor with the long unused ones */
	bool spread_quiet;        /* ... nor within one sample burst */
	int skipped;              /* long unused, the group working on for
				   * two of their turns after their last use */
	double last_work;         /* the latest use of any of its sessions */
	int recent;               /* abandoned since the run began */
	int exonerated;           /* looked abandoned, then were used again */
	int unused_new;           /* opened in the run, never used since */
	bool spread_new;          /* ... and not opened in one burst */
	double threshold_s;       /* unused this long makes one abandoned */
	double opened_per_min;    /* sessions opened, per minute of the run */
	double median_lifetime_s; /* of those seen closing; NAN none */
	size_t closed;            /* seen closing */
};

struct group_history {
	char *keys[GROUP_KEY_COUNT]; /* owned; NULL for keys not grouped by */
	uint64_t hash;               /* group_hash_values() of keys */

	/* As of the last sample. */
	int last;
	int states[SESSION_STATE_COUNT];
	double oldest_idle_tx_s; /* longest "idle for" of idle-tx sessions; NAN
				  */
	double oldest_xact_s;    /* longest transaction age among those; NAN */

	/* Over the run. */
	int baseline; /* count at the first sample (0 if absent) */
	int peak;
	int minimum;
	double first_seen_s; /* run-relative seconds */
	double last_seen_s;
	struct series window; /* the last --window */
	struct series run;    /* the whole run, compacted (wrap verdict) */
	/* Over the whole run, as run is, and empty until first non-zero
	 * (series_push_sparse()): the sessions idle in a transaction
	 * (aborted too), and those the verdict counted abandoned. */
	struct series run_idle_tx;
	struct series run_abandoned;
	struct trend_result trend; /* the count's, the second opinion */
	/* The verdict (verdict.c): on the sessions where they are known,
	 * else on the count's trend. */
	bool flagged;
	enum group_verdict verdict;
	struct group_sessions sessions;
	double first_flagged_s; /* NAN when never flagged */
	size_t seen_in_sample;  /* history->samples when last present */
	/* The local process last seen holding most of the group's traced
	 * sessions: it outlives the process, so a leak whose sessions
	 * closed at exit can still be laid at its door.  holder_pid 0 when
	 * none was traced. */
	int holder_pid;
	char *holder_command; /* owned; NULL when holder_pid is 0 */
	enum client_relation holder_relation;
	int holder_sessions;  /* the most it was seen holding at once */
	double holder_seen_s; /* run-relative, last time seen */
	double analyzed_t_s;  /* when the detector last ran */
	int analyzed_value;   /* the count it saw then */
};

/* A session idle in transaction, followed across samples by its
 * identity (session.h) and its transaction's start. */
struct idle_tx_track {
	struct session_id id;
	double xact_start_epoch_s; /* NAN for aborted ones (none reported) */
	double first_seen_s;       /* run-relative */
	int samples_seen;
};

/* The groups history_retire_idle() dropped, summed. */
struct history_retired {
	size_t groups;
	long long baseline; /* their baselines added up */
	int peak;           /* the highest any of them reached */
};

struct history {
	struct group_keys keys;
	double window_s;
	double interval_s;
	double started_epoch_s; /* wall clock of the first sample */
	double last_t_s;        /* run-relative time of the last sample */
	size_t samples;         /* successful samples */
	size_t failed_samples;
	int last_total; /* sessions the filter passed, last sample */
	struct group_history *groups; /* owned, in order of appearance */
	size_t group_count;
	size_t group_cap;
	struct group_index index;      /* groups by their keys */
	struct idle_tx_track *idle_tx; /* owned; as of the last sample */
	size_t idle_tx_count;
	size_t idle_tx_cap;
	struct trend_params trend_params;
	struct history_retired retired;
};

void history_init(struct history *history, const struct group_keys *keys,
		  double window_s, double interval_s);
void history_finish(struct history *history);

/*
 * Folds one successful sample in: each session the filter accepts is
 * counted into its group (created on first sight), groups absent from
 * the sample count 0, the detector runs on every group.  When member is
 * not NULL it receives, per session of the sample, the index of its
 * group in history->groups, or GROUP_NONE (room for
 * sample->session_count entries).
 */
void history_add(struct history *history, const struct sample *sample,
		 const struct filter *filter, size_t *member);

/* Records a failed sample: a gap in every series. */
void history_add_failure(struct history *history);

/*
 * Retires the groups with no session at the last sample, none seen for
 * a whole --window and no leak verdict standing: their keys and series
 * are freed, their figures summed into history->retired.  The groups'
 * order is kept; their indices change (member maps are filled anew by
 * the next history_add()).  Returns how many were retired.
 */
size_t history_retire_idle(struct history *history);

/* Makes the current counts the new baseline (live view 'b'). */
void history_rebaseline(struct history *history);

/* The group with these values (indexed by enum group_key), NULL if
 * none. */
const struct group_history *history_find(
	const struct history *history,
	const char *const values[GROUP_KEY_COUNT]);

/* The index of the group session belongs to, or GROUP_NONE when no
 * group has its values yet.  (The filter is the caller's.) */
size_t history_group_of(const struct history *history,
			const struct session *session);

/* Seconds (run-relative) since session id was first seen idle in the same
 * transaction; NAN when not tracked. */
double history_idle_tx_since_s(const struct history *history,
			       struct session_id id);

#endif
