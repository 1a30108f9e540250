/* SPDX-License-Identifier: MIT */
/*
 * Every state x event pair of the party (Q.2971) and call (Q.2931) machines,
 * table-driven: each row builds the state afresh, feeds one message from the
 * peer and checks the answer on the wire, the completion, the client event
 * and the state after.
 */
#include <check.h>
#include <stdlib.h>

#include "common.h"

enum ev {
	E_ADD_PARTY,
	E_ADD_PARTY_ACK,
	E_ADD_PARTY_REJECT,
	E_PARTY_ALERTING,
	E_DROP_PARTY,
	E_DROP_PARTY_ACK,
	E_STATUS_EP0,
};

static const uint8_t ev_type[] = {
	[E_ADD_PARTY] = Q_MSG_ADD_PARTY,	   [E_ADD_PARTY_ACK] = Q_MSG_ADD_PARTY_ACK,
	[E_ADD_PARTY_REJECT] = Q_MSG_ADD_PARTY_REJECT, [E_PARTY_ALERTING] = Q_MSG_PARTY_ALERTING,
	[E_DROP_PARTY] = Q_MSG_DROP_PARTY,	   [E_DROP_PARTY_ACK] = Q_MSG_DROP_PARTY_ACK,
	[E_STATUS_EP0] = Q_MSG_STATUS,
};

struct prow {
	uint8_t state;  /* party state the row starts in */
	uint8_t ev;
	uint8_t reply;  /* message we must send, 0 none */
	uint8_t reply_cause;
	int status;     /* completion of the pending request, NONE if none due */
	uint8_t cev;    /* incoming client event, 0 none */
	int after;      /* party state after, -1 gone */
};

#define R(s, e, rep, rc, st, cv, af)                                                               \
	{                                                                                          \
		.state = s, .ev = e, .reply = rep, .reply_cause = rc, .status = st, .cev = cv,     \
		.after = af                                                                        \
	}
#define PU1 Q_EPS_ADD_PARTY_INITIATED
#define PU2 Q_EPS_ADD_PARTY_RECEIVED
#define PU4 Q_EPS_ALERTING_RECEIVED
#define PU5 Q_EPS_DROP_PARTY_INITIATED
#define PU6 Q_EPS_DROP_PARTY_RECEIVED
#define PU7 Q_EPS_ACTIVE
#define ST Q_MSG_STATUS
#define DPA Q_MSG_DROP_PARTY_ACK
#define IDP CC_CEV_INCOMING_DROP_PARTY
#define ICC CC_CEV_INCOMING_CLOSE_CALL

static const struct prow root_rows[] = {
	R(PU1, E_ADD_PARTY, 0, 0, NONE, 0, PU1),
	R(PU1, E_ADD_PARTY_ACK, 0, 0, CM_OK, 0, PU7),
	R(PU1, E_ADD_PARTY_REJECT, 0, 0, CM_E_REJECTED, 0, -1),
	R(PU1, E_PARTY_ALERTING, 0, 0, NONE, 0, PU4),
	R(PU1, E_DROP_PARTY, DPA, 16, CM_E_REJECTED, 0, -1),
	R(PU1, E_DROP_PARTY_ACK, 0, 0, CM_E_REJECTED, 0, -1),
	R(PU1, E_STATUS_EP0, 0, 0, CM_E_REJECTED, 0, -1),
	R(PU4, E_ADD_PARTY, 0, 0, NONE, 0, PU4),
	R(PU4, E_ADD_PARTY_ACK, 0, 0, CM_OK, 0, PU7),
	R(PU4, E_ADD_PARTY_REJECT, 0, 0, CM_E_REJECTED, 0, -1),
	R(PU4, E_PARTY_ALERTING, ST, 101, NONE, 0, PU4),
	R(PU4, E_DROP_PARTY, DPA, 16, CM_E_REJECTED, 0, -1),
	R(PU4, E_DROP_PARTY_ACK, 0, 0, CM_E_REJECTED, 0, -1),
	R(PU4, E_STATUS_EP0, 0, 0, CM_E_REJECTED, 0, -1),
	R(PU5, E_ADD_PARTY, 0, 0, NONE, 0, PU5),
	R(PU5, E_ADD_PARTY_ACK, 0, 0, NONE, 0, PU5),
	R(PU5, E_ADD_PARTY_REJECT, 0, 0, CM_OK, 0, -1),
	R(PU5, E_PARTY_ALERTING, 0, 0, NONE, 0, PU5),
	R(PU5, E_DROP_PARTY, DPA, 16, CM_OK, 0, -1),
	R(PU5, E_DROP_PARTY_ACK, 0, 0, CM_OK, 0, -1),
	R(PU5, E_STATUS_EP0, 0, 0, CM_OK, 0, -1),
	R(PU7, E_ADD_PARTY, 0, 0, NONE, 0, PU7),
	R(PU7, E_ADD_PARTY_ACK, ST, 101, NONE, 0, PU7),
	R(PU7, E_ADD_PARTY_REJECT, ST, 101, NONE, 0, PU7),
	R(PU7, E_PARTY_ALERTING, ST, 101, NONE, 0, PU7),
	R(PU7, E_DROP_PARTY, DPA, 16, NONE, IDP, PU6),
	R(PU7, E_DROP_PARTY_ACK, 0, 0, NONE, IDP, PU6),
	R(PU7, E_STATUS_EP0, 0, 0, NONE, IDP, PU6),
};

static const struct prow leaf_rows[] = {
	R(PU2, E_ADD_PARTY, 0, 0, NONE, 0, PU2),
	R(PU2, E_ADD_PARTY_ACK, ST, 101, NONE, 0, PU2),
	R(PU2, E_ADD_PARTY_REJECT, ST, 101, NONE, 0, PU2),
	R(PU2, E_PARTY_ALERTING, ST, 101, NONE, 0, PU2),
	R(PU2, E_DROP_PARTY, DPA, 16, NONE, ICC, PU6),
	R(PU2, E_DROP_PARTY_ACK, 0, 0, NONE, ICC, PU6),
	R(PU2, E_STATUS_EP0, 0, 0, NONE, ICC, PU6),
	R(PU7, E_ADD_PARTY, 0, 0, NONE, 0, PU7),
	R(PU7, E_ADD_PARTY_ACK, ST, 101, NONE, 0, PU7),
	R(PU7, E_ADD_PARTY_REJECT, ST, 101, NONE, 0, PU7),
	R(PU7, E_PARTY_ALERTING, ST, 101, NONE, 0, PU7),
	R(PU7, E_DROP_PARTY, DPA, 16, NONE, ICC, PU6),
	R(PU7, E_DROP_PARTY_ACK, 0, 0, NONE, ICC, PU6),
	R(PU7, E_STATUS_EP0, 0, 0, NONE, ICC, PU6),
	R(PU5, E_ADD_PARTY, 0, 0, NONE, 0, PU5),
	R(PU5, E_ADD_PARTY_ACK, 0, 0, NONE, 0, PU5),
	R(PU5, E_ADD_PARTY_REJECT, 0, 0, CM_OK, 0, -1),
	R(PU5, E_PARTY_ALERTING, 0, 0, NONE, 0, PU5),
	R(PU5, E_DROP_PARTY, DPA, 16, CM_OK, 0, -1),
	R(PU5, E_DROP_PARTY_ACK, 0, 0, CM_OK, 0, -1),
	R(PU5, E_STATUS_EP0, 0, 0, CM_OK, 0, -1),
};

static void feed_party_event(uint32_t cref, bool root_leg, uint16_t epref, uint8_t ev)
{
	struct q_msg m = pmsg(ev_type[ev], cref, root_leg, epref, 21);
	if (ev == E_STATUS_EP0) {
		m.cause.value = 30;
		m.call_state_present = true;
		m.call_state = 10;
		m.ep_state_present = true;
		m.ep_state = 0;
	}
	if (ev == E_ADD_PARTY) {
		m.called.present = true;
		drv_addr(m.called.aesa, d.me, 2);
	}
	drv_clear(&d);
	drv_msg(&d, P, &m);
}

static void check_row(const struct prow *r, uint64_t req, cm_vc_id vc, cm_party_id p,
		      uint64_t owner)
{
	if (r->reply) {
		const struct cc_action *a = drv_sent(&d, r->reply, 0);
		ck_assert_msg(a, "row %u/%u: no reply 0x%02x", r->state, r->ev, r->reply);
		ck_assert_uint_eq(a->msg.cause.value, r->reply_cause);
		ck_assert(a->msg.epref.present);
	} else {
		ck_assert_uint_eq(drv_nsent(&d, ST), 0);
		ck_assert_uint_eq(drv_nsent(&d, DPA), 0);
		ck_assert_uint_eq(drv_nsent(&d, Q_MSG_RELEASE), 0);
	}
	const struct cc_client_event *done = req ? drv_done(&d, req) : NULL;
	if (r->status == NONE) {
		ck_assert_msg(!done, "row %u/%u: unexpected completion", r->state, r->ev);
	} else {
		ck_assert_msg(done, "row %u/%u: no completion", r->state, r->ev);
		ck_assert_int_eq(done->status, r->status);
		if (r->status == CM_E_REJECTED)
			ck_assert_int_eq(done->cause, r->ev == E_STATUS_EP0 ? 30 : 21);
	}
	if (r->cev) {
		const struct cc_client_event *e = drv_cev(&d, r->cev, 0);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->session, owner);
		ck_assert_uint_eq(e->vc, vc);
		ck_assert_int_eq(e->cause, r->ev == E_STATUS_EP0 ? 30 : 21);
	} else {
		ck_assert_uint_eq(drv_ncev(&d, IDP) + drv_ncev(&d, ICC), 0);
	}
	ck_assert_int_eq(party_state(vc, p), r->after);
}

START_TEST(root_party_table)
{
	const struct prow *r = &root_rows[_i];
	struct rcall k;
	root_active(&k);
	uint16_t ep;
	cm_party_id b;
	uint64_t req = root_add(&k, 6, &ep, &b);
	if (r->state == PU4) {
		peer_send(Q_MSG_PARTY_ALERTING, k.cref, true, ep, 0);
		ck_assert(drv_running(&d, CC_T397, b));
	}
	if (r->state == PU5 || r->state == PU7) {
		peer_send(Q_MSG_ADD_PARTY_ACK, k.cref, true, ep, 0);
		ck_assert_int_eq(DONE(req)->status, CM_OK);
		req = 0;
	}
	if (r->state == PU5) {
		drv_clear(&d);
		req = drv_drop(&d, ROOT, k.vc, b, 0);
		ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY), 1);
		ck_assert(drv_running(&d, CC_T398, b));
	}
	ck_assert_int_eq(party_state(k.vc, b), r->state);
	feed_party_event(k.cref, true, ep, r->ev);
	check_row(r, req, k.vc, b, ROOT);
	ck_assert_int_eq(party_state(k.vc, k.a), PU7); /* the other party is untouched */
}
END_TEST

START_TEST(leaf_party_table)
{
	const struct prow *r = &leaf_rows[_i];
	struct lcall k, b;
	leaf_active(&k, 4242);
	leaf_add_offered(&k, 3, 2, &b);
	uint64_t req = 0;
	if (r->state != PU2) {
		drv_clear(&d);
		drv_accept(&d, LEAF2, b.vc, b.party);
		ck_assert_uint_eq(drv_nsent(&d, Q_MSG_ADD_PARTY_ACK), 1);
		ck_assert_uint_eq(drv_ncev(&d, CC_CEV_CALL_CONNECTED), 1);
	}
	if (r->state == PU5) {
		drv_clear(&d);
		req = drv_close(&d, LEAF2, b.vc, b.party, 0);
		ck_assert_uint_eq(drv_nsent(&d, Q_MSG_DROP_PARTY), 1);
	}
	ck_assert_int_eq(party_state(b.vc, b.party), r->state);
	feed_party_event(k.cref, false, 3, r->ev);
	check_row(r, req, b.vc, b.party, LEAF2);
	ck_assert_int_eq(party_state(k.vc, k.party), PU7);
}
END_TEST

/* ---- call states ---- */

enum cev_ {
	C_CALL_PROC,
	C_ALERTING,
	C_CONNECT,
	C_CONNECT_ACK,
	C_RELEASE,
	C_RELEASE_COMPLETE,
	C_STATUS0,
	C_STATUS,
	C_STATUS_ENQ,
	C_PARTY_MSG,
	C_NOTIFY,
	C_N
};

static const uint8_t cev_type[] = {
	Q_MSG_CALL_PROCEEDING, Q_MSG_ALERTING,	  Q_MSG_CONNECT,	Q_MSG_CONNECT_ACK,
	Q_MSG_RELEASE,	       Q_MSG_RELEASE_COMPLETE, Q_MSG_STATUS,	Q_MSG_STATUS,
	Q_MSG_STATUS_ENQUIRY,  Q_MSG_ADD_PARTY_ACK,    Q_MSG_NOTIFY,
};

struct crow {
	uint8_t state;
	bool root;
	uint8_t reply; /* 0 none */
	uint8_t reply_cause;
	uint8_t after; /* call state after, 0 gone */
};

#define RC Q_MSG_RELEASE_COMPLETE
#define CA Q_MSG_CONNECT_ACK
/* one block per call state, one entry per event, every field by name */
static const struct crow call_rows[][C_N] = {
	{
		/* U1, root side */
		[C_CALL_PROC] = {.state = 1, .root = true, .after = 3},
		[C_ALERTING] = {.state = 1, .root = true, .after = 4},
		[C_CONNECT] = {.state = 1, .root = true, .reply = CA, .after = 10},
		[C_CONNECT_ACK] =
			{.state = 1, .root = true, .reply = ST, .reply_cause = 101, .after = 1},
		[C_RELEASE] = {.state = 1, .root = true, .reply = RC, .after = 0},
		[C_RELEASE_COMPLETE] = {.state = 1, .root = true, .after = 0},
		[C_STATUS0] = {.state = 1, .root = true, .after = 0},
		[C_STATUS] = {.state = 1, .root = true, .after = 1},
		[C_STATUS_ENQ] =
			{.state = 1, .root = true, .reply = ST, .reply_cause = 30, .after = 1},
		[C_PARTY_MSG] =
			{.state = 1, .root = true, .reply = ST, .reply_cause = 101, .after = 1},
		[C_NOTIFY] = {.state = 1, .root = true, .after = 1},
	},
	{
		/* U3, root side */
		[C_CALL_PROC] =
			{.state = 3, .root = true, .reply = ST, .reply_cause = 101, .after = 3},
		[C_ALERTING] = {.state = 3, .root = true, .after = 4},
		[C_CONNECT] = {.state = 3, .root = true, .reply = CA, .after = 10},
		[C_CONNECT_ACK] =
			{.state = 3, .root = true, .reply = ST, .reply_cause = 101, .after = 3},
		[C_RELEASE] = {.state = 3, .root = true, .reply = RC, .after = 0},
		[C_RELEASE_COMPLETE] = {.state = 3, .root = true, .after = 0},
		[C_STATUS0] = {.state = 3, .root = true, .after = 0},
		[C_STATUS] = {.state = 3, .root = true, .after = 3},
		[C_STATUS_ENQ] =
			{.state = 3, .root = true, .reply = ST, .reply_cause = 30, .after = 3},
		[C_PARTY_MSG] =
			{.state = 3, .root = true, .reply = ST, .reply_cause = 101, .after = 3},
		[C_NOTIFY] = {.state = 3, .root = true, .after = 3},
	},
	{
		/* U4, root side */
		[C_CALL_PROC] =
			{.state = 4, .root = true, .reply = ST, .reply_cause = 101, .after = 4},
		[C_ALERTING] =
			{.state = 4, .root = true, .reply = ST, .reply_cause = 101, .after = 4},
		[C_CONNECT] = {.state = 4, .root = true, .reply = CA, .after = 10},
		[C_CONNECT_ACK] =
			{.state = 4, .root = true, .reply = ST, .reply_cause = 101, .after = 4},
		[C_RELEASE] = {.state = 4, .root = true, .reply = RC, .after = 0},
		[C_RELEASE_COMPLETE] = {.state = 4, .root = true, .after = 0},
		[C_STATUS0] = {.state = 4, .root = true, .after = 0},
		[C_STATUS] = {.state = 4, .root = true, .after = 4},
		[C_STATUS_ENQ] =
			{.state = 4, .root = true, .reply = ST, .reply_cause = 30, .after = 4},
		[C_PARTY_MSG] =
			{.state = 4, .root = true, .reply = ST, .reply_cause = 101, .after = 4},
		[C_NOTIFY] = {.state = 4, .root = true, .after = 4},
	},
	{
		/* U10, root side */
		[C_CALL_PROC] =
			{.state = 10, .root = true, .reply = ST, .reply_cause = 101, .after = 10},
		[C_ALERTING] =
			{.state = 10, .root = true, .reply = ST, .reply_cause = 101, .after = 10},
		[C_CONNECT] =
			{.state = 10, .root = true, .reply = ST, .reply_cause = 101, .after = 10},
		[C_CONNECT_ACK] = {.state = 10, .root = true, .after = 10},
		[C_RELEASE] = {.state = 10, .root = true, .reply = RC, .after = 0},
		[C_RELEASE_COMPLETE] = {.state = 10, .root = true, .after = 0},
		[C_STATUS0] = {.state = 10, .root = true, .after = 0},
		[C_STATUS] = {.state = 10, .root = true, .after = 10},
		[C_STATUS_ENQ] =
			{.state = 10, .root = true, .reply = ST, .reply_cause = 30, .after = 10},
		[C_PARTY_MSG] =
			{.state = 10, .root = true, .reply = ST, .reply_cause = 101, .after = 10},
		[C_NOTIFY] = {.state = 10, .root = true, .after = 10},
	},
	{
		/* U11, root side */
		[C_CALL_PROC] = {.state = 11, .root = true, .after = 11},
		[C_ALERTING] = {.state = 11, .root = true, .after = 11},
		[C_CONNECT] = {.state = 11, .root = true, .after = 11},
		[C_CONNECT_ACK] = {.state = 11, .root = true, .after = 11},
		[C_RELEASE] = {.state = 11, .root = true, .after = 0},
		[C_RELEASE_COMPLETE] = {.state = 11, .root = true, .after = 0},
		[C_STATUS0] = {.state = 11, .root = true, .after = 0},
		[C_STATUS] = {.state = 11, .root = true, .after = 11},
		[C_STATUS_ENQ] =
			{.state = 11, .root = true, .reply = ST, .reply_cause = 30, .after = 11},
		[C_PARTY_MSG] = {.state = 11, .root = true, .after = 11},
		[C_NOTIFY] = {.state = 11, .root = true, .after = 11},
	},
	{
		/* U6, leaf side */
		[C_CALL_PROC] =
			{.state = 6, .root = false, .reply = ST, .reply_cause = 101, .after = 6},
		[C_ALERTING] =
			{.state = 6, .root = false, .reply = ST, .reply_cause = 101, .after = 6},
		[C_CONNECT] =
			{.state = 6, .root = false, .reply = ST, .reply_cause = 101, .after = 6},
		[C_CONNECT_ACK] =
			{.state = 6, .root = false, .reply = ST, .reply_cause = 101, .after = 6},
		[C_RELEASE] = {.state = 6, .root = false, .reply = RC, .after = 0},
		[C_RELEASE_COMPLETE] = {.state = 6, .root = false, .after = 0},
		[C_STATUS0] = {.state = 6, .root = false, .after = 0},
		[C_STATUS] = {.state = 6, .root = false, .after = 6},
		[C_STATUS_ENQ] =
			{.state = 6, .root = false, .reply = ST, .reply_cause = 30, .after = 6},
		[C_PARTY_MSG] =
			{.state = 6, .root = false, .reply = ST, .reply_cause = 101, .after = 6},
		[C_NOTIFY] = {.state = 6, .root = false, .after = 6},
	},
	{
		/* U8, leaf side */
		[C_CALL_PROC] =
			{.state = 8, .root = false, .reply = ST, .reply_cause = 101, .after = 8},
		[C_ALERTING] =
			{.state = 8, .root = false, .reply = ST, .reply_cause = 101, .after = 8},
		[C_CONNECT] =
			{.state = 8, .root = false, .reply = ST, .reply_cause = 101, .after = 8},
		[C_CONNECT_ACK] = {.state = 8, .root = false, .after = 10},
		[C_RELEASE] = {.state = 8, .root = false, .reply = RC, .after = 0},
		[C_RELEASE_COMPLETE] = {.state = 8, .root = false, .after = 0},
		[C_STATUS0] = {.state = 8, .root = false, .after = 0},
		[C_STATUS] = {.state = 8, .root = false, .after = 8},
		[C_STATUS_ENQ] =
			{.state = 8, .root = false, .reply = ST, .reply_cause = 30, .after = 8},
		[C_PARTY_MSG] =
			{.state = 8, .root = false, .reply = ST, .reply_cause = 101, .after = 8},
		[C_NOTIFY] = {.state = 8, .root = false, .after = 8},
	},
	{
		/* U10, leaf side */
		[C_CALL_PROC] =
			{.state = 10, .root = false, .reply = ST, .reply_cause = 101, .after = 10},
		[C_ALERTING] =
			{.state = 10, .root = false, .reply = ST, .reply_cause = 101, .after = 10},
		[C_CONNECT] =
			{.state = 10, .root = false, .reply = ST, .reply_cause = 101, .after = 10},
		[C_CONNECT_ACK] = {.state = 10, .root = false, .after = 10},
		[C_RELEASE] = {.state = 10, .root = false, .reply = RC, .after = 0},
		[C_RELEASE_COMPLETE] = {.state = 10, .root = false, .after = 0},
		[C_STATUS0] = {.state = 10, .root = false, .after = 0},
		[C_STATUS] = {.state = 10, .root = false, .after = 10},
		[C_STATUS_ENQ] =
			{.state = 10, .root = false, .reply = ST, .reply_cause = 30, .after = 10},
		[C_PARTY_MSG] =
			{.state = 10, .root = false, .reply = ST, .reply_cause = 101, .after = 10},
		[C_NOTIFY] = {.state = 10, .root = false, .after = 10},
	},
};
#define N_CALL_STATES (sizeof(call_rows) / sizeof(call_rows[0]))

START_TEST(call_table)
{
	const struct crow *r = &call_rows[_i / C_N][_i % C_N];
	unsigned e = _i % C_N;
	ck_assert_msg(r->state != 0, "call_rows[%d][%u] is missing", _i / C_N, e);
	uint32_t cref;
	cm_vc_id vc;
	uint64_t owner;
	if (r->root) {
		struct rcall k;
		root_calling(&k);
		if (r->state == 3)
			peer_send(Q_MSG_CALL_PROCEEDING, k.cref, true, 0, 0);
		if (r->state == 4)
			peer_send(Q_MSG_ALERTING, k.cref, true, 0, 0);
		if (r->state >= 10)
			peer_send(Q_MSG_CONNECT, k.cref, true, 0, 0);
		if (r->state == 11)
			drv_close(&d, ROOT, k.vc, k.a, 0);
		cref = k.cref;
		vc = k.vc;
		owner = ROOT;
	} else {
		struct lcall k;
		leaf_offered(&k, 777);
		if (r->state >= 8)
			drv_accept(&d, LEAF1, k.vc, k.party);
		if (r->state == 10)
			peer_send(Q_MSG_CONNECT_ACK, k.cref, false, -1, 0);
		cref = k.cref;
		vc = k.vc;
		owner = LEAF1;
	}
	ck_assert_int_eq(call_state(vc, cref), r->state);
	struct q_msg m = pmsg(cev_type[e], cref, r->root, e == C_PARTY_MSG ? 0 : -1, 0);
	if (e == C_CONNECT)
		m.epref = (struct q_ie_epref){ true, r->root, 0 };
	if (e == C_STATUS0 || e == C_STATUS) {
		m.cause = (struct q_ie_cause){ .present = true, .value = 30 };
		m.call_state_present = true;
		m.call_state = e == C_STATUS0 ? 0 : 10;
	}
	drv_clear(&d);
	drv_msg(&d, P, &m);
	if (r->reply) {
		const struct cc_action *a = drv_sent(&d, r->reply, 0);
		ck_assert_msg(a, "U%u event %u: no reply 0x%02x", r->state, e, r->reply);
		ck_assert_uint_eq(a->msg.cref, cref);
		ck_assert(a->msg.cref_flag == !r->root);
		if (r->reply_cause)
			ck_assert_uint_eq(a->msg.cause.value, r->reply_cause);
		if (r->reply == ST)
			ck_assert_uint_eq(a->msg.call_state, r->state);
	} else {
		ck_assert_uint_eq(drv_nsent(&d, ST) + drv_nsent(&d, RC) + drv_nsent(&d, CA), 0);
	}
	ck_assert_int_eq(call_state(vc, cref), r->after);
	if (r->after == 0 && r->state != 11) {
		/* the owner is told: MakeCall fails, or the call closes */
		if (r->root && r->state < 10)
			ck_assert_int_ne(CEV(CC_CEV_MAKE_CALL_COMPLETE, 0)->status, CM_OK);
		else
			ck_assert_uint_eq(CEV(CC_CEV_INCOMING_CLOSE_CALL, 0)->session, owner);
	}
	if (r->after == 0 && r->state == 11)
		ck_assert_int_eq(CEV(CC_CEV_CLOSE_CALL_COMPLETE, 0)->status, CM_OK);
}
END_TEST

Suite *cc_test_suite(void)
{
	Suite *s = suite_create("cc-tables");
	TCase *tc = tcase_create("tables");
	tcase_add_checked_fixture(tc, common_setup, common_teardown);
	tcase_add_loop_test(tc, root_party_table, 0, sizeof(root_rows) / sizeof(root_rows[0]));
	tcase_add_loop_test(tc, leaf_party_table, 0, sizeof(leaf_rows) / sizeof(leaf_rows[0]));
	tcase_add_loop_test(tc, call_table, 0, (int)(N_CALL_STATES * C_N));
	suite_add_tcase(s, tc);
	return s;
}
