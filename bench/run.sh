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
# (CALLMGR_BENCH_ONLY_BURSTS=1: only the bursts section below)
[ "${CALLMGR_BENCH_ONLY_BURSTS:-0}" = 1 ] ||
"$build/bench/callmgr-bench" --floor "$tmp/floor.sock" --wire "$tmp/root.sock" \
	--peer "$tmp/peer.sock" --wire-pid "$root_pid" --callmgrd "$build/daemon/callmgrd" \
	--cmctl "$build/tools/cmctl" "$@"

# ---------------------------------------------------------------- bursts (issue 11)
# Bulk work issued at once by one client (tests/netns/burst), each scenario
# on a fresh pair of daemons on cm0/cm1: the time of each phase, every
# request CM_OK exactly once, every leaf's data byte-exact, no client
# disconnected, and the peak RSS (VmHWM) of both daemons.  The netns suite
# runs the same scenarios scaled down (tests/netns/burst.sh).
# CALLMGR_BENCH_BURSTS=0 skips this section.
[ "${CALLMGR_BENCH_BURSTS:-1}" = 0 ] && exit 0
burst=$build/tests/netns/burst
[ -x "$burst" ] || { echo "bench/run.sh: $burst not built" >&2; exit 1; }
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
# set-up of a million parties at once needs the backlog's bound raised
cat >"$tmp/burst.conf" <<CONF
[timers]
t309 = 3000
timer_keepalive = 500
timer_noresponse = 2000
[limits]
max_vcs_per_session = 1000000
max_parties_per_vc = 10000000
max_pending_per_session = 10000000
max_vcs_per_user = 1000000
max_pending_per_user = 10000000
max_incoming_per_session = 1000000
max_memory = 8192
session_output_bytes = 67108864
link_backlog_bytes = 1073741824
CONF
b_root_pid= b_peer_pid=
burst_daemons() {
	rm -f "$tmp/broot.sock" "$tmp/bpeer.sock"
	ip netns exec "$nsb" "$build/daemon/callmgrd" --foreground --interface cm1 --socket "$tmp/bpeer.sock" \
		--config "$tmp/burst.conf" --log-level warning --log-target stderr 2>>"$tmp/bpeer.log" &
	b_peer_pid=$!
	ip netns exec "$nsa" "$build/daemon/callmgrd" --foreground --interface cm0 --socket "$tmp/broot.sock" \
		--config "$tmp/burst.conf" --log-level warning --log-target stderr 2>>"$tmp/broot.log" &
	b_root_pid=$!
	pids+=("$b_peer_pid" "$b_root_pid")
	for s in broot bpeer; do
		for _ in $(seq 400); do [ -S "$tmp/$s.sock" ] && break; sleep 0.05; done
	done
}
hwm() { awk '/VmHWM/ { printf "%d MiB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"; }
burst_stop() {
	kill "$b_root_pid" "$b_peer_pid" 2>/dev/null || true
	wait "$b_root_pid" "$b_peer_pid" 2>/dev/null || true
}
# burst_case NAME EXPECTED_LEAF_CLOSES ROOT_ARGS... [-- hold ACTION]
burst_case() {
	local name=$1 expect=$2 action=
	shift 2
	burst_daemons
	local addr
	addr=$("$build/tools/cmctl" -s "$tmp/bpeer.sock" -j address 16 |
		grep -o -E '"address": *"[0-9a-f]{40}"' | grep -o -E '[0-9a-f]{40}')
	"$burst" -s "$tmp/bpeer.sock" leaf 16 "$expect" >"$tmp/bleaf.out" 2>&1 &
	local leaf=$!
	for _ in $(seq 100); do grep -q '^ready' "$tmp/bleaf.out" && break; sleep 0.05; done
	local t0
	t0=$(date +%s%N)
	if [ "${!#}" = hold-term ] || [ "${!#}" = hold-kill ]; then
		action=${!#}
		"$burst" -s "$tmp/broot.sock" root "$addr" "${@:1:$(($# - 1))}" hold >"$tmp/broot.out" 2>&1 &
		local root=$!
		until grep -q '^held' "$tmp/broot.out" || ! kill -0 "$root" 2>/dev/null; do sleep 0.1; done
		echo "  $name: set up; root $(hwm "$b_root_pid"), peer $(hwm "$b_peer_pid")"
		t0=$(date +%s%N)
		if [ "$action" = hold-term ]; then
			kill -TERM "$b_root_pid"
		else
			kill -KILL "$b_peer_pid"
			kill "$leaf" 2>/dev/null || true
		fi
		wait "$root" || true
	else
		"$burst" -s "$tmp/broot.sock" root "$addr" "$@" >"$tmp/broot.out" 2>&1 || true
	fi
	local ms=$((($(date +%s%N) - t0) / 1000000))
	echo "  $name: root $(hwm "$b_root_pid"), peer $(hwm "$b_peer_pid"); ${ms} ms"
	sed 's/^/    root: /' "$tmp/broot.out" | grep -E 'phase|summary|refused|answer|duplicate' || true
	wait "$leaf" 2>/dev/null || true
	sed 's/^/    leaf: /' "$tmp/bleaf.out" | grep -E 'summary|leaf closes|bad data' || true
	burst_stop
}
echo "bursts (issue 11): 10,000 AddParty + 10,000 DropParty with 127 octets, one client, one peer"
burst_case "10k add/drop" 10001 1 10001 127 drop
echo "bursts: 100,000 parties over 1,000 VCs, closed by CloseCall FORCE"
burst_case "1000x100 force" 100000 1000 100 0 force
echo "bursts: 10,000 VCs x 100 parties torn down by CloseCall FORCE"
burst_case "10000x100 force" 1000000 10000 100 0 force
echo "bursts: 10,000 VCs x 100 parties torn down by SIGTERM of the root daemon"
burst_case "10000x100 sigterm" 1000000 10000 100 0 hold-term
echo "bursts: 10,000 VCs x 100 parties torn down by SIGKILL of the leaf node"
burst_case "10000x100 sigkill" 0 10000 100 0 hold-kill
