/* SPDX-License-Identifier: MIT */
/*
 * One Check main() for a test file with one test case: name the suite,
 * the fixture (NULL for none) and the tests; the exit status is the verdict.
 */
#ifndef CALLMGR_TESTS_CK_RUN_H
#define CALLMGR_TESTS_CK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int ck_run(const char *name, void (*setup)(void), void (*teardown)(void),
			 const TTest *const *tests, size_t n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create(name);
	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define CK_RUN(name, setup, teardown, ...)                                                       \
	do {                                                                                     \
		const TTest *const ck_tests_[] = { __VA_ARGS__ };                                \
		return ck_run(name, setup, teardown, ck_tests_,                                 \
			      sizeof(ck_tests_) / sizeof(ck_tests_[0]));                         \
	} while (0)

#endif
