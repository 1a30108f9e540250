/* SPDX-License-Identifier: MIT */
/*
 * The link layer: one AF_PACKET socket on one interface (EtherType 0x88B5)
 * and one SSCOP association (Q.2110) per peer MAC, giving call control
 * reliable, in-order delivery of Q.2931 messages.
 *
 * Associations are made on demand: link_send() to a peer without one starts
 * establishment (BGN) and queues the message.  Up/down changes and received
 * messages are reported through struct link_ops.  The SSCOP machine itself
 * lives in sscop.c and is pure; this module is its I/O edge.
 */
#ifndef CALLMGR_LINK_H
#define CALLMGR_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

#define LINK_ETHERTYPE 0x88B5
#define LINK_MAX_ALLOWED 64

/*
 * Bounds of the peer table (docs/security.md "Link").  Peers a stranger's
 * BGN creates may fill LINK_MAX_STRANGERS entries; the rest is kept for
 * peers we call ourselves (link_send, link_establish) and allowed_peers.
 * A full table makes room by freeing an idle association, then the oldest
 * unproven one (see sscop_peer_proven); a proven or configured peer is
 * never displaced.  Idle associations are freed after LINK_IDLE_FREE_S.
 */
#define LINK_MAX_PEERS 4096
#define LINK_MAX_STRANGERS 3072
#define LINK_IDLE_FREE_S 30
/* Out-of-order SD octets buffered for all peers together. */
#define LINK_RX_BUDGET (16u << 20)

struct link_config {
	uint32_t timer_cc_ms;          /* BGN/END retransmission (default 1000) */
	uint32_t max_cc;               /* BGN/END sends before giving up (default 4) */
	uint32_t timer_poll_ms;        /* while SDs are outstanding (default 750) */
	uint32_t timer_keepalive_ms;   /* idle poll interval (default 2000) */
	uint32_t timer_noresponse_ms;  /* no STAT at all: link failed (default 7000) */
	uint32_t timer_idle_ms;        /* (default 15000) */
	uint32_t max_queue;            /* messages in SSCOP's own queue per peer (default 256) */
	/*
	 * Octets of messages held per peer behind a full SSCOP queue before
	 * link_busy() says so (default 8 MiB).  Never a reason to refuse a
	 * message: the backlog takes every message link_send() is given.
	 */
	uint32_t max_backlog;
	/* Peers allowed to associate; none listed: any peer (issue #7). */
	uint8_t allowed[LINK_MAX_ALLOWED][6];
	size_t n_allowed;
};
void link_config_defaults(struct link_config *cfg);

struct link_ops {
	/* One SD payload (a Q.2931 message), in order, from peer mac. */
	void (*deliver)(void *ctx, const uint8_t mac[6], const uint8_t *msg, size_t len);
	/* The association with mac became established (up) or failed/ended. */
	void (*state)(void *ctx, const uint8_t mac[6], bool up);
};

struct link;

/*
 * An AF_PACKET socket of type (SOCK_RAW, SOCK_DGRAM) bound to ifname and
 * ethertype, non-blocking, close-on-exec (needs CAP_NET_RAW); or -1 and
 * errno.  link_socket() and datalink_socket() are made with it.
 */
int link_packet_socket(const char *ifname, int type, uint16_t ethertype);
/* Whether fd is what link_packet_socket() makes for that interface index, type and ethertype. */
bool link_packet_socket_is(int fd, int ifindex, int type, uint16_t ethertype);

/*
 * The one privileged step: an AF_PACKET socket bound to ifname and the
 * EtherType (needs CAP_NET_RAW).  The descriptor, or -1 and errno set.
 * Nothing the link does with it later needs a capability.
 */
int link_socket(const char *ifname);
/*
 * The link on fd, a socket link_socket(ifname) made (perhaps in an earlier
 * image of the process: it is checked).  Takes fd; NULL and errno set on
 * failure, fd closed.
 */
struct link *link_open_fd(struct event_base *base, const char *ifname, int fd,
			  const struct link_config *cfg, const struct link_ops *ops, void *ctx);
/* link_socket() and link_open_fd() in one. */
struct link *link_open(struct event_base *base, const char *ifname,
		       const struct link_config *cfg, const struct link_ops *ops, void *ctx);
void link_close(struct link *l);
/* Release every association (END) and flush; used at shutdown. */
void link_release_all(struct link *l);
void link_own_mac(const struct link *l, uint8_t mac[6]);

/* Start establishing the association with mac unless it is up or coming up
 * (Q.2931 §5.6.10: re-establish the SAAL while T309 runs). */
void link_establish(struct link *l, const uint8_t mac[6]);

/* Whether mac may associate with us (the allowed_peers list). */
bool link_peer_allowed(const struct link *l, const uint8_t mac[6]);

/*
 * Queue one message for mac.  Never refused for a full queue: past
 * max_queue messages in SSCOP's queue the message waits in the peer's
 * backlog, and the backlog is fed to SSCOP, in order, as the peer's
 * acknowledgements open the window (back-pressure the sender sees through
 * link_busy()).  Like SSCOP's own queue, the backlog is discarded when the
 * association goes down.  A backlog that reaches four times max_backlog
 * means a peer that talks but does not take what it is sent: its
 * association is ended as failed (call control recovers as from any link
 * failure).  Returns 0, or -EPERM (mac not allowed), -ENOSPC (no room in
 * the peer table), -EMSGSIZE, -EIO (no
 * association can be had, or it was just ended), -ENOMEM (out of memory:
 * the message is lost and the caller must treat it as fatal).
 */
int link_send(struct link *l, const uint8_t mac[6], const uint8_t *msg, size_t len);

/*
 * Whether mac's backlog holds max_backlog octets or more: new work for it
 * (a set-up) should wait; what is already under way still goes through
 * link_send().
 */
bool link_busy(const struct link *l, const uint8_t mac[6]);

struct link_peer_info {
	uint8_t mac[6];
	const char *state;     /* "idle", "outgoing", "ready", "releasing", ... */
	uint64_t sd_tx, sd_rx, retransmits, polls, stats, ustats, establishments, failures;
	uint32_t queued;
	uint32_t backlog;      /* messages in the backlog behind SSCOP's queue */
	uint64_t backlog_bytes;
};
/* Up to max peers, returns the count (in MAC order). */
size_t link_peers(const struct link *l, struct link_peer_info *out, size_t max);
/* The same from the first MAC above *after (NULL: from the first): a page
 * costs O(log n + max), for cmctl link list's paging. */
size_t link_peers_after(const struct link *l, const uint8_t *after, struct link_peer_info *out,
			size_t max);

struct link_counters {
	/* frames_unknown_peer: from a MAC with no association, or not allowed */
	uint64_t frames_rx, frames_tx, frames_bad, frames_unknown_peer;
	/* frames_group_src: a group (I/G bit) source MAC, never a peer */
	uint64_t frames_group_src;
	/* peers_evicted: freed to make room; peers_refused: no room for a BGN
	 * or a call of ours; peers_idle_freed: by the idle sweep */
	uint64_t peers_evicted, peers_refused, peers_idle_freed;
	size_t peers;              /* entries now */
	size_t rx_buffered;        /* out-of-order SD octets held now */
};
void link_get_counters(const struct link *l, struct link_counters *out);

#endif
