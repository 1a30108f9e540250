/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the pure SSCOP machine (Q.2110) fed received PDUs,
 * timer expiries and user requests, starting from each of its states.
 *
 * Input: three header octets, then records.
 *   [0] start state (low 3 bits, mod 5), bit 3 auto-accept, bits 4-5 what
 *       the callbacks do on their own (see enum reenter), bit 6 queue three
 *       messages before the association comes up
 *   [1] our initial N(SQ)    [2] the credit N(MR) the peer grants at setup
 *   record := op ...
 *     op%8 0..3  raw PDU: length octet (op bit 3: a second, high octet), bytes
 *     op%8 4     expiry of timer (op>>3)%5, running or not (stale expiries are legal)
 *     op%8 5     sscop_send of a message: length octet, bytes
 *     op%8 6     sscop_establish (op bit 3) or sscop_release
 *     op%8 7     a well-formed data-phase PDU from a few octets (see build_pdu)
 *
 * The machine is checked only from the outside, after every step and in
 * every callback: its timers as seen through start/stop agree with
 * sscop_timer_running() and follow Q.2110's discipline per state; every PDU
 * it transmits parses and is one it may send; up and down alternate and
 * match the state; only READY delivers, and only octets some received SD
 * carried; the queue stays bounded; the statistics agree with the callbacks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/sscop.h"
#include "log.h"

#define MAX_SEEN 4096

enum reenter {
	REENTER_NONE,
	REENTER_ECHO,      /* deliver: send the message back */
	REENTER_REBEGIN,   /* down: establish again at once */
	REENTER_RELEASE,   /* deliver: a message starting 0xEE releases */
};

struct harness {
	struct sscop *s;
	enum reenter reenter;
	bool timer_on[SSCOP_TIMER_COUNT];
	bool up;
	uint64_t deliveries, ups, downs;
	/* FNV-1a of every SD information field fed, to judge deliveries */
	uint64_t seen[MAX_SEEN];
	size_t nseen;
	bool seen_overflow;
	int depth;
};

static struct harness H;

#define CHECK(cond)                                                                               \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "fuzz_sscop_pdu: %s:%d: %s (state %s)\n", __FILE__,       \
				__LINE__, #cond, sscop_state_name(sscop_get_state(H.s)));         \
			abort();                                                          \
		}                                                                                 \
	} while (0)

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void discard_log(int level, const struct log_ctx *ctx, const char *msg)
{
	/* formatting ran (that is what we want exercised); the text goes nowhere */
	(void)level;
	(void)ctx;
	(void)msg;
}

/* ------------------------------------------------------------ callbacks */

static void on_transmit(void *ctx, const uint8_t *pdu, size_t len)
{
	struct sscop_pdu p;
	CHECK(len <= SSCOP_MAX_PDU);
	CHECK(sscop_pdu_parse(pdu, len, &p) == 0);
	switch (p.type) {
	case SSCOP_PDU_BGN:
	case SSCOP_PDU_BGAK:
	case SSCOP_PDU_BGREJ:
	case SSCOP_PDU_END:
	case SSCOP_PDU_ENDAK:
	case SSCOP_PDU_SD:
	case SSCOP_PDU_POLL:
	case SSCOP_PDU_STAT:
	case SSCOP_PDU_USTAT:
		break;
	default:
		CHECK(!"transmitted a PDU type the machine does not implement");
	}
	if (p.type == SSCOP_PDU_SD)
		CHECK(p.data_len >= 1 && p.data_len <= SSCOP_MAX_SDU);
	if (p.type == SSCOP_PDU_STAT)
		CHECK(p.list_count <= SSCOP_MAX_LIST);
}

static bool delivered_was_received(const uint8_t *msg, size_t len)
{
	if (H.seen_overflow)
		return true;
	uint64_t h = fnv(msg, len);
	for (size_t i = 0; i < H.nseen; i++)
		if (H.seen[i] == h)
			return true;
	return false;
}

static void on_deliver(void *ctx, const uint8_t *msg, size_t len)
{
	CHECK(sscop_get_state(H.s) == SSCOP_READY);
	CHECK(H.up);
	CHECK(len >= 1 && len <= SSCOP_MAX_SDU);
	CHECK(delivered_was_received(msg, len));
	H.deliveries++;
	if (H.reenter == REENTER_ECHO) {
		int rc = sscop_send(H.s, msg, len);
		CHECK(rc == 0 || rc == -ENOBUFS);
	} else if (H.reenter == REENTER_RELEASE && msg[0] == 0xee) {
		sscop_release(H.s);
	}
}

static void on_up(void *ctx)
{
	CHECK(!H.up);
	CHECK(sscop_get_state(H.s) == SSCOP_READY);
	H.up = true;
	H.ups++;
}

static void on_down(void *ctx, enum sscop_reason why)
{
	CHECK(why <= SSCOP_REASON_PROTOCOL);
	CHECK(strcmp(sscop_reason_name(why), "") != 0);
	CHECK(sscop_get_state(H.s) != SSCOP_READY);
	/* Only an established association can break; one being set up fails. */
	if (!H.up)
		CHECK(why == SSCOP_REASON_REJECTED || why == SSCOP_REASON_NO_RESPONSE ||
		      why == SSCOP_REASON_PEER_END || why == SSCOP_REASON_USER);
	H.up = false;
	H.downs++;
	if (H.reenter == REENTER_REBEGIN && H.depth < 4) {
		H.depth++;
		sscop_establish(H.s);
		H.depth--;
	}
}

static void on_incoming(void *ctx)
{
	CHECK(sscop_get_state(H.s) == SSCOP_IN_CONN_PENDING);
	/* answered later by an op 6 record, or never */
}

static void on_timer_start(void *ctx, enum sscop_timer t, uint32_t ms)
{
	CHECK((unsigned)t < SSCOP_TIMER_COUNT);
	CHECK(ms > 0);
	H.timer_on[t] = true;
}

static void on_timer_stop(void *ctx, enum sscop_timer t)
{
	CHECK((unsigned)t < SSCOP_TIMER_COUNT);
	CHECK(H.timer_on[t]);
	H.timer_on[t] = false;
}

static const struct sscop_ops ops = {
	.transmit = on_transmit,
	.deliver = on_deliver,
	.up = on_up,
	.down = on_down,
	.incoming = on_incoming,
	.timer_start = on_timer_start,
	.timer_stop = on_timer_stop,
};

/* ------------------------------------------------------------- checks */

static void check_all(void)
{
	enum sscop_state st = sscop_get_state(H.s);
	CHECK(st < SSCOP_STATE_COUNT);
	CHECK(strcmp(sscop_state_name(st), "") != 0);
	for (int t = 0; t < SSCOP_TIMER_COUNT; t++)
		CHECK(sscop_timer_running(H.s, t) == H.timer_on[t]);
	CHECK(!sscop_timer_running(H.s, SSCOP_TIMER_COUNT));

	const bool *on = H.timer_on;
	int data_phase = on[SSCOP_TIMER_POLL] + on[SSCOP_TIMER_KEEPALIVE] + on[SSCOP_TIMER_IDLE];
	switch (st) {
	case SSCOP_IDLE:
	case SSCOP_IN_CONN_PENDING:
		for (int t = 0; t < SSCOP_TIMER_COUNT; t++)
			CHECK(!on[t]);
		CHECK(!H.up);
		break;
	case SSCOP_OUT_CONN_PENDING:
	case SSCOP_OUT_DISC_PENDING:
		/* Timer_CC paces BGN / END retransmission and nothing else runs */
		CHECK(on[SSCOP_TIMER_CC] && data_phase == 0 && !on[SSCOP_TIMER_NORESP]);
		CHECK(!H.up);
		break;
	case SSCOP_READY:
		/* Q.2110 §7.5: exactly one of POLL, KEEP-ALIVE, IDLE; NO-RESPONSE
		 * runs outside the idle phase only */
		CHECK(!on[SSCOP_TIMER_CC]);
		CHECK(data_phase == 1);
		CHECK(on[SSCOP_TIMER_NORESP] == !on[SSCOP_TIMER_IDLE]);
		CHECK(H.up);
		break;
	case SSCOP_STATE_COUNT:
		break;
	}

	struct sscop_stats stats;
	sscop_get_stats(H.s, &stats);
	CHECK(stats.sd_rx == H.deliveries);
	CHECK(stats.establishments >= H.ups);
	/* the user queue, plus what the transmit window holds in flight */
	CHECK(sscop_queued(H.s) <= 1024 + SSCOP_TX_WINDOW);
}

/* ------------------------------------------------------------- inputs */

struct reader {
	const uint8_t *p;
	size_t n;
};

static bool take(struct reader *r, uint8_t *out)
{
	if (r->n == 0)
		return false;
	*out = *r->p++;
	r->n--;
	return true;
}

static uint8_t take_or0(struct reader *r)
{
	uint8_t v = 0;
	take(r, &v);
	return v;
}

static void put_word(uint8_t *p, uint8_t first, uint32_t v)
{
	p[0] = first;
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Remembers the information field of an SD about to be received. */
static void note_received(const uint8_t *pdu, size_t len)
{
	struct sscop_pdu p;
	if (sscop_pdu_parse(pdu, len, &p) != 0 || p.type != SSCOP_PDU_SD)
		return;
	if (H.nseen == MAX_SEEN) {
		H.seen_overflow = true;
		return;
	}
	H.seen[H.nseen++] = fnv(p.data, p.data_len);
}

static void receive(const uint8_t *pdu, size_t len)
{
	note_received(pdu, len);
	struct sscop_pdu p;
	bool wellformed = sscop_pdu_parse(pdu, len, &p) == 0;
	int rc = sscop_receive(H.s, pdu, len);
	CHECK(rc == (wellformed ? 0 : -EINVAL));
}

/*
 * Well-formed data-phase PDUs with small sequence numbers, so that the
 * in-window paths are reached without the fuzzer guessing 24-bit values.
 */
static void build_pdu(uint8_t op, struct reader *r)
{
	uint8_t b[4 * 8 + 12];
	size_t len;
	switch ((op >> 3) & 3) {
	case 0: { /* SD: N(S), one to four information octets */
		uint8_t ns = take_or0(r), info = take_or0(r);
		unsigned n = 1 + (info & 3), pad = (4 - n % 4) % 4;
		memset(b, info, n);
		memset(b + n, 0, pad);
		put_word(b + n + pad, (uint8_t)(pad << 6 | SSCOP_PDU_SD), ns);
		len = n + pad + 4;
		break;
	}
	case 1: /* POLL: N(PS), N(S) */
		put_word(b, 0, take_or0(r));
		put_word(b + 4, SSCOP_PDU_POLL, take_or0(r));
		len = 8;
		break;
	case 2: { /* STAT: up to 8 list elements, N(PS), N(MR), N(R) */
		size_t n = take_or0(r) % 9;
		for (size_t i = 0; i < n; i++)
			put_word(b + 4 * i, 0, take_or0(r));
		put_word(b + 4 * n, 0, take_or0(r));
		put_word(b + 4 * n + 4, 0, take_or0(r));
		put_word(b + 4 * n + 8, SSCOP_PDU_STAT, take_or0(r));
		len = 4 * n + 12;
		break;
	}
	default: /* USTAT: two list elements, N(MR), N(R) */
		put_word(b, 0, take_or0(r));
		put_word(b + 4, 0, take_or0(r));
		put_word(b + 8, 0, take_or0(r));
		put_word(b + 12, SSCOP_PDU_USTAT, take_or0(r));
		len = 16;
		break;
	}
	receive(b, len);
}

static void user_send(const uint8_t *msg, size_t len)
{
	enum sscop_state st = sscop_get_state(H.s);
	int rc = sscop_send(H.s, msg, len);
	if (len == 0 || len > SSCOP_MAX_SDU)
		CHECK(rc == -EMSGSIZE);
	else if (st == SSCOP_READY || st == SSCOP_OUT_CONN_PENDING)
		CHECK(rc == 0 || rc == -ENOBUFS);
	else
		CHECK(rc == -ENOTCONN);
}

static void peer_begin_pdu(uint8_t type, uint8_t nsq, uint32_t nmr)
{
	uint8_t b[8];
	put_word(b, 0, nsq);
	put_word(b + 4, type, nmr);
	receive(b, sizeof(b));
}

static void queue_three(void)
{
	static const uint8_t m[3][5] = { "one", "two!", "three" };
	for (int i = 0; i < 3; i++)
		user_send(m[i], sizeof(m[i]));
}

/* Brings a fresh machine to the wanted state through its own procedures. */
static void reach(enum sscop_state want, bool prequeue, uint8_t credit)
{
	switch (want) {
	case SSCOP_IDLE:
		break;
	case SSCOP_OUT_CONN_PENDING:
		sscop_establish(H.s);
		break;
	case SSCOP_IN_CONN_PENDING:
		peer_begin_pdu(SSCOP_PDU_BGN, 0x42, credit);
		break;
	case SSCOP_READY:
	case SSCOP_OUT_DISC_PENDING:
		sscop_establish(H.s);
		if (prequeue)
			queue_three();
		peer_begin_pdu(SSCOP_PDU_BGAK, 0, credit);
		if (want == SSCOP_OUT_DISC_PENDING)
			sscop_release(H.s);
		break;
	case SSCOP_STATE_COUNT:
		break;
	}
	check_all();
	CHECK(sscop_get_state(H.s) == want);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* every log line is formatted (bugs there count) and then dropped,
	 * unless FUZZ_LOG asks to see them while reproducing */
	if (!getenv("FUZZ_LOG"))
		log_set_sink(discard_log);
	log_set_level(LOG_DEBUG);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	uint8_t cfg, sq, credit;
	if (!take(&r, &cfg) || !take(&r, &sq) || !take(&r, &credit))
		return 0;

	memset(&H, 0, sizeof(H));
	enum sscop_state want = (enum sscop_state)((cfg & 7) % SSCOP_STATE_COUNT);
	struct sscop_params p;
	sscop_params_defaults(&p);
	p.initial_sq = sq;
	p.auto_accept = (cfg & 8) && want != SSCOP_IN_CONN_PENDING;
	p.max_pd = 4; /* poll often, so STAT paths matter */
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
	p.log_peer = mac;
	H.s = sscop_create(&p, &ops, NULL);
	CHECK(H.s != NULL);
	reach(want, cfg & 0x40, credit);
	/* only now: a callback acting on its own would steer the set-up */
	H.reenter = (enum reenter)((cfg >> 4) & 3);

	uint8_t op;
	while (take(&r, &op)) {
		switch (op & 7) {
		case 0:
		case 1:
		case 2:
		case 3: {
			size_t len = take_or0(&r);
			if (op & 8)
				len |= (size_t)take_or0(&r) << 8;
			if (len > r.n)
				len = r.n;
			receive(r.p, len);
			r.p += len;
			r.n -= len;
			break;
		}
		case 4: {
			enum sscop_timer t = (enum sscop_timer)((op >> 3) % SSCOP_TIMER_COUNT);
			/* the owner's timer fired: it is no longer running there */
			H.timer_on[t] = false;
			sscop_timer_expired(H.s, t);
			break;
		}
		case 5: {
			size_t len = take_or0(&r);
			if (len > r.n)
				len = r.n;
			user_send(r.p, len);
			r.p += len;
			r.n -= len;
			break;
		}
		case 6:
			if (op & 8)
				sscop_establish(H.s);
			else
				sscop_release(H.s);
			break;
		default:
			build_pdu(op, &r);
			break;
		}
		check_all();
	}
	sscop_destroy(H.s);
	return 0;
}
