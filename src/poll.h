/*
 * poll.h - pgdrip's one libpq session to a server, never blocking: the
 * connection (libpq conventions, as psql), the set-up query and every
 * sample advance only when the caller's loop sees the socket ready, so
 * a server that hangs stalls nothing but this session.
 *
 * Pooler-safe: pgdrip sets nothing on the session.  Each sample is one
 * read-only transaction whose settings are SET LOCAL, so a pooled
 * server connection is handed back as it was found.
 */
#ifndef PGDRIP_POLL_H
#define PGDRIP_POLL_H

#include "core/common.h"
#include "core/sample.h"

#include <stdint.h>

struct poller;

/* Where to connect; any field may be NULL (libpq and PG* then decide). */
struct conn_params {
	const char *dbname; /* a name, a conninfo string or a URI */
	const char *host;
	const char *port;
	const char *user;
	const char *password;       /* typed at a prompt; NULL none */
	int64_t connect_timeout_ms; /* 0: the conninfo's, or 10 s */
	bool one_shot; /* one sample (--once): nothing worth preparing */
};

enum poll_failure {
	POLL_FAILURE_NONE,
	POLL_FAILURE_CONNECT,   /* could not connect, will not heal (exit 3) */
	POLL_FAILURE_DOWN,      /* unreachable or restarting: worth retrying */
	POLL_FAILURE_SLOTS,     /* refused: out of connection slots (exit 1) */
	POLL_FAILURE_PASSWORD,  /* the server asked for a password */
	POLL_FAILURE_PRIVILEGE, /* connected, cannot read what is needed */
	POLL_FAILURE_QUERY,     /* a sample failed; the session is fine */
	POLL_FAILURE_LOST,      /* the session is gone: connect again */
};

enum poll_phase {
	POLL_PHASE_CONNECTING, /* connecting, then the set-up query */
	POLL_PHASE_READY,      /* idle: a sample may be started */
	POLL_PHASE_SAMPLING,   /* a sample is in flight */
};

enum poll_status {
	POLL_STATUS_WAIT,  /* wait for poll_events() on poll_socket() */
	POLL_STATUS_DONE,  /* connected / the sample is filled */
	POLL_STATUS_ERROR, /* *failure and err say what */
};

/*
 * Starts connecting, without blocking.  NULL (with err and *failure)
 * only when the parameters cannot even be parsed or memory runs out.
 */
PGD_NODISCARD struct poller *poll_start(const struct conn_params *params,
					enum poll_failure *failure,
					struct errbuf *err);
void poll_destroy(struct poller *poller);

enum poll_phase poll_phase(const struct poller *poller);

/* The socket and the poll(2) events to wait for (-1 when none yet). */
int poll_socket(const struct poller *poller);
short poll_events(const struct poller *poller);

/*
 * Advances the connection or the sample in flight after the socket was
 * ready (or at any time: nothing blocks).  A sample that completes is
 * written into sample (reset first).  After POLL_STATUS_ERROR in the
 * connecting phase, or with POLL_FAILURE_LOST, destroy the poller.
 */
enum poll_status poll_advance(struct poller *poller, struct sample *sample,
			      enum poll_failure *failure, struct errbuf *err);

/* Sends the sample query (the READY phase only).  previous is the last
 * sample this poller delivered, as the caller still holds it (NULL
 * none): only what changed since is asked for, the rest taken from it,
 * so it must stay untouched until the sample is in.  False with err
 * when the session is gone (destroy it). */
PGD_NODISCARD bool poll_sample_start(struct poller *poller,
				     const struct sample *previous,
				     struct errbuf *err);

/*
 * Asks the server to cancel the sample in flight, without waiting for
 * it: the answer (an error, or the rows if the cancel came too late)
 * still comes through poll_advance().  libpq's cancel opens a connection
 * of its own and waits for the server to close it, so it runs on a
 * short-lived thread of its own, signals blocked; a server that never
 * answers keeps at most POLL_CANCELS_WAITING of them.  False when none
 * was sent: no sample in flight, or too many cancels still waiting.
 */
enum { POLL_CANCELS_WAITING = 4 };
bool poll_cancel(struct poller *poller);

/* How long connecting may take: --connect-timeout, or the conninfo's
 * connect_timeout (or PGCONNECT_TIMEOUT), else 10 s; -1 for no limit
 * (connect_timeout=0). */
int64_t poll_connect_timeout_ms(const struct poller *poller);

/* After a failure: the server asked for a password and none was
 * given, so a prompt could help. */
bool poll_needs_password(const struct poller *poller);

/* True when a pooler or proxy stands between pgdrip and the server
 * (the backend pid libpq was told is not the server's own). */
bool poll_through_pooler(const struct poller *poller);

/* The directory of the unix socket being connected to, into out; false
 * for a TCP host (or an abstract socket, which has no lock file). */
bool poll_socket_dir(const struct poller *poller, char *out, size_t size);

/* The server's own backend pid for pgdrip's session, once connected;
 * 0 through a pooler or on a pooler's console (no backend of ours). */
int poll_server_backend_pid(const struct poller *poller);

/* "host:port/db" of the server params name, without connecting (for a
 * server that cannot be reached); never the password. */
void poll_describe(const struct conn_params *params, char *buf, size_t len);

/* The port the server listens on (its socket's suffix for a unix one). */
int poll_server_port(const struct poller *poller);

/* "host:port/dbname" as connected, for reports; no password. */
const char *poll_server_label(const struct poller *poller);

#endif
