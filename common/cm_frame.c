/* SPDX-License-Identifier: MIT */
#include "cm_frame.h"

void cmc_frame_put_len(uint8_t hdr[CMC_FRAME_HDR], size_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

size_t cmc_frame_get_len(const uint8_t hdr[CMC_FRAME_HDR])
{
	return (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
}

enum cmc_frame_status cmc_frame_next(const uint8_t *head, size_t head_len, size_t avail,
				     size_t *len)
{
	*len = 0;
	if (head_len < CMC_FRAME_HDR || avail < CMC_FRAME_HDR)
		return CMC_FRAME_PARTIAL;
	*len = cmc_frame_get_len(head);
	/* Refused before waiting for it: a peer cannot make us buffer 4 GiB. */
	if (*len > CMC_MAX_FRAME)
		return CMC_FRAME_TOO_BIG;
	if (avail - CMC_FRAME_HDR < *len)
		return CMC_FRAME_PARTIAL;
	return CMC_FRAME_WHOLE;
}
