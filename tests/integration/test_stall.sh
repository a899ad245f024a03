#!/usr/bin/env bash
# A network that stalls: pgdrip talks to the server through a TCP proxy
# (socat) that is then stopped.  No hang beyond the sample deadline: the
# sample fails, the session is dropped, and pgdrip recovers once the
# network does.
. "$(dirname "$0")/lib.sh"

proxy_port=$(( (PGPORT + 137) % 1000 + 55000 ))
socat TCP-LISTEN:$proxy_port,bind=127.0.0.1,reuseaddr,fork \
	"UNIX-CONNECT:$PGHOST/.s.PGSQL.$PGPORT" 2>/dev/null &
proxy=$!
T_PIDS+=("$proxy")
poll_until 5 listening "$proxy_port"

start=$(date +%s)
env -u PGHOST "$PGDRIP" -h 127.0.0.1 -p "$proxy_port" --duration 16s --interval 500ms \
	--format json >"$T_TMP/stall.json" 2>"$T_TMP/stall.err" &
pid=$!
sleep 2
# Stop the proxy and every connection it forwards: the TCP session
# stays open, but nothing moves.
pkill -STOP -f "socat TCP-LISTEN:$proxy_port"
sleep 8
check "pgdrip is not stuck on the stalled network (still running)" kill -0 "$pid"
pkill -CONT -f "socat TCP-LISTEN:$proxy_port"
wait "$pid"
is "$?" 0 "the run completes"
took=$(($(date +%s) - start))
check "on time: ${took}s for --duration 16s" test "$took" -le 21
check "failed samples counted" jq -e '.failed_samples >= 1' "$T_TMP/stall.json"
like "$(cat "$T_TMP/stall.err")" "took longer than" "says the sample timed out"
like "$(cat "$T_TMP/stall.err")" "reconnected" "recovers with a new session"
check "samples after the stall" jq -e '.samples >= 12' "$T_TMP/stall.json"
# A server that stalls half-way through a sample's rows: a proxy passes
# the first bytes of what the server sends and then nothing more.  The
# transaction's first results (BEGIN, SET) are whole by then and the
# rows are not: pgdrip must wait for the rest in its loop, under the
# sample deadline, not block inside libpq.
"$WORKLOAD" idle:postgres:st_rows:120 >/dev/null 2>&1 &
T_PIDS+=("$!")
for _ in $(seq 100); do
	[ "$(psql_count "application_name = 'st_rows'")" -ge 120 ] && break
	sleep 0.1
done
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
poll_until 5 listening "$cut_port"
start=$(date +%s)
timeout -k 5 40 env -u PGHOST "$PGDRIP" -h 127.0.0.1 -p "$cut_port" --duration 8s \
	--interval 500ms --format json >"$T_TMP/cut.json" 2>"$T_TMP/cut.err"
rc=$?
took=$(($(date +%s) - start))
check "stalled half-way through the rows: not stuck in libpq (${took}s for --duration 8s, exit $rc)" \
	test "$rc" -ne 124 -a "$rc" -ne 137 -a "$took" -le 16
like "$(cat "$T_TMP/cut.err")" "took longer than" "...the sample deadline ends it, and says so"
done_testing
