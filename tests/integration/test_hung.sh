#!/usr/bin/env bash
# A hung server: the backend serving pgdrip is stopped (SIGSTOP).  Every
# 500 ms slot of the stall still has its line in the record, on time: a
# failure when the sample in flight has not answered by the slot's end;
# the sample is cancelled after a second, and past the 5 s deadline the
# session is dropped and a new one opened.  A hung postmaster (new
# connections hang): every slot still ends in a failed sample, on time,
# and a stop signal during the connect ends pgdrip at once, with its
# report.  Never a hang.
. "$(dirname "$0")/lib.sh"

# backend_of_pgdrip: the pid of the backend serving pgdrip, once there
# is one.
backend_of_pgdrip() {
	poll_until 120 psql_has_pgdrip &&
		psql -XAtqc "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgdrip' LIMIT 1"
}
psql_has_pgdrip() {
	[ -n "$(psql -XAtqc "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgdrip' LIMIT 1")" ]
}

# connecting PID: PID holds a socket (its connection to the server).
connecting() {
	find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | grep -q .
}

# on_time NAME JSON DURATION [STALL_END]: the run's report spans no more
# than DURATION, or the stall (ended at epoch STALL_END) if it ended
# later, with 3 s to spare; the span is pgdrip's own (its first sample to
# its report, in whole seconds), so a loaded machine does not decide it.
on_time() {
	local span due=$3 over
	span=$(report_span "$2")
	if [ -n "${4:-}" ]; then
		over=$(($4 - $(jq -r '.started_at | fromdate' "$2")))
		[ "$over" -gt "$due" ] && due=$over
	fi
	if [ -n "$span" ] && [ "$span" -le $((due + 3)) ]; then
		pass "$1: on time (${span}s from first sample to report for --duration ${3}s)"
	else
		fail "$1: on time (${span}s from first sample to report for --duration ${3}s, due by ${due}s)"
		sed 's/^/# /' "$T_TMP/$1.err"
	fi
}

# every_slot NAME RECORD FROM TO: the record has a line (a sample or a
# failure) for each 500 ms slot, by pgdrip's own dates: at least one line
# a slot between the epochs FROM and TO (the stall, as the script timed
# it), and no gap of 1.2 s between two lines.  A failure is dated when
# its slot began, a sample when it came in: a late answer taken by the
# next slot comes up to two slots after the failure before it, so the
# gap allows that and a loop woken a little late, and a slot missed
# shows in the count.
every_slot() {
	local gaps n want
	gaps=$(jq -r '.t' "$2" | awk 'NR > 1 && $1 - prev >= 1.2 { n++ } { prev = $1 } END { print n + 0 }')
	is "$gaps" 0 "$1: a line in the record for every slot (no gap of 1.2 s or more)"
	n=$(jq -s --argjson a "$3" --argjson b "$4" '[.[] | select(.t >= $a and .t < $b)] | length' "$2")
	want=$(awk -v a="$3" -v b="$4" 'BEGIN { print int((b - a) / 0.5) - 1 }')
	check "$1: $n lines for the $want whole slots of the stall" test "$n" -ge "$want"
}

# A 2 s stall at a 500 ms interval: the slots it spans fail on time, the
# run ends on time.
"$PGDRIP" --duration 8s --interval 500ms --format json --record "$T_TMP/short.rec" \
	>"$T_TMP/short.json" 2>"$T_TMP/short.err" &
pid=$!
b=$(backend_of_pgdrip)
kill -STOP "$b"
stop=$(date +%s.%N)
sleep 2
kill -CONT "$b"
cont=$(date +%s.%N)
# On time: by the end of --duration or of the stall, whichever is later
# (a slow machine may start the stall late).
stall_end=$(date +%s)
reap "$pid"
is "$?" 0 "short stall: the run completes"
on_time short "$T_TMP/short.json" 8 "$stall_end"
check "short stall: failed samples counted" jq -e '.failed_samples >= 2' "$T_TMP/short.json"
like "$(jq -r '.warnings[]' "$T_TMP/short.json")" "[0-9]+ of [0-9]+ samples failed" "short stall: the report says how many slots had no sample"
every_slot "short stall" "$T_TMP/short.rec" "$stop" "$cont"
like "$(jq -r 'select(.status == "failed") | .error' "$T_TMP/short.rec")" \
	"took longer than the interval \(0.5s\): no answer after [0-9.]+s, cancelled" \
	"short stall: the sample in flight is cancelled after a second, and the record says so"

# A 9 s stall: the sample is cancelled, and past the 5 s deadline the
# session is replaced; every slot has its line all along.
"$PGDRIP" --duration 14s --interval 500ms --format json --record "$T_TMP/long.rec" \
	>"$T_TMP/long.json" 2>"$T_TMP/long.err" &
pid=$!
b=$(backend_of_pgdrip)
kill -STOP "$b"
stop=$(date +%s.%N)
sleep 9
check "long stall: pgdrip still running, not hung on it" kill -0 "$pid"
kill -CONT "$b"
cont=$(date +%s.%N)
reap "$pid"
is "$?" 0 "long stall: the run completes"
on_time long "$T_TMP/long.json" 14
check "long stall: failed samples counted" jq -e '.failed_samples >= 1' "$T_TMP/long.json"
like "$(cat "$T_TMP/long.err")" "took longer than" "long stall: says what happened"
like "$(cat "$T_TMP/long.err")" "reconnected" "long stall: a new session took over"
check "long stall: samples after the stall" jq -e '.samples >= 10' "$T_TMP/long.json"
every_slot "long stall" "$T_TMP/long.rec" "$stop" "$cont"
check "long stall: the report's samples and failures are the record's lines" \
	test "$(jq '.samples + .failed_samples' "$T_TMP/long.json")" -eq "$(grep -c . "$T_TMP/long.rec")"

# The postmaster stopped: the kernel still accepts connections, nobody
# answers them.  pgdrip's session is ended, so it must reconnect.
postmaster=$(head -1 "$CLUSTER_DIR/data/postmaster.pid")
at_exit "kill -CONT $postmaster"
"$PGDRIP" --no-live --duration 10s --interval 500ms --record "$T_TMP/hung.rec" \
	--format json >"$T_TMP/hung.json" 2>"$T_TMP/hung.err" &
pid=$!
b=$(backend_of_pgdrip)
kill -STOP "$postmaster"
kill -TERM "$b"
sleep 5
kill -CONT "$postmaster"
reap "$pid"
is "$?" 0 "hung postmaster: the run completes"
failed=$(jq -r 'select(.status == "failed") | .t' "$T_TMP/hung.rec")
n=$(printf '%s\n' "$failed" | grep -c .)
check "...a failed sample for each 500 ms slot of the hang ($n in 5 s)" test "$n" -ge 8
# A missed slot is a gap of two intervals: anything shorter is a slot
# kept, however late the machine let it start.
gaps=$(printf '%s\n' "$failed" | awk 'NR > 1 && $1 - prev >= 0.95 { n++ } { prev = $1 } END { print n + 0 }')
is "$gaps" 0 "...each on time (no slot missed: no gap of 950 ms or more between them)"
like "$(jq -r 'select(.status == "failed") | .error' "$T_TMP/hung.rec" | tail -1)" \
	"no answer from the server yet \(connecting for" "...saying the connect hangs"
check "...and samples again once the server answers" \
	jq -se '[.[] | select(.status == "ok")] | length >= 6' "$T_TMP/hung.rec"

# A stop signal while the first connect hangs, even with
# connect_timeout=0 (no timeout at all): pgdrip ends on it.  The server
# stays stopped, so a pgdrip that ends at all ended on the signal; the
# time it took is reported, not judged (a loaded machine decides it).
kill -STOP "$postmaster"
for mode in --no-live --once; do
	"$PGDRIP" $mode -d "connect_timeout=0" --format json \
		>"$T_TMP/term$mode.json" 2>"$T_TMP/term$mode.err" &
	pid=$!
	# Once it is connecting: its socket to the stopped server is open.
	poll_until 120 connecting "$pid"
	start=$(date +%s%N)
	kill -TERM "$pid"
	reap "$pid" 60
	rc=$?
	took=$((($(date +%s%N) - start) / 1000000))
	is "$rc" 3 "SIGTERM during a connect ($mode): exit 3 (after ${took} ms)"
	check "...the server still stopped then (no answer ended it)" stopped "$postmaster"
done
check "...the watch report says no sample could be taken" \
	jq -e '.up == false and (.warnings | any(test("no sample could be taken")))' \
	"$T_TMP/term--no-live.json"
like "$(cat "$T_TMP/term--once.err")" "stopped before the server answered" \
	"...--once says why it has no report"
kill -CONT "$postmaster"
done_testing
