#!/usr/bin/env bash
# Runs each libFuzzer target for FUZZ_SECONDS (default 20) from a copy of
# its corpus; one TAP case per target.  FUZZ_BUILD is a clang build dir.
set -u
seconds=${FUZZ_SECONDS:-20}
corpus_root=$(cd "$(dirname "$0")" && pwd)/corpus
n=0
echo "1..9"
for name in units text json record plot prom mask clientfacts session; do
	n=$((n + 1))
	work=$(mktemp -d)
	cp "$corpus_root/$name/"* "$work/"
	if (cd "$work" && "$FUZZ_BUILD/tests/fuzz_$name" -max_total_time="$seconds" \
		-max_len=65536 -print_final_stats=1 . >"$work/log" 2>&1); then
		runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$work/log" | grep -oE '[0-9]+$')
		echo "ok $n - fuzz_$name: ${runs:-?} runs in ${seconds}s, no crash"
	else
		echo "not ok $n - fuzz_$name found a crash:"
		grep -E 'ERROR|SUMMARY|Test unit written' "$work/log" | sed 's/^/# /'
	fi
	rm -rf "$work"
done
