#!/usr/bin/env bash
# Connection options combine as in psql: what -d says (a URI or a
# conninfo string) wins over -h, -p and -U, which fill in what it leaves
# out; a bad -p is a usage error; an IPv6 server is labelled [::1]:PORT.
. "$(dirname "$0")/lib.sh"

# Two servers, so each combination shows which one was reached.
start_extra_cluster "listen_addresses=127.0.0.1,::1" ||
	{ fail "a second cluster on 127.0.0.1 and ::1"; done_testing; exit 1; }
for p in "$PGPORT" "$X_PORT"; do
	psql -XAtq -h 127.0.0.1 -p "$p" -c "DROP ROLE IF EXISTS co_alice" \
		-c "DROP ROLE IF EXISTS co_bob" -c "CREATE ROLE co_alice LOGIN" \
		-c "CREATE ROLE co_bob LOGIN" >/dev/null
done
at_exit "psql -XAtq -c 'DROP ROLE IF EXISTS co_alice' -c 'DROP ROLE IF EXISTS co_bob'"

# where ARGS...: "PORT ROLE" of the server psql reaches, and pgdrip's.
psql_where() {
	psql -XAtq "$@" -c "SELECT inet_server_port() || ' ' || current_user" 2>&1
}
pgdrip_where() {
	"$PGDRIP" --once --retry-for 0 --format json "$@" 2>&1 |
		jq -r '(.server.label | capture(":(?<p>[0-9]+)/").p) + " " +
			.server.current_user' 2>&1
}
same_as_psql() {
	local desc=$1 want
	shift
	want=$(psql_where "$@")
	is "$(pgdrip_where "$@")" "$want" "$desc (psql: $want)"
}

uri="postgresql://co_alice@127.0.0.1:$X_PORT/postgres"
same_as_psql "a URI's port and user win over -p and -U" \
	-d "$uri" -p "$PGPORT" -U co_bob
same_as_psql "...and its host over -h" -d "$uri" -h "$PGHOST" -p "$PGPORT"
same_as_psql "a conninfo's port wins over -p, -U fills in its user" \
	-d "host=127.0.0.1 port=$X_PORT dbname=postgres" -p "$PGPORT" -U co_bob
same_as_psql "-p fills in a URI without a port" \
	-d "postgresql:///postgres?host=127.0.0.1&user=co_alice" -p "$X_PORT"
same_as_psql "a plain database name takes -h, -p and -U" \
	-d postgres -h 127.0.0.1 -p "$X_PORT" -U co_bob
same_as_psql "-p and -U alone" -h 127.0.0.1 -p "$X_PORT" -U co_alice
is "$(psql_where -d "$uri" -p "$PGPORT" | cut -d' ' -f1)" "$X_PORT" \
	"(psql itself connects where the URI says)"

# -p is pgdrip's to check: a typo is a usage error, not an outage.
for bad in 99999 abc 0 5432x -1; do
	"$PGDRIP" --once -p "$bad" >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	is "$rc" 2 "-p $bad exits 2"
	like "$(head -1 "$T_TMP/err")" \
		"^pgdrip: -p: invalid port \"$bad\": expected a number from 1 to 65535$" \
		"...saying the port must be 1-65535"
done
"$PGDRIP" --once --port=70000 >/dev/null 2>"$T_TMP/err"
is "$?" 2 "--port=70000 exits 2"
"$PGDRIP" --once --format json -h 127.0.0.1,127.0.0.1 -p "1,$X_PORT" \
	>"$T_TMP/list.json" 2>"$T_TMP/err"
is "$?" 0 "a port per host is accepted, as libpq takes it"
is "$(jq -r .server.label "$T_TMP/list.json")" "127.0.0.1:$X_PORT/postgres" \
	"...and libpq goes on to the second host"

# IPv6: the address in brackets, so the port cannot be read as part of it.
"$PGDRIP" --once --format json -h ::1 -p "$X_PORT" >"$T_TMP/v6.json" 2>&1
is "$(jq -r .server.label "$T_TMP/v6.json")" "[::1]:$X_PORT/postgres" \
	"an IPv6 server is labelled [::1]:PORT/db"
"$PGDRIP" --once -h ::1 -p "$X_PORT" >"$T_TMP/v6.txt" 2>&1
like "$(cat "$T_TMP/v6.txt")" "server: \[::1\]:$X_PORT/postgres" \
	"...in the text report too"
"$PGDRIP" --once --format prometheus -h ::1 -p "$X_PORT" >"$T_TMP/v6.prom" 2>&1
like "$(cat "$T_TMP/v6.prom")" "server=\"\[::1\]:$X_PORT/postgres\"" \
	"...and in the server label of the exposition"
"$PGDRIP" --once --retry-for 0 --format json -d "host=::1 port=1 dbname=x" \
	-d "host=127.0.0.1 port=$X_PORT" >"$T_TMP/fleet.json" 2>/dev/null
is "$(jq -r '.servers[0].server.label' "$T_TMP/fleet.json")" "[::1]:1/x" \
	"a server that cannot be reached is labelled with brackets too"
is "$(jq -r '.servers[1].server.label' "$T_TMP/fleet.json")" \
	"127.0.0.1:$X_PORT/postgres" "...an IPv4 one without"

done_testing
