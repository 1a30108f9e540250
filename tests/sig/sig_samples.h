/* SPDX-License-Identifier: MIT */
/*
 * One realistic instance of every message type, filled with every IE the
 * type may carry: shared by the unit tests and the pcap writer that lets
 * Wireshark judge the encoding.
 */
#ifndef CALLMGR_TESTS_SIG_SAMPLES_H
#define CALLMGR_TESTS_SIG_SAMPLES_H

#include <string.h>

#include "sig/q2931.h"

static const uint8_t sample_types[] = {
	Q_MSG_SETUP,          Q_MSG_CALL_PROCEEDING, Q_MSG_ALERTING,         Q_MSG_CONNECT,
	Q_MSG_CONNECT_ACK,    Q_MSG_RELEASE,         Q_MSG_RELEASE_COMPLETE, Q_MSG_STATUS,
	Q_MSG_STATUS_ENQUIRY, Q_MSG_ADD_PARTY,       Q_MSG_ADD_PARTY_ACK,    Q_MSG_ADD_PARTY_REJECT,
	Q_MSG_DROP_PARTY,     Q_MSG_DROP_PARTY_ACK,  Q_MSG_PARTY_ALERTING,   Q_MSG_RESTART,
	Q_MSG_RESTART_ACK,
};
#define N_SAMPLE_TYPES (sizeof(sample_types) / sizeof(sample_types[0]))

/* 47.0005.80ffe1000000f21a2b3c.0002b3a1c2d3.2a: an ICD-format private AESA. */
static const uint8_t sample_aesa_a[Q_AESA_LEN] = {
	0x47, 0x00, 0x05, 0x80, 0xff, 0xe1, 0x00, 0x00, 0x00, 0xf2,
	0x1a, 0x2b, 0x3c, 0x02, 0x00, 0xb3, 0xa1, 0xc2, 0xd3, 0x2a,
};
static const uint8_t sample_aesa_b[Q_AESA_LEN] = {
	0x39, 0x84, 0x0f, 0x80, 0x01, 0xbc, 0x72, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x07,
};

static inline void sample_uu(struct q_ie_uu *uu, uint8_t len)
{
	uu->present = true;
	uu->len = len;
	for (unsigned i = 0; i < len; i++)
		uu->data[i] = (uint8_t)(0xa0 + i);
}

static inline void sample_cause(struct q_ie_cause *c, uint8_t value)
{
	c->present = true;
	c->location = 0;
	c->value = value;
	if (value == Q_CAUSE_RECOVERY_ON_TIMER) {
		c->diag_len = 3;
		memcpy(c->diag, "398", 3);
	}
}

/* Every IE the message type allows, with values that exercise each field. */
static inline void sample_msg(uint8_t type, struct q_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->cref = 0x123456;
	m->cref_flag = type != Q_MSG_SETUP && type != Q_MSG_ADD_PARTY;
	m->epref.present = true;
	m->epref.flag = m->cref_flag;
	m->epref.value = 0x1234;

	switch (type) {
	case Q_MSG_SETUP:
		m->epref.value = 0;
		m->aal.present = true;
		m->aal.fwd_max_sdu = 9188;
		m->aal.bwd_max_sdu = 1500;
		m->traffic.present = true;
		m->traffic.fwd_peak_cr = 353207;
		m->traffic.bwd_peak_cr = 0x00ffffff;
		m->traffic.best_effort = true;
		m->bearer.present = true;
		m->bearer.bearer_class = Q_BEARER_BCOB_X;
		m->bearer.p2mp = true;
		m->blli.present = true;
		m->blli.user_l3 = 0x2a;
		m->called.present = true;
		memcpy(m->called.aesa, sample_aesa_a, Q_AESA_LEN);
		m->calling.present = true;
		memcpy(m->calling.aesa, sample_aesa_b, Q_AESA_LEN);
		m->conn_id.present = true;
		m->conn_id.vpci = 0;
		m->conn_id.vci = 32;
		m->qos.present = true; /* a class 1-4: the ATM Forum coding standard */
		m->qos.fwd_class = 3;
		m->qos.bwd_class = 1;
		sample_uu(&m->uu, 5);
		break;
	case Q_MSG_CALL_PROCEEDING:
		m->conn_id.present = true;
		m->conn_id.vpci = 1;
		m->conn_id.vci = 65535;
		break;
	case Q_MSG_ALERTING:
		m->conn_id.present = true;
		m->conn_id.vci = 100;
		sample_uu(&m->uu, 1);
		break;
	case Q_MSG_CONNECT:
		m->aal.present = true;
		m->aal.fwd_max_sdu = 65535;
		m->aal.bwd_max_sdu = 0;
		m->traffic.present = true;
		m->traffic.fwd_peak_cr = 1;
		m->traffic.bwd_peak_cr = 2;
		m->blli.present = true;
		m->blli.user_l3 = Q_BLLI_USER_L3_MAX;
		m->conn_id.present = true;
		m->conn_id.vpci = 0x0102;
		m->conn_id.vci = 0x0304;
		sample_uu(&m->uu, 16);
		break;
	case Q_MSG_CONNECT_ACK:
		m->epref.present = false;
		break;
	case Q_MSG_RELEASE:
		m->epref.present = false;
		sample_cause(&m->cause, Q_CAUSE_NORMAL_CLEARING);
		sample_cause(&m->cause2, Q_CAUSE_RECOVERY_ON_TIMER);
		sample_uu(&m->uu, Q_UU_MAX);
		break;
	case Q_MSG_RELEASE_COMPLETE:
		m->epref.present = false;
		sample_cause(&m->cause, Q_CAUSE_NORMAL_UNSPECIFIED);
		sample_uu(&m->uu, 3);
		break;
	case Q_MSG_STATUS:
		sample_cause(&m->cause, Q_CAUSE_STATUS_ENQUIRY_RESPONSE);
		m->call_state_present = true;
		m->call_state = 10; /* U10 active */
		m->ep_state_present = true;
		m->ep_state = Q_EPS_ACTIVE;
		break;
	case Q_MSG_STATUS_ENQUIRY:
		break;
	case Q_MSG_ADD_PARTY:
		m->epref.value = 7;
		m->aal.present = true;
		m->aal.fwd_max_sdu = 9188;
		m->aal.bwd_max_sdu = 9188;
		m->blli.present = true;
		m->blli.user_l3 = 1;
		m->called.present = true;
		memcpy(m->called.aesa, sample_aesa_b, Q_AESA_LEN);
		m->calling.present = true;
		memcpy(m->calling.aesa, sample_aesa_a, Q_AESA_LEN);
		sample_uu(&m->uu, 2);
		break;
	case Q_MSG_ADD_PARTY_ACK:
		m->aal.present = true;
		m->aal.fwd_max_sdu = 9188;
		m->aal.bwd_max_sdu = 9188;
		m->blli.present = true;
		m->blli.user_l3 = 1;
		sample_uu(&m->uu, 4);
		break;
	case Q_MSG_ADD_PARTY_REJECT:
		sample_cause(&m->cause, Q_CAUSE_CALL_REJECTED);
		sample_uu(&m->uu, 8);
		break;
	case Q_MSG_DROP_PARTY:
		sample_cause(&m->cause, Q_CAUSE_NORMAL_CLEARING);
		sample_uu(&m->uu, 100);
		break;
	case Q_MSG_DROP_PARTY_ACK:
		sample_cause(&m->cause, Q_CAUSE_RECOVERY_ON_TIMER);
		sample_uu(&m->uu, 1);
		break;
	case Q_MSG_PARTY_ALERTING:
		sample_uu(&m->uu, 6);
		break;
	case Q_MSG_RESTART:
	case Q_MSG_RESTART_ACK:
		m->epref.present = false;
		m->cref = 0;
		m->cref_flag = type == Q_MSG_RESTART_ACK;
		m->restart.present = true;
		m->restart.rclass = Q_RESTART_VC;
		m->conn_id.present = true;
		m->conn_id.vpci = 0;
		m->conn_id.vci = 77;
		break;
	}
}

#endif
