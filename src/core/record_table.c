/*
 * record_table.c - format 3's reader (see record_sessions.h): every
 * session the lines so far opened and did not close, by identity, with
 * its own copies of the strings; each line's deltas applied to it, and
 * the whole sample given back.
 */
#include "record_sessions.h"

#include "group.h"
#include "session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A session as the reader holds it: its own copies of the strings. */
struct held {
	struct session_id id;
	char *user;
	char *app;
	char *db;
	char *client; /* "local" or an address */
	int client_port;
	enum session_state state;
	double state_change;
	double query_start;
	double xact_start;
	char *wait; /* "type:event" */
	char *query;
	int client_pid;
	char *client_command;
	enum client_relation relation;
	char *ptr; /* a pooler client's ptr; "" */
	bool gone; /* named in the line's "gone", removed at its end */
};

struct record_table {
	struct held *sessions;
	size_t count;
	size_t cap;
	struct group_index index;
	bool have_settings;
	struct server_info server;
	struct sample limits; /* the role and database limits held */
	double interval_s;    /* the last line's "interval_s"; 0 none */
};

struct record_table *record_table_create(void)
{
	struct record_table *t = xcalloc(1, sizeof(*t));

	group_index_init(&t->index);
	sample_init(&t->limits);
	return t;
}

static void free_held(struct held *h)
{
	free(h->user);
	free(h->app);
	free(h->db);
	free(h->client);
	free(h->wait);
	free(h->query);
	free(h->client_command);
	free(h->ptr);
}

static void clear_table(struct record_table *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free_held(&t->sessions[i]);
	}
	t->count = 0;
	group_index_clear(&t->index);
}

void record_table_destroy(struct record_table *t)
{
	if (t == NULL) {
		return;
	}
	clear_table(t);
	free(t->sessions);
	group_index_finish(&t->index);
	sample_finish(&t->limits);
	free(t);
}

static size_t find_held(const struct record_table *t, struct session_id id)
{
	size_t cursor = 0;
	size_t i;

	while ((i = group_index_find(&t->index, session_id_hash(id),
				     &cursor)) != (size_t)GROUP_NONE) {
		if (session_id_equal(t->sessions[i].id, id)) {
			return i;
		}
	}
	return (size_t)GROUP_NONE;
}

/* A string member replacing *dst when present. */
static void take_string(char **dst, const struct node *obj, const char *key)
{
	const struct node *m = record_parse_member(obj, key);

	if (m != NULL && m->type == NODE_STRING) {
		free(*dst);
		*dst = xstrdup(m->str);
	} else if (*dst == NULL) {
		*dst = xstrdup("");
	}
}

static bool take_moment(double *dst, const struct node *obj, const char *key,
			struct errbuf *why)
{
	if (record_parse_member(obj, key) == NULL) {
		return true;
	}
	return record_parse_num(obj, key, &RECORD_RANGE_EPOCH, NAN, dst, why);
}

static bool take_process(struct held *h, const struct node *obj,
			 struct errbuf *why)
{
	const struct node *p = record_parse_member(obj, "client_process");
	const struct node *relation;

	if (p == NULL) {
		return true;
	}
	h->client_pid = 0;
	h->relation = CLIENT_RELATION_UNRELATED;
	if (p->type != NODE_OBJECT) {
		/* null: the process is no longer known */
		free(h->client_command);
		h->client_command = xstrdup("");
		return true;
	}
	if (!record_parse_int(p, "pid", &RECORD_RANGE_COUNT, 0, &h->client_pid,
			      why)) {
		return false;
	}
	free(h->client_command);
	h->client_command = NULL;
	take_string(&h->client_command, p, "command");
	relation = record_parse_member(p, "relation");
	if (relation == NULL || relation->type != NODE_STRING ||
	    !sample_relation_parse(relation->str, &h->relation)) {
		h->relation = CLIENT_RELATION_UNRELATED;
	}
	return true;
}

/* The fields a line gives a session, new or changed. */
static bool take_fields(struct held *h, const struct node *obj,
			struct errbuf *why)
{
	const struct node *state = record_parse_member(obj, "state");

	if (state != NULL && !record_parse_state(obj, &h->state)) {
		errbuf_set(why, "a session with an unknown state");
		return false;
	}
	take_string(&h->app, obj, "application");
	take_string(&h->wait, obj, "wait");
	take_string(&h->query, obj, "query");
	return take_moment(&h->state_change, obj, "state_change", why) &&
	       take_moment(&h->query_start, obj, "query_start", why) &&
	       take_moment(&h->xact_start, obj, "xact_start", why) &&
	       take_process(h, obj, why);
}

/* pid and start; the start, a JSON number of epoch seconds in every
 * version of the record, rounded to the microsecond here, once. */
static bool read_identity(const struct node *obj, struct session_id *id,
			  struct errbuf *why)
{
	double start;

	if (record_parse_member(obj, "pid") == NULL ||
	    record_parse_member(obj, "start") == NULL) {
		errbuf_set(why, "a session without its pid and start");
		return false;
	}
	if (!record_parse_int(obj, "pid", &RECORD_RANGE_COUNT, 0, &id->pid,
			      why) ||
	    !record_parse_num(obj, "start", &RECORD_RANGE_EPOCH, NAN, &start,
			      why)) {
		return false;
	}
	id->backend_start_us = session_start_us(start);
	return true;
}

static bool apply_open(struct record_table *t, const struct node *obj,
		       struct errbuf *why)
{
	struct held *h;
	struct session_id id;

	if (!read_identity(obj, &id, why)) {
		return false;
	}
	if (find_held(t, id) != (size_t)GROUP_NONE) {
		errbuf_set(why, "session %d opened twice", id.pid);
		return false;
	}
	xgrow((void **)&t->sessions, &t->cap, t->count + 1,
	      sizeof(*t->sessions));
	h = &t->sessions[t->count];
	memset(h, 0, sizeof(*h));
	h->id = id;
	h->state_change = h->query_start = h->xact_start = NAN;
	take_string(&h->user, obj, "user");
	take_string(&h->db, obj, "database");
	take_string(&h->client, obj, "client");
	take_string(&h->ptr, obj, "ptr");
	take_string(&h->client_command, NULL, "");
	group_index_add(&t->index, session_id_hash(id), t->count++);
	return record_parse_int(obj, "client_port", &RECORD_RANGE_PORT, 0,
				&h->client_port, why) &&
	       take_fields(h, obj, why);
}

static bool apply_change(struct record_table *t, const struct node *obj,
			 struct errbuf *why)
{
	struct session_id id;
	size_t at;

	if (!read_identity(obj, &id, why)) {
		return false;
	}
	at = find_held(t, id);
	if (at == (size_t)GROUP_NONE) {
		errbuf_set(why, "session %d changed before it opened", id.pid);
		return false;
	}
	return take_fields(&t->sessions[at], obj, why);
}

/* The sessions a line says went: removed together, the index rebuilt
 * once (a deploy closes thousands in one sample). */
static bool apply_gone(struct record_table *t, const struct node *list,
		       struct errbuf *why)
{
	size_t kept = 0;
	bool any = false;

	for (const struct node *g = list != NULL ? list->child : NULL; g;
	     g = g->next) {
		const struct node *pid = g->child;
		const struct node *start = pid != NULL ? pid->next : NULL;
		size_t at;

		if (g->type != NODE_ARRAY || pid == NULL || start == NULL ||
		    pid->type != NODE_NUMBER || start->type != NODE_NUMBER) {
			errbuf_set(why, "\"gone\" holds no [pid, start]");
			return false;
		}
		at = find_held(t, (struct session_id){
					  .pid = (int)pid->num,
					  .backend_start_us = session_start_us(
						  start->num)});
		if (at == (size_t)GROUP_NONE || t->sessions[at].gone) {
			errbuf_set(why, "session %.0f gone before it opened",
				   pid->num);
			return false;
		}
		t->sessions[at].gone = true;
		any = true;
	}
	if (!any) {
		return true;
	}
	for (size_t i = 0; i < t->count; i++) {
		if (t->sessions[i].gone) {
			free_held(&t->sessions[i]);
		} else {
			t->sessions[kept++] = t->sessions[i];
		}
	}
	t->count = kept;
	group_index_clear(&t->index);
	for (size_t i = 0; i < t->count; i++) {
		group_index_add(&t->index, session_id_hash(t->sessions[i].id),
				i);
	}
	return true;
}

static bool apply_list(struct record_table *t, const struct node *list,
		       bool (*apply)(struct record_table *, const struct node *,
				     struct errbuf *),
		       struct errbuf *why)
{
	for (const struct node *e = list != NULL ? list->child : NULL; e;
	     e = e->next) {
		if (e->type != NODE_OBJECT || !apply(t, e, why)) {
			if (e->type != NODE_OBJECT) {
				errbuf_set(why, "a session that is not an "
						"object");
			}
			return false;
		}
	}
	return true;
}

/* The limits a line sets, or those held. */
static bool read_limits(struct record_table *t, const struct node *root,
			struct errbuf *why)
{
	static const struct range limit_range = {-1, 2147483647.0, true,
						 "a limit (-1 or more)"};
	const char *keys[] = {"role_limits", "db_limits"};

	if (record_parse_member(root, "role_limits") == NULL &&
	    record_parse_member(root, "db_limits") == NULL) {
		return true;
	}
	sample_reset(&t->limits);
	for (size_t k = 0; k < 2; k++) {
		const struct node *list = record_parse_member(root, keys[k]);

		for (const struct node *e = list ? list->child : NULL; e;
		     e = e->next) {
			int limit;
			const char *name = record_parse_str(&t->limits, e,
							    "name");

			if (!record_parse_int(e, "limit", &limit_range, -1,
					      &limit, why)) {
				return false;
			}
			if (k == 0) {
				sample_add_role_limit(&t->limits, name, limit);
			} else {
				sample_add_db_limit(&t->limits, name, limit);
			}
		}
	}
	return true;
}

static void emit_session(struct sample *out, const struct held *h)
{
	struct session *s = sample_add_session(out);
	const char *colon = strchr(h->wait, ':');

	s->pid = h->id.pid;
	s->backend_start_us = h->id.backend_start_us;
	s->user = sample_strdup(out, h->user);
	s->app = sample_strdup(out, h->app);
	s->db = sample_strdup(out, h->db);
	record_parse_client(s, sample_strdup(out, h->client));
	if (s->client_port != -1) {
		s->client_port = h->client_port;
	}
	s->state = h->state;
	s->state_change_epoch_s = h->state_change;
	s->query_start_epoch_s = h->query_start;
	s->xact_start_epoch_s = h->xact_start;
	if (colon != NULL) {
		char *type = arena_strndup(&out->arena, h->wait,
					   (size_t)(colon - h->wait));

		s->wait_event_type = type;
		s->wait_event = sample_strdup(out, colon + 1);
	} else {
		s->wait_event_type = sample_strdup(out, h->wait);
	}
	s->query = sample_strdup(out, h->query);
	s->client_pid = h->client_pid;
	s->client_command = sample_strdup(out, h->client_command);
	s->client_relation = h->relation;
	s->pooler_ptr = sample_strdup(out, h->ptr);
}

/* Sessions without an identity, as format 1's rows. */
static bool read_rows(const struct node *rows, struct sample *out,
		      long long *total, struct errbuf *why)
{
	for (const struct node *r = rows ? rows->child : NULL; r; r = r->next) {
		struct session *s;
		int count;
		enum session_state state;

		if (!record_parse_state(r, &state) ||
		    !record_parse_int(r, "count", &RECORD_RANGE_COUNT, 0,
				      &count, why) ||
		    !record_parse_count(total, count, why)) {
			errbuf_set(why, "a row without a valid count or state");
			return false;
		}
		s = sample_add_session(out);
		s->weight = count;
		s->state = state;
		s->user = record_parse_str(out, r, "user");
		s->app = record_parse_str(out, r, "application");
		s->db = record_parse_str(out, r, "database");
		record_parse_client(s, record_parse_str(out, r, "client"));
	}
	return true;
}

bool record_table_read(struct record_table *t, const struct node *root,
		       struct sample *out, struct errbuf *why)
{
	const struct node *full = record_parse_member(root, "full");
	const struct node *server = record_parse_member(root, "server");
	long long total;
	int claimed = -1;

	if (full != NULL && full->boolean) {
		clear_table(t);
		t->have_settings = false;
	}
	if (server != NULL) {
		if (!record_parse_server(server, &t->server, why)) {
			return false;
		}
		t->have_settings = true;
	}
	if (!t->have_settings) {
		errbuf_set(why, "a line of sessions before any whole line");
		return false;
	}
	if (!record_parse_num(root, "now", &RECORD_RANGE_EPOCH, NAN,
			      &out->server_epoch_s, why) ||
	    !record_parse_num(root, "opened_total", &RECORD_RANGE_TOTAL, NAN,
			      &out->sessions_opened_total, why) ||
	    !record_parse_num(root, "interval_s", &RECORD_RANGE_INTERVAL,
			      t->interval_s, &t->interval_s, why) ||
	    !read_limits(t, root, why) ||
	    !apply_list(t, record_parse_member(root, "open"), apply_open,
			why) ||
	    !apply_list(t, record_parse_member(root, "change"), apply_change,
			why) ||
	    !apply_gone(t, record_parse_member(root, "gone"), why)) {
		return false;
	}
	out->server = t->server;
	out->interval_s = t->interval_s;
	for (size_t i = 0; i < t->limits.role_limit_count; i++) {
		sample_add_role_limit(out, t->limits.role_limits[i].name,
				      t->limits.role_limits[i].limit);
	}
	for (size_t i = 0; i < t->limits.db_limit_count; i++) {
		sample_add_db_limit(out, t->limits.db_limits[i].name,
				    t->limits.db_limits[i].limit);
	}
	for (size_t i = 0; i < t->count; i++) {
		emit_session(out, &t->sessions[i]);
	}
	total = (long long)t->count;
	if (!read_rows(record_parse_member(root, "rows"), out, &total, why) ||
	    !record_parse_int(root, "sessions", &RECORD_RANGE_COUNT, -1,
			      &claimed, why)) {
		return false;
	}
	if (claimed >= 0 && claimed != total) {
		errbuf_set(why, "the line says %d sessions and holds %lld",
			   claimed, total);
		return false;
	}
	sample_set_ages(out);
	return true;
}
