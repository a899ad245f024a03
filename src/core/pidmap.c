/*
 * pidmap.c - pid -> index (see pidmap.h).
 */
#include "pidmap.h"

#include "common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void pidmap_finish(struct pidmap *m)
{
	free(m->pids);
	free(m->values);
	memset(m, 0, sizeof(*m));
}

static void make_room(struct pidmap *m, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n) {
		cap *= 2;
	}
	if (cap > m->cap) {
		free(m->pids);
		free(m->values);
		m->pids = xcalloc(cap, sizeof(*m->pids));
		m->values = xcalloc(cap, sizeof(*m->values));
		m->cap = cap;
	} else {
		memset(m->pids, 0, m->cap * sizeof(*m->pids));
	}
	m->count = 0;
}

void pidmap_reset(struct pidmap *m, size_t n)
{
	make_room(m, n);
}

/* Consecutive pids land apart (Fibonacci hashing), so a run of
 * backends forked one after another does not make one long probe. */
static size_t slot_of(const struct pidmap *m, int pid)
{
	size_t i = (size_t)(((uint32_t)pid * 2654435761u) & (m->cap - 1));

	while (m->pids[i] != 0 && m->pids[i] != pid) {
		i = (i + 1) & (m->cap - 1);
	}
	return i;
}

static void grow(struct pidmap *m)
{
	struct pidmap old = *m;

	memset(m, 0, sizeof(*m));
	make_room(m, old.cap);
	for (size_t i = 0; i < old.cap; i++) {
		if (old.pids[i] != 0) {
			pidmap_put(m, old.pids[i], old.values[i]);
		}
	}
	pidmap_finish(&old);
}

void pidmap_put(struct pidmap *m, int pid, size_t value)
{
	size_t i;

	if (m->cap == 0 || 2 * (m->count + 1) > m->cap) {
		grow(m);
	}
	i = slot_of(m, pid);
	if (m->pids[i] == 0) {
		m->pids[i] = pid;
		m->count++;
	}
	m->values[i] = value;
}

bool pidmap_get(const struct pidmap *m, int pid, size_t *value)
{
	size_t i;

	if (m->cap == 0 || pid <= 0) {
		return false;
	}
	i = slot_of(m, pid);
	if (m->pids[i] != pid) {
		return false;
	}
	*value = m->values[i];
	return true;
}
