#!/usr/bin/env bash
# Pools pre-filled to their max, seen from the server alone (a watch):
# HikariCP in its default shape (minimumIdle = maximumPoolSize) on
# pgjdbc under openjdk, and asyncpg's default create_pool (min_size =
# max_size = 10).  Each leaks one connection every 25th request on an
# error path, drains and is exhausted (every request then times out):
# flagged before it is exhausted, still flagged at the plateau
# ("stuck"), although it never opens a new session; psycopg_pool's
# default pool (4 members) drains too fast to tell before, and is
# flagged "stuck" at the plateau (and, whose traffic stops, at 5 requests
# a second or at a trickle, never).  The same pools
# releasing properly, a few members reused and the rest untouched, or
# under a load that swings up and down, are never flagged, and the
# report says why their idle members are not counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pools.sh"

need_packages "${CLIENT_PACKAGES[@]}" >&2
CLIENTS=$(cd "$(dirname "$0")/../clients" && pwd)
RUN=80
for r in pp_java pp_py; do
	sql "DROP ROLE IF EXISTS $r; CREATE ROLE $r LOGIN" >/dev/null
done

# The JVM service, compiled here against Debian's jars.
J=/usr/share/java
CP="$J/HikariCP.jar:$J/postgresql.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar"
javac -d "$T_TMP/java" -cp "$CP" "$CLIENTS/java/PoolApp.java" 2>"$T_TMP/javac.err"
is "$?" 0 "PoolApp compiles with javac against HikariCP and pgjdbc"

watch_pools 'pp_*' "$RUN"

# 5 requests a second, 20 ms each: a leak every 5 s drains 10 members
# in 50 s.  JDBC speaks TCP (PGHOST is a socket directory).
java_app() {
	start_group "$1" env PGUSER=pp_java PGHOST=127.0.0.1 java -cp "$CP:$T_TMP/java" \
		PoolApp --app "$1" --size 10 --rate 5 --duration $((RUN + 5)) "${@:2}"
}
py_app() {
	start_group "$1" env PGUSER=pp_py /usr/bin/python3 "$CLIENTS/python/asyncpg_app.py" \
		--app "$1" --rate 5 --duration $((RUN + 5)) "${@:2}"
}
# psycopg_pool's ConnectionPool in its default shape: 4 members,
# handed out in turn; drained in 20 s, before a member has sat unused
# long enough to tell, so flagged only at the plateau.  Healthy, its
# traffic stopping at 30 s while the pool stays open: never flagged.
psycopg_app() {
	start_group "$1" env PGUSER=pp_py /usr/bin/python3 "$CLIENTS/python/psycopg_pool_app.py" \
		--app "$1" --rate 5 --duration $((RUN + 5)) "${@:2}"
}
psycopg_app pp-psycopg-leak --leak-every 25
psycopg_app pp-psycopg-quiet --quiet-after 30
# ...and at a trickle, one request every 2 s (each member every 8 s),
# its traffic stopping at 20 s: members go quiet one after another, each
# within its turn of the last work.
psycopg_app pp-psycopg-trickle --rate 0.5 --quiet-after 20
java_app pp-hikari-leak --leak-every 25
java_app pp-hikari-ok
py_app pp-asyncpg-leak --leak-every 25
py_app pp-asyncpg-ok
# The same pools, healthy, under a daily curve sped up: 40 requests a
# second of 200 ms (8 members busy) down to 4 (one) in 40 s, and back.
# As the load falls, members go quiet one after another while the
# others serve, as a leak's do; but their work falls with them.
java_app pp-hikari-swing --rate 40 --rate-low 4 --period $RUN --work-ms 200
py_app pp-asyncpg-swing --rate 40 --rate-low 4 --period $RUN --work-ms 200

wait "$pgdrip_pid"
is "$?" 0 "the watch ends with --duration"
for app in pp-hikari-leak pp-asyncpg-leak; do
	check_drained "$app" 10
	check "$app: ...its sessions unused for half a minute ($(field "$app" .verdict.unused_max_s) s)" \
		jq -e "$(group_of "$app") | .verdict.unused_max_s > 25" "$POOLS_FINAL"
done
check_drained_late pp-psycopg-leak 4
is "$(field pp-psycopg-quiet .growth.first_flagged_s)" null "pp-psycopg-quiet: a small pre-filled pool whose traffic stopped is never flagged"
is "$(field pp-psycopg-quiet .connections)" 4 "pp-psycopg-quiet: ...its 4 members open, unused since"
is "$(field pp-psycopg-trickle .growth.first_flagged_s)" null "pp-psycopg-trickle: the same pool at a trickle whose traffic stopped is never flagged"
for app in pp-hikari-ok pp-asyncpg-ok; do
	is "$(field "$app" .growth.first_flagged_s)" null "$app: a pre-filled pool at rest is never flagged"
	is "$(field "$app" .connections)" 10 "$app: ...all its 10 members open"
	check "$app: ...its untouched members not counted, as resting ($(field "$app" .verdict.not_counted.resting))" \
		jq -e "$(group_of "$app") | .verdict.not_counted.resting >= 5" "$POOLS_FINAL"
done
# Near the bottom of the curve (40 s into the clients, which started a
# few seconds after the watch), members have sat quiet for tens of
# seconds while the others served: the most of them not counted, as
# resting, in replays of the record cut at 35-60 samples.
most_resting() {
	local n most=0 r
	for n in 35 40 45 50 55 60; do
		head -$n "$T_TMP/run.jsonl" >"$T_TMP/cut.jsonl"
		r=$("$PGDRIP" --replay "$T_TMP/cut.jsonl" --user 'pp_*' --format json |
			jq -r "$(group_of "$1") | .verdict.not_counted.resting // 0")
		[ "$r" -gt "$most" ] && most=$r
	done
	echo "$most"
}
for app in pp-hikari-swing pp-asyncpg-swing; do
	is "$(field "$app" .growth.first_flagged_s)" null "$app: a pre-filled pool under a swinging load is never flagged"
	resting=$(most_resting "$app")
	check "$app: ...its members quiet near the bottom of the curve not counted, as resting ($resting)" \
		test "$resting" -ge 3
done
"$PGDRIP" --replay "$T_TMP/run.jsonl" --user 'pp_*' --format text >"$T_TMP/replay.txt" 2>&1
like "$(cat "$T_TMP/replay.txt")" "pp-hikari-ok.*: [0-9]+ resting" "the text report says why the resting members are not counted"
"$PGDRIP" --replay "$T_TMP/run.jsonl" --user 'pp_*' --format json >"$T_TMP/replay.json"
for app in pp-hikari-leak pp-psycopg-leak; do
	is "$(jq -r "$(group_of "$app") | .verdict.state" "$T_TMP/replay.json")" stuck \
		"$app: a replay of the record reaches the same verdict"
done
done_testing
