/*
 * test_json.c - the JSON writer: escaping of every hostile byte, numbers,
 * nesting, and a validity check of everything it writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support.h"

#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *escaped(const char *s, size_t len)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	json_write_escaped(f, s, len);
	fclose(f);
	return out;
}

struct escape_case {
	const char *in;
	size_t len;
	const char *out;
};

#define CASE(s, o)                  \
	{                           \
		s, sizeof(s) - 1, o \
	}
static const struct escape_case escapes[] = {
	CASE("plain", "\"plain\""),
	/* A name's backslash stays one in the value (two in the JSON),
	 * but doubles where it could start the \xNN of a byte. */
	CASE("q\"b\\", "\"q\\\"b\\\\\""),
	CASE("C:\\dir\\app.exe", "\"C:\\\\dir\\\\app.exe\""),
	CASE("\\xff", "\"\\\\\\\\xff\""),
	CASE("\\\xff", "\"\\\\\\\\\\\\xff\""),
	CASE("\x1b[31m", "\"\\u001b[31m\""),
	CASE("a\nb\tc\r", "\"a\\nb\\tc\\r\""),
	CASE("\a\x7f", "\"\\u0007\\u007f\""),
	CASE("caf\xc3\xa9", "\"caf\xc3\xa9\""),
	CASE("bad\xff", "\"bad\\\\xff\""),
	CASE("\xc0\xaf", "\"\\\\xc0\\\\xaf\""),
	CASE("\xe2\x80\xa8", "\"\\u2028\""),
	/* invisible and bidi characters: \u escapes, valid JSON */
	CASE("z\xe2\x80\x8bw", "\"z\\u200bw\""),
	CASE("a\xe2\x80\xae", "\"a\\u202e\""),
	CASE("\xef\xbb\xbf", "\"\\ufeff\""),
	CASE("\xf3\xa0\x80\x81", "\"\\udb40\\udc01\""),
	CASE("\xc2\x9b", "\"\\u009b\""),
	CASE("nul\0in", "\"nul\\u0000in\""),
	CASE("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""),
};

static void test_escapes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		char *out = escaped(escapes[i].in, escapes[i].len);

		assert_string_equal(out, escapes[i].out);
		assert_true(support_json_valid(out));
		free(out);
	}
}

static void test_every_byte_pair(void **state)
{
	char in[2];

	(void)state;
	for (int a = 0; a < 256; a++) {
		for (int b = 0; b < 256; b += 7) {
			char *out;

			in[0] = (char)a;
			in[1] = (char)b;
			out = escaped(in, 2);
			if (!support_json_valid(out)) {
				fail_msg("bytes %02x %02x gave %s", a, b, out);
			}
			free(out);
		}
	}
}

static void test_document(void **state)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f;
	struct json_writer w;

	(void)state;
	for (int pretty = 0; pretty <= 1; pretty++) {
		f = open_memstream(&out, &size);
		json_init(&w, f, pretty);
		json_begin_object(&w);
		json_key(&w, "n");
		json_int(&w, -42);
		json_key(&w, "d");
		json_double(&w, 43.30, 1);
		json_key(&w, "nan");
		json_double(&w, NAN, 2);
		json_key(&w, "list");
		json_begin_array(&w);
		json_double(&w, 0.5, 3);
		json_double(&w, 10.0, 3);
		json_double(&w, -0.0001, 2);
		json_double(&w, 1e300, 1);
		json_double(&w, -INFINITY, 1);
		json_double(&w, 75.25, 1);
		json_double(&w, 1234567.125, 9);
		json_bool(&w, true);
		json_null(&w);
		json_string(&w, NULL);
		json_begin_object(&w);
		json_end_object(&w);
		json_begin_array(&w);
		json_end_array(&w);
		json_end_array(&w);
		json_key(&w, "s");
		json_string_len(&w, "a\x1b", 2);
		json_end_object(&w);
		fclose(f);
		assert_true(support_json_valid(out));
		if (!pretty) {
			assert_string_equal(
				out,
				"{\"n\":-42,\"d\":43.3,\"nan\":null,\"list\":"
				"[0.5,10,0,1e+300,null,75.2,1234567.125,"
				"true,null,null,{},[]],\"s\":"
				"\"a\\u001b\"}");
		}
		free(out);
		out = NULL;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_every_byte_pair),
		cmocka_unit_test(test_document),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
