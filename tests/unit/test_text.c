/*
 * test_text.c - the terminal sanitizer: no control byte and no invalid
 * UTF-8 passes; names that differ print differently; widths and cells
 * stay aligned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "text.h"

#include <stdlib.h>
#include <string.h>

struct sanitize_case {
	const char *in;
	bool utf8;
	const char *out;
	int width;
};

static const struct sanitize_case cases[] = {
	{"plain", true, "plain", 5},
	{"\x1b[31mred", true, "\\e[31mred", 9},
	{"bell\a", true, "bell\\x07", 8},
	{"a\r\nb\tc", true, "a\\r\\nb\\tc", 9},
	{"del\x7f", true, "del\\x7f", 7},
	{"caf\xc3\xa9", true, "caf\xc3\xa9", 4},
	{"caf\xc3\xa9", false, "caf\\xc3\\xa9", 11},
	{"bad\xff", true, "bad\\xff", 7},
	{"trunc\xe2\x82", true, "trunc\\xe2\\x82", 13},
	{"overlong\xc0\xaf", true, "overlong\\xc0\\xaf", 16},
	{"surrogate\xed\xa0\x80", true, "surrogate\\xed\\xa0\\x80", 21},
	{"c1\xc2\x9b", true, "c1\\xc2\\x9b", 10},
	{"\xe5\x90\x8d\xe5\x89\x8d", true, "\xe5\x90\x8d\xe5\x89\x8d", 4},
	{"e\xcc\x81", true, "e\xcc\x81", 1},
	{"\xf0\x9f\x98\x80", true, "\xf0\x9f\x98\x80", 2},
	{"", true, "", 0},
	/* bidi overrides and isolates, U+2028: valid, still escaped */
	{"a\xe2\x80\xae"
	 "b",
	 true, "a\\xe2\\x80\\xaeb", 14},
	{"\xe2\x81\xa6x\xe2\x81\xa9", true, "\\xe2\\x81\\xa6x\\xe2\\x81\\xa9",
	 25},
	{"\xe2\x80\xa8", true, "\\xe2\\x80\\xa8", 12},
	{"\xe2\x80\x8f", true, "\\xe2\\x80\\x8f", 12},
	/* zero-width and format characters: escaped, so "z\u200bw" never
	 * prints as "zw" (the joiners too); a no-break space passes */
	{"z\xe2\x80\x8bw", true, "z\\xe2\\x80\\x8bw", 14},
	{"\xe2\x80\x8d\xc2\xa0", true, "\\xe2\\x80\\x8d\xc2\xa0", 13},
	{"\xef\xbb\xbf\xc2\xad\xe2\x81\xa0", true,
	 "\\xef\\xbb\\xbf\\xc2\\xad\\xe2\\x81\\xa0", 32},
	{"tag\xf3\xa0\x80\x81", true, "tag\\xf3\\xa0\\x80\\x81", 19},
	/* A backslash is doubled: every escape then stands for one byte,
	 * and the text \xff cannot pass for the byte 0xFF. */
	{"back\\slash", true, "back\\\\slash", 11},
	{"\\xff", true, "\\\\xff", 5},
	{"\xff", true, "\\xff", 4},
	{"\\\xff", true, "\\\\\\xff", 6},
	{"\\e\\n", false, "\\\\e\\\\n", 6},
	{"\xf4\x90\x80\x80", true, "\\xf4\\x90\\x80\\x80", 16},
	{"\xf4\x8f\xbf\xbf", true, "\xf4\x8f\xbf\xbf", 1},
	{"\xe0\x80\xaf", true, "\\xe0\\x80\\xaf", 12},
	{"\xef\xbc\xa1", true, "\xef\xbc\xa1", 2},
	{"\xef\xbc\xa1", false, "\\xef\\xbc\\xa1", 12},
};

static bool has_raw_control(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f) {
			return true;
		}
	}
	return false;
}

static void test_sanitize(void **state)
{
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sanitize_case *c = &cases[i];
		int w = text_sanitize(buf, sizeof(buf), c->in, strlen(c->in),
				      c->utf8);

		assert_string_equal(buf, c->out);
		assert_int_equal(w, c->width);
		assert_int_equal(text_width(buf, c->utf8), c->width);
		assert_false(has_raw_control(buf));
	}
}

static void test_sanitize_small_buffer(void **state)
{
	char buf[6];

	(void)state;
	/* Never half an escape or half a character. */
	text_sanitize(buf, 4, "ab\x1b[x", 5, true);
	assert_string_equal(buf, "ab");
	text_sanitize(buf, sizeof(buf), "ab\x1b[x", 5, true);
	assert_string_equal(buf, "ab\\e[");
	text_sanitize(buf, sizeof(buf), "abcd\xc3\xa9", 6, true);
	assert_string_equal(buf, "abcd");
	text_sanitize(buf, 1, "abc", 3, true);
	assert_string_equal(buf, "");
}

static void test_every_byte(void **state)
{
	char in[2];
	char buf[16];

	(void)state;
	for (int b = 1; b < 256; b++) {
		in[0] = (char)b;
		in[1] = '\0';
		text_sanitize(buf, sizeof(buf), in, 1, true);
		assert_false(has_raw_control(buf));
		if (b >= 0x80) {
			/* a lone high byte is never valid UTF-8 */
			assert_int_equal(buf[0], '\\');
		}
	}
}

/*
 * No two names print alike: every string of up to three bytes drawn from
 * those escapes are made of reads back from its sanitized text, in both
 * modes.  (text_unescape() is a function, so equal texts would have had
 * to come from equal names.)
 */
static void test_unescape_roundtrip(void **state)
{
	static const char alphabet[] = {'\\', 'x',  'f',    'e',
					'n',  '1',  '\xff', '\x1b',
					'\n', '\0', '\xc3', '\xa9'};
	const size_t k = sizeof(alphabet);

	(void)state;
	for (int utf8 = 0; utf8 <= 1; utf8++) {
		for (size_t n = 0; n < k * k * k; n++) {
			char in[3] = {alphabet[n % k], alphabet[n / k % k],
				      alphabet[n / k / k]};
			char buf[64];

			for (size_t len = 0; len <= 3; len++) {
				size_t back;

				text_sanitize(buf, sizeof(buf), in, len, utf8);
				back = text_unescape(buf, strlen(buf));
				if (back != len || memcmp(buf, in, len) != 0) {
					fail_msg("%zu bytes (%02x %02x %02x) "
						 "do not read back",
						 len, (unsigned char)in[0],
						 (unsigned char)in[1],
						 (unsigned char)in[2]);
				}
			}
		}
	}
}

/* text_unescape() on its own: what each escape stands for. */
static void test_unescape(void **state)
{
	static const struct {
		const char *in;
		const char *out;
		size_t len;
	} unescapes[] = {
		{"plain", "plain", 5},
		{"\\\\xff", "\\xff", 4},
		{"\\xff\\x1B", "\xff\x1b", 2},
		{"\\e\\n\\r\\t", "\x1b\n\r\t", 4},
		{"a\\x00b", "a\0b", 3}, /* a NUL byte comes back */
		/* what no escape makes stays as it is */
		{"\\q \\xZZ \\x4", "\\q \\xZZ \\x4", 11},
		{"end\\", "end\\", 4},
		{"", "", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(unescapes) / sizeof(unescapes[0]); i++) {
		char buf[64];

		strcpy(buf, unescapes[i].in);
		assert_int_equal(text_unescape(buf, strlen(buf)),
				 unescapes[i].len);
		assert_memory_equal(buf, unescapes[i].out, unescapes[i].len);
	}
}

static char *cell(const char *s, int width, bool right, bool utf8)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	text_write_cell(f, s, width, right, utf8);
	fclose(f);
	return out;
}

struct cell_case {
	const char *in;
	int width;
	bool right;
	bool utf8;
	const char *out;
};

static const struct cell_case cells[] = {
	{"api", 6, false, true, "api   "},
	{"api", 6, true, true, "   api"},
	{"application", 6, false, true, "appli\xe2\x80\xa6"},
	{"application", 6, false, false, "appli~"},
	{"\x1b[2J", 4, false, true, "\\e[\xe2\x80\xa6"},
	{"\xe5\x90\x8d\xe5\x89\x8d\xe5\x89\x8d", 5, false, true,
	 "\xe5\x90\x8d\xe5\x89\x8d\xe2\x80\xa6"},
	{"\xe5\x90\x8d", 4, false, true, "\xe5\x90\x8d  "},
	{"exact", 5, false, true, "exact"},
	{"free", -1, false, true, "free"},
	{NULL, 3, false, true, "   "},
	{"x\x1b", 2, false, true, "x\xe2\x80\xa6"},
	{"ab\x1b", 3, false, true, "ab\xe2\x80\xa6"},
	{"\xe5\x90\x8d", 1, false, true, "\xe2\x80\xa6"},
	{"e\xcc\x81tude", 3, false, true, "e\xcc\x81t\xe2\x80\xa6"},
	{"\xff\xfe", 6, true, false, " \\xff~"},
	{"\xff\xfe", 6, false, false, "\\xff~ "},
	{"", 0, false, true, ""},
};

static void test_cells(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		const struct cell_case *c = &cells[i];
		char *out = cell(c->in, c->width, c->right, c->utf8);

		assert_string_equal(out, c->out);
		if (c->width >= 0) {
			assert_int_equal(text_width(out, c->utf8), c->width);
		}
		free(out);
	}
}

static char *cut(const char *s, int width, bool utf8)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	text_write_cut(f, s, width, utf8);
	fclose(f);
	return out;
}

static const struct cell_case cuts[] = {
	{"api", 6, false, true, "api"},
	{"application", 6, false, true, "appli\xe2\x80\xa6"},
	{"\xff\xfe", 6, false, true, "\\xff\xe2\x80\xa6"},
	{"\xe5\x90\x8d\xe5\x89\x8d", 3, false, true,
	 "\xe5\x90\x8d\xe2\x80\xa6"},
	{"free\n", -1, false, false, "free\\n"},
	{NULL, 5, false, true, ""},
};

/* Cut, never padded: nothing ends in a space it did not have. */
static void test_cuts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		const struct cell_case *c = &cuts[i];
		char *out = cut(c->in, c->width, c->utf8);

		assert_string_equal(out, c->out);
		if (c->width >= 0) {
			assert_true(text_width(out, c->utf8) <= c->width);
		}
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_sanitize_small_buffer),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_unescape_roundtrip),
		cmocka_unit_test(test_cells),
		cmocka_unit_test(test_cuts),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
