#!/usr/bin/env bash
# A chaos run (issue 24): pgdrip watching PostgreSQL 14, 15, 16, 17 and
# 18 at once for CHAOS_MINUTES (30) while the servers are restarted, their
# sessions terminated, the backend serving pgdrip and the postmaster
# stopped (SIGSTOP) for seconds, pgdrip itself stopped and sent signals
# that change nothing (USR1, USR2, WINCH),
# and one record written onto a disk that fills up.  Then, per server:
# the slots expected against the lines written (less the slots pgdrip
# spent stopped), corrupt lines, the replay's verdicts against the live
# run's, and pgdrip's memory a minute in and at the end.  Not part of a
# full scripts/test: run it by name, `scripts/test chaos`
# (CHAOS_MINUTES=2 for a short one).
. "$(dirname "$0")/../integration/lib.sh"

MINUTES=${CHAOS_MINUTES:-30}
RUN=$((MINUTES * 60))
INTERVAL_MS=500
[ -n "${PG_VERSION_DIRS:-}" ] || {
	fail "PG_VERSION_DIRS is not set (scripts/test's need_pg_versions)"
	done_testing
	exit 1
}

# ---- the servers: Debian's (this script's own cluster) and npm's ----

NAMES=()   # "15", "14", ...
HOSTS=()   # socket directories
PORTS=()
BINDIRS=()
DATAS=()
add_server() {
	NAMES+=("$1")
	HOSTS+=("$2")
	PORTS+=("$3")
	BINDIRS+=("$4")
	DATAS+=("$5")
}
add_server "$("$PG_BINDIR/postgres" --version | awk '{print $3}' | cut -d. -f1)" \
	"$PGHOST" "$PGPORT" "$PG_BINDIR" "$CLUSTER_DIR/data"
for native in $PG_VERSION_DIRS; do
	if ! start_version_cluster "$native"; then
		fail "PG $V_MAJOR: the server starts"
		continue
	fi
	add_server "$V_MAJOR" "$X_DIR" "$X_PORT" "$V_BINDIR" "$X_DIR/data"
done
N=${#NAMES[@]}
is "$N" 5 "five servers: PostgreSQL ${NAMES[*]}"

# on K SQL: SQL on server K.
on() { PGHOST=${HOSTS[$1]} PGPORT=${PORTS[$1]} psql -XAtq -d postgres -c "$2"; }

# workload K: the helper's kinds on server K (again after a restart,
# which ends its sessions), in the background.
WLS=()
workload() {
	PGHOST=${HOSTS[$1]} PGPORT=${PORTS[$1]} "$WORKLOAD" \
		idle:c_app:steady:3 leak:c_app:leaky:4000:60 idle-tx:c_app:stuck:1 \
		churn:c_app:cron:700 >/dev/null 2>&1 &
	WLS[$1]=$!
	T_PIDS+=("$!")
}

# The disk that fills up: a 256 KiB tmpfs for the last server's record
# (root only; else the record goes beside the others and that is said).
SMALL=$T_TMP/small
mkdir -p "$SMALL"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=256k tmpfs "$SMALL" 2>/dev/null; then
	at_exit "umount '$SMALL'"
	full_disk="the last server's record on a 256 KiB disk"
else
	full_disk="no small disk (not root, or no tmpfs)"
fi
echo "# $full_disk"

DRIPS=()
RECORDS=()
for k in $(seq 0 $((N - 1))); do
	on "$k" "DROP ROLE IF EXISTS c_app; CREATE ROLE c_app LOGIN" >/dev/null 2>&1
	workload "$k"
	rec=$T_TMP/rec.${NAMES[$k]}.jsonl
	[ "$k" -eq $((N - 1)) ] && [ "$full_disk" != "${full_disk#the}" ] &&
		rec=$SMALL/rec.${NAMES[$k]}.jsonl
	RECORDS[$k]=$rec
	"$PGDRIP" --no-live --interval ${INTERVAL_MS}ms --duration ${RUN}s \
		--record "$rec" --format json -o "$T_TMP/live.${NAMES[$k]}.json" \
		-d "host=${HOSTS[$k]} port=${PORTS[$k]} dbname=postgres" \
		2>"$T_TMP/err.${NAMES[$k]}" &
	DRIPS[$k]=$!
	T_PIDS+=("$!")
done
STARTED=$SECONDS

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# ---- the chaos ----

STOPPED_S=() # seconds each pgdrip spent stopped
ACTIONS=()
RSS_START=()
for k in $(seq 0 $((N - 1))); do STOPPED_S[$k]=0; done
# pause PID S: PID stopped for S seconds (nothing when PID is empty).
pause() {
	[ -n "$1" ] || return 0
	kill -STOP "$1" 2>/dev/null
	sleep "$2"
	kill -CONT "$1" 2>/dev/null
}
act() { ACTIONS+=("$(($SECONDS - STARTED))s PG ${NAMES[$1]}: $2"); }
while [ $((SECONDS - STARTED)) -lt $((RUN - 40)) ]; do
	if [ ${#RSS_START[@]} -eq 0 ] && [ $((SECONDS - STARTED)) -ge 60 ]; then
		for k in $(seq 0 $((N - 1))); do RSS_START[$k]=$(rss_kib "${DRIPS[$k]}"); done
	fi
	sleep $((10 + RANDOM % 15))
	k=$((RANDOM % N))
	case $((RANDOM % 7)) in
	0)
		act "$k" "restart (fast)"
		as_cluster_user "'${BINDIRS[$k]}/pg_ctl' -D '${DATAS[$k]}' -m fast -w restart" >/dev/null 2>&1
		workload "$k"
		;;
	1)
		act "$k" "every client session terminated"
		on "$k" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()" >/dev/null 2>&1
		workload "$k"
		;;
	2)
		pid=$(on "$k" "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgdrip' LIMIT 1" 2>/dev/null)
		s=$((3 + RANDOM % 8))
		act "$k" "pgdrip's backend $pid stopped ${s}s"
		pause "$pid" "$s"
		;;
	3)
		pm=$(head -1 "${DATAS[$k]}/postmaster.pid" 2>/dev/null)
		s=$((3 + RANDOM % 5))
		act "$k" "postmaster $pm stopped ${s}s"
		pause "$pm" "$s"
		;;
	4)
		s=$((3 + RANDOM % 10))
		act "$k" "pgdrip stopped ${s}s"
		pause "${DRIPS[$k]}" "$s"
		STOPPED_S[$k]=$((STOPPED_S[$k] + s))
		;;
	5)
		# Signals that change nothing (SIGHUP, as SIGINT and
		# SIGTERM, ends the watch with its report).
		sig=$(printf 'USR1\nWINCH\nUSR2\n' | shuf -n 1)
		act "$k" "SIG$sig to pgdrip"
		kill "-$sig" "${DRIPS[$k]}" 2>/dev/null
		;;
	6)
		act "$k" "the workload ended (its sessions closed)"
		kill "${WLS[$k]}" 2>/dev/null
		wait "${WLS[$k]}" 2>/dev/null
		workload "$k"
		;;
	esac
done
for k in $(seq 0 $((N - 1))); do
	[ -n "${RSS_START[$k]:-}" ] || RSS_START[$k]=$(rss_kib "${DRIPS[$k]}")
done
# The last RSS before --duration ends them.
while [ $((SECONDS - STARTED)) -lt $((RUN - 5)) ]; do sleep 1; done
RSS_END=()
for k in $(seq 0 $((N - 1))); do RSS_END[$k]=$(rss_kib "${DRIPS[$k]}"); done
printf '# %s\n' "${ACTIONS[@]}"

# ---- what it left ----

for k in $(seq 0 $((N - 1))); do
	v=${NAMES[$k]}
	wait "${DRIPS[$k]}"
	rc=$?
	rec=${RECORDS[$k]}
	lines=$(wc -l <"$rec")
	corrupt=$(while IFS= read -r line; do
		printf '%s\n' "$line" | jq -e . >/dev/null 2>&1 || echo x
	done <"$rec" | wc -l)
	slots=$((RUN * 1000 / INTERVAL_MS))
	awake=$(((RUN - STOPPED_S[$k]) * 1000 / INTERVAL_MS))
	if [ "$rec" != "${rec#"$SMALL"}" ]; then
		if grep -qi "no space" "$T_TMP/err.$v"; then
			pass "PG $v: the record's disk filled after $lines lines: pgdrip said so ($(grep -i -m1 "no space" "$T_TMP/err.$v" | cut -c1-120)), exit $rc"
		else
			is "$rc" 0 "PG $v: the record ($lines lines, $(du -k "$rec" | cut -f1) KiB) did not fill its 256 KiB disk: the watch ends with --duration"
		fi
		is "$corrupt" 0 "PG $v: ...the $lines lines written are whole JSON"
		continue
	fi
	is "$rc" 0 "PG $v: the watch ends with --duration"
	is "$corrupt" 0 "PG $v: no corrupt line of $lines"
	check "PG $v: a line for (nearly) every slot: $lines lines, $slots slots, $awake while pgdrip was not stopped" \
		test "$lines" -ge $((awake * 97 / 100))
	"$PGDRIP" --replay "$rec" --format json >"$T_TMP/replay.$v.json" 2>/dev/null
	verdicts='[.groups[] | {user, application, state: .verdict.state}] | sort_by(.application)'
	is "$(jq -c "$verdicts" "$T_TMP/replay.$v.json")" "$(jq -c "$verdicts" "$T_TMP/live.$v.json")" \
		"PG $v: the replay reaches the live run's verdicts"
	check "PG $v: memory flat: ${RSS_START[$k]} KiB a minute in, ${RSS_END[$k]} KiB at the end" \
		test "${RSS_END[$k]:-0}" -le $((RSS_START[$k] * 3 / 2 + 2048))
done
done_testing
