#!/usr/bin/env bash
# A role without pg_read_all_stats: other roles' sessions still counted,
# their state unknown (never 0), and a warning naming GRANT pg_monitor;
# parallel workers are not sessions, or the report says it cannot tell.
. "$(dirname "$0")/lib.sh"

sql "DROP ROLE IF EXISTS p_low; CREATE ROLE p_low LOGIN" >/dev/null
sql "DROP ROLE IF EXISTS p_app; CREATE ROLE p_app LOGIN" >/dev/null
start_workload idle:p_app:hidden:3 idle-tx:p_app:hidden:2 idle:p_low:mine:1 ||
	{ fail "workload"; done_testing; exit 1; }
sleep 0.3

"$PGDRIP" --once --format json -U p_low --user 'p_*' >"$T_TMP/r.json" 2>"$T_TMP/err"
is "$?" 0 "an unprivileged role can run --once"
is "$(jq .total.connections "$T_TMP/r.json")" 6 "it counts every session"
is "$(jq .total.all_connections "$T_TMP/r.json")" "$(psql_count true)" "all sessions, as the superuser counts them"
g='.groups[] | select(.user=="p_app")'
is "$(jq "$g | .connections" "$T_TMP/r.json")" 5 "other role's group counted"
is "$(jq "$g | .states.unknown" "$T_TMP/r.json")" 5 "their states are unknown"
is "$(jq "$g | .states.idle_in_transaction" "$T_TMP/r.json")" 0 "nothing claimed as idle in transaction..."
is "$(jq .total.unknown_state "$T_TMP/r.json")" 5 "...and the report says 5 are unknown"
is "$(jq '.groups[] | select(.user=="p_low") | .states.idle' "$T_TMP/r.json")" 1 "own sessions fully visible"
like "$(jq -r '.warnings[]' "$T_TMP/r.json")" "GRANT pg_monitor TO p_low" "warning suggests GRANT pg_monitor"
is "$(jq .server.can_read_all_stats "$T_TMP/r.json")" false "can_read_all_stats false"

"$PGDRIP" --once -U p_low --user 'p_*' >"$T_TMP/r.txt"
like "$(cat "$T_TMP/r.txt")" "p_app +hidden +5 +0\? +0\? +0\?" "text marks hidden states with ?"
like "$(cat "$T_TMP/r.txt")" "GRANT pg_monitor" "text warns too"

# Two of p_app's sessions sit idle in transaction, hidden from p_low: a
# gate run as p_low cannot tell, so it is neither a pass nor a failure.
gate=(--once --max-idle-tx 0 --idle-tx-age 0 --user 'p_*')
"$PGDRIP" "${gate[@]}" -U p_low >"$T_TMP/gate.txt" 2>"$T_TMP/gate.err"
is "$?" 3 "--max-idle-tx 0 as a role that cannot see the states exits 3, not 0"
like "$(cat "$T_TMP/gate.err")" "^pgdrip: check max-idle-tx not evaluated: idle in transaction: the server hides the state of 5 selected sessions from role p_low" \
	"...saying why"
like "$(cat "$T_TMP/gate.err")" "pgdrip: hint: GRANT pg_monitor TO p_low \(as a superuser\)" \
	"...with the GRANT to run"
like "$(cat "$T_TMP/gate.txt")" "Checks: 0 passed, 0 failed, 1 not evaluated" "the report counts it apart"
"$PGDRIP" "${gate[@]}" -U p_low --format json >"$T_TMP/gate.json" 2>/dev/null
is "$(jq -c '.checks[0] | [.ok, .evaluated, .hint]' "$T_TMP/gate.json")" \
	'[false,false,"GRANT pg_monitor TO p_low"]' "JSON: not ok, not evaluated, the hint"
is "$(jq .exit_code "$T_TMP/gate.json")" 3 "JSON: exit_code 3"
"$PGDRIP" "${gate[@]}" -U postgres >/dev/null 2>"$T_TMP/gate.err"
is "$?" 1 "as postgres the same gate sees both sessions and fails"
like "$(cat "$T_TMP/gate.err")" "check max-idle-tx failed: idle in transaction: 2 sessions \(limit 0\)" \
	"...naming them"
"$PGDRIP" --once --max-idle-tx 0 -U p_low --user p_low >/dev/null 2>&1
is "$?" 0 "p_low's own sessions alone are fully visible: a real pass"
# Parallel workers: another role's query with two workers is one session.
# Without pg_read_all_stats the workers cannot be told apart (backend_type
# and leader_pid are hidden too): then the report must say so.
sql "DROP TABLE IF EXISTS p_big; CREATE TABLE p_big AS
	SELECT g AS x FROM generate_series(1, 100000) g; ANALYZE p_big;
	GRANT SELECT ON p_big TO p_app" >/dev/null
end_parallel() {
	sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'parallel'
		AND backend_type = 'client backend'" >/dev/null
}
at_exit "sql 'DROP TABLE IF EXISTS p_big'"
at_exit end_parallel
PGAPPNAME=parallel psql -XAtq -U p_app -c "SET max_parallel_workers_per_gather = 2" \
	-c "SET parallel_setup_cost = 0" -c "SET parallel_tuple_cost = 0" \
	-c "SET min_parallel_table_scan_size = 0" \
	-c "SELECT count(*) FROM p_big WHERE pg_sleep(0.0002) IS NOT NULL" \
	>/dev/null 2>&1 &
T_PIDS+=($!)
workers=0
for _ in $(seq 1 100); do
	workers=$(sql "SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'parallel worker' AND application_name = 'parallel'")
	[ "$workers" -ge 2 ] && break
	sleep 0.05
done
is "$workers" 2 "a query of p_app runs with two parallel workers"
"$PGDRIP" --once --format json --app parallel >"$T_TMP/par.json"
is "$(jq '[.groups[].connections] | add' "$T_TMP/par.json")" 1 \
	"as a superuser: one session, the workers not counted"
is "$(jq '.warnings | length' "$T_TMP/par.json")" 0 "...and no warning"
"$PGDRIP" --once --format json -U p_low --app parallel >"$T_TMP/par.json"
is "$(jq '[.groups[].connections] | add' "$T_TMP/par.json")" 3 \
	"without pg_read_all_stats the workers look like sessions"
like "$(jq -r '.warnings[]' "$T_TMP/par.json")" \
	"parallel workers among them cannot be told from client sessions, so they count as sessions too; GRANT pg_monitor TO p_low" \
	"...and the report says the count may hold parallel workers"
"$PGDRIP" --once -U p_low --app parallel >"$T_TMP/par.txt"
like "$(cat "$T_TMP/par.txt")" "parallel workers among them cannot be told" \
	"...in the text report too"

sql "GRANT pg_monitor TO p_low" >/dev/null
"$PGDRIP" --once --format json -U p_low --app parallel >"$T_TMP/par.json"
is "$(jq '[.groups[].connections] | add' "$T_TMP/par.json")" 1 \
	"with pg_monitor the workers are told apart: one session"
end_parallel
"$PGDRIP" --once --format json -U p_low --user 'p_*' >"$T_TMP/r.json"
is "$(jq "$g | .states.idle_in_transaction" "$T_TMP/r.json")" 2 "with pg_monitor the states are seen"
is "$(jq '.warnings | length' "$T_TMP/r.json")" 0 "and the warning is gone"
"$PGDRIP" "${gate[@]}" -U p_low >/dev/null 2>&1
is "$?" 1 "and the gate run as p_low now fails"
done_testing
