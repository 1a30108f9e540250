/* SPDX-License-Identifier: MIT */
#include "datalink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "data/dtab.h"
#include "data/frame.h"
#include "link/link.h"
#include "log.h"

#define RX_BATCH 32
#define RX_ROUNDS 16 /* batches per readiness callback, so the loop goes round */
#define SWEEP_MS 250
#define MAX_RCV 1024 /* leaf VCs on one leg */

/* Sending side of one leg: the SDU sequence number of its frames. */
struct ltx {
	struct dnode node; /* root leg id */
	uint16_t seq;
};

/* Receiving side of one leg: its reassembly. */
struct lrx {
	struct dnode node; /* leaf leg id */
	struct df_reasm r;
};

struct datalink {
	struct event_base *base;
	cc *cc;
	struct dataio *dio;
	bool (*allowed)(void *ctx, const uint8_t mac[6]);
	void *ctx;
	int fd;
	int ifindex;
	struct event *rx_ev, *sweep_ev, *tx_ev;
	int sndbuf;                 /* the send buffer as the kernel sizes it */
	void (*writable)(void *ctx);
	void *writable_ctx;
	struct dtab tx, rx;
	struct datalink_counters ctr;
	cm_vc_id rcv[MAX_RCV];
	uint8_t rx_bufs[RX_BATCH][DF_HDR + DF_FRAG_MAX + 64];
	uint8_t tx_bufs[DF_MAX_FRAGS][DF_HDR + DF_FRAG_MAX];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---------------------------------------------------------------- sending */

int datalink_send(struct datalink *dl, cm_vc_id vc, const struct cc_receiver *r,
		  const uint8_t *sdu, size_t len)
{
	if (!r->vci)
		return -ENOTCONN; /* the peer's CONNECT carried no identifier */
	struct df_sdu s;
	if (!df_sdu_init(&s, sdu, len))
		return -EMSGSIZE;
	struct dnode *n = dt_find(&dl->tx, r->leg);
	if (!n) {
		struct ltx *t = calloc(1, sizeof(*t));
		if (!t || dt_add(&dl->tx, &t->node, r->leg) < 0)
			log_oom("a leg's data sequence");
		n = &t->node;
	}
	/*
	 * All of the SDU's frames or none: frames queued in a qdisc count
	 * against the send buffer until the device takes them, so a full
	 * buffer is a wire behind, and the SDU waits rather than going out
	 * in part.  A frame's cost there is its length plus the skb.
	 */
	int queued = 0;
	if (ioctl(dl->fd, SIOCOUTQ, &queued) == 0 &&
	    (size_t)queued + s.nfrags * (size_t)(DF_HDR + DF_FRAG_MAX + 768) > (size_t)dl->sndbuf &&
	    queued > 0)
		return -EAGAIN;
	struct ltx *t = (struct ltx *)n;
	uint16_t seq = t->seq++;
	struct sockaddr_ll to;
	memset(&to, 0, sizeof(to));
	to.sll_family = AF_PACKET;
	to.sll_protocol = htons(DF_ETHERTYPE);
	to.sll_ifindex = dl->ifindex;
	to.sll_halen = 6;
	memcpy(to.sll_addr, r->peer.a, 6);
	struct mmsghdr msgs[DF_MAX_FRAGS];
	struct iovec iov[DF_MAX_FRAGS];
	memset(msgs, 0, sizeof(msgs));
	for (unsigned k = 0; k < s.nfrags; k++) {
		iov[k].iov_base = dl->tx_bufs[k];
		iov[k].iov_len = df_frame(&s, k, r->vpci, r->vci, seq, dl->tx_bufs[k]);
		msgs[k].msg_hdr.msg_iov = &iov[k];
		msgs[k].msg_hdr.msg_iovlen = 1;
		msgs[k].msg_hdr.msg_name = &to;
		msgs[k].msg_hdr.msg_namelen = sizeof(to);
	}
	unsigned sent = 0;
	while (sent < s.nfrags) {
		int m = sendmmsg(dl->fd, msgs + sent, s.nfrags - sent, MSG_DONTWAIT);
		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0) {
			/* the frames not sent lose the SDU at the far end (a gap) */
			int err = m < 0 ? errno : EAGAIN;
			dl->ctr.frames_tx += sent;
			dl->ctr.tx_refused++;
			log_at(LOG_DEBUG, vc, r->party, r->peer.a, "data frame refused: %s",
			       strerror(err));
			return -err;
		}
		sent += (unsigned)m;
	}
	dl->ctr.frames_tx += sent;
	dl->ctr.sdus_tx++;
	return 0;
}

/* ---------------------------------------------------------------- receiving */

static void frame_in(struct datalink *dl, const uint8_t src[6], const uint8_t *p, size_t n,
		     uint64_t now)
{
	dl->ctr.frames_rx++;
	if (!dl->allowed(dl->ctx, src)) {
		dl->ctr.rx_unknown_peer++;
		return;
	}
	struct df_hdr h;
	if (df_parse(p, n, &h) != DF_OK) {
		dl->ctr.rx_bad++;
		return;
	}
	struct cc_mac peer;
	memcpy(peer.a, src, 6);
	uint64_t leg;
	uint32_t max_sdu;
	size_t nr = cc_connid_receivers(dl->cc, peer, h.vci, &leg, &max_sdu, dl->rcv, MAX_RCV);
	if (!leg || h.vpci != 0) {
		dl->ctr.rx_unknown_label++;
		return;
	}
	struct dnode *node = dt_find(&dl->rx, leg);
	if (!node) {
		struct lrx *x = calloc(1, sizeof(*x));
		if (!x || dt_add(&dl->rx, &x->node, leg) < 0)
			log_oom("a leg's data reassembly");
		df_reasm_init(&x->r, max_sdu);
		node = &x->node;
	}
	struct lrx *x = (struct lrx *)node;
	const uint8_t *sdu;
	size_t len;
	int rc = df_reasm_push(&x->r, &h, now, DATALINK_REASM_MS, &sdu, &len);
	if (rc == DF_E_NOMEM) /* frame.c is pure: it reports, the daemon's policy ends it */
		log_oom("a reassembly buffer");
	if (rc != 1)
		return;
	/* SDUs are lost by sequence number, once each, whatever came of their frames */
	dl->ctr.rx_lost += x->r.missed;
	dl->ctr.sdus_rx++;
	for (size_t i = 0; i < nr; i++) {
		dataio_missed(dl->dio, dl->rcv[i], x->r.missed);
		dataio_deliver(dl->dio, dl->rcv[i], sdu, len);
	}
}

static void read_frames(struct datalink *dl, int rounds)
{
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_ll from[RX_BATCH];
	for (int round = 0; round < rounds; round++) {
		memset(msgs, 0, sizeof(msgs));
		memset(from, 0, sizeof(from));
		for (int i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = dl->rx_bufs[i];
			iov[i].iov_len = sizeof(dl->rx_bufs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		int n = recvmmsg(dl->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("data link: recvmmsg: %s", strerror(errno));
			return;
		}
		uint64_t now = now_ms();
		for (int i = 0; i < n; i++) {
			/* unicast to us only: not our own, not others' (promiscuous) */
			if (from[i].sll_pkttype != PACKET_HOST)
				continue;
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				dl->ctr.frames_rx++;
				dl->ctr.rx_bad++;
				continue;
			}
			frame_in(dl, from[i].sll_addr, dl->rx_bufs[i], msgs[i].msg_len, now);
		}
		if (n < RX_BATCH)
			return;
	}
}

static void readable(evutil_socket_t fd, short what, void *arg)
{
	read_frames(arg, RX_ROUNDS);
}

static void tx_ready(evutil_socket_t fd, short what, void *arg)
{
	struct datalink *dl = arg;
	if (dl->writable)
		dl->writable(dl->writable_ctx);
}

void datalink_wait_writable(struct datalink *dl, void (*cb)(void *ctx), void *ctx)
{
	dl->writable = cb;
	dl->writable_ctx = ctx;
	event_add(dl->tx_ev, NULL);
}

bool datalink_wait_room(struct datalink *dl, int ms)
{
	struct pollfd p = { .fd = dl->fd, .events = POLLOUT };
	return poll(&p, 1, ms) > 0;
}

void datalink_drain(struct datalink *dl)
{
	if (dl)
		read_frames(dl, 1 << 20);
}

/* Reassemblies that stalled, and the state of legs that are gone. */
/*
 * Frames the kernel dropped because the socket's receive buffer was full
 * (a leaf node slower than the wire): they never reach frame_in, so only
 * the kernel can count them.  PACKET_STATISTICS resets its count as it
 * reads it, hence the running sum.
 */
static void kernel_drops(struct datalink *dl)
{
	struct { /* linux/if_packet.h's tpacket_stats, which clashes with netpacket/packet.h */
		unsigned int tp_packets, tp_drops;
	} st;
	socklen_t len = sizeof(st);
	if (getsockopt(dl->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		dl->ctr.rx_kernel_dropped += st.tp_drops;
}

static void sweep(evutil_socket_t fd, short what, void *arg)
{
	struct datalink *dl = arg;
	kernel_drops(dl);
	uint64_t now = now_ms();
	for (size_t i = 0; i < dl->rx.nb; i++)
		for (struct dnode *n = dl->rx.b[i], *next; n; n = next) {
			next = n->next;
			struct lrx *x = (struct lrx *)n;
			/* counted lost when a later one arrives (x->r.missed) */
			(void)df_reasm_expire(&x->r, now, DATALINK_REASM_MS);
			if (!cc_leg_alive(dl->cc, n->key)) {
				dt_del(&dl->rx, n);
				df_reasm_free(&x->r);
				free(x);
			}
		}
	for (size_t i = 0; i < dl->tx.nb; i++)
		for (struct dnode *n = dl->tx.b[i], *next; n; n = next) {
			next = n->next;
			if (!cc_leg_alive(dl->cc, n->key)) {
				dt_del(&dl->tx, n);
				free(n);
			}
		}
}

/* ---------------------------------------------------------------- life */

int datalink_socket(const char *ifname)
{
	int fd = link_packet_socket(ifname, SOCK_DGRAM, DF_ETHERTYPE);
	if (fd < 0)
		return -1;
	/*
	 * Sending: smaller than a device's queue (1,000 frames is usual), so
	 * that the socket fills before the qdisc drops and a fast root is
	 * throttled (datalink_send); large enough for one SDU of 65,535
	 * octets twice over.  Receiving: room for bursts from many legs.
	 * Past wmem_max/rmem_max only with CAP_NET_ADMIN, hence here, before
	 * capabilities are dropped.
	 */
	int sbuf = 256 * 1024, rbuf = 4 * 1024 * 1024;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sbuf, sizeof(sbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sbuf, sizeof(sbuf));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rbuf, sizeof(rbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rbuf, sizeof(rbuf));
	return fd;
}

struct datalink *datalink_open_fd(struct event_base *base, const char *ifname, int fd,
				  cc *callctl, struct dataio *dio,
				  bool (*allowed)(void *ctx, const uint8_t mac[6]), void *ctx)
{
	struct datalink *dl = calloc(1, sizeof(*dl));
	if (!dl) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	dl->base = base;
	dl->cc = callctl;
	dl->dio = dio;
	dl->allowed = allowed;
	dl->ctx = ctx;
	dl->fd = fd;
	dl->ifindex = (int)if_nametoindex(ifname);
	if (dl->ifindex == 0)
		goto fail;
	if (!link_packet_socket_is(fd, dl->ifindex, SOCK_DGRAM, DF_ETHERTYPE)) {
		errno = EBADF;
		goto fail;
	}
	socklen_t sl = sizeof(dl->sndbuf);
	if (getsockopt(dl->fd, SOL_SOCKET, SO_SNDBUF, &dl->sndbuf, &sl) < 0)
		dl->sndbuf = 256 * 1024;
	dl->rx_ev = event_new(base, dl->fd, EV_READ | EV_PERSIST, readable, dl);
	dl->sweep_ev = event_new(base, -1, EV_PERSIST, sweep, dl);
	dl->tx_ev = event_new(base, dl->fd, EV_WRITE, tx_ready, dl);
	struct timeval tv = { 0, SWEEP_MS * 1000 };
	if (!dl->rx_ev || !dl->sweep_ev || !dl->tx_ev || event_add(dl->rx_ev, NULL) < 0 ||
	    event_add(dl->sweep_ev, &tv) < 0) {
		errno = ENOMEM;
		goto fail;
	}
	return dl;
fail:;
	int saved = errno;
	datalink_close(dl);
	errno = saved;
	return NULL;
}

void datalink_close(struct datalink *dl)
{
	if (!dl)
		return;
	if (dl->rx_ev)
		event_free(dl->rx_ev);
	if (dl->sweep_ev)
		event_free(dl->sweep_ev);
	if (dl->tx_ev)
		event_free(dl->tx_ev);
	if (dl->fd >= 0)
		close(dl->fd);
	for (size_t i = 0; i < dl->rx.nb; i++)
		for (struct dnode *n = dl->rx.b[i], *next; n; n = next) {
			next = n->next;
			df_reasm_free(&((struct lrx *)n)->r);
			free(n);
		}
	for (size_t i = 0; i < dl->tx.nb; i++)
		for (struct dnode *n = dl->tx.b[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	dt_free(&dl->rx);
	dt_free(&dl->tx);
	free(dl);
}

void datalink_get_counters(struct datalink *dl, struct datalink_counters *out)
{
	if (dl) {
		kernel_drops(dl);
		*out = dl->ctr;
	} else {
		memset(out, 0, sizeof(*out));
	}
}
