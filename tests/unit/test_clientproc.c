/*
 * test_clientproc.c - the /proc text behind client attribution: socket
 * lines as the kernel prints them, stat lines with hostile command
 * names, command lines, fd links and socket paths, which of two holders
 * of a socket is named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clientproc.h"
#include "support.h"

#include <arpa/inet.h>
#include <string.h>

/* Lines captured from /proc/net/tcp and tcp6 on x86_64 (a big-endian
 * kernel prints the address words the other way round). */
static const char tcp_header[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
	"retrnsmt   uid  timeout inode\n";
static const char tcp_v4[] =
	"   3: 0100007F:D6A2 0100007F:D2F0 01 00000000:00000000 00:00000000 "
	"00000000     0        0 5412345 1 0000000000000000 20 4 30 10 -1\n";
static const char tcp_v6[] =
	"   0: 00000000000000000000000001000000:A3C4 "
	"00000000000000000000000001000000:1538 01 00000000:00000000 "
	"00:00000000 00000000   106        0 98765 1 0000000000000000 20 4 "
	"1 10 -1\n";
static const char tcp_v6_mapped[] =
	"   1: 0000000000000000FFFF00000100007F:9C40 "
	"0000000000000000FFFF00000100007F:1538 01 00000000:00000000 "
	"00:00000000 00000000     0        0 424242 1 0000000000000000 20 4 "
	"1 10 -1\n";

static void test_tcp_lines(void **state)
{
	struct tcp_socket s;
	struct ip_addr loop;

	(void)state;
	assert_false(clientproc_parse_tcp_line(tcp_header, &s));
	assert_true(clientproc_parse_tcp_line(tcp_v4, &s));
	assert_true(clientproc_parse_addr("127.0.0.1", &loop));
	assert_true(clientproc_addr_equal(&s.local, &loop));
	assert_int_equal(s.local_port, 0xD6A2);
	assert_int_equal(s.remote_port, 54000);
	assert_int_equal(s.inode, 5412345);
	assert_int_equal(s.uid, 0);
	assert_true(clientproc_parse_tcp_line(tcp_v6, &s));
	assert_true(clientproc_parse_addr("::1", &loop));
	assert_true(clientproc_addr_equal(&s.local, &loop));
	assert_int_equal(s.remote_port, 5432);
	assert_int_equal(s.inode, 98765);
	assert_int_equal(s.uid, 106);
	/* A v4 client of a dual-stack socket compares equal to its v4
	 * spelling, which is how the server reports it. */
	assert_true(clientproc_parse_tcp_line(tcp_v6_mapped, &s));
	assert_true(clientproc_parse_addr("127.0.0.1", &loop));
	assert_true(clientproc_addr_equal(&s.local, &loop));
	assert_int_equal(s.local_port, 40000);
}

static void test_tcp_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"   3: 0100007F:D6A2\n",
		"   3: 0100007G:D6A2 0100007F:D2F0 01 0:0 0:0 0 0 0 5 1\n",
		"   3: 0100007F:1D6A2 0100007F:D2F0 01 0:0 0:0 0 0 0 5 1\n",
		"   3: 0100007F0:D6A2 0100007F:D2F0 01 0:0 0:0 0 0 0 5 1\n",
		"x: 0100007F:D6A2 0100007F:D2F0 01 0:0 0:0 0 0 0 5 1\n",
		"   3: 0100007F:D6A2 0100007F:D2F0 01 0:0 0:0 0 0 0\n",
	};
	struct tcp_socket s;

	(void)state;
	for (size_t i = 0; i < COUNT(bad); i++) {
		assert_false(clientproc_parse_tcp_line(bad[i], &s));
	}
}

static void test_addresses(void **state)
{
	struct ip_addr a;
	struct ip_addr b;

	(void)state;
	assert_true(clientproc_parse_addr("127.0.0.1", &a));
	assert_true(clientproc_is_loopback(&a));
	assert_true(clientproc_parse_addr("127.3.2.1", &a));
	assert_true(clientproc_is_loopback(&a));
	assert_true(clientproc_parse_addr("::1", &a));
	assert_true(clientproc_is_loopback(&a));
	assert_true(clientproc_parse_addr("10.0.0.7", &a));
	assert_false(clientproc_is_loopback(&a));
	assert_true(clientproc_parse_addr("::ffff:10.0.0.7", &b));
	assert_true(clientproc_addr_equal(&a, &b));
	assert_true(clientproc_parse_addr("fe80::1", &a));
	assert_false(clientproc_is_loopback(&a));
	assert_false(clientproc_parse_addr("", &a));
	assert_false(clientproc_parse_addr("localhost", &a));
	assert_false(clientproc_parse_addr("10.0.0.7/32", &a));
}

static void test_socket_links(void **state)
{
	(void)state;
	assert_int_equal(clientproc_socket_inode("socket:[5412345]"), 5412345);
	assert_int_equal(clientproc_socket_inode("pipe:[5412345]"), 0);
	assert_int_equal(clientproc_socket_inode("socket:[12"), 0);
	assert_int_equal(clientproc_socket_inode("socket:[12]x"), 0);
	assert_int_equal(clientproc_socket_inode("socket:[]"), 0);
	assert_int_equal(clientproc_socket_inode("/dev/null"), 0);
}

static void test_stat(void **state)
{
	int ppid = -1;
	unsigned long long start = 0;
	/* A command name may hold spaces and parentheses: only the last
	 * ')' ends it. */
	static const char hostile[] =
		"4242 (py ) 3 (x) S 4100 4242 4100 0 -1 4194560 1234 0 0 0 "
		"5 3 0 0 20 0 1 0 987654 12345678 1024 18446744073709551615\n";

	(void)state;
	assert_true(clientproc_parse_stat(hostile, &ppid, &start));
	assert_int_equal(ppid, 4100);
	assert_int_equal(start, 987654);
	assert_false(clientproc_parse_stat("4242 (cut", &ppid, &start));
	assert_false(clientproc_parse_stat("4242 (x) S", &ppid, &start));
	assert_false(clientproc_parse_stat("4242 (x) S 1 2 3", &ppid, &start));
}

/* Two processes holding one socket (a fork after connecting): the
 * younger is named, the higher pid at one same tick, and anyone over
 * no holder at all. */
static void test_holder_wins(void **state)
{
	(void)state;
	assert_true(clientproc_holder_wins(500, 100, 0, 0));
	assert_true(clientproc_holder_wins(500, 200, 400, 100));
	assert_false(clientproc_holder_wins(400, 100, 500, 200));
	assert_true(clientproc_holder_wins(501, 100, 500, 100));
	assert_false(clientproc_holder_wins(500, 100, 501, 100));
	/* Age decides over pid order: a wrapped pid space. */
	assert_true(clientproc_holder_wins(7, 300, 30000, 200));
}

/* Pids after a wrap: those at or below the last one given out are the
 * newest; without a wrap, or with the last pid unknown, no change. */
static void test_newest_first(void **state)
{
	int wrapped[] = {32000, 31000, 900, 40, 7};
	int plain[] = {900, 40, 7};
	int one[] = {5};

	(void)state;
	clientproc_newest_first(wrapped, COUNT(wrapped), 900);
	assert_int_equal(wrapped[0], 900);
	assert_int_equal(wrapped[1], 40);
	assert_int_equal(wrapped[2], 7);
	assert_int_equal(wrapped[3], 32000);
	assert_int_equal(wrapped[4], 31000);
	clientproc_newest_first(plain, COUNT(plain), 1000);
	assert_int_equal(plain[0], 900);
	assert_int_equal(plain[2], 7);
	clientproc_newest_first(plain, COUNT(plain), 1);
	assert_int_equal(plain[0], 900);
	assert_int_equal(plain[2], 7);
	clientproc_newest_first(one, 1, 3);
	assert_int_equal(one[0], 5);
	clientproc_newest_first(NULL, 0, 3);
}

/* A netlink dump's IPv4 address (network order) as the text reads it. */
static void test_addr_v4(void **state)
{
	static const uint8_t v4[4] = {10, 0, 0, 7};
	struct ip_addr from_bytes;
	struct ip_addr from_text;

	(void)state;
	clientproc_addr_v4(&from_bytes, v4);
	assert_true(clientproc_parse_addr("10.0.0.7", &from_text));
	assert_true(clientproc_addr_equal(&from_bytes, &from_text));
	assert_true(clientproc_parse_addr("::ffff:10.0.0.7", &from_text));
	assert_true(clientproc_addr_equal(&from_bytes, &from_text));
	assert_false(clientproc_is_loopback(&from_bytes));
}

static void test_cmdline(void **state)
{
	char out[64];
	static const char argv[] = "/usr/bin/python3\0-m\0pytest\0tests/\0";
	static const char dir_only[] = "/usr/bin/\0x\0";
	static const char quoted[] = "psql\0-c\0begin; select 1;\0\0it's\0";
	char tiny[12];
	static const char utf8[] =
		"caf\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
	static const char secret[] =
		"/usr/bin/psql\0postgresql://u:s3cret@h/db\0"
		"password=s3cret\0-ps3cret\0";

	(void)state;
	clientproc_format_cmdline(out, sizeof(out), argv, sizeof(argv) - 1);
	assert_string_equal(out, "python3 -m pytest tests/");
	clientproc_format_cmdline(out, sizeof(out), quoted, sizeof(quoted) - 1);
	assert_string_equal(out, "psql -c 'begin; select 1;' '' 'it'\\''s'");
	clientproc_format_cmdline(out, sizeof(out), "", 0);
	assert_string_equal(out, "");
	/* Only the program's own name is cut to its base name. */
	clientproc_format_cmdline(out, sizeof(out), dir_only,
				  sizeof(dir_only) - 1);
	assert_string_equal(out, "/usr/bin/ x");
	clientproc_format_cmdline(tiny, sizeof(tiny), argv, sizeof(argv) - 1);
	assert_string_equal(tiny, "python3 ...");
	/* A cut never halves a UTF-8 character. */
	clientproc_format_cmdline(tiny, sizeof(tiny), utf8, sizeof(utf8) - 1);
	assert_string_equal(tiny, "caf\xc3\xa9\xc3\xa9...");
	/* Passwords are masked before anything is joined or cut. */
	clientproc_format_cmdline(out, sizeof(out), secret, sizeof(secret) - 1);
	assert_string_equal(out, "psql postgresql://u:***@h/db password=*** "
				 "-p***");
}

static void test_pg_socket_path(void **state)
{
	(void)state;
	assert_true(clientproc_is_pg_socket_path(
		"/var/run/postgresql/.s.PGSQL.5432", 5432));
	assert_true(clientproc_is_pg_socket_path(".s.PGSQL.5432", 5432));
	assert_false(clientproc_is_pg_socket_path(
		"/var/run/postgresql/.s.PGSQL.54320", 5432));
	assert_false(clientproc_is_pg_socket_path(
		"/var/run/postgresql/.s.PGSQL.5432.lock", 5432));
	assert_false(clientproc_is_pg_socket_path("/tmp/x.s.PGSQL.5432", 5432));
	assert_false(clientproc_is_pg_socket_path("", 5432));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_lines),
		cmocka_unit_test(test_tcp_garbage),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_socket_links),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_holder_wins),
		cmocka_unit_test(test_newest_first),
		cmocka_unit_test(test_addr_v4),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_pg_socket_path),
	};

	return cmocka_run_group_tests_name("clientproc", tests, NULL, NULL);
}
