#!/usr/bin/env bash
# --settle waits for the wrapped command's own sessions (its process
# tree's) to close, not for the group to return to its baseline count:
# a neighbour closing sessions of the same role and application while
# the command's last child still holds one must not end the wait (that
# child's session was then "left behind", exit 1), and a neighbour
# holding sessions open must not make pgdrip wait out the whole --settle.
. "$(dirname "$0")/lib.sh"

need_packages "${CLIENT_PACKAGES[@]}" >&2
sql "DROP ROLE IF EXISTS ps_settle; CREATE ROLE ps_settle LOGIN" >/dev/null
export PGUSER=ps_settle PGAPPNAME=ps-settle

# The neighbour: 3 sessions held; once FILE exists it closes CLOSE of
# them and opens OPEN more, and holds what it has.
cat >"$T_TMP/neighbour.py" <<'PY'
import os, sys, time
import psycopg2
close, more, trigger, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def connect():
    c = psycopg2.connect("")
    c.autocommit = True
    c.cursor().execute("SELECT 1")
    return c
conns = [connect() for _ in range(3)]
open(ready, "w").close()
while not os.path.exists(trigger):
    time.sleep(0.05)
for c in conns[:close]:
    c.close()
conns += [connect() for _ in range(more)]
time.sleep(3600)
PY
# The wrapped command's child: outlives the command, holds one session
# (used), tells the neighbour to act, holds it HOLD s more, closes it.
cat >"$T_TMP/child.py" <<'PY'
import sys, time
import psycopg2
ready, trigger, hold = sys.argv[1], sys.argv[2], float(sys.argv[3])
c = psycopg2.connect("")
c.autocommit = True
c.cursor().execute("SELECT 1")
open(ready, "w").close()
open(trigger, "w").close()
time.sleep(hold)
c.close()
PY

# run NAME CLOSES OPENS HOLD_S SETTLE: the neighbour holds 3 sessions
# (then closes and opens as told); the command starts the child, waits
# until its session is open, and exits 1.5 s later (pgdrip has sampled
# it by then: a session first seen once its holder left the command's
# tree is not the command's).
run() {
	local name=$1 closes=$2 opens=$3 hold=$4 settle=$5
	rm -f "$T_TMP/$name".*
	start_group "n-$name" /usr/bin/python3 "$T_TMP/neighbour.py" "$closes" "$opens" \
		"$T_TMP/$name.trigger" "$T_TMP/$name.nready"
	poll_until 60 test -e "$T_TMP/$name.nready" || fail "the neighbour started"
	"$PGDRIP" --interval 250ms --settle "$settle" --app ps-settle \
		--format json -o "$T_TMP/$name.json" -- sh -c "
		setsid /usr/bin/python3 '$T_TMP/child.py' '$T_TMP/$name.ready' \
			'$T_TMP/$name.trigger' $hold &
		while [ ! -e '$T_TMP/$name.ready' ]; do sleep 0.05; done
		sleep 1.5" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	rc=$?
}

# The neighbour closes 2 of its 3 before the command exits, while the
# command's child holds its session 4 s: the group is below its
# baseline at once, yet the command's session is open.
run closing 2 0 4 30s
is "$rc" 0 "a neighbour closing sessions: exit 0"
is "$(jq '[.groups[] | .connections] | add' "$T_TMP/closing.json")" 1 \
	"...--settle waited for the command's child to close its session: only the neighbour's last one is left"
is "$(jq -r '[.groups[] | .verdict.abandoned] | add' "$T_TMP/closing.json")" 0 \
	"...and none of its sessions is called abandoned"

# The neighbour opens 2 more before the command ends and holds them;
# the child closes its session after a second: the group stays above its
# baseline, yet the command's sessions are all closed, so pgdrip ends
# long before a 60 s --settle (timed by its own report), and the
# neighbour's sessions are no leak of the command's.
run holding 0 2 1 60s
is "$rc" 0 "a neighbour opening sessions as the command ends: exit 0"
check "...--settle ended once the command's sessions closed, not at its 60 s limit ($(jq '(.ended_at | fromdateiso8601) - (.started_at | fromdateiso8601)' "$T_TMP/holding.json" 2>/dev/null) s)" \
	jq -e '(.ended_at | fromdateiso8601) - (.started_at | fromdateiso8601) < 50' "$T_TMP/holding.json"
done_testing
