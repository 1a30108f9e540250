/* SPDX-License-Identifier: MIT */
/*
 * One SSCOP association (ITU-T Q.2110) as a pure state machine.
 *
 * No sockets, no event loop, no clock: the owner feeds received PDUs, user
 * requests and timer expiries in, and the machine answers through the
 * callbacks in struct sscop_ops (PDU bytes to transmit, messages delivered
 * in order, association up/down, timer start/stop).  Callbacks run
 * synchronously from inside the sscop_* call that caused them; a callback
 * may call sscop_send(), sscop_establish() or sscop_release() on the same
 * instance, but never sscop_destroy().
 *
 * Supported PDUs: BGN, BGAK, BGREJ, END, ENDAK, SD, POLL, STAT, USTAT.
 * RS, RSAK, ER, ERAK, UD and MD are recognised and ignored (no
 * resynchronisation or error recovery: a broken association is released
 * and established again, which call control survives through T309).
 */
#ifndef CALLMGR_SSCOP_H
#define CALLMGR_SSCOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PDU type codes, the low nibble of the last trailer word's first octet. */
enum sscop_pdu_type {
	SSCOP_PDU_BGN = 0x1,
	SSCOP_PDU_BGAK = 0x2,
	SSCOP_PDU_END = 0x3,
	SSCOP_PDU_ENDAK = 0x4,
	SSCOP_PDU_RS = 0x5,
	SSCOP_PDU_RSAK = 0x6,
	SSCOP_PDU_BGREJ = 0x7,
	SSCOP_PDU_SD = 0x8,
	SSCOP_PDU_ER = 0x9,
	SSCOP_PDU_POLL = 0xa,
	SSCOP_PDU_STAT = 0xb,
	SSCOP_PDU_USTAT = 0xc,
	SSCOP_PDU_UD = 0xd,
	SSCOP_PDU_MD = 0xe,
	SSCOP_PDU_ERAK = 0xf,
};

#define SSCOP_SEQ_MOD  0x1000000u /* sequence numbers are 24 bits */
#define SSCOP_MAX_SDU  1480       /* one SD payload; fits an Ethernet frame */
#define SSCOP_MAX_UU   64         /* user-to-user field in BGN/BGAK/BGREJ/END */
#define SSCOP_MAX_LIST 64         /* STAT list elements per PDU (even) */
#define SSCOP_RX_WINDOW 64        /* receive buffer: credit we grant (2^n) */
#define SSCOP_TX_WINDOW 256       /* SDs in flight we keep at most (2^n) */
#define SSCOP_MAX_PDU  (SSCOP_MAX_SDU + 8) /* SD with pad and trailer */

/* A decoded PDU; pointers refer into the parsed buffer. */
struct sscop_pdu {
	enum sscop_pdu_type type;
	bool source_sscop;     /* END: S bit (released by SSCOP, not the user) */
	uint8_t nsq;           /* BGN, RS, ER */
	uint32_t nmr;          /* BGN, BGAK, RS, RSAK, ER, ERAK, STAT, USTAT */
	uint32_t ns;           /* SD, POLL */
	uint32_t nps;          /* POLL, STAT */
	uint32_t nr;           /* STAT, USTAT */
	const uint8_t *data;   /* SD/UD/MD information, or BGN..END user-to-user */
	size_t data_len;
	const uint8_t *list;   /* STAT/USTAT list, 4 octets per element */
	size_t list_count;
};

/* 0, or -EINVAL when the bytes are not a well-formed Q.2110 PDU. */
int sscop_pdu_parse(const uint8_t *buf, size_t len, struct sscop_pdu *pdu);
/* The N(S) of list element i (caller checks i < pdu->list_count). */
uint32_t sscop_pdu_list_elem(const struct sscop_pdu *pdu, size_t i);
const char *sscop_pdu_type_name(unsigned type);

enum sscop_state {
	SSCOP_IDLE,
	SSCOP_OUT_CONN_PENDING,
	SSCOP_IN_CONN_PENDING,
	SSCOP_OUT_DISC_PENDING,
	SSCOP_READY,
	SSCOP_STATE_COUNT
};
const char *sscop_state_name(enum sscop_state st);

enum sscop_timer {
	SSCOP_TIMER_CC,
	SSCOP_TIMER_POLL,
	SSCOP_TIMER_KEEPALIVE,
	SSCOP_TIMER_NORESP,
	SSCOP_TIMER_IDLE,
	SSCOP_TIMER_COUNT
};
const char *sscop_timer_name(enum sscop_timer t);

/* Why an association went down (or never came up). */
enum sscop_reason {
	SSCOP_REASON_USER,        /* our user released it */
	SSCOP_REASON_PEER_END,    /* the peer sent END */
	SSCOP_REASON_REJECTED,    /* the peer answered BGN with BGREJ */
	SSCOP_REASON_NO_RESPONSE, /* MaxCC BGNs unanswered, or Timer_NO-RESPONSE */
	SSCOP_REASON_PEER_RESTART,/* BGN with a new N(SQ) while established */
	SSCOP_REASON_PROTOCOL,    /* the peer broke the protocol */
};
const char *sscop_reason_name(enum sscop_reason r);

/*
 * Octets of out-of-order SDs buffered, shared by every association that
 * points at it: each holds at most SSCOP_RX_WINDOW SDs, and together no
 * more than limit octets (an SD that would pass it is dropped as if lost;
 * the sender retransmits it once the gap before it fills).
 */
struct sscop_rx_budget {
	size_t used, limit;
};

struct sscop_params {
	uint32_t timer_cc_ms, timer_poll_ms, timer_keepalive_ms;
	uint32_t timer_noresp_ms, timer_idle_ms;
	uint32_t max_cc;     /* BGN/END transmissions before giving up */
	uint32_t max_pd;     /* SDs between POLLs (Q.2110 MaxPD) */
	uint32_t max_queue;  /* messages waiting for credit or establishment */
	bool auto_accept;    /* answer BGN with BGAK at once (else ops.incoming) */
	uint8_t initial_sq;  /* first N(SQ); pick at random so a restart differs */
	const uint8_t *log_peer; /* 6-octet MAC for log lines, or NULL */
	struct sscop_rx_budget *rx_budget; /* NULL: the window is the only bound */
};
void sscop_params_defaults(struct sscop_params *p);

struct sscop_ops {
	void (*transmit)(void *ctx, const uint8_t *pdu, size_t len);
	void (*deliver)(void *ctx, const uint8_t *msg, size_t len);
	void (*up)(void *ctx);
	void (*down)(void *ctx, enum sscop_reason why);
	/* Only without auto_accept: answer with sscop_establish/sscop_release. */
	void (*incoming)(void *ctx);
	void (*timer_start)(void *ctx, enum sscop_timer t, uint32_t ms);
	void (*timer_stop)(void *ctx, enum sscop_timer t);
};

struct sscop_stats {
	uint64_t sd_tx, sd_rx, retransmits, polls, stats, ustats;
	uint64_t establishments, failures, pdus_ignored;
	uint64_t rx_budget_drops; /* out-of-order SDs dropped for the budget */
};

struct sscop;

struct sscop *sscop_create(const struct sscop_params *p, const struct sscop_ops *ops, void *ctx);
/* Drops everything silently: no PDU, no callback. */
void sscop_destroy(struct sscop *s);

/* AA-ESTABLISH.request (or the answer to ops.incoming). */
void sscop_establish(struct sscop *s);
/* AA-RELEASE.request (or BGREJ as the answer to ops.incoming). */
void sscop_release(struct sscop *s);
/*
 * AA-DATA.request: 0 when sent or queued (queued while establishment is
 * pending or the peer's window is closed); -ENOTCONN when neither ready nor
 * establishing; -EMSGSIZE; -ENOBUFS when max_queue messages wait already;
 * -ENOMEM when the message could not be copied.
 */
int sscop_send(struct sscop *s, const uint8_t *msg, size_t len);
/* One received PDU; malformed bytes are counted and dropped.  0 or -EINVAL. */
int sscop_receive(struct sscop *s, const uint8_t *buf, size_t len);
void sscop_timer_expired(struct sscop *s, enum sscop_timer t);

enum sscop_state sscop_get_state(const struct sscop *s);
bool sscop_timer_running(const struct sscop *s, enum sscop_timer t);
void sscop_get_stats(const struct sscop *s, struct sscop_stats *out);
/* Messages not yet acknowledged: waiting in the queue plus in flight. */
uint32_t sscop_queued(const struct sscop *s);
/*
 * Ready, and the peer has answered a POLL of ours with a valid STAT (one
 * echoing a nonzero N(PS)) in this association: it sees what we send, so it is a live node
 * rather than a source of BGNs.  The link layer protects such peers.
 */
bool sscop_peer_proven(const struct sscop *s);

/* Stateless answers for a peer we hold no association with. */
size_t sscop_build_end(uint8_t *buf, size_t size, bool source_sscop);

#endif
