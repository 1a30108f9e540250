/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: call control driven by a sequence of events read from
 * the input, the way callmgrd drives it: client requests from three
 * sessions with small ids, messages from two remote peers (built to answer
 * what call control sent them, or decoded from raw octets with
 * q_msg_decode), expiries of timers that are running, link up and down,
 * sessions closing, shutdown.  Messages to this node's own MAC (local legs)
 * go round call control's own queue (cc_feed), as in the daemon.
 *
 * After every cc_handle(): cc_check_invariants() must return NULL, and the
 * actions must make sense to a daemon: timers stopped were running and
 * start with a duration, every completion answers a request that was made
 * and answers it once, nothing goes to a session after it closed, every
 * message sent is one the codec can encode, local messages quiesce.
 *
 * Input: one octet of limits, then records; op = octet % 8:
 *   0, 1  a client request          2, 3  a message from a peer
 *   4     a running timer expires   5     link up / down
 *   6     a session closes          7     shutdown (op 0xff only) or a status enquiry reply
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc/cc.h"
#include "cm_proto_const.h"
#include "log.h"

#define N_SESSIONS 3
#define MAX_TIMERS 512
#define MAX_REQS 1024
#define MAX_SENT 32
#define MAX_LOCAL 20000

#define CHECK(cond)                                                                               \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "fuzz_cc_sequence: %s:%d: %s (event %llu)\n", __FILE__,    \
				__LINE__, #cond, (unsigned long long)F.events);                   \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

struct sent_msg {
	struct cc_mac peer;
	uint8_t type;
	uint32_t cref;
	bool cref_flag;
	bool has_epref;
	uint16_t epref;
	bool epref_flag;
};

struct fuzz_state {
	cc *c;
	struct cc_config cfg;
	struct cc_actions out;
	uint64_t events;
	struct cc_timer_key timers[MAX_TIMERS];
	uint32_t ntimers;
	struct {
		uint64_t id;
		uint64_t session;
		int completions;
	} reqs[MAX_REQS];
	uint32_t nreqs;
	uint64_t next_req;
	uint64_t session_gen[N_SESSIONS];
	uint64_t closed[64];
	uint32_t nclosed;
	struct sent_msg sent[MAX_SENT]; /* ring of the latest messages to remote peers */
	uint32_t nsent;
	uint64_t cev_vc[16], cev_party[16]; /* ids call control told clients about */
	uint32_t ncev;
};

static struct fuzz_state F;

static const struct cc_mac ME = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct cc_mac PEERS[2] = { { { 0x02, 0, 0, 0, 0, 0x02 } },
					{ { 0x02, 0, 0, 0, 0, 0x03 } } };

static void discard_log(int level, const struct log_ctx *ctx, const char *msg)
{
	(void)level;
	(void)ctx;
	(void)msg;
}

static bool mac_is(struct cc_mac a, struct cc_mac b)
{
	return memcmp(a.a, b.a, 6) == 0;
}

static uint64_t session_id(unsigned slot)
{
	return 1 + slot + N_SESSIONS * F.session_gen[slot];
}

static bool session_closed(uint64_t s)
{
	for (uint32_t i = 0; i < F.nclosed; i++)
		if (F.closed[i] == s)
			return true;
	return false;
}

/* ------------------------------------------------------------ actions */

static void timer_started(struct cc_timer_key k, uint32_t ms)
{
	CHECK(ms > 0);
	CHECK(k.kind >= CC_T303 && k.kind <= CC_T316);
	for (uint32_t i = 0; i < F.ntimers; i++)
		if (F.timers[i].kind == k.kind && F.timers[i].obj == k.obj)
			return; /* a restart */
	CHECK(F.ntimers < MAX_TIMERS);
	F.timers[F.ntimers++] = k;
}

static bool timer_take(struct cc_timer_key k)
{
	for (uint32_t i = 0; i < F.ntimers; i++)
		if (F.timers[i].kind == k.kind && F.timers[i].obj == k.obj) {
			F.timers[i] = F.timers[--F.ntimers];
			return true;
		}
	return false;
}

static void client_event(const struct cc_client_event *e)
{
	CHECK(e->type >= CC_CEV_REGISTER_SAP_COMPLETE && e->type <= CC_CEV_REJECT_CALL_COMPLETE);
	CHECK(!session_closed(e->session));
	CHECK(e->data_len <= Q_UU_MAX);
	if (cc_cev_ends_request(e->type)) {
		bool found = false;
		for (uint32_t i = 0; i < F.nreqs; i++)
			if (F.reqs[i].id == e->req_id) {
				CHECK(F.reqs[i].completions == 0);
				CHECK(F.reqs[i].session == e->session);
				F.reqs[i].completions++;
				found = true;
			}
		CHECK(found);
	}
	if (e->vc) {
		F.cev_vc[F.ncev % 16] = e->vc;
		F.cev_party[F.ncev % 16] = e->party;
		F.ncev++;
	}
}

static void message_sent(const struct cc_action *a)
{
	uint8_t buf[1024];
	int n = q_msg_encode(&a->msg, buf, sizeof(buf));
	if (n < 0)
		fprintf(stderr, "%s: encode error %d\n", q_msg_type_name(a->msg.type), n);
	CHECK(n > 0);
	if (mac_is(a->peer, ME))
		return; /* call control's own queue feeds it back */
	struct sent_msg *s = &F.sent[F.nsent++ % MAX_SENT];
	s->peer = a->peer;
	s->type = a->msg.type;
	s->cref = a->msg.cref;
	s->cref_flag = a->msg.cref_flag;
	s->has_epref = a->msg.epref.present;
	s->epref = a->msg.epref.value;
	s->epref_flag = a->msg.epref.flag;
}

static void handle(const struct cc_event *ev)
{
	cc_actions_clear(&F.out);
	CHECK(cc_feed(F.c, ev, &F.out) == CM_OK);
	F.events++;
	for (size_t i = 0; i < F.out.n; i++) {
		const struct cc_action *a = &F.out.v[i];
		switch (a->type) {
		case CC_ACT_SEND:
			message_sent(a);
			break;
		case CC_ACT_CLIENT_EVENT:
			client_event(&a->cev);
			break;
		case CC_ACT_TIMER_START:
			timer_started(a->timer, a->ms);
			break;
		case CC_ACT_TIMER_STOP:
			CHECK(timer_take(a->timer));
			break;
		case CC_ACT_LINK_ESTABLISH:
			CHECK(!mac_is(a->peer, ME));
			break;
		default:
			CHECK(!"unknown action type");
		}
	}
	const char *broken = cc_check_invariants(F.c);
	if (broken) {
		fprintf(stderr, "fuzz_cc_sequence: invariant broken: %s\n", broken);
		CHECK(broken == NULL);
	}
}

/* One outside event, then the local messages it caused, in order. */
static void feed(const struct cc_event *ev)
{
	handle(ev);
	for (size_t n = 0; cc_queued(F.c) > 0; n++) {
		CHECK(n < MAX_LOCAL);
		handle(NULL);
	}
}

/* ------------------------------------------------------------- inputs */

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

/* An address at this node, a peer, or one call control must refuse. */
static void pick_addr(uint8_t b, uint8_t out[Q_AESA_LEN])
{
	memcpy(out, F.cfg.prefix, 13);
	switch (b & 7) {
	case 0:
	case 1:
	case 2:
		memcpy(out + 13, ME.a, 6);
		break;
	case 3:
	case 4:
		memcpy(out + 13, PEERS[0].a, 6);
		break;
	case 5:
		memcpy(out + 13, PEERS[1].a, 6);
		break;
	case 6:
		memset(out + 13, 0, 6); /* no station */
		break;
	default:
		memcpy(out + 13, PEERS[0].a, 6);
		out[13] |= 1; /* a group MAC */
		break;
	}
	out[19] = 1 + ((b >> 3) & 3); /* selectors 1..4 */
}

/* A VC id: one call control reported (usually), or a small raw one. */
static cm_vc_id pick_vc(uint8_t b)
{
	if (b & 0x80 || F.ncev == 0)
		return b & 7;
	uint32_t n = F.ncev < 16 ? F.ncev : 16;
	return F.cev_vc[b % n];
}

static cm_party_id pick_party(uint8_t b, cm_vc_id vc)
{
	if (b & 0x80)
		return b & 7;
	struct cc_party_info pi[8];
	size_t n = cc_party_list(F.c, vc, 0, pi, 8);
	if (n > 0)
		return pi[b % n].party;
	uint32_t k = F.ncev < 16 ? F.ncev : 16;
	return k ? F.cev_party[b % k] : 0;
}

static void op_request(struct reader *r)
{
	static uint8_t payload[200];
	uint8_t t = byte(r), a = byte(r), b = byte(r), c = byte(r);
	struct cc_event ev = { .type = CC_EV_REQUEST };
	struct cc_request *q = &ev.req;
	q->type = 1 + t % 10;
	q->session = session_id((t >> 4) % N_SESSIONS);
	ev.session = q->session;
	q->vc = pick_vc(a);
	q->party = pick_party(b, q->vc);
	if (q->type == CC_REQ_ADD_PARTY) {
		/* mostly a new id of the session's own space (next_req only grows),
		 * sometimes a party that exists: refused */
		q->party = (b & 0x80) ? q->party : cmc_party_id_base(q->session) + F.next_req;
	}
	q->selector = 1 + (c & 3);
	pick_addr(c >> 2, q->addr);
	q->params.qos_class = (a >> 4) & 7; /* 5..7 are invalid */
	q->params.peak_kbps = (b & 0x40) ? 0xffffffu : (uint32_t)(b & 0x3f) * 1000;
	q->params.max_sdu = (c & 0x80) ? 70000 : 0;
	if (t & 0x40) {
		size_t len = byte(r);
		for (size_t i = 0; i < sizeof(payload); i++)
			payload[i] = (uint8_t)i;
		q->data = payload;
		q->data_len = len < sizeof(payload) ? len : sizeof(payload); /* may pass 128 */
	}
	q->flags = (t & 0x80) ? CM_CLOSE_FORCE : 0;
	q->cause = (c & 0x40) ? Q_CAUSE_USER_BUSY : 0;
	/* Accept and reject have no completion of their own, but a refusal at
	 * the door (shutdown) ends them too: every request is tracked. */
	q->req_id = F.next_req++;
	if (F.nreqs < MAX_REQS) {
		F.reqs[F.nreqs].id = q->req_id;
		F.reqs[F.nreqs].session = q->session;
		F.reqs[F.nreqs].completions = 0;
		F.nreqs++;
	}
	feed(&ev);
}

static const uint8_t msg_types[] = {
	Q_MSG_SETUP,          Q_MSG_CALL_PROCEEDING, Q_MSG_ALERTING,         Q_MSG_CONNECT,
	Q_MSG_CONNECT_ACK,    Q_MSG_RELEASE,         Q_MSG_RELEASE_COMPLETE, Q_MSG_STATUS,
	Q_MSG_STATUS_ENQUIRY, Q_MSG_ADD_PARTY,       Q_MSG_ADD_PARTY_ACK,    Q_MSG_ADD_PARTY_REJECT,
	Q_MSG_DROP_PARTY,     Q_MSG_DROP_PARTY_ACK,  Q_MSG_PARTY_ALERTING,   Q_MSG_RESTART,
	Q_MSG_RESTART_ACK,
};

/* The mandatory IEs of the type (so that most messages are usable), plus a few. */
static void fill_ies(struct q_msg *m, uint8_t b)
{
	static const uint8_t causes[] = { Q_CAUSE_NORMAL_CLEARING, Q_CAUSE_USER_BUSY,
					  Q_CAUSE_RECOVERY_ON_TIMER, Q_CAUSE_INVALID_EPREF,
					  Q_CAUSE_STATUS_ENQUIRY_RESPONSE, Q_CAUSE_MSG_NOT_COMPATIBLE,
					  Q_CAUSE_INVALID_CREF, Q_CAUSE_NORMAL_UNSPECIFIED };
	static const uint8_t ep_states[] = { Q_EPS_NULL, Q_EPS_ADD_PARTY_INITIATED,
					     Q_EPS_ALERTING_DELIVERED, Q_EPS_ADD_PARTY_RECEIVED,
					     Q_EPS_ALERTING_RECEIVED, Q_EPS_ACTIVE,
					     Q_EPS_DROP_PARTY_INITIATED, Q_EPS_DROP_PARTY_RECEIVED };
	static const uint8_t call_states[] = { 0, 1, 3, 4, 6, 7, 8, 9, 10, 11, 12 };
	m->cause.present = true;
	m->cause.value = causes[b & 7];
	m->call_state_present = true;
	m->call_state = call_states[(b >> 3) % sizeof(call_states)];
	m->ep_state_present = (b & 0x40) != 0;
	m->ep_state = ep_states[(b >> 3) & 7];
	m->traffic.present = true;
	m->traffic.fwd_peak_cr = m->traffic.bwd_peak_cr = 23584;
	m->bearer.present = true;
	m->bearer.bearer_class = Q_BEARER_BCOB_X;
	m->bearer.p2mp = true;
	m->aal.present = true;
	m->aal.fwd_max_sdu = m->aal.bwd_max_sdu = 9188;
	m->qos.present = true;
	m->blli.present = (b & 0x80) != 0;
	m->blli.user_l3 = 1 + (b & 3);
	m->called.present = true;
	pick_addr((uint8_t)(b & 0x18), m->called.aesa); /* this node, selector 1..4 */
	m->calling.present = true;
	memcpy(m->calling.aesa, F.cfg.prefix, 13);
	m->restart.present = true;
	m->restart.rclass = (b & 0x20) ? Q_RESTART_ALL : Q_RESTART_VC;
	m->conn_id.present = true;
	m->conn_id.vci = 32 + (b & 15);
	if (b & 0x10) {
		m->uu.present = true;
		m->uu.len = 3;
		memcpy(m->uu.data, "abc", 3);
	}
}

/* The IEs fill_ies() sets, one at a time: keep (dst = that IE of src only) or clear. */
static bool ie_select(struct q_msg *dst, const struct q_msg *src, int i, bool clear)
{
#define IE_CASE(n, field)                                                                         \
	case n:                                                                                   \
		if (clear)                                                                        \
			memset(&dst->field, 0, sizeof(dst->field));                               \
		else                                                                              \
			dst->field = src->field;                                                  \
		return true;
	switch (i) {
		IE_CASE(0, cause)
		IE_CASE(1, epref)
		IE_CASE(2, aal)
		IE_CASE(3, traffic)
		IE_CASE(4, bearer)
		IE_CASE(5, called)
		IE_CASE(6, calling)
		IE_CASE(7, conn_id)
		IE_CASE(8, qos)
		IE_CASE(9, blli)
		IE_CASE(10, uu)
		IE_CASE(11, restart)
	case 12:
		dst->call_state_present = clear ? false : src->call_state_present;
		dst->call_state = src->call_state;
		return true;
	case 13:
		dst->ep_state_present = clear ? false : src->ep_state_present;
		dst->ep_state = src->ep_state;
		return true;
	}
#undef IE_CASE
	return false;
}

/*
 * Drops the IEs the message type may not carry, asking the encoder: with one
 * IE alone it answers Q_ENC_E_INVAL only when the type does not allow it
 * (values are valid; the mandatory check comes after the allowed one).
 */
static void strip_to_allowed(struct q_msg *m)
{
	for (int i = 0; i < 14; i++) {
		struct q_msg probe;
		memset(&probe, 0, sizeof(probe));
		probe.type = m->type;
		probe.cref = m->cref;
		probe.cref_flag = m->cref_flag;
		ie_select(&probe, m, i, false);
		uint8_t buf[1024];
		if (q_msg_encode(&probe, buf, sizeof(buf)) == Q_ENC_E_INVAL)
			ie_select(m, m, i, true);
	}
}

static void op_message(struct reader *r)
{
	uint8_t how = byte(r), a = byte(r), b = byte(r);
	struct cc_mac from = PEERS[how & 1];
	struct q_msg m;
	memset(&m, 0, sizeof(m));
	struct cc_event ev = { .type = CC_EV_MESSAGE, .peer = from, .msg = &m };

	if ((how & 6) == 6) {
		/* raw octets through the codec, as the link delivers them */
		size_t len = a;
		if (len > r->n)
			len = r->n;
		struct q_decode_status st;
		int res = q_msg_decode(r->p, len, &m, &st);
		r->p += len;
		r->n -= len;
		if (res == Q_DEC_DROP)
			return;
		ev.dec = &st;
		feed(&ev);
		return;
	}

	m.type = msg_types[a % sizeof(msg_types)];
	fill_ies(&m, b);
	/* Answer one of the latest messages sent to this peer, if any. */
	const struct sent_msg *s = NULL;
	if (F.nsent && !(how & 4)) {
		uint32_t n = F.nsent < MAX_SENT ? F.nsent : MAX_SENT;
		for (uint32_t k = 0; k < n && !s; k++) {
			const struct sent_msg *cand = &F.sent[(F.nsent - 1 - (how >> 3) - k) % MAX_SENT];
			if (mac_is(cand->peer, from))
				s = cand;
		}
	}
	if (s) {
		m.cref = s->cref;
		m.cref_flag = !s->cref_flag;
		m.epref.present = true;
		m.epref.value = s->has_epref ? s->epref : 0;
		m.epref.flag = s->has_epref ? !s->epref_flag : true;
		if (how & 0x80) {
			/* a new party on that call, from the peer's side */
			m.epref.value = (uint16_t)(1 + (b & 7));
			m.epref.flag = false;
		}
	} else {
		/* a call the peer begins: small crefs, so they repeat */
		m.cref = 1 + ((how >> 3) & 7);
		m.cref_flag = (how & 0x80) != 0;
		m.epref.present = true;
		m.epref.value = (how >> 5) & 3;
		m.epref.flag = m.cref_flag;
	}
	strip_to_allowed(&m);
	/* Through the wire format, as a peer's message arrives. */
	uint8_t buf[1024];
	struct q_decode_status st;
	int n = q_msg_encode(&m, buf, sizeof(buf));
	CHECK(n > 0);
	int res = q_msg_decode(buf, (size_t)n, &m, &st);
	CHECK(res != Q_DEC_DROP);
	ev.dec = &st;
	feed(&ev);
}

static void op_timer(struct reader *r)
{
	uint8_t b = byte(r);
	if (F.ntimers == 0)
		return;
	struct cc_timer_key k = F.timers[b % F.ntimers];
	timer_take(k);
	struct cc_event ev = { .type = CC_EV_TIMER, .timer = k };
	feed(&ev);
}

static void op_link(struct reader *r)
{
	uint8_t b = byte(r);
	struct cc_event ev = { .type = (b & 1) ? CC_EV_LINK_UP : CC_EV_LINK_DOWN,
			       .peer = PEERS[(b >> 1) & 1] };
	feed(&ev);
}

static void op_session_closed(struct reader *r)
{
	unsigned slot = byte(r) % N_SESSIONS;
	uint64_t s = session_id(slot);
	struct cc_event ev = { .type = CC_EV_SESSION_CLOSED, .session = s };
	if (F.nclosed < 64)
		F.closed[F.nclosed++] = s;
	feed(&ev);
	/* the daemon never reuses a session id */
	F.session_gen[slot]++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (!getenv("FUZZ_LOG"))
		log_set_sink(discard_log);
	log_set_level(LOG_DEBUG);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	if (size < 1)
		return 0;
	struct cc_actions keep_out = F.out;
	memset(&F, 0, sizeof(F));
	F.out = keep_out;
	if (!F.out.v)
		cc_actions_init(&F.out);
	F.next_req = 100;

	uint8_t limits = byte(&r);
	cc_config_defaults(&F.cfg);
	F.cfg.esi = ME;
	/* small limits sometimes, so the refusals are reached */
	if (limits & 1)
		F.cfg.max_vcs_per_session = 1 + ((limits >> 1) & 3);
	if (limits & 8)
		F.cfg.max_parties_per_vc = 1 + ((limits >> 4) & 3);
	if (limits & 0x40)
		F.cfg.max_pending_per_session = 1 + (limits >> 7);
	F.c = cc_new(&F.cfg);
	CHECK(F.c != NULL);
	CHECK(cc_check_invariants(F.c) == NULL);

	while (r.n > 0) {
		uint8_t op = byte(&r);
		switch (op % 8) {
		case 0:
		case 1:
			op_request(&r);
			break;
		case 2:
		case 3:
			op_message(&r);
			break;
		case 4:
			op_timer(&r);
			break;
		case 5:
			op_link(&r);
			break;
		case 6:
			op_session_closed(&r);
			break;
		default:
			if (op == 0xff) {
				struct cc_event ev = { .type = CC_EV_SHUTDOWN };
				feed(&ev);
			} else {
				op_timer(&r);
			}
			break;
		}
	}
	/* views must be readable whatever the state */
	struct cc_stats st;
	cc_get_stats(F.c, &st);
	struct cc_vc_info vi[8];
	size_t n = cc_vc_list(F.c, 0, vi, 8);
	for (size_t i = 0; i < n; i++) {
		struct cc_vc_info one;
		CHECK(cc_vc_get(F.c, vi[i].vc, &one) == CM_OK && one.vc == vi[i].vc);
	}
	cc_free(F.c);
	return 0;
}
