/*
 * procscan_private.h - what procscan.c (/proc) lends procscan_diag.c
 * (the kernel's socket diagnostics), and no other file.
 */
#ifndef PGDRIP_PROCSCAN_PRIVATE_H
#define PGDRIP_PROCSCAN_PRIVATE_H

#include "procscan.h"

#include <stddef.h>

/* The orders the lookups' binary searches need: by inode, by port. */
int procscan_compare_unix_sock(const void *pa, const void *pb);
int procscan_compare_tcp_port(const void *pa, const void *pb);

/* The client ends of TCP connections to server_port in a table of
 * /proc/net (path), appended to *out (count of cap, grown). */
void procscan_load_tcp(const char *path, int server_port,
		       struct tcp_socket **out, size_t *count, size_t *cap);

#endif
