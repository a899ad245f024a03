/*
 * series.h - a group's connection count over time in a fixed-capacity
 * ring, so memory does not grow with the length of a run.
 *
 * Two flavours:
 * - a window series keeps the last window_s seconds; when samples come
 *   faster than SERIES_CAPACITY points can hold a window, one point per
 *   bucket of window/capacity seconds (the mean of its samples) is kept;
 * - a run series keeps the whole run: when full, adjacent points are
 *   merged pairwise and buckets double, so any run fits.
 * The ring grows to its capacity as points come (a one-shot's 500 groups
 * need a point or two each, not 8 KiB zeroed): series_free() releases it.
 */
#ifndef PGDRIP_SERIES_H
#define PGDRIP_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { SERIES_CAPACITY = 512 };

/* A point as callers see it. */
struct series_point {
	double t_s;  /* seconds since the run started (bucket start) */
	float value; /* connections; a bucket's mean can be fractional */
	bool gap;    /* samples were lost just before this point */
};

/* A point as stored: 8 bytes, so 500 groups x 2 series stay near 4 MiB.
 * Milliseconds since the run started cover 49 days. */
struct series_slot {
	uint32_t t_ms;
	float value;
};

struct series {
	struct series_slot *slots;           /* owned; cap of them */
	size_t cap;                          /* up to SERIES_CAPACITY */
	uint64_t gaps[SERIES_CAPACITY / 64]; /* one bit per slot */
	size_t start;                        /* index of the oldest point */
	size_t count;
	double window_s;   /* INFINITY for a run series */
	double bucket_s;   /* 0: one point per sample */
	bool compacting;   /* run series: merge instead of dropping */
	unsigned bucket_n; /* samples in the newest point */
	bool pending_gap;
	double last_change_t_s; /* newest point whose value differs */
};

/* window_s > 0; interval_s is the expected sample spacing. */
void series_init(struct series *series, double window_s, double interval_s);

/* A run series (see above). */
void series_init_run(struct series *series, double interval_s);

/* Releases the points; the series is empty (and usable) again. */
void series_free(struct series *series);

/* Adds a sample at t_s (non-decreasing).  O(1) amortised. */
void series_push(struct series *series, double t_s, double value);

/* series_push(), except that a series stays empty (and holds no memory)
 * until value is first non-zero: a count most groups never have, such
 * as their sessions idle in a transaction. */
void series_push_sparse(struct series *series, double t_s, double value);

/* Marks that samples were lost before the next push (a restart, a failed
 * sample): the detector must not read a jump across a gap as growth. */
void series_mark_gap(struct series *series);

/* True when every point holds the same value (or there are none): the
 * detector's O(1) shortcut for the many groups that never change. */
bool series_is_flat(const struct series *series);

/* Points in time order, oldest first; i < series_count(). */
size_t series_count(const struct series *series);
struct series_point series_at(const struct series *series, size_t i);

#endif
