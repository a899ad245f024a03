/*
 * tui.c - the live view.  The only file that includes curses.h.  Every
 * server string is sanitized by text.c before it reaches the screen;
 * curses sends only the cells that changed, so an idle refresh costs
 * little.
 */
#include "tui.h"

#include "core/match.h"
#include "core/report_judge.h"
#include "core/report_pooler.h"
#include "core/text.h"
#include "core/units.h"
#include "core/view.h"
#include "output.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

enum { PAIR_LEAK = 1, PAIR_WARN, PAIR_OK, PAIR_DIM };

static struct {
	SCREEN *screen;
	bool active;
	bool atexit_set;
	struct termios saved;
	bool saved_ok;
	bool color;
	bool utf8;
	int selected;
	bool detail;
	bool help;
	enum view_sort sort;
	char filter[128];
	bool typing;
	size_t detail_top;    /* first session shown in the pane */
	int detail_rows;      /* sessions the pane had room for */
	unsigned empty_reads; /* readable, yet no key: the tty is gone */
	bool gone;
} ui = {.detail = true};

bool tui_start(bool color, struct errbuf *err)
{
	ui.saved_ok = tcgetattr(STDIN_FILENO, &ui.saved) == 0;
	ui.screen = newterm(NULL, stdout, stdin);
	if (ui.screen == NULL) {
		errbuf_set(err,
			   "cannot use the terminal \"%s\" for the live "
			   "view",
			   getenv("TERM") ? getenv("TERM") : "");
		return false;
	}
	set_term(ui.screen);
	ui.active = true;
	if (!ui.atexit_set) {
		atexit(tui_end);
		ui.atexit_set = true;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	/* Home and End as tmux, screen and rxvt send them, whatever TERM
	 * says (xterm's terminfo knows only \eOH and \eOF). */
	define_key("\033[1~", KEY_HOME);
	define_key("\033[7~", KEY_HOME);
	define_key("\033[H", KEY_HOME);
	define_key("\033[4~", KEY_END);
	define_key("\033[8~", KEY_END);
	define_key("\033[F", KEY_END);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	ui.utf8 = output_locale_is_utf8();
	ui.color = color && has_colors();
	if (ui.color) {
		start_color();
		use_default_colors();
		init_pair(PAIR_LEAK, COLOR_RED, -1);
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		init_pair(PAIR_OK, COLOR_GREEN, -1);
		init_pair(PAIR_DIM, COLOR_CYAN, -1);
	}
	return true;
}

void tui_end(void)
{
	if (!ui.active) {
		return;
	}
	ui.active = false;
	endwin();
	delscreen(ui.screen);
	ui.screen = NULL;
	if (ui.saved_ok) {
		tcsetattr(STDIN_FILENO, TCSANOW, &ui.saved);
	}
}

void tui_emergency_restore(void)
{
	static const char reset[] = "\033[0m\033[?25h\033[?1049l\r\n";

	if (!ui.active) {
		return;
	}
	if (ui.saved_ok) {
		tcsetattr(STDIN_FILENO, TCSANOW, &ui.saved);
	}
	if (write(STDOUT_FILENO, reset, sizeof(reset) - 1) < 0) {
		(void)0;
	}
}

void tui_resize(void)
{
	struct winsize ws;

	if (ui.active && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_row > 0 && ws.ws_col > 0) {
		resizeterm(ws.ws_row, ws.ws_col);
	}
}

/* A sanitized cell of exactly width columns (see text_write_cell). */
static void put_cell(const char *s, int width, bool right)
{
	char buf[1024];
	FILE *f;

	if (width <= 0) {
		return;
	}
	f = fmemopen(buf, sizeof(buf), "w");
	if (f == NULL) {
		return;
	}
	text_write_cell(f, s, width, right, ui.utf8);
	fputc('\0', f);
	fclose(f);
	buf[sizeof(buf) - 1] = '\0';
	addstr(buf);
}

static void put_text(int y, const char *s)
{
	move(y, 0);
	clrtoeol();
	put_cell(s, COLS - 1, false);
}

static void draw_header(const struct tui_view *v)
{
	const struct report *r = v->report;
	char line[1024];
	char when[32];
	char bar[64];
	char source[128];
	int filled;
	int bar_width = 20;

	report_pooler_source_name(source, sizeof(source), r);
	snprintf(line, sizeof(line), "pgdrip  %s  %s  as %s", r->server_label,
		 source, r->server.current_user);
	attron(A_BOLD);
	put_text(0, line);
	attroff(A_BOLD);
	units_format_duration(when, sizeof(when), v->elapsed_s);
	snprintf(line, sizeof(line),
		 "every %gs  elapsed %s  %zu samples  %s%s%s", v->interval_s,
		 when, r->samples,
		 v->lost_for_s > 0 ? "RECONNECTING" : "connected",
		 v->paused ? "  PAUSED" : "", v->late ? "  sample late" : "");
	put_text(1, line);
	filled = (int)lrint(bar_width * fmin(100, r->usage_pct) / 100);
	memset(bar, '#', (size_t)filled);
	memset(bar + filled, '.', (size_t)(bar_width - filled));
	bar[bar_width] = '\0';
	if (r->server.source == SAMPLE_SOURCE_PGBOUNCER) {
		/* The pooler's exhaustion is its waiting clients. */
		snprintf(line, sizeof(line),
			 "clients %d/%d [%s] %.1f%%  waiting %d  maxwait "
			 "%.1fs  pools %zu",
			 r->total_all, r->usable_connections, bar, r->usage_pct,
			 r->pooler_waiting, r->pooler_maxwait_s, r->pool_count);
	} else {
		snprintf(line, sizeof(line),
			 "connections %d/%d [%s] %.1f%%  %s", r->total_all,
			 r->usable_connections, bar, r->usage_pct,
			 r->unknown_states
				 ? "(some states hidden: GRANT pg_monitor)"
				 : "");
	}
	move(2, 0);
	clrtoeol();
	if (ui.color && r->near_limit) {
		attron(COLOR_PAIR(PAIR_WARN));
	}
	put_cell(line, COLS - 1, false);
	if (ui.color) {
		attroff(COLOR_PAIR(PAIR_WARN));
	}
}

/* A group's CONN, ACT, IDLE and ITX cells, as c shows them; ITX ends in
 * "?" when the server hid some states from us. */
static void draw_counts(const struct report_group *g,
			const struct view_columns *c)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%5d ", g->connections);
	addstr(buf);
	if (c->active) {
		snprintf(buf, sizeof(buf), "%5d ",
			 g->states[SESSION_STATE_ACTIVE]);
		addstr(buf);
	}
	if (c->idle) {
		snprintf(buf, sizeof(buf), "%5d ",
			 g->states[SESSION_STATE_IDLE]);
		addstr(buf);
	}
	snprintf(buf, sizeof(buf), "%4d%s ",
		 g->states[SESSION_STATE_IDLE_TX] +
			 g->states[SESSION_STATE_IDLE_TX_ABORTED],
		 g->states[SESSION_STATE_UNKNOWN] ? "?" : " ");
	addstr(buf);
}

static void draw_groups(const struct tui_view *v, int top, int height,
			const size_t *rows, size_t n)
{
	const struct report *r = v->report;
	struct view_columns c;
	char buf[512];
	int first;

	view_plan_columns(r, COLS, ui.utf8, &c);
	move(top, 0);
	clrtoeol();
	/* Underlined, not reversed: the selected row (reversed) must never
	 * merge with it. */
	attron(A_BOLD | A_UNDERLINE);
	for (size_t k = 0; k < r->keys.count; k++) {
		char name[32];
		const char *kn = match_group_key_name(r->keys.keys[k]);
		size_t i;

		for (i = 0; kn[i] != '\0' && i < sizeof(name) - 1; i++) {
			name[i] = (char)(kn[i] - 32);
		}
		name[i] = '\0';
		put_cell(name, c.key, false);
		addch(' ');
	}
	/* The same columns, in the same order, as each row below. */
	snprintf(buf, sizeof(buf), "%5s %s%s%4s  %s%s%s%s%s", "CONN",
		 c.active ? "  ACT " : "", c.idle ? " IDLE " : "", "ITX",
		 c.oldest ? " OLDEST " : "", c.delta ? "  +/- " : "",
		 c.trend ? " TREND/m " : "", c.spark ? "HISTORY      " : "",
		 "FLAGS");
	put_cell(buf, COLS - getcurx(stdscr), false);
	attroff(A_BOLD | A_UNDERLINE);
	if (ui.selected >= (int)n) {
		ui.selected = n ? (int)n - 1 : 0;
	}
	first = ui.selected >= height - 1 ? ui.selected - (height - 2) : 0;
	for (int row = 1; row < height; row++) {
		size_t idx = (size_t)(first + row - 1);
		const struct report_group *g;
		char when[32];
		char spark[128];
		char flags[96];

		move(top + row, 0);
		clrtoeol();
		if (idx >= n) {
			continue;
		}
		g = &r->groups[rows[idx]];
		if ((int)idx == ui.selected) {
			attron(A_REVERSE);
		}
		for (size_t k = 0; k < r->keys.count; k++) {
			put_cell(g->keys[r->keys.keys[k]], c.key, false);
			addch(' ');
		}
		units_format_duration(when, sizeof(when), g->oldest_idle_tx_s);
		view_sparkline(spark, sizeof(spark), g, 12, ui.utf8);
		draw_counts(g, &c);
		if (c.oldest) {
			snprintf(buf, sizeof(buf), "%7s ", when);
			addstr(buf);
		}
		if (c.delta) {
			snprintf(buf, sizeof(buf), "%+5d ",
				 g->connections - g->baseline);
			addstr(buf);
		}
		if (c.trend) {
			snprintf(buf, sizeof(buf), "%+8.1f ",
				 g->trend.slope_per_min);
			addstr(buf);
		}
		if (c.spark) {
			put_cell(spark, 12, false);
			addch(' ');
		}
		view_flags_fit(flags, sizeof(flags), g,
			       COLS - getcurx(stdscr) - 1);
		if (ui.color && flags[0] != '\0') {
			attron(COLOR_PAIR(g->flagged ? PAIR_LEAK : PAIR_WARN) |
			       A_BOLD);
		}
		put_cell(flags, COLS - getcurx(stdscr) - 1, false);
		if (ui.color) {
			attroff(COLOR_PAIR(PAIR_LEAK) | COLOR_PAIR(PAIR_WARN) |
				A_BOLD);
		}
		attroff(A_REVERSE);
	}
}

static void draw_session(const struct report_session *s,
			 const struct view_detail_columns *c)
{
	char in_state[32];
	char age[32];
	char client[96];
	char process[256];
	char wait[96];
	char buf[128];

	units_format_duration(in_state, sizeof(in_state), s->idle_s);
	units_format_duration(age, sizeof(age), s->backend_age_s);
	if (s->client_port == -1) {
		snprintf(client, sizeof(client), "local");
	} else {
		snprintf(client, sizeof(client), "%s:%d", s->client_addr,
			 s->client_port);
	}
	snprintf(wait, sizeof(wait), "%s%s%s", s->wait_event_type,
		 s->wait_event[0] ? ":" : "", s->wait_event);
	snprintf(buf, sizeof(buf), "%-7d %-9s %8s ", s->pid,
		 view_session_state(s), in_state);
	addstr(buf);
	if (c->age) {
		snprintf(buf, sizeof(buf), "%8s ", age);
		addstr(buf);
	}
	put_cell(client, c->client, false);
	addch(' ');
	if (report_pooler_is_via(&s->client)) {
		/* Through PgBouncer: the pooler, and its client if known. */
		report_pooler_process_text(process, sizeof(process), &s->client,
					   "");
	} else if (s->client.pid > 0) {
		snprintf(process, sizeof(process), "%d %s", s->client.pid,
			 s->client.command);
	} else {
		snprintf(process, sizeof(process), "-");
	}
	put_cell(process, c->process, false);
	addch(' ');
	if (c->wait) {
		put_cell(wait, c->wait_w, false);
		addch(' ');
	}
	if (s->client_line != NULL) {
		/* The client hooks' word on it first (CLIENT HOOKS), in at
		 * most half the query's room: the query keeps the rest. */
		int room = c->query / 2 - 2;

		put_cell(s->client_line, room < 60 ? room : 60, false);
		addstr(": ");
	}
	put_cell(s->query, COLS - getcurx(stdscr) - 1, false);
}

/* The detail pane: the sessions the report lists for the group asked
 * about (the selected one), oldest first, scrolled by PgUp/PgDn. */
static void draw_detail(const struct tui_view *v, int top, int height,
			const struct report_group *g)
{
	const struct report *r = v->report;
	size_t n = r->detail_count;
	int rows = height - 2;
	struct view_detail_columns c;
	char label[600];
	char head[512];
	char more[64] = "";
	char buf[1400];

	view_plan_detail(COLS, &c);
	ui.detail_rows = rows > 0 ? rows : 0;
	if (ui.detail_top + (size_t)ui.detail_rows > n) {
		ui.detail_top = n > (size_t)ui.detail_rows
					? n - (size_t)ui.detail_rows
					: 0;
	}
	if (n > (size_t)ui.detail_rows) {
		snprintf(more, sizeof(more), " (%zu-%zu of %zu, PgUp/PgDn)",
			 ui.detail_top + 1,
			 ui.detail_top + (size_t)(rows > 0 ? rows : 0), n);
	}
	if (g->holder.pid > 0 && report_pooler_is_via(&g->holder)) {
		snprintf(buf, sizeof(buf),
			 "%s: %zu sessions, oldest first%s; "
			 "%d held via pgbouncer (pid %d)",
			 report_group_label(r, g, label, sizeof(label)), n,
			 more, g->holder_sessions, g->holder.pid);
	} else if (g->holder.pid > 0) {
		snprintf(buf, sizeof(buf),
			 "%s: %zu sessions, oldest first%s; "
			 "%d held by pid %d (%s)",
			 report_group_label(r, g, label, sizeof(label)), n,
			 more, g->holder_sessions, g->holder.pid,
			 g->holder.command);
	} else {
		snprintf(buf, sizeof(buf), "%s: %zu sessions, oldest first%s",
			 report_group_label(r, g, label, sizeof(label)), n,
			 more);
	}
	attron(A_BOLD);
	put_text(top, buf);
	attroff(A_BOLD);
	move(top + 1, 0);
	clrtoeol();
	snprintf(head, sizeof(head), "%-7s %-9s %8s %s%-*s %-*s %-*s%s%s",
		 "PID", "STATE", "IN-STATE", c.age ? "     AGE " : "", c.client,
		 "CLIENT", c.process, "PROCESS", c.wait_w, c.wait ? "WAIT" : "",
		 c.wait ? " " : "", "QUERY");
	attron(A_BOLD | A_UNDERLINE);
	put_cell(head, COLS - 1, false);
	attroff(A_BOLD | A_UNDERLINE);
	for (int row = 0; row < rows; row++) {
		size_t i = ui.detail_top + (size_t)row;

		move(top + 2 + row, 0);
		clrtoeol();
		if (i >= n) {
			continue;
		}
		if (row == rows - 1 && i + 1 < n) {
			/* The last line says how many more are below. */
			snprintf(buf, sizeof(buf), "  +%zu more (PgDn)", n - i);
			attron(A_DIM);
			addstr(buf);
			attroff(A_DIM);
			continue;
		}
		draw_session(&r->detail[i], &c);
	}
}

static void draw_help(void)
{
	char near[64];
	const char *const lines[] = {
		"q        quit (the report follows)",
		"j k, arrows  select a group",
		"Enter    show or hide the sessions of the selected group",
		"PgUp PgDn Home End  scroll those sessions",
		"s        sort: connections, growth, idle-tx age, name",
		"g        grouping: user,app / user / app / db / user,app,db / "
		"state",
		"/        filter groups by a glob (Esc clears)",
		"p        pause or resume sampling",
		"b        make the current counts the baseline",
		"+ -      sample less or more often",
		"?        this help",
		"",
		"LEAK: sessions left unused while others open (and the time",
		"to the nearest limit); IDLE-TX: sessions idle in a",
		near,
	};

	snprintf(near, sizeof(near),
		 "transaction; NEAR-LIMIT: a limit used %.0f%% or more.",
		 REPORT_NEAR_LIMIT_PCT);

	for (size_t i = 0; i < PGD_ARRAY_LEN(lines); i++) {
		put_text(4 + (int)i, lines[i]);
	}
}

/* The footer (view_footer()) from the view's and the keys' state. */
static void draw_footer(const struct tui_view *v, char *buf, size_t size)
{
	struct view_footer_state f = {
		.message = v->message,
		.typing = ui.typing,
		.filter = ui.filter,
		.detail = ui.detail,
		.sort = ui.sort,
		.paused = v->paused,
		.utf8 = ui.utf8,
	};

	view_footer(buf, size, COLS, &f);
}

void tui_draw(const struct tui_view *v)
{
	size_t n;
	size_t *rows = view_rows(v->report, ui.filter, ui.sort, &n);
	struct view_panes panes;
	char footer[256];

	erase();
	draw_header(v);
	if (ui.help) {
		draw_help();
	} else if (rows != NULL) {
		view_plan_panes(LINES - 5, n, ui.detail && n > 0,
				v->report->detail_count, &panes);
		draw_groups(v, 4, panes.groups, rows, n);
		if (panes.detail > 0) {
			draw_detail(v, 4 + panes.groups, panes.detail,
				    &v->report->groups[rows[ui.selected]]);
		}
	}
	draw_footer(v, footer, sizeof(footer));
	attron(A_REVERSE);
	put_text(LINES - 1, footer);
	attroff(A_REVERSE);
	refresh();
	free(rows);
}

/* Whether the detail pane is on screen (it needs room). */
static bool detail_shown(size_t visible)
{
	struct view_panes panes;

	view_plan_panes(LINES - 5, visible, ui.detail && visible > 0, 0,
			&panes);
	return !ui.help && panes.detail > 0;
}

bool tui_selected_group(const struct report *report,
			const char *values[GROUP_KEY_COUNT])
{
	size_t n;
	size_t *rows;
	bool shown;

	if (!ui.active) {
		return false;
	}
	rows = view_rows(report, ui.filter, ui.sort, &n);
	shown = rows != NULL && detail_shown(n);
	if (shown) {
		size_t pick = ui.selected < (int)n ? (size_t)ui.selected
						   : n - 1;
		const struct report_group *g = &report->groups[rows[pick]];

		for (int k = 0; k < GROUP_KEY_COUNT; k++) {
			values[k] = g->keys[k];
		}
	}
	free(rows);
	return shown;
}

bool tui_input_gone(void)
{
	return ui.gone;
}

static enum tui_action filter_key(int ch)
{
	size_t len = strlen(ui.filter);

	if (ch == 27) {
		ui.filter[0] = '\0';
		ui.typing = false;
		return TUI_FILTER;
	}
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		ui.typing = false;
		return TUI_REDRAW;
	}
	if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && len > 0) {
		ui.filter[len - 1] = '\0';
		return TUI_FILTER;
	}
	if (ch >= 0x20 && ch < 0x7f && len + 1 < sizeof(ui.filter)) {
		ui.filter[len] = (char)ch;
		ui.filter[len + 1] = '\0';
		return TUI_FILTER;
	}
	return TUI_NONE;
}

static enum tui_action one_key(int ch)
{
	if (ui.typing) {
		return filter_key(ch);
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return TUI_QUIT;
	case 'j':
	case KEY_DOWN:
		ui.selected++;
		ui.detail_top = 0;
		return TUI_REDRAW;
	case 'k':
	case KEY_UP:
		ui.selected = ui.selected > 0 ? ui.selected - 1 : 0;
		ui.detail_top = 0;
		return TUI_REDRAW;
	case '\n':
	case '\r':
	case KEY_ENTER:
		ui.detail = !ui.detail;
		return TUI_REDRAW;
	case 's':
		ui.sort = (ui.sort + 1) % VIEW_SORT_COUNT;
		return TUI_REDRAW;
	case 'g':
		ui.selected = 0;
		return TUI_REGROUP;
	case '/':
		ui.typing = true;
		return TUI_REDRAW;
	case 27:
		ui.filter[0] = '\0';
		ui.help = false;
		return TUI_FILTER;
	case 'p':
		return TUI_PAUSE;
	case 'b':
		return TUI_REBASELINE;
	case '+':
		return TUI_SLOWER;
	case '-':
		return TUI_FASTER;
	case '?':
	case 'h':
		ui.help = !ui.help;
		return TUI_REDRAW;
	case KEY_NPAGE:
		ui.detail_top += (size_t)(ui.detail_rows > 1
						  ? ui.detail_rows - 1
						  : 1);
		return TUI_REDRAW;
	case KEY_PPAGE:
		ui.detail_top -=
			ui.detail_top < (size_t)(ui.detail_rows > 1
							 ? ui.detail_rows - 1
							 : 1)
				? ui.detail_top
				: (size_t)(ui.detail_rows > 1
						   ? ui.detail_rows - 1
						   : 1);
		return TUI_REDRAW;
	case KEY_HOME:
		ui.detail_top = 0;
		return TUI_REDRAW;
	case KEY_END:
		ui.detail_top = (size_t)-1 / 2; /* clamped when drawn */
		return TUI_REDRAW;
	case KEY_RESIZE:
		return TUI_REDRAW;
	default:
		return TUI_NONE;
	}
}

bool tui_next_key(enum tui_action *action)
{
	int ch = getch();

	if (ch == ERR) {
		return false;
	}
	ui.empty_reads = 0;
	*action = one_key(ch);
	return true;
}

void tui_note_empty_read(void)
{
	/* poll() said readable, yet no key came, again and again: the
	 * terminal is gone (EOF or EIO), though no SIGHUP said so. */
	if (++ui.empty_reads >= 3) {
		ui.gone = true;
	}
}
