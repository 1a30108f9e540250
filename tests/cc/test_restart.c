/* SPDX-License-Identifier: MIT */
/*
 * Our RESTART (Q.2931 §5.5.1): calls wait for RESTART ACKNOWLEDGE, T316
 * and its retries, the peer out of service when it never comes.  The
 * driver's automatic peer is off: the test plays the link and the answer.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define CC_MAX_DEFERRED_TEST 16 /* CC_MAX_DEFERRED in daemon/cc/store.h */

static void setup_manual(void)
{
	common_setup();
	d.auto_peer = false;
}

static uint64_t call_p(void)
{
	uint8_t a[20];
	drv_addr(a, P, 5);
	drv_clear(&d);
	return drv_make_call(&d, ROOT, a);
}

static void ack_from_p(void)
{
	struct q_msg m = pmsg(Q_MSG_RESTART_ACK, 0, true, -1, 0);
	m.restart.present = true;
	m.restart.rclass = Q_RESTART_ALL;
	drv_clear(&d);
	drv_msg(&d, P, &m);
}

static bool link_asked(void)
{
	for (size_t i = 0; i < d.nlog; i++)
		if (d.log[i].type == CC_ACT_LINK_ESTABLISH)
			return true;
	return false;
}

/* §5.5.1: no call is placed before RESTART ACKNOWLEDGE */
START_TEST(setup_waits_for_ack)
{
	uint64_t req = call_p();
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 0);
	ck_assert(link_asked());
	drv_clear(&d);
	drv_link(&d, P, true);
	ck_assert_uint_eq(SENT(Q_MSG_RESTART, 0)->msg.restart.rclass, Q_RESTART_ALL);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 0);
	ck_assert(drv_running(&d, CC_T316, cc_mac_key(P)));
	ack_from_p();
	ck_assert(!drv_running(&d, CC_T316, cc_mac_key(P)));
	const struct cc_action *s = SENT(Q_MSG_SETUP, 0);
	ck_assert(drv_running(&d, CC_T303, drv_timer_obj(&d, CC_T303, 0)));
	peer_send(Q_MSG_CONNECT, s->msg.cref, true, 0, 0);
	ck_assert_int_eq(DONE(req)->status, CM_OK);
	/* the link bouncing later restarts nothing: our state was never lost */
	drv_link(&d, P, false);
	drv_clear(&d);
	drv_link(&d, P, true);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RESTART), 0);
}
END_TEST

/*
 * §5.5.1: a call offered meanwhile is not accepted before the acknowledgement,
 * which may have crossed it: it waits, then is offered.  Run 1: one SETUP;
 * run 2: the peer's T303 repeated it while it waited, and the repeat is the
 * call's to ignore (fuzz_cc_sequence: two legs on one call reference).
 */
START_TEST(incoming_setup_while_waiting)
{
	drv_register(&d, LEAF1, 1);
	drv_link(&d, P, true);
	struct q_msg s = setup_msg(70, 1);
	drv_clear(&d);
	for (int i = 0; i <= _i; i++)
		drv_msg(&d, P, &s);
	ck_assert_uint_eq(d.nlog, 0);
	ack_from_p();
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CALL), 1);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE), 0);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_STATUS), 0);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.legs, 1);
	ck_assert_uint_eq(st.vcs, 1);
}
END_TEST

/*
 * A peer object kept only by the SETUPs held for our restart goes when they
 * go: here the peer's RESTART drops them, its link never reported up (as a
 * fuzzed sequence had it).  It used to stay, unlisted for reaping, and the
 * invariants refused it ("peer kept with nothing on it").
 */
START_TEST(peer_freed_when_held_setups_dropped)
{
	drv_register(&d, LEAF1, 1);
	struct q_msg s = setup_msg(70, 1);
	drv_msg(&d, P, &s);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.peers, 1);
	struct q_msg r = pmsg(Q_MSG_RESTART, 0, false, -1, 0);
	r.restart.present = true;
	r.restart.rclass = Q_RESTART_ALL;
	drv_msg(&d, P, &r);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CALL), 0);
	ck_assert_ptr_null(cc_check_invariants(d.c));
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.peers, 0);
}
END_TEST

/* §5.5.2: the peer's RESTART clears its calls, also those it offered before
 * it that wait for our acknowledgement: never offered, never answered */
START_TEST(peer_restart_clears_held_setups)
{
	drv_register(&d, LEAF1, 1);
	drv_link(&d, P, true);
	struct q_msg s = setup_msg(70, 1);
	drv_msg(&d, P, &s);
	struct q_msg r = pmsg(Q_MSG_RESTART, 0, false, -1, 0);
	r.restart.present = true;
	r.restart.rclass = Q_RESTART_ALL;
	drv_clear(&d);
	drv_msg(&d, P, &r);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RESTART_ACK), 1);
	ack_from_p();
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CALL), 0);
	ck_assert_uint_eq(d.nlog, 1); /* T316 stopped, nothing sent */
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.legs, 0);
}
END_TEST

/* ... but never more than CC_MAX_DEFERRED, and none once the peer is out of service */
START_TEST(incoming_setups_refused)
{
	drv_register(&d, LEAF1, 1);
	drv_link(&d, P, true);
	drv_clear(&d);
	for (uint32_t i = 0; i <= CC_MAX_DEFERRED_TEST; i++) {
		struct q_msg s = setup_msg(100 + i, 1);
		drv_msg(&d, P, &s);
	}
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE), 1);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE_COMPLETE, 0)->msg.cref, 100 + CC_MAX_DEFERRED_TEST);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE_COMPLETE, 0)->msg.cause.value, 41);
	drv_clear(&d);
	drv_fire(&d, CC_T316, cc_mac_key(P));
	drv_fire(&d, CC_T316, cc_mac_key(P));
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE), CC_MAX_DEFERRED_TEST);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE_COMPLETE, 0)->msg.cref, 100);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CALL), 0);
	struct q_msg s = setup_msg(200, 1);
	drv_clear(&d);
	drv_msg(&d, P, &s);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE_COMPLETE, 0)->msg.cause.value, 41);
}
END_TEST

/* T316 resends up to n316, then the peer is out of service: the waiting
 * call ends (102), new ones are refused, a new association tries again */
START_TEST(t316_exhausted)
{
	uint64_t req = call_p();
	drv_link(&d, P, true);
	uint64_t key = cc_mac_key(P);
	drv_clear(&d);
	drv_fire(&d, CC_T316, key);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RESTART), 1);
	ck_assert(drv_running(&d, CC_T316, key));
	ck_assert_ptr_null(drv_done(&d, req));
	drv_clear(&d);
	drv_fire(&d, CC_T316, key);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RESTART), 0);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 0);
	ck_assert(!drv_running(&d, CC_T316, key));
	ck_assert_int_eq(DONE(req)->status, CM_E_TIMEOUT);
	ck_assert_int_eq(DONE(req)->cause, 102);
	uint64_t again = call_p();
	ck_assert_int_eq(DONE(again)->type, CC_CEV_REFUSED);
	ck_assert_int_eq(DONE(again)->status, CM_E_UNREACHABLE);
	ck_assert_uint_eq(d.nlog, 1);
	/* maintenance: the link set up anew restarts, and calls go out again */
	drv_link(&d, P, false);
	drv_clear(&d);
	drv_link(&d, P, true);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RESTART), 1);
	uint64_t third = call_p();
	ack_from_p();
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 1);
	ck_assert_ptr_null(drv_done(&d, third));
}
END_TEST

/* A late RESTART ACKNOWLEDGE puts an out-of-service peer back in service */
START_TEST(late_ack)
{
	drv_link(&d, P, true);
	drv_fire(&d, CC_T316, cc_mac_key(P));
	drv_fire(&d, CC_T316, cc_mac_key(P));
	uint64_t refused = call_p();
	ck_assert_int_eq(DONE(refused)->status, CM_E_UNREACHABLE);
	ack_from_p();
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_STATUS), 0);
	call_p();
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 1);
}
END_TEST

/* §5.5: RESTART ACKNOWLEDGE with no RESTART of ours outstanding: STATUS 101 */
START_TEST(unexpected_ack)
{
	drv_link(&d, P, true);
	ack_from_p();
	ack_from_p();
	const struct cc_action *st = SENT(Q_MSG_STATUS, 0);
	ck_assert_uint_eq(st->msg.cref, 0);
	ck_assert_uint_eq(st->msg.cause.value, 101);
}
END_TEST

/* A held call's T303: nothing was sent, so nothing is resent or released */
START_TEST(held_t303)
{
	uint64_t req = call_p();
	drv_link(&d, P, true);
	uint64_t leg = drv_timer_obj(&d, CC_T303, 0);
	ck_assert_uint_ne(leg, 0);
	drv_clear(&d);
	drv_fire(&d, CC_T303, leg);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 0);
	drv_clear(&d);
	drv_fire(&d, CC_T303, leg);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE), 0);
	ck_assert_int_eq(DONE(req)->status, CM_E_TIMEOUT);
	ck_assert_int_eq(DONE(req)->cause, 18);
	/* the restart goes on without it */
	ck_assert(drv_running(&d, CC_T316, cc_mac_key(P)));
}
END_TEST

/* A held call whose owner goes away ends without a word on the wire */
START_TEST(held_session_closed)
{
	call_p();
	drv_link(&d, P, true);
	drv_clear(&d);
	drv_session_closed(&d, ROOT);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 0);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE), 0);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.legs + st.vcs + st.parties, 0);
	ack_from_p();
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 0);
}
END_TEST

/* The held call's leg as the public view shows it: its call reference and call state */
static struct cc_party_info held_leg(void)
{
	struct cc_vc_info vi;
	struct cc_party_info pi;
	memset(&pi, 0, sizeof(pi));
	ck_assert_uint_eq(cc_vc_list(d.c, 0, &vi, 1), 1);
	ck_assert_uint_eq(cc_party_list(d.c, vi.vc, 0, &pi, 1), 1);
	return pi;
}

/*
 * Messages naming a held call's reference (fuzz_cc_sequence,
 * regress-restart-held-setup: a CALL PROCEEDING took a held leg to U3,
 * whose SETUP the ACK then sent).  The peer never saw that SETUP, so they
 * are about no call of ours: answered as a call reference not in use,
 * the call stays held in U1 and goes out after the ACK.
 */
START_TEST(held_call_messages)
{
	uint64_t req = call_p();
	drv_link(&d, P, true);
	uint32_t cref = held_leg().cref;
	static const struct {
		uint8_t type;
		uint8_t answer; /* 0: none */
	} rows[] = {
		{ Q_MSG_CALL_PROCEEDING, Q_MSG_RELEASE_COMPLETE },
		{ Q_MSG_ALERTING, Q_MSG_RELEASE_COMPLETE },
		{ Q_MSG_CONNECT, Q_MSG_RELEASE_COMPLETE },
		{ Q_MSG_ADD_PARTY, Q_MSG_RELEASE_COMPLETE },
		{ Q_MSG_RELEASE, Q_MSG_RELEASE_COMPLETE },
		{ Q_MSG_RELEASE_COMPLETE, 0 },
		{ Q_MSG_STATUS, 0 }, /* call state 0: the call is not on the wire, right */
		{ Q_MSG_STATUS_ENQUIRY, Q_MSG_STATUS },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct q_msg m = pmsg(rows[i].type, cref, true, 0, Q_CAUSE_NORMAL_CLEARING);
		m.call_state_present = true;
		m.call_state = 0;
		drv_clear(&d);
		drv_msg(&d, P, &m);
		ck_assert_msg(drv_ncev_session(&d, ROOT) == 0, "row %zu: the owner was told", i);
		ck_assert_uint_eq(held_leg().call_state, 1);
		ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 0);
		if (!rows[i].answer) {
			ck_assert_msg(d.nlog == 0, "row %zu: answered", i);
			continue;
		}
		const struct cc_action *a = SENT(rows[i].answer, 0);
		ck_assert_uint_eq(a->msg.cref, cref);
		ck_assert(!a->msg.cref_flag);
		if (rows[i].answer == Q_MSG_STATUS)
			ck_assert_uint_eq(a->msg.call_state, 0);
		else
			ck_assert_uint_eq(a->msg.cause.value, Q_CAUSE_INVALID_CREF);
	}
	/* the decoder asking to clear the call clears none of ours */
	struct q_msg conn = pmsg(Q_MSG_CONNECT, cref, true, 0, 0);
	drv_clear(&d);
	drv_msg_dec(&d, P, &conn, Q_VERDICT_CLEAR, Q_CAUSE_MANDATORY_IE_MISSING, 0, 0);
	ck_assert_ptr_null(drv_done(&d, req));
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 0);
	ck_assert_uint_eq(held_leg().call_state, 1);
	/* after the acknowledgement the call goes out on that reference and is made */
	ack_from_p();
	const struct cc_action *s = SENT(Q_MSG_SETUP, 0);
	ck_assert_uint_eq(s->msg.cref, cref);
	ck_assert(drv_running(&d, CC_T303, drv_timer_obj(&d, CC_T303, 0)));
	peer_send(Q_MSG_CONNECT, cref, true, 0, 0);
	ck_assert_int_eq(DONE(req)->status, CM_OK);
	ck_assert_uint_eq(held_leg().call_state, 10);
}
END_TEST

/* The link lost while waiting: T316 stops, the RESTART goes again on the next one */
START_TEST(link_down_while_waiting)
{
	uint64_t req = call_p();
	drv_link(&d, P, true);
	drv_clear(&d);
	drv_link(&d, P, false);
	ck_assert(!drv_running(&d, CC_T316, cc_mac_key(P)));
	ck_assert_int_eq(DONE(req)->status, CM_E_LINK_DOWN);
	drv_clear(&d);
	drv_link(&d, P, true);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RESTART), 1);
	ck_assert(drv_running(&d, CC_T316, cc_mac_key(P)));
}
END_TEST

Suite *cc_test_suite(void)
{
	Suite *s = suite_create("cc-restart");
	TCase *tc = tcase_create("restart");
	tcase_add_checked_fixture(tc, setup_manual, common_teardown);
	tcase_add_test(tc, setup_waits_for_ack);
	tcase_add_loop_test(tc, incoming_setup_while_waiting, 0, 2);
	tcase_add_test(tc, peer_restart_clears_held_setups);
	tcase_add_test(tc, peer_freed_when_held_setups_dropped);
	tcase_add_test(tc, incoming_setups_refused);
	tcase_add_test(tc, t316_exhausted);
	tcase_add_test(tc, late_ack);
	tcase_add_test(tc, unexpected_ack);
	tcase_add_test(tc, held_t303);
	tcase_add_test(tc, held_session_closed);
	tcase_add_test(tc, held_call_messages);
	tcase_add_test(tc, link_down_while_waiting);
	suite_add_tcase(s, tc);
	return s;
}
