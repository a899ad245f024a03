#!/usr/bin/env bash
# A hung server: the backend serving pgdrip is stopped (SIGSTOP).  A short
# stall makes a late sample; a long one is cancelled at the deadline, the
# session dropped and a new one opened.  A hung postmaster (new
# connections hang): every slot still ends in a failed sample, on time,
# and a stop signal during the connect ends pgdrip at once, with its
# report.  Never a hang.
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
# On time: by the end of --duration or of the stall, whichever is later
# (a slow machine may start the stall late), with 3 s to spare.
stall_end=$(($(date +%s) - start))
wait "$pid"
is "$?" 0 "short stall: the run completes"
took=$(($(date +%s) - start))
due=$((stall_end > 8 ? stall_end : 8))
if [ "$took" -le $((due + 3)) ]; then
	pass "short stall: on time (${took}s for --duration 8s, the stall over at ${stall_end}s)"
else
	fail "short stall: on time (${took}s for --duration 8s, the stall over at ${stall_end}s)"
	sed 's/^/# /' "$T_TMP/short.err"
fi
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

# The postmaster stopped: the kernel still accepts connections, nobody
# answers them.  pgdrip's session is ended, so it must reconnect.
postmaster=$(head -1 "$CLUSTER_DIR/data/postmaster.pid")
at_exit "kill -CONT $postmaster"
"$PGDRIP" --no-live --duration 10s --interval 500ms --record "$T_TMP/hung.rec" \
	--format json >"$T_TMP/hung.json" 2>"$T_TMP/hung.err" &
pid=$!
sleep 2
b=$(backend_of_pgdrip)
kill -STOP "$postmaster"
kill -TERM "$b"
sleep 5
kill -CONT "$postmaster"
wait "$pid"
is "$?" 0 "hung postmaster: the run completes"
failed=$(jq -r 'select(.status == "failed") | .t' "$T_TMP/hung.rec")
n=$(printf '%s\n' "$failed" | grep -c .)
check "...a failed sample for each 500 ms slot of the hang ($n in 5 s)" test "$n" -ge 8
gaps=$(printf '%s\n' "$failed" | awk 'NR > 1 && $1 - prev > 0.75 { n++ } { prev = $1 } END { print n + 0 }')
is "$gaps" 0 "...each on time (no gap over 750 ms between them)"
like "$(jq -r 'select(.status == "failed") | .error' "$T_TMP/hung.rec" | tail -1)" \
	"no answer from the server yet \(connecting for" "...saying the connect hangs"
check "...and samples again once the server answers" \
	jq -se '[.[] | select(.status == "ok")] | length >= 6' "$T_TMP/hung.rec"

# A stop signal while the first connect hangs, even with
# connect_timeout=0 (no timeout at all): out within a second.
kill -STOP "$postmaster"
for mode in --no-live --once; do
	"$PGDRIP" $mode -d "connect_timeout=0" --format json \
		>"$T_TMP/term$mode.json" 2>"$T_TMP/term$mode.err" &
	pid=$!
	sleep 1
	start=$(date +%s%N)
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	took=$((($(date +%s%N) - start) / 1000000))
	is "$rc" 3 "SIGTERM during a connect ($mode): exit 3"
	check "...within a second (${took} ms)" test "$took" -lt 1000
done
check "...the watch report says no sample could be taken" \
	jq -e '.up == false and (.warnings | any(test("no sample could be taken")))' \
	"$T_TMP/term--no-live.json"
like "$(cat "$T_TMP/term--once.err")" "stopped before the server answered" \
	"...--once says why it has no report"
kill -CONT "$postmaster"
done_testing
