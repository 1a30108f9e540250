/* SPDX-License-Identifier: MIT */
/*
 * The Q.2971 party machine, user side.  Root parties: PU1 Add Party
 * Initiated (T399), PU4 Party Alerting Received (T397), PU5 Drop Party
 * Initiated (T398), PU7 Active.  Leaf parties: PU2 Add Party Received
 * (offered to the client, accept timer), PU7, PU5.  PU6 Drop Party Received
 * is where a party waits for its owner's DropParty/CloseCall after the
 * network removed it (we acknowledged at once, SPEC §4), off the wire.
 *
 * Layer: a machine (cc_int.h) on the store (store.h); driven by cc.c and
 * call.c, one layer with call.c, whose legs it may release.
 */
#include "cc_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"

/*
 * Q.2971: the RELEASE we send takes every party of the call, whatever its
 * state: the party is being dropped (PU5), and the leg's T308 guards it,
 * so its own add, alerting, drop and accept timers stop here.
 */
void cc_party_released(cc *c, struct cc_party *p, struct cc_actions *out)
{
	cc_timer_stop(c, &p->timers, CC_T397, p->id, out);
	cc_timer_stop(c, &p->timers, CC_T398, p->id, out);
	cc_timer_stop(c, &p->timers, CC_T399, p->id, out);
	cc_timer_stop(c, &p->timers, CC_TACCEPT, p->id, out);
	if (p->state != Q_EPS_DROP_PARTY_INITIATED)
		cc_party_set_state(c, p, Q_EPS_DROP_PARTY_INITIATED);
}

static void party_msg_init(struct q_msg *m, const struct cc_party *p, uint8_t type)
{
	cc_msg_init(m, p->leg, type);
	m->epref.present = true;
	m->epref.flag = !p->leg->orig; /* the root allocated every epref of the leg */
	m->epref.value = p->epref;
}

/* Q.2971 §9.1 PU0 add party request: ADD PARTY, T399, PU1. */
void cc_party_send_add(cc *c, struct cc_party *p, struct cc_actions *out)
{
	struct q_msg m;
	party_msg_init(&m, p, Q_MSG_ADD_PARTY);
	m.called.present = true;
	memcpy(m.called.aesa, p->addr, Q_AESA_LEN);
	m.calling.present = true;
	cc_own_aesa(c, 0, m.calling.aesa);
	m.aal.present = true;
	m.aal.fwd_max_sdu = m.aal.bwd_max_sdu = p->vc ? p->vc->params.max_sdu : 0;
	m.blli.present = true;
	m.blli.user_l3 = p->addr[19];
	cc_send_msg(c, p->leg->peer->mac, &m, out);
	if (!p->queued)
		cc_timer_start(c, &p->timers, CC_T399, p->id, c->cfg.t399_ms, out);
	p->queued = false;
	if (p->state != Q_EPS_ADD_PARTY_INITIATED)
		cc_party_set_state(c, p, Q_EPS_ADD_PARTY_INITIATED);
}

static void emit_party_event(cc *c, uint8_t type, struct cc_vc *vc, struct cc_party *p, int cause,
			     const struct q_ie_uu *uu, struct cc_actions *out)
{
	struct cc_client_event ev = {0};
	ev.type = type;
	ev.session = vc->session;
	ev.vc = vc->id;
	ev.party = type == CC_CEV_INCOMING_DROP_PARTY ? p->id : 0;
	ev.cause = cause;
	if (uu && uu->present) {
		ev.data_len = uu->len;
		memcpy(ev.data, uu->data, uu->len);
	}
	cc_emit_cev(c, &ev, out);
}

/* The party's owner learns that the network removed it: PU6 off the wire. */
static void party_to_drop_received(cc *c, struct cc_party *p)
{
	cc_party_set_state(c, p, Q_EPS_DROP_PARTY_RECEIVED);
	p->incoming_sent = true;
	cc_party_relive(p);
}

void cc_emit_incoming_close(cc *c, struct cc_vc *vc, int cause, const struct q_ie_uu *uu,
			    struct cc_actions *out)
{
	struct cc_client_event ev = {0};
	ev.type = CC_CEV_INCOMING_CLOSE_CALL;
	ev.session = vc->session;
	ev.vc = vc->id;
	ev.cause = cause;
	if (uu && uu->present) {
		ev.data_len = uu->len;
		memcpy(ev.data, uu->data, uu->len);
	}
	cc_emit_cev(c, &ev, out);
}

/*
 * After parties left a VC: complete a close whose last party is gone, and
 * tell the owner of a root VC that nothing live remains.
 */
void cc_vc_after_change(cc *c, struct cc_vc *vc, int cause, struct cc_actions *out)
{
	if (vc->state == CC_VC_CLOSING && vc->n_parties == 0) {
		if (vc->close.type == CC_REQ_CLOSE_CALL || vc->close.type == CC_REQ_ADMIN_CLOSE) {
			uint8_t t = vc->close.type;
			cc_ref_complete(c, &vc->close, CM_OK, vc->close_cause, vc->id, 0, out);
			if (t == CC_REQ_ADMIN_CLOSE && vc->answer_due) {
				/* the owner still has to answer its IncomingCloseCall */
				cc_vc_set_state(c, vc, CC_VC_CLOSE_RECEIVED);
				return;
			}
		}
		cc_vc_free(c, vc);
		return;
	}
	if (vc->root && vc->made_ok && vc->state == CC_VC_ACTIVE && vc->n_live == 0) {
		cc_vc_set_state(c, vc, CC_VC_CLOSE_RECEIVED);
		cc_emit_incoming_close(c, vc, cause, NULL, out);
	}
}

/*
 * The party is gone from the network.  Settles whatever the owner is owed:
 * a pending add fails (status, or CM_E_REJECTED with the cause), a pending
 * drop succeeds, and a live party is reported as IncomingDropParty while
 * other live parties remain, else as IncomingCloseCall.
 */
void cc_party_gone(cc *c, struct cc_party *p, int status, int cause, const struct q_ie_uu *uu,
		   struct cc_actions *out)
{
	struct cc_vc *vc = p->vc;
	CC_STEP(c);
	cc_party_detach_leg(c, p, out);
	if (!vc) {
		cc_party_free(c, p, out);
		return;
	}
	if (vc->state == CC_VC_CLOSING && cause == Q_CAUSE_RECOVERY_ON_TIMER)
		vc->close_cause = Q_CAUSE_RECOVERY_ON_TIMER;
	if (p->add.type) {
		uint8_t t = p->add.type;
		cc_ref_complete(c, &p->add, status ? status : CM_E_REJECTED, cause, vc->id, p->id,
				out);
		cc_party_set_state(c, p, Q_EPS_NULL);
		cc_party_free(c, p, out);
		if (t == CC_REQ_MAKE_CALL && vc->state == CC_VC_CALLING && vc->n_parties == 0)
			cc_vc_free(c, vc);
		else
			cc_vc_after_change(c, vc, cause, out);
		return;
	}
	if (p->drop.type) {
		bool owner_owes = p->drop.type == CC_REQ_ADMIN_DROP && p->incoming_sent;
		cc_ref_complete(c, &p->drop, CM_OK, cause, vc->id, p->id, out);
		if (owner_owes) {
			cc_party_set_state(c, p, Q_EPS_DROP_PARTY_RECEIVED);
		} else {
			cc_party_set_state(c, p, Q_EPS_NULL);
			cc_party_free(c, p, out);
		}
		cc_vc_after_change(c, vc, cause, out);
		return;
	}
	if (p->incoming_sent || vc->state == CC_VC_CLOSING) {
		cc_party_set_state(c, p, Q_EPS_NULL);
		cc_party_free(c, p, out);
		cc_vc_after_change(c, vc, cause, out);
		return;
	}
	if (vc->root && vc->n_live > 1) {
		emit_party_event(c, CC_CEV_INCOMING_DROP_PARTY, vc, p, cause, uu, out);
	} else {
		cc_vc_set_state(c, vc, CC_VC_CLOSE_RECEIVED);
		emit_party_event(c, CC_CEV_INCOMING_CLOSE_CALL, vc, p, cause, uu, out);
	}
	party_to_drop_received(c, p);
	cc_vc_after_change(c, vc, cause, out);
}

/* Parties on the leg that stay active or establishing once p is gone. */
static uint32_t others_in_use(const struct cc_party *p)
{
	return p->leg->n_est - (cc_eps_in_use(p->state) ? 1 : 0);
}

/* Answer a party message (DROP PARTY ACK, ADD PARTY REJECT), or RELEASE if p was the last. */
static void party_answer(cc *c, struct cc_party *p, uint8_t type, uint8_t cause,
			 struct cc_actions *out)
{
	struct cc_leg *leg = p->leg;
	if (leg->state == U11)
		return;
	if (others_in_use(p) == 0) {
		cc_leg_release(c, leg, cause, NULL, out);
		return;
	}
	struct q_msg m;
	party_msg_init(&m, p, type);
	m.cause.present = true;
	m.cause.value = cause;
	cc_send_msg(c, leg->peer->mac, &m, out);
}

/* After a party left its leg: a leg with nobody active or establishing is released. */
static void leg_after_party(cc *c, uint64_t leg_id, struct cc_actions *out)
{
	struct cc_leg *leg = cc_leg_by_id(c, leg_id);
	if (leg && leg->n_est == 0 && leg->state != U11)
		cc_leg_release(c, leg, Q_CAUSE_NORMAL_CLEARING, NULL, out);
}

/* Q.2971 PU1/PU4: ADD PARTY ACK received: stop T399/T397, PU7, the add succeeded. */
static void party_pu1pu4_add_party_ack(cc *c, struct cc_party *p, struct cc_actions *out)
{
	cc_timer_stop(c, &p->timers, CC_T399, p->id, out);
	cc_timer_stop(c, &p->timers, CC_T397, p->id, out);
	cc_party_set_state(c, p, Q_EPS_ACTIVE);
	if (p->vc)
		cc_ref_complete(c, &p->add, CM_OK, 0, p->vc->id, p->id, out);
}

/* Q.2971 PU1: PARTY ALERTING received: stop T399, start T397, PU4. */
static void party_pu1_party_alerting(cc *c, struct cc_party *p, struct cc_actions *out)
{
	cc_timer_stop(c, &p->timers, CC_T399, p->id, out);
	cc_party_set_state(c, p, Q_EPS_ALERTING_RECEIVED);
	cc_timer_start(c, &p->timers, CC_T397, p->id, c->cfg.t397_ms, out);
}

/*
 * Q.2971 PU1/PU4: ADD PARTY REJECT or DROP PARTY ACK received (or STATUS
 * with endpoint state 0): the add failed with the remote's cause.
 */
static void party_pu1pu4_rejected(cc *c, struct cc_party *p, const struct q_msg *m,
				  struct cc_actions *out)
{
	struct cc_leg *leg = p->leg;
	uint64_t leg_id = leg->id;
	int cause = m->cause.present ? m->cause.value : Q_CAUSE_NORMAL_UNSPECIFIED;
	cc_party_gone(c, p, CM_E_REJECTED, cause, NULL, out);
	leg_after_party(c, leg_id, out);
}

/* Q.2971 PU1/PU4: DROP PARTY received while being added: acknowledge, the add failed. */
static void party_pu1pu4_drop_party(cc *c, struct cc_party *p, const struct q_msg *m,
				    struct cc_actions *out)
{
	party_answer(c, p, Q_MSG_DROP_PARTY_ACK, Q_CAUSE_NORMAL_CLEARING, out);
	int cause = m->cause.present ? m->cause.value : Q_CAUSE_NORMAL_UNSPECIFIED;
	cc_party_gone(c, p, CM_E_REJECTED, cause, &m->uu, out);
}

/*
 * Q.2971 PU5: DROP PARTY ACK, ADD PARTY REJECT, a colliding DROP PARTY (we
 * acknowledge it), or STATUS endpoint state 0: the drop is done.
 */
static void party_pu5_drop_done(cc *c, struct cc_party *p, const struct q_msg *m,
				struct cc_actions *out)
{
	struct cc_leg *leg = p->leg;
	uint64_t leg_id = leg->id;
	cc_timer_stop(c, &p->timers, CC_T398, p->id, out);
	if (m && m->type == Q_MSG_DROP_PARTY)
		party_answer(c, p, Q_MSG_DROP_PARTY_ACK, Q_CAUSE_NORMAL_CLEARING, out);
	int cause = (m && m->cause.present) ? m->cause.value : Q_CAUSE_NORMAL_CLEARING;
	cc_party_gone(c, p, 0, cause, NULL, out);
	leg_after_party(c, leg_id, out);
}

/*
 * Q.2971 PU7/PU2: DROP PARTY received: DROP PARTY ACK at once (RELEASE if it
 * was the leg's last), then the owner is told (SPEC §4).
 */
static void party_pu7pu2_drop_party(cc *c, struct cc_party *p, const struct q_msg *m,
				    struct cc_actions *out)
{
	party_answer(c, p, Q_MSG_DROP_PARTY_ACK, Q_CAUSE_NORMAL_CLEARING, out);
	int cause = m->cause.present ? m->cause.value : Q_CAUSE_NORMAL_CLEARING;
	cc_party_gone(c, p, 0, cause, &m->uu, out);
}

/*
 * Q.2971 PU7/PU2: DROP PARTY ACK (or STATUS endpoint state 0) with no drop
 * of ours pending: the remote no longer has the party; treated as a drop.
 */
static void party_pu7pu2_gone_remotely(cc *c, struct cc_party *p, const struct q_msg *m,
				       struct cc_actions *out)
{
	struct cc_leg *leg = p->leg;
	uint64_t leg_id = leg->id;
	int cause = m->cause.present ? m->cause.value : Q_CAUSE_NORMAL_UNSPECIFIED;
	cc_party_gone(c, p, 0, cause, NULL, out);
	leg_after_party(c, leg_id, out);
}

/* Q.2971 §9.5: a party message not compatible with the endpoint state: STATUS 101. */
void cc_party_status_reply(cc *c, struct cc_leg *leg, struct cc_party *p, uint8_t cause,
			   struct cc_actions *out)
{
	struct q_msg m;
	party_msg_init(&m, p, Q_MSG_STATUS);
	m.cause.present = true;
	m.cause.value = cause;
	m.call_state_present = true;
	m.call_state = leg->state;
	m.ep_state_present = true;
	m.ep_state = p->state;
	cc_send_msg(c, leg->peer->mac, &m, out);
}

static void party_unexpected(cc *c, struct cc_party *p, const struct q_msg *m,
			     struct cc_actions *out)
{
	log_at(LOG_INFO, p->vc ? p->vc->id : 0, p->id, p->leg->peer->mac.a,
	       "message 0x%02x not compatible with %s", m->type, cm_party_state_short(p->state));
	bool clear; /* Q.2931 §5.7.1: the message's action indicator */
	if (!cc_rx_incompatible_report(c, &clear))
		return;
	if (clear && p->leg->state != U11)
		cc_leg_abort(c, p->leg, Q_CAUSE_MSG_NOT_COMPATIBLE, 0, out);
	else
		cc_party_status_reply(c, p->leg, p, Q_CAUSE_MSG_NOT_COMPATIBLE, out);
}

static bool status_ep_null(const struct q_msg *m)
{
	return m->type == Q_MSG_STATUS && m->ep_state_present && m->ep_state == Q_EPS_NULL;
}

/* One party message on an active leg (ADD PARTY duplicates are filtered by call.c). */
void cc_party_message(cc *c, struct cc_party *p, const struct q_msg *m, struct cc_actions *out)
{
	switch (p->state) {
	case Q_EPS_ADD_PARTY_INITIATED:
	case Q_EPS_ALERTING_RECEIVED:
		switch (m->type) {
		case Q_MSG_ADD_PARTY_ACK:
			party_pu1pu4_add_party_ack(c, p, out);
			return;
		case Q_MSG_PARTY_ALERTING:
			if (p->state == Q_EPS_ADD_PARTY_INITIATED) {
				party_pu1_party_alerting(c, p, out);
				return;
			}
			party_unexpected(c, p, m, out);
			return;
		case Q_MSG_ADD_PARTY_REJECT:
		case Q_MSG_DROP_PARTY_ACK:
			party_pu1pu4_rejected(c, p, m, out);
			return;
		case Q_MSG_DROP_PARTY:
			party_pu1pu4_drop_party(c, p, m, out);
			return;
		case Q_MSG_STATUS:
			if (status_ep_null(m))
				party_pu1pu4_rejected(c, p, m, out);
			return;
		default:
			party_unexpected(c, p, m, out);
			return;
		}
	case Q_EPS_DROP_PARTY_INITIATED:
		switch (m->type) {
		case Q_MSG_DROP_PARTY_ACK:
		case Q_MSG_ADD_PARTY_REJECT:
		case Q_MSG_DROP_PARTY:
			party_pu5_drop_done(c, p, m, out);
			return;
		case Q_MSG_STATUS:
			if (status_ep_null(m))
				party_pu5_drop_done(c, p, m, out);
			return;
		default:
			/* ADD PARTY ACK, PARTY ALERTING crossing our DROP PARTY */
			return;
		}
	case Q_EPS_ACTIVE:
	case Q_EPS_ADD_PARTY_RECEIVED:
		switch (m->type) {
		case Q_MSG_DROP_PARTY:
			party_pu7pu2_drop_party(c, p, m, out);
			return;
		case Q_MSG_DROP_PARTY_ACK:
			party_pu7pu2_gone_remotely(c, p, m, out);
			return;
		case Q_MSG_STATUS:
			if (status_ep_null(m))
				party_pu7pu2_gone_remotely(c, p, m, out);
			return;
		default:
			party_unexpected(c, p, m, out);
			return;
		}
	case Q_EPS_NULL:
	case Q_EPS_ALERTING_DELIVERED:	/* the network side's state, never ours */
	case Q_EPS_DROP_PARTY_RECEIVED: /* off the wire: no message reaches it */
		party_unexpected(c, p, m, out);
		return;
	}
}

/*
 * The owner (or teardown) drops a party: Q.2971 drop party request, legal
 * in PU1, PU4 and PU7 (an add still pending completes with CM_E_CLOSING
 * first); PU2 (offered, leaf teardown) is refused with ADD PARTY REJECT.
 */
void cc_party_drop_request(cc *c, struct cc_party *p, uint8_t cause, const struct q_ie_uu *uu,
			   struct cc_actions *out)
{
	struct cc_leg *leg = p->leg;
	struct cc_vc *vc = p->vc;
	uint64_t vcid = vc ? vc->id : 0;
	switch (p->state) {
	case Q_EPS_ADD_PARTY_INITIATED:
	case Q_EPS_ALERTING_RECEIVED:
		cc_ref_complete(c, &p->add, CM_E_CLOSING, 0, vcid, p->id, out);
		if (p->queued) {
			/* ADD PARTY never went out: nothing to undo on the wire */
			uint64_t leg_id = leg->id;
			cc_ref_complete(c, &p->drop, CM_OK, 0, vcid, p->id, out);
			cc_party_set_state(c, p, Q_EPS_NULL);
			cc_party_free(c, p, out);
			if ((leg = cc_leg_by_id(c, leg_id)) && leg->n_est == 0 && leg->state != U11)
				cc_leg_release(c, leg, cause, uu, out);
			if (vcid && (vc = cc_vc_find(c, vcid)))
				cc_vc_after_change(c, vc, Q_CAUSE_NORMAL_CLEARING, out);
			return;
		}
		if (leg->state != U10 && leg->state != U11) {
			/* the SETUP's party: DROP PARTY must wait for CONNECT */
			cc_party_set_state(c, p, Q_EPS_DROP_PARTY_INITIATED);
			if (leg->n_est == 0) {
				cc_leg_release(c, leg, cause, uu, out);
			} else {
				p->drop_deferred = true;
				if (uu && uu->present) {
					leg->deferred_uu = malloc(sizeof(*leg->deferred_uu));
					if (!leg->deferred_uu)
						log_oom("a drop's user data kept for its DROP PARTY");
					*leg->deferred_uu = *uu;
				}
			}
			return;
		}
		/* fall through */
	case Q_EPS_ACTIVE:
		cc_timer_stop(c, &p->timers, CC_T397, p->id, out);
		cc_timer_stop(c, &p->timers, CC_T399, p->id, out);
		cc_party_set_state(c, p, Q_EPS_DROP_PARTY_INITIATED);
		if (leg->state == U11)
			return; /* the RELEASE already on its way takes the party too */
		if (leg->n_est == 0) {
			cc_leg_release(c, leg, cause, uu, out);
			return;
		}
		struct q_msg m;
		party_msg_init(&m, p, Q_MSG_DROP_PARTY);
		m.cause.present = true;
		m.cause.value = cause;
		if (uu && uu->present)
			m.uu = *uu;
		cc_send_msg(c, leg->peer->mac, &m, out);
		cc_timer_start(c, &p->timers, CC_T398, p->id, c->cfg.t398_ms, out);
		return;
	case Q_EPS_ADD_PARTY_RECEIVED: {
		cc_ref_complete(c, &p->drop, CM_OK, 0, vcid, p->id, out);
		if (leg->state == U6) {
			/* an offered SETUP is refused with RELEASE COMPLETE */
			cc_leg_release(c, leg, cause, NULL, out);
			return;
		}
		struct q_msg m2;
		party_msg_init(&m2, p, Q_MSG_ADD_PARTY_REJECT);
		m2.cause.present = true;
		m2.cause.value = cause;
		uint32_t left = others_in_use(p);
		cc_party_set_state(c, p, Q_EPS_NULL);
		cc_party_free(c, p, out);
		if (leg->state != U11) {
			if (left == 0)
				cc_leg_release(c, leg, cause, NULL, out);
			else
				cc_send_msg(c, leg->peer->mac, &m2, out);
		}
		if (vcid && (vc = cc_vc_find(c, vcid)))
			cc_vc_after_change(c, vc, cause, out);
		return;
	}
	case Q_EPS_NULL: /* nothing on the wire to undo */
	case Q_EPS_ALERTING_DELIVERED:
	case Q_EPS_DROP_PARTY_INITIATED: /* already being dropped */
	case Q_EPS_DROP_PARTY_RECEIVED:
		return;
	}
}

/* Party timers: T399/T397 (add), T398 (drop), the leaf's accept wait. */
void cc_party_timer(cc *c, struct cc_party *p, enum cc_timer_kind kind, struct cc_actions *out)
{
	struct cc_leg *leg = p->leg;
	switch (kind) {
	case CC_T399:
	case CC_T397: {
		/* Q.2971 PU1/PU4 T399/T397 expiry: drop the party, cause 102; the add times out */
		struct cc_vc *vc = p->vc;
		uint64_t vcid = vc ? vc->id : 0;
		if (vc)
			cc_ref_complete(c, &p->add, CM_E_TIMEOUT, Q_CAUSE_RECOVERY_ON_TIMER, vcid,
					p->id, out);
		if (!leg)
			return;
		if (p->queued) {
			uint64_t leg_id = leg->id;
			cc_party_set_state(c, p, Q_EPS_NULL);
			cc_party_free(c, p, out);
			if ((leg = cc_leg_by_id(c, leg_id)) && leg->n_est == 0 && leg->state != U11)
				cc_leg_release(c, leg, Q_CAUSE_RECOVERY_ON_TIMER, NULL, out);
		} else {
			/* the id is no longer the client's: the DROP PARTY finishes as an orphan */
			cc_party_unlink_vc(c, p);
			cc_party_set_state(c, p, Q_EPS_DROP_PARTY_INITIATED);
			if (leg->state == U11) {
				/* nothing to send */
			} else if (leg->n_est == 0) {
				cc_leg_release(c, leg, Q_CAUSE_RECOVERY_ON_TIMER, NULL, out);
			} else {
				struct q_msg m;
				party_msg_init(&m, p, Q_MSG_DROP_PARTY);
				m.cause.present = true;
				m.cause.value = Q_CAUSE_RECOVERY_ON_TIMER;
				m.cause.diag_len = 3;
				memcpy(m.cause.diag, kind == CC_T399 ? "399" : "397", 3);
				cc_send_msg(c, leg->peer->mac, &m, out);
				cc_timer_start(c, &p->timers, CC_T398, p->id, c->cfg.t398_ms, out);
			}
		}
		if (vcid && (vc = cc_vc_find(c, vcid)))
			cc_vc_after_change(c, vc, Q_CAUSE_RECOVERY_ON_TIMER, out);
		return;
	}
	case CC_T398: {
		/* Q.2971 PU5 T398 expiry: no resend; DROP PARTY ACK cause 102, the drop is done */
		uint64_t leg_id = leg->id;
		party_answer(c, p, Q_MSG_DROP_PARTY_ACK, Q_CAUSE_RECOVERY_ON_TIMER, out);
		cc_party_gone(c, p, 0, Q_CAUSE_RECOVERY_ON_TIMER, NULL, out);
		leg_after_party(c, leg_id, out);
		return;
	}
	case CC_TACCEPT:
		/* the leaf's client did not answer: refuse with cause 18, the client is told */
		if (leg->state == U6) {
			struct q_msg m;
			cc_msg_init(&m, leg, Q_MSG_RELEASE_COMPLETE);
			m.cause.present = true;
			m.cause.value = Q_CAUSE_NO_USER_RESPONDING;
			cc_send_msg(c, leg->peer->mac, &m, out);
			cc_leg_cleared(c, leg, 0, Q_CAUSE_NO_USER_RESPONDING, NULL, out);
		} else {
			party_answer(c, p, Q_MSG_ADD_PARTY_REJECT, Q_CAUSE_NO_USER_RESPONDING, out);
			cc_party_gone(c, p, 0, Q_CAUSE_NO_USER_RESPONDING, NULL, out);
		}
		return;
	case CC_T303: /* leg and peer timers are call.c's */
	case CC_T308:
	case CC_T309:
	case CC_T316:
	case CC_T310:
	case CC_T313:
	case CC_T322:
		return;
	}
}
