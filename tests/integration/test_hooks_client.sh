#!/usr/bin/env bash
# pgdrip's client hooks (scripts/runners/sitecustomize.py, pgdrip_hooks.py,
# pgdrip-hooks.js) inside real programs on the real libraries, without
# pgdrip: a listener of the tests' own (tests/clients/hooks/listen.py)
# stands for pgdrip's socket, PYTHONPATH and NODE_OPTIONS are set as
# pgdrip sets them.  Each line is checked against the program's source
# (the line that opened or took a connection) and the server (the
# backend pid pg_stat_activity shows for the program's application_name);
# no password or conninfo is sent; the program's output and status are
# the same byte for byte with and without the hooks, with pgdrip's
# socket gone, and with a listener that never reads (the client never
# blocks; what was dropped is counted in a later line).
. "$(dirname "$0")/lib.sh"

need_packages "${CLIENT_PACKAGES[@]}" "${HOOK_PACKAGES[@]}"
PY=/usr/bin/python3
RUNNERS=$PGDRIP_ROOT/scripts/runners
HOOKS=$PGDRIP_ROOT/tests/clients/hooks
SECRET=hunter2-secret
cd "$HOOKS" || exit 1

# with_hooks SOCKET COMMAND...: COMMAND with the hooks loaded as pgdrip
# loads them (its directory first on PYTHONPATH, --require appended to
# NODE_OPTIONS) and PGDRIP_HOOKS naming SOCKET.
with_hooks() {
	local sock=$1
	shift
	PGDRIP_HOOKS=$sock PYTHONPATH=$RUNNERS${PYTHONPATH:+:$PYTHONPATH} \
		NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require $RUNNERS/pgdrip-hooks.js" \
		"$@"
}

# listener NAME [--stall-until FILE]: a listener on $T_TMP/NAME.sock
# writing to $T_TMP/NAME.lines; sets LISTENER (its pid).
listener() {
	local name=$1
	shift
	rm -f "$T_TMP/$name.sock" "$T_TMP/$name.lines"*
	$PY "$HOOKS/listen.py" "$T_TMP/$name.sock" "$T_TMP/$name.lines" "$@" &
	LISTENER=$!
	T_PIDS+=("$LISTENER")
	poll_until 30 test -f "$T_TMP/$name.lines.ready"
}

# ended NAME N: the listener has seen N clients end (all they sent read).
ended() {
	[ "$(cat "$T_TMP/$1.lines.eof" 2>/dev/null | wc -l)" -ge "$2" ]
}

stop_listener() {
	kill "$LISTENER" 2>/dev/null
	wait "$LISTENER" 2>/dev/null
	return 0
}

# app_pids: {"application_name": [backend pid, ...]} of the hk-* sessions.
app_pids() {
	psql -XAtq -c "SELECT coalesce(json_object_agg(application_name, pids), '{}')
		FROM (SELECT application_name, json_agg(pid) AS pids
		FROM pg_stat_activity WHERE application_name LIKE 'hk-%'
		GROUP BY 1) s"
}

# tap_from FILE: the checker's "ok DESC" / "not ok DESC" lines as cases.
tap_from() {
	local status desc
	while IFS= read -r line; do
		case $line in
		"ok "*) pass "${line#ok }" ;;
		"not ok "*) fail "${line#not ok }" ;;
		*) fail "checker said: $line" ;;
		esac
	done <"$1"
}

# checked_run NAME SOURCE COMMAND...: runs COMMAND with the hooks
# against a fresh listener, reads pg_stat_activity at the program's
# checkpoint, and checks every line against SOURCE's markers (check.py).
checked_run() {
	local name=$1 source=$2 sync=$T_TMP/$1.sync pid rc
	shift 2
	mkdir -p "$sync"
	listener "$name" || { fail "$name: the listener did not start"; return; }
	HOOKS_SYNC=$sync with_hooks "$T_TMP/$name.sock" "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err" &
	pid=$!
	if poll_until 120 test -f "$sync/ready"; then
		app_pids >"$T_TMP/$name.pids"
	else
		echo '{}' >"$T_TMP/$name.pids"
	fi
	touch "$sync/go"
	wait "$pid"
	rc=$?
	poll_until 60 ended "$name" 1
	stop_listener
	echo "# $name: exit $rc, $(wc -l <"$T_TMP/$name.lines") lines"
	CHECKED_RC=$rc
	$PY "$HOOKS/check.py" "$T_TMP/$name.lines" "$source" "$T_TMP/$name.pids" \
		"$(head -1 "$sync/ready" 2>/dev/null || echo 0)" "$SECRET" \
		>"$T_TMP/$name.check" 2>&1
	tap_from "$T_TMP/$name.check"
}

# same_run NAME COMMAND...: the program's stdout, stderr and status are
# the same with the hooks (a listener reading), without them, with
# PGDRIP_HOOKS unset, and with its socket gone.
same_run() {
	local name=$1 how
	shift
	"$@" >"$T_TMP/$name.plain.out" 2>"$T_TMP/$name.plain.err"
	echo "rc $?" >>"$T_TMP/$name.plain.out"
	listener "$name-same"
	with_hooks "$T_TMP/$name-same.sock" "$@" >"$T_TMP/$name.hooks.out" \
		2>"$T_TMP/$name.hooks.err"
	echo "rc $?" >>"$T_TMP/$name.hooks.out"
	poll_until 60 ended "$name-same" 1
	stop_listener
	PGDRIP_HOOKS= with_hooks "" "$@" >"$T_TMP/$name.unset.out" \
		2>"$T_TMP/$name.unset.err"
	echo "rc $?" >>"$T_TMP/$name.unset.out"
	with_hooks "$T_TMP/$name.gone.sock" "$@" >"$T_TMP/$name.gone.out" \
		2>"$T_TMP/$name.gone.err"
	echo "rc $?" >>"$T_TMP/$name.gone.out"
	like "$(wc -l <"$T_TMP/$name-same.lines")" '^[1-9]' \
		"$name: the hooks spoke in the compared run"
	for how in hooks unset gone; do
		if cmp -s "$T_TMP/$name.plain.out" "$T_TMP/$name.$how.out" &&
			cmp -s "$T_TMP/$name.plain.err" "$T_TMP/$name.$how.err"; then
			pass "$name: stdout, stderr and status the same without the hooks and $how"
		else
			fail "$name: output differs without the hooks and $how: $(diff "$T_TMP/$name.plain.out" "$T_TMP/$name.$how.out" | head -5 | tr '\n' ' ') $(diff "$T_TMP/$name.plain.err" "$T_TMP/$name.$how.err" | head -5 | tr '\n' ' ')"
		fi
	done
}

# ---- Python ----

for prog in py_psycopg2 py_psycopg py_asyncpg py_sqlalchemy; do
	checked_run "$prog" "$prog.py" $PY "$prog.py" "password=$SECRET" \
		"postgresql://u:$SECRET@localhost/db" --password "$SECRET"
	same_run "$prog" $PY "$prog.py"
done
is "$CHECKED_RC" 0 "py_sqlalchemy: exit status 0 under the hooks"

# Another sitecustomize later on PYTHONPATH still runs, and is what
# "import sitecustomize" gives, with the hooks as without.
mkdir -p "$T_TMP/usersite"
printf 'import sys\nsys.stdout.write("user sitecustomize ran\\n")\n' \
	>"$T_TMP/usersite/sitecustomize.py"
chained() {
	PYTHONPATH=$T_TMP/usersite "$@" $PY -c \
		'import sitecustomize, sys; print(sitecustomize.__file__, "pgdrip_hooks" in sys.modules)'
}
is "$(chained with_hooks "$T_TMP/none.sock")" \
	"user sitecustomize ran
$T_TMP/usersite/sitecustomize.py True" \
	"sitecustomize: the user's runs after the hooks' and is the one imported"
is "$(chained env)" "user sitecustomize ran
$T_TMP/usersite/sitecustomize.py False" \
	"sitecustomize: the same without the hooks"
is "$(PGDRIP_CLIENT_HOOKS=0 chained with_hooks "$T_TMP/none.sock")" \
	"user sitecustomize ran
$T_TMP/usersite/sitecustomize.py False" \
	"sitecustomize: PGDRIP_CLIENT_HOOKS=0 loads no hooks"

# A library present that cannot be hooked is named once; the others
# still speak.
listener unhooked
PYTHONPATH=$HOOKS/fakelib with_hooks "$T_TMP/unhooked.sock" $PY py_unhooked.py \
	>"$T_TMP/unhooked.out" 2>&1
is "$?" 0 "unhooked: the program ran"
poll_until 60 ended unhooked 1
stop_listener
is "$(jq -c 'select(.ev == "unhooked") | [.lib, (.why | test("AttributeError"))]' "$T_TMP/unhooked.lines")" \
	'["psycopg_pool",true]' "unhooked: psycopg_pool named once, with why"
is "$(jq -r 'select(.ev == "open" or .ev == "close") | .ev' "$T_TMP/unhooked.lines" | tr '\n' ' ')" \
	"open close " "unhooked: psycopg beside it still reports open and close"

# pytest names the test each checkout was taken in: through the plugin
# (pgdrip_hooks.current_test) and without it (PYTEST_CURRENT_TEST),
# serial and with two xdist workers.
for plugin in pgdrip_pytest ""; do
	for workers in "" "-n 2"; do
		what="pytest ${workers:+$workers }${plugin:+with the plugin}${plugin:-without the plugin}"
		listener pytest
		# shellcheck disable=SC2086 # workers: no option or two words
		PYTEST_PLUGINS=$plugin with_hooks "$T_TMP/pytest.sock" $PY -m pytest \
			-q -p no:cacheprovider pysuite $workers >"$T_TMP/pytest.out" 2>&1
		is "$?" 0 "$what: the suite passes"
		poll_until 60 ended pytest "${workers:+2}${workers:-1}"
		stop_listener
		is "$(jq -s '[.[] | select(.ev == "take") |
			.test == "pysuite/test_hooks_suite.py::" + .stack[0].func] |
			[length, all] | @text' "$T_TMP/pytest.lines")" '"[4,true]"' \
			"$what: each of the 4 checkouts names the test whose line took it"
		is "$(jq -s '[.[] | select(.ev == "lost") | .test] | @text' "$T_TMP/pytest.lines")" \
			'"[\"pysuite/test_hooks_suite.py::test_dropped_to_gc\"]"' \
			"$what: the checkout dropped to the collector is lost in its test"
	done
done

# flood NAME COMMAND...: a listener that never reads: the client is never
# blocked, drops what does not fit, and says how many later; nothing is
# lost unaccounted.
flood() {
	local name=$1 pid
	shift
	listener "$name" --stall-until "$T_TMP/$name.read"
	HOOKS_GO=$T_TMP/$name.go with_hooks "$T_TMP/$name.sock" "$@" \
		>"$T_TMP/$name.out" 2>&1 &
	pid=$!
	if poll_until 300 grep -q flooded "$T_TMP/$name.out"; then
		pass "$name: 4,000 checkouts done while nothing was read"
	else
		fail "$name: the client did not get through its checkouts"
	fi
	touch "$T_TMP/$name.read" "$T_TMP/$name.go"
	wait "$pid"
	is "$?" 0 "$name: the program ended well"
	poll_until 60 ended "$name" 1
	stop_listener
	# hello, open, 4,050 takes and gives, close.
	is "$(jq -s '[length, ([.[] | .dropped // 0] | add)] |
		[(.[0] + .[1]), (.[1] > 0)] | @text' "$T_TMP/$name.lines")" '"[8103,true]"' \
		"$name: lines read plus those counted as dropped are all 8,103"
}
flood flood $PY py_flood.py

# ---- Node ----

need_npm ""
BIN=$NPM_DIR/node_modules/.bin
checked_run node_pg node_pg.js node node_pg.js "password=$SECRET" \
	"postgresql://u:$SECRET@localhost/db" --password "$SECRET"
is "$CHECKED_RC" 3 "node_pg: its own exit status under the hooks"
same_run node_pg node node_pg.js
flood flood-node node node_flood.js

# An ES module's import of pg (ES modules do not read NODE_PATH: the
# program runs from a directory with node_modules beside it).
mkdir -p "$T_TMP/esm"
cp node_esm.mjs "$T_TMP/esm/"
ln -s "$NPM_DIR/node_modules" "$T_TMP/esm/node_modules"
listener esm
(cd "$T_TMP/esm" && with_hooks "$T_TMP/esm.sock" node node_esm.mjs) \
	>"$T_TMP/esm.out" 2>&1
is "$?:$(cat "$T_TMP/esm.out")" "0:answer 42" "esm: the program ran"
poll_until 60 ended esm 1
stop_listener
line=$(grep -n '@hook open' node_esm.mjs | cut -d: -f1)
is "$(jq -c 'select(.ev == "open" or .ev == "close") |
	[.ev, .how // .stack[0].file + ":" + (.stack[0].line | tostring)]' \
	"$T_TMP/esm.lines" | tr '\n' ' ')" \
	"[\"open\",\"node_esm.mjs:$line\"] [\"close\",\"close\"] " \
	"esm: pg imported by an ES module reports its open (at its line) and close"

# mocha and jest name the test each checkout was taken in (jest loads pg
# into the tests' own context: its setup file hands it to the hooks).
runner_names() {
	is "$(jq -s --arg f "$2" '[.[] | select(.ev == "take") |
		.test == $f + "::pool " + .stack[0].func] | [length, all] | @text' \
		"$T_TMP/$1.lines")" '"[3,true]"' \
		"$1: each of the 3 checkouts names the test whose line took it"
}
listener mocha
with_hooks "$T_TMP/mocha.sock" "$BIN/mocha" --require "$RUNNERS/pgdrip-mocha.js" \
	--exit 'mocha/*.spec.js' >"$T_TMP/mocha.out" 2>&1
is "$?" 0 "mocha: the suite passes"
poll_until 60 ended mocha 1
stop_listener
runner_names mocha mocha/pool.spec.js
listener jest
(cd jest && with_hooks "$T_TMP/jest.sock" "$BIN/jest" --forceExit \
	--cacheDirectory "$T_TMP/jest-cache" \
	--setupFilesAfterEnv "$RUNNERS/pgdrip-jest.js") >"$T_TMP/jest.out" 2>&1
is "$?" 0 "jest: the suite passes"
poll_until 60 ended jest 1
stop_listener
runner_names jest pool.test.js
# Without pgdrip's setup file, jest's require of pg is hooked all the
# same (no test names then).
listener jest-bare
(cd jest && with_hooks "$T_TMP/jest-bare.sock" "$BIN/jest" --forceExit \
	--cacheDirectory "$T_TMP/jest-cache") >"$T_TMP/jest-bare.out" 2>&1
is "$?" 0 "jest without the setup file: the suite passes"
poll_until 60 ended jest-bare 1
stop_listener
is "$(jq -r 'select(.ev == "take") | .stack[0].func' "$T_TMP/jest-bare.lines" | sort | tr '\n' ' ')" \
	"never_returned queried returned " \
	"jest without the setup file: the 3 checkouts reported, each at its test's line"

done_testing
