#!/usr/bin/env bash
# Go's two common pools, seen from the server alone (a watch): pgx's
# pgxpool (opens on demand, keeps every member, takes the most recently
# returned) and database/sql on pgx's stdlib driver (keeps 2 idle by
# default and closes the rest as they come back: under load it churns).
# Each leaks one connection on an error path until it is exhausted:
# flagged before, and still flagged at the plateau.  The same pools
# releasing properly, at a steady load or a swinging one, are never
# flagged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pools.sh"

need_packages "${CLIENT_PACKAGES[@]}" >&2
CLIENTS=$(cd "$(dirname "$0")/../clients" && pwd)
RUN=90
sql "DROP ROLE IF EXISTS goapp_role; CREATE ROLE goapp_role LOGIN" >/dev/null

go_offline "$CLIENTS/go/app" go build -o "$T_TMP/go-app" . >"$T_TMP/build.out" 2>&1
is "$?" 0 "the Go service builds offline against Debian's pgx ($(head -c 300 "$T_TMP/build.out"))"

watch_pools goapp_role "$RUN"

app() {
	start_group "$1" env PGUSER=goapp_role "$T_TMP/go-app" --app "$1" \
		--duration $((RUN + 5)) "${@:2}"
	APP_PIDS+=("${T_PIDS[-1]}")
}
APP_PIDS=()
# 5 requests a second of 20 ms; a leak every 25th request (5 s).
app go-pgx-leak --pool pgxpool --max 10 --leak-every 25
app go-pgx-ok --pool pgxpool --max 10
# Healthy, under a daily curve sped up: 40 requests a second of 200 ms
# (8 members busy) down to 4 (one) in 30 s, and back.
app go-pgx-swing --pool pgxpool --max 20 --rate 40 --rate-low 4 --period 60 --work-ms 200
app go-sql-leak --pool sql --max 10 --leak-every 25
# database/sql keeping its default 2 idle: 3 members busy on average,
# the rest closed as they come back.
app go-sql-ok --pool sql --max 20 --rate 20 --work-ms 150
app go-sql-swing --pool sql --max 20 --idle 20 --rate 40 --rate-low 4 --period 60 --work-ms 200
# ...keeping 5 idle under a faster swing: opens and closes members as
# the load passes 5 busy.
app go-sql-idle5 --pool sql --max 20 --idle 5 --rate 20 --rate-low 5 --period 37 --work-ms 150

wait "$pgdrip_pid"
is "$?" 0 "the watch ends with --duration"
# The services outlive the watch by 5 s (their sessions still open at
# its end), then print their counts.
for pid in "${APP_PIDS[@]}"; do wait "$pid"; done
for app in go-pgx-leak go-sql-leak; do
	check_drained "$app" 10
done
for app in go-pgx-ok go-pgx-swing go-sql-ok go-sql-swing go-sql-idle5; do
	check "$app: served its requests ($(tail -1 "$T_TMP/$app.out"))" \
		grep -Eq '^requests served [1-9][0-9]* timed_out 0 leaked 0' "$T_TMP/$app.out"
	is "$(field "$app" .growth.first_flagged_s)" null "$app: a healthy pool is never flagged"
	is "$(field "$app" .verdict.state)" ok "$app: ...its verdict ok"
done
check "go-pgx-swing: its pool grew with the load ($(field go-pgx-swing .peak) sessions at the peak)" \
	jq -e "$(group_of go-pgx-swing) | .peak >= 5" "$POOLS_FINAL"
is "$("$PGDRIP" --replay "$T_TMP/run.jsonl" --user goapp_role --format json |
	jq -r "$(group_of go-sql-leak) | .verdict.state")" stuck "a replay of the record reaches the same verdict"
done_testing
