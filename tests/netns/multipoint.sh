#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue #4, scenario 1: a multipoint call across three nodes, on the wire.
# A root client on A calls a party on B, adds parties on C, on A itself and a
# second one on B (ADD PARTY on the existing leg); drops parties with user
# data the leaves receive byte-exact; a leaf closing its VC reaches the root
# as IncomingDropParty; the root closes the call with the last party.  The
# bridge is captured throughout and Wireshark must decode every frame.
#   multipoint.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
netns_require

netns_init mp A B C
for n in A B C; do
	# SSCOP notices a lost peer quickly; nothing here should need it
	printf '[timers]\ntimer_keepalive = 300\ntimer_noresponse = 3000\n' >"$(node_config $n)"
done
capture_start
for n in A B C; do node_start $n; done

client_start root A
client_start la A
client_start b1 B
client_start b2 B
client_start c1 C
say la sap 32 s; expect la '^sap_complete tag=s status=OK'
say b1 sap 16 s; expect b1 '^sap_complete tag=s status=OK'
say b2 sap 17 s; expect b2 '^sap_complete tag=s status=OK'
say c1 sap 18 s; expect c1 '^sap_complete tag=s status=OK'
address la 32; addr_a=$ADDR
address b1 16; addr_b1=$ADDR
address b2 17; addr_b2=$ADDR
address c1 18; addr_c1=$ADDR
# the ESI of each address is the MAC of its node's interface
for pair in "$addr_b1 B" "$addr_c1 C" "$addr_a A"; do
	set -- $pair
	mac=$(echo "${NODE_MAC[$2]}" | tr -d :)
	[ "${1:26:12}" = "$mac" ] || fail "address $1 of node $2 does not hold its MAC $mac"
done

# every leaf must see the rate and class the root asked for: 1,000 kbit/s
# (not 999 after cell-rate rounding) and QoS class 3 (ATM Forum coding),
# whether SETUP or ADD PARTY reached it
leaf_params_ok() {
	[ "$(field peak)" = 1000 ] && [ "$(field qos)" = 3 ] ||
		fail "leaf $1 was offered other call parameters: $LINE (want peak=1000 qos=3)"
}

log "MakeCall to B, QoS class 3"
say root call "$addr_b1" mk 3
expect root '^call_complete tag=mk ' 15
[ "$(field status)" = OK ] || fail "MakeCall: $LINE"
vc=$(field vc)
p_b1=$(field party)
expect b1 '^incoming_call '
leaf_params_ok b1
expect b1 '^call_connected '
vc_b1=$(field vc)
party_b1=$(field party)

log "AddParty C, local A, second on B"
say root add "$vc" "$addr_c1" addc
expect root '^add_complete tag=addc status=OK' 15
p_c1=$(field party)
say root add "$vc" "$addr_a" adda
expect root '^add_complete tag=adda status=OK' 15
p_a=$(field party)
say root add "$vc" "$addr_b2" addb2
expect root '^add_complete tag=addb2 status=OK' 15
p_b2=$(field party)
expect c1 '^incoming_call '
leaf_params_ok c1
expect c1 '^call_connected '
expect la '^incoming_call '
leaf_params_ok la
expect la '^call_connected '
# reached by ADD PARTY on B's leg: the parameters come from that leg's SETUP
expect b2 '^incoming_call '
leaf_params_ok b2
expect b2 '^call_connected '
[ "$(echo "$p_b1 $p_c1 $p_a $p_b2" | tr ' ' '\n' | sort -u | wc -l)" = 4 ] ||
	fail "party ids not distinct: $p_b1 $p_c1 $p_a $p_b2"

# user data: every other octet value in one drop, the 127-octet maximum in another
data_all=$(printf '%02x' $(seq 0 2 252))
data_b2=$(printf 'bye b2 \001\000\377' | od -An -tx1 | tr -d ' \n')
data_leaf=$(printf 'b1 leaves' | od -An -tx1 | tr -d ' \n')
data_last=$(printf 'the end' | od -An -tx1 | tr -d ' \n')
too_big=$(printf 'ab%.0s' $(seq 128))

log "DropParty with 128 octets is refused"
say root drop "$vc" "$p_b2" "$too_big" big
expect root '(^refused drop tag=big|^drop_complete tag=big) status=E_TOO_BIG'

log "DropParty b2 (DROP PARTY on leg B, b1 stays)"
say root drop "$vc" "$p_b2" "$data_b2" dropb2
expect root '^drop_complete tag=dropb2 ' 15
[ "$(field status)" = OK ] || fail "DropParty b2: $LINE"
expect b2 '^incoming_close_call '
[ "$(field data)" = "$data_b2" ] || fail "b2 got data $(field data), sent $data_b2"
expect b2 '^close_complete tag=auto status=OK'

log "leaf b1 closes its VC: IncomingDropParty at the root"
say b1 close "$vc_b1" "$party_b1" "$data_leaf" leave
expect b1 '^close_complete tag=leave status=OK' 15
expect root '^incoming_drop_party ' 15
[ "$(field vc)" = "$vc" ] && [ "$(field party)" = "$p_b1" ] ||
	fail "IncomingDropParty names the wrong party: $LINE (want vc $vc party $p_b1)"
[ "$(field data)" = "$data_leaf" ] || fail "root got data $(field data), leaf sent $data_leaf"
expect root '^drop_complete tag=auto status=OK'

log "DropParty c1 with 127 octets (RELEASE of leg C)"
say root drop "$vc" "$p_c1" "$data_all" dropc
expect root '^drop_complete tag=dropc ' 15
[ "$(field status)" = OK ] || fail "DropParty c1: $LINE"
expect c1 '^incoming_close_call '
[ "$(field data)" = "$data_all" ] || fail "c1 got data $(field data), sent $data_all"
expect c1 '^close_complete tag=auto status=OK'

log "DropParty on the last party is refused; CloseCall names it"
say root drop "$vc" "$p_a" - last
expect root '(^refused drop tag=last|^drop_complete tag=last) status=E_LAST_PARTY'
say root close "$vc" "$p_a" "$data_last" bye
expect root '^close_complete tag=bye ' 15
[ "$(field status)" = OK ] || fail "CloseCall: $LINE"
expect la '^incoming_close_call '
[ "$(field data)" = "$data_last" ] || fail "local leaf got data $(field data), sent $data_last"
expect la '^close_complete tag=auto status=OK'

for c in root la b1 b2 c1; do
	say "$c" pending
	expect "$c" '^pending '
	[ "$LINE" = "pending 0" ] || fail "$c: requests without completion: $LINE"
	expect_none "$c" '^(duplicate|bad_command|disconnected)'
done
no_vcs_left 15 A B C
WIRE_CHECK_OPTS=--restart-first wire_check SETUP CONNECT "ADD PARTY" "ADD PARTY ACKNOWLEDGE" "DROP PARTY" \
	"DROP PARTY ACKNOWLEDGE" RELEASE "RELEASE COMPLETE"
log "PASS"
