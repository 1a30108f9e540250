# SPDX-License-Identifier: MIT
# Shared scaffolding of the 'netns' tests (bash, sourced):
#   - one network namespace per node, each with a veth "cm0" whose other end
#     is a port of a bridge in a switch namespace (no IP address anywhere:
#     callmgr speaks raw Ethernet, EtherType 0x88B5);
#   - callmgrd per node with its own socket, config and log in a temp dir;
#   - cmscript clients driven through FIFOs, their events in one file each,
#     and `expect` to wait for the next matching event;
#   - dumpcap on the bridge, and wire_check.py to judge the capture.
# Everything is torn down by the EXIT trap, whatever way the test ends.
#
# The caller sets BUILD (the build dir) and SRC (the source dir) and calls
# netns_init NAME NODE... first.

set -u

NETNS_TAG=
NETNS_TMP=
NETNS_NODES=()
declare -A NODE_NS NODE_PID NODE_SOCK NODE_MAC
# NODE_WRAP[NODE]: a command callmgrd runs under on that node (e.g. valgrind)
declare -A NODE_WRAP
declare -A CLIENT_PID CLIENT_FD CLIENT_CURSOR CLIENT_NODE
# functions netns_cleanup calls first (e.g. to close FIFOs of helpers it waits for)
NETNS_CLEANUP_HOOKS=()
CAPTURE_PID=
CAPTURE_FILE=
LINE=

log() { echo "[$(date +%T.%3N)] $*"; }

fail() {
	echo "FAIL: $*"
	dump_state
	exit 1
}

skip() {
	echo "skip: $*"
	exit 77
}

# Skip (77) when the test cannot run here at all.
netns_require() {
	[ "$(id -u)" = 0 ] || skip "not root"
	command -v ip >/dev/null 2>&1 || skip "no ip"
	ip netns list >/dev/null 2>&1 || skip "no ip netns"
	command -v tshark >/dev/null 2>&1 || skip "no tshark"
	command -v dumpcap >/dev/null 2>&1 || skip "no dumpcap"
	command -v python3 >/dev/null 2>&1 || skip "no python3"
	[ -x "$BUILD/daemon/callmgrd" ] || skip "callmgrd not built"
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || skip "no $p"
	done
}

dump_state() {
	local n c
	[ -n "$NETNS_TMP" ] || return 0
	for c in "${!CLIENT_PID[@]}"; do
		echo "---- client $c (events)"
		tail -n 40 "$NETNS_TMP/$c.out" 2>/dev/null
	done
	for n in "${NETNS_NODES[@]}"; do
		echo "---- callmgrd on $n (last lines)"
		tail -n 40 "$NETNS_TMP/$n.log" 2>/dev/null
	done
}

netns_cleanup() {
	local c n fd ns pids h
	trap - EXIT INT TERM
	for h in "${NETNS_CLEANUP_HOOKS[@]}"; do
		"$h"
	done
	for c in "${!CLIENT_FD[@]}"; do
		fd=${CLIENT_FD[$c]}
		[ -n "$fd" ] && eval "exec $fd>&-"
	done
	for c in "${!CLIENT_PID[@]}"; do
		kill "${CLIENT_PID[$c]}" 2>/dev/null
	done
	[ -n "$CAPTURE_PID" ] && kill "$CAPTURE_PID" 2>/dev/null
	for n in "${NETNS_NODES[@]}"; do
		[ -n "${NODE_PID[$n]:-}" ] && kill -TERM "${NODE_PID[$n]}" 2>/dev/null
	done
	# anything still running in our namespaces was started by this test
	for n in "${NETNS_NODES[@]}" sw; do
		ns=${NODE_NS[$n]:-${NETNS_TAG}sw}
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	done
	wait 2>/dev/null
	for n in "${NETNS_NODES[@]}"; do
		ip netns del "${NODE_NS[$n]}" 2>/dev/null
	done
	ip netns del "${NETNS_TAG}sw" 2>/dev/null
	if [ -n "$NETNS_TMP" ]; then
		if [ -n "${NETNS_KEEP:-}" ]; then
			echo "kept $NETNS_TMP"
		else
			rm -rf "$NETNS_TMP"
		fi
	fi
}

# netns_init NAME NODE... : a switch namespace with bridge br0, and one
# namespace per node joined to it by a veth pair (cm0 in the node).
netns_init() {
	local name=$1 n i=0
	shift
	NETNS_TAG="cm${name}$$r$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')"
	NETNS_TMP=$(mktemp -d "/tmp/cmnetns-$name.XXXXXX")
	trap netns_cleanup EXIT
	trap 'exit 1' INT TERM
	local sw="${NETNS_TAG}sw"
	ip netns add "$sw" || skip "cannot create namespaces"
	ip -n "$sw" link add br0 type bridge || fail "bridge"
	# forward at once: no STP listening delay, no multicast snooping surprises
	ip -n "$sw" link set br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	ip netns exec "$sw" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$sw" link set br0 up || fail "bridge up"
	for n in "$@"; do
		local ns="${NETNS_TAG}$n"
		ip netns add "$ns" || fail "netns add $ns"
		NETNS_NODES+=("$n")
		NODE_NS[$n]=$ns
		# no IPv6 link-local chatter: the capture holds callmgr frames only
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link add cm0 type veth peer name "p$i" netns "$sw" || fail "veth $n"
		ip -n "$sw" link set "p$i" master br0 || fail "port $n"
		ip -n "$sw" link set "p$i" up || fail "port up $n"
		ip -n "$ns" link set lo up
		ip -n "$ns" link set cm0 up || fail "cm0 up $n"
		NODE_MAC[$n]=$(ip netns exec "$ns" cat /sys/class/net/cm0/address)
		i=$((i + 1))
	done
	log "namespaces ${NETNS_TAG}{sw,$(IFS=,; echo "$*")}, files in $NETNS_TMP"
}

# in_node NODE CMD... : run a command inside a node's namespace
in_node() {
	local n=$1
	shift
	ip netns exec "${NODE_NS[$n]}" "$@"
}

# spawn_clean CMD... : exec CMD with none of this shell's FIFO descriptors
# (bash's {fd} redirections are inherited): a daemon holding a client's
# FIFO open would keep that client from ever seeing end of input.  Call it
# in a backgrounded subshell; the exec keeps that subshell's PID.
spawn_clean() {
	local f n
	for f in /proc/$BASHPID/fd/*; do
		n=${f##*/}
		[ "$n" -gt 2 ] && [ "$n" != 255 ] && eval "exec $n>&-"
	done
	exec "$@"
}

# node_config NODE : the config file callmgrd reads; tests append to it.
# Short timers keep the tests quick; the values are the test's own.
node_config() {
	echo "$NETNS_TMP/$1.conf"
}

# node_start NODE : callmgrd on the node's cm0, waits until its socket is up
node_start() {
	local n=$1 conf sock i
	conf=$(node_config "$n")
	sock="$NETNS_TMP/$n.sock"
	[ -e "$conf" ] || : >"$conf"
	rm -f "$sock"
	# not through in_node: a backgrounded function stays a subshell, and $!
	# must be callmgrd itself (spawn_clean and ip netns exec exec) so that
	# kill reaches it
	# shellcheck disable=SC2086 # the wrapper is a word list
	(spawn_clean ip netns exec "${NODE_NS[$n]}" ${NODE_WRAP[$n]:-} "$BUILD/daemon/callmgrd" \
		--foreground --interface cm0 --socket "$sock" --config "$conf" --log-target stderr \
		--log-level "${CALLMGRD_LOG_LEVEL:-info}") >>"$NETNS_TMP/$n.log" 2>&1 &
	NODE_PID[$n]=$!
	NODE_SOCK[$n]=$sock
	# a wrapped daemon (valgrind) takes seconds to start
	for i in $(seq 600); do
		[ -S "$sock" ] && return 0
		kill -0 "${NODE_PID[$n]}" 2>/dev/null || fail "callmgrd on $n exited"
		sleep 0.05
	done
	fail "callmgrd on $n did not create $sock"
}

# node_kill NODE [SIGNAL]
node_kill() {
	local n=$1 sig=${2:-TERM}
	kill "-$sig" "${NODE_PID[$n]}" 2>/dev/null
	wait "${NODE_PID[$n]}" 2>/dev/null
	NODE_PID[$n]=
}

# client_start NAME NODE : a cmscript connected to NODE's callmgrd
client_start() {
	local c=$1 n=$2 fifo fd
	fifo="$NETNS_TMP/$c.in"
	mkfifo "$fifo"
	: >"$NETNS_TMP/$c.out"
	(spawn_clean ip netns exec "${NODE_NS[$n]}" "$BUILD/tests/netns/cmscript" \
		-s "${NODE_SOCK[$n]}" -n "$c") <"$fifo" >>"$NETNS_TMP/$c.out" 2>"$NETNS_TMP/$c.err" &
	CLIENT_PID[$c]=$!
	exec {fd}>"$fifo"
	CLIENT_FD[$c]=$fd
	CLIENT_CURSOR[$c]=0
	CLIENT_NODE[$c]=$n
	expect "$c" '^ready$' 5
}

# say CLIENT COMMAND... : one command line to a client
say() {
	local c=$1
	shift
	echo "$*" >&"${CLIENT_FD[$c]}" || fail "client $c is gone"
}

# client_stop CLIENT : quit and wait for it
client_stop() {
	local c=$1 fd=${CLIENT_FD[$1]}
	say "$c" quit
	eval "exec $fd>&-"
	unset "CLIENT_FD[$c]"
	wait "${CLIENT_PID[$c]}" 2>/dev/null
}

# expect CLIENT ERE [TIMEOUT_S] : wait for the next event line matching ERE
# after the last one matched; the line is left in $LINE.  Events skipped over
# stay skipped, so expectations are ordered per client.
expect() {
	local c=$1 re=$2 timeout=${3:-10} out="$NETNS_TMP/$1.out" deadline hit
	deadline=$((${EPOCHREALTIME/./} / 1000 + timeout * 1000))
	while :; do
		hit=$(tail -n +"$((CLIENT_CURSOR[$c] + 1))" "$out" | grep -n -E -m1 -- "$re")
		if [ -n "$hit" ]; then
			CLIENT_CURSOR[$c]=$((CLIENT_CURSOR[$c] + ${hit%%:*}))
			LINE=${hit#*:}
			echo "  $c: $LINE"
			return 0
		fi
		[ "$((${EPOCHREALTIME/./} / 1000))" -lt "$deadline" ] ||
			fail "$c: no event matching /$re/ within ${timeout}s"
		sleep 0.03
	done
}

# expect_none CLIENT ERE : no event line matching ERE anywhere so far
expect_none() {
	if grep -q -E -- "$2" "$NETNS_TMP/$1.out"; then
		fail "$1: unexpected event: $(grep -E -m1 -- "$2" "$NETNS_TMP/$1.out")"
	fi
}

# clients_settled CLIENT... : every request of each client has completed,
# none twice, none refused as a bad command, no client lost its daemon
clients_settled() {
	local c
	for c in "$@"; do
		say "$c" pending
		expect "$c" '^pending '
		[ "$LINE" = "pending 0" ] || fail "$c: requests without completion: $LINE"
		expect_none "$c" '^(duplicate|bad_command|disconnected)'
	done
}

# field KEY [LINE] : the value of key=value in LINE (default $LINE)
field() {
	local line=${2:-$LINE}
	echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n1
}

# address CLIENT SEL : this client's node's AESA for SEL, into $ADDR
address() {
	say "$1" addr "$2"
	expect "$1" "^addr $2 " 5
	ADDR=${LINE##* }
}

# switch_impair LOSS% REORDER% : replace the bridge by tests/netns/impair, a
# user-space switch losing and reordering frames (for kernels without
# netem).  Then capture on a node's veth: the switch has no single port.
IMPAIR_PID=
switch_impair() {
	local sw="${NETNS_TAG}sw" ports=() i ready="$NETNS_TMP/impair.ready"
	for i in "${!NETNS_NODES[@]}"; do
		ip -n "$sw" link set "p$i" nomaster || fail "unbridge p$i"
		ports+=("p$i")
	done
	rm -f "$ready" # a second impairer must not find the first one's
	IMPAIR_READY=$ready ip netns exec "$sw" "$BUILD/tests/netns/impair" "$1" "$2" \
		"${IMPAIR_SEED:-$$}" "${ports[@]}" >"$NETNS_TMP/impair.log" 2>&1 &
	IMPAIR_PID=$!
	for i in $(seq 100); do
		[ -e "$ready" ] && return 0
		sleep 0.05
	done
	fail "impair did not start: $(cat "$NETNS_TMP/impair.log")"
}

impair_stop() {
	[ -n "$IMPAIR_PID" ] || return 0
	kill -TERM "$IMPAIR_PID" 2>/dev/null
	wait "$IMPAIR_PID" 2>/dev/null
	IMPAIR_PID=
}

# capture_start [NODE IFACE] : dumpcap on the bridge (default) or on a
# node's interface, callmgr's EtherType only (or $CAPTURE_FILTER)
capture_start() {
	local ns="${NETNS_TAG}sw" ifc=br0
	[ $# -eq 2 ] && ns=${NODE_NS[$1]} && ifc=$2
	CAPTURE_FILE="$NETNS_TMP/wire.pcap"
	# a second capture must not take the first one's file or "Capturing
	# on" for its own start (frames sent meanwhile would be missed)
	rm -f "$CAPTURE_FILE"
	: >"$NETNS_TMP/dumpcap.log"
	ip netns exec "$ns" dumpcap -q -i "$ifc" -P -f "${CAPTURE_FILTER:-ether proto 0x88b5}" \
		-w "$CAPTURE_FILE" >>"$NETNS_TMP/dumpcap.log" 2>&1 &
	CAPTURE_PID=$!
	local i
	for i in $(seq 200); do
		grep -q "Capturing on" "$NETNS_TMP/dumpcap.log" 2>/dev/null && return 0
		[ -s "$CAPTURE_FILE" ] && return 0
		kill -0 "$CAPTURE_PID" 2>/dev/null || fail "dumpcap: $(cat "$NETNS_TMP/dumpcap.log")"
		sleep 0.05
	done
	fail "dumpcap did not start"
}

capture_stop() {
	[ -n "$CAPTURE_PID" ] || return 0
	sleep 0.3 # the last frames reach the bridge
	kill -INT "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID" 2>/dev/null
	CAPTURE_PID=
}

# wire_check TYPE... : Wireshark judges every captured frame, then FreeBSD
# ngatm's codec judges every message in it (ngatm_judge).  WIRE_CHECK_OPTS
# passes options to wire_check.py (--restart-first on lossless captures).
wire_check() {
	capture_stop
	python3 "$SRC/tests/netns/wire_check.py" ${WIRE_CHECK_OPTS:-} "$CAPTURE_FILE" \
		"$SRC/tools/callmgr.lua" "$@" ||
		fail "Wireshark did not accept the capture ($CAPTURE_FILE)"
	ngatm_judge
}

# ngatm_judge : the independent Q.2931/Q.2971 codec beside the repository
# ($NGATM_DIR, by default ../shared/interop/ngatm) must pass every message
# callmgr sent; without it, the step is skipped with a line saying so.
ngatm_judge() {
	local dir=${NGATM_DIR:-$SRC/../shared/interop/ngatm}
	if [ ! -x "$dir/judge.sh" ]; then
		log "ngatm judge: skipped, no $dir/judge.sh (it lives beside the repository)"
		return 0
	fi
	(cd "$dir" && ./judge.sh "$CAPTURE_FILE") >"$NETNS_TMP/ngatm.txt" 2>&1 || {
		grep -E '^(FAIL|SUMMARY)' "$NETNS_TMP/ngatm.txt" | head -n 40
		fail "ngatm did not accept the capture ($CAPTURE_FILE)"
	}
	log "ngatm judge: $(grep '^SUMMARY' "$NETNS_TMP/ngatm.txt")"
}

# node_leftovers NODE : "" when the node's daemon holds no VC, leg or party
# (cmctl -j vc list is an empty array and the stats count none), else what is left
node_leftovers() {
	local n=$1 list stats
	list=$(in_node "$n" "$BUILD/tools/cmctl" -s "${NODE_SOCK[$n]}" -j vc list) ||
		{ echo "cmctl vc list failed"; return; }
	stats=$(in_node "$n" "$BUILD/tools/cmctl" -s "${NODE_SOCK[$n]}" -j stats) ||
		{ echo "cmctl stats failed"; return; }
	list=$(echo "$list" | tr -d ' \n')
	stats=$(echo "$stats" | grep -o -E '"(vcs|legs|parties)":[0-9]+' | grep -v ':0$' | tr '\n' ' ')
	[ "$list" = "[]" ] && [ -z "$stats" ] && return
	echo "vc list $list; $stats"
}

# no_vcs_left TIMEOUT_S NODE... : every node's daemon drains to nothing
no_vcs_left() {
	local timeout=$1 n left deadline
	shift
	deadline=$(($(date +%s) + timeout))
	for n in "$@"; do
		while :; do
			left=$(node_leftovers "$n")
			[ -z "$left" ] && break
			[ "$(date +%s)" -lt "$deadline" ] || {
				in_node "$n" "$BUILD/tools/cmctl" -s "${NODE_SOCK[$n]}" vc list
				fail "left on $n: $left"
			}
			sleep 0.2
		done
		log "nothing left on $n"
	done
}
