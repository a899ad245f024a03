#!/usr/bin/env bash
# Memory stays flat however many names pass: clients churning distinct
# application_names (a pid or a request id in the name) make groups that
# are retired once they had no session for a whole --window, and the
# tracker forgets the names no session holds.  pgdrip's RSS is read from
# /proc at three points of the churn, set by how many names the workload
# gave (not by the clock): the second half's growth must be small, and
# no more than half the first's.  The report keeps the window's groups
# and says how many were retired.
. "$(dirname "$0")/lib.sh"

# rss PID: resident KiB.
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# names_given: the workload's count so far.
names_given() { awk '/^names/ {n = $2} END {print n + 0}' "$T_TMP/wl.out"; }
names_past() { [ "$(names_given)" -ge "$1" ]; }

"$WORKLOAD" names:-:churn-:20:100 >"$T_TMP/wl.out" 2>"$T_TMP/wl.err" &
wl=$!
T_PIDS+=("$wl")
"$PGDRIP" --interval 100ms --window 10s --format json -o "$T_TMP/report.json" \
	2>"$T_TMP/err" &
pd=$!
T_PIDS+=("$pd")
# 20 names every 100 ms at most (200 a second; a loaded machine gives
# fewer): the first point is past the first window (10 s, 2,000 names at
# most), whose groups are the working set.
points=(3000 6000 9000)
for i in 0 1 2; do
	poll_until 600 names_past "${points[$i]}" ||
		echo "# the workload gave $(names_given) names: $(cat "$T_TMP/wl.err")"
	mem[$i]=$(rss "$pd")
	cpu[$i]=$(awk '{print $14 + $15}' "/proc/$pd/stat")
done
first=$((mem[1] - mem[0]))
second=$((mem[2] - mem[1]))
echo "# RSS ${mem[*]} KiB at ${points[*]} names: +$first, then +$second;" \
	"CPU ticks ${cpu[*]}"
check "the churn ran ($(names_given) names)" names_past "${points[2]}"
# Flat: the second half grows by at most half the first, or 1 MiB (the
# allocator's noise).  Growing with the names, it grew ~9 MiB a half.
half=$((first / 2))
bound=$((half > 1024 ? half : 1024))
check "RSS flat: second half +$second KiB <= $bound KiB (first half +$first)" \
	test "$second" -le "$bound"
kill -TERM "$pd"
wait "$pd"
is "$?" 0 "pgdrip ends on SIGTERM with its report"
given=$(names_given)
# (A name lives one 100 ms step: a sample may miss some.)
stop_workload "$wl"
groups=$(jq '.groups | length' "$T_TMP/report.json")
retired=$(jq '.retired.groups' "$T_TMP/report.json")
size=$(stat -c %s "$T_TMP/report.json")
echo "# $given names: $groups groups reported, $retired retired, $size bytes"
check "the report lists the window's groups, not every name ($groups of $given)" \
	test "$groups" -lt $((given / 2))
check "...and says how many were retired ($retired)" \
	test "$retired" -gt $((given / 4))
like "$(jq -r '.warnings[]' "$T_TMP/report.json")" \
	"groups with no session for a whole --window \\(10s\\) were retired" \
	"...with a warning saying why"

done_testing
