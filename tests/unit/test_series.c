/*
 * test_series.c - window rings, bucketing, run compaction and gaps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "series.h"

#include <math.h>

static void test_window_evicts_old_points(void **state)
{
	struct series s;

	(void)state;
	series_init(&s, 60, 1);
	for (int t = 0; t < 1000; t++) {
		series_push(&s, t, t);
	}
	/* 60 s window at 1 s: 61 points, oldest first. */
	assert_int_equal(series_count(&s), 61);
	assert_float_equal(series_at(&s, 0).t_s, 939, 0);
	assert_float_equal(series_at(&s, 60).value, 999, 0);
	for (size_t i = 1; i < series_count(&s); i++) {
		assert_true(series_at(&s, i).t_s > series_at(&s, i - 1).t_s);
	}
	series_free(&s);
}

static void test_ring_capacity(void **state)
{
	struct series s;

	(void)state;
	/* A window larger than the ring at this interval: buckets. */
	series_init(&s, 3600, 1);
	assert_true(s.bucket_s > 1);
	for (int t = 0; t < 10000; t++) {
		series_push(&s, t, 7);
	}
	assert_true(series_count(&s) <= SERIES_CAPACITY);
	assert_true(series_at(&s, series_count(&s) - 1).t_s >=
		    9990 - s.bucket_s);
	assert_true(series_at(&s, 0).t_s >= 10000 - 3600 - s.bucket_s);
	assert_float_equal(series_at(&s, 3).value, 7, 1e-6);
	series_free(&s);
}

static void test_bucket_mean(void **state)
{
	struct series s;

	(void)state;
	series_init(&s, 300, 0.1);
	/* 300 s / 511 buckets: ~0.59 s each, so 100 ms samples share. */
	for (int i = 0; i < 6; i++) {
		series_push(&s, i * 0.1, i < 3 ? 0 : 6);
	}
	assert_int_equal(series_count(&s), 1);
	assert_float_equal(series_at(&s, 0).value, 3, 1e-6);
	series_free(&s);
}

static void test_run_compaction(void **state)
{
	struct series s;
	size_t n;

	(void)state;
	/* 24 hours at 100 ms: 864,000 samples into 512 points. */
	series_init_run(&s, 0.1);
	for (long i = 0; i < 864000; i++) {
		series_push(&s, i * 0.1, i < 432000 ? 1 : 3);
	}
	n = series_count(&s);
	assert_true(n <= SERIES_CAPACITY);
	assert_true(n >= SERIES_CAPACITY / 2);
	assert_float_equal(series_at(&s, 0).t_s, 0, 0);
	assert_true(series_at(&s, n - 1).t_s > 86000);
	assert_float_equal(series_at(&s, 0).value, 1, 1e-6);
	assert_float_equal(series_at(&s, n - 1).value, 3, 1e-6);
	for (size_t i = 1; i < n; i++) {
		assert_true(series_at(&s, i).t_s > series_at(&s, i - 1).t_s);
	}
	series_free(&s);
}

static void test_gaps(void **state)
{
	struct series s;

	(void)state;
	series_init(&s, 300, 1);
	series_push(&s, 0, 5);
	series_push(&s, 1, 5);
	series_mark_gap(&s);
	series_mark_gap(&s);
	series_push(&s, 10, 0);
	series_push(&s, 11, 1);
	assert_int_equal(series_count(&s), 4);
	assert_false(series_at(&s, 1).gap);
	assert_true(series_at(&s, 2).gap);
	assert_false(series_at(&s, 3).gap);
	series_free(&s);
}

static void test_bucket_grid(void **state)
{
	struct series s;
	size_t n;

	(void)state;
	/* 0.5 s samples into 300 s / 511 buckets (~0.59 s): most buckets
	 * hold one sample, so the window keeps its full resolution rather
	 * than one point per second. */
	series_init(&s, 300, 0.5);
	for (int i = 0; i <= 1200; i++) {
		series_push(&s, i * 0.5, i);
	}
	n = series_count(&s);
	assert_true(n >= SERIES_CAPACITY - 2);
	assert_true(n <= SERIES_CAPACITY);
	assert_true(series_at(&s, 0).t_s >= 300 - s.bucket_s);
	assert_float_equal(series_at(&s, n - 1).t_s, 600, s.bucket_s);
	series_free(&s);
}

static void test_flat(void **state)
{
	struct series s;

	(void)state;
	series_init(&s, 10, 1);
	assert_true(series_is_flat(&s));
	for (int t = 0; t < 20; t++) {
		series_push(&s, t, 4);
	}
	assert_true(series_is_flat(&s));
	series_push(&s, 20, 5);
	assert_false(series_is_flat(&s));
	for (int t = 21; t < 30; t++) {
		series_push(&s, t, 5);
	}
	/* The 4 at 19 s is still in the window ... */
	assert_false(series_is_flat(&s));
	series_push(&s, 30, 5);
	/* ... and now it is not. */
	assert_true(series_is_flat(&s));
	series_free(&s);
}

static void test_gap_cleared_on_reuse(void **state)
{
	struct series s;

	(void)state;
	/* A window needing the whole ring, so its slots are reused. */
	series_init(&s, SERIES_CAPACITY - 1, 1);
	series_push(&s, 0, 1);
	series_mark_gap(&s);
	series_push(&s, 5, 1);
	for (int t = 6; t < 3 * SERIES_CAPACITY; t++) {
		series_push(&s, t, 1);
	}
	assert_int_equal(series_count(&s), SERIES_CAPACITY);
	for (size_t i = 0; i < series_count(&s); i++) {
		assert_false(series_at(&s, i).gap);
	}
	series_free(&s);
}

static void test_run_keeps_gap(void **state)
{
	struct series s;
	size_t gaps = 0;
	size_t n;

	(void)state;
	series_init_run(&s, 1);
	for (int t = 0; t < 5000; t++) {
		if (t == 2500) {
			series_mark_gap(&s);
		}
		series_push(&s, t, t < 2500 ? 10 : 0);
	}
	n = series_count(&s);
	assert_true(n <= SERIES_CAPACITY);
	for (size_t i = 0; i < n; i++) {
		if (series_at(&s, i).gap) {
			gaps++;
			/* The merged point holds the first sample after it. */
			assert_true(series_at(&s, i).t_s <= 2500);
			assert_true(series_at(&s, i).t_s + 2 * s.bucket_s >
				    2500);
		}
	}
	assert_int_equal(gaps, 1);
	assert_float_equal(series_at(&s, n - 1).value, 0, 1e-6);
	series_free(&s);
}

static void test_grows_in_order(void **state)
{
	struct series s;
	size_t n;

	(void)state;
	/* Sparse points first, so the oldest drop and the ring wraps
	 * before it must grow; then dense ones, through every growth. */
	series_init(&s, 100, 1);
	for (int t = 0; t <= 200; t += 50) {
		if (t == 150) {
			series_mark_gap(&s);
		}
		series_push(&s, t, t);
	}
	assert_int_equal(series_count(&s), 3);
	for (int t = 201; t <= 299; t++) {
		series_push(&s, t, t);
	}
	n = series_count(&s);
	assert_int_equal(n, 100);
	assert_float_equal(series_at(&s, 0).t_s, 200, 0);
	for (size_t i = 0; i < n; i++) {
		assert_float_equal(series_at(&s, i).value, 200 + (double)i, 0);
		assert_false(series_at(&s, i).gap);
	}
	series_free(&s);
	assert_int_equal(series_count(&s), 0);
	/* Usable again, and a gap set before a growth stays on its point. */
	series_init(&s, 300, 1);
	for (int t = 0; t < 40; t++) {
		if (t == 5 || t == 33) {
			series_mark_gap(&s);
		}
		series_push(&s, t, 1);
	}
	for (size_t i = 0; i < series_count(&s); i++) {
		assert_int_equal(series_at(&s, i).gap, i == 5 || i == 33);
	}
	series_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_evicts_old_points),
		cmocka_unit_test(test_ring_capacity),
		cmocka_unit_test(test_bucket_mean),
		cmocka_unit_test(test_run_compaction),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_bucket_grid),
		cmocka_unit_test(test_flat),
		cmocka_unit_test(test_gap_cleared_on_reuse),
		cmocka_unit_test(test_run_keeps_gap),
		cmocka_unit_test(test_grows_in_order),
	};

	return cmocka_run_group_tests_name("series", tests, NULL, NULL);
}
