#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# [daemon] allowed_peers (issue #7): A lists only B.  R, a node with no
# daemon, sends BGN, SD (SETUP) and POLL to A:
#  - A answers nothing (no BGAK, no END), makes no association with R, and
#    counts every frame in frames_unknown_peer;
#  - A's call to B works as before;
#  - a MakeCall from A to a party on R's MAC completes with E_UNREACHABLE.
#   allowlist.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
. "$SRC/tests/faults/lib.sh"
faults_require

netns_init allow A B R
faults_config A B
printf '[daemon]\nallowed_peers = %s\n' "${NODE_MAC[B]}" >>"$(node_config A)"
for n in A B; do node_start $n; done
leaves B
client_start root A

unknown0=$(stat_of A frames_unknown_peer)
log "R (not allowed): BGN, SD and POLL"
in_node R python3 "$SRC/tests/faults/rawpeer.py" cm0 "${NODE_MAC[A]}" outsider ||
	fail "A answered a node outside allowed_peers"
unknown1=$(stat_of A frames_unknown_peer)
[ "$unknown1" -ge $((unknown0 + 3)) ] || fail "frames_unknown_peer $unknown0 -> $unknown1"
log "frames_unknown_peer $unknown0 -> $unknown1"
links=$(cmctl_on A -j links)
case ${links,,} in
*"${NODE_MAC[R],,}"*) fail "A has an association with R: $links" ;;
esac

say root call "${ADDRS[B]}" mk1
wait_tag root mk1 15; want_status OK
vc=$(field vc); p_b=$(field party)
expect lB '^call_connected '

# B's address with R's MAC as its ESI (prefix: 26 hex digits, ESI: 12, SEL: 2)
rmac=${NODE_MAC[R]//:/}
to_r=${ADDRS[B]:0:26}$rmac${ADDRS[B]:38:2}
log "MakeCall to $to_r"
say root call "$to_r" mk2
wait_tag root mk2 5; want_status E_UNREACHABLE

say root close "$vc" "$p_b" - cl1
wait_tag root cl1 15; want_status OK
expect lB '^incoming_close_call .*cause=16'
for c in root lB; do counts_wait "$c" 20; done
no_vcs_left 20 A B
log "PASS"
