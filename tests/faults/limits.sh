#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Per-client limits from the config file, end to end: [limits]
# max_vcs_per_session = 2, max_parties_per_vc = 5, max_pending_per_session
# = 3.  A greedy client hits CM_E_LIMIT on its third VC and sixth party; a
# flooding client whose adds hang (the leaf does not answer) hits it on
# its fourth outstanding request and on every one of a burst after it;
# meanwhile another client on the same node makes and closes calls
# unaffected.  Every request completes once; nothing is left.
#   limits.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
. "$SRC/tests/faults/lib.sh"
faults_require

netns_init lim A B
faults_config A B
printf '[limits]\nmax_vcs_per_session = 2\nmax_parties_per_vc = 5\nmax_pending_per_session = 3\n' \
	>>"$(node_config A)"
for n in A B; do node_start $n; done
leaves B
client_start lB2 B
say lB2 sap 17 s; expect lB2 '^sap_complete tag=s status=OK'
address lB2 17; addr_slow=$ADDR
client_start greedy A
client_start flood A
client_start good A

log "VCs: the third is refused"
say greedy call "${ADDRS[B]}" v1; wait_tag greedy v1; want_status OK
vc=$(field vc)
say greedy call "${ADDRS[B]}" v2; wait_tag greedy v2; want_status OK
vc2=$(field vc); p2=$(field party)
say greedy call "${ADDRS[B]}" v3; wait_tag greedy v3; want_status E_LIMIT

log "parties: the sixth on one VC is refused"
for i in 2 3 4 5; do
	say greedy add "$vc" "${ADDRS[B]}" "p$i"; wait_tag greedy "p$i"; want_status OK
done
say greedy add "$vc" "${ADDRS[B]}" p6; wait_tag greedy p6; want_status E_LIMIT

log "pending: adds the leaf never answers, then a burst"
say lB2 auto off
# a round trip, so the client has read "auto off" before a call can reach it
say lB2 pending; expect lB2 '^pending '
say flood call "${ADDRS[B]}" f0; wait_tag flood f0; want_status OK
fvc=$(field vc)
for i in 1 2 3; do say flood add "$fvc" "$addr_slow" "f$i"; done
say flood add "$fvc" "$addr_slow" f4; wait_tag flood f4; want_status E_LIMIT
for i in $(seq 5 40); do say flood add "$fvc" "$addr_slow" "f$i"; done
wait_tag flood f40
n_limit=$(grep -c -E 'tag=f([4-9]|[1-3][0-9]|40) status=E_LIMIT' "$NETNS_TMP/flood.out")
[ "$n_limit" = 37 ] || fail "want 37 E_LIMIT in the burst, got $n_limit"
say flood pending; expect flood '^pending '
[ "$LINE" = "pending 3" ] || fail "flood: $LINE"

log "another client on A is not affected"
for i in 1 2 3; do
	say good call "${ADDRS[B]}" "g$i"; wait_tag good "g$i"; want_status OK
	say good close "$(field vc)" "$(field party)" - "gc$i"; wait_tag good "gc$i"; want_status OK
done

# teardown is exempt from the pending limit: the flood closes at once,
# with its three adds still hanging (they then end with the close)
log "release it all"
say flood fclose "$fvc" - fc
wait_tag flood fc 20; want_status OK
say greedy fclose "$vc" - c1
say greedy close "$vc2" "$p2" - c2
wait_tag greedy c1; want_status OK
wait_tag greedy c2; want_status OK
expect lB2 '^incoming_close_call ' 10
vcs=$(grep '^incoming_call ' "$NETNS_TMP/lB2.out" | sed 's/.*vc=\([0-9]*\).*/\1/' | sort -u)
say lB2 auto on
for v in $vcs; do say lB2 fclose "$v" - "x$v"; done
for c in greedy flood good lB lB2; do counts_wait "$c" 30; done
no_vcs_left 20 A B
log "PASS"
