#!/bin/sh
# SPDX-License-Identifier: MIT
# FreeBSD ngatm's codec (../shared/interop/ngatm, beside the repository)
# judges every sample message the codec writes: exit 0 only with no FAIL.
# usage: ngatm_check.sh SIG_PCAP_PROGRAM NGATM_DIR; exit 77 (skip) without
# the judge.  The judge builds once into $NGATM_BIN.
set -eu
gen=$1
dir=$2
if [ ! -x "$dir/judge.sh" ]; then
	echo "SKIP: no ngatm judge at $dir (it lives beside the repository as ../shared/interop/ngatm)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" "$tmp/sig.pcap" >/dev/null
cd "$dir"
./judge.sh "$tmp/sig.pcap"
