/* SPDX-License-Identifier: MIT */
#include "callmgr/client.h"

static const char *const status_text[] = {
	[-CM_OK] = "success",
	[-CM_E_INVAL] = "invalid argument",
	[-CM_E_NO_VC] = "no such VC",
	[-CM_E_NO_PARTY] = "no such party",
	[-CM_E_LAST_PARTY] = "the only remaining party: use CloseCall",
	[-CM_E_PARTIES_REMAIN] = "other parties remain: drop them first",
	[-CM_E_BUSY] = "busy: a drop or close is already pending, or the link is congested",
	[-CM_E_CLOSING] = "the VC is closing",
	[-CM_E_REJECTED] = "rejected by the remote party",
	[-CM_E_TIMEOUT] = "signalling timer expired",
	[-CM_E_LINK_DOWN] = "link to the peer is down",
	[-CM_E_UNREACHABLE] = "no route to the party",
	[-CM_E_PERM] = "permission denied",
	[-CM_E_NOMEM] = "out of memory",
	[-CM_E_LIMIT] = "limit reached",
	[-CM_E_TOO_BIG] = "data longer than 127 octets",
	[-CM_E_DISCONNECTED] = "disconnected from the daemon",
	[-CM_E_PROTO] = "protocol error between library and daemon",
	[-CM_E_SAP_IN_USE] = "selector already registered by another client",
	[-CM_E_NO_SAP] = "no client registered that selector",
	[-CM_E_STATE] = "not valid in the current state",
	[-CM_E_ACCESS] = "permission denied on the daemon's socket",
	[-CM_E_NO_DAEMON] = "no daemon is listening on the socket",
};

const char *cm_strerror(int status)
{
	if (status > 0 || status < CM_STATUS_MIN || !status_text[-status])
		return "unknown status";
	return status_text[-status];
}
