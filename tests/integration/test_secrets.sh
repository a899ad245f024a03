#!/usr/bin/env bash
# Other programs' passwords never show: real clients hold sessions with
# a password on their command line (a URI, a conninfo string, options a
# program may take), and the secret appears nowhere in the text and JSON
# reports, the record, or the wrapped command's line.
. "$(dirname "$0")/lib.sh"

secret=TopSecret42
end_sessions() {
	sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name LIKE 'sec\_%'" >/dev/null
}
end_sessions
at_exit end_sessions

# Each client waits on the server (trust auth: the password is only
# carried), so it holds its session until killed.
PGAPPNAME=sec_uri psql -XAtq \
	"postgresql://postgres:$secret@127.0.0.1:$PGPORT/postgres" \
	-c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
T_PIDS+=($!)
PGAPPNAME=sec_conninfo psql -XAtq \
	"host=127.0.0.1 port=$PGPORT password='$secret x' dbname=postgres" \
	-c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
T_PIDS+=($!)
# Idle in a transaction: the text report names its client process.
(echo "BEGIN; SELECT 1;"; sleep 60) | psql -XAtq \
	"postgresql://postgres:$secret@127.0.0.1:$PGPORT/postgres?application_name=sec_tx" \
	>/dev/null 2>&1 &
T_PIDS+=($!)
# A program of another kind, the password in options it may take and
# in an environment assignment among its arguments.  Debian's python3,
# which has psycopg2 (scripts/lib/common.sh installs it); libpq's
# variables say where to connect.  Short: a command line is cut at 200
# bytes.
PGHOST=127.0.0.1 PGAPPNAME=sec_python /usr/bin/python3 -c \
	'import psycopg2,time;c=psycopg2.connect("");time.sleep(60)' \
	--password="$secret" --passwd "$secret" -p"$secret" \
	"PGPASSWORD=$secret" "mysql://root:$secret@db/x" >/dev/null 2>&1 &
T_PIDS+=($!)
for _ in $(seq 1 100); do
	[ "$(psql_count "application_name LIKE 'sec\_%'")" -ge 4 ] && break
	sleep 0.1
done
is "$(psql_count "application_name LIKE 'sec\_%'")" 4 "four clients with passwords on their command lines"

nowhere() {
	if grep -q "$secret" "$2"; then
		fail "$1: the password shows ($(grep -o ".\{30\}$secret.\{10\}" "$2" | head -1))"
	else
		pass "$1: the password shows nowhere"
	fi
}

"$PGDRIP" --once --format json --app 'sec_*' >"$T_TMP/once.json"
is "$?" 0 "--once --format json"
nowhere "JSON report" "$T_TMP/once.json"
commands=$(jq -r '.groups[].held_by.command' "$T_TMP/once.json")
like "$commands" "^psql -XAtq postgresql://postgres:\*\*\*@127\.0\.0\.1:$PGPORT/postgres " \
	"...the URI client's command line is there, its password masked"
like "$commands" "^psql -XAtq 'host=127\.0\.0\.1 port=$PGPORT password=\*\*\* dbname=postgres'" \
	"...the conninfo client's, a quoted password masked whole"
like "$commands" "^python3 -c .* --password=\*\*\* --passwd \*\*\* -p\*\*\* PGPASSWORD=\*\*\* mysql://root:\*\*\*@db/x$" \
	"...and the other program's, in every spelling"

"$PGDRIP" --once --app 'sec_*' >"$T_TMP/once.txt"
is "$?" 0 "--once, text"
nowhere "text report" "$T_TMP/once.txt"
like "$(cat "$T_TMP/once.txt")" "client: pid [0-9]+ \(psql -XAtq postgresql://postgres:\*\*\*@127" \
	"...which names the idle-in-transaction session's client, masked"

"$PGDRIP" --duration 1s --interval 250ms --app 'sec_*' --no-live \
	--record "$T_TMP/rec.jsonl" --format json >"$T_TMP/watch.json"
is "$?" 0 "watch mode with --record"
nowhere "record" "$T_TMP/rec.jsonl"
like "$(cat "$T_TMP/rec.jsonl")" "postgres:\*\*\*@127" "...whose client processes are kept, masked"
nowhere "watch report" "$T_TMP/watch.json"
"$PGDRIP" --replay "$T_TMP/rec.jsonl" --app 'sec_*' >"$T_TMP/replay.txt"
nowhere "replayed report" "$T_TMP/replay.txt"

# The wrapped command's own line, as the report shows it.
"$PGDRIP" --settle 0 --format json -o "$T_TMP/wrap.json" -- \
	sh -c 'exit 0' "postgresql://u:$secret@h/db" --password "$secret" \
	2>"$T_TMP/wrap.err"
is "$?" 0 "wrap mode"
nowhere "wrap report" "$T_TMP/wrap.json"
nowhere "wrap mode's standard error" "$T_TMP/wrap.err"
is "$(jq -r .command.argv "$T_TMP/wrap.json")" \
	"sh -c exit 0 postgresql://u:***@h/db --password ***" \
	"...the command line is shown, masked"
done_testing
