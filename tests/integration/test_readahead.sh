#!/usr/bin/env bash
# --once names its sessions' processes from what it read while the server
# built the sample (src/readahead.c, two threads): 140 sessions over the
# unix socket and over TCP held by four processes, and a session shared
# by a process and the child it forked after connecting (the child is
# named), all answered by the read-ahead; a socket directory whose lock
# file names another process than the postmaster changes nothing.  Run
# again with a ThreadSanitizer build by scripts/test.
. "$(dirname "$0")/lib.sh"

# held_by APP FILE: "pid sessions" of the group's holder.
held_by() {
	jq -r --arg app "$1" '.groups[] | select(.application == $app) |
		if .held_by then "\(.held_by.pid) \(.held_by.sessions)"
		else "none" end' "$2"
}
end_sessions() {
	sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name LIKE 'ra\_%'" >/dev/null
}
end_sessions
at_exit end_sessions
privileged=false
if [ "$(id -u)" -eq 0 ] || [ "$(id -un)" = "${CLUSTER_USER:-$(id -un)}" ]; then
	privileged=true
fi

declare -A holder
for spec in unix_a: unix_b: tcp_a:host=127.0.0.1 tcp_b:host=127.0.0.1; do
	app=ra_${spec%%:*}
	conn=${spec#*:}
	start_workload ${conn:+-d "$conn"} "idle:-:$app:35" ||
		{ fail "workload $app"; done_testing; exit 1; }
	holder[$app]=$WL_PID
done
# A client that forks after connecting: both hold the socket.
/usr/bin/python3 -c '
import os, sys, time, psycopg2
conn = psycopg2.connect("application_name=ra_fork")
child = os.fork()
if child:
    print(child, flush=True)
time.sleep(120)
' >"$T_TMP/fork.pid" 2>"$T_TMP/fork.err" &
T_PIDS+=("$!")
poll_until 20 test -s "$T_TMP/fork.pid"
fork_child=$(cat "$T_TMP/fork.pid")
[ -n "$fork_child" ] && T_PIDS+=("$fork_child")
poll_until 20 test "$(psql_count "application_name LIKE 'ra\_%'")" -eq 141
is "$(psql_count "application_name LIKE 'ra\_%'")" 141 "141 sessions are open"

# once_check LABEL ARGS...: --once names every holder, the read-ahead
# answering for every session.
once_check() {
	local label=$1 app
	shift
	PGDRIP_DEBUG=attribution "$PGDRIP" --once --format json --app 'ra_*' \
		"$@" >"$T_TMP/once.json" 2>"$T_TMP/once.err"
	is "$?" 0 "$label: --once"
	for app in ra_unix_a ra_unix_b ra_tcp_a ra_tcp_b; do
		if [ "$app" = "${app#ra_unix}" ] || $privileged; then
			is "$(held_by "$app" "$T_TMP/once.json")" \
				"${holder[$app]} 35" \
				"$label: $app's 35 sessions are named to their process"
		else
			is "$(held_by "$app" "$T_TMP/once.json")" none \
				"$label: $app is not named without the backends' fds"
		fi
	done
	if $privileged; then
		is "$(held_by ra_fork "$T_TMP/once.json")" "$fork_child 1" \
			"$label: a session shared with a child forked after connecting is the child's"
		like "$(cat "$T_TMP/once.err")" \
			"debug: attribution: 141 sessions traced, 141 found; 141 answered by the read-ahead" \
			"$label: the read-ahead answered for all of them"
	else
		like "$(jq -r '.warnings[]' "$T_TMP/once.json")" \
			"run pgdrip as the server's OS user" \
			"$label: the unix-socket clients' warning says why"
	fi
	check "$label: the JSON is valid" jq -e . "$T_TMP/once.json"
}

once_check "socket"

# A directory with the server's socket (a link) and a lock file naming a
# process that is not the postmaster: what was read for it is dropped
# once connected, and the sessions are named as before.
lie="$T_TMP/lie"
mkdir -p "$lie"
ln -s "$PGHOST/.s.PGSQL.$PGPORT" "$lie/.s.PGSQL.$PGPORT"
sleep 300 &
liar=$!
T_PIDS+=("$liar")
printf '%s\n%s\n' "$liar" "$T_TMP" >"$lie/.s.PGSQL.$PGPORT.lock"
once_check "lying lock file" -h "$lie"
if $privileged; then
	like "$(cat "$T_TMP/once.err")" \
		"what was read ahead is not for this server's postmaster \(pid [0-9]+\): read again" \
		"lying lock file: what was read for the liar is dropped"
fi
printf 'not a pid\n' >"$lie/.s.PGSQL.$PGPORT.lock"
once_check "garbled lock file" -h "$lie"

done_testing
