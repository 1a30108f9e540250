/* SPDX-License-Identifier: MIT */
/*
 * Data frames: the AAL5 CRC against its catalogue values, segmentation and
 * reassembly round trips at the edges, and every way a frame can go wrong
 * losing exactly the one SDU it belongs to, never delivering a damaged one.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../ck_run.h"
#include "data/frame.h"

#define MAX 9180

static uint8_t frames[DF_MAX_FRAGS][DF_HDR + DF_FRAG_MAX];
static size_t frame_len[DF_MAX_FRAGS];

static void pattern(uint8_t *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 131u + i * 17u + (i >> 8));
}

/* Cut an SDU into frames[]; returns how many. */
static unsigned cut(const uint8_t *sdu, size_t len, uint16_t vci, uint16_t seq)
{
	struct df_sdu s;
	ck_assert(df_sdu_init(&s, sdu, len));
	ck_assert_uint_eq(s.pdu_len % 48, 0);
	ck_assert_uint_le(s.pdu_len - len - DF_TRAILER, 47);
	for (unsigned k = 0; k < s.nfrags; k++)
		frame_len[k] = df_frame(&s, k, 0, vci, seq, frames[k]);
	return s.nfrags;
}

/* Push frame k; the push's result, with *out and *out_len set on 1. */
static int push(struct df_reasm *r, unsigned k, uint64_t now, const uint8_t **out,
		size_t *out_len)
{
	struct df_hdr h;
	ck_assert_int_eq(df_parse(frames[k], frame_len[k], &h), DF_OK);
	return df_reasm_push(r, &h, now, 500, out, out_len);
}

START_TEST(crc_catalogue)
{
	/* CRC-32/BZIP2 check value, and the residue of a good PDU */
	const uint8_t check[] = "123456789";
	ck_assert_uint_eq(~df_crc32(0xFFFFFFFFu, check, 9), 0xFC891918u);
	uint8_t sdu[100];
	pattern(sdu, sizeof(sdu), 1);
	struct df_sdu s;
	ck_assert(df_sdu_init(&s, sdu, sizeof(sdu)));
	uint8_t pdu[200];
	memcpy(pdu, sdu, sizeof(sdu));
	memcpy(pdu + sizeof(sdu), s.tail, s.pdu_len - sizeof(sdu));
	ck_assert_uint_eq(df_crc32(0xFFFFFFFFu, pdu, s.pdu_len), DF_CRC_RESIDUE);
	/* the trailer: UU 0, CPI 0, length big-endian */
	const uint8_t *t = pdu + s.pdu_len - DF_TRAILER;
	ck_assert_uint_eq(t[0], 0);
	ck_assert_uint_eq(t[1], 0);
	ck_assert_uint_eq(t[2] << 8 | t[3], 100);
	ck_assert(!df_sdu_init(&s, sdu, 0));
}
END_TEST

START_TEST(round_trip)
{
	static const size_t lens[] = { 1, 39, 40, 41, 47, 48, 88, 89, 1440, 1480, 1481,
				       1488, 1489, 2976, 9000, MAX };
	static uint8_t sdu[DF_MAX_SDU];
	struct df_reasm r;
	df_reasm_init(&r, MAX);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		pattern(sdu, lens[i], (unsigned)i);
		unsigned n = cut(sdu, lens[i], 77, (uint16_t)i);
		for (unsigned k = 0; k < n; k++) {
			struct df_hdr h;
			ck_assert_int_eq(df_parse(frames[k], frame_len[k], &h), DF_OK);
			ck_assert_uint_eq(h.vci, 77);
			ck_assert_uint_eq(h.seq, i);
			ck_assert_uint_eq(h.frag, k);
			ck_assert(h.last == (k == n - 1));
			const uint8_t *out;
			size_t out_len;
			int rc = df_reasm_push(&r, &h, 0, 500, &out, &out_len);
			if (k < n - 1) {
				ck_assert_int_eq(rc, 0);
				continue;
			}
			ck_assert_int_eq(rc, 1);
			ck_assert_uint_eq(out_len, lens[i]);
			ck_assert_mem_eq(out, sdu, lens[i]);
		}
	}
	ck_assert_uint_eq(r.count[0], sizeof(lens) / sizeof(lens[0]));
	/* the largest SDU of all, with max_sdu 65535 */
	df_reasm_free(&r);
	df_reasm_init(&r, DF_MAX_SDU);
	pattern(sdu, DF_MAX_SDU, 9);
	unsigned n = cut(sdu, DF_MAX_SDU, 1, 1);
	const uint8_t *out = NULL;
	size_t out_len = 0;
	for (unsigned k = 0; k < n; k++)
		ck_assert_int_eq(push(&r, k, 0, &out, &out_len), k == n - 1 ? 1 : 0);
	ck_assert_uint_eq(out_len, DF_MAX_SDU);
	ck_assert_mem_eq(out, sdu, DF_MAX_SDU);
	df_reasm_free(&r);
}
END_TEST

/* Every single fragment lost in turn: that SDU is lost, the next one arrives. */
START_TEST(lost_fragment)
{
	static uint8_t a[MAX], b[MAX];
	pattern(a, MAX, 1);
	pattern(b, MAX, 2);
	struct df_reasm r;
	df_reasm_init(&r, MAX);
	unsigned n = cut(a, MAX, 5, 0);
	for (unsigned lost = 0; lost < n; lost++) {
		const uint8_t *out;
		size_t out_len;
		cut(a, MAX, 5, (uint16_t)(2 * lost));
		for (unsigned k = 0; k < n; k++)
			if (k != lost)
				ck_assert_int_le(push(&r, k, 0, &out, &out_len), 0);
		cut(b, MAX, 5, (uint16_t)(2 * lost + 1));
		int rc = 0;
		for (unsigned k = 0; k < n; k++)
			rc = push(&r, k, 0, &out, &out_len);
		ck_assert_int_eq(rc, 1);
		ck_assert_uint_eq(out_len, MAX);
		ck_assert_mem_eq(out, b, MAX);
	}
	ck_assert_uint_eq(r.count[0], n);
	df_reasm_free(&r);
}
END_TEST

/* Two fragments swapped, one repeated, one from another SDU: never delivered. */
START_TEST(reordered_and_spliced)
{
	static uint8_t a[3000], b[3000];
	pattern(a, sizeof(a), 3);
	pattern(b, sizeof(b), 4);
	struct df_reasm r;
	df_reasm_init(&r, MAX);
	const uint8_t *out;
	size_t out_len;
	unsigned n = cut(a, sizeof(a), 9, 10);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(push(&r, 0, 0, &out, &out_len), 0);
	ck_assert_int_eq(push(&r, 2, 0, &out, &out_len), DF_E_GAP);
	ck_assert_int_eq(push(&r, 1, 0, &out, &out_len), DF_E_GAP);
	/* repeated */
	ck_assert_int_eq(push(&r, 0, 0, &out, &out_len), 0);
	ck_assert_int_eq(push(&r, 1, 0, &out, &out_len), 0);
	ck_assert_int_eq(push(&r, 1, 0, &out, &out_len), DF_E_GAP);
	ck_assert_int_eq(push(&r, 2, 0, &out, &out_len), DF_E_GAP);
	/* spliced: a's first two with b's last, same sequence number */
	static uint8_t keep[2][DF_HDR + DF_FRAG_MAX];
	size_t keep_len[2] = { frame_len[0], frame_len[1] };
	memcpy(keep[0], frames[0], frame_len[0]);
	memcpy(keep[1], frames[1], frame_len[1]);
	cut(b, sizeof(b), 9, 10);
	memcpy(frames[0], keep[0], keep_len[0]);
	memcpy(frames[1], keep[1], keep_len[1]);
	ck_assert_int_eq(push(&r, 0, 0, &out, &out_len), 0);
	ck_assert_int_eq(push(&r, 1, 0, &out, &out_len), 0);
	ck_assert_int_eq(push(&r, 2, 0, &out, &out_len), DF_E_CRC);
	ck_assert_uint_eq(r.count[0], 0);
	/* and the reassembler is fine afterwards */
	cut(a, sizeof(a), 9, 11);
	for (unsigned k = 0; k < 3; k++)
		ck_assert_int_eq(push(&r, k, 0, &out, &out_len), k == 2 ? 1 : 0);
	ck_assert_mem_eq(out, a, sizeof(a));
	df_reasm_free(&r);
}
END_TEST

/* Any one octet of the payload damaged: CRC (or length) catches it. */
START_TEST(damaged)
{
	static uint8_t a[1600];
	pattern(a, sizeof(a), 5);
	struct df_reasm r;
	df_reasm_init(&r, MAX);
	unsigned n = cut(a, sizeof(a), 9, 1);
	for (unsigned k = 0; k < n; k++)
		for (size_t off = 0; off < frame_len[k] - DF_HDR; off += 7) {
			cut(a, sizeof(a), 9, 1);
			frames[k][DF_HDR + off] ^= 0x10;
			const uint8_t *out;
			size_t out_len;
			int rc = 0;
			for (unsigned j = 0; j < n; j++)
				rc = push(&r, j, 0, &out, &out_len);
			ck_assert_msg(rc == DF_E_CRC || rc == DF_E_LENGTH,
				      "fragment %u octet %zu: %d", k, off, rc);
		}
	ck_assert_uint_eq(r.count[0], 0);
	df_reasm_free(&r);
}
END_TEST

/* An SDU overtaken by a later one is not delivered after it. */
START_TEST(overtaken)
{
	static uint8_t a[100];
	pattern(a, sizeof(a), 8);
	const uint8_t *out;
	size_t out_len;
	struct df_reasm r;
	df_reasm_init(&r, MAX);
	cut(a, sizeof(a), 9, 5);
	ck_assert_int_eq(push(&r, 0, 0, &out, &out_len), 1);
	cut(a, sizeof(a), 9, 4); /* older: dropped */
	ck_assert_int_eq(push(&r, 0, 0, &out, &out_len), DF_E_GAP);
	cut(a, sizeof(a), 9, 5); /* repeated: dropped */
	ck_assert_int_eq(push(&r, 0, 0, &out, &out_len), DF_E_GAP);
	cut(a, sizeof(a), 9, 7); /* later, with 6 lost: fine */
	ck_assert_int_eq(push(&r, 0, 0, &out, &out_len), 1);
	cut(a, sizeof(a), 9, (uint16_t)(7 + 40000)); /* beyond the window: older */
	ck_assert_int_eq(push(&r, 0, 0, &out, &out_len), DF_E_GAP);
	for (uint32_t s = 8; s < 70000; s += 1000) { /* and the sequence wraps */
		cut(a, sizeof(a), 9, (uint16_t)s);
		ck_assert_int_eq(push(&r, 0, 0, &out, &out_len), 1);
	}
	df_reasm_free(&r);
}
END_TEST

/*
 * Losses are counted once per SDU by the sequence numbers a delivered SDU
 * skips, whatever came of their frames: none, some, or all but damaged.
 */
START_TEST(missed_by_sequence)
{
	static uint8_t a[MAX];
	pattern(a, MAX, 3);
	const uint8_t *out;
	size_t out_len;
	struct df_reasm r;
	df_reasm_init(&r, MAX);
	unsigned n = cut(a, MAX, 9, 2); /* the leg's first: 0 and 1 never came */
	for (unsigned k = 0; k < n; k++)
		push(&r, k, 0, &out, &out_len);
	ck_assert_uint_eq(r.missed, 2);
	/* 3: no frame; 4: every frame but the first (six lone frames); 5: damaged */
	cut(a, MAX, 9, 4);
	for (unsigned k = 1; k < n; k++)
		ck_assert_int_eq(push(&r, k, 0, &out, &out_len), DF_E_GAP);
	cut(a, MAX, 9, 5);
	frames[1][DF_HDR + 7] ^= 1;
	for (unsigned k = 0; k < n; k++)
		push(&r, k, 0, &out, &out_len);
	cut(a, MAX, 9, 6);
	int rc = 0;
	for (unsigned k = 0; k < n; k++)
		rc = push(&r, k, 0, &out, &out_len);
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_eq(r.missed, 3);
	/* one overtaken after its successor was delivered: counted then, not again */
	cut(a, MAX, 9, 8);
	for (unsigned k = 0; k < n; k++)
		push(&r, k, 0, &out, &out_len);
	ck_assert_uint_eq(r.missed, 1);
	cut(a, MAX, 9, 7);
	ck_assert_int_eq(push(&r, 0, 0, &out, &out_len), DF_E_GAP);
	cut(a, MAX, 9, 9);
	for (unsigned k = 0; k < n; k++)
		push(&r, k, 0, &out, &out_len);
	ck_assert_uint_eq(r.missed, 0);
	/* across the wrap of the sequence number, in steps within the window */
	static const uint16_t steps[] = { 30000, 60000, 65534 };
	static const uint16_t skipped[] = { 30000 - 9 - 1, 60000 - 30000 - 1, 65534 - 60000 - 1 };
	for (unsigned i = 0; i < 3; i++) {
		cut(a, MAX, 9, steps[i]);
		for (unsigned k = 0; k < n; k++)
			push(&r, k, 0, &out, &out_len);
		ck_assert_uint_eq(r.missed, skipped[i]);
	}
	cut(a, MAX, 9, 1);
	for (unsigned k = 0; k < n; k++)
		push(&r, k, 0, &out, &out_len);
	ck_assert_uint_eq(r.missed, 2); /* 65535 and 0 */
	df_reasm_free(&r);
}
END_TEST

START_TEST(timeout_and_oversize)
{
	static uint8_t a[4000];
	pattern(a, sizeof(a), 6);
	const uint8_t *out;
	size_t out_len;
	struct df_reasm r;
	df_reasm_init(&r, MAX);
	cut(a, sizeof(a), 9, 1);
	ck_assert_int_eq(push(&r, 0, 1000, &out, &out_len), 0);
	ck_assert_int_eq(push(&r, 1, 1400, &out, &out_len), 0);
	ck_assert(!df_reasm_expire(&r, 1500, 500));
	ck_assert(df_reasm_expire(&r, 1501, 500));
	ck_assert_int_eq(push(&r, 2, 1502, &out, &out_len), DF_E_GAP);
	ck_assert_uint_eq(r.count[-DF_E_TIMEOUT], 1);
	df_reasm_free(&r);

	/* an SDU over this leg's max_sdu never gets through */
	df_reasm_init(&r, 3000);
	unsigned n = cut(a, sizeof(a), 9, 2);
	int rc = 0;
	for (unsigned k = 0; k < n; k++)
		rc = push(&r, k, 0, &out, &out_len);
	ck_assert_int_lt(rc, 0);
	ck_assert_uint_eq(r.count[0], 0);
	df_reasm_free(&r);
}
END_TEST

START_TEST(bad_frames)
{
	static uint8_t a[100];
	pattern(a, sizeof(a), 7);
	cut(a, sizeof(a), 9, 1);
	struct df_hdr h;
	/* Ethernet padding after the frame is fine; a short one is not */
	ck_assert_int_eq(df_parse(frames[0], frame_len[0] + 10, &h), DF_OK);
	ck_assert_int_eq(df_parse(frames[0], frame_len[0] - 1, &h), DF_E_SHORT);
	ck_assert_int_eq(df_parse(frames[0], DF_HDR - 1, &h), DF_E_SHORT);
	frames[0][0] = 2;
	ck_assert_int_eq(df_parse(frames[0], frame_len[0], &h), DF_E_VERSION);
	frames[0][0] = DF_VERSION;
	frames[0][1] |= 0x80;
	ck_assert_int_eq(df_parse(frames[0], frame_len[0], &h), DF_E_VERSION);
	frames[0][1] &= 0x7f;
	/* a frame that is not the last must be full */
	frames[0][1] = 0;
	ck_assert_int_eq(df_parse(frames[0], frame_len[0], &h), DF_E_SHORT);
	ck_assert_str_eq(df_reason_name(DF_E_CRC), "crc");
}
END_TEST

int main(void)
{
	CK_RUN("data-frame", NULL, NULL, crc_catalogue, round_trip, lost_fragment,
	       reordered_and_spliced, damaged, timeout_and_oversize, overtaken, missed_by_sequence,
	       bad_frames);
}
