/*
 * safepath.c - opening the files pgdrip writes without following a link
 * another user planted in a shared directory (/tmp).  The kernel refuses
 * such links with fs.protected_symlinks, but not every system sets it,
 * and an atomic replace that resolves the path itself (realpath, then
 * rename over the target) never asked the kernel: pgdrip applies the
 * rule itself, link by link.
 */
#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* As many links as the kernel follows in one lookup. */
#define SAFEPATH_MAX_LINKS 40

/* The directory a path's last component is in, owned by the caller. */
static char *dir_of(const char *path)
{
	char *copy = xstrdup(path);
	char *dir = xstrdup(dirname(copy));

	free(copy);
	return dir;
}

/*
 * The protected_symlinks rule for the link at path (lst its lstat): a
 * link in a sticky world-writable directory is followed only when the
 * user running pgdrip or the directory's owner owns it.  False with err
 * saying which rule stopped it.
 */
static bool may_follow(const char *path, const struct stat *lst,
		       const char *shown, struct errbuf *err)
{
	char *dir = dir_of(path);
	struct stat st;
	bool ok;

	if (stat(dir, &st) != 0) {
		errbuf_set(err, "cannot write \"%s\": %s: %s", shown, dir,
			   strerror(errno));
		free(dir);
		return false;
	}
	ok = (st.st_mode & S_ISVTX) == 0 || (st.st_mode & S_IWOTH) == 0 ||
	     lst->st_uid == geteuid() || lst->st_uid == st.st_uid;
	if (!ok && strcmp(path, shown) == 0) {
		errbuf_set(err,
			   "refusing to write \"%s\": it is a link of another "
			   "user (uid %ld) in the sticky directory \"%s\"",
			   shown, (long)lst->st_uid, dir);
	} else if (!ok) {
		errbuf_set(err,
			   "refusing to write \"%s\": it leads to \"%s\", a "
			   "link of another user (uid %ld) in the sticky "
			   "directory \"%s\"",
			   shown, path, (long)lst->st_uid, dir);
	}
	free(dir);
	return ok;
}

/* Where the link at path points, relative ones taken from its
 * directory; NULL with err when it cannot be read. */
static char *follow(const char *path, const char *shown, struct errbuf *err)
{
	char to[PATH_MAX];
	ssize_t len = readlink(path, to, sizeof(to) - 1);
	char *dir;
	char *next;
	size_t size;

	if (len < 0) {
		errbuf_set(err, "cannot write \"%s\": %s", shown,
			   strerror(errno));
		return NULL;
	}
	to[len] = '\0';
	if (to[0] == '/') {
		return xstrdup(to);
	}
	dir = dir_of(path);
	size = strlen(dir) + strlen(to) + 2;
	next = xmalloc(size);
	snprintf(next, size, "%s/%s", dir, to);
	free(dir);
	return next;
}

/* A link of /proc's own (/dev/stdout's /proc/self/fd/1): it names an
 * open file, not a path, and only the kernel can follow it. */
static bool is_proc_link(const struct stat *lst)
{
	struct stat proc;

	return stat("/proc/self", &proc) == 0 && proc.st_dev == lst->st_dev;
}

/* sp filled from what is at path now: nothing, or its type. */
static bool settle(struct safepath *sp, char *path, bool followed,
		   const char *shown, struct errbuf *err)
{
	struct stat st;

	sp->path = path;
	if ((sp->magic ? stat(path, &st) : lstat(path, &st)) == 0) {
		sp->exists = true;
		sp->mode = st.st_mode;
		return true;
	}
	if (errno == ENOENT && followed) {
		/* O_CREAT through a dangling link is how a planted link
		 * makes a root process create a file of the planter's
		 * choosing. */
		errbuf_set(err,
			   "refusing to write \"%s\": it is a link to \"%s\", "
			   "which does not exist",
			   shown, path);
	} else if (errno == ENOENT) {
		return true;
	} else {
		errbuf_set(err, "cannot write \"%s\": %s", shown,
			   strerror(errno));
	}
	safepath_finish(sp);
	return false;
}

bool safepath_resolve(const char *path, struct safepath *sp, struct errbuf *err)
{
	char *cur = xstrdup(path);
	struct stat lst;
	char *next;

	memset(sp, 0, sizeof(*sp));
	for (int hops = 0; hops <= SAFEPATH_MAX_LINKS; hops++) {
		if (lstat(cur, &lst) != 0 || !S_ISLNK(lst.st_mode)) {
			return settle(sp, cur, hops > 0, path, err);
		}
		if (is_proc_link(&lst)) {
			/* The kernel names the file it stands for when it is
			 * one (stdout sent to a file: that file is replaced,
			 * as before); a pipe's is written as it is. */
			next = realpath(cur, NULL);
			if (next == NULL) {
				sp->magic = true;
				return settle(sp, cur, hops > 0, path, err);
			}
		} else if (!may_follow(cur, &lst, path, err)) {
			break;
		} else if ((next = follow(cur, path, err)) == NULL) {
			break;
		}
		free(cur);
		cur = next;
		if (hops == SAFEPATH_MAX_LINKS) {
			errbuf_set(err, "cannot write \"%s\": %s", path,
				   strerror(ELOOP));
			break;
		}
	}
	free(cur);
	return false;
}

/* Back to blocking writes once open: a FIFO's reader sets the pace, as
 * a pipe's does. */
static bool set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0;
}

int safepath_open(const struct safepath *sp, const char *shown, int flags,
		  mode_t mode, struct errbuf *err)
{
	int extra = O_CLOEXEC | O_NONBLOCK;
	int fd;

	if (!sp->magic) {
		extra |= O_NOFOLLOW;
	}
	if (!sp->exists) {
		/* Nothing was there: whatever is there now is not ours. */
		extra |= O_CREAT | O_EXCL;
	}
	fd = open(sp->path, flags | extra, mode);
	if (fd < 0 && errno == ENXIO) {
		errbuf_set(err,
			   "cannot write \"%s\": no process reads this "
			   "FIFO",
			   shown);
		return -1;
	}
	if (fd < 0 && (errno == ELOOP || errno == EEXIST)) {
		/* Made a link, or something else, since it was looked at. */
		errbuf_set(err,
			   "refusing to write \"%s\": \"%s\" changed while "
			   "it was opened",
			   shown, sp->path);
		return -1;
	}
	if (fd < 0 || !set_blocking(fd)) {
		errbuf_set(err, "cannot write \"%s\": %s", shown,
			   strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	return fd;
}

int safepath_open_path(const char *path, int flags, mode_t mode,
		       struct errbuf *err)
{
	struct safepath sp;
	int fd;

	if (!safepath_resolve(path, &sp, err)) {
		return -1;
	}
	fd = safepath_open(&sp, path, flags, mode, err);
	safepath_finish(&sp);
	return fd;
}

bool safepath_still_no_link(const char *path, const char *shown,
			    struct errbuf *err)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		errbuf_set(err,
			   "refusing to write \"%s\": \"%s\" became a link "
			   "while the report was written",
			   shown, path);
		return false;
	}
	return true;
}

void safepath_finish(struct safepath *sp)
{
	if (sp == NULL) {
		return;
	}
	free(sp->path);
	memset(sp, 0, sizeof(*sp));
}
