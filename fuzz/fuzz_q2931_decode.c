/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: q_msg_decode() on arbitrary bytes.
 *
 * Beyond "does not crash", a round trip is the oracle: whatever the decoder
 * accepts as usable must be something the encoder can write, and writing it
 * then reading it back must give the same struct and, written again, the
 * same octets.  A decoder that keeps a field the encoder cannot express (or
 * an encoder that drops one) shows up as a mismatch and aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig/q2931.h"

/* Big enough for any q_msg: 14 IEs, the largest (user-user) 133 octets. */
#define ENC_CAP 1024

static void fail(const char *what, const uint8_t *a, size_t alen)
{
	fprintf(stderr, "fuzz_q2931_decode: %s\n", what);
	for (size_t i = 0; i < alen; i++)
		fprintf(stderr, "%02x%s", a[i], i + 1 == alen ? "\n" : " ");
	abort();
}

/*
 * The encoder leaves out a cause diagnostic Wireshark would misread (cause
 * 22 always; 37, 43, 88, 96, 99 and 100 when the cause IE ends the message):
 * the diagnostic is optional, so that loss is by design, not a mismatch.
 */
static void forgive_dropped_diag(struct q_ie_cause *orig, const struct q_ie_cause *back)
{
	static const uint8_t may_drop[] = { 22, 37, 43, 88, 96, 99, 100 };
	if (!orig->present || back->diag_len != 0)
		return;
	if (memchr(may_drop, orig->value, sizeof(may_drop))) {
		orig->diag_len = 0;
		memset(orig->diag, 0, sizeof(orig->diag));
	}
}

/* The names are printed in logs; they must be valid strings for any value. */
static void touch_names(const struct q_msg *m, const struct q_decode_status *st)
{
	size_t n = strlen(q_msg_type_name(m->type)) + strlen(q_cause_name(st->cause)) +
		   strlen(q_ie_name(st->ie)) + strlen(st->reason ? st->reason : "");
	if (n == 0)
		abort();
}

/* The verdict and IE list agree with the summary fields and with each other. */
static void check_verdict(const struct q_decode_status *st, const uint8_t *data, size_t size)
{
	if (st->verdict > Q_VERDICT_CLEAR)
		fail("verdict out of range", data, size);
	if (st->n_ie_errors > Q_DEC_MAX_IE_ERRORS ||
	    (st->ie_errors_truncated && st->n_ie_errors != Q_DEC_MAX_IE_ERRORS))
		fail("IE list count out of range", data, size);
	for (unsigned i = 0; i < st->n_ie_errors; i++) {
		uint8_t c = st->ie_errors[i].cause, a = st->ie_errors[i].action;
		if (c != Q_CAUSE_MANDATORY_IE_MISSING && c != Q_CAUSE_IE_NONEXISTENT &&
		    c != Q_CAUSE_INVALID_IE_CONTENTS)
			fail("IE listed with a cause other than 96, 99, 100", data, size);
		if (a > 7 && a != Q_IE_ACT_REGULAR)
			fail("IE listed with an impossible action", data, size);
	}
	bool stops = st->verdict >= Q_VERDICT_DISCARD;
	switch (st->result) {
	case Q_DEC_DROP:
		if (st->verdict != Q_VERDICT_DISCARD || st->verdict_cause != 0)
			fail("DROP without a silent DISCARD verdict", data, size);
		break;
	case Q_DEC_OK:
		if (st->verdict != Q_VERDICT_OK)
			fail("OK with another verdict", data, size);
		break;
	case Q_DEC_REPORT:
		if (st->verdict != Q_VERDICT_REPORT || st->verdict_cause != st->cause ||
		    st->n_ie_errors == 0)
			fail("REPORT verdict disagrees with the summary", data, size);
		break;
	case Q_DEC_REJECT:
		if (!stops)
			fail("REJECT with a verdict that processes the message", data, size);
		break;
	}
	bool answers = st->verdict == Q_VERDICT_REPORT || st->verdict == Q_VERDICT_REJECT ||
		       st->verdict == Q_VERDICT_CLEAR;
	if (answers != (st->verdict_cause != 0))
		fail("verdict cause present exactly when the verdict answers", data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct q_msg m, again;
	struct q_decode_status st, st2;
	static uint8_t enc[ENC_CAP], enc2[ENC_CAP];

	int r = q_msg_decode(data, size, &m, &st);
	if (r != st.result)
		fail("return value differs from status.result", data, size);
	if (!st.reason)
		fail("no reason text", data, size);
	touch_names(&m, &st);
	check_verdict(&st, data, size);
	switch (r) {
	case Q_DEC_DROP:
	case Q_DEC_REJECT:
		if (r == Q_DEC_REJECT && st.cause == 0)
			fail("REJECT without a cause", data, size);
		return 0;
	case Q_DEC_OK:
	case Q_DEC_REPORT:
		break;
	default:
		fail("result out of range", data, size);
	}
	if (r == Q_DEC_REPORT && (st.cause == 0 || st.action != Q_ACT_REPORT))
		fail("REPORT without cause or report action", data, size);

	/* Usable: the encoder must be able to say the same thing. */
	int n = q_msg_encode(&m, enc, sizeof(enc));
	if (n < 0) {
		fprintf(stderr, "encode error %d\n", n);
		fail("decoded message does not encode", data, size);
	}
	if (q_msg_decode(enc, (size_t)n, &again, &st2) != Q_DEC_OK) {
		fprintf(stderr, "re-decode: %s (cause %u ie 0x%02x)\n", st2.reason, st2.cause,
			st2.ie);
		fail("re-encoded message does not decode cleanly", enc, (size_t)n);
	}
	forgive_dropped_diag(&m.cause, &again.cause);
	forgive_dropped_diag(&m.cause2, &again.cause2);
	/* Both structs were zeroed by the decoder, padding included. */
	if (memcmp(&m, &again, sizeof(m)) != 0)
		fail("round trip changed the message", data, size);
	int n2 = q_msg_encode(&again, enc2, sizeof(enc2));
	if (n2 != n || memcmp(enc, enc2, (size_t)n) != 0)
		fail("second encoding differs from the first", enc, (size_t)n);
	/* A buffer one short of the length must be refused, not overrun. */
	if (q_msg_encode(&m, enc2, (size_t)n - 1) != Q_ENC_E_NOSPACE)
		fail("encode into a short buffer did not report NOSPACE", enc, (size_t)n);
	return 0;
}
