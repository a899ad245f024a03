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

#include "core/clientproc.h"
#include "core/common.h"
#include "core/pidmap.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
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
	int backend_pid;
	int client_port;
	int client_pid; /* 0: not found */
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
	int pid;             /* the process holding it; 0 none found */
	unsigned long long start_ticks;
	enum untraced reason; /* when pid stays 0 */
};

struct attributor {
	bool server_local;
	int server_port;
	int wrapped_pid;
	int patience;   /* misses before a session is given up on */
	int backend_fd; /* where backends held their client socket; -1 */
	int holders[HOLDERS_KEPT]; /* recent holders, most recent first */
	size_t holder_count;
	struct traced *cache; /* in the last sample's order */
	size_t cache_count;
	size_t cache_cap;
	struct pidmap cache_index; /* backend_pid -> its cache entry */
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
	char remote_example[64];
};

struct attributor *attributor_new(void)
{
	struct attributor *a = xcalloc(1, sizeof(*a));

	a->server_port = 5432;
	a->patience = 2;
	a->backend_fd = -1;
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

/* True when addr is one of this host's: loopback or an interface's. */
static bool is_local_addr(const struct ip_addr *addr)
{
	struct ifaddrs *list;
	bool found = false;

	if (clientproc_is_loopback(addr)) {
		return true;
	}
	if (getifaddrs(&list) != 0) {
		return false;
	}
	for (struct ifaddrs *i = list; i != NULL && !found; i = i->ifa_next) {
		struct ip_addr mine;
		char text[INET6_ADDRSTRLEN];
		const struct sockaddr *sa = i->ifa_addr;

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
		found = clientproc_parse_addr(text, &mine) &&
			clientproc_addr_equal(&mine, addr);
	}
	freeifaddrs(list);
	return found;
}

void attributor_set_server(struct attributor *a, int conn_fd, int port)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	char text[INET6_ADDRSTRLEN] = "";
	struct ip_addr addr;

	a->server_port = port > 0 ? port : 5432;
	a->server_local = false;
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
			  is_local_addr(&addr);
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
	if (i >= a->cache_count || a->cache[i].backend_pid != s->pid) {
		if (!pidmap_get(&a->cache_index, s->pid, &i)) {
			return NULL;
		}
	}
	a->cache_next = i + 1;
	/* A pid reused by a new backend comes with another client port. */
	return a->cache[i].client_port == s->client_port ? &a->cache[i] : NULL;
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

/* Reads a small /proc file into buf (NUL-terminated); its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		return -1;
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0) {
		return -1;
	}
	buf[n] = '\0';
	return n;
}

static bool read_stat(int pid, int *ppid, unsigned long long *start)
{
	char path[64];
	char buf[1024];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	return read_small(path, buf, sizeof(buf)) > 0 &&
	       clientproc_parse_stat(buf, ppid, start);
}

bool attributor_parent_of(int pid, int *ppid)
{
	unsigned long long start;

	return read_stat(pid, ppid, &start);
}

static void read_command(int pid, char *out, size_t size)
{
	char path[64];
	char raw[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = read_small(path, raw, sizeof(raw));
	clientproc_format_cmdline(out, size, raw, n > 0 ? (size_t)n : 0);
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
	m->stat_ok = read_stat(pid, &m->ppid, &m->start_ticks);
	pidmap_put(&a->memo_index, pid, a->memo_count++);
	return m;
}

/* The process's command line, read once a call. */
static const char *memo_command(struct attributor *a, int pid)
{
	struct proc_memo *m = memo_stat(a, pid);

	if (m->command == NULL) {
		char command[COMMAND_MAX];

		read_command(pid, command, sizeof(command));
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

/* The client ends of TCP connections to the server's port, appended. */
static void load_tcp(const char *path, int server_port, struct tcp_socket **out,
		     size_t *count, size_t *cap)
{
	FILE *f = fopen(path, "re");
	char line[512];

	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct tcp_socket s;

		/* Inode 0: a client end closed, lingering (TIME_WAIT). */
		if (clientproc_parse_tcp_line(line, &s) &&
		    s.remote_port == server_port) {
			xgrow((void **)out, cap, *count + 1, sizeof(**out));
			(*out)[(*count)++] = s;
		}
	}
	fclose(f);
}

static void find_tcp_inodes(const struct attributor *a,
			    const struct sample *sample, struct pending *p,
			    size_t n)
{
	struct tcp_socket *sockets = NULL;
	size_t count = 0;
	size_t cap = 0;
	bool any = false;

	for (size_t i = 0; i < n && !any; i++) {
		any = sample->sessions[p[i].session].client_port > 0;
	}
	if (!any) {
		return;
	}
	load_tcp("/proc/net/tcp", a->server_port, &sockets, &count, &cap);
	load_tcp("/proc/net/tcp6", a->server_port, &sockets, &count, &cap);
	for (size_t i = 0; i < n; i++) {
		const struct session *s = &sample->sessions[p[i].session];
		struct ip_addr addr;

		if (s->client_port <= 0 ||
		    !clientproc_parse_addr(s->client_addr, &addr)) {
			continue;
		}
		for (size_t k = 0; k < count; k++) {
			if (sockets[k].local_port == s->client_port &&
			    clientproc_addr_equal(&sockets[k].local, &addr)) {
				p[i].inode = sockets[k].inode;
				if (p[i].inode == 0) {
					p[i].reason = UNTRACED_CLOSING;
				}
				break;
			}
		}
	}
	free(sockets);
}

/* The socket inodes a process holds, through its fd links; 0, or the
 * errno of a process gone (ENOENT) or not ours to read (EACCES). */
static int socket_inodes(int pid, unsigned long **out, size_t *count)
{
	char path[64];
	size_t cap = 0;
	DIR *dir;
	struct dirent *e;

	*out = NULL;
	*count = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (dir == NULL) {
		return errno != 0 ? errno : ENOENT;
	}
	while ((e = readdir(dir)) != NULL) {
		char link[64];
		ssize_t len;
		unsigned long inode;

		if (e->d_name[0] == '.') {
			continue;
		}
		len = readlinkat(dirfd(dir), e->d_name, link, sizeof(link) - 1);
		if (len <= 0) {
			continue;
		}
		link[len] = '\0';
		inode = clientproc_socket_inode(link);
		if (inode != 0) {
			xgrow((void **)out, &cap, *count + 1, sizeof(**out));
			(*out)[(*count)++] = inode;
		}
	}
	closedir(dir);
	return 0;
}

/* A unix socket as the kernel describes it. */
struct unix_sock {
	unsigned long inode;
	unsigned long peer;
	bool pg_path; /* bound to PostgreSQL's socket path */
};

static void parse_unix_msg(const struct nlmsghdr *h, int port,
			   struct unix_sock **out, size_t *count, size_t *cap)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	struct unix_sock sock = {.inode = m->udiag_ino};
	const struct rtattr *attr = (const void *)(m + 1);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));

	for (; RTA_OK(attr, len); attr = RTA_NEXT(attr, len)) {
		if (attr->rta_type == UNIX_DIAG_PEER &&
		    RTA_PAYLOAD(attr) >= sizeof(uint32_t)) {
			uint32_t peer;

			memcpy(&peer, RTA_DATA(attr), sizeof(peer));
			sock.peer = peer;
		} else if (attr->rta_type == UNIX_DIAG_NAME) {
			char path[sizeof(((struct sockaddr_un *)0)->sun_path) +
				  1];
			size_t n = RTA_PAYLOAD(attr);

			if (n >= sizeof(path)) {
				n = sizeof(path) - 1;
			}
			memcpy(path, RTA_DATA(attr), n);
			path[n] = '\0';
			sock.pg_path = clientproc_is_pg_socket_path(path, port);
		}
	}
	/* A backend's end whose peer is gone (0) is a session closing. */
	if (sock.pg_path) {
		xgrow((void **)out, cap, *count + 1, sizeof(**out));
		(*out)[(*count)++] = sock;
	}
}

static int compare_unix_sock(const void *pa, const void *pb)
{
	const struct unix_sock *a = pa;
	const struct unix_sock *b = pb;

	return (a->inode > b->inode) - (a->inode < b->inode);
}

/*
 * Asks the kernel for every unix socket with its peer and bound name,
 * keeping the ends bound to the server's path, the backends' (sorted by
 * inode; peer 0 when the client has closed).  False when the kernel will
 * not say (no NETLINK_SOCK_DIAG).
 */
static bool dump_unix(int port, struct unix_sock **out, size_t *count)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req req;
	} msg = {
		.h = {.nlmsg_len = sizeof(msg),
		      .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.req = {.sdiag_family = AF_UNIX,
			.udiag_states = ~0U,
			.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER},
	};
	long buf[32768 / sizeof(long)];
	size_t cap = 0;
	bool done = false;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG);

	*out = NULL;
	*count = 0;
	if (fd < 0) {
		return false;
	}
	if (send(fd, &msg, sizeof(msg), 0) != (ssize_t)sizeof(msg)) {
		close(fd);
		return false;
	}
	while (!done) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		int len = (int)got;
		const struct nlmsghdr *h = (const void *)buf;

		if (got <= 0) {
			break;
		}
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE ||
			    h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			parse_unix_msg(h, port, out, count, &cap);
		}
	}
	close(fd);
	if (*count > 1) {
		qsort(*out, *count, sizeof(**out), compare_unix_sock);
	}
	return done;
}

static const struct unix_sock *find_sock(const struct unix_sock *socks,
					 size_t count, unsigned long inode)
{
	struct unix_sock key = {.inode = inode};

	return count > 0 ? bsearch(&key, socks, count, sizeof(*socks),
				   compare_unix_sock)
			 : NULL;
}

/* The inode of the socket behind /proc/PID/fd/FD; 0 when not one. */
static unsigned long fd_socket(int pid, const char *fd, int *error)
{
	char path[300]; /* fd is a file name (NAME_MAX) */
	char link[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, fd);
	len = readlink(path, link, sizeof(link) - 1);
	if (len <= 0) {
		*error = errno;
		return 0;
	}
	link[len] = '\0';
	return clientproc_socket_inode(link);
}

/*
 * The backend's client socket among its fds: the one the socket dump
 * knows.  Backends inherit it from the postmaster under one same fd
 * number as a rule, so the number that worked last is tried first.
 */
static const struct unix_sock *backend_sock(struct attributor *a, int pid,
					    const struct unix_sock *socks,
					    size_t count, int *error)
{
	char name[32];
	const struct unix_sock *found = NULL;
	DIR *dir;
	struct dirent *e;

	*error = 0;
	if (a->backend_fd >= 0) {
		snprintf(name, sizeof(name), "%d", a->backend_fd);
		found = find_sock(socks, count, fd_socket(pid, name, error));
		if (found != NULL || *error == EACCES) {
			return found;
		}
	}
	snprintf(name, sizeof(name), "/proc/%d/fd", pid);
	dir = opendir(name);
	if (dir == NULL) {
		*error = errno;
		return NULL;
	}
	while (found == NULL && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] != '.') {
			found = find_sock(socks, count,
					  fd_socket(pid, e->d_name, error));
			a->backend_fd = found != NULL ? atoi(e->d_name)
						      : a->backend_fd;
		}
	}
	closedir(dir);
	*error = 0;
	return found;
}

/* For each unix-socket session: its backend's socket, then the peer. */
static void find_unix_inodes(struct attributor *a, const struct sample *sample,
			     struct pending *p, size_t n)
{
	struct unix_sock *socks = NULL;
	size_t count = 0;
	bool any = false;

	for (size_t i = 0; i < n && !any; i++) {
		any = sample->sessions[p[i].session].client_port == -1;
	}
	if (!any || !dump_unix(a->server_port, &socks, &count)) {
		free(socks);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct session *s = &sample->sessions[p[i].session];
		const struct unix_sock *sock;
		int error;

		if (s->client_port != -1 || p[i].pid > 0) {
			continue;
		}
		sock = backend_sock(a, s->pid, socks, count, &error);
		if (sock != NULL) {
			p[i].inode = sock->peer;
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
	if (p->pid == 0 || m->start_ticks > p->start_ticks ||
	    (m->start_ticks == p->start_ticks && pid > p->pid)) {
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
	unsigned long *inodes;
	size_t n;
	size_t found = 0;

	if (socket_inodes(pid, &inodes, &n) != 0) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct wanted_inode key = {.inode = inodes[i]};
		const struct wanted_inode *w = bsearch(&key, wanted, count,
						       sizeof(*wanted),
						       compare_wanted);

		if (w != NULL && note_holder(a, &p[w->pending], pid)) {
			found++;
		}
	}
	free(inodes);
	return found;
}

static int compare_pid(const void *pa, const void *pb)
{
	int a = *(const int *)pa;
	int b = *(const int *)pb;

	return (a > b) - (a < b);
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

static int compare_pid_desc(const void *pa, const void *pb)
{
	return compare_pid(pb, pa);
}

/*
 * The processes /proc lists but those in skip (sorted), newest first:
 * a database's clients are younger than the machine's daemons as a
 * rule, so a full pass that stops once every socket has its holder
 * reads few of them; and of two processes sharing a socket (a fork)
 * the younger, the one kept, is met first.  A wrapped pid space only
 * costs the early stop.
 */
static size_t list_processes(const int *skip, size_t skip_count, int **out)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;
	size_t n = 0;
	size_t cap = 0;
	long self = (long)getpid();

	*out = NULL;
	while (proc != NULL && (e = readdir(proc)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		int key = (int)pid;

		if (end == e->d_name || *end != '\0' || pid <= 0 ||
		    pid == self ||
		    (skip_count > 0 &&
		     bsearch(&key, skip, skip_count, sizeof(*skip),
			     compare_pid) != NULL)) {
			continue;
		}
		xgrow((void **)out, &cap, n + 1, sizeof(**out));
		(*out)[n++] = key;
	}
	if (proc != NULL) {
		closedir(proc);
	}
	if (n > 1) {
		qsort(*out, n, sizeof(**out), compare_pid_desc);
	}
	return n;
}

/*
 * The process holding each wanted socket.  The processes that held
 * sessions before are looked at first: a leaking process keeps leaking,
 * and finding its new sockets there spares a look at every fd of every
 * process.  The full pass skips the server's own backends.
 */
static void find_holders(struct attributor *a, const struct sample *sample,
			 struct pending *p, size_t n)
{
	struct wanted_inode *wanted = xcalloc(n + 1, sizeof(*wanted));
	int *skip = xcalloc(sample->session_count + HOLDERS_KEPT + 1,
			    sizeof(*skip));
	int *pids = NULL;
	size_t count = 0;
	size_t skip_count = 0;
	size_t missing;
	size_t pid_count = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i].inode != 0) {
			wanted[count].inode = p[i].inode;
			wanted[count++].pending = i;
		}
	}
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
			qsort(skip, skip_count, sizeof(*skip), compare_pid);
		}
		pid_count = list_processes(skip, skip_count, &pids);
	}
	for (size_t i = 0; i < pid_count && missing > 0; i++) {
		missing -= scan_process(a, pids[i], wanted, count, p);
	}
	for (size_t i = n; i-- > 0;) {
		if (p[i].pid > 0) {
			remember_holder(a, p[i].pid);
		}
	}
	free(pids);
	free(skip);
	free(wanted);
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
	if (!is_local_addr(&addr)) {
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
	t->backend_pid = s->pid;
	t->client_port = s->client_port;
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
			a->pending[n++] = (struct pending){
				.session = i, .reason = UNTRACED_COUNT};
		}
	}
	if (n > 0) {
		memo_reset(a, 16);
		find_tcp_inodes(a, sample, a->pending, n);
		find_unix_inodes(a, sample, a->pending, n);
		find_holders(a, sample, a->pending, n);
		for (size_t i = 0; i < n; i++) {
			struct traced *t = add_fresh(
				fresh, &fresh_count,
				&sample->sessions[a->pending[i].session]);

			t->misses = a->pending_misses[i];
			resolve(a, sample, &a->pending[i], t);
		}
	}
	for (size_t i = 0; i < a->cache_count; i++) {
		free(a->cache[i].command); /* those not moved */
	}
	pidmap_reset(&a->cache_index, fresh_count);
	for (size_t i = 0; i < fresh_count; i++) {
		pidmap_put(&a->cache_index, fresh[i].backend_pid, i);
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
