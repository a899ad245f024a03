#!/usr/bin/env bash
# The man page documents every option --help lists, in its OPTIONS
# section, and has an EXIT STATUS section with every status.  No server
# needed.  PGDRIP names the binary; MANPAGE the built page (default: the
# build tree's man/pgdrip.1 next to src/pgdrip).
. "$(dirname "$0")/lib.sh"

MANPAGE=${MANPAGE:-$(dirname "$PGDRIP")/../man/pgdrip.1}
if [ ! -f "$MANPAGE" ]; then
	# The scripts install scdoc: no man page is a failure, not a skip.
	fail "a built man page at $MANPAGE (is scdoc installed?)"
	done_testing
	exit 1
fi

help=$("$PGDRIP" --help)
is "$?" 0 "--help exits 0"

# Option lines of the help are "  -d, --dbname NAME" or "      --once":
# take their long names, and their short ones apart.
long_opts=$(printf '%s\n' "$help" |
	grep -E '^  (-[A-Za-z], |    )--[a-z]' |
	grep -oE -- '--[a-z][a-z0-9-]*' | awk '!seen[$0]++')
short_opts=$(printf '%s\n' "$help" | grep -oE '^  -[A-Za-z],' |
	cut -c3-4)
n_long=$(printf '%s\n' "$long_opts" | grep -c .)
if [ "$n_long" -ge 30 ]; then
	pass "--help lists $n_long long options"
else
	fail "--help lists only $n_long long options: extraction broken?"
fi

# The page as roff, with escaped dashes made plain: scdoc writes options
# as bold text, \fB--once\fR, maybe as \fB\-\-once\fR elsewhere.
roff=$(sed 's/\\-/-/g' "$MANPAGE")
options=$(printf '%s\n' "$roff" | sed -n '/^\.SH OPTIONS/,/^\.SH /p')

# An option is documented when the OPTIONS section shows it in bold: its
# own entry, or one shared with siblings ("--app, --user, --db GLOB").
for opt in $long_opts; do
	if printf '%s\n' "$options" |
		grep -qE -- "\\\\fB([^\\\\]*[ ,])?$opt([ ,][^\\\\]*)?\\\\fR"; then
		pass "man documents $opt"
	else
		fail "man documents $opt"
	fi
done
for opt in $short_opts; do
	if printf '%s\n' "$options" | grep -qE -- "\\\\fB$opt, --"; then
		pass "man documents $opt"
	else
		fail "man documents $opt"
	fi
done

# And nothing the page documents is gone from the program.
for opt in $(printf '%s\n' "$options" |
	grep -oE -- '^\\fB--[a-z][a-z0-9-]*' | cut -c4- | sort -u); do
	if printf '%s\n' "$long_opts" | grep -qxF -- "$opt"; then
		pass "$opt in the man page is in --help"
	else
		fail "$opt in the man page is in --help"
	fi
done

exit_section=$(printf '%s\n' "$roff" | sed -n '/^\.SH EXIT STATUS/,/^\.SH /p')
like "$exit_section" "EXIT STATUS" "man page has an EXIT STATUS section"
for code in 0 1 2 3; do
	like "$exit_section" "^\\\\fB$code\\\\fR" "EXIT STATUS documents $code"
done
like "$exit_section" "wrap mode" "EXIT STATUS documents wrap mode"
for section in NAME SYNOPSIS DESCRIPTION OPTIONS "GROWTH DETECTION" \
	"JSON REPORT" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
	like "$roff" "^\\.SH $section\$" "man page has a $section section"
done
done_testing
