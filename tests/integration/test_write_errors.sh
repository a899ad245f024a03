#!/usr/bin/env bash
# A write error on any output is noticed: the report to stdout, stderr
# (wrap mode) or --output, and --plot, on a full disk (/dev/full) or a
# file past its size limit (ulimit -f, which a full disk looks like to
# the writer): one line naming the file and the error, exit 3, and a file
# that was there before stays whole (replaced atomically or not at all).
. "$(dirname "$0")/lib.sh"

# fails_with DESC WANT_LINE COMMAND...: exit 3 and exactly that stderr.
fails_with() {
	local desc=$1 want=$2
	shift 2
	"$@" 2>"$T_TMP/err"
	is "$?" 3 "$desc exits 3"
	is "$(cat "$T_TMP/err")" "$want" "...with one line naming it"
}
full='pgdrip: cannot write "/dev/full": No space left on device'
stdout_full='pgdrip: cannot write to standard output: No space left on device'

fails_with "--once -o /dev/full" "$full" "$PGDRIP" --once -o /dev/full
fails_with "--once --format json -o /dev/full" "$full" \
	"$PGDRIP" --once --format json -o /dev/full
fails_with "--once with stdout on /dev/full" "$stdout_full" \
	sh -c 'exec "$0" --once >/dev/full' "$PGDRIP"
fails_with "...in JSON" "$stdout_full" \
	sh -c 'exec "$0" --once --format json >/dev/full' "$PGDRIP"
fails_with "...in the Prometheus format" "$stdout_full" \
	sh -c 'exec "$0" --once --format prometheus >/dev/full' "$PGDRIP"
fails_with "--plot /dev/full" "$full" \
	sh -c 'exec "$0" --once --plot /dev/full >/dev/null' "$PGDRIP"
"$PGDRIP" --settle 0 -- true 2>/dev/full
is "$?" 3 "wrap mode with its report on a full stderr exits 3"
"$PGDRIP" --once >/dev/null 2>"$T_TMP/err"
is "$?:$(cat "$T_TMP/err")" "0:" "(the same run on a good disk exits 0, silently)"

# A regular file that cannot grow: the write fails part way, and the file
# that was there stays as it was, with no temporary file left beside it.
mkdir "$T_TMP/out"
printf 'old report\n' >"$T_TMP/out/report.json"
printf 'old picture\n' >"$T_TMP/out/plot.svg"
# 1 KiB: too little for a report or a picture, enough for the old files.
limited() { (ulimit -f 1 && exec "$@"); }
fails_with "--output on a file that cannot grow" \
	"pgdrip: cannot write \"$T_TMP/out/report.json\": File too large" \
	limited "$PGDRIP" --once --format json -o "$T_TMP/out/report.json"
is "$(cat "$T_TMP/out/report.json")" "old report" "...the old report stays whole"
fails_with "--plot on a file that cannot grow" \
	"pgdrip: cannot write \"$T_TMP/out/plot.svg\": File too large" \
	limited "$PGDRIP" --once -o /dev/null --plot "$T_TMP/out/plot.svg"
is "$(cat "$T_TMP/out/plot.svg")" "old picture" \
	"...the old picture stays whole (replaced atomically, like --output)"
is "$(ls -A "$T_TMP/out" | sort | tr '\n' ' ')" "plot.svg report.json " \
	"...and no temporary file is left behind"
"$PGDRIP" --once -o /dev/null --plot "$T_TMP/out/plot.svg"
is "$?" 0 "with room, --plot replaces the picture"
check "...with a whole SVG" xmllint --noout "$T_TMP/out/plot.svg"
is "$(ls -A "$T_TMP/out" | sort | tr '\n' ' ')" "plot.svg report.json " \
	"...and no temporary file beside it"

# --record on a full disk: one line, said once, exit 3; monitoring goes on.
fails_with "--once --record /dev/full" "$full" \
	sh -c 'exec "$0" --once --record /dev/full >/dev/null' "$PGDRIP"
fails_with "watch mode --record /dev/full, said once" "$full" \
	sh -c 'exec "$0" --duration 1s --interval 200ms --no-live --record /dev/full >/dev/null' "$PGDRIP"

# A record that fills up during the run, then gets room again: the
# record stays whole and replays, with samples from after the room came
# back.
rec=$T_TMP/out/run.jsonl
: >"$rec"
# Each step waits for what pgdrip wrote, not for a fixed time (the run
# lasts until SIGTERM, once a sample after the room came back is in).
"$PGDRIP" --duration 600s --interval 100ms --no-live --record "$rec" >/dev/null 2>"$T_TMP/err" &
pid=$!
T_PIDS+=("$pid")
poll_until 120 test -s "$rec"
# The soft limit only: the hard one, once lowered, could not be raised.
prlimit --pid "$pid" --fsize="$(($(stat -c %s "$rec") + 200)):"
poll_until 120 grep -q "File too large" "$T_TMP/err"
lifted=$(date +%s.%N)
prlimit --pid "$pid" --fsize=unlimited:
after_lift() {
	awk -v a="$(tail -1 "$rec" | jq .t)" -v b="$lifted" 'BEGIN { exit !(a > b) }'
}
poll_until 120 after_lift
kill -TERM "$pid"
reap "$pid"
is "$?" 3 "a --record file that filled up during the run exits 3"
is "$(cat "$T_TMP/err")" "pgdrip: cannot write \"$rec\": File too large" "...said in one line, once"
"$PGDRIP" --replay "$rec" --format json >"$T_TMP/replay.json"
is "$?" 0 "...and the record replays, no half line in it"
is "$(jq '[.warnings[] | select(test("cut short"))] | length' "$T_TMP/replay.json")" 0 "...not even at its end"
like "$(jq -r '.warnings[]' "$T_TMP/replay.json")" \
	"^[0-9]+ samples could not be written to the record" \
	"...and it says how many samples could not be written"
check "...with samples from after the room came back" \
	awk -v a="$(tail -1 "$rec" | jq .t)" -v b="$lifted" 'BEGIN { exit !(a > b) }'

# A closed standard output (pgdrip --once | head -1, | true) ends pgdrip
# quietly with the checks' exit code, as git and psql do.  The pipe's
# read end is closed before pgdrip starts, so its write fails for sure.
closed_stdout() {
	python3 -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.call(sys.argv[1:], stdout=w))' "$@"
}
closed_stdout "$PGDRIP" --once 2>"$T_TMP/err"
is "$?:$(cat "$T_TMP/err")" "0:" "--once to a closed pipe: exit 0, nothing said"
closed_stdout "$PGDRIP" --once --format json 2>"$T_TMP/err"
is "$?:$(cat "$T_TMP/err")" "0:" "...in JSON too"
start_workload idle:-:app:2
closed_stdout "$PGDRIP" --once --max-total 1 2>"$T_TMP/err"
is "$?" 1 "...a failed check still exits 1"
is "$(cat "$T_TMP/err")" \
	"pgdrip: check max-total failed: total: 2 connections (limit 1)" \
	"...with its line, and no other"
stop_workload "$WL_PID"
"$PGDRIP" --once | head -1 >"$T_TMP/head" 2>"$T_TMP/err"
is "${PIPESTATUS[0]}:$(cat "$T_TMP/err")" "0:" "pgdrip --once | head -1: exit 0, quiet"

done_testing
