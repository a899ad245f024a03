/*
 * tracker_prune.c - the tracker forgetting names no session holds any
 * more: scopes, fine records and interned strings of sessions gone,
 * pruned when the strings have doubled (see tracker_private.h).
 */
#include "tracker_prune.h"
#include "tracker_private.h"

#include <stdlib.h>
#include <string.h>

/* The i-th live session, to change (t->live is a read-only view). */
static struct tracked *live_at(const struct tracker *t, size_t i)
{
	return session_table_payload(&t->table, i);
}

/* One session's strings, moved into the fresh intern table. */
static void reintern_session(struct tracker_intern *in, struct tracked *tr)
{
	for (int k = 0; k < GROUP_KEY_COUNT; k++) {
		if (k != GROUP_KEY_STATE && tr->keys[k] != NULL) {
			tr->keys[k] = tracker_intern_in(in, tr->keys[k]);
		}
	}
	tr->fine = tracker_intern_in(in, tr->fine);
	tr->scope = tracker_intern_in(in, tr->scope);
	tr->query = tracker_intern_in(in, tr->query);
	tr->client_command = tracker_intern_in(in, tr->client_command);
}

/* Keeps the fine records a live or remembered closed session points at
 * (kept[i]), renumbered; the sessions' fine_index follow. */
static void keep_fine(struct tracker *t, const bool *kept)
{
	size_t *moved = xcalloc(t->fine_count + 1, sizeof(*moved));
	size_t n = 0;

	for (size_t i = 0; i < t->fine_count; i++) {
		if (kept[i]) {
			moved[i] = n;
			t->fine[n++] = t->fine[i];
		}
	}
	t->fine_count = n;
	for (size_t i = 0; i < t->live_count; i++) {
		live_at(t, i)->fine_index = moved[live_at(t, i)->fine_index];
	}
	for (size_t i = 0; i < t->closed_count; i++) {
		t->closed[i].fine_index = moved[t->closed[i].fine_index];
	}
	free(moved);
}

/* Keeps the scopes of live sessions (by process and by key): a scope
 * with none only ever served sessions gone, and one made anew when a
 * session opens in it starts at that session's start, as it would. */
static void keep_scopes(struct tracker *t)
{
	bool *kept = xcalloc(t->scope_count + 1, sizeof(*kept));
	size_t n = 0;

	for (size_t i = 0; i < t->live_count; i++) {
		const struct tracker_scope *by_pid =
			live_at(t, i)->client_pid > 0
				? tracker_scope_for(t,
						    live_at(t, i)->client_pid,
						    NULL, false)
				: NULL;
		const struct tracker_scope *by_key =
			tracker_scope_for(t, 0, live_at(t, i)->scope, false);

		if (by_pid != NULL) {
			kept[by_pid - t->scopes] = true;
		}
		if (by_key != NULL) {
			kept[by_key - t->scopes] = true;
		}
	}
	for (size_t i = 0; i < t->scope_count; i++) {
		if (kept[i]) {
			t->scopes[n++] = t->scopes[i];
		}
	}
	t->scope_count = n;
	free(kept);
}

/*
 * Forgets what only names no session holds any more need: the scopes
 * and fine records of no live session (nor a closed one remembered),
 * and the interned strings none of what is kept points at.  Run when
 * the strings have doubled since the last time, so its cost is spread
 * over the samples: without it, clients putting a pid or a request id
 * in application_name grew the tracker, and each sample's verdict
 * (which visits every fine record), without bound.
 */
static void prune(struct tracker *t)
{
	bool *kept = xcalloc(t->fine_count + 1, sizeof(*kept));
	struct tracker_intern fresh;

	keep_scopes(t);
	for (size_t i = 0; i < t->live_count; i++) {
		kept[live_at(t, i)->fine_index] = true;
	}
	for (size_t i = 0; i < t->closed_count; i++) {
		kept[t->closed[i].fine_index] = true;
	}
	keep_fine(t, kept);
	free(kept);
	memset(&fresh, 0, sizeof(fresh));
	group_index_init(&fresh.index);
	arena_init(&fresh.arena);
	for (size_t i = 0; i < t->live_count; i++) {
		reintern_session(&fresh, live_at(t, i));
	}
	for (size_t i = 0; i < t->closed_count; i++) {
		reintern_session(&fresh, &t->closed[i]);
	}
	/* Fine records and scopes are found by their string's address. */
	group_index_clear(&t->by_fine);
	for (size_t i = 0; i < t->fine_count; i++) {
		t->fine[i].key = tracker_intern_in(&fresh, t->fine[i].key);
		group_index_add(&t->by_fine,
				(uint64_t)(uintptr_t)t->fine[i].key, i);
	}
	group_index_clear(&t->by_scope);
	for (size_t i = 0; i < t->scope_count; i++) {
		struct tracker_scope *sc = &t->scopes[i];

		if (sc->key != NULL) {
			sc->key = tracker_intern_in(&fresh, sc->key);
		}
		group_index_add(&t->by_scope,
				tracker_scope_hash(sc->pid, sc->key), i);
	}
	free(t->intern.strings);
	group_index_finish(&t->intern.index);
	arena_finish(&t->intern.arena);
	t->intern = fresh;
}

/* Prunes once the interned strings doubled since the last prune. */
void tracker_prune_when_grown(struct tracker *t)
{
	if (t->intern.count < t->prune_at) {
		return;
	}
	prune(t);
	t->prune_at = 2 * t->intern.count > TRACKER_PRUNE_MIN
			      ? 2 * t->intern.count
			      : TRACKER_PRUNE_MIN;
}
