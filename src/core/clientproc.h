/*
 * clientproc.h - reading the text Linux gives about sockets and
 * processes, for naming the local process behind a session: lines of
 * /proc/net/tcp{,6}, /proc/PID/stat, /proc/PID/cmdline and fd links.
 *
 * Pure parsing: the edge (src/attrib.c) does the reading, so these are
 * tested on captured text without a kernel in the way.
 */
#ifndef PGDRIP_CLIENTPROC_H
#define PGDRIP_CLIENTPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An address as 16 bytes: IPv6, or IPv4 mapped (::ffff:a.b.c.d), so the
 * two families compare as one. */
struct ip_addr {
	uint8_t bytes[16];
};

/* One socket line of /proc/net/tcp or /proc/net/tcp6. */
/* A socket's owner when the kernel does not say. */
#define CLIENTPROC_NO_UID UINT32_MAX

struct tcp_socket {
	struct ip_addr local;
	uint16_t local_port;
	struct ip_addr remote;
	uint16_t remote_port;
	unsigned long inode; /* 0 for sockets no process holds (TIME_WAIT) */
	uint32_t uid;        /* who created it (its holder, as a rule) */
};

/* False for the header line or anything malformed. */
bool clientproc_parse_tcp_line(const char *line, struct tcp_socket *out);

/* "127.0.0.1", "::1", "::ffff:10.0.0.1"; false when not an address. */
bool clientproc_parse_addr(const char *text, struct ip_addr *out);

/* An IPv4 address (network order) as ::ffff:a.b.c.d, as every address
 * here is kept. */
void clientproc_addr_v4(struct ip_addr *out, const uint8_t v4[4]);

/* 127.0.0.0/8 or ::1. */
bool clientproc_is_loopback(const struct ip_addr *addr);

bool clientproc_addr_equal(const struct ip_addr *a, const struct ip_addr *b);

/* The inode of an fd link "socket:[12345]"; 0 when it is not a socket. */
unsigned long clientproc_socket_inode(const char *link);

/* The parent pid and start time (clock ticks since boot) from the text
 * of /proc/PID/stat, whose command name may hold spaces and ')'. */
bool clientproc_parse_stat(const char *text, int *ppid,
			   unsigned long long *start_ticks);

/* Pids sorted high to low, made newest first: once pids have wrapped
 * round pid_max, those above last_pid (the last one the kernel gave
 * out) are older than those at or below it, so those go first.  One
 * wrap is told apart, which sorting by start time would do for all at
 * the cost of a read of each /proc/PID/stat. */
void clientproc_newest_first(int *pids, size_t count, long last_pid);

/* Of two processes holding one socket, true when pid (started at
 * start_ticks) is the one to name rather than other_pid: the younger,
 * since the older only forked after connecting (the higher pid at one
 * same tick; other_pid 0 is no holder yet). */
bool clientproc_holder_wins(int pid, unsigned long long start_ticks,
			    int other_pid, unsigned long long other_start);

/*
 * A command line from the raw bytes of /proc/PID/cmdline (arguments
 * separated by NUL): passwords masked (mask_command_line()), arguments
 * joined by spaces, cut to fit dst (at least 4 bytes) with "..." when
 * cut.  Bytes are kept raw: escaping is the renderer's job.
 */
void clientproc_format_cmdline(char *dst, size_t size, const char *raw,
			       size_t len);

/* True when a unix socket's bound path is PostgreSQL's socket for port:
 * ".../.s.PGSQL.5432" (what a backend's accepted socket reports). */
bool clientproc_is_pg_socket_path(const char *path, int port);

#endif
