/* SPDX-License-Identifier: MIT */
/*
 * One table for the names of shared numbers: VC, party and call states and
 * call-control timers.  Each has an English name for people (logs, cmctl's
 * tables) and a stable identifier for programs (cmctl -j), which is the
 * name of the same value in proto/callmgr.proto's enums; tests/daemon
 * checks that the two agree.  Unknown numbers give "unknown".
 */
#ifndef CALLMGR_COMMON_NAMES_H
#define CALLMGR_COMMON_NAMES_H

/* VC states (enum cc_vc_state): "active"; id "VC_ACTIVE". */
const char *cm_vc_state_name(unsigned st);
const char *cm_vc_state_id(unsigned st);

/*
 * Party states by their Q.2971 endpoint-state code (enum q_ep_state):
 * "PU7 Active"; short "PU7"; id "PU7_ACTIVE".
 */
const char *cm_party_state_name(unsigned st);
const char *cm_party_state_short(unsigned st);
const char *cm_party_state_id(unsigned st);

/* Q.2931 call states by their code: "U10 Active"; id "U10_ACTIVE". */
const char *cm_call_state_name(unsigned st);
const char *cm_call_state_id(unsigned st);

/*
 * Call-control timers (enum cc_timer_kind): "T303", "accept", "" for 0
 * (none); id "T303", "TIMER_ACCEPT", "TIMER_NONE".
 */
const char *cm_timer_name(unsigned kind);
const char *cm_timer_id(unsigned kind);

#endif
