/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the data frame parser and the reassembler
 * (daemon/data/frame.c).
 *
 * Input: a header, then records.
 *   [0..1] max_sdu of the leg (big-endian; 0 means 65535)
 *   [2]    how many good SDUs to build (mod 8) and cut into frames
 *   record := op ...
 *     op%4 0  a raw frame: length octets (two, big-endian, mod 1600), bytes
 *     op%4 1  the next frame of the good ones, as built
 *     op%4 2  the next good frame with one octet flipped: index octet, mask octet
 *     op%4 3  skip the next good frame (lost); op>>2 advances the clock (ms)
 *
 * Checked: the parser never reads outside its input; the reassembler never
 * delivers more than max_sdu octets, and whatever it delivers is, octet for
 * octet, one of the good SDUs (a damaged, truncated or spliced one would
 * not be), which the fuzzer cannot forge without breaking the CRC.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/frame.h"

#define NGOOD 8
#define GOOD_LEN 4000

static uint8_t good[NGOOD][GOOD_LEN];
static size_t good_len[NGOOD];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint32_t max_sdu = (uint32_t)(data[0] << 8 | data[1]);
	unsigned ngood = data[2] % NGOOD;
	data += 3;
	size -= 3;

	/* the good SDUs and their frames, in order */
	static uint8_t frames[NGOOD * 4][DF_HDR + DF_FRAG_MAX];
	static size_t flen[NGOOD * 4];
	unsigned nframes = 0;
	for (unsigned i = 0; i < ngood; i++) {
		good_len[i] = 1 + (i * 1499u) % GOOD_LEN;
		for (size_t j = 0; j < good_len[i]; j++)
			good[i][j] = (uint8_t)(i * 37u + j);
		struct df_sdu s;
		if (!df_sdu_init(&s, good[i], good_len[i]))
			abort();
		for (unsigned k = 0; k < s.nfrags; k++) {
			flen[nframes] = df_frame(&s, k, 0, 42, (uint16_t)i, frames[nframes]);
			nframes++;
		}
	}

	struct df_reasm r;
	df_reasm_init(&r, max_sdu);
	uint64_t now = 0;
	unsigned next = 0;
	size_t p = 0;
	static uint8_t buf[1600];
	while (p < size) {
		uint8_t op = data[p++];
		const uint8_t *frame = NULL;
		size_t n = 0;
		switch (op % 4) {
		case 0:
			if (p + 2 > size)
				goto out;
			n = (size_t)(data[p] << 8 | data[p + 1]) % 1600;
			p += 2;
			if (n > size - p)
				n = size - p;
			memcpy(buf, data + p, n); /* exactly n octets: ASan sees overreads */
			p += n;
			frame = buf;
			break;
		case 1:
		case 2:
			if (next >= nframes)
				continue;
			n = flen[next];
			memcpy(buf, frames[next++], n);
			if (op % 4 == 2 && p + 2 <= size) {
				buf[data[p] % n] ^= data[p + 1] ? data[p + 1] : 1;
				p += 2;
			}
			frame = buf;
			break;
		case 3:
			next++;
			now += op >> 2;
			continue;
		}
		uint8_t *exact = malloc(n ? n : 1);
		if (!exact)
			abort();
		memcpy(exact, frame, n);
		struct df_hdr h;
		if (df_parse(exact, n, &h) == DF_OK) {
			const uint8_t *sdu;
			size_t len;
			if (df_reasm_push(&r, &h, now, 500, &sdu, &len) == 1) {
				if (len == 0 || len > r.max_sdu)
					abort();
				bool found = false;
				for (unsigned i = 0; i < ngood && !found; i++)
					found = len == good_len[i] && memcmp(sdu, good[i], len) == 0;
				/* raw frames may carry a whole PDU of their own: only a
				 * good frame's SDU must be one of the good ones */
				if (!found && op % 4 != 0)
					abort();
			}
		}
		free(exact);
	}
out:
	df_reasm_free(&r);
	return 0;
}
