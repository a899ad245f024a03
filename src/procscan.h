/*
 * procscan.h - what Linux says of processes and sockets: small /proc
 * files, the fd links of a process, the TCP tables and the kernel's
 * unix-socket diagnostics (NETLINK_SOCK_DIAG).  Readers only, no
 * policy: attrib.c decides what to look for and what it means.  Every
 * function is safe to call from any thread (no state of its own).
 */
#ifndef PGDRIP_PROCSCAN_H
#define PGDRIP_PROCSCAN_H

#include "core/clientproc.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads a small /proc file into buf (NUL-terminated); its length, or -1. */
ssize_t procscan_read_small(const char *path, char *buf, size_t size);

/* The parent and start time (clock ticks since boot) of pid. */
bool procscan_stat(int pid, int *ppid, unsigned long long *start_ticks);

/* The command line of pid, made printable and cut to size. */
void procscan_command(int pid, char *out, size_t size);

/* The direct children of pid (the kernel's list, in the order they were
 * forked), sorted by pid into *out (the caller frees it); false when the
 * kernel does not keep the list or pid is gone. */
bool procscan_children(int pid, int **out, size_t *count);

/* The order of pids, for qsort() and bsearch(). */
int procscan_compare_pid(const void *pa, const void *pb);

/* The processes /proc lists but this one and those in skip (sorted),
 * newest first (by pid, wrapped round the last one given out), into
 * *out (the caller frees it). */
size_t procscan_list_processes(const int *skip, size_t skip_count, int **out);

/*
 * Calls look(pid, ctx) for pids in their order until it returns false,
 * but those whose owner (the effective uid /proc shows) is one of uids
 * (sorted) first, the others after: a socket is held by its creator's
 * user as a rule, and asking a process's owner costs one stat where a
 * look at its fds costs a readlink each.  With no uids, all in order.
 */
void procscan_visit_owners_first(const int *pids, size_t count,
				 const uint32_t *uids, size_t uid_count,
				 bool (*look)(int pid, void *ctx), void *ctx);

/* Sorts uids and drops repeats and CLIENTPROC_NO_UID; the count left. */
size_t procscan_uid_set(uint32_t *uids, size_t count);

/* A socket a process holds, and under which fd. */
struct socket_fd {
	int fd;
	unsigned long inode;
};

/* The sockets a process holds, through its fd links, into *out (the
 * caller frees it); 0, or the errno of a process gone (ENOENT) or not
 * ours to read (EACCES). */
int procscan_socket_fds(int pid, struct socket_fd **out, size_t *count);

/*
 * The client ends, on this host, of TCP connections to server_port (v4
 * and v6) into *out (the caller frees it), sorted for
 * procscan_find_tcp(): from the kernel's socket diagnostics, which
 * filter by port, or else /proc/net/tcp{,6}.
 */
void procscan_tcp_clients(int server_port, struct tcp_socket **out,
			  size_t *count);

/* False when nothing on this host listens on TCP port: no client of a
 * server here can be on TCP then (true when the kernel will not say). */
bool procscan_tcp_listening(int port);

/* The socket whose local end is addr:port among sorted socks; NULL. */
const struct tcp_socket *procscan_find_tcp(const struct tcp_socket *socks,
					   size_t count, int port,
					   const struct ip_addr *addr);

/* A unix socket as the kernel describes it. */
struct unix_sock {
	unsigned long inode;
	unsigned long peer; /* 0: the other end has closed */
	uint32_t peer_uid;  /* the other end's creator; CLIENTPROC_NO_UID */
	bool pg_path;       /* bound to PostgreSQL's socket path */
	bool listening;     /* the server's own, not a connection */
};

/*
 * Asks the kernel for every unix socket with its peer and bound name,
 * keeping the ends bound to the path of a server on port, the backends'
 * (sorted by inode), with the owner of each one's peer (Linux 5.3 and
 * later say it).  False when the kernel will not say.
 */
bool procscan_dump_unix(int port, struct unix_sock **out, size_t *count);

/* The socket with that inode among sorted socks; NULL. */
const struct unix_sock *procscan_find_unix(const struct unix_sock *socks,
					   size_t count, unsigned long inode);

/* The inode of the socket at fd of pid; 0 when not a socket, or with
 * *error the errno when it cannot be read. */
unsigned long procscan_fd_inode(int pid, int fd, int *error);

/*
 * A backend's client socket among its fds: the one socks knows.
 * Backends inherit it from the postmaster under one same fd number as a
 * rule, so *fd_guess (-1: none yet) is tried first and set to the number
 * that worked.  NULL with *error the errno when the fds could not be
 * read (EACCES: not ours), 0 when none of them is in socks.
 */
const struct unix_sock *procscan_backend_socket(int pid,
						const struct unix_sock *socks,
						size_t count, int *fd_guess,
						int *error);

#endif
