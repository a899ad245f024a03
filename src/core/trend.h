/*
 * trend.h - the leak detector: is a group's connection count growing
 * steadily, how fast, how sure, and when does it run out.
 *
 * Pure maths over a struct series: a robust slope (Theil-Sen at a fixed
 * lag), a rank test for a monotonic trend (Mann-Kendall, tie-corrected),
 * and guards for the shapes that grow without leaking: a pool warming up
 * then holding (no growth in the recent part), a sawtooth pool (it never
 * passes its earlier peaks), churn and bursts (growth made of a few big
 * jumps, not many small steps).  Points before the last gap are ignored.
 *
 * A leak may start at any time, so besides the whole window the detector
 * tries its recent parts (each 3/4 of the one before); a recent part
 * counts only when it ends well above everything before it, which is
 * what a refilling sawtooth never does.
 */
#ifndef PGDRIP_TREND_H
#define PGDRIP_TREND_H

#include "series.h"

#include <stdbool.h>

struct trend_params {
	size_t min_points;      /* analyse nothing with fewer points */
	double min_span_s;      /* ... or spanning less time */
	double min_net_growth;  /* connections; below this never flag */
	double max_p_value;     /* Mann-Kendall significance required */
	unsigned min_increases; /* separate upward steps required */
	double max_jump_share;  /* largest single rise / total rise */
	double recent_share;    /* tail of the span that must still grow */
	double min_new_high;    /* a recent part must end this far above
				 * every earlier value in the window */
};

void trend_default_params(struct trend_params *params);

struct trend_result {
	bool flagged;
	double slope_per_min; /* Theil-Sen, connections per minute */
	double net_growth;    /* slope times the analysed span */
	double p_value;       /* 1 when not computed */
	double confidence;    /* 1 - p_value, for reports */
	double span_s;        /* time covered by the analysed points */
	size_t points;
};

/* Analyses every point of the series. */
void trend_analyze(const struct series *series,
		   const struct trend_params *params, struct trend_result *out);

/* Analyses the points with from_s <= t_s <= to_s only (wrap mode: the
 * command's run). */
void trend_analyze_range(const struct series *series, double from_s,
			 double to_s, const struct trend_params *params,
			 struct trend_result *out);

/*
 * Where a wrapped command's run really ends for the analysis: to_s, or
 * earlier when the last points in [from_s, to_s] fall (the command's
 * connections closing as it exits, seen by a sample taken before the
 * exit was reaped).  Returns the time of the last point before that fall.
 */
double trend_run_end_s(const struct series *series, double from_s, double to_s);

/*
 * Seconds until current reaches limit at slope_per_min; INFINITY when
 * the slope is not positive, 0 when already at or above the limit.
 */
double trend_forecast_s(double current, double slope_per_min, double limit);

#endif
