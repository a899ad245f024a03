/*
 * plot.c - what the picture of a run shows (see plot.h): the groups
 * worth a line of their own, the rest summed, the limits on or off the
 * scale, the failed-sample gaps and the axes' ranges.  plot_svg.c draws
 * the result.
 */
#include "plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
	MAX_OTHER_POINTS = 1024, /* the summed line's resolution */
};

/* Tableau 10 without its red, which marks leaks. */
static const char *const palette[PLOT_MAX_LINES] = {
	"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1",
	"#76b7b2", "#b8860b", "#9c755f", "#ff9da7",
};
#define OTHER_COLOR "#8c8c8c"

struct ranked {
	const struct report_group *group;
	size_t order; /* in the report: the tie-break, for stable output */
};

/* Leaking groups first (a small leak is the point of the picture), then
 * the highest peaks, then the report's own order. */
static int compare_ranked(const void *pa, const void *pb)
{
	const struct ranked *a = pa;
	const struct ranked *b = pb;

	if (a->group->flagged != b->group->flagged) {
		return a->group->flagged ? -1 : 1;
	}
	if (a->group->peak != b->group->peak) {
		return a->group->peak > b->group->peak ? -1 : 1;
	}
	return (a->order > b->order) - (a->order < b->order);
}

static const struct group_history *find_history(const struct plot *p,
						const struct report_group *g)
{
	const struct group_keys *keys = &p->report->keys;

	for (size_t i = 0; i < p->history->group_count; i++) {
		const struct group_history *h = &p->history->groups[i];
		bool same = true;

		for (size_t k = 0; k < keys->count && same; k++) {
			enum group_key key = keys->keys[k];

			same = strcmp(h->keys[key] ? h->keys[key] : "",
				      g->keys[key] ? g->keys[key] : "") == 0;
		}
		if (same) {
			return h;
		}
	}
	return NULL;
}

static void copy_run(struct plot_line *line, const struct group_history *h)
{
	size_t n = h != NULL ? series_count(&h->run) : 0;

	line->points = xcalloc(n ? n : 1, sizeof(*line->points));
	for (size_t i = 0; i < n; i++) {
		line->points[i] = series_at(&h->run, i);
	}
	line->count = n;
}

/* A copy of a sparse run series (history.h): NULL when it is empty. */
static struct series_point *copy_points(const struct series *run, size_t *count)
{
	size_t n = series_count(run);
	struct series_point *points;

	*count = n;
	if (n == 0) {
		return NULL;
	}
	points = xcalloc(n, sizeof(*points));
	for (size_t i = 0; i < n; i++) {
		points[i] = series_at(run, i);
	}
	return points;
}

/* The count a line's points show at t, joined as they are drawn:
 * between two points, on the straight line between them. */
static double value_at(const struct plot_line *line, double t)
{
	size_t i = 0;

	if (line->count == 0) {
		return 0;
	}
	while (i + 1 < line->count && line->points[i + 1].t_s <= t) {
		i++;
	}
	if (i + 1 < line->count && line->points[i].t_s <= t) {
		const struct series_point *a = &line->points[i];
		const struct series_point *b = &line->points[i + 1];

		return a->value +
		       (b->value - a->value) * (t - a->t_s) / (b->t_s - a->t_s);
	}
	return line->points[i].value;
}

/* What a group's line shows besides its count: the sessions idle in a
 * transaction and abandoned, and where the verdict first held. */
static void copy_states(struct plot_line *line, const struct group_history *h)
{
	line->flagged_t_s = NAN;
	if (h == NULL) {
		return;
	}
	line->idle_tx = copy_points(&h->run_idle_tx, &line->idle_tx_count);
	line->abandoned = copy_points(&h->run_abandoned,
				      &line->abandoned_count);
	if (line->group->flagged && isfinite(line->group->first_flagged_s)) {
		line->flagged_t_s = line->group->first_flagged_s;
		line->flagged_value = value_at(line, line->flagged_t_s);
	}
}

static int compare_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa;
	double b = *(const double *)pb;

	return (a > b) - (a < b);
}

static bool is_shown(const struct group_history *h,
		     const struct group_history *const *shown, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (shown[i] == h) {
			return true;
		}
	}
	return false;
}

/* The times of every member's points, sorted, deduplicated and thinned
 * to at most MAX_OTHER_POINTS (run series compact at their own pace, so
 * the members' points need not line up). */
static double *other_times(const struct plot *p,
			   const struct group_history *const *shown,
			   size_t shown_count, size_t *count)
{
	double *t = NULL;
	size_t n = 0;
	size_t cap = 0;
	size_t kept = 0;
	size_t step;

	for (size_t i = 0; i < p->history->group_count; i++) {
		const struct group_history *h = &p->history->groups[i];

		if (is_shown(h, shown, shown_count)) {
			continue;
		}
		for (size_t j = 0; j < series_count(&h->run); j++) {
			xgrow((void **)&t, &cap, n + 1, sizeof(*t));
			t[n++] = series_at(&h->run, j).t_s;
		}
	}
	if (n > 1) {
		qsort(t, n, sizeof(*t), compare_double);
	}
	step = n / MAX_OTHER_POINTS + 1;
	for (size_t i = 0; i < n; i++) {
		bool dup = kept > 0 && t[i] - t[kept - 1] < 0.0005;

		if (!dup && (i % step == 0 || i == n - 1)) {
			t[kept++] = t[i];
		}
	}
	*count = kept;
	return t;
}

/* The value a member held at t: its last point at or before t (0 before
 * its first: a group is born from zero). */
static double held_at(const struct series *run, size_t *cursor, double t)
{
	size_t n = series_count(run);

	if (n == 0 || series_at(run, 0).t_s > t + 1e-9) {
		return 0;
	}
	while (*cursor + 1 < n && series_at(run, *cursor + 1).t_s <= t + 1e-9) {
		(*cursor)++;
	}
	return series_at(run, *cursor).value;
}

/* "other": every group without a line of its own, summed. */
static void build_other(struct plot *p, struct plot_line *line,
			const struct group_history *const *shown,
			size_t shown_count)
{
	size_t n;
	double *t = other_times(p, shown, shown_count, &n);

	line->points = xcalloc(n ? n : 1, sizeof(*line->points));
	line->count = n;
	for (size_t i = 0; i < n; i++) {
		line->points[i].t_s = t[i];
	}
	for (size_t i = 0; i < p->history->group_count; i++) {
		const struct group_history *h = &p->history->groups[i];
		size_t cursor = 0;

		if (is_shown(h, shown, shown_count)) {
			continue;
		}
		line->members++;
		line->baseline += h->baseline;
		for (size_t j = 0; j < n; j++) {
			line->points[j].value += (float)held_at(&h->run,
								&cursor, t[j]);
		}
	}
	free(t);
	snprintf(line->label, sizeof(line->label), "other");
	line->color = OTHER_COLOR;
	line->flagged_t_s = NAN;
}

static void choose_lines(struct plot *p)
{
	const struct report *r = p->report;
	struct ranked *ranked = xcalloc(r->group_count ? r->group_count : 1,
					sizeof(*ranked));
	const struct group_history *shown[PLOT_MAX_LINES];
	size_t own = r->group_count;

	for (size_t i = 0; i < r->group_count; i++) {
		ranked[i].group = &r->groups[i];
		ranked[i].order = i;
	}
	qsort(ranked, r->group_count, sizeof(*ranked), compare_ranked);
	if (own > PLOT_MAX_LINES) {
		own = PLOT_MAX_LINES - 1; /* the last line is "other" */
	}
	for (size_t i = 0; i < own; i++) {
		struct plot_line *line = &p->lines[p->line_count++];

		line->group = ranked[i].group;
		line->baseline = line->group->baseline;
		line->color = palette[i];
		report_group_label(r, line->group, line->label,
				   sizeof(line->label));
		shown[i] = find_history(p, line->group);
		copy_run(line, shown[i]);
		copy_states(line, shown[i]);
	}
	if (own < r->group_count) {
		build_other(p, &p->lines[p->line_count++], shown, own);
	}
	free(ranked);
}

static void add_gap(struct plot *p, size_t *cap, double from_s, double to_s)
{
	xgrow((void **)&p->gaps, cap, p->gap_count + 1, sizeof(*p->gaps));
	p->gaps[p->gap_count].from_s = from_s;
	p->gaps[p->gap_count].to_s = to_s;
	p->gap_count++;
}

static int compare_gaps(const void *pa, const void *pb)
{
	const struct plot_gap *a = pa;
	const struct plot_gap *b = pb;

	if (a->from_s != b->from_s) {
		return a->from_s < b->from_s ? -1 : 1;
	}
	return (a->to_s > b->to_s) - (a->to_s < b->to_s);
}

/* Failed samples mark a gap in every group's run series: between the
 * point before and the point after.  Collected from all groups, merged
 * where they overlap. */
static void collect_gaps(struct plot *p)
{
	size_t cap = 0;
	size_t merged = 0;

	for (size_t i = 0; i < p->history->group_count; i++) {
		const struct series *run = &p->history->groups[i].run;

		for (size_t j = 1; j < series_count(run); j++) {
			if (series_at(run, j).gap) {
				add_gap(p, &cap, series_at(run, j - 1).t_s,
					series_at(run, j).t_s);
			}
		}
	}
	if (p->gap_count > 1) {
		qsort(p->gaps, p->gap_count, sizeof(*p->gaps), compare_gaps);
	}
	for (size_t i = 0; i < p->gap_count; i++) {
		struct plot_gap *last = merged > 0 ? &p->gaps[merged - 1]
						   : NULL;

		if (last != NULL && p->gaps[i].from_s <= last->to_s) {
			last->to_s = fmax(last->to_s, p->gaps[i].to_s);
		} else {
			p->gaps[merged++] = p->gaps[i];
		}
	}
	p->gap_count = merged;
}

/* The summed line crosses a gap where any member did. */
static void mark_other_gaps(struct plot *p, struct plot_line *line)
{
	for (size_t i = 1; i < line->count; i++) {
		for (size_t g = 0; g < p->gap_count; g++) {
			if (p->gaps[g].to_s > line->points[i - 1].t_s &&
			    p->gaps[g].to_s <= line->points[i].t_s + 1e-9) {
				line->points[i].gap = true;
			}
		}
	}
}

static void add_limit(struct plot *p, enum limit_kind kind, const char *name,
		      int limit)
{
	struct plot_limit *l;

	if (limit < 0 || p->limit_count == PLOT_MAX_LIMITS) {
		return;
	}
	for (size_t i = 0; i < p->limit_count; i++) {
		if (p->limits[i].kind == kind &&
		    strcmp(p->limits[i].name, name) == 0) {
			return;
		}
	}
	l = &p->limits[p->limit_count++];
	l->kind = kind;
	l->name = name;
	l->limit = limit;
}

/* The server's usable connections, then the role and database limits
 * the lines shown can run into. */
static void collect_limits(struct plot *p)
{
	const struct report *r = p->report;

	if (r->limit_count > 0 && r->limits[0].kind == LIMIT_KIND_SERVER) {
		add_limit(p, LIMIT_KIND_SERVER, "", r->limits[0].limit);
	}
	for (size_t i = 0; i < p->line_count; i++) {
		const struct report_group *g = p->lines[i].group;

		if (g == NULL) {
			continue;
		}
		if (g->role_limit >= 0 && g->keys[GROUP_KEY_USER] != NULL) {
			add_limit(p, LIMIT_KIND_ROLE, g->keys[GROUP_KEY_USER],
				  g->role_limit);
		}
		if (g->db_limit >= 0 && g->keys[GROUP_KEY_DB] != NULL) {
			add_limit(p, LIMIT_KIND_DATABASE, g->keys[GROUP_KEY_DB],
				  g->db_limit);
		}
		if (g->flagged && isfinite(g->forecast_s)) {
			add_limit(p, g->forecast_kind, g->forecast_name,
				  g->forecast_limit);
		}
	}
}

/* 1, 2, 5, 10, 20, 50...: the smallest giving at most 6 intervals. */
static double nice_count_step(double top)
{
	double step = 1;

	for (int i = 0; top / step > 6; i++) {
		step *= i % 3 == 1 ? 2.5 : 2;
	}
	return step;
}

/* Far above: drawing it would squash the lines below into the bottom
 * rows, so it is named in a note instead. */
static bool within_reach(double value, double data_max)
{
	return value <= fmax(2 * data_max, data_max + 5);
}

/*
 * The x axis covers the run (and the wrapped command); the y axis the
 * groups' lines and baselines, and what is within reach of them: the
 * limits and the summed "other" line (113 small groups summed would
 * otherwise hide every leak under one tall line).
 */
static void plan_scales(struct plot *p)
{
	double data_max = 0;
	double top;
	struct plot_line *other = NULL;

	p->t_max = p->history->last_t_s;
	for (size_t i = 0; i < p->line_count; i++) {
		struct plot_line *line = &p->lines[i];

		line->on_scale = true;
		line->peak = line->baseline;
		for (size_t j = 0; j < line->count; j++) {
			line->peak = fmax(line->peak, line->points[j].value);
			p->t_max = fmax(p->t_max, line->points[j].t_s);
		}
		if (line->group == NULL) {
			other = line;
		} else {
			data_max = fmax(data_max, line->peak);
		}
	}
	if (other != NULL) {
		other->on_scale = within_reach(other->peak, data_max);
		data_max = other->on_scale ? fmax(data_max, other->peak)
					   : data_max;
	}
	if (p->report->wrapped && isfinite(p->report->command_ended_s)) {
		p->t_max = fmax(p->t_max, p->report->command_ended_s);
	}
	top = fmax(data_max, 1);
	for (size_t i = 0; i < p->limit_count; i++) {
		struct plot_limit *l = &p->limits[i];

		l->on_scale = within_reach(l->limit, data_max);
		if (l->on_scale) {
			top = fmax(top, l->limit);
		}
	}
	p->y_step = nice_count_step(top);
	/* Headroom, so the highest line or limit is not on the frame. */
	p->y_max = p->y_step * ceil((top + 0.25 * p->y_step) / p->y_step);
}

/* A live leak's projection: the group's count going on at its slope
 * from the last sample until its forecast's limit is reached (a limit
 * others share too is reached before the group alone would reach it). */
static bool start_projection(const struct plot *p, struct plot_line *line)
{
	const struct report_group *g = line->group;
	struct plot_projection *pr = &line->projection;

	if (!p->live || g == NULL || !g->flagged || !isfinite(g->forecast_s) ||
	    g->forecast_s <= 0 || !(g->trend.slope_per_min > 0) ||
	    p->data_t_s <= 0) {
		return false;
	}
	pr->shown = true;
	pr->from_t_s = p->history->last_t_s;
	pr->from_value = g->connections;
	pr->slope_per_s = g->trend.slope_per_min / 60;
	pr->hit_t_s = pr->from_t_s + g->forecast_s;
	pr->limit = g->forecast_limit;
	return true;
}

/* Where the projection's drawn line ends: where the limit is reached
 * when that is on the picture, else at the right edge or the top,
 * whichever comes first. */
static void end_projection(const struct plot *p, struct plot_projection *pr)
{
	pr->to_t_s = fmin(pr->hit_t_s, p->t_max);
	pr->to_value = pr->from_value +
		       pr->slope_per_s * (pr->to_t_s - pr->from_t_s);
	if (pr->to_value > p->y_max) {
		pr->to_t_s = pr->from_t_s +
			     (p->y_max - pr->from_value) / pr->slope_per_s;
		pr->to_value = p->y_max;
	}
}

/*
 * While the run is live, each flagged group with a forecast is projected
 * to its limit: the time axis runs on past the last sample to the
 * nearest hit, by half the run at most (a hit further off is cut at the
 * edge, its time said in words).
 */
static void plan_projections(struct plot *p)
{
	const struct report *r = p->report;
	double until = p->t_max;

	p->live = !(r->wrapped && isfinite(r->command_ended_s));
	p->data_t_s = p->t_max;
	for (size_t i = 0; i < p->line_count; i++) {
		if (start_projection(p, &p->lines[i])) {
			until = fmax(until, fmin(p->lines[i].projection.hit_t_s,
						 1.5 * p->data_t_s));
		}
	}
	p->t_max = until;
	for (size_t i = 0; i < p->line_count; i++) {
		if (p->lines[i].projection.shown) {
			end_projection(p, &p->lines[i].projection);
		}
	}
}

void plot_plan(struct plot *p, const struct report *report,
	       const struct history *history)
{
	memset(p, 0, sizeof(*p));
	p->report = report;
	p->history = history;
	choose_lines(p);
	collect_gaps(p);
	if (p->line_count > 0 && p->lines[p->line_count - 1].group == NULL) {
		mark_other_gaps(p, &p->lines[p->line_count - 1]);
	}
	collect_limits(p);
	plan_scales(p);
	plan_projections(p);
}

void plot_finish(struct plot *p)
{
	if (p == NULL) {
		return;
	}
	for (size_t i = 0; i < p->line_count; i++) {
		free(p->lines[i].points);
		free(p->lines[i].idle_tx);
		free(p->lines[i].abandoned);
	}
	free(p->gaps);
}
