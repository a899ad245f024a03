/*
 * tests.c - test windows from a runner's marks, and which sessions each
 * opened, closed, left open and abandoned (see tests.h).  The windows
 * are kept as they come; every figure is worked out over the tracker
 * when it is asked for.
 */
#include "tests.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the line protocol ---- */

static const struct {
	const char *verb;
	enum sample_mark_kind kind;
} verbs[] = {
	{"start", SAMPLE_MARK_START}, {"end", SAMPLE_MARK_END},
	{"setup", SAMPLE_MARK_SETUP}, {"setup-end", SAMPLE_MARK_SETUP_END},
	{"phase", SAMPLE_MARK_PHASE},
};

static bool parse_pid(const char *p, size_t len, int *pid)
{
	long long v = 0;

	if (len == 0 || len > 10) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return false;
		}
		v = v * 10 + (p[i] - '0');
	}
	if (v < 1 || v > INT_MAX) {
		return false;
	}
	*pid = (int)v;
	return true;
}

static bool find_verb(const char *p, size_t len, enum sample_mark_kind *kind)
{
	for (size_t i = 0; i < PGD_ARRAY_LEN(verbs); i++) {
		if (strlen(verbs[i].verb) == len &&
		    memcmp(verbs[i].verb, p, len) == 0) {
			*kind = verbs[i].kind;
			return true;
		}
	}
	return false;
}

bool tests_parse_line(const char *line, size_t len, struct tests_line *out,
		      struct errbuf *err)
{
	const char *space;
	const char *at;
	size_t word;
	size_t verb_len;

	if (len > 0 && line[len - 1] == '\r') {
		len--;
	}
	if (memchr(line, '\0', len) != NULL) {
		errbuf_set(err, "a NUL byte in the line");
		return false;
	}
	space = memchr(line, ' ', len);
	word = space != NULL ? (size_t)(space - line) : len;
	at = memchr(line, '@', word);
	verb_len = at != NULL ? (size_t)(at - line) : word;
	memset(out, 0, sizeof(*out));
	if (!find_verb(line, verb_len, &out->kind)) {
		errbuf_set(err, "unknown verb: use start, end, setup, "
				"setup-end or phase");
		return false;
	}
	if (at != NULL && !parse_pid(at + 1, word - verb_len - 1, &out->pid)) {
		errbuf_set(err, "bad pid after '@': a number from 1 is wanted");
		return false;
	}
	if (space == NULL || word + 1 >= len) {
		errbuf_set(err, "a test name is wanted after the verb");
		return false;
	}
	out->name = space + 1;
	out->name_len = len - word - 1;
	return true;
}

/* ---- the windows ---- */

void tests_init(struct tests *t)
{
	memset(t, 0, sizeof(*t));
	arena_init(&t->arena);
}

void tests_finish(struct tests *t)
{
	if (t == NULL) {
		return;
	}
	free(t->windows);
	free(t->parents);
	free(t->phases);
	free(t->runners);
	arena_finish(&t->arena);
	memset(t, 0, sizeof(*t));
}

static bool is_runner(const struct tests *t, int pid)
{
	for (size_t i = 0; i < t->runner_count; i++) {
		if (t->runners[i] == pid) {
			return true;
		}
	}
	return false;
}

static void add_runner(struct tests *t, int pid)
{
	if (pid <= 0 || is_runner(t, pid)) {
		return;
	}
	xgrow((void **)&t->runners, &t->runner_cap, t->runner_count + 1,
	      sizeof(*t->runners));
	t->runners[t->runner_count++] = pid;
}

/* The newest note wins: a pid reused later has a new parent. */
static int parent_of(const struct tests *t, int pid)
{
	for (size_t i = t->parent_count; i-- > 0;) {
		if (t->parents[i].pid == pid) {
			return t->parents[i].ppid;
		}
	}
	return 0;
}

static void note_parent(struct tests *t, int pid, int ppid)
{
	if (pid <= 0 || ppid <= 0 || pid == ppid || parent_of(t, pid) == ppid) {
		return;
	}
	xgrow((void **)&t->parents, &t->parent_cap, t->parent_count + 1,
	      sizeof(*t->parents));
	t->parents[t->parent_count++] = (struct tests_parent){pid, ppid};
}

static void begin(struct tests *t, const struct sample_mark *m, double at,
		  double wall)
{
	struct tests_window *w;

	xgrow((void **)&t->windows, &t->cap, t->count + 1, sizeof(*t->windows));
	w = &t->windows[t->count++];
	w->name = arena_strdup(&t->arena, m->name);
	w->pid = m->pid;
	w->setup = m->kind == SAMPLE_MARK_SETUP;
	w->started_at = at;
	w->ended_at = NAN;
	w->started_wall_s = wall;
	w->ended_wall_s = NAN;
}

/* The window an end closes: the newest open one of its process and kind
 * with its name, else the newest open one of its process and kind (a
 * runner that names its ends differently still ends its tests). */
static struct tests_window *open_window(struct tests *t, int pid, bool setup,
					const char *name)
{
	struct tests_window *any = NULL;

	for (size_t i = t->count; i-- > 0;) {
		struct tests_window *w = &t->windows[i];

		if (w->pid != pid || w->setup != setup || !isnan(w->ended_at)) {
			continue;
		}
		if (strcmp(w->name, name) == 0) {
			return w;
		}
		if (any == NULL) {
			any = w;
		}
	}
	return any;
}

/* Settled: the end of pid's newest window, when it is an ended test
 * (nothing began in pid since), moves to this later sample. */
static void settle(struct tests *t, int pid, double at, double wall)
{
	for (size_t i = t->count; i-- > 0;) {
		struct tests_window *w = &t->windows[i];

		if (w->pid != pid) {
			continue;
		}
		if (!w->setup && isfinite(w->ended_at) && at >= w->ended_at) {
			w->ended_at = at;
			w->ended_wall_s = wall;
		}
		return;
	}
}

static void end(struct tests *t, const struct sample_mark *m, double at,
		double wall)
{
	struct tests_window *w = open_window(t, m->pid,
					     m->kind == SAMPLE_MARK_SETUP_END,
					     m->name);

	if (w == NULL) {
		t->unmatched++;
		return;
	}
	w->ended_at = at;
	w->ended_wall_s = wall;
}

/* A phase of pid's newest running test. */
static void phase(struct tests *t, int pid, double at)
{
	for (size_t i = t->count; i-- > 0;) {
		const struct tests_window *w = &t->windows[i];

		if (w->pid == pid && !w->setup && isnan(w->ended_at)) {
			xgrow((void **)&t->phases, &t->phase_cap,
			      t->phase_count + 1, sizeof(*t->phases));
			t->phases[t->phase_count++] = (struct tests_phase){i,
									   at};
			return;
		}
	}
}

void tests_add(struct tests *t, const struct sample *sample)
{
	/* The tracker's clock, so windows and sessions compare exactly. */
	double at = isfinite(sample->server_epoch_s) ? sample->server_epoch_s
						     : sample->taken_at_epoch_s;
	double wall = sample->taken_at_epoch_s;

	for (size_t i = 0; i < sample->mark_count; i++) {
		const struct sample_mark *m = &sample->marks[i];

		switch (m->kind) {
		case SAMPLE_MARK_START:
		case SAMPLE_MARK_SETUP:
			add_runner(t, m->pid);
			begin(t, m, at, wall);
			break;
		case SAMPLE_MARK_END:
		case SAMPLE_MARK_SETUP_END:
			add_runner(t, m->pid);
			end(t, m, at, wall);
			break;
		case SAMPLE_MARK_PHASE:
			add_runner(t, m->pid);
			phase(t, m->pid, at);
			break;
		case SAMPLE_MARK_SETTLED:
			settle(t, m->pid, at, wall);
			break;
		case SAMPLE_MARK_PARENT:
			note_parent(t, m->pid, m->ppid);
			break;
		case SAMPLE_MARK_KIND_COUNT:
			break;
		}
	}
}

size_t tests_count(const struct tests *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->count; i++) {
		n += !t->windows[i].setup;
	}
	return n;
}

bool tests_reported(const struct tests *t)
{
	return tests_count(t) > 0;
}

/* The runner pid is, or descends from (as far as parents were noted);
 * 0 for none.  An untraced session (pid 0) goes to the only runner. */
static int runner_of(const struct tests *t, int pid)
{
	if (pid <= 0) {
		return t->runner_count == 1 ? t->runners[0] : 0;
	}
	for (int depth = 0; pid > 0 && depth < 64; depth++) {
		if (is_runner(t, pid)) {
			return pid;
		}
		pid = parent_of(t, pid);
	}
	return 0;
}

size_t tests_left_open(const struct tests *t, const struct tracker *tr, int pid)
{
	const struct tests_window *w = NULL;
	size_t n = 0;

	for (size_t i = t->count; i-- > 0 && w == NULL;) {
		if (t->windows[i].pid == pid && !t->windows[i].setup) {
			w = &t->windows[i];
		}
	}
	if (w == NULL) {
		return 0;
	}
	for (size_t i = 0; i < tr->live_count; i++) {
		const struct tracked *s = &tr->live[i];

		if (s->backend_start > w->started_at &&
		    runner_of(t, s->client_pid) == pid) {
			n++;
		}
	}
	return n;
}

/* ---- the analysis ---- */

/* A tracked session with its process's runner and the window it opened
 * in (GROUP_NONE: none). */
struct entry {
	const struct tracked *s;
	int runner;
	size_t owner;
	size_t phase; /* of its window's phases, how many began before it */
};

/* Open at the sample of moment x (first_seen and closed_at are sample
 * moments; closed_at is NAN while open). */
static bool open_at(const struct tracked *s, double x)
{
	return s->first_seen <= x && !(s->closed_at <= x);
}

static bool in_window(const struct tests_window *w, double b)
{
	return w->started_at < b && !(b > w->ended_at);
}

/* A session opened at b in runner's process belongs to the newest set-up
 * running then, else to the newest test running then. */
static size_t owner_of(const struct tests *t, int runner, double b)
{
	size_t best = (size_t)GROUP_NONE;

	for (size_t i = 0; i < t->count; i++) {
		const struct tests_window *w = &t->windows[i];

		if (w->pid != runner || !in_window(w, b)) {
			continue;
		}
		if (best == (size_t)GROUP_NONE ||
		    w->setup >= t->windows[best].setup) {
			best = i;
		}
	}
	return best;
}

static bool selected(const struct filter *filter, const struct tracked *s)
{
	return filter == NULL ||
	       match_filter_accepts(filter, s->keys[GROUP_KEY_USER],
				    s->keys[GROUP_KEY_APP],
				    s->keys[GROUP_KEY_DB]);
}

static void add_entry(const struct tests *t, const struct tracker *tr,
		      const struct tracked *s, struct entry *e,
		      struct tests_result *out)
{
	e->s = s;
	e->runner = runner_of(t, s->client_pid);
	e->owner = e->runner != 0 ? owner_of(t, e->runner, s->backend_start)
				  : (size_t)GROUP_NONE;
	e->phase = 0;
	for (size_t i = 0; i < t->phase_count; i++) {
		e->phase += t->phases[i].window == e->owner &&
			    t->phases[i].at < s->backend_start;
	}
	if (s->first_seen <= tr->started) {
		return; /* there before the run: no window's */
	}
	if (e->runner == 0 && s->client_relation != CLIENT_RELATION_UNRELATED) {
		out->unattributed++;
	} else if (e->runner != 0 && e->owner == (size_t)GROUP_NONE) {
		out->outside++;
	}
}

static size_t gather(const struct tests *t, const struct tracker *tr,
		     const struct filter *filter, struct entry *entries,
		     struct tests_result *out)
{
	size_t n = 0;

	for (size_t i = 0; i < tr->live_count; i++) {
		if (selected(filter, &tr->live[i])) {
			add_entry(t, tr, &tr->live[i], &entries[n++], out);
		}
	}
	for (size_t i = 0; i < tr->closed_count; i++) {
		const struct tracked *s = tracker_closed_at(tr, i);

		if (selected(filter, s)) {
			add_entry(t, tr, s, &entries[n++], out);
		}
	}
	return n;
}

static int compare_entries(const void *pa, const void *pb)
{
	const struct entry *a = pa;
	const struct entry *b = pb;

	if (a->owner != b->owner) {
		return a->owner < b->owner ? -1 : 1;
	}
	if (a->s->backend_start != b->s->backend_start) {
		return a->s->backend_start < b->s->backend_start ? -1 : 1;
	}
	return (a->s->pid > b->s->pid) - (a->s->pid < b->s->pid);
}

static enum tests_fate fate_of(const struct tests_window *w,
			       const struct tracked *s)
{
	if (s->closed_at <= w->ended_at) {
		return TESTS_FATE_CLOSED;
	}
	/* Used at the end sample itself or after it; a session whose
	 * times the server hides is never judged unused. */
	if (!isfinite(w->ended_at) || s->last_use >= w->ended_at || s->weak) {
		return TESTS_FATE_REUSED;
	}
	return TESTS_FATE_UNUSED;
}

/* Before, after and closed: over the sessions of the window's process. */
static void count_process(struct tests_outcome *o, const struct entry *e,
			  size_t n)
{
	const struct tests_window *w = o->window;

	for (size_t i = 0; i < n; i++) {
		const struct tracked *s = e[i].s;

		if (e[i].runner != w->pid) {
			continue;
		}
		o->before += open_at(s, w->started_at);
		if (o->ended) {
			o->after += open_at(s, w->ended_at);
			o->closed += s->closed_at > w->started_at &&
				     s->closed_at <= w->ended_at;
		}
	}
}

static bool has_phases(const struct tests *t, size_t window)
{
	for (size_t i = 0; i < t->phase_count; i++) {
		if (t->phases[i].window == window) {
			return true;
		}
	}
	return false;
}

/* Pool-mates: the same phase of the same test, process and user,
 * application and database (fine: interned, the pointer is the key). */
static bool pool_mates(const struct entry *a, const struct entry *b)
{
	return a->phase == b->phase && a->s->client_pid == b->s->client_pid &&
	       a->s->fine == b->s->fine;
}

/* An unused session whose pool-mate was used again is the pool's idle
 * member (tests.h).  e[0..n) are the window's sessions, ts their fates. */
static void judge_pools(const struct entry *e, struct tests_session *ts,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ts[i].fate != TESTS_FATE_UNUSED) {
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			if (ts[j].fate == TESTS_FATE_REUSED &&
			    pool_mates(&e[i], &e[j])) {
				ts[i].fate = TESTS_FATE_POOLED;
				break;
			}
		}
	}
}

/* The sessions the window opened: e[from..] while owned by it. */
static size_t take_sessions(const struct tests *t, struct tests_outcome *o,
			    const struct entry *e, size_t from, size_t n,
			    size_t index, struct tests_result *out)
{
	size_t start = from;
	struct tests_session *ts;

	o->first = out->session_count;
	for (; from < n && e[from].owner == index; from++) {
		ts = &out->sessions[out->session_count++];
		ts->session = e[from].s;
		ts->fate = fate_of(o->window, e[from].s);
	}
	o->session_count = out->session_count - o->first;
	ts = &out->sessions[o->first];
	if (has_phases(t, index)) {
		judge_pools(e + start, ts, o->session_count);
	}
	for (size_t i = 0; i < o->session_count; i++) {
		o->opened++;
		o->left_open += ts[i].fate != TESTS_FATE_CLOSED;
		o->leaked += ts[i].fate == TESTS_FATE_UNUSED &&
			     !o->window->setup;
	}
	return from;
}

void tests_analyse(const struct tests *t, const struct tracker *tr,
		   const struct filter *filter, struct tests_result *out)
{
	size_t cap = tr->live_count + tr->closed_count + 1;
	struct entry *e = xcalloc(cap, sizeof(*e));
	size_t n;
	size_t at = 0;

	memset(out, 0, sizeof(*out));
	n = gather(t, tr, filter, e, out);
	qsort(e, n, sizeof(*e), compare_entries);
	out->outcomes = xcalloc(t->count + 1, sizeof(*out->outcomes));
	out->sessions = xcalloc(n + 1, sizeof(*out->sessions));
	out->count = t->count;
	for (size_t i = 0; i < t->count; i++) {
		struct tests_outcome *o = &out->outcomes[i];

		o->window = &t->windows[i];
		o->ended = isfinite(o->window->ended_at);
		count_process(o, e, n);
		while (at < n && e[at].owner < i) {
			at++;
		}
		at = take_sessions(t, o, e, at, n, i, out);
		if (!o->window->setup) {
			out->tests++;
			out->leaking_tests += o->leaked > 0;
			out->leaked += o->leaked;
		}
	}
	free(e);
}

void tests_result_finish(struct tests_result *r)
{
	if (r == NULL) {
		return;
	}
	free(r->outcomes);
	free(r->sessions);
	memset(r, 0, sizeof(*r));
}
