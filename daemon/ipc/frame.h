/* SPDX-License-Identifier: MIT */
/*
 * The framing of the client socket (docs/ipc.md): a 4-octet big-endian
 * length, then that many octets of one protobuf message.  Kept apart from
 * the libevent plumbing of ipc.c so that it can be tested and fuzzed on
 * plain buffers.
 */
#ifndef CALLMGR_IPC_FRAME_H
#define CALLMGR_IPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define IPC_FRAME_HDR 4u
#define IPC_MAX_FRAME (64u * 1024u)

enum ipc_frame_status {
	IPC_FRAME_PARTIAL,  /* wait for more octets */
	IPC_FRAME_WHOLE,    /* a whole frame: *len payload octets after the header */
	IPC_FRAME_TOO_BIG,  /* the header announces *len > IPC_MAX_FRAME: fatal */
};

/*
 * One step of splitting a stream into frames.  head holds the first
 * head_len (at most IPC_FRAME_HDR are looked at) of the avail octets the
 * stream has buffered.
 */
enum ipc_frame_status ipc_frame_next(const uint8_t *head, size_t head_len, size_t avail,
				     size_t *len);

#endif
