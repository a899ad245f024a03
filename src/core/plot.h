/*
 * plot.h - the run as a picture: a self-contained SVG of connections per
 * group over time, with baselines, limits, leak marks, failed samples and
 * (wrap mode) the command's start and end, for --plot FILE.
 *
 * Two steps, both pure: plot_plan() (plot.c) decides what is drawn, in
 * data units; plot_write_svg() (plot_svg.c) plans and draws.  The edge
 * opens the file.  The same report and history give the same bytes, so a
 * replay of a recording draws the same picture as the run did.
 */
#ifndef PGDRIP_PLOT_H
#define PGDRIP_PLOT_H

#include "common.h"
#include "history.h"
#include "report.h"

#include <stdio.h>

/* At most this many lines: the groups that leak or peak highest, the
 * rest summed into one "other" line. */
enum {
	PLOT_MAX_LINES = 8,
	PLOT_MAX_LIMITS = 3 * PLOT_MAX_LINES + 1, /* server, role, db each */
};

/* Where a live leak is heading: its count going on at its slope from
 * the last sample until the limit it runs into is reached (the report's
 * forecast), cut at the picture's right edge or top. */
struct plot_projection {
	bool shown;
	double from_t_s; /* the last sample */
	double from_value;
	double slope_per_s;
	double hit_t_s; /* when the limit is reached */
	int limit;
	double to_t_s; /* where the drawn line ends: hit_t_s when on the
			* picture, else the right edge */
	double to_value;
};

struct plot_line {
	char label[512];                  /* raw bytes (report_group_label) */
	const struct report_group *group; /* borrowed; NULL for "other" */
	struct series_point *points;      /* owned; time order */
	size_t count;
	double baseline;   /* "other": the sum of its members' */
	size_t members;    /* groups summed into "other" */
	double peak;       /* of the points */
	bool on_scale;     /* false: "other" far above the groups, not drawn */
	const char *color; /* static */
	/* A group's sessions idle in a transaction and abandoned, over the
	 * run (owned; none for "other" or when there never were any). */
	struct series_point *idle_tx;
	size_t idle_tx_count;
	struct series_point *abandoned;
	size_t abandoned_count;
	/* A flagged group: when the verdict first held (NAN unknown) and
	 * the count there; its projection while the run is live. */
	double flagged_t_s;
	double flagged_value;
	struct plot_projection projection;
};

struct plot_limit {
	enum limit_kind kind;
	const char *name; /* borrowed from the report; "" for the server */
	int limit;
	bool on_scale; /* drawn; else named in a note */
};

/* Samples failed between these run-relative times. */
struct plot_gap {
	double from_s;
	double to_s;
};

struct plot {
	const struct report *report;            /* borrowed */
	const struct history *history;          /* borrowed */
	struct plot_line lines[PLOT_MAX_LINES]; /* "other" last, if any */
	size_t line_count;
	struct plot_limit limits[PLOT_MAX_LIMITS]; /* the server first */
	size_t limit_count;
	struct plot_gap *gaps; /* owned; sorted, merged */
	size_t gap_count;
	/* The run is live: what it watches goes on after the last sample
	 * (watch, the live view, their replays).  A wrapped command that
	 * has ended is not: nothing is projected past its end. */
	bool live;
	double data_t_s; /* the last sample; past it, a projection */
	double t_max;    /* x axis: 0 to t_max seconds; 0 for one instant */
	double y_max;    /* y axis: 0 to y_max connections */
	double y_step;   /* between y ticks */
};

/*
 * Fills plot from report and the history it was built from (the groups'
 * whole-run series give the points).  Leaking groups get a line first,
 * then the highest peaks; past PLOT_MAX_LINES - 1 the rest are summed.
 * A limit is on the scale when within reach of the counts (at most twice
 * the highest, or 5 above it); so is "other", measured against the
 * groups' own lines.  While the run is live, a flagged group with a
 * forecast gets a projection, and the time axis runs on past the last
 * sample by up to half the run to show it.  plot_finish() it afterwards.
 */
void plot_plan(struct plot *plot, const struct report *report,
	       const struct history *history);
void plot_finish(struct plot *plot);

/*
 * Writes one SVG document (UTF-8, fixed 960x540 viewBox, no scripts, no
 * external resources) to out.  Elements tests and tools can count:
 * class="series" (one per line, data-group, data-kind group|other),
 * class="baseline", class="limit" (data-kind, data-limit), class="leak"
 * (one per flagged group shown), class="first-flagged" (where the
 * verdict first held, data-group, data-t), class="projection" (live runs
 * only: data-group, data-limit, data-hit-s), class="idle-tx" and
 * class="abandoned" (a group's sessions in those states, as areas,
 * data-group), class="gap", class="command", and when a runner reported
 * tests class="test" (a tick where each began, data-test its name),
 * class="test-leak" (a band over each test that leaked, data-test,
 * data-leaked, data-n its number) and class="test-key" (the legend's
 * line for it, data-n).  Every
 * name is sanitised (valid UTF-8, no control characters) and
 * XML-escaped.  Returns false with err when out reports a write error.
 */
PGD_NODISCARD bool plot_write_svg(FILE *out, const struct report *report,
				  const struct history *history,
				  struct errbuf *err);

#endif
