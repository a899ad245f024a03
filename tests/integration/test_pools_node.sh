#!/usr/bin/env bash
# Two Node pools besides pg.Pool, seen from the server alone (a watch):
# knex's (tarn: keeps 2 open, opens on demand, closes members idle for
# 30 s) and postgres.js's (its own protocol code, opens on demand).
# Each leaks one connection on an error path until it is exhausted:
# flagged before, and still flagged at the plateau.  The same pools
# releasing properly, at a steady load or a swinging one, are never
# flagged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pools.sh"

need_packages "${CLIENT_PACKAGES[@]}" >&2
need_npm ""
CLIENTS=$(cd "$(dirname "$0")/../clients" && pwd)
RUN=90
sql "DROP ROLE IF EXISTS nodepools_role; CREATE ROLE nodepools_role LOGIN" >/dev/null

watch_pools nodepools_role "$RUN"

APP_PIDS=()
app() {
	start_group "$1" env PGUSER=nodepools_role node "$CLIENTS/node/pools.js" \
		--app "$1" --duration $((RUN + 5)) "${@:2}"
	APP_PIDS+=("${T_PIDS[-1]}")
}
# 5 requests a second of 20 ms; a leak every 25th request (5 s).
app knex-leak --lib knex --max 10 --leak-every 25
app knex-ok --lib knex --max 10
# Healthy, under a daily curve sped up: 40 requests a second of 200 ms
# (8 members busy) down to 4 (one) in 30 s, and back.
app knex-swing --lib knex --max 20 --rate 40 --rate-low 4 --period 60 --work-ms 200
app pgjs-leak --lib postgres --max 10 --leak-every 25
app pgjs-ok --lib postgres --max 10
app pgjs-swing --lib postgres --max 20 --rate 40 --rate-low 4 --period 60 --work-ms 200

wait "$pgdrip_pid"
is "$?" 0 "the watch ends with --duration"
# The services outlive the watch by 5 s (their sessions still open at
# its end), then print their counts.
for pid in "${APP_PIDS[@]}"; do wait "$pid"; done
for app in knex-leak pgjs-leak; do
	check_drained "$app" 10
done
for app in knex-ok knex-swing pgjs-ok pgjs-swing; do
	check "$app: served its requests ($(tail -1 "$T_TMP/$app.out"))" \
		grep -Eq '^requests served [1-9][0-9]* timed_out 0 leaked 0' "$T_TMP/$app.out"
	is "$(field "$app" .growth.first_flagged_s)" null "$app: a healthy pool is never flagged"
	is "$(field "$app" .verdict.state)" ok "$app: ...its verdict ok"
done
for app in knex-swing pgjs-swing; do
	check "$app: its pool grew with the load ($(field "$app" .peak) sessions at the peak)" \
		jq -e "$(group_of "$app") | .peak >= 5" "$POOLS_FINAL"
done
is "$("$PGDRIP" --replay "$T_TMP/run.jsonl" --user nodepools_role --format json |
	jq -r "$(group_of pgjs-leak) | .verdict.state")" stuck "a replay of the record reaches the same verdict"
done_testing
