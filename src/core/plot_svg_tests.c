/*
 * plot_svg_tests.c - a runner's tests on the picture: a tick where each
 * began, a numbered band over each that leaked (tinted in turn, edged,
 * so neighbours never merge into one), and the legend's list that names
 * them by number, written horizontally.
 */
#include "plot_svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum {
	TAG_W = 18, /* a band's number tag */
	TAG_H = 12,
	TAG_ROWS = 3, /* tags of narrow bands staggered over this many */
	KEY_ROW_H = 14,
	KEY_CHARS = 32, /* a test's name in the legend, at most */
};

/* The bands' tints, in turn. */
static const char *const band_colors[] = {"#d62728", "#9467bd", "#8c564b"};

static const char *band_color(size_t n)
{
	return band_colors[(n - 1) % PGD_ARRAY_LEN(band_colors)];
}

/* A leaking test the picture shows: reported, timed, not a setup. */
static bool leaking(const struct report_test *t)
{
	return !t->setup && t->leaked > 0 && isfinite(t->started_s);
}

/* A test's name in the legend's little room: its last part (the test
 * and its parameters, without the file and class: "test_retry[3]"),
 * and when that is still too long, its end, where parameters tell
 * neighbours apart ("…_long_name[3]"). */
static void put_key_name(FILE *out, const char *name)
{
	const char *tail = name;
	size_t chars = 0;

	for (const char *c = strstr(name, "::"); c != NULL;
	     c = strstr(c + 2, "::")) {
		tail = c + 2;
	}
	for (const char *c = tail; *c != '\0'; c++) {
		chars += (*c & 0xC0) != 0x80;
	}
	if (chars > KEY_CHARS) {
		/* Drop characters from the front, on a character's start. */
		while (chars > KEY_CHARS - 1) {
			tail++;
			while ((*tail & 0xC0) == 0x80) {
				tail++;
			}
			chars--;
		}
		fputs("\xe2\x80\xa6", out);
	}
	plot_svg_put_text(out, tail, KEY_CHARS);
}

static void write_ticks(FILE *out, const struct plot *p)
{
	const struct report_tests *rt = &p->report->tests;

	for (size_t i = 0; i < rt->count; i++) {
		const struct report_test *t = &rt->items[i];
		double x = plot_svg_x(p, t->started_s);

		if (t->setup || !isfinite(t->started_s)) {
			continue;
		}
		fputs("<line class=\"test\" data-test=\"", out);
		plot_svg_put_text(out, t->name, 200);
		fprintf(out,
			"\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" "
			"stroke=\"%s\" stroke-width=\"0.5\"/>\n",
			x, x, PLOT_BOTTOM - 6, PLOT_BOTTOM, MUTED_COLOR);
	}
}

/* The row (from the top) whose last tag ends left of x, taking it; -1
 * when every row is taken there. */
static int tag_row(double *row_end, double x)
{
	for (int r = 0; r < TAG_ROWS; r++) {
		if (row_end[r] <= x) {
			row_end[r] = x + TAG_W + 2;
			return r;
		}
	}
	return -1;
}

/* Test n's band, edged on its left, with its number in a tag at the top
 * (staggered where bands are narrow; none when no row is free: the
 * legend still names it). */
static void write_band(FILE *out, const struct plot *p,
		       const struct report_test *t, size_t n, double *row_end)
{
	double x0 = plot_svg_x(p, t->started_s);
	double x1 = isfinite(t->ended_s) ? plot_svg_x(p, t->ended_s) : x0;
	double w = x1 - x0 > 2 ? x1 - x0 : 2;
	double tag_x = fmax(x0 + w / 2 - TAG_W / 2.0, PLOT_LEFT);
	int row = tag_row(row_end, tag_x);
	const char *color = band_color(n);

	fprintf(out,
		"<g class=\"test-leak\" data-n=\"%zu\" data-leaked=\"%d\" "
		"data-test=\"",
		n, t->leaked);
	plot_svg_put_text(out, t->name, 200);
	fprintf(out,
		"\">\n<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		"fill=\"%s\" fill-opacity=\"0.13\"/>\n<line x1=\"%.1f\" "
		"x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
		"stroke-opacity=\"0.7\"/>\n",
		x0, PLOT_TOP, w, PLOT_BOTTOM - PLOT_TOP, color, x0, x0,
		PLOT_TOP, PLOT_BOTTOM, color);
	if (row >= 0) {
		/* Below the command's start and end labels. */
		double y = PLOT_TOP + 17 + row * (TAG_H + 2);

		fprintf(out,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" "
			"height=\"%d\" rx=\"3\" fill=\"%s\"/>\n<text "
			"x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
			"font-size=\"9\" font-weight=\"bold\" "
			"fill=\"#ffffff\">%zu</text>\n",
			tag_x, y, TAG_W, TAG_H, color, tag_x + TAG_W / 2.0,
			y + 9, n);
	}
	fputs("</g>\n", out);
}

void plot_svg_write_tests(FILE *out, const struct plot *p)
{
	const struct report_tests *rt = &p->report->tests;
	double row_end[TAG_ROWS];
	size_t n = 0;

	if (!rt->reported) {
		return;
	}
	for (int r = 0; r < TAG_ROWS; r++) {
		row_end[r] = 0;
	}
	fputs("<g class=\"tests\">\n", out);
	write_ticks(out, p);
	for (size_t i = 0; i < rt->count; i++) {
		if (leaking(&rt->items[i])) {
			write_band(out, p, &rt->items[i], ++n, row_end);
		}
	}
	fputs("</g>\n", out);
}

double plot_svg_write_test_keys(FILE *out, const struct plot *p, double y,
				double bottom)
{
	const struct report_tests *rt = &p->report->tests;
	size_t total = 0;
	size_t n = 0;

	for (size_t i = 0; rt->reported && i < rt->count; i++) {
		total += leaking(&rt->items[i]);
	}
	if (total == 0) {
		return y;
	}
	fprintf(out,
		"<text x=\"%d\" y=\"%.1f\" font-weight=\"bold\">leaking "
		"tests (%zu)</text>\n",
		LEGEND_X, y + 4, total);
	y += KEY_ROW_H + 2;
	for (size_t i = 0; i < rt->count; i++) {
		const struct report_test *t = &rt->items[i];

		if (!leaking(t)) {
			continue;
		}
		n++;
		if (n < total && y + 2 * KEY_ROW_H > bottom) {
			/* Room for one more line only: it counts the rest. */
			fprintf(out,
				"<text class=\"test-more\" x=\"%d\" y=\"%.1f\" "
				"font-size=\"10.5\" fill=\"%s\">%zu more "
				"(in the report)</text>\n",
				LEGEND_X, y + 4, MUTED_COLOR, total - n + 1);
			return y + KEY_ROW_H;
		}
		fprintf(out,
			"<g class=\"test-key\" data-n=\"%zu\">\n<rect "
			"x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" "
			"rx=\"3\" fill=\"%s\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
			"text-anchor=\"middle\" font-size=\"9\" "
			"font-weight=\"bold\" fill=\"#ffffff\">%zu</text>\n"
			"<text x=\"%d\" y=\"%.1f\" font-size=\"10.5\">",
			n, LEGEND_X, y - 5, TAG_W, TAG_H, band_color(n),
			LEGEND_X + TAG_W / 2.0, y + 4, n, LEGEND_X + TAG_W + 6,
			y + 4);
		put_key_name(out, t->name);
		fprintf(out, " +%d</text>\n<title>", t->leaked);
		plot_svg_put_text(out, t->name, 200);
		fputs("</title>\n</g>\n", out);
		y += KEY_ROW_H;
	}
	return y;
}
