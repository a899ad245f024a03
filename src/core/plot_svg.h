/*
 * plot_svg.h - what plot_svg.c and the files it draws with (text,
 * legend, tests, marks) share: the text writers and each part's writer;
 * the canvas and its coordinates are plot_svg_canvas.h.
 */
#ifndef PGDRIP_PLOT_SVG_H
#define PGDRIP_PLOT_SVG_H

#include "plot.h"
#include "plot_svg_canvas.h"

#include <stddef.h>
#include <stdio.h>

/*
 * Writes raw server bytes as XML text or attribute value: valid UTF-8
 * with every control character a visible escape, markup escaped, the
 * two code points XML forbids replaced.  At most max_chars characters;
 * a cut ends in "\u2026".
 */
void plot_svg_put_text(FILE *out, const char *raw, size_t max_chars);

/* "server limit 97", "role app limit 20" (the name through
 * plot_svg_put_text()). */
void plot_svg_put_limit_name(FILE *out, enum limit_kind kind, const char *name,
			     int limit);

/* "+143/min", "+2.5/min": tenths only where they matter. */
void plot_svg_put_slope(FILE *out, double slope_per_min);

/* A runner's tests: a tick where each began, a numbered band over each
 * that leaked (plot_svg_tests.c). */
void plot_svg_write_tests(FILE *out, const struct plot *p);

/* The legend's list of the leaking tests from y down, as far as
 * bottom; returns where it ended. */
double plot_svg_write_test_keys(FILE *out, const struct plot *p, double y,
				double bottom);

/* Each group's sessions idle in a transaction and abandoned, as areas
 * under its line (plot_svg_marks.c). */
void plot_svg_write_states(FILE *out, const struct plot *p);

/* Where each flagged group's verdict first held, and while the run is
 * live, its projection to the limit it runs into. */
void plot_svg_write_flag_marks(FILE *out, const struct plot *p);

/* The legend at the right of the plot area. */
void plot_svg_write_legend(FILE *out, const struct plot *p);

/* Below the axis: what the picture leaves out or draws specially. */
void plot_svg_write_notes(FILE *out, const struct plot *p);

#endif
