/* SPDX-License-Identifier: MIT */
/*
 * Restart (Q.2931 §5.5): ours, sent once per peer when its link first comes
 * up, and the peer's.  Until the peer acknowledges our RESTART no call goes
 * out to it or is taken from it (§5.5.1): a SETUP built meanwhile waits on
 * its leg (held), under the leg's T303 as it would on the wire.  T316
 * guards the acknowledgement; after n316 RESTARTs unanswered the peer is
 * out of service, reported and refused, until its link is set up anew.
 *
 * Layer: a machine (cc_int.h) on the store (store.h), one with call.c.
 */
#include "cc_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

bool cc_peer_ready(const cc *c, const struct cc_peer *peer)
{
	return cc_mac_eq(peer->mac, c->cfg.esi) || peer->restart == CC_RST_DONE;
}

static void send_restart(cc *c, struct cc_peer *peer, struct cc_actions *out)
{
	struct q_msg m;
	memset(&m, 0, sizeof(m));
	m.type = Q_MSG_RESTART;
	m.restart.present = true;
	m.restart.rclass = Q_RESTART_ALL;
	cc_send_msg(c, peer->mac, &m, out);
	peer->restart_sends++;
	cc_timer_start(c, &peer->timers, CC_T316, cc_mac_key(peer->mac), c->cfg.t316_ms, out);
}

/* Q.2931 §5.5.1: RESTART (all VCs), T316, and nothing else until it is acknowledged. */
static void restart_begin(cc *c, struct cc_peer *peer, struct cc_actions *out)
{
	peer->restart = CC_RST_WAIT;
	peer->restart_sends = 0;
	send_restart(c, peer, out);
}

void cc_restart_link_up(cc *c, struct cc_peer *peer, struct cc_actions *out)
{
	if (cc_mac_eq(peer->mac, c->cfg.esi))
		return; /* the loopback of local legs has no link and no peer to restart */
	/* A new association after an unanswered restart is the maintenance
	 * action §5.5.1 waits for: try again. */
	if (peer->restart == CC_RST_NONE || peer->restart == CC_RST_FAILED)
		restart_begin(c, peer, out);
}

void cc_restart_defer(cc *c, struct cc_peer *peer, const struct q_msg *m, struct cc_actions *out)
{
	if (peer->restart == CC_RST_FAILED || peer->n_deferred >= CC_MAX_DEFERRED) {
		/* out of service, or more than a crossing explains */
		cc_send_cause(c, peer->mac, m, Q_MSG_RELEASE_COMPLETE, Q_CAUSE_TEMPORARY_FAILURE,
			      out);
		return;
	}
	struct cc_deferred *e = calloc(1, sizeof(*e));
	if (!e)
		log_oom("a SETUP held during a RESTART");
	e->msg = *m;
	if (c->rx_dec) {
		e->has_dec = true;
		e->dec = *c->rx_dec;
	}
	struct cc_deferred **tail = &peer->deferred;
	while (*tail) {
		CC_STEP(c);
		tail = &(*tail)->next;
	}
	*tail = e;
	peer->n_deferred++;
}

/* The SETUPs taken in meanwhile, in order, now or refused (out of service). */
static void run_deferred(cc *c, struct cc_peer *peer, bool refuse, struct cc_actions *out)
{
	const struct q_decode_status *saved = c->rx_dec;
	while (peer->deferred) {
		CC_STEP(c);
		struct cc_deferred *e = peer->deferred;
		peer->deferred = e->next;
		peer->n_deferred--;
		c->rx_dec = e->has_dec ? &e->dec : NULL;
		if (refuse)
			cc_send_cause(c, peer->mac, &e->msg, Q_MSG_RELEASE_COMPLETE,
				      Q_CAUSE_TEMPORARY_FAILURE, out);
		else
			cc_rx_setup(c, peer, &e->msg, out);
		free(e);
	}
	c->rx_dec = saved;
	cc_peer_maybe_idle(c, peer); /* its held SETUPs may have been all it held */
}

void cc_restart_link_down(cc *c, struct cc_peer *peer, struct cc_actions *out)
{
	cc_peer_drop_deferred(c, peer); /* no link to answer them on; the peer's T303 ends them */
	/* the RESTART may have died with the association: sent again on the next */
	if (peer->restart == CC_RST_WAIT) {
		cc_timer_stop(c, &peer->timers, CC_T316, cc_mac_key(peer->mac), out);
		peer->restart = CC_RST_NONE;
	}
}

void cc_restart_hold(cc *c, struct cc_leg *leg, struct cc_actions *out)
{
	struct cc_peer *peer = leg->peer;
	leg->held = true;
	if (!peer->up)
		cc_ask_link(c, peer->mac, out); /* link up starts the restart */
	else if (peer->restart == CC_RST_NONE)
		restart_begin(c, peer, out);
}

/* The held SETUPs go out, each under a fresh T303. */
static void release_held(cc *c, struct cc_peer *peer, struct cc_actions *out)
{
	for (struct cc_leg *l = peer->l_head; l; l = l->peer_next) {
		CC_STEP(c);
		if (!l->held)
			continue;
		l->held = false;
		l->retries = 1;
		if (l->setup)
			cc_send_msg(c, peer->mac, l->setup, out);
		cc_timer_start(c, &l->timers, CC_T303, l->id, c->cfg.t303_ms, out);
	}
}

void cc_restart_ack(cc *c, struct cc_peer *peer, const struct q_msg *m, struct cc_actions *out)
{
	if (peer->restart != CC_RST_WAIT && peer->restart != CC_RST_FAILED) {
		/* Q.2931 §5.5 (Reset-Start in Rest0): not compatible with our state */
		cc_send_global_status(c, peer, m, Q_CAUSE_MSG_NOT_COMPATIBLE, out);
		return;
	}
	if (!m->restart.present || m->restart.rclass != Q_RESTART_ALL)
		return; /* §5.5.1.2: not the answer to ours; T316 goes on */
	if (peer->restart == CC_RST_FAILED)
		log_at(LOG_NOTICE, 0, 0, peer->mac.a, "RESTART acknowledged late: back in service");
	cc_timer_stop(c, &peer->timers, CC_T316, cc_mac_key(peer->mac), out);
	cc_peer_maybe_idle(c, peer); /* T316 may have been all it held */
	peer->restart = CC_RST_DONE;
	release_held(c, peer, out);
	run_deferred(c, peer, false, out);
}

void cc_restart_t316(cc *c, struct cc_peer *peer, struct cc_actions *out)
{
	if (peer->restart != CC_RST_WAIT)
		return;
	if (peer->restart_sends < c->cfg.n316) {
		send_restart(c, peer, out);
		return;
	}
	/*
	 * §5.5.1: no further attempts; the maintenance entity (the log) is
	 * told and the interface is out of service.  The calls waiting for it
	 * would never go out: they end now, cause 102.
	 */
	peer->restart = CC_RST_FAILED;
	log_at(LOG_ERR, 0, 0, peer->mac.a,
	       "RESTART not acknowledged after %u sends (T316): peer out of service until its "
	       "link is set up again",
	       (unsigned)peer->restart_sends);
	struct cc_leg *l = peer->l_head;
	while (l) {
		CC_STEP(c);
		struct cc_leg *next = l->peer_next;
		if (l->held)
			cc_leg_cleared(c, l, CM_E_TIMEOUT, Q_CAUSE_RECOVERY_ON_TIMER, NULL, out);
		l = next;
	}
	run_deferred(c, peer, true, out);
}

/*
 * Q.2931 §5.5.2 RESTART (all VCs) from the peer: clear every call with it,
 * then RESTART ACKNOWLEDGE.  Calls in U1 are kept: a SETUP outstanding now
 * was sent on this association (a link loss clears calls not yet active at
 * once) after the peer acknowledged our RESTART, or waits for that (held).
 * The peer's SETUPs we hold for our own RESTART came before this one, so
 * their calls are among those it cleared: they go, unanswered.
 */
void cc_restart_received(cc *c, struct cc_peer *peer, const struct q_msg *m,
			 struct cc_actions *out)
{
	if (!m->restart.present || m->restart.rclass != Q_RESTART_ALL) {
		cc_send_global_status(c, peer, m, Q_CAUSE_INVALID_IE_CONTENTS, out);
		return;
	}
	struct cc_leg *l = peer->l_head;
	while (l) {
		CC_STEP(c);
		struct cc_leg *next = l->peer_next;
		if (l->state != U1)
			cc_leg_cleared(c, l, CM_E_REJECTED, Q_CAUSE_TEMPORARY_FAILURE, NULL, out);
		l = next;
	}
	cc_peer_drop_deferred(c, peer);
	struct q_msg r;
	memset(&r, 0, sizeof(r));
	r.type = Q_MSG_RESTART_ACK;
	r.cref_flag = !m->cref_flag;
	r.restart.present = true;
	r.restart.rclass = Q_RESTART_ALL;
	cc_send_msg(c, peer->mac, &r, out);
}
