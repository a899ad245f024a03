/*
 * view.c - the live view's plan (see view.h): rows, the sparkline, the
 * flags cell, the grouping cycle and the footer, decided without a
 * terminal; the layout is view_layout.c's.
 */
#include "view.h"

#include "match.h"
#include "report_judge.h"
#include "text.h"
#include "units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *view_sort_name(enum view_sort sort)
{
	static const char *const names[VIEW_SORT_COUNT] = {"connections",
							   "growth",
							   "idle-tx age",
							   "name"};

	return (unsigned)sort < VIEW_SORT_COUNT ? names[sort] : names[0];
}

bool view_group_visible(const struct report *r, const struct report_group *g,
			const char *filter)
{
	char label[600];
	char pattern[300];

	if (filter == NULL || filter[0] == '\0') {
		return true;
	}
	/* Without a wildcard, a filter means "contains". */
	if (strpbrk(filter, "*?[") == NULL) {
		snprintf(pattern, sizeof(pattern), "*%s*", filter);
	} else {
		snprintf(pattern, sizeof(pattern), "%s", filter);
	}
	for (size_t k = 0; k < r->keys.count; k++) {
		const char *v = g->keys[r->keys.keys[k]];

		if (v != NULL && match_glob(pattern, v)) {
			return true;
		}
	}
	return match_glob(pattern,
			  report_group_label(r, g, label, sizeof(label)));
}

/* A row to sort: qsort passes no context, so each row carries it. */
struct row {
	const struct report *r;
	size_t index;
	enum view_sort sort;
};

static double sort_value(const struct report_group *g, enum view_sort sort)
{
	switch (sort) {
	case VIEW_SORT_GROWTH:
		return g->trend.slope_per_min;
	case VIEW_SORT_IDLE_TX:
		return isnan(g->oldest_idle_tx_s) ? -1 : g->oldest_idle_tx_s;
	case VIEW_SORT_CONNECTIONS:
	case VIEW_SORT_NAME:
	case VIEW_SORT_COUNT:
		break;
	}
	return g->connections;
}

static int compare_rows(const void *pa, const void *pb)
{
	const struct row *ra = pa;
	const struct row *rb = pb;
	const struct report_group *a = &ra->r->groups[ra->index];
	const struct report_group *b = &rb->r->groups[rb->index];
	double x;
	double y;

	if (ra->sort == VIEW_SORT_NAME) {
		char la[600];
		char lb[600];
		int c = strcmp(report_group_label(ra->r, a, la, sizeof(la)),
			       report_group_label(rb->r, b, lb, sizeof(lb)));

		if (c != 0) {
			return c;
		}
	} else {
		x = sort_value(a, ra->sort);
		y = sort_value(b, rb->sort);
		if (x != y) {
			return x > y ? -1 : 1;
		}
	}
	return (ra->index > rb->index) - (ra->index < rb->index);
}

size_t *view_rows(const struct report *r, const char *filter,
		  enum view_sort sort, size_t *count)
{
	struct row *rows = xcalloc(r->group_count + 1, sizeof(*rows));
	size_t *out = xcalloc(r->group_count + 1, sizeof(*out));
	size_t n = 0;

	for (size_t i = 0; i < r->group_count; i++) {
		if (view_group_visible(r, &r->groups[i], filter)) {
			rows[n].r = r;
			rows[n].index = i;
			rows[n].sort = sort;
			n++;
		}
	}
	qsort(rows, n, sizeof(*rows), compare_rows);
	for (size_t i = 0; i < n; i++) {
		out[i] = rows[i].index;
	}
	free(rows);
	*count = n;
	return out;
}

void view_sparkline(char *buf, size_t size, const struct report_group *g,
		    int width, bool utf8)
{
	static const char *const blocks[] = {"\u2581", "\u2582", "\u2583",
					     "\u2584", "\u2585", "\u2586",
					     "\u2587", "\u2588"};
	static const char ascii[] = "_.-=+*#@";
	size_t n = g->recent_count;
	size_t from = n > (size_t)width ? n - (size_t)width : 0;
	double hi = 0;
	size_t len = 0;

	if (size == 0) {
		return;
	}
	buf[0] = '\0';
	/* From zero, not from the lowest point: a constant 3 is not a
	 * constant 0, and 10 -> 11 is a small step, not the whole height. */
	for (size_t i = from; i < n; i++) {
		hi = fmax(hi, g->recent[i]);
	}
	for (size_t i = from; i < n; i++) {
		double x = fmax(0, g->recent[i]);
		int level = hi > 0 ? (int)lrint(7 * x / hi) : 0;
		char one[2] = {ascii[level], '\0'};
		const char *cell = utf8 ? blocks[level] : one;
		size_t cl = strlen(cell);

		if (len + cl + 1 > size) {
			break;
		}
		memcpy(buf + len, cell, cl + 1);
		len += cl;
	}
}

void view_flags(char *buf, size_t size, const struct report_group *g)
{
	char when[32];
	size_t len;

	if (size == 0) {
		return;
	}
	buf[0] = '\0';
	if ((g->flags & REPORT_FLAG_LEAK) && isfinite(g->forecast_s)) {
		units_format_duration(when, sizeof(when), g->forecast_s);
		snprintf(buf, size, "%s full in %s ",
			 report_judge_flag_word(REPORT_FLAG_LEAK), when);
	}
	len = strlen(buf);
	(void)report_judge_flags_text(
		buf[0] != '\0' ? g->flags & ~(unsigned)REPORT_FLAG_LEAK
			       : g->flags,
		buf + len, size - len);
}

void view_next_group_keys(struct group_keys *keys)
{
	static const char *const cycle[] = {"user,app", "user",        "app",
					    "db",       "user,app,db", "state"};
	char now[64] = "";
	size_t next = 0;
	struct errbuf err;

	for (size_t i = 0; i < keys->count; i++) {
		static const char *const short_names[] = {"user", "app", "db",
							  "client", "state"};

		snprintf(now + strlen(now), sizeof(now) - strlen(now), "%s%s",
			 i ? "," : "", short_names[keys->keys[i]]);
	}
	for (size_t i = 0; i < PGD_ARRAY_LEN(cycle); i++) {
		if (strcmp(cycle[i], now) == 0) {
			next = (i + 1) % PGD_ARRAY_LEN(cycle);
		}
	}
	if (!match_parse_group_keys(cycle[next], keys, &err)) {
		match_default_group_keys(keys);
	}
}

/* Appends part to buf when buf stays within room columns and size
 * bytes; otherwise leaves buf as it was. */
static void footer_add(char *buf, size_t size, const char *part, int room)
{
	size_t len = strlen(buf);

	if ((int)(len + strlen(part) + 2) <= room &&
	    len + strlen(part) + 3 < size) {
		snprintf(buf + len, size - len, "%s%s", len ? "  " : "", part);
	}
}

/*
 * The footer: keys, most useful first, as many as fit, and "? help"
 * always last; a message (a server notice, an error) comes first.
 * Every label says what its key does now.
 */
void view_footer(char *buf, size_t size, int cols,
		 const struct view_footer_state *f)
{
	static const char tail[] = "? help";
	int room = cols - 1 - (int)sizeof(tail) - 1;
	char part[200];

	buf[0] = '\0';
	if (f->typing) {
		snprintf(buf, size, "filter: /%s_  (Enter keeps, Esc clears)",
			 f->filter);
		return;
	}
	if (f->message != NULL) {
		text_sanitize(part,
			      sizeof(part) > (size_t)room + 1 ? (size_t)room + 1
							      : sizeof(part),
			      f->message, strlen(f->message), f->utf8);
		footer_add(buf, size, part, room);
	}
	if (f->filter[0] != '\0') {
		/* An active filter hides groups: it is said before the
		 * keys, so a narrow terminal does not drop it. */
		snprintf(part, sizeof(part), "/ filter:%s", f->filter);
		footer_add(buf, size, part, room);
	}
	footer_add(buf, size, "q quit", room);
	footer_add(buf, size, "j/k select", room);
	footer_add(buf, size,
		   f->detail ? "Enter hide sessions" : "Enter show sessions",
		   room);
	snprintf(part, sizeof(part), "s sort:%s", view_sort_name(f->sort));
	footer_add(buf, size, part, room);
	footer_add(buf, size, "g group", room);
	if (f->filter[0] == '\0') {
		footer_add(buf, size, "/ filter", room);
	}
	footer_add(buf, size, f->paused ? "p resume" : "p pause", room);
	footer_add(buf, size, "PgUp/PgDn scroll", room);
	footer_add(buf, size, "b baseline", room);
	footer_add(buf, size, "+/- interval", room);
	snprintf(buf + strlen(buf), size - strlen(buf), "%s%s",
		 buf[0] ? "  " : "", tail);
}

const char *view_session_state(const struct report_session *s)
{
	static const char *const short_state[SESSION_STATE_COUNT] = {
		[SESSION_STATE_ACTIVE] = "active",
		[SESSION_STATE_IDLE] = "idle",
		[SESSION_STATE_IDLE_TX] = "idle-tx",
		[SESSION_STATE_IDLE_TX_ABORTED] = "aborted",
		[SESSION_STATE_OTHER] = "other",
		[SESSION_STATE_WAITING] = "waiting",
		[SESSION_STATE_UNKNOWN] = "?",
	};
	bool in_tx = s->state == SESSION_STATE_IDLE_TX ||
		     s->state == SESSION_STATE_IDLE_TX_ABORTED;

	if ((unsigned)s->state >= SESSION_STATE_COUNT) {
		return "?";
	}
	/* A transaction left open is the more urgent news, and the ITX
	 * column counts it: abandoned never hides it. */
	return s->abandoned && !in_tx ? "abandoned" : short_state[s->state];
}
