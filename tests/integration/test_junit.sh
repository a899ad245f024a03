#!/usr/bin/env bash
# --junit FILE and GitHub Actions' ::error annotations: a testcase per
# check, one per test a wrapped runner reported (a failure per leaking
# test, with its sessions and file); the XML read by a parser and held
# against a schema (junit.xsd) and its own counts, hostile names
# included; the annotations in their exact format and escaping.
. "$(dirname "$0")/lib.sh"

need_packages libxml2-utils:xmllint python3-pytest:py:pytest \
	python3-psycopg2:py:psycopg2
XSD=$(dirname "$0")/junit.xsd

# valid_junit FILE DESC: well-formed, valid against the schema, and each
# count attribute is what the document holds.
valid_junit() {
	local f=$1 desc=$2 counts
	check "$desc: well-formed XML" xmllint --noout "$f"
	check "$desc: valid against junit.xsd" xmllint --noout --schema "$XSD" "$f"
	counts=$(xmllint --xpath 'count(//testsuite[@tests != count(testcase)
		or @failures != count(testcase/failure)
		or @errors != count(testcase/error)])
		+ number(/testsuites/@tests != sum(//testsuite/@tests))
		+ number(/testsuites/@failures != sum(//testsuite/@failures))
		+ number(/testsuites/@errors != sum(//testsuite/@errors))' "$f" 2>&1)
	is "$counts" 0 "$desc: the counts are the document's"
	check "$desc: valid UTF-8" iconv -f UTF-8 -t UTF-8 "$f"
	check "$desc: no control byte" bash -c "! LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]' '$f'"
}
xpath() { xmllint --xpath "$1" "$2" 2>/dev/null; }

sql "DROP ROLE IF EXISTS j_app; CREATE ROLE j_app LOGIN" >/dev/null
start_workload 'idle:j_app:web:2' 'idle-tx:j_app:50%,off:1' ||
	{ fail "workload"; done_testing; exit 1; }
sleep 0.3

# A testcase per check, passed and failed.
"$PGDRIP" --once --user j_app --max-total 100 --max-per-group 1 \
	--junit "$T_TMP/once.xml" >/dev/null 2>"$T_TMP/err"
is "$?" 1 "--once --junit with a breach: exit 1 as without it"
valid_junit "$T_TMP/once.xml" "--once"
is "$(xpath 'string(/testsuites/testsuite/@name)' "$T_TMP/once.xml")" "pgdrip checks" \
	"one suite, the checks"
is "$(xpath 'count(//testcase)' "$T_TMP/once.xml")" 2 \
	"a testcase per check result (max-total passed, max-per-group failed in web)"
is "$(xpath 'string(//testcase[1]/@name)' "$T_TMP/once.xml")" "max-total: total" \
	"...named by the check and where"
is "$(xpath 'count(//testcase[1]/*)' "$T_TMP/once.xml")" 0 "...the passing one empty"
is "$(xpath 'string(//testcase[failure]/@name)' "$T_TMP/once.xml")" \
	"max-per-group: group j_app/web" "the failing one names the group"
is "$(xpath 'string(//failure/@message)' "$T_TMP/once.xml")" \
	"2 connections (limit 1)" "...and its failure the values, as the stderr line does"
is "$(xpath 'string(//failure/@type)' "$T_TMP/once.xml")" max-per-group "...typed by the check"
if grep -q '^::' "$T_TMP/err"; then
	fail "no annotations without GITHUB_ACTIONS"
else
	pass "no annotations without GITHUB_ACTIONS"
fi

# Under GitHub Actions each failure is also an annotation, on stderr
# (stdout stays the report's: JSON here).
GITHUB_ACTIONS=true "$PGDRIP" --once --user j_app --max-total 1 --max-per-group 1 \
	--format json >"$T_TMP/once.json" 2>"$T_TMP/err"
is "$?" 1 "GITHUB_ACTIONS=true: exit 1"
check "...the JSON on stdout untouched" jq -e . "$T_TMP/once.json"
is "$(grep '^::' "$T_TMP/err")" "::error title=pgdrip max-total::total: 3 connections (limit 1)
::error title=pgdrip max-per-group::group j_app/web: 2 connections (limit 1)" \
	"a ::error line per failed check, exactly"
# % is escaped in the message; ':' and ',' there are not.
GITHUB_ACTIONS=true "$PGDRIP" --once --user j_app --app '50*' --max-per-group 0 \
	>/dev/null 2>"$T_TMP/err"
is "$(grep '^::' "$T_TMP/err")" \
	"::error title=pgdrip max-per-group::group j_app/50%25,off: 1 connections (limit 0)" \
	"...with % escaped as %25 in the message"
GITHUB_ACTIONS=false "$PGDRIP" --once --user j_app --max-total 1 >/dev/null 2>"$T_TMP/err"
check "GITHUB_ACTIONS=false: no annotation" bash -c "! grep -q '^::' '$T_TMP/err'"

# A check that cannot be evaluated is a JUnit error, not a pass: another
# role's session hides its state from j_app.
start_workload 'idle:-:other:1' || fail "another role's session"
"$PGDRIP" --once -U j_app --max-idle-tx 5 --junit "$T_TMP/uneval.xml" \
	>/dev/null 2>&1
is "$?" 3 "a check the server hides the data of: exit 3"
valid_junit "$T_TMP/uneval.xml" "not evaluated"
like "$(xpath 'string(//error/@message)' "$T_TMP/uneval.xml")" \
	"the server hides the state of" "...an <error> saying why"

# Hostile names: ESC, BEL, CR/LF, invalid UTF-8, XML's own specials.
evil_role=$(printf 'j<evil&"\033[2J\007\r\n\377x')
ascii_db j_ascii || fail "create a SQL_ASCII database"
raw_role j_ascii "$evil_role" || fail "create a hostile role"
start_workload -d "dbname=j_ascii" "idle:$evil_role:app:2" ||
	fail "workload with a hostile role"
GITHUB_ACTIONS=true "$PGDRIP" --once --db j_ascii --max-per-group 1 \
	--junit "$T_TMP/evil.xml" >/dev/null 2>"$T_TMP/err"
is "$?" 1 "hostile names: exit 1"
valid_junit "$T_TMP/evil.xml" "hostile names"
is "$(xpath 'string(//testcase[failure]/@name)' "$T_TMP/evil.xml")" \
	'max-per-group: group j<evil&"\e[2J\x07\r\n\xffx/app' \
	"...the name read back by the parser, control bytes as visible escapes"
check "the annotations carry no control byte" \
	bash -c "! LC_ALL=C grep -P '[\x00-\x09\x0b-\x1f\x7f]' '$T_TMP/err'"
like "$(grep '^::' "$T_TMP/err")" \
	'^::error title=pgdrip max-per-group::group j<evil&"\\e\[2J\\x07\\r\\n\\xffx/app: 2 connections \(limit 1\)$' \
	"...one line, the name escaped"

# Wrap mode with pytest: a testcase per test, a failure for the leaking
# one with its session and the file its node id names.
mkdir -p "$T_TMP/suite"
cat >"$T_TMP/suite/test_j.py" <<'EOF'
import psycopg2

_kept = []


def test_closes():
    conn = psycopg2.connect("", application_name="j-suite")
    conn.cursor().execute("SELECT 'closed'")
    conn.close()


def test_leaks():
    conn = psycopg2.connect("", application_name="j-suite")
    conn.autocommit = True
    conn.cursor().execute("SELECT 'left behind'")
    _kept.append(conn)
EOF
(cd "$T_TMP/suite" && GITHUB_ACTIONS=true "$PGDRIP" --interval 200ms --settle 2s \
	--fail-on-growth --junit "$T_TMP/wrap.xml" -- /usr/bin/python3 -m pytest -q \
	-p no:cacheprovider test_j.py >/dev/null 2>"$T_TMP/wrap.err")
is "$?" 1 "wrap: a leaking test fails the run"
valid_junit "$T_TMP/wrap.xml" "wrap"
tests='//testsuite[@name="pgdrip tests"]'
is "$(xpath "count($tests/testcase)" "$T_TMP/wrap.xml")" 2 "a testcase per test"
is "$(xpath "string($tests/testcase[1]/@name)" "$T_TMP/wrap.xml")" "test_j.py::test_closes" \
	"...named as the runner names it"
is "$(xpath "count($tests/testcase[1]/failure)" "$T_TMP/wrap.xml")" 0 \
	"...the test that closed its connection passes"
leak="$tests/testcase[@name=\"test_j.py::test_leaks\"]"
is "$(xpath "string($leak/@file)" "$T_TMP/wrap.xml")" test_j.py "the leaking one has its file"
is "$(xpath "string($leak/@line)" "$T_TMP/wrap.xml")" 13 \
	"...and the line that opened the connection (the client hooks said)"
like "$(xpath "string($leak/failure)" "$T_TMP/wrap.xml")" \
	"opened at test_j.py:13 \(test_leaks\) during test_j.py::test_leaks, never closed" \
	"...the hooks' word in the failure too"
is "$(xpath "string($leak/failure/@message)" "$T_TMP/wrap.xml")" \
	"left 1 session open and never used again" "...and a failure saying how many"
like "$(xpath "string($leak/failure)" "$T_TMP/wrap.xml")" \
	"^pid [0-9]+ postgres/j-suite/postgres, opened at .*: SELECT 'left behind'" \
	"...listing its session and last query"
leakpid=$(xpath "string($leak/failure)" "$T_TMP/wrap.xml" | sed -n 's/^pid \([0-9]*\) .*/\1/p')
like "$(grep '^::error file=' "$T_TMP/wrap.err")" \
	"^::error file=test_j.py,line=13,title=pgdrip leak in test_j.py%3A%3Atest_leaks::test_j.py::test_leaks left 1 session open and never used again%0Apid $leakpid postgres/j-suite/postgres: SELECT 'left behind'%0Aopened at test_j.py:13 \(test_leaks\) during test_j.py::test_leaks, never closed [^%]*$" \
	"the leaking test's annotation: file and line, title with : escaped, its session and the hooks' word on %0A lines"
check "...the per-test check is not annotated twice" \
	bash -c "! grep -q 'title=pgdrip max-leaked-per-test' '$T_TMP/wrap.err'"

# Written as -o is: an unwritable place is said, and the exit status is
# 3 when the checks passed.
"$PGDRIP" --once --user j_app --junit "$T_TMP/no/such/dir/j.xml" >/dev/null 2>"$T_TMP/err"
is "$?" 3 "--junit into a missing directory: exit 3"
like "$(cat "$T_TMP/err")" "^pgdrip: cannot write \"$T_TMP/no/such/dir/j.xml\": No such file or directory" \
	"...saying so"
"$PGDRIP" --once --user j_app --junit /dev/stderr 2>"$T_TMP/stderr.xml" >/dev/null
check "--junit /dev/stderr is written in place" xmllint --noout "$T_TMP/stderr.xml"
done_testing
