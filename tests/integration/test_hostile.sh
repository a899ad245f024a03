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
done_testing
