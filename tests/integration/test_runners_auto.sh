#!/usr/bin/env bash
# Test names from runners told nothing (pgdrip(1), TESTS): pgdrip wraps
# suites that name pgdrip nowhere (runners_auto/; test_hooks_e2e's
# hooksuite_node/ without its --require and setup file) and must name
# the leaking test with the line of its checkout: mocha with no --require
# (serial and --parallel; and with the --require, once per test), jest
# with no setup file (in its own process and in two workers; and with
# it, once per test), node --test (an ES module on node:test's default
# export, with subtests), python3 -m unittest and a Django-style runner
# on unittest.TextTestRunner (also in fork()ed workers; and the same
# cases under pytest, marked once).  Each suite has a healthy twin (HOOKSUITE_HEALTHY=1): exit 0, no
# test named.  With PGDRIP_TEST_PLUGINS=0 the runners say nothing and
# the suite's output and exit status are its own.
. "$(dirname "$0")/lib.sh"

need_packages "${CLIENT_PACKAGES[@]}" jq:jq
need_npm ""
BIN=$NPM_DIR/node_modules/.bin
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=$T_TMP/runners_auto
cp -r "$HERE/runners_auto" "$SUITE"
# mocha and jest run test_hooks_e2e's node-postgres suite as it is;
# node --test runs nodetest/ on its shop.
NODE=$T_TMP/hooksuite_node
cp -r "$HERE/hooksuite_node" "$NODE"
cp "$NODE/stock.js" "$SUITE/"
# Two workers' suite: a second file of mocha's (another describe) and a
# second jest file (runners_auto/jest/count.test.js).  In one process
# the jest files would share it, and the shop's pool, resting while the
# next file runs, is at times judged leaked by the server's count (the
# group's max-leaked: 4 runs in 14 here).
NODE2=$T_TMP/hooksuite_node2
cp -r "$NODE" "$NODE2"
sed "s/describe('stock'/describe('stock2'/" "$NODE2/mocha/stock.spec.js" \
	>"$NODE2/mocha/stock2.spec.js"
cp "$SUITE/jest/count.test.js" "$NODE2/jest/"

# marker FILE TAG FUNC: "FILE:LINE (FUNC)" of the line marked "@TAG
# FUNC" in the suite's source, as the hooks name it (FILE as given).
marker() {
	local hit
	hit=$(grep -n "[#/] @$2 $3\$" "$1" | head -1)
	echo "$1:${hit%%:*} ($3)"
}

# wrap NAME DIR COMMAND...: pgdrip wraps COMMAND in DIR, the JSON report
# in $T_TMP/NAME.json, the command's output (stdout, then stderr) in
# NAME.out, pgdrip's stderr in NAME.err; RC is pgdrip's exit status.
wrap() {
	local name=$1 dir=$2
	shift 2
	(cd "$dir" && "$PGDRIP" --app 'runauto*' --app 'hooksuite*' --interval 200ms --settle 1s \
		--format json -o "$T_TMP/$name.json" -- \
		sh -c 'f=$1; shift; exec "$@" 2>"$f"' sh "$T_TMP/$name.cerr" "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err")
	RC=$?
	cat "$T_TMP/$name.cerr" >>"$T_TMP/$name.out"
}

# leaking NAME: the tests named as leaking, a JSON array.
leaking() {
	jq -c '[.tests[] | select(.leaked > 0) | .name]' "$T_TMP/$1.json"
}

# leaks NAME: each client leak as "TEST @ FILE:LINE (FUNC)".
leaks() {
	jq -c '[.client_hooks.leaks[] | "\(.test) @ \(.stack[0].file):\(.stack[0].line) (\(.stack[0].func))"] | sort' \
		"$T_TMP/$1.json"
}

# suite NAME DIR TEST TAKE WANT_TESTS COMMAND...: the leaking run names
# TEST (and only it) with its checkout at TAKE, WANT_TESTS tests told;
# its healthy twin exits 0 naming none.
suite() {
	local name=$1 dir=$2 test=$3 take=$4 ntests=$5
	shift 5
	HOOKSUITE_HEALTHY=0 wrap "$name" "$dir" "$@"
	is "$RC" 1 "$name: a checkout never given back, exit 1"
	is "$(leaking "$name")" "[\"$test\"]" "$name: the leaking test, and only it"
	is "$(leaks "$name")" "[\"$test @ $take\"]" "$name: its checkout, taken at $take"
	is "$(jq '.tests_summary.tests' "$T_TMP/$name.json")" "$ntests" \
		"$name: $ntests tests told, each once"
	HOOKSUITE_HEALTHY=1 wrap "${name}_healthy" "$dir" "$@"
	is "$RC" 0 "${name}_healthy: every checkout given back, exit 0"
	[ "$RC" = 0 ] || sed 's/^/# /' "$T_TMP/${name}_healthy.err" | tail -15
	is "$(leaking "${name}_healthy")" '[]' "${name}_healthy: no test named"
	is "$(jq '.tests_summary.tests' "$T_TMP/${name}_healthy.json")" "$ntests" \
		"${name}_healthy: $ntests tests told"
}

take_node=$(cd "$NODE" && marker stock.js take reserve)
take_py=$(cd "$SUITE/unit" && marker shop.py take reserve)

# ---- mocha: no --require; with it, marked once ----

mocha=("$BIN/mocha" --exit 'mocha/*.spec.js')
mtest='mocha/stock.spec.js::stock reserves pears short'
suite mocha "$NODE" "$mtest" "$take_node" 3 "${mocha[@]}"
# --parallel, two workers: each worker's leaking test named once with
# its line.
HOOKSUITE_HEALTHY=0 wrap mocha_parallel "$NODE2" "${mocha[@]}" --parallel --jobs 2
is "$RC" 1 "mocha_parallel: a checkout never given back in each file, exit 1"
is "$(leaks mocha_parallel)" "[\"$mtest @ $take_node\",\"mocha/stock2.spec.js::stock2 reserves pears short @ $take_node\"]" \
	"mocha_parallel: each file's leaking test, and its checkout at $take_node"
is "$(jq -c '[(.tests | map(select(.leaked > 0)) | length), (.tests | length), ([.tests[].process] | unique | length)]' "$T_TMP/mocha_parallel.json")" \
	'[2,6,2]' "mocha_parallel: two leaking tests of six, told by two workers"
HOOKSUITE_HEALTHY=1 wrap mocha_parallel_healthy "$NODE2" "${mocha[@]}" --parallel --jobs 2
is "$RC" 0 "mocha_parallel_healthy: every checkout given back, exit 0"
is "$(jq -c '[(.tests | map(select(.leaked > 0)) | length), (.tests | length)]' "$T_TMP/mocha_parallel_healthy.json")" \
	'[0,6]' "mocha_parallel_healthy: six tests told, none leaking"
suite mocha_require "$NODE" "$mtest" "$take_node" 3 \
	sh -c '"$0" --require "$PGDRIP_MOCHA_HOOKS" "$@"' "${mocha[@]}"

# ---- jest: no setup file; with it, marked once ----

jtest='jest/stock.test.js::stock reserves pears short'
suite jest "$NODE" "$jtest" "$take_node" 3 \
	"$BIN/jest" --forceExit --runInBand --cacheDirectory "$T_TMP/jest-cache"
# Two workers (each run with a fresh cache: with timings cached, jest
# runs fast files in its own process).
suite jest_workers "$NODE2" "$jtest" "$take_node" 5 sh -c \
	'c=$(mktemp -d "$1/jest-cache.XXXXXX") && exec "$0" --forceExit --maxWorkers 2 --cacheDirectory "$c"' \
	"$BIN/jest" "$T_TMP"
is "$(jq '.tests_summary.processes' "$T_TMP/jest_workers.json")" 2 \
	"jest_workers: each file's tests told by its worker"
suite jest_setup "$NODE" "$jtest" "$take_node" 3 sh -c \
	'"$0" --forceExit --runInBand --cacheDirectory "$1" --setupFilesAfterEnv "$PGDRIP_JEST_SETUP"' \
	"$BIN/jest" "$T_TMP/jest-cache"

# The second file under the first one's application, in one process:
# the first file's pool rests (given back, not yet ended) while the
# second works, which the server alone takes for sessions left behind
# (passed over by the second pool's opens); the client said they were
# given back to a pool its tests shared: no leak of the group either.
# Three runs (it failed the group's check in 4 runs of 14 before).
sed "s/'runauto-count'/'hooksuite-jest'/" "$SUITE/jest/count.test.js" \
	>"$NODE/jest/count_same.test.js"
for run in 1 2 3; do
	HOOKSUITE_HEALTHY=1 wrap jest_same_app "$NODE" "$BIN/jest" --forceExit \
		--runInBand --cacheDirectory "$T_TMP/jest-cache"
	is "$RC" 0 "jest_same_app (run $run): a file's pool resting while the next file works is no leak, exit 0"
	[ "$RC" = 0 ] || sed 's/^/# /' "$T_TMP/jest_same_app.err" "$T_TMP/jest_same_app.out" | tail -25
done
rm "$NODE/jest/count_same.test.js"

# ---- node --test: an outermost test with its subtests is one ----

suite nodetest "$SUITE" 'nodetest/shop.test.mjs::shop > reserves pears short' \
	"$take_node" 4 node --test --test-force-exit nodetest/
is "$(jq -c '[.tests[].name]' "$T_TMP/nodetest.json")" \
	'["nodetest/shop.test.mjs::shop > counts","nodetest/shop.test.mjs::shop > reserves pears short","nodetest/shop.test.mjs::shop > reserves apples","nodetest/shop.test.mjs::reserves twice"]' \
	"nodetest: each outermost test by its full name, its subtests inside it"

# ---- vitest: the runner in its workers (child processes by default,
# worker threads with --pool threads, one for both files with
# --no-isolate), marked around each test ----

ln -s "$NPM_DIR/node_modules" "$SUITE/node_modules" # vitest imports itself
vtest='vitest/stock.test.mjs::stock > reserves pears short'
suite vitest "$SUITE" "$vtest" "$take_node" 5 "$BIN/vitest" run
suite vitest_threads "$SUITE" "$vtest" "$take_node" 5 "$BIN/vitest" run --pool threads
# One worker running both files in turn, each with a runner of its own.
suite vitest_shared "$SUITE" "$vtest" "$take_node" 5 "$BIN/vitest" run \
	--no-isolate --maxWorkers 1
is "$(jq '.tests_summary.processes' "$T_TMP/vitest_shared.json")" 1 \
	"vitest_shared: both files' tests told by one worker"

# ---- knex: its own pool's checkouts (a transaction never ended), under
# mocha ----

take_knex=$(cd "$SUITE" && marker knex/shop.js take reserve)
suite knex "$SUITE" 'knex/shop.spec.js::knex shop reserves pears short' \
	"$take_knex" 3 "$BIN/mocha" --exit knex/shop.spec.js

# ---- unittest: python -m unittest, a Django-style runner, pytest ----

ut=test_shop.ShopTest.test_reserve_pears_short
suite unittest "$SUITE/unit" "$ut" "$take_py" 3 $PY -m unittest test_shop
suite djangoish "$SUITE/unit" "$ut" "$take_py" 3 $PY djangoish.py
# Its --parallel: the tests run in fork()ed workers, told by the worker.
suite djangoish_parallel "$SUITE/unit" "$ut" "$take_py" 3 $PY djangoish.py --parallel 2
runner=$(sed -n 's/^Ran 3 tests in 2 processes from \([0-9]*\): OK$/\1/p' "$T_TMP/djangoish_parallel.out")
like "$runner" '^[1-9][0-9]*$' "djangoish_parallel: the runner says its pid"
is "$(jq -c --argjson r "${runner:-0}" '[.tests[].process] | unique | map(. == $r)' "$T_TMP/djangoish_parallel.json")" \
	'[false]' "djangoish_parallel: told by a worker, not by the runner's process ($runner)"
suite pytest_unittest "$SUITE/unit" \
	'test_shop.py::ShopTest::test_reserve_pears_short' "$take_py" 3 \
	$PY -m pytest -q -p no:cacheprovider test_shop.py

# ---- the suite's own: output and exit status ----

# plain NAME DIR COMMAND...: the command run without pgdrip, its output
# in NAME.plain and its exit status last.
plain() {
	local name=$1 dir=$2
	shift 2
	(cd "$dir" && "$@" >"$T_TMP/$name.plain" 2>"$T_TMP/$name.perr")
	echo "rc=$?" >>"$T_TMP/$name.perr"
	cat "$T_TMP/$name.perr" >>"$T_TMP/$name.plain"
}

# norm FILE: the output's lines without their colours and timings (mocha
# shows a slow test's, jest its estimate once it has a cache, vitest
# its start and duration), sorted (jest
# orders its files by their last run's times).
norm() {
	sed -E 's/\x1b\[[0-9;]*m//g; s/[0-9]+(\.[0-9]+)? ?(ms|s)\b/T/g; s/duration_ms: .*/duration_ms/; s/, estimated T//; s/ \(T\)//; s/Start at .*/Start at/' "$1" |
		LC_ALL=C sort
}

# With the marks (the leaking runs above) and with PGDRIP_TEST_PLUGINS=0
# (no test told), the suite prints what it prints without pgdrip; the
# leaking suites pass their own tests (exit 0).
for what in unittest djangoish nodetest mocha jest vitest; do
	case $what in
	unittest) dir=$SUITE/unit cmd=($PY -m unittest test_shop) ;;
	djangoish) dir=$SUITE/unit cmd=($PY djangoish.py) ;;
	nodetest) dir=$SUITE cmd=(node --test --test-force-exit nodetest/) ;;
	mocha) dir=$NODE cmd=("${mocha[@]}") ;;
	jest) dir=$NODE cmd=("$BIN/jest" --forceExit --runInBand --cacheDirectory "$T_TMP/jest-cache") ;;
	vitest) dir=$SUITE cmd=("$BIN/vitest" run) ;;
	esac
	HOOKSUITE_HEALTHY=0 plain "$what" "$dir" "${cmd[@]}"
	like "$(tail -1 "$T_TMP/$what.plain")" '^rc=0$' "$what: the suite passes its own tests"
	is "$(diff <(sed '$d' "$T_TMP/$what.plain" | norm /dev/stdin) <(norm "$T_TMP/$what.out") | head -5)" '' \
		"$what: its output under pgdrip's marks is its own"
	PGDRIP_TEST_PLUGINS=0 HOOKSUITE_HEALTHY=0 wrap "${what}_off" "$dir" "${cmd[@]}"
	is "$(jq '.tests_summary.tests // 0' "$T_TMP/${what}_off.json")" 0 \
		"${what}_off: PGDRIP_TEST_PLUGINS=0, no test told"
	is "$(diff <(sed '$d' "$T_TMP/$what.plain" | norm /dev/stdin) <(norm "$T_TMP/${what}_off.out") | head -5)" '' \
		"${what}_off: its output is its own"
done

done_testing
