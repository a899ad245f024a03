/*
 * record_pooler.c - what PgBouncer's console gives besides its clients,
 * written whole into every --record line and read back: pools, server
 * connections, limits and settings (see record.h for the format).  The
 * clients are the line's sessions, followed by identity like a server's
 * (record_table.c).
 */
#include "record_pooler.h"

#include "group.h"
#include "record.h"
#include "record_parse.h"

#include <math.h>
#include <string.h>

static const char *const pooler_limit_keys[POOLER_LIMIT_KIND_COUNT] = {
	[POOLER_LIMIT_DB_SERVERS] = "db_servers",
	[POOLER_LIMIT_USER_SERVERS] = "user_servers",
	[POOLER_LIMIT_DB_CLIENTS] = "db_clients",
	[POOLER_LIMIT_USER_CLIENTS] = "user_clients",
};

const char *record_pooler_limit_key(enum pooler_limit_kind kind)
{
	return (unsigned)kind < POOLER_LIMIT_KIND_COUNT
		       ? pooler_limit_keys[kind]
		       : pooler_limit_keys[0];
}

static void int_member(struct json_writer *w, const char *key, int v)
{
	json_key(w, key);
	json_int(w, v);
}

/* A count the console may not give: null when unknown (< 0). */
static void count_member(struct json_writer *w, const char *key, int v)
{
	json_key(w, key);
	if (v < 0) {
		json_null(w);
	} else {
		json_int(w, v);
	}
}

/* A SHOW POOLS row, in the record's own words (the report's pools are
 * another contract, free to change apart). */
static void write_pool(struct json_writer *w, const struct pooler_pool *p)
{
	json_begin_object(w);
	json_key(w, "database");
	json_string(w, p->database);
	json_key(w, "user");
	json_string(w, p->user);
	json_key(w, "mode");
	json_string(w, p->mode);
	count_member(w, "cl_active", p->cl_active);
	count_member(w, "cl_waiting", p->cl_waiting);
	count_member(w, "sv_active", p->sv_active);
	count_member(w, "sv_idle", p->sv_idle);
	count_member(w, "sv_used", p->sv_used);
	count_member(w, "sv_tested", p->sv_tested);
	count_member(w, "sv_login", p->sv_login);
	/* To the microsecond, as the console gives it (maxwait_us). */
	json_key(w, "maxwait_s");
	json_double(w, p->maxwait_s, 6);
	count_member(w, "pool_size", p->pool_size);
	json_end_object(w);
}

static void write_pools(struct json_writer *w, const struct pooler_info *p)
{
	json_key(w, "pools");
	json_begin_array(w);
	for (size_t i = 0; i < p->pool_count; i++) {
		write_pool(w, &p->pools[i]);
	}
	json_end_array(w);
}

static void write_pooler_servers(struct json_writer *w,
				 const struct pooler_info *p)
{
	json_key(w, "servers");
	json_begin_array(w);
	for (size_t i = 0; i < p->server_count; i++) {
		const struct pooler_server *o = &p->servers[i];

		json_begin_object(w);
		json_key(w, "ptr");
		json_string(w, o->ptr);
		json_key(w, "link");
		json_string(w, o->link);
		json_key(w, "database");
		json_string(w, o->database);
		json_key(w, "user");
		json_string(w, o->user);
		json_key(w, "state");
		json_string(w, o->state);
		json_key(w, "application");
		json_string(w, o->app);
		json_key(w, "addr");
		json_string(w, o->addr);
		int_member(w, "port", o->port);
		int_member(w, "local_port", o->local_port);
		int_member(w, "remote_pid", o->remote_pid);
		json_end_object(w);
	}
	json_end_array(w);
}

static void write_pooler_limits(struct json_writer *w,
				const struct pooler_info *p)
{
	json_key(w, "limits");
	json_begin_array(w);
	for (size_t i = 0; i < p->limit_count; i++) {
		const struct pooler_limit *l = &p->limits[i];

		json_begin_object(w);
		json_key(w, "kind");
		json_string(w, record_pooler_limit_key(l->kind));
		json_key(w, "name");
		json_string(w, l->name);
		int_member(w, "limit", l->limit);
		int_member(w, "used", l->used);
		json_end_object(w);
	}
	json_end_array(w);
}

void record_pooler_write(struct json_writer *w, const struct sample *sample)
{
	const struct pooler_info *p = &sample->pooler;

	if (sample->server.source != SAMPLE_SOURCE_PGBOUNCER) {
		return;
	}
	json_key(w, "pooler");
	json_begin_object(w);
	int_member(w, "max_client_conn", p->max_client_conn);
	int_member(w, "default_pool_size", p->default_pool_size);
	json_key(w, "client_idle_timeout_s");
	json_double(w, p->client_idle_timeout_s, 3);
	write_pools(w, p);
	write_pooler_servers(w, p);
	write_pooler_limits(w, p);
	json_end_object(w);
}

/* ---- reading it back ---- */

/* A pooler's count: -1 where its version did not show it. */
static const struct range POOLER_COUNT = {-1, 2147483647.0, true,
					  "a whole number >= -1"};

static bool read_pools(const struct node *list, struct sample *out,
		       struct errbuf *why)
{
	for (const struct node *e = list ? list->child : NULL; e; e = e->next) {
		struct pooler_pool *p = sample_add_pool(out);

		p->database = record_parse_str(out, e, "database");
		p->user = record_parse_str(out, e, "user");
		p->mode = record_parse_str(out, e, "mode");
		if (!record_parse_int(e, "cl_active", &POOLER_COUNT, -1,
				      &p->cl_active, why) ||
		    !record_parse_int(e, "cl_waiting", &POOLER_COUNT, -1,
				      &p->cl_waiting, why) ||
		    !record_parse_int(e, "sv_active", &POOLER_COUNT, -1,
				      &p->sv_active, why) ||
		    !record_parse_int(e, "sv_idle", &POOLER_COUNT, -1,
				      &p->sv_idle, why) ||
		    !record_parse_int(e, "sv_used", &POOLER_COUNT, -1,
				      &p->sv_used, why) ||
		    !record_parse_int(e, "sv_tested", &POOLER_COUNT, -1,
				      &p->sv_tested, why) ||
		    !record_parse_int(e, "sv_login", &POOLER_COUNT, -1,
				      &p->sv_login, why) ||
		    !record_parse_num(e, "maxwait_s", &RECORD_RANGE_AGE, NAN,
				      &p->maxwait_s, why) ||
		    !record_parse_int(e, "pool_size", &POOLER_COUNT, -1,
				      &p->pool_size, why)) {
			return false;
		}
	}
	return true;
}

static bool read_pooler_servers(const struct node *list, struct sample *out,
				struct errbuf *why)
{
	for (const struct node *e = list ? list->child : NULL; e; e = e->next) {
		struct pooler_server *v = sample_add_pooler_server(out);

		v->ptr = record_parse_str(out, e, "ptr");
		v->link = record_parse_str(out, e, "link");
		v->database = record_parse_str(out, e, "database");
		v->user = record_parse_str(out, e, "user");
		v->state = record_parse_str(out, e, "state");
		v->app = record_parse_str(out, e, "application");
		v->addr = record_parse_str(out, e, "addr");
		if (!record_parse_int(e, "port", &RECORD_RANGE_PORT, 0,
				      &v->port, why) ||
		    !record_parse_int(e, "local_port", &RECORD_RANGE_PORT, 0,
				      &v->local_port, why) ||
		    !record_parse_int(e, "remote_pid", &RECORD_RANGE_COUNT, 0,
				      &v->remote_pid, why)) {
			return false;
		}
	}
	return true;
}

static bool read_pooler_limits(const struct node *list, struct sample *out,
			       struct errbuf *why)
{
	for (const struct node *e = list ? list->child : NULL; e; e = e->next) {
		const struct node *kind = record_parse_member(e, "kind");
		int k = 0;
		int limit;
		int used;

		while (k < POOLER_LIMIT_KIND_COUNT &&
		       (kind == NULL || kind->type != NODE_STRING ||
			strcmp(kind->str, record_pooler_limit_key(
						  (enum pooler_limit_kind)k)) !=
				0)) {
			k++;
		}
		if (k == POOLER_LIMIT_KIND_COUNT) {
			errbuf_set(why, "a pooler limit of no known kind");
			return false;
		}
		if (!record_parse_int(e, "limit", &RECORD_RANGE_COUNT, 0,
				      &limit, why) ||
		    !record_parse_int(e, "used", &POOLER_COUNT, -1, &used,
				      why)) {
			return false;
		}
		sample_add_pooler_limit(out, (enum pooler_limit_kind)k,
					record_parse_str(out, e, "name"), limit,
					used);
	}
	return true;
}

bool record_pooler_read(const struct node *p, struct sample *out,
			struct errbuf *why)
{
	struct pooler_info *info = &out->pooler;
	static const struct range timeout = {0, PLAUSIBLE_S, false,
					     "a duration in seconds >= 0"};

	if (p == NULL) {
		return true;
	}
	return record_parse_int(p, "max_client_conn", &POOLER_COUNT, -1,
				&info->max_client_conn, why) &&
	       record_parse_int(p, "default_pool_size", &POOLER_COUNT, -1,
				&info->default_pool_size, why) &&
	       record_parse_num(p, "client_idle_timeout_s", &timeout, NAN,
				&info->client_idle_timeout_s, why) &&
	       read_pools(record_parse_member(p, "pools"), out, why) &&
	       read_pooler_servers(record_parse_member(p, "servers"), out,
				   why) &&
	       read_pooler_limits(record_parse_member(p, "limits"), out, why);
}
