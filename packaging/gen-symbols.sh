#!/bin/sh
# Print libcallmgr0's symbols file (deb-symbols(5)) for a built library: every
# exported symbol with its version node, each with the upstream version it
# first appeared in.  Symbols already in OLD keep their version; new ones get
# VERSION.  Regenerate after changing libclient/libcallmgr.map:
#   packaging/gen-symbols.sh build/libclient/libcallmgr.so.0.* 0.2.0 \
#     packaging/debian/libcallmgr0.symbols >new && mv new packaging/debian/libcallmgr0.symbols
# usage: gen-symbols.sh LIBRARY VERSION [OLD]
set -eu
lib=$1
version=$2
old=${3:-/dev/null}
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
echo "$soname libcallmgr0 #MINVER#"
echo "* Build-Depends-Package: libcallmgr-dev"
# nm prints "cm_x@@NODE" for defined symbols and "NODE" (type A) for the
# version nodes; dpkg-gensymbols names a node "NODE@NODE".
nm -D --defined-only "$lib" |
	awk '$2 == "A" { print $3 "@" $3; next } { sub(/@@/, "@", $3); print $3 }' |
	LC_ALL=C sort |
	awk -v version="$version" -v old="$old" '
		BEGIN { while ((getline l < old) > 0) if (l ~ /^ /) { split(l, f, " "); v[f[1]] = f[2] } }
		{ print " " $1 " " ($1 in v ? v[$1] : version) }'
