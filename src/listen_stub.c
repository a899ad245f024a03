/*
 * listen_stub.c - listen.h for a build without libmicrohttpd (meson
 * picks it when the library is not found): --listen is refused as a
 * usage error, before anything connects, saying why; everything else
 * works as usual.
 */
#include "listen.h"

#include "core/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char unavailable[] = "--listen is not available: pgdrip was "
				  "built without libmicrohttpd";

struct listener *listen_start(const char *host, const char *port,
			      enum listen_failure *failure, struct errbuf *err)
{
	(void)host;
	(void)port;
	*failure = LISTEN_FAILURE_ADDRESS;
	errbuf_set(err, "%s", unavailable);
	return NULL;
}

bool listen_from_options(const char *host, const char *port,
			 struct listener **out, int *status)
{
	(void)host;
	*out = NULL;
	if (port[0] == '\0') {
		return true;
	}
	fprintf(stderr, "pgdrip: %s\n", unavailable);
	fprintf(stderr, "pgdrip: hint: install libmicrohttpd's development "
			"files (libmicrohttpd-dev) and rebuild, or use "
			"--format prometheus --output FILE\n");
	*status = PGD_EXIT_USAGE;
	return false;
}

/* Never reached (no listener is ever made); frees what it is given as
 * the real one would. */
void listen_publish(struct listener *l, char *buf, size_t len)
{
	(void)l;
	(void)len;
	free(buf);
}

void listen_stop(struct listener *l)
{
	(void)l;
}

void listen_stats(struct listener *l, struct listen_stats *out)
{
	(void)l;
	memset(out, 0, sizeof(*out));
}

unsigned long long listen_refused_total(struct listener *l)
{
	(void)l;
	return 0;
}

void listen_hold_messages(struct listener *l, bool hold)
{
	(void)l;
	(void)hold;
}

bool listen_take_summary(struct listener *l, char *buf, size_t size)
{
	(void)l;
	if (size > 0) {
		buf[0] = '\0';
	}
	return false;
}
