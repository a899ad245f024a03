/*
 * readahead.c - a one-shot run's tracing, read on a thread while the
 * server builds the sample (see readahead.h).
 *
 * Two threads, as the work has two halves apart: one reads each
 * backend's client socket (a readlink of one of its fds), the other
 * looks for the processes holding the clients' ends, which the kernel's
 * socket dump names without the backends.  The threads own the struct
 * from readahead_start() until readahead_wait() has joined them, each
 * writing fields of its own and both reading the dump; the caller reads
 * it only afterwards, so nothing in it needs a lock.
 */
#include "readahead.h"

#include "core/common.h"
#include "procscan.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* A backend and the client end of its socket. */
struct backend_peer {
	int backend_pid;
	unsigned long peer; /* 0: the client has closed */
};

/* A client end looked for, and the process found holding it. */
struct held_socket {
	unsigned long inode;
	int pid; /* 0: none this user may read */
	unsigned long long start_ticks;
};

struct readahead {
	pthread_t thread;
	bool joined;
	int postmaster_pid;
	int port;
	unsigned long own_inode;
	struct unix_sock *socks; /* the server's ends, from the dump */
	size_t sock_count;
	int *children; /* the postmaster's: backends and helpers, sorted */
	size_t child_count;
	struct backend_peer *peers; /* sorted by backend pid */
	size_t peer_count;
	struct tcp_socket *tcp; /* sorted for procscan_find_tcp() */
	size_t tcp_count;
	struct held_socket *held; /* sorted by inode */
	size_t held_count;
	uint32_t *owners; /* of the held sockets, for the holders' pass */
	size_t owner_count;
	size_t fds_read; /* processes whose fds the holders' pass read */
	size_t missing;  /* held sockets no holder is known for yet */
};

static int compare_held(const void *pa, const void *pb)
{
	const struct held_socket *a = pa;
	const struct held_socket *b = pb;

	return (a->inode > b->inode) - (a->inode < b->inode);
}

static int compare_peer(const void *pa, const void *pb)
{
	const struct backend_peer *a = pa;
	const struct backend_peer *b = pb;

	return (a->backend_pid > b->backend_pid) -
	       (a->backend_pid < b->backend_pid);
}

/* A connection of the dump whose backend is worth looking for: not
 * the server's listening socket, not one whose client has closed (its
 * backend may be gone already), not pgdrip's own. */
static bool is_connection(const struct readahead *r,
			  const struct unix_sock *sock)
{
	return !sock->listening && sock->peer != 0 &&
	       sock->peer != r->own_inode;
}

static size_t connections(const struct readahead *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->sock_count; i++) {
		n += is_connection(r, &r->socks[i]);
	}
	return n;
}

/*
 * Each backend's client socket, then the socket dump's peer, until
 * every connection of the dump has its backend: a server with TCP
 * clients only costs nothing here.  Backends hold their client socket
 * under one same fd number as a rule: once a unix-socket client's has
 * shown it, a socket there that the dump does not know is a TCP
 * client's, and the backend's other fds are left unread.  A backend
 * that breaks the rule costs no more than that: one missed here is
 * traced after the sample as usual.
 */
static void *read_backends(void *arg)
{
	struct readahead *r = arg;
	size_t cap = 0;
	size_t wanted = connections(r);
	size_t matched = 0; /* of those: a closing one's backend is no news */
	int fd_guess = -1;

	for (size_t i = 0; i < r->child_count && matched < wanted; i++) {
		int pid = r->children[i];
		int error = 0;
		const struct unix_sock *sock = NULL;
		unsigned long inode = fd_guess >= 0
					      ? procscan_fd_inode(pid, fd_guess,
								  &error)
					      : 0;

		if (inode != 0) {
			sock = procscan_find_unix(r->socks, r->sock_count,
						  inode);
		} else if (error != EACCES && error != EPERM) {
			/* Learns the fd from a unix-socket client's backend
			 * alone: PostgreSQL 14's statistics collector holds a
			 * socket every backend inherits. */
			sock = procscan_backend_socket(pid, r->socks,
						       r->sock_count, &fd_guess,
						       &error);
		}
		if (sock != NULL) {
			xgrow((void **)&r->peers, &cap, r->peer_count + 1,
			      sizeof(*r->peers));
			r->peers[r->peer_count++] = (struct backend_peer){
				.backend_pid = pid, .peer = sock->peer};
			matched += is_connection(r, sock);
		} else if (error == EACCES || error == EPERM) {
			break; /* not ours to read: none of them is */
		}
	}
	/* children are sorted, so the peers are too. */
	return NULL;
}

/* The TCP clients' ends: none when nothing listens on the port here
 * (then even a client the sample shows on TCP is traced after it). */
static void read_tcp(struct readahead *r)
{
	if (procscan_tcp_listening(r->port)) {
		procscan_tcp_clients(r->port, &r->tcp, &r->tcp_count);
	}
}

/* Every client end the kernel named, once, but pgdrip's own. */
static void list_wanted(struct readahead *r)
{
	size_t cap = 0;
	size_t n = 0;

	xgrow((void **)&r->held, &cap, r->sock_count + r->tcp_count + 1,
	      sizeof(*r->held));
	r->owners = xcalloc(r->sock_count + r->tcp_count + 1,
			    sizeof(*r->owners));
	for (size_t i = 0; i < r->sock_count; i++) {
		r->owners[n] = r->socks[i].peer_uid;
		r->held[n++].inode = r->socks[i].peer;
	}
	for (size_t i = 0; i < r->tcp_count; i++) {
		/* (A closed end lingering has no holder, nor an owner.) */
		r->owners[n] = r->tcp[i].inode != 0 ? r->tcp[i].uid
						    : CLIENTPROC_NO_UID;
		r->held[n++].inode = r->tcp[i].inode;
	}
	r->owner_count = procscan_uid_set(r->owners, n);
	qsort(r->held, n, sizeof(*r->held), compare_held);
	r->held_count = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned long inode = r->held[i].inode;

		if (inode != 0 && inode != r->own_inode &&
		    (r->held_count == 0 ||
		     r->held[r->held_count - 1].inode != inode)) {
			r->held[r->held_count++] = (struct held_socket){
				.inode = inode};
		}
	}
}

/* The wanted sockets pid holds; returns how many had no holder yet. */
static size_t scan_process(struct readahead *r, int pid)
{
	struct socket_fd *socks;
	size_t n;
	size_t found = 0;
	int ppid;
	unsigned long long start = 0;
	bool have_start = false;

	r->fds_read++;
	if (procscan_socket_fds(pid, &socks, &n) != 0) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct held_socket key = {.inode = socks[i].inode};
		struct held_socket *h = bsearch(&key, r->held, r->held_count,
						sizeof(*r->held), compare_held);

		if (h == NULL) {
			continue;
		}
		if (!have_start && !procscan_stat(pid, &ppid, &start)) {
			break; /* gone meanwhile */
		}
		have_start = true;
		found += h->pid == 0;
		if (clientproc_holder_wins(pid, start, h->pid,
					   h->start_ticks)) {
			h->pid = pid;
			h->start_ticks = start;
		}
	}
	free(socks);
	return found;
}

static bool look_for_holders(int pid, void *ctx)
{
	struct readahead *r = ctx;

	r->missing -= scan_process(r, pid);
	return r->missing > 0;
}

/* Newest process first, the sockets' owners' before the others', the
 * server's own skipped, until all are held. */
static void find_holders(struct readahead *r)
{
	int *skip;
	int *pids = NULL;
	size_t pid_count;

	r->missing = r->held_count;
	if (r->missing == 0) {
		return;
	}
	skip = xcalloc(r->child_count + 2, sizeof(*skip));
	if (r->child_count > 0) {
		memcpy(skip, r->children, r->child_count * sizeof(*skip));
	}
	skip[r->child_count] = r->postmaster_pid;
	qsort(skip, r->child_count + 1, sizeof(*skip), procscan_compare_pid);
	pid_count = procscan_list_processes(skip, r->child_count + 1, &pids);
	procscan_visit_owners_first(pids, pid_count, r->owners, r->owner_count,
				    look_for_holders, r);
	free(pids);
	free(skip);
}

static void *read_all(void *arg)
{
	struct readahead *r = arg;
	pthread_t backends;
	bool apart;

	/* Without the children the holders' pass would look into every
	 * backend: then nothing is read ahead, all is traced after. */
	if (!procscan_children(r->postmaster_pid, &r->children,
			       &r->child_count)) {
		return NULL;
	}
	if (!procscan_dump_unix(r->port, &r->socks, &r->sock_count)) {
		r->sock_count = 0;
	}
	/* (It takes no signals, as this thread takes none.) */
	apart = pthread_create(&backends, NULL, read_backends, r) == 0;
	if (!apart) {
		read_backends(r);
	}
	read_tcp(r);
	list_wanted(r);
	find_holders(r);
	if (apart) {
		pthread_join(backends, NULL);
	}
	return NULL;
}

struct readahead *readahead_start(int postmaster_pid, int port,
				  unsigned long own_inode)
{
	struct readahead *r = xcalloc(1, sizeof(*r));
	sigset_t all;
	sigset_t old;
	int rc;

	r->joined = true; /* until there is a thread */
	r->postmaster_pid = postmaster_pid;
	r->port = port;
	r->own_inode = own_inode;
	if (postmaster_pid <= 1) {
		readahead_free(r);
		return NULL;
	}
	/* Signals stay the main loop's: the thread takes none.  The
	 * postmaster's children are read there too: 2-7 ms at 5,000
	 * sessions that the connection's start-up need not wait for. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, read_all, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		readahead_free(r);
		return NULL;
	}
	r->joined = false;
	return r;
}

bool readahead_is_for(const struct readahead *r, int postmaster_pid,
		      unsigned long own_inode)
{
	return r->postmaster_pid == postmaster_pid && r->own_inode == own_inode;
}

void readahead_wait(struct readahead *r)
{
	if (r != NULL && !r->joined) {
		pthread_join(r->thread, NULL);
		r->joined = true;
	}
}

bool readahead_unix_peer(const struct readahead *r, int backend_pid,
			 unsigned long *peer)
{
	struct backend_peer key = {.backend_pid = backend_pid};
	const struct backend_peer *hit = r->peer_count > 0
						 ? bsearch(&key, r->peers,
							   r->peer_count,
							   sizeof(*r->peers),
							   compare_peer)
						 : NULL;

	if (hit == NULL) {
		return false;
	}
	*peer = hit->peer;
	return true;
}

bool readahead_tcp_inode(const struct readahead *r, int port,
			 const struct ip_addr *addr, unsigned long *inode)
{
	const struct tcp_socket *hit = procscan_find_tcp(r->tcp, r->tcp_count,
							 port, addr);

	if (hit == NULL) {
		return false;
	}
	*inode = hit->inode;
	return true;
}

bool readahead_holder(const struct readahead *r, unsigned long inode, int *pid,
		      unsigned long long *start_ticks)
{
	struct held_socket key = {.inode = inode};
	const struct held_socket *hit = r->held_count > 0
						? bsearch(&key, r->held,
							  r->held_count,
							  sizeof(*r->held),
							  compare_held)
						: NULL;

	if (hit == NULL) {
		return false;
	}
	*pid = hit->pid;
	*start_ticks = hit->start_ticks;
	return true;
}

size_t readahead_fds_read(const struct readahead *r)
{
	return r->fds_read;
}

void readahead_free(struct readahead *r)
{
	if (r == NULL) {
		return;
	}
	readahead_wait(r);
	free(r->children);
	free(r->socks);
	free(r->peers);
	free(r->tcp);
	free(r->held);
	free(r->owners);
	free(r);
}
