/*
 * report_checks.c - the thresholds checked against a built report (see
 * report_checks.h): one result per breaching group or limit, or one
 * passing result naming the worst value.
 */
#include "report_checks.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* --max-per-group and friends: one result per breaching group, or one
 * passing result naming the largest value when none breaches. */
struct group_check {
	const char *name;
	double limit;
	double (*value)(const struct report_group *g);
};

static double group_connections(const struct report_group *g)
{
	return g->connections;
}

static double group_leaked(const struct report_group *g)
{
	return g->leaked;
}

static double group_flagged(const struct report_group *g)
{
	return g->flagged ? 1 : 0;
}

static double group_unused(const struct report_group *g)
{
	return g->unused_over_age;
}

static double group_churn(const struct report_group *g)
{
	return isfinite(g->opened_per_min) ? g->opened_per_min : 0;
}

static double group_slope(const struct report_group *g)
{
	/* An insignificant slope is noise, not growth. */
	return g->trend.p_value <= 0.05 ? g->trend.slope_per_min : 0;
}

static void check_groups(struct report *report, const struct group_check *c)
{
	double worst = 0;
	bool breached = false;

	for (size_t i = 0; i < report->group_count; i++) {
		const struct report_group *g = &report->groups[i];
		double v = c->value(g);
		char label[500];
		char where[600];

		if (v > worst) {
			worst = v;
		}
		if (v > c->limit) {
			snprintf(where, sizeof(where), "group %s",
				 report_group_label(report, g, label,
						    sizeof(label)));
			check_list_add(&report->checks, c->name, where,
				       c->limit, v, false);
			breached = true;
		}
	}
	if (!breached) {
		check_list_add(&report->checks, c->name, "every group",
			       c->limit, worst, true);
	}
}

static void check_usage(struct report *report, double max_pct)
{
	bool breached = false;
	double worst = 0;

	for (size_t i = 0; i < report->limit_count; i++) {
		const struct report_limit *l = &report->limits[i];
		char where[600];

		if (l->usage_pct > worst) {
			worst = l->usage_pct;
		}
		if (l->usage_pct <= max_pct) {
			continue;
		}
		snprintf(where, sizeof(where), "%s%s%s",
			 report_limit_kind_name(l->kind), l->name[0] ? " " : "",
			 l->name);
		check_list_add(&report->checks, "max-usage", where, max_pct,
			       l->usage_pct, false);
		breached = true;
	}
	if (!breached) {
		check_list_add(&report->checks, "max-usage", "every limit",
			       max_pct, worst, true);
	}
}

/*
 * A check the hidden sessions leave open: not evaluated, saying what the
 * server hides ("the state of") of how many from pgdrip's role, and the
 * role to grant it (c: its name, where, limit and the value seen).
 */
static void add_hidden(struct report *report, const struct check_result *c,
		       int hidden, const char *what, const char *grant)
{
	char reason[256];
	char hint[256];
	char who[160];

	report_role_identifier(report, who, sizeof(who));
	snprintf(reason, sizeof(reason),
		 "the server hides %s %d selected session%s from role %s", what,
		 hidden, hidden == 1 ? "" : "s", who);
	snprintf(hint, sizeof(hint), "GRANT %s TO %s", grant, who);
	check_list_add_unevaluated(&report->checks, c->name, c->where, c->limit,
				   c->value, reason, hint);
}

/*
 * --max-idle-tx: a breach among the sessions seen fails; otherwise,
 * selected sessions whose state the server hid (other roles' sessions,
 * without pg_monitor) may be idle in transaction too, so the check is
 * not evaluated rather than passed.
 */
static void check_idle_tx(struct report *report, int max)
{
	struct check_result c = {.name = "max-idle-tx",
				 .where = "idle in transaction",
				 .limit = max};
	int n = 0;
	int hidden = 0;
	int seen = 0;

	for (size_t i = 0; i < report->idle_tx_count; i++) {
		n += report->idle_tx[i].over_age;
	}
	/* Not only the last sample: every session seen idle in a
	 * transaction too long at any sample of the run (a test that left
	 * one for a few seconds, closed since). */
	for (size_t i = 0; i < report->group_count; i++) {
		hidden += report->groups[i].states[SESSION_STATE_UNKNOWN];
		seen += report->groups[i].idle_tx_over_age;
	}
	n = seen > n ? seen : n;
	if (n > max || hidden == 0) {
		check_list_add(&report->checks, "max-idle-tx",
			       "idle in transaction", max, n, n <= max);
		return;
	}
	c.value = n;
	add_hidden(report, &c, hidden, "the state of", "pg_monitor");
}

/*
 * --max-unused: a group breaches with more open sessions unused past the
 * age than allowed.  Without a breach, sessions whose last use the server
 * hid may be unused too: not evaluated rather than passed, as for
 * --max-idle-tx.
 */
static void check_unused(struct report *report, int max)
{
	struct group_check c = {"max-unused", max, group_unused};
	struct check_result r = {.name = "max-unused",
				 .where = "every group",
				 .limit = max};
	int hidden = 0;
	size_t before = report->checks.count;

	check_groups(report, &c);
	/* Rows the server hid whole (no identity, no times) are never
	 * tracked: the states it hid count them. */
	for (size_t i = 0; i < report->group_count; i++) {
		hidden += report->groups[i].unused_hidden +
			  report->groups[i].states[SESSION_STATE_UNKNOWN];
	}
	/* One passing result means no group breached. */
	if (hidden == 0 || report->checks.count != before + 1 ||
	    !report->checks.items[before].ok) {
		return;
	}
	r.value = report->checks.items[before].value;
	report->checks.count = before;
	add_hidden(report, &r, hidden, "the last use of", "pg_read_all_stats");
}

void report_checks_run(struct report *report, const struct thresholds *t)
{
	if (t->max_total != CHECK_UNSET) {
		check_list_add(&report->checks, "max-total", "total",
			       t->max_total, report->total,
			       report->total <= t->max_total);
	}
	if (t->max_per_group != CHECK_UNSET) {
		struct group_check c = {"max-per-group", t->max_per_group,
					group_connections};
		check_groups(report, &c);
	}
	if (t->max_usage_pct >= 0) {
		check_usage(report, t->max_usage_pct);
	}
	if (t->max_idle_tx != CHECK_UNSET) {
		check_idle_tx(report, t->max_idle_tx);
	}
	if (report->wrapped && t->max_leaked != CHECK_UNSET) {
		struct group_check c = {"max-leaked", t->max_leaked,
					group_leaked};
		check_groups(report, &c);
	}
	if (t->fail_on_growth) {
		struct group_check c = {"fail-on-growth", 0, group_flagged};
		check_groups(report, &c);
	}
	if (t->max_unused_ms >= 0) {
		check_unused(report, t->max_unused_count);
	}
	if (t->max_churn_per_min >= 0) {
		struct group_check c = {"max-churn", t->max_churn_per_min,
					group_churn};
		check_groups(report, &c);
	}
	if (t->max_growth_per_min >= 0) {
		struct group_check c = {"max-growth", t->max_growth_per_min,
					group_slope};
		check_groups(report, &c);
	}
}
