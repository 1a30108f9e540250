#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The cable of a leaf's node cut and restored, inside and beyond T309
# (3 s here).  Inside: the active call survives (no event at either end) and
# works afterwards; a call still being set up is cleared at once.  Beyond:
# the call is cleared at both ends (cause 27), each side by its own T309.
# Every request completes once; nothing is left; fds unchanged; A's daemon
# runs under valgrind / LeakSanitizer.
#   link_cut.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
. "$SRC/tests/faults/lib.sh"
faults_require

netns_init cut A B C
faults_config A B C
leak_watch A
for n in A B C; do node_start $n; done
leaves B C
client_start root A
fds_a=$(node_fds A)

# link_downs NODE : how many times NODE's daemon saw a link go down
link_downs() {
	grep -c 'link down' "$NETNS_TMP/$1.log"
}

# the VC: parties on B and C
say root call "${ADDRS[B]}" mk1
wait_tag root mk1 15; want_status OK
vc=$(field vc); p_b=$(field party)
say root add "$vc" "${ADDRS[C]}" ad1
wait_tag root ad1 15; want_status OK
p_c=$(field party)
expect lB '^call_connected '
expect lC '^call_connected '

log "cut B for 2 s: inside T309"
downs=$(link_downs A)
link_cut B
sleep 2
link_restore B
# the daemons must have noticed (no-response timer 1 s), or this proves nothing
[ "$(link_downs A)" -gt "$downs" ] || fail "A never saw the link to B go down"
sleep $((T309_MS / 1000 + 2))
expect_none root '^incoming_(drop_party|close_call)'
expect_none lB '^incoming_close_call'
log "the call survived; DropParty B works over the restored link"
say root drop "$vc" "$p_b" 0a0b dp1
wait_tag root dp1 15; want_status OK
expect lB '^incoming_close_call .*data=0a0b'
expect lB '^close_complete tag=auto status=OK'

log "cut C while a call to it is being set up: cleared at once, not after T309"
say lC auto off
# a round trip, so the client has read "auto off" before a call can reach it
say lC pending; expect lC '^pending '
say root call "${ADDRS[C]}" mk2
expect lC '^incoming_call '
vc_c=$(field vc); party_c=$(field party)
t0=$(date +%s%N)
link_cut C
wait_tag root mk2 10; want_status E_LINK_DOWN
elapsed=$((($(date +%s%N) - t0) / 1000000))
link_restore C # within T309: VC 1's party on C stays
[ "$elapsed" -lt "$T309_MS" ] || fail "the call in setup waited ${elapsed} ms, T309 is $T309_MS"
log "MakeCall failed after $elapsed ms"
expect lC '^incoming_close_call ' 10
say lC close "$vc_c" "$party_c" - lc1
wait_tag lC lc1 10
say lC auto on
sleep 1
expect_none root '^incoming_drop_party'

log "a second party on B, so that losing C drops a party rather than the call"
say root add "$vc" "${ADDRS[B]}" ad2
wait_tag root ad2 15; want_status OK
expect lB '^call_connected '

log "cut C for $((T309_MS / 1000 + 3)) s: beyond T309"
downs=$(link_downs A)
link_cut C
sleep $((T309_MS / 1000 + 3))
[ "$(link_downs A)" -gt "$downs" ] || fail "A never saw the link to C go down"
expect root '^incoming_drop_party .*cause=27' 10
[ "$(field party)" = "$p_c" ] || fail "the wrong party was dropped: $LINE (want $p_c)"
expect root '^drop_complete tag=auto status=OK'
expect lC '^incoming_close_call .*cause=27' 10
expect lC '^close_complete tag=auto'
link_restore C
sleep 1

log "after the restore, new parties on C work"
say root add "$vc" "${ADDRS[C]}" ad3
wait_tag root ad3 15; want_status OK
say root fclose "$vc" - cl1
wait_tag root cl1 15; want_status OK

for c in root lB lC; do counts_wait "$c" 20; done
no_vcs_left 20 A B C
fds_same A "$fds_a"
client_stop root
node_stop_clean A
log "PASS"
