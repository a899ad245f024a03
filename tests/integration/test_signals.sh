#!/usr/bin/env bash
# SIGINT, SIGTERM and SIGHUP in watch, wrap and drain modes: the report is
# written, the record file is whole, the exit status is the checks'; a
# report piped to head exits quietly.
. "$(dirname "$0")/lib.sh"

# lines_at_least N FILE: FILE has N lines (a sample each), so a signal
# comes once there is something to report, however slow the machine.
lines_at_least() { [ "$(wc -l <"$2" 2>/dev/null || echo 0)" -ge "$1" ]; }

sql "DROP ROLE IF EXISTS s_app; CREATE ROLE s_app LOGIN" >/dev/null
start_workload idle:s_app:held:3 || fail "workload"

for sig in INT TERM HUP; do
	"$PGDRIP" --interval 200ms --user s_app --format json --record "$T_TMP/$sig.jsonl" \
		>"$T_TMP/$sig.json" 2>"$T_TMP/$sig.err" &
	pid=$!
	poll_until 30 lines_at_least 5 "$T_TMP/$sig.jsonl" ||
		echo "# $sig: fewer than 5 samples in 30 s"
	kill -"$sig" "$pid"
	wait "$pid"
	is "$?" 0 "watch: SIG$sig ends the run with the checks' status"
	check "watch: SIG$sig: the report is written" jq -e '.samples >= 5' "$T_TMP/$sig.json"
	check "watch: SIG$sig: every record line is whole" jq -e .t "$T_TMP/$sig.jsonl"
	is "$(wc -l <"$T_TMP/$sig.jsonl")" "$(jq .samples "$T_TMP/$sig.json")" \
		"watch: SIG$sig: one record line per sample"
done

"$PGDRIP" --interval 200ms --user s_app --max-per-group 1 \
	--record "$T_TMP/breach.jsonl" >/dev/null 2>"$T_TMP/err" &
pid=$!
poll_until 30 lines_at_least 1 "$T_TMP/breach.jsonl"
kill -INT "$pid"
wait "$pid"
is "$?" 1 "watch: a breached check still fails after SIGINT"

"$PGDRIP" --interval 200ms -o "$T_TMP/wrap.txt" -- sleep 30 2>/dev/null &
pid=$!
# Once the command runs (pgdrip starts it after its first sample).
command_runs() { pgrep -P "$pid" -x sleep; }
poll_until 120 command_runs
kill -INT "$pid"
reap "$pid"
is "$?" 130 "wrap: SIGINT is forwarded; the command's 128+2 wins"
check "wrap: the report is written" grep -q "wrap report" "$T_TMP/wrap.txt"

"$PGDRIP" --app held --wait-drain 600s --interval 200ms 2>"$T_TMP/drain.err" &
pid=$!
# Once it waits: its session is in.
pgdrip_seen
kill -TERM "$pid"
reap "$pid"
is "$?" 1 "wait-drain: SIGTERM stops waiting with exit 1"
like "$(cat "$T_TMP/drain.err")" "still connected" "wait-drain: names who is left"

"$PGDRIP" --once --user s_app 2>"$T_TMP/pipe.err" | head -1 >/dev/null
is "${PIPESTATUS[0]}" 0 "--once | head: exits 0"
is "$(cat "$T_TMP/pipe.err")" "" "--once | head: nothing on stderr"

# SIGUSR1 and SIGUSR2 are not pgdrip's: they no longer end it without a
# report (exit 138).  A stop of pgdrip itself (SIGSTOP, then SIGCONT) is
# a gap the report names, with its length.
"$PGDRIP" --interval 200ms --format json -o "$T_TMP/usr.json" \
	--record "$T_TMP/usr.jsonl" 2>"$T_TMP/usr.err" &
pid=$!
T_PIDS+=("$pid")
poll_until 60 lines_at_least 2 "$T_TMP/usr.jsonl"
kill -USR1 "$pid"
kill -USR2 "$pid"
lines=$(wc -l <"$T_TMP/usr.jsonl")
poll_until 60 lines_at_least $((lines + 2)) "$T_TMP/usr.jsonl"
check "SIGUSR1 and SIGUSR2: pgdrip samples on" kill -0 "$pid"
kill -STOP "$pid"
sleep 3
kill -CONT "$pid"
lines=$(wc -l <"$T_TMP/usr.jsonl")
poll_until 60 lines_at_least $((lines + 2)) "$T_TMP/usr.jsonl"
kill -TERM "$pid"
wait "$pid"
is "$?:$(cat "$T_TMP/usr.err")" "0:" "...and ends on SIGTERM with exit 0, nothing said"
stopped=$(jq -r '.warnings[] | select(test("pgdrip itself was stopped"))' "$T_TMP/usr.json")
like "$stopped" "^pgdrip itself was stopped 1 times .*for up to [0-9.]+s in all: no sample was taken then" \
	"a 3 s SIGSTOP is named in the report"
secs=$(printf '%s' "$stopped" | sed -nE 's/.*up to ([0-9.]+)s in all.*/\1/p')
check "...for at least the 3 s it lasted (${secs}s)" \
	awk -v s="$secs" 'BEGIN { exit !(s >= 3) }'
done_testing
