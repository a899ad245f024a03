/*
 * test_units.c - strict parsing of durations, counts, percentages and
 * rates; human duration formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "units.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct duration_case {
	const char *text;
	bool ok;
	int64_t ms;
};

static const struct duration_case durations[] = {
	{"250ms", true, 250},
	{"2s", true, 2000},
	{"1.5m", true, 90000},
	{"1h", true, 3600000},
	{"3", true, 3000},
	{"0", true, 0},
	{"0s", true, 0},
	{"2min", true, 120000},
	{"0.25s", true, 250},
	{"30sec", true, 30000},
	{"720h", true, 2592000000LL},
	{"", false, 0},
	{" 5", false, 0},
	{"5 ", false, 0},
	{"-1s", false, 0},
	{"+1s", false, 0},
	{"1e3", false, 0},
	{"inf", false, 0},
	{"nan", false, 0},
	{"10x", false, 0},
	{"s", false, 0},
	{".5s", false, 0},
	{"1.s", false, 0},
	{"0x10", false, 0},
	{"721h", false, 0},
	{"99999999999999999999", false, 0},
	{"1h30m", false, 0},
	{"5S", false, 0},
};

static void test_durations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		const struct duration_case *c = &durations[i];
		struct errbuf err = {{0}};
		int64_t ms = -42;
		bool ok = units_parse_duration_ms(c->text, &ms, &err);

		if (ok != c->ok) {
			fail_msg("\"%s\": got %d, want %d", c->text, ok, c->ok);
		}
		if (ok) {
			assert_int_equal(ms, c->ms);
		} else {
			assert_non_null(strstr(err.msg, c->text));
			assert_int_equal(ms, -42);
		}
	}
}

struct count_case {
	const char *text;
	bool ok;
	int value;
};

static const struct count_case counts[] = {
	{"0", true, 0},
	{"10", true, 10},
	{"2147483647", true, 2147483647},
	{"2147483648", false, 0},
	{"-1", false, 0},
	{"", false, 0},
	{"1.0", false, 0},
	{"abc", false, 0},
	{"5 ", false, 0},
	{"0x5", false, 0},
};

static void test_counts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct errbuf err = {{0}};
		int v = -1;

		assert_int_equal(units_parse_count(counts[i].text, &v, &err),
				 counts[i].ok);
		if (counts[i].ok) {
			assert_int_equal(v, counts[i].value);
		} else {
			assert_true(err.msg[0] != '\0');
		}
	}
}

struct real_case {
	const char *text;
	bool ok;
	double value;
};

static const struct real_case percents[] = {
	{"80", true, 80},  {"80%", true, 80},  {"12.5", true, 12.5},
	{"0", true, 0},    {"100", true, 100}, {"100.5", false, 0},
	{"150", false, 0}, {"-5", false, 0},   {"80%%", false, 0},
	{"%", false, 0},   {"", false, 0},
};

static const struct real_case rates[] = {
	{"5/min", true, 5}, {"5/m", true, 5},    {"0.5/s", true, 30},
	{"120/h", true, 2}, {"7", true, 7},      {"1/sec", true, 60},
	{"0", false, 0},    {"0/min", false, 0}, {"5/day", false, 0},
	{"-1/s", false, 0}, {"/s", false, 0},    {"", false, 0},
};

static void check_reals(const struct real_case *cases, size_t n,
			bool (*parse)(const char *, double *, struct errbuf *))
{
	for (size_t i = 0; i < n; i++) {
		struct errbuf err = {{0}};
		double v = -1;
		bool ok = parse(cases[i].text, &v, &err);

		if (ok != cases[i].ok) {
			fail_msg("\"%s\": got %d", cases[i].text, ok);
		}
		if (ok) {
			assert_float_equal(v, cases[i].value, 1e-9);
		} else {
			assert_non_null(strstr(err.msg, cases[i].text));
		}
	}
}

static void test_percents_and_rates(void **state)
{
	(void)state;
	check_reals(percents, sizeof(percents) / sizeof(percents[0]),
		    units_parse_percent);
	check_reals(rates, sizeof(rates) / sizeof(rates[0]),
		    units_parse_rate_per_min);
}

struct format_case {
	double seconds;
	const char *text;
};

static const struct format_case formats[] = {
	{0, "0ms"},
	{0.85, "850ms"},
	{0.9996, "1.0s"},
	{12.44, "12.4s"},
	{59.99, "59.9s"},
	{60, "1m00s"},
	{250, "4m10s"},
	{3599, "59m59s"},
	{3600, "1h00m"},
	{7500, "2h05m"},
	{86400, "1d00h"},
	{273600, "3d04h"},
	{-1, "-"},
	{NAN, "-"},
	{INFINITY, "inf"},
	/* Huge values (a forged record): no overflow, a readable number. */
	{8.64e13 - 1, "999999999d23h"},
	{8.64e13, "1e+09d"},
	{1e308, "1.16e+303d"},
	{DBL_MAX, "2.08e+303d"},
	{9.3e18, "1.08e+14d"},
};

static void test_format_duration(void **state)
{
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		assert_string_equal(units_format_duration(buf, sizeof(buf),
							  formats[i].seconds),
				    formats[i].text);
	}
	/* Always terminated, even when cut. */
	assert_string_equal(units_format_duration(buf, 3, 250), "4m");
}

static void test_format_utc(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(units_format_utc(buf, sizeof(buf), 951782400.75,
					     UTC_DATE_TIME_ZONE),
			    "2000-02-29 00:00:00 UTC");
	assert_string_equal(units_format_utc(buf, sizeof(buf), 1795429418,
					     UTC_DATE_TIME),
			    "2026-11-23 10:23:38");
	assert_string_equal(units_format_utc(buf, sizeof(buf), 1795429418,
					     UTC_TIME_ZONE),
			    "10:23:38 UTC");
	/* Unknown, negative, past year 9999, or no room: a dash. */
	assert_string_equal(units_format_utc(buf, sizeof(buf), NAN,
					     UTC_TIME_ZONE),
			    "-");
	assert_string_equal(units_format_utc(buf, sizeof(buf), -1,
					     UTC_TIME_ZONE),
			    "-");
	assert_string_equal(units_format_utc(buf, sizeof(buf), 1e15,
					     UTC_TIME_ZONE),
			    "-");
	assert_string_equal(units_format_utc(buf, 8, 1795429418, UTC_DATE_TIME),
			    "-");
}

/* Bit for bit what strtod() gives, fast path or not. */
static void assert_like_strtod(const char *text)
{
	double want = strtod(text, NULL);
	double got = units_parse_number(text);

	if (memcmp(&want, &got, sizeof(want)) != 0) {
		fail_msg("\"%s\": %.17g, strtod %.17g", text, got, want);
	}
}

static void test_parse_number(void **state)
{
	static const char *const exact[] = {"0",
					    "-0",
					    "1",
					    "42",
					    "1796129474.242073",
					    "1796129474.24207",
					    "1796129474.2",
					    "1796129474",
					    "0.000001",
					    "-5.5",
					    ".5",
					    "1.",
					    "9007199254740992",
					    "9007199254740993",
					    "123456789012345678",
					    "0.1",
					    "0.3",
					    "2.675",
					    "1e5",
					    "1.5E-3",
					    "Infinity",
					    "-Infinity",
					    "12345678901234567890123",
					    "0.0000000000000000000000001"};
	char buf[64];
	unsigned seed = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		assert_like_strtod(exact[i]);
	}
	/* Epochs as date_part() writes them, with 0 to 6 decimals. */
	for (int i = 0; i < 200000; i++) {
		unsigned long long whole;
		unsigned frac;
		int places;

		seed = seed * 1103515245u + 12345u;
		whole = 1000000000ull + seed % 900000000u;
		seed = seed * 1103515245u + 12345u;
		frac = seed % 1000000u;
		places = (int)(seed >> 28) % 7;
		if (places == 0) {
			snprintf(buf, sizeof(buf), "%llu", whole);
		} else {
			snprintf(buf, sizeof(buf), "%llu.%0*u", whole, places,
				 frac % (unsigned)pow(10, places));
		}
		assert_like_strtod(buf);
	}
	assert_true(isnan(units_parse_number(NULL)));
	assert_true(isnan(units_parse_number("")));
	assert_true(isnan(units_parse_number("-")));
	assert_true(isnan(units_parse_number(".")));
	assert_true(isnan(units_parse_number("1.2.3")));
	assert_true(isnan(units_parse_number("12x")));
	assert_true(isnan(units_parse_number(" 12")));
	assert_true(isnan(units_parse_number("1e999")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_percents_and_rates),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_format_utc),
		cmocka_unit_test(test_parse_number),
	};

	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
