/* SPDX-License-Identifier: MIT */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callmgr-build.h"

static void reply(const struct admin_src *src, uint64_t session, uint64_t req_id,
		  Callmgr__DaemonMsg *m)
{
	m->req_id = req_id;
	src->send(src->ctx, session, m);
}

/*
 * One reply's worth of rows: the source's rows (one more than a page, to
 * know whether there are more), the protobuf messages and their pointers.
 */
struct page {
	void *rows, *infos, *ptrs;
};

static void page_free(struct page *pg)
{
	free(pg->rows);
	free(pg->infos);
	free(pg->ptrs);
}

/* false, the asker told CM_E_NOMEM and nothing held, when memory is short */
static bool page_alloc(const struct admin_src *src, uint64_t session, uint64_t req_id,
		       struct page *pg, size_t rows, size_t row_size, size_t n, size_t info_size)
{
	pg->rows = calloc(rows, row_size);
	pg->infos = calloc(n, info_size);
	pg->ptrs = calloc(n, sizeof(void *));
	if (pg->rows && pg->infos && pg->ptrs)
		return true;
	page_free(pg);
	src->error(src->ctx, session, req_id, CM_E_NOMEM, "out of memory");
	return false;
}

static void counts(const struct admin_src *src, struct cc_stats *cs, struct ipc_stats *is)
{
	cc_get_stats(src->cc, cs);
	src->ipc_stats(src->ctx, is);
}

static uint64_t links_up(const struct admin_src *src)
{
	uint64_t up = 0;
	if (src->local_mode)
		return 0;
	struct link_peer_info *p = calloc(ADMIN_LINK_PAGE_MAX, sizeof(*p));
	if (!p)
		return 0;
	/* the whole table (LINK_MAX_PEERS), a page at a time */
	size_t n = src->link_peers(src->ctx, NULL, p, ADMIN_LINK_PAGE_MAX);
	while (n) {
		for (size_t i = 0; i < n; i++)
			up += strcmp(p[i].state, "ready") == 0;
		uint8_t after[6];
		memcpy(after, p[n - 1].mac, 6);
		n = n == ADMIN_LINK_PAGE_MAX ? src->link_peers(src->ctx, after, p, ADMIN_LINK_PAGE_MAX)
					     : 0;
	}
	free(p);
	return up;
}

void admin_status_text(const struct admin_src *src, char *buf, size_t len)
{
	struct cc_stats cs;
	struct ipc_stats is;
	counts(src, &cs, &is);
	snprintf(buf, len, "%llu sessions, %llu VCs, %llu parties, %llu links up",
		 (unsigned long long)is.sessions, (unsigned long long)cs.vcs,
		 (unsigned long long)cs.parties, (unsigned long long)links_up(src));
}

static void vc_info_fill(const struct admin_src *src, Callmgr__VcInfo *o,
			 const struct cc_vc_info *v)
{
	o->vc = v->vc;
	o->session = v->session;
	o->owner_uid = src->session_uid(src->ctx, v->session);
	o->root = v->root;
	/* the proto enum numbers are call control's own (tests/daemon checks) */
	o->state = (Callmgr__VcState)v->state;
	o->parties = v->n_parties;
	o->legs = v->n_legs;
}

static void answer_status(const struct admin_src *src, uint64_t session, uint64_t req_id)
{
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__StatusReply r = CALLMGR__STATUS_REPLY__INIT;
	struct cc_stats cs;
	struct ipc_stats is;
	counts(src, &cs, &is);
	r.daemon_version = (char *)CALLMGR_VERSION;
	r.local_mode = src->local_mode;
	r.interface = (char *)(src->interface ? src->interface : "");
	r.prefix.data = (uint8_t *)src->prefix;
	r.prefix.len = 13;
	r.esi.data = (uint8_t *)src->esi;
	r.esi.len = 6;
	r.uptime_ms = src->uptime_ms(src->ctx);
	r.sessions = is.sessions;
	r.vcs = cs.vcs;
	r.parties = cs.parties;
	r.links_up = links_up(src);
	m.body_case = CALLMGR__DAEMON_MSG__BODY_STATUS;
	m.status = &r;
	reply(src, session, req_id, &m);
}

static void answer_list_vcs(const struct admin_src *src, uint64_t session, uint64_t req_id,
			    const Callmgr__ListVcs *q)
{
	uint32_t max = q->max ? q->max : ADMIN_VC_PAGE_DEFAULT;
	if (max > ADMIN_VC_PAGE_MAX)
		max = ADMIN_VC_PAGE_MAX;
	struct page pg;
	if (!page_alloc(src, session, req_id, &pg, (size_t)max + 1, sizeof(struct cc_vc_info), max,
			sizeof(Callmgr__VcInfo)))
		return;
	struct cc_vc_info *v = pg.rows;
	Callmgr__VcInfo *infos = pg.infos, **ptrs = pg.ptrs;
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__VcList l = CALLMGR__VC_LIST__INIT;
	size_t n;
	if (src->session_reads_all(src->ctx, session)) {
		n = cc_vc_list(src->cc, q->after, v, (size_t)max + 1);
		l.more = n > max;
	} else {
		/* only the asker's own, looking at a bounded number of VCs */
		cm_vc_id next;
		n = cc_vc_list_owned(src->cc, q->after, src->session_uid(src->ctx, session), v,
				     (size_t)max + 1, (size_t)max * ADMIN_OWN_SCAN_FACTOR, &next);
		l.more = n > max || next != 0;
		l.next_after = n > max ? v[max - 1].vc : next;
	}
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		callmgr__vc_info__init(&infos[i]);
		vc_info_fill(src, &infos[i], &v[i]);
		ptrs[i] = &infos[i];
	}
	l.n_vcs = n;
	l.vcs = ptrs;
	m.body_case = CALLMGR__DAEMON_MSG__BODY_VC_LIST;
	m.vc_list = &l;
	reply(src, session, req_id, &m);
	page_free(&pg);
}

static void answer_show_vc(const struct admin_src *src, uint64_t session, uint64_t req_id,
			   const Callmgr__ShowVc *q)
{
	struct cc_vc_info vi;
	if (cc_vc_get(src->cc, q->vc, &vi) != CM_OK) {
		char text[48];
		snprintf(text, sizeof(text), "no VC %llu", (unsigned long long)q->vc);
		src->error(src->ctx, session, req_id, CM_E_NO_VC, text);
		return;
	}
	if (!src->session_reads_all(src->ctx, session) &&
	    vi.uid != src->session_uid(src->ctx, session)) {
		char text[64];
		snprintf(text, sizeof(text), "VC %llu is another user's", (unsigned long long)q->vc);
		src->error(src->ctx, session, req_id, CM_E_PERM, text);
		return;
	}
	struct page pg;
	if (!page_alloc(src, session, req_id, &pg, ADMIN_PARTY_PAGE_MAX + 1,
			sizeof(struct cc_party_info), ADMIN_PARTY_PAGE_MAX, sizeof(Callmgr__PartyInfo)))
		return;
	struct cc_party_info *p = pg.rows;
	Callmgr__PartyInfo *infos = pg.infos, **ptrs = pg.ptrs;
	size_t n = cc_party_list(src->cc, q->vc, q->after, p, ADMIN_PARTY_PAGE_MAX + 1);
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__VcDetail det = CALLMGR__VC_DETAIL__INIT;
	Callmgr__VcInfo info = CALLMGR__VC_INFO__INIT;
	vc_info_fill(src, &info, &vi);
	det.vc = &info;
	det.more = n > ADMIN_PARTY_PAGE_MAX;
	if (n > ADMIN_PARTY_PAGE_MAX)
		n = ADMIN_PARTY_PAGE_MAX;
	for (size_t i = 0; i < n; i++) {
		Callmgr__PartyInfo *o = &infos[i];
		callmgr__party_info__init(o);
		o->party = p[i].party;
		o->state = (Callmgr__PartyState)p[i].state;
		o->addr.data = p[i].addr;
		o->addr.len = Q_AESA_LEN;
		o->peer.data = p[i].peer.a;
		o->peer.len = 6;
		o->cref = p[i].cref;
		o->epref = p[i].epref;
		o->call_state = (Callmgr__CallState)p[i].call_state;
		o->timer = (Callmgr__Timer)p[i].timer;
		if (src->data_party) {
			struct admin_data_counters dc;
			src->data_party(src->ctx, vi.vc, p[i].party, &dc);
			o->data_sdus = dc.sdus;
			o->data_octets = dc.octets;
			o->data_lost = dc.lost;
		}
		ptrs[i] = o;
	}
	det.n_parties = n;
	det.parties = ptrs;
	m.body_case = CALLMGR__DAEMON_MSG__BODY_VC_DETAIL;
	m.vc_detail = &det;
	reply(src, session, req_id, &m);
	page_free(&pg);
}

static void answer_list_links(const struct admin_src *src, uint64_t session, uint64_t req_id,
			      const Callmgr__ListLinks *q)
{
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__LinkList l = CALLMGR__LINK_LIST__INIT;
	m.body_case = CALLMGR__DAEMON_MSG__BODY_LINK_LIST;
	m.link_list = &l;
	if (src->local_mode) {
		reply(src, session, req_id, &m);
		return;
	}
	uint32_t max = q->max && q->max < ADMIN_LINK_PAGE_MAX ? q->max : ADMIN_LINK_PAGE_MAX;
	if (q->after.len != 0 && q->after.len != 6) {
		src->error(src->ctx, session, req_id, CM_E_INVAL, "after: not a 6-octet MAC");
		return;
	}
	struct page pg;
	if (!page_alloc(src, session, req_id, &pg, (size_t)max + 1, sizeof(struct link_peer_info),
			max, sizeof(Callmgr__LinkInfo)))
		return;
	struct link_peer_info *p = pg.rows;
	Callmgr__LinkInfo *infos = pg.infos, **ptrs = pg.ptrs;
	size_t n = src->link_peers(src->ctx, q->after.len ? q->after.data : NULL, p,
				   (size_t)max + 1);
	l.more = n > max;
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		Callmgr__LinkInfo *o = &infos[i];
		callmgr__link_info__init(o);
		o->peer.data = p[i].mac;
		o->peer.len = 6;
		o->state = (char *)p[i].state;
		o->sd_tx = p[i].sd_tx;
		o->sd_rx = p[i].sd_rx;
		o->retransmits = p[i].retransmits;
		o->establishments = p[i].establishments;
		o->failures = p[i].failures;
		o->queued = p[i].queued;
		ptrs[i] = o;
	}
	l.n_links = n;
	l.links = ptrs;
	reply(src, session, req_id, &m);
	page_free(&pg);
}

static void answer_stats(const struct admin_src *src, uint64_t session, uint64_t req_id)
{
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__Stats s = CALLMGR__STATS__INIT;
	struct cc_stats cs;
	struct ipc_stats is;
	counts(src, &cs, &is);
	s.vcs = cs.vcs;
	s.parties = cs.parties;
	s.legs = cs.legs;
	s.saps = cs.saps;
	s.calls_made = cs.calls_made;
	s.calls_failed = cs.calls_failed;
	s.parties_added = cs.parties_added;
	s.parties_dropped = cs.parties_dropped;
	s.msgs_in = cs.msgs_in;
	s.msgs_out = cs.msgs_out;
	s.msgs_bad = cs.msgs_bad;
	s.timer_expiries = cs.timer_expiries;
	s.incoming_refused = cs.incoming_refused;
	s.budget_refused = cs.budget_refused;
	s.state_bytes = cs.state_bytes;
	s.users = cs.users;
	s.sessions = is.sessions;
	s.ipc_frames_bad = is.frames_bad;
	s.sessions_dropped_slow = is.sessions_dropped_slow;
	s.accept_pauses = is.accept_pauses;
	s.monitors = is.monitors;
	s.monitors_refused = is.monitors_refused;
	s.sessions_refused_user = is.sessions_refused_user;
	s.output_queued = is.output_queued;
	s.sessions_throttled = is.sessions_throttled;
	s.sessions_throttled_total = is.sessions_throttled_total;
	if (!src->local_mode) {
		struct link_counters lc;
		src->link_counters(src->ctx, &lc);
		s.frames_rx = lc.frames_rx;
		s.frames_tx = lc.frames_tx;
		s.frames_bad = lc.frames_bad;
		s.frames_unknown_peer = lc.frames_unknown_peer;
		s.frames_group_src = lc.frames_group_src;
		s.peers_evicted = lc.peers_evicted;
		s.peers_refused = lc.peers_refused;
		s.peers_idle_freed = lc.peers_idle_freed;
		s.peers = lc.peers;
		s.rx_buffered = lc.rx_buffered;
	}
	if (src->data_stats) {
		struct admin_data_stats ds;
		src->data_stats(src->ctx, &ds);
		s.data_sdus_in = ds.sdus_in;
		s.data_octets_in = ds.octets_in;
		s.data_sdus_out = ds.sdus_out;
		s.data_octets_out = ds.octets_out;
		s.data_sdus_lost = ds.sdus_lost;
		s.data_sdus_dropped = ds.sdus_dropped;
		s.data_frames_dropped = ds.frames_dropped;
		s.data_fds = ds.fds;
		s.data_frames_kernel_dropped = ds.frames_kernel_dropped;
	}
	m.body_case = CALLMGR__DAEMON_MSG__BODY_STATS;
	m.stats = &s;
	reply(src, session, req_id, &m);
}

bool admin_answer(const struct admin_src *src, uint64_t session, const Callmgr__ClientMsg *m)
{
	switch (m->body_case) {
	case CALLMGR__CLIENT_MSG__BODY_GET_STATUS:
		answer_status(src, session, m->req_id);
		return true;
	case CALLMGR__CLIENT_MSG__BODY_LIST_VCS:
		answer_list_vcs(src, session, m->req_id, m->list_vcs);
		return true;
	case CALLMGR__CLIENT_MSG__BODY_SHOW_VC:
		answer_show_vc(src, session, m->req_id, m->show_vc);
		return true;
	case CALLMGR__CLIENT_MSG__BODY_LIST_LINKS:
		answer_list_links(src, session, m->req_id, m->list_links);
		return true;
	case CALLMGR__CLIENT_MSG__BODY_GET_STATS:
		answer_stats(src, session, m->req_id);
		return true;
	default:
		return false;
	}
}
