/* SPDX-License-Identifier: MIT */
/*
 * A simulated channel and clock for two sscop instances back to back:
 * loss, duplication, reordering (random delay), cutting a direction, and
 * a per-frame filter for deterministic drops.  Time only moves when the
 * simulation runs, from one due frame or timer to the next.
 */
#ifndef TEST_LINK_SIM_H
#define TEST_LINK_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link/sscop.h"

struct sim;

struct node {
	struct sim *sim;
	int id;
	struct sscop *s;
	struct sscop_params params;
	bool timer_on[SSCOP_TIMER_COUNT];
	uint64_t timer_at[SSCOP_TIMER_COUNT];
	uint64_t timer_starts[SSCOP_TIMER_COUNT];
	/* what the user saw */
	int ups, downs;
	enum sscop_reason last_reason;
	uint64_t last_up_at, last_down_at;
	char events[256]; /* "U" for up, "D" for down, in order */
	uint32_t delivered, next_expected;
	bool out_of_order;
	bool accept_any; /* fuzzing: delivered content is not ours */
	/* what the machine sent, per PDU type */
	uint64_t sent[16];
	/* reaction to ops.incoming (auto_accept off) */
	bool reject_incoming;
	int incomings;
	/* like daemon.c while T309 runs: establish again on every down; with
	 * t309_ms only for that long after the first down (0: for ever) */
	bool reestablish;
	uint32_t t309_ms;
	uint64_t t309_until;
};

struct frame {
	uint64_t at;
	uint64_t order; /* FIFO among frames due at the same time */
	int to;
	uint16_t len;
	uint8_t data[SSCOP_MAX_PDU];
};

struct sim {
	uint64_t now;
	struct node n[2];
	struct frame *q;
	size_t nq, cap;
	uint64_t order;
	/* channel */
	unsigned loss_pct, dup_pct;
	uint32_t delay_ms, jitter_ms;
	bool cut_to[2];
	/* a stopped process: frames to it wait, its timers do not fire */
	bool stalled[2];
	/* return true to drop this frame (after cut, before loss) */
	bool (*filter)(struct sim *sim, int from, const uint8_t *pdu, size_t len);
	int filter_state;
	uint64_t rng;
	uint64_t frames;
};

void sim_init(struct sim *sim, uint64_t seed);
void sim_node_start(struct sim *sim, int id, const struct sscop_params *p);
void sim_node_stop(struct sim *sim, int id);
void sim_fini(struct sim *sim);
uint32_t sim_rand(struct sim *sim, uint32_t below);
/* Runs until t_end (absolute ms) or until done(sim) becomes true. */
void sim_run(struct sim *sim, uint64_t t_end, bool (*done)(struct sim *sim));
/* Message i: big-endian i, then filler so lengths vary (padding cases). */
size_t sim_msg(uint32_t i, uint8_t *buf);
/* Continues a stalled node: first what waited in its socket, in order,
 * then its overdue timers (libevent runs I/O before timeouts). */
void sim_resume(struct sim *sim, int id);
/* Feeds raw bytes to node id as if received. */
int sim_inject(struct sim *sim, int id, const uint8_t *pdu, size_t len);

#endif
