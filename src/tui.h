/*
 * tui.h - the live view (the only module that includes curses.h): draws
 * a report and the selected group's sessions, and turns keys into
 * actions for the monitor loop, which owns sampling.
 */
#ifndef PGDRIP_TUI_H
#define PGDRIP_TUI_H

#include "core/report.h"

#include <stdbool.h>

/* What the view draws: the report (groups, their recent history, the
 * sessions of the group asked about) and the loop's own state. */
struct tui_view {
	const struct report *report; /* the latest analysis */
	double elapsed_s;
	double interval_s;
	bool paused;
	bool late;           /* a sample is overdue */
	double lost_for_s;   /* > 0 while reconnecting */
	const char *message; /* one line for the footer, may be NULL */
};

enum tui_action {
	TUI_NONE,
	TUI_QUIT,
	TUI_PAUSE,      /* toggle */
	TUI_REBASELINE, /* current counts become the baseline */
	TUI_FASTER,     /* halve the interval */
	TUI_SLOWER,     /* double it */
	TUI_REGROUP,    /* next grouping: see tui_group_keys() */
	TUI_FILTER,     /* the filter typed after '/' changed */
	TUI_REDRAW,
};

/* Takes the terminal (newterm on /dev/tty streams); false with err. */
bool tui_start(bool color, struct errbuf *err);

/* Gives the terminal back; idempotent, safe from atexit(). */
void tui_end(void);

/* Restores the terminal from a fatal signal handler: only
 * async-signal-safe calls. */
void tui_emergency_restore(void);

void tui_draw(const struct tui_view *view);

/* Follows a terminal resize (SIGWINCH). */
void tui_resize(void);

/* Reads one waiting key into *action; false when none is waiting.  Call
 * until false, acting on each: "p p g" typed fast is three actions. */
bool tui_next_key(enum tui_action *action);

/*
 * The group whose sessions the detail pane shows, by its values (into
 * values, pointing into report); false when the pane shows none.  The
 * loop asks the next report for that group's sessions, and traces them
 * to their client processes.
 */
bool tui_selected_group(const struct report *report,
			const char *values[GROUP_KEY_COUNT]);

/* True when the terminal is gone: input ended or failed (a terminal
 * closed without a SIGHUP); the loop then ends with its report. */
bool tui_input_gone(void);

/* The loop saw stdin readable but tui_next_key() gave nothing. */
void tui_note_empty_read(void);

#endif
