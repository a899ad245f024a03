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
 *
 * This file: the attributor's life, this host's addresses and pgdrip's
 * own socket; attrib_find.c the search, attrib_run.c one call and the
 * cache (attrib_private.h between them).
 */
#include "attrib.h"
#include "attrib_private.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

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
bool attrib_is_local_addr(struct attributor *a, const struct ip_addr *addr)
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
unsigned long attrib_socket_inode(int fd)
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
	a->own_inode = attrib_socket_inode(conn_fd);
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
			  attrib_is_local_addr(a, &addr);
}
