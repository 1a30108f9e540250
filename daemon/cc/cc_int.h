/* SPDX-License-Identifier: MIT */
/*
 * The call control machines, the middle layer of cc: call.c (the Q.2931
 * leg machine) and party.c (the Q.2971 party machine).  They sit on the
 * store (store.h) and are driven by the dispatch (cc.c).  The two are one
 * layer and call each other: Q.2971 party messages ride on a Q.2931 call,
 * so a leg hands them to its parties, and a leg's clearing ends every
 * party on it while a party's drop may release its leg.  The lifetime
 * rule of store.h holds across every function here.
 */
#ifndef CALLMGR_CC_INT_H
#define CALLMGR_CC_INT_H

#include "store.h"

/* queue.c */
void cc_queue_free(cc *c);
bool cc_refuse(cc *c, const struct cc_request *r, struct cc_actions *out);
void cc_ask_link(cc *c, struct cc_mac peer, struct cc_actions *out);

/* call.c */
void cc_send_cause(cc *c, struct cc_mac to, const struct q_msg *in, uint8_t type, uint8_t cause,
		   struct cc_actions *out);
void cc_send_status(cc *c, struct cc_mac to, const struct q_msg *in, const struct cc_leg *leg,
		    uint8_t cause, struct cc_actions *out);
/* STATUS on the global call reference (restart), call state Rest0 */
void cc_send_global_status(cc *c, struct cc_peer *peer, const struct q_msg *in, uint8_t cause,
			   struct cc_actions *out);
void cc_leg_dispatch(cc *c, struct cc_leg *leg, const struct q_msg *m, struct cc_actions *out);
void cc_call_unknown_cref(cc *c, struct cc_peer *peer, const struct q_msg *m,
			  struct cc_actions *out);
void cc_leg_abort(cc *c, struct cc_leg *leg, uint8_t cause, int status, struct cc_actions *out);
void cc_msg_init(struct q_msg *m, const struct cc_leg *leg, uint8_t type);
void cc_send_msg(cc *c, struct cc_mac to, const struct q_msg *m, struct cc_actions *out);
void cc_leg_send_setup(cc *c, struct cc_leg *leg, struct cc_party *p, struct cc_actions *out);
void cc_leg_release(cc *c, struct cc_leg *leg, uint8_t cause, const struct q_ie_uu *uu,
		    struct cc_actions *out);
void cc_leg_cleared(cc *c, struct cc_leg *leg, int status, int cause, const struct q_ie_uu *uu,
		    struct cc_actions *out);
void cc_leg_party_msg_or_release(cc *c, struct cc_leg *leg, struct q_msg *m, uint8_t cause,
				 struct cc_actions *out);
void cc_call_timer(cc *c, const struct cc_timer_key *k, struct cc_actions *out);
void cc_call_link_up(cc *c, struct cc_mac mac, struct cc_actions *out);
void cc_call_unreachable(cc *c, struct cc_mac mac, struct cc_actions *out);
void cc_call_link_down(cc *c, struct cc_mac mac, struct cc_actions *out);

/* rx.c: messages received, and the decoder's findings on them */
void cc_call_message(cc *c, const struct cc_event *ev, struct cc_actions *out);
/*
 * What the current message's sender is owed when it is not compatible with
 * the state (Q.2931 §5.7.1, the message's action indicator): false to stay
 * silent; else *clear says whether to clear the call rather than send
 * STATUS 101.
 */
bool cc_rx_incompatible_report(const cc *c, bool *clear);
/* The diagnostic of a cause 96/99/100 answer: the identifiers of the IEs concerned. */
void cc_rx_diagnostic(const cc *c, struct q_ie_cause *cause);
/* A SETUP from the peer that our restart held back, handled as if it arrived now
 * (rx_dec says what the decoder found). */
void cc_rx_setup(cc *c, struct cc_peer *peer, const struct q_msg *m, struct cc_actions *out);

/* restart.c */
bool cc_peer_ready(const cc *c, const struct cc_peer *peer);
void cc_restart_link_up(cc *c, struct cc_peer *peer, struct cc_actions *out);
void cc_restart_link_down(cc *c, struct cc_peer *peer, struct cc_actions *out);
/* leg's SETUP waits for our RESTART to be acknowledged */
void cc_restart_hold(cc *c, struct cc_leg *leg, struct cc_actions *out);
/* A SETUP from the peer while our restart waits: kept until it is acknowledged. */
void cc_restart_defer(cc *c, struct cc_peer *peer, const struct q_msg *m, struct cc_actions *out);
void cc_restart_ack(cc *c, struct cc_peer *peer, const struct q_msg *m, struct cc_actions *out);
void cc_restart_t316(cc *c, struct cc_peer *peer, struct cc_actions *out);
void cc_restart_received(cc *c, struct cc_peer *peer, const struct q_msg *m,
			 struct cc_actions *out);

/* party.c */
void cc_party_send_add(cc *c, struct cc_party *p, struct cc_actions *out);
void cc_party_released(cc *c, struct cc_party *p, struct cc_actions *out);
void cc_party_gone(cc *c, struct cc_party *p, int status, int cause, const struct q_ie_uu *uu,
		   struct cc_actions *out);
void cc_party_drop_request(cc *c, struct cc_party *p, uint8_t cause, const struct q_ie_uu *uu,
			   struct cc_actions *out);
void cc_party_message(cc *c, struct cc_party *p, const struct q_msg *m, struct cc_actions *out);
void cc_party_timer(cc *c, struct cc_party *p, enum cc_timer_kind kind, struct cc_actions *out);
void cc_party_status_reply(cc *c, struct cc_leg *leg, struct cc_party *p, uint8_t cause,
			   struct cc_actions *out);
void cc_vc_after_change(cc *c, struct cc_vc *vc, int cause, struct cc_actions *out);
void cc_emit_incoming_close(cc *c, struct cc_vc *vc, int cause, const struct q_ie_uu *uu,
			    struct cc_actions *out);

#endif
