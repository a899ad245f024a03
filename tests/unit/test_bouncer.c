/*
 * test_bouncer.c - PgBouncer's admin console read into samples: rows
 * captured from a real 1.18 (Debian 12's), and rows of 1.23, 1.24 and
 * 1.25 laid out as their src/admin.c writes them (columns added, moved,
 * padded), each read by column name; the states of clients from wait,
 * link and pool mode; times and their zones; pgdrip's own row left out;
 * the limits; and the link from a server's sessions to the clients.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bouncer.h"
#include "session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A result as psql -A shows it: a header line, then rows, '|' between
 * fields; \N is an SQL NULL. */
struct table {
	struct bouncer_table t;
	char *text;
	char **names;
	char **cells;
};

static size_t split(char *line, char **out, size_t max)
{
	size_t n = 0;

	for (char *f = line; n < max; n++) {
		char *bar = strchr(f, '|');

		out[n] = f;
		if (bar == NULL) {
			n++;
			break;
		}
		*bar = '\0';
		f = bar + 1;
	}
	return n;
}

static void table_init(struct table *tb, const char *text)
{
	char *line;
	char *save = NULL;
	size_t cap = 0;

	memset(tb, 0, sizeof(*tb));
	tb->text = strdup(text);
	tb->names = calloc(64, sizeof(*tb->names));
	line = strtok_r(tb->text, "\n", &save);
	tb->t.cols = split(line, tb->names, 64);
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		size_t got;

		cap += tb->t.cols;
		tb->cells = realloc(tb->cells, cap * sizeof(*tb->cells));
		got = split(line, tb->cells + tb->t.rows * tb->t.cols,
			    tb->t.cols);
		assert_int_equal(got, tb->t.cols);
		for (size_t c = 0; c < got; c++) {
			char **cell = &tb->cells[tb->t.rows * tb->t.cols + c];

			if (strcmp(*cell, "\\N") == 0) {
				*cell = NULL;
			}
		}
		tb->t.rows++;
	}
	tb->t.names = (const char *const *)tb->names;
	tb->t.cells = (const char *const *)tb->cells;
}

static void table_finish(struct table *tb)
{
	free(tb->text);
	free(tb->names);
	free(tb->cells);
}

/* One console sample from the results of each command (NULL: none). */
struct shows {
	const char *text[BOUNCER_SHOW_COUNT];
};

static void read_sample(struct sample *s, const char *version, double now,
			const struct shows *shows,
			const struct bouncer_self *self)
{
	struct server_info info;

	bouncer_server_info(&info, version, "postgres");
	bouncer_sample_begin(s, &info, now);
	for (int i = 0; i < BOUNCER_SHOW_COUNT; i++) {
		struct table tb;

		if (shows->text[i] == NULL) {
			continue;
		}
		table_init(&tb, shows->text[i]);
		bouncer_sample_add(s, (enum bouncer_show)i, &tb.t, self);
		table_finish(&tb);
	}
	bouncer_sample_end(s);
}

static const struct session *by_app(const struct sample *s, const char *app)
{
	for (size_t i = 0; i < s->session_count; i++) {
		if (strcmp(s->sessions[i].app, app) == 0) {
			return &s->sessions[i];
		}
	}
	return NULL;
}

static const struct pooler_pool *pool_of(const struct sample *s, const char *db,
					 const char *user)
{
	for (size_t i = 0; i < s->pooler.pool_count; i++) {
		if (strcmp(s->pooler.pools[i].database, db) == 0 &&
		    strcmp(s->pooler.pools[i].user, user) == 0) {
			return &s->pooler.pools[i];
		}
	}
	return NULL;
}

static const struct pooler_limit *limit_of(const struct sample *s,
					   enum pooler_limit_kind kind,
					   const char *name)
{
	for (size_t i = 0; i < s->pooler.limit_count; i++) {
		if (s->pooler.limits[i].kind == kind &&
		    strcmp(s->pooler.limits[i].name, name) == 0) {
			return &s->pooler.limits[i];
		}
	}
	return NULL;
}

/* 2026-12-01 12:07:14 UTC */
#define T_12_07_14 1796126834.0

/* ---- 1.18, captured ---- */

static const char config_118[] = "key|value|default|changeable\n"
				 "client_idle_timeout|0|0|yes\n"
				 "default_pool_size|2|20|yes\n"
				 "max_client_conn|50|100|yes\n"
				 "max_db_connections|0|0|yes\n"
				 "max_user_connections|0|0|yes\n"
				 "pool_mode|transaction|session|yes\n";

static const char databases_118[] =
	"name|host|port|database|force_user|pool_size|min_pool_size|"
	"reserve_pool|pool_mode|max_connections|current_connections|paused|"
	"disabled\n"
	"pgbouncer|\\N|54401|pgbouncer|pgbouncer|2|0|0|statement|0|0|0|0\n"
	"postgres|/tmp/pgdrip-cluster.LNfRKr|54400|postgres|\\N|2|0|0|\\N|0|"
	"4|0|0\n";

static const char users_118[] = "name|pool_mode\n"
				"app_api|\\N\n"
				"pgbouncer|\\N\n"
				"postgres|\\N\n";

static const char pools_118[] =
	"database|user|cl_active|cl_waiting|cl_active_cancel_req|"
	"cl_waiting_cancel_req|sv_active|sv_active_cancel|sv_being_canceled|"
	"sv_idle|sv_used|sv_tested|sv_login|maxwait|maxwait_us|pool_mode\n"
	"pgbouncer|pgbouncer|1|0|0|0|0|0|0|0|0|0|0|0|0|statement\n"
	"postgres|app_api|1|0|0|0|1|0|0|0|1|0|0|0|0|transaction\n"
	"postgres|postgres|1|0|0|0|0|0|0|2|0|0|0|0|0|transaction\n";

static const char servers_118[] =
	"type|user|database|state|addr|port|local_addr|local_port|"
	"connect_time|request_time|wait|wait_us|close_needed|ptr|link|"
	"remote_pid|tls|application_name\n"
	"S|app_api|postgres|active|unix|54400|unix|54401|2026-12-01 12:05:40 "
	"UTC|2026-12-01 12:07:13 UTC|0|0|0|0x55ec8988ce60|0x55ec898801d0|"
	"18220||psql\n"
	"S|app_api|postgres|used|unix|54400|unix|54401|2026-12-01 12:05:39 "
	"UTC|2026-12-01 12:05:58 UTC|0|0|0|0x55ec8988cc00||18214||bouncer-api\n"
	"S|postgres|postgres|idle|unix|54400|unix|54401|2026-12-01 12:07:06 "
	"UTC|2026-12-01 12:07:13 UTC|0|0|0|0x55ec8988d580||23218||idle-one\n";

/* pgdrip (port 50214), a client idle in a transaction (linked, no
 * query), one idle between transactions, one running a query, one
 * waiting over a unix socket (its pid 22660 from the socket). */
static const char clients_118[] =
	"type|user|database|state|addr|port|local_addr|local_port|"
	"connect_time|request_time|wait|wait_us|close_needed|ptr|link|"
	"remote_pid|tls|application_name\n"
	"C|postgres|pgbouncer|active|127.0.0.1|50214|127.0.0.1|54401|"
	"2026-12-01 12:07:14 UTC|2026-12-01 12:07:14 UTC|0|0|0|"
	"0x55ec8987fab0||0||pgdrip\n"
	"C|app_api|postgres|active|127.0.0.1|50202|127.0.0.1|54401|"
	"2026-12-01 12:07:13 UTC|2026-12-01 12:07:13 UTC|0|0|0|"
	"0x55ec898801d0|0x55ec8988ce60|0||in-tx\n"
	"C|postgres|postgres|active|127.0.0.1|50188|127.0.0.1|54401|"
	"2026-12-01 12:07:03 UTC|2026-12-01 12:07:13 UTC|0|0|0|"
	"0x55ec8987ff70||0||idle-one\n"
	"C|postgres|postgres|active|127.0.0.1|33068|127.0.0.1|54401|"
	"2026-12-01 12:07:03 UTC|2026-12-01 12:07:03 UTC|2|817411|0|"
	"0x55ec8987f850|0x55ec8988d0c0|0||running\n"
	"C|postgres|postgres|waiting|unix|54401|unix|54401|"
	"2026-12-01 12:07:03 UTC|2026-12-01 12:07:03 UTC|0|460874|0|"
	"0x55ec89880430||22660||queued\n";

static const struct bouncer_self self_tcp = {50214, 999999, 0};

static void read_118(struct sample *s)
{
	struct shows shows = {{
		[BOUNCER_SHOW_CONFIG] = config_118,
		[BOUNCER_SHOW_DATABASES] = databases_118,
		[BOUNCER_SHOW_USERS] = users_118,
		[BOUNCER_SHOW_POOLS] = pools_118,
		[BOUNCER_SHOW_SERVERS] = servers_118,
		[BOUNCER_SHOW_CLIENTS] = clients_118,
	}};

	read_sample(s, "1.18.0/bouncer", T_12_07_14 + 0.5, &shows, &self_tcp);
}

static void test_console_detected(void **state)
{
	struct server_info info;

	(void)state;
	assert_true(bouncer_is_console("1.18.0/bouncer"));
	assert_true(bouncer_is_console("1.25.1/bouncer"));
	assert_false(bouncer_is_console("15.18"));
	assert_false(bouncer_is_console("/bouncer"));
	assert_false(bouncer_is_console(NULL));
	bouncer_server_info(&info, "1.18.0/bouncer", "admin");
	assert_int_equal(info.source, SAMPLE_SOURCE_PGBOUNCER);
	assert_string_equal(info.version, "1.18.0");
	assert_int_equal(info.version_num, 11800);
	assert_string_equal(info.current_user, "admin");
	assert_true(info.can_read_all_stats);
}

static void test_118_clients(void **state)
{
	struct sample s;
	const struct session *in_tx;
	const struct session *idle;
	const struct session *running;
	const struct session *queued;

	(void)state;
	sample_init(&s);
	read_118(&s);
	/* pgdrip's own row is left out. */
	assert_int_equal(s.session_count, 4);
	assert_null(by_app(&s, "pgdrip"));
	in_tx = by_app(&s, "in-tx");
	idle = by_app(&s, "idle-one");
	running = by_app(&s, "running");
	queued = by_app(&s, "queued");
	assert_non_null(in_tx);
	assert_non_null(idle);
	assert_non_null(running);
	assert_non_null(queued);
	assert_int_equal(in_tx->state, SESSION_STATE_IDLE_TX);
	assert_int_equal(idle->state, SESSION_STATE_IDLE);
	assert_int_equal(running->state, SESSION_STATE_ACTIVE);
	assert_int_equal(queued->state, SESSION_STATE_WAITING);
	/* The identity: the ptr's bits, connect_time. */
	assert_int_equal(in_tx->pid,
			 (int)((0x55ec898801d0ULL >> 4) & 0x7fffffffULL));
	assert_true(session_start_epoch_s(in_tx->backend_start_us) ==
		    T_12_07_14 - 1);
	assert_true(session_start_epoch_s(idle->backend_start_us) ==
		    T_12_07_14 - 11);
	/* Last use: request_time; ages against the sample's moment. */
	assert_true(idle->state_change_epoch_s == T_12_07_14 - 1);
	assert_true(fabs(idle->state_age_s - 1.5) < 1e-6);
	assert_true(fabs(idle->backend_age_s - 11.5) < 1e-6);
	/* A running query started wait + wait_us ago. */
	assert_true(fabs(running->query_age_s - 2.817411) < 1e-6);
	assert_string_equal(in_tx->user, "app_api");
	assert_string_equal(in_tx->db, "postgres");
	assert_string_equal(in_tx->client_addr, "127.0.0.1");
	assert_int_equal(in_tx->client_port, 50202);
	assert_string_equal(in_tx->pooler_ptr, "0x55ec898801d0");
	assert_int_equal(in_tx->client_pid, 0);
	/* A unix-socket client: local, its pid from the socket. */
	assert_int_equal(queued->client_port, -1);
	assert_string_equal(queued->client_addr, "");
	assert_int_equal(queued->client_pid, 22660);
	sample_finish(&s);
}

static void test_118_pools_and_limits(void **state)
{
	struct sample s;
	const struct pooler_pool *p;

	(void)state;
	sample_init(&s);
	read_118(&s);
	assert_int_equal(s.server.source, SAMPLE_SOURCE_PGBOUNCER);
	assert_int_equal(s.server.max_connections, 50);
	assert_int_equal(s.pooler.max_client_conn, 50);
	assert_int_equal(s.pooler.default_pool_size, 2);
	assert_true(s.pooler.client_idle_timeout_s == 0);
	assert_int_equal(s.pooler.pool_count, 3);
	p = pool_of(&s, "postgres", "app_api");
	assert_non_null(p);
	assert_string_equal(p->mode, "transaction");
	assert_int_equal(p->cl_active, 1);
	assert_int_equal(p->sv_active, 1);
	assert_int_equal(p->sv_used, 1);
	assert_int_equal(p->pool_size, 2);
	assert_true(p->maxwait_s == 0);
	/* The console's own pool has no pool_size of its own. */
	assert_int_equal(pool_of(&s, "pgbouncer", "pgbouncer")->pool_size, -1);
	/* 0 is "no limit": none kept; 1.18 has no client limits. */
	assert_int_equal(s.pooler.limit_count, 0);
	assert_int_equal(s.pooler.server_count, 3);
	assert_string_equal(s.pooler.servers[0].link, "0x55ec898801d0");
	assert_int_equal(s.pooler.servers[0].remote_pid, 18220);
	assert_string_equal(s.pooler.servers[0].addr, "");
	assert_int_equal(s.pooler.servers[0].local_port, 0);
	sample_finish(&s);
}

/* ---- 1.23: replication and prepared_statements, SHOW USERS grown ---- */

static const char config_123[] = "key|value|default|changeable\n"
				 "max_client_conn|400|100|yes\n"
				 "default_pool_size|20|20|yes\n"
				 "max_user_connections|7|0|yes\n"
				 "client_idle_timeout|60|0|yes\n";

static const char databases_123[] =
	"name|host|port|database|force_user|pool_size|min_pool_size|"
	"reserve_pool|server_lifetime|pool_mode|max_connections|"
	"current_connections|paused|disabled\n"
	"shop|10.0.0.5|5432|shop|\\N|5|0|0|3600|session|10|3|0|0\n";

/* pool_size is text padded to nine columns, "" when not set. */
static const char users_123[] =
	"name|pool_size|pool_mode|max_user_connections|current_connections\n"
	"web|        3|\\N|8|2\n"
	"batch||\\N|0|1\n";

static const char pools_123[] =
	"database|user|cl_active|cl_waiting|cl_active_cancel_req|"
	"cl_waiting_cancel_req|sv_active|sv_active_cancel|sv_being_canceled|"
	"sv_idle|sv_used|sv_tested|sv_login|maxwait|maxwait_us|pool_mode\n"
	"shop|web|3|2|0|0|3|0|0|0|0|0|0|1|250000|session\n"
	"shop|batch|1|0|0|0|1|0|0|0|0|0|0|0|0|session\n";

/* Times in a zone named by its abbreviation: pgdrip's own row (over a
 * unix socket, its pid 4242) tells the offset. */
static const char clients_123[] =
	"type|user|database|replication|state|addr|port|local_addr|"
	"local_port|connect_time|request_time|wait|wait_us|close_needed|ptr|"
	"link|remote_pid|tls|application_name|prepared_statements\n"
	"C|postgres|pgbouncer|none|active|unix|6432|unix|6432|"
	"2026-12-01 13:07:00 CET|2026-12-01 13:07:14 CET|0|0|0|0x7f00000010||"
	"4242||pgdrip|0\n"
	"C|web|shop|none|active|10.1.2.3|41000|10.0.0.4|6432|"
	"2026-12-01 13:00:00 CET|2026-12-01 13:05:00 CET|0|0|0|0x7f00000100|"
	"0x7f00009000|0||web-idle|4\n"
	"C|web|shop|none|waiting|10.1.2.3|41002|10.0.0.4|6432|"
	"2026-12-01 13:07:13 CET|2026-12-01 13:07:13 CET|1|250000|0|"
	"0x7f00000200||0||web-queued|0\n";

static void test_123_columns_and_zone(void **state)
{
	struct shows shows = {{
		[BOUNCER_SHOW_CONFIG] = config_123,
		[BOUNCER_SHOW_DATABASES] = databases_123,
		[BOUNCER_SHOW_USERS] = users_123,
		[BOUNCER_SHOW_POOLS] = pools_123,
		[BOUNCER_SHOW_CLIENTS] = clients_123,
	}};
	struct bouncer_self me = {0, 4242, 0};
	struct sample s;
	const struct session *idle;
	const struct pooler_limit *l;

	(void)state;
	sample_init(&s);
	read_sample(&s, "1.23.1/bouncer", T_12_07_14 + 0.25, &shows, &me);
	assert_int_equal(s.server.version_num, 12301);
	assert_int_equal(s.session_count, 2);
	idle = by_app(&s, "web-idle");
	assert_non_null(idle);
	/* Linked in session pooling: the link is the session's, idle. */
	assert_int_equal(idle->state, SESSION_STATE_IDLE);
	/* 13:00:00 CET is 12:00:00 UTC. */
	assert_true(session_start_epoch_s(idle->backend_start_us) ==
		    T_12_07_14 - 434);
	assert_true(fabs(idle->state_age_s - 134.25) < 1e-6);
	assert_int_equal(by_app(&s, "web-queued")->state,
			 SESSION_STATE_WAITING);
	/* The user's own pool_size wins over the database's. */
	assert_int_equal(pool_of(&s, "shop", "web")->pool_size, 3);
	assert_int_equal(pool_of(&s, "shop", "batch")->pool_size, 5);
	assert_true(fabs(pool_of(&s, "shop", "web")->maxwait_s - 1.25) < 1e-9);
	assert_true(s.pooler.client_idle_timeout_s == 60);
	l = limit_of(&s, POOLER_LIMIT_DB_SERVERS, "shop");
	assert_non_null(l);
	assert_int_equal(l->limit, 10);
	assert_int_equal(l->used, 3);
	/* SHOW USERS names each user's: the global default is dropped. */
	l = limit_of(&s, POOLER_LIMIT_USER_SERVERS, "web");
	assert_non_null(l);
	assert_int_equal(l->limit, 8);
	assert_int_equal(l->used, 2);
	assert_null(limit_of(&s, POOLER_LIMIT_USER_SERVERS, ""));
	assert_null(limit_of(&s, POOLER_LIMIT_USER_SERVERS, "batch"));
	sample_finish(&s);
}

/* ---- 1.24: id, client limits; 1.25: idle ---- */

static const char databases_124[] =
	"name|host|port|database|force_user|pool_size|min_pool_size|"
	"reserve_pool_size|server_lifetime|pool_mode|load_balance_hosts|"
	"max_connections|current_connections|max_client_connections|"
	"current_client_connections|paused|disabled\n"
	"app|\\N|5432|app|\\N|20|0|0|3600|\\N|\\N|0|2|30|4|0|0\n";

static const char users_124[] =
	"name|pool_size|reserve_pool_size|pool_mode|max_user_connections|"
	"current_connections|max_user_client_connections|"
	"current_client_connections\n"
	"api|||\\N|0|2|25|4\n";

static const char pools_124[] =
	"database|user|cl_active|cl_waiting|cl_active_cancel_req|"
	"cl_waiting_cancel_req|sv_active|sv_active_cancel|sv_being_canceled|"
	"sv_idle|sv_used|sv_tested|sv_login|maxwait|maxwait_us|pool_mode|"
	"load_balance_hosts\n"
	"app|api|4|0|0|0|1|0|0|1|0|0|0|0|0|transaction|\\N\n";

/* Over TCP, times in UTC with microseconds, the columns reordered. */
static const char clients_125[] =
	"application_name|id|type|state|user|database|replication|addr|port|"
	"local_addr|local_port|connect_time|request_time|wait|wait_us|"
	"close_needed|ptr|link|remote_pid|tls|prepared_statements|"
	"something_new\n"
	"pgdrip|1|C|active|postgres|pgbouncer|none|::1|50000|::1|6432|"
	"2026-12-01 12:07:00 UTC|2026-12-01 12:07:14 UTC|0|0|0|0x10||0||0|x\n"
	"api|77|C|idle|api|app|none|::1|50010|::1|6432|"
	"2026-12-01 12:06:00.500000 UTC|2026-12-01 12:07:10 UTC|0|0|0|0x20||0|"
	"|0|x\n"
	"api|78|C|active|api|app|none|::1|50012|::1|6432|"
	"2026-12-01 12:06:01 +0000|2026-12-01 12:07:14 +0000|0|120|0|0x30|"
	"0x90|0||0|x\n";

static void test_124_125(void **state)
{
	struct shows shows = {{
		[BOUNCER_SHOW_DATABASES] = databases_124,
		[BOUNCER_SHOW_USERS] = users_124,
		[BOUNCER_SHOW_POOLS] = pools_124,
		[BOUNCER_SHOW_CLIENTS] = clients_125,
	}};
	struct bouncer_self me = {50000, 1, 0};
	struct sample s;
	const struct pooler_limit *l;

	(void)state;
	sample_init(&s);
	read_sample(&s, "1.25.1/bouncer", T_12_07_14, &shows, &me);
	assert_int_equal(s.session_count, 2);
	/* 1.24's id is the identity. */
	assert_int_equal(s.sessions[0].pid, 77);
	assert_int_equal(s.sessions[1].pid, 78);
	assert_int_equal(s.sessions[0].state, SESSION_STATE_IDLE);
	assert_int_equal(s.sessions[1].state, SESSION_STATE_ACTIVE);
	assert_string_equal(s.sessions[0].client_addr, "::1");
	assert_true(session_start_epoch_s(s.sessions[0].backend_start_us) ==
		    T_12_07_14 - 73.5);
	assert_true(session_start_epoch_s(s.sessions[1].backend_start_us) ==
		    T_12_07_14 - 73);
	/* No SHOW CONFIG: max_client_conn unknown, the clients seen. */
	assert_int_equal(s.pooler.max_client_conn, -1);
	assert_int_equal(s.server.max_connections, 2);
	/* No pool_size anywhere but the database's. */
	assert_int_equal(pool_of(&s, "app", "api")->pool_size, 20);
	l = limit_of(&s, POOLER_LIMIT_DB_CLIENTS, "app");
	assert_non_null(l);
	assert_int_equal(l->limit, 30);
	assert_int_equal(l->used, 4);
	l = limit_of(&s, POOLER_LIMIT_USER_CLIENTS, "api");
	assert_non_null(l);
	assert_int_equal(l->limit, 25);
	assert_null(limit_of(&s, POOLER_LIMIT_DB_SERVERS, "app"));
	sample_finish(&s);
}

/* Columns missing leave fields unknown; rows without a name are
 * skipped; nothing is read out of bounds. */
static void test_missing_columns(void **state)
{
	struct shows shows = {{
		[BOUNCER_SHOW_POOLS] = "database|user|pool_mode\n"
				       "db|u|session\n"
				       "\\N|u|session\n",
		[BOUNCER_SHOW_CLIENTS] = "user|database|state\n"
					 "u|db|active\n",
	}};
	struct bouncer_self me = {0, 1, 0};
	struct sample s;

	(void)state;
	sample_init(&s);
	read_sample(&s, "1.99.0/bouncer", T_12_07_14, &shows, &me);
	assert_int_equal(s.pooler.pool_count, 1);
	assert_int_equal(s.pooler.pools[0].cl_active, -1);
	assert_true(isnan(s.pooler.pools[0].maxwait_s));
	assert_int_equal(s.session_count, 1);
	assert_int_equal(s.sessions[0].state, SESSION_STATE_IDLE);
	assert_true(s.sessions[0].backend_start_us == SESSION_START_UNKNOWN);
	assert_true(isnan(s.sessions[0].state_age_s));
	assert_int_equal(s.sessions[0].pid, 1);
	sample_finish(&s);
}

static void test_times(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		double naive;
		long offset;
		bool known;
	} cases[] = {
		{"2026-12-01 12:07:14 UTC", true, T_12_07_14, 0, true},
		{"2026-12-01 12:07:14 GMT", true, T_12_07_14, 0, true},
		{"2026-12-01 12:07:14", true, T_12_07_14, 0, true},
		{"2026-12-01 12:07:14.25 UTC", true, T_12_07_14 + 0.25, 0,
		 true},
		{"2026-12-01 13:07:14 +0100", true, T_12_07_14 + 3600, 3600,
		 true},
		{"2026-12-01 06:37:14 -05:30", true, T_12_07_14 - 19800, -19800,
		 true},
		{"2026-12-01 13:07:14 +01", true, T_12_07_14 + 3600, 3600,
		 true},
		{"2026-12-01 13:07:14 CET", true, T_12_07_14 + 3600, 0, false},
		{"2000-02-29 00:00:00 UTC", true, 951782400, 0, true},
		{"1969-12-31 23:59:59 UTC", true, -1, 0, true},
		{"2026-13-01 00:00:00 UTC", false, 0, 0, false},
		{"2026-12-01 24:00:00 UTC", false, 0, 0, false},
		{"not a time", false, 0, 0, false},
		{"", false, 0, 0, false},
	};

	(void)state;
	assert_false(bouncer_parse_time(NULL, NULL, NULL, NULL));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double naive = -12345;
		long offset = -1;
		bool known = !cases[i].known;
		bool ok = bouncer_parse_time(cases[i].text, &naive, &offset,
					     &known);

		assert_int_equal(ok, cases[i].ok);
		if (!ok) {
			continue;
		}
		assert_true(fabs(naive - cases[i].naive) < 1e-6);
		assert_int_equal(offset, cases[i].offset);
		assert_int_equal(known, cases[i].known);
	}
}

/* Without pgdrip's own row, a named zone falls back on this host's. */
static void test_zone_fallback(void **state)
{
	struct shows shows = {{
		[BOUNCER_SHOW_CLIENTS] =
			"user|database|state|addr|port|connect_time|"
			"request_time|ptr\n"
			"u|db|active|10.0.0.1|5000|2026-12-01 14:00:00 EET|"
			"2026-12-01 14:07:14 EET|0x40\n",
	}};
	struct bouncer_self me = {1234, 1, 7200};
	struct sample s;

	(void)state;
	sample_init(&s);
	read_sample(&s, "1.18.0/bouncer", T_12_07_14, &shows, &me);
	assert_int_equal(s.session_count, 1);
	assert_true(s.sessions[0].state_change_epoch_s == T_12_07_14);
	assert_true(session_start_epoch_s(s.sessions[0].backend_start_us) ==
		    T_12_07_14 - 434);
	sample_finish(&s);
}

static void test_pooler_command(void **state)
{
	(void)state;
	assert_true(bouncer_command_is_pooler("pgbouncer"));
	assert_true(bouncer_command_is_pooler(
		"/usr/sbin/pgbouncer -d /etc/pgbouncer/pgbouncer.ini"));
	assert_false(bouncer_command_is_pooler("pgbouncer-wrapper -x"));
	assert_false(bouncer_command_is_pooler("node pgbouncer"));
	assert_false(bouncer_command_is_pooler("/opt/pgbouncer/bin/node"));
	assert_false(bouncer_command_is_pooler(""));
	assert_false(bouncer_command_is_pooler(NULL));
}

/* A server's sessions: one held by pgbouncer and pinned by a client,
 * one held by it and free, one of another role with the same pid as a
 * pooled backend, one direct. */
static void server_sample(struct sample *s)
{
	static const struct {
		int pid;
		const char *user;
		int client_pid;
		const char *command;
	} rows[] = {
		{18220, "app_api", 500, "/usr/sbin/pgbouncer -d x.ini"},
		{18214, "app_api", 500, "/usr/sbin/pgbouncer -d x.ini"},
		{23218, "other", 0, ""},
		{31000, "app_api", 600, "python3 direct.py"},
	};

	sample_init(s);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct session *x = sample_add_session(s);

		x->pid = rows[i].pid;
		x->user = rows[i].user;
		x->client_pid = rows[i].client_pid;
		x->client_command = rows[i].command;
		x->state = SESSION_STATE_IDLE_TX;
	}
}

static void test_link(void **state)
{
	struct sample server;
	struct sample console;
	struct session *client;

	(void)state;
	server_sample(&server);
	bouncer_mark_pooled(&server);
	assert_int_equal(server.sessions[0].pooler_pid, 500);
	assert_int_equal(server.sessions[3].pooler_pid, 0);
	sample_init(&console);
	read_118(&console);
	/* The console traced its client (as attribution would). */
	client = (struct session *)(uintptr_t)by_app(&console, "in-tx");
	client->client_pid = 4321;
	client->client_command = "node app.js";
	assert_int_equal(bouncer_link(&server, &console), 1);
	assert_string_equal(server.sessions[0].pooler_client,
			    "127.0.0.1:50202");
	assert_int_equal(server.sessions[0].client_pid, 4321);
	assert_string_equal(server.sessions[0].client_command, "node app.js");
	assert_int_equal(server.sessions[0].pooler_pid, 500);
	/* Held but serving nobody now: the pooler stays its client. */
	assert_string_equal(server.sessions[1].pooler_client, "");
	assert_int_equal(server.sessions[1].client_pid, 500);
	/* Same pid as a pooled backend, another role: not the pooler's. */
	assert_int_equal(server.sessions[2].pooler_pid, 0);
	assert_int_equal(server.sessions[3].pooler_pid, 0);
	/* Never a console against a console, nor a server against one. */
	assert_int_equal(bouncer_link(&console, &console), 0);
	assert_int_equal(bouncer_link(&server, &server), 0);
	assert_int_equal(bouncer_link(&server, NULL), 0);
	sample_finish(&server);
	sample_finish(&console);
}

/* Found by the console only (no attribution): held, pid unknown. */
static void test_link_unattributed(void **state)
{
	struct sample server;
	struct sample console;

	(void)state;
	server_sample(&server);
	server.sessions[1].client_pid = 0;
	server.sessions[1].client_command = "";
	sample_init(&console);
	read_118(&console);
	(void)bouncer_link(&server, &console);
	assert_int_equal(server.sessions[1].pooler_pid, -1);
	/* Linked, but the console did not trace its client: the pooler's
	 * view of it only. */
	assert_string_equal(server.sessions[0].pooler_client,
			    "127.0.0.1:50202");
	assert_int_equal(server.sessions[0].client_pid, 500);
	sample_finish(&server);
	sample_finish(&console);
}

static void test_show_commands(void **state)
{
	(void)state;
	assert_string_equal(bouncer_show_command(BOUNCER_SHOW_CONFIG),
			    "SHOW CONFIG");
	assert_string_equal(bouncer_show_command(BOUNCER_SHOW_CLIENTS),
			    "SHOW CLIENTS");
	/* The clients last: their states need the pools' modes. */
	assert_true(BOUNCER_SHOW_POOLS < BOUNCER_SHOW_CLIENTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_console_detected),
		cmocka_unit_test(test_118_clients),
		cmocka_unit_test(test_118_pools_and_limits),
		cmocka_unit_test(test_123_columns_and_zone),
		cmocka_unit_test(test_124_125),
		cmocka_unit_test(test_missing_columns),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_zone_fallback),
		cmocka_unit_test(test_pooler_command),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_link_unattributed),
		cmocka_unit_test(test_show_commands),
	};

	return cmocka_run_group_tests_name("bouncer", tests, NULL, NULL);
}
