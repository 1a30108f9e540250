/* SPDX-License-Identifier: MIT */
/*
 * common/names.c against proto/callmgr.proto: the stable identifier of
 * each state and timer is the proto enum's value name, and the numbers are
 * call control's own, so the daemon can pass them through unchanged.
 */
#include <check.h>
#include <stdlib.h>

#include "callmgr.pb-c.h"
#include "cc/cc.h"
#include "names.h"
#include "../ck_run.h"

static void same(const ProtobufCEnumDescriptor *d, const char *(*id)(unsigned),
		 const char *(*name)(unsigned))
{
	for (unsigned i = 0; i < d->n_values; i++) {
		const ProtobufCEnumValue *v = &d->values[i];
		ck_assert_str_eq(id((unsigned)v->value), v->name);
		ck_assert_str_ne(name((unsigned)v->value), "unknown");
	}
	ck_assert_str_eq(id(200), "unknown");
	ck_assert_str_eq(name(200), "unknown");
}

START_TEST(match_proto)
{
	same(&callmgr__vc_state__descriptor, cm_vc_state_id, cm_vc_state_name);
	same(&callmgr__party_state__descriptor, cm_party_state_id, cm_party_state_name);
	same(&callmgr__call_state__descriptor, cm_call_state_id, cm_call_state_name);
	same(&callmgr__timer__descriptor, cm_timer_id, cm_timer_name);
}
END_TEST

START_TEST(match_cc)
{
	ck_assert_str_eq(cm_vc_state_id(CC_VC_CLOSE_RECEIVED), "VC_CLOSE_RECEIVED");
	ck_assert_str_eq(cm_vc_state_name(CC_VC_ACTIVE), "active");
	ck_assert_str_eq(cm_party_state_name(Q_EPS_ALERTING_DELIVERED),
			 "PU3 Party Alerting Delivered");
	ck_assert_str_eq(cm_party_state_short(Q_EPS_DROP_PARTY_RECEIVED), "PU6");
	ck_assert_str_eq(cm_party_state_short(99), "PU?");
	ck_assert_str_eq(cm_call_state_name(10), "U10 Active");
	ck_assert_str_eq(cm_timer_name(CC_T399), "T399");
	ck_assert_str_eq(cm_timer_name(CC_TACCEPT), "accept");
	ck_assert_str_eq(cm_timer_id(CC_TACCEPT), "TIMER_ACCEPT");
	ck_assert_str_eq(cm_timer_name(0), "");
}
END_TEST

int main(void)
{
	CK_RUN("daemon-names", NULL, NULL, match_proto, match_cc);
}
