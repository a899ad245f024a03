#!/usr/bin/env bash
# pgdrip behind and beside a real PgBouncer (issue 13):
#  - through it, in transaction pooling with one server connection that
#    pgdrip's samples and an application share, and in session pooling
#    with no reset query: the application's next transactions keep
#    their own settings, are not read-only, not cut by pgdrip's
#    timeouts, and see no prepared statement of pgdrip's; pgdrip says
#    once that it talks through a pooler and how to watch its clients;
#  - on its admin console: detected, sampled and reported in every mode
#    (--once, watch, wrap, --wait-drain, --record/--replay, --plot,
#    Prometheus, the live view), its clients named like direct ones.
. "$(dirname "$0")/bouncer.sh"

start_bouncer tx transaction 1 || { fail "pgbouncer (transaction)"; done_testing; exit 1; }
TX_PORT=$B_PORT
TX_DIR=$B_DIR
TX_PID=$B_PID
start_bouncer sess session 1 "server_reset_query =" ||
	{ fail "pgbouncer (session)"; done_testing; exit 1; }
SESS_PORT=$B_PORT
at_exit "psql -XAtq -c 'DROP TABLE IF EXISTS pooled_t, pooled_s' 2>/dev/null"
sql "DROP TABLE IF EXISTS pooled_t, pooled_s" >/dev/null 2>&1

# settings: what a transaction sees of the session it runs on.
SETTINGS="SELECT concat_ws(',', current_setting('statement_timeout'),
	current_setting('lock_timeout'),
	current_setting('idle_in_transaction_session_timeout'),
	current_setting('transaction_read_only'),
	current_setting('default_transaction_read_only'),
	(SELECT count(*) FROM pg_prepared_statements))"

# ---- through the pooler, transaction pooling, one server connection ----

# What the server shows of the pooled connection while pgdrip samples
# (read beside the pooler, not through it).
cat >"$T_TMP/peek.sh" <<EOF
psql -XAtq -h '$PGHOST' -p '$PGPORT' -c "SELECT application_name || '|' ||
	left(query, 60) FROM pg_stat_activity WHERE pid = \$(cat '$T_TMP/srv.pid')" \
	>'$T_TMP/peek.out'
EOF
# The holder of a lock the application must wait for, longer than
# pgdrip's lock_timeout (1 s).
cat >"$T_TMP/locker.sh" <<EOF
psql -XAtq -h '$PGHOST' -p '$PGPORT' -c "BEGIN; LOCK TABLE pooled_t;
	SELECT pg_sleep(1.6); COMMIT" >/dev/null 2>&1 &
sleep 0.3
EOF
cat >"$T_TMP/app.sql" <<EOF
\\set ON_ERROR_STOP 1
SET application_name = 'pooled-app';
SET statement_timeout = '7s';
SELECT pg_backend_pid() \\g $T_TMP/srv.pid
\\! sleep 1.5
\\! sh $T_TMP/peek.sh
$SETTINGS \\g $T_TMP/after.out
CREATE TABLE pooled_t (x int);
\\! sh $T_TMP/locker.sh
BEGIN;
LOCK TABLE pooled_t IN SHARE MODE;
INSERT INTO pooled_t VALUES (1);
\\! sleep 1.2
SELECT pg_sleep(1.1);
COMMIT;
$SETTINGS \\g $T_TMP/end.out
EOF

"$PGDRIP" --interval 100ms --duration 7s --format json -d "$(through "$TX_PORT")" \
	>"$T_TMP/through.json" 2>"$T_TMP/through.err" &
drip=$!
T_PIDS+=("$drip")
sleep 0.5
psql -XAtq -h 127.0.0.1 -p "$TX_PORT" -U postgres -d postgres \
	-f "$T_TMP/app.sql" >"$T_TMP/app.out" 2>&1
is "$?" 0 "an application through the pool pgdrip samples runs every statement"
wait "$drip"
is "$?" 0 "pgdrip through transaction pooling monitors, exit 0"
like "$(cat "$T_TMP/peek.out")" "^pgdrip\|BEGIN READ ONLY; SET LOCAL statement_timeout" \
	"pgdrip's samples ran on the application's server connection (pool_size 1)"
is "$(cat "$T_TMP/after.out")" "7s,0,0,off,off,0" \
	"after them the application's session keeps its statement_timeout, no lock or idle timeout, not read-only, no prepared statement"
is "$(cat "$T_TMP/end.out")" "7s,0,0,off,off,0" \
	"...and so after its long transaction, which waited out the lock and sat idle in it"
is "$(psql -XAtq -c 'SELECT count(*) FROM pooled_t')" 1 \
	"the application's CREATE TABLE and its transaction committed"
is "$(jq '.samples >= 15' "$T_TMP/through.json")" true \
	"pgdrip went on sampling through the pool ($(jq .samples "$T_TMP/through.json") samples)"
is "$(grep -c 'is a pooler or a proxy, not the server itself' "$T_TMP/through.err")" 1 \
	"pgdrip says once that it talks through a pooler"
like "$(cat "$T_TMP/through.err")" "hint: point -d at the pooler's admin console \(for PgBouncer: dbname=pgbouncer\)" \
	"...and how to watch its clients"
is "$(show "$TX_PORT" 'SHOW SERVERS' | wc -l)" 1 \
	"the pool still has its one server connection"

# ---- through the pooler, session pooling, nothing reset after pgdrip ----

"$PGDRIP" --interval 100ms --duration 1s -d "$(through "$SESS_PORT")" \
	>/dev/null 2>"$T_TMP/sess.err"
is "$?" 0 "pgdrip through session pooling, exit 0"
is "$(grep -c 'is a pooler or a proxy' "$T_TMP/sess.err")" 1 \
	"...says it talks through a pooler, once"
# The server connection goes back to the pool as pgdrip leaves it.
for _ in $(seq 1 40); do
	srv=$(show_column "$SESS_PORT" 'SHOW SERVERS' remote_pid)
	[ -n "$srv" ] && break
	sleep 0.05
done
[ -n "$srv" ] || echo "# no server connection left: $(tail -5 "$T_TMP/sess/pgbouncer.log")"
like "$(psql -XAtq -c "SELECT application_name || '|' || left(query, 40)
	FROM pg_stat_activity WHERE pid = ${srv:-0}")" "^pgdrip\|BEGIN READ ONLY" \
	"the server connection pgdrip left (no server_reset_query) is its own"
out=$(psql -XAtq -h 127.0.0.1 -p "$SESS_PORT" -U postgres -d postgres \
	-c "$SETTINGS" -c "SELECT pg_backend_pid()" \
	-c "CREATE TABLE pooled_s (x int)" -c "SELECT 'created'" 2>&1)
is "$out" "0,0,0,off,off,0
$srv
created" "the next client gets that very connection with no setting, no prepared statement, writable"

# ---- the admin console as the source ----

C=$(console "$TX_PORT")
"$PGDRIP" --once --format json -d "$C" >"$T_TMP/once.json"
is "$?" 0 "--once on the admin console"
is "$(jq -r '.server.source' "$T_TMP/once.json")" pgbouncer \
	"detected as PgBouncer's console (its server_version ends in /bouncer)"
is "$(jq -r '.server.source_name' "$T_TMP/once.json")" \
	"PgBouncer $BOUNCER_VERSION admin console" "the JSON names the source"
is "$(jq -r '.limits[0].kind + " " + (.limits[0].limit|tostring)' "$T_TMP/once.json")" \
	"clients 100" "the first limit is max_client_conn"
is "$(jq -r '[.limits[] | select(.kind == "pool") | .name + " " + (.limit|tostring)][0]' "$T_TMP/once.json")" \
	"postgres/postgres 1" "...then each pool's pool_size"
is "$(jq -r '.pooler.pools[] | select(.database == "postgres") | .mode' "$T_TMP/once.json")" \
	transaction "the pools are in the report"
"$PGDRIP" --once -d "$C" >"$T_TMP/once.txt"
like "$(head -1 "$T_TMP/once.txt")" "^pgdrip once report, PgBouncer $BOUNCER_VERSION admin console, as postgres$" \
	"the text header names the source"
like "$(cat "$T_TMP/once.txt")" "client connections in use \(max_client_conn" \
	"...and counts client connections against max_client_conn"

# Clients in every state, over TCP and over the unix socket.
(printf 'SET application_name = %s;\nBEGIN;\nSELECT 1;\n' "'cl_intx'"; sleep 4) |
	psql -XAtq -h 127.0.0.1 -p "$TX_PORT" -U postgres -d postgres >/dev/null 2>&1 &
intx_pid=$!
T_PIDS+=("$intx_pid")
sleep 0.5
PGAPPNAME=cl_queued psql -XAtq -h "$TX_DIR" -p "$TX_PORT" -U postgres -d postgres \
	-c "SELECT 1" >/dev/null 2>&1 &
queued_pid=$!
T_PIDS+=("$queued_pid")
sleep 0.5
"$PGDRIP" --once --format json --max-idle-tx 0 --idle-tx-age 0s -d "$C" \
	>"$T_TMP/states.json" 2>"$T_TMP/states.err"
is "$?" 1 "a client idle in a transaction fails --max-idle-tx 0 on the console"
is "$(jq -r '.idle_in_transaction[] | select(.application == "cl_intx") | .state' "$T_TMP/states.json")" \
	"idle in transaction" "...listed idle in transaction (it holds a server between statements)"
is "$(jq -r '.idle_in_transaction[] | select(.application == "cl_intx") | .client_process.pid' "$T_TMP/states.json")" \
	"$intx_pid" "...its process named from its address and port, like a direct client"
is "$(jq -r '.groups[] | select(.application == "cl_queued") | .states.waiting' "$T_TMP/states.json")" 1 \
	"the client queued for the pool's one server is waiting"
is "$(jq -r '.groups[] | select(.application == "cl_queued") | .held_by.pid' "$T_TMP/states.json")" \
	"$queued_pid" "...named over the unix socket by the pid the console gives"
is "$(jq -r '.pooler.waiting_clients' "$T_TMP/states.json")" 1 \
	"the report counts the waiting clients"
like "$(jq -r '.warnings[]' "$T_TMP/states.json")" \
	"1 client of pool postgres/postgres waits for a server connection .*pool_size of 1 is used up" \
	"...and warns that the pool is exhausted"
"$PGDRIP" --once -d "$C" --app 'cl_*' >"$T_TMP/states.txt"
like "$(grep '^postgres *cl_queued' "$T_TMP/states.txt")" "WAITING" \
	"the text flags the waiting group"
"$PGDRIP" --once --format prometheus -d "$C" >"$T_TMP/metrics.prom"
like "$(cat "$T_TMP/metrics.prom")" \
	'pgdrip_pool_client_waiting_connections\{server="127.0.0.1:[0-9]+/pgbouncer",database="postgres",user="postgres",mode="transaction"\} 1' \
	"Prometheus: cl_waiting per pool"
for m in client_active server_active server_idle; do
	like "$(cat "$T_TMP/metrics.prom")" "pgdrip_pool_${m}_connections\\{" "Prometheus: pgdrip_pool_${m}_connections"
done
like "$(cat "$T_TMP/metrics.prom")" 'pgdrip_pool_max_wait_seconds\{' "Prometheus: maxwait per pool"
check "the exposition passes promtool check metrics" \
	bash -c "promtool check metrics <'$T_TMP/metrics.prom'"
wait "$intx_pid" "$queued_pid" 2>/dev/null

# Watch with --record, its replay, --plot.
PGAPPNAME=cl_watch psql -XAtq -h 127.0.0.1 -p "$TX_PORT" -U postgres -d postgres \
	-c "SELECT pg_sleep(1.5)" >/dev/null 2>&1 &
T_PIDS+=("$!")
"$PGDRIP" --interval 250ms --duration 2s -d "$C" --record "$T_TMP/console.jsonl" \
	--plot "$T_TMP/console.svg" >"$T_TMP/watch.txt"
is "$?" 0 "watch on the console, with --record and --plot"
is "$(jq -rs '.[0].server.source + " " + (.[0].pooler.pools|type) + " " + ([.[].open // [] | .[] | select(.ptr != null and .pid > 0)] | length > 0 | tostring)' "$T_TMP/console.jsonl")" \
	"pgbouncer array true" "the record carries the console's pools, and its clients as sessions with their identity and ptr"
"$PGDRIP" --replay "$T_TMP/console.jsonl" >"$T_TMP/replay.txt"
is "$?" 0 "--replay of the console's record"
is "$(sed '1,3d' "$T_TMP/replay.txt")" "$(sed '1,3d' "$T_TMP/watch.txt")" \
	"the replay reports what the live run did (groups, pools, limits)"
like "$(head -1 "$T_TMP/replay.txt")" "PgBouncer $BOUNCER_VERSION admin console" \
	"...from the same source"
check "--plot draws valid SVG" xmllint --noout "$T_TMP/console.svg"
like "$(cat "$T_TMP/console.svg")" "max_client_conn in use" "...counting against max_client_conn"

# --wait-drain: the selected clients leave, or do not in time.
(echo "SELECT 1;"; sleep 1.5) | PGAPPNAME=cl_drain psql -XAtq -h 127.0.0.1 \
	-p "$TX_PORT" -U postgres -d postgres >/dev/null 2>&1 &
T_PIDS+=("$!")
sleep 0.4
"$PGDRIP" --app cl_drain --wait-drain 0.3s --interval 100ms -d "$C" >/dev/null 2>&1
is "$?" 1 "--wait-drain on the console: a client still there fails"
"$PGDRIP" --app cl_drain --wait-drain 10s --interval 100ms -d "$C" >/dev/null 2>&1
is "$?" 0 "...and passes once it has gone"

# Wrap: the wrapped command's clients of the pooler are its own.
"$PGDRIP" --interval 200ms --settle 1s --format json -o "$T_TMP/wrap.json" \
	-d "$C" -- bash -c "PGAPPNAME=cl_wrapped psql -XAtq -h 127.0.0.1 \
		-p $TX_PORT -U postgres -d postgres -c 'SELECT pg_sleep(1)' >/dev/null"
is "$?" 0 "wrap mode on the console"
like "$(jq -r '.groups[] | select(.application == "cl_wrapped") | .held_by.relation' "$T_TMP/wrap.json")" \
	'^(command|descendant)$' "...its clients are traced to the wrapped command's process tree"

# The live view.
export TERM=xterm-256color
SOCK=$T_TMP/tmux.sock
tmux -S "$SOCK" -f /dev/null new-session -d -s live -x 120 -y 30 \
	"LANG=C.UTF-8 '$PGDRIP' --interval 250ms --duration 3s -d '$C'; echo EXIT=\$?; sleep 30"
at_exit "tmux -S '$SOCK' kill-server"
sleep 1.5
pane=$(tmux -S "$SOCK" capture-pane -p -t live)
like "$pane" "^pgdrip .*PgBouncer $BOUNCER_VERSION admin console +as postgres" \
	"the live view's header names the console"
like "$pane" "clients [0-9]+/100 \[.*\] .*waiting [0-9]+ +maxwait" \
	"...and counts clients against max_client_conn, with the waiting ones"
# Its own end (--duration), not the pane's: a SIGHUP from kill-server
# mid-run left an ASan build spinning in LeakSanitizer's exit check.
for _ in $(seq 100); do
	tmux -S "$SOCK" capture-pane -p -S -200 -t live | grep -q '^EXIT=' && break
	sleep 0.1
done
like "$(tmux -S "$SOCK" capture-pane -p -S -200 -t live)" "^EXIT=0" \
	"...and ends at --duration with its report, exit 0"

done_testing
