/* SPDX-License-Identifier: MIT */
/*
 * Q.2931 / Q.2971 message codec.  Pure: bytes in, struct q_msg out and back.
 * Octet layouts follow Q.2931 §4 as FreeBSD ngatm and Wireshark read them;
 * docs/wire.md shows each one.  The decoder classifies every fault by the
 * error procedures of Q.2931 §5.6 so that call control only has to act.
 */
#include "sig/q2931.h"

#include <string.h>

/* One bit per IE this codec knows, to describe what a message may carry. */
enum ie_bit {
	B_CAUSE = 1u << 0,
	B_CALL_STATE = 1u << 1,
	B_EPREF = 1u << 2,
	B_EPSTATE = 1u << 3,
	B_AAL = 1u << 4,
	B_TRAFFIC = 1u << 5,
	B_BEARER = 1u << 6,
	B_BLLI = 1u << 7,
	B_CALLED = 1u << 8,
	B_CALLING = 1u << 9,
	B_CONN_ID = 1u << 10,
	B_QOS = 1u << 11,
	B_RESTART = 1u << 12,
	B_UU = 1u << 13,
};

struct msg_rule {
	uint8_t type;
	const char *name;
	uint32_t allowed;
	uint32_t mandatory; /* conditional ones are in conditional_mandatory() */
};

/*
 * Which IEs each message may carry and which it must carry: Q.2931 §3 and
 * Q.2971 §3 message tables (UNI 3.1/4.0 use the same), restricted to the
 * IEs of struct q_msg.  RELEASE COMPLETE's cause is mandatory only when it
 * is the first clearing message, which only call control knows.
 */
static const struct msg_rule msg_rules[] = {
	{Q_MSG_ALERTING, "ALERTING", B_CONN_ID | B_EPREF | B_UU, 0},
	{Q_MSG_CALL_PROCEEDING, "CALL PROCEEDING", B_CONN_ID | B_EPREF, 0},
	{Q_MSG_SETUP, "SETUP",
	 B_AAL | B_TRAFFIC | B_BEARER | B_BLLI | B_CALLED | B_CALLING | B_CONN_ID | B_QOS |
		 B_EPREF | B_UU,
	 B_TRAFFIC | B_BEARER | B_CALLED | B_QOS},
	{Q_MSG_CONNECT, "CONNECT", B_AAL | B_TRAFFIC | B_BLLI | B_CONN_ID | B_EPREF | B_UU, 0},
	{Q_MSG_CONNECT_ACK, "CONNECT ACKNOWLEDGE", 0, 0},
	{Q_MSG_RELEASE, "RELEASE", B_CAUSE | B_UU, B_CAUSE},
	{Q_MSG_RELEASE_COMPLETE, "RELEASE COMPLETE", B_CAUSE | B_UU, 0},
	{Q_MSG_STATUS, "STATUS", B_CAUSE | B_CALL_STATE | B_EPREF | B_EPSTATE,
	 B_CAUSE | B_CALL_STATE},
	{Q_MSG_STATUS_ENQUIRY, "STATUS ENQUIRY", B_EPREF, 0},
	{Q_MSG_ADD_PARTY, "ADD PARTY", B_AAL | B_BLLI | B_CALLED | B_CALLING | B_EPREF | B_UU,
	 B_CALLED | B_EPREF},
	{Q_MSG_ADD_PARTY_ACK, "ADD PARTY ACKNOWLEDGE", B_AAL | B_BLLI | B_EPREF | B_UU, B_EPREF},
	{Q_MSG_ADD_PARTY_REJECT, "ADD PARTY REJECT", B_CAUSE | B_EPREF | B_UU, B_CAUSE | B_EPREF},
	{Q_MSG_DROP_PARTY, "DROP PARTY", B_CAUSE | B_EPREF | B_UU, B_CAUSE | B_EPREF},
	{Q_MSG_DROP_PARTY_ACK, "DROP PARTY ACKNOWLEDGE", B_CAUSE | B_EPREF | B_UU, B_EPREF},
	{Q_MSG_PARTY_ALERTING, "PARTY ALERTING", B_EPREF | B_UU, B_EPREF},
	{Q_MSG_RESTART, "RESTART", B_CONN_ID | B_RESTART, B_RESTART},
	{Q_MSG_RESTART_ACK, "RESTART ACKNOWLEDGE", B_CONN_ID | B_RESTART, B_RESTART},
};

static const struct msg_rule *msg_rule_find(uint8_t type)
{
	for (size_t i = 0; i < sizeof(msg_rules) / sizeof(msg_rules[0]); i++)
		if (msg_rules[i].type == type)
			return &msg_rules[i];
	return NULL;
}

static uint32_t ie_bit_of(uint8_t id)
{
	switch (id) {
	case Q_IE_CAUSE:
		return B_CAUSE;
	case Q_IE_CALL_STATE:
		return B_CALL_STATE;
	case Q_IE_EPREF:
		return B_EPREF;
	case Q_IE_EPSTATE:
		return B_EPSTATE;
	case Q_IE_AAL:
		return B_AAL;
	case Q_IE_TRAFFIC:
		return B_TRAFFIC;
	case Q_IE_BEARER:
		return B_BEARER;
	case Q_IE_BLLI:
		return B_BLLI;
	case Q_IE_CALLED:
		return B_CALLED;
	case Q_IE_CALLING:
		return B_CALLING;
	case Q_IE_CONN_ID:
		return B_CONN_ID;
	case Q_IE_QOS:
		return B_QOS;
	case Q_IE_RESTART:
		return B_RESTART;
	case Q_IE_UU:
		return B_UU;
	}
	return 0;
}

static uint8_t ie_id_of(uint32_t bit)
{
	static const uint8_t ids[] = {
		Q_IE_CAUSE,   Q_IE_CALL_STATE, Q_IE_EPREF,   Q_IE_EPSTATE, Q_IE_AAL,
		Q_IE_TRAFFIC, Q_IE_BEARER,     Q_IE_BLLI,    Q_IE_CALLED,  Q_IE_CALLING,
		Q_IE_CONN_ID, Q_IE_QOS,        Q_IE_RESTART, Q_IE_UU,
	};
	for (unsigned i = 0; i < sizeof(ids); i++)
		if (bit == 1u << i)
			return ids[i];
	return 0;
}

/*
 * IEs that are mandatory only in some cases: a point-to-multipoint SETUP
 * names its first party (Q.2971 §3.1); restarting one VC names it (Q.2931
 * §5.5).
 */
static uint32_t conditional_mandatory(const struct q_msg *m)
{
	switch (m->type) {
	case Q_MSG_SETUP:
		return m->bearer.present && m->bearer.p2mp ? B_EPREF : 0;
	case Q_MSG_RESTART:
	case Q_MSG_RESTART_ACK:
		return m->restart.present && m->restart.rclass == Q_RESTART_VC ? B_CONN_ID : 0;
	}
	return 0;
}

static uint32_t present_set(const struct q_msg *m)
{
	uint32_t s = 0;

	if (m->cause.present || m->cause2.present)
		s |= B_CAUSE;
	if (m->call_state_present)
		s |= B_CALL_STATE;
	if (m->epref.present)
		s |= B_EPREF;
	if (m->ep_state_present)
		s |= B_EPSTATE;
	if (m->aal.present)
		s |= B_AAL;
	if (m->traffic.present)
		s |= B_TRAFFIC;
	if (m->bearer.present)
		s |= B_BEARER;
	if (m->blli.present)
		s |= B_BLLI;
	if (m->called.present)
		s |= B_CALLED;
	if (m->calling.present)
		s |= B_CALLING;
	if (m->conn_id.present)
		s |= B_CONN_ID;
	if (m->qos.present)
		s |= B_QOS;
	if (m->restart.present)
		s |= B_RESTART;
	if (m->uu.present)
		s |= B_UU;
	return s;
}

/* ---- encoder ---------------------------------------------------------- */

struct writer {
	uint8_t *buf;
	size_t cap;
	size_t pos;
	bool overflow;
};

static void put8(struct writer *w, uint8_t v)
{
	if (w->pos >= w->cap) {
		w->overflow = true;
		return;
	}
	w->buf[w->pos++] = v;
}

static void put16(struct writer *w, uint16_t v)
{
	put8(w, v >> 8);
	put8(w, v & 0xff);
}

static void put24(struct writer *w, uint32_t v)
{
	put8(w, (v >> 16) & 0xff);
	put8(w, (v >> 8) & 0xff);
	put8(w, v & 0xff);
}

static void put_bytes(struct writer *w, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(w, p[i]);
}

#define CODING_ITU 0x00
#define CODING_ATMF 0x60 /* "ATM Forum specific", UNI 3.1/4.0 §4.5.1 */

/*
 * IE header: identifier; extension bit, the coding standard, "regular
 * error handling" (Q.2931 §4.5.1); length patched by ie_end().
 */
static size_t ie_begin_coded(struct writer *w, uint8_t id, uint8_t coding)
{
	put8(w, id);
	put8(w, 0x80 | coding);
	size_t at = w->pos;
	put16(w, 0);
	return at;
}

static size_t ie_begin(struct writer *w, uint8_t id)
{
	return ie_begin_coded(w, id, CODING_ITU);
}

static void ie_end(struct writer *w, size_t len_at)
{
	if (w->overflow)
		return;
	size_t len = w->pos - len_at - 2;
	w->buf[len_at] = len >> 8;
	w->buf[len_at + 1] = len & 0xff;
}

/*
 * Causes whose diagnostic Wireshark 4.0 reads as a list of identifiers
 * with a loop that runs one octet past it (and 22, read as a whole IE).
 * Inside a message that octet is the next IE's and nothing shows; at the
 * end of a message it is a Malformed Packet.  The diagnostic is optional
 * (Q.2931 §4.5.12), so a cause IE that ends the message goes without it.
 */
static bool diag_unsafe_at_end(uint8_t value)
{
	switch (value) {
	case 22:
	case 37:
	case 43:
	case Q_CAUSE_INCOMPATIBLE_DEST:
	case Q_CAUSE_MANDATORY_IE_MISSING:
	case Q_CAUSE_IE_NONEXISTENT:
	case Q_CAUSE_INVALID_IE_CONTENTS:
		return true;
	}
	return false;
}

static int enc_cause(struct writer *w, const struct q_ie_cause *c, bool last)
{
	if (c->location > 0x0f || c->value > 0x7f || c->diag_len > sizeof(c->diag))
		return Q_ENC_E_INVAL;
	size_t at = ie_begin(w, Q_IE_CAUSE);
	put8(w, 0x80 | c->location);
	put8(w, 0x80 | c->value);
	if (!(last && diag_unsafe_at_end(c->value)) && c->value != 22)
		put_bytes(w, c->diag, c->diag_len);
	ie_end(w, at);
	return 0;
}

static void enc_address(struct writer *w, uint8_t id, const struct q_ie_address *a)
{
	size_t at = ie_begin(w, id);
	put8(w, 0x80 | 0x02); /* no octet 5a, type "unknown", plan ISO NSAP (AESA) */
	put_bytes(w, a->aesa, Q_AESA_LEN);
	ie_end(w, at);
}

static int check_values(const struct q_msg *m)
{
	if (m->cref > Q_CREF_MAX)
		return Q_ENC_E_INVAL;
	if (m->call_state_present && m->call_state > 0x3f)
		return Q_ENC_E_INVAL;
	if (m->epref.present && m->epref.value > Q_EPREF_MAX)
		return Q_ENC_E_INVAL;
	if (m->ep_state_present && m->ep_state > 0x3f)
		return Q_ENC_E_INVAL;
	if (m->aal.present && (m->aal.fwd_max_sdu > 0xffff || m->aal.bwd_max_sdu > 0xffff))
		return Q_ENC_E_INVAL;
	if (m->traffic.present &&
	    (m->traffic.fwd_peak_cr > 0xffffff || m->traffic.bwd_peak_cr > 0xffffff))
		return Q_ENC_E_INVAL;
	if (m->bearer.present && (m->bearer.bearer_class == 0 || m->bearer.bearer_class > 0x1f))
		return Q_ENC_E_INVAL;
	if (m->blli.present && m->blli.user_l3 > Q_BLLI_USER_L3_MAX)
		return Q_ENC_E_INVAL;
	if (m->restart.present && m->restart.rclass > 2)
		return Q_ENC_E_INVAL;
	if (m->cause2.present && !m->cause.present)
		return Q_ENC_E_INVAL;
	if (m->qos.present && (m->qos.fwd_class > Q_QOS_CLASS_MAX ||
			       m->qos.bwd_class > Q_QOS_CLASS_MAX ||
			       (m->qos.fwd_class == 0) != (m->qos.bwd_class == 0)))
		return Q_ENC_E_INVAL;
	if (m->uu.present && m->uu.len > Q_UU_MAX)
		return Q_ENC_E_TOO_BIG;
	return 0;
}

int q_msg_encode(const struct q_msg *m, uint8_t *buf, size_t cap)
{
	const struct msg_rule *rule = msg_rule_find(m->type);
	if (rule == NULL)
		return Q_ENC_E_INVAL;
	int rc = check_values(m);
	if (rc < 0)
		return rc;
	uint32_t present = present_set(m);
	if (present & ~rule->allowed)
		return Q_ENC_E_INVAL;
	uint32_t need = rule->mandatory | conditional_mandatory(m);
	if ((present & need) != need)
		return Q_ENC_E_MANDATORY;

	struct writer w = {.buf = buf, .cap = cap};
	put8(&w, Q_PD);
	put8(&w, 3);
	put24(&w, (m->cref_flag ? 0x800000u : 0) | m->cref);
	put8(&w, m->type);
	put8(&w, 0x80); /* message compatibility: regular error handling */
	put16(&w, 0);   /* patched below */

	/* Canonical order; the cause IE ends the message only if nothing follows it. */
	uint32_t after_cause = present & ~B_CAUSE;
	if (m->cause.present) {
		rc = enc_cause(&w, &m->cause, !m->cause2.present && !after_cause);
		if (rc < 0)
			return rc;
	}
	if (m->cause2.present) {
		rc = enc_cause(&w, &m->cause2, !after_cause);
		if (rc < 0)
			return rc;
	}
	if (m->call_state_present) {
		size_t at = ie_begin(&w, Q_IE_CALL_STATE);
		put8(&w, m->call_state);
		ie_end(&w, at);
	}
	if (m->aal.present) {
		size_t at = ie_begin(&w, Q_IE_AAL);
		put8(&w, 0x05); /* AAL type 5 */
		put8(&w, 0x8c); /* forward maximum CPCS-SDU size */
		put16(&w, m->aal.fwd_max_sdu);
		put8(&w, 0x81); /* backward maximum CPCS-SDU size */
		put16(&w, m->aal.bwd_max_sdu);
		ie_end(&w, at);
	}
	if (m->traffic.present) {
		size_t at = ie_begin(&w, Q_IE_TRAFFIC);
		put8(&w, 0x84); /* forward peak cell rate, CLP 0+1 */
		put24(&w, m->traffic.fwd_peak_cr);
		put8(&w, 0x85); /* backward peak cell rate, CLP 0+1 */
		put24(&w, m->traffic.bwd_peak_cr);
		if (m->traffic.best_effort)
			put8(&w, 0xbe);
		ie_end(&w, at);
	}
	if (m->bearer.present) {
		size_t at = ie_begin(&w, Q_IE_BEARER);
		put8(&w, 0x80 | m->bearer.bearer_class); /* no octet 5a */
		put8(&w, 0x80 | (m->bearer.p2mp ? 0x01 : 0x00)); /* not clipped; UPCC */
		ie_end(&w, at);
	}
	if (m->blli.present) {
		size_t at = ie_begin(&w, Q_IE_BLLI);
		put8(&w, 0x60 | 0x10); /* layer 3 id, user specified, octet 7a follows */
		put8(&w, 0x80 | m->blli.user_l3);
		ie_end(&w, at);
	}
	if (m->called.present)
		enc_address(&w, Q_IE_CALLED, &m->called);
	if (m->calling.present)
		enc_address(&w, Q_IE_CALLING, &m->calling);
	if (m->conn_id.present) {
		size_t at = ie_begin(&w, Q_IE_CONN_ID);
		put8(&w, 0x80 | 0x08); /* explicit VPCI; exclusive VPCI and VCI */
		put16(&w, m->conn_id.vpci);
		put16(&w, m->conn_id.vci);
		ie_end(&w, at);
	}
	if (m->qos.present) {
		/* Class 0 exists only in the ITU-T coding, 1-4 only in the ATM Forum one. */
		size_t at = ie_begin_coded(&w, Q_IE_QOS,
					   m->qos.fwd_class ? CODING_ATMF : CODING_ITU);
		put8(&w, m->qos.fwd_class);
		put8(&w, m->qos.bwd_class);
		ie_end(&w, at);
	}
	if (m->epref.present) {
		size_t at = ie_begin(&w, Q_IE_EPREF);
		put8(&w, 0x00); /* locally defined integer */
		put16(&w, (m->epref.flag ? 0x8000 : 0) | m->epref.value);
		ie_end(&w, at);
	}
	if (m->ep_state_present) {
		size_t at = ie_begin(&w, Q_IE_EPSTATE);
		put8(&w, m->ep_state);
		ie_end(&w, at);
	}
	if (m->restart.present) {
		size_t at = ie_begin(&w, Q_IE_RESTART);
		put8(&w, 0x80 | m->restart.rclass);
		ie_end(&w, at);
	}
	if (m->uu.present) {
		size_t at = ie_begin(&w, Q_IE_UU);
		put8(&w, 0x00); /* Q.2957 protocol discriminator: user-specific */
		put_bytes(&w, m->uu.data, m->uu.len);
		ie_end(&w, at);
	}

	if (w.overflow)
		return Q_ENC_E_NOSPACE;
	size_t body = w.pos - Q_HDR_LEN;
	buf[7] = body >> 8;
	buf[8] = body & 0xff;
	return (int)w.pos;
}

/* ---- decoder ---------------------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Each dec_* returns 0, or -1 for contents Q.2931 calls invalid (cause 100). */

static int dec_cause(const uint8_t *p, size_t n, struct q_ie_cause *c)
{
	if (n < 2 || !(p[0] & 0x80) || !(p[1] & 0x80))
		return -1;
	c->location = p[0] & 0x0f;
	c->value = p[1] & 0x7f;
	/* Diagnostics beyond what the struct holds are informational only. */
	size_t d = n - 2;
	if (d > sizeof(c->diag))
		d = sizeof(c->diag);
	c->diag_len = (uint8_t)d;
	memcpy(c->diag, p + 2, d);
	c->present = true;
	return 0;
}

static int dec_epref(const uint8_t *p, size_t n, struct q_ie_epref *e)
{
	if (n != 3 || p[0] != 0x00)
		return -1;
	e->flag = (p[1] & 0x80) != 0;
	e->value = get16(p + 1) & Q_EPREF_MAX;
	e->present = true;
	return 0;
}

static int dec_aal(const uint8_t *p, size_t n, struct q_ie_aal *a)
{
	if (n < 1 || p[0] != 0x05)
		return -1;
	size_t i = 1;
	while (i < n) {
		uint8_t id = p[i++];
		size_t need;
		switch (id) {
		case 0x8c: /* forward maximum CPCS-SDU size */
		case 0x81: /* backward maximum CPCS-SDU size */
			need = 2;
			break;
		case 0x83: /* mode (UNI 3.0) */
		case 0x84: /* SSCS type */
			need = 1;
			break;
		default:
			return -1;
		}
		if (n - i < need)
			return -1;
		if (id == 0x8c)
			a->fwd_max_sdu = get16(p + i);
		else if (id == 0x81)
			a->bwd_max_sdu = get16(p + i);
		i += need;
	}
	a->present = true;
	return 0;
}

static int dec_traffic(const uint8_t *p, size_t n, struct q_ie_traffic *t)
{
	size_t i = 0;
	while (i < n) {
		uint8_t id = p[i++];
		switch (id) {
		case 0x82: case 0x83: case 0x84: case 0x85: /* peak cell rates */
		case 0x88: case 0x89: case 0x90: case 0x91: /* sustainable cell rates */
		case 0xa0: case 0xa1: case 0xb0: case 0xb1: /* maximum burst sizes */
			if (n - i < 3)
				return -1;
			if (id == 0x84)
				t->fwd_peak_cr = get24(p + i);
			else if (id == 0x85)
				t->bwd_peak_cr = get24(p + i);
			i += 3;
			break;
		case 0xbe: /* best effort indicator: identifier only */
			t->best_effort = true;
			break;
		case 0xbf: /* traffic management options */
			if (n - i < 1)
				return -1;
			i += 1;
			break;
		default:
			return -1;
		}
	}
	t->present = true;
	return 0;
}

static int dec_bearer(const uint8_t *p, size_t n, struct q_ie_bearer *b)
{
	if (n < 2)
		return -1;
	size_t i = 1;
	if (!(p[0] & 0x80))
		i = 2; /* octet 5a: ATM transfer capability */
	if (n != i + 1 || !(p[i] & 0x80))
		return -1;
	uint8_t upcc = p[i] & 0x03;
	if (upcc > 1)
		return -1;
	/* Bearer class 0 is reserved (Q.2931 §4.5.5); the encoder refuses it
	 * too, so accepting it would hand call control a SETUP it cannot echo. */
	if ((p[0] & 0x1f) == 0)
		return -1;
	b->bearer_class = p[0] & 0x1f;
	b->p2mp = upcc == 1;
	b->present = true;
	return 0;
}

static int dec_address(const uint8_t *p, size_t n, struct q_ie_address *a)
{
	if (n < 1 || (p[0] & 0x0f) != 0x02) /* only the ISO NSAP (AESA) plan */
		return -1;
	size_t i = (p[0] & 0x80) ? 1 : 2; /* octet 5a: presentation/screening */
	if (n != i + Q_AESA_LEN)
		return -1;
	memcpy(a->aesa, p + i, Q_AESA_LEN);
	a->present = true;
	return 0;
}

/*
 * Broadband low-layer information (Q.2931 §4.5.8): groups of octets for
 * layers 1, 2 and 3, each chained by extension bits.  Only a user-specified
 * layer 3 protocol names a SAP; any other valid coding leaves present
 * false, so call control sees a call that names no SAP.
 */
static int dec_blli(const uint8_t *p, size_t n, struct q_ie_blli *b)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i++];
		switch ((c >> 5) & 0x03) {
		case 1: /* layer 1: one octet */
			if (!(c & 0x80))
				return -1;
			break;
		case 2: /* layer 2: up to two more octets, ext-chained */
			while (!(c & 0x80)) {
				if (i >= n)
					return -1;
				c = p[i++];
			}
			break;
		case 3: /* layer 3 */
			if ((c & 0x1f) == 0x10 && !(c & 0x80)) {
				if (i >= n || !(p[i] & 0x80))
					return -1;
				b->user_l3 = p[i++] & 0x7f;
				b->present = true;
				break;
			}
			/* Other layer 3 codings (TR 9577, SNAP) are not ours to read. */
			return 0;
		default:
			return -1;
		}
	}
	return 0;
}

static int dec_ie(uint8_t id, const uint8_t *p, size_t n, struct q_msg *m)
{
	switch (id) {
	case Q_IE_CAUSE:
		return dec_cause(p, n, m->cause.present ? &m->cause2 : &m->cause);
	case Q_IE_CALL_STATE:
		if (n != 1)
			return -1;
		m->call_state = p[0] & 0x3f;
		m->call_state_present = true;
		return 0;
	case Q_IE_EPREF:
		return dec_epref(p, n, &m->epref);
	case Q_IE_EPSTATE:
		if (n != 1)
			return -1;
		m->ep_state = p[0] & 0x3f;
		m->ep_state_present = true;
		return 0;
	case Q_IE_AAL:
		return dec_aal(p, n, &m->aal);
	case Q_IE_TRAFFIC:
		return dec_traffic(p, n, &m->traffic);
	case Q_IE_BEARER:
		return dec_bearer(p, n, &m->bearer);
	case Q_IE_BLLI:
		return dec_blli(p, n, &m->blli);
	case Q_IE_CALLED:
		return dec_address(p, n, &m->called);
	case Q_IE_CALLING:
		return dec_address(p, n, &m->calling);
	case Q_IE_CONN_ID:
		if (n != 5)
			return -1;
		m->conn_id.vpci = get16(p + 1);
		m->conn_id.vci = get16(p + 3);
		m->conn_id.present = true;
		return 0;
	case Q_IE_QOS:
		/* Either coding standard, classes 0-4, but not 0 with 1-4: no
		 * coding holds that pair (docs/wire.md, "QoS"). */
		if (n != 2 || p[0] > Q_QOS_CLASS_MAX || p[1] > Q_QOS_CLASS_MAX ||
		    (p[0] == 0) != (p[1] == 0))
			return -1;
		m->qos.fwd_class = p[0];
		m->qos.bwd_class = p[1];
		m->qos.present = true;
		return 0;
	case Q_IE_RESTART:
		if (n != 1 || (p[0] & 0x07) > 2)
			return -1;
		m->restart.rclass = p[0] & 0x07;
		m->restart.present = true;
		return 0;
	case Q_IE_UU:
		/* Octet 5 is the user's protocol discriminator; the rest is data. */
		if (n < 1 || n - 1 > Q_UU_MAX)
			return -1;
		m->uu.len = (uint8_t)(n - 1);
		memcpy(m->uu.data, p + 1, n - 1);
		m->uu.present = true;
		return 0;
	}
	return -1;
}

/* Forgets a half-decoded IE that was found invalid and is discarded. */
static void forget_ie(uint8_t id, struct q_msg *m, bool was_second_cause)
{
	switch (id) {
	case Q_IE_CAUSE:
		memset(was_second_cause ? &m->cause2 : &m->cause, 0, sizeof(m->cause));
		break;
	case Q_IE_CALL_STATE:
		m->call_state_present = false;
		break;
	case Q_IE_EPREF:
		memset(&m->epref, 0, sizeof(m->epref));
		break;
	case Q_IE_EPSTATE:
		m->ep_state_present = false;
		break;
	case Q_IE_AAL:
		memset(&m->aal, 0, sizeof(m->aal));
		break;
	case Q_IE_TRAFFIC:
		memset(&m->traffic, 0, sizeof(m->traffic));
		break;
	case Q_IE_BEARER:
		memset(&m->bearer, 0, sizeof(m->bearer));
		break;
	case Q_IE_BLLI:
		memset(&m->blli, 0, sizeof(m->blli));
		break;
	case Q_IE_CALLED:
		memset(&m->called, 0, sizeof(m->called));
		break;
	case Q_IE_CALLING:
		memset(&m->calling, 0, sizeof(m->calling));
		break;
	case Q_IE_CONN_ID:
		memset(&m->conn_id, 0, sizeof(m->conn_id));
		break;
	case Q_IE_QOS:
		memset(&m->qos, 0, sizeof(m->qos));
		break;
	case Q_IE_RESTART:
		memset(&m->restart, 0, sizeof(m->restart));
		break;
	case Q_IE_UU:
		memset(&m->uu, 0, sizeof(m->uu));
		break;
	}
}

static int set_status(struct q_decode_status *st, int result, uint8_t cause, uint8_t ie,
		      uint8_t action, const char *reason)
{
	st->result = result;
	st->cause = cause;
	st->ie = ie;
	st->action = action;
	st->reason = reason;
	return result;
}

static void record_ie(struct q_decode_status *st, uint8_t id, uint8_t cause, uint8_t action)
{
	if (st->n_ie_errors == Q_DEC_MAX_IE_ERRORS) {
		st->ie_errors_truncated = true;
		return;
	}
	st->ie_errors[st->n_ie_errors++] = (struct q_ie_error){id, cause, action};
}

/*
 * Raises the verdict and, for the first finding that stops processing (or
 * the first report), the summary fields older callers read.
 */
static void finding(struct q_decode_status *st, uint8_t verdict, uint8_t cause, uint8_t ie,
		    uint8_t action, const char *reason)
{
	if (verdict > st->verdict) {
		st->verdict = verdict;
		st->verdict_cause = verdict == Q_VERDICT_DISCARD ? 0 : cause;
	}
	int result = verdict == Q_VERDICT_REPORT ? Q_DEC_REPORT : Q_DEC_REJECT;
	if (st->result == Q_DEC_OK || (st->result == Q_DEC_REPORT && result == Q_DEC_REJECT))
		set_status(st, result, cause, ie, action, reason);
}

/* What an IE's instruction field asks for an error in it (§5.7.2). */
static uint8_t ie_action_of(uint8_t instr)
{
	return (instr & 0x10) ? (instr & 0x07) : Q_IE_ACT_REGULAR;
}

/*
 * An unrecognised IE or an optional one with invalid contents (Q.2931
 * §5.6.8.1-5.6.8.2): with the IE's flag clear, regular error handling
 * (proceed and report); with it set, the action indicator decides (§5.7.2).
 */
static void ie_problem(struct q_decode_status *st, uint8_t instr, uint8_t cause, uint8_t id,
		       const char *reason)
{
	uint8_t act = ie_action_of(instr);
	record_ie(st, id, cause, act);
	switch (act) {
	case Q_IE_ACT_CLEAR:
		finding(st, Q_VERDICT_CLEAR, cause, id, Q_ACT_CLEAR, reason);
		break;
	case Q_IE_ACT_DISCARD_IE:
		break;
	case Q_IE_ACT_DISCARD_MSG:
		finding(st, Q_VERDICT_DISCARD, cause, id, Q_ACT_IGNORE, reason);
		break;
	case Q_IE_ACT_DISCARD_MSG_REPORT:
		finding(st, Q_VERDICT_REJECT, cause, id, Q_ACT_REPORT, reason);
		break;
	default: /* regular handling, 2, and the reserved values, read as 2 */
		finding(st, Q_VERDICT_REPORT, cause, id, Q_ACT_REPORT, reason);
		break;
	}
}

/*
 * A mandatory IE with invalid contents (§5.6.7.2): the message cannot be
 * processed.  Explicit "clear call" and "discard and ignore" are obeyed; any
 * other instruction leaves the regular answer, cause 100.
 */
static void mandatory_problem(struct q_decode_status *st, uint8_t instr, uint8_t id)
{
	uint8_t act = ie_action_of(instr);
	const uint8_t cause = Q_CAUSE_INVALID_IE_CONTENTS;
	const char *reason = "mandatory IE with invalid contents";
	record_ie(st, id, cause, act);
	if (act == Q_IE_ACT_CLEAR)
		finding(st, Q_VERDICT_CLEAR, cause, id, Q_ACT_CLEAR, reason);
	else if (act == Q_IE_ACT_DISCARD_MSG)
		finding(st, Q_VERDICT_DISCARD, cause, id, Q_ACT_IGNORE, reason);
	else
		finding(st, Q_VERDICT_REJECT, cause, id, Q_ACT_REPORT, reason);
}

/* §5.6.1-5.6.3: what cannot be tied to a call is dropped unanswered. */
static int header_drop(struct q_decode_status *st, const char *reason)
{
	st->verdict = Q_VERDICT_DISCARD;
	return set_status(st, Q_DEC_DROP, 0, 0, Q_ACT_IGNORE, reason);
}

/* §5.6.4 with §5.7.1: a message type this codec does not know. */
static int unknown_type(struct q_decode_status *st)
{
	uint8_t action = Q_ACT_REPORT;
	uint8_t verdict = Q_VERDICT_REJECT;
	if (st->msg_action_flag) {
		switch (st->msg_action) {
		case Q_MSG_ACT_CLEAR:
			action = Q_ACT_CLEAR;
			verdict = Q_VERDICT_CLEAR;
			break;
		case Q_MSG_ACT_DISCARD:
			action = Q_ACT_IGNORE;
			verdict = Q_VERDICT_DISCARD;
			break;
		}
	}
	finding(st, verdict, Q_CAUSE_MSG_TYPE_NONEXISTENT, 0, action,
		"message type non-existent or not implemented");
	return st->result;
}

/* An IE whose length field cannot be trusted: nothing after it can be found. */
static int ie_framing(struct q_decode_status *st, uint8_t id, const char *reason)
{
	record_ie(st, id, Q_CAUSE_INVALID_IE_CONTENTS, Q_IE_ACT_REGULAR);
	finding(st, Q_VERDICT_REJECT, Q_CAUSE_INVALID_IE_CONTENTS, id, Q_ACT_REPORT, reason);
	return st->result;
}

/*
 * The coding standards this codec reads for an IE: ITU-T for all, and the
 * ATM Forum's for the QoS parameter, whose classes 1-4 are coded so.
 */
static bool coding_known(uint8_t id, uint8_t instr)
{
	uint8_t coding = instr & 0x60;
	return coding == CODING_ITU || (id == Q_IE_QOS && coding == CODING_ATMF);
}

int q_msg_decode(const uint8_t *buf, size_t len, struct q_msg *m, struct q_decode_status *st)
{
	memset(m, 0, sizeof(*m));
	memset(st, 0, sizeof(*st));
	st->reason = "ok";

	if (buf == NULL || len < Q_HDR_LEN)
		return header_drop(st, "message too short");
	if (buf[0] != Q_PD)
		return header_drop(st, "protocol discriminator is not Q.2931");
	if (buf[1] != 3)
		return header_drop(st, "call reference length is not 3");
	m->cref_flag = (buf[2] & 0x80) != 0;
	m->cref = get24(buf + 2) & Q_CREF_MAX;
	m->type = buf[5];
	uint8_t compat = buf[6];
	st->msg_action_flag = (compat & 0x10) != 0;
	st->msg_action = st->msg_action_flag ? compat & 0x03 : 0;
	size_t body_len = get16(buf + 7);
	if (body_len > len - Q_HDR_LEN)
		return header_drop(st, "message length exceeds the frame");

	const struct msg_rule *rule = msg_rule_find(m->type);
	if (rule == NULL)
		return unknown_type(st);

	const uint8_t *body = buf + Q_HDR_LEN;
	size_t off = 0;
	uint32_t seen = 0, errored = 0;
	while (off < body_len) {
		uint8_t id = body[off];
		if (body_len - off < 4)
			return ie_framing(st, id, "IE header cut short");
		uint8_t instr = body[off + 1];
		size_t ie_len = get16(body + off + 2);
		if (ie_len > body_len - off - 4)
			return ie_framing(st, id, "IE runs past the end of the message");
		const uint8_t *p = body + off + 4;
		off += 4 + ie_len;

		/*
		 * §5.6.8.1: an IE this codec does not implement, one not
		 * expected in this message, or one in a coding standard it
		 * does not read is unrecognised.
		 */
		uint32_t bit = ie_bit_of(id);
		if (bit == 0 || !(rule->allowed & bit) || !coding_known(id, instr)) {
			ie_problem(st, instr, Q_CAUSE_IE_NONEXISTENT, id,
				   "IE non-existent or not implemented");
			continue;
		}
		/* A repeated IE: the first counts, the rest are ignored (§5.6.8.3);
		 * the cause IE may come twice. */
		bool second_cause = bit == B_CAUSE && m->cause.present;
		if ((seen & bit) && !(second_cause && !m->cause2.present))
			continue;
		seen |= bit;

		if (dec_ie(id, p, ie_len, m) < 0) {
			forget_ie(id, m, second_cause);
			errored |= bit;
			if ((rule->mandatory & bit) && !second_cause)
				mandatory_problem(st, instr, id);
			else
				ie_problem(st, instr, Q_CAUSE_INVALID_IE_CONTENTS, id,
					   "optional IE with invalid contents");
		}
	}

	/*
	 * §5.6.7.1: a mandatory IE is missing; every one is listed.  One in
	 * error was recorded with cause 100 already and counts as that; one
	 * that is mandatory only by what came later (the endpoint reference of
	 * a point-to-multipoint SETUP) was read as optional, discarded, and is
	 * missing now.
	 */
	uint32_t need = rule->mandatory | conditional_mandatory(m);
	uint32_t missing = need & ~present_set(m) & ~(errored & rule->mandatory);
	for (uint32_t rest = missing; rest; rest &= rest - 1) {
		uint8_t id = ie_id_of(rest & -rest);
		record_ie(st, id, Q_CAUSE_MANDATORY_IE_MISSING, Q_IE_ACT_REGULAR);
		finding(st, Q_VERDICT_REJECT, Q_CAUSE_MANDATORY_IE_MISSING, id, Q_ACT_REPORT,
			"mandatory IE missing");
	}
	return st->result;
}

/* ---- names and addresses ---------------------------------------------- */

const char *q_msg_type_name(uint8_t type)
{
	if (type == Q_MSG_NOTIFY)
		return "NOTIFY";
	const struct msg_rule *rule = msg_rule_find(type);
	return rule ? rule->name : "unknown";
}

const char *q_cause_name(uint8_t cause)
{
	switch (cause) {
	case Q_CAUSE_UNALLOCATED:
		return "unallocated (unassigned) number";
	case Q_CAUSE_NO_ROUTE:
		return "no route to destination";
	case Q_CAUSE_NORMAL_CLEARING:
		return "normal call clearing";
	case Q_CAUSE_USER_BUSY:
		return "user busy";
	case Q_CAUSE_NO_USER_RESPONDING:
		return "no user responding";
	case Q_CAUSE_CALL_REJECTED:
		return "call rejected";
	case Q_CAUSE_DEST_OUT_OF_ORDER:
		return "destination out of order";
	case Q_CAUSE_STATUS_ENQUIRY_RESPONSE:
		return "response to STATUS ENQUIRY";
	case Q_CAUSE_NORMAL_UNSPECIFIED:
		return "normal, unspecified";
	case 35:
		return "requested VPCI/VCI not available";
	case Q_CAUSE_TEMPORARY_FAILURE:
		return "temporary failure";
	case 45:
		return "no VPCI/VCI available";
	case Q_CAUSE_RESOURCE_UNAVAILABLE:
		return "resource unavailable, unspecified";
	case 49:
		return "quality of service unavailable";
	case 63:
		return "service or option not available, unspecified";
	case 73:
		return "unsupported combination of traffic parameters";
	case Q_CAUSE_INVALID_CREF:
		return "invalid call reference value";
	case Q_CAUSE_INCOMPATIBLE_DEST:
		return "incompatible destination";
	case Q_CAUSE_INVALID_EPREF:
		return "invalid endpoint reference";
	case Q_CAUSE_TOO_MANY_ADD_PARTY:
	case Q_CAUSE_TOO_MANY_ADD_PARTY_UNI:
		return "too many pending add party requests";
	case 93:
		return "AAL parameters cannot be supported";
	case Q_CAUSE_MANDATORY_IE_MISSING:
		return "mandatory information element is missing";
	case Q_CAUSE_MSG_TYPE_NONEXISTENT:
		return "message type non-existent or not implemented";
	case Q_CAUSE_IE_NONEXISTENT:
		return "information element non-existent or not implemented";
	case Q_CAUSE_INVALID_IE_CONTENTS:
		return "invalid information element contents";
	case Q_CAUSE_MSG_NOT_COMPATIBLE:
		return "message not compatible with call state";
	case Q_CAUSE_RECOVERY_ON_TIMER:
		return "recovery on timer expiry";
	case Q_CAUSE_PROTOCOL_ERROR:
		return "protocol error, unspecified";
	}
	return "unknown cause";
}

const char *q_ie_name(uint8_t ie)
{
	switch (ie) {
	case Q_IE_CAUSE:
		return "cause";
	case Q_IE_CALL_STATE:
		return "call state";
	case Q_IE_EPREF:
		return "endpoint reference";
	case Q_IE_EPSTATE:
		return "endpoint state";
	case Q_IE_AAL:
		return "AAL parameters";
	case Q_IE_TRAFFIC:
		return "ATM traffic descriptor";
	case Q_IE_CONN_ID:
		return "connection identifier";
	case Q_IE_QOS:
		return "QoS parameter";
	case Q_IE_BEARER:
		return "broadband bearer capability";
	case Q_IE_BLLI:
		return "broadband low-layer information";
	case Q_IE_CALLING:
		return "calling party number";
	case Q_IE_CALLED:
		return "called party number";
	case Q_IE_RESTART:
		return "restart indicator";
	case Q_IE_UU:
		return "user-user";
	}
	return "unknown IE";
}
