#!/usr/bin/env bash
# The bash, zsh and fish completions the build made from "pgdrip --help":
# each lists exactly the options --help lists, and each completes in its
# own shell (bash and fish driven directly, zsh through tmux).  -U
# completes the roles of the test cluster (PGHOST...), and nothing when
# no server answers.  PGDRIP names the binary; the completions are in the
# same build tree, under scripts/completions.
. "$(dirname "$0")/lib.sh"

COMPDIR=$(dirname "$PGDRIP")/../scripts/completions
GENERATE=$PGDRIP_ROOT/scripts/completions/generate
for tool in zsh fish tmux; do
	command -v "$tool" >/dev/null || fail "$tool is installed (scripts/test installs it)"
done
for f in pgdrip _pgdrip pgdrip.fish; do
	check "the build made $f" test -s "$COMPDIR/$f"
done

# The options of --help: "  -d, --dbname NAME" or "      --once ...".
help_options() {
	"$1" --help | grep -E '^  (-[A-Za-z], |    )--[a-z]' |
		grep -oE -- '(^  -[A-Za-z]|--[a-z][a-z0-9-]*)' |
		sed 's/^  //' | sort -u
}
want=$(help_options "$PGDRIP")
n=$(printf '%s\n' "$want" | grep -c .)
check "--help lists $n options" test "$n" -ge 40

# What each file offers, in its own syntax.
bash_options() {
	grep -oE 'compgen -W "[^"]* --"' "$1" | tail -1 | cut -d'"' -f2 |
		tr ' ' '\n' | grep -vx -- -- | sort -u
}
zsh_options() {
	grep -E "^	'\*'" "$1" | grep -oE -- '(\{-[A-Za-z]|--[a-z][a-z0-9-]*)' |
		sed 's/^{//' | sort -u
}
fish_options() {
	grep -E '^complete -c pgdrip -n __pgdrip_no_command' "$1" |
		grep -oE -- ' -(s [A-Za-z]|l [a-z][a-z0-9-]*)' |
		sed -E 's/^ -s /-/; s/^ -l /--/' | sort -u
}
is "$(bash_options "$COMPDIR/pgdrip")" "$want" "bash completes exactly the options of --help"
is "$(zsh_options "$COMPDIR/_pgdrip")" "$want" "zsh completes exactly the options of --help"
is "$(fish_options "$COMPDIR/pgdrip.fish")" "$want" "fish completes exactly the options of --help"
check "bash: the file parses" bash -n "$COMPDIR/pgdrip"
check "zsh: the file parses" zsh -n "$COMPDIR/_pgdrip"
check "fish: the file parses" fish -n "$COMPDIR/pgdrip.fish"

# A new option in the table is completed with no other change: the
# generator reads any --help of this shape.
cat >"$T_TMP/fakepgdrip" <<'EOF'
#!/bin/sh
cat <<'HELP'
Usage: pgdrip [OPTION]...

Output:
      --once                  take one sample
  -x, --brand-new FILE        a file, by its argument's name
      --colour never|always   two words
      --a-rather-long-option-name N
                              its help on the next line
HELP
EOF
chmod +x "$T_TMP/fakepgdrip"
for shell in bash zsh fish; do
	"$GENERATE" "$T_TMP/fakepgdrip" "$shell" >"$T_TMP/fake.$shell"
	check "$shell: generated from any --help" test -s "$T_TMP/fake.$shell"
done
is "$(bash_options "$T_TMP/fake.bash" | tr '\n' ' ')" "--a-rather-long-option-name --brand-new --colour --once -x " \
	"bash: a new option is completed as soon as --help lists it"
is "$(fish_options "$T_TMP/fake.fish" | tr '\n' ' ')" "--a-rather-long-option-name --brand-new --colour --once -x " \
	"fish: likewise"
like "$(cat "$T_TMP/fake.zsh")" "\\[its help on the next line\\]:N: " "zsh: a long option's help from the next line"

# bash, with bash-completion loaded as an interactive shell has it.
bash_complete() {
	bash -c '
		. /usr/share/bash-completion/bash_completion 2>/dev/null
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_pgdrip
		[ ${#COMPREPLY[@]} -eq 0 ] ||
			printf "%s\n" "${COMPREPLY[@]}" | sort -u | tr "\n" " "' \
		_ "$COMPDIR/pgdrip" "$@" 2>/dev/null
}
is "$(bash_complete pgdrip --for)" "--format " "bash: --for completes to --format"
is "$(bash_complete pgdrip --format "")" "json prometheus text " "bash: --format's values"
is "$(bash_complete pgdrip --group-by user,d)" "user,db " "bash: --group-by completes a comma list"
is "$(bash_complete pgdrip --group-by user,)" "user,app user,client user,db user,state " \
	"bash: ...each key once (no user,user)"
is "$(bash_complete pgdrip --group-by app,state,)" "app,state,client app,state,db app,state,user " \
	"bash: ...whatever the list holds"
sql "DROP ROLE IF EXISTS m_comp_role; CREATE ROLE m_comp_role LOGIN" >/dev/null
sql "DROP ROLE IF EXISTS m_comp_group; CREATE ROLE m_comp_group NOLOGIN" >/dev/null
is "$(bash_complete pgdrip -U m_comp)" "m_comp_role " "bash: -U completes the server's login roles"
is "$(bash_complete pgdrip -p "$PGPORT" --username m_comp)" "m_comp_role " \
	"bash: ...of the server -p names"
is "$(bash_complete pgdrip -h 127.0.0.1 -p 1 -U m_comp)" "" \
	"bash: ...and nothing when no server answers there"
mkdir -p "$T_TMP/dir" && : >"$T_TMP/dir/rec.jsonl"
is "$(bash_complete pgdrip --replay "$T_TMP/dir/r")" "$T_TMP/dir/rec.jsonl " "bash: --replay completes files"
is "$(bash_complete pgdrip --interval "")" "" "bash: a duration offers nothing"
is "$(bash_complete pgdrip --once -- pgdrip-nonesuch --onc)" "" "bash: not pgdrip's options after --"
like "$(bash_complete pgdrip --fail-on-growth -- ech)" "(^| )echo " "bash: after -- a command"

# fish, asked directly.
fish_complete() {
	fish -c 'source $argv[1]; complete -C $argv[2]' "$COMPDIR/pgdrip.fish" "$1" |
		cut -f1 | sort -u | tr '\n' ' '
}
is "$(fish_complete 'pgdrip --for')" "--format " "fish: --for completes to --format"
is "$(fish_complete 'pgdrip --format ')" "json prometheus text " "fish: --format's values"
is "$(fish_complete 'pgdrip --group-by user,d')" "user,db " "fish: --group-by completes a comma list"
is "$(fish_complete 'pgdrip -U m_comp')" "m_comp_role " "fish: -U completes the server's login roles"
is "$(PGPORT=1 PGHOST=127.0.0.1 fish_complete 'pgdrip -U m_comp')" "" \
	"fish: ...nothing when no server answers"
is "$(fish_complete "pgdrip --replay $T_TMP/dir/r")" "$T_TMP/dir/rec.jsonl " "fish: --replay completes files"
like "$(fish_complete 'pgdrip --once -- ech')" "(^| )echo " "fish: after -- a command"
like "$(fish_complete 'pgdrip --once -- ls --colo')" "--color" "fish: ...and its own options"
is "$(fish_complete 'pgdrip --once -- ls --onc')" "" "fish: not pgdrip's after --"

# zsh completes only at a prompt: drive one in tmux.
mkdir -p "$T_TMP/fpath"
cp "$COMPDIR/_pgdrip" "$T_TMP/fpath/"
sock=$T_TMP/tmux.sock
at_exit "tmux -S '$sock' kill-server"
tmux -S "$sock" new-session -d -x 120 -y 30 -s z \
	"env -i HOME='$T_TMP' TERM=xterm PATH=/usr/bin:/bin PGHOST='$PGHOST' \
	PGPORT='$PGPORT' PGUSER='$PGUSER' PGDATABASE='$PGDATABASE' zsh -f"
# zsh_pane: the screen, blank lines dropped, on one line.
zsh_pane() {
	tmux -S "$sock" capture-pane -p -t z | grep -v '^$' | tr -s ' ' | tr '\n' ' '
}
# zsh_complete KEYS PATTERN: types KEYS at a fresh prompt, then Tab, and
# prints the screen once PATTERN shows on it (or after 15 s, for the
# failure message).  A fixed sleep lost the race on a loaded CI machine:
# a file completion had not drawn in 0.5 s, and the next case's keys
# landed on the old line.
zsh_complete() {
	local i
	tmux -S "$sock" send-keys -t z C-u C-l
	for i in $(seq 150); do
		[ "$(zsh_pane)" = "% " ] && break
		sleep 0.1
	done
	tmux -S "$sock" send-keys -t z -l "$1"
	tmux -S "$sock" send-keys -t z Tab
	for i in $(seq 150); do
		zsh_pane | grep -Eq -- "$2" && break
		sleep 0.1
	done
	zsh_pane
}
tmux -S "$sock" send-keys -t z -l "fpath=($T_TMP/fpath \$fpath); autoload -Uz compinit; compinit -u -D; PS1='%% '"
tmux -S "$sock" send-keys -t z Enter
for i in $(seq 150); do
	[ "$(tmux -S "$sock" capture-pane -p -t z | grep -v '^$' | tail -n 1)" = "%" ] && break
	sleep 0.1
done
like "$(zsh_complete 'pgdrip --for' "% pgdrip --format=")" "% pgdrip --format=" "zsh: --for completes to --format="
like "$(zsh_complete 'pgdrip --format=' "json prometheus text")" "json prometheus text" "zsh: --format's values"
like "$(zsh_complete 'pgdrip --group-by user,' "app client db state")" "app client db state" "zsh: --group-by completes a comma list"
like "$(zsh_complete 'pgdrip -U m_comp' "m_comp_role")" "pgdrip -U m_comp_role" \
	"zsh: -U completes the server's login roles"
like "$(zsh_complete "pgdrip --replay $T_TMP/dir/r" "rec.jsonl")" "rec.jsonl" "zsh: --replay completes files"
like "$(zsh_complete 'pgdrip --once -- ech' "% pgdrip --once -- echo")" "% pgdrip --once -- echo" "zsh: after -- a command"
done_testing
