/*
 * sample.h - one look at the server: its client sessions, its limits and
 * a few settings, as raw bytes exactly as the server sent them.
 *
 * The poller (libpq) and the record reader (--replay) both fill a struct
 * sample; everything downstream (grouping, history, reports) reads it.
 * Escaping for display happens only in text.c and json.c.
 */
#ifndef PGDRIP_SAMPLE_H
#define PGDRIP_SAMPLE_H

#include "arena.h"
#include "common.h"

#include <stdint.h>

/* Query text is cut to this many bytes at ingest (the SQL cuts first). */
enum { SAMPLE_QUERY_MAX = 256 };

enum session_state {
	SESSION_STATE_ACTIVE,
	SESSION_STATE_IDLE,
	SESSION_STATE_IDLE_TX,
	SESSION_STATE_IDLE_TX_ABORTED,
	/* fastpath function call, disabled, starting: rare, lumped together */
	SESSION_STATE_OTHER,
	/* a pooler's client queued for a server connection (PgBouncer's
	 * cl_waiting): the pool is exhausted for it */
	SESSION_STATE_WAITING,
	/* the server hid it from us (no pg_read_all_stats) */
	SESSION_STATE_UNKNOWN,
	SESSION_STATE_COUNT
};

/* pg_stat_activity's spelling ("idle in transaction"), or "unknown". */
const char *sample_state_name(enum session_state state);
/* The JSON key ("idle_in_transaction"). */
const char *sample_state_key(enum session_state state);
/* From pg_stat_activity.state; NULL gives SESSION_STATE_UNKNOWN. */
enum session_state sample_state_parse(const char *state);
/* From sample_state_key() spelling, for --replay; false when unknown. */
bool sample_state_from_key(const char *key, enum session_state *out);

/* How a client process stands to the command pgdrip wraps. */
enum client_relation {
	CLIENT_RELATION_UNRELATED, /* not wrapping, or another process */
	CLIENT_RELATION_COMMAND,   /* the wrapped command itself */
	CLIENT_RELATION_DESCENDANT /* a child, grandchild... of it */
};

/* "unrelated", "command", "descendant". */
const char *sample_relation_name(enum client_relation relation);
/* From that spelling, for --replay; false when unknown. */
bool sample_relation_parse(const char *name, enum client_relation *out);

/*
 * One client backend.  Strings point into the owning sample's arena and
 * are never NULL ("" when the server sent NULL).  Ages are in seconds,
 * measured by the server's clock at sample time; NAN when unknown or not
 * applicable.
 */
struct session {
	int pid;
	/* How many sessions this one stands for: 1 for a polled session;
	 * more for an aggregated row read back from a --record file. */
	int weight;
	const char *user;
	const char *app;
	const char *db;
	const char *client_addr; /* "" for a unix socket or when hidden */
	int client_port;         /* -1 unix socket, 0 unknown */
	enum session_state state;
	const char *wait_event_type;
	const char *wait_event;
	double backend_age_s;      /* now - backend_start */
	double xact_age_s;         /* now - xact_start */
	double state_age_s;        /* now - state_change: "idle for" */
	double query_age_s;        /* now - query_start */
	double xact_start_epoch_s; /* identifies the transaction; NAN if none */
	/* The session's identity with pid (session.h): when the server
	 * started it, in epoch microseconds, SESSION_START_UNKNOWN when
	 * hidden.  Then moments as server wall-clock seconds (NAN unknown):
	 * its last use moves query_start and state_change. */
	int64_t backend_start_us;
	double state_change_epoch_s;
	double query_start_epoch_s;
	const char *query; /* at most SAMPLE_QUERY_MAX bytes */
	/* The local process at the client end of the connection, when
	 * attribution looked it up and found it; client_pid 0 otherwise. */
	int client_pid;
	const char *client_command; /* its command line, raw bytes; "" */
	enum client_relation client_relation;
	/* A PgBouncer client (the console's SHOW CLIENTS): its ptr, which
	 * SHOW SERVERS' link names; "" elsewhere. */
	const char *pooler_ptr;
	/* A server session held by a pooler's process: that process's pid
	 * (0 none).  Its client process is then the pooler, or, when both
	 * are watched and the pooler shows which of its clients pins the
	 * connection, that client's process; pooler_client is then the
	 * client as the pooler sees it ("10.0.0.7:53448", "local"; ""). */
	int pooler_pid;
	const char *pooler_client;
};

/* A role's or a database's CONNECTION LIMIT (only those that set one). */
struct named_limit {
	const char *name; /* arena */
	int limit;
};

/* Where a sample comes from. */
enum sample_source {
	SAMPLE_SOURCE_SERVER,    /* a PostgreSQL server: pg_stat_activity */
	SAMPLE_SOURCE_PGBOUNCER, /* PgBouncer's admin console: SHOW CLIENTS */
};

/* "postgresql", "pgbouncer" (JSON); false from an unknown spelling. */
const char *sample_source_key(enum sample_source source);
bool sample_source_from_key(const char *key, enum sample_source *out);

struct server_info {
	/* On PgBouncer's console the sessions are its client connections,
	 * version is PgBouncer's ("1.18.0"), max_connections its
	 * max_client_conn and current_user the console user. */
	enum sample_source source;
	char version[64]; /* "15.18" */
	int version_num;  /* 150018 */
	int max_connections;
	int superuser_reserved;        /* superuser_reserved_connections */
	int reserved;                  /* reserved_connections (16+), else 0 */
	double idle_session_timeout_s; /* 0 when off; NAN unknown (<14) */
	bool can_read_all_stats;       /* superuser or pg_read_all_stats */
	char current_user[128];        /* who pgdrip is connected as */
};

/* max_connections - superuser_reserved - reserved, never below 0. */
int sample_usable_connections(const struct server_info *server);

/*
 * What PgBouncer's admin console adds to a sample: its pools, its server
 * connections and its limits.  Strings are in the sample's arena, never
 * NULL; counts are -1 where the version does not show them.
 */
struct pooler_pool { /* a SHOW POOLS row */
	const char *database;
	const char *user;
	const char *mode; /* "session", "transaction", "statement" */
	int cl_active;
	int cl_waiting;
	int sv_active;
	int sv_idle;
	int sv_used;
	int sv_tested;
	int sv_login;
	double maxwait_s; /* the oldest waiting client's wait; 0 none */
	int pool_size;    /* its effective pool_size; -1 unknown */
};

struct pooler_server { /* a SHOW SERVERS row */
	const char *ptr;
	const char *link; /* the client it serves now; "" none */
	const char *database;
	const char *user;
	const char *state; /* "active", "idle", "used", ... */
	const char *app;
	const char *addr; /* the server's address; "" a unix socket */
	int port;
	int local_port; /* pg_stat_activity.client_port over TCP; 0 */
	int remote_pid; /* the backend's pid (0 unknown) */
};

/* PgBouncer's limits per database and per user, on server connections
 * (max_db_connections, max_user_connections) or, from 1.24, on client
 * connections (max_db_client_connections, max_user_client_connections). */
enum pooler_limit_kind {
	POOLER_LIMIT_DB_SERVERS,
	POOLER_LIMIT_USER_SERVERS,
	POOLER_LIMIT_DB_CLIENTS,
	POOLER_LIMIT_USER_CLIENTS,
	POOLER_LIMIT_KIND_COUNT
};

/* One of them that is set (0 is "no limit" and not kept), with how many
 * it counts now (-1 unknown). */
struct pooler_limit {
	enum pooler_limit_kind kind;
	const char *name; /* the database or the user */
	int limit;
	int used;
};

struct pooler_info {
	int max_client_conn;          /* -1 unknown */
	int default_pool_size;        /* -1 unknown */
	double client_idle_timeout_s; /* 0 off; NAN unknown */
	struct pooler_pool *pools;    /* owned */
	size_t pool_count;
	size_t pool_cap;
	struct pooler_server *servers; /* owned */
	size_t server_count;
	size_t server_cap;
	struct pooler_limit *limits; /* owned */
	size_t limit_count;
	size_t limit_cap;
};

enum sample_status {
	SAMPLE_STATUS_OK,
	SAMPLE_STATUS_LATE,   /* taken, but past its deadline */
	SAMPLE_STATUS_FAILED, /* no data: query failed or connection lost */
};

/*
 * What a test runner told a wrapping pgdrip (tests.h), carried by the
 * sample that answered it: a boundary's moment is that sample's.
 */
enum sample_mark_kind {
	SAMPLE_MARK_START,     /* a test began in process pid */
	SAMPLE_MARK_END,       /* it ended */
	SAMPLE_MARK_SETUP,     /* a shared set-up began (a wider fixture) */
	SAMPLE_MARK_SETUP_END, /* it ended */
	SAMPLE_MARK_PHASE,     /* pid's test goes on to its next phase */
	SAMPLE_MARK_SETTLED,   /* pid's last end, confirmed by this sample */
	SAMPLE_MARK_PARENT,    /* process pid's parent is ppid */
	SAMPLE_MARK_KIND_COUNT
};

struct sample_mark {
	enum sample_mark_kind kind;
	int pid;
	int ppid;         /* SAMPLE_MARK_PARENT; else 0 */
	const char *name; /* the sample's arena; "" when it has none */
};

/* "start", "end", "setup", "setup-end", "phase", "settled", "parent". */
const char *sample_mark_name(enum sample_mark_kind kind);
/* From that spelling; false when unknown. */
bool sample_mark_parse(const char *name, enum sample_mark_kind *out);

/* A line a client hook sent (wrap mode's PGDRIP_HOOKS, clientfacts.h),
 * its bytes as they came, carried by the next sample so that --record
 * keeps it and a replay folds it in at the same point. */
struct sample_hook_line {
	const char *text; /* the sample's arena; NUL-terminated */
	size_t len;
};

struct sample {
	double taken_at_epoch_s; /* wall clock when the query returned */
	double elapsed_ms;       /* query round trip */
	double server_epoch_s;   /* the server's clock as it answered; NAN */
	/* When the sample's transaction began on the server's clock (before
	 * it read pg_stat_activity): what the next sample asks for changes
	 * since.  NAN unknown. */
	double server_tx_epoch_s;
	/* Sessions every database ever had (pg_stat_database.sessions,
	 * PostgreSQL 14 on): the exact churn; NAN unknown. */
	double sessions_opened_total;
	/* The analysis interval in force when the sample was taken (the
	 * configured --interval as the live view's +/- left it; not wrap
	 * mode's faster schedule), seconds; 0 or NAN unknown. */
	double interval_s;
	enum sample_status status;
	struct server_info server;
	struct session *sessions; /* owned */
	size_t session_count;
	size_t session_cap;
	struct named_limit *role_limits; /* owned */
	size_t role_limit_count;
	size_t role_limit_cap;
	struct named_limit *db_limits; /* owned */
	size_t db_limit_count;
	size_t db_limit_cap;
	struct sample_mark *marks; /* owned; in the order they came */
	size_t mark_count;
	size_t mark_cap;
	struct sample_hook_line *hook_lines; /* owned; in the order they came */
	size_t hook_line_count;
	size_t hook_line_cap;
	/* Wrap mode: the wrapped command started or ended since the last
	 * sample (wall clock epoch seconds; NAN when not), its line (masked)
	 * and exit status.  What --record keeps so that a replay judges the
	 * command's run as the live run did. */
	double command_started_epoch_s;
	double command_ended_epoch_s;
	const char *command_line;  /* arena; "" */
	int command_status;        /* -1 unknown */
	struct pooler_info pooler; /* SAMPLE_SOURCE_PGBOUNCER only */
	struct arena arena;        /* owns every string above */
};

/* The number of sessions the sample holds (the sum of weights). */
int sample_session_total(const struct sample *sample);

void sample_init(struct sample *sample);
void sample_finish(struct sample *sample);
/* Empties the sample for reuse, keeping its buffers. */
void sample_reset(struct sample *sample);

/*
 * Appends a session and returns it, zeroed but for the ages (NAN) and the
 * strings (""): fill its fields, using sample_strdup() for strings.
 */
struct session *sample_add_session(struct sample *sample);
/* A copy of another sample's session, its strings into this sample. */
struct session *sample_add_copy(struct sample *sample,
				const struct session *from);
void sample_add_role_limit(struct sample *sample, const char *name, int limit);
void sample_add_db_limit(struct sample *sample, const char *name, int limit);
/* Appends a runner's mark (name copied; NULL gives ""). */
void sample_add_mark(struct sample *sample, enum sample_mark_kind kind, int pid,
		     int ppid, const char *name);
/* Appends a client hook's line (len bytes of text copied). */
void sample_add_hook_line(struct sample *sample, const char *text, size_t len);
/* Appends a pool (counts -1, strings "", maxwait NAN), a server
 * (zeroed, strings "") or a pooler limit, to fill in. */
struct pooler_pool *sample_add_pool(struct sample *sample);
struct pooler_server *sample_add_pooler_server(struct sample *sample);
void sample_add_pooler_limit(struct sample *sample, enum pooler_limit_kind kind,
			     const char *name, int limit, int used);

/* Copies s (NULL gives "") into the sample's arena. */
const char *sample_strdup(struct sample *sample, const char *s);
/* Copies at most max bytes, not cutting a UTF-8 sequence in half. */
const char *sample_strndup_utf8(struct sample *sample, const char *s,
				size_t max);

/* Every session's ages from its moments and the server's clock
 * (server_epoch_s): what the poller and a replay both derive. */
void sample_set_ages(struct sample *sample);

/* Deep copy (dst must be initialised; its old contents are dropped). */
void sample_copy(struct sample *dst, const struct sample *src);

#endif
