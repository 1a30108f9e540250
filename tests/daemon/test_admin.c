/* SPDX-License-Identifier: MIT */
/*
 * admin.c on a bare call control: a local call between two sessions, then
 * every view read back through the send hook, without ipc or a link.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cc/drv.h"
#include "admin.h"
#include "../ck_run.h"

static struct drv d;
static Callmgr__DaemonMsg *got;    /* the last reply, unpacked again */
static int err_status;
static char err_text[128];
static bool local_mode;

static uint64_t uptime(void *ctx) { return 4321; }
static uint32_t uid_of(void *ctx, uint64_t s) { return s == 1 ? 1000 : s == 2 ? 1001 : UINT32_MAX; }
/* session 2 is an ordinary user: it reads only its own VCs */
static bool reads_all(void *ctx, uint64_t s) { return s != 2; }

static void ipc_stats(void *ctx, struct ipc_stats *o)
{
	memset(o, 0, sizeof(*o));
	o->sessions = 2;
	o->frames_bad = 5;
	o->accept_pauses = 11;
}

/* 1,200 peers, 00:..:04:b0 and below, every third one ready; the first two as the tests want */
#define NPEERS 1200
static size_t peers(void *ctx, const uint8_t *after, struct link_peer_info *o, size_t max)
{
	ck_assert(!local_mode);
	unsigned from = after ? (unsigned)(after[4] << 8 | after[5]) + 1 : 7;
	size_t n = 0;
	for (unsigned i = from; i < 7 + NPEERS && n < max; i++, n++) {
		memset(&o[n], 0, sizeof(o[n]));
		o[n].mac[4] = (uint8_t)(i >> 8);
		o[n].mac[5] = (uint8_t)i;
		o[n].state = (i - 7) % 3 ? "idle" : "ready";
		o[n].sd_tx = i == 7 ? 11 : 0;
	}
	return n;
}

static void counters(void *ctx, struct link_counters *o)
{
	ck_assert(!local_mode);
	o->frames_rx = 100;
	o->frames_tx = 200;
	o->frames_bad = 3;
	o->frames_unknown_peer = 4;
	o->frames_group_src = 5;
	o->peers_evicted = 6;
	o->peers_refused = 7;
	o->peers_idle_freed = 8;
	o->peers = 9;
	o->rx_buffered = 10;
}

/* Packs and unpacks, as the wire would: what a client reads. */
static uint64_t asker = 1; /* the session asking */

static void send_hook(void *ctx, uint64_t session, Callmgr__DaemonMsg *m)
{
	ck_assert_uint_eq(session, asker);
	size_t n = callmgr__daemon_msg__get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(buf);
	callmgr__daemon_msg__pack(m, buf);
	if (got)
		callmgr__daemon_msg__free_unpacked(got, NULL);
	got = callmgr__daemon_msg__unpack(NULL, n, buf);
	ck_assert_ptr_nonnull(got);
	free(buf);
}

static void error_hook(void *ctx, uint64_t session, uint64_t req_id, int status, const char *text)
{
	err_status = status;
	snprintf(err_text, sizeof(err_text), "%s", text);
}

static struct admin_src src(void)
{
	static const uint8_t prefix[13] = { 0x39 };
	struct admin_src s = {
		.cc = d.c, .local_mode = local_mode, .interface = local_mode ? "" : "veth0",
		.prefix = prefix, .esi = d.me.a, .uptime_ms = uptime, .session_uid = uid_of,
		.session_reads_all = reads_all,
		.ipc_stats = ipc_stats, .link_peers = peers, .link_counters = counters,
		.send = send_hook, .error = error_hook,
	};
	return s;
}

static bool ask(Callmgr__ClientMsg *m)
{
	struct admin_src s = src();
	return admin_answer(&s, asker, m);
}

/* Session 1 calls session 2's SAP 7 on this node: the call offered to session 2. */
static struct cc_client_event offer_call(void)
{
	uint8_t a[Q_AESA_LEN];
	drv_register(&d, 2, 7);
	drv_addr(a, d.me, 7);
	drv_make_call(&d, 1, a);
	const struct cc_client_event *in = drv_cev(&d, CC_CEV_INCOMING_CALL, 0);
	ck_assert_ptr_nonnull(in);
	return *in;
}

/* ... which session 2 accepts. */
static cm_vc_id one_call(void)
{
	struct cc_client_event in = offer_call();
	drv_accept(&d, 2, in.vc, in.party);
	const struct cc_client_event *mc = drv_cev(&d, CC_CEV_MAKE_CALL_COMPLETE, 0);
	ck_assert_ptr_nonnull(mc);
	ck_assert_int_eq(mc->status, CM_OK);
	return mc->vc;
}

static void setup(void)
{
	drv_init(&d, NULL);
	got = NULL;
	err_status = 0;
	asker = 1;
	local_mode = true;
}

static void teardown(void)
{
	if (got)
		callmgr__daemon_msg__free_unpacked(got, NULL);
	drv_free(&d);
}

START_TEST(vcs_and_parties)
{
	cm_vc_id vc = one_call();
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__ListVcs lv = CALLMGR__LIST_VCS__INIT;
	m.req_id = 9;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_LIST_VCS;
	m.list_vcs = &lv;
	lv.max = 1;
	ck_assert(ask(&m));
	ck_assert_int_eq(got->body_case, CALLMGR__DAEMON_MSG__BODY_VC_LIST);
	ck_assert_uint_eq(got->req_id, 9);
	ck_assert_uint_eq(got->vc_list->n_vcs, 1); /* root and leaf VC: one page of one */
	ck_assert(got->vc_list->more);
	ck_assert_uint_eq(got->vc_list->vcs[0]->vc, vc);
	ck_assert_int_eq(got->vc_list->vcs[0]->state, CALLMGR__VC_STATE__VC_ACTIVE);
	ck_assert_uint_eq(got->vc_list->vcs[0]->owner_uid, 1000);
	ck_assert(got->vc_list->vcs[0]->root);
	lv.after = vc;
	lv.max = 0;
	ck_assert(ask(&m));
	ck_assert_uint_eq(got->vc_list->n_vcs, 1);
	ck_assert(!got->vc_list->more);
	ck_assert_uint_eq(got->vc_list->vcs[0]->owner_uid, 1001); /* session 2 */

	Callmgr__ShowVc sv = CALLMGR__SHOW_VC__INIT;
	sv.vc = vc;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_SHOW_VC;
	m.show_vc = &sv;
	ck_assert(ask(&m));
	ck_assert_int_eq(got->body_case, CALLMGR__DAEMON_MSG__BODY_VC_DETAIL);
	ck_assert_uint_eq(got->vc_detail->n_parties, 1);
	const Callmgr__PartyInfo *p = got->vc_detail->parties[0];
	ck_assert_int_eq(p->state, CALLMGR__PARTY_STATE__PU7_ACTIVE);
	ck_assert_int_eq(p->call_state, CALLMGR__CALL_STATE__U10_ACTIVE);
	ck_assert_int_eq(p->timer, CALLMGR__TIMER__TIMER_NONE);
	ck_assert_uint_eq(p->addr.len, Q_AESA_LEN);
	ck_assert_mem_eq(p->peer.data, d.me.a, 6);

	sv.vc = 999999;
	ck_assert(ask(&m));
	ck_assert_int_eq(err_status, CM_E_NO_VC);
	ck_assert_str_eq(err_text, "no VC 999999");
}
END_TEST

/* A party waiting for the callee shows its state and running timer. */
START_TEST(pending_party)
{
	struct cc_client_event in = offer_call();
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__ShowVc sv = CALLMGR__SHOW_VC__INIT;
	sv.vc = in.vc; /* the leaf VC: the call offered to session 2 */
	m.body_case = CALLMGR__CLIENT_MSG__BODY_SHOW_VC;
	m.show_vc = &sv;
	ck_assert(ask(&m));
	ck_assert_int_eq(got->vc_detail->vc->state, CALLMGR__VC_STATE__VC_CALLING);
	ck_assert_int_eq(got->vc_detail->parties[0]->timer, CALLMGR__TIMER__TIMER_ACCEPT);
}
END_TEST

/* Every VC a session of uid 1001 may list, paging as cmctl does; *pages counted. */
static size_t list_all(cm_vc_id *ids, size_t cap, size_t *pages)
{
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__ListVcs lv = CALLMGR__LIST_VCS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_LIST_VCS;
	m.list_vcs = &lv;
	lv.max = 2;
	size_t n = 0;
	*pages = 0;
	for (;;) {
		ck_assert(ask(&m));
		ck_assert_int_eq(got->body_case, CALLMGR__DAEMON_MSG__BODY_VC_LIST);
		(*pages)++;
		const Callmgr__VcList *l = got->vc_list;
		ck_assert_uint_le(l->n_vcs, 2);
		for (size_t i = 0; i < l->n_vcs && n < cap; i++) {
			ids[n++] = l->vcs[i]->vc;
			lv.after = l->vcs[i]->vc;
		}
		if (l->next_after)
			lv.after = l->next_after;
		if (!l->more)
			return n;
		ck_assert_uint_lt(*pages, 100);
	}
}

/*
 * The read policy: a session that does not read all (not root, admin or
 * operator) lists and shows only its own user's VCs, whoever's session
 * holds them, each page looking at a bounded number of VCs.
 */
START_TEST(read_policy)
{
	uint8_t far[Q_AESA_LEN];
	drv_addr(far, drv_mac(9), 5);
	cm_vc_id mine[3];
	size_t k = 0;
	for (int i = 0; i < 33; i++) {
		bool own = i % 11 == 5; /* 3 of uid 1001, spread among 30 of uid 1000 */
		struct cc_request r = { .type = CC_REQ_MAKE_CALL, .session = own ? 5 : 6,
					.uid = own ? 1001 : 1000 };
		memcpy(r.addr, far, Q_AESA_LEN);
		drv_request(&d, &r);
		struct cc_vc_info vi[64];
		size_t n = cc_vc_list(d.c, 0, vi, 64);
		if (own)
			mine[k++] = vi[n - 1].vc;
	}
	asker = 2; /* uid 1001, reads only its own */
	cm_vc_id ids[64];
	size_t pages;
	size_t n = list_all(ids, 64, &pages);
	ck_assert_uint_eq(n, 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_uint_eq(ids[i], mine[i]);
	/* 2 asked, 8 looked at per page: 33 VCs take 5 pages, some of them empty */
	ck_assert_uint_ge(pages, 33 / 8);
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__ShowVc sv = CALLMGR__SHOW_VC__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_SHOW_VC;
	m.show_vc = &sv;
	sv.vc = mine[1];
	ck_assert(ask(&m));
	ck_assert_int_eq(got->body_case, CALLMGR__DAEMON_MSG__BODY_VC_DETAIL);
	sv.vc = mine[1] + 1; /* uid 1000's */
	err_status = 0;
	ck_assert(ask(&m));
	ck_assert_int_eq(err_status, CM_E_PERM);
	/* an operator's session sees all 33 */
	asker = 1;
	ck_assert_uint_eq(list_all(ids, 64, &pages), 33);
}
END_TEST

START_TEST(status_stats_links)
{
	one_call();
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__GetStatus gs = CALLMGR__GET_STATUS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_GET_STATUS;
	m.get_status = &gs;
	ck_assert(ask(&m));
	ck_assert_int_eq(got->body_case, CALLMGR__DAEMON_MSG__BODY_STATUS);
	ck_assert(got->status->local_mode);
	ck_assert_uint_eq(got->status->vcs, 2);
	ck_assert_uint_eq(got->status->sessions, 2);
	ck_assert_uint_eq(got->status->uptime_ms, 4321);
	ck_assert_uint_eq(got->status->links_up, 0);
	ck_assert_uint_eq(got->status->esi.len, 6);

	Callmgr__GetStats st = CALLMGR__GET_STATS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_GET_STATS;
	m.get_stats = &st;
	ck_assert(ask(&m));
	ck_assert_uint_eq(got->stats->calls_made, 1);
	ck_assert_uint_eq(got->stats->ipc_frames_bad, 5);
	ck_assert_uint_eq(got->stats->frames_rx, 0); /* local mode: no link asked */

	Callmgr__ListLinks ll = CALLMGR__LIST_LINKS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_LIST_LINKS;
	m.list_links = &ll;
	ck_assert(ask(&m));
	ck_assert_uint_eq(got->link_list->n_links, 0);

	local_mode = false;
	ck_assert(ask(&m));
	ck_assert_uint_eq(got->link_list->n_links, 512);
	ck_assert(got->link_list->more);
	ck_assert_str_eq(got->link_list->links[0]->state, "ready");
	ck_assert_uint_eq(got->link_list->links[0]->sd_tx, 11);
	/* paged by MAC: the rest, then nothing; a bad cursor is refused */
	size_t seen = 512;
	uint8_t after[6];
	while (got->link_list->more) {
		ck_assert_uint_eq(got->link_list->links[0]->peer.len, 6);
		memcpy(after, got->link_list->links[got->link_list->n_links - 1]->peer.data, 6);
		ll.after.data = after;
		ll.after.len = 6;
		ck_assert(ask(&m));
		ck_assert_uint_eq(got->link_list->links[0]->peer.data[5], (uint8_t)(after[5] + 1));
		seen += got->link_list->n_links;
	}
	ck_assert_uint_eq(seen, NPEERS);
	memcpy(after, got->link_list->links[got->link_list->n_links - 1]->peer.data, 6);
	ll.max = 10;
	ck_assert(ask(&m));
	ck_assert_uint_eq(got->link_list->n_links, 0);
	ck_assert(!got->link_list->more);
	ll.after.len = 5;
	err_status = 0;
	ck_assert(ask(&m));
	ck_assert_int_eq(err_status, CM_E_INVAL);
	ll.after.len = 0;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_GET_STATS;
	ck_assert(ask(&m));
	ck_assert_uint_eq(got->stats->frames_tx, 200);
	ck_assert_uint_eq(got->stats->frames_unknown_peer, 4);
	ck_assert_uint_eq(got->stats->frames_group_src, 5);
	ck_assert_uint_eq(got->stats->peers_evicted, 6);
	ck_assert_uint_eq(got->stats->peers_refused, 7);
	ck_assert_uint_eq(got->stats->peers_idle_freed, 8);
	ck_assert_uint_eq(got->stats->peers, 9);
	ck_assert_uint_eq(got->stats->rx_buffered, 10);
	ck_assert_uint_eq(got->stats->accept_pauses, 11);

	char text[128];
	struct admin_src s = src();
	admin_status_text(&s, text, sizeof(text));
	ck_assert_str_eq(text, "2 sessions, 2 VCs, 2 parties, 400 links up");

	/* not a view: left to call control */
	Callmgr__CloseCall cl = CALLMGR__CLOSE_CALL__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_CLOSE_CALL;
	m.close_call = &cl;
	ck_assert(!ask(&m));
}
END_TEST

int main(void)
{
	CK_RUN("daemon-admin", setup, teardown, vcs_and_parties, pending_party,
	       status_stats_links, read_policy);
}
