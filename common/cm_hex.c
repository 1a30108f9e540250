/* SPDX-License-Identifier: MIT */
#include "cm_hex.h"

#include <stdbool.h>
#include <string.h>

int cmc_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cmc_hex_parse_dotted(const char *text, uint8_t *out, size_t n)
{
	uint8_t buf[64];
	size_t digits = 0;
	bool after_dot = true; /* a dot may not lead */

	if (text == NULL || n == 0 || n > sizeof(buf))
		return -1;
	memset(buf, 0, n);
	for (const char *s = text; *s; s++) {
		if (*s == '.') {
			if (after_dot)
				return -1;
			after_dot = true;
			continue;
		}
		int v = cmc_hexval(*s);
		if (v < 0 || digits >= 2 * n)
			return -1;
		buf[digits / 2] |= (uint8_t)(digits % 2 ? v : v << 4);
		digits++;
		after_dot = false;
	}
	if (digits != 2 * n || after_dot)
		return -1;
	memcpy(out, buf, n);
	return 0;
}

int cmc_aesa_parse(const char *text, uint8_t out[20])
{
	return cmc_hex_parse_dotted(text, out, 20);
}

void cmc_hex_format(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}
