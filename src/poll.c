/*
 * poll.c - pgdrip's one libpq session (see poll.h), as a small state
 * machine driven by the caller's loop: connect (PQconnectPoll), read the
 * server's settings, prepare the sample query, then one round trip per
 * sample.  Sessions, role limits and database limits come back as rows
 * of one UNION ALL, tagged by kind, all as text.
 *
 * PgBouncer's admin console is the second path, chosen at connect time
 * (its server_version ends in "/bouncer"): it has no transactions, no
 * SET, no prepared statements and takes one command per simple query,
 * so a sample is its SHOW commands one after the other, read by
 * bouncer.c once all are in.
 */
#include "poll.h"

#include "clock.h"
#include "core/bouncer.h"
#include "conninfo.h"
#include "notice.h"

#include "core/pidmap.h"
#include "core/session.h"
#include "core/units.h"

#include <errno.h>
#include <limits.h>
#include <libpq-fe.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* What the connecting phase is waiting for. */
enum step {
	STEP_CONNECT, /* PQconnectPoll */
	STEP_SETUP,   /* the server's settings */
	STEP_PREPARE, /* the sample statement */
};

struct poller {
	PGconn *conn;
	enum poll_phase phase;
	enum step step;
	short events;
	bool flushing;        /* the query is not all sent yet */
	bool rolling_back;    /* a failed sample left its transaction open */
	char failed_msg[400]; /* why, while rolling back */
	struct server_info server;
	int server_backend_pid;
	char query[4096]; /* the sample statement */
	char label[256];
	char password[256]; /* only to scrub it from messages */
	bool prepared;      /* the sample is a prepared statement */
	/* Changes since the last sample delivered: its transaction's start
	 * (NAN: ask for everything), and the sample itself. */
	double delivered_tx_epoch_s;
	const struct sample *previous;
	double since_epoch_s;        /* what the sample in flight asked for */
	struct pidmap previous_rows; /* pid -> row of previous */
	struct pidmap row_pids;      /* the pids that are rows of a sample */
	bool previous_indexed;
	size_t previous_next; /* the row of previous likely asked for next */
	bool pooled;          /* a pooler stands between us and the server */
	bool one_shot; /* a single sample: a PREPARE is a round trip lost */
	bool needs_password;
	bool password_typed; /* given at a prompt: asking again won't help */
	bool console;        /* PgBouncer's admin console */
	int show;            /* the console's command in flight */
	PGresult *shows[BOUNCER_SHOW_COUNT]; /* its results so far */
	char target[256]; /* -d as given, password masked; "" a plain name */
	int64_t connect_timeout_ms;
	double started_s;  /* monotonic, for elapsed_ms */
	double received_s; /* the whole result in, before our own work */
	/* What the results of the sample statement said so far. */
	struct sample_reading {
		bool got;        /* the rows are in the sample */
		bool retry;      /* the prepared statement was gone */
		bool incomplete; /* an unchanged pid the last sample lacks */
		char msg[400];   /* the first error */
	} reading;
};

/* PgBouncer's console: below, beside the sample they stand in for. */
static void clear_shows(struct poller *p);
static bool send_show(struct poller *p, struct errbuf *err);

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
	COL_BACKEND_START,
	COL_XACT_START,
	COL_STATE_CHANGE,
	COL_QUERY_START,
	COL_QUERY,
	COL_COUNT
};

/* Moments as epoch seconds (ages are worked out against the server's
 * clock, its own row 'n'), so a session's identity and its last use
 * can be followed from sample to sample.
 * date_part() rather than extract(): float8 on every version, where
 * extract() returns the slower numeric from 14 on.
 * pg_stat_get_activity() rather than the pg_stat_activity view: the
 * view joins pg_authid and pg_database for every row, changed or not;
 * here a changed row alone is named (pg_get_userbyid is a cache lookup;
 * a role dropped under its session reads "unknown (OID=n)").
 * Sessions of other roles come back with backend_type NULL when we lack
 * pg_read_all_stats: count them (a role and a database), skip background
 * processes (no role, or like the logical replication launcher, a role
 * but no database).  Parallel workers are not client backends and are
 * left out where backend_type shows; for hidden rows leader_pid (13+)
 * is NULL as well, and only datid, pid, usesysid, application_name,
 * backend_xid and backend_xmin remain, which a worker shares with its
 * leader: such a worker is counted, and the report says so (report.c). */
static const char sample_sql[] =
	"SELECT CASE WHEN NOT k.session THEN 'b' WHEN c.f THEN 's' "
	"ELSE 'u' END, a.pid::text, "
	"CASE WHEN c.f THEN pg_get_userbyid(a.usesysid)::text END, "
	"CASE WHEN c.f THEN a.application_name END, "
	"CASE WHEN c.f THEN d.datname::text END, "
	"CASE WHEN c.f THEN host(a.client_addr) END, "
	"CASE WHEN c.f THEN a.client_port::text END, "
	"CASE WHEN c.f THEN a.state END, "
	"a.wait_event_type, a.wait_event, "
	"CASE WHEN c.f THEN date_part('epoch', a.backend_start)::text END, "
	"CASE WHEN c.f THEN date_part('epoch', a.xact_start)::text END, "
	"CASE WHEN c.f THEN date_part('epoch', a.state_change)::text END, "
	"CASE WHEN c.f THEN date_part('epoch', a.query_start)::text END, "
	"CASE WHEN c.f THEN left(a.query, %d) END "
	"FROM pg_stat_get_activity(NULL) a "
	"CROSS JOIN LATERAL (SELECT a.pid <> pg_backend_pid() AND "
	"coalesce(a.backend_type = 'client backend', a.usesysid IS NOT NULL "
	"AND a.datid IS NOT NULL) AS session) k "
	"CROSS JOIN LATERAL (SELECT k.session AND coalesce(greatest("
	"a.backend_start, a.xact_start, a.state_change, a.query_start) > "
	"to_timestamp(%s), true) AS f) c "
	"LEFT JOIN pg_database d ON d.oid = a.datid "
	"WHERE NOT k.session OR c.f OR a.state IS DISTINCT FROM 'idle' "
	"UNION ALL SELECT 'U', string_agg(pg_stat_get_backend_pid(i)::text, "
	"','), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
	"NULL, NULL, NULL FROM pg_stat_get_backend_idset() i "
	"UNION ALL SELECT 'n', NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
	"NULL, NULL, date_part('epoch', clock_timestamp())::text, "
	"date_part('epoch', now())::text, NULL, NULL, NULL "
	"UNION ALL SELECT 'r', NULL, rolname, rolconnlimit::text, NULL, NULL, "
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
	"FROM pg_roles WHERE rolconnlimit >= 0 "
	"UNION ALL SELECT 'd', NULL, datname, datconnlimit::text, NULL, NULL, "
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
	"FROM pg_database WHERE datconnlimit >= 0%s";

/*
 * Only what changed: a session none of whose moments (backend_start,
 * xact_start, state_change, query_start) moved since the last sample's
 * transaction began comes back as an 'u' row, its pid and wait event
 * alone, and the rest is the last sample's.  Every change of state,
 * query, application_name (a SET is a query) or transaction moves one
 * of them; the wait event of a long query does not, so it always comes.
 * An unchanged idle session has no wait event to follow (it waits for
 * its client), so it is no row at all: the 'U' row lists every pid the
 * server's status snapshot holds (pg_stat_get_backend_idset(), read
 * from the same snapshot as pg_stat_get_activity(), and far cheaper
 * than a second pass over its rows), and a pid listed there that is no
 * row is an unchanged idle session.  Every process that is not a
 * session comes as a 'b' row, its pid alone: a pid the kernel gave to
 * a background worker since the last sample can never pass for the
 * session that had it.  On a steady server: a few rows for the server
 * to send and for libpq to parse, not thousands.  The margin covers a
 * change dated just before the last sample's transaction began but
 * published just after its read of pg_stat_activity.  Hidden sessions
 * have no moments and always come whole.
 */
enum { DELTA_MARGIN_S = 2 };
/* PostgreSQL 14 counts every session a database ever had: the exact
 * churn that samples, seeing only the sessions open at that moment,
 * miss. */
static const char sessions_sql[] =
	" UNION ALL SELECT 'x', NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
	"NULL, NULL, (SELECT sum(sessions) FROM pg_stat_database)::text, "
	"NULL, NULL, NULL, NULL";

/* Every sample is its own read-only transaction with its own limits,
 * SET LOCAL: through a pooler in transaction mode the next client gets
 * the server connection exactly as it was. */
static const char tx_begin[] =
	"BEGIN READ ONLY; SET LOCAL statement_timeout = '5s'; "
	"SET LOCAL lock_timeout = '1s'; "
	"SET LOCAL idle_in_transaction_session_timeout = '10s'; ";

/* The server's settings, read once per connection (nothing is set). */
static const char setup_sql[] =
	"SELECT current_setting('server_version'), "
	"current_setting('server_version_num'), "
	"current_setting('max_connections'), "
	"current_setting('superuser_reserved_connections'), "
	"%s, %s, "
	"pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'), "
	"current_user, pg_backend_pid()";

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

/*
 * Failures that a server restart or a moment of network trouble explain
 * are retried within --retry-for.  libpq tries every address a host
 * name has and reports each: a server that answered with a FATAL error
 * (bad password, unknown role or database) will answer the same again,
 * whatever other addresses said, so that is never retried.
 */
static bool is_transient(const char *msg)
{
	static const char *const healing[] = {
		"the database system is starting up",
		"the database system is shutting down",
		"the database system is in recovery mode",
		"the database system is not yet accepting connections",
		"the database system is not accepting connections",
	};
	static const char *const network[] = {
		"Connection refused",
		"No such file or directory",
		"timeout expired",
		"Connection timed out",
		"server closed the connection unexpectedly",
		"No route to host",
		"Network is unreachable",
		"Connection reset by peer",
	};

	for (size_t i = 0; i < PGD_ARRAY_LEN(healing); i++) {
		if (strstr(msg, healing[i]) != NULL) {
			return true;
		}
	}
	if (strstr(msg, "FATAL:") != NULL) {
		return false;
	}
	for (size_t i = 0; i < PGD_ARRAY_LEN(network); i++) {
		if (strstr(msg, network[i]) != NULL) {
			return true;
		}
	}
	return false;
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

/* libpq's notices (a server shutting down says so) reach the user
 * through notice.c, which holds them while the live view owns the
 * terminal. */
static void on_notice(void *arg, const char *message)
{
	struct poller *p = arg;
	char line[400];

	one_line(line, sizeof(line), message, p->password);
	notice_say("server: %s", line);
}

static bool read_server_info(struct poller *p, PGresult *res,
			     struct errbuf *err)
{
	struct server_info *s = &p->server;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    PQnfields(res) != 9) {
		char msg[400];

		one_line(msg, sizeof(msg), PQresultErrorMessage(res),
			 p->password);
		errbuf_set(err, "cannot prepare the monitoring session: %s",
			   msg);
		return false;
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->version, sizeof(s->version), "%.*s",
		 (int)strcspn(PQgetvalue(res, 0, 0), " "),
		 PQgetvalue(res, 0, 0));
	s->version_num = parse_int(PQgetvalue(res, 0, 1),
				   PQserverVersion(p->conn));
	s->max_connections = parse_int(PQgetvalue(res, 0, 2), 0);
	s->superuser_reserved = parse_int(PQgetvalue(res, 0, 3), 0);
	s->reserved = parse_int(PQgetvalue(res, 0, 4), 0);
	/* idle_session_timeout is in milliseconds in pg_settings. */
	s->idle_session_timeout_s = PQgetisnull(res, 0, 5)
					    ? NAN
					    : units_parse_number(
						      PQgetvalue(res, 0, 5)) /
						      1000.0;
	s->can_read_all_stats = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	snprintf(s->current_user, sizeof(s->current_user), "%s",
		 PQgetvalue(res, 0, 7));
	p->server_backend_pid = parse_int(PQgetvalue(res, 0, 8), 0);
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

	one_line(msg, sizeof(msg),
		 p->conn != NULL ? PQerrorMessage(p->conn) : "out of memory",
		 p->password);
	p->needs_password = p->conn != NULL &&
			    PQconnectionNeedsPassword(p->conn) &&
			    !p->password_typed;
	*failure = is_slot_refusal(msg) ? POLL_FAILURE_SLOTS
		   : p->needs_password  ? POLL_FAILURE_PASSWORD
		   : is_transient(msg)  ? POLL_FAILURE_DOWN
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
	clear_shows(poller);
	PQfinish(poller->conn);
	memset(poller->password, 0, sizeof(poller->password));
	pidmap_finish(&poller->previous_rows);
	pidmap_finish(&poller->row_pids);
	free(poller);
}

enum poll_phase poll_phase(const struct poller *poller)
{
	return poller->phase;
}

int poll_socket(const struct poller *poller)
{
	return PQsocket(poller->conn);
}

short poll_events(const struct poller *poller)
{
	return poller->events;
}

int64_t poll_connect_timeout_ms(const struct poller *poller)
{
	return poller->connect_timeout_ms;
}

bool poll_needs_password(const struct poller *poller)
{
	return poller->needs_password;
}

bool poll_through_pooler(const struct poller *poller)
{
	return poller->pooled;
}

bool poll_socket_dir(const struct poller *poller, char *out, size_t size)
{
	const char *host = PQhost(poller->conn);

	if (host == NULL || host[0] != '/' || strlen(host) >= size) {
		return false;
	}
	memcpy(out, host, strlen(host) + 1);
	return true;
}

int poll_server_backend_pid(const struct poller *poller)
{
	return poller->console || poller->pooled ? 0
						 : poller->server_backend_pid;
}

int poll_server_port(const struct poller *poller)
{
	const char *port = PQport(poller->conn);
	int n = port != NULL ? atoi(port) : 0;

	/* An empty port is libpq's compiled-in default. */
	return n > 0 ? n : 5432;
}

const char *poll_server_label(const struct poller *poller)
{
	return poller->label;
}

/* Sends text as one simple query, without blocking on a full socket. */
static bool send_query(struct poller *p, const char *text, struct errbuf *err)
{
	int flushed;

	if (!PQsendQuery(p->conn, text)) {
		char msg[400];

		one_line(msg, sizeof(msg), PQerrorMessage(p->conn),
			 p->password);
		errbuf_set(err, "cannot send a query: %s", msg);
		return false;
	}
	flushed = PQflush(p->conn);
	p->flushing = flushed == 1;
	p->events = (short)(POLLIN | (p->flushing ? POLLOUT : 0));
	return flushed >= 0;
}

/* The changes a sample asks for: since the last one delivered, when
 * that is the sample the caller still holds; else everything. */
static double changes_since(const struct poller *p)
{
	if (p->previous == NULL || isnan(p->delivered_tx_epoch_s) ||
	    p->previous->server_tx_epoch_s != p->delivered_tx_epoch_s) {
		return 0;
	}
	return p->delivered_tx_epoch_s - DELTA_MARGIN_S;
}

/* The one statement a sample sends: the transaction, and the sample
 * query itself or, once prepared, its EXECUTE. */
static void build_sample_statement(struct poller *p, char *buf, size_t size)
{
	char since[64];

	snprintf(since, sizeof(since), "%.6f", p->since_epoch_s);
	if (p->prepared) {
		snprintf(buf, size, "%sEXECUTE pgdrip_sample(%s); COMMIT",
			 tx_begin, since);
	} else {
		char query[sizeof(p->query)];

		snprintf(query, sizeof(query), sample_sql, SAMPLE_QUERY_MAX,
			 since,
			 p->server.version_num >= 140000 ? sessions_sql : "");
		snprintf(buf, size, "%s%s; COMMIT", tx_begin, query);
	}
}

static bool start_sample(struct poller *poller, struct errbuf *err)
{
	char statement[sizeof(poller->query) + sizeof(tx_begin) + 128];

	if (poller->console) {
		poller->show = 0;
		if (!send_show(poller, err)) {
			return false;
		}
		poller->phase = POLL_PHASE_SAMPLING;
		poller->started_s = clock_mono_s();
		return true;
	}
	poller->reading = (struct sample_reading){0};
	build_sample_statement(poller, statement, sizeof(statement));
	if (!send_query(poller, statement, err)) {
		return false;
	}
	poller->phase = POLL_PHASE_SAMPLING;
	poller->started_s = clock_mono_s();
	return true;
}

bool poll_sample_start(struct poller *poller, const struct sample *previous,
		       struct errbuf *err)
{
	poller->previous = previous;
	poller->previous_indexed = false;
	poller->previous_next = 0;
	poller->since_epoch_s = changes_since(poller);
	return start_sample(poller, err);
}

/* Again, asking for everything. */
static bool restart_sample(struct poller *poller, struct errbuf *err)
{
	poller->since_epoch_s = 0;
	return start_sample(poller, err);
}

/* Reads what arrived; true when every result of the query is in. */
static bool results_ready(struct poller *p, bool *lost)
{
	*lost = false;
	if (p->flushing) {
		int flushed = PQflush(p->conn);

		if (flushed < 0) {
			*lost = true;
			return false;
		}
		p->flushing = flushed == 1;
		p->events = (short)(POLLIN | (p->flushing ? POLLOUT : 0));
	}
	if (!PQconsumeInput(p->conn)) {
		*lost = true;
		return false;
	}
	return !PQisBusy(p->conn);
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
	s->backend_start_us = session_start_us(
		units_parse_number(value(res, row, COL_BACKEND_START)));
	s->xact_start_epoch_s = units_parse_number(
		value(res, row, COL_XACT_START));
	s->state_change_epoch_s = units_parse_number(
		value(res, row, COL_STATE_CHANGE));
	s->query_start_epoch_s = units_parse_number(
		value(res, row, COL_QUERY_START));
	s->query = sample_strndup_utf8(sample, value(res, row, COL_QUERY),
				       SAMPLE_QUERY_MAX);
}

/* The last sample's session pid, copied into sample; NULL when the
 * last sample has no such pid (it cannot be trusted to hold the rest:
 * the sample is asked for again, whole). */
static struct session *copy_unchanged(struct poller *p, struct sample *sample,
				      int pid)
{
	const struct sample *prev = p->previous;
	struct session *s;
	size_t i;

	if (prev == NULL) {
		return NULL;
	}
	if (!p->previous_indexed) {
		pidmap_reset(&p->previous_rows, prev->session_count);
		for (size_t k = 0; k < prev->session_count; k++) {
			pidmap_put(&p->previous_rows, prev->sessions[k].pid, k);
		}
		p->previous_indexed = true;
	}
	/* Rows come in the server's slot order, the same from sample to
	 * sample: the row after the last one found is nearly always it. */
	i = p->previous_next;
	if (i >= prev->session_count || prev->sessions[i].pid != pid) {
		if (!pidmap_get(&p->previous_rows, pid, &i)) {
			return NULL;
		}
	}
	p->previous_next = i + 1;
	s = sample_add_copy(sample, &prev->sessions[i]);
	/* Attribution looks the client up anew (from its own cache). */
	s->client_pid = 0;
	s->client_command = "";
	s->client_relation = CLIENT_RELATION_UNRELATED;
	return s;
}

/* An unchanged session ('u'), with its wait event as now. */
static bool add_unchanged(struct poller *p, struct sample *sample,
			  PGresult *res, int row)
{
	struct session *s = copy_unchanged(p, sample,
					   parse_int(value(res, row, COL_PID),
						     0));

	if (s == NULL) {
		return false;
	}
	s->wait_event_type = sample_strdup(sample,
					   value(res, row, COL_WAIT_TYPE));
	s->wait_event = sample_strdup(sample, value(res, row, COL_WAIT));
	return true;
}

/* The unchanged idle sessions: the pids of the 'U' row (a comma list,
 * NULL for none) that are no row of this sample. */
static bool add_unchanged_idle(struct poller *p, struct sample *sample,
			       const char *pids)
{
	const char *at = pids;
	size_t ignored;

	while (at != NULL && *at != '\0') {
		char *end;
		long pid = strtol(at, &end, 10);

		if (end == at || pid <= 0 || pid > INT_MAX ||
		    (*end != ',' && *end != '\0')) {
			return false;
		}
		if (!pidmap_get(&p->row_pids, (int)pid, &ignored) &&
		    copy_unchanged(p, sample, (int)pid) == NULL) {
			return false;
		}
		at = *end == ',' ? end + 1 : end;
	}
	return true;
}

/* The rows into the sample; false when an unchanged row could not be
 * filled in. */
static bool fill_sample(struct poller *poller, struct sample *sample,
			PGresult *res)
{
	int rows = PQntuples(res);
	const char *unchanged_idle = NULL;

	sample_reset(sample);
	sample->server = poller->server;
	pidmap_reset(&poller->row_pids, (size_t)rows);
	for (int r = 0; r < rows; r++) {
		const char *kind = PQgetvalue(res, r, COL_KIND);

		if (kind[0] == 's' || kind[0] == 'u' || kind[0] == 'b') {
			/* A session, changed or busy, or not a session ('b'):
			 * whatever the list says, not an unchanged idle one. */
			int pid = parse_int(value(res, r, COL_PID), 0);

			if (pid > 0) {
				pidmap_put(&poller->row_pids, pid, 0);
			}
		}
		if (kind[0] == 's') {
			add_session(sample, res, r);
		} else if (kind[0] == 'u') {
			if (!add_unchanged(poller, sample, res, r)) {
				return false;
			}
		} else if (kind[0] == 'U') {
			unchanged_idle = value(res, r, COL_PID);
		} else if (kind[0] == 'n') {
			sample->server_epoch_s = units_parse_number(
				value(res, r, COL_BACKEND_START));
			sample->server_tx_epoch_s = units_parse_number(
				value(res, r, COL_XACT_START));
		} else if (kind[0] == 'x') {
			sample->sessions_opened_total = units_parse_number(
				value(res, r, COL_BACKEND_START));
		} else if (kind[0] == 'r') {
			sample_add_role_limit(sample, value(res, r, COL_USER),
					      parse_int(value(res, r, COL_APP),
							-1));
		} else if (kind[0] == 'd') {
			sample_add_db_limit(sample, value(res, r, COL_USER),
					    parse_int(value(res, r, COL_APP),
						      -1));
		}
	}
	/* Once every row is in, so that a pid listed is known to be no
	 * row; the list comes whatever the rows' order. */
	if (!add_unchanged_idle(poller, sample, unchanged_idle)) {
		return false;
	}
	sample_set_ages(sample);
	sample->taken_at_epoch_s = clock_wall_s();
	/* The round trip: the server's work and the wire's, as a floor
	 * measured by pgbench counts it; what we do with the rows is our
	 * CPU, counted apart. */
	sample->elapsed_ms = (poller->received_s - poller->started_s) * 1000;
	sample->status = SAMPLE_STATUS_OK;
	return true;
}

static enum poll_status lost(struct poller *p, enum poll_failure *failure,
			     struct errbuf *err)
{
	char msg[400];

	one_line(msg, sizeof(msg), PQerrorMessage(p->conn), p->password);
	*failure = POLL_FAILURE_LOST;
	errbuf_set(err, "lost the connection: %s", msg);
	return POLL_STATUS_ERROR;
}

/* The sample's results: the rows, or the first error. */
static enum poll_status read_sample(struct poller *p, struct sample *sample,
				    enum poll_failure *failure,
				    struct errbuf *err)
{
	struct sample_reading *r = &p->reading;
	PGresult *res;

	/* Each result as it is whole: PQgetResult() would block for the
	 * rest of a large one (the transaction's first results come ahead
	 * of the rows), and a server stalling then would stall the loop. */
	while (!PQisBusy(p->conn) && (res = PQgetResult(p->conn)) != NULL) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQnfields(res) == COL_COUNT) {
			p->received_s = clock_mono_s();
			r->got = fill_sample(p, sample, res);
			r->incomplete = !r->got;
			p->delivered_tx_epoch_s =
				r->got ? sample->server_tx_epoch_s : NAN;
		} else if (p->prepared && state != NULL &&
			   strcmp(state, "26000") == 0) {
			/* The prepared statement is gone: DISCARD ALL, or
			 * a pooler put us on another server.  Plain queries
			 * from now on. */
			p->prepared = false;
			r->retry = true;
		} else if (PQresultStatus(res) == PGRES_FATAL_ERROR &&
			   r->msg[0] == '\0') {
			one_line(r->msg, sizeof(r->msg),
				 PQresultErrorMessage(res), p->password);
		}
		PQclear(res);
	}
	if (PQisBusy(p->conn) && PQstatus(p->conn) == CONNECTION_OK) {
		return POLL_STATUS_WAIT;
	}
	/* Every result is in (start_sample() clears what they said for
	 * the next statement). */
	if (PQstatus(p->conn) != CONNECTION_OK) {
		return lost(p, failure, err);
	}
	if (PQtransactionStatus(p->conn) != PQTRANS_IDLE) {
		/* An error skipped the COMMIT: end the transaction before
		 * anything else, and only then say what failed. */
		snprintf(p->failed_msg, sizeof(p->failed_msg), "%s",
			 r->retry ? "" : r->msg);
		p->rolling_back = true;
		return send_query(p, "ROLLBACK", err) ? POLL_STATUS_WAIT
						      : lost(p, failure, err);
	}
	if (r->got) {
		p->phase = POLL_PHASE_READY;
		p->events = 0;
		return POLL_STATUS_DONE;
	}
	if (r->incomplete && p->since_epoch_s > 0) {
		return restart_sample(p, err) ? POLL_STATUS_WAIT
					      : lost(p, failure, err);
	}
	if (r->incomplete) {
		/* Asked for everything and still a pid without a row: a
		 * server we do not understand; asking again would spin. */
		snprintf(r->msg, sizeof(r->msg),
			 "a pid in the server's list came with no row");
	}
	if (r->retry) {
		return start_sample(p, err) ? POLL_STATUS_WAIT
					    : lost(p, failure, err);
	}
	p->phase = POLL_PHASE_READY;
	p->events = 0;
	*failure = POLL_FAILURE_QUERY;
	errbuf_set(err, "sample query failed: %s", r->msg);
	return POLL_STATUS_ERROR;
}

static enum poll_status after_rollback(struct poller *p,
				       enum poll_failure *failure,
				       struct errbuf *err)
{
	PGresult *res;

	while ((res = PQgetResult(p->conn)) != NULL) {
		PQclear(res);
	}
	p->rolling_back = false;
	if (PQstatus(p->conn) != CONNECTION_OK ||
	    PQtransactionStatus(p->conn) != PQTRANS_IDLE) {
		return lost(p, failure, err);
	}
	if (p->failed_msg[0] == '\0') {
		/* The prepared statement was missing: try again plainly. */
		return start_sample(p, err) ? POLL_STATUS_WAIT
					    : lost(p, failure, err);
	}
	p->phase = POLL_PHASE_READY;
	p->events = 0;
	*failure = POLL_FAILURE_QUERY;
	errbuf_set(err, "sample query failed: %s", p->failed_msg);
	return POLL_STATUS_ERROR;
}

/* ---- PgBouncer's admin console ---- */

static void clear_shows(struct poller *p)
{
	for (size_t i = 0; i < PGD_ARRAY_LEN(p->shows); i++) {
		PQclear(p->shows[i]);
		p->shows[i] = NULL;
	}
}

static bool send_show(struct poller *p, struct errbuf *err)
{
	return send_query(p, bouncer_show_command((enum bouncer_show)p->show),
			  err);
}

/* This host's offset east of UTC now (seconds), without tm_gmtoff. */
static long local_utc_offset_s(void)
{
	time_t now = time(NULL);
	struct tm utc;
	time_t as_local;

	if (gmtime_r(&now, &utc) == NULL) {
		return 0;
	}
	utc.tm_isdst = -1;
	as_local = mktime(&utc);
	return as_local == (time_t)-1 ? 0 : (long)difftime(now, as_local);
}

/* Our own connection as the console lists it: our local TCP port, or
 * over a unix socket our pid. */
static void console_self(const struct poller *p, struct bouncer_self *me)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);

	memset(me, 0, sizeof(*me));
	me->pid = (int)getpid();
	me->utc_offset_s = local_utc_offset_s();
	if (getsockname(PQsocket(p->conn), (struct sockaddr *)&local, &len) !=
	    0) {
		return;
	}
	if (local.ss_family == AF_INET) {
		me->tcp_port = ntohs(((struct sockaddr_in *)&local)->sin_port);
	} else if (local.ss_family == AF_INET6) {
		me->tcp_port = ntohs(
			((struct sockaddr_in6 *)&local)->sin6_port);
	}
}

/* One result as bouncer.c reads it: pointers into the PGresult. */
static void add_show(struct sample *sample, enum bouncer_show show,
		     const PGresult *res, const struct bouncer_self *me)
{
	size_t cols = (size_t)PQnfields(res);
	size_t rows = (size_t)PQntuples(res);
	const char **names = xcalloc(cols + 1, sizeof(*names));
	const char **cells = xcalloc(rows * cols + 1, sizeof(*cells));
	struct bouncer_table table = {cols, rows, names, cells};

	for (size_t c = 0; c < cols; c++) {
		names[c] = PQfname(res, (int)c);
	}
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < cols; c++) {
			cells[r * cols + c] = value((PGresult *)(uintptr_t)res,
						    (int)r, (int)c);
		}
	}
	bouncer_sample_add(sample, show, &table, me);
	free(names);
	free(cells);
}

static void fill_console_sample(struct poller *p, struct sample *sample)
{
	struct bouncer_self me;
	/* One moment: the clients' ages and the sample's time agree, as
	 * the server's clock row does for a server. */
	double now = clock_wall_s();

	console_self(p, &me);
	bouncer_sample_begin(sample, &p->server, now);
	for (int i = 0; i < BOUNCER_SHOW_COUNT; i++) {
		add_show(sample, (enum bouncer_show)i, p->shows[i], &me);
	}
	bouncer_sample_end(sample);
	clear_shows(p);
	sample->taken_at_epoch_s = now;
	sample->elapsed_ms = (clock_mono_s() - p->started_s) * 1000;
	sample->status = SAMPLE_STATUS_OK;
}

/* A command's result is in: keep it, then send the next command or,
 * after the last, read them all into the sample. */
static enum poll_status read_console(struct poller *p, struct sample *sample,
				     enum poll_failure *failure,
				     struct errbuf *err)
{
	PGresult *res;
	char msg[400] = "";

	while ((res = PQgetResult(p->conn)) != NULL) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    p->shows[p->show] == NULL) {
			p->shows[p->show] = res;
			continue;
		}
		if (PQresultStatus(res) == PGRES_FATAL_ERROR &&
		    msg[0] == '\0') {
			one_line(msg, sizeof(msg), PQresultErrorMessage(res),
				 p->password);
		}
		PQclear(res);
	}
	if (PQstatus(p->conn) != CONNECTION_OK) {
		clear_shows(p);
		return lost(p, failure, err);
	}
	if (p->shows[p->show] == NULL) {
		errbuf_set(err, "%s failed on the admin console: %s",
			   bouncer_show_command((enum bouncer_show)p->show),
			   msg[0] != '\0' ? msg : "no rows came back");
		clear_shows(p);
		p->phase = POLL_PHASE_READY;
		p->events = 0;
		*failure = POLL_FAILURE_QUERY;
		return POLL_STATUS_ERROR;
	}
	if (++p->show < BOUNCER_SHOW_COUNT) {
		return send_show(p, err) ? POLL_STATUS_WAIT
					 : lost(p, failure, err);
	}
	fill_console_sample(p, sample);
	p->phase = POLL_PHASE_READY;
	p->events = 0;
	return POLL_STATUS_DONE;
}

/* Connected to the console: nothing to set up (it runs no SQL); the
 * limits come with every sample. */
static enum poll_status console_connected(struct poller *p)
{
	bouncer_server_info(&p->server,
			    PQparameterStatus(p->conn, "server_version"),
			    PQuser(p->conn));
	p->console = true;
	p->phase = POLL_PHASE_READY;
	p->events = 0;
	return POLL_STATUS_DONE;
}

/* Prepared once: parsing and planning the UNION over three views costs
 * more than running it (0.9 ms against 0.13 ms, measured here).  Never
 * through a pooler: the statement would stay on a server connection
 * other clients share. */
static enum poll_status after_setup(struct poller *p,
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
	snprintf(p->query, sizeof(p->query), sample_sql, SAMPLE_QUERY_MAX, "$1",
		 p->server.version_num >= 140000 ? sessions_sql : "");
	if (p->pooled || p->one_shot) {
		p->phase = POLL_PHASE_READY;
		p->events = 0;
		return POLL_STATUS_DONE;
	}
	if (!PQsendPrepare(p->conn, "pgdrip_sample", p->query, 1, since_type)) {
		return lost(p, failure, err);
	}
	p->flushing = PQflush(p->conn) == 1;
	p->events = (short)(POLLIN | (p->flushing ? POLLOUT : 0));
	p->step = STEP_PREPARE;
	return POLL_STATUS_WAIT;
}

static enum poll_status after_prepare(struct poller *p)
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

static enum poll_status advance_connect(struct poller *p,
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
		return lost(p, failure, err);
	}
	make_label(p);
	if (bouncer_is_console(PQparameterStatus(p->conn, "server_version"))) {
		return console_connected(p);
	}
	version = PQserverVersion(p->conn);
	snprintf(setup, sizeof(setup), setup_sql,
		 version >= 160000 ? "current_setting('reserved_connections')"
				   : "'0'",
		 version >= 140000 ? "(SELECT setting FROM pg_settings WHERE "
				     "name = 'idle_session_timeout')"
				   : "NULL");
	if (!send_query(p, setup, err)) {
		return lost(p, failure, err);
	}
	p->step = STEP_SETUP;
	return POLL_STATUS_WAIT;
}

enum poll_status poll_advance(struct poller *poller, struct sample *sample,
			      enum poll_failure *failure, struct errbuf *err)
{
	bool gone;

	*failure = POLL_FAILURE_NONE;
	if (poller->phase == POLL_PHASE_READY) {
		return POLL_STATUS_DONE;
	}
	if (poller->phase == POLL_PHASE_CONNECTING &&
	    poller->step == STEP_CONNECT) {
		return advance_connect(poller, failure, err);
	}
	if (!results_ready(poller, &gone)) {
		return gone ? lost(poller, failure, err) : POLL_STATUS_WAIT;
	}
	if (poller->phase == POLL_PHASE_CONNECTING) {
		return poller->step == STEP_SETUP
			       ? after_setup(poller, failure, err)
			       : after_prepare(poller);
	}
	if (poller->rolling_back) {
		return after_rollback(poller, failure, err);
	}
	if (poller->console) {
		return read_console(poller, sample, failure, err);
	}
	return read_sample(poller, sample, failure, err);
}
