/*
 * listen.c - the /metrics endpoint (see listen.h).  The socket is bound
 * here rather than by libmicrohttpd so that "address in use" and "not a
 * local address" can be told apart and mapped to exit statuses.
 */
#include "listen.h"

#include "core/report_prom.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct listener {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock; /* guards body and body_len */
	char *body;           /* owned; NULL before the first publish */
	size_t body_len;
};

static const char index_text[] = "pgdrip: Prometheus metrics are at /metrics\n";

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status,
                                 const char *type, const char *text, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    len, (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ok;

	if (r == NULL) {
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	}
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* The copy is made under the lock, so a publish can free the old
 * buffer at once; 500 groups copy in microseconds. */
static enum MHD_Result send_metrics(struct listener *l,
                                    struct MHD_Connection *c)
{
	static const char none[] = "pgdrip: no exposition yet\n";
	enum MHD_Result ok;

	pthread_mutex_lock(&l->lock);
	if (l->body == NULL) {
		ok = send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
		               none, sizeof(none) - 1);
	} else {
		ok = send_text(c, MHD_HTTP_OK, REPORT_PROM_CONTENT_TYPE,
		               l->body, l->body_len);
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
	static const char missing[] = "not found: try /metrics\n";
	static const char only_get[] = "only GET and HEAD\n";

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		                 only_get, sizeof(only_get) - 1);
	}
	if (strcmp(url, "/metrics") == 0) {
		return send_metrics(cls, c);
	}
	if (strcmp(url, "/") == 0) {
		return send_text(c, MHD_HTTP_OK, "text/plain", index_text,
		                 sizeof(index_text) - 1);
	}
	return send_text(c, MHD_HTTP_NOT_FOUND, "text/plain", missing,
	                 sizeof(missing) - 1);
}

/* libmicrohttpd's own complaints (a failed accept, say): one line. */
static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t len;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
		buf[--len] = '\0';
	}
	fprintf(stderr, "pgdrip: listen: %s\n", buf);
}

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

/* A name binds its first address that works, in the resolver's order;
 * every interface ("") tries the IPv6 wildcard first (dual stack), then
 * the IPv4 one. */
static int bind_address(const char *host, const char *port, int *family,
                        enum listen_failure *failure, struct errbuf *err)
{
	struct addrinfo hints = {
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM,
	};
	struct addrinfo *list;
	int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &list);
	int fd = -1;
	int saved = 0;

	*failure = LISTEN_FAILURE_ADDRESS;
	if (rc != 0) {
		errbuf_set(err, "cannot listen on \"%s\": %s", host,
		           gai_strerror(rc));
		return -1;
	}
	for (int pass = 0; pass < (host[0] ? 1 : 2) && fd < 0; pass++) {
		for (struct addrinfo *ai = list; ai != NULL && fd < 0;
		     ai = ai->ai_next) {
			if (host[0] == '\0' &&
			    (ai->ai_family == AF_INET6) != (pass == 0)) {
				continue;
			}
			fd = bind_one(ai);
			if (fd >= 0) {
				*family = ai->ai_family;
			} else if (errno != EAFNOSUPPORT || saved == 0) {
				saved = errno;
			}
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

struct listener *listen_start(const char *host, const char *port,
                              enum listen_failure *failure, struct errbuf *err)
{
	struct listener *l;
	int family = AF_INET;
	int fd = bind_address(host, port, &family, failure, err);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (fd < 0) {
		return NULL;
	}
	if (family == AF_INET6) {
		flags |= MHD_USE_IPv6;
	}
	l = xcalloc(1, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	/* A stuck client must not hold the one server thread for long. */
	l->daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, handle, l, MHD_OPTION_EXTERNAL_LOGGER,
	    log_mhd, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
	if (l->daemon == NULL) {
		close(fd);
		pthread_mutex_destroy(&l->lock);
		free(l);
		*failure = LISTEN_FAILURE_BUSY;
		errbuf_set(err, "cannot start the HTTP server on port %s",
		           port);
		return NULL;
	}
	return l;
}

void listen_publish(struct listener *l, char *buf, size_t len)
{
	char *old;

	pthread_mutex_lock(&l->lock);
	old = l->body;
	l->body = buf;
	l->body_len = len;
	pthread_mutex_unlock(&l->lock);
	free(old);
}

void listen_stop(struct listener *l)
{
	if (l == NULL) {
		return;
	}
	/* Closes the listening socket too. */
	MHD_stop_daemon(l->daemon);
	pthread_mutex_destroy(&l->lock);
	free(l->body);
	free(l);
}

bool listen_from_options(const char *host, const char *port,
			 struct listener **out, int *status)
{
	enum listen_failure failure;
	struct errbuf err;

	*out = NULL;
	if (port[0] == '\0') {
		return true;
	}
	*out = listen_start(host, port, &failure, &err);
	if (*out == NULL) {
		fprintf(stderr, "pgdrip: %s\n", err.msg);
		*status = failure == LISTEN_FAILURE_ADDRESS ? PGD_EXIT_USAGE
							    : PGD_EXIT_UNAVAILABLE;
		return false;
	}
	return true;
}
