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
 *
 * Four files, each above the ones it uses: this one, the ground (the
 * state's accessors and the services every step needs: libpq's message
 * on one line, a query sent, a lost session, a cell), poll_console.c
 * (PgBouncer's console), poll_connect.c (connecting, the server's
 * settings, the prepared statement) and poll_sample.c (a sample's round
 * trip, and poll_advance() over all of them); their shared state is in
 * poll_private.h.  The query's text and the merge of its rows with the
 * last sample are the core's (core/wire.c), unit-tested apart.
 */
#include "poll.h"

#include "conninfo.h"
#include "poll_private.h"

#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where libpq's lines meet: a sentence that ended without punctuation
 * ("...failed: Connection refused" then "Is the server running...?")
 * gets its full stop. */
static size_t join_lines(char *dst, size_t used, size_t size)
{
	if (used > 0 && strchr(".:;,!?", dst[used - 1]) == NULL &&
	    used + 2 < size) {
		dst[used++] = '.';
	}
	if (used > 0 && used + 1 < size) {
		dst[used++] = ' ';
	}
	return used;
}

/* libpq's message on one line: its lines joined as sentences, tabs and
 * control bytes gone, the password scrubbed (before folding too, for a
 * password that holds a tab or a newline). */
void poll_one_line(char *dst, size_t size, const char *msg,
		   const char *password)
{
	char raw[1024];
	size_t used = 0;
	bool line_ended = false;

	snprintf(raw, sizeof(raw), "%s", msg ? msg : "");
	conninfo_scrub(raw, sizeof(raw), password);
	for (const char *p = raw; *p != '\0' && used + 1 < size; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n' || c == '\r') {
			line_ended = used > 0;
		} else if (c == '\t') {
			if (!line_ended && used > 0 && dst[used - 1] != ' ') {
				dst[used++] = ' ';
			}
		} else if (c == ' ') {
			/* Kept as libpq wrote it ("FATAL:  not allowed"),
			 * but not at a line's start. */
			if (!line_ended && used > 0) {
				dst[used++] = ' ';
			}
		} else if (c > 0x20 && c != 0x7F) {
			if (line_ended) {
				while (used > 0 && dst[used - 1] == ' ') {
					used--;
				}
				used = join_lines(dst, used, size);
				line_ended = false;
			}
			if (used + 1 < size) {
				dst[used++] = (char)c;
			}
		}
	}
	while (used > 0 && dst[used - 1] == ' ') {
		used--;
	}
	dst[used] = '\0';
	conninfo_scrub(dst, size, password);
}

const char *poll_cell(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

bool poll_send_query(struct poller *p, const char *text, struct errbuf *err)
{
	int flushed;

	if (!PQsendQuery(p->conn, text)) {
		char msg[400];

		poll_one_line(msg, sizeof(msg), PQerrorMessage(p->conn),
			      p->password);
		errbuf_set(err, "cannot send a query: %s", msg);
		return false;
	}
	flushed = PQflush(p->conn);
	p->flushing = flushed == 1;
	p->events = (short)(POLLIN | (p->flushing ? POLLOUT : 0));
	return flushed >= 0;
}

enum poll_status poll_lost(struct poller *p, enum poll_failure *failure,
			   struct errbuf *err)
{
	char msg[400];

	poll_one_line(msg, sizeof(msg), PQerrorMessage(p->conn), p->password);
	*failure = POLL_FAILURE_LOST;
	errbuf_set(err, "lost the connection: %s", msg);
	return POLL_STATUS_ERROR;
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

/* Cancels still waiting on a server, in the whole process. */
static atomic_int cancels_waiting;

static void *send_cancel(void *arg)
{
	PGcancel *cancel = arg;
	char msg[256];

	/* What it says is of no use: the sample's own answer tells. */
	(void)PQcancel(cancel, msg, sizeof(msg));
	PQfreeCancel(cancel);
	atomic_fetch_sub(&cancels_waiting, 1);
	return NULL;
}

/* A detached thread for cancel, with every signal blocked in it: they
 * stay the loop's (sig.c). */
static bool start_cancel_thread(PGcancel *cancel)
{
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all;
	sigset_t old;
	bool started;

	if (pthread_attr_init(&attr) != 0) {
		return false;
	}
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	started = pthread_create(&thread, &attr, send_cancel, cancel) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return started;
}

bool poll_cancel(struct poller *poller)
{
	PGcancel *cancel;

	if (poller->phase != POLL_PHASE_SAMPLING) {
		return false;
	}
	if (atomic_fetch_add(&cancels_waiting, 1) >= POLL_CANCELS_WAITING) {
		atomic_fetch_sub(&cancels_waiting, 1);
		return false;
	}
	cancel = PQgetCancel(poller->conn);
	if (cancel != NULL && start_cancel_thread(cancel)) {
		return true;
	}
	PQfreeCancel(cancel);
	atomic_fetch_sub(&cancels_waiting, 1);
	return false;
}
