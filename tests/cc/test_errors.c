/* SPDX-License-Identifier: MIT */
/*
 * The decoder's findings acted on by call control (Q.2931 §5.6/§5.7, Q.2971
 * §9): one test per row of docs/state-machines.md, "Decoder errors".  Each
 * feeds a message with the decode status the codec gives for it and checks
 * the answer on the wire, what the client is told and the state after.
 */
#include <check.h>
#include <stdlib.h>

#include "common.h"

#define UNKNOWN_IE 0x7f /* an identifier no codec of ours implements */

static void feed_dec(const struct q_msg *m, uint8_t verdict, uint8_t cause, uint8_t ie,
		     uint8_t act)
{
	drv_clear(&d);
	drv_msg_dec(&d, P, m, verdict, cause, ie, act);
}

static size_t n_offers(void)
{
	return drv_ncev(&d, CC_CEV_INCOMING_CALL);
}

/*
 * A SETUP processed without the IE and the IE reported: §5.6.8.1 (an
 * unrecognised IE, regular handling), §5.7.2 ("discard IE, proceed and
 * report status"), §5.6.8.2 (an optional IE with invalid contents).
 */
static const struct {
	const char *row;
	uint8_t cause, act;
} offered_rows[] = {
	{"setup_unrecognised_regular", 99, Q_IE_ACT_REGULAR},
	{"setup_unrecognised_discard_report", 99, Q_IE_ACT_DISCARD_IE_REPORT},
	{"setup_invalid_optional", 100, Q_IE_ACT_REGULAR},
};

START_TEST(setup_offered_and_reported)
{
	drv_register(&d, LEAF1, 1);
	struct q_msg m = setup_msg(40, 1);
	uint8_t cause = offered_rows[_i].cause;
	feed_dec(&m, Q_VERDICT_REPORT, cause, UNKNOWN_IE, offered_rows[_i].act);
	ck_assert_msg(n_offers() == 1, "%s", offered_rows[_i].row);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE), 0);
	const struct cc_action *st = SENT(Q_MSG_STATUS, 0);
	ck_assert_uint_eq(st->msg.cause.value, cause);
	ck_assert_uint_eq(st->msg.call_state, 6);
	ck_assert_uint_eq(st->msg.cause.diag_len, 1);
	ck_assert_uint_eq(st->msg.cause.diag[0], UNKNOWN_IE);
}
END_TEST

/* §5.7.2 "discard IE and proceed": processed, nothing reported */
START_TEST(setup_unrecognised_discard_ie)
{
	drv_register(&d, LEAF1, 1);
	struct q_msg m = setup_msg(41, 1);
	feed_dec(&m, Q_VERDICT_OK, 99, UNKNOWN_IE, Q_IE_ACT_DISCARD_IE);
	ck_assert_uint_eq(n_offers(), 1);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_STATUS), 0);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE), 0);
}
END_TEST

/*
 * A SETUP refused with RELEASE COMPLETE and the cause: §5.6.7.1 (mandatory
 * IE missing, 96), §5.6.7.2 (mandatory IE invalid, 100), §5.7.2 "clear
 * call", and §5.7.2 "discard message and report status" (for SETUP a
 * RELEASE COMPLETE, see docs/state-machines.md).
 */
static const struct {
	const char *row;
	uint8_t verdict, cause, ie, act;
} refused_rows[] = {
	{"setup_mandatory_missing", Q_VERDICT_REJECT, 96, Q_IE_CALLED, Q_IE_ACT_REGULAR},
	{"setup_mandatory_invalid", Q_VERDICT_REJECT, 100, Q_IE_TRAFFIC, Q_IE_ACT_REGULAR},
	{"setup_clear_call", Q_VERDICT_CLEAR, 99, UNKNOWN_IE, Q_IE_ACT_CLEAR},
	{"setup_discard_msg_report", Q_VERDICT_REJECT, 99, UNKNOWN_IE,
	 Q_IE_ACT_DISCARD_MSG_REPORT},
};

START_TEST(setup_refused)
{
	drv_register(&d, LEAF1, 1);
	struct q_msg m = setup_msg(42, 1);
	feed_dec(&m, refused_rows[_i].verdict, refused_rows[_i].cause, refused_rows[_i].ie,
		 refused_rows[_i].act);
	ck_assert_msg(n_offers() == 0, "%s", refused_rows[_i].row);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_STATUS), 0);
	const struct cc_action *rc = SENT(Q_MSG_RELEASE_COMPLETE, 0);
	ck_assert_uint_eq(rc->msg.cause.value, refused_rows[_i].cause);
	ck_assert_uint_eq(rc->msg.cref, 42);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.legs + st.vcs, 0);
}
END_TEST

/* §5.7.2 "discard message and ignore": nothing at all */
START_TEST(setup_discard_msg)
{
	drv_register(&d, LEAF1, 1);
	struct q_msg m = setup_msg(43, 1);
	feed_dec(&m, Q_VERDICT_DISCARD, 99, UNKNOWN_IE, Q_IE_ACT_DISCARD_MSG);
	ck_assert_uint_eq(d.nlog, 0);
}
END_TEST

/* §5.7.2 "discard message": a RELEASE so marked does not release */
START_TEST(release_discard_msg)
{
	struct rcall k;
	root_active(&k);
	struct q_msg m = pmsg(Q_MSG_RELEASE, k.cref, true, -1, 16);
	feed_dec(&m, Q_VERDICT_DISCARD, 99, UNKNOWN_IE, Q_IE_ACT_DISCARD_MSG);
	ck_assert_uint_eq(d.nlog, 0);
	ck_assert_int_eq(call_state(k.vc, k.cref), 10);
}
END_TEST

/*
 * A RELEASE that clears and whose RELEASE COMPLETE says what was wrong,
 * never a STATUS for the call just cleared: §5.6.7.1 (cause missing:
 * cleared as if cause 31, answered 96), §5.6.7.2 (cause invalid: 100),
 * §5.6.8.1 (an unrecognised IE: processed, the report rides on the
 * RELEASE COMPLETE), §5.7.2 "clear call" (the peer is clearing already).
 */
static const struct {
	const char *row;
	uint8_t cause, verdict, vcause, ie, act;
	int client_cause;
} release_rows[] = {
	{"release_cause_missing", 0, Q_VERDICT_REJECT, 96, Q_IE_CAUSE, Q_IE_ACT_REGULAR, 31},
	{"release_cause_invalid", 0, Q_VERDICT_REJECT, 100, Q_IE_CAUSE, Q_IE_ACT_REGULAR, 31},
	{"release_unrecognised", 17, Q_VERDICT_REPORT, 99, UNKNOWN_IE, Q_IE_ACT_REGULAR, 17},
	{"release_clear_call", 16, Q_VERDICT_CLEAR, 99, UNKNOWN_IE, Q_IE_ACT_CLEAR, 16},
};

START_TEST(release_answered)
{
	struct rcall k;
	root_active(&k);
	struct q_msg m = pmsg(Q_MSG_RELEASE, k.cref, true, -1, release_rows[_i].cause);
	feed_dec(&m, release_rows[_i].verdict, release_rows[_i].vcause, release_rows[_i].ie,
		 release_rows[_i].act);
	const struct cc_action *rc = SENT(Q_MSG_RELEASE_COMPLETE, 0);
	ck_assert_msg(rc->msg.cause.value == release_rows[_i].vcause, "%s", release_rows[_i].row);
	ck_assert_uint_eq(rc->msg.cause.diag_len, 1);
	ck_assert_uint_eq(rc->msg.cause.diag[0], release_rows[_i].ie);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_STATUS), 0);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 0);
	ck_assert_int_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->cause, release_rows[_i].client_cause);
	ck_assert_int_eq(call_state(k.vc, k.cref), 0);
}
END_TEST

/* §5.6.7: a RELEASE COMPLETE in error is still a RELEASE COMPLETE */
START_TEST(release_complete_rejected)
{
	struct rcall k;
	root_active(&k);
	struct q_msg m = pmsg(Q_MSG_RELEASE_COMPLETE, k.cref, true, -1, 0);
	feed_dec(&m, Q_VERDICT_REJECT, 100, UNKNOWN_IE, Q_IE_ACT_REGULAR);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_STATUS), 0);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CLOSE_CALL), 1);
	ck_assert_int_eq(call_state(k.vc, k.cref), 0);
}
END_TEST

/* §5.6.8.1 on any other message: processed, then STATUS 99 */
START_TEST(status_enquiry_report)
{
	struct rcall k;
	root_active(&k);
	struct q_msg m = pmsg(Q_MSG_STATUS_ENQUIRY, k.cref, true, -1, 0);
	feed_dec(&m, Q_VERDICT_REPORT, 99, UNKNOWN_IE, Q_IE_ACT_REGULAR);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_STATUS), 2);
	ck_assert_uint_eq(SENT(Q_MSG_STATUS, 0)->msg.cause.value, 30);
	ck_assert_uint_eq(SENT(Q_MSG_STATUS, 1)->msg.cause.value, 99);
}
END_TEST

/* §5.6.7 / Q.2971 §9: a party message with a mandatory IE missing: STATUS 96, not processed */
START_TEST(party_msg_mandatory_missing)
{
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	uint64_t add = root_add(&k, 6, &ep, &b);
	struct q_msg m = pmsg(Q_MSG_ADD_PARTY_REJECT, k.cref, true, ep, 0);
	feed_dec(&m, Q_VERDICT_REJECT, 96, Q_IE_CAUSE, Q_IE_ACT_REGULAR);
	const struct cc_action *st = SENT(Q_MSG_STATUS, 0);
	ck_assert_uint_eq(st->msg.cause.value, 96);
	ck_assert_uint_eq(st->msg.cause.diag[0], Q_IE_CAUSE);
	ck_assert_uint_eq(st->msg.call_state, 10);
	ck_assert(st->msg.ep_state_present);
	ck_assert_uint_eq(st->msg.ep_state, Q_EPS_ADD_PARTY_INITIATED);
	ck_assert_ptr_null(drv_done(&d, add));
	ck_assert_int_eq(party_state(k.vc, b), Q_EPS_ADD_PARTY_INITIATED);
}
END_TEST

/* §5.7.2 "discard message and report status" on a party message: STATUS, not processed */
START_TEST(party_msg_discard_report)
{
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	root_add(&k, 6, &ep, &b);
	struct q_msg m = pmsg(Q_MSG_ADD_PARTY_ACK, k.cref, true, ep, 0);
	feed_dec(&m, Q_VERDICT_REJECT, 99, UNKNOWN_IE, Q_IE_ACT_DISCARD_MSG_REPORT);
	ck_assert_uint_eq(SENT(Q_MSG_STATUS, 0)->msg.cause.value, 99);
	ck_assert_int_eq(party_state(k.vc, b), Q_EPS_ADD_PARTY_INITIATED);
}
END_TEST

/* §5.7.2 "clear call" on a message of an active call: RELEASE with the cause */
START_TEST(party_msg_clear_call)
{
	struct rcall k;
	root_active(&k);
	struct q_msg m = pmsg(Q_MSG_STATUS_ENQUIRY, k.cref, true, -1, 0);
	feed_dec(&m, Q_VERDICT_CLEAR, 100, UNKNOWN_IE, Q_IE_ACT_CLEAR);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE, 0)->msg.cause.value, 100);
	ck_assert_int_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->cause, 100);
	ck_assert_int_eq(call_state(k.vc, k.cref), 0);
}
END_TEST

/* §5.6.4 with §5.7.1: an unknown message type, by its own action indicator */
START_TEST(unknown_type)
{
	struct rcall k;
	root_active(&k);
	struct q_msg m = pmsg(0x33, k.cref, true, -1, 0);
	feed_dec(&m, Q_VERDICT_REJECT, 97, 0, 0);
	ck_assert_uint_eq(SENT(Q_MSG_STATUS, 0)->msg.cause.value, 97);
	feed_dec(&m, Q_VERDICT_DISCARD, 97, 0, 0);
	ck_assert_uint_eq(d.nlog, 0);
	feed_dec(&m, Q_VERDICT_CLEAR, 97, 0, 0);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE, 0)->msg.cause.value, 97);
}
END_TEST

/* §5.7.1: a known message not compatible with the call state, by its action indicator */
START_TEST(incompatible_by_msg_action)
{
	static const struct {
		bool flag;
		uint8_t act;
		uint8_t answer; /* 0 nothing */
	} rows[] = {
		{false, 0, Q_MSG_STATUS},
		{true, Q_MSG_ACT_DISCARD, 0},
		{true, Q_MSG_ACT_DISCARD_REPORT, Q_MSG_STATUS},
		{true, Q_MSG_ACT_RESERVED, Q_MSG_STATUS},
		{true, Q_MSG_ACT_CLEAR, Q_MSG_RELEASE},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct rcall k;
		root_active(&k);
		struct q_msg m = pmsg(Q_MSG_CALL_PROCEEDING, k.cref, true, -1, 0);
		struct q_decode_status st;
		memset(&st, 0, sizeof(st));
		st.msg_action_flag = rows[i].flag;
		st.msg_action = rows[i].act;
		drv_clear(&d);
		drv_msg_status(&d, P, &m, &st);
		if (!rows[i].answer) {
			ck_assert_msg(d.nlog == 0, "row %zu", i);
			continue;
		}
		const struct cc_action *a = SENT(rows[i].answer, 0);
		ck_assert_uint_eq(a->msg.cause.value, 101);
	}
}
END_TEST

/* §5.6.3 before the IEs: an unknown call reference is answered as such
 * (RELEASE COMPLETE 81, no STATUS), unless the message is to be discarded */
START_TEST(unknown_cref)
{
	struct q_msg m = pmsg(Q_MSG_CONNECT, 77, true, -1, 0);
	feed_dec(&m, Q_VERDICT_REPORT, 99, UNKNOWN_IE, Q_IE_ACT_REGULAR);
	ck_assert_uint_eq(SENT(Q_MSG_RELEASE_COMPLETE, 0)->msg.cause.value, 81);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_STATUS), 0);
	feed_dec(&m, Q_VERDICT_DISCARD, 99, UNKNOWN_IE, Q_IE_ACT_DISCARD_MSG);
	ck_assert_uint_eq(d.nlog, 0);
}
END_TEST

/* §5.5 with §5.6.7.1: a RESTART without its restart indicator: STATUS 96 on cref 0 */
START_TEST(restart_mandatory_missing)
{
	struct lcall l;
	leaf_active(&l, 50);
	struct q_msg m = pmsg(Q_MSG_RESTART, 0, false, -1, 0);
	feed_dec(&m, Q_VERDICT_REJECT, 96, Q_IE_RESTART, Q_IE_ACT_REGULAR);
	const struct cc_action *st = SENT(Q_MSG_STATUS, 0);
	ck_assert_uint_eq(st->msg.cref, 0);
	ck_assert_uint_eq(st->msg.cause.value, 96);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RESTART_ACK), 0);
	ck_assert_int_eq(call_state(l.vc, l.cref), 10); /* nothing cleared */
}
END_TEST

/* Q.2971 / UNI 4.0: cause 92 reads as 32 ("too many pending add party requests") */
START_TEST(cause_92_read_as_32)
{
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	uint64_t add = root_add(&k, 6, &ep, &b);
	drv_clear(&d);
	peer_send(Q_MSG_ADD_PARTY_REJECT, k.cref, true, ep, Q_CAUSE_TOO_MANY_ADD_PARTY_UNI);
	ck_assert_int_eq(DONE(add)->status, CM_E_REJECTED);
	ck_assert_int_eq(DONE(add)->cause, Q_CAUSE_TOO_MANY_ADD_PARTY);
}
END_TEST

/* Q.2971: a party offered by ADD PARTY has the call's traffic, from the leg's SETUP */
START_TEST(leaf_add_party_params)
{
	drv_register(&d, LEAF1, 1);
	drv_register(&d, LEAF2, 2);
	struct q_msg s = setup_msg(60, 1);
	s.traffic.fwd_peak_cr = s.traffic.bwd_peak_cr = q_kbps_to_cells(1000);
	s.qos.fwd_class = s.qos.bwd_class = 3;
	drv_clear(&d);
	drv_msg(&d, P, &s);
	const struct cc_client_event *ic = CEV(CC_CEV_INCOMING_CALL, 0);
	drv_accept(&d, LEAF1, ic->vc, ic->party);
	peer_send(Q_MSG_CONNECT_ACK, 60, false, -1, 0);
	struct q_msg a = pmsg(Q_MSG_ADD_PARTY, 60, false, 1, 0);
	a.called.present = true;
	drv_addr(a.called.aesa, d.me, 2);
	drv_clear(&d);
	drv_msg(&d, P, &a);
	ic = CEV(CC_CEV_INCOMING_CALL, 0);
	ck_assert_uint_eq(ic->session, LEAF2);
	ck_assert_uint_eq(ic->params.peak_kbps, 1000);
	ck_assert_uint_eq(ic->params.qos_class, 3);
	ck_assert_uint_eq(ic->params.max_sdu, 1500);
}
END_TEST

Suite *cc_test_suite(void)
{
	Suite *s = suite_create("cc-errors");
	TCase *tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, common_setup, common_teardown);
	tcase_add_loop_test(tc, setup_offered_and_reported, 0,
			    (int)(sizeof(offered_rows) / sizeof(offered_rows[0])));
	tcase_add_test(tc, setup_unrecognised_discard_ie);
	tcase_add_loop_test(tc, setup_refused, 0,
			    (int)(sizeof(refused_rows) / sizeof(refused_rows[0])));
	tcase_add_test(tc, setup_discard_msg);
	tcase_add_test(tc, release_discard_msg);
	tcase_add_loop_test(tc, release_answered, 0,
			    (int)(sizeof(release_rows) / sizeof(release_rows[0])));
	tcase_add_test(tc, release_complete_rejected);
	tcase_add_test(tc, status_enquiry_report);
	tcase_add_test(tc, party_msg_mandatory_missing);
	tcase_add_test(tc, party_msg_discard_report);
	tcase_add_test(tc, party_msg_clear_call);
	tcase_add_test(tc, unknown_type);
	tcase_add_test(tc, incompatible_by_msg_action);
	tcase_add_test(tc, unknown_cref);
	tcase_add_test(tc, restart_mandatory_missing);
	tcase_add_test(tc, cause_92_read_as_32);
	tcase_add_test(tc, leaf_add_party_params);
	suite_add_tcase(s, tc);
	return s;
}
