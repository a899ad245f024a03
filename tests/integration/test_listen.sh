#!/usr/bin/env bash
# --listen cannot be shut from outside: a slowloris of a hundred
# connections sending a header line every second (from 127.0.0.2) does
# not keep a real scraper (curl, from 127.0.0.1) from /metrics; a
# connection that trickles bytes is closed once a request has had its
# few seconds, however many bytes it sent; and the refusals are
# summarised on stderr in a line or two, not one line each.
. "$(dirname "$0")/lib.sh"

need_packages curl:curl
slowloris() {
	/usr/bin/python3 "$(dirname "$0")/../helpers/slowloris.py" "$@"
}
# The port: free when looked at, but the other scripts running beside
# this one start clusters on ports of the same range, so one taken in
# between is tried again with another.
for _ in $(seq 1 20); do
	port=$(($(free_port) + 300))
	"$PGDRIP" --no-live --interval 500ms --listen "127.0.0.1:$port" \
		>/dev/null 2>"$T_TMP/err" &
	pgdrip_pid=$!
	poll_until 60 sh -c "curl -sf -o /dev/null 'http://127.0.0.1:$port/metrics' ||
		! kill -0 $pgdrip_pid 2>/dev/null"
	kill -0 "$pgdrip_pid" 2>/dev/null && break
	wait "$pgdrip_pid" 2>/dev/null
	grep -q 'Address already in use' "$T_TMP/err" || break
done
T_PIDS+=("$pgdrip_pid")
check "/metrics answers" curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"

# 8 s: past the 5 s a request may take, so the trickling connection
# from the scraper's own address is closed once, and only once.
slowloris 127.0.0.1 "$port" 127.0.0.2 100 8 1 >"$T_TMP/flood" 2>&1 &
flood=$!
slowloris 127.0.0.1 "$port" 127.0.0.1 1 8 1 >"$T_TMP/trickle" 2>&1 &
trickle=$!
sleep 1
ok=0
for _ in $(seq 1 10); do
	code=$(curl -s -o "$T_TMP/scrape" -w '%{http_code}' --max-time 2 \
		"http://127.0.0.1:$port/metrics")
	[ "$code" = 200 ] && grep -q '^pgdrip_up' "$T_TMP/scrape" && ok=$((ok + 1))
	sleep 0.5
done
is "$ok" 10 "a real scraper gets every one of 10 scrapes during the flood"
wait "$flood" "$trickle"
like "$(cat "$T_TMP/flood")" "refused [0-9]+$" "(the flood ran: $(cat "$T_TMP/flood"))"
read -r _ opened _ closed _ _ <"$T_TMP/flood"
check "...and most of its connections were turned away" test "$closed" -gt 100
# Closed once; its reconnect may meet the flood's full backlog (its
# 1 s connect timeout) on a busy machine, so it opened once or twice.
like "$(cat "$T_TMP/trickle")" "^opened [12] closed_by_server 1 " \
	"a connection trickling a header a second is closed after its few seconds, once"

refused=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^pgdrip_listen_refused_total\{/ { print $2 }')
check "pgdrip_listen_refused_total counts them (${refused:-none})" test "${refused:-0}" -gt 100
kill -TERM "$pgdrip_pid"
wait "$pgdrip_pid"
is "$?" 0 "pgdrip ends cleanly on SIGTERM, the flood over"
lines=$(grep -c 'listen' "$T_TMP/err")
check "stderr stays small: $lines lines for $closed refusals" \
	test "$lines" -ge 1 -a "$lines" -le 3
like "$(head -1 "$T_TMP/err")" \
	"^pgdrip: listen: in the last [0-9]+s: [0-9]+ refused: 8 already open from that address" \
	"...a summary saying what was refused and why"
like "$(cat "$T_TMP/err")" "closed: no whole request within 5s" \
	"...and what was closed for slowness"
# No address (":PORT") listens on loopback only: the metrics name roles,
# applications and databases.  Every interface is asked for by name.
# listened PORT: the local address listening on PORT, from the kernel.
listened() {
	awk -v p=":$(printf '%04X' "$1")" \
		'$4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' \
		/proc/net/tcp /proc/net/tcp6
}
for want in ":0100007F" "0.0.0.0:00000000"; do
	addr=${want%%:*}
	lport=$(($(free_port) + 310))
	"$PGDRIP" --no-live --interval 500ms --listen "$addr:$lport" \
		>/dev/null 2>&1 &
	pid=$!
	T_PIDS+=("$pid")
	poll_until 60 listening "$lport"
	is "$(listened "$lport")" "${want#*:}:$(printf '%04X' "$lport")" \
		"--listen ${addr:-(none)}:PORT binds ${addr:-127.0.0.1}"
	kill "$pid"
	wait "$pid"
done
done_testing
