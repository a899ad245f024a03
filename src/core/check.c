/*
 * check.c - thresholds, check results and the exit-status decision.  The
 * checks themselves are evaluated in report.c, which has the figures.
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void check_thresholds_init(struct thresholds *t)
{
	t->max_total = CHECK_UNSET;
	t->max_per_group = CHECK_UNSET;
	t->max_usage_pct = -1;
	t->max_idle_tx = CHECK_UNSET;
	t->idle_tx_age_ms = 30000;
	t->max_leaked = CHECK_UNSET;
	t->fail_on_growth = false;
	t->max_growth_per_min = -1;
	t->max_leaked_per_test = CHECK_UNSET;
	t->max_leaked_per_test_implied = false;
	t->max_churn_per_min = -1;
	t->max_unused_ms = -1;
	t->max_unused_count = 0;
}

bool check_any_set(const struct thresholds *t)
{
	return t->max_total != CHECK_UNSET || t->max_per_group != CHECK_UNSET ||
	       t->max_usage_pct >= 0 || t->max_idle_tx != CHECK_UNSET ||
	       t->max_leaked != CHECK_UNSET || t->fail_on_growth ||
	       t->max_growth_per_min >= 0 || t->max_churn_per_min >= 0 ||
	       t->max_leaked_per_test != CHECK_UNSET || t->max_unused_ms >= 0;
}

void check_list_init(struct check_list *list)
{
	memset(list, 0, sizeof(*list));
}

void check_list_finish(struct check_list *list)
{
	if (list == NULL) {
		return;
	}
	free(list->items);
	check_list_init(list);
}

void check_list_add(struct check_list *list, const char *name,
		    const char *where, double limit, double value, bool ok)
{
	struct check_result *r;

	xgrow((void **)&list->items, &list->cap, list->count + 1,
	      sizeof(*list->items));
	r = &list->items[list->count++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->where, sizeof(r->where), "%s", where);
	r->limit = limit;
	r->value = value;
	r->ok = ok;
	r->evaluated = true;
	r->reason[0] = r->hint[0] = '\0';
}

void check_list_add_unevaluated(struct check_list *list, const char *name,
				const char *where, double limit, double value,
				const char *reason, const char *hint)
{
	struct check_result *r;

	check_list_add(list, name, where, limit, value, false);
	r = &list->items[list->count - 1];
	r->evaluated = false;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	snprintf(r->hint, sizeof(r->hint), "%s", hint);
}

size_t check_list_failures(const struct check_list *list)
{
	size_t failures = 0;

	for (size_t i = 0; i < list->count; i++) {
		failures += !list->items[i].ok && list->items[i].evaluated;
	}
	return failures;
}

size_t check_list_unevaluated(const struct check_list *list)
{
	size_t n = 0;

	for (size_t i = 0; i < list->count; i++) {
		n += !list->items[i].evaluated;
	}
	return n;
}

int check_exit_status(const struct check_list *list, int child_status)
{
	/* A failing test suite is never masked by a passing gate, nor
	 * turned into a gate failure. */
	if (child_status > 0) {
		return child_status;
	}
	if (check_list_failures(list) > 0) {
		return PGD_EXIT_CHECK_FAILED;
	}
	/* Not a pass: the answer is unknown, as when pgdrip cannot
	 * connect. */
	return check_list_unevaluated(list) > 0 ? PGD_EXIT_UNAVAILABLE
						: PGD_EXIT_OK;
}
