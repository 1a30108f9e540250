#!/usr/bin/env bash
# Run by tools/bootstrap.sh after the meson tests: every libFuzzer target
# for 30 s (about 2.5 minutes with the build).  A finding fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang >/dev/null; then
	echo "extra-checks: clang missing: fuzzing skipped" >&2
	exit 1
fi
echo "== fuzzing (tools/fuzz.sh 30)"
tools/fuzz.sh 30
