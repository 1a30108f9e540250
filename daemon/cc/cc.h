/* SPDX-License-Identifier: MIT */
/*
 * Call control: VCs, legs and parties with their Q.2931 / Q.2971 state
 * machines, and the CoNDIS rules of SPEC §1 and §4.
 *
 * Pure: no sockets, no libevent, no clock.  The daemon feeds events with
 * cc_handle() and carries out the actions appended to a struct cc_actions:
 * messages to send to a peer, events for client sessions, timers to start
 * or stop.  A timer that expires comes back as a CC_EV_TIMER event with the
 * key given in CC_ACT_TIMER_START.  Messages sent to this node's own MAC
 * (a local leg) go round call control's own queue when events are fed with
 * cc_feed(); with the raw cc_handle() they are the caller's to feed back.
 *
 * Out of memory, the one policy of the daemon (docs/architecture.md): no
 * path may lose a message, a timer or a state change because an allocation
 * failed.  Where call control allocates in the middle of a procedure (its
 * objects, the actions list, a kept SETUP or drop data) a failure is fatal:
 * log_oom() logs it at LOG_CRIT and exits with CM_EXIT_NOMEM, systemd
 * restarts the daemon and the peers recover the calls as after any crash.
 * What reports the failure instead (cc_feed(), cc_enqueue() here;
 * timers_start(), link_send() in the glue) leaves the decision to its
 * caller, and the daemon's caller makes the same one: log_oom().  Only a
 * request refused before anything changed may be answered CM_E_NOMEM.
 */
#ifndef CALLMGR_CC_H
#define CALLMGR_CC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callmgr/client.h"
#include "sig/q2931.h"

typedef struct cc cc;

struct cc_mac {
	uint8_t a[6];
};

enum cc_timer_kind {
	CC_T303 = 1, /* SETUP sent (leg) */
	CC_T308,     /* RELEASE sent (leg) */
	CC_T309,     /* link down (peer; obj = cc_mac_key(peer)) */
	CC_T310,     /* CALL PROCEEDING received (leg) */
	CC_T313,     /* CONNECT sent, leaf side (leg) */
	CC_T322,     /* STATUS ENQUIRY sent (leg) */
	CC_T397,     /* PARTY ALERTING received (party) */
	CC_T398,     /* DROP PARTY sent (party) */
	CC_T399,     /* ADD PARTY sent (party) */
	CC_TACCEPT,  /* leaf: call offered to the client, awaiting accept/reject (party); t310_ms */
	CC_T316,     /* our RESTART sent, awaiting RESTART ACKNOWLEDGE (peer; obj = cc_mac_key(peer)) */
};

struct cc_timer_key {
	uint8_t kind;  /* enum cc_timer_kind */
	uint64_t obj;  /* leg id, party id, or cc_mac_key() for T309 and T316 */
};

/* Timer durations (ms), retry counts and per-session limits. */
struct cc_config {
	uint32_t t303_ms, t308_ms, t309_ms, t310_ms, t313_ms, t316_ms, t322_ms;
	uint32_t t397_ms, t398_ms, t399_ms;
	uint8_t n303, n308, n316, n322; /* sends before giving up (standard: 2) */
	uint32_t max_vcs_per_session;
	uint32_t max_parties_per_vc;
	uint32_t max_pending_per_session;
	/* incoming calls offered to one session and not yet answered; past
	 * it a SETUP or ADD PARTY for its SAPs is refused with cause 41 */
	uint32_t max_incoming_per_session;
	/* one local user (uid) across its sessions: VCs it owns, requests
	 * waiting; over them MakeCall/AddParty get CM_E_LIMIT and incoming
	 * calls for its SAPs cause 47 */
	uint32_t max_vcs_per_user;
	uint32_t max_pending_per_user;
	/* call control's state for everyone (cc_state_bytes), MiB; over it
	 * the same refusals.  0: none */
	uint32_t max_memory_mib;
	/* selectors one user (other than root) may hold at once; over it
	 * RegisterSap completes CM_E_LIMIT.  0: no bound */
	uint32_t max_saps_per_user;
	uint8_t prefix[13];           /* this node's AESA prefix */
	struct cc_mac esi;            /* this node's MAC: parties with it are local */
	/*
	 * Whether signalling may go to this peer MAC at all (wire mode's
	 * allowed_peers); NULL: every peer.  MakeCall and AddParty to a peer it
	 * refuses are answered CC_CEV_REFUSED with CM_E_UNREACHABLE at once,
	 * rather than after T303 runs out.  Never asked about esi.  Kept, like
	 * the identity, across cc_reconfigure().
	 */
	bool (*peer_allowed)(void *ctx, const uint8_t mac[6]);
	void *peer_allowed_ctx;
	/*
	 * Whether the link to this peer MAC holds back as much as it should
	 * (wire mode: link_busy(), the backlog behind SSCOP's queue at its
	 * bound); NULL: never.  MakeCall and AddParty to a busy peer are
	 * answered CC_CEV_REFUSED with CM_E_BUSY at once, before any state
	 * changes; everything else (answers, drops, releases) still goes out,
	 * so teardown always proceeds.  Kept across cc_reconfigure().
	 */
	bool (*peer_busy)(void *ctx, const uint8_t mac[6]);
	void *peer_busy_ctx;
	/*
	 * Whether the session may register this selector (the daemon's
	 * sap_ranges, by uid and groups); NULL: any.  A refused RegisterSap
	 * completes CM_E_PERM.  Kept across cc_reconfigure().
	 */
	bool (*sap_allowed)(void *ctx, uint64_t session, uint8_t selector);
	void *sap_allowed_ctx;
};

/* Fills in the standard defaults (SPEC §3, reference §3.5). */
void cc_config_defaults(struct cc_config *cfg);

enum cc_req_type {
	CC_REQ_REGISTER_SAP = 1,
	CC_REQ_MAKE_CALL,
	CC_REQ_ADD_PARTY,
	CC_REQ_DROP_PARTY,
	CC_REQ_CLOSE_CALL,
	CC_REQ_ACCEPT_CALL,  /* completes at once; call_connected or incoming_close follows */
	CC_REQ_REJECT_CALL,  /* completes at once */
	CC_REQ_ADMIN_DROP,   /* operator: drop a party of anyone's VC */
	CC_REQ_ADMIN_CLOSE,  /* operator: close anyone's VC */
	CC_REQ_DEREGISTER_SAP, /* give a selector back; completes at once */
};

/* A client request.  Data is only borrowed for the duration of cc_handle(). */
struct cc_request {
	uint8_t type;              /* enum cc_req_type */
	uint64_t session;          /* who asks; completions go back to it */
	uint64_t req_id;           /* echoed in the completion */
	cm_vc_id vc;
	/*
	 * The party named; with ADD_PARTY the id the client chose for the new
	 * party from its session's space (cmc_party_id_base()), 0 to let call
	 * control number it.
	 */
	cm_party_id party;
	uint8_t selector;          /* REGISTER_SAP, DEREGISTER_SAP */
	uint8_t addr[Q_AESA_LEN];  /* MAKE_CALL, ADD_PARTY */
	struct cm_call_params params;
	const uint8_t *data;       /* DROP_PARTY, CLOSE_CALL; len may exceed 128 */
	size_t data_len;
	unsigned flags;            /* CLOSE_CALL: CM_CLOSE_FORCE */
	int cause;                 /* REJECT_CALL */
	uint32_t uid;              /* the asker's (SO_PEERCRED): its user's budgets */
};

enum cc_event_type {
	CC_EV_REQUEST = 1,    /* .req */
	CC_EV_SESSION_CLOSED, /* .session: tear its VCs down with cause 31 */
	CC_EV_MESSAGE,        /* .msg received from .peer */
	CC_EV_TIMER,          /* .timer expired */
	CC_EV_LINK_UP,        /* .peer's SSCOP association is established */
	CC_EV_LINK_DOWN,      /* .peer's association failed or was released */
	CC_EV_SHUTDOWN,       /* release every call (SIGTERM); from then on only
			       * CloseCall, DropParty, RejectCall and DeregisterSap are taken,
			       * anything else is CC_CEV_REFUSED with CM_E_STATE */
	/*
	 * The link refused a message to .peer for a reason that holds for
	 * every message to it (not allowed, no room in its peer table, no
	 * association to send on): every call in set-up or clearing toward
	 * .peer is cleared at once, CM_E_UNREACHABLE with cause 27, instead
	 * of waiting for T303 (8 s) with SETUPs nobody carries.  Active calls
	 * are the link's failure detection and T309's.  Queued with
	 * cc_enqueue() by the glue, since the refusal comes from inside the
	 * actions of an event.
	 */
	CC_EV_UNREACHABLE,
};

struct cc_event {
	uint8_t type; /* enum cc_event_type */
	uint64_t session;
	struct cc_request req;
	struct cc_mac peer;
	const struct q_msg *msg;
	/*
	 * With CC_EV_MESSAGE: what the decoder found (its Q.2931 §5.6/§5.7
	 * verdict and each offending IE with its action indicator), or NULL
	 * for a message that decoded cleanly.  msg holds the header and every
	 * IE that decoded; offending IEs are left out of it.  Call control
	 * answers by Q.2931 §5.6/§5.7 and Q.2971 §9 (docs/state-machines.md,
	 * "Decoder errors").  Borrowed for the duration of cc_handle(), like msg.
	 */
	const struct q_decode_status *dec;
	struct cc_timer_key timer;
};

enum cc_client_event_type {
	CC_CEV_REGISTER_SAP_COMPLETE = 1,
	CC_CEV_MAKE_CALL_COMPLETE,
	CC_CEV_ADD_PARTY_COMPLETE,
	CC_CEV_DROP_PARTY_COMPLETE,
	CC_CEV_CLOSE_CALL_COMPLETE,
	CC_CEV_INCOMING_DROP_PARTY,
	CC_CEV_INCOMING_CLOSE_CALL,
	CC_CEV_INCOMING_CALL,
	CC_CEV_CALL_CONNECTED,
	CC_CEV_ADMIN_DROP_COMPLETE,  /* completion of CC_REQ_ADMIN_DROP */
	CC_CEV_ADMIN_CLOSE_COMPLETE, /* completion of CC_REQ_ADMIN_CLOSE */
	/*
	 * A request refused before it reached a state machine: .status is
	 * CM_E_STATE (shutting down) or CM_E_UNREACHABLE (.caller holds the
	 * address asked for).  Ends the request like a completion; the daemon
	 * sends it as an Error, not a Completion.
	 */
	CC_CEV_REFUSED,
	CC_CEV_DEREGISTER_SAP_COMPLETE,
	CC_CEV_ACCEPT_CALL_COMPLETE,
	CC_CEV_REJECT_CALL_COMPLETE,
};

/* Whether a client event of this type ends a request (a completion or a refusal). */
static inline bool cc_cev_ends_request(uint8_t type)
{
	return (type >= CC_CEV_REGISTER_SAP_COMPLETE && type <= CC_CEV_CLOSE_CALL_COMPLETE) ||
	       type == CC_CEV_ADMIN_DROP_COMPLETE || type == CC_CEV_ADMIN_CLOSE_COMPLETE ||
	       type == CC_CEV_REFUSED || type == CC_CEV_DEREGISTER_SAP_COMPLETE ||
	       type == CC_CEV_ACCEPT_CALL_COMPLETE || type == CC_CEV_REJECT_CALL_COMPLETE;
}

struct cc_client_event {
	uint8_t type;               /* enum cc_client_event_type */
	uint64_t session;
	uint64_t req_id;            /* completions only */
	int status;                 /* CM_OK or CM_E_* (completions) */
	int cause;                  /* Q.2931 cause, 0 when none */
	cm_vc_id vc;
	cm_party_id party;
	uint8_t selector;
	uint8_t caller[Q_AESA_LEN]; /* INCOMING_CALL; the address refused (REFUSED) */
	struct cm_call_params params;
	uint8_t data_len;
	uint8_t data[Q_UU_MAX];
};

enum cc_action_type {
	CC_ACT_SEND = 1,      /* .msg to .peer */
	CC_ACT_CLIENT_EVENT,  /* .cev */
	CC_ACT_TIMER_START,   /* .timer for .ms (restarts it if running) */
	CC_ACT_TIMER_STOP,    /* .timer */
	/*
	 * Ask the link to set up .peer's association again: the link went down
	 * while active calls to it survive under T309 (Q.2931 §5.6.10).  A
	 * failed attempt comes back as CC_EV_LINK_DOWN and asks anew, until the
	 * link returns or T309 clears the calls.
	 */
	CC_ACT_LINK_ESTABLISH,
};

struct cc_action {
	uint8_t type; /* enum cc_action_type */
	struct cc_mac peer;
	struct q_msg msg;
	struct cc_client_event cev;
	struct cc_timer_key timer;
	uint32_t ms;
};

/* A growable list of actions, owned by the caller and reused across calls. */
struct cc_actions {
	struct cc_action *v;
	size_t n, cap;
};
void cc_actions_init(struct cc_actions *a);
void cc_actions_clear(struct cc_actions *a); /* n = 0, keeps the memory */
void cc_actions_free(struct cc_actions *a);

cc *cc_new(const struct cc_config *cfg);
void cc_free(cc *c);
/* Replace timers and limits (SIGHUP); identity (prefix, esi) is kept. */
void cc_reconfigure(cc *c, const struct cc_config *cfg);

/*
 * Feed one event, raw: appends the resulting actions to *out.  Messages to
 * this node's own MAC are left to the caller (tests that hold one back use
 * this); everyone else uses cc_feed().
 */
void cc_handle(cc *c, const struct cc_event *ev, struct cc_actions *out);

/*
 * Feed one event through call control's queue (daemon/cc/queue.c): ev is
 * handled at once, or with ev NULL the oldest queued event is.  Every
 * message the resulting actions send to this node's own MAC (a local leg)
 * is queued behind what is queued already, so a call between two local
 * clients ping-pongs through the queue, never through recursion.  Actions
 * are appended to *out; the SENDs to the own MAC among them are only for
 * the record, the caller must not deliver them.
 *
 * The caller carries out *out, then calls cc_feed(c, NULL, out) while
 * cc_queued() is not 0, one event at a time, so that what each event asks
 * for is done before the next one is handled.
 *
 * Returns CM_OK, or CM_E_NOMEM when a local message could not be queued:
 * that message is lost, and by the policy above the caller ends the
 * daemon (the daemon does: log_oom()).  Everything else still happened.
 */
int cc_feed(cc *c, const struct cc_event *ev, struct cc_actions *out);

/*
 * Queue an event that arrives while the caller is still carrying out
 * actions (re-entrancy: the link reports a state change from inside a
 * send).  It is handled, in order, by a later cc_feed(c, NULL, ...).  The
 * message and request data are copied.  Returns CM_OK, or CM_E_NOMEM: the
 * event was not queued, and by the policy above the caller ends the daemon.
 */
int cc_enqueue(cc *c, const struct cc_event *ev);

/* Events waiting in the queue. */
size_t cc_queued(const cc *c);

/*
 * The invariants of issue #3, checked over the whole state: returns NULL when
 * they hold, else a static text naming the first one broken.  Tests run it
 * after every event; the fuzzer too.
 */
const char *cc_check_invariants(const cc *c);

/*
 * Steps taken so far: list nodes visited and hash-chain probes, not time.
 * The perf-guard tests use it to show that the cost of one operation does
 * not grow with the number of parties or VCs (rehashing on growth is
 * amortised and not counted).
 */
uint64_t cc_work(const cc *c);

static inline uint64_t cc_mac_key(struct cc_mac m)
{
	uint64_t k = 0;
	for (int i = 0; i < 6; i++)
		k = (k << 8) | m.a[i];
	return k;
}

/* ---- read-only views for cmctl (admin requests) ---- */

enum cc_vc_state {
	CC_VC_NULL = 0,
	CC_VC_CALLING,    /* MakeCall pending (root) / incoming call offered (leaf) */
	CC_VC_ACTIVE,
	CC_VC_CLOSING,    /* CloseCall (or forced close) in progress */
	CC_VC_CLOSE_RECEIVED, /* remote released; waiting for the owner's CloseCall */
};

struct cc_vc_info {
	cm_vc_id vc;
	uint64_t session;
	uint32_t uid;         /* the owner's, from its session's first request; UINT32_MAX unknown */
	bool root;            /* made by its owner (true) or offered to a SAP (false) */
	uint8_t state;        /* enum cc_vc_state */
	uint32_t n_parties;
	uint32_t n_legs;
	uint32_t max_sdu;     /* the call's AAL5 maximum SDU, octets */
};

struct cc_party_info {
	cm_party_id party;
	uint8_t state;        /* enum q_ep_state */
	uint8_t addr[Q_AESA_LEN];
	struct cc_mac peer;   /* the leg's peer (own MAC for a local leg) */
	uint32_t cref;
	uint16_t epref;
	uint8_t call_state;   /* the leg's Q.2931 call state code */
	uint8_t timer;        /* enum cc_timer_kind running for the party or leg, 0 none */
};

struct cc_stats {
	uint64_t vcs, parties, legs, saps;
	uint64_t peers; /* peer objects: MACs with a leg, a T309 or a link up */
	uint64_t calls_made, calls_failed, parties_added, parties_dropped;
	uint64_t msgs_in, msgs_out, msgs_bad, timer_expiries;
	uint64_t incoming_refused; /* max_incoming_per_session reached: cause 41 */
	uint64_t budget_refused;   /* per-user or max_memory budget: CM_E_LIMIT or cause 47 */
	uint64_t state_bytes;      /* cc_state_bytes() now */
	uint64_t users;            /* uids with a session */
};

/* Up to max VCs with id > after, in increasing id order; returns the count. */
size_t cc_vc_list(const cc *c, cm_vc_id after, struct cc_vc_info *out, size_t max);
/*
 * The read policy's list: VCs with id > after owned by uid, in increasing
 * id order, up to max, looking at no more than scan VCs (O(scan) whatever
 * the others hold).  *next is where the next page starts (after = *next):
 * the last VC looked at, 0 when the list was read to its end.
 */
size_t cc_vc_list_owned(const cc *c, cm_vc_id after, uint32_t uid, struct cc_vc_info *out,
			size_t max, size_t scan, cm_vc_id *next);
/* CM_OK or CM_E_NO_VC. */
int cc_vc_get(const cc *c, cm_vc_id vc, struct cc_vc_info *out);
/* Up to max parties of vc with id > after, in increasing id order. */
size_t cc_party_list(const cc *c, cm_vc_id vc, cm_party_id after,
		     struct cc_party_info *out, size_t max);
void cc_get_stats(const cc *c, struct cc_stats *out);
/* Call control's state in octets, estimated from its object counts. */
uint64_t cc_state_bytes(const cc *c);

/*
 * The data path's membership (docs/data-path.md): who receives an SDU the
 * root of vc sends now.  One entry per party of the root VC vc that is
 * active (Q.2971 state 10 on an active leg).  For a party on a local leg
 * (peer is the own MAC) leaf_vc is the leaf's VC on this node when the
 * leaf's side of the party is active too, else 0.  Returns how many were
 * written (at most max); 0 when vc is unknown or not a root VC.
 */
struct cc_receiver {
	cm_party_id party;    /* the root's party */
	struct cc_mac peer;   /* the leg's peer (own MAC: a local leg) */
	uint64_t leg;         /* the root's leg id */
	uint16_t vpci, vci;   /* the leg's connection identifier; vci 0: not known */
	bool local;           /* a local leg: no wire */
	cm_vc_id leaf_vc;     /* local legs only, see above */
};
size_t cc_vc_receivers(const cc *c, cm_vc_id vc, struct cc_receiver *out, size_t max);
/* Whether vc is a leaf VC whose party is active: its descriptor may receive. */
bool cc_vc_leaf_active(const cc *c, cm_vc_id vc);

/*
 * The receiving side of a data frame from peer labelled vci (the leaf leg
 * this node allocated vci to): the leaf VCs on it whose party is active,
 * up to max into out.  *leg is the leg's id, 0 when no leaf leg has that
 * label (a stale or forged one); *max_sdu the call's (0 when unknown).
 */
/* Whether the leg with this id still exists. */
bool cc_leg_alive(const cc *c, uint64_t leg);
size_t cc_connid_receivers(const cc *c, struct cc_mac peer, uint16_t vci, uint64_t *leg,
			   uint32_t *max_sdu, cm_vc_id *out, size_t max);

#endif
