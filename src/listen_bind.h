/*
 * listen_bind.h - the /metrics endpoint's listening socket (listen.c).
 */
#ifndef PGDRIP_LISTEN_BIND_H
#define PGDRIP_LISTEN_BIND_H

#include "listen.h"

/*
 * A listening TCP socket on host (its first address that works, in the
 * resolver's order; "" is 127.0.0.1) and port, its family in *family;
 * -1 with *failure (LISTEN_FAILURE_ADDRESS: no such local address,
 * LISTEN_FAILURE_BUSY: in use or refused) and err said otherwise.
 */
int listen_bind_address(const char *host, const char *port, int *family,
			enum listen_failure *failure, struct errbuf *err);

#endif
