/* SPDX-License-Identifier: MIT */
/* The CoNDIS rules' error codes, in the order the brief fixes, and request bookkeeping. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "cm_proto_const.h"
#include "common.h"

static int status_of(uint64_t req)
{
	const struct cc_client_event *e = drv_done(&d, req);
	ck_assert_msg(e, "request %llu not completed", (unsigned long long)req);
	return e->status;
}

START_TEST(make_call_errors)
{
	uint8_t a[20];
	drv_addr(a, P, 5);
	struct cc_request r = {.type = CC_REQ_MAKE_CALL, .session = ROOT};
	memcpy(r.addr, a, 20);
	r.params.qos_class = 5;
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_E_INVAL);
	r.params.qos_class = 0;
	r.params.max_sdu = 70000;
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_E_INVAL);
	r.params.max_sdu = 0;
	r.params.peak_kbps = 0xffffffff;
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_E_INVAL);
	r.params.peak_kbps = 0;
	memset(r.addr + 13, 0, 6); /* no station */
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_E_INVAL);
	r.addr[13] = 0x01; /* group MAC */
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_E_INVAL);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 0);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs, 0);
}
END_TEST

/* The standard configuration for a test that changes some of it and starts afresh. */
static struct cc_config fresh_config(void)
{
	drv_free(&d);
	struct cc_config cfg;
	cc_config_defaults(&cfg);
	cfg.esi = drv_mac(1);
	return cfg;
}

START_TEST(limits)
{
	struct cc_config cfg = fresh_config();
	cfg.max_vcs_per_session = 100; /* the VC limit has a test of its own */
	cfg.max_parties_per_vc = 2;
	cfg.max_pending_per_session = 3;
	drv_init(&d, &cfg);
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	root_add(&k, 6, &ep, &b);
	uint8_t a[20];
	drv_addr(a, P, 7);
	ck_assert_int_eq(status_of(drv_add_party(&d, ROOT, k.vc, a)), CM_E_LIMIT);
	uint64_t m2 = drv_make_call(&d, ROOT, a);
	ck_assert_ptr_null(drv_done(&d, m2));
	uint64_t dr = drv_drop(&d, ROOT, k.vc, k.a, 0);
	ck_assert_ptr_null(drv_done(&d, dr));
	/* set-up requests fill the pending quota, then are refused */
	int refused = 0;
	for (int i = 0; i < 10 && !refused; i++) {
		uint64_t m = drv_make_call(&d, ROOT, a);
		if (drv_done(&d, m))
			refused = status_of(m);
	}
	ck_assert_int_eq(refused, CM_E_LIMIT);
	struct cc_request r = {.type = CC_REQ_DROP_PARTY, .session = ROOT, .vc = k.vc, .party = b};
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_E_LAST_PARTY);
	/*
	 * Teardown is never refused for the pending limit: a client at its
	 * quota must still be able to close (one close per VC and one drop
	 * per party are bounded by the other limits).
	 */
	uint64_t c = drv_close(&d, ROOT, k.vc, b, 0);
	ck_assert_ptr_null(drv_done(&d, c));
	drv_addr(a, P, 8);
	/* a new session has room of its own */
	uint64_t o = drv_make_call(&d, OTHER, a);
	ck_assert_ptr_null(drv_done(&d, o));
}
END_TEST

START_TEST(add_party_errors)
{
	uint8_t a[20];
	drv_addr(a, P, 6);
	ck_assert_int_eq(status_of(drv_add_party(&d, ROOT, 12345, a)), CM_E_NO_VC);
	struct rcall k;
	root_calling(&k);
	/* MakeCall not complete yet */
	ck_assert_int_eq(status_of(drv_add_party(&d, ROOT, k.vc, a)), CM_E_STATE);
	ck_assert_int_eq(status_of(drv_add_party(&d, OTHER, k.vc, a)), CM_E_PERM);
	peer_send(Q_MSG_CONNECT, k.cref, true, 0, 0);
	uint8_t bad[20] = {0};
	ck_assert_int_eq(status_of(drv_add_party(&d, ROOT, k.vc, bad)), CM_E_INVAL);
	/* a leaf VC takes no AddParty */
	struct lcall l;
	leaf_active(&l, 55);
	ck_assert_int_eq(status_of(drv_add_party(&d, LEAF1, l.vc, a)), CM_E_STATE);
	/* closing */
	drv_close(&d, ROOT, k.vc, k.a, 0);
	ck_assert_int_eq(status_of(drv_add_party(&d, ROOT, k.vc, a)), CM_E_CLOSING);
}
END_TEST

START_TEST(drop_party_errors_in_order)
{
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b, c;
	uint64_t rb = root_add(&k, 6, &ep, &b);
	peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, ep, 0);
	ck_assert_int_eq(status_of(rb), CM_OK);
	uint16_t epc;
	uint64_t rc = root_add(&k, 7, &epc, &c);
	peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, epc, 0);
	ck_assert_int_eq(status_of(rc), CM_OK);

	ck_assert_int_eq(status_of(drv_drop(&d, ROOT, 999, b, 0)), CM_E_NO_VC);
	/* PERM before TOO_BIG before NO_PARTY */
	ck_assert_int_eq(status_of(drv_drop(&d, OTHER, k.vc, 999, 200)), CM_E_PERM);
	ck_assert_int_eq(status_of(drv_drop(&d, ROOT, k.vc, 999, CM_MAX_DATA + 1)), CM_E_TOO_BIG);
	ck_assert_int_eq(status_of(drv_drop(&d, ROOT, k.vc, 999, CM_MAX_DATA)), CM_E_NO_PARTY);
	drv_clear(&d);
	uint64_t r1 = drv_drop(&d, ROOT, k.vc, b, CM_MAX_DATA);
	ck_assert_ptr_null(drv_done(&d, r1));
	ck_assert_uint_eq(SENT(Q_MSG_DROP_PARTY, 0)->msg.uu.len, CM_MAX_DATA);
	/* a second drop of the same party */
	ck_assert_int_eq(status_of(drv_drop(&d, ROOT, k.vc, b, 0)), CM_E_BUSY);
	/* c is now the last live party but one: dropping it is fine, then a is the last */
	uint64_t r2 = drv_drop(&d, ROOT, k.vc, c, 0);
	ck_assert_ptr_null(drv_done(&d, r2));
	ck_assert_int_eq(status_of(drv_drop(&d, ROOT, k.vc, k.a, 0)), CM_E_LAST_PARTY);
	/* CloseCall naming a while drops are pending is legal; the pending drops complete CM_OK */
	drv_clear(&d);
	uint64_t cl = drv_close(&d, ROOT, k.vc, k.a, 0);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	ck_assert_int_eq(status_of(drv_drop(&d, ROOT, k.vc, b, 0)), CM_E_BUSY);
	ck_assert_int_eq(status_of(drv_close(&d, ROOT, k.vc, k.a, 0)), CM_E_BUSY);
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 16);
	ck_assert_int_eq(status_of(r1), CM_OK);
	ck_assert_int_eq(status_of(r2), CM_OK);
	ck_assert_int_eq(status_of(cl), CM_OK);
	ck_assert_int_eq(status_of(drv_drop(&d, ROOT, k.vc, b, 0)), CM_E_NO_VC);
}
END_TEST

START_TEST(drop_closing_and_drop_received)
{
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	uint64_t rb = root_add(&k, 6, &ep, &b);
	peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, ep, 0);
	ck_assert_int_eq(status_of(rb), CM_OK);
	/* remote drops b: acked at once, IncomingDropParty, then the answer completes at once */
	drv_clear(&d);
	struct q_msg m = pmsg(Q_MSG_DROP_PARTY, k.cref, true, ep, 31);
	m.uu.present = true;
	m.uu.len = 3;
	memcpy(m.uu.data, "bye", 3);
	drv_msg(&d, P, &m);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY_ACK), 1);
	const struct cc_client_event *idp = CEV(CC_CEV_INCOMING_DROP_PARTY, 0);
	ck_assert_uint_eq(idp->party, b);
	ck_assert_int_eq(idp->cause, 31);
	ck_assert_uint_eq(idp->data_len, 3);
	ck_assert_mem_eq(idp->data, "bye", 3);
	/* a is the only live party: it cannot be dropped, but closing needs no drop of b */
	ck_assert_int_eq(status_of(drv_drop(&d, ROOT, k.vc, k.a, 0)), CM_E_LAST_PARTY);
	/* force close on a VC closing -> CLOSING for drops */
	drv_clear(&d);
	uint64_t cl = drv_close(&d, ROOT, k.vc, k.a, 0);
	ck_assert_ptr_null(drv_done(&d, cl));
	ck_assert_int_eq(status_of(drv_drop(&d, ROOT, k.vc, k.a, 0)), CM_E_CLOSING);
	/* b was freed by the close: the id is gone */
	ck_assert_int_eq(party_state(k.vc, b), -1);
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	ck_assert_int_eq(status_of(cl), CM_OK);
}
END_TEST

START_TEST(close_call_errors)
{
	ck_assert_int_eq(status_of(drv_close(&d, ROOT, 77, 1, 0)), CM_E_NO_VC);
	struct rcall k;
	root_calling(&k);
	ck_assert_int_eq(status_of(drv_close(&d, OTHER, k.vc, k.a, 0)), CM_E_PERM);
	ck_assert_int_eq(status_of(drv_close(&d, ROOT, k.vc, k.a, 0)), CM_E_STATE);
	peer_send(Q_MSG_CONNECT, k.cref, true, 0, 0);
	struct cc_request r = {.type = CC_REQ_CLOSE_CALL,
			       .session = ROOT,
			       .vc = k.vc,
			       .party = k.a,
			       .data_len = CM_MAX_DATA + 1};
	static const uint8_t big[CM_MAX_DATA + 1];
	r.data = big;
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_E_TOO_BIG);
	ck_assert_int_eq(status_of(drv_close(&d, ROOT, k.vc, 4242, 0)), CM_E_NO_PARTY);
	uint16_t ep;
	cm_party_id b;
	uint64_t rb = root_add(&k, 6, &ep, &b);
	/* the pending add is a live party */
	ck_assert_int_eq(status_of(drv_close(&d, ROOT, k.vc, k.a, 0)), CM_E_PARTIES_REMAIN);
	/* force: the add completes CM_E_CLOSING, RELEASE, one completion when the leg is gone */
	drv_clear(&d);
	uint64_t cl = drv_close(&d, ROOT, k.vc, 0, CM_CLOSE_FORCE);
	ck_assert_int_eq(status_of(rb), CM_E_CLOSING);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE, 0)->msg.cause.value, 16);
	ck_assert_ptr_null(drv_done(&d, cl));
	ck_assert_int_eq(status_of(drv_close(&d, ROOT, k.vc, 0, CM_CLOSE_FORCE)), CM_E_BUSY);
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	ck_assert_int_eq(status_of(cl), CM_OK);
	ck_assert_uint_eq(drv_ntimers(&d), 0);
}
END_TEST

START_TEST(incoming_close_then_close)
{
	struct rcall k;
	root_active(&k);
	drv_clear(&d);
	struct q_msg m = pmsg(Q_MSG_RELEASE, k.cref, true, -1, 21);
	m.uu.present = true;
	m.uu.len = 1;
	m.uu.data[0] = 0x42;
	drv_msg(&d, P, &m);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE), 1);
	const struct cc_client_event *ic = CEV(CC_CEV_INCOMING_CLOSE_CALL, 0);
	ck_assert_int_eq(ic->cause, 21);
	ck_assert_uint_eq(ic->data_len, 1);
	struct cc_vc_info vi;
	ck_assert_int_eq(cc_vc_get(d.c, k.vc, &vi), CM_OK);
	ck_assert_uint_eq(vi.state, CC_VC_CLOSE_RECEIVED);
	uint8_t a[20];
	drv_addr(a, P, 9);
	ck_assert_int_eq(status_of(drv_add_party(&d, ROOT, k.vc, a)), CM_E_CLOSING);
	drv_clear(&d);
	uint64_t cl = drv_close(&d, ROOT, k.vc, k.a, 0);
	ck_assert_int_eq(status_of(cl), CM_OK);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 0);
	ck_assert_int_eq(cc_vc_get(d.c, k.vc, &vi), CM_E_NO_VC);
}
END_TEST

START_TEST(register_sap)
{
	ck_assert_int_eq(status_of(drv_register(&d, LEAF1, 7)), CM_OK);
	ck_assert_int_eq(status_of(drv_register(&d, LEAF1, 7)), CM_OK);
	ck_assert_int_eq(status_of(drv_register(&d, LEAF2, 7)), CM_E_SAP_IN_USE);
	drv_session_closed(&d, LEAF1);
	ck_assert_int_eq(status_of(drv_register(&d, LEAF2, 7)), CM_OK);
}
END_TEST

START_TEST(add_queued_while_leg_sets_up)
{
	struct rcall k;
	root_active(&k);
	/* two parties on a second peer Q: the first makes a new leg, the second waits for it */
	struct cc_mac Q = drv_mac(3);
	uint8_t a[20];
	drv_addr(a, Q, 1);
	drv_clear(&d);
	uint64_t r1 = drv_add_party(&d, ROOT, k.vc, a);
	ck_assert_uint_eq(drv_nsent_to(&d, Q_MSG_SETUP, Q), 1);
	uint32_t qcref = SENT(Q_MSG_SETUP, 0)->msg.cref;
	drv_addr(a, Q, 2);
	drv_clear(&d);
	uint64_t r2 = drv_add_party(&d, ROOT, k.vc, a);
	ck_assert_uint_eq(d.nlog, 1); /* only T399 starts: nothing on the wire yet */
	cm_party_id p2 = last_party(k.vc);
	ck_assert(drv_running(&d, CC_T399, p2));
	struct q_msg m = pmsg(Q_MSG_CONNECT, qcref, true, 0, 0);
	drv_clear(&d);
	drv_msg(&d, Q, &m);
	ck_assert_int_eq(status_of(r1), CM_OK);
	ck_assert_uint_eq(drv_nsent_to(&d, Q_MSG_ADD_PARTY, Q), 1);
	ck_assert_uint_eq(SENT(Q_MSG_ADD_PARTY, 0)->msg.epref.value, 1);
	ck_assert_ptr_null(drv_done(&d, r2));
	struct cc_vc_info vi;
	cc_vc_get(d.c, k.vc, &vi);
	ck_assert_uint_eq(vi.n_legs, 2);
	/* the SETUP of a leg fails: queued adds fail the same way */
	drv_addr(a, drv_mac(4), 1);
	drv_clear(&d);
	uint64_t r3 = drv_add_party(&d, ROOT, k.vc, a);
	uint32_t c4 = SENT(Q_MSG_SETUP, 0)->msg.cref;
	drv_addr(a, drv_mac(4), 2);
	uint64_t r4 = drv_add_party(&d, ROOT, k.vc, a);
	m = pmsg(Q_MSG_RELEASE_COMPLETE, c4, true, -1, 17);
	drv_msg(&d, drv_mac(4), &m);
	ck_assert_int_eq(status_of(r3), CM_E_REJECTED);
	ck_assert_int_eq(DONE(r3)->cause, 17);
	ck_assert_int_eq(status_of(r4), CM_E_REJECTED);
	ck_assert_int_eq(DONE(r4)->cause, 17);
}
END_TEST

START_TEST(drop_while_adding)
{
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	uint64_t rb = root_add(&k, 6, &ep, &b);
	drv_clear(&d);
	uint64_t dr = drv_drop(&d, ROOT, k.vc, b, 0);
	/* the add completes first, with CM_E_CLOSING; the drop goes on the wire */
	ck_assert_int_eq(status_of(rb), CM_E_CLOSING);
	ck_assert_ptr_null(drv_done(&d, dr));
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY), 1);
	ck_assert(!drv_running(&d, CC_T399, b));
	/* the ack for the add crossing our drop is ignored; the drop ack completes */
	peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, ep, 0);
	ck_assert_ptr_null(drv_done(&d, dr));
	peer_send(Q_MSG_DROP_PARTY_ACK, k.cref, true, ep, 16);
	ck_assert_int_eq(status_of(dr), CM_OK);
	/* a queued add dropped before its leg connects: both complete, nothing on the wire */
	uint8_t a[20];
	drv_addr(a, drv_mac(3), 1);
	drv_add_party(&d, ROOT, k.vc, a);
	drv_addr(a, drv_mac(3), 2);
	uint64_t rq = drv_add_party(&d, ROOT, k.vc, a);
	cm_party_id q = last_party(k.vc);
	drv_clear(&d);
	uint64_t dq = drv_drop(&d, ROOT, k.vc, q, 0);
	ck_assert_int_eq(status_of(rq), CM_E_CLOSING);
	ck_assert_int_eq(status_of(dq), CM_OK);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY) + drv_nsent(&d, Q_MSG_RELEASE), 0);
}
END_TEST

START_TEST(admin_drop_and_close)
{
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	uint64_t rb = root_add(&k, 6, &ep, &b);
	peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, ep, 0);
	ck_assert_int_eq(status_of(rb), CM_OK);
	drv_clear(&d);
	struct cc_request r = {.type = CC_REQ_ADMIN_DROP, .session = OTHER, .vc = k.vc, .party = b};
	uint64_t ad = drv_request(&d, &r);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY), 1);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_DROP_PARTY, 0)->session, ROOT);
	peer_send(Q_MSG_DROP_PARTY_ACK, k.cref, true, ep, 16);
	ck_assert_int_eq(status_of(ad), CM_OK);
	ck_assert_uint_eq(DONE(ad)->type, CC_CEV_ADMIN_DROP_COMPLETE);
	/* the owner answers its IncomingDropParty */
	ck_assert_int_eq(status_of(drv_drop(&d, ROOT, k.vc, b, 0)), CM_OK);
	drv_clear(&d);
	struct cc_request rc = {.type = CC_REQ_ADMIN_CLOSE, .session = OTHER, .vc = k.vc};
	uint64_t ac = drv_request(&d, &rc);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->session, ROOT);
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	ck_assert_int_eq(status_of(ac), CM_OK);
	ck_assert_uint_eq(drv_done(&d, ac)->type, CC_CEV_ADMIN_CLOSE_COMPLETE);
	uint64_t cl = drv_close(&d, ROOT, k.vc, k.a, 0);
	ck_assert_int_eq(status_of(cl), CM_OK);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs + st.parties + st.legs, 0);
}
END_TEST

/*
 * An operator's close keeps the owner's rule: with more than one live party
 * left it is refused (CM_E_PARTIES_REMAIN) unless forced; forced, every
 * party goes and the VC closes.  One live party left closes unforced.
 */
START_TEST(admin_close_force_rule)
{
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	uint64_t rb = root_add(&k, 6, &ep, &b);
	peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, ep, 0);
	ck_assert_int_eq(status_of(rb), CM_OK);
	drv_clear(&d);
	struct cc_request rc = {.type = CC_REQ_ADMIN_CLOSE, .session = OTHER, .vc = k.vc};
	ck_assert_int_eq(status_of(drv_request(&d, &rc)), CM_E_PARTIES_REMAIN);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 0);
	ck_assert_uint_eq(drv_ncev_session(&d, ROOT), 0);
	ck_assert_int_eq(party_state(k.vc, k.a), Q_EPS_ACTIVE);
	ck_assert_int_eq(party_state(k.vc, b), Q_EPS_ACTIVE);
	/* forced: RELEASE takes both parties, the owner is told, the close completes */
	drv_clear(&d);
	rc.flags = CM_CLOSE_FORCE;
	uint64_t ac = drv_request(&d, &rc);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->session, ROOT);
	ck_assert_ptr_null(drv_done(&d, ac));
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	ck_assert_int_eq(status_of(ac), CM_OK);
	ck_assert_int_eq(party_state(k.vc, b), -1);
	ck_assert_int_eq(status_of(drv_close(&d, ROOT, k.vc, k.a, 0)), CM_OK);
	/* a party the owner was told is gone does not count: one live party closes unforced */
	struct rcall m;
	root_active(&m);
	rb = root_add(&m, 7, &ep, &b);
	peer_send(Q_MSG_ADD_PARTY_ACK, m.cref, true, ep, 0);
	ck_assert_int_eq(status_of(rb), CM_OK);
	peer_send(Q_MSG_DROP_PARTY, m.cref, true, ep, 16);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_DROP_PARTY, 0)->party, b);
	drv_clear(&d);
	struct cc_request rm = {.type = CC_REQ_ADMIN_CLOSE, .session = OTHER, .vc = m.vc};
	ac = drv_request(&d, &rm);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	peer_send(Q_MSG_RELEASE_COMPLETE, m.cref, true, -1, 0);
	ck_assert_int_eq(status_of(ac), CM_OK);
	ck_assert_int_eq(status_of(drv_close(&d, ROOT, m.vc, m.a, 0)), CM_OK);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs + st.parties + st.legs, 0);
}
END_TEST

/*
 * A forced close while an add waits on a leg still being set up: the
 * RELEASE takes the waiting party too, so its T399 stops with it rather
 * than running on under the leg's T308.
 */
START_TEST(close_stops_queued_add_timer)
{
	struct rcall k;
	root_active(&k);
	struct cc_mac Q = drv_mac(3);
	uint8_t a[20];
	drv_addr(a, Q, 1);
	uint64_t rx = drv_add_party(&d, ROOT, k.vc, a);
	drv_addr(a, Q, 2);
	uint64_t ry = drv_add_party(&d, ROOT, k.vc, a);
	cm_party_id y = last_party(k.vc);
	ck_assert(drv_running(&d, CC_T399, y));
	drv_clear(&d);
	uint64_t cl = drv_close(&d, ROOT, k.vc, 0, CM_CLOSE_FORCE);
	ck_assert_int_eq(status_of(rx), CM_E_CLOSING);
	ck_assert_int_eq(status_of(ry), CM_E_CLOSING);
	ck_assert_uint_eq(drv_nsent_to(&d, Q_MSG_RELEASE, Q), 1);
	ck_assert(!drv_running(&d, CC_T399, y));
	ck_assert_int_eq(party_state(k.vc, y), Q_EPS_DROP_PARTY_INITIATED);
	uint32_t qcref = 0;
	for (size_t i = 0; i < drv_nsent(&d, Q_MSG_RELEASE); i++)
		if (memcmp(SENT(Q_MSG_RELEASE, i)->peer.a, Q.a, 6) == 0)
			qcref = SENT(Q_MSG_RELEASE, i)->msg.cref;
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	struct q_msg m = pmsg(Q_MSG_RELEASE_COMPLETE, qcref, true, -1, 0);
	drv_msg(&d, Q, &m);
	ck_assert_int_eq(status_of(cl), CM_OK);
	ck_assert_uint_eq(drv_ntimers(&d), 0);
}
END_TEST

START_TEST(leaf_reject_and_no_sap)
{
	struct lcall k;
	leaf_offered(&k, 91);
	drv_clear(&d);
	drv_reject(&d, LEAF1, k.vc, k.party, 17);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE), 1);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE_COMPLETE, 0)->msg.cause.value, 17);
	struct cc_vc_info vi;
	ck_assert_int_eq(cc_vc_get(d.c, k.vc, &vi), CM_E_NO_VC);
	/* no SAP for selector 9: RELEASE COMPLETE 88 */
	struct q_msg m = pmsg(Q_MSG_SETUP, 92, false, 0, 0);
	m.bearer.present = m.traffic.present = m.called.present = true;
	m.bearer.p2mp = true;
	drv_addr(m.called.aesa, d.me, 9);
	drv_clear(&d);
	drv_msg(&d, P, &m);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE_COMPLETE, 0)->msg.cause.value, 88);
	/* missing mandatory IE: 96 */
	m.traffic.present = false;
	drv_clear(&d);
	drv_msg(&d, P, &m);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE_COMPLETE, 0)->msg.cause.value, 96);
	/* ADD PARTY refused by the leaf: ADD PARTY REJECT, or RELEASE for the leg's last */
	struct lcall a, b;
	leaf_active(&a, 93);
	leaf_add_offered(&a, 1, 2, &b);
	drv_clear(&d);
	drv_reject(&d, LEAF2, b.vc, b.party, 0);
	ck_assert_uint_eq(SENT(Q_MSG_ADD_PARTY_REJECT, 0)->msg.cause.value, 21);
	/* ADD PARTY for a selector nobody has */
	drv_clear(&d);
	struct q_msg ap = pmsg(Q_MSG_ADD_PARTY, 93, false, 2, 0);
	ap.called.present = true;
	drv_addr(ap.called.aesa, d.me, 50);
	drv_msg(&d, P, &ap);
	ck_assert_uint_eq(SENT(Q_MSG_ADD_PARTY_REJECT, 0)->msg.cause.value, 88);
	/* the leaf's own party closes: the leg's last, so RELEASE; completes on RELEASE COMPLETE */
	drv_clear(&d);
	uint64_t cl = drv_close(&d, LEAF1, a.vc, a.party, 0);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	peer_send(Q_MSG_RELEASE_COMPLETE, 93, false, -1, 0);
	ck_assert_int_eq(status_of(cl), CM_OK);
}
END_TEST

START_TEST(leaf_close_cases)
{
	/* offered, not answered: CloseCall is refused; the client rejects instead */
	struct lcall k;
	leaf_offered(&k, 101);
	ck_assert_int_eq(status_of(drv_close(&d, LEAF1, k.vc, k.party, 0)), CM_E_STATE);
	/* accepted, CONNECT ACK not yet in: CloseCall releases the call */
	drv_accept(&d, LEAF1, k.vc, k.party);
	drv_clear(&d);
	uint64_t cl = drv_close(&d, LEAF1, k.vc, k.party, 0);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	peer_send(Q_MSG_RELEASE_COMPLETE, 101, false, -1, 0);
	ck_assert_int_eq(status_of(cl), CM_OK);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_CALL_CONNECTED), 0);
	/* an operator closes an offered call: RELEASE COMPLETE, the owner is told */
	struct lcall l;
	leaf_offered(&l, 102);
	drv_clear(&d);
	struct cc_request r = {.type = CC_REQ_ADMIN_CLOSE, .session = OTHER, .vc = l.vc};
	uint64_t ac = drv_request(&d, &r);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE), 1);
	ck_assert_int_eq(status_of(ac), CM_OK);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->session, LEAF1);
	ck_assert_int_eq(status_of(drv_close(&d, LEAF1, l.vc, l.party, 0)), CM_OK);
	/* ... and an offered ADD PARTY: ADD PARTY REJECT */
	struct lcall m, b;
	leaf_active(&m, 103);
	leaf_add_offered(&m, 1, 2, &b);
	drv_clear(&d);
	struct cc_request r2 = {.type = CC_REQ_ADMIN_CLOSE, .session = OTHER, .vc = b.vc};
	ac = drv_request(&d, &r2);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_ADD_PARTY_REJECT), 1);
	ck_assert_int_eq(status_of(ac), CM_OK);
	ck_assert_int_eq(status_of(drv_close(&d, LEAF2, b.vc, b.party, 0)), CM_OK);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs, 1);
}
END_TEST

START_TEST(drop_setup_party_of_new_leg)
{
	struct rcall k;
	root_active(&k);
	struct cc_mac Q = drv_mac(3);
	uint8_t a[20];
	drv_addr(a, Q, 1);
	drv_clear(&d);
	uint64_t rx = drv_add_party(&d, ROOT, k.vc, a);
	uint32_t qcref = SENT(Q_MSG_SETUP, 0)->msg.cref;
	cm_party_id x = last_party(k.vc);
	drv_addr(a, Q, 2);
	uint64_t ry = drv_add_party(&d, ROOT, k.vc, a);
	/* the SETUP's party goes while its leg is being set up and another add waits on it */
	drv_clear(&d);
	uint64_t dx = drv_drop(&d, ROOT, k.vc, x, 5);
	ck_assert_int_eq(status_of(rx), CM_E_CLOSING);
	ck_assert_ptr_null(drv_done(&d, dx));
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY) + drv_nsent(&d, Q_MSG_RELEASE), 0);
	/* CONNECT: the waiting add goes out, then the deferred DROP PARTY with its data */
	struct q_msg m = pmsg(Q_MSG_CONNECT, qcref, true, 0, 0);
	drv_clear(&d);
	drv_msg(&d, Q, &m);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_CONNECT_ACK), 1);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_ADD_PARTY), 1);
	const struct cc_action *dp = drv_sent(&d, Q_MSG_DROP_PARTY, 0);
	ck_assert_ptr_nonnull(dp);
	ck_assert_uint_eq(dp->msg.epref.value, 0);
	ck_assert_uint_eq(dp->msg.uu.len, 5);
	ck_assert(drv_sent(&d, Q_MSG_ADD_PARTY, 0) < dp);
	m = pmsg(Q_MSG_DROP_PARTY_ACK, qcref, true, 0, 16);
	drv_msg(&d, Q, &m);
	ck_assert_int_eq(status_of(dx), CM_OK);
	m = pmsg(Q_MSG_ADD_PARTY_ACK, qcref, true, 1, 0);
	drv_msg(&d, Q, &m);
	ck_assert_int_eq(status_of(ry), CM_OK);
	/* alone on its leg: RELEASE at once */
	drv_addr(a, drv_mac(4), 1);
	drv_clear(&d);
	uint64_t rz = drv_add_party(&d, ROOT, k.vc, a);
	uint32_t c4 = SENT(Q_MSG_SETUP, 0)->msg.cref;
	cm_party_id z = last_party(k.vc);
	drv_clear(&d);
	uint64_t dz = drv_drop(&d, ROOT, k.vc, z, 0);
	ck_assert_int_eq(status_of(rz), CM_E_CLOSING);
	ck_assert_uint_eq(drv_nsent_to(&d, Q_MSG_RELEASE, drv_mac(4)), 1);
	m = pmsg(Q_MSG_RELEASE_COMPLETE, c4, true, -1, 0);
	drv_msg(&d, drv_mac(4), &m);
	ck_assert_int_eq(status_of(dz), CM_OK);
}
END_TEST


START_TEST(own_esi_always_valid)
{
	/* a daemon in local mode may leave its ESI all-zero: its own addresses still work */
	drv_free(&d);
	struct cc_config cfg;
	cc_config_defaults(&cfg);
	drv_init(&d, &cfg);
	drv_register(&d, LEAF1, 1);
	uint8_t a[20];
	drv_addr(a, d.me, 1);
	drv_clear(&d);
	uint64_t r = drv_make_call(&d, ROOT, a);
	ck_assert_ptr_null(drv_done(&d, r));
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CALL), 1);
	/* another station with a zero ESI is still no station */
	drv_free(&d);
	cfg.esi = drv_mac(1);
	drv_init(&d, &cfg);
	memset(a + 13, 0, 6);
	ck_assert_int_eq(status_of(drv_make_call(&d, ROOT, a)), CM_E_INVAL);
}
END_TEST

static int asked;

/* allowed_peers as the link has it: P only; call control never asks about itself */
static bool only_p(void *ctx, const uint8_t mac[6])
{
	ck_assert_ptr_eq(ctx, &asked);
	ck_assert_mem_ne(mac, d.me.a, 6);
	asked++;
	return memcmp(mac, P.a, 6) == 0;
}

static size_t nrefused(int status)
{
	size_t n = 0;
	for (size_t i = 0; i < drv_ncev(&d, CC_CEV_REFUSED); i++)
		n += drv_cev(&d, CC_CEV_REFUSED, i)->status == status;
	return n;
}

/* MakeCall and AddParty to a peer outside allowed_peers: CM_E_UNREACHABLE at once. */
START_TEST(unreachable_peer)
{
	struct cc_config cfg = d.cfg;
	drv_free(&d);
	cfg.peer_allowed = only_p;
	cfg.peer_allowed_ctx = &asked;
	drv_init(&d, &cfg);
	asked = 0;
	uint8_t far[20], own[20];
	drv_addr(far, drv_mac(9), 5);
	drv_clear(&d);
	uint64_t r = drv_make_call(&d, ROOT, far);
	ck_assert_int_eq(status_of(r), CM_E_UNREACHABLE);
	ck_assert_uint_eq(drv_done(&d, r)->type, CC_CEV_REFUSED);
	ck_assert_mem_eq(drv_done(&d, r)->caller, far, 20);
	ck_assert_uint_eq(d.nlog, 1); /* nothing sent, no timer */
	ck_assert_uint_eq(asked, 1);
	/* a local call is never asked about */
	drv_register(&d, LEAF1, 1);
	drv_addr(own, d.me, 1);
	drv_make_call(&d, ROOT, own);
	ck_assert_uint_eq(asked, 1);
	ck_assert_uint_eq(nrefused(CM_E_UNREACHABLE), 1);
	/* P is allowed: the call goes on */
	struct rcall k;
	root_active(&k);
	ck_assert_uint_eq(asked, 2);
	r = drv_add_party(&d, ROOT, k.vc, far);
	ck_assert_int_eq(status_of(r), CM_E_UNREACHABLE);
	ck_assert_uint_eq(party_state(k.vc, k.a), Q_EPS_ACTIVE);
	/* SIGHUP's new timers keep the question */
	struct cc_config next;
	cc_config_defaults(&next);
	cc_reconfigure(d.c, &next);
	ck_assert_int_eq(status_of(drv_make_call(&d, ROOT, far)), CM_E_UNREACHABLE);
	ck_assert_uint_eq(asked, 4);
}
END_TEST

/* After CC_EV_SHUTDOWN only the answers to its releases are taken. */
START_TEST(shutdown_refuses_new)
{
	struct lcall l;
	leaf_offered(&l, 77);
	struct cc_event ev = { .type = CC_EV_SHUTDOWN };
	drv_feed(&d, &ev);
	drv_clear(&d);
	uint8_t a[20];
	drv_addr(a, P, 5);
	uint64_t r = drv_make_call(&d, ROOT, a);
	ck_assert_int_eq(status_of(r), CM_E_STATE);
	ck_assert_uint_eq(drv_done(&d, r)->type, CC_CEV_REFUSED);
	ck_assert_int_eq(status_of(drv_register(&d, LEAF2, 3)), CM_E_STATE);
	struct cc_request ad = { .type = CC_REQ_ADMIN_CLOSE, .session = OTHER, .vc = l.vc };
	ck_assert_int_eq(status_of(drv_request(&d, &ad)), CM_E_STATE);
	drv_accept(&d, LEAF1, l.vc, l.party); /* no completion kind of its own: refused */
	ck_assert_uint_eq(nrefused(CM_E_STATE), 4);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_REFUSED), 4);
	/* close, drop and reject still go to the machines */
	uint64_t c = drv_close(&d, LEAF1, l.vc, l.party, 0);
	ck_assert_uint_ne(drv_done(&d, c)->type, CC_CEV_REFUSED);
	drv_reject(&d, LEAF1, l.vc, l.party, 21);
	struct cc_request dr = { .type = CC_REQ_DEREGISTER_SAP, .session = LEAF1, .selector = 1 };
	ck_assert_int_eq(status_of(drv_request(&d, &dr)), CM_OK);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_REFUSED), 4);
}
END_TEST

/* An AddParty with an id from the session's own space: the root can drop it while pending. */
static uint64_t add_as(struct rcall *k, uint8_t sel, cm_party_id id)
{
	struct cc_request r = {.type = CC_REQ_ADD_PARTY, .session = ROOT, .vc = k->vc, .party = id};
	drv_addr(r.addr, P, sel);
	return drv_request(&d, &r);
}

START_TEST(add_party_own_id)
{
	struct rcall k;
	root_active(&k);
	uint64_t base = cmc_party_id_base(ROOT);
	ck_assert_uint_ne(base, 0);
	drv_clear(&d);
	uint64_t rb = add_as(&k, 6, base + 1);
	const struct cc_action *ap = SENT(Q_MSG_ADD_PARTY, 0);
	uint16_t ep = ap->msg.epref.value;
	ck_assert_int_eq(party_state(k.vc, base + 1), Q_EPS_ADD_PARTY_INITIATED);
	ck_assert(drv_running(&d, CC_T399, base + 1));
	/* cancelled while pending, by the id the root chose */
	uint64_t dr = drv_drop(&d, ROOT, k.vc, base + 1, 0);
	ck_assert_int_eq(status_of(rb), CM_E_CLOSING);
	ck_assert_uint_eq(DONE(rb)->party, base + 1);
	ck_assert_ptr_null(drv_done(&d, dr));
	ck_assert_uint_eq(SENT(Q_MSG_DROP_PARTY, 0)->msg.epref.value, ep);
	peer_send(Q_MSG_DROP_PARTY_ACK, k.cref, true, ep, 16);
	ck_assert_int_eq(status_of(dr), CM_OK);
	ck_assert_uint_eq(DONE(dr)->party, base + 1);
	ck_assert_int_eq(party_state(k.vc, base + 1), -1);

	/* an id is taken once, in increasing order, from the session's own space */
	drv_clear(&d);
	ck_assert_int_eq(status_of(add_as(&k, 7, base + 1)), CM_E_INVAL); /* used */
	ck_assert_int_eq(status_of(add_as(&k, 7, base)), CM_E_INVAL);     /* not in it */
	ck_assert_int_eq(status_of(add_as(&k, 7, base + CMC_PARTY_ID_COUNT + 1)), CM_E_INVAL);
	ck_assert_int_eq(status_of(add_as(&k, 7, cmc_party_id_base(LEAF1) + 1)), CM_E_INVAL);
	ck_assert_int_eq(status_of(add_as(&k, 7, k.a)), CM_E_INVAL);      /* call control's */
	/* once it named one, a session names all: the VC's parties stay in id order */
	uint8_t a7[20];
	drv_addr(a7, P, 7);
	ck_assert_int_eq(status_of(drv_add_party(&d, ROOT, k.vc, a7)), CM_E_INVAL);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_ADD_PARTY), 0);
	uint64_t r5 = add_as(&k, 7, base + 5); /* gaps are fine */
	ck_assert_ptr_null(drv_done(&d, r5));
	ck_assert_int_eq(status_of(add_as(&k, 8, base + 3)), CM_E_INVAL);
	ck_assert_int_eq(party_state(k.vc, base + 5), Q_EPS_ADD_PARTY_INITIATED);
	peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, SENT(Q_MSG_ADD_PARTY, 0)->msg.epref.value, 0);
	ck_assert_int_eq(status_of(r5), CM_OK);
	ck_assert_uint_eq(DONE(r5)->party, base + 5);
	ck_assert_uint_eq(last_party(k.vc), base + 5);
	/* a session's space is its own: another root numbers its parties from its own */
	ck_assert_uint_ne(cmc_party_id_base(ROOT), cmc_party_id_base(ROOT + 1));
	ck_assert_uint_eq(cmc_party_id_base(0), 0);
	ck_assert_uint_eq(cmc_party_id_base(1ull << 31), 0);
}
END_TEST

START_TEST(deregister_sap)
{
	struct cc_request r = {.type = CC_REQ_DEREGISTER_SAP, .session = LEAF1, .selector = 1};
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_E_NO_SAP);
	ck_assert_int_eq(status_of(drv_register(&d, LEAF1, 1)), CM_OK);
	r.session = LEAF2;
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_E_PERM);
	r.session = LEAF1;
	uint64_t ok = drv_request(&d, &r);
	ck_assert_int_eq(status_of(ok), CM_OK);
	ck_assert_uint_eq(DONE(ok)->type, CC_CEV_DEREGISTER_SAP_COMPLETE);
	ck_assert_uint_eq(DONE(ok)->selector, 1);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.saps, 0);
	/* a call to it now is refused as to no SAP: RELEASE COMPLETE 88 */
	struct q_msg m = setup_msg(92, 1);
	drv_clear(&d);
	drv_msg(&d, P, &m);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE_COMPLETE, 0)->msg.cause.value, 88);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CALL), 0);
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_E_NO_SAP);
	/* free for anyone again; calls it brought stay with their client */
	ck_assert_int_eq(status_of(drv_register(&d, LEAF2, 1)), CM_OK);
	r.session = LEAF2;
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_OK);
	struct lcall l;
	leaf_offered(&l, 93); /* LEAF1 takes SAP 1 back here */
	r.session = LEAF1;
	ck_assert_int_eq(status_of(drv_request(&d, &r)), CM_OK);
	drv_clear(&d);
	ck_assert_int_eq(status_of(drv_accept(&d, LEAF1, l.vc, l.party)), CM_OK);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_CONNECT), 1);
}
END_TEST

START_TEST(answer_errors)
{
	struct lcall k;
	leaf_offered(&k, 91);
	drv_clear(&d);
	uint64_t r = drv_accept(&d, LEAF1, k.vc + 1000, k.party);
	ck_assert_int_eq(status_of(r), CM_E_NO_VC);
	ck_assert_uint_eq(DONE(r)->type, CC_CEV_ACCEPT_CALL_COMPLETE);
	ck_assert_int_eq(status_of(drv_accept(&d, LEAF2, k.vc, k.party)), CM_E_PERM);
	ck_assert_int_eq(status_of(drv_accept(&d, LEAF1, k.vc, k.party + 1000)), CM_E_NO_PARTY);
	r = drv_reject(&d, LEAF2, k.vc, k.party, 21);
	ck_assert_int_eq(status_of(r), CM_E_PERM);
	ck_assert_uint_eq(DONE(r)->type, CC_CEV_REJECT_CALL_COMPLETE);
	ck_assert_uint_eq(d.nlog, 4); /* the four completions and nothing else */
	/* the real answer completes at once; the call goes on */
	r = drv_accept(&d, LEAF1, k.vc, k.party);
	ck_assert_int_eq(status_of(r), CM_OK);
	ck_assert_uint_eq(DONE(r)->vc, k.vc);
	ck_assert_uint_eq(DONE(r)->party, k.party);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_CONNECT), 1);
	/* answered already */
	drv_clear(&d);
	ck_assert_int_eq(status_of(drv_accept(&d, LEAF1, k.vc, k.party)), CM_E_STATE);
	ck_assert_int_eq(status_of(drv_reject(&d, LEAF1, k.vc, k.party, 21)), CM_E_STATE);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE) + drv_nsent(&d, Q_MSG_CONNECT), 0);
	/* a root's own call is no offered call */
	struct rcall rc;
	root_calling(&rc);
	ck_assert_int_eq(status_of(drv_accept(&d, ROOT, rc.vc, rc.a)), CM_E_STATE);
	/* the caller gave up first: the late answer finds the VC closing */
	struct lcall g;
	leaf_offered(&g, 95);
	peer_send(Q_MSG_RELEASE, 95, false, -1, 16);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->vc, g.vc);
	drv_clear(&d);
	ck_assert_int_eq(status_of(drv_reject(&d, LEAF1, g.vc, g.party, 21)), CM_E_CLOSING);
	ck_assert_int_eq(status_of(drv_accept(&d, LEAF1, g.vc, g.party)), CM_E_CLOSING);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE) + drv_nsent(&d, Q_MSG_CONNECT), 0);
}
END_TEST

static uint64_t npeers(void)
{
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	return st.peers;
}

/*
 * Call control's peer objects go once they hold nothing: 5,000 calls to
 * distinct stations that never answer leave none behind (they used to
 * stay, ~100 octets each, for the life of the daemon), while a peer with
 * a link up or an active call under T309 is kept.
 */
START_TEST(peers_freed_when_unused)
{
	for (unsigned i = 0; i < 5000; i++) {
		struct cc_mac m = { { 0x02, 0x10, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i } };
		uint8_t a[20];
		drv_addr(a, m, 5);
		uint64_t r = drv_make_call(&d, ROOT, a);
		ck_assert_ptr_null(drv_done(&d, r));
		ck_assert_uint_eq(npeers(), 1);
		/* the link fails to come up: the call in set-up is cleared */
		drv_link(&d, m, false);
		ck_assert_int_eq(status_of(r), CM_E_LINK_DOWN);
		ck_assert_uint_eq(npeers(), 0);
		drv_clear(&d);
	}
	/* up with no call: kept while up */
	drv_link(&d, P, true);
	ck_assert_uint_eq(npeers(), 1);
	drv_link(&d, P, false);
	ck_assert_uint_eq(npeers(), 0);
	/* an active call survives the link under T309, and so does its peer
	 * (the fresh peer object restarts first: the driver, which played the
	 * link before, is told it is up again) */
	drv_link(&d, P, true);
	struct rcall k;
	root_active(&k);
	drv_link(&d, P, false);
	ck_assert(drv_running(&d, CC_T309, cc_mac_key(P)));
	ck_assert_uint_eq(npeers(), 1);
	drv_fire(&d, CC_T309, cc_mac_key(P));
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.legs, 0);
	ck_assert_uint_eq(npeers(), 0);
	/* a fresh one starts its next association with a RESTART again */
	drv_clear(&d);
	drv_link(&d, P, true);
	ck_assert_uint_eq(drv_nsent_to(&d, Q_MSG_RESTART, P), 1);
}
END_TEST

/*
 * The link refused a message to P for good (not allowed, no room, no
 * association): calls in set-up toward P end at once with
 * CM_E_UNREACHABLE, cause 27, not by T303 8 s later; an active call and
 * calls to other peers are left alone.
 */
START_TEST(unreachable_event_clears_setup)
{
	struct rcall on, setting_up;
	root_active(&on);
	root_calling(&setting_up);
	uint8_t other[20];
	drv_addr(other, drv_mac(9), 5);
	uint64_t elsewhere = drv_make_call(&d, ROOT, other);
	ck_assert_ptr_null(drv_done(&d, setting_up.make_req));
	struct cc_event ev = { .type = CC_EV_UNREACHABLE, .peer = P };
	drv_feed(&d, &ev);
	const struct cc_client_event *done = drv_done(&d, setting_up.make_req);
	ck_assert_ptr_nonnull(done);
	ck_assert_int_eq(done->status, CM_E_UNREACHABLE);
	ck_assert_int_eq(done->cause, Q_CAUSE_DEST_OUT_OF_ORDER);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.legs, 2); /* the active one and the one to another peer */
	ck_assert_uint_eq(party_state(on.vc, on.a), Q_EPS_ACTIVE);
	ck_assert_ptr_null(drv_done(&d, elsewhere));
	/* a peer call control holds nothing for: nothing happens */
	ev.peer = drv_mac(10);
	drv_clear(&d);
	drv_feed(&d, &ev);
	ck_assert_uint_eq(d.nlog, 0);
}
END_TEST

/*
 * A SAP owner that does not answer its incoming calls (a slow one, or a
 * SETUP flood) is not buried: past max_incoming_per_session unanswered
 * offers, a SETUP is refused with RELEASE COMPLETE cause 41 and an ADD
 * PARTY with ADD PARTY REJECT 41; each answer makes room again.
 */
START_TEST(incoming_flow_control)
{
	struct cc_config cfg = fresh_config();
	cfg.max_incoming_per_session = 2;
	drv_init(&d, &cfg);
	struct lcall on, b, c2;
	leaf_active(&on, 70); /* answered: holds no slot */
	leaf_offered(&b, 71);
	leaf_offered(&c2, 72);
	drv_clear(&d);
	struct q_msg m = setup_msg(73, 1);
	drv_msg(&d, P, &m);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CALL), 0);
	const struct cc_action *rc = drv_sent(&d, Q_MSG_RELEASE_COMPLETE, 0);
	ck_assert_ptr_nonnull(rc);
	ck_assert_uint_eq(rc->msg.cref, 73);
	ck_assert_uint_eq(rc->msg.cause.value, Q_CAUSE_TEMPORARY_FAILURE);
	/* a party added on the active leg meets the same bound */
	drv_clear(&d);
	struct q_msg ap = pmsg(Q_MSG_ADD_PARTY, on.cref, false, 5, 0);
	ap.called.present = true;
	drv_addr(ap.called.aesa, d.me, 1);
	drv_msg(&d, P, &ap);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CALL), 0);
	const struct cc_action *rj = drv_sent(&d, Q_MSG_ADD_PARTY_REJECT, 0);
	ck_assert_ptr_nonnull(rj);
	ck_assert_uint_eq(rj->msg.cause.value, Q_CAUSE_TEMPORARY_FAILURE);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.incoming_refused, 2);
	/* the owner answers one: the next call is offered */
	drv_reject(&d, LEAF1, b.vc, b.party, 21);
	drv_clear(&d);
	m = setup_msg(74, 1);
	drv_msg(&d, P, &m);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CALL), 1);
}
END_TEST

static uint64_t call_as(uint64_t session, uint32_t uid, struct cc_mac to)
{
	struct cc_request r = { .type = CC_REQ_MAKE_CALL, .session = session, .uid = uid };
	drv_addr(r.addr, to, 5);
	return drv_request(&d, &r);
}

/*
 * Budgets per user, not per session: eight sessions of one user used to
 * hold eight times max_vcs_per_session.  Over max_vcs_per_user a MakeCall
 * gets CM_E_LIMIT and a call offered to the user's SAP cause 47; another
 * user is not affected; a session's end gives the room back.
 */
START_TEST(user_budgets)
{
	struct cc_config cfg = fresh_config();
	cfg.max_vcs_per_user = 3;
	drv_init(&d, &cfg);
	struct cc_request reg = { .type = CC_REQ_REGISTER_SAP, .session = 21, .selector = 1,
				  .uid = 1000 };
	ck_assert_int_eq(status_of(drv_request(&d, &reg)), CM_OK);
	ck_assert_ptr_null(drv_done(&d, call_as(21, 1000, P)));
	ck_assert_ptr_null(drv_done(&d, call_as(21, 1000, P)));
	ck_assert_ptr_null(drv_done(&d, call_as(22, 1000, P)));
	ck_assert_int_eq(status_of(call_as(22, 1000, P)), CM_E_LIMIT);
	ck_assert_int_eq(status_of(call_as(21, 1000, P)), CM_E_LIMIT);
	ck_assert_ptr_null(drv_done(&d, call_as(23, 1001, P))); /* someone else */
	/* an incoming call for the user's SAP would be a fourth VC: cause 47 */
	drv_clear(&d);
	struct q_msg m = setup_msg(90, 1);
	drv_msg(&d, P, &m);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CALL), 0);
	const struct cc_action *rc = drv_sent(&d, Q_MSG_RELEASE_COMPLETE, 0);
	ck_assert_ptr_nonnull(rc);
	ck_assert_uint_eq(rc->msg.cause.value, Q_CAUSE_RESOURCE_UNAVAILABLE);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.budget_refused, 3);
	ck_assert_uint_eq(st.users, 2);
	/* session 22 goes: its VC is torn down and the user may call again */
	drv_session_closed(&d, 22);
	ck_assert_ptr_null(drv_done(&d, call_as(21, 1000, P)));
	drv_session_closed(&d, 21);
	drv_session_closed(&d, 23);
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.users, 0);
}
END_TEST

/*
 * max_memory bounds call control's state for everyone together: calls
 * are refused CM_E_LIMIT once the estimate reaches it, and the estimate
 * stays near it (a hash table that doubles its buckets may pass it by
 * those).
 */
START_TEST(memory_budget)
{
	struct cc_config cfg = fresh_config();
	/* 17 MiB: the 16,384th call doubles the call tables' buckets, which took
	 * the estimate 0.7 MiB past the budget before the growth was counted */
	cfg.max_memory_mib = 17;
	drv_init(&d, &cfg);
	/* the whole-state check after each of ~15,000 calls would be quadratic */
	d.check_every = 1000;
	size_t made = 0;
	for (;;) {
		uint64_t r = call_as(100 + made % 4, (uint32_t)(made % 4), P);
		const struct cc_client_event *e = drv_done(&d, r);
		if (e) {
			ck_assert_int_eq(e->status, CM_E_LIMIT);
			break;
		}
		if (++made == 100000)
			ck_abort_msg("no limit after 100,000 calls");
		drv_clear(&d);
	}
	ck_assert_ptr_null(cc_check_invariants(d.c));
	uint64_t bytes = cc_state_bytes(d.c);
	/* a doubling of a hash table's buckets is counted before it happens */
	ck_assert_uint_le(bytes, 17u << 20);
	ck_assert_uint_ge(bytes, 16u << 20);
	printf("max_memory 17 MiB: %zu calls in set-up, %llu octets estimated\n", made,
	       (unsigned long long)bytes);
}
END_TEST

static uint64_t reg_as(uint64_t session, uint32_t uid, uint8_t sel)
{
	struct cc_request r = { .type = CC_REQ_REGISTER_SAP, .session = session, .uid = uid,
				.selector = sel };
	return drv_request(&d, &r);
}

/* the daemon's sap_ranges, played: nobody but session 33 may have selector 9 */
static bool not_nine(void *ctx, uint64_t session, uint8_t sel)
{
	return sel != 9 || session == 33;
}

/*
 * SAP squatting: one user holds at most max_saps_per_user selectors across
 * its sessions (root any), and sap_allowed (the daemon's sap_ranges)
 * refuses selectors outside the user's ranges with CM_E_PERM.
 */
START_TEST(sap_policy)
{
	struct cc_config cfg = fresh_config();
	cfg.max_saps_per_user = 2;
	cfg.sap_allowed = not_nine;
	drv_init(&d, &cfg);
	ck_assert_int_eq(status_of(reg_as(31, 1000, 1)), CM_OK);
	ck_assert_int_eq(status_of(reg_as(31, 1000, 1)), CM_OK); /* its own again */
	ck_assert_int_eq(status_of(reg_as(31, 1000, 2)), CM_OK);
	ck_assert_int_eq(status_of(reg_as(32, 1000, 3)), CM_E_LIMIT);
	ck_assert_int_eq(status_of(reg_as(32, 1000, 9)), CM_E_PERM);
	ck_assert_int_eq(status_of(reg_as(34, 1001, 1)), CM_E_SAP_IN_USE);
	for (uint8_t sel = 100; sel < 120; sel++)
		ck_assert_int_eq(status_of(reg_as(33, 0, sel)), CM_OK); /* root */
	ck_assert_int_eq(status_of(reg_as(33, 0, 9)), CM_OK);
	drv_session_closed(&d, 31);
	ck_assert_int_eq(status_of(reg_as(32, 1000, 3)), CM_OK);
	ck_assert_int_eq(status_of(reg_as(32, 1000, 1)), CM_OK);
	ck_assert_int_eq(status_of(reg_as(32, 1000, 2)), CM_E_LIMIT);
}
END_TEST

Suite *cc_test_suite(void)
{
	Suite *s = suite_create("cc-rules");
	TCase *tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, common_setup, common_teardown);
	tcase_add_test(tc, make_call_errors);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, add_party_errors);
	tcase_add_test(tc, drop_party_errors_in_order);
	tcase_add_test(tc, drop_closing_and_drop_received);
	tcase_add_test(tc, close_call_errors);
	tcase_add_test(tc, incoming_close_then_close);
	tcase_add_test(tc, register_sap);
	tcase_add_test(tc, add_queued_while_leg_sets_up);
	tcase_add_test(tc, drop_while_adding);
	tcase_add_test(tc, admin_drop_and_close);
	tcase_add_test(tc, admin_close_force_rule);
	tcase_add_test(tc, close_stops_queued_add_timer);
	tcase_add_test(tc, leaf_reject_and_no_sap);
	tcase_add_test(tc, leaf_close_cases);
	tcase_add_test(tc, drop_setup_party_of_new_leg);
	tcase_add_test(tc, own_esi_always_valid);
	tcase_add_test(tc, unreachable_peer);
	tcase_add_test(tc, shutdown_refuses_new);
	tcase_add_test(tc, add_party_own_id);
	tcase_add_test(tc, deregister_sap);
	tcase_add_test(tc, answer_errors);
	tcase_add_test(tc, peers_freed_when_unused);
	tcase_add_test(tc, unreachable_event_clears_setup);
	tcase_add_test(tc, incoming_flow_control);
	tcase_add_test(tc, user_budgets);
	tcase_add_test(tc, memory_budget);
	tcase_add_test(tc, sap_policy);
	suite_add_tcase(s, tc);
	return s;
}
