#!/usr/bin/env bash
# A network that stalls: pgdrip talks to the server through a TCP proxy
# (socat) that is then stopped.  No hang beyond the sample deadline: the
# sample fails, the session is dropped, and pgdrip recovers once the
# network does.
. "$(dirname "$0")/lib.sh"

# The proxy in a process group of its own: it and the children it forks
# for each connection are stopped, continued and killed together, and
# nothing else on the machine is.
proxy_port=$(free_port)
setsid socat TCP-LISTEN:$proxy_port,bind=127.0.0.1,reuseaddr,fork \
	"UNIX-CONNECT:$PGHOST/.s.PGSQL.$PGPORT" 2>/dev/null &
proxy=$!
at_exit "kill -CONT -- -$proxy; kill -- -$proxy"
poll_until 60 listening "$proxy_port"

env -u PGHOST "$PGDRIP" -h 127.0.0.1 -p "$proxy_port" --duration 16s --interval 500ms \
	--format json --record "$T_TMP/stall.rec" >"$T_TMP/stall.json" 2>"$T_TMP/stall.err" &
pid=$!
# Once pgdrip samples through the proxy, stop the proxy and every
# connection it forwards: the TCP session stays open, but nothing moves.
poll_until 120 grep -q '"status":"ok"' "$T_TMP/stall.rec"
kill -STOP -- "-$proxy"
stop=$(date +%s.%N)
sleep 8
check "pgdrip is not stuck on the stalled network (still running)" kill -0 "$pid"
kill -CONT -- "-$proxy"
cont=$(date +%s.%N)
reap "$pid"
is "$?" 0 "the run completes"
# On time by pgdrip's own clock (its first sample to its report), with
# 5 s to spare: a stalled sample must not stretch the run.
span=$(report_span "$T_TMP/stall.json")
check "on time: ${span}s from the first sample to the report for --duration 16s" \
	test "$span" -le 21
check "failed samples counted" jq -e '.failed_samples >= 1' "$T_TMP/stall.json"
# Every 500 ms slot of the stall has its line, on time: the sample in
# flight fails its slot, then each slot while it is cancelled, the
# session dropped and a new one waits to connect.  A failure is dated
# when its slot began, a sample when it came in (a late answer up to two
# slots after the failure before it): no gap of 1.2 s, and a line a slot.
gaps=$(jq -r '.t' "$T_TMP/stall.rec" | awk 'NR > 1 && $1 - prev >= 1.2 { n++ } { prev = $1 } END { print n + 0 }')
is "$gaps" 0 "a line in the record for every slot (no gap of 1.2 s or more)"
n=$(jq -s --argjson a "$stop" --argjson b "$cont" '[.[] | select(.t >= $a and .t < $b)] | length' "$T_TMP/stall.rec")
want=$(awk -v a="$stop" -v b="$cont" 'BEGIN { print int((b - a) / 0.5) - 1 }')
check "$n lines for the $want whole slots of the stall" test "$n" -ge "$want"
like "$(cat "$T_TMP/stall.err")" "took longer than" "says the sample timed out"
like "$(cat "$T_TMP/stall.err")" "reconnected" "recovers with a new session"
# Recovered: samples again after the stall, at least one in two of the
# 500 ms slots left between its end and the last sample (pgdrip's clock).
after=$(jq -s --argjson c "$cont" '[.[] | select(.status != "failed" and .t > $c)] | length' "$T_TMP/stall.rec")
slots=$(jq -s --argjson c "$cont" '(map(.t) | max) - $c | . / 0.5 | floor' "$T_TMP/stall.rec")
check "samples after the stall ($after for $slots slots left)" \
	test "$after" -ge 2 -a $((after * 2)) -ge "$slots"
# A server that stalls half-way through a sample's rows: a proxy passes
# the first bytes of what the server sends and then nothing more.  The
# transaction's first results (BEGIN, SET) are whole by then and the
# rows are not: pgdrip must wait for the rest in its loop, under the
# sample deadline, not block inside libpq.
"$WORKLOAD" idle:postgres:st_rows:120 >/dev/null 2>&1 &
T_PIDS+=("$!")
rows_open() { [ "$(psql_count "application_name = 'st_rows'")" -ge 120 ]; }
poll_until 120 rows_open
cut_port=$(free_port)
python3 - "$cut_port" "$PGHOST/.s.PGSQL.$PGPORT" 2500 <<'PY' &
import socket, sys, threading
port, path, limit = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
lsn = socket.socket()
lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsn.bind(("127.0.0.1", port))
lsn.listen(8)
def pump(src, dst, cap):
    sent = 0
    while True:
        data = src.recv(65536)
        if not data:
            break
        if cap is not None:
            data = data[:max(0, cap - sent)]
        sent += len(data)
        if data:
            dst.sendall(data)
while True:
    client, _ = lsn.accept()
    server = socket.socket(socket.AF_UNIX)
    server.connect(path)
    threading.Thread(target=pump, args=(client, server, None), daemon=True).start()
    threading.Thread(target=pump, args=(server, client, limit), daemon=True).start()
PY
T_PIDS+=("$!")
poll_until 60 listening "$cut_port"
# Stuck inside libpq, pgdrip would wait for rows that never come, past
# its deadline and its --duration, forever: it ending at all is the test
# (reap's 300 s only guard against that hang).
start=$(date +%s)
env -u PGHOST "$PGDRIP" -h 127.0.0.1 -p "$cut_port" --duration 8s \
	--interval 500ms --format json >"$T_TMP/cut.json" 2>"$T_TMP/cut.err" &
reap "$!"
rc=$?
took=$(($(date +%s) - start))
check "stalled half-way through the rows: not stuck in libpq (ended after ${took}s for --duration 8s, exit $rc)" \
	test "$rc" -ne 124
like "$(cat "$T_TMP/cut.err")" "took longer than" "...the sample deadline ends it, and says so"
done_testing
