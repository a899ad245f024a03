/*
 * test_check.c - check lists and the exit-status decision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "check.h"

#include <string.h>

struct status_case {
	int failures;
	int unevaluated;
	int child_status;
	int expected;
};

static const struct status_case status_cases[] = {
	{0, 0, -1, PGD_EXIT_OK},
	{1, 0, -1, PGD_EXIT_CHECK_FAILED},
	{3, 0, -1, PGD_EXIT_CHECK_FAILED},
	{0, 0, 0, PGD_EXIT_OK},
	{1, 0, 0, PGD_EXIT_CHECK_FAILED},
	/* A check that could not be evaluated is never a pass... */
	{0, 1, -1, PGD_EXIT_UNAVAILABLE},
	{0, 2, 0, PGD_EXIT_UNAVAILABLE},
	/* ...but a failure found beside it is the finding. */
	{1, 1, -1, PGD_EXIT_CHECK_FAILED},
	/* The wrapped command's failure is never masked... */
	{0, 0, 2, 2},
	{1, 0, 2, 2},
	{0, 1, 2, 2},
	/* ...nor turned into a gate failure when it was killed. */
	{1, 0, 130, 130},
	{0, 0, 143, 143},
};

static void test_exit_status(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]);
	     i++) {
		const struct status_case *c = &status_cases[i];
		struct check_list list;

		check_list_init(&list);
		check_list_add(&list, "max-total", "total", 10, 5, true);
		for (int f = 0; f < c->failures; f++) {
			check_list_add(&list, "max-per-group", "group a/b", 1,
				       2, false);
		}
		for (int u = 0; u < c->unevaluated; u++) {
			check_list_add_unevaluated(&list, "max-idle-tx",
						   "idle in transaction", 0, 0,
						   "hidden", "GRANT");
		}
		assert_int_equal(check_list_failures(&list), c->failures);
		assert_int_equal(check_list_unevaluated(&list), c->unevaluated);
		assert_int_equal(check_exit_status(&list, c->child_status),
				 c->expected);
		check_list_finish(&list);
	}
}

static void test_thresholds(void **state)
{
	struct thresholds t;

	(void)state;
	check_thresholds_init(&t);
	assert_false(check_any_set(&t));
	assert_int_equal(t.idle_tx_age_ms, 30000);
	t.max_idle_tx = 0;
	assert_true(check_any_set(&t));
	check_thresholds_init(&t);
	t.fail_on_growth = true;
	assert_true(check_any_set(&t));
}

/* Not evaluated is not ok either, and carries why and what to do. */
static void test_unevaluated(void **state)
{
	struct check_list list;
	const struct check_result *c;

	(void)state;
	check_list_init(&list);
	check_list_add(&list, "max-total", "total", 10, 5, true);
	check_list_add_unevaluated(&list, "max-idle-tx", "idle in transaction",
				   0, 1, "2 hidden", "GRANT pg_monitor TO a");
	assert_true(list.items[0].evaluated);
	assert_string_equal(list.items[0].reason, "");
	c = &list.items[1];
	assert_false(c->ok);
	assert_false(c->evaluated);
	assert_string_equal(c->reason, "2 hidden");
	assert_string_equal(c->hint, "GRANT pg_monitor TO a");
	assert_int_equal(check_list_failures(&list), 0);
	check_list_finish(&list);
}

static void test_long_where_is_cut(void **state)
{
	struct check_list list;
	char where[2048];

	(void)state;
	memset(where, 'x', sizeof(where) - 1);
	where[sizeof(where) - 1] = '\0';
	check_list_init(&list);
	check_list_add(&list, "max-per-group", where, 1, 2, false);
	assert_true(strlen(list.items[0].where) < sizeof(list.items[0].where));
	check_list_finish(&list);
	check_list_finish(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_unevaluated),
		cmocka_unit_test(test_long_where_is_cut),
	};

	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
