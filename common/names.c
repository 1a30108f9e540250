/* SPDX-License-Identifier: MIT */
#include "names.h"

#include <stddef.h>

struct name {
	unsigned code;
	const char *name, *id;
};

#define N_OF(t) (sizeof(t) / sizeof((t)[0]))

static const struct name *lookup(const struct name *t, size_t n, unsigned code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return &t[i];
	return NULL;
}

static const struct name vc_states[] = {
	{ 0, "null", "VC_NULL" },
	{ 1, "calling", "VC_CALLING" },
	{ 2, "active", "VC_ACTIVE" },
	{ 3, "closing", "VC_CLOSING" },
	{ 4, "close-received", "VC_CLOSE_RECEIVED" },
};

/* Indexed by the Q.2971 endpoint-state code, which is not the PU number. */
static const struct name party_states[] = {
	{ 0, "PU0 Null", "PU0_NULL" },
	{ 1, "PU1 Add Party Initiated", "PU1_ADD_PARTY_INITIATED" },
	{ 6, "PU2 Add Party Received", "PU2_ADD_PARTY_RECEIVED" },
	{ 4, "PU3 Party Alerting Delivered", "PU3_PARTY_ALERTING_DELIVERED" },
	{ 7, "PU4 Party Alerting Received", "PU4_PARTY_ALERTING_RECEIVED" },
	{ 11, "PU5 Drop Party Initiated", "PU5_DROP_PARTY_INITIATED" },
	{ 12, "PU6 Drop Party Received", "PU6_DROP_PARTY_RECEIVED" },
	{ 10, "PU7 Active", "PU7_ACTIVE" },
};

static const struct name call_states[] = {
	{ 0, "U0 Null", "U0_NULL" },
	{ 1, "U1 Call Initiated", "U1_CALL_INITIATED" },
	{ 3, "U3 Outgoing Call Proceeding", "U3_OUTGOING_CALL_PROCEEDING" },
	{ 4, "U4 Call Delivered", "U4_CALL_DELIVERED" },
	{ 6, "U6 Call Present", "U6_CALL_PRESENT" },
	{ 7, "U7 Call Received", "U7_CALL_RECEIVED" },
	{ 8, "U8 Connect Request", "U8_CONNECT_REQUEST" },
	{ 9, "U9 Incoming Call Proceeding", "U9_INCOMING_CALL_PROCEEDING" },
	{ 10, "U10 Active", "U10_ACTIVE" },
	{ 11, "U11 Release Request", "U11_RELEASE_REQUEST" },
	{ 12, "U12 Release Indication", "U12_RELEASE_INDICATION" },
};

static const struct name timers[] = {
	{ 0, "", "TIMER_NONE" },
	{ 1, "T303", "T303" },
	{ 2, "T308", "T308" },
	{ 3, "T309", "T309" },
	{ 4, "T310", "T310" },
	{ 5, "T313", "T313" },
	{ 6, "T322", "T322" },
	{ 7, "T397", "T397" },
	{ 8, "T398", "T398" },
	{ 9, "T399", "T399" },
	{ 10, "accept", "TIMER_ACCEPT" },
	{ 11, "T316", "T316" },
};

#define NAMES(fn, table, field)                                                                  \
	const char *fn(unsigned code)                                                            \
	{                                                                                        \
		const struct name *n = lookup(table, N_OF(table), code);                         \
		return n ? n->field : "unknown";                                                 \
	}

NAMES(cm_vc_state_name, vc_states, name)
NAMES(cm_vc_state_id, vc_states, id)
NAMES(cm_party_state_name, party_states, name)
NAMES(cm_party_state_id, party_states, id)
NAMES(cm_call_state_name, call_states, name)
NAMES(cm_call_state_id, call_states, id)
NAMES(cm_timer_name, timers, name)
NAMES(cm_timer_id, timers, id)

const char *cm_party_state_short(unsigned st)
{
	const struct name *n = lookup(party_states, N_OF(party_states), st);
	/* the "PUn" before the space */
	static const char *const shorts[] = { "PU0", "PU1", "PU2", "PU3",
					      "PU4", "PU5", "PU6", "PU7" };
	return n ? shorts[n->name[2] - '0'] : "PU?";
}
