#!/usr/bin/env bash
# The live view runs in the one loop every mode shares: a server stopped
# mid-run gives failed samples in --record, and a replay of that record
# reports what the view's own report said; a terminal that goes away
# ends the view with its report, even when SIGHUP is ignored.
. "$(dirname "$0")/lib.sh"

trap 'tm kill-server 2>/dev/null; cluster_ctl restart; cleanup_tests' EXIT

sql "DROP ROLE IF EXISTS t_loop; CREATE ROLE t_loop LOGIN" >/dev/null
start_workload idle:t_loop:steady:3 || { fail "workload"; done_testing; exit 1; }
run_env="PGHOST='$PGHOST' PGPORT='$PGPORT' PGUSER=postgres LANG=C.UTF-8 TERM=xterm-256color"

tm -f /dev/null new-session -d -s live -x 120 -y 30 \
	"env $run_env '$PGDRIP' --interval 250ms --record '$T_TMP/live.rec' \
	--format json -o '$T_TMP/live.json'; echo EXIT=\$?; sleep 60"
check "the live view starts" wait_for "q quit"
check "...and samples" wait_for "steady +3 "
cluster_ctl stop -m fast
check "a stopped server: the view says so" wait_for "RECONNECTING" 10
sleep 2
cluster_ctl restart
check "...and follows it back" wait_for "samples  connected" 20
sleep 1
tm send-keys -t live q
check "q ends the view" wait_for "EXIT=0" 10
failed=$(jq -s '[.[] | select(.status == "failed")] | length' "$T_TMP/live.rec")
check "the failures are in the record ($failed)" test "$failed" -ge 4
check "...as they are in the view's report" jq -e ".failed_samples == $failed" "$T_TMP/live.json"
"$PGDRIP" --replay "$T_TMP/live.rec" --format json >"$T_TMP/replay.json"
is "$?" 0 "the record replays"
for field in .samples .failed_samples '[.groups[] | {user, application, baseline, peak}]'; do
	is "$(jq -c "$field" "$T_TMP/replay.json")" "$(jq -c "$field" "$T_TMP/live.json")" \
		"the replay reports what the view did: $field"
done
tm kill-server
# A new tmux server on the same socket only once the old one is gone.
for _ in $(seq 50); do
	tm has-session 2>/dev/null || break
	sleep 0.1
done
sleep 0.5

# The terminal goes away (the pane's tty closes) and no SIGHUP comes:
# nohup-style, SIGHUP is ignored, and stays ignored.
tm -f /dev/null new-session -d -s live -x 100 -y 30 \
	"trap '' HUP; exec env $run_env '$PGDRIP' --interval 250ms \
	--format json -o '$T_TMP/gone.json'"
check "the view starts with SIGHUP ignored" wait_for "q quit"
pid=$(pane_pgdrip)
tm kill-server
# 60 s only guard against a view that never ends.
poll_until 60 ended "$pid"
if ! ended "$pid"; then
	fail "the view ends when its terminal goes away"
	kill -KILL "$pid"
else
	pass "the view ends when its terminal goes away"
fi
check "...with its report" jq -e '.pgdrip.mode == "live" and .samples >= 1' "$T_TMP/gone.json"
done_testing
