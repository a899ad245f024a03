/*
 * attrib.h - names the local process at the client end of sessions:
 * which pid, which command line, and whether it is the wrapped command
 * or one of its descendants.
 *
 * Linux only, best effort and honest: a session that cannot be traced
 * (a remote client, a process pgdrip may not look into) keeps
 * client_pid 0, and the reason is given once, as a report warning.
 */
#ifndef PGDRIP_ATTRIB_H
#define PGDRIP_ATTRIB_H

#include "core/report.h"
#include "core/sample.h"

#include <stdbool.h>

struct attributor;

struct attributor *attributor_new(void);
void attributor_free(struct attributor *a);

/* Where the server runs, from pgdrip's own connection to it (its socket
 * fd) and the port it listens on.  Call after every (re)connection. */
void attributor_set_server(struct attributor *a, int conn_fd, int port);

/*
 * Starts reading, on a thread of its own, what tracing the next sample
 * needs (see readahead.h), given pgdrip's own backend pid: for a one-shot
 * run, once connected and before the sample is asked for.  Nothing when
 * the server is not on this host.
 */
void attributor_read_ahead(struct attributor *a, int backend_pid);

/* The same, earlier: as the connection starts, through the server's unix
 * socket in socket_dir (its lock file names the postmaster), conn_fd
 * being pgdrip's socket.  attributor_read_ahead() confirms it once
 * connected, or starts anew. */
void attributor_read_ahead_early(struct attributor *a, const char *socket_dir,
				 int port, int conn_fd);

/* A one-shot look: a session not found at once is given up on (a run
 * gives it a second sample, as it may have closed meanwhile). */
void attributor_set_single_look(struct attributor *a);

/* The wrapped command's pid, so clients can be told as its own. */
void attributor_set_wrapped(struct attributor *a, int pid);

/*
 * Sets client_pid, client_command and client_relation on the sessions of
 * sample with wanted[i] true (the others are left untold: nobody shows
 * them).  Sessions traced at an earlier sample are answered from a
 * cache; /proc is scanned at most once per call, and not at all when
 * nothing new is wanted.
 */
void attributor_run(struct attributor *a, struct sample *sample,
		    const bool *wanted);

/* The parent of process pid, from /proc/PID/stat; false when it cannot
 * be read (the process is gone). */
bool attributor_parent_of(int pid, int *ppid);

/* One warning per reason some session could not be traced, into lines
 * (at most max); returns how many. */
size_t attributor_warnings(const struct attributor *a, char (*lines)[512],
			   size_t max);

#endif
