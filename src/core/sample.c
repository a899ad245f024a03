/*
 * sample.c - the sample data model: sessions, limits and server facts,
 * with every string in one arena so a sample is freed (or reused) at once.
 */
#include "sample.h"
#include "session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name; /* pg_stat_activity.state */
	const char *key;  /* JSON */
} state_names[SESSION_STATE_COUNT] = {
	[SESSION_STATE_ACTIVE] = {"active", "active"},
	[SESSION_STATE_IDLE] = {"idle", "idle"},
	[SESSION_STATE_IDLE_TX] = {"idle in transaction",
				   "idle_in_transaction"},
	[SESSION_STATE_IDLE_TX_ABORTED] = {"idle in transaction (aborted)",
					   "idle_in_transaction_aborted"},
	[SESSION_STATE_OTHER] = {"other", "other"},
	[SESSION_STATE_WAITING] = {"waiting", "waiting"},
	[SESSION_STATE_UNKNOWN] = {"unknown", "unknown"},
};

const char *sample_state_name(enum session_state state)
{
	if ((unsigned)state >= SESSION_STATE_COUNT) {
		return "unknown";
	}
	return state_names[state].name;
}

const char *sample_state_key(enum session_state state)
{
	if ((unsigned)state >= SESSION_STATE_COUNT) {
		return "unknown";
	}
	return state_names[state].key;
}

enum session_state sample_state_parse(const char *state)
{
	if (state == NULL) {
		return SESSION_STATE_UNKNOWN;
	}
	for (int i = 0; i < SESSION_STATE_OTHER; i++) {
		if (strcmp(state, state_names[i].name) == 0) {
			return (enum session_state)i;
		}
	}
	/* "fastpath function call", "disabled", "starting" and future ones */
	return SESSION_STATE_OTHER;
}

bool sample_state_from_key(const char *key, enum session_state *out)
{
	for (int i = 0; i < SESSION_STATE_COUNT; i++) {
		if (strcmp(key, state_names[i].key) == 0) {
			*out = (enum session_state)i;
			return true;
		}
	}
	return false;
}

static const char *const source_keys[] = {
	[SAMPLE_SOURCE_SERVER] = "postgresql",
	[SAMPLE_SOURCE_PGBOUNCER] = "pgbouncer",
};

const char *sample_source_key(enum sample_source source)
{
	return (unsigned)source < PGD_ARRAY_LEN(source_keys)
		       ? source_keys[source]
		       : source_keys[SAMPLE_SOURCE_SERVER];
}

bool sample_source_from_key(const char *key, enum sample_source *out)
{
	for (size_t i = 0; i < PGD_ARRAY_LEN(source_keys); i++) {
		if (strcmp(key, source_keys[i]) == 0) {
			*out = (enum sample_source)i;
			return true;
		}
	}
	return false;
}

static const char *const relation_names[] = {
	[CLIENT_RELATION_UNRELATED] = "unrelated",
	[CLIENT_RELATION_COMMAND] = "command",
	[CLIENT_RELATION_DESCENDANT] = "descendant",
};

const char *sample_relation_name(enum client_relation relation)
{
	return relation_names[relation];
}

bool sample_relation_parse(const char *name, enum client_relation *out)
{
	for (size_t i = 0; i < PGD_ARRAY_LEN(relation_names); i++) {
		if (strcmp(name, relation_names[i]) == 0) {
			*out = (enum client_relation)i;
			return true;
		}
	}
	return false;
}

static const char *const mark_names[] = {
	[SAMPLE_MARK_START] = "start",   [SAMPLE_MARK_END] = "end",
	[SAMPLE_MARK_SETUP] = "setup",   [SAMPLE_MARK_SETUP_END] = "setup-end",
	[SAMPLE_MARK_PHASE] = "phase",   [SAMPLE_MARK_SETTLED] = "settled",
	[SAMPLE_MARK_PARENT] = "parent",
};

const char *sample_mark_name(enum sample_mark_kind kind)
{
	return (unsigned)kind < PGD_ARRAY_LEN(mark_names) ? mark_names[kind]
							  : "unknown";
}

bool sample_mark_parse(const char *name, enum sample_mark_kind *out)
{
	for (size_t i = 0; i < PGD_ARRAY_LEN(mark_names); i++) {
		if (strcmp(name, mark_names[i]) == 0) {
			*out = (enum sample_mark_kind)i;
			return true;
		}
	}
	return false;
}

void sample_add_mark(struct sample *sample, enum sample_mark_kind kind, int pid,
		     int ppid, const char *name)
{
	struct sample_mark *m;

	xgrow((void **)&sample->marks, &sample->mark_cap,
	      sample->mark_count + 1, sizeof(*sample->marks));
	m = &sample->marks[sample->mark_count++];
	m->kind = kind;
	m->pid = pid;
	m->ppid = ppid;
	m->name = sample_strdup(sample, name != NULL ? name : "");
}

void sample_add_hook_line(struct sample *sample, const char *text, size_t len)
{
	struct sample_hook_line *h;

	xgrow((void **)&sample->hook_lines, &sample->hook_line_cap,
	      sample->hook_line_count + 1, sizeof(*sample->hook_lines));
	h = &sample->hook_lines[sample->hook_line_count++];
	h->text = arena_strndup(&sample->arena, text, len);
	h->len = len;
}

int sample_session_total(const struct sample *sample)
{
	int total = 0;

	for (size_t i = 0; i < sample->session_count; i++) {
		total += sample->sessions[i].weight;
	}
	return total;
}

int sample_usable_connections(const struct server_info *server)
{
	int usable = server->max_connections - server->superuser_reserved -
		     server->reserved;

	return usable > 0 ? usable : 0;
}

static void pooler_reset(struct pooler_info *p)
{
	p->max_client_conn = p->default_pool_size = -1;
	p->client_idle_timeout_s = NAN;
	p->pool_count = p->server_count = p->limit_count = 0;
}

void sample_init(struct sample *sample)
{
	memset(sample, 0, sizeof(*sample));
	sample->server.idle_session_timeout_s = NAN;
	sample->server_epoch_s = NAN;
	sample->server_tx_epoch_s = NAN;
	sample->sessions_opened_total = NAN;
	sample->command_started_epoch_s = NAN;
	sample->command_ended_epoch_s = NAN;
	sample->command_line = "";
	sample->command_status = -1;
	pooler_reset(&sample->pooler);
	arena_init(&sample->arena);
}

void sample_finish(struct sample *sample)
{
	if (sample == NULL) {
		return;
	}
	free(sample->sessions);
	free(sample->role_limits);
	free(sample->db_limits);
	free(sample->marks);
	free(sample->hook_lines);
	free(sample->pooler.pools);
	free(sample->pooler.servers);
	free(sample->pooler.limits);
	arena_finish(&sample->arena);
	sample_init(sample);
}

void sample_reset(struct sample *sample)
{
	sample->session_count = 0;
	sample->role_limit_count = 0;
	sample->db_limit_count = 0;
	sample->mark_count = 0;
	sample->hook_line_count = 0;
	sample->taken_at_epoch_s = 0;
	sample->elapsed_ms = 0;
	sample->server_epoch_s = NAN;
	sample->server_tx_epoch_s = NAN;
	sample->sessions_opened_total = NAN;
	sample->interval_s = 0;
	sample->command_started_epoch_s = NAN;
	sample->command_ended_epoch_s = NAN;
	sample->command_line = "";
	sample->command_status = -1;
	sample->status = SAMPLE_STATUS_OK;
	pooler_reset(&sample->pooler);
	arena_reset(&sample->arena);
}

struct session *sample_add_session(struct sample *sample)
{
	struct session *s;

	xgrow((void **)&sample->sessions, &sample->session_cap,
	      sample->session_count + 1, sizeof(*sample->sessions));
	s = &sample->sessions[sample->session_count++];
	memset(s, 0, sizeof(*s));
	s->weight = 1;
	s->user = s->app = s->db = s->client_addr = "";
	s->wait_event_type = s->wait_event = s->query = "";
	s->client_command = s->pooler_ptr = s->pooler_client = "";
	s->state = SESSION_STATE_UNKNOWN;
	s->backend_age_s = s->xact_age_s = s->state_age_s = NAN;
	s->query_age_s = s->xact_start_epoch_s = NAN;
	s->backend_start_us = SESSION_START_UNKNOWN;
	s->state_change_epoch_s = NAN;
	s->query_start_epoch_s = NAN;
	return s;
}

struct session *sample_add_copy(struct sample *sample,
				const struct session *from)
{
	struct session *to = sample_add_session(sample);

	*to = *from;
	to->user = sample_strdup(sample, from->user);
	to->app = sample_strdup(sample, from->app);
	to->db = sample_strdup(sample, from->db);
	to->client_addr = sample_strdup(sample, from->client_addr);
	to->wait_event_type = sample_strdup(sample, from->wait_event_type);
	to->wait_event = sample_strdup(sample, from->wait_event);
	to->query = sample_strdup(sample, from->query);
	to->client_command = sample_strdup(sample, from->client_command);
	to->pooler_ptr = sample_strdup(sample, from->pooler_ptr);
	to->pooler_client = sample_strdup(sample, from->pooler_client);
	return to;
}

static void add_limit(struct sample *sample, struct named_limit **limits,
		      size_t *count, size_t *cap, const char *name, int limit)
{
	xgrow((void **)limits, cap, *count + 1, sizeof(**limits));
	(*limits)[*count].name = sample_strdup(sample, name);
	(*limits)[*count].limit = limit;
	(*count)++;
}

void sample_add_role_limit(struct sample *sample, const char *name, int limit)
{
	add_limit(sample, &sample->role_limits, &sample->role_limit_count,
		  &sample->role_limit_cap, name, limit);
}

void sample_add_db_limit(struct sample *sample, const char *name, int limit)
{
	add_limit(sample, &sample->db_limits, &sample->db_limit_count,
		  &sample->db_limit_cap, name, limit);
}

struct pooler_pool *sample_add_pool(struct sample *sample)
{
	struct pooler_info *p = &sample->pooler;
	struct pooler_pool *pool;

	xgrow((void **)&p->pools, &p->pool_cap, p->pool_count + 1,
	      sizeof(*p->pools));
	pool = &p->pools[p->pool_count++];
	pool->database = pool->user = pool->mode = "";
	pool->cl_active = pool->cl_waiting = pool->sv_active = -1;
	pool->sv_idle = pool->sv_used = pool->sv_tested = -1;
	pool->sv_login = pool->pool_size = -1;
	pool->maxwait_s = NAN;
	return pool;
}

struct pooler_server *sample_add_pooler_server(struct sample *sample)
{
	struct pooler_info *p = &sample->pooler;
	struct pooler_server *server;

	xgrow((void **)&p->servers, &p->server_cap, p->server_count + 1,
	      sizeof(*p->servers));
	server = &p->servers[p->server_count++];
	memset(server, 0, sizeof(*server));
	server->ptr = server->link = server->database = server->user = "";
	server->state = server->app = server->addr = "";
	return server;
}

void sample_add_pooler_limit(struct sample *sample, enum pooler_limit_kind kind,
			     const char *name, int limit, int used)
{
	struct pooler_info *p = &sample->pooler;
	struct pooler_limit *l;

	xgrow((void **)&p->limits, &p->limit_cap, p->limit_count + 1,
	      sizeof(*p->limits));
	l = &p->limits[p->limit_count++];
	l->kind = kind;
	l->name = sample_strdup(sample, name);
	l->limit = limit;
	l->used = used;
}

const char *sample_strdup(struct sample *sample, const char *s)
{
	/* Most wait events, queries and addresses of a big sample are
	 * empty: no copy for those. */
	return s == NULL || *s == '\0' ? "" : arena_strdup(&sample->arena, s);
}

const char *sample_strndup_utf8(struct sample *sample, const char *s,
				size_t max)
{
	size_t len;

	if (s == NULL) {
		return "";
	}
	len = strnlen(s, max + 1);
	if (len == 0) {
		return "";
	}
	if (len > max) {
		len = max;
		/* Back off continuation bytes so a character is not halved;
		 * invalid input is escaped later anyway. */
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) {
			len--;
		}
	}
	return arena_strndup(&sample->arena, s, len);
}

static void copy_pooler(struct sample *dst, const struct pooler_info *from)
{
	struct pooler_info *to = &dst->pooler;

	to->max_client_conn = from->max_client_conn;
	to->default_pool_size = from->default_pool_size;
	to->client_idle_timeout_s = from->client_idle_timeout_s;
	for (size_t i = 0; i < from->pool_count; i++) {
		struct pooler_pool *p = sample_add_pool(dst);

		*p = from->pools[i];
		p->database = sample_strdup(dst, p->database);
		p->user = sample_strdup(dst, p->user);
		p->mode = sample_strdup(dst, p->mode);
	}
	for (size_t i = 0; i < from->server_count; i++) {
		struct pooler_server *s = sample_add_pooler_server(dst);

		*s = from->servers[i];
		s->ptr = sample_strdup(dst, s->ptr);
		s->link = sample_strdup(dst, s->link);
		s->database = sample_strdup(dst, s->database);
		s->user = sample_strdup(dst, s->user);
		s->state = sample_strdup(dst, s->state);
		s->app = sample_strdup(dst, s->app);
		s->addr = sample_strdup(dst, s->addr);
	}
	for (size_t i = 0; i < from->limit_count; i++) {
		const struct pooler_limit *l = &from->limits[i];

		sample_add_pooler_limit(dst, l->kind, l->name, l->limit,
					l->used);
	}
}

void sample_copy(struct sample *dst, const struct sample *src)
{
	sample_reset(dst);
	dst->taken_at_epoch_s = src->taken_at_epoch_s;
	dst->elapsed_ms = src->elapsed_ms;
	dst->server_epoch_s = src->server_epoch_s;
	dst->sessions_opened_total = src->sessions_opened_total;
	dst->command_started_epoch_s = src->command_started_epoch_s;
	dst->command_ended_epoch_s = src->command_ended_epoch_s;
	dst->command_line = sample_strdup(dst, src->command_line);
	dst->command_status = src->command_status;
	dst->status = src->status;
	dst->server = src->server;
	dst->server_tx_epoch_s = src->server_tx_epoch_s;
	for (size_t i = 0; i < src->session_count; i++) {
		(void)sample_add_copy(dst, &src->sessions[i]);
	}
	for (size_t i = 0; i < src->role_limit_count; i++) {
		sample_add_role_limit(dst, src->role_limits[i].name,
				      src->role_limits[i].limit);
	}
	for (size_t i = 0; i < src->db_limit_count; i++) {
		sample_add_db_limit(dst, src->db_limits[i].name,
				    src->db_limits[i].limit);
	}
	for (size_t i = 0; i < src->mark_count; i++) {
		const struct sample_mark *m = &src->marks[i];

		sample_add_mark(dst, m->kind, m->pid, m->ppid, m->name);
	}
	for (size_t i = 0; i < src->hook_line_count; i++) {
		sample_add_hook_line(dst, src->hook_lines[i].text,
				     src->hook_lines[i].len);
	}
	copy_pooler(dst, &src->pooler);
}

void sample_set_ages(struct sample *sample)
{
	double now = sample->server_epoch_s;

	for (size_t i = 0; i < sample->session_count; i++) {
		struct session *s = &sample->sessions[i];

		s->backend_age_s = now -
				   session_start_epoch_s(s->backend_start_us);
		s->xact_age_s = now - s->xact_start_epoch_s;
		s->state_age_s = now - s->state_change_epoch_s;
		s->query_age_s = now - s->query_start_epoch_s;
	}
}
