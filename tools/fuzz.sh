#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -Dfuzz=true) and runs each for
# SECONDS (default 60) on a copy of its seed corpus in fuzz/corpus/.
#   tools/fuzz.sh [SECONDS] [TARGET...]   run (all targets when none named)
#   tools/fuzz.sh --seeds                 regenerate fuzz/corpus with gen_seeds
#                                         (the regress-* inputs are kept)
# Exits non-zero if any target finds a crash, leak, timeout or broken
# invariant, and prints the path of the input that did it (kept under
# fuzz-out/, which git ignores).  Reproduce with: build-fuzz/fuzz/TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-fuzz
out=fuzz-out
targets_all=(fuzz_q2931_decode fuzz_sscop_pdu fuzz_ipc_frame fuzz_cc_sequence fuzz_data_frame)

setup() {
	if [ -d "$build" ]; then
		CC=clang meson setup --reconfigure "$build" -Dfuzz=true -Dtests=false >/dev/null
	else
		CC=clang meson setup "$build" -Dfuzz=true -Dtests=false >/dev/null
	fi
	meson compile -C "$build" >/dev/null
}

if [ "${1:-}" = "--seeds" ]; then
	setup
	# the generated seeds only: regress-* are inputs that once found a bug,
	# kept by hand, and gen_seeds cannot make them again
	find fuzz/corpus -type f ! -name 'regress-*' -delete 2>/dev/null || true
	"$build/fuzz/gen_seeds" fuzz/corpus
	find fuzz/corpus -type f | sort
	exit 0
fi

secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${targets_all[@]}")

setup
rm -rf "$out"
mkdir -p "$out"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0
for t in "${targets[@]}"; do
	corpus="$out/$t/corpus"
	mkdir -p "$corpus" "$out/$t/artifacts"
	cp fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
	log="$out/$t/log"
	trc=0
	"$build/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/$t/artifacts/" \
		"$corpus" >"$log" 2>&1 || trc=$?
	stats=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov:' | tail -1 || true)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$trc" -ne 0 ]; then
		rc=1
		echo "FAIL $t (exit $trc) after ${execs:-?} runs; log: $log"
		grep -E '^(fuzz_[a-z0-9_]+:|==[0-9]+==ERROR|SUMMARY)' "$log" | head -5 | sed 's/^/    /'
		for a in "$out/$t/artifacts/"*; do
			[ -e "$a" ] && echo "    crashing input: $a"
		done
	else
		cov=$(sed -n 's/.*\(cov: [0-9]*\).*\(ft: [0-9]*\).*\(corp: [^ ]*\).*/\1 \2 \3/p' <<<"$stats")
		echo "ok   $t: ${execs:-?} runs in ${secs}s, $cov"
	fi
done
exit "$rc"
