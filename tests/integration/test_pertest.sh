#!/usr/bin/env bash
# Test boundaries from any runner (pgdrip(1), TESTS): the endpoint a
# wrapped command gets, its line protocol, "pgdrip --test-mark" and the
# socat one-liner, a test's child process, what the command's
# environment holds, the check --max-leaked-per-test, and the plugins
# where "meson install" puts them.  The real suites are
# test_pertest_suites.sh's.
. "$(dirname "$0")/lib.sh"

need_packages socat:socat python3-pytest:py:pytest

# --test-mark outside pgdrip is a no-op, and checks its words.
out=$(env -u PGDRIP_TESTS "$PGDRIP" --test-mark start "a test" 2>&1)
is "$?:$out" "0:" "--test-mark without PGDRIP_TESTS does nothing, exit 0"
env -u PGDRIP_TESTS "$PGDRIP" --test-mark begin x 2>"$T_TMP/err"
is "$?" 2 "--test-mark with an unknown verb: exit 2"
like "$(cat "$T_TMP/err")" "^pgdrip: --test-mark: unknown verb" "...saying so"
env -u PGDRIP_TESTS "$PGDRIP" --test-mark start 2>/dev/null
is "$?" 2 "--test-mark without a name: exit 2"
PGDRIP_TESTS=$T_TMP/none.sock "$PGDRIP" --test-mark start x 2>"$T_TMP/err"
is "$?" 3 "--test-mark with no endpoint there: exit 3"
like "$(cat "$T_TMP/err")" "cannot reach the tests' socket" "...saying why"
"$PGDRIP" --max-leaked-per-test 0 --once >/dev/null 2>"$T_TMP/err"
is "$?" 2 "--max-leaked-per-test without a command: exit 2"

# What the command is given.
cat >"$T_TMP/env.sh" <<'EOF'
#!/bin/sh
echo "tests=$PGDRIP_TESTS"
echo "pytest=$PYTEST_PLUGINS"
echo "path=$PYTHONPATH"
echo "mocha=$PGDRIP_MOCHA_HOOKS"
echo "jest=$PGDRIP_JEST_SETUP"
[ -S "$PGDRIP_TESTS" ] && echo "socket=yes"
stat -c 'mode=%a' "$(dirname "$PGDRIP_TESTS")"
EOF
chmod +x "$T_TMP/env.sh"
PYTEST_PLUGINS=mine PYTHONPATH=/x "$PGDRIP" --interval 200ms --settle 1s \
	-- "$T_TMP/env.sh" >"$T_TMP/env.out" 2>/dev/null
env=$(cat "$T_TMP/env.out")
like "$env" "socket=yes" "PGDRIP_TESTS names a socket"
like "$env" "mode=700" "...in a directory only this user can enter"
sock=$(sed -n 's/^tests=//p' "$T_TMP/env.out")
check "...removed after the run" test ! -e "$(dirname "$sock")"
like "$env" "pytest=mine,pgdrip_pytest" "PYTEST_PLUGINS gains pgdrip_pytest"
runners=$(sed -n 's/^path=\(.*\):\/x$/\1/p' "$T_TMP/env.out")
check "PYTHONPATH starts with the plugins' directory ($runners)" \
	test -f "$runners/pgdrip_pytest.py"
check "PGDRIP_MOCHA_HOOKS names the mocha root hooks" \
	test -f "$(sed -n 's/^mocha=//p' "$T_TMP/env.out")"
check "PGDRIP_JEST_SETUP names the jest setup file" \
	test -f "$(sed -n 's/^jest=//p' "$T_TMP/env.out")"
PGDRIP_TEST_PLUGINS=0 "$PGDRIP" --interval 200ms --settle 1s \
	-- "$T_TMP/env.sh" >"$T_TMP/env.out" 2>/dev/null
env=$(cat "$T_TMP/env.out")
like "$env" "socket=yes" "PGDRIP_TEST_PLUGINS=0: the socket is still offered"
like "$env" "pytest=$" "...but no plugin is loaded"
like "$env" "mocha=$" "...nor named"

# The protocol, one line at a time and several in one write.  Each
# socat is a process of its own: the test's is given as @PID.
cat >"$T_TMP/proto.sh" <<'EOF'
#!/bin/sh
say() { printf "$1" | socat -t 5 - "UNIX-CONNECT:$PGDRIP_TESTS"; }
say "start@$$ one\n"
say "end@$$ one\n"
say 'bogus two\n'
say 'start@0 two\n'
say 'start\n'
say "start@$$ two\nend@$$ two\n"
say "start@$$ three"
say "end@$$ three\r\n"
EOF
chmod +x "$T_TMP/proto.sh"
"$PGDRIP" --interval 200ms --settle 1s --format json -o "$T_TMP/proto.json" \
	-- "$T_TMP/proto.sh" >"$T_TMP/proto.out" 2>/dev/null
is "$?" 0 "a runner speaking the protocol"
is "$(sed -n 1,2p "$T_TMP/proto.out" | tr '\n' ' ')" "ok ok " "start and end are answered ok"
like "$(sed -n 3p "$T_TMP/proto.out")" "^error unknown verb" "an unknown verb is refused"
like "$(sed -n 4p "$T_TMP/proto.out")" "^error bad pid" "a bad pid is refused"
like "$(sed -n 5p "$T_TMP/proto.out")" "^error a test name is wanted" "a missing name is refused"
is "$(sed -n 6,9p "$T_TMP/proto.out" | tr '\n' ' ')" "ok ok ok ok " \
	"two lines in one write get two answers; a last line without newline and CR LF count"
is "$(jq -c '[.tests[].name]' "$T_TMP/proto.json")" '["one","two","three"]' \
	"the tests, in order"
is "$(jq -c '[.tests[].ended] | all' "$T_TMP/proto.json")" true "...each ended"
is "$(jq '.tests_summary.reported' "$T_TMP/proto.json")" true "tests_summary says tests were reported"

# A shell runner: --test-mark and the socat one-liner, a test whose child
# process (psql) keeps a session open; another closes its own.
sql "DROP ROLE IF EXISTS pt_shell; CREATE ROLE pt_shell LOGIN" >/dev/null
cat >"$T_TMP/shsuite.sh" <<'EOF'
#!/bin/sh
export PGUSER=pt_shell
"$PGDRIP" --test-mark start "shell::one" || exit 9
psql -XAtqc "SELECT 'one'" >/dev/null
"$PGDRIP" --test-mark end "shell::one" || exit 9
"$PGDRIP" --test-mark start "shell::two" || exit 9
# The sleep holding psql's input open is killed by its pid (sleep.pid).
{ echo "SELECT 'left behind';"; sleep 30 & echo $! >"$(dirname "$0")/sleep.pid"; wait; } |
	psql -XAtq >/dev/null 2>&1 &
# Until the server runs it, however slow (600 x 0.2 s only guard a hang);
# asked as postgres, outside pgdrip's --user: this look's own session,
# still closing when the end mark comes on a loaded machine, must not
# be taken for the test's.
for i in $(seq 600); do
	[ "$(psql -U postgres -XAtqc "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT ''left behind'';'")" = 1 ] && break
	sleep 0.2
done
printf 'end@%s shell::two\n' $$ | socat - "UNIX-CONNECT:$PGDRIP_TESTS" >/dev/null
"$PGDRIP" --test-mark start "shell::three"
{ echo "SELECT 'three';"; sleep 0.5; } | psql -XAtq >/dev/null 2>&1
"$PGDRIP" --test-mark end "shell::three"
kill "$(cat "$(dirname "$0")/sleep.pid")" 2>/dev/null
exit 0
EOF
chmod +x "$T_TMP/shsuite.sh"
"$PGDRIP" --user pt_shell --interval 200ms --settle 2s --max-leaked-per-test 0 \
	--format json -o "$T_TMP/sh.json" -- "$T_TMP/shsuite.sh" 2>"$T_TMP/sh.err" >/dev/null
is "$?" 1 "--max-leaked-per-test 0 fails when a test leaked"
is "$(grep -c 'check max-leaked-per-test failed' "$T_TMP/sh.err")" 1 "...one failure line"
like "$(cat "$T_TMP/sh.err")" "check max-leaked-per-test failed: test shell::two: 1 session left open" \
	"...naming the test"
t2='.tests[] | select(.name == "shell::two")'
is "$(jq "$t2 | .leaked" "$T_TMP/sh.json")" 1 "the session a test's child left open is the test's"
is "$(jq -r "$t2 | .sessions[0].query" "$T_TMP/sh.json")" "SELECT 'left behind';" "...with its last query"
is "$(jq -r "$t2 | .sessions[0].client_process.relation" "$T_TMP/sh.json")" descendant \
	"...held by a descendant of the command"
is "$(jq -c '[.tests[] | select(.name != "shell::two") | .leaked] | add' "$T_TMP/sh.json")" 0 \
	"the tests that closed theirs did not leak"
is "$(jq "$t2 | .after - .before" "$T_TMP/sh.json")" 1 "before and after differ by the leak"
[ -f "$T_TMP/sleep.pid" ] && kill "$(cat "$T_TMP/sleep.pid")" 2>/dev/null

# A runner that says nothing: as before; an explicit per-test check is
# not evaluated then, an implied one (--fail-on-growth) is left out.
"$PGDRIP" --interval 200ms --settle 1s --format json -o "$T_TMP/quiet.json" \
	-- sh -c 'exit 0' 2>/dev/null
is "$?" 0 "a command that reports no tests"
is "$(jq -c '[.tests, .tests_summary.reported]' "$T_TMP/quiet.json")" '[[],false]' \
	"...has no tests in the report"
"$PGDRIP" --interval 200ms --settle 1s --max-leaked-per-test 0 \
	-- sh -c 'exit 0' 2>"$T_TMP/err"
is "$?" 3 "--max-leaked-per-test with no tests reported: exit 3"
like "$(cat "$T_TMP/err")" "check max-leaked-per-test not evaluated: tests: the command reported no tests" \
	"...not evaluated, saying why"
"$PGDRIP" --interval 200ms --settle 1s --fail-on-growth --format json \
	-o "$T_TMP/quiet.json" -- sh -c 'exit 0' 2>/dev/null
is "$?" 0 "--fail-on-growth implies the per-test check only when tests are reported"

# Installed: the plugins under share/pgdrip/runners, found by the
# installed binary.
BUILD_DIR=$(cd "$(dirname "$PGDRIP")/.." && pwd)
DEST=$T_TMP/dest
meson install -C "$BUILD_DIR" --destdir "$DEST" --no-rebuild >"$T_TMP/install.log" 2>&1
is "$?" 0 "meson install into a DESTDIR"
prefix=$(meson introspect --buildoptions "$BUILD_DIR" |
	jq -r '.[] | select(.name == "prefix") | .value')
datadir=$(meson introspect --buildoptions "$BUILD_DIR" |
	jq -r '.[] | select(.name == "datadir") | .value')
for f in pgdrip_pytest.py pgdrip-marks.js pgdrip-mocha.js pgdrip-jest.js; do
	check "installs $datadir/pgdrip/runners/$f" \
		cmp "$DEST$prefix/$datadir/pgdrip/runners/$f" "$PGDRIP_ROOT/scripts/runners/$f"
done
"$DEST$prefix/bin/pgdrip" --interval 200ms --settle 1s -- "$T_TMP/env.sh" \
	>"$T_TMP/env.out" 2>/dev/null
like "$(cat "$T_TMP/env.out")" "mocha=$DEST$prefix/$datadir/pgdrip/runners/pgdrip-mocha.js" \
	"the installed pgdrip names the installed plugins"

# The pytest plugin on its own: a suite run without pgdrip is untouched.
mkdir -p "$T_TMP/plain"
cat >"$T_TMP/plain/test_plain.py" <<'EOF'
def test_one():
    assert True
EOF
out=$(cd "$T_TMP/plain" && env -u PGDRIP_TESTS PYTHONPATH="$PGDRIP_ROOT/scripts/runners" \
	PYTEST_PLUGINS=pgdrip_pytest /usr/bin/python3 -m pytest -q -p no:cacheprovider 2>&1)
like "$out" "1 passed" "the pytest plugin without pgdrip changes nothing"
done_testing
