#!/usr/bin/env bash
# A step of the wall clock (NTP, a VM resumed, date -s) during a run:
# pgdrip's times stay on the monotonic clock, so its record never runs
# backwards or leaps and replays; the step is said once on stderr and
# named in the live report and the replay's.  The step is made with
# libfaketime on pgdrip alone (its offset file changed mid-run; the
# monotonic clock left alone), never on the machine's clock.
. "$(dirname "$0")/lib.sh"

need_packages faketime:faketime
lib=$(dpkg -L faketime libfaketime 2>/dev/null | grep -m1 '/libfaketime\.so\.1$')
check "libfaketime found ($lib)" test -f "$lib"
lines_at_least() { [ "$(wc -l <"$2" 2>/dev/null || echo 0)" -ge "$1" ]; }

for step in -3600 +86400; do
	echo "+0" >"$T_TMP/offset"
	rec=$T_TMP/step$step.jsonl
	FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1 \
		FAKETIME_TIMESTAMP_FILE="$T_TMP/offset" LD_PRELOAD="$lib" \
		"$PGDRIP" --interval 200ms --format json -o "$T_TMP/live.json" \
		--record "$rec" 2>"$T_TMP/err" &
	pid=$!
	T_PIDS+=("$pid")
	poll_until 60 lines_at_least 3 "$rec"
	echo "$step" >"$T_TMP/offset"
	poll_until 60 lines_at_least 8 "$rec"
	kill -TERM "$pid"
	wait "$pid"
	is "$?" 0 "a ${step}s step: the run ends as usual"
	sign=$(printf '%+.1f' "$step")
	is "$(cat "$T_TMP/err")" \
		"pgdrip: the wall clock was stepped by ${sign}s: pgdrip's times follow the monotonic clock" \
		"...said once on stderr"
	check "...the record's times only move on, by less than 2 s a line" \
		jq -se '[.[].t] as $t | all(range(1; $t | length); $t[.] > $t[. - 1] and $t[.] - $t[. - 1] < 2)' "$rec"
	want="the wall clock was stepped 1 times, by [${sign:0:1}]${sign:1}s in all, during the run"
	like "$(jq -r '.warnings[]' "$T_TMP/live.json")" "^$want" "...named in the report"
	"$PGDRIP" --replay "$rec" --format json >"$T_TMP/replay.json" 2>"$T_TMP/rerr"
	is "$?:$(cat "$T_TMP/rerr")" "0:" "...the record replays"
	like "$(jq -r '.warnings[]' "$T_TMP/replay.json")" "^$want" "...and the replay names it too"
done
done_testing
