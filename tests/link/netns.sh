#!/bin/sh
# Real AF_PACKET test: two network namespaces joined by a veth pair, a
# link_peer in each, N messages echoed across.  Skips (77) without root or
# without `ip netns`.  Usage: netns.sh LINK_PEER_BINARY [COUNT]
set -u
bin=$1
count=${2:-2000}
[ "$(id -u)" = 0 ] || { echo "skip: not root"; exit 77; }
command -v ip >/dev/null 2>&1 || { echo "skip: no ip"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "skip: no ip netns"; exit 77; }

# unique per run, so parallel runs and leftovers never collide
tag="cmlk$$$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')"
nsa="${tag}a"
nsb="${tag}b"
echo_pid=
ready_file=$(mktemp -u /tmp/cmlink-ready.XXXXXX)
cleanup() {
	rm -f "$ready_file"
	[ -n "$echo_pid" ] && kill "$echo_pid" 2>/dev/null
	ip netns del "$nsa" 2>/dev/null
	ip netns del "$nsb" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$nsa" || { echo "skip: cannot create namespaces"; exit 77; }
ip netns add "$nsb" || { echo "skip: cannot create namespaces"; exit 77; }
# the names live inside the namespaces, so they cannot clash with the host
ip -n "$nsa" link add cm0 type veth peer name cm1 netns "$nsb" || exit 1
ip -n "$nsa" link set cm0 up || exit 1
ip -n "$nsb" link set cm1 up || exit 1
mac_b=$(ip netns exec "$nsb" cat /sys/class/net/cm1/address) || exit 1

LINK_PEER_READY=$ready_file ip netns exec "$nsb" "$bin" cm1 echo &
echo_pid=$!
tries=0
while [ ! -e "$ready_file" ]; do
	tries=$((tries + 1))
	[ "$tries" -le 100 ] || { echo "echo side did not start"; exit 1; }
	sleep 0.05
done
ip netns exec "$nsa" "$bin" cm0 send "$mac_b" "$count"
rc_send=$?
wait "$echo_pid"
rc_echo=$?
echo_pid=
echo "send: $rc_send echo: $rc_echo"
[ "$rc_send" = 0 ] && [ "$rc_echo" = 0 ]
