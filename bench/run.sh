#!/usr/bin/env bash
# The benchmark stage (SPEC §8): two network namespaces joined by two veth
# pairs (one for the floor, one for callmgr, so neither sees the other's
# frames), the floor daemon and echo peer on the first, a root and a peer
# callmgrd on the second, then one callmgr-bench run against all of them.
# Everything is removed on exit.  Needs root.
#   bench/run.sh BUILD_DIR [callmgr-bench options, e.g. --scale 0.1 --json F]
set -euo pipefail
build=${1:?usage: bench/run.sh BUILD_DIR [callmgr-bench options]}
shift
build=$(cd "$build" && pwd)
[ "$(id -u)" = 0 ] || { echo "bench/run.sh: needs root (namespaces, AF_PACKET)" >&2; exit 1; }

tag="cmb$$"
nsa="${tag}a" # the root side: floor daemon, root callmgrd
nsb="${tag}b" # the peer side: floor echo, peer callmgrd
tmp=$(mktemp -d /tmp/callmgr-bench-run.XXXXXX)
pids=()

cleanup() {
	local p ns left
	# our processes, and anything else left in our namespaces (a wrapper's
	# child), by pid
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for ns in "$nsa" "$nsb"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	done
	# callmgrd releases its calls on SIGTERM; give it 5 s, then KILL
	for _ in $(seq 50); do
		left=
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
		[ -z "$left" ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$nsa" 2>/dev/null || true
	ip netns del "$nsb" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$nsa"
ip netns add "$nsb"
# fl0/fl1: the floor's pair; cm0/cm1: callmgr's pair
ip -n "$nsa" link add fl0 type veth peer name fl1 netns "$nsb"
ip -n "$nsa" link add cm0 type veth peer name cm1 netns "$nsb"
for l in fl0 cm0; do ip -n "$nsa" link set "$l" up; done
for l in fl1 cm1; do ip -n "$nsb" link set "$l" up; done
ip -n "$nsa" link set lo up
ip -n "$nsb" link set lo up
mac_fl1=$(ip netns exec "$nsb" cat /sys/class/net/fl1/address)

ip netns exec "$nsb" "$build/bench/callmgr-bench-floor" peer fl1 &
pids+=($!)
ip netns exec "$nsa" "$build/bench/callmgr-bench-floor" daemon fl0 "$mac_fl1" "$tmp/floor.sock" &
pids+=($!)

# limits wide enough for the runs; distinct prefixes are not needed (the
# ESI, the interface MAC, tells the nodes apart)
cat >"$tmp/callmgrd.conf" <<CONF
[limits]
max_vcs_per_session = 1000000
max_parties_per_vc = 10000000
max_pending_per_session = 1000000
max_vcs_per_user = 1000000
max_pending_per_user = 1000000
max_memory = 8192
link_queue = 100000
CONF
# CALLMGR_BENCH_WRAP_ROOT / _PEER: a command to run each daemon under, e.g.
# "valgrind --tool=callgrind" or "perf record -g --call-graph dwarf -o F"
ip netns exec "$nsb" ${CALLMGR_BENCH_WRAP_PEER:-} "$build/daemon/callmgrd" --foreground --interface cm1 \
	--socket "$tmp/peer.sock" --config "$tmp/callmgrd.conf" --log-level "${CALLMGR_BENCH_LOG:-warning}" \
	--log-target stderr &
pids+=($!)
ip netns exec "$nsa" ${CALLMGR_BENCH_WRAP_ROOT:-} "$build/daemon/callmgrd" --foreground --interface cm0 \
	--socket "$tmp/root.sock" --config "$tmp/callmgrd.conf" --log-level "${CALLMGR_BENCH_LOG:-warning}" \
	--log-target stderr &
pids+=($!)
# the daemon itself: ip netns exec execs it, a wrapper (strace, valgrind) would not
root_pid=$!
for s in floor peer root; do
	for _ in $(seq 400); do
		[ -S "$tmp/$s.sock" ] && break
		sleep 0.05
	done
	[ -S "$tmp/$s.sock" ] || { echo "bench/run.sh: $s did not start" >&2; exit 1; }
done

# the client runs in the initial namespace: Unix sockets are reached by path
"$build/bench/callmgr-bench" --floor "$tmp/floor.sock" --wire "$tmp/root.sock" \
	--peer "$tmp/peer.sock" --wire-pid "$root_pid" --callmgrd "$build/daemon/callmgrd" \
	--cmctl "$build/tools/cmctl" "$@"
