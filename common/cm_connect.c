/* SPDX-License-Identifier: MIT */
#include "cm_connect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cm_proto_const.h"

const char *cmc_socket_path(const char *given)
{
	if (given && *given)
		return given;
	const char *env = getenv("CALLMGR_SOCKET");
	return env && *env ? env : CM_DEFAULT_SOCKET;
}

int cmc_unix_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		goto fail;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINTR)
			goto fail;
	}
	return fd;
fail:;
	int err = errno;
	close(fd);
	errno = err;
	return -1;
}

int cmc_connect_status(int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		return CM_E_NO_DAEMON;
	case EACCES:
	case EPERM:
		return CM_E_ACCESS;
	case ENOMEM:
	case ENOBUFS:
		return CM_E_NOMEM;
	case ENAMETOOLONG:
		return CM_E_INVAL;
	case EAGAIN: /* the listen queue stayed full for the whole timeout */
	case ETIMEDOUT:
		return CM_E_TIMEOUT;
	default:
		return CM_E_DISCONNECTED;
	}
}
