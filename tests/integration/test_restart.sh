#!/usr/bin/env bash
# A server restart mid-run (fast and immediate): pgdrip reconnects with
# backoff, marks the gap, keeps the baseline, and reads neither the drop
# nor the refill as a leak; --once waits for a restarting server.
. "$(dirname "$0")/lib.sh"

sql "DROP ROLE IF EXISTS x_app; CREATE ROLE x_app LOGIN" >/dev/null

for mode in fast immediate; do
	start_workload idle:x_app:pool:4 || fail "workload"
	"$PGDRIP" --duration 9s --interval 250ms --user x_app --fail-on-growth \
		--record "$T_TMP/$mode.jsonl" --format json >"$T_TMP/$mode.json" \
		2>"$T_TMP/$mode.err" &
	pid=$!
	sleep 3
	cluster_ctl -m "$mode" restart || fail "pg_ctl restart -m $mode"
	stop_workload "$WL_PID"
	start_workload idle:x_app:pool:4 || fail "workload after restart"
	wait "$pid"
	is "$?" 0 "restart -m $mode: the run completes, no leak read into it"
	j() { jq -r "$1" "$T_TMP/$mode.json"; }
	check "restart -m $mode: samples before and after ($(j .samples))" \
		test "$(j .samples)" -ge 15
	check "restart -m $mode: failed samples counted ($(j .failed_samples))" \
		test "$(j .failed_samples)" -ge 1
	is "$(j '.groups[] | select(.application=="pool") | .baseline')" 4 \
		"restart -m $mode: the baseline is kept"
	is "$(j '.groups[] | select(.application=="pool") | .connections')" 4 \
		"restart -m $mode: counts again after the restart"
	is "$(j '.groups[] | select(.application=="pool") | .growth.flagged')" false \
		"restart -m $mode: the refill is not a leak"
	like "$(cat "$T_TMP/$mode.err")" "reconnected after" "restart -m $mode: says it reconnected"
	like "$(j '.warnings[]')" "re-established" "restart -m $mode: the report says so"
	check "restart -m $mode: the gap is in the record" \
		grep -q '"status":"failed"' "$T_TMP/$mode.jsonl"
	# The replay says it as the live run did: the record marks the
	# sample after the reconnection.
	"$PGDRIP" --replay "$T_TMP/$mode.jsonl" --format json \
		>"$T_TMP/$mode.replay.json" 2>/dev/null
	again() { jq -r '.warnings[] | select(test("re-established"))' "$1"; }
	is "$(again "$T_TMP/$mode.replay.json")" "$(again "$T_TMP/$mode.json")" \
		"restart -m $mode: the replay says it reconnected, as often"
	stop_workload "$WL_PID"
done

# --once against a server that is coming back.
cluster_ctl -m fast stop
(sleep 2; cluster_ctl restart) &
restarter=$!
"$PGDRIP" --once --format json >"$T_TMP/once.json" 2>"$T_TMP/once.err"
rc=$?
is "$rc" 0 "--once waits for a restarting server"
# What it said, when it did not wait: a message the retry missed.
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T_TMP/once.err"
like "$(cat "$T_TMP/once.err")" "waiting for the server" "...and says so"
wait "$restarter"
psql -XAtqc "SELECT 1" >/dev/null 2>&1 || cluster_ctl restart
done_testing
