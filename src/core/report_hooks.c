/*
 * report_hooks.c - the client hooks' word in the report (see
 * report_hooks.h).  Everything is copied into the report's arena.
 */
#include "report_hooks.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *dup_or_null(struct report *r, const char *s)
{
	return s != NULL ? arena_strdup(&r->arena, s) : NULL;
}

/* ---- the server's session of a client connection ---- */

static bool session_of(const struct clientfacts_conn *c, double t,
		       const struct tracked *s)
{
	return s != NULL && c->backend > 0 && s->pid == c->backend &&
	       s->backend_start <= t;
}

/* The newest session with the connection's backend pid started at or
 * before t, live or closed; NULL none. */
static const struct tracked *find_session(const struct tracker *tr,
					  const struct clientfacts_conn *c,
					  double t)
{
	const struct tracked *best = NULL;

	for (size_t i = 0; i < tr->live_count; i++) {
		if (session_of(c, t, &tr->live[i])) {
			best = &tr->live[i];
		}
	}
	for (size_t i = 0; i < tr->closed_count; i++) {
		const struct tracked *s = tracker_closed_at(tr, i);

		if (session_of(c, t, s) &&
		    (best == NULL || s->backend_start > best->backend_start)) {
			best = s;
		}
	}
	return best;
}

static void keep_server(struct report_client_leak *l, const struct tracker *tr,
			const struct tracked *s)
{
	l->idle_tx_s = NAN;
	l->unused_s = NAN;
	if (s == NULL) {
		return;
	}
	l->matched = true;
	l->state = s->state;
	if (s->max_idle_tx_s > 0) {
		l->idle_tx_s = s->max_idle_tx_s;
	}
	l->unused_s = isfinite(s->closed_at)
			      ? fmax(0, s->last_seen - s->last_use)
			      : tracker_unused_s(tr, s);
	l->server_knew = s->max_idle_tx_s > 0 || tracker_abandoned(tr, s);
}

/* ---- blame ---- */

/* pid or one of its ancestors (as the runner's marks told them). */
static bool within(const struct tests *t, int pid, int runner)
{
	for (int depth = 0; depth < 32 && pid > 1; depth++) {
		bool up = false;

		if (pid == runner) {
			return true;
		}
		for (size_t i = 0; i < t->parent_count && !up; i++) {
			if (t->parents[i].pid == pid) {
				pid = t->parents[i].ppid;
				up = true;
			}
		}
		if (!up) {
			return false;
		}
	}
	return false;
}

/* The test of report->tests a leak is blamed on: by the line's name
 * (its process's first), else the window of its process its time falls
 * in; SIZE_MAX none. */
static size_t blame(const struct report *r, const struct tests *t,
		    const char *name, int pid, double at)
{
	const struct report_tests *rt = &r->tests;
	size_t by_name = SIZE_MAX;

	for (size_t i = 0; i < rt->count; i++) {
		const struct report_test *x = &rt->items[i];

		if (x->setup) {
			continue;
		}
		if (name != NULL && strcmp(x->name, name) == 0) {
			if (within(t, pid, x->pid)) {
				return i;
			}
			by_name = by_name == SIZE_MAX ? i : by_name;
		} else if (name == NULL && within(t, pid, x->pid) &&
			   x->started_epoch_s <= at &&
			   (!isfinite(x->ended_epoch_s) ||
			    at <= x->ended_epoch_s)) {
			return i;
		}
	}
	return by_name;
}

/* ---- the leaks ---- */

static void keep_stack(struct report *r, struct report_client_leak *l,
		       const struct clientfacts_stack *st)
{
	l->stack_count = st->count;
	l->stack = arena_alloc(&r->arena,
			       (st->count ? st->count : 1) * sizeof(*l->stack));
	for (size_t i = 0; i < st->count; i++) {
		l->stack[i].file = arena_strdup(&r->arena, st->frames[i].file);
		l->stack[i].line = st->frames[i].line;
		l->stack[i].func = arena_strdup(&r->arena, st->frames[i].func);
	}
}

static void keep_leak(struct report *r, const struct tests *t,
		      const struct tracker *tr,
		      const struct clientfacts_conn *c,
		      struct report_client_leak *l)
{
	bool checkout = clientfacts_checkout_leaked(c);
	const char *test = checkout ? c->take_test : c->open_test;

	memset(l, 0, sizeof(*l));
	l->checkout = checkout;
	l->at_epoch_s = checkout ? c->taken_t : c->opened_t;
	l->test_index = blame(r, t, test, c->pid, l->at_epoch_s);
	if (test == NULL && l->test_index != SIZE_MAX) {
		test = r->tests.items[l->test_index].name;
	}
	l->test = dup_or_null(r, test);
	l->pid = c->pid;
	l->backend_pid = c->backend;
	l->lib = arena_strdup(&r->arena, c->lib);
	l->pool = arena_strdup(&r->arena, checkout ? c->pool : "");
	l->lost = checkout && c->lost;
	l->lost_how = l->lost ? dup_or_null(r, c->lost_how) : NULL;
	l->closed_by = dup_or_null(r, c->close_how);
	keep_stack(r, l, checkout ? &c->take_stack : &c->open_stack);
	keep_server(l, tr, find_session(tr, c, l->at_epoch_s));
}

static void build_leaks(struct report *r, const struct clientfacts *f,
			const struct tests *t, const struct tracker *tr)
{
	struct report_hooks *h = &r->hooks;
	size_t n = 0;

	for (size_t i = 0; i < f->count; i++) {
		n += clientfacts_checkout_leaked(&f->conns[i]) ||
		     clientfacts_unclosed(&f->conns[i]);
	}
	n = n < REPORT_HOOKS_MAX_LEAKS ? n : REPORT_HOOKS_MAX_LEAKS;
	h->leaks = arena_alloc(&r->arena, (n ? n : 1) * sizeof(*h->leaks));
	for (size_t i = 0; i < f->count; i++) {
		const struct clientfacts_conn *c = &f->conns[i];
		bool out = clientfacts_checkout_leaked(c);

		if (!out && !clientfacts_unclosed(c)) {
			continue;
		}
		h->checkouts_out += out;
		h->unclosed += !out;
		if (h->leak_count >= n) {
			h->leaks_left_out++;
			continue;
		}
		keep_leak(r, t, tr, c, &h->leaks[h->leak_count++]);
	}
}

static void build_unhooked(struct report *r, const struct clientfacts *f)
{
	struct report_hooks *h = &r->hooks;

	h->unhooked = arena_alloc(&r->arena, (f->lib_count ? f->lib_count : 1) *
						     sizeof(*h->unhooked));
	for (size_t i = 0; i < f->lib_count; i++) {
		size_t len = strlen(f->libs[i].lib) + strlen(f->libs[i].why) +
			     3;
		char *s = arena_alloc(&r->arena, len);

		snprintf(s, len, "%s: %s", f->libs[i].lib, f->libs[i].why);
		h->unhooked[h->unhooked_count++] = s;
	}
}

/* ---- the tests' tally ---- */

/* The connection a client reported for the session of this backend pid
 * opened then; NULL when none did. */
static const struct clientfacts_conn *conn_of(const struct clientfacts *f,
					      int pid, double opened_epoch_s)
{
	size_t idx;
	const struct clientfacts_conn *c;

	if (!pidmap_get(&f->by_backend, pid, &idx)) {
		return NULL;
	}
	c = &f->conns[idx];
	if (c->backend != pid || !(opened_epoch_s <= c->first_t)) {
		return NULL;
	}
	return c;
}

/* The client connection a session the server counted is, if a client
 * spoke of it; NULL none. */
static const struct clientfacts_conn *client_conn(
	const struct clientfacts *f, const struct report_test_session *s)
{
	return conn_of(f, s->pid, s->opened_epoch_s);
}

/* A client leak of the same session already blamed on test k: counted
 * once.  Its index, or SIZE_MAX. */
static size_t same_leak(const struct report *r, int backend, size_t k)
{
	for (size_t i = 0; i < r->hooks.leak_count; i++) {
		if (r->hooks.leaks[i].backend_pid == backend &&
		    r->hooks.leaks[i].test_index == k) {
			return i;
		}
	}
	return SIZE_MAX;
}

/* The client leak of a session, blamed on any test or none; SIZE_MAX
 * when there is none. */
static size_t leak_of(const struct report *r, int backend)
{
	for (size_t i = 0; i < r->hooks.leak_count; i++) {
		if (r->hooks.leaks[i].backend_pid == backend) {
			return i;
		}
	}
	return SIZE_MAX;
}

/* A session given back to its pool rests there, no leak of test: taken
 * last in another test (or none), or from a pool other tests (or code
 * outside tests) take from too. */
static bool resting(const struct clientfacts *f,
		    const struct clientfacts_conn *c, const char *test)
{
	if (c->takes == 0 || clientfacts_checkout_leaked(c)) {
		return false;
	}
	return c->take_test == NULL || strcmp(c->take_test, test) != 0 ||
	       clientfacts_pool_shared(f, c);
}

/*
 * The server's unused sessions a client spoke of: one resting in a
 * shared pool is no leak of this test; one a client leak already blames
 * on this test is counted once, and one it blames on another test is
 * that test's (counted there).  Anything else keeps the server's word
 * (a pool made and used in one test alone, as an engine never disposed,
 * is a leak).
 */
static void clear_server(struct report *r, const struct clientfacts *f,
			 size_t k, bool *counted)
{
	struct report_test *x = &r->tests.items[k];

	for (size_t j = 0; j < x->session_count; j++) {
		struct report_test_session *s = &x->sessions[j];
		const struct clientfacts_conn *c;
		size_t same;
		size_t other;

		if (strcmp(s->fate, "unused") != 0 ||
		    (c = client_conn(f, s)) == NULL) {
			continue;
		}
		same = same_leak(r, s->pid, k);
		other = leak_of(r, s->pid);
		if (same != SIZE_MAX) {
			counted[same] = true;
		} else if (resting(f, c, x->name)) {
			x->leaked--;
			r->hooks.cleared++;
			s->fate = "pooled";
		} else if (other != SIZE_MAX &&
			   r->hooks.leaks[other].test_index != SIZE_MAX) {
			/* Taken again, and leaked, by another test: that
			 * test counts it. */
			x->leaked--;
			s->fate = "reused";
		}
	}
}

static void retally(struct report *r, const struct clientfacts *f)
{
	struct report_tests *rt = &r->tests;
	bool *counted = arena_alloc(&r->arena, r->hooks.leak_count + 1);

	memset(counted, 0, r->hooks.leak_count + 1);
	for (size_t i = 0; i < rt->count; i++) {
		if (!rt->items[i].setup) {
			clear_server(r, f, i, counted);
		}
	}
	for (size_t i = 0; i < r->hooks.leak_count; i++) {
		size_t k = r->hooks.leaks[i].test_index;

		if (k != SIZE_MAX) {
			rt->items[k].leaked += !counted[i];
			rt->items[k].client_leaked++;
		}
	}
	rt->leaking = 0;
	rt->leaked = 0;
	for (size_t i = 0; i < rt->count; i++) {
		if (!rt->items[i].setup) {
			rt->leaking += rt->items[i].leaked > 0;
			rt->leaked += (size_t)rt->items[i].leaked;
		}
	}
}

/* Only the listed evidence is looked at (REPORT_EVIDENCE_MAX): the rest
 * keep the server's word. */
void report_hooks_clear_groups(struct report *r, const struct clientfacts *f)
{
	if (f == NULL || !clientfacts_any(f) || !r->wrapped) {
		return;
	}
	for (size_t i = 0; i < r->group_count; i++) {
		struct report_group *g = &r->groups[i];
		size_t kept = 0;

		if (!g->by_sessions) {
			continue;
		}
		for (size_t e = 0; e < g->evidence_count; e++) {
			const struct clientfacts_conn *c =
				conn_of(f, g->evidence[e].pid,
					g->evidence[e].opened_epoch_s);

			if (c != NULL && c->takes > 0 &&
			    !clientfacts_checkout_leaked(c) &&
			    clientfacts_pool_shared(f, c) && g->leaked > 0) {
				g->leaked--;
				g->evidence_total--;
				continue;
			}
			g->evidence[kept++] = g->evidence[e];
		}
		g->evidence_count = kept;
		if (g->flagged && g->leaked == 0) {
			g->flagged = false;
			g->verdict = "ok";
			g->first_flagged_s = NAN;
		}
	}
}

/* "taken at X during T, never returned", "opened at X": what the
 * client said of a connection, for the live view's session pane. */
static const char *conn_line(struct report *r, const struct clientfacts_conn *c)
{
	const struct clientfacts_stack *st = c->takes > 0 ? &c->take_stack
							  : &c->open_stack;
	const char *test = c->takes > 0 ? c->take_test : c->open_test;
	const struct clientfacts_frame *f = &st->frames[0];
	char buf[1200];

	snprintf(buf, sizeof(buf), "%s at %s:%d%s%s%s%s%s%s",
		 c->takes > 0 ? "taken" : "opened",
		 st->count > 0 ? f->file : "?", st->count > 0 ? f->line : 0,
		 st->count > 0 && f->func[0] != '\0' ? " (" : "",
		 st->count > 0 ? f->func : "",
		 st->count > 0 && f->func[0] != '\0' ? ")" : "",
		 test != NULL ? " during " : "", test != NULL ? test : "",
		 clientfacts_checkout_leaked(c) ? ", never returned"
		 : c->takes > 0                 ? ", returned"
						: "");
	return arena_strdup(&r->arena, buf);
}

static void annotate_detail(struct report *r, const struct clientfacts *f)
{
	for (size_t i = 0; i < r->detail_count; i++) {
		struct report_session *s = &r->detail[i];
		size_t idx;

		if (pidmap_get(&f->by_backend, s->pid, &idx) &&
		    f->conns[idx].backend == s->pid &&
		    !(s->opened_epoch_s > f->conns[idx].first_t)) {
			s->client_line = conn_line(r, &f->conns[idx]);
		}
	}
}

void report_hooks_build(struct report *report, const struct clientfacts *f,
			const struct tests *t, const struct tracker *tr)
{
	struct report_hooks *h = &report->hooks;

	if (f == NULL || !clientfacts_any(f)) {
		return;
	}
	h->reported = true;
	h->processes = f->processes;
	h->connections = f->count - f->carried;
	h->dropped = f->dropped;
	h->refused = f->refused;
	build_leaks(report, f, t, tr);
	build_unhooked(report, f);
	retally(report, f);
	annotate_detail(report, f);
	if (f->overflow > 0) {
		report_add_warning(report,
				   "%zu connections and libraries the client "
				   "hooks named were past what pgdrip follows "
				   "(%d, %d a process): left out",
				   f->overflow, CLIENTFACTS_MAX_CONNS,
				   CLIENTFACTS_MAX_CONNS_PER_PROCESS);
	}
	if (h->refused > 0) {
		report_add_warning(report,
				   "%zu lines of the client hooks were not "
				   "understood: left out",
				   h->refused);
	}
	if (h->dropped > 0) {
		report_add_warning(report,
				   "the client hooks could not send %lld lines "
				   "(pgdrip read too slowly): what they said "
				   "may be incomplete",
				   h->dropped);
	}
}

void report_hooks_where(const struct report_client_leak *leak, char *buf,
			size_t size)
{
	const struct clientfacts_frame *f = leak->stack;

	if (leak->stack_count == 0) {
		snprintf(buf, size, "an unknown line");
	} else if (f->func[0] != '\0') {
		snprintf(buf, size, "%s:%d (%s)", f->file, f->line, f->func);
	} else {
		snprintf(buf, size, "%s:%d", f->file, f->line);
	}
}

/* A command whose runner named no test (a plain script): each connection
 * its code opened and never closed fails "leaked-connections" (inside a
 * test it is that test's leak, --max-leaked-per-test's). */
static void check_connections(struct report *report)
{
	const struct report_hooks *h = &report->hooks;
	char where[900];
	char line[600];
	size_t failed = 0;

	for (size_t i = 0; i < h->leak_count; i++) {
		const struct report_client_leak *l = &h->leaks[i];

		if (l->checkout) {
			continue;
		}
		report_hooks_where(l, line, sizeof(line));
		snprintf(where, sizeof(where),
			 "connection opened at %s, never closed", line);
		check_list_add(&report->checks, "leaked-connections", where, 0,
			       1, false);
		failed++;
	}
	if (h->unclosed > failed) {
		check_list_add(&report->checks, "leaked-connections",
			       "connections not listed", 0,
			       (double)(h->unclosed - failed), false);
	} else if (h->unclosed == 0) {
		check_list_add(&report->checks, "leaked-connections",
			       "every connection", 0, 0, true);
	}
}

void report_hooks_check(struct report *report)
{
	const struct report_hooks *h = &report->hooks;
	char where[900];
	char line[600];

	if (!report->wrapped || !h->reported) {
		return;
	}
	for (size_t i = 0; i < h->leak_count; i++) {
		const struct report_client_leak *l = &h->leaks[i];

		if (!l->checkout) {
			continue;
		}
		report_hooks_where(l, line, sizeof(line));
		snprintf(where, sizeof(where), "checkout taken at %s%s%s", line,
			 l->test != NULL ? " during " : "",
			 l->test != NULL ? l->test : "");
		check_list_add(&report->checks, "leaked-checkouts", where, 0, 1,
			       false);
	}
	if (h->checkouts_out == 0) {
		check_list_add(&report->checks, "leaked-checkouts",
			       "every checkout", 0, 0, true);
	} else if (h->leaks_left_out > 0) {
		check_list_add(&report->checks, "leaked-checkouts",
			       "checkouts not listed", 0,
			       (double)h->leaks_left_out, false);
	}
	if (report->tests.count == 0) {
		check_connections(report);
	}
}
