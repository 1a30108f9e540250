/* SPDX-License-Identifier: MIT */
/*
 * monflood: idle monitor subscribers against another client's call rate
 * (issue 13: 1,000 subscribers that never read took a client from 5,754
 * calls a second to 70).
 *
 *   monflood SOCKET MONITORS SECONDS
 *
 * Opens MONITORS sessions that send a Hello and Subscribe(enable) and
 * never read again, then, as an ordinary libcallmgr client, keeps 64
 * MakeCalls in flight to this node's own address on a selector nobody
 * registered (each is refused by call control through a local leg, a
 * full round trip with its monitor events) for SECONDS, and prints
 *   monitors N accepted M rate R/s worst_ms W
 * (accepted: subscriptions the daemon took; the rest were refused or cut).
 * Exits 1 when the daemon is lost.
 */
#include <callmgr/client.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "callmgr.pb-c.h"
#include "cm_hello_pb.h"

#define DEPTH 64
#define SELECTOR 201 /* registered by nobody */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int put_frame(int fd, const Callmgr__ClientMsg *m)
{
	uint8_t buf[512];
	size_t n = callmgr__client_msg__get_packed_size(m);
	if (n + 4 > sizeof(buf))
		return -1;
	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	callmgr__client_msg__pack(m, buf + 4);
	return write(fd, buf, n + 4) == (ssize_t)(n + 4) ? 0 : -1;
}

/* One whole frame, decoded; NULL on EOF, error or 2 s of silence. */
static Callmgr__DaemonMsg *get_frame(int fd)
{
	uint8_t hdr[4], *buf;
	size_t got = 0, n;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	while (got < 4) {
		if (poll(&pfd, 1, 2000) <= 0)
			return NULL;
		ssize_t r = read(fd, hdr + got, 4 - got);
		if (r <= 0)
			return NULL;
		got += (size_t)r;
	}
	n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (n > 65536 || !(buf = malloc(n ? n : 1)))
		return NULL;
	for (got = 0; got < n;) {
		ssize_t r = poll(&pfd, 1, 2000) > 0 ? read(fd, buf + got, n - got) : -1;
		if (r <= 0) {
			free(buf);
			return NULL;
		}
		got += (size_t)r;
	}
	Callmgr__DaemonMsg *m = callmgr__daemon_msg__unpack(NULL, n, buf);
	free(buf);
	return m;
}

/*
 * A subscriber that never reads after its subscription was answered: its
 * socket fills, then the daemon's queue for it.  *ok: the daemon took the
 * subscription (a Completion, not an Error).
 */
static int idle_monitor(const char *path, int *ok)
{
	*ok = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* a small receive buffer so the daemon's queue, not the kernel's, holds the events */
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	Callmgr__ClientMsg m;
	Callmgr__Hello h;
	cmc_hello_msg(&m, &h, "monflood");
	Callmgr__ClientMsg s = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__Subscribe sub = CALLMGR__SUBSCRIBE__INIT;
	sub.enable = true;
	s.req_id = 1;
	s.body_case = CALLMGR__CLIENT_MSG__BODY_SUBSCRIBE;
	s.subscribe = &sub;
	if (put_frame(fd, &m) < 0 || put_frame(fd, &s) < 0) {
		close(fd);
		return -1;
	}
	Callmgr__DaemonMsg *r = get_frame(fd);
	if (r && r->body_case == CALLMGR__DAEMON_MSG__BODY_HELLO_REPLY) {
		callmgr__daemon_msg__free_unpacked(r, NULL);
		/* monitor events may come first: up to the answer to req 1 */
		for (int i = 0; i < 1000 && (r = get_frame(fd)) && r->req_id != 1; i++)
			callmgr__daemon_msg__free_unpacked(r, NULL);
		if (r)
			*ok = r->body_case == CALLMGR__DAEMON_MSG__BODY_COMPLETION;
	}
	if (r)
		callmgr__daemon_msg__free_unpacked(r, NULL);
	return fd;
}

static unsigned long done_calls, in_flight;
static char target[CM_ADDR_HEX_LEN + 1];
static double last_done, worst;

static void issue(cm_client *c)
{
	while (in_flight < DEPTH) {
		if (cm_make_call(c, NULL, target, NULL) < 0)
			return;
		in_flight++;
	}
}

static void on_made(cm_client *c, int status, cm_vc_id vc, cm_party_id p, void *ctx)
{
	double t = now_s();
	if (last_done > 0 && t - last_done > worst)
		worst = t - last_done;
	last_done = t;
	in_flight--;
	done_calls++;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: monflood SOCKET MONITORS SECONDS\n");
		return 2;
	}
	const char *path = argv[1];
	int n = atoi(argv[2]);
	double secs = atof(argv[3]);
	int *fds = calloc((size_t)(n > 0 ? n : 1), sizeof(int));
	int opened = 0, accepted = 0;
	for (int i = 0; i < n; i++) {
		int ok;
		if ((fds[i] = idle_monitor(path, &ok)) >= 0)
			opened++;
		accepted += ok;
	}
	static const struct cm_client_ops ops = { CM_CLIENT_OPS_INIT,
						  .make_call_complete = on_made };
	int err = 0;
	cm_client *c = cm_client_open(path, &ops, NULL, &err);
	if (!c) {
		fprintf(stderr, "monflood: open: %s\n", cm_strerror(err));
		return 1;
	}
	cm_client_address(c, SELECTOR, target, sizeof(target));
	double t0 = now_s(), end = t0 + secs;
	issue(c);
	while (now_s() < end) {
		struct pollfd pfd = { .fd = cm_client_fd(c), .events = POLLIN };
		poll(&pfd, 1, 100);
		if (cm_client_dispatch(c) == CM_E_DISCONNECTED) {
			fprintf(stderr, "monflood: the daemon went away\n");
			return 1;
		}
		issue(c);
	}
	double took = now_s() - t0;
	printf("monitors %d accepted %d rate %.0f/s worst_ms %.0f\n", opened, accepted,
	       (double)done_calls / took, worst * 1000);
	cm_client_close(c);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}
