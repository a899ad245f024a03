/*
 * tracker.h - every client session followed by its identity (pid and
 * backend_start: a pid reused after a close is a new session), with
 * when it opened, when it was last used, whether it was ever used
 * again, the process holding it, and when it closed.
 *
 * A session's use shows in pg_stat_activity as query_start and
 * state_change moving on.  A pooled session is used again and again; a
 * leaked one is opened, used once or never, and then sits unused while
 * its holder goes on working: the holder opens another session rather
 * than use it.  That is the tracker's evidence (see session_abandoned):
 *
 *   passed over  another session opened in its scope (the same client
 *                process, or without that the same user, application,
 *                database and client address) after its last use;
 *   abandoned    passed over, not used since, and unused longer than
 *                its group's own reuse gaps explain (with a floor),
 *                in a scope that went on opening sessions for that
 *                long (a pool warming up opens a few in a burst and
 *                passes over none for good);
 *   sidelined    taken (used after its opening) and then left while
 *                another session of its scope was used after its last
 *                use: a pool that is full opens no more, yet a member
 *                leaked from it falls out of use while the others
 *                serve;
 *   listener     its last statement was LISTEN: held on purpose to
 *                wait for notifications, never a leak.
 *
 * Memory is bounded by the live sessions plus a fixed ring of recently
 * closed ones, whatever the length of the run: the scopes, fine records
 * and interned strings of names no such session holds are forgotten
 * as they pile up.
 */
#ifndef PGDRIP_TRACKER_H
#define PGDRIP_TRACKER_H

#include "arena.h"
#include "group.h"
#include "sample.h"
#include "session_table.h"

#include <stdint.h>

/* Reuse gaps on a log scale: bucket i holds gaps below 0.1 s * 1.5^i. */
enum { TRACKER_GAP_BUCKETS = 32 };

/* A use within this long of a session's start is its opening's own
 * set-up (a driver's settings, a pool's validation query), not a
 * checkout: seconds. */
#define TRACKER_SETUP_S 1.0

struct tracker_params {
	/* A session opened this long after another's last use passed it
	 * over (a pool opening several at once passes none over). */
	double passed_margin_s;
	/* Unused at least this long before a passed-over session counts as
	 * abandoned, whatever its group's gaps. */
	double floor_s;
	/* ... and at least this many times its group's 95th percentile
	 * reuse gap. */
	double gap_factor;
	/* A sibling taken after a session's last use sidelines it when
	 * its own use before was this much earlier (see tracker.c's
	 * mark_passed_over). */
	double colder_margin_s;
	size_t closed_cap; /* closed sessions kept */
};

/* The defaults for sampling every interval_s (wrap mode: shorter). */
void tracker_default_params(struct tracker_params *params, double interval_s,
			    bool wrap);

/* What is known of one session.  Strings are interned by the tracker
 * (equal strings are the same pointer) and live as long as it does. */
struct tracked {
	struct session_id id; /* the identity */
	/* Its pid and start again, the start as server epoch seconds for
	 * the arithmetic of moments. */
	int pid;
	double backend_start;
	const char *keys[GROUP_KEY_COUNT]; /* user, app, db, client, state */
	/* Moments on the server's clock (epoch seconds), as its
	 * timestamps are. */
	double first_seen;     /* the first sample it was in */
	double last_seen;      /* the last sample it was open in */
	double closed_at;      /* the first sample it was gone from; NAN */
	double last_use;       /* its last use */
	double passed_over_at; /* server epoch; NAN when never passed over */
	unsigned uses;         /* distinct uses seen (a query start) */
	bool in_use;           /* active at the last sample */
	bool reused;           /* seen used again after sitting idle */
	bool exonerated;       /* once abandoned-looking, then used */
	bool weak;             /* times hidden (no pg_read_all_stats) */
	bool taken;            /* used after its opening's own set-up */
	bool listener;         /* its last statement was LISTEN */
	double sidelined_at;   /* server epoch; NAN when not sidelined */
	bool woken_past;       /* ... by a sibling that sat unused longer */
	double active_at_use;  /* its scope's tracker_scope_active() then */
	size_t used_sample;    /* the sample its last use was seen in */
	enum session_state state;
	double max_idle_tx_s; /* longest idle in a transaction seen; -1 never */
	double idle_tx_since; /* server epoch the current one began; NAN */
	const char *query;    /* interned: its last query (cut) */
	int client_pid;       /* 0 unknown */
	const char *client_command; /* interned; "" */
	enum client_relation client_relation;
	const char *fine;  /* interned "user\x1fapp\x1fdb": gaps key */
	const char *scope; /* interned fine key and client address */
	size_t fine_index; /* its record in tracker->fine */
};

/* Reuse gaps and session counts per user, application and database. */
struct tracker_fine {
	const char *key; /* interned */
	uint32_t gaps[TRACKER_GAP_BUCKETS];
	uint32_t gap_count;
	size_t opened; /* sessions first seen in it */
	size_t closed;
	size_t exonerated;
	double longest_return_s; /* the longest an exonerated one sat */
};

struct tracker {
	struct tracker_params params;
	double now;     /* the server's clock at the last sample */
	double started; /* ... at the first one */
	size_t samples;
	/* The live sessions: the session table's entries, each with its
	 * struct tracked as the entry's payload. */
	struct session_table table;
	/* The table's payloads as an array, live_count of them, in the
	 * table's order (a view, set anew by every tracker_add). */
	const struct tracked *live;
	size_t live_count;
	struct tracked *closed; /* owned; a ring of closed_cap */
	size_t closed_count;    /* held, at most closed_cap */
	size_t closed_next;     /* where the next one goes */
	size_t closed_total;    /* every close seen */
	size_t opened_total;    /* every open seen (after the first sample) */
	struct tracker_fine *fine; /* owned */
	size_t fine_count;
	size_t fine_cap;
	struct group_index by_fine;
	/* Scopes: the newest session opened per client process and per
	 * user/app/db/client, for "passed over". */
	struct tracker_scope {
		int pid;           /* 0: keyed by the strings */
		const char *key;   /* interned; NULL when keyed by pid */
		double first_open; /* server epoch */
		double last_open;
		double last_use; /* the latest use begun by any of them */
		/* Of the uses begun in sample woke_sample, the one of the
		 * session that had sat unused the longest: its start and
		 * its use before (see tracker_sidelined). */
		double woke_start;
		double woke_prev;
		size_t woke_sample;
		/* Its sessions active at a sample, smoothed over about ten
		 * (the work it does, whichever members do it): the decayed
		 * sum and weight as of sample active_sample, whose own count
		 * (active_now) is not yet folded in. */
		double active_sum;
		double active_weight;
		size_t active_sample;
		unsigned active_now;
		/* Closes not yet replaced, as of sample credit_sample: an
		 * open that replaces a close (a pool retiring a member at
		 * its maximum lifetime) passes no one over. */
		int credit;
		size_t credit_sample;
	} * scopes; /* owned */
	/* The sessions the sample being folded in opened (their scopes are
	 * told once its closes are known). */
	struct tracker_opened {
		const char *scope;
		int client_pid;
		double start;
	} * opened; /* owned */
	size_t opened_count;
	size_t opened_cap;
	size_t scope_count;
	size_t scope_cap;
	struct group_index by_scope;
	struct tracker_intern {
		struct group_index index;
		char **strings; /* owned, each from the arena */
		size_t count;
		size_t cap;
		struct arena arena;
	} intern;
	bool identities; /* the samples carry identities (not a v1 record) */
	size_t prune_at; /* interned strings that trigger forgetting */
};

/* Interned strings below which nothing is forgotten (tracker.c). */
enum { TRACKER_PRUNE_MIN = 4096 };

void tracker_init(struct tracker *t, const struct tracker_params *params);

/* New parameters from now on (a replay learns it is a wrapped run only
 * from its record); the closed sessions held are kept, up to the new
 * capacity. */
void tracker_set_params(struct tracker *t, const struct tracker_params *params);
void tracker_finish(struct tracker *t);

/*
 * Folds in one successful sample: sessions new, changed and gone.
 * Sessions without an identity (aggregated rows of an old record, rows
 * whose times the server hides) are left out.
 */
void tracker_add(struct tracker *t, const struct sample *sample);

/* The tracked session of a live session of the last sample; NULL when
 * it has no identity. */
const struct tracked *tracker_find(const struct tracker *t,
				   struct session_id id);

/* Seconds unused at the last sample (0 while in use). */
double tracker_unused_s(const struct tracker *t, const struct tracked *s);

/* True when s was passed over (see above) and not used since. */
bool tracker_passed_over(const struct tracker *t, const struct tracked *s);

/* The 95th percentile of the reuse gaps seen in fine key s->fine
 * (seconds; 0 when none seen yet). */
double tracker_gap_p95_s(const struct tracker *t, const char *fine);

/* The time unused after which a passed-over session of fine key is
 * abandoned: max(floor, gap_factor * p95 gap, and half again the
 * longest a passed-over session of it sat before it was used again). */
double tracker_threshold_s(const struct tracker *t, const char *fine);

/* Passed over and unused past its threshold, in a scope that opened
 * sessions over at least that long. */
bool tracker_abandoned(const struct tracker *t, const struct tracked *s);

/* True when s was taken, then sidelined (see above) and not used
 * since. */
bool tracker_sidelined(const struct tracker *t, const struct tracked *s);

/* True when s's work went on without it: a sibling that had sat unused
 * longer was taken after its last use (a pool reaching for the next
 * member in line), or its scope still has as many sessions at work as
 * then (within most of one).  False when the work fell with it: a pool
 * handing out its first free or last returned member leaves members
 * quiet one after another as its load falls, each still the pool's. */
bool tracker_replaced(const struct tracker *t, const struct tracked *s);

/* True when a wrapped command's process tree holds s, or its holder is
 * unknown (a proxy, a container, another host: the filter decides). */
bool tracker_of_command(const struct tracked *s);

/* True when query (a session's last statement) is a LISTEN. */
bool tracker_listen_query(const char *query);

/* The fine-key record, NULL if none. */
const struct tracker_fine *tracker_fine_of(const struct tracker *t,
					   const char *fine);

/* A closed session by age: 0 the newest; i < t->closed_count. */
const struct tracked *tracker_closed_at(const struct tracker *t, size_t i);

#endif
