#!/usr/bin/env bash
# A role without pg_read_all_stats: other roles' sessions still counted,
# their state unknown (never 0), and a warning naming GRANT pg_monitor.
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

sql "GRANT pg_monitor TO p_low" >/dev/null
"$PGDRIP" --once --format json -U p_low --user 'p_*' >"$T_TMP/r.json"
is "$(jq "$g | .states.idle_in_transaction" "$T_TMP/r.json")" 2 "with pg_monitor the states are seen"
is "$(jq '.warnings | length' "$T_TMP/r.json")" 0 "and the warning is gone"
done_testing
