/* SPDX-License-Identifier: MIT */
/*
 * Messages received: the decoder's verdict and each IE's action indicator
 * acted on by Q.2931 §5.6/§5.7 (Q.2971 §9 for the party messages) before
 * the machines see the message, and the answer owed after they did.
 * docs/state-machines.md ("Decoder errors") has the table this follows.
 *
 * Layer: a machine (cc_int.h) on the store; the entry from cc.c for
 * CC_EV_MESSAGE, handing the message to call.c and restart.c.
 */
#include "cc_int.h"

#include <string.h>

#include "log.h"

/* Entries of ie_errors to read: never more than the array holds. */
static uint8_t n_errors(const struct q_decode_status *dec)
{
	return dec->n_ie_errors < Q_DEC_MAX_IE_ERRORS ? dec->n_ie_errors : Q_DEC_MAX_IE_ERRORS;
}

/* The peer asked for "discard message and report status" in an IE (§5.7.2). */
static bool explicit_report(const struct q_decode_status *dec)
{
	for (uint8_t i = 0; i < n_errors(dec); i++)
		if (dec->ie_errors[i].action == Q_IE_ACT_DISCARD_MSG_REPORT)
			return true;
	return false;
}

void cc_rx_diagnostic(const cc *c, struct q_ie_cause *cause)
{
	const struct q_decode_status *dec = c->rx_dec;
	if (!dec || (cause->value != Q_CAUSE_MANDATORY_IE_MISSING &&
		     cause->value != Q_CAUSE_IE_NONEXISTENT &&
		     cause->value != Q_CAUSE_INVALID_IE_CONTENTS))
		return;
	/* Q.2610: the identifiers of the IEs concerned, one octet each; those
	 * the peer asked us to discard silently are not reported */
	cause->diag_len = 0;
	for (uint8_t i = 0; i < n_errors(dec) && cause->diag_len < sizeof(cause->diag); i++) {
		const struct q_ie_error *e = &dec->ie_errors[i];
		if (e->cause == cause->value && e->action != Q_IE_ACT_DISCARD_IE)
			cause->diag[cause->diag_len++] = e->id;
	}
}

bool cc_rx_incompatible_report(const cc *c, bool *clear)
{
	const struct q_decode_status *dec = c->rx_dec;
	*clear = false;
	if (!dec || !dec->msg_action_flag)
		return true; /* regular error handling: STATUS 101 */
	switch (dec->msg_action) {
	case Q_MSG_ACT_CLEAR:
		*clear = true;
		return true;
	case Q_MSG_ACT_DISCARD:
		return false;
	default: /* "discard and report", and the reserved value read so */
		return true;
	}
}

/* The global call reference: RESTART and RESTART ACKNOWLEDGE (§5.5). */
static void global_message(cc *c, struct cc_peer *peer, const struct q_msg *m, uint8_t verdict,
			   uint8_t vcause, struct cc_actions *out)
{
	switch (verdict) {
	case Q_VERDICT_DISCARD:
	case Q_VERDICT_CLEAR: /* no call to clear on the global call reference */
		return;
	case Q_VERDICT_REJECT:
		cc_send_global_status(c, peer, m, vcause, out);
		return;
	default:
		break;
	}
	if (m->type == Q_MSG_RESTART)
		cc_restart_received(c, peer, m, out);
	else
		cc_restart_ack(c, peer, m, out);
	if (verdict == Q_VERDICT_REPORT)
		cc_send_global_status(c, peer, m, vcause, out);
}

/* A SETUP for a call reference we do not hold: a new call, or refused (§5.6.7). */
static void new_setup(cc *c, struct cc_peer *peer, const struct q_msg *m, uint8_t verdict,
		      uint8_t vcause, struct cc_actions *out)
{
	if (!cc_peer_ready(c, peer)) {
		/* §5.5.1: no call is accepted before the peer acknowledged our
		 * RESTART; the two may have crossed, so it waits for that */
		cc_restart_defer(c, peer, m, out);
		return;
	}
	switch (verdict) {
	case Q_VERDICT_DISCARD:
		return;
	case Q_VERDICT_CLEAR:
	case Q_VERDICT_REJECT:
		/* §5.6.7.1/§5.6.7.2: no call is made; RELEASE COMPLETE with the cause
		 * (also for "discard and report": a STATUS would name a call that
		 * never existed, which the sender then clears all the same) */
		cc_send_cause(c, peer->mac, m, Q_MSG_RELEASE_COMPLETE, vcause, out);
		return;
	default:
		break;
	}
	cc_call_unknown_cref(c, peer, m, out);
	if (verdict != Q_VERDICT_REPORT)
		return;
	/* §5.6.8: the call was processed without the IEs; report them if it exists */
	struct cc_leg *leg = cc_leg_find(c, peer->mac, m->cref, m->cref_flag);
	if (leg)
		cc_send_status(c, peer->mac, m, leg, vcause, out);
}

/*
 * RELEASE on a call we hold whose answer must carry a cause: a missing or
 * invalid cause IE (§5.6.7.1/§5.6.7.2: as if cause 31, the RELEASE
 * COMPLETE says what was wrong), or IEs discarded with a report (§5.6.8:
 * RELEASE COMPLETE, not STATUS, for a call that is gone).
 */
static void release_with_cause(cc *c, struct cc_leg *leg, const struct q_msg *m, uint8_t answer,
			       struct cc_actions *out)
{
	if (leg->state == U11) {
		cc_leg_dispatch(c, leg, m, out); /* a clear collision: nothing is sent */
		return;
	}
	struct q_msg r;
	cc_msg_init(&r, leg, Q_MSG_RELEASE_COMPLETE);
	r.cause.present = true;
	r.cause.value = answer;
	cc_rx_diagnostic(c, &r.cause);
	cc_send_msg(c, leg->peer->mac, &r, out);
	int cause = m->cause.present ? m->cause.value : Q_CAUSE_NORMAL_UNSPECIFIED;
	cc_leg_cleared(c, leg, 0, cause, &m->uu, out);
}

static void leg_message(cc *c, struct cc_leg *leg, const struct q_msg *m,
			const struct q_decode_status *dec, uint8_t verdict, struct cc_actions *out)
{
	uint8_t vcause = dec ? dec->verdict_cause : 0;
	switch (verdict) {
	case Q_VERDICT_DISCARD:
		return; /* §5.7.2 "discard and ignore", whatever the message */
	case Q_VERDICT_CLEAR:
		/* §5.7.2 "clear call": the peer clearing already is answered as such */
		if (m->type == Q_MSG_RELEASE_COMPLETE)
			cc_leg_dispatch(c, leg, m, out);
		else if (m->type == Q_MSG_RELEASE)
			release_with_cause(c, leg, m, vcause, out);
		else if (leg->state != U11)
			cc_leg_abort(c, leg, vcause, 0, out);
		return;
	case Q_VERDICT_REJECT:
		if (explicit_report(dec) || vcause == Q_CAUSE_MSG_TYPE_NONEXISTENT) {
			cc_send_status(c, leg->peer->mac, m, leg, vcause, out);
			return;
		}
		/* §5.6.7: a mandatory IE missing or invalid, by message */
		if (m->type == Q_MSG_RELEASE)
			release_with_cause(c, leg, m, vcause, out);
		else if (m->type == Q_MSG_RELEASE_COMPLETE)
			cc_leg_dispatch(c, leg, m, out); /* treated as a normal one */
		else
			cc_send_status(c, leg->peer->mac, m, leg, vcause, out);
		return;
	case Q_VERDICT_REPORT:
		if (m->type == Q_MSG_RELEASE) {
			release_with_cause(c, leg, m, vcause, out);
			return;
		}
		break;
	default:
		break;
	}
	struct cc_mac mac = leg->peer->mac;
	uint64_t id = leg->id;
	cc_leg_dispatch(c, leg, m, out);
	if (verdict != Q_VERDICT_REPORT || m->type == Q_MSG_RELEASE_COMPLETE)
		return;
	/* §5.6.8.1/§5.6.8.2: processed; now the report, while the call lasts */
	leg = cc_leg_by_id(c, id);
	if (leg && leg->state != U11)
		cc_send_status(c, mac, m, leg, vcause, out);
}

/* A call reference we do not hold. */
static void no_call(cc *c, struct cc_peer *peer, const struct q_msg *m, uint8_t verdict,
		    uint8_t vcause, struct cc_actions *out)
{
	if (verdict == Q_VERDICT_DISCARD)
		return; /* §5.7.2: not even an unknown call reference is answered */
	if (vcause == Q_CAUSE_MSG_TYPE_NONEXISTENT)
		cc_send_status(c, peer->mac, m, NULL, vcause, out); /* §5.6.4 */
	else if (m->type == Q_MSG_SETUP && !m->cref_flag)
		new_setup(c, peer, m, verdict, vcause, out);
	else
		cc_call_unknown_cref(c, peer, m, out); /* §5.6.3 comes before the IEs */
}

/* A message on a call reference other than the global one: to its call, or to none. */
static void cref_message(cc *c, struct cc_peer *peer, const struct q_msg *m,
			 struct cc_actions *out)
{
	const struct q_decode_status *dec = c->rx_dec;
	uint8_t verdict = dec ? dec->verdict : Q_VERDICT_OK;
	uint8_t vcause = dec ? dec->verdict_cause : 0;
	struct cc_leg *leg = cc_leg_find(c, peer->mac, m->cref, m->cref_flag);
	/* A held leg's SETUP never went out (§5.5.1): the peer knows no call
	 * by its reference, so what names it is about no call of ours and
	 * must not move the leg on; it is answered as a call reference not
	 * in use (§5.6.3), and the SETUP still goes out after the ACK. */
	if (leg && !leg->held)
		leg_message(c, leg, m, dec, verdict, out);
	else
		no_call(c, peer, m, verdict, vcause, out);
}

/*
 * A SETUP held while our RESTART was unanswered is taken as if it arrived
 * now: another held with it may have made its call already, and a repeat
 * SETUP is then the call's to ignore, not a second call on one reference.
 */
void cc_rx_setup(cc *c, struct cc_peer *peer, const struct q_msg *m, struct cc_actions *out)
{
	cref_message(c, peer, m, out);
}

void cc_call_message(cc *c, const struct cc_event *ev, struct cc_actions *out)
{
	const struct q_decode_status *dec = ev->dec;
	uint8_t verdict = dec ? dec->verdict : Q_VERDICT_OK;
	uint8_t vcause = dec ? dec->verdict_cause : 0;
	c->st.msgs_in++;
	if (verdict != Q_VERDICT_OK)
		c->st.msgs_bad++;
	/* both numbers of "too many pending add party requests" read as one */
	struct q_msg m = *ev->msg;
	m.cause.value = q_cause_canonical(m.cause.value);
	m.cause2.value = q_cause_canonical(m.cause2.value);
	struct cc_peer *peer = cc_peer_get(c, ev->peer);
	c->rx_dec = dec;

	if (m.cref == 0 && (m.type == Q_MSG_RESTART || m.type == Q_MSG_RESTART_ACK)) {
		global_message(c, peer, &m, verdict, vcause, out);
	} else if (m.cref == 0 && m.type == Q_MSG_STATUS) {
		/* a restart's state report (§5.5): nothing of ours to resynchronise */
	} else {
		cref_message(c, peer, &m, out);
	}
	c->rx_dec = NULL;
}
