/* SPDX-License-Identifier: MIT */
/*
 * The call control store (store.c), the bottom layer of cc: objects,
 * hashes, lists, allocation and freeing, lookups, state setters, and the
 * action helpers that touch only these objects.  Used by the machines
 * (call.c, party.c), the dispatch (cc.c) and invariants.c; uses nothing of
 * theirs.
 *
 * Lifetimes.  Any function that takes a cc may free any leg, party or VC
 * (a RELEASE takes every party of its leg, a party's end may free its VC,
 * a leg's last party may release it).  Two rules make that safe:
 *
 *  - Freeing is deferred.  cc_leg_free(), cc_party_free() and cc_vc_free()
 *    unlink the object from every hash and list at once, so no lookup
 *    finds it again, but its memory is released by cc_store_reap() when
 *    cc_handle() returns.  A pointer held across a call therefore stays
 *    readable for the rest of the event; what it says is stale.  Freeing
 *    a dead object again is refused and logged as an error (a double
 *    unlink would corrupt the lists it was on).
 *  - Whether an object is still alive is asked by id.  A caller that needs
 *    an object after a call that may free it saves the id first and looks
 *    it up again afterwards.  Ids count up from 1 for the life of the cc
 *    and are never reused, so finding the id means the same object.  A
 *    pointer held across the call is not compared with the lookup's
 *    result: the id says it all.
 *
 * Sessions and peers are not deferred: a session is freed only by
 * cc_session_maybe_free() once nothing refers to it, a peer only by
 * cc_free().
 */
#ifndef CALLMGR_CC_STORE_H
#define CALLMGR_CC_STORE_H

#include "cc/cc.h"

#include <stddef.h>

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

/* Q.2931 call state codes used by the leg machine. */
enum cc_call_state {
	U0 = 0,
	U1 = 1,	  /* Call Initiated: SETUP sent, T303 */
	U3 = 3,	  /* Outgoing Call Proceeding: T310 */
	U4 = 4,	  /* Call Delivered: T310 kept running (see docs) */
	U6 = 6,	  /* Call Present: offered to the SAP's client, accept timer */
	U8 = 8,	  /* Connect Request: CONNECT sent, T313 */
	U10 = 10, /* Active */
	U11 = 11, /* Release Request: RELEASE sent, T308 */
};

/* ---- intrusive chained hash keyed by two 64-bit words ---- */
/*
 * Intrusive doubly linked lists (VCs of a session and of the node, legs of
 * a VC and of a peer, parties of a VC and of a leg): one append and one
 * unlink for all of them, O(1) each.
 */
#define DL_APPEND(head, tail, node, prev, next)                                                   \
	do {                                                                                      \
		(node)->prev = (tail);                                                            \
		(node)->next = NULL;                                                              \
		if (tail)                                                                         \
			(tail)->next = (node);                                                    \
		else                                                                              \
			(head) = (node);                                                          \
		(tail) = (node);                                                                  \
	} while (0)

#define DL_UNLINK(head, tail, node, prev, next)                                                   \
	do {                                                                                      \
		if ((node)->prev)                                                                 \
			(node)->prev->next = (node)->next;                                        \
		else                                                                              \
			(head) = (node)->next;                                                    \
		if ((node)->next)                                                                 \
			(node)->next->prev = (node)->prev;                                        \
		else                                                                              \
			(tail) = (node)->prev;                                                    \
		(node)->prev = (node)->next = NULL;                                               \
	} while (0)

struct hnode {
	struct hnode *next;
	uint64_t k1, k2;
};
struct htab {
	struct hnode **b;
	size_t nb, n;
	uint64_t *steps; /* chain steps are counted here (cc_work()); may be NULL */
};
void cc_ht_init(struct htab *t);
void cc_ht_free(struct htab *t);
void cc_ht_add(struct htab *t, struct hnode *n, uint64_t k1, uint64_t k2);
void cc_ht_del(struct htab *t, struct hnode *n);
struct hnode *cc_ht_find(const struct htab *t, uint64_t k1, uint64_t k2);

/* A request owed a completion.  type 0 = none owed. */
struct cc_ref {
	enum cc_req_type type; /* 0: none owed */
	uint64_t session;
	uint64_t req_id;
};

struct cc_vc;
struct cc_leg;

struct cc_party {
	struct hnode id_node;
	struct hnode ep_node; /* (leg id, epref) while on a leg */
	uint64_t id;
	struct cc_vc *vc;   /* NULL: orphan, finishing a wire procedure alone */
	struct cc_leg *leg; /* NULL: off the wire */
	struct cc_party *vc_prev, *vc_next;
	struct cc_party *leg_prev, *leg_next;
	uint16_t epref;
	enum q_ep_state state;
	uint16_t timers;    /* bit per running timer kind */
	bool queued;	    /* ADD PARTY waits for the leg's CONNECT */
	bool drop_deferred; /* DROP PARTY waits for the leg's CONNECT */
	bool incoming_sent; /* owner was told it is gone; its DropParty/CloseCall is due */
	bool live_counted;
	uint8_t addr[Q_AESA_LEN];
	struct cc_ref add;  /* MAKE_CALL or ADD_PARTY */
	struct cc_ref drop; /* DROP_PARTY or ADMIN_DROP */
	struct cc_party *dead_next; /* on cc's dead list once freed */
	bool dead;
};

struct cc_peer {
	struct hnode node;
	struct cc_mac mac;
	uint32_t next_cref;
	bool seen_up, up;
	bool restart_sent; /* our RESTART is queued ahead of everything else */
	uint16_t timers; /* T309 */
	uint32_t n_active; /* legs in U10 */
	struct cc_leg *l_head, *l_tail;
	uint32_t n_legs;
};

struct cc_leg {
	struct hnode key_node; /* (mac, cref << 1 | orig) */
	struct hnode id_node;
	struct hnode vcpeer_node; /* (vc id, mac): the VC's usable leg to that peer */
	bool in_vcpeer;
	uint64_t id;
	struct cc_peer *peer;
	uint32_t cref;
	bool orig;	  /* we sent the SETUP: root side */
	enum cc_call_state state;
	struct cc_vc *vc; /* root legs; NULL on the leaf side or once detached */
	struct cc_leg *vc_prev, *vc_next;
	struct cc_leg *peer_prev, *peer_next;
	struct cc_party *p_head, *p_tail;
	uint32_t n_parties;
	uint32_t n_est; /* parties active or being established (last party rule) */
	uint16_t next_epref;
	uint16_t timers;
	uint8_t retries;     /* sends so far of the message the running timer guards */
	uint8_t rel_cause;   /* cause of the RELEASE we sent (T308 resend) */
	int clear_status;    /* status for pending adds when the leg clears, 0 = by cause */
	struct q_msg *setup; /* the SETUP, kept for T303 resends while U1 */
	struct q_ie_uu *deferred_uu;
	struct cc_leg *dead_next; /* on cc's dead list once freed */
	bool dead;
};

struct cc_vc {
	struct hnode id_node;
	uint64_t id;
	uint64_t session;
	bool root;
	bool made_ok;	  /* MakeCall completed with CM_OK */
	enum cc_vc_state state;
	uint8_t selector; /* leaf: the SAP it was offered to */
	uint8_t close_cause;
	struct cm_call_params params;
	struct cc_party *p_head, *p_tail;
	uint32_t n_parties, n_live;
	struct cc_leg *l_head, *l_tail;
	uint32_t n_legs;
	struct cc_vc *all_prev, *all_next;
	struct cc_vc *s_prev, *s_next;
	struct cc_ref close; /* CLOSE_CALL or ADMIN_CLOSE */
	/*
	 * The owner was sent IncomingCloseCall by an operator's close or by
	 * the shutdown and its CloseCall has not come yet: the VC outlives its
	 * wire procedures in CLOSE_RECEIVED until it does.
	 */
	bool answer_due;
	bool shut_down; /* CC_EV_SHUTDOWN has torn it down (shutdown_all) */
	struct cc_vc *dead_next; /* on cc's dead list once freed */
	bool dead;
};

struct cc_session {
	struct hnode node;
	uint64_t id;
	bool closed; /* gone; kept while admin completions are owed to it */
	uint32_t n_vcs, n_pending;
	struct cc_vc *v_head, *v_tail;
};

struct cc {
	struct cc_config cfg;
	uint64_t next_vc, next_party, next_leg;
	struct htab vcs, parties, eprefs, legs, legs_by_id, vcpeer, peers, sessions;
	struct cc_vc *all_head, *all_tail;
	uint64_t sap_owner[256]; /* session + 1, 0 = free */
	struct cc_stats st;
	uint64_t work;	 /* list steps taken; tests bound it */
	uint64_t *steps; /* &work: CC_STEP() counts through it */
	/* freed objects, unreachable by any lookup, whose memory is released
	 * when cc_handle() returns (see Lifetimes above) */
	struct cc_party *dead_parties;
	struct cc_leg *dead_legs;
	struct cc_vc *dead_vcs;
	struct cc_queue *queue; /* queue.c: local legs and re-entrant events */
	bool shutting_down;     /* CC_EV_SHUTDOWN seen: refuse new requests */
};

#define LEG_TIMERS                                                                                 \
	((1u << CC_T303) | (1u << CC_T308) | (1u << CC_T310) | (1u << CC_T313) | (1u << CC_T322))

/*
 * The perf guard (tests/perf) bounds cc_work(), so every walk counts: one
 * CC_STEP per element visited of a list, a hash chain or bucket array, or
 * a search loop.  A walk that does not count could grow with the number of
 * parties or VCs unseen.  Through c->steps so the const views count too.
 * The one exception is ht_grow(): rehashing is amortised O(1) per insert
 * and would show as a spike, not a trend.
 */
#define CC_STEP(c) ((void)(*(c)->steps += 1))

/* store.c: construction */
void cc_store_init(cc *c);
void cc_store_free(cc *c);
/* Release the memory of the objects freed since the last call: the end of cc_handle(). */
void cc_store_reap(cc *c);

/* lookups: NULL when the id or key is unknown */
struct cc_session *cc_session_get(cc *c, uint64_t id);
struct cc_session *cc_session_find(const cc *c, uint64_t id);
void cc_session_maybe_free(cc *c, struct cc_session *s);
struct cc_vc *cc_vc_find(const cc *c, uint64_t id);
struct cc_party *cc_party_find(const cc *c, uint64_t id);
struct cc_party *cc_party_by_epref(const cc *c, const struct cc_leg *leg, uint16_t epref);
struct cc_leg *cc_leg_find(const cc *c, struct cc_mac mac, uint32_t cref, bool orig);
struct cc_leg *cc_leg_by_id(const cc *c, uint64_t id);
struct cc_leg *cc_vc_leg_to(const cc *c, const struct cc_vc *vc, struct cc_mac mac);
struct cc_peer *cc_peer_get(cc *c, struct cc_mac mac);
struct cc_peer *cc_peer_find(const cc *c, struct cc_mac mac);

/* actions, owed completions, timers */
struct cc_action *cc_act_push(struct cc_actions *out);
void cc_emit_cev(cc *c, const struct cc_client_event *ev, struct cc_actions *out);
uint8_t cc_completion_type(enum cc_req_type req_type);
/* The completion event of a request (its type from the request's), cause 0. */
struct cc_client_event cc_completion(enum cc_req_type type, uint64_t session, uint64_t req_id,
				     int status, uint64_t vc, uint64_t party);
void cc_ref_take(cc *c, struct cc_ref *r, const struct cc_request *req);
void cc_ref_complete(cc *c, struct cc_ref *r, int status, int cause, uint64_t vc, uint64_t party,
		     struct cc_actions *out);
void cc_timer_start(cc *c, uint16_t *bits, enum cc_timer_kind kind, uint64_t obj, uint32_t ms,
		    struct cc_actions *out);
void cc_timer_stop(cc *c, uint16_t *bits, enum cc_timer_kind kind, uint64_t obj,
		   struct cc_actions *out);

/* VCs */
struct cc_vc *cc_vc_new(cc *c, struct cc_session *s, bool root);
void cc_vc_set_state(cc *c, struct cc_vc *vc, enum cc_vc_state state);
void cc_vc_free(cc *c, struct cc_vc *vc);
void cc_vc_orphan_wire(cc *c, struct cc_vc *vc);

/* parties */
bool cc_eps_in_use(enum q_ep_state state);
void cc_party_set_state(cc *c, struct cc_party *p, enum q_ep_state state);
void cc_party_relive(struct cc_party *p);
struct cc_party *cc_party_new(cc *c, struct cc_vc *vc, const uint8_t *addr);
void cc_party_attach(cc *c, struct cc_party *p, struct cc_leg *leg, uint16_t epref);
void cc_party_detach_leg(cc *c, struct cc_party *p, struct cc_actions *out);
void cc_party_unlink_vc(cc *c, struct cc_party *p);
void cc_party_free(cc *c, struct cc_party *p, struct cc_actions *out);

/* legs and peers */
struct cc_leg *cc_leg_new(cc *c, struct cc_peer *peer, uint32_t cref, bool orig, struct cc_vc *vc);
void cc_leg_set_state(cc *c, struct cc_leg *leg, enum cc_call_state state);
void cc_leg_stop_timers(cc *c, struct cc_leg *leg, struct cc_actions *out);
void cc_leg_free(cc *c, struct cc_leg *leg, struct cc_actions *out);
void cc_leg_unusable(cc *c, struct cc_leg *leg);
uint16_t cc_leg_alloc_epref(cc *c, struct cc_leg *leg);
void cc_peer_check_t309(cc *c, struct cc_peer *peer, struct cc_actions *out);

/* addresses */
void cc_own_aesa(const cc *c, uint8_t sel, uint8_t out[Q_AESA_LEN]);
struct cc_mac cc_aesa_esi(const uint8_t *aesa);
bool cc_mac_eq(struct cc_mac a, struct cc_mac b);

#endif
