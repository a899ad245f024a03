/*
 * check.h - the thresholds a user can set (--max-total ...) and their
 * evaluation into check results and an exit status.
 */
#ifndef PGDRIP_CHECK_H
#define PGDRIP_CHECK_H

#include "common.h"

#include <stdint.h>

/* A threshold left at CHECK_UNSET is not checked. */
#define CHECK_UNSET (-1)

struct thresholds {
	int max_total; /* CHECK_UNSET or >= 0 */
	int max_per_group;
	double max_usage_pct; /* < 0: unset */
	int max_idle_tx;
	int64_t idle_tx_age_ms; /* default 30000 */
	int max_leaked;         /* wrap mode; default 0 there */
	bool fail_on_growth;
	double max_growth_per_min; /* < 0: unset */
	double max_churn_per_min;  /* sessions opened per minute; < 0 unset */
	/* --max-leaked-per-test: sessions a test may leave abandoned.
	 * Implied (0) by --fail-on-growth or --max-leaked, and then checked
	 * only when the runner reported tests. */
	int max_leaked_per_test;
	bool max_leaked_per_test_implied;
	/* --max-unused: a group may hold max_unused_count open sessions
	 * (default 0) unused for max_unused_ms or longer; what one sample
	 * shows of a leak.  max_unused_ms < 0: unset. */
	int64_t max_unused_ms;
	int max_unused_count;
};

void check_thresholds_init(struct thresholds *t);
/* True when any threshold is set. */
bool check_any_set(const struct thresholds *t);

/*
 * One check; a breach has ok false.  A check whose data the server hid
 * (the states of other roles' sessions) has evaluated false, ok false
 * too (it never passes), the reason and the hint: value is then what
 * could be seen.
 */
struct check_result {
	char name[32];   /* the option without dashes: "max-total" */
	char where[512]; /* raw bytes: "total", "role app_tests", "group
			    app/api" */
	double limit;
	double value;
	bool ok;
	bool evaluated;
	char reason[256]; /* raw bytes; "" when evaluated */
	char hint[256];   /* raw bytes: what to run to make it evaluable */
};

struct check_list {
	struct check_result *items; /* owned */
	size_t count;
	size_t cap;
};

void check_list_init(struct check_list *list);
void check_list_finish(struct check_list *list);
void check_list_add(struct check_list *list, const char *name,
		    const char *where, double limit, double value, bool ok);
/* A check that could not be evaluated (see struct check_result). */
void check_list_add_unevaluated(struct check_list *list, const char *name,
				const char *where, double limit, double value,
				const char *reason, const char *hint);
/* Checks evaluated and breached; checks that could not be evaluated. */
size_t check_list_failures(const struct check_list *list);
size_t check_list_unevaluated(const struct check_list *list);

/* Exit code values; see the contract. */
enum {
	PGD_EXIT_OK = 0,
	PGD_EXIT_CHECK_FAILED = 1,
	PGD_EXIT_USAGE = 2,
	PGD_EXIT_UNAVAILABLE = 3,
};

/*
 * The final exit status: a wrapped command's own non-zero status wins
 * (child_status < 0 means no command), then a failed check gives 1,
 * then a check that could not be evaluated gives 3.
 */
int check_exit_status(const struct check_list *list, int child_status);

#endif
