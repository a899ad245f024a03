/*
 * view.h - the live view's plan, pure: which groups show and in what
 * order, which columns fit the terminal's width, a group's sparkline and
 * FLAGS cell, the footer's parts.  tui.c draws what this decides with
 * curses; the rules live here, unit-tested without a terminal.
 */
#ifndef PGDRIP_VIEW_H
#define PGDRIP_VIEW_H

#include "report.h"

#include <stdbool.h>
#include <stddef.h>

enum view_sort {
	VIEW_SORT_CONNECTIONS,
	VIEW_SORT_GROWTH,
	VIEW_SORT_IDLE_TX,
	VIEW_SORT_NAME,
	VIEW_SORT_COUNT
};

/* "connections", "growth", "idle-tx age", "name". */
const char *view_sort_name(enum view_sort sort);

/*
 * True when g passes filter ("" shows all): a glob against each key and
 * the "/"-joined label; without a wildcard it means "contains".
 */
bool view_group_visible(const struct report *r, const struct report_group *g,
			const char *filter);

/*
 * The indexes into r->groups of the visible groups in sort's order (the
 * most first; ties in the report's order), *count of them; the caller
 * frees the array (never NULL, memory failure is fatal as everywhere).
 */
size_t *view_rows(const struct report *r, const char *filter,
		  enum view_sort sort, size_t *count);

/*
 * The newest width points of g's recent history as a sparkline into buf
 * (UTF-8 blocks, or "_.-=+*#@" without UTF-8): the scale runs from zero
 * to the highest point shown, so a flat 3 is not drawn as a flat 0 and
 * 10 -> 11 is one step, not the whole height.
 */
void view_sparkline(char *buf, size_t size, const struct report_group *g,
		    int width, bool utf8);

/* The FLAGS cell: the report's flag words (report_judge.h), LEAK with
 * the time to the nearest limit when there is one ("LEAK full in 4m10s
 * IDLE-TX"). */
void view_flags(char *buf, size_t size, const struct report_group *g);

/* The groups pane's columns for a terminal cols wide. */
struct view_columns {
	int key; /* each grouped key's width */
	bool spark;
	bool oldest;
	bool delta;
	bool trend;
};

/*
 * Fits the pane to cols: the change since baseline is dropped first,
 * then the sparkline, the idle-tx age and the trend, so names keep 12
 * columns where they can; CONN, the states and FLAGS always stay.
 */
void view_plan_columns(const struct report *r, int cols, bool utf8,
		       struct view_columns *c);

/* The sessions pane's widening columns (the query takes the rest). */
struct view_detail_columns {
	int client;
	int process;
};

void view_plan_detail(int cols, struct view_detail_columns *c);

/* The grouping the g key moves to: user,app -> user -> app -> db ->
 * user,app,db -> state -> user,app (any other goes to user,app). */
void view_next_group_keys(struct group_keys *keys);

/* A session's STATE cell in the sessions pane: "abandoned" for one
 * passed over and unused, except that "idle-tx" and "aborted" are never
 * hidden by it (the ITX column counts them); else the state's short
 * name ("idle", "active", ...). */
const char *view_session_state(const struct report_session *s);

/* What the footer says, from the view's and the keys' state. */
struct view_footer_state {
	const char *message; /* a server notice or an error; NULL none */
	bool typing;         /* a filter is being typed after '/' */
	const char *filter;  /* the active filter, "" none */
	bool detail;         /* the sessions pane is on */
	enum view_sort sort;
	bool paused;
	bool utf8;
};

/*
 * The footer for a terminal cols wide, into buf: while typing, the
 * filter being typed; else the message first, then the active filter
 * (a narrow terminal never drops it), then the keys, most useful first,
 * as many as fit, and "? help" always last.  Every label says what its
 * key does now.
 */
void view_footer(char *buf, size_t size, int cols,
		 const struct view_footer_state *f);

#endif
