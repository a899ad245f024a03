#!/usr/bin/env bash
# A hung server: the backend serving pgdrip is stopped (SIGSTOP).  A short
# stall makes a late sample; a long one is cancelled at the deadline, the
# session dropped and a new one opened.  Never a hang.
. "$(dirname "$0")/lib.sh"

backend_of_pgdrip() {
	for _ in $(seq 50); do
		p=$(psql -XAtqc "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgdrip' LIMIT 1")
		[ -n "$p" ] && { echo "$p"; return; }
		sleep 0.1
	done
}

# A 2 s stall at a 500 ms interval: late samples, the run ends on time.
start=$(date +%s)
"$PGDRIP" --duration 8s --interval 500ms --format json >"$T_TMP/short.json" 2>"$T_TMP/short.err" &
pid=$!
sleep 1.5
b=$(backend_of_pgdrip)
kill -STOP "$b"
sleep 2
kill -CONT "$b"
wait "$pid"
is "$?" 0 "short stall: the run completes"
took=$(($(date +%s) - start))
check "short stall: on time (${took}s for --duration 8s)" test "$took" -le 11
like "$(jq -r '.warnings[]' "$T_TMP/short.json")" "took longer than the interval" "short stall: late samples reported"

# A 9 s stall: past the 5 s deadline the sample is cancelled and the
# session replaced.
start=$(date +%s)
"$PGDRIP" --duration 14s --interval 500ms --format json >"$T_TMP/long.json" 2>"$T_TMP/long.err" &
pid=$!
sleep 1.5
b=$(backend_of_pgdrip)
kill -STOP "$b"
sleep 9
took_mid=$(($(date +%s) - start))
check "long stall: pgdrip still running, not hung on it (${took_mid}s)" kill -0 "$pid"
kill -CONT "$b"
wait "$pid"
is "$?" 0 "long stall: the run completes"
took=$(($(date +%s) - start))
check "long stall: on time (${took}s for --duration 14s)" test "$took" -le 18
check "long stall: failed samples counted" jq -e '.failed_samples >= 1' "$T_TMP/long.json"
like "$(cat "$T_TMP/long.err")" "took longer than" "long stall: says what happened"
like "$(cat "$T_TMP/long.err")" "reconnected" "long stall: a new session took over"
check "long stall: samples after the stall" jq -e '.samples >= 10' "$T_TMP/long.json"
done_testing
