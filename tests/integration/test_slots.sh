#!/usr/bin/env bash
# A server out of connection slots, the failure pgdrip exists for: a fresh
# --once refused with "too many clients" exits 1 and says so with a hint;
# a superuser still gets in through the reserved slots and sees 100 %.
T_CLUSTER_SETTINGS=(max_connections=6 superuser_reserved_connections=2)
. "$(dirname "$0")/lib.sh"

sql "CREATE ROLE z_app LOGIN" >/dev/null
start_workload idle:z_app:hog:4 || { fail "fill the server"; done_testing; exit 1; }

"$PGDRIP" --once -U z_app >"$T_TMP/out" 2>"$T_TMP/err"
is "$?" 1 "refused for lack of slots: exit 1 (a finding, not an outage)"
like "$(head -1 "$T_TMP/err")" "too many clients|remaining connection slots are reserved" \
	"says the server is out of slots"
like "$(cat "$T_TMP/err")" "hint: .*superuser" "hints at the reserved slots"

"$PGDRIP" --once --format json --max-usage 90 >"$T_TMP/r.json" 2>"$T_TMP/err"
is "$?" 1 "as a superuser: in, and --max-usage fails"
is "$(jq '.limits[0] | "\(.used)/\(.limit)"' -r "$T_TMP/r.json")" "4/4" "4 of 4 usable connections"
is "$(jq '.total.usage_pct' "$T_TMP/r.json")" 100 "usage 100%"
like "$(cat "$T_TMP/err")" "max-usage failed: server: 100.0% used" "the breach line names the server"
done_testing
