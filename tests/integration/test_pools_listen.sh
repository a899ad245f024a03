#!/usr/bin/env bash
# Sessions held on purpose, seen from the server alone (a watch): LISTEN
# workers (psycopg2 threads, node-postgres clients), each on a connection
# that ran LISTEN and then only waits, added one every few seconds beside
# a small pool of their own; and pools warmed to 10 connections then
# resting (psycopg2, node-postgres pg.Pool).  None is ever flagged, and
# the report says why their unused sessions are not counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pools.sh"

need_packages "${CLIENT_PACKAGES[@]}" >&2
need_npm "" "${NPM_PACKAGES[@]}" >&2
CLIENTS=$(cd "$(dirname "$0")/../clients" && pwd)
RUN=60
sql "DROP ROLE IF EXISTS pl_held; CREATE ROLE pl_held LOGIN" >/dev/null
export PGUSER=pl_held

watch_pools pl_held "$RUN"

py=(/usr/bin/python3 "$CLIENTS/python/listeners.py" --duration $((RUN + 5)))
node=(node "$CLIENTS/node/listeners.js" --duration $((RUN + 5)))
start_group pl-py-listen "${py[@]}" --app pl-py-listen --workers 5 --every 5
start_group pl-node-listen "${node[@]}" --app pl-node-listen --workers 5 --every 5
start_group pl-py-warm "${py[@]}" --app pl-py-warm --warm 10 --warm-gap 0.4
start_group pl-node-warm "${node[@]}" --app pl-node-warm --warm 10

wait "$pgdrip_pid"
is "$?" 0 "the watch ends with --duration"

for app in pl-py-listen pl-node-listen; do
	check "$app: all 5 listeners held ($(field "$app" .connections) sessions)" \
		jq -e "$(group_of "$app") | .connections >= 6" "$POOLS_FINAL"
	is "$(field "$app" .growth.first_flagged_s)" null "$app: LISTEN workers are never flagged"
	check "$app: ...their unused sessions not counted, as listeners ($(field "$app" .verdict.not_counted.listeners))" \
		jq -e "$(group_of "$app") | .verdict.not_counted.listeners >= 3" "$POOLS_FINAL"
done
for app in pl-py-warm pl-node-warm; do
	is "$(field "$app" .connections)" 10 "$app: warmed to 10 connections"
	is "$(field "$app" .growth.first_flagged_s)" null "$app: a warm pool at rest is never flagged"
	check "$app: ...its sessions not counted, as resting ($(field "$app" .verdict.not_counted.resting))" \
		jq -e "$(group_of "$app") | .verdict.not_counted.resting >= 8" "$POOLS_FINAL"
done
"$PGDRIP" --replay "$T_TMP/run.jsonl" --user pl_held --format text >"$T_TMP/replay.txt" 2>&1
like "$(cat "$T_TMP/replay.txt")" "pl-py-listen.*: [0-9]+ listening" "the text report says the listeners are not counted, and why"
like "$(cat "$T_TMP/replay.txt")" "pl-node-warm.*: [0-9]+ resting" "...and the resting pool's"
done_testing
