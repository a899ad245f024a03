/*
 * safepath.h - the files pgdrip writes (--output, --plot, --record)
 * reached without being led by a link someone else planted: the rule
 * the kernel applies with fs.protected_symlinks, applied by pgdrip too,
 * so a root pgdrip in /tmp never writes over a file another user
 * pointed it at.
 */
#ifndef PGDRIP_SAFEPATH_H
#define PGDRIP_SAFEPATH_H

#include "core/common.h"

#include <stdbool.h>
#include <sys/types.h>

/* Where a path leads once its last component's links are followed. */
struct safepath {
	char *path;  /* owned: the place itself, its last component no link */
	bool exists; /* something is there */
	mode_t mode; /* its type (st_mode) when it exists */
	bool magic;  /* one of /proc's own links (/dev/stdout): as it is */
};

/*
 * Follows the links of path's last component (40 at most).  A link is
 * followed only as the kernel's protected_symlinks allows: not in a
 * sticky world-writable directory, or owned by the user running pgdrip,
 * or by the directory's owner.  False with err when a link may not be
 * followed ("refusing to write \"PATH\": ..."), when a link leads
 * nowhere (no file is ever created where a dangling link points), or
 * when path cannot be looked at.  sp is then empty; else
 * safepath_finish() it.
 */
PGD_NODISCARD bool safepath_resolve(const char *path, struct safepath *sp,
				    struct errbuf *err);

/*
 * Opens what safepath_resolve() found, close-on-exec, never through a
 * link (O_NOFOLLOW; a new file with O_EXCL, created with mode less the
 * umask).  A FIFO is opened without blocking: with no reader that is
 * an error ("... no process reads this FIFO"); with one, the descriptor
 * is made blocking again and writes stream as to a pipe.  shown names
 * the file in err.  Returns the descriptor, or -1 with err.
 */
PGD_NODISCARD int safepath_open(const struct safepath *sp, const char *shown,
				int flags, mode_t mode, struct errbuf *err);

/* safepath_resolve() then safepath_open(): -1 with err on either. */
PGD_NODISCARD int safepath_open_path(const char *path, int flags, mode_t mode,
				     struct errbuf *err);

/*
 * Checks, just before a file is renamed over path (resolved), that its
 * last component has not become a link meanwhile.  shown names the file
 * in err.
 */
PGD_NODISCARD bool safepath_still_no_link(const char *path, const char *shown,
					  struct errbuf *err);

/* Frees sp; accepts one that is empty. */
void safepath_finish(struct safepath *sp);

#endif
