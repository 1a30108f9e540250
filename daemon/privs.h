/* SPDX-License-Identifier: MIT */
/*
 * Least privilege: callmgrd needs CAP_NET_RAW for two system calls, the
 * socket() of its AF_PACKET link and of its data path (the sockets stay
 * usable without it), and no capability after that.  So both sockets are
 * opened first and every capability is then given up for good, before the daemon reads a byte
 * from a client or a peer: the Q.2931, SSCOP and protobuf parsers never
 * run privileged.
 *
 * Dropping is capset() to nothing.  Under callmgrd.service, whose system
 * call filter refuses capset (SystemCallFilter=~@privileged, exposure
 * 1.2), the daemon clears its ambient set and executes itself again with
 * the link socket inherited: an unprivileged user's execve() keeps only
 * ambient capabilities, so the new image starts with none.
 */
#ifndef CALLMGR_DAEMON_PRIVS_H
#define CALLMGR_DAEMON_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

/* The environment variables carrying the sockets across the re-exec. */
#define PRIVS_LINK_FD_ENV "CALLMGRD_LINK_FD"
#define PRIVS_DATA_FD_ENV "CALLMGRD_DATA_FD"

/* Whether this thread holds any capability (effective, permitted or ambient). */
bool privs_held(void);

/*
 * Give up every capability for good.  0; -EPERM when capset() is refused
 * (a seccomp filter: privs_reexec() then does it); another -errno on
 * failure.
 */
int privs_drop(void);

/*
 * Execute this program again with argv, without ambient capabilities and
 * with link_fd and data_fd (each may be -1) inherited and named in
 * PRIVS_LINK_FD_ENV and PRIVS_DATA_FD_ENV.  Returns
 * only on failure, with -errno (err describes it).  Refused (-ELOOP) when
 * this image is already the result of one, so that capabilities that
 * survive it cannot make the daemon loop.
 */
int privs_reexec(char **argv, int link_fd, int data_fd, char *err, size_t errlen);

/*
 * In the image a re-exec started (nothing otherwise): take back the
 * process name, basename of argv0, that executing /proc/self/exe replaced
 * with "exe".  Call it before the first log line.
 */
void privs_after_reexec(const char *argv0);

/*
 * The socket a re-exec handed over in the environment variable var
 * (PRIVS_LINK_FD_ENV or PRIVS_DATA_FD_ENV): its descriptor (close-on-exec
 * set again, the variable removed), -1 when there is none, -2 when the
 * variable is malformed (err says why).
 */
int privs_inherited_fd(const char *var, char *err, size_t errlen);

#endif
