#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 11: bulk work issued at once by one client, to parties on one peer,
# over a wire without loss.  Correctness only (bench/run.sh times the full
# sizes): every request completes CM_OK exactly once, every leaf gets its
# IncomingCloseCall with byte-exact data, no client is disconnected, no
# protocol timer expires on either node, and both nodes end empty.
#   1. one VC: MakeCall, BURST_N AddParty at once, BURST_N DropParty at once
#      with 127 octets each (CM_MAX_DATA), CloseCall;
#   2. BURST_VCS VCs of BURST_PARTIES parties, closed by CloseCall FORCE;
#   3. the same held by the root, torn down by SIGTERM of the root's daemon;
#   4. the same, the leaf's daemon killed (SIGKILL): the root's calls end
#      through SSCOP failure and T309, each VC's close delivered once.
#   burst.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
netns_require

N=${BURST_N:-10000}
VCS=${BURST_VCS:-100}
PARTIES=${BURST_PARTIES:-20}
netns_init burst A B
for n in A B; do
	# T309 and Timer_NO-RESPONSE short, so that the SIGKILL scenario ends
	# within the suite's time.  NO-RESPONSE ends an association when a whole
	# period passes without a STAT; with Timer_POLL at its default 750 ms a
	# 1.5 s period held only two POLL rounds, and on a loaded machine two
	# late rounds in a row (each daemon is busy with 10,000 requests) ended
	# it mid-burst.  POLLs every 250 ms and 3 s leave a dozen rounds, the
	# margin SSCOP's defaults (750 ms, 7 s) keep.  The adds arrive faster
	# than the leaf answers them, and this test wants every one CM_OK, not
	# paced by max_incoming_per_session (cause 41).
	printf '[timers]\nt309 = 2000\ntimer_poll = 250\ntimer_keepalive = 300\ntimer_noresponse = 3000\n[limits]\nmax_incoming_per_session = 100000\n' \
		>"$(node_config $n)"
done
node_start A
node_start B

cmctl_on() { local n=$1; shift; in_node "$n" "$BUILD/tools/cmctl" -s "${NODE_SOCK[$n]}" "$@"; }
addr=$(cmctl_on B -j address 16 | grep -o -E '"address": *"[0-9a-f]{40}"' | grep -o -E '[0-9a-f]{40}')
[ -n "$addr" ] || fail "no address for selector 16 on B"

LEAF_PID=
leaf_start() {
	: >"$NETNS_TMP/leaf.out"
	(spawn_clean ip netns exec "${NODE_NS[B]}" "$BUILD/tests/netns/burst" -s "${NODE_SOCK[B]}" \
		leaf 16 "$1" </dev/null >>"$NETNS_TMP/leaf.out" 2>&1) &
	LEAF_PID=$!
	local i
	for i in $(seq 100); do
		grep -q '^ready' "$NETNS_TMP/leaf.out" && return 0
		sleep 0.05
	done
	fail "burst leaf did not start: $(cat "$NETNS_TMP/leaf.out")"
}
leaf_wait() {
	wait "$LEAF_PID"
	local rc=$?
	LEAF_PID=
	echo "  leaf: $(tail -n 2 "$NETNS_TMP/leaf.out" | tr '\n' ' ')"
	[ "$rc" = 0 ] || { cat "$NETNS_TMP/leaf.out" | head -20; fail "the leaf saw a problem"; }
}
root_run() {
	in_node A "$BUILD/tests/netns/burst" -s "${NODE_SOCK[A]}" root "$addr" "$@" \
		>"$NETNS_TMP/root.out" 2>&1
	local rc=$?
	sed 's/^/  root: /' "$NETNS_TMP/root.out"
	[ "$rc" = 0 ] || fail "the root saw a problem"
}
no_timer_expired() {
	local n exp
	for n in "$@"; do
		exp=$(cmctl_on "$n" -j stats | grep -o -E '"timer_expiries": *[0-9]+' | grep -o -E '[0-9]+$')
		[ "${exp:-0}" = 0 ] || fail "$exp protocol timers expired on $n without frame loss"
	done
}

log "1: $N AddParty, then $N DropParty with 127 octets, at once"
leaf_start $((N + 1))
root_run 1 $((N + 1)) 127 drop
leaf_wait
no_vcs_left 30 A B
no_timer_expired A B

log "2: $VCS VCs x $PARTIES parties, CloseCall FORCE of all at once"
leaf_start $((VCS * PARTIES))
root_run "$VCS" "$PARTIES" 0 force
leaf_wait
no_vcs_left 30 A B
no_timer_expired A B

# root_hold : the root sets up VCS x PARTIES and holds them (root_pid)
root_hold() {
	leaf_start $((VCS * PARTIES))
	# emptied here, not by the job's own redirection: the job may open it
	# after the loop below has read the last scenario's "held" in it
	: >"$NETNS_TMP/root.out"
	BURST_HOLD_MS=60000 in_node A "$BUILD/tests/netns/burst" -s "${NODE_SOCK[A]}" root "$addr" \
		"$VCS" "$PARTIES" 0 hold </dev/null >>"$NETNS_TMP/root.out" 2>&1 &
	root_pid=$!
	local i
	for i in $(seq 600); do
		grep -q '^held' "$NETNS_TMP/root.out" && break
		kill -0 "$root_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^held' "$NETNS_TMP/root.out"; then
		kill -0 "$root_pid" 2>/dev/null && fail "root still setting up after 60 s: $(cat "$NETNS_TMP/root.out")"
		wait "$root_pid"
		fail "root exited with status $? before holding: $(cat "$NETNS_TMP/root.out")"
	fi
}

log "3: $VCS VCs x $PARTIES parties held; SIGTERM of the root's daemon"
root_hold
node_kill A TERM
wait "$root_pid"
rc=$?
sed 's/^/  root: /' "$NETNS_TMP/root.out"
grep -q '^summary .* duplicates=0 ' "$NETNS_TMP/root.out" || fail "root after SIGTERM"
# the root's daemon is gone: its client is disconnected at the end, by design
grep -q 'not every VC was closed' "$NETNS_TMP/root.out" && fail "a VC's close never reached the root"
leaf_wait
no_vcs_left 30 B
grep -E 'SD ignored|legs still clearing' "$NETNS_TMP/A.log" && fail "A did not wait for RELEASE COMPLETE"
node_start A

log "4: $VCS VCs x $PARTIES parties held; SIGKILL of the leaf's daemon"
root_hold
node_kill B KILL
wait "$LEAF_PID" 2>/dev/null
LEAF_PID=
wait "$root_pid"
rc=$?
sed 's/^/  root: /' "$NETNS_TMP/root.out"
[ "$rc" = 0 ] || fail "the root saw a problem after the leaf node died"
no_vcs_left 30 A
log "PASS"
