/*
 * hooks.c - the client hooks' endpoint (see hooks.h): accepting,
 * reading lines without ever blocking or answering, keeping those that
 * parse for the next sample.
 */
#include "hooks.h"

#include "notice.h"

#include "core/arena.h"
#include "core/clientfacts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct hook_conn {
	int fd;
	char *in; /* owned; CLIENTFACTS_LINE_MAX bytes */
	size_t in_len;
	bool skipping; /* the rest of a line too long to take */
	bool eof;
};

struct hooks {
	int listen_fd;
	char path[PATH_MAX + 16];
	struct hook_conn *conns; /* owned */
	size_t count;
	size_t cap;
	/* Lines waiting for the next sample: their bytes, back to back,
	 * and where each ends. */
	char *pending; /* owned */
	size_t pending_len;
	size_t pending_cap;
	size_t *ends; /* owned */
	size_t end_count;
	size_t end_cap;
	struct arena scratch; /* one line's parse */
	/* What was not kept, said at the end. */
	size_t too_long;
	size_t garbage;
	size_t overflow;
	size_t refused_conns;
};

bool hooks_fd_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 &&
	       fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

int hooks_listen(const char *path, const char *what, int backlog,
		 struct errbuf *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		errbuf_set(err, "the %s socket path is too long: \"%s\"", what,
			   path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || !hooks_fd_nonblocking(fd) ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(fd, backlog) != 0) {
		errbuf_set(err, "cannot make the %s socket \"%s\": %s", what,
			   path, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	return fd;
}

struct hooks *hooks_open(const char *dir, struct errbuf *err)
{
	struct hooks *h = xcalloc(1, sizeof(*h));

	arena_init(&h->scratch);
	snprintf(h->path, sizeof(h->path), "%s/hooks", dir);
	h->listen_fd = hooks_listen(h->path, "hooks'", 128, err);
	if (h->listen_fd < 0) {
		/* Nothing was bound when the path was too long: a failed
		 * bind leaves no file either. */
		h->path[0] = '\0';
		hooks_close(h);
		return NULL;
	}
	return h;
}

const char *hooks_path(const struct hooks *h)
{
	return h->path;
}

static void drop_conn(struct hooks *h, size_t i)
{
	close(h->conns[i].fd);
	free(h->conns[i].in);
	h->conns[i] = h->conns[h->count - 1];
	h->count--;
}

static void accept_all(struct hooks *h);

void hooks_stop(struct hooks *h)
{
	if (h->listen_fd >= 0) {
		/* A client that connected and wrote just before the command
		 * ended waits in the backlog: taken, and read to its end
		 * (closing the socket would throw its lines away). */
		accept_all(h);
		close(h->listen_fd);
		h->listen_fd = -1;
	}
}

static void say_losses(const struct hooks *h)
{
	if (h->too_long + h->garbage + h->overflow > 0) {
		notice_say("the client hooks' lines not taken: %zu too long, "
			   "%zu not understood, %zu past %d MiB between two "
			   "samples",
			   h->too_long, h->garbage, h->overflow,
			   HOOKS_MAX_PENDING / (1024 * 1024));
	}
	if (h->refused_conns > 0) {
		notice_say("%zu client hook connections refused past %d",
			   h->refused_conns, HOOKS_MAX_CONNS);
	}
}

void hooks_close(struct hooks *h)
{
	if (h == NULL) {
		return;
	}
	say_losses(h);
	hooks_stop(h);
	while (h->count > 0) {
		drop_conn(h, h->count - 1);
	}
	if (h->path[0] != '\0') {
		unlink(h->path);
	}
	free(h->conns);
	free(h->pending);
	free(h->ends);
	arena_finish(&h->scratch);
	free(h);
}

static void accept_all(struct hooks *h)
{
	int fd;

	while ((fd = accept(h->listen_fd, NULL, NULL)) >= 0) {
		struct hook_conn *c;

		if (h->count >= HOOKS_MAX_CONNS || !hooks_fd_nonblocking(fd)) {
			h->refused_conns++;
			close(fd);
			continue;
		}
		xgrow((void **)&h->conns, &h->cap, h->count + 1,
		      sizeof(*h->conns));
		c = &h->conns[h->count++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->in = xmalloc(CLIENTFACTS_LINE_MAX);
	}
}

/* A whole line: kept when it parses and there is room. */
static void take_line(struct hooks *h, const char *line, size_t len)
{
	struct clientfacts_line parsed;
	struct errbuf err;
	bool ok;

	if (len > 0 && line[len - 1] == '\r') {
		len--;
	}
	if (len == 0) {
		return;
	}
	ok = clientfacts_parse_line(line, len, &h->scratch, &parsed, &err);
	arena_reset(&h->scratch);
	if (!ok) {
		h->garbage++;
		return;
	}
	if (h->pending_len + len > HOOKS_MAX_PENDING) {
		h->overflow++;
		return;
	}
	xgrow((void **)&h->pending, &h->pending_cap, h->pending_len + len, 1);
	memcpy(h->pending + h->pending_len, line, len);
	h->pending_len += len;
	xgrow((void **)&h->ends, &h->end_cap, h->end_count + 1,
	      sizeof(*h->ends));
	h->ends[h->end_count++] = h->pending_len;
}

static void next_lines(struct hooks *h, struct hook_conn *c)
{
	char *nl;
	size_t start = 0;

	while ((nl = memchr(c->in + start, '\n', c->in_len - start)) != NULL) {
		size_t len = (size_t)(nl - (c->in + start));

		if (c->skipping) {
			c->skipping = false;
		} else {
			take_line(h, c->in + start, len);
		}
		start += len + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len == CLIENTFACTS_LINE_MAX) {
		/* No end in sight: the rest of the line is skipped. */
		h->too_long += !c->skipping;
		c->skipping = true;
		c->in_len = 0;
	}
}

static void read_conn(struct hooks *h, struct hook_conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->in_len,
				 CLIENTFACTS_LINE_MAX - c->in_len);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			c->eof = true;
			break;
		}
		if (n < 0) {
			break;
		}
		c->in_len += (size_t)n;
		next_lines(h, c);
	}
	if (c->eof && c->in_len > 0 && !c->skipping) {
		/* The last line, without its newline. */
		take_line(h, c->in, c->in_len);
	}
}

size_t hooks_pollfds(struct hooks *h, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	if (h->listen_fd >= 0 && n < max) {
		fds[n++] = (struct pollfd){.fd = h->listen_fd,
					   .events = POLLIN};
	}
	for (size_t i = 0; i < h->count && n < max; i++) {
		fds[n++] = (struct pollfd){.fd = h->conns[i].fd,
					   .events = POLLIN};
	}
	return n;
}

void hooks_ready(struct hooks *h, const struct pollfd *fds, size_t n)
{
	bool accept_now = false;

	for (size_t i = 0; i < n; i++) {
		if (fds[i].revents == 0) {
			continue;
		}
		if (fds[i].fd == h->listen_fd) {
			accept_now = true;
			continue;
		}
		for (size_t j = 0; j < h->count; j++) {
			if (h->conns[j].fd == fds[i].fd) {
				read_conn(h, &h->conns[j]);
				break;
			}
		}
	}
	for (size_t j = h->count; j-- > 0;) {
		if (h->conns[j].eof) {
			drop_conn(h, j);
		}
	}
	if (accept_now) {
		accept_all(h);
	}
}

void hooks_attach(struct hooks *h, struct sample *sample)
{
	size_t start = 0;

	for (size_t i = 0; i < h->end_count; i++) {
		sample_add_hook_line(sample, h->pending + start,
				     h->ends[i] - start);
		start = h->ends[i];
	}
	h->end_count = 0;
	h->pending_len = 0;
}
