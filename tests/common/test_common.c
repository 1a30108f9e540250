/* SPDX-License-Identifier: MIT */
/*
 * The internal common library: hex and AESA text, framing, the hello
 * version choice, the socket path and what a failed connect means.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cm_connect.h"
#include "cm_frame.h"
#include "cm_hex.h"
#include "../ck_run.h"

static const uint8_t aesa_a[CMC_AESA_LEN] = {
	0x47, 0x00, 0x05, 0x80, 0xff, 0xe1, 0x00, 0x00, 0x00, 0xf2,
	0x1a, 0x2b, 0x3c, 0x02, 0x00, 0xb3, 0xa1, 0xc2, 0xd3, 0x2a,
};

START_TEST(hexval_digits)
{
	ck_assert_int_eq(cmc_hexval('0'), 0);
	ck_assert_int_eq(cmc_hexval('9'), 9);
	ck_assert_int_eq(cmc_hexval('a'), 10);
	ck_assert_int_eq(cmc_hexval('F'), 15);
	ck_assert_int_eq(cmc_hexval('g'), -1);
	ck_assert_int_eq(cmc_hexval('.'), -1);
	ck_assert_int_eq(cmc_hexval('\0'), -1);
}
END_TEST

START_TEST(aesa_parse_and_format)
{
	uint8_t a[CMC_AESA_LEN];
	char text[2 * CMC_AESA_LEN + 1];

	ck_assert_int_eq(cmc_aesa_parse("47.0005.80ffe1000000f21a2b3c.0200b3a1c2d3.2a", a), 0);
	ck_assert_mem_eq(a, aesa_a, CMC_AESA_LEN);
	cmc_hex_format(a, CMC_AESA_LEN, text);
	ck_assert_str_eq(text, "47000580ffe1000000f21a2b3c0200b3a1c2d32a");
	ck_assert_int_eq(cmc_aesa_parse(text, a), 0);
	ck_assert_mem_eq(a, aesa_a, CMC_AESA_LEN);
	ck_assert_int_eq(cmc_aesa_parse("47000580FFE1000000F21A2B3C0200B3A1C2D32A", a), 0);
	ck_assert_mem_eq(a, aesa_a, CMC_AESA_LEN);

	memset(a, 0x11, sizeof(a));
	static const char *bad[] = {
		"",
		"47000580ffe1000000f21a2b3c0200b3a1c2d3",     /* 38 digits */
		"47000580ffe1000000f21a2b3c0200b3a1c2d32a0",  /* 41 */
		"47000580ffe1000000f21a2b3c0200b3a1c2d32a00", /* 42 */
		".47000580ffe1000000f21a2b3c0200b3a1c2d32a",
		"47000580ffe1000000f21a2b3c0200b3a1c2d32a.",
		"47..000580ffe1000000f21a2b3c0200b3a1c2d32a",
		"47000580ffe1000000f21a2b3c0200b3a1c2d32g",
		"47000580ffe1000000f21a2b3c0200b3a1c2d3 2a",
		"0x47000580ffe1000000f21a2b3c0200b3a1c2d3",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cmc_aesa_parse(bad[i], a) == -1, "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(cmc_aesa_parse(NULL, a), -1);
	for (size_t i = 0; i < sizeof(a); i++)
		ck_assert_uint_eq(a[i], 0x11); /* untouched on failure */
}
END_TEST

START_TEST(prefix_length_is_the_callers)
{
	static const uint8_t want[CMC_PREFIX_LEN] = CMC_DEFAULT_PREFIX;
	uint8_t p[CMC_PREFIX_LEN];
	ck_assert_int_eq(cmc_hex_parse_dotted("39.0000.0f00.0000.0000.0000.0000", p, sizeof(p)), 0);
	ck_assert_mem_eq(p, want, sizeof(p));
	/* 40 digits are an AESA, not a prefix */
	ck_assert_int_eq(cmc_hex_parse_dotted("47000580ffe1000000f21a2b3c0200b3a1c2d32a", p,
					      sizeof(p)), -1);
	ck_assert_int_eq(cmc_hex_parse_dotted("00", p, 0), -1);
}
END_TEST

START_TEST(frame_header_round_trip)
{
	uint8_t h[CMC_FRAME_HDR];
	cmc_frame_put_len(h, 0x01020304u);
	ck_assert_uint_eq(h[0], 1);
	ck_assert_uint_eq(h[3], 4);
	ck_assert_uint_eq(cmc_frame_get_len(h), 0x01020304u);
	cmc_frame_put_len(h, CMC_MAX_FRAME);
	ck_assert_uint_eq(cmc_frame_get_len(h), CMC_MAX_FRAME);
}
END_TEST

START_TEST(frame_next_splits)
{
	uint8_t s[CMC_FRAME_HDR + 3];
	size_t len = 99;
	cmc_frame_put_len(s, 3);
	ck_assert_int_eq(cmc_frame_next(s, 2, 2, &len), CMC_FRAME_PARTIAL);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(cmc_frame_next(s, CMC_FRAME_HDR, CMC_FRAME_HDR + 2, &len),
			 CMC_FRAME_PARTIAL);
	ck_assert_int_eq(cmc_frame_next(s, CMC_FRAME_HDR, sizeof(s), &len), CMC_FRAME_WHOLE);
	ck_assert_uint_eq(len, 3);
	cmc_frame_put_len(s, CMC_MAX_FRAME + 1);
	/* refused from the header alone, before the payload could arrive */
	ck_assert_int_eq(cmc_frame_next(s, CMC_FRAME_HDR, CMC_FRAME_HDR, &len), CMC_FRAME_TOO_BIG);
	ck_assert_uint_eq(len, CMC_MAX_FRAME + 1);
}
END_TEST

START_TEST(hello_version_choice)
{
	ck_assert_uint_eq(cmc_hello_pick_version(1, 1), 1);
	ck_assert_uint_eq(cmc_hello_pick_version(1, 7), CMC_PROTO_VERSION);
	ck_assert_uint_eq(cmc_hello_pick_version(CMC_PROTO_VERSION + 1, CMC_PROTO_VERSION + 2), 0);
	ck_assert_uint_eq(cmc_hello_pick_version(0, 0), 0);
	ck_assert_uint_eq(cmc_hello_pick_version(2, 1), 0);
}
END_TEST

START_TEST(socket_path_choice)
{
	unsetenv("CALLMGR_SOCKET");
	ck_assert_str_eq(cmc_socket_path(NULL), CM_DEFAULT_SOCKET);
	ck_assert_str_eq(cmc_socket_path(""), CM_DEFAULT_SOCKET);
	setenv("CALLMGR_SOCKET", "/tmp/x.sock", 1);
	ck_assert_str_eq(cmc_socket_path(NULL), "/tmp/x.sock");
	ck_assert_str_eq(cmc_socket_path("/a"), "/a");
	unsetenv("CALLMGR_SOCKET");
}
END_TEST

START_TEST(connect_failures_are_told_apart)
{
	char dir[] = "/tmp/cmc-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[sizeof(dir) + 16];
	snprintf(path, sizeof(path), "%s/s", dir);

	/* no socket file */
	ck_assert_int_eq(cmc_unix_connect(path, 1000), -1);
	ck_assert_int_eq(cmc_connect_status(errno), CM_E_NO_DAEMON);

	/* a stale socket file: bound once, nobody listening any more */
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(l);
	ck_assert_int_eq(cmc_unix_connect(path, 1000), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_int_eq(cmc_connect_status(errno), CM_E_NO_DAEMON);
	unlink(path);

	/* a listener: connects, until its queue is full and nobody accepts */
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(l, 0), 0);
	int fds[4], n = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n < 4 && (fds[n] = cmc_unix_connect(path, 200)) >= 0)
		n++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_ge(n, 1);
	ck_assert_int_lt(n, 4);
	ck_assert_int_eq(cmc_connect_status(errno), CM_E_TIMEOUT);
	/* bounded: the one refused connect waited about 200 ms, not for ever */
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 150);
	ck_assert_int_lt(ms, 5000);
	while (n > 0)
		close(fds[--n]);
	close(l);
	unlink(path);
	rmdir(dir);

	char longpath[200];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(cmc_unix_connect(longpath, 1000), -1);
	ck_assert_int_eq(cmc_connect_status(errno), CM_E_INVAL);

	ck_assert_int_eq(cmc_connect_status(EACCES), CM_E_ACCESS);
	ck_assert_int_eq(cmc_connect_status(EPERM), CM_E_ACCESS);
	ck_assert_int_eq(cmc_connect_status(ENOENT), CM_E_NO_DAEMON);
	ck_assert_int_eq(cmc_connect_status(EIO), CM_E_DISCONNECTED);
}
END_TEST

int main(void)
{
	CK_RUN_CASES("common", CK_FORK_GETENV,
		CK_CASE("core", NULL, NULL, 0, CK_TEST(hexval_digits),
			CK_TEST(aesa_parse_and_format), CK_TEST(prefix_length_is_the_callers),
			CK_TEST(frame_header_round_trip), CK_TEST(frame_next_splits),
			CK_TEST(hello_version_choice), CK_TEST(socket_path_choice),
			CK_TEST(connect_failures_are_told_apart)));
}
