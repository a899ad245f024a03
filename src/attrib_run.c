/*
 * attrib_run.c - one call of the attributor (see attrib.h): each session
 * answered from the cache by identity, or queued, classified (a remote
 * client, a remote server), looked for (attrib_find.c), and given up on
 * once it has been missed patience times; and the warnings that say
 * which sessions could not be traced, and why, once each.
 */
#include "attrib.h"
#include "attrib_private.h"

#include "notice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct traced *cache_find(struct attributor *a, const struct session *s)
{
	size_t i;

	if (a->cache_count == 0) {
		return NULL;
	}
	/* The cache is in the last sample's order, which the server keeps:
	 * the entry after the last one found is nearly always it. */
	i = a->cache_next;
	if (i >= a->cache_count || a->cache[i].id.pid != s->pid) {
		if (!pidmap_get(&a->cache_index, s->pid, &i)) {
			return NULL;
		}
	}
	a->cache_next = i + 1;
	/* A pid reused by a new backend is another session. */
	return session_id_equal(a->cache[i].id, session_id_of(s)) ? &a->cache[i]
								  : NULL;
}

static void apply(struct sample *sample, struct session *s,
		  const struct traced *t)
{
	if (t->client_pid > 0) {
		s->client_pid = t->client_pid;
		s->client_command = sample_strdup(sample, t->command);
		s->client_relation = t->relation;
	}
}

/* Queues the session for tracing (true), or says why it cannot be. */
static bool classify(struct attributor *a, const struct session *s,
		     enum untraced *reason)
{
	struct ip_addr addr;

	if (s->client_port == -1) {
		*reason = UNTRACED_REMOTE_SERVER;
		return a->server_local;
	}
	if (s->client_port <= 0 ||
	    !clientproc_parse_addr(s->client_addr, &addr)) {
		/* Hidden by the server: the privilege warning covers it. */
		*reason = UNTRACED_COUNT;
		return false;
	}
	if (!attrib_is_local_addr(a, &addr)) {
		*reason = UNTRACED_REMOTE_CLIENT;
		if (a->remote_example[0] == '\0') {
			snprintf(a->remote_example, sizeof(a->remote_example),
				 "%s", s->client_addr);
		}
		return false;
	}
	return true;
}

/* A session that will not be traced: counted once, when given up on. */
static void give_up(struct attributor *a, struct traced *t,
		    enum untraced reason)
{
	t->given_up = true;
	if (reason != UNTRACED_COUNT) {
		a->untraced[reason]++;
	}
}

static struct traced *add_fresh(struct traced *fresh, size_t *count,
				const struct session *s)
{
	struct traced *t = &fresh[(*count)++];

	memset(t, 0, sizeof(*t));
	t->id = session_id_of(s);
	return t;
}

/*
 * A session found nowhere may simply have closed since the sample was
 * taken: it is given up on only when it is still there, and still not
 * found, at the next sample.
 */
static void resolve(struct attributor *a, struct sample *sample,
		    const struct pending *p, struct traced *t)
{
	if (p->pid > 0) {
		t->client_pid = p->pid;
		t->command = xstrdup(attrib_memo_command(a, p->pid));
		t->relation = attrib_relation_to(a, p->pid);
		apply(sample, &sample->sessions[p->session], t);
		return;
	}
	if (p->reason == UNTRACED_CLOSING) {
		/* Gone by the next sample; if not, looked for again. */
		return;
	}
	if (p->reason == UNTRACED_NO_BACKEND || ++t->misses >= a->patience) {
		give_up(a, t,
			p->reason != UNTRACED_COUNT ? p->reason
			: p->inode != 0             ? UNTRACED_NOT_VISIBLE
						    : UNTRACED_NO_SOCKET);
	}
}

void attributor_run(struct attributor *a, struct sample *sample,
		    const bool *wanted)
{
	size_t n = 0;
	size_t fresh_count = 0;
	struct traced *fresh;
	int have_proc = -1; /* asked once, when something is to be traced */

	/* Buffers kept between calls: a sample with nothing new to trace
	 * allocates nothing. */
	xgrow((void **)&a->spare, &a->spare_cap, sample->session_count + 1,
	      sizeof(*a->spare));
	xgrow((void **)&a->pending, &a->pending_cap, sample->session_count + 1,
	      sizeof(*a->pending));
	xgrow((void **)&a->pending_misses, &a->pending_misses_cap,
	      sample->session_count + 1, sizeof(*a->pending_misses));
	fresh = a->spare;
	a->cache_next = 0;
	a->local_read = false; /* interfaces change between calls */
	for (size_t i = 0; i < sample->session_count; i++) {
		struct session *s = &sample->sessions[i];
		struct traced *old;
		enum untraced reason;

		if (s->weight != 1 || s->pid <= 0) {
			continue;
		}
		old = cache_find(a, s);
		if (old != NULL && (old->client_pid > 0 || old->given_up)) {
			/* Found, or given up on: no second look.  The entry
			 * moves to the new cache, its string with it.  Every
			 * session once traced keeps its process, wanted or
			 * not: a process that came and went from sample to
			 * sample would be news in the record each time. */
			apply(sample, s, old);
			fresh[fresh_count++] = *old;
			old->command = NULL;
			continue;
		}
		if (!wanted[i]) {
			continue;
		}
		if (have_proc < 0) {
			have_proc = access("/proc/net/tcp", R_OK) == 0;
		}
		if (!have_proc) {
			give_up(a, add_fresh(fresh, &fresh_count, s),
				UNTRACED_NO_PROC);
		} else if (s->client_pid > 0) {
			/* Known already (a console's unix-socket client): its
			 * command line is all that is missing. */
			a->pending_misses[n] = 0;
			a->pending[n++] =
				(struct pending){.session = i,
						 .uid = CLIENTPROC_NO_UID,
						 .pid = s->client_pid,
						 .reason = UNTRACED_COUNT};
		} else if (sample->server.source == SAMPLE_SOURCE_PGBOUNCER &&
			   s->client_port == -1) {
			/* A unix-socket client the console names no pid
			 * for (another pid namespace): no backend to ask. */
			give_up(a, add_fresh(fresh, &fresh_count, s),
				UNTRACED_NO_SOCKET);
		} else if (!classify(a, s, &reason)) {
			give_up(a, add_fresh(fresh, &fresh_count, s), reason);
		} else {
			a->pending_misses[n] = old != NULL ? old->misses : 0;
			a->pending[n++] =
				(struct pending){.session = i,
						 .uid = CLIENTPROC_NO_UID,
						 .reason = UNTRACED_COUNT};
		}
	}
	if (n > 0) {
		bool read_ahead = a->ahead != NULL;
		size_t settled = 0;
		size_t ahead_fds_read = 0;
		size_t found = 0;

		attrib_memo_reset(a, 16);
		a->fds_read = 0;
		if (read_ahead) {
			settled = attrib_use_read_ahead(a, sample, a->pending,
							n, &ahead_fds_read);
		}
		attrib_find_tcp_inodes(a, sample, a->pending, n);
		attrib_find_unix_inodes(a, sample, a->pending, n);
		attrib_find_holders(a, sample, a->pending, n);
		for (size_t i = 0; i < n; i++) {
			struct traced *t = add_fresh(
				fresh, &fresh_count,
				&sample->sessions[a->pending[i].session]);

			t->misses = a->pending_misses[i];
			resolve(a, sample, &a->pending[i], t);
			found += a->pending[i].pid > 0;
		}
		if (a->debug) {
			notice_say("debug: attribution: %zu sessions traced, "
				   "%zu found; %s%zu answered by the "
				   "read-ahead; the fds of %zu processes "
				   "read (%zu by the read-ahead)",
				   n, found,
				   read_ahead ? "" : "no read-ahead, ", settled,
				   a->fds_read + ahead_fds_read,
				   ahead_fds_read);
		}
	}
	readahead_free(a->ahead); /* nothing to trace: not needed */
	a->ahead = NULL;
	for (size_t i = 0; i < a->cache_count; i++) {
		free(a->cache[i].command); /* those not moved */
	}
	pidmap_reset(&a->cache_index, fresh_count);
	for (size_t i = 0; i < fresh_count; i++) {
		pidmap_put(&a->cache_index, fresh[i].id.pid, i);
	}
	/* The two buffers swap roles. */
	a->spare = a->cache;
	a->cache = fresh;
	a->cache_count = fresh_count;
	{
		size_t cap = a->spare_cap;

		a->spare_cap = a->cache_cap;
		a->cache_cap = cap;
	}
}

size_t attributor_warnings(const struct attributor *a, char (*lines)[512],
			   size_t max)
{
	size_t n = 0;
	static const char *const why[UNTRACED_COUNT] = {
		[UNTRACED_REMOTE_SERVER] =
			"the server runs on another host, so its unix-socket "
			"clients cannot be traced from here",
		[UNTRACED_NO_BACKEND] =
			"unix-socket clients are traced through the server's "
			"processes, which this user may not read: run pgdrip "
			"as the server's OS user (postgres) or root",
		[UNTRACED_NO_SOCKET] =
			"their client ends are not among this host's sockets "
			"(the client exited, or runs in a container or "
			"another network namespace)",
		[UNTRACED_NOT_VISIBLE] =
			"no process this user may look into holds their "
			"sockets: run pgdrip as the clients' OS user or root",
		[UNTRACED_NO_PROC] = "tracing needs Linux's /proc",
	};

	if (a->untraced[UNTRACED_REMOTE_CLIENT] > 0 && n < max) {
		snprintf(lines[n++], 512,
			 "client processes: %zu session%s from "
			 "other hosts (e.g. %s) cannot be traced to "
			 "a process; only this host's clients can",
			 a->untraced[UNTRACED_REMOTE_CLIENT],
			 a->untraced[UNTRACED_REMOTE_CLIENT] == 1 ? "" : "s",
			 a->remote_example);
	}
	for (int r = UNTRACED_REMOTE_SERVER; r < UNTRACED_COUNT; r++) {
		if (a->untraced[r] > 0 && why[r] != NULL && n < max) {
			snprintf(lines[n++], 512,
				 "client processes: %zu session%s "
				 "not traced: %s",
				 a->untraced[r], a->untraced[r] == 1 ? "" : "s",
				 why[r]);
		}
	}
	return n;
}
