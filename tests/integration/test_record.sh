#!/usr/bin/env bash
# --record then --replay gives the same verdicts; damaged or forged
# record files give a clear error naming the line (exit 2), or a warning
# for a cut last line.
. "$(dirname "$0")/lib.sh"

sql "DROP ROLE IF EXISTS r_app; CREATE ROLE r_app LOGIN CONNECTION LIMIT 50" >/dev/null
start_workload idle:r_app:steady:3 leak:r_app:leaky:400 idle-tx:r_app:stuck:1 ||
	{ fail "workload"; done_testing; exit 1; }
rec=$T_TMP/run.jsonl
"$PGDRIP" --duration 8s --interval 400ms --user r_app --record "$rec" --format json \
	>"$T_TMP/live.json"
is "$?" 0 "watch mode with --record"
stop_workload "$WL_PID"
lines=$(wc -l <"$rec")
is "$lines" "$(jq .samples "$T_TMP/live.json")" "one record line per sample"
check "every line is JSON" jq -e .t "$rec"
"$PGDRIP" --replay "$rec" --format json >"$T_TMP/replay.json"
is "$?" 0 "--replay exits 0"
verdicts() {
	jq -c '[.samples, (.groups[] | [.application, .connections, .baseline, .peak,
		.growth.flagged, (.growth.slope_per_min | round)])]' "$1"
}
is "$(verdicts "$T_TMP/replay.json")" "$(verdicts "$T_TMP/live.json")" "replay reaches the live run's verdicts"
is "$(jq -r .pgdrip.mode "$T_TMP/replay.json")" replay "mode replay"
is "$(jq '.idle_in_transaction | length' "$T_TMP/replay.json")" 1 "idle-in-transaction sessions survive the record"
"$PGDRIP" --replay "$rec" --format json >"$T_TMP/replay2.json"
is "$(jq -S 'del(.ended_at, .self)' "$T_TMP/replay2.json" | md5sum)" \
	"$(jq -S 'del(.ended_at, .self)' "$T_TMP/replay.json" | md5sum)" "replay is deterministic"
"$PGDRIP" --replay "$rec" --group-by state --format json >"$T_TMP/bystate.json"
is "$(jq '.groups[] | select(.state=="idle") | .connections' "$T_TMP/bystate.json")" \
	"$(jq '[.groups[] | select(.application!="stuck") | .connections] | add' "$T_TMP/live.json")" \
	"a record can be regrouped on replay"
"$PGDRIP" --replay "$rec" --fail-on-growth >/dev/null 2>"$T_TMP/err"
is "$?" 1 "checks apply on replay"

# A recorder killed mid-line: the samples before it count, with a warning.
head -c -40 "$rec" >"$T_TMP/cut.jsonl"
"$PGDRIP" --replay "$T_TMP/cut.jsonl" --format json >"$T_TMP/cut.json"
is "$?" 0 "a cut last line is not fatal"
like "$(jq -r '.warnings[]' "$T_TMP/cut.json")" "last line was cut short" "...but warned about"
is "$(jq .samples "$T_TMP/cut.json")" $((lines - 1)) "...and skipped"

{ head -3 "$rec"; echo '{"v":1,"t":12,'; tail -2 "$rec"; } >"$T_TMP/bad.jsonl"
"$PGDRIP" --replay "$T_TMP/bad.jsonl" >/dev/null 2>"$T_TMP/err"
is "$?" 2 "a corrupt line in the middle exits 2"
like "$(cat "$T_TMP/err")" "line 4: " "...naming the line"
is "$(wc -l <"$T_TMP/err")" 1 "...in one line"
# Lines pgdrip cannot have written: the third one forged, each refused
# with exit 2 and one line naming it.
forged() {
	local desc=$1 filter=$2 want=$3
	{ head -2 "$rec"; sed -n 3p "$rec" | jq -c "$filter"; tail -n +4 "$rec"; } \
		>"$T_TMP/forged.jsonl"
	"$PGDRIP" --replay "$T_TMP/forged.jsonl" >"$T_TMP/out" 2>"$T_TMP/err"
	is "$?" 2 "$desc exits 2"
	like "$(cat "$T_TMP/err")" "^pgdrip: .*line 3: $want" "...naming the line"
	is "$(wc -l <"$T_TMP/err")" 1 "...in one line"
}
forged "an unknown format version" '.v = 999' \
	'format version 999 is not one this pgdrip reads'
forged "a time of 1e308" '.t = 1e308' '"t" is 1e\+308, not a time'
forged "a time before the line above" '.t -= 60' 'time runs backwards'
forged "max_connections -1" '.server.max_connections = -1' \
	'"max_connections" is -1'
forged "a negative role limit" '.role_limits = [{"name": "r_app", "limit": -5}]' \
	'"limit" is -5'
forged "a server clock of 1e308" '.now = 1e308' '"now" is 1e\+308'
forged "a session changed before it opened" \
	'.change = [{"pid": 1, "start": 1700000000}]' 'session 1 changed before it opened'
# Samples 400 ms apart: a step back under a second is taken for a clock
# set back.
{ head -2 "$rec"; sed -n 3p "$rec" | jq -c '.t -= 0.5'; tail -n +4 "$rec"; } \
	>"$T_TMP/slack.jsonl"
"$PGDRIP" --replay "$T_TMP/slack.jsonl" >/dev/null 2>&1
is "$?" 0 "a step back under a second is a clock set back, not an error"
# Each line says what changed since the one before: out of order, the
# first line is not a whole one.
tac "$rec" >"$T_TMP/reversed.jsonl"
"$PGDRIP" --replay "$T_TMP/reversed.jsonl" >/dev/null 2>"$T_TMP/err"
is "$?" 2 "a record in reverse order exits 2"
like "$(cat "$T_TMP/err")" "line 1: a line of sessions before any whole line" \
	"...at its first line"
head -c 3000 /dev/urandom >"$T_TMP/binary"
"$PGDRIP" --replay "$T_TMP/binary" >/dev/null 2>"$T_TMP/err"
is "$?" 2 "a binary file exits 2"
printf '{"v":1,"status":"ok"}\n' >"$T_TMP/not.jsonl"
"$PGDRIP" --replay "$T_TMP/not.jsonl" >/dev/null 2>"$T_TMP/err"
like "$(cat "$T_TMP/err")" 'line 1: not a pgdrip record' "JSON that is not a record is named as such"
: >"$T_TMP/empty.jsonl"
"$PGDRIP" --replay "$T_TMP/empty.jsonl" >/dev/null 2>"$T_TMP/err"
is "$?" 2 "an empty file exits 2"
"$PGDRIP" --replay "$T_TMP/missing.jsonl" >/dev/null 2>"$T_TMP/err"
is "$?" 2 "a missing file exits 2"
# Two lines at one moment (a copy, a clock that stood still): the second
# is skipped with a warning, never a rate over no time.
"$PGDRIP" --interval 100ms --duration 1s -o /dev/null --record "$T_TMP/same.jsonl"
awk 'NR == 3 { print; print; next } { print }' "$T_TMP/same.jsonl" >"$T_TMP/same2.jsonl"
"$PGDRIP" --replay "$T_TMP/same2.jsonl" --format json >"$T_TMP/same.json" 2>"$T_TMP/same.err"
is "$?:$(cat "$T_TMP/same.err")" "0:" "a record repeating a line's moment replays"
like "$(jq -r '.warnings[]' "$T_TMP/same.json")" \
	"^1 lines repeated the moment of the line before and were skipped" \
	"...saying the repeated line was skipped"
"$PGDRIP" --replay "$T_TMP/same.jsonl" --format json >"$T_TMP/same1.json"
is "$(jq .samples "$T_TMP/same.json")" "$(jq .samples "$T_TMP/same1.json")" \
	"...and counting it once"

done_testing
