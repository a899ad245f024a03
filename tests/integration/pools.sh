# shellcheck shell=bash
# Helpers of the test_pools_* scripts (after lib.sh): services built and
# run beside a watch, and the verdicts read from its final report.

# go_offline DIR COMMAND...: COMMAND (go build, go test -c) in the Go
# package DIR, offline: GOPATH mode over Debian's /usr/share/gocode, no
# proxy; the build cache kept between runs (a cold build takes a minute
# here).
go_offline() {
	local src=$1 name
	shift
	name=pgdrip-$(basename "$src")
	mkdir -p "$T_TMP/gopath/src"
	ln -sfn "$src" "$T_TMP/gopath/src/$name"
	(cd "$T_TMP/gopath/src/$name" && GO111MODULE=off GOFLAGS= GOPROXY=off \
		GOPATH="$T_TMP/gopath:/usr/share/gocode" \
		GOCACHE="${XDG_CACHE_HOME:-$HOME/.cache}/pgdrip/go-build" "$@")
}

# The final report's group of an application: POOLS_FINAL names the
# report.
group_of() { printf '.groups[] | select(.application == "%s")' "$1"; }
field() { jq -r "$(group_of "$1") | $2" "$POOLS_FINAL"; }

# exhausted APP: seconds from the service's start to its first request
# that timed out (as the service printed it: "exhausted S").
exhausted() { awk '$1 == "exhausted" { print $2 }' "$T_TMP/$1.out"; }

# check_drained_late APP LEAKS: the service leaked LEAKS connections
# ("leak PID S" lines), was exhausted, and is flagged "stuck" at the
# plateau.
check_drained_late() {
	local app=$1 leaks=$2
	is "$(grep -c '^leak' "$T_TMP/$app.out")" "$leaks" "$app: the pool leaked all its $leaks members"
	check "$app: then requests timed out (from $(exhausted "$app") s)" \
		grep -q '^exhausted' "$T_TMP/$app.out"
	is "$(field "$app" .verdict.state)" stuck "$app: flagged at the plateau, 'stuck' (first at $(field "$app" .growth.first_flagged_s) s)"
}

# check_drained APP LEAKS: check_drained_late, and flagged before it was
# exhausted (the watch started first: its clock is ahead of the
# service's).
check_drained() {
	local app=$1
	check_drained_late "$@"
	check "$app: flagged before it was exhausted (flagged at $(field "$app" .growth.first_flagged_s) s of the watch, exhausted $(exhausted "$app") s into the service)" \
		jq -e "$(group_of "$app") | .growth.first_flagged_s != null and .growth.first_flagged_s < $(exhausted "$app")" "$POOLS_FINAL"
}

# watch_pools USERS SECONDS: a watch of USERS' sessions (a pattern) for
# SECONDS at 1 s, its record in $T_TMP/run.jsonl and its final report in
# POOLS_FINAL ($T_TMP/run.json); returns once it has sampled.  Sets
# pgdrip_pid (wait for it: the watch ends by itself).
watch_pools() {
	POOLS_FINAL=$T_TMP/run.json
	"$PGDRIP" --no-live --interval 1s --duration "$2s" --user "$1" \
		--record "$T_TMP/run.jsonl" --format json -o "$POOLS_FINAL" \
		2>"$T_TMP/pgdrip.err" &
	pgdrip_pid=$!
	T_PIDS+=("$pgdrip_pid")
	poll_until 30 test -s "$T_TMP/run.jsonl" || fail "pgdrip's first sample"
}
