/*
 * report_text_sections.c - two sections of the text report that stand
 * alone: the tests that leaked (with the client hooks' lines under each)
 * and the limits closest to exhaustion.  Renderers only: every figure
 * and flag comes from the report model.
 */
#include "report_text_sections.h"

#include "columns.h"
#include "report_hooks.h"
#include "report_judge.h"
#include "report_pooler.h"
#include "report_text_table.h"

#include <stdio.h>
#include <string.h>

/* ---- per-test sessions (report_tests.c) ---- */

/* The first session a test left unused, the one its line names. */
static const struct report_test_session *first_unused(
	const struct report_test *t)
{
	for (size_t i = 0; i < t->session_count; i++) {
		if (strcmp(t->sessions[i].fate, "unused") == 0) {
			return &t->sessions[i];
		}
	}
	return NULL;
}

/* "(held by pid 4242, last query SELECT ...)", or the backend's pid
 * when its holder was not traced. */
static void holder_text(char *buf, size_t len,
			const struct report_test_session *s)
{
	if (s->client.pid > 0) {
		snprintf(buf, len, "held by pid %d, last query %s",
			 s->client.pid,
			 s->query[0] != '\0' ? s->query : "none");
	} else {
		snprintf(buf, len, "backend pid %d, last query %s", s->pid,
			 s->query[0] != '\0' ? s->query : "none");
	}
}

/* "  tests/test_orders.py::test_retry +1 (held by pid 4242, ...)" */
static void write_leaking_test(FILE *out, const struct report_test *t,
			       const struct text_style *st)
{
	const struct report_test_session *s = first_unused(t);
	char holder[800] = "";
	char line[1500];

	if (s != NULL) {
		holder_text(holder, sizeof(holder), s);
	}
	snprintf(line, sizeof(line), s != NULL ? "%s +%d (%s)" : "%s +%d",
		 t->name, t->leaked, holder);
	fputs("  ", out);
	text_write_cut(out, line, report_text_room_after(st, 2, 40), st->utf8);
	fputc('\n', out);
}

static void write_tests_reported(FILE *out, const struct report *r,
				 const struct text_style *st)
{
	const struct report_tests *rt = &r->tests;

	if (rt->leaking == 0) {
		fprintf(out, "\nNone of %zu tests leaked.\n", rt->tests);
	} else {
		fprintf(out, "\n%zu of %zu tests leaked:\n", rt->leaking,
			rt->tests);
	}
	for (size_t i = 0; i < rt->count; i++) {
		if (!rt->items[i].setup && rt->items[i].leaked > 0) {
			write_leaking_test(out, &rt->items[i], st);
			report_hooks_write_text_test(out, r, i, st);
		}
	}
	if (rt->unfinished > 0) {
		fprintf(out,
			"  (%zu tests did not end: the run stopped before "
			"their end)\n",
			rt->unfinished);
	}
}

/* Without tests, after the command left sessions unused (each group's
 * evidence lists them, with when they opened and their last query): how
 * to have the tests that opened them named. */
static void write_tests_hint(FILE *out, const struct report *r)
{
	bool any = false;

	for (size_t i = 0; i < r->group_count; i++) {
		any |= r->groups[i].evidence_total > 0;
	}
	if (r->wrapped && any) {
		fputs("\nTo name the tests that opened them: pgdrip finds "
		      "pytest, unittest, mocha, jest, vitest and node --test "
		      "by itself (unless PGDRIP_TEST_PLUGINS=0); mark any "
		      "other runner's tests with pgdrip --test-mark (TESTS "
		      "in pgdrip(1)).\n",
		      out);
	}
}

void report_text_sections_tests(FILE *out, const struct report *r,
				const struct text_style *st)
{
	if (r->tests.reported) {
		write_tests_reported(out, r, st);
	} else {
		write_tests_hint(out, r);
	}
}

/* A few limits are all shown; of many, only the server and those near
 * exhaustion, so hundreds of roles with a limit do not bury the rest. */
enum { LIMITS_ALL_UP_TO = 8 };

static bool limit_shown(const struct report_limit *l, bool all)
{
	return all || l->kind == LIMIT_KIND_SERVER ||
	       l->kind == LIMIT_KIND_CLIENTS || l->near_limit;
}

static const char *limit_label(const struct report_limit *l)
{
	return l->kind == LIMIT_KIND_SERVER    ? "(usable)"
	       : l->kind == LIMIT_KIND_CLIENTS ? "(max_client_conn)"
					       : l->name;
}

/* The name column: 24 wide, or as wide as the longest name shown where
 * the width allows (the figures after it take 43 columns). */
static int limit_name_width(const struct report *r, bool all,
			    const struct text_style *st)
{
	int room = report_text_room_after(st, 43, 24);
	int w = 24;

	for (size_t i = 0; i < r->limit_count; i++) {
		const struct report_limit *l = &r->limits[i];
		int lw;

		if (!limit_shown(l, all)) {
			continue;
		}
		lw = columns_text_width(limit_label(l), st->utf8);
		w = lw > w ? lw : w;
	}
	return room >= 0 && w > room ? room : w;
}

void report_text_sections_limits(FILE *out, const struct report *r,
				 const struct text_style *st)
{
	bool all = r->limit_count <= LIMITS_ALL_UP_TO;
	size_t hidden = 0;
	int name_width;
	int kind_width = 9;

	if (r->limit_count <= 1) {
		return;
	}
	name_width = limit_name_width(r, all, st);
	/* A pooler's kinds are longer ("client_database"). */
	for (size_t i = 0; i < r->limit_count; i++) {
		int w = (int)strlen(report_limit_kind_name(r->limits[i].kind));

		kind_width = w > kind_width ? w : kind_width;
	}
	fputs("\nLimits (closest to exhaustion first):\n", out);
	for (size_t i = 0; i < r->limit_count; i++) {
		const struct report_limit *l = &r->limits[i];

		if (!limit_shown(l, all)) {
			hidden++;
			continue;
		}
		fprintf(out, "  %-*s ", kind_width,
			report_limit_kind_name(l->kind));
		text_write_cell(out, limit_label(l), name_width, false,
				st->utf8);
		fprintf(out, " %5d/%-5d %5.1f%%%s\n", l->used, l->limit,
			l->usage_pct, l->near_limit ? "  NEAR-LIMIT" : "");
	}
	if (hidden > 0) {
		fprintf(out, "  (%zu more below %.0f%%)\n", hidden,
			REPORT_NEAR_LIMIT_PCT);
	}
}
