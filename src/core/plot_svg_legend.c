/*
 * plot_svg_legend.c - the SVG's legend (a line per group with its
 * figures, the keys to the marks) and the notes below the axis.
 */
#include "plot_svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A legend entry: swatch and label, the group's figures, and for a leak
 * a third line with its slope (the column is too narrow for one line).
 * Returns the entry's height. */
static double write_legend_entry(FILE *out, const struct plot_line *line,
				 double y)
{
	const struct report_group *g = line->group;
	bool flagged = g != NULL && g->flagged;

	fprintf(out,
		"<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" "
		"y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n"
		"<text x=\"%d\" y=\"%.1f\">",
		LEGEND_X, LEGEND_X + 24, y, y, line->color, LEGEND_X + 30,
		y + 4);
	plot_svg_put_text(out, line->label, 30);
	fprintf(out,
		"</text>\n<text x=\"%d\" y=\"%.1f\" font-size=\"10.5\" "
		"fill=\"%s\">",
		LEGEND_X + 30, y + 18, MUTED_COLOR);
	if (g == NULL) {
		fprintf(out, "%zu more groups, summed \xc2\xb7 base %.0f",
			line->members, line->baseline);
		if (!line->on_scale) {
			fprintf(out,
				"</text>\n<text x=\"%d\" y=\"%.1f\" "
				"font-size=\"10.5\" fill=\"%s\">peak "
				"%.0f: off scale, not drawn</text>\n",
				LEGEND_X + 30, y + 31, MUTED_COLOR, line->peak);
			return 47;
		}
	} else {
		fprintf(out, "base %d \xc2\xb7 peak %d \xc2\xb7 last %d",
			g->baseline, g->peak, g->connections);
	}
	fputs("</text>\n", out);
	if (!flagged) {
		return 34;
	}
	fprintf(out,
		"<text x=\"%d\" y=\"%.1f\" font-size=\"10.5\" "
		"font-weight=\"bold\" fill=\"%s\">LEAK ",
		LEGEND_X + 30, y + 31, LEAK_COLOR);
	plot_svg_put_slope(out, g->trend.slope_per_min);
	fputs("</text>\n", out);
	return 47;
}

/* A key: a 24x12 swatch filled as fill says (SVG attributes), and
 * words. */
static double write_key(FILE *out, double y, const char *fill,
			const char *words)
{
	fprintf(out,
		"<rect x=\"%d\" y=\"%.1f\" width=\"24\" height=\"12\" "
		"%s/>\n<text x=\"%d\" y=\"%.1f\">%s</text>\n",
		LEGEND_X, y - 6, fill, LEGEND_X + 30, y + 4, words);
	return y + 18;
}

/* A key: a 24-wide line stroked as stroke says (SVG attributes), and
 * words. */
static double write_line_key(FILE *out, double y, const char *stroke,
			     const char *words)
{
	fprintf(out,
		"<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
		"%s/>\n<text x=\"%d\" y=\"%.1f\">%s</text>\n",
		LEGEND_X, LEGEND_X + 24, y, y, stroke, LEGEND_X + 30, y + 4,
		words);
	return y + 18;
}

/* The keys to what is drawn on and under the lines, where it is. */
static double write_mark_keys(FILE *out, const struct plot *p, double y)
{
	bool idle_tx = false;
	bool abandoned = false;
	bool flagged = false;
	bool projected = false;

	for (size_t i = 0; i < p->line_count; i++) {
		const struct plot_line *l = &p->lines[i];

		idle_tx |= l->on_scale && l->idle_tx_count > 0;
		abandoned |= l->on_scale && l->abandoned_count > 0;
		flagged |= l->on_scale && isfinite(l->flagged_t_s);
		projected |= l->on_scale && l->projection.shown;
	}
	if (idle_tx) {
		y = write_key(out, y, "fill=\"#e8a33d\" fill-opacity=\"0.45\"",
			      "idle in transaction");
	}
	if (abandoned) {
		y = write_key(out, y, "fill=\"url(#pgdrip-abandoned)\"",
			      "abandoned (unused, passed over)");
	}
	if (flagged) {
		fprintf(out,
			"<path d=\"M%d %.1fl6 6l-6 6l-6 -6z\" "
			"fill=\"#ffffff\" stroke=\"%s\" stroke-width=\"2\"/>\n"
			"<text x=\"%d\" y=\"%.1f\">leak first flagged</text>\n",
			LEGEND_X + 12, y - 6, LEAK_COLOR, LEGEND_X + 30, y + 4);
		y += 18;
	}
	if (projected) {
		y = write_line_key(out, y,
				   "stroke=\"" LEAK_COLOR
				   "\" stroke-width=\"2\" "
				   "stroke-dasharray=\"6 4\"",
				   "projection to the limit");
	}
	return y;
}

/* The keys to the marks: baseline, limit, failed samples, command. */
static double write_legend_keys(FILE *out, const struct plot *p, double y)
{
	bool any_limit = false;

	for (size_t i = 0; i < p->limit_count; i++) {
		any_limit |= p->limits[i].on_scale;
	}
	y = write_line_key(out, y,
			   "stroke=\"#333333\" stroke-dasharray=\"2 3\"",
			   "baseline (first sample)");
	if (any_limit) {
		y = write_line_key(out, y,
				   "stroke=\"" LIMIT_COLOR "\" "
				   "stroke-width=\"1.5\" "
				   "stroke-dasharray=\"8 4\"",
				   "connection limit");
	}
	y = write_mark_keys(out, p, y);
	if (p->gap_count > 0) {
		y = write_key(out, y, "fill=\"#bbbbbb\" fill-opacity=\"0.35\"",
			      "failed samples");
	}
	return y;
}

void plot_svg_write_legend(FILE *out, const struct plot *p)
{
	double y = PLOT_TOP + 4;

	fputs("<g class=\"legend\">\n", out);
	for (size_t i = 0; i < p->line_count; i++) {
		y += write_legend_entry(out, &p->lines[i], y);
	}
	if (p->line_count == 0) {
		fprintf(out,
			"<text x=\"%d\" y=\"%.1f\" fill=\"%s\">no "
			"selected sessions</text>\n",
			LEGEND_X, y + 4, MUTED_COLOR);
		y += 34;
	}
	y = write_legend_keys(out, p, y);
	(void)plot_svg_write_test_keys(out, p, y + 10, HEIGHT - 8);
	fputs("</g>\n", out);
}

/* Below the axis: what the picture leaves out or draws specially. */
void plot_svg_write_notes(FILE *out, const struct plot *p)
{
	int y = PLOT_BOTTOM + 50;
	size_t off = 0;
	int notes = 0;
	const struct plot_line *other =
		p->line_count > 0 && p->lines[p->line_count - 1].group == NULL
			? &p->lines[p->line_count - 1]
			: NULL;

	fprintf(out, "<g class=\"notes\" font-size=\"11\" fill=\"%s\">\n",
		MUTED_COLOR);
	for (size_t i = 0; i < p->limit_count; i++) {
		const struct plot_limit *l = &p->limits[i];

		if (l->on_scale) {
			continue;
		}
		if (off++ == 0) {
			fprintf(out, "<text class=\"note\" x=\"%d\" y=\"%d\">",
				PLOT_LEFT, y);
		} else {
			fputs(", ", out);
		}
		plot_svg_put_limit_name(out, l->kind, l->name, l->limit);
		if (off == 4) {
			break;
		}
	}
	if (off > 0) {
		fputs(" (off scale, far above the counts)</text>\n", out);
		y += 14;
		notes++;
	}
	if (other != NULL && !other->on_scale) {
		fprintf(out,
			"<text class=\"note\" x=\"%d\" y=\"%d\">other "
			"(%zu groups summed) peaks at %.0f: off scale, "
			"not drawn</text>\n",
			PLOT_LEFT, y, other->members, other->peak);
		y += 14;
		notes++;
	}
	if (p->history->samples == 1 && notes < MAX_NOTES) {
		fprintf(out,
			"<text class=\"note\" x=\"%d\" y=\"%d\">one "
			"sample: each group is a dot</text>\n",
			PLOT_LEFT, y);
		y += 14;
		notes++;
	}
	if (p->gap_count > 0 && notes < MAX_NOTES) {
		fprintf(out,
			"<text class=\"note\" x=\"%d\" y=\"%d\">%zu "
			"failed samples: shaded, lines broken there"
			"</text>\n",
			PLOT_LEFT, y, p->report->failed_samples);
	}
	fputs("</g>\n", out);
}
