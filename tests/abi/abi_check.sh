#!/usr/bin/env bash
# The built libcallmgr.so.0 against the ABI dump of the released one
# (libclient/libcallmgr.abi).  Fails on any change abidiff reports except
# new functions (they go into a new version node) and members appended to
# the size-tagged structs (libclient/abi-suppressions).  Skips (77) without
# abidiff or without debug info to read the types from.
# Usage: abi_check.sh SOURCE_ROOT LIBRARY
set -uo pipefail
src=$1
lib=$2
if ! command -v abidiff >/dev/null; then
	echo "abidiff not found (Debian: abigail-tools); skipping"
	exit 77
fi
if ! readelf -S --wide "$lib" | grep '\.debug_info' >/dev/null; then
	echo "$lib has no debug info: abidiff could compare symbols only; skipping"
	exit 77
fi
abidiff --no-added-syms --suppressions "$src/libclient/abi-suppressions" \
	"$src/libclient/libcallmgr.abi" "$lib"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "abi: libcallmgr.so.0 differs from libclient/libcallmgr.abi (abidiff exit $rc)." >&2
	echo "abi: a break needs a new soname; an addition, a new node and tools/abi-dump.sh." >&2
	exit 1
fi
echo "abi: libcallmgr.so.0 matches libclient/libcallmgr.abi"
