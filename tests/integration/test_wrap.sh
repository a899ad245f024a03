#!/usr/bin/env bash
# Wrap mode around real commands: a suite leaking one connection per test
# (closed at exit) fails --fail-on-growth, the same suite closing them
# passes; the command's status wins; its stdout stays clean.
. "$(dirname "$0")/lib.sh"

sql "DROP ROLE IF EXISTS w_tests; CREATE ROLE w_tests LOGIN CONNECTION LIMIT 40" >/dev/null

"$PGDRIP" --fail-on-growth --interval 200ms --settle 2s --format json -o "$T_TMP/leak.json" \
	-- "$WORKLOAD" suite:w_tests:suite:25:250:leak 2>"$T_TMP/err" >/dev/null
is "$?" 1 "a suite leaking one connection per test fails --fail-on-growth"
like "$(cat "$T_TMP/err")" "fail-on-growth failed: group w_tests/suite" "...naming the group"
g='.groups[] | select(.user=="w_tests")'
is "$(jq "$g | .growth.flagged" "$T_TMP/leak.json")" true "growth flagged over the run"
first=$(jq "$g | .growth.first_flagged_s" "$T_TMP/leak.json")
check "...with when the run's verdict first held, inside the run ($first)" \
	jq -e "($g | .growth.first_flagged_s) as \$f | \$f != null and
		\$f >= .command.started_s and \$f <= .command.ended_s" "$T_TMP/leak.json"
is "$(jq "$g | .baseline" "$T_TMP/leak.json")" 0 "baseline 0"
check "peak near 25 ($(jq "$g | .peak" "$T_TMP/leak.json"))" test "$(jq "$g | .peak" "$T_TMP/leak.json")" -ge 20
check "every session the suite left unused is counted, though all closed at exit ($(jq "$g | .leaked" "$T_TMP/leak.json"))" \
	jq -e "$g | .leaked >= 18" "$T_TMP/leak.json"
is "$(jq "[.groups[] | select(.user==\"w_tests\") | .verdict.left_by_command[] | select(.closed_at == null)] | length" "$T_TMP/leak.json")" 0 \
	"...none of them still open"
check "slope about 240/min ($(jq "$g | .growth.slope_per_min" "$T_TMP/leak.json"))" \
	jq -e "$g | .growth.slope_per_min > 120 and .growth.slope_per_min < 400" "$T_TMP/leak.json"
is "$(jq -r "$g | .growth.forecast.limit_kind" "$T_TMP/leak.json")" role "forecast aims at the role's limit"
is "$(jq -r .pgdrip.mode "$T_TMP/leak.json")" wrap "mode wrap"
is "$(jq -r .command.status "$T_TMP/leak.json")" 0 "the command's status is reported"

is "$(jq "$g | .open_after" "$T_TMP/leak.json")" 0 "...and none open after it (open_after), as CONN says"

# The text report says each fact once: the sessions left unused, not
# "still open after the command" for sessions all closed at exit.
"$PGDRIP" --fail-on-growth --interval 200ms --settle 2s -o "$T_TMP/leak.txt" \
	-- "$WORKLOAD" suite:w_tests:suitet:15:250:leak 2>/dev/null >/dev/null
is "$?" 1 "the same leak, reported as text, fails"
like "$(cat "$T_TMP/leak.txt")" "the command left [0-9]+ sessions unused" "...naming the sessions left unused"
check "...and none still open (all closed at exit)" \
	sh -c "! grep -q 'Still open after the command' '$T_TMP/leak.txt'"
check "...no slope-times-span estimate beside the count" \
	sh -c "! grep -q 'connections, confidence' '$T_TMP/leak.txt'"

"$PGDRIP" --fail-on-growth --interval 200ms --settle 2s -o "$T_TMP/clean.txt" \
	-- "$WORKLOAD" suite:w_tests:suite:25:250:close 2>"$T_TMP/err" >/dev/null
is "$?" 0 "the same suite closing its connections passes"

# The command leaves its 3 sessions behind once the server has them all
# and pgdrip has sampled twice since (its session's query_start moves on
# each sample), however long a loaded machine takes: the 600 x 0.1 s
# only guard a hang.  The workload is stopped by its pid afterwards.
cat >"$T_TMP/leave.sh" <<'EOF'
#!/bin/sh
"$WORKLOAD" leak:w_tests:left:100:3 &
echo $! >"$LEFT_PID"
q() { psql -XAtqc "$1"; }
for i in $(seq 600); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'left'")" -ge 3 ] && break
	sleep 0.1
done
for n in 1 2; do
	t=$(q "SELECT now()")
	for i in $(seq 600); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgdrip' AND query_start > '$t'")" -ge 1 ] && break
		sleep 0.1
	done
done
echo started
EOF
LEFT_PID=$T_TMP/left.pid "$PGDRIP" --interval 200ms --settle 3s --format json -o "$T_TMP/left.json" \
	-- sh "$T_TMP/leave.sh" 2>"$T_TMP/err" >"$T_TMP/out"
is "$?" 1 "connections left after the command fail --max-leaked 0 (the default)"
is "$(jq '.groups[] | select(.application=="left") | .leaked' "$T_TMP/left.json")" 3 "3 leaked"
kill "$(cat "$T_TMP/left.pid")" 2>/dev/null

out=$("$PGDRIP" --interval 200ms --settle 1s -- sh -c 'echo hello; exit 7' 2>"$T_TMP/err")
is "$?" 7 "the command's non-zero status wins"
is "$out" hello "the command's stdout stays clean"
like "$(cat "$T_TMP/err")" "pgdrip wrap report" "the report goes to stderr"
"$PGDRIP" --interval 200ms --settle 1s -- sh -c 'kill -TERM $$' 2>/dev/null
is "$?" 143 "killed by a signal: 128+N"
"$PGDRIP" --interval 200ms --settle 1s -- /nonexistent/command 2>"$T_TMP/err"
is "$?" 127 "a missing command exits 127, as a shell would"

# SIGTERM to pgdrip reaches the command.
"$PGDRIP" --interval 200ms --settle 1s -o "$T_TMP/sig.txt" -- sh -c 'trap "exit 42" TERM; sleep 30 & wait' 2>/dev/null &
pid=$!
# Once the command runs (the sleep is its child's child).
command_runs() { pgrep -P "$(pgrep -P "$pid" | head -1)" -x sleep; }
poll_until 120 command_runs
kill -TERM "$pid"
reap "$pid"
is "$?" 42 "SIGTERM is forwarded to the command"
check "and the report is still written" grep -q "wrap report" "$T_TMP/sig.txt"

# Sessions shorter than a sample: 40 psql runs of one statement each
# (a few ms a session) are counted all the same, by the server
# (pg_stat_database, PostgreSQL 14 on), and the report says how many
# the samples missed.
"$PGDRIP" --settle 1s --format json -o "$T_TMP/short.json" -- sh -c \
	'for i in $(seq 40); do psql -XAtq -c "SELECT 1" >/dev/null; done' 2>/dev/null
is "$?" 0 "40 one-statement sessions"
check "...all counted by the server ($(jq .total.sessions_opened_run "$T_TMP/short.json") opened during the run)" \
	jq -e '.total.sessions_opened_run >= 40' "$T_TMP/short.json"
check "...the samples saw fewer ($(jq .total.sessions_opened_seen "$T_TMP/short.json"))" \
	jq -e '.total.sessions_opened_seen < .total.sessions_opened_run' "$T_TMP/short.json"
"$PGDRIP" --settle 1s -- sh -c \
	'for i in $(seq 40); do psql -XAtq -c "SELECT 1" >/dev/null; done' 2>"$T_TMP/short.txt"
like "$(cat "$T_TMP/short.txt")" "[0-9]+ opened during the run, [0-9]+ of them too short-lived for a sample to see" \
	"...and the text report says how many the samples missed"
done_testing
