#!/usr/bin/env bash
# The client hooks' receiving side (pgdrip(1), CLIENT HOOKS): the socket
# and environment a wrapped command gets, a pool suite whose tests leak
# checkouts (one kept referenced and idle in a transaction, one closed by
# the garbage collector) and a connection, blamed on their tests with
# their lines; its healthy twin; hostile lines; --record and --replay;
# and a session behind a userland TCP proxy, the command's own by its
# backend pid while a neighbour's through the same proxy is context.
# The lines come from tests/integration/hooks_client.py, a scripted
# client on real connections.
. "$(dirname "$0")/lib.sh"

need_packages socat:socat jq:jq python3-psycopg2:py:psycopg2 \
	python3-psycopg-pool:py:psycopg_pool python3-pytest:py:pytest

# -I: the real hooks (sitecustomize.py on PYTHONPATH) stay out of the
# scripted client, whose lines are the only ones.
CLIENT="/usr/bin/python3 -I $(dirname "$0")/hooks_client.py"
export HOOKS_HOLD_S=1.5

# What the command is given.
cat >"$T_TMP/env.sh" <<'EOF'
#!/bin/sh
echo "hooks=$PGDRIP_HOOKS"
[ -S "$PGDRIP_HOOKS" ] && echo "socket=yes"
[ "$(dirname "$PGDRIP_HOOKS")" = "$(dirname "$PGDRIP_TESTS")" ] && echo "beside=yes"
echo "node=$NODE_OPTIONS"
EOF
chmod +x "$T_TMP/env.sh"
NODE_OPTIONS=--no-warnings "$PGDRIP" --interval 200ms --settle 1s \
	-- "$T_TMP/env.sh" >"$T_TMP/env.out" 2>/dev/null
env=$(cat "$T_TMP/env.out")
like "$env" "socket=yes" "PGDRIP_HOOKS names a socket"
like "$env" "beside=yes" "...beside the tests' socket"
like "$env" "node=--no-warnings" "NODE_OPTIONS keeps what the user set"
check "...the socket removed after the run" \
	test ! -e "$(sed -n 's/^hooks=//p' "$T_TMP/env.out")"
PGDRIP_CLIENT_HOOKS=0 "$PGDRIP" --interval 200ms --settle 1s \
	-- "$T_TMP/env.sh" >"$T_TMP/env.out" 2>/dev/null
like "$(cat "$T_TMP/env.out")" "hooks=$" "PGDRIP_CLIENT_HOOKS=0: no PGDRIP_HOOKS"

# A pool suite where three tests leak: two checkouts never returned, one
# connection never closed.
"$PGDRIP" --app hooks_suite --interval 200ms --settle 2s --format json \
	-o "$T_TMP/leaky.json" --record "$T_TMP/leaky.jsonl" \
	-- $CLIENT leaky >"$T_TMP/leaky.out" 2>"$T_TMP/leaky.err"
is "$?" 1 "a checkout never returned fails the run"
like "$(cat "$T_TMP/leaky.err")" \
	"check leaked-checkouts failed: checkout taken at tests/test_stock.py:11 \\(reserve\\) during tests/test_stock.py::test_reserve_pear_short" \
	"...one line per checkout, naming its line and test"
j="$T_TMP/leaky.json"
is "$(jq -c '[.tests[] | select(.leaked > 0) | .name]' "$j")" \
	'["tests/test_stock.py::test_reserve_pear_short","tests/test_stock.py::test_restock","tests/test_report.py::test_report"]' \
	"the three leaking tests, and only them (the pool's idle members are not leaks)"
is "$(jq -c '[.tests[] | .client_leaked]' "$j")" '[0,1,1,1,0]' \
	"...each on the client's word"
is "$(jq '.client_hooks.checkouts_never_returned' "$j")" 2 "two checkouts never returned"
is "$(jq '.client_hooks.connections_never_closed' "$j")" 1 "one connection never closed"
rb=$(sed -n 's/^backend c //p' "$T_TMP/leaky.out" | head -1)
pb=$(sed -n 's/^backend p //p' "$T_TMP/leaky.out")
l1='.client_hooks.leaks[] | select(.test == "tests/test_stock.py::test_reserve_pear_short")'
is "$(jq "$l1 | .backend_pid" "$j")" "$rb" "the leaked checkout's backend pid"
is "$(jq -c "$l1 | .stack" "$j")" \
	'[{"file":"tests/test_stock.py","line":11,"func":"reserve"},{"file":"tests/test_stock.py","line":30,"func":"tests/test_stock.py::test_reserve_pear_short"}]' \
	"...and the stack that took it"
is "$(jq -r "$l1 | .knew + \" \" + .server.state" "$j")" "both idle_in_transaction" \
	"...the server knew too: idle in a transaction"
l2='.client_hooks.leaks[] | select(.test == "tests/test_stock.py::test_restock")'
is "$(jq -r "$l2 | [.kind, .closed_by, .collected] | join(\" \")" "$j")" "checkout gc true" \
	"a checkout the garbage collector closed is still a checkout never returned"
l3='.client_hooks.leaks[] | select(.kind == "connection")'
is "$(jq -r "$l3 | .test" "$j")" "tests/test_report.py::test_report" \
	"a connection never closed is blamed on the test that opened it"
is "$(jq "$l3 | .backend_pid" "$j")" "$pb" "...by its backend pid"
"$PGDRIP" --app hooks_suite --replay "$T_TMP/leaky.jsonl" >"$T_TMP/leaky.txt" 2>/dev/null
txt=$(cat "$T_TMP/leaky.txt")
like "$txt" "taken at tests/test_stock.py:11 \\(reserve\\) during tests/test_stock.py::test_reserve_pear_short, never returned \\(still out at exit\\); idle in transaction [0-9.]+s \\(the client and the server knew\\)" \
	"the text report: where it was taken, during which test, the server's evidence"
like "$txt" "taken at tests/test_stock.py:17 \\(restock\\) during tests/test_stock.py::test_restock, closed by the garbage collector, never returned" \
	"...closed by the garbage collector, never returned"
like "$txt" "opened at tests/test_report.py:5 \\(report\\) during tests/test_report.py::test_report, never closed" \
	"...a connection never closed"
"$PGDRIP" --app hooks_suite --replay "$T_TMP/leaky.jsonl" --format json \
	-o "$T_TMP/replay.json" 2>/dev/null
is "$(jq -c '.client_hooks.leaks' "$T_TMP/replay.json")" \
	"$(jq -c '.client_hooks.leaks' "$j")" "--replay reports the same leaks"

# Its healthy twin.
"$PGDRIP" --app hooks_suite --interval 200ms --settle 2s --format json \
	-o "$T_TMP/healthy.json" -- $CLIENT healthy >/dev/null 2>"$T_TMP/healthy.err"
is "$?" 0 "every checkout given back: exit 0"
is "$(jq '[.tests[] | .leaked] | add' "$T_TMP/healthy.json")" 0 "...no test leaked"
is "$(jq '.client_hooks.leaks | length' "$T_TMP/healthy.json")" 0 "...no leak listed"
is "$(jq '.client_hooks.processes' "$T_TMP/healthy.json")" 1 "...one process said hello"

# Hostile lines between good ones: refused, the rest taken.
"$PGDRIP" --app hooks_suite --interval 200ms --settle 2s --format json \
	-o "$T_TMP/garbage.json" -- $CLIENT garbage >/dev/null 2>"$T_TMP/garbage.err"
is "$?" 0 "garbage lines never break pgdrip"
like "$(cat "$T_TMP/garbage.err")" "1 too long, 4 not understood" "...what was not taken is said"
is "$(jq '.client_hooks.connections' "$T_TMP/garbage.json")" 5 "...the good lines are taken"
is "$(jq -r '.client_hooks.unhooked[0]' "$T_TMP/garbage.json")" \
	$'asyncpg: \e[2Jno Pool.acquire' "a library not hooked is named"
"$PGDRIP" --app hooks_suite --interval 200ms --settle 2s \
	-- $CLIENT garbage >/dev/null 2>"$T_TMP/garbage.txt"
is "$?" 0 "...in the text report too (on stderr, as wrap mode's)"
check "...once, with no control byte" test "$(grep -c 'not hooked: asyncpg: \\e\[2Jno' "$T_TMP/garbage.txt")" = 1

# The real hooks in a real pytest suite on psycopg_pool (hooksuite/):
# two tests leak a checkout, one kept referenced, one collected; the
# pool's idle members, warmed in a fixture, are no test's leak.
cp -r "$(dirname "$0")/hooksuite" "$T_TMP/suite"
run_suite() { # NAME [ENV=VALUE...]
	local name=$1
	shift
	(cd "$T_TMP/suite" && env "$@" "$PGDRIP" --app hooksuite --interval 200ms \
		--settle 2s --format json -o "$T_TMP/$name.json" \
		-- /usr/bin/python3 -m pytest -q -p no:cacheprovider test_stock.py \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err")
}
run_suite pool
is "$?" 1 "pytest on psycopg_pool, two checkouts never returned: exit 1"
s="$T_TMP/pool.json"
is "$(jq -c '[.tests[] | select(.leaked > 0) | .name]' "$s")" \
	'["test_stock.py::test_reserve_pear_short","test_stock.py::test_restock"]' \
	"...the two tests that took them, and only them"
is "$(jq -c '[.client_hooks.leaks[] | .stack[0] | "\(.file):\(.line) (\(.func))"] | unique' "$s")" \
	'["test_stock.py:12 (reserve)"]' "...each taken at reserve's line"
is "$(jq -c '.client_hooks.leaks[] | select(.test == "test_stock.py::test_restock") | [.collected, .closed_by]' "$s")" \
	'[true,"gc"]' "...the one the garbage collector took is said so"
is "$(grep -c 'check leaked-checkouts failed: checkout taken at test_stock.py:12 (reserve) during' "$T_TMP/pool.err")" 2 \
	"...one failure line per checkout"
is "$(jq '.client_hooks.leaks[] | select(.test == "test_stock.py::test_reserve_pear_short") | .backend_pid > 0' "$s")" true \
	"...with its backend pid"
run_suite healthy HOOKSUITE_HEALTHY=1
is "$?" 0 "its healthy twin: exit 0"
is "$(jq '[.tests[] | .leaked] | add' "$T_TMP/healthy.json")" 0 \
	"...no test leaked, the pool's idle members neither"
run_suite nohooks PGDRIP_CLIENT_HOOKS=0
is "$(jq '.client_hooks.reported' "$T_TMP/nohooks.json")" false \
	"PGDRIP_CLIENT_HOOKS=0: the hooks are not loaded"

# A plain script: its connection never closed is named with its line.
(cd "$T_TMP/suite" && "$PGDRIP" --app hooksapp --interval 200ms --settle 2s \
	-- /usr/bin/python3 app.py >/dev/null 2>"$T_TMP/app.err")
like "$(cat "$T_TMP/app.err")" "opened at app.py:6 \\(main\\), never closed" \
	"python app.py: the connection it never closed, with its line"

# Behind a userland TCP proxy, as Docker's port mapping puts one: the
# session is the command's by its backend pid; a neighbour outside the
# command leaking through the same proxy, under the same name, is not.
port=$(free_port)
start_group proxy socat "TCP-LISTEN:$port,fork,reuseaddr,bind=127.0.0.1" "TCP:127.0.0.1:$PGPORT"
poll_until 10 listening "$port" || echo "# the proxy did not listen"
dsn="host=127.0.0.1 port=$port dbname=${PGDATABASE:-postgres} user=${PGUSER:-postgres}"
# Idle, not sleeping in a query: its backend leaves as soon as the
# client end closes, so no later test sees it.
start_group neighbour bash -c "{ echo \"SELECT 'neighbour';\"; sleep 120; } | psql '$dsn application_name=hooks_proxy' -XAtq"
at_exit "psql -XAtqc \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hooks_proxy'\""
neighbour_in() { [ "$(psql_count "application_name = 'hooks_proxy'")" = 1 ]; }
poll_until 10 neighbour_in || echo "# the neighbour did not connect"
"$PGDRIP" --app hooks_proxy --interval 200ms --settle 2s --format json \
	-o "$T_TMP/proxy.json" -- $CLIENT proxy "$dsn" >"$T_TMP/proxy.out" 2>/dev/null
is "$?" 1 "through a proxy: the test's connection never closed fails it"
xb=$(sed -n 's/^backend x //p' "$T_TMP/proxy.out")
p1='.tests[0].sessions[0]'
is "$(jq -c "[$p1.pid, $p1.client_process.relation]" "$T_TMP/proxy.json")" "[$xb,\"descendant\"]" \
	"...its session is the command's, by its backend pid"
is "$(jq -c "[(.tests[0].sessions | length), .tests[0].leaked]" "$T_TMP/proxy.json")" "[1,1]" \
	"...the neighbour's session through the same proxy is not the test's"
PGDRIP_CLIENT_HOOKS=0 "$PGDRIP" --app hooks_proxy --interval 200ms --settle 2s --format json \
	-o "$T_TMP/proxy0.json" -- $CLIENT proxy "$dsn" >/dev/null 2>&1
is "$(jq '.tests[0].sessions | length' "$T_TMP/proxy0.json")" 0 \
	"...without the hooks the proxy hides it (the test opened nothing)"

# The same with the real hooks: a pytest test leaks a connection opened
# through the proxy; the hooks' backend pid makes it the test's.
proxy_suite() { # NAME [ENV=VALUE...]
	local name=$1
	shift
	(cd "$T_TMP/suite" && env "$@" HOOKSUITE_DSN="$dsn application_name=hooks_proxy" \
		"$PGDRIP" --app hooks_proxy --interval 200ms --settle 2s --format json \
		-o "$T_TMP/$name.json" -- /usr/bin/python3 -m pytest -q \
		-p no:cacheprovider test_proxy.py >/dev/null 2>&1)
}
proxy_suite realproxy
is "$?" 1 "pytest through the proxy, a connection never closed: exit 1"
is "$(jq -c '[.tests[0].leaked, .tests[0].client_leaked, (.tests[0].sessions | length)]' "$T_TMP/realproxy.json")" \
	"[1,1,1]" "...the test's session, by the hooks' backend pid, the neighbour's not"
is "$(jq -r '.tests[0].sessions[0].client_process.relation' "$T_TMP/realproxy.json")" descendant \
	"...the command's, though socket matching saw the proxy"
proxy_suite realproxy0 PGDRIP_CLIENT_HOOKS=0
is "$(jq '.tests[0].sessions | length' "$T_TMP/realproxy0.json")" 0 \
	"...without the hooks the proxy hides it"

# The default verdict, hooks or not: a test that leaked fails the run
# (no --max-leaked-per-test given; "2 of 6 tests leaked" exited 0).
(cd "$T_TMP/suite" && PGDRIP_CLIENT_HOOKS=0 HOOKSUITE_DSN="application_name=hooks_direct" \
	"$PGDRIP" --app hooks_direct --interval 200ms --settle 2s \
	-- /usr/bin/python3 -m pytest -q -p no:cacheprovider test_proxy.py \
	>/dev/null 2>"$T_TMP/direct.err")
is "$?" 1 "a test that leaked fails the run by default"
like "$(cat "$T_TMP/direct.err")" "1 of 1 tests leaked" "...as the report says"

done_testing
