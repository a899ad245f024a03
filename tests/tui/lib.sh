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

# wait_for REGEX [SECONDS]: until the screen shows it (polled every 10 ms,
# so the time it took says how fast the view answered).
wait_for() {
	for _ in $(seq $((${2:-10} * 100))); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.01
	done
	return 1
}

# wait_in_scrollback REGEX [SECONDS]: wait_for, looking at the scrollback.
wait_in_scrollback() {
	for _ in $(seq $((${2:-10} * 100))); do
		scrollback | grep -qE -- "$1" && return 0
		sleep 0.01
	done
	return 1
}

# pane_pgdrip: the pgdrip running in the pane (the pane's shell's child):
# never another run's, whatever else runs on the machine.
pane_pgdrip() {
	local shell
	shell=$(tm display-message -p -t live '#{pane_pid}')
	pgrep -P "$shell" -f pgdrip || echo "$shell"
}
