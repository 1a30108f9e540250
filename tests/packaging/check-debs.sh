#!/bin/bash
# Build the Debian packages from a copy of the tree (build-debs.sh, into
# OUT) and check what each contains, lintian's and mandoc's verdicts and
# libcallmgr0's symbols file.  usage: check-debs.sh SOURCE_ROOT OUT
set -eu
src=$(cd "$1" && pwd)
out=$2
here=$(dirname "$0")
"$here/build-debs.sh" "$src" "$out" || exit $?
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo "$out/build.log" "$work/"
cd "$out/src/callmgr"

fail=0
# every installed file belongs to some package
if grep -q "dh_missing: warning" "$work/build.log"; then
	grep -A20 "dh_missing: warning" "$work/build.log"
	fail=1
fi
ver=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

# check PACKAGE PATH...: each PATH (a glob) must be in PACKAGE's files
check() {
	pkg=$1
	shift
	deb="$work/${pkg}_${ver}_${arch}.deb"
	if [ ! -f "$deb" ]; then
		echo "missing package $pkg"
		fail=1
		return
	fi
	root="$work/x-$pkg"
	rm -rf "$root"
	mkdir "$root"
	dpkg-deb -x "$deb" "$root"
	for p in "$@"; do
		# shellcheck disable=SC2086 # the pattern is meant to be globbed
		set -- $root/$p
		if [ ! -e "$1" ] && [ ! -L "$1" ]; then
			echo "$pkg: no $p"
			fail=1
		fi
	done
}

check callmgrd usr/sbin/callmgrd lib/systemd/system/callmgrd.service \
	lib/systemd/system/callmgrd.socket usr/lib/sysusers.d/callmgr.conf \
	usr/lib/tmpfiles.d/callmgr.conf etc/callmgr/callmgrd.conf \
	'usr/share/man/man8/callmgrd.8*' 'usr/share/man/man5/callmgrd.conf.5*'
check cmctl usr/sbin/cmctl usr/share/bash-completion/completions/cmctl \
	'usr/share/man/man8/cmctl.8*'
check libcallmgr0 "usr/lib/$multiarch/libcallmgr.so.0" "usr/lib/$multiarch/libcallmgr.so.0.*"
check libcallmgr-dev usr/include/callmgr/client.h "usr/lib/$multiarch/libcallmgr.so" \
	"usr/lib/$multiarch/pkgconfig/libcallmgr.pc" 'usr/share/man/man3/libcallmgr.3*'

# the soname link points at the real library, and the dev link at the soname
lib="$work/x-libcallmgr0/usr/lib/$multiarch"
if [ "$(readlink "$lib/libcallmgr.so.0")" != "$(basename "$(ls "$lib"/libcallmgr.so.0.*)")" ]; then
	echo "libcallmgr0: libcallmgr.so.0 does not point at the library"
	fail=1
fi
if [ "$(readlink "$work/x-libcallmgr-dev/usr/lib/$multiarch/libcallmgr.so")" != libcallmgr.so.0 ]; then
	echo "libcallmgr-dev: libcallmgr.so does not point at libcallmgr.so.0"
	fail=1
fi
soname=$(objdump -p "$lib"/libcallmgr.so.0.* | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libcallmgr.so.0 ] || { echo "soname is '$soname'"; fail=1; }
# the unit runs what the package installs
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$work/x-callmgrd/lib/systemd/system/callmgrd.service")
[ -x "$work/x-callmgrd$exe" ] || { echo "callmgrd.service runs $exe, not in the package"; fail=1; }
# the configuration file is a conffile, so local edits survive upgrades
dpkg-deb -e "$work/callmgrd_${ver}_${arch}.deb" "$work/ctl-callmgrd"
grep -qx /etc/callmgr/callmgrd.conf "$work/ctl-callmgrd/conffiles" ||
	{ echo "callmgrd.conf is not a conffile"; fail=1; }
# cmctl links against libcallmgr0 (cm_strerror), so it must depend on it
dpkg-deb -f "$work/cmctl_${ver}_${arch}.deb" Depends | grep -q libcallmgr0 ||
	{ echo "cmctl does not depend on libcallmgr0"; fail=1; }

# an application needs nothing but the packaged header and library: the
# example clients build against libcallmgr0 + libcallmgr-dev installed
# together in a fresh folder
app="$work/app-root"
mkdir "$app"
for pkg in libcallmgr0 libcallmgr-dev; do
	dpkg-deb -x "$work/${pkg}_${ver}_${arch}.deb" "$app" || fail=1
done
for ex in root leaf demo; do
	cc -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror -I"$app/usr/include" \
		"$src/examples/$ex.c" -o "$work/$ex" -L"$app/usr/lib/$multiarch" -lcallmgr \
		2>"$work/$ex.err" ||
		{ echo "examples/$ex.c does not build from the packages:"; cat "$work/$ex.err"; fail=1; }
done

# only the socket is enabled at installation; the service starts on demand
for script in postinst prerm postrm; do
	if grep -q "callmgrd\.service" "$work/ctl-callmgrd/$script" 2>/dev/null; then
		echo "callmgrd.$script acts on callmgrd.service:"
		grep -n "callmgrd\.service" "$work/ctl-callmgrd/$script"
		fail=1
	fi
	# each generated block once (a unit named twice repeats them)
	dups=$(grep -v '^#\|^$\|^fi$\|^\s*fi$\|^set -e$' "$work/ctl-callmgrd/$script" 2>/dev/null |
		sort | uniq -d | grep -c deb-systemd || true)
	[ "$dups" -eq 0 ] || { echo "callmgrd.$script repeats a deb-systemd block"; fail=1; }
done
grep -q "deb-systemd-helper enable 'callmgrd.socket'" "$work/ctl-callmgrd/postinst" ||
	{ echo "callmgrd.postinst does not enable callmgrd.socket"; fail=1; }

# libcallmgr0's symbols file is what the packaged library exports (the build
# enforces it too, with DPKG_GENSYMBOLS_CHECK_LEVEL=4 in debian/rules)
upstream=${ver%%-*}
"$src/packaging/gen-symbols.sh" "$lib"/libcallmgr.so.0.* "$upstream" \
	"$src/packaging/debian/libcallmgr0.symbols" >"$work/symbols.want"
if ! diff -u "$src/packaging/debian/libcallmgr0.symbols" "$work/symbols.want"; then
	echo "packaging/debian/libcallmgr0.symbols differs from the library's exports (diff above);"
	echo "regenerate it with packaging/gen-symbols.sh"
	fail=1
fi
dpkg-deb -e "$work/libcallmgr0_${ver}_${arch}.deb" "$work/ctl-libcallmgr0"
[ -f "$work/ctl-libcallmgr0/symbols" ] || { echo "libcallmgr0 has no symbols file"; fail=1; }

# lintian, pedantic: every tag is fixed or overridden with a comment why
# (packaging/debian/*.lintian-overrides)
if command -v lintian >/dev/null; then
	lintian --pedantic -I --tag-display-limit 0 "$work/callmgr_${ver}_${arch}.changes" \
		>"$work/lintian.out" 2>&1 || true
	if grep -E '^[EWIPX]: ' "$work/lintian.out"; then
		echo "lintian has the tags above"
		fail=1
	fi
else
	echo "no lintian: not checked"
	fail=1
fi
# mandoc: the installed man pages parse without a warning
if command -v mandoc >/dev/null; then
	for deb in "$work"/*.deb; do
		dpkg-deb -x "$deb" "$work/man-root"
	done
	mkdir "$work/man"
	for page in "$work"/man-root/usr/share/man/man*/*; do
		name=${page##*/}
		name=${name%.gz}
		zcat -f "$page" >"$work/man/$name"
		(cd "$work/man" && mandoc -T lint -W warning "$name") >"$work/mandoc.out" 2>&1 || true
		if [ -s "$work/mandoc.out" ]; then
			cat "$work/mandoc.out"
			fail=1
		fi
		# the version in the header is the project's
		grep -q "^\.TH .* \"callmgr $upstream\"" "$work/man/$name" ||
			{ echo "$name: .TH does not name callmgr $upstream"; fail=1; }
	done
else
	echo "no mandoc: not checked"
	fail=1
fi

[ "$fail" -eq 0 ] && echo "all packages as expected"
exit "$fail"
