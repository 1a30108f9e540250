# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers of the 'hostile' tests, on top of tests/netns/lib.sh and
# tests/faults/lib.sh (sourced here, $SRC and $BUILD set by the caller):
# CPU time and log volume of a daemon, so a test can assert that an attack
# costs bounded work.  Skips (77) like the faults tests.
. "$SRC/tests/netns/lib.sh"
. "$SRC/tests/faults/lib.sh"
faults_require

# cpu_ticks NODE : the daemon's utime + stime so far, in clock ticks
cpu_ticks() {
	# fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends
	# the command name (which could hold spaces)
	sed 's/.*) //' "/proc/${NODE_PID[$1]}/stat" | awk '{ print $12 + $13 }'
}

# cpu_over NODE SECONDS : ticks the daemon used over the next SECONDS
cpu_over() {
	local t0
	t0=$(cpu_ticks "$1")
	sleep "$2"
	echo $(($(cpu_ticks "$1") - t0))
}

# log_lines NODE : lines in the daemon's log so far
log_lines() {
	wc -l <"$NETNS_TMP/$1.log"
}

# count_in_log NODE ERE : matching lines in the daemon's log so far
count_in_log() {
	grep -c -E "$2" "$NETNS_TMP/$1.log"
}

HZ=$(getconf CLK_TCK)
