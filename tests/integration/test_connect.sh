#!/usr/bin/env bash
# Connecting as psql does (-d name/conninfo/URI, -h -p -U, PG* variables)
# and failing clearly: exit 3, one line, never the password.
. "$(dirname "$0")/lib.sh"

host=$PGHOST port=$PGPORT
"$PGDRIP" --once --retry-for 0 -p 1 >"$T_TMP/out" 2>"$T_TMP/err"
is "$?" 3 "an unreachable server exits 3"
is "$(wc -l <"$T_TMP/err")" 1 "with one line"
like "$(cat "$T_TMP/err")" "^pgdrip: cannot connect: " "that says it cannot connect"

for target in "postgresql://postgres:s3cretpw@127.0.0.1:1/x" \
	"host=127.0.0.1 port=1 password=s3cretpw dbname=x" \
	"host=127.0.0.1 port=1 password='s3cret pw' dbname=x"; do
	"$PGDRIP" --once --retry-for 0 -d "$target" >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	if [ "$rc" -eq 3 ] && ! grep -q "s3cret" "$T_TMP/out" "$T_TMP/err"; then
		pass "password never printed (exit 3): ${target%%@*}..."
	else
		fail "password leak or wrong exit $rc: $(cat "$T_TMP/err")"
	fi
done

"$PGDRIP" --once --retry-for 0 -d "postgresql://postgres:s3cretpw@127.0.0.1:1/x" \
	2>"$T_TMP/err" >/dev/null
like "$(cat "$T_TMP/err")" 'cannot connect to "postgresql://postgres:\*\*\*@127\.0\.0\.1:1/x"' \
	"the failing target is named, its password masked"

# It gives up: it ends (reap's guard fails a pgdrip retrying forever),
# and not before it waited (a lower bound: a loaded machine only makes
# the wait longer).
start=$(date +%s%N)
"$PGDRIP" --once --retry-for 1500ms -p 1 >/dev/null 2>"$T_TMP/err" &
reap "$!" 120
rc=$?
took=$((($(date +%s%N) - start) / 1000000))
is "$rc" 3 "--retry-for: gives up with exit 3 (after ${took} ms)"
check "...after waiting at least 1.5s (${took}ms)" test "$took" -ge 1500
like "$(head -1 "$T_TMP/err")" "^pgdrip: waiting for the server: " "...saying it waits"
# Wrap mode is a CI step too: a server that never comes fails it after
# 30s (the command never starts), it does not hang the job.
timeout -s INT 3 "$PGDRIP" -p 1 -- touch "$T_TMP/ran" >/dev/null 2>"$T_TMP/err"
like "$(cat "$T_TMP/err")" "retrying for up to 30s" "wrap mode waits 30s for a server by default, not forever"
check "...and the command does not start before the first sample" test ! -e "$T_TMP/ran"
"$PGDRIP" --retry-for 1s -p 1 -- true >/dev/null 2>"$T_TMP/err"
is "$?" 3 "...then exits 3"
"$PGDRIP" --once -U no_such_role_xyz >/dev/null 2>"$T_TMP/err"
is "$?" 3 "a permanent failure (unknown role) is not retried"
like "$(cat "$T_TMP/err")" 'role "no_such_role_xyz" does not exist' "...and says why"

ok_connect() {
	local desc=$1
	shift
	if "$@" >"$T_TMP/out" 2>"$T_TMP/err" && jq -e .total "$T_TMP/out" >/dev/null; then
		pass "$desc"
	else
		fail "$desc: $(cat "$T_TMP/err")"
	fi
}
ok_connect "-d conninfo" env -u PGHOST -u PGPORT "$PGDRIP" --once --format json \
	-d "host=$host port=$port dbname=postgres"
ok_connect "-d URI over TCP" env -u PGHOST -u PGPORT "$PGDRIP" --once --format json \
	-d "postgresql://postgres@127.0.0.1:$port/postgres"
ok_connect "-h -p -U" env -u PGHOST -u PGPORT -u PGUSER "$PGDRIP" --once --format json \
	-h "$host" -p "$port" -U postgres
ok_connect "-d database name with PG* variables" "$PGDRIP" --once --format json -d postgres
printf '[pgdrip_test]\nhost=%s\nport=%s\nuser=postgres\ndbname=postgres\n' "$host" "$port" \
	>"$T_TMP/pg_service.conf"
ok_connect "service file" env -u PGHOST -u PGPORT PGSERVICEFILE="$T_TMP/pg_service.conf" \
	PGSERVICE=pgdrip_test "$PGDRIP" --once --format json

# pgdrip's own session: named, read-only, and not counted.
"$PGDRIP" --once --format json >"$T_TMP/r.json"
is "$(jq '[.groups[] | select(.application=="pgdrip")] | length' "$T_TMP/r.json")" 0 \
	"pgdrip's own session is not counted"
"$PGDRIP" --duration 3s --interval 200ms --format json >"$T_TMP/w.json" &
pid=$!
# Both counts from one look, taken once pgdrip is in (whenever a loaded
# machine lets it in).
pgdrip_seen
is "$PGDRIP_SESSIONS" 1 "one session named pgdrip while watching"
is "$PGDRIP_IDLE_TX" 0 "never idle in a transaction"
reap "$pid"
is "$?" 0 "watch mode ends after --duration"
done_testing
