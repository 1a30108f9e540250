#!/bin/sh
# Build the Debian packages from a copy of the tree (committed or not) into
# OUT, once per state of the tree: the packaging and system suites share the
# result, and a second caller waits for the first.  Leaves in OUT the .debs,
# the .changes, build.log and the unpacked source tree (src/).
# usage: build-debs.sh SOURCE_ROOT OUT
set -eu
command -v dpkg-buildpackage >/dev/null || { echo "no dpkg-buildpackage"; exit 77; }
src=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)

exec 9>"$out.lock"
flock 9

tree() { # [tar options]
	tar -C "$src" --exclude='./build*' --exclude='./.git' --exclude='./obj-*' \
		--exclude='./debian' "$@" -cf - .
}
# the contents decide, not when the files were touched
sum=$(tree --sort=name --mtime=@0 --owner=0 --group=0 | sha256sum | cut -d' ' -f1)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$sum" ]; then
	exit 0
fi
rm -rf "$out"
mkdir -p "$out/src/callmgr"
tree | tar -C "$out/src/callmgr" -xf -
cp -a "$src/packaging/debian" "$out/src/callmgr/debian"
if ! (cd "$out/src/callmgr" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	if grep -q "dpkg-gensymbols: error" "$out/build.log"; then
		echo "libcallmgr0's exports differ from packaging/debian/libcallmgr0.symbols:"
		sed -n '/^--- debian\/libcallmgr0.symbols/,/^dpkg-gensymbols: error/p' "$out/build.log"
		echo "regenerate it with packaging/gen-symbols.sh (see its header)"
	else
		tail -n 60 "$out/build.log"
	fi
	echo "dpkg-buildpackage failed"
	exit 1
fi
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out/"
echo "$sum" >"$out/stamp"
