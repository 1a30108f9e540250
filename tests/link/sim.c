/* SPDX-License-Identifier: MIT */
#include "sim.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

uint32_t sim_rand(struct sim *sim, uint32_t below)
{
	/* xorshift64*: deterministic per seed, so failures reproduce */
	sim->rng ^= sim->rng >> 12;
	sim->rng ^= sim->rng << 25;
	sim->rng ^= sim->rng >> 27;
	uint64_t v = sim->rng * 2685821657736338717ull;
	return below ? (uint32_t)((v >> 32) % below) : 0;
}

size_t sim_msg(uint32_t i, uint8_t *buf)
{
	buf[0] = (uint8_t)(i >> 24);
	buf[1] = (uint8_t)(i >> 16);
	buf[2] = (uint8_t)(i >> 8);
	buf[3] = (uint8_t)i;
	size_t len = 4 + i % 13;
	for (size_t k = 4; k < len; k++)
		buf[k] = (uint8_t)(i * 31 + k);
	return len;
}

static void enqueue(struct sim *sim, int to, const uint8_t *pdu, size_t len, uint64_t at)
{
	if (sim->nq == sim->cap) {
		sim->cap = sim->cap ? sim->cap * 2 : 64;
		sim->q = realloc(sim->q, sim->cap * sizeof(*sim->q));
		ck_assert_ptr_nonnull(sim->q);
	}
	struct frame *f = &sim->q[sim->nq++];
	f->at = at;
	f->order = sim->order++;
	f->to = to;
	f->len = (uint16_t)len;
	memcpy(f->data, pdu, len);
}

static void node_transmit(void *ctx, const uint8_t *pdu, size_t len)
{
	struct node *n = ctx;
	struct sim *sim = n->sim;
	int to = 1 - n->id;
	ck_assert_uint_le(len, SSCOP_MAX_PDU);
	ck_assert_uint_eq(len % 4, 0);
	/* everything we send must parse back */
	struct sscop_pdu parsed;
	ck_assert_int_eq(sscop_pdu_parse(pdu, len, &parsed), 0);
	n->sent[parsed.type]++;
	sim->frames++;
	if (sim->cut_to[to])
		return;
	if (sim->filter && sim->filter(sim, n->id, pdu, len))
		return;
	if (sim_rand(sim, 100) < sim->loss_pct)
		return;
	uint64_t at = sim->now + sim->delay_ms + sim_rand(sim, sim->jitter_ms + 1);
	enqueue(sim, to, pdu, len, at);
	if (sim_rand(sim, 100) < sim->dup_pct)
		enqueue(sim, to, pdu, len, at + sim_rand(sim, sim->jitter_ms + 5));
}

static void node_deliver(void *ctx, const uint8_t *msg, size_t len)
{
	struct node *n = ctx;
	if (n->accept_any) {
		n->delivered++;
		return;
	}
	ck_assert_uint_ge(len, 4);
	uint32_t i = (uint32_t)msg[0] << 24 | (uint32_t)msg[1] << 16 | (uint32_t)msg[2] << 8 | msg[3];
	uint8_t want[64];
	size_t wlen = sim_msg(i, want);
	ck_assert_uint_eq(len, wlen);
	ck_assert_mem_eq(msg, want, len);
	if (i != n->next_expected)
		n->out_of_order = true;
	n->next_expected = i + 1;
	n->delivered++;
}

static void note_event(struct node *n, char c)
{
	size_t l = strlen(n->events);
	if (l + 1 < sizeof(n->events)) {
		n->events[l] = c;
		n->events[l + 1] = '\0';
	}
}

static void node_up(void *ctx)
{
	struct node *n = ctx;
	ck_assert_int_eq(sscop_get_state(n->s), SSCOP_READY);
	n->ups++;
	n->last_up_at = n->sim->now;
	n->t309_until = 0;
	note_event(n, 'U');
}

static void node_down(void *ctx, enum sscop_reason why)
{
	struct node *n = ctx;
	n->downs++;
	n->last_reason = why;
	n->last_down_at = n->sim->now;
	note_event(n, 'D');
	if (n->t309_ms && !n->t309_until)
		n->t309_until = n->sim->now + n->t309_ms;
	if (n->reestablish && (!n->t309_ms || n->sim->now < n->t309_until)) {
		enum sscop_state st = sscop_get_state(n->s);
		if (st == SSCOP_IDLE || st == SSCOP_OUT_DISC_PENDING)
			sscop_establish(n->s);
	}
}

static void node_incoming(void *ctx)
{
	struct node *n = ctx;
	n->incomings++;
	ck_assert_int_eq(sscop_get_state(n->s), SSCOP_IN_CONN_PENDING);
	if (n->reject_incoming)
		sscop_release(n->s);
	else
		sscop_establish(n->s);
}

static void node_timer_start(void *ctx, enum sscop_timer t, uint32_t ms)
{
	struct node *n = ctx;
	n->timer_on[t] = true;
	n->timer_at[t] = n->sim->now + ms;
	n->timer_starts[t]++;
}

static void node_timer_stop(void *ctx, enum sscop_timer t)
{
	struct node *n = ctx;
	ck_assert(n->timer_on[t]); /* the machine never stops what is not running */
	n->timer_on[t] = false;
}

static const struct sscop_ops node_ops = {
	.transmit = node_transmit,
	.deliver = node_deliver,
	.up = node_up,
	.down = node_down,
	.incoming = node_incoming,
	.timer_start = node_timer_start,
	.timer_stop = node_timer_stop,
};

void sim_init(struct sim *sim, uint64_t seed)
{
	memset(sim, 0, sizeof(*sim));
	sim->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	sim->delay_ms = 1;
	for (int i = 0; i < 2; i++) {
		sim->n[i].sim = sim;
		sim->n[i].id = i;
	}
}

void sim_node_start(struct sim *sim, int id, const struct sscop_params *p)
{
	struct node *n = &sim->n[id];
	ck_assert_ptr_null(n->s);
	memset(n->timer_on, 0, sizeof(n->timer_on));
	n->params = *p;
	n->s = sscop_create(p, &node_ops, n);
	ck_assert_ptr_nonnull(n->s);
}

void sim_node_stop(struct sim *sim, int id)
{
	struct node *n = &sim->n[id];
	sscop_destroy(n->s);
	n->s = NULL;
	memset(n->timer_on, 0, sizeof(n->timer_on));
	/* frames in flight to it are lost with it */
	size_t k = 0;
	for (size_t i = 0; i < sim->nq; i++)
		if (sim->q[i].to != id)
			sim->q[k++] = sim->q[i];
	sim->nq = k;
}

void sim_fini(struct sim *sim)
{
	for (int i = 0; i < 2; i++)
		if (sim->n[i].s)
			sim_node_stop(sim, i);
	free(sim->q);
}

int sim_inject(struct sim *sim, int id, const uint8_t *pdu, size_t len)
{
	return sscop_receive(sim->n[id].s, pdu, len);
}

void sim_resume(struct sim *sim, int id)
{
	struct node *n = &sim->n[id];
	sim->stalled[id] = false;
	for (int t = 0; t < SSCOP_TIMER_COUNT; t++)
		if (n->timer_on[t] && n->timer_at[t] < sim->now)
			n->timer_at[t] = sim->now;
}

void sim_run(struct sim *sim, uint64_t t_end, bool (*done)(struct sim *sim))
{
	for (;;) {
		if (done && done(sim))
			return;
		/* the earliest due thing: a frame, or a timer */
		uint64_t best = UINT64_MAX;
		int kind = -1, who = -1, which = -1;
		size_t fi = 0;
		for (size_t i = 0; i < sim->nq; i++) {
			if (sim->stalled[sim->q[i].to])
				continue;
			if (sim->q[i].at < best ||
			    (sim->q[i].at == best && kind == 0 && sim->q[i].order < sim->q[fi].order)) {
				best = sim->q[i].at;
				kind = 0;
				fi = i;
			}
		}
		for (int id = 0; id < 2; id++) {
			if (!sim->n[id].s || sim->stalled[id])
				continue;
			for (int t = 0; t < SSCOP_TIMER_COUNT; t++) {
				if (sim->n[id].timer_on[t] && sim->n[id].timer_at[t] < best) {
					best = sim->n[id].timer_at[t];
					kind = 1;
					who = id;
					which = t;
				}
			}
		}
		if (kind < 0 || best > t_end) {
			if (sim->now < t_end)
				sim->now = t_end;
			return;
		}
		sim->now = best;
		if (kind == 0) {
			struct frame f = sim->q[fi];
			sim->q[fi] = sim->q[--sim->nq];
			if (sim->n[f.to].s)
				ck_assert_int_eq(sscop_receive(sim->n[f.to].s, f.data, f.len), 0);
		} else {
			sim->n[who].timer_on[which] = false;
			sscop_timer_expired(sim->n[who].s, which);
		}
	}
}
