#!/usr/bin/env bash
# --once against real sessions: exact counts per group and state, the
# idle-in-transaction list with both ages, filters, grouping, outputs.
. "$(dirname "$0")/lib.sh"

for r in o_api o_tests o_worker; do
	sql "DROP ROLE IF EXISTS $r; CREATE ROLE $r LOGIN" >/dev/null
done
start_workload idle:o_api:api:5 active:o_tests:pytest:2 idle:o_tests:pytest:3 \
	idle-tx:o_worker:stuck:2 aborted:o_worker:stuck:1 ||
	{ fail "workload"; done_testing; exit 1; }
# The active ones' query is sent without waiting for it: until it runs.
running() { [ "$(psql_count "application_name = 'pytest' AND state = 'active'")" -ge 2 ]; }
poll_until 120 running

"$PGDRIP" --once --format json --user 'o_*' >"$T_TMP/r.json"
is "$?" 0 "--once exits 0 with no checks"
check "JSON is valid" jq -e . "$T_TMP/r.json"
j() { jq -r "$1" "$T_TMP/r.json"; }
is "$(j .pgdrip.mode)" once "mode once"
is "$(j .total.connections)" 13 "13 selected connections"
is "$(j .total.all_connections)" "$(psql_count true)" "all connections match the server's own count"
g='.groups[] | select(.user=="o_api" and .application=="api")'
is "$(j "$g | .connections")" 5 "o_api/api has 5"
is "$(j "$g | .states.idle")" 5 "o_api/api: 5 idle"
g='.groups[] | select(.user=="o_tests")'
is "$(j "$g | .connections")" 5 "o_tests/pytest has 5"
is "$(j "$g | .states.active")" 2 "o_tests/pytest: 2 active"
is "$(j "$g | .states.idle")" 3 "o_tests/pytest: 3 idle"
g='.groups[] | select(.user=="o_worker")'
is "$(j "$g | .states.idle_in_transaction")" 2 "o_worker: 2 idle in transaction"
is "$(j "$g | .states.idle_in_transaction_aborted")" 1 "o_worker: 1 aborted"
is "$(j "$g | .states.unknown")" 0 "no unknown states as superuser"
is "$(j '.groups[0].user')" o_api "groups sorted by connections (ties by name)"
is "$(j '.idle_in_transaction | length')" 3 "three sessions idle in transaction"
is "$(j '[.idle_in_transaction[] | select(.state=="idle in transaction (aborted)")][0].xact_age_s')" null \
	"an aborted transaction has no transaction age"
is "$(j '[.idle_in_transaction[] | select(.state=="idle in transaction")][0].xact_age_s >= 0')" true \
	"an idle transaction has a transaction age"
is "$(j '[.idle_in_transaction[] | .age_s >= 0] | all')" true "every idle-tx session has an idle age"
is "$(j '.idle_in_transaction[0].query')" "SELECT 1" "the query snippet is shown"
is "$(j '.server.usable_connections')" \
	"$(($(sql 'SHOW max_connections') - $(sql 'SHOW superuser_reserved_connections')))" \
	"usable = max_connections - superuser_reserved_connections"

is "$("$PGDRIP" --once --format json --app 'pyt*' | jq .total.connections)" 5 "--app glob"
is "$("$PGDRIP" --once --format json --user 'o_*' --exclude-app api | jq .total.connections)" 8 "--exclude-app"
is "$("$PGDRIP" --once --format json --user o_worker --user o_api | jq .total.connections)" 8 "--user repeated"
is "$("$PGDRIP" --once --format json --user 'o_*' --exclude-user o_tests --exclude-user o_api | jq .total.connections)" 3 "--exclude-user repeated"
"$PGDRIP" --once --format json --user 'o_*' --group-by state,user >"$T_TMP/s.json"
is "$(jq -r '.groups[] | select(.state=="idle" and .user=="o_tests") | .connections' "$T_TMP/s.json")" 3 \
	"--group-by state,user"
is "$(jq -r '[.groups[] | has("application")] | any' "$T_TMP/s.json")" false "no application key when not grouped by it"
is "$("$PGDRIP" --once --format json --user 'o_*' --group-by db | jq -r '.groups[0].database + " " + (.groups[0].connections|tostring)')" \
	"postgres 13" "--group-by db"

"$PGDRIP" --once --user 'o_*' >"$T_TMP/r.txt"
is "$?" 0 "text report exits 0"
like "$(cat "$T_TMP/r.txt")" "o_worker +stuck +3" "text row for o_worker/stuck"
like "$(cat "$T_TMP/r.txt")" "Idle in transaction \(3" "text lists idle-in-transaction sessions"
check "text has no control bytes" bash -c "! LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]' '$T_TMP/r.txt'"
# Columns, not bytes: a cut line ends in a 3-byte ellipsis.
width=$(wc -L <"$T_TMP/r.txt")
COLUMNS=80 "$PGDRIP" --once --user 'o_*' >"$T_TMP/r80.txt"
check "fits 80 columns when asked ($width wide by default)" \
	bash -c "[ \$(wc -L <'$T_TMP/r80.txt') -le 80 ]"

# Off a terminal nothing is cut: a CI log can be grepped for the whole
# application_name (63 bytes, the most the server keeps).
ellipsis=$(printf '\342\200\246')
long=o63-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456
main_wl=$WL_PID
start_workload "idle:o_api:$long:2" || fail "workload with a long name"
unset -v COLUMNS
LC_ALL=C.UTF-8 "$PGDRIP" --once --user 'o_*' | cat >"$T_TMP/pipe.txt"
like "$(grep '^o_api ' "$T_TMP/pipe.txt")" "^o_api +$long +2 " \
	"a pipe gets the ${#long}-character application_name whole in the table"
check "...and no line is cut" bash -c "! grep -qF '$ellipsis' '$T_TMP/pipe.txt'"
COLUMNS=80 LC_ALL=C.UTF-8 "$PGDRIP" --once --user 'o_*' | cat >"$T_TMP/pipe80.txt"
check "COLUMNS=80 still asks for 80 columns, and cuts" \
	grep -qF "$ellipsis" "$T_TMP/pipe80.txt"
stop_workload "$WL_PID"
WL_PID=$main_wl

rm -f "$T_TMP/o.json"
out=$("$PGDRIP" --once --format json --output "$T_TMP/o.json")
is "$out" "" "--output leaves stdout empty"
check "--output writes the report" jq -e .total "$T_TMP/o.json"
"$PGDRIP" --once --output /nonexistent/dir/x.json 2>"$T_TMP/err"
is "$?" 3 "an unwritable --output exits 3"

stop_workload "$WL_PID"
for i in $(seq 50); do
	[ "$(psql_count "usename LIKE 'o\_%'")" -eq 0 ] && break
	sleep 0.1
done
is "$("$PGDRIP" --once --format json --user 'o_*' | jq '.groups | length')" 0 "no groups once the sessions are gone"
done_testing
