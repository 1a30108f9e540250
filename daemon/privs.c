/* SPDX-License-Identifier: MIT */
#include "privs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Set in the environment of the re-executed image: it must not re-exec again. */
#define PRIVS_REEXEC_ENV "CALLMGRD_REEXECUTED"

/* No libcap: the two raw system calls are all it takes. */
static int cap_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	/* valgrind marks only the first of the two structs as written */
	memset(data, 0, 2 * sizeof(*data));
	return (int)syscall(SYS_capget, &h, data);
}

static bool ambient_held(void)
{
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1)
			return true;
	return false;
}

bool privs_held(void)
{
	struct __user_cap_data_struct d[2];
	if (cap_get(d) < 0)
		return true; /* cannot tell: assume the worst */
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted)
			return true;
	return ambient_held();
}

int privs_drop(void)
{
	/* ambient first: capset cannot leave ambient bits without permitted ones anyway */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct none[2];
	memset(none, 0, sizeof(none));
	if (syscall(SYS_capset, &h, none) < 0)
		return -errno;
	return privs_held() ? -EPERM : 0;
}

/* Keep fd open across execv and name it in var; 0 or -errno (err says why). */
static int pass_fd(int fd, const char *var, const char *what, char *err, size_t errlen)
{
	if (fd < 0)
		return 0;
	char num[16];
	snprintf(num, sizeof(num), "%d", fd);
	if (setenv(var, num, 1) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", what, strerror(e));
		return -e;
	}
	return 0;
}

int privs_reexec(char **argv, int link_fd, int data_fd, char *err, size_t errlen)
{
	if (getenv(PRIVS_REEXEC_ENV)) {
		snprintf(err, errlen, "capabilities survived executing callmgrd again");
		return -ELOOP;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		int e = errno;
		snprintf(err, errlen, "clearing the ambient capabilities: %s", strerror(e));
		return -e;
	}
	if (setenv(PRIVS_REEXEC_ENV, "1", 1) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = pass_fd(link_fd, PRIVS_LINK_FD_ENV, "link socket", err, errlen);
	if (rc == 0)
		rc = pass_fd(data_fd, PRIVS_DATA_FD_ENV, "data socket", err, errlen);
	if (rc < 0)
		return rc;
	/*
	 * The program's own path, so that the kernel names the new image
	 * "callmgrd" from its first instruction.  Executed as /proc/self/exe
	 * it is "exe" until privs_after_reexec() renames it, and journald,
	 * which caches a process's name for a while, may read it in that
	 * window (late, on a loaded machine, for a line sent before the exec)
	 * and record the next lines as _COMM=exe.  /proc/self/exe remains for
	 * a binary replaced on disk since (an upgrade): the running image.
	 */
	char path[4096];
	const char *image = "/proc/self/exe";
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n > 0) {
		path[n] = '\0';
		static const char gone[] = " (deleted)";
		size_t glen = sizeof(gone) - 1;
		if (path[0] == '/' && !((size_t)n >= glen && strcmp(path + n - glen, gone) == 0))
			image = path;
	}
	execv(image, argv);
	int e = errno;
	snprintf(err, errlen, "executing %s: %s", image, strerror(e));
	return -e;
}

void privs_after_reexec(const char *argv0)
{
	if (!getenv(PRIVS_REEXEC_ENV))
		return;
	/*
	 * The kernel named this image after the file executed: "exe" when
	 * that was /proc/self/exe (see privs_reexec()); journald records the
	 * name as _COMM and pgrep, ps and "journalctl _COMM=callmgrd" look for
	 * the program's own name.
	 */
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;
	base = base ? base + 1 : argv0;
	(void)prctl(PR_SET_NAME, base && *base ? base : "callmgrd", 0, 0, 0);
}

int privs_inherited_fd(const char *var, char *err, size_t errlen)
{
	const char *env = getenv(var);
	if (!env)
		return -1;
	char v[32];
	snprintf(v, sizeof(v), "%s", env);
	unsetenv(var); /* env is gone with it */
	char *end;
	errno = 0;
	long fd = strtol(v, &end, 10);
	if (errno || *end || end == v || fd < 0 || fd > 1 << 20 ||
	    fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s=%s is no open descriptor", var, v);
		return -2;
	}
	return (int)fd;
}
