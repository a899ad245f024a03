/*
 * listen_bind.c - the /metrics endpoint's socket, bound by pgdrip (see
 * listen_bind.h).
 */
#include "listen_bind.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Binds one candidate address; returns the socket or -1 with errno. */
static int bind_one(const struct addrinfo *ai)
{
	int one = 1;
	int zero = 0;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			ai->ai_protocol);
	int saved;

	if (fd < 0) {
		return -1;
	}
	/* A restart must not wait out TIME_WAIT; a live listener still
	 * gives EADDRINUSE. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6) {
		/* ":PORT" and "[::]:PORT" take IPv4 too. */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0) {
		return fd;
	}
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* A name binds its first address that works, in the resolver's order.
 * No address (":9187") is loopback only, 127.0.0.1: the metrics name
 * roles, applications and databases, and a scraper elsewhere is asked
 * for by name (0.0.0.0, or [::] for IPv6 and IPv4 alike). */
int listen_bind_address(const char *host, const char *port, int *family,
			enum listen_failure *failure, struct errbuf *err)
{
	struct addrinfo hints = {
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
	};
	struct addrinfo *list;
	int rc;
	int fd = -1;
	int saved = 0;

	host = host[0] != '\0' ? host : "127.0.0.1";
	rc = getaddrinfo(host, port, &hints, &list);
	*failure = LISTEN_FAILURE_ADDRESS;
	if (rc != 0) {
		errbuf_set(err, "cannot listen on \"%s\": %s", host,
			   gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = list; ai != NULL && fd < 0;
	     ai = ai->ai_next) {
		fd = bind_one(ai);
		if (fd >= 0) {
			*family = ai->ai_family;
		} else if (errno != EAFNOSUPPORT || saved == 0) {
			saved = errno;
		}
	}
	freeaddrinfo(list);
	if (fd < 0) {
		if (saved != EADDRNOTAVAIL && saved != EAFNOSUPPORT) {
			*failure = LISTEN_FAILURE_BUSY;
		}
		errbuf_set(err, "cannot listen on %s%s%s:%s: %s",
			   strchr(host, ':') ? "[" : "", host,
			   strchr(host, ':') ? "]" : "", port, strerror(saved));
	}
	return fd;
}
