/*
 * testmark.c - the test runner's endpoint (see testmark.h): accepting,
 * reading lines one request at a time per connection, attaching each
 * to the first sample sent after it, answering once that sample is in.
 */
#define _GNU_SOURCE /* struct ucred, for SO_PEERCRED */

#include "testmark.h"

#include "attrib.h"
#include "hooks.h"
#include "notice.h"

#include "core/tests.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	TESTMARK_MAX_CONNS = 256,
	/* An end's second look, after the backends of sessions closed
	 * just before it have had time to leave; at most this many. */
	TESTMARK_SETTLE_MS = 100,
	TESTMARK_SETTLE_ROUNDS = 3,
	/* A sample is asked for again after this, while a line waits. */
	TESTMARK_RETRY_MS = 200,
	/* A line no sample could answer is refused after this. */
	TESTMARK_GIVE_UP_MS = 15000,
	TESTMARK_PARENT_DEPTH = 32,
};

enum stage {
	STAGE_NONE,
	STAGE_WAIT,      /* for a sample sent after the line came */
	STAGE_ANSWERED,  /* its mark is on a sample: the outcome is next */
	STAGE_PAUSE,     /* an end: the second look comes later */
	STAGE_CONFIRM,   /* ... waits for a sample sent after that */
	STAGE_CONFIRMED, /* the settled mark is on a sample */
};

struct request {
	enum stage stage;
	enum sample_mark_kind kind;
	int pid;
	char name[TESTS_LINE_MAX];
	uint64_t after; /* a sample whose ordinal is above this answers it */
	int64_t pause_until_ms; /* STAGE_PAUSE: the second look's moment */
	int64_t since_ms;       /* when the line came */
	size_t left; /* sessions left open at the last look (an end) */
	int rounds;
};

struct conn {
	int fd;
	int peer; /* its pid; 0 unknown */
	char in[TESTS_LINE_MAX];
	size_t in_len;
	bool eof;
	bool skipping; /* the rest of a line too long to take */
	struct request req;
};

struct testmark {
	struct target *target;
	int listen_fd;
	char dir[PATH_MAX];
	char path[PATH_MAX + 16];
	struct conn *conns; /* owned */
	size_t count;
	size_t cap;
	int slots[TESTMARK_MAX_CONNS +
		  1]; /* pollfds() entry: conn, -1 listen */
	size_t slot_count;
	int64_t requested_ms; /* the last sample asked for */
	int *known;           /* pids whose parents were noted; owned */
	size_t known_count;
	size_t known_cap;
	int command_pid;
	struct hooks *hooks; /* the client hooks' socket; NULL when off */
};

/* ---- the socket ---- */

static void on_sample(struct target *t, struct sample *sample, uint64_t ordinal,
		      void *ctx);

static bool make_socket(struct testmark *m, struct errbuf *err)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(m->dir, sizeof(m->dir), "%s/pgdrip-XXXXXX",
		 tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	/* mkdtemp: 0700, so only this user (and root) can connect. */
	if (mkdtemp(m->dir) == NULL) {
		errbuf_set(err,
			   "cannot make a directory for the tests' socket "
			   "in \"%s\": %s",
			   tmp != NULL ? tmp : "/tmp", strerror(errno));
		m->dir[0] = '\0';
		return false;
	}
	snprintf(m->path, sizeof(m->path), "%s/tests.sock", m->dir);
	m->listen_fd = hooks_listen(m->path, "tests'", 64, err);
	return m->listen_fd >= 0;
}

/* The client hooks' socket beside the tests', unless
 * PGDRIP_CLIENT_HOOKS=0; without it the run goes on, saying why. */
static void open_hooks(struct testmark *m)
{
	const char *off = getenv("PGDRIP_CLIENT_HOOKS");
	struct errbuf err;

	if (off != NULL && strcmp(off, "0") == 0) {
		return;
	}
	m->hooks = hooks_open(m->dir, &err);
	if (m->hooks == NULL) {
		notice_say("%s: the client hooks are off", err.msg);
	}
}

struct testmark *testmark_open(struct target *t, struct errbuf *err)
{
	struct testmark *m = xcalloc(1, sizeof(*m));

	m->target = t;
	m->listen_fd = -1;
	if (!make_socket(m, err)) {
		testmark_close(m);
		return NULL;
	}
	target_set_sample_hook(t, on_sample, m);
	open_hooks(m);
	return m;
}

static void drop_conn(struct testmark *m, size_t i)
{
	close(m->conns[i].fd);
	m->conns[i] = m->conns[m->count - 1];
	m->count--;
}

void testmark_close(struct testmark *m)
{
	if (m == NULL) {
		return;
	}
	if (m->target != NULL) {
		target_set_sample_hook(m->target, NULL, NULL);
	}
	while (m->count > 0) {
		drop_conn(m, m->count - 1);
	}
	if (m->listen_fd >= 0) {
		close(m->listen_fd);
	}
	hooks_close(m->hooks);
	if (m->path[0] != '\0') {
		unlink(m->path);
	}
	if (m->dir[0] != '\0') {
		rmdir(m->dir);
	}
	free(m->conns);
	free(m->known);
	free(m);
}

void testmark_set_command(struct testmark *m, int pid)
{
	m->command_pid = pid;
}

void testmark_stop(struct testmark *m)
{
	if (m->listen_fd >= 0) {
		close(m->listen_fd);
		m->listen_fd = -1;
	}
	if (m->hooks != NULL) {
		hooks_stop(m->hooks);
	}
}

/* ---- connections and lines ---- */

static int peer_pid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		return 0;
	}
	return (int)cred.pid;
}

static void accept_all(struct testmark *m)
{
	int fd;

	while ((fd = accept(m->listen_fd, NULL, NULL)) >= 0) {
		struct conn *c;

		if (m->count >= TESTMARK_MAX_CONNS ||
		    !hooks_fd_nonblocking(fd)) {
			close(fd);
			continue;
		}
		xgrow((void **)&m->conns, &m->cap, m->count + 1,
		      sizeof(*m->conns));
		c = &m->conns[m->count++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->peer = peer_pid(fd);
	}
}

/* One short answer; a runner that does not read them loses them. */
static void answer(struct conn *c, const char *text)
{
	if (write(c->fd, text, strlen(text)) < 0) {
		c->eof = true;
	}
}

static void refuse(struct conn *c, const char *why)
{
	char line[sizeof(((struct errbuf *)0)->msg) + 16];

	snprintf(line, sizeof(line), "error %s\n", why);
	answer(c, line);
}

/* A line becomes the connection's request, waiting for a sample. */
static void take_line(struct testmark *m, struct conn *c, const char *line,
		      size_t len, int64_t now_ms)
{
	struct tests_line parsed;
	struct errbuf err;
	struct request *r = &c->req;

	if (!tests_parse_line(line, len, &parsed, &err)) {
		refuse(c, err.msg);
		return;
	}
	r->stage = STAGE_WAIT;
	r->kind = parsed.kind;
	r->pid = parsed.pid != 0 ? parsed.pid : c->peer;
	memcpy(r->name, parsed.name, parsed.name_len);
	r->name[parsed.name_len] = '\0';
	r->after = target_samples_sent(m->target);
	r->since_ms = now_ms;
	r->rounds = 0;
	m->requested_ms = now_ms - TESTMARK_RETRY_MS; /* ask at once */
}

/* Takes buffered lines while the connection has no request waiting. */
static void next_lines(struct testmark *m, struct conn *c, int64_t now_ms)
{
	char *nl;

	while (c->req.stage == STAGE_NONE &&
	       (nl = memchr(c->in, '\n', c->in_len)) != NULL) {
		size_t len = (size_t)(nl - c->in);

		if (c->skipping) {
			c->skipping = false;
		} else {
			take_line(m, c, c->in, len, now_ms);
		}
		memmove(c->in, nl + 1, c->in_len - len - 1);
		c->in_len -= len + 1;
	}
	if (c->req.stage == STAGE_NONE && c->in_len == sizeof(c->in)) {
		/* No end in sight: refused, and the rest skipped. */
		if (!c->skipping) {
			refuse(c, "line too long");
		}
		c->skipping = true;
		c->in_len = 0;
	}
}

static void read_conn(struct testmark *m, struct conn *c, int64_t now_ms)
{
	ssize_t n;

	while (c->req.stage == STAGE_NONE && c->in_len < sizeof(c->in)) {
		n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			c->eof = true;
			break;
		}
		if (n < 0) {
			break;
		}
		c->in_len += (size_t)n;
		next_lines(m, c, now_ms);
	}
	next_lines(m, c, now_ms);
	if (c->eof && c->req.stage == STAGE_NONE && c->in_len > 0 &&
	    !c->skipping) {
		/* The last line, without its newline. */
		take_line(m, c, c->in, c->in_len, now_ms);
		c->in_len = 0;
	}
}

size_t testmark_pollfds(struct testmark *m, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	m->slot_count = 0;
	if (m->listen_fd >= 0 && n < max) {
		fds[n++] = (struct pollfd){.fd = m->listen_fd,
					   .events = POLLIN};
		m->slots[m->slot_count++] = -1;
	}
	/* A connection with a request waiting is not read (its next line
	 * waits its turn), nor polled: a closed peer would wake us at once
	 * and for ever. */
	for (size_t i = 0; i < m->count && n < max; i++) {
		if (m->conns[i].req.stage == STAGE_NONE) {
			fds[n++] = (struct pollfd){.fd = m->conns[i].fd,
						   .events = POLLIN};
			m->slots[m->slot_count++] = (int)i;
		}
	}
	/* The hooks' descriptors last: ready() hands them over. */
	if (m->hooks != NULL) {
		n += hooks_pollfds(m->hooks, fds + n, max - n);
	}
	return n;
}

/* Connections at their end with nothing waiting are closed. */
static void reap(struct testmark *m)
{
	for (size_t i = m->count; i-- > 0;) {
		if (m->conns[i].eof && m->conns[i].req.stage == STAGE_NONE) {
			drop_conn(m, i);
		}
	}
}

void testmark_ready(struct testmark *m, const struct pollfd *fds, size_t n,
		    int64_t now_ms)
{
	bool accept_now = false;

	for (size_t i = 0; i < n && i < m->slot_count; i++) {
		if (fds[i].revents == 0) {
			continue;
		}
		if (m->slots[i] < 0) {
			accept_now = true;
		} else {
			read_conn(m, &m->conns[m->slots[i]], now_ms);
		}
	}
	if (m->hooks != NULL && n > m->slot_count) {
		hooks_ready(m->hooks, fds + m->slot_count, n - m->slot_count);
	}
	reap(m);
	/* Last: accepting may move the connections array. */
	if (accept_now) {
		accept_all(m);
	}
}

/* ---- samples and answers ---- */

static bool known(const struct testmark *m, int pid)
{
	for (size_t i = 0; i < m->known_count; i++) {
		if (m->known[i] == pid) {
			return true;
		}
	}
	return false;
}

static void add_known(struct testmark *m, int pid)
{
	xgrow((void **)&m->known, &m->known_cap, m->known_count + 1,
	      sizeof(*m->known));
	m->known[m->known_count++] = pid;
}

/* The parents of the command's client processes, up to the command, as
 * marks: a session a test's child opened is the test's.  Each process
 * is looked up once, while it still runs (it holds a session). */
static void note_parents(struct testmark *m, struct sample *sample)
{
	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];
		int pid = s->client_pid;
		int ppid;

		if (pid <= 0 ||
		    s->client_relation == CLIENT_RELATION_UNRELATED) {
			continue;
		}
		for (int depth = 0;
		     depth < TESTMARK_PARENT_DEPTH && pid > 1 && !known(m, pid);
		     depth++) {
			add_known(m, pid);
			if (pid == m->command_pid ||
			    !attributor_parent_of(pid, &ppid)) {
				break;
			}
			sample_add_mark(sample, SAMPLE_MARK_PARENT, pid, ppid,
					"");
			pid = ppid;
		}
	}
}

static void on_sample(struct target *t, struct sample *sample, uint64_t ordinal,
		      void *ctx)
{
	struct testmark *m = ctx;

	(void)t;
	note_parents(m, sample);
	if (m->hooks != NULL) {
		hooks_attach(m->hooks, sample);
	}
	for (size_t i = 0; i < m->count; i++) {
		struct request *r = &m->conns[i].req;

		/* Only a sample sent after the line came answers it. */
		if (ordinal <= r->after) {
			continue;
		}
		if (r->stage == STAGE_WAIT) {
			sample_add_mark(sample, r->kind, r->pid, 0, r->name);
			r->stage = STAGE_ANSWERED;
		} else if (r->stage == STAGE_CONFIRM) {
			sample_add_mark(sample, SAMPLE_MARK_SETTLED, r->pid, 0,
					"");
			r->stage = STAGE_CONFIRMED;
		}
	}
}

/* An end is looked at once more while sessions the test opened are
 * open, and again while some of those close between two looks. */
static bool settle_again(struct testmark *m, struct request *r)
{
	struct pipeline *p = target_pipeline(m->target);
	size_t left;

	if (r->kind != SAMPLE_MARK_END || r->rounds >= TESTMARK_SETTLE_ROUNDS) {
		return false;
	}
	left = tests_left_open(&p->tests, &p->tracker, r->pid);
	if (left == 0 || (r->rounds > 0 && left >= r->left)) {
		return false;
	}
	r->left = left;
	r->rounds++;
	return true;
}

static void finish(struct testmark *m, struct conn *c, const char *text,
		   int64_t now_ms)
{
	answer(c, text);
	c->req.stage = STAGE_NONE;
	next_lines(m, c, now_ms);
}

void testmark_outcome(struct testmark *m, bool ok, int64_t now_ms)
{
	for (size_t i = 0; ok && i < m->count; i++) {
		struct conn *c = &m->conns[i];
		struct request *r = &c->req;

		if (r->stage != STAGE_ANSWERED && r->stage != STAGE_CONFIRMED) {
			continue;
		}
		if (settle_again(m, r)) {
			r->stage = STAGE_PAUSE;
			r->pause_until_ms = now_ms + TESTMARK_SETTLE_MS;
		} else {
			finish(m, c, "ok\n", now_ms);
		}
	}
	/* Lines still waiting get the next sample at once. */
	m->requested_ms = now_ms - TESTMARK_RETRY_MS;
	reap(m);
}

void testmark_tick(struct testmark *m, int64_t now_ms)
{
	bool need = false;

	for (size_t i = 0; i < m->count; i++) {
		struct conn *c = &m->conns[i];
		struct request *r = &c->req;

		if (r->stage == STAGE_PAUSE && now_ms >= r->pause_until_ms) {
			r->stage = STAGE_CONFIRM;
			r->after = target_samples_sent(m->target);
		}
		if (r->stage != STAGE_NONE &&
		    now_ms - r->since_ms >= TESTMARK_GIVE_UP_MS) {
			notice_say("a test boundary waited %.0fs for a sample "
				   "and was dropped",
				   TESTMARK_GIVE_UP_MS / 1000.0);
			finish(m, c, "error no sample could be taken\n",
			       now_ms);
		}
		need |= r->stage == STAGE_WAIT || r->stage == STAGE_CONFIRM;
	}
	if (need && now_ms - m->requested_ms >= TESTMARK_RETRY_MS) {
		m->requested_ms = now_ms;
		target_sample_now(m->target, now_ms);
	}
	reap(m);
}

int64_t testmark_next_wake_ms(const struct testmark *m)
{
	int64_t wake = INT64_MAX;

	for (size_t i = 0; i < m->count; i++) {
		const struct request *r = &m->conns[i].req;
		int64_t w = INT64_MAX;

		if (r->stage == STAGE_PAUSE) {
			w = r->pause_until_ms;
		} else if (r->stage == STAGE_WAIT ||
			   r->stage == STAGE_CONFIRM) {
			w = m->requested_ms + TESTMARK_RETRY_MS;
		}
		if (r->stage != STAGE_NONE &&
		    r->since_ms + TESTMARK_GIVE_UP_MS < w) {
			w = r->since_ms + TESTMARK_GIVE_UP_MS;
		}
		wake = w < wake ? w : wake;
	}
	return wake;
}

/* ---- for the environment's export (testmark_env.c) ---- */

const char *testmark_tests_path(const struct testmark *m)
{
	return m->path;
}

const char *testmark_hooks_path(const struct testmark *m)
{
	return m->hooks != NULL ? hooks_path(m->hooks) : NULL;
}
