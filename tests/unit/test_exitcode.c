/*
 * test_exitcode.c - the run's exit-code policy: a server never reached,
 * several servers' codes made one, a failed write after the checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support.h"

#include "check.h"
#include "exitcode.h"

static void test_unreached(void **state)
{
	(void)state;
	assert_int_equal(exitcode_unreached(true), PGD_EXIT_CHECK_FAILED);
	assert_int_equal(exitcode_unreached(false), PGD_EXIT_UNAVAILABLE);
}

struct fleet_case {
	const char *what;
	int codes[3];
	size_t count;
	int status;
};

static const struct fleet_case fleet_cases[] = {
	{"none", {0}, 0, PGD_EXIT_OK},
	{"all pass", {0, 0, 0}, 3, PGD_EXIT_OK},
	{"one unreachable", {0, 3, 0}, 3, PGD_EXIT_UNAVAILABLE},
	{"a failed check wins over unreachable",
	 {3, 1, 0},
	 3,
	 PGD_EXIT_CHECK_FAILED},
	{"a failed check first", {1, 3, 3}, 3, PGD_EXIT_CHECK_FAILED},
	{"one server: its own code", {3}, 1, PGD_EXIT_UNAVAILABLE},
};

static void test_fleet(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(fleet_cases); i++) {
		const struct fleet_case *c = &fleet_cases[i];
		int got = exitcode_fleet(c->codes, c->count);

		if (got != c->status) {
			fail_msg("%s: %d, expected %d", c->what, got,
				 c->status);
		}
	}
}

static void test_write_error(void **state)
{
	(void)state;
	assert_int_equal(exitcode_after_write_error(PGD_EXIT_OK),
			 PGD_EXIT_UNAVAILABLE);
	assert_int_equal(exitcode_after_write_error(PGD_EXIT_CHECK_FAILED),
			 PGD_EXIT_CHECK_FAILED);
	/* a wrapped command's own status stands */
	assert_int_equal(exitcode_after_write_error(7), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreached),
		cmocka_unit_test(test_fleet),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
