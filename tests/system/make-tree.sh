#!/bin/sh
# Make (once) the minimal Debian 12 tree the system suite boots, under
# $CALLMGR_TEST_CACHE (default /var/cache/callmgr-test).  It holds systemd
# as init, iproute2 and the run-time libraries of the packages, so the .debs
# install offline; the tests never write to it (they boot an overlay).
# Prints the tree's path.  Exit 77: cannot be made here.
# usage: make-tree.sh
set -eu
cache=${CALLMGR_TEST_CACHE:-/var/cache/callmgr-test}
tree=$cache/bookworm
# Bump when the package list changes, so an old tree is rebuilt.
stamp=v1
if [ -f "$tree/.callmgr-tree-$stamp" ]; then
	echo "$tree"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "not root: cannot debootstrap" >&2; exit 77; }
command -v debootstrap >/dev/null || { echo "no debootstrap" >&2; exit 77; }

# one debootstrap at a time; a second caller waits, then finds the tree
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -f "$tree/.callmgr-tree-$stamp" ]; then
	echo "$tree"
	exit 0
fi

# The Debian archive apt already uses (deb822 or one-line sources).
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
	awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' |
	grep -m1 '/debian/*$' || true)
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' || true)
fi
[ -n "$mirror" ] || { echo "no Debian bookworm archive in apt's sources" >&2; exit 77; }

pkgs=systemd,systemd-sysv,dbus,iproute2,libevent-2.1-7,libprotobuf-c1,libjson-c5,libinih1,libsystemd0,procps
rm -rf "$tree.new"
if ! debootstrap --variant=minbase --include="$pkgs" bookworm "$tree.new" "$mirror" \
	>"$cache/debootstrap.log" 2>&1; then
	tail -n 20 "$cache/debootstrap.log" >&2
	rm -rf "$tree.new"
	echo "debootstrap from $mirror failed" >&2
	exit 77
fi
# Keep the cache small: nothing downloaded, no docs.
rm -rf "$tree.new"/var/cache/apt/archives/*.deb "$tree.new"/var/lib/apt/lists/* \
	"$tree.new"/usr/share/doc/* "$tree.new"/usr/share/locale/*
# The container's console should not wait for a login.
ln -sf /dev/null "$tree.new/etc/systemd/system/console-getty.service"
ln -sf /dev/null "$tree.new/etc/systemd/system/getty@.service"
echo callmgr-test >"$tree.new/etc/hostname"
touch "$tree.new/.callmgr-tree-$stamp"
rm -rf "$tree"
mv "$tree.new" "$tree"
echo "$tree"
