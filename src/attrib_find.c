/*
 * attrib_find.c - the processes behind a call's sessions (see attrib.c's
 * header): each client socket's inode (from the TCP table, or a unix
 * socket's peer through the backend's fd), then its holder among the
 * processes' fds, the sockets' owners' first, memoised for the call;
 * and what the read-ahead of a one-shot run already found.
 */
#include "attrib_private.h"

#include "notice.h"
#include "procscan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool attributor_parent_of(int pid, int *ppid)
{
	unsigned long long start;

	return procscan_stat(pid, ppid, &start);
}

/* Forgets what the last call read: processes change between calls. */
void attrib_memo_reset(struct attributor *a, size_t expected)
{
	for (size_t i = 0; i < a->memo_count; i++) {
		free(a->memo[i].command);
	}
	a->memo_count = 0;
	pidmap_reset(&a->memo_index, expected);
}

/* The process's stat line, read once a call. */
static struct proc_memo *memo_stat(struct attributor *a, int pid)
{
	struct proc_memo *m;
	size_t i;

	if (pidmap_get(&a->memo_index, pid, &i)) {
		return &a->memo[i];
	}
	xgrow((void **)&a->memo, &a->memo_cap, a->memo_count + 1,
	      sizeof(*a->memo));
	m = &a->memo[a->memo_count];
	memset(m, 0, sizeof(*m));
	m->pid = pid;
	m->stat_ok = procscan_stat(pid, &m->ppid, &m->start_ticks);
	pidmap_put(&a->memo_index, pid, a->memo_count++);
	return m;
}

/* The process's command line, read once a call. */
const char *attrib_memo_command(struct attributor *a, int pid)
{
	struct proc_memo *m = memo_stat(a, pid);

	if (m->command == NULL) {
		char command[COMMAND_MAX];

		procscan_command(pid, command, sizeof(command));
		m->command = xstrdup(command);
	}
	return m->command;
}

enum client_relation attrib_relation_to(struct attributor *a, int pid)
{
	if (a->wrapped_pid <= 0) {
		return CLIENT_RELATION_UNRELATED;
	}
	if (pid == a->wrapped_pid) {
		return CLIENT_RELATION_COMMAND;
	}
	/* Up the parent chain; bounded, in case of a race with reparenting. */
	for (int depth = 0; depth < 128 && pid > 1; depth++) {
		const struct proc_memo *m = memo_stat(a, pid);

		if (!m->stat_ok) {
			break;
		}
		if (m->ppid == a->wrapped_pid) {
			return CLIENT_RELATION_DESCENDANT;
		}
		pid = m->ppid;
	}
	return CLIENT_RELATION_UNRELATED;
}

void attrib_find_tcp_inodes(const struct attributor *a,
			    const struct sample *sample, struct pending *p,
			    size_t n)
{
	struct tcp_socket *sockets = NULL;
	size_t count = 0;
	bool any = false;

	for (size_t i = 0; i < n && !any; i++) {
		any = !p[i].settled &&
		      sample->sessions[p[i].session].client_port > 0;
	}
	if (!any) {
		return;
	}
	procscan_tcp_clients(a->server_port, &sockets, &count);
	for (size_t i = 0; i < n; i++) {
		const struct session *s = &sample->sessions[p[i].session];
		const struct tcp_socket *found;
		struct ip_addr addr;

		if (p[i].settled || s->client_port <= 0 ||
		    !clientproc_parse_addr(s->client_addr, &addr)) {
			continue;
		}
		found = procscan_find_tcp(sockets, count, s->client_port,
					  &addr);
		if (found != NULL) {
			p[i].inode = found->inode;
			p[i].uid = found->uid;
			if (p[i].inode == 0) {
				p[i].reason = UNTRACED_CLOSING;
			}
		}
	}
	free(sockets);
}

/* For each unix-socket session: its backend's socket, then the peer. */
void attrib_find_unix_inodes(struct attributor *a, const struct sample *sample,
			     struct pending *p, size_t n)
{
	struct unix_sock *socks = NULL;
	size_t count = 0;
	bool any = false;

	for (size_t i = 0; i < n && !any; i++) {
		any = !p[i].settled &&
		      sample->sessions[p[i].session].client_port == -1;
	}
	if (!any || !procscan_dump_unix(a->server_port, &socks, &count)) {
		free(socks);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct session *s = &sample->sessions[p[i].session];
		const struct unix_sock *sock;
		int error;

		if (s->client_port != -1 || p[i].pid > 0 || p[i].settled) {
			continue;
		}
		sock = procscan_backend_socket(s->pid, socks, count,
					       &a->backend_fd, &error);
		if (sock != NULL) {
			p[i].inode = sock->peer;
			p[i].uid = sock->peer_uid;
			if (sock->peer == 0) {
				p[i].reason = UNTRACED_CLOSING;
			}
		} else if (error == EACCES || error == EPERM) {
			/* (A backend gone since the sample is no news.) */
			p[i].reason = UNTRACED_NO_BACKEND;
		}
	}
	free(socks);
}

/* A wanted socket, by inode, and the process found holding it. */
struct wanted_inode {
	unsigned long inode;
	size_t pending;
};

static int compare_wanted(const void *pa, const void *pb)
{
	const struct wanted_inode *a = pa;
	const struct wanted_inode *b = pb;

	return (a->inode > b->inode) - (a->inode < b->inode);
}

/* A process holding a wanted socket.  Where several hold it (a fork
 * after connecting), the one started last: the parent only forked. */
/* True when p had no holder before. */
static bool note_holder(struct attributor *a, struct pending *p, int pid)
{
	const struct proc_memo *m = memo_stat(a, pid);
	bool first = p->pid == 0;

	if (!m->stat_ok) {
		return false;
	}
	if (clientproc_holder_wins(pid, m->start_ticks, p->pid,
				   p->start_ticks)) {
		p->pid = pid;
		p->start_ticks = m->start_ticks;
	}
	return first;
}

/* The wanted sockets pid holds; returns how many had no holder yet. */
static size_t scan_process(struct attributor *a, int pid,
			   const struct wanted_inode *wanted, size_t count,
			   struct pending *p)
{
	struct socket_fd *socks;
	size_t n;
	size_t found = 0;

	a->fds_read++;
	if (procscan_socket_fds(pid, &socks, &n) != 0) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct wanted_inode key = {.inode = socks[i].inode};
		const struct wanted_inode *w = bsearch(&key, wanted, count,
						       sizeof(*wanted),
						       compare_wanted);

		if (w != NULL && note_holder(a, &p[w->pending], pid)) {
			found++;
		}
	}
	free(socks);
	return found;
}

/* Keeps pid first among the likely holders of new sessions. */
static void remember_holder(struct attributor *a, int pid)
{
	size_t i = 0;

	while (i < a->holder_count && a->holders[i] != pid) {
		i++;
	}
	if (i == a->holder_count && a->holder_count < HOLDERS_KEPT) {
		a->holder_count++;
	}
	if (i == HOLDERS_KEPT) {
		i--;
	}
	memmove(a->holders + 1, a->holders, i * sizeof(*a->holders));
	a->holders[0] = pid;
}

/* The full pass's state, for procscan_visit_owners_first(). */
struct holder_search {
	struct attributor *a;
	const struct wanted_inode *wanted;
	size_t count;
	struct pending *p;
	size_t missing;
};

static bool look_for_holders(int pid, void *ctx)
{
	struct holder_search *h = ctx;

	h->missing -= scan_process(h->a, pid, h->wanted, h->count, h->p);
	return h->missing > 0;
}

/*
 * The process holding each wanted socket.  The processes that held
 * sessions before are looked at first: a leaking process keeps leaking,
 * and finding its new sockets there spares a look at every fd of every
 * process.  The full pass skips the server's own backends, and looks
 * first at the processes of the sockets' owners: another server's
 * thousands of backends on the host are not read before the client.
 */
void attrib_find_holders(struct attributor *a, const struct sample *sample,
			 struct pending *p, size_t n)
{
	struct wanted_inode *wanted = xcalloc(n + 1, sizeof(*wanted));
	uint32_t *uids = xcalloc(n + 1, sizeof(*uids));
	int *skip = xcalloc(sample->session_count + HOLDERS_KEPT + 1,
			    sizeof(*skip));
	int *pids = NULL;
	size_t count = 0;
	size_t uid_count;
	size_t skip_count = 0;
	size_t missing;
	size_t pid_count = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i].inode != 0 && !p[i].settled) {
			uids[count] = p[i].uid;
			wanted[count].inode = p[i].inode;
			wanted[count++].pending = i;
		}
	}
	uid_count = procscan_uid_set(uids, count);
	qsort(wanted, count, sizeof(*wanted), compare_wanted);
	missing = count;
	for (size_t i = 0; i < a->holder_count && count > 0; i++) {
		missing -= scan_process(a, a->holders[i], wanted, count, p);
		skip[skip_count++] = a->holders[i];
	}
	if (missing > 0) {
		/* A console's session pids are its clients' ids, not
		 * processes. */
		for (size_t i = 0;
		     i < sample->session_count &&
		     sample->server.source == SAMPLE_SOURCE_SERVER;
		     i++) {
			skip[skip_count++] = sample->sessions[i].pid;
		}
		if (skip_count > 1) {
			qsort(skip, skip_count, sizeof(*skip),
			      procscan_compare_pid);
		}
		pid_count = procscan_list_processes(skip, skip_count, &pids);
	}
	if (missing > 0) {
		struct holder_search h = {.a = a,
					  .wanted = wanted,
					  .count = count,
					  .p = p,
					  .missing = missing};

		procscan_visit_owners_first(pids, pid_count, uids, uid_count,
					    look_for_holders, &h);
	}
	for (size_t i = n; i-- > 0;) {
		if (p[i].pid > 0) {
			remember_holder(a, p[i].pid);
		}
	}
	free(pids);
	free(skip);
	free(uids);
	free(wanted);
}

/* ---- the read-ahead's answers ---- */

void attributor_read_ahead_early(struct attributor *a, const char *socket_dir,
				 int port, int conn_fd)
{
	char path[4200];
	char text[64];
	char *end;
	long pid;

	/* The socket's lock file names the postmaster on its first line
	 * (readable by the server's OS user, as its backends' fds are). */
	snprintf(path, sizeof(path), "%s/.s.PGSQL.%d.lock", socket_dir, port);
	/* Read for this attempt alone: one left from an attempt before
	 * (a server starting up) is stale, its pids maybe reused since. */
	readahead_free(a->ahead);
	a->ahead = NULL;
	if (procscan_read_small(path, text, sizeof(text)) <= 0) {
		return;
	}
	pid = strtol(text, &end, 10);
	if (end != text && pid > 1 && pid <= 0x7fffffff) {
		a->ahead = readahead_start((int)pid, port,
					   attrib_socket_inode(conn_fd));
	}
}

void attributor_read_ahead(struct attributor *a, int backend_pid)
{
	int postmaster = 0;
	bool known = a->server_local && backend_pid > 0 &&
		     attributor_parent_of(backend_pid, &postmaster) &&
		     postmaster > 1;

	if (a->ahead != NULL &&
	    (!known || !readahead_is_for(a->ahead, postmaster, a->own_inode))) {
		/* Read for another postmaster (a stale lock file, a server
		 * in another pid namespace) or another socket of ours. */
		if (a->debug) {
			notice_say("debug: attribution: what was read ahead "
				   "is not for this server's postmaster "
				   "(pid %d): read again",
				   postmaster);
		}
		readahead_free(a->ahead);
		a->ahead = NULL;
	}
	if (a->ahead == NULL && known) {
		a->ahead = readahead_start(postmaster, a->server_port,
					   a->own_inode);
	}
}

/* The client end of session s as read ahead: true when it was. */
static bool ahead_socket(const struct readahead *r, const struct sample *sample,
			 const struct session *s, unsigned long *inode)
{
	struct ip_addr addr;

	if (s->client_port == -1) {
		/* A console's unix-socket sessions are not backends. */
		return sample->server.source == SAMPLE_SOURCE_SERVER &&
		       readahead_unix_peer(r, s->pid, inode);
	}
	return s->client_port > 0 &&
	       clientproc_parse_addr(s->client_addr, &addr) &&
	       readahead_tcp_inode(r, s->client_port, &addr, inode);
}

/* Settles each session the read-ahead knows all of: its socket, then
 * its holder (or that it has closed, or that no readable process holds
 * it).  The others are traced as usual. */
size_t attrib_use_read_ahead(struct attributor *a, const struct sample *sample,
			     struct pending *p, size_t n, size_t *fds_read)
{
	struct readahead *r = a->ahead;
	size_t settled = 0;

	a->ahead = NULL; /* one sample's worth */
	readahead_wait(r);
	*fds_read = readahead_fds_read(r);
	for (size_t i = 0; i < n; i++) {
		unsigned long inode;

		if (p[i].pid > 0 ||
		    !ahead_socket(r, sample, &sample->sessions[p[i].session],
				  &inode)) {
			continue;
		}
		p[i].inode = inode;
		if (inode == 0) {
			p[i].reason = UNTRACED_CLOSING;
			p[i].settled = true;
		} else {
			p[i].settled = readahead_holder(r, inode, &p[i].pid,
							&p[i].start_ticks);
		}
		settled += p[i].settled;
	}
	readahead_free(r);
	return settled;
}
