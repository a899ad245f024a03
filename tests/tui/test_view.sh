#!/usr/bin/env bash
# The live view as a newcomer meets it: --duration ends it (with the
# report), --live off a terminal is refused, a change of grouping keeps
# the history and the flags that still hold, an interval change takes
# effect at once, the session pane scrolls and says how many more there
# are, the footer always offers "? help", a wide terminal widens the
# columns, and the selected row never merges with the table's heading.
. "$(dirname "$0")/lib.sh"

trap 'tm kill-server 2>/dev/null; cleanup_tests' EXIT

sql "DROP ROLE IF EXISTS t_view; CREATE ROLE t_view LOGIN" >/dev/null
start_workload idle:t_view:crowd:55 leak:t_view:drip:300:60 ||
	{ fail "workload"; done_testing; exit 1; }
run_env="PGHOST='$PGHOST' PGPORT='$PGPORT' PGUSER=postgres LANG=C.UTF-8 TERM=xterm-256color"

# restart_tmux: a new tmux server on the same socket once the old is gone.
restart_tmux() {
	tm kill-server 2>/dev/null
	for _ in $(seq 50); do
		tm has-session 2>/dev/null || break
		sleep 0.1
	done
	sleep 0.3
}

# --duration ends the live view, which prints its report.
tm -f /dev/null new-session -d -s live -x 120 -y 30 \
	"env $run_env '$PGDRIP' --live --duration 3s --interval 500ms --user t_view \
	--format json -o '$T_TMP/dur.json'; echo EXIT=\$?; sleep 60"
check "--duration ends the live view" wait_for "EXIT=0" 10
# On time by pgdrip's own clock: its first sample to its report.
span=$(report_span "$T_TMP/dur.json")
check "...on time (${span}s from the first sample to the report for 3s)" \
	test "${span:-99}" -le 6
check "...with its report" jq -e '.pgdrip.mode == "live" and .samples >= 5' "$T_TMP/dur.json"
restart_tmux

"$PGDRIP" --live --duration 1s >"$T_TMP/out" 2>"$T_TMP/err" </dev/null
is "$?" 2 "--live off a terminal is a usage error"
like "$(cat "$T_TMP/err")" "--live needs a terminal" "...that says why"

tm -f /dev/null new-session -d -s live -x 120 -y 40 \
	"env $run_env '$PGDRIP' --interval 250ms --user t_view --record '$T_TMP/view.rec'; echo EXIT=\$?; sleep 60"
check "the view starts" wait_for "q quit"
check "the dripping group is flagged" wait_for "drip .*LEAK" 20
samples_before=$(screen | grep -oE '[0-9]+ samples' | grep -oE '[0-9]+')
tm send-keys -t live g
check "g: grouped by user" wait_for "^USER +CONN"
check "...the flag still holds under the new grouping" wait_for "^t_view .*LEAK" 5
samples_after=$(screen | grep -oE '[0-9]+ samples' | grep -oE '[0-9]+')
check "...and the history was kept ($samples_before -> $samples_after samples)" \
	test "$samples_after" -ge "$samples_before"
spark=$(screen | grep '^t_view ' | grep -oE '[▁▂▃▄▅▆▇█]+' | head -1)
check "...the sparkline too (${#spark} points)" test "${#spark}" -ge 10
for _ in 1 2 3 4 5; do tm send-keys -t live g; done
check "g cycles back to user,app" wait_for "^USER +APPLICATION +CONN"

# The pane: crowd has 55 sessions, far more than fit.
tm send-keys -t live s s s
check "sorted by name" wait_for "sort:name"
check "the pane shows crowd's sessions" wait_for "t_view/crowd: 55 sessions"
check "...says which of them are shown" wait_for "oldest first \(1-[0-9]+ of 55, PgUp/PgDn\)"
check "...and how many more there are" wait_for "\+[0-9]+ more \(PgDn\)"
# top_pid: the first session row's pid.
top_pid() { screen | grep -A1 'PID ' | tail -1 | awk '{print $1}'; }
top_pid_is_not() { [ "$(top_pid)" != "$1" ]; }
top_pid_is() { [ "$(top_pid)" = "$1" ]; }
first=$(top_pid)
tm send-keys -t live NPage
check "PgDn scrolls the pane (from $first)" poll_until 10 top_pid_is_not "$first"
tm send-keys -t live Home
check "Home goes back to the top" poll_until 10 top_pid_is "$first"
check "the footer's Enter label says what it does" wait_for "Enter hide sessions"

raw=$(tm capture-pane -p -e -t live | grep -m1 'CONN')
if printf '%s' "$raw" | grep -q $'\e\[7m'; then
	fail "the table's heading is not reverse video (it would merge with the selection)"
else
	pass "the table's heading is not reverse video (it would merge with the selection)"
fi

tm send-keys -t live b
check "b answers: the baseline is reset from now" wait_for "baseline reset at [0-9]+s: \+/- counts from here"
tm send-keys -t live p
check "p pauses, and the footer offers to resume" wait_for "p resume"
tm send-keys -t live p

# An interval change takes effect at once: from 8 s to 1 s.
tm send-keys -t live + + + + + 
check "+ slows down" wait_for "every 8s"
sleep 1
tm send-keys -t live - - -
check "- speeds up" wait_for "every 1s"
# At once, by the samples' times as pgdrip recorded them: the next
# sample after the change comes a second after the last (not 8), and
# the ones after it a second apart; a loaded machine gets 1-2 s of slack,
# far from the 8 s a change that waits for the old interval would take.
changed=$(date +%s.%N)
three_after() {
	[ "$(jq -s --argjson c "$changed" '[.[] | select(.t > $c)] | length' "$T_TMP/view.rec")" -ge 3 ]
}
poll_until 60 three_after
gaps=$(jq -s -r --argjson c "$changed" '
	([.[] | select(.t <= $c) | .t] | max) as $last |
	[.[] | select(.t > $c) | .t][:3] as $next |
	[$next[0] - $last, $next[1] - $next[0], $next[2] - $next[1]] |
	map(. * 100 | round / 100) | map(tostring) | join(" ")' "$T_TMP/view.rec")
check "...at once: the next samples come a second apart (gaps: $gaps s)" \
	awk -v g="$gaps" 'BEGIN { n = split(g, a, " "); if (n != 3 || a[1] > 4) exit 1;
		for (i = 2; i <= 3; i++) if (a[i] > 2.5) exit 1 }'

tm send-keys -t live / c r o w d Enter
tm resize-window -t live -x 80 -y 24
check "80x24: the footer still offers ? help" wait_for "\? help *$"
check "80x24: the active filter is still said" wait_for "/ filter:crowd .*\? help *$"
tm resize-window -t live -x 220 -y 40
wide_shows_command() {
	wide=$(screen | grep -m1 -E '^[0-9]+ +(idle|abandoned)' | cut -c60-)
	printf '%s' "$wide" | grep -q 'idle:t_view:crowd:55 leak'
}
check "220 columns: the process column shows more of the command" \
	poll_until 60 wide_shows_command
tm send-keys -t live q
check "q quits" wait_for "EXIT=0" 10

# The interval travels with the samples: the record says the one each
# sample was analysed at (250 ms at the start, 1 s after the keys), and
# its replay reports the run at the last one, saying it changed.
intervals=$(jq -s -c '[.[] | select(.interval_s != null) | .interval_s]' "$T_TMP/view.rec")
like "$intervals" '^\[0\.25,.*1\]$' "the record carries the interval, from 0.25 s to 1 s ($intervals)"
"$PGDRIP" --replay "$T_TMP/view.rec" --format json -o "$T_TMP/replayed.json" 2>/dev/null
is "$(jq -r .interval_s "$T_TMP/replayed.json")" 1 "...and its replay reports the run at the new interval"
like "$(jq -r '.warnings[]' "$T_TMP/replayed.json")" "interval changed" "...saying that it changed"
done_testing
