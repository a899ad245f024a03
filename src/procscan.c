/*
 * procscan.c - what Linux says of processes and sockets (see procscan.h).
 */
#include "procscan.h"
#include "procscan_private.h"

#include "core/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads a small /proc file into buf (NUL-terminated); its length, or -1. */
ssize_t procscan_read_small(const char *path, char *buf, size_t size)
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

bool procscan_stat(int pid, int *ppid, unsigned long long *start_ticks)
{
	char path[64];
	char buf[1024];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	return procscan_read_small(path, buf, sizeof(buf)) > 0 &&
	       clientproc_parse_stat(buf, ppid, start_ticks);
}

void procscan_command(int pid, char *out, size_t size)
{
	char path[64];
	char raw[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = procscan_read_small(path, raw, sizeof(raw));
	clientproc_format_cmdline(out, size, raw, n > 0 ? (size_t)n : 0);
}

/* The client ends of TCP connections to server_port in a table of
 * /proc/net, appended. */
void procscan_load_tcp(const char *path, int server_port,
		       struct tcp_socket **out, size_t *count, size_t *cap)
{
	enum { CHUNK = 256 * 1024 };
	FILE *f = fopen(path, "re");
	char *buffer;
	char line[512];

	if (f == NULL) {
		return;
	}
	/* The kernel walks its whole socket table (empty buckets too) for
	 * each read(): stdio's 4 KiB reads made it dozens of walks. */
	buffer = xmalloc(CHUNK);
	setvbuf(f, buffer, _IOFBF, CHUNK);
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
	free(buffer);
}

/* The socket inodes a process holds, through its fd links; 0, or the
 * errno of a process gone (ENOENT) or not ours to read (EACCES). */
int procscan_socket_fds(int pid, struct socket_fd **out, size_t *count)
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
			(*out)[(*count)++] = (struct socket_fd){
				.fd = atoi(e->d_name), .inode = inode};
		}
	}
	closedir(dir);
	return 0;
}

int procscan_compare_unix_sock(const void *pa, const void *pb)
{
	const struct unix_sock *a = pa;
	const struct unix_sock *b = pb;

	return (a->inode > b->inode) - (a->inode < b->inode);
}

static int compare_uid(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa;
	uint32_t b = *(const uint32_t *)pb;

	return (a > b) - (a < b);
}

size_t procscan_uid_set(uint32_t *uids, size_t count)
{
	size_t kept = 0;

	if (count > 1) {
		qsort(uids, count, sizeof(*uids), compare_uid);
	}
	for (size_t i = 0; i < count; i++) {
		if (uids[i] != CLIENTPROC_NO_UID &&
		    (kept == 0 || uids[kept - 1] != uids[i])) {
			uids[kept++] = uids[i];
		}
	}
	return kept;
}

static bool owned_by(int pid, const uint32_t *uids, size_t uid_count,
		     bool *gone)
{
	char path[32];
	struct stat st;
	uint32_t uid;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	*gone = stat(path, &st) != 0;
	if (*gone) {
		return false;
	}
	uid = (uint32_t)st.st_uid;
	return bsearch(&uid, uids, uid_count, sizeof(*uids), compare_uid) !=
	       NULL;
}

void procscan_visit_owners_first(const int *pids, size_t count,
				 const uint32_t *uids, size_t uid_count,
				 bool (*look)(int pid, void *ctx), void *ctx)
{
	int *later = uid_count > 0 ? xcalloc(count + 1, sizeof(*later)) : NULL;
	size_t later_count = 0;
	bool more = true;

	for (size_t i = 0; i < count && more; i++) {
		bool gone = false;

		if (uid_count == 0 ||
		    owned_by(pids[i], uids, uid_count, &gone)) {
			more = look(pids[i], ctx);
		} else if (!gone) {
			later[later_count++] = pids[i];
		}
	}
	for (size_t i = 0; i < later_count && more; i++) {
		more = look(later[i], ctx);
	}
	free(later);
}

const struct unix_sock *procscan_find_unix(const struct unix_sock *socks,
					   size_t count, unsigned long inode)
{
	struct unix_sock key = {.inode = inode};

	return count > 0 ? bsearch(&key, socks, count, sizeof(*socks),
				   procscan_compare_unix_sock)
			 : NULL;
}

unsigned long procscan_fd_inode(int pid, int fd, int *error)
{
	char path[64];
	char link[64];
	ssize_t len;

	*error = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	len = readlink(path, link, sizeof(link) - 1);
	if (len <= 0) {
		*error = errno;
		return 0;
	}
	link[len] = '\0';
	return clientproc_socket_inode(link);
}

const struct unix_sock *procscan_backend_socket(int pid,
						const struct unix_sock *socks,
						size_t count, int *fd_guess,
						int *error)
{
	const struct unix_sock *found = NULL;
	struct socket_fd *fds;
	size_t n;

	if (*fd_guess >= 0) {
		found = procscan_find_unix(socks, count,
					   procscan_fd_inode(pid, *fd_guess,
							     error));
		if (found != NULL || *error == EACCES || *error == EPERM) {
			return found;
		}
	}
	*error = procscan_socket_fds(pid, &fds, &n);
	for (size_t i = 0; i < n && found == NULL; i++) {
		found = procscan_find_unix(socks, count, fds[i].inode);
		*fd_guess = found != NULL ? fds[i].fd : *fd_guess;
	}
	free(fds);
	return found;
}

int procscan_compare_pid(const void *pa, const void *pb)
{
	int a = *(const int *)pa;
	int b = *(const int *)pb;

	return (a > b) - (a < b);
}

static int compare_pid_desc(const void *pa, const void *pb)
{
	return procscan_compare_pid(pb, pa);
}

/* Sorted high to low, then newest first (see clientproc.h). */
static void newest_first(int *pids, size_t n)
{
	char text[32];
	long last;

	if (procscan_read_small("/proc/sys/kernel/ns_last_pid", text,
				sizeof(text)) > 0 &&
	    (last = strtol(text, NULL, 10)) > 0) {
		clientproc_newest_first(pids, n, last);
	}
}

/*
 * The processes /proc lists but those in skip (sorted), newest first:
 * a database's clients are younger than the machine's daemons as a
 * rule, so a full pass that stops once every socket has its holder
 * reads few of them; and of two processes sharing a socket (a fork)
 * the younger, the one kept, is met first.  Pids wrapped once round
 * pid_max keep that order (newest_first()); more wraps only cost the
 * early stop.
 */

size_t procscan_list_processes(const int *skip, size_t skip_count, int **out)
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
			     procscan_compare_pid) != NULL)) {
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
		newest_first(*out, n);
	}
	return n;
}

bool procscan_children(int pid, int **out, size_t *count)
{
	char path[64];
	char *text = NULL;
	size_t cap = 0;
	size_t len = 0;
	size_t n = 0;
	size_t pids_cap = 0;
	int fd;

	*out = NULL;
	*count = 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	for (;;) {
		ssize_t got;

		/* Read whole in few reads: the kernel finds the place
		 * of each read anew. */
		xgrow((void **)&text, &cap, len + 65537, 1);
		got = read(fd, text + len, cap - len - 1);
		if (got <= 0) {
			break;
		}
		len += (size_t)got;
	}
	close(fd);
	text[len] = '\0';
	for (char *p = text, *end; *p != '\0'; p = end) {
		long child = strtol(p, &end, 10);

		if (end == p) {
			break;
		}
		if (child > 0 && child <= 0x7fffffff) {
			xgrow((void **)out, &pids_cap, n + 1, sizeof(**out));
			(*out)[n++] = (int)child;
		}
	}
	free(text);
	if (n > 1) {
		qsort(*out, n, sizeof(**out), procscan_compare_pid);
	}
	*count = n;
	return true;
}

int procscan_compare_tcp_port(const void *pa, const void *pb)
{
	const struct tcp_socket *a = pa;
	const struct tcp_socket *b = pb;

	return (a->local_port > b->local_port) -
	       (a->local_port < b->local_port);
}

const struct tcp_socket *procscan_find_tcp(const struct tcp_socket *socks,
					   size_t count, int port,
					   const struct ip_addr *addr)
{
	struct tcp_socket key = {.local_port = (uint16_t)port};
	const struct tcp_socket *hit;

	if (count == 0 || port <= 0 || port > 65535) {
		return NULL;
	}
	hit = bsearch(&key, socks, count, sizeof(*socks),
		      procscan_compare_tcp_port);
	if (hit == NULL) {
		return NULL;
	}
	/* One port, several local addresses: the run of equal ports. */
	while (hit > socks && hit[-1].local_port == port) {
		hit--;
	}
	for (; hit < socks + count && hit->local_port == port; hit++) {
		if (clientproc_addr_equal(&hit->local, addr)) {
			return hit;
		}
	}
	return NULL;
}
