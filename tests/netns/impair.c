/* SPDX-License-Identifier: MIT */
/*
 * impair: a learning Ethernet switch in user space that loses and reorders
 * frames, for kernels without tc netem.  Runs in the switch namespace with
 * one AF_PACKET socket per port; each frame received on a port is, with
 * probability LOSS%, dropped; otherwise, with probability REORDER%, held
 * back and sent after the next frame to the same port (or after 5 ms);
 * otherwise forwarded at once (to the port that learnt its destination,
 * else to every other port).
 *
 *   impair LOSS_PERCENT REORDER_PERCENT SEED PORT...
 *
 * Touches $IMPAIR_READY once the sockets are bound; on SIGTERM/SIGINT
 * prints "impair: forwarded N dropped N reordered N" and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 8
#define MAX_FRAME 2048
#define MAX_MACS 64

struct port {
	int fd;
	int ifindex;
	uint8_t held[MAX_FRAME]; /* a frame kept back to be sent late */
	ssize_t held_len;        /* 0: nothing held */
};

static struct port ports[MAX_PORTS];
static int nports;
static struct {
	uint8_t mac[6];
	int port;
} learnt[MAX_MACS];
static int nlearnt;
static unsigned long forwarded, dropped, reordered;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int port_of(const uint8_t *mac)
{
	for (int i = 0; i < nlearnt; i++)
		if (!memcmp(learnt[i].mac, mac, 6))
			return learnt[i].port;
	return -1;
}

static void learn(const uint8_t *mac, int port)
{
	if (mac[0] & 1)
		return;
	for (int i = 0; i < nlearnt; i++)
		if (!memcmp(learnt[i].mac, mac, 6)) {
			learnt[i].port = port;
			return;
		}
	if (nlearnt < MAX_MACS) {
		memcpy(learnt[nlearnt].mac, mac, 6);
		learnt[nlearnt++].port = port;
	}
}

static void port_send(struct port *p, const uint8_t *frame, ssize_t len)
{
	if (send(p->fd, frame, (size_t)len, 0) < 0 && errno != ENOBUFS && errno != EAGAIN)
		perror("impair: send");
}

static void port_flush(struct port *p)
{
	if (p->held_len) {
		port_send(p, p->held, p->held_len);
		p->held_len = 0;
	}
}

static void deliver(struct port *p, const uint8_t *frame, ssize_t len, int reorder_pct)
{
	if (!p->held_len && rand() % 100 < reorder_pct) {
		memcpy(p->held, frame, (size_t)len);
		p->held_len = len;
		reordered++;
		return;
	}
	port_send(p, frame, len);
	port_flush(p); /* a held frame goes after the one that overtook it */
	forwarded++;
}

static int port_open(const char *name)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (fd < 0)
		return -1;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)if_nametoindex(name),
	};
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(fd);
		return -1;
	}
	ports[nports].ifindex = sll.sll_ifindex;
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc - 4 > MAX_PORTS) {
		fprintf(stderr, "usage: impair LOSS_PERCENT REORDER_PERCENT SEED PORT...\n");
		return 2;
	}
	int loss = atoi(argv[1]), reorder = atoi(argv[2]);
	srand((unsigned)strtoul(argv[3], NULL, 0));
	for (int i = 4; i < argc; i++) {
		int fd = port_open(argv[i]);
		if (fd < 0) {
			fprintf(stderr, "impair: port %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		ports[nports++].fd = fd;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	const char *ready = getenv("IMPAIR_READY");
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (f)
			fclose(f);
	}
	struct pollfd pfd[MAX_PORTS];
	for (int i = 0; i < nports; i++)
		pfd[i] = (struct pollfd){ .fd = ports[i].fd, .events = POLLIN };
	uint8_t frame[MAX_FRAME];
	while (!stop) {
		int n = poll(pfd, (nfds_t)nports, 5);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0) {
			for (int i = 0; i < nports; i++)
				port_flush(&ports[i]);
			continue;
		}
		for (int i = 0; i < nports; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			for (;;) {
				struct sockaddr_ll from;
				socklen_t fl = sizeof(from);
				ssize_t len = recvfrom(ports[i].fd, frame, sizeof(frame), 0,
						       (struct sockaddr *)&from, &fl);
				if (len < 0)
					break;
				/* our own sends come back as outgoing: not a frame to switch */
				if (from.sll_pkttype == PACKET_OUTGOING || len < 14)
					continue;
				learn(frame + 6, i);
				if (rand() % 100 < loss) {
					dropped++;
					continue;
				}
				int to = port_of(frame);
				for (int j = 0; j < nports; j++)
					if (j != i && (to < 0 || to == j))
						deliver(&ports[j], frame, len, reorder);
			}
		}
	}
	for (int i = 0; i < nports; i++)
		port_flush(&ports[i]);
	printf("impair: forwarded %lu dropped %lu reordered %lu\n", forwarded, dropped, reordered);
	return 0;
}
