/*
 * attrib.c - the local process behind each session (see attrib.h).
 *
 * A TCP client is found by its end of the connection: the socket in
 * /proc/net/tcp{,6} whose local address and port are the session's
 * client_addr and client_port and whose remote port is the server's.  A
 * unix-socket client has no port to go by: the backend's own socket
 * (from /proc/BACKEND/fd) leads to its peer through the kernel's socket
 * diagnostics (NETLINK_SOCK_DIAG, UNIX_DIAG_PEER).  Either way the socket
 * inode is then looked for among every process's fds in /proc/PID/fd.
 *
 * PgBouncer's console lists its clients the same way, with the pooler's
 * port as the server's: a TCP client is found alike, and a unix-socket
 * client comes with its pid (the socket's peer credentials), so only
 * its command line is read.
 */
#include "attrib.h"

#include "notice.h"
#include "procscan.h"
#include "readahead.h"

#include "core/clientproc.h"
#include "core/common.h"
#include "core/pidmap.h"
#include "core/session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { COMMAND_MAX = 200, HOLDERS_KEPT = 8 };

/* Why a session was left untraced; each is said once, in the warnings. */
enum untraced {
	UNTRACED_REMOTE_CLIENT, /* client_addr is not this host's */
	UNTRACED_REMOTE_SERVER, /* a unix-socket client of another host */
	UNTRACED_NO_BACKEND,    /* the backend's fds are not readable */
	UNTRACED_NO_SOCKET,     /* the socket is not in this namespace */
	UNTRACED_NOT_VISIBLE,   /* no readable process holds the socket */
	UNTRACED_NO_PROC,       /* not Linux, or /proc not mounted */
	UNTRACED_CLOSING,       /* the client has closed: no news */
	UNTRACED_COUNT
};

/* A session traced once, answered from the cache afterwards. */
struct traced {
	struct session_id id; /* the session traced (session.h) */
	int client_pid;       /* 0: not found */
	enum client_relation relation;
	char *command; /* owned */
	int misses;    /* looked for and not found, so far */
	bool given_up; /* untraceable: not looked for again */
};

/* What one call learns about a process, read from /proc at most once:
 * 5,000 sessions held by five processes cost five reads, not 5,000. */
struct proc_memo {
	int pid;
	bool stat_ok;
	int ppid;
	unsigned long long start_ticks;
	char *command; /* owned; NULL until asked */
};

/* A session being traced in this call. */
struct pending {
	size_t session;
	unsigned long inode; /* the client's socket; 0 not (yet) known */
	uint32_t uid;        /* the socket's owner; CLIENTPROC_NO_UID */
	int pid;             /* the process holding it; 0 none found */
	unsigned long long start_ticks;
	enum untraced reason; /* when pid stays 0 */
	bool settled;         /* answered by the read-ahead: no second look */
};

struct attributor {
	bool server_local;
	unsigned long own_inode; /* pgdrip's own socket to the server */
	struct readahead *ahead; /* a one-shot run's, until its sample */
	struct ip_addr *local;   /* this host's addresses, read once a call */
	size_t local_count;
	bool local_read;
	int server_port;
	int wrapped_pid;
	int patience;   /* misses before a session is given up on */
	int backend_fd; /* where backends held their client socket; -1 */
	int holders[HOLDERS_KEPT]; /* recent holders, most recent first */
	size_t holder_count;
	struct traced *cache; /* in the last sample's order */
	size_t cache_count;
	size_t cache_cap;
	struct pidmap cache_index; /* the session's pid -> its cache entry */
	size_t cache_next;         /* the entry likely asked for next */
	struct proc_memo *memo;    /* processes read in this call */
	size_t memo_count;
	size_t memo_cap;
	struct pidmap memo_index;
	struct traced *spare; /* the next cache, being built */
	size_t spare_cap;
	struct pending *pending; /* sessions being traced in one call */
	size_t pending_cap;
	int *pending_misses;
	size_t pending_misses_cap;
	size_t untraced[UNTRACED_COUNT];
	bool debug;      /* PGDRIP_DEBUG=attribution: say how each call went */
	size_t fds_read; /* processes whose fds this call read */
	char remote_example[64];
};

struct attributor *attributor_new(void)
{
	struct attributor *a = xcalloc(1, sizeof(*a));

	a->server_port = 5432;
	a->patience = 2;
	a->backend_fd = -1;
	{
		const char *debug = getenv("PGDRIP_DEBUG");

		a->debug = debug != NULL &&
			   strstr(debug, "attribution") != NULL;
	}
	return a;
}

static void free_cache(struct traced *cache, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(cache[i].command);
	}
	free(cache);
}

void attributor_free(struct attributor *a)
{
	if (a == NULL) {
		return;
	}
	free_cache(a->cache, a->cache_count);
	free(a->spare);
	free(a->pending);
	free(a->pending_misses);
	pidmap_finish(&a->cache_index);
	for (size_t i = 0; i < a->memo_count; i++) {
		free(a->memo[i].command);
	}
	free(a->memo);
	pidmap_finish(&a->memo_index);
	free(a->local);
	readahead_free(a->ahead);
	free(a);
}

void attributor_set_single_look(struct attributor *a)
{
	a->patience = 1;
}

void attributor_set_wrapped(struct attributor *a, int pid)
{
	a->wrapped_pid = pid;
}

/* This host's interface addresses, read once a call: a getifaddrs()
 * for each of 5,000 sessions would be 5,000 netlink dumps. */
static void read_local_addrs(struct attributor *a)
{
	struct ifaddrs *list;
	size_t cap = 0;

	a->local_read = true;
	a->local_count = 0;
	if (getifaddrs(&list) != 0) {
		return;
	}
	for (struct ifaddrs *i = list; i != NULL; i = i->ifa_next) {
		char text[INET6_ADDRSTRLEN];
		const struct sockaddr *sa = i->ifa_addr;
		struct ip_addr mine;

		if (sa == NULL) {
			continue;
		}
		if (sa->sa_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)sa;

			inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
		} else if (sa->sa_family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const void *)sa;

			inet_ntop(AF_INET6, &in6->sin6_addr, text,
				  sizeof(text));
		} else {
			continue;
		}
		if (clientproc_parse_addr(text, &mine)) {
			xgrow((void **)&a->local, &cap, a->local_count + 1,
			      sizeof(*a->local));
			a->local[a->local_count++] = mine;
		}
	}
	freeifaddrs(list);
}

/* True when addr is one of this host's: loopback or an interface's. */
static bool is_local_addr(struct attributor *a, const struct ip_addr *addr)
{
	if (clientproc_is_loopback(addr)) {
		return true;
	}
	if (!a->local_read) {
		read_local_addrs(a);
	}
	for (size_t i = 0; i < a->local_count; i++) {
		if (clientproc_addr_equal(&a->local[i], addr)) {
			return true;
		}
	}
	return false;
}

/* The inode of pgdrip's own socket to the server; 0 when not one. */
static unsigned long socket_inode(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)
		       ? (unsigned long)st.st_ino
		       : 0;
}

void attributor_set_server(struct attributor *a, int conn_fd, int port)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	char text[INET6_ADDRSTRLEN] = "";
	struct ip_addr addr;

	a->server_port = port > 0 ? port : 5432;
	a->server_local = false;
	a->local_read = false;
	a->own_inode = socket_inode(conn_fd);
	if (conn_fd < 0 ||
	    getpeername(conn_fd, (struct sockaddr *)&peer, &len) != 0) {
		return;
	}
	if (peer.ss_family == AF_UNIX) {
		a->server_local = true;
		return;
	}
	if (peer.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr,
			  text, sizeof(text));
	} else if (peer.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr,
			  text, sizeof(text));
	}
	a->server_local = clientproc_parse_addr(text, &addr) &&
			  is_local_addr(a, &addr);
}

/* ---- the cache ---- */

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

/* ---- reading /proc ---- */

bool attributor_parent_of(int pid, int *ppid)
{
	unsigned long long start;

	return procscan_stat(pid, ppid, &start);
}

/* Forgets what the last call read: processes change between calls. */
static void memo_reset(struct attributor *a, size_t expected)
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
static const char *memo_command(struct attributor *a, int pid)
{
	struct proc_memo *m = memo_stat(a, pid);

	if (m->command == NULL) {
		char command[COMMAND_MAX];

		procscan_command(pid, command, sizeof(command));
		m->command = xstrdup(command);
	}
	return m->command;
}

static enum client_relation relation_to(struct attributor *a, int pid)
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

static void find_tcp_inodes(const struct attributor *a,
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
static void find_unix_inodes(struct attributor *a, const struct sample *sample,
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
static void find_holders(struct attributor *a, const struct sample *sample,
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
					   socket_inode(conn_fd));
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
static size_t use_read_ahead(struct attributor *a, const struct sample *sample,
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

/* ---- one call ---- */

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
	if (!is_local_addr(a, &addr)) {
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
		t->command = xstrdup(memo_command(a, p->pid));
		t->relation = relation_to(a, p->pid);
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

		memo_reset(a, 16);
		a->fds_read = 0;
		if (read_ahead) {
			settled = use_read_ahead(a, sample, a->pending, n,
						 &ahead_fds_read);
		}
		find_tcp_inodes(a, sample, a->pending, n);
		find_unix_inodes(a, sample, a->pending, n);
		find_holders(a, sample, a->pending, n);
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
