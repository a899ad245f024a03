/*
 * tracker_private.h - what tracker.c, tracker_scope.c and
 * tracker_prune.c share and no other file needs: the intern table's
 * lookup, the scope index and the scopes' bookkeeping.
 */
#ifndef PGDRIP_TRACKER_PRIVATE_H
#define PGDRIP_TRACKER_PRIVATE_H

#include "tracker.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The interned copy of s ("" for NULL) in `in`, added when new. */
const char *tracker_intern_in(struct tracker_intern *in, const char *s);

/* The index hash of the scope of process pid (when not 0) or of key. */
uint64_t tracker_scope_hash(int pid, const char *key);

/* The scope of process pid (when not 0) or of the interned key; made
 * when missing and add is true, NULL when missing otherwise. */
struct tracker_scope *tracker_scope_for(struct tracker *t, int pid,
					const char *key, bool add);

/* ---- tracker_scope.c ---- */

/* A session opened at start in the scope of pid (when not 0) or key. */
void tracker_scope_note_open(struct tracker *t, int pid, const char *key,
			     double start);

/* The scope (its process's when known) a session falls in; NULL when
 * none was noted. */
const struct tracker_scope *tracker_scope_of(const struct tracker *t,
					     const struct tracked *tr);

/* A use begun at start by a session of these scopes (tr->last_use still
 * its use before): the scopes' last use, and the use of the session
 * that had sat unused the longest this sample (woke_*). */
void tracker_scope_note_use(struct tracker *t, const struct tracked *tr,
			    double start);

/* One session of the scope at work in sample k; and the scope's
 * sessions at work a sample, smoothed over about ten, as of sample k. */
void tracker_scope_count_active(struct tracker_scope *scope, size_t k);
double tracker_scope_active(const struct tracker_scope *scope, size_t k);

/* One close more for the scope's next open to replace; and whether an
 * open in the scope replaces a recent close (using its credit up). */
void tracker_scope_add_credit(struct tracker *t, int pid, const char *key);
bool tracker_scope_take_credit(struct tracker *t, int pid, const char *key);

#endif
