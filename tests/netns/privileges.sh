#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue #16 item 9, least privilege: a wire-mode callmgrd holds no
# capability once its link is open, and calls still work on the wire.
# Node A's daemon runs as root (it drops everything with capset); node B's
# runs as the unit runs it (tests/netns/unitlike: user nobody, CAP_NET_RAW
# as an ambient capability, capset refused by a seccomp filter), so it
# drops them by executing itself again with the link and data sockets
# inherited.
# Both must show CapEff, CapPrm and CapAmb 0 in /proc/PID/status, keep the
# process name callmgrd, and carry a call in each direction.
#   privileges.sh BUILD_DIR SOURCE_DIR
BUILD=$1
SRC=$2
. "$SRC/tests/netns/lib.sh"
netns_require
id nobody >/dev/null 2>&1 || skip "no user nobody"

# caps_none NODE : the daemon's capability sets are all empty
caps_none() {
	local n=$1 pid=${NODE_PID[$1]} key val
	for key in CapEff CapPrm CapAmb; do
		val=$(sed -n "s/^$key:[[:space:]]*//p" "/proc/$pid/status")
		[ -n "$val" ] || fail "$n: no $key in /proc/$pid/status"
		[ "$((16#$val))" = 0 ] || fail "$n: callmgrd (pid $pid) holds $key $val"
	done
	log "$n: callmgrd (pid $pid, uid $(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' \
		"/proc/$pid/status")) holds no capability"
}

netns_init privs A B
# B's daemon is nobody: it must reach its config and make its socket here
chmod 1777 "$NETNS_TMP"
NODE_WRAP[B]="$BUILD/tests/netns/unitlike nobody"
node_start A
node_start B
grep -q "capabilities dropped with the link and data sockets open" "$NETNS_TMP/A.log" ||
	fail "A did not say it dropped its capabilities"
grep -q "executing callmgrd again to drop its capabilities" "$NETNS_TMP/B.log" ||
	fail "B did not drop its capabilities by executing itself again"
caps_none A
caps_none B
# executing /proc/self/exe names the process "exe"; journald's _COMM, ps and
# pgrep must still find callmgrd
for n in A B; do
	comm=$(cat "/proc/${NODE_PID[$n]}/comm")
	[ "$comm" = callmgrd ] || fail "$n: the daemon's process name is '$comm', not callmgrd"
done
[ "$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/${NODE_PID[B]}/status")" = \
	"$(id -u nobody)" ] || fail "B's callmgrd does not run as nobody"

client_start ra A
client_start la A
client_start rb B
client_start lb B
say la sap 16 s; expect la '^sap_complete tag=s status=OK'
say lb sap 17 s; expect lb '^sap_complete tag=s status=OK'
address la 16; addr_a=$ADDR
address lb 17; addr_b=$ADDR

log "a call from A to B, and one from B to A, over the unprivileged links"
say ra call "$addr_b" ab
expect ra '^call_complete tag=ab ' 15
[ "$(field status)" = OK ] || fail "MakeCall A->B: $LINE"
vc_ab=$(field vc); p_ab=$(field party)
expect lb '^call_connected '
say rb call "$addr_a" ba
expect rb '^call_complete tag=ba ' 15
[ "$(field status)" = OK ] || fail "MakeCall B->A: $LINE"
vc_ba=$(field vc); p_ba=$(field party)
expect la '^call_connected '

say ra close "$vc_ab" "$p_ab" - c1
expect ra '^close_complete tag=c1 status=OK' 15
say rb close "$vc_ba" "$p_ba" - c2
expect rb '^close_complete tag=c2 status=OK' 15
no_vcs_left 15 A B
# still nothing held after the traffic
caps_none A
caps_none B
log "PASS"
