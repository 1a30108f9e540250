#!/usr/bin/env bash
# clang-tidy and cppcheck over our own sources (not generated code).
# Usage: tools/lint.sh SOURCE_ROOT BUILD_DIR   (or: meson compile -C build lint)
set -euo pipefail
src=${1:-$(dirname "$0")/..}
build=${2:-$src/build}
cd "$src"
mapfile -t files < <(git ls-files '*.c' | grep -v '^fuzz/corpus/')
[ ${#files[@]} -gt 0 ] || exit 0
echo "cppcheck: ${#files[@]} files"
cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	--inline-suppr --std=c11 -D_GNU_SOURCE -Iinclude -Idaemon -I"$build" \
	--suppress=missingIncludeSystem "${files[@]}"
# clang-tidy needs compile commands: only files this build compiles (the
# fuzz targets are linted from a -Dfuzz=true build dir).
mapfile -t files < <(python3 -c '
import json, os, sys
cc = {os.path.realpath(os.path.join(e["directory"], e["file"]))
      for e in json.load(open(sys.argv[1]))}
for f in sys.argv[2:]:
    if os.path.realpath(f) in cc: print(f)' "$build/compile_commands.json" "${files[@]}")
echo "clang-tidy: ${#files[@]} files"
checks='-*,clang-analyzer-*,-clang-analyzer-valist.Uninitialized,-clang-analyzer-optin.performance.Padding,-clang-analyzer-security.insecureAPI.*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-narrowing-conversions,-bugprone-assignment-in-if-condition,-bugprone-branch-clone,-bugprone-macro-parentheses,-bugprone-implicit-widening-of-multiplication-result,-bugprone-suspicious-include'
rc=0
out=$(clang-tidy --quiet -p "$build" --warnings-as-errors='*' --checks="$checks" \
	"${files[@]}" 2>&1) || rc=$?
grep -v 'warnings generated' <<<"$out" || true
[ "$rc" -eq 0 ] || { echo "lint: clang-tidy found problems"; exit 1; }
echo "lint: clean"
