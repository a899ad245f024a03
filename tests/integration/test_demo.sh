#!/usr/bin/env bash
# scripts/demo end to end on a terminal (a tmux pane), shortened through
# its PGDRIP_DEMO_* settings: the live view opens, the leak is caught in
# its report and in the wrapped suite's, the port and directory asked for
# are used and cleaned, nothing stray is printed, and it installs only
# the build's packages.  Starts its own cluster, beside the tests' one.
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || fail "tmux is installed (scripts/test installs it)"
BUILD_DIR=$(cd "$(dirname "$PGDRIP")/.." && pwd)
demo_dir=$T_TMP/d
mkdir -p "$demo_dir"
# The demo's server runs as postgres when we are root: it must enter.
chmod 755 "$T_TMP" "$demo_dir"
# Not from free_port's range: other clusters (other test runs on this
# machine) take those first, and the demo binds its port seconds later;
# below the ephemeral range, which clients' connections take from.
port=
for _ in $(seq 1 50); do
	p=$((25000 + RANDOM % 5000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		port=$p
		break
	fi
done
[ -n "$port" ] || fail "a free port for the demo"
sock=$T_TMP/tmux.sock
at_exit "tmux -S '$sock' kill-server"
tmux -S "$sock" new-session -d -x 150 -y 45 -s demo \
	"PGDRIP_DEMO_PORT=$port PGDRIP_DEMO_DIR='$demo_dir' PGDRIP_DEMO_BUILD='$BUILD_DIR' \
	PGDRIP_DEMO_DURATION=8s PGDRIP_DEMO_WARMUP=3 bash '$PGDRIP_ROOT/scripts/demo'; \
	echo DEMO-EXIT=\$?; sleep 600"
tmux -S "$sock" set-option -t demo history-limit 5000 >/dev/null

screen() { tmux -S "$sock" capture-pane -p -t demo; }
live=
for _ in $(seq 1 600); do
	s=$(screen)
	if printf '%s\n' "$s" | grep -q '^pgdrip  .*PostgreSQL'; then
		live=$s
		# Let a few samples come in, then look again.
		sleep 4
		live=$(screen)
		break
	fi
	printf '%s\n' "$s" | grep -q 'DEMO-EXIT=' && break
	sleep 0.1
done
like "$live" "^pgdrip  .*:$port/postgres  PostgreSQL" "on a terminal the demo opens the live view, on PGDRIP_DEMO_PORT"
like "$live" "app_tests +leaky-tests " "...showing the leaking group"
for _ in $(seq 1 600); do
	screen | grep -q 'DEMO-EXIT=' && break
	sleep 0.1
done
out=$(tmux -S "$sock" capture-pane -p -S -5000 -t demo)
like "$out" "DEMO-EXIT=0" "the demo ends with status 0"
like "$out" "== pgdrip: the live view for 8s" "...after the live view for PGDRIP_DEMO_DURATION"
like "$out" "pgdrip live report" "...whose report follows it"
like "$out" "app_tests +leaky-tests .* LEAK" "...with the leak flagged"
like "$out" "app_tests/leaky-tests: [0-9]+ of its [0-9]+ open sessions unused for" "...said in sessions left unused"
like "$out" "growth \\+[0-9.]+/min .*exhausts role app_tests's limit of 40" \
	"...and its forecast"
like "$out" "app_tests +pytest-suite .* LEAK" "the wrapped suite's leak is caught"
like "$out" "the run, drawn: $demo_dir/pgdrip-demo.svg" "the picture goes to PGDRIP_DEMO_DIR"
check "...and is there" test -s "$demo_dir/pgdrip-demo.svg"
if printf '%s\n' "$out" | grep -qx 'ready'; then
	fail "no stray \"ready\" from the workload"
else
	pass "no stray \"ready\" from the workload"
fi
check "its cluster is gone" bash -c "! ls -d '$demo_dir'/pgdrip-cluster.* 2>/dev/null"
check "...and its port is free" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"

# It installs what the build takes, never the tests' tools.
demo_packages=$(bash -c '. "$1/scripts/lib/common.sh"; echo "${BUILD_PACKAGES[*]}"' _ "$PGDRIP_ROOT")
like "$(grep need_packages "$PGDRIP_ROOT/scripts/demo")" '^need_packages "\$\{BUILD_PACKAGES\[@\]\}"$' \
	"the demo asks only for the build's packages"
for pkg in prometheus libcmocka-dev valgrind tmux python3-pytest; do
	if [[ " $demo_packages " == *" $pkg:"* ]]; then
		fail "the demo does not install $pkg"
	else
		pass "the demo does not install $pkg"
	fi
done
# A fresh machine has no cmocka until scripts/test installs it: the
# demo's build must not need it.  A pkg-config search path with every
# module but cmocka, a new build directory, off a terminal.
pc_path_without "$T_TMP/pc" cmocka
check "the search path hides cmocka" \
	bash -c "! PKG_CONFIG_LIBDIR='$T_TMP/pc' pkg-config --exists cmocka"
PKG_CONFIG_LIBDIR=$T_TMP/pc PGDRIP_DEMO_DIR=$demo_dir \
	PGDRIP_DEMO_BUILD=$T_TMP/nocmocka PGDRIP_DEMO_DURATION=2s \
	PGDRIP_DEMO_WARMUP=2 bash "$PGDRIP_ROOT/scripts/demo" \
	>"$T_TMP/nocmocka.out" 2>&1 </dev/null
rc=$?
[ "$rc" -eq 0 ] || tail -40 "$T_TMP/nocmocka.out" | sed 's/^/# /'
is "$rc" 0 "without cmocka the demo builds and runs to its end"
like "$(cat "$T_TMP/nocmocka.out")" "app_tests +pytest-suite .* LEAK" \
	"...catching the wrapped suite's leak"
check "...with pgdrip built" test -x "$T_TMP/nocmocka/src/pgdrip"
check "...and no unit test" bash -c "! ls '$T_TMP/nocmocka/tests'/test_trend* 2>/dev/null"
# Its build directory's "meson test" does not pass with no unit tests.
meson test -C "$T_TMP/nocmocka" --suite unit >"$T_TMP/nocmocka.test" 2>&1
rc=$?
check "...where meson test's unit suite fails (exit $rc)" test "$rc" -ne 0
like "$(cat "$T_TMP/nocmocka/meson-logs/testlog.txt")" \
	"the unit tests need cmocka: apt-get install libcmocka-dev" \
	"...saying what to install"

# As a user, a missing package is named with the line that installs it.
mkdir -p "$T_TMP/bin"
for prog in /usr/bin/* /usr/local/bin/*; do
	[ -x "$prog" ] && [ "$(basename "$prog")" != scdoc ] &&
		ln -sf "$prog" "$T_TMP/bin/"
done
chmod 755 "$T_TMP/bin"
as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		su nobody -s /bin/bash -c "$1"
	else
		bash -c "$1"
	fi
}
as_user "PATH='$T_TMP/bin' PGDRIP_DEMO_BUILD='$T_TMP/nobody' \
	bash '$PGDRIP_ROOT/scripts/demo'" >"$T_TMP/user.out" 2>&1 </dev/null
rc=$?
check "as a user without scdoc the demo stops (exit $rc)" test "$rc" -ne 0
is "$(tail -1 "$T_TMP/user.out")" \
	"pgdrip: missing packages; run: sudo apt-get install -y scdoc" \
	"...saying exactly what to install"
done_testing
