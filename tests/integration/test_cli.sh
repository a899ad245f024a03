#!/usr/bin/env bash
# The command line: --help, --version, and every kind of bad input
# exiting 2 with one clear line (and a hint).
. "$(dirname "$0")/lib.sh"

out=$("$PGDRIP" --help)
is "$?" 0 "--help exits 0"
like "$out" "--once" "--help lists --once"
like "$out" "Exit status" "--help documents exit codes"
is "$("$PGDRIP" --version)" "pgdrip 0.1.0" "--version"

bad_cases=(
	"--frob"
	"--interval 10x"
	"--interval 50ms"
	"--interval"
	"--duration -5s"
	"--max-total -1"
	"--max-total abc"
	"--max-usage 150"
	"--max-growth 0"
	"--group-by user,foo"
	"--group-by user,user"
	"--app [abc"
	"--format xml"
	"--idle-tx-age 1e3"
	"--once --replay x"
	"stray"
	"--once --fail-on-growth"
	"--once --max-growth 5/min"
	"--once --duration 10s"
	"--max-leaked 0"
)
for args in "${bad_cases[@]}"; do
	# shellcheck disable=SC2086
	"$PGDRIP" $args >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	first=$(head -1 "$T_TMP/err")
	lines=$(grep -vc '^pgdrip: hint:' "$T_TMP/err")
	if [ "$rc" -eq 2 ] && [[ $first == "pgdrip: "* ]] && [ "$lines" -eq 1 ] &&
		[ ! -s "$T_TMP/out" ]; then
		pass "'$args' exits 2 with one line: $first"
	else
		fail "'$args': exit $rc, stderr: $(cat "$T_TMP/err")"
	fi
done
"$PGDRIP" --once -- ls >/dev/null 2>"$T_TMP/err"
is "$?" 2 "--once with a command is a usage error"
# A check one sample cannot evaluate is refused, naming the conflict,
# before anything connects.
"$PGDRIP" --once --fail-on-growth -h /nonexistent >/dev/null 2>"$T_TMP/err"
is "$?" 2 "--once --fail-on-growth is a usage error, not a pass"
is "$(head -1 "$T_TMP/err")" "pgdrip: --once and --fail-on-growth cannot be combined: one sample cannot show growth (the one-shot leak gate is --max-unused AGE)" \
	"...naming the conflict"
"$PGDRIP" --once --duration 10s >/dev/null 2>"$T_TMP/err"
like "$(cat "$T_TMP/err")" "--once and --duration cannot be combined" "--once --duration names the conflict"
"$PGDRIP" --max-total 1 --max-total 2 --help >/dev/null
is "$?" 0 "a repeated option keeps the last value"

if [ -f "${MANPAGE:-}" ]; then
	for opt in $("$PGDRIP" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		if grep -q -- "${opt//-/\\\\-}\|$opt" "$MANPAGE"; then
			pass "man page documents $opt"
		else
			fail "man page documents $opt"
		fi
	done
	check "man page has EXIT STATUS" grep -q "EXIT STATUS" "$MANPAGE"
fi
done_testing
