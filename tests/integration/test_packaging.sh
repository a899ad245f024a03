#!/usr/bin/env bash
# What "meson install" puts where, and the two things a build may lack:
# without libmicrohttpd pgdrip builds and refuses --listen saying why;
# without scdoc meson setup stops with a message instead of installing
# no man page; scripts/package's Debian package (lintian, a fresh dpkg
# root, pgdrip --version and man pgdrip).  PGDRIP names the binary of
# the build tree to install.
. "$(dirname "$0")/lib.sh"

BUILD_DIR=$(cd "$(dirname "$PGDRIP")/.." && pwd)
DEST=$T_TMP/dest
meson install -C "$BUILD_DIR" --destdir "$DEST" >"$T_TMP/install.log" 2>&1
is "$?" 0 "meson install into a DESTDIR"
prefix=$(meson introspect --buildoptions "$BUILD_DIR" |
	jq -r '.[] | select(.name == "prefix") | .value')
datadir=$(meson introspect --buildoptions "$BUILD_DIR" |
	jq -r '.[] | select(.name == "datadir") | .value')
root=$DEST$prefix
for f in bin/pgdrip share/man/man1/pgdrip.1 \
	"$datadir/bash-completion/completions/pgdrip" \
	"$datadir/zsh/site-functions/_pgdrip" \
	"$datadir/fish/vendor_completions.d/pgdrip.fish" \
	"$datadir/doc/pgdrip/LICENSE" "$datadir/doc/pgdrip/NEWS"; do
	check "installs $f" test -s "$root/$f"
done
alerts=$datadir/pgdrip/pgdrip-alerts.yml
check "installs the alerting rules as $alerts" \
	cmp "$root/$alerts" "$PGDRIP_ROOT/scripts/pgdrip-alerts.yml"
# The page names the installed path, as scdoc wrote it (\& before dots).
like "$(sed 's/\\&//g' "$root/share/man/man1/pgdrip.1")" "$prefix/$alerts" \
	"the man page points to $prefix/$alerts"
check "the installed page is the built one" \
	cmp "$root/share/man/man1/pgdrip.1" "$BUILD_DIR/man/pgdrip.1"

like "$(head -1 "$PGDRIP_ROOT/LICENSE")" "^MIT License$" "LICENSE is MIT..."
like "$(grep -E "license:" "$PGDRIP_ROOT/meson.build")" "'MIT'" "...as meson.build says"
like "$(grep Copyright "$PGDRIP_ROOT/LICENSE")" "the pgdrip authors" "...copyright the pgdrip authors"
version=$("$PGDRIP" --version | cut -d' ' -f2)
like "$(cat "$PGDRIP_ROOT/NEWS")" "^$version " "NEWS has a section for $version"
like "$(head -8 "$PGDRIP_ROOT/NEWS")" "^Unreleased$" "...after the changes not yet released"

# A pkg-config search path with every module but libmicrohttpd.
pc_path_without "$T_TMP/pc" libmicrohttpd
PKG_CONFIG_LIBDIR=$T_TMP/pc meson setup "$T_TMP/nomhd" "$PGDRIP_ROOT" \
	>"$T_TMP/nomhd.log" 2>&1
is "$?" 0 "meson setup without libmicrohttpd"
like "$(cat "$T_TMP/nomhd.log")" "libmicrohttpd not found: --listen is left out" "...says --listen is left out"
ninja -C "$T_TMP/nomhd" src/pgdrip >>"$T_TMP/nomhd.log" 2>&1
is "$?" 0 "...and builds pgdrip"
NOMHD=$T_TMP/nomhd/src/pgdrip
if ldd "$NOMHD" | grep -q microhttpd; then
	fail "...not linked with libmicrohttpd"
else
	pass "...not linked with libmicrohttpd"
fi
"$NOMHD" --no-live --listen "127.0.0.1:$(free_port)" --duration 1s >"$T_TMP/out" 2>"$T_TMP/err"
is "$?" 2 "--listen without libmicrohttpd is a usage error"
is "$(head -1 "$T_TMP/err")" "pgdrip: --listen is not available: pgdrip was built without libmicrohttpd" \
	"...saying why"
like "$(sed -n 2p "$T_TMP/err")" "^pgdrip: hint: " "...with a hint"
check "...before any report" test ! -s "$T_TMP/out"
"$NOMHD" --once --format prometheus >"$T_TMP/prom.txt"
is "$?" 0 "the rest works: --once --format prometheus"
like "$(cat "$T_TMP/prom.txt")" "^pgdrip_up\{server=.*\} 1$" "...with its exposition"

# A PATH with every program but scdoc (/bin is /usr/bin on Debian).
mkdir -p "$T_TMP/bin"
for prog in /usr/bin/* /usr/local/bin/*; do
	[ -x "$prog" ] && [ "$(basename "$prog")" != scdoc ] &&
		ln -sf "$prog" "$T_TMP/bin/"
done
PATH=$T_TMP/bin meson setup "$T_TMP/noscdoc" "$PGDRIP_ROOT" >"$T_TMP/noscdoc.log" 2>&1
rc=$?
check "meson setup without scdoc fails (exit $rc)" test "$rc" -ne 0
like "$(cat "$T_TMP/noscdoc.log")" "ERROR: .*scdoc is needed to build the man page" \
	"...saying scdoc is needed"
# scripts/package: a Debian package from "meson install" that lintian
# passes, installed into a fresh dpkg root (this machine's own stays as
# it is), whose pgdrip runs and whose page man shows.
need_packages dpkg-dev:dpkg-shlibdeps lintian:lintian man-db:man
PGDRIP_PACKAGE_LINTIAN=1 "$PGDRIP_ROOT/scripts/package" "$T_TMP/pkg" \
	>"$T_TMP/pkg.out" 2>"$T_TMP/pkg.err"
is "$?" 0 "scripts/package builds a package, lintian included"
deb=$(tail -1 "$T_TMP/pkg.out")
like "$deb" "/pgdrip_${version}_$(dpkg --print-architecture)\.deb$" "...named pgdrip_VERSION_ARCH.deb"
check "...which is there" test -s "$deb"
lintian --tag-display-limit 0 "$deb" >"$T_TMP/lintian.out" 2>&1
is "$(grep -c '^E: ' "$T_TMP/lintian.out")" 0 "lintian reports no error"
is "$(grep -c '^W: ' "$T_TMP/lintian.out")" 0 "...nor warning"
is "$(dpkg-deb -f "$deb" Package Version Section | tr '\n' ' ')" \
	"Package: pgdrip Version: $version Section: database " "its control fields"
like "$(dpkg-deb -f "$deb" Depends)" "libpq5.*libtinfo6|libpq5" "...its libraries as dependencies (dpkg-shlibdeps)"
contents=$(dpkg-deb -c "$deb" | awk '{print $2, $6}')
for f in ./usr/bin/pgdrip ./usr/share/man/man1/pgdrip.1.gz \
	./usr/share/doc/pgdrip/copyright ./usr/share/doc/pgdrip/changelog.gz \
	./usr/share/bash-completion/completions/pgdrip \
	./usr/share/zsh/vendor-completions/_pgdrip \
	./usr/share/pgdrip/pgdrip-alerts.yml \
	./usr/share/pgdrip/runners/pgdrip_pytest.py; do
	like "$contents" "^root/root $f$" "the package holds $f, owned by root"
done
check "...and its binary is stripped" bash -c \
	"dpkg-deb --fsys-tarfile '$deb' | tar -xO ./usr/bin/pgdrip >'$T_TMP/pgdrip.bin' && ! readelf -S '$T_TMP/pgdrip.bin' | grep -q '\.symtab'"
apt-get -s install "$deb" >"$T_TMP/apt.out" 2>&1
like "$(cat "$T_TMP/apt.out")" "^Inst pgdrip \($version " "apt can install it here (its dependencies resolve)"
root=$T_TMP/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends -i "$deb" >"$T_TMP/dpkg.out" 2>&1
is "$?" 0 "dpkg installs it into a fresh root"
like "$(dpkg --root="$root" -s pgdrip)" "Status: install ok installed" "...where dpkg has it installed"
is "$("$root/usr/bin/pgdrip" --version)" "pgdrip $version" "the installed pgdrip --version"
like "$(MANPATH=$root/usr/share/man MANPAGER=cat man pgdrip 2>&1)" \
	"pgdrip - find PostgreSQL connection leaks" "man pgdrip shows its page"
dpkg --root="$root" --force-depends -r pgdrip >/dev/null 2>&1
check "...and it removes cleanly" test ! -e "$root/usr/bin/pgdrip"
done_testing
