/*
 * report.h - the one view model every output draws: the text and JSON
 * reports, the check lines, and (later) the live view.
 *
 * report_build() turns the history, the last sample and the thresholds
 * into plain data; renderers only format it.  pipeline_report() is the
 * one caller: it adds what the run has to say.  The report owns copies of
 * every string it holds, as raw bytes: renderers escape them through
 * text.c or json.c.
 */
#ifndef PGDRIP_REPORT_H
#define PGDRIP_REPORT_H

#include "arena.h"
#include "check.h"
#include "clientfacts.h"
#include "history.h"
#include "tracker.h"
#include "match.h"
#include "sample.h"
#include "trend.h"

enum limit_kind {
	LIMIT_KIND_SERVER,   /* usable connections */
	LIMIT_KIND_ROLE,     /* a role's CONNECTION LIMIT */
	LIMIT_KIND_DATABASE, /* a database's CONNECTION LIMIT */
	/* PgBouncer's console: its max_client_conn (first, where the
	 * server is), a pool's pool_size ("database/user"), a database's or
	 * a user's max_db_connections / max_user_connections (on server
	 * connections) and, from 1.24, max_db_client_connections /
	 * max_user_client_connections (on client connections). */
	LIMIT_KIND_CLIENTS,
	LIMIT_KIND_POOL,
	LIMIT_KIND_POOL_DATABASE,
	LIMIT_KIND_POOL_USER,
	LIMIT_KIND_CLIENT_DATABASE,
	LIMIT_KIND_CLIENT_USER,
};

/* "server", "role", "database", "clients", "pool", "pool_database",
 * "pool_user", "client_database", "client_user". */
const char *report_limit_kind_name(enum limit_kind kind);

/* How close one limit is to exhaustion (all sessions, unfiltered). */
struct report_limit {
	enum limit_kind kind;
	const char *name; /* "" for the server */
	int limit;
	int used;
	double usage_pct; /* 100 when limit is 0 and used > 0 */
	bool near_limit;  /* report_judge(): usage_pct past the rule */
};

/* The local process at the client end of sessions; pid 0 when none was
 * traced (attribution off, not local, or not found: the warnings say). */
struct report_process {
	int pid;
	const char *command; /* raw bytes, "" unknown */
	enum client_relation relation;
	/* Through a pooler (a session's, not a group's): the pooler's pid
	 * (0 none, -1 unknown) and its client pinning the server connection
	 * ("10.0.0.7:53448", "local"; "" unknown). */
	int via_pid;
	const char *via_client;
};

/* Points of a group's recent history a report carries (sparklines). */
enum { REPORT_RECENT_POINTS = 32 };

/* Sessions listed as a group's evidence, at most. */
enum { REPORT_EVIDENCE_MAX = 20 };

/*
 * A session the verdict rests on: abandoned (passed over and unused
 * since), or in wrap mode one the command left so.  Moments are the
 * server's epoch seconds.
 */
struct report_evidence {
	int pid;
	const char *database;
	double opened_epoch_s;
	double last_used_epoch_s;
	double unused_s;       /* from its last use to its close or now */
	double closed_epoch_s; /* NAN while open */
	enum session_state state;
	const char *query; /* its last query */
	struct report_process client;
};

struct report_group {
	const char *keys[GROUP_KEY_COUNT]; /* NULL for keys not grouped by */
	/* The sum of the groups past --max-groups (report_fold()); its
	 * keys are then REPORT_OTHER. */
	bool other;
	int connections; /* at the last sample */
	int baseline;
	int peak;
	int minimum;
	/* Wrap mode: the sessions the command left unused (closed since or
	 * not: they may all close as it exits); 0 otherwise. */
	int leaked;
	/* Wrap mode: connections - baseline when positive, what is still
	 * open at the end; 0 otherwise. */
	int open_after;
	int states[SESSION_STATE_COUNT];
	double oldest_idle_tx_s; /* NAN none */
	double oldest_xact_s;
	struct trend_result trend;
	/* Run-relative; NAN never.  Wrap mode: when the run's verdict
	 * first held (the shortest flagged part of the run). */
	double first_flagged_s;
	/* The nearest limit this group runs into at its slope; NAN/INF when
	 * not growing.  forecast_kind/name say which limit. */
	double forecast_s;
	enum limit_kind forecast_kind;
	const char *forecast_name;
	int forecast_limit;
	/* The role's CONNECTION LIMIT when grouped by user and one is set,
	 * else -1; usage of it by the whole role. */
	int role_limit;
	double role_usage_pct;
	int db_limit;
	double db_usage_pct;
	/* Who held most of the group's traced sessions, the most it held at
	 * once, and when it was last seen holding them (run-relative). */
	struct report_process holder;
	int holder_sessions;
	double holder_seen_s;
	/* The newest points of the window series, oldest first, for a
	 * sparkline. */
	float recent[REPORT_RECENT_POINTS];
	size_t recent_count;

	/* The verdict (verdict.c; wrap mode: the command's sessions over
	 * its run).  trend above is the count's second opinion. */
	bool flagged;
	const char *verdict; /* "ok", "leaking", "stuck" */
	bool by_sessions;    /* false: it rests on the count alone */
	struct group_sessions sessions;
	/* REPORT_FLAG_* (report_judge.h): what every renderer shows. */
	unsigned flags;
	struct report_evidence *evidence; /* in the arena; oldest use first */
	size_t evidence_count; /* listed, at most REPORT_EVIDENCE_MAX */
	int evidence_total;    /* of which there are in all */
	/* Churn: sessions opened per minute lately, and how long those
	 * seen closing lived; NAN unknown. */
	double opened_per_min;
	double median_lifetime_s;
	int closed_seen;
	/* Sessions seen idle in a transaction past --idle-tx-age at any
	 * sample (wrap mode: the command's). */
	int idle_tx_over_age;
	/* --max-unused: open sessions (wrap mode: the command's) unused for
	 * its age or longer at the last sample, and those whose last use
	 * the server hid (no pg_read_all_stats). */
	int unused_over_age;
	int unused_hidden;
};

/* The key value of the group (and breakdown row) that sums the rest. */
#define REPORT_OTHER "__other__"

/*
 * Sessions of the last sample per user, application, database and state,
 * filtered as the groups are.  The groups cannot give this: they are
 * keyed by --group-by (user,app by default), so the database is lost,
 * and their states are per group only.  Only combinations present.
 */
struct report_breakdown {
	const char *user;
	const char *app;
	const char *db;
	enum session_state state;
	int connections;
	bool other; /* the sum of the rows past --max-groups */
};

struct report_session {
	int pid;
	const char *user;
	const char *app;
	const char *db;
	const char *client_addr;
	int client_port;
	enum session_state state;
	double idle_s;      /* now - state_change */
	double xact_age_s;  /* now - xact_start; NAN for aborted ones */
	double stuck_for_s; /* seen idle in this same transaction for; NAN */
	bool over_age;      /* idle_s >= --idle-tx-age */
	const char *query;
	struct report_process client;
	double backend_age_s;  /* now - backend_start */
	double opened_epoch_s; /* backend_start on the server's clock; NAN */
	bool abandoned;        /* passed over and unused past its threshold */
	const char *wait_event_type;
	const char *wait_event;
	/* What its client's hooks said of it: "taken at tests/t.py:11
	 * (reserve) during T, never returned"; NULL when none spoke. */
	const char *client_line;
};

/* A session a test (or a shared set-up) opened; strings in the report's
 * arena. */
struct report_test_session {
	int pid;
	const char *user;
	const char *app;
	const char *db;
	const char *query;        /* its last */
	enum session_state state; /* as last seen */
	double opened_epoch_s;    /* backend_start, the server's clock */
	double last_use_epoch_s;
	double closed_epoch_s; /* NAN: still open at the end */
	double opened_s;       /* run-relative (the server's clock) */
	/* "closed" (during its test), "reused" (left open, used again),
	 * "pooled" (left open, unused, but a pool-mate was used again: see
	 * tests.h), "unused" (left open, never used again). */
	const char *fate;
	struct report_process client;
};

struct report_test {
	const char *name;
	bool setup;             /* a shared set-up (never blamed) */
	bool ended;             /* false: the run stopped before its end */
	int pid;                /* the process it ran in */
	double started_epoch_s; /* the server's clock */
	double ended_epoch_s;
	double started_s; /* run-relative, pgdrip's clock (--plot) */
	double ended_s;
	int before; /* its process's sessions at its start */
	int after;  /* ... at its end */
	int opened;
	int closed;
	int left_open;
	int leaked; /* left open and never used again */
	/* Of leaked, those the client hooks named (report->hooks.leaks
	 * with this test): the server's own word is then left out for the
	 * sessions a client spoke of. */
	int client_leaked;
	struct report_test_session *sessions; /* the arena */
	size_t session_count;
};

/* Per-test sessions (report_tests.c): the tests a runner reported. */
struct report_tests {
	bool reported;
	/* The server's clock at the first sample: sessions' moments are
	 * shown from it (opened_s...). */
	double base_epoch_s;
	struct report_test *items; /* the arena; tests and set-ups, in the
				    * order they began */
	size_t count;
	size_t tests;     /* of items, not set-ups */
	size_t leaking;   /* tests that leaked */
	size_t leaked;    /* sessions, over every test */
	size_t processes; /* runner processes */
	size_t unfinished;
	size_t outside;      /* runner sessions opened between tests */
	size_t unattributed; /* command sessions of no runner process */
};

/* What a client hook said leaked (report_hooks.c): a checkout never
 * given back, or a connection (no pool) never closed.  Strings in the
 * report's arena. */
struct report_client_leak {
	bool checkout;     /* taken from pool, never returned; else a
			    * connection never closed */
	const char *test;  /* the test it is blamed on; NULL none */
	size_t test_index; /* into tests.items; SIZE_MAX none */
	int pid;           /* the client process */
	int backend_pid;   /* 0 unknown */
	const char *lib;
	const char *pool;      /* "" for a connection */
	double at_epoch_s;     /* taken (opened), the client's clock */
	bool lost;             /* it ended while out (lost_how) */
	const char *lost_how;  /* "gc", "close", "server"; NULL not lost */
	const char *closed_by; /* "close", "gc", "exit"; NULL still open */
	struct clientfacts_frame *stack; /* the arena */
	size_t stack_count;
	/* The server's side: its session (by backend pid and start). */
	bool matched;
	bool server_knew;         /* it judged the session unused or idle in a
				   * transaction on its own */
	enum session_state state; /* as last seen */
	double idle_tx_s;         /* longest idle in transaction; NAN */
	double unused_s;          /* since its last use; NAN */
};

/* The client hooks' word on the command's connections. */
struct report_hooks {
	bool reported; /* a client hook said anything */
	size_t processes;
	size_t connections;
	size_t checkouts_out; /* leaked checkouts, of leaks */
	size_t unclosed;      /* connections never closed, of leaks */
	struct report_client_leak *leaks; /* the arena; in the order seen */
	size_t leak_count;
	size_t leaks_left_out; /* past REPORT_HOOKS_MAX_LEAKS */
	/* Sessions the server alone would have called a test's leak and a
	 * client said were resting in its pool or closed by the code. */
	size_t cleared;
	const char **unhooked; /* "lib: why", the arena */
	size_t unhooked_count;
	long long dropped; /* lines the clients could not send */
	size_t refused;    /* lines pgdrip could not read */
};

struct report {
	const char *mode; /* "once", "watch", "live", "wrap", ... */
	struct server_info server;
	int usable_connections;
	const char *server_label; /* host:port/db, no password; may be "" */
	double started_epoch_s;
	double ended_epoch_s;
	size_t samples;
	size_t failed_samples;
	size_t reconnects;          /* sessions re-established after a loss */
	bool up;                    /* the last sample attempt succeeded */
	double last_sample_s;       /* its query round trip; NAN none */
	double last_sample_epoch_s; /* when it was taken; NAN none */
	double interval_s;
	double window_s;
	struct group_keys keys;

	int total;          /* client sessions passing the filter */
	int total_all;      /* every client session */
	double usage_pct;   /* total_all / usable */
	bool near_limit;    /* report_judge(): usage_pct past the rule */
	int unknown_states; /* sessions whose state the server hid */
	/* Sessions the server ever had (pg_stat_database, PostgreSQL 14 on)
	 * and how many it opened a minute over the run: the exact churn,
	 * which samples miss; NAN unknown. */
	double sessions_opened_total;
	double sessions_opened_per_min;
	/* Over the run (first sample to last): the sessions the server
	 * opened (NAN unknown) and those the samples saw open, every role
	 * and application alike; the difference lived less than a sample. */
	double sessions_opened_run;
	double sessions_opened_seen;

	struct report_group *groups; /* owned; sorted by connections desc */
	size_t group_count;
	/* Groups retired for having no session for a whole window
	 * (history_retire_idle): how many, their baselines added up and
	 * the highest peak of any. */
	size_t retired_groups;
	long long retired_baseline;
	int retired_peak;
	struct report_breakdown *breakdown; /* owned; most sessions first */
	size_t breakdown_count;
	struct report_session *idle_tx; /* owned; oldest first */
	size_t idle_tx_count;
	/* The sessions of the group the caller asked about (the live
	 * view's detail pane), oldest first; detail_values its keys. */
	bool detail_asked;
	const char *detail_values[GROUP_KEY_COUNT];
	struct report_session *detail; /* owned */
	size_t detail_count;
	struct report_limit *limits; /* owned; server first, then by usage */
	size_t limit_count;
	/* PgBouncer's console (server.source): its pools (SHOW POOLS, the
	 * console's own left out), most waiting first, strings in the
	 * arena, and the pooler's settings; none for a server. */
	struct pooler_pool *pools; /* owned */
	size_t pool_count;
	int pooler_waiting;           /* clients waiting, all pools */
	double pooler_maxwait_s;      /* the longest wait of them; 0 none */
	double client_idle_timeout_s; /* 0 off; NAN unknown or a server */
	struct check_list checks;
	char **warnings; /* owned */
	size_t warning_count;

	/* wrap mode */
	bool wrapped;
	const char *command; /* argv joined by spaces */
	/* The command's arguments as given, argv[0] first; NULL when the
	 * caller did not pass them (then argc is 0). */
	const char *const *argv; /* owned: array and strings in the arena */
	size_t argc;
	int command_status; /* exit status, 128+N when killed by signal N */
	double command_started_s; /* run-relative */
	double command_ended_s;

	/* pgdrip's own footprint, measured by the caller (NAN/0 unknown) */
	double self_cpu_s;
	long self_max_rss_kib;
	/* --listen: connections refused or closed by its caps; NAN when
	 * not listening */
	double listen_refused_total;

	struct report_tests tests;
	struct report_hooks hooks;

	int exit_code;
	struct arena arena; /* owns every string above */
};

/* What report_build() reads; all borrowed. */
struct clientfacts;

struct report_input {
	const char *mode;
	const struct tracker *tracker; /* the sessions; NULL none */
	const struct history *history;
	const struct sample *last; /* the last successful sample; NULL none */
	const struct filter *filter;
	const struct thresholds *thresholds;
	const char *server_label;
	double ended_epoch_s;
	bool last_failed; /* the last sample attempt failed (up = 0) */
	size_t reconnects;
	/* wrap mode: */
	bool wrapped;
	const char *command;
	const char *const *argv; /* NULL-terminated; NULL when unknown */
	int command_status;      /* -1 when there is no command */
	double command_started_s;
	double command_ended_s;
	double self_cpu_s;
	long self_max_rss_kib;
	/* The group whose sessions to list in detail; NULL none. */
	const char *const *detail_values;
	/* --listen: listen_refused_total(), when listening is true */
	bool listening;
	unsigned long long listen_refused_total;
	/* What the command's clients said (client hooks); NULL none. */
	const struct clientfacts *clientfacts;
};

void report_init(struct report *report);
void report_finish(struct report *report);

/* Builds everything, runs the checks and sets exit_code. */
void report_build(struct report *report, const struct report_input *in);

/* used as a percentage of limit; a limit of 0 is 100% used by one
 * session, 0% by none. */
double report_usage_pct(int used, int limit);

/* Adds a limit (name copied) with its usage. */
void report_add_limit(struct report *report, enum limit_kind kind,
		      const char *name, int limit, int used);

/* The limit of kind and name, NULL if none (name NULL: none). */
const struct report_limit *report_find_limit(const struct report *report,
					     enum limit_kind kind,
					     const char *name);

/* Adds a warning (copied); printf-style. */
void report_add_warning(struct report *report, const char *fmt, ...)
	PGD_PRINTF(2, 3);

/* The role pgdrip runs as, as SQL writes it: quoted unless it is a
 * plain lower-case identifier ("GRANT pg_monitor TO \"CI Bot\""), into
 * buf (cut to fit); "<role>" when unknown. */
void report_role_identifier(const struct report *report, char *buf, size_t len);

/* A group's keys joined by "/" ("app_tests/pytest"), raw bytes, into
 * buf (cut to fit, always terminated).  Returns buf. */
char *report_group_label(const struct report *report,
			 const struct report_group *group, char *buf,
			 size_t len);

#endif
