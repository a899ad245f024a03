#!/usr/bin/env bash
# Real suites under pgdrip, with nothing changed in them (tests/clients):
# pytest (psycopg2, SQLAlchemy; serial and pytest-xdist), mocha (serial
# and --parallel) and jest (one worker and two), each leaking in known
# tests in different ways.  Every run must name exactly the tests that
# leaked, as the suite's own ground truth says, and nothing else: not
# the session-scoped pool, not a pool warmed in one test and reused by
# later ones.  Each case runs several times.  Then the checks, the text
# report, --plot, and a --record replayed into the same table.
. "$(dirname "$0")/lib.sh"

need_packages "${CLIENT_PACKAGES[@]}"
need_npm ""
BIN=$NPM_DIR/node_modules/.bin
CLIENTS=$PGDRIP_ROOT/tests/clients
TRUTH=$PGDRIP_ROOT/tests/integration/pertest_truth.py
sql "DROP ROLE IF EXISTS app_tests; CREATE ROLE app_tests LOGIN CONNECTION LIMIT 40" >/dev/null
export PGUSER=app_tests SUITE_TEST_MS=60 SUITE_TX_HOLD=2
REPEAT=${PERTEST_REPEAT:-3}
N=0

# run_suite WHAT DIR [PGDRIP OPTION...] -- COMMAND...: runs the suite
# under pgdrip with a fresh ground truth; sets OUT (the JSON report),
# ERR (pgdrip's stderr) and RC.
run_suite() {
	local what=$1 dir=$2 opts=()
	shift 2
	while [ "$1" != "--" ]; do
		opts+=("$1")
		shift
	done
	shift
	N=$((N + 1))
	OUT=$T_TMP/r$N.json ERR=$T_TMP/r$N.err TRUTH_FILE=$T_TMP/t$N.jsonl
	(cd "$dir" && SUITE_TRUTH=$TRUTH_FILE "$PGDRIP" --interval 250ms \
		--settle 2s --format json -o "$OUT" "${opts[@]}" -- "$@" \
		>"$T_TMP/r$N.out" 2>"$ERR")
	RC=$?
	echo "# $what: $(jq -c .tests_summary "$OUT" 2>/dev/null)"
}

# named_exactly WHAT: the run named the tests its truth says leaked.
named_exactly() {
	local verdict
	verdict=$(/usr/bin/python3 "$TRUTH" "$TRUTH_FILE" "$OUT" 2>&1)
	like "$verdict" "^ok [1-9]" "$1: the tests that leaked are named exactly ($verdict)"
}

pytest_cmd=(/usr/bin/python3 -m pytest -q -p no:cacheprovider python/suite)
mocha_cmd=("$BIN/mocha" --require node/mocha/hooks.js --exit "node/mocha/*.spec.js")

for i in $(seq "$REPEAT"); do
	run_suite "pytest, run $i" "$CLIENTS" -- "${pytest_cmd[@]}"
	named_exactly "pytest, run $i"
	is "$(jq '.tests_summary.tests' "$OUT")" 30 "pytest, run $i: all 30 tests reported"
	is "$(jq '[.tests[] | select(.name | test("test_shared|test_a_warm|test_zz_last")) | .leaked] | add' "$OUT")" 0 \
		"pytest, run $i: the session-scoped pool and the warm engine are not blamed"
	is "$(jq '[.test_setups[] | select(.name | startswith("shared_pool")) | .opened] | add' "$OUT")" 2 \
		"pytest, run $i: the session-scoped pool's two sessions are its set-up's"

	run_suite "pytest-xdist, run $i" "$CLIENTS" -- "${pytest_cmd[@]}" -n 3
	named_exactly "pytest -n 3, run $i"
	is "$(jq '.tests_summary.processes' "$OUT")" 3 "pytest -n 3, run $i: three workers told apart"
	is "$(jq '[.tests[] | select(.leaked > 0) | .process as $p | .sessions[] | select(.fate == "unused") | .client_process.pid == $p] | all' "$OUT")" true \
		"pytest -n 3, run $i: each leak is held by its own test's worker"

	run_suite "mocha, run $i" "$CLIENTS" -- sh -c \
		'"$0" --require "$PGDRIP_MOCHA_HOOKS" "$@"' "${mocha_cmd[@]}"
	named_exactly "mocha, run $i"
	is "$(jq '.tests_summary.tests' "$OUT")" 28 "mocha, run $i: all 28 tests reported"

	run_suite "mocha --parallel, run $i" "$CLIENTS" -- sh -c \
		'"$0" --require "$PGDRIP_MOCHA_HOOKS" --parallel --jobs 3 "$@"' "${mocha_cmd[@]}"
	named_exactly "mocha --parallel, run $i"
	is "$(jq '.tests_summary.processes' "$OUT")" 3 "mocha --parallel, run $i: one process per file"

	# Jest takes its setup files from the command line, replacing the
	# config's: the suite's own is given again after pgdrip's.
	run_suite "jest, run $i" "$CLIENTS/node/jest" -- sh -c \
		'"$0" --forceExit --maxWorkers "$1" --cacheDirectory "$2" --setupFilesAfterEnv "$PGDRIP_JEST_SETUP" "<rootDir>/setup.js"' \
		"$BIN/jest" $((i % 2 + 1)) "$T_TMP/jest-cache-$i"
	named_exactly "jest --maxWorkers $((i % 2 + 1)), run $i"
	is "$(jq '.tests_summary.tests' "$OUT")" 28 "jest, run $i: all 28 tests reported"
done

# Other tests leaking, drawn by a seed (seeds that draw several).
for seed in 11 12; do
	SUITE_LEAK_SEED=$seed run_suite "pytest -n 2, seed $seed" "$CLIENTS" -- "${pytest_cmd[@]}" -n 2
	named_exactly "pytest -n 2, seed $seed"
done
for seed in 12 22; do
	SUITE_LEAK_SEED=$seed SUITE_LEAK_FRACTION=0.5 run_suite "mocha --parallel, seed $seed" \
		"$CLIENTS" -- sh -c \
		'"$0" --require "$PGDRIP_MOCHA_HOOKS" --parallel --jobs 2 "$@"' "${mocha_cmd[@]}"
	named_exactly "mocha --parallel, seed $seed"
done

# A clean suite: no test leaked, and the checks pass.
SUITE_LEAK=none run_suite "pytest, clean" "$CLIENTS" --max-leaked-per-test 0 -- "${pytest_cmd[@]}" -n 2
is "$RC:$(jq '.tests_summary.leaking' "$OUT")" "0:0" "a clean suite: no test leaked, --max-leaked-per-test 0 passes"

# The checks: --fail-on-growth implies --max-leaked-per-test 0; one line
# per test that leaked, naming it.
run_suite "pytest, checks" "$CLIENTS" --fail-on-growth --record "$T_TMP/rec.jsonl" \
	--plot "$T_TMP/run.svg" -- "${pytest_cmd[@]}" -n 2
is "$RC" 1 "--fail-on-growth on a leaking suite: exit 1"
leaking=$(jq -r '.tests[] | select(.leaked > 0) | .name' "$OUT" | sort)
failed=$(sed -n 's/^pgdrip: check max-leaked-per-test failed: test \(.*\): 1 session left open.*/\1/p' "$ERR" | sort)
is "$failed" "$leaking" "one failure line per leaking test, naming it"
is "$(jq '[.checks[] | select(.name == "max-leaked-per-test" and .ok == false)] | length' "$OUT")" \
	"$(jq '.tests_summary.leaking' "$OUT")" "...and one failed check each in the JSON"

# The replay of its record gives the same table.
"$PGDRIP" --replay "$T_TMP/rec.jsonl" --format json -o "$T_TMP/replay.json" 2>/dev/null
is "$(jq -S -c '[.tests, .test_setups, .tests_summary]' "$T_TMP/replay.json")" \
	"$(jq -S -c '[.tests, .test_setups, .tests_summary]' "$OUT")" \
	"--replay of the --record gives the same per-test table"

# --plot marks every test and each leaking test.
is "$(grep -c 'class="test"' "$T_TMP/run.svg")" 30 "--plot: a mark where each test began"
is "$(grep -c 'class="test-leak"' "$T_TMP/run.svg")" "$(jq '.tests_summary.leaking' "$OUT")" \
	"--plot: a band over each test that leaked"
check "--plot: the picture is well-formed" xmllint --noout "$T_TMP/run.svg"

# The text report: the totals and one line per leaking test, naming the
# process holding it and its last query.
(cd "$CLIENTS" && "$PGDRIP" --interval 250ms --settle 2s -o "$T_TMP/report.txt" \
	-- "${pytest_cmd[@]}" >/dev/null 2>&1)
report=$(cat "$T_TMP/report.txt")
like "$report" "13 of 30 tests leaked:" "text: the totals"
like "$report" "  python/suite/test_orders.py::test_order_lookup\[2\] \+1 \(held by pid [0-9]+, last query COMMIT\)" \
	"text: a raw connection never closed, with its holder and last query"
like "$report" "test_engine.py::test_report_engine\[5\] \+1 \(held by pid [0-9]+, last query ROLLBACK\)" \
	"text: an engine never disposed"
like "$report" "test_cart_tx.py::test_tx_left_open\[3\] \+1 \(held by pid [0-9]+, last query SELECT txid_current" \
	"text: a session left inside a transaction"
like "$report" "test_background.py::test_background_holder\[0\] \+1" "text: a background thread holding one"
is "$(grep -c '^  python/suite/' "$T_TMP/report.txt")" 13 "text: only the tests that leaked are listed"

# Without the plugins: no names, the sessions left unused as evidence,
# and one line on how to get the names.
(cd "$CLIENTS" && PGDRIP_TEST_PLUGINS=0 "$PGDRIP" --interval 250ms --settle 2s \
	-o "$T_TMP/report.txt" -- "${pytest_cmd[@]}" >/dev/null 2>&1)
report=$(cat "$T_TMP/report.txt")
like "$report" "opened [0-9:]+ UTC, unused .*: COMMIT" "without tests: each session left unused, when it opened, its last query"
is "$(grep -c "To name the tests that opened them: pgdrip finds pytest, unittest, mocha, jest, vitest and node --test by itself" "$T_TMP/report.txt")" 1 \
	"...and one line on how to get the tests' names"
done_testing
