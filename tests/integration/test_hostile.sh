#!/usr/bin/env bash
# Names and query text holding any byte a client can send: ESC sequences,
# BEL, CR/LF, invalid UTF-8, 63-byte names.  No raw control byte may
# reach text output, and JSON must stay valid UTF-8.
. "$(dirname "$0")/lib.sh"

# Role and database names are raw bytes in the catalog; a SQL_ASCII
# database lets any byte through.
evil_role=$(printf 'evil\033[2J\033]0;pwned\007role\r\n\377x')
long_role=$(printf 'r%.0s' $(seq 1 63))
ascii_db h_ascii || fail "create a SQL_ASCII database"
raw_role h_ascii "$evil_role" || fail "create a hostile role"
sql "DROP ROLE IF EXISTS $long_role; CREATE ROLE $long_role LOGIN" >/dev/null
app=$(printf 'app\033[31mred\007')
start_workload -d "dbname=h_ascii" "idle:$evil_role:$app:2" "idle-tx:$long_role:wide-名前:1" ||
	{ fail "workload with hostile names"; done_testing; exit 1; }
sleep 0.3

"$PGDRIP" --once --db h_ascii >"$T_TMP/r.txt" 2>"$T_TMP/err"
is "$?" 0 "--once with hostile names"
check "text has no control bytes" test -z "$(LC_ALL=C grep -P '[\x00-\x09\x0b-\x1f\x7f]' "$T_TMP/r.txt")"
like "$(cat "$T_TMP/r.txt")" 'evil\\e\[2J\\e\]0;pwned\\x07role\\r\\n' "the role name is shown escaped (and cut to fit)"
like "$(cat "$T_TMP/r.txt")" 'app\?\[31mred\?' "the server already masked the application_name"
LC_ALL=C "$PGDRIP" --once --db h_ascii >"$T_TMP/c.txt"
check "C locale: no byte above 0x7f either" test -z "$(LC_ALL=C grep -P '[\x80-\xff]' "$T_TMP/c.txt")"

"$PGDRIP" --once --db h_ascii --format json >"$T_TMP/r.json"
check "JSON with hostile names is valid" jq -e . "$T_TMP/r.json"
check "JSON is valid UTF-8" iconv -f UTF-8 -t UTF-8 "$T_TMP/r.json"
like "$(jq -r '.groups[].user' "$T_TMP/r.json")" 'evil.\[2J' "the ESC survives as data in JSON"
like "$(cat "$T_TMP/r.json")" 'evil\\u001b\[2J' "...escaped as \\u001b"
like "$(cat "$T_TMP/r.json")" 'n\\\\xffx' "the invalid byte is written as \\xff"
is "$(jq -r '.groups[] | select(.user | startswith("rrr")) | .user | length' "$T_TMP/r.json")" 63 "a 63-byte role name is kept whole"
"$PGDRIP" --once --db h_ascii --max-per-group 1 >/dev/null 2>"$T_TMP/err"
check "breach lines carry no control bytes" test -z "$(LC_ALL=C grep -P '[\x00-\x09\x0b-\x1f\x7f]' "$T_TMP/err")"
like "$(cat "$T_TMP/err")" 'group evil\\e\[2J\\e\]0;pwned\\x07role\\r\\n\\xffx/app' "breach line names the whole group, escaped"

# Two roles that differ, the byte 0xFF and the four characters \xff: a
# backslash is doubled in every output, so they never print alike, and a
# record keeps them apart.
byte_role=$(printf '\377')
text_role='\xff'
raw_role h_ascii "$byte_role" && raw_role h_ascii "$text_role" ||
	fail "create the look-alike roles"
start_workload -d "dbname=h_ascii" "idle:$byte_role:lookalike:1" \
	"idle:$text_role:lookalike:2" ||
	{ fail "workload with look-alike roles"; done_testing; exit 1; }
"$PGDRIP" --once --app lookalike >"$T_TMP/look.txt"
like "$(cat "$T_TMP/look.txt")" '^\\xff +lookalike +1 ' \
	"text: the byte 0xFF shows as \\xff"
like "$(cat "$T_TMP/look.txt")" '^\\\\xff +lookalike +2 ' \
	"...and the characters \\xff as \\\\xff"
"$PGDRIP" --once --app lookalike --format json >"$T_TMP/look.json"
is "$(jq -rc '[.groups[] | [.user, .connections]] | sort' "$T_TMP/look.json")" \
	'[["\\\\xff",2],["\\xff",1]]' "JSON: two groups, the backslash doubled in one"
"$PGDRIP" --once --app lookalike --format prometheus >"$T_TMP/look.prom"
is "$(grep '^pgdrip_group_connections{' "$T_TMP/look.prom" | sed 's/.*user="//; s/".* / /' | sort)" \
	"$(printf '%s\n' '\\\\xff 2' '\\xff 1')" \
	"Prometheus: two series, the backslash doubled in one"
is "$(grep -v '^#' "$T_TMP/look.prom" | sed 's/ [^ ]*$//' | sort | uniq -d)" "" \
	"...and no series twice"
"$PGDRIP" --duration 1s --interval 250ms --app lookalike --no-live \
	--record "$T_TMP/look.jsonl" >/dev/null
"$PGDRIP" --replay "$T_TMP/look.jsonl" --app lookalike --format json \
	>"$T_TMP/replay.json"
is "$(jq -rc '[.groups[] | [.user, .connections]] | sort' "$T_TMP/replay.json")" \
	'[["\\\\xff",2],["\\xff",1]]' "replay keeps them apart"
done_testing
