/* SPDX-License-Identifier: MIT */
/*
 * Call control objects (sessions, VCs, parties, legs, peers), their O(1)
 * lookups, the client requests with the CoNDIS rules of SPEC §1/§4, and the
 * read-only views for cmctl.  The wire procedures live in call.c (Q.2931)
 * and party.c (Q.2971).
 */
#include "cc_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"

/* ---------------------------------------------------------------- hash */

static size_t ht_slot(const struct htab *t, uint64_t k1, uint64_t k2)
{
	uint64_t h =
		k1 * 0x9e3779b97f4a7c15ull ^ (k2 + 0x632be59bd9b4e019ull) * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 29;
	return (size_t)(h & (t->nb - 1));
}

void ht_init(struct htab *t)
{
	t->nb = 64;
	t->n = 0;
	t->b = calloc(t->nb, sizeof(struct hnode *));
	if (!t->b)
		abort();
}

void ht_free(struct htab *t)
{
	free(t->b);
	t->b = NULL;
	t->nb = t->n = 0;
}

static void ht_grow(struct htab *t)
{
	size_t onb = t->nb;
	struct hnode **ob = t->b;
	t->nb = onb * 2;
	t->b = calloc(t->nb, sizeof(struct hnode *));
	if (!t->b)
		abort();
	for (size_t i = 0; i < onb; i++) {
		struct hnode *n = ob[i];
		while (n) {
			struct hnode *next = n->next;
			size_t s = ht_slot(t, n->k1, n->k2);
			n->next = t->b[s];
			t->b[s] = n;
			n = next;
		}
	}
	free(ob);
}

void ht_add(struct htab *t, struct hnode *n, uint64_t k1, uint64_t k2)
{
	if (t->n >= t->nb)
		ht_grow(t);
	n->k1 = k1;
	n->k2 = k2;
	size_t s = ht_slot(t, k1, k2);
	n->next = t->b[s];
	t->b[s] = n;
	t->n++;
}

void ht_del(struct htab *t, struct hnode *n)
{
	struct hnode **pp = &t->b[ht_slot(t, n->k1, n->k2)];
	while (*pp && *pp != n) {
		if (t->steps)
			(*t->steps)++;
		pp = &(*pp)->next;
	}
	if (*pp) {
		*pp = n->next;
		t->n--;
	}
	n->next = NULL;
}

struct hnode *ht_find(const struct htab *t, uint64_t k1, uint64_t k2)
{
	for (struct hnode *n = t->b[ht_slot(t, k1, k2)]; n; n = n->next) {
		if (t->steps)
			(*t->steps)++;
		if (n->k1 == k1 && n->k2 == k2)
			return n;
	}
	return NULL;
}

/* ------------------------------------------------------------- lookups */

struct cc_session *session_find(const cc *c, uint64_t id)
{
	struct hnode *n = ht_find(&c->sessions, id, 0);
	return n ? container_of(n, struct cc_session, node) : NULL;
}

struct cc_session *session_get(cc *c, uint64_t id)
{
	struct cc_session *s = session_find(c, id);
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->id = id;
	ht_add(&c->sessions, &s->node, id, 0);
	return s;
}

static void session_maybe_free(cc *c, struct cc_session *s)
{
	if (s->closed && s->n_pending == 0 && s->n_vcs == 0) {
		ht_del(&c->sessions, &s->node);
		free(s);
	}
}

struct cc_vc *vc_find(const cc *c, uint64_t id)
{
	struct hnode *n = ht_find(&c->vcs, id, 0);
	return n ? container_of(n, struct cc_vc, id_node) : NULL;
}

struct cc_party *party_find(const cc *c, uint64_t id)
{
	struct hnode *n = ht_find(&c->parties, id, 0);
	return n ? container_of(n, struct cc_party, id_node) : NULL;
}

struct cc_party *party_by_epref(const cc *c, const struct cc_leg *leg, uint16_t epref)
{
	struct hnode *n = ht_find(&c->eprefs, leg->id, epref);
	return n ? container_of(n, struct cc_party, ep_node) : NULL;
}

struct cc_leg *leg_find(const cc *c, struct cc_mac mac, uint32_t cref, bool orig)
{
	struct hnode *n = ht_find(&c->legs, cc_mac_key(mac), (uint64_t)cref << 1 | orig);
	return n ? container_of(n, struct cc_leg, key_node) : NULL;
}

struct cc_leg *leg_by_id(const cc *c, uint64_t id)
{
	struct hnode *n = ht_find(&c->legs_by_id, id, 0);
	return n ? container_of(n, struct cc_leg, id_node) : NULL;
}

struct cc_peer *peer_find(const cc *c, struct cc_mac mac)
{
	struct hnode *n = ht_find(&c->peers, cc_mac_key(mac), 0);
	return n ? container_of(n, struct cc_peer, node) : NULL;
}

struct cc_peer *peer_get(cc *c, struct cc_mac mac)
{
	struct cc_peer *p = peer_find(c, mac);
	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->mac = mac;
	p->next_cref = 1;
	ht_add(&c->peers, &p->node, cc_mac_key(mac), 0);
	return p;
}

static struct cc_leg *vc_leg_to(const cc *c, const struct cc_vc *vc, struct cc_mac mac)
{
	struct hnode *n = ht_find(&c->vcpeer, vc->id, cc_mac_key(mac));
	return n ? container_of(n, struct cc_leg, vcpeer_node) : NULL;
}

bool mac_eq(struct cc_mac a, struct cc_mac b)
{
	return memcmp(a.a, b.a, 6) == 0;
}

struct cc_mac aesa_esi(const uint8_t *aesa)
{
	struct cc_mac m;
	memcpy(m.a, aesa + 13, 6);
	return m;
}

void own_aesa(const cc *c, uint8_t sel, uint8_t out[Q_AESA_LEN])
{
	memcpy(out, c->cfg.prefix, 13);
	memcpy(out + 13, c->cfg.esi.a, 6);
	out[19] = sel;
}

/* ------------------------------------------------------- actions, refs */

void cc_actions_init(struct cc_actions *a)
{
	a->v = NULL;
	a->n = a->cap = 0;
}

void cc_actions_clear(struct cc_actions *a)
{
	a->n = 0;
}

void cc_actions_free(struct cc_actions *a)
{
	free(a->v);
	cc_actions_init(a);
}

struct cc_action *act_push(struct cc_actions *out)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		struct cc_action *v = realloc(out->v, cap * sizeof(*v));
		if (!v)
			abort();
		out->v = v;
		out->cap = cap;
	}
	struct cc_action *a = &out->v[out->n++];
	memset(a, 0, sizeof(*a));
	return a;
}

void emit_cev(cc *c, const struct cc_client_event *ev, struct cc_actions *out)
{
	struct cc_session *s = session_find(c, ev->session);
	if (s && s->closed)
		return; /* nothing goes to a client that is gone */
	struct cc_action *a = act_push(out);
	a->type = CC_ACT_CLIENT_EVENT;
	a->cev = *ev;
}

static uint8_t completion_type(uint8_t req_type)
{
	switch (req_type) {
	case CC_REQ_REGISTER_SAP:
		return CC_CEV_REGISTER_SAP_COMPLETE;
	case CC_REQ_MAKE_CALL:
		return CC_CEV_MAKE_CALL_COMPLETE;
	case CC_REQ_ADD_PARTY:
		return CC_CEV_ADD_PARTY_COMPLETE;
	case CC_REQ_DROP_PARTY:
		return CC_CEV_DROP_PARTY_COMPLETE;
	case CC_REQ_CLOSE_CALL:
		return CC_CEV_CLOSE_CALL_COMPLETE;
	case CC_REQ_ADMIN_DROP:
		return CC_CEV_ADMIN_DROP_COMPLETE;
	default:
		return CC_CEV_ADMIN_CLOSE_COMPLETE;
	}
}

void ref_take(cc *c, struct cc_ref *r, const struct cc_request *req)
{
	r->type = req->type;
	r->session = req->session;
	r->req_id = req->req_id;
	session_get(c, req->session)->n_pending++;
}

static void complete_now(cc *c, const struct cc_request *req, int status, uint64_t vc,
			 uint64_t party, struct cc_actions *out)
{
	struct cc_client_event ev = {0};
	ev.type = completion_type(req->type);
	ev.session = req->session;
	ev.req_id = req->req_id;
	ev.status = status;
	ev.vc = vc;
	ev.party = party;
	ev.selector = req->selector;
	emit_cev(c, &ev, out);
}

void ref_complete(cc *c, struct cc_ref *r, int status, int cause, uint64_t vc, uint64_t party,
		  struct cc_actions *out)
{
	if (!r->type)
		return;
	struct cc_client_event ev = {0};
	ev.type = completion_type(r->type);
	ev.session = r->session;
	ev.req_id = r->req_id;
	ev.status = status;
	ev.cause = cause;
	ev.vc = vc;
	ev.party = party;
	if (status == CM_OK && r->type == CC_REQ_MAKE_CALL)
		c->st.calls_made++;
	else if (r->type == CC_REQ_MAKE_CALL)
		c->st.calls_failed++;
	else if (status == CM_OK && r->type == CC_REQ_ADD_PARTY)
		c->st.parties_added++;
	else if (status == CM_OK && (r->type == CC_REQ_DROP_PARTY || r->type == CC_REQ_ADMIN_DROP))
		c->st.parties_dropped++;
	emit_cev(c, &ev, out);
	struct cc_session *s = session_find(c, r->session);
	r->type = 0;
	if (s) {
		s->n_pending--;
		session_maybe_free(c, s);
	}
}

/* -------------------------------------------------------------- timers */

void timer_start(cc *c, uint16_t *bits, uint8_t kind, uint64_t obj, uint32_t ms,
		 struct cc_actions *out)
{
	*bits |= (uint16_t)(1u << kind);
	struct cc_action *a = act_push(out);
	a->type = CC_ACT_TIMER_START;
	a->timer.kind = kind;
	a->timer.obj = obj;
	a->ms = ms;
}

void timer_stop(cc *c, uint16_t *bits, uint8_t kind, uint64_t obj, struct cc_actions *out)
{
	if (!(*bits & (1u << kind)))
		return;
	*bits &= (uint16_t) ~(1u << kind);
	struct cc_action *a = act_push(out);
	a->type = CC_ACT_TIMER_STOP;
	a->timer.kind = kind;
	a->timer.obj = obj;
}

/* ------------------------------------------------------------ objects */

/* Every VC state change goes through here. */
void vc_set_state(cc *c, struct cc_vc *vc, uint8_t state)
{
	log_at(LOG_DEBUG, vc->id, 0, NULL, "vc %s -> %s", cm_vc_state_name(vc->state),
	       cm_vc_state_name(state));
	vc->state = state;
}

struct cc_vc *vc_new(cc *c, struct cc_session *s, bool root)
{
	struct cc_vc *vc = calloc(1, sizeof(*vc));
	if (!vc)
		abort();
	vc->id = c->next_vc++;
	vc->session = s->id;
	vc->root = root;
	vc->state = CC_VC_NULL;
	ht_add(&c->vcs, &vc->id_node, vc->id, 0);
	DL_APPEND(c->all_head, c->all_tail, vc, all_prev, all_next);
	DL_APPEND(s->v_head, s->v_tail, vc, s_prev, s_next);
	s->n_vcs++;
	vc_set_state(c, vc, CC_VC_CALLING);
	return vc;
}

void party_relive(struct cc_party *p)
{
	if (!p->vc)
		return; /* an orphan was uncounted when it left its VC */
	bool live = !p->drop.type && !p->incoming_sent;
	if (live == p->live_counted)
		return;
	p->live_counted = live;
	if (live)
		p->vc->n_live++;
	else
		p->vc->n_live--;
}

struct cc_party *party_new(cc *c, struct cc_vc *vc, const uint8_t *addr)
{
	struct cc_party *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->id = c->next_party++;
	p->vc = vc;
	p->state = Q_EPS_NULL;
	memcpy(p->addr, addr, Q_AESA_LEN);
	ht_add(&c->parties, &p->id_node, p->id, 0);
	DL_APPEND(vc->p_head, vc->p_tail, p, vc_prev, vc_next);
	vc->n_parties++;
	party_relive(p);
	return p;
}

void party_attach(cc *c, struct cc_party *p, struct cc_leg *leg, uint16_t epref)
{
	p->leg = leg;
	p->epref = epref;
	ht_add(&c->eprefs, &p->ep_node, leg->id, epref);
	DL_APPEND(leg->p_head, leg->p_tail, p, leg_prev, leg_next);
	leg->n_parties++;
	if (eps_in_use(p->state))
		leg->n_est++;
}

/* Take the party off its leg (the wire side of it is over); stops its timers. */
void party_detach_leg(cc *c, struct cc_party *p, struct cc_actions *out)
{
	struct cc_leg *leg = p->leg;
	timer_stop(c, &p->timers, CC_T397, p->id, out);
	timer_stop(c, &p->timers, CC_T398, p->id, out);
	timer_stop(c, &p->timers, CC_T399, p->id, out);
	timer_stop(c, &p->timers, CC_TACCEPT, p->id, out);
	if (!leg)
		return;
	if (eps_in_use(p->state))
		leg->n_est--;
	ht_del(&c->eprefs, &p->ep_node);
	DL_UNLINK(leg->p_head, leg->p_tail, p, leg_prev, leg_next);
	leg->n_parties--;
	p->leg = NULL;
	p->queued = false;
	p->drop_deferred = false;
}

void party_unlink_vc(cc *c, struct cc_party *p)
{
	struct cc_vc *vc = p->vc;
	if (!vc)
		return;
	if (p->live_counted) {
		vc->n_live--;
		p->live_counted = false;
	}
	DL_UNLINK(vc->p_head, vc->p_tail, p, vc_prev, vc_next);
	vc->n_parties--;
	p->vc = NULL;
}

void party_free(cc *c, struct cc_party *p, struct cc_actions *out)
{
	if (p->add.type || p->drop.type)
		log_at(LOG_ERR, p->vc ? p->vc->id : 0, p->id, NULL,
		       "freeing a party that is owed a completion");
	party_detach_leg(c, p, out);
	party_unlink_vc(c, p);
	ht_del(&c->parties, &p->id_node);
	free(p);
}

/*
 * Free a VC.  Its owed completions must be settled by the caller.  Parties
 * still in a wire procedure (a DROP PARTY or RELEASE awaiting its answer)
 * become orphans and finish it alone; legs are detached likewise.
 */
void vc_free(cc *c, struct cc_vc *vc)
{
	struct cc_party *p = vc->p_head;
	while (p) {
		c->work++;
		struct cc_party *next = p->vc_next;
		if (p->leg) {
			party_unlink_vc(c, p);
		} else {
			party_unlink_vc(c, p);
			ht_del(&c->parties, &p->id_node);
			free(p);
		}
		p = next;
	}
	struct cc_leg *l = vc->l_head;
	while (l) {
		c->work++;
		struct cc_leg *next = l->vc_next;
		leg_unusable(c, l);
		l->vc = NULL;
		l->vc_prev = l->vc_next = NULL;
		l = next;
	}
	struct cc_session *s = session_find(c, vc->session);
	if (s) {
		DL_UNLINK(s->v_head, s->v_tail, vc, s_prev, s_next);
		s->n_vcs--;
	}
	DL_UNLINK(c->all_head, c->all_tail, vc, all_prev, all_next);
	ht_del(&c->vcs, &vc->id_node);
	log_at(LOG_DEBUG, vc->id, 0, NULL, "vc deleted");
	free(vc);
	if (s)
		session_maybe_free(c, s);
}

/* Settle every completion owed on a VC: adds with add_status, drops and the close with OK. */
static void vc_settle(cc *c, struct cc_vc *vc, int add_status, int cause, struct cc_actions *out)
{
	for (struct cc_party *p = vc->p_head; p; p = p->vc_next) {
		c->work++;
		ref_complete(c, &p->add, add_status, cause, vc->id, p->id, out);
		ref_complete(c, &p->drop, CM_OK, cause, vc->id, p->id, out);
		party_relive(p);
	}
	ref_complete(c, &vc->close, CM_OK, cause, vc->id, 0, out);
}

static void emit_incoming_close(cc *c, struct cc_vc *vc, int cause, const struct q_ie_uu *uu,
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
	emit_cev(c, &ev, out);
}

/*
 * After parties left a VC: complete a close whose last party is gone, and
 * tell the owner of a root VC that nothing live remains.
 */
void vc_after_change(cc *c, struct cc_vc *vc, int cause, struct cc_actions *out)
{
	if (vc->state == CC_VC_CLOSING && vc->n_parties == 0) {
		if (vc->close.type == CC_REQ_CLOSE_CALL || vc->close.type == CC_REQ_ADMIN_CLOSE) {
			uint8_t t = vc->close.type;
			ref_complete(c, &vc->close, CM_OK, vc->close_cause, vc->id, 0, out);
			if (t == CC_REQ_ADMIN_CLOSE) {
				/* the owner still has to answer its IncomingCloseCall */
				vc_set_state(c, vc, CC_VC_CLOSE_RECEIVED);
				return;
			}
		}
		vc_free(c, vc);
		return;
	}
	if (vc->root && vc->made_ok && vc->state == CC_VC_ACTIVE && vc->n_live == 0) {
		vc_set_state(c, vc, CC_VC_CLOSE_RECEIVED);
		emit_incoming_close(c, vc, cause, NULL, out);
	}
}

/* ----------------------------------------------------------- requests */

static bool addr_ok(const cc *c, const uint8_t *addr)
{
	static const uint8_t zero[6];
	if (mac_eq(aesa_esi(addr), c->cfg.esi))
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
	struct cc_session *s = session_find(c, session);
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
	struct cc_peer *peer = peer_get(c, aesa_esi(p->addr));
	struct cc_leg *leg = leg_new(c, peer, 0, true, vc);
	party_set_state(c, p, Q_EPS_ADD_PARTY_INITIATED);
	party_attach(c, p, leg, 0);
	return leg;
}

/* CoNDIS NdisClMakeCall (multipoint): SETUP with endpoint reference 0. */
static void req_make_call(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	struct cm_call_params params = r->params;
	if (!addr_ok(c, r->addr) || !params_fill(&params))
		return complete_now(c, r, CM_E_INVAL, 0, 0, out);
	struct cc_session *s = session_get(c, r->session);
	if (c->cfg.max_vcs_per_session && s->n_vcs >= c->cfg.max_vcs_per_session)
		return complete_now(c, r, CM_E_LIMIT, 0, 0, out);
	if (pending_full(c, r->session))
		return complete_now(c, r, CM_E_LIMIT, 0, 0, out);
	struct cc_vc *vc = vc_new(c, s, true);
	vc->params = params;
	struct cc_party *p = party_new(c, vc, r->addr);
	ref_take(c, &p->add, r);
	struct cc_leg *leg = root_leg_new(c, vc, p);
	leg_send_setup(c, leg, p, out);
}

/* CoNDIS NdisClAddParty: ADD PARTY on the leg to the party's node, or a new leg. */
static void req_add_party(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	struct cc_vc *vc = vc_find(c, r->vc);
	if (!vc)
		return complete_now(c, r, CM_E_NO_VC, r->vc, 0, out);
	if (vc->session != r->session)
		return complete_now(c, r, CM_E_PERM, r->vc, 0, out);
	if (vc->state == CC_VC_CLOSING || vc->state == CC_VC_CLOSE_RECEIVED)
		return complete_now(c, r, CM_E_CLOSING, r->vc, 0, out);
	if (!vc->root || !vc->made_ok)
		return complete_now(c, r, CM_E_STATE, r->vc, 0, out);
	if (!addr_ok(c, r->addr))
		return complete_now(c, r, CM_E_INVAL, r->vc, 0, out);
	if (c->cfg.max_parties_per_vc && vc->n_parties >= c->cfg.max_parties_per_vc)
		return complete_now(c, r, CM_E_LIMIT, r->vc, 0, out);
	if (pending_full(c, r->session))
		return complete_now(c, r, CM_E_LIMIT, r->vc, 0, out);
	struct cc_leg *leg = vc_leg_to(c, vc, aesa_esi(r->addr));
	uint16_t epref = 0;
	if (leg) {
		epref = leg_alloc_epref(c, leg);
		if (epref == 0)
			return complete_now(c, r, CM_E_LIMIT, r->vc, 0, out);
	}
	struct cc_party *p = party_new(c, vc, r->addr);
	ref_take(c, &p->add, r);
	if (!leg) {
		leg = root_leg_new(c, vc, p);
		leg_send_setup(c, leg, p, out);
		return;
	}
	party_set_state(c, p, Q_EPS_ADD_PARTY_INITIATED);
	party_attach(c, p, leg, epref);
	if (leg->state == U10) {
		party_send_add(c, p, out);
	} else {
		/* the leg is still being set up: T399 runs from the request */
		p->queued = true;
		timer_start(c, &p->timers, CC_T399, p->id, c->cfg.t399_ms, out);
	}
}

/* The owner answers an IncomingDropParty / IncomingCloseCall, or an admin drop. */
static void party_release_id(cc *c, struct cc_party *p, struct cc_actions *out)
{
	struct cc_vc *vc = p->vc;
	if (p->leg)
		party_unlink_vc(c, p); /* orphan: its DROP PARTY finishes alone */
	else
		party_free(c, p, out);
	vc_after_change(c, vc, Q_CAUSE_NORMAL_CLEARING, out);
}

/* CoNDIS NdisClDropParty. */
static void req_drop_party(cc *c, const struct cc_request *r, bool admin, struct cc_actions *out)
{
	struct cc_vc *vc = vc_find(c, r->vc);
	if (!vc)
		return complete_now(c, r, CM_E_NO_VC, r->vc, r->party, out);
	if (!admin && vc->session != r->session)
		return complete_now(c, r, CM_E_PERM, r->vc, r->party, out);
	if (r->data_len > CM_MAX_DATA)
		return complete_now(c, r, CM_E_TOO_BIG, r->vc, r->party, out);
	struct cc_party *p = party_find(c, r->party);
	if (!p || p->vc != vc)
		return complete_now(c, r, CM_E_NO_PARTY, r->vc, r->party, out);
	if (p->drop.type)
		return complete_now(c, r, CM_E_BUSY, r->vc, r->party, out);
	if (vc->state == CC_VC_CLOSING)
		return complete_now(c, r, CM_E_CLOSING, r->vc, r->party, out);
	if (p->incoming_sent) {
		if (admin)
			return complete_now(c, r, CM_E_BUSY, r->vc, r->party, out);
		complete_now(c, r, CM_OK, r->vc, r->party, out);
		c->st.parties_dropped++;
		party_release_id(c, p, out);
		return;
	}
	/* teardown is not held to max_pending: see pending_full() */
	if (vc->n_live <= 1)
		return complete_now(c, r, CM_E_LAST_PARTY, r->vc, r->party, out);
	struct q_ie_uu uu;
	uu_from(&uu, r);
	ref_take(c, &p->drop, r);
	if (admin) {
		/* the owner learns of it now and answers with DropParty */
		p->incoming_sent = true;
		struct cc_client_event ev = {0};
		ev.type = CC_CEV_INCOMING_DROP_PARTY;
		ev.session = vc->session;
		ev.vc = vc->id;
		ev.party = p->id;
		ev.cause = Q_CAUSE_NORMAL_CLEARING;
		emit_cev(c, &ev, out);
	}
	party_relive(p);
	party_drop_request(c, p, Q_CAUSE_NORMAL_CLEARING, &uu, out);
}

static void vc_release_legs(cc *c, struct cc_vc *vc, const struct q_ie_uu *uu, uint8_t cause,
			    struct cc_actions *out)
{
	struct cc_leg *l = vc->l_head;
	while (l) {
		c->work++;
		struct cc_leg *next = l->vc_next;
		if (l->state != U11)
			leg_release(c, l, cause, uu, out);
		l = next;
	}
}

/* Free parties the owner was told are gone: closing answers for them too. */
static void vc_free_zombies(cc *c, struct cc_vc *vc, struct cc_actions *out)
{
	struct cc_party *p = vc->p_head;
	while (p) {
		c->work++;
		struct cc_party *next = p->vc_next;
		if (p->incoming_sent && !p->leg && !p->drop.type)
			party_free(c, p, out);
		p = next;
	}
}

/* Leaf side CloseCall: DROP PARTY for our one party, or RELEASE if it is the leg's last. */
static void leaf_close(cc *c, struct cc_vc *vc, const struct q_ie_uu *uu, struct cc_actions *out)
{
	struct cc_party *p = vc->p_head;
	if (p && p->leg && p->state != Q_EPS_DROP_PARTY_INITIATED)
		party_drop_request(c, p, Q_CAUSE_NORMAL_CLEARING, uu, out);
}

/* CoNDIS NdisClCloseCall (and the CM_CLOSE_FORCE convenience). */
static void req_close_call(cc *c, const struct cc_request *r, bool admin, struct cc_actions *out)
{
	struct cc_vc *vc = vc_find(c, r->vc);
	if (!vc)
		return complete_now(c, r, CM_E_NO_VC, r->vc, 0, out);
	if (!admin && vc->session != r->session)
		return complete_now(c, r, CM_E_PERM, r->vc, 0, out);
	if (r->data_len > CM_MAX_DATA)
		return complete_now(c, r, CM_E_TOO_BIG, r->vc, 0, out);
	if (vc->state == CC_VC_CLOSING)
		return complete_now(c, r, vc->close.type ? CM_E_BUSY : CM_E_CLOSING, r->vc, 0, out);
	if (vc->state == CC_VC_CLOSE_RECEIVED) {
		if (admin)
			return complete_now(c, r, CM_E_CLOSING, r->vc, 0, out);
		complete_now(c, r, CM_OK, r->vc, 0, out);
		vc_settle(c, vc, CM_E_CLOSING, 0, out);
		vc_free(c, vc);
		return;
	}
	/* a MakeCall in progress, or a call offered and not yet answered, is not closed */
	if (vc->state == CC_VC_CALLING && !admin &&
	    (vc->root || !vc->p_head || vc->p_head->state == Q_EPS_ADD_PARTY_RECEIVED))
		return complete_now(c, r, CM_E_STATE, r->vc, 0, out);
	bool force = (r->flags & CM_CLOSE_FORCE) != 0;
	struct cc_party *last = NULL;
	if ((!force && !admin) || r->party) {
		last = party_find(c, r->party);
		if (!last || last->vc != vc)
			return complete_now(c, r, CM_E_NO_PARTY, r->vc, r->party, out);
	}
	if (!force) {
		/* an operator names no party: whichever one live party is left is the last */
		uint32_t others = last ? vc->n_live - (last->live_counted ? 1 : 0)
				       : (vc->n_live ? vc->n_live - 1 : 0);
		if (others)
			return complete_now(c, r, CM_E_PARTIES_REMAIN, r->vc, r->party, out);
	}
	struct q_ie_uu uu;
	uu_from(&uu, r);
	ref_take(c, &vc->close, r);
	vc->close_cause = 0;
	if (admin)
		emit_incoming_close(c, vc, Q_CAUSE_NORMAL_CLEARING, NULL, out);
	/* adds still pending are overtaken by the close */
	for (struct cc_party *p = vc->p_head; p; p = p->vc_next) {
		c->work++;
		ref_complete(c, &p->add, CM_E_CLOSING, 0, vc->id, p->id, out);
	}
	vc_set_state(c, vc, CC_VC_CLOSING);
	if (vc->root) {
		vc_free_zombies(c, vc, out);
		vc_release_legs(c, vc, &uu, Q_CAUSE_NORMAL_CLEARING, out);
	} else {
		/* a leaf VC's one party is never in PU6 here: that VC is CLOSE_RECEIVED */
		leaf_close(c, vc, &uu, out);
	}
	vc_after_change(c, vc, 0, out);
}

/* CoNDIS NdisClRegisterSap: completes at once. */
static void req_register_sap(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	uint64_t owner = c->sap_owner[r->selector];
	if (owner && owner != r->session + 1)
		return complete_now(c, r, CM_E_SAP_IN_USE, 0, 0, out);
	session_get(c, r->session);
	c->sap_owner[r->selector] = r->session + 1;
	complete_now(c, r, CM_OK, 0, 0, out);
}

/* Leaf side NdisClIncomingCallComplete(SUCCESS): CONNECT or ADD PARTY ACK. */
static void req_accept(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	struct cc_vc *vc = vc_find(c, r->vc);
	struct cc_party *p = party_find(c, r->party);
	if (!vc || vc->session != r->session || vc->root || vc->state != CC_VC_CALLING || !p ||
	    p->vc != vc || p->state != Q_EPS_ADD_PARTY_RECEIVED || !p->leg) {
		log_at(LOG_INFO, r->vc, r->party, NULL, "accept ignored: not an offered call");
		return;
	}
	struct cc_leg *leg = p->leg;
	timer_stop(c, &p->timers, CC_TACCEPT, p->id, out);
	struct q_msg m;
	if (leg->state == U6) {
		msg_init(&m, leg, Q_MSG_CONNECT);
		m.epref.present = true;
		m.epref.flag = true;
		m.epref.value = p->epref;
		party_set_state(c, p, Q_EPS_ACTIVE);
		send_msg(c, leg->peer->mac, &m, out);
		leg_set_state(c, leg, U8);
		leg->retries = 1;
		timer_start(c, &leg->timers, CC_T313, leg->id, c->cfg.t313_ms, out);
		return;
	}
	msg_init(&m, leg, Q_MSG_ADD_PARTY_ACK);
	m.epref.present = true;
	m.epref.flag = true;
	m.epref.value = p->epref;
	party_set_state(c, p, Q_EPS_ACTIVE);
	send_msg(c, leg->peer->mac, &m, out);
	vc_set_state(c, vc, CC_VC_ACTIVE);
	struct cc_client_event ev = {0};
	ev.type = CC_CEV_CALL_CONNECTED;
	ev.session = vc->session;
	ev.vc = vc->id;
	ev.party = p->id;
	emit_cev(c, &ev, out);
}

/* Leaf side refusal: RELEASE COMPLETE for a SETUP, ADD PARTY REJECT for an ADD PARTY. */
static void req_reject(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	struct cc_vc *vc = vc_find(c, r->vc);
	struct cc_party *p = party_find(c, r->party);
	if (!vc || vc->session != r->session || vc->root || vc->state != CC_VC_CALLING || !p ||
	    p->vc != vc || p->state != Q_EPS_ADD_PARTY_RECEIVED || !p->leg) {
		log_at(LOG_INFO, r->vc, r->party, NULL, "reject ignored: not an offered call");
		return;
	}
	uint8_t cause =
		(r->cause > 0 && r->cause < 128) ? (uint8_t)r->cause : Q_CAUSE_CALL_REJECTED;
	struct cc_leg *leg = p->leg;
	struct q_msg m;
	if (leg->state == U6) {
		msg_init(&m, leg, Q_MSG_RELEASE_COMPLETE);
		m.cause.present = true;
		m.cause.value = cause;
		send_msg(c, leg->peer->mac, &m, out);
		party_free(c, p, out);
		leg_free(c, leg, out);
	} else {
		uint16_t epref = p->epref;
		party_free(c, p, out);
		msg_init(&m, leg, Q_MSG_ADD_PARTY_REJECT);
		m.epref.present = true;
		m.epref.flag = true;
		m.epref.value = epref;
		m.cause.present = true;
		m.cause.value = cause;
		leg_party_msg_or_release(c, leg, &m, cause, out);
	}
	vc_free(c, vc);
}

static void cc_request(cc *c, const struct cc_request *r, struct cc_actions *out)
{
	switch (r->type) {
	case CC_REQ_REGISTER_SAP:
		req_register_sap(c, r, out);
		break;
	case CC_REQ_MAKE_CALL:
		req_make_call(c, r, out);
		break;
	case CC_REQ_ADD_PARTY:
		req_add_party(c, r, out);
		break;
	case CC_REQ_DROP_PARTY:
		req_drop_party(c, r, false, out);
		break;
	case CC_REQ_ADMIN_DROP:
		req_drop_party(c, r, true, out);
		break;
	case CC_REQ_CLOSE_CALL:
		req_close_call(c, r, false, out);
		break;
	case CC_REQ_ADMIN_CLOSE:
		req_close_call(c, r, true, out);
		break;
	case CC_REQ_ACCEPT_CALL:
		req_accept(c, r, out);
		break;
	case CC_REQ_REJECT_CALL:
		req_reject(c, r, out);
		break;
	default:
		log_at(LOG_WARNING, r->vc, r->party, NULL, "unknown request type %u", r->type);
		break;
	}
}

/*
 * Tear a VC down on the network (session gone, or shutdown): every leg is
 * released (root) or our party dropped (leaf), then the VC is freed and its
 * wire procedures finish as orphans.
 */
static void vc_teardown(cc *c, struct cc_vc *vc, uint8_t cause, int add_status,
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
				msg_init(&m, leg, Q_MSG_RELEASE_COMPLETE);
				m.cause.present = true;
				m.cause.value = cause;
				send_msg(c, leg->peer->mac, &m, out);
				party_free(c, p, out);
				leg_free(c, leg, out);
			} else if (p->state != Q_EPS_DROP_PARTY_INITIATED && leg->state != U11) {
				struct q_ie_uu none = {0};
				vc_set_state(c, vc,
					     CC_VC_CLOSING); /* no owner events from here on */
				party_drop_request(c, p, cause, &none, out);
			}
		}
	}
	if ((vc = vc_find(c, id)) != NULL)
		vc_free(c, vc);
}

/* The client went away: its VCs are torn down with cause 31, silently. */
static void session_closed(cc *c, uint64_t id, struct cc_actions *out)
{
	struct cc_session *s = session_find(c, id);
	if (!s)
		return;
	s->closed = true;
	for (int i = 0; i < 256; i++)
		if (c->sap_owner[i] == id + 1)
			c->sap_owner[i] = 0;
	/* the session is freed with its last VC once nothing is owed to it */
	while ((s = session_find(c, id)) && s->v_head)
		vc_teardown(c, s->v_head, Q_CAUSE_NORMAL_UNSPECIFIED, CM_E_CLOSING, out);
	if (s)
		session_maybe_free(c, s);
}

/*
 * SIGTERM: pending requests complete (adds CM_E_CLOSING, drops and closes
 * CM_OK), owners of VCs not being closed get IncomingCloseCall(31), and
 * every call is released with cause 31.
 */
static void shutdown_all(cc *c, struct cc_actions *out)
{
	while (c->all_head) {
		c->work++;
		struct cc_vc *vc = c->all_head;
		if (vc->state != CC_VC_CLOSING && vc->state != CC_VC_CLOSE_RECEIVED)
			emit_incoming_close(c, vc, Q_CAUSE_NORMAL_UNSPECIFIED, NULL, out);
		vc_teardown(c, vc, Q_CAUSE_NORMAL_UNSPECIFIED, CM_E_CLOSING, out);
	}
	/* leaf legs with nobody's parties left, and legs to restarted peers */
	struct cc_leg *todo = NULL;
	for (size_t i = 0; i < c->legs_by_id.nb; i++)
		for (struct hnode *n = c->legs_by_id.b[i]; n; n = n->next) {
			struct cc_leg *l = container_of(n, struct cc_leg, id_node);
			if (l->state != U11) {
				l->vc_next = todo;
				todo = l;
			}
		}
	while (todo) {
		c->work++;
		struct cc_leg *l = todo;
		todo = l->vc_next;
		l->vc_next = NULL;
		leg_release(c, l, Q_CAUSE_NORMAL_UNSPECIFIED, NULL, out);
	}
}

void cc_handle(cc *c, const struct cc_event *ev, struct cc_actions *out)
{
	switch (ev->type) {
	case CC_EV_REQUEST:
		if (!cc_refuse(c, &ev->req, out))
			cc_request(c, &ev->req, out);
		break;
	case CC_EV_SESSION_CLOSED:
		session_closed(c, ev->session, out);
		break;
	case CC_EV_MESSAGE:
		if (ev->msg)
			call_message(c, ev, out);
		break;
	case CC_EV_TIMER:
		call_timer(c, &ev->timer, out);
		break;
	case CC_EV_LINK_UP:
		call_link_up(c, ev->peer, out);
		break;
	case CC_EV_LINK_DOWN:
		call_link_down(c, ev->peer, out);
		break;
	case CC_EV_SHUTDOWN:
		c->shutting_down = true;
		shutdown_all(c, out);
		break;
	default:
		break;
	}
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
	cfg->t322_ms = 4000;
	cfg->t397_ms = 180000;
	cfg->t398_ms = 4000;
	cfg->t399_ms = 14000;
	cfg->n303 = 2;
	cfg->n308 = 2;
	cfg->n322 = 2;
	cfg->max_vcs_per_session = 100000;
	cfg->max_parties_per_vc = 1000000;
	cfg->max_pending_per_session = 100000;
	/* a private AESA prefix: DCC format, AFI 0x39, the rest ours */
	static const uint8_t prefix[13] = {0x39, 0x99, 0x99, 0x00, 0x00, 0x00, 0x00,
					   0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
	memcpy(cfg->prefix, prefix, 13);
}

cc *cc_new(const struct cc_config *cfg)
{
	cc *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->next_vc = c->next_party = c->next_leg = 1;
	ht_init(&c->vcs);
	ht_init(&c->parties);
	ht_init(&c->eprefs);
	ht_init(&c->legs);
	ht_init(&c->legs_by_id);
	ht_init(&c->vcpeer);
	ht_init(&c->peers);
	ht_init(&c->sessions);
	/* every probe counts, so the perf-guard tests see a degenerate hash */
	struct htab *all[] = { &c->vcs, &c->parties, &c->eprefs, &c->legs, &c->legs_by_id,
			       &c->vcpeer, &c->peers, &c->sessions };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		all[i]->steps = &c->work;
	return c;
}

uint64_t cc_work(const cc *c)
{
	return c->work;
}

static void ht_free_all(struct htab *t, size_t off)
{
	for (size_t i = 0; i < t->nb; i++) {
		struct hnode *n = t->b[i];
		while (n) {
			struct hnode *next = n->next;
			void *obj = (char *)n - off;
			free(obj);
			n = next;
		}
	}
	ht_free(t);
}

void cc_free(cc *c)
{
	if (!c)
		return;
	cc_queue_free(c);
	for (size_t i = 0; i < c->legs_by_id.nb; i++)
		for (struct hnode *n = c->legs_by_id.b[i]; n; n = n->next)
			free(container_of(n, struct cc_leg, id_node)->setup),
				free(container_of(n, struct cc_leg, id_node)->deferred_uu);
	ht_free_all(&c->parties, offsetof(struct cc_party, id_node));
	ht_free_all(&c->vcs, offsetof(struct cc_vc, id_node));
	ht_free_all(&c->legs_by_id, offsetof(struct cc_leg, id_node));
	ht_free_all(&c->peers, offsetof(struct cc_peer, node));
	ht_free_all(&c->sessions, offsetof(struct cc_session, node));
	ht_free(&c->eprefs);
	ht_free(&c->legs);
	ht_free(&c->vcpeer);
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
}

/* -------------------------------------------------------------- views */

static void vc_info(const struct cc_vc *vc, struct cc_vc_info *o)
{
	o->vc = vc->id;
	o->session = vc->session;
	o->root = vc->root;
	o->state = vc->state;
	o->n_parties = vc->n_parties;
	/* a leaf VC rides on a leg it does not own: its one party's */
	o->n_legs = vc->root ? vc->n_legs : (vc->p_head && vc->p_head->leg ? 1 : 0);
}

size_t cc_vc_list(const cc *c, cm_vc_id after, struct cc_vc_info *out, size_t max)
{
	const struct cc_vc *vc = vc_find(c, after);
	vc = vc ? vc->all_next : c->all_head;
	while (vc && vc->id <= after)
		vc = vc->all_next;
	size_t n = 0;
	for (; vc && n < max; vc = vc->all_next)
		vc_info(vc, &out[n++]);
	return n;
}

int cc_vc_get(const cc *c, cm_vc_id id, struct cc_vc_info *out)
{
	const struct cc_vc *vc = vc_find(c, id);
	if (!vc)
		return CM_E_NO_VC;
	vc_info(vc, out);
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
	const struct cc_vc *vc = vc_find(c, vcid);
	if (!vc)
		return 0;
	const struct cc_party *p = party_find(c, after);
	p = (p && p->vc == vc) ? p->vc_next : vc->p_head;
	while (p && p->id <= after)
		p = p->vc_next;
	size_t n = 0;
	for (; p && n < max; p = p->vc_next) {
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
	out->saps = 0;
	for (int i = 0; i < 256; i++)
		out->saps += c->sap_owner[i] != 0;
}
