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
 *    result: the id says it all.  (A party's id may also come from its
 *    session's own space, cmc_party_id_base(); call control takes each of
 *    those once, in increasing order, so they are never reused either.)
 *
 * Sessions are not deferred: a session is freed only by
 * cc_session_maybe_free() once nothing refers to it.  A peer is freed by
 * cc_store_reap() at the end of an event once it holds nothing (no leg,
 * no T309, its link not up), so pointers to it also stay valid for the
 * whole event; a later event makes a fresh one (which sends RESTART again
 * on the next association, harmless with no call to clear).
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

/* A SETUP from a peer whose restart is not acknowledged, with what the decoder found. */
struct cc_deferred {
	struct cc_deferred *next;
	struct q_msg msg;
	bool has_dec;
	struct q_decode_status dec;
};
#define CC_MAX_DEFERRED 16 /* per peer; more are refused with cause 41 */

enum cc_restart_state {
	CC_RST_NONE = 0, /* not sent yet: it goes first, at the first message or link up */
	CC_RST_WAIT,     /* sent, T316 running */
	CC_RST_DONE,     /* acknowledged: calls may use the link */
	CC_RST_FAILED,   /* n316 sends unanswered: out of service until the link is set up anew */
};

struct cc_peer {
	struct hnode node;
	struct cc_mac mac;
	uint32_t next_cref;
	uint16_t next_vci; /* leaf side: where the next identifier search starts */
	bool seen_up, up;
	/*
	 * Our RESTART (Q.2931 §5.5.1): until the peer acknowledges it, no call
	 * goes out to the peer or is taken from it; SETUPs wait on their legs
	 * (held).  T316 guards the wait.
	 */
	enum cc_restart_state restart;
	uint8_t restart_sends; /* RESTARTs sent in this attempt (n316 bounds them) */
	/* SETUPs from the peer taken in while it does (restart.c), oldest first */
	struct cc_deferred *deferred;
	uint8_t n_deferred;
	uint16_t timers; /* T309, T316 */
	uint32_t n_active; /* legs in U10 */
	struct cc_leg *l_head, *l_tail;
	uint32_t n_legs;
	struct cc_peer *idle_next; /* on cc's idle list: may be unused now */
	bool idle_listed;
};

struct cc_leg {
	struct hnode key_node; /* (mac, cref << 1 | orig) */
	struct hnode id_node;
	struct hnode vcpeer_node; /* (vc id, mac): the VC's usable leg to that peer */
	bool in_vcpeer;
	/*
	 * The connection identifier (Q.2931 IE 0x5A) that labels the leg's
	 * data frames: allocated by the leaf side (the side that receives the
	 * SETUP) and sent in its CONNECT; learnt from it by the root.  0: none.
	 * Leaf legs are found by (peer MAC, vci) in cc->connids.
	 */
	struct hnode conn_node;
	bool in_connids;
	uint16_t vpci, vci;
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
	bool held;	     /* setup not sent yet: our RESTART is not acknowledged */
	/* leaf: the traffic parameters of the SETUP that made the leg, which
	 * every party it carries shares (ADD PARTY carries none but AAL) */
	struct cm_call_params params;
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
	struct cc_vchunk *chunk; /* its chunk of the all list */
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

/*
 * The node's VC list (all_head, in id order) cut into chunks of at most
 * CC_VCHUNK consecutive VCs, found by binary search on the id of each
 * chunk's first VC: a read that starts after any id, live or not, costs
 * O(log n + CC_VCHUNK + page), not a walk of the list (issue 13: ListVcs
 * with after = 2^64-1 used to visit every VC).  Chunks only ever fill at
 * the tail; one whose VCs are all gone is dropped.
 */
#define CC_VCHUNK 64
struct cc_vchunk {
	uint64_t key;       /* id of the first VC it was given; fixed */
	struct cc_vc *head; /* first live one, NULL if none */
	uint32_t n, given;  /* live now; appended ever (<= CC_VCHUNK) */
};

/* What one local user (uid) holds across all its sessions: budgets per user. */
struct cc_user {
	struct hnode node;
	uint32_t uid;
	uint32_t n_sessions; /* freed with the last */
	uint64_t n_vcs, n_pending;
	uint32_t n_saps; /* selectors its sessions hold */
};

struct cc_session {
	struct hnode node;
	struct cc_user *user; /* from its first request; NULL: none made yet */
	uint64_t id;
	bool closed; /* gone; kept while admin completions are owed to it */
	uint32_t n_vcs, n_pending;
	/* the last party id the session chose (AddParty); ids only grow, 0 none yet */
	uint64_t last_own_party;
	uint32_t n_offered; /* leaf VCs offered to it and not yet settled (CALLING) */
	struct cc_vc *v_head, *v_tail;
};

struct cc {
	struct cc_config cfg;
	uint64_t next_vc, next_party, next_leg;
	struct htab vcs, parties, eprefs, legs, legs_by_id, vcpeer, peers, sessions, users;
	struct htab connids; /* (peer MAC, vci) -> leaf leg */
	struct cc_vc *all_head, *all_tail;
	struct cc_vchunk **chunks; /* in key order */
	size_t n_chunks, cap_chunks;
	uint64_t sap_owner[256]; /* session + 1, 0 = free */
	struct cc_stats st;
	uint64_t work;	 /* list steps taken; tests bound it */
	uint64_t *steps; /* &work: CC_STEP() counts through it */
	/* freed objects, unreachable by any lookup, whose memory is released
	 * when cc_handle() returns (see Lifetimes above) */
	struct cc_party *dead_parties;
	struct cc_leg *dead_legs;
	struct cc_vc *dead_vcs;
	/* peers that may have become unused during this event: freed by
	 * cc_store_reap() if they hold nothing (no leg, no timer, link down) */
	struct cc_peer *idle_peers;
	struct cc_queue *queue; /* queue.c: local legs and re-entrant events */
	bool shutting_down;     /* CC_EV_SHUTDOWN seen: refuse new requests */
	/* the decoder's findings on the message being handled, NULL when clean
	 * or when no message is being handled (rx.c) */
	const struct q_decode_status *rx_dec;
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

/* Free the SETUPs a peer's restart held back, unanswered. */
void cc_peer_drop_deferred(cc *c, struct cc_peer *peer);

/* The MAC a T309 or T316 key names (the inverse of cc_mac_key()). */
static inline struct cc_mac cc_mac_of_key(uint64_t k)
{
	struct cc_mac m;
	for (int i = 0; i < 6; i++)
		m.a[i] = (uint8_t)(k >> (8 * (5 - i)));
	return m;
}

/* store.c: construction */
void cc_store_init(cc *c);
void cc_store_free(cc *c);
/* Release the memory of the objects freed since the last call: the end of cc_handle(). */
void cc_store_reap(cc *c);

/* lookups: NULL when the id or key is unknown */
struct cc_session *cc_session_get(cc *c, uint64_t id);
struct cc_session *cc_session_find(const cc *c, uint64_t id);
void cc_session_maybe_free(cc *c, struct cc_session *s);
/* The session's user, set from the first request's uid. */
void cc_session_set_user(cc *c, struct cc_session *s, uint32_t uid);
/*
 * Whether one more VC (vc true) or party fits the budgets: the session's
 * user's VCs and pending requests, and call control's estimated memory
 * (cc_state_bytes) against max_memory.  s may be NULL (no user budget).
 */
bool cc_budget_full(const cc *c, const struct cc_session *s, bool vc, bool pending);
struct cc_vc *cc_vc_find(const cc *c, uint64_t id);
/* The first VC with an id above after, NULL if none: O(log n + CC_VCHUNK). */
struct cc_vc *cc_vc_after(const cc *c, uint64_t after);
struct cc_party *cc_party_find(const cc *c, uint64_t id);
struct cc_party *cc_party_by_epref(const cc *c, const struct cc_leg *leg, uint16_t epref);
struct cc_leg *cc_leg_find(const cc *c, struct cc_mac mac, uint32_t cref, bool orig);
struct cc_leg *cc_leg_by_id(const cc *c, uint64_t id);
struct cc_leg *cc_vc_leg_to(const cc *c, const struct cc_vc *vc, struct cc_mac mac);
struct cc_peer *cc_peer_get(cc *c, struct cc_mac mac);
struct cc_peer *cc_peer_find(const cc *c, struct cc_mac mac);
/* The peer may hold nothing any more: cc_store_reap() looks at it. */
void cc_peer_maybe_idle(cc *c, struct cc_peer *p);

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
/* A party with an id its session chose (cc_request.party): never one in use or used before. */
struct cc_party *cc_party_new_as(cc *c, struct cc_vc *vc, const uint8_t *addr, uint64_t id);
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
/* Leaf side: give leg a connection identifier (VPCI 0, VCI >= 32); false if none is free. */
bool cc_leg_alloc_connid(cc *c, struct cc_leg *leg);
struct cc_leg *cc_leg_by_connid(const cc *c, struct cc_mac mac, uint16_t vci);
void cc_peer_check_t309(cc *c, struct cc_peer *peer, struct cc_actions *out);

/* addresses */
void cc_own_aesa(const cc *c, uint8_t sel, uint8_t out[Q_AESA_LEN]);
struct cc_mac cc_aesa_esi(const uint8_t *aesa);
bool cc_mac_eq(struct cc_mac a, struct cc_mac b);

#endif
