/* SPDX-License-Identifier: MIT */
/*
 * Test driver for call control: feeds events, records every action, keeps
 * the running timers from the start/stop actions, checks that every
 * request gets exactly one completion, runs cc_check_invariants() after
 * every event, and lets call control's own queue (cc_feed) loop messages
 * to this node's own MAC back in (local legs) until the system is quiescent.
 */
#ifndef CALLMGR_TEST_CC_DRV_H
#define CALLMGR_TEST_CC_DRV_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include "cc/cc.h"

struct drv_timer {
	uint8_t kind;
	uint64_t obj;
	uint32_t ms;
};

struct drv_req {
	uint64_t req_id;
	uint8_t type;
	uint64_t session;
	bool orphaned; /* its session closed before it completed: none owed */
	int completions;
	struct cc_client_event done;
};

struct drv {
	cc *c;
	struct cc_config cfg;
	struct cc_mac me;
	bool loop;	       /* false: feed raw (cc_handle), local messages stay in the log */
	struct cc_action *log; /* actions since drv_clear() */
	size_t nlog, caplog;
	struct drv_timer *tm;
	size_t ntm, captm;
	struct drv_req *req;
	size_t nreq, capreq;
	uint64_t next_req;
	uint64_t events;
	/* called for every client event as it is recorded; may drv_queue() requests */
	void (*on_cev)(struct drv *d, const struct cc_client_event *ev);
	struct cc_request *rq; /* requests queued by on_cev, fed after the current event */
	size_t nrq, caprq;
	size_t check_every; /* run the invariant checker every n events (0/1: always) */
	/*
	 * true (the default): the driver plays each remote peer's link and
	 * restart, so that calls go out as on a live link: a link asked for
	 * (CC_ACT_LINK_ESTABLISH) of a peer whose link never was up comes up,
	 * and our RESTART is acknowledged.  Off for the tests of those.
	 */
	bool auto_peer;
	struct cc_mac *up; /* peers whose link came up once */
	size_t nup, capup;
};

void drv_init(struct drv *d, const struct cc_config *cfg);
void drv_free(struct drv *d);
void drv_clear(struct drv *d);
void drv_feed(struct drv *d, const struct cc_event *ev);

/* requests: return the req_id */
uint64_t drv_register(struct drv *d, uint64_t session, uint8_t sel);
uint64_t drv_make_call(struct drv *d, uint64_t session, const uint8_t *addr);
uint64_t drv_add_party(struct drv *d, uint64_t session, cm_vc_id vc, const uint8_t *addr);
uint64_t drv_drop(struct drv *d, uint64_t session, cm_vc_id vc, cm_party_id p, size_t len);
uint64_t drv_close(struct drv *d, uint64_t session, cm_vc_id vc, cm_party_id p, unsigned flags);
uint64_t drv_request(struct drv *d, struct cc_request *r);
/* A request issued from inside a client callback: fed once the current event is done. */
uint64_t drv_queue(struct drv *d, struct cc_request *r);
uint64_t drv_accept(struct drv *d, uint64_t session, cm_vc_id vc, cm_party_id p);
uint64_t drv_reject(struct drv *d, uint64_t session, cm_vc_id vc, cm_party_id p, int cause);

void drv_msg(struct drv *d, struct cc_mac from, const struct q_msg *m);
/*
 * A message the decoder found fault with: the verdict with its cause, and
 * one offending IE (id 0: none) with its action indicator.
 */
void drv_msg_dec(struct drv *d, struct cc_mac from, const struct q_msg *m, uint8_t verdict,
		 uint8_t cause, uint8_t ie, uint8_t ie_action);
/* ... with the decode status as given */
void drv_msg_status(struct drv *d, struct cc_mac from, const struct q_msg *m,
		    const struct q_decode_status *st);
void drv_link(struct drv *d, struct cc_mac peer, bool up);
void drv_session_closed(struct drv *d, uint64_t session);
void drv_fire(struct drv *d, uint8_t kind, uint64_t obj);
bool drv_running(const struct drv *d, uint8_t kind, uint64_t obj);
/* the obj of the n-th running timer of that kind, 0 if none */
uint64_t drv_timer_obj(const struct drv *d, uint8_t kind, size_t n);
size_t drv_ntimers(const struct drv *d);
/*
 * Drive to quiescence: fire every running timer, then answer for each
 * owner whatever it still owes (CloseCall for a VC in CLOSE_RECEIVED,
 * DropParty for a party in PU6), until nothing is left to do.  Every
 * answer must complete CM_OK.
 */
void drv_quiesce(struct drv *d);
/*
 * Every request ended exactly once: each whose session is still there
 * (accept and reject, which end only when refused, at most once), and at
 * most once those of a session that closed before they completed.
 */
void drv_check_exactly_once(const struct drv *d);

/* completion of a request (NULL if none yet) */
const struct cc_client_event *drv_done(const struct drv *d, uint64_t req_id);
/* n-th SEND of msg type in the log (any peer), NULL if none */
const struct cc_action *drv_sent(const struct drv *d, uint8_t type, size_t n);
size_t drv_nsent(const struct drv *d, uint8_t type);
size_t drv_nsent_to(const struct drv *d, uint8_t type, struct cc_mac to);
const struct cc_client_event *drv_cev(const struct drv *d, uint8_t type, size_t n);
size_t drv_ncev(const struct drv *d, uint8_t type);
size_t drv_ncev_session(const struct drv *d, uint64_t session);

void drv_addr(uint8_t out[20], struct cc_mac esi, uint8_t sel);
struct cc_mac drv_mac(uint8_t last);

#endif
