#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 11 (races) and issue 15 (shutdown on the wire), with real daemons on
# two nodes: an operator's drop and close (cmctl) answered at once by the
# owner, whose client answers from its callback while the DROP PARTY or
# RELEASE is still on the wire: every answer completes OK at once and
# nothing is left behind.  Then SIGTERM of the root's daemon with a call up:
# the owners' answers during the shutdown complete OK, and the daemon ends
# its SSCOP association only after the peer's RELEASE COMPLETE came in (its
# log must not show the SD carrying it ignored by a released link).
#   races.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
netns_require

netns_init races A B
for n in A B; do
	printf '[timers]\ntimer_keepalive = 300\ntimer_noresponse = 3000\n' >"$(node_config $n)"
done
# the releasing side's SSCOP says at debug level what it ignores
CALLMGRD_LOG_LEVEL=debug node_start A
node_start B

client_start root A
client_start b1 B
client_start b2 B
say b1 sap 16 s; expect b1 '^sap_complete tag=s status=OK'
say b2 sap 17 s; expect b2 '^sap_complete tag=s status=OK'
address b1 16; addr_b1=$ADDR
address b2 17; addr_b2=$ADDR

cmctl_a() { in_node A "$BUILD/tools/cmctl" -s "${NODE_SOCK[A]}" "$@"; }

# a call from root to b1 with b2 added; prints nothing, sets vc and p_b2
call_two() {
	say root call "$addr_b1" "mk$1"
	expect root "^call_complete tag=mk$1 " 15
	[ "$(field status)" = OK ] || fail "MakeCall: $LINE"
	vc=$(field vc)
	expect b1 '^call_connected '
	say root add "$vc" "$addr_b2" "add$1"
	expect root "^add_complete tag=add$1 " 15
	[ "$(field status)" = OK ] || fail "AddParty: $LINE"
	p_b2=$(field party)
	expect b2 '^call_connected '
}

for i in 1 2 3 4 5; do
	log "round $i: cmctl drop, the owner answering at once"
	call_two "$i"
	cmctl_a drop "$vc" "$p_b2" >/dev/null || fail "cmctl drop $vc $p_b2 failed"
	expect root '^incoming_drop_party ' 15
	[ "$(field party)" = "$p_b2" ] || fail "IncomingDropParty for the wrong party: $LINE"
	expect root '^drop_complete tag=auto ' 15
	[ "$(field status)" = OK ] || fail "the owner's answer to an operator's drop: $LINE"
	expect b2 '^incoming_close_call ' 15
	expect b2 '^close_complete tag=auto status=OK'
	log "round $i: cmctl close, the owner answering at once"
	cmctl_a close "$vc" >/dev/null || fail "cmctl close $vc failed"
	expect root '^incoming_close_call ' 15
	expect root '^close_complete tag=auto ' 15
	[ "$(field status)" = OK ] || fail "the owner's answer to an operator's close: $LINE"
	expect b1 '^incoming_close_call ' 15
	expect b1 '^close_complete tag=auto status=OK'
	no_vcs_left 15 A B
done

log "SIGTERM of A with a call up: answers accepted, RELEASE COMPLETE awaited"
call_two 9
kill -TERM "${NODE_PID[A]}"
expect root '^incoming_close_call ' 15
[ "$(field cause)" = 31 ] || fail "IncomingCloseCall on shutdown: $LINE (want cause 31)"
expect root '^close_complete tag=auto ' 15
[ "$(field status)" = OK ] || fail "the owner's answer during the shutdown: $LINE"
expect b1 '^incoming_close_call ' 15
expect b1 '^close_complete tag=auto status=OK'
expect b2 '^incoming_close_call ' 15
expect b2 '^close_complete tag=auto status=OK'
wait "${NODE_PID[A]}"
rc=$?
NODE_PID[A]=
[ "$rc" = 0 ] || fail "callmgrd on A exited with $rc after SIGTERM"
if grep -E 'SD ignored|legs still clearing|VCs still present' "$NETNS_TMP/A.log"; then
	fail "A ended its association before the peer's RELEASE COMPLETE"
fi
no_vcs_left 15 B
for c in root b1 b2; do
	expect_none "$c" '^(duplicate|bad_command)'
done
log "PASS"
