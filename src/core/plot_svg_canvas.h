/*
 * plot_svg_canvas.h - the SVG picture's canvas: its size, its plot
 * area, its colours and the coordinates of a moment and a count in it,
 * which every part of the picture (plot_svg*.c) draws with.
 */
#ifndef PGDRIP_PLOT_SVG_CANVAS_H
#define PGDRIP_PLOT_SVG_CANVAS_H

#include "plot.h"

enum {
	WIDTH = 960,
	HEIGHT = 540,
	PLOT_LEFT = 58,
	PLOT_RIGHT = 700,
	PLOT_TOP = 84,
	PLOT_BOTTOM = 456,
	LEGEND_X = 718,
	MAX_MARKED_POINTS = 40, /* fewer points than this get dots */
	MAX_NOTES = 4,
};

#define LEAK_COLOR "#d62728"
#define LIMIT_COLOR "#7b1f4b"
#define MUTED_COLOR "#555555"

/* The picture's coordinates of a run-relative time and of a count. */
static inline double plot_svg_x(const struct plot *p, double t_s)
{
	if (p->t_max <= 0) {
		return (PLOT_LEFT + PLOT_RIGHT) / 2.0; /* one instant */
	}
	return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * t_s / p->t_max;
}

static inline double plot_svg_y(const struct plot *p, double value)
{
	return PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * value / p->y_max;
}

#endif
