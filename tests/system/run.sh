#!/bin/bash
# The packages under a real systemd: build the .debs, install them into a
# minimal Debian 12 tree (make-tree.sh, cached), boot it with systemd-nspawn
# and check from outside what docs/operations.md promises.  One line per
# check, "ok" or "not ok"; exit 1 if any failed, 77 if the tree cannot be
# built or booted here.
# usage: run.sh SOURCE_ROOT BUILD_ROOT
set -u
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIP: $*"; exit 77; }
# shellcheck source=tests/system/lib.sh
. "$here/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "not root"
command -v systemd-nspawn >/dev/null || skip "no systemd-nspawn"
command -v nsenter >/dev/null || skip "no nsenter"
tree=$("$here/make-tree.sh") || { rc=$?; [ "$rc" -eq 77 ] && skip "no Debian tree"; exit "$rc"; }
"$src/tests/packaging/build-debs.sh" "$src" "$build/debs" || exit $?

work=$(mktemp -d /tmp/callmgr-system.XXXXXX)
nspawn_pid=
cleanup() {
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		cx systemctl poweroff >/dev/null 2>&1
		for _ in $(seq 50); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
		kill "$nspawn_pid" 2>/dev/null
		wait "$nspawn_pid" 2>/dev/null
	fi
	# shellcheck disable=SC2046 # the clients left, if any
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	umount "$work/root" 2>/dev/null || umount -l "$work/root"
	rm -rf "$work"
}
trap cleanup EXIT

# An overlay keeps the cached tree clean.
mkdir "$work/upper" "$work/ow" "$work/root" "$work/debs"
mount -t overlay overlay -o "lowerdir=$tree,upperdir=$work/upper,workdir=$work/ow" \
	"$work/root" || skip "cannot mount an overlay on $tree"
cp "$build"/debs/*.deb "$work/debs/"
rm -f "$work"/debs/*-dbgsym_*.deb
mkdir -p "$work/root/usr/local/bin" "$work/root/srv/t"
# a scriptable client (tests/netns/cmscript.c); it loads the packaged libcallmgr.so.0
cp "$build/tests/netns/cmscript" "$work/root/usr/local/bin/"
# the watchdog check should not wait 30 s: same mechanism, shorter interval
mkdir -p "$work/root/etc/systemd/system/callmgrd.service.d"
printf '[Service]\nWatchdogSec=3s\n' >"$work/root/etc/systemd/system/callmgrd.service.d/test.conf"

# short: nspawn names the host end of the veth ve-MACHINE, 15 characters at most
machine=cm$$
# PID 1 of this host need not be systemd: no registration, no scope of our own.
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 setsid systemd-nspawn -q -b -D "$work/root" \
	--register=no --keep-unit -M "$machine" --network-veth \
	--bind-ro="$work/debs:/debs" >"$work/console.log" 2>&1 </dev/null &
nspawn_pid=$!
cpid=
for _ in $(seq 300); do
	# nspawn's first child may be its own helper still: wait for systemd
	cpid=$(pgrep -P "$nspawn_pid" -x systemd | head -n1)
	[ -n "$cpid" ] && break
	sleep 0.1
done
[ -n "$cpid" ] || { tail "$work/console.log"; skip "the container did not start"; }
# until systemd's private socket exists, systemctl cannot even ask
for _ in $(seq 600); do
	state=$(timeout 120 nsenter -t "$cpid" -m -u -i -n -p -C -- systemctl is-system-running --wait 2>&1)
	case "$state" in *"Failed to connect"* | offline) sleep 0.2 ;; *) break ;; esac
done
case "$state" in
running | degraded) ;;
*) tail -n 20 "$work/console.log"; skip "the container did not boot ($state)" ;;
esac

failed=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; failed=$((failed + 1)); }
check() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >"$work/out" 2>&1; then ok "$what"; else notok "$what"; sed 's/^/#   /' "$work/out"; fi
}
expect() { # DESCRIPTION WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1: want '$2', got '$3'"; fi
}
mainpid() { cx systemctl show -P MainPID callmgrd.service; }

# ---- install: only the socket enabled and listening, the daemon not running
cx sh -c 'dpkg -i /debs/libcallmgr0_*.deb /debs/cmctl_*.deb /debs/callmgrd_*.deb' \
	>"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; notok "dpkg -i"; }
expect "install: socket enabled" enabled "$(cx systemctl is-enabled callmgrd.socket)"
expect "install: service not enabled" disabled "$(cx systemctl is-enabled callmgrd.service)"
expect "install: socket listening" active "$(cx systemctl is-active callmgrd.socket)"
expect "install: daemon not started" inactive "$(cx systemctl is-active callmgrd.service)"
check "install: user and group callmgr" cx getent passwd callmgr

# ---- socket activation and READY
check "cmctl status starts the daemon" cx cmctl status
expect "Type=notify: active once READY" active "$(cx systemctl is-active callmgrd.service)"
check "STATUS= from the daemon" sh -c "nsenter -t $cpid -m -p -- systemctl show -P StatusText callmgrd.service | grep -q sessions"
# shellcheck disable=SC2016 # expanded in the container
# The unit grants CAP_NET_RAW (bounding set, ambient) for the link socket
# only; the daemon then executes itself again without it (docs/security.md),
# so the running process holds nothing and CAP_NET_RAW is all it could ever
# get back.  Its name stays callmgrd for the journal's _COMM.
check "runs as callmgr, CAP_NET_RAW bounding only, no capability held" cx sh -c '
	pid=$(systemctl show -P MainPID callmgrd.service)
	st=/proc/$pid/status
	grep -q "^Uid:[[:space:]]*$(id -u callmgr)[[:space:]]" $st || { echo "uid:"; grep ^Uid: $st; exit 1; }
	for k in CapEff CapPrm CapAmb; do
		grep -q "^$k:[[:space:]]*0000000000000000$" $st || { grep "^$k:" $st; exit 1; }
	done
	grep -q "^CapBnd:[[:space:]]*0000000000002000$" $st || { grep ^CapBnd: $st; exit 1; }
	[ "$(cat /proc/$pid/comm)" = callmgrd ] || { echo "comm: $(cat /proc/$pid/comm)"; exit 1; }'

# ---- reload: a good file applies, a bad one keeps the running configuration
pid=$(mainpid)
cx sh -c 'printf "[daemon]\nlog_level = debug\n" >/etc/callmgr/callmgrd.conf'
cx systemctl reload callmgrd.service
check "reload (good file) logs what changed" wait_for 10 sh -c \
	"nsenter -t $cpid -m -p -- journalctl -u callmgrd --no-pager -o cat | grep -q 'log_level notice->debug'"
expect "reload (good file): same process" "$pid" "$(mainpid)"
cx sh -c 'printf "[daemon]\nlog_level = debug\n[timers]\nt303 = abc\n" >/etc/callmgr/callmgrd.conf'
cx systemctl reload callmgrd.service
check "reload (bad file) names file, line and key" wait_for 10 sh -c \
	"nsenter -t $cpid -m -p -- journalctl -u callmgrd --no-pager -o cat | grep -q 'callmgrd.conf:4: \[timers\] t303'"
expect "reload (bad file): still active" active "$(cx systemctl is-active callmgrd.service)"
expect "reload (bad file): same process" "$pid" "$(mainpid)"
cx sh -c 'printf "[daemon]\nlog_level = debug\n" >/etc/callmgr/callmgrd.conf'

# ---- calls in local mode, through the packaged library
client() { # NAME: a cmscript in the container, commands from a FIFO
	mkfifo "$work/root/srv/t/$1.in"
	: >"$work/root/srv/t/$1.out"
	cx sh -c "exec cmscript -n $1 </srv/t/$1.in >/srv/t/$1.out 2>&1" &
	exec {fd}<>"$work/root/srv/t/$1.in"
	eval "fd_$1=$fd"
}
say() { local fd="fd_$1"; echo "$2" >&"${!fd}"; }
seen() { # NAME PATTERN [SECONDS]
	wait_for "${3:-10}" grep -q "$2" "$work/root/srv/t/$1.out"
}
# call_up N: leafN registers SAP N, rootN calls it; sets vc_N (empty on failure)
call_up() {
	local k=$1
	client "leaf$k"
	client "root$k"
	say "leaf$k" "sap $k s$k"
	seen "leaf$k" "sap_complete tag=s$k status=OK" || true
	say "leaf$k" "addr $k"
	seen "leaf$k" "^addr $k " || true
	local aesa
	aesa=$(awk '$1 == "addr" { print $3; exit }' "$work/root/srv/t/leaf$k.out")
	say "root$k" "call $aesa c$k"
	seen "root$k" "call_complete tag=c$k status=OK" ||
		notok "call $k: $(cat "$work/root/srv/t/root$k.out")"
	# shellcheck disable=SC2034 # read as vc_1, vc_2 below
	eval "vc_$k=\$(sed -n 's/.*call_complete tag=c$k status=OK vc=\([0-9]*\).*/\1/p' \"\$work/root/srv/t/root$k.out\")"
}
vc_1='' vc_2=''
call_up 1
check "a call from a client of the packaged library" test -n "$vc_1"
vc=$vc_1

# ---- journal: CM_ fields once each, one location per entry, no own address as peer
# (journald writes what the daemon sent when it gets to it: waited for,
# bounded, on a loaded machine; then judged)
journal_has_vc() {
	cx journalctl --sync
	cx journalctl -u callmgrd -o json --no-pager _COMM=callmgrd >"$work/journal.json"
	grep -Eq "\"CM_VC\" ?: ?\"$vc\"" "$work/journal.json"
}
wait_for 10 journal_has_vc || true
check "journal: CM_VC/CM_PARTY once each, one CODE_ location, no CM_PEER of our own" \
	python3 - "$work/journal.json" "$vc" <<'PY'
import json, sys
vc_seen = party_seen = False
bad = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    for k in ("CODE_FILE", "CODE_LINE", "CODE_FUNC", "CM_VC", "CM_PARTY", "CM_PEER"):
        if isinstance(e.get(k), list):
            bad.append("%s twice: %s" % (k, e[k]))
    if e.get("CM_PEER") == "02:00:00:00:00:01":
        bad.append("CM_PEER is the node's own address: %s" % e.get("MESSAGE"))
    vc_seen |= e.get("CM_VC") == sys.argv[2]
    party_seen |= "CM_PARTY" in e
if not vc_seen: bad.append("no entry with CM_VC=" + sys.argv[2])
if not party_seen: bad.append("no entry with CM_PARTY")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

# the re-exec (privileges) names the image callmgrd from its start: an
# image named "exe" for a moment was cached by journald for the lines after
check "journal: no line of the daemon under the name exe" sh -c \
	"! nsenter -t $cpid -m -p -- journalctl -u callmgrd -o json --no-pager | grep -Eq '\"_COMM\" ?: ?\"exe\"'"

# ---- group access and admin rights
cx groupadd -f cmadmin
cx useradd -M -G callmgr alice
cx useradd -M bob
cx useradd -M -G callmgr,cmadmin carol
check "a member of group callmgr uses the socket" cx runuser -u alice -- cmctl status
cx runuser -u bob -- cmctl status >"$work/bob.out" 2>&1
expect "a non-member is refused (exit 3)" 3 "$?"
check "... saying permission denied" grep -qx \
	"cmctl: cannot connect to /run/callmgr/callmgr.sock: permission denied (not in the socket's group?)" "$work/bob.out"
cx sh -c 'printf "[daemon]\nlog_level = debug\nadmin_group = cmadmin\n" >/etc/callmgr/callmgrd.conf'
# admin_group takes effect at the next restart; the calls go with the old daemon
cx systemctl restart callmgrd.service
call_up 2
vc2=$vc_2
cx runuser -u alice -- cmctl close "$vc2" --force >"$work/out" 2>&1
expect "a plain member may not close another's VC (exit 1)" 1 "$?"
# admin_group is honoured by membership, supplementary groups included
# (SO_PEERGROUPS): carol's primary group is her own.
check "a supplementary member of admin_group may" cx runuser -u carol -- cmctl close "$vc2" --force
call_up 3

# ---- the watchdog restarts a hung daemon
pid=$(mainpid)
cx kill -STOP "$pid"
check "watchdog: a stopped daemon is replaced" wait_for 20 sh -c \
	"p=\$(nsenter -t $cpid -m -p -- systemctl show -P MainPID callmgrd.service); [ \"\$p\" != $pid ] && [ \"\$p\" != 0 ] &&
	 nsenter -t $cpid -m -p -- systemctl is-active -q callmgrd.service"
check "watchdog: logged as such" sh -c \
	"nsenter -t $cpid -m -p -- journalctl -u callmgrd --no-pager | grep -q 'Watchdog timeout'"
check "watchdog: the socket stayed, clients reconnect" cx cmctl status

# ---- stop with calls up releases them
call_up 4
cx systemctl stop callmgrd.service 2>/dev/null # "can still be activated by the socket"
expect "stop: the daemon ended cleanly" inactive "$(cx systemctl is-active callmgrd.service)"
check "stop: the leaf saw its call released" seen leaf4 "incoming_close_call\|incoming_drop_party" 2
check "stop: no call left behind" sh -c \
	"nsenter -t $cpid -m -p -- journalctl -u callmgrd --no-pager -o cat | grep -v 'still present' | grep -q 'callmgrd stopped'"
expect "stop: the socket stays" active "$(cx systemctl is-active callmgrd.socket)"
# what cmctl prints then (the troubleshooting table of docs/operations.md)
cx systemctl stop callmgrd.socket
cx cmctl status >"$work/stale.out" 2>&1
expect "socket unit stopped: cmctl exits 3" 3 "$?"
check "... saying no daemon (the socket file is left over)" grep -qx \
	"cmctl: cannot connect to /run/callmgr/callmgr.sock: no daemon (stale socket, nothing listens on it)" "$work/stale.out"
cx systemctl start callmgrd.socket

# ---- network mode over a veth, full hardening, to a peer callmgrd on the host
if [ -n "${CALLMGR_SYSTEM_NETWORK:-1}" ] && [ -x "$build/daemon/callmgrd" ] &&
	"$here/network.sh" "$work" "$cpid" "$machine" "$build" >"$work/net.log" 2>&1; then
	sed 's/^/# /' "$work/net.log"
	ok "network mode to a peer callmgrd over a veth, hardened unit"
else
	sed 's/^/#   /' "$work/net.log"
	notok "network mode to a peer callmgrd over a veth, hardened unit"
fi

# ---- upgrade, remove, purge
cx sh -c 'echo "# local edit" >>/etc/callmgr/callmgrd.conf'
mkdir "$work/up"
# the same callmgrd under a higher version: the upgrade path of the scripts
dpkg-deb -R "$work"/debs/callmgrd_*.deb "$work/up/callmgrd"
sed -i 's/^Version: \(.*\)$/Version: \1+systemtest1/' "$work/up/callmgrd/DEBIAN/control"
dpkg-deb -b -Zgzip "$work/up/callmgrd" "$work/debs/up-callmgrd.deb" >/dev/null
cx dpkg -i /debs/up-callmgrd.deb >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; notok "upgrade"; }
expect "upgrade: socket enabled" enabled "$(cx systemctl is-enabled callmgrd.socket)"
expect "upgrade: service not enabled" disabled "$(cx systemctl is-enabled callmgrd.service)"
expect "upgrade: socket listening" active "$(cx systemctl is-active callmgrd.socket)"
check "upgrade: the local edit of the conffile kept" cx grep -q "# local edit" /etc/callmgr/callmgrd.conf
check "upgrade: the daemon still starts on demand" cx cmctl status
cx dpkg -r callmgrd >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; notok "remove"; }
expect "remove: socket gone" inactive "$(cx systemctl is-active callmgrd.socket)"
expect "remove: daemon stopped" inactive "$(cx systemctl is-active callmgrd.service)"
check "remove: the configuration stays" cx test -f /etc/callmgr/callmgrd.conf
cx dpkg -P callmgrd >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; notok "purge"; }
check "purge: the configuration is gone" cx test ! -e /etc/callmgr/callmgrd.conf
check "purge: no enablement left" cx test ! -e /etc/systemd/system/sockets.target.wants/callmgrd.socket

echo "$n checks, $failed failed"
[ "$failed" -eq 0 ]
