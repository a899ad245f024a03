#!/usr/bin/env bash
# Every check, passing and breached, with its exit code and its one
# stderr line; role and database CONNECTION LIMIT usage.
. "$(dirname "$0")/lib.sh"

sql "DROP ROLE IF EXISTS c_app; CREATE ROLE c_app LOGIN" >/dev/null
sql "DROP ROLE IF EXISTS c_lim; CREATE ROLE c_lim LOGIN CONNECTION LIMIT 4" >/dev/null
psql -XAtq -c "DROP DATABASE IF EXISTS c_db" -c "CREATE DATABASE c_db CONNECTION LIMIT 5" >/dev/null
start_workload idle:c_app:web:4 idle-tx:c_app:job:2 idle:c_lim:limited:3 ||
	{ fail "workload"; done_testing; exit 1; }
start_workload -d dbname=c_db idle:c_app:indb:2 || fail "workload in c_db"
sleep 0.3

# run_check EXPECTED_EXIT DESC ARGS...
run_check() {
	local want=$1 desc=$2 rc
	shift 2
	"$PGDRIP" --once --user 'c_*' "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$desc: exit $rc"
	else
		fail "$desc: exit $rc, want $want; $(cat "$T_TMP/err")"
	fi
}

run_check 0 "--max-total 11 (11 selected)" --max-total 11
run_check 1 "--max-total 10" --max-total 10
like "$(cat "$T_TMP/err")" "^pgdrip: check max-total failed: total: 11 connections \(limit 10\)" \
	"breach line names the check, the place and the values"
run_check 0 "--max-per-group 4" --max-per-group 4
run_check 1 "--max-per-group 2" --max-per-group 2
is "$(grep -c 'max-per-group failed' "$T_TMP/err")" 2 "one line per breaching group"
like "$(cat "$T_TMP/err")" "group c_app/web" "the line names the group"
run_check 0 "--max-idle-tx 0 (sessions younger than 30s)" --max-idle-tx 0
run_check 1 "--max-idle-tx 1 --idle-tx-age 0s" --max-idle-tx 1 --idle-tx-age 0s
run_check 0 "--max-idle-tx 2 --idle-tx-age 0s" --max-idle-tx 2 --idle-tx-age 0s
run_check 0 "--max-usage 75 (c_lim at 3/4)" --max-usage 75
run_check 1 "--max-usage 70" --max-usage 70
like "$(cat "$T_TMP/err")" "max-usage failed: role c_lim: 75.0% used" "usage breach names the role"
run_check 1 "several checks at once" --max-total 100 --max-idle-tx 0 --idle-tx-age 0 --max-per-group 3
is "$(grep -c "^pgdrip: check" "$T_TMP/err")" 2 "each breach has its own line"

"$PGDRIP" --once --format json --user 'c_*' --max-total 10 >"$T_TMP/r.json" 2>/dev/null
is "$(jq -r '.checks[0] | "\(.name) \(.value) \(.limit) \(.ok)"' "$T_TMP/r.json")" "max-total 11 10 false" "checks in the JSON"
is "$(jq .exit_code "$T_TMP/r.json")" 1 "exit_code in the JSON"
is "$(jq -r '.limits[] | select(.kind=="role" and .name=="c_lim") | "\(.used)/\(.limit) \(.usage_pct)"' "$T_TMP/r.json")" \
	"3/4 75" "role CONNECTION LIMIT usage"
is "$(jq -r '.groups[] | select(.user=="c_lim") | "\(.limit.role) \(.limit.role_usage_pct)"' "$T_TMP/r.json")" \
	"4 75" "the group carries its role's limit"
is "$(jq -r '.limits[] | select(.kind=="database" and .name=="c_db") | "\(.used)/\(.limit)"' "$T_TMP/r.json")" \
	"2/5" "database CONNECTION LIMIT usage"
is "$(jq -r '.limits[0].kind' "$T_TMP/r.json")" server "the server's limit comes first"

start_workload idle:c_lim:limited:1 || fail "fourth c_lim session"
sleep 0.2
"$PGDRIP" --once --format json --user c_lim --max-usage 99 >"$T_TMP/r.json" 2>"$T_TMP/err"
is "$?" 1 "a role at its CONNECTION LIMIT fails --max-usage 99 while the server has room"
is "$(jq -r '.limits[] | select(.name=="c_lim") | .usage_pct' "$T_TMP/r.json")" 100 "...at 100%"
"$PGDRIP" --once -U c_lim 2>"$T_TMP/err" >/dev/null
is "$?" 1 "connecting as a role out of slots exits 1"
like "$(cat "$T_TMP/err")" "too many connections for role" "...and says why"
like "$(cat "$T_TMP/err")" "hint: .*superuser" "...with a hint"
# --max-unused: the one-shot leak gate, on what one sample shows (how
# long each open session has gone unused).  Ages are lower bounds: the
# sessions above have been idle for at least the 0.3 s waited.
start_workload active:c_app:busy:2 || fail "busy sessions"
run_check 0 "--max-unused 1h (nothing unused that long)" --max-unused 1h
run_check 1 "--max-unused 0s --app web" --max-unused 0s --app web
is "$(cat "$T_TMP/err")" \
	"pgdrip: check max-unused failed: group c_app/web: 4 open sessions unused for --max-unused's age or longer (limit 0)" \
	"...one line naming the group and how many"
run_check 0 "--max-unused 0s --max-unused-count 4 --app web (4 allowed)" \
	--max-unused 0s --max-unused-count 4 --app web
run_check 1 "--max-unused 0s --max-unused-count 3 --app web" \
	--max-unused 0s --max-unused-count 3 --app web
run_check 0 "sessions running a query are in use, never unused" \
	--max-unused 0s --app busy
run_check 1 "--max-unused 0s over every group" --max-unused 0s
is "$(grep -c 'max-unused failed' "$T_TMP/err")" 4 \
	"...a line per group holding unused sessions (web, job, limited, indb)"
sleep 1.2
run_check 1 "--max-unused 1s, once the sessions sat that long" --max-unused 1s --app web
"$PGDRIP" --once --format json --user 'c_*' --app web --max-unused 0s \
	--max-unused-count 1 >"$T_TMP/r.json" 2>/dev/null
is "$(jq -c '[.checks[] | select(.name=="max-unused") | .where, .value, .limit, .ok]' "$T_TMP/r.json")" \
	'["group c_app/web",4,1,false]' "...in the JSON's checks"
# Other roles' sessions hide their times from an unprivileged role.
"$PGDRIP" --once -U c_app --user 'c_*' --max-unused 1h >/dev/null 2>"$T_TMP/err"
is "$?" 3 "hidden times and no breach: not evaluated (exit 3)"
like "$(cat "$T_TMP/err")" "^pgdrip: check max-unused not evaluated: every group: the server hides the last use of [0-9]+ selected sessions from role c_app" \
	"...saying why"
like "$(cat "$T_TMP/err")" "hint: GRANT pg_read_all_stats TO c_app" "...and the GRANT"
"$PGDRIP" --once -U c_app --user 'c_*' --max-unused 0s >/dev/null 2>"$T_TMP/err"
is "$?" 1 "...while a breach among the sessions seen still fails"
"$PGDRIP" --once --max-unused-count 2 >/dev/null 2>"$T_TMP/err"
is "$?" 2 "--max-unused-count without --max-unused is a usage error"
is "$(head -1 "$T_TMP/err")" \
	"pgdrip: --max-unused-count needs --max-unused: it counts the sessions unused that long" \
	"...saying why"
"$PGDRIP" --once --fail-on-growth >/dev/null 2>"$T_TMP/err"
is "$?" 2 "--once --fail-on-growth stays refused"
like "$(head -1 "$T_TMP/err")" "one sample cannot show growth \(the one-shot leak gate is --max-unused AGE\)" \
	"...naming the one-shot gate"
"$PGDRIP" --once --max-unused soon >/dev/null 2>"$T_TMP/err"
is "$?" 2 "a bad --max-unused is a usage error"
done_testing
