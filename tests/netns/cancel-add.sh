#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue #16 item 7 on the wire: a root cancels an AddParty that is still
# pending.  The root on A has a call to b1 on B; it adds b2 (ADD PARTY on
# the A-B leg), which B offers to a client that does not answer, so the
# party stays in PU1 at the root.  cm_add_party_id() gave its id at once,
# and DropParty on it sends DROP PARTY: the add completes E_CLOSING, the
# drop OK, each once; b2 learns the call went away; b1 stays connected.
#   cancel-add.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
netns_require

netns_init cancel A B
capture_start
node_start A
node_start B
client_start root A
client_start b1 B
client_start b2 B
say b2 auto off # offered calls stay unanswered
say b1 sap 16 s; expect b1 '^sap_complete tag=s status=OK'
say b2 sap 17 s; expect b2 '^sap_complete tag=s status=OK'
address b1 16; addr_b1=$ADDR
address b2 17; addr_b2=$ADDR

say root call "$addr_b1" mk
expect root '^call_complete tag=mk ' 15
[ "$(field status)" = OK ] || fail "MakeCall: $LINE"
vc=$(field vc); p_b1=$(field party)
expect b1 '^call_connected '

log "AddParty b2: its id comes back at once, before any answer"
say root add "$vc" "$addr_b2" ad
expect root '^add_pending tag=ad ' 5
p_b2=$(field party)
[ -n "$p_b2" ] && [ "$p_b2" != 0 ] || fail "no party id for the pending add: $LINE"
expect b2 '^incoming_call ' 15
vc_b2=$(field vc); party_b2=$(field party)
expect_none root '^add_complete tag=ad '

log "DropParty on that id while the add is pending"
say root drop "$vc" "$p_b2" - dr
expect root '^add_complete tag=ad ' 15
[ "$(field status)" = E_CLOSING ] && [ "$(field party)" = "$p_b2" ] ||
	fail "the cancelled add completed otherwise: $LINE"
expect root '^drop_complete tag=dr ' 15
[ "$(field status)" = OK ] || fail "DropParty of the pending add: $LINE"
expect b2 '^incoming_close_call ' 15
[ "$(field vc)" = "$vc_b2" ] || fail "b2 was told of another VC: $LINE (want $vc_b2)"
say b2 close "$vc_b2" "$party_b2" - gone
expect b2 '^close_complete tag=gone status=OK'

log "b1 is untouched; close the call"
say root close "$vc" "$p_b1" - bye
expect root '^close_complete tag=bye status=OK' 15
expect b1 '^incoming_close_call '
clients_settled root b1 b2
[ "$(grep -c '^add_complete tag=ad ' "$NETNS_TMP/root.out")" = 1 ] || fail "the add completed twice"
no_vcs_left 15 A B
wire_check SETUP CONNECT "ADD PARTY" "DROP PARTY" "DROP PARTY ACKNOWLEDGE" RELEASE \
	"RELEASE COMPLETE"
log "PASS"
