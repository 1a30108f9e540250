/* SPDX-License-Identifier: MIT */
/* Timer expiries, link loss, RESTART, protocol errors, session close and shutdown. */
#include <check.h>
#include <stdlib.h>

#include "common.h"

static int status_of(uint64_t req)
{
	const struct cc_client_event *e = drv_done(&d, req);
	ck_assert_msg(e, "request %llu not completed", (unsigned long long)req);
	return e->status;
}

static void fire_first(uint8_t kind)
{
	uint64_t obj = drv_timer_obj(&d, kind, 0);
	ck_assert_msg(obj, "timer %u not running", kind);
	drv_clear(&d);
	drv_fire(&d, kind, obj);
}

START_TEST(t303)
{
	struct rcall k;
	root_calling(&k);
	fire_first(CC_T303);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 1);
	ck_assert_uint_eq(SENT(Q_MSG_SETUP, 0)->msg.cref, k.cref);
	ck_assert_ptr_null(drv_done(&d, k.make_req));
	fire_first(CC_T303);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 0);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE_COMPLETE, 0)->msg.cause.value, 18);
	ck_assert_int_eq(status_of(k.make_req), CM_E_TIMEOUT);
	ck_assert_int_eq(DONE(k.make_req)->cause, 18);
	struct cc_vc_info vi;
	ck_assert_int_eq(cc_vc_get(d.c, k.vc, &vi), CM_E_NO_VC);
	ck_assert_uint_eq(drv_ntimers(&d), 0);
}
END_TEST

START_TEST(t310)
{
	struct rcall k;
	root_calling(&k);
	peer_send(Q_MSG_CALL_PROCEEDING, k.cref, true, 0, 0);
	ck_assert(!drv_timer_obj(&d, CC_T303, 0));
	fire_first(CC_T310);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE, 0)->msg.cause.value, 102);
	ck_assert_int_eq(status_of(k.make_req), CM_E_TIMEOUT);
	ck_assert(drv_timer_obj(&d, CC_T308, 0));
	drv_clear(&d);
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	ck_assert_uint_eq(d.nlog, 1); /* T308 stops; nobody is told twice */
	ck_assert_uint_eq(drv_ntimers(&d), 0);
}
END_TEST

START_TEST(t308)
{
	struct rcall k;
	root_active(&k);
	uint64_t cl = drv_close(&d, ROOT, k.vc, k.a, 0);
	fire_first(CC_T308);
	const struct cc_action *rel = drv_sent(&d, Q_MSG_RELEASE, 0);
	ck_assert_ptr_nonnull(rel);
	ck_assert_uint_eq(rel->msg.cause2.value, 102);
	ck_assert_ptr_null(drv_done(&d, cl));
	fire_first(CC_T308);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 0);
	ck_assert_int_eq(status_of(cl), CM_OK);
	ck_assert_int_eq(DONE(cl)->cause, 102);
	ck_assert_uint_eq(drv_ntimers(&d), 0);
}
END_TEST

static cm_party_id active_b(struct rcall *k, uint16_t *ep)
{
	root_active(k);
	cm_party_id b;
	uint64_t r = root_add(k, 6, ep, &b);
	peer_send(Q_MSG_ADD_PARTY_ACK, k->cref, true, *ep, 0);
	ck_assert_int_eq(status_of(r), CM_OK);
	return b;
}

START_TEST(t398)
{
	struct rcall k;
	uint16_t ep;
	cm_party_id b = active_b(&k, &ep);
	uint64_t dr = drv_drop(&d, ROOT, k.vc, b, 0);
	drv_clear(&d);
	drv_fire(&d, CC_T398, b);
	const struct cc_action *a = drv_sent(&d, Q_MSG_DROP_PARTY_ACK, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->msg.cause.value, 102);
	ck_assert_uint_eq(a->msg.epref.value, ep);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY), 0); /* no resend */
	ck_assert_int_eq(status_of(dr), CM_OK);
	ck_assert_int_eq(party_state(k.vc, b), -1);
}
END_TEST

START_TEST(t399_and_t397)
{
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	uint64_t r = root_add(&k, 6, &ep, &b);
	drv_clear(&d);
	drv_fire(&d, CC_T399, b);
	const struct cc_action *dp = drv_sent(&d, Q_MSG_DROP_PARTY, 0);
	ck_assert_ptr_nonnull(dp);
	ck_assert_uint_eq(dp->msg.cause.value, 102);
	ck_assert_int_eq(status_of(r), CM_E_TIMEOUT);
	ck_assert(drv_running(&d, CC_T398, b));
	ck_assert_int_eq(party_state(k.vc, b), -1); /* no longer the client's */
	drv_clear(&d);
	peer_send(Q_MSG_DROP_PARTY_ACK, k.cref, true, ep, 16);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_DROP_PARTY), 0);
	ck_assert(!drv_running(&d, CC_T398, b));
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.parties, 1);
	/* T397 */
	r = root_add(&k, 7, &ep, &b);
	peer_send(Q_MSG_PARTY_ALERTING, k.cref, true, ep, 0);
	drv_clear(&d);
	drv_fire(&d, CC_T397, b);
	ck_assert_uint_eq(SENT(Q_MSG_DROP_PARTY, 0)->msg.cause.value, 102);
	ck_assert_int_eq(status_of(r), CM_E_TIMEOUT);
}
END_TEST

START_TEST(t313_and_accept_timer)
{
	struct lcall k;
	leaf_offered(&k, 31);
	drv_accept(&d, LEAF1, k.vc, k.party);
	fire_first(CC_T313);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE, 0)->msg.cause.value, 102);
	ck_assert_int_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->cause, 102);
	uint64_t cl = drv_close(&d, LEAF1, k.vc, k.party, 0);
	ck_assert_int_eq(status_of(cl), CM_OK);
	/* the client never answers an offer */
	struct lcall l;
	leaf_offered(&l, 32);
	fire_first(CC_TACCEPT);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE_COMPLETE, 0)->msg.cause.value, 18);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->session, LEAF1);
	cl = drv_close(&d, LEAF1, l.vc, l.party, 0);
	ck_assert_int_eq(status_of(cl), CM_OK);
	/* an offered ADD PARTY times out: ADD PARTY REJECT 18 */
	struct lcall m, b;
	leaf_active(&m, 33);
	leaf_add_offered(&m, 4, 2, &b);
	drv_clear(&d);
	drv_fire(&d, CC_TACCEPT, b.party);
	ck_assert_uint_eq(SENT(Q_MSG_ADD_PARTY_REJECT, 0)->msg.cause.value, 18);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->session, LEAF2);
}
END_TEST

static size_t link_asks(struct cc_mac peer)
{
	size_t n = 0;
	for (size_t i = 0; i < d.nlog; i++)
		n += d.log[i].type == CC_ACT_LINK_ESTABLISH && memcmp(d.log[i].peer.a, peer.a, 6) == 0;
	return n;
}

START_TEST(t309_expiry)
{
	struct rcall k;
	root_active(&k);
	drv_clear(&d);
	drv_link(&d, P, false);
	ck_assert(drv_running(&d, CC_T309, cc_mac_key(P)));
	/* Q.2931 §5.6.10: call control asks for the link again while T309 runs */
	ck_assert_uint_eq(link_asks(P), 1);
	drv_clear(&d);
	drv_link(&d, P, false); /* the attempt failed: ask anew */
	ck_assert_uint_eq(link_asks(P), 1);
	ck_assert_uint_eq(call_state(k.vc, k.cref), 10);
	drv_clear(&d);
	drv_fire(&d, CC_T309, cc_mac_key(P));
	const struct cc_client_event *ic = drv_cev(&d, CC_CEV_INCOMING_CLOSE_CALL, 0);
	ck_assert_ptr_nonnull(ic);
	ck_assert_int_eq(ic->cause, 27);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 0);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.legs, 0);
	ck_assert_int_eq(status_of(drv_close(&d, ROOT, k.vc, k.a, 0)), CM_OK);
}
END_TEST

START_TEST(link_down_up_t322)
{
	struct rcall k;
	root_active(&k);
	/* a call still being set up is cleared at once */
	struct rcall k2;
	uint8_t a[20];
	drv_addr(a, P, 9);
	k2.make_req = drv_make_call(&d, ROOT, a);
	drv_clear(&d);
	drv_link(&d, P, false);
	ck_assert_int_eq(status_of(k2.make_req), CM_E_LINK_DOWN);
	ck_assert_uint_eq(link_asks(P), 1);
	drv_clear(&d);
	drv_link(&d, P, true);
	ck_assert(!drv_running(&d, CC_T309, cc_mac_key(P)));
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_STATUS_ENQUIRY), 1);
	/* our RESTART went ahead of root_active's SETUP, not at this first LINK_UP */
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RESTART), 0);
	uint64_t leg = drv_timer_obj(&d, CC_T322, 0);
	ck_assert_uint_ne(leg, 0);
	struct q_msg st = pmsg(Q_MSG_STATUS, k.cref, true, -1, 30);
	st.call_state_present = true;
	st.call_state = 10;
	drv_msg(&d, P, &st);
	ck_assert(!drv_running(&d, CC_T322, leg));
	/* again, and the peer never answers the enquiry */
	drv_link(&d, P, false);
	drv_clear(&d);
	drv_link(&d, P, true);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RESTART), 0);
	fire_first(CC_T322);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_STATUS_ENQUIRY), 1);
	fire_first(CC_T322);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE, 0)->msg.cause.value, 102);
	ck_assert_int_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->cause, 102);
}
END_TEST

START_TEST(restart)
{
	/* a SETUP made before the link is up waits for it and for the answer
	 * to our RESTART (the driver's peer gives both); link up again sends
	 * neither again (test_restart.c has the rest) */
	struct rcall k;
	root_calling(&k);
	drv_link(&d, P, true);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RESTART), 1);
	const struct cc_action *rs = SENT(Q_MSG_RESTART, 0);
	ck_assert_uint_eq(rs->msg.cref, 0);
	ck_assert_uint_eq(rs->msg.restart.rclass, 2);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 1);
	ck_assert(rs < drv_sent(&d, Q_MSG_SETUP, 0));
	peer_send(Q_MSG_CONNECT, k.cref, true, 0, 0);
	ck_assert_int_eq(status_of(k.make_req), CM_OK);
	/* the peer restarts: every call with it is cleared, cause 41 */
	struct lcall l;
	leaf_active(&l, 61);
	struct q_msg m = pmsg(Q_MSG_RESTART, 0, false, -1, 0);
	m.restart.present = true;
	m.restart.rclass = 2;
	drv_clear(&d);
	drv_msg(&d, P, &m);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RESTART_ACK), 1);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CLOSE_CALL), 2);
	ck_assert_int_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->cause, 41);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.legs, 0);
}
END_TEST

START_TEST(unknown_cref_and_epref)
{
	static const struct {
		int cs;
		uint8_t type, reply, cause;
	} rows[] = {
		{-1, Q_MSG_RELEASE, Q_MSG_RELEASE_COMPLETE, 81},
		{-1, Q_MSG_RELEASE_COMPLETE, 0, 0},
		{-1, Q_MSG_STATUS_ENQUIRY, Q_MSG_STATUS, 30},
		{10, Q_MSG_STATUS, Q_MSG_RELEASE_COMPLETE, 81},
		{0, Q_MSG_STATUS, 0, 0},
		{-1, Q_MSG_CONNECT, Q_MSG_RELEASE_COMPLETE, 81},
		{-1, Q_MSG_DROP_PARTY, Q_MSG_RELEASE_COMPLETE, 81},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct q_msg m = pmsg(rows[i].type, 4711, true, -1, 0);
		if (rows[i].cs >= 0) {
			m.call_state_present = true;
			m.call_state = (uint8_t)rows[i].cs;
		}
		drv_clear(&d);
		drv_msg(&d, P, &m);
		if (!rows[i].reply) {
			ck_assert_uint_eq(d.nlog, 0);
			continue;
		}
		const struct cc_action *a = drv_sent(&d, rows[i].reply, 0);
		ck_assert_ptr_nonnull(a);
		ck_assert_uint_eq(a->msg.cause.value, rows[i].cause);
		ck_assert_uint_eq(a->msg.cref, 4711);
		ck_assert(!a->msg.cref_flag);
		if (rows[i].reply == Q_MSG_STATUS)
			ck_assert_uint_eq(a->msg.call_state, 0);
	}
	struct rcall k;
	root_active(&k);
	drv_clear(&d);
	peer_send(Q_MSG_DROP_PARTY, k.cref, true, 77, 16);
	ck_assert_uint_eq(SENT(Q_MSG_DROP_PARTY_ACK, 0)->msg.cause.value, 89);
	drv_clear(&d);
	peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, 77, 0);
	ck_assert_uint_eq(SENT(Q_MSG_DROP_PARTY_ACK, 0)->msg.cause.value, 89);
	drv_clear(&d);
	peer_send(Q_MSG_DROP_PARTY_ACK, k.cref, true, 77, 0);
	ck_assert_uint_eq(d.nlog, 0);
	/* STATUS ENQUIRY naming a party answers its endpoint state */
	drv_clear(&d);
	peer_send(Q_MSG_STATUS_ENQUIRY, k.cref, true, 0, 0);
	const struct cc_action *st = SENT(Q_MSG_STATUS, 0);
	ck_assert_uint_eq(st->msg.cause.value, 30);
	ck_assert_uint_eq(st->msg.call_state, 10);
	ck_assert(st->msg.ep_state_present);
	ck_assert_uint_eq(st->msg.ep_state, Q_EPS_ACTIVE);
}
END_TEST

START_TEST(session_closed_mid_call)
{
	struct rcall k;
	uint16_t ep;
	root_active(&k);
	cm_party_id b;
	uint64_t r = root_add(&k, 6, &ep, &b);
	peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, ep, 0);
	ck_assert_int_eq(status_of(r), CM_OK);
	uint16_t ep2;
	cm_party_id c;
	root_add(&k, 7, &ep2, &c); /* pending: owed nothing once the session is gone */
	struct lcall l;
	leaf_active(&l, 71);
	drv_clear(&d);
	drv_session_closed(&d, ROOT);
	ck_assert_uint_eq(drv_nsent_to(&d, Q_MSG_RELEASE, P), 1);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE, 0)->msg.cause.value, 31);
	struct cc_vc_info vi;
	ck_assert_int_eq(cc_vc_get(d.c, k.vc, &vi), CM_E_NO_VC);
	ck_assert_int_eq(cc_vc_get(d.c, l.vc, &vi), CM_OK);
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	ck_assert_uint_eq(drv_ncev_session(&d, ROOT), 0);
	/* the leaf's client goes: its (only) party releases the leg */
	drv_clear(&d);
	drv_session_closed(&d, LEAF1);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE, 0)->msg.cause.value, 31);
	peer_send(Q_MSG_RELEASE_COMPLETE, l.cref, false, -1, 0);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs + st.parties + st.legs + st.saps, 1); /* LEAF2's SAP */
	ck_assert_uint_eq(drv_ntimers(&d), 0);
}
END_TEST

START_TEST(shutdown)
{
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	uint64_t r = root_add(&k, 6, &ep, &b);
	struct lcall l;
	leaf_active(&l, 81);
	drv_clear(&d);
	struct cc_event ev = {.type = CC_EV_SHUTDOWN};
	drv_feed(&d, &ev);
	ck_assert_int_eq(status_of(r), CM_E_CLOSING);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CLOSE_CALL), 2);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 2);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE, 0)->msg.cause.value, 31);
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	peer_send(Q_MSG_RELEASE_COMPLETE, l.cref, false, -1, 0);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.legs, 0);
	ck_assert_uint_eq(drv_ntimers(&d), 0);
	/* the VCs wait, off the wire, for their owners' answers */
	ck_assert_int_eq(status_of(drv_close(&d, ROOT, k.vc, k.a, 0)), CM_OK);
	ck_assert_int_eq(status_of(drv_close(&d, LEAF1, l.vc, l.party, 0)), CM_OK);
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs + st.parties + st.legs, 0);
}
END_TEST

Suite *cc_test_suite(void)
{
	Suite *s = suite_create("cc-timers");
	TCase *tc = tcase_create("timers");
	tcase_add_checked_fixture(tc, common_setup, common_teardown);
	tcase_add_test(tc, t303);
	tcase_add_test(tc, t310);
	tcase_add_test(tc, t308);
	tcase_add_test(tc, t398);
	tcase_add_test(tc, t399_and_t397);
	tcase_add_test(tc, t313_and_accept_timer);
	tcase_add_test(tc, t309_expiry);
	tcase_add_test(tc, link_down_up_t322);
	tcase_add_test(tc, restart);
	tcase_add_test(tc, unknown_cref_and_epref);
	tcase_add_test(tc, session_closed_mid_call);
	tcase_add_test(tc, shutdown);
	suite_add_tcase(s, tc);
	return s;
}
