/* SPDX-License-Identifier: MIT */
#include "drv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *grow(void *v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 64;
	v = realloc(v, *cap * sz);
	ck_assert_ptr_nonnull(v);
	return v;
}

struct cc_mac drv_mac(uint8_t last)
{
	struct cc_mac m = {{0x02, 0, 0, 0, 0, last}};
	return m;
}

void drv_addr(uint8_t out[20], struct cc_mac esi, uint8_t sel)
{
	memset(out, 0, 20);
	out[0] = 0x39;
	memcpy(out + 13, esi.a, 6);
	out[19] = sel;
}

void drv_init(struct drv *d, const struct cc_config *cfg)
{
	memset(d, 0, sizeof(*d));
	if (cfg) {
		d->cfg = *cfg;
	} else {
		cc_config_defaults(&d->cfg);
		d->cfg.esi = drv_mac(1);
	}
	d->me = d->cfg.esi;
	d->c = cc_new(&d->cfg);
	ck_assert_ptr_nonnull(d->c);
	d->loop = true;
	d->auto_peer = true;
	d->next_req = 1000;
}

static bool was_up(const struct drv *d, struct cc_mac m)
{
	for (size_t i = 0; i < d->nup; i++)
		if (memcmp(d->up[i].a, m.a, 6) == 0)
			return true;
	return false;
}

static void mark_up(struct drv *d, struct cc_mac m)
{
	if (was_up(d, m))
		return;
	d->up = grow(d->up, &d->capup, d->nup, sizeof(*d->up));
	d->up[d->nup++] = m;
}

/* The remote peer's part (auto_peer): its link comes up, it acknowledges our RESTART. */
static void play_peer(struct drv *d, const struct cc_action *a)
{
	if (!d->auto_peer || memcmp(a->peer.a, d->me.a, 6) == 0)
		return;
	if (a->type == CC_ACT_LINK_ESTABLISH && !was_up(d, a->peer)) {
		mark_up(d, a->peer);
		struct cc_event up = { .type = CC_EV_LINK_UP, .peer = a->peer };
		ck_assert_int_eq(cc_enqueue(d->c, &up), CM_OK);
	} else if (a->type == CC_ACT_SEND && a->msg.type == Q_MSG_RESTART) {
		struct q_msg ack;
		memset(&ack, 0, sizeof(ack));
		ack.type = Q_MSG_RESTART_ACK;
		ack.cref_flag = true;
		ack.restart = a->msg.restart;
		struct cc_event ev = { .type = CC_EV_MESSAGE, .peer = a->peer, .msg = &ack };
		ck_assert_int_eq(cc_enqueue(d->c, &ev), CM_OK);
	}
}

void drv_free(struct drv *d)
{
	cc_free(d->c);
	free(d->log);
	free(d->tm);
	free(d->req);
	free(d->rq);
	free(d->up);
}

void drv_clear(struct drv *d)
{
	d->nlog = 0;
}

static struct drv_req *find_req(struct drv *d, uint64_t id)
{
	for (size_t i = 0; i < d->nreq; i++)
		if (d->req[i].req_id == id)
			return &d->req[i];
	return NULL;
}

static void timer_del(struct drv *d, uint8_t kind, uint64_t obj)
{
	for (size_t i = 0; i < d->ntm; i++)
		if (d->tm[i].kind == kind && d->tm[i].obj == obj) {
			d->tm[i] = d->tm[--d->ntm];
			return;
		}
	ck_abort_msg("stop of timer %u/%llu that is not running", kind, (unsigned long long)obj);
}

static void record(struct drv *d, const struct cc_action *a)
{
	d->log = grow(d->log, &d->caplog, d->nlog, sizeof(*d->log));
	d->log[d->nlog++] = *a;
	switch (a->type) {
	case CC_ACT_TIMER_START:
		for (size_t i = 0; i < d->ntm; i++)
			if (d->tm[i].kind == a->timer.kind && d->tm[i].obj == a->timer.obj) {
				d->tm[i].ms = a->ms;
				return;
			}
		ck_assert_uint_gt(a->ms, 0);
		d->tm = grow(d->tm, &d->captm, d->ntm, sizeof(*d->tm));
		d->tm[d->ntm++] = (struct drv_timer){a->timer.kind, a->timer.obj, a->ms};
		break;
	case CC_ACT_TIMER_STOP:
		timer_del(d, a->timer.kind, a->timer.obj);
		break;
	case CC_ACT_CLIENT_EVENT:
		if (cc_cev_ends_request(a->cev.type)) {
			struct drv_req *r = find_req(d, a->cev.req_id);
			ck_assert_msg(r, "completion for unknown request %llu",
				      (unsigned long long)a->cev.req_id);
			ck_assert_msg(r->completions == 0, "second completion of request %llu",
				      (unsigned long long)a->cev.req_id);
			r->completions++;
			r->done = a->cev;
		}
		if (d->on_cev)
			d->on_cev(d, &a->cev);
		break;
	default:
		break;
	}
}

/* Every party waiting for something shows a timer that runs (the public view). */
static void check_views(struct drv *d)
{
	struct cc_vc_info vi[64];
	cm_vc_id after = 0;
	size_t n;
	while ((n = cc_vc_list(d->c, after, vi, 64)) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct cc_party_info pi[64];
			cm_party_id pa = 0;
			size_t m;
			while ((m = cc_party_list(d->c, vi[i].vc, pa, pi, 64)) > 0) {
				for (size_t j = 0; j < m; j++) {
					uint8_t s = pi[j].state;
					if (s == Q_EPS_ADD_PARTY_INITIATED ||
					    s == Q_EPS_ADD_PARTY_RECEIVED ||
					    s == Q_EPS_ALERTING_RECEIVED ||
					    s == Q_EPS_DROP_PARTY_INITIATED)
						ck_assert_msg(
							pi[j].timer &&
								drv_timer_obj(d, pi[j].timer, 0),
							"party %llu waits in state %u without a "
							"timer",
							(unsigned long long)pi[j].party, s);
				}
				pa = pi[m - 1].party;
				if (m < 64)
					break;
			}
		}
		after = vi[n - 1].vc;
		if (n < 64)
			break;
	}
}

static void trace_event(const struct drv *d, const struct cc_event *cur)
{
	fprintf(stderr,
		"ev %llu: type %u req %u vc %llu party %llu msg 0x%02x cref %u/%u "
		"ep %d/%u err %u timer %u/%llu\n",
		(unsigned long long)d->events + 1, cur->type, cur->req.type,
		(unsigned long long)cur->req.vc, (unsigned long long)cur->req.party,
		cur->msg ? cur->msg->type : 0, cur->msg ? cur->msg->cref : 0,
		cur->msg ? (unsigned)cur->msg->cref_flag : 0u,
		cur->msg && cur->msg->epref.present ? cur->msg->epref.value : -1,
		cur->msg ? (unsigned)cur->msg->epref.flag : 0u,
		cur->dec ? (unsigned)cur->dec->verdict_cause : 0u, cur->timer.kind,
		(unsigned long long)cur->timer.obj);
}

static void trace_actions(const struct cc_actions *out)
{
	for (size_t i = 0; i < out->n; i++)
		fprintf(stderr,
			"   act %u msg 0x%02x cref %u cause %u ep %u cev %u st %d "
			"sess %llu timer %u/%llu\n",
			out->v[i].type, out->v[i].msg.type, out->v[i].msg.cref,
			out->v[i].msg.cause.value, out->v[i].msg.epref.value, out->v[i].cev.type,
			out->v[i].cev.status, (unsigned long long)out->v[i].cev.session,
			out->v[i].timer.kind, (unsigned long long)out->v[i].timer.obj);
}

/*
 * Local messages go round call control's own queue (cc_feed), as in the
 * daemon; requests issued from client callbacks join that queue behind
 * them, as the daemon's would arrive after the current event.  With
 * d->loop off the event is fed raw, so a local message stays in the log.
 */
void drv_feed(struct drv *d, const struct cc_event *ev)
{
	struct cc_actions out;
	cc_actions_init(&out);
	static int trace = -1;
	if (trace < 0)
		trace = getenv("CC_TRACE") != NULL;
	const struct cc_event *cur = ev;
	for (uint64_t n = 0;; n++) {
		cc_actions_clear(&out);
		if (trace && cur)
			trace_event(d, cur);
		if (d->loop || !cur)
			ck_assert_int_eq(cc_feed(d->c, cur, &out), CM_OK);
		else
			cc_handle(d->c, cur, &out);
		d->events++;
		if (trace)
			trace_actions(&out);
		for (size_t i = 0; i < out.n; i++) {
			record(d, &out.v[i]);
			play_peer(d, &out.v[i]);
			for (size_t j = 0; j < d->nrq; j++) {
				struct cc_event re = { .type = CC_EV_REQUEST,
						       .session = d->rq[j].session,
						       .req = d->rq[j] };
				ck_assert_int_eq(cc_enqueue(d->c, &re), CM_OK);
			}
			d->nrq = 0;
		}
		if (d->check_every <= 1 || d->events % d->check_every == 0) {
			const char *err = cc_check_invariants(d->c);
			if (err && trace)
				fprintf(stderr, "INVARIANT FAIL: %s\n", err);
			ck_assert_msg(err == NULL, "invariant broken after event %llu: %s",
				      (unsigned long long)d->events, err);
			check_views(d);
		}
		if (cc_queued(d->c) == 0)
			break;
		cur = NULL;
		ck_assert_msg(n < 10000000, "events never quiesce");
	}
	cc_actions_free(&out);
}

static void track(struct drv *d, struct cc_request *r)
{
	r->req_id = d->next_req++;
	d->req = grow(d->req, &d->capreq, d->nreq, sizeof(*d->req));
	d->req[d->nreq++] =
		(struct drv_req){.req_id = r->req_id, .type = r->type, .session = r->session};
}

uint64_t drv_queue(struct drv *d, struct cc_request *r)
{
	track(d, r);
	d->rq = grow(d->rq, &d->caprq, d->nrq, sizeof(*d->rq));
	d->rq[d->nrq++] = *r;
	return r->req_id;
}

uint64_t drv_request(struct drv *d, struct cc_request *r)
{
	track(d, r);
	struct cc_event ev = {0};
	ev.type = CC_EV_REQUEST;
	ev.session = r->session;
	ev.req = *r;
	drv_feed(d, &ev);
	return r->req_id;
}

uint64_t drv_register(struct drv *d, uint64_t session, uint8_t sel)
{
	struct cc_request r = {.type = CC_REQ_REGISTER_SAP, .session = session, .selector = sel};
	return drv_request(d, &r);
}

uint64_t drv_make_call(struct drv *d, uint64_t session, const uint8_t *addr)
{
	struct cc_request r = {.type = CC_REQ_MAKE_CALL, .session = session};
	memcpy(r.addr, addr, 20);
	return drv_request(d, &r);
}

uint64_t drv_add_party(struct drv *d, uint64_t session, cm_vc_id vc, const uint8_t *addr)
{
	struct cc_request r = {.type = CC_REQ_ADD_PARTY, .session = session, .vc = vc};
	memcpy(r.addr, addr, 20);
	return drv_request(d, &r);
}

static uint8_t payload[256];

uint64_t drv_drop(struct drv *d, uint64_t session, cm_vc_id vc, cm_party_id p, size_t len)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	struct cc_request r = {.type = CC_REQ_DROP_PARTY,
			       .session = session,
			       .vc = vc,
			       .party = p,
			       .data = len ? payload : NULL,
			       .data_len = len};
	return drv_request(d, &r);
}

uint64_t drv_close(struct drv *d, uint64_t session, cm_vc_id vc, cm_party_id p, unsigned flags)
{
	struct cc_request r = {.type = CC_REQ_CLOSE_CALL,
			       .session = session,
			       .vc = vc,
			       .party = p,
			       .flags = flags};
	return drv_request(d, &r);
}

uint64_t drv_accept(struct drv *d, uint64_t session, cm_vc_id vc, cm_party_id p)
{
	struct cc_request r = {
		.type = CC_REQ_ACCEPT_CALL, .session = session, .vc = vc, .party = p};
	return drv_request(d, &r);
}

uint64_t drv_reject(struct drv *d, uint64_t session, cm_vc_id vc, cm_party_id p, int cause)
{
	struct cc_request r = {.type = CC_REQ_REJECT_CALL,
			       .session = session,
			       .vc = vc,
			       .party = p,
			       .cause = cause};
	return drv_request(d, &r);
}

void drv_msg_status(struct drv *d, struct cc_mac from, const struct q_msg *m,
		    const struct q_decode_status *st)
{
	/* a peer speaks only on a link that is up, and restarted it first */
	if (d->auto_peer && memcmp(from.a, d->me.a, 6) != 0 && !was_up(d, from)) {
		size_t n = d->nlog;
		drv_link(d, from, true);
		d->nlog = n; /* the test did not ask for those */
	}
	struct cc_event ev = {0};
	ev.type = CC_EV_MESSAGE;
	ev.peer = from;
	ev.msg = m;
	ev.dec = st;
	drv_feed(d, &ev);
}

void drv_msg_dec(struct drv *d, struct cc_mac from, const struct q_msg *m, uint8_t verdict,
		 uint8_t cause, uint8_t ie, uint8_t ie_action)
{
	struct q_decode_status st;
	memset(&st, 0, sizeof(st));
	st.verdict = verdict;
	st.verdict_cause = verdict == Q_VERDICT_DISCARD ? 0 : cause;
	if (ie) {
		st.n_ie_errors = 1;
		st.ie_errors[0] = (struct q_ie_error){ie, cause, ie_action};
	}
	drv_msg_status(d, from, m, &st);
}

void drv_msg(struct drv *d, struct cc_mac from, const struct q_msg *m)
{
	drv_msg_status(d, from, m, NULL);
}

void drv_link(struct drv *d, struct cc_mac peer, bool up)
{
	struct cc_event ev = {0};
	ev.type = up ? CC_EV_LINK_UP : CC_EV_LINK_DOWN;
	ev.peer = peer;
	if (up)
		mark_up(d, peer);
	drv_feed(d, &ev);
}

void drv_session_closed(struct drv *d, uint64_t session)
{
	struct cc_event ev = {0};
	ev.type = CC_EV_SESSION_CLOSED;
	ev.session = session;
	for (size_t i = 0; i < d->nreq; i++)
		if (d->req[i].session == session && d->req[i].completions == 0)
			d->req[i].orphaned = true;
	size_t from = d->nlog;
	drv_feed(d, &ev);
	/* nothing is owed to a session that is gone */
	for (size_t i = from; i < d->nlog; i++)
		if (d->log[i].type == CC_ACT_CLIENT_EVENT)
			ck_assert_uint_ne(d->log[i].cev.session, session);
}

bool drv_running(const struct drv *d, uint8_t kind, uint64_t obj)
{
	for (size_t i = 0; i < d->ntm; i++)
		if (d->tm[i].kind == kind && d->tm[i].obj == obj)
			return true;
	return false;
}

uint64_t drv_timer_obj(const struct drv *d, uint8_t kind, size_t n)
{
	for (size_t i = 0; i < d->ntm; i++)
		if (d->tm[i].kind == kind && n-- == 0)
			return d->tm[i].obj;
	return 0;
}

size_t drv_ntimers(const struct drv *d)
{
	return d->ntm;
}

void drv_fire(struct drv *d, uint8_t kind, uint64_t obj)
{
	ck_assert_msg(drv_running(d, kind, obj), "timer %u/%llu is not running", kind,
		      (unsigned long long)obj);
	timer_del(d, kind, obj);
	struct cc_event ev = {0};
	ev.type = CC_EV_TIMER;
	ev.timer.kind = kind;
	ev.timer.obj = obj;
	drv_feed(d, &ev);
}

const struct cc_client_event *drv_done(const struct drv *d, uint64_t req_id)
{
	for (size_t i = 0; i < d->nreq; i++)
		if (d->req[i].req_id == req_id)
			return d->req[i].completions ? &d->req[i].done : NULL;
	return NULL;
}

const struct cc_action *drv_sent(const struct drv *d, uint8_t type, size_t n)
{
	for (size_t i = 0; i < d->nlog; i++)
		if (d->log[i].type == CC_ACT_SEND && d->log[i].msg.type == type && n-- == 0)
			return &d->log[i];
	return NULL;
}

size_t drv_nsent(const struct drv *d, uint8_t type)
{
	size_t n = 0;
	for (size_t i = 0; i < d->nlog; i++)
		n += d->log[i].type == CC_ACT_SEND && d->log[i].msg.type == type;
	return n;
}

size_t drv_nsent_to(const struct drv *d, uint8_t type, struct cc_mac to)
{
	size_t n = 0;
	for (size_t i = 0; i < d->nlog; i++)
		n += d->log[i].type == CC_ACT_SEND && d->log[i].msg.type == type &&
		     memcmp(d->log[i].peer.a, to.a, 6) == 0;
	return n;
}

const struct cc_client_event *drv_cev(const struct drv *d, uint8_t type, size_t n)
{
	for (size_t i = 0; i < d->nlog; i++)
		if (d->log[i].type == CC_ACT_CLIENT_EVENT && d->log[i].cev.type == type && n-- == 0)
			return &d->log[i].cev;
	return NULL;
}

size_t drv_ncev(const struct drv *d, uint8_t type)
{
	size_t n = 0;
	for (size_t i = 0; i < d->nlog; i++)
		n += d->log[i].type == CC_ACT_CLIENT_EVENT && d->log[i].cev.type == type;
	return n;
}

size_t drv_ncev_session(const struct drv *d, uint64_t session)
{
	size_t n = 0;
	for (size_t i = 0; i < d->nlog; i++)
		n += d->log[i].type == CC_ACT_CLIENT_EVENT && d->log[i].cev.session == session;
	return n;
}

/* One answer an owner owes, found in the public views; false when none is left. */
static bool answer_one(struct drv *d)
{
	struct cc_vc_info vi[64];
	cm_vc_id after = 0;
	size_t n;
	while ((n = cc_vc_list(d->c, after, vi, 64)) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct cc_request r = {.session = vi[i].session, .vc = vi[i].vc};
			if (vi[i].state == CC_VC_CLOSE_RECEIVED) {
				r.type = CC_REQ_CLOSE_CALL;
				r.flags = CM_CLOSE_FORCE;
			} else {
				struct cc_party_info pi[64];
				size_t m = cc_party_list(d->c, vi[i].vc, 0, pi, 64);
				size_t j = 0;
				while (j < m && pi[j].state != Q_EPS_DROP_PARTY_RECEIVED)
					j++;
				if (j == m)
					continue;
				r.type = CC_REQ_DROP_PARTY;
				r.party = pi[j].party;
			}
			uint64_t id = drv_request(d, &r);
			const struct cc_client_event *e = drv_done(d, id);
			ck_assert_msg(e && e->status == CM_OK,
				      "the owner's answer (request %u) on VC %llu: %d", r.type,
				      (unsigned long long)r.vc, e ? e->status : 999);
			return true;
		}
		after = vi[n - 1].vc;
	}
	return false;
}

void drv_quiesce(struct drv *d)
{
	for (int round = 0;; round++) {
		ck_assert_msg(round < 100000, "never quiescent");
		if (d->ntm) {
			struct drv_timer t = d->tm[0];
			drv_fire(d, t.kind, t.obj);
			continue;
		}
		if (!answer_one(d))
			return;
	}
}

void drv_check_exactly_once(const struct drv *d)
{
	for (size_t i = 0; i < d->nreq; i++) {
		const struct drv_req *r = &d->req[i];
		bool may_not_end = r->orphaned || r->type == CC_REQ_ACCEPT_CALL ||
				   r->type == CC_REQ_REJECT_CALL;
		if (may_not_end)
			ck_assert_int_le(r->completions, 1);
		else
			ck_assert_msg(r->completions == 1,
				      "request %llu (type %u, session %llu) ended %d times",
				      (unsigned long long)r->req_id, r->type,
				      (unsigned long long)r->session, r->completions);
	}
}
