/* SPDX-License-Identifier: MIT */
/*
 * Call control internals shared by cc.c (objects, requests), call.c (the
 * Q.2931 leg machine), party.c (the Q.2971 party machine) and invariants.c.
 */
#ifndef CALLMGR_CC_INT_H
#define CALLMGR_CC_INT_H

#include "cc/cc.h"

#include <stddef.h>

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

/* Q.2931 call state codes used by the leg machine. */
enum {
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
void ht_init(struct htab *t);
void ht_free(struct htab *t);
void ht_add(struct htab *t, struct hnode *n, uint64_t k1, uint64_t k2);
void ht_del(struct htab *t, struct hnode *n);
struct hnode *ht_find(const struct htab *t, uint64_t k1, uint64_t k2);

/* A request owed a completion.  type 0 = none owed. */
struct cc_ref {
	uint8_t type; /* enum cc_req_type */
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
	uint8_t state;	    /* enum q_ep_state */
	uint16_t timers;    /* bit per running timer kind */
	bool queued;	    /* ADD PARTY waits for the leg's CONNECT */
	bool drop_deferred; /* DROP PARTY waits for the leg's CONNECT */
	bool incoming_sent; /* owner was told it is gone; its DropParty/CloseCall is due */
	bool live_counted;
	uint8_t addr[Q_AESA_LEN];
	struct cc_ref add;  /* MAKE_CALL or ADD_PARTY */
	struct cc_ref drop; /* DROP_PARTY or ADMIN_DROP */
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
	uint8_t state;	  /* U0..U11 */
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
};

struct cc_vc {
	struct hnode id_node;
	uint64_t id;
	uint64_t session;
	bool root;
	bool made_ok;	  /* MakeCall completed with CM_OK */
	uint8_t state;	  /* enum cc_vc_state */
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
	uint64_t work; /* list steps taken; tests bound it */
	struct cc_queue *queue; /* queue.c: local legs and re-entrant events */
	bool shutting_down;     /* CC_EV_SHUTDOWN seen: refuse new requests */
};

/* queue.c */
void cc_queue_free(cc *c);
bool cc_refuse(cc *c, const struct cc_request *r, struct cc_actions *out);
void cc_ask_link(cc *c, struct cc_mac peer, struct cc_actions *out);

/* cc.c */
struct cc_session *session_get(cc *c, uint64_t id);
struct cc_session *session_find(const cc *c, uint64_t id);
struct cc_vc *vc_find(const cc *c, uint64_t id);
struct cc_party *party_find(const cc *c, uint64_t id);
struct cc_party *party_by_epref(const cc *c, const struct cc_leg *leg, uint16_t epref);
struct cc_leg *leg_find(const cc *c, struct cc_mac mac, uint32_t cref, bool orig);
struct cc_leg *leg_by_id(const cc *c, uint64_t id);
struct cc_peer *peer_get(cc *c, struct cc_mac mac);
struct cc_peer *peer_find(const cc *c, struct cc_mac mac);

struct cc_action *act_push(struct cc_actions *out);
void emit_cev(cc *c, const struct cc_client_event *ev, struct cc_actions *out);
void ref_take(cc *c, struct cc_ref *r, const struct cc_request *req);
void ref_complete(cc *c, struct cc_ref *r, int status, int cause, uint64_t vc, uint64_t party,
		  struct cc_actions *out);
void timer_start(cc *c, uint16_t *bits, uint8_t kind, uint64_t obj, uint32_t ms,
		 struct cc_actions *out);
void timer_stop(cc *c, uint16_t *bits, uint8_t kind, uint64_t obj, struct cc_actions *out);

struct cc_vc *vc_new(cc *c, struct cc_session *s, bool root);
void vc_set_state(cc *c, struct cc_vc *vc, uint8_t state);
void vc_free(cc *c, struct cc_vc *vc);
void vc_after_change(cc *c, struct cc_vc *vc, int cause, struct cc_actions *out);
void party_relive(struct cc_party *p);
struct cc_party *party_new(cc *c, struct cc_vc *vc, const uint8_t *addr);
void party_attach(cc *c, struct cc_party *p, struct cc_leg *leg, uint16_t epref);
void party_detach_leg(cc *c, struct cc_party *p, struct cc_actions *out);
void party_unlink_vc(cc *c, struct cc_party *p);
void party_free(cc *c, struct cc_party *p, struct cc_actions *out);
void own_aesa(const cc *c, uint8_t sel, uint8_t out[Q_AESA_LEN]);
struct cc_mac aesa_esi(const uint8_t *aesa);
bool mac_eq(struct cc_mac a, struct cc_mac b);

/* call.c */
struct cc_leg *leg_new(cc *c, struct cc_peer *peer, uint32_t cref, bool orig, struct cc_vc *vc);
void leg_set_state(cc *c, struct cc_leg *leg, uint8_t state);
void leg_free(cc *c, struct cc_leg *leg, struct cc_actions *out);
void leg_unusable(cc *c, struct cc_leg *leg);
uint16_t leg_alloc_epref(cc *c, struct cc_leg *leg);
void msg_init(struct q_msg *m, const struct cc_leg *leg, uint8_t type);
void send_msg(cc *c, struct cc_mac to, const struct q_msg *m, struct cc_actions *out);
void leg_send_setup(cc *c, struct cc_leg *leg, struct cc_party *p, struct cc_actions *out);
void leg_release(cc *c, struct cc_leg *leg, uint8_t cause, const struct q_ie_uu *uu,
		 struct cc_actions *out);
void leg_cleared(cc *c, struct cc_leg *leg, int status, int cause, const struct q_ie_uu *uu,
		 struct cc_actions *out);
void leg_party_msg_or_release(cc *c, struct cc_leg *leg, struct q_msg *m, uint8_t cause,
			      struct cc_actions *out);
void call_message(cc *c, const struct cc_event *ev, struct cc_actions *out);
void call_timer(cc *c, const struct cc_timer_key *k, struct cc_actions *out);
void call_link_up(cc *c, struct cc_mac mac, struct cc_actions *out);
void call_link_down(cc *c, struct cc_mac mac, struct cc_actions *out);
void call_connected_leg(cc *c, struct cc_leg *leg, struct cc_actions *out);

/* party.c */
void party_set_state(cc *c, struct cc_party *p, uint8_t state);
void party_send_add(cc *c, struct cc_party *p, struct cc_actions *out);
void party_released(cc *c, struct cc_party *p, struct cc_actions *out);
void party_gone(cc *c, struct cc_party *p, int status, int cause, const struct q_ie_uu *uu,
		struct cc_actions *out);
void party_drop_request(cc *c, struct cc_party *p, uint8_t cause, const struct q_ie_uu *uu,
			struct cc_actions *out);
void party_message(cc *c, struct cc_party *p, const struct q_msg *m, struct cc_actions *out);
void party_timer(cc *c, struct cc_party *p, uint8_t kind, struct cc_actions *out);
void party_status_reply(cc *c, struct cc_leg *leg, struct cc_party *p, uint8_t cause,
			struct cc_actions *out);
bool eps_in_use(uint8_t state);

#endif
