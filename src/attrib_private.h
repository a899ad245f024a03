/*
 * attrib_private.h - the attributor's state, shared by its three files
 * and no other, each above the ones before: attrib.c (its life, the
 * host's addresses, its own socket), attrib_find.c (the sockets' inodes
 * and their holders from /proc, and the read-ahead's answers) and
 * attrib_run.c (one call, and the cache by session identity).
 */
#ifndef PGDRIP_ATTRIB_PRIVATE_H
#define PGDRIP_ATTRIB_PRIVATE_H

#include "attrib.h"
#include "readahead.h"

#include "core/clientproc.h"
#include "core/pidmap.h"
#include "core/session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* True when addr is one of this host's: loopback or an interface's
 * (read once a call). */
bool attrib_is_local_addr(struct attributor *a, const struct ip_addr *addr);

/* The inode of pgdrip's own socket to the server; 0 when not one. */
unsigned long attrib_socket_inode(int fd);

/*
 * The process holding each wanted socket.  The processes that held
 * sessions before are looked at first: a leaking process keeps leaking,
 * and finding its new sockets there spares a look at every fd of every
 * process.  The full pass skips the server's own backends, and looks
 * first at the processes of the sockets' owners: another server's
 * thousands of backends on the host are not read before the client.
 */
void attrib_find_holders(struct attributor *a, const struct sample *sample,
			 struct pending *p, size_t n);

/* For each TCP session: its client end's inode in the TCP table. */
void attrib_find_tcp_inodes(const struct attributor *a,
			    const struct sample *sample, struct pending *p,
			    size_t n);

/* For each unix-socket session: its backend's socket, then the peer. */
void attrib_find_unix_inodes(struct attributor *a, const struct sample *sample,
			     struct pending *p, size_t n);

/* The process's command line, read once a call. */
const char *attrib_memo_command(struct attributor *a, int pid);

/* Forgets what the last call read: processes change between calls. */
void attrib_memo_reset(struct attributor *a, size_t expected);

/* How process pid stands to the wrapped command (itself, a child). */
enum client_relation attrib_relation_to(struct attributor *a, int pid);

/* Settles each session the read-ahead knows all of: its socket, then
 * its holder (or that it has closed, or that no readable process holds
 * it).  The others are traced as usual. */
size_t attrib_use_read_ahead(struct attributor *a, const struct sample *sample,
			     struct pending *p, size_t n, size_t *fds_read);

#endif
