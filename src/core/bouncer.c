/*
 * bouncer.c - PgBouncer's admin console read into samples (see
 * bouncer.h): one reader per SHOW command, each finding its columns by
 * name, then the clients' states from their pool's mode.  The console's
 * times are bouncer_time.c's, the link from a server's sessions to the
 * pooler's clients bouncer_link.c's.
 */
#include "bouncer.h"
#include "session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const show_commands[BOUNCER_SHOW_COUNT] = {
	[BOUNCER_SHOW_CONFIG] = "SHOW CONFIG",
	[BOUNCER_SHOW_DATABASES] = "SHOW DATABASES",
	[BOUNCER_SHOW_USERS] = "SHOW USERS",
	[BOUNCER_SHOW_POOLS] = "SHOW POOLS",
	[BOUNCER_SHOW_SERVERS] = "SHOW SERVERS",
	[BOUNCER_SHOW_CLIENTS] = "SHOW CLIENTS",
};

/* The console's own database: its pool is the console's, not a limit. */
static const char admin_db[] = "pgbouncer";

const char *bouncer_show_command(enum bouncer_show show)
{
	return (unsigned)show < BOUNCER_SHOW_COUNT ? show_commands[show]
						   : show_commands[0];
}

bool bouncer_is_console(const char *server_version)
{
	static const char suffix[] = "/bouncer";
	size_t len = server_version != NULL ? strlen(server_version) : 0;

	return len > sizeof(suffix) - 1 &&
	       strcmp(server_version + len - (sizeof(suffix) - 1), suffix) == 0;
}

void bouncer_server_info(struct server_info *out, const char *server_version,
			 const char *user)
{
	int major = 0;
	int minor = 0;
	int patch = 0;

	memset(out, 0, sizeof(*out));
	out->source = SAMPLE_SOURCE_PGBOUNCER;
	snprintf(out->version, sizeof(out->version), "%.*s",
		 (int)strcspn(server_version ? server_version : "", "/"),
		 server_version ? server_version : "");
	(void)sscanf(out->version, "%d.%d.%d", &major, &minor, &patch);
	out->version_num = major * 10000 + minor * 100 + patch;
	/* PgBouncer's client_idle_timeout is said by the pooler's part of
	 * the report; the server's setting does not apply here. */
	out->idle_session_timeout_s = NAN;
	/* The console shows every client, whoever they are. */
	out->can_read_all_stats = true;
	snprintf(out->current_user, sizeof(out->current_user), "%s",
		 user ? user : "");
}

void bouncer_describe(char *buf, size_t len, const struct server_info *server)
{
	snprintf(buf, len, "PgBouncer %s admin console",
		 server->version[0] ? server->version : "?");
}

/* ---- cells ---- */

static int column(const struct bouncer_table *t, const char *name)
{
	for (size_t i = 0; i < t->cols; i++) {
		if (t->names[i] != NULL && strcmp(t->names[i], name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* The cell, or NULL when the column is missing or the value NULL. */
static const char *cell(const struct bouncer_table *t, size_t row, int col)
{
	return col < 0 ? NULL : t->cells[row * t->cols + (size_t)col];
}

/* An integer, blanks around it allowed (1.23's SHOW USERS pads its
 * pool_size to nine columns); fallback when absent or not one. */
static long long to_int(const char *s, long long fallback)
{
	char *end;
	long long v;

	if (s == NULL) {
		return fallback;
	}
	while (*s == ' ') {
		s++;
	}
	if (*s == '\0') {
		return fallback;
	}
	v = strtoll(s, &end, 10);
	while (*end == ' ') {
		end++;
	}
	return *end == '\0' && end != s ? v : fallback;
}

static int int_cell(const struct bouncer_table *t, size_t row, int col,
		    int fallback)
{
	long long v = to_int(cell(t, row, col), fallback);

	return v < -1 || v > 2147483647LL ? fallback : (int)v;
}

static const char *str_cell(struct sample *sample,
			    const struct bouncer_table *t, size_t row, int col)
{
	return sample_strdup(sample, cell(t, row, col));
}

/* ---- the readers ---- */

static void read_config(struct sample *sample, const struct bouncer_table *t)
{
	struct pooler_info *p = &sample->pooler;
	int key = column(t, "key");
	int val = column(t, "value");

	for (size_t r = 0; r < t->rows; r++) {
		const char *k = cell(t, r, key);
		long long v = to_int(cell(t, r, val), -1);

		if (k == NULL) {
			continue;
		}
		if (strcmp(k, "max_client_conn") == 0) {
			p->max_client_conn = v > 2147483647LL ? -1 : (int)v;
		} else if (strcmp(k, "default_pool_size") == 0) {
			p->default_pool_size = v > 2147483647LL ? -1 : (int)v;
		} else if (strcmp(k, "client_idle_timeout") == 0 && v >= 0) {
			/* In seconds on the console (the file takes units). */
			p->client_idle_timeout_s = (double)v;
		} else if ((strcmp(k, "max_db_connections") == 0 ||
			    strcmp(k, "max_user_connections") == 0) &&
			   v > 0 && v <= 2147483647LL) {
			/* The defaults: SHOW DATABASES and (1.23+) SHOW USERS
			 * give each their effective value; before 1.23 a user's
			 * own is not shown, and this is the best known. */
			sample_add_pooler_limit(
				sample,
				k[4] == 'd' ? POOLER_LIMIT_DB_SERVERS
					    : POOLER_LIMIT_USER_SERVERS,
				"", (int)v, -1);
		}
	}
}

/* Replaces the kind's default ("" name, from SHOW CONFIG) by the named
 * limits of SHOW DATABASES / SHOW USERS, which say each one's own. */
static void drop_default(struct sample *sample, enum pooler_limit_kind kind)
{
	struct pooler_info *p = &sample->pooler;
	size_t kept = 0;

	for (size_t i = 0; i < p->limit_count; i++) {
		if (p->limits[i].kind != kind || p->limits[i].name[0] != '\0') {
			p->limits[kept++] = p->limits[i];
		}
	}
	p->limit_count = kept;
}

/* A named limit from a SHOW DATABASES or SHOW USERS row: 0 is none. */
static void add_named_limit(struct sample *sample,
			    const struct bouncer_table *t, size_t row,
			    enum pooler_limit_kind kind, const char *name,
			    int limit_col, int used_col)
{
	int limit = int_cell(t, row, limit_col, 0);

	if (limit > 0) {
		sample_add_pooler_limit(sample, kind, name, limit,
					int_cell(t, row, used_col, -1));
	}
}

/* Each database's pool_size waits for the pools; kept meanwhile as a
 * limit of a kind past the real ones. */
enum { POOLER_LIMIT_POOL_SIZE = POOLER_LIMIT_KIND_COUNT };

static void read_databases(struct sample *sample, const struct bouncer_table *t)
{
	int name = column(t, "name");
	int max = column(t, "max_connections");
	int max_clients = column(t, "max_client_connections");

	if (max >= 0) {
		drop_default(sample, POOLER_LIMIT_DB_SERVERS);
	}
	for (size_t r = 0; r < t->rows; r++) {
		const char *db = cell(t, r, name);

		if (db == NULL || strcmp(db, admin_db) == 0) {
			continue;
		}
		add_named_limit(sample, t, r, POOLER_LIMIT_DB_SERVERS, db, max,
				column(t, "current_connections"));
		add_named_limit(sample, t, r, POOLER_LIMIT_DB_CLIENTS, db,
				max_clients,
				column(t, "current_client_connections"));
		add_named_limit(sample, t, r,
				(enum pooler_limit_kind)POOLER_LIMIT_POOL_SIZE,
				db, column(t, "pool_size"), -1);
	}
}

static void read_users(struct sample *sample, const struct bouncer_table *t)
{
	int name = column(t, "name");
	int max = column(t, "max_user_connections");
	int pool_size = column(t, "pool_size");

	if (max >= 0) {
		drop_default(sample, POOLER_LIMIT_USER_SERVERS);
	}
	for (size_t r = 0; r < t->rows; r++) {
		const char *user = cell(t, r, name);
		int size = int_cell(t, r, pool_size, -1);

		if (user == NULL || strcmp(user, admin_db) == 0) {
			continue;
		}
		add_named_limit(sample, t, r, POOLER_LIMIT_USER_SERVERS, user,
				max, column(t, "current_connections"));
		add_named_limit(sample, t, r, POOLER_LIMIT_USER_CLIENTS, user,
				column(t, "max_user_client_connections"),
				column(t, "current_client_connections"));
		if (size >= 0) {
			/* 1.23+: a user's own pool_size wins over the
			 * database's; kept as a pool size with the user's
			 * name marked by a leading '\x1f'. */
			char key[256];

			snprintf(key, sizeof(key), "\x1f%s", user);
			sample_add_pooler_limit(sample,
						(enum pooler_limit_kind)
							POOLER_LIMIT_POOL_SIZE,
						key, size, -1);
		}
	}
}

static int pool_size_of(const struct sample *sample, const char *db,
			const char *user)
{
	const struct pooler_info *p = &sample->pooler;
	int by_db = -1;

	for (size_t i = 0; i < p->limit_count; i++) {
		const struct pooler_limit *l = &p->limits[i];

		if ((int)l->kind != POOLER_LIMIT_POOL_SIZE) {
			continue;
		}
		if (l->name[0] == '\x1f' && strcmp(l->name + 1, user) == 0) {
			return l->limit;
		}
		if (strcmp(l->name, db) == 0) {
			by_db = l->limit;
		}
	}
	return by_db >= 0 ? by_db : p->default_pool_size;
}

static void read_pools(struct sample *sample, const struct bouncer_table *t)
{
	int db = column(t, "database");
	int user = column(t, "user");
	int mode = column(t, "pool_mode");
	int maxwait = column(t, "maxwait");
	int maxwait_us = column(t, "maxwait_us");
	static const char *const counts[] = {
		"cl_active", "cl_waiting", "sv_active", "sv_idle",
		"sv_used",   "sv_tested",  "sv_login",
	};
	int cols[PGD_ARRAY_LEN(counts)];

	for (size_t i = 0; i < PGD_ARRAY_LEN(counts); i++) {
		cols[i] = column(t, counts[i]);
	}
	for (size_t r = 0; r < t->rows; r++) {
		struct pooler_pool *p;
		int *fields[PGD_ARRAY_LEN(counts)];

		if (cell(t, r, db) == NULL || cell(t, r, user) == NULL) {
			continue;
		}
		p = sample_add_pool(sample);
		fields[0] = &p->cl_active;
		fields[1] = &p->cl_waiting;
		fields[2] = &p->sv_active;
		fields[3] = &p->sv_idle;
		fields[4] = &p->sv_used;
		fields[5] = &p->sv_tested;
		fields[6] = &p->sv_login;
		p->database = str_cell(sample, t, r, db);
		p->user = str_cell(sample, t, r, user);
		p->mode = str_cell(sample, t, r, mode);
		for (size_t i = 0; i < PGD_ARRAY_LEN(counts); i++) {
			*fields[i] = int_cell(t, r, cols[i], -1);
		}
		if (maxwait >= 0) {
			p->maxwait_s = int_cell(t, r, maxwait, 0) +
				       int_cell(t, r, maxwait_us, 0) / 1e6;
		}
		p->pool_size = strcmp(p->database, admin_db) == 0
				       ? -1
				       : pool_size_of(sample, p->database,
						      p->user);
	}
}

/* "unix" is how PgBouncer writes a unix socket's address. */
static bool is_unix(const char *addr)
{
	return addr == NULL || strcmp(addr, "unix") == 0;
}

static void read_servers(struct sample *sample, const struct bouncer_table *t)
{
	int ptr = column(t, "ptr");
	int link = column(t, "link");
	int addr = column(t, "addr");
	int port = column(t, "port");
	int local_port = column(t, "local_port");
	int remote_pid = column(t, "remote_pid");

	for (size_t r = 0; r < t->rows; r++) {
		struct pooler_server *s = sample_add_pooler_server(sample);
		const char *a = cell(t, r, addr);

		s->ptr = str_cell(sample, t, r, ptr);
		s->link = str_cell(sample, t, r, link);
		s->database = str_cell(sample, t, r, column(t, "database"));
		s->user = str_cell(sample, t, r, column(t, "user"));
		s->state = str_cell(sample, t, r, column(t, "state"));
		s->app = str_cell(sample, t, r, column(t, "application_name"));
		s->addr = sample_strdup(sample, is_unix(a) ? "" : a);
		s->port = int_cell(t, r, port, 0);
		s->local_port = is_unix(a) ? 0 : int_cell(t, r, local_port, 0);
		s->remote_pid = int_cell(t, r, remote_pid, 0);
	}
}

/* The columns of SHOW CLIENTS a session takes, found once. */
struct client_cols {
	int user, database, state, addr, port, connect_time, request_time;
	int wait, wait_us, ptr, link, remote_pid, app, id;
};

static void find_client_cols(const struct bouncer_table *t,
			     struct client_cols *c)
{
	c->user = column(t, "user");
	c->database = column(t, "database");
	c->state = column(t, "state");
	c->addr = column(t, "addr");
	c->port = column(t, "port");
	c->connect_time = column(t, "connect_time");
	c->request_time = column(t, "request_time");
	c->wait = column(t, "wait");
	c->wait_us = column(t, "wait_us");
	c->ptr = column(t, "ptr");
	c->link = column(t, "link");
	c->remote_pid = column(t, "remote_pid");
	c->app = column(t, "application_name");
	c->id = column(t, "id");
}

static bool is_self(const struct bouncer_table *t, size_t r,
		    const struct client_cols *c, const struct bouncer_self *me)
{
	if (is_unix(cell(t, r, c->addr))) {
		return me->tcp_port == 0 &&
		       int_cell(t, r, c->remote_pid, 0) == me->pid;
	}
	return me->tcp_port > 0 && int_cell(t, r, c->port, 0) == me->tcp_port;
}

/*
 * The zone of PgBouncer's times (seconds east of UTC, to subtract): the
 * one the text names, else what pgdrip's own row shows, whose
 * request_time is now (the command being answered), rounded to the
 * quarter hour every zone is a multiple of; else this host's.
 */
static long zone_offset(const struct bouncer_table *t,
			const struct client_cols *c,
			const struct bouncer_self *me, double now)
{
	for (size_t r = 0; r < t->rows; r++) {
		double naive;
		long offset;
		bool known;

		if (!bouncer_parse_time(cell(t, r, c->request_time), &naive,
					&offset, &known)) {
			continue;
		}
		if (known) {
			return offset;
		}
		if (is_self(t, r, c, me)) {
			return 900L * lround((naive - now) / 900.0);
		}
	}
	return me->utc_offset_s;
}

static double epoch_cell(const struct bouncer_table *t, size_t r, int col,
			 long offset)
{
	double naive;
	long zone;
	bool known;

	if (!bouncer_parse_time(cell(t, r, col), &naive, &zone, &known)) {
		return NAN;
	}
	return naive - (known ? zone : offset);
}

static const struct pooler_pool *find_pool(const struct sample *sample,
					   const char *db, const char *user)
{
	for (size_t i = 0; i < sample->pooler.pool_count; i++) {
		const struct pooler_pool *p = &sample->pooler.pools[i];

		if (strcmp(p->database, db) == 0 &&
		    strcmp(p->user, user) == 0) {
			return p;
		}
	}
	return NULL;
}

/* A stable id for a client: 1.24's own, else its ptr's bits (objects
 * of one slab are apart by far more than 16 bytes and far less than
 * 32 GiB), never 0. */
static int client_id(const struct bouncer_table *t, size_t r,
		     const struct client_cols *c)
{
	long long id = to_int(cell(t, r, c->id), 0);
	const char *ptr = cell(t, r, c->ptr);
	unsigned long long v;

	if (id > 0) {
		return (int)(id % 2147483647LL);
	}
	v = ptr != NULL ? strtoull(ptr, NULL, 16) : 0;
	v = (v >> 4) & 0x7fffffffULL;
	return v != 0 ? (int)v : 1;
}

static enum session_state client_state(const char *state, bool running,
				       bool linked, const char *mode,
				       bool admin)
{
	if (state == NULL) {
		return SESSION_STATE_UNKNOWN;
	}
	if (strcmp(state, "waiting") == 0) {
		return SESSION_STATE_WAITING;
	}
	/* 1.25 says idle for an active client without a server. */
	if (strcmp(state, "active") != 0 && strcmp(state, "idle") != 0) {
		return SESSION_STATE_OTHER; /* cancel requests */
	}
	if (running && !admin) {
		return SESSION_STATE_ACTIVE;
	}
	/* Outside session pooling a server is held only for a transaction:
	 * between its statements the client is idle in it. */
	if (linked && mode != NULL && strcmp(mode, "session") != 0) {
		return SESSION_STATE_IDLE_TX;
	}
	return SESSION_STATE_IDLE;
}

static void add_client(struct sample *sample, const struct bouncer_table *t,
		       size_t r, const struct client_cols *c, long offset)
{
	struct session *s = sample_add_session(sample);
	const char *addr = cell(t, r, c->addr);
	const char *link = cell(t, r, c->link);
	const struct pooler_pool *pool;
	double wait_s = int_cell(t, r, c->wait, 0) +
			int_cell(t, r, c->wait_us, 0) / 1e6;
	double now = sample->server_epoch_s;
	bool admin;

	s->pid = client_id(t, r, c);
	s->user = str_cell(sample, t, r, c->user);
	s->db = str_cell(sample, t, r, c->database);
	s->app = str_cell(sample, t, r, c->app);
	s->pooler_ptr = str_cell(sample, t, r, c->ptr);
	admin = strcmp(s->db, admin_db) == 0;
	pool = find_pool(sample, s->db, s->user);
	if (is_unix(addr)) {
		s->client_port = -1;
		/* The peer's credentials: the client process itself. */
		s->client_pid = int_cell(t, r, c->remote_pid, 0);
	} else {
		s->client_addr = sample_strdup(sample, addr);
		s->client_port = int_cell(t, r, c->port, 0);
	}
	s->state = client_state(cell(t, r, c->state), wait_s > 0,
				link != NULL && link[0] != '\0',
				pool != NULL ? pool->mode : NULL, admin);
	s->backend_start_us = session_start_us(
		epoch_cell(t, r, c->connect_time, offset));
	s->state_change_epoch_s = epoch_cell(t, r, c->request_time, offset);
	s->query_start_epoch_s = s->state == SESSION_STATE_ACTIVE ||
						 s->state ==
							 SESSION_STATE_WAITING
					 ? now - wait_s
					 : s->state_change_epoch_s;
}

static void read_clients(struct sample *sample, const struct bouncer_table *t,
			 const struct bouncer_self *me)
{
	struct client_cols c;
	long offset;

	find_client_cols(t, &c);
	offset = zone_offset(t, &c, me, sample->server_epoch_s);
	for (size_t r = 0; r < t->rows; r++) {
		if (!is_self(t, r, &c, me)) {
			add_client(sample, t, r, &c, offset);
		}
	}
}

void bouncer_sample_begin(struct sample *sample,
			  const struct server_info *server, double now_epoch_s)
{
	sample_reset(sample);
	sample->server = *server;
	sample->server_epoch_s = now_epoch_s;
}

void bouncer_sample_add(struct sample *sample, enum bouncer_show show,
			const struct bouncer_table *table,
			const struct bouncer_self *self)
{
	switch (show) {
	case BOUNCER_SHOW_CONFIG:
		read_config(sample, table);
		break;
	case BOUNCER_SHOW_DATABASES:
		read_databases(sample, table);
		break;
	case BOUNCER_SHOW_USERS:
		read_users(sample, table);
		break;
	case BOUNCER_SHOW_POOLS:
		read_pools(sample, table);
		break;
	case BOUNCER_SHOW_SERVERS:
		read_servers(sample, table);
		break;
	case BOUNCER_SHOW_CLIENTS:
		read_clients(sample, table, self);
		break;
	case BOUNCER_SHOW_COUNT:
		break;
	}
}

/* To the microsecond, as a record keeps them: a replay then works out
 * the very same ages. */
static double to_us(double v)
{
	return round(v * 1e6) / 1e6;
}

void bouncer_sample_end(struct sample *sample)
{
	struct pooler_info *p = &sample->pooler;
	double now = to_us(sample->server_epoch_s);
	size_t kept = 0;

	/* The pool sizes were only kept for the pools. */
	for (size_t i = 0; i < p->limit_count; i++) {
		if ((int)p->limits[i].kind != POOLER_LIMIT_POOL_SIZE) {
			p->limits[kept++] = p->limits[i];
		}
	}
	p->limit_count = kept;
	sample->server_epoch_s = now;
	sample->server.max_connections = p->max_client_conn >= 0
						 ? p->max_client_conn
						 : sample_session_total(sample);
	for (size_t i = 0; i < sample->session_count; i++) {
		struct session *s = &sample->sessions[i];

		s->state_change_epoch_s = to_us(s->state_change_epoch_s);
		s->query_start_epoch_s = to_us(s->query_start_epoch_s);
		s->backend_age_s = now -
				   session_start_epoch_s(s->backend_start_us);
		s->state_age_s = now - s->state_change_epoch_s;
		s->query_age_s = now - s->query_start_epoch_s;
	}
}
