#!/usr/bin/env bash
# The live view with a hung server (the backend serving pgdrip stopped):
# keys still answer at once, and the header says the sample is late.
. "$(dirname "$0")/lib.sh"

backend=
trap '[ -n "$backend" ] && kill -CONT "$backend" 2>/dev/null; tm kill-server 2>/dev/null; cleanup_tests' EXIT

tm -f /dev/null new-session -d -s live -x 120 -y 30 \
	"env PGHOST='$PGHOST' PGPORT='$PGPORT' PGUSER=postgres LANG=C.UTF-8 '$PGDRIP' --interval 500ms; echo EXIT=\$?; sleep 60"
check "the live view starts" wait_for "q quit"
backend_in() {
	backend=$(psql -XAtqc "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgdrip' LIMIT 1")
	[ -n "$backend" ]
}
poll_until 120 backend_in
kill -STOP "$backend"
check "the header says the sample is late" wait_for "sample late"
# The key answers while the sample still hangs: the view shows it
# paused with the same sample late and no sample taken since (the 5 s
# deadline has not cancelled it), whatever time a loaded machine takes
# to draw; that time is reported, not judged.
samples() { screen | grep -oE '[0-9]+ samples' | grep -oE '[0-9]+'; }
before=$(samples)
start=$(date +%s%N)
tm send-keys -t live p
wait_for "PAUSED +sample late"
took=$((($(date +%s%N) - start) / 1000000))
after=$(samples)
if screen | grep -qE "PAUSED +sample late" && [ "$before" = "$after" ] &&
	stopped "$backend"; then
	pass "a key still answers while the server hangs (${took} ms, tmux included)"
else
	fail "a key still answers while the server hangs (${took} ms; samples $before then $after)"
	screen | sed 's/^/# /'
fi
tm send-keys -t live '?'
check "help opens too" wait_for "make the current counts the baseline" 2
tm send-keys -t live '?' p
kill -CONT "$backend"
backend=
check "it recovers after the server does" wait_for "connected" 15
tm send-keys -t live q
check "q still quits cleanly" wait_for "EXIT=0" 10
done_testing
