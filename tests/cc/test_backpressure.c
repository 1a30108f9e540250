/* SPDX-License-Identifier: MIT */
/*
 * Back-pressure from the link (issue 11): while the link says a peer is
 * busy (its backlog at the bound), MakeCall and AddParty to it are refused
 * CM_E_BUSY before anything changes; drops, closes and answers to it still
 * go out, and other peers are not held back.
 */
#include <check.h>
#include <string.h>

#include "common.h"

static bool busy;
static struct cc_mac busy_mac;
static unsigned asked;

static bool peer_busy(void *ctx, const uint8_t mac[6])
{
	asked++;
	return busy && memcmp(mac, busy_mac.a, 6) == 0;
}

static void setup(void)
{
	common_setup();
	struct cc_config cfg = d.cfg;
	cfg.peer_busy = peer_busy;
	drv_free(&d);
	drv_init(&d, &cfg);
	busy = false;
	busy_mac = P;
	asked = 0;
}

START_TEST(busy_peer_refuses_setup_only)
{
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	uint64_t rb = root_add(&k, 6, &ep, &b);
	peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, ep, 0);
	ck_assert_int_eq(req_status(rb), CM_OK);

	busy = true;
	drv_clear(&d);
	uint8_t a[20];
	drv_addr(a, P, 7);
	uint64_t r = drv_add_party(&d, ROOT, k.vc, a);
	ck_assert_int_eq(req_status(r), CM_E_BUSY);
	ck_assert_uint_eq(DONE(r)->type, CC_CEV_REFUSED);
	r = drv_make_call(&d, ROOT, a);
	ck_assert_int_eq(req_status(r), CM_E_BUSY);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_ADD_PARTY) + drv_nsent(&d, Q_MSG_SETUP), 0);
	struct cc_stats st;
	cc_get_stats(d.c, &st);
	ck_assert_uint_eq(st.vcs, 1);
	ck_assert_uint_eq(st.parties, 2);

	/* another peer, and this node's own parties, are not held back */
	uint8_t other[20];
	drv_addr(other, drv_mac(3), 5);
	ck_assert_ptr_null(drv_done(&d, drv_add_party(&d, ROOT, k.vc, other)));
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_SETUP), 1);

	/* teardown to the busy peer goes out */
	drv_clear(&d);
	uint64_t dr = drv_drop(&d, ROOT, k.vc, b, 100);
	ck_assert_uint_eq(drv_nsent_to(&d, Q_MSG_DROP_PARTY, P), 1);
	ck_assert_uint_eq(SENT(Q_MSG_DROP_PARTY, 0)->msg.uu.len, 100);
	peer_send(Q_MSG_DROP_PARTY_ACK, k.cref, true, ep, 16);
	ck_assert_int_eq(req_status(dr), CM_OK);

	/* drained: set-up is taken again */
	busy = false;
	r = drv_add_party(&d, ROOT, k.vc, a);
	ck_assert_ptr_null(drv_done(&d, r));
	ck_assert_uint_gt(asked, 0);
}
END_TEST

Suite *cc_test_suite(void)
{
	Suite *s = suite_create("cc-backpressure");
	TCase *tc = tcase_create("backpressure");
	tcase_add_checked_fixture(tc, setup, common_teardown);
	tcase_add_test(tc, busy_peer_refuses_setup_only);
	suite_add_tcase(s, tc);
	return s;
}
