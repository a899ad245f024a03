#!/usr/bin/env bash
# valgrind over --once and a short watch run against the real server:
# no memory error, no leak (definite or indirect).
. "$(dirname "$0")/lib.sh"

if ! command -v valgrind >/dev/null; then
	fail "valgrind is not installed (apt-get install valgrind)"
	done_testing
	exit 1
fi
start_workload idle:-:vg:3 idle-tx:-:vg-stuck:1 || fail "workload"
vg() {
	valgrind --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect -q "$@" \
		>"$T_TMP/out" 2>"$T_TMP/vg"
}
vg "$PGDRIP" --once
is "$?" 0 "valgrind --once: no error, no leak"
vg "$PGDRIP" --once --format json --group-by db,state,client
is "$?" 0 "valgrind --once --format json --group-by: clean"
vg "$PGDRIP" --duration 2s --interval 200ms --record "$T_TMP/r.jsonl" --fail-on-growth
is "$?" 0 "valgrind short watch with --record: clean"
vg "$PGDRIP" --replay "$T_TMP/r.jsonl" --format json
is "$?" 0 "valgrind --replay: clean"
vg "$PGDRIP" --interval 200ms --settle 1s -- true
is "$?" 0 "valgrind wrap: clean"
done_testing
