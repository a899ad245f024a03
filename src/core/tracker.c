/*
 * tracker.c - sessions followed by identity (see tracker.h).  Each
 * sample costs one identity lookup per session; closed sessions move to
 * a fixed ring; strings are interned once.
 */
#include "tracker.h"
#include "tracker_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void tracker_default_params(struct tracker_params *params, double interval_s,
			    bool wrap)
{
	params->passed_margin_s = 0.5;
	/* Unused for ten samples (at least 10 s) in a watch: long enough
	 * for a pool's idle members to be handed out again under any
	 * load, short enough to catch a leak of one a second within 15 s.
	 * A wrapped command is judged on its whole run with hindsight:
	 * two samples will do. */
	params->floor_s = wrap ? fmax(2 * interval_s, 0.5)
			       : fmax(10 * interval_s, 10);
	/* A pool that needs a connection while one is being returned may
	 * open another: within this margin that is a race, not a pass. */
	params->passed_margin_s = wrap ? 0.25 : 0.5;
	params->gap_factor = 3;
	/* Two samples, at least 2 s: the samples cannot order uses closer
	 * than that. */
	params->colder_margin_s = fmax(2 * interval_s, 2.0);
	params->closed_cap = wrap ? 100000 : 4096;
}

/* ---- interned strings ---- */

static uint64_t hash_string(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h = (h ^ *p) * 1099511628211ULL;
	}
	return h;
}

const char *tracker_intern_in(struct tracker_intern *in, const char *s)
{
	uint64_t h = hash_string(s != NULL ? s : "");
	size_t cursor = 0;
	size_t i;

	s = s != NULL ? s : "";
	while ((i = group_index_find(&in->index, h, &cursor)) !=
	       (size_t)GROUP_NONE) {
		if (strcmp(in->strings[i], s) == 0) {
			return in->strings[i];
		}
	}
	xgrow((void **)&in->strings, &in->cap, in->count + 1,
	      sizeof(*in->strings));
	in->strings[in->count] = (char *)arena_strdup(&in->arena, s);
	group_index_add(&in->index, h, in->count);
	return in->strings[in->count++];
}

static const char *intern(struct tracker *t, const char *s)
{
	return tracker_intern_in(&t->intern, s);
}

/* ---- identity, fine keys and scopes ---- */

const struct tracked *tracker_find(const struct tracker *t,
				   struct session_id id)
{
	size_t i = session_table_find(&t->table, id);

	return i == SIZE_MAX ? NULL : session_table_payload(&t->table, i);
}

static size_t find_fine(const struct tracker *t, const char *key)
{
	size_t cursor = 0;
	size_t i;

	/* Interned: the pointer is the key. */
	while ((i = group_index_find(&t->by_fine, (uint64_t)(uintptr_t)key,
				     &cursor)) != (size_t)GROUP_NONE) {
		if (t->fine[i].key == key) {
			return i;
		}
	}
	return (size_t)GROUP_NONE;
}

static struct tracker_fine *fine_for(struct tracker *t, const char *key)
{
	size_t i = find_fine(t, key);

	if (i != (size_t)GROUP_NONE) {
		return &t->fine[i];
	}
	xgrow((void **)&t->fine, &t->fine_cap, t->fine_count + 1,
	      sizeof(*t->fine));
	memset(&t->fine[t->fine_count], 0, sizeof(t->fine[0]));
	t->fine[t->fine_count].key = key;
	group_index_add(&t->by_fine, (uint64_t)(uintptr_t)key, t->fine_count);
	return &t->fine[t->fine_count++];
}

const struct tracker_fine *tracker_fine_of(const struct tracker *t,
					   const char *fine)
{
	size_t i = find_fine(t, fine);

	return i == (size_t)GROUP_NONE ? NULL : &t->fine[i];
}

bool tracker_of_command(const struct tracked *s)
{
	return s->client_relation == CLIENT_RELATION_COMMAND ||
	       s->client_relation == CLIENT_RELATION_DESCENDANT ||
	       s->client_pid <= 0;
}

bool tracker_listen_query(const char *query)
{
	const char *p = query != NULL ? query : "";

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
		p++;
	}
	return strncasecmp(p, "listen", 6) == 0 &&
	       (p[6] == ' ' || p[6] == '\t' || p[6] == '\n' || p[6] == '"');
}

/* ---- life cycle ---- */

void tracker_init(struct tracker *t, const struct tracker_params *params)
{
	memset(t, 0, sizeof(*t));
	t->params = *params;
	session_table_init(&t->table, sizeof(struct tracked));
	group_index_init(&t->by_fine);
	group_index_init(&t->by_scope);
	group_index_init(&t->intern.index);
	arena_init(&t->intern.arena);
	t->closed = xcalloc(params->closed_cap ? params->closed_cap : 1,
			    sizeof(*t->closed));
	t->now = NAN;
	t->prune_at = TRACKER_PRUNE_MIN;
}

void tracker_set_params(struct tracker *t, const struct tracker_params *params)
{
	size_t cap = params->closed_cap ? params->closed_cap : 1;
	struct tracked *ring = xcalloc(cap, sizeof(*ring));
	size_t keep = t->closed_count < cap ? t->closed_count : cap;

	/* Oldest first into the new ring, the newest kept. */
	for (size_t i = 0; i < keep; i++) {
		ring[i] = *tracker_closed_at(t, keep - 1 - i);
	}
	free(t->closed);
	t->closed = ring;
	t->closed_count = keep;
	t->closed_next = keep % cap;
	t->params = *params;
}

void tracker_finish(struct tracker *t)
{
	if (t == NULL) {
		return;
	}
	session_table_finish(&t->table);
	free(t->closed);
	free(t->fine);
	free(t->scopes);
	free(t->opened);
	free(t->intern.strings);
	group_index_finish(&t->by_fine);
	group_index_finish(&t->by_scope);
	group_index_finish(&t->intern.index);
	arena_finish(&t->intern.arena);
	memset(t, 0, sizeof(*t));
}

/* ---- reuse gaps ---- */

static size_t gap_bucket(double gap_s)
{
	size_t b = 0;

	for (double edge = 0.1; gap_s >= edge && b + 1 < TRACKER_GAP_BUCKETS;
	     edge *= 1.5) {
		b++;
	}
	return b;
}

static double bucket_top_s(size_t b)
{
	return 0.1 * pow(1.5, (double)b);
}

static void note_gap(struct tracker *t, const char *fine, double gap_s)
{
	struct tracker_fine *f = fine_for(t, fine);

	f->gaps[gap_bucket(gap_s > 0 ? gap_s : 0)]++;
	f->gap_count++;
}

double tracker_gap_p95_s(const struct tracker *t, const char *fine)
{
	const struct tracker_fine *f = tracker_fine_of(t, fine);
	uint32_t want;
	uint32_t seen = 0;

	if (f == NULL || f->gap_count == 0) {
		return 0;
	}
	want = f->gap_count - f->gap_count / 20;
	for (size_t b = 0; b < TRACKER_GAP_BUCKETS; b++) {
		seen += f->gaps[b];
		if (seen >= want) {
			return bucket_top_s(b);
		}
	}
	return bucket_top_s(TRACKER_GAP_BUCKETS - 1);
}

double tracker_threshold_s(const struct tracker *t, const char *fine)
{
	const struct tracker_fine *f = tracker_fine_of(t, fine);
	double returned = f != NULL ? 1.5 * f->longest_return_s : 0;

	return fmax(fmax(t->params.floor_s, returned),
		    t->params.gap_factor * tracker_gap_p95_s(t, fine));
}

/* ---- per sample ---- */

/* The moment a session was last used, as the sample shows it: now when
 * it is running a query; else the end of its last one (state_change),
 * or its start when it never ran one. */
static double use_moment(const struct session *s, double now)
{
	double moment = s->state_change_epoch_s;

	if (s->state == SESSION_STATE_ACTIVE) {
		return now;
	}
	if (!isfinite(moment) || (isfinite(s->query_start_epoch_s) &&
				  s->query_start_epoch_s > moment)) {
		moment = s->query_start_epoch_s;
	}
	return isfinite(moment) ? moment
				: session_start_epoch_s(s->backend_start_us);
}

static void set_keys(struct tracker *t, struct tracked *tr,
		     const struct session *s)
{
	char fine[1024];

	tr->keys[GROUP_KEY_USER] = intern(t, s->user);
	tr->keys[GROUP_KEY_APP] = intern(t, s->app);
	tr->keys[GROUP_KEY_DB] = intern(t, s->db);
	tr->keys[GROUP_KEY_CLIENT] =
		intern(t, group_session_key(s, GROUP_KEY_CLIENT));
	snprintf(fine, sizeof(fine), "%s\x1f%s\x1f%s", s->user, s->app, s->db);
	tr->fine = intern(t, fine);
	/* Its scope while its process is unknown: the same user, app,
	 * database and client address. */
	snprintf(fine, sizeof(fine), "%s\x1f%s\x1f%s\x1f%s", s->user, s->app,
		 s->db, tr->keys[GROUP_KEY_CLIENT]);
	tr->scope = intern(t, fine);
}

/* A session first seen: its payload in the table, zeroed, filled. */
static void open_session(struct tracker *t, struct tracked *tr,
			 const struct session *s)
{
	tr->id = session_id_of(s);
	tr->pid = s->pid;
	tr->backend_start = session_start_epoch_s(s->backend_start_us);
	set_keys(t, tr, s);
	tr->first_seen = t->now;
	tr->closed_at = NAN;
	tr->passed_over_at = NAN;
	tr->sidelined_at = NAN;
	tr->used_sample = t->samples;
	tr->idle_tx_since = NAN;
	tr->max_idle_tx_s = -1; /* never seen idle in a transaction */
	tr->last_use = use_moment(s, t->now);
	tr->uses = isfinite(s->query_start_epoch_s) ? 1 : 0;
	tr->client_command = intern(t, "");
	tr->query = intern(t, s->query);
	tr->listener = tracker_listen_query(s->query);
	/* Used well after it opened: it served before we looked. */
	tr->taken = tr->uses > 0 &&
		    tr->last_use > tr->backend_start + TRACKER_SETUP_S;
	tr->fine_index = (size_t)(fine_for(t, tr->fine) - t->fine);
	if (t->samples > 0) {
		t->opened_total++;
		t->fine[tr->fine_index].opened++;
	}
}

/* A use since the last sample: the idle gap it ended is one of the
 * group's reuse gaps, and a session that looked abandoned is not. */
static void note_use(struct tracker *t, struct tracked *tr, double moment,
		     const struct session *s)
{
	double start = s->state == SESSION_STATE_ACTIVE &&
				       isfinite(s->query_start_epoch_s)
			       ? s->query_start_epoch_s
			       : moment;

	if (!tr->in_use) {
		struct tracker_fine *f = &t->fine[tr->fine_index];
		double gap = start - tr->last_use;

		/* Unused past what made it look abandoned, and back: its
		 * kind may sit that long, and is not leaked for it.  A
		 * spare member handed out for the first time is back from
		 * nothing: its wait says nothing of the group's reuse. */
		if (tr->taken && (isfinite(tr->passed_over_at) ||
				  gap >= tracker_threshold_s(t, tr->fine))) {
			f->longest_return_s = fmax(f->longest_return_s, gap);
		}
		if (isfinite(tr->passed_over_at)) {
			tr->exonerated = true;
			f->exonerated++;
		}
		if (tr->taken) {
			note_gap(t, tr->fine, gap);
		}
		tr->reused = true;
	}
	tr->passed_over_at = NAN;
	tr->sidelined_at = NAN;
	tr->woken_past = false;
	tr->used_sample = t->samples;
	tr->uses++;
	tr->query = intern(t, s->query);
	tr->listener = tracker_listen_query(s->query);
	tr->taken |= start > tr->backend_start + TRACKER_SETUP_S;
	tracker_scope_note_use(t, tr, start);
}

static void note_client(struct tracker *t, struct tracked *tr,
			const struct session *s)
{
	if (s->client_pid <= 0 || s->client_pid == tr->client_pid) {
		return;
	}
	tr->client_pid = s->client_pid;
	tr->client_command = intern(t, s->client_command);
	tr->client_relation = s->client_relation;
	/* Its holder is known from now on: the process's own scope (for
	 * one opened in this sample, once the sample's closes are known). */
	if (tr->first_seen != t->now) {
		tracker_scope_note_open(t, tr->client_pid, NULL,
					tr->backend_start);
	}
}

static void update_session(struct tracker *t, struct tracked *tr,
			   const struct session *s)
{
	double moment = use_moment(s, t->now);

	if (moment > tr->last_use + 1e-3 ||
	    (s->state == SESSION_STATE_ACTIVE && !tr->in_use)) {
		note_use(t, tr, moment, s);
	}
	if (moment > tr->last_use) {
		tr->last_use = moment;
	}
	tr->in_use = s->state == SESSION_STATE_ACTIVE;
	if (tr->in_use) {
		tracker_scope_count_active(tracker_scope_for(t, 0, tr->scope,
							     true),
					   t->samples);
		if (tr->client_pid > 0) {
			tracker_scope_count_active(
				tracker_scope_for(t, tr->client_pid, NULL,
						  true),
				t->samples);
		}
	}
	tr->state = s->state;
	tr->keys[GROUP_KEY_STATE] = sample_state_name(s->state);
	tr->last_seen = t->now;
	if (s->state == SESSION_STATE_IDLE_TX ||
	    s->state == SESSION_STATE_IDLE_TX_ABORTED) {
		double idle = t->now - s->state_change_epoch_s;

		if (isfinite(idle) && idle > tr->max_idle_tx_s) {
			tr->max_idle_tx_s = idle;
		}
	}
	note_client(t, tr, s);
}

/* The sample's opens, told to their scopes: a replacement of a close
 * in the same scope is no open that passes others over. */
static void note_opens(struct tracker *t)
{
	for (size_t i = 0; i < t->opened_count; i++) {
		const struct tracker_opened *o = &t->opened[i];
		bool replaced = tracker_scope_take_credit(t, 0, o->scope);

		if (o->client_pid > 0) {
			replaced = tracker_scope_take_credit(t, o->client_pid,
							     NULL) ||
				   replaced;
		}
		if (replaced) {
			continue;
		}
		tracker_scope_note_open(t, 0, o->scope, o->start);
		if (o->client_pid > 0) {
			tracker_scope_note_open(t, o->client_pid, NULL,
						o->start);
		}
	}
	t->opened_count = 0;
}

/* A session gone: into the ring of closed ones (the table drops it). */
static void close_session(struct tracker *t, struct tracked *tr)
{
	/* A member retired after a long service (a maximum lifetime) is
	 * replaced; a short-lived client (one per request, per test) is
	 * not: the next one is a new need. */
	if (t->now - tr->backend_start >= fmax(t->params.floor_s, 10)) {
		tracker_scope_add_credit(t, 0, tr->scope);
		if (tr->client_pid > 0) {
			tracker_scope_add_credit(t, tr->client_pid, NULL);
		}
	}

	tr->closed_at = t->now;
	fine_for(t, tr->fine)->closed++;
	t->closed_total++;
	if (t->params.closed_cap > 0) {
		t->closed[t->closed_next] = *tr;
		t->closed_next = (t->closed_next + 1) % t->params.closed_cap;
		if (t->closed_count < t->params.closed_cap) {
			t->closed_count++;
		}
	}
}

/* Passed over: its scope opened a session after its last use.
 * Sidelined: taken, and a sibling's use began after its last use;
 * woken past, too, when that sibling had sat unused longer (by
 * colder_margin_s): a pool whose load falls leaves its coldest members
 * quiet and wakes none colder, one whose member leaked reaches for the
 * next one in line, as a pool that opens members opens another. */
static void mark_passed_over(struct tracker *t, struct tracked *tr)
{
	const struct tracker_scope *scope = tracker_scope_of(t, tr);
	double after = tr->last_use + t->params.passed_margin_s;
	double colder = tr->last_use - t->params.colder_margin_s;

	if (scope != NULL && tr->used_sample == t->samples) {
		tr->active_at_use = tracker_scope_active(scope, t->samples);
	}
	if (tr->in_use || scope == NULL) {
		return;
	}
	if (!isfinite(tr->passed_over_at) && scope->last_open > after) {
		tr->passed_over_at = scope->last_open;
	}
	if (!isfinite(tr->sidelined_at) && tr->taken &&
	    scope->last_use > after) {
		tr->sidelined_at = scope->last_use;
	}
	if (!tr->woken_past && tr->taken && scope->woke_sample == t->samples &&
	    scope->woke_start > tr->last_use && scope->woke_prev < colder) {
		tr->woken_past = true;
	}
}

/* One event of the table's merge. */
static void follow(struct tracker *t, const struct sample *sample,
		   const struct session_event *e)
{
	struct tracked *tr = session_table_payload(&t->table, e->entry);
	const struct session *s;

	if (e->change == SESSION_GONE) {
		close_session(t, tr);
		return;
	}
	s = &sample->sessions[e->row];
	t->identities = true;
	if (e->change == SESSION_OPENED && tr->fine == NULL) {
		open_session(t, tr, s); /* not on a second row of it */
		update_session(t, tr, s);
		xgrow((void **)&t->opened, &t->opened_cap, t->opened_count + 1,
		      sizeof(*t->opened));
		t->opened[t->opened_count++] = (struct tracker_opened){
			tr->scope, tr->client_pid, tr->backend_start};
	} else {
		update_session(t, tr, s);
	}
	tr->weak = !isfinite(s->state_change_epoch_s);
}

void tracker_add(struct tracker *t, const struct sample *sample)
{
	t->now = isfinite(sample->server_epoch_s) ? sample->server_epoch_s
						  : sample->taken_at_epoch_s;
	if (t->samples == 0) {
		t->started = t->now;
	}
	/* Sessions new, seen again, then gone (the last entry first);
	 * rows without an identity are counts only, no event. */
	session_table_merge(&t->table, sample);
	for (size_t i = 0; i < t->table.event_count; i++) {
		follow(t, sample, &t->table.events[i]);
	}
	/* Opens told to their scopes once the sample's closes are known
	 * (a replacement passes no one over). */
	note_opens(t);
	session_table_sweep(&t->table);
	t->live = session_table_payload(&t->table, 0);
	t->live_count = t->table.count;
	for (size_t i = 0; i < t->live_count; i++) {
		mark_passed_over(t, session_table_payload(&t->table, i));
	}
	t->samples++;
}

double tracker_unused_s(const struct tracker *t, const struct tracked *s)
{
	if (s->in_use) {
		return 0;
	}
	return fmax(0, t->now - s->last_use);
}

bool tracker_passed_over(const struct tracker *t, const struct tracked *s)
{
	(void)t;
	return isfinite(s->passed_over_at) && !s->in_use && !s->listener;
}

/* How long s's scope went on opening sessions: a pool warming up opens
 * its members within moments, a leak opens one after another. */
static double opened_over_s(const struct tracker *t, const struct tracked *s)
{
	const struct tracker_scope *scope = tracker_scope_of(t, s);

	return scope != NULL ? scope->last_open - scope->first_open : 0;
}

bool tracker_abandoned(const struct tracker *t, const struct tracked *s)
{
	double unused;

	if (!tracker_passed_over(t, s) || s->weak) {
		return false;
	}
	/* A closed one: unused from its last use until it was last seen. */
	unused = isfinite(s->closed_at) ? fmax(0, s->last_seen - s->last_use)
					: tracker_unused_s(t, s);
	return unused >= tracker_threshold_s(t, s->fine) &&
	       opened_over_s(t, s) >= t->params.floor_s;
}

bool tracker_sidelined(const struct tracker *t, const struct tracked *s)
{
	(void)t;
	return isfinite(s->sidelined_at) && !s->in_use && !s->listener;
}

bool tracker_replaced(const struct tracker *t, const struct tracked *s)
{
	const struct tracker_scope *scope = tracker_scope_of(t, s);

	/* Fallen by more than most of one session at work (its own share
	 * then) and than the count's own noise (sessions at work at a
	 * sample vary about as the square root of their mean). */
	double slack = 0.75 * fmax(1, sqrt(s->active_at_use));

	return s->woken_past || scope == NULL || t->samples == 0 ||
	       tracker_scope_active(scope, t->samples - 1) >=
		       s->active_at_use - slack;
}

const struct tracked *tracker_closed_at(const struct tracker *t, size_t i)
{
	size_t cap = t->params.closed_cap;

	if (i >= t->closed_count || cap == 0) {
		return NULL;
	}
	return &t->closed[(t->closed_next + cap - 1 - i) % cap];
}
