/* SPDX-License-Identifier: MIT */
#include "cm_proto_const.h"

uint32_t cmc_hello_pick_version(uint32_t client_min, uint32_t client_max)
{
	if (client_min > client_max || client_min > CMC_PROTO_VERSION ||
	    client_max < CMC_PROTO_VERSION_MIN)
		return 0;
	return client_max < CMC_PROTO_VERSION ? client_max : CMC_PROTO_VERSION;
}
