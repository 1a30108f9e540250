/* SPDX-License-Identifier: MIT */
/*
 * Writing a classic pcap file of Ethernet frames, for the generators whose
 * output Wireshark judges (tests/sig/sig_pcap.c, tests/data/data_pcap.c).
 */
#ifndef CALLMGR_TESTS_PCAP_FILE_H
#define CALLMGR_TESTS_PCAP_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static inline void pcap_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

/* The file header: version 2.4, microseconds, LINKTYPE_ETHERNET. */
static inline void pcap_write_header(FILE *out)
{
	uint8_t h[24] = { 0 };
	pcap_put_le32(h, 0xa1b2c3d4);
	h[4] = 2;
	h[6] = 4;
	pcap_put_le32(h + 16, 65535); /* snaplen */
	pcap_put_le32(h + 20, 1);
	fwrite(h, 1, sizeof(h), out);
}

/* One frame of len octets, captured whole, stamped sec seconds. */
static inline void pcap_write_frame(FILE *out, uint32_t sec, const uint8_t *frame, size_t len)
{
	uint8_t rec[16] = { 0 };
	pcap_put_le32(rec, sec);
	pcap_put_le32(rec + 8, (uint32_t)len);
	pcap_put_le32(rec + 12, (uint32_t)len);
	fwrite(rec, 1, sizeof(rec), out);
	fwrite(frame, 1, len, out);
}

#endif
