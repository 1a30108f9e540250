# shellcheck shell=bash
# Shared by run.sh and network.sh, which set cpid.
# shellcheck disable=SC2154
# cx COMMAND...: run COMMAND in the container whose PID 1 is $cpid
cx() { nsenter -t "$cpid" -m -u -i -n -p -C -- env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds; 1 if it never did
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}
