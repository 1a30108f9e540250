/* SPDX-License-Identifier: MIT */
/*
 * The data path on the wire (docs/wire.md, "Data frames"): one AF_PACKET
 * socket on EtherType 0x88B6 beside the signalling link's.  Sends a root's
 * SDU once per leg, cut into frames labelled with the leg's connection
 * identifier; receives frames, drops those from peers outside
 * allowed_peers or with a label no leaf leg of this node has, reassembles
 * per leg (frame.c) and hands whole SDUs to dataio for the leg's active
 * leaf VCs.
 */
#ifndef CALLMGR_DATALINK_H
#define CALLMGR_DATALINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cc/cc.h"
#include "data/dataio.h"

struct event_base;
struct datalink;

/* How long an SDU may take to arrive whole; its fragments are then dropped. */
#define DATALINK_REASM_MS 500

struct datalink_counters {
	uint64_t frames_tx, frames_rx;
	uint64_t sdus_tx, sdus_rx;
	uint64_t tx_refused;      /* a frame the socket did not take: its SDU is lost */
	uint64_t rx_bad;          /* does not parse */
	uint64_t rx_unknown_peer; /* from a MAC outside allowed_peers */
	uint64_t rx_unknown_label;/* no leaf leg of ours has that label (stale or forged) */
	/*
	 * SDUs lost on the way in (the wire, the kernel, reassembly: gap, crc,
	 * length, oversize, timeout), by the sequence numbers a delivered SDU
	 * skipped: losses after a leg's last delivered SDU are not seen
	 */
	uint64_t rx_lost;
	uint64_t rx_kernel_dropped; /* frames the kernel dropped: the socket's receive buffer was full */
};

/*
 * The data socket of ifname (AF_PACKET, EtherType 0x88B6, bound), or -1
 * and errno.  Opened with the link socket, while the daemon still has
 * CAP_NET_RAW (daemon/privs.h).
 */
int datalink_socket(const char *ifname);

/*
 * The data path on fd, a socket from datalink_socket(ifname) (checked: an
 * inherited descriptor may be anything), which it takes.  allowed(ctx, mac)
 * says whether a peer is in allowed_peers.  NULL and errno on failure.
 */
struct datalink *datalink_open_fd(struct event_base *base, const char *ifname, int fd,
				  cc *callctl, struct dataio *dio,
				  bool (*allowed)(void *ctx, const uint8_t mac[6]), void *ctx);
void datalink_close(struct datalink *dl);

/*
 * dataio's wire hook: send one SDU of root VC vc on receiver r's leg.
 * -EAGAIN, with nothing sent, when the socket's send buffer has no room
 * for all its frames: the caller waits (datalink_wait_writable) and tries
 * again, so a root faster than the interface is throttled, not cut.
 */
int datalink_send(struct datalink *dl, cm_vc_id vc, const struct cc_receiver *r,
		  const uint8_t *sdu, size_t len);
/* Call cb(ctx) once, when the socket has room again. */
void datalink_wait_writable(struct datalink *dl, void (*cb)(void *ctx), void *ctx);
/* Wait at most ms for room; true if there is. */
bool datalink_wait_room(struct datalink *dl, int ms);

/*
 * Read every frame waiting now: before a signalling message is handed to
 * call control, so data sent before a DROP PARTY or RELEASE is delivered
 * before the party ends.
 */
void datalink_drain(struct datalink *dl);

/*
 * The counters; rx_kernel_dropped as of now (the kernel's count is read
 * and added up here and every sweep, since reading it resets it).
 */
void datalink_get_counters(struct datalink *dl, struct datalink_counters *out);

#endif
