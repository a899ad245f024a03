/*
 * listen.c - the /metrics endpoint (see listen.h).  The socket is bound
 * by pgdrip (listen_bind.c) rather than by libmicrohttpd so that
 * "address in use" and "not a local address" can be told apart and
 * mapped to exit statuses.
 *
 * libmicrohttpd runs on a thread of ours (external polling on its epoll
 * fd) rather than its own, so that between two of its steps this thread
 * can see every connection and close the ones that are too slow: the
 * library's own timeout starts again at every byte, so a client sending
 * one byte every few seconds would hold a connection for ever, and a few
 * hundred of them would shut real scrapers out.  Every callback runs on
 * this thread; only the published body, the counters and the summary
 * are shared, under the lock.
 */
#include "listen.h"
#include "listen_bind.h"

#include "clock.h"
#include "core/report_prom.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* One connection, from accepted to closed (its socket context). */
struct conn {
	struct sockaddr_storage addr;
	int fd;
	int64_t since_ms; /* accepted, or the last request answered: its
			   * last activity, and its deadline's start */
	bool answered;    /* the current request arrived whole */
	bool cut;         /* closed by us: too slow, or evicted */
	struct conn *next;
};

/* Counted since the last summary line. */
struct tally {
	unsigned long long per_address;
	unsigned long long total;
	unsigned long long slow;
	unsigned long long evicted;
	unsigned long long library; /* libmicrohttpd's own messages */
	char last_message[200];
};

struct listener {
	struct MHD_Daemon *daemon;
	pthread_t thread;
	bool running;       /* the thread was started */
	int wake[2];        /* a byte here stops the thread */
	struct conn *conns; /* the thread's only */
	size_t conn_count;
	pthread_mutex_t lock; /* guards what follows */
	char *body;           /* owned; NULL before the first publish */
	size_t body_len;
	bool stopping;
	bool hold;    /* summaries wait for listen_take_summary() */
	bool serving; /* started: messages are summarised */
	struct listen_stats stats;
	struct tally tally;
	int64_t tally_since_ms;
	int64_t last_summary_ms; /* 0: none yet */
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

	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	/* The request is whole: from here on the deadline does not apply
	 * (the answer is small and goes out at once). */
	if (info != NULL && info->socket_context != NULL) {
		((struct conn *)info->socket_context)->answered = true;
	}
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

/* libmicrohttpd's own complaints (a failed accept, say): one line while
 * starting; once serving, counted into the summary, so that a flood of
 * them cannot flood stderr. */
static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	struct listener *l = cls;
	char buf[200];
	size_t len;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
		buf[--len] = '\0';
	}
	pthread_mutex_lock(&l->lock);
	if (l->serving) {
		l->tally.library++;
		snprintf(l->tally.last_message, sizeof(l->tally.last_message),
			 "%s", buf);
		pthread_mutex_unlock(&l->lock);
		return;
	}
	pthread_mutex_unlock(&l->lock);
	fprintf(stderr, "pgdrip: listen: %s\n", buf);
}

/* The host part of two addresses is the same (the port does not
 * count: every connection has its own). */
static bool same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family) {
		return false;
	}
	if (a->sa_family == AF_INET) {
		return memcmp(&((const struct sockaddr_in *)(const void *)a)
				       ->sin_addr,
			      &((const struct sockaddr_in *)(const void *)b)
				       ->sin_addr,
			      sizeof(struct in_addr)) == 0;
	}
	if (a->sa_family == AF_INET6) {
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)
				       ->sin6_addr,
			      &((const struct sockaddr_in6 *)(const void *)b)
				       ->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	}
	return false;
}

/* Bytes came in that the library has not read yet: the client is
 * active right now.  A scraper's request waits there when the library
 * accepts a burst of a flood's connections before its next read: the
 * oldest of its address by then, it would be evicted unread (2 in 60
 * rounds without this). */
static bool bytes_waiting(int fd)
{
	int n = 0;

	return fd >= 0 && ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

/* The places a new connection from one address would take: the open
 * ones (not those being closed), from that address and in all, and the
 * least recently active of each that may be evicted (not answering a
 * request, nothing waiting to be read). */
struct census {
	size_t same;
	size_t open;
	struct conn *oldest_same;
	struct conn *oldest;
};

static bool older(const struct conn *c, const struct conn *than)
{
	return than == NULL || c->since_ms < than->since_ms;
}

static void take_census(const struct listener *l, const struct sockaddr *addr,
			struct census *n)
{
	memset(n, 0, sizeof(*n));
	for (struct conn *c = l->conns; c != NULL; c = c->next) {
		bool mine;

		if (c->cut) {
			continue;
		}
		mine = same_host((const struct sockaddr *)&c->addr, addr);
		n->open++;
		n->same += mine;
		if (c->answered || bytes_waiting(c->fd)) {
			continue;
		}
		if (mine && older(c, n->oldest_same)) {
			n->oldest_same = c;
		}
		if (older(c, n->oldest)) {
			n->oldest = c;
		}
	}
}

/* Closes c to make room: shut down here, forgotten by the library at
 * its next step (as cut_slow() does). */
static void evict(struct listener *l, struct conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	c->cut = true;
	pthread_mutex_lock(&l->lock);
	l->stats.evicted++;
	l->tally.evicted++;
	pthread_mutex_unlock(&l->lock);
}

/*
 * Accept, before the connection costs anything, within a cap per client
 * address (so that one client cannot take every place) and one in all.
 * When a cap is reached, the least recently active connection under it
 * that is not being answered (nor has bytes waiting) is closed to make
 * room: slow connections cannot keep a fresh scraper out, whoever holds
 * them.  Refused only when none is left to close.
 */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr,
				     socklen_t addrlen)
{
	struct listener *l = cls;
	struct census n;
	bool per_address;
	struct conn *victim;

	(void)addrlen;
	take_census(l, addr, &n);
	if (n.same < LISTEN_PER_ADDRESS && n.open < LISTEN_CONNECTIONS) {
		return MHD_YES;
	}
	per_address = n.same >= LISTEN_PER_ADDRESS;
	victim = per_address ? n.oldest_same : n.oldest;
	if (victim != NULL) {
		evict(l, victim);
		return MHD_YES;
	}
	pthread_mutex_lock(&l->lock);
	if (per_address) {
		l->stats.refused_per_address++;
		l->tally.per_address++;
	} else {
		l->stats.refused_total++;
		l->tally.total++;
	}
	pthread_mutex_unlock(&l->lock);
	return MHD_NO;
}

/* Connections as they start and close: the list the deadline walks. */
static void on_connection(void *cls, struct MHD_Connection *connection,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct listener *l = cls;
	struct conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd = MHD_get_connection_info(
			connection, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *addr = MHD_get_connection_info(
			connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		c = xcalloc(1, sizeof(*c));
		c->fd = fd != NULL ? fd->connect_fd : -1;
		if (addr != NULL && addr->client_addr != NULL) {
			memcpy(&c->addr, addr->client_addr,
			       addr->client_addr->sa_family == AF_INET6
				       ? sizeof(struct sockaddr_in6)
				       : sizeof(struct sockaddr_in));
		}
		c->since_ms = clock_mono_ms();
		c->next = l->conns;
		l->conns = c;
		l->conn_count++;
		*socket_context = c;
		return;
	}
	for (struct conn **p = &l->conns; *p != NULL; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			l->conn_count--;
			free(c);
			break;
		}
	}
	*socket_context = NULL;
}

/* A request answered: on a kept-alive connection the next one has its
 * own few seconds. */
static void on_completed(void *cls, struct MHD_Connection *connection,
			 void **req_cls, enum MHD_RequestTerminationCode code)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *c = info != NULL ? info->socket_context : NULL;

	(void)cls;
	(void)req_cls;
	(void)code;
	if (c != NULL) {
		c->since_ms = clock_mono_ms();
		c->answered = false;
	}
}

/*
 * Closes every connection whose request has not arrived whole within
 * LISTEN_REQUEST_S, however many bytes it sent: its socket is shut down,
 * and the library, seeing the end of it at its next step, closes and
 * forgets it.  Returns the milliseconds until the next deadline (-1:
 * none).  The socket is still the library's here (it closes sockets
 * only in MHD_run(), on this thread), so the fd cannot be another one.
 */
static int64_t cut_slow(struct listener *l, int64_t now)
{
	int64_t next = -1;
	unsigned long long cut = 0;

	for (struct conn *c = l->conns; c != NULL; c = c->next) {
		int64_t due = c->since_ms + LISTEN_REQUEST_S * 1000;

		if (c->answered || c->cut) {
			continue;
		}
		if (now >= due) {
			shutdown(c->fd, SHUT_RDWR);
			c->cut = true;
			cut++;
		} else if (next < 0 || due - now < next) {
			next = due - now;
		}
	}
	if (cut > 0) {
		pthread_mutex_lock(&l->lock);
		l->stats.closed_slow += cut;
		l->tally.slow += cut;
		pthread_mutex_unlock(&l->lock);
	}
	return next;
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* Appends ", N what" to buf when n is not 0. */
static void add_part(char *buf, size_t size, unsigned long long n,
		     const char *what)
{
	size_t len = strlen(buf);

	if (n > 0 && len < size) {
		snprintf(buf + len, size - len, "%s%llu %s", len ? ", " : "", n,
			 what);
	}
}

/* The summary line of the tally (without "pgdrip: "), then a new tally;
 * false when there is nothing to say or the last one is under a minute
 * old.  Under the lock. */
static bool take_summary(struct listener *l, int64_t now, char *buf,
			 size_t size)
{
	struct tally *t = &l->tally;
	char parts[400] = "";

	if (t->per_address + t->total + t->slow + t->evicted + t->library ==
		    0 ||
	    (l->last_summary_ms != 0 &&
	     now - l->last_summary_ms < LISTEN_SUMMARY_S * 1000)) {
		return false;
	}
	add_part(parts, sizeof(parts), t->per_address,
		 "refused: " STR(
			 LISTEN_PER_ADDRESS) " already open from that address");
	add_part(parts, sizeof(parts), t->total,
		 "refused: " STR(LISTEN_CONNECTIONS) " already open");
	add_part(parts, sizeof(parts), t->slow,
		 "closed: no whole request within " STR(LISTEN_REQUEST_S) "s");
	add_part(
		parts, sizeof(parts), t->evicted,
		"closed to make room for a newer one (the least recently "
		"active, with " STR(
			LISTEN_PER_ADDRESS) " open from one "
					    "address or " STR(
						    LISTEN_CONNECTIONS) " in "
									"all)");
	if (t->library > 0) {
		size_t len = strlen(parts);

		snprintf(parts + len, sizeof(parts) - len,
			 "%s%llu from the HTTP server, the last: %s",
			 len ? "; " : "", t->library, t->last_message);
	}
	snprintf(buf, size, "listen: in the last %llds: %s",
		 (long long)((now - l->tally_since_ms + 999) / 1000), parts);
	memset(t, 0, sizeof(*t));
	l->tally_since_ms = now;
	l->last_summary_ms = now;
	return true;
}

/* What the thread says itself, unless the caller holds the messages. */
static void print_summary(struct listener *l, int64_t now)
{
	char line[600];
	bool say;

	pthread_mutex_lock(&l->lock);
	say = (!l->hold || l->stopping) &&
	      take_summary(l, now, line, sizeof(line));
	pthread_mutex_unlock(&l->lock);
	if (say) {
		fprintf(stderr, "pgdrip: %s\n", line);
	}
}

static bool stop_asked(struct listener *l)
{
	bool stop;

	pthread_mutex_lock(&l->lock);
	stop = l->stopping;
	pthread_mutex_unlock(&l->lock);
	return stop;
}

/* The server thread: wait on the library's epoll fd (and the stop
 * pipe), let it run, then close what is too slow. */
static void *serve(void *arg)
{
	struct listener *l = arg;
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	struct pollfd fds[2] = {
		{.fd = info != NULL ? info->epoll_fd : -1, .events = POLLIN},
		{.fd = l->wake[0], .events = POLLIN},
	};

	while (!stop_asked(l)) {
		MHD_UNSIGNED_LONG_LONG mhd_ms = 0;
		int64_t now = clock_mono_ms();
		int64_t wait_ms = cut_slow(l, now);

		/* At least once a second: the summary comes due too. */
		if (wait_ms < 0 || wait_ms > 1000) {
			wait_ms = 1000;
		}
		if (MHD_get_timeout(l->daemon, &mhd_ms) == MHD_YES &&
		    (int64_t)mhd_ms < wait_ms) {
			wait_ms = (int64_t)mhd_ms;
		}
		if (poll(fds, 2, (int)wait_ms) < 0 && errno != EINTR) {
			break;
		}
		MHD_run(l->daemon);
		print_summary(l, clock_mono_ms());
	}
	return NULL;
}

struct listener *listen_start(const char *host, const char *port,
			      enum listen_failure *failure, struct errbuf *err)
{
	struct listener *l;
	int family = AF_INET;
	int fd = listen_bind_address(host, port, &family, failure, err);
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (fd < 0) {
		return NULL;
	}
	if (family == AF_INET6) {
		flags |= MHD_USE_IPv6;
	}
	l = xcalloc(1, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->wake[0] = l->wake[1] = -1;
	/* The library's own caps sit above ours, with room for the
	 * connections evicted and not yet closed: accept_policy() decides
	 * first, counted and quiet.  Its inactivity timeout stays as a
	 * backstop for a connection that sends nothing at all. */
	l->daemon = MHD_start_daemon(
		flags, 0, accept_policy, l, handle, l,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, l,
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_CONNECTION,
		on_connection, l, MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)LISTEN_REQUEST_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)(LISTEN_CONNECTIONS * 2),
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)(LISTEN_PER_ADDRESS * 2), MHD_OPTION_END);
	if (l->daemon == NULL || pipe(l->wake) != 0 ||
	    fcntl(l->wake[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(l->wake[1], F_SETFD, FD_CLOEXEC) != 0 ||
	    pthread_create(&l->thread, NULL, serve, l) != 0) {
		if (l->daemon == NULL) {
			close(fd);
		}
		listen_stop(l);
		*failure = LISTEN_FAILURE_BUSY;
		errbuf_set(err, "cannot start the HTTP server on port %s",
			   port);
		return NULL;
	}
	l->running = true;
	pthread_mutex_lock(&l->lock);
	l->serving = true;
	l->tally_since_ms = clock_mono_ms();
	pthread_mutex_unlock(&l->lock);
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

void listen_stats(struct listener *l, struct listen_stats *out)
{
	pthread_mutex_lock(&l->lock);
	*out = l->stats;
	pthread_mutex_unlock(&l->lock);
}

unsigned long long listen_refused_total(struct listener *l)
{
	struct listen_stats s;

	listen_stats(l, &s);
	return s.refused_per_address + s.refused_total + s.closed_slow +
	       s.evicted;
}

void listen_hold_messages(struct listener *l, bool hold)
{
	pthread_mutex_lock(&l->lock);
	l->hold = hold;
	pthread_mutex_unlock(&l->lock);
}

bool listen_take_summary(struct listener *l, char *buf, size_t size)
{
	bool got;

	pthread_mutex_lock(&l->lock);
	got = take_summary(l, clock_mono_ms(), buf, size);
	pthread_mutex_unlock(&l->lock);
	return got;
}

void listen_stop(struct listener *l)
{
	if (l == NULL) {
		return;
	}
	if (l->running) {
		pthread_mutex_lock(&l->lock);
		l->stopping = true;
		pthread_mutex_unlock(&l->lock);
		(void)!write(l->wake[1], "x", 1);
		pthread_join(l->thread, NULL);
	}
	/* Closes the listening socket and what is still connected. */
	if (l->daemon != NULL) {
		MHD_stop_daemon(l->daemon);
	}
	/* What is left of the tally is said before leaving, however soon
	 * after the last summary. */
	l->last_summary_ms = 0;
	print_summary(l, clock_mono_ms());
	for (int i = 0; i < 2; i++) {
		if (l->wake[i] >= 0) {
			close(l->wake[i]);
		}
	}
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
		*status = failure == LISTEN_FAILURE_ADDRESS
				  ? PGD_EXIT_USAGE
				  : PGD_EXIT_UNAVAILABLE;
		return false;
	}
	return true;
}
