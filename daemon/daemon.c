/* SPDX-License-Identifier: MIT */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "callmgr.pb-c.h"
#include "config.h"
#include "ipc/ipc.h"
#include "log.h"
#include "sd.h"

#define VC_PAGE_DEFAULT 1000u
#define VC_PAGE_MAX 2000u
#define PARTY_PAGE_MAX 500u
#define LINK_LIST_MAX 512u

/* A running cc timer: libevent timer keyed by (kind, object). */
struct dtimer {
	struct daemon *d;
	struct cc_timer_key key;
	struct event *ev;
	struct dtimer *next;
};

/*
 * An event waiting its turn: messages to our own MAC (local legs) and
 * anything the link reports while call control is busy.  Owned copies.
 */
struct pending_ev {
	uint8_t type;
	struct cc_mac peer;
	struct q_msg msg;
	uint8_t msg_error, msg_error_ie;
};

/* Admin drop/close in flight: their completion carries no request kind. */
struct admin_req {
	uint64_t session, req_id;
	Callmgr__RequestKind kind;
	struct admin_req *next;
};

struct daemon {
	struct daemon_settings set;
	struct event_base *base;
	cc *cc;
	struct ipc *ipc;
	struct link *link;
	struct cc_mac own;
	struct cc_actions acts;
	struct pending_ev *fifo;
	size_t fifo_head, fifo_n, fifo_cap;
	bool draining;
	struct dtimer **tb;
	size_t ntb, ntimers;
	struct admin_req *admin;
	struct event *sig_term, *sig_int, *sig_hup, *shutdown_tick;
	bool shutting_down;
	uint64_t shutdown_deadline_ms;
	uint64_t start_ms;
	int exit_status;
};

static uint64_t now_ms(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void daemon_settings_defaults(struct daemon_settings *s)
{
	static const uint8_t prefix[13] = DAEMON_DEFAULT_PREFIX;
	memset(s, 0, sizeof(*s));
	s->socket_path = IPC_DEFAULT_SOCKET;
	s->listen_fd = -1;
	memcpy(s->prefix, prefix, sizeof(prefix));
	s->shutdown_ms = 3000;
	cc_config_defaults(&s->cc);
	link_config_defaults(&s->link);
}

/* ---------------------------------------------------------------- names for cmctl */

static const char *vc_state_name(uint8_t st)
{
	switch (st) {
	case CC_VC_NULL: return "null";
	case CC_VC_CALLING: return "calling";
	case CC_VC_ACTIVE: return "active";
	case CC_VC_CLOSING: return "closing";
	case CC_VC_CLOSE_RECEIVED: return "close-received";
	}
	return "unknown";
}

static const char *party_state_name(uint8_t st)
{
	switch (st) {
	case Q_EPS_NULL: return "PU0 Null";
	case Q_EPS_ADD_PARTY_INITIATED: return "PU1 Add Party Initiated";
	case Q_EPS_ADD_PARTY_RECEIVED: return "PU2 Add Party Received";
	case Q_EPS_ALERTING_DELIVERED: return "PU3 Party Alerting Delivered";
	case Q_EPS_ALERTING_RECEIVED: return "PU4 Party Alerting Received";
	case Q_EPS_DROP_PARTY_INITIATED: return "PU5 Drop Party Initiated";
	case Q_EPS_DROP_PARTY_RECEIVED: return "PU6 Drop Party Received";
	case Q_EPS_ACTIVE: return "PU7 Active";
	}
	return "unknown";
}

static const char *call_state_name(uint8_t st)
{
	switch (st) {
	case 0: return "U0 Null";
	case 1: return "U1 Call Initiated";
	case 3: return "U3 Outgoing Call Proceeding";
	case 4: return "U4 Call Delivered";
	case 6: return "U6 Call Present";
	case 7: return "U7 Call Received";
	case 8: return "U8 Connect Request";
	case 9: return "U9 Incoming Call Proceeding";
	case 10: return "U10 Active";
	case 11: return "U11 Release Request";
	case 12: return "U12 Release Indication";
	}
	return "unknown";
}

static const char *timer_name(uint8_t kind)
{
	switch (kind) {
	case 0: return "";
	case CC_T303: return "T303";
	case CC_T308: return "T308";
	case CC_T309: return "T309";
	case CC_T310: return "T310";
	case CC_T313: return "T313";
	case CC_T322: return "T322";
	case CC_T397: return "T397";
	case CC_T398: return "T398";
	case CC_T399: return "T399";
	case CC_TACCEPT: return "accept";
	}
	return "unknown";
}

/* ---------------------------------------------------------------- event feeding */

static void run_actions(struct daemon *d);

static void fifo_push(struct daemon *d, const struct pending_ev *pe)
{
	if (d->fifo_n == d->fifo_cap) {
		size_t ncap = d->fifo_cap ? d->fifo_cap * 2 : 64;
		struct pending_ev *nf = malloc(ncap * sizeof(*nf));
		if (!nf) {
			/* Dropping a message here is what a lossy wire would do; the
			 * protocol timers recover from it. */
			log_err("out of memory: a message to call control is lost");
			return;
		}
		for (size_t i = 0; i < d->fifo_n; i++)
			nf[i] = d->fifo[(d->fifo_head + i) % d->fifo_cap];
		free(d->fifo);
		d->fifo = nf;
		d->fifo_cap = ncap;
		d->fifo_head = 0;
	}
	d->fifo[(d->fifo_head + d->fifo_n) % d->fifo_cap] = *pe;
	d->fifo_n++;
}

static void handle_one(struct daemon *d, const struct cc_event *ev)
{
	cc_actions_clear(&d->acts);
	cc_handle(d->cc, ev, &d->acts);
	run_actions(d);
}

/*
 * The only way into call control.  Local sends queued by the actions are
 * fed back one by one afterwards, in order, in a loop: a call between two
 * local clients ping-pongs through the FIFO, never through recursion.
 */
static void feed(struct daemon *d, const struct cc_event *ev)
{
	if (d->draining) {
		/*
		 * Only the link can re-enter (a state change reported from
		 * inside link_send); requests, timers and session ends come
		 * from their own libevent callbacks, never from inside here.
		 */
		if (ev->type != CC_EV_MESSAGE && ev->type != CC_EV_LINK_UP &&
		    ev->type != CC_EV_LINK_DOWN) {
			log_err("event %u fed to call control from inside call control; dropped",
				ev->type);
			return;
		}
		struct pending_ev pe = { .type = ev->type, .peer = ev->peer,
					 .msg_error = ev->msg_error,
					 .msg_error_ie = ev->msg_error_ie };
		if (ev->msg)
			pe.msg = *ev->msg;
		fifo_push(d, &pe);
		return;
	}
	d->draining = true;
	handle_one(d, ev);
	while (d->fifo_n > 0) {
		struct pending_ev pe = d->fifo[d->fifo_head];
		d->fifo_head = (d->fifo_head + 1) % d->fifo_cap;
		d->fifo_n--;
		struct cc_event e = { .type = pe.type, .peer = pe.peer, .msg = &pe.msg,
				      .msg_error = pe.msg_error, .msg_error_ie = pe.msg_error_ie };
		handle_one(d, &e);
	}
	d->draining = false;
}

/* ---------------------------------------------------------------- timers */

static size_t timer_bucket(const struct daemon *d, struct cc_timer_key k)
{
	uint64_t h = (k.obj ^ ((uint64_t)k.kind << 56)) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 29) & (d->ntb - 1);
}

static struct dtimer **timer_slot(struct daemon *d, struct cc_timer_key k)
{
	struct dtimer **pp = &d->tb[timer_bucket(d, k)];
	while (*pp && ((*pp)->key.kind != k.kind || (*pp)->key.obj != k.obj))
		pp = &(*pp)->next;
	return pp;
}

static void timer_grow(struct daemon *d)
{
	size_t n = d->ntb * 2;
	struct dtimer **nb = calloc(n, sizeof(struct dtimer *));
	if (!nb)
		return; /* longer chains, still correct */
	struct dtimer **old = d->tb;
	size_t oldn = d->ntb;
	d->tb = nb;
	d->ntb = n;
	for (size_t i = 0; i < oldn; i++) {
		for (struct dtimer *t = old[i], *next; t; t = next) {
			next = t->next;
			size_t b = timer_bucket(d, t->key);
			t->next = nb[b];
			nb[b] = t;
		}
	}
	free(old);
}

static void timer_expired(evutil_socket_t fd, short what, void *arg)
{
	struct dtimer *t = arg;
	struct daemon *d = t->d;
	struct cc_event ev = { .type = CC_EV_TIMER, .timer = t->key };
	struct dtimer **pp = timer_slot(d, t->key);
	if (*pp == t)
		*pp = t->next;
	d->ntimers--;
	event_free(t->ev);
	free(t);
	feed(d, &ev);
}

static void timer_start(struct daemon *d, struct cc_timer_key k, uint32_t ms)
{
	struct dtimer **pp = timer_slot(d, k);
	struct dtimer *t = *pp;
	if (!t) {
		if (d->ntimers + 1 > d->ntb * 2) {
			timer_grow(d);
			pp = timer_slot(d, k);
		}
		t = calloc(1, sizeof(*t));
		if (!t || !(t->ev = evtimer_new(d->base, timer_expired, t))) {
			free(t);
			log_err("out of memory: timer %s for %llu not started", timer_name(k.kind),
				(unsigned long long)k.obj);
			return;
		}
		t->d = d;
		t->key = k;
		t->next = NULL;
		*pp = t;
		d->ntimers++;
	}
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(t->ev, &tv);
}

static void timer_stop(struct daemon *d, struct cc_timer_key k)
{
	struct dtimer **pp = timer_slot(d, k);
	struct dtimer *t = *pp;
	if (!t)
		return;
	*pp = t->next;
	d->ntimers--;
	event_free(t->ev);
	free(t);
}

static void timers_free(struct daemon *d)
{
	if (!d->tb)
		return;
	for (size_t i = 0; i < d->ntb; i++) {
		while (d->tb[i]) {
			struct dtimer *t = d->tb[i];
			d->tb[i] = t->next;
			event_free(t->ev);
			free(t);
		}
	}
	free(d->tb);
}

/* ---------------------------------------------------------------- client events */

static Callmgr__RequestKind admin_take(struct daemon *d, uint64_t session, uint64_t req_id)
{
	for (struct admin_req **pp = &d->admin; *pp; pp = &(*pp)->next) {
		struct admin_req *a = *pp;
		if (a->session == session && a->req_id == req_id) {
			Callmgr__RequestKind k = a->kind;
			*pp = a->next;
			free(a);
			return k;
		}
	}
	return CALLMGR__REQUEST_KIND__ADMIN_CLOSE;
}

static void admin_forget_session(struct daemon *d, uint64_t session)
{
	for (struct admin_req **pp = &d->admin; *pp;) {
		struct admin_req *a = *pp;
		if (a->session == session) {
			*pp = a->next;
			free(a);
		} else {
			pp = &a->next;
		}
	}
}

static void monitor(struct daemon *d, const char *kind, uint64_t session, uint64_t vc,
		    uint64_t party, int status, int cause, const uint8_t *peer, const char *text)
{
	Callmgr__MonitorEvent m = CALLMGR__MONITOR_EVENT__INIT;
	m.time_ms = now_ms(CLOCK_REALTIME);
	m.kind = (char *)kind;
	m.session = session;
	m.vc = vc;
	m.party = party;
	m.status = status;
	m.cause = (uint32_t)cause;
	if (peer) {
		m.peer.data = (uint8_t *)peer;
		m.peer.len = 6;
	}
	m.text = (char *)(text ? text : "");
	ipc_monitor(d->ipc, &m);
}

/* Translate one call-control client event into the session's DaemonMsg. */
static void client_event(struct daemon *d, const struct cc_client_event *ce)
{
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__Completion c = CALLMGR__COMPLETION__INIT;
	Callmgr__IncomingDropParty idp = CALLMGR__INCOMING_DROP_PARTY__INIT;
	Callmgr__IncomingCloseCall icc = CALLMGR__INCOMING_CLOSE_CALL__INIT;
	Callmgr__IncomingCall ic = CALLMGR__INCOMING_CALL__INIT;
	Callmgr__CallParams cp = CALLMGR__CALL_PARAMS__INIT;
	Callmgr__CallConnected cc_ = CALLMGR__CALL_CONNECTED__INIT;
	const char *kind = "unknown";
	bool completion = true;

	switch (ce->type) {
	case CC_CEV_REGISTER_SAP_COMPLETE:
		c.kind = CALLMGR__REQUEST_KIND__REGISTER_SAP;
		kind = "register-sap-complete";
		break;
	case CC_CEV_MAKE_CALL_COMPLETE:
		c.kind = CALLMGR__REQUEST_KIND__MAKE_CALL;
		kind = "make-call-complete";
		break;
	case CC_CEV_ADD_PARTY_COMPLETE:
		c.kind = CALLMGR__REQUEST_KIND__ADD_PARTY;
		kind = "add-party-complete";
		break;
	case CC_CEV_DROP_PARTY_COMPLETE:
		c.kind = CALLMGR__REQUEST_KIND__DROP_PARTY;
		kind = "drop-party-complete";
		break;
	case CC_CEV_CLOSE_CALL_COMPLETE:
		c.kind = CALLMGR__REQUEST_KIND__CLOSE_CALL;
		kind = "close-call-complete";
		break;
	case CC_CEV_ADMIN_COMPLETE:
		c.kind = admin_take(d, ce->session, ce->req_id);
		kind = c.kind == CALLMGR__REQUEST_KIND__ADMIN_DROP ? "admin-drop-complete"
								   : "admin-close-complete";
		break;
	case CC_CEV_INCOMING_DROP_PARTY:
		completion = false;
		idp.vc = ce->vc;
		idp.party = ce->party;
		idp.cause = (uint32_t)ce->cause;
		idp.data.data = (uint8_t *)ce->data;
		idp.data.len = ce->data_len;
		m.body_case = CALLMGR__DAEMON_MSG__BODY_INCOMING_DROP_PARTY;
		m.incoming_drop_party = &idp;
		kind = "incoming-drop-party";
		break;
	case CC_CEV_INCOMING_CLOSE_CALL:
		completion = false;
		icc.vc = ce->vc;
		icc.cause = (uint32_t)ce->cause;
		icc.data.data = (uint8_t *)ce->data;
		icc.data.len = ce->data_len;
		m.body_case = CALLMGR__DAEMON_MSG__BODY_INCOMING_CLOSE_CALL;
		m.incoming_close_call = &icc;
		kind = "incoming-close-call";
		break;
	case CC_CEV_INCOMING_CALL:
		completion = false;
		ic.vc = ce->vc;
		ic.party = ce->party;
		ic.caller.data = (uint8_t *)ce->caller;
		ic.caller.len = Q_AESA_LEN;
		cp.peak_kbps = ce->params.peak_kbps;
		cp.max_sdu = ce->params.max_sdu;
		cp.qos_class = ce->params.qos_class;
		ic.params = &cp;
		ic.selector = ce->selector;
		m.body_case = CALLMGR__DAEMON_MSG__BODY_INCOMING_CALL;
		m.incoming_call = &ic;
		kind = "incoming-call";
		break;
	case CC_CEV_CALL_CONNECTED:
		completion = false;
		cc_.vc = ce->vc;
		cc_.party = ce->party;
		m.body_case = CALLMGR__DAEMON_MSG__BODY_CALL_CONNECTED;
		m.call_connected = &cc_;
		kind = "call-connected";
		break;
	default:
		log_err("call control emitted unknown client event %u", ce->type);
		return;
	}
	if (completion) {
		c.req_id = ce->req_id;
		c.status = ce->status;
		c.cause = (uint32_t)ce->cause;
		c.vc = ce->vc;
		c.party = ce->party;
		c.selector = ce->selector;
		m.body_case = CALLMGR__DAEMON_MSG__BODY_COMPLETION;
		m.completion = &c;
		m.req_id = ce->req_id;
	}
	/* A session already gone is being torn down by call control. */
	int sent = ipc_send(d->ipc, ce->session, &m);
	log_at(LOG_DEBUG, ce->vc, ce->party, NULL, "session %llu: %s status %d cause %d%s",
	       (unsigned long long)ce->session, kind, completion ? ce->status : 0, ce->cause,
	       sent < 0 ? " (session gone)" : "");
	monitor(d, kind, ce->session, ce->vc, ce->party, completion ? ce->status : 0, ce->cause,
		NULL, NULL);
}

/* ---------------------------------------------------------------- wire mode */

static void wire_send(struct daemon *d, const struct cc_action *a)
{
	uint8_t buf[1024];
	int n = q_msg_encode(&a->msg, buf, sizeof(buf));
	if (n < 0) {
		log_at(LOG_ERR, 0, 0, a->peer.a, "cannot encode %s (error %d): not sent",
		       q_msg_type_name(a->msg.type), n);
		return;
	}
	int rc = link_send(d->link, a->peer.a, buf, (size_t)n);
	if (rc < 0)
		log_at(LOG_WARNING, 0, 0, a->peer.a, "link refused %s: %s",
		       q_msg_type_name(a->msg.type), strerror(-rc));
}

static void link_deliver(void *ctx, const uint8_t mac[6], const uint8_t *msg, size_t len)
{
	struct daemon *d = ctx;
	struct q_msg m;
	struct q_decode_status st;
	int r = q_msg_decode(msg, len, &m, &st);
	if (r == Q_DEC_DROP) {
		log_at(LOG_INFO, 0, 0, mac, "undecodable message dropped: %s",
		       st.reason ? st.reason : "?");
		return;
	}
	struct cc_event ev = { .type = CC_EV_MESSAGE, .msg = &m };
	memcpy(ev.peer.a, mac, 6);
	if (r != Q_DEC_OK) {
		ev.msg_error = st.cause;
		ev.msg_error_ie = st.ie;
	}
	feed(d, &ev);
}

static void link_state(void *ctx, const uint8_t mac[6], bool up)
{
	struct daemon *d = ctx;
	struct cc_event ev = { .type = up ? CC_EV_LINK_UP : CC_EV_LINK_DOWN };
	memcpy(ev.peer.a, mac, 6);
	log_at(LOG_NOTICE, 0, 0, mac, "link %s", up ? "up" : "down");
	monitor(d, up ? "link-up" : "link-down", 0, 0, 0, 0, 0, mac, NULL);
	feed(d, &ev);
	/* Q.2931 §5.6.10: while T309 keeps active calls, ask for the SAAL
	 * again; a failed attempt ends here once more and tries anew, until
	 * the link returns or T309 clears the calls and stops the timer.
	 * Associations are otherwise made only on demand, so without this an
	 * outage shorter than T309 still cleared every call. */
	struct cc_timer_key t309 = { .kind = CC_T309, .obj = cc_mac_key(ev.peer) };
	if (!up && *timer_slot(d, t309))
		link_establish(d->link, mac);
}

static void run_actions(struct daemon *d)
{
	/* handle_one() reuses d->acts only after this returns. */
	for (size_t i = 0; i < d->acts.n; i++) {
		const struct cc_action *a = &d->acts.v[i];
		switch (a->type) {
		case CC_ACT_SEND:
			if (memcmp(a->peer.a, d->own.a, 6) == 0) {
				struct pending_ev pe = { .type = CC_EV_MESSAGE, .peer = d->own,
							 .msg = a->msg };
				fifo_push(d, &pe);
			} else {
				if (d->link) {
					wire_send(d, a);
					break;
				}
				log_at(LOG_ERR, 0, 0, a->peer.a,
				       "message to a remote peer in local mode: not sent");
			}
			break;
		case CC_ACT_CLIENT_EVENT:
			client_event(d, &a->cev);
			break;
		case CC_ACT_TIMER_START:
			timer_start(d, a->timer, a->ms);
			break;
		case CC_ACT_TIMER_STOP:
			timer_stop(d, a->timer);
			break;
		default:
			log_err("call control emitted unknown action %u", a->type);
			break;
		}
	}
}

/* ---------------------------------------------------------------- admin reads */

static uint32_t session_uid(struct daemon *d, uint64_t session)
{
	struct ipc_session_info si;
	return ipc_session_get(d->ipc, session, &si) == 0 ? (uint32_t)si.uid : UINT32_MAX;
}

static void vc_info_fill(struct daemon *d, Callmgr__VcInfo *o, const struct cc_vc_info *v)
{
	o->vc = v->vc;
	o->session = v->session;
	o->owner_uid = session_uid(d, v->session);
	o->root = v->root;
	o->state = (char *)vc_state_name(v->state);
	o->parties = v->n_parties;
	o->legs = v->n_legs;
}

static void reply(struct daemon *d, uint64_t session, uint64_t req_id, Callmgr__DaemonMsg *m)
{
	m->req_id = req_id;
	ipc_send(d->ipc, session, m);
}

static uint64_t links_up(struct daemon *d)
{
	uint64_t up = 0;
	if (d->link) {
		struct link_peer_info *p = calloc(LINK_LIST_MAX, sizeof(*p));
		size_t n = p ? link_peers(d->link, p, LINK_LIST_MAX) : 0;
		for (size_t i = 0; i < n; i++)
			up += strcmp(p[i].state, "ready") == 0;
		free(p);
	}
	return up;
}

/* systemd's STATUS= line, refreshed by sd.c's timer. */
static void status_text(void *ctx, char *buf, size_t len)
{
	struct daemon *d = ctx;
	struct cc_stats cs;
	struct ipc_stats is;
	cc_get_stats(d->cc, &cs);
	ipc_get_stats(d->ipc, &is);
	snprintf(buf, len, "%llu sessions, %llu VCs, %llu parties, %llu links up",
		 (unsigned long long)is.sessions, (unsigned long long)cs.vcs,
		 (unsigned long long)cs.parties, (unsigned long long)links_up(d));
}

static void answer_status(struct daemon *d, uint64_t session, uint64_t req_id)
{
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__StatusReply r = CALLMGR__STATUS_REPLY__INIT;
	struct cc_stats cs;
	struct ipc_stats is;
	cc_get_stats(d->cc, &cs);
	ipc_get_stats(d->ipc, &is);
	r.daemon_version = (char *)CALLMGR_VERSION;
	r.local_mode = d->link == NULL;
	r.interface = (char *)(d->set.interface ? d->set.interface : "");
	r.prefix.data = d->set.cc.prefix;
	r.prefix.len = 13;
	r.esi.data = d->own.a;
	r.esi.len = 6;
	r.uptime_ms = now_ms(CLOCK_MONOTONIC) - d->start_ms;
	r.sessions = is.sessions;
	r.vcs = cs.vcs;
	r.parties = cs.parties;
	r.links_up = links_up(d);
	m.body_case = CALLMGR__DAEMON_MSG__BODY_STATUS;
	m.status = &r;
	reply(d, session, req_id, &m);
}

static void answer_list_vcs(struct daemon *d, uint64_t session, uint64_t req_id,
			    const Callmgr__ListVcs *q)
{
	uint32_t max = q->max ? q->max : VC_PAGE_DEFAULT;
	if (max > VC_PAGE_MAX)
		max = VC_PAGE_MAX;
	/* one more than asked, to know whether there are more */
	struct cc_vc_info *v = calloc((size_t)max + 1, sizeof(*v));
	Callmgr__VcInfo *infos = calloc(max, sizeof(*infos));
	Callmgr__VcInfo **ptrs = calloc(max, sizeof(Callmgr__VcInfo *));
	if (!v || !infos || !ptrs) {
		ipc_send_error(d->ipc, session, req_id, CM_E_NOMEM, false, "out of memory");
		goto out;
	}
	size_t n = cc_vc_list(d->cc, q->after, v, (size_t)max + 1);
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__VcList l = CALLMGR__VC_LIST__INIT;
	l.more = n > max;
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		callmgr__vc_info__init(&infos[i]);
		vc_info_fill(d, &infos[i], &v[i]);
		ptrs[i] = &infos[i];
	}
	l.n_vcs = n;
	l.vcs = ptrs;
	m.body_case = CALLMGR__DAEMON_MSG__BODY_VC_LIST;
	m.vc_list = &l;
	reply(d, session, req_id, &m);
out:
	free(v);
	free(infos);
	free(ptrs);
}

static void answer_show_vc(struct daemon *d, uint64_t session, uint64_t req_id,
			   const Callmgr__ShowVc *q)
{
	struct cc_vc_info vi;
	if (cc_vc_get(d->cc, q->vc, &vi) != CM_OK) {
		ipc_send_error(d->ipc, session, req_id, CM_E_NO_VC, false, "no VC %llu",
			       (unsigned long long)q->vc);
		return;
	}
	struct cc_party_info *p = calloc(PARTY_PAGE_MAX + 1, sizeof(*p));
	Callmgr__PartyInfo *infos = calloc(PARTY_PAGE_MAX, sizeof(*infos));
	Callmgr__PartyInfo **ptrs = calloc(PARTY_PAGE_MAX, sizeof(Callmgr__PartyInfo *));
	if (!p || !infos || !ptrs) {
		ipc_send_error(d->ipc, session, req_id, CM_E_NOMEM, false, "out of memory");
		goto out;
	}
	size_t n = cc_party_list(d->cc, q->vc, q->after, p, PARTY_PAGE_MAX + 1);
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__VcDetail det = CALLMGR__VC_DETAIL__INIT;
	Callmgr__VcInfo info = CALLMGR__VC_INFO__INIT;
	vc_info_fill(d, &info, &vi);
	det.vc = &info;
	det.more = n > PARTY_PAGE_MAX;
	if (n > PARTY_PAGE_MAX)
		n = PARTY_PAGE_MAX;
	for (size_t i = 0; i < n; i++) {
		Callmgr__PartyInfo *o = &infos[i];
		callmgr__party_info__init(o);
		o->party = p[i].party;
		o->state = (char *)party_state_name(p[i].state);
		o->addr.data = p[i].addr;
		o->addr.len = Q_AESA_LEN;
		o->peer.data = p[i].peer.a;
		o->peer.len = 6;
		o->cref = p[i].cref;
		o->epref = p[i].epref;
		o->call_state = (char *)call_state_name(p[i].call_state);
		o->timer = (char *)timer_name(p[i].timer);
		ptrs[i] = o;
	}
	det.n_parties = n;
	det.parties = ptrs;
	m.body_case = CALLMGR__DAEMON_MSG__BODY_VC_DETAIL;
	m.vc_detail = &det;
	reply(d, session, req_id, &m);
out:
	free(p);
	free(infos);
	free(ptrs);
}

static void answer_list_links(struct daemon *d, uint64_t session, uint64_t req_id)
{
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__LinkList l = CALLMGR__LINK_LIST__INIT;
	m.body_case = CALLMGR__DAEMON_MSG__BODY_LINK_LIST;
	m.link_list = &l;
	if (d->link) {
		struct link_peer_info *p = calloc(LINK_LIST_MAX, sizeof(*p));
		Callmgr__LinkInfo *infos = calloc(LINK_LIST_MAX, sizeof(*infos));
		Callmgr__LinkInfo **ptrs = calloc(LINK_LIST_MAX, sizeof(Callmgr__LinkInfo *));
		size_t n = p && infos && ptrs ? link_peers(d->link, p, LINK_LIST_MAX) : 0;
		for (size_t i = 0; i < n; i++) {
			Callmgr__LinkInfo *o = &infos[i];
			callmgr__link_info__init(o);
			o->peer.data = p[i].mac;
			o->peer.len = 6;
			o->state = (char *)p[i].state;
			o->sd_tx = p[i].sd_tx;
			o->sd_rx = p[i].sd_rx;
			o->retransmits = p[i].retransmits;
			o->establishments = p[i].establishments;
			o->failures = p[i].failures;
			o->queued = p[i].queued;
			ptrs[i] = o;
		}
		l.n_links = n;
		l.links = ptrs;
		reply(d, session, req_id, &m);
		free(p);
		free(infos);
		free(ptrs);
		return;
	}
	reply(d, session, req_id, &m);
}

static void answer_stats(struct daemon *d, uint64_t session, uint64_t req_id)
{
	Callmgr__DaemonMsg m = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__Stats s = CALLMGR__STATS__INIT;
	struct cc_stats cs;
	struct ipc_stats is;
	cc_get_stats(d->cc, &cs);
	ipc_get_stats(d->ipc, &is);
	s.vcs = cs.vcs;
	s.parties = cs.parties;
	s.legs = cs.legs;
	s.saps = cs.saps;
	s.calls_made = cs.calls_made;
	s.calls_failed = cs.calls_failed;
	s.parties_added = cs.parties_added;
	s.parties_dropped = cs.parties_dropped;
	s.msgs_in = cs.msgs_in;
	s.msgs_out = cs.msgs_out;
	s.msgs_bad = cs.msgs_bad;
	s.timer_expiries = cs.timer_expiries;
	s.sessions = is.sessions;
	s.ipc_frames_bad = is.frames_bad;
	s.sessions_dropped_slow = is.sessions_dropped_slow;
	if (d->link) {
		struct link_counters lc;
		link_get_counters(d->link, &lc);
		s.frames_rx = lc.frames_rx;
		s.frames_tx = lc.frames_tx;
		s.frames_bad = lc.frames_bad;
		s.frames_unknown_peer = lc.frames_unknown_peer;
	}
	m.body_case = CALLMGR__DAEMON_MSG__BODY_STATS;
	m.stats = &s;
	reply(d, session, req_id, &m);
}

/* ---------------------------------------------------------------- requests */

static bool copy_aesa(const ProtobufCBinaryData *b, uint8_t out[Q_AESA_LEN])
{
	if (b->len != Q_AESA_LEN)
		return false;
	memcpy(out, b->data, Q_AESA_LEN);
	return true;
}

static void on_request(void *ctx, const struct ipc_session_info *s, const Callmgr__ClientMsg *m)
{
	struct daemon *d = ctx;
	struct cc_event ev = { .type = CC_EV_REQUEST, .session = s->id };
	struct cc_request *r = &ev.req;
	r->session = s->id;
	r->req_id = m->req_id;

	switch (m->body_case) {
	case CALLMGR__CLIENT_MSG__BODY_REGISTER_SAP:
		if (m->register_sap->selector > 255)
			goto inval;
		r->type = CC_REQ_REGISTER_SAP;
		r->selector = (uint8_t)m->register_sap->selector;
		break;
	case CALLMGR__CLIENT_MSG__BODY_MAKE_CALL: {
		const Callmgr__CallParams *p = m->make_call->params;
		if (!copy_aesa(&m->make_call->party, r->addr))
			goto inval;
		if (p) {
			if (p->qos_class > 255)
				goto inval;
			r->params.peak_kbps = p->peak_kbps;
			r->params.max_sdu = p->max_sdu;
			r->params.qos_class = (uint8_t)p->qos_class;
		}
		r->type = CC_REQ_MAKE_CALL;
		break;
	}
	case CALLMGR__CLIENT_MSG__BODY_ADD_PARTY:
		if (!copy_aesa(&m->add_party->party, r->addr))
			goto inval;
		r->type = CC_REQ_ADD_PARTY;
		r->vc = m->add_party->vc;
		break;
	case CALLMGR__CLIENT_MSG__BODY_DROP_PARTY:
		r->type = CC_REQ_DROP_PARTY;
		r->vc = m->drop_party->vc;
		r->party = m->drop_party->party;
		r->data = m->drop_party->data.data;
		r->data_len = m->drop_party->data.len;
		break;
	case CALLMGR__CLIENT_MSG__BODY_CLOSE_CALL:
		r->type = CC_REQ_CLOSE_CALL;
		r->vc = m->close_call->vc;
		r->party = m->close_call->party;
		r->data = m->close_call->data.data;
		r->data_len = m->close_call->data.len;
		r->flags = m->close_call->force ? CM_CLOSE_FORCE : 0;
		break;
	case CALLMGR__CLIENT_MSG__BODY_ACCEPT_CALL:
		r->type = CC_REQ_ACCEPT_CALL;
		r->vc = m->accept_call->vc;
		r->party = m->accept_call->party;
		break;
	case CALLMGR__CLIENT_MSG__BODY_REJECT_CALL:
		if (m->reject_call->cause < 1 || m->reject_call->cause > 127)
			goto inval;
		r->type = CC_REQ_REJECT_CALL;
		r->vc = m->reject_call->vc;
		r->party = m->reject_call->party;
		r->cause = (int)m->reject_call->cause;
		break;
	case CALLMGR__CLIENT_MSG__BODY_ADMIN_DROP:
	case CALLMGR__CLIENT_MSG__BODY_ADMIN_CLOSE: {
		/* ipc/ has already refused these to anyone but an admin. */
		struct admin_req *a = calloc(1, sizeof(*a));
		if (!a) {
			ipc_send_error(d->ipc, s->id, m->req_id, CM_E_NOMEM, false,
				       "out of memory");
			return;
		}
		a->session = s->id;
		a->req_id = m->req_id;
		if (m->body_case == CALLMGR__CLIENT_MSG__BODY_ADMIN_DROP) {
			a->kind = CALLMGR__REQUEST_KIND__ADMIN_DROP;
			r->type = CC_REQ_ADMIN_DROP;
			r->vc = m->admin_drop->vc;
			r->party = m->admin_drop->party;
			r->data = m->admin_drop->data.data;
			r->data_len = m->admin_drop->data.len;
		} else {
			a->kind = CALLMGR__REQUEST_KIND__ADMIN_CLOSE;
			r->type = CC_REQ_ADMIN_CLOSE;
			r->vc = m->admin_close->vc;
			r->flags = m->admin_close->force ? CM_CLOSE_FORCE : 0;
		}
		a->next = d->admin;
		d->admin = a;
		log_notice("session %llu (uid %u): admin %s of VC %llu",
			   (unsigned long long)s->id, (unsigned)s->uid,
			   r->type == CC_REQ_ADMIN_DROP ? "drop" : "close",
			   (unsigned long long)r->vc);
		break;
	}
	case CALLMGR__CLIENT_MSG__BODY_GET_STATUS:
		answer_status(d, s->id, m->req_id);
		return;
	case CALLMGR__CLIENT_MSG__BODY_LIST_VCS:
		answer_list_vcs(d, s->id, m->req_id, m->list_vcs);
		return;
	case CALLMGR__CLIENT_MSG__BODY_SHOW_VC:
		answer_show_vc(d, s->id, m->req_id, m->show_vc);
		return;
	case CALLMGR__CLIENT_MSG__BODY_LIST_LINKS:
		answer_list_links(d, s->id, m->req_id);
		return;
	case CALLMGR__CLIENT_MSG__BODY_GET_STATS:
		answer_stats(d, s->id, m->req_id);
		return;
	default:
		/* A newer client's request, or none: refuse it, keep the session. */
		ipc_send_error(d->ipc, s->id, m->req_id, CM_E_PROTO, false,
			       "unknown request (case %d)", (int)m->body_case);
		return;
	}
	if (d->shutting_down && r->type != CC_REQ_CLOSE_CALL && r->type != CC_REQ_DROP_PARTY &&
	    r->type != CC_REQ_REJECT_CALL) {
		/* Let clients answer the shutdown's releases; refuse anything new. */
		ipc_send_error(d->ipc, s->id, m->req_id, CM_E_STATE, false,
			       "the daemon is shutting down");
		if (r->type == CC_REQ_ADMIN_DROP || r->type == CC_REQ_ADMIN_CLOSE)
			admin_take(d, s->id, m->req_id);
		return;
	}
	if ((r->type == CC_REQ_MAKE_CALL || r->type == CC_REQ_ADD_PARTY) && d->link) {
		/* The link would refuse every message to a node outside
		 * allowed_peers; say so now rather than after T303 runs out. */
		const uint8_t *esi = r->addr + 13;
		if (memcmp(esi, d->own.a, 6) != 0 && !link_peer_allowed(d->link, esi)) {
			ipc_send_error(d->ipc, s->id, m->req_id, CM_E_UNREACHABLE, false,
				       "%02x:%02x:%02x:%02x:%02x:%02x is not in allowed_peers",
				       esi[0], esi[1], esi[2], esi[3], esi[4], esi[5]);
			return;
		}
	}
	feed(d, &ev);
	return;
inval:
	ipc_send_error(d->ipc, s->id, m->req_id, CM_E_INVAL, false, "malformed request");
}

static void on_session_closed(void *ctx, uint64_t session, const char *reason)
{
	struct daemon *d = ctx;
	struct cc_event ev = { .type = CC_EV_SESSION_CLOSED, .session = session };
	admin_forget_session(d, session);
	monitor(d, "session-closed", session, 0, 0, 0, 0, NULL, reason);
	feed(d, &ev);
}

/* ---------------------------------------------------------------- shutdown */

static void shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct cc_stats cs;
	cc_get_stats(d->cc, &cs);
	bool calls_gone = cs.vcs == 0 && cs.legs == 0;
	bool late = now_ms(CLOCK_MONOTONIC) >= d->shutdown_deadline_ms;
	if ((calls_gone && ipc_pending_output(d->ipc) == 0) || late) {
		if (!calls_gone)
			log_warn("shutdown: %llu VCs still present after %u ms; exiting anyway",
				 (unsigned long long)cs.vcs, d->set.shutdown_ms);
		event_base_loopbreak(d->base);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	if (d->shutting_down) {
		log_notice("second signal: exiting at once");
		event_base_loopbreak(d->base);
		return;
	}
	log_notice("%s: releasing every call", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	sdg_stopping();
	d->shutting_down = true;
	d->shutdown_deadline_ms = now_ms(CLOCK_MONOTONIC) + d->set.shutdown_ms;
	/* No new clients; existing ones may still answer the releases. */
	ipc_stop_accepting(d->ipc);
	struct cc_event ev = { .type = CC_EV_SHUTDOWN };
	feed(d, &ev);
	if (d->link)
		link_release_all(d->link);
	struct timeval tv = { 0, 20000 };
	event_add(d->shutdown_tick, &tv);
}

/* SIGHUP: new timers and limits for call control; main reads the file. */
static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	if (d->shutting_down || !d->set.reload)
		return;
	sdg_reloading();
	struct cc_config next = d->set.cc;
	if (d->set.reload(d->set.reload_ctx, &next) == 0) {
		memcpy(next.prefix, d->set.cc.prefix, sizeof(next.prefix));
		next.esi = d->set.cc.esi;
		d->set.cc = next;
		cc_reconfigure(d->cc, &next);
	}
	char status[256];
	status_text(d, status, sizeof(status));
	sdg_ready(status);
}

/* ---------------------------------------------------------------- run */

/*
 * Detach after the socket listens, so that whoever started us can connect
 * as soon as we return.  The parent leaves with _exit: its copy of the
 * state belongs to the child now.
 */
static int detach(struct daemon *d)
{
	pid_t pid = fork();
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (event_reinit(d->base) < 0) {
		log_err("event_reinit failed after fork");
		return -1;
	}
	return 0;
}

int daemon_run(const struct daemon_settings *set)
{
	static const uint8_t local_esi[6] = DAEMON_LOCAL_ESI;
	struct daemon *d = calloc(1, sizeof(*d));
	if (!d)
		return 1;
	d->set = *set;
	if (!d->set.shutdown_ms)
		d->set.shutdown_ms = 3000;
	d->exit_status = 1;
	d->start_ms = now_ms(CLOCK_MONOTONIC);
	cc_actions_init(&d->acts);
	d->ntb = 256;
	d->tb = calloc(d->ntb, sizeof(struct dtimer *));
	d->base = event_base_new();
	if (!d->tb || !d->base) {
		log_err("out of memory at start-up");
		goto out;
	}
	/* A client gone mid-write must cost an EPIPE, not the daemon. */
	signal(SIGPIPE, SIG_IGN);

	memcpy(d->own.a, local_esi, 6);
	if (set->interface) {
		static const struct link_ops lops = { .deliver = link_deliver, .state = link_state };
		d->link = link_open(d->base, set->interface, &set->link, &lops, d);
		if (!d->link) {
			log_err("cannot open interface %s: %s", set->interface, strerror(errno));
			goto out;
		}
		link_own_mac(d->link, d->own.a);
	}
	memcpy(d->set.cc.prefix, set->prefix, 13);
	d->set.cc.esi = d->own;
	d->cc = cc_new(&d->set.cc);
	if (!d->cc) {
		log_err("cannot create call control");
		goto out;
	}

	struct ipc_config ic;
	ipc_config_defaults(&ic);
	ic.path = set->socket_path ? set->socket_path : IPC_DEFAULT_SOCKET;
	ic.listen_fd = set->listen_fd;
	if (set->socket_mode)
		ic.socket_mode = set->socket_mode;
	if (set->session_output_bytes)
		ic.max_output = set->session_output_bytes;
	if (set->monitor_output_bytes)
		ic.monitor_output = set->monitor_output_bytes;
	ic.have_admin_gid = set->have_admin_gid;
	ic.admin_gid = set->admin_gid;
	memcpy(ic.prefix, set->prefix, 13);
	memcpy(ic.esi, d->own.a, 6);
	ic.local_mode = d->link == NULL;
	static const struct ipc_ops iops = { .request = on_request, .closed = on_session_closed };
	d->ipc = ipc_open(d->base, &ic, &iops, d);
	if (!d->ipc) {
		log_err("cannot listen on %s: %s", set->listen_fd >= 0 ? "the inherited socket" : ic.path,
			strerror(errno));
		goto out;
	}

	if (!set->foreground && !getenv("NOTIFY_SOCKET") && detach(d) < 0)
		goto out;

	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_sighup, d);
	d->shutdown_tick = event_new(d->base, -1, EV_PERSIST, shutdown_tick, d);
	if (!d->sig_term || !d->sig_int || !d->sig_hup || !d->shutdown_tick ||
	    event_add(d->sig_term, NULL) < 0 || event_add(d->sig_int, NULL) < 0 ||
	    event_add(d->sig_hup, NULL) < 0) {
		log_err("cannot set up signal handling");
		goto out;
	}
	char esi[18];
	snprintf(esi, sizeof(esi), "%02x:%02x:%02x:%02x:%02x:%02x", d->own.a[0], d->own.a[1],
		 d->own.a[2], d->own.a[3], d->own.a[4], d->own.a[5]);
	log_notice("callmgrd %s ready: %s mode, ESI %s, socket %s", CALLMGR_VERSION,
		   d->link ? set->interface : "local", esi,
		   set->listen_fd >= 0 ? "(inherited)" : ic.path);

	char sd_status[256];
	status_text(d, sd_status, sizeof(sd_status));
	sdg_ready(sd_status);
	if (sdg_start(d->base, status_text, d) < 0)
		log_warn("cannot start the systemd status/watchdog timer");

	event_base_dispatch(d->base);
	d->exit_status = 0;
	log_notice("callmgrd stopped");
out:
	if (d->ipc)
		ipc_close(d->ipc);
	if (d->link)
		link_close(d->link);
	if (d->cc)
		cc_free(d->cc);
	timers_free(d);
	while (d->admin) {
		struct admin_req *a = d->admin;
		d->admin = a->next;
		free(a);
	}
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_hup)
		event_free(d->sig_hup);
	sdg_stop();
	if (d->shutdown_tick)
		event_free(d->shutdown_tick);
	if (d->base)
		event_base_free(d->base);
	cc_actions_free(&d->acts);
	free(d->fifo);
	int status = d->exit_status;
	free(d);
	return status;
}
