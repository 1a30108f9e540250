#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue #4, scenario 3: the peer daemon on B is killed with SIGKILL while
# two calls reach it: VC1 (parties on B and C) and VC2 (B only).  SSCOP
# notices the silence (Timer_NO-RESPONSE), the calls survive T309, then the
# root's client gets IncomingDropParty for B's party on VC1 and
# IncomingCloseCall for VC2, no sooner than T309 and with nothing hanging.
# B's daemon restarted sends RESTART (clearing whatever A still held for it)
# and a new call to B works, even when A's SETUP crosses B's RESTART (B
# takes it once A acknowledged).  On the wire no node sends a SETUP while
# its RESTART to that peer awaits RESTART ACKNOWLEDGE (Q.2931 5.5.1, T316).
# Short timers come from the config file.
#   peer-restart.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
netns_require

t309=2000
noresponse=1000
netns_init rst A B C
for n in A B C; do
	cat >"$(node_config $n)" <<-EOF
	[timers]
	t309 = $t309
	t322 = 1000
	timer_cc = 200
	timer_poll = 100
	timer_keepalive = 200
	timer_noresponse = $noresponse
	timer_idle = 500
	EOF
done
capture_start
for n in A B C; do node_start $n; done

client_start root A
client_start b1 B
client_start c1 C
say b1 sap 16 s; expect b1 '^sap_complete tag=s status=OK'
say c1 sap 18 s; expect c1 '^sap_complete tag=s status=OK'
address b1 16; addr_b=$ADDR
address c1 18; addr_c=$ADDR

log "VC1 to B and C, VC2 to B"
say root call "$addr_b" mk1
expect root '^call_complete tag=mk1 status=OK' 15
vc1=$(field vc)
p1b=$(field party)
say root add "$vc1" "$addr_c" add1
expect root '^add_complete tag=add1 status=OK' 15
p1c=$(field party)
say root call "$addr_b" mk2
expect root '^call_complete tag=mk2 status=OK' 15
vc2=$(field vc)
expect b1 '^call_connected '
expect b1 '^call_connected '
expect c1 '^call_connected '

log "SIGKILL callmgrd on B"
t0=${EPOCHREALTIME/./}
node_kill B KILL
expect b1 '^disconnected$' 5
# the two events may come in either order: wait for both, then check each
expect root "^incoming_(drop_party vc=$vc1 party=$p1b|close_call vc=$vc2) " 20
first=$LINE
t1=${EPOCHREALTIME/./}
expect root "^incoming_(drop_party vc=$vc1 party=$p1b|close_call vc=$vc2) " 10
echo "$first $LINE" | grep -q "incoming_drop_party vc=$vc1 party=$p1b" ||
	fail "no IncomingDropParty for B's party on VC1"
echo "$first $LINE" | grep -q "incoming_close_call vc=$vc2" || fail "no IncomingCloseCall for VC2"
elapsed=$(((t1 - t0) / 1000))
log "the root heard of B's loss after ${elapsed} ms (T309 $t309 ms, no-response $noresponse ms)"
[ "$elapsed" -ge "$t309" ] || fail "calls cleared after $elapsed ms, before T309 ($t309 ms) ran out"
[ "$elapsed" -le $((t309 + noresponse + 500 + 5000)) ] || fail "calls cleared only after $elapsed ms"
expect root '^drop_complete tag=auto status=OK'
expect root '^close_complete tag=auto status=OK'
# VC1 lives on with C
expect_none c1 '^incoming_close_call'

log "restart callmgrd on B; a new call to it works"
node_start B
client_start b2 B
say b2 sap 16 s; expect b2 '^sap_complete tag=s status=OK'
address b2 16
[ "$ADDR" = "$addr_b" ] || fail "B's address changed across the restart: $ADDR, was $addr_b"
say root call "$addr_b" mk3
expect root '^call_complete tag=mk3 ' 15
[ "$(field status)" = OK ] || fail "new call to restarted B: $LINE"
vc3=$(field vc)
p3=$(field party)
expect b2 '^incoming_call '
expect b2 '^call_connected '
# B joins the surviving VC1 again: a new leg, so SETUP, not ADD PARTY
say root add "$vc1" "$addr_b" add4
expect root '^add_complete tag=add4 status=OK' 15
p4=$(field party)
expect b2 '^call_connected '

log "tear down"
say root close "$vc3" "$p3" - c3
expect root '^close_complete tag=c3 status=OK' 15
say root drop "$vc1" "$p4" - d4
expect root '^drop_complete tag=d4 status=OK' 15
say root close "$vc1" "$p1c" - c1
expect root '^close_complete tag=c1 status=OK' 15
for c in root c1 b2; do
	say "$c" pending
	expect "$c" '^pending '
	[ "$LINE" = "pending 0" ] || fail "$c: requests without completion: $LINE"
	expect_none "$c" '^(duplicate|bad_command|disconnected)'
done
no_vcs_left 15 A B C
WIRE_CHECK_OPTS=--restart-first wire_check SETUP CONNECT RESTART "RESTART ACKNOWLEDGE" RELEASE \
	"RELEASE COMPLETE"
log "PASS"
