/*
 * clientproc.c - parsing /proc text about sockets and processes (see
 * clientproc.h).
 */
#include "clientproc.h"

#include "common.h"
#include "mask.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void clientproc_addr_v4(struct ip_addr *out, const uint8_t v4[4])
{
	memset(out->bytes, 0, 10);
	out->bytes[10] = 0xFF;
	out->bytes[11] = 0xFF;
	memcpy(out->bytes + 12, v4, 4);
}

/*
 * The kernel prints each 32-bit word of the address as it sits in memory,
 * read as a host-order integer ("%08X"): reading the word back the same
 * way and storing it in host order restores the network bytes, whatever
 * the machine's byte order.
 */
static bool parse_hex_addr(const char *hex, size_t len, struct ip_addr *out)
{
	uint8_t bytes[16];
	size_t words = len / 8;

	if (len != 8 && len != 32) {
		return false;
	}
	for (size_t w = 0; w < words; w++) {
		uint32_t word = 0;

		for (size_t i = 0; i < 8; i++) {
			int d = common_hex_digit(hex[w * 8 + i]);

			if (d < 0) {
				return false;
			}
			word = word << 4 | (uint32_t)d;
		}
		memcpy(bytes + w * 4, &word, 4);
	}
	if (words == 1) {
		clientproc_addr_v4(out, bytes);
	} else {
		memcpy(out->bytes, bytes, 16);
	}
	return true;
}

/* "ADDR:PORT" at *p, both hex; advances *p past it. */
static bool parse_endpoint(const char **p, struct ip_addr *addr, uint16_t *port)
{
	const char *s = *p;
	const char *colon;
	char *end;
	unsigned long v;

	while (*s == ' ') {
		s++;
	}
	colon = strchr(s, ':');
	if (colon == NULL || !parse_hex_addr(s, (size_t)(colon - s), addr)) {
		return false;
	}
	v = strtoul(colon + 1, &end, 16);
	if (end == colon + 1 || v > 0xFFFF || *end != ' ') {
		return false;
	}
	*port = (uint16_t)v;
	*p = end;
	return true;
}

/* Skips n whitespace-separated fields. */
static const char *skip_fields(const char *s, int n)
{
	for (int i = 0; i < n && s != NULL; i++) {
		while (*s == ' ') {
			s++;
		}
		if (*s == '\0') {
			return NULL;
		}
		while (*s != ' ' && *s != '\0') {
			s++;
		}
	}
	return s;
}

bool clientproc_parse_tcp_line(const char *line, struct tcp_socket *out)
{
	const char *p = line;
	char *end;

	while (*p == ' ') {
		p++;
	}
	/* "sl:" is a decimal slot number; the header line has "sl". */
	strtoul(p, &end, 10);
	if (end == p || *end != ':') {
		return false;
	}
	p = end + 1;
	if (!parse_endpoint(&p, &out->local, &out->local_port) ||
	    !parse_endpoint(&p, &out->remote, &out->remote_port)) {
		return false;
	}
	/* st tx:rx tr:when retrnsmt, the uid, the timeout, the inode. */
	p = skip_fields(p, 4);
	if (p == NULL) {
		return false;
	}
	out->uid = (uint32_t)strtoul(p, &end, 10);
	if (end == p || *end != ' ') {
		return false;
	}
	p = skip_fields(end, 1);
	if (p == NULL) {
		return false;
	}
	out->inode = strtoul(p, &end, 10);
	return end != p && (*end == ' ' || *end == '\n' || *end == '\0');
}

bool clientproc_parse_addr(const char *text, struct ip_addr *out)
{
	uint8_t v4[4];

	if (inet_pton(AF_INET, text, v4) == 1) {
		clientproc_addr_v4(out, v4);
		return true;
	}
	return inet_pton(AF_INET6, text, out->bytes) == 1;
}

bool clientproc_is_loopback(const struct ip_addr *addr)
{
	static const uint8_t v6_loopback[16] = {[15] = 1};
	static const uint8_t v4_prefix[12] = {[10] = 0xFF, [11] = 0xFF};

	if (memcmp(addr->bytes, v4_prefix, 12) == 0) {
		return addr->bytes[12] == 127;
	}
	return memcmp(addr->bytes, v6_loopback, 16) == 0;
}

bool clientproc_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return memcmp(a->bytes, b->bytes, 16) == 0;
}

unsigned long clientproc_socket_inode(const char *link)
{
	static const char prefix[] = "socket:[";
	char *end;
	unsigned long inode;

	if (strncmp(link, prefix, sizeof(prefix) - 1) != 0) {
		return 0;
	}
	link += sizeof(prefix) - 1;
	inode = strtoul(link, &end, 10);
	return end != link && end[0] == ']' && end[1] == '\0' ? inode : 0;
}

void clientproc_newest_first(int *pids, size_t count, long last_pid)
{
	size_t older = 0;
	int *copy;

	while (older < count && pids[older] > last_pid) {
		older++;
	}
	if (older == 0 || older == count) {
		return;
	}
	copy = xcalloc(count, sizeof(*copy));
	memcpy(copy, pids + older, (count - older) * sizeof(*copy));
	memcpy(copy + (count - older), pids, older * sizeof(*copy));
	memcpy(pids, copy, count * sizeof(*pids));
	free(copy);
}

bool clientproc_holder_wins(int pid, unsigned long long start_ticks,
			    int other_pid, unsigned long long other_start)
{
	return other_pid == 0 || start_ticks > other_start ||
	       (start_ticks == other_start && pid > other_pid);
}

bool clientproc_parse_stat(const char *text, int *ppid,
			   unsigned long long *start_ticks)
{
	/* The command name is in parentheses and may hold anything, ')'
	 * included: the fields start after the last ')'. */
	const char *p = strrchr(text, ')');
	char *end;
	long parent;

	if (p == NULL) {
		return false;
	}
	/* Field 3 is the state, 4 the parent pid, 22 the start time. */
	p = skip_fields(p + 1, 1);
	if (p == NULL) {
		return false;
	}
	parent = strtol(p, &end, 10);
	if (end == p || parent < 0) {
		return false;
	}
	*ppid = (int)parent;
	p = skip_fields(end, 17);
	if (p == NULL) {
		return false;
	}
	*start_ticks = strtoull(p, &end, 10);
	return end != p;
}

/* An argument as a shell would need it to read back the same: quoted
 * when it holds a space or a quote, or is empty. */
static bool needs_quotes(const char *arg, size_t len)
{
	if (len == 0) {
		return true;
	}
	for (size_t i = 0; i < len; i++) {
		if (arg[i] == ' ' || arg[i] == '\'' || arg[i] == '"' ||
		    arg[i] == '\t') {
			return true;
		}
	}
	return false;
}

struct cmd_buf {
	char *dst;
	size_t size;
	size_t n;
	bool cut;
};

static void put(struct cmd_buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len && !b->cut; i++) {
		if (b->n + 1 >= b->size) {
			b->cut = true;
			break;
		}
		b->dst[b->n++] = s[i];
	}
}

void clientproc_format_cmdline(char *dst, size_t size, const char *raw,
			       size_t len)
{
	struct cmd_buf b = {.dst = dst, .size = size};
	char *masked;

	if (size < 4) {
		if (size > 0) {
			dst[0] = '\0';
		}
		return;
	}
	/* Other programs' passwords go before anything is shown. */
	masked = xmalloc(3 * len + 16);
	len = mask_command_line(masked, 3 * len + 16, raw, len);
	raw = masked;
	/* The last argument ends in a NUL: trailing ones are not spaces. */
	while (len > 0 && raw[len - 1] == '\0') {
		len--;
	}
	for (size_t i = 0; i < len;) {
		const char *arg = raw + i;
		const char *nul = memchr(arg, '\0', len - i);
		size_t arg_len = nul != NULL ? (size_t)(nul - arg) : len - i;
		bool quote;

		i += arg_len + 1;
		if (arg == raw) {
			/* The program by its name, as people call it: psql,
			 * not /usr/lib/postgresql/15/bin/psql. */
			size_t base = arg_len;

			while (base > 0 && arg[base - 1] != '/') {
				base--;
			}
			if (base < arg_len) {
				arg += base;
				arg_len -= base;
			}
		} else {
			put(&b, " ", 1);
		}
		quote = needs_quotes(arg, arg_len);
		if (quote) {
			/* 'it'\''s' is how a shell spells it's. */
			put(&b, "'", 1);
			for (size_t k = 0; k < arg_len; k++) {
				if (arg[k] == '\'') {
					put(&b, "'\\''", 4);
				} else {
					put(&b, arg + k, 1);
				}
			}
			put(&b, "'", 1);
		} else {
			put(&b, arg, arg_len);
		}
	}
	free(masked);
	if (b.cut) {
		size_t cut = size - 4;

		/* Not through the middle of a UTF-8 character. */
		while (cut > 0 && ((unsigned char)dst[cut] & 0xC0) == 0x80) {
			cut--;
		}
		memcpy(dst + cut, "...", 4);
		return;
	}
	dst[b.n] = '\0';
}

bool clientproc_is_pg_socket_path(const char *path, int port)
{
	char name[32];
	size_t len = strlen(path);
	size_t name_len;

	snprintf(name, sizeof(name), ".s.PGSQL.%d", port);
	name_len = strlen(name);
	return len >= name_len && strcmp(path + len - name_len, name) == 0 &&
	       (len == name_len || path[len - name_len - 1] == '/');
}
