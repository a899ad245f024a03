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
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$proxy_port") 2>/dev/null && break
	sleep 0.1
done

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
done_testing
