#!/usr/bin/env bash
# Wrap mode on a compiled go test suite (database/sql on pgx, built
# offline from Debian's packages): sessions shorter than a sample.  The
# Handle tests each open a handle and, in the leaky build, never close
# it (its session lives until the binary exits, about a second later);
# the Shared tests use TestMain's handle, idle between them and while
# the Handle tests run, closed at the end.  Leaky: exit 1; fixed: exit 0
# -- at the default interval and at faster ones.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pools.sh"

need_packages "${CLIENT_PACKAGES[@]}" >&2
CLIENTS=$(cd "$(dirname "$0")/../clients" && pwd)
sql "DROP ROLE IF EXISTS pgt_go; CREATE ROLE pgt_go LOGIN" >/dev/null

go_offline "$CLIENTS/go/suite" go test -c -o "$T_TMP/suite.test" . >"$T_TMP/build.out" 2>&1
is "$?" 0 "the go test suite builds offline against Debian's pgx ($(head -c 300 "$T_TMP/build.out"))"

# suite NAME LEAK INTERVAL: pgdrip wrapping the test binary.
suite() {
	(cd "$T_TMP" && PGUSER=pgt_go GOSUITE_APP=pg-gotest GOSUITE_LEAK=$2 \
		"$PGDRIP" ${3:+--interval "$3"} --settle 2s --format json \
		-o "$T_TMP/$1.json" -- ./suite.test -test.v \
		>"$T_TMP/$1.out" 2>"$T_TMP/$1.err")
	rc=$?
}
for iv in "" 500ms 250ms; do
	at=${iv:-the default interval}
	suite "leaky$iv" 1 "$iv"
	is "$rc" 1 "leaky suite at $at: exit 1"
	check "...its tests passed ($(grep -c '^--- PASS' "$T_TMP/leaky$iv.out") of 16)" \
		test "$(grep -c '^--- PASS' "$T_TMP/leaky$iv.out")" -eq 16
	check "...its handles' sessions named as left unused ($(jq '[.groups[] | .verdict.abandoned] | add' "$T_TMP/leaky$iv.json"))" \
		jq -e '[.groups[] | .verdict.abandoned] | add >= 3' "$T_TMP/leaky$iv.json"
	suite "fixed$iv" 0 "$iv"
	is "$rc" 0 "fixed suite at $at (TestMain's handle shared by eight tests): exit 0"
done
check "the run sampled faster than --interval by itself ($(jq .samples "$T_TMP/leaky.json") samples at the default interval)" \
	jq -e '.samples >= 6' "$T_TMP/leaky.json"
done_testing
