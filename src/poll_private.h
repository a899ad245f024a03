/*
 * poll_private.h - the poller's state, shared by its four files and no
 * other (see poll.c): poll.c (the accessors and the services below),
 * poll_console.c (PgBouncer's admin console), poll_connect.c
 * (connecting, the server's settings, the prepared statement) and
 * poll_sample.c (the sample's round trip), each above the ones before.
 */
#ifndef PGDRIP_POLL_PRIVATE_H
#define PGDRIP_POLL_PRIVATE_H

#include "core/bouncer.h"
#include "core/wire.h"
#include "poll.h"

#include <libpq-fe.h>

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
	double since_epoch_s;    /* what the sample in flight asked for */
	struct wire_delta delta; /* the merge's indexes (wire.h) */
	bool pooled;             /* a pooler stands between us and the server */
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

/* libpq's message on one line: newlines folded, control bytes gone,
 * the password scrubbed (poll.c). */
void poll_one_line(char *dst, size_t size, const char *msg,
		   const char *password);

/* Row row's column col as text, NULL for an SQL NULL (poll.c). */
const char *poll_cell(const PGresult *res, int row, int col);

/* Sends text, flushing what the socket takes; false when the session
 * is gone (poll.c). */
bool poll_send_query(struct poller *p, const char *text, struct errbuf *err);

/* The session is lost: failure and err say so (poll.c). */
enum poll_status poll_lost(struct poller *p, enum poll_failure *failure,
			   struct errbuf *err);

/* Connecting (poll_connect.c): PQconnectPoll's next step, then the
 * settings' and the prepared statement's results. */
enum poll_status poll_connect_advance(struct poller *p,
				      enum poll_failure *failure,
				      struct errbuf *err);
enum poll_status poll_connect_after_setup(struct poller *p,
					  enum poll_failure *failure,
					  struct errbuf *err);
enum poll_status poll_connect_after_prepare(struct poller *p);

/* PgBouncer's console (poll_console.c): its results let go; the next
 * SHOW sent; the results read, the sample filled once all are in; the
 * console recognised once connected. */
void poll_console_clear(struct poller *p);
bool poll_console_send_show(struct poller *p, struct errbuf *err);
enum poll_status poll_console_read(struct poller *p, struct sample *sample,
				   enum poll_failure *failure,
				   struct errbuf *err);
enum poll_status poll_console_connected(struct poller *p);

#endif
