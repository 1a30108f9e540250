/* SPDX-License-Identifier: MIT */
/*
 * Hex digits and AESA text, parsed and written one way everywhere: the
 * daemon's configuration and codec, libcallmgr, cmctl and the tests.
 */
#ifndef CALLMGR_COMMON_HEX_H
#define CALLMGR_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (either case), or -1. */
int cmc_hexval(char c);

/*
 * Exactly 2*n hex digits into out[0..n); '.' may separate digits but may
 * not lead, trail or repeat (so "39.0000.0f" reads as an AESA is written).
 * out is written only on success.  Returns 0 or -1.
 */
int cmc_hex_parse_dotted(const char *text, uint8_t *out, size_t n);

/* An AESA as text: cmc_hex_parse_dotted with n = 20. */
int cmc_aesa_parse(const char *text, uint8_t out[20]);

/* Writes 2*n lower-case hex digits and a NUL into out (2*n + 1 octets). */
void cmc_hex_format(const uint8_t *bytes, size_t n, char *out);

#endif
