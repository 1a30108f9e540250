/* SPDX-License-Identifier: MIT */
/*
 * Regression: work per event must not grow with the size of a VC.  The
 * module counts every list step it takes (cc->work); dropping the 10,000th
 * party of a VC must take a handful, like dropping the 2nd.
 */
#include <check.h>
#include <stdlib.h>

#include "cc/cc_int.h"
#include "common.h"

#define N 10000

static uint64_t drop_cost(struct rcall *k, cm_party_id p, uint16_t ep)
{
	uint64_t before = d.c->work;
	uint64_t r = drv_drop(&d, ROOT, k->vc, p, 0);
	peer_send(Q_MSG_DROP_PARTY_ACK, k->cref, true, ep, 16);
	ck_assert_int_eq(DONE(r)->status, CM_OK);
	return d.c->work - before;
}

START_TEST(drop_does_not_scan)
{
	d.check_every = N; /* the checker itself is O(everything) */
	struct rcall k;
	root_active(&k);
	static cm_party_id party[N + 1];
	static uint16_t epref[N + 1];
	uint8_t a[20];
	for (int i = 1; i <= N; i++) {
		drv_addr(a, P, (uint8_t)(i % 200 + 1));
		drv_clear(&d);
		uint64_t r = drv_add_party(&d, ROOT, k.vc, a);
		epref[i] = SENT(Q_MSG_ADD_PARTY, 0)->msg.epref.value;
		peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, epref[i], 0);
		ck_assert_int_eq(DONE(r)->status, CM_OK);
		party[i] = DONE(r)->party;
		d.nreq = 0; /* keep the driver's own bookkeeping O(1) */
	}
	ck_assert_str_eq(cc_check_invariants(d.c) ? cc_check_invariants(d.c) : "ok", "ok");
	uint64_t early = drop_cost(&k, party[1], epref[1]);
	uint64_t late = drop_cost(&k, party[N], epref[N]);
	/* list steps and hash probes: a dozen or so, where a scan would be ~N */
	ck_assert_uint_le(late, 32);
	ck_assert_uint_le(late, early + 2);
	/* adding to a big VC is O(1) too (epref allocation skips few) */
	uint64_t before = d.c->work;
	drv_addr(a, P, 1);
	drv_add_party(&d, ROOT, k.vc, a);
	ck_assert_uint_le(d.c->work - before, 32);
	ck_assert_ptr_null(cc_check_invariants(d.c));
	struct cc_vc_info vi;
	cc_vc_get(d.c, k.vc, &vi);
	ck_assert_uint_eq(vi.n_parties, N);
	/* the view pages without rescanning from the start */
	struct cc_party_info pi[100];
	ck_assert_uint_eq(cc_party_list(d.c, k.vc, party[N - 50], pi, 100), 50);
}
END_TEST

/* Call references per peer and endpoint references per leg skip the ones in use and wrap. */
START_TEST(allocators_skip_and_wrap)
{
	struct rcall k1, k2, k3;
	root_active(&k1);
	ck_assert_uint_eq(k1.cref, 1);
	struct cc_peer *peer = cc_peer_find(d.c, P);
	ck_assert_ptr_nonnull(peer);
	peer->next_cref = 1; /* as if it had wrapped */
	root_active(&k2);
	ck_assert_uint_eq(k2.cref, 2);
	peer->next_cref = Q_CREF_MAX;
	root_active(&k3);
	ck_assert_uint_eq(k3.cref, Q_CREF_MAX);
	struct rcall k4;
	root_calling(&k4);
	ck_assert_uint_eq(k4.cref, 3); /* 1 and 2 are in use; 0 is never handed out */
	uint16_t e1, e2, e3;
	cm_party_id p1, p2, p3;
	root_add(&k1, 6, &e1, &p1);
	ck_assert_uint_eq(e1, 1);
	struct cc_leg *leg = cc_leg_find(d.c, P, k1.cref, true);
	leg->next_epref = 1;
	root_add(&k1, 7, &e2, &p2);
	ck_assert_uint_eq(e2, 2);
	leg->next_epref = Q_EPREF_MAX;
	root_add(&k1, 8, &e3, &p3);
	ck_assert_uint_eq(e3, Q_EPREF_MAX);
	root_add(&k1, 9, &e3, &p3);
	ck_assert_uint_eq(e3, 3);
}
END_TEST

Suite *cc_test_suite(void)
{
	Suite *s = suite_create("cc-scale");
	TCase *tc = tcase_create("scale");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, common_setup, common_teardown);
	tcase_add_test(tc, drop_does_not_scan);
	tcase_add_test(tc, allocators_skip_and_wrap);
	suite_add_tcase(s, tc);
	return s;
}
