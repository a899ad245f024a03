# shellcheck shell=bash
# tmux helpers for the live-view tests, on top of the integration TAP
# helpers: a private tmux server, the pane's text, and waiting for it.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

export TERM=xterm-256color
SOCK="$T_TMP/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
screen() { tm capture-pane -p -t live; }

# wait_for REGEX [SECONDS]: until the screen shows it (polled every 10 ms,
# so the time it took says how fast the view answered).
wait_for() {
	for _ in $(seq $((${2:-10} * 100))); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.01
	done
	return 1
}
