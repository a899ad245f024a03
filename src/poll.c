/*
 * poll.c - pgdrip's one libpq session (see poll.h).  Every sample is one
 * query round trip: sessions, role limits and database limits come back
 * as rows of one UNION ALL, tagged by kind, all as text.
 */
#include "poll.h"

#include "clock.h"
#include "conninfo.h"

#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct poller {
	PGconn *conn;
	struct server_info server;
	char query[4096];
	char label[256];
	char password[256]; /* only to scrub it from messages */
	bool busy;
	bool prepared; /* the sample query is a prepared statement */
	int64_t started_ms;
	double started_s; /* precise, for elapsed_ms */
};

/* Columns of a session row, after the kind tag. */
enum {
	COL_KIND,
	COL_PID,
	COL_USER,
	COL_APP,
	COL_DB,
	COL_ADDR,
	COL_PORT,
	COL_STATE,
	COL_WAIT_TYPE,
	COL_WAIT,
	COL_BACKEND_AGE,
	COL_XACT_AGE,
	COL_STATE_AGE,
	COL_QUERY_AGE,
	COL_XACT_START,
	COL_QUERY,
	COL_COUNT
};

/* date_part() rather than extract(): float8 on every version, where
 * extract() returns the slower numeric from 14 on.
 * Sessions of other roles come back with backend_type NULL when we lack
 * pg_read_all_stats: count them (a role and a database), skip background
 * processes (no role, or like the logical replication launcher, a role
 * but no database).  Parallel workers are not client backends and are
 * left out where backend_type shows; for hidden rows leader_pid (13+)
 * is NULL as well, and only datid, pid, usesysid, application_name,
 * backend_xid and backend_xmin remain, which a worker shares with its
 * leader: such a worker is counted, and the report says so (report.c). */
static const char sample_sql[] =
	"SELECT 's', a.pid::text, a.usename, a.application_name, a.datname, "
	"host(a.client_addr), a.client_port::text, a.state, "
	"a.wait_event_type, a.wait_event, "
	"date_part('epoch', n.t - a.backend_start)::text, "
	"date_part('epoch', n.t - a.xact_start)::text, "
	"date_part('epoch', n.t - a.state_change)::text, "
	"date_part('epoch', n.t - a.query_start)::text, "
	"date_part('epoch', a.xact_start)::text, left(a.query, %d) "
	"FROM pg_stat_activity a, (SELECT clock_timestamp() AS t) n "
	"WHERE a.pid <> pg_backend_pid() AND (a.backend_type = 'client "
	"backend' OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL "
	"AND a.datid IS NOT NULL)) "
	"UNION ALL SELECT 'r', NULL, rolname, rolconnlimit::text, NULL, NULL, "
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
	"FROM pg_roles WHERE rolconnlimit >= 0 "
	"UNION ALL SELECT 'd', NULL, datname, datconnlimit::text, NULL, NULL, "
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
	"FROM pg_database WHERE datconnlimit >= 0";

/* Autocommit and these settings: pgdrip never holds a transaction open,
 * never writes, and never waits long on anything. */
static const char setup_sql[] =
	"SET default_transaction_read_only = on; "
	"SET statement_timeout = '5s'; SET lock_timeout = '1s'; "
	"SET idle_in_transaction_session_timeout = '10s'; "
	"SELECT current_setting('server_version'), "
	"current_setting('server_version_num'), "
	"current_setting('max_connections'), "
	"current_setting('superuser_reserved_connections'), "
	"%s, %s, "
	"pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'), "
	"current_user";

/* libpq's message on one line: newlines folded, control bytes gone,
 * the password scrubbed (before folding too, for a password that holds
 * a tab or a newline). */
static void one_line(char *dst, size_t size, const char *msg,
		     const char *password)
{
	char raw[1024];
	size_t used = 0;

	snprintf(raw, sizeof(raw), "%s", msg ? msg : "");
	conninfo_scrub(raw, sizeof(raw), password);
	for (const char *p = raw; *p != '\0' && used + 1 < size; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n' || c == '\t' || c == '\r') {
			if (used > 0 && dst[used - 1] != ' ') {
				dst[used++] = ' ';
			}
		} else if (c >= 0x20 && c != 0x7F) {
			dst[used++] = (char)c;
		}
	}
	while (used > 0 && dst[used - 1] == ' ') {
		used--;
	}
	dst[used] = '\0';
	conninfo_scrub(dst, size, password);
}

static void remember_password(struct poller *p)
{
	PQconninfoOption *opts = PQconninfo(p->conn);

	if (opts == NULL) {
		return;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL) {
			snprintf(p->password, sizeof(p->password), "%s",
				 o->val);
		}
	}
	PQconninfoFree(opts);
}

static bool is_slot_refusal(const char *msg)
{
	static const char *const needles[] = {
		"too many clients already",
		"too many connections for role",
		"too many connections for database",
		"remaining connection slots are reserved",
	};

	for (size_t i = 0; i < PGD_ARRAY_LEN(needles); i++) {
		if (strstr(msg, needles[i]) != NULL) {
			return true;
		}
	}
	return false;
}

/* Failures that a server restart or a moment of network trouble explain:
 * retried within --retry-for.  Authentication and the like are not. */
static bool is_transient(const char *msg)
{
	static const char *const needles[] = {
		"Connection refused",
		"No such file or directory",
		"the database system is starting up",
		"the database system is shutting down",
		"the database system is in recovery mode",
		"timeout expired",
		"Connection timed out",
		"server closed the connection unexpectedly",
		"No route to host",
	};

	for (size_t i = 0; i < PGD_ARRAY_LEN(needles); i++) {
		if (strstr(msg, needles[i]) != NULL) {
			return true;
		}
	}
	return false;
}

static double parse_double(const char *s)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0') {
		return NAN;
	}
	errno = 0;
	v = strtod(s, &end);
	return (*end == '\0' && errno == 0) ? v : NAN;
}

static int parse_int(const char *s, int fallback)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0') {
		return fallback;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < -2147483647L || v > 2147483647L) {
		return fallback;
	}
	return (int)v;
}

static bool read_server_info(struct poller *p, struct errbuf *err)
{
	char sql[sizeof(setup_sql) + 256];
	int version = PQserverVersion(p->conn);
	PGresult *res;
	struct server_info *s = &p->server;

	snprintf(sql, sizeof(sql), setup_sql,
		 version >= 160000 ? "current_setting('reserved_connections')"
				   : "'0'",
		 version >= 140000 ? "(SELECT setting FROM pg_settings WHERE "
				     "name = 'idle_session_timeout')"
				   : "NULL");
	res = PQexec(p->conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		char msg[400];

		one_line(msg, sizeof(msg), PQerrorMessage(p->conn), p->password);
		errbuf_set(err, "cannot prepare the monitoring session: %s", msg);
		PQclear(res);
		return false;
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->version, sizeof(s->version), "%.*s",
		 (int)strcspn(PQgetvalue(res, 0, 0), " "), PQgetvalue(res, 0, 0));
	s->version_num = parse_int(PQgetvalue(res, 0, 1), version);
	s->max_connections = parse_int(PQgetvalue(res, 0, 2), 0);
	s->superuser_reserved = parse_int(PQgetvalue(res, 0, 3), 0);
	s->reserved = parse_int(PQgetvalue(res, 0, 4), 0);
	/* idle_session_timeout is in milliseconds in pg_settings. */
	s->idle_session_timeout_s = PQgetisnull(res, 0, 5)
					    ? NAN
					    : parse_double(PQgetvalue(res, 0, 5)) /
						      1000.0;
	s->can_read_all_stats = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	snprintf(s->current_user, sizeof(s->current_user), "%s",
		 PQgetvalue(res, 0, 7));
	PQclear(res);
	return true;
}

/*
 * "host:port/db"; an IPv6 address in brackets ("[::1]:5432/db"), as in a
 * URI, so the port cannot be read as part of it.  A socket directory (or
 * an abstract socket, "@name") is a path: it stays as it is even if it
 * holds a ':'.
 */
static void format_label(char *buf, size_t len, const char *host,
			 const char *port, const char *db)
{
	bool bracket = host[0] != '/' && host[0] != '@' &&
		       strchr(host, ':') != NULL;

	snprintf(buf, len, "%s%s%s:%s/%s", bracket ? "[" : "", host,
		 bracket ? "]" : "", port, db);
}

static void make_label(struct poller *p)
{
	const char *host = PQhost(p->conn);
	const char *port = PQport(p->conn);
	const char *db = PQdb(p->conn);

	format_label(p->label, sizeof(p->label), host ? host : "",
		     port ? port : "", db ? db : "");
}

/* Prepared once: parsing and planning the UNION over three views costs
 * more than running it (0.9 ms against 0.13 ms, measured here).  Where
 * preparing fails (a transaction-pooling proxy), plain queries still do. */
static bool prepare_sample(struct poller *p)
{
	PGresult *res = PQprepare(p->conn, "pgdrip_sample", p->query, 0, NULL);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok;
}

/* The connection keywords, in libpq's order of precedence (later wins);
 * timeout is room for the connect_timeout value.  Returns how many. */
static size_t connect_keywords(const struct conn_params *params,
			       const char *keys[16], const char *values[16],
			       char timeout[32])
{
	size_t n = 0;

#define ADD(k, v)                                                              \
	do {                                                                   \
		if ((v) != NULL) {                                             \
			keys[n] = (k);                                         \
			values[n++] = (v);                                     \
		}                                                              \
	} while (0)
	/* A default connect timeout, so a stalled network cannot hold a
	 * reconnect forever.  It comes before dbname: a connect_timeout in
	 * the user's conninfo, or PGCONNECT_TIMEOUT, still wins. */
	if (params->connect_timeout_ms <= 0 &&
	    getenv("PGCONNECT_TIMEOUT") == NULL) {
		ADD("connect_timeout", "10");
	}
	/* -h, -p and -U before dbname, as psql puts them (startup.c):
	 * dbname is expanded in place as a conninfo string or URI, so what
	 * it says wins over them ("-d postgresql://h:5433/db -p 9999"
	 * connects to 5433), and they fill in what it leaves out. */
	ADD("host", params->host);
	ADD("port", params->port);
	ADD("user", params->user);
	ADD("dbname", params->dbname);
	if (params->connect_timeout_ms > 0) {
		snprintf(timeout, 32, "%lld",
			 (long long)((params->connect_timeout_ms + 999) / 1000));
		ADD("connect_timeout", timeout);
	}
	ADD("application_name", "pgdrip");
	ADD("fallback_application_name", "pgdrip");
	ADD("keepalives", "1");
	ADD("keepalives_idle", "10");
	ADD("keepalives_interval", "5");
	ADD("keepalives_count", "3");
#undef ADD
	keys[n] = values[n] = NULL;
	return n;
}

void poll_describe(const struct conn_params *params, char *buf, size_t len)
{
	const char *keys[16];
	const char *values[16];
	char timeout[32];
	PGconn *conn;
	const char *host;

	connect_keywords(params, keys, values, timeout);
	/* Only parsed, not connected: libpq resolves the defaults, the
	 * environment and service files exactly as it will to connect. */
	conn = PQconnectStartParams(keys, values, 1);
	host = conn != NULL ? PQhost(conn) : NULL;
	format_label(buf, len, host != NULL ? host : "?",
		     conn != NULL && PQport(conn) ? PQport(conn) : "",
		     conn != NULL && PQdb(conn) ? PQdb(conn) : "");
	PQfinish(conn);
}

struct poller *poll_connect(const struct conn_params *params,
			    enum poll_failure *failure, struct errbuf *err)
{
	const char *keys[16];
	const char *values[16];
	char timeout[32];
	struct poller *p = xcalloc(1, sizeof(*p));

	connect_keywords(params, keys, values, timeout);

	p->conn = PQconnectdbParams(keys, values, 1);
	if (p->conn != NULL) {
		remember_password(p);
	}
	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
		char msg[400];

		one_line(msg, sizeof(msg),
			 p->conn ? PQerrorMessage(p->conn) : "out of memory",
			 p->password);
		*failure = is_slot_refusal(msg) ? POLL_FAILURE_SLOTS
			   : is_transient(msg)  ? POLL_FAILURE_DOWN
						: POLL_FAILURE_CONNECT;
		if (params->dbname != NULL &&
		    strpbrk(params->dbname, "=:") != NULL) {
			/* Say which target failed; never its password. */
			char target[256];

			conninfo_mask_password(target, sizeof(target),
					       params->dbname);
			errbuf_set(err, "cannot connect to \"%s\": %s", target,
				   msg);
		} else {
			errbuf_set(err, "cannot connect: %s", msg);
		}
		poll_destroy(p);
		return NULL;
	}
	make_label(p);
	if (!read_server_info(p, err)) {
		*failure = POLL_FAILURE_PRIVILEGE;
		poll_destroy(p);
		return NULL;
	}
	snprintf(p->query, sizeof(p->query), sample_sql, SAMPLE_QUERY_MAX);
	p->prepared = prepare_sample(p);
	*failure = POLL_FAILURE_NONE;
	return p;
}

void poll_destroy(struct poller *poller)
{
	if (poller == NULL) {
		return;
	}
	PQfinish(poller->conn);
	memset(poller->password, 0, sizeof(poller->password));
	free(poller);
}

int poll_server_port(const struct poller *poller)
{
	const char *port = PQport(poller->conn);
	int n = port != NULL ? atoi(port) : 0;

	/* An empty port is libpq's compiled-in default. */
	return n > 0 ? n : 5432;
}

int poll_socket(const struct poller *poller)
{
	return PQsocket(poller->conn);
}

const char *poll_server_label(const struct poller *poller)
{
	return poller->label;
}

bool poll_sample_start(struct poller *poller, struct errbuf *err)
{
	if (!(poller->prepared
		      ? PQsendQueryPrepared(poller->conn, "pgdrip_sample", 0,
					    NULL, NULL, NULL, 0)
		      : PQsendQuery(poller->conn, poller->query))) {
		char msg[400];

		one_line(msg, sizeof(msg), PQerrorMessage(poller->conn),
			 poller->password);
		errbuf_set(err, "cannot send the sample query: %s", msg);
		return false;
	}
	poller->busy = true;
	poller->started_ms = clock_mono_ms();
	poller->started_s = clock_mono_s();
	return true;
}

static const char *value(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static void add_session(struct sample *sample, PGresult *res, int row)
{
	struct session *s = sample_add_session(sample);
	const char *port = value(res, row, COL_PORT);

	s->pid = parse_int(value(res, row, COL_PID), 0);
	s->user = sample_strdup(sample, value(res, row, COL_USER));
	s->app = sample_strdup(sample, value(res, row, COL_APP));
	s->db = sample_strdup(sample, value(res, row, COL_DB));
	s->client_addr = sample_strdup(sample, value(res, row, COL_ADDR));
	s->client_port = parse_int(port, 0);
	s->state = sample_state_parse(value(res, row, COL_STATE));
	s->wait_event_type = sample_strdup(sample,
					   value(res, row, COL_WAIT_TYPE));
	s->wait_event = sample_strdup(sample, value(res, row, COL_WAIT));
	s->backend_age_s = parse_double(value(res, row, COL_BACKEND_AGE));
	s->xact_age_s = parse_double(value(res, row, COL_XACT_AGE));
	s->state_age_s = parse_double(value(res, row, COL_STATE_AGE));
	s->query_age_s = parse_double(value(res, row, COL_QUERY_AGE));
	s->xact_start_epoch_s = parse_double(value(res, row, COL_XACT_START));
	s->query = sample_strndup_utf8(sample, value(res, row, COL_QUERY),
				       SAMPLE_QUERY_MAX);
}

static void fill_sample(struct poller *poller, struct sample *sample,
			PGresult *res)
{
	int rows = PQntuples(res);

	sample_reset(sample);
	sample->server = poller->server;
	for (int r = 0; r < rows; r++) {
		const char *kind = PQgetvalue(res, r, COL_KIND);

		if (kind[0] == 's') {
			add_session(sample, res, r);
		} else if (kind[0] == 'r') {
			sample_add_role_limit(sample, value(res, r, COL_USER),
					      parse_int(value(res, r, COL_APP),
							-1));
		} else if (kind[0] == 'd') {
			sample_add_db_limit(sample, value(res, r, COL_USER),
					    parse_int(value(res, r, COL_APP), -1));
		}
	}
	sample->taken_at_epoch_s = clock_wall_s();
	sample->elapsed_ms = (clock_mono_s() - poller->started_s) * 1000;
	sample->status = SAMPLE_STATUS_OK;
}

int poll_sample_continue(struct poller *poller, struct sample *sample,
			 enum poll_failure *failure, struct errbuf *err)
{
	PGresult *res;
	bool got = false;
	bool retry = false;
	char msg[400];

	if (!PQconsumeInput(poller->conn)) {
		goto lost;
	}
	if (PQisBusy(poller->conn)) {
		return 0;
	}
	msg[0] = '\0';
	while ((res = PQgetResult(poller->conn)) != NULL) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQnfields(res) == COL_COUNT) {
			fill_sample(poller, sample, res);
			got = true;
		} else if (poller->prepared && state != NULL &&
			   strcmp(state, "26000") == 0) {
			/* The prepared statement is gone: a pooler in
			 * transaction mode ran us on another server, or
			 * DISCARD ALL.  Plain queries from now on. */
			poller->prepared = false;
			retry = true;
		} else if (msg[0] == '\0') {
			one_line(msg, sizeof(msg), PQresultErrorMessage(res),
				 poller->password);
		}
		PQclear(res);
	}
	poller->busy = false;
	if (got) {
		return 1;
	}
	if (retry && PQstatus(poller->conn) == CONNECTION_OK &&
	    PQsendQuery(poller->conn, poller->query)) {
		poller->busy = true;
		return 0;
	}
	if (PQstatus(poller->conn) != CONNECTION_OK) {
		goto lost;
	}
	*failure = POLL_FAILURE_QUERY;
	errbuf_set(err, "sample query failed: %s", msg);
	return -1;
lost:
	one_line(msg, sizeof(msg), PQerrorMessage(poller->conn),
		 poller->password);
	*failure = POLL_FAILURE_LOST;
	errbuf_set(err, "lost the connection: %s", msg);
	poller->busy = false;
	return -1;
}

/* Waits for the socket up to timeout_ms; false on timeout. */
static bool wait_readable(struct poller *poller, int64_t timeout_ms)
{
	struct pollfd pfd = {.fd = PQsocket(poller->conn), .events = POLLIN};
	int r;

	do {
		r = poll(&pfd, 1, timeout_ms > 0 ? (int)timeout_ms : 0);
	} while (r < 0 && errno == EINTR);
	return r != 0;
}

bool poll_sample(struct poller *poller, struct sample *sample,
		 int64_t deadline_ms, enum poll_failure *failure,
		 struct errbuf *err)
{
	int64_t end;

	if (!poll_sample_start(poller, err)) {
		*failure = PQstatus(poller->conn) == CONNECTION_OK
				   ? POLL_FAILURE_QUERY
				   : POLL_FAILURE_LOST;
		return false;
	}
	end = poller->started_ms + (deadline_ms > 0 ? deadline_ms : 3600000);
	for (;;) {
		int r = poll_sample_continue(poller, sample, failure, err);

		if (r != 0) {
			return r > 0;
		}
		if (!wait_readable(poller, end - clock_mono_ms())) {
			break;
		}
	}
	/* Past the deadline.  No PQcancel(): it blocks on a network that
	 * stalls, which is one reason to get here.  The session's own
	 * statement_timeout ends the query on the server; the caller drops
	 * this session and opens a new one. */
	poller->busy = false;
	*failure = POLL_FAILURE_LOST;
	errbuf_set(err, "sample took longer than %.1fs: the session was "
			"dropped", deadline_ms / 1000.0);
	return false;
}
