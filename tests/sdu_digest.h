/* SPDX-License-Identifier: MIT */
/*
 * The test SDUs of the data path (tests/ipc/test_data.c,
 * tests/netns/dataclient.c): each carries its sequence number, its length
 * and an FNV-1a digest of the rest, then a pattern of the sequence number,
 * so a truncated, corrupt, spliced or misordered SDU is caught wherever it
 * is read.  Under 12 octets only the pattern is there.
 */
#ifndef CALLMGR_TESTS_SDU_DIGEST_H
#define CALLMGR_TESTS_SDU_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static inline void sdu_make(uint8_t *b, size_t len, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seq * 31u + i * 7u);
	if (len >= 12) {
		uint32_t l = (uint32_t)len;
		memcpy(b, &seq, 4);
		memcpy(b + 4, &l, 4);
		uint32_t h = fnv(b + 12, len - 12);
		memcpy(b + 8, &h, 4);
	}
}

#endif
