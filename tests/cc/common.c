/* SPDX-License-Identifier: MIT */
#include "common.h"

#include <check.h>
#include <stdlib.h>

struct drv d;
struct cc_mac P;

void common_setup(void)
{
	drv_init(&d, NULL);
	P = drv_mac(2);
}

void common_teardown(void)
{
	drv_free(&d);
}

const struct cc_client_event *must_done(const char *file, int line, uint64_t req)
{
	const struct cc_client_event *e = drv_done(&d, req);
	ck_assert_msg(e != NULL, "%s:%d: request %llu has no completion", file, line,
		      (unsigned long long)req);
	return e;
}

const struct cc_client_event *must_cev(const char *file, int line, uint8_t type, size_t n)
{
	const struct cc_client_event *e = drv_cev(&d, type, n);
	ck_assert_msg(e != NULL, "%s:%d: no client event %u #%zu (%zu seen)", file, line, type, n,
		      drv_ncev(&d, type));
	return e;
}

const struct cc_action *must_sent(const char *file, int line, uint8_t type, size_t n)
{
	const struct cc_action *a = drv_sent(&d, type, n);
	ck_assert_msg(a != NULL, "%s:%d: no message 0x%02x #%zu sent (%zu seen)", file, line, type,
		      n, drv_nsent(&d, type));
	return a;
}

int req_status(uint64_t req)
{
	const struct cc_client_event *e = drv_done(&d, req);
	return e ? e->status : NONE;
}

int main(void)
{
	SRunner *sr = srunner_create(cc_test_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void root_calling(struct rcall *k)
{
	uint8_t a[20];
	drv_addr(a, P, 5);
	drv_clear(&d);
	k->make_req = drv_make_call(&d, ROOT, a);
	const struct cc_action *s = drv_sent(&d, Q_MSG_SETUP, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_mem_eq(s->peer.a, P.a, 6);
	ck_assert(!s->msg.cref_flag);
	ck_assert_uint_ne(s->msg.cref, 0);
	k->cref = s->msg.cref;
	k->vc = 0;
	struct cc_vc_info vi[64];
	size_t n = cc_vc_list(d.c, 0, vi, 64);
	ck_assert_uint_gt(n, 0);
	k->vc = vi[n - 1].vc; /* the newest */
	k->a = last_party(k->vc);
}

void root_active(struct rcall *k)
{
	root_calling(k);
	drv_clear(&d);
	peer_send(Q_MSG_CONNECT, k->cref, true, 0, 0);
	ck_assert_uint_eq(drv_nsent(&d, Q_MSG_CONNECT_ACK), 1);
	const struct cc_client_event *mc = drv_done(&d, k->make_req);
	ck_assert_ptr_nonnull(mc);
	ck_assert_int_eq(mc->status, CM_OK);
	ck_assert_uint_eq(mc->vc, k->vc);
	ck_assert_uint_eq(mc->party, k->a);
}

uint64_t root_add(struct rcall *k, uint8_t sel, uint16_t *epref, cm_party_id *party)
{
	uint8_t a[20];
	drv_addr(a, P, sel);
	drv_clear(&d);
	uint64_t r = drv_add_party(&d, ROOT, k->vc, a);
	const struct cc_action *s = drv_sent(&d, Q_MSG_ADD_PARTY, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->msg.cref, k->cref);
	ck_assert(!s->msg.epref.flag);
	*epref = s->msg.epref.value;
	*party = last_party(k->vc);
	ck_assert(drv_running(&d, CC_T399, *party));
	return r;
}

int party_state(cm_vc_id vc, cm_party_id p)
{
	struct cc_party_info pi[64];
	size_t n = cc_party_list(d.c, vc, 0, pi, 64);
	for (size_t i = 0; i < n; i++)
		if (pi[i].party == p)
			return pi[i].state;
	return -1;
}

int call_state(cm_vc_id vc, uint32_t cref)
{
	struct cc_party_info pi[64];
	size_t n = cc_party_list(d.c, vc, 0, pi, 64);
	for (size_t i = 0; i < n; i++)
		if (pi[i].cref == cref && pi[i].call_state)
			return pi[i].call_state;
	return 0;
}

cm_party_id last_party(cm_vc_id vc)
{
	struct cc_party_info pi[64];
	size_t n = cc_party_list(d.c, vc, 0, pi, 64);
	return n ? pi[n - 1].party : 0;
}

struct q_msg setup_msg(uint32_t cref, uint8_t sel)
{
	struct q_msg m = pmsg(Q_MSG_SETUP, cref, false, 0, 0);
	m.bearer.present = true;
	m.bearer.bearer_class = 0x10;
	m.bearer.p2mp = true;
	m.traffic.present = true;
	m.traffic.fwd_peak_cr = m.traffic.bwd_peak_cr = 23584;
	m.called.present = true;
	drv_addr(m.called.aesa, d.me, sel);
	m.calling.present = true;
	drv_addr(m.calling.aesa, P, 0);
	m.aal.present = true;
	m.aal.fwd_max_sdu = m.aal.bwd_max_sdu = 1500;
	m.qos.present = true;
	return m;
}

void leaf_offered(struct lcall *k, uint32_t cref)
{
	drv_register(&d, LEAF1, 1);
	drv_register(&d, LEAF2, 2);
	drv_clear(&d);
	struct q_msg m = setup_msg(cref, 1);
	drv_msg(&d, P, &m);
	const struct cc_client_event *ic = drv_cev(&d, CC_CEV_INCOMING_CALL, 0);
	ck_assert_ptr_nonnull(ic);
	ck_assert_uint_eq(ic->session, LEAF1);
	ck_assert_uint_eq(ic->params.max_sdu, 1500);
	ck_assert_uint_eq(ic->params.peak_kbps, 23584u * 424 / 1000);
	ck_assert_mem_eq(ic->caller, m.calling.aesa, 20);
	k->cref = cref;
	k->vc = ic->vc;
	k->party = ic->party;
}

void leaf_active(struct lcall *k, uint32_t cref)
{
	leaf_offered(k, cref);
	drv_clear(&d);
	drv_accept(&d, LEAF1, k->vc, k->party);
	const struct cc_action *co = drv_sent(&d, Q_MSG_CONNECT, 0);
	ck_assert_ptr_nonnull(co);
	ck_assert(co->msg.cref_flag);
	ck_assert(co->msg.epref.flag);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_CALL_CONNECTED), 0);
	peer_send(Q_MSG_CONNECT_ACK, cref, false, -1, 0);
	ck_assert_uint_eq(drv_ncev(&d, CC_CEV_CALL_CONNECTED), 1);
}

void leaf_add_offered(const struct lcall *k, uint16_t epref, uint8_t sel, struct lcall *out)
{
	drv_clear(&d);
	struct q_msg m = pmsg(Q_MSG_ADD_PARTY, k->cref, false, epref, 0);
	m.called.present = true;
	drv_addr(m.called.aesa, d.me, sel);
	m.calling.present = true;
	drv_addr(m.calling.aesa, P, 0);
	drv_msg(&d, P, &m);
	const struct cc_client_event *ic = drv_cev(&d, CC_CEV_INCOMING_CALL, 0);
	ck_assert_ptr_nonnull(ic);
	out->cref = k->cref;
	out->vc = ic->vc;
	out->party = ic->party;
}
