/* SPDX-License-Identifier: MIT */
/*
 * The constants both ends of the client socket must agree on (docs/ipc.md),
 * defined once for libcallmgr, the daemon's ipc/, cmctl and the tests.
 * Internal: nothing here is installed or exported.
 */
#ifndef CALLMGR_COMMON_PROTO_CONST_H
#define CALLMGR_COMMON_PROTO_CONST_H

#include <stdint.h>

/*
 * The default socket path is part of the public API (CM_DEFAULT_SOCKET in
 * <callmgr/client.h>); taking it from there keeps one definition.
 */
#include "callmgr/client.h"

/* The protocol versions this build speaks: 1 is the only one so far. */
#define CMC_PROTO_VERSION_MIN 1u
#define CMC_PROTO_VERSION 1u

/* Frames: a 4-octet big-endian length, then at most CMC_MAX_FRAME octets. */
#define CMC_FRAME_HDR 4u
#define CMC_MAX_FRAME (64u * 1024u)

/* An AESA: 13-octet prefix, 6-octet ESI, 1-octet selector (20 octets). */
#define CMC_AESA_LEN 20u
#define CMC_PREFIX_LEN 13u
#define CMC_ESI_LEN 6u

/* Built-in AESA prefix when none is configured: DCC format, private. */
#define CMC_DEFAULT_PREFIX                                                                       \
	{ 0x39, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }

/*
 * The version a daemon speaking CMC_PROTO_VERSION_MIN..CMC_PROTO_VERSION
 * picks for a client's Hello [min, max]: the highest both speak.  Returns
 * it, or 0 when there is none (the daemon then refuses the session).
 */
uint32_t cmc_hello_pick_version(uint32_t client_min, uint32_t client_max);

#endif
