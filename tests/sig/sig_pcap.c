/* SPDX-License-Identifier: MIT */
/*
 * Writes a pcap of callmgr frames, one encoded Q.2931 message in each, for
 * Wireshark to judge (tshark_check.py).  Frame: Ethernet II, EtherType
 * 0x88B5, 2-octet SSCOP PDU length, SSCOP SD PDU (payload, pad to 4 octets,
 * trailer: PL in bits 8-7 and type 0x8 in bits 4-1 of the first octet, then
 * N(S)), zero padding to the 60-octet Ethernet minimum.
 * stdout: per frame "TYPE MSGLEN IE,IE,..." in hex, what Wireshark must see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig/q2931.h"
#include "sig_samples.h"
#include "../pcap_file.h"

static FILE *out;
static unsigned frame_no;

static void emit(const struct q_msg *m)
{
	uint8_t msg[1024];
	int n = q_msg_encode(m, msg, sizeof(msg));
	if (n < 0) {
		fprintf(stderr, "encode %s failed: %d\n", q_msg_type_name(m->type), n);
		exit(1);
	}
	uint8_t f[1200] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5};
	size_t pad = (4 - n % 4) % 4;
	size_t pdu = n + pad + 4;
	f[14] = pdu >> 8;
	f[15] = pdu & 0xff;
	memcpy(f + 16, msg, n);
	uint8_t *trailer = f + 16 + n + pad;
	trailer[0] = (uint8_t)(pad << 6 | 0x08); /* SD */
	trailer[1] = 0;
	trailer[2] = (frame_no >> 8) & 0xff; /* N(S) */
	trailer[3] = frame_no & 0xff;
	size_t flen = 16 + pdu;
	if (flen < 60)
		flen = 60;

	pcap_write_frame(out, 1700000000 + frame_no, f, flen);
	frame_no++;

	printf("%02x %d ", m->type, n - Q_HDR_LEN);
	const char *sep = "";
	for (int off = Q_HDR_LEN; off + 4 <= n; off += 4 + (msg[off + 2] << 8 | msg[off + 3])) {
		printf("%s%02x", sep, msg[off]);
		sep = ",";
	}
	printf("%s\n", *sep ? "" : "-");
}

/* Drops every IE the encoder does not insist on. */
static void minimal(uint8_t type, struct q_msg *m)
{
	uint8_t buf[1024];
	sample_msg(type, m);
#define TRY_DROP(field)                                                                        \
	do {                                                                                   \
		struct q_msg keep = *m;                                                        \
		field = false;                                                                 \
		if (q_msg_encode(m, buf, sizeof(buf)) < 0)                                     \
			*m = keep;                                                             \
	} while (0)
	TRY_DROP(m->cause2.present);
	TRY_DROP(m->cause.present);
	TRY_DROP(m->call_state_present);
	TRY_DROP(m->ep_state_present);
	TRY_DROP(m->aal.present);
	TRY_DROP(m->traffic.present);
	TRY_DROP(m->bearer.present);
	TRY_DROP(m->blli.present);
	TRY_DROP(m->called.present);
	TRY_DROP(m->calling.present);
	TRY_DROP(m->conn_id.present);
	TRY_DROP(m->qos.present);
	TRY_DROP(m->epref.present);
	TRY_DROP(m->restart.present);
	TRY_DROP(m->uu.present);
#undef TRY_DROP
}

static void cause_only(uint8_t type, uint8_t value, uint8_t diag_len, const char *diag,
		       bool with_epref)
{
	struct q_msg m = {.type = type, .cref = 42, .cref_flag = true};
	m.cause.present = true;
	m.cause.value = value;
	m.cause.diag_len = diag_len;
	memcpy(m.cause.diag, diag, diag_len);
	m.epref.present = with_epref;
	m.epref.value = 3;
	emit(&m);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT.pcap\n", argv[0]);
		return 2;
	}
	out = fopen(argv[1], "wb");
	if (out == NULL) {
		perror(argv[1]);
		return 1;
	}
	pcap_write_header(out);

	struct q_msg m;
	for (size_t i = 0; i < N_SAMPLE_TYPES; i++) {
		sample_msg(sample_types[i], &m);
		emit(&m);
		minimal(sample_types[i], &m);
		emit(&m);
	}
	/* Point-to-point SETUP, other AESA formats, no best effort. */
	sample_msg(Q_MSG_SETUP, &m);
	m.bearer.p2mp = false;
	m.epref.present = false;
	m.uu.present = false;
	m.traffic.best_effort = false;
	m.called.aesa[0] = 0x45; /* E.164 ATM format */
	m.calling.aesa[0] = 0x39; /* DCC */
	emit(&m);
	/* Cause diagnostics the way call control sends them (Q.2931 §5.6). */
	cause_only(Q_MSG_RELEASE_COMPLETE, Q_CAUSE_MANDATORY_IE_MISSING, 1, "\x70", false);
	cause_only(Q_MSG_RELEASE_COMPLETE, Q_CAUSE_INVALID_IE_CONTENTS, 1, "\x54", false);
	cause_only(Q_MSG_RELEASE_COMPLETE, Q_CAUSE_IE_NONEXISTENT, 2, "\x42\x43", false);
	cause_only(Q_MSG_RELEASE_COMPLETE, Q_CAUSE_MSG_TYPE_NONEXISTENT, 1, "\x99", false);
	cause_only(Q_MSG_RELEASE, Q_CAUSE_RECOVERY_ON_TIMER, 3, "308", false);
	cause_only(Q_MSG_RELEASE, Q_CAUSE_INCOMPATIBLE_DEST, 0, "", false);
	cause_only(Q_MSG_DROP_PARTY_ACK, Q_CAUSE_INVALID_EPREF, 0, "", true);
	cause_only(Q_MSG_DROP_PARTY_ACK, Q_CAUSE_RECOVERY_ON_TIMER, 3, "398", true);
	cause_only(Q_MSG_DROP_PARTY, Q_CAUSE_INVALID_IE_CONTENTS, 1, "\x7e", true);
	cause_only(Q_MSG_ADD_PARTY_REJECT, Q_CAUSE_CALL_REJECTED, 0, "", true);
	cause_only(Q_MSG_ADD_PARTY_REJECT, Q_CAUSE_RECOVERY_ON_TIMER, 3, "399", true);
	cause_only(Q_MSG_ADD_PARTY_REJECT, Q_CAUSE_TOO_MANY_ADD_PARTY, 0, "", true);
	struct q_msg st = {.type = Q_MSG_STATUS, .cref = 9};
	st.cause = (struct q_ie_cause){.present = true, .value = Q_CAUSE_MANDATORY_IE_MISSING,
				       .diag_len = 1, .diag = {Q_IE_EPREF}};
	st.call_state_present = true;
	st.call_state = 0;
	emit(&st);
	st.cause = (struct q_ie_cause){.present = true, .value = Q_CAUSE_MSG_NOT_COMPATIBLE,
				       .diag_len = 1, .diag = {Q_MSG_DROP_PARTY}};
	st.call_state = 11;
	emit(&st);
	/* RELEASE carrying a second cause that would end the message */
	sample_msg(Q_MSG_RELEASE, &m);
	m.uu.present = false;
	m.cause2 = (struct q_ie_cause){.present = true, .value = Q_CAUSE_MANDATORY_IE_MISSING,
				       .diag_len = 1, .diag = {Q_IE_CALLED}};
	emit(&m);

	if (fclose(out) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
