/*
 * group.c - the group key model (see group.h): key values, their hash
 * and equality, and the index every group lookup goes through.
 */
#include "group.h"

#include <stdlib.h>
#include <string.h>

const char *group_session_key(const struct session *session, enum group_key key)
{
	switch (key) {
	case GROUP_KEY_USER:
		return session->user;
	case GROUP_KEY_APP:
		return session->app;
	case GROUP_KEY_DB:
		return session->db;
	case GROUP_KEY_CLIENT:
		if (session->client_port == -1) {
			return "local";
		}
		return session->client_addr;
	case GROUP_KEY_STATE:
		return sample_state_name(session->state);
	case GROUP_KEY_COUNT:
		break;
	}
	return "";
}

enum { FNV_SEPARATOR = 0xFF };

static uint64_t hash_bytes(uint64_t h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';
	     p++) {
		h = (h ^ *p) * 1099511628211ULL;
	}
	/* A separator after each value keeps ("ab","c") and ("a","bc")
	 * apart; a raw 0xFF inside a name only risks a collision, which
	 * the equality check resolves. */
	return (h ^ FNV_SEPARATOR) * 1099511628211ULL;
}

uint64_t group_hash_values(const char *const values[GROUP_KEY_COUNT],
			   const struct group_keys *keys)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < keys->count; i++) {
		h = hash_bytes(h, values[keys->keys[i]]);
	}
	return h;
}

uint64_t group_hash_session(const struct session *session,
			    const struct group_keys *keys)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < keys->count; i++) {
		h = hash_bytes(h, group_session_key(session, keys->keys[i]));
	}
	return h;
}

bool group_session_matches(const char *const values[GROUP_KEY_COUNT],
			   const struct group_keys *keys,
			   const struct session *session)
{
	for (size_t i = 0; i < keys->count; i++) {
		enum group_key key = keys->keys[i];

		if (values[key] == NULL ||
		    strcmp(values[key], group_session_key(session, key)) != 0) {
			return false;
		}
	}
	return true;
}

int group_compare_values(const char *const a[GROUP_KEY_COUNT],
			 const char *const b[GROUP_KEY_COUNT],
			 const struct group_keys *keys)
{
	for (size_t i = 0; i < keys->count; i++) {
		enum group_key key = keys->keys[i];
		int c = strcmp(a[key] != NULL ? a[key] : "",
			       b[key] != NULL ? b[key] : "");

		if (c != 0) {
			return c;
		}
	}
	return 0;
}

void group_index_init(struct group_index *index)
{
	memset(index, 0, sizeof(*index));
}

void group_index_finish(struct group_index *index)
{
	if (index != NULL) {
		free(index->slots);
		group_index_init(index);
	}
}

void group_index_clear(struct group_index *index)
{
	if (index->slots != NULL) {
		memset(index->slots, 0,
		       index->slot_count * sizeof(*index->slots));
	}
	index->count = 0;
}

static void place(struct group_index_slot *slots, size_t slot_count,
		  uint64_t hash, size_t entry)
{
	size_t mask = slot_count - 1;
	size_t i = (size_t)hash & mask;

	while (slots[i].entry != 0) {
		i = (i + 1) & mask;
	}
	slots[i].hash = hash;
	slots[i].entry = entry + 1;
}

/* Doubles the table (rehashing from the stored hashes) when adding one
 * more entry would pass a load factor of 1/2. */
static void reserve(struct group_index *index)
{
	size_t want = index->slot_count ? index->slot_count : 16;
	struct group_index_slot *old = index->slots;
	size_t old_count = index->slot_count;

	while (want < (index->count + 1) * 2) {
		want *= 2;
	}
	if (want == index->slot_count) {
		return;
	}
	index->slots = xcalloc(want, sizeof(*index->slots));
	index->slot_count = want;
	for (size_t i = 0; i < old_count; i++) {
		if (old[i].entry != 0) {
			place(index->slots, want, old[i].hash,
			      old[i].entry - 1);
		}
	}
	free(old);
}

void group_index_add(struct group_index *index, uint64_t hash, size_t entry)
{
	reserve(index);
	place(index->slots, index->slot_count, hash, entry);
	index->count++;
}

size_t group_index_find(const struct group_index *index, uint64_t hash,
			size_t *cursor)
{
	size_t mask;

	if (index->slot_count == 0) {
		return (size_t)GROUP_NONE;
	}
	mask = index->slot_count - 1;
	/* The cursor counts probes made, so a lookup resumes where the
	 * last candidate was found. */
	for (size_t i = ((size_t)hash + *cursor) & mask;
	     index->slots[i].entry != 0; i = (i + 1) & mask) {
		(*cursor)++;
		if (index->slots[i].hash == hash) {
			return index->slots[i].entry - 1;
		}
	}
	return (size_t)GROUP_NONE;
}
