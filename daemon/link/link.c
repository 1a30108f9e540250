/* SPDX-License-Identifier: MIT */
/*
 * The link layer's I/O edge: an AF_PACKET socket, libevent timers, and one
 * sscop machine per peer MAC.  Frame layout (docs/wire.md "Frame layout"):
 *
 *   [dst MAC][src MAC][0x88B5][u16 BE SSCOP PDU length][SSCOP PDU][padding]
 *
 * The length prefix exists because Ethernet pads short frames to 60 octets
 * and a trailer-coded SSCOP PDU cannot be found at the end of padding.
 */
#include "link/link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "link/sscop.h"
#include "log.h"

#define ETH_HDR_LEN    14
#define LEN_PREFIX     2
#define MIN_FRAME      60 /* without FCS; the kernel does not pad for us */
#define MAX_FRAME      (ETH_HDR_LEN + LEN_PREFIX + SSCOP_MAX_PDU)
#define RX_BATCH       32
#define RX_BUF_SIZE    2048
/* A backlog this many times max_backlog: the peer is not reading (link_send) */
#define LINK_BACKLOG_FAIL 4
/* Making room scans the table.  Strangers may cause at most ROOM_SCANS
 * scans per ROOM_PERIOD_MS (and none for the rest of the period after one
 * found no room): a flood costs a bounded share of the CPU, not one scan
 * of 4,096 peers per frame. */
#define ROOM_PERIOD_MS 100
#define ROOM_SCANS     10

struct link_peer;

struct peer_timer {
	struct link_peer *peer;
	enum sscop_timer which;
	struct event *ev;
};

/* A message waiting behind a full SSCOP queue (link_send). */
struct backlog_msg {
	struct backlog_msg *next;
	size_t len;
	uint8_t data[];
};

struct link_peer {
	struct link *l;
	uint8_t mac[6];
	struct sscop *sscop;
	struct peer_timer timers[SSCOP_TIMER_COUNT];
	struct backlog_msg *bl_head, *bl_tail;
	uint32_t bl_n;
	uint64_t bl_bytes; /* payload plus per-message overhead */
	uint64_t born;     /* creation order: the oldest unproven goes first */
	unsigned busy;     /* inside an sscop call: must not be freed */
	bool local;        /* we asked for it: link_send or link_establish */
	bool idle_seen;    /* idle at the last sweep */
	bool reported_up;  /* ops.state(up) told, no down since */
};

struct link {
	struct event_base *base;
	int fd;
	int ifindex;
	uint8_t mac[6];
	struct link_config cfg;
	struct link_ops ops;
	void *ctx;
	struct event *rx_ev;
	struct link_peer **peers; /* sorted by MAC */
	size_t n_peers, cap_peers;
	struct link_counters ctr;
	uint8_t (*rx_bufs)[RX_BUF_SIZE];
	struct event *sweep_ev;
	uint64_t born_next;
	int64_t room_period_ms;  /* start of the current ROOM_PERIOD_MS */
	unsigned room_scans;     /* strangers' scans in it */
	struct sscop_rx_budget rx_budget;
	/* freed peers call control saw up, told down from their own event:
	 * peer_create runs inside call control's actions, which must not be
	 * re-entered */
	struct event *gone_ev;
	uint8_t (*gone)[6];
	size_t n_gone, cap_gone;
};

/* Every call into a peer's sscop machine goes through these, so that
 * making room never frees a peer whose machine is on the stack. */
#define PEER_CALL(p, call)                                                                         \
	do {                                                                                       \
		(p)->busy++;                                                                       \
		call;                                                                              \
		(p)->busy--;                                                                       \
	} while (0)

void link_config_defaults(struct link_config *cfg)
{
	struct sscop_params p;
	sscop_params_defaults(&p);
	cfg->timer_cc_ms = p.timer_cc_ms;
	cfg->max_cc = p.max_cc;
	cfg->timer_poll_ms = p.timer_poll_ms;
	cfg->timer_keepalive_ms = p.timer_keepalive_ms;
	cfg->timer_noresponse_ms = p.timer_noresp_ms;
	cfg->timer_idle_ms = p.timer_idle_ms;
	cfg->max_queue = 256;
	cfg->max_backlog = 8u << 20;
}

/* ------------------------------------------------------------------ */
/* The backlog behind SSCOP's queue                                    */

static void backlog_clear(struct link_peer *p)
{
	while (p->bl_head) {
		struct backlog_msg *m = p->bl_head;
		p->bl_head = m->next;
		free(m);
	}
	p->bl_tail = NULL;
	p->bl_n = 0;
	p->bl_bytes = 0;
}

static int backlog_push(struct link_peer *p, const uint8_t *msg, size_t len)
{
	struct backlog_msg *m = malloc(sizeof(*m) + len);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->data, msg, len);
	if (p->bl_tail)
		p->bl_tail->next = m;
	else
		p->bl_head = m;
	p->bl_tail = m;
	p->bl_n++;
	p->bl_bytes += sizeof(*m) + len;
	return 0;
}

/*
 * Feed the backlog to SSCOP while its queue takes it.  Run after every
 * event that may open the window (a PDU in, a timer) and after the
 * association comes up.
 */
static void backlog_flush(struct link_peer *p)
{
	while (p->bl_head) {
		struct backlog_msg *m = p->bl_head;
		int rc = sscop_send(p->sscop, m->data, m->len);
		if (rc == -ENOBUFS)
			return;
		if (rc == -ENOMEM)
			log_oom("a message from the link backlog to SSCOP");
		if (rc == -ENOTCONN) {
			/* the association is gone, and with it what was queued for it */
			backlog_clear(p);
			return;
		}
		p->bl_head = m->next;
		if (!p->bl_head)
			p->bl_tail = NULL;
		p->bl_n--;
		p->bl_bytes -= sizeof(*m) + m->len;
		free(m);
	}
}

/* ------------------------------------------------------------------ */
/* Frames out                                                          */

static void link_transmit(struct link *l, const uint8_t dst[6], const uint8_t *pdu, size_t len)
{
	uint8_t frame[MAX_FRAME];
	if (len > SSCOP_MAX_PDU)
		return;
	memcpy(frame, dst, 6);
	memcpy(frame + 6, l->mac, 6);
	frame[12] = LINK_ETHERTYPE >> 8;
	frame[13] = LINK_ETHERTYPE & 0xff;
	frame[14] = (uint8_t)(len >> 8);
	frame[15] = (uint8_t)len;
	memcpy(frame + ETH_HDR_LEN + LEN_PREFIX, pdu, len);
	size_t flen = ETH_HDR_LEN + LEN_PREFIX + len;
	if (flen < MIN_FRAME) {
		memset(frame + flen, 0, MIN_FRAME - flen);
		flen = MIN_FRAME;
	}
	if (send(l->fd, frame, flen, MSG_DONTWAIT) < 0) {
		/* a dropped frame is a lost frame: SSCOP recovers it */
		log_at_limited(LOG_DEBUG, 0, 0, dst, "link: send: %s", strerror(errno));
		return;
	}
	l->ctr.frames_tx++;
}

/* ------------------------------------------------------------------ */
/* sscop callbacks                                                     */

static void peer_transmit(void *ctx, const uint8_t *pdu, size_t len)
{
	struct link_peer *p = ctx;
	link_transmit(p->l, p->mac, pdu, len);
}

static void peer_deliver(void *ctx, const uint8_t *msg, size_t len)
{
	struct link_peer *p = ctx;
	p->l->ops.deliver(p->l->ctx, p->mac, msg, len);
}

static void peer_up(void *ctx)
{
	struct link_peer *p = ctx;
	log_at_limited(LOG_NOTICE, 0, 0, p->mac, "link: association up");
	p->reported_up = true;
	p->l->ops.state(p->l->ctx, p->mac, true);
}

static void peer_down(void *ctx, enum sscop_reason why)
{
	struct link_peer *p = ctx;
	if (p->bl_n)
		log_at_limited(LOG_NOTICE, 0, 0, p->mac,
			       "link: %u messages of the backlog discarded", (unsigned)p->bl_n);
	backlog_clear(p);
	log_at_limited(LOG_NOTICE, 0, 0, p->mac, "link: association down (%s)",
		       sscop_reason_name(why));
	p->reported_up = false;
	p->l->ops.state(p->l->ctx, p->mac, false);
}

static void peer_incoming(void *ctx)
{
	/* auto_accept is set: never called */
}

static void peer_timer_start(void *ctx, enum sscop_timer t, uint32_t ms)
{
	struct link_peer *p = ctx;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	evtimer_add(p->timers[t].ev, &tv);
}

static void peer_timer_stop(void *ctx, enum sscop_timer t)
{
	struct link_peer *p = ctx;
	evtimer_del(p->timers[t].ev);
}

static const struct sscop_ops peer_sscop_ops = {
	.transmit = peer_transmit,
	.deliver = peer_deliver,
	.up = peer_up,
	.down = peer_down,
	.incoming = peer_incoming,
	.timer_start = peer_timer_start,
	.timer_stop = peer_timer_stop,
};

static void peer_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct peer_timer *pt = arg;
	/* the acknowledgements it brings may open the window for the backlog */
	PEER_CALL(pt->peer, sscop_timer_expired(pt->peer->sscop, pt->which);
		  backlog_flush(pt->peer));
}

/* ------------------------------------------------------------------ */
/* Peers                                                               */

/* Index of mac, or where it would be inserted (with *found false). */
static size_t peer_search(const struct link *l, const uint8_t mac[6], bool *found)
{
	size_t lo = 0, hi = l->n_peers;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(l->peers[mid]->mac, mac, 6);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct link_peer *peer_find(const struct link *l, const uint8_t mac[6])
{
	bool found;
	size_t i = peer_search(l, mac, &found);
	return found ? l->peers[i] : NULL;
}

static void peer_free(struct link_peer *p)
{
	backlog_clear(p);
	sscop_destroy(p->sscop);
	for (int t = 0; t < SSCOP_TIMER_COUNT; t++)
		if (p->timers[t].ev)
			event_free(p->timers[t].ev);
	free(p);
}

static uint8_t random_octet(void)
{
	uint8_t v;
	if (getrandom(&v, 1, GRND_NONBLOCK) == 1)
		return v;
	return (uint8_t)(time(NULL) ^ getpid());
}

static bool peer_configured(const struct link *l, const uint8_t mac[6])
{
	for (size_t i = 0; i < l->cfg.n_allowed; i++)
		if (memcmp(l->cfg.allowed[i], mac, 6) == 0)
			return true;
	return false;
}

static bool peer_idle(const struct link_peer *p)
{
	return sscop_get_state(p->sscop) == SSCOP_IDLE && sscop_queued(p->sscop) == 0 &&
	       p->bl_n == 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void link_tell_gone(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;
	/* the callback may free more (link_send makes room): take the list */
	while (l->n_gone) {
		uint8_t mac[6];
		memcpy(mac, l->gone[--l->n_gone], 6);
		/* made again meanwhile and up: nothing was lost for good */
		struct link_peer *p = peer_find(l, mac);
		if (!p || !p->reported_up)
			l->ops.state(l->ctx, mac, false);
	}
}

/*
 * Frees peer i.  One that call control saw up is reported down, as a
 * failed link would be, from an event of its own (see gone_ev).
 */
static void peer_remove(struct link *l, size_t i)
{
	struct link_peer *p = l->peers[i];
	if (p->reported_up) {
		if (l->n_gone == l->cap_gone) {
			size_t ncap = l->cap_gone ? l->cap_gone * 2 : 16;
			uint8_t(*ng)[6] = realloc(l->gone, ncap * sizeof(*ng));
			if (!ng) /* call control would never learn that the link went */
				log_oom("a freed peer's link-down report");
			l->gone = ng;
			l->cap_gone = ncap;
		}
		memcpy(l->gone[l->n_gone++], p->mac, 6);
		event_active(l->gone_ev, 0, 0);
	}
	memmove(l->peers + i, l->peers + i + 1, (l->n_peers - i - 1) * sizeof(struct link_peer *));
	l->n_peers--;
	peer_free(p);
}

/*
 * Frees one entry for a new peer: an idle association first, else the
 * oldest unproven one.  For a stranger only strangers' unproven entries
 * qualify; for our own calls, any unproven entry that is not configured.
 * Proven, configured and busy peers are never chosen.
 */
static bool peer_make_room(struct link *l, bool for_local)
{
	size_t idle = SIZE_MAX, unproven = SIZE_MAX;
	for (size_t i = 0; i < l->n_peers; i++) {
		const struct link_peer *p = l->peers[i];
		if (p->busy || peer_configured(l, p->mac))
			continue;
		if (peer_idle(p)) {
			idle = i;
			break;
		}
		if (sscop_peer_proven(p->sscop) || (p->local && !for_local))
			continue;
		if (unproven == SIZE_MAX || p->born < l->peers[unproven]->born)
			unproven = i;
	}
	size_t victim = idle != SIZE_MAX ? idle : unproven;
	if (victim == SIZE_MAX)
		return false;
	log_at_limited(LOG_INFO, 0, 0, l->peers[victim]->mac, "link: peer table full, %s peer freed",
		       victim == idle ? "idle" : "unproven");
	l->ctr.peers_evicted++;
	peer_remove(l, victim);
	return true;
}

/*
 * The entry for mac, made if need be.  local: we asked for it (our call),
 * else a stranger's BGN.  NULL when there is no room (counted).
 */
static struct link_peer *peer_create(struct link *l, const uint8_t mac[6], bool local)
{
	bool found;
	size_t at = peer_search(l, mac, &found);
	if (found) {
		l->peers[at]->local |= local;
		return l->peers[at];
	}
	bool privileged = local || peer_configured(l, mac);
	size_t cap = privileged ? LINK_MAX_PEERS : LINK_MAX_STRANGERS;
	if (l->n_peers >= cap) {
		if (!privileged) {
			int64_t now = now_ms();
			if (now - l->room_period_ms >= ROOM_PERIOD_MS) {
				l->room_period_ms = now;
				l->room_scans = 0;
			}
			if (l->room_scans >= ROOM_SCANS) {
				l->ctr.peers_refused++;
				return NULL;
			}
			l->room_scans++;
		}
		if (!peer_make_room(l, privileged) || l->n_peers >= cap) {
			if (!privileged)
				l->room_scans = ROOM_SCANS;
			l->ctr.peers_refused++;
			log_at_limited(LOG_WARNING, 0, 0, mac, "link: peer table full (%zu), peer refused",
				       l->n_peers);
			return NULL;
		}
		at = peer_search(l, mac, &found);
	}
	if (l->n_peers == l->cap_peers) {
		size_t ncap = l->cap_peers ? l->cap_peers * 2 : 8;
		struct link_peer **np = realloc(l->peers, ncap * sizeof(struct link_peer *));
		if (!np)
			return NULL;
		l->peers = np;
		l->cap_peers = ncap;
	}
	struct link_peer *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->l = l;
	memcpy(p->mac, mac, 6);
	p->born = l->born_next++;
	p->local = local;
	for (int t = 0; t < SSCOP_TIMER_COUNT; t++) {
		p->timers[t].peer = p;
		p->timers[t].which = t;
		p->timers[t].ev = evtimer_new(l->base, peer_timer_fired, &p->timers[t]);
		if (!p->timers[t].ev) {
			peer_free(p);
			return NULL;
		}
	}
	struct sscop_params sp;
	sscop_params_defaults(&sp);
	sp.timer_cc_ms = l->cfg.timer_cc_ms;
	sp.max_cc = l->cfg.max_cc;
	sp.timer_poll_ms = l->cfg.timer_poll_ms;
	sp.timer_keepalive_ms = l->cfg.timer_keepalive_ms;
	sp.timer_noresp_ms = l->cfg.timer_noresponse_ms;
	sp.timer_idle_ms = l->cfg.timer_idle_ms;
	sp.max_queue = l->cfg.max_queue;
	sp.auto_accept = true;
	sp.initial_sq = random_octet();
	sp.log_peer = mac;
	sp.rx_budget = &l->rx_budget;
	p->sscop = sscop_create(&sp, &peer_sscop_ops, p);
	if (!p->sscop) {
		peer_free(p);
		return NULL;
	}
	memmove(l->peers + at + 1, l->peers + at, (l->n_peers - at) * sizeof(struct link_peer *));
	l->peers[at] = p;
	l->n_peers++;
	log_at_limited(LOG_INFO, 0, 0, mac, "link: new peer");
	return p;
}

/* ------------------------------------------------------------------ */
/* Frames in                                                           */

static void link_frame_in(struct link *l, const uint8_t *f, size_t len)
{
	l->ctr.frames_rx++;
	if (len < ETH_HDR_LEN + LEN_PREFIX + 4) {
		l->ctr.frames_bad++;
		return;
	}
	const uint8_t *src = f + 6;
	if (src[0] & 1) {
		/* a group address is never a peer: answering it would reach
		 * every node on the segment (the I/G bit, IEEE 802 §8.2) */
		l->ctr.frames_group_src++;
		return;
	}
	size_t plen = (size_t)f[14] << 8 | f[15];
	if (plen > len - ETH_HDR_LEN - LEN_PREFIX) {
		l->ctr.frames_bad++;
		return;
	}
	const uint8_t *pdu = f + ETH_HDR_LEN + LEN_PREFIX;
	struct sscop_pdu parsed;
	if (sscop_pdu_parse(pdu, plen, &parsed) < 0) {
		l->ctr.frames_bad++;
		return;
	}
	if (!link_peer_allowed(l, src)) {
		/* Not even an END: a node outside the list learns nothing. */
		l->ctr.frames_unknown_peer++;
		return;
	}
	struct link_peer *p = peer_find(l, src);
	if (!p) {
		/* Only a BGN makes a new association; anything else from a
		 * stranger is state from before our restart: end it. */
		l->ctr.frames_unknown_peer++;
		if (parsed.type == SSCOP_PDU_BGN) {
			p = peer_create(l, src, false);
		} else if (parsed.type == SSCOP_PDU_SD || parsed.type == SSCOP_PDU_POLL ||
			   parsed.type == SSCOP_PDU_STAT || parsed.type == SSCOP_PDU_USTAT) {
			uint8_t end[8];
			size_t n = sscop_build_end(end, sizeof(end), true);
			link_transmit(l, src, end, n);
		}
		if (!p)
			return;
	}
	PEER_CALL(p, sscop_receive(p->sscop, pdu, plen); backlog_flush(p));
}

static void link_readable(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_ll from[RX_BATCH];
	memset(from, 0, sizeof(from));
	/* Bounded, so one busy link cannot starve the rest of the loop. */
	for (int round = 0; round < 16; round++) {
		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = l->rx_bufs[i];
			iov[i].iov_len = RX_BUF_SIZE;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		int n = recvmmsg(l->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("link: recvmmsg: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			/* our own frames and frames for others (promiscuous) */
			if (from[i].sll_pkttype == PACKET_OUTGOING ||
			    from[i].sll_pkttype == PACKET_OTHERHOST)
				continue;
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				l->ctr.frames_rx++;
				l->ctr.frames_bad++;
				continue;
			}
			link_frame_in(l, l->rx_bufs[i], msgs[i].msg_len);
		}
		if (n < RX_BATCH)
			return;
	}
}

/* Frees associations idle since the last sweep (and not busy). */
static void link_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;
	for (size_t i = 0; i < l->n_peers;) {
		struct link_peer *p = l->peers[i];
		if (p->busy || !peer_idle(p)) {
			p->idle_seen = false;
			i++;
			continue;
		}
		if (!p->idle_seen) {
			p->idle_seen = true;
			i++;
			continue;
		}
		l->ctr.peers_idle_freed++;
		peer_remove(l, i);
	}
}

/* ------------------------------------------------------------------ */
/* link.h                                                              */

int link_packet_socket(const char *ifname, int type, uint16_t ethertype)
{
	int ifindex = (int)if_nametoindex(ifname);
	if (ifindex == 0)
		return -1;
	/* Protocol 0 until bound, so no frame of another interface slips in. */
	int fd = socket(AF_PACKET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ethertype);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

bool link_packet_socket_is(int fd, int ifindex, int type, uint16_t ethertype)
{
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	socklen_t len = sizeof(sll);
	int t = 0;
	socklen_t tlen = sizeof(t);
	return getsockname(fd, (struct sockaddr *)&sll, &len) == 0 &&
	       len >= offsetof(struct sockaddr_ll, sll_addr) &&
	       sll.sll_family == AF_PACKET && sll.sll_ifindex == ifindex &&
	       sll.sll_protocol == htons(ethertype) &&
	       getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &tlen) == 0 && t == type;
}

int link_socket(const char *ifname)
{
	int fd = link_packet_socket(ifname, SOCK_RAW, LINK_ETHERTYPE);
	if (fd < 0)
		return -1;
	int one = 1;
#ifdef PACKET_IGNORE_OUTGOING
	/* not fatal: the receive path filters PACKET_OUTGOING as well */
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
#else
	(void)one;
#endif
	return fd;
}

struct link *link_open(struct event_base *base, const char *ifname,
		       const struct link_config *cfg, const struct link_ops *ops, void *ctx)
{
	int fd = link_socket(ifname);
	if (fd < 0)
		return NULL;
	return link_open_fd(base, ifname, fd, cfg, ops, ctx);
}

struct link *link_open_fd(struct event_base *base, const char *ifname, int fd,
			  const struct link_config *cfg, const struct link_ops *ops, void *ctx)
{
	int saved;
	struct link *l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	l->fd = fd;
	l->base = base;
	l->ops = *ops;
	l->ctx = ctx;
	/* zero fields take their defaults, so callers may fill in only some */
	link_config_defaults(&l->cfg);
	if (cfg) {
#define TAKE(f) (l->cfg.f = cfg->f ? cfg->f : l->cfg.f)
		TAKE(timer_cc_ms);
		TAKE(max_cc);
		TAKE(timer_poll_ms);
		TAKE(timer_keepalive_ms);
		TAKE(timer_noresponse_ms);
		TAKE(timer_idle_ms);
		TAKE(max_queue);
		TAKE(max_backlog);
#undef TAKE
		l->cfg.n_allowed = cfg->n_allowed < LINK_MAX_ALLOWED ? cfg->n_allowed
								     : LINK_MAX_ALLOWED;
		memcpy(l->cfg.allowed, cfg->allowed, sizeof(l->cfg.allowed));
	}
	l->rx_budget.limit = LINK_RX_BUDGET;
	l->rx_bufs = malloc(RX_BATCH * sizeof(*l->rx_bufs));
	if (!l->rx_bufs)
		goto fail;
	l->gone_ev = event_new(base, -1, 0, link_tell_gone, l);
	if (!l->gone_ev)
		goto fail;
	l->sweep_ev = event_new(base, -1, EV_PERSIST, link_sweep, l);
	struct timeval sweep_tv = { .tv_sec = LINK_IDLE_FREE_S, .tv_usec = 0 };
	if (!l->sweep_ev || event_add(l->sweep_ev, &sweep_tv) < 0) {
		errno = ENOMEM;
		goto fail;
	}
	l->ifindex = (int)if_nametoindex(ifname);
	if (l->ifindex == 0)
		goto fail;
	if (!link_packet_socket_is(l->fd, l->ifindex, SOCK_RAW, LINK_ETHERTYPE)) {
		errno = ENOTSOCK;
		goto fail;
	}
	int fl = fcntl(l->fd, F_GETFL);
	if (fl < 0 || fcntl(l->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		goto fail;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(l->fd, SIOCGIFHWADDR, &ifr) < 0)
		goto fail;
	memcpy(l->mac, ifr.ifr_hwaddr.sa_data, 6);
	l->rx_ev = event_new(base, l->fd, EV_READ | EV_PERSIST, link_readable, l);
	if (!l->rx_ev || event_add(l->rx_ev, NULL) < 0) {
		errno = ENOMEM;
		goto fail;
	}
	log_info("link: %s (ifindex %d) %02x:%02x:%02x:%02x:%02x:%02x", ifname, l->ifindex,
		 l->mac[0], l->mac[1], l->mac[2], l->mac[3], l->mac[4], l->mac[5]);
	return l;
fail:
	saved = errno ? errno : EINVAL;
	link_close(l);
	errno = saved;
	return NULL;
}

void link_close(struct link *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_peers; i++)
		peer_free(l->peers[i]);
	free(l->peers);
	if (l->sweep_ev)
		event_free(l->sweep_ev);
	if (l->gone_ev)
		event_free(l->gone_ev);
	free(l->gone);
	if (l->rx_ev)
		event_free(l->rx_ev);
	if (l->fd >= 0)
		close(l->fd);
	free(l->rx_bufs);
	free(l);
}

void link_release_all(struct link *l)
{
	/* Callbacks may add peers while we walk, so walk a snapshot of MACs. */
	size_t n = l->n_peers;
	uint8_t(*macs)[6] = malloc((n ? n : 1) * sizeof(*macs));
	if (!macs)
		log_oom("the list of associations to release");
	for (size_t i = 0; i < n; i++)
		memcpy(macs[i], l->peers[i]->mac, 6);
	for (size_t i = 0; i < n; i++) {
		struct link_peer *p = peer_find(l, macs[i]);
		if (p)
			PEER_CALL(p, sscop_release(p->sscop));
	}
	free(macs);
}

void link_own_mac(const struct link *l, uint8_t mac[6])
{
	memcpy(mac, l->mac, 6);
}

void link_establish(struct link *l, const uint8_t mac[6])
{
	if (!link_peer_allowed(l, mac))
		return;
	struct link_peer *p = peer_create(l, mac, true);
	if (!p)
		return;
	enum sscop_state st = sscop_get_state(p->sscop);
	if (st == SSCOP_IDLE || st == SSCOP_OUT_DISC_PENDING)
		PEER_CALL(p, sscop_establish(p->sscop));
}

bool link_peer_allowed(const struct link *l, const uint8_t mac[6])
{
	return l->cfg.n_allowed == 0 || peer_configured(l, mac);
}

int link_send(struct link *l, const uint8_t mac[6], const uint8_t *msg, size_t len)
{
	if (!link_peer_allowed(l, mac))
		return -EPERM;
	if (len == 0 || len > SSCOP_MAX_SDU)
		return -EMSGSIZE;
	uint64_t refused = l->ctr.peers_refused;
	struct link_peer *p = peer_create(l, mac, true);
	if (!p)
		return l->ctr.peers_refused != refused ? -ENOSPC : -ENOMEM;
	int rc;
	p->busy++;
	enum sscop_state st = sscop_get_state(p->sscop);
	if (st == SSCOP_IDLE || st == SSCOP_OUT_DISC_PENDING)
		sscop_establish(p->sscop);
	/* behind a backlog a message waits its turn, whatever SSCOP would take */
	rc = p->bl_head ? -ENOBUFS : sscop_send(p->sscop, msg, len);
	if (rc == -ENOBUFS && p->bl_bytes >= (uint64_t)LINK_BACKLOG_FAIL * l->cfg.max_backlog) {
		/*
		 * Set-up stopped at max_backlog, so only a peer that keeps
		 * talking while it never opens its window gets here: it is
		 * not taking what we send, and the association is failed
		 * like one that went silent (call control recovers, T309).
		 */
		log_at(LOG_WARNING, 0, 0, mac,
		       "link: backlog of %u messages not drained; ending the association",
		       (unsigned)p->bl_n);
		sscop_release(p->sscop);
		rc = -EIO;
	} else if (rc == -ENOBUFS) {
		rc = backlog_push(p, msg, len);
	}
	p->busy--;
	if (rc == -ENOTCONN)
		return -EIO;
	return rc;
}

bool link_busy(const struct link *l, const uint8_t mac[6])
{
	const struct link_peer *p = peer_find(l, mac);
	return p && p->bl_bytes >= l->cfg.max_backlog;
}

size_t link_peers(const struct link *l, struct link_peer_info *out, size_t max)
{
	return link_peers_after(l, NULL, out, max);
}

size_t link_peers_after(const struct link *l, const uint8_t *after, struct link_peer_info *out,
			size_t max)
{
	size_t first = 0;
	if (after) {
		bool found;
		first = peer_search(l, after, &found);
		first += found;
	}
	size_t n = 0;
	for (; first + n < l->n_peers && n < max; n++) {
		const struct link_peer *p = l->peers[first + n];
		struct sscop_stats st;
		sscop_get_stats(p->sscop, &st);
		struct link_peer_info *o = &out[n];
		memset(o, 0, sizeof(*o));
		memcpy(o->mac, p->mac, 6);
		o->state = sscop_state_name(sscop_get_state(p->sscop));
		o->sd_tx = st.sd_tx;
		o->sd_rx = st.sd_rx;
		o->retransmits = st.retransmits;
		o->polls = st.polls;
		o->stats = st.stats;
		o->ustats = st.ustats;
		o->establishments = st.establishments;
		o->failures = st.failures;
		o->queued = sscop_queued(p->sscop);
		o->backlog = p->bl_n;
		o->backlog_bytes = p->bl_bytes;
	}
	return n;
}

void link_get_counters(const struct link *l, struct link_counters *out)
{
	*out = l->ctr;
	out->peers = l->n_peers;
	out->rx_buffered = l->rx_budget.used;
}
