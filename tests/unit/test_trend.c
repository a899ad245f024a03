/*
 * test_trend.c - the leak detector on synthetic series, fed one sample
 * at a time as the monitor does: leaks must be flagged in time, the
 * shapes that are not leaks never.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trend.h"

#include <math.h>
#include <stdio.h>

/* A deterministic PRNG, so noise is the same on every run. */
static uint32_t rng_state;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Shapes: the connection count at second t. */
static double noise(int amplitude)
{
	return (int)(rng() % (2 * amplitude + 1)) - amplitude;
}
static double steady(double t)
{
	(void)t;
	return 5;
}
static double noisy(double t)
{
	(void)t;
	return 10 + noise(2);
}
static double churn(double t)
{
	(void)t;
	return rng() % 5;
}
static double churn_wide(double t)
{
	(void)t;
	return rng() % 13;
}
static double leak_1s(double t)
{
	return 5 + floor(t);
}
static double leak_2s(double t)
{
	return 5 + floor(t / 2);
}
static double leak_6s(double t)
{
	return 5 + floor(t / 6);
}
static double leak_20s(double t)
{
	return 5 + floor(t / 20);
}
static double leak_10_per_s(double t)
{
	return 5 + 10 * floor(t);
}
static double noisy_leak(double t)
{
	return 10 + floor(t / 3) + noise(1);
}
/* Leaks that start after 200 s of a steady pool: a whole-window fit
 * would see mostly the flat past. */
static double late_leak_1s(double t)
{
	return t < 200 ? 5 : 6 + floor(t - 200);
}
static double late_leak_6s(double t)
{
	return t < 200 ? 5 : 6 + floor((t - 200) / 6);
}
static double late_noisy_leak(double t)
{
	return 10 + noise(1) + (t < 200 ? 0 : 1 + floor((t - 200) / 2));
}
static double warmup_then_leak(double t)
{
	return t < 20 ? floor(t) : t < 200 ? 20 : 21 + floor(t - 200);
}
static double warmup(double t)
{
	return t < 20 ? floor(t) : 20;
}
static double noisy_warmup(double t)
{
	return (t < 20 ? floor(t) : 20) + noise(1);
}
static double sawtooth_10(double t)
{
	return fmod(floor(t), 11);
}
static double noisy_sawtooth(double t)
{
	return 2 + fmod(floor(t), 11) + noise(1);
}
static double sawtooth_30(double t)
{
	return 5 + floor(fmod(t, 31) / 3);
}
static double sawtooth_40(double t)
{
	return floor(fmod(t, 41) / 2);
}
static double triangle(double t)
{
	double phase = fmod(floor(t), 20);

	return phase < 10 ? phase : 20 - phase;
}
static double burst(double t)
{
	return (t >= 30 && t < 43) ? (t < 31 ? 15 : 25) : 5;
}
static double short_burst(double t)
{
	return (t >= 30 && t < 33) ? 25 : 5;
}
static double ramped_burst(double t)
{
	/* 5 -> 25 over 3 s, held 10 s, back to 5, every 100 s. */
	double phase = fmod(t, 100);

	if (phase < 30 || phase >= 43) {
		return 5;
	}
	return phase < 33 ? 5 + floor(phase - 29) * 5 : 25;
}
static double resized(double t)
{
	return t < 100 ? 5 : t < 160 ? 10 : 15;
}
static double restart(double t)
{
	/* A pool at 20 until the server restarts at 60 s, then refilling
	 * quickly to 20 again. */
	if (t < 60) {
		return 20;
	}
	return fmin(20, floor(t - 60) * 4);
}
static double leak_across_gap(double t)
{
	/* A leak of 1 per 2 s; samples fail from 40 s to 50 s. */
	return 5 + floor(t / 2);
}
static double restart_to_zero(double t)
{
	/* A leak of 1/s until the server restarts at 100 s (a gap): the
	 * count drops to 0 and the leak goes on from there. */
	return t < 100 ? 5 + floor(t) : floor(t - 100);
}

struct shape_case {
	const char *name;
	double (*count)(double t);
	double duration_s;
	double flag_within_s;   /* after starts_s; < 0: never flagged */
	double ignore_before_s; /* non-leaks: verdicts before it don't count */
	double slope_per_min;   /* expected at the end, when > 0 */
	double starts_s;        /* the leak starts */
	double gap_from_s;      /* samples fail in [gap_from_s, gap_to_s) */
	double gap_to_s;
};

static const struct shape_case shapes[] = {
	{"steady pool", steady, 600, -1, 0, 0, 0, 0, 0},
	{"noisy pool", noisy, 600, -1, 0, 0, 0, 0, 0},
	{"churn", churn, 600, -1, 0, 0, 0, 0, 0},
	{"wide churn 0..12", churn_wide, 600, -1, 0, 0, 0, 0, 0},
	{"leak 1/s", leak_1s, 60, 15, 0, 60, 0, 0, 0},
	{"leak 1 per 2s", leak_2s, 120, 30, 0, 30, 0, 0, 0},
	{"leak 1 per 6s", leak_6s, 200, 60, 0, 10, 0, 0, 0},
	{"leak 1 per 20s", leak_20s, 600, 200, 0, 3, 0, 0, 0},
	{"leak 10/s", leak_10_per_s, 30, 10, 0, 600, 0, 0, 0},
	{"leak with noise", noisy_leak, 200, 60, 0, 20, 0, 0, 0},
	{"leak 1/s after 200s steady", late_leak_1s, 260, 15, 0, 60, 200, 0, 0},
	{"leak 1 per 6s after 200s steady", late_leak_6s, 400, 60, 0, 10, 200,
	 0, 0},
	{"noisy leak after 200s steady", late_noisy_leak, 300, 30, 0, 30, 200,
	 0, 0},
	{"leak after warm-up and hold", warmup_then_leak, 260, 15, 0, 60, 200,
	 0, 0},
	{"leak across a gap", leak_across_gap, 200, 30, 0, 30, 50, 40, 50},
	{"leak, restart to 0, leak", restart_to_zero, 160, 15, 0, 60, 100, 99,
	 100},
	/* May be flagged while it warms up, never once it holds. */
	{"warm-up then hold", warmup, 700, -1, 120, 0, 0, 0, 0},
	{"noisy warm-up then hold", noisy_warmup, 700, -1, 320, 0, 0, 0, 0},
	/* The first rise of a sawtooth is a leak as far as anyone can tell. */
	{"sawtooth 0..10", sawtooth_10, 600, -1, 15, 0, 0, 0, 0},
	{"noisy sawtooth 2..12", noisy_sawtooth, 600, -1, 15, 0, 0, 0, 0},
	{"sawtooth 5..15 over 30s", sawtooth_30, 600, -1, 35, 0, 0, 0, 0},
	{"sawtooth 0..20 over 40s", sawtooth_40, 600, -1, 45, 0, 0, 0, 0},
	{"triangle 0..10..0", triangle, 600, -1, 15, 0, 0, 0, 0},
	{"burst that comes back down", burst, 400, -1, 0, 0, 0, 0, 0},
	{"three-sample burst", short_burst, 200, -1, 0, 0, 0, 0, 0},
	{"ramped bursts", ramped_burst, 600, -1, 0, 0, 0, 0, 0},
	{"pool resized twice", resized, 600, -1, 0, 0, 0, 0, 0},
	{"restart and refill", restart, 200, -1, 0, 0, 0, 60, 61},
};

/* Noise seeds per shape. */
enum { SEEDS = 10 };

/* Feeds one shape sample by sample; returns when it was first flagged,
 * in seconds after the leak started (NAN: never). */
static double run_shape(const struct shape_case *c, uint32_t seed)
{
	struct series s;
	struct trend_params params;
	struct trend_result r;
	double first_flag = NAN;

	rng_state = seed;
	trend_default_params(&params);
	series_init(&s, 300, 1);
	for (double t = 0; t <= c->duration_s; t += 1) {
		double v = c->count(t);

		if (t >= c->gap_from_s && t < c->gap_to_s) {
			/* A failed sample: the monitor marks a gap. */
			series_mark_gap(&s);
			continue;
		}
		series_push(&s, t, v);
		trend_analyze(&s, &params, &r);
		if (r.flagged && isnan(first_flag) && t >= c->ignore_before_s &&
		    t >= c->starts_s) {
			first_flag = t;
		}
	}
	if (c->flag_within_s < 0) {
		series_free(&s);
		if (!isnan(first_flag)) {
			fail_msg("%s (seed %u): flagged at %.0fs", c->name,
				 seed, first_flag);
		}
		return NAN;
	}
	series_free(&s);
	if (isnan(first_flag) || first_flag - c->starts_s > c->flag_within_s) {
		fail_msg("%s (seed %u): first flagged %.0fs after it started, "
			 "want within %.0fs",
			 c->name, seed, first_flag - c->starts_s,
			 c->flag_within_s);
	}
	assert_true(r.flagged);
	assert_float_equal(r.slope_per_min, c->slope_per_min,
			   c->slope_per_min * 0.25);
	assert_true(r.net_growth >= 3);
	assert_true(r.confidence > 0.99);
	return first_flag - c->starts_s;
}

static void test_shapes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		double lo = INFINITY;
		double hi = -INFINITY;

		/* Noise-driven shapes over several seeds. */
		for (uint32_t seed = 1; seed <= SEEDS; seed++) {
			double at = run_shape(&shapes[i], seed * 2654435761u);

			lo = fmin(lo, at);
			hi = fmax(hi, at);
		}
		if (shapes[i].flag_within_s >= 0) {
			print_message("# %s: flagged after %.0f-%.0fs "
				      "(target %.0fs)\n",
				      shapes[i].name, lo, hi,
				      shapes[i].flag_within_s);
		}
	}
}

static void test_fast_sampling(void **state)
{
	static const double intervals[] = {0.1, 0.25, 0.5};
	static const double starts[] = {0, 100};

	(void)state;
	/* Faster samples: the window is bucketed; a 1/s leak is still
	 * flagged quickly, from the start or after a steady spell, and the
	 * slope is still per minute. */
	for (size_t i = 0; i < 3; i++) {
		for (size_t j = 0; j < 2; j++) {
			struct series s;
			struct trend_params params;
			struct trend_result r;
			double first = NAN;

			trend_default_params(&params);
			series_init(&s, 300, intervals[i]);
			for (int k = 0; k * intervals[i] <= starts[j] + 60;
			     k++) {
				double t = k * intervals[i];
				double v = t < starts[j]
						   ? 5
						   : 6 + floor(t - starts[j]);

				series_push(&s, t, v);
				trend_analyze(&s, &params, &r);
				if (r.flagged && isnan(first)) {
					first = t;
				}
			}
			series_free(&s);
			assert_true(first >= starts[j]);
			assert_true(first - starts[j] <= 15);
			assert_float_equal(r.slope_per_min, 60, 10);
		}
	}
}

static void test_wrap_range(void **state)
{
	struct series run;
	struct trend_params params;
	struct trend_result r;

	(void)state;
	trend_default_params(&params);
	/* A suite: 20 tests of 0.5 s each leak one connection, all close at
	 * exit (t = 10); 200 ms samples; then the settle samples. */
	series_init_run(&run, 0.2);
	for (int i = 0; i <= 75; i++) {
		double t = i * 0.2;

		series_push(&run, t, t <= 10 ? floor(t * 2) : 0);
	}
	trend_analyze_range(&run, 0, 10, &params, &r);
	assert_true(r.flagged);
	assert_float_equal(r.slope_per_min, 120, 20);
	/* The whole run, drop included, is not a leak. */
	trend_analyze(&run, &params, &r);
	assert_false(r.flagged);
	series_free(&run);
	/* The same suite closing each connection: 0/1 alternating. */
	series_init_run(&run, 0.2);
	for (int i = 0; i <= 50; i++) {
		series_push(&run, i * 0.2, i % 2);
	}
	trend_analyze_range(&run, 0, 10, &params, &r);
	series_free(&run);
	assert_false(r.flagged);
}

static void test_run_end_before_exit_drop(void **state)
{
	struct series run;
	struct trend_params params;
	struct trend_result r;
	double end;

	(void)state;
	trend_default_params(&params);
	/* A suite leaking 4/s for 6 s; the last sample before its exit was
	 * reaped already saw its connections gone (the race in wrap mode). */
	series_init_run(&run, 0.25);
	for (int i = 0; i <= 24; i++) {
		series_push(&run, i * 0.25, i);
	}
	series_push(&run, 6.25, 3);
	series_push(&run, 6.5, 0);
	end = trend_run_end_s(&run, 0, 6.5);
	assert_float_equal(end, 6.0, 1e-9);
	trend_analyze_range(&run, 0, end, &params, &r);
	assert_true(r.flagged);
	/* Without a fall, the range end stays. */
	assert_float_equal(trend_run_end_s(&run, 0, 5.0), 5.0, 1e-9);
	assert_float_equal(trend_run_end_s(&run, 10, 20), 20, 1e-9);
	series_free(&run);
}

static void test_too_little_data(void **state)
{
	struct series s;
	struct trend_params params;
	struct trend_result r;

	(void)state;
	trend_default_params(&params);
	series_init(&s, 300, 1);
	trend_analyze(&s, &params, &r);
	assert_false(r.flagged);
	assert_int_equal(r.points, 0);
	for (int t = 0; t < 4; t++) {
		series_push(&s, t, t * 10);
	}
	trend_analyze(&s, &params, &r);
	series_free(&s);
	assert_false(r.flagged);
	assert_float_equal(r.p_value, 1, 0);
}

struct forecast_case {
	double current;
	double slope;
	double limit;
	double seconds;
};

static const struct forecast_case forecasts[] = {
	{10, 60, 40, 30},        {0, 10, 50, 300},      {40, 60, 40, 0},
	{45, 60, 40, 0},         {10, 0, 40, INFINITY}, {10, -5, 40, INFINITY},
	{10, NAN, 40, INFINITY},
};

static void test_forecast(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(forecasts) / sizeof(forecasts[0]); i++) {
		const struct forecast_case *c = &forecasts[i];
		double s = trend_forecast_s(c->current, c->slope, c->limit);

		if (isinf(c->seconds)) {
			assert_true(isinf(s));
		} else {
			assert_float_equal(s, c->seconds, 1e-9);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_fast_sampling),
		cmocka_unit_test(test_wrap_range),
		cmocka_unit_test(test_run_end_before_exit_drop),
		cmocka_unit_test(test_too_little_data),
		cmocka_unit_test(test_forecast),
	};

	return cmocka_run_group_tests_name("trend", tests, NULL, NULL);
}
