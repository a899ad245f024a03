/*
 * poll.h - pgdrip's one libpq session: connect (libpq conventions, as
 * psql), prepare the session (application_name=pgdrip, read-only, short
 * statement_timeout), and take samples with one query each, without
 * blocking (the caller waits on poll_socket()).
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
	int64_t connect_timeout_ms; /* 0: libpq's default */
};

enum poll_failure {
	POLL_FAILURE_NONE,
	POLL_FAILURE_CONNECT,       /* could not connect (exit 3) */
	POLL_FAILURE_DOWN,          /* server unreachable or restarting:
				       worth retrying */
	POLL_FAILURE_SLOTS,         /* refused: out of connection slots (exit 1) */
	POLL_FAILURE_PRIVILEGE,
	POLL_FAILURE_QUERY,
	POLL_FAILURE_LOST,          /* connection lost */
};

/*
 * Connects and prepares the session.  On failure returns NULL with a
 * one-line message (libpq's, newlines folded, password never present)
 * in err and the kind in *failure.  Blocking: used at start-up.
 */
PGD_NODISCARD struct poller *poll_connect(const struct conn_params *params,
					  enum poll_failure *failure,
					  struct errbuf *err);
void poll_destroy(struct poller *poller);

/* Fills sample->server from the connection (once is enough). */

/*
 * Takes one sample, blocking up to deadline_ms (0: no deadline).  Past
 * the deadline it fails with POLL_FAILURE_LOST: drop the poller and
 * connect again (the server's statement_timeout ends the query).  Fills sample (reset first) and
 * returns true; false with err and *failure on error.
 */
PGD_NODISCARD bool poll_sample(struct poller *poller, struct sample *sample,
			       int64_t deadline_ms, enum poll_failure *failure,
			       struct errbuf *err);

/* Non-blocking use: send the query, then feed socket readiness. */
PGD_NODISCARD bool poll_sample_start(struct poller *poller,
				     struct errbuf *err);
/* Returns 1 when the sample is complete (filled), 0 when still waiting,
 * -1 on error. */
int poll_sample_continue(struct poller *poller, struct sample *sample,
			 enum poll_failure *failure, struct errbuf *err);
int poll_socket(const struct poller *poller);

/* "host:port/db" of the server params name, without connecting (for a
 * server that cannot be reached); never the password. */
void poll_describe(const struct conn_params *params, char *buf, size_t len);

/* The port the server listens on (its socket's suffix for a unix one). */
int poll_server_port(const struct poller *poller);

/* "host:port/dbname" as connected, for reports; no password. */
const char *poll_server_label(const struct poller *poller);

#endif
