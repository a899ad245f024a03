/*
 * series.c - fixed-capacity time series (see series.h).
 */
#include "series.h"

#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t to_ms(double t_s)
{
	if (!(t_s > 0)) {
		return 0;
	}
	return t_s >= 4294967.0 ? UINT32_MAX : (uint32_t)llround(t_s * 1000);
}

void series_init(struct series *series, double window_s, double interval_s)
{
	memset(series, 0, sizeof(*series));
	series->last_change_t_s = -INFINITY;
	series->window_s = window_s;
	/* Bucket only when a window of samples would not fit. */
	if (interval_s > 0 && window_s / interval_s > SERIES_CAPACITY - 1) {
		series->bucket_s = window_s / (SERIES_CAPACITY - 1);
	}
}

void series_init_run(struct series *series, double interval_s)
{
	(void)interval_s;
	memset(series, 0, sizeof(*series));
	series->last_change_t_s = -INFINITY;
	series->window_s = INFINITY;
	series->compacting = true;
}

void series_free(struct series *series)
{
	free(series->slots);
	series->slots = NULL;
	series->cap = 0;
	series->start = 0;
	series->count = 0;
	memset(series->gaps, 0, sizeof(series->gaps));
}

size_t series_count(const struct series *series)
{
	return series->count;
}

static size_t slot_index(const struct series *series, size_t i)
{
	return (series->start + i) % series->cap;
}

static bool gap_at(const struct series *series, size_t slot)
{
	return (series->gaps[slot / 64] >> (slot % 64)) & 1;
}

static void set_gap(struct series *series, size_t slot, bool gap)
{
	uint64_t bit = (uint64_t)1 << (slot % 64);

	if (gap) {
		series->gaps[slot / 64] |= bit;
	} else {
		series->gaps[slot / 64] &= ~bit;
	}
}

struct series_point series_at(const struct series *series, size_t i)
{
	size_t slot = slot_index(series, i);
	struct series_point p = {
		.t_s = series->slots[slot].t_ms / 1000.0,
		.value = series->slots[slot].value,
		.gap = gap_at(series, slot),
	};

	return p;
}

static double oldest_t_s(const struct series *series)
{
	return series->slots[series->start].t_ms / 1000.0;
}

/* Halves a full run series: each pair of points becomes one (the first
 * one's time, the mean value, a gap if either had one). */
static void compact(struct series *series)
{
	struct series_slot merged[SERIES_CAPACITY / 2];
	bool gaps[SERIES_CAPACITY / 2];
	double span;

	for (size_t i = 0; i < SERIES_CAPACITY / 2; i++) {
		size_t a = slot_index(series, 2 * i);
		size_t b = slot_index(series, 2 * i + 1);

		merged[i].t_ms = series->slots[a].t_ms;
		merged[i].value = (series->slots[a].value +
				   series->slots[b].value) /
				  2;
		gaps[i] = gap_at(series, a) || gap_at(series, b);
	}
	memset(series->gaps, 0, sizeof(series->gaps));
	memcpy(series->slots, merged, sizeof(merged));
	for (size_t i = 0; i < SERIES_CAPACITY / 2; i++) {
		set_gap(series, i, gaps[i]);
	}
	series->start = 0;
	series->count = SERIES_CAPACITY / 2;
	/* New points now cover what two old ones did. */
	span = (merged[series->count - 1].t_ms - merged[0].t_ms) / 1000.0;
	series->bucket_s = 2 * span / (series->count - 1);
	series->bucket_n = 0;
}

/* Room for twice the points (up to the capacity), oldest at slot 0. */
static void grow(struct series *series)
{
	size_t cap = series->cap == 0 ? 8 : 2 * series->cap;
	struct series_slot *slots;
	uint64_t gaps[SERIES_CAPACITY / 64] = {0};

	cap = cap < SERIES_CAPACITY ? cap : SERIES_CAPACITY;
	slots = xcalloc(cap, sizeof(*slots));
	for (size_t i = 0; i < series->count; i++) {
		size_t from = slot_index(series, i);

		slots[i] = series->slots[from];
		gaps[i / 64] |= (uint64_t)gap_at(series, from) << (i % 64);
	}
	free(series->slots);
	series->slots = slots;
	series->cap = cap;
	series->start = 0;
	memcpy(series->gaps, gaps, sizeof(gaps));
}

static void append(struct series *series, double t_s, double value)
{
	size_t slot;

	if (series->count == series->cap && series->cap < SERIES_CAPACITY) {
		grow(series);
	}
	if (series->count == SERIES_CAPACITY) {
		if (series->compacting) {
			compact(series);
		} else {
			series->start = (series->start + 1) % series->cap;
			series->count--;
		}
	}
	series->count++;
	slot = slot_index(series, series->count - 1);
	series->slots[slot].t_ms = to_ms(t_s);
	series->slots[slot].value = (float)value;
	set_gap(series, slot, series->pending_gap);
	series->pending_gap = false;
	series->bucket_n = 1;
}

/*
 * Buckets sit on a fixed grid of bucket_s: a bucket that started at its
 * first sample would take every second sample whenever the interval is
 * a little shorter than a bucket, halving the resolution.
 */
static bool same_bucket(const struct series *series, double last_t_s,
			double t_s)
{
	return t_s - last_t_s < series->bucket_s &&
	       floor(t_s / series->bucket_s) ==
		       floor(last_t_s / series->bucket_s);
}

void series_push(struct series *series, double t_s, double value)
{
	struct series_slot *last = NULL;

	if (series->count > 0) {
		last = &series->slots[slot_index(series, series->count - 1)];
		if ((float)value != last->value) {
			series->last_change_t_s = t_s;
		}
	}
	if (last != NULL && series->bucket_s > 0 && !series->pending_gap &&
	    series->bucket_n > 0 &&
	    same_bucket(series, last->t_ms / 1000.0, t_s)) {
		/* Same bucket: keep the running mean. */
		series->bucket_n++;
		last->value += (float)((value - last->value) /
				       series->bucket_n);
	} else {
		append(series, t_s, value);
	}
	while (series->count > 0 &&
	       oldest_t_s(series) < t_s - series->window_s) {
		series->start = (series->start + 1) % series->cap;
		series->count--;
	}
}

void series_push_sparse(struct series *series, double t_s, double value)
{
	if (series->count > 0 || value != 0) {
		series_push(series, t_s, value);
	}
}

bool series_is_flat(const struct series *series)
{
	return series->count == 0 ||
	       series->last_change_t_s <= oldest_t_s(series);
}

void series_mark_gap(struct series *series)
{
	series->pending_gap = true;
}
