/*
 * listen.h - --listen: an HTTP endpoint (libmicrohttpd, on a thread of
 * its own) serving the latest Prometheus exposition at /metrics.
 *
 * A scrape never queries the database: the monitor renders the
 * exposition after each sample and publishes it here; the server thread
 * only copies the latest buffer out under a mutex.
 */
#ifndef PGDRIP_LISTEN_H
#define PGDRIP_LISTEN_H

#include "core/common.h"

#include <stdbool.h>
#include <stddef.h>

struct listener;

/*
 * What a client may take.  A whole request must arrive within
 * LISTEN_REQUEST_S of the connection (or of the last answer on a kept
 * alive one), however many bytes trickle in: libmicrohttpd's own timeout
 * starts again at every byte.  At most LISTEN_PER_ADDRESS connections
 * from one client address and LISTEN_CONNECTIONS in all: a new one past
 * a cap closes the least recently active under it (connected or last
 * answered the longest ago) that is not being answered and has no
 * bytes waiting to be read, so a fresh scraper is served however many
 * slow connections are held; it is refused when none is left.
 * Refusals, evictions and closings are counted, and summarised on
 * stderr at most once every LISTEN_SUMMARY_S (the first at once).
 */
#define LISTEN_REQUEST_S 5
#define LISTEN_PER_ADDRESS 8
#define LISTEN_CONNECTIONS 64
#define LISTEN_SUMMARY_S 60

/* Counted since the listener started. */
struct listen_stats {
	unsigned long long refused_per_address; /* LISTEN_PER_ADDRESS open */
	unsigned long long refused_total;       /* LISTEN_CONNECTIONS open */
	unsigned long long closed_slow;         /* no whole request in time */
	unsigned long long evicted; /* closed to make room for a new one */
};

enum listen_failure {
	LISTEN_FAILURE_ADDRESS, /* cannot be resolved or is not local: exit 2 */
	LISTEN_FAILURE_BUSY,    /* in use, not permitted, no threads: exit 3 */
};

/*
 * Binds host:port (host "" for every interface: IPv6 and IPv4 on one
 * dual-stack socket where the system has IPv6) and starts serving.
 * Returns NULL with err and *failure when it cannot.  Until the first
 * listen_publish(), /metrics answers 503.
 */
struct listener *listen_start(const char *host, const char *port,
			      enum listen_failure *failure, struct errbuf *err);

/*
 * --listen as the options ask: NULL and true when not asked; the
 * listener and true when bound; NULL and false when it cannot be, the
 * reason said on stderr and *status the exit status (2 for a bad
 * address, 3 for a busy one).
 */
bool listen_from_options(const char *host, const char *port,
			 struct listener **out, int *status);

/* Serves buf (len bytes, malloc'd; the listener takes it) from now on;
 * the previous buffer is freed. */
void listen_publish(struct listener *l, char *buf, size_t len);

/* The counters, for a metric; any thread. */
void listen_stats(struct listener *l, struct listen_stats *out);

/* Their sum: every connection refused or closed by these caps, for
 * pgdrip_listen_refused_total (report_input.listen_refused_total). */
unsigned long long listen_refused_total(struct listener *l);

/*
 * While hold is true the server thread writes nothing to stderr: the
 * summary waits for listen_take_summary(), which the loop calls (say,
 * after each sample) to show it in the live view's status line.  With
 * hold false (the default) the thread prints it itself.
 */
void listen_hold_messages(struct listener *l, bool hold);

/* The summary due, if any (at most one per LISTEN_SUMMARY_S): one line
 * without "pgdrip: " into buf; false when there is none. */
bool listen_take_summary(struct listener *l, char *buf, size_t size);

/* Stops the thread, closes the socket, prints what is left of the
 * summary (call it once the live view has given the terminal back),
 * frees everything; NULL is fine. */
void listen_stop(struct listener *l);

#endif
