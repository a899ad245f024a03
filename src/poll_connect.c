/*
 * poll_connect.c - the poller's connection (see poll.h): the conninfo's
 * keywords, PQconnectPoll step by step, the server's settings read once,
 * the sample statement prepared (never through a pooler), and what a
 * failure to connect means (slots, password, down, refused).
 */
#include "poll.h"

#include "conninfo.h"
#include "core/bouncer.h"
#include "core/units.h"
#include "core/wire.h"
#include "notice.h"
#include "poll_private.h"

#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server's settings, read once per connection (nothing is set). */
static const char setup_sql[] =
	"SELECT current_setting('server_version'), "
	"current_setting('server_version_num'), "
	"current_setting('max_connections'), "
	"current_setting('superuser_reserved_connections'), "
	"%s, %s, "
	"pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'), "
	"current_user, pg_backend_pid()";

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
		if (strcmp(o->keyword, "connect_timeout") == 0 &&
		    o->val != NULL && o->val[0] != '\0' &&
		    p->connect_timeout_ms == 0) {
			/* libpq's own rule: 0 (or less) waits forever. */
			int seconds = atoi(o->val);

			p->connect_timeout_ms = seconds > 0 ? (int64_t)seconds *
								      1000
							    : -1;
		}
	}
	PQconninfoFree(opts);
}

/* libpq's notices (a server shutting down says so) reach the user
 * through notice.c, which holds them while the live view owns the
 * terminal. */
static void on_notice(void *arg, const char *message)
{
	struct poller *p = arg;
	char line[400];

	poll_one_line(line, sizeof(line), message, p->password);
	notice_say("server: %s", line);
}

static bool read_server_info(struct poller *p, PGresult *res,
			     struct errbuf *err)
{
	struct server_info *s = &p->server;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    PQnfields(res) != 9) {
		char msg[400];

		poll_one_line(msg, sizeof(msg), PQresultErrorMessage(res),
			      p->password);
		errbuf_set(err, "cannot prepare the monitoring session: %s",
			   msg);
		return false;
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->version, sizeof(s->version), "%.*s",
		 (int)strcspn(PQgetvalue(res, 0, 0), " "),
		 PQgetvalue(res, 0, 0));
	s->version_num = wire_parse_int(PQgetvalue(res, 0, 1),
					PQserverVersion(p->conn));
	s->max_connections = wire_parse_int(PQgetvalue(res, 0, 2), 0);
	s->superuser_reserved = wire_parse_int(PQgetvalue(res, 0, 3), 0);
	s->reserved = wire_parse_int(PQgetvalue(res, 0, 4), 0);
	/* idle_session_timeout is in milliseconds in pg_settings. */
	s->idle_session_timeout_s = PQgetisnull(res, 0, 5)
					    ? NAN
					    : units_parse_number(
						      PQgetvalue(res, 0, 5)) /
						      1000.0;
	s->can_read_all_stats = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	snprintf(s->current_user, sizeof(s->current_user), "%s",
		 PQgetvalue(res, 0, 7));
	p->server_backend_pid = wire_parse_int(PQgetvalue(res, 0, 8), 0);
	/* libpq learnt a backend pid at start-up; a pooler makes one up
	 * (pgbouncer: its own cancel key), so the two differ there. */
	p->pooled = p->server_backend_pid != PQbackendPID(p->conn);
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

/* The connection keywords, in libpq's order of precedence (later wins);
 * timeout is room for the connect_timeout value.  Returns how many. */
static size_t connect_keywords(const struct conn_params *params,
			       const char *keys[16], const char *values[16],
			       char timeout[32])
{
	size_t n = 0;

#define ADD(k, v)                          \
	do {                               \
		if ((v) != NULL) {         \
			keys[n] = (k);     \
			values[n++] = (v); \
		}                          \
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
			 (long long)((params->connect_timeout_ms + 999) /
				     1000));
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

/* The failure's message and kind, from libpq's own message. */
static void connect_failure(struct poller *p, enum poll_failure *failure,
			    struct errbuf *err)
{
	char msg[400];

	poll_one_line(msg, sizeof(msg),
		      p->conn != NULL ? PQerrorMessage(p->conn)
				      : "out of memory",
		      p->password);
	p->needs_password = p->conn != NULL &&
			    PQconnectionNeedsPassword(p->conn) &&
			    !p->password_typed;
	*failure = wire_error_slot_refusal(msg) ? POLL_FAILURE_SLOTS
		   : p->needs_password          ? POLL_FAILURE_PASSWORD
		   : wire_error_transient(msg)  ? POLL_FAILURE_DOWN
						: POLL_FAILURE_CONNECT;
	if (p->target[0] != '\0') {
		/* Say which target failed; never its password. */
		errbuf_set(err, "cannot connect to \"%s\": %s", p->target, msg);
	} else {
		errbuf_set(err, "cannot connect: %s", msg);
	}
}

struct poller *poll_start(const struct conn_params *params,
			  enum poll_failure *failure, struct errbuf *err)
{
	const char *keys[16];
	const char *values[16];
	char timeout[32];
	size_t n;
	struct poller *p = xcalloc(1, sizeof(*p));

	p->delivered_tx_epoch_s = NAN;
	n = connect_keywords(params, keys, values, timeout);
	if (params->password != NULL) {
		keys[n] = "password";
		values[n++] = params->password;
		keys[n] = values[n] = NULL;
	}
	p->connect_timeout_ms = params->connect_timeout_ms;
	p->one_shot = params->one_shot;
	p->password_typed = params->password != NULL;
	if (params->dbname != NULL && strpbrk(params->dbname, "=:") != NULL) {
		conninfo_mask_password(p->target, sizeof(p->target),
				       params->dbname);
	}
	p->conn = PQconnectStartParams(keys, values, 1);
	if (p->conn != NULL) {
		remember_password(p);
	}
	if (p->connect_timeout_ms == 0) {
		p->connect_timeout_ms = 10000;
	}
	if (p->conn == NULL || PQstatus(p->conn) == CONNECTION_BAD) {
		connect_failure(p, failure, err);
		/* Bad parameters or a refusal before any wait: nothing
		 * will change if tried again. */
		if (*failure == POLL_FAILURE_DOWN && p->conn == NULL) {
			*failure = POLL_FAILURE_CONNECT;
		}
		poll_destroy(p);
		return NULL;
	}
	PQsetNoticeProcessor(p->conn, on_notice, p);
	p->phase = POLL_PHASE_CONNECTING;
	p->step = STEP_CONNECT;
	/* As libpq's documentation says: as if PQconnectPoll had asked
	 * to write. */
	p->events = POLLOUT;
	*failure = POLL_FAILURE_NONE;
	return p;
}

void poll_destroy(struct poller *poller)
{
	if (poller == NULL) {
		return;
	}
	poll_console_clear(poller);
	PQfinish(poller->conn);
	memset(poller->password, 0, sizeof(poller->password));
	wire_delta_finish(&poller->delta);
	free(poller);
}

/* Sends text as one simple query, without blocking on a full socket. */
/* Prepared once: parsing and planning the UNION over three views costs
 * more than running it (0.9 ms against 0.13 ms, measured here).  Never
 * through a pooler: the statement would stay on a server connection
 * other clients share. */
enum poll_status poll_connect_after_setup(struct poller *p,
					  enum poll_failure *failure,
					  struct errbuf *err)
{
	static const Oid since_type[] = {701}; /* float8 */
	PGresult *res = PQgetResult(p->conn);
	bool ok = read_server_info(p, res, err);
	PGresult *more;

	PQclear(res);
	while ((more = PQgetResult(p->conn)) != NULL) {
		PQclear(more);
	}
	if (!ok) {
		*failure = PQstatus(p->conn) == CONNECTION_OK
				   ? POLL_FAILURE_PRIVILEGE
				   : POLL_FAILURE_LOST;
		return POLL_STATUS_ERROR;
	}
	wire_sample_query(p->query, sizeof(p->query), "$1",
			  p->server.version_num);
	if (p->pooled || p->one_shot) {
		p->phase = POLL_PHASE_READY;
		p->events = 0;
		return POLL_STATUS_DONE;
	}
	if (!PQsendPrepare(p->conn, "pgdrip_sample", p->query, 1, since_type)) {
		return poll_lost(p, failure, err);
	}
	p->flushing = PQflush(p->conn) == 1;
	p->events = (short)(POLLIN | (p->flushing ? POLLOUT : 0));
	p->step = STEP_PREPARE;
	return POLL_STATUS_WAIT;
}

enum poll_status poll_connect_after_prepare(struct poller *p)
{
	PGresult *res;

	p->prepared = false;
	while ((res = PQgetResult(p->conn)) != NULL) {
		p->prepared |= PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
	}
	p->phase = POLL_PHASE_READY;
	p->events = 0;
	return POLL_STATUS_DONE;
}

enum poll_status poll_connect_advance(struct poller *p,
				      enum poll_failure *failure,
				      struct errbuf *err)
{
	char setup[sizeof(setup_sql) + 256];
	int version;

	switch (PQconnectPoll(p->conn)) {
	case PGRES_POLLING_READING:
		p->events = POLLIN;
		return POLL_STATUS_WAIT;
	case PGRES_POLLING_WRITING:
		p->events = POLLOUT;
		return POLL_STATUS_WAIT;
	case PGRES_POLLING_FAILED:
		connect_failure(p, failure, err);
		return POLL_STATUS_ERROR;
	default:
		break;
	}
	if (PQsetnonblocking(p->conn, 1) != 0) {
		return poll_lost(p, failure, err);
	}
	make_label(p);
	if (bouncer_is_console(PQparameterStatus(p->conn, "server_version"))) {
		return poll_console_connected(p);
	}
	version = PQserverVersion(p->conn);
	snprintf(setup, sizeof(setup), setup_sql,
		 version >= 160000 ? "current_setting('reserved_connections')"
				   : "'0'",
		 version >= 140000 ? "(SELECT setting FROM pg_settings WHERE "
				     "name = 'idle_session_timeout')"
				   : "NULL");
	if (!poll_send_query(p, setup, err)) {
		return poll_lost(p, failure, err);
	}
	p->step = STEP_SETUP;
	return POLL_STATUS_WAIT;
}
