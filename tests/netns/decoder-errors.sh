#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue #12: a live callmgrd acts on the decoder's verdict and on each IE's
# action indicator (Q.2931 5.6/5.7).  R runs no daemon: tests/netns/qpeer.py
# sets up SSCOP with A, acknowledges A's RESTART, and sends SETUPs and
# RELEASEs with an unrecognised IE ("discard IE and proceed", "discard and
# report", "discard message"), an optional IE with invalid contents, and a
# mandatory IE missing, checking each of A's answers on the wire.  A's
# client sees the three calls offered and cleared.  Everything A sent is
# judged by Wireshark and ngatm (R's deliberately faulty frames are not
# captured).
#   decoder-errors.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
netns_require

netns_init dec A R
cat >"$(node_config A)" <<-EOF2
[timers]
t310 = 30000
EOF2
CAPTURE_FILTER="ether proto 0x88b5 and ether src ${NODE_MAC[A]}"
capture_start
node_start A
client_start lA A
say lA auto off
say lA sap 16 s; expect lA '^sap_complete tag=s status=OK'
address lA 16

log "R speaks to A with hand-made messages"
in_node R python3 "$SRC/tests/netns/qpeer.py" cm0 "${NODE_MAC[A]}" "$ADDR" \
	>"$NETNS_TMP/qpeer.txt" 2>&1
rc=$?
cat "$NETNS_TMP/qpeer.txt"
[ "$rc" -eq 0 ] || fail "A's answers were not those of Q.2931 5.6/5.7"

# the three calls that were processed reached the client, and their ends too
for i in 1 2 3; do expect lA '^incoming_call ' 5; done
for i in 1 2 3; do expect lA '^incoming_close_call ' 5; done
n=$(grep -c '^incoming_call ' "$NETNS_TMP/lA.out")
[ "$n" -eq 3 ] || fail "$n calls offered, 3 expected (the refused SETUP is not one)"
client_stop lA
no_vcs_left 10 A
wire_check RESTART STATUS "RELEASE COMPLETE"
log "PASS"
