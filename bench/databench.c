/* SPDX-License-Identifier: MIT */
/*
 * The data path benchmark (bench/data.sh, docs/performance.md).
 *
 *   callmgr-bench-data floor-tx IFNAME DST_MAC OCTETS SECONDS
 *	raw AF_PACKET frames of OCTETS payload (<= 1500) to DST_MAC, batched
 *	with sendmmsg, as fast as the socket takes them; prints "sent N"
 *   callmgr-bench-data floor-rx IFNAME SECONDS
 *	counts the frames of the floor's EtherType that arrive; prints
 *	"frames N octets N seconds S" (from the first frame to the last)
 *   callmgr-bench-data leaf SOCKET SELECTOR
 *	accepts the call, reads its data descriptor to end of file; prints
 *	"sdus N octets N seconds S" (first SDU to last)
 *   callmgr-bench-data root SOCKET OCTETS SECONDS ADDR...
 *	calls the addresses, waits for the go on stdin, sends SDUs of OCTETS
 *	for SECONDS (blocking sends: the descriptor paces it), closes; prints
 *	"sent N"
 *
 * The floor has no logic: one frame per packet, no segmentation, no
 * lookups, so it is what the kernel and the veth alone cost.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "callmgr/client.h"

#define FLOOR_ETHERTYPE 0x88B7 /* not callmgr's: the daemons never see it */
#define BATCH 64

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int packet_socket(const char *ifname, struct sockaddr_ll *sll)
{
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(FLOOR_ETHERTYPE));
	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_protocol = htons(FLOOR_ETHERTYPE);
	sll->sll_ifindex = (int)if_nametoindex(ifname);
	if (bind(fd, (struct sockaddr *)sll, sizeof(*sll)) < 0) {
		perror("bind");
		exit(1);
	}
	return fd;
}

static int floor_tx(char **argv)
{
	struct sockaddr_ll to;
	int fd = packet_socket(argv[0], &to);
	unsigned m[6];
	if (sscanf(argv[1], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return 2;
	for (int i = 0; i < 6; i++)
		to.sll_addr[i] = (uint8_t)m[i];
	to.sll_halen = 6;
	size_t len = strtoul(argv[2], NULL, 0);
	double secs = atof(argv[3]);
	static uint8_t buf[1500];
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { buf, len };
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &to;
		msgs[i].msg_hdr.msg_namelen = sizeof(to);
	}
	unsigned long sent = 0;
	double end = now() + secs;
	while (now() < end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);
		if (n > 0)
			sent += (unsigned long)n;
	}
	printf("sent %lu\n", sent);
	return 0;
}

static int floor_rx(char **argv)
{
	struct sockaddr_ll sll;
	int fd = packet_socket(argv[0], &sll);
	double secs = atof(argv[1]);
	static uint8_t bufs[BATCH][1600];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned long frames = 0, octets = 0;
	double first = 0, last = 0, end = now() + secs;
	while (now() < end) {
		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		/* recvmmsg's own timeout is only looked at after a frame came */
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		if (!frames)
			first = now();
		last = now();
		for (int i = 0; i < n; i++)
			octets += msgs[i].msg_len;
		frames += (unsigned long)n;
	}
	printf("frames %lu octets %lu seconds %.3f\n", frames, octets, last - first);
	return 0;
}

static int data_fd = -1;
static cm_vc_id vc;
static int pending;

static void on_incoming(cm_client *c, cm_vc_id v, cm_party_id p, const char *caller,
			const struct cm_call_params *params)
{
	cm_accept_call(c, v, p);
}
static void on_connected(cm_client *c, cm_vc_id v, cm_party_id p)
{
	cm_data_fd(c, v, NULL);
}
static void on_fd(cm_client *c, int st, cm_vc_id v, int fd, void *ctx)
{
	data_fd = st == CM_OK ? fd : -2;
}
static void on_done(cm_client *c, int st, cm_vc_id v, cm_party_id p, void *ctx)
{
	vc = v;
	pending = st == CM_OK ? 0 : -1;
}
static void on_sap(cm_client *c, int st, uint8_t sel, void *ctx)
{
	pending = st == CM_OK ? 0 : -1;
}
static void on_close(cm_client *c, int st, cm_vc_id v, void *ctx)
{
	pending = 0;
}
static void on_incoming_close(cm_client *c, cm_vc_id v, int cause, const void *d, size_t len)
{
	cm_close_call(c, v, 0, NULL, 0, CM_CLOSE_FORCE, NULL);
}

static const struct cm_client_ops ops = {
	CM_CLIENT_OPS_INIT,
	.register_sap_complete = on_sap,
	.make_call_complete = on_done,
	.add_party_complete = on_done,
	.close_call_complete = on_close,
	.incoming_call = on_incoming,
	.incoming_close_call = on_incoming_close,
	.call_connected = on_connected,
	.data_fd_complete = on_fd,
};

static void wait_for(cm_client *c, int *flag, int until)
{
	while (*flag != until && *flag >= 0) {
		struct pollfd p = { .fd = cm_client_fd(c), .events = POLLIN };
		poll(&p, 1, 100);
		if (cm_client_dispatch(c) != CM_OK)
			exit(1);
	}
	if (*flag < 0) {
		fprintf(stderr, "bench: request failed\n");
		exit(1);
	}
}

static int leaf(char **argv)
{
	int err;
	cm_client *c = cm_client_open(argv[0], &ops, NULL, &err);
	if (!c)
		return 1;
	pending = 1;
	cm_register_sap(c, (uint8_t)atoi(argv[1]), NULL);
	wait_for(c, &pending, 0);
	printf("registered\n");
	fflush(stdout);
	while (data_fd == -1) {
		struct pollfd p = { .fd = cm_client_fd(c), .events = POLLIN };
		poll(&p, 1, 100);
		cm_client_dispatch(c);
	}
	printf("connected\n");
	fflush(stdout);
	static uint8_t b[65536];
	unsigned long sdus = 0, octets = 0;
	double first = 0, last = 0;
	for (;;) {
		ssize_t n = recv(data_fd, b, sizeof(b), 0);
		if (n <= 0)
			break;
		if (!sdus)
			first = now();
		last = now();
		sdus++;
		octets += (unsigned long)n;
	}
	printf("sdus %lu octets %lu seconds %.3f\n", sdus, octets, last - first);
	cm_client_close(c);
	return 0;
}

static int root(int argc, char **argv)
{
	int err;
	cm_client *c = cm_client_open(argv[0], &ops, NULL, &err);
	if (!c)
		return 1;
	size_t len = strtoul(argv[1], NULL, 0);
	double secs = atof(argv[2]);
	struct cm_call_params params = { CM_CALL_PARAMS_INIT, .max_sdu = 9180 };
	pending = 1;
	cm_make_call(c, &params, argv[3], NULL);
	wait_for(c, &pending, 0);
	for (int i = 4; i < argc; i++) {
		pending = 1;
		cm_add_party(c, vc, argv[i], NULL);
		wait_for(c, &pending, 0);
	}
	cm_data_fd(c, vc, NULL);
	while (data_fd == -1) {
		struct pollfd p = { .fd = cm_client_fd(c), .events = POLLIN };
		poll(&p, 1, 100);
		cm_client_dispatch(c);
	}
	printf("ready\n");
	fflush(stdout);
	char go[8];
	if (!fgets(go, sizeof(go), stdin))
		return 1;
	static uint8_t b[65536];
	unsigned long sent = 0;
	double end = now() + secs;
	while (now() < end) {
		for (int i = 0; i < 64; i++)
			if (send(data_fd, b, len, MSG_NOSIGNAL) == (ssize_t)len)
				sent++;
	}
	printf("sent %lu\n", sent);
	fflush(stdout);
	pending = 1;
	cm_close_call(c, vc, 0, NULL, 0, CM_CLOSE_FORCE, NULL);
	wait_for(c, &pending, 0);
	cm_client_close(c);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 6 && !strcmp(argv[1], "floor-tx"))
		return floor_tx(argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "floor-rx"))
		return floor_rx(argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "leaf"))
		return leaf(argv + 2);
	if (argc >= 6 && !strcmp(argv[1], "root"))
		return root(argc - 2, argv + 2);
	fprintf(stderr, "usage: see bench/databench.c\n");
	return 2;
}
