# shellcheck shell=bash
# TAP helpers for the integration tests.  Each test script sources this
# and ends with done_testing.  $PGDRIP and $WORKLOAD name the binaries.
#
# Each script runs against a cluster of its own, started here (a copy
# of scripts/test's template when there is one) and removed at exit, so
# that what one script leaves behind (roles, sessions, a stopped
# postmaster) never meets another running beside it; PGHOST, PGPORT,
# PGUSER, PGDATABASE and CLUSTER_DIR name it.  A script that needs other
# server settings sets T_CLUSTER_SETTINGS (an array of postgres -c
# options) before sourcing this.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

T_N=0
T_PIDS=()
T_TMP=$(mktemp -d /tmp/pgdrip-it.XXXXXX)
cluster_start ${T_CLUSTER_SETTINGS[@]+"${T_CLUSTER_SETTINGS[@]}"}
T_CLUSTER_DIR=$CLUSTER_DIR
export PGOPTIONS="-c client_min_messages=warning"

pass() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
fail() { T_N=$((T_N + 1)); echo "not ok $T_N - $*"; }

# check DESC COMMAND...: passes when the command succeeds (its output
# is discarded: it must not mix with the TAP stream).
check() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$desc"; else fail "$desc"; fi
}

# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3 (got '$1', want '$2')"
	fi
}

# like TEXT REGEX DESC
like() {
	if printf '%s' "$1" | grep -qE -- "$2"; then
		pass "$3"
	else
		fail "$3 ('$2' not in: $(printf '%s' "$1" | head -c 300))"
	fi
}

done_testing() {
	echo "1..$T_N"
}

T_CLEANUPS=()

# at_exit COMMAND: run at exit, after the test's processes are stopped
# (the last registered first).
at_exit() {
	T_CLEANUPS+=("$1")
}

cleanup_tests() {
	local pid i
	for pid in "${T_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${T_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUPS[$i]}" >/dev/null 2>&1 || true
	done
	if [ -n "${T_KEEP:-}" ]; then cp -r "$T_TMP" "$T_KEEP"; fi
	rm -rf "$T_TMP"
	# The script's own cluster, by its directory (a script may have
	# started another since: CLUSTER_DIR is not trusted here).
	CLUSTER_DIR=$T_CLUSTER_DIR cluster_stop
}
trap cleanup_tests EXIT

# start_group NAME COMMAND...: COMMAND in the background in a process
# group of its own (output in $T_TMP/NAME.out), killed whole at exit, so
# the children of a shell die with it.
start_group() {
	local name=$1 pid
	shift
	setsid "$@" >"$T_TMP/$name.out" 2>&1 &
	pid=$!
	at_exit "kill -TERM -- -$pid"
	T_PIDS+=("$pid")
}

# start_workload SPEC...: starts the workload helper and waits until its
# fixed sessions are open.  Sets WL_PID.
start_workload() {
	local out="$T_TMP/wl.$RANDOM" i
	"$WORKLOAD" "$@" >"$out" 2>"$out.err" &
	WL_PID=$!
	T_PIDS+=("$WL_PID")
	for i in $(seq 1 $((${WL_WAIT_S:-10} * 20))); do
		grep -q ready "$out" 2>/dev/null && return 0
		kill -0 "$WL_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "# workload did not start: $(cat "$out.err")"
	return 1
}

stop_workload() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# poll_until SECONDS COMMAND...: true once the command succeeds; the
# machine is shared and slow, so waits are polls, never fixed sleeps.
# SECONDS only guard against waiting forever: make them generous (a
# loaded machine is slow, never that slow); at expiry a TAP comment says
# what was waited for.
poll_until() {
	local limit=$1 end=$((SECONDS + $1))
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.3
	done
	echo "# gave up after ${limit}s waiting for: $*"
	return 1
}

# ended PID: the process is gone, or a zombie (a child not yet waited
# for, which kill -0 still finds).
ended() {
	local state
	kill -0 "$1" 2>/dev/null || return 0
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -z "$state" ] || [ "$state" = Z ]
}

# reap PID [SECONDS]: waits for the child PID to end and returns its
# status.  SECONDS (default 300) only guard against a hang, never time a
# test: past them the process group is killed, a TAP comment says so,
# and the status is 124.
reap() {
	if ! poll_until "${2:-300}" ended "$1"; then
		echo "# pid $1 still running after ${2:-300}s: killed"
		kill -KILL -- "-$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}

# stopped PID: the process is stopped (SIGSTOP).
stopped() {
	[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" = T ]
}

# pgdrip_seen [FILE]: waits until pgdrip's session is in (and FILE, a
# --record, has a sample), then sets PGDRIP_SESSIONS and PGDRIP_IDLE_TX
# from one look: its sessions, and those idle in a transaction.
pgdrip_seen() {
	PGDRIP_SESSIONS=0 PGDRIP_IDLE_TX=0
	poll_until 120 pgdrip_look "${1:-}"
}
pgdrip_look() {
	local seen
	[ -z "$1" ] || [ -s "$1" ] || return 1
	seen=$(psql -XAtq -c "SELECT count(*), count(*) FILTER (WHERE state LIKE 'idle in%')
		FROM pg_stat_activity WHERE application_name = 'pgdrip'")
	PGDRIP_SESSIONS=${seen%%|*} PGDRIP_IDLE_TX=${seen##*|}
	[ "$PGDRIP_SESSIONS" -ge 1 ]
}

# report_span JSON: the seconds from a report's first sample to its end,
# as pgdrip recorded them (whole seconds each: one second either way).
report_span() {
	jq -r '(.ended_at | fromdate) - (.started_at | fromdate)' "$1"
}

# listening PORT: something accepts on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# psql_count WHERE: client sessions matching, as the server counts them.
psql_count() {
	psql -XAtq -c "SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'client backend'
		AND application_name <> 'pgdrip' AND pid <> pg_backend_pid()
		AND ($1)"
}

# cluster_ctl ARGS...: pg_ctl on the test cluster, as the user it runs as.
# "restart" also starts a stopped cluster with its remembered options.
cluster_ctl() {
	local cmd="'$PG_BINDIR/pg_ctl' -D '$CLUSTER_DIR/data' -l '$CLUSTER_DIR/log' -w $*"
	if [ -n "${CLUSTER_USER:-}" ]; then
		su "$CLUSTER_USER" -s /bin/sh -c "$cmd" >/dev/null 2>&1
	else
		sh -c "$cmd" >/dev/null 2>&1
	fi
}

# start_extra_cluster [SETTING...]: a second throwaway cluster beside the
# main one (same binaries and user); SETTINGs are postgres -c options.
# Sets X_DIR and X_PORT; the cluster is removed at exit.
start_extra_cluster() {
	X_DIR=$(cluster_dir) || return 1
	at_exit "as_cluster_user \"'$PG_BINDIR/pg_ctl' -D '$X_DIR/data' -m immediate stop\"; rm -rf '$X_DIR'"
	cluster_init "$X_DIR" >/dev/null 2>&1 &&
		X_PORT=$(CLUSTER_PORT= cluster_launch "$X_DIR" "$@" 2>/dev/null)
}

# start_version_cluster NATIVE: start_extra_cluster on the PostgreSQL
# installed under NATIVE (one of PG_VERSION_DIRS, npm's
# embedded-postgres), run from a copy (the cache may sit where the
# server's user cannot reach: root's home; hard links where it can).
# Sets V_MAJOR and V_BINDIR besides X_DIR and X_PORT.
start_version_cluster() {
	local copy
	V_MAJOR=$("$1/bin/postgres" --version | awk '{print $3}' | cut -d. -f1)
	X_DIR=
	copy=$(cluster_dir) || return 1
	at_exit "rm -rf '$copy'"
	cp -al "$1" "$copy/native" 2>/dev/null || cp -a "$1" "$copy/native"
	V_BINDIR=$copy/native/bin
	PG_BINDIR=$V_BINDIR start_extra_cluster
}

# ascii_db NAME: a SQL_ASCII database, made anew: role and database
# names are raw bytes in the catalog, and this encoding lets any byte in.
ascii_db() {
	psql -XAtq -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
DROP DATABASE IF EXISTS $1;
CREATE DATABASE $1 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
SQL
}

# raw_role DB BYTES [OPTION...]: a login role named by exactly BYTES (ESC,
# invalid UTF-8...), made anew through DB, a SQL_ASCII database.
raw_role() {
	local db=$1 hex
	hex=$(printf '%s' "$2" | od -An -tx1 | tr -d ' \n')
	shift 2
	psql -XAtq -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$ DECLARE name text := convert_from(decode('$hex', 'hex'), 'SQL_ASCII');
BEGIN
  EXECUTE format('DROP ROLE IF EXISTS %I', name);
  EXECUTE format('CREATE ROLE %I LOGIN $*', name);
END \$\$;
SQL
}

sql() {
	psql -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# has_control_bytes FILE: any byte below 0x20 other than newline, or DEL.
has_control_bytes() {
	LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]' "$1"
}

# pc_path_without DIR MODULE: fills DIR with links to every pkg-config
# module but MODULE, for PKG_CONFIG_LIBDIR=DIR (a build that lacks it).
pc_path_without() {
	local dir pc
	mkdir -p "$1"
	for dir in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
		for pc in "$dir"/*.pc; do
			[ -f "$pc" ] && [ "$(basename "$pc")" != "$2.pc" ] &&
				ln -sf "$pc" "$1/"
		done
	done
}
