/*
 * test_columns.c - the width rule the tables share: columns shown in
 * order while they fit, stopping at the first that does not (the text
 * report) or going on past it (the live view), columns left out
 * beforehand skipped; and a name's width once sanitized.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "columns.h"
#include "support.h"

#include <string.h>

struct fit_case {
	const char *what;
	int widths[4];
	int room;
	enum columns_fit how;
	const char *shown; /* "1" shown, "0" not, per column */
	int left;
};

static const struct fit_case fit_cases[] = {
	{"all fit", {5, 6, 7, 8}, 30, COLUMNS_FIT_PREFIX, "1111", 4},
	{"a prefix", {5, 6, 9, 2}, 15, COLUMNS_FIT_PREFIX, "1100", 4},
	{"each that fits", {5, 6, 9, 2}, 15, COLUMNS_FIT_EACH, "1101", 2},
	{"left out beforehand: skipped, no stop",
	 {5, 0, 6, -1},
	 11,
	 COLUMNS_FIT_PREFIX,
	 "1010",
	 0},
	{"no room", {5, 6, 7, 8}, 4, COLUMNS_FIT_EACH, "0000", 4},
	{"less than none", {5, 6, 7, 8}, -3, COLUMNS_FIT_PREFIX, "0000", -3},
};

static void test_fit(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(fit_cases); i++) {
		const struct fit_case *c = &fit_cases[i];
		bool shown[4];
		char got[5];
		int room = c->room;

		columns_fit(c->widths, shown, 4, &room, c->how);
		for (int k = 0; k < 4; k++) {
			got[k] = shown[k] ? '1' : '0';
		}
		got[4] = '\0';
		if (strcmp(got, c->shown) != 0 || room != c->left) {
			fail_msg("%s: shown %s, %d left", c->what, got, room);
		}
	}
}

static void test_text_width(void **state)
{
	(void)state;
	assert_int_equal(columns_text_width(NULL, true), 0);
	assert_int_equal(columns_text_width("api", true), 3);
	/* Two wide characters, four columns. */
	assert_int_equal(columns_text_width("\xe5\x90\x8d\xe5\x89\x8d", true),
			 4);
	/* ESC shown as "\e". */
	assert_int_equal(columns_text_width("a\033b", true), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_text_width),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
