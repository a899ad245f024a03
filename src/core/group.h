/*
 * group.h - the group key model, once: the value a session has for each
 * grouping key (--group-by), the hash and the equality of those values,
 * and an index from a hash to the entries that carry it.
 *
 * The history keeps the groups (one struct per group, followed over the
 * run); the report is their view.  Both find a group through this file,
 * so two places can never disagree on which sessions belong together.
 */
#ifndef PGDRIP_GROUP_H
#define PGDRIP_GROUP_H

#include "match.h"
#include "sample.h"

#include <stdint.h>

/* As a size_t: SIZE_MAX, "no group" (the filter left the session out). */
enum { GROUP_NONE = -1 };

/*
 * The value a session has for one key: the name, "local" for a unix
 * socket client, the state's name for GROUP_KEY_STATE.  Never NULL.
 */
const char *group_session_key(const struct session *session,
			      enum group_key key);

/* A group's values are an array indexed by enum group_key, NULL for the
 * keys not grouped by.
 *
 * FNV-1a over the grouped values in key order, with a separator after
 * each, so ("ab","c") and ("a","bc") differ. */
uint64_t group_hash_values(const char *const values[GROUP_KEY_COUNT],
			   const struct group_keys *keys);
/* The same hash, of the values session has. */
uint64_t group_hash_session(const struct session *session,
			    const struct group_keys *keys);

/* True when session has every grouped value. */
bool group_session_matches(const char *const values[GROUP_KEY_COUNT],
			   const struct group_keys *keys,
			   const struct session *session);

/* strcmp over the grouped values, in key order. */
int group_compare_values(const char *const a[GROUP_KEY_COUNT],
			 const char *const b[GROUP_KEY_COUNT],
			 const struct group_keys *keys);

/*
 * An open-addressing index: entry numbers by hash.  It holds no keys:
 * the caller probes with group_index_find() and checks each candidate
 * against its own entries, so the entries may live anywhere.  The load
 * factor stays under 1/2.
 */
struct group_index {
	struct group_index_slot {
		uint64_t hash;
		size_t entry; /* entry number + 1; 0 is an empty slot */
	} * slots;            /* owned */
	size_t slot_count;    /* a power of two */
	size_t count;
};

void group_index_init(struct group_index *index);
void group_index_finish(struct group_index *index);
/* Empties it, keeping its memory. */
void group_index_clear(struct group_index *index);
/* Adds entry under hash (an entry may be added once). */
void group_index_add(struct group_index *index, uint64_t hash, size_t entry);

/*
 * Candidates for hash, one per call: start with *cursor = 0; returns the
 * next entry number stored under hash, or GROUP_NONE when there are no
 * more.
 */
size_t group_index_find(const struct group_index *index, uint64_t hash,
			size_t *cursor);

#endif
