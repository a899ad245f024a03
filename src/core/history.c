/*
 * history.c - groups followed across samples: each sample counted into
 * its groups, whole-run figures, window and run series, the detector's
 * verdict, and idle-in-transaction sessions followed by pid.  Every
 * lookup goes through group.h's index, so a sample costs time linear in
 * its sessions and groups, whatever the history.
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
	group_index_init(&history->index);
	trend_default_params(&history->trend_params);
}

/* Frees what one group owns. */
static void group_free(struct group_history *g)
{
	for (int k = 0; k < GROUP_KEY_COUNT; k++) {
		free(g->keys[k]);
	}
	free(g->holder_command);
	series_free(&g->window);
	series_free(&g->run);
	series_free(&g->run_idle_tx);
	series_free(&g->run_abandoned);
}

void history_finish(struct history *history)
{
	if (history == NULL) {
		return;
	}
	for (size_t i = 0; i < history->group_count; i++) {
		group_free(&history->groups[i]);
	}
	free(history->groups);
	free(history->idle_tx);
	group_index_finish(&history->index);
	memset(history, 0, sizeof(*history));
}

size_t history_group_of(const struct history *history,
			const struct session *session)
{
	uint64_t hash = group_hash_session(session, &history->keys);
	size_t cursor = 0;
	size_t i;

	while ((i = group_index_find(&history->index, hash, &cursor)) !=
	       (size_t)GROUP_NONE) {
		if (group_session_matches(
			    (const char *const *)history->groups[i].keys,
			    &history->keys, session)) {
			return i;
		}
	}
	return (size_t)GROUP_NONE;
}

const struct group_history *history_find(
	const struct history *history,
	const char *const values[GROUP_KEY_COUNT])
{
	uint64_t hash = group_hash_values(values, &history->keys);
	size_t cursor = 0;
	size_t i;

	for (size_t k = 0; k < history->keys.count; k++) {
		if (values[history->keys.keys[k]] == NULL) {
			return NULL;
		}
	}
	while ((i = group_index_find(&history->index, hash, &cursor)) !=
	       (size_t)GROUP_NONE) {
		const struct group_history *g = &history->groups[i];

		if (group_compare_values((const char *const *)g->keys, values,
					 &history->keys) == 0) {
			return g;
		}
	}
	return NULL;
}

static size_t add_group(struct history *history, const struct session *session,
			double t_s)
{
	struct group_history *g;

	xgrow((void **)&history->groups, &history->group_cap,
	      history->group_count + 1, sizeof(*history->groups));
	g = &history->groups[history->group_count];
	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < history->keys.count; i++) {
		enum group_key key = history->keys.keys[i];

		g->keys[key] = xstrdup(group_session_key(session, key));
	}
	g->hash = group_hash_session(session, &history->keys);
	g->first_seen_s = t_s;
	g->first_flagged_s = NAN;
	g->analyzed_t_s = -INFINITY;
	g->oldest_idle_tx_s = NAN;
	g->oldest_xact_s = NAN;
	g->holder_seen_s = NAN;
	series_init(&g->window, history->window_s, history->interval_s);
	series_init_run(&g->run, history->interval_s);
	series_init_run(&g->run_idle_tx, history->interval_s);
	series_init_run(&g->run_abandoned, history->interval_s);
	if (history->samples > 0) {
		/* It had no sessions at the previous sample: say so, so the
		 * detector sees the step from zero. */
		series_push(&g->window, history->last_t_s, 0);
		series_push(&g->run, history->last_t_s, 0);
	}
	group_index_add(&history->index, g->hash, history->group_count);
	return history->group_count++;
}

/* NaN-aware maximum: an unknown age never hides a known one. */
static double max_age(double current, double candidate)
{
	if (isnan(candidate)) {
		return current;
	}
	if (isnan(current) || candidate > current) {
		return candidate;
	}
	return current;
}

static void count_session(struct group_history *g,
			  const struct session *session)
{
	g->last += session->weight;
	g->states[session->state] += session->weight;
	if (session->state == SESSION_STATE_IDLE_TX ||
	    session->state == SESSION_STATE_IDLE_TX_ABORTED) {
		g->oldest_idle_tx_s = max_age(g->oldest_idle_tx_s,
					      session->state_age_s);
		g->oldest_xact_s = max_age(g->oldest_xact_s,
					   session->xact_age_s);
	}
}

static void clear_sample_figures(struct history *history)
{
	for (size_t i = 0; i < history->group_count; i++) {
		struct group_history *g = &history->groups[i];

		g->last = 0;
		memset(g->states, 0, sizeof(g->states));
		g->oldest_idle_tx_s = NAN;
		g->oldest_xact_s = NAN;
	}
}

/* Counts the sample's sessions into their groups; fills member. */
static void count_sample(struct history *history, const struct sample *sample,
			 const struct filter *filter, size_t *member,
			 double t_s)
{
	history->last_total = 0;
	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];
		size_t g = (size_t)GROUP_NONE;

		if (match_filter_accepts(filter, s->user, s->app, s->db)) {
			g = history_group_of(history, s);
			if (g == (size_t)GROUP_NONE) {
				g = add_group(history, s, t_s);
			}
			count_session(&history->groups[g], s);
			history->groups[g].seen_in_sample = history->samples +
							    1;
			history->last_total += s->weight;
		}
		if (member != NULL) {
			member[i] = g;
		}
	}
}

/* A traced session, by group and process. */
static void set_holder(struct group_history *g, const struct session *s,
		       int sessions, double t_s)
{
	if (s->client_pid != g->holder_pid) {
		free(g->holder_command);
		g->holder_pid = s->client_pid;
		g->holder_command = xstrdup(s->client_command);
		g->holder_sessions = 0;
	}
	g->holder_relation = s->client_relation;
	if (sessions > g->holder_sessions) {
		g->holder_sessions = sessions;
	}
	g->holder_seen_s = t_s;
}

/* A client process's traced sessions in one group, counted in a table
 * keyed by both (open addressing; linear, however many sessions). */
struct holding {
	size_t group; /* GROUP_NONE: a free slot */
	int pid;
	int sessions;
	const struct session *first; /* one of them, for its command */
};

static struct holding *count_holdings(const struct sample *sample,
				      const size_t *member, size_t *cap_out)
{
	size_t cap = 16;
	struct holding *table;

	while (cap < 2 * sample->session_count) {
		cap *= 2;
	}
	table = xmalloc(cap * sizeof(*table));
	for (size_t i = 0; i < cap; i++) {
		table[i].group = (size_t)GROUP_NONE;
	}
	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];
		uint64_t h;
		size_t k;

		if (s->client_pid <= 0 || member[i] == (size_t)GROUP_NONE) {
			continue;
		}
		h = ((uint64_t)member[i] << 32 ^ (uint32_t)s->client_pid) *
		    0x9E3779B97F4A7C15ULL;
		k = (size_t)(h >> 32) & (cap - 1);
		while (table[k].group != (size_t)GROUP_NONE &&
		       (table[k].group != member[i] ||
			table[k].pid != s->client_pid)) {
			k = (k + 1) & (cap - 1);
		}
		if (table[k].group == (size_t)GROUP_NONE) {
			table[k] = (struct holding){member[i], s->client_pid, 0,
						    s};
		}
		table[k].sessions += s->weight;
	}
	*cap_out = cap;
	return table;
}

/* Each group's holder this sample: the process with the most traced
 * sessions (the lowest pid on a tie, so the choice does not depend on
 * row order).  A group with none traced keeps its last holder. */
static void assign_holders(struct history *history, const struct sample *sample,
			   const size_t *member, double t_s)
{
	size_t cap;
	struct holding *table = count_holdings(sample, member, &cap);
	const struct holding **best = xcalloc(history->group_count + 1,
					      sizeof(*best));

	for (size_t k = 0; k < cap; k++) {
		const struct holding *c = &table[k];
		const struct holding *b;

		if (c->group == (size_t)GROUP_NONE) {
			continue;
		}
		b = best[c->group];
		if (b == NULL || c->sessions > b->sessions ||
		    (c->sessions == b->sessions && c->pid < b->pid)) {
			best[c->group] = c;
		}
	}
	for (size_t g = 0; g < history->group_count; g++) {
		if (best[g] != NULL) {
			set_holder(&history->groups[g], best[g]->first,
				   best[g]->sessions, t_s);
		}
	}
	free(best);
	free(table);
}

static void update_run_figures(struct group_history *g, bool first_sample)
{
	if (first_sample) {
		g->baseline = g->peak = g->minimum = g->last;
	}
	if (g->last > g->peak) {
		g->peak = g->last;
	}
	if (g->last < g->minimum) {
		g->minimum = g->last;
	}
}

/* The count's trend; the verdict built on it is verdict.c's. */
static void push_and_analyze(struct history *history, struct group_history *g,
			     double t_s)
{
	/* Between changes the verdict only moves as the window slides: run
	 * the detector when the count moved, else every 1/100 window. */
	double every_s = fmax(history->interval_s, history->window_s / 100);

	series_push(&g->window, t_s, g->last);
	series_push(&g->run, t_s, g->last);
	series_push_sparse(&g->run_idle_tx, t_s,
			   g->states[SESSION_STATE_IDLE_TX] +
				   g->states[SESSION_STATE_IDLE_TX_ABORTED]);
	if (g->last == g->analyzed_value && t_s - g->analyzed_t_s < every_s) {
		return;
	}
	g->analyzed_t_s = t_s;
	g->analyzed_value = g->last;
	trend_analyze(&g->window, &history->trend_params, &g->trend);
}

static int compare_tracks(const void *pa, const void *pb)
{
	const struct idle_tx_track *a = pa;
	const struct idle_tx_track *b = pb;

	if (a->id.pid != b->id.pid) {
		return (a->id.pid > b->id.pid) - (a->id.pid < b->id.pid);
	}
	return (a->id.backend_start_us > b->id.backend_start_us) -
	       (a->id.backend_start_us < b->id.backend_start_us);
}

static bool same_transaction(const struct idle_tx_track *track,
			     const struct session *s)
{
	/* Aborted transactions have no xact_start: the session staying
	 * idle in an aborted transaction is the best identity there is. */
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
		struct idle_tx_track key = {.id = session_id_of(s)};
		const struct idle_tx_track *prev;
		struct idle_tx_track *t;

		if (s->state != SESSION_STATE_IDLE_TX &&
		    s->state != SESSION_STATE_IDLE_TX_ABORTED) {
			continue;
		}
		xgrow((void **)&fresh, &cap, count + 1, sizeof(*fresh));
		t = &fresh[count++];
		t->id = key.id;
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
		 const struct filter *filter, size_t *member)
{
	bool first = history->samples == 0;
	size_t *own = NULL;
	double t_s;

	if (first) {
		history->started_epoch_s = sample->taken_at_epoch_s;
	}
	t_s = sample->taken_at_epoch_s - history->started_epoch_s;
	if (member == NULL) {
		own = xcalloc(sample->session_count + 1, sizeof(*own));
		member = own;
	}
	clear_sample_figures(history);
	count_sample(history, sample, filter, member, t_s);
	assign_holders(history, sample, member, t_s);
	history->samples++;
	for (size_t i = 0; i < history->group_count; i++) {
		struct group_history *g = &history->groups[i];

		if (g->seen_in_sample == history->samples) {
			g->last_seen_s = t_s;
		}
		update_run_figures(g, first);
		push_and_analyze(history, g, t_s);
	}
	track_idle_tx(history, sample, t_s);
	history->last_t_s = t_s;
	free(own);
}

void history_add_failure(struct history *history)
{
	history->failed_samples++;
	for (size_t i = 0; i < history->group_count; i++) {
		series_mark_gap(&history->groups[i].window);
		series_mark_gap(&history->groups[i].run);
		series_mark_gap(&history->groups[i].run_idle_tx);
		series_mark_gap(&history->groups[i].run_abandoned);
	}
}

/* Gone for a whole window (so nothing of it is in the window's series)
 * and nothing to report against it. */
static bool group_retirable(const struct history *history,
			    const struct group_history *g)
{
	return g->last == 0 && !g->flagged && !g->trend.flagged &&
	       g->verdict == VERDICT_OK &&
	       history->last_t_s - g->last_seen_s > history->window_s;
}

static void retire(struct history_retired *r, struct group_history *g)
{
	r->groups++;
	r->baseline += g->baseline;
	if (g->peak > r->peak) {
		r->peak = g->peak;
	}
	group_free(g);
}

size_t history_retire_idle(struct history *history)
{
	size_t kept = 0;
	size_t retired = 0;

	for (size_t i = 0; i < history->group_count; i++) {
		struct group_history *g = &history->groups[i];

		if (group_retirable(history, g)) {
			retire(&history->retired, g);
			retired++;
		} else {
			history->groups[kept++] = *g;
		}
	}
	if (retired == 0) {
		return 0;
	}
	history->group_count = kept;
	/* The index holds positions: rebuilt, as the groups moved. */
	group_index_clear(&history->index);
	for (size_t i = 0; i < kept; i++) {
		group_index_add(&history->index, history->groups[i].hash, i);
	}
	return retired;
}

void history_rebaseline(struct history *history)
{
	for (size_t i = 0; i < history->group_count; i++) {
		struct group_history *g = &history->groups[i];

		g->baseline = g->peak = g->minimum = g->last;
	}
}

double history_idle_tx_since_s(const struct history *history,
			       struct session_id id)
{
	struct idle_tx_track key = {.id = id};
	const struct idle_tx_track *t;

	if (history->idle_tx_count == 0) {
		return NAN;
	}
	t = bsearch(&key, history->idle_tx, history->idle_tx_count,
		    sizeof(*history->idle_tx), compare_tracks);
	return t != NULL ? t->first_seen_s : NAN;
}
