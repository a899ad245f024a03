/*
 * test_pidmap.c - pid -> index: lookups, replacement, growth past the
 * size asked for, reset, and runs of consecutive pids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pidmap.h"

static void test_put_get(void **state)
{
	struct pidmap m = {0};
	size_t v = 0;

	(void)state;
	assert_false(pidmap_get(&m, 1, &v)); /* never filled */
	pidmap_reset(&m, 4);
	assert_false(pidmap_get(&m, 1, &v));
	assert_false(pidmap_get(&m, 0, &v));
	assert_false(pidmap_get(&m, -5, &v));
	pidmap_put(&m, 4242, 7);
	pidmap_put(&m, 17, 3);
	assert_true(pidmap_get(&m, 4242, &v));
	assert_int_equal(v, 7);
	assert_true(pidmap_get(&m, 17, &v));
	assert_int_equal(v, 3);
	pidmap_put(&m, 4242, 9); /* replaced, not added */
	assert_true(pidmap_get(&m, 4242, &v));
	assert_int_equal(v, 9);
	assert_int_equal(m.count, 2);
	pidmap_reset(&m, 2);
	assert_false(pidmap_get(&m, 4242, &v));
	assert_int_equal(m.count, 0);
	pidmap_finish(&m);
}

/* Far more entries than reset() was told of: it grows, nothing lost;
 * consecutive pids (backends forked in a row) and strided ones. */
static void test_growth(void **state)
{
	struct pidmap m = {0};
	size_t v;

	(void)state;
	pidmap_reset(&m, 1);
	for (int i = 0; i < 20000; i++) {
		pidmap_put(&m, 100000000 + i, (size_t)i);
		pidmap_put(&m, 1 + i * 4096, (size_t)i + 20000);
	}
	assert_int_equal(m.count, 40000);
	assert_true(m.cap >= 80000);
	for (int i = 0; i < 20000; i++) {
		assert_true(pidmap_get(&m, 100000000 + i, &v));
		assert_int_equal(v, i);
		assert_true(pidmap_get(&m, 1 + i * 4096, &v));
		assert_int_equal(v, i + 20000);
	}
	assert_false(pidmap_get(&m, 99999999, &v));
	pidmap_finish(&m);
	assert_int_equal(m.cap, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests_name("pidmap", tests, NULL, NULL);
}
