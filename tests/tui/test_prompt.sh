#!/usr/bin/env bash
# The password prompt, as psql's: on a terminal, when the server asks
# for a password, pgdrip asks once (echo off) and goes on; -W asks
# before connecting; -w never asks; with stdin not a terminal it never
# asks, and says how to give one.  A role of its own needs a password
# over TCP (scram-sha-256), every other role keeps the cluster's rules.
. "$(dirname "$0")/lib.sh"

trap 'tm kill-server 2>/dev/null; cleanup_tests' EXIT

ROLE=pw_prompt
SECRET='Pr0mpt-S3cret'
HBA=$(sql "SHOW hba_file")
sql "DROP ROLE IF EXISTS $ROLE" >/dev/null
sql "SET password_encryption = 'scram-sha-256'; CREATE ROLE $ROLE LOGIN PASSWORD '$SECRET'" >/dev/null
# First match wins: this line ahead of the cluster's own.
if ! grep -q "^host all $ROLE " "$HBA"; then
	{ echo "host all $ROLE 127.0.0.1/32 scram-sha-256"; cat "$HBA"; } >"$T_TMP/hba"
	cat "$T_TMP/hba" >"$HBA" # in place: the file keeps its owner
	sql "SELECT pg_reload_conf()" >/dev/null
fi
TARGET="host=127.0.0.1 port=$PGPORT dbname=postgres user=$ROLE"
# joined: the pane's text, scrollback included, wrapped lines joined.
joined() { tm capture-pane -p -J -S -2000 -t live; }

# pane COMMAND: a fresh tmux pane running it, then "EXIT=status"; a
# tmux server of its own each time (a new session on the server being
# killed could land on it as it dies).
panes=0
pane() {
	tm kill-server 2>/dev/null
	panes=$((panes + 1))
	SOCK="$T_TMP/tmux.$panes.sock"
	tm -f /dev/null new-session -d -s live -x 160 -y 40 \
		"env -u PGPASSWORD LANG=C.UTF-8 $1; echo EXIT=\$?; sleep 60"
}

pane "'$PGDRIP' --once -d '$TARGET'"
check "the server asks for a password: pgdrip prompts on the terminal" \
	wait_for "^Password for 127\.0\.0\.1:$PGPORT/postgres:" 10
tm send-keys -t live "$SECRET" Enter
check "...the typed password connects: the report follows" wait_in_scrollback "EXIT=0" 10
like "$(joined)" "^pgdrip once report, PostgreSQL .*, as $ROLE" "...and it is the report, as that role"
check "...the password was not echoed" bash -c "! tmux -S '$SOCK' capture-pane -p -J -S -2000 -t live | grep -q -- '$SECRET'"

pane "'$PGDRIP' --once -d '$TARGET'"
wait_for "^Password for" 10
tm send-keys -t live "wrong-one" Enter
check "a wrong password: exit 3" wait_in_scrollback "EXIT=3" 10
like "$(joined)" "password authentication failed for user \"$ROLE\"" "...saying why"
is "$(scrollback | grep -c '^Password for ')" 1 "...asked once, not again and again"

pane "'$PGDRIP' -W --once -h 127.0.0.1 -U postgres"
check "-W asks before connecting, even where none is needed" wait_for "^Password for" 10
tm send-keys -t live "anything" Enter
check "...and goes on" wait_in_scrollback "EXIT=0" 10

pane "'$PGDRIP' -w --once -d '$TARGET'"
check "-w never asks: exit 3" wait_in_scrollback "EXIT=3" 10
is "$(scrollback | grep -c '^Password for ')" 0 "...no prompt"
like "$(joined)" "no password supplied" "...libpq's reason said"

pane "'$PGDRIP' --once -d '$TARGET' </dev/null"
check "stdin not a terminal: no prompt, exit 3" wait_in_scrollback "EXIT=3" 10
is "$(scrollback | grep -c '^Password for ')" 0 "...never a prompt"

env -u PGPASSWORD PGPASSWORD="$SECRET" "$PGDRIP" --once -d "$TARGET" </dev/null >/dev/null 2>&1
is "$?" 0 "PGPASSWORD still works without a terminal"
done_testing
