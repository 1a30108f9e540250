/* SPDX-License-Identifier: MIT */
#include "frame.h"

enum ipc_frame_status ipc_frame_next(const uint8_t *head, size_t head_len, size_t avail,
				     size_t *len)
{
	*len = 0;
	if (head_len < IPC_FRAME_HDR || avail < IPC_FRAME_HDR)
		return IPC_FRAME_PARTIAL;
	*len = (size_t)head[0] << 24 | (size_t)head[1] << 16 | (size_t)head[2] << 8 | head[3];
	/* Refused before waiting for it: a peer cannot make us buffer 4 GiB. */
	if (*len > IPC_MAX_FRAME)
		return IPC_FRAME_TOO_BIG;
	if (avail - IPC_FRAME_HDR < *len)
		return IPC_FRAME_PARTIAL;
	return IPC_FRAME_WHOLE;
}
