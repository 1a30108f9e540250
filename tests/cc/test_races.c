/* SPDX-License-Identifier: MIT */
/*
 * Races between an owner's answer and the procedure that asked for it
 * (issue 11): an operator's drop or close, or the shutdown, tells the owner
 * at once; the owner answers at once, before the wire procedure ends.  The
 * answer completes CM_OK at once, the operator's request when the wire is
 * done, and nothing is left behind.  Wire mode with a scripted peer P;
 * local mode with owners answering from their callbacks, which the queue
 * delivers before the local leg's answer.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static void assert_empty(void)
{
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs + st.parties + st.legs, 0);
	ck_assert_uint_eq(drv_ntimers(&d), 0);
	drv_check_exactly_once(&d);
}

/* A root VC to P with parties a (epref 0) and b (returned), both active. */
static void two_parties(struct rcall *k, cm_party_id *b, uint16_t *ep)
{
	root_active(k);
	uint64_t rb = root_add(k, 6, ep, b);
	peer_send(Q_MSG_ADD_PARTY_ACK, k->cref, true, *ep, 0);
	ck_assert_int_eq(req_status(rb), CM_OK);
}

/* cmctl drop VC P, the owner answering its IncomingDropParty before DROP PARTY ACK. */
START_TEST(wire_admin_drop_answered_at_once)
{
	struct rcall k;
	cm_party_id b;
	uint16_t ep;
	two_parties(&k, &b, &ep);
	drv_clear(&d);
	struct cc_request r = {.type = CC_REQ_ADMIN_DROP, .session = OTHER, .vc = k.vc, .party = b};
	uint64_t ad = drv_request(&d, &r);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_DROP_PARTY, 0)->party, b);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY), 1);
	uint64_t ans = drv_drop(&d, ROOT, k.vc, b, 0);
	ck_assert_int_eq(req_status(ans), CM_OK);
	ck_assert_ptr_null(drv_done(&d, ad));
	/* answered twice: the first answer took it */
	ck_assert_int_eq(req_status(drv_drop(&d, ROOT, k.vc, b, 0)), CM_E_BUSY);
	peer_send(Q_MSG_DROP_PARTY_ACK, k.cref, true, ep, 16);
	ck_assert_int_eq(req_status(ad), CM_OK);
	/* the party is gone, not waiting in PU6 for an answer already given */
	ck_assert_int_eq(party_state(k.vc, b), -1);
	ck_assert_int_eq(party_state(k.vc, k.a), Q_EPS_ACTIVE);
	drv_clear(&d);
	ck_assert_ptr_null(drv_done(&d, drv_close(&d, ROOT, k.vc, k.a, 0)));
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	assert_empty();
}
END_TEST

/* The same, the network's RELEASE ending the operator's drop. */
START_TEST(wire_admin_drop_answered_then_released)
{
	struct rcall k;
	cm_party_id b;
	uint16_t ep;
	two_parties(&k, &b, &ep);
	struct cc_request r = {.type = CC_REQ_ADMIN_DROP, .session = OTHER, .vc = k.vc, .party = b};
	uint64_t ad = drv_request(&d, &r);
	ck_assert_int_eq(req_status(drv_drop(&d, ROOT, k.vc, b, 0)), CM_OK);
	drv_clear(&d);
	peer_send(Q_MSG_RELEASE, k.cref, true, -1, 16);
	ck_assert_int_eq(req_status(ad), CM_OK);
	/* the owner hears of a, not again of b */
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_DROP_PARTY), 0);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CLOSE_CALL), 1);
	ck_assert_int_eq(req_status(drv_close(&d, ROOT, k.vc, k.a, 0)), CM_OK);
	assert_empty();
}
END_TEST

/* cmctl close VC, the owner answering its IncomingCloseCall before RELEASE COMPLETE. */
START_TEST(wire_admin_close_answered_at_once)
{
	struct rcall k;
	cm_party_id b;
	uint16_t ep;
	two_parties(&k, &b, &ep);
	drv_clear(&d);
	struct cc_request r = {
		.type = CC_REQ_ADMIN_CLOSE, .session = OTHER, .vc = k.vc, .flags = CM_CLOSE_FORCE};
	uint64_t ac = drv_request(&d, &r);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->session, ROOT);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	uint64_t ans = drv_close(&d, ROOT, k.vc, 0, CM_CLOSE_FORCE);
	ck_assert_int_eq(req_status(ans), CM_OK);
	ck_assert_int_eq(req_status(drv_close(&d, ROOT, k.vc, 0, CM_CLOSE_FORCE)), CM_E_BUSY);
	ck_assert_ptr_null(drv_done(&d, ac));
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	ck_assert_int_eq(req_status(ac), CM_OK);
	struct cc_vc_info vi;
	ck_assert_int_eq(cc_vc_get(d.c, k.vc, &vi), CM_E_NO_VC);
	assert_empty();
}
END_TEST

/* Answered late (after the wire), the close still completes and the VC goes. */
START_TEST(wire_admin_close_answered_late)
{
	struct rcall k;
	root_active(&k);
	struct cc_request r = {.type = CC_REQ_ADMIN_CLOSE, .session = OTHER, .vc = k.vc};
	uint64_t ac = drv_request(&d, &r);
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	ck_assert_int_eq(req_status(ac), CM_OK);
	struct cc_vc_info vi;
	ck_assert_int_eq(cc_vc_get(d.c, k.vc, &vi), CM_OK);
	ck_assert_uint_eq(vi.state, CC_VC_CLOSE_RECEIVED);
	ck_assert_int_eq(req_status(drv_close(&d, ROOT, k.vc, k.a, 0)), CM_OK);
	assert_empty();
}
END_TEST

/*
 * SIGTERM with a root and a leaf call up: both owners get IncomingCloseCall
 * and answer, one before the peer's RELEASE COMPLETE, one after; both
 * answers complete CM_OK and the node ends empty.
 */
START_TEST(wire_shutdown_answers)
{
	struct rcall k;
	root_active(&k);
	struct lcall l;
	leaf_active(&l, 81);
	drv_clear(&d);
	struct cc_event ev = {.type = CC_EV_SHUTDOWN};
	drv_feed(&d, &ev);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CLOSE_CALL), 2);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 2);
	ck_assert_int_eq(req_status(drv_close(&d, ROOT, k.vc, k.a, 0)), CM_OK);
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	peer_send(Q_MSG_RELEASE_COMPLETE, l.cref, false, -1, 0);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.legs, 0);
	ck_assert_uint_eq(st.vcs, 1); /* the leaf's, until its owner answers */
	ck_assert_int_eq(req_status(drv_close(&d, LEAF1, l.vc, l.party, 0)), CM_OK);
	assert_empty();
}
END_TEST

/* An owner that goes away instead of answering leaves nothing either. */
START_TEST(wire_shutdown_owner_gone)
{
	struct rcall k;
	root_active(&k);
	struct cc_event ev = {.type = CC_EV_SHUTDOWN};
	drv_feed(&d, &ev);
	peer_send(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	drv_session_closed(&d, ROOT);
	assert_empty();
}
END_TEST

/* ------------------------------------------------------------ local mode */

static cm_party_id want_drop_answer;

/* Owners answer every IncomingDropParty/IncomingCloseCall from the callback. */
static void answering_owner(struct drv *dd, const struct cc_client_event *ev)
{
	struct cc_request r = {.session = ev->session, .vc = ev->vc, .party = ev->party};
	if (ev->type == CC_CEV_INCOMING_DROP_PARTY && ev->party == want_drop_answer)
		r.type = CC_REQ_DROP_PARTY;
	else if (ev->type == CC_CEV_INCOMING_CLOSE_CALL)
		r.type = CC_REQ_CLOSE_CALL;
	else
		return;
	drv_queue(dd, &r);
}

/* A local root VC from ROOT to SAPs 1 and 2 (LEAF1, LEAF2), both accepted. */
static void local_two(cm_vc_id *vc, cm_party_id *a, cm_party_id *b)
{
	drv_register(&d, LEAF1, 1);
	drv_register(&d, LEAF2, 2);
	uint8_t addr[20];
	drv_addr(addr, d.me, 1);
	drv_clear(&d);
	uint64_t r = drv_make_call(&d, ROOT, addr);
	const struct cc_client_event *in = CEV(CC_CEV_INCOMING_CALL, 0);
	drv_accept(&d, in->session, in->vc, in->party);
	ck_assert_int_eq(req_status(r), CM_OK);
	*vc = DONE(r)->vc;
	*a = DONE(r)->party;
	drv_addr(addr, d.me, 2);
	drv_clear(&d);
	r = drv_add_party(&d, ROOT, *vc, addr);
	in = CEV(CC_CEV_INCOMING_CALL, 0);
	drv_accept(&d, in->session, in->vc, in->party);
	ck_assert_int_eq(req_status(r), CM_OK);
	*b = DONE(r)->party;
}

/* ROOT, LEAF1 and LEAF2 were told their VC closed, each answered CM_OK, nothing is left. */
static void three_owners_answered(void)
{
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CLOSE_CALL), 3);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_CLOSE_CALL_COMPLETE), 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(CEV(CC_CEV_CLOSE_CALL_COMPLETE, i)->status, CM_OK);
	assert_empty();
}

/* local_two(), its owners answering from their callbacks from now on; the VC. */
static cm_vc_id local_two_answering(void)
{
	cm_vc_id vc;
	cm_party_id a, b;
	local_two(&vc, &a, &b);
	d.on_cev = answering_owner;
	drv_clear(&d);
	return vc;
}

/* The owner's answer is handled while the local DROP PARTY ACK is still queued. */
START_TEST(local_admin_drop_answered_at_once)
{
	cm_vc_id vc;
	cm_party_id a, b;
	local_two(&vc, &a, &b);
	d.on_cev = answering_owner;
	want_drop_answer = b;
	drv_clear(&d);
	struct cc_request r = {.type = CC_REQ_ADMIN_DROP, .session = OTHER, .vc = vc, .party = b};
	uint64_t ad = drv_request(&d, &r);
	ck_assert_int_eq(req_status(ad), CM_OK);
	const struct cc_client_event *dp = CEV(CC_CEV_DROP_PARTY_COMPLETE, 0);
	ck_assert_uint_eq(dp->session, ROOT);
	ck_assert_int_eq(dp->status, CM_OK);
	ck_assert_int_eq(party_state(vc, b), -1);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->session, LEAF2);
	/* LEAF2 answered too; the call goes on between ROOT and LEAF1 */
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs, 2);
	ck_assert_uint_eq(st.parties, 2);
	d.on_cev = NULL;
	ck_assert_int_eq(req_status(drv_close(&d, ROOT, vc, a, 0)), CM_OK);
	drv_quiesce(&d);
	assert_empty();
}
END_TEST

START_TEST(local_admin_close_answered_at_once)
{
	cm_vc_id vc = local_two_answering();
	struct cc_request r = {
		.type = CC_REQ_ADMIN_CLOSE, .session = OTHER, .vc = vc, .flags = CM_CLOSE_FORCE};
	uint64_t ac = drv_request(&d, &r);
	ck_assert_int_eq(req_status(ac), CM_OK);
	three_owners_answered();
}
END_TEST

START_TEST(local_shutdown_answers)
{
	local_two_answering();
	struct cc_event ev = {.type = CC_EV_SHUTDOWN};
	drv_feed(&d, &ev);
	three_owners_answered();
}
END_TEST

Suite *cc_test_suite(void)
{
	Suite *s = suite_create("cc-races");
	TCase *tc = tcase_create("races");
	tcase_add_checked_fixture(tc, common_setup, common_teardown);
	tcase_add_test(tc, wire_admin_drop_answered_at_once);
	tcase_add_test(tc, wire_admin_drop_answered_then_released);
	tcase_add_test(tc, wire_admin_close_answered_at_once);
	tcase_add_test(tc, wire_admin_close_answered_late);
	tcase_add_test(tc, wire_shutdown_answers);
	tcase_add_test(tc, wire_shutdown_owner_gone);
	tcase_add_test(tc, local_admin_drop_answered_at_once);
	tcase_add_test(tc, local_admin_close_answered_at_once);
	tcase_add_test(tc, local_shutdown_answers);
	suite_add_tcase(s, tc);
	return s;
}
