/* SPDX-License-Identifier: MIT */
/*
 * The systemd glue against a fake service manager: a datagram socket as
 * NOTIFY_SOCKET, LISTEN_FDS/LISTEN_PID for socket activation, JOURNAL_STREAM.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sd.h"

static char sock_path[108];

/* A fake service manager's notification socket; returns its fd. */
static int fake_notify_socket(void)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(sock_path, sizeof(sock_path), "%s/sdtest-%d.sock", dir, (int)getpid());
	unlink(sock_path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", sock_path, 1);
	return fd;
}

/* The next datagram, or "" when none is waiting. */
static const char *next_msg(int fd)
{
	static char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0) {
		ck_assert_int_eq(errno, EAGAIN);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

START_TEST(ready_status_stopping)
{
	int fd = fake_notify_socket();
	sdg_ready("0 sessions, 0 VCs");
	ck_assert_str_eq(next_msg(fd), "READY=1\nSTATUS=0 sessions, 0 VCs");
	sdg_status("0 sessions, 0 VCs"); /* unchanged: not sent again */
	ck_assert_str_eq(next_msg(fd), "");
	sdg_status("1 sessions, 2 VCs");
	ck_assert_str_eq(next_msg(fd), "STATUS=1 sessions, 2 VCs");
	sdg_reloading();
	ck_assert_str_eq(next_msg(fd), "RELOADING=1");
	sdg_stopping();
	ck_assert_str_eq(next_msg(fd), "STOPPING=1");
	ck_assert_str_eq(next_msg(fd), "");
	close(fd);
	unlink(sock_path);
}
END_TEST

static int status_calls;
static void status_fn(void *ctx, char *buf, size_t len)
{
	status_calls++;
	snprintf(buf, len, "%s %d", (const char *)ctx, status_calls);
}

START_TEST(watchdog_at_half_the_interval)
{
	int fd = fake_notify_socket();
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	setenv("WATCHDOG_USEC", "100000", 1);
	ck_assert_uint_eq(sdg_watchdog_usec(), 100000);

	struct event_base *base = event_base_new();
	ck_assert_int_eq(sdg_start(base, status_fn, "calls"), 0);
	struct timeval run = { 0, 230000 };
	event_base_loopexit(base, &run);
	event_base_dispatch(base);
	sdg_stop();
	event_base_free(base);

	/* one at start, then every 50 ms: 4 more in 230 ms (allow a late one) */
	int watchdogs = 0, statuses = 0;
	const char *m;
	while (*(m = next_msg(fd))) {
		if (strcmp(m, "WATCHDOG=1") == 0)
			watchdogs++;
		else if (strncmp(m, "STATUS=calls ", 13) == 0)
			statuses++;
		else
			ck_abort_msg("unexpected notification \"%s\"", m);
	}
	ck_assert_int_ge(watchdogs, 4);
	ck_assert_int_le(watchdogs, 6);
	ck_assert_int_eq(statuses, status_calls);
	ck_assert_int_ge(statuses, 3);
	close(fd);
	unlink(sock_path);
}
END_TEST

START_TEST(watchdog_meant_for_another_process)
{
	setenv("WATCHDOG_PID", "1", 1);
	setenv("WATCHDOG_USEC", "100000", 1);
	ck_assert_uint_eq(sdg_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	ck_assert_uint_eq(sdg_watchdog_usec(), 0);
}
END_TEST

static void pass_fds(int n)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)getpid());
	setenv("LISTEN_PID", v, 1);
	snprintf(v, sizeof(v), "%d", n);
	setenv("LISTEN_FDS", v, 1);
}

START_TEST(socket_activation)
{
	char err[256];
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	ck_assert_int_eq(sdg_listen_fd(err, sizeof(err)), -1);

	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sdtest-listen-%d.sock",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	unlink(sa.sun_path);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s, 4), 0);
	ck_assert_int_eq(dup2(s, 3), 3);
	pass_fds(1);
	ck_assert_int_eq(sdg_listen_fd(err, sizeof(err)), 3);
	/* the variables are consumed: a second look finds nothing */
	ck_assert_int_eq(sdg_listen_fd(err, sizeof(err)), -1);

	pass_fds(2);
	ck_assert_int_eq(dup2(s, 4), 4);
	ck_assert_int_eq(sdg_listen_fd(err, sizeof(err)), -2);
	ck_assert_str_eq(err, "socket activation: 2 sockets passed, expected one");
	unlink(sa.sun_path);
	close(s);

	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_eq(dup2(d, 3), 3);
	pass_fds(1);
	ck_assert_int_eq(sdg_listen_fd(err, sizeof(err)), -2);
	ck_assert_str_eq(err, "socket activation: fd 3 is not a listening Unix stream socket");
	close(d);
}
END_TEST

START_TEST(journal_fields)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0xab, 0xcd, 0xef };
	struct log_ctx ctx = { 42, 7, mac, "cc/cc.c", 123, "pu5_t398" };
	struct sdg_fields f;
	int n = sdg_journal_fields(LOG_WARNING, &ctx, "T398 expired", &f);
	static const char *const want[] = {
		"PRIORITY=4", "SYSLOG_IDENTIFIER=callmgrd", "CODE_FILE=cc/cc.c",
		"CODE_LINE=123", "CODE_FUNC=pu5_t398", "CM_VC=42", "CM_PARTY=7",
		"CM_PEER=02:00:5e:ab:cd:ef", "MESSAGE=T398 expired",
	};
	ck_assert_int_eq(n, 9);
	for (int i = 0; i < n; i++) {
		char got[256];
		snprintf(got, sizeof(got), "%.*s", (int)f.iov[i].iov_len,
			 (const char *)f.iov[i].iov_base);
		ck_assert_str_eq(got, want[i]);
	}

	struct log_ctx plain = { 0, 0, NULL, "main.c", 1, "main" };
	n = sdg_journal_fields(LOG_ERR, &plain, "bye", &f);
	ck_assert_int_eq(n, 6);
	for (int i = 0; i < n; i++)
		ck_assert(strncmp(f.iov[i].iov_base, "CM_", 3) != 0);

	/* a message longer than the buffer is cut, never overrun */
	char big[4000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = sdg_journal_fields(LOG_ERR, &ctx, big, &f);
	ck_assert_int_eq(n, 9);
	ck_assert(strncmp(f.iov[8].iov_base, "MESSAGE=xxx", 11) == 0);
	ck_assert((char *)f.iov[8].iov_base + f.iov[8].iov_len <= f.buf + sizeof(f.buf));
}
END_TEST

static struct log_ctx sunk;
static void capture_sink(int level, const struct log_ctx *ctx, const char *msg)
{
	sunk = *ctx;
}

/* A leg to this node itself (all of local mode) is logged without a peer. */
START_TEST(own_address_is_no_peer)
{
	static const uint8_t local[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t other[6] = { 0x02, 0x00, 0x5e, 0xab, 0xcd, 0xef };
	log_set_sink(capture_sink);
	log_write(LOG_ERR, 1, 2, local, "f.c", 1, "f", "local leg");
	ck_assert_ptr_null(sunk.peer);
	ck_assert_int_eq(sunk.vc, 1);
	ck_assert_int_eq(sunk.party, 2);
	log_write(LOG_ERR, 1, 2, other, "f.c", 1, "f", "remote leg");
	ck_assert_ptr_eq(sunk.peer, other);
	log_set_own_address(other);
	log_write(LOG_ERR, 1, 2, other, "f.c", 1, "f", "own interface");
	ck_assert_ptr_null(sunk.peer);
	log_write(LOG_ERR, 1, 2, local, "f.c", 1, "f", "someone else now");
	ck_assert_ptr_eq(sunk.peer, local);
	log_set_sink(NULL);
}
END_TEST

START_TEST(journal_stream_detection)
{
	struct stat st;
	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	char v[64];
	unsetenv("JOURNAL_STREAM");
	ck_assert(!sdg_stderr_is_journal());
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	ck_assert(sdg_stderr_is_journal());
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	ck_assert(!sdg_stderr_is_journal());
	setenv("JOURNAL_STREAM", "garbage", 1);
	ck_assert(!sdg_stderr_is_journal());
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sd");
	TCase *t = tcase_create("sd");
	tcase_add_test(t, ready_status_stopping);
	tcase_add_test(t, watchdog_at_half_the_interval);
	tcase_add_test(t, watchdog_meant_for_another_process);
	tcase_add_test(t, socket_activation);
	tcase_add_test(t, journal_fields);
	tcase_add_test(t, journal_stream_detection);
	tcase_add_test(t, own_address_is_no_peer);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
