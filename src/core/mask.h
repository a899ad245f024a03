/*
 * mask.h - passwords out of anything pgdrip shows: what the user passed
 * with -d, and the command lines of client processes and of the wrapped
 * command, which can carry other programs' passwords.
 *
 * A masked password becomes "***".  Where text is ambiguous, masking
 * errs towards hiding too much: a host, a port or a word next to a
 * password may go with it, a password never stays.
 */
#ifndef PGDRIP_MASK_H
#define PGDRIP_MASK_H

#include <stddef.h>

/*
 * A conninfo string or URI, as libpq reads them, into dst (always
 * NUL-terminated, cut to dst_size): the value of every "password" key
 * ("password=secret", "password = 'a b'", "?password=" and "&password="
 * in a URI, also percent-encoded as "pass%77ord"), and a URI's user
 * info password, from the first ':' to the last '@' before the query
 * ("postgresql://u:***@host/db").  text NULL gives "".
 */
void mask_conninfo(char *dst, size_t dst_size, const char *text);

/*
 * A command line as /proc/PID/cmdline holds it (raw, len bytes:
 * arguments each ending in NUL; a last one without its NUL was cut
 * short) into dst, in the same form, every password masked:
 *
 * - in any argument, anywhere in it: the user info password of a URI of
 *   any scheme ("postgresql://u:***@h", "mysql://u:***@h"); one cut
 *   short before its '@' is masked from the ':' to its end;
 * - KEY=VALUE where KEY, without leading dashes and in any case, holds
 *   "passw" or ends in "pass" or "pwd": "password=***",
 *   "--password=***", "PGPASSWORD=***", "DB_PASS=***", "?password=***",
 *   a quoted value ('a b', "a b") whole;
 * - "KEY": VALUE where KEY, quoted (JSON, a Python dict), is such a
 *   key: '{"password":"***"}' shows as '{"password":***}';
 * - the argument after an option named so ("--password", "--passwd",
 *   "--pass", "--dbpass", "--db-pwd"; not a "--no-..." switch) unless
 *   it is an option itself;
 * - "-pVALUE" in one argument: mysql's and mariadb's password, and
 *   psql's port.  Masked unless VALUE is a port (digits, or a comma
 *   list of them) and the program is not mysql* or mariadb*, so psql's
 *   -p5432 shows and mysql's -psecret does not (a mysql password of
 *   digits neither).  "-p VALUE" in two arguments is a port for psql
 *   and a database for mysql, which then prompts: left as it is.
 *
 * Returns the bytes written, NULs included (at most dst_size - 1; dst
 * is NUL-terminated after them).  3 * len + 16 bytes always suffice.
 */
size_t mask_command_line(char *dst, size_t dst_size, const char *raw,
			 size_t len);

#endif
