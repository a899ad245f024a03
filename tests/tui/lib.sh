# shellcheck shell=bash
# tmux helpers for the live-view tests, on top of the integration TAP
# helpers: a private tmux server, the pane's text, and waiting for it.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

export TERM=xterm-256color
SOCK="$T_TMP/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
screen() { tm capture-pane -p -t live; }
# scrollback: the pane's text including what scrolled off its top (a
# report printed on exit can be longer than the pane).
scrollback() { tm capture-pane -p -S -2000 -t live; }

# wait_for REGEX [SECONDS]: until the screen shows it, polled every 50
# ms.  SECONDS only guard against waiting forever, never time the view:
# a loaded machine is slow, so they are at least 60.
wait_for() {
	wait_screen screen "$@"
}

# wait_in_scrollback REGEX [SECONDS]: wait_for, looking at the scrollback.
wait_in_scrollback() {
	wait_screen scrollback "$@"
}

# wait_screen HOW REGEX [SECONDS]: until HOW's text shows REGEX.
wait_screen() {
	local how=$1 regex=$2 limit=${3:-60}
	[ "$limit" -lt 60 ] && limit=60
	local end=$((SECONDS + limit))
	while [ "$SECONDS" -lt "$end" ]; do
		"$how" | grep -qE -- "$regex" && return 0
		sleep 0.05
	done
	echo "# gave up after ${limit}s waiting for /$regex/ on the screen:"
	"$how" | sed 's/^/#   /'
	return 1
}

# pane_pgdrip: the pgdrip running in the pane (the pane's shell's child):
# never another run's, whatever else runs on the machine.
pane_pgdrip() {
	local shell
	shell=$(tm display-message -p -t live '#{pane_pid}')
	pgrep -P "$shell" -f pgdrip || echo "$shell"
}
