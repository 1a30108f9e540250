/* SPDX-License-Identifier: MIT */
/*
 * callmgrd under a fake service manager: a datagram socket as NOTIFY_SOCKET
 * receives READY=1, WATCHDOG=1, RELOADING=1/READY=1 around SIGHUP, and
 * STOPPING=1 on SIGTERM, from the real daemon in local mode.
 * usage: test_notify (CALLMGRD names the daemon)
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../ck_run.h"

static char dir[32], notify_path[96], sock_path[96], conf_path[96];
static int notify_fd = -1, err_fd = -1;
static pid_t daemon_pid;
static char err_text[65536];
static size_t err_len;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void write_conf(const char *text)
{
	FILE *f = fopen(conf_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void start_daemon(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cmnotify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(notify_path, sizeof(notify_path), "%s/notify", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/callmgr.sock", dir);
	snprintf(conf_path, sizeof(conf_path), "%s/callmgrd.conf", dir);
	write_conf("[timers]\nt303 = 4000\n");

	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", notify_path);
	ck_assert_int_eq(bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);

	int pipefd[2];
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	const char *exe = getenv("CALLMGRD");
	ck_assert_msg(exe != NULL, "CALLMGRD is not set");
	daemon_pid = fork();
	ck_assert_int_ge(daemon_pid, 0);
	if (daemon_pid == 0) {
		char pid[32];
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("NOTIFY_SOCKET", notify_path, 1);
		setenv("WATCHDOG_PID", pid, 1);
		setenv("WATCHDOG_USEC", "200000", 1);
		dup2(pipefd[1], STDERR_FILENO);
		execl(exe, exe, "--socket", sock_path, "--config", conf_path, "--log-target",
		      "stderr", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	err_fd = pipefd[0];
	fcntl(err_fd, F_SETFL, O_NONBLOCK);
}

static void read_stderr(void)
{
	for (;;) {
		ssize_t n = read(err_fd, err_text + err_len, sizeof(err_text) - 1 - err_len);
		if (n <= 0)
			break;
		err_len += (size_t)n;
	}
	err_text[err_len] = '\0';
}

/* The next notification within timeout_ms, or "" (stderr is collected meanwhile). */
static const char *next_notification(int timeout_ms)
{
	static char buf[1024];
	long end = now_ms() + timeout_ms;
	for (;;) {
		long left = end - now_ms();
		if (left < 0)
			left = 0;
		struct pollfd p[2] = { { notify_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
		int r = poll(p, 2, (int)left);
		if (p[1].revents)
			read_stderr();
		if (r > 0 && (p[0].revents & POLLIN)) {
			ssize_t n = recv(notify_fd, buf, sizeof(buf) - 1, 0);
			ck_assert_int_gt(n, 0);
			buf[n] = '\0';
			return buf;
		}
		if (left == 0)
			return "";
	}
}

/* Skip watchdog keep-alives and status refreshes; the next other notification. */
static const char *next_state(int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	for (;;) {
		long left = end - now_ms();
		const char *m = next_notification(left > 0 ? (int)left : 0);
		if (!*m || (strcmp(m, "WATCHDOG=1") != 0 && strncmp(m, "STATUS=", 7) != 0))
			return m;
	}
}

static bool stderr_has(const char *text, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	do {
		read_stderr();
		if (strstr(err_text, text))
			return true;
		usleep(20000);
	} while (now_ms() < end);
	return false;
}

START_TEST(ready_watchdog_reload_stopping)
{
	start_daemon();
	const char *m = next_state(5000);
	ck_assert_msg(strncmp(m, "READY=1\nSTATUS=", 15) == 0, "first notification: \"%s\"", m);
	ck_assert_msg(strstr(m, "0 sessions, 0 VCs, 0 parties"), "status: \"%s\"", m);

	/* ready means ready: a client can connect now */
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(c);

	/* WatchdogUsec 200 ms: a keep-alive every 100 ms */
	int watchdogs = 0;
	long end = now_ms() + 450;
	while (now_ms() < end) {
		m = next_notification((int)(end - now_ms()));
		watchdogs += strcmp(m, "WATCHDOG=1") == 0;
	}
	ck_assert_int_ge(watchdogs, 3);

	/* SIGHUP with a changed file: RELOADING=1, then READY=1, and a log line */
	write_conf("[daemon]\nlog_level = info\n[timers]\nt303 = 5000\n");
	kill(daemon_pid, SIGHUP);
	ck_assert_str_eq(next_state(3000), "RELOADING=1");
	m = next_state(3000);
	ck_assert_msg(strncmp(m, "READY=1", 7) == 0, "after reload: \"%s\"", m);
	ck_assert_msg(stderr_has("reloaded ", 2000) &&
			      stderr_has("log_level notice->info, t303 4000->5000 ms", 10),
		      "no reload line in: %s", err_text);

	/* a bad file is refused and the daemon goes on */
	write_conf("[timers]\nt303 = abc\n");
	kill(daemon_pid, SIGHUP);
	ck_assert_str_eq(next_state(3000), "RELOADING=1");
	ck_assert(strncmp(next_state(3000), "READY=1", 7) == 0);
	ck_assert_msg(stderr_has(":2: [timers] t303: \"abc\" is not a number of milliseconds; "
				 "keeping the running configuration",
				 2000),
		      "no refusal in: %s", err_text);

	kill(daemon_pid, SIGTERM);
	ck_assert_str_eq(next_state(5000), "STOPPING=1");
	int status;
	ck_assert_int_eq(waitpid(daemon_pid, &status, 0), daemon_pid);
	read_stderr();
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d: %s",
		      status, err_text);
	unlink(notify_path);
	unlink(conf_path);
	unlink(sock_path);
	rmdir(dir);
}
END_TEST

START_TEST(bad_config_stops_start_up)
{
	snprintf(dir, sizeof(dir), "/tmp/cmnotify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf_path, sizeof(conf_path), "%s/callmgrd.conf", dir);
	write_conf("[daemon]\nlog_level = loud\n");
	char cmd[512];
	size_t n;
	snprintf(cmd, sizeof(cmd), "%s --config %s --socket %s/s 2>&1", getenv("CALLMGRD"),
		 conf_path, dir);
	FILE *p = popen(cmd, "r");
	char out[512] = "";
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int status = pclose(p);
	char want[256];
	snprintf(want, sizeof(want),
		 "callmgrd: %s:2: [daemon] log_level: \"loud\" is not a log level (err, "
		 "warning, notice, info, debug)\n",
		 conf_path);
	ck_assert_str_eq(out, want);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);

	/* --check-config says the same, and "ok" once the file is fixed */
	snprintf(cmd, sizeof(cmd), "%s --check-config --config %s 2>&1", getenv("CALLMGRD"),
		 conf_path);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	ck_assert_str_eq(out, want);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	write_conf("[daemon]\nlog_level = info\n");
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	ck_assert_msg(strncmp(out, "callmgrd: configuration ok", 26) == 0, "%s", out);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(conf_path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	CK_RUN_CASES("notify", CK_FORK_GETENV,
		CK_CASE("notify", NULL, NULL, 30, CK_TEST(ready_watchdog_reload_stopping),
			CK_TEST(bad_config_stops_start_up)));
}
