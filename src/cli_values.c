/*
 * cli_values.c - option values that need more than units.c (see
 * cli_spec.h): the servers of -d and --targets, -p's ports, --listen's
 * address.
 */
#include "cli.h"
#include "cli_spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_add_target(struct options *opts, const char *target, bool owned)
{
	xgrow((void **)&opts->targets, &opts->target_cap,
	      opts->target_count + 1, sizeof(*opts->targets));
	opts->targets[opts->target_count].conninfo = target;
	opts->targets[opts->target_count++].owned = owned;
}

/*
 * -p: a port, or a comma list of them for several -h hosts, as libpq
 * takes it; each 1-65535 in decimal digits.  Checked here so that a typo
 * is a usage error (exit 2) and not a failed connection (exit 3).  Ports
 * inside a conninfo string, PGPORT and service files stay libpq's to
 * judge: pgdrip does not parse them.
 */
bool cli_check_port(const char *value, struct errbuf *err)
{
	const char *p = value;

	for (;;) {
		size_t len = strspn(p, "0123456789");
		long n = len > 0 && len <= 5 ? strtol(p, NULL, 10) : 0;

		if (n < 1 || n > 65535 || (p[len] != ',' && p[len] != '\0')) {
			errbuf_set(err,
				   "invalid port \"%s\": expected a "
				   "number from 1 to 65535",
				   value);
			return false;
		}
		if (p[len] == '\0') {
			return true;
		}
		p += len + 1;
	}
}

bool cli_parse_listen(const char *text, char *host, size_t host_size,
		      char *port, size_t port_size, struct errbuf *err)
{
	const char *colon = strrchr(text, ':');
	const char *h = text;
	size_t hlen;
	char *end;
	long n;

	if (colon == NULL) {
		errbuf_set(err,
			   "\"%s\" is not ADDR:PORT (e.g. 127.0.0.1:9187, "
			   "[::1]:9187 or :9187)",
			   text);
		return false;
	}
	hlen = (size_t)(colon - text);
	if (text[0] == '[') {
		/* [IPV6]:PORT: the bracket must close right before ':'. */
		if (hlen < 3 || text[hlen - 1] != ']') {
			errbuf_set(err, "\"%s\": expected [IPV6]:PORT", text);
			return false;
		}
		h = text + 1;
		hlen -= 2;
	} else if (memchr(text, ':', hlen) != NULL) {
		errbuf_set(err,
			   "\"%s\": put an IPv6 address in brackets, "
			   "e.g. [::1]:9187",
			   text);
		return false;
	}
	errno = 0;
	n = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    n < 1 || n > 65535) {
		errbuf_set(err, "\"%s\": the port must be 1-65535", text);
		return false;
	}
	if (hlen >= host_size || memchr(h, '\0', hlen) != NULL) {
		errbuf_set(err, "\"%s\": address too long", text);
		return false;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, port_size, "%ld", n);
	return true;
}

/* One line of a --targets file: blank lines and # comments skipped. */
static char *target_line(char *line)
{
	size_t len;

	while (*line == ' ' || *line == '\t') {
		line++;
	}
	len = strcspn(line, "\r\n");
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t')) {
		len--;
	}
	line[len] = '\0';
	return line[0] == '\0' || line[0] == '#' ? NULL : line;
}

/* --targets FILE: one conninfo string or URI per line, after any -d. */
bool cli_read_targets(struct options *opts, const char *path,
		      struct errbuf *err)
{
	FILE *in = fopen(path, "r");
	char line[4096];
	size_t before = opts->target_count;
	unsigned lineno = 0;

	if (in == NULL) {
		errbuf_set(err, "--targets \"%s\": %s", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), in) != NULL) {
		char *target;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(in)) {
			errbuf_set(err, "--targets \"%s\": line %u is too long",
				   path, lineno);
			fclose(in);
			return false;
		}
		target = target_line(line);
		if (target != NULL) {
			cli_add_target(opts, xstrdup(target), true);
		}
	}
	fclose(in);
	if (opts->target_count == before) {
		errbuf_set(err, "--targets \"%s\" names no server", path);
		return false;
	}
	return true;
}
