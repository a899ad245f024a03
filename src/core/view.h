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

/* The FLAGS cell within width columns: view_flags() when it fits, else
 * the flag words alone ("LEAK IDLE-TX"), which the groups pane always
 * has room for (view_plan_columns()). */
void view_flags_fit(char *buf, size_t size, const struct report_group *g,
		    int width);

/* The groups pane's columns for a terminal cols wide. */
struct view_columns {
	int key; /* each grouped key's width */
	bool active;
	bool idle;
	bool spark;
	bool oldest;
	bool delta;
	bool trend;
	int flags; /* FLAGS: the rest of the line, at least the words */
};

/*
 * Fits the pane to cols.  The keys (6 columns each at least), CONN, ITX
 * and the flag words always stay; then, as room allows and in this
 * order: OLDEST, TREND, IDLE, ACT, the keys up to 12 columns, the LEAK
 * forecast in FLAGS, the sparkline, the change since baseline, and the
 * keys' whole width (at most 28 up to 100 columns).  A LEAK flag never
 * pushes out a column: its forecast is what gives way.
 */
void view_plan_columns(const struct report *r, int cols, bool utf8,
		       struct view_columns *c);

/* The sessions pane's columns: PID, STATE and IN-STATE always; the
 * query keeps 20 columns at least, AGE and WAIT come when there is room,
 * then WAIT widens to 20, PROCESS to 22, QUERY to 40 and CLIENT to 21,
 * and a wide terminal shares the rest among them. */
struct view_detail_columns {
	bool age;
	bool wait;
	int client;
	int process;
	int wait_w;
	int query; /* what is left of the line */
};

void view_plan_detail(int cols, struct view_detail_columns *c);

/* The two panes' heights (header rows included) in the rows between the
 * usage line and the footer. */
struct view_panes {
	int groups;
	int detail; /* 0: no sessions pane */
};

/*
 * Splits body rows between the groups pane (groups rows and a header)
 * and, when detail is on and body has room for both, the sessions pane
 * (sessions rows, a title and a header): each gets what it needs where
 * both fit; else the groups at most half and the sessions the rest, and
 * what one leaves unused goes to the other, so no blank rows sit
 * between them while the other is cut.
 */
void view_plan_panes(int body, size_t groups, bool detail, size_t sessions,
		     struct view_panes *p);

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
