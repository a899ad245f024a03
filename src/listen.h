/*
 * listen.h - --listen: an HTTP endpoint (libmicrohttpd, its own thread)
 * serving the latest Prometheus exposition at /metrics.
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

/* Stops the thread, closes the socket, frees everything; NULL is fine. */
void listen_stop(struct listener *l);

#endif
