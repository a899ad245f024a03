/*
 * session_table.c - every live session by identity, fed a sample at a
 * time by any source (see session_table.h).
 */
#include "session_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const change_names[] = {
	[SESSION_OPENED] = "opened",
	[SESSION_CHANGED] = "changed",
	[SESSION_UNCHANGED] = "unchanged",
	[SESSION_GONE] = "gone",
};

const char *session_change_name(enum session_change change)
{
	return (unsigned)change < sizeof(change_names) / sizeof(*change_names)
		       ? change_names[change]
		       : "?";
}

static uint64_t hash_text(uint64_t h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h = (h ^ *p) * 1099511628211ULL;
	}
	/* A separator: "ab" + "c" is not "a" + "bc". */
	return (h ^ 0x1f) * 1099511628211ULL;
}

static struct session_look look_of(const struct session *s)
{
	uint64_t text = 1469598103934665603ULL;

	text = hash_text(text, s->app);
	text = hash_text(text, s->wait_event_type);
	text = hash_text(text, s->wait_event);
	text = hash_text(text, s->query);
	return (struct session_look){
		.state = s->state,
		.state_change_epoch_s = s->state_change_epoch_s,
		.query_start_epoch_s = s->query_start_epoch_s,
		.xact_start_epoch_s = s->xact_start_epoch_s,
		.text = text,
		.client_pid = s->client_pid,
	};
}

static bool same_moment(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static bool same_look(const struct session_look *a,
		      const struct session_look *b)
{
	return a->state == b->state &&
	       same_moment(a->state_change_epoch_s, b->state_change_epoch_s) &&
	       same_moment(a->query_start_epoch_s, b->query_start_epoch_s) &&
	       same_moment(a->xact_start_epoch_s, b->xact_start_epoch_s) &&
	       a->text == b->text && a->client_pid == b->client_pid;
}

void session_table_init(struct session_table *t, size_t payload_size)
{
	memset(t, 0, sizeof(*t));
	t->payload_size = payload_size;
	group_index_init(&t->by_id);
}

void session_table_finish(struct session_table *t)
{
	if (t == NULL) {
		return;
	}
	free(t->entries);
	free(t->payloads);
	free(t->events);
	group_index_finish(&t->by_id);
	pidmap_finish(&t->by_pid);
	memset(t, 0, sizeof(*t));
}

void *session_table_payload(const struct session_table *t, size_t i)
{
	/* Not an offset from NULL (no payload, or none yet). */
	return t->payloads != NULL ? t->payloads + i * t->payload_size : NULL;
}

/* Entry from into slot to, its payload with it. */
static void move_entry(struct session_table *t, size_t to, size_t from)
{
	t->entries[to] = t->entries[from];
	if (t->payload_size > 0) {
		memcpy(session_table_payload(t, to),
		       session_table_payload(t, from), t->payload_size);
	}
}

static void reindex(struct session_table *t)
{
	group_index_clear(&t->by_id);
	pidmap_reset(&t->by_pid, t->count);
	for (size_t i = 0; i < t->count; i++) {
		group_index_add(&t->by_id, session_id_hash(t->entries[i].id),
				i);
		pidmap_put(&t->by_pid, t->entries[i].id.pid, i);
	}
}

/* The last merge's gone sessions out, each replaced by the last entry
 * (from the end down: the order the live sessions always had). */
void session_table_sweep(struct session_table *t)
{
	bool any = false;

	for (size_t i = t->count; i-- > 0;) {
		if (t->entries[i].change == SESSION_GONE) {
			if (i != t->count - 1) {
				move_entry(t, i, t->count - 1);
			}
			t->count--;
			any = true;
		}
	}
	if (any) {
		reindex(t);
	}
}

static size_t find_any(const struct session_table *t, struct session_id id)
{
	size_t cursor = 0;
	size_t i;

	while ((i = group_index_find(&t->by_id, session_id_hash(id),
				     &cursor)) != (size_t)GROUP_NONE) {
		if (session_id_equal(t->entries[i].id, id)) {
			return i;
		}
	}
	return SIZE_MAX;
}

size_t session_table_find(const struct session_table *t, struct session_id id)
{
	size_t i = find_any(t, id);

	return i != SIZE_MAX && t->entries[i].change != SESSION_GONE ? i
								     : SIZE_MAX;
}

size_t session_table_find_pid(const struct session_table *t, int pid)
{
	size_t i;

	if (!pidmap_get(&t->by_pid, pid, &i) || t->entries[i].id.pid != pid ||
	    t->entries[i].change == SESSION_GONE) {
		return SIZE_MAX;
	}
	return i;
}

static void add_event(struct session_table *t, enum session_change change,
		      size_t entry, size_t row)
{
	xgrow((void **)&t->events, &t->event_cap, t->event_count + 1,
	      sizeof(*t->events));
	t->events[t->event_count++] = (struct session_event){.change = change,
							     .entry = entry,
							     .row = row};
}

static size_t open_entry(struct session_table *t, struct session_id id)
{
	size_t old_cap = t->cap;
	struct session_entry *e;

	xgrow((void **)&t->entries, &t->cap, t->count + 1, sizeof(*t->entries));
	if (t->cap != old_cap && t->payload_size > 0) {
		t->payloads = xrealloc(t->payloads, t->cap * t->payload_size);
	}
	e = &t->entries[t->count];
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->client.checked_out_epoch_s = NAN;
	e->client.returned_epoch_s = NAN;
	if (t->payload_size > 0) {
		memset(session_table_payload(t, t->count), 0, t->payload_size);
	}
	group_index_add(&t->by_id, session_id_hash(id), t->count);
	return t->count++;
}

static void merge_row(struct session_table *t, const struct session *s,
		      size_t row)
{
	struct session_id id = session_id_of(s);
	struct session_look look = look_of(s);
	size_t at = find_any(t, id);
	enum session_change change;

	if (at == SIZE_MAX) {
		at = open_entry(t, id);
		change = SESSION_OPENED;
		t->entries[at].change = SESSION_OPENED;
	} else {
		struct session_entry *e = &t->entries[at];

		change = same_look(&e->look, &look) ? SESSION_UNCHANGED
						    : SESSION_CHANGED;
		/* A second row of a session opened by this sample leaves
		 * it opened. */
		if (!(e->row != SIZE_MAX && e->change == SESSION_OPENED)) {
			e->change = change;
		}
	}
	t->entries[at].row = row;
	t->entries[at].look = look;
	/* The pid is the session's a row named last (a server has one
	 * session a pid; a forged record may name two). */
	pidmap_put(&t->by_pid, id.pid, at);
	add_event(t, change, at, row);
}

void session_table_merge(struct session_table *t, const struct sample *sample)
{
	bool any_gone = false;

	session_table_sweep(t);
	t->merges++;
	t->event_count = 0;
	for (size_t i = 0; i < t->count; i++) {
		t->entries[i].row = SIZE_MAX; /* not seen yet */
	}
	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];

		if (s->weight == 1 && session_id_known(session_id_of(s))) {
			merge_row(t, s, i);
		}
	}
	for (size_t i = t->count; i-- > 0;) {
		if (t->entries[i].row == SIZE_MAX) {
			t->entries[i].change = SESSION_GONE;
			add_event(t, SESSION_GONE, i, SIZE_MAX);
			any_gone = true;
		}
	}
	if (any_gone) {
		/* A gone session's pid may be a live one's too. */
		pidmap_reset(&t->by_pid, t->count);
		for (size_t i = 0; i < t->count; i++) {
			if (t->entries[i].change != SESSION_GONE) {
				pidmap_put(&t->by_pid, t->entries[i].id.pid, i);
			}
		}
	}
}

bool session_table_fold_client(struct session_table *t, int backend_pid,
			       double at_epoch_s,
			       const struct session_client_facts *facts)
{
	size_t i = session_table_find_pid(t, backend_pid);
	int64_t at_us = session_start_us(at_epoch_s);

	if (i == SIZE_MAX || at_us == SESSION_START_UNKNOWN ||
	    t->entries[i].id.backend_start_us > at_us) {
		return false;
	}
	t->entries[i].client = *facts;
	/* A code line from a client is its bytes, ended here. */
	t->entries[i].client.where[sizeof(facts->where) - 1] = '\0';
	return true;
}
