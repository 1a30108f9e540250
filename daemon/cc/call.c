/* SPDX-License-Identifier: MIT */
/*
 * The Q.2931 call (leg) machine: one leg is one call reference on one
 * peer's link.  Root legs (we sent the SETUP) go U0 -> U1 -> U3/U4 -> U10,
 * leaf legs U0 -> U6 -> U8 -> U10; both clear through U11.  Party messages
 * on an active leg are handed to party.c.  Also: unknown call references,
 * decoder errors (Q.2931 §5.6), STATUS / STATUS ENQUIRY, RESTART, and the
 * link events (T309, T322).
 *
 * Layer: a machine (cc_int.h) on the store (store.h); driven by cc.c, and
 * one layer with party.c, which it hands party messages to.
 */
#include "cc_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

void cc_msg_init(struct q_msg *m, const struct cc_leg *leg, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->cref = leg->cref;
	m->cref_flag = !leg->orig;
	/* the leaf side's first reply carries the identifier it allocated */
	if (type == Q_MSG_CONNECT && !leg->orig && leg->vci) {
		m->conn_id.present = true;
		m->conn_id.vpci = leg->vpci;
		m->conn_id.vci = leg->vci;
	}
}

/* An answer on the call reference of a message received. */
static void reply_init(struct q_msg *m, const struct q_msg *in, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->cref = in->cref;
	m->cref_flag = !in->cref_flag;
}

void cc_send_msg(cc *c, struct cc_mac to, const struct q_msg *m, struct cc_actions *out)
{
	struct cc_action *a = cc_act_push(out);
	a->type = CC_ACT_SEND;
	a->peer = to;
	a->msg = *m;
	c->st.msgs_out++;
}

void cc_send_cause(cc *c, struct cc_mac to, const struct q_msg *in, uint8_t type, uint8_t cause,
		   struct cc_actions *out)
{
	struct q_msg m;
	reply_init(&m, in, type);
	m.cause.present = true;
	m.cause.value = cause;
	cc_rx_diagnostic(c, &m.cause);
	cc_send_msg(c, to, &m, out);
}

void cc_send_global_status(cc *c, struct cc_peer *peer, const struct q_msg *in, uint8_t cause,
			   struct cc_actions *out)
{
	struct q_msg m;
	reply_init(&m, in, Q_MSG_STATUS);
	m.cref = 0;
	m.cause.present = true;
	m.cause.value = cause;
	cc_rx_diagnostic(c, &m.cause);
	m.call_state_present = true;
	m.call_state = U0; /* Rest0: the global call reference's null state */
	cc_send_msg(c, peer->mac, &m, out);
}

void cc_send_status(cc *c, struct cc_mac to, const struct q_msg *in, const struct cc_leg *leg,
		    uint8_t cause, struct cc_actions *out)
{
	struct q_msg m;
	reply_init(&m, in, Q_MSG_STATUS);
	m.cause.present = true;
	m.cause.value = cause;
	cc_rx_diagnostic(c, &m.cause);
	m.call_state_present = true;
	m.call_state = leg ? leg->state : U0;
	if (in->epref.present) {
		m.epref.present = true;
		m.epref.flag = !in->epref.flag;
		m.epref.value = in->epref.value;
		m.ep_state_present = true;
		const struct cc_party *p = leg ? cc_party_by_epref(c, leg, in->epref.value) : NULL;
		m.ep_state = p ? p->state : Q_EPS_NULL;
	}
	cc_send_msg(c, to, &m, out);
}

/* Q.2931 §5.1.1: SETUP for a point-to-multipoint call, the first party with epref 0. */
void cc_leg_send_setup(cc *c, struct cc_leg *leg, struct cc_party *p, struct cc_actions *out)
{
	const struct cm_call_params *cp = &p->vc->params;
	struct q_msg *m = calloc(1, sizeof(*m));
	if (!m)
		log_oom("call control: a SETUP kept for resending");
	cc_msg_init(m, leg, Q_MSG_SETUP);
	m->bearer.present = true;
	m->bearer.bearer_class = 0x10;
	m->bearer.p2mp = true;
	m->epref.present = true;
	m->epref.value = p->epref;
	m->called.present = true;
	memcpy(m->called.aesa, p->addr, Q_AESA_LEN);
	m->calling.present = true;
	cc_own_aesa(c, 0, m->calling.aesa);
	m->aal.present = true;
	m->aal.fwd_max_sdu = m->aal.bwd_max_sdu = cp->max_sdu;
	m->traffic.present = true;
	m->traffic.fwd_peak_cr = m->traffic.bwd_peak_cr = q_kbps_to_cells(cp->peak_kbps);
	m->qos.present = true;
	m->qos.fwd_class = m->qos.bwd_class = cp->qos_class;
	m->blli.present = true;
	m->blli.user_l3 = p->addr[19];
	free(leg->setup);
	leg->setup = m;
	if (cc_peer_ready(c, leg->peer))
		cc_send_msg(c, leg->peer->mac, m, out);
	else
		cc_restart_hold(c, leg, out);
	cc_leg_set_state(c, leg, U1);
	leg->retries = 1;
	/* held, T303 bounds the wait for the restart as it would the answer */
	cc_timer_start(c, &leg->timers, CC_T303, leg->id, c->cfg.t303_ms, out);
}

static void send_release(cc *c, struct cc_leg *leg, const struct q_ie_uu *uu, bool again,
			 struct cc_actions *out)
{
	struct q_msg m;
	cc_msg_init(&m, leg, Q_MSG_RELEASE);
	m.cause.present = true;
	m.cause.value = leg->rel_cause;
	if (again) {
		m.cause2.present = true;
		m.cause2.value = Q_CAUSE_RECOVERY_ON_TIMER;
		m.cause2.diag_len = 3;
		memcpy(m.cause2.diag, "308", 3);
	}
	if (uu && uu->present)
		m.uu = *uu;
	cc_send_msg(c, leg->peer->mac, &m, out);
}

/*
 * Q.2931 §5.4.2 clearing by the user: RELEASE, T308, U11.  A leaf leg still
 * offered (U6) is refused with RELEASE COMPLETE instead and gone at once.
 */
void cc_leg_release(cc *c, struct cc_leg *leg, uint8_t cause, const struct q_ie_uu *uu,
		    struct cc_actions *out)
{
	cc_leg_unusable(c, leg);
	if (leg->held) {
		/* its SETUP never went out: nothing to clear on the wire */
		cc_leg_cleared(c, leg, 0, cause, NULL, out);
		return;
	}
	if (leg->state == U6 || leg->state == U0) {
		struct q_msg m;
		cc_msg_init(&m, leg, Q_MSG_RELEASE_COMPLETE);
		m.cause.present = true;
		m.cause.value = cause;
		cc_send_msg(c, leg->peer->mac, &m, out);
		cc_leg_cleared(c, leg, 0, cause, NULL, out);
		return;
	}
	if (leg->state == U11)
		return;
	cc_leg_stop_timers(c, leg, out);
	for (struct cc_party *p = leg->p_head; p; p = p->leg_next) {
		CC_STEP(c);
		cc_party_released(c, p, out);
	}
	free(leg->setup);
	leg->setup = NULL;
	leg->rel_cause = cause;
	send_release(c, leg, uu, false, out);
	cc_leg_set_state(c, leg, U11);
	cc_peer_check_t309(c, leg->peer, out);
	leg->retries = 1;
	cc_timer_start(c, &leg->timers, CC_T308, leg->id, c->cfg.t308_ms, out);
}

/* The call is gone: every party of the leg goes with it (Q.2971 RELEASE in any party state). */
void cc_leg_cleared(cc *c, struct cc_leg *leg, int status, int cause, const struct q_ie_uu *uu,
		    struct cc_actions *out)
{
	cc_leg_stop_timers(c, leg, out);
	cc_leg_unusable(c, leg);
	while (leg->p_head) {
		CC_STEP(c);
		cc_party_gone(c, leg->p_head, status, cause, uu, out);
	}
	cc_leg_free(c, leg, out);
}

/* RELEASE on the wire now, but the clients learn at once (timer expiries, clear call). */
void cc_leg_abort(cc *c, struct cc_leg *leg, uint8_t cause, int status, struct cc_actions *out)
{
	uint64_t id = leg->id;
	cc_leg_release(c, leg, cause, NULL, out);
	if (!(leg = cc_leg_by_id(c, id)))
		return;
	while (leg->p_head) {
		CC_STEP(c);
		cc_party_gone(c, leg->p_head, status, cause, NULL, out);
	}
}

/* Q.2971 "last party clears the call": RELEASE instead of a party message. */
void cc_leg_party_msg_or_release(cc *c, struct cc_leg *leg, struct q_msg *m, uint8_t cause,
				 struct cc_actions *out)
{
	if (leg->state == U11)
		return;
	if (leg->n_est == 0) {
		cc_leg_release(c, leg, cause, NULL, out);
		return;
	}
	cc_send_msg(c, leg->peer->mac, m, out);
}

/* ---------------------------------------------------------- handlers */

/* Q.2931 §5.6.4 (message not compatible with the call state): STATUS 101. */
static void call_unexpected(cc *c, struct cc_leg *leg, const struct q_msg *m,
			    struct cc_actions *out)
{
	log_at(LOG_INFO, leg->vc ? leg->vc->id : 0, 0, leg->peer->mac.a,
	       "message 0x%02x not compatible with U%u", m->type, leg->state);
	bool clear;
	if (!cc_rx_incompatible_report(c, &clear))
		return;
	if (clear && leg->state != U11)
		cc_leg_abort(c, leg, Q_CAUSE_MSG_NOT_COMPATIBLE, 0, out);
	else
		cc_send_status(c, leg->peer->mac, m, leg, Q_CAUSE_MSG_NOT_COMPATIBLE, out);
}

/* Q.2931 §5.1.5.1 CALL PROCEEDING in U1: stop T303, start T310. */
static void call_u1_call_proceeding(cc *c, struct cc_leg *leg, struct cc_actions *out)
{
	cc_timer_stop(c, &leg->timers, CC_T303, leg->id, out);
	free(leg->setup);
	leg->setup = NULL;
	cc_leg_set_state(c, leg, U3);
	cc_timer_start(c, &leg->timers, CC_T310, leg->id, c->cfg.t310_ms, out);
}

/* Q.2931 §5.1.7 ALERTING in U1/U3: U4; T310 (re)started so U4 never waits unguarded. */
static void call_u1u3_alerting(cc *c, struct cc_leg *leg, struct cc_actions *out)
{
	cc_timer_stop(c, &leg->timers, CC_T303, leg->id, out);
	free(leg->setup);
	leg->setup = NULL;
	cc_leg_set_state(c, leg, U4);
	cc_timer_start(c, &leg->timers, CC_T310, leg->id, c->cfg.t310_ms, out);
}

/*
 * Q.2931 §5.1.8 CONNECT in U1/U3/U4: CONNECT ACK, U10; the SETUP's party is
 * active, then parties queued while the leg was set up get their ADD PARTY.
 */
static void call_connected_leg(cc *c, struct cc_leg *leg, struct cc_actions *out)
{
	cc_timer_stop(c, &leg->timers, CC_T303, leg->id, out);
	cc_timer_stop(c, &leg->timers, CC_T310, leg->id, out);
	free(leg->setup);
	leg->setup = NULL;
	struct q_msg m;
	cc_msg_init(&m, leg, Q_MSG_CONNECT_ACK);
	cc_send_msg(c, leg->peer->mac, &m, out);
	cc_leg_set_state(c, leg, U10);
	struct cc_party *first = cc_party_by_epref(c, leg, 0);
	if (first && first->state == Q_EPS_ADD_PARTY_INITIATED && !first->queued) {
		cc_party_set_state(c, first, Q_EPS_ACTIVE);
		struct cc_vc *vc = first->vc;
		if (vc && vc->state == CC_VC_CALLING) {
			cc_vc_set_state(c, vc, CC_VC_ACTIVE);
			vc->made_ok = true;
		}
		if (vc)
			cc_ref_complete(c, &first->add, CM_OK, 0, vc->id, first->id, out);
	}
	for (struct cc_party *p = leg->p_head; p; p = p->leg_next) {
		CC_STEP(c);
		if (p->queued)
			cc_party_send_add(c, p, out);
	}
	if (first && first->drop_deferred) {
		first->drop_deferred = false;
		struct q_msg d;
		cc_msg_init(&d, leg, Q_MSG_DROP_PARTY);
		d.epref.present = true;
		d.epref.value = first->epref;
		d.cause.present = true;
		d.cause.value = Q_CAUSE_NORMAL_CLEARING;
		if (leg->deferred_uu)
			d.uu = *leg->deferred_uu;
		free(leg->deferred_uu);
		leg->deferred_uu = NULL;
		if (leg->n_est == 0) {
			cc_leg_release(c, leg, Q_CAUSE_NORMAL_CLEARING, &d.uu, out);
		} else {
			cc_send_msg(c, leg->peer->mac, &d, out);
			cc_timer_start(c, &first->timers, CC_T398, first->id, c->cfg.t398_ms, out);
		}
	}
}

/* Q.2931 §5.1.8 CONNECT ACKNOWLEDGE in U8 (leaf): active, the client is told. */
static void call_u8_connect_ack(cc *c, struct cc_leg *leg, struct cc_actions *out)
{
	cc_timer_stop(c, &leg->timers, CC_T313, leg->id, out);
	cc_leg_set_state(c, leg, U10);
	struct cc_party *p = leg->p_head;
	if (!p || !p->vc || p->vc->state != CC_VC_CALLING)
		return;
	cc_vc_set_state(c, p->vc, CC_VC_ACTIVE);
	struct cc_client_event ev = {0};
	ev.type = CC_CEV_CALL_CONNECTED;
	ev.session = p->vc->session;
	ev.vc = p->vc->id;
	ev.party = p->id;
	cc_emit_cev(c, &ev, out);
}

static int msg_cause(const struct q_msg *m, int dflt)
{
	return m->cause.present ? m->cause.value : dflt;
}

/* Q.2931 §5.4.4 RELEASE received: RELEASE COMPLETE at once, the call is gone. */
static void call_any_release(cc *c, struct cc_leg *leg, const struct q_msg *m,
			     struct cc_actions *out)
{
	struct q_msg r;
	cc_msg_init(&r, leg, Q_MSG_RELEASE_COMPLETE);
	cc_send_msg(c, leg->peer->mac, &r, out);
	cc_leg_cleared(c, leg, 0, msg_cause(m, Q_CAUSE_NORMAL_CLEARING), &m->uu, out);
}

/* Q.2931 §5.4.3 RELEASE COMPLETE received (or a clear collision in U11). */
static void call_any_release_complete(cc *c, struct cc_leg *leg, const struct q_msg *m,
				      struct cc_actions *out)
{
	int cause = msg_cause(m, Q_CAUSE_NORMAL_CLEARING);
	if (leg->state == U11)
		cause = leg->rel_cause;
	cc_leg_cleared(c, leg, 0, cause, &m->uu, out);
}

/* Q.2931 §5.6.12 STATUS ENQUIRY: STATUS cause 30 with our states. */
static void call_any_status_enquiry(cc *c, struct cc_leg *leg, const struct q_msg *m,
				    struct cc_actions *out)
{
	cc_send_status(c, leg->peer->mac, m, leg, Q_CAUSE_STATUS_ENQUIRY_RESPONSE, out);
}

/*
 * Q.2931 §5.6.11 STATUS received: call state 0 clears the leg locally; any
 * other answers a STATUS ENQUIRY (T322).  Q.2971: endpoint state 0 for a
 * party we hold means the party is gone.
 */
static void call_any_status(cc *c, struct cc_leg *leg, const struct q_msg *m,
			    struct cc_actions *out)
{
	if (m->call_state_present && m->call_state == U0) {
		cc_leg_cleared(c, leg, 0, msg_cause(m, Q_CAUSE_TEMPORARY_FAILURE), NULL, out);
		return;
	}
	if (leg->state == U11)
		return;
	cc_timer_stop(c, &leg->timers, CC_T322, leg->id, out);
	if (leg->state == U10 && m->epref.present && m->ep_state_present &&
	    m->ep_state == Q_EPS_NULL) {
		struct cc_party *p = cc_party_by_epref(c, leg, m->epref.value);
		if (p)
			cc_party_message(c, p, m, out);
	}
}

/* Q.2971 §9: party messages on an active call go to the party named by the epref. */
static void call_u10_party_message(cc *c, struct cc_leg *leg, const struct q_msg *m,
				   struct cc_actions *out);

void cc_leg_dispatch(cc *c, struct cc_leg *leg, const struct q_msg *m, struct cc_actions *out)
{
	uint8_t t = m->type;
	if (t == Q_MSG_NOTIFY || t == Q_MSG_SETUP)
		return; /* NOTIFY carries nothing we use; a repeated SETUP is ignored */
	switch (leg->state) {
	case U1:
	case U3:
	case U4:
		switch (t) {
		case Q_MSG_CALL_PROCEEDING:
			if (leg->state == U1)
				call_u1_call_proceeding(c, leg, out);
			else
				call_unexpected(c, leg, m, out);
			return;
		case Q_MSG_ALERTING:
			if (leg->state != U4)
				call_u1u3_alerting(c, leg, out);
			else
				call_unexpected(c, leg, m, out);
			return;
		case Q_MSG_CONNECT:
			if (m->conn_id.present && leg->orig) {
				/* the label of the data we send on this leg */
				leg->vpci = m->conn_id.vpci;
				leg->vci = m->conn_id.vci;
			}
			call_connected_leg(c, leg, out);
			return;
		case Q_MSG_RELEASE:
			call_any_release(c, leg, m, out);
			return;
		case Q_MSG_RELEASE_COMPLETE:
			call_any_release_complete(c, leg, m, out);
			return;
		case Q_MSG_STATUS:
			call_any_status(c, leg, m, out);
			return;
		case Q_MSG_STATUS_ENQUIRY:
			call_any_status_enquiry(c, leg, m, out);
			return;
		default:
			call_unexpected(c, leg, m, out);
			return;
		}
	case U6:
	case U8:
		switch (t) {
		case Q_MSG_CONNECT_ACK:
			if (leg->state == U8)
				call_u8_connect_ack(c, leg, out);
			else
				call_unexpected(c, leg, m, out);
			return;
		case Q_MSG_RELEASE:
			call_any_release(c, leg, m, out);
			return;
		case Q_MSG_RELEASE_COMPLETE:
			call_any_release_complete(c, leg, m, out);
			return;
		case Q_MSG_STATUS:
			call_any_status(c, leg, m, out);
			return;
		case Q_MSG_STATUS_ENQUIRY:
			call_any_status_enquiry(c, leg, m, out);
			return;
		default:
			call_unexpected(c, leg, m, out);
			return;
		}
	case U10:
		switch (t) {
		case Q_MSG_ADD_PARTY:
		case Q_MSG_ADD_PARTY_ACK:
		case Q_MSG_ADD_PARTY_REJECT:
		case Q_MSG_PARTY_ALERTING:
		case Q_MSG_DROP_PARTY:
		case Q_MSG_DROP_PARTY_ACK:
			call_u10_party_message(c, leg, m, out);
			return;
		case Q_MSG_CONNECT_ACK:
			return; /* Q.2931 §5.1.8: ignored once active */
		case Q_MSG_RELEASE:
			call_any_release(c, leg, m, out);
			return;
		case Q_MSG_RELEASE_COMPLETE:
			call_any_release_complete(c, leg, m, out);
			return;
		case Q_MSG_STATUS:
			call_any_status(c, leg, m, out);
			return;
		case Q_MSG_STATUS_ENQUIRY:
			call_any_status_enquiry(c, leg, m, out);
			return;
		default:
			call_unexpected(c, leg, m, out);
			return;
		}
	case U11:
		/* Q.2931 §5.4.3/§5.4.5: only the clearing messages matter in U11 */
		switch (t) {
		case Q_MSG_RELEASE:
		case Q_MSG_RELEASE_COMPLETE:
			call_any_release_complete(c, leg, m, out);
			return;
		case Q_MSG_STATUS:
			call_any_status(c, leg, m, out);
			return;
		case Q_MSG_STATUS_ENQUIRY:
			call_any_status_enquiry(c, leg, m, out);
			return;
		default:
			return;
		}
	case U0: /* not found: a leg leaves U0 as it is made, returns to it as it is freed */
		call_unexpected(c, leg, m, out);
		return;
	}
}

static void offer_to_client(cc *c, struct cc_vc *vc, struct cc_party *p, struct cc_actions *out)
{
	cc_timer_start(c, &p->timers, CC_TACCEPT, p->id, c->cfg.t310_ms, out);
	struct cc_client_event ev = {0};
	ev.type = CC_CEV_INCOMING_CALL;
	ev.session = vc->session;
	ev.vc = vc->id;
	ev.party = p->id;
	memcpy(ev.caller, p->addr, Q_AESA_LEN);
	ev.params = vc->params;
	ev.selector = vc->selector;
	cc_emit_cev(c, &ev, out);
}

/* The SAP a called address names, or a cause to refuse it with. */
static int leaf_owner(cc *c, const struct q_msg *m, uint64_t *session)
{
	if (!m->called.present)
		return Q_CAUSE_MANDATORY_IE_MISSING;
	if (!cc_mac_eq(cc_aesa_esi(m->called.aesa), c->cfg.esi))
		return Q_CAUSE_UNALLOCATED;
	uint64_t owner = c->sap_owner[m->called.aesa[19]];
	if (!owner)
		return Q_CAUSE_INCOMPATIBLE_DEST;
	struct cc_session *s = cc_session_get(c, owner - 1);
	if (c->cfg.max_vcs_per_session && s->n_vcs >= c->cfg.max_vcs_per_session)
		return Q_CAUSE_RESOURCE_UNAVAILABLE;
	/*
	 * Flow control toward a slow SAP owner: past this many calls it has
	 * not answered, the caller is told to try again later (41) instead
	 * of the owner's output growing until it is cut off as too slow.
	 */
	if (c->cfg.max_incoming_per_session && s->n_offered >= c->cfg.max_incoming_per_session) {
		c->st.incoming_refused++;
		return Q_CAUSE_TEMPORARY_FAILURE;
	}
	if (cc_budget_full(c, s, true, false)) {
		c->st.budget_refused++;
		return Q_CAUSE_RESOURCE_UNAVAILABLE;
	}
	*session = owner - 1;
	return 0;
}

/* The traffic parameters a SETUP asks for, kept on its leg for every party. */
static void leg_params_from_setup(struct cc_leg *leg, const struct q_msg *m)
{
	if (m->traffic.present)
		leg->params.peak_kbps = q_cells_to_kbps(m->traffic.fwd_peak_cr);
	if (m->aal.present)
		leg->params.max_sdu = m->aal.fwd_max_sdu;
	if (m->qos.present)
		leg->params.qos_class = m->qos.fwd_class;
}

/*
 * A leaf VC for a party offered by SETUP or ADD PARTY.  Q.2971: the
 * connection's traffic descriptor and QoS are the SETUP's, shared by every
 * party; an ADD PARTY may name its own AAL parameters.
 */
static struct cc_vc *leaf_vc_new(cc *c, uint64_t session, const struct cc_leg *leg,
				 const struct q_msg *m)
{
	struct cc_vc *vc = cc_vc_new(c, cc_session_get(c, session), false);
	vc->selector = m->called.aesa[19];
	vc->params = leg->params;
	if (m->aal.present)
		vc->params.max_sdu = m->aal.fwd_max_sdu;
	return vc;
}

/* Q.2931 §5.2 incoming SETUP (leaf side): offered to the SAP named by the selector. */
static void call_u0_setup(cc *c, struct cc_peer *peer, const struct q_msg *m,
			  struct cc_actions *out)
{
	if (!m->bearer.present || !m->traffic.present || !m->called.present ||
	    (m->bearer.p2mp && !m->epref.present)) {
		cc_send_cause(c, peer->mac, m, Q_MSG_RELEASE_COMPLETE,
				  Q_CAUSE_MANDATORY_IE_MISSING, out);
		return;
	}
	if (m->epref.present && m->epref.flag) {
		cc_send_cause(c, peer->mac, m, Q_MSG_RELEASE_COMPLETE,
				  Q_CAUSE_INVALID_IE_CONTENTS, out);
		return;
	}
	uint64_t session = 0;
	int cause = leaf_owner(c, m, &session);
	if (cause) {
		cc_send_cause(c, peer->mac, m, Q_MSG_RELEASE_COMPLETE, (uint8_t)cause, out);
		return;
	}
	struct cc_leg *leg = cc_leg_new(c, peer, m->cref, false, NULL);
	if (!cc_leg_alloc_connid(c, leg)) {
		cc_leg_free(c, leg, out);
		cc_send_cause(c, peer->mac, m, Q_MSG_RELEASE_COMPLETE, Q_CAUSE_NO_VCI, out);
		return;
	}
	cc_leg_set_state(c, leg, U6);
	leg_params_from_setup(leg, m);
	struct cc_vc *vc = leaf_vc_new(c, session, leg, m);
	uint8_t caller[Q_AESA_LEN] = {0};
	if (m->calling.present)
		memcpy(caller, m->calling.aesa, Q_AESA_LEN);
	struct cc_party *p = cc_party_new(c, vc, caller);
	cc_party_set_state(c, p, Q_EPS_ADD_PARTY_RECEIVED);
	cc_party_attach(c, p, leg, m->epref.present ? m->epref.value : 0);
	offer_to_client(c, vc, p, out);
}

/* Q.2971 §9.2 ADD PARTY received on an active leaf leg: a new leaf VC for the SAP. */
static void call_u10_add_party(cc *c, struct cc_leg *leg, const struct q_msg *m,
			       struct cc_actions *out)
{
	if (leg->orig) {
		call_unexpected(c, leg, m, out);
		return;
	}
	uint64_t session = 0;
	int cause = leaf_owner(c, m, &session);
	if (cause) {
		struct q_msg r;
		reply_init(&r, m, Q_MSG_ADD_PARTY_REJECT);
		r.epref.present = true;
		r.epref.flag = true;
		r.epref.value = m->epref.value;
		r.cause.present = true;
		r.cause.value = (uint8_t)cause;
		cc_leg_party_msg_or_release(c, leg, &r, (uint8_t)cause, out);
		return;
	}
	struct cc_vc *vc = leaf_vc_new(c, session, leg, m);
	uint8_t caller[Q_AESA_LEN] = {0};
	if (m->calling.present)
		memcpy(caller, m->calling.aesa, Q_AESA_LEN);
	struct cc_party *p = cc_party_new(c, vc, caller);
	cc_party_set_state(c, p, Q_EPS_ADD_PARTY_RECEIVED);
	cc_party_attach(c, p, leg, m->epref.value);
	offer_to_client(c, vc, p, out);
}

static void call_u10_party_message(cc *c, struct cc_leg *leg, const struct q_msg *m,
				   struct cc_actions *out)
{
	if (!m->epref.present) {
		cc_send_status(c, leg->peer->mac, m, leg, Q_CAUSE_MANDATORY_IE_MISSING, out);
		return;
	}
	struct cc_party *p = cc_party_by_epref(c, leg, m->epref.value);
	if (m->type == Q_MSG_ADD_PARTY) {
		if (p)
			return; /* Q.2971: a duplicate ADD PARTY is ignored */
		call_u10_add_party(c, leg, m, out);
		return;
	}
	if (!p) {
		/* Q.2971 §9.5.3.2.3: unknown endpoint reference */
		if (m->type != Q_MSG_DROP_PARTY_ACK) {
			struct q_msg r;
			reply_init(&r, m, Q_MSG_DROP_PARTY_ACK);
			r.epref.present = true;
			r.epref.flag = !m->epref.flag;
			r.epref.value = m->epref.value;
			r.cause.present = true;
			r.cause.value = Q_CAUSE_INVALID_EPREF;
			cc_send_msg(c, leg->peer->mac, &r, out);
		}
		return;
	}
	cc_party_message(c, p, m, out);
}

/* Q.2931 §5.6.1: a message for a call reference we do not know. */
void cc_call_unknown_cref(cc *c, struct cc_peer *peer, const struct q_msg *m,
			  struct cc_actions *out)
{
	switch (m->type) {
	case Q_MSG_SETUP:
		if (!m->cref_flag)
			call_u0_setup(c, peer, m, out);
		return;
	case Q_MSG_RELEASE_COMPLETE:
		return;
	case Q_MSG_STATUS_ENQUIRY:
		cc_send_status(c, peer->mac, m, NULL, Q_CAUSE_STATUS_ENQUIRY_RESPONSE, out);
		return;
	case Q_MSG_STATUS:
		if (m->call_state_present && m->call_state == U0)
			return;
		break;
	default:
		break;
	}
	/* stale state after a restart, or a forged call reference: counted so
	 * that cmctl stats shows someone is sending them */
	c->st.msgs_bad++;
	cc_send_cause(c, peer->mac, m, Q_MSG_RELEASE_COMPLETE, Q_CAUSE_INVALID_CREF, out);
}

/* ------------------------------------------------------------ timers */

static void leg_timer(cc *c, struct cc_leg *leg, enum cc_timer_kind kind, struct cc_actions *out)
{
	switch (kind) {
	case CC_T303:
		/* Q.2931 §5.1.1.1: SETUP again, then clear with cause 18 */
		if (leg->retries < c->cfg.n303 && leg->setup) {
			leg->retries++;
			if (!leg->held)
				cc_send_msg(c, leg->peer->mac, leg->setup, out);
			cc_timer_start(c, &leg->timers, CC_T303, leg->id, c->cfg.t303_ms, out);
			return;
		} else {
			struct q_msg m;
			cc_msg_init(&m, leg, Q_MSG_RELEASE_COMPLETE);
			m.cause.present = true;
			m.cause.value = Q_CAUSE_NO_USER_RESPONDING;
			if (!leg->held)
				cc_send_msg(c, leg->peer->mac, &m, out);
			cc_leg_cleared(c, leg, CM_E_TIMEOUT, Q_CAUSE_NO_USER_RESPONDING, NULL, out);
		}
		return;
	case CC_T310:
		/* Q.2931 §5.1.1.2: no CONNECT after CALL PROCEEDING: clear, cause 102 */
		cc_leg_abort(c, leg, Q_CAUSE_RECOVERY_ON_TIMER, CM_E_TIMEOUT, out);
		return;
	case CC_T313:
		/* Q.2931 §5.2.8: no CONNECT ACK: clear, cause 102 */
		cc_leg_abort(c, leg, Q_CAUSE_RECOVERY_ON_TIMER, CM_E_TIMEOUT, out);
		return;
	case CC_T322:
		/* Q.2931 §5.6.12: STATUS ENQUIRY again, then clear */
		if (leg->retries < c->cfg.n322) {
			leg->retries++;
			struct q_msg m;
			cc_msg_init(&m, leg, Q_MSG_STATUS_ENQUIRY);
			cc_send_msg(c, leg->peer->mac, &m, out);
			cc_timer_start(c, &leg->timers, CC_T322, leg->id, c->cfg.t322_ms, out);
		} else {
			cc_leg_abort(c, leg, Q_CAUSE_RECOVERY_ON_TIMER, CM_E_TIMEOUT, out);
		}
		return;
	case CC_T308:
		/* Q.2931 §5.4.3: RELEASE again with cause 102, then the call is gone */
		if (leg->retries < c->cfg.n308) {
			leg->retries++;
			send_release(c, leg, NULL, true, out);
			cc_timer_start(c, &leg->timers, CC_T308, leg->id, c->cfg.t308_ms, out);
		} else {
			cc_leg_cleared(c, leg, CM_E_TIMEOUT, Q_CAUSE_RECOVERY_ON_TIMER, NULL, out);
		}
		return;
	case CC_T309: /* the peer's (cc_call_timer) */
	case CC_T316:
	case CC_T397: /* the party timers are party.c's */
	case CC_T398:
	case CC_T399:
	case CC_TACCEPT:
		return;
	}
}

void cc_call_timer(cc *c, const struct cc_timer_key *k, struct cc_actions *out)
{
	if (k->kind >= 16)
		return;
	uint16_t bit = (uint16_t)(1u << k->kind);
	/* every kind listed (-Wswitch); a kind out of range falls out below */
	switch ((enum cc_timer_kind)k->kind) {
	case CC_T303:
	case CC_T308:
	case CC_T310:
	case CC_T313:
	case CC_T322: {
		struct cc_leg *leg = cc_leg_by_id(c, k->obj);
		if (!leg || !(leg->timers & bit))
			return;
		leg->timers &= (uint16_t)~bit;
		c->st.timer_expiries++;
		leg_timer(c, leg, (enum cc_timer_kind)k->kind, out);
		return;
	}
	case CC_T397:
	case CC_T398:
	case CC_T399:
	case CC_TACCEPT: {
		struct cc_party *p = cc_party_find(c, k->obj);
		if (!p || !(p->timers & bit))
			return;
		p->timers &= (uint16_t)~bit;
		c->st.timer_expiries++;
		cc_party_timer(c, p, (enum cc_timer_kind)k->kind, out);
		return;
	}
	case CC_T309:
	case CC_T316: {
		struct cc_peer *peer = cc_peer_find(c, cc_mac_of_key(k->obj));
		if (!peer || !(peer->timers & bit))
			return;
		peer->timers &= (uint16_t)~bit;
		c->st.timer_expiries++;
		cc_peer_maybe_idle(c, peer); /* the timer may have been all it held */
		if (k->kind == CC_T316) {
			cc_restart_t316(c, peer, out);
			return;
		}
		/* Q.2931 §5.6.10: the link did not come back: clear every call, cause 27 */
		while (peer->l_head) {
			CC_STEP(c);
			cc_leg_cleared(c, peer->l_head, CM_E_LINK_DOWN, Q_CAUSE_DEST_OUT_OF_ORDER,
				       NULL, out);
		}
		return;
	}
	}
}

/* ------------------------------------------------------------- links */

void cc_call_link_up(cc *c, struct cc_mac mac, struct cc_actions *out)
{
	struct cc_peer *peer = cc_peer_get(c, mac);
	peer->up = true;
	peer->seen_up = true;
	cc_restart_link_up(c, peer, out);
	if (peer->timers & (1u << CC_T309)) {
		cc_timer_stop(c, &peer->timers, CC_T309, cc_mac_key(mac), out);
		/* Q.2931 §5.6.10: resynchronise each surviving call */
		for (struct cc_leg *l = peer->l_head; l; l = l->peer_next) {
			CC_STEP(c);
			if (l->state != U10)
				continue;
			struct q_msg m;
			cc_msg_init(&m, l, Q_MSG_STATUS_ENQUIRY);
			cc_send_msg(c, mac, &m, out);
			l->retries = 1;
			cc_timer_start(c, &l->timers, CC_T322, l->id, c->cfg.t322_ms, out);
		}
	}
}

void cc_call_unreachable(cc *c, struct cc_mac mac, struct cc_actions *out)
{
	struct cc_peer *peer = cc_peer_find(c, mac);
	if (!peer)
		return;
	struct cc_leg *l = peer->l_head;
	while (l) {
		CC_STEP(c);
		struct cc_leg *next = l->peer_next;
		if (l->state != U10)
			cc_leg_cleared(c, l, CM_E_UNREACHABLE, Q_CAUSE_DEST_OUT_OF_ORDER, NULL, out);
		l = next;
	}
}

void cc_call_link_down(cc *c, struct cc_mac mac, struct cc_actions *out)
{
	struct cc_peer *peer = cc_peer_find(c, mac);
	if (!peer)
		return;
	peer->up = false;
	cc_restart_link_down(c, peer, out);
	cc_peer_maybe_idle(c, peer);
	bool active = false;
	struct cc_leg *l = peer->l_head;
	while (l) {
		CC_STEP(c);
		struct cc_leg *next = l->peer_next;
		if (l->state == U10) {
			active = true;
			cc_timer_stop(c, &l->timers, CC_T322, l->id, out);
		} else {
			cc_leg_cleared(c, l, CM_E_LINK_DOWN, Q_CAUSE_DEST_OUT_OF_ORDER, NULL, out);
		}
		l = next;
	}
	if (active && !(peer->timers & (1u << CC_T309)))
		cc_timer_start(c, &peer->timers, CC_T309, cc_mac_key(mac), c->cfg.t309_ms, out);
	/* Associations are otherwise made on demand only: without asking
	 * again, an outage shorter than T309 would still clear every call. */
	if (peer->timers & (1u << CC_T309))
		cc_ask_link(c, mac, out);
}
