#!/usr/bin/env bash
# What pgdrip says when things go wrong, as a newcomer reads it: a
# refused password gets a hint, libpq's lines are joined as sentences,
# and the wrapped command is shown with its quoting kept.
. "$(dirname "$0")/lib.sh"

# A server that asks m_pw for its password (a cluster of its own: the
# rule goes before initdb's trust lines).
start_extra_cluster "password_encryption=scram-sha-256" ||
	{ fail "a second cluster"; done_testing; exit 1; }
as_cluster_user "sed -i '1i host all m_pw 127.0.0.1/32 scram-sha-256' '$X_DIR/data/pg_hba.conf'"
as_cluster_user "'$PG_BINDIR/pg_ctl' -D '$X_DIR/data' reload" >/dev/null
psql -XAtq -h "$X_DIR" -p "$X_PORT" -c "CREATE ROLE m_pw LOGIN PASSWORD 'right-one'" ||
	fail "a role with a password"
poll_until 10 env PGPASSWORD=right-one psql -XAtq -h 127.0.0.1 -p "$X_PORT" -U m_pw \
	-c "SELECT 1" || fail "the right password is taken"

PGPASSWORD=wr0ng-pw "$PGDRIP" --once --retry-for 0 -h 127.0.0.1 -p "$X_PORT" \
	-U m_pw >"$T_TMP/out" 2>"$T_TMP/err"
is "$?" 3 "a refused password: exit 3"
like "$(sed -n 1p "$T_TMP/err")" \
	'^pgdrip: cannot connect: connection to server at "127\.0\.0\.1", port [0-9]+ failed: FATAL:  password authentication failed for user "m_pw"$' \
	"...libpq's line first"
is "$(sed -n 2p "$T_TMP/err")" \
	"pgdrip: hint: the server refused the password given; check PGPASSWORD, ~/.pgpass (host:port:db:role:password) and any password in -d, or use -W to type it" \
	"...then a hint saying where the password came from"
is "$(wc -l <"$T_TMP/err")" 2 "...and nothing more"
check "...never the password" bash -c "! grep -q wr0ng '$T_TMP/err' '$T_TMP/out'"
"$PGDRIP" --once --retry-for 0 -d "postgresql://m_pw:wr0ng-pw@127.0.0.1:$X_PORT/postgres" \
	>/dev/null 2>"$T_TMP/err"
like "$(sed -n 2p "$T_TMP/err")" "^pgdrip: hint: the server refused the password given" \
	"a refused password in a URI gets the hint too"
check "...never printed" bash -c "! grep -q wr0ng '$T_TMP/err'"
"$PGDRIP" --once --retry-for 0 -h 127.0.0.1 -p "$X_PORT" -U postgres \
	>/dev/null 2>"$T_TMP/err"
is "$?" 0 "trust for the others: the rule is m_pw's alone"

# libpq's two lines ("...failed: No such file or directory" and "Is the
# server running...?") as two sentences on one line.
"$PGDRIP" --once --retry-for 0 -p 1 >/dev/null 2>"$T_TMP/err"
is "$(cat "$T_TMP/err")" \
	"pgdrip: cannot connect: connection to server on socket \"$PGHOST/.s.PGSQL.1\" failed: No such file or directory. Is the server running locally and accepting connections on that socket?" \
	"libpq's lines joined with a full stop"
"$PGDRIP" --once --retry-for 0 -h 127.0.0.1 -p 1 >/dev/null 2>"$T_TMP/err"
like "$(cat "$T_TMP/err")" "failed: Connection refused\. Is the server running on that host and accepting TCP/IP connections\?$" \
	"...over TCP too"

# The wrapped command as the shell took it: sh -c 'exit 0' is not shown
# as "sh -c exit 0"; an empty argument and a quote survive.
"$PGDRIP" --interval 200ms --settle 0 -- sh -c 'echo "it'"'"'s" >/dev/null; exit 0' \
	x 'a b' '' plain-word >/dev/null 2>"$T_TMP/err"
is "$?" 0 "a wrapped command"
is "$(grep '^command: ' "$T_TMP/err")" \
	"command: sh -c 'echo \"it'\"'\"'s\" >/dev/null; exit 0' x 'a b' '' plain-word (exit status 0)" \
	"...shown with its quoting"
"$PGDRIP" --interval 200ms --settle 0 --format json -- sh -c 'exit 0' \
	>/dev/null 2>"$T_TMP/r.json"
is "$(jq -r '.command.argv' "$T_TMP/r.json")" "sh -c exit 0" \
	"the JSON's joined argv is as it was (the contract); args has them apart"
done_testing
