/* SPDX-License-Identifier: MIT */
/*
 * unitlike USER CMD [ARG...]: run CMD the way callmgrd.service starts
 * callmgrd, so that a test sees what the unit's daemon sees: as USER (the
 * unit's User=), with CAP_NET_RAW only and as an ambient capability
 * (AmbientCapabilities=CAP_NET_RAW), no new privileges (NoNewPrivileges=),
 * and a system call filter that answers capset() with EPERM (the unit's
 * SystemCallFilter=~@privileged with SystemCallErrorNumber=EPERM).  Must be
 * started as root; exits 77 where it cannot build that (not root, another
 * architecture).
 */
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

static int die(const char *what)
{
	fprintf(stderr, "unitlike: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
#ifndef NATIVE_ARCH
	fprintf(stderr, "unitlike: no seccomp filter for this architecture\n");
	return 77;
#else
	if (argc < 3) {
		fprintf(stderr, "usage: unitlike USER CMD [ARG...]\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "unitlike: must start as root\n");
		return 77;
	}
	const struct passwd *pw = getpwnam(argv[1]);
	if (!pw)
		return die(argv[1]);
	/* keep the permitted set across the uid change, then keep only CAP_NET_RAW */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return die("PR_SET_KEEPCAPS");
	if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		return die("changing user");
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = d[0].inheritable = 1u << CAP_NET_RAW;
	if (syscall(SYS_capset, &h, d) < 0)
		return die("capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) < 0)
		return die("PR_CAP_AMBIENT_RAISE");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return die("PR_SET_NO_NEW_PRIVS");
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_capset, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return die("PR_SET_SECCOMP");
	execvp(argv[2], argv + 2);
	return die(argv[2]);
#endif
}
