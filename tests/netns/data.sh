#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue #14: the VC carries data across nodes (docs/data-path.md).  Root on
# A; two leaves on B, one on C, each reading its data descriptor through
# tests/netns/dataclient, which checks a digest inside every SDU.
#   1. SDUs of 1, 1,500 and 9,180 octets arrive byte-exact, in order, at
#      every party; CloseCall gives end of file everywhere.  Wireshark
#      (tools/callmgr.lua) decodes the capture: every data frame carries
#      the label of its leg's CONNECT, the lengths and CRCs of the SDUs
#      sent (data_wire_check.py); the signalling passes wire_check.
#   2. A party dropped mid-stream reaches end of file; the others get all.
#   3. A party added later gets only SDUs sent after its AddParty.
#   4. Forged data frames (unknown label, stranger's MAC) are counted and
#      dropped.
#   5. A root faster than its interface (tbf at 20 Mbit/s on A's veth) is
#      throttled by its descriptor: nothing is lost.
#   6. A leaf that stops reading loses SDUs, counted against its party on
#      its node (cmctl vc show) and in the node's totals (cmctl stats);
#      the leaves beside it and on another node get every SDU, and their
#      counters say so.
#   7. A leaf node that stops (SIGSTOP) while the root streams: its kernel
#      drops data frames, counted in its cmctl stats
#      (data_frames_kernel_dropped); the root's node is not held and loses
#      nothing; once later SDUs arrive, the leaf's party counts every SDU
#      sent as delivered or lost, and data_sdus_lost the same losses.
#   8. Through the impairing switch (10% loss, 25% reordering): SDUs are
#      lost, never delivered damaged, spliced or out of order.
#   data.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
netns_require

PREFIX=3900000f000000000000000000
aesa() { # NODE SEL
	printf '%s%s%02x' "$PREFIX" "$(echo "${NODE_MAC[$1]}" | tr -d :)" "$2"
}

# leaf NAME NODE SEL [stall K] : a dataclient leaf in the background, output
# in NAME.out; returns once its SAP is registered, so a call made next finds
# it.  A stalling leaf reads its standard input from LEAF_IN[NAME].
declare -A LEAF_PID LEAF_IN
leaf() {
	local i fifo="$NETNS_TMP/$1.in"
	rm -f "$fifo"
	mkfifo "$fifo"
	# emptied before, not by the job: a name used again must not show
	# the last run's "registered" to the loop below
	: >"$NETNS_TMP/$1.out"
	(spawn_clean ip netns exec "${NODE_NS[$2]}" "$BUILD/tests/netns/dataclient" \
		-s "${NODE_SOCK[$2]}" leaf "${@:3}") <"$fifo" >>"$NETNS_TMP/$1.out" 2>&1 &
	LEAF_PID[$1]=$!
	exec {i}>"$fifo"
	LEAF_IN[$1]=$i
	for i in $(seq 300); do
		grep -q '^registered$' "$NETNS_TMP/$1.out" && return 0
		kill -0 "${LEAF_PID[$1]}" 2>/dev/null || break
		sleep 0.1
	done
	fail "leaf $1 did not register selector $3: $(head -n 3 "$NETNS_TMP/$1.out")"
}

# root "LEAVES" NODE ARGS... : the root; once it holds its descriptor and
# every leaf named in LEAVES holds its own, it is told to send; returns
# when it has closed its call.  root_start returns once it was told (a root
# with "hold" then waits for root_end before it closes).
ROOT_PID=
ROOT_GO=
root() {
	root_start "$@"
	root_end
}

root_start() {
	local leaves=$1 n=$2 i fifo="$NETNS_TMP/root.in" pid
	shift 2
	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$NETNS_TMP/root.out" # as in leaf(): no "ready" from the last case
	(spawn_clean ip netns exec "${NODE_NS[$n]}" timeout 120 "$BUILD/tests/netns/dataclient" \
		-s "${NODE_SOCK[$n]}" root "$@") <"$fifo" >>"$NETNS_TMP/root.out" 2>&1 &
	pid=$!
	exec {ROOT_GO}>"$fifo"
	for i in $(seq 300); do
		grep -q '^ready$' "$NETNS_TMP/root.out" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	# shellcheck disable=SC2086 # a word list
	wait_connected $leaves
	echo go >&"$ROOT_GO"
	ROOT_PID=$pid
}

root_end() {
	exec {ROOT_GO}>&-
	wait "$ROOT_PID" || fail "root: $(tail -n 3 "$NETNS_TMP/root.out")"
}

# leaf_done NAME : wait for the leaf to exit; fail if it saw a bad SDU or no EOF
leaf_done() {
	local i
	for i in $(seq 300); do
		kill -0 "${LEAF_PID[$1]}" 2>/dev/null || break
		sleep 0.1
	done
	eval "exec ${LEAF_IN[$1]}>&-"
	wait "${LEAF_PID[$1]}" || fail "leaf $1: $(grep -m3 -v '^sdu\|^registered' "$NETNS_TMP/$1.out")"
	grep -q '^eof$' "$NETNS_TMP/$1.out" || fail "leaf $1 saw no end of file"
}

# seqs NAME : the sequence numbers the leaf received, one per line
seqs() { awk '$1 == "sdu" { print $2 }' "$NETNS_TMP/$1.out"; }

# in_order NAME : strictly increasing (nothing repeated, nothing reordered)
in_order() {
	seqs "$1" | awk 'NR > 1 && $1 <= prev { bad = 1 } { prev = $1 } END { exit bad }' ||
		fail "leaf $1: SDUs out of order"
}

wait_connected() {
	local c i
	for c in "$@"; do
		for i in $(seq 100); do
			grep -q '^connected ' "$NETNS_TMP/$c.out" 2>/dev/null && continue 2
			sleep 0.1
		done
		fail "leaf $c never connected: $(cat "$NETNS_TMP/$c.out")"
	done
}

stat_of() { # NODE KEY
	in_node "$1" "$BUILD/tools/cmctl" -s "${NODE_SOCK[$1]}" stats |
		awk -v k="$2" '$1 == k { print $2 }'
}

# party_counters NODE LEAF : "SDUS OCTETS LOST" of the leaf's one party, as
# cmctl -j vc show gives them on NODE for the VC the leaf printed
party_counters() {
	local vc
	vc=$(awk '$1 == "connected" { print $2 }' "$NETNS_TMP/$2.out")
	in_node "$1" "$BUILD/tools/cmctl" -s "${NODE_SOCK[$1]}" -j vc show "$vc" |
		python3 -c 'import json, sys
p = json.load(sys.stdin)["party_list"]
assert len(p) == 1, p
print(p[0]["data_sdus"], p[0]["data_octets"], p[0]["data_lost"])' ||
		fail "cmctl vc show $vc on $1"
}

# settle NODE LEAF : until neither the node's daemon has written an SDU to a
# leaf descriptor nor the leaf has read one for half a second
settle() {
	local i now last= same=0
	for i in $(seq 300); do
		now="$(stat_of "$1" data_sdus_out) $(stat_of "$1" data_sdus_lost) $(seqs "$2" | wc -l)"
		[ "$now" = "$last" ] && same=$((same + 1)) || same=0
		[ $same -ge 5 ] && return 0
		last=$now
		sleep 0.1
	done
	fail "node $1 and leaf $2 never settled"
}

# wait_sdus LEAF N : until the leaf has read N SDUs (30 s at most)
wait_sdus() {
	local i
	for i in $(seq 300); do
		[ "$(seqs "$1" | wc -l)" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "leaf $1: $(seqs "$1" | wc -l) of $2 SDUs"
}

netns_init data A B C
# B takes frames from A and C only
printf '[daemon]\nallowed_peers = %s %s\n' "${NODE_MAC[A]}" "${NODE_MAC[C]}" >"$(node_config B)"
for n in A B C; do node_start $n; done

log "1. sizes 1, 1500, 9180 to three parties on two nodes"
CAPTURE_FILTER="ether proto 0x88b5 or ether proto 0x88b6" capture_start
leaf b1 B 1; leaf b2 B 2; leaf c1 C 1
# 150 SDUs: about 1 MB of socket memory, within one leaf end's buffer
# (docs/data-path.md), so none is lost even if a leaf client gets no CPU
# during the burst; a slow leaf losing SDUs is case 6's
root "b1 b2 c1" A 150 1,1500,9180 "$(aesa B 1)" "$(aesa B 2)" "$(aesa C 1)"
for l in b1 b2 c1; do
	leaf_done $l
	[ "$(seqs $l | wc -l)" = 150 ] || fail "leaf $l: $(seqs $l | wc -l) of 150 SDUs"
	in_order $l
done
lens=$(awk '$1 == "sdu" { print $3 }' "$NETNS_TMP/b1.out" | sort -un | tr '\n' ' ')
[ "$lens" = "1 1500 9180 " ] || fail "lengths seen: $lens"
capture_stop
# the checks below take a missing frame for callmgr's fault: say if it was dumpcap's
drops=$(sed -n "s|^Packets received/dropped on interface '[^']*': [0-9]*/\([0-9]*\).*|\1|p" \
	"$NETNS_TMP/dumpcap.log")
[ "${drops:-0}" = 0 ] || fail "dumpcap dropped $drops frames: the capture is incomplete"
python3 "$SRC/tests/netns/data_wire_check.py" "$CAPTURE_FILE" "$SRC/tools/callmgr.lua" \
	150 1,1500,9180 "${NODE_MAC[A]}" "${NODE_MAC[B]}" "${NODE_MAC[C]}" ||
	fail "Wireshark: the data frames are not what was sent ($CAPTURE_FILE)"
# the signalling alone, judged as every netns test judges it
tshark -r "$CAPTURE_FILE" -Y "eth.type == 0x88b5" -w "$NETNS_TMP/sig.pcap" 2>/dev/null ||
	fail "tshark could not select the signalling frames"
CAPTURE_FILE=$NETNS_TMP/sig.pcap
wire_check SETUP CONNECT "ADD PARTY" "ADD PARTY ACKNOWLEDGE" RELEASE "RELEASE COMPLETE"

log "2. a party dropped mid-stream"
leaf b1 B 1; leaf b2 B 2; leaf c1 C 1
root "b1 b2 c1" A 400 1500 "$(aesa B 1)" "$(aesa B 2)" "$(aesa C 1)" -- drop 200 1 gap 1
for l in b1 b2 c1; do leaf_done $l; in_order $l; done
[ "$(seqs b1 | wc -l)" = 400 ] || fail "b1: $(seqs b1 | wc -l) of 400"
[ "$(seqs c1 | wc -l)" = 400 ] || fail "c1: $(seqs c1 | wc -l) of 400"
# everything sent before the DropParty, nothing after
[ "$(seqs b2 | wc -l)" = 200 ] && [ "$(seqs b2 | tail -n1)" = 199 ] ||
	fail "b2 (dropped after 200): $(seqs b2 | wc -l) SDUs, last $(seqs b2 | tail -n1)"

log "3. a party added later"
leaf b1 B 1; leaf c1 C 1
root b1 A 300 700 "$(aesa B 1)" -- add 100 "$(aesa C 1)" gap 1
for l in b1 c1; do leaf_done $l; in_order $l; done
[ "$(seqs b1 | wc -l)" = 300 ] || fail "b1: $(seqs b1 | wc -l) of 300"
# nothing from before its AddParty; from its first on, everything (its
# descriptor may come a moment after the AddParty completes)
first=$(seqs c1 | head -n1)
[ -n "$first" ] && [ "$first" -ge 100 ] && [ "$(seqs c1 | wc -l)" = $((300 - first)) ] ||
	fail "c1 (added at 100): first $first, $(seqs c1 | wc -l) SDUs"

log "4. forged data frames"
before=$(stat_of B data_frames_dropped)
in_node A python3 - "${NODE_MAC[B]}" "${NODE_MAC[A]}" <<'PY' || fail "forging"
import socket, struct, sys
dst = bytes.fromhex(sys.argv[1].replace(':', ''))
own = bytes.fromhex(sys.argv[2].replace(':', ''))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('cm0', 0))
payload = bytes(48)
for src, vci in ((own, 4000), (own, 33), (bytes.fromhex('02aabbccddee'), 32)):
    hdr = struct.pack('>BBHHHBBH', 1, 1, 0, vci, 0, 0, 0, len(payload))
    s.send(dst + src + struct.pack('>H', 0x88B6) + hdr + payload)
PY
sleep 0.5
after=$(stat_of B data_frames_dropped)
[ "$((after - before))" = 3 ] || fail "forged frames dropped: $before -> $after"

log "5. a root faster than its interface is throttled, not cut"
if in_node A tc qdisc add dev cm0 root tbf rate 20mbit burst 32kbit latency 400ms 2>/dev/null; then
	leaf b1 B 1
	start=$(date +%s.%N)
	root b1 A 200 9180 "$(aesa B 1)"
	took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	leaf_done b1
	in_order b1
	[ "$(seqs b1 | wc -l)" = 200 ] || fail "b1 behind a 20 Mbit/s interface: $(seqs b1 | wc -l) of 200"
	log "200 SDUs of 9180 octets through 20 Mbit/s in ${took}s, none lost"
	in_node A tc qdisc del dev cm0 root
else
	log "no tbf qdisc here: case 5 skipped"
fi

log "6. a leaf that stops reading loses, counted; the others get all"
declare -A out0
for k in data_sdus_out data_octets_out data_sdus_lost; do out0[$k]=$(stat_of B $k); done
leaf b1 B 1; leaf b2 B 2 stall 10; leaf c1 C 1
# A leaf end holds about 540 of these SDUs: b2 must lose some, and b1 and c1
# lose none as long as each is scheduled once per second (540 SDUs 2 ms apart)
root_start "b1 b2 c1" A 1000 1500 "$(aesa B 1)" "$(aesa B 2)" "$(aesa C 1)" -- gap 2 hold
wait_sdus b1 1000
wait_sdus c1 1000
grep -q '^stalled$' "$NETNS_TMP/b2.out" || fail "b2 did not stall"
for l in b1 c1; do
	node=B
	[ $l = c1 ] && node=C
	read -r sdus octets lost <<<"$(party_counters $node $l)"
	[ "$sdus $octets $lost" = "1000 1500000 0" ] ||
		fail "leaf $l on $node: counters $sdus SDUs, $octets octets, $lost lost; 1000 whole SDUs read"
done
read -r sdus2 octets2 lost2 <<<"$(party_counters B b2)"
log "b2, not reading: $sdus2 SDUs ($octets2 octets) in its descriptor, $lost2 lost"
[ "$lost2" -gt 0 ] && [ $((sdus2 + lost2)) = 1000 ] && [ "$octets2" = $((sdus2 * 1500)) ] ||
	fail "b2 stalled: $sdus2 SDUs, $octets2 octets, $lost2 lost of 1000"
# the node's totals: the two parties' counts, nothing else lost
d_out=$(($(stat_of B data_sdus_out) - out0[data_sdus_out]))
d_oct=$(($(stat_of B data_octets_out) - out0[data_octets_out]))
d_lost=$(($(stat_of B data_sdus_lost) - out0[data_sdus_lost]))
[ "$d_out $d_oct $d_lost" = "$((1000 + sdus2)) $((1500 * (1000 + sdus2))) $lost2" ] ||
	fail "B's stats: $d_out SDUs out, $d_oct octets, $d_lost lost; parties say $((1000 + sdus2)), $lost2 lost"
echo resume >&"${LEAF_IN[b2]}"
root_end
for l in b1 b2 c1; do leaf_done $l; in_order $l; done
# b2 reads what its descriptor held when it stalled, and nothing more
[ "$(seqs b2 | wc -l)" = "$sdus2" ] || fail "b2 read $(seqs b2 | wc -l) SDUs, its party counted $sdus2"

log "7. a leaf node that stops: its kernel's drops are counted, the root goes on"
k0=$(stat_of B data_frames_kernel_dropped)
a0=$(stat_of A data_sdus_lost)
l0=$(stat_of B data_sdus_lost)
leaf b1 B 1
# 1,000 SDUs of 9,180 octets are 7,000 frames, over 10 MB: more than B's
# data socket holds (4 MiB, doubled by the kernel) while B reads nothing
root_start b1 A 1010 9180 "$(aesa B 1)" -- pause 1000 hold
kill -STOP "${NODE_PID[B]}"
for i in $(seq 50); do
	grep -q '^paused ' "$NETNS_TMP/root.out" && break
	sleep 0.1
done
kill -CONT "${NODE_PID[B]}"
grep -q '^paused 1000$' "$NETNS_TMP/root.out" ||
	fail "the root was held by a stopped leaf node: $(tail -n 2 "$NETNS_TMP/root.out")"
[ "$(stat_of A data_sdus_lost)" = "$a0" ] || fail "A lost SDUs: the wire refused them"
# B works through what its socket kept, b1 reads it; then ten more SDUs,
# whose sequence numbers tell B how many of the first thousand never came
settle B b1
n=$(seqs b1 | wc -l)
echo more >&"$ROOT_GO"
wait_sdus b1 $((n + 10))
grep -q '^sent 1010$' "$NETNS_TMP/root.out" || fail "root: $(tail -n 2 "$NETNS_TMP/root.out")"
k=$(($(stat_of B data_frames_kernel_dropped) - k0))
read -r sdus octets lost <<<"$(party_counters B b1)"
log "B stopped: $k data frames dropped by its kernel; b1's party: $sdus SDUs, $lost lost"
[ "$k" -gt 0 ] && [ "$k" -le 7000 ] || fail "B's data_frames_kernel_dropped rose by $k"
[ "$lost" -gt 0 ] && [ $((sdus + lost)) = 1010 ] && [ "$octets" = $((sdus * 9180)) ] ||
	fail "b1's party on B: $sdus SDUs ($octets octets) and $lost lost of 1010"
[ "$(($(stat_of B data_sdus_lost) - l0))" = "$lost" ] ||
	fail "B's data_sdus_lost rose by $(($(stat_of B data_sdus_lost) - l0)), b1's party lost $lost"
root_end
leaf_done b1
in_order b1
[ "$(seqs b1 | wc -l)" = "$sdus" ] || fail "b1 read $(seqs b1 | wc -l) SDUs, its party counted $sdus"

log "8. through a switch that loses and reorders"
for n in A B C; do node_kill $n; done
switch_impair 10 25
for n in A B C; do node_start $n; done
leaf b1 B 1; leaf c1 C 1
root "b1 c1" A 400 1,1500,9180 "$(aesa B 1)" "$(aesa C 1)" -- gap 2
impair_stop
for l in b1 c1; do
	leaf_done $l
	in_order $l
	got=$(seqs $l | wc -l)
	log "leaf $l: $got of 400 SDUs, none damaged"
	[ "$got" -gt 0 ] || fail "leaf $l received nothing"
done
log "PASS"
