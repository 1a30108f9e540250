/* SPDX-License-Identifier: MIT */
/*
 * The hello exchange in protobuf terms, for the clients (libcallmgr, cmctl,
 * the tests).  Header-only so that the rest of common/ stays free of
 * protobuf-c: only a user that already has the generated callmgr.pb-c.h
 * includes it.
 */
#ifndef CALLMGR_COMMON_HELLO_PB_H
#define CALLMGR_COMMON_HELLO_PB_H

#include <stdbool.h>

#include "callmgr.pb-c.h"
#include "cm_proto_const.h"

/*
 * Fill *m as the first frame of a session: a Hello (in *h, which must
 * outlive *m) for the versions this build speaks, naming the client for
 * the daemon's logs.
 */
static inline void cmc_hello_msg(Callmgr__ClientMsg *m, Callmgr__Hello *h, const char *client_name)
{
	callmgr__client_msg__init(m);
	callmgr__hello__init(h);
	h->min_version = CMC_PROTO_VERSION_MIN;
	h->max_version = CMC_PROTO_VERSION;
	h->client_name = (char *)client_name;
	m->body_case = CALLMGR__CLIENT_MSG__BODY_HELLO;
	m->hello = h;
}

/* A HelloReply a client of this build can use: a version it speaks, and a
 * whole prefix and ESI to make addresses from. */
static inline bool cmc_hello_reply_ok(const Callmgr__HelloReply *hr)
{
	return hr->version >= CMC_PROTO_VERSION_MIN && hr->version <= CMC_PROTO_VERSION &&
	       hr->prefix.len == CMC_PREFIX_LEN && hr->esi.len == CMC_ESI_LEN;
}

#endif
