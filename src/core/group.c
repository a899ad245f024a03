/*
 * group.c - one sample's sessions, filtered and grouped by the chosen
 * keys.  Groups are found through a small open-addressing hash so that
 * thousands of sessions in hundreds of groups cost linear time.
 */
#include "group.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void group_set_init(struct group_set *set)
{
	memset(set, 0, sizeof(*set));
}

void group_set_finish(struct group_set *set)
{
	if (set == NULL) {
		return;
	}
	free(set->groups);
	free(set->slots);
	free(set->member);
	group_set_init(set);
}

const char *group_session_key(const struct session *session,
			      enum group_key key)
{
	switch (key) {
	case GROUP_KEY_USER:
		return session->user;
	case GROUP_KEY_APP:
		return session->app;
	case GROUP_KEY_DB:
		return session->db;
	case GROUP_KEY_CLIENT:
		if (session->client_port == -1) {
			return "local";
		}
		return session->client_addr;
	case GROUP_KEY_STATE:
		return sample_state_name(session->state);
	case GROUP_KEY_COUNT:
		break;
	}
	return "";
}

bool group_contains(const struct group *group, const struct group_keys *keys,
		    const struct session *session)
{
	for (size_t i = 0; i < keys->count; i++) {
		enum group_key key = keys->keys[i];

		if (strcmp(group->keys[key], group_session_key(session, key)) !=
		    0) {
			return false;
		}
	}
	return true;
}

int group_compare_keys(const struct group *a, const struct group *b,
		       const struct group_keys *keys)
{
	for (size_t i = 0; i < keys->count; i++) {
		enum group_key key = keys->keys[i];
		int c = strcmp(a->keys[key], b->keys[key]);

		if (c != 0) {
			return c;
		}
	}
	return 0;
}

static uint64_t hash_session(const struct session *session,
			     const struct group_keys *keys)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < keys->count; i++) {
		const unsigned char *p = (const unsigned char *)
			group_session_key(session, keys->keys[i]);

		for (; *p != '\0'; p++) {
			h = (h ^ *p) * 1099511628211ULL;
		}
		/* a separator, so ("ab","c") and ("a","bc") differ */
		h = (h ^ 0xFF) * 1099511628211ULL;
	}
	return h;
}

/* Sizes the hash for up to n groups (load factor at most 1/2). */
static void reserve_slots(struct group_set *set, size_t n)
{
	size_t want = 16;

	while (want < n * 2) {
		want *= 2;
	}
	if (want > set->slot_count) {
		free(set->slots);
		set->slots = xcalloc(want, sizeof(*set->slots));
		set->slot_count = want;
	} else {
		memset(set->slots, 0, set->slot_count * sizeof(*set->slots));
	}
}

static struct group *new_group(struct group_set *set,
			       const struct session *session,
			       const struct group_keys *keys)
{
	struct group *g;

	xgrow((void **)&set->groups, &set->cap, set->count + 1,
	      sizeof(*set->groups));
	g = &set->groups[set->count];
	memset(g, 0, sizeof(*g));
	g->built_as = set->count++;
	for (size_t i = 0; i < keys->count; i++) {
		g->keys[keys->keys[i]] =
			group_session_key(session, keys->keys[i]);
	}
	g->oldest_idle_tx_s = NAN;
	g->oldest_xact_s = NAN;
	g->holder_command = "";
	return g;
}

static struct group *find_or_add(struct group_set *set,
				 const struct session *session,
				 const struct group_keys *keys)
{
	size_t mask = set->slot_count - 1;
	size_t i = (size_t)hash_session(session, keys) & mask;

	for (;; i = (i + 1) & mask) {
		size_t slot = set->slots[i];

		if (slot == 0) {
			set->slots[i] = set->count + 1;
			return new_group(set, session, keys);
		}
		if (group_contains(&set->groups[slot - 1], keys, session)) {
			return &set->groups[slot - 1];
		}
	}
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

static void count_session(struct group *g, const struct session *session)
{
	g->connections += session->weight;
	g->states[session->state] += session->weight;
	if (session->state == SESSION_STATE_IDLE_TX ||
	    session->state == SESSION_STATE_IDLE_TX_ABORTED) {
		g->oldest_idle_tx_s =
			max_age(g->oldest_idle_tx_s, session->state_age_s);
		g->oldest_xact_s = max_age(g->oldest_xact_s, session->xact_age_s);
	}
}

/* A traced session, by group (index before sorting) and process. */
struct held {
	size_t group;
	const struct session *session;
};

static int compare_held(const void *pa, const void *pb)
{
	const struct held *a = pa;
	const struct held *b = pb;

	if (a->group != b->group) {
		return a->group < b->group ? -1 : 1;
	}
	if (a->session->client_pid != b->session->client_pid) {
		return a->session->client_pid < b->session->client_pid ? -1 : 1;
	}
	return 0;
}

/* Each group's holder: the process with the most traced sessions (the
 * lowest pid on a tie, so the choice does not depend on row order). */
static void assign_holders(struct group_set *set, struct held *held,
			   size_t n)
{
	if (n > 1) {
		qsort(held, n, sizeof(*held), compare_held);
	}
	for (size_t i = 0; i < n;) {
		struct group *g = &set->groups[held[i].group];
		size_t j = i;
		int sessions = 0;

		while (j < n && compare_held(&held[i], &held[j]) == 0) {
			sessions += held[j++].session->weight;
		}
		if (sessions > g->holder_sessions) {
			g->holder_pid = held[i].session->client_pid;
			g->holder_command = held[i].session->client_command;
			g->holder_relation = held[i].session->client_relation;
			g->holder_sessions = sessions;
		}
		i = j;
	}
}

/* Thread-local: servers watched side by side group on their own threads. */
static _Thread_local const struct group_keys *sort_keys;

/* Sorting moved the groups: each session follows its group. */
static void remap_members(struct group_set *set, size_t sessions)
{
	size_t *moved_to = xcalloc(set->count, sizeof(*moved_to));

	for (size_t g = 0; g < set->count; g++) {
		moved_to[set->groups[g].built_as] = g;
	}
	for (size_t i = 0; i < sessions; i++) {
		if (set->member[i] != (size_t)GROUP_NONE) {
			set->member[i] = moved_to[set->member[i]];
		}
	}
	free(moved_to);
}
static int compare_groups(const void *pa, const void *pb)
{
	const struct group *a = pa;
	const struct group *b = pb;

	if (a->connections != b->connections) {
		return a->connections > b->connections ? -1 : 1;
	}
	return group_compare_keys(a, b, sort_keys);
}

void group_set_build(struct group_set *set, const struct sample *sample,
		     const struct filter *filter,
		     const struct group_keys *keys)
{
	set->count = 0;
	set->total = 0;
	set->total_unfiltered = sample_session_total(sample);
	/* Groups never outnumber sessions: size the hash once per sample. */
	reserve_slots(set, sample->session_count);
	xgrow((void **)&set->member, &set->member_cap,
	      sample->session_count + 1, sizeof(*set->member));
	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];
		struct group *g;

		set->member[i] = (size_t)GROUP_NONE;
		if (!match_filter_accepts(filter, s->user, s->app, s->db)) {
			continue;
		}
		set->total += s->weight;
		g = find_or_add(set, s, keys);
		count_session(g, s);
		set->member[i] = (size_t)(g - set->groups);
	}
	/* qsort has no context argument in C17: a file-level pointer,
	 * set only for the duration of the sort. */
	if (set->count > 1) {
		sort_keys = keys;
		qsort(set->groups, set->count, sizeof(*set->groups),
		      compare_groups);
		sort_keys = NULL;
		remap_members(set, sample->session_count);
	}
}

struct group *group_set_group_of(struct group_set *set, size_t i)
{
	return set->member[i] != (size_t)GROUP_NONE ? &set->groups[set->member[i]]
						    : NULL;
}

void group_set_assign_holders(struct group_set *set,
			      const struct sample *sample)
{
	struct held *held = NULL;
	size_t count = 0;
	size_t cap = 0;

	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];

		if (s->client_pid <= 0 || set->member[i] == (size_t)GROUP_NONE) {
			continue;
		}
		xgrow((void **)&held, &cap, count + 1, sizeof(*held));
		held[count].group = set->member[i];
		held[count++].session = s;
	}
	assign_holders(set, held, count);
	free(held);
}
