/*
 * report_text_table.c - the text report's groups table (see
 * report_text_table.h): which columns fit the width, the keys squeezed
 * fairly, a row per group with the flags the report decided.
 */
#include "report_text_table.h"

#include "columns.h"
#include "report_judge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SGR_RED "\033[1;31m"
#define SGR_YELLOW "\033[33m"
#define SGR_RESET "\033[0m"

enum column_id {
	COL_CONN,
	COL_ACTIVE,
	COL_IDLE,
	COL_IDLE_TX,
	COL_BASE,
	COL_PEAK,
	COL_DELTA,
	COL_TREND,
	COL_COUNT
};

struct column {
	const char *header;
	int width;
	int drop_order; /* dropped first when narrow: highest */
	bool over_time; /* only meaningful with more than one sample */
};

static const struct column columns[COL_COUNT] = {
	[COL_CONN] = {"CONN", 5, 0, false},
	[COL_ACTIVE] = {"ACTIVE", 6, 3, false},
	[COL_IDLE] = {"IDLE", 5, 2, false},
	[COL_IDLE_TX] = {"IDLE-TX", 7, 1, false},
	[COL_BASE] = {"BASE", 5, 6, true},
	[COL_PEAK] = {"PEAK", 5, 5, true},
	[COL_DELTA] = {"+/-", 5, 7, true},
	[COL_TREND] = {"TREND/MIN", 9, 4, true},
};

struct layout {
	bool shown[COL_COUNT];
	int key_width[GROUP_KEY_COUNT];
	int flags_width;
};

/* The words in a group's FLAGS cell (report_judge.h); they read
 * without colour too. */
static void group_flags(const struct report_group *g, char *buf, size_t len)
{
	(void)report_judge_flags_text(g->flags, buf, len);
}

/* The width to fit, or 0 when nothing is ever cut (off a terminal). */
static int fit_width(const struct text_style *st)
{
	if (st->width < 0) {
		return 0;
	}
	return st->width > 0 ? st->width : 80;
}

/* How far text after `used` columns may run before it is cut: -1 (the
 * text_write_cut() "never") off a terminal, else what is left of the
 * width but never less than min, so a narrow terminal still shows a
 * readable start. */
int report_text_room_after(const struct text_style *st, int used, int min)
{
	int width = fit_width(st);

	if (width == 0) {
		return -1;
	}
	return width - used < min ? min : width - used;
}

/*
 * Shares avail columns among the keys (each with its separator): a key
 * that needs less than an even share gets what it needs, the rest split
 * what is left, none below 6.  Short keys stay whole beside a long one.
 */
static void squeeze_keys(const struct report *r, struct layout *lay, int avail)
{
	bool done[GROUP_KEY_COUNT] = {false};
	int left = avail - (int)r->keys.count;
	int open = (int)r->keys.count;
	bool changed = true;

	while (changed && open > 0) {
		changed = false;
		for (size_t k = 0; k < r->keys.count; k++) {
			enum group_key key = r->keys.keys[k];

			if (!done[key] && lay->key_width[key] <= left / open) {
				done[key] = true;
				left -= lay->key_width[key];
				open--;
				changed = true;
			}
		}
	}
	for (size_t k = 0; k < r->keys.count && open > 0; k++) {
		enum group_key key = r->keys.keys[k];

		if (!done[key]) {
			lay->key_width[key] = left / open < 6 ? 6 : left / open;
		}
	}
}

/*
 * Narrow: the numbers go, least useful first (the highest drop_order),
 * before the names are squeezed below 12 columns each: room is what the
 * columns may take once the names have that.  The connection count
 * always stays.  Returns the columns' width.
 */
static int fit_columns(struct layout *lay, int room)
{
	int widths[COL_COUNT];
	bool shown[COL_COUNT];
	int order[COL_COUNT];
	size_t n = 0;
	int fixed = columns[COL_CONN].width + 1;

	room -= fixed;
	for (int o = 1; o < COL_COUNT; o++) {
		for (int c = 0; c < COL_COUNT; c++) {
			if (columns[c].drop_order == o) {
				order[n] = c;
				widths[n++] = lay->shown[c]
						      ? columns[c].width + 1
						      : 0;
			}
		}
	}
	/* A prefix of the most useful: a column goes with every one less
	 * useful than it. */
	columns_fit(widths, shown, n, &room, COLUMNS_FIT_PREFIX);
	for (size_t i = 0; i < n; i++) {
		lay->shown[order[i]] = shown[i];
		fixed += shown[i] ? widths[i] : 0;
	}
	return fixed;
}

static void plan_layout(const struct report *r, const struct text_style *st,
			struct layout *lay)
{
	int width = fit_width(st);
	int fixed;
	int keys_need = 0;
	int avail;
	char flags[64];

	memset(lay, 0, sizeof(*lay));
	lay->flags_width = 5;
	for (size_t i = 0; i < r->group_count; i++) {
		group_flags(&r->groups[i], flags, sizeof(flags));
		if ((int)strlen(flags) > lay->flags_width) {
			lay->flags_width = (int)strlen(flags);
		}
	}
	for (int c = 0; c < COL_COUNT; c++) {
		lay->shown[c] = !columns[c].over_time || r->samples > 1;
	}
	/* Each key as wide as its widest value: a 63-byte name stays
	 * whole whenever the width allows it. */
	for (size_t k = 0; k < r->keys.count; k++) {
		enum group_key key = r->keys.keys[k];
		int w = (int)strlen(match_group_key_name(key));

		for (size_t i = 0; i < r->group_count; i++) {
			int kw = columns_text_width(r->groups[i].keys[key],
						    st->utf8);

			w = kw > w ? kw : w;
		}
		lay->key_width[key] = w;
		keys_need += lay->key_width[key] + 1;
	}
	if (width == 0) {
		return;
	}
	fixed = fit_columns(lay, width - lay->flags_width -
					 (keys_need < (int)r->keys.count * 13
						  ? keys_need
						  : (int)r->keys.count * 13));
	avail = width - fixed - lay->flags_width;
	if (avail < keys_need && r->keys.count > 0) {
		squeeze_keys(r, lay, avail);
	}
}

static void write_upper(FILE *out, const char *s, int width, bool first)
{
	char buf[64];
	size_t i;

	for (i = 0; s[i] != '\0' && i < sizeof(buf) - 1; i++) {
		buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	}
	buf[i] = '\0';
	fprintf(out, "%s%-*s", first ? "" : " ", width, buf);
}

static void write_header_row(FILE *out, const struct report *r,
			     const struct layout *lay)
{
	for (size_t k = 0; k < r->keys.count; k++) {
		enum group_key key = r->keys.keys[k];

		write_upper(out, match_group_key_name(key), lay->key_width[key],
			    k == 0);
	}
	for (int c = 0; c < COL_COUNT; c++) {
		if (lay->shown[c]) {
			fprintf(out, " %*s", columns[c].width,
				columns[c].header);
		}
	}
	fputs(" FLAGS\n", out);
}

static void write_cell_value(FILE *out, const struct report_group *g, int c)
{
	char buf[32];
	int width = columns[c].width;
	int unknown = g->states[SESSION_STATE_UNKNOWN];

	switch (c) {
	case COL_CONN:
		fprintf(out, " %*d", width, g->connections);
		return;
	case COL_ACTIVE:
		snprintf(buf, sizeof(buf), "%d",
			 g->states[SESSION_STATE_ACTIVE]);
		break;
	case COL_IDLE:
		snprintf(buf, sizeof(buf), "%d", g->states[SESSION_STATE_IDLE]);
		break;
	case COL_IDLE_TX:
		snprintf(buf, sizeof(buf), "%d",
			 g->states[SESSION_STATE_IDLE_TX] +
				 g->states[SESSION_STATE_IDLE_TX_ABORTED]);
		break;
	case COL_BASE:
		fprintf(out, " %*d", width, g->baseline);
		return;
	case COL_PEAK:
		fprintf(out, " %*d", width, g->peak);
		return;
	case COL_DELTA:
		fprintf(out, " %+*d", width, g->connections - g->baseline);
		return;
	default:
		fprintf(out, " %+*.1f", width, g->trend.slope_per_min);
		return;
	}
	/* States the server hid from us are unknown, never 0: "2?" means
	 * at least 2, maybe more. */
	if (unknown > 0) {
		strncat(buf, "?", sizeof(buf) - strlen(buf) - 1);
	}
	fprintf(out, " %*s", width, buf);
}

static void write_group_row(FILE *out, const struct report *r,
			    const struct report_group *g,
			    const struct layout *lay,
			    const struct text_style *st)
{
	char flags[64];

	for (size_t k = 0; k < r->keys.count; k++) {
		enum group_key key = r->keys.keys[k];

		if (k > 0) {
			fputc(' ', out);
		}
		text_write_cell(out, g->keys[key], lay->key_width[key], false,
				st->utf8);
	}
	for (int c = 0; c < COL_COUNT; c++) {
		if (lay->shown[c]) {
			write_cell_value(out, g, c);
		}
	}
	group_flags(g, flags, sizeof(flags));
	if (flags[0] != '\0') {
		fputc(' ', out);
	}
	if (st->color && flags[0] != '\0') {
		fprintf(out, "%s%s%s", g->flagged ? SGR_RED : SGR_YELLOW, flags,
			SGR_RESET);
	} else {
		fputs(flags, out);
	}
	fputc('\n', out);
}

void report_text_table_write(FILE *out, const struct report *r,
			     const struct text_style *st)
{
	struct layout lay;

	fputc('\n', out);
	if (r->group_count == 0) {
		fputs("No client sessions match.\n", out);
		return;
	}
	plan_layout(r, st, &lay);
	write_header_row(out, r, &lay);
	for (size_t i = 0; i < r->group_count; i++) {
		write_group_row(out, r, &r->groups[i], &lay, st);
	}
}
