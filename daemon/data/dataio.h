/* SPDX-License-Identifier: MIT */
/*
 * The data path's I/O edge (docs/data-path.md): one SOCK_SEQPACKET pair per
 * VC end whose client asked for its descriptor; SDUs read from a root's end
 * and written to the ends of the leaves that call control says are active
 * at that instant (cc_vc_receivers()); end of file for a leaf whose party
 * ended.  It keeps no membership of its own and queues no SDU: one SDU
 * buffer, non-blocking writes, losses counted per party.
 *
 * Remote parties go through the wire hook (the daemon's data link); without
 * one an SDU for a remote party counts as lost.
 */
#ifndef CALLMGR_DATAIO_H
#define CALLMGR_DATAIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cc/cc.h"

struct event_base;
struct dataio;

/* SDUs per leaf end the daemon lets queue before it counts losses. */
#define DATAIO_LEAF_SDUS 64
/* SDUs read from one root per readiness callback, so that roots take turns. */
#define DATAIO_ROOT_BUDGET 64

struct dataio_hooks {
	/*
	 * Send one SDU of root VC vc to a remote receiver (r->peer, r->leg).
	 * 0: sent; -EAGAIN: no room now (counted as lost); another negative
	 * errno: refused (counted as lost).  NULL: remote receivers lose
	 * every SDU.
	 */
	int (*wire_send)(void *ctx, cm_vc_id vc, const struct cc_receiver *r, const uint8_t *sdu,
			 size_t len);
	/*
	 * -EAGAIN from wire_send means nothing was sent and the wire has no
	 * room now: the root waits (its descriptor is not read) until
	 * wire_wait's readiness comes back as dataio_wire_writable().
	 * wire_room waits at most ms for room, for a drain that must not
	 * return before the root's SDUs are out.  NULL: never asked.
	 */
	void (*wire_wait)(void *ctx);
	bool (*wire_room)(void *ctx, int ms);
	void *ctx;
};

struct dataio *dataio_new(struct event_base *base, cc *callctl, const struct dataio_hooks *hooks);
/* Closes every daemon end: every client descriptor reads end of file. */
void dataio_free(struct dataio *d);

/*
 * GetDataFd from session for vc.  CM_OK and *client_fd (the end to pass,
 * the caller owns it), or CM_E_NO_VC (unknown or not this session's),
 * CM_E_STATE (not active), CM_E_BUSY (already given out), CM_E_LIMIT (out
 * of descriptors), CM_E_NOMEM.
 */
int dataio_open(struct dataio *d, uint64_t session, cm_vc_id vc, int *client_fd);

/*
 * Read and forward every SDU already waiting in vc's root end (nothing
 * when it has none): before call control sees a request that names vc, so
 * what the root wrote before it goes out first.
 */
void dataio_drain(struct dataio *d, cm_vc_id vc);
/* The same for every root end of a session (before its end is fed). */
void dataio_drain_session(struct dataio *d, uint64_t session);

/*
 * Call control changed vc (a client event about it was delivered):
 * a leaf end whose party is no longer active, or party_gone (the owner was
 * told the party is gone), gets end of file; a root end of a VC that is
 * closing stops taking SDUs (EPIPE at the client), and of a VC that is
 * gone gets end of file.
 */
void dataio_vc_changed(struct dataio *d, cm_vc_id vc, bool party_gone);
/* A root's party is gone: its counters go too (they would grow with churn). */
void dataio_party_gone(struct dataio *d, cm_vc_id vc, cm_party_id party);
/* The session is gone: close all its ends. */
void dataio_session_closed(struct dataio *d, uint64_t session);

/* The wire has room again: SDUs owed to legs go out, and their roots are read again. */
void dataio_wire_writable(struct dataio *d);

/* Deliver one SDU that arrived for a leaf VC on this node (the wire's receive side). */
void dataio_deliver(struct dataio *d, cm_vc_id leaf_vc, const uint8_t *sdu, size_t len);
/*
 * n SDUs for leaf_vc were lost on the way in (the wire side counts them in
 * its own total): they count in its party's losses, not in sdus_lost.
 */
void dataio_missed(struct dataio *d, cm_vc_id leaf_vc, uint64_t n);

struct dataio_counters {
	uint64_t sdus, octets, lost;
};
/*
 * The data counters of party of vc: for a root VC counted per party as it
 * forwards, for a leaf VC its end's.  Zero when nothing was counted.
 */
void dataio_party_counters(const struct dataio *d, cm_vc_id vc, cm_party_id party,
			   struct dataio_counters *out);

struct dataio_stats {
	uint64_t sdus_in, octets_in;    /* read from root ends */
	uint64_t sdus_out, octets_out;  /* written to leaf ends */
	uint64_t sdus_lost;             /* a leaf end full, or the wire refused */
	uint64_t sdus_dropped;          /* read but not forwarded: oversize or empty */
	uint64_t fds;                   /* daemon ends open now */
};
void dataio_get_stats(const struct dataio *d, struct dataio_stats *out);

#endif
