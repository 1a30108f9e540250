#!/bin/sh
# callmgrd started by systemd-socket-activate on the first connection serves
# that client (cmctl) on the inherited socket.
# usage: socket-activate.sh CALLMGRD CMCTL
set -u
command -v systemd-socket-activate >/dev/null || { echo "no systemd-socket-activate"; exit 77; }
callmgrd=$1
cmctl=$2
dir=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid"
	rm -rf "$dir"
}
trap cleanup EXIT
: >"$dir/empty.conf"
systemd-socket-activate -l "$dir/cm.sock" \
	"$callmgrd" --config "$dir/empty.conf" --socket "$dir/unused.sock" \
	--log-target stderr --foreground 2>"$dir/log" &
pid=$!
# the listener exists before the daemon does
i=0
while [ ! -S "$dir/cm.sock" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "no listening socket"; exit 1; }
	sleep 0.05
done
out=$("$cmctl" -s "$dir/cm.sock" -j status) || { echo "cmctl failed"; cat "$dir/log"; exit 1; }
echo "$out"
python3 - "$out" <<'PY' || exit 1
import json, sys
s = json.loads(sys.argv[1])
assert s["mode"] == "local", s
assert s["sessions"] == 1, s        # cmctl itself
PY
grep -q "(inherited)" "$dir/log" || { echo "daemon did not use the passed socket:"; cat "$dir/log"; exit 1; }
[ ! -e "$dir/unused.sock" ] || { echo "daemon bound its own socket too"; exit 1; }
# a second client is served by the same daemon
"$cmctl" -s "$dir/cm.sock" vc list >/dev/null || exit 1
kill -TERM "$pid" || { echo "callmgrd is gone before SIGTERM"; exit 1; }
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] || { echo "callmgrd exited with $rc"; cat "$dir/log"; exit 1; }
echo ok
