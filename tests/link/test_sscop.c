/* SPDX-License-Identifier: MIT */
/* The SSCOP machine, two instances back to back over a simulated channel. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim.h"
#include "../ck_run.h"

#define A 0
#define B 1

static struct sscop_params params(uint8_t sq)
{
	struct sscop_params p;
	sscop_params_defaults(&p);
	p.initial_sq = sq;
	return p;
}

static bool both_ready(struct sim *sim)
{
	return sscop_get_state(sim->n[A].s) == SSCOP_READY &&
	       sscop_get_state(sim->n[B].s) == SSCOP_READY;
}

static void start_pair(struct sim *sim, uint64_t seed)
{
	sim_init(sim, seed);
	struct sscop_params pa = params(10), pb = params(200);
	sim_node_start(sim, A, &pa);
	sim_node_start(sim, B, &pb);
}

static void establish(struct sim *sim)
{
	sscop_establish(sim->n[A].s);
	sim_run(sim, sim->now + 30000, both_ready);
	ck_assert(both_ready(sim));
}

/* Sends messages 0..count-1 from each sender, topping the queue up as the
 * machine drains it, until everything has arrived or t_limit passes. */
static uint32_t want_a, want_b;
static bool all_delivered(struct sim *sim)
{
	return sim->n[B].delivered >= want_a && sim->n[A].delivered >= want_b;
}

static void transfer(struct sim *sim, uint32_t count_a, uint32_t count_b, uint64_t t_limit)
{
	uint32_t sent[2] = { 0, 0 };
	uint32_t count[2] = { count_a, count_b };
	want_a = count_a;
	want_b = count_b;
	while (!all_delivered(sim) && sim->now < t_limit) {
		for (int id = 0; id < 2; id++) {
			while (sent[id] < count[id] && sscop_queued(sim->n[id].s) < 200) {
				uint8_t m[64];
				size_t len = sim_msg(sent[id], m);
				ck_assert_int_eq(sscop_send(sim->n[id].s, m, len), 0);
				sent[id]++;
			}
		}
		sim_run(sim, sim->now + 5, all_delivered);
	}
}

/* ------------------------------------------------------------------ */

START_TEST(pdu_layout_matches_q2110)
{
	struct sim sim;
	start_pair(&sim, 1);
	sim.cut_to[B] = true;
	/* capture what A sends by injecting into a parse */
	sscop_establish(sim.n[A].s);
	ck_assert_uint_eq(sim.n[A].sent[SSCOP_PDU_BGN], 1);
	sim_fini(&sim);

	/* BGN: reserved 24 bits, N(SQ), then type 1 and N(MR) */
	const uint8_t bgn[8] = { 0, 0, 0, 11, 0x01, 0, 0, 64 };
	struct sscop_pdu p;
	ck_assert_int_eq(sscop_pdu_parse(bgn, sizeof(bgn), &p), 0);
	ck_assert_int_eq(p.type, SSCOP_PDU_BGN);
	ck_assert_uint_eq(p.nsq, 11);
	ck_assert_uint_eq(p.nmr, 64);
	ck_assert_uint_eq(p.data_len, 0);

	/* SD of 5 octets: pad 3 in the top two bits of the trailer */
	const uint8_t sd[12] = { 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0xc8, 0x01, 0x02, 0x03 };
	ck_assert_int_eq(sscop_pdu_parse(sd, sizeof(sd), &p), 0);
	ck_assert_int_eq(p.type, SSCOP_PDU_SD);
	ck_assert_uint_eq(p.ns, 0x010203);
	ck_assert_uint_eq(p.data_len, 5);
	ck_assert_mem_eq(p.data, "hello", 5);

	/* STAT with a two-element list: N(PS), N(MR), N(R) at the end */
	const uint8_t stat[20] = { 0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 7, 0, 0, 0, 70, 0x0b, 0, 0, 2 };
	ck_assert_int_eq(sscop_pdu_parse(stat, sizeof(stat), &p), 0);
	ck_assert_int_eq(p.type, SSCOP_PDU_STAT);
	ck_assert_uint_eq(p.list_count, 2);
	ck_assert_uint_eq(sscop_pdu_list_elem(&p, 0), 3);
	ck_assert_uint_eq(sscop_pdu_list_elem(&p, 1), 5);
	ck_assert_uint_eq(p.nps, 7);
	ck_assert_uint_eq(p.nmr, 70);
	ck_assert_uint_eq(p.nr, 2);

	/* END with the S bit */
	uint8_t end[8];
	ck_assert_uint_eq(sscop_build_end(end, sizeof(end), true), 8);
	ck_assert_int_eq(sscop_pdu_parse(end, 8, &p), 0);
	ck_assert_int_eq(p.type, SSCOP_PDU_END);
	ck_assert(p.source_sscop);
	ck_assert_uint_eq(end[4], 0x13);
}
END_TEST

static uint8_t captured[SSCOP_MAX_PDU];
static size_t captured_len;
static int capture_type;
static bool capture_filter(struct sim *sim, int from, const uint8_t *pdu, size_t len)
{
	struct sscop_pdu p;
	if (sscop_pdu_parse(pdu, len, &p) == 0 && (int)p.type == capture_type && !captured_len) {
		memcpy(captured, pdu, len);
		captured_len = len;
	}
	return false;
}

START_TEST(establish_and_exchange)
{
	struct sim sim;
	start_pair(&sim, 2);
	sim.filter = capture_filter;
	capture_type = SSCOP_PDU_BGN;
	captured_len = 0;
	establish(&sim);
	/* the BGN carried A's next N(SQ) and our receive window */
	ck_assert_uint_eq(captured_len, 8);
	ck_assert_uint_eq(captured[3], 11);
	ck_assert_uint_eq(captured[7], SSCOP_RX_WINDOW);
	ck_assert_int_eq(sim.n[A].ups, 1);
	ck_assert_int_eq(sim.n[B].ups, 1);
	ck_assert_int_eq(sim.n[A].downs, 0);
	transfer(&sim, 100, 100, sim.now + 10000);
	ck_assert_uint_eq(sim.n[B].delivered, 100);
	ck_assert_uint_eq(sim.n[A].delivered, 100);
	ck_assert(!sim.n[A].out_of_order && !sim.n[B].out_of_order);
	struct sscop_stats st;
	sscop_get_stats(sim.n[A].s, &st);
	ck_assert_uint_eq(st.sd_tx, 100);
	ck_assert_uint_eq(st.sd_rx, 100);
	ck_assert_uint_eq(st.retransmits, 0);
	ck_assert_uint_eq(st.establishments, 1);
	/* and everything is acknowledged in the end */
	sim_run(&sim, sim.now + 3000, NULL);
	ck_assert_uint_eq(sscop_queued(sim.n[A].s), 0);
	ck_assert_uint_eq(sscop_queued(sim.n[B].s), 0);
	sim_fini(&sim);
}
END_TEST

/* Thousands of messages each way over a channel that loses, duplicates
 * and reorders: each arrives exactly once, in order, and the link stays up. */
START_TEST(lossy_channel_delivers_in_order)
{
	struct sim sim;
	start_pair(&sim, 3 + (uint64_t)_i);
	establish(&sim);
	sim.loss_pct = _i == 0 ? 10 : 20;
	sim.dup_pct = 3;
	sim.delay_ms = 2;
	sim.jitter_ms = 6;
	transfer(&sim, 5000, 3000, sim.now + 600000);
	ck_assert_uint_eq(sim.n[B].delivered, 5000);
	ck_assert_uint_eq(sim.n[A].delivered, 3000);
	ck_assert(!sim.n[A].out_of_order);
	ck_assert(!sim.n[B].out_of_order);
	ck_assert_int_eq(sim.n[A].downs, 0);
	ck_assert_int_eq(sim.n[B].downs, 0);
	struct sscop_stats sa, sb;
	sscop_get_stats(sim.n[A].s, &sa);
	sscop_get_stats(sim.n[B].s, &sb);
	ck_assert_uint_gt(sa.retransmits, 100);
	ck_assert_uint_gt(sb.retransmits, 50);
	ck_assert_uint_gt(sb.ustats, 0);
	ck_assert_uint_gt(sb.stats, 0);
	ck_assert_uint_eq(sb.sd_rx, 5000);
	/* delivered the moment they arrive, nothing left over at the end */
	sim.loss_pct = 0;
	sim_run(&sim, sim.now + 5000, NULL);
	ck_assert_uint_eq(sscop_queued(sim.n[A].s), 0);
	ck_assert_uint_eq(sscop_queued(sim.n[B].s), 0);
	sim_fini(&sim);
}
END_TEST

/* Drop exactly the first transmission of SD N(S)=target from A. */
static uint32_t drop_ns;
static bool drop_one_sd(struct sim *sim, int from, const uint8_t *pdu, size_t len)
{
	struct sscop_pdu p;
	if (from == A && sim->filter_state == 0 && sscop_pdu_parse(pdu, len, &p) == 0 &&
	    p.type == SSCOP_PDU_SD && p.ns == drop_ns) {
		sim->filter_state = 1;
		return true;
	}
	return false;
}

START_TEST(gap_is_retransmitted_after_ustat)
{
	struct sim sim;
	start_pair(&sim, 5);
	establish(&sim);
	sim.filter = drop_one_sd;
	drop_ns = 3;
	for (uint32_t i = 0; i < 10; i++) {
		uint8_t m[64];
		size_t len = sim_msg(i, m);
		ck_assert_int_eq(sscop_send(sim.n[A].s, m, len), 0);
	}
	sim_run(&sim, sim.now + 50, NULL); /* well before Timer_POLL */
	ck_assert_int_eq(sim.filter_state, 1);
	ck_assert_uint_eq(sim.n[B].delivered, 10);
	ck_assert(!sim.n[B].out_of_order);
	struct sscop_stats sa, sb;
	sscop_get_stats(sim.n[A].s, &sa);
	sscop_get_stats(sim.n[B].s, &sb);
	ck_assert_uint_eq(sb.ustats, 1);
	ck_assert_uint_eq(sa.retransmits, 1);
	sim_fini(&sim);
}
END_TEST

START_TEST(lost_tail_recovered_by_poll)
{
	struct sim sim;
	start_pair(&sim, 6);
	establish(&sim);
	sim_run(&sim, sim.now + 1000, NULL);
	sim.filter = drop_one_sd;
	drop_ns = 4; /* the last one: no later SD reveals the gap */
	for (uint32_t i = 0; i < 5; i++) {
		uint8_t m[64];
		size_t len = sim_msg(i, m);
		ck_assert_int_eq(sscop_send(sim.n[A].s, m, len), 0);
	}
	sim_run(&sim, sim.now + 50, NULL);
	ck_assert_uint_eq(sim.n[B].delivered, 4);
	ck_assert(sscop_timer_running(sim.n[A].s, SSCOP_TIMER_POLL));
	sim_run(&sim, sim.now + 2000, NULL);
	ck_assert_uint_eq(sim.n[B].delivered, 5);
	ck_assert(!sim.n[B].out_of_order);
	struct sscop_stats sa;
	sscop_get_stats(sim.n[A].s, &sa);
	ck_assert_uint_eq(sa.retransmits, 1);
	sim_fini(&sim);
}
END_TEST

/* An idle association keeps polling and stays up; its timers cycle
 * through the keep-alive and idle phases. */
START_TEST(keepalive_keeps_idle_link_up)
{
	struct sim sim;
	start_pair(&sim, 7);
	establish(&sim);
	struct sscop_stats before, after;
	sscop_get_stats(sim.n[A].s, &before);
	uint64_t idle_starts = sim.n[A].timer_starts[SSCOP_TIMER_IDLE];
	uint64_t ka_starts = sim.n[A].timer_starts[SSCOP_TIMER_KEEPALIVE];
	uint64_t end = sim.now + 120000;
	while (sim.now < end) {
		sim_run(&sim, sim.now + 100, NULL);
		/* exactly one of the transmitter timers runs in Ready */
		int running = sscop_timer_running(sim.n[A].s, SSCOP_TIMER_POLL) +
			      sscop_timer_running(sim.n[A].s, SSCOP_TIMER_KEEPALIVE) +
			      sscop_timer_running(sim.n[A].s, SSCOP_TIMER_IDLE);
		ck_assert_int_eq(running, 1);
	}
	sscop_get_stats(sim.n[A].s, &after);
	/* a cycle: Timer_IDLE, POLL, Timer_POLL, POLL, Timer_KEEPALIVE, STAT */
	ck_assert_uint_ge(sim.n[A].timer_starts[SSCOP_TIMER_IDLE] - idle_starts, 6);
	ck_assert_uint_ge(sim.n[A].timer_starts[SSCOP_TIMER_KEEPALIVE] - ka_starts, 6);
	/* two polls per idle cycle of ~15.75 s, over 120 s */
	ck_assert_uint_ge(after.polls - before.polls, 12);
	ck_assert_uint_le(after.polls - before.polls, 20);
	ck_assert_int_eq(sim.n[A].downs + sim.n[B].downs, 0);
	ck_assert(both_ready(&sim));
	sim_fini(&sim);
}
END_TEST

static bool both_idle(struct sim *sim)
{
	return sscop_get_state(sim->n[A].s) == SSCOP_IDLE &&
	       sscop_get_state(sim->n[B].s) == SSCOP_IDLE;
}

static bool drop_first_end(struct sim *sim, int from, const uint8_t *pdu, size_t len)
{
	struct sscop_pdu p;
	if (sim->filter_state == 0 && sscop_pdu_parse(pdu, len, &p) == 0 &&
	    p.type == SSCOP_PDU_END) {
		sim->filter_state = 1;
		return true;
	}
	return false;
}

START_TEST(release_even_when_end_is_lost)
{
	struct sim sim;
	start_pair(&sim, 8);
	establish(&sim);
	sim.filter = drop_first_end;
	sscop_release(sim.n[A].s);
	ck_assert_int_eq(sscop_get_state(sim.n[A].s), SSCOP_OUT_DISC_PENDING);
	ck_assert_int_eq(sim.n[A].downs, 1);
	ck_assert_int_eq(sim.n[A].last_reason, SSCOP_REASON_USER);
	sim_run(&sim, sim.now + 5000, both_idle);
	ck_assert(both_idle(&sim));
	ck_assert_uint_eq(sim.n[A].sent[SSCOP_PDU_END], 2);
	ck_assert_int_eq(sim.n[B].downs, 1);
	ck_assert_int_eq(sim.n[B].last_reason, SSCOP_REASON_PEER_END);
	ck_assert(!sscop_timer_running(sim.n[A].s, SSCOP_TIMER_CC));
	/* after release, data is refused until a new establishment */
	ck_assert_int_eq(sscop_send(sim.n[A].s, (const uint8_t *)"abcd", 4), -ENOTCONN);
	sim_fini(&sim);
}
END_TEST

static bool both_down(struct sim *sim)
{
	return sim->n[A].downs > 0 && sim->n[B].downs > 0;
}

/* The peer goes silent: Timer_NO-RESPONSE ends the association on both
 * sides within Timer_IDLE + Timer_NO-RESPONSE; then it comes back. */
START_TEST(silent_peer_fails_link_then_reestablishes)
{
	struct sim sim;
	start_pair(&sim, 9);
	establish(&sim);
	sim_run(&sim, sim.now + 20000, NULL); /* settle into the idle phase */
	uint64_t cut_at = sim.now;
	sim.cut_to[A] = sim.cut_to[B] = true;
	sim_run(&sim, sim.now + 60000, both_down);
	ck_assert(both_down(&sim));
	for (int id = 0; id < 2; id++) {
		ck_assert_int_eq(sim.n[id].last_reason, SSCOP_REASON_NO_RESPONSE);
		ck_assert_uint_le(sim.n[id].last_down_at - cut_at, 15000 + 7000 + 100);
		ck_assert_int_eq(sscop_get_state(sim.n[id].s), SSCOP_IDLE);
		for (int t = 0; t < SSCOP_TIMER_COUNT; t++)
			ck_assert(!sscop_timer_running(sim.n[id].s, t));
		struct sscop_stats st;
		sscop_get_stats(sim.n[id].s, &st);
		ck_assert_uint_eq(st.failures, 1);
	}
	/* the channel heals; A has something to say, so it begins again */
	sim.cut_to[A] = sim.cut_to[B] = false;
	ck_assert_int_eq(sscop_send(sim.n[A].s, (const uint8_t *)"abcd", 4), -ENOTCONN);
	sscop_establish(sim.n[A].s);
	uint8_t m[64];
	size_t len = sim_msg(0, m);
	ck_assert_int_eq(sscop_send(sim.n[A].s, m, len), 0); /* queued until BGAK */
	sim.n[B].next_expected = 0;
	sim_run(&sim, sim.now + 5000, NULL);
	ck_assert(both_ready(&sim));
	ck_assert_uint_eq(sim.n[B].delivered, 1);
	ck_assert_str_eq(sim.n[A].events, "UDU");
	ck_assert_str_eq(sim.n[B].events, "UDU");
	sim_fini(&sim);
}
END_TEST

START_TEST(silent_peer_during_transfer)
{
	struct sim sim;
	start_pair(&sim, 10);
	establish(&sim);
	sim.cut_to[A] = sim.cut_to[B] = true;
	uint64_t cut_at = sim.now;
	for (uint32_t i = 0; i < 50; i++) {
		uint8_t m[64];
		size_t len = sim_msg(i, m);
		ck_assert_int_eq(sscop_send(sim.n[A].s, m, len), 0);
	}
	sim_run(&sim, sim.now + 30000, NULL);
	ck_assert_int_eq(sim.n[A].downs, 1);
	ck_assert_int_eq(sim.n[A].last_reason, SSCOP_REASON_NO_RESPONSE);
	ck_assert_uint_le(sim.n[A].last_down_at - cut_at, 7000 + 100);
	ck_assert_uint_eq(sscop_queued(sim.n[A].s), 0); /* in-flight data is gone */
	sim_fini(&sim);
}
END_TEST

static bool b_up(struct sim *sim)
{
	return sim->n[B].s && sim->n[B].ups > 0;
}

/*
 * A restarts and draws, as its first N(SQ), the one B took last from A's
 * previous life (one time in 256): B's retransmission check refuses that
 * BGN, and A's next BGN, with a new N(SQ), makes the association.  No
 * down is reported, and the message queued meanwhile goes through.
 */
START_TEST(restarted_node_reusing_its_nsq_gets_through)
{
	struct sim sim;
	start_pair(&sim, 11);
	establish(&sim);
	sscop_release(sim.n[A].s);
	sim_run(&sim, sim.now + 5000, NULL);
	ck_assert(both_idle(&sim));
	sim_node_stop(&sim, A);
	memset(&sim.n[A], 0, sizeof(sim.n[A]));
	sim.n[A].sim = &sim;
	sim.n[A].id = A;
	struct sscop_params pa = params(10); /* the first BGN's N(SQ) again */
	sim_node_start(&sim, A, &pa);
	uint8_t m[64];
	size_t len = sim_msg(0, m);
	sscop_establish(sim.n[A].s);
	ck_assert_int_eq(sscop_send(sim.n[A].s, m, len), 0);
	sim_run(&sim, sim.now + 5000, NULL);
	ck_assert_msg(both_ready(&sim), "A %s B %s", sscop_state_name(sscop_get_state(sim.n[A].s)),
		      sscop_state_name(sscop_get_state(sim.n[B].s)));
	ck_assert_uint_eq(sim.n[B].sent[SSCOP_PDU_BGREJ], 1);
	ck_assert_uint_eq(sim.n[A].sent[SSCOP_PDU_BGN], 2);
	ck_assert_int_eq(sim.n[A].downs, 0);
	ck_assert_int_eq(sim.n[A].ups, 1);
	ck_assert_uint_eq(sim.n[B].delivered, 1);
	sim_fini(&sim);
}
END_TEST

/* B restarts and begins a new association while A still holds the old
 * one: A reports down, then up, and data flows in the new association. */
START_TEST(peer_restart_is_reported_down_then_up)
{
	struct sim sim;
	start_pair(&sim, 11);
	establish(&sim);
	transfer(&sim, 20, 0, sim.now + 5000);
	sim_node_stop(&sim, B);
	memset(&sim.n[B], 0, sizeof(sim.n[B]));
	sim.n[B].sim = &sim;
	sim.n[B].id = B;
	struct sscop_params pb = params(77);
	sim_node_start(&sim, B, &pb);
	sscop_establish(sim.n[B].s);
	sim_run(&sim, sim.now + 5000, b_up);
	ck_assert(both_ready(&sim));
	ck_assert_str_eq(sim.n[A].events, "UDU");
	ck_assert_int_eq(sim.n[A].last_reason, SSCOP_REASON_PEER_RESTART);
	/* numbering starts afresh both ways */
	sim.n[A].next_expected = 0;
	sim.n[A].delivered = 0;
	sim.n[B].next_expected = 0;
	transfer(&sim, 30, 30, sim.now + 10000);
	ck_assert_uint_eq(sim.n[B].delivered, 30);
	ck_assert_uint_eq(sim.n[A].delivered, 30);
	ck_assert(!sim.n[A].out_of_order && !sim.n[B].out_of_order);
	sim_fini(&sim);
}
END_TEST

/* B restarts and stays quiet: A's next POLL meets an Idle B, which answers
 * END, so A learns at once rather than after Timer_NO-RESPONSE. */
START_TEST(restarted_quiet_peer_ends_stale_association)
{
	struct sim sim;
	start_pair(&sim, 12);
	establish(&sim);
	sim_node_stop(&sim, B);
	memset(&sim.n[B], 0, sizeof(sim.n[B]));
	sim.n[B].sim = &sim;
	sim.n[B].id = B;
	struct sscop_params pb = params(78);
	sim_node_start(&sim, B, &pb);
	uint8_t m[64];
	size_t len = sim_msg(0, m);
	ck_assert_int_eq(sscop_send(sim.n[A].s, m, len), 0);
	sim_run(&sim, sim.now + 100, NULL);
	ck_assert_int_eq(sim.n[A].downs, 1);
	ck_assert_int_eq(sim.n[A].last_reason, SSCOP_REASON_PEER_END);
	ck_assert_uint_eq(sim.n[B].sent[SSCOP_PDU_END], 1);
	ck_assert_int_eq(sscop_get_state(sim.n[A].s), SSCOP_IDLE);
	/* a retransmitted BGN (same N(SQ)) in Ready is answered, not a restart */
	sscop_establish(sim.n[A].s);
	sim_run(&sim, sim.now + 100, NULL);
	ck_assert(both_ready(&sim));
	const uint8_t dup_bgn[8] = { 0, 0, 0, 12, 0x01, 0, 0, 64 }; /* A's N(SQ) is 12 now */
	int ups = sim.n[B].ups;
	ck_assert_int_eq(sim_inject(&sim, B, dup_bgn, 8), 0);
	ck_assert_int_eq(sim.n[B].ups, ups);
	ck_assert_int_eq(sim.n[B].downs, 0);
	ck_assert_uint_eq(sim.n[B].sent[SSCOP_PDU_BGAK], 2);
	sim_fini(&sim);
}
END_TEST

static bool drop_first_bgak(struct sim *sim, int from, const uint8_t *pdu, size_t len)
{
	struct sscop_pdu p;
	if (sim->filter_state == 0 && sscop_pdu_parse(pdu, len, &p) == 0 &&
	    p.type == SSCOP_PDU_BGAK) {
		sim->filter_state = 1;
		return true;
	}
	return false;
}

/*
 * The BGAK is lost and the originator's Timer_CC is longer than the
 * acceptor's Timer_NO-RESPONSE (the faults suite's 25 % loss made this
 * happen by chance): the acceptor's POLLs bring the BGN again at once, so
 * the association comes up instead of being ended by the acceptor.
 */
START_TEST(lost_bgak_recovered_by_peer_poll)
{
	struct sim sim;
	sim_init(&sim, 21);
	struct sscop_params pa = params(10), pb = params(10);
	/* the faults suite's timers; A's Timer_CC past B's Timer_NO-RESPONSE */
	struct sscop_params *both[] = { &pa, &pb };
	for (int i = 0; i < 2; i++) {
		both[i]->timer_poll_ms = 100;
		both[i]->timer_keepalive_ms = 200;
		both[i]->timer_idle_ms = 300;
		both[i]->timer_noresp_ms = 1000;
	}
	pa.timer_cc_ms = 5000;
	sim_node_start(&sim, A, &pa);
	sim_node_start(&sim, B, &pb);
	sim.filter = drop_first_bgak;
	sscop_establish(sim.n[A].s);
	sim_run(&sim, sim.now + 900, both_ready);
	ck_assert_msg(both_ready(&sim), "A %s B %s, BGN %u, POLL %u, BGAK %u",
		      sscop_state_name(sscop_get_state(sim.n[A].s)),
		      sscop_state_name(sscop_get_state(sim.n[B].s)),
		      (unsigned)sim.n[A].sent[SSCOP_PDU_BGN], (unsigned)sim.n[B].sent[SSCOP_PDU_POLL],
		      (unsigned)sim.n[B].sent[SSCOP_PDU_BGAK]);
	ck_assert_uint_eq(sim.n[A].sent[SSCOP_PDU_BGN], 2);
	ck_assert_int_eq(sim.n[B].downs, 0);
	ck_assert_int_eq(sim.n[A].downs, 0);
	sim_run(&sim, sim.now + 3000, NULL);
	ck_assert(both_ready(&sim));
	sim_fini(&sim);
}
END_TEST

START_TEST(bgrej_refuses_establishment)
{
	struct sim sim;
	sim_init(&sim, 13);
	struct sscop_params pa = params(1), pb = params(2);
	pb.auto_accept = false;
	sim_node_start(&sim, A, &pa);
	sim_node_start(&sim, B, &pb);
	sim.n[B].reject_incoming = true;
	uint8_t m[64];
	size_t len = sim_msg(0, m);
	sscop_establish(sim.n[A].s);
	ck_assert_int_eq(sscop_send(sim.n[A].s, m, len), 0);
	sim_run(&sim, sim.now + 5000, NULL);
	/* a user that refuses refuses the second BGN too (a new N(SQ)) */
	ck_assert_int_eq(sim.n[B].incomings, 2);
	ck_assert_uint_eq(sim.n[B].sent[SSCOP_PDU_BGREJ], 2);
	ck_assert_uint_eq(sim.n[A].sent[SSCOP_PDU_BGN], 2);
	ck_assert_int_eq(sim.n[A].downs, 1);
	ck_assert_int_eq(sim.n[A].ups, 0);
	ck_assert_int_eq(sim.n[A].last_reason, SSCOP_REASON_REJECTED);
	ck_assert_uint_eq(sscop_queued(sim.n[A].s), 0);
	ck_assert(both_idle(&sim));
	/* the same user accepting instead: up on both sides */
	sim.n[B].reject_incoming = false;
	sscop_establish(sim.n[A].s);
	sim_run(&sim, sim.now + 5000, NULL);
	ck_assert(both_ready(&sim));
	ck_assert_int_eq(sim.n[B].incomings, 3);
	sim_fini(&sim);
}
END_TEST

START_TEST(unanswered_bgn_gives_up_after_max_cc)
{
	struct sim sim;
	start_pair(&sim, 14);
	sim.cut_to[B] = true;
	uint64_t t0 = sim.now;
	sscop_establish(sim.n[A].s);
	sim_run(&sim, sim.now + 60000, NULL);
	ck_assert_uint_eq(sim.n[A].sent[SSCOP_PDU_BGN], sim.n[A].params.max_cc);
	ck_assert_int_eq(sim.n[A].downs, 1);
	ck_assert_int_eq(sim.n[A].last_reason, SSCOP_REASON_NO_RESPONSE);
	ck_assert_uint_eq(sim.n[A].last_down_at - t0,
			  (uint64_t)sim.n[A].params.max_cc * sim.n[A].params.timer_cc_ms);
	ck_assert_int_eq(sscop_get_state(sim.n[A].s), SSCOP_IDLE);
	sim_fini(&sim);
}
END_TEST

START_TEST(simultaneous_establishment)
{
	struct sim sim;
	start_pair(&sim, 15);
	sscop_establish(sim.n[A].s);
	sscop_establish(sim.n[B].s);
	sim_run(&sim, sim.now + 5000, NULL);
	ck_assert(both_ready(&sim));
	ck_assert_str_eq(sim.n[A].events, "U");
	ck_assert_str_eq(sim.n[B].events, "U");
	transfer(&sim, 10, 10, sim.now + 5000);
	ck_assert_uint_eq(sim.n[A].delivered, 10);
	ck_assert_uint_eq(sim.n[B].delivered, 10);
	sim_fini(&sim);
}
END_TEST

START_TEST(send_limits)
{
	struct sim sim;
	sim_init(&sim, 16);
	struct sscop_params pa = params(1);
	pa.max_queue = 5;
	sim_node_start(&sim, A, &pa);
	uint8_t big[SSCOP_MAX_SDU + 1];
	memset(big, 0x5a, sizeof(big));
	ck_assert_int_eq(sscop_send(sim.n[A].s, big, 4), -ENOTCONN);
	sscop_establish(sim.n[A].s);
	ck_assert_int_eq(sscop_send(sim.n[A].s, big, 0), -EMSGSIZE);
	ck_assert_int_eq(sscop_send(sim.n[A].s, big, sizeof(big)), -EMSGSIZE);
	ck_assert_int_eq(sscop_send(sim.n[A].s, big, SSCOP_MAX_SDU), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(sscop_send(sim.n[A].s, big, 10), 0);
	ck_assert_int_eq(sscop_send(sim.n[A].s, big, 10), -ENOBUFS);
	ck_assert_uint_eq(sscop_queued(sim.n[A].s), 5);
	sim_fini(&sim);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Malformed input                                                     */

static void valid_pdus(uint8_t pdus[][40], size_t *lens, size_t *count)
{
	size_t n = 0;
	const uint8_t types[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	for (size_t t = 0; t < sizeof(types); t++) {
		uint8_t *b = pdus[n];
		memset(b, 0, 40);
		size_t len;
		switch (types[t]) {
		case SSCOP_PDU_SD:
		case SSCOP_PDU_UD:
		case SSCOP_PDU_MD:
			len = 12; /* 6 octets + pad 2 */
			b[4] = 'a';
			b[5] = 'b';
			b[8] = (uint8_t)(0x80 | types[t]);
			break;
		case SSCOP_PDU_STAT:
			len = 20;
			b[16] = types[t];
			break;
		case SSCOP_PDU_USTAT:
			len = 16;
			b[12] = types[t];
			break;
		case SSCOP_PDU_BGN:
		case SSCOP_PDU_BGAK:
		case SSCOP_PDU_BGREJ:
		case SSCOP_PDU_END:
		case SSCOP_PDU_RS:
			len = 16; /* with 6 octets of user-to-user and pad 2 */
			b[12] = (uint8_t)(0x80 | types[t]);
			break;
		default:
			len = 8;
			b[4] = types[t];
			break;
		}
		lens[n++] = len;
	}
	*count = n;
}

START_TEST(every_truncation_is_rejected)
{
	uint8_t pdus[16][40];
	size_t lens[16], count;
	valid_pdus(pdus, lens, &count);
	for (size_t i = 0; i < count; i++) {
		struct sscop_pdu p;
		ck_assert_int_eq(sscop_pdu_parse(pdus[i], lens[i], &p), 0);
		for (size_t cut = 0; cut < lens[i]; cut++) {
			/* keep the tail (where the trailer is) and drop the head,
			 * and drop the tail: both must be bounded */
			const uint8_t *tail = pdus[i] + lens[i] - cut;
			int rc_head = sscop_pdu_parse(pdus[i], cut, &p);
			if (rc_head == 0) {
				ck_assert_uint_eq(cut % 4, 0);
				ck_assert_uint_le(p.data_len, cut);
			}
			int rc_tail = sscop_pdu_parse(tail, cut, &p);
			if (rc_tail == 0) {
				/* only a shorter PDU of a type with a variable
				 * head may remain valid */
				ck_assert_uint_eq(cut % 4, 0);
				ck_assert_int_eq(p.type, pdus[i][lens[i] - 4] & 0x0f);
				ck_assert(p.type != SSCOP_PDU_POLL && p.type != SSCOP_PDU_USTAT &&
					  p.type != SSCOP_PDU_ENDAK);
			}
		}
		/* fixed-size PDUs refuse extra words */
		uint8_t longer[44];
		memset(longer, 0, 4);
		memcpy(longer + 4, pdus[i], lens[i]);
		int rc = sscop_pdu_parse(longer, lens[i] + 4, &p);
		unsigned ty = pdus[i][lens[i] - 4] & 0x0f;
		if (ty == SSCOP_PDU_POLL || ty == SSCOP_PDU_USTAT || ty == SSCOP_PDU_ENDAK ||
		    ty == SSCOP_PDU_RSAK || ty == SSCOP_PDU_ER || ty == SSCOP_PDU_ERAK)
			ck_assert_int_eq(rc, -EINVAL);
	}
	/* pad longer than the information field */
	const uint8_t sd_badpad[4] = { 0xc8, 0, 0, 0 };
	struct sscop_pdu p;
	ck_assert_int_eq(sscop_pdu_parse(sd_badpad, 4, &p), -EINVAL);
	const uint8_t bgn_badpad[8] = { 0, 0, 0, 0, 0xc1, 0, 0, 0 };
	ck_assert_int_eq(sscop_pdu_parse(bgn_badpad, 8, &p), -EINVAL);
	const uint8_t type0[8] = { 0, 0, 0, 0, 0x00, 0, 0, 0 };
	ck_assert_int_eq(sscop_pdu_parse(type0, 8, &p), -EINVAL);
	ck_assert_int_eq(sscop_pdu_parse(NULL, 0, &p), -EINVAL);
}
END_TEST

/* Every truncation of every PDU type, fed to a machine in every state:
 * dropped, counted, and the state and the association unchanged. */
START_TEST(truncated_pdus_change_nothing_in_any_state)
{
	uint8_t pdus[16][40];
	size_t lens[16], count;
	valid_pdus(pdus, lens, &count);
	for (int phase = 0; phase < 4; phase++) {
		struct sim sim;
		start_pair(&sim, 20 + (uint64_t)phase);
		if (phase == 1) { /* OCP */
			sim.cut_to[B] = true;
			sscop_establish(sim.n[A].s);
		} else if (phase >= 2) {
			establish(&sim);
			if (phase == 3) { /* ODP */
				sim.cut_to[B] = true;
				sscop_release(sim.n[A].s);
			}
		}
		enum sscop_state st = sscop_get_state(sim.n[A].s);
		int downs = sim.n[A].downs;
		for (size_t i = 0; i < count; i++) {
			for (size_t cut = 1; cut < lens[i]; cut++) {
				if (cut % 4 == 0)
					continue; /* may be a valid shorter PDU */
				struct sscop_stats before, after;
				sscop_get_stats(sim.n[A].s, &before);
				ck_assert_int_eq(sim_inject(&sim, A, pdus[i], cut), -EINVAL);
				ck_assert_int_eq(sim_inject(&sim, A, pdus[i] + lens[i] - cut, cut),
						 -EINVAL);
				sscop_get_stats(sim.n[A].s, &after);
				ck_assert_uint_eq(after.pdus_ignored, before.pdus_ignored + 2);
				ck_assert_int_eq(sscop_get_state(sim.n[A].s), st);
			}
		}
		ck_assert_int_eq(sim.n[A].downs, downs);
		if (phase == 2) {
			transfer(&sim, 10, 10, sim.now + 5000);
			ck_assert_uint_eq(sim.n[B].delivered, 10);
		}
		sim_fini(&sim);
	}
}
END_TEST

/* Random bytes, and random well-formed PDUs with random numbers, at an
 * established machine: never a crash (the sanitizer build checks memory),
 * every PDU it sends still parses, its invariants hold. */
START_TEST(random_pdus_never_crash)
{
	struct sim sim;
	start_pair(&sim, 30);
	establish(&sim);
	sim.n[A].accept_any = true;
	for (int round = 0; round < 200000; round++) {
		if (sscop_get_state(sim.n[A].s) != SSCOP_READY) {
			sim_run(&sim, sim.now + 3000, NULL);
			if (!both_ready(&sim)) {
				sscop_establish(sim.n[A].s);
				sim_run(&sim, sim.now + 3000, NULL);
			}
		}
		uint8_t b[64];
		size_t len = sim_rand(&sim, 16) * 4 + (sim_rand(&sim, 8) == 0 ? sim_rand(&sim, 4) : 0);
		for (size_t k = 0; k < len; k++)
			b[k] = (uint8_t)sim_rand(&sim, 256);
		if (len >= 4 && sim_rand(&sim, 2)) {
			/* small sequence numbers, so they land near the window */
			b[len - 3] = 0;
			b[len - 2] = 0;
			b[len - 1] = (uint8_t)sim_rand(&sim, 80);
		}
		sim_inject(&sim, A, b, len);
		if (round % 1000 == 0) {
			uint8_t m[64];
			size_t ml = sim_msg((uint32_t)round, m);
			int rc = sscop_send(sim.n[A].s, m, ml);
			ck_assert(rc == 0 || rc == -ENOTCONN || rc == -ENOBUFS);
			sim_run(&sim, sim.now + 20, NULL);
			sim.n[B].next_expected = 0; /* content is checked, order not */
		}
		ck_assert_uint_le(sscop_queued(sim.n[A].s), 1024 + SSCOP_TX_WINDOW);
	}
	sim_fini(&sim);
}
END_TEST

/* A STAT or USTAT that acknowledges what was never sent is dropped. */
START_TEST(invalid_stat_is_dropped)
{
	struct sim sim;
	start_pair(&sim, 31);
	establish(&sim);
	sim.cut_to[B] = true;
	for (uint32_t i = 0; i < 3; i++) {
		uint8_t m[64];
		size_t len = sim_msg(i, m);
		ck_assert_int_eq(sscop_send(sim.n[A].s, m, len), 0);
	}
	ck_assert_uint_eq(sscop_queued(sim.n[A].s), 3);
	/* N(R) = 9 > VT(S) = 3 */
	const uint8_t stat_bad_nr[12] = { 0, 0, 0, 0, 0, 0, 0, 64, 0x0b, 0, 0, 9 };
	sim_inject(&sim, A, stat_bad_nr, 12);
	ck_assert_uint_eq(sscop_queued(sim.n[A].s), 3);
	/* list element beyond VT(S) */
	const uint8_t ustat_bad[16] = { 0, 0, 0, 1, 0, 0, 0, 50, 0, 0, 0, 64, 0x0c, 0, 0, 0 };
	struct sscop_stats before, after;
	sscop_get_stats(sim.n[A].s, &before);
	sim_inject(&sim, A, ustat_bad, 16);
	sscop_get_stats(sim.n[A].s, &after);
	ck_assert_uint_eq(after.retransmits, before.retransmits);
	ck_assert_uint_eq(after.pdus_ignored, before.pdus_ignored + 1);
	/* a valid USTAT: acknowledges 0, asks again for 1 */
	const uint8_t ustat_ok[16] = { 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 64, 0x0c, 0, 0, 1 };
	sim_inject(&sim, A, ustat_ok, 16);
	sscop_get_stats(sim.n[A].s, &after);
	ck_assert_uint_eq(after.retransmits, before.retransmits + 1);
	ck_assert_uint_eq(sscop_queued(sim.n[A].s), 2);
	ck_assert_int_eq(sscop_get_state(sim.n[A].s), SSCOP_READY);
	sim_fini(&sim);
}
END_TEST

/*
 * Issue 13 finding 1: a peer stopped (SIGSTOP) for a while with calls
 * active.  B, still running, fails the link on Timer_NO-RESPONSE and, as
 * daemon.c does while T309 runs, establishes again on every down: END,
 * BGNs, END(S) after MaxCC, new BGNs... all waiting in A's socket.  When A
 * continues it reads that backlog before its own timers.  Both must end in
 * one association, quickly, and then stay quiet: no storm of BGN/END.
 */
static const uint32_t stall_ms[] = { 1000, 5000, 8500, 9000, 15000, 30000, 60000 };
#define N_STALLS (int)(sizeof(stall_ms) / sizeof(stall_ms[0]))

/* _i < N_STALLS: with T309 at its default of 10 s; above: re-establishing
 * for ever, the worst backlog a stall can leave. */
START_TEST(stall_settles_in_one_association)
{
	struct sim sim;
	uint32_t stall = stall_ms[_i % N_STALLS];
	bool forever = _i >= N_STALLS;
	start_pair(&sim, 40 + (uint64_t)_i);
	sim.n[A].reestablish = sim.n[B].reestablish = true;
	if (!forever)
		sim.n[A].t309_ms = sim.n[B].t309_ms = 10000;
	establish(&sim);
	sim_run(&sim, sim.now + 20000, NULL); /* into the idle phase */
	/* keep data flowing so the stall catches SDs in flight too */
	transfer(&sim, 10, 10, sim.now + 2000);
	sim.stalled[A] = true;
	sim_run(&sim, sim.now + stall, NULL);
	sim_resume(&sim, A);
	int ups0[2] = { sim.n[A].ups, sim.n[B].ups };
	sim_run(&sim, sim.now + 5000, NULL);
	ck_assert_msg(both_ready(&sim), "stall %u: A %s, B %s", stall,
		      sscop_state_name(sscop_get_state(sim.n[A].s)),
		      sscop_state_name(sscop_get_state(sim.n[B].s)));
	/* A reads the backlog one PDU at a time: each BGN round B made while
	 * A was stopped (MaxCC BGNs, then END) may bring it up and down once,
	 * all at the instant it continues; nothing more. */
	const struct sscop_params *pb = &sim.n[B].params;
	int rounds = forever ? (int)(stall / (pb->max_cc * pb->timer_cc_ms)) : 3;
	for (int id = 0; id < 2; id++)
		ck_assert_msg(sim.n[id].ups - ups0[id] <= 2 + rounds, "stall %u: node %d up %d times",
			      stall, id, sim.n[id].ups - ups0[id]);
	/* settled: nothing changes any more and only keep-alives flow */
	int ups1[2] = { sim.n[A].ups, sim.n[B].ups };
	int downs1[2] = { sim.n[A].downs, sim.n[B].downs };
	uint64_t frames = sim.frames;
	sim_run(&sim, sim.now + 30000, NULL);
	for (int id = 0; id < 2; id++) {
		ck_assert_int_eq(sim.n[id].ups, ups1[id]);
		ck_assert_int_eq(sim.n[id].downs, downs1[id]);
	}
	ck_assert_uint_lt(sim.frames - frames, 100);
	/* and the new association carries data, numbered afresh */
	for (int id = 0; id < 2; id++) {
		sim.n[id].next_expected = sim.n[id].delivered = 0;
		sim.n[id].out_of_order = false;
	}
	transfer(&sim, 20, 20, sim.now + 10000);
	ck_assert(all_delivered(&sim) && !sim.n[A].out_of_order && !sim.n[B].out_of_order);
	sim_fini(&sim);
}
END_TEST

/* Replies from an earlier round never end the association we have now. */
START_TEST(stale_pdus_leave_ready_alone)
{
	struct sim sim;
	start_pair(&sim, 50);
	establish(&sim);
	const uint8_t endak[8] = { 0, 0, 0, 0, 0x04, 0, 0, 0 };
	const uint8_t bgrej[8] = { 0, 0, 0, 0, 0x07, 0, 0, 0 };
	const uint8_t bgak[8] = { 0, 0, 0, 0, 0x02, 0, 0, 64 };
	struct sscop_stats before, after;
	sscop_get_stats(sim.n[B].s, &before);
	ck_assert_int_eq(sim_inject(&sim, B, endak, 8), 0);
	ck_assert_int_eq(sim_inject(&sim, B, bgrej, 8), 0);
	ck_assert_int_eq(sim_inject(&sim, B, bgak, 8), 0);
	sscop_get_stats(sim.n[B].s, &after);
	ck_assert_uint_eq(after.pdus_ignored, before.pdus_ignored + 3);
	ck_assert_uint_eq(sim.n[B].sent[SSCOP_PDU_END], 0);
	ck_assert_int_eq(sim.n[B].downs, 0);
	sim_run(&sim, sim.now + 20000, NULL);
	ck_assert(both_ready(&sim));
	ck_assert_int_eq(sim.n[A].downs + sim.n[B].downs, 0);
	sim_fini(&sim);
}
END_TEST

/*
 * Crossing BGNs: A and B begin at once; before B's current BGN, a
 * retransmission of the BGN A already accepted in an earlier round reaches
 * A again.  It is recognised by its N(SQ) and ignored (Q.2110 OCP, BGN).
 */
START_TEST(crossing_bgns_ignore_old_nsq)
{
	struct sim sim;
	start_pair(&sim, 51);
	establish(&sim);
	/* A holds B's N(SQ) of this round: capture B's BGN by restarting */
	sscop_release(sim.n[A].s);
	sim_run(&sim, sim.now + 100, NULL);
	ck_assert(both_idle(&sim));
	capture_type = SSCOP_PDU_BGN;
	captured_len = 0;
	sim.filter = capture_filter;
	sscop_establish(sim.n[B].s);
	sim_run(&sim, sim.now + 100, NULL);
	sim.filter = NULL;
	ck_assert(both_ready(&sim));
	ck_assert_uint_eq(captured_len, 8);
	uint8_t old_bgn[8];
	memcpy(old_bgn, captured, 8);
	sscop_release(sim.n[A].s);
	sim_run(&sim, sim.now + 100, NULL);
	ck_assert(both_idle(&sim));
	/* A begins; the stale BGN arrives first: no crossing, A stays in OCP */
	sim.cut_to[B] = true;
	sscop_establish(sim.n[A].s);
	uint64_t bgaks = sim.n[A].sent[SSCOP_PDU_BGAK];
	ck_assert_int_eq(sim_inject(&sim, A, old_bgn, 8), 0);
	ck_assert_int_eq(sscop_get_state(sim.n[A].s), SSCOP_OUT_CONN_PENDING);
	ck_assert_uint_eq(sim.n[A].sent[SSCOP_PDU_BGAK], bgaks);
	/* B's real BGN crosses A's: both ready, once */
	sim.cut_to[B] = false;
	int ups_a = sim.n[A].ups, ups_b = sim.n[B].ups;
	sscop_establish(sim.n[B].s);
	sim_run(&sim, sim.now + 5000, NULL);
	ck_assert(both_ready(&sim));
	ck_assert_int_eq(sim.n[A].ups, ups_a + 1);
	ck_assert_int_eq(sim.n[B].ups, ups_b + 1);
	sim_fini(&sim);
}
END_TEST

int main(void)
{
	log_set_level(LOG_WARNING);
	CK_RUN_CASES("sscop", CK_FORK_GETENV,
		CK_CASE("core", NULL, NULL, 120, CK_TEST(pdu_layout_matches_q2110),
			CK_TEST(establish_and_exchange),
			CK_LOOP(lossy_channel_delivers_in_order, 0, 2),
			CK_TEST(gap_is_retransmitted_after_ustat),
			CK_TEST(lost_tail_recovered_by_poll), CK_TEST(keepalive_keeps_idle_link_up),
			CK_TEST(release_even_when_end_is_lost),
			CK_TEST(silent_peer_fails_link_then_reestablishes),
			CK_TEST(silent_peer_during_transfer),
			CK_TEST(restarted_node_reusing_its_nsq_gets_through),
			CK_TEST(peer_restart_is_reported_down_then_up),
			CK_TEST(restarted_quiet_peer_ends_stale_association),
			CK_TEST(bgrej_refuses_establishment),
			CK_TEST(unanswered_bgn_gives_up_after_max_cc),
			CK_TEST(simultaneous_establishment), CK_TEST(send_limits),
			CK_TEST(every_truncation_is_rejected),
			CK_TEST(truncated_pdus_change_nothing_in_any_state),
			CK_TEST(random_pdus_never_crash), CK_TEST(invalid_stat_is_dropped),
			CK_TEST(lost_bgak_recovered_by_peer_poll),
			CK_LOOP(stall_settles_in_one_association, 0, 2 * N_STALLS),
			CK_TEST(stale_pdus_leave_ready_alone),
			CK_TEST(crossing_bgns_ignore_old_nsq)));
}
