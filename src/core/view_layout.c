/*
 * view_layout.c - the live view's layout (see view.h): which columns of
 * the groups and sessions panes fit the terminal's width, in what order
 * they give way, and how the rows are shared between the two panes.
 */
#include "view.h"

#include "columns.h"
#include "match.h"
#include "report_judge.h"

#include <stdio.h>
#include <string.h>

enum {
	KEY_MIN = 6,     /* a key's narrowest column */
	KEY_WANT = 12,   /* names keep this much before the numbers go */
	KEY_NARROW = 28, /* up to 100 columns, the widest a key gets */
	NUM_W = 6,       /* CONN, ACT, IDLE, ITX with their separator */
	OLDEST_W = 8,
	DELTA_W = 6,
	TREND_W = 9,
	SPARK_W = 13,
};

void view_flags_fit(char *buf, size_t size, const struct report_group *g,
		    int width)
{
	view_flags(buf, size, g);
	if ((int)strlen(buf) > width) {
		(void)report_judge_flags_text(g->flags, buf, size);
	}
}

/* The widest sanitized value of the grouped keys, at least the header. */
static int widest_key(const struct report *r, bool utf8)
{
	int w = KEY_MIN;

	for (size_t k = 0; k < r->keys.count; k++) {
		int hw = (int)strlen(match_group_key_name(r->keys.keys[k]));

		w = hw > w ? hw : w;
	}
	for (size_t i = 0; i < r->group_count; i++) {
		for (size_t k = 0; k < r->keys.count; k++) {
			int kw = columns_text_width(
				r->groups[i].keys[r->keys.keys[k]], utf8);

			w = kw > w ? kw : w;
		}
	}
	return w;
}

/* The FLAGS column's widest cell, with the forecast (long) or the flag
 * words alone; at least its header. */
static int flags_width(const struct report *r, bool forecast)
{
	char buf[96];
	int w = 5;

	for (size_t i = 0; i < r->group_count; i++) {
		const struct report_group *g = &r->groups[i];

		if (forecast) {
			view_flags(buf, sizeof(buf), g);
		} else {
			(void)report_judge_flags_text(g->flags, buf,
						      sizeof(buf));
		}
		w = (int)strlen(buf) > w ? (int)strlen(buf) : w;
	}
	return w;
}

/* Takes width columns from *left for a column; false when they are not
 * there (the column is not shown). */
static bool take(int *left, int width)
{
	if (*left < width) {
		return false;
	}
	*left -= width;
	return true;
}

/* Widens the keys towards target each, as far as left allows. */
static void widen_keys(struct view_columns *c, int nkeys, int target, int *left)
{
	int more = target - c->key;

	more = more < *left / nkeys ? more : *left / nkeys;
	if (more <= 0) {
		return; /* never narrower than it is */
	}
	c->key += more;
	*left -= more * nkeys;
}

void view_plan_columns(const struct report *r, int cols, bool utf8,
		       struct view_columns *c)
{
	int widest = widest_key(r, utf8);
	int nkeys = (int)(r->keys.count ? r->keys.count : 1);
	int words = flags_width(r, false);
	int forecast = flags_width(r, true);
	/* The last column of the line stays blank: curses would wrap. */
	int left = cols - 1 - NUM_W * 2 - words - nkeys * (KEY_MIN + 1);

	/* Each that fits, in this order: a wide one left out does not
	 * keep a narrower one after it out too. */
	const int numbers[] = {OLDEST_W, TREND_W, NUM_W, NUM_W};
	bool shown[4];
	/* The forecast's extra columns: 0 (none to show) is skipped. */
	const int rest[] = {forecast - words, SPARK_W, DELTA_W};
	bool more[3];

	memset(c, 0, sizeof(*c));
	c->key = KEY_MIN;
	columns_fit(numbers, shown, 4, &left, COLUMNS_FIT_EACH);
	c->oldest = shown[0];
	c->trend = shown[1];
	c->idle = shown[2];
	c->active = shown[3];
	widen_keys(c, nkeys, widest < KEY_WANT ? widest : KEY_WANT, &left);
	columns_fit(rest, more, 3, &left, COLUMNS_FIT_EACH);
	c->flags = more[0] ? forecast : words;
	c->spark = more[1];
	c->delta = more[2];
	widen_keys(c, nkeys,
		   cols <= 100 && widest > KEY_NARROW ? KEY_NARROW : widest,
		   &left);
	/* FLAGS runs to the end of the line. */
	c->flags += left > 0 ? left : 0;
}

enum {
	DETAIL_FIXED = 7 + 1 + 9 + 1 + 8 + 1, /* PID STATE IN-STATE */
	AGE_W = 9,
	QUERY_MIN = 20,
	QUERY_WANT = 40, /* before the client widens */
	CLIENT_MIN = 12,
	PROCESS_MIN = 16,
	PROCESS_WANT = 22, /* a pid and the command's name */
	WAIT_MIN = 13,
	WAIT_WANT = 20,   /* "Client:ClientRead", "LWLock:BufferContent" */
	CLIENT_WANT = 21, /* "192.168.100.200:54321" */
	CLIENT_MAX = 39,  /* an IPv6 address and port */
};

/* Gives up to want - *width more columns from *left to *width. */
static void grow(int *width, int want, int *left)
{
	int more = want - *width;

	more = more < *left ? more : *left;
	if (more > 0) {
		*width += more;
		*left -= more;
	}
}

void view_plan_detail(int cols, struct view_detail_columns *c)
{
	/* Each widening column has its separator; the line's last column
	 * stays blank. */
	int left = cols - 1 - DETAIL_FIXED - (CLIENT_MIN + 1) -
		   (PROCESS_MIN + 1) - QUERY_MIN;

	memset(c, 0, sizeof(*c));
	c->client = CLIENT_MIN;
	c->process = PROCESS_MIN;
	c->query = QUERY_MIN;
	c->age = take(&left, AGE_W);
	c->wait = take(&left, WAIT_MIN + 1);
	c->wait_w = c->wait ? WAIT_MIN : 0;
	if (c->wait) {
		grow(&c->wait_w, WAIT_WANT, &left);
	}
	/* Who holds a session is the point: the process before the
	 * query's room, the client address last. */
	grow(&c->process, PROCESS_WANT, &left);
	grow(&c->query, QUERY_WANT, &left);
	grow(&c->client, CLIENT_WANT, &left);
	if (left > 0) {
		/* Wide: the command and the query share what is left. */
		int half = left / 2;

		grow(&c->client, CLIENT_MAX, &half);
		left = left - left / 2 + half;
		half = left / 2;
		c->process += half;
		left -= half;
	}
	c->query += left > 0 ? left : 0;
}

void view_plan_panes(int body, size_t groups, bool detail, size_t sessions,
		     struct view_panes *p)
{
	int g_need = (int)groups + 2;   /* the header and a blank row */
	int d_need = (int)sessions + 2; /* the title and the header */

	p->groups = body;
	p->detail = 0;
	if (!detail || body < 11) {
		return;
	}
	if (g_need + d_need <= body) {
		p->groups = g_need;
	} else {
		p->groups = g_need < body / 2 ? g_need : body / 2;
		if (body - p->groups > d_need) {
			p->groups = body - d_need;
		}
	}
	p->detail = body - p->groups;
}
