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

/*
 * The protocol versions this build speaks (docs/ipc.md).  2 (0.2) answers
 * AcceptCall and RejectCall with a Completion, which a client of 1 does not
 * wait for; the messages 2 added (DeregisterSap, AddParty.party_id, the
 * HelloReply's party id space) an older peer would simply not know.
 */
#define CMC_PROTO_VERSION_MIN 1u
#define CMC_PROTO_VERSION 2u
/* The first version whose AcceptCall and RejectCall complete. */
#define CMC_PROTO_ANSWER_COMPLETES 2u

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
 * The party ids a session may choose itself (AddParty.party_id, so that a
 * root knows the id of a party it adds when it asks): base + 1 .. base +
 * CMC_PARTY_ID_COUNT, with base = top bit | session << 32, announced in the
 * HelloReply.  Call control numbers the parties it allocates from 1 up and
 * never reaches the top bit, so the spaces of sessions and call control's
 * own never meet.  Sessions from 2^31 on get none (base 0).
 */
#define CMC_PARTY_ID_COUNT 0xffffffffull
static inline uint64_t cmc_party_id_base(uint64_t session)
{
	if (session == 0 || session >= (1ull << 31))
		return 0;
	return (1ull << 63) | (session << 32);
}

/*
 * The version a daemon speaking CMC_PROTO_VERSION_MIN..CMC_PROTO_VERSION
 * picks for a client's Hello [min, max]: the highest both speak.  Returns
 * it, or 0 when there is none (the daemon then refuses the session).
 */
uint32_t cmc_hello_pick_version(uint32_t client_min, uint32_t client_max);

#endif
