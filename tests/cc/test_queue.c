/* SPDX-License-Identifier: MIT */
/*
 * Call control's own queue (cc_feed, cc_enqueue) used directly, without the
 * test driver: local legs go round it in order, events queued from outside
 * wait their turn, and queued data is a copy.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cc/cc.h"
#include "../ck_run.h"

static const struct cc_mac ME = { { 0x02, 0, 0, 0, 0, 1 } };
static const struct cc_mac PEER = { { 0x02, 0, 0, 0, 0, 2 } };

static cc *c;
static struct cc_actions out;

static void setup(void)
{
	struct cc_config cfg;
	cc_config_defaults(&cfg);
	cfg.esi = ME;
	c = cc_new(&cfg);
	ck_assert_ptr_nonnull(c);
	cc_actions_init(&out);
}

static void teardown(void)
{
	cc_free(c);
	cc_actions_free(&out);
}

static const struct cc_action *find(uint8_t type, uint8_t what, size_t from)
{
	for (size_t i = from; i < out.n; i++)
		if (out.v[i].type == type &&
		    (type == CC_ACT_SEND ? out.v[i].msg.type : out.v[i].cev.type) == what)
			return &out.v[i];
	return NULL;
}

static void request(struct cc_request r)
{
	struct cc_event ev = { .type = CC_EV_REQUEST, .session = r.session, .req = r };
	cc_actions_clear(&out);
	ck_assert_int_eq(cc_feed(c, &ev, &out), CM_OK);
}

/* A local call: the SETUP to our own MAC is queued, not handled in the same step. */
START_TEST(local_call_steps)
{
	request((struct cc_request){ .type = CC_REQ_REGISTER_SAP, .session = 2, .req_id = 1,
				     .selector = 7 });
	ck_assert_uint_eq(cc_queued(c), 0);
	struct cc_request mk = { .type = CC_REQ_MAKE_CALL, .session = 1, .req_id = 2 };
	mk.addr[0] = 0x39;
	memcpy(mk.addr + 13, ME.a, 6);
	mk.addr[19] = 7;
	request(mk);
	ck_assert_ptr_nonnull(find(CC_ACT_SEND, Q_MSG_SETUP, 0));
	ck_assert_ptr_null(find(CC_ACT_CLIENT_EVENT, CC_CEV_INCOMING_CALL, 0));
	ck_assert_uint_eq(cc_queued(c), 1);
	/* the next step handles it: the leaf side offers the call */
	cc_actions_clear(&out);
	ck_assert_int_eq(cc_feed(c, NULL, &out), CM_OK);
	ck_assert_ptr_nonnull(find(CC_ACT_CLIENT_EVENT, CC_CEV_INCOMING_CALL, 0));
	/* drain: nothing left, and an empty queue is a no-op */
	for (int i = 0; cc_queued(c) > 0; i++) {
		ck_assert_int_lt(i, 100);
		cc_actions_clear(&out);
		ck_assert_int_eq(cc_feed(c, NULL, &out), CM_OK);
	}
	cc_actions_clear(&out);
	ck_assert_int_eq(cc_feed(c, NULL, &out), CM_OK);
	ck_assert_uint_eq(out.n, 0);
	struct cc_stats st;
	cc_get_stats(c, &st);
	ck_assert_uint_eq(st.vcs, 2);
}
END_TEST

/* Enqueued events keep their order; a queued message is a copy (its data, freed with it). */
START_TEST(enqueue_order_and_copies)
{
	uint8_t sap = 9;
	struct cc_event r1 = { .type = CC_EV_REQUEST, .session = 4,
			       .req = { .type = CC_REQ_REGISTER_SAP, .session = 4, .req_id = 10,
					.selector = sap } };
	struct cc_event r2 = r1;
	r2.req.req_id = 11; /* the same selector again: CM_E_SAP_IN_USE ... */
	r2.session = r2.req.session = 5;
	uint8_t uu[4] = { 1, 2, 3, 4 };
	struct cc_event r3 = { .type = CC_EV_REQUEST, .session = 5,
			       .req = { .type = CC_REQ_CLOSE_CALL, .session = 5, .req_id = 12,
					.vc = 999, .data = uu, .data_len = sizeof(uu) } };
	struct q_msg m;
	memset(&m, 0, sizeof(m));
	m.type = Q_MSG_STATUS_ENQUIRY;
	m.cref = 77;
	struct cc_event msg = { .type = CC_EV_MESSAGE, .peer = PEER, .msg = &m };
	ck_assert_int_eq(cc_enqueue(c, &r1), CM_OK);
	ck_assert_int_eq(cc_enqueue(c, &r2), CM_OK);
	ck_assert_int_eq(cc_enqueue(c, &r3), CM_OK);
	ck_assert_int_eq(cc_enqueue(c, &msg), CM_OK);
	memset(uu, 0, sizeof(uu));
	m.cref = 0;
	ck_assert_uint_eq(cc_queued(c), 4);
	cc_actions_clear(&out);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(cc_feed(c, NULL, &out), CM_OK);
	ck_assert_uint_eq(cc_queued(c), 0);
	const struct cc_action *a = find(CC_ACT_CLIENT_EVENT, CC_CEV_REGISTER_SAP_COMPLETE, 0);
	ck_assert_uint_eq(a->cev.req_id, 10);
	ck_assert_int_eq(a->cev.status, CM_OK);
	a = find(CC_ACT_CLIENT_EVENT, CC_CEV_REGISTER_SAP_COMPLETE, (size_t)(a - out.v) + 1);
	ck_assert_uint_eq(a->cev.req_id, 11);
	ck_assert_int_eq(a->cev.status, CM_E_SAP_IN_USE);
	a = find(CC_ACT_CLIENT_EVENT, CC_CEV_CLOSE_CALL_COMPLETE, 0);
	ck_assert_int_eq(a->cev.status, CM_E_NO_VC);
	/* a STATUS ENQUIRY for an unknown call is answered about the call it names */
	a = find(CC_ACT_SEND, Q_MSG_RELEASE_COMPLETE, 0);
	if (!a)
		a = find(CC_ACT_SEND, Q_MSG_STATUS, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->msg.cref, 77);
}
END_TEST

/* Freeing call control with events still queued loses nothing to the leak checker. */
START_TEST(free_with_queued)
{
	uint8_t uu[2] = { 1, 2 };
	struct cc_event r = { .type = CC_EV_REQUEST, .session = 5,
			      .req = { .type = CC_REQ_CLOSE_CALL, .session = 5, .vc = 1,
				       .data = uu, .data_len = 2 } };
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(cc_enqueue(c, &r), CM_OK);
	ck_assert_uint_eq(cc_queued(c), 200);
}
END_TEST

int main(void)
{
	CK_RUN("cc-queue", setup, teardown, local_call_steps, enqueue_order_and_copies,
	       free_with_queued);
}
