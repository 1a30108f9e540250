#!/usr/bin/env bash
# The two set-up commands of the README:
#   tools/bootstrap.sh demo   install what is missing, build, run callmgrd in
#                             local mode and the multipoint demo client
#   tools/bootstrap.sh test   install what is missing, build plain and with
#                             ASan/UBSan, run the whole test suite
#   tools/bootstrap.sh determinism [N]
#                             both builds' suites N times (20) in a row under
#                             stress-ng --cpu 2, stopping at a failure
# The last line of "test" is "N passed, N failed", counted from meson's logs.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(meson ninja-build gcc clang pkg-config libevent-dev libprotobuf-c-dev
	protobuf-c-compiler libsystemd-dev check libjson-c-dev libinih-dev
	iproute2 tshark systemd valgrind clang-tidy cppcheck libclang-rt-14-dev
	dpkg-dev debhelper bash-completion binutils python3 abigail-tools lintian mandoc
	debootstrap systemd-container stress-ng)

install_missing() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]} (run as root to install them)" >&2
		exit 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_build() { # dir [meson options...]
	local dir=$1
	shift
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	meson compile -C "$dir"
}

run_demo() {
	setup_build build
	if [ ! -x build/examples/demo ]; then
		echo "callmgr is built; the multipoint demo arrives with the client library (issue #5)."
		return 0
	fi
	exec tools/demo.sh build
}

# Count meson's JSON test log: OK and EXPECTEDFAIL pass; FAIL, TIMEOUT,
# ERROR and UNEXPECTEDPASS fail; SKIP is neither.
count_log() { # testlog.json -> "passed failed skipped"
	python3 - "$1" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)
PY
}

setup_builds() {
	setup_build build
	setup_build build-san -Db_sanitize=address,undefined -Db_lundef=false
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
}

# meson_suites DIR [meson test options...]: the suites CI runs in DIR.
# Building .deb packages (suites packaging and system, which boots them in
# a container) has nothing a sanitizer can see, so they run in the plain
# build only.  The fault suite runs once, in the sanitizer build, where
# LeakSanitizer judges every daemon it stops (under the plain build it
# would use valgrind: same verdict, three more minutes).
meson_suites() {
	local dir=$1
	shift
	local -A skip=([build]="--no-suite faults" [build-san]="--no-suite packaging --no-suite system")
	# shellcheck disable=SC2086
	meson test -C "$dir" --print-errorlogs --num-processes 2 ${skip[$dir]} "$@"
}

run_tests() {
	local passed=0 failed=0 rc=0
	setup_builds
	for dir in build build-san; do
		echo "== meson test in $dir"
		meson_suites "$dir" || rc=1
		read -r p f s < <(count_log "$dir/meson-logs/testlog.json")
		echo "   $dir: $p passed, $f failed, $s skipped"
		passed=$((passed + p))
		failed=$((failed + f))
	done
	if [ -x tools/extra-checks.sh ]; then
		tools/extra-checks.sh || rc=1
	fi
	echo "$passed passed, $failed failed"
	[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
}

# Both builds' suites N times in a row, the two builds at once, under
# stress-ng --cpu 2: a test that fails one run in twenty shows here.  Stops
# at the first failure; the logs are in determinism-logs/.
run_determinism() {
	local n=${1:-20} i b rc t0
	setup_builds
	mkdir -p determinism-logs
	stress-ng --cpu 2 --timeout 86400 >/dev/null 2>&1 &
	local stress=$!
	# shellcheck disable=SC2064 # the pid now
	trap "kill $stress 2>/dev/null" EXIT
	for i in $(seq "$n"); do
		t0=$SECONDS
		rc=0
		meson_suites build >"determinism-logs/$i-build.log" 2>&1 &
		local plain=$!
		meson_suites build-san >"determinism-logs/$i-build-san.log" 2>&1 || rc=1
		wait "$plain" || rc=1
		for b in build build-san; do
			echo "run $i, $b: $(grep -E '^(Ok|Fail|Skipped|Timeout):' "determinism-logs/$i-$b.log" |
				tr -s ' \n' ' ')"
		done
		echo "run $i: $((SECONDS - t0)) s"
		[ "$rc" -eq 0 ] || { echo "run $i failed: see determinism-logs/$i-*.log"; return 1; }
	done
	echo "$n runs in a row passed"
}

case "${1:-}" in
demo) install_missing; run_demo ;;
test) install_missing; run_tests ;;
determinism) install_missing; run_determinism "${2:-20}" ;;
*) echo "usage: $0 demo|test|determinism [N]" >&2; exit 2 ;;
esac
