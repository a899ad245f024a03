#!/usr/bin/env bash
# The files pgdrip writes (--output, --plot, --record).
#
# Links planted by another user in a shared sticky directory (/tmp) never
# lead pgdrip to write over or create a file: --output, --plot and
# --record refuse another user's link there (the kernel's
# protected_symlinks rule, applied by pgdrip itself), and any link that
# leads nowhere, with one line and exit 2; the user's own link keeps
# working.  Run as root (the attacker's links are given to "nobody"
# with chown -h), in a sticky directory of the test's own.
. "$(dirname "$0")/lib.sh"

is "$(id -u)" 0 "run as root (a second user's links are made with chown -h)"
other=nobody
shared=$(mktemp -d "$T_TMP/shared.XXXXXX")
chmod 1777 "$shared"
# A file of root's that the attacker points at.
printf 'root secret\n' >"$T_TMP/victim"
chmod 0600 "$T_TMP/victim"
victim_was=$(stat -c '%a %s' "$T_TMP/victim"):$(cat "$T_TMP/victim")
victim_now() { echo "$(stat -c '%a %s' "$T_TMP/victim"):$(cat "$T_TMP/victim")"; }

# plant NAME TARGET: a link of the other user in the shared directory.
plant() {
	ln -sfn "$2" "$shared/$1"
	chown -h "$other" "$shared/$1"
}

# refused DESC WANT_REGEX ARG...: exit 2 and one line matching.
refused() {
	local desc=$1 want=$2
	shift 2
	"$PGDRIP" --once "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	is "$?" 2 "$desc: exit 2"
	is "$(wc -l <"$T_TMP/err")" 1 "...with one line"
	like "$(cat "$T_TMP/err")" "$want" "...saying why"
}

plant x "$T_TMP/victim"
another="^pgdrip: refusing to write \"$shared/x\": it is a link of another user \\(uid $(id -u "$other")\\) in the sticky directory"
refused "-o through another user's link" "$another" -o "$shared/x"
is "$(victim_now)" "$victim_was" "...the file it points at is untouched (content and mode 0600)"
check "...the link is left as it was" test -L "$shared/x"
refused "--format json -o through it" "$another" --format json -o "$shared/x"
refused "--plot through it" "$another" -o /dev/null --plot "$shared/x"
is "$(victim_now)" "$victim_was" "...the file it points at is untouched"
refused "--record through it" "$another" -o /dev/null --record "$shared/x"
is "$(victim_now)" "$victim_was" "...the file it points at is untouched"

# A dangling link: nothing is created where it points, whoever owns it.
plant dangling "$T_TMP/created"
for opt in -o --plot --record; do
	refused "$opt through another user's dangling link" \
		"refusing to write \"$shared/dangling\"" $opt "$shared/dangling"
	check "...no file is created where it points" test ! -e "$T_TMP/created"
done
ln -s "$T_TMP/created-own" "$T_TMP/own-dangling"
for opt in -o --plot --record; do
	refused "$opt through the user's own dangling link" \
		"^pgdrip: refusing to write \"$T_TMP/own-dangling\": it is a link to \"$T_TMP/created-own\", which does not exist" \
		$opt "$T_TMP/own-dangling"
	check "...no file is created where it points" test ! -e "$T_TMP/created-own"
done

# A chain: the user's own link (in a private directory) to the planted one.
ln -s "$shared/x" "$T_TMP/mine"
refused "-o through the user's link to another's planted one" \
	"^pgdrip: refusing to write \"$T_TMP/mine\": it leads to \"$shared/x\", a link of another user" \
	-o "$T_TMP/mine"
is "$(victim_now)" "$victim_was" "...the file at the chain's end is untouched"

# The user's own link keeps working, in the shared directory too: the
# file it points at is replaced (atomically), the link stays a link.
printf 'old\n' >"$T_TMP/mine-target"
ln -s "$T_TMP/mine-target" "$shared/own"
"$PGDRIP" --once --format json -o "$shared/own" 2>"$T_TMP/err"
is "$?:$(cat "$T_TMP/err")" "0:" "-o through the user's own link in the sticky directory works"
check "...the report is in the file it points at" jq -e .server "$T_TMP/mine-target"
check "...and the link is still a link" test -L "$shared/own"
# A link of the directory's owner is followed too (the kernel's rule).
owned=$(mktemp -d "$T_TMP/owned.XXXXXX")
chmod 1777 "$owned"
chown "$other" "$owned"
ln -s "$T_TMP/mine-target" "$owned/link"
chown -h "$other" "$owned/link"
"$PGDRIP" --once -o "$owned/link" --plot "$T_TMP/plot.svg" 2>"$T_TMP/err"
is "$?:$(cat "$T_TMP/err")" "0:" "a link of the sticky directory's owner is followed"
like "$(cat "$T_TMP/mine-target")" "pgdrip once report" "...and the text report is written there"

# --record through the user's own link appends to the file it points at.
ln -s "$T_TMP/rec.jsonl" "$T_TMP/rec-link"
: >"$T_TMP/rec.jsonl"
"$PGDRIP" --once -o /dev/null --record "$T_TMP/rec-link" 2>"$T_TMP/err"
is "$?:$(cat "$T_TMP/err")" "0:" "--record through the user's own link works"
is "$(wc -l <"$T_TMP/rec.jsonl")" 1 "...a line is recorded in the file it points at"
# Standard output named through /dev/stdout (links of /proc's own).
"$PGDRIP" --once --format json -o /dev/stdout >"$T_TMP/stdout.json" 2>"$T_TMP/err"
is "$?:$(cat "$T_TMP/err")" "0:" "-o /dev/stdout still works"
check "...and writes the report there" jq -e .server "$T_TMP/stdout.json"


# --record holds other roles' query text: created 0600 whatever the umask.
(umask 022 && exec "$PGDRIP" --once -o /dev/null --record "$T_TMP/new.jsonl")
is "$?:$(stat -c %a "$T_TMP/new.jsonl")" "0:600" "--record creates its file 0600 (umask 022)"

# A FIFO nobody reads: said at once, never waited on (an open(2) of a
# FIFO without a reader blocks, deaf to SIGTERM).  pgdrip either ends or
# is seen blocked in the FIFO's open (wait_for_partner).
mkfifo "$T_TMP/fifo"
# ended_or_blocked PID: the process is gone or waits for a FIFO's reader;
# ended_or_blocked_not PID: it is not the latter.
ended_or_blocked() {
	! kill -0 "$1" 2>/dev/null ||
		grep -qx wait_for_partner "/proc/$1/wchan" 2>/dev/null
}
ended_or_blocked_not() {
	! grep -qx wait_for_partner "/proc/$1/wchan" 2>/dev/null
}
for opt in --record --plot; do
	"$PGDRIP" --once -o /dev/null $opt "$T_TMP/fifo" 2>"$T_TMP/err" &
	pid=$!
	T_PIDS+=("$pid")
	poll_until 120 ended_or_blocked "$pid"
	check "$opt on a FIFO without a reader does not wait for one" \
		ended_or_blocked_not "$pid"
	# Blocked in open(2), it would not hear SIGTERM.
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	is "$?" 2 "...exits 2"
	is "$(cat "$T_TMP/err")" \
		"pgdrip: cannot write \"$T_TMP/fifo\": no process reads this FIFO" \
		"...saying why in one line"
done
# With a reader (here the test holding the FIFO open), the lines stream.
exec 3<>"$T_TMP/fifo"
"$PGDRIP" --once -o /dev/null --record "$T_TMP/fifo" 2>"$T_TMP/err"
is "$?:$(cat "$T_TMP/err")" "0:" "--record to a FIFO with a reader works"
read -r line <&3
like "$line" '^\{"v":' "...and the reader gets the record's lines"
"$PGDRIP" --once --format json -o "$T_TMP/fifo" 2>"$T_TMP/err"
is "$?:$(cat "$T_TMP/err")" "0:" "-o to a FIFO with a reader works"
read -r line <&3
is "$line" "{" "...and the reader gets the report"
exec 3<&-

done_testing
