#!/usr/bin/env bash
# Several servers: the test cluster and a second one, watched by one
# pgdrip.  The second is stopped mid-run: the first keeps reporting, the
# stopped one reads up 0 on /metrics, then recovers when it is back.
# The reports hold a section per server; a server never reached makes
# the exit status 3; a password never shows.
. "$(dirname "$0")/lib.sh"

start_extra_cluster || { fail "a second cluster"; done_testing; exit 1; }
one="host=$PGHOST port=$PGPORT dbname=postgres"
two="host=$X_DIR port=$X_PORT dbname=postgres"
label_one="$PGHOST:$PGPORT/postgres"
label_two="$X_DIR:$X_PORT/postgres"
xsql() { psql -XAtq -h "$X_DIR" -p "$X_PORT" -d postgres -c "$1"; }
x_ctl() { as_cluster_user "'$PG_BINDIR/pg_ctl' -D '$X_DIR/data' -l '$X_DIR/log' -w $*" >/dev/null 2>&1; }

sql "DROP ROLE IF EXISTS f_app; CREATE ROLE f_app LOGIN" >/dev/null
xsql "CREATE ROLE f_app LOGIN" >/dev/null
start_workload idle:f_app:fleet_one:3 || { fail "workload on the first"; done_testing; exit 1; }
WL_ONE=$WL_PID
start_workload -d "$two" idle:f_app:fleet_two:2 leak:f_app:fleet_leak:300 ||
	{ fail "workload on the second"; done_testing; exit 1; }

# --once over both, and over a server that does not exist.
"$PGDRIP" --once --format json -d "$one" -d "$two" --app 'fleet_*' >"$T_TMP/once.json"
is "$?" 0 "--once over two servers exits 0"
is "$(jq -r '[.servers[].server.label] | join(" ")' "$T_TMP/once.json")" \
	"$label_one $label_two" "one report per server, in the order given"
is "$(jq '.servers[0].groups[] | select(.application == "fleet_one") | .connections' "$T_TMP/once.json")" 3 \
	"the first server's counts"
is "$(jq '.servers[1].groups[] | select(.application == "fleet_two") | .connections' "$T_TMP/once.json")" 2 \
	"the second server's counts"
is "$(jq -c '[.servers[] | .reconnects]' "$T_TMP/once.json")" "[0,0]" \
	"a first connection is not counted as a reconnection"
"$PGDRIP" --once -d "$one" -d "$two" --app 'fleet_*' >"$T_TMP/once.txt"
is "$(grep -c '^pgdrip once report' "$T_TMP/once.txt")" 2 "the text report has a section per server"
printf '# the test cluster\n%s\n\n  %s  \n' "$one" "$two" >"$T_TMP/targets"
"$PGDRIP" --once --format json --targets "$T_TMP/targets" >"$T_TMP/targets.json"
is "$(jq '.servers | length' "$T_TMP/targets.json")" 2 "--targets reads one server a line"
"$PGDRIP" --once --format json -d "$one" \
	-d "host=127.0.0.1 port=1 dbname=postgres password=s3cret connect_timeout=2" \
	>"$T_TMP/down.json" 2>"$T_TMP/down.err"
is "$?" 3 "a server never reached makes the exit status 3"
is "$(jq -r '.servers[1].up' "$T_TMP/down.json")" false "...and reads up false"
is "$(jq -r '.servers[0].up' "$T_TMP/down.json")" true "...while the other is reported"
if grep -q s3cret "$T_TMP/down.json" "$T_TMP/down.err"; then
	fail "the password of a server never shows"
else
	pass "the password of a server never shows"
fi
"$PGDRIP" --once -d "$one" -d "$two" --record "$T_TMP/r.jsonl" >/dev/null 2>"$T_TMP/err"
is "$?" 2 "--record with several servers is a usage error"
like "$(cat "$T_TMP/err")" "follows one server" "...saying why"
"$PGDRIP" --once --targets "$T_TMP/missing" 2>"$T_TMP/err"
is "$?" 2 "a missing --targets file is a usage error"

# Watching both with --listen; the second stops, then comes back.
for port in $(seq 19200 19299); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done
# Until SIGTERM below, however long a loaded machine takes to get there.
"$PGDRIP" --interval 250ms --duration 600s -d "$one" -d "$two" --app 'fleet_*' \
	--listen "127.0.0.1:$port" --format json --output "$T_TMP/watch.json" \
	2>"$T_TMP/watch.err" &
watcher=$!
T_PIDS+=("$watcher")
metrics() { curl -s --max-time 2 "http://127.0.0.1:$port/metrics"; }
# wait_metric REGEX SECONDS: until /metrics shows a line matching.
# SECONDS only guard against a hang: at least 60 (a loaded machine).
wait_metric() {
	local limit=$(($2 < 60 ? 60 : $2))
	for _ in $(seq $((limit * 10))); do
		metrics | grep -qE -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
check "both servers are up on /metrics" wait_metric "pgdrip_up\{server=\"$X_DIR:$X_PORT/postgres\"\} 1" 15
check "...the first too" wait_metric "pgdrip_up\{server=\"$PGHOST:$PGPORT/postgres\"\} 1" 5
metrics >"$T_TMP/both.prom"
check "the exposition of both passes promtool check metrics" \
	bash -c "promtool check metrics <'$T_TMP/both.prom'"
is "$(grep -c '^# TYPE pgdrip_up ' "$T_TMP/both.prom")" 1 "...each family once, for both servers"
stop_workload "$WL_PID"
x_ctl -m fast stop || fail "stopping the second cluster"
check "the stopped server reads up 0" \
	wait_metric "pgdrip_up\{server=\"$X_DIR:$X_PORT/postgres\"\} 0" 10
samples_one() {
	metrics | grep -E "^pgdrip_samples_total\{server=\"$PGHOST:$PGPORT/postgres\"\}" | awk '{ print $2 }'
}
before=$(samples_one)
# While the second stays down (until its restart below), the first's
# count moves on: polled, not looked at after a fixed 1.5 s.
sampled_since() {
	after=$(samples_one)
	awk -v a="${before:-0}" -v b="${after:-0}" 'BEGIN { exit !(b > a) }'
}
after=$before
poll_until 60 sampled_since
check "the other keeps sampling meanwhile ($before -> $after)" \
	awk -v a="${before:-0}" -v b="${after:-0}" 'BEGIN { exit !(b > a) }'
check "...and keeps its up 1" wait_metric "pgdrip_up\{server=\"$PGHOST:$PGPORT/postgres\"\} 1" 2
x_ctl restart || fail "restarting the second cluster"
check "the second recovers: up 1 again" \
	wait_metric "pgdrip_up\{server=\"$X_DIR:$X_PORT/postgres\"\} 1" 20
kill -TERM "$watcher"
reap "$watcher"
is "$?" 0 "the watch ends on SIGTERM with exit status 0"
is "$(jq -r '.servers[1] | .reconnects > 0 and .failed_samples > 0' "$T_TMP/watch.json")" true \
	"the second server's report tells of the outage"
is "$(jq '.servers[0].failed_samples' "$T_TMP/watch.json")" 0 "the first lost no sample"
like "$(jq -r '.servers[1].warnings[]' "$T_TMP/watch.json")" "re-established" \
	"...and the second says it reconnected"
stop_workload "$WL_ONE"
done_testing
