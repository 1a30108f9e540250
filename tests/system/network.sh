#!/bin/bash
# Network mode: the container's callmgrd (the packaged, hardened unit) on
# host0, a peer callmgrd (this build) in a network namespace of the host on
# the other end of the veth; a call from the container reaches a SAP of the
# peer.  Called by run.sh.  usage: network.sh WORK CONTAINER_PID MACHINE BUILD
set -eu
# shellcheck disable=SC2034 # cpid is for lib.sh
work=$1 cpid=$2 machine=$3 build=$4
# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
ns=cmsys$$
peer_pid=
cleanup() {
	local rc=$?
	if [ "$rc" != 0 ]; then
		# the checks after this one need the container's daemon in local
		# mode and stopped: stopped while the peer still answers, or its
		# stop waits for RELEASE COMPLETEs that never come (T308)
		cx systemctl stop callmgrd.service
		cx sh -c "printf '[daemon]\nlog_level = debug\n' >/etc/callmgr/callmgrd.conf"
	fi
	[ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null && wait "$peer_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	true
}
trap cleanup EXIT

host_if=$(ip -o link | awk -F': ' -v m="ve-$machine" '$2 ~ "^"m { sub(/@.*/, "", $2); print $2; exit }')
[ -n "$host_if" ] || { echo "no veth for $machine"; ip -o link; exit 1; }
ip netns add "$ns"
ip link set "$host_if" netns "$ns"
ip -n "$ns" link set "$host_if" up
ip -n "$ns" link set lo up
cx ip link set host0 up
mac_c=$(cx cat /sys/class/net/host0/address)
mac_p=$(ip -n "$ns" -o link show "$host_if" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
echo "container host0 $mac_c, peer $host_if $mac_p"

# the peer: this build's daemon, its own socket and a leaf client
ip netns exec "$ns" "$build/daemon/callmgrd" --foreground -i "$host_if" \
	-s "$work/peer.sock" --log-target stderr >"$work/peer.log" 2>&1 &
peer_pid=$!
wait_for 10 test -S "$work/peer.sock" || { cat "$work/peer.log"; exit 1; }
mkfifo "$work/pleaf.in"
"$build/tests/netns/cmscript" -s "$work/peer.sock" -n pleaf <"$work/pleaf.in" >"$work/pleaf.out" 2>&1 &
exec 7<>"$work/pleaf.in"
echo "sap 5 s5" >&7
echo "addr 5" >&7
wait_for 10 grep -q "^addr 5 " "$work/pleaf.out" || { cat "$work/pleaf.out"; exit 1; }
aesa=$(awk '$1 == "addr" { print $3; exit }' "$work/pleaf.out")

# the container's daemon in network mode, everything of the unit kept
cx sh -c "printf '[daemon]\ninterface = host0\nlog_level = debug\nallowed_peers = $mac_p\n' >/etc/callmgr/callmgrd.conf"
cx systemctl restart callmgrd.service
cx systemctl is-active -q callmgrd.service || { cx journalctl -u callmgrd -n 20 --no-pager; exit 1; }
cx systemctl show -p NoNewPrivileges -p ProtectSystem -p CapabilityBoundingSet -p RestrictAddressFamilies callmgrd.service

mkfifo "$work/root/srv/t/nroot.in"
cx sh -c "exec cmscript -n nroot </srv/t/nroot.in >/srv/t/nroot.out 2>&1" &
exec 8<>"$work/root/srv/t/nroot.in"
echo "call $aesa n1" >&8
if ! wait_for 20 grep -q "call_complete tag=n1 status=OK" "$work/root/srv/t/nroot.out"; then
	cat "$work/root/srv/t/nroot.out" "$work/peer.log"
	cx journalctl -u callmgrd -n 30 --no-pager
	exit 1
fi
echo "call over the veth: $(grep call_complete "$work/root/srv/t/nroot.out")"
wait_for 10 grep -q "call_connected\|incoming_call" "$work/pleaf.out" || { cat "$work/pleaf.out"; exit 1; }

# journal: the leg lines carry the peer's MAC, once.  journald writes
# what the daemon sent when it gets to it: on a loaded machine after the
# call completed, so the lines are waited for (bounded), then judged.
njournal() {
	cx journalctl --sync
	cx journalctl -u callmgrd -o json --no-pager _COMM=callmgrd >"$work/njournal.json"
	grep -Eq "\"CM_PEER\" ?: ?\"$mac_p\"" "$work/njournal.json"
}
if ! wait_for 10 njournal; then
	# what the journal holds instead, to tell a late journald from lines
	# never sent or dropped (rate limit, another _COMM)
	echo "journal after 10 s: $(wc -l <"$work/njournal.json") callmgrd entries; CM_PEER values:"
	grep -Eo '"CM_PEER" ?: ?"[^"]*"' "$work/njournal.json" | sort | uniq -c
	echo "_COMM values of the unit's entries:"
	cx journalctl -u callmgrd -o json --no-pager | grep -Eo '"_COMM" ?: ?"[^"]*"' | sort | uniq -c
	cx journalctl --no-pager -o cat -u systemd-journald | tail -n 5
	cx journalctl -u callmgrd --no-pager -o cat -n 15
fi
python3 - "$work/njournal.json" "$mac_p" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    for k in ("CODE_FILE", "CODE_LINE", "CODE_FUNC", "CM_VC", "CM_PARTY", "CM_PEER"):
        if isinstance(e.get(k), list):
            sys.exit("%s twice: %s" % (k, e[k]))
    n += e.get("CM_PEER") == sys.argv[2]
if n == 0:
    sys.exit("no journal entry with CM_PEER=" + sys.argv[2])
print("%d entries with CM_PEER=%s" % (n, sys.argv[2]))
PY

# Stop with a call up to the peer: Q.2931 has the releasing side wait for
# RELEASE COMPLETE (bounded by T308) before the association ends, and
# callmgrd does (issue 15): the peer's RELEASE COMPLETE must not reach a
# released link ("sscop releasing: SD ignored").
since=$(cx date +%s)
cx systemctl stop callmgrd.service
wait_for 10 grep -q "incoming_close_call\|incoming_drop_party" "$work/pleaf.out" ||
	{ echo "stop: the peer's client saw no release"; cat "$work/pleaf.out"; exit 1; }
cx journalctl -u callmgrd --no-pager -o cat --since "@$since" >"$work/stop.log"
if grep -q "SD ignored" "$work/stop.log"; then
	echo "stop: the peer's RELEASE COMPLETE reached a released link:"
	grep -B3 "SD ignored" "$work/stop.log"
	exit 1
fi
grep -q "still present" "$work/stop.log" &&
	{ echo "stop: calls left at exit"; cat "$work/stop.log"; exit 1; }
echo "stop: every RELEASE COMPLETE arrived before the association ended"
echo quit >&8
exec 8>&- 7>&-
# back to local mode for what follows
cx sh -c "printf '[daemon]\nlog_level = debug\n' >/etc/callmgr/callmgrd.conf"
cx systemctl restart callmgrd.service
