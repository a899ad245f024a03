/*
 * report_fold.c - the cardinality guard behind --max-groups (see
 * report_fold.h): the groups past the limit, and the breakdown rows past
 * it, summed into one "other" entry each.
 */
#include "report_fold.h"

#include "report_judge.h"

#include <math.h>
#include <string.h>

static void other_init(struct report_group *o, const struct report *r)
{
	memset(o, 0, sizeof(*o));
	o->other = true;
	for (size_t k = 0; k < r->keys.count; k++) {
		o->keys[r->keys.keys[k]] = REPORT_OTHER;
	}
	o->oldest_idle_tx_s = NAN;
	o->oldest_xact_s = NAN;
	o->first_flagged_s = NAN;
	o->forecast_s = INFINITY;
	o->forecast_name = "";
	o->role_limit = -1;
	o->db_limit = -1;
	o->role_usage_pct = NAN;
	o->db_usage_pct = NAN;
	o->trend.p_value = 1;
	o->verdict = "ok";
	o->sessions.unused_min_s = NAN;
	o->sessions.unused_max_s = NAN;
	o->sessions.every_s = NAN;
	o->sessions.threshold_s = NAN;
	o->sessions.median_lifetime_s = NAN;
	o->opened_per_min = NAN;
	o->median_lifetime_s = NAN;
}

/* NAN-aware sum: unknown only when both are. */
static double add_known(double a, double b)
{
	return isnan(a) ? b : isnan(b) ? a : a + b;
}

/* The worse verdict: a leak outranks stuck sessions, both outrank ok. */
static const char *worse_verdict(const char *a, const char *b)
{
	if (strcmp(a, "leaking") == 0 || strcmp(b, "leaking") == 0) {
		return "leaking";
	}
	return strcmp(a, "stuck") == 0 || strcmp(b, "stuck") == 0 ? "stuck"
								  : "ok";
}

/* The sessions' counts add up; the ranges widen.  The evidence listed
 * stays with the groups it came from: "other" gives only its total. */
static void sessions_add(struct report_group *o, const struct report_group *g)
{
	struct group_sessions *os = &o->sessions;
	const struct group_sessions *gs = &g->sessions;

	o->verdict = worse_verdict(o->verdict, g->verdict ? g->verdict : "ok");
	o->by_sessions |= g->by_sessions;
	os->known |= gs->known;
	os->tracked += gs->tracked;
	os->abandoned += gs->abandoned;
	os->passed_over += gs->passed_over;
	os->unused_long += gs->unused_long;
	os->listeners += gs->listeners;
	os->resting += gs->resting;
	os->fell += gs->fell;
	os->busy += gs->busy;
	os->recent += gs->recent;
	os->exonerated += gs->exonerated;
	os->unused_new += gs->unused_new;
	os->closed += gs->closed;
	os->spread |= gs->spread;
	os->spread_idle |= gs->spread_idle;
	os->spread_new |= gs->spread_new;
	os->unused_min_s = fmin(os->unused_min_s, gs->unused_min_s);
	os->unused_max_s = fmax(os->unused_max_s, gs->unused_max_s);
	os->threshold_s = fmin(os->threshold_s, gs->threshold_s);
	os->opened_per_min = add_known(os->opened_per_min, gs->opened_per_min);
	o->evidence_total += g->evidence_total;
	o->opened_per_min = add_known(o->opened_per_min, g->opened_per_min);
	o->closed_seen += g->closed_seen;
	o->idle_tx_over_age += g->idle_tx_over_age;
	o->unused_over_age += g->unused_over_age;
	o->unused_hidden += g->unused_hidden;
}

/* Counts and slopes add up (the sum of the series grows at the sum of
 * the slopes); the peak is the sum of peaks, an upper bound.  One leak
 * among them flags the sum, so an alert still fires. */
static void other_add(struct report_group *o, const struct report_group *g)
{
	o->connections += g->connections;
	o->baseline += g->baseline;
	o->peak += g->peak;
	o->minimum += g->minimum;
	o->leaked += g->leaked;
	o->open_after += g->open_after;
	for (int s = 0; s < SESSION_STATE_COUNT; s++) {
		o->states[s] += g->states[s];
	}
	o->oldest_idle_tx_s = fmax(o->oldest_idle_tx_s, g->oldest_idle_tx_s);
	o->oldest_xact_s = fmax(o->oldest_xact_s, g->oldest_xact_s);
	o->trend.flagged |= g->trend.flagged;
	o->flagged |= g->flagged;
	o->trend.slope_per_min += g->trend.slope_per_min;
	o->trend.net_growth += g->trend.net_growth;
	o->trend.confidence = fmax(o->trend.confidence, g->trend.confidence);
	o->trend.p_value = fmin(o->trend.p_value, g->trend.p_value);
	o->first_flagged_s = fmin(o->first_flagged_s, g->first_flagged_s);
	sessions_add(o, g);
	if (g->forecast_s < o->forecast_s) {
		o->forecast_s = g->forecast_s;
		o->forecast_kind = g->forecast_kind;
		o->forecast_name = g->forecast_name;
		o->forecast_limit = g->forecast_limit;
	}
}

static void fold_groups(struct report *r, size_t max_groups)
{
	struct report_group other;

	other_init(&other, r);
	for (size_t i = max_groups; i < r->group_count; i++) {
		other_add(&other, &r->groups[i]);
	}
	r->groups[max_groups] = other;
	r->group_count = max_groups + 1;
}

/* Rows past max_groups become one "other" row per state. */
static void fold_breakdown(struct report *r, size_t max_groups)
{
	struct report_breakdown others[SESSION_STATE_COUNT];
	size_t n = max_groups;

	memset(others, 0, sizeof(others));
	for (size_t i = max_groups; i < r->breakdown_count; i++) {
		others[r->breakdown[i].state].connections +=
			r->breakdown[i].connections;
	}
	for (int s = 0; s < SESSION_STATE_COUNT; s++) {
		struct report_breakdown *b = &r->breakdown[n];

		if (others[s].connections == 0) {
			continue;
		}
		/* n <= max_groups + s < breakdown_count: a state's row
		 * exists only where a folded row had that state. */
		b->user = b->app = b->db = REPORT_OTHER;
		b->state = (enum session_state)s;
		b->connections = others[s].connections;
		b->other = true;
		n++;
	}
	r->breakdown_count = n;
}

size_t report_fold(struct report *report, size_t max_groups)
{
	size_t folded = 0;

	if (max_groups == 0) {
		return 0;
	}
	if (report->group_count > max_groups) {
		folded = report->group_count - max_groups;
		fold_groups(report, max_groups);
		/* The sum's flags are its own (a role's usage it lacks). */
		report_judge(report);
		report_add_warning(
			report,
			"%zu groups past --max-groups %zu are summed "
			"into one labelled other=\"true\" (keys "
			"\"" REPORT_OTHER "\")",
			folded, max_groups);
	}
	if (report->breakdown_count > max_groups) {
		size_t rows = report->breakdown_count - max_groups;

		fold_breakdown(report, max_groups);
		report_add_warning(report,
				   "%zu user/application/database/state "
				   "combinations past --max-groups %zu are "
				   "summed into other=\"true\"",
				   rows, max_groups);
	}
	return folded;
}
