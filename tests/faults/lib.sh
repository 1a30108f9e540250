# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers of the 'faults' tests and tools/soak.sh (bash, sourced after
# tests/netns/lib.sh): impairment of a node's path to the bridge, link cuts,
# the exactly-once count of each client, and leak checks of a daemon.

IMPAIR_PID=()
declare -A IMPAIR_FD IMPAIR_CURSOR
NETNS_CLEANUP_HOOKS+=(faults_cleanup_impair)

faults_require() {
	netns_require "$@"
	command -v tc >/dev/null 2>&1 || skip "no tc"
	[ -x "$BUILD/tools/cmctl" ] || skip "cmctl not built"
}

# node_port NODE : the node's bridge port in the switch namespace
node_port() {
	local i=0 n
	for n in "${NETNS_NODES[@]}"; do
		[ "$n" = "$1" ] && { echo "p$i"; return; }
		i=$((i + 1))
	done
	fail "no node $1"
}

in_switch() {
	ip netns exec "${NETNS_TAG}sw" "$@"
}

# impair_start NODE : take the node's port off the bridge and put impair.py
# between it and a new veth on the bridge.  Not tc netem: sch_netem is
# missing on some kernels (this VM's among them), and one mechanism
# everywhere keeps runs comparable.
impair_start() {
	local n=$1 port q r fifo fd
	port=$(node_port "$n")
	q="q${port#p}"
	r="r${port#p}"
	in_switch ip link set "$port" nomaster || fail "unbridge $port"
	in_switch ip link add "$q" type veth peer name "$r" || fail "veth $q"
	in_switch ip link set "$r" master br0 || fail "bridge $r"
	in_switch ip link set "$q" up
	in_switch ip link set "$r" up
	fifo="$NETNS_TMP/impair-$n.in"
	mkfifo "$fifo"
	: >"$NETNS_TMP/impair-$n.out"
	(spawn_clean ip netns exec "${NETNS_TAG}sw" python3 "$SRC/tests/faults/impair.py" \
		"$port" "$q") <"$fifo" >>"$NETNS_TMP/impair-$n.out" 2>&1 &
	IMPAIR_PID+=($!)
	exec {fd}>"$fifo"
	IMPAIR_FD[$n]=$fd
	IMPAIR_CURSOR[$n]=0
	local i
	for i in $(seq 100); do
		grep -q '^ready' "$NETNS_TMP/impair-$n.out" && return 0
		sleep 0.05
	done
	fail "impair.py for $n: $(cat "$NETNS_TMP/impair-$n.out")"
}

# impair NODE COMMAND... : e.g. impair A set loss=20 dup=10
impair() {
	local n=$1
	shift
	echo "$*" >&"${IMPAIR_FD[$n]}" || fail "impair.py for $n is gone"
}

# impair_stats NODE : the relay's counters, into $LINE
impair_stats() {
	local n=$1 out="$NETNS_TMP/impair-$1.out" i hit
	impair "$n" stats
	for i in $(seq 100); do
		hit=$(tail -n +"$((IMPAIR_CURSOR[$n] + 1))" "$out" | grep -n -m1 '^stats ')
		if [ -n "$hit" ]; then
			IMPAIR_CURSOR[$n]=$((IMPAIR_CURSOR[$n] + ${hit%%:*}))
			LINE=${hit#*:}
			return 0
		fi
		sleep 0.05
	done
	fail "impair.py for $n does not answer"
}

# link_cut NODE / link_restore NODE : the cable between node and bridge
link_cut() {
	in_switch ip link set "$(node_port "$1")" down || fail "cut $1"
}
link_restore() {
	in_switch ip link set "$(node_port "$1")" up || fail "restore $1"
}

# counts_ok CLIENT : the client's every request got exactly one completion
counts_ok() {
	local c=$1
	say "$c" counts
	expect "$c" '^counts ' 5
	local req comp pend dup
	req=$(field requests)
	comp=$(field completions)
	pend=$(field pending)
	dup=$(field duplicates)
	log "$c: requests=$req completions=$comp pending=$pend duplicates=$dup"
	[ "$req" = "$comp" ] && [ "$pend" = 0 ] && [ "$dup" = 0 ] ||
		fail "$c: requests=$req completions=$comp pending=$pend duplicates=$dup"
	expect_none "$c" '^(duplicate|bad_command)'
}

# counts_wait CLIENT TIMEOUT_S : until pending is 0, then counts_ok
counts_wait() {
	local c=$1 deadline=$(($(date +%s) + $2))
	while :; do
		say "$c" pending
		expect "$c" '^pending ' 5
		[ "$LINE" = "pending 0" ] && break
		[ "$(date +%s)" -lt "$deadline" ] || fail "$c: still $LINE after $2 s"
		sleep 0.2
	done
	counts_ok "$c"
}

node_fds() {
	ls "/proc/${NODE_PID[$1]}/fd" 2>/dev/null | wc -l
}

node_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/${NODE_PID[$1]}/status" 2>/dev/null
}

# daemon_is_asan : true when callmgrd was built with AddressSanitizer
# (LeakSanitizer then judges the exit; valgrind cannot run it)
daemon_is_asan() {
	grep -q -a '__asan_init' "$BUILD/daemon/callmgrd"
}

# leak_watch NODE : run this node's next callmgrd under valgrind, unless
# the build is ASan's (which checks leaks at exit by itself)
leak_watch() {
	local n=$1
	daemon_is_asan && return 0
	command -v valgrind >/dev/null 2>&1 || { log "no valgrind: fd counts only on $n"; return 0; }
	NODE_WRAP[$n]="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file=$NETNS_TMP/$n.valgrind"
}

# node_stop_clean NODE : SIGTERM; the daemon must exit 0 with no sanitizer
# or valgrind complaint
node_stop_clean() {
	local n=$1 rc
	kill -TERM "${NODE_PID[$n]}" 2>/dev/null
	wait "${NODE_PID[$n]}"
	rc=$?
	NODE_PID[$n]=
	if [ -s "$NETNS_TMP/$n.valgrind" ]; then
		cat "$NETNS_TMP/$n.valgrind"
		fail "valgrind found errors in callmgrd on $n"
	fi
	grep -q -E 'Sanitizer|runtime error' "$NETNS_TMP/$n.log" &&
		fail "sanitizer report from callmgrd on $n: $(grep -m3 -E 'Sanitizer|runtime error' "$NETNS_TMP/$n.log")"
	[ "$rc" = 0 ] || fail "callmgrd on $n exited with $rc"
	log "callmgrd on $n exited cleanly${NODE_WRAP[$n]:+ (valgrind: no leak)}"
}

# cmctl_on NODE ARGS... : cmctl against the node's daemon
cmctl_on() {
	local n=$1
	shift
	in_node "$n" "$BUILD/tools/cmctl" -s "${NODE_SOCK[$n]}" "$@"
}

# stat_of NODE KEY : one counter from cmctl -j stats
stat_of() {
	cmctl_on "$1" -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}

faults_cleanup_impair() {
	local fd p
	for fd in "${IMPAIR_FD[@]}"; do eval "exec $fd>&-"; done
	for p in "${IMPAIR_PID[@]}"; do kill "$p" 2>/dev/null; done
}

# faults_config NODE... : short timers so that link loss and T309 take
# seconds; tests append their own lines
T309_MS=3000
faults_config() {
	local n
	for n in "$@"; do
		printf '[timers]\nt303 = 2000\nt308 = 2000\nt309 = %s\nt322 = 1000\nt398 = 2000\nt399 = 5000\ntimer_keepalive = 200\ntimer_idle = 300\ntimer_noresponse = 1000\ntimer_poll = 100\ntimer_cc = 300\n' \
			"$T309_MS" >"$(node_config "$n")"
	done
}

# leaves NODE... : a client "l<NODE>" on each node with SAP 16, its address
# in ADDRS[NODE]
# shellcheck disable=SC2034 # read by the tests that source this
declare -A ADDRS
leaves() {
	local n
	for n in "$@"; do
		client_start "l$n" "$n"
		say "l$n" sap 16 s
		expect "l$n" '^sap_complete tag=s status=OK'
		address "l$n" 16
		# shellcheck disable=SC2034 # read by the tests that source this
		ADDRS[$n]=$ADDR
	done
}

# wait_tag CLIENT TAG [TIMEOUT_S] : the completion of TAG, wherever it is in
# the client's output (parallel requests complete in any order), into $LINE
wait_tag() {
	local c=$1 tag=$2 timeout=${3:-15} deadline hit
	deadline=$(($(date +%s) + timeout))
	while :; do
		hit=$(grep -m1 -E "^[a-z]+_complete tag=$tag |^refused [a-z]+ tag=$tag " "$NETNS_TMP/$c.out")
		[ -n "$hit" ] && { LINE=$hit; echo "  $c: $LINE"; return 0; }
		[ "$(date +%s)" -lt "$deadline" ] || fail "$c: no completion of $tag within ${timeout}s"
		sleep 0.05
	done
}

# want_status STATUS : the status in $LINE
want_status() {
	[ "$(field status)" = "$1" ] || fail "want status $1: $LINE"
}

# fds_same NODE BEFORE : the daemon holds as many descriptors as before
fds_same() {
	local now
	now=$(node_fds "$1")
	[ "$now" = "$2" ] || { ls -l "/proc/${NODE_PID[$1]}/fd"; fail "callmgrd on $1 had $2 fds, now $now"; }
	log "callmgrd on $1: $now fds, as before"
}
