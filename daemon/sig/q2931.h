/* SPDX-License-Identifier: MIT */
/*
 * Q.2931 / Q.2971 messages as plain C structures: the contract between the
 * codec (sig/) and call control (cc/).  The codec fills and reads these; call
 * control never sees a byte of wire format.
 */
#ifndef CALLMGR_SIG_Q2931_H
#define CALLMGR_SIG_Q2931_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define Q_PD 0x09              /* protocol discriminator, Q.2931 */
#define Q_CREF_MAX 0x7fffffu   /* call reference value is 23 bits */
#define Q_EPREF_MAX 0x7fffu    /* endpoint reference identifier is 15 bits */
/*
 * User-user data octets, after the protocol discriminator: the IE's contents
 * are at most 128 octets including the discriminator (docs/wire.md, "User-user
 * data").
 */
#define Q_UU_MAX 127
#define Q_AESA_LEN 20
#define Q_QOS_CLASS_MAX 4      /* QoS classes 0 (unspecified) to 4 */

enum q_msg_type {
	Q_MSG_ALERTING = 0x01,
	Q_MSG_CALL_PROCEEDING = 0x02,
	Q_MSG_SETUP = 0x05,
	Q_MSG_CONNECT = 0x07,
	Q_MSG_CONNECT_ACK = 0x0f,
	Q_MSG_RESTART = 0x46,
	Q_MSG_RESTART_ACK = 0x4e,
	Q_MSG_RELEASE = 0x4d,
	Q_MSG_RELEASE_COMPLETE = 0x5a,
	Q_MSG_NOTIFY = 0x6e,
	Q_MSG_STATUS_ENQUIRY = 0x75,
	Q_MSG_STATUS = 0x7d,
	Q_MSG_ADD_PARTY = 0x80,
	Q_MSG_ADD_PARTY_ACK = 0x81,
	Q_MSG_ADD_PARTY_REJECT = 0x82,
	Q_MSG_DROP_PARTY = 0x83,
	Q_MSG_DROP_PARTY_ACK = 0x84,
	Q_MSG_PARTY_ALERTING = 0x85,
};

/* Cause values used by callmgr (Q.2931 / Q.850 numbering). */
enum q_cause {
	Q_CAUSE_UNALLOCATED = 1,
	Q_CAUSE_NO_ROUTE = 3,
	Q_CAUSE_NORMAL_CLEARING = 16,
	Q_CAUSE_USER_BUSY = 17,
	Q_CAUSE_NO_USER_RESPONDING = 18,
	Q_CAUSE_CALL_REJECTED = 21,
	Q_CAUSE_DEST_OUT_OF_ORDER = 27,
	Q_CAUSE_STATUS_ENQUIRY_RESPONSE = 30,
	Q_CAUSE_NORMAL_UNSPECIFIED = 31,
	Q_CAUSE_TEMPORARY_FAILURE = 41,
	Q_CAUSE_NO_VCI = 45,                /* no VPCI/VCI available */
	Q_CAUSE_RESOURCE_UNAVAILABLE = 47,
	Q_CAUSE_INVALID_CREF = 81,
	Q_CAUSE_INCOMPATIBLE_DEST = 88,
	Q_CAUSE_INVALID_EPREF = 89,
	Q_CAUSE_TOO_MANY_ADD_PARTY = 32,    /* Q.2971 numbering; sent */
	Q_CAUSE_TOO_MANY_ADD_PARTY_UNI = 92, /* UNI 3.1/4.0 numbering; accepted */
	Q_CAUSE_MANDATORY_IE_MISSING = 96,
	Q_CAUSE_MSG_TYPE_NONEXISTENT = 97,
	Q_CAUSE_IE_NONEXISTENT = 99,
	Q_CAUSE_INVALID_IE_CONTENTS = 100,
	Q_CAUSE_MSG_NOT_COMPATIBLE = 101,
	Q_CAUSE_RECOVERY_ON_TIMER = 102,
	Q_CAUSE_PROTOCOL_ERROR = 111,
};

/* Endpoint state IE values (Q.2971), also the party state codes. */
enum q_ep_state {
	Q_EPS_NULL = 0,
	Q_EPS_ADD_PARTY_INITIATED = 1,
	Q_EPS_ALERTING_DELIVERED = 4,
	Q_EPS_ADD_PARTY_RECEIVED = 6,
	Q_EPS_ALERTING_RECEIVED = 7,
	Q_EPS_ACTIVE = 10,
	Q_EPS_DROP_PARTY_INITIATED = 11,
	Q_EPS_DROP_PARTY_RECEIVED = 12,
};

struct q_ie_cause {
	bool present;
	uint8_t location;      /* 0 = user */
	uint8_t value;         /* enum q_cause */
	uint8_t diag_len;
	uint8_t diag[8];       /* e.g. the timer number "398" as IA5 for cause 102 */
};

struct q_ie_epref {
	bool present;
	bool flag;             /* 0 = sent by the side that allocated it */
	uint16_t value;        /* 15 bits */
};

struct q_ie_aal {              /* AAL parameters, AAL type 5 only */
	bool present;
	uint32_t fwd_max_sdu;
	uint32_t bwd_max_sdu;
};

struct q_ie_traffic {          /* ATM traffic descriptor, CLP 0+1 peak cell rates */
	bool present;
	uint32_t fwd_peak_cr;  /* cells/s */
	uint32_t bwd_peak_cr;
	bool best_effort;
};

struct q_ie_bearer {           /* broadband bearer capability */
	bool present;
	uint8_t bearer_class;  /* 0x10 = BCOB-X */
	bool p2mp;             /* user-plane connection configuration */
};

struct q_ie_address {          /* called / calling party number, AESA plan */
	bool present;
	uint8_t aesa[Q_AESA_LEN];
};

struct q_ie_conn_id {          /* connection identifier */
	bool present;
	uint16_t vpci;
	uint16_t vci;
};

/*
 * QoS parameter.  Class 0 (unspecified) goes out in the ITU-T coding
 * standard, classes 1-4 in the ATM Forum one (UNI 3.1/4.0 §4.5.22); a pair
 * mixing 0 with 1-4 has no coding and is refused by the encoder.
 */
struct q_ie_qos {
	bool present;
	uint8_t fwd_class;
	uint8_t bwd_class;
};

struct q_ie_blli {             /* broadband low-layer information: carries the SAP */
	bool present;
	uint8_t user_l3;       /* user-specified layer 3 information: the selector */
};

struct q_ie_uu {               /* user-user */
	bool present;
	uint8_t len;
	uint8_t data[Q_UU_MAX];
};

struct q_ie_restart {          /* restart indicator */
	bool present;
	uint8_t rclass;        /* 0 = indicated VC, 2 = all VCs on the interface */
};

/*
 * One decoded message.  Absent IEs have present == false.  Only the IEs
 * listed in SPEC §3 are carried; the decoder skips others by the rules of
 * Q.2931 §5.6 (and reports them when their action indicator says so).
 */
struct q_msg {
	uint8_t type;              /* enum q_msg_type */
	uint32_t cref;             /* call reference value, 23 bits */
	bool cref_flag;            /* 0 = sent by the call's originator */
	struct q_ie_cause cause;
	struct q_ie_cause cause2;  /* RELEASE may carry a second cause */
	bool call_state_present;
	uint8_t call_state;        /* Q.2931 call state code (U0..U12) */
	struct q_ie_epref epref;
	bool ep_state_present;
	uint8_t ep_state;          /* enum q_ep_state */
	struct q_ie_aal aal;
	struct q_ie_traffic traffic;
	struct q_ie_bearer bearer;
	struct q_ie_address called;
	struct q_ie_address calling;
	struct q_ie_conn_id conn_id;
	struct q_ie_qos qos;
	struct q_ie_blli blli;
	struct q_ie_uu uu;
	struct q_ie_restart restart;
};

/* Information element identifiers (Q.2931 §4.5, Q.2971, Q.2957 user-user). */
enum q_ie_id {
	Q_IE_CAUSE = 0x08,
	Q_IE_CALL_STATE = 0x14,
	Q_IE_EPREF = 0x54,
	Q_IE_EPSTATE = 0x55,
	Q_IE_AAL = 0x58,
	Q_IE_TRAFFIC = 0x59,
	Q_IE_CONN_ID = 0x5a,
	Q_IE_QOS = 0x5c,
	Q_IE_BEARER = 0x5e,
	Q_IE_BLLI = 0x5f,
	Q_IE_CALLING = 0x6c,
	Q_IE_CALLED = 0x70,
	Q_IE_RESTART = 0x79,
	Q_IE_UU = 0x7e,
};

#define Q_HDR_LEN 9            /* PD, cref length, 3 cref octets, type, compat, 2 length */
#define Q_BLLI_USER_L3_MAX 127 /* the user-specified layer 3 field is 7 bits */
#define Q_BEARER_BCOB_X 0x10
#define Q_RESTART_VC 0         /* restart the indicated VC */
#define Q_RESTART_ALL 2        /* restart all VCs controlled by the sender */

/* q_msg_encode() failures. */
enum q_encode_error {
	Q_ENC_E_NOSPACE = -1,   /* buffer too small */
	Q_ENC_E_INVAL = -2,     /* a value does not fit its field, or unknown type */
	Q_ENC_E_MANDATORY = -3, /* a mandatory IE of this message type is absent */
	Q_ENC_E_TOO_BIG = -4,   /* user-user data over Q_UU_MAX octets */
};

/*
 * What q_msg_decode() found, by Q.2931 §5.6.  The return value equals
 * status.result.
 */
enum q_decode_result {
	Q_DEC_DROP = -1,  /* header undecodable (§5.6.1-5.6.3): drop silently */
	Q_DEC_OK = 0,     /* decoded cleanly */
	Q_DEC_REPORT = 1, /* usable; an optional IE was discarded and the sender
			     asked for a STATUS (cause, ie say which) */
	Q_DEC_REJECT = 2, /* not usable; act on cause / ie / action */
};

/* What the receiver is asked to do about the error (message or IE action indicator). */
enum q_error_action {
	Q_ACT_NONE = 0,
	Q_ACT_REPORT,  /* proceed (or discard, with REJECT) and send STATUS */
	Q_ACT_IGNORE,  /* discard the message silently */
	Q_ACT_CLEAR,   /* clear the call with the cause */
};

/*
 * The receiver's course by Q.2931 §5.6/§5.7 (and Q.2971 §9 for the party
 * messages), the finding of highest precedence in the message deciding.
 * The decoder reads every IE whatever it finds, so the call reference,
 * endpoint reference and cause of a refused message are there to act on.  What to
 * answer with REJECT depends on the message (SETUP: RELEASE COMPLETE; others:
 * STATUS, §5.6.7), which call control knows.
 */
enum q_verdict {                 /* in rising precedence (§5.7.2) */
	Q_VERDICT_OK = 0,      /* process the message */
	Q_VERDICT_REPORT,      /* process it without the IEs in ie_errors, then send
				  STATUS with verdict_cause and their identifiers */
	Q_VERDICT_DISCARD,     /* drop it silently (header error, or "discard and ignore") */
	Q_VERDICT_REJECT,      /* do not process it; answer with verdict_cause */
	Q_VERDICT_CLEAR,       /* clear the call with verdict_cause (action "clear call") */
};

/*
 * An IE's action indicator (Q.2931 §4.5.1, octet 2 bits 3-1) when its flag
 * is set; Q_IE_ACT_REGULAR when the flag is clear (regular error handling).
 */
enum q_ie_action {
	Q_IE_ACT_CLEAR = 0,          /* clear call */
	Q_IE_ACT_DISCARD_IE = 1,     /* discard IE and proceed */
	Q_IE_ACT_DISCARD_IE_REPORT = 2, /* discard IE, proceed and report status */
	Q_IE_ACT_DISCARD_MSG = 5,    /* discard message and ignore */
	Q_IE_ACT_DISCARD_MSG_REPORT = 6, /* discard message and report status */
	Q_IE_ACT_REGULAR = 0xff,
};

/* The message's own action indicator (Q.2931 §4.4.3 / §5.7.1), for a
 * message type that is unknown or not expected in the call state. */
enum q_msg_action {
	Q_MSG_ACT_CLEAR = 0,         /* clear call */
	Q_MSG_ACT_DISCARD = 1,       /* discard and ignore */
	Q_MSG_ACT_DISCARD_REPORT = 2, /* discard and report status */
	Q_MSG_ACT_RESERVED = 3,      /* reserved: read as regular error handling */
};

struct q_ie_error {
	uint8_t id;            /* IE identifier */
	uint8_t cause;         /* 99 unrecognised, 100 invalid contents, 96 mandatory missing */
	uint8_t action;        /* enum q_ie_action */
};

#define Q_DEC_MAX_IE_ERRORS 8

struct q_decode_status {
	/* Summary kept for callers written before the verdict existed. */
	int result;         /* enum q_decode_result */
	uint8_t cause;      /* Q.2931 cause when result > 0: 96, 97, 99 or 100 */
	uint8_t ie;         /* IE identifier concerned, 0 if none */
	uint8_t action;     /* enum q_error_action */
	const char *reason; /* static text for the log */

	uint8_t verdict;        /* enum q_verdict */
	uint8_t verdict_cause;  /* cause for REPORT, REJECT and CLEAR; 0 otherwise */
	bool msg_action_flag;   /* the header asked for explicit handling ... */
	uint8_t msg_action;     /* ... with this enum q_msg_action */
	uint8_t n_ie_errors;    /* entries in ie_errors, in message order */
	bool ie_errors_truncated; /* more than Q_DEC_MAX_IE_ERRORS offending IEs */
	struct q_ie_error ie_errors[Q_DEC_MAX_IE_ERRORS];
};

/*
 * Encodes m as one Q.2931 message.  Returns its length, or a negative
 * enum q_encode_error.  IEs go out in one fixed order (see docs/wire.md).
 */
int q_msg_encode(const struct q_msg *m, uint8_t *buf, size_t cap);

/*
 * Decodes one message into m (zeroed first).  Never reads outside
 * buf[0..len).  st may not be NULL.  Returns st->result.
 */
int q_msg_decode(const uint8_t *buf, size_t len, struct q_msg *m, struct q_decode_status *st);

/*
 * The helpers below are inline so that call control, which includes this
 * header but links no codec, can use them.
 *
 * The cause value call control acts on: the UNI 3.1/4.0 number 92 for "too
 * many pending add party requests" reads as Q.2971's 32 (docs/wire.md); every
 * other value is returned unchanged.
 */
static inline uint8_t q_cause_canonical(uint8_t value)
{
	return value == Q_CAUSE_TOO_MANY_ADD_PARTY_UNI ? Q_CAUSE_TOO_MANY_ADD_PARTY : value;
}

#define Q_CELL_BITS 424u       /* 53 octets */
#define Q_CELL_RATE_MAX 0xffffffu /* the traffic descriptor's 24-bit field */

/*
 * Peak cell rate for a bit rate: rounded up, so the caller gets at least
 * what it asked for.  Saturates at Q_CELL_RATE_MAX.
 */
static inline uint32_t q_kbps_to_cells(uint32_t kbps)
{
	uint64_t cells = ((uint64_t)kbps * 1000 + Q_CELL_BITS - 1) / Q_CELL_BITS;
	return cells > Q_CELL_RATE_MAX ? Q_CELL_RATE_MAX : (uint32_t)cells;
}

/*
 * Bit rate of a peak cell rate, rounded down, so that
 * q_cells_to_kbps(q_kbps_to_cells(k)) == k whenever the rate fits.
 */
static inline uint32_t q_cells_to_kbps(uint32_t cells)
{
	return (uint32_t)((uint64_t)cells * Q_CELL_BITS / 1000);
}

/* "SETUP", "DROP PARTY ACKNOWLEDGE", ...; "unknown" for others. */
const char *q_msg_type_name(uint8_t type);
/* Q.2931 cause text, "unknown cause" for others. */
const char *q_cause_name(uint8_t cause);
/* "cause", "endpoint reference", ...; "unknown IE" for others. */
const char *q_ie_name(uint8_t ie);

#endif
