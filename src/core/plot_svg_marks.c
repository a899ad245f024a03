/*
 * plot_svg_marks.c - what the picture draws on and under a group's
 * line: its sessions idle in a transaction and abandoned as areas (told
 * apart from the idle ones, which are the rest of the line's height),
 * where its verdict first held, and while the run is live, where it is
 * heading: a dashed projection to the limit it runs into.
 */
#include "plot_svg.h"

#include "units.h"

#include <math.h>
#include <stdio.h>

#define IDLE_TX_COLOR "#e8a33d"
#define PROJECTED_COLOR "#f6f6f6"

/* One state's area under a line, its points joined as the line's are
 * (so it never pokes out above its line), down to zero, broken where
 * samples failed. */
static void write_area(FILE *out, const struct plot *p,
		       const struct series_point *pts, size_t n)
{
	double zero = plot_svg_y(p, 0);
	double x = 0;

	fputs("<path d=\"", out);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && pts[i].gap) {
			fprintf(out, "V%.1fZ", zero);
		}
		x = plot_svg_x(p, pts[i].t_s);
		if (i == 0 || pts[i].gap) {
			fprintf(out, "M%.1f %.1f", x, zero);
		}
		fprintf(out, "L%.1f %.1f", x, plot_svg_y(p, pts[i].value));
	}
	fprintf(out, "V%.1fZ\"", zero);
}

static void write_state(FILE *out, const struct plot *p,
			const struct plot_line *line, const char *cls,
			const struct series_point *pts, size_t n)
{
	if (n == 0) {
		return;
	}
	fprintf(out, "<g class=\"%s\" data-group=\"", cls);
	plot_svg_put_text(out, line->label, 200);
	fputs("\">\n", out);
	write_area(out, p, pts, n);
	if (cls[0] == 'a') {
		fprintf(out,
			" fill=\"url(#pgdrip-abandoned)\" stroke=\"%s\" "
			"stroke-width=\"0.8\"/>\n</g>\n",
			LEAK_COLOR);
	} else {
		fprintf(out,
			" fill=\"%s\" fill-opacity=\"0.45\" stroke=\"%s\" "
			"stroke-width=\"0.8\"/>\n</g>\n",
			IDLE_TX_COLOR, IDLE_TX_COLOR);
	}
}

/* The time past the last sample, shaded and named: only projections
 * are drawn there. */
static void write_projected_region(FILE *out, const struct plot *p)
{
	double x0 = plot_svg_x(p, p->data_t_s);

	fprintf(out,
		"<g class=\"projected-region\">\n<rect x=\"%.1f\" y=\"%d\" "
		"width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n<text "
		"x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"%s\">"
		"projected</text>\n</g>\n",
		x0, PLOT_TOP, PLOT_RIGHT - x0, PLOT_BOTTOM - PLOT_TOP,
		PROJECTED_COLOR, x0 + 4, PLOT_TOP + 12, MUTED_COLOR);
}

void plot_svg_write_states(FILE *out, const struct plot *p)
{
	bool projected = false;

	for (size_t i = 0; i < p->line_count; i++) {
		projected |= p->lines[i].projection.shown;
	}
	if (projected && p->t_max > p->data_t_s) {
		write_projected_region(out, p);
	}
	fprintf(out,
		"<defs><pattern id=\"pgdrip-abandoned\" width=\"6\" "
		"height=\"6\" patternUnits=\"userSpaceOnUse\" "
		"patternTransform=\"rotate(45)\"><rect width=\"6\" "
		"height=\"6\" fill=\"%s\" fill-opacity=\"0.12\"/><line "
		"x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"%s\" "
		"stroke-width=\"2\"/></pattern></defs>\n",
		LEAK_COLOR, LEAK_COLOR);
	for (size_t i = 0; i < p->line_count; i++) {
		const struct plot_line *line = &p->lines[i];

		if (!line->on_scale || line->group == NULL) {
			continue;
		}
		write_state(out, p, line, "abandoned", line->abandoned,
			    line->abandoned_count);
		write_state(out, p, line, "idle-tx", line->idle_tx,
			    line->idle_tx_count);
	}
}

static void write_projection(FILE *out, const struct plot *p,
			     const struct plot_line *line)
{
	const struct plot_projection *pr = &line->projection;
	double x0 = plot_svg_x(p, pr->from_t_s);
	double y0 = plot_svg_y(p, pr->from_value);
	double x1 = plot_svg_x(p, pr->to_t_s);
	double y1 = plot_svg_y(p, pr->to_value);
	bool reached = pr->to_t_s >= pr->hit_t_s - 1e-9;
	const struct report_group *g = line->group;
	char when[32];

	units_format_duration(when, sizeof(when), pr->hit_t_s - pr->from_t_s);
	fputs("<g class=\"projection\" data-group=\"", out);
	plot_svg_put_text(out, line->label, 200);
	fprintf(out,
		"\" data-limit=\"%d\" data-hit-s=\"%.1f\">\n<line "
		"x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		"stroke=\"%s\" stroke-width=\"2\" "
		"stroke-dasharray=\"6 4\"/>\n",
		pr->limit, pr->hit_t_s, x0, y0, x1, y1, LEAK_COLOR);
	if (reached) {
		fprintf(out,
			"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
			"fill=\"%s\"/>\n",
			x1, y1, LEAK_COLOR);
	}
	fprintf(out,
		"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
		"font-size=\"10.5\" fill=\"%s\" stroke=\"#ffffff\" "
		"stroke-width=\"3\" paint-order=\"stroke\">",
		fmin(x1, PLOT_RIGHT - 2), fmax(y1 + 14, PLOT_TOP + 12),
		LEAK_COLOR);
	plot_svg_put_limit_name(out, g->forecast_kind, g->forecast_name,
				g->forecast_limit);
	fprintf(out, " full in %s</text>\n</g>\n", when);
}

/* Where labels already are: a new one goes below any it would cover. */
struct placed {
	double x[PLOT_MAX_LINES];
	double y[PLOT_MAX_LINES];
	size_t n;
};

static double place_label(struct placed *pl, double x, double y)
{
	for (size_t tries = 0; tries <= pl->n; tries++) {
		bool clear = true;

		for (size_t i = 0; i < pl->n && clear; i++) {
			clear = fabs(pl->x[i] - x) > 110 ||
				fabs(pl->y[i] - y) > 12;
		}
		if (clear) {
			break;
		}
		y += 13;
	}
	if (pl->n < PLOT_MAX_LINES) {
		pl->x[pl->n] = x;
		pl->y[pl->n++] = y;
	}
	return y;
}

/* A diamond where the verdict first held, and the time beside it. */
static void write_first_flagged(FILE *out, const struct plot *p,
				const struct plot_line *line,
				struct placed *labels)
{
	double x = plot_svg_x(p, line->flagged_t_s);
	double y = plot_svg_y(p, line->flagged_value);
	double label_y = place_label(labels, x + 8, y + 16);
	char when[32];

	units_format_duration(when, sizeof(when), line->flagged_t_s);
	fputs("<g class=\"first-flagged\" data-group=\"", out);
	plot_svg_put_text(out, line->label, 200);
	fprintf(out,
		"\" data-t=\"%.1f\">\n<path d=\"M%.1f %.1fl6 6l-6 6l-6 "
		"-6z\" fill=\"#ffffff\" stroke=\"%s\" stroke-width=\"2\"/>\n"
		"<text x=\"%.1f\" y=\"%.1f\" font-size=\"10.5\" "
		"fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"3\" "
		"paint-order=\"stroke\">flagged at %s</text>\n</g>\n",
		line->flagged_t_s, x, y - 6, LEAK_COLOR, x + 8, label_y,
		LEAK_COLOR, when);
}

void plot_svg_write_flag_marks(FILE *out, const struct plot *p)
{
	struct placed labels = {.n = 0};

	for (size_t i = 0; i < p->line_count; i++) {
		const struct plot_line *line = &p->lines[i];

		if (!line->on_scale || line->group == NULL) {
			continue;
		}
		if (line->projection.shown) {
			write_projection(out, p, line);
		}
		if (isfinite(line->flagged_t_s)) {
			write_first_flagged(out, p, line, &labels);
		}
	}
}
