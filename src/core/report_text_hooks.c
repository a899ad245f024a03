/*
 * report_text_hooks.c - the client hooks' word in the text report (the
 * model is report_hooks.c's): a line per leak, under its test or in a
 * section of its own, and the libraries a hook could not follow.
 */
#include "report_hooks.h"
#include "text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *plural(size_t n, const char *suffix)
{
	return n == 1 ? "" : suffix;
}

/* How leaks ended, as the report says it. */
static const char *ending(const struct report_client_leak *l)
{
	const char *how = l->closed_by != NULL ? l->closed_by : "";

	if (l->checkout) {
		if (strcmp(how, "gc") == 0) {
			return ", closed by the garbage collector, never "
			       "returned";
		}
		if (l->lost && l->lost_how != NULL &&
		    strcmp(l->lost_how, "server") == 0) {
			return ", ended by the server while out (its pool took "
			       "it back), never returned";
		}
		if (l->lost && l->lost_how != NULL &&
		    strcmp(l->lost_how, "close") == 0) {
			return ", closed while out (its pool took it back), "
			       "never returned";
		}
		if (l->lost) {
			return ", collected by the garbage collector, never "
			       "returned";
		}
		return strcmp(how, "exit") == 0
			       ? ", never returned (still out at exit)"
			       : ", never returned";
	}
	if (strcmp(how, "gc") == 0) {
		return ", closed by the garbage collector, never closed";
	}
	if (strcmp(how, "server") == 0) {
		return ", ended by the server, never closed";
	}
	return strcmp(how, "exit") == 0 ? ", never closed (open at exit)"
					: ", never closed";
}

void report_hooks_describe(const struct report_client_leak *l, char *buf,
			   size_t size)
{
	char where[600];
	char server[64] = "";

	report_hooks_where(l, where, sizeof(where));
	if (isfinite(l->idle_tx_s)) {
		snprintf(server, sizeof(server), "; idle in transaction %.1fs",
			 l->idle_tx_s);
	} else if (l->matched && isfinite(l->unused_s)) {
		snprintf(server, sizeof(server), "; unused for %.1fs",
			 l->unused_s);
	}
	snprintf(buf, size, "%s %s%s%s%s%s (%s)",
		 l->checkout ? "taken at" : "opened at", where,
		 l->test != NULL ? " during " : "",
		 l->test != NULL ? l->test : "", ending(l), server,
		 l->server_knew ? "the client and the server knew"
				: "the client knew");
}

static void write_leak(FILE *out, const struct report_client_leak *l,
		       const char *indent, const struct text_style *st)
{
	char line[2048];
	int width = st->width < 0 ? -1 : st->width > 0 ? st->width : 80;

	report_hooks_describe(l, line, sizeof(line));
	fputs(indent, out);
	text_write_cut(out, line,
		       width < 0 ? -1
		       : width - (int)strlen(indent) < 30
			       ? 30
			       : width - (int)strlen(indent),
		       st->utf8);
	fputc('\n', out);
}

void report_hooks_write_text_test(FILE *out, const struct report *r,
				  size_t test_index,
				  const struct text_style *st)
{
	for (size_t i = 0; i < r->hooks.leak_count; i++) {
		if (r->hooks.leaks[i].test_index == test_index) {
			write_leak(out, &r->hooks.leaks[i], "    ", st);
		}
	}
}

void report_hooks_write_text(FILE *out, const struct report *r,
			     const struct text_style *st)
{
	const struct report_hooks *h = &r->hooks;

	if (!h->reported) {
		return;
	}
	fprintf(out,
		"\nClient hooks: %zu process%s, %zu connection%s; %zu "
		"checkout%s never returned, %zu connection%s never closed%s\n",
		h->processes, plural(h->processes, "es"), h->connections,
		plural(h->connections, "s"), h->checkouts_out,
		plural(h->checkouts_out, "s"), h->unclosed,
		plural(h->unclosed, "s"), h->cleared > 0 ? "" : ".");
	if (h->cleared > 0) {
		fprintf(out,
			"  (%zu sessions the server saw unused were resting "
			"in their pool: not leaks)\n",
			h->cleared);
	}
	for (size_t i = 0; i < h->leak_count; i++) {
		/* Those blamed on a test are listed under it. */
		if (h->leaks[i].test_index == SIZE_MAX || !r->tests.reported) {
			write_leak(out, &h->leaks[i], "  ", st);
		}
	}
	if (h->leaks_left_out > 0) {
		fprintf(out, "  (%zu more not listed)\n", h->leaks_left_out);
	}
	for (size_t i = 0; i < h->unhooked_count; i++) {
		fputs("  not hooked: ", out);
		text_write_cut(out, h->unhooked[i], -1, st->utf8);
		fputc('\n', out);
	}
}
