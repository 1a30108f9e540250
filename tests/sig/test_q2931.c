/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig/q2931.h"
#include "sig_samples.h"
#include "../ck_run.h"

#define BUF 1024

/* Field-by-field, so a failure names the field and padding never matters. */
static void assert_cause_eq(const char *what, const struct q_ie_cause *a,
			    const struct q_ie_cause *b)
{
	ck_assert_msg(a->present == b->present, "%s present", what);
	if (!a->present)
		return;
	ck_assert_msg(a->location == b->location, "%s location", what);
	ck_assert_msg(a->value == b->value, "%s value %u != %u", what, a->value, b->value);
	ck_assert_msg(a->diag_len == b->diag_len, "%s diag_len %u != %u", what, a->diag_len,
		      b->diag_len);
	ck_assert_msg(memcmp(a->diag, b->diag, a->diag_len) == 0, "%s diag", what);
}

static void assert_msg_eq(const struct q_msg *a, const struct q_msg *b)
{
	ck_assert_uint_eq(a->type, b->type);
	ck_assert_uint_eq(a->cref, b->cref);
	ck_assert_int_eq(a->cref_flag, b->cref_flag);
	assert_cause_eq("cause", &a->cause, &b->cause);
	assert_cause_eq("cause2", &a->cause2, &b->cause2);
	ck_assert_int_eq(a->call_state_present, b->call_state_present);
	if (a->call_state_present)
		ck_assert_uint_eq(a->call_state, b->call_state);
	ck_assert_int_eq(a->epref.present, b->epref.present);
	if (a->epref.present) {
		ck_assert_int_eq(a->epref.flag, b->epref.flag);
		ck_assert_uint_eq(a->epref.value, b->epref.value);
	}
	ck_assert_int_eq(a->ep_state_present, b->ep_state_present);
	if (a->ep_state_present)
		ck_assert_uint_eq(a->ep_state, b->ep_state);
	ck_assert_int_eq(a->aal.present, b->aal.present);
	if (a->aal.present) {
		ck_assert_uint_eq(a->aal.fwd_max_sdu, b->aal.fwd_max_sdu);
		ck_assert_uint_eq(a->aal.bwd_max_sdu, b->aal.bwd_max_sdu);
	}
	ck_assert_int_eq(a->traffic.present, b->traffic.present);
	if (a->traffic.present) {
		ck_assert_uint_eq(a->traffic.fwd_peak_cr, b->traffic.fwd_peak_cr);
		ck_assert_uint_eq(a->traffic.bwd_peak_cr, b->traffic.bwd_peak_cr);
		ck_assert_int_eq(a->traffic.best_effort, b->traffic.best_effort);
	}
	ck_assert_int_eq(a->bearer.present, b->bearer.present);
	if (a->bearer.present) {
		ck_assert_uint_eq(a->bearer.bearer_class, b->bearer.bearer_class);
		ck_assert_int_eq(a->bearer.p2mp, b->bearer.p2mp);
	}
	ck_assert_int_eq(a->called.present, b->called.present);
	if (a->called.present)
		ck_assert_mem_eq(a->called.aesa, b->called.aesa, Q_AESA_LEN);
	ck_assert_int_eq(a->calling.present, b->calling.present);
	if (a->calling.present)
		ck_assert_mem_eq(a->calling.aesa, b->calling.aesa, Q_AESA_LEN);
	ck_assert_int_eq(a->conn_id.present, b->conn_id.present);
	if (a->conn_id.present) {
		ck_assert_uint_eq(a->conn_id.vpci, b->conn_id.vpci);
		ck_assert_uint_eq(a->conn_id.vci, b->conn_id.vci);
	}
	ck_assert_int_eq(a->qos.present, b->qos.present);
	if (a->qos.present) {
		ck_assert_uint_eq(a->qos.fwd_class, b->qos.fwd_class);
		ck_assert_uint_eq(a->qos.bwd_class, b->qos.bwd_class);
	}
	ck_assert_int_eq(a->blli.present, b->blli.present);
	if (a->blli.present)
		ck_assert_uint_eq(a->blli.user_l3, b->blli.user_l3);
	ck_assert_int_eq(a->uu.present, b->uu.present);
	if (a->uu.present) {
		ck_assert_uint_eq(a->uu.len, b->uu.len);
		ck_assert_mem_eq(a->uu.data, b->uu.data, a->uu.len);
	}
	ck_assert_int_eq(a->restart.present, b->restart.present);
	if (a->restart.present)
		ck_assert_uint_eq(a->restart.rclass, b->restart.rclass);
}

static int encode_sample(uint8_t type, struct q_msg *m, uint8_t *buf)
{
	sample_msg(type, m);
	int n = q_msg_encode(m, buf, BUF);
	ck_assert_msg(n >= Q_HDR_LEN, "encode %s: %d", q_msg_type_name(type), n);
	return n;
}

/* Rewrites the message length octets, as a sender whose frame was cut would. */
static void set_body_len(uint8_t *buf, size_t body)
{
	buf[7] = body >> 8;
	buf[8] = body & 0xff;
}

/* ---- round trips ------------------------------------------------------- */

START_TEST(every_message_type_round_trips)
{
	for (size_t i = 0; i < N_SAMPLE_TYPES; i++) {
		struct q_msg m, d;
		struct q_decode_status st;
		uint8_t buf[BUF], again[BUF];
		int n = encode_sample(sample_types[i], &m, buf);

		ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_OK);
		ck_assert_int_eq(st.result, Q_DEC_OK);
		ck_assert_uint_eq(st.cause, 0);
		assert_msg_eq(&m, &d);
		/* and the decoded struct encodes to the same octets */
		ck_assert_int_eq(q_msg_encode(&d, again, sizeof(again)), n);
		ck_assert_mem_eq(buf, again, n);
		ck_assert_uint_eq(((size_t)buf[7] << 8 | buf[8]), (size_t)n - Q_HDR_LEN);
	}
}
END_TEST

START_TEST(boundary_values_round_trip)
{
	struct q_msg m, d;
	struct q_decode_status st;
	uint8_t buf[BUF];

	sample_msg(Q_MSG_ADD_PARTY, &m);
	m.cref = Q_CREF_MAX;
	m.cref_flag = true;
	m.epref.value = Q_EPREF_MAX;
	m.epref.flag = true;
	m.aal.fwd_max_sdu = 0;
	m.aal.bwd_max_sdu = 0xffff;
	m.uu.len = 0; /* present but empty */
	int n = q_msg_encode(&m, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_OK);
	assert_msg_eq(&m, &d);
}
END_TEST

/* ---- hand-built vectors ------------------------------------------------- */

static const uint8_t setup_vec[] = {
	0x09,             /* protocol discriminator Q.2931 */
	0x03,             /* call reference length 3 */
	0x00, 0x00, 0x01, /* flag 0 (from originator), call reference 1 */
	0x05,             /* SETUP */
	0x80,             /* compatibility: regular error handling */
	0x00, 0x6c,       /* message length 108 */
	/* AAL parameters: AAL5, fwd max SDU 9188, bwd max SDU 1500 */
	0x58, 0x80, 0x00, 0x07, 0x05, 0x8c, 0x23, 0xe4, 0x81, 0x05, 0xdc,
	/* ATM traffic descriptor: fwd PCR0+1 256, bwd PCR0+1 512, best effort */
	0x59, 0x80, 0x00, 0x09, 0x84, 0x00, 0x01, 0x00, 0x85, 0x00, 0x02, 0x00, 0xbe,
	/* broadband bearer capability: BCOB-X, not clipped, point-to-multipoint */
	0x5e, 0x80, 0x00, 0x02, 0x90, 0x81,
	/* B-LLI: layer 3 user specified, protocol 0x2a */
	0x5f, 0x80, 0x00, 0x02, 0x70, 0xaa,
	/* called party number: NSAP plan, 20-octet AESA */
	0x70, 0x80, 0x00, 0x15, 0x82, 0x47, 0x00, 0x05, 0x80, 0xff, 0xe1, 0x00, 0x00, 0x00, 0xf2,
	0x1a, 0x2b, 0x3c, 0x02, 0x00, 0xb3, 0xa1, 0xc2, 0xd3, 0x2a,
	/* calling party number */
	0x6c, 0x80, 0x00, 0x15, 0x82, 0x39, 0x84, 0x0f, 0x80, 0x01, 0xbc, 0x72, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x07,
	/* connection identifier: explicit VPCI, exclusive; VPCI 0, VCI 32 */
	0x5a, 0x80, 0x00, 0x05, 0x88, 0x00, 0x00, 0x00, 0x20,
	/* QoS parameter: class 0 both ways */
	0x5c, 0x80, 0x00, 0x02, 0x00, 0x00,
	/* endpoint reference: type 0, flag 0, value 0 */
	0x54, 0x80, 0x00, 0x03, 0x00, 0x00, 0x00,
};

static const uint8_t drop_party_vec[] = {
	0x09, 0x03,
	0x80, 0x01, 0x02, /* flag 1 (to originator), call reference 0x102 */
	0x83,             /* DROP PARTY */
	0x80, 0x00, 0x15, /* compatibility; length 21 */
	/* cause: location user, #16 normal call clearing */
	0x08, 0x80, 0x00, 0x02, 0x80, 0x90,
	/* endpoint reference: flag 1, value 5 */
	0x54, 0x80, 0x00, 0x03, 0x00, 0x80, 0x05,
	/* user-user: Q.2957 PD 0 (user-specific), "hi!" */
	0x7e, 0x80, 0x00, 0x04, 0x00, 0x68, 0x69, 0x21,
};

static const uint8_t status_vec[] = {
	0x09, 0x03, 0x80, 0x00, 0x03, /* flag 1, call reference 3 */
	0x7d, 0x80, 0x00, 0x17,       /* STATUS, length 23 */
	/* cause #30 response to STATUS ENQUIRY */
	0x08, 0x80, 0x00, 0x02, 0x80, 0x9e,
	/* call state U10 active */
	0x14, 0x80, 0x00, 0x01, 0x0a,
	/* endpoint reference flag 0, value 7 */
	0x54, 0x80, 0x00, 0x03, 0x00, 0x00, 0x07,
	/* endpoint state: active (10) */
	0x55, 0x80, 0x00, 0x01, 0x0a,
};

static const uint8_t restart_vec[] = {
	0x09, 0x03, 0x00, 0x00, 0x00, /* global call reference */
	0x46, 0x80, 0x00, 0x05,       /* RESTART, length 5 */
	/* restart indicator: all VCs */
	0x79, 0x80, 0x00, 0x01, 0x82,
};

static void check_vector(const uint8_t *vec, size_t len, const struct q_msg *want)
{
	struct q_msg d;
	struct q_decode_status st;
	uint8_t buf[BUF];

	ck_assert_int_eq(q_msg_decode(vec, len, &d, &st), Q_DEC_OK);
	assert_msg_eq(want, &d);
	ck_assert_int_eq(q_msg_encode(want, buf, sizeof(buf)), (int)len);
	ck_assert_mem_eq(buf, vec, len);
}

START_TEST(setup_vector)
{
	struct q_msg w = {.type = Q_MSG_SETUP, .cref = 1};
	w.aal = (struct q_ie_aal){.present = true, .fwd_max_sdu = 9188, .bwd_max_sdu = 1500};
	w.traffic = (struct q_ie_traffic){
		.present = true, .fwd_peak_cr = 256, .bwd_peak_cr = 512, .best_effort = true};
	w.bearer = (struct q_ie_bearer){.present = true, .bearer_class = 0x10, .p2mp = true};
	w.blli = (struct q_ie_blli){.present = true, .user_l3 = 0x2a};
	w.called.present = true;
	memcpy(w.called.aesa, sample_aesa_a, Q_AESA_LEN);
	w.calling.present = true;
	memcpy(w.calling.aesa, sample_aesa_b, Q_AESA_LEN);
	w.conn_id = (struct q_ie_conn_id){.present = true, .vpci = 0, .vci = 32};
	w.qos = (struct q_ie_qos){.present = true};
	w.epref = (struct q_ie_epref){.present = true, .flag = false, .value = 0};
	check_vector(setup_vec, sizeof(setup_vec), &w);
}
END_TEST

START_TEST(drop_party_vector)
{
	struct q_msg w = {.type = Q_MSG_DROP_PARTY, .cref = 0x102, .cref_flag = true};
	w.cause = (struct q_ie_cause){.present = true, .value = 16};
	w.epref = (struct q_ie_epref){.present = true, .flag = true, .value = 5};
	w.uu.present = true;
	w.uu.len = 3;
	memcpy(w.uu.data, "hi!", 3);
	check_vector(drop_party_vec, sizeof(drop_party_vec), &w);
}
END_TEST

START_TEST(status_vector)
{
	struct q_msg w = {.type = Q_MSG_STATUS, .cref = 3, .cref_flag = true};
	w.cause = (struct q_ie_cause){.present = true, .value = 30};
	w.call_state_present = true;
	w.call_state = 10;
	w.epref = (struct q_ie_epref){.present = true, .value = 7};
	w.ep_state_present = true;
	w.ep_state = Q_EPS_ACTIVE;
	check_vector(status_vec, sizeof(status_vec), &w);
}
END_TEST

START_TEST(restart_vector)
{
	struct q_msg w = {.type = Q_MSG_RESTART};
	w.restart = (struct q_ie_restart){.present = true, .rclass = Q_RESTART_ALL};
	check_vector(restart_vec, sizeof(restart_vec), &w);
}
END_TEST

/* Codings other peers may use: octet 5a in bearer and calling number, more subfields. */
START_TEST(alternative_codings_decode)
{
	static const uint8_t vec[] = {
		0x09, 0x03, 0x00, 0x00, 0x09, 0x05, 0x80, 0x00, 0x4c, /* SETUP, length 76 */
		/* AAL5 with SSCS type null and mode message */
		0x58, 0x80, 0x00, 0x0b, 0x05, 0x84, 0x00, 0x8c, 0x00, 0x30, 0x81, 0x00, 0x40, 0x83,
		0x01,
		/* traffic: CLP0 peaks, fwd/bwd PCR0+1, sustainable, burst, options */
		0x59, 0x80, 0x00, 0x12, 0x82, 0x00, 0x00, 0x01, 0x84, 0x00, 0x00, 0x0a, 0x85, 0x00,
		0x00, 0x0b, 0x90, 0x00, 0x00, 0x05, 0xbf, 0x00,
		/* bearer BCOB-X with octet 5a (ATC 10), point-to-point */
		0x5e, 0x80, 0x00, 0x03, 0x10, 0x8a, 0x80,
		/* called party number with octet 5a (presentation/screening) */
		0x70, 0x80, 0x00, 0x16, 0x02, 0x80, 0x47, 0x00, 0x05, 0x80, 0xff, 0xe1, 0x00, 0x00,
		0x00, 0xf2, 0x1a, 0x2b, 0x3c, 0x02, 0x00, 0xb3, 0xa1, 0xc2, 0xd3, 0x2a,
		/* QoS class 2 both ways, ATM Forum coding standard */
		0x5c, 0xe0, 0x00, 0x02, 0x02, 0x02,
	};
	struct q_msg d;
	struct q_decode_status st;

	ck_assert_int_eq(q_msg_decode(vec, sizeof(vec), &d, &st), Q_DEC_OK);
	ck_assert(d.qos.present);
	ck_assert_uint_eq(d.qos.fwd_class, 2);
	ck_assert_uint_eq(d.qos.bwd_class, 2);
	ck_assert_uint_eq(d.cref, 9);
	ck_assert(d.aal.present);
	ck_assert_uint_eq(d.aal.fwd_max_sdu, 0x30);
	ck_assert_uint_eq(d.aal.bwd_max_sdu, 0x40);
	ck_assert(d.traffic.present);
	ck_assert_uint_eq(d.traffic.fwd_peak_cr, 10);
	ck_assert_uint_eq(d.traffic.bwd_peak_cr, 11);
	ck_assert(!d.traffic.best_effort);
	ck_assert(d.bearer.present);
	ck_assert_uint_eq(d.bearer.bearer_class, 0x10);
	ck_assert(!d.bearer.p2mp);
	ck_assert(d.called.present);
	ck_assert_mem_eq(d.called.aesa, sample_aesa_a, Q_AESA_LEN);
	ck_assert(!d.epref.present); /* point-to-point: not mandatory */
}
END_TEST

START_TEST(blli_without_user_l3_is_valid_but_names_no_sap)
{
	/* CONNECT with B-LLI layer 2 LAN (ISO 8802/2) and layer 3 TR 9577 IP. */
	static const uint8_t vec[] = {
		0x09, 0x03, 0x80, 0x00, 0x01, 0x07, 0x80, 0x00, 0x07,
		0x5f, 0x80, 0x00, 0x03, 0xcc, 0x6b, 0x40,
	};
	struct q_msg d;
	struct q_decode_status st;

	ck_assert_int_eq(q_msg_decode(vec, sizeof(vec), &d, &st), Q_DEC_OK);
	ck_assert(!d.blli.present);
}
END_TEST

/* ---- header errors: dropped silently ------------------------------------ */

START_TEST(short_header_is_dropped)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;
	int n = encode_sample(Q_MSG_STATUS_ENQUIRY, &m, buf);

	for (int len = 0; len < Q_HDR_LEN; len++) {
		ck_assert_int_eq(q_msg_decode(buf, len, &d, &st), Q_DEC_DROP);
		ck_assert_str_eq(st.reason, "message too short");
	}
	ck_assert_int_eq(q_msg_decode(NULL, 0, &d, &st), Q_DEC_DROP);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_OK);
}
END_TEST

START_TEST(bad_protocol_discriminator_is_dropped)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;
	int n = encode_sample(Q_MSG_RELEASE, &m, buf);
	static const uint8_t pds[] = {0x00, 0x08, 0x0a, 0x45, 0xff};

	for (size_t i = 0; i < sizeof(pds); i++) {
		buf[0] = pds[i];
		ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_DROP);
		ck_assert_str_eq(st.reason, "protocol discriminator is not Q.2931");
	}
}
END_TEST

START_TEST(bad_call_reference_length_is_dropped)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;
	int n = encode_sample(Q_MSG_RELEASE, &m, buf);
	static const uint8_t lens[] = {0x00, 0x01, 0x02, 0x04, 0x0f, 0x13, 0xf3};

	for (size_t i = 0; i < sizeof(lens); i++) {
		buf[1] = lens[i];
		ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_DROP);
		ck_assert_str_eq(st.reason, "call reference length is not 3");
	}
}
END_TEST

/* Cut at every octet: never a crash, always a named result. */
START_TEST(truncation_at_every_offset)
{
	for (size_t t = 0; t < N_SAMPLE_TYPES; t++) {
		uint8_t buf[BUF];
		struct q_msg m, d;
		struct q_decode_status st;
		int n = encode_sample(sample_types[t], &m, buf);

		for (int len = 0; len < n; len++) {
			/* Exact-size heap copy so ASan sees any overread. */
			uint8_t *cut = malloc(len ? len : 1);
			memcpy(cut, buf, len);
			/* Length field still claims the whole message: dropped. */
			ck_assert_int_eq(q_msg_decode(cut, len, &d, &st), Q_DEC_DROP);
			ck_assert_ptr_nonnull(st.reason);
			if (len >= Q_HDR_LEN) {
				ck_assert_str_eq(st.reason, "message length exceeds the frame");
				/* Length field agrees with the cut: IE-level verdict. */
				set_body_len(cut, len - Q_HDR_LEN);
				int r = q_msg_decode(cut, len, &d, &st);
				ck_assert_msg(r == Q_DEC_OK || r == Q_DEC_REJECT,
					      "%s cut at %d: result %d",
					      q_msg_type_name(sample_types[t]), len, r);
				if (r == Q_DEC_REJECT)
					ck_assert_msg(st.cause == Q_CAUSE_INVALID_IE_CONTENTS ||
							      st.cause ==
								      Q_CAUSE_MANDATORY_IE_MISSING,
						      "cause %u", st.cause);
				ck_assert_uint_eq(d.type, sample_types[t]);
				ck_assert_uint_eq(d.cref, m.cref);
			}
			free(cut);
		}
	}
}
END_TEST

START_TEST(truncated_ie_names_the_ie)
{
	uint8_t buf[sizeof(drop_party_vec)];
	struct q_msg d;
	struct q_decode_status st;

	memcpy(buf, drop_party_vec, sizeof(buf));
	/* cut inside the endpoint reference header (offset 9 + 6 + 2) */
	set_body_len(buf, 8);
	ck_assert_int_eq(q_msg_decode(buf, Q_HDR_LEN + 8, &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.cause, Q_CAUSE_INVALID_IE_CONTENTS);
	ck_assert_uint_eq(st.ie, Q_IE_EPREF);
	ck_assert_str_eq(st.reason, "IE header cut short");
	/* cut inside its contents */
	set_body_len(buf, 12);
	ck_assert_int_eq(q_msg_decode(buf, Q_HDR_LEN + 12, &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.ie, Q_IE_EPREF);
	ck_assert_str_eq(st.reason, "IE runs past the end of the message");
	/* cut exactly before it: the mandatory endpoint reference is missing */
	set_body_len(buf, 6);
	ck_assert_int_eq(q_msg_decode(buf, Q_HDR_LEN + 6, &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.cause, Q_CAUSE_MANDATORY_IE_MISSING);
	ck_assert_uint_eq(st.ie, Q_IE_EPREF);
	ck_assert(d.cause.present); /* what decoded is kept for call control */
	ck_assert_uint_eq(d.cause.value, 16);
}
END_TEST

START_TEST(trailing_octets_after_message_are_ignored)
{
	uint8_t buf[sizeof(status_vec) + 3];
	struct q_msg d;
	struct q_decode_status st;

	memcpy(buf, status_vec, sizeof(status_vec));
	memset(buf + sizeof(status_vec), 0xee, 3);
	ck_assert_int_eq(q_msg_decode(buf, sizeof(buf), &d, &st), Q_DEC_OK);
	ck_assert_uint_eq(d.ep_state, Q_EPS_ACTIVE);
}
END_TEST

/* ---- message type errors ------------------------------------------------ */

START_TEST(unknown_message_type_is_97)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;
	int n = encode_sample(Q_MSG_STATUS_ENQUIRY, &m, buf);
	static const uint8_t types[] = {0x00, 0x03, 0x0b, 0x6e /* NOTIFY */, 0x7b, 0x90, 0xff};

	for (size_t i = 0; i < sizeof(types); i++) {
		buf[5] = types[i];
		ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REJECT);
		ck_assert_uint_eq(st.cause, Q_CAUSE_MSG_TYPE_NONEXISTENT);
		ck_assert_uint_eq(st.ie, 0);
		ck_assert_uint_eq(st.action, Q_ACT_REPORT);
		ck_assert_uint_eq(d.type, types[i]);
		ck_assert_uint_eq(d.cref, m.cref);
	}
	/* message action indicator with the flag set */
	buf[5] = 0x99;
	buf[6] = 0x90; /* clear call */
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.action, Q_ACT_CLEAR);
	buf[6] = 0x91; /* discard and ignore */
	q_msg_decode(buf, n, &d, &st);
	ck_assert_uint_eq(st.action, Q_ACT_IGNORE);
	buf[6] = 0x92; /* discard and report status */
	q_msg_decode(buf, n, &d, &st);
	ck_assert_uint_eq(st.action, Q_ACT_REPORT);
	buf[6] = 0x81; /* flag clear: action bits mean nothing */
	q_msg_decode(buf, n, &d, &st);
	ck_assert_uint_eq(st.action, Q_ACT_REPORT);
}
END_TEST

/* ---- mandatory IEs ------------------------------------------------------ */

/* Offset of the first IE with identifier id in an encoded message that has one. */
static int ie_offset(const uint8_t *buf, uint8_t id)
{
	int off = Q_HDR_LEN;
	while (buf[off] != id)
		off += 4 + (buf[off + 2] << 8 | buf[off + 3]);
	return off;
}

/* Removes the IE with identifier id from an encoded message. */
static int strip_ie(uint8_t *buf, int n, uint8_t id)
{
	int off = Q_HDR_LEN;
	while (off < n) {
		int ie_len = 4 + (buf[off + 2] << 8 | buf[off + 3]);
		if (buf[off] == id) {
			memmove(buf + off, buf + off + ie_len, n - off - ie_len);
			n -= ie_len;
			set_body_len(buf, n - Q_HDR_LEN);
			return n;
		}
		off += ie_len;
	}
	return -1;
}

struct mandatory_case {
	uint8_t type;
	uint8_t ie;
};

static const struct mandatory_case mandatory_cases[] = {
	{Q_MSG_SETUP, Q_IE_TRAFFIC},
	{Q_MSG_SETUP, Q_IE_BEARER},
	{Q_MSG_SETUP, Q_IE_CALLED},
	{Q_MSG_SETUP, Q_IE_EPREF}, /* point-to-multipoint */
	{Q_MSG_RELEASE, Q_IE_CAUSE},
	{Q_MSG_STATUS, Q_IE_CAUSE},
	{Q_MSG_STATUS, Q_IE_CALL_STATE},
	{Q_MSG_ADD_PARTY, Q_IE_CALLED},
	{Q_MSG_ADD_PARTY, Q_IE_EPREF},
	{Q_MSG_ADD_PARTY_ACK, Q_IE_EPREF},
	{Q_MSG_ADD_PARTY_REJECT, Q_IE_CAUSE},
	{Q_MSG_ADD_PARTY_REJECT, Q_IE_EPREF},
	{Q_MSG_DROP_PARTY, Q_IE_CAUSE},
	{Q_MSG_DROP_PARTY, Q_IE_EPREF},
	{Q_MSG_DROP_PARTY_ACK, Q_IE_EPREF},
	{Q_MSG_PARTY_ALERTING, Q_IE_EPREF},
	{Q_MSG_RESTART, Q_IE_RESTART},
	{Q_MSG_RESTART, Q_IE_CONN_ID}, /* restart of one VC */
	{Q_MSG_RESTART_ACK, Q_IE_RESTART},
	{Q_MSG_RESTART_ACK, Q_IE_CONN_ID},
};

START_TEST(missing_mandatory_ie_is_96)
{
	for (size_t i = 0; i < sizeof(mandatory_cases) / sizeof(mandatory_cases[0]); i++) {
		const struct mandatory_case *c = &mandatory_cases[i];
		uint8_t buf[BUF];
		struct q_msg m, d;
		struct q_decode_status st;
		int n = encode_sample(c->type, &m, buf);

		n = strip_ie(buf, n, c->ie);
		ck_assert_int_gt(n, 0);
		int rest;
		while ((rest = strip_ie(buf, n, c->ie)) > 0) /* RELEASE carries two causes */
			n = rest;
		ck_assert_msg(q_msg_decode(buf, n, &d, &st) == Q_DEC_REJECT, "%s without %s",
			      q_msg_type_name(c->type), q_ie_name(c->ie));
		ck_assert_uint_eq(st.cause, Q_CAUSE_MANDATORY_IE_MISSING);
		ck_assert_uint_eq(st.ie, c->ie);
		ck_assert_uint_eq(st.action, Q_ACT_REPORT);
	}
}
END_TEST

START_TEST(optional_ies_may_be_absent)
{
	/* Conditional ones are not needed when their condition is false. */
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;

	sample_msg(Q_MSG_SETUP, &m);
	m.bearer.p2mp = false;
	m.epref.present = false;
	int n = q_msg_encode(&m, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_OK);

	sample_msg(Q_MSG_RESTART, &m);
	m.restart.rclass = Q_RESTART_ALL;
	m.conn_id.present = false;
	n = q_msg_encode(&m, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_OK);

	memset(&m, 0, sizeof(m));
	m.type = Q_MSG_RELEASE_COMPLETE;
	n = q_msg_encode(&m, buf, sizeof(buf));
	ck_assert_int_eq(n, Q_HDR_LEN);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_OK);
}
END_TEST

START_TEST(encoder_refuses_missing_mandatory_ie)
{
	for (size_t i = 0; i < sizeof(mandatory_cases) / sizeof(mandatory_cases[0]); i++) {
		const struct mandatory_case *c = &mandatory_cases[i];
		uint8_t buf[BUF];
		struct q_msg m;

		sample_msg(c->type, &m);
		switch (c->ie) {
		case Q_IE_TRAFFIC:
			m.traffic.present = false;
			break;
		case Q_IE_BEARER:
			m.bearer.present = false;
			break;
		case Q_IE_CALLED:
			m.called.present = false;
			break;
		case Q_IE_EPREF:
			m.epref.present = false;
			break;
		case Q_IE_CAUSE:
			m.cause.present = false;
			m.cause2.present = false;
			break;
		case Q_IE_CALL_STATE:
			m.call_state_present = false;
			break;
		case Q_IE_RESTART:
			m.restart.present = false;
			break;
		case Q_IE_CONN_ID:
			m.conn_id.present = false;
			break;
		}
		ck_assert_int_eq(q_msg_encode(&m, buf, sizeof(buf)), Q_ENC_E_MANDATORY);
	}
}
END_TEST

/* ---- IE content errors -------------------------------------------------- */

START_TEST(bad_mandatory_ie_contents_is_100)
{
	uint8_t buf[sizeof(drop_party_vec)];
	struct q_msg d;
	struct q_decode_status st;

	/* endpoint reference of type 1: only "locally defined integer" exists */
	memcpy(buf, drop_party_vec, sizeof(buf));
	buf[9 + 6 + 4] = 0x01;
	ck_assert_int_eq(q_msg_decode(buf, sizeof(buf), &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.cause, Q_CAUSE_INVALID_IE_CONTENTS);
	ck_assert_uint_eq(st.ie, Q_IE_EPREF);
	ck_assert(!d.epref.present);

	/* cause IE of length 1 */
	static const uint8_t short_cause[] = {
		0x09, 0x03, 0x00, 0x00, 0x01, 0x4d, 0x80, 0x00, 0x05, 0x08, 0x80, 0x00, 0x01, 0x80,
	};
	ck_assert_int_eq(q_msg_decode(short_cause, sizeof(short_cause), &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.cause, Q_CAUSE_INVALID_IE_CONTENTS);
	ck_assert_uint_eq(st.ie, Q_IE_CAUSE);
}
END_TEST

START_TEST(ie_length_past_message_is_100)
{
	uint8_t buf[sizeof(status_vec)];
	struct q_msg d;
	struct q_decode_status st;

	memcpy(buf, status_vec, sizeof(buf));
	buf[9 + 6 + 3] = 0x40; /* call state IE claims 64 octets */
	ck_assert_int_eq(q_msg_decode(buf, sizeof(buf), &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.cause, Q_CAUSE_INVALID_IE_CONTENTS);
	ck_assert_uint_eq(st.ie, Q_IE_CALL_STATE);
	buf[9 + 6 + 2] = 0xff; /* 0xff40 */
	ck_assert_int_eq(q_msg_decode(buf, sizeof(buf), &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.ie, Q_IE_CALL_STATE);
}
END_TEST

START_TEST(bad_optional_ie_is_discarded_and_reported)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;
	int n = encode_sample(Q_MSG_SETUP, &m, buf);

	/* Shrink the B-LLI IE to one octet: layer 3 without its octet 7a. */
	int off = ie_offset(buf, Q_IE_BLLI);
	buf[off + 3] = 1;                      /* B-LLI length 1 */
	memmove(buf + off + 5, buf + off + 6, n - off - 6);
	n -= 1;
	set_body_len(buf, n - Q_HDR_LEN);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REPORT);
	ck_assert_uint_eq(st.cause, Q_CAUSE_INVALID_IE_CONTENTS);
	ck_assert_uint_eq(st.ie, Q_IE_BLLI);
	ck_assert_uint_eq(st.action, Q_ACT_REPORT);
	ck_assert(!d.blli.present);
	ck_assert(d.epref.present); /* decoding went on after it */
	ck_assert(d.called.present);

	/* the same with explicit "discard IE and proceed": silent */
	buf[off + 1] = 0x91;
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_OK);
	ck_assert(!d.blli.present);
	/* and "discard message and report" */
	buf[off + 1] = 0x96;
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.ie, Q_IE_BLLI);
	ck_assert_uint_eq(st.action, Q_ACT_REPORT);
}
END_TEST

START_TEST(invalid_contents_of_each_ie)
{
	/* STATUS ENQUIRY-less table: (message, IE octets) that must be refused */
	struct bad {
		uint8_t type;
		uint8_t ie[32];
		uint8_t len;
	};
	static const struct bad bads[] = {
		{Q_MSG_STATUS, {0x14, 0x80, 0x00, 0x02, 0x0a, 0x00}, 6},       /* call state len 2 */
		{Q_MSG_STATUS, {0x55, 0x80, 0x00, 0x00}, 4},                   /* ep state len 0 */
		{Q_MSG_CONNECT, {0x58, 0x80, 0x00, 0x01, 0x01}, 5},            /* AAL type 1 */
		{Q_MSG_CONNECT, {0x58, 0x80, 0x00, 0x03, 0x05, 0x8c, 0x01}, 7}, /* SDU cut */
		{Q_MSG_CONNECT, {0x58, 0x80, 0x00, 0x02, 0x05, 0x99}, 6},      /* unknown subfield */
		{Q_MSG_CONNECT, {0x59, 0x80, 0x00, 0x02, 0x84, 0x00}, 6},      /* PCR cut */
		{Q_MSG_CONNECT, {0x59, 0x80, 0x00, 0x01, 0x77}, 5},            /* unknown subfield */
		{Q_MSG_CONNECT, {0x5a, 0x80, 0x00, 0x04, 0x88, 0, 0, 0}, 8},   /* conn id short */
		{Q_MSG_SETUP, {0x5c, 0x80, 0x00, 0x03, 0, 0, 0}, 7},           /* QoS long */
		{Q_MSG_SETUP, {0x5c, 0xe0, 0x00, 0x02, 5, 1}, 6},              /* QoS class 5 */
		{Q_MSG_SETUP, {0x5c, 0x80, 0x00, 0x02, 0, 3}, 6},              /* QoS 0 with 3 */
		{Q_MSG_CONNECT, {0x5f, 0x80, 0x00, 0x01, 0x70}, 5},            /* no octet 7a */
		{Q_MSG_CONNECT, {0x5f, 0x80, 0x00, 0x02, 0x70, 0x05}, 6},      /* 7a without ext */
		{Q_MSG_CONNECT, {0x5f, 0x80, 0x00, 0x01, 0x10}, 5},            /* layer id 0 */
		{Q_MSG_CONNECT, {0x7e, 0x80, 0x00, 0x00}, 4},                  /* uu without PD */
		{Q_MSG_RELEASE_COMPLETE, {0x08, 0x80, 0x00, 0x02, 0x00, 0x90}, 6}, /* ext bit */
		{Q_MSG_ADD_PARTY_ACK, {0x5f, 0x80, 0x00, 0x02, 0x40, 0x00}, 6}, /* L2 chain cut */
	};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		uint8_t buf[BUF];
		struct q_msg m, d;
		struct q_decode_status st;
		int n = encode_sample(bads[i].type, &m, buf);

		/* a repeated IE would be ignored, so the good copy goes first */
		int rest = strip_ie(buf, n, bads[i].ie[0]);
		if (rest > 0)
			n = rest;
		memcpy(buf + n, bads[i].ie, bads[i].len);
		n += bads[i].len;
		set_body_len(buf, n - Q_HDR_LEN);
		ck_assert_msg(q_msg_decode(buf, n, &d, &st) != Q_DEC_OK, "case %zu accepted", i);
		ck_assert_uint_eq(st.cause, Q_CAUSE_INVALID_IE_CONTENTS);
		ck_assert_uint_eq(st.ie, bads[i].ie[0]);
	}
}
END_TEST

START_TEST(address_with_other_plan_or_length_is_100)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;
	int n = encode_sample(Q_MSG_ADD_PARTY, &m, buf);
	int off = ie_offset(buf, Q_IE_CALLED);
	buf[off + 4] = 0x81; /* E.164 plan */
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.cause, Q_CAUSE_INVALID_IE_CONTENTS);
	ck_assert_uint_eq(st.ie, Q_IE_CALLED);
	ck_assert(!d.called.present);

	buf[off + 4] = 0x82;
	buf[off + 3] = 20; /* one octet short of an AESA: the rest becomes garbage */
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.ie, Q_IE_CALLED);
}
END_TEST

START_TEST(oversized_user_user)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;

	sample_msg(Q_MSG_DROP_PARTY, &m);
	m.uu.len = Q_UU_MAX + 1;
	ck_assert_int_eq(q_msg_encode(&m, buf, sizeof(buf)), Q_ENC_E_TOO_BIG);
	m.uu.len = 255;
	ck_assert_int_eq(q_msg_encode(&m, buf, sizeof(buf)), Q_ENC_E_TOO_BIG);

	/* one data octet over Q_UU_MAX on the wire: discarded, reported, the drop still usable */
	m.uu.len = Q_UU_MAX;
	int n = q_msg_encode(&m, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	int off = n - (4 + 1 + Q_UU_MAX);
	ck_assert_uint_eq(buf[off], Q_IE_UU);
	buf[off + 3] += 1;
	buf[n++] = 0x55;
	set_body_len(buf, n - Q_HDR_LEN);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REPORT);
	ck_assert_uint_eq(st.cause, Q_CAUSE_INVALID_IE_CONTENTS);
	ck_assert_uint_eq(st.ie, Q_IE_UU);
	ck_assert(!d.uu.present);
	ck_assert(d.epref.present);
	ck_assert(d.cause.present);
}
END_TEST

/* ---- unrecognised IEs --------------------------------------------------- */

static int with_extra_ie_in(uint8_t type, uint8_t *buf, uint8_t id, uint8_t instr)
{
	struct q_msg m;
	int n = encode_sample(type, &m, buf);
	const uint8_t ie[] = {id, instr, 0x00, 0x02, 0xab, 0xcd};

	/* put it first, so anything after it is seen to be decoded too */
	memmove(buf + Q_HDR_LEN + sizeof(ie), buf + Q_HDR_LEN, n - Q_HDR_LEN);
	memcpy(buf + Q_HDR_LEN, ie, sizeof(ie));
	n += sizeof(ie);
	set_body_len(buf, n - Q_HDR_LEN);
	return n;
}

static int with_extra_ie(uint8_t *buf, uint8_t id, uint8_t instr)
{
	return with_extra_ie_in(Q_MSG_DROP_PARTY, buf, id, instr);
}

START_TEST(unrecognised_ie_follows_action_indicator)
{
	struct {
		int result;
		uint8_t instr;
		uint8_t action;
	} cases[] = {
		{Q_DEC_REPORT, 0x80, Q_ACT_REPORT}, /* regular: discard IE, go on, report */
		{Q_DEC_REJECT, 0x90, Q_ACT_CLEAR},  /* clear call */
		{Q_DEC_OK, 0x91, Q_ACT_NONE},       /* discard IE and proceed */
		{Q_DEC_REPORT, 0x92, Q_ACT_REPORT}, /* discard IE, proceed, report */
		{Q_DEC_REJECT, 0x95, Q_ACT_IGNORE}, /* discard message, ignore */
		{Q_DEC_REJECT, 0x96, Q_ACT_REPORT}, /* discard message, report */
		{Q_DEC_REPORT, 0x97, Q_ACT_REPORT}, /* reserved: as 2 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[BUF];
		struct q_msg d;
		struct q_decode_status st;
		int n = with_extra_ie(buf, 0x42 /* end-to-end transit delay */, cases[i].instr);

		ck_assert_msg(q_msg_decode(buf, n, &d, &st) == cases[i].result, "instr %02x",
			      cases[i].instr);
		ck_assert_uint_eq(st.action, cases[i].action);
		if (cases[i].result != Q_DEC_OK) {
			ck_assert_uint_eq(st.cause, Q_CAUSE_IE_NONEXISTENT);
			ck_assert_uint_eq(st.ie, 0x42);
		}
		if (cases[i].result != Q_DEC_REJECT) {
			ck_assert(d.epref.present);
			ck_assert_uint_eq(d.uu.len, 100);
		}
	}
}
END_TEST

START_TEST(ie_not_expected_in_message_is_unrecognised)
{
	uint8_t buf[BUF];
	struct q_msg d;
	struct q_decode_status st;
	int n = with_extra_ie(buf, Q_IE_RESTART, 0x80);

	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REPORT);
	ck_assert_uint_eq(st.cause, Q_CAUSE_IE_NONEXISTENT);
	ck_assert_uint_eq(st.ie, Q_IE_RESTART);
	ck_assert(!d.restart.present);

	/* a known IE in a coding standard other than ITU-T; the ITU one later counts */
	n = with_extra_ie_in(Q_MSG_SETUP, buf, Q_IE_BLLI, 0xe0);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REPORT);
	ck_assert_uint_eq(st.cause, Q_CAUSE_IE_NONEXISTENT);
	ck_assert_uint_eq(st.ie, Q_IE_BLLI);
	ck_assert(d.blli.present);
	ck_assert_uint_eq(d.blli.user_l3, 0x2a);
}
END_TEST

START_TEST(first_report_wins_and_reject_overrides)
{
	uint8_t buf[BUF];
	struct q_msg d;
	struct q_decode_status st;
	int n = with_extra_ie(buf, 0x42, 0x80);

	/* a second unknown IE after it: still the first is named */
	const uint8_t ie2[] = {0x43, 0x80, 0x00, 0x00};
	memcpy(buf + n, ie2, sizeof(ie2));
	n += sizeof(ie2);
	set_body_len(buf, n - Q_HDR_LEN);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REPORT);
	ck_assert_uint_eq(st.ie, 0x42);
	/* missing mandatory outranks the report */
	n = strip_ie(buf, n, Q_IE_EPREF);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.cause, Q_CAUSE_MANDATORY_IE_MISSING);
}
END_TEST

START_TEST(repeated_ie_first_counts)
{
	uint8_t buf[sizeof(drop_party_vec) + 7];
	struct q_msg d;
	struct q_decode_status st;
	const uint8_t epref9[] = {0x54, 0x80, 0x00, 0x03, 0x00, 0x00, 0x09};

	memcpy(buf, drop_party_vec, sizeof(drop_party_vec));
	memcpy(buf + sizeof(drop_party_vec), epref9, sizeof(epref9));
	set_body_len(buf, sizeof(buf) - Q_HDR_LEN);
	ck_assert_int_eq(q_msg_decode(buf, sizeof(buf), &d, &st), Q_DEC_OK);
	ck_assert_uint_eq(d.epref.value, 5);
	ck_assert(d.epref.flag);
}
END_TEST

START_TEST(two_causes_fill_cause_and_cause2_third_ignored)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;
	int n = encode_sample(Q_MSG_RELEASE, &m, buf);
	const uint8_t c3[] = {0x08, 0x80, 0x00, 0x02, 0x80, 0x81};

	memcpy(buf + n, c3, sizeof(c3));
	n += sizeof(c3);
	set_body_len(buf, n - Q_HDR_LEN);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_OK);
	ck_assert_uint_eq(d.cause.value, 16);
	ck_assert_uint_eq(d.cause2.value, 102);
	ck_assert_mem_eq(d.cause2.diag, "398", 3);
}
END_TEST

/* ---- encoder limits ----------------------------------------------------- */

START_TEST(encoder_never_writes_past_cap)
{
	for (size_t t = 0; t < N_SAMPLE_TYPES; t++) {
		uint8_t buf[BUF];
		struct q_msg m;
		int n = encode_sample(sample_types[t], &m, buf);

		for (int cap = 0; cap < n; cap++) {
			uint8_t *small = malloc(cap ? cap : 1);
			ck_assert_int_eq(q_msg_encode(&m, small, cap), Q_ENC_E_NOSPACE);
			free(small);
		}
		uint8_t *exact = malloc(n);
		ck_assert_int_eq(q_msg_encode(&m, exact, n), n);
		ck_assert_mem_eq(exact, buf, n);
		free(exact);
	}
}
END_TEST

START_TEST(encoder_refuses_values_that_do_not_fit)
{
	uint8_t buf[BUF];
	struct q_msg m;

#define REFUSE(type, change)                                                                  \
	do {                                                                                  \
		sample_msg(type, &m);                                                         \
		change;                                                                       \
		ck_assert_int_eq(q_msg_encode(&m, buf, sizeof(buf)), Q_ENC_E_INVAL);          \
	} while (0)
	REFUSE(Q_MSG_SETUP, m.cref = Q_CREF_MAX + 1);
	REFUSE(Q_MSG_SETUP, m.epref.value = Q_EPREF_MAX + 1);
	REFUSE(Q_MSG_SETUP, m.aal.fwd_max_sdu = 65536);
	REFUSE(Q_MSG_SETUP, m.traffic.bwd_peak_cr = 1u << 24);
	REFUSE(Q_MSG_SETUP, m.bearer.bearer_class = 0x20);
	REFUSE(Q_MSG_SETUP, m.bearer.bearer_class = 0);
	REFUSE(Q_MSG_SETUP, m.blli.user_l3 = Q_BLLI_USER_L3_MAX + 1);
	REFUSE(Q_MSG_SETUP, m.cause.present = true);          /* not a SETUP IE */
	REFUSE(Q_MSG_SETUP, m.type = Q_MSG_NOTIFY);           /* not implemented */
	REFUSE(Q_MSG_SETUP, m.type = 0x99);
	REFUSE(Q_MSG_STATUS, m.call_state = 0x40);
	REFUSE(Q_MSG_STATUS, m.ep_state = 0x40);
	REFUSE(Q_MSG_STATUS, m.cause.value = 0x80);
	REFUSE(Q_MSG_STATUS, m.cause.location = 0x10);
	REFUSE(Q_MSG_STATUS, m.cause.diag_len = 9);
	REFUSE(Q_MSG_RELEASE, m.cause.present = false);       /* cause2 alone */
	REFUSE(Q_MSG_RESTART, m.restart.rclass = 3);
	REFUSE(Q_MSG_CONNECT_ACK, m.uu.present = true);
#undef REFUSE
}
END_TEST

/*
 * Wireshark 4.0 reads one octet past the diagnostic of these causes; the
 * encoder leaves an optional diagnostic out where nothing follows it.
 */
START_TEST(cause_diagnostic_kept_unless_it_ends_the_message)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;

	memset(&m, 0, sizeof(m));
	m.type = Q_MSG_RELEASE_COMPLETE;
	m.cause.present = true;
	m.cause.value = Q_CAUSE_MANDATORY_IE_MISSING;
	m.cause.diag_len = 1;
	m.cause.diag[0] = Q_IE_CALLED;
	int n = q_msg_encode(&m, buf, sizeof(buf));
	ck_assert_int_eq(n, Q_HDR_LEN + 6);
	q_msg_decode(buf, n, &d, &st);
	ck_assert_uint_eq(d.cause.diag_len, 0);

	sample_uu(&m.uu, 1); /* something follows: the diagnostic goes out */
	n = q_msg_encode(&m, buf, sizeof(buf));
	ck_assert_int_eq(n, Q_HDR_LEN + 7 + 6);
	q_msg_decode(buf, n, &d, &st);
	ck_assert_uint_eq(d.cause.diag_len, 1);
	ck_assert_uint_eq(d.cause.diag[0], Q_IE_CALLED);

	/* other causes keep theirs anywhere */
	m.uu.present = false;
	m.cause.value = Q_CAUSE_RECOVERY_ON_TIMER;
	m.cause.diag_len = 3;
	memcpy(m.cause.diag, "308", 3);
	n = q_msg_encode(&m, buf, sizeof(buf));
	ck_assert_int_eq(n, Q_HDR_LEN + 9);
	q_msg_decode(buf, n, &d, &st);
	ck_assert_mem_eq(d.cause.diag, "308", 3);
}
END_TEST

/* ---- robustness --------------------------------------------------------- */

static uint32_t rng_state = 2463534242u;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Diagnostics the encoder may leave out (see the test above). */
static void forget_fragile_diag(struct q_ie_cause *c)
{
	switch (c->value) {
	case 22: case 37: case 43: case 88: case 96: case 99: case 100:
		c->diag_len = 0;
	}
}

START_TEST(mutated_messages_never_crash)
{
	for (int iter = 0; iter < 200000; iter++) {
		uint8_t buf[BUF];
		struct q_msg m, d;
		struct q_decode_status st;
		int n = encode_sample(sample_types[rng() % N_SAMPLE_TYPES], &m, buf);
		int flips = 1 + rng() % 4;

		for (int f = 0; f < flips; f++)
			buf[rng() % n] = (uint8_t)rng();
		int len = rng() % 8 == 0 ? (int)(rng() % (n + 1)) : n;
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, buf, len);
		int r = q_msg_decode(copy, len, &d, &st);
		ck_assert(r >= Q_DEC_DROP && r <= Q_DEC_REJECT);
		ck_assert_int_eq(r, st.result);
		ck_assert_ptr_nonnull(st.reason);
		if (r == Q_DEC_OK) {
			/* whatever decodes cleanly re-encodes and decodes the same */
			uint8_t again[BUF];
			int n2 = q_msg_encode(&d, again, sizeof(again));
			if (n2 > 0) {
				struct q_msg d2;
				ck_assert_int_eq(q_msg_decode(again, n2, &d2, &st), Q_DEC_OK);
				forget_fragile_diag(&d.cause);
				forget_fragile_diag(&d.cause2);
				forget_fragile_diag(&d2.cause);
				forget_fragile_diag(&d2.cause2);
				assert_msg_eq(&d, &d2);
			}
		}
		free(copy);
	}
}
END_TEST

/* ---- verdicts (Q.2931 §5.6, §5.7) --------------------------------------- */

static void assert_ie_error(const struct q_decode_status *st, unsigned i, uint8_t id,
			    uint8_t cause, uint8_t action)
{
	ck_assert_uint_gt(st->n_ie_errors, i);
	ck_assert_uint_eq(st->ie_errors[i].id, id);
	ck_assert_uint_eq(st->ie_errors[i].cause, cause);
	ck_assert_uint_eq(st->ie_errors[i].action, action);
}

/* A SETUP led by an unrecognised notification indicator IE with each instruction. */
START_TEST(verdict_follows_each_ie_action_indicator)
{
	static const struct {
		uint8_t instr, verdict, cause, action;
	} cases[] = {
		{0x80, Q_VERDICT_REPORT, 99, Q_IE_ACT_REGULAR},
		{0x90, Q_VERDICT_CLEAR, 99, Q_IE_ACT_CLEAR},
		{0x91, Q_VERDICT_OK, 0, Q_IE_ACT_DISCARD_IE},
		{0x92, Q_VERDICT_REPORT, 99, Q_IE_ACT_DISCARD_IE_REPORT},
		{0x95, Q_VERDICT_DISCARD, 0, Q_IE_ACT_DISCARD_MSG},
		{0x96, Q_VERDICT_REJECT, 99, Q_IE_ACT_DISCARD_MSG_REPORT},
		{0x93, Q_VERDICT_REPORT, 99, 3}, /* reserved: read as "discard IE and report" */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[BUF];
		struct q_msg d;
		struct q_decode_status st;
		int n = with_extra_ie_in(Q_MSG_SETUP, buf, 0x27, cases[i].instr);

		q_msg_decode(buf, n, &d, &st);
		ck_assert_msg(st.verdict == cases[i].verdict, "instr %02x: verdict %u",
			      cases[i].instr, st.verdict);
		ck_assert_uint_eq(st.verdict_cause, cases[i].cause);
		ck_assert_uint_eq(st.n_ie_errors, 1);
		assert_ie_error(&st, 0, 0x27, Q_CAUSE_IE_NONEXISTENT, cases[i].action);
		/* every later IE was still read: the call can be found and answered */
		ck_assert(d.epref.present);
		ck_assert(d.called.present);
		ck_assert(d.qos.present);
		ck_assert(!st.msg_action_flag);
	}
}
END_TEST

START_TEST(verdict_invalid_optional_ie_reports_100)
{
	uint8_t buf[BUF];
	struct q_msg d;
	struct q_decode_status st;
	/* CONNECT with an AAL IE of type 1: optional, invalid */
	static const uint8_t aal1[] = {0x58, 0x80, 0x00, 0x01, 0x01};
	int n = with_extra_ie_in(Q_MSG_CONNECT, buf, 0x58, 0x80);
	memcpy(buf + Q_HDR_LEN, aal1, sizeof(aal1));
	memmove(buf + Q_HDR_LEN + sizeof(aal1), buf + Q_HDR_LEN + 6, n - Q_HDR_LEN - 6);
	n -= 1;
	set_body_len(buf, n - Q_HDR_LEN);

	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REPORT);
	ck_assert_uint_eq(st.verdict, Q_VERDICT_REPORT);
	ck_assert_uint_eq(st.verdict_cause, Q_CAUSE_INVALID_IE_CONTENTS);
	assert_ie_error(&st, 0, Q_IE_AAL, Q_CAUSE_INVALID_IE_CONTENTS, Q_IE_ACT_REGULAR);
	ck_assert_uint_eq(st.n_ie_errors, 1);
	ck_assert(!d.aal.present); /* the first copy counts, invalid or not; the later one is a repeat */
	ck_assert(d.conn_id.present);
}
END_TEST

START_TEST(verdict_mandatory_missing_lists_every_ie)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;
	int n = encode_sample(Q_MSG_SETUP, &m, buf);
	n = strip_ie(buf, n, Q_IE_CALLED);
	n = strip_ie(buf, n, Q_IE_TRAFFIC);

	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.verdict, Q_VERDICT_REJECT);
	ck_assert_uint_eq(st.verdict_cause, Q_CAUSE_MANDATORY_IE_MISSING);
	ck_assert_uint_eq(st.n_ie_errors, 2);
	assert_ie_error(&st, 0, Q_IE_TRAFFIC, Q_CAUSE_MANDATORY_IE_MISSING, Q_IE_ACT_REGULAR);
	assert_ie_error(&st, 1, Q_IE_CALLED, Q_CAUSE_MANDATORY_IE_MISSING, Q_IE_ACT_REGULAR);
	ck_assert_uint_eq(st.ie, Q_IE_TRAFFIC); /* the summary names the first */
	ck_assert(d.epref.present);
}
END_TEST

/* The endpoint reference is mandatory only once the bearer says p2mp. */
START_TEST(verdict_conditional_mandatory_invalid_is_missing)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;
	int n = encode_sample(Q_MSG_SETUP, &m, buf);
	int off = ie_offset(buf, Q_IE_EPREF);
	buf[off + 4] = 0xff; /* endpoint reference type other than 0 */

	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REJECT);
	ck_assert_uint_eq(st.verdict, Q_VERDICT_REJECT);
	ck_assert_uint_eq(st.verdict_cause, Q_CAUSE_MANDATORY_IE_MISSING);
	ck_assert_uint_eq(st.cause, Q_CAUSE_MANDATORY_IE_MISSING);
	ck_assert_uint_eq(st.ie, Q_IE_EPREF);
	ck_assert_uint_eq(st.n_ie_errors, 2);
	assert_ie_error(&st, 0, Q_IE_EPREF, Q_CAUSE_INVALID_IE_CONTENTS, Q_IE_ACT_REGULAR);
	assert_ie_error(&st, 1, Q_IE_EPREF, Q_CAUSE_MANDATORY_IE_MISSING, Q_IE_ACT_REGULAR);
}
END_TEST

START_TEST(verdict_mandatory_invalid_is_100_or_its_action)
{
	static const struct {
		uint8_t instr, verdict, action;
	} cases[] = {
		{0x80, Q_VERDICT_REJECT, Q_IE_ACT_REGULAR},
		{0x90, Q_VERDICT_CLEAR, Q_IE_ACT_CLEAR},
		{0x95, Q_VERDICT_DISCARD, Q_IE_ACT_DISCARD_MSG},
		{0x91, Q_VERDICT_REJECT, Q_IE_ACT_DISCARD_IE}, /* cannot proceed without it */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[BUF];
		struct q_msg m, d;
		struct q_decode_status st;
		int n = encode_sample(Q_MSG_DROP_PARTY, &m, buf);
		/* the cause IE comes first; clear its extension bit in octet 5 */
		ck_assert_uint_eq(buf[Q_HDR_LEN], Q_IE_CAUSE);
		buf[Q_HDR_LEN + 1] = cases[i].instr;
		buf[Q_HDR_LEN + 4] &= 0x7f;

		ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REJECT);
		ck_assert_msg(st.verdict == cases[i].verdict, "instr %02x: verdict %u",
			      cases[i].instr, st.verdict);
		ck_assert_uint_eq(st.n_ie_errors, 1); /* not counted missing as well */
		assert_ie_error(&st, 0, Q_IE_CAUSE, Q_CAUSE_INVALID_IE_CONTENTS, cases[i].action);
		ck_assert_uint_eq(st.verdict_cause,
				  cases[i].verdict == Q_VERDICT_DISCARD ? 0
									: Q_CAUSE_INVALID_IE_CONTENTS);
		ck_assert(d.epref.present);
	}
}
END_TEST

START_TEST(verdict_unknown_message_type_follows_message_action)
{
	static const struct {
		uint8_t compat, verdict, cause;
	} cases[] = {
		{0x80, Q_VERDICT_REJECT, 97},  /* regular: STATUS 97 */
		{0x90, Q_VERDICT_CLEAR, 97},   /* clear call */
		{0x91, Q_VERDICT_DISCARD, 0},  /* discard and ignore */
		{0x92, Q_VERDICT_REJECT, 97},  /* discard and report */
		{0x93, Q_VERDICT_REJECT, 97},  /* reserved */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[] = {Q_PD, 3, 0x80, 0, 1, 0x99, cases[i].compat, 0, 0};
		struct q_msg d;
		struct q_decode_status st;
		ck_assert_int_eq(q_msg_decode(buf, sizeof(buf), &d, &st), Q_DEC_REJECT);
		ck_assert_msg(st.verdict == cases[i].verdict, "compat %02x: verdict %u",
			      cases[i].compat, st.verdict);
		ck_assert_uint_eq(st.verdict_cause, cases[i].cause);
		ck_assert_int_eq(st.msg_action_flag, (cases[i].compat & 0x10) != 0);
		ck_assert_uint_eq(st.msg_action, st.msg_action_flag ? cases[i].compat & 3 : 0);
		ck_assert_uint_eq(st.cause, Q_CAUSE_MSG_TYPE_NONEXISTENT);
	}
	/* a known message keeps its action indicator for call control (§5.7.1) */
	uint8_t enq[] = {Q_PD, 3, 0x80, 0, 1, Q_MSG_STATUS_ENQUIRY, 0x92, 0, 0};
	struct q_msg d;
	struct q_decode_status st;
	ck_assert_int_eq(q_msg_decode(enq, sizeof(enq), &d, &st), Q_DEC_OK);
	ck_assert_uint_eq(st.verdict, Q_VERDICT_OK);
	ck_assert(st.msg_action_flag);
	ck_assert_uint_eq(st.msg_action, Q_MSG_ACT_DISCARD_REPORT);
	/* a header that cannot be read is discarded */
	enq[0] = 0x08;
	ck_assert_int_eq(q_msg_decode(enq, sizeof(enq), &d, &st), Q_DEC_DROP);
	ck_assert_uint_eq(st.verdict, Q_VERDICT_DISCARD);
}
END_TEST

/* §5.7.2: clear call > discard and report > discard and ignore > report. */
START_TEST(verdict_precedence_and_ie_list)
{
	static const struct {
		uint8_t first, second, verdict;
	} cases[] = {
		{0x95, 0x90, Q_VERDICT_CLEAR},   {0x90, 0x95, Q_VERDICT_CLEAR},
		{0x95, 0x96, Q_VERDICT_REJECT},  {0x96, 0x95, Q_VERDICT_REJECT},
		{0x80, 0x95, Q_VERDICT_DISCARD}, {0x91, 0x92, Q_VERDICT_REPORT},
		{0x91, 0x91, Q_VERDICT_OK},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[BUF];
		struct q_msg d;
		struct q_decode_status st;
		int n = with_extra_ie_in(Q_MSG_ALERTING, buf, 0x27, cases[i].first);
		const uint8_t second[] = {0x42, cases[i].second, 0x00, 0x01, 0x00};
		memcpy(buf + n, second, sizeof(second));
		n += sizeof(second);
		set_body_len(buf, n - Q_HDR_LEN);

		q_msg_decode(buf, n, &d, &st);
		ck_assert_msg(st.verdict == cases[i].verdict, "%02x then %02x: verdict %u",
			      cases[i].first, cases[i].second, st.verdict);
		ck_assert_uint_eq(st.n_ie_errors, 2);
		ck_assert_uint_eq(st.ie_errors[0].id, 0x27);
		ck_assert_uint_eq(st.ie_errors[1].id, 0x42);
		ck_assert(d.uu.present);
	}
}
END_TEST

START_TEST(verdict_ie_list_is_bounded)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;
	int n = encode_sample(Q_MSG_CONNECT_ACK, &m, buf);
	for (unsigned i = 0; i < Q_DEC_MAX_IE_ERRORS + 3; i++) {
		const uint8_t ie[] = {(uint8_t)(0x20 + i), 0x80, 0x00, 0x00};
		memcpy(buf + n, ie, sizeof(ie));
		n += sizeof(ie);
	}
	set_body_len(buf, n - Q_HDR_LEN);
	ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_REPORT);
	ck_assert_uint_eq(st.n_ie_errors, Q_DEC_MAX_IE_ERRORS);
	ck_assert(st.ie_errors_truncated);
	ck_assert_uint_eq(st.ie_errors[Q_DEC_MAX_IE_ERRORS - 1].id, 0x20 + Q_DEC_MAX_IE_ERRORS - 1);
}
END_TEST

/* ---- interoperability choices (docs/wire.md, Conformance) --------------- */

START_TEST(qos_coding_standard_follows_class)
{
	uint8_t buf[BUF];
	struct q_msg m, d;
	struct q_decode_status st;
	for (uint8_t cls = 0; cls <= Q_QOS_CLASS_MAX; cls++) {
		sample_msg(Q_MSG_SETUP, &m);
		m.qos.fwd_class = m.qos.bwd_class = cls;
		int n = q_msg_encode(&m, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		int off = ie_offset(buf, Q_IE_QOS);
		ck_assert_uint_eq(buf[off + 1], cls ? 0xe0 : 0x80);
		ck_assert_int_eq(q_msg_decode(buf, n, &d, &st), Q_DEC_OK);
		ck_assert_uint_eq(d.qos.fwd_class, cls);
		ck_assert_uint_eq(d.qos.bwd_class, cls);
	}
	sample_msg(Q_MSG_SETUP, &m);
	m.qos.fwd_class = 0; /* 0 with 1: neither coding standard holds the pair */
	m.qos.bwd_class = 1;
	ck_assert_int_eq(q_msg_encode(&m, buf, sizeof(buf)), Q_ENC_E_INVAL);
	m.qos.fwd_class = m.qos.bwd_class = 5;
	ck_assert_int_eq(q_msg_encode(&m, buf, sizeof(buf)), Q_ENC_E_INVAL);
	m.qos.present = false; /* mandatory in SETUP (UNI 3.1/4.0) */
	ck_assert_int_eq(q_msg_encode(&m, buf, sizeof(buf)), Q_ENC_E_MANDATORY);
	sample_msg(Q_MSG_CONNECT, &m);
	m.qos.present = true; /* CONNECT has no QoS parameter IE */
	ck_assert_int_eq(q_msg_encode(&m, buf, sizeof(buf)), Q_ENC_E_INVAL);
}
END_TEST

START_TEST(too_many_add_party_both_numbers)
{
	ck_assert_uint_eq(Q_CAUSE_TOO_MANY_ADD_PARTY, 32);
	ck_assert_uint_eq(q_cause_canonical(32), Q_CAUSE_TOO_MANY_ADD_PARTY);
	ck_assert_uint_eq(q_cause_canonical(92), Q_CAUSE_TOO_MANY_ADD_PARTY);
	for (unsigned v = 0; v < 128; v++)
		if (v != 92)
			ck_assert_uint_eq(q_cause_canonical((uint8_t)v), v);
	ck_assert_str_eq(q_cause_name(32), q_cause_name(92));
}
END_TEST

START_TEST(cell_rate_never_lowers_a_rate)
{
	ck_assert_uint_eq(q_kbps_to_cells(1000), 2359);
	ck_assert_uint_eq(q_cells_to_kbps(2359), 1000);
	ck_assert_uint_eq(q_kbps_to_cells(0), 0);
	/* every rate up to 200 Mbit/s, then a sweep to the largest that fits 24 bits */
	const uint32_t top = (uint32_t)((uint64_t)0xffffff * 424 / 1000);
	for (uint32_t k = 0; k <= top; k = k < 200000 ? k + 1 : k + 997) {
		uint32_t cells = q_kbps_to_cells(k);
		ck_assert_msg((uint64_t)cells * 424 >= (uint64_t)k * 1000, "%u kbit/s lowered", k);
		ck_assert_msg(q_cells_to_kbps(cells) == k, "%u kbit/s reads back as %u", k,
			      q_cells_to_kbps(cells));
	}
	ck_assert_uint_eq(q_cells_to_kbps(q_kbps_to_cells(top)), top);
	ck_assert_uint_eq(q_kbps_to_cells(top + 1000), 0xffffff); /* saturates */
}
END_TEST

/* ---- names and addresses ------------------------------------------------ */

START_TEST(names)
{
	ck_assert_str_eq(q_msg_type_name(Q_MSG_DROP_PARTY_ACK), "DROP PARTY ACKNOWLEDGE");
	ck_assert_str_eq(q_msg_type_name(Q_MSG_SETUP), "SETUP");
	ck_assert_str_eq(q_msg_type_name(Q_MSG_NOTIFY), "NOTIFY");
	ck_assert_str_eq(q_msg_type_name(0x99), "unknown");
	for (size_t i = 0; i < N_SAMPLE_TYPES; i++)
		ck_assert_str_ne(q_msg_type_name(sample_types[i]), "unknown");
	ck_assert_str_eq(q_cause_name(89), "invalid endpoint reference");
	ck_assert_str_eq(q_cause_name(102), "recovery on timer expiry");
	ck_assert_str_eq(q_cause_name(0), "unknown cause");
	static const uint8_t causes[] = {1,  3,  16, 17, 18, 21, 27, 30, 31,  41,  47, 81,
					 88, 89, 92, 96, 97, 99, 100, 101, 102, 111};
	for (size_t i = 0; i < sizeof(causes); i++)
		ck_assert_str_ne(q_cause_name(causes[i]), "unknown cause");
	ck_assert_str_eq(q_ie_name(Q_IE_EPREF), "endpoint reference");
	ck_assert_str_eq(q_ie_name(0x42), "unknown IE");
}
END_TEST

int main(void)
{
	CK_RUN_CASES("q2931", CK_FORK_GETENV,
		CK_CASE("codec", NULL, NULL, 120, CK_TEST(every_message_type_round_trips),
			CK_TEST(boundary_values_round_trip), CK_TEST(setup_vector),
			CK_TEST(drop_party_vector), CK_TEST(status_vector), CK_TEST(restart_vector),
			CK_TEST(alternative_codings_decode),
			CK_TEST(blli_without_user_l3_is_valid_but_names_no_sap),
			CK_TEST(short_header_is_dropped),
			CK_TEST(bad_protocol_discriminator_is_dropped),
			CK_TEST(bad_call_reference_length_is_dropped),
			CK_TEST(truncation_at_every_offset), CK_TEST(truncated_ie_names_the_ie),
			CK_TEST(trailing_octets_after_message_are_ignored),
			CK_TEST(unknown_message_type_is_97), CK_TEST(missing_mandatory_ie_is_96),
			CK_TEST(optional_ies_may_be_absent),
			CK_TEST(encoder_refuses_missing_mandatory_ie),
			CK_TEST(bad_mandatory_ie_contents_is_100),
			CK_TEST(ie_length_past_message_is_100),
			CK_TEST(bad_optional_ie_is_discarded_and_reported),
			CK_TEST(invalid_contents_of_each_ie),
			CK_TEST(address_with_other_plan_or_length_is_100),
			CK_TEST(oversized_user_user),
			CK_TEST(unrecognised_ie_follows_action_indicator),
			CK_TEST(ie_not_expected_in_message_is_unrecognised),
			CK_TEST(verdict_follows_each_ie_action_indicator),
			CK_TEST(verdict_invalid_optional_ie_reports_100),
			CK_TEST(verdict_mandatory_missing_lists_every_ie),
			CK_TEST(verdict_conditional_mandatory_invalid_is_missing),
			CK_TEST(verdict_mandatory_invalid_is_100_or_its_action),
			CK_TEST(verdict_unknown_message_type_follows_message_action),
			CK_TEST(verdict_precedence_and_ie_list),
			CK_TEST(verdict_ie_list_is_bounded),
			CK_TEST(qos_coding_standard_follows_class),
			CK_TEST(too_many_add_party_both_numbers),
			CK_TEST(cell_rate_never_lowers_a_rate),
			CK_TEST(first_report_wins_and_reject_overrides),
			CK_TEST(repeated_ie_first_counts),
			CK_TEST(two_causes_fill_cause_and_cause2_third_ignored),
			CK_TEST(encoder_never_writes_past_cap),
			CK_TEST(encoder_refuses_values_that_do_not_fit),
			CK_TEST(cause_diagnostic_kept_unless_it_ends_the_message),
			CK_TEST(mutated_messages_never_crash), CK_TEST(names)));
}
