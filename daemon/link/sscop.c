/* SPDX-License-Identifier: MIT */
/*
 * SSCOP (ITU-T Q.2110) association state machine.  See sscop.h for the
 * contract and docs/wire.md "SSCOP" for the PDU layouts and timer rules.
 *
 * Deviations from Q.2110, all deliberate:
 * - no RS/ER resynchronisation or error recovery: a protocol error or a
 *   peer restart ends the association and a new one is begun;
 * - invalid STAT/USTAT PDUs are dropped rather than starting recovery
 *   (Timer_NO-RESPONSE still ends a link that only ever sends garbage);
 * - the receiver tolerates reordering (a POLL whose N(S) is below VR(H)
 *   does not count as an error), because Ethernet bridges may reorder
 *   where ATM never did;
 * - in Ready, ENDAK and BGREJ are counted and ignored instead of releasing
 *   (Q.2110 MAA-ERROR F and D): we sent no END or BGN in this association,
 *   so they can only answer one from an earlier round that crossed ours
 *   after a stall.  Were the peer really out of step, its Idle state
 *   answers our next POLL with END, and Timer_NO-RESPONSE ends the rest.
 *
 * - in Outgoing Connection Pending, the first BGREJ of an establishment is
 *   answered with a BGN of a new N(SQ) rather than releasing: a node that
 *   restarted draws its first N(SQ) at random, and one time in 256 it is the
 *   one its peer took last from the node's previous life, which the peer's
 *   retransmission check then refuses.  A second BGREJ releases.
 *
 * Stale BGNs are recognised by N(SQ) as Q.2110 §7.x "detect retransmission"
 * does (VR(SQ) holds the N(SQ) of the last BGN we took), in every state.
 */
#include "link/sscop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define SEQ_MASK 0xffffffu

/* Events: the PDU type codes 0x1..0xf, then user requests and timers. */
enum sscop_event {
	EV_USER_ESTABLISH = 0x10,
	EV_USER_RELEASE,
	EV_TIMER_CC,
	EV_TIMER_POLL,
	EV_TIMER_KEEPALIVE,
	EV_TIMER_NORESP,
	EV_TIMER_IDLE,
};

struct queued_msg {
	struct queued_msg *next;
	uint16_t len;
	uint8_t data[];
};

/* A transmitted SD kept until acknowledged. */
struct tx_slot {
	struct queued_msg *msg; /* NULL when the slot is free */
	uint32_t ps_at_tx;      /* VT(PS) when last (re)transmitted */
	bool acked;             /* selectively acknowledged by a STAT list */
};

/* An SD received out of order, waiting for the gap before it to fill. */
struct rx_slot {
	uint8_t *data; /* NULL when the slot is free */
	uint16_t len;
};

struct sscop {
	struct sscop_params p;
	uint8_t peer_mac[6];
	bool has_peer_mac;
	struct sscop_ops ops;
	void *ctx;
	enum sscop_state state;
	bool timer_on[SSCOP_TIMER_COUNT];
	/* Bumped whenever buffers are reset, so loops that call out notice. */
	uint32_t epoch;

	/* Q.2110 §7.1 transmitter state variables */
	uint32_t vt_s, vt_ps, vt_a, vt_pa, vt_ms, vt_pd, vt_cc;
	bool bgn_on_poll; /* OCP: a POLL already brought a BGN this Timer_CC period */
	bool bgrej_seen;  /* OCP: this establishment was refused once already */
	uint8_t vt_sq;
	/* receiver state variables */
	uint32_t vr_r, vr_h, vr_mr;
	uint8_t vr_sq;
	/* peer's credit and N(SQ) while an incoming BGN awaits the user */
	uint32_t pending_nmr;
	/* a valid STAT/USTAT came in this association (sscop_peer_proven) */
	bool proven;
	/* VR(SQ) holds the N(SQ) of a BGN we took (not just the initial value,
	 * which a fresh peer's random first N(SQ) may equal by chance) */
	bool vr_sq_valid;

	struct tx_slot tx[SSCOP_TX_WINDOW];
	struct rx_slot rx[SSCOP_RX_WINDOW];
	struct queued_msg *q_head, *q_tail;
	uint32_t q_len;

	struct sscop_stats st;
};

static uint32_t seq_add(uint32_t a, uint32_t n)
{
	return (a + n) & SEQ_MASK;
}

/* Distance from base forward to a, modulo 2^24. */
static uint32_t seq_off(uint32_t a, uint32_t base)
{
	return (a - base) & SEQ_MASK;
}

/* ------------------------------------------------------------------ */
/* PDU codec                                                           */

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static void put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

/* Writes one 4-octet word: first octet, then a 24-bit field. */
static void put_word(uint8_t *p, uint8_t first, uint32_t field)
{
	p[0] = first;
	put24(p + 1, field & SEQ_MASK);
}

static uint8_t trailer_octet(enum sscop_pdu_type type, unsigned pad, bool s_bit)
{
	return (uint8_t)((pad & 3) << 6 | (s_bit ? 0x10 : 0) | type);
}

const char *sscop_pdu_type_name(unsigned type)
{
	static const char *const names[16] = {
		[SSCOP_PDU_BGN] = "BGN",     [SSCOP_PDU_BGAK] = "BGAK",
		[SSCOP_PDU_END] = "END",     [SSCOP_PDU_ENDAK] = "ENDAK",
		[SSCOP_PDU_RS] = "RS",       [SSCOP_PDU_RSAK] = "RSAK",
		[SSCOP_PDU_BGREJ] = "BGREJ", [SSCOP_PDU_SD] = "SD",
		[SSCOP_PDU_ER] = "ER",       [SSCOP_PDU_POLL] = "POLL",
		[SSCOP_PDU_STAT] = "STAT",   [SSCOP_PDU_USTAT] = "USTAT",
		[SSCOP_PDU_UD] = "UD",       [SSCOP_PDU_MD] = "MD",
		[SSCOP_PDU_ERAK] = "ERAK",
	};
	if (type >= 16 || !names[type])
		return "?";
	return names[type];
}

int sscop_pdu_parse(const uint8_t *buf, size_t len, struct sscop_pdu *pdu)
{
	memset(pdu, 0, sizeof(*pdu));
	/* Every Q.2110 PDU is a whole number of 32-bit words. */
	if (!buf || len < 4 || len % 4 != 0)
		return -EINVAL;
	const uint8_t *last = buf + len - 4;
	unsigned pad = last[0] >> 6;
	pdu->type = last[0] & 0x0f;
	switch (pdu->type) {
	case SSCOP_PDU_SD:
	case SSCOP_PDU_UD:
	case SSCOP_PDU_MD:
		/* information field of at least one octet, then the padding */
		if (len - 4 < pad + 1u)
			return -EINVAL;
		pdu->ns = get24(last + 1);
		pdu->data = buf;
		pdu->data_len = len - 4 - pad;
		if (pdu->type == SSCOP_PDU_SD && pdu->data_len > SSCOP_MAX_SDU)
			return -EINVAL;
		return 0;
	case SSCOP_PDU_BGN:
	case SSCOP_PDU_BGAK:
	case SSCOP_PDU_BGREJ:
	case SSCOP_PDU_END:
	case SSCOP_PDU_RS:
		/* optional user-to-user field, then two trailer words */
		if (len < 8 || len - 8 < pad)
			return -EINVAL;
		pdu->data = buf;
		pdu->data_len = len - 8 - pad;
		pdu->nsq = buf[len - 5];
		pdu->nmr = get24(last + 1);
		pdu->source_sscop = (last[0] & 0x10) != 0;
		return 0;
	case SSCOP_PDU_ENDAK:
	case SSCOP_PDU_RSAK:
	case SSCOP_PDU_ER:
	case SSCOP_PDU_ERAK:
		if (len != 8)
			return -EINVAL;
		pdu->nsq = buf[3];
		pdu->nmr = get24(last + 1);
		return 0;
	case SSCOP_PDU_POLL:
		if (len != 8)
			return -EINVAL;
		pdu->nps = get24(buf + 1);
		pdu->ns = get24(last + 1);
		return 0;
	case SSCOP_PDU_STAT:
		if (len < 12)
			return -EINVAL;
		pdu->list = buf;
		pdu->list_count = (len - 12) / 4;
		pdu->nps = get24(buf + len - 11);
		pdu->nmr = get24(buf + len - 7);
		pdu->nr = get24(last + 1);
		return 0;
	case SSCOP_PDU_USTAT:
		if (len != 16)
			return -EINVAL;
		pdu->list = buf;
		pdu->list_count = 2;
		pdu->nmr = get24(buf + 9);
		pdu->nr = get24(last + 1);
		return 0;
	default:
		return -EINVAL;
	}
}

uint32_t sscop_pdu_list_elem(const struct sscop_pdu *pdu, size_t i)
{
	return get24(pdu->list + 4 * i + 1);
}

size_t sscop_build_end(uint8_t *buf, size_t size, bool source_sscop)
{
	if (size < 8)
		return 0;
	put_word(buf, 0, 0);
	put_word(buf + 4, trailer_octet(SSCOP_PDU_END, 0, source_sscop), 0);
	return 8;
}

/* ------------------------------------------------------------------ */
/* Names, logging and the one transition function                      */

const char *sscop_state_name(enum sscop_state st)
{
	switch (st) {
	case SSCOP_IDLE:
		return "idle";
	case SSCOP_OUT_CONN_PENDING:
		return "outgoing";
	case SSCOP_IN_CONN_PENDING:
		return "incoming";
	case SSCOP_OUT_DISC_PENDING:
		return "releasing";
	case SSCOP_READY:
		return "ready";
	case SSCOP_STATE_COUNT:
		break;
	}
	return "?";
}

const char *sscop_timer_name(enum sscop_timer t)
{
	static const char *const names[SSCOP_TIMER_COUNT] = {
		[SSCOP_TIMER_CC] = "Timer_CC",
		[SSCOP_TIMER_POLL] = "Timer_POLL",
		[SSCOP_TIMER_KEEPALIVE] = "Timer_KEEPALIVE",
		[SSCOP_TIMER_NORESP] = "Timer_NO-RESPONSE",
		[SSCOP_TIMER_IDLE] = "Timer_IDLE",
	};
	if ((unsigned)t >= SSCOP_TIMER_COUNT)
		return "?";
	return names[t];
}

const char *sscop_reason_name(enum sscop_reason r)
{
	switch (r) {
	case SSCOP_REASON_USER:
		return "released by user";
	case SSCOP_REASON_PEER_END:
		return "released by peer";
	case SSCOP_REASON_REJECTED:
		return "rejected by peer";
	case SSCOP_REASON_NO_RESPONSE:
		return "no response";
	case SSCOP_REASON_PEER_RESTART:
		return "peer restarted";
	case SSCOP_REASON_PROTOCOL:
		return "protocol error";
	}
	return "?";
}

static const char *event_name(unsigned ev)
{
	switch (ev) {
	case EV_USER_ESTABLISH:
		return "AA-ESTABLISH.request";
	case EV_USER_RELEASE:
		return "AA-RELEASE.request";
	case EV_TIMER_CC:
		return "Timer_CC";
	case EV_TIMER_POLL:
		return "Timer_POLL";
	case EV_TIMER_KEEPALIVE:
		return "Timer_KEEPALIVE";
	case EV_TIMER_NORESP:
		return "Timer_NO-RESPONSE";
	case EV_TIMER_IDLE:
		return "Timer_IDLE";
	default:
		return sscop_pdu_type_name(ev);
	}
}

/* Every line here can be caused by a peer's frames: rate-limited. */
#define sscop_log(s, level, ...)                                                                   \
	log_at_limited(level, 0, 0, (s)->has_peer_mac ? (s)->peer_mac : NULL, __VA_ARGS__)

static void set_state(struct sscop *s, enum sscop_state next, unsigned ev, const char *why)
{
	sscop_log(s, LOG_INFO, "sscop %s -> %s on %s%s%s", sscop_state_name(s->state),
		  sscop_state_name(next), event_name(ev), why ? ": " : "", why ? why : "");
	s->state = next;
}

static void ignore_event(struct sscop *s, unsigned ev)
{
	s->st.pdus_ignored += ev < EV_USER_ESTABLISH;
	sscop_log(s, LOG_DEBUG, "sscop %s: %s ignored", sscop_state_name(s->state),
		  event_name(ev));
}

/* ------------------------------------------------------------------ */
/* Timers, transmission, buffers                                       */

static void timer_start(struct sscop *s, enum sscop_timer t)
{
	static const size_t offs[SSCOP_TIMER_COUNT] = {
		[SSCOP_TIMER_CC] = offsetof(struct sscop_params, timer_cc_ms),
		[SSCOP_TIMER_POLL] = offsetof(struct sscop_params, timer_poll_ms),
		[SSCOP_TIMER_KEEPALIVE] = offsetof(struct sscop_params, timer_keepalive_ms),
		[SSCOP_TIMER_NORESP] = offsetof(struct sscop_params, timer_noresp_ms),
		[SSCOP_TIMER_IDLE] = offsetof(struct sscop_params, timer_idle_ms),
	};
	uint32_t ms;
	memcpy(&ms, (const char *)&s->p + offs[t], sizeof(ms));
	s->timer_on[t] = true;
	s->ops.timer_start(s->ctx, t, ms);
}

static void timer_stop(struct sscop *s, enum sscop_timer t)
{
	if (!s->timer_on[t])
		return;
	s->timer_on[t] = false;
	s->ops.timer_stop(s->ctx, t);
}

static void timers_stop_all(struct sscop *s)
{
	for (int t = 0; t < SSCOP_TIMER_COUNT; t++)
		timer_stop(s, t);
}

static void emit(struct sscop *s, const uint8_t *pdu, size_t len)
{
	s->ops.transmit(s->ctx, pdu, len);
}

static void send_bgn(struct sscop *s)
{
	uint8_t b[8];
	put_word(b, 0, s->vt_sq);
	put_word(b + 4, trailer_octet(SSCOP_PDU_BGN, 0, false), s->vr_mr);
	emit(s, b, sizeof(b));
}

static void send_bgak(struct sscop *s)
{
	uint8_t b[8];
	put_word(b, 0, 0);
	put_word(b + 4, trailer_octet(SSCOP_PDU_BGAK, 0, false), s->vr_mr);
	emit(s, b, sizeof(b));
}

static void send_bgrej(struct sscop *s)
{
	uint8_t b[8];
	put_word(b, 0, 0);
	put_word(b + 4, trailer_octet(SSCOP_PDU_BGREJ, 0, false), 0);
	emit(s, b, sizeof(b));
}

static void send_end(struct sscop *s, bool source_sscop)
{
	uint8_t b[8];
	sscop_build_end(b, sizeof(b), source_sscop);
	emit(s, b, sizeof(b));
}

static void send_endak(struct sscop *s)
{
	uint8_t b[8];
	put_word(b, 0, 0);
	put_word(b + 4, trailer_octet(SSCOP_PDU_ENDAK, 0, false), 0);
	emit(s, b, sizeof(b));
}

static void send_sd(struct sscop *s, uint32_t ns, const struct queued_msg *m)
{
	uint8_t b[SSCOP_MAX_PDU];
	unsigned pad = (4 - m->len % 4) % 4;
	memcpy(b, m->data, m->len);
	memset(b + m->len, 0, pad);
	put_word(b + m->len + pad, trailer_octet(SSCOP_PDU_SD, pad, false), ns);
	emit(s, b, m->len + pad + 4);
}

/* Q.2110 POLL: asks the receiver for a STAT; VT(PS) numbers the poll. */
static void send_poll(struct sscop *s)
{
	uint8_t b[8];
	s->vt_ps = seq_add(s->vt_ps, 1);
	put_word(b, 0, s->vt_ps);
	put_word(b + 4, trailer_octet(SSCOP_PDU_POLL, 0, false), s->vt_s);
	s->vt_pd = 0;
	s->st.polls++;
	emit(s, b, sizeof(b));
}

static void send_ustat(struct sscop *s, uint32_t first_missing, uint32_t first_received)
{
	uint8_t b[16];
	put_word(b, 0, first_missing);
	put_word(b + 4, 0, first_received);
	put_word(b + 8, 0, s->vr_mr);
	put_word(b + 12, trailer_octet(SSCOP_PDU_USTAT, 0, false), s->vr_r);
	s->st.ustats++;
	emit(s, b, sizeof(b));
}

/*
 * Q.2110 STAT in answer to POLL: N(R), N(MR), the echoed N(PS) and a list
 * of gaps in [VR(R), VR(H)): each gap as (first missing, first received),
 * the last gap closing at VR(H).
 */
static void send_stat(struct sscop *s, uint32_t nps)
{
	uint8_t b[SSCOP_MAX_LIST * 4 + 12];
	size_t n = 0;
	bool in_gap = false;
	uint32_t span = seq_off(s->vr_h, s->vr_r);
	for (uint32_t i = 0; i < span && n < SSCOP_MAX_LIST; i++) {
		uint32_t seq = seq_add(s->vr_r, i);
		bool have = s->rx[seq & (SSCOP_RX_WINDOW - 1)].data != NULL;
		if (have == in_gap) {
			put_word(b + 4 * n++, 0, seq);
			in_gap = !have;
		}
	}
	if (in_gap) {
		if (n < SSCOP_MAX_LIST)
			put_word(b + 4 * n++, 0, s->vr_h);
		else
			n--; /* no room to close the gap: report it next time */
	}
	put_word(b + 4 * n, 0, nps);
	put_word(b + 4 * n + 4, 0, s->vr_mr);
	put_word(b + 4 * n + 8, trailer_octet(SSCOP_PDU_STAT, 0, false), s->vr_r);
	s->st.stats++;
	emit(s, b, 4 * n + 12);
}

static void queue_clear(struct sscop *s)
{
	while (s->q_head) {
		struct queued_msg *m = s->q_head;
		s->q_head = m->next;
		free(m);
	}
	s->q_tail = NULL;
	s->q_len = 0;
}

static void rx_slot_free(struct sscop *s, struct rx_slot *slot)
{
	if (!slot->data)
		return;
	if (s->p.rx_budget)
		s->p.rx_budget->used -= slot->len;
	free(slot->data);
	slot->data = NULL;
}

/* Drops in-flight and out-of-order data; the user queue is separate. */
static void buffers_clear(struct sscop *s)
{
	for (size_t i = 0; i < SSCOP_TX_WINDOW; i++) {
		free(s->tx[i].msg);
		s->tx[i].msg = NULL;
	}
	for (size_t i = 0; i < SSCOP_RX_WINDOW; i++)
		rx_slot_free(s, &s->rx[i]);
	s->vt_a = s->vt_s; /* nothing is outstanding any more */
	s->epoch++;
}

/* Q.2110 "initialize state variables" on entering data transfer. */
static void data_vars_init(struct sscop *s, uint32_t peer_nmr)
{
	buffers_clear(s);
	s->vt_s = s->vt_ps = s->vt_a = s->vt_pa = s->vt_pd = 0;
	s->vt_ms = peer_nmr & SEQ_MASK;
	s->vr_r = s->vr_h = 0;
	s->vr_mr = SSCOP_RX_WINDOW;
	s->proven = false;
}

/* Leaving the association for good: buffers and queue are lost. */
static void teardown(struct sscop *s)
{
	timers_stop_all(s);
	buffers_clear(s);
	queue_clear(s);
}

static void report_down(struct sscop *s, enum sscop_reason why)
{
	if (why != SSCOP_REASON_USER && why != SSCOP_REASON_PEER_END)
		s->st.failures++;
	sscop_log(s, why == SSCOP_REASON_USER ? LOG_INFO : LOG_NOTICE, "sscop association down: %s",
		  sscop_reason_name(why));
	s->ops.down(s->ctx, why);
}

/*
 * Q.2110 timer discipline in data transfer: Timer_POLL runs while the
 * transmitter is active (SDs outstanding); sending an SD from the
 * keep-alive or idle phase makes it active again.
 */
static void data_timers_on_send(struct sscop *s)
{
	if (s->timer_on[SSCOP_TIMER_POLL])
		return;
	if (s->timer_on[SSCOP_TIMER_IDLE]) {
		timer_stop(s, SSCOP_TIMER_IDLE);
		timer_start(s, SSCOP_TIMER_NORESP);
	}
	timer_stop(s, SSCOP_TIMER_KEEPALIVE);
	timer_start(s, SSCOP_TIMER_POLL);
}

static bool tx_has_credit(const struct sscop *s)
{
	uint32_t outstanding = seq_off(s->vt_s, s->vt_a);
	return outstanding < SSCOP_TX_WINDOW - 1 && outstanding < seq_off(s->vt_ms, s->vt_a);
}

/* Sends queued messages while the peer's window N(MR) allows. */
static void tx_pump(struct sscop *s)
{
	while (s->state == SSCOP_READY && s->q_head && tx_has_credit(s)) {
		struct queued_msg *m = s->q_head;
		s->q_head = m->next;
		if (!s->q_head)
			s->q_tail = NULL;
		s->q_len--;
		struct tx_slot *slot = &s->tx[s->vt_s & (SSCOP_TX_WINDOW - 1)];
		slot->msg = m;
		slot->ps_at_tx = s->vt_ps;
		slot->acked = false;
		send_sd(s, s->vt_s, m);
		s->vt_s = seq_add(s->vt_s, 1);
		s->vt_pd++;
		s->st.sd_tx++;
		data_timers_on_send(s);
		if (s->vt_pd >= s->p.max_pd) {
			send_poll(s);
			timer_stop(s, SSCOP_TIMER_POLL);
			timer_start(s, SSCOP_TIMER_POLL);
		}
	}
}

static void retransmit(struct sscop *s, uint32_t seq)
{
	struct tx_slot *slot = &s->tx[seq & (SSCOP_TX_WINDOW - 1)];
	if (!slot->msg || slot->acked)
		return;
	slot->ps_at_tx = s->vt_ps;
	send_sd(s, seq, slot->msg);
	s->st.retransmits++;
	data_timers_on_send(s);
}

/* Frees every SD below nr (cumulative acknowledgement). */
static void ack_upto(struct sscop *s, uint32_t nr)
{
	while (s->vt_a != nr) {
		struct tx_slot *slot = &s->tx[s->vt_a & (SSCOP_TX_WINDOW - 1)];
		free(slot->msg);
		slot->msg = NULL;
		s->vt_a = seq_add(s->vt_a, 1);
	}
}

/* N(R) must lie in [VT(A), VT(S)]. */
static bool nr_valid(const struct sscop *s, uint32_t nr)
{
	return seq_off(nr, s->vt_a) <= seq_off(s->vt_s, s->vt_a);
}

/* List elements non-decreasing within [N(R), VT(S)]. */
static bool list_valid(const struct sscop *s, const struct sscop_pdu *pdu)
{
	uint32_t prev = seq_off(pdu->nr, s->vt_a);
	uint32_t top = seq_off(s->vt_s, s->vt_a);
	for (size_t i = 0; i < pdu->list_count; i++) {
		uint32_t off = seq_off(sscop_pdu_list_elem(pdu, i), s->vt_a);
		if (off < prev || off > top)
			return false;
		prev = off;
	}
	return true;
}

static void deliver_one(struct sscop *s, const uint8_t *data, size_t len)
{
	s->st.sd_rx++;
	s->ops.deliver(s->ctx, data, len);
}

/* Common entry to data transfer ready (Q.2110 BGAK received / BGN accepted). */
static void enter_ready(struct sscop *s, uint32_t peer_nmr, unsigned ev)
{
	data_vars_init(s, peer_nmr);
	set_state(s, SSCOP_READY, ev, NULL);
	s->st.establishments++;
	timer_start(s, SSCOP_TIMER_POLL);
	timer_start(s, SSCOP_TIMER_NORESP);
	/* Messages queued while establishing go first, ahead of any the
	 * up callback adds. */
	uint32_t epoch = s->epoch;
	tx_pump(s);
	if (s->epoch == epoch && s->state == SSCOP_READY)
		s->ops.up(s->ctx);
}

/* Begin a new connection: Q.2110 AA-ESTABLISH.request in Idle. */
static void start_establish(struct sscop *s, unsigned ev)
{
	timers_stop_all(s);
	buffers_clear(s);
	s->vr_r = s->vr_h = 0;
	s->vr_mr = SSCOP_RX_WINDOW;
	s->vt_sq++;
	s->vt_cc = 1;
	s->bgn_on_poll = false;
	s->bgrej_seen = false;
	send_bgn(s);
	timer_start(s, SSCOP_TIMER_CC);
	set_state(s, SSCOP_OUT_CONN_PENDING, ev, NULL);
}

static void dispatch(struct sscop *s, unsigned ev, const struct sscop_pdu *pdu);

/* ------------------------------------------------------------------ */
/* State Idle (Q.2110 state 1)                                         */

/* Q.2110 Idle, AA-ESTABLISH.request: send BGN, start Timer_CC. */
static void idle_user_establish(struct sscop *s, unsigned ev)
{
	start_establish(s, ev);
}

/*
 * Q.2110 "detect retransmission": a BGN carrying the N(SQ) of the last BGN
 * we took repeats one we have answered already.  Otherwise VR(SQ) learns it.
 */
static bool bgn_is_retransmission(struct sscop *s, const struct sscop_pdu *pdu)
{
	if (s->vr_sq_valid && pdu->nsq == s->vr_sq) {
		s->st.pdus_ignored++;
		return true;
	}
	s->vr_sq = pdu->nsq;
	s->vr_sq_valid = true;
	return false;
}

/* Takes a new BGN: its N(MR) waits for the answer in Incoming Connection
 * Pending, where a user's AA-ESTABLISH.request is the acceptance. */
static void take_bgn(struct sscop *s, const struct sscop_pdu *pdu, unsigned ev, const char *why)
{
	s->pending_nmr = pdu->nmr;
	queue_clear(s);
	set_state(s, SSCOP_IN_CONN_PENDING, ev, why);
}

static void answer_incoming(struct sscop *s)
{
	if (s->p.auto_accept)
		dispatch(s, EV_USER_ESTABLISH, NULL);
	else
		s->ops.incoming(s->ctx);
}

/*
 * Q.2110 Idle, BGN: AA-ESTABLISH.indication; with auto-accept answer BGAK.
 * A retransmission of the BGN we took last is refused with BGREJ (Q.2110):
 * that association is over, and the peer must not believe otherwise.
 */
static void idle_bgn(struct sscop *s, const struct sscop_pdu *pdu, unsigned ev)
{
	if (bgn_is_retransmission(s, pdu)) {
		send_bgrej(s);
		return;
	}
	take_bgn(s, pdu, ev, NULL);
	answer_incoming(s);
}

/* Q.2110 Idle, END: acknowledge so the peer can finish its release. */
static void idle_end(struct sscop *s, unsigned ev)
{
	send_endak(s);
}

/*
 * Q.2110 Idle, SD/POLL/STAT/USTAT/BGAK/RS/ER: the peer believes in an
 * association we do not have (we restarted): tell it with END (S=1).
 */
static void idle_stray_pdu(struct sscop *s, unsigned ev)
{
	s->st.pdus_ignored++;
	sscop_log(s, LOG_DEBUG, "sscop idle: stray %s, answering END", event_name(ev));
	send_end(s, true);
}

static void idle_event(struct sscop *s, unsigned ev, const struct sscop_pdu *pdu)
{
	switch (ev) {
	case EV_USER_ESTABLISH:
		idle_user_establish(s, ev);
		break;
	case SSCOP_PDU_BGN:
		idle_bgn(s, pdu, ev);
		break;
	case SSCOP_PDU_END:
		idle_end(s, ev);
		break;
	case SSCOP_PDU_SD:
	case SSCOP_PDU_POLL:
	case SSCOP_PDU_STAT:
	case SSCOP_PDU_USTAT:
	case SSCOP_PDU_BGAK:
	case SSCOP_PDU_RS:
	case SSCOP_PDU_ER:
		idle_stray_pdu(s, ev);
		break;
	case EV_USER_RELEASE:     /* nothing to release */
	case SSCOP_PDU_BGREJ:     /* Q.2110 Idle: ignore */
	case SSCOP_PDU_ENDAK:     /* Q.2110 Idle: ignore */
	case SSCOP_PDU_RSAK:
	case SSCOP_PDU_ERAK:
	case SSCOP_PDU_UD:
	case SSCOP_PDU_MD:
	case EV_TIMER_CC:
	case EV_TIMER_POLL:
	case EV_TIMER_KEEPALIVE:
	case EV_TIMER_NORESP:
	case EV_TIMER_IDLE:
	default:
		ignore_event(s, ev);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* State Outgoing Connection Pending (Q.2110 state 2)                  */

/* Q.2110 OCP, BGAK: AA-ESTABLISH.confirm, enter data transfer. */
static void ocp_bgak(struct sscop *s, const struct sscop_pdu *pdu, unsigned ev)
{
	timer_stop(s, SSCOP_TIMER_CC);
	enter_ready(s, pdu->nmr, ev);
}

/*
 * Q.2110 OCP, BGN (both sides began at once): accept the peer's BGN.  One
 * we took before is a retransmission from an earlier round (it waited in
 * a queue while the peer was stopped): crossing it would put the peer in a
 * state it has left, so it is ignored and our own BGN stands.
 */
static void ocp_bgn(struct sscop *s, const struct sscop_pdu *pdu, unsigned ev)
{
	if (bgn_is_retransmission(s, pdu))
		return;
	timer_stop(s, SSCOP_TIMER_CC);
	send_bgak(s);
	enter_ready(s, pdu->nmr, ev);
}

/*
 * Q.2110 OCP, BGREJ: AA-RELEASE.indication (establishment refused) — after
 * one BGN of a new N(SQ) (see the deviations above).  The messages queued
 * meanwhile stay queued for the association that BGN may make.
 */
static void ocp_bgrej(struct sscop *s, unsigned ev)
{
	if (!s->bgrej_seen) {
		s->bgrej_seen = true;
		sscop_log(s, LOG_INFO,
			  "sscop outgoing: BGREJ, BGN again with a new N(SQ) (the peer may hold "
			  "ours from before a restart)");
		s->vt_sq++;
		s->vt_cc = 1;
		s->bgn_on_poll = false;
		timer_stop(s, SSCOP_TIMER_CC);
		send_bgn(s);
		timer_start(s, SSCOP_TIMER_CC);
		return;
	}
	teardown(s);
	set_state(s, SSCOP_IDLE, ev, NULL);
	report_down(s, SSCOP_REASON_REJECTED);
}

/* Q.2110 OCP, END: send ENDAK, AA-RELEASE.indication. */
static void ocp_end(struct sscop *s, unsigned ev)
{
	teardown(s);
	send_endak(s);
	set_state(s, SSCOP_IDLE, ev, NULL);
	report_down(s, SSCOP_REASON_PEER_END);
}

/* Q.2110 OCP, Timer_CC: resend BGN until MaxCC, then give up. */
static void ocp_timer_cc(struct sscop *s, unsigned ev)
{
	if (s->vt_cc >= s->p.max_cc) {
		teardown(s);
		send_end(s, true);
		set_state(s, SSCOP_IDLE, ev, "MaxCC reached");
		report_down(s, SSCOP_REASON_NO_RESPONSE);
		return;
	}
	s->vt_cc++;
	s->bgn_on_poll = false;
	send_bgn(s);
	timer_start(s, SSCOP_TIMER_CC);
}

/*
 * AA-RELEASE.request in OCP or Ready: send END and wait for ENDAK in ODP.
 * Q.2110 gives both states the same procedure.
 */
static void user_release_to_odp(struct sscop *s, unsigned ev)
{
	teardown(s);
	s->vt_cc = 1;
	send_end(s, false);
	timer_start(s, SSCOP_TIMER_CC);
	set_state(s, SSCOP_OUT_DISC_PENDING, ev, NULL);
	report_down(s, SSCOP_REASON_USER);
}

/*
 * OCP, POLL: the peer is in data transfer, either with the association
 * our BGN asked for (its BGAK was lost) or with one from before.  Either
 * way it needs our BGN: send it again now (same N(SQ), answered with BGAK
 * or taken as a new association) rather than at Timer_CC, which may come
 * after the peer's Timer_NO-RESPONSE has ended the association under loss.
 * Once per Timer_CC period: every copy of a BGN in flight is one that a
 * reordering network may deliver after the next association began, where
 * its old N(SQ) would end that one.  Neither Timer_CC nor VT(CC) changes.
 */
static void ocp_poll(struct sscop *s)
{
	if (s->bgn_on_poll)
		return;
	s->bgn_on_poll = true;
	send_bgn(s);
}

/* Q.2110 OCP, AA-RELEASE.request. */
static void ocp_user_release(struct sscop *s, unsigned ev)
{
	user_release_to_odp(s, ev);
}

static void ocp_event(struct sscop *s, unsigned ev, const struct sscop_pdu *pdu)
{
	switch (ev) {
	case SSCOP_PDU_BGAK:
		ocp_bgak(s, pdu, ev);
		break;
	case SSCOP_PDU_BGN:
		ocp_bgn(s, pdu, ev);
		break;
	case SSCOP_PDU_POLL:
		ocp_poll(s);
		break;
	case SSCOP_PDU_BGREJ:
		ocp_bgrej(s, ev);
		break;
	case SSCOP_PDU_END:
		ocp_end(s, ev);
		break;
	case EV_TIMER_CC:
		ocp_timer_cc(s, ev);
		break;
	case EV_USER_RELEASE:
		ocp_user_release(s, ev);
		break;
	case EV_USER_ESTABLISH: /* already establishing */
	case SSCOP_PDU_ENDAK:   /* Q.2110 OCP: ignore */
	case SSCOP_PDU_SD:      /* from an association the peer still holds; */
				/* our BGN will end it */
	case SSCOP_PDU_STAT:
	case SSCOP_PDU_USTAT:
	case SSCOP_PDU_RS:
	case SSCOP_PDU_RSAK:
	case SSCOP_PDU_ER:
	case SSCOP_PDU_ERAK:
	case SSCOP_PDU_UD:
	case SSCOP_PDU_MD:
	case EV_TIMER_POLL:
	case EV_TIMER_KEEPALIVE:
	case EV_TIMER_NORESP:
	case EV_TIMER_IDLE:
	default:
		ignore_event(s, ev);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* State Incoming Connection Pending (Q.2110 state 3)                  */

/* Q.2110 ICP, AA-ESTABLISH.response: send BGAK, enter data transfer. */
static void icp_user_accept(struct sscop *s, unsigned ev)
{
	s->vr_mr = SSCOP_RX_WINDOW;
	send_bgak(s);
	enter_ready(s, s->pending_nmr, ev);
}

/* Q.2110 ICP, AA-RELEASE.request: refuse with BGREJ. */
static void icp_user_reject(struct sscop *s, unsigned ev)
{
	send_bgrej(s);
	set_state(s, SSCOP_IDLE, ev, NULL);
}

/* Q.2110 ICP, BGN: a retransmission while our user decides is ignored; a
 * new N(SQ) replaces the pending one (its N(MR) is the one to use). */
static void icp_bgn(struct sscop *s, const struct sscop_pdu *pdu, unsigned ev)
{
	if (bgn_is_retransmission(s, pdu))
		return;
	s->pending_nmr = pdu->nmr;
}

/* Q.2110 ICP, END: the peer gave up; acknowledge. */
static void icp_end(struct sscop *s, unsigned ev)
{
	send_endak(s);
	set_state(s, SSCOP_IDLE, ev, NULL);
}

static void icp_event(struct sscop *s, unsigned ev, const struct sscop_pdu *pdu)
{
	switch (ev) {
	case EV_USER_ESTABLISH:
		icp_user_accept(s, ev);
		break;
	case EV_USER_RELEASE:
		icp_user_reject(s, ev);
		break;
	case SSCOP_PDU_BGN:
		icp_bgn(s, pdu, ev);
		break;
	case SSCOP_PDU_END:
		icp_end(s, ev);
		break;
	case SSCOP_PDU_BGAK:
	case SSCOP_PDU_BGREJ:
	case SSCOP_PDU_ENDAK:
	case SSCOP_PDU_SD:
	case SSCOP_PDU_POLL:
	case SSCOP_PDU_STAT:
	case SSCOP_PDU_USTAT:
	case SSCOP_PDU_RS:
	case SSCOP_PDU_RSAK:
	case SSCOP_PDU_ER:
	case SSCOP_PDU_ERAK:
	case SSCOP_PDU_UD:
	case SSCOP_PDU_MD:
	case EV_TIMER_CC:
	case EV_TIMER_POLL:
	case EV_TIMER_KEEPALIVE:
	case EV_TIMER_NORESP:
	case EV_TIMER_IDLE:
	default:
		ignore_event(s, ev);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* State Outgoing Disconnection Pending (Q.2110 state 4)               */

/* Q.2110 ODP, ENDAK: AA-RELEASE.confirm. */
static void odp_endak(struct sscop *s, unsigned ev)
{
	timer_stop(s, SSCOP_TIMER_CC);
	set_state(s, SSCOP_IDLE, ev, NULL);
}

/* Q.2110 ODP, END (releases crossed): send ENDAK, AA-RELEASE.confirm. */
static void odp_end(struct sscop *s, unsigned ev)
{
	timer_stop(s, SSCOP_TIMER_CC);
	send_endak(s);
	set_state(s, SSCOP_IDLE, ev, NULL);
}

/* Q.2110 ODP, Timer_CC: resend END until MaxCC, then consider it done. */
static void odp_timer_cc(struct sscop *s, unsigned ev)
{
	if (s->vt_cc >= s->p.max_cc) {
		set_state(s, SSCOP_IDLE, ev, "MaxCC reached");
		return;
	}
	s->vt_cc++;
	send_end(s, false);
	timer_start(s, SSCOP_TIMER_CC);
}

/*
 * Q.2110 ODP, BGN: a new one supersedes our release; take it.  A
 * retransmission of the BGN that began the association we are releasing
 * lost its BGAK: BGAK it and repeat our END, as Q.2110 does.
 */
static void odp_bgn(struct sscop *s, const struct sscop_pdu *pdu, unsigned ev)
{
	if (bgn_is_retransmission(s, pdu)) {
		send_bgak(s);
		send_end(s, false);
		return;
	}
	timer_stop(s, SSCOP_TIMER_CC);
	take_bgn(s, pdu, ev, "release superseded");
	answer_incoming(s);
}

/* Q.2110 ODP, AA-ESTABLISH.request: abandon the release, send BGN. */
static void odp_user_establish(struct sscop *s, unsigned ev)
{
	start_establish(s, ev);
}

static void odp_event(struct sscop *s, unsigned ev, const struct sscop_pdu *pdu)
{
	switch (ev) {
	case SSCOP_PDU_ENDAK:
		odp_endak(s, ev);
		break;
	case SSCOP_PDU_END:
		odp_end(s, ev);
		break;
	case EV_TIMER_CC:
		odp_timer_cc(s, ev);
		break;
	case SSCOP_PDU_BGN:
		odp_bgn(s, pdu, ev);
		break;
	case EV_USER_ESTABLISH:
		odp_user_establish(s, ev);
		break;
	case EV_USER_RELEASE: /* already releasing */
	case SSCOP_PDU_BGAK:
	case SSCOP_PDU_BGREJ:
	case SSCOP_PDU_SD:
	case SSCOP_PDU_POLL:
	case SSCOP_PDU_STAT:
	case SSCOP_PDU_USTAT:
	case SSCOP_PDU_RS:
	case SSCOP_PDU_RSAK:
	case SSCOP_PDU_ER:
	case SSCOP_PDU_ERAK:
	case SSCOP_PDU_UD:
	case SSCOP_PDU_MD:
	case EV_TIMER_POLL:
	case EV_TIMER_KEEPALIVE:
	case EV_TIMER_NORESP:
	case EV_TIMER_IDLE:
	default:
		ignore_event(s, ev);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* State Data Transfer Ready (Q.2110 state 10)                         */

/* Q.2110 Ready, SD: deliver in sequence, buffer ahead of a gap, USTAT a new gap. */
static void ready_sd(struct sscop *s, const struct sscop_pdu *pdu, unsigned ev)
{
	uint32_t off = seq_off(pdu->ns, s->vr_r);
	if (off >= seq_off(s->vr_mr, s->vr_r)) {
		/* below VR(R): a duplicate; at or above VR(MR): beyond our credit */
		s->st.pdus_ignored++;
		return;
	}
	if (off == 0) {
		uint32_t epoch = s->epoch;
		uint32_t old_r = s->vr_r;
		s->vr_r = seq_add(s->vr_r, 1);
		s->vr_mr = seq_add(s->vr_r, SSCOP_RX_WINDOW);
		if (seq_off(s->vr_h, old_r) < 1)
			s->vr_h = s->vr_r;
		deliver_one(s, pdu->data, pdu->data_len);
		/* Drain what the gap was holding back, noticing if a callback
		 * released or restarted the association under us. */
		while (s->epoch == epoch && s->state == SSCOP_READY) {
			struct rx_slot *slot = &s->rx[s->vr_r & (SSCOP_RX_WINDOW - 1)];
			if (!slot->data)
				break;
			uint8_t *data = slot->data;
			size_t len = slot->len;
			slot->data = NULL;
			if (s->p.rx_budget)
				s->p.rx_budget->used -= len;
			old_r = s->vr_r;
			s->vr_r = seq_add(s->vr_r, 1);
			s->vr_mr = seq_add(s->vr_r, SSCOP_RX_WINDOW);
			if (seq_off(s->vr_h, old_r) < 1)
				s->vr_h = s->vr_r;
			deliver_one(s, data, len);
			free(data);
		}
		return;
	}
	struct rx_slot *slot = &s->rx[pdu->ns & (SSCOP_RX_WINDOW - 1)];
	if (slot->data) {
		s->st.pdus_ignored++;
		return;
	}
	struct sscop_rx_budget *b = s->p.rx_budget;
	if (b && b->used + pdu->data_len > b->limit) {
		s->st.rx_budget_drops++;
		return; /* as if lost: it will be retransmitted */
	}
	slot->data = malloc(pdu->data_len);
	if (!slot->data)
		log_oom("an out-of-order SD kept for delivery");
	memcpy(slot->data, pdu->data, pdu->data_len);
	slot->len = (uint16_t)pdu->data_len;
	if (b)
		b->used += pdu->data_len;
	uint32_t h_off = seq_off(s->vr_h, s->vr_r);
	if (off > h_off)
		send_ustat(s, s->vr_h, pdu->ns);
	if (off >= h_off)
		s->vr_h = seq_add(pdu->ns, 1);
}

/* Q.2110 Ready, POLL: VR(H) learns how far the sender got; answer STAT. */
static void ready_poll(struct sscop *s, const struct sscop_pdu *pdu, unsigned ev)
{
	uint32_t off = seq_off(pdu->ns, s->vr_r);
	if (off > seq_off(s->vr_mr, s->vr_r)) {
		/* the sender claims SDs beyond the credit we gave: broken peer */
		s->st.pdus_ignored++;
		return;
	}
	if (off > seq_off(s->vr_h, s->vr_r))
		s->vr_h = pdu->ns;
	send_stat(s, pdu->nps);
}

/* Q.2110 Ready, STAT: acknowledge, retransmit what the list says is missing. */
static void ready_stat(struct sscop *s, const struct sscop_pdu *pdu, unsigned ev)
{
	if (!nr_valid(s, pdu->nr) || !list_valid(s, pdu) ||
	    seq_off(pdu->nps, s->vt_pa) > seq_off(s->vt_ps, s->vt_pa)) {
		s->st.pdus_ignored++;
		sscop_log(s, LOG_DEBUG, "sscop: invalid STAT dropped");
		return;
	}
	ack_upto(s, pdu->nr);
	/* N(PS) 0 echoes no POLL of ours: anyone could send that */
	if (pdu->nps != 0)
		s->proven = true;
	s->vt_pa = pdu->nps;
	s->vt_ms = pdu->nmr;
	for (size_t i = 0; i + 1 < pdu->list_count; i += 2) {
		uint32_t from = sscop_pdu_list_elem(pdu, i);
		uint32_t to = sscop_pdu_list_elem(pdu, i + 1);
		for (uint32_t seq = from; seq != to; seq = seq_add(seq, 1)) {
			struct tx_slot *slot = &s->tx[seq & (SSCOP_TX_WINDOW - 1)];
			/* only what was sent before that POLL can be known lost */
			uint32_t since = seq_off(pdu->nps, slot->ps_at_tx);
			if (since != 0 && since < SSCOP_SEQ_MOD / 2)
				retransmit(s, seq);
		}
		if (i + 2 < pdu->list_count) {
			uint32_t next = sscop_pdu_list_elem(pdu, i + 2);
			for (uint32_t seq = to; seq != next; seq = seq_add(seq, 1))
				s->tx[seq & (SSCOP_TX_WINDOW - 1)].acked = true;
		}
	}
	if (s->timer_on[SSCOP_TIMER_POLL]) {
		timer_stop(s, SSCOP_TIMER_NORESP);
		timer_start(s, SSCOP_TIMER_NORESP);
	} else if (!s->timer_on[SSCOP_TIMER_IDLE]) {
		/* answer to a keep-alive POLL: nothing to do, go idle */
		timer_stop(s, SSCOP_TIMER_KEEPALIVE);
		timer_stop(s, SSCOP_TIMER_NORESP);
		timer_start(s, SSCOP_TIMER_IDLE);
	}
	tx_pump(s);
}

/* Q.2110 Ready, USTAT: the receiver saw a gap; retransmit it at once. */
static void ready_ustat(struct sscop *s, const struct sscop_pdu *pdu, unsigned ev)
{
	if (!nr_valid(s, pdu->nr) || !list_valid(s, pdu)) {
		s->st.pdus_ignored++;
		return;
	}
	ack_upto(s, pdu->nr);
	s->vt_ms = pdu->nmr;
	uint32_t from = sscop_pdu_list_elem(pdu, 0);
	uint32_t to = sscop_pdu_list_elem(pdu, 1);
	for (uint32_t seq = from; seq != to; seq = seq_add(seq, 1))
		retransmit(s, seq);
	tx_pump(s);
}

/* Q.2110 Ready, Timer_POLL: poll again; with nothing outstanding, keep alive. */
static void ready_timer_poll(struct sscop *s, unsigned ev)
{
	send_poll(s);
	if (s->vt_a != s->vt_s)
		timer_start(s, SSCOP_TIMER_POLL);
	else
		timer_start(s, SSCOP_TIMER_KEEPALIVE);
}

/* Q.2110 Ready, Timer_KEEPALIVE: poll, and treat the answer as the active phase. */
static void ready_timer_keepalive(struct sscop *s, unsigned ev)
{
	send_poll(s);
	timer_start(s, SSCOP_TIMER_POLL);
}

/* Q.2110 Ready, Timer_IDLE: leave the idle phase with a POLL that must be answered. */
static void ready_timer_idle(struct sscop *s, unsigned ev)
{
	timer_start(s, SSCOP_TIMER_NORESP);
	send_poll(s);
	timer_start(s, SSCOP_TIMER_POLL);
}

/* Q.2110 Ready, Timer_NO-RESPONSE: MAA-ERROR P, the link is dead: END, release. */
static void ready_timer_noresp(struct sscop *s, unsigned ev)
{
	teardown(s);
	send_end(s, true);
	set_state(s, SSCOP_IDLE, ev, "no STAT from peer");
	report_down(s, SSCOP_REASON_NO_RESPONSE);
}

/*
 * Q.2110 Ready, BGN: with the N(SQ) we accepted last it is a retransmission
 * (our BGAK was lost): BGAK again.  With a new N(SQ) the peer has started a
 * new association (it restarted): report ours down from Incoming Connection
 * Pending, then accept the new one.  The order matters: a user that answers
 * the down with AA-ESTABLISH.request (daemon.c does while T309 runs) then
 * accepts this BGN instead of sending a BGN of its own, which the peer
 * would take for a restart in turn, round after round.
 */
static void ready_bgn(struct sscop *s, const struct sscop_pdu *pdu, unsigned ev)
{
	if (bgn_is_retransmission(s, pdu)) {
		send_bgak(s);
		return;
	}
	teardown(s);
	take_bgn(s, pdu, ev, "peer began a new association");
	uint32_t epoch = s->epoch;
	report_down(s, SSCOP_REASON_PEER_RESTART);
	if (s->epoch == epoch && s->state == SSCOP_IN_CONN_PENDING)
		answer_incoming(s);
}

/* Q.2110 Ready, END: send ENDAK, AA-RELEASE.indication. */
static void ready_end(struct sscop *s, unsigned ev)
{
	teardown(s);
	send_endak(s);
	set_state(s, SSCOP_IDLE, ev, NULL);
	report_down(s, SSCOP_REASON_PEER_END);
}

/*
 * Q.2110 Ready, ENDAK or BGREJ (MAA-ERROR F, D): answers to an END or BGN
 * of an earlier round; ignored (see the deviations at the top).
 */
static void ready_stale_answer(struct sscop *s, unsigned ev)
{
	s->st.pdus_ignored++;
	sscop_log(s, LOG_DEBUG, "sscop ready: stale %s ignored", event_name(ev));
}

/* Q.2110 Ready, AA-RELEASE.request. */
static void ready_user_release(struct sscop *s, unsigned ev)
{
	user_release_to_odp(s, ev);
}

static void ready_event(struct sscop *s, unsigned ev, const struct sscop_pdu *pdu)
{
	switch (ev) {
	case SSCOP_PDU_SD:
		ready_sd(s, pdu, ev);
		break;
	case SSCOP_PDU_POLL:
		ready_poll(s, pdu, ev);
		break;
	case SSCOP_PDU_STAT:
		ready_stat(s, pdu, ev);
		break;
	case SSCOP_PDU_USTAT:
		ready_ustat(s, pdu, ev);
		break;
	case EV_TIMER_POLL:
		ready_timer_poll(s, ev);
		break;
	case EV_TIMER_KEEPALIVE:
		ready_timer_keepalive(s, ev);
		break;
	case EV_TIMER_IDLE:
		ready_timer_idle(s, ev);
		break;
	case EV_TIMER_NORESP:
		ready_timer_noresp(s, ev);
		break;
	case SSCOP_PDU_BGN:
		ready_bgn(s, pdu, ev);
		break;
	case SSCOP_PDU_END:
		ready_end(s, ev);
		break;
	case SSCOP_PDU_ENDAK:
	case SSCOP_PDU_BGREJ:
		ready_stale_answer(s, ev);
		break;
	case EV_USER_RELEASE:
		ready_user_release(s, ev);
		break;
	case EV_USER_ESTABLISH: /* already established */
	case SSCOP_PDU_BGAK:    /* a late duplicate */
	case SSCOP_PDU_RS:      /* resynchronisation and error recovery */
	case SSCOP_PDU_RSAK:    /* are not implemented (see the top) */
	case SSCOP_PDU_ER:
	case SSCOP_PDU_ERAK:
	case SSCOP_PDU_UD:
	case SSCOP_PDU_MD:
	case EV_TIMER_CC:
	default:
		ignore_event(s, ev);
		break;
	}
}

static void dispatch(struct sscop *s, unsigned ev, const struct sscop_pdu *pdu)
{
	switch (s->state) {
	case SSCOP_IDLE:
		idle_event(s, ev, pdu);
		break;
	case SSCOP_OUT_CONN_PENDING:
		ocp_event(s, ev, pdu);
		break;
	case SSCOP_IN_CONN_PENDING:
		icp_event(s, ev, pdu);
		break;
	case SSCOP_OUT_DISC_PENDING:
		odp_event(s, ev, pdu);
		break;
	case SSCOP_READY:
		ready_event(s, ev, pdu);
		break;
	case SSCOP_STATE_COUNT:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Public entry points                                                 */

void sscop_params_defaults(struct sscop_params *p)
{
	memset(p, 0, sizeof(*p));
	p->timer_cc_ms = 1000;
	p->timer_poll_ms = 750;
	p->timer_keepalive_ms = 2000;
	p->timer_noresp_ms = 7000;
	p->timer_idle_ms = 15000;
	p->max_cc = 4;
	p->max_pd = 25;
	p->max_queue = 1024;
	p->auto_accept = true;
}

struct sscop *sscop_create(const struct sscop_params *p, const struct sscop_ops *ops, void *ctx)
{
	struct sscop *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->p = *p;
	if (s->p.max_cc == 0)
		s->p.max_cc = 1;
	if (s->p.max_pd == 0)
		s->p.max_pd = 1;
	if (p->log_peer) {
		memcpy(s->peer_mac, p->log_peer, 6);
		s->has_peer_mac = true;
	}
	s->p.log_peer = NULL;
	s->ops = *ops;
	s->ctx = ctx;
	s->state = SSCOP_IDLE;
	s->vt_sq = p->initial_sq;
	s->vr_sq = (uint8_t)(p->initial_sq + 128);
	s->vr_mr = SSCOP_RX_WINDOW;
	return s;
}

void sscop_destroy(struct sscop *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < SSCOP_TX_WINDOW; i++)
		free(s->tx[i].msg);
	for (size_t i = 0; i < SSCOP_RX_WINDOW; i++)
		rx_slot_free(s, &s->rx[i]);
	queue_clear(s);
	free(s);
}

void sscop_establish(struct sscop *s)
{
	dispatch(s, EV_USER_ESTABLISH, NULL);
}

void sscop_release(struct sscop *s)
{
	dispatch(s, EV_USER_RELEASE, NULL);
}

/* Q.2110 AA-DATA.request: queue, then send as far as credit allows. */
static int ready_user_data(struct sscop *s, const uint8_t *msg, size_t len)
{
	if (s->q_len >= s->p.max_queue)
		return -ENOBUFS;
	struct queued_msg *m = malloc(sizeof(*m) + len);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->len = (uint16_t)len;
	memcpy(m->data, msg, len);
	if (s->q_tail)
		s->q_tail->next = m;
	else
		s->q_head = m;
	s->q_tail = m;
	s->q_len++;
	tx_pump(s);
	return 0;
}

int sscop_send(struct sscop *s, const uint8_t *msg, size_t len)
{
	if (len == 0 || len > SSCOP_MAX_SDU)
		return -EMSGSIZE;
	switch (s->state) {
	case SSCOP_READY:
	case SSCOP_OUT_CONN_PENDING: /* held until BGAK */
		return ready_user_data(s, msg, len);
	case SSCOP_IDLE:
	case SSCOP_IN_CONN_PENDING:
	case SSCOP_OUT_DISC_PENDING:
	case SSCOP_STATE_COUNT:
		break;
	}
	return -ENOTCONN;
}

int sscop_receive(struct sscop *s, const uint8_t *buf, size_t len)
{
	struct sscop_pdu pdu;
	if (sscop_pdu_parse(buf, len, &pdu) < 0) {
		s->st.pdus_ignored++;
		sscop_log(s, LOG_DEBUG, "sscop: malformed PDU of %zu octets dropped", len);
		return -EINVAL;
	}
	dispatch(s, pdu.type, &pdu);
	return 0;
}

void sscop_timer_expired(struct sscop *s, enum sscop_timer t)
{
	if ((unsigned)t >= SSCOP_TIMER_COUNT || !s->timer_on[t])
		return; /* stopped after the owner's timer fired: stale */
	s->timer_on[t] = false;
	dispatch(s, EV_TIMER_CC + t, NULL);
}

enum sscop_state sscop_get_state(const struct sscop *s)
{
	return s->state;
}

bool sscop_timer_running(const struct sscop *s, enum sscop_timer t)
{
	return (unsigned)t < SSCOP_TIMER_COUNT && s->timer_on[t];
}

void sscop_get_stats(const struct sscop *s, struct sscop_stats *out)
{
	*out = s->st;
}

bool sscop_peer_proven(const struct sscop *s)
{
	return s->state == SSCOP_READY && s->proven;
}

uint32_t sscop_queued(const struct sscop *s)
{
	return s->q_len + seq_off(s->vt_s, s->vt_a);
}
