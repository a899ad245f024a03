/*
 * pidmap.h - pid -> index, for the per-sample lookups that must stay
 * O(1) at thousands of sessions (the previous sample's row of a pid,
 * a traced session's cache entry, a process read once per call).
 *
 * Open addressing over a power-of-two table, at most half full; pid 0
 * (no process has it) marks a free slot.  Filled anew rather than
 * updated: entries are never removed one by one.
 */
#ifndef PGDRIP_PIDMAP_H
#define PGDRIP_PIDMAP_H

#include <stdbool.h>
#include <stddef.h>

struct pidmap {
	int *pids;
	size_t *values;
	size_t cap;
	size_t count;
};

void pidmap_finish(struct pidmap *m);

/* Empties the map, with room for n entries (it grows past them). */
void pidmap_reset(struct pidmap *m, size_t n);

/* Adds pid > 0, or replaces its value. */
void pidmap_put(struct pidmap *m, int pid, size_t value);

/* pid's value; false when absent. */
bool pidmap_get(const struct pidmap *m, int pid, size_t *value);

#endif
