/* SPDX-License-Identifier: MIT */
/*
 * Data frames (docs/wire.md, "Data frames"): segmentation of an SDU into
 * frames labelled with a leg's connection identifier, and their reassembly
 * with AAL5 integrity.  Pure: no sockets, no clock (the caller passes the
 * time), no allocation except the reassembly buffer.
 *
 * An SDU becomes an AAL5 CPCS-PDU (I.363.5): the SDU, 0-47 zero octets of
 * pad so that the whole is a multiple of 48, and an 8-octet trailer (UU 0,
 * CPI 0, Length, CRC-32/BZIP2 over everything before the CRC).  The PDU is
 * cut into fragments of at most DF_FRAG_MAX octets; each frame says which
 * SDU (a per-leg sequence number) and which fragment it carries, and
 * whether it is the last.  A reassembler takes one SDU at a time per leg:
 * any gap, reordering, splice, damage or timeout loses that one SDU, never
 * more, and never delivers a truncated, corrupt or spliced one.
 */
#ifndef CALLMGR_DATA_FRAME_H
#define CALLMGR_DATA_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DF_ETHERTYPE 0x88B6  /* IEEE 802 local experimental EtherType 2 */
#define DF_VERSION 1
#define DF_HDR 12            /* octets after the Ethernet header, before the payload */
#define DF_FRAG_MAX 1488     /* payload octets per frame: 31 cells, 1,500 with the header */
#define DF_TRAILER 8
#define DF_MAX_SDU 65535
#define DF_MAX_PDU (DF_MAX_SDU + 47 + DF_TRAILER)
#define DF_MAX_FRAGS ((DF_MAX_PDU + DF_FRAG_MAX - 1) / DF_FRAG_MAX)
#define DF_FLAG_LAST 0x01

/* CRC-32/BZIP2 (AAL5): poly 0x04C11DB7, not reflected; crc starts at 0xFFFFFFFF. */
uint32_t df_crc32(uint32_t crc, const uint8_t *p, size_t n);
/* What a whole good PDU, CRC included, leaves in df_crc32(0xFFFFFFFF, ...). */
#define DF_CRC_RESIDUE 0xC704DD7Bu

/* One SDU ready to be cut into frames. */
struct df_sdu {
	const uint8_t *data;
	size_t len;
	size_t pdu_len;      /* len + pad + trailer, a multiple of 48 */
	unsigned nfrags;
	uint8_t tail[47 + DF_TRAILER]; /* pad and trailer, after the SDU */
};
/* len must be 1..DF_MAX_SDU; returns false otherwise. */
bool df_sdu_init(struct df_sdu *s, const uint8_t *data, size_t len);

/*
 * Frame k (0..nfrags-1) of s into out (room for DF_HDR + DF_FRAG_MAX),
 * labelled (vpci, vci) and SDU sequence seq: returns the octets written.
 */
size_t df_frame(const struct df_sdu *s, unsigned k, uint16_t vpci, uint16_t vci, uint16_t seq,
		uint8_t *out);

/* A parsed frame; payload points into the buffer given to df_parse. */
struct df_hdr {
	uint16_t vpci, vci;
	uint16_t seq;
	uint8_t frag;
	bool last;
	const uint8_t *payload;
	uint16_t len;
};

enum df_reason {
	DF_OK = 0,
	DF_E_SHORT = -1,     /* shorter than its header or its length says */
	DF_E_VERSION = -2,   /* unknown version or flags, or a reserved octet set */
	DF_E_GAP = -3,       /* a fragment missing, out of order or from another SDU */
	DF_E_CRC = -4,       /* the PDU's CRC is wrong */
	DF_E_LENGTH = -5,    /* trailer length 0, over max_sdu, or pad over 47 */
	DF_E_OVERSIZE = -6,  /* more fragments than an SDU of max_sdu needs */
	DF_E_TIMEOUT = -7,   /* the rest of the SDU did not come in time */
	DF_E_NOMEM = -8,
};
#define DF_NREASONS 9
/* A short English name of a reason (for logs and counters). */
const char *df_reason_name(int reason);

/* Parse one frame (the octets after the Ethernet header).  DF_OK or a reason. */
int df_parse(const uint8_t *p, size_t n, struct df_hdr *h);

/* One leg's reassembly: at most one SDU in progress. */
struct df_reasm {
	uint32_t max_sdu;
	bool active;
	uint16_t seq;
	uint8_t next;        /* the fragment expected next */
	size_t len;
	uint64_t start_ms;
	uint8_t *buf;        /* DF_MAX_PDU octets once needed */
	bool delivered;      /* last_seq is set */
	uint16_t last_seq;   /* of the last SDU delivered: older ones are not */
	/*
	 * Set when an SDU is delivered: how many sequence numbers it skipped
	 * since the last one delivered (since 0, the leg's first, for the
	 * first): SDUs that will never be, whatever became of their frames.
	 */
	uint16_t missed;
	/* SDUs lost, by reason (index -reason); [0] counts SDUs delivered */
	uint64_t count[DF_NREASONS];
};
void df_reasm_init(struct df_reasm *r, uint32_t max_sdu);
void df_reasm_free(struct df_reasm *r);

/*
 * Give one parsed frame of this leg to its reassembler at time now_ms.
 * Returns 1 with the whole SDU in *sdu / *len (valid until the next call),
 * 0 when the frame was taken and the SDU is not complete yet, or a
 * negative reason when an SDU (or a lone frame) was lost; on 1, r->missed
 * says how many SDUs before it were lost in all (counting losses by the
 * negative returns would count a lone frame per frame and an SDU of which
 * no frame came not at all); the frame may
 * still have begun the next SDU.  SDUs come out in sequence order: one
 * that begins with a sequence number not after the last delivered (by
 * serial number arithmetic, a window of 32,768) was overtaken and is
 * dropped (DF_E_GAP).  An SDU that began more than timeout_ms
 * before now_ms is dropped first (DF_E_TIMEOUT).
 */
int df_reasm_push(struct df_reasm *r, const struct df_hdr *h, uint64_t now_ms,
		  uint32_t timeout_ms, const uint8_t **sdu, size_t *len);

/* Drop an SDU in progress that began more than timeout_ms ago; true if one was. */
bool df_reasm_expire(struct df_reasm *r, uint64_t now_ms, uint32_t timeout_ms);

#endif
