/*
 * readahead.h - a one-shot run's tracing, read while the server builds
 * the sample: every connection to the server this host's kernel knows
 * of, by its backend (a unix socket) or its client address (TCP), and
 * the process holding its client end.  It runs on a thread of its own,
 * so naming 5,000 sessions' processes costs the wait for the server,
 * not a second wait after it.
 *
 * Everything in it is what the kernel said, keyed by pids and socket
 * inodes: nothing read early can name a wrong process for a session.  A
 * session opened since is not in it, and attrib.c traces that one as it
 * would without; a session closed since is never asked about.
 */
#ifndef PGDRIP_READAHEAD_H
#define PGDRIP_READAHEAD_H

#include "core/clientproc.h"

#include <stdbool.h>

struct readahead;

/*
 * Starts reading for the server listening on port, whose postmaster is
 * postmaster_pid (its children are the backends); pgdrip's own socket
 * (its inode, 0: unknown) is no client to look for.  NULL when there is
 * no thread to be had; when the kernel does not list the postmaster's
 * children, nothing is read ahead (every answer below is "not read").
 */
struct readahead *readahead_start(int postmaster_pid, int port,
				  unsigned long own_inode);

/* True when it was started for this postmaster and pgdrip's socket. */
bool readahead_is_for(const struct readahead *r, int postmaster_pid,
		      unsigned long own_inode);

/* Waits for the reading to end; the answers below need it. */
void readahead_wait(struct readahead *r);

/* True when the backend's client socket was read: *peer is the client's
 * end (0: the client has closed). */
bool readahead_unix_peer(const struct readahead *r, int backend_pid,
			 unsigned long *peer);

/* True when a TCP connection to the server from addr:port was read:
 * *inode is its client end (0: closed, lingering). */
bool readahead_tcp_inode(const struct readahead *r, int port,
			 const struct ip_addr *addr, unsigned long *inode);

/* True when the socket was looked for among this host's processes: *pid
 * is the youngest holding it, 0 when none this user may read does. */
bool readahead_holder(const struct readahead *r, unsigned long inode, int *pid,
		      unsigned long long *start_ticks);

/* How many processes' fds were read looking for the holders. */
size_t readahead_fds_read(const struct readahead *r);

/* Waits, then frees; NULL is fine. */
void readahead_free(struct readahead *r);

#endif
