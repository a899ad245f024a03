/*
 * tracker_private.h - what tracker.c and tracker_prune.c share and no
 * other file needs: the intern table's lookup and the scope index.
 */
#ifndef PGDRIP_TRACKER_PRIVATE_H
#define PGDRIP_TRACKER_PRIVATE_H

#include "tracker.h"

#include <stdbool.h>
#include <stdint.h>

/* The interned copy of s ("" for NULL) in `in`, added when new. */
const char *tracker_intern_in(struct tracker_intern *in, const char *s);

/* The index hash of the scope of process pid (when not 0) or of key. */
uint64_t tracker_scope_hash(int pid, const char *key);

/* The scope of process pid (when not 0) or of the interned key; made
 * when missing and add is true, NULL when missing otherwise. */
struct tracker_scope *tracker_scope_for(struct tracker *t, int pid,
					const char *key, bool add);

#endif
