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

#include "admin.h"
#include "callmgr.pb-c.h"
#include "config.h"
#include "data/dataio.h"
#include "data/datalink.h"
#include "ipc/ipc.h"
#include "log.h"
#include "names.h"
#include "sd.h"
#include "timers.h"
#include "translate.h"

struct daemon {
	struct daemon_settings set;
	struct event_base *base;
	cc *cc;
	struct ipc *ipc;
	struct link *link;
	struct dataio *data;
	struct datalink *dl; /* wire mode: the data frames' socket */
	struct cc_mac own;
	struct cc_actions acts;
	bool draining;
	struct timers *timers;
	struct admin_src views;
	struct event *sig_term, *sig_int, *sig_hup, *shutdown_tick;
	bool shutting_down;
	bool links_released;
	uint64_t shutdown_deadline_ms;
	uint64_t release_deadline_ms; /* the associations end by then at the latest */
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
	static const uint8_t prefix[13] = CMC_DEFAULT_PREFIX;
	memset(s, 0, sizeof(*s));
	s->socket_path = CM_DEFAULT_SOCKET;
	s->listen_fd = -1;
	s->link_fd = -1;
	s->data_fd = -1;
	memcpy(s->prefix, prefix, sizeof(prefix));
	s->shutdown_ms = 3000;
	cc_config_defaults(&s->cc);
	link_config_defaults(&s->link);
}

/* ---------------------------------------------------------------- event feeding */

static void run_actions(struct daemon *d);

/*
 * The only way into call control.  Call control queues its local legs'
 * messages itself (cc_feed); here each event's actions are carried out
 * before the next queued event is handled.
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
		if (cc_enqueue(d->cc, ev) != CM_OK)
			log_oom("an event from the link for call control's queue");
		return;
	}
	d->draining = true;
	do {
		cc_actions_clear(&d->acts);
		if (cc_feed(d->cc, ev, &d->acts) != CM_OK)
			log_oom("a message to a local leg");
		ev = NULL;
		run_actions(d);
	} while (cc_queued(d->cc) > 0);
	d->draining = false;
}

static void timer_expired(void *ctx, struct cc_timer_key k)
{
	struct daemon *d = ctx;
	struct cc_event ev = { .type = CC_EV_TIMER, .timer = k };
	feed(d, &ev);
}

/* ---------------------------------------------------------------- client events */

static void monitor(struct daemon *d, const char *kind, uint64_t session, uint64_t vc,
		    uint64_t party, int status, int cause, const uint8_t *peer, const char *text)
{
	Callmgr__MonitorEvent m;
	translate_monitor(&m, now_ms(CLOCK_REALTIME), kind, session, vc, party, status, cause,
			  peer, text);
	ipc_monitor(d->ipc, &m);
}

/*
 * The data path follows what the client was just told: a leaf whose party
 * is gone reads end of file behind its last SDU, a closing root's
 * descriptor refuses sends (docs/data-path.md).
 */
static void data_after_event(struct daemon *d, const struct cc_client_event *ce)
{
	switch (ce->type) {
	case CC_CEV_INCOMING_DROP_PARTY:
	case CC_CEV_INCOMING_CLOSE_CALL:
	case CC_CEV_DROP_PARTY_COMPLETE:
	case CC_CEV_CLOSE_CALL_COMPLETE:
		/* a root's own party drop leaves its VC and descriptor alone */
		dataio_vc_changed(d->data, ce->vc, ce->type != CC_CEV_DROP_PARTY_COMPLETE);
		if (ce->party && (ce->type == CC_CEV_DROP_PARTY_COMPLETE ||
				  ce->type == CC_CEV_INCOMING_DROP_PARTY))
			dataio_party_gone(d->data, ce->vc, ce->party);
		break;
	default:
		break;
	}
}

static void client_event(struct daemon *d, const struct cc_client_event *ce)
{
	struct translate_msg t;
	const char *kind = translate_client_event(ce, &t);
	if (!kind) {
		log_err("call control emitted unknown client event %u", ce->type);
		return;
	}
	/* A session already gone is being torn down by call control. */
	int sent = ipc_send(d->ipc, ce->session, &t.m);
	data_after_event(d, ce);
	if (ce->type == CC_CEV_REFUSED)
		return; /* an Error to the asker, not an event for the monitor stream */
	bool completion = cc_cev_ends_request(ce->type);
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
	/* never refused for a full queue: the link keeps a backlog (link.h) */
	int rc = link_send(d->link, a->peer.a, buf, (size_t)n);
	if (rc == 0)
		return;
	if (rc == -ENOMEM)
		log_oom("a message to the link");
	/* a peer that cannot be reached makes one line per message: limited */
	log_at_limited(LOG_WARNING, 0, 0, a->peer.a, "link refused %s: %s",
		       q_msg_type_name(a->msg.type), strerror(-rc));
	/*
	 * Refusals that hold for every message to the peer end its calls in
	 * set-up now rather than by T303.  -EMSGSIZE cannot happen with buf.
	 * We are inside the actions of an event: queued, not fed.
	 */
	if (rc == -EPERM || rc == -ENOSPC || rc == -EIO) {
		struct cc_event ev = { .type = CC_EV_UNREACHABLE, .peer = a->peer };
		if (cc_enqueue(d->cc, &ev) != CM_OK)
			log_oom("an unreachable peer's event for call control");
	}
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
	/* always: even a clean decode carries the message's action indicator */
	struct cc_event ev = { .type = CC_EV_MESSAGE, .msg = &m, .dec = &st };
	memcpy(ev.peer.a, mac, 6);
	/* data frames that came before it are delivered before it acts */
	datalink_drain(d->dl);
	if (st.verdict != Q_VERDICT_OK)
		log_at(LOG_INFO, 0, 0, mac, "%s: %s (cause %u, IE 0x%02x)", q_msg_type_name(m.type),
		       st.reason ? st.reason : "?", st.cause, st.ie);
	feed(d, &ev);
}

static void link_state(void *ctx, const uint8_t mac[6], bool up)
{
	struct daemon *d = ctx;
	struct cc_event ev = { .type = up ? CC_EV_LINK_UP : CC_EV_LINK_DOWN };
	memcpy(ev.peer.a, mac, 6);
	/* a stranger's BGNs can make and unmake associations at will */
	log_at_limited(LOG_NOTICE, 0, 0, mac, "link %s", up ? "up" : "down");
	monitor(d, up ? "link-up" : "link-down", 0, 0, 0, 0, 0, mac, NULL);
	feed(d, &ev);
}

/*
 * Call control's selector question, answered by sap_ranges: root may take
 * any; anyone else a selector some entry gives its uid or one of its
 * groups.  No entries: any selector (max_saps_per_user still bounds it).
 */
static bool sap_allowed(void *ctx, uint64_t session, uint8_t selector)
{
	struct daemon *d = ctx;
	struct ipc_session_info si;
	if (d->set.n_sap_ranges == 0)
		return true;
	if (ipc_session_get(d->ipc, session, &si) < 0)
		return false;
	if (si.uid == 0)
		return true;
	for (size_t i = 0; i < d->set.n_sap_ranges; i++) {
		const struct sap_range *r = &d->set.sap_ranges[i];
		if (selector < r->lo || selector > r->hi)
			continue;
		if (r->group ? ipc_session_in_group(d->ipc, session, (gid_t)r->id)
			     : si.uid == (uid_t)r->id)
			return true;
	}
	return false;
}

/* Call control's allowed-peers question, answered by the link's list. */
static bool peer_allowed(void *ctx, const uint8_t mac[6])
{
	struct daemon *d = ctx;
	return link_peer_allowed(d->link, mac);
}

/* Call control's back-pressure question: the link's backlog at its bound. */
static bool peer_busy(void *ctx, const uint8_t mac[6])
{
	struct daemon *d = ctx;
	return link_busy(d->link, mac);
}

static void run_actions(struct daemon *d)
{
	/* feed() reuses d->acts only after this returns. */
	for (size_t i = 0; i < d->acts.n; i++) {
		const struct cc_action *a = &d->acts.v[i];
		switch (a->type) {
		case CC_ACT_SEND:
			if (memcmp(a->peer.a, d->own.a, 6) == 0)
				break; /* a local leg: call control has queued it */
			if (d->link) {
				wire_send(d, a);
				break;
			}
			log_at(LOG_ERR, 0, 0, a->peer.a,
			       "message to a remote peer in local mode: not sent");
			break;
		case CC_ACT_CLIENT_EVENT:
			client_event(d, &a->cev);
			break;
		case CC_ACT_TIMER_START:
			/* call control already counts it as running: a timer
			 * not started would be a wait without end */
			if (timers_start(d->timers, a->timer, a->ms) != CM_OK)
				log_oom("a protocol timer");
			break;
		case CC_ACT_TIMER_STOP:
			timers_stop(d->timers, a->timer);
			break;
		case CC_ACT_LINK_ESTABLISH:
			if (d->link)
				link_establish(d->link, a->peer.a);
			break;
		default:
			log_err("call control emitted unknown action %u", a->type);
			break;
		}
	}
}

/* ---------------------------------------------------------------- admin views */

static uint64_t view_uptime(void *ctx)
{
	struct daemon *d = ctx;
	return now_ms(CLOCK_MONOTONIC) - d->start_ms;
}

static uint32_t view_session_uid(void *ctx, uint64_t session)
{
	struct daemon *d = ctx;
	struct ipc_session_info si;
	return ipc_session_get(d->ipc, session, &si) == 0 ? (uint32_t)si.uid : UINT32_MAX;
}

static bool view_session_reads_all(void *ctx, uint64_t session)
{
	struct daemon *d = ctx;
	struct ipc_session_info si;
	return ipc_session_get(d->ipc, session, &si) == 0 && si.reads_all;
}

static void view_ipc_stats(void *ctx, struct ipc_stats *out)
{
	struct daemon *d = ctx;
	ipc_get_stats(d->ipc, out);
}

static size_t view_link_peers(void *ctx, const uint8_t *after, struct link_peer_info *out,
			      size_t max)
{
	struct daemon *d = ctx;
	return link_peers_after(d->link, after, out, max);
}

static void view_link_counters(void *ctx, struct link_counters *out)
{
	struct daemon *d = ctx;
	link_get_counters(d->link, out);
}

static void view_send(void *ctx, uint64_t session, Callmgr__DaemonMsg *m)
{
	struct daemon *d = ctx;
	ipc_send(d->ipc, session, m);
}

static void view_error(void *ctx, uint64_t session, uint64_t req_id, int status, const char *text)
{
	struct daemon *d = ctx;
	ipc_send_error(d->ipc, session, req_id, status, false, "%s", text);
}

static void view_data_party(void *ctx, cm_vc_id vc, cm_party_id party,
			    struct admin_data_counters *out)
{
	struct daemon *d = ctx;
	struct dataio_counters c;
	dataio_party_counters(d->data, vc, party, &c);
	out->sdus = c.sdus;
	out->octets = c.octets;
	out->lost = c.lost;
}

static void view_data_stats(void *ctx, struct admin_data_stats *out)
{
	struct daemon *d = ctx;
	struct dataio_stats s;
	dataio_get_stats(d->data, &s);
	memset(out, 0, sizeof(*out));
	out->sdus_in = s.sdus_in;
	out->octets_in = s.octets_in;
	out->sdus_out = s.sdus_out;
	out->octets_out = s.octets_out;
	out->sdus_lost = s.sdus_lost;
	out->sdus_dropped = s.sdus_dropped;
	out->fds = s.fds;
	struct datalink_counters lc;
	datalink_get_counters(d->dl, &lc);
	out->sdus_lost += lc.rx_lost;
	out->frames_dropped = lc.rx_bad + lc.rx_unknown_peer + lc.rx_unknown_label;
	out->frames_kernel_dropped = lc.rx_kernel_dropped;
}

static void wire_writable(void *ctx)
{
	struct daemon *d = ctx;
	dataio_wire_writable(d->data);
}

static void wire_data_wait(void *ctx)
{
	struct daemon *d = ctx;
	if (d->dl)
		datalink_wait_writable(d->dl, wire_writable, d);
}

static bool wire_data_room(void *ctx, int ms)
{
	struct daemon *d = ctx;
	return d->dl && datalink_wait_room(d->dl, ms);
}

/* dataio's wire hook. */
static int wire_data_send(void *ctx, cm_vc_id vc, const struct cc_receiver *r,
			  const uint8_t *sdu, size_t len)
{
	struct daemon *d = ctx;
	return d->dl ? datalink_send(d->dl, vc, r, sdu, len) : -ENOTCONN;
}

static void views_init(struct daemon *d)
{
	struct admin_src *v = &d->views;
	v->cc = d->cc;
	v->local_mode = d->link == NULL;
	v->interface = d->set.interface ? d->set.interface : "";
	v->prefix = d->set.cc.prefix;
	v->esi = d->own.a;
	v->ctx = d;
	v->uptime_ms = view_uptime;
	v->session_uid = view_session_uid;
	v->session_reads_all = view_session_reads_all;
	v->ipc_stats = view_ipc_stats;
	v->link_peers = view_link_peers;
	v->link_counters = view_link_counters;
	v->send = view_send;
	v->error = view_error;
	v->data_party = view_data_party;
	v->data_stats = view_data_stats;
}

/* systemd's STATUS= line, refreshed by sd.c's timer. */
static void status_text(void *ctx, char *buf, size_t len)
{
	struct daemon *d = ctx;
	admin_status_text(&d->views, buf, len);
}

/* ---------------------------------------------------------------- requests */

/* GetDataFd: the VC's descriptor rides on the DataFd reply. */
static void data_fd_request(struct daemon *d, uint64_t session, const Callmgr__ClientMsg *m)
{
	const Callmgr__GetDataFd *g = m->get_data_fd;
	int fd = -1;
	int rc = g ? dataio_open(d->data, session, g->vc, &fd) : CM_E_INVAL;
	if (rc != CM_OK) {
		ipc_send_error(d->ipc, session, m->req_id, rc, false, "no data descriptor for VC %llu (%d)",
			       g ? (unsigned long long)g->vc : 0ull, rc);
		return;
	}
	Callmgr__DaemonMsg out = CALLMGR__DAEMON_MSG__INIT;
	Callmgr__DataFd df = CALLMGR__DATA_FD__INIT;
	df.vc = g->vc;
	out.body_case = CALLMGR__DAEMON_MSG__BODY_DATA_FD;
	out.data_fd = &df;
	out.req_id = m->req_id;
	if (ipc_send_fd(d->ipc, session, &out, fd) < 0)
		log_at(LOG_INFO, g->vc, 0, NULL, "session %llu gone before its data descriptor",
		       (unsigned long long)session);
}

/* What the root wrote before a request about its VC goes out before it. */
static void data_before_request(struct daemon *d, const struct cc_request *r)
{
	switch (r->type) {
	case CC_REQ_ADD_PARTY:
	case CC_REQ_DROP_PARTY:
	case CC_REQ_CLOSE_CALL:
	case CC_REQ_ADMIN_DROP:
	case CC_REQ_ADMIN_CLOSE:
		dataio_drain(d->data, r->vc);
		break;
	default:
		break;
	}
}

static void on_request(void *ctx, const struct ipc_session_info *s, const Callmgr__ClientMsg *m)
{
	struct daemon *d = ctx;
	struct cc_event ev = { .type = CC_EV_REQUEST, .session = s->id };
	if (m->body_case == CALLMGR__CLIENT_MSG__BODY_GET_DATA_FD) {
		data_fd_request(d, s->id, m);
		return;
	}
	switch (translate_request(m, s->id, &ev.req)) {
	case TR_CC:
		break;
	case TR_VIEW:
		admin_answer(&d->views, s->id, m);
		return;
	case CM_E_PROTO:
		/* A newer client's request, or none: refuse it, keep the session. */
		ipc_send_error(d->ipc, s->id, m->req_id, CM_E_PROTO, false,
			       "unknown request (case %d)", (int)m->body_case);
		return;
	default:
		ipc_send_error(d->ipc, s->id, m->req_id, CM_E_INVAL, false, "malformed request");
		return;
	}
	ev.req.uid = (uint32_t)s->uid;
	if (ev.req.type == CC_REQ_ADMIN_DROP || ev.req.type == CC_REQ_ADMIN_CLOSE)
		log_notice("session %llu (uid %u): admin %s of VC %llu", (unsigned long long)s->id,
			   (unsigned)s->uid, ev.req.type == CC_REQ_ADMIN_DROP ? "drop" : "close",
			   (unsigned long long)ev.req.vc);
	data_before_request(d, &ev.req);
	feed(d, &ev);
	if (ev.req.type == CC_REQ_CLOSE_CALL || ev.req.type == CC_REQ_ADMIN_CLOSE)
		dataio_vc_changed(d->data, ev.req.vc, false); /* taken: no more sends */
}

static void on_session_closed(void *ctx, uint64_t session, const char *reason)
{
	struct daemon *d = ctx;
	struct cc_event ev = { .type = CC_EV_SESSION_CLOSED, .session = session };
	monitor(d, "session-closed", session, 0, 0, 0, 0, NULL, reason);
	dataio_drain_session(d->data, session);
	feed(d, &ev);
	dataio_session_closed(d->data, session);
}

/* ---------------------------------------------------------------- shutdown */

/*
 * While the shutdown lasts: once every leg is gone (each RELEASE answered
 * by its RELEASE COMPLETE, or given up on by T308) the SSCOP associations
 * are released; ending them earlier would leave the peer's RELEASE
 * COMPLETE to a released link.  Then, with no VC left (owners answered
 * their IncomingCloseCall) and every queue flushed, the loop ends.  Both
 * waits are bounded by the shutdown time.
 */
static void shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct cc_stats cs;
	cc_get_stats(d->cc, &cs);
	bool calls_gone = cs.vcs == 0 && cs.legs == 0;
	uint64_t now = now_ms(CLOCK_MONOTONIC);
	bool late = now >= d->shutdown_deadline_ms;
	if (d->link && !d->links_released && (cs.legs == 0 || late || now >= d->release_deadline_ms)) {
		if (cs.legs)
			log_warn("shutdown: %llu legs still clearing; releasing the links anyway",
				 (unsigned long long)cs.legs);
		link_release_all(d->link);
		d->links_released = true;
	}
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
	uint64_t now = now_ms(CLOCK_MONOTONIC);
	d->shutdown_deadline_ms = now + d->set.shutdown_ms;
	/* T308 guards each RELEASE; past it the leg is given up anyway */
	d->release_deadline_ms = now + d->set.cc.t308_ms;
	/* No new clients; existing ones may still answer the releases. */
	ipc_stop_accepting(d->ipc);
	struct cc_event ev = { .type = CC_EV_SHUTDOWN };
	feed(d, &ev);
	struct timeval tv = { 0, 20000 };
	event_add(d->shutdown_tick, &tv);
	shutdown_tick(-1, 0, d);
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
	d->base = event_base_new();
	d->timers = d->base ? timers_new(d->base, timer_expired, d) : NULL;
	if (!d->timers) {
		log_err("out of memory at start-up");
		goto out;
	}
	/* A client gone mid-write must cost an EPIPE, not the daemon. */
	signal(SIGPIPE, SIG_IGN);

	memcpy(d->own.a, local_esi, 6);
	if (set->interface) {
		static const struct link_ops lops = { .deliver = link_deliver, .state = link_state };
		d->link = set->link_fd >= 0 ? link_open_fd(d->base, set->interface, set->link_fd,
							   &set->link, &lops, d)
					    : link_open(d->base, set->interface, &set->link, &lops, d);
		if (!d->link) {
			log_err("cannot open interface %s: %s", set->interface, strerror(errno));
			goto out;
		}
		link_own_mac(d->link, d->own.a);
		log_set_own_address(d->own.a);
	}
	memcpy(d->set.cc.prefix, set->prefix, 13);
	d->set.cc.esi = d->own;
	if (d->link) {
		d->set.cc.peer_allowed = peer_allowed;
		d->set.cc.peer_allowed_ctx = d;
		d->set.cc.peer_busy = peer_busy;
		d->set.cc.peer_busy_ctx = d;
	}
	d->set.cc.sap_allowed = sap_allowed;
	d->set.cc.sap_allowed_ctx = d;
	d->cc = cc_new(&d->set.cc);
	if (!d->cc) {
		log_err("cannot create call control");
		goto out;
	}
	views_init(d);
	const struct dataio_hooks dh = { .wire_send = wire_data_send,
					 .wire_wait = wire_data_wait,
					 .wire_room = wire_data_room,
					 .ctx = d };
	d->data = dataio_new(d->base, d->cc, &dh);
	if (!d->data) {
		log_err("out of memory at start-up");
		goto out;
	}
	if (d->link) {
		int dfd = set->data_fd >= 0 ? set->data_fd : datalink_socket(set->interface);
		d->dl = dfd < 0 ? NULL
				: datalink_open_fd(d->base, set->interface, dfd, d->cc, d->data,
						   peer_allowed, d);
		if (!d->dl) {
			log_err("cannot open the data socket on %s: %s", set->interface,
				strerror(errno));
			goto out;
		}
	}

	struct ipc_config ic;
	ipc_config_defaults(&ic);
	ic.path = set->socket_path ? set->socket_path : CM_DEFAULT_SOCKET;
	ic.listen_fd = set->listen_fd;
	if (set->socket_mode)
		ic.socket_mode = set->socket_mode;
	if (set->session_output_bytes)
		ic.max_output = set->session_output_bytes;
	if (set->monitor_output_bytes)
		ic.monitor_output = set->monitor_output_bytes;
	if (set->max_monitors)
		ic.max_monitors = set->max_monitors;
	if (set->max_sessions_per_user)
		ic.max_sessions_per_user = set->max_sessions_per_user;
	if (set->max_output_total)
		ic.max_output_total = set->max_output_total;
	ic.have_admin_gid = set->have_admin_gid;
	ic.admin_gid = set->admin_gid;
	ic.have_operator_gid = set->have_operator_gid;
	ic.operator_gid = set->operator_gid;
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
	datalink_close(d->dl);
	dataio_free(d->data);
	if (d->ipc)
		ipc_close(d->ipc);
	if (d->link)
		link_close(d->link);
	if (d->cc)
		cc_free(d->cc);
	timers_free(d->timers);
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
	int status = d->exit_status;
	free(d);
	return status;
}
