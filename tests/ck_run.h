/* SPDX-License-Identifier: MIT */
/*
 * One Check main() for a test file with one test case: name the suite,
 * the fixture (NULL for none) and the tests; the exit status is the verdict.
 */
#ifndef CALLMGR_TESTS_CK_RUN_H
#define CALLMGR_TESTS_CK_RUN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One case of a file whose cases run one per process (meson test per case). */
struct ck_named {
	const char *name;
	const TTest *test;
	int timeout; /* seconds */
};

/*
 * Run the case argv[1] names, or every case without one, each in a test
 * case of its own with its timeout.  An unknown name is exit status 2.
 */
static inline int ck_run_named(const char *suite, int argc, char **argv,
			       const struct ck_named *cases, size_t n)
{
	Suite *s = suite_create(suite);
	int added = 0;
	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		TCase *tc = tcase_create(cases[i].name);
		tcase_set_timeout(tc, cases[i].timeout);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
		added++;
	}
	if (!added) {
		fprintf(stderr, "unknown case %s\n", argv[1]); /* the process ends: s with it */
		return 2;
	}
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
