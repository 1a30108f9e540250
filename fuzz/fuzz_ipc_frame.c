/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the client socket's input path on a byte stream, the
 * frame splitter (cmc_frame_next) and the protobuf-c decode of ClientMsg.
 *
 * Input: one octet choosing how the stream arrives (chunk size 1..16), then
 * the stream.  Oracles:
 *   - splitting the whole stream at once and splitting it as it trickles
 *     in chunk by chunk (the way the socket delivers it) give the same
 *     frames and the same verdict at the end;
 *   - a frame that decodes is a well-formed message (protobuf_c_message_check)
 *     whose oneof case and member agree, and packing it, unpacking that and
 *     packing again gives identical octets of the announced size.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callmgr.pb-c.h"
#include "cm_frame.h"

#define MAX_FRAMES 256

#define CHECK(cond)                                                                               \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "fuzz_ipc_frame: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

struct split {
	size_t off[MAX_FRAMES], len[MAX_FRAMES];
	size_t n;
	enum cmc_frame_status end; /* why splitting stopped */
	size_t consumed;
};

/* Splits what has arrived so far (stream[0..avail)), continuing from sp. */
static void split_more(const uint8_t *stream, size_t avail, struct split *sp)
{
	for (;;) {
		if (sp->n == MAX_FRAMES) {
			sp->end = CMC_FRAME_PARTIAL; /* enough for one input */
			return;
		}
		size_t at = sp->consumed, len;
		size_t have = avail - at;
		size_t head = have < CMC_FRAME_HDR ? have : CMC_FRAME_HDR;
		enum cmc_frame_status st = cmc_frame_next(stream + at, head, have, &len);
		sp->end = st;
		if (st != CMC_FRAME_WHOLE)
			return;
		CHECK(len <= CMC_MAX_FRAME && CMC_FRAME_HDR + len <= have);
		sp->off[sp->n] = at + CMC_FRAME_HDR;
		sp->len[sp->n] = len;
		sp->n++;
		sp->consumed = at + CMC_FRAME_HDR + len;
	}
}

/*
 * The oneof's cases are taken from the protobuf-c descriptor, not listed by
 * hand: the protocol grows (DeregisterSap, completions, paging) and a hand
 * list fell behind and called new requests impossible.  protobuf-c numbers a
 * oneof case by its field's number, so the case must name a field of
 * ClientMsg that belongs to the body oneof, and that field's member is the
 * one that is set.
 */
static void check_body(const Callmgr__ClientMsg *m)
{
	CHECK(protobuf_c_message_check(&m->base));
	if (m->body_case == CALLMGR__CLIENT_MSG__BODY__NOT_SET)
		return;
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field(&callmgr__client_msg__descriptor, (unsigned)m->body_case);
	CHECK(f != NULL);
	CHECK((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0);
	CHECK(f->quantifier_offset == offsetof(Callmgr__ClientMsg, body_case));
	CHECK(f->type == PROTOBUF_C_TYPE_MESSAGE);
	/* the member of the oneof that is set is present */
	CHECK(*(void *const *)((const char *)m + f->offset) != NULL);
	if (m->body_case == CALLMGR__CLIENT_MSG__BODY_HELLO && m->hello->client_name)
		CHECK(strlen(m->hello->client_name) < CMC_MAX_FRAME);
}

/*
 * Fields this protocol does not know are kept by protobuf-c and written
 * back verbatim, including ones it should not have accepted (field number
 * 0 from a non-minimal tag varint), which it then refuses to read.  That is
 * the library's business, not ours: the daemon ignores unknown fields, so
 * the oracle compares the known ones only.
 */
static void drop_unknown(ProtobufCMessage *m)
{
	for (unsigned i = 0; i < m->n_unknown_fields; i++)
		free(m->unknown_fields[i].data);
	free(m->unknown_fields);
	m->unknown_fields = NULL;
	m->n_unknown_fields = 0;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		char *at = (char *)m + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)((char *)m + f->quantifier_offset);
			ProtobufCMessage **v = *(ProtobufCMessage ***)at;
			for (size_t j = 0; j < n; j++)
				drop_unknown(v[j]);
		} else if (*(ProtobufCMessage **)at) {
			drop_unknown(*(ProtobufCMessage **)at);
		}
	}
}

static void check_frame(const uint8_t *p, size_t len)
{
	Callmgr__ClientMsg *m = callmgr__client_msg__unpack(NULL, len, p);
	if (!m)
		return;
	check_body(m);
	drop_unknown(&m->base);
	size_t n1 = callmgr__client_msg__get_packed_size(m);
	uint8_t *b1 = malloc(n1 + 1), *b2 = NULL;
	CHECK(b1);
	CHECK(callmgr__client_msg__pack(m, b1) == n1);
	Callmgr__ClientMsg *m2 = callmgr__client_msg__unpack(NULL, n1, b1);
	CHECK(m2 != NULL);
	CHECK(m2->req_id == m->req_id && m2->body_case == m->body_case);
	size_t n2 = callmgr__client_msg__get_packed_size(m2);
	CHECK(n2 == n1);
	b2 = malloc(n2 + 1);
	CHECK(b2);
	CHECK(callmgr__client_msg__pack(m2, b2) == n2);
	CHECK(memcmp(b1, b2, n1) == 0);
	free(b1);
	free(b2);
	callmgr__client_msg__free_unpacked(m2, NULL);
	callmgr__client_msg__free_unpacked(m, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = 1 + (data[0] & 15);
	const uint8_t *stream = data + 1;
	size_t len = size - 1;

	static struct split whole, trickle;
	memset(&whole, 0, sizeof(whole));
	memset(&trickle, 0, sizeof(trickle));
	split_more(stream, len, &whole);

	/* The socket hands over the stream piecewise; a fatal header ends it. */
	for (size_t avail = 0; avail < len;) {
		avail = avail + chunk < len ? avail + chunk : len;
		split_more(stream, avail, &trickle);
		if (trickle.end == CMC_FRAME_TOO_BIG || trickle.n == MAX_FRAMES)
			break;
	}
	if (len == 0)
		split_more(stream, 0, &trickle);
	CHECK(trickle.n == whole.n && trickle.end == whole.end &&
	      trickle.consumed == whole.consumed);
	for (size_t i = 0; i < whole.n; i++)
		CHECK(trickle.off[i] == whole.off[i] && trickle.len[i] == whole.len[i]);

	for (size_t i = 0; i < whole.n; i++)
		check_frame(stream + whole.off[i], whole.len[i]);
	return 0;
}
