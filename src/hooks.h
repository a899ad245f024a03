/*
 * hooks.h - the endpoint the client hooks write to (wrap mode): a unix
 * stream socket "hooks" in testmark's private directory, named to the
 * command in PGDRIP_HOOKS.  Every Python and Node process of the
 * command's tree may connect once and write newline-terminated JSON
 * lines (clientfacts.h); pgdrip never answers.  Each line that parses is
 * kept until the next sample, which carries it (sample_add_hook_line):
 * the pipeline folds it in there, and --record keeps it.
 *
 * Nothing a client sends can hurt pgdrip: at most HOOKS_MAX_CONNS
 * connections (more are closed at once), a line at most
 * CLIENTFACTS_LINE_MAX bytes (a longer one is skipped to its end), at
 * most HOOKS_MAX_PENDING bytes of lines between two samples (more are
 * dropped); what was skipped or dropped is said once, at the end.
 */
#ifndef PGDRIP_HOOKS_H
#define PGDRIP_HOOKS_H

#include "core/common.h"
#include "core/sample.h"

#include <poll.h>

enum {
	HOOKS_MAX_CONNS = 256,
	HOOKS_MAX_PENDING = 4 * 1024 * 1024,
};

struct hooks;

/* Makes the socket dir/hooks, listening.  NULL with err. */
struct hooks *hooks_open(const char *dir, struct errbuf *err);

/* The socket's path (for PGDRIP_HOOKS). */
const char *hooks_path(const struct hooks *h);

/* No new connection is taken (those already waiting in the backlog
 * are); those open are read to their end. */
void hooks_stop(struct hooks *h);

/* Says what was dropped, closes everything, removes the socket; NULL is
 * fine. */
void hooks_close(struct hooks *h);

/* For the loop: the descriptors to wait on, at most max. */
size_t hooks_pollfds(struct hooks *h, struct pollfd *fds, size_t max);
void hooks_ready(struct hooks *h, const struct pollfd *fds, size_t n);

/* A unix stream socket listening at path, non-blocking and close-on-exec;
 * -1 with err ("cannot make the WHAT socket ...") when it cannot be
 * made.  testmark.c's socket is made by it too. */
int hooks_listen(const char *path, const char *what, int backlog,
		 struct errbuf *err);

/* Makes fd non-blocking and close-on-exec (the command must not inherit
 * it); false when fcntl fails.  testmark.c's sockets use it too. */
bool hooks_fd_nonblocking(int fd);

/* Moves the lines read since the last call onto sample. */
void hooks_attach(struct hooks *h, struct sample *sample);

#endif
