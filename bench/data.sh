#!/usr/bin/env bash
# The data path benchmark (issue #14, docs/performance.md): five network
# namespaces on one bridge (a root node R, leaf nodes L1-L4), callmgrd on
# each.  First the floor: raw AF_PACKET frames R -> L1 through the same
# veths and bridge, no logic; then callmgr: SDUs of 64, 1,500 and 9,180
# octets from a root on R to one leaf node and to four, with the daemons'
# CPU time per SDU.  Prints one table; not a test.  Needs root.
#   bench/data.sh BUILD_DIR [SECONDS]
# The memory mode streams 1,500-octet SDUs from a root on R to leaves on L1
# and L2 for SECONDS (default 600), samples the three daemons' VmRSS every
# INTERVAL seconds (default 20) and prints them with the max-min spread:
#   bench/data.sh BUILD_DIR rss [SECONDS [INTERVAL]]
set -euo pipefail
usage="usage: bench/data.sh BUILD_DIR [SECONDS] | BUILD_DIR rss [SECONDS [INTERVAL]]"
build=${1:?$usage}
build=$(cd "$build" && pwd)
mode=rate
if [ "${2:-}" = rss ]; then
	mode=rss
	secs=${3:-600}
	interval=${4:-20}
	nodes=(R L1 L2)
else
	secs=${2:-3}
	nodes=(R L1 L2 L3 L4)
fi
[ "$(id -u)" = 0 ] || { echo "bench/data.sh: needs root" >&2; exit 1; }
bin=$build/bench/callmgr-bench-data
tag="cmd$$"
tmp=$(mktemp -d /tmp/callmgr-bench-data.XXXXXX)
declare -A MAC PID
pids=()

cleanup() {
	local p n
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for n in "${nodes[@]}" sw; do
		for p in $(ip netns pids "$tag$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "$tag$n" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "${tag}sw"
ip -n "${tag}sw" link add br0 type bridge
ip -n "${tag}sw" link set br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
ip -n "${tag}sw" link set br0 up
i=0
for n in "${nodes[@]}"; do
	ip netns add "$tag$n"
	ip netns exec "$tag$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$tag$n" link add cm0 type veth peer name "p$i" netns "${tag}sw"
	ip -n "${tag}sw" link set "p$i" master br0
	ip -n "${tag}sw" link set "p$i" up
	ip -n "$tag$n" link set cm0 up
	ip -n "$tag$n" link set lo up
	MAC[$n]=$(ip netns exec "$tag$n" cat /sys/class/net/cm0/address)
	i=$((i + 1))
done

# ---- the floor: raw frames, no logic
floor() { # payload octets
	ip netns exec "${tag}L1" "$bin" floor-rx cm0 $((secs + 2)) >"$tmp/rx" &
	local rx=$!
	sleep 0.5
	ip netns exec "${tag}R" "$bin" floor-tx cm0 "${MAC[L1]}" "$1" "$secs" >"$tmp/tx"
	wait $rx
	read -r _ frames _ octets _ s <"$tmp/rx"
	awk -v f="$frames" -v o="$octets" -v s="$s" -v len="$1" 'BEGIN {
		printf "| floor: raw frames of %d octets, R -> L1 | %.0f frames/s | %.2f Gbit/s | - |\n",
			len, f / s, o * 8 / s / 1e9 }'
}

# ---- callmgr
for n in "${nodes[@]}"; do
	ip netns exec "$tag$n" "$build/daemon/callmgrd" --foreground --interface cm0 \
		--socket "$tmp/$n.sock" --log-level warning --log-target stderr 2>>"$tmp/$n.log" &
	PID[$n]=$!
	pids+=($!)
done
for n in "${nodes[@]}"; do
	for _ in $(seq 100); do [ -S "$tmp/$n.sock" ] && break; sleep 0.05; done
done
prefix=3900000f000000000000000000
aesa() { printf '%s%s01' "$prefix" "$(echo "${MAC[$1]}" | tr -d :)"; }

cpu_ticks() { # total utime + stime of every callmgrd, in clock ticks
	local n t=0
	for n in "${nodes[@]}"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/${PID[$n]}/stat")))
	done
	echo $t
}

# run OCTETS LEAF-NODE... : one stream, then its line of the table.  While
# it runs, $during (if set) is run in the background and waited for.
during=
run() {
	local len=$1 l lp=() fifo="$tmp/go" rp dp=
	shift
	for l in "$@"; do
		ip netns exec "$tag$l" "$bin" leaf "$tmp/$l.sock" 1 >"$tmp/$l.out" &
		lp+=($!)
	done
	for l in "$@"; do
		for _ in $(seq 100); do grep -q registered "$tmp/$l.out" && break; sleep 0.05; done
	done
	rm -f "$fifo"
	mkfifo "$fifo"
	local addrs=()
	for l in "$@"; do addrs+=("$(aesa "$l")"); done
	ip netns exec "${tag}R" "$bin" root "$tmp/R.sock" "$len" "$secs" "${addrs[@]}" \
		<"$fifo" >"$tmp/root.out" &
	rp=$!
	exec {go}>"$fifo"
	for _ in $(seq 100); do grep -q ready "$tmp/root.out" && break; sleep 0.05; done
	for l in "$@"; do
		for _ in $(seq 100); do grep -q connected "$tmp/$l.out" && break; sleep 0.05; done
	done
	local t0
	t0=$(cpu_ticks)
	echo go >&$go
	exec {go}>&-
	if [ -n "$during" ]; then
		$during &
		dp=$!
	fi
	wait $rp
	[ -z "$dp" ] || wait "$dp"
	for p in "${lp[@]}"; do wait "$p"; done
	local t1 sent hz
	t1=$(cpu_ticks)
	hz=$(getconf CLK_TCK)
	sent=$(awk '$1 == "sent" { print $2 }' "$tmp/root.out")
	# the slowest leaf node is the rate of the call
	cat "$tmp"/L*.out | awk -v len="$len" -v nl=$# -v sent="$sent" -v ticks=$((t1 - t0)) \
		-v hz="$hz" '$1 == "sdus" && $6 > 0 {
			r = $2 / $6; if (!min || r < min) { min = r; oct = $4 / $6 }
			got += $2 }
		END { printf "| callmgr: SDUs of %d octets to %d leaf node%s | %.0f SDUs/s | %.2f Gbit/s | %.1f us (%d of %d SDUs delivered) |\n",
			len, nl, (nl > 1 ? "s" : ""), min, oct * 8 / 1e9,
			sent ? ticks / hz * 1e6 / sent : 0, got / nl, sent }'
	rm -f "$tmp"/L*.out
}

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# rss_samples : VmRSS of every daemon at 0, INTERVAL, ... up to SECONDS
# into the stream, one table row each, then the spread per daemon
rss_samples() {
	local t n row
	{
		for t in $(seq 0 "$interval" "$secs"); do
			row="| $t |"
			for n in "${nodes[@]}"; do row="$row $(rss_kb "${PID[$n]}") |"; done
			echo "$row"
			[ "$t" -ge "$secs" ] || sleep $((t + interval > secs ? secs - t : interval))
		done
	} | tee "$tmp/rss"
	echo "| max - min |$(awk -F'|' -v n=${#nodes[@]} '{
		for (i = 1; i <= n; i++) { v = $(i + 2) + 0
			if (NR == 1 || v > max[i]) max[i] = v
			if (NR == 1 || v < min[i]) min[i] = v } }
		END { for (i = 1; i <= n; i++) printf " %d |", max[i] - min[i] }' "$tmp/rss")"
	printf '\n| run | rate | throughput | daemons'"'"' CPU per SDU sent |\n|---|---|---|---|\n'
}

if [ $mode = rss ]; then
	printf '| seconds into the stream |'
	for n in "${nodes[@]}"; do printf ' VmRSS of callmgrd on %s, kB |' "$n"; done
	printf '\n|---|---|---|---|\n'
	during=rss_samples
	run 1500 L1 L2
	exit 0
fi

echo "| run | rate | throughput | daemons' CPU per SDU sent |"
echo "|---|---|---|---|"
floor 64
floor 1500
for len in 64 1500 9180; do
	run "$len" L1
	run "$len" L1 L2 L3 L4
done
