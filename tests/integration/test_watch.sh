#!/usr/bin/env bash
# Watch mode and --wait-drain against real workloads: a leak is flagged,
# a steady pool and churn are not; draining both ways.
. "$(dirname "$0")/lib.sh"

sql "DROP ROLE IF EXISTS m_app; CREATE ROLE m_app LOGIN CONNECTION LIMIT 60" >/dev/null
start_workload idle:m_app:steady:5 leak:m_app:leaky:500 churn:m_app:churn:100 ||
	{ fail "workload"; done_testing; exit 1; }
# Connect-per-transaction churn from a real client, too.
echo "SELECT pg_sleep(0.02);" >"$T_TMP/select1.sql"
PGAPPNAME=pgbench-churn PGUSER=m_app "${PG_BINDIR:-/usr/lib/postgresql/15/bin}/pgbench" -n -C -c 4 -R 40 -T 14 \
	-f "$T_TMP/select1.sql" postgres >/dev/null 2>&1 &
T_PIDS+=("$!")

"$PGDRIP" --duration 12s --interval 500ms --user m_app --format json --progress \
	--fail-on-growth --record "$T_TMP/w.rec" >"$T_TMP/w.json" 2>"$T_TMP/err"
is "$?" 1 "watch mode with a leak fails --fail-on-growth"
g() { jq "$1" "$T_TMP/w.json"; }
is "$(g '.groups[] | select(.application=="leaky") | .growth.flagged')" true "the leak is flagged"
check "first flagged within 10s ($(g '.groups[] | select(.application=="leaky") | .growth.first_flagged_s'))" \
	jq -e '.groups[] | select(.application=="leaky") | .growth.first_flagged_s <= 10' "$T_TMP/w.json"
is "$(g '.groups[] | select(.application=="steady") | .growth.flagged')" false "the steady pool is not"
is "$(g '[.groups[] | select(.application=="churn") | .growth.flagged] | any')" false "churn is not"
is "$(g '[.groups[] | select(.application=="pgbench-churn") | .growth.flagged] | any')" false "pgbench -C churn is not"
check "pgbench -C churn was seen" jq -e '[.groups[] | select(.application=="pgbench-churn")] | length == 1' "$T_TMP/w.json"
# One sample a 500 ms slot over the span pgdrip recorded (its first
# sample to its last): none skipped but for a slot or two a loaded
# machine may cost, and never more than one a slot.
slots=$(jq -s '(map(.t) | max - min) / 0.5 | round + 1' "$T_TMP/w.rec")
check "a sample every 500 ms ($(g .samples) for $slots slots)" \
	jq -e --argjson n "$slots" '.samples >= $n - 2 and .samples <= $n' "$T_TMP/w.json"
check "--progress prints one line per sample" \
	test "$(grep -c '^pgdrip: sample' "$T_TMP/err")" -eq "$(g .samples)"
is "$(jq -r '.groups[] | select(.application=="leaky") | .growth.forecast.limit_name' "$T_TMP/w.json")" m_app \
	"forecast names the role's limit"
stop_workload "$WL_PID"

start_workload --hold 2 idle:m_app:draining:3 || fail "drain workload"
"$PGDRIP" --app draining --wait-drain 10s --interval 200ms 2>"$T_TMP/err"
is "$?" 0 "--wait-drain exits 0 once the sessions are gone"
start_workload idle:m_app:stuck:2 || fail "stuck workload"
"$PGDRIP" --app stuck --wait-drain 1s --interval 200ms 2>"$T_TMP/err"
is "$?" 1 "--wait-drain exits 1 when they stay"
like "$(cat "$T_TMP/err")" "2 selected sessions still connected.*m_app/stuck \(2\)" "...naming who is still there"
done_testing
