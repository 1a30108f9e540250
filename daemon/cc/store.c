/* SPDX-License-Identifier: MIT */
/*
 * The call control store, the bottom layer of cc: the objects (sessions,
 * VCs, parties, legs, peers), their hashes and lists, allocation and
 * freeing, lookups, and the state setters every transition goes through;
 * also the action helpers (timers, client events, owed completions) that
 * only touch these objects.  It knows nothing of requests or messages:
 * it uses store.h alone, and call.c, party.c and cc.c build on it.
 */
#include "store.h"

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

void cc_ht_init(struct htab *t)
{
	t->nb = 64;
	t->n = 0;
	t->b = calloc(t->nb, sizeof(struct hnode *));
	if (!t->b)
		log_oom("call control state");
}

void cc_ht_free(struct htab *t)
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
		log_oom("call control state");
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

void cc_ht_add(struct htab *t, struct hnode *n, uint64_t k1, uint64_t k2)
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

void cc_ht_del(struct htab *t, struct hnode *n)
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

struct hnode *cc_ht_find(const struct htab *t, uint64_t k1, uint64_t k2)
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

struct cc_session *cc_session_find(const cc *c, uint64_t id)
{
	struct hnode *n = cc_ht_find(&c->sessions, id, 0);
	return n ? container_of(n, struct cc_session, node) : NULL;
}

struct cc_session *cc_session_get(cc *c, uint64_t id)
{
	struct cc_session *s = cc_session_find(c, id);
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		log_oom("call control state");
	s->id = id;
	cc_ht_add(&c->sessions, &s->node, id, 0);
	return s;
}

void cc_session_maybe_free(cc *c, struct cc_session *s)
{
	if (s->closed && s->n_pending == 0 && s->n_vcs == 0) {
		struct cc_user *u = s->user;
		if (u && --u->n_sessions == 0) {
			cc_ht_del(&c->users, &u->node);
			free(u);
		}
		cc_ht_del(&c->sessions, &s->node);
		free(s);
	}
}

void cc_session_set_user(cc *c, struct cc_session *s, uint32_t uid)
{
	if (s->user)
		return;
	struct hnode *n = cc_ht_find(&c->users, uid, 0);
	struct cc_user *u = n ? container_of(n, struct cc_user, node) : NULL;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			log_oom("call control state");
		u->uid = uid;
		cc_ht_add(&c->users, &u->node, uid, 0);
	}
	u->n_sessions++;
	s->user = u;
}

/*
 * Call control's state in octets, estimated from the object counts: each
 * object with its allocator overhead and hash links, a leg with the SETUP
 * it may keep for T303, the hash bucket arrays.  Within a few percent of
 * what malloc holds for it; what max_memory is measured against.
 */
#define OBJ_OVERHEAD 16
#define N_STATE_TABLES 9
static void state_tables(const cc *c, const struct htab *all[N_STATE_TABLES])
{
	const struct htab *t[N_STATE_TABLES] = { &c->vcs,	 &c->parties, &c->eprefs,
						 &c->legs,	 &c->legs_by_id, &c->vcpeer,
						 &c->peers,	 &c->sessions,	 &c->users };
	memcpy(all, t, sizeof(t));
}

uint64_t cc_state_bytes(const cc *c)
{
	const struct htab *all[N_STATE_TABLES];
	state_tables(c, all);
	uint64_t b = 0;
	for (size_t i = 0; i < N_STATE_TABLES; i++)
		b += all[i]->nb * sizeof(struct hnode *);
	b += c->vcs.n * (sizeof(struct cc_vc) + OBJ_OVERHEAD);
	b += c->parties.n * (sizeof(struct cc_party) + OBJ_OVERHEAD);
	b += c->legs_by_id.n * (sizeof(struct cc_leg) + sizeof(struct q_msg) + 2 * OBJ_OVERHEAD);
	b += c->peers.n * (sizeof(struct cc_peer) + OBJ_OVERHEAD);
	b += c->sessions.n * (sizeof(struct cc_session) + OBJ_OVERHEAD);
	b += c->users.n * (sizeof(struct cc_user) + OBJ_OVERHEAD);
	b += c->n_chunks * (sizeof(struct cc_vchunk) + OBJ_OVERHEAD + sizeof(void *));
	return b;
}

bool cc_budget_full(const cc *c, const struct cc_session *s, bool vc, bool pending)
{
	const struct cc_user *u = s ? s->user : NULL;
	if (u && vc && c->cfg.max_vcs_per_user && u->n_vcs >= c->cfg.max_vcs_per_user)
		return true;
	if (u && pending && c->cfg.max_pending_per_user &&
	    u->n_pending >= c->cfg.max_pending_per_user)
		return true;
	/* a VC brings a party and a leg; a party may bring a leg */
	uint64_t more = sizeof(struct cc_party) + sizeof(struct cc_leg) + sizeof(struct q_msg) +
			(vc ? sizeof(struct cc_vc) : 0) + 4 * OBJ_OVERHEAD;
	/*
	 * A table whose entries fill its buckets doubles them at its next add
	 * (cc_ht_add), and an admission adds at most one entry to each: that
	 * growth is counted before it happens, so the estimate never passes
	 * max_memory.  Full tables this admission will not touch are counted
	 * too; the cost is refusing slightly early, only at the edge.
	 */
	const struct htab *all[N_STATE_TABLES];
	state_tables(c, all);
	for (size_t i = 0; i < N_STATE_TABLES; i++)
		if (all[i]->n >= all[i]->nb)
			more += all[i]->nb * sizeof(struct hnode *);
	return c->cfg.max_memory_mib &&
	       cc_state_bytes(c) + more > (uint64_t)c->cfg.max_memory_mib << 20;
}

struct cc_vc *cc_vc_find(const cc *c, uint64_t id)
{
	struct hnode *n = cc_ht_find(&c->vcs, id, 0);
	return n ? container_of(n, struct cc_vc, id_node) : NULL;
}

struct cc_party *cc_party_find(const cc *c, uint64_t id)
{
	struct hnode *n = cc_ht_find(&c->parties, id, 0);
	return n ? container_of(n, struct cc_party, id_node) : NULL;
}

struct cc_party *cc_party_by_epref(const cc *c, const struct cc_leg *leg, uint16_t epref)
{
	struct hnode *n = cc_ht_find(&c->eprefs, leg->id, epref);
	return n ? container_of(n, struct cc_party, ep_node) : NULL;
}

struct cc_leg *cc_leg_find(const cc *c, struct cc_mac mac, uint32_t cref, bool orig)
{
	struct hnode *n = cc_ht_find(&c->legs, cc_mac_key(mac), (uint64_t)cref << 1 | orig);
	return n ? container_of(n, struct cc_leg, key_node) : NULL;
}

struct cc_leg *cc_leg_by_id(const cc *c, uint64_t id)
{
	struct hnode *n = cc_ht_find(&c->legs_by_id, id, 0);
	return n ? container_of(n, struct cc_leg, id_node) : NULL;
}

struct cc_peer *cc_peer_find(const cc *c, struct cc_mac mac)
{
	struct hnode *n = cc_ht_find(&c->peers, cc_mac_key(mac), 0);
	return n ? container_of(n, struct cc_peer, node) : NULL;
}

struct cc_peer *cc_peer_get(cc *c, struct cc_mac mac)
{
	struct cc_peer *p = cc_peer_find(c, mac);
	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		log_oom("call control state");
	p->mac = mac;
	p->next_cref = 1;
	cc_ht_add(&c->peers, &p->node, cc_mac_key(mac), 0);
	c->st.peers++;
	/* one made for a message that leaves nothing behind goes again */
	cc_peer_maybe_idle(c, p);
	return p;
}

void cc_peer_maybe_idle(cc *c, struct cc_peer *p)
{
	if (p->idle_listed)
		return;
	p->idle_listed = true;
	p->idle_next = c->idle_peers;
	c->idle_peers = p;
}

/* A peer object costs ~100 octets; one per MAC ever called would grow without bound. */
static void peers_reap(cc *c)
{
	while (c->idle_peers) {
		struct cc_peer *p = c->idle_peers;
		c->idle_peers = p->idle_next;
		p->idle_listed = false;
		if (p->n_legs || p->timers || p->up || p->n_deferred)
			continue;
		cc_ht_del(&c->peers, &p->node);
		c->st.peers--;
		free(p);
	}
}

struct cc_leg *cc_vc_leg_to(const cc *c, const struct cc_vc *vc, struct cc_mac mac)
{
	struct hnode *n = cc_ht_find(&c->vcpeer, vc->id, cc_mac_key(mac));
	return n ? container_of(n, struct cc_leg, vcpeer_node) : NULL;
}

bool cc_mac_eq(struct cc_mac a, struct cc_mac b)
{
	return memcmp(a.a, b.a, 6) == 0;
}

struct cc_mac cc_aesa_esi(const uint8_t *aesa)
{
	struct cc_mac m;
	memcpy(m.a, aesa + 13, 6);
	return m;
}

void cc_own_aesa(const cc *c, uint8_t sel, uint8_t out[Q_AESA_LEN])
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

struct cc_action *cc_act_push(struct cc_actions *out)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		struct cc_action *v = realloc(out->v, cap * sizeof(*v));
		if (!v)
			log_oom("call control state");
		out->v = v;
		out->cap = cap;
	}
	struct cc_action *a = &out->v[out->n++];
	memset(a, 0, sizeof(*a));
	return a;
}

void cc_emit_cev(cc *c, const struct cc_client_event *ev, struct cc_actions *out)
{
	struct cc_session *s = cc_session_find(c, ev->session);
	if (s && s->closed)
		return; /* nothing goes to a client that is gone */
	struct cc_action *a = cc_act_push(out);
	a->type = CC_ACT_CLIENT_EVENT;
	a->cev = *ev;
}

uint8_t cc_completion_type(enum cc_req_type req_type)
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
	case CC_REQ_ADMIN_CLOSE:
		return CC_CEV_ADMIN_CLOSE_COMPLETE;
	case CC_REQ_ACCEPT_CALL:
		return CC_CEV_ACCEPT_CALL_COMPLETE;
	case CC_REQ_REJECT_CALL:
		return CC_CEV_REJECT_CALL_COMPLETE;
	case CC_REQ_DEREGISTER_SAP:
		return CC_CEV_DEREGISTER_SAP_COMPLETE;
	}
	return CC_CEV_ADMIN_CLOSE_COMPLETE; /* not a request type: as for the operator's */
}

struct cc_client_event cc_completion(enum cc_req_type type, uint64_t session, uint64_t req_id,
				     int status, uint64_t vc, uint64_t party)
{
	struct cc_client_event ev = {0};
	ev.type = cc_completion_type(type);
	ev.session = session;
	ev.req_id = req_id;
	ev.status = status;
	ev.vc = vc;
	ev.party = party;
	return ev;
}

void cc_ref_take(cc *c, struct cc_ref *r, const struct cc_request *req)
{
	r->type = req->type;
	r->session = req->session;
	r->req_id = req->req_id;
	struct cc_session *s = cc_session_get(c, req->session);
	s->n_pending++;
	if (s->user)
		s->user->n_pending++;
}

void cc_ref_complete(cc *c, struct cc_ref *r, int status, int cause, uint64_t vc, uint64_t party,
		     struct cc_actions *out)
{
	if (!r->type)
		return;
	struct cc_client_event ev =
		cc_completion(r->type, r->session, r->req_id, status, vc, party);
	ev.cause = cause;
	if (status == CM_OK && r->type == CC_REQ_MAKE_CALL)
		c->st.calls_made++;
	else if (r->type == CC_REQ_MAKE_CALL)
		c->st.calls_failed++;
	else if (status == CM_OK && r->type == CC_REQ_ADD_PARTY)
		c->st.parties_added++;
	else if (status == CM_OK && (r->type == CC_REQ_DROP_PARTY || r->type == CC_REQ_ADMIN_DROP))
		c->st.parties_dropped++;
	cc_emit_cev(c, &ev, out);
	struct cc_session *s = cc_session_find(c, r->session);
	r->type = 0;
	if (s) {
		s->n_pending--;
		if (s->user)
			s->user->n_pending--;
		cc_session_maybe_free(c, s);
	}
}

/* -------------------------------------------------------------- timers */

void cc_timer_start(cc *c, uint16_t *bits, enum cc_timer_kind kind, uint64_t obj, uint32_t ms,
		    struct cc_actions *out)
{
	*bits |= (uint16_t)(1u << kind);
	struct cc_action *a = cc_act_push(out);
	a->type = CC_ACT_TIMER_START;
	a->timer.kind = kind;
	a->timer.obj = obj;
	a->ms = ms;
}

void cc_timer_stop(cc *c, uint16_t *bits, enum cc_timer_kind kind, uint64_t obj,
		   struct cc_actions *out)
{
	if (!(*bits & (1u << kind)))
		return;
	*bits &= (uint16_t) ~(1u << kind);
	struct cc_action *a = cc_act_push(out);
	a->type = CC_ACT_TIMER_STOP;
	a->timer.kind = kind;
	a->timer.obj = obj;
}

/* ------------------------------------------------------------ objects */

/* Every VC state change goes through here. */
void cc_vc_set_state(cc *c, struct cc_vc *vc, enum cc_vc_state state)
{
	log_at(LOG_DEBUG, vc->id, 0, NULL, "vc %s -> %s", cm_vc_state_name(vc->state),
	       cm_vc_state_name(state));
	if (!vc->root && (vc->state == CC_VC_CALLING) != (state == CC_VC_CALLING)) {
		struct cc_session *s = cc_session_find(c, vc->session);
		if (s)
			s->n_offered += state == CC_VC_CALLING ? 1 : -1;
	}
	vc->state = state;
}

/* The VC goes last in the all list: into the last chunk, or a new one. */
static void chunk_append(cc *c, struct cc_vc *vc)
{
	struct cc_vchunk *ch = c->n_chunks ? c->chunks[c->n_chunks - 1] : NULL;
	if (ch && !ch->n) {
		/* the empty last chunk starts again from this id */
		ch->key = vc->id;
		ch->given = 0;
	}
	if (!ch || ch->given >= CC_VCHUNK) {
		if (c->n_chunks == c->cap_chunks) {
			size_t ncap = c->cap_chunks ? c->cap_chunks * 2 : 64;
			struct cc_vchunk **nv = realloc(c->chunks, ncap * sizeof(*nv));
			if (!nv)
				log_oom("call control state");
			c->chunks = nv;
			c->cap_chunks = ncap;
		}
		ch = calloc(1, sizeof(*ch));
		if (!ch)
			log_oom("call control state");
		ch->key = vc->id;
		c->chunks[c->n_chunks++] = ch;
	}
	if (!ch->head)
		ch->head = vc;
	ch->n++;
	ch->given++;
	vc->chunk = ch;
}

/* Index of the last chunk whose key is <= id; SIZE_MAX if none. */
static size_t chunk_at(const cc *c, uint64_t id)
{
	size_t lo = 0, hi = c->n_chunks;
	while (lo < hi) {
		CC_STEP(c);
		size_t mid = lo + (hi - lo) / 2;
		if (c->chunks[mid]->key <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : SIZE_MAX;
}

/* Before the VC leaves the all list (its all_next still set). */
static void chunk_remove(cc *c, struct cc_vc *vc)
{
	struct cc_vchunk *ch = vc->chunk;
	vc->chunk = NULL;
	if (ch->head == vc)
		ch->head = vc->all_next && vc->all_next->chunk == ch ? vc->all_next : NULL;
	if (--ch->n)
		return;
	/* the last chunk may still be given more VCs: kept, empty */
	size_t i = chunk_at(c, ch->key);
	if (i == c->n_chunks - 1)
		return;
	memmove(c->chunks + i, c->chunks + i + 1, (c->n_chunks - i - 1) * sizeof(*c->chunks));
	c->n_chunks--;
	free(ch);
}

struct cc_vc *cc_vc_after(const cc *c, uint64_t after)
{
	const struct cc_vc *vc = cc_vc_find(c, after);
	if (vc)
		return vc->all_next;
	size_t i = chunk_at(c, after);
	if (i == SIZE_MAX)
		return c->all_head;
	/* chunk i holds ids in [key, next key): its live ones first, then on */
	struct cc_vc *v = c->chunks[i]->head;
	if (!v) {
		/* empty (the last one): nothing at or past its key is live */
		return NULL;
	}
	while (v && v->id <= after) {
		CC_STEP(c);
		v = v->all_next;
	}
	return v;
}

struct cc_vc *cc_vc_new(cc *c, struct cc_session *s, bool root)
{
	struct cc_vc *vc = calloc(1, sizeof(*vc));
	if (!vc)
		log_oom("call control state");
	vc->id = c->next_vc++;
	vc->session = s->id;
	vc->root = root;
	vc->state = CC_VC_NULL;
	cc_ht_add(&c->vcs, &vc->id_node, vc->id, 0);
	DL_APPEND(c->all_head, c->all_tail, vc, all_prev, all_next);
	chunk_append(c, vc);
	DL_APPEND(s->v_head, s->v_tail, vc, s_prev, s_next);
	s->n_vcs++;
	if (s->user)
		s->user->n_vcs++;
	cc_vc_set_state(c, vc, CC_VC_CALLING);
	return vc;
}

void cc_party_relive(struct cc_party *p)
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

struct cc_party *cc_party_new(cc *c, struct cc_vc *vc, const uint8_t *addr)
{
	return cc_party_new_as(c, vc, addr, c->next_party++);
}

struct cc_party *cc_party_new_as(cc *c, struct cc_vc *vc, const uint8_t *addr, uint64_t id)
{
	struct cc_party *p = calloc(1, sizeof(*p));
	if (!p)
		log_oom("call control state");
	p->id = id;
	p->vc = vc;
	p->state = Q_EPS_NULL;
	memcpy(p->addr, addr, Q_AESA_LEN);
	cc_ht_add(&c->parties, &p->id_node, p->id, 0);
	DL_APPEND(vc->p_head, vc->p_tail, p, vc_prev, vc_next);
	vc->n_parties++;
	cc_party_relive(p);
	return p;
}

void cc_party_attach(cc *c, struct cc_party *p, struct cc_leg *leg, uint16_t epref)
{
	p->leg = leg;
	p->epref = epref;
	cc_ht_add(&c->eprefs, &p->ep_node, leg->id, epref);
	DL_APPEND(leg->p_head, leg->p_tail, p, leg_prev, leg_next);
	leg->n_parties++;
	if (cc_eps_in_use(p->state))
		leg->n_est++;
}

/* Take the party off its leg (the wire side of it is over); stops its timers. */
void cc_party_detach_leg(cc *c, struct cc_party *p, struct cc_actions *out)
{
	struct cc_leg *leg = p->leg;
	cc_timer_stop(c, &p->timers, CC_T397, p->id, out);
	cc_timer_stop(c, &p->timers, CC_T398, p->id, out);
	cc_timer_stop(c, &p->timers, CC_T399, p->id, out);
	cc_timer_stop(c, &p->timers, CC_TACCEPT, p->id, out);
	if (!leg)
		return;
	if (cc_eps_in_use(p->state))
		leg->n_est--;
	cc_ht_del(&c->eprefs, &p->ep_node);
	DL_UNLINK(leg->p_head, leg->p_tail, p, leg_prev, leg_next);
	leg->n_parties--;
	p->leg = NULL;
	p->queued = false;
	p->drop_deferred = false;
}

void cc_party_unlink_vc(cc *c, struct cc_party *p)
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

/* A second free of an object within one event: refused, see store.h. */
static bool freed_twice(bool *dead, uint64_t vc, uint64_t party, const char *what)
{
	if (*dead) {
		log_at(LOG_ERR, vc, party, NULL, "%s freed twice", what);
		return true;
	}
	*dead = true;
	return false;
}

void cc_party_free(cc *c, struct cc_party *p, struct cc_actions *out)
{
	if (freed_twice(&p->dead, 0, p->id, "party"))
		return;
	if (p->add.type || p->drop.type)
		log_at(LOG_ERR, p->vc ? p->vc->id : 0, p->id, NULL,
		       "freeing a party that is owed a completion");
	cc_party_detach_leg(c, p, out);
	cc_party_unlink_vc(c, p);
	cc_ht_del(&c->parties, &p->id_node);
	p->dead_next = c->dead_parties;
	c->dead_parties = p;
}

/*
 * Cut a VC loose from the wire: parties still in a wire procedure (a DROP
 * PARTY or RELEASE awaiting its answer) become orphans and finish it
 * alone, legs are detached likewise.  Parties off the wire stay.
 */
void cc_vc_orphan_wire(cc *c, struct cc_vc *vc)
{
	struct cc_party *p = vc->p_head;
	while (p) {
		CC_STEP(c);
		struct cc_party *next = p->vc_next;
		if (p->leg)
			cc_party_unlink_vc(c, p);
		p = next;
	}
	struct cc_leg *l = vc->l_head;
	while (l) {
		CC_STEP(c);
		struct cc_leg *next = l->vc_next;
		cc_leg_unusable(c, l);
		l->vc = NULL;
		l->vc_prev = l->vc_next = NULL;
		l = next;
	}
	vc->l_head = vc->l_tail = NULL;
	vc->n_legs = 0;
}

/*
 * Free a VC.  Its owed completions must be settled by the caller; its wire
 * procedures finish as orphans (cc_vc_orphan_wire).
 */
void cc_vc_free(cc *c, struct cc_vc *vc)
{
	if (freed_twice(&vc->dead, vc->id, 0, "vc"))
		return;
	cc_vc_orphan_wire(c, vc);
	struct cc_party *p = vc->p_head;
	while (p) {
		CC_STEP(c);
		struct cc_party *next = p->vc_next;
		cc_party_unlink_vc(c, p);
		cc_ht_del(&c->parties, &p->id_node);
		p->dead = true;
		p->dead_next = c->dead_parties;
		c->dead_parties = p;
		p = next;
	}
	struct cc_session *s = cc_session_find(c, vc->session);
	if (s) {
		DL_UNLINK(s->v_head, s->v_tail, vc, s_prev, s_next);
		s->n_vcs--;
		if (s->user)
			s->user->n_vcs--;
		if (!vc->root && vc->state == CC_VC_CALLING)
			s->n_offered--;
	}
	chunk_remove(c, vc);
	DL_UNLINK(c->all_head, c->all_tail, vc, all_prev, all_next);
	cc_ht_del(&c->vcs, &vc->id_node);
	log_at(LOG_DEBUG, vc->id, 0, NULL, "vc deleted");
	vc->dead_next = c->dead_vcs;
	c->dead_vcs = vc;
	if (s)
		cc_session_maybe_free(c, s);
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
	cc_ht_free(t);
}
/* Active or being established: what "last party clears the call" counts. */
bool cc_eps_in_use(enum q_ep_state s)
{
	return s == Q_EPS_ADD_PARTY_INITIATED || s == Q_EPS_ADD_PARTY_RECEIVED ||
	       s == Q_EPS_ALERTING_DELIVERED || s == Q_EPS_ALERTING_RECEIVED || s == Q_EPS_ACTIVE;
}

/* Every party state change goes through here. */
void cc_party_set_state(cc *c, struct cc_party *p, enum q_ep_state state)
{
	log_at(LOG_DEBUG, p->vc ? p->vc->id : 0, p->id, p->leg ? p->leg->peer->mac.a : NULL,
	       "party %s -> %s", cm_party_state_short(p->state), cm_party_state_short(state));
	if (p->leg) {
		if (cc_eps_in_use(p->state))
			p->leg->n_est--;
		if (cc_eps_in_use(state))
			p->leg->n_est++;
	}
	p->state = state;
}

static void leg_log(const struct cc_leg *leg, const char *what, uint8_t a, uint8_t b)
{
	log_at(LOG_DEBUG, leg->vc ? leg->vc->id : 0, 0, leg->peer->mac.a,
	       "leg %llu cref %u%s: %s U%u -> U%u", (unsigned long long)leg->id, leg->cref,
	       leg->orig ? " (root)" : " (leaf)", what, a, b);
}

/* Every call state change goes through here. */
void cc_leg_set_state(cc *c, struct cc_leg *leg, enum cc_call_state state)
{
	leg_log(leg, "call state", leg->state, state);
	if (leg->state == U10)
		leg->peer->n_active--;
	if (state == U10)
		leg->peer->n_active++;
	leg->state = state;
}

/* T309 guards active calls only: the last one gone, it stops. */
void cc_peer_check_t309(cc *c, struct cc_peer *peer, struct cc_actions *out)
{
	if (peer->n_active == 0 && (peer->timers & (1u << CC_T309))) {
		cc_timer_stop(c, &peer->timers, CC_T309, cc_mac_key(peer->mac), out);
		cc_peer_maybe_idle(c, peer);
	}
}

struct cc_leg *cc_leg_new(cc *c, struct cc_peer *peer, uint32_t cref, bool orig, struct cc_vc *vc)
{
	struct cc_leg *leg = calloc(1, sizeof(*leg));
	if (!leg)
		log_oom("call control state");
	if (orig) {
		/* call references are per peer; skip the ones in use */
		for (;;) {
			CC_STEP(c);
			cref = peer->next_cref;
			peer->next_cref = peer->next_cref >= Q_CREF_MAX ? 1 : peer->next_cref + 1;
			if (!cc_leg_find(c, peer->mac, cref, true))
				break;
		}
	}
	leg->id = c->next_leg++;
	leg->peer = peer;
	leg->cref = cref;
	leg->orig = orig;
	leg->state = U0;
	leg->next_epref = 1;
	cc_ht_add(&c->legs, &leg->key_node, cc_mac_key(peer->mac), (uint64_t)cref << 1 | orig);
	cc_ht_add(&c->legs_by_id, &leg->id_node, leg->id, 0);
	DL_APPEND(peer->l_head, peer->l_tail, leg, peer_prev, peer_next);
	peer->n_legs++;
	if (vc) {
		leg->vc = vc;
		DL_APPEND(vc->l_head, vc->l_tail, leg, vc_prev, vc_next);
		vc->n_legs++;
		cc_ht_add(&c->vcpeer, &leg->vcpeer_node, vc->id, cc_mac_key(peer->mac));
		leg->in_vcpeer = true;
	}
	return leg;
}

/* The leg no longer takes new parties (it is clearing, or its VC is gone). */
void cc_leg_unusable(cc *c, struct cc_leg *leg)
{
	if (leg->in_vcpeer) {
		cc_ht_del(&c->vcpeer, &leg->vcpeer_node);
		leg->in_vcpeer = false;
	}
}

void cc_leg_stop_timers(cc *c, struct cc_leg *leg, struct cc_actions *out)
{
	for (unsigned k = CC_T303; k <= CC_T322; k++)
		if (LEG_TIMERS & (1u << k))
			cc_timer_stop(c, &leg->timers, (uint8_t)k, leg->id, out);
}

void cc_leg_free(cc *c, struct cc_leg *leg, struct cc_actions *out)
{
	if (freed_twice(&leg->dead, 0, 0, "leg"))
		return;
	cc_leg_stop_timers(c, leg, out);
	while (leg->p_head) {
		CC_STEP(c);
		struct cc_party *p = leg->p_head;
		log_at(LOG_ERR, 0, p->id, leg->peer->mac.a, "party left on a freed leg");
		cc_party_detach_leg(c, p, out);
	}
	cc_leg_unusable(c, leg);
	cc_leg_set_state(c, leg, U0);
	struct cc_vc *vc = leg->vc;
	if (vc) {
		DL_UNLINK(vc->l_head, vc->l_tail, leg, vc_prev, vc_next);
		vc->n_legs--;
	}
	struct cc_peer *peer = leg->peer;
	DL_UNLINK(peer->l_head, peer->l_tail, leg, peer_prev, peer_next);
	peer->n_legs--;
	cc_peer_check_t309(c, peer, out);
	if (peer->n_legs == 0)
		cc_peer_maybe_idle(c, peer);
	cc_ht_del(&c->legs, &leg->key_node);
	cc_ht_del(&c->legs_by_id, &leg->id_node);
	if (leg->in_connids) {
		cc_ht_del(&c->connids, &leg->conn_node);
		leg->in_connids = false;
	}
	free(leg->setup);
	leg->setup = NULL;
	free(leg->deferred_uu);
	leg->deferred_uu = NULL;
	leg->dead_next = c->dead_legs;
	c->dead_legs = leg;
}

void cc_store_reap(cc *c)
{
	peers_reap(c);
	while (c->dead_parties) {
		struct cc_party *p = c->dead_parties;
		c->dead_parties = p->dead_next;
		free(p);
	}
	while (c->dead_legs) {
		struct cc_leg *l = c->dead_legs;
		c->dead_legs = l->dead_next;
		free(l);
	}
	while (c->dead_vcs) {
		struct cc_vc *vc = c->dead_vcs;
		c->dead_vcs = vc->dead_next;
		free(vc);
	}
}

uint16_t cc_leg_alloc_epref(cc *c, struct cc_leg *leg)
{
	for (uint32_t tries = 0; tries < Q_EPREF_MAX; tries++) {
		CC_STEP(c);
		uint16_t e = leg->next_epref;
		leg->next_epref = leg->next_epref >= Q_EPREF_MAX ? 1 : leg->next_epref + 1;
		if (!cc_party_by_epref(c, leg, e))
			return e;
	}
	return 0;
}

/* ------------------------------------------------------- the store */

void cc_store_init(cc *c)
{
	c->next_vc = c->next_party = c->next_leg = 1;
	c->steps = &c->work;
	cc_ht_init(&c->vcs);
	cc_ht_init(&c->parties);
	cc_ht_init(&c->eprefs);
	cc_ht_init(&c->legs);
	cc_ht_init(&c->legs_by_id);
	cc_ht_init(&c->vcpeer);
	cc_ht_init(&c->peers);
	cc_ht_init(&c->sessions);
	cc_ht_init(&c->users);
	cc_ht_init(&c->connids);
	/* every probe counts, so the perf-guard tests see a degenerate hash */
	struct htab *all[] = {&c->vcs,	      &c->parties, &c->eprefs,   &c->legs, &c->legs_by_id,
			      &c->vcpeer,     &c->peers,   &c->sessions, &c->users};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		all[i]->steps = c->steps;
}

void cc_peer_drop_deferred(cc *c, struct cc_peer *peer)
{
	while (peer->deferred) {
		struct cc_deferred *e = peer->deferred;
		peer->deferred = e->next;
		free(e);
	}
	peer->n_deferred = 0;
	/* the held SETUPs may have been all that kept it */
	cc_peer_maybe_idle(c, peer);
}

void cc_store_free(cc *c)
{
	cc_store_reap(c);
	for (size_t i = 0; i < c->legs_by_id.nb; i++)
		for (struct hnode *n = c->legs_by_id.b[i]; n; n = n->next)
			free(container_of(n, struct cc_leg, id_node)->setup),
				free(container_of(n, struct cc_leg, id_node)->deferred_uu);
	for (size_t i = 0; i < c->peers.nb; i++)
		for (struct hnode *n = c->peers.b[i]; n; n = n->next)
			cc_peer_drop_deferred(c, container_of(n, struct cc_peer, node));
	ht_free_all(&c->parties, offsetof(struct cc_party, id_node));
	ht_free_all(&c->vcs, offsetof(struct cc_vc, id_node));
	ht_free_all(&c->legs_by_id, offsetof(struct cc_leg, id_node));
	ht_free_all(&c->peers, offsetof(struct cc_peer, node));
	ht_free_all(&c->sessions, offsetof(struct cc_session, node));
	ht_free_all(&c->users, offsetof(struct cc_user, node));
	cc_ht_free(&c->eprefs);
	cc_ht_free(&c->legs);
	cc_ht_free(&c->connids);
	cc_ht_free(&c->vcpeer);
	for (size_t i = 0; i < c->n_chunks; i++)
		free(c->chunks[i]);
	free(c->chunks);
}

/*
 * VCIs 0-31 are reserved (1 meta-signalling, 5 signalling, 16 ILMI...);
 * allocation starts at 32 as Linux's does, per peer, and skips those in
 * use.  The search is bounded by the identifiers in use on that peer.
 */
#define CONNID_FIRST 32u

bool cc_leg_alloc_connid(cc *c, struct cc_leg *leg)
{
	struct cc_peer *peer = leg->peer;
	uint64_t key = cc_mac_key(peer->mac);
	for (uint32_t i = 0; i <= 0xffffu - CONNID_FIRST; i++) {
		CC_STEP(c);
		uint16_t v = peer->next_vci < CONNID_FIRST ? CONNID_FIRST : peer->next_vci;
		peer->next_vci = v == 0xffffu ? CONNID_FIRST : (uint16_t)(v + 1);
		if (cc_ht_find(&c->connids, key, v))
			continue;
		leg->vpci = 0;
		leg->vci = v;
		cc_ht_add(&c->connids, &leg->conn_node, key, v);
		leg->in_connids = true;
		return true;
	}
	return false;
}

struct cc_leg *cc_leg_by_connid(const cc *c, struct cc_mac mac, uint16_t vci)
{
	struct hnode *n = cc_ht_find(&c->connids, cc_mac_key(mac), vci);
	return n ? container_of(n, struct cc_leg, conn_node) : NULL;
}
