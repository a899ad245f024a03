#!/usr/bin/env bash
# Wrap mode on real test suites (pytest with psycopg2 and SQLAlchemy,
# pytest-xdist, mocha, mocha --parallel, jest): a suite leaking sessions
# fails every run, though everything closes when the runner exits; the
# same suite closing them passes; sessions left in a transaction for a
# few seconds fail --max-idle-tx at any sample; a neighbour's leak beside
# a clean suite is context, never a failure.
. "$(dirname "$0")/lib.sh"

need_packages "${CLIENT_PACKAGES[@]}" >&2
need_npm "" "${NPM_PACKAGES[@]}" >&2
CLIENTS=$(cd "$(dirname "$0")/../clients" && pwd)
BIN=$NPM_DIR/node_modules/.bin
sql "DROP ROLE IF EXISTS ws_tests; CREATE ROLE ws_tests LOGIN CONNECTION LIMIT 40" >/dev/null
sql "DROP ROLE IF EXISTS ws_other; CREATE ROLE ws_other LOGIN" >/dev/null

# wrapped NAME [PGDRIP OPTION...] -- COMMAND...: pgdrip wrapping the
# command in tests/clients, its JSON report in $T_TMP/NAME.json; the
# status in $rc.
wrapped() {
	local name=$1
	shift
	local opts=()
	while [ "$1" != "--" ]; do
		opts+=("$1")
		shift
	done
	shift
	(cd "$CLIENTS" && PGUSER=ws_tests "$PGDRIP" --interval 250ms --settle 2s \
		--format json -o "$T_TMP/$name.json" "${opts[@]}" -- "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err")
	rc=$?
}
pytest=(/usr/bin/python3 -m pytest -q -p no:cacheprovider python/suite)
mocha=("$BIN/mocha" --require node/mocha/hooks.js --exit 'node/mocha/*.spec.js')
left() { jq "[.groups[] | .leaked] | add" "$T_TMP/$1.json"; }

for run in 1 2; do
	SUITE_APP=ws-mocha wrapped mocha$run -- "${mocha[@]}"
	is "$rc" 1 "mocha, a pg.Client and a pg.Pool per test never ended: fails (run $run)"
	check "...the sessions it left counted, though they closed at exit ($(left mocha$run))" \
		test "$(left mocha$run)" -ge 5
done
like "$(cat "$T_TMP/mocha1.err")" "check max-leaked failed: group ws_tests/ws-mocha" \
	"...the failure names the group"
SUITE_LEAK=none SUITE_APP=ws-mocha wrapped mocha-clean -- "${mocha[@]}"
is "$rc" 0 "the same mocha suite closing everything passes"
SUITE_APP=ws-mocha wrapped mocha-par -- "$BIN/mocha" --require node/mocha/hooks.js \
	--parallel --jobs 3 --exit 'node/mocha/*.spec.js'
is "$rc" 1 "mocha --parallel, its workers leaking: fails"

for run in 1 2; do
	SUITE_APP=ws-pytest wrapped pytest$run -- "${pytest[@]}"
	is "$rc" 1 "pytest: raw connections, engines never disposed, a thread holding one: fails (run $run)"
done
SUITE_LEAK=test_report_engine SUITE_APP=ws-engine wrapped engine -- "${pytest[@]}"
is "$rc" 1 "pytest: create_engine() per test without dispose(), the GC closing some: fails"
SUITE_LEAK=test_report_engine SUITE_APP=ws-engine wrapped engine-growth --fail-on-growth -- "${pytest[@]}"
like "$(cat "$T_TMP/engine-growth.err")" "check fail-on-growth failed: group ws_tests/ws-engine" \
	"...--fail-on-growth names the leaking group"
SUITE_LEAK=none SUITE_APP=ws-pytest wrapped pytest-clean -- "${pytest[@]}"
is "$rc" 0 "pytest closing everything passes: its session-scoped pool and warm engine are no leak"
SUITE_APP=ws-xdist wrapped xdist -- "${pytest[@]}" -n 3
is "$rc" 1 "pytest-xdist, three workers leaking: fails"
SUITE_LEAK=test_tx_left_open SUITE_TX_HOLD=3 SUITE_APP=ws-tx wrapped tx \
	--max-idle-tx 0 --idle-tx-age 2s -- "${pytest[@]}"
is "$rc" 1 "sessions left idle in a transaction for 3 s, closed later: --max-idle-tx 0 --idle-tx-age 2s fails"
like "$(cat "$T_TMP/tx.err")" "check max-idle-tx failed: idle in transaction: [1-9][0-9]* sessions \(limit 0\)" \
	"...counted at whatever sample they were seen, not only the last"

(cd "$CLIENTS/node/jest" && SUITE_APP=ws-jest PGUSER=ws_tests "$PGDRIP" --interval 250ms \
	--settle 2s --format json -o "$T_TMP/jest.json" -- "$BIN/jest" --forceExit \
	>"$T_TMP/jest.out" 2>&1)
is "$?" 1 "jest, leaking clients and pools: fails"
(cd "$CLIENTS/node/jest" && SUITE_LEAK=none SUITE_APP=ws-jest PGUSER=ws_tests \
	"$PGDRIP" --interval 250ms --settle 2s -- "$BIN/jest" >"$T_TMP/jest-clean.out" 2>&1)
is "$?" 0 "jest closing everything passes"

# A neighbour leaks beside a clean suite: context, not a failure.
start_group neighbour env PGUSER=ws_other /usr/bin/python3 "$CLIENTS/python/leaker.py" \
	--app ws-neighbour --every 0.5 --duration 60
sleep 2
SUITE_LEAK=none SUITE_APP=ws-pytest wrapped neighbour -- "${pytest[@]}"
is "$rc" 0 "a neighbour leaking beside a clean suite: the suite passes"
check "...the neighbour is in the report, as context ($(jq -c '.groups[] | select(.application == "ws-neighbour") | .connections' "$T_TMP/neighbour.json"))" \
	jq -e '.groups[] | select(.application == "ws-neighbour") | .connections > 3 and .leaked == 0' "$T_TMP/neighbour.json"
done_testing
