/*
 * history.c - groups followed across samples: whole-run figures, window
 * and run series, the detector's verdict, and idle-in-transaction
 * sessions followed by pid.  Lookups go through a hash on the group keys
 * so a sample costs time linear in its groups, whatever the history.
 */
#include "history.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void history_init(struct history *history, const struct group_keys *keys,
		  double window_s, double interval_s)
{
	memset(history, 0, sizeof(*history));
	history->keys = *keys;
	history->window_s = window_s;
	history->interval_s = interval_s;
	trend_default_params(&history->trend_params);
}

void history_finish(struct history *history)
{
	if (history == NULL) {
		return;
	}
	for (size_t i = 0; i < history->group_count; i++) {
		for (int k = 0; k < GROUP_KEY_COUNT; k++) {
			free(history->groups[i].keys[k]);
		}
		free(history->groups[i].holder_command);
	}
	free(history->groups);
	free(history->idle_tx);
	free(history->slots);
	memset(history, 0, sizeof(*history));
}

/* FNV-1a over the grouped keys of a key array, with separators. */
static uint64_t hash_keys(const char *const keys[GROUP_KEY_COUNT],
			  const struct group_keys *order)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < order->count; i++) {
		const unsigned char *p =
			(const unsigned char *)keys[order->keys[i]];

		for (; *p != '\0'; p++) {
			h = (h ^ *p) * 1099511628211ULL;
		}
		h = (h ^ 0xFF) * 1099511628211ULL;
	}
	return h;
}

static bool keys_equal(char *const a[GROUP_KEY_COUNT],
		       const char *const b[GROUP_KEY_COUNT],
		       const struct group_keys *order)
{
	for (size_t i = 0; i < order->count; i++) {
		enum group_key key = order->keys[i];

		if (strcmp(a[key], b[key]) != 0) {
			return false;
		}
	}
	return true;
}

static void insert_slot(struct history *history, size_t index)
{
	const struct group_history *g = &history->groups[index];
	size_t mask = history->slot_count - 1;
	size_t i = (size_t)hash_keys((const char *const *)g->keys,
				     &history->keys) & mask;

	while (history->slots[i] != 0) {
		i = (i + 1) & mask;
	}
	history->slots[i] = index + 1;
}

/* Keeps the load factor under 1/2, rehashing when the table doubles. */
static void grow_slots(struct history *history)
{
	size_t want = history->slot_count ? history->slot_count : 16;

	while (want < (history->group_count + 1) * 2) {
		want *= 2;
	}
	if (want == history->slot_count) {
		return;
	}
	free(history->slots);
	history->slots = xcalloc(want, sizeof(*history->slots));
	history->slot_count = want;
	for (size_t i = 0; i < history->group_count; i++) {
		insert_slot(history, i);
	}
}

static struct group_history *lookup(const struct history *history,
				    const char *const keys[GROUP_KEY_COUNT])
{
	size_t mask;
	size_t i;

	if (history->slot_count == 0) {
		return NULL;
	}
	mask = history->slot_count - 1;
	i = (size_t)hash_keys(keys, &history->keys) & mask;
	for (; history->slots[i] != 0; i = (i + 1) & mask) {
		struct group_history *g = &history->groups[history->slots[i] - 1];

		if (keys_equal(g->keys, keys, &history->keys)) {
			return g;
		}
	}
	return NULL;
}

static struct group_history *add_group(struct history *history,
				       const struct group *group, double t_s)
{
	struct group_history *g;

	grow_slots(history);
	xgrow((void **)&history->groups, &history->group_cap,
	      history->group_count + 1, sizeof(*history->groups));
	g = &history->groups[history->group_count];
	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < history->keys.count; i++) {
		enum group_key key = history->keys.keys[i];

		g->keys[key] = xstrdup(group->keys[key]);
	}
	g->first_seen_s = t_s;
	g->first_flagged_s = NAN;
	g->analyzed_t_s = -INFINITY;
	g->oldest_idle_tx_s = NAN;
	g->oldest_xact_s = NAN;
	g->holder_seen_s = NAN;
	series_init(&g->window, history->window_s, history->interval_s);
	series_init_run(&g->run, history->interval_s);
	if (history->samples > 0) {
		/* It had no sessions at the previous sample: say so, so the
		 * detector sees the step from zero. */
		series_push(&g->window, history->last_t_s, 0);
		series_push(&g->run, history->last_t_s, 0);
	}
	insert_slot(history, history->group_count);
	history->group_count++;
	return g;
}

static void update_holder(struct group_history *g, const struct group *group,
			  double t_s)
{
	if (group->holder_pid != g->holder_pid) {
		free(g->holder_command);
		g->holder_pid = group->holder_pid;
		g->holder_command = xstrdup(group->holder_command);
		g->holder_sessions = 0;
	}
	g->holder_relation = group->holder_relation;
	if (group->holder_sessions > g->holder_sessions) {
		g->holder_sessions = group->holder_sessions;
	}
	g->holder_seen_s = t_s;
}

static void update_group(struct group_history *g, const struct group *group,
			 bool first_sample, double t_s)
{
	int n = group != NULL ? group->connections : 0;

	if (first_sample) {
		g->baseline = g->peak = g->minimum = n;
	}
	if (n > g->peak) {
		g->peak = n;
	}
	if (n < g->minimum) {
		g->minimum = n;
	}
	g->last = n;
	if (group != NULL) {
		memcpy(g->states, group->states, sizeof(g->states));
		g->oldest_idle_tx_s = group->oldest_idle_tx_s;
		g->oldest_xact_s = group->oldest_xact_s;
		if (group->holder_pid > 0) {
			update_holder(g, group, t_s);
		}
	} else {
		memset(g->states, 0, sizeof(g->states));
		g->oldest_idle_tx_s = NAN;
		g->oldest_xact_s = NAN;
	}
}

static void push_and_analyze(struct history *history,
			     struct group_history *g, double t_s)
{
	/* Between changes the verdict only moves as the window slides: run
	 * the detector when the count moved, else every 1/100 window. */
	double every_s = fmax(history->interval_s, history->window_s / 100);

	series_push(&g->window, t_s, g->last);
	series_push(&g->run, t_s, g->last);
	if (g->last == g->analyzed_value && t_s - g->analyzed_t_s < every_s) {
		return;
	}
	g->analyzed_t_s = t_s;
	g->analyzed_value = g->last;
	trend_analyze(&g->window, &history->trend_params, &g->trend);
	if (g->trend.flagged && isnan(g->first_flagged_s)) {
		g->first_flagged_s = t_s;
	}
}

static int compare_tracks(const void *pa, const void *pb)
{
	const struct idle_tx_track *a = pa;
	const struct idle_tx_track *b = pb;

	return (a->pid > b->pid) - (a->pid < b->pid);
}

static bool same_transaction(const struct idle_tx_track *track,
			     const struct session *s)
{
	/* Aborted transactions have no xact_start: the pid staying idle in
	 * an aborted transaction is the best identity there is. */
	if (isnan(track->xact_start_epoch_s) || isnan(s->xact_start_epoch_s)) {
		return isnan(track->xact_start_epoch_s) &&
		       isnan(s->xact_start_epoch_s);
	}
	return fabs(track->xact_start_epoch_s - s->xact_start_epoch_s) < 1e-3;
}

/* Rebuilds the idle-in-transaction tracks from this sample, keeping the
 * first-seen time of sessions still stuck in the same transaction. */
static void track_idle_tx(struct history *history, const struct sample *sample,
			  double t_s)
{
	struct idle_tx_track *old = history->idle_tx;
	size_t old_count = history->idle_tx_count;
	struct idle_tx_track *fresh = NULL;
	size_t count = 0;
	size_t cap = 0;

	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];
		struct idle_tx_track key = {.pid = s->pid};
		const struct idle_tx_track *prev;
		struct idle_tx_track *t;

		if (s->state != SESSION_STATE_IDLE_TX &&
		    s->state != SESSION_STATE_IDLE_TX_ABORTED) {
			continue;
		}
		xgrow((void **)&fresh, &cap, count + 1, sizeof(*fresh));
		t = &fresh[count++];
		t->pid = s->pid;
		t->xact_start_epoch_s = s->xact_start_epoch_s;
		t->first_seen_s = t_s;
		t->samples_seen = 1;
		prev = old_count ? bsearch(&key, old, old_count, sizeof(*old),
					   compare_tracks)
				 : NULL;
		if (prev != NULL && same_transaction(prev, s)) {
			t->first_seen_s = prev->first_seen_s;
			t->samples_seen = prev->samples_seen + 1;
		}
	}
	if (count > 1) {
		qsort(fresh, count, sizeof(*fresh), compare_tracks);
	}
	free(old);
	history->idle_tx = fresh;
	history->idle_tx_count = count;
	history->idle_tx_cap = cap;
}

void history_add(struct history *history, const struct sample *sample,
		 const struct group_set *set)
{
	bool first = history->samples == 0;
	double t_s;

	if (first) {
		history->started_epoch_s = sample->taken_at_epoch_s;
	}
	t_s = sample->taken_at_epoch_s - history->started_epoch_s;
	for (size_t i = 0; i < set->count; i++) {
		const struct group *group = &set->groups[i];
		struct group_history *g = lookup(history, group->keys);

		if (g == NULL) {
			g = add_group(history, group, t_s);
		}
		update_group(g, group, first, t_s);
		g->last_seen_s = t_s;
		g->seen_in_sample = history->samples + 1;
	}
	history->samples++;
	for (size_t i = 0; i < history->group_count; i++) {
		struct group_history *g = &history->groups[i];

		if (g->seen_in_sample != history->samples) {
			update_group(g, NULL, false, t_s);
		}
		push_and_analyze(history, g, t_s);
	}
	track_idle_tx(history, sample, t_s);
	history->last_t_s = t_s;
}

void history_add_failure(struct history *history, double sample_epoch_s)
{
	(void)sample_epoch_s;
	history->failed_samples++;
	for (size_t i = 0; i < history->group_count; i++) {
		series_mark_gap(&history->groups[i].window);
		series_mark_gap(&history->groups[i].run);
	}
}

void history_rebaseline(struct history *history)
{
	for (size_t i = 0; i < history->group_count; i++) {
		struct group_history *g = &history->groups[i];

		g->baseline = g->peak = g->minimum = g->last;
	}
}

const struct group_history *
history_find(const struct history *history, const struct group *group)
{
	return lookup(history, group->keys);
}

double history_idle_tx_since_s(const struct history *history, int pid)
{
	struct idle_tx_track key = {.pid = pid};
	const struct idle_tx_track *t;

	if (history->idle_tx_count == 0) {
		return NAN;
	}
	t = bsearch(&key, history->idle_tx, history->idle_tx_count,
		    sizeof(*history->idle_tx), compare_tracks);
	return t != NULL ? t->first_seen_s : NAN;
}
