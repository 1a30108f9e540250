#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Frame loss, duplication, reordering and delay between the root's node and
# the rest: SSCOP must hide them all, so every request completes once and
# with CM_OK, and nothing is left behind.  Node B's daemon runs under
# valgrind (or LeakSanitizer in an ASan build) and must exit clean.
#   impairment.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
. "$SRC/tests/faults/lib.sh"
faults_require

netns_init imp A B C
faults_config A B C
# The associations A-B and A-C are first made under the 25% loss, both
# ways: each BGN/BGAK exchange fails with p = 1 - 0.75^2 = 0.44, so with
# the default MaxCC of 4 one establishment in 27 gives up ("no response")
# and the call in set-up ends CM_E_LINK_DOWN, as it should on a link that
# does not answer.  That is SSCOP's bound working, not loss it failed to
# hide.  With MaxCC 20 (Timer_CC 300 ms) the held SETUP's T303, twice
# 2 s, ends the wait first, after some 13 tries: p = 0.44^13 < 3e-5.
# The impairments add up (impair.py's set changes only what it names): the
# 25% loss stays through every phase.  Timer_NO-RESPONSE ends an association
# when a whole period passes without a STAT; at 1 s with POLLs 100-300 ms
# apart, and 160 ms round trips in the delay phase, a handful of lost
# POLL/STAT pairs in a row did it about once a run in twenty.  Detecting
# failed links is the link_cut test's subject; here 5 s leaves 0.44^20.
for n in A B C; do
	sed -i 's/^timer_noresponse = .*/timer_noresponse = 5000/; s/^\[timers\]$/&\nmax_cc = 20/' \
		"$(node_config "$n")"
done
impair_start A
leak_watch B
for n in A B C; do node_start $n; done
leaves B C
client_start root A
fds_b=$(node_fds B)
fds_a=$(node_fds A)

# rounds ROUND : MakeCall to B, AddParty C, DropParty C, CloseCall, with
# several VCs in flight at once
rounds() {
	local r=$1 i vc
	for i in 1 2 3; do say root call "${ADDRS[B]}" "mk$r$i"; done
	for i in 1 2 3; do
		wait_tag root "mk$r$i" 30; want_status OK
		vc=$(field vc)
		say root add "$vc" "${ADDRS[C]}" "ad$r$i"
		wait_tag root "ad$r$i" 30; want_status OK
		say root drop "$vc" "$(field party)" 0102 "dp$r$i"
		VCS[$i]=$vc
	done
	for i in 1 2 3; do
		wait_tag root "dp$r$i" 30; want_status OK
		say root fclose "${VCS[$i]}" - "cl$r$i"
	done
	for i in 1 2 3; do wait_tag root "cl$r$i" 30; want_status OK; done
}
declare -A VCS

log "loss 25% both ways on A's cable"
impair A set loss=25
rounds L
log "duplication 50%, the loss staying"
impair A set dup=50
rounds D
log "reordering 40% with 10 ms delay, loss and duplication staying"
impair A set reorder=40 delay=10
rounds R
log "delay 80 ms, with the loss, duplication and reordering"
impair A set delay=80
rounds W
impair A clear
impair_stats A
log "relay: $LINE"
[ "$(field lost)" -gt 0 ] && [ "$(field dup)" -gt 0 ] && [ "$(field reordered)" -gt 0 ] ||
	fail "the impairment did not happen: $LINE"

for c in root lB lC; do counts_wait "$c" 20; done
no_vcs_left 20 A B C
fds_same A "$fds_a"
fds_same B "$fds_b"
client_stop lB
node_stop_clean B
log "PASS"
