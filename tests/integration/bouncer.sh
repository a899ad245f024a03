# shellcheck shell=bash
# A real PgBouncer for the pooler tests (test_pooler*.sh), on top of the
# integration TAP helpers: Debian's pgbouncer in front of the test
# cluster, its config and auth file in T_TMP, stopped at exit.  A missing
# pgbouncer (or node, for the real clients) fails the test, never skips:
# need_packages installs them when run as root.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_packages "${CLIENT_PACKAGES[@]}"
BOUNCER_VERSION=$(pgbouncer --version | sed -n 's/^PgBouncer \([0-9.]*\).*/\1/p')
# PgBouncer refuses startup parameters it does not track, and lib.sh's
# PGOPTIONS is one ("unsupported startup parameter: options").
unset PGOPTIONS
# The server's user runs pgbouncer (it refuses root) and must reach its
# directory.
chmod 755 "$T_TMP"

# start_bouncer NAME MODE POOL_SIZE [SETTING = VALUE]...: a pgbouncer in
# T_TMP/NAME, in pool MODE with default_pool_size POOL_SIZE, on a free
# port of 127.0.0.1 and a unix socket in its directory; postgres is its
# admin.  Sets B_PORT, B_DIR, B_PID; NAME_PORT etc. are the caller's to
# keep.  Fails when it does not come up (within 2 minutes: a guard).
start_bouncer() {
	local name=$1 mode=$2 size=$3 setting i
	shift 3
	B_DIR=$T_TMP/$name
	B_PORT=$(free_port) || return 1
	mkdir -p "$B_DIR"
	printf '"%s" ""\n' postgres app_api >"$B_DIR/users.txt"
	{
		echo "[databases]"
		echo "postgres = host=$PGHOST port=$PGPORT dbname=postgres"
		echo "[pgbouncer]"
		echo "listen_addr = 127.0.0.1"
		echo "listen_port = $B_PORT"
		echo "unix_socket_dir = $B_DIR"
		echo "auth_type = trust"
		echo "auth_file = $B_DIR/users.txt"
		echo "pool_mode = $mode"
		echo "default_pool_size = $size"
		echo "max_client_conn = 100"
		echo "admin_users = postgres"
		echo "logfile = $B_DIR/pgbouncer.log"
		echo "pidfile = $B_DIR/pgbouncer.pid"
		for setting in "$@"; do
			echo "$setting"
		done
	} >"$B_DIR/pgbouncer.ini"
	[ -n "${CLUSTER_USER:-}" ] && chown -R "$CLUSTER_USER" "$B_DIR"
	as_cluster_user "pgbouncer -d '$B_DIR/pgbouncer.ini'" ||
		{ echo "# pgbouncer did not start: $(tail -3 "$B_DIR/pgbouncer.log")"; return 1; }
	# 2400 x 0.05 s only guard a hang: a loaded machine is slow.
	for i in $(seq 1 2400); do
		if [ -s "$B_DIR/pgbouncer.pid" ] &&
			(exec 3<>"/dev/tcp/127.0.0.1/$B_PORT") 2>/dev/null; then
			B_PID=$(cat "$B_DIR/pgbouncer.pid")
			at_exit "kill $B_PID"
			return 0
		fi
		sleep 0.05
	done
	echo "# pgbouncer did not listen: $(tail -3 "$B_DIR/pgbouncer.log")"
	return 1
}

# console PORT: the -d of a pgbouncer's admin console over TCP.
console() {
	echo "host=127.0.0.1 port=$1 dbname=pgbouncer user=postgres"
}

# through PORT: the -d of the test database through a pgbouncer.
through() {
	echo "host=127.0.0.1 port=$1 dbname=postgres user=postgres"
}

# show PORT COMMAND: a console command's rows, '|' between fields.
show() {
	psql -XAtq -F'|' -h 127.0.0.1 -p "$1" -U postgres -d pgbouncer -c "$2"
}

# show_column PORT COMMAND COLUMN: one column of a console command, by
# its name (the columns move between versions).
show_column() {
	psql -XAq -F'|' -P footer=off -h 127.0.0.1 -p "$1" -U postgres \
		-d pgbouncer -c "$2" | awk -F'|' -v want="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == want) col = i; next }
		col { print $col }'
}
