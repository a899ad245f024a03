#!/usr/bin/env bash
# The client hooks end to end (pgdrip(1), CLIENT HOOKS): pgdrip wraps a
# real runner on a real client library, each a leaking suite and its
# healthy twin (HOOKSUITE_HEALTHY=1): node-postgres's pg.Pool under mocha
# (also through npm test, and --parallel) and jest (also two workers;
# hooksuite_node/), a plain node script's pg.Client (hooksuite_node/
# leak.js), asyncpg's Pool (a checkout the server ends while out),
# SQLAlchemy's QueuePool (a Connection dropped to the garbage collector)
# and psycopg2.pool (idle members opened in the fixture) under pytest
# (hooksuite_async/, hooksuite_sa/, hooksuite_pg2/), pytest-xdist with two
# workers on psycopg_pool (hooksuite/).  Each checks the exit status, the
# tests named as leaking (a connection resting in its pool is none), the
# file:line (function) of each leaked checkout against the suite's
# source (its "@take" or "@open" marker) and .client_hooks in the JSON.
. "$(dirname "$0")/lib.sh"

need_packages "${CLIENT_PACKAGES[@]}" "${HOOK_PACKAGES[@]}" jq:jq
need_npm ""
BIN=$NPM_DIR/node_modules/.bin
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)

# marker FILE TAG FUNC: "FILE:LINE (FUNC)" of the line marked "@TAG
# FUNC" in the suite's source, as the hooks name it (FILE as given).
marker() {
	local hit
	hit=$(grep -n "[#/] @$2 $3\$" "$1" | head -1)
	echo "$1:${hit%%:*} ($3)"
}

# wrap NAME DIR COMMAND...: pgdrip wraps COMMAND in DIR (a copy of the
# suite's directory under $T_TMP), the JSON report in $T_TMP/NAME.json,
# its stderr in NAME.err, with pgdrip's options WRAP_OPTS besides; RC is
# its exit status.
WRAP_OPTS=()
wrap() {
	local name=$1 dir=$2
	shift 2
	(cd "$dir" && "$PGDRIP" --app 'hooksuite*' --interval 200ms --settle 1s \
		${WRAP_OPTS[@]+"${WRAP_OPTS[@]}"} \
		--format json -o "$T_TMP/$name.json" -- "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err")
	RC=$?
}

# leaking NAME: the tests named as leaking, a JSON array.
leaking() {
	jq -c '[.tests[] | select(.leaked > 0) | .name]' "$T_TMP/$1.json"
}

# leaks NAME: each client leak as "TEST @ FILE:LINE (FUNC)", sorted.
leaks() {
	jq -c '[.client_hooks.leaks[] | "\(.test) @ \(.stack[0].file):\(.stack[0].line) (\(.stack[0].func))"] | sort' \
		"$T_TMP/$1.json"
}

# hooks NAME FIELDS: .client_hooks' FIELDS (a jq list) as one line.
hooks() {
	jq -c ".client_hooks | [$2]" "$T_TMP/$1.json"
}

# twin NAME WHAT COMMAND...: COMMAND (a run function and its arguments)
# as the healthy twin (HOOKSUITE_HEALTHY=1) into NAME: it passes, no test
# named as leaking, the hooks spoke and listed no leak.
twin() {
	local name=$1 what=$2
	shift 2
	HOOKSUITE_HEALTHY=1 "$@"
	is "$RC" 0 "$name: $what, exit 0"
	is "$(leaking "$name")" '[]' "$name: no test named as leaking"
	is "$(hooks "$name" '.reported, (.leaks | length)')" '[true,0]' \
		"$name: the hooks spoke, no leak listed"
}

for d in hooksuite hooksuite_node hooksuite_async hooksuite_sa hooksuite_pg2; do
	cp -r "$HERE/$d" "$T_TMP/$d"
done

# ---- node-postgres ----

NODE=$T_TMP/hooksuite_node
take_node=$(cd "$NODE" && marker stock.js take reserve)

# mocha: "reserves pears short" takes pool.connect() and, on its error
# path, never releases; "counts" opens a connection the next test takes
# again, "restocks" one that rests in the pool to the end.
mocha_run() { # NAME
	HOOKSUITE_HEALTHY=${HOOKSUITE_HEALTHY:-0} wrap "$1" "$NODE" sh -c \
		"\"$BIN/mocha\" --require \"\$PGDRIP_MOCHA_HOOKS\" --exit 'mocha/*.spec.js'"
}
mocha_run mocha
is "$RC" 1 "mocha on pg.Pool, a checkout never released: exit 1"
is "$(leaking mocha)" '["mocha/stock.spec.js::stock reserves pears short"]' \
	"mocha: the leaking test, and only it (a connection resting in the pool is none)"
is "$(leaks mocha)" "[\"mocha/stock.spec.js::stock reserves pears short @ $take_node\"]" \
	"mocha: the checkout, taken at $take_node"
is "$(hooks mocha '.checkouts_never_returned, .connections_never_closed, .resting_in_pool')" \
	'[1,0,1]' "mocha: one checkout never returned, one connection resting in its pool"
is "$(jq -c '[.tests[] | select(.name | endswith("restocks")) | .sessions[].fate]' "$T_TMP/mocha.json")" \
	'["pooled"]' "mocha: the resting connection is 'pooled' in its test"
is "$(grep -c "check leaked-checkouts failed: checkout taken at $take_node during mocha/stock.spec.js::stock reserves pears short" "$T_TMP/mocha.err")" \
	1 "mocha: one failure line, naming the line and the test"
twin mocha_healthy "every checkout given back" mocha_run mocha_healthy

# npm test running that mocha suite (package.json): the hooks reach
# mocha through npm and its shell (npm finds mocha in node_modules/.bin).
ln -s "$NPM_DIR/node_modules" "$NODE/node_modules"
wrap npm "$NODE" npm test --silent
is "$RC" 1 "npm test (mocha), a checkout never released: exit 1"
is "$(leaking npm)" '["mocha/stock.spec.js::stock reserves pears short"]' \
	"npm test: the leaking test, and only it"
is "$(leaks npm)" "[\"mocha/stock.spec.js::stock reserves pears short @ $take_node\"]" \
	"npm test: the checkout, taken at $take_node"
twin npm_healthy "every checkout given back" wrap npm_healthy "$NODE" \
	npm test --silent

# jest: the same suite (pg loaded by jest into the tests' context).
jest_run() { # NAME
	HOOKSUITE_HEALTHY=${HOOKSUITE_HEALTHY:-0} wrap "$1" "$NODE" sh -c \
		"\"$BIN/jest\" --forceExit --cacheDirectory '$T_TMP/jest-cache' --setupFilesAfterEnv \"\$PGDRIP_JEST_SETUP\""
}
jest_run jest
is "$RC" 1 "jest on pg.Pool, a checkout never released: exit 1"
is "$(leaking jest)" '["jest/stock.test.js::stock reserves pears short"]' \
	"jest: the leaking test, and only it"
is "$(leaks jest)" "[\"jest/stock.test.js::stock reserves pears short @ $take_node\"]" \
	"jest: the checkout, taken at $take_node"
is "$(hooks jest '.checkouts_never_returned, .resting_in_pool')" '[1,1]' \
	"jest: one checkout never returned, one connection resting in its pool"
twin jest_healthy "every checkout given back" jest_run jest_healthy

# Two workers, mocha --parallel and jest --maxWorkers 2, on the suite
# and a second file of it (a copy under another describe): each worker's
# leaking test named once, with the line.
sed "s/describe('stock'/describe('stock2'/" "$NODE/mocha/stock.spec.js" \
	>"$NODE/mocha/stock2.spec.js"
sed "s/describe('stock'/describe('stock2'/" "$NODE/jest/stock.test.js" \
	>"$NODE/jest/stock2.test.js"
wrap mocha_par "$NODE" sh -c \
	"\"$BIN/mocha\" --parallel --jobs 2 --require \"\$PGDRIP_MOCHA_HOOKS\" --exit 'mocha/*.spec.js'"
is "$RC" 1 "mocha --parallel, each file leaking a checkout: exit 1"
is "$(leaks mocha_par)" "[\"mocha/stock.spec.js::stock reserves pears short @ $take_node\",\"mocha/stock2.spec.js::stock2 reserves pears short @ $take_node\"]" \
	"mocha --parallel: each file's checkout, at $take_node"
is "$(jq -c '[(.tests | map(select(.leaked > 0)) | length), ([.tests[].process] | unique | length)]' "$T_TMP/mocha_par.json")" \
	'[2,2]' "mocha --parallel: two leaking tests, from two workers"
# A cache of its own: with the timings of fast tests jest runs them in
# its own process.
wrap jest_par "$NODE" sh -c \
	"\"$BIN/jest\" --maxWorkers 2 --forceExit --cacheDirectory '$T_TMP/jest-cache-par' --setupFilesAfterEnv \"\$PGDRIP_JEST_SETUP\""
is "$RC" 1 "jest --maxWorkers 2, each file leaking a checkout: exit 1"
is "$(leaks jest_par)" "[\"jest/stock.test.js::stock reserves pears short @ $take_node\",\"jest/stock2.test.js::stock2 reserves pears short @ $take_node\"]" \
	"jest --maxWorkers 2: each file's checkout, at $take_node"
is "$(jq -c '[(.tests | map(select(.leaked > 0)) | length), ([.tests[].process] | unique | length)]' "$T_TMP/jest_par.json")" \
	'[2,2]' "jest --maxWorkers 2: two leaking tests, from two workers"
rm "$NODE/mocha/stock2.spec.js" "$NODE/jest/stock2.test.js"

# A plain script (no runner): a pg.Client never ended, then
# process.exit() straight after its last query (its lines come in just
# before the command ends).
open_node=$(cd "$NODE" && marker leak.js open main)
for i in 1 2 3; do
	wrap script "$NODE" node leak.js
	is "$RC" 1 "node leak.js, a Client never ended: exit 1 (run $i)"
	is "$(hooks script '.reported, .connections_never_closed')" '[true,1]' \
		"node leak.js: the hooks' lines are taken though it exits at once (run $i)"
done
is "$(jq -c '[.client_hooks.leaks[] | [.kind, .test, "\(.stack[0].file):\(.stack[0].line) (\(.stack[0].func))"]]' "$T_TMP/script.json")" \
	"[[\"connection\",null,\"$open_node\"]]" "node leak.js: the connection, opened at $open_node"
like "$(cat "$T_TMP/script.err")" \
	"check leaked-connections failed: connection opened at $(printf '%s' "$open_node" | sed 's/[()]/\\&/g'), never closed" \
	"node leak.js: the failure names the line"
twin script_healthy "the Client ended" wrap script_healthy "$NODE" node leak.js
is "$(jq -r '.checks[] | select(.name == "leaked-connections") | .where' "$T_TMP/script_healthy.json")" \
	"every connection" "script_healthy: the check leaked-connections passed"

# ---- Python under pytest ----

pytest_run() { # NAME SUITE [ARGS...]
	local name=$1 dir=$2
	shift 2
	HOOKSUITE_HEALTHY=${HOOKSUITE_HEALTHY:-0} wrap "$name" "$T_TMP/$dir" \
		$PY -m pytest -q -p no:cacheprovider "$@"
}

# asyncpg's Pool: reserve() acquires and never releases on its error
# path, count()'s checkout is ended by the server while out (its pool
# takes it back; the code never releases it either); the pool, never
# closed, opened its four members in the fixture (none a leak).
take_async=$(cd "$T_TMP/hooksuite_async" && marker test_shop.py take reserve)
take_count=$(cd "$T_TMP/hooksuite_async" && marker test_shop.py take count)
WRAP_OPTS=(--record "$T_TMP/async.jsonl")
pytest_run async hooksuite_async
WRAP_OPTS=()
is "$RC" 1 "asyncpg Pool under pytest, acquires never released: exit 1"
is "$(leaking async)" '["test_shop.py::test_count_ended","test_shop.py::test_reserve_pear_short"]' \
	"asyncpg: the leaking tests, and only them"
is "$(leaks async)" "[\"test_shop.py::test_count_ended @ $take_count\",\"test_shop.py::test_reserve_pear_short @ $take_async\"]" \
	"asyncpg: the checkouts, taken at $take_count and $take_async"
is "$(jq -c '[.client_hooks.leaks[] | [.lib, .kind, .backend_pid > 0]] | unique' "$T_TMP/async.json")" \
	'[["asyncpg","checkout",true]]' "asyncpg: checkouts, with their backend pids"
is "$(jq -c '[.client_hooks.leaks[] | [.test, .lost_by, .closed_by, .collected]] | sort' "$T_TMP/async.json")" \
	'[["test_shop.py::test_count_ended","server","server",false],["test_shop.py::test_reserve_pear_short",null,"exit",false]]' \
	"asyncpg: lost, ended by the server while out; still out at exit"
is "$(hooks async '.checkouts_never_returned, .connections_never_closed')" '[2,0]' \
	"asyncpg: the releases of the other tests seen (two checkouts out)"
"$PGDRIP" --app 'hooksuite*' --replay "$T_TMP/async.jsonl" --format json \
	-o "$T_TMP/async_replay.json" 2>/dev/null
is "$(jq -c '[.client_hooks.leaks, [.tests[] | [.name, .leaked]]]' "$T_TMP/async_replay.json")" \
	"$(jq -c '[.client_hooks.leaks, [.tests[] | [.name, .leaked]]]' "$T_TMP/async.json")" \
	"asyncpg: --replay of its record reports the same leaks and tests"
twin async_healthy "every acquire released (one after the server ended it)" \
	pytest_run async_healthy hooksuite_async

# SQLAlchemy's QueuePool on psycopg2 (SQLAlchemy 1.4, Debian 12's, has
# no psycopg 3 dialect: 2.0 added it): a Connection kept open, checked
# out; one dropped to the garbage collector (SQLAlchemy returns it to the
# pool and the next test takes it again: the dropped checkout stays a
# leak); an engine never disposed, whose idle members rest in it.
take_sa=$(cd "$T_TMP/hooksuite_sa" && marker test_shop.py take reserve)
take_browse=$(cd "$T_TMP/hooksuite_sa" && marker test_shop.py take browse)
pytest_run sa hooksuite_sa
is "$RC" 1 "SQLAlchemy QueuePool on psycopg2, Connections never closed: exit 1"
is "$(leaking sa)" '["test_shop.py::test_browse","test_shop.py::test_reserve_pear_short"]' \
	"sqlalchemy: the leaking tests, and only them (the idle members rest)"
is "$(leaks sa)" "[\"test_shop.py::test_browse @ $take_browse\",\"test_shop.py::test_reserve_pear_short @ $take_sa\"]" \
	"sqlalchemy: the checkouts, taken at $take_browse and $take_sa"
is "$(jq -c '[.client_hooks.leaks[] | [.lost_by, .collected]]' "$T_TMP/sa.json")" \
	'[["gc",true],[null,false]]' "sqlalchemy: the dropped one collected, the kept one not"
is "$(hooks sa '.checkouts_never_returned, .resting_in_pool, .connections')" '[2,1,2]' \
	"sqlalchemy: two checkouts never returned, one connection resting in its pool, two connections"
twin sa_healthy "every Connection closed" pytest_run sa_healthy hooksuite_sa

# psycopg2.pool: its idle members, opened in the fixture in the code's
# own frames (psycopg2's pools open them in the caller), rest there
# never taken: no leak; reserve() never puts its connection back.
take_pg2=$(cd "$T_TMP/hooksuite_pg2" && marker test_shop.py take reserve)
pytest_run pg2 hooksuite_pg2
is "$RC" 1 "psycopg2.pool under pytest, a connection never put back: exit 1"
is "$(leaking pg2)" '["test_shop.py::test_reserve_pear_short"]' \
	"psycopg2.pool: the leaking test, and only it (the idle members are none)"
is "$(leaks pg2)" "[\"test_shop.py::test_reserve_pear_short @ $take_pg2\"]" \
	"psycopg2.pool: the checkout, taken at $take_pg2"
twin pg2_healthy "every connection put back" pytest_run pg2_healthy hooksuite_pg2
is "$(hooks pg2_healthy '.connections')" '[2]' \
	"pg2_healthy: the hooks spoke of the pool's two members"

# pytest-xdist, two workers, on psycopg_pool (hooksuite/test_stock.py:
# two tests leak a checkout through reserve(), one collected): each
# leaking test named once, with its line.
take_x=$(cd "$T_TMP/hooksuite" && grep -n 'conn = pool.getconn()' test_stock.py | cut -d: -f1)
pytest_run xdist hooksuite -n 2 test_stock.py
is "$RC" 1 "pytest -n 2 on psycopg_pool, two checkouts never returned: exit 1"
is "$(jq -c '[.tests[] | select(.leaked > 0) | .name] | sort' "$T_TMP/xdist.json")" \
	'["test_stock.py::test_reserve_pear_short","test_stock.py::test_restock"]' \
	"xdist: the two leaking tests, each named once"
is "$(leaks xdist)" "[\"test_stock.py::test_reserve_pear_short @ test_stock.py:$take_x (reserve)\",\"test_stock.py::test_restock @ test_stock.py:$take_x (reserve)\"]" \
	"xdist: each checkout at reserve's line"
is "$(jq '[.tests[] | .name] | length == (unique | length)' "$T_TMP/xdist.json")" true \
	"xdist: no test listed twice"
is "$(jq -c '[.client_hooks.processes, ([.tests[].process] | unique | length)]' "$T_TMP/xdist.json")" \
	'[2,2]' "xdist: both workers ran tests and spoke"
twin xdist_healthy "every checkout given back" pytest_run xdist_healthy \
	hooksuite -n 2 test_stock.py

done_testing
