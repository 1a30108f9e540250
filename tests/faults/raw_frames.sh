#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A hostile node R on the same segment, with no daemon, sends hand-built
# frames (rawpeer.py) to A while A has a call up with B:
#  - SSCOP POLL and SD from a MAC with no association: answered by END,
#    counted in frames_unknown_peer, nothing delivered;
#  - after a BGN, CONNECT and RELEASE for a call reference R never set up
#    (the one A's call to B uses): RELEASE COMPLETE cause 81 each, counted
#    in msgs_bad;
#  - the A-B call is untouched: no event at either end, and it closes fine.
#   raw_frames.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
. "$SRC/tests/faults/lib.sh"
faults_require

netns_init raw A B R
faults_config A B
for n in A B; do node_start $n; done
leaves B
client_start root A
say root call "${ADDRS[B]}" mk1
wait_tag root mk1 15; want_status OK
vc=$(field vc); p_b=$(field party)
expect lB '^call_connected '

unknown0=$(stat_of A frames_unknown_peer)
bad0=$(stat_of A msgs_bad)
log "R: POLL and SD with no association"
in_node R python3 "$SRC/tests/faults/rawpeer.py" cm0 "${NODE_MAC[A]}" stranger ||
	fail "A did not end the stranger's association attempt"
unknown1=$(stat_of A frames_unknown_peer)
[ "$unknown1" -ge $((unknown0 + 2)) ] || fail "frames_unknown_peer $unknown0 -> $unknown1"
log "frames_unknown_peer $unknown0 -> $unknown1"

log "R: forged call reference 1 (A's call to B has it too)"
in_node R python3 "$SRC/tests/faults/rawpeer.py" cm0 "${NODE_MAC[A]}" forged 1 ||
	fail "A did not answer forged call references with cause 81"
bad1=$(stat_of A msgs_bad)
[ "$bad1" -ge $((bad0 + 2)) ] || fail "msgs_bad $bad0 -> $bad1"
log "msgs_bad $bad0 -> $bad1"

sleep 0.5
expect_none root '^incoming_'
expect_none lB '^incoming_close_call'
say root close "$vc" "$p_b" - cl1
wait_tag root cl1 15; want_status OK
expect lB '^incoming_close_call .*cause=16'
for c in root lB; do counts_wait "$c" 20; done
no_vcs_left 20 A B
log "PASS"
