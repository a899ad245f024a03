#!/usr/bin/env bash
# Load: a cluster of its own with max_connections 3000 and 2500 sessions
# over 500 role/application groups.  --once counts match the server's own
# count exactly, watch mode keeps its interval, and pgdrip's footprint is
# one session, never idle in a transaction, holding no locks.
T_CLUSTER_SETTINGS=(max_connections=3000 shared_buffers=32MB)
. "$(dirname "$0")/lib.sh"

psql -XAtq -c "SELECT format('CREATE ROLE l_role%s LOGIN;', g) FROM generate_series(0, 99) g" |
	psql -XAtq >/dev/null || fail "create 100 roles"
WL_WAIT_S=120 start_workload many:l_role:l_app:500:5 || { fail "2500 sessions"; done_testing; exit 1; }

"$PGDRIP" --once --format json --user 'l_role*' >"$T_TMP/once.json"
is "$?" 0 "--once with 2500 sessions"
is "$(jq .total.connections "$T_TMP/once.json")" \
	"$(psql_count "usename LIKE 'l\\_role%'")" "total matches psql's own count"
is "$(jq .total.connections "$T_TMP/once.json")" 2500 "2500 sessions"
is "$(jq '.groups | length' "$T_TMP/once.json")" 500 "500 groups"
is "$(jq '[.groups[] | select(.connections == 5)] | length' "$T_TMP/once.json")" 500 \
	"every group holds its 5"
is "$(jq -r '.groups[] | select(.application=="l_app42") | .user' "$T_TMP/once.json")" l_role42 \
	"a group's keys are right"

"$PGDRIP" --duration 6s --interval 200ms --format json --record "$T_TMP/rec.jsonl" \
	>"$T_TMP/watch.json" &
pid=$!
sleep 2
is "$(psql -XAtqc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgdrip'")" 1 \
	"pgdrip holds one session"
is "$(psql -XAtqc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgdrip' AND state LIKE 'idle in transaction%'")" 0 \
	"never idle in a transaction"
# Locks: a sample's query takes share locks on the catalogs while it runs,
# and none outlives it.  pg_locks and pg_stat_activity are not one
# snapshot, so probe repeatedly: most probes must find none, and none may
# find a lock stronger than AccessShareLock.
free=0 strong=0
for _ in $(seq 20); do
	n=$(psql -XAtqc "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = 'pgdrip' AND l.locktype <> 'virtualxid'")
	s=$(psql -XAtqc "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = 'pgdrip' AND l.locktype <> 'virtualxid'
		AND l.mode <> 'AccessShareLock'")
	[ "$n" -eq 0 ] && free=$((free + 1))
	strong=$((strong + s))
	sleep 0.05
done
check "holds no locks between samples ($free of 20 probes found none)" test "$free" -ge 12
is "$strong" 0 "never more than AccessShareLock"
wait "$pid"
is "$?" 0 "watch mode with 2500 sessions"
check "watch keeps its 200 ms interval ($(jq .samples "$T_TMP/watch.json") samples in 6s)" \
	jq -e '.samples >= 26' "$T_TMP/watch.json"
check "no late samples ($(jq -s 'map(.elapsed_ms) | max' "$T_TMP/rec.jsonl") ms at most)" \
	jq -e '[.warnings[] | select(test("longer than the interval"))] | length == 0' "$T_TMP/watch.json"
# The live view renders 500 groups and quits cleanly.
export TERM=xterm-256color
sock="$T_TMP/tmux.sock"
tmux -S "$sock" -f /dev/null new-session -d -s live -x 120 -y 40 \
	"env PGHOST='$PGHOST' PGPORT='$PGPORT' PGUSER=postgres LANG=C.UTF-8 '$PGDRIP' --interval 500ms --user 'l_role*'; echo EXIT=\$?; sleep 30"
for _ in $(seq 100); do
	tmux -S "$sock" capture-pane -p -t live | grep -q '^connections 2500/' && break
	sleep 0.1
done
check "the live view renders with 2500 sessions" \
	bash -c "tmux -S '$sock' capture-pane -p -t live | grep -qE '^l_role[0-9]+ +l_app[0-9]+ +5 '"
tmux -S "$sock" send-keys -t live q
for _ in $(seq 100); do
	tmux -S "$sock" capture-pane -p -t live | grep -q 'EXIT=' && break
	sleep 0.1
done
check "...and quits cleanly" bash -c "tmux -S '$sock' capture-pane -p -t live | grep -q 'EXIT=0'"
tmux -S "$sock" kill-server
COLUMNS=80 "$PGDRIP" --once --user 'l_role*' >"$T_TMP/once.txt"
is "$(grep -c '^l_role' "$T_TMP/once.txt")" 500 "the text report lists every group"
done_testing
