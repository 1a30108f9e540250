/* SPDX-License-Identifier: MIT */
/* translate.c: ClientMsg -> cc_request and cc_client_event -> DaemonMsg, no daemon. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "translate.h"
#include "../ck_run.h"

static uint8_t aesa[Q_AESA_LEN] = { 0x39, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				    0x02, 0, 0, 0, 0, 0x05, 7 };

START_TEST(make_call)
{
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__MakeCall mc = CALLMGR__MAKE_CALL__INIT;
	Callmgr__CallParams p = CALLMGR__CALL_PARAMS__INIT;
	p.peak_kbps = 1500;
	p.max_sdu = 9180;
	p.qos_class = 3;
	mc.party.data = aesa;
	mc.party.len = sizeof(aesa);
	mc.params = &p;
	m.req_id = 42;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_MAKE_CALL;
	m.make_call = &mc;
	struct cc_request r;
	ck_assert_int_eq(translate_request(&m, 7, &r), TR_CC);
	ck_assert_uint_eq(r.type, CC_REQ_MAKE_CALL);
	ck_assert_uint_eq(r.session, 7);
	ck_assert_uint_eq(r.req_id, 42);
	ck_assert_mem_eq(r.addr, aesa, Q_AESA_LEN);
	ck_assert_uint_eq(r.params.peak_kbps, 1500);
	ck_assert_uint_eq(r.params.max_sdu, 9180);
	ck_assert_uint_eq(r.params.qos_class, 3);

	mc.party.len = Q_AESA_LEN - 1;
	ck_assert_int_eq(translate_request(&m, 7, &r), CM_E_INVAL);
	mc.party.len = Q_AESA_LEN;
	p.qos_class = 256;
	ck_assert_int_eq(translate_request(&m, 7, &r), CM_E_INVAL);
}
END_TEST

START_TEST(bounds_and_kinds)
{
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	struct cc_request r;
	/* RegisterSap and DeregisterSap name a selector, 0..255 */
	Callmgr__RegisterSap rs = CALLMGR__REGISTER_SAP__INIT;
	Callmgr__DeregisterSap ds = CALLMGR__DEREGISTER_SAP__INIT;
	for (int dereg = 0; dereg < 2; dereg++) {
		uint32_t *sel = dereg ? &ds.selector : &rs.selector;
		m.body_case = dereg ? CALLMGR__CLIENT_MSG__BODY_DEREGISTER_SAP
				    : CALLMGR__CLIENT_MSG__BODY_REGISTER_SAP;
		if (dereg)
			m.deregister_sap = &ds;
		else
			m.register_sap = &rs;
		*sel = 255;
		ck_assert_int_eq(translate_request(&m, 1, &r), TR_CC);
		ck_assert_uint_eq(r.type, dereg ? CC_REQ_DEREGISTER_SAP : CC_REQ_REGISTER_SAP);
		ck_assert_uint_eq(r.selector, 255);
		*sel = 256;
		ck_assert_int_eq(translate_request(&m, 1, &r), CM_E_INVAL);
	}

	/* AddParty carries the id the client chose (0: call control picks) */
	Callmgr__AddParty ap = CALLMGR__ADD_PARTY__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_ADD_PARTY;
	m.add_party = &ap;
	ap.vc = 4;
	ap.party.data = aesa;
	ap.party.len = sizeof(aesa);
	ap.party_id = (1ull << 63) | (1ull << 32) | 1;
	ck_assert_int_eq(translate_request(&m, 1, &r), TR_CC);
	ck_assert_uint_eq(r.type, CC_REQ_ADD_PARTY);
	ck_assert_uint_eq(r.vc, 4);
	ck_assert_uint_eq(r.party, ap.party_id);

	Callmgr__RejectCall rj = CALLMGR__REJECT_CALL__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_REJECT_CALL;
	m.reject_call = &rj;
	rj.cause = 0;
	ck_assert_int_eq(translate_request(&m, 1, &r), CM_E_INVAL);
	rj.cause = 128;
	ck_assert_int_eq(translate_request(&m, 1, &r), CM_E_INVAL);
	rj.cause = 21;
	rj.vc = 5;
	rj.party = 6;
	ck_assert_int_eq(translate_request(&m, 1, &r), TR_CC);
	ck_assert_uint_eq(r.type, CC_REQ_REJECT_CALL);
	ck_assert_int_eq(r.cause, 21);
	ck_assert_uint_eq(r.vc, 5);
	ck_assert_uint_eq(r.party, 6);

	uint8_t uu[3] = { 1, 2, 3 };
	Callmgr__CloseCall cl = CALLMGR__CLOSE_CALL__INIT;
	cl.vc = 9;
	cl.force = true;
	cl.data.data = uu;
	cl.data.len = 3;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_CLOSE_CALL;
	m.close_call = &cl;
	ck_assert_int_eq(translate_request(&m, 1, &r), TR_CC);
	ck_assert_uint_eq(r.type, CC_REQ_CLOSE_CALL);
	ck_assert_uint_eq(r.flags, CM_CLOSE_FORCE);
	ck_assert_ptr_eq(r.data, uu);
	ck_assert_uint_eq(r.data_len, 3);

	Callmgr__AdminDrop ad = CALLMGR__ADMIN_DROP__INIT;
	ad.vc = 3;
	ad.party = 4;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_ADMIN_DROP;
	m.admin_drop = &ad;
	ck_assert_int_eq(translate_request(&m, 1, &r), TR_CC);
	ck_assert_uint_eq(r.type, CC_REQ_ADMIN_DROP);

	Callmgr__GetStats gs = CALLMGR__GET_STATS__INIT;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_GET_STATS;
	m.get_stats = &gs;
	ck_assert_int_eq(translate_request(&m, 1, &r), TR_VIEW);

	m.body_case = CALLMGR__CLIENT_MSG__BODY__NOT_SET;
	ck_assert_int_eq(translate_request(&m, 1, &r), CM_E_PROTO);
}
END_TEST

/* Each completion kind says which request it completes; the admin ones apart. */
START_TEST(completions)
{
	static const struct {
		uint8_t cev;
		Callmgr__RequestKind kind;
	} rows[] = {
		{ CC_CEV_REGISTER_SAP_COMPLETE, CALLMGR__REQUEST_KIND__REGISTER_SAP },
		{ CC_CEV_MAKE_CALL_COMPLETE, CALLMGR__REQUEST_KIND__MAKE_CALL },
		{ CC_CEV_ADD_PARTY_COMPLETE, CALLMGR__REQUEST_KIND__ADD_PARTY },
		{ CC_CEV_DROP_PARTY_COMPLETE, CALLMGR__REQUEST_KIND__DROP_PARTY },
		{ CC_CEV_CLOSE_CALL_COMPLETE, CALLMGR__REQUEST_KIND__CLOSE_CALL },
		{ CC_CEV_ADMIN_DROP_COMPLETE, CALLMGR__REQUEST_KIND__ADMIN_DROP },
		{ CC_CEV_ADMIN_CLOSE_COMPLETE, CALLMGR__REQUEST_KIND__ADMIN_CLOSE },
		{ CC_CEV_DEREGISTER_SAP_COMPLETE, CALLMGR__REQUEST_KIND__DEREGISTER_SAP },
		{ CC_CEV_ACCEPT_CALL_COMPLETE, CALLMGR__REQUEST_KIND__ACCEPT_CALL },
		{ CC_CEV_REJECT_CALL_COMPLETE, CALLMGR__REQUEST_KIND__REJECT_CALL },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cc_client_event ce = { .type = rows[i].cev, .session = 3, .req_id = 77,
					      .status = CM_E_TIMEOUT, .cause = 102, .vc = 8,
					      .party = 9 };
		struct translate_msg t;
		ck_assert_ptr_nonnull(translate_client_event(&ce, &t));
		ck_assert(cc_cev_ends_request(ce.type));
		ck_assert_int_eq(t.m.body_case, CALLMGR__DAEMON_MSG__BODY_COMPLETION);
		ck_assert_uint_eq(t.m.req_id, 77);
		ck_assert_int_eq(t.m.completion->kind, rows[i].kind);
		ck_assert_int_eq(t.m.completion->status, CM_E_TIMEOUT);
		ck_assert_uint_eq(t.m.completion->cause, 102);
		ck_assert_uint_eq(t.m.completion->vc, 8);
		ck_assert_uint_eq(t.m.completion->party, 9);
	}
}
END_TEST

START_TEST(indications)
{
	struct cc_client_event ce = { .type = CC_CEV_INCOMING_CALL, .session = 3, .vc = 8,
				      .party = 9, .selector = 7 };
	memcpy(ce.caller, aesa, Q_AESA_LEN);
	ce.params.peak_kbps = 100;
	struct translate_msg t;
	ck_assert_str_eq(translate_client_event(&ce, &t), "incoming-call");
	ck_assert(!cc_cev_ends_request(ce.type));
	ck_assert_int_eq(t.m.body_case, CALLMGR__DAEMON_MSG__BODY_INCOMING_CALL);
	ck_assert_uint_eq(t.m.incoming_call->caller.len, Q_AESA_LEN);
	ck_assert_mem_eq(t.m.incoming_call->caller.data, aesa, Q_AESA_LEN);
	ck_assert_uint_eq(t.m.incoming_call->params->peak_kbps, 100);
	ck_assert_uint_eq(t.m.incoming_call->selector, 7);

	struct cc_client_event dp = { .type = CC_CEV_INCOMING_DROP_PARTY, .vc = 8, .party = 9,
				      .cause = 31, .data_len = 2, .data = { 0xaa, 0xbb } };
	ck_assert_str_eq(translate_client_event(&dp, &t), "incoming-drop-party");
	ck_assert_int_eq(t.m.body_case, CALLMGR__DAEMON_MSG__BODY_INCOMING_DROP_PARTY);
	ck_assert_uint_eq(t.m.incoming_drop_party->cause, 31);
	ck_assert_uint_eq(t.m.incoming_drop_party->data.len, 2);
	ck_assert_uint_eq(t.m.incoming_drop_party->data.data[1], 0xbb);

	struct cc_client_event bad = { .type = 200 };
	ck_assert_ptr_null(translate_client_event(&bad, &t));
}
END_TEST

/* A refusal goes to the asker as an Error naming the reason. */
START_TEST(refusals)
{
	struct cc_client_event ce = { .type = CC_CEV_REFUSED, .session = 3, .req_id = 5,
				      .status = CM_E_UNREACHABLE };
	memcpy(ce.caller, aesa, Q_AESA_LEN);
	struct translate_msg t;
	ck_assert_str_eq(translate_client_event(&ce, &t), "request-refused");
	ck_assert(cc_cev_ends_request(ce.type));
	ck_assert_int_eq(t.m.body_case, CALLMGR__DAEMON_MSG__BODY_ERROR);
	ck_assert_uint_eq(t.m.req_id, 5);
	ck_assert_uint_eq(t.m.error->req_id, 5);
	ck_assert_int_eq(t.m.error->status, CM_E_UNREACHABLE);
	ck_assert(!t.m.error->fatal);
	ck_assert_str_eq(t.m.error->message, "02:00:00:00:00:05 is not in allowed_peers");
	ce.status = CM_E_STATE;
	translate_client_event(&ce, &t);
	ck_assert_str_eq(t.m.error->message, "the daemon is shutting down");
}
END_TEST

START_TEST(monitor_event)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
	Callmgr__MonitorEvent m;
	translate_monitor(&m, 1234, "link-down", 0, 0, 0, 0, 0, mac, NULL);
	ck_assert_uint_eq(m.time_ms, 1234);
	ck_assert_str_eq(m.kind, "link-down");
	ck_assert_uint_eq(m.peer.len, 6);
	ck_assert_mem_eq(m.peer.data, mac, 6);
	ck_assert_str_eq(m.text, "");
	translate_monitor(&m, 1, "session-closed", 4, 0, 0, 0, 0, NULL, "gone");
	ck_assert_uint_eq(m.peer.len, 0);
	ck_assert_str_eq(m.text, "gone");
}
END_TEST

int main(void)
{
	CK_RUN("daemon-translate", NULL, NULL, make_call, bounds_and_kinds, completions,
	       indications, refusals, monitor_event);
}
