#!/usr/bin/env bash
# The live view's layout at 80x24, 40x10, 120x40 and 200x50 (issue 25):
# at 80 columns the sessions pane keeps QUERY and a LEAK flag does not
# push out OLDEST or TREND; at 40 the FLAGS column stays; wide terminals
# give their room to the sessions pane and its columns (WAIT whole, no
# run of blank rows between the panes).
. "$(dirname "$0")/lib.sh"

trap 'tm kill-server 2>/dev/null; cleanup_tests' EXIT

sql "DROP ROLE IF EXISTS t_lay; CREATE ROLE t_lay LOGIN CONNECTION LIMIT 150" >/dev/null
start_workload active:t_lay:busy:2 idle-tx:t_lay:stuck:2 idle:t_lay:steady:3 \
	leak:t_lay:leaky:600:120 || { fail "workload"; done_testing; exit 1; }
run_env="PGHOST='$PGHOST' PGPORT='$PGPORT' PGUSER=postgres LANG=C.UTF-8 TERM=xterm-256color"

tm -f /dev/null new-session -d -s live -x 80 -y 24 \
	"env $run_env '$PGDRIP' --interval 250ms --user t_lay; echo EXIT=\$?; sleep 60"
check "the view starts at 80x24" wait_for "q quit"
check "the leaking group is flagged" wait_for "^t_lay +leaky .* LEAK" 30
# By name: busy first, so the sessions pane shows its two sessions and
# their query.
tm send-keys -t live s s s
check "sorted by name" wait_for "sort:name"
check "the sessions pane shows busy's sessions" wait_for "^t_lay/busy: 2 sessions"

# sized W H: the pane is W x H and the view has redrawn at that width
# (its footer, drawn last, is no wider).
sized() {
	local shot
	shot=$(screen)
	[ "$(printf '%s\n' "$shot" | wc -L)" -le "$1" ] &&
		[ "$(printf '%s\n' "$shot" | wc -l)" -eq "$2" ] &&
		printf '%s\n' "$shot" | grep -q "? help"
}
# resize W H: to that size, once the view has redrawn for it.
resize() {
	tm resize-window -t live -x "$1" -y "$2"
	poll_until 60 sized "$1" "$2"
}
# heading: the groups pane's heading line.
heading() { screen | grep -m1 -E '^USER +APPL'; }
# session_heading: the sessions pane's.
session_heading() { screen | grep -m1 -E '^PID +STATE'; }
# group_row NAME: the row of t_lay/NAME.
group_row() { screen | grep -m1 -E "^t_lay +$1 "; }

# has LOOK... REGEX: the LOOK command's output shows REGEX.  The view
# redraws every sample: each look below waits for what it wants.
has() {
	local re=${*: -1}
	"${@:1:$#-1}" | grep -qE -- "$re"
}

# 80x24.
check "80x24: the groups heading keeps OLDEST and TREND beside FLAGS" \
	poll_until 60 has heading ' OLDEST +(\+/- +)?TREND/m FLAGS *$'
check "80x24: ...and the LEAK row is not cut (its OLDEST and TREND cells stay)" \
	poll_until 60 has group_row leaky '^t_lay +leaky +([0-9]+ +){4}- +(\+[0-9]+ +)?\+[0-9.]+ LEAK'
check "80x24: the stuck group's idle-tx age and flag" \
	poll_until 60 has group_row stuck ' 2 +[0-9.]+m?s +(\+[0-9]+ +)?[-+][0-9.]+ IDLE-TX'
check "80x24: the sessions pane keeps QUERY" poll_until 60 has session_heading ' QUERY *$'
check "80x24: ...and shows it" wait_for '^[0-9]+ +active .* SELECT pg_sleep'
check "80x24: no line wider than 80 columns" test "$(screen | wc -L)" -le 80

# 40x10: the flags stay, even where the numbers go.
resize 40 10
check "40x10: the FLAGS heading stays" poll_until 60 has heading ' FLAGS *$'
check "40x10: ...with LEAK on the leaking group" poll_until 60 has group_row leaky ' LEAK *$'
check "40x10: ...IDLE-TX on the stuck one" poll_until 60 has group_row stuck ' IDLE-TX *$'
check "40x10: ...and its ITX count" poll_until 60 has heading ' ITX '

# blank_run: the longest run of blank lines between the groups pane's
# last row and the sessions pane's title.
blank_run() {
	screen | awk '/^t_lay\/busy: / { print gap; exit }
		/^t_lay / { gap = 0; next } /^ *$/ { gap++ }'
}
for size in 120x40 200x50; do
	w=${size%x*} h=${size#*x}
	resize "$w" "$h"
	check "$size: WAIT is shown whole (Timeout:PgSleep)" \
		wait_for '^[0-9]+ +active .* Timeout:PgSleep +SELECT pg_sleep\(3600\)'
	check "$size: the LEAK flag with its forecast" wait_for '^t_lay +leaky .* LEAK full in '
	check "$size: the OLDEST, TREND and HISTORY columns" \
		poll_until 60 has heading ' OLDEST +\+/- +TREND/m HISTORY +FLAGS *$'
	gap=$(blank_run)
	check "$size: at most one blank row between the panes (${gap:-?})" \
		test "${gap:-99}" -le 1
	# The sessions pane has the rows the groups do not need: its two
	# sessions, and room to spare.
	title=$(screen | grep -n -m1 '^t_lay/busy: ' | cut -d: -f1)
	check "$size: the sessions pane starts near the top (row ${title:-?} of $h)" \
		test "${title:-99}" -le 12
	check "$size: no line wider than $w columns" test "$(screen | wc -L)" -le "$w"
done

tm send-keys -t live q
check "q quits" wait_for "EXIT=0"
done_testing
