#!/usr/bin/env bash
# The sample against every other PostgreSQL major we claim (14, 16, 17,
# 18; Debian's 15 is the rest of the suite's).  It reads the status
# functions directly (pg_stat_get_activity, pg_stat_get_backend_idset,
# whose ids changed meaning in 16 and 17) and lists unchanged idle
# sessions by pid alone: on each version every session must still be
# counted in every sample, a closed one must go, a session left idle in
# a transaction must show, and a role without pg_read_all_stats must
# still count them all.  scripts/test fetched the servers
# (PG_VERSION_DIRS, from need_pg_versions).
. "$(dirname "$0")/lib.sh"

[ -n "${PG_VERSION_DIRS:-}" ] || {
	fail "PG_VERSION_DIRS is not set (scripts/test's need_pg_versions)"
	done_testing
	exit 1
}

IDLE=12
# sessions APP N: N idle psql sessions named APP, their pids in SESSIONS.
sessions() {
	local i
	for i in $(seq "$2"); do
		sleep 60 | PGAPPNAME=$1 psql -Xq >/dev/null 2>&1 &
		SESSIONS+=("$!")
		T_PIDS+=("$!")
	done
}
count_is() { [ "$(psql_count true)" -eq "$1" ]; }

for native in $PG_VERSION_DIRS; do
	if ! start_version_cluster "$native"; then
		fail "PG $V_MAJOR: the server starts ($(tail -3 "$X_DIR/log" 2>/dev/null))"
		continue
	fi
	major=$V_MAJOR
	pass "PG $major: the server starts"
	export PGHOST=$X_DIR PGPORT=$X_PORT
	psql -Xqc "DROP ROLE IF EXISTS v_low; CREATE ROLE v_low LOGIN" >/dev/null 2>&1
	SESSIONS=()
	sessions v_idle "$IDLE"
	{
		printf 'BEGIN; SELECT 1;\n'
		sleep 60
	} | PGAPPNAME=v_tx psql -Xq >/dev/null 2>&1 &
	T_PIDS+=("$!")
	poll_until 10 count_is $((IDLE + 1))
	want=$(psql_count true)

	out=$(PGDRIP_DEBUG=attribution "$PGDRIP" --once --format json 2>"$T_TMP/err.$major")
	is "$(printf '%s' "$out" | jq '[.groups[].connections] | add')" "$want" \
		"PG $major: --once counts every session the server has"
	if [ "$(id -u)" -eq 0 ]; then
		# The backends' fds differ by version (14's statistics
		# socket, 18's I/O): the read-ahead finds every client.
		like "$(cat "$T_TMP/err.$major")" \
			"attribution: $want sessions traced, $want found; $want answered by the read-ahead" \
			"PG $major: ...each named to its process while the sample was taken"
	else
		like "$(cat "$T_TMP/err.$major")" "attribution: $want sessions traced" \
			"PG $major: ...each looked for (not root: the servers' fds are not ours)"
	fi
	is "$(printf '%s' "$out" | jq '[.groups[] | select(.application == "v_tx") | .states.idle_in_transaction] | add')" 1 \
		"PG $major: ...the one left idle in a transaction as such"

	# Unchanged idle sessions come as a list of pids once the first
	# samples are past the change margin; four close half-way.
	"$PGDRIP" --interval 200ms --duration 5s --format json \
		--record "$T_TMP/rec.$major.jsonl" >"$T_TMP/watch.$major.json" \
		2>>"$T_TMP/err.$major" &
	drip=$!
	sleep 3.5
	kill "${SESSIONS[@]:0:4}" 2>/dev/null
	wait "$drip"
	is "$?" 0 "PG $major: the watch run ends well ($(grep -v debug: "$T_TMP/err.$major" | head -c 200))"
	is "$(jq -c '.groups[] | select(.application == "v_idle") | [.minimum, .peak, .connections]' "$T_TMP/watch.$major.json")" \
		"[$((IDLE - 4)),$IDLE,$((IDLE - 4))]" \
		"PG $major: every unchanged session in every sample, the closed ones gone"
	is "$("$PGDRIP" --replay "$T_TMP/rec.$major.jsonl" --format json 2>/dev/null | jq -c '[.groups[] | [.application, .minimum, .peak, .connections]]')" \
		"$(jq -c '[.groups[] | [.application, .minimum, .peak, .connections]]' "$T_TMP/watch.$major.json")" \
		"PG $major: the record replays to the same counts"

	poll_until 10 count_is $((IDLE - 4 + 1))
	low=$(PGUSER=v_low "$PGDRIP" --once --format json 2>/dev/null |
		jq -c '[([.groups[].connections] | add), ([.groups[].states.unknown] | add)]')
	is "$low" "[$((IDLE - 4 + 1)),$((IDLE - 4 + 1))]" \
		"PG $major: without pg_read_all_stats every session counted, its state unknown"
	kill "${SESSIONS[@]}" 2>/dev/null
	as_cluster_user "'$V_BINDIR/pg_ctl' -D '$X_DIR/data' -m fast stop" >/dev/null 2>&1
done
done_testing
