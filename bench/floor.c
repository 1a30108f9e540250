/* SPDX-License-Identifier: MIT */
/*
 * The floor: the socket round trips of one DropParty with no logic in
 * between, so callmgr's cost can be stated relative to what the kernel
 * alone costs on this machine in this run.
 *
 *   callmgr-bench-floor peer IFNAME
 *	echoes every EtherType 0x88B5 frame back to its sender
 *   callmgr-bench-floor daemon IFNAME PEER_MAC SOCKET_PATH
 *	accepts one client at a time on a Unix stream socket; each framed
 *	request (4-byte big-endian length + payload) goes out as one frame to
 *	PEER_MAC, and each frame that comes back goes to the client as one
 *	framed reply.
 *
 * Deliberately naive in the way a first implementation would be: one
 * send per frame, one write per reply, one recv per frame.  The client
 * side (callmgr-bench) drives it; both run until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FLOOR_ETHERTYPE 0x88B5
#define MAX_FRAME 1514

static int open_packet(const char *ifname, uint8_t own_mac[6])
{
	unsigned idx = if_nametoindex(ifname);
	if (!idx) {
		fprintf(stderr, "floor: no interface %s\n", ifname);
		return -1;
	}
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(FLOOR_ETHERTYPE));
	if (fd < 0) {
		perror("floor: socket(AF_PACKET)");
		return -1;
	}
	/* like callmgrd's link: its own frames are not read back */
	int one = 1;
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(FLOOR_ETHERTYPE),
		.sll_ifindex = (int)idx,
	};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("floor: bind(AF_PACKET)");
		close(fd);
		return -1;
	}
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	FILE *f = fopen(path, "r");
	unsigned m[6];
	if (!f || fscanf(f, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
		fprintf(stderr, "floor: cannot read %s\n", path);
		if (f)
			fclose(f);
		close(fd);
		return -1;
	}
	fclose(f);
	for (int i = 0; i < 6; i++)
		own_mac[i] = (uint8_t)m[i];
	return fd;
}

static int run_peer(const char *ifname)
{
	uint8_t own[6];
	int fd = open_packet(ifname, own);
	if (fd < 0)
		return 1;
	uint8_t frame[MAX_FRAME];
	for (;;) {
		struct sockaddr_ll from = { 0 };
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, frame, sizeof(frame), 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("floor peer: recvfrom");
			return 1;
		}
		if (from.sll_pkttype == PACKET_OUTGOING || n < ETH_HLEN)
			continue;
		/* back to whoever sent it */
		memcpy(frame, frame + 6, 6);
		memcpy(frame + 6, own, 6);
		if (send(fd, frame, (size_t)n, 0) < 0 && errno != ENOBUFS)
			perror("floor peer: send");
	}
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned m[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Serve one client until it hangs up. */
static void serve(int cfd, int pfd, const uint8_t own[6], const uint8_t peer[6])
{
	static uint8_t in[1 << 16];
	size_t have = 0;
	uint8_t frame[MAX_FRAME + 4];
	struct pollfd p[2] = { { .fd = cfd, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[0].revents) {
			ssize_t n = read(cfd, in + have, sizeof(in) - have);
			if (n <= 0)
				return;
			have += (size_t)n;
			size_t off = 0;
			while (have - off >= 4) {
				uint32_t len;
				memcpy(&len, in + off, 4);
				len = ntohl(len);
				if (len > MAX_FRAME - ETH_HLEN)
					return;
				if (have - off < 4 + len)
					break;
				memcpy(frame, peer, 6);
				memcpy(frame + 6, own, 6);
				frame[12] = FLOOR_ETHERTYPE >> 8;
				frame[13] = FLOOR_ETHERTYPE & 0xff;
				memcpy(frame + ETH_HLEN, in + off + 4, len);
				if (send(pfd, frame, ETH_HLEN + len, 0) < 0)
					perror("floor daemon: send");
				off += 4 + len;
			}
			memmove(in, in + off, have - off);
			have -= off;
		}
		while (p[1].revents) {
			/* the frame lands 4 octets in, so the reply's length prefix
			 * can overwrite the end of its Ethernet header in place */
			uint8_t *rx = frame + 4;
			struct sockaddr_ll from = { 0 };
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(pfd, rx, sizeof(frame) - 4, MSG_DONTWAIT,
					     (struct sockaddr *)&from, &fl);
			if (n < 0)
				break;
			if (from.sll_pkttype == PACKET_OUTGOING || n < ETH_HLEN)
				continue;
			uint32_t len = htonl((uint32_t)(n - ETH_HLEN));
			uint8_t *reply = rx + ETH_HLEN - 4;
			memcpy(reply, &len, 4);
			if (write_all(cfd, reply, 4 + (size_t)(n - ETH_HLEN)) < 0)
				return;
		}
	}
}

static int run_daemon(const char *ifname, const char *peer_mac, const char *path)
{
	uint8_t own[6], peer[6];
	if (parse_mac(peer_mac, peer) < 0) {
		fprintf(stderr, "floor: bad MAC %s\n", peer_mac);
		return 2;
	}
	int pfd = open_packet(ifname, own);
	if (pfd < 0)
		return 1;
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "floor: socket path too long\n");
		return 2;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(lfd, 4) < 0) {
		perror("floor daemon: listen");
		return 1;
	}
	for (;;) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			perror("floor daemon: accept");
			return 1;
		}
		serve(cfd, pfd, own, peer);
		close(cfd);
	}
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "peer"))
		return run_peer(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "daemon"))
		return run_daemon(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: callmgr-bench-floor peer IFNAME\n"
			"       callmgr-bench-floor daemon IFNAME PEER_MAC SOCKET_PATH\n");
	return 2;
}
