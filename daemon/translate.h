/* SPDX-License-Identifier: MIT */
/*
 * The client protocol (proto/callmgr.proto) in call control's terms and
 * back: a ClientMsg becomes a struct cc_request, a cc_client_event becomes
 * the DaemonMsg for its session.  No I/O: daemon.c sends what comes out.
 */
#ifndef CALLMGR_DAEMON_TRANSLATE_H
#define CALLMGR_DAEMON_TRANSLATE_H

#include <stdint.h>

#include "callmgr.pb-c.h"
#include "cc/cc.h"

/* What translate_request() made of a ClientMsg (or a negative CM_E_*). */
enum translate_kind {
	TR_CC = 0,   /* *out is a request for call control */
	TR_VIEW = 1, /* an admin read: admin_answer() answers it */
};

/*
 * A client's request in call control's terms.  Returns TR_CC with *out
 * filled (its data borrows from m), TR_VIEW, CM_E_INVAL for a malformed
 * request (the answer is an Error "malformed request"), or CM_E_PROTO for
 * a body this daemon does not know (a newer client's).
 */
int translate_request(const Callmgr__ClientMsg *m, uint64_t session, struct cc_request *out);

/* One translated client event; .m points into the rest, so keep it whole. */
struct translate_msg {
	Callmgr__DaemonMsg m;
	Callmgr__Completion c;
	Callmgr__Error err;
	Callmgr__IncomingDropParty idp;
	Callmgr__IncomingCloseCall icc;
	Callmgr__IncomingCall ic;
	Callmgr__CallParams cp;
	Callmgr__CallConnected conn;
	char text[96];
};

/*
 * The DaemonMsg for ce's session in *out (pointing into ce for data and
 * caller); returns the event's name for the log and the monitor stream
 * ("make-call-complete", "incoming-call", ...), or NULL for a kind this
 * daemon does not know (nothing to send).  CC_CEV_REFUSED becomes an Error.
 */
const char *translate_client_event(const struct cc_client_event *ce, struct translate_msg *out);

/* One monitor-stream event; kind, peer (6 octets or NULL) and text are borrowed. */
void translate_monitor(Callmgr__MonitorEvent *m, uint64_t time_ms, const char *kind,
		       uint64_t session, uint64_t vc, uint64_t party, int status, int cause,
		       const uint8_t *peer, const char *text);

#endif
