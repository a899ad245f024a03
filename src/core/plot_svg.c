/*
 * plot_svg.c - draws a planned plot (plot.c) as SVG: fixed canvas, plot
 * area on the left, legend on the right, title above, notes below.
 * Coordinates are printed with one decimal and nothing reads the clock
 * or the locale, so the same plot gives the same bytes.
 */
#include "plot.h"
#include "plot_svg.h"

#include "text.h"
#include "units.h"
#include "utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- coordinates and labels ---- */

/* A time tick: "45s" on short runs, "2m30s" on longer ones, "1h15m"
 * past two hours: one unit along the whole axis. */
static void format_tick(char *buf, size_t len, double t_s, double step_s,
			double span_s)
{
	long s = lround(t_s);

	if (t_s < 1e-9) {
		snprintf(buf, len, "0");
	} else if (step_s < 1) {
		snprintf(buf, len, "%.1fs", t_s);
	} else if (span_s < 120) {
		snprintf(buf, len, "%lds", s);
	} else if (span_s < 7200 && s % 60 != 0) {
		snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
	} else if (span_s < 7200) {
		snprintf(buf, len, "%ldm", s / 60);
	} else if (s < 3600) {
		snprintf(buf, len, "%ldm", s / 60);
	} else if (s % 3600 != 0) {
		snprintf(buf, len, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	} else {
		snprintf(buf, len, "%ldh", s / 3600);
	}
}

static double nice_time_step(double span_s)
{
	static const double steps[] = {
		0.1,  0.2,   0.5,   1,     2,     5,      10,     15,
		30,   60,    120,   300,   600,   900,    1800,   3600,
		7200, 10800, 21600, 43200, 86400, 172800, 604800,
	};

	for (size_t i = 0; i < PGD_ARRAY_LEN(steps); i++) {
		if (span_s / steps[i] <= 8) {
			return steps[i];
		}
	}
	return span_s / 8;
}

/* ---- the SVG ---- */

static void write_head(FILE *out, const struct plot *p)
{
	const struct report *r = p->report;
	char from[64];
	char to[64];
	char span[32];

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n",
		WIDTH, HEIGHT, WIDTH, HEIGHT);
	fprintf(out, "<title>pgdrip %s: ", r->mode);
	plot_svg_put_text(out, r->server_label, 120);
	fputs("</title>\n", out);
	fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
		WIDTH, HEIGHT);
	fprintf(out,
		"<text class=\"title\" x=\"16\" y=\"26\" font-size=\"16\" "
		"font-weight=\"bold\">pgdrip %s",
		r->mode);
	if (r->server_label[0] != '\0') {
		fputs(" \xc2\xb7 ", out);
		plot_svg_put_text(out, r->server_label, 90);
	}
	fputs("</text>\n", out);
	units_format_utc(from, sizeof(from), r->started_epoch_s, UTC_DATE_TIME);
	units_format_utc(to, sizeof(to), r->ended_epoch_s, UTC_TIME_ZONE);
	units_format_duration(span, sizeof(span), p->history->last_t_s);
	fprintf(out,
		"<text class=\"subtitle\" x=\"16\" y=\"45\" fill=\"%s\">"
		"%s \xe2\x80\x93 %s \xc2\xb7 %s \xc2\xb7 %zu sample%s",
		MUTED_COLOR, from, to, span, r->samples,
		r->samples == 1 ? "" : "s");
	if (r->failed_samples > 0) {
		fprintf(out, " \xc2\xb7 %zu failed", r->failed_samples);
	}
	fprintf(out,
		" \xc2\xb7 at the end %d selected, %d of %d %s in use</text>\n",
		r->total, r->total_all, r->usable_connections,
		r->server.source == SAMPLE_SOURCE_PGBOUNCER ? "max_client_conn"
							    : "usable");
	if (r->wrapped) {
		fprintf(out,
			"<text class=\"subtitle\" x=\"16\" y=\"63\" "
			"fill=\"%s\">command: ",
			MUTED_COLOR);
		plot_svg_put_text(out, r->command, 100);
		if (r->command_status >= 0) {
			fprintf(out, " \xc2\xb7 exit %d", r->command_status);
		}
		fputs("</text>\n", out);
	}
}

static void write_axes(FILE *out, const struct plot *p)
{
	double step = p->t_max > 0 ? nice_time_step(p->t_max) : 1;
	char buf[32];

	fputs("<g class=\"axes\" font-size=\"11\" fill=\"#333333\">\n", out);
	/* Counters, not accumulated doubles: 0.1 added 30 times is not 3. */
	for (int i = 0; i * p->y_step <= p->y_max + 1e-9; i++) {
		double v = i * p->y_step;

		fprintf(out,
			"<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">"
			"%.0f</text>\n",
			PLOT_LEFT, PLOT_RIGHT, plot_svg_y(p, v),
			plot_svg_y(p, v), PLOT_LEFT - 6, plot_svg_y(p, v) + 4,
			v);
	}
	for (int i = 0; i * step <= p->t_max + 1e-9; i++) {
		double t = i * step;

		format_tick(buf, sizeof(buf), t, step, p->t_max);
		fprintf(out,
			"<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" "
			"y2=\"%d\" stroke=\"#333333\"/>\n"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
			"%s</text>\n",
			plot_svg_x(p, t), plot_svg_x(p, t), PLOT_BOTTOM,
			PLOT_BOTTOM + 5, plot_svg_x(p, t), PLOT_BOTTOM + 17,
			buf);
	}
	fprintf(out,
		"<path d=\"M%d %dV%dH%d\" fill=\"none\" "
		"stroke=\"#333333\"/>\n",
		PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM, PLOT_RIGHT);
	fprintf(out,
		"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time "
		"since the first sample</text>\n"
		"<text transform=\"translate(%d %d) rotate(-90)\" "
		"text-anchor=\"middle\">connections</text>\n</g>\n",
		(PLOT_LEFT + PLOT_RIGHT) / 2, PLOT_BOTTOM + 33, 16,
		(PLOT_TOP + PLOT_BOTTOM) / 2);
}

static void write_gaps(FILE *out, const struct plot *p)
{
	for (size_t i = 0; i < p->gap_count; i++) {
		double x0 = plot_svg_x(p, p->gaps[i].from_s);
		double x1 = plot_svg_x(p, p->gaps[i].to_s);

		fprintf(out,
			"<rect class=\"gap\" x=\"%.1f\" y=\"%d\" "
			"width=\"%.1f\" height=\"%d\" fill=\"#bbbbbb\" "
			"fill-opacity=\"0.35\"/>\n",
			x0, PLOT_TOP, fmax(x1 - x0, 2), PLOT_BOTTOM - PLOT_TOP);
	}
}

static void write_limits(FILE *out, const struct plot *p)
{
	double last_label_y = -100;

	for (size_t i = 0; i < p->limit_count; i++) {
		const struct plot_limit *l = &p->limits[i];
		double y = plot_svg_y(p, l->limit);
		/* Limits close together: the next label goes under its line. */
		double label_y = fabs(y - last_label_y) < 13 ? y + 13 : y - 4;

		if (!l->on_scale) {
			continue;
		}
		last_label_y = label_y;
		fprintf(out,
			"<g class=\"limit\" data-kind=\"%s\" "
			"data-limit=\"%d\">\n<line x1=\"%d\" x2=\"%d\" "
			"y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"1.5\" stroke-dasharray=\"8 4\"/>\n"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
			"font-size=\"11\" fill=\"%s\">",
			report_limit_kind_name(l->kind), l->limit, PLOT_LEFT,
			PLOT_RIGHT, y, y, LIMIT_COLOR, PLOT_RIGHT - 4, label_y,
			LIMIT_COLOR);
		plot_svg_put_limit_name(out, l->kind, l->name, l->limit);
		fputs("</text>\n</g>\n", out);
	}
}

static void write_command_marker(FILE *out, const struct plot *p, double t_s,
				 const char *what, bool end)
{
	double x = plot_svg_x(p, t_s);

	fprintf(out,
		"<g class=\"command\" data-at=\"%s\">\n<line x1=\"%.1f\" "
		"x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#222222\" "
		"stroke-dasharray=\"3 3\"/>\n<text x=\"%.1f\" y=\"%d\" "
		"text-anchor=\"%s\" font-size=\"11\">%s</text>\n</g>\n",
		end ? "end" : "start", x, x, PLOT_TOP, PLOT_BOTTOM,
		end ? x - 4 : x + 4, PLOT_TOP + 12, end ? "end" : "start",
		what);
}

static void write_command(FILE *out, const struct plot *p)
{
	const struct report *r = p->report;

	if (!r->wrapped || !isfinite(r->command_started_s)) {
		return;
	}
	write_command_marker(out, p, r->command_started_s, "command start",
			     false);
	if (isfinite(r->command_ended_s) &&
	    r->command_ended_s >= r->command_started_s) {
		write_command_marker(out, p, r->command_ended_s, "command end",
				     true);
	}
}

/*
 * One line per group.  Its baseline (the count at the first sample) is a
 * thin dashed line in the same colour: a leak is growth over a group's
 * own baseline, and wrap mode's "leaked" is last minus that baseline, so
 * one total baseline would hide which group moved.
 */
static void write_line(FILE *out, const struct plot *p,
		       const struct plot_line *line)
{
	bool flagged = line->group != NULL && line->group->flagged;

	fputs("<g class=\"series\" data-group=\"", out);
	plot_svg_put_text(out, line->label, 200);
	fprintf(out,
		"\" data-kind=\"%s\" data-flagged=\"%s\" "
		"data-peak=\"%.0f\"%s>\n",
		line->group != NULL ? "group" : "other",
		flagged ? "true" : "false", line->peak,
		line->on_scale ? "" : " data-off-scale=\"true\"");
	if (!line->on_scale) {
		/* Named in the legend and a note; see plan_scales(). */
		fputs("</g>\n", out);
		return;
	}
	fprintf(out,
		"<line class=\"baseline\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" "
		"y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1\" "
		"stroke-dasharray=\"2 3\"/>\n",
		PLOT_LEFT, PLOT_RIGHT, plot_svg_y(p, line->baseline),
		plot_svg_y(p, line->baseline), line->color);
	if (line->count > 1) {
		fputs("<path d=\"", out);
		for (size_t i = 0; i < line->count; i++) {
			const struct series_point *pt = &line->points[i];

			/* A failed sample breaks the line: no made-up data. */
			fprintf(out, "%s%c%.1f %.1f", i ? " " : "",
				i == 0 || pt->gap ? 'M' : 'L',
				plot_svg_x(p, pt->t_s),
				plot_svg_y(p, pt->value));
		}
		fprintf(out,
			"\" fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"%s\" "
			"stroke-linejoin=\"round\"/>\n",
			line->color, flagged ? "3" : "2");
	}
	if (line->count <= MAX_MARKED_POINTS) {
		for (size_t i = 0; i < line->count; i++) {
			fprintf(out,
				"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" "
				"fill=\"%s\"/>\n",
				plot_svg_x(p, line->points[i].t_s),
				plot_svg_y(p, line->points[i].value),
				line->count == 1 ? "4" : "2.5", line->color);
		}
	}
	fputs("</g>\n", out);
}

/* Where a leak mark goes: the line's highest point (its last one when
 * tied), which is where the leak got to. */
static const struct series_point *leak_point(const struct plot_line *line)
{
	const struct series_point *best = NULL;

	for (size_t i = 0; i < line->count; i++) {
		if (best == NULL || line->points[i].value >= best->value) {
			best = &line->points[i];
		}
	}
	return best;
}

struct leak_label {
	const struct plot_line *line;
	double x;
	double y;
	double label_y;
};

/* "LEAK +12.0/min · role app limit 20 in 1m40s"; the forecast only
 * while the run is live (a suite that has ended hits nothing). */
static void put_leak_text(FILE *out, const struct report_group *g, bool live)
{
	char when[32];

	fputs("LEAK ", out);
	plot_svg_put_slope(out, g->trend.slope_per_min);
	if (live && isfinite(g->forecast_s)) {
		units_format_duration(when, sizeof(when), g->forecast_s);
		fputs(" \xc2\xb7 hits ", out);
		plot_svg_put_limit_name(out, g->forecast_kind, g->forecast_name,
					g->forecast_limit);
		fprintf(out, " in %s", when);
	}
}

static int compare_leak_labels(const void *pa, const void *pb)
{
	const struct leak_label *a = pa;
	const struct leak_label *b = pb;

	return (a->y < b->y) - (a->y > b->y);
}

/* A ring on each leaking line's highest point and a label above it;
 * labels are pushed apart upwards (lowest first) so two leaks at the
 * same height both read and none falls below the axis. */
static void write_leaks(FILE *out, const struct plot *p)
{
	struct leak_label labels[PLOT_MAX_LINES];
	size_t n = 0;

	for (size_t i = 0; i < p->line_count; i++) {
		const struct plot_line *line = &p->lines[i];
		const struct series_point *pt = leak_point(line);

		if (line->group == NULL || !line->group->flagged ||
		    pt == NULL) {
			continue;
		}
		labels[n].line = line;
		labels[n].x = plot_svg_x(p, pt->t_s);
		labels[n].y = plot_svg_y(p, pt->value);
		labels[n].label_y = fmax(labels[n].y - 12, PLOT_TOP + 28);
		n++;
	}
	if (n > 1) {
		qsort(labels, n, sizeof(*labels), compare_leak_labels);
	}
	for (size_t i = 1; i < n; i++) {
		if (labels[i - 1].label_y - labels[i].label_y < 14) {
			labels[i].label_y = labels[i - 1].label_y - 14;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct leak_label *l = &labels[i];
		/* Labels read leftwards from the mark unless it is near the
		 * left edge. */
		bool left = l->x > PLOT_LEFT + 300;

		fputs("<g class=\"leak\" data-group=\"", out);
		plot_svg_put_text(out, l->line->label, 200);
		fprintf(out,
			"\">\n<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\" "
			"fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"2.5\"/>\n<text x=\"%.1f\" "
			"y=\"%.1f\" text-anchor=\"%s\" font-size=\"11\" "
			"font-weight=\"bold\" fill=\"%s\" "
			"stroke=\"#ffffff\" stroke-width=\"3\" "
			"paint-order=\"stroke\">",
			l->x, l->y, LEAK_COLOR, left ? l->x - 10 : l->x + 10,
			l->label_y, left ? "end" : "start", LEAK_COLOR);
		put_leak_text(out, l->line->group, p->live);
		fputs("</text>\n</g>\n", out);
	}
}

bool plot_write_svg(FILE *out, const struct report *report,
		    const struct history *history, struct errbuf *err)
{
	struct plot p;

	plot_plan(&p, report, history);
	write_head(out, &p);
	write_gaps(out, &p);
	write_axes(out, &p);
	write_limits(out, &p);
	write_command(out, &p);
	plot_svg_write_tests(out, &p);
	plot_svg_write_states(out, &p);
	for (size_t i = p.line_count; i-- > 0;) {
		/* The first (most important) line is drawn last, on top. */
		write_line(out, &p, &p.lines[i]);
	}
	plot_svg_write_flag_marks(out, &p);
	write_leaks(out, &p);
	plot_svg_write_legend(out, &p);
	plot_svg_write_notes(out, &p);
	fputs("</svg>\n", out);
	plot_finish(&p);
	if (ferror(out)) {
		errbuf_set(err, "write error");
		return false;
	}
	return true;
}
