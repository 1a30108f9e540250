#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Daemons killed with SIGKILL and restarted.
#  1. A peer (B) dies and returns: its RESTART clears B's party at the root
#     (IncomingDropParty), the party on C stays, and B takes new parties.
#  2. The root's own daemon (A) dies with requests outstanding: the client
#     gets CM_E_DISCONNECTED for every one, exactly once.  A returns; B and
#     C clear the stale call through RESTART; nothing is left anywhere.
# B's second daemon runs under valgrind (or LeakSanitizer) and exits clean.
#   restart.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
. "$SRC/tests/faults/lib.sh"
faults_require

netns_init rst A B C
faults_config A B C
for n in A B C; do node_start $n; done
leaves B C
client_start root A

# dead_counts CLIENT : a client whose daemon died printed its final counts
dead_counts() {
	local c=$1
	expect "$c" '^disconnected' 10
	expect "$c" '^counts ' 5
	[ "$(field requests)" = "$(field completions)" ] && [ "$(field pending)" = 0 ] &&
		[ "$(field duplicates)" = 0 ] || fail "$c at disconnect: $LINE"
	wait "${CLIENT_PID[$c]}" 2>/dev/null
	eval "exec ${CLIENT_FD[$c]}>&-"
	unset "CLIENT_FD[$c]" "CLIENT_PID[$c]"
}

say root call "${ADDRS[B]}" mk1
wait_tag root mk1 15; want_status OK
vc=$(field vc); p_b=$(field party)
say root add "$vc" "${ADDRS[C]}" ad1
wait_tag root ad1 15; want_status OK
p_c=$(field party)
expect lB '^call_connected '
expect lC '^call_connected '

log "1. SIGKILL callmgrd on B, restart it"
node_kill B KILL
dead_counts lB
leak_watch B
node_start B
expect root '^incoming_drop_party ' 20
[ "$(field party)" = "$p_b" ] || fail "dropped the wrong party: $LINE (want $p_b)"
expect root '^drop_complete tag=auto status=OK'
expect_none root '^incoming_close_call'
leaves B
say root add "$vc" "${ADDRS[B]}" ad2
wait_tag root ad2 15; want_status OK
expect lB '^call_connected '

log "2. requests outstanding towards C (cable cut), then SIGKILL callmgrd on A"
link_cut C
sleep 2 # the link to C is down, T309 runs: C's party is kept, adds wait
for i in 1 2 3; do say root add "$vc" "${ADDRS[C]}" "pend$i"; done
say root drop "$vc" "$p_c" - pend4
sleep 0.5
say root pending
expect root '^pending '
[ "$LINE" = "pending 4" ] || fail "want 4 requests outstanding before the kill: $LINE"
node_kill A KILL
dead_counts root
for i in 1 2 3 4; do
	wait_tag root "pend$i" 1
	want_status E_DISCONNECTED
done
[ "$(grep -c 'status=E_DISCONNECTED' "$NETNS_TMP/root.out")" = 4 ] ||
	fail "other completions with E_DISCONNECTED: $(grep E_DISCONNECTED "$NETNS_TMP/root.out")"
link_restore C

log "A restarts: B clears the stale call (RESTART, cause 41); C's T309 already did"
node_start A
expect lB '^incoming_close_call .*cause=41' 20
expect lB '^close_complete tag=auto status=OK'
expect lC '^incoming_close_call ' 20
expect lC '^close_complete tag=auto status=OK'
for c in lB lC; do counts_wait "$c" 20; done
no_vcs_left 20 A B C

log "and A calls B again"
client_start root2 A
say root2 call "${ADDRS[B]}" mk2
wait_tag root2 mk2 15; want_status OK
say root2 close "$(field vc)" "$(field party)" - cl2
wait_tag root2 cl2 15; want_status OK
for c in root2 lB lC; do counts_wait "$c" 20; done
no_vcs_left 20 A B C
client_stop lB
node_stop_clean B
log "PASS"
