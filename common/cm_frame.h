/* SPDX-License-Identifier: MIT */
/*
 * The framing of the client socket (docs/ipc.md): a 4-octet big-endian
 * length, then that many octets of one protobuf message.  Pure: it works
 * on plain buffers so that every reader and writer, and the fuzzer, share
 * one implementation.
 */
#ifndef CALLMGR_COMMON_FRAME_H
#define CALLMGR_COMMON_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "cm_proto_const.h"

enum cmc_frame_status {
	CMC_FRAME_PARTIAL,  /* wait for more octets */
	CMC_FRAME_WHOLE,    /* a whole frame: *len payload octets after the header */
	CMC_FRAME_TOO_BIG,  /* the header announces *len > CMC_MAX_FRAME: fatal */
};

/* Writes the header announcing a payload of len octets (len <= CMC_MAX_FRAME). */
void cmc_frame_put_len(uint8_t hdr[CMC_FRAME_HDR], size_t len);

/* The payload length a header announces, unchecked. */
size_t cmc_frame_get_len(const uint8_t hdr[CMC_FRAME_HDR]);

/*
 * One step of splitting a stream into frames.  head holds the first
 * head_len (at most CMC_FRAME_HDR are looked at) of the avail octets the
 * stream has buffered.
 */
enum cmc_frame_status cmc_frame_next(const uint8_t *head, size_t head_len, size_t avail,
				     size_t *len);

#endif
