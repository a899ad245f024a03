/*
 * trend.c - the leak detector (see trend.h for the method).
 *
 * A leak may start at any time, so one fit over the whole window would
 * see a long flat past and a short rise, and miss the rise for minutes.
 * The detector therefore tries the window and its recent parts (each 3/4
 * of the one before, down to min_points) and flags when any of them is a
 * leak.  A recent part must also end above everything before it: that is
 * what tells a leak that just started from a sawtooth that is refilling.
 *
 * Cost is bounded whatever the run length: at most SERIES_CAPACITY
 * points, at most 16 parts, each fitted by Theil-Sen on n/2 pairs (a
 * linear-time median) and checked by cheap shape guards; Mann-Kendall,
 * on at most MK_MAX_POINTS (evenly subsampled) points, runs only on
 * parts shaped like a leak, longest first, until one passes.  Measured
 * on a full 512-point window (gcc -O2): 3-9 us for noise, churn and
 * sawtooth, 30-60 us for a leak.
 */
#include "trend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MK_MAX_POINTS = 160 };

void trend_default_params(struct trend_params *params)
{
	/* Tuned on the shapes in tests/unit/test_trend.c, fed sample by
	 * sample at 1 s: a leak of 1/s is flagged 4-7 s after it starts,
	 * 1 per 6 s after 12-19 s (up to about 40 s under noise of +-1);
	 * noise, churn, bursts, sawtooth and held pools never are.  Six
	 * points spanning 5 s is the least data worth testing; the level
	 * below then needs about 8 rising points. */
	params->min_points = 6;
	params->min_span_s = 5;
	/* Fewer than 3 connections is within the noise of a real pool. */
	params->min_net_growth = 3;
	/* Counts are autocorrelated and several parts are tried, so the
	 * test is optimistic: ask for a strict level and let the shape
	 * guards do the rest. */
	params->max_p_value = 0.001;
	/* A leak grows in many small steps; a burst or a pool resize in a
	 * few big ones. */
	params->min_increases = 3;
	params->max_jump_share = 0.5;
	/* A pool that warmed up and holds has a flat recent third. */
	params->recent_share = 1.0 / 3;
	/* A sawtooth with noise of +-1 can top its earlier peaks by 2 while
	 * the window holds only a few cycles; a leak gains 3 in seconds. */
	params->min_new_high = 3;
}

/* The analysed points: after the last gap, inside the range. */
struct view {
	double t[SERIES_CAPACITY];
	double v[SERIES_CAPACITY];
	size_t n;
};

/* A part of the view: points [start, view->n) and the highest value
 * before start (-INFINITY when it is the whole view). */
struct part {
	const double *t;
	const double *v;
	size_t n;
	double prior_peak;
};

/* Copies the points in [from_s, to_s] after the last gap. */
static void select_points(const struct series *series, double from_s,
			  double to_s, struct view *view)
{
	size_t count = series_count(series);

	view->n = 0;
	for (size_t i = 0; i < count; i++) {
		struct series_point p = series_at(series, i);

		if (p.t_s < from_s || p.t_s > to_s) {
			continue;
		}
		if (p.gap) {
			/* A restart or an outage: what came before says
			 * nothing about the growth that follows, and the
			 * drop to 0 across it is not a recycle either. */
			view->n = 0;
		}
		view->t[view->n] = p.t_s;
		view->v[view->n] = p.value;
		view->n++;
	}
}

/*
 * A recycle is a drop of at least half the range seen so far (and at
 * least 2): a pool that grows and is then recycled, a burst that ends.
 * Returns the index just after the last one (0 when none).
 */
static size_t last_recycle(const struct view *view)
{
	double lo = INFINITY;
	double hi = -INFINITY;
	size_t cut = 0;

	for (size_t i = 0; i < view->n; i++) {
		if (i > 0) {
			double drop = view->v[i - 1] - view->v[i];

			if (drop >= 2 && drop >= 0.5 * (hi - lo)) {
				cut = i;
			}
		}
		lo = fmin(lo, view->v[i]);
		hi = fmax(hi, view->v[i]);
	}
	return cut;
}

static int compare_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa;
	double b = *(const double *)pb;

	return (a > b) - (a < b);
}

/* The k-th smallest of x[0..n) (reordered), in O(n) on average:
 * Hoare's selection, middle pivot. */
static double select_kth(double *x, size_t n, size_t k)
{
	size_t lo = 0;
	size_t hi = n - 1;

	while (lo < hi) {
		double pivot = x[lo + (hi - lo) / 2];
		size_t i = lo;
		size_t j = hi;

		while (i <= j) {
			while (x[i] < pivot) {
				i++;
			}
			while (x[j] > pivot) {
				j--;
			}
			if (i <= j) {
				double tmp = x[i];

				x[i++] = x[j];
				x[j] = tmp;
				if (j == 0) {
					break;
				}
				j--;
			}
		}
		if (k <= j) {
			hi = j;
		} else if (k >= i) {
			lo = i;
		} else {
			break;
		}
	}
	return x[k];
}

/* The median of x[0..n) (reordered); 0 when n is 0. */
static double median(double *x, size_t n)
{
	double upper;

	if (n == 0) {
		return 0;
	}
	upper = select_kth(x, n, n / 2);
	if (n % 2) {
		return upper;
	}
	/* The lower middle is the largest of what select left below. */
	return (select_kth(x, n / 2, n / 2 - 1) + upper) / 2;
}

/* Theil-Sen at lag n/2: the median of the slopes between each point and
 * the one half the span later.  Robust to outliers, O(n log n). */
static double slope_per_s(const struct part *part)
{
	double slopes[SERIES_CAPACITY];
	size_t lag = part->n / 2;
	size_t m = 0;

	for (size_t i = 0; i + lag < part->n; i++) {
		double dt = part->t[i + lag] - part->t[i];

		if (dt > 0) {
			slopes[m++] = (part->v[i + lag] - part->v[i]) / dt;
		}
	}
	return median(slopes, m);
}

/* One-sided Mann-Kendall p-value for an increasing trend, with the
 * variance corrected for ties (counts tie a lot). */
static double mann_kendall_p(const struct part *part)
{
	double x[MK_MAX_POINTS];
	double sorted[MK_MAX_POINTS];
	size_t n = 0;
	double step = part->n > MK_MAX_POINTS ? (double)part->n / MK_MAX_POINTS
					      : 1.0;
	double s = 0;
	double var;
	double z;

	for (double i = 0; (size_t)i < part->n && n < MK_MAX_POINTS;
	     i += step) {
		x[n++] = part->v[(size_t)i];
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			s += (x[j] > x[i]) - (x[j] < x[i]);
		}
	}
	var = (double)n * (n - 1) * (2.0 * n + 5);
	memcpy(sorted, x, n * sizeof(double));
	qsort(sorted, n, sizeof(double), compare_double);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && sorted[j] == sorted[i]) {
			j++;
		}
		var -= (double)(j - i) * (j - i - 1) * (2.0 * (j - i) + 5);
		i = j;
	}
	var /= 18;
	if (s <= 0 || var <= 0) {
		return 1;
	}
	z = (s - 1) / sqrt(var);
	return 0.5 * erfc(z / sqrt(2.0));
}

/*
 * The growth is made of many small steps spread over time: at least
 * min_increases rises, none above max_jump_share of the range, the first
 * and the last at least min_span_s apart (a burst ramps up in a moment).
 */
static bool steps_like_leak(const struct part *part,
			    const struct trend_params *params)
{
	unsigned rises = 0;
	double largest = 0;
	double lo = part->v[0];
	double hi = part->v[0];
	double first_t = NAN;
	double last_t = NAN;

	for (size_t i = 1; i < part->n; i++) {
		double d = part->v[i] - part->v[i - 1];

		lo = fmin(lo, part->v[i]);
		hi = fmax(hi, part->v[i]);
		if (d > 0) {
			rises++;
			largest = fmax(largest, d);
			first_t = rises == 1 ? part->t[i - 1] : first_t;
			last_t = part->t[i];
		}
	}
	return rises >= params->min_increases &&
	       largest <= params->max_jump_share * (hi - lo) &&
	       last_t - first_t >= params->min_span_s;
}

/* A leak is still growing now: the recent tail ends above where it
 * started.  A pool that warmed up and holds fails this. */
static bool still_growing(const struct part *part, double share)
{
	double last_t = part->t[part->n - 1];
	double tail_start = last_t - share * (last_t - part->t[0]);
	size_t i = 0;

	while (i < part->n - 1 && part->t[i] < tail_start) {
		i++;
	}
	return part->v[part->n - 1] > part->v[i];
}

/* What the cheap steps find about one part. */
struct candidate {
	struct part part;
	struct trend_result result; /* p_value 1 until tested */
	bool shaped;                /* passes every guard but the test */
};

/*
 * Fits one part and runs the cheap guards; the rank test, the costly
 * step, is left to test() so that it runs only where it can matter.
 */
static void fit(struct candidate *c, const struct trend_params *params)
{
	const struct part *part = &c->part;
	struct trend_result *out = &c->result;

	memset(out, 0, sizeof(*out));
	out->p_value = 1;
	out->points = part->n;
	c->shaped = false;
	if (part->n < 2) {
		return;
	}
	out->span_s = part->t[part->n - 1] - part->t[0];
	out->slope_per_min = slope_per_s(part) * 60;
	out->net_growth = out->slope_per_min / 60 * out->span_s;
	if (part->n < params->min_points || out->span_s < params->min_span_s ||
	    !(out->slope_per_min > 0)) {
		return;
	}
	c->shaped = out->net_growth >= params->min_net_growth &&
		    /* a sawtooth refilling stays below its earlier peaks */
		    part->v[part->n - 1] >=
			    part->prior_peak + params->min_new_high &&
		    still_growing(part, params->recent_share) &&
		    steps_like_leak(part, params);
}

/* Runs the rank test on a fitted part; true when it is flagged. */
static bool test(struct candidate *c, const struct trend_params *params)
{
	struct trend_result *out = &c->result;

	if (out->slope_per_min > 0 && c->part.n >= params->min_points &&
	    out->span_s >= params->min_span_s) {
		out->p_value = mann_kendall_p(&c->part);
		out->confidence = 1 - out->p_value;
	}
	out->flagged = c->shaped && out->p_value <= params->max_p_value;
	return out->flagged;
}

/* Appends the part [from, view->n) with the highest value before it. */
static void add_part(const struct view *view, size_t from, double peak,
		     struct candidate *parts, size_t *count)
{
	struct part *part = &parts[(*count)++].part;

	part->t = view->t + from;
	part->v = view->v + from;
	part->n = view->n - from;
	part->prior_peak = peak;
}

/* The parts to try: the whole view, the part after its last recycle,
 * then recent parts each 3/4 of the one before.  Returns how many. */
static size_t make_parts(const struct view *view, size_t cut,
			 const struct trend_params *params,
			 struct candidate *parts, size_t cap)
{
	size_t count = 0;
	size_t scanned = 0;
	double peak = -INFINITY;

	add_part(view, 0, peak, parts, &count);
	for (size_t len = view->n - cut;
	     len >= params->min_points && len >= 2 && count < cap;
	     len = len * 3 / 4) {
		size_t from = view->n - len;

		if (from == 0) {
			continue;
		}
		for (; scanned < from; scanned++) {
			peak = fmax(peak, view->v[scanned]);
		}
		add_part(view, from, peak, parts, &count);
	}
	return count;
}

static void analyze(const struct view *view, const struct trend_params *params,
		    struct trend_result *out)
{
	struct candidate parts[32];
	size_t cut = last_recycle(view);
	size_t count = make_parts(view, cut, params, parts, 32);
	size_t first = count;
	size_t best;
	double slopes[32];
	size_t nslopes = 0;
	double typical;

	for (size_t i = 0; i < count; i++) {
		fit(&parts[i], params);
	}
	/* The whole view is never flagged across a recycle, but its slope
	 * and confidence describe the window when nothing is flagged. */
	if (cut > 0) {
		parts[0].shaped = false;
	}
	for (size_t i = 0; i < count && first == count; i++) {
		if (parts[i].shaped && test(&parts[i], params)) {
			first = i;
		}
	}
	if (first == count) {
		if (!parts[0].shaped) {
			/* Not tested yet: for the report's confidence. */
			(void)test(&parts[0], params);
		}
		*out = parts[0].result;
		return;
	}
	/*
	 * Report the longest leak-shaped part that grows about as fast as
	 * the typical one: the longest has the most data, but when a leak
	 * starts late in the window it also holds the flat past and
	 * understates the rate the leak runs at.  The median, not the
	 * fastest, as short parts of a staircase overstate it.
	 */
	for (size_t i = first; i < count; i++) {
		if (parts[i].shaped) {
			slopes[nslopes++] = parts[i].result.slope_per_min;
		}
	}
	typical = median(slopes, nslopes);
	best = first;
	for (size_t i = first; i < count; i++) {
		if (parts[i].shaped &&
		    parts[i].result.slope_per_min >= 0.85 * typical) {
			best = i;
			break;
		}
	}
	if (best != first && !test(&parts[best], params)) {
		best = first;
	}
	*out = parts[best].result;
}

void trend_analyze(const struct series *series,
		   const struct trend_params *params, struct trend_result *out)
{
	size_t n = series_count(series);

	if (series_is_flat(series)) {
		/* Nothing moved in the window: no slope, nothing to test. */
		memset(out, 0, sizeof(*out));
		out->p_value = 1;
		out->points = n;
		out->span_s = n ? series_at(series, n - 1).t_s -
					      series_at(series, 0).t_s
				: 0;
		return;
	}
	trend_analyze_range(series, -INFINITY, INFINITY, params, out);
}

void trend_analyze_range(const struct series *series, double from_s,
			 double to_s, const struct trend_params *params,
			 struct trend_result *out)
{
	struct view view; /* 8 KiB: on the stack keeps this reentrant */

	select_points(series, from_s, to_s, &view);
	if (view.n == 0) {
		memset(out, 0, sizeof(*out));
		out->p_value = 1;
		return;
	}
	analyze(&view, params, out);
}

double trend_run_end_s(const struct series *series, double from_s, double to_s)
{
	size_t n = series_count(series);
	size_t last = n;

	/* The last point inside the range... */
	while (last > 0 && !(series_at(series, last - 1).t_s <= to_s)) {
		last--;
	}
	if (last == 0 || series_at(series, last - 1).t_s < from_s) {
		return to_s;
	}
	/* ...then back over a trailing fall, to the point it fell from. */
	last--;
	while (last > 0 && series_at(series, last - 1).t_s >= from_s &&
	       series_at(series, last - 1).value >
		       series_at(series, last).value) {
		last--;
	}
	return series_at(series, last).t_s;
}

double trend_forecast_s(double current, double slope_per_min, double limit)
{
	if (current >= limit) {
		return 0;
	}
	if (!(slope_per_min > 0)) {
		return INFINITY;
	}
	return (limit - current) / slope_per_min * 60;
}
