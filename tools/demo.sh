#!/usr/bin/env bash
# The multipoint demo on one machine: callmgrd in local mode on a temporary
# socket, four leaf clients (selectors 1-4; the one on 4 leaves each call on
# its own after 300 ms), and the demo root calling all of them.
#   tools/demo.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: tools/demo.sh BUILD_DIR}
build=$(cd "$build" && pwd)
tmp=$(mktemp -d /tmp/callmgr-demo.XXXXXX)
sock=$tmp/callmgr.sock
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "== callmgrd (local mode) on $sock"
"$build/daemon/callmgrd" --foreground --socket "$sock" --log-level notice &
pids+=($!)
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	sleep 0.05
done
[ -S "$sock" ] || { echo "callmgrd did not start" >&2; exit 1; }

export CALLMGR_SOCKET=$sock
for sel in 1 2 3; do
	"$build/examples/leaf" --name "leaf$sel" "$sel" &
	pids+=($!)
done
"$build/examples/leaf" --name leaf4 --close-after 300 4 &
pids+=($!)
sleep 0.3 # let the leaves register their SAPs

echo "== demo root"
rc=0
"$build/examples/demo" --leaving 4 1 2 3 4 || rc=$?
sleep 0.2 # the leaves print their last events
echo "== demo exit status $rc"
exit $rc
