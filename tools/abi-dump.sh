#!/usr/bin/env bash
# Writes the ABI dump of a built libcallmgr that tests/abi compares against.
# Run it only when a release fixes the ABI (a new CALLMGR_x.y node in
# libclient/libcallmgr.map), from a build with debug info (the default
# debugoptimized one), and commit the result with the release.
# Usage: tools/abi-dump.sh [BUILD_DIR]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
# No --headers-dir: the dump keeps build-relative paths, which would make
# abidiff take every type for a private one and filter its changes out.
exec abidw --no-corpus-path --no-comp-dir-path --no-show-locs \
	--out-file "$src/libclient/libcallmgr.abi" "$build/libclient/libcallmgr.so.0"
