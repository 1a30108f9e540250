/* SPDX-License-Identifier: MIT */
/* The generated protocol packs and unpacks, and tolerates unknown fields. */
#include <check.h>
#include <stdlib.h>

#include "callmgr.pb-c.h"
#include "../ck_run.h"

START_TEST(drop_party_round_trip)
{
	Callmgr__ClientMsg m = CALLMGR__CLIENT_MSG__INIT;
	Callmgr__DropParty d = CALLMGR__DROP_PARTY__INIT;
	uint8_t data[3] = { 1, 2, 3 };
	d.vc = 7;
	d.party = 9;
	d.data.data = data;
	d.data.len = sizeof(data);
	m.req_id = 42;
	m.body_case = CALLMGR__CLIENT_MSG__BODY_DROP_PARTY;
	m.drop_party = &d;

	uint8_t buf[128];
	size_t n = callmgr__client_msg__get_packed_size(&m);
	ck_assert_uint_le(n, sizeof(buf));
	ck_assert_uint_eq(callmgr__client_msg__pack(&m, buf), n);

	Callmgr__ClientMsg *u = callmgr__client_msg__unpack(NULL, n, buf);
	ck_assert_ptr_nonnull(u);
	ck_assert_uint_eq(u->req_id, 42);
	ck_assert_int_eq(u->body_case, CALLMGR__CLIENT_MSG__BODY_DROP_PARTY);
	ck_assert_uint_eq(u->drop_party->vc, 7);
	ck_assert_uint_eq(u->drop_party->party, 9);
	ck_assert_uint_eq(u->drop_party->data.len, 3);
	ck_assert_uint_eq(u->drop_party->data.data[2], 3);
	callmgr__client_msg__free_unpacked(u, NULL);
}
END_TEST

START_TEST(unknown_body_is_not_set)
{
	/* field 99, varint 1: a case a newer peer might send */
	const uint8_t buf[] = { 0x08, 0x05, 0x98, 0x06, 0x01 };
	Callmgr__DaemonMsg *u = callmgr__daemon_msg__unpack(NULL, sizeof(buf), buf);
	ck_assert_ptr_nonnull(u);
	ck_assert_uint_eq(u->seq, 5);
	ck_assert_int_eq(u->body_case, CALLMGR__DAEMON_MSG__BODY__NOT_SET);
	callmgr__daemon_msg__free_unpacked(u, NULL);
}
END_TEST

START_TEST(garbage_is_refused)
{
	const uint8_t buf[] = { 0x12, 0x7f, 0x01 }; /* length beyond the end */
	ck_assert_ptr_null(callmgr__client_msg__unpack(NULL, sizeof(buf), buf));
}
END_TEST

int main(void)
{
	CK_RUN_CASES("proto", CK_FORK_GETENV,
		CK_CASE("core", NULL, NULL, 0, CK_TEST(drop_party_round_trip),
			CK_TEST(unknown_body_is_not_set), CK_TEST(garbage_is_refused)));
}
