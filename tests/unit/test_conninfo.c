/*
 * test_conninfo.c - passwords masked in conninfo strings and URIs, and
 * scrubbed from messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conninfo.h"

#include <string.h>

static const struct {
	const char *in;
	const char *out;
} masks[] = {
	{"postgresql://u:s3cret@host:5432/db",
	 "postgresql://u:***@host:5432/db"},
	{"postgres://u:s3cret@host/db?sslmode=disable",
	 "postgres://u:***@host/db?sslmode=disable"},
	{"postgresql://u@host/db?password=s3cret&sslmode=require",
	 "postgresql://u@host/db?password=***&sslmode=require"},
	{"postgresql://host/db?sslmode=require&password=s3cret",
	 "postgresql://host/db?sslmode=require&password=***"},
	{"postgresql://u@host/db", "postgresql://u@host/db"},
	{"host=h password=s3cret dbname=d", "host=h password=*** dbname=d"},
	{"host=h password = 's3 cret\\' x' dbname=d",
	 "host=h password = *** dbname=d"},
	{"password=s3cret", "password=***"},
	{"dbname=x", "dbname=x"},
	{"mydb", "mydb"},
	/* conninfo: libpq's whitespace, quotes and escapes */
	{"password\r=s3cret host=h", "password\r=*** host=h"},
	{"host=h\vpassword=\fs3cret", "host=h\vpassword=\f***"},
	{"password='s3'\tport=1", "password=***\tport=1"},
	{"password=s3\\ cret port=1", "password=*** port=1"},
	{"password='s3 cret", "password=***"},
	{"password=", "password=***"},
	{"passwordx=s3cret", "passwordx=s3cret"},
	{"PASSWORD=s3cret", "PASSWORD=s3cret"},
	/* malformed: libpq rejects it, the password is still hidden */
	{"host=h junk password=s3cret", "host=h junk password=***"},
	{"junk password = s3cret", "junk password = ***"},
	/* URIs: percent-encoding, raw '/' or '@' in the password */
	{"postgresql://u:s3%40cret@h/db", "postgresql://u:***@h/db"},
	{"postgresql://u:s3/cret@h/db", "postgresql://u:***@h/db"},
	{"postgresql://u:s3@cret@h/db", "postgresql://u:***@h/db"},
	{"postgresql://:s3cret@h", "postgresql://:***@h"},
	{"postgresql://u:s3cret@h1:5432,h2:5433/db",
	 "postgresql://u:***@h1:5432,h2:5433/db"},
	{"postgresql://h:5432/db?application_name=a@b",
	 "postgresql://h:5432/db?application_name=a@b"},
	{"postgresql://h/db?pass%77ord=s3cret&x=1",
	 "postgresql://h/db?pass%77ord=***&x=1"},
	{"postgresql://h/db?%70%61ssword=s3cret",
	 "postgresql://h/db?%70%61ssword=***"},
	{"postgresql://h/db?passwordx=s3&password=s3cret",
	 "postgresql://h/db?passwordx=s3&password=***"},
	{"postgresql://h/db?x=1&password=s3cret?y=2",
	 "postgresql://h/db?x=1&password=***"},
	{"postgres://u:s3cret@", "postgres://u:***@"},
	{"postgresql://", "postgresql://"},
};

static void test_mask(void **state)
{
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		conninfo_mask_password(buf, sizeof(buf), masks[i].in);
		assert_string_equal(buf, masks[i].out);
		if (strstr(masks[i].out, "***") != NULL) {
			assert_null(strstr(buf, "cret"));
		}
	}
	conninfo_mask_password(buf, 8, "host=h password=s3cret");
	assert_int_equal(strlen(buf), 7);
	conninfo_mask_password(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "");
}

static void test_scrub(void **state)
{
	char buf[64];

	(void)state;
	strcpy(buf, "failed for s3cret and s3cret again");
	conninfo_scrub(buf, sizeof(buf), "s3cret");
	assert_string_equal(buf, "failed for *** and *** again");
	strcpy(buf, "x*y");
	conninfo_scrub(buf, sizeof(buf), "*");
	assert_string_equal(buf, "x***y");
	strcpy(buf, "ab");
	conninfo_scrub(buf, 4, "a");
	assert_string_equal(buf, "*b");
	strcpy(buf, "keep");
	conninfo_scrub(buf, sizeof(buf), "");
	conninfo_scrub(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "keep");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_scrub),
	};

	return cmocka_run_group_tests_name("conninfo", tests, NULL, NULL);
}
