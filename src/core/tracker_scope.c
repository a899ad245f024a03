/*
 * tracker_scope.c - the scopes sessions are opened and used in (a client
 * process, or a role, application, database and client address): their
 * opens, their uses, the sessions they have at work, and the closes a
 * new open replaces (see tracker_private.h).
 */
#include "tracker_private.h"

#include <math.h>
#include <stdint.h>

uint64_t tracker_scope_hash(int pid, const char *key)
{
	return pid != 0 ? (uint64_t)(uint32_t)pid * 0x9E3779B97F4A7C15ULL
			: (uint64_t)(uintptr_t)key * 0xBF58476D1CE4E5B9ULL;
}

struct tracker_scope *tracker_scope_for(struct tracker *t, int pid,
					const char *key, bool add)
{
	uint64_t h = tracker_scope_hash(pid, key);
	size_t cursor = 0;
	size_t i;

	while ((i = group_index_find(&t->by_scope, h, &cursor)) !=
	       (size_t)GROUP_NONE) {
		if (t->scopes[i].pid == pid && t->scopes[i].key == key) {
			return &t->scopes[i];
		}
	}
	if (!add) {
		return NULL;
	}
	xgrow((void **)&t->scopes, &t->scope_cap, t->scope_count + 1,
	      sizeof(*t->scopes));
	t->scopes[t->scope_count] =
		(struct tracker_scope){.pid = pid,
				       .key = key,
				       .first_open = INFINITY,
				       .last_open = -INFINITY,
				       .last_use = -INFINITY,
				       .woke_sample = SIZE_MAX,
				       .active_sample = SIZE_MAX};
	group_index_add(&t->by_scope, h, t->scope_count);
	return &t->scopes[t->scope_count++];
}

void tracker_scope_note_open(struct tracker *t, int pid, const char *key,
			     double start)
{
	struct tracker_scope *scope = tracker_scope_for(t, pid, key, true);

	scope->last_open = fmax(scope->last_open, start);
	scope->first_open = fmin(scope->first_open, start);
}

/* The scope (its process's when known) a session falls in; NULL when
 * none was noted. */
const struct tracker_scope *tracker_scope_of(const struct tracker *t,
					     const struct tracked *tr)
{
	struct tracker *mut = (struct tracker *)(uintptr_t)t;

	return tr->client_pid > 0
		       ? tracker_scope_for(mut, tr->client_pid, NULL, false)
		       : tracker_scope_for(mut, 0, tr->scope, false);
}

/* The smoothing of a scope's sessions at work: about the last ten
 * samples. */
#define ACTIVE_KEEP 0.9

/* The scope's smoothed count at work as of the end of sample k: sample
 * active_sample's count folded in, then none in the ones after it. */
static void active_as_of(const struct tracker_scope *scope, size_t k,
			 double *sum, double *weight)
{
	*sum = scope->active_sum;
	*weight = scope->active_weight;
	if (scope->active_sample == SIZE_MAX || scope->active_sample > k) {
		return;
	}
	*sum = ACTIVE_KEEP * *sum + (1 - ACTIVE_KEEP) * scope->active_now;
	*weight = ACTIVE_KEEP * *weight + (1 - ACTIVE_KEEP);
	for (size_t i = scope->active_sample; i < k; i++) {
		*sum *= ACTIVE_KEEP;
		*weight *= ACTIVE_KEEP;
	}
}

/* Sessions of the scope at work a sample, smoothed, as of sample k. */
double tracker_scope_active(const struct tracker_scope *scope, size_t k)
{
	double sum;
	double weight;

	active_as_of(scope, k, &sum, &weight);
	return weight > 0 ? sum / weight : 0;
}

/* One session of the scope at work in sample k. */
void tracker_scope_count_active(struct tracker_scope *scope, size_t k)
{
	if (scope->active_sample != k) {
		if (scope->active_sample != SIZE_MAX) {
			active_as_of(scope, k - 1, &scope->active_sum,
				     &scope->active_weight);
		}
		scope->active_sample = k;
		scope->active_now = 0;
	}
	scope->active_now++;
}

/* A use begun at start by a session last used at prev, in one scope. */
static void scope_use(struct tracker *t, struct tracker_scope *scope,
		      double start, double prev)
{
	scope->last_use = fmax(scope->last_use, start);
	if (scope->woke_sample != t->samples || prev < scope->woke_prev) {
		scope->woke_sample = t->samples;
		scope->woke_start = start;
		scope->woke_prev = prev;
	}
}

/* A use begun at start by a session of these scopes (tr->last_use still
 * its use before). */
void tracker_scope_note_use(struct tracker *t, const struct tracked *tr,
			    double start)
{
	scope_use(t, tracker_scope_for(t, 0, tr->scope, true), start,
		  tr->last_use);
	if (tr->client_pid > 0) {
		scope_use(t, tracker_scope_for(t, tr->client_pid, NULL, true),
			  start, tr->last_use);
	}
}

/* One close more for the scope's next open to replace. */
void tracker_scope_add_credit(struct tracker *t, int pid, const char *key)
{
	struct tracker_scope *scope = tracker_scope_for(t, pid, key, true);

	if (scope->credit_sample + 1 < t->samples) {
		scope->credit = 0; /* a replacement comes at once */
	}
	scope->credit++;
	scope->credit_sample = t->samples;
}

/* True when an open in the scope replaces a recent close (and uses its
 * credit up). */
bool tracker_scope_take_credit(struct tracker *t, int pid, const char *key)
{
	struct tracker_scope *scope = tracker_scope_for(t, pid, key, false);

	if (scope == NULL || scope->credit == 0 ||
	    scope->credit_sample + 1 < t->samples) {
		return false;
	}
	scope->credit--;
	return true;
}
