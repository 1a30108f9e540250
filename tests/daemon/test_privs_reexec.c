/* SPDX-License-Identifier: MIT */
/*
 * privs_reexec() (the unit's way of giving up capabilities) hands the
 * sockets to a new image of the same program, and that image must carry
 * the program's name from its first instruction: journald caches a
 * process's name, and one read while the image was still "exe" (executed
 * as /proc/self/exe) labelled the daemon's next lines _COMM=exe.
 *   test_privs_reexec          re-executes itself through privs_reexec()
 *   (re-executed)              checks its name and the two descriptors
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privs.h"

static int check_new_image(const char *argv0)
{
	/* first: the name as the kernel set it at the exec */
	char comm[64] = "";
	FILE *f = fopen("/proc/self/comm", "r");
	if (!f || !fgets(comm, sizeof(comm), f)) {
		fprintf(stderr, "cannot read /proc/self/comm\n");
		return 1;
	}
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	char want[16]; /* TASK_COMM_LEN: the kernel keeps 15 characters */
	snprintf(want, sizeof(want), "%s", base);
	if (strcmp(comm, want) != 0) {
		fprintf(stderr, "the re-executed image is named '%s', not '%s'\n", comm, want);
		return 1;
	}
	char err[256];
	int link_fd = privs_inherited_fd(PRIVS_LINK_FD_ENV, err, sizeof(err));
	int data_fd = privs_inherited_fd(PRIVS_DATA_FD_ENV, err, sizeof(err));
	if (link_fd < 0 || data_fd < 0 || fcntl(link_fd, F_GETFD) < 0 || fcntl(data_fd, F_GETFD) < 0) {
		fprintf(stderr, "the descriptors did not cross the exec (%d, %d)\n", link_fd, data_fd);
		return 1;
	}
	printf("re-executed as '%s' with descriptors %d and %d\n", comm, link_fd, data_fd);
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	if (getenv("CALLMGRD_REEXECUTED"))
		return check_new_image(argv[0]);
	int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int b = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (a < 0 || b < 0) {
		perror("/dev/null");
		return 1;
	}
	char err[256];
	int rc = privs_reexec(argv, a, b, err, sizeof(err));
	fprintf(stderr, "privs_reexec: %d: %s\n", rc, err);
	return 1;
}
