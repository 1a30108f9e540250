#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 13 finding 2, link side: node R floods A with BGNs from 5,000
# random MACs (more than the 4,096-entry peer table, past the 3,072 a
# stranger may fill), 63 out-of-order 1,480-octet SDs from 1,500 of them
# (140 MB if all were kept), while A has a
# call up with B and keeps making calls to B.  Asserted: every MakeCall to
# B during and after the flood completes OK with its round trip under
# 2,000 ms; A's link to B stays up (it was proven before the flood, so it
# is never displaced); A's RSS stays
# under 96 MiB (256 MiB under AddressSanitizer); after the flood a call to
# C, a peer A never talked to, works (the table keeps room for our own
# calls); calls B -> A work; the daemon's CPU falls back to idle; the link
# layer logged under 300 lines.
# Link timers stay at their defaults, so the strangers' associations live
# through the flood (Timer_NO-RESPONSE 7 s).
#   flood.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/hostile/lib.sh"

netns_init flood A B C R
for n in A B C; do node_start $n; done
leaves A B C
client_start root A
RTT_MAX_MS=2000
RSS_MAX_KB=$((96 * 1024))
daemon_is_asan && RSS_MAX_KB=$((256 * 1024))

# call_rtt TAG : MakeCall A -> B, closed again; its round trip into $RTT
call_rtt() {
	local t0 vc
	t0=${EPOCHREALTIME/./}
	say root call "${ADDRS[B]}" "$1"
	wait_tag root "$1" 15; want_status OK
	RTT=$(((${EPOCHREALTIME/./} - t0) / 1000))
	vc=$(field vc)
	expect lB '^call_connected '
	say root fclose "$vc" - "x$1"
	wait_tag root "x$1" 15; want_status OK
	expect lB '^incoming_close_call ' 10
	[ "$RTT" -lt "$RTT_MAX_MS" ] || fail "MakeCall $1 took $RTT ms (bound $RTT_MAX_MS)"
}

# B's view of its association with A: "STATE ESTABLISHMENTS".  Had A
# evicted or reset B, B would count a new establishment.  (A's own list is
# sorted by MAC and long during the flood.)
b_link() {
	cmctl_on B -j link list | python3 -c '
import json, sys
for k in json.load(sys.stdin):
    if k["peer"].lower() == sys.argv[1].lower():
        print(k["state"], k["establishments"])' "${NODE_MAC[A]}"
}

call_rtt warm
say root call "${ADDRS[B]}" held
wait_tag root held 15; want_status OK
expect lB '^call_connected '
sleep 3 # a few POLL/STAT rounds: B is a proven peer
rss0=$(node_rss_kb A)
link_b0=$(b_link)

log "R floods A"
in_node R python3 "$SRC/tests/hostile/flood.py" cm0 "${NODE_MAC[A]}" 5000 1500 1 \
	>"$NETNS_TMP/flood.out" 2>&1 &
flood=$!
worst=0
for i in $(seq 10); do
	call_rtt "f$i"
	[ "$RTT" -gt "$worst" ] && worst=$RTT
	sleep 0.5
done
wait "$flood" || fail "flood.py: $(cat "$NETNS_TMP/flood.out")"
cat "$NETNS_TMP/flood.out"
rss=$(node_rss_kb A)
log "MakeCall round trip during the flood: worst $worst ms; A's RSS $rss0 -> $rss KiB"
[ "$rss" -lt "$RSS_MAX_KB" ] || fail "A's RSS $rss KiB over $RSS_MAX_KB KiB"
link_b=$(b_link)
log "B's association with A: before the flood '$link_b0', after '$link_b'"
[ "$link_b" = "$link_b0" ] && [ "${link_b%% *}" = ready ] ||
	fail "the association A-B was reset by the flood: '$link_b0' -> '$link_b'"
expect_none root '^incoming_(drop_party|close_call)'

# cmctl link list pages (512 a reply): every entry of A's table, which the
# strangers filled far past one page, in MAC order, as many as stats says
listed=$(cmctl_on A -j link list | python3 -c '
import json, sys
macs = [k["peer"] for k in json.load(sys.stdin)]
print(len(macs) if macs == sorted(set(macs)) else "unsorted")')
peers=$(stat_of A peers)
evicted=$(stat_of A peers_evicted)
refused=$(stat_of A peers_refused)
log "cmctl link list: $listed peers listed, stats: peers $peers, evicted $evicted, refused $refused"
[ "$listed" != unsorted ] || fail "cmctl link list repeats or reorders peers"
[ "$listed" -gt 512 ] && [ $((listed - peers)) -le 2 ] && [ $((peers - listed)) -le 2 ] ||
	fail "cmctl link list showed $listed peers, the table holds $peers"

log "after the flood: a new peer (C), and calls B -> A"
say root call "${ADDRS[C]}" toc
wait_tag root toc 15; want_status OK
expect lC '^call_connected '
say lB call "${ADDRS[A]}" froma
wait_tag lB froma 15; want_status OK
expect lA '^call_connected '
sleep 8 # the strangers' associations fail (no STAT) and go idle
cpu=$(cpu_over A 2)
log "A's CPU over 2 s after the flood: $cpu ticks (HZ $HZ)"
[ "$cpu" -lt $((HZ * 2 / 5)) ] || fail "A busy after the flood: $cpu ticks in 2 s"
# the link layer's own lines are rate-limited (10 a second per message),
# and so are daemon.c's "link up"/"link down", one per stranger before
lines=$(count_in_log A 'link: |sscop ')
updown=$(count_in_log A 'link (up|down)$')
log "A logged $lines link-layer lines, $updown link up/down lines, $(log_lines A) in all"
[ "$lines" -lt 300 ] || fail "A's log flooded: $lines link-layer lines"
[ "$updown" -lt 300 ] || fail "A's log flooded: $updown link up/down lines"
log "PASS"
