/*
 * record_pooler.c - what PgBouncer's console gives, written whole into a
 * --record line (see record.h for the format): pools, server
 * connections, limits, and every client with its identity and last use,
 * so a replay follows each one as the live run did.  record_read.c reads
 * it back.
 */
#include "record_pooler.h"

#include "group.h"
#include "record.h"
#include "report_pooler.h"

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

static void write_pools(struct json_writer *w, const struct pooler_info *p)
{
	json_key(w, "pools");
	json_begin_array(w);
	for (size_t i = 0; i < p->pool_count; i++) {
		report_pooler_pool_json(w, &p->pools[i]);
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

/* Every client with its identity and last use, so a replay follows
 * each one as the live run did. */
static void write_pooler_clients(struct json_writer *w,
				 const struct sample *sample)
{
	json_key(w, "clients");
	json_begin_array(w);
	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];

		json_begin_object(w);
		int_member(w, "pid", s->pid);
		json_key(w, "ptr");
		json_string(w, s->pooler_ptr);
		json_key(w, "user");
		json_string(w, s->user);
		json_key(w, "application");
		json_string(w, s->app);
		json_key(w, "database");
		json_string(w, s->db);
		json_key(w, "client");
		json_string(w, group_session_key(s, GROUP_KEY_CLIENT));
		int_member(w, "client_port", s->client_port);
		json_key(w, "state");
		json_string(w, sample_state_key(s->state));
		json_key(w, "connect_time");
		json_double(w, s->backend_start_epoch_s, 6);
		json_key(w, "request_time");
		json_double(w, s->state_change_epoch_s, 6);
		json_key(w, "query_start");
		json_double(w, s->query_start_epoch_s, 6);
		record_write_client_process(w, s);
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
	json_key(w, "now");
	json_double(w, sample->server_epoch_s, 6);
	int_member(w, "max_client_conn", p->max_client_conn);
	int_member(w, "default_pool_size", p->default_pool_size);
	json_key(w, "client_idle_timeout_s");
	json_double(w, p->client_idle_timeout_s, 3);
	write_pools(w, p);
	write_pooler_servers(w, p);
	write_pooler_limits(w, p);
	write_pooler_clients(w, sample);
	json_end_object(w);
}
