#!/usr/bin/env bash
# Real clients leaking through a real PgBouncer (issue 13): the
# node-postgres app of tests/clients leaks client connections through
# transaction pooling and through session pooling.  pgdrip on the admin
# console flags the leak (the session verdict judges each client by its
# request_time) and names the app's process; pgdrip on the server beside
# it sees only the pool's few server sessions, held via pgbouncer; with
# both watched, the server sessions the app's leaked transactions pin are
# linked to the app's clients.
. "$(dirname "$0")/bouncer.sh"

need_npm "" "${NPM_PACKAGES[@]}"
APP_JS=$PGDRIP_ROOT/tests/clients/node/app.js
sql "DO \$\$ BEGIN CREATE ROLE app_api LOGIN; EXCEPTION WHEN duplicate_object
	THEN NULL; END \$\$" >/dev/null 2>&1
end_sessions() {
	sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE usename = 'app_api'" >/dev/null 2>&1
}
at_exit end_sessions

start_bouncer txn transaction 2 || { fail "pgbouncer (transaction)"; done_testing; exit 1; }
TXN_PORT=$B_PORT
TXN_PID=$B_PID
start_bouncer sessn session 40 || { fail "pgbouncer (session)"; done_testing; exit 1; }
SESS_PORT=$B_PORT
start_bouncer pin transaction 3 || { fail "pgbouncer (pinned)"; done_testing; exit 1; }
PIN_PORT=$B_PORT
PIN_PID=$B_PID

# app PORT APP ARGS...: the node app through a pgbouncer, in the
# background; sets APP_PID.
app() {
	local port=$1 name=$2
	shift 2
	PGHOST=127.0.0.1 PGPORT=$port PGUSER=app_api PGDATABASE=postgres \
		node "$APP_JS" --app "$name" --truth "$T_TMP/$name.truth" "$@" \
		>"$T_TMP/$name.log" 2>&1 &
	APP_PID=$!
	T_PIDS+=("$APP_PID")
}

# app_ready NAME: the app listens and has started its load (its truth
# log's "start" line): node's start-up takes seconds on a loaded machine,
# and a watch begun before it would see a shorter leak.
app_ready() {
	grep -q '"start"' "$T_TMP/$1.truth" 2>/dev/null
}

# ---- a pool leak, in transaction and in session pooling ----

# Light load: the pool's working clients are one or two, so each leak
# takes a connection of its own even on a busy machine (a pool with idle
# clients to spare leaks them first, and its count grows in steps).
# The apps run until stopped (their --duration only guards against a
# leftover): each watch starts once they run, and ends while they still
# do, however slow the machine (with the apps' own 14 s from their start,
# a node slow to start ended its leak inside the watches under load: 12
# cases failed then, none alone).  Their leaks begin when told
# (SIGUSR2), once the console watches run: the pool of 40 is full 20 s
# after, when the 12 s watches have ended however late they started (a
# leak begun with the app once filled the session pool before its watch
# began, which then saw no growth and passed).
app "$TXN_PORT" bouncer-api --max 40 --rate 4 --work-ms 20 --leak-every 0.5 \
	--leak-on-signal 1 --duration 600
txn_app=$APP_PID
app "$SESS_PORT" session-api --max 40 --rate 4 --work-ms 20 --leak-every 0.5 \
	--leak-on-signal 1 --duration 600
sess_app=$APP_PID
poll_until 120 app_ready bouncer-api
poll_until 120 app_ready session-api
"$PGDRIP" --duration 12s --interval 500ms --fail-on-growth --app bouncer-api \
	--format json -o "$T_TMP/console.json" -d "$(console "$TXN_PORT")" 2>/dev/null &
c_drip=$!
"$PGDRIP" --duration 12s --interval 500ms --fail-on-growth --app session-api \
	--format json -o "$T_TMP/session.json" -d "$(console "$SESS_PORT")" 2>/dev/null &
s_drip=$!
kill -USR2 "$txn_app" "$sess_app"
"$PGDRIP" --duration 12s --interval 500ms --fail-on-growth --app bouncer-api \
	--format json -o "$T_TMP/server.json" 2>/dev/null
server_rc=$?
wait "$c_drip"
console_rc=$?
wait "$s_drip"
session_rc=$?

group='.groups[] | select(.application == "bouncer-api")'
is "$console_rc" 1 "on the console, the app leaking client connections through transaction pooling fails --fail-on-growth"
is "$(jq -r "$group | .growth.flagged" "$T_TMP/console.json")" true \
	"...its group is flagged"
is "$(jq -r "$group | .connections >= 8" "$T_TMP/console.json")" true \
	"...with its leaked clients counted ($(jq -r "$group | .connections" "$T_TMP/console.json") client connections)"
is "$(jq -r "$group | .held_by.pid" "$T_TMP/console.json")" "$txn_app" \
	"...held by the app's process, traced through the pooler's port"
is "$(jq -r "$group | .growth.forecast.limit_kind" "$T_TMP/console.json")" clients \
	"...and forecast to run out of max_client_conn (idle clients hold no server here)"
is "$server_rc" 0 "on the server beside it, the same leak is not seen"
is "$(jq -r "$group | .peak <= 2" "$T_TMP/server.json")" true \
	"...only the pool's server sessions are (pool_size 2; peak $(jq -r "$group | .peak" "$T_TMP/server.json"))"
is "$(jq -r "$group | .held_by.via_pooler.pid" "$T_TMP/server.json")" "$TXN_PID" \
	"...and they are held via pgbouncer, named with its pid"

group='.groups[] | select(.application == "session-api")'
is "$session_rc" 1 "session pooling: the leak fails --fail-on-growth on the console"
is "$(jq -r "$group | .growth.forecast.limit_kind + \" \" + .growth.forecast.limit_name" "$T_TMP/session.json")" \
	"pool postgres/app_api" "...forecast to fill its pool's pool_size (each client holds a server)"
is "$(jq -r '.limits[] | select(.kind == "pool" and .name == "postgres/app_api") | .used >= 8' "$T_TMP/session.json")" \
	true "...whose server connections it takes"
stop_workload "$txn_app"
stop_workload "$sess_app"

# ---- leaked transactions pin server connections: both watched ----

app "$PIN_PORT" pin-api --max 10 --rate 5 --work-ms 20 --leak-every 1 \
	--leak-kind idle-tx --conn-timeout 1000 --duration 600
pin_app=$APP_PID
poll_until 120 app_ready pin-api
# Once its leaked transactions pin the pool's three servers (one a
# second from the app's start: the watch is what is tested, not how fast
# a loaded machine gets there).
pinned() {
	[ "$(psql_count "application_name = 'pin-api' AND state = 'idle in transaction'")" -ge 3 ]
}
poll_until 120 pinned
"$PGDRIP" --duration 2s --interval 500ms --app pin-api --format json \
	-o "$T_TMP/both.json" -d "dbname=postgres" -d "$(console "$PIN_PORT")" \
	2>/dev/null
server='.servers[0].idle_in_transaction[] | select(.application == "pin-api")'
is "$(jq -r "[$server] | length" "$T_TMP/both.json")" 3 \
	"the app's leaked transactions pin the pool's three server connections"
is "$(jq -r "[$server | .via_pooler.pid] | unique | join(\",\")" "$T_TMP/both.json")" "$PIN_PID" \
	"...each held via pgbouncer (pid $PIN_PID)"
like "$(jq -r "[$server | .via_pooler.client] | join(\",\")" "$T_TMP/both.json")" \
	'^127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$' \
	"...and linked to the client pinning it (SHOW SERVERS link)"
is "$(jq -r "[$server | .client_process.pid] | unique | join(\",\")" "$T_TMP/both.json")" "$pin_app" \
	"...whose process is the app's, not pgbouncer's"
console_tx='.servers[1].idle_in_transaction[] | select(.application == "pin-api")'
is "$(jq -r "[$console_tx] | length" "$T_TMP/both.json")" 3 \
	"on the console, the pinning clients are idle in transaction"
is "$(jq -r '.servers[1].pooler.waiting_clients > 0' "$T_TMP/both.json")" true \
	"...and the app's next requests wait for a server ($(jq -r '.servers[1].pooler.waiting_clients' "$T_TMP/both.json") waiting)"
stop_workload "$pin_app"

done_testing
