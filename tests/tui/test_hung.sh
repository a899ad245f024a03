#!/usr/bin/env bash
# The live view with a hung server (the backend serving pgdrip stopped):
# keys still answer at once, and the header says the sample is late.
. "$(dirname "$0")/lib.sh"

backend=
trap '[ -n "$backend" ] && kill -CONT "$backend" 2>/dev/null; tm kill-server 2>/dev/null; cleanup_tests' EXIT

tm -f /dev/null new-session -d -s live -x 120 -y 30 \
	"env PGHOST='$PGHOST' PGPORT='$PGPORT' PGUSER=postgres LANG=C.UTF-8 '$PGDRIP' --interval 500ms; echo EXIT=\$?; sleep 60"
check "the live view starts" wait_for "q quit"
for _ in $(seq 50); do
	backend=$(psql -XAtqc "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgdrip' LIMIT 1")
	[ -n "$backend" ] && break
	sleep 0.1
done
kill -STOP "$backend"
check "the header says the sample is late" wait_for "sample late" 5
start=$(date +%s%N)
tm send-keys -t live p
wait_for "PAUSED" 5
took=$((($(date +%s%N) - start) / 1000000))
check "a key still answers while the server hangs (${took} ms, tmux included)" test "$took" -lt 1000
tm send-keys -t live '?'
check "help opens too" wait_for "make the current counts the baseline" 2
tm send-keys -t live '?' p
kill -CONT "$backend"
backend=
check "it recovers after the server does" wait_for "connected" 15
tm send-keys -t live q
check "q still quits cleanly" wait_for "EXIT=0" 10
done_testing
