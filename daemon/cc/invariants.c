/* SPDX-License-Identifier: MIT */
/*
 * The invariants of issue #3, checked over the whole state.  O(everything):
 * for tests and the fuzzer, never on the daemon's hot path.
 */
#include "store.h"

#define FOR_HT(t, type, member, var)                                                               \
	for (size_t i_##var = 0; i_##var < (t)->nb; i_##var++)                                     \
		for (struct hnode *n_##var = (t)->b[i_##var]; n_##var; n_##var = n_##var->next)    \
			for (type *var = container_of(n_##var, type, member); var; var = NULL)

static bool has(uint16_t bits, enum cc_timer_kind kind)
{
	return bits & (1u << kind);
}

static bool leg_waits_guarded(const struct cc_leg *l)
{
	switch (l->state) {
	case U1:
		return has(l->timers, CC_T303);
	case U3:
	case U4:
		return has(l->timers, CC_T310);
	case U8:
		return has(l->timers, CC_T313);
	case U11:
		return has(l->timers, CC_T308);
	case U0: /* waits for nothing */
	case U6: /* the party's accept timer guards it */
	case U10:
		return true;
	}
	return false; /* not a call state */
}

static bool leg_establishing(const struct cc_leg *l)
{
	return l->state == U1 || l->state == U3 || l->state == U4;
}

static const char *check_party(const cc *c, const struct cc_party *p)
{
	if (cc_party_find(c, p->id) != p)
		return "party not found by its id";
	if (!p->vc && !p->leg)
		return "party with neither VC nor leg";
	if (!p->vc && (p->add.type || p->drop.type))
		return "orphan party owed a completion";
	if (!p->leg) {
		if (p->state != Q_EPS_DROP_PARTY_RECEIVED || !p->incoming_sent)
			return "party off the wire but not waiting for its owner";
		if (p->timers)
			return "party off the wire with a timer";
		return NULL;
	}
	if (cc_party_by_epref(c, p->leg, p->epref) != p)
		return "endpoint reference not unique within its leg";
	const struct cc_leg *l = p->leg;
	if (l->state == U11) {
		/* the RELEASE sent takes every party; T308 alone guards them */
		if (p->state != Q_EPS_DROP_PARTY_INITIATED)
			return "party on a clearing leg not dropping";
		if (p->timers)
			return "party on a clearing leg with its own timer";
		return NULL;
	}
	switch (p->state) {
	case Q_EPS_ADD_PARTY_INITIATED:
		if (!has(p->timers, CC_T399) && !(leg_establishing(l) && p->epref == 0))
			return "PU1 without T399";
		if (!p->add.type && p->vc && p->vc->state != CC_VC_CLOSING)
			return "PU1 owes no add completion";
		break;
	case Q_EPS_ALERTING_RECEIVED:
		if (!has(p->timers, CC_T397))
			return "PU4 without T397";
		break;
	case Q_EPS_DROP_PARTY_INITIATED:
		if (!has(p->timers, CC_T398) && l->state != U11 &&
		    !(p->drop_deferred && leg_establishing(l)))
			return "PU5 without T398";
		break;
	case Q_EPS_ADD_PARTY_RECEIVED:
		if (!has(p->timers, CC_TACCEPT))
			return "PU2 without its accept timer";
		break;
	case Q_EPS_ACTIVE:
		if (p->add.type && l->state != U11)
			return "active party still owes an add completion";
		break;
	case Q_EPS_NULL:
	case Q_EPS_ALERTING_DELIVERED:
	case Q_EPS_DROP_PARTY_RECEIVED:
		return "party on a leg in an unexpected state";
	}
	return NULL;
}

const char *cc_check_invariants(const cc *c)
{
	uint64_t on_legs = 0, listed_on_legs = 0;
	FOR_HT(&c->parties, const struct cc_party, id_node, p)
	{
		const char *e = check_party(c, p);
		if (e)
			return e;
		if (p->leg)
			on_legs++;
	}
	FOR_HT(&c->legs_by_id, const struct cc_leg, id_node, l)
	{
		uint32_t n = 0, est = 0;
		for (const struct cc_party *p = l->p_head; p; p = p->leg_next) {
			if (p->leg != l)
				return "party listed on a leg it does not point to";
			n++;
			est += cc_eps_in_use(p->state);
		}
		if (n != l->n_parties || est != l->n_est)
			return "leg party counts wrong";
		listed_on_legs += n;
		if (cc_leg_find(c, l->peer->mac, l->cref, l->orig) != l)
			return "leg not found by its key";
		if (!leg_waits_guarded(l))
			return "leg waits without a timer";
		if (n == 0 && l->state != U11)
			return "leg without parties is not clearing";
		if (l->state == U10 && est == 0)
			return "active leg with no active party (last party must clear the call)";
		if (l->vc && cc_vc_find(c, l->vc->id) != l->vc)
			return "leg of a freed VC";
		if (l->in_vcpeer && (!l->vc || l->state == U11))
			return "clearing leg still takes parties";
	}
	if (on_legs != listed_on_legs)
		return "a party is on no leg list or on two";
	uint64_t n_vcs = 0, in_chunks = 0;
	for (size_t i = 0; i < c->n_chunks; i++) {
		const struct cc_vchunk *ch = c->chunks[i];
		in_chunks += ch->n;
		if (i && c->chunks[i - 1]->key >= ch->key)
			return "VC chunks out of order";
		if (!ch->n && i + 1 != c->n_chunks)
			return "empty VC chunk kept";
		if (ch->head && (ch->head->chunk != ch ||
				 (ch->head->all_prev && ch->head->all_prev->chunk == ch)))
			return "VC chunk head is not its first VC";
	}
	for (const struct cc_vc *vc = c->all_head; vc; vc = vc->all_next) {
		n_vcs++;
		if (vc->all_next && vc->all_next->id <= vc->id)
			return "VC list out of id order";
		if (!vc->chunk || vc->id < vc->chunk->key)
			return "VC in no chunk or the wrong one";
		uint32_t n = 0, live = 0;
		for (const struct cc_party *p = vc->p_head; p; p = p->vc_next) {
			if (p->vc != vc)
				return "party listed on a VC it does not point to";
			if (p->vc_next && p->vc_next->id <= p->id)
				return "party list out of id order";
			n++;
			live += p->live_counted;
			if (p->live_counted != (!p->drop.type && !p->incoming_sent))
				return "party liveness miscounted";
		}
		if (n != vc->n_parties || live != vc->n_live)
			return "VC party counts wrong";
		if (n == 0 && vc->state != CC_VC_CLOSING && vc->state != CC_VC_CLOSE_RECEIVED)
			return "VC without parties is not closing";
		if (vc->root && vc->made_ok && vc->state == CC_VC_ACTIVE && live == 0)
			return "active VC with no live party";
		if ((vc->close.type != 0) != (vc->state == CC_VC_CLOSING) &&
		    vc->close.type != CC_REQ_ADMIN_CLOSE && vc->state != CC_VC_CLOSING)
			return "close owed outside Closing";
		struct cc_session *s = cc_session_find(c, vc->session);
		if (!s || s->closed)
			return "VC of a closed session";
	}
	if (in_chunks != n_vcs)
		return "VC chunks count a different number of VCs";
	if (n_vcs != c->vcs.n)
		return "VC hash and list disagree";
	/* every owed completion is counted once, against a live or draining session */
	FOR_HT(&c->sessions, struct cc_session, node, s)
	{
		uint64_t owed = 0, vcs = 0, offered = 0;
		FOR_HT(&c->parties, const struct cc_party, id_node, p)
		{
			owed += p->add.type && p->add.session == s->id;
			owed += p->drop.type && p->drop.session == s->id;
		}
		FOR_HT(&c->vcs, const struct cc_vc, id_node, vc)
		{
			owed += vc->close.type && vc->close.session == s->id;
			vcs += vc->session == s->id;
			offered += vc->session == s->id && !vc->root && vc->state == CC_VC_CALLING;
		}
		if (offered != s->n_offered)
			return "offered calls miscounted";
		if (owed != s->n_pending)
			return "pending requests miscounted";
		if (vcs != s->n_vcs)
			return "session VC count wrong";
	}
	FOR_HT(&c->parties, const struct cc_party, id_node, p)
	{
		if ((p->add.type && !cc_session_find(c, p->add.session)) ||
		    (p->drop.type && !cc_session_find(c, p->drop.session)))
			return "completion owed to an unknown session";
	}
	FOR_HT(&c->peers, const struct cc_peer, node, pe)
	{
		uint32_t n = 0;
		bool active = false;
		for (const struct cc_leg *l = pe->l_head; l; l = l->peer_next) {
			n++;
			active |= l->state == U10;
		}
		if (n != pe->n_legs)
			return "peer leg count wrong";
		uint32_t n_active = 0;
		for (const struct cc_leg *l = pe->l_head; l; l = l->peer_next)
			n_active += l->state == U10;
		if (n_active != pe->n_active)
			return "peer active leg count wrong";
		if (has(pe->timers, CC_T309) && !active)
			return "T309 runs with no active call";
		if (has(pe->timers, CC_T316) != (pe->restart == CC_RST_WAIT))
			return "T316 runs without a RESTART awaiting its acknowledgement, or not with one";
		if (pe->n_deferred && pe->restart == CC_RST_DONE)
			return "a SETUP from a peer held back after its restart was acknowledged";
		for (const struct cc_leg *l = pe->l_head; l; l = l->peer_next)
			if (l->held && (l->state != U1 || pe->restart == CC_RST_DONE || !l->setup))
				return "a SETUP held back outside U1, or after the restart was acknowledged";
		if (!pe->n_legs && !pe->timers && !pe->up && !pe->n_deferred &&
		    !pe->idle_listed)
			return "peer kept with nothing on it";
	}
	return NULL;
}
