/* SPDX-License-Identifier: MIT */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

uint32_t df_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	static bool ready;
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i << 24;
			for (int b = 0; b < 8; b++)
				c = (c & 0x80000000u) ? (c << 1) ^ 0x04C11DB7u : c << 1;
			table[i] = c;
		}
		ready = true;
	}
	for (size_t i = 0; i < n; i++)
		crc = (crc << 8) ^ table[((crc >> 24) ^ p[i]) & 0xffu];
	return crc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool df_sdu_init(struct df_sdu *s, const uint8_t *data, size_t len)
{
	if (len == 0 || len > DF_MAX_SDU)
		return false;
	s->data = data;
	s->len = len;
	size_t pad = (48 - (len + DF_TRAILER) % 48) % 48;
	s->pdu_len = len + pad + DF_TRAILER;
	s->nfrags = (unsigned)((s->pdu_len + DF_FRAG_MAX - 1) / DF_FRAG_MAX);
	uint8_t *t = s->tail;
	memset(t, 0, pad);
	t += pad;
	t[0] = 0; /* CPCS-UU */
	t[1] = 0; /* CPI */
	put16(t + 2, (uint16_t)len);
	uint32_t crc = df_crc32(0xFFFFFFFFu, data, len);
	crc = df_crc32(crc, s->tail, pad + 4);
	crc = ~crc;
	t[4] = (uint8_t)(crc >> 24);
	t[5] = (uint8_t)(crc >> 16);
	t[6] = (uint8_t)(crc >> 8);
	t[7] = (uint8_t)crc;
	return true;
}

size_t df_frame(const struct df_sdu *s, unsigned k, uint16_t vpci, uint16_t vci, uint16_t seq,
		uint8_t *out)
{
	size_t from = (size_t)k * DF_FRAG_MAX;
	size_t to = from + DF_FRAG_MAX < s->pdu_len ? from + DF_FRAG_MAX : s->pdu_len;
	bool last = to == s->pdu_len;
	size_t start = from;
	out[0] = DF_VERSION;
	out[1] = last ? DF_FLAG_LAST : 0;
	put16(out + 2, vpci);
	put16(out + 4, vci);
	put16(out + 6, seq);
	out[8] = (uint8_t)k;
	out[9] = 0;
	put16(out + 10, (uint16_t)(to - start));
	uint8_t *w = out + DF_HDR;
	/* the PDU is the SDU, then the tail: copy the slice from each */
	if (from < s->len) {
		size_t n = (to < s->len ? to : s->len) - from;
		memcpy(w, s->data + from, n);
		w += n;
		from += n;
	}
	if (from < to)
		memcpy(w, s->tail + (from - s->len), to - from);
	return DF_HDR + (to - start);
}

const char *df_reason_name(int reason)
{
	static const char *const names[DF_NREASONS] = {
		"ok", "short", "version", "gap", "crc", "length", "oversize", "timeout", "nomem",
	};
	return reason <= 0 && reason > -DF_NREASONS ? names[-reason] : "?";
}

int df_parse(const uint8_t *p, size_t n, struct df_hdr *h)
{
	if (n < DF_HDR)
		return DF_E_SHORT;
	if (p[0] != DF_VERSION || (p[1] & ~DF_FLAG_LAST) || p[9] != 0)
		return DF_E_VERSION;
	h->last = p[1] & DF_FLAG_LAST;
	h->vpci = get16(p + 2);
	h->vci = get16(p + 4);
	h->seq = get16(p + 6);
	h->frag = p[8];
	h->len = get16(p + 10);
	if (h->len == 0 || h->len > DF_FRAG_MAX || n - DF_HDR < h->len)
		return DF_E_SHORT; /* Ethernet padding may follow; the length says */
	/* every fragment but the last is full: the offsets need no table */
	if (!h->last && h->len != DF_FRAG_MAX)
		return DF_E_SHORT;
	h->payload = p + DF_HDR;
	return DF_OK;
}

void df_reasm_init(struct df_reasm *r, uint32_t max_sdu)
{
	memset(r, 0, sizeof(*r));
	r->max_sdu = max_sdu && max_sdu <= DF_MAX_SDU ? max_sdu : DF_MAX_SDU;
}

void df_reasm_free(struct df_reasm *r)
{
	free(r->buf);
	r->buf = NULL;
	r->active = false;
}

static int lose(struct df_reasm *r, int reason)
{
	r->active = false;
	r->count[-reason]++;
	return reason;
}

bool df_reasm_expire(struct df_reasm *r, uint64_t now_ms, uint32_t timeout_ms)
{
	if (!r->active || now_ms - r->start_ms <= timeout_ms)
		return false;
	lose(r, DF_E_TIMEOUT);
	return true;
}

/* The whole PDU is in: check it as AAL5 does, and hand out the SDU. */
static int finish(struct df_reasm *r, const uint8_t **sdu, size_t *len)
{
	r->active = false;
	if (r->len % 48 != 0 || r->len < 48)
		return lose(r, DF_E_LENGTH);
	const uint8_t *t = r->buf + r->len - DF_TRAILER;
	size_t sdu_len = get16(t + 2);
	if (sdu_len == 0 || sdu_len > r->max_sdu || sdu_len > r->len - DF_TRAILER ||
	    r->len - DF_TRAILER - sdu_len > 47)
		return lose(r, DF_E_LENGTH);
	if (df_crc32(0xFFFFFFFFu, r->buf, r->len) != DF_CRC_RESIDUE)
		return lose(r, DF_E_CRC);
	r->count[0]++;
	/* the leg's SDUs count from 0; later ones come out only after earlier ones */
	r->missed = r->delivered ? (uint16_t)(r->seq - r->last_seq - 1) : r->seq;
	r->delivered = true;
	r->last_seq = r->seq;
	*sdu = r->buf;
	*len = sdu_len;
	return 1;
}

int df_reasm_push(struct df_reasm *r, const struct df_hdr *h, uint64_t now_ms,
		  uint32_t timeout_ms, const uint8_t **sdu, size_t *len)
{
	int lost = 0;
	if (df_reasm_expire(r, now_ms, timeout_ms))
		lost = DF_E_TIMEOUT;
	if (h->frag == 0 && r->delivered && (int16_t)(h->seq - r->last_seq) <= 0) {
		/* overtaken by a later SDU already delivered: too late */
		r->count[-DF_E_GAP]++;
		return DF_E_GAP;
	}
	if (h->frag == 0) {
		/* a new SDU: whatever was in progress is incomplete */
		if (r->active)
			lost = lose(r, DF_E_GAP);
		if (!r->buf && !(r->buf = malloc(DF_MAX_PDU)))
			return lose(r, DF_E_NOMEM);
		r->active = true;
		r->seq = h->seq;
		r->next = 0;
		r->len = 0;
		r->start_ms = now_ms;
	} else if (!r->active || h->seq != r->seq || h->frag != r->next) {
		/* a lone fragment, or one of another SDU: that SDU is lost */
		if (r->active)
			lose(r, DF_E_GAP);
		else
			r->count[-DF_E_GAP]++;
		return DF_E_GAP;
	}
	/* an SDU of max_sdu fits in this many octets: more is not one of ours */
	size_t max_pdu = r->max_sdu + 47 + DF_TRAILER;
	if (r->len + h->len > max_pdu)
		return lose(r, DF_E_OVERSIZE);
	memcpy(r->buf + r->len, h->payload, h->len);
	r->len += h->len;
	r->next++;
	if (h->last)
		return finish(r, sdu, len);
	return lost;
}
