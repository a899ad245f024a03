#!/usr/bin/env bash
# --format prometheus, --output written atomically, --max-groups, the
# alert rules, and --listen scraped by a real Prometheus server while a
# leak runs: its counts must match the server's, its leak gauge must
# single out the leaking group.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v promtool >/dev/null || ! command -v curl >/dev/null; then
	# The scripts install both: their absence is a failure.
	fail "promtool and curl are installed"
	done_testing
	exit 1
fi

# A port nobody listens on (a race with other users, but a short one).
free_tcp_port() {
	local port
	for port in $(shuf -i 20000-29999 -n 50); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# ---- --once: promtool accepts it, hostile names included ----
evil_role=$(printf 'p_evil\033[2J"q\\b\nnl\377x')
ascii_db p_ascii || fail "create a SQL_ASCII database"
raw_role p_ascii "$evil_role" || fail "create a hostile role"
sql "DROP ROLE IF EXISTS p_app; CREATE ROLE p_app LOGIN" >/dev/null
start_workload -d "dbname=p_ascii" "idle:$evil_role:$(printf 'a"pp\\x\033[31m'):2" \
	idle:p_app:g1:4 idle:p_app:g2:3 idle-tx:p_app:g3:1 ||
	{ fail "workload with hostile names"; done_testing; exit 1; }

"$PGDRIP" --once --format prometheus >"$T_TMP/once.prom" 2>"$T_TMP/err"
is "$?" 0 "--once --format prometheus"
check "promtool check metrics accepts it" sh -c "promtool check metrics <'$T_TMP/once.prom'"
check "valid UTF-8" iconv -f UTF-8 -t UTF-8 "$T_TMP/once.prom"
check "no control byte but newlines" test -z "$(LC_ALL=C grep -P '[\x00-\x09\x0b-\x1f\x7f]' "$T_TMP/once.prom")"
like "$(cat "$T_TMP/once.prom")" 'user="p_evil\\\\x1b\[2J\\"q\\\\\\\\b\\nnl\\\\xffx"' \
	"the hostile role is escaped: ESC and 0xff as \\\\xNN, quote, the backslash doubled, newline"
is "$(grep -c '^# TYPE pgdrip_group_connections gauge$' "$T_TMP/once.prom")" 1 "one TYPE line per family"
is "$(grep -E '^pgdrip_connections\{.*application="g3".*state="idle in transaction"' "$T_TMP/once.prom" | awk '{ print $NF }')" 1 \
	"pgdrip_connections by user, application, database and state"
like "$(grep '^pgdrip_group_connections{.*application="g1"' "$T_TMP/once.prom")" \
	"^pgdrip_group_connections\{server=\"[^\"]*:$PGPORT/postgres\",user=\"p_app\",application=\"g1\"\} 4$" \
	"group series carry the server label and the group keys"
check "no password in the server label" sh -c "! grep -qi password '$T_TMP/once.prom'"

# ---- --max-groups ----
"$PGDRIP" --once --format prometheus --max-groups 2 >"$T_TMP/fold.prom" 2>/dev/null
check "the folded exposition passes promtool" sh -c "promtool check metrics <'$T_TMP/fold.prom'"
is "$(grep -c '^pgdrip_group_connections{' "$T_TMP/fold.prom")" 3 "--max-groups 2: two groups and other"
is "$(grep '^pgdrip_group_connections{.*other="true"' "$T_TMP/fold.prom" | grep -c 'user="__other__",application="__other__"')" 1 \
	"the rest is one group labelled __other__, other=\"true\""
is "$(awk '/^pgdrip_group_connections\{/ { s += $NF } END { print s }' "$T_TMP/fold.prom")" \
	"$(awk '/^pgdrip_selected_connections\{/ { print $NF }' "$T_TMP/fold.prom")" \
	"the fold loses no connection"
like "$(grep '^# warning:' "$T_TMP/fold.prom")" 'groups past --max-groups 2 are summed' "a warning says so"

# ---- --output: atomic ----
mkdir -p "$T_TMP/tf"
umask 022
"$PGDRIP" --once --format prometheus --output "$T_TMP/tf/pgdrip.prom" 2>/dev/null
is "$?" 0 "--output FILE"
check "the file is complete" sh -c "promtool check metrics <'$T_TMP/tf/pgdrip.prom'"
is "$(ls -A "$T_TMP/tf")" pgdrip.prom "no temporary file is left behind"
is "$(stat -c %a "$T_TMP/tf/pgdrip.prom")" 644 "the file is readable by a collector (umask 022)"
# A second link keeps the old inode alive, so its number cannot be reused.
ln "$T_TMP/tf/pgdrip.prom" "$T_TMP/old.prom"
# A reader racing ten rewrites must always see a whole file.
(for _ in $(seq 10); do "$PGDRIP" --once --format prometheus --output "$T_TMP/tf/pgdrip.prom" 2>/dev/null; done) &
writer=$!
torn=0 reads=0
while kill -0 "$writer" 2>/dev/null; do
	tail -n 1 "$T_TMP/tf/pgdrip.prom" | grep -q '^pgdrip_group_oldest_idle_in_transaction_seconds{' || torn=$((torn + 1))
	reads=$((reads + 1))
done
wait "$writer"
is "$torn" 0 "no torn file in $reads reads during ten rewrites"
check "the file was replaced, not rewritten in place" test "$(stat -c %i "$T_TMP/tf/pgdrip.prom")" != "$(stat -c %i "$T_TMP/old.prom")"
check "...the old one is untouched" sh -c "promtool check metrics <'$T_TMP/old.prom'"
mkdir -p "$T_TMP/sl/real"
echo old >"$T_TMP/sl/real/f.prom"
ln -s real/f.prom "$T_TMP/sl/link.prom"
"$PGDRIP" --once --format prometheus --output "$T_TMP/sl/link.prom" 2>/dev/null
check "a symbolic link is followed: the file it names is written" \
	sh -c "test -L '$T_TMP/sl/link.prom' && promtool check metrics <'$T_TMP/sl/real/f.prom' && test \$(ls -A '$T_TMP/sl/real') = f.prom"
"$PGDRIP" --once --format json --output "$T_TMP/tf/r.json" 2>/dev/null
check "--output is atomic for JSON too (valid, no temp file)" sh -c "jq -e . '$T_TMP/tf/r.json' && test \$(ls -A '$T_TMP/tf' | wc -l) = 2"
"$PGDRIP" --once --format prometheus --output "$T_TMP/nodir/x.prom" 2>"$T_TMP/err"
is "$?" 3 "--output into a missing directory fails"
like "$(cat "$T_TMP/err")" '^pgdrip: cannot write ".*/nodir/x.prom": No such file' "...with one line"
stop_workload "$WL_PID"

# ---- the alert rules ----
check "promtool check rules scripts/pgdrip-alerts.yml" promtool check rules "$ROOT/scripts/pgdrip-alerts.yml"

# ---- --listen: usage errors ----
"$PGDRIP" --once --listen 127.0.0.1:9187 2>"$T_TMP/err"
is "$?" 2 "--listen with --once is a usage error"
"$PGDRIP" --no-live --listen 9187 2>"$T_TMP/err"
is "$?" 2 "--listen without a port is a usage error"
is "$(wc -l <"$T_TMP/err")" 2 "...one line and a hint"

# ---- --listen scraped by a real Prometheus ----
# The scripts install Debian's prometheus: its absence is a failure.
command -v prometheus >/dev/null ||
	{ fail "prometheus is installed (Debian's prometheus package)"; done_testing; exit 1; }
sql "DROP ROLE IF EXISTS p_leak; CREATE ROLE p_leak LOGIN" >/dev/null
# The leak is capped (150 sessions, 45 s): the cluster is shared.
start_workload leak:p_leak:leaky:300:150 idle:p_leak:steady:3 ||
	{ fail "leak workload"; done_testing; exit 1; }
LPORT=$(free_tcp_port)
"$PGDRIP" --no-live --user p_leak --interval 500ms --listen "127.0.0.1:$LPORT" \
	>"$T_TMP/listen.out" 2>"$T_TMP/listen.err" &
LPID=$!
T_PIDS+=("$LPID")
poll_until 30 curl -sf "http://127.0.0.1:$LPORT/metrics"
check "/metrics answers" curl -sf "http://127.0.0.1:$LPORT/metrics"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$LPORT/metrics")
like "$ctype" '^text/plain; version=0\.0\.4' "Content-Type text/plain; version=0.0.4"
check "a scrape passes promtool" sh -c "curl -s http://127.0.0.1:$LPORT/metrics | promtool check metrics"
like "$(curl -s "http://127.0.0.1:$LPORT/")" '/metrics' "/ points to /metrics"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LPORT/nope")" 404 "other paths are 404"
"$PGDRIP" --no-live --listen "127.0.0.1:$LPORT" --duration 1s 2>"$T_TMP/err"
is "$?" 3 "a port in use exits 3"
like "$(cat "$T_TMP/err")" "cannot listen on 127.0.0.1:$LPORT: Address already in use" "...saying so in one line"

# Every interface, asked for by name ("[::]:PORT"; ":PORT" is loopback
# only, test_listen): IPv4, and IPv6 where the machine has it.
APORT=$(free_tcp_port)
"$PGDRIP" --no-live --user p_leak --listen "[::]:$APORT" >/dev/null 2>&1 &
APID=$!
T_PIDS+=("$APID")
check "[::]:PORT answers on 127.0.0.1" poll_until 30 curl -sf "http://127.0.0.1:$APORT/metrics"
if grep -qs '^0\{31\}1 ' /proc/net/if_inet6; then
	check "...and on [::1] (dual stack)" curl -sfg "http://[::1]:$APORT/metrics"
	kill "$APID"
	wait "$APID" 2>/dev/null
	"$PGDRIP" --no-live --user p_leak --listen "[::1]:$APORT" >/dev/null 2>&1 &
	APID=$!
	T_PIDS+=("$APID")
	check "[::1]:PORT answers on [::1]" poll_until 30 curl -sfg "http://[::1]:$APORT/metrics"
else
	pass "no IPv6 loopback here: [::1] not tried"
	pass "no IPv6 loopback here: [::1] not tried"
fi
kill "$APID"
wait "$APID" 2>/dev/null

PPORT=$(free_tcp_port)
cat >"$T_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/scripts/pgdrip-alerts.yml
scrape_configs:
  - job_name: pgdrip
    static_configs:
      - targets: ['127.0.0.1:$LPORT']
EOF
prometheus --config.file="$T_TMP/prometheus.yml" --storage.tsdb.path="$T_TMP/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" >"$T_TMP/prometheus.log" 2>&1 &
T_PIDS+=("$!")
API="http://127.0.0.1:$PPORT/api/v1"
# query PROMQL: the result vector, one "labels value" line per series.
query() {
	curl -sf "$API/query" --data-urlencode "query=$1" |
		jq -r '.data.result[] | "\(.metric.application // "-") \(.value[1])"' 2>/dev/null
}
check "Prometheus starts" poll_until 30 curl -sf "http://127.0.0.1:$PPORT/-/ready"

steady_matches() {
	local got want
	got=$(query 'pgdrip_group_connections{application="steady"}' | awk '{ print $2 }')
	want=$(psql_count "application_name = 'steady'")
	[ -n "$got" ] && [ "$got" = "$want" ]
}
check "Prometheus scraped pgdrip_up 1" poll_until 30 sh -c "curl -sf '$API/query' --data-urlencode 'query=pgdrip_up' | jq -e '.data.result[0].value[1] == \"1\"'"
check "the steady group's count in Prometheus equals the server's ($(psql_count "application_name = 'steady'"))" \
	poll_until 30 steady_matches
leak_only() {
	[ "$(query 'pgdrip_group_leak_flagged == 1' | awk '{ print $1 }' | sort | tr '\n' ' ')" = "leaky " ]
}
check "the leak gauge is 1 for the leaking group only" poll_until 30 leak_only
is "$(query 'pgdrip_group_leak_flagged{application="steady"}' | awk '{ print $2 }')" 0 "...and 0 for the steady one"
check "a forecast exists for the leaking group" sh -c "curl -sf '$API/query' --data-urlencode 'query=pgdrip_group_exhaustion_forecast_seconds{application=\"leaky\"}' | jq -e '.data.result | length == 1'"
alert_pending() {
	curl -sf "$API/alerts" | jq -e '[.data.alerts[] | select(.labels.alertname == "PgdripConnectionLeak" and .labels.application == "leaky")] | length == 1'
}
check "the leak alert rule picks it up (pending or firing)" poll_until 30 alert_pending
stop_workload "$WL_PID"

# The server goes away and comes back: pgdrip_up follows, the last
# figures stay served, the reconnect is counted.
scrape_has() { curl -sf "http://127.0.0.1:$LPORT/metrics" | grep -qE "$1"; }
cluster_ctl stop -m fast
check "server stopped: pgdrip_up 0" poll_until 30 scrape_has '^pgdrip_up\{.*\} 0$'
check "...the exposition stays valid" sh -c "curl -s http://127.0.0.1:$LPORT/metrics | promtool check metrics"
check "...failures are counted" scrape_has '^pgdrip_sample_failures_total\{.*\} [1-9]'
cluster_ctl restart
check "server back: pgdrip_up 1" poll_until 30 scrape_has '^pgdrip_up\{.*\} 1$'
check "...one reconnect counted" scrape_has '^pgdrip_reconnects_total\{.*\} 1$'
kill "$LPID"
wait "$LPID"
is "$?" 0 "pgdrip --listen stops cleanly on SIGTERM"
done_testing
