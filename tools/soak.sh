#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Soak test (not in CI): AddParty/DropParty/CloseCall churn across three
# nodes in network namespaces while random faults hit the network and the
# daemons, for a given time.  Every minute the churn pauses and the
# invariants are checked: every request got exactly one completion, no VC or
# party is left on any node, and each daemon's RSS and fd count are sampled
# (they must stay flat).  Needs root, ip netns, python3.
#
#   tools/soak.sh BUILD_DIR [MINUTES] [SOURCE_DIR]
#
# Two roots (on A and on C) churn in parallel; leaves on every node answer.
# Faults, one at a time, at random: frame loss/duplication/reordering/delay
# on one node's path, the cable of one node cut for less or more than T309,
# and node B's daemon killed with SIGKILL and restarted.  The report goes to
# stdout; the exit status is non-zero on any violation.
BUILD=$(realpath "${1:?usage: soak.sh BUILD_DIR [MINUTES] [SOURCE_DIR]}")
MINUTES=${2:-30}
SRC=$(realpath "${3:-$(dirname "$0")/..}")
. "$SRC/tests/netns/lib.sh"
. "$SRC/tests/faults/lib.sh"
faults_require

netns_init soak A B C
faults_config A B C # short timers, T309 3 s
T309=$T309_MS
for n in A B C; do impair_start $n; done
for n in A B C; do node_start $n; done

PAUSE="$NETNS_TMP/pause"
VIOLATION="$NETNS_TMP/violation"

leaves_start() {
	local n=$1 c
	for c in "l${n}1" "l${n}2"; do
		client_start "$c" "$n"
	done
	say "l${n}1" sap 16 s
	expect "l${n}1" '^sap_complete tag=s status=OK'
	say "l${n}2" sap 17 s
	expect "l${n}2" '^sap_complete tag=s status=OK'
}
for n in A B C; do leaves_start $n; done
declare -A ADDRS
for n in A B C; do
	address "l${n}1" 16; ADDRS[${n}1]=$ADDR
	address "l${n}1" 17; ADDRS[${n}2]=$ADDR
done
client_start rootA A
client_start rootC C

# await ROOT TAG FROM TIMEOUT_S : the completion of TAG, anywhere after line
# FROM of the root's output (completions of parallel requests come in any order)
await() {
	local c=$1 tag=$2 from=$3 timeout=$4 deadline hit
	deadline=$(($(date +%s) + timeout))
	while :; do
		hit=$(tail -n +"$((from + 1))" "$NETNS_TMP/$c.out" |
			grep -m1 -E "^[a-z]+_complete tag=$tag |^refused [a-z]+ tag=$tag ")
		[ -n "$hit" ] && { LINE=$hit; return 0; }
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# churn ROOT TARGET... : cycles of MakeCall, AddParty to the rest,
# DropParty of all but one, CloseCall --force; runs until killed
churn() {
	local root=$1 k=0 from vc tag t ok_parties
	shift
	# a failed check here is a finding to report, not the end of the soak's shell
	fail() { echo "$root: $*" >>"$VIOLATION"; exit 1; }
	local targets=("$@")
	while :; do
		if [ -e "$PAUSE" ]; then
			# quiet: let every completion arrive, then report the counts
			counts_wait "$root" 120 >>"$NETNS_TMP/$root.pause" 2>&1
			echo "$LINE" >"$NETNS_TMP/$root.paused"
			while [ -e "$PAUSE" ]; do sleep 0.2; done
			rm -f "$NETNS_TMP/$root.paused"
		fi
		k=$((k + 1))
		from=$(wc -l <"$NETNS_TMP/$root.out")
		say "$root" call "${targets[$((RANDOM % ${#targets[@]}))]}" "mk$k"
		await "$root" "mk$k" "$from" 60 ||
			{ echo "$root: no completion of MakeCall mk$k" >>"$VIOLATION"; return; }
		[ "$(field status)" = OK ] || continue
		vc=$(field vc)
		ok_parties=("$(field party)")
		local said=() j=0
		for t in "${targets[@]}"; do
			j=$((j + 1))
			[ $((RANDOM % 4)) = 0 ] && continue # not every target every time
			say "$root" add "$vc" "$t" "ad$k-$j"
			said+=("ad$k-$j")
		done
		for tag in "${said[@]}"; do
			await "$root" "$tag" "$from" 60 ||
				{ echo "$root: no completion of AddParty $tag" >>"$VIOLATION"; return; }
			[ "$(field status)" = OK ] && ok_parties+=("$(field party)")
		done
		# drop all but a random one
		local keep=$((RANDOM % ${#ok_parties[@]})) i
		for i in "${!ok_parties[@]}"; do
			[ "$i" = "$keep" ] && continue
			say "$root" drop "$vc" "${ok_parties[$i]}" - "dp$k-$i"
		done
		for i in "${!ok_parties[@]}"; do
			[ "$i" = "$keep" ] && continue
			await "$root" "dp$k-$i" "$from" 60 ||
				{ echo "$root: no completion of DropParty dp$k-$i" >>"$VIOLATION"; return; }
		done
		say "$root" fclose "$vc" - "cl$k"
		await "$root" "cl$k" "$from" 60 ||
			{ echo "$root: no completion of CloseCall cl$k" >>"$VIOLATION"; return; }
	done
}

# node B's daemon dies and comes back; its leaves are reconnected
restart_b() {
	local c
	node_kill B KILL
	for c in lB1 lB2; do
		wait "${CLIENT_PID[$c]}" 2>/dev/null
		grep '^counts ' "$NETNS_TMP/$c.out" | tail -n1 | tee -a "$NETNS_TMP/dead-clients"
		# every request of the dead client ended, CM_E_DISCONNECTED or earlier
		LINE=$(grep '^counts ' "$NETNS_TMP/$c.out" | tail -n1)
		[ "$(field requests)" = "$(field completions)" ] ||
			echo "$c: $LINE at disconnect" >>"$VIOLATION"
		eval "exec ${CLIENT_FD[$c]}>&-"
		mv "$NETNS_TMP/$c.out" "$NETNS_TMP/$c.out.$(date +%s)"
		rm -f "$NETNS_TMP/$c.in"
		unset "CLIENT_FD[$c]" "CLIENT_PID[$c]"
	done
	node_start B
	leaves_start B
}

fault() {
	local n what=$((RANDOM % 6)) secs
	n=$(echo A B C | tr ' ' '\n' | shuf -n1)
	echo "$what" >>"$NETNS_TMP/faults"
	case $what in
	0)
		log "fault: loss 20% on $n for 10 s"
		impair "$n" set loss=20
		sleep 10
		impair "$n" clear ;;
	1)
		log "fault: duplication 30%, reordering 30%, delay 20 ms on $n for 10 s"
		impair "$n" set dup=30 reorder=30 delay=20
		sleep 10
		impair "$n" clear ;;
	2)
		secs=$((1 + RANDOM % 2))
		log "fault: cable of $n cut for $secs s (inside T309)"
		link_cut "$n"; sleep "$secs"; link_restore "$n"
		sleep 5 ;;
	3)
		secs=$((T309 / 1000 + 3 + RANDOM % 3))
		log "fault: cable of $n cut for $secs s (beyond T309)"
		link_cut "$n"; sleep "$secs"; link_restore "$n"
		sleep 5 ;;
	4)
		log "fault: callmgrd on B killed (SIGKILL) and restarted"
		restart_b
		sleep 5 ;;
	5)
		log "fault: none for 10 s"
		sleep 10 ;;
	esac
}

all_clients() {
	echo rootA rootC lA1 lA2 lB1 lB2 lC1 lC2
}

# last_counts CLIENT : the client's counts now, into $LINE
last_counts() {
	local c=$1 before
	before=$(grep -c '^counts ' "$NETNS_TMP/$c.out")
	say "$c" counts
	for _ in $(seq 100); do
		[ "$(grep -c '^counts ' "$NETNS_TMP/$c.out")" -gt "$before" ] && break
		sleep 0.05
	done
	LINE=$(grep '^counts ' "$NETNS_TMP/$c.out" | tail -n1)
}

# the minute's check: pause, drain, count, look for leftovers, sample;
# checkpoint MINUTE [keep] leaves the churn paused
checkpoint() {
	local minute=$1 r c n
	: >"$PAUSE"
	for r in rootA rootC; do
		for _ in $(seq 600); do
			[ -e "$NETNS_TMP/$r.paused" ] && break
			[ -s "$VIOLATION" ] && break
			sleep 0.2
		done
		[ -e "$NETNS_TMP/$r.paused" ] || echo "$r: did not pause" >>"$VIOLATION"
		echo "  $r $(cat "$NETNS_TMP/$r.paused" 2>/dev/null)"
	done
	for c in lA1 lA2 lB1 lB2 lC1 lC2; do counts_wait "$c" 60 >/dev/null; echo "  $c $LINE"; done
	no_vcs_left 60 A B C >/dev/null
	local line="minute $minute:"
	for n in A B C; do
		line+=" $n rss=$(node_rss_kb $n)kB fds=$(node_fds $n)"
	done
	echo "$line" | tee -a "$NETNS_TMP/samples"
	[ "${2:-}" = keep ] || rm -f "$PAUSE"
}

churn rootA "${ADDRS[B1]}" "${ADDRS[C1]}" "${ADDRS[A1]}" "${ADDRS[B2]}" >"$NETNS_TMP/churnA.log" 2>&1 &
CHURN_A=$!
churn rootC "${ADDRS[A2]}" "${ADDRS[B2]}" "${ADDRS[C2]}" >"$NETNS_TMP/churnC.log" 2>&1 &
CHURN_C=$!
stop_churn() { kill "$CHURN_A" "$CHURN_C" 2>/dev/null; wait "$CHURN_A" "$CHURN_C" 2>/dev/null; }
NETNS_CLEANUP_HOOKS=(stop_churn "${NETNS_CLEANUP_HOOKS[@]}")

log "soak for $MINUTES minutes"
start=$(date +%s)
checkpoint 0
minute=1
while [ $(($(date +%s) - start)) -lt $((MINUTES * 60)) ]; do
	next=$((start + minute * 60))
	while [ "$(date +%s)" -lt "$next" ]; do
		fault
		[ -s "$VIOLATION" ] && break 2
	done
	checkpoint "$minute"
	[ -s "$VIOLATION" ] && break
	minute=$((minute + 1))
done
[ -s "$VIOLATION" ] || checkpoint end keep
stop_churn

echo "==== soak report ($(( ($(date +%s) - start) / 60 )) min)"
total_req=0
total_comp=0
for c in $(all_clients); do
	last_counts "$c"
	echo "  $c $LINE"
	total_req=$((total_req + $(field requests)))
	total_comp=$((total_comp + $(field completions)))
done
while read -r line; do
	LINE=${line}
	total_req=$((total_req + $(field requests)))
	total_comp=$((total_comp + $(field completions)))
done <"$NETNS_TMP/dead-clients" 2>/dev/null
echo "  requests=$total_req completions=$total_comp (including clients of killed daemons)"
echo "  faults by kind (0 loss, 1 dup/reorder/delay, 2 cut<T309, 3 cut>T309, 4 kill B, 5 none):"
sort "$NETNS_TMP/faults" | uniq -c | sed 's/^/   /'
for n in A B C; do impair_stats "$n"; echo "  impair $n: $LINE"; done
cat "$NETNS_TMP/samples"
if [ -s "$VIOLATION" ]; then
	echo "VIOLATIONS:"
	cat "$VIOLATION"
	dump_state
	exit 1
fi
no_vcs_left 60 A B C
echo "PASS"
