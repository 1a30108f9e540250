/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "callmgr/client.h"
#include "../ck_run.h"

START_TEST(every_status_has_its_own_text)
{
	for (int s = CM_STATUS_MIN; s <= 0; s++) {
		const char *t = cm_strerror(s);
		ck_assert_ptr_nonnull(t);
		ck_assert_str_ne(t, "unknown status");
		for (int o = CM_STATUS_MIN; o < s; o++)
			ck_assert_str_ne(t, cm_strerror(o));
	}
}
END_TEST

START_TEST(out_of_range_is_unknown)
{
	ck_assert_str_eq(cm_strerror(1), "unknown status");
	ck_assert_str_eq(cm_strerror(CM_STATUS_MIN - 1), "unknown status");
	ck_assert_str_eq(cm_strerror(-1000000), "unknown status");
}
END_TEST

int main(void)
{
	CK_RUN_CASES("strerror", CK_FORK_GETENV,
		CK_CASE("core", NULL, NULL, 0, CK_TEST(every_status_has_its_own_text),
			CK_TEST(out_of_range_is_unknown)));
}
