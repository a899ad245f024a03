#!/usr/bin/env bash
# The live view, driven for real in tmux against the test cluster and a
# real workload: screen content, the LEAK flag while a group grows, keys,
# resizing, hostile names (raw pane bytes), and a sane terminal after q
# and after SIGTERM, with the report printed.
. "$(dirname "$0")/lib.sh"

trap 'tm kill-server 2>/dev/null; cleanup_tests' EXIT

sql "DROP ROLE IF EXISTS t_app; CREATE ROLE t_app LOGIN CONNECTION LIMIT 60" >/dev/null
evil=$(printf 't_evil\033]0;owned\007\033[2Jx')
sql 'DROP ROLE IF EXISTS "t_名前"; CREATE ROLE "t_名前" LOGIN' >/dev/null
psql -XAtq -v ON_ERROR_STOP=1 >/dev/null <<SQL || fail "hostile role"
DO \$\$ BEGIN
  EXECUTE format('DROP ROLE IF EXISTS %I', E't_evil\\x1b]0;owned\\x07\\x1b[2Jx');
  EXECUTE format('CREATE ROLE %I LOGIN', E't_evil\\x1b]0;owned\\x07\\x1b[2Jx');
END \$\$;
SQL
start_workload idle:t_app:steady:3 leak:t_app:leaky:400 idle-tx:t_app:stuck:1 \
	"idle:$evil:hostile:2" "idle:t_名前:wide:2" || { fail "workload"; done_testing; exit 1; }

run_env="PGHOST='$PGHOST' PGPORT='$PGPORT' PGUSER=postgres LANG=C.UTF-8 TERM=xterm-256color"
stty_file="$T_TMP/stty"
tm -f /dev/null new-session -d -s live -x 120 -y 32 \
	"stty -g > '$stty_file.before'; env $run_env '$PGDRIP' --interval 250ms --user 't_*' \
	--record '$T_TMP/live.jsonl'; echo EXIT=\$?; stty -g > '$stty_file.after'; sleep 60"

check "start-up screen shows the header" wait_for "^pgdrip .*PostgreSQL"
check "...the usage line" wait_for "^connections [0-9]+/[0-9]+ \["
check "...the groups table" wait_for "CONN +ACT +IDLE"
check "...the footer with the keys" wait_for "q quit"
check "the leaking group is flagged LEAK while it grows" wait_for "leaky .*LEAK" 15
check "...with the forecast to its limit" wait_for "leaky .*LEAK full in" 5
check "the stuck session is flagged IDLE-TX" wait_for "stuck .*IDLE-TX"
check "the detail pane lists the selected group's sessions" wait_for "sessions, oldest first"
check "...names the process holding them" wait_for "oldest first( \\([0-9]+-[0-9]+ of [0-9]+, PgUp/PgDn\\))?; [0-9]+ held by pid $WL_PID \\(" 5
check "...and each session's process" wait_for " $WL_PID pgdrip-workload" 5
check "...the leaked ones marked abandoned" wait_for "^[0-9]+ +abandoned " 20

raw=$(tm capture-pane -p -e -t live)
check "hostile role shown escaped" wait_for 't_evil\\e\]0;owned'
if printf '%s' "$raw" | LC_ALL=C grep -qP '\x07|\x1b\]'; then
	fail "no BEL or OSC sequence reaches the pane"
else
	pass "no BEL or OSC sequence reaches the pane"
fi
wide_col=$(screen | grep '^t_名前' | grep -ob ' wide ' | head -1 | cut -d: -f1)
steady_col=$(screen | grep '^t_app  *steady' | grep -ob ' steady ' | head -1 | cut -d: -f1)
# Byte offsets differ by the 2 extra bytes of each wide character: the
# columns line up when "名前" (2 chars, 4 columns, 6 bytes) adds 2.
is "$((wide_col - 2))" "$steady_col" "a wide name keeps the table aligned"

tm send-keys -t live s
check "s cycles the sort" wait_for "sort:growth"
tm send-keys -t live j
check "j moves the selection (detail follows)" wait_for "^t_app/[a-z]+: [0-9]+ sessions|^t_evil"
tm send-keys -t live Enter
detail_hidden() { ! screen | grep -q 'oldest first'; }
check "Enter hides the detail pane" poll_until 60 detail_hidden
tm send-keys -t live Enter
tm send-keys -t live / s t u c k
check "/ filters the groups" wait_for "filter: /stuck_"
app_rows() { rows=$(screen | grep -cE '^t_app +[a-z]+ +[0-9]+'); [ "$rows" -eq 1 ]; }
poll_until 60 app_rows
is "$rows" 1 "...to the matching group only"
tm send-keys -t live Escape
check "Esc clears the filter" wait_for "leaky"
tm send-keys -t live p
check "p pauses" wait_for "PAUSED"
tm send-keys -t live p
tm send-keys -t live g
check "g changes the grouping" wait_for "^USER +CONN"
tm send-keys -t live g
check "...and again" wait_for "^APPLICATION +CONN"
tm send-keys -t live '?'
check "? shows the help" wait_for "make the current counts the baseline"
tm send-keys -t live '?'

# Each size once the view has redrawn for it (however long a loaded
# machine takes): the footer drawn at the new width, the wide columns.
tm resize-window -t live -x 80 -y 24
redrawn_80() { [ "$(screen | wc -L)" -le 80 ] && screen | grep -q "q quit"; }
poll_until 60 redrawn_80
check "80x24: still drawn" wait_for "q quit"
check "80x24: no line wider than 80 columns ($(screen | wc -L))" test "$(screen | wc -L)" -le 80
tm resize-window -t live -x 200 -y 60
check "200x60: redrawn wide" wait_for "HISTORY"
is "$(screen | wc -l)" 60 "200x60: the whole pane is used"

tm send-keys -t live q
check "q quits and prints the report" wait_in_scrollback "pgdrip live report"
check "...with the exit status" wait_for "EXIT=0"
check "the terminal settings are restored after q" poll_until 10 cmp -s "$stty_file.before" "$stty_file.after"
check "the record of the live session is whole" jq -e .t "$T_TMP/live.jsonl"
tm kill-session -t live

# Signals: the terminal comes back; the report is printed, except on a
# crash (SIGABRT), where only the terminal is restored before dying.
for sig in TERM INT HUP ABRT; do
	tm kill-session -t live 2>/dev/null
	rm -f "$stty_file.after"
	tm new-session -d -s live -x 120 -y 32 \
		"stty -g > '$stty_file.before'; env $run_env '$PGDRIP' --interval 250ms --user 't_*'; echo EXIT=\$?; stty -g > '$stty_file.after'; sleep 60"
	wait_for "q quit" >/dev/null
	pid=$(pane_pgdrip)
	kill -"$sig" "$pid"
	if [ "$sig" = ABRT ]; then
		check "SIGABRT: dies as aborted" wait_for "EXIT=134"
	else
		check "SIG$sig: the report is printed" wait_in_scrollback "pgdrip live report"
		check "SIG$sig: exits 0" wait_for "EXIT=0"
	fi
	check "SIG$sig: the terminal settings are restored" poll_until 10 cmp -s "$stty_file.before" "$stty_file.after"
done
done_testing
