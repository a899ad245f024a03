/*
 * report_pooler.c - the pooler's part of the report (see
 * report_pooler.h): PgBouncer's pools and limits built from a console
 * sample, the forecast's pooler candidates, and the text and JSON that
 * say them.  Every name goes out through text.c or json.c.
 */
#include "report_pooler.h"

#include "bouncer.h"
#include "units.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	enum limit_kind kind;
	const char *setting;
} kinds[] = {
	{LIMIT_KIND_CLIENTS, "max_client_conn"},
	{LIMIT_KIND_POOL, "pool_size"},
	{LIMIT_KIND_POOL_DATABASE, "max_db_connections"},
	{LIMIT_KIND_POOL_USER, "max_user_connections"},
	{LIMIT_KIND_CLIENT_DATABASE, "max_db_client_connections"},
	{LIMIT_KIND_CLIENT_USER, "max_user_client_connections"},
};

/* The console's own pool is no limit on anyone. */
static const char admin_db[] = "pgbouncer";

bool report_pooler_is_limit_kind(enum limit_kind kind)
{
	for (size_t i = 0; i < PGD_ARRAY_LEN(kinds); i++) {
		if (kinds[i].kind == kind) {
			return true;
		}
	}
	return false;
}

const char *report_pooler_setting(enum limit_kind kind)
{
	for (size_t i = 0; i < PGD_ARRAY_LEN(kinds); i++) {
		if (kinds[i].kind == kind) {
			return kinds[i].setting;
		}
	}
	return "";
}

/* ---- building ---- */

static int plus(int a, int b)
{
	return (a > 0 ? a : 0) + (b > 0 ? b : 0);
}

/* A pool's server connections, whatever their state. */
static int pool_servers(const struct pooler_pool *p)
{
	return plus(plus(plus(p->sv_active, p->sv_idle),
			 plus(p->sv_used, p->sv_tested)),
		    p->sv_login);
}

/* Server connections of the pools of a database or a user. */
static int servers_of(const struct sample *last, bool per_user,
		      const char *name)
{
	int n = 0;

	for (size_t i = 0; i < last->pooler.pool_count; i++) {
		const struct pooler_pool *p = &last->pooler.pools[i];

		if (strcmp(per_user ? p->user : p->database, name) == 0) {
			n += pool_servers(p);
		}
	}
	return n;
}

/* Client connections of a database or a user. */
static int clients_of(const struct sample *last, bool per_user,
		      const char *name)
{
	int n = 0;

	for (size_t i = 0; i < last->session_count; i++) {
		const struct session *s = &last->sessions[i];

		if (strcmp(per_user ? s->user : s->db, name) == 0) {
			n += s->weight;
		}
	}
	return n;
}

static enum limit_kind limit_kind_of(enum pooler_limit_kind kind)
{
	switch (kind) {
	case POOLER_LIMIT_DB_SERVERS:
		return LIMIT_KIND_POOL_DATABASE;
	case POOLER_LIMIT_USER_SERVERS:
		return LIMIT_KIND_POOL_USER;
	case POOLER_LIMIT_DB_CLIENTS:
		return LIMIT_KIND_CLIENT_DATABASE;
	case POOLER_LIMIT_USER_CLIENTS:
	case POOLER_LIMIT_KIND_COUNT:
		break;
	}
	return LIMIT_KIND_CLIENT_USER;
}

static void add_pooler_limit(struct report *report, const struct sample *last,
			     const struct pooler_limit *l, const char *name)
{
	bool per_user = l->kind == POOLER_LIMIT_USER_SERVERS ||
			l->kind == POOLER_LIMIT_USER_CLIENTS;
	bool clients = l->kind == POOLER_LIMIT_DB_CLIENTS ||
		       l->kind == POOLER_LIMIT_USER_CLIENTS;
	int used = l->used;

	if (used < 0 || name != l->name) {
		used = clients ? clients_of(last, per_user, name)
			       : servers_of(last, per_user, name);
	}
	report_add_limit(report, limit_kind_of(l->kind), name, l->limit, used);
}

/* A limit set for everyone (the version shows no per-name value):
 * one for each database or user that has a pool. */
static void add_default_limit(struct report *report, const struct sample *last,
			      const struct pooler_limit *l)
{
	bool per_user = l->kind == POOLER_LIMIT_USER_SERVERS ||
			l->kind == POOLER_LIMIT_USER_CLIENTS;

	for (size_t i = 0; i < last->pooler.pool_count; i++) {
		const struct pooler_pool *p = &last->pooler.pools[i];
		const char *name = per_user ? p->user : p->database;
		bool seen = strcmp(p->database, admin_db) == 0;

		for (size_t j = 0; j < i && !seen; j++) {
			const struct pooler_pool *q = &last->pooler.pools[j];

			seen = strcmp(per_user ? q->user : q->database, name) ==
			       0;
		}
		if (!seen) {
			add_pooler_limit(report, last, l, name);
		}
	}
}

static int compare_pools(const void *pa, const void *pb)
{
	const struct pooler_pool *a = pa;
	const struct pooler_pool *b = pb;
	int c;

	if (a->cl_waiting != b->cl_waiting) {
		return a->cl_waiting > b->cl_waiting ? -1 : 1;
	}
	if (a->cl_active != b->cl_active) {
		return a->cl_active > b->cl_active ? -1 : 1;
	}
	c = strcmp(a->database, b->database);
	return c != 0 ? c : strcmp(a->user, b->user);
}

static void keep_pools(struct report *report, const struct sample *last)
{
	report->pools = xcalloc(last->pooler.pool_count + 1,
				sizeof(*report->pools));
	for (size_t i = 0; i < last->pooler.pool_count; i++) {
		const struct pooler_pool *p = &last->pooler.pools[i];
		struct pooler_pool *r;

		/* The console's own pool holds only consoles, ours too. */
		if (strcmp(p->database, admin_db) == 0) {
			continue;
		}
		r = &report->pools[report->pool_count++];
		*r = *p;
		r->database = arena_strdup(&report->arena, p->database);
		r->user = arena_strdup(&report->arena, p->user);
		r->mode = arena_strdup(&report->arena, p->mode);
		report->pooler_waiting += plus(p->cl_waiting, 0);
		if (p->maxwait_s > report->pooler_maxwait_s) {
			report->pooler_maxwait_s = p->maxwait_s;
		}
	}
	qsort(report->pools, report->pool_count, sizeof(*report->pools),
	      compare_pools);
}

/* Waiting clients are the pooler's exhaustion: said per pool. */
static void warn_waiting(struct report *report)
{
	for (size_t i = 0; i < report->pool_count; i++) {
		const struct pooler_pool *p = &report->pools[i];
		char wait[32];

		if (p->cl_waiting <= 0) {
			continue;
		}
		units_format_duration(wait, sizeof(wait), p->maxwait_s);
		report_add_warning(report,
				   "%d client%s of pool %s/%s wait%s for a "
				   "server connection (the longest for %s): "
				   "its pool_size of %d is used up",
				   p->cl_waiting, p->cl_waiting == 1 ? "" : "s",
				   p->database, p->user,
				   p->cl_waiting == 1 ? "s" : "", wait,
				   p->pool_size);
	}
}

void report_pooler_build(struct report *report, const struct sample *last)
{
	const struct pooler_info *info = &last->pooler;

	if (last->server.source != SAMPLE_SOURCE_PGBOUNCER) {
		return;
	}
	keep_pools(report, last);
	report->client_idle_timeout_s = info->client_idle_timeout_s;
	for (size_t i = 0; i < info->pool_count; i++) {
		const struct pooler_pool *p = &info->pools[i];
		char name[600];

		if (p->pool_size < 0 || strcmp(p->database, admin_db) == 0) {
			continue;
		}
		snprintf(name, sizeof(name), "%s/%s", p->database, p->user);
		report_add_limit(report, LIMIT_KIND_POOL, name, p->pool_size,
				 pool_servers(p));
	}
	for (size_t i = 0; i < info->limit_count; i++) {
		const struct pooler_limit *l = &info->limits[i];

		if (l->name[0] == '\0') {
			add_default_limit(report, last, l);
		} else {
			add_pooler_limit(report, last, l, l->name);
		}
	}
	warn_waiting(report);
	if (info->client_idle_timeout_s > 0) {
		report_add_warning(report,
				   "client_idle_timeout is %gs: PgBouncer "
				   "closes idle client connections, which can "
				   "hide a leak",
				   info->client_idle_timeout_s);
	}
}

/* ---- the forecast ---- */

static const struct pooler_pool *pool_named(const struct report *r,
					    const char *db, const char *user)
{
	for (size_t i = 0; i < r->pool_count; i++) {
		const struct pooler_pool *p = &r->pools[i];

		if ((db == NULL || strcmp(p->database, db) == 0) &&
		    (user == NULL || strcmp(p->user, user) == 0) &&
		    strcmp(p->mode, "session") == 0) {
			return p;
		}
	}
	return NULL;
}

/* Does a limit on server connections grow with g's clients?  Only in
 * session pooling, with g's user and database where it has them. */
static bool grows_servers(const struct report *r, const struct report_group *g,
			  const struct report_limit *l)
{
	const char *user = g->keys[GROUP_KEY_USER];
	const char *db = g->keys[GROUP_KEY_DB];
	char name[600];

	switch (l->kind) {
	case LIMIT_KIND_POOL:
		for (size_t i = 0; i < r->pool_count; i++) {
			const struct pooler_pool *p = &r->pools[i];

			snprintf(name, sizeof(name), "%s/%s", p->database,
				 p->user);
			if (strcmp(name, l->name) == 0) {
				return (user != NULL || db != NULL) &&
				       (user == NULL ||
					strcmp(user, p->user) == 0) &&
				       (db == NULL ||
					strcmp(db, p->database) == 0) &&
				       strcmp(p->mode, "session") == 0;
			}
		}
		return false;
	case LIMIT_KIND_POOL_DATABASE:
		return db != NULL && strcmp(db, l->name) == 0 &&
		       pool_named(r, db, user) != NULL;
	case LIMIT_KIND_POOL_USER:
		return user != NULL && strcmp(user, l->name) == 0 &&
		       pool_named(r, db, user) != NULL;
	default:
		return false;
	}
}

size_t report_pooler_candidates(const struct report *report,
				const struct report_group *g,
				const struct report_limit **out)
{
	size_t n = 0;

	for (size_t i = 1; i < report->limit_count; i++) {
		const struct report_limit *l = &report->limits[i];
		bool fits = false;

		if (n == REPORT_POOLER_CANDIDATES) {
			break;
		}
		if (l->kind == LIMIT_KIND_CLIENT_DATABASE) {
			fits = g->keys[GROUP_KEY_DB] != NULL &&
			       strcmp(g->keys[GROUP_KEY_DB], l->name) == 0;
		} else if (l->kind == LIMIT_KIND_CLIENT_USER) {
			fits = g->keys[GROUP_KEY_USER] != NULL &&
			       strcmp(g->keys[GROUP_KEY_USER], l->name) == 0;
		} else {
			fits = grows_servers(report, g, l);
		}
		if (fits) {
			out[n++] = l;
		}
	}
	return n;
}

int report_pooler_holder_via(int pid, const char *command)
{
	return pid > 0 && bouncer_command_is_pooler(command) ? pid : 0;
}

void report_pooler_source_name(char *buf, size_t len, const struct report *r)
{
	if (r->server.source == SAMPLE_SOURCE_PGBOUNCER) {
		bouncer_describe(buf, len, &r->server);
	} else {
		snprintf(buf, len, "PostgreSQL %s",
			 r->server.version[0] ? r->server.version : "?");
	}
}

/* ---- processes through a pooler ---- */

bool report_pooler_is_via(const struct report_process *p)
{
	return p->via_pid != 0;
}

void report_pooler_process_text(char *buf, size_t len,
				const struct report_process *p,
				const char *relation)
{
	char via[400];
	const char *client = p->via_client != NULL ? p->via_client : "";
	const char *command = p->command[0] != '\0' ? p->command
						    : "command unknown";
	int n;

	if (p->via_pid == 0) {
		snprintf(buf, len, "pid %d (%s)%s", p->pid, command, relation);
		return;
	}
	/* The pooler and its client first: a long command line is what a
	 * narrow line cuts. */
	n = p->via_pid > 0 ? snprintf(via, sizeof(via),
				      "via pgbouncer (pid %d)", p->via_pid)
			   : snprintf(via, sizeof(via), "via pgbouncer");
	if (client[0] != '\0' && n > 0 && (size_t)n < sizeof(via)) {
		snprintf(via + n, sizeof(via) - (size_t)n, ", its client %s",
			 client);
	}
	if (p->pid <= 0 || p->pid == p->via_pid) {
		snprintf(buf, len, "%s", via);
	} else {
		snprintf(buf, len, "%s: pid %d (%s)%s", via, p->pid, command,
			 relation);
	}
}

void report_pooler_via_json(struct json_writer *w,
			    const struct report_process *p)
{
	if (p->via_pid == 0) {
		return;
	}
	json_key(w, "via_pooler");
	json_begin_object(w);
	json_key(w, "name");
	json_string(w, "pgbouncer");
	json_key(w, "pid");
	if (p->via_pid > 0) {
		json_int(w, p->via_pid);
	} else {
		json_null(w);
	}
	json_key(w, "client");
	if (p->via_client != NULL && p->via_client[0] != '\0') {
		json_string(w, p->via_client);
	} else {
		json_null(w);
	}
	json_end_object(w);
}

/* ---- the pools, as text and JSON ---- */

/* A count, or "-" where the version does not show it. */
static void write_count(FILE *out, int width, int v)
{
	if (v < 0) {
		fprintf(out, " %*s", width, "-");
	} else {
		fprintf(out, " %*d", width, v);
	}
}

void report_pooler_write_text(FILE *out, const struct report *r,
			      const struct text_style *st)
{
	if (r->server.source != SAMPLE_SOURCE_PGBOUNCER || r->pool_count == 0) {
		return;
	}
	fputs("\nPools (SHOW POOLS, most waiting first):\n", out);
	fprintf(out, "  %-24s %-11s %9s %10s %9s %7s %7s %9s %8s\n",
		"DATABASE/USER", "MODE", "CL_ACTIVE", "CL_WAITING", "SV_ACTIVE",
		"SV_IDLE", "SV_USED", "POOL_SIZE", "MAXWAIT");
	for (size_t i = 0; i < r->pool_count; i++) {
		const struct pooler_pool *p = &r->pools[i];
		char name[600];
		char wait[32];

		snprintf(name, sizeof(name), "%s/%s", p->database, p->user);
		fputs("  ", out);
		text_write_cell(out, name, 24, false, st->utf8);
		fputc(' ', out);
		text_write_cell(out, p->mode, 11, false, st->utf8);
		write_count(out, 9, p->cl_active);
		write_count(out, 10, p->cl_waiting);
		write_count(out, 9, p->sv_active);
		write_count(out, 7, p->sv_idle);
		write_count(out, 7, p->sv_used);
		write_count(out, 9, p->pool_size);
		units_format_duration(wait, sizeof(wait), p->maxwait_s);
		fprintf(out, " %8s%s\n", wait,
			p->cl_waiting > 0 ? "  WAITING" : "");
	}
}

static void json_count(struct json_writer *w, const char *key, int v)
{
	json_key(w, key);
	if (v < 0) {
		json_null(w);
	} else {
		json_int(w, v);
	}
}

void report_pooler_pool_json(struct json_writer *w, const struct pooler_pool *p)
{
	json_begin_object(w);
	json_key(w, "database");
	json_string(w, p->database);
	json_key(w, "user");
	json_string(w, p->user);
	json_key(w, "mode");
	json_string(w, p->mode);
	json_count(w, "cl_active", p->cl_active);
	json_count(w, "cl_waiting", p->cl_waiting);
	json_count(w, "sv_active", p->sv_active);
	json_count(w, "sv_idle", p->sv_idle);
	json_count(w, "sv_used", p->sv_used);
	json_count(w, "sv_tested", p->sv_tested);
	json_count(w, "sv_login", p->sv_login);
	/* To the microsecond, as the console gives it (maxwait_us). */
	json_key(w, "maxwait_s");
	json_double(w, p->maxwait_s, 6);
	json_count(w, "pool_size", p->pool_size);
	json_end_object(w);
}

void report_pooler_write_json(struct json_writer *w, const struct report *r)
{
	if (r->server.source != SAMPLE_SOURCE_PGBOUNCER) {
		return;
	}
	json_key(w, "pooler");
	json_begin_object(w);
	json_key(w, "name");
	json_string(w, "pgbouncer");
	json_key(w, "version");
	json_string(w, r->server.version);
	json_key(w, "max_client_conn");
	json_int(w, r->server.max_connections);
	json_key(w, "client_idle_timeout_s");
	json_double(w, r->client_idle_timeout_s, 3);
	json_key(w, "waiting_clients");
	json_int(w, r->pooler_waiting);
	json_key(w, "maxwait_s");
	json_double(w, r->pooler_maxwait_s, 3);
	json_key(w, "pools");
	json_begin_array(w);
	for (size_t i = 0; i < r->pool_count; i++) {
		report_pooler_pool_json(w, &r->pools[i]);
	}
	json_end_array(w);
	json_end_object(w);
}
