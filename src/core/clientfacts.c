/*
 * clientfacts.c - the client hooks' lines parsed and folded into one
 * table of client connections (see clientfacts.h).  The JSON is read by
 * the record reader's parser (record_parse.c), which bounds nesting.
 */
#include "clientfacts.h"

#include "record_parse.h"
#include "session.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const event_names[] = {
	[CLIENTFACTS_HELLO] = "hello",       [CLIENTFACTS_OPEN] = "open",
	[CLIENTFACTS_CLOSE] = "close",       [CLIENTFACTS_TAKE] = "take",
	[CLIENTFACTS_GIVE] = "give",         [CLIENTFACTS_LOST] = "lost",
	[CLIENTFACTS_UNHOOKED] = "unhooked",
};

const char *clientfacts_event_name(enum clientfacts_event ev)
{
	return event_names[ev];
}

/* ---- parsing ---- */

/* The string at key: *out NULL when absent or null; false for another
 * type. */
static bool get_str(const struct node *obj, const char *key, const char **out,
		    struct errbuf *err)
{
	const struct node *n = record_parse_member(obj, key);

	*out = NULL;
	if (n == NULL || n->type == NODE_NULL) {
		return true;
	}
	if (n->type != NODE_STRING) {
		errbuf_set(err, "\"%s\" is not a string", key);
		return false;
	}
	*out = n->str;
	return true;
}

/* A whole number in [lo, hi] at key; dflt when absent. */
static bool get_whole(const struct node *obj, const char *key, double lo,
		      double hi, double dflt, double *out, struct errbuf *err)
{
	const struct node *n = record_parse_member(obj, key);

	*out = dflt;
	if (n == NULL || n->type == NODE_NULL) {
		return true;
	}
	if (n->type != NODE_NUMBER || !(n->num >= lo && n->num <= hi) ||
	    n->num != floor(n->num)) {
		errbuf_set(err, "\"%s\" is not a whole number in range", key);
		return false;
	}
	*out = n->num;
	return true;
}

static bool parse_event(const struct node *root, struct clientfacts_line *out,
			struct errbuf *err)
{
	const char *ev;

	if (!get_str(root, "ev", &ev, err)) {
		return false;
	}
	for (size_t i = 0; ev != NULL && i < PGD_ARRAY_LEN(event_names); i++) {
		if (strcmp(ev, event_names[i]) == 0) {
			out->ev = (enum clientfacts_event)i;
			return true;
		}
	}
	errbuf_set(err, "no known \"ev\"");
	return false;
}

/* "stack": frames past CLIENTFACTS_STACK_MAX and malformed ones are
 * left out (the line still counts). */
static void parse_stack(const struct node *root, struct clientfacts_stack *st)
{
	const struct node *a = record_parse_member(root, "stack");

	st->count = 0;
	if (a == NULL || a->type != NODE_ARRAY) {
		return;
	}
	for (const struct node *f = a->child;
	     f != NULL && st->count < CLIENTFACTS_STACK_MAX; f = f->next) {
		const struct node *file = record_parse_member(f, "file");
		const struct node *line = record_parse_member(f, "line");
		const struct node *func = record_parse_member(f, "func");
		struct clientfacts_frame *fr = &st->frames[st->count];

		if (file == NULL || file->type != NODE_STRING) {
			continue;
		}
		fr->file = file->str;
		fr->line = line != NULL && line->type == NODE_NUMBER &&
					   line->num >= 0 && line->num < 1e9
				   ? (int)line->num
				   : 0;
		fr->func = func != NULL && func->type == NODE_STRING ? func->str
								     : "";
		st->count++;
	}
}

static bool parse_fields(const struct node *root, struct clientfacts_line *out,
			 struct errbuf *err)
{
	double v;
	double pid;
	double backend;
	double dropped;
	const struct node *t = record_parse_member(root, "t");

	if (!get_whole(root, "v", 1, 1, 0, &v, err) || v != 1) {
		errbuf_set(err, "not \"v\":1");
		return false;
	}
	if (!parse_event(root, out, err) ||
	    !get_whole(root, "pid", 1, INT32_MAX, 0, &pid, err) ||
	    !get_whole(root, "backend", 1, INT32_MAX, 0, &backend, err) ||
	    !get_whole(root, "dropped", 0, 1e15, 0, &dropped, err)) {
		return false;
	}
	if (pid == 0) {
		errbuf_set(err, "no \"pid\"");
		return false;
	}
	if (t == NULL || t->type != NODE_NUMBER || !(t->num > 0) ||
	    t->num > PLAUSIBLE_S) {
		errbuf_set(err, "no plausible \"t\"");
		return false;
	}
	out->pid = (int)pid;
	out->backend = (int)backend;
	out->dropped = (long long)dropped;
	out->t = t->num;
	return get_str(root, "test", &out->test, err) &&
	       get_str(root, "lib", &out->lib, err) &&
	       get_str(root, "conn", &out->conn, err) &&
	       get_str(root, "pool", &out->pool, err) &&
	       get_str(root, "how", &out->how, err) &&
	       get_str(root, "why", &out->why, err) &&
	       get_str(root, "lang", &out->lang, err);
}

bool clientfacts_parse_line(const char *line, size_t len, struct arena *arena,
			    struct clientfacts_line *out, struct errbuf *err)
{
	struct node root;
	const char *why = NULL;

	memset(out, 0, sizeof(*out));
	if (len >= CLIENTFACTS_LINE_MAX) {
		errbuf_set(err, "line too long");
		return false;
	}
	if (!record_parse_line(line, len, arena, &root, &why)) {
		errbuf_set(err, "not JSON: %s", why != NULL ? why : "?");
		return false;
	}
	if (root.type != NODE_OBJECT) {
		errbuf_set(err, "not a JSON object");
		return false;
	}
	if (!parse_fields(&root, out, err)) {
		return false;
	}
	parse_stack(&root, &out->stack);
	if (out->ev != CLIENTFACTS_HELLO && out->ev != CLIENTFACTS_UNHOOKED &&
	    out->conn == NULL) {
		errbuf_set(err, "\"%s\" without \"conn\"",
			   event_names[out->ev]);
		return false;
	}
	return true;
}

/* ---- the table ---- */

void clientfacts_init(struct clientfacts *f)
{
	memset(f, 0, sizeof(*f));
	group_index_init(&f->by_conn);
	group_index_init(&f->by_pool);
	arena_init(&f->arena);
}

void clientfacts_finish(struct clientfacts *f)
{
	if (f == NULL) {
		return;
	}
	free(f->conns);
	free(f->pools);
	group_index_finish(&f->by_pool);
	pidmap_finish(&f->by_backend);
	pidmap_finish(&f->per_process);
	group_index_finish(&f->by_conn);
	arena_finish(&f->arena);
	memset(f, 0, sizeof(*f));
}

bool clientfacts_any(const struct clientfacts *f)
{
	return f->lines > 0;
}

/* A copy in the table's arena; NULL stays NULL. */
static const char *keep(struct clientfacts *f, const char *s)
{
	return s != NULL ? arena_strdup(&f->arena, s) : NULL;
}

/* s, or old when it says the same: a checkout taken again and again
 * from the same line adds nothing to the arena. */
static const char *keep_again(struct clientfacts *f, const char *old,
			      const char *s)
{
	if (old != NULL && s != NULL && strcmp(old, s) == 0) {
		return old;
	}
	return keep(f, s);
}

static void keep_stack(struct clientfacts *f, struct clientfacts_stack *dst,
		       const struct clientfacts_stack *src)
{
	for (size_t i = 0; i < src->count; i++) {
		struct clientfacts_frame *d = &dst->frames[i];
		bool had = i < dst->count;

		d->file = keep_again(f, had ? d->file : NULL,
				     src->frames[i].file);
		d->func = keep_again(f, had ? d->func : NULL,
				     src->frames[i].func);
		d->line = src->frames[i].line;
	}
	dst->count = src->count;
}

/* FNV-1a over the client's pid and its connection id. */
static uint64_t conn_hash(int pid, const char *conn)
{
	uint64_t h = 1469598103934665603ULL;
	unsigned upid = (unsigned)pid;

	for (int i = 0; i < 4; i++, upid >>= 8) {
		h = (h ^ (upid & 0xffu)) * 1099511628211ULL;
	}
	for (const unsigned char *p = (const unsigned char *)conn; *p != 0;
	     p++) {
		h = (h ^ *p) * 1099511628211ULL;
	}
	return h;
}

/* The newest entry of (pid, conn) in the table; NULL none. */
static struct clientfacts_conn *newest(struct clientfacts *f,
				       const struct clientfacts_line *l,
				       uint64_t hash)
{
	struct clientfacts_conn *best = NULL;
	size_t cursor = 0;
	size_t i;

	while ((i = group_index_find(&f->by_conn, hash, &cursor)) !=
	       (size_t)GROUP_NONE) {
		struct clientfacts_conn *c = &f->conns[i];

		if (c->pid == l->pid && strcmp(c->conn, l->conn) == 0 &&
		    (best == NULL || c > best)) {
			best = c;
		}
	}
	return best;
}

/* A take of a connection whose last checkout was lost while out, the
 * connection still open: its pool took it back (SQLAlchemy returns a
 * checkout the collector took), and that checkout stays a leak. */
static bool taken_after_lost(const struct clientfacts_conn *c,
			     const struct clientfacts_line *l)
{
	return l->ev == CLIENTFACTS_TAKE && c->close_how == NULL && c->out &&
	       c->lost;
}

/* A connection's next entry, after one that holds a lost checkout: what
 * was said of its open carries over. */
static void carry_open(struct clientfacts *f, struct clientfacts_conn *c,
		       const struct clientfacts_conn *from)
{
	c->lib = from->lib;
	c->first_t = from->first_t;
	c->opened = from->opened;
	c->opened_t = from->opened_t;
	c->open_test = from->open_test;
	c->open_pool = from->open_pool;
	c->open_stack = from->open_stack;
	c->backend = from->backend;
	if (c->backend > 0) {
		pidmap_put(&f->by_backend, c->backend, (size_t)(c - f->conns));
	}
	f->carried++;
}

/* The newest entry of (pid, conn); a new one when there is none, the
 * one there was closed (an id a process reuses is a new connection), or
 * it is taken again after a lost checkout (taken_after_lost). */
static struct clientfacts_conn *find_conn(struct clientfacts *f,
					  const struct clientfacts_line *l,
					  bool may_add)
{
	uint64_t hash = conn_hash(l->pid, l->conn);
	struct clientfacts_conn *c = newest(f, l, hash);
	size_t from = SIZE_MAX;
	size_t mine;

	if (c != NULL &&
	    (!may_add || (c->close_how == NULL && !taken_after_lost(c, l)))) {
		return c;
	}
	if (c != NULL && c->close_how == NULL) {
		from = (size_t)(c - f->conns);
	}
	if (!may_add || !pidmap_get(&f->per_process, l->pid, &mine)) {
		mine = 0;
	}
	if (!may_add || f->count >= CLIENTFACTS_MAX_CONNS ||
	    mine >= CLIENTFACTS_MAX_CONNS_PER_PROCESS) {
		f->overflow += may_add;
		return NULL;
	}
	pidmap_put(&f->per_process, l->pid, mine + 1);
	group_index_add(&f->by_conn, hash, f->count);
	xgrow((void **)&f->conns, &f->cap, f->count + 1, sizeof(*f->conns));
	c = &f->conns[f->count++];
	memset(c, 0, sizeof(*c));
	c->pid = l->pid;
	c->conn = keep(f, l->conn);
	c->lib = "";
	c->first_t = l->t;
	c->opened_t = NAN;
	c->closed_t = NAN;
	c->taken_t = NAN;
	c->lost_t = NAN;
	c->pool_index = SIZE_MAX;
	if (from != SIZE_MAX) {
		carry_open(f, c, &f->conns[from]);
	}
	return c;
}

static void add_lib(struct clientfacts *f, const struct clientfacts_line *l)
{
	const char *lib = l->lib != NULL ? l->lib : "";

	for (size_t i = 0; i < f->lib_count; i++) {
		if (strcmp(f->libs[i].lib, lib) == 0) {
			return;
		}
	}
	if (f->lib_count >= CLIENTFACTS_MAX_LIBS) {
		f->overflow++;
		return;
	}
	f->libs[f->lib_count].lib = keep(f, lib);
	f->libs[f->lib_count].why = keep(f, l->why != NULL ? l->why : "");
	f->lib_count++;
}

/* Two tests' names the same (NULL, outside any test, only as NULL). */
static bool same_test(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* The entry of (c's process, c's pool), made at its first take; a take
 * in another test than the first (or outside any) makes it shared.
 * SIZE_MAX past the bound (counted). */
static size_t pool_taken(struct clientfacts *f,
			 const struct clientfacts_conn *c, const char *test)
{
	uint64_t hash = conn_hash(c->pid, c->pool);
	size_t cursor = 0;
	size_t i;
	struct clientfacts_pool *p;

	while ((i = group_index_find(&f->by_pool, hash, &cursor)) !=
	       (size_t)GROUP_NONE) {
		p = &f->pools[i];
		if (p->pid == c->pid && strcmp(p->pool, c->pool) == 0) {
			p->shared = p->shared ||
				    !same_test(p->first_test, test);
			return i;
		}
	}
	if (f->pool_count >= CLIENTFACTS_MAX_CONNS) {
		f->overflow++;
		return SIZE_MAX;
	}
	xgrow((void **)&f->pools, &f->pool_cap, f->pool_count + 1,
	      sizeof(*f->pools));
	group_index_add(&f->by_pool, hash, f->pool_count);
	p = &f->pools[f->pool_count];
	p->pid = c->pid;
	p->pool = c->pool;
	p->first_test = keep(f, test);
	p->shared = false;
	return f->pool_count++;
}

/* An event about a connection, on its entry. */
static void apply(struct clientfacts *f, struct clientfacts_conn *c,
		  const struct clientfacts_line *l)
{
	if (l->backend != 0 && c->backend != l->backend) {
		c->backend = l->backend;
		pidmap_put(&f->by_backend, c->backend, (size_t)(c - f->conns));
	}
	if (l->lib != NULL && c->lib[0] == '\0') {
		c->lib = keep(f, l->lib);
	}
	switch (l->ev) {
	case CLIENTFACTS_OPEN:
		c->opened = true;
		c->opened_t = l->t;
		c->open_test = keep(f, l->test);
		c->open_pool = keep(f, l->pool);
		keep_stack(f, &c->open_stack, &l->stack);
		break;
	case CLIENTFACTS_CLOSE:
		c->close_how = keep(f, l->how != NULL ? l->how : "close");
		c->closed_t = l->t;
		break;
	case CLIENTFACTS_TAKE:
		c->takes++;
		c->pool = keep_again(f, c->pool,
				     l->pool != NULL ? l->pool : "");
		c->out = true;
		c->lost = false;
		c->taken_t = l->t;
		c->take_test = keep_again(f, c->take_test, l->test);
		c->pool_index = pool_taken(f, c, l->test);
		keep_stack(f, &c->take_stack, &l->stack);
		break;
	case CLIENTFACTS_GIVE:
		c->out = false;
		break;
	case CLIENTFACTS_LOST:
		c->lost = true;
		c->lost_t = l->t;
		c->lost_how = keep_again(f, c->lost_how,
					 l->how != NULL ? l->how : "gc");
		break;
	case CLIENTFACTS_HELLO:
	case CLIENTFACTS_UNHOOKED:
		break;
	}
}

void clientfacts_add(struct clientfacts *f, const struct clientfacts_line *l)
{
	struct clientfacts_conn *c;

	f->lines++;
	f->dropped += l->dropped;
	if (l->ev == CLIENTFACTS_HELLO) {
		f->processes++;
		return;
	}
	if (l->ev == CLIENTFACTS_UNHOOKED) {
		add_lib(f, l);
		return;
	}
	/* A connection is new at its open or its first take; anything
	 * else names one already known (or one whose open was lost). */
	bool starts = l->ev == CLIENTFACTS_OPEN || l->ev == CLIENTFACTS_TAKE;

	c = find_conn(f, l, starts);
	if (c == NULL && !starts) {
		c = find_conn(f, l, true);
	}
	if (c != NULL) {
		apply(f, c, l);
	}
}

bool clientfacts_checkout_leaked(const struct clientfacts_conn *c)
{
	return c->takes > 0 && c->out;
}

bool clientfacts_pool_shared(const struct clientfacts *f,
			     const struct clientfacts_conn *c)
{
	return c->takes > 0 && c->pool_index < f->pool_count &&
	       f->pools[c->pool_index].shared;
}

bool clientfacts_unclosed(const struct clientfacts_conn *c)
{
	/* Opened by the user's code (a stack, no pool): a pool filling
	 * itself on its own thread shows none, one filling itself in the
	 * caller's code names itself, and its idle members are no leak. */
	return c->takes == 0 && c->opened && c->open_stack.count > 0 &&
	       c->open_pool == NULL &&
	       (c->close_how == NULL || strcmp(c->close_how, "close") != 0);
}

size_t clientfacts_match(const struct clientfacts_conn *c, double t,
			 const struct clientfacts_session *sessions, size_t n)
{
	size_t best = SIZE_MAX;

	if (c->backend <= 0) {
		return SIZE_MAX;
	}
	for (size_t i = 0; i < n; i++) {
		const struct clientfacts_session *s = &sessions[i];

		if (s->pid != c->backend || !(s->backend_start <= t)) {
			continue;
		}
		if (best == SIZE_MAX ||
		    s->backend_start > sessions[best].backend_start) {
			best = i;
		}
	}
	return best;
}

/* The session is the client connection's: started at or before the
 * client first spoke of it. */
static bool owns(const struct clientfacts_conn *c, const struct session *s)
{
	double start = session_start_epoch_s(s->backend_start_us);

	return c->backend == s->pid &&
	       (!isfinite(start) || start <= c->first_t);
}

void clientfacts_absorb(struct clientfacts *f, struct sample *sample)
{
	struct arena scratch;
	size_t idx;

	arena_init(&scratch);
	for (size_t i = 0; i < sample->hook_line_count; i++) {
		const struct sample_hook_line *h = &sample->hook_lines[i];
		struct clientfacts_line l;
		struct errbuf err;

		if (clientfacts_parse_line(h->text, h->len, &scratch, &l,
					   &err)) {
			clientfacts_add(f, &l);
		} else {
			f->refused++;
		}
		arena_reset(&scratch);
	}
	arena_finish(&scratch);
	for (size_t i = 0; f->count > 0 && i < sample->session_count; i++) {
		struct session *s = &sample->sessions[i];
		const struct clientfacts_conn *c;

		if (!pidmap_get(&f->by_backend, s->pid, &idx)) {
			continue;
		}
		c = &f->conns[idx];
		if (!owns(c, s)) {
			continue;
		}
		if (s->client_pid != c->pid) {
			s->client_pid = c->pid;
			s->client_command = "";
		}
		if (s->client_relation == CLIENT_RELATION_UNRELATED) {
			s->client_relation = CLIENT_RELATION_DESCENDANT;
		}
	}
}
