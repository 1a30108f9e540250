/* SPDX-License-Identifier: MIT */
/* Local-mode lifecycles: root and leaves in one cc, through both state machines. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cc/cc_int.h"
#include "drv.h"

#include "common.h"

static void setup_leaves(void)
{
	common_setup();
	for (int i = 1; i <= 3; i++) {
		uint64_t r = drv_register(&d, LEAF1 + i - 1, (uint8_t)i);
		ck_assert_int_eq(DONE(r)->status, CM_OK);
	}
}

static void teardown(void)
{
	common_teardown();
}

/* Accept every call offered since the last drv_clear(); the log restarts. */
static size_t accept_all(void)
{
	size_t n = drv_ncev(&d, CC_CEV_INCOMING_CALL), done = 0;
	struct cc_client_event ev[16];
	for (size_t i = 0; i < n && i < 16; i++)
		ev[i] = *drv_cev(&d, CC_CEV_INCOMING_CALL, i);
	drv_clear(&d);
	for (size_t i = 0; i < n && i < 16; i++) {
		drv_accept(&d, ev[i].session, ev[i].vc, ev[i].party);
		done++;
	}
	return done;
}

struct call {
	cm_vc_id vc;
	cm_party_id party[4];
	cm_vc_id leaf_vc[4];
	cm_party_id leaf_party[4];
};

/* MakeCall to SAP 1, AddParty to SAPs 2 and 3; every leaf accepts. */
static void three_party_call(struct call *k)
{
	uint8_t a[20];
	memset(k, 0, sizeof(*k));
	drv_addr(a, d.me, 1);
	drv_clear(&d);
	uint64_t r = drv_make_call(&d, ROOT, a);
	ck_assert_ptr_null(drv_done(&d, r));
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 1);
	const struct q_msg *setup = &SENT(Q_MSG_SETUP, 0)->msg;
	ck_assert(setup->bearer.p2mp);
	ck_assert_uint_eq(setup->epref.value, 0);
	ck_assert(!setup->epref.flag);
	ck_assert_uint_eq(setup->blli.user_l3, 1);
	ck_assert_uint_eq(setup->traffic.fwd_peak_cr, 23585u); /* 10,000 kbit/s, rounded up */
	const struct cc_client_event *in = drv_cev(&d, CC_CEV_INCOMING_CALL, 0);
	ck_assert_ptr_nonnull(in);
	ck_assert_uint_eq(in->session, LEAF1);
	ck_assert_uint_eq(in->selector, 1);
	k->leaf_vc[1] = in->vc;
	k->leaf_party[1] = in->party;
	accept_all();
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_CONNECT), 1);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_CONNECT_ACK), 1);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_CALL_CONNECTED), 1);
	const struct cc_client_event *mc = drv_done(&d, r);
	ck_assert_ptr_nonnull(mc);
	ck_assert_int_eq(mc->status, CM_OK);
	k->vc = mc->vc;
	k->party[1] = mc->party;
	for (int i = 2; i <= 3; i++) {
		drv_addr(a, d.me, (uint8_t)i);
		drv_clear(&d);
		r = drv_add_party(&d, ROOT, k->vc, a);
		ck_assert_uint_eq(drv_nsent(&d, Q_MSG_ADD_PARTY), 1);
		ck_assert_uint_eq(SENT(Q_MSG_ADD_PARTY, 0)->msg.epref.value, i - 1);
		in = CEV(CC_CEV_INCOMING_CALL, 0);
		ck_assert_uint_eq(in->session, LEAF1 + i - 1);
		k->leaf_vc[i] = in->vc;
		k->leaf_party[i] = in->party;
		ck_assert_ptr_null(drv_done(&d, r));
		accept_all();
		ck_assert_uint_eq(drv_nsent(&d, Q_MSG_ADD_PARTY_ACK), 1);
		ck_assert_int_eq(DONE(r)->status, CM_OK);
		k->party[i] = DONE(r)->party;
		ck_assert_uint_eq(drv_ncev(&d, CC_CEV_CALL_CONNECTED), 1);
	}
	struct cc_vc_info vi;
	ck_assert_int_eq(cc_vc_get(d.c, k->vc, &vi), CM_OK);
	ck_assert_uint_eq(vi.n_parties, 3);
	ck_assert_uint_eq(vi.n_legs, 1);
	ck_assert_uint_eq(vi.state, CC_VC_ACTIVE);
}

START_TEST(lifecycle_three_saps)
{
	struct call k;
	three_party_call(&k);
	/* drop party 2 with data: DROP PARTY carries it, the leaf is told and acks at once */
	drv_clear(&d);
	uint64_t r = drv_drop(&d, ROOT, k.vc, k.party[2], 100);
	const struct cc_action *dp = drv_sent(&d, Q_MSG_DROP_PARTY, 0);
	ck_assert_ptr_nonnull(dp);
	ck_assert_uint_eq(dp->msg.cause.value, 16);
	ck_assert_uint_eq(dp->msg.uu.len, 100);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY_ACK), 1);
	const struct cc_client_event *ic = drv_cev(&d, CC_CEV_INCOMING_CLOSE_CALL, 0);
	ck_assert_ptr_nonnull(ic);
	ck_assert_uint_eq(ic->session, LEAF2);
	ck_assert_uint_eq(ic->data_len, 100);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	/* the leaf answers with CloseCall, which completes at once */
	drv_clear(&d);
	r = drv_close(&d, LEAF2, k.leaf_vc[2], k.leaf_party[2], 0);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY), 0);
	struct cc_vc_info vi;
	ck_assert_int_eq(cc_vc_get(d.c, k.leaf_vc[2], &vi), CM_E_NO_VC);
	/* CloseCall naming party 1 while party 3 lives */
	r = drv_close(&d, ROOT, k.vc, k.party[1], 0);
	ck_assert_int_eq(DONE(r)->status, CM_E_PARTIES_REMAIN);
	/* drop party 3; from inside its completion, CloseCall the last one */
	drv_clear(&d);
	r = drv_drop(&d, ROOT, k.vc, k.party[3], 0);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	drv_clear(&d);
	r = drv_close(&d, ROOT, k.vc, k.party[1], 0);
	/* last party clears the call: RELEASE, RELEASE COMPLETE */
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE_COMPLETE), 1);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	ck_assert_int_eq(cc_vc_get(d.c, k.vc, &vi), CM_E_NO_VC);
	ic = CEV(CC_CEV_INCOMING_CLOSE_CALL, 0);
	ck_assert_uint_eq(ic->session, LEAF1);
	/* leaves 1 and 3 answer; nothing remains */
	r = drv_close(&d, LEAF1, k.leaf_vc[1], k.leaf_party[1], 0);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	r = drv_close(&d, LEAF3, k.leaf_vc[3], k.leaf_party[3], 0);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs, 0);
	ck_assert_uint_eq(st.parties, 0);
	ck_assert_uint_eq(st.legs, 0);
	ck_assert_uint_eq(drv_ntimers(&d), 0);
}
END_TEST

START_TEST(leaf_initiated_drop)
{
	struct call k;
	three_party_call(&k);
	/* leaf 3 closes: DROP PARTY to the root, which acks at once and reports IncomingDropParty
	 */
	drv_clear(&d);
	uint64_t r = drv_close(&d, LEAF3, k.leaf_vc[3], k.leaf_party[3], 0);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY), 1);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY_ACK), 1);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	const struct cc_client_event *idp = drv_cev(&d, CC_CEV_INCOMING_DROP_PARTY, 0);
	ck_assert_ptr_nonnull(idp);
	ck_assert_uint_eq(idp->session, ROOT);
	ck_assert_uint_eq(idp->party, k.party[3]);
	/* a drop-received party does not count: dropping party 2 now leaves only party 1 */
	struct cc_party_info pi[4];
	ck_assert_uint_eq(cc_party_list(d.c, k.vc, 0, pi, 4), 3);
	ck_assert_uint_eq(pi[2].state, Q_EPS_DROP_PARTY_RECEIVED);
	/* the root answers with DropParty, completed at once; the id is released */
	drv_clear(&d);
	r = drv_drop(&d, ROOT, k.vc, k.party[3], 0);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY), 0);
	ck_assert_uint_eq(cc_party_list(d.c, k.vc, 0, pi, 4), 2);
	r = drv_drop(&d, ROOT, k.vc, k.party[3], 0);
	ck_assert_int_eq(DONE(r)->status, CM_E_NO_PARTY);
	/* leaves 2 and 1 leave too: 2 as IncomingDropParty, 1 (the last) as IncomingCloseCall */
	drv_clear(&d);
	r = drv_close(&d, LEAF2, k.leaf_vc[2], k.leaf_party[2], 0);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_DROP_PARTY), 1);
	drv_clear(&d);
	r = drv_close(&d, LEAF1, k.leaf_vc[1], k.leaf_party[1], 0);
	/* the leaf's last party on the leg: RELEASE */
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CLOSE_CALL), 1);
	ck_assert_uint_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->session, ROOT);
	struct cc_vc_info vi;
	ck_assert_int_eq(cc_vc_get(d.c, k.vc, &vi), CM_OK);
	ck_assert_uint_eq(vi.state, CC_VC_CLOSE_RECEIVED);
	/* the root answers party 2's drop, then closes: both complete at once */
	r = drv_drop(&d, ROOT, k.vc, k.party[2], 0);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	drv_clear(&d);
	r = drv_close(&d, ROOT, k.vc, k.party[1], 0);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	ck_assert_uint_eq(d.nlog, 1);
	ck_assert_int_eq(cc_vc_get(d.c, k.vc, &vi), CM_E_NO_VC);
	ck_assert_uint_eq(drv_ntimers(&d), 0);
}
END_TEST

START_TEST(force_close)
{
	struct call k;
	three_party_call(&k);
	drv_clear(&d);
	uint64_t r = drv_close(&d, ROOT, k.vc, 0, CM_CLOSE_FORCE);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CLOSE_CALL), 3);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_CLOSE_CALL_COMPLETE), 1);
}
END_TEST

/* ---- clients that answer from inside their callbacks, as libcallmgr allows ---- */

static cm_vc_id chain_vc;
static cm_party_id chain_left[16];
static size_t chain_n;
static uint64_t chain_close_req;
static size_t leaf_closes;

static void auto_client(struct drv *dd, const struct cc_client_event *ev)
{
	struct cc_request r = {0};
	r.session = ev->session;
	r.vc = ev->vc;
	if (ev->type == CC_CEV_INCOMING_CALL) {
		r.type = CC_REQ_ACCEPT_CALL;
		r.party = ev->party;
		drv_queue(dd, &r);
	} else if (ev->type == CC_CEV_INCOMING_CLOSE_CALL && ev->session != ROOT) {
		r.type = CC_REQ_CLOSE_CALL;
		drv_queue(dd, &r);
		leaf_closes++;
	} else if (ev->type == CC_CEV_DROP_PARTY_COMPLETE && ev->session == ROOT &&
		   ev->vc == chain_vc) {
		ck_assert_int_eq(ev->status, CM_OK);
		/* DropParty for the next, or CloseCall for the very last, from inside the
		 * completion */
		if (chain_n > 1) {
			r.type = CC_REQ_DROP_PARTY;
			r.party = chain_left[--chain_n];
			drv_queue(dd, &r);
		} else {
			r.type = CC_REQ_CLOSE_CALL;
			r.party = chain_left[0];
			chain_close_req = drv_queue(dd, &r);
		}
	}
}

START_TEST(drops_chained_from_completions)
{
	for (int i = 4; i <= 8; i++)
		drv_register(&d, 20 + (uint64_t)i, (uint8_t)i);
	d.on_cev = auto_client;
	uint8_t a[20];
	drv_addr(a, d.me, 1);
	uint64_t r = drv_make_call(&d, ROOT, a);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	chain_vc = DONE(r)->vc;
	chain_left[chain_n++] = DONE(r)->party;
	for (int i = 2; i <= 8; i++) {
		drv_addr(a, d.me, (uint8_t)i);
		r = drv_add_party(&d, ROOT, chain_vc, a);
		ck_assert_int_eq(DONE(r)->status, CM_OK);
		chain_left[chain_n++] = DONE(r)->party;
	}
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.parties, 16); /* 8 root parties, 8 leaf parties */
	ck_assert_uint_eq(st.legs, 2);	   /* the root's leg and the leaves' leg, same cref */
	/* one DropParty starts the chain; everything else happens inside callbacks */
	drv_clear(&d);
	r = drv_drop(&d, ROOT, chain_vc, chain_left[--chain_n], 10);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	ck_assert_uint_ne(chain_close_req, 0);
	ck_assert_int_eq(DONE(chain_close_req)->status, CM_OK);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_DROP_PARTY_COMPLETE), 7);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY), 7);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	ck_assert_uint_eq(leaf_closes, 8);
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs + st.parties + st.legs, 0);
	ck_assert_uint_eq(drv_ntimers(&d), 0);
}
END_TEST

START_TEST(session_closed_local)
{
	struct call k;
	three_party_call(&k);
	drv_clear(&d);
	drv_session_closed(&d, ROOT);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 1);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_INCOMING_CLOSE_CALL), 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, i)->cause, 31);
	for (int i = 1; i <= 3; i++) {
		uint64_t r = drv_close(&d, LEAF1 + i - 1, k.leaf_vc[i], k.leaf_party[i], 0);
		ck_assert_int_eq(DONE(r)->status, CM_OK);
	}
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs + st.parties + st.legs, 0);
	/* a leaf's client crashing drops only its party */
	three_party_call(&k);
	drv_clear(&d);
	drv_session_closed(&d, LEAF2);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY), 1);
	ck_assert_uint_eq(SENT(Q_MSG_DROP_PARTY, 0)->msg.cause.value, 31);
	const struct cc_client_event *idp = drv_cev(&d, CC_CEV_INCOMING_DROP_PARTY, 0);
	ck_assert_ptr_nonnull(idp);
	ck_assert_uint_eq(idp->party, k.party[2]);
	ck_assert_int_eq(idp->cause, 31);
}
END_TEST

/*
 * fuzz_cc_sequence (cc_sequence-pu1-without-t399): the caller goes away
 * while its call to a SAP of this node is still offered.  The RELEASE it
 * sends must take the SETUP's party too (PU1 -> PU5, guarded by T308), not
 * leave it in PU1 on a clearing leg; then the leaf's answer ends it.
 */
START_TEST(session_closed_before_answer_local)
{
	uint8_t a[20];
	drv_addr(a, d.me, 1);
	drv_clear(&d);
	drv_make_call(&d, ROOT, a);
	const struct cc_client_event *in = drv_cev(&d, CC_CEV_INCOMING_CALL, 0);
	ck_assert_ptr_nonnull(in);
	cm_vc_id leaf_vc = in->vc;
	cm_party_id leaf_party = in->party;
	struct cc_vc_info vi[4];
	ck_assert_uint_eq(cc_vc_list(d.c, 0, vi, 4), 2);
	ck_assert(vi[0].root);
	struct cc_party_info pi[2];
	ck_assert_uint_eq(cc_party_list(d.c, vi[0].vc, 0, pi, 2), 1);
	ck_assert_int_eq(pi[0].state, Q_EPS_ADD_PARTY_INITIATED);
	cm_party_id root_party = pi[0].party;

	/* hold the RELEASE back to look at the root side before the leaf answers */
	d.loop = false;
	drv_clear(&d);
	drv_session_closed(&d, ROOT);
	ck_assert_uint_eq(drv_nsent_to(&d, Q_MSG_RELEASE, d.me), 1);
	struct q_msg rel = SENT(Q_MSG_RELEASE, 0)->msg;
	ck_assert_int_eq(cc_vc_get(d.c, vi[0].vc, &vi[0]), CM_E_NO_VC);
	const struct cc_party *p = cc_party_find(d.c, root_party);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(p->leg);
	ck_assert_uint_eq(p->leg->state, U11);
	ck_assert_uint_eq(p->state, Q_EPS_DROP_PARTY_INITIATED);
	ck_assert_uint_eq(p->timers, 0);
	ck_assert_uint_eq(p->leg->n_est, 0);

	d.loop = true;
	drv_clear(&d);
	drv_msg(&d, d.me, &rel);
	const struct cc_client_event *ic = drv_cev(&d, CC_CEV_INCOMING_CLOSE_CALL, 0);
	ck_assert_ptr_nonnull(ic);
	ck_assert_uint_eq(ic->session, LEAF1);
	ck_assert_uint_eq(ic->vc, leaf_vc);
	ck_assert_ptr_null(cc_party_find(d.c, root_party));
	uint64_t r = drv_close(&d, LEAF1, leaf_vc, leaf_party, 0);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs + st.parties + st.legs, 0);
	ck_assert_uint_eq(drv_ntimers(&d), 0);
}
END_TEST

/*
 * store.h "Lifetimes": a callee may free the leg its caller holds.  The leg
 * is unreachable at once (its id no longer found) but its memory stays
 * readable until the event ends.  With an immediate free() the reads
 * below were a use-after-free that ASan reports.
 */
START_TEST(freed_leg_readable_until_event_ends)
{
	struct lcall k;
	leaf_offered(&k, 7);
	struct cc_leg *leg = cc_leg_find(d.c, P, 7, false);
	ck_assert_ptr_nonnull(leg);
	ck_assert_uint_eq(leg->state, U6);
	uint64_t id = leg->id;
	struct cc_actions out;
	cc_actions_init(&out);
	/* an offered leg is refused with RELEASE COMPLETE and freed at once */
	cc_leg_release(d.c, leg, Q_CAUSE_NORMAL_UNSPECIFIED, NULL, &out);
	ck_assert_ptr_null(cc_leg_by_id(d.c, id));
	ck_assert_ptr_null(cc_leg_find(d.c, P, 7, false));
	ck_assert_uint_eq(leg->id, id);
	ck_assert_uint_eq(leg->state, U0);
	ck_assert_ptr_null(leg->p_head);
	ck_assert_ptr_eq(d.c->dead_legs, leg);
	/* a second free is refused: the peer's leg list stays intact */
	cc_leg_free(d.c, leg, &out);
	ck_assert_ptr_eq(d.c->dead_legs, leg);
	ck_assert_ptr_null(leg->dead_next);
	ck_assert_ptr_null(cc_check_invariants(d.c));
	cc_actions_free(&out);
	/* the next event releases it */
	drv_link(&d, P, true);
	ck_assert_ptr_null(d.c->dead_legs);
	ck_assert_ptr_null(d.c->dead_parties);
	ck_assert_ptr_null(d.c->dead_vcs);
}
END_TEST

Suite *cc_test_suite(void)
{
	Suite *s = suite_create("cc-local");
	TCase *tc = tcase_create("lifecycle");
	tcase_add_checked_fixture(tc, setup_leaves, teardown);
	tcase_add_test(tc, lifecycle_three_saps);
	tcase_add_test(tc, leaf_initiated_drop);
	tcase_add_test(tc, force_close);
	tcase_add_test(tc, drops_chained_from_completions);
	tcase_add_test(tc, session_closed_local);
	tcase_add_test(tc, session_closed_before_answer_local);
	suite_add_tcase(s, tc);
	TCase *lt = tcase_create("lifetimes");
	tcase_add_checked_fixture(lt, common_setup, teardown);
	tcase_add_test(lt, freed_leg_readable_until_event_ends);
	suite_add_tcase(s, lt);
	return s;
}
