#!/usr/bin/env bash
# Samples ask the server only for what changed since the last one (an
# unchanged session comes back as its pid and wait event, the rest is
# the last sample's).  Every kind of change must still come through:
# application_name set on an idle session, a transaction opened and
# left idle, a wait event that moves inside one long statement, new
# sessions and closed ones.  The record keeps every sample's changes, so
# it shows each one arriving.
. "$(dirname "$0")/lib.sh"

sql "DROP TABLE IF EXISTS d_t; CREATE TABLE d_t (x int)" >/dev/null

# session NAME APP: a psql session fed through a fifo on fd 7+.
open_session() {
	mkfifo "$T_TMP/$1.in"
	PGAPPNAME=$2 psql -Xq -v ON_ERROR_STOP=0 <"$T_TMP/$1.in" >"$T_TMP/$1.out" 2>&1 &
	T_PIDS+=("$!")
}
open_session a d_start
exec 7>"$T_TMP/a.in"
echo "SELECT 1;" >&7
open_session b d_locker
exec 8>"$T_TMP/b.in"
echo "SELECT 1;" >&8
open_session c d_waiter
exec 9>"$T_TMP/c.in"
echo "SELECT 1;" >&9
three_open() { [ "$(psql_count "application_name LIKE 'd\\_%'")" -eq 3 ]; }
poll_until 120 three_open
pid_a=$(psql -XAtqc "SELECT pid FROM pg_stat_activity WHERE application_name = 'd_start'")
pid_c=$(psql -XAtqc "SELECT pid FROM pg_stat_activity WHERE application_name = 'd_waiter'")

# The run lasts until the last change is recorded, whatever time a
# loaded machine takes over the steps below, and is then ended by
# SIGTERM (with its report, exit 0); each step's sleep only lets samples
# (every 100 ms) come between the changes.
"$PGDRIP" --interval 100ms --duration 600s --format json \
	--record "$T_TMP/rec.jsonl" >"$T_TMP/live.json" 2>"$T_TMP/err" &
drip=$!
poll_until 120 test -s "$T_TMP/rec.jsonl"
sleep 0.5
# An idle session renamed: SET is a query, its moments move.
echo "SET application_name = 'd_two';" >&7
sleep 1
# The same session opens a transaction and leaves it idle.
echo "BEGIN; SELECT 1;" >&7
sleep 1
# A long statement whose wait event changes half-way, with no other
# moment moving: first pg_sleep, then the lock another session holds.
echo "BEGIN; LOCK TABLE d_t;" >&8
sleep 0.5
echo "DO \$\$ BEGIN PERFORM pg_sleep(1.5); PERFORM count(*) FROM d_t; END \$\$;" >&9
sleep 3
# A new session, and one that goes.
PGAPPNAME=d_late psql -Xqc "SELECT pg_sleep(1)" >/dev/null 2>&1 &
echo "COMMIT;" >&8
sleep 0.5
exec 8>&-
# Until the record has the late session come and the locker go.
late_seen() {
	jq -se '([.[] | (.open // [])[] | select(.application == "d_late")] | length == 1)
		and ([.[] | (.gone // [])[]] | length >= 1)' "$T_TMP/rec.jsonl"
}
poll_until 120 late_seen
sleep 0.5
kill -TERM "$drip"
reap "$drip"
is "$?" 0 "the run ends well"

changes() {
	jq -c --argjson pid "$1" '(.open // [])[], (.change // [])[] | select(.pid == $pid)' "$T_TMP/rec.jsonl"
}
changes "$pid_a" >"$T_TMP/a.changes"
changes "$pid_c" >"$T_TMP/c.changes"
# Each change in a line of its own, when it happened: a stale copy
# caught up later (by a full sample) would bring them together.
check "the rename came through on its own" \
	jq -se 'any(.[]; .application == "d_two" and (has("state") | not))' "$T_TMP/a.changes"
check "...then the transaction left idle" \
	jq -se 'any(.[]; .state == "idle_in_transaction" and (has("application") | not))' "$T_TMP/a.changes"
check "the waiter's sleep was seen" grep -q '"wait":"Timeout:PgSleep"' "$T_TMP/c.changes"
check "...and, in the same statement, its wait for the lock" \
	jq -se 'any(.[]; .wait == "Lock:relation" and (has("state") | not))' "$T_TMP/c.changes"
check "...then its return to idle" \
	jq -se 'any(.[]; .state == "idle" and .wait == "Client:ClientRead" and (has("application") | not))' "$T_TMP/c.changes"
check "the late session was seen opening" \
	jq -se '[.[] | (.open // [])[] | select(.application == "d_late")] | length == 1' "$T_TMP/rec.jsonl"
check "the session that went was seen going" \
	jq -se '[.[] | (.gone // [])[]] | length >= 1' "$T_TMP/rec.jsonl"
check "every sample succeeded" jq -e '.failed_samples == 0' "$T_TMP/live.json"
# The end as the server has it, not as a stale copy would.
jq -r '.groups[] | select(.application | startswith("d_")) | "\(.application) \(.connections) \(.states.idle_in_transaction)"' \
	"$T_TMP/live.json" | sort >"$T_TMP/groups"
is "$(grep '^d_two ' "$T_TMP/groups")" "d_two 1 1" "the last sample has the renamed session idle in its transaction"
is "$(grep -c '^d_start 1' "$T_TMP/groups")" 0 "...and no longer under its old name"
"$PGDRIP" --replay "$T_TMP/rec.jsonl" --format json >"$T_TMP/replay.json" 2>/dev/null
is "$(jq -c '[.groups[] | {application, connections, states}] | sort_by(.application)' "$T_TMP/replay.json")" \
	"$(jq -c '[.groups[] | {application, connections, states}] | sort_by(.application)' "$T_TMP/live.json")" \
	"the replay of the record ends where the live run did"
# And the samples do stay deltas: once past the change margin, what the
# server last ran for pgdrip asks for changes since a moment, never for
# everything again (a pid of the server's list it could not place, its
# own backend's or a background process's, would make it ask again).
start_workload idle:postgres:d_idle:20
# Looked at once the record spans the margin (2 s) and a second more,
# and while pgdrip still runs: it runs until SIGTERM, not for a
# --duration that ten looks on a loaded machine could outlast (they did:
# "got 2, want 10", the run over after the second).
"$PGDRIP" --interval 200ms --duration 600s --format json \
	--record "$T_TMP/margin.jsonl" >/dev/null 2>&1 &
drip=$!
past_margin() {
	jq -se '(map(.t) | max) - (map(.t) | min) > 3' "$T_TMP/margin.jsonl"
}
poll_until 120 past_margin
asked=$(for _ in $(seq 10); do
	psql -XAtqc "SELECT substring(query FROM 'pgdrip_sample\(([0-9.]+)\)')
		FROM pg_stat_activity WHERE application_name = 'pgdrip'"
	sleep 0.1
done)
kill -TERM "$drip"
reap "$drip"
is "$(printf '%s\n' "$asked" | grep -c .)" 10 "pgdrip's session seen running its prepared sample (${asked//$'\n'/ })"
is "$(printf '%s\n' "$asked" | grep -c '^0\.0*$')" 0 "...each one asking only for what changed"
exec 7>&- 9>&-
done_testing
