/*
 * bouncer.h - PgBouncer's admin console as a source of samples: the
 * results of its SHOW commands turned into a struct sample (its client
 * connections as sessions, its pools, server connections and limits),
 * and the link from a server's sessions to the pooler's clients.
 *
 * Every result is read by column name: the columns differ between
 * versions (1.18 to 1.25 add replication, prepared_statements, id,
 * server_lifetime, load_balance_hosts, per-user pool_size and client
 * limits...).  A column not known is ignored; one missing leaves its
 * field unknown.  Pure: the edge (poll.c) runs the commands and passes
 * the text of their cells.
 *
 * A client connection becomes a session:
 *   pid          the client's id (1.24's "id", else one derived from its
 *                ptr), with connect_time as backend_start: its identity
 *   state        active while a query runs (wait/wait_us), idle in
 *                transaction when it holds a server between the
 *                statements of a transaction (transaction or statement
 *                pooling, linked, no query), waiting while it queues for
 *                a server (cl_waiting), else idle
 *   last use     request_time (its last packet), as state_change and
 *                query_start
 *   client       addr and port; a unix-socket client's process is its
 *                peer's pid (remote_pid)
 */
#ifndef PGDRIP_BOUNCER_H
#define PGDRIP_BOUNCER_H

#include "sample.h"

/* The commands of one sample, in the order they are sent: the limits
 * and pools first, so the clients' states can use their pool's mode. */
enum bouncer_show {
	BOUNCER_SHOW_CONFIG,
	BOUNCER_SHOW_DATABASES,
	BOUNCER_SHOW_USERS,
	BOUNCER_SHOW_POOLS,
	BOUNCER_SHOW_SERVERS,
	BOUNCER_SHOW_CLIENTS,
	BOUNCER_SHOW_COUNT
};

/* "SHOW CONFIG", ...: one command per query, as the console takes. */
const char *bouncer_show_command(enum bouncer_show show);

/* One result as text: names[cols], cells[rows * cols] row by row, NULL
 * for an SQL NULL.  Borrowed. */
struct bouncer_table {
	size_t cols;
	size_t rows;
	const char *const *names;
	const char *const *cells;
};

/* True for the server_version PgBouncer's console reports at start-up
 * ("1.18.0/bouncer"); an ordinary database through PgBouncer reports the
 * server's own. */
bool bouncer_is_console(const char *server_version);

/* The server facts of a console connection as user: source, version
 * ("1.18.0"), version_num (11800); the rest comes with each sample. */
void bouncer_server_info(struct server_info *out, const char *server_version,
			 const char *user);

/* "PgBouncer 1.18.0 admin console", for headers. */
void bouncer_describe(char *buf, size_t len, const struct server_info *server);

/* pgdrip's own connection to the console, left out of the clients. */
struct bouncer_self {
	int tcp_port; /* its local port over TCP; 0 over a unix socket */
	int pid;      /* pgdrip's pid (a unix-socket client's remote_pid) */
	/* This host's offset from UTC (seconds east), for times whose zone
	 * is a name, when pgdrip's own row is not there to tell. */
	long utc_offset_s;
};

/* Starts a console sample at now_epoch_s (the wall clock, as the
 * server's clock is taken elsewhere): sample reset, server copied. */
void bouncer_sample_begin(struct sample *sample,
			  const struct server_info *server, double now_epoch_s);

/* Adds one command's result.  Rows missing what they need are skipped. */
void bouncer_sample_add(struct sample *sample, enum bouncer_show show,
			const struct bouncer_table *table,
			const struct bouncer_self *self);

/* Ends it: ages, the limits in server (max_connections is
 * max_client_conn, or the clients seen when it is unknown). */
void bouncer_sample_end(struct sample *sample);

/*
 * PgBouncer's times ("2026-12-01 11:29:30 UTC", the local time of its
 * host with its zone's abbreviation; ".123456" after the seconds is
 * read too) as seconds from 1970 read as if the time were UTC, and the
 * zone's offset when the text says it (UTC, GMT, Z, +HH[:MM], -HHMM):
 * *zone_known false for a name such as CET.  False when not a time.
 */
bool bouncer_parse_time(const char *text, double *naive_s, long *offset_s,
			bool *zone_known);

/* True when a command line is PgBouncer's (its program is pgbouncer). */
bool bouncer_command_is_pooler(const char *command);

/* Marks the sessions of a server's sample whose traced client process
 * is a pooler: pooler_pid is that process. */
void bouncer_mark_pooled(struct sample *sample);

/*
 * Links a server's sessions to the clients of a pooler in front of it,
 * from that pooler's console sample: a session whose backend is one of
 * the console's server connections (remote_pid, or over TCP the
 * server connection's local port as client_port) is held by the pooler
 * (pooler_pid -1 when its process is not known); when that connection
 * serves a client now (link), pooler_client names the client and the
 * session's client process becomes the client's, where the console
 * sample traced it.  Returns how many sessions were linked to a client.
 */
size_t bouncer_link(struct sample *server, const struct sample *console);

#endif
