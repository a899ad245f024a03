/*
 * procscan_diag.c - the kernel's socket diagnostics (NETLINK_SOCK_DIAG,
 * see procscan.h): a dump of the unix sockets with their peers and
 * owners, and of the TCP connections to a port for both families in one
 * walk of the connection table (each family apart, then /proc/net/tcp,
 * as fallbacks).
 */
#include "procscan.h"
#include "procscan_private.h"

#include "core/common.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * Sends a NETLINK_SOCK_DIAG dump request of len bytes and hands each
 * message of the answer to each(); false when the kernel will not say
 * (no such socket, or an error for an answer).
 */
static bool sock_diag_dump(const void *msg, size_t len,
			   void (*each)(const struct nlmsghdr *h, void *ctx),
			   void *ctx)
{
	long buf[32768 / sizeof(long)];
	bool done = false;
	bool failed = false;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG);

	if (fd < 0) {
		return false;
	}
	if (send(fd, msg, len, 0) != (ssize_t)len) {
		close(fd);
		return false;
	}
	while (!done && !failed) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		int left = (int)got;
		const struct nlmsghdr *h = (const void *)buf;

		if (got <= 0) {
			break;
		}
		for (; NLMSG_OK(h, left) && !done && !failed;
		     h = NLMSG_NEXT(h, left)) {
			failed = h->nlmsg_type == NLMSG_ERROR;
			done = h->nlmsg_type == NLMSG_DONE;
			if (!done && !failed) {
				each(h, ctx);
			}
		}
	}
	close(fd);
	return done && !failed;
}

/* A unix socket of the dump: one bound to the server's path is kept;
 * of the others, only connected ones, for their owner. */
struct unix_dump {
	int port;
	struct unix_sock *kept;
	size_t kept_count;
	size_t kept_cap;
	struct unix_sock *ends; /* .peer_uid: the end's own owner */
	size_t end_count;
	size_t end_cap;
};

static void parse_unix_msg(const struct nlmsghdr *h, void *ctx)
{
	struct unix_dump *d = ctx;
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	struct unix_sock sock = {.inode = m->udiag_ino,
				 .peer_uid = CLIENTPROC_NO_UID,
				 .listening = m->udiag_state == TCP_LISTEN};
	uint32_t uid = CLIENTPROC_NO_UID;
	const struct rtattr *attr = (const void *)(m + 1);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));

	for (; RTA_OK(attr, len); attr = RTA_NEXT(attr, len)) {
		if (attr->rta_type == UNIX_DIAG_PEER &&
		    RTA_PAYLOAD(attr) >= sizeof(uint32_t)) {
			uint32_t peer;

			memcpy(&peer, RTA_DATA(attr), sizeof(peer));
			sock.peer = peer;
		} else if (attr->rta_type == UNIX_DIAG_UID &&
			   RTA_PAYLOAD(attr) >= sizeof(uint32_t)) {
			memcpy(&uid, RTA_DATA(attr), sizeof(uid));
		} else if (attr->rta_type == UNIX_DIAG_NAME) {
			char path[sizeof(((struct sockaddr_un *)0)->sun_path) +
				  1];
			size_t n = RTA_PAYLOAD(attr);

			if (n >= sizeof(path)) {
				n = sizeof(path) - 1;
			}
			memcpy(path, RTA_DATA(attr), n);
			path[n] = '\0';
			sock.pg_path = clientproc_is_pg_socket_path(path,
								    d->port);
		}
	}
	/* A backend's end whose peer is gone (0) is a session closing. */
	if (sock.pg_path) {
		xgrow((void **)&d->kept, &d->kept_cap, d->kept_count + 1,
		      sizeof(*d->kept));
		d->kept[d->kept_count++] = sock;
	} else if (sock.peer != 0 && uid != CLIENTPROC_NO_UID) {
		sock.peer_uid = uid;
		xgrow((void **)&d->ends, &d->end_cap, d->end_count + 1,
		      sizeof(*d->ends));
		d->ends[d->end_count++] = sock;
	}
}

/* Each kept socket's peer's owner, from the peer's own entry. */
static void name_peer_owners(struct unix_dump *d)
{
	for (size_t i = 0; i < d->end_count; i++) {
		const struct unix_sock *end = &d->ends[i];
		struct unix_sock key = {.inode = end->peer};
		struct unix_sock *backend =
			d->kept_count > 0
				? bsearch(&key, d->kept, d->kept_count,
					  sizeof(*d->kept),
					  procscan_compare_unix_sock)
				: NULL;

		if (backend != NULL && backend->peer == end->inode) {
			backend->peer_uid = end->peer_uid;
		}
	}
}

/*
 * Asks the kernel for every unix socket with its peer and bound name,
 * keeping the ends bound to the server's path, the backends' (sorted by
 * inode; peer 0 when the client has closed).  False when the kernel will
 * not say (no NETLINK_SOCK_DIAG).
 */
bool procscan_dump_unix(int port, struct unix_sock **out, size_t *count)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req req;
	} msg = {
		.h = {.nlmsg_len = sizeof(msg),
		      .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.req = {.sdiag_family = AF_UNIX,
			.udiag_states = ~0U,
			.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER |
				      UDIAG_SHOW_UID},
	};
	struct unix_dump d = {.port = port};
	bool done = sock_diag_dump(&msg, sizeof(msg), parse_unix_msg, &d);

	if (d.kept_count > 1) {
		qsort(d.kept, d.kept_count, sizeof(*d.kept),
		      procscan_compare_unix_sock);
	}
	name_peer_owners(&d);
	free(d.ends);
	*out = d.kept;
	*count = d.kept_count;
	return done;
}

/* What a TCP dump appends to. */
struct tcp_dump {
	struct tcp_socket **out;
	size_t *count;
	size_t *cap;
};

/* One message of a TCP socket dump, appended. */
static void parse_tcp_msg(const struct nlmsghdr *h, void *ctx)
{
	struct tcp_dump *d = ctx;
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct tcp_socket sock;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		return;
	}
	sock = (struct tcp_socket){.inode = m->idiag_inode,
				   .uid = m->idiag_uid};
	sock.local_port = ntohs(m->id.idiag_sport);
	sock.remote_port = ntohs(m->id.idiag_dport);
	if (m->idiag_family == AF_INET) {
		clientproc_addr_v4(&sock.local, (const void *)m->id.idiag_src);
		clientproc_addr_v4(&sock.remote, (const void *)m->id.idiag_dst);
	} else {
		memcpy(sock.local.bytes, m->id.idiag_src, 16);
		memcpy(sock.remote.bytes, m->id.idiag_dst, 16);
	}
	xgrow((void **)d->out, d->cap, *d->count + 1, sizeof(**d->out));
	(*d->out)[(*d->count)++] = sock;
}

/* "remote port == dport", else past the end: left out. */
struct dport_filter {
	struct nlattr attr;
	struct inet_diag_bc_op op[2];
};

static struct dport_filter dport_filter(int dport)
{
	struct dport_filter f = {
		.attr = {.nla_len = sizeof(f),
			 .nla_type = INET_DIAG_REQ_BYTECODE},
		.op = {{.code = INET_DIAG_BC_D_EQ,
			.yes = sizeof(f.op),
			.no = sizeof(f.op) + 4},
		       {.no = (unsigned short)dport}},
	};

	return f;
}

static bool run_tcp_dump(const void *msg, size_t len, struct tcp_socket **out,
			 size_t *count, size_t *cap)
{
	struct tcp_dump d = {.out = out, .count = count, .cap = cap};

	return sock_diag_dump(msg, len, parse_tcp_msg, &d);
}

/*
 * Asks the kernel for the family's TCP sockets in states (a mask of
 * 1 << TCP_*), those whose remote port is dport alone when dport > 0,
 * appending them to *out.  For connections the kernel walks its whole
 * table (2-4 ms for 262,144 buckets here) once, where /proc/net/tcp
 * walks it again for each read; for listening sockets alone it does not
 * walk it.  False when the kernel will not say.
 */
static bool dump_tcp(int family, unsigned states, int dport,
		     struct tcp_socket **out, size_t *count, size_t *cap)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 req;
		struct dport_filter filter;
	} msg = {
		.h = {.nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.req = {.sdiag_family = (uint8_t)family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = states},
		.filter = dport_filter(dport),
	};

	msg.h.nlmsg_len = dport > 0 ? sizeof(msg)
				    : NLMSG_LENGTH(sizeof(msg.req));
	return run_tcp_dump(&msg, msg.h.nlmsg_len, out, count, cap);
}

/* Both families' connections to dport in one walk of the table (IPv4
 * and IPv6 share it): the older request, TCPDIAG_GETSOCK, still takes
 * AF_UNSPEC for "any family", where SOCK_DIAG_BY_FAMILY wants one. */
static bool dump_tcp_any_family(unsigned states, int dport,
				struct tcp_socket **out, size_t *count,
				size_t *cap)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req req;
		struct dport_filter filter;
	} msg = {
		.h = {.nlmsg_len = sizeof(msg),
		      .nlmsg_type = TCPDIAG_GETSOCK,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.req = {.idiag_family = AF_UNSPEC, .idiag_states = states},
		.filter = dport_filter(dport),
	};

	return run_tcp_dump(&msg, sizeof(msg), out, count, cap);
}

void procscan_tcp_clients(int server_port, struct tcp_socket **out,
			  size_t *count)
{
	size_t cap = 0;
	unsigned connected = ~(1U << TCP_LISTEN);

	*out = NULL;
	*count = 0;
	if (server_port <= 0 || server_port > 65535) {
		return;
	}
	if (!dump_tcp_any_family(connected, server_port, out, count, &cap)) {
		*count = 0;
		if (!dump_tcp(AF_INET, connected, server_port, out, count,
			      &cap) ||
		    !dump_tcp(AF_INET6, connected, server_port, out, count,
			      &cap)) {
			*count = 0;
			procscan_load_tcp("/proc/net/tcp", server_port, out,
					  count, &cap);
			procscan_load_tcp("/proc/net/tcp6", server_port, out,
					  count, &cap);
		}
	}
	if (*count > 1) {
		qsort(*out, *count, sizeof(**out), procscan_compare_tcp_port);
	}
}

bool procscan_tcp_listening(int port)
{
	struct tcp_socket *socks = NULL;
	size_t count = 0;
	size_t cap = 0;
	bool found = false;
	unsigned listening = 1U << TCP_LISTEN;

	if (!dump_tcp(AF_INET, listening, 0, &socks, &count, &cap) ||
	    !dump_tcp(AF_INET6, listening, 0, &socks, &count, &cap)) {
		free(socks);
		return true;
	}
	for (size_t i = 0; i < count && !found; i++) {
		found = socks[i].local_port == port;
	}
	free(socks);
	return found;
}
