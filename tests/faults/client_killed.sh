#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A root client killed (SIGKILL) in the middle of tearing down a VC with
# parties on three nodes: some drops and a forced close in flight, some
# parties still being added.  The daemon finishes the teardown on the
# network (cause 31 at the leaves), every leaf's requests complete once,
# nothing is left on any node, A's descriptors return to what they were,
# and A's daemon runs under valgrind (or LeakSanitizer) and exits clean.
#   client_killed.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
. "$SRC/tests/faults/lib.sh"
faults_require

netns_init ckill A B C
faults_config A B C
leak_watch A
for n in A B C; do node_start $n; done
leaves A B C
fds_a=$(node_fds A)
client_start root A

for round in 1 2 3; do
	log "round $round"
	say root call "${ADDRS[B]}" "mk$round"
	wait_tag root "mk$round" 15; want_status OK
	vc=$(field vc)
	for t in C A; do
		say root add "$vc" "${ADDRS[$t]}" "ad$round$t"
		wait_tag root "ad$round$t" 15; want_status OK
	done
	p2=$(field party)
	# rounds 1, 2: a teardown in flight (a drop, an add, the forced close);
	# round 3: only an add, so the daemon's teardown is all there is (cause 31)
	[ "$round" != 3 ] && say root drop "$vc" "$p2" 0102 "dp$round"
	say root add "$vc" "${ADDRS[C]}" "ax$round"
	[ "$round" != 3 ] && say root fclose "$vc" - "cl$round"
	sleep 0.0$((RANDOM % 5))
	kill -KILL "${CLIENT_PID[root]}"
	wait "${CLIENT_PID[root]}" 2>/dev/null
	eval "exec ${CLIENT_FD[root]}>&-"
	unset "CLIENT_FD[root]" "CLIENT_PID[root]"
	mv "$NETNS_TMP/root.out" "$NETNS_TMP/root.out.$round"
	rm -f "$NETNS_TMP/root.in"
	for c in lA lB lC; do counts_wait "$c" 20; done
	no_vcs_left 20 A B C
	fds_same A "$fds_a"
	client_start root A
done
for c in lA lB; do
	grep -q '^incoming_close_call .*cause=31' "$NETNS_TMP/$c.out" ||
		fail "$c never saw a teardown with cause 31"
done
client_stop root
for c in lA lB lC; do client_stop "$c"; done
node_stop_clean A
log "PASS"
