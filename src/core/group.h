/*
 * group.h - one sample's client sessions, filtered and grouped by the
 * chosen keys (role and application by default), with counts per state.
 */
#ifndef PGDRIP_GROUP_H
#define PGDRIP_GROUP_H

#include "match.h"
#include "sample.h"

struct group {
	/* Indexed by enum group_key; NULL for keys not grouped by.  The
	 * strings belong to the sample the set was built from. */
	const char *keys[GROUP_KEY_COUNT];
	int connections;
	int states[SESSION_STATE_COUNT];
	double oldest_idle_tx_s; /* longest "idle for" of idle-tx sessions; NAN */
	double oldest_xact_s;    /* longest transaction age among those; NAN */
	/* The local client process holding most of the group's sessions
	 * that attribution traced (holder_pid 0 when none was traced); the
	 * command belongs to the sample. */
	int holder_pid;
	const char *holder_command;
	enum client_relation holder_relation;
	int holder_sessions;
	size_t built_as; /* its index before the sort (group.c's own) */
};

/*
 * Groups of one sample, sorted by connections (descending), then keys.
 * Borrows strings from the sample: the sample must outlive the set.
 */
struct group_set {
	struct group *groups; /* owned */
	size_t count;
	size_t cap;
	int total;            /* sessions that passed the filter */
	int total_unfiltered; /* every client session in the sample */
	size_t *slots;        /* owned; hash of group indexes + 1, 0 empty */
	size_t slot_count;    /* a power of two */
	/* Per session of the sample: the index of its group, or
	 * GROUP_NONE when the filter left it out. */
	size_t *member; /* owned */
	size_t member_cap;
};

enum { GROUP_NONE = -1 }; /* as a size_t: SIZE_MAX */

void group_set_init(struct group_set *set);
void group_set_finish(struct group_set *set);

/* Rebuilds set from sample: filter, then group by keys. */
void group_set_build(struct group_set *set, const struct sample *sample,
		     const struct filter *filter,
		     const struct group_keys *keys);

/* The group session i of the sample falls in; NULL when the filter left
 * it out. */
struct group *group_set_group_of(struct group_set *set, size_t i);

/* Sets each group's holder from the sessions attribution traced
 * (client_pid > 0); call after group_set_build() on the same sample. */
void group_set_assign_holders(struct group_set *set,
			      const struct sample *sample);

/*
 * The value a session has for one key: the name, "local" for a unix
 * socket client, the state's name for GROUP_KEY_STATE.
 */
const char *group_session_key(const struct session *session,
			      enum group_key key);

/* True when the session belongs to the group (every grouped key equal). */
bool group_contains(const struct group *group, const struct group_keys *keys,
		    const struct session *session);

/* strcmp over the grouped keys, for sorting and lookups. */
int group_compare_keys(const struct group *a, const struct group *b,
		       const struct group_keys *keys);

#endif
