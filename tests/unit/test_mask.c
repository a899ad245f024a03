/*
 * test_mask.c - passwords out of command lines: URIs of any scheme,
 * KEY=VALUE in every common spelling, "--password VALUE", mysql's
 * -pSECRET but not psql's -p5432; a command line cut short; and what
 * must stay as it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ARGS = 8 };

struct line_case {
	const char *argv[MAX_ARGS]; /* NULL-terminated */
	const char *shown;          /* the result, arguments joined by ' ' */
};

/* Every secret in these cases holds "sEcr": none may be left. */
static const struct line_case lines[] = {
	/* URIs: libpq's, anywhere in an argument, and any other scheme */
	{{"psql", "postgresql://app:sEcret@db:5432/shop"},
	 "psql postgresql://app:***@db:5432/shop"},
	{{"psql", "postgres://app:sEcret@db/shop?sslmode=require"},
	 "psql postgres://app:***@db/shop?sslmode=require"},
	{{"psql", "--dbname=postgresql://app:sEcret@db/shop"},
	 "psql --dbname=postgresql://app:***@db/shop"},
	{{"sh", "-c", "psql postgresql://u:sEcret@h/db -c 'select 1'"},
	 "sh -c psql postgresql://u:***@h/db -c 'select 1'"},
	{{"env", "DATABASE_URL=postgres://u:sEcret@h/db", "node", "app.js"},
	 "env DATABASE_URL=postgres://u:***@h/db node app.js"},
	{{"mysql", "mysql://root:sEcret@127.0.0.1/x"},
	 "mysql mysql://root:***@127.0.0.1/x"},
	{{"curl", "https://bot:sEcret@example.com/a?b=c"},
	 "curl https://bot:***@example.com/a?b=c"},
	{{"psql", "postgresql://u:sE/cr@t@h/db"},
	 "psql postgresql://u:***@h/db"},
	{{"psql", "postgresql://u@h/db?password=sEcret&sslmode=require"},
	 "psql postgresql://u@h/db?password=***&sslmode=require"},
	{{"psql", "postgresql://h/db?sslmode=require&password=sEcret"},
	 "psql postgresql://h/db?sslmode=require&password=***"},
	{{"psql", "postgresql://h/db?pass%77ord=sEcret"},
	 "psql postgresql://h/db?pass%77ord=***"},
	/* conninfo strings, quoted values */
	{{"psql", "host=h password=sEcret dbname=d"},
	 "psql host=h password=*** dbname=d"},
	{{"psql", "host=h password='a sEcret' dbname=d"},
	 "psql host=h password=*** dbname=d"},
	{{"psql", "host=h password = 'sEcr\\' x' dbname=d"},
	 "psql host=h password = *** dbname=d"},
	{{"psql", "password=\"a sEcret\" host=h"}, "psql password=*** host=h"},
	{{"psql", "host=h password='sEcret"}, "psql host=h password=***"},
	/* options and the environment, in any spelling */
	{{"tool", "--password=sEcret"}, "tool --password=***"},
	{{"tool", "--db-password=sEcret", "-v"}, "tool --db-password=*** -v"},
	{{"tool", "--Password=sEcret"}, "tool --Password=***"},
	{{"tool", "--passwd=sEcret"}, "tool --passwd=***"},
	{{"tool", "-password=sEcret"}, "tool -password=***"},
	{{"env", "PGPASSWORD=sEcret", "psql"}, "env PGPASSWORD=*** psql"},
	{{"env", "DB_PASS=sEcret", "MYSQL_PWD=sEcret", "x"},
	 "env DB_PASS=*** MYSQL_PWD=*** x"},
	{{"sh", "-c", "PGPASSWORD=sEcret pg_dump shop"},
	 "sh -c PGPASSWORD=*** pg_dump shop"},
	{{"sh", "-c", "export PGPASSWORD=\"a sEcret\"; psql"},
	 "sh -c export PGPASSWORD=***; psql"},
	{{"tool", "--password", "sEcret", "--host", "h"},
	 "tool --password *** --host h"},
	{{"tool", "--passwd", "sEcret"}, "tool --passwd ***"},
	{{"tool", "-password", "sEcret"}, "tool -password ***"},
	/* psql's --password prompts: what follows is an option, kept */
	{{"psql", "--password", "-h", "db"}, "psql --password -h db"},
	/* -p: mysql's password, psql's port */
	{{"mysql", "-uroot", "-psEcret", "shop"}, "mysql -uroot -p*** shop"},
	{{"/usr/bin/mysqldump", "-p12345sEcr"}, "/usr/bin/mysqldump -p***"},
	{{"mariadb", "-p1234"}, "mariadb -p***"},
	{{"mysql", "-p1234"}, "mysql -p***"},
	{{"psql", "-p5432", "-h", "db"}, "psql -p5432 -h db"},
	{{"psql", "-p5432,5433"}, "psql -p5432,5433"},
	{{"pg_dump", "-p", "5432", "shop"}, "pg_dump -p 5432 shop"},
	{{"tool", "-psEcret"}, "tool -p***"},
	{{"mysql", "-p", "shop"}, "mysql -p shop"},
	/* nothing to hide: left exactly as it was */
	{{"python3", "-m", "pytest", "tests/"}, "python3 -m pytest tests/"},
	{{"psql", "postgresql://u@h:5432/db"}, "psql postgresql://u@h:5432/db"},
	{{"psql", "postgresql://h:5432/db?application_name=a@b"},
	 "psql postgresql://h:5432/db?application_name=a@b"},
	{{"psql", "--no-password", "db"}, "psql --no-password db"},
	{{"env", "PGPASSFILE=/etc/pgpass", "psql"},
	 "env PGPASSFILE=/etc/pgpass psql"},
	{{"psql", "-c", "select 1 = 1"}, "psql -c select 1 = 1"},
	{{"psql", "-c", "passive = true"}, "psql -c passive = true"},
	{{"ssh", "-p2222", "host"}, "ssh -p2222 host"},
	{{"x", "", "a"}, "x  a"},
	/* any option named like a password takes the next argument */
	{{"tool", "--dbpass", "sEcret"}, "tool --dbpass ***"},
	{{"tool", "--db-pwd", "sEcret", "-v"}, "tool --db-pwd *** -v"},
	{{"tool", "--no-passwd", "db"}, "tool --no-passwd db"},
	{{"tool", "--passfile", "/etc/pgpass"}, "tool --passfile /etc/pgpass"},
	/* JSON and Python dicts: a password key's value */
	{{"node", "app.js", "{\"password\":\"sEcret\"}"},
	 "node app.js {\"password\":***}"},
	{{"x",
	  "{\"user\": \"u\", \"db_password\": \"a sEcr\\\" t\", \"h\": 1}"},
	 "x {\"user\": \"u\", \"db_password\": ***, \"h\": 1}"},
	{{"python3", "-c", "connect(**{'password': 'sEcret'})"},
	 "python3 -c connect(**{'password': ***})"},
	{{"x", "{\"PASSWORD\":12345sEcr,\"a\":1}"},
	 "x {\"PASSWORD\":***,\"a\":1}"},
	{{"x", "{\"passive\":\"yes\",\"url\":\"h:1\"}"},
	 "x {\"passive\":\"yes\",\"url\":\"h:1\"}"},
};

/* Joins argv as /proc/PID/cmdline holds it; returns its length. */
static size_t raw_of(const char *const *argv, char *raw, size_t size)
{
	size_t len = 0;

	for (size_t i = 0; i < MAX_ARGS && argv[i] != NULL; i++) {
		size_t n = strlen(argv[i]) + 1;

		assert_true(len + n <= size);
		memcpy(raw + len, argv[i], n);
		len += n;
	}
	return len;
}

/* The masked line, arguments joined by spaces. */
static char *mask(const char *raw, size_t len)
{
	size_t size = 3 * len + 16;
	char *out = malloc(size);
	size_t n;

	assert_non_null(out);
	n = mask_command_line(out, size, raw, len);
	assert_true(n < size);
	assert_int_equal(out[n], '\0');
	for (size_t i = 0; i + 1 < n; i++) {
		if (out[i] == '\0') {
			out[i] = ' ';
		}
	}
	if (n > 0 && out[n - 1] == '\0') {
		n--;
	}
	out[n] = '\0';
	return out;
}

static void test_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char raw[512];
		size_t len = raw_of(lines[i].argv, raw, sizeof(raw));
		char *got = mask(raw, len);

		if (strcmp(got, lines[i].shown) != 0 ||
		    strstr(got, "sEcr") != NULL) {
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got,
				 lines[i].shown);
		}
		free(got);
	}
}

/*
 * /proc/PID/cmdline read into a fixed buffer can end inside an argument,
 * even inside a URI before its '@': what is left of the password goes.
 */
static void test_cut_short(void **state)
{
	static const char full[] = "psql\0postgresql://app:sEcret@db/shop";
	static const char keyed[] = "psql\0host=h password=sEc";
	char *got;

	(void)state;
	for (size_t cut = 22; cut < sizeof(full) - 1; cut++) {
		got = mask(full, cut);
		assert_null(strstr(got, "sEc"));
		assert_non_null(strstr(got, "postgresql://app:"));
		free(got);
	}
	got = mask(keyed, sizeof(keyed) - 1);
	assert_string_equal(got, "psql host=h password=***");
	free(got);
	/* An argument that ends whole is not "cut": a port stays. */
	got = mask("psql\0postgresql://db:5432/shop", 31);
	assert_string_equal(got, "psql postgresql://db:5432/shop");
	free(got);
}

/* A buffer too small: cut, never past its end, still terminated. */
static void test_small_buffer(void **state)
{
	static const char raw[] = "psql\0password=sEcret\0";
	char out[8];

	(void)state;
	assert_int_equal(mask_command_line(out, sizeof(out), raw,
					   sizeof(raw) - 1),
			 7);
	assert_int_equal(out[7], '\0');
	assert_int_equal(mask_command_line(out, 0, raw, sizeof(raw) - 1), 0);
	assert_int_equal(mask_command_line(out, sizeof(out), "", 0), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests_name("mask", tests, NULL, NULL);
}
