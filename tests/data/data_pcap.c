/* SPDX-License-Identifier: MIT */
/*
 * Writes a pcap of data frames made by daemon/data/frame.c for Wireshark
 * and tools/callmgr.lua to judge (tshark_data_check.py), with what the
 * dissector must say of each frame on stdout, one line per frame:
 *
 *   N good VCI SEQ FRAG LAST SDU_LEN PDU_LEN NFRAGS CRC
 *	a whole SDU's last fragment: CRC status good, the trailer's fields
 *	(SDU_LEN, CRC in hex) and the reassembly's (PDU_LEN, NFRAGS);
 *	fragments before it are "N frag VCI SEQ FRAG 0"
 *   N bad VCI SEQ FRAG 1       the last fragment of an SDU with a payload
 *				octet flipped: CRC status bad, an expert error
 *   N unverified VCI SEQ FRAG 1  the last fragment of an SDU whose middle
 *				fragment is not in the capture: an expert note
 *   N malformed EXPERT          a frame a receiver drops, with the expert
 *				message's first word
 *
 * Frame: Ethernet II, EtherType 0x88B6, the 12-octet data header, the
 * payload, zero padding to the 60-octet Ethernet minimum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/frame.h"
#include "../pcap_file.h"

static FILE *out;
static unsigned frame_no;

/* One frame of n octets after the Ethernet header; returns its number. */
static unsigned emit(const uint8_t *body, size_t n)
{
	uint8_t f[14 + DF_HDR + DF_FRAG_MAX] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01,
						  0x88, 0xb6 };
	memcpy(f + 14, body, n);
	pcap_write_frame(out, frame_no, f, 14 + n < 60 ? 60 : 14 + n); /* a second per frame */
	return ++frame_no;
}

enum fault { NONE, FLIP, SKIP_MIDDLE };

static void sdu(size_t len, uint16_t vci, uint16_t seq, enum fault fault)
{
	static uint8_t data[DF_MAX_SDU];
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 13 + seq);
	struct df_sdu s;
	if (!df_sdu_init(&s, data, len)) {
		fprintf(stderr, "df_sdu_init(%zu) failed\n", len);
		exit(1);
	}
	uint32_t crc = (uint32_t)s.tail[s.pdu_len - len - 4] << 24 |
		       (uint32_t)s.tail[s.pdu_len - len - 3] << 16 |
		       (uint32_t)s.tail[s.pdu_len - len - 2] << 8 | s.tail[s.pdu_len - len - 1];
	for (unsigned k = 0; k < s.nfrags; k++) {
		uint8_t b[DF_HDR + DF_FRAG_MAX];
		size_t n = df_frame(&s, k, 0, vci, seq, b);
		bool last = k + 1 == s.nfrags;
		if (fault == SKIP_MIDDLE && k == 1 && !last)
			continue;
		if (fault == FLIP && k == 0)
			b[DF_HDR + (n - DF_HDR) / 2] ^= 0x10;
		unsigned no = emit(b, n);
		if (!last)
			printf("%u frag %u %u %u 0\n", no, vci, seq, k);
		else if (fault == FLIP)
			printf("%u bad %u %u %u 1\n", no, vci, seq, k);
		else if (fault == SKIP_MIDDLE)
			printf("%u unverified %u %u %u 1\n", no, vci, seq, k);
		else
			printf("%u good %u %u %u 1 %zu %zu %u %08x\n", no, vci, seq, k, len,
			       s.pdu_len, s.nfrags, crc);
	}
}

/* A one-fragment SDU's frame with header octet at changed to v. */
static void malformed(size_t at, uint8_t v, const char *expert)
{
	uint8_t data[40] = { 0 }, b[DF_HDR + DF_FRAG_MAX];
	struct df_sdu s;
	df_sdu_init(&s, data, sizeof(data));
	size_t n = df_frame(&s, 0, 0, 99, 0, b);
	b[at] = v;
	printf("%u malformed %s\n", emit(b, n), expert);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: data_pcap OUT.pcap\n");
		return 2;
	}
	out = fopen(argv[1], "wb");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	pcap_write_header(out);
	/* whole SDUs: one cell, the pad boundary, one and two frames, 9,180, the maximum */
	const size_t lens[] = { 1, 40, 41, 1480, 1481, 1500, 9180, DF_MAX_SDU };
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		sdu(lens[i], (uint16_t)(32 + i % 2), (uint16_t)i, NONE);
	/* faults: an octet flipped, a middle fragment missing; a sequence number at its wrap */
	sdu(3000, 40, 7, FLIP);
	sdu(3000, 41, 8, SKIP_MIDDLE);
	sdu(9180, 42, 65535, NONE);
	malformed(0, 2, "Unknown");     /* version */
	malformed(1, 0x03, "Unknown");  /* a flag bit */
	malformed(9, 1, "Unknown");     /* reserved */
	malformed(1, 0, "Fragment");    /* not the last, not full */
	malformed(10, 0x40, "Payload"); /* L past the frame */
	if (fclose(out) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
