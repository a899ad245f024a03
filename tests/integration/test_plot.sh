#!/usr/bin/env bash
# --plot FILE: a well-formed, self-contained SVG of the run in watch,
# replay, wrap, --once and --wait-drain modes; one series per group, the
# leak mark on the leaking group only, a role limit near the counts
# drawn, rsvg-convert renders it, hostile names stay escaped, and an
# unwritable path is a one-line usage error (exit 2) before the run.
. "$(dirname "$0")/lib.sh"

# xp FILE XPATH: the XPath result as text (counts, attribute values).
xp() {
	xmllint --xpath "$2" "$1" 2>/dev/null
}
series_groups() {
	xmllint --xpath '//*[@class="series"]/@data-group' "$1" 2>/dev/null |
		tr ' ' '\n' | grep -v '^$' | sort
}

like "$("$PGDRIP" --help)" '--plot FILE' "--help lists --plot"

# An unwritable path is known before any sampling.
"$PGDRIP" --once --plot "$T_TMP/no/such/dir/p.svg" >"$T_TMP/out" 2>"$T_TMP/err"
is "$?" 2 "an unwritable --plot path exits 2"
is "$(wc -l <"$T_TMP/err")" 1 "...with one line"
like "$(cat "$T_TMP/err")" '^pgdrip: cannot write ".*p.svg": No such file' "...naming the file"
is "$(wc -c <"$T_TMP/out")" 0 "...before any report"
"$PGDRIP" --once --plot "$T_TMP" >/dev/null 2>"$T_TMP/err"
is "$?" 2 "a directory as --plot exits 2"
# No sample at all: no picture, and no empty file left behind.
"$PGDRIP" --once -h "$T_TMP/no-server" --retry-for 100ms --plot "$T_TMP/none.svg" \
	>/dev/null 2>&1
is "$?" 3 "no server: exit 3"
check "...and no empty picture left" test ! -e "$T_TMP/none.svg"

sql "DROP ROLE IF EXISTS p_leak; CREATE ROLE p_leak LOGIN CONNECTION LIMIT 30;
	DROP ROLE IF EXISTS p_steady; CREATE ROLE p_steady LOGIN" >/dev/null
start_workload leak:p_leak:leaky:400 idle:p_steady:steady:3 idle-tx:p_steady:stuck:1 ||
	{ fail "workload"; done_testing; exit 1; }
svg=$T_TMP/run.svg
rec=$T_TMP/run.jsonl
"$PGDRIP" --duration 8s --interval 400ms --user 'p_*' --plot "$svg" --record "$rec" \
	--format json -o "$T_TMP/run.json" 2>"$T_TMP/err"
is "$?" 0 "watch with --plot and --record"
stop_workload "$WL_PID"
check "the SVG is well-formed (xmllint)" xmllint --noout "$svg"
groups=$(jq '.groups | length' "$T_TMP/run.json")
is "$(xp "$svg" 'count(//*[@class="series"])')" "$groups" "one series per group ($groups)"
is "$(xp "$svg" 'count(//*[@class="baseline"])')" "$groups" "one baseline per series"
is "$(xp "$svg" 'count(//*[@class="leak"])')" 1 "one leak mark"
is "$(xp "$svg" 'string(//*[@class="leak"]/@data-group)')" "p_leak/leaky" "...on the leaking group"
is "$(jq -r '[.groups[] | select(.growth.flagged) | .application] | join(",")' \
	"$T_TMP/run.json")" leaky "...as the report says"
like "$(xp "$svg" 'string(//*[@class="leak"])')" '^LEAK \+[0-9.]+/min' "...labelled with its slope"
like "$(xp "$svg" 'string(//*[@class="leak"])')" 'hits role p_leak limit 30 in ' "...and its forecast"
is "$(xp "$svg" 'string(//*[@data-group="p_leak/leaky"]/@data-flagged)')" true "the leaking series is flagged"
is "$(xp "$svg" 'count(//*[@class="series" and @data-flagged="true"])')" 1 "...and only it"
is "$(xp "$svg" 'count(//*[@class="limit" and @data-kind="role" and @data-limit="30"])')" 1 \
	"the role limit near the counts is drawn"
like "$(xp "$svg" 'string(//*[@class="notes"])')" 'server limit [0-9]+ \(off scale' \
	"the far server limit is a note"
is "$(xp "$svg" 'count(//*[@class="command"])')" 0 "no command markers outside wrap mode"
is "$(xp "$svg" 'count(//*[local-name()="script" or local-name()="image" or local-name()="style"])')" 0 \
	"no scripts, images or style sheets"
check "no external references" sh -c "! grep -qE 'href|url\\(|@import' '$svg'"
is "$(xp "$svg" 'string(/*/@viewBox)') $(xp "$svg" 'string(/*/@width)')x$(xp "$svg" 'string(/*/@height)')" \
	"0 0 960 540 960x540" "a fixed viewBox and size"

rsvg-convert -o "$T_TMP/run.png" "$svg" 2>"$T_TMP/err"
is "$?" 0 "rsvg-convert renders it"
like "$(file -b "$T_TMP/run.png")" '^PNG image data, 960 x 540' "...to a 960x540 PNG"
check "...that is not empty" test "$(wc -c <"$T_TMP/run.png")" -gt 5000

# A recording drawn later: the same series; twice: the same bytes.
"$PGDRIP" --replay "$rec" --user 'p_*' --plot "$T_TMP/replay.svg" >/dev/null
is "$?" 0 "--replay with --plot"
check "the replay's SVG is well-formed" xmllint --noout "$T_TMP/replay.svg"
is "$(series_groups "$T_TMP/replay.svg" | tr '\n' ' ')" "$(series_groups "$svg" | tr '\n' ' ')" \
	"...with the run's series"
is "$(xp "$T_TMP/replay.svg" 'string(//*[@class="leak"]/@data-group)')" "p_leak/leaky" \
	"...and its leak mark"
"$PGDRIP" --replay "$rec" --user 'p_*' --plot "$T_TMP/replay2.svg" >/dev/null
check "a replay draws the same bytes twice" cmp "$T_TMP/replay.svg" "$T_TMP/replay2.svg"

# Wrap mode: the command's start and end are marked.
"$PGDRIP" --interval 200ms --user 'p_*' --settle 1s --plot "$T_TMP/wrap.svg" -- \
	"$WORKLOAD" --hold 2 leak:p_leak:wrapped:250 >/dev/null 2>&1
check "wrap mode with --plot: well-formed" xmllint --noout "$T_TMP/wrap.svg"
is "$(xp "$T_TMP/wrap.svg" 'count(//*[@class="command"])')" 2 "the command's start and end are marked"
is "$(xp "$T_TMP/wrap.svg" 'count(//*[@class="command" and @data-at="start"])')" 1 "...one start"
like "$(xp "$T_TMP/wrap.svg" 'string(//*[@class="subtitle"][2])')" '^command: .*pgdrip-workload --hold 2' \
	"...and the command is named"
is "$(xp "$T_TMP/wrap.svg" 'string(//*[@class="series"]/@data-group)')" "p_leak/wrapped" \
	"the wrapped command's group is drawn"
"$PGDRIP" --plot "$T_TMP/sleep.svg" --user 'p_nobody' -- sh -c 'sleep 1' >/dev/null 2>&1
is "$?" 0 "a wrapped sleep with --plot"
is "$(xp "$T_TMP/sleep.svg" 'count(//*[@class="command"])')" 2 "...has both markers"
is "$(xp "$T_TMP/sleep.svg" 'count(//*[@class="series"])')" 0 "...and no series"

# One sample, and a drain: a picture all the same.
start_workload idle:p_steady:once:2 || fail "workload for --once"
"$PGDRIP" --once --user 'p_*' --plot "$T_TMP/once.svg" >/dev/null
is "$?" 0 "--once with --plot"
stop_workload "$WL_PID"
check "--once: well-formed" xmllint --noout "$T_TMP/once.svg"
is "$(xp "$T_TMP/once.svg" 'count(//*[@class="series"])')" 1 "...one series"
is "$(xp "$T_TMP/once.svg" 'count(//*[@class="series"]/*[local-name()="circle"])')" 1 "...drawn as a dot"
"$PGDRIP" --once --user 'p_*' -o /dev/null --plot /dev/stdout | cat >"$T_TMP/piped.svg"
is "${PIPESTATUS[0]}" 0 "--plot /dev/stdout into a pipe"
check "...writes a well-formed SVG" xmllint --noout "$T_TMP/piped.svg"
start_workload --hold 1 idle:p_steady:draining:2 || fail "workload for --wait-drain"
"$PGDRIP" --wait-drain 5s --interval 200ms --user 'p_*' --plot "$T_TMP/drain.svg" 2>/dev/null
is "$?" 0 "--wait-drain with --plot"
check "--wait-drain: well-formed" xmllint --noout "$T_TMP/drain.svg"
is "$(xp "$T_TMP/drain.svg" 'string(//*[@class="series"]/@data-group)')" "p_steady/draining" \
	"...the draining group is drawn"

# Hostile names: raw bytes in a SQL_ASCII database's catalog.
evil_role=$(printf 'r<&"\033]0;x\007\377]]>')
ascii_db p_ascii || fail "create the hostile database"
raw_role p_ascii "$evil_role" CONNECTION LIMIT 4 || fail "create the hostile role"
start_workload -d "dbname=p_ascii" "idle:$evil_role:<script>x&y:2" ||
	{ fail "workload with hostile names"; done_testing; exit 1; }
sleep 0.3
"$PGDRIP" --duration 1s --interval 200ms --db p_ascii --plot "$T_TMP/evil.svg" >/dev/null 2>&1
is "$?" 0 "hostile names with --plot"
stop_workload "$WL_PID"
check "...the SVG is well-formed" xmllint --noout "$T_TMP/evil.svg"
check "...and valid UTF-8" iconv -f UTF-8 -t UTF-8 "$T_TMP/evil.svg"
check "...without control bytes" sh -c "! LC_ALL=C grep -qP '[\\x00-\\x09\\x0b-\\x1f\\x7f]' '$T_TMP/evil.svg'"
check "...without a raw <script" sh -c "! grep -q '<script' '$T_TMP/evil.svg'"
like "$(cat "$T_TMP/evil.svg")" '&lt;script&gt;x&amp;y' "the application_name is escaped"
like "$(xp "$T_TMP/evil.svg" 'string(//*[@class="series"]/@data-group)')" '^r<&"\\e\]0;x\\x07\\xff\]\]>/<script>x&y$' \
	"...and reads back as sanitised text"
is "$(xp "$T_TMP/evil.svg" 'count(//*[@class="limit" and @data-kind="role"])')" 1 \
	"the hostile role's limit is drawn"
rsvg-convert -o "$T_TMP/evil.png" "$T_TMP/evil.svg" 2>/dev/null
is "$?" 0 "...and rsvg-convert renders it"
sql "DROP DATABASE IF EXISTS p_ascii" >/dev/null
done_testing
