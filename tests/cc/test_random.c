/* SPDX-License-Identifier: MIT */
/*
 * Random walks: requests, peer messages (well-formed or not), timer expiries
 * and link events in random order, local legs looped back.  The driver runs
 * the invariant checker after every event.  At the end the walk is driven
 * to quiescence (timers expire, owners answer what they were told) and
 * every live request must have ended exactly once; then again after a
 * shutdown, which must leave nothing behind.
 */
#include <check.h>
#include <stdlib.h>

#include "common.h"

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const uint8_t msg_types[] = {
	Q_MSG_ALERTING,	      Q_MSG_CALL_PROCEEDING,  Q_MSG_SETUP,
	Q_MSG_CONNECT,	      Q_MSG_CONNECT_ACK,      Q_MSG_RESTART,
	Q_MSG_RELEASE,	      Q_MSG_RELEASE_COMPLETE, Q_MSG_NOTIFY,
	Q_MSG_STATUS_ENQUIRY, Q_MSG_STATUS,	      Q_MSG_ADD_PARTY,
	Q_MSG_ADD_PARTY_ACK,  Q_MSG_ADD_PARTY_REJECT, Q_MSG_DROP_PARTY,
	Q_MSG_DROP_PARTY_ACK, Q_MSG_PARTY_ALERTING,   0x33,
};

static cm_vc_id any_vc(void)
{
	struct cc_vc_info vi[32];
	size_t n = cc_vc_list(d.c, 0, vi, 32);
	if (!n || rnd(10) == 0)
		return rnd(40);
	return vi[rnd((uint32_t)n)].vc;
}

static cm_party_id any_party(cm_vc_id vc)
{
	struct cc_party_info pi[32];
	size_t n = cc_party_list(d.c, vc, 0, pi, 32);
	if (!n || rnd(10) == 0)
		return rnd(80);
	return pi[rnd((uint32_t)n)].party;
}

static uint64_t owner(cm_vc_id vc)
{
	struct cc_vc_info vi;
	if (cc_vc_get(d.c, vc, &vi) != CM_OK || rnd(10) == 0)
		return 1 + rnd(3);
	return vi.session;
}

static void random_request(void)
{
	struct cc_request r = {0};
	struct cc_mac peers[2] = {P, d.me};
	r.session = 1 + rnd(3);
	switch (rnd(8)) {
	case 0:
		r.type = CC_REQ_REGISTER_SAP;
		r.selector = (uint8_t)rnd(4);
		break;
	case 1:
		r.type = CC_REQ_MAKE_CALL;
		drv_addr(r.addr, peers[rnd(2)], (uint8_t)rnd(4));
		break;
	case 2:
		r.type = CC_REQ_ADD_PARTY;
		r.vc = any_vc();
		r.session = owner(r.vc);
		drv_addr(r.addr, peers[rnd(2)], (uint8_t)rnd(4));
		break;
	case 3:
		r.type = rnd(8) ? CC_REQ_DROP_PARTY : CC_REQ_ADMIN_DROP;
		r.vc = any_vc();
		r.session = owner(r.vc);
		r.party = any_party(r.vc);
		break;
	case 4:
		r.type = rnd(8) ? CC_REQ_CLOSE_CALL : CC_REQ_ADMIN_CLOSE;
		r.vc = any_vc();
		r.session = owner(r.vc);
		r.party = rnd(4) ? any_party(r.vc) : 0;
		r.flags = rnd(3) ? 0 : CM_CLOSE_FORCE;
		break;
	case 5:
	case 6:
		r.type = CC_REQ_ACCEPT_CALL;
		r.vc = any_vc();
		r.session = owner(r.vc);
		r.party = any_party(r.vc);
		break;
	default:
		r.type = CC_REQ_REJECT_CALL;
		r.vc = any_vc();
		r.session = owner(r.vc);
		r.party = any_party(r.vc);
		r.cause = (int)rnd(130);
		break;
	}
	drv_request(&d, &r);
}

static void random_message(void)
{
	struct q_msg m;
	memset(&m, 0, sizeof(m));
	m.type = msg_types[rnd(sizeof(msg_types))];
	/* crefs we handed out are small; the peer's own are 1..8 */
	m.cref = rnd(10);
	m.cref_flag = rnd(2);
	if (rnd(3)) {
		m.epref.present = true;
		m.epref.flag = rnd(2);
		m.epref.value = (uint16_t)rnd(5);
	}
	if (rnd(2)) {
		m.cause.present = true;
		m.cause.value = (uint8_t)rnd(128);
	}
	m.call_state_present = rnd(2);
	m.call_state = (uint8_t)rnd(12);
	m.ep_state_present = rnd(2);
	m.ep_state = (uint8_t)rnd(13);
	m.bearer.present = rnd(4) != 0;
	m.bearer.p2mp = rnd(4) != 0;
	m.traffic.present = rnd(4) != 0;
	m.traffic.fwd_peak_cr = rnd(100000);
	m.called.present = rnd(4) != 0;
	drv_addr(m.called.aesa, d.me, (uint8_t)rnd(4));
	m.uu.present = rnd(2);
	m.uu.len = (uint8_t)rnd(Q_UU_MAX + 1);
	m.restart.present = rnd(2);
	m.restart.rclass = (uint8_t)rnd(3);
	/* mostly clean; else any verdict, cause and action indicator the decoder gives */
	static const uint8_t causes[] = {96, 97, 99, 100};
	static const uint8_t acts[] = {Q_IE_ACT_CLEAR,		 Q_IE_ACT_DISCARD_IE,
				       Q_IE_ACT_DISCARD_IE_REPORT, Q_IE_ACT_DISCARD_MSG,
				       Q_IE_ACT_DISCARD_MSG_REPORT, Q_IE_ACT_REGULAR};
	if (rnd(10) < 6)
		drv_msg(&d, P, &m);
	else
		drv_msg_dec(&d, P, &m, (uint8_t)rnd(Q_VERDICT_CLEAR + 1), causes[rnd(sizeof(causes))],
			    Q_IE_UU, acts[rnd(sizeof(acts))]);
}

static void random_timer(void)
{
	size_t n = drv_ntimers(&d);
	if (!n)
		return;
	struct drv_timer t = d.tm[rnd((uint32_t)n)];
	drv_fire(&d, t.kind, t.obj);
}

START_TEST(random_walk)
{
	rng = 88172645463325252ull + (uint64_t)_i * 7919;
	for (int s = 1; s <= 3; s++)
		drv_register(&d, (uint64_t)s, (uint8_t)s);
	for (int step = 0; step < 3000; step++) {
		switch (rnd(10)) {
		case 0:
		case 1:
		case 2:
			random_request();
			break;
		case 3:
		case 4:
		case 5:
			random_message();
			break;
		case 6:
		case 7:
			random_timer();
			break;
		case 8:
			drv_link(&d, P, rnd(2));
			break;
		default:
			if (rnd(20) == 0)
				drv_session_closed(&d, 1 + rnd(3));
			else
				random_timer();
			break;
		}
	}
	/* first quiescent with everyone still there: nothing may be left hanging */
	drv_quiesce(&d);
	drv_check_exactly_once(&d);
	struct cc_event ev = {.type = CC_EV_SHUTDOWN};
	drv_feed(&d, &ev);
	/* after shutdown only wire procedures and the owners' answers remain */
	drv_quiesce(&d);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs + st.parties + st.legs, 0);
	drv_check_exactly_once(&d);
}
END_TEST

/* Clients that answer from their callbacks, most of the time. */
static void random_client(struct drv *dd, const struct cc_client_event *ev)
{
	struct cc_request r = {0};
	r.session = ev->session;
	r.vc = ev->vc;
	r.party = ev->party;
	switch (ev->type) {
	case CC_CEV_INCOMING_CALL:
		if (rnd(10) < 7) {
			r.type = CC_REQ_ACCEPT_CALL;
		} else if (rnd(2)) {
			r.type = CC_REQ_REJECT_CALL;
			r.cause = 21;
		} else {
			return;
		}
		break;
	case CC_CEV_INCOMING_CLOSE_CALL:
		if (rnd(10) < 2)
			return;
		r.type = CC_REQ_CLOSE_CALL;
		break;
	case CC_CEV_INCOMING_DROP_PARTY:
		if (rnd(10) < 2)
			return;
		r.type = CC_REQ_DROP_PARTY;
		break;
	case CC_CEV_DROP_PARTY_COMPLETE:
	case CC_CEV_ADD_PARTY_COMPLETE:
		if (rnd(10) < 6 || !ev->vc)
			return;
		r.type = rnd(3) ? CC_REQ_DROP_PARTY : CC_REQ_CLOSE_CALL;
		r.party = any_party(ev->vc);
		break;
	default:
		return;
	}
	drv_queue(dd, &r);
}

START_TEST(random_walk_local)
{
	rng = 1442695040888963407ull + (uint64_t)_i * 104729;
	d.on_cev = random_client;
	for (int s = 1; s <= 3; s++)
		drv_register(&d, (uint64_t)s, (uint8_t)s);
	for (int step = 0; step < 2000; step++) {
		struct cc_request r = {0};
		r.session = 1 + rnd(3);
		switch (rnd(6)) {
		case 0:
			r.type = CC_REQ_MAKE_CALL;
			drv_addr(r.addr, d.me, (uint8_t)(1 + rnd(4)));
			drv_request(&d, &r);
			break;
		case 1:
		case 2:
			r.type = CC_REQ_ADD_PARTY;
			r.vc = any_vc();
			r.session = owner(r.vc);
			drv_addr(r.addr, rnd(4) ? d.me : P, (uint8_t)(1 + rnd(4)));
			drv_request(&d, &r);
			break;
		case 3:
			random_timer();
			break;
		case 4:
			if (rnd(30) == 0)
				drv_session_closed(&d, 1 + rnd(3));
			else if (rnd(3) == 0)
				random_message();
			else
				random_request();
			break;
		default:
			r.type = CC_REQ_DROP_PARTY;
			r.vc = any_vc();
			r.session = owner(r.vc);
			r.party = any_party(r.vc);
			drv_request(&d, &r);
			break;
		}
	}
	drv_quiesce(&d);
	drv_check_exactly_once(&d);
	struct cc_event ev = {.type = CC_EV_SHUTDOWN};
	drv_feed(&d, &ev);
	drv_quiesce(&d);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs + st.parties + st.legs, 0);
	drv_check_exactly_once(&d);
	ck_assert_uint_gt(st.calls_made, 0);
	ck_assert_uint_gt(st.parties_added, 0);
	ck_assert_uint_gt(st.parties_dropped, 0);
}
END_TEST

Suite *cc_test_suite(void)
{
	Suite *s = suite_create("cc-random");
	TCase *tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, common_setup, common_teardown);
	tcase_add_loop_test(tc, random_walk, 0, 20);
	tcase_add_loop_test(tc, random_walk_local, 0, 10);
	suite_add_tcase(s, tc);
	return s;
}
