#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue #4, scenario 2: AddParty/DropParty/CloseCall churn while every node
# loses 10% of the frames it sends and reorders others (tc netem on each
# node's veth).  SSCOP must recover what is lost; whatever fails must fail
# cleanly: every request completes exactly once, and no VC, leg or party
# is left on any node afterwards (cmctl -j vc list, cmctl -j stats).
#   lossy-churn.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
netns_require

netns_init churn A B C
for n in A B C; do
	cat >"$(node_config $n)" <<-EOF
	[timers]
	t303 = 3000
	t308 = 3000
	t398 = 3000
	t399 = 5000
	timer_cc = 200
	timer_poll = 100
	timer_keepalive = 300
	timer_noresponse = 5000
	EOF
done
# netem on each node's veth where the kernel has it (its delay jitter
# reorders as well); else the user-space switch does the same
if in_node A tc qdisc add dev cm0 root netem delay 2ms 1ms loss 10% reorder 25% 50% \
	2>/dev/null; then
	for n in B C; do
		in_node $n tc qdisc add dev cm0 root netem delay 2ms 1ms loss 10% \
			reorder 25% 50% || fail "netem on $n"
	done
	impairment=netem
	capture_start
else
	switch_impair 10 25
	impairment=impair
	capture_start A cm0
fi
log "10% loss and reordering by $impairment"
for n in A B C; do node_start $n; done

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

slots=${CHURN_SLOTS:-8}
rounds=${CHURN_ROUNDS:-15}
log "churn: $slots VCs at once, $rounds rounds each, parties on B, C, A and B again"
in_node A "$BUILD/tests/netns/churn" -s "${NODE_SOCK[A]}" -t 45 "$slots" "$rounds" \
	"$addr_b1" "$addr_c1" "$addr_a" "$addr_b2" >"$NETNS_TMP/churn.out" 2>&1
rc=$?
grep -E '^(summary|statuses|incoming|refused|duplicate|stuck|slot|timeout|close failed)' \
	"$NETNS_TMP/churn.out" | sed 's/^/  churn: /' | tail -n 30
[ "$rc" = 0 ] || fail "churn exited $rc"
summary=$(grep '^summary ' "$NETNS_TMP/churn.out")
[ "$(field requests "$summary")" = "$(field completions "$summary")" ] ||
	fail "requests and completions differ: $summary"
[ "$(field duplicates "$summary")" = 0 ] || fail "duplicate completions: $summary"
# 4 parties per round: at least make + 3 adds + 3 drops + close per round
min=$((slots * rounds * 8))
[ "$(field requests "$summary")" -ge "$min" ] || fail "fewer requests than the churn makes: $summary"

for c in la b1 b2 c1; do
	say "$c" pending
	expect "$c" '^pending '
	[ "$LINE" = "pending 0" ] || fail "$c: requests without completion: $LINE"
	expect_none "$c" '^(duplicate|bad_command|disconnected)'
done
no_vcs_left 30 A B C
if [ "$impairment" = netem ]; then
	log "netem on A: $(in_node A tc -s qdisc show dev cm0 | grep -o 'dropped [0-9]*' | head -n1)"
else
	impair_stop
	stats=$(cat "$NETNS_TMP/impair.log")
	log "$stats"
	dropped=$(echo "$stats" | sed -n 's/.*dropped \([0-9]*\).*/\1/p')
	[ "${dropped:-0}" -gt 0 ] || fail "the switch lost nothing: $stats"
fi
wire_check SETUP CONNECT "ADD PARTY" "ADD PARTY ACKNOWLEDGE" "DROP PARTY" \
	"DROP PARTY ACKNOWLEDGE" RELEASE "RELEASE COMPLETE"
log "PASS"
