/* SPDX-License-Identifier: MIT */
/*
 * [daemon] sap_ranges, parsed (config.c) and applied (daemon.c): who may
 * register which selectors (docs/security.md "SAP selectors").
 */
#ifndef CALLMGR_SAP_RANGE_H
#define CALLMGR_SAP_RANGE_H

#include <stdbool.h>
#include <stdint.h>

#define CONFIG_SAP_RANGES_MAX 32

struct sap_range {
	bool group;     /* id is a gid (written @group), else a uid */
	uint32_t id;
	uint8_t lo, hi; /* selectors lo..hi */
};

#endif
