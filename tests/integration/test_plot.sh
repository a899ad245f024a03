#!/usr/bin/env bash
# --plot FILE: a well-formed, self-contained SVG of the run in watch,
# replay, wrap, --once and --wait-drain modes; one series per group, the
# leak mark on the leaking group only, where it was first flagged, its
# projection to the limit only while the run is live, idle-in-transaction
# and abandoned sessions drawn apart, a runner's leaking tests as
# numbered bands named in the legend, a role limit near the counts
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

# The leak's story: where it was first flagged (the report's moment, on
# its line), and, the run being live (the workload goes on after it),
# a projection to the role's limit of 30, its forecast.
is "$(xp "$svg" 'count(//*[@class="first-flagged"])')" 1 "one first-flagged mark"
is "$(xp "$svg" 'string(//*[@class="first-flagged"]/@data-group)')" "p_leak/leaky" \
	"...on the leaking group"
is "$(xp "$svg" 'string(//*[@class="first-flagged"]/@data-t)')" \
	"$(jq -r '.groups[] | select(.growth.flagged) | .growth.first_flagged_s' "$T_TMP/run.json")" \
	"...at the moment the report says"
like "$(xp "$svg" 'string(//*[@class="first-flagged"])')" '^flagged at [0-9.]+m?s$' "...and says when"
is "$(xp "$svg" 'count(//*[@class="projection"])')" 1 "a live leak is projected"
is "$(xp "$svg" 'string(//*[@class="projection"]/@data-limit)')" 30 "...to the role's limit"
like "$(xp "$svg" 'string(//*[@class="projection"])')" 'role p_leak limit 30 full in [0-9.]+m?s' "...saying when"
# Idle in transaction apart from idle: the stuck session's area.
is "$(xp "$svg" 'count(//*[@class="idle-tx"])')" 1 "one idle-in-transaction area"
is "$(xp "$svg" 'string(//*[@class="idle-tx"]/@data-group)')" "p_steady/stuck" "...the stuck group's"
is "$(xp "$svg" 'count(//*[@class="legend"]//*[text()="idle in transaction"])')" 1 \
	"...with its key in the legend"

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
# The command ended: nothing is projected past it, no "hits the limit
# in ..." for a run that is over, live or replayed; its abandoned
# sessions are drawn apart.
is "$(xp "$T_TMP/wrap.svg" 'count(//*[@class="projection"] | //*[@class="projected-region"])')" 0 \
	"an ended command's leak is not projected"
is "$(xp "$T_TMP/wrap.svg" 'count(//*[@class="leak"][contains(., "hits")])')" 0 \
	"...nor given a forecast"
is "$(xp "$T_TMP/wrap.svg" 'count(//*[@class="leak"])')" 1 "...though its leak is marked"
is "$(xp "$T_TMP/wrap.svg" 'string(//*[@class="abandoned"]/@data-group)')" "p_leak/wrapped" \
	"the wrapped command's abandoned sessions are drawn"
"$PGDRIP" --interval 200ms --user 'p_*' --settle 1s --record "$T_TMP/wrap.jsonl" -- \
	"$WORKLOAD" --hold 2 leak:p_leak:wrapped:250 >/dev/null 2>&1
"$PGDRIP" --replay "$T_TMP/wrap.jsonl" --user 'p_*' --plot "$T_TMP/wrap-replay.svg" >/dev/null 2>&1
is "$(xp "$T_TMP/wrap-replay.svg" 'count(//*[@class="leak"])')" 1 "the replay of an ended run marks its leak"
is "$(xp "$T_TMP/wrap-replay.svg" 'count(//*[@class="projection"] | //*[@class="leak"][contains(., "hits")])')" 0 \
	"...with no projection or forecast either"
"$PGDRIP" --plot "$T_TMP/sleep.svg" --user 'p_nobody' -- sh -c 'sleep 1' >/dev/null 2>&1
is "$?" 0 "a wrapped sleep with --plot"
is "$(xp "$T_TMP/sleep.svg" 'count(//*[@class="command"])')" 2 "...has both markers"
is "$(xp "$T_TMP/sleep.svg" 'count(//*[@class="series"])')" 0 "...and no series"

# A runner's tests: each leaking one a band of its own, numbered, named
# horizontally in the legend.  Tests 2, 3 and 4 leak back to back.
cat >"$T_TMP/test_plotsuite.py" <<'PY'
import time

import psycopg2
import pytest

_kept = []


@pytest.mark.parametrize("n", range(9))
def test_checkout_with_a_rather_long_name(n):
    conn = psycopg2.connect("", application_name="plot-suite")
    with conn.cursor() as cur:
        cur.execute("SELECT %s", (n,))
    conn.commit()
    if n in (2, 3, 4, 7):
        _kept.append(conn)
    else:
        conn.close()
    time.sleep(0.6)
PY
(cd "$T_TMP" && PGUSER=p_leak "$PGDRIP" --interval 200ms --settle 1s --app plot-suite \
	--format json -o "$T_TMP/suite.json" --plot "$T_TMP/suite.svg" -- \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider test_plotsuite.py >/dev/null 2>&1)
is "$?" 1 "a leaky pytest suite with --plot fails"
leaking=$(jq '.tests_summary.leaking' "$T_TMP/suite.json")
check "the suite's SVG is well-formed" xmllint --noout "$T_TMP/suite.svg"
is "$(xp "$T_TMP/suite.svg" 'count(//*[@class="test-leak"])')" "$leaking" \
	"a band per leaking test ($leaking)"
is "$(xp "$T_TMP/suite.svg" 'count(//*[@class="test-key"])')" "$leaking" "...and a legend line each"
# bands: each leaking test's band, key and name, and whether any two
# bands overlap or any text about the tests is turned.
python3 - "$T_TMP/suite.svg" >"$T_TMP/bands.txt" <<'PY'
import sys
import xml.etree.ElementTree as ET

ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
bands = [g for g in root.iter(ns + "g") if g.get("class") == "test-leak"]
keys = {g.get("data-n"): " ".join(t.text for t in g.findall(ns + "text"))
        for g in root.iter(ns + "g") if g.get("class") == "test-key"}
spans = []
for b in bands:
    r = b.find(ns + "rect")
    spans.append((float(r.get("x")), float(r.get("x")) + float(r.get("width"))))
    print("band", b.get("data-n"), b.get("data-test").split("::")[-1],
          "key:", keys.get(b.get("data-n"), "none").strip())
spans.sort()
print("overlaps", sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1] - 0.05))
print("numbers", " ".join(sorted(b.get("data-n") for b in bands)))
turned = [e for e in root.iter() if "rotate" in (e.get("transform") or "")
          and "connections" not in "".join(e.itertext())]
print("turned", len(turned))
PY
names=$(jq -r '[.tests[] | select(.leaked > 0) | .name | split("::")[1]] | join(" ")' "$T_TMP/suite.json")
bands=$(sed -n 's/^band [0-9]* \([^ ]*\) .*/\1/p' "$T_TMP/bands.txt" | tr '\n' ' ' | sed 's/ $//')
is "$bands" "$names" "...over the tests the report names"
like "$(cat "$T_TMP/bands.txt")" "band 2 test_checkout_with_a_rather_long_name\[3\] key: 2 …[a-z_]*_long_name\[3\] \+1" \
	"...each named by its number in the legend, horizontally"
is "$(sed -n 's/^numbers //p' "$T_TMP/bands.txt")" "$(seq -s ' ' 1 "$leaking")" "...numbered 1 to $leaking"
is "$(sed -n 's/^overlaps //p' "$T_TMP/bands.txt")" 0 "...and no two bands overlap (back-to-back tests stay apart)"
is "$(sed -n 's/^turned //p' "$T_TMP/bands.txt")" 0 "no names written vertically (only the axis title is turned)"
is "$(xp "$T_TMP/suite.svg" 'count(//*[@class="projection"] | //*[@class="leak"][contains(., "hits")])')" 0 \
	"a suite that ended gets no forecast"
rsvg-convert -o "$T_TMP/suite.png" "$T_TMP/suite.svg" 2>"$T_TMP/err"
is "$?" 0 "rsvg-convert renders the suite's picture"
like "$(file -b "$T_TMP/suite.png")" '^PNG image data, 960 x 540' "...to a 960x540 PNG"

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
