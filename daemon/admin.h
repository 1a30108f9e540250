/* SPDX-License-Identifier: MIT */
/*
 * The admin views (cmctl status, vc list, vc show, link list, stats): each
 * reply is built from call control's read-only views and what the source
 * hooks tell about sessions and links, and handed to src->send.  No ipc
 * and no link here, so tests can run them on a bare cc.
 */
#ifndef CALLMGR_DAEMON_ADMIN_H
#define CALLMGR_DAEMON_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callmgr.pb-c.h"
#include "cc/cc.h"
#include "ipc/ipc.h"
#include "link/link.h"

/* Page sizes: a reply stays far below the frame limit. */
#define ADMIN_VC_PAGE_DEFAULT 1000u
#define ADMIN_VC_PAGE_MAX 2000u
#define ADMIN_PARTY_PAGE_MAX 500u
#define ADMIN_LINK_PAGE_MAX 512u
/* VCs one ListVcs of a client reading only its own looks at, per VC asked */
#define ADMIN_OWN_SCAN_FACTOR 4u

struct admin_data_counters {
	uint64_t sdus, octets, lost;
};
struct admin_data_stats {
	uint64_t sdus_in, octets_in, sdus_out, octets_out, sdus_lost, sdus_dropped;
	uint64_t frames_dropped, fds;
	uint64_t frames_kernel_dropped;
};

struct admin_src {
	const cc *cc;
	bool local_mode;           /* no link: link_peers and link_counters are not called */
	const char *interface;     /* wire mode's, else "" */
	const uint8_t *prefix;     /* 13 octets */
	const uint8_t *esi;        /* 6 octets */
	void *ctx;                 /* for every hook */
	uint64_t (*uptime_ms)(void *ctx);
	/* a live session's uid; UINT32_MAX when it is gone */
	uint32_t (*session_uid)(void *ctx, uint64_t session);
	/* whether the session may read others' VCs (root, admin or operator group) */
	bool (*session_reads_all)(void *ctx, uint64_t session);
	void (*ipc_stats)(void *ctx, struct ipc_stats *out);
	/* up to max peers in MAC order from the first above *after (NULL: all) */
	size_t (*link_peers)(void *ctx, const uint8_t *after, struct link_peer_info *out,
			     size_t max);
	void (*link_counters)(void *ctx, struct link_counters *out);
	/* the reply (m->req_id set), or an Error */
	void (*send)(void *ctx, uint64_t session, Callmgr__DaemonMsg *m);
	void (*error)(void *ctx, uint64_t session, uint64_t req_id, int status, const char *text);
	/* The data path's counters (docs/data-path.md); NULL: none to show. */
	void (*data_party)(void *ctx, cm_vc_id vc, cm_party_id party,
			   struct admin_data_counters *out);
	void (*data_stats)(void *ctx, struct admin_data_stats *out);
};

/*
 * Answer m if it is an admin read (GetStatus, ListVcs, ShowVc, ListLinks,
 * GetStats) and return true; false for anything else.  Out of memory and
 * an unknown VC are answered with an Error (CM_E_NOMEM, CM_E_NO_VC).
 */
bool admin_answer(const struct admin_src *src, uint64_t session, const Callmgr__ClientMsg *m);

/* systemd's STATUS= line: sessions, VCs, parties, links up. */
void admin_status_text(const struct admin_src *src, char *buf, size_t len);

#endif
