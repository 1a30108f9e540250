/* SPDX-License-Identifier: MIT */
/*
 * Call control dispatch, the top layer of cc: client requests with the
 * CoNDIS rules of SPEC §1/§4, session and shutdown teardown, and the event
 * entry point cc_handle() that routes messages, timers and link events to
 * the machines (call.c, party.c; cc_int.h); also construction and the
 * read-only views for cmctl.  It uses the machines and the store beneath
 * it (store.h) and nothing uses it but the daemon and the tests.
 */
#include "cc_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "cm_proto_const.h"
#include "names.h"

static void complete_now(cc *c, const struct cc_request *req, int status, uint64_t vc,
			 uint64_t party, struct cc_actions *out)
{
	struct cc_client_event ev =
		cc_completion(req->type, req->session, req->req_id, status, vc, party);
	ev.selector = req->selector;
	cc_emit_cev(c, &ev, out);
}

/* Settle every completion owed on a VC: adds with add_status, drops and the close with OK. */
static void vc_settle(cc *c, struct cc_vc *vc, int add_status, int cause, struct cc_actions *out)
{
	for (struct cc_party *p = vc->p_head; p; p = p->vc_next) {
		CC_STEP(c);
		cc_ref_complete(c, &p->add, add_status, cause, vc->id, p->id, out);
		cc_ref_complete(c, &p->drop, CM_OK, cause, vc->id, p->id, out);
		cc_party_relive(p);
	}
	cc_ref_complete(c, &vc->close, CM_OK, cause, vc->id, 0, out);
}

/* ----------------------------------------------------------- requests */

static bool addr_ok(const cc *c, const uint8_t *addr)
{
	static const uint8_t zero[6];
	if (cc_mac_eq(cc_aesa_esi(addr), c->cfg.esi))
		return true; /* ours, whatever the daemon chose as its ESI */
	if (memcmp(addr + 13, zero, 6) == 0)
		return false;
	return !(addr[13] & 1); /* a group MAC is no station */
}

static bool params_fill(struct cm_call_params *p)
{
	if (p->qos_class > 4 || p->max_sdu > 65535)
		return false;
	if ((uint64_t)p->peak_kbps * 1000 / 424 > 0xffffff)
		return false;
	if (!p->peak_kbps)
		p->peak_kbps = 10000;
	if (!p->max_sdu)
		p->max_sdu = 9188;
	return true;
}

/*
 * The per-session limit on pending requests holds set-up requests only
 * (MakeCall, AddParty).  DropParty and CloseCall are never refused for it:
 * a client at its quota must still be able to tear down, and teardown is
 * bounded anyway (one drop per party, one close per VC).
 */
static bool pending_full(cc *c, uint64_t session)
{
	struct cc_session *s = cc_session_find(c, session);
	return s && c->cfg.max_pending_per_session &&
	       s->n_pending >= c->cfg.max_pending_per_session;
}

static void uu_from(struct q_ie_uu *uu, const struct cc_request *r)
{
	memset(uu, 0, sizeof(*uu));
	if (r->data && r->data_len) {
		uu->present = true;
		uu->len = (uint8_t)r->data_len;
		memcpy(uu->data, r->data, r->data_len);
	}
}

static struct cc_leg *root_leg_new(cc *c, struct cc_vc *vc, struct cc_party *p)
{
	struct cc_peer *peer = cc_peer_get(c, cc_aesa_esi(p->addr));
	struct cc_leg *leg = cc_leg_new(c, peer, 0, true, vc);
	cc_party_set_state(c, p, Q_EPS_ADD_PARTY_INITIATED);
	cc_party_attach(c, p, leg, 0);
	return leg;
}

/* CoNDIS NdisClMakeCall (multipoint): SETUP with endpoint reference 0. */
static void req_make_call(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	struct cm_call_params params = r->params;
	if (!addr_ok(c, r->addr) || !params_fill(&params)) {
		complete_now(c, r, CM_E_INVAL, 0, 0, out);
		return;
	}
	struct cc_session *s = cc_session_get(c, r->session);
	if (c->cfg.max_vcs_per_session && s->n_vcs >= c->cfg.max_vcs_per_session) {
		complete_now(c, r, CM_E_LIMIT, 0, 0, out);
		return;
	}
	if (pending_full(c, r->session)) {
		complete_now(c, r, CM_E_LIMIT, 0, 0, out);
		return;
	}
	if (cc_budget_full(c, s, true, true)) {
		c->st.budget_refused++;
		complete_now(c, r, CM_E_LIMIT, 0, 0, out);
		return;
	}
	struct cc_vc *vc = cc_vc_new(c, s, true);
	vc->params = params;
	struct cc_party *p = cc_party_new(c, vc, r->addr);
	cc_ref_take(c, &p->add, r);
	struct cc_leg *leg = root_leg_new(c, vc, p);
	cc_leg_send_setup(c, leg, p, out);
}

/*
 * The party id an AddParty names, if any: the next unused one of its
 * session's space.  Once a session has named one it names all, so that
 * the parties of a VC stay in increasing id order (the views page by id).
 */
static bool own_party_id_ok(const cc *c, const struct cc_request *r)
{
	const struct cc_session *s = cc_session_find(c, r->session);
	uint64_t last = s ? s->last_own_party : 0;
	if (r->party == 0)
		return last == 0;
	uint64_t base = cmc_party_id_base(r->session);
	return base && r->party > base && r->party - base <= CMC_PARTY_ID_COUNT &&
	       r->party > last;
}

/* CoNDIS NdisClAddParty: ADD PARTY on the leg to the party's node, or a new leg. */
static void req_add_party(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	/* every completion names the id asked for, so the client can match it */
	if (!own_party_id_ok(c, r)) {
		complete_now(c, r, CM_E_INVAL, r->vc, r->party, out);
		return;
	}
	struct cc_vc *vc = cc_vc_find(c, r->vc);
	if (!vc) {
		complete_now(c, r, CM_E_NO_VC, r->vc, r->party, out);
		return;
	}
	if (vc->session != r->session) {
		complete_now(c, r, CM_E_PERM, r->vc, r->party, out);
		return;
	}
	if (vc->state == CC_VC_CLOSING || vc->state == CC_VC_CLOSE_RECEIVED) {
		complete_now(c, r, CM_E_CLOSING, r->vc, r->party, out);
		return;
	}
	if (!vc->root || !vc->made_ok) {
		complete_now(c, r, CM_E_STATE, r->vc, r->party, out);
		return;
	}
	if (!addr_ok(c, r->addr)) {
		complete_now(c, r, CM_E_INVAL, r->vc, r->party, out);
		return;
	}
	if (c->cfg.max_parties_per_vc && vc->n_parties >= c->cfg.max_parties_per_vc) {
		complete_now(c, r, CM_E_LIMIT, r->vc, r->party, out);
		return;
	}
	if (pending_full(c, r->session)) {
		complete_now(c, r, CM_E_LIMIT, r->vc, r->party, out);
		return;
	}
	if (cc_budget_full(c, cc_session_find(c, r->session), false, true)) {
		c->st.budget_refused++;
		complete_now(c, r, CM_E_LIMIT, r->vc, r->party, out);
		return;
	}
	struct cc_leg *leg = cc_vc_leg_to(c, vc, cc_aesa_esi(r->addr));
	uint16_t epref = 0;
	if (leg) {
		epref = cc_leg_alloc_epref(c, leg);
		if (epref == 0) {
			complete_now(c, r, CM_E_LIMIT, r->vc, r->party, out);
			return;
		}
	}
	struct cc_party *p;
	if (r->party) {
		p = cc_party_new_as(c, vc, r->addr, r->party);
		cc_session_get(c, r->session)->last_own_party = r->party;
	} else {
		p = cc_party_new(c, vc, r->addr);
	}
	cc_ref_take(c, &p->add, r);
	if (!leg) {
		leg = root_leg_new(c, vc, p);
		cc_leg_send_setup(c, leg, p, out);
		return;
	}
	cc_party_set_state(c, p, Q_EPS_ADD_PARTY_INITIATED);
	cc_party_attach(c, p, leg, epref);
	if (leg->state == U10) {
		cc_party_send_add(c, p, out);
	} else {
		/* the leg is still being set up: T399 runs from the request */
		p->queued = true;
		cc_timer_start(c, &p->timers, CC_T399, p->id, c->cfg.t399_ms, out);
	}
}

/* The owner answers an IncomingDropParty / IncomingCloseCall, or an admin drop. */
static void party_release_id(cc *c, struct cc_party *p, struct cc_actions *out)
{
	struct cc_vc *vc = p->vc;
	if (p->leg)
		cc_party_unlink_vc(c, p); /* orphan: its DROP PARTY finishes alone */
	else
		cc_party_free(c, p, out);
	cc_vc_after_change(c, vc, Q_CAUSE_NORMAL_CLEARING, out);
}

/* CoNDIS NdisClDropParty. */
static void req_drop_party(cc *c, const struct cc_request *r, bool admin, struct cc_actions *out)
{
	struct cc_vc *vc = cc_vc_find(c, r->vc);
	if (!vc) {
		complete_now(c, r, CM_E_NO_VC, r->vc, r->party, out);
		return;
	}
	if (!admin && vc->session != r->session) {
		complete_now(c, r, CM_E_PERM, r->vc, r->party, out);
		return;
	}
	if (r->data_len > CM_MAX_DATA) {
		complete_now(c, r, CM_E_TOO_BIG, r->vc, r->party, out);
		return;
	}
	struct cc_party *p = cc_party_find(c, r->party);
	if (!p || p->vc != vc) {
		complete_now(c, r, CM_E_NO_PARTY, r->vc, r->party, out);
		return;
	}
	/*
	 * The owner's answer to an IncomingDropParty completes at once
	 * (SPEC §4), also while the operator's drop that caused it is still
	 * on the wire: that drop's end then frees the party, the owner owing
	 * nothing any more.
	 */
	if (p->incoming_sent) {
		if (admin) {
			complete_now(c, r, CM_E_BUSY, r->vc, r->party, out);
			return;
		}
		complete_now(c, r, CM_OK, r->vc, r->party, out);
		if (p->drop.type) {
			p->incoming_sent = false;
			return;
		}
		c->st.parties_dropped++;
		party_release_id(c, p, out);
		return;
	}
	if (p->drop.type) {
		complete_now(c, r, CM_E_BUSY, r->vc, r->party, out);
		return;
	}
	if (vc->state == CC_VC_CLOSING) {
		complete_now(c, r, CM_E_CLOSING, r->vc, r->party, out);
		return;
	}
	/* teardown is not held to max_pending: see pending_full() */
	if (vc->n_live <= 1) {
		complete_now(c, r, CM_E_LAST_PARTY, r->vc, r->party, out);
		return;
	}
	struct q_ie_uu uu;
	uu_from(&uu, r);
	cc_ref_take(c, &p->drop, r);
	if (admin) {
		/* the owner learns of it now and answers with DropParty */
		p->incoming_sent = true;
		struct cc_client_event ev = {0};
		ev.type = CC_CEV_INCOMING_DROP_PARTY;
		ev.session = vc->session;
		ev.vc = vc->id;
		ev.party = p->id;
		ev.cause = Q_CAUSE_NORMAL_CLEARING;
		cc_emit_cev(c, &ev, out);
	}
	cc_party_relive(p);
	cc_party_drop_request(c, p, Q_CAUSE_NORMAL_CLEARING, &uu, out);
}

static void vc_release_legs(cc *c, struct cc_vc *vc, const struct q_ie_uu *uu, uint8_t cause,
			    struct cc_actions *out)
{
	struct cc_leg *l = vc->l_head;
	while (l) {
		CC_STEP(c);
		struct cc_leg *next = l->vc_next;
		if (l->state != U11)
			cc_leg_release(c, l, cause, uu, out);
		l = next;
	}
}

/* Free parties the owner was told are gone: closing answers for them too. */
static void vc_free_zombies(cc *c, struct cc_vc *vc, struct cc_actions *out)
{
	struct cc_party *p = vc->p_head;
	while (p) {
		CC_STEP(c);
		struct cc_party *next = p->vc_next;
		if (p->incoming_sent && !p->leg && !p->drop.type)
			cc_party_free(c, p, out);
		p = next;
	}
}

/* Leaf side CloseCall: DROP PARTY for our one party, or RELEASE if it is the leg's last. */
static void leaf_close(cc *c, struct cc_vc *vc, const struct q_ie_uu *uu, struct cc_actions *out)
{
	struct cc_party *p = vc->p_head;
	if (p && p->leg && p->state != Q_EPS_DROP_PARTY_INITIATED)
		cc_party_drop_request(c, p, Q_CAUSE_NORMAL_CLEARING, uu, out);
}

/* CoNDIS NdisClCloseCall (and the CM_CLOSE_FORCE convenience). */
static void req_close_call(cc *c, const struct cc_request *r, bool admin, struct cc_actions *out)
{
	struct cc_vc *vc = cc_vc_find(c, r->vc);
	if (!vc) {
		complete_now(c, r, CM_E_NO_VC, r->vc, 0, out);
		return;
	}
	if (!admin && vc->session != r->session) {
		complete_now(c, r, CM_E_PERM, r->vc, 0, out);
		return;
	}
	if (r->data_len > CM_MAX_DATA) {
		complete_now(c, r, CM_E_TOO_BIG, r->vc, 0, out);
		return;
	}
	if (vc->state == CC_VC_CLOSING) {
		if (!admin && vc->answer_due) {
			/* the owner answers an operator's close still on the wire:
			 * done for it; the wire's end frees the VC */
			vc->answer_due = false;
			complete_now(c, r, CM_OK, r->vc, 0, out);
			return;
		}
		complete_now(c, r, vc->close.type ? CM_E_BUSY : CM_E_CLOSING, r->vc, 0, out);
		return;
	}
	if (vc->state == CC_VC_CLOSE_RECEIVED) {
		if (admin) {
			complete_now(c, r, CM_E_CLOSING, r->vc, 0, out);
			return;
		}
		complete_now(c, r, CM_OK, r->vc, 0, out);
		vc_settle(c, vc, CM_E_CLOSING, 0, out);
		cc_vc_free(c, vc);
		return;
	}
	/* a MakeCall in progress, or a call offered and not yet answered, is not closed */
	if (vc->state == CC_VC_CALLING && !admin &&
	    (vc->root || !vc->p_head || vc->p_head->state == Q_EPS_ADD_PARTY_RECEIVED)) {
		complete_now(c, r, CM_E_STATE, r->vc, 0, out);
		return;
	}
	bool force = (r->flags & CM_CLOSE_FORCE) != 0;
	struct cc_party *last = NULL;
	if ((!force && !admin) || r->party) {
		last = cc_party_find(c, r->party);
		if (!last || last->vc != vc) {
			complete_now(c, r, CM_E_NO_PARTY, r->vc, r->party, out);
			return;
		}
	}
	if (!force) {
		/* an operator names no party: whichever one live party is left is the last */
		uint32_t others = last ? vc->n_live - (last->live_counted ? 1 : 0)
				       : (vc->n_live ? vc->n_live - 1 : 0);
		if (others) {
			complete_now(c, r, CM_E_PARTIES_REMAIN, r->vc, r->party, out);
			return;
		}
	}
	struct q_ie_uu uu;
	uu_from(&uu, r);
	cc_ref_take(c, &vc->close, r);
	vc->close_cause = 0;
	if (admin) {
		cc_emit_incoming_close(c, vc, Q_CAUSE_NORMAL_CLEARING, NULL, out);
		vc->answer_due = true;
	}
	/* adds still pending are overtaken by the close */
	for (struct cc_party *p = vc->p_head; p; p = p->vc_next) {
		CC_STEP(c);
		cc_ref_complete(c, &p->add, CM_E_CLOSING, 0, vc->id, p->id, out);
	}
	cc_vc_set_state(c, vc, CC_VC_CLOSING);
	if (vc->root) {
		vc_free_zombies(c, vc, out);
		vc_release_legs(c, vc, &uu, Q_CAUSE_NORMAL_CLEARING, out);
	} else {
		/* a leaf VC's one party is never in PU6 here: that VC is CLOSE_RECEIVED */
		leaf_close(c, vc, &uu, out);
	}
	cc_vc_after_change(c, vc, 0, out);
}

/*
 * Give a SAP back: calls to it are refused from now on as to a selector
 * nobody registered; calls it brought in stay with the client.
 */
static void req_deregister_sap(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	uint64_t owner = c->sap_owner[r->selector];
	if (!owner) {
		complete_now(c, r, CM_E_NO_SAP, 0, 0, out);
		return;
	}
	if (owner != r->session + 1) {
		complete_now(c, r, CM_E_PERM, 0, 0, out);
		return;
	}
	c->sap_owner[r->selector] = 0;
	struct cc_session *s = cc_session_find(c, r->session);
	if (s && s->user)
		s->user->n_saps--; /* max_saps_per_user counts what is held */
	complete_now(c, r, CM_OK, 0, 0, out);
}

/* CoNDIS NdisClRegisterSap: completes at once. */
static void req_register_sap(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	uint64_t owner = c->sap_owner[r->selector];
	if (owner == r->session + 1) {
		complete_now(c, r, CM_OK, 0, 0, out);
		return;
	}
	if (c->cfg.sap_allowed &&
	    !c->cfg.sap_allowed(c->cfg.sap_allowed_ctx, r->session, r->selector)) {
		complete_now(c, r, CM_E_PERM, 0, 0, out);
		return;
	}
	if (owner) {
		complete_now(c, r, CM_E_SAP_IN_USE, 0, 0, out);
		return;
	}
	struct cc_session *s = cc_session_get(c, r->session);
	/* no squatting on every selector; root is trusted with them */
	if (s->user && s->user->uid != 0 && c->cfg.max_saps_per_user &&
	    s->user->n_saps >= c->cfg.max_saps_per_user) {
		complete_now(c, r, CM_E_LIMIT, 0, 0, out);
		return;
	}
	c->sap_owner[r->selector] = r->session + 1;
	if (s->user)
		s->user->n_saps++;
	complete_now(c, r, CM_OK, 0, 0, out);
}

/*
 * The party of a call offered to r's session that r (an accept or a
 * reject) names; else NULL, and r is completed with the reason it is none.  An answer that comes too late (the caller gave up, the
 * accept timer ran out) finds no VC.
 */
static struct cc_party *offered_party(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	struct cc_vc *vc = cc_vc_find(c, r->vc);
	struct cc_party *p = cc_party_find(c, r->party);
	int status = CM_OK;
	if (!vc)
		status = CM_E_NO_VC;
	else if (vc->session != r->session)
		status = CM_E_PERM;
	else if (!p || p->vc != vc)
		status = CM_E_NO_PARTY;
	else if (vc->state == CC_VC_CLOSING || vc->state == CC_VC_CLOSE_RECEIVED)
		status = CM_E_CLOSING;
	else if (vc->root || vc->state != CC_VC_CALLING || p->state != Q_EPS_ADD_PARTY_RECEIVED ||
		 !p->leg)
		status = CM_E_STATE; /* ours, but not waiting for an answer (e.g. accepted) */
	if (status == CM_OK)
		return p;
	log_at(LOG_INFO, r->vc, r->party, NULL, "%s refused (%d): not a call offered to session %llu",
	       r->type == CC_REQ_ACCEPT_CALL ? "accept" : "reject", status,
	       (unsigned long long)r->session);
	complete_now(c, r, status, r->vc, r->party, out);
	return NULL;
}

/* Leaf side NdisClIncomingCallComplete(SUCCESS): CONNECT or ADD PARTY ACK. */
static void req_accept(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	struct cc_party *p = offered_party(c, r, out);
	if (!p)
		return;
	struct cc_vc *vc = p->vc;
	struct cc_leg *leg = p->leg;
	complete_now(c, r, CM_OK, vc->id, p->id, out);
	cc_timer_stop(c, &p->timers, CC_TACCEPT, p->id, out);
	struct q_msg m;
	if (leg->state == U6) {
		cc_msg_init(&m, leg, Q_MSG_CONNECT);
		m.epref.present = true;
		m.epref.flag = true;
		m.epref.value = p->epref;
		cc_party_set_state(c, p, Q_EPS_ACTIVE);
		cc_send_msg(c, leg->peer->mac, &m, out);
		cc_leg_set_state(c, leg, U8);
		leg->retries = 1;
		cc_timer_start(c, &leg->timers, CC_T313, leg->id, c->cfg.t313_ms, out);
		return;
	}
	cc_msg_init(&m, leg, Q_MSG_ADD_PARTY_ACK);
	m.epref.present = true;
	m.epref.flag = true;
	m.epref.value = p->epref;
	cc_party_set_state(c, p, Q_EPS_ACTIVE);
	cc_send_msg(c, leg->peer->mac, &m, out);
	cc_vc_set_state(c, vc, CC_VC_ACTIVE);
	struct cc_client_event ev = {0};
	ev.type = CC_CEV_CALL_CONNECTED;
	ev.session = vc->session;
	ev.vc = vc->id;
	ev.party = p->id;
	cc_emit_cev(c, &ev, out);
}

/* Leaf side refusal: RELEASE COMPLETE for a SETUP, ADD PARTY REJECT for an ADD PARTY. */
static void req_reject(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	struct cc_party *p = offered_party(c, r, out);
	if (!p)
		return;
	struct cc_vc *vc = p->vc;
	complete_now(c, r, CM_OK, vc->id, p->id, out);
	uint8_t cause =
		(r->cause > 0 && r->cause < 128) ? (uint8_t)r->cause : Q_CAUSE_CALL_REJECTED;
	struct cc_leg *leg = p->leg;
	struct q_msg m;
	if (leg->state == U6) {
		cc_msg_init(&m, leg, Q_MSG_RELEASE_COMPLETE);
		m.cause.present = true;
		m.cause.value = cause;
		cc_send_msg(c, leg->peer->mac, &m, out);
		cc_party_free(c, p, out);
		cc_leg_free(c, leg, out);
	} else {
		uint16_t epref = p->epref;
		cc_party_free(c, p, out);
		cc_msg_init(&m, leg, Q_MSG_ADD_PARTY_REJECT);
		m.epref.present = true;
		m.epref.flag = true;
		m.epref.value = epref;
		m.cause.present = true;
		m.cause.value = cause;
		cc_leg_party_msg_or_release(c, leg, &m, cause, out);
	}
	cc_vc_free(c, vc);
}

static void cc_request(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	/* every type listed (-Wswitch); one out of range falls out below */
	switch ((enum cc_req_type)r->type) {
	case CC_REQ_REGISTER_SAP:
		req_register_sap(c, r, out);
		return;
	case CC_REQ_MAKE_CALL:
		req_make_call(c, r, out);
		return;
	case CC_REQ_ADD_PARTY:
		req_add_party(c, r, out);
		return;
	case CC_REQ_DROP_PARTY:
		req_drop_party(c, r, false, out);
		return;
	case CC_REQ_ADMIN_DROP:
		req_drop_party(c, r, true, out);
		return;
	case CC_REQ_CLOSE_CALL:
		req_close_call(c, r, false, out);
		return;
	case CC_REQ_ADMIN_CLOSE:
		req_close_call(c, r, true, out);
		return;
	case CC_REQ_ACCEPT_CALL:
		req_accept(c, r, out);
		return;
	case CC_REQ_REJECT_CALL:
		req_reject(c, r, out);
		return;
	case CC_REQ_DEREGISTER_SAP:
		req_deregister_sap(c, r, out);
		return;
	}
	log_at(LOG_WARNING, r->vc, r->party, NULL, "unknown request type %u", r->type);
}

/*
 * Tear a VC down on the network (session gone, or shutdown): every leg is
 * released (root) or our party dropped (leaf), and the wire procedures
 * finish as orphans.  The VC is freed, unless keep and its owner still
 * owes the answer to an IncomingCloseCall: then it stays, off the wire, in
 * CLOSE_RECEIVED until that CloseCall comes.
 */
static void vc_teardown(cc *c, struct cc_vc *vc, uint8_t cause, int add_status, bool keep,
			struct cc_actions *out)
{
	uint64_t id = vc->id; /* the wire procedures below may already free the VC */
	vc_settle(c, vc, add_status, cause, out);
	if (vc->root) {
		vc_release_legs(c, vc, NULL, cause, out);
	} else {
		struct cc_party *p = vc->p_head;
		if (p && p->leg) {
			struct cc_leg *leg = p->leg;
			if (leg->state == U6) {
				struct q_msg m;
				cc_msg_init(&m, leg, Q_MSG_RELEASE_COMPLETE);
				m.cause.present = true;
				m.cause.value = cause;
				cc_send_msg(c, leg->peer->mac, &m, out);
				cc_party_free(c, p, out);
				cc_leg_free(c, leg, out);
			} else if (p->state != Q_EPS_DROP_PARTY_INITIATED && leg->state != U11) {
				struct q_ie_uu none = {0};
				cc_vc_set_state(c, vc,
						CC_VC_CLOSING); /* no owner events from here on */
				cc_party_drop_request(c, p, cause, &none, out);
			}
		}
	}
	if ((vc = cc_vc_find(c, id)) == NULL)
		return;
	if (keep && vc->answer_due) {
		cc_vc_orphan_wire(c, vc);
		if (vc->state != CC_VC_CLOSE_RECEIVED)
			cc_vc_set_state(c, vc, CC_VC_CLOSE_RECEIVED);
		return;
	}
	cc_vc_free(c, vc);
}

/* The client went away: its VCs are torn down with cause 31, silently. */
static void session_closed(cc *c, uint64_t id, struct cc_actions *out)
{
	struct cc_session *s = cc_session_find(c, id);
	if (!s)
		return;
	s->closed = true;
	for (int i = 0; i < 256; i++)
		if (c->sap_owner[i] == id + 1) {
			c->sap_owner[i] = 0;
			if (s->user)
				s->user->n_saps--;
		}
	/* the session is freed with its last VC once nothing is owed to it */
	while ((s = cc_session_find(c, id)) && s->v_head) {
		CC_STEP(c);
		vc_teardown(c, s->v_head, Q_CAUSE_NORMAL_UNSPECIFIED, CM_E_CLOSING, false, out);
	}
	if (s)
		cc_session_maybe_free(c, s);
}

/*
 * SIGTERM: pending requests complete (adds CM_E_CLOSING, drops and closes
 * CM_OK), owners of VCs not being closed get IncomingCloseCall(31), and
 * every call is released with cause 31.  A VC whose owner still owes the
 * answer to an IncomingCloseCall stays, off the wire, until it comes: the
 * answers are accepted while the shutdown lasts (docs/ipc.md).
 */
static void shutdown_all(cc *c, struct cc_actions *out)
{
	struct cc_vc *vc = c->all_head;
	while (vc) {
		CC_STEP(c);
		if (vc->shut_down) {
			vc = vc->all_next;
			continue;
		}
		vc->shut_down = true;
		if (vc->state == CC_VC_CLOSE_RECEIVED) {
			vc->answer_due = true;
		} else if (vc->state != CC_VC_CLOSING) {
			cc_emit_incoming_close(c, vc, Q_CAUSE_NORMAL_UNSPECIFIED, NULL, out);
			vc->answer_due = true;
		}
		uint64_t next = vc->all_next ? vc->all_next->id : 0;
		vc_teardown(c, vc, Q_CAUSE_NORMAL_UNSPECIFIED, CM_E_CLOSING, true, out);
		/* should the teardown have freed the next VC too, start over:
		 * those done are skipped */
		vc = next ? cc_vc_find(c, next) : NULL;
		if (next && !vc)
			vc = c->all_head;
	}
	/* leaf legs with nobody's parties left, and legs to restarted peers */
	struct cc_leg *todo = NULL;
	for (size_t i = 0; i < c->legs_by_id.nb; i++)
		for (struct hnode *n = c->legs_by_id.b[i]; n; n = n->next) {
			CC_STEP(c);
			struct cc_leg *l = container_of(n, struct cc_leg, id_node);
			if (l->state != U11) {
				l->vc_next = todo;
				todo = l;
			}
		}
	while (todo) {
		CC_STEP(c);
		struct cc_leg *l = todo;
		todo = l->vc_next;
		l->vc_next = NULL;
		cc_leg_release(c, l, Q_CAUSE_NORMAL_UNSPECIFIED, NULL, out);
	}
}

void cc_handle(cc *c, const struct cc_event *ev, struct cc_actions *out)
{
	/* every type listed (-Wswitch); one out of range does nothing */
	switch ((enum cc_event_type)ev->type) {
	case CC_EV_REQUEST:
		/* the budgets are per user: know whose session this is */
		cc_session_set_user(c, cc_session_get(c, ev->req.session), ev->req.uid);
		if (!cc_refuse(c, &ev->req, out))
			cc_request(c, &ev->req, out);
		break;
	case CC_EV_SESSION_CLOSED:
		session_closed(c, ev->session, out);
		break;
	case CC_EV_MESSAGE:
		if (ev->msg)
			cc_call_message(c, ev, out);
		break;
	case CC_EV_TIMER:
		cc_call_timer(c, &ev->timer, out);
		break;
	case CC_EV_LINK_UP:
		cc_call_link_up(c, ev->peer, out);
		break;
	case CC_EV_LINK_DOWN:
		cc_call_link_down(c, ev->peer, out);
		break;
	case CC_EV_UNREACHABLE:
		cc_call_unreachable(c, ev->peer, out);
		break;
	case CC_EV_SHUTDOWN:
		c->shutting_down = true;
		shutdown_all(c, out);
		break;
	}
	cc_store_reap(c); /* the objects freed by this event (store.h, Lifetimes) */
}

/* ------------------------------------------------------ construction */

void cc_config_defaults(struct cc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->t303_ms = 4000;
	cfg->t308_ms = 30000;
	cfg->t309_ms = 10000;
	cfg->t310_ms = 10000;
	cfg->t313_ms = 4000;
	cfg->t316_ms = 120000;
	cfg->t322_ms = 4000;
	cfg->t397_ms = 180000;
	cfg->t398_ms = 4000;
	cfg->t399_ms = 14000;
	cfg->n303 = 2;
	cfg->n308 = 2;
	cfg->n316 = 2;
	cfg->n322 = 2;
	cfg->max_vcs_per_session = 100000;
	cfg->max_parties_per_vc = 1000000;
	cfg->max_pending_per_session = 100000;
	cfg->max_incoming_per_session = 256;
	cfg->max_vcs_per_user = 200000;
	cfg->max_pending_per_user = 200000;
	cfg->max_memory_mib = 512;
	cfg->max_saps_per_user = 16;
	static const uint8_t prefix[13] = CMC_DEFAULT_PREFIX; /* the one default */
	memcpy(cfg->prefix, prefix, 13);
}

cc *cc_new(const struct cc_config *cfg)
{
	cc *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = *cfg;
	cc_store_init(c);
	return c;
}

uint64_t cc_work(const cc *c)
{
	return c->work;
}

void cc_free(cc *c)
{
	if (!c)
		return;
	cc_queue_free(c);
	cc_store_free(c);
	free(c);
}

void cc_reconfigure(cc *c, const struct cc_config *cfg)
{
	struct cc_config keep = c->cfg;
	c->cfg = *cfg;
	memcpy(c->cfg.prefix, keep.prefix, sizeof(keep.prefix));
	c->cfg.esi = keep.esi;
	c->cfg.peer_allowed = keep.peer_allowed;
	c->cfg.peer_allowed_ctx = keep.peer_allowed_ctx;
	c->cfg.peer_busy = keep.peer_busy;
	c->cfg.peer_busy_ctx = keep.peer_busy_ctx;
	c->cfg.sap_allowed = keep.sap_allowed;
	c->cfg.sap_allowed_ctx = keep.sap_allowed_ctx;
}

/* -------------------------------------------------------------- views */

static uint32_t vc_uid(const cc *c, const struct cc_vc *vc)
{
	const struct cc_session *s = cc_session_find(c, vc->session);
	return s && s->user ? s->user->uid : UINT32_MAX;
}

static void vc_info(const cc *c, const struct cc_vc *vc, struct cc_vc_info *o)
{
	o->vc = vc->id;
	o->session = vc->session;
	o->uid = vc_uid(c, vc);
	o->root = vc->root;
	o->state = vc->state;
	o->n_parties = vc->n_parties;
	/* a leaf VC rides on a leg it does not own: its one party's */
	o->n_legs = vc->root ? vc->n_legs : (vc->p_head && vc->p_head->leg ? 1 : 0);
	o->max_sdu = vc->params.max_sdu;
}

size_t cc_vc_list(const cc *c, cm_vc_id after, struct cc_vc_info *out, size_t max)
{
	const struct cc_vc *vc = cc_vc_after(c, after);
	size_t n = 0;
	for (; vc && n < max; vc = vc->all_next) {
		CC_STEP(c);
		vc_info(c, vc, &out[n++]);
	}
	return n;
}

size_t cc_vc_list_owned(const cc *c, cm_vc_id after, uint32_t uid, struct cc_vc_info *out,
			size_t max, size_t scan, cm_vc_id *next)
{
	const struct cc_vc *vc = cc_vc_after(c, after);
	size_t n = 0;
	*next = 0;
	for (size_t seen = 0; vc && n < max; vc = vc->all_next) {
		CC_STEP(c);
		if (seen++ == scan) {
			*next = vc->all_prev ? vc->all_prev->id : 0;
			break;
		}
		if (vc_uid(c, vc) == uid)
			vc_info(c, vc, &out[n++]);
		*next = vc->id;
	}
	if (!vc)
		*next = 0;
	return n;
}

int cc_vc_get(const cc *c, cm_vc_id id, struct cc_vc_info *out)
{
	const struct cc_vc *vc = cc_vc_find(c, id);
	if (!vc)
		return CM_E_NO_VC;
	vc_info(c, vc, out);
	return CM_OK;
}

static uint8_t first_timer(uint16_t bits)
{
	for (uint8_t k = 1; k < 16; k++)
		if (bits & (1u << k))
			return k;
	return 0;
}

size_t cc_party_list(const cc *c, cm_vc_id vcid, cm_party_id after, struct cc_party_info *out,
		     size_t max)
{
	const struct cc_vc *vc = cc_vc_find(c, vcid);
	if (!vc)
		return 0;
	const struct cc_party *p = cc_party_find(c, after);
	p = (p && p->vc == vc) ? p->vc_next : vc->p_head;
	while (p && p->id <= after) {
		CC_STEP(c);
		p = p->vc_next;
	}
	size_t n = 0;
	for (; p && n < max; p = p->vc_next) {
		CC_STEP(c);
		struct cc_party_info *o = &out[n++];
		memset(o, 0, sizeof(*o));
		o->party = p->id;
		o->state = p->leg ? p->state : Q_EPS_DROP_PARTY_RECEIVED;
		memcpy(o->addr, p->addr, Q_AESA_LEN);
		if (p->leg) {
			o->peer = p->leg->peer->mac;
			o->cref = p->leg->cref;
			o->epref = p->epref;
			o->call_state = p->leg->state;
			o->timer = first_timer(p->timers);
			if (!o->timer)
				o->timer = first_timer(p->leg->timers);
		}
	}
	return n;
}

void cc_get_stats(const cc *c, struct cc_stats *out)
{
	*out = c->st;
	out->vcs = c->vcs.n;
	out->parties = c->parties.n;
	out->legs = c->legs_by_id.n;
	out->state_bytes = cc_state_bytes(c);
	out->users = c->users.n;
	out->saps = 0;
	for (int i = 0; i < 256; i++)
		out->saps += c->sap_owner[i] != 0;
}

/*
 * A party that carries data: active itself, on an active leg.  A leaf's leg
 * counts from its CONNECT (U8): the root's first SDU may overtake the
 * CONNECT ACKNOWLEDGE.
 */
static bool party_receives(const struct cc_party *p)
{
	if (!p->leg || p->state != Q_EPS_ACTIVE)
		return false;
	return p->leg->state == U10 || (!p->leg->orig && p->leg->state == U8);
}

size_t cc_vc_receivers(const cc *c, cm_vc_id vcid, struct cc_receiver *out, size_t max)
{
	const struct cc_vc *vc = cc_vc_find(c, vcid);
	if (!vc || !vc->root || vc->state != CC_VC_ACTIVE)
		return 0;
	size_t n = 0;
	for (const struct cc_party *p = vc->p_head; p && n < max; p = p->vc_next) {
		CC_STEP(c);
		if (!party_receives(p))
			continue;
		struct cc_receiver *o = &out[n++];
		memset(o, 0, sizeof(*o));
		o->party = p->id;
		o->peer = p->leg->peer->mac;
		o->leg = p->leg->id;
		o->vpci = p->leg->vpci;
		o->vci = p->leg->vci;
		o->local = cc_mac_eq(o->peer, c->cfg.esi);
		if (!o->local)
			continue;
		/* the leaf's side of a local leg: same call reference, not ours */
		const struct cc_leg *leaf = cc_leg_find(c, o->peer, p->leg->cref, false);
		const struct cc_party *lp = leaf ? cc_party_by_epref(c, leaf, p->epref) : NULL;
		if (lp && lp->vc && party_receives(lp))
			o->leaf_vc = lp->vc->id;
	}
	return n;
}

bool cc_vc_leaf_active(const cc *c, cm_vc_id vcid)
{
	const struct cc_vc *vc = cc_vc_find(c, vcid);
	return vc && !vc->root && vc->p_head && party_receives(vc->p_head);
}

size_t cc_connid_receivers(const cc *c, struct cc_mac peer, uint16_t vci, uint64_t *legid,
			   uint32_t *max_sdu, cm_vc_id *out, size_t max)
{
	const struct cc_leg *leg = cc_leg_by_connid(c, peer, vci);
	*legid = 0;
	*max_sdu = 0;
	if (!leg || leg->orig)
		return 0;
	*legid = leg->id;
	size_t n = 0;
	for (const struct cc_party *p = leg->p_head; p; p = p->leg_next) {
		CC_STEP(c);
		if (p->vc && !*max_sdu)
			*max_sdu = p->vc->params.max_sdu;
		if (p->vc && party_receives(p) && n < max)
			out[n++] = p->vc->id;
	}
	return n;
}

bool cc_leg_alive(const cc *c, uint64_t leg)
{
	return cc_leg_by_id(c, leg) != NULL;
}
