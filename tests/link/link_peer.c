/* SPDX-License-Identifier: MIT */
/*
 * One end of the real AF_PACKET test (netns.sh):
 *   link_peer IFACE echo               echo every message back until "BYE";
 *                                      expect exactly JUNK_FRAMES bad frames
 *   link_peer IFACE send PEER_MAC N    first send JUNK_FRAMES malformed
 *                                      frames and GROUP_FRAMES well-formed
 *                                      BGNs from group source MACs (which
 *                                      must be dropped: no association, no
 *                                      answer) on a socket of its own, then N
 *                                      messages, expect each echoed in
 *                                      order, then "BYE"; exit 0 if so
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/link.h"
#include "log.h"

/* Frames the link must count as bad and otherwise ignore. */
#define JUNK_FRAMES 5
/* BGNs from group source MACs: counted in frames_group_src, never a peer. */
#define GROUP_FRAMES 3

static int send_junk(const char *ifname, const uint8_t dst[6])
{
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname),
				   .sll_halen = 6 };
	memcpy(sll.sll_addr, dst, 6);
	uint8_t f[64];
	memset(f, 0, sizeof(f));
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\0\0\0\0\x09", 6); /* a stranger */
	f[12] = 0x88;
	f[13] = 0xb5;
	struct {
		uint16_t len_field;
		size_t frame_len;
		uint8_t last_word0;
	} junk[JUNK_FRAMES] = {
		{ 8, 60, 0x01 },  /* fine PDU but the frame: see below */
		{ 200, 60, 0x01 }, /* length beyond the frame */
		{ 6, 60, 0x01 },  /* not a whole number of words */
		{ 8, 60, 0x00 },  /* PDU type 0 */
		{ 12, 60, 0x0a }, /* POLL of 12 octets */
	};
	int rc = 0;
	for (int i = 0; i < JUNK_FRAMES; i++) {
		memset(f + 14, 0, sizeof(f) - 14);
		f[14] = (uint8_t)(junk[i].len_field >> 8);
		f[15] = (uint8_t)junk[i].len_field;
		size_t pdu_len = junk[i].len_field < 40 ? junk[i].len_field : 8;
		if (pdu_len >= 4)
			f[16 + pdu_len - 4] = junk[i].last_word0;
		size_t flen = junk[i].frame_len;
		if (i == 0)
			flen = 14 + 2 + 3; /* shorter than length + a trailer */
		if (sendto(fd, f, flen, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			rc = -1;
	}
	static const uint8_t groups[GROUP_FRAMES][6] = {
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, /* broadcast */
		{ 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e }, /* IEEE 802.1 link-local */
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, /* IPv6 multicast */
	};
	for (int i = 0; i < GROUP_FRAMES; i++) {
		memset(f + 14, 0, sizeof(f) - 14);
		memcpy(f + 6, groups[i], 6);
		f[15] = 8;                 /* BGN: N(SQ) 7, N(MR) 64 */
		f[16 + 3] = 7;
		f[16 + 4] = 0x01;
		f[16 + 7] = 64;
		if (sendto(fd, f, 60, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			rc = -1;
	}
	close(fd);
	return rc;
}

struct peer_state {
	struct event_base *base;
	struct link *l;
	bool echo;
	uint32_t count, sent, echoed;
	bool up, failed, bye_seen;
	int ups, downs;
	uint32_t max_backlog; /* most messages seen waiting behind SSCOP's queue */
	bool busy_seen;       /* link_busy() said so at least once */
};

static size_t make_msg(uint32_t i, uint8_t *buf)
{
	/* lengths from 1 to 1400 octets, so short frames get padded */
	size_t len = i % 50 == 7 ? 1400 : 1 + (i * 7) % 60;
	for (size_t k = 0; k < len; k++)
		buf[k] = (uint8_t)(i + k * 13);
	if (len >= 4) {
		buf[0] = (uint8_t)(i >> 24);
		buf[1] = (uint8_t)(i >> 16);
		buf[2] = (uint8_t)(i >> 8);
		buf[3] = (uint8_t)i;
	}
	return len;
}

static void on_deliver(void *ctx, const uint8_t mac[6], const uint8_t *msg, size_t len)
{
	struct peer_state *ps = ctx;
	if (ps->echo) {
		int rc = link_send(ps->l, mac, msg, len);
		if (rc < 0) {
			fprintf(stderr, "echo: link_send: %s\n", strerror(-rc));
			ps->failed = true;
		}
		if (len == 3 && memcmp(msg, "BYE", 3) == 0)
			ps->bye_seen = true;
		return;
	}
	if (len == 3 && memcmp(msg, "BYE", 3) == 0) {
		ps->bye_seen = true;
		event_base_loopexit(ps->base, NULL);
		return;
	}
	uint8_t want[1500];
	size_t wlen = make_msg(ps->echoed, want);
	if (len != wlen || memcmp(msg, want, len) != 0) {
		fprintf(stderr, "send: echo %u wrong (len %zu, want %zu)\n", ps->echoed, len, wlen);
		ps->failed = true;
		event_base_loopbreak(ps->base);
		return;
	}
	ps->echoed++;
}

static void on_state(void *ctx, const uint8_t mac[6], bool up)
{
	struct peer_state *ps = ctx;
	ps->up = up;
	if (up)
		ps->ups++;
	else
		ps->downs++;
	/* the echo side ends when the sender, done, releases the association */
	if (ps->echo && !up && ps->bye_seen)
		event_base_loopexit(ps->base, NULL);
}

/*
 * Everything at once: the link never refuses for a full queue, what SSCOP's
 * queue cannot take waits in the backlog and must still arrive in order.
 */
static void fill(struct peer_state *ps, const uint8_t mac[6])
{
	while (ps->sent < ps->count) {
		uint8_t m[1500];
		size_t len = make_msg(ps->sent, m);
		int rc = link_send(ps->l, mac, m, len);
		if (rc < 0) {
			fprintf(stderr, "send: link_send: %s\n", strerror(-rc));
			ps->failed = true;
			return;
		}
		ps->sent++;
		ps->busy_seen |= link_busy(ps->l, mac);
	}
	struct link_peer_info info[1];
	if (link_peers(ps->l, info, 1) == 1 && info[0].backlog > ps->max_backlog)
		ps->max_backlog = info[0].backlog;
}

static uint8_t peer_mac[6];

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct peer_state *ps = arg;
	fill(ps, peer_mac);
	if (ps->echoed == ps->count && ps->sent == ps->count) {
		link_send(ps->l, peer_mac, (const uint8_t *)"BYE", 3);
		ps->sent++;
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct peer_state *ps = arg;
	fprintf(stderr, "deadline: sent %u echoed %u\n", ps->sent, ps->echoed);
	ps->failed = true;
	event_base_loopbreak(ps->base);
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[2], "send") == 0 && argc < 5)) {
		fprintf(stderr, "usage: %s IFACE echo | IFACE send PEER_MAC COUNT\n", argv[0]);
		return 2;
	}
	log_set_level(getenv("LINK_PEER_DEBUG") ? LOG_DEBUG : LOG_WARNING);
	struct peer_state ps = { 0 };
	ps.echo = strcmp(argv[2], "echo") == 0;
	if (!ps.echo) {
		if (sscanf(argv[3], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &peer_mac[0], &peer_mac[1],
			   &peer_mac[2], &peer_mac[3], &peer_mac[4], &peer_mac[5]) != 6) {
			fprintf(stderr, "bad MAC %s\n", argv[3]);
			return 2;
		}
		ps.count = (uint32_t)strtoul(argv[4], NULL, 10);
	}
	if (!ps.echo && send_junk(argv[1], peer_mac) < 0) {
		fprintf(stderr, "send: junk: %s\n", strerror(errno));
		return 1;
	}
	ps.base = event_base_new();
	struct link_config cfg;
	link_config_defaults(&cfg);
	/* small enough for the sender's burst to reach it */
	cfg.max_backlog = 65536;
	struct link_ops ops = { .deliver = on_deliver, .state = on_state };
	ps.l = link_open(ps.base, argv[1], &cfg, &ops, &ps);
	if (!ps.l) {
		fprintf(stderr, "link_open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* tell netns.sh the socket is bound, so nothing it sends is missed */
	const char *ready = getenv("LINK_PEER_READY");
	if (ready) {
		FILE *rf = fopen(ready, "w");
		if (rf)
			fclose(rf);
	}
	struct event *tick = event_new(ps.base, -1, EV_PERSIST, on_tick, &ps);
	struct event *deadline = evtimer_new(ps.base, on_deadline, &ps);
	struct timeval tick_tv = { 0, 2000 }, deadline_tv = { 60, 0 };
	if (!ps.echo)
		event_add(tick, &tick_tv);
	event_add(deadline, &deadline_tv);
	event_base_dispatch(ps.base);

	struct link_counters c;
	link_get_counters(ps.l, &c);
	struct link_peer_info info[4];
	size_t n = link_peers(ps.l, info, 4);
	fprintf(stderr,
		"%s: rx %llu tx %llu bad %llu unknown %llu group %llu; peers %zu", argv[2],
		(unsigned long long)c.frames_rx, (unsigned long long)c.frames_tx,
		(unsigned long long)c.frames_bad, (unsigned long long)c.frames_unknown_peer,
		(unsigned long long)c.frames_group_src, n);
	if (n > 0)
		fprintf(stderr, " [%s sd_tx %llu sd_rx %llu retx %llu polls %llu est %llu]",
			info[0].state, (unsigned long long)info[0].sd_tx,
			(unsigned long long)info[0].sd_rx, (unsigned long long)info[0].retransmits,
			(unsigned long long)info[0].polls, (unsigned long long)info[0].establishments);
	fprintf(stderr, "\n");

	bool ok = !ps.failed && ps.bye_seen && c.frames_bad == (ps.echo ? JUNK_FRAMES : 0) &&
		  c.frames_group_src == (ps.echo ? GROUP_FRAMES : 0) && n == 1 &&
		  info[0].establishments == 1 && info[0].sd_tx == info[0].sd_rx && ps.ups == 1;
	if (ps.echo) {
		/* released by the sender: down once, idle, not a failure */
		ok = ok && ps.downs == 1 && strcmp(info[0].state, "idle") == 0 &&
		     info[0].failures == 0;
	} else {
		ok = ok && ps.echoed == ps.count && info[0].sd_tx == ps.count + 1 && ps.downs == 0 &&
		     strcmp(info[0].state, "ready") == 0;
		/* the burst went through the backlog, which drained */
		fprintf(stderr, "send: backlog peaked at %u messages, busy %s\n", ps.max_backlog,
			ps.busy_seen ? "seen" : "never");
		if (ps.count > cfg.max_queue)
			ok = ok && ps.max_backlog > 0 && ps.busy_seen;
		ok = ok && info[0].backlog == 0 && !link_busy(ps.l, peer_mac);
		/* an orderly end: END to the peer */
		link_release_all(ps.l);
		n = link_peers(ps.l, info, 4);
		ok = ok && n == 1 && strcmp(info[0].state, "releasing") == 0 && ps.downs == 1;
		/* wait for the ENDAK */
		struct timeval tv = { 0, 300000 };
		event_base_loopexit(ps.base, &tv);
		event_base_dispatch(ps.base);
		n = link_peers(ps.l, info, 4);
		ok = ok && n == 1 && strcmp(info[0].state, "idle") == 0;
	}
	if (!ok)
		fprintf(stderr, "%s: FAILED\n", argv[2]);
	event_free(tick);
	event_free(deadline);
	link_close(ps.l);
	event_base_free(ps.base);
	return ok ? 0 : 1;
}
