/* SPDX-License-Identifier: MIT */
/*
 * Reaching the daemon's socket, one way for libcallmgr and cmctl: which
 * path, a bounded connect, and what a failed connect means to a user.
 */
#ifndef CALLMGR_COMMON_CONNECT_H
#define CALLMGR_COMMON_CONNECT_H

/* given if set and not empty, else $CALLMGR_SOCKET if so, else CM_DEFAULT_SOCKET. */
const char *cmc_socket_path(const char *given);

/*
 * A blocking SOCK_STREAM, close-on-exec connection to the Unix socket at
 * path.  A listener whose backlog is full makes connect() wait; that wait
 * is bounded by timeout_ms (SO_SNDTIMEO, which AF_UNIX connect honours).
 * Returns the descriptor, or -1 with errno set (ENAMETOOLONG for a path
 * that does not fit sun_path).
 */
int cmc_unix_connect(const char *path, int timeout_ms);

/*
 * The CM_E_* code for a connect errno: CM_E_NO_DAEMON for no socket file or
 * nothing listening on it (ENOENT, ECONNREFUSED), CM_E_ACCESS for no
 * permission (EACCES, EPERM), CM_E_TIMEOUT for a listen queue that stayed
 * full (EAGAIN), CM_E_NOMEM, CM_E_INVAL for ENAMETOOLONG, and
 * CM_E_DISCONNECTED for the rest.
 */
int cmc_connect_status(int err);

#endif
