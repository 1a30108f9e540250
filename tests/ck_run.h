/* SPDX-License-Identifier: MIT */
/*
 * The one Check main() of the test programs: a program names its suite and
 * its test cases and returns what these return; the exit status is the
 * verdict (0 pass, 1 a test failed).
 *   ck_run / CK_RUN             one case named after the suite, plain tests
 *   ck_run_cases / CK_RUN_CASES cases of their own names, fixtures, timeouts,
 *                               loop tests; optionally a process per test
 *   ck_run_named                one case per process, picked by argv[1]
 */
#ifndef CALLMGR_TESTS_CK_RUN_H
#define CALLMGR_TESTS_CK_RUN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CK_N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Run s and free it.  fork is Check's: CK_FORK_GETENV leaves the choice to
 * the CK_FORK environment variable; CK_FORK forces a process per test for a
 * program whose tests change process-wide state (environment, statics).
 */
static inline int ck_finish(Suite *s, enum fork_status fork)
{
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, fork);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* One case named after the suite, with an optional fixture and Check's timeout. */
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
	return ck_finish(s, CK_FORK_GETENV);
}

/* One test of a case: it runs once for each _i in [start, end). */
struct ck_test {
	const TTest *test;
	int start, end;
};

#define CK_TEST(t)       { (t), 0, 1 }
#define CK_LOOP(t, s, e) { (t), (s), (e) }

/* One test case; its name is what failures print and what CK_RUN_CASE=name selects. */
struct ck_case {
	const char *name;
	void (*setup)(void); /* checked fixture; NULL and NULL for none */
	void (*teardown)(void);
	int timeout; /* seconds; 0 keeps Check's (4 s, or CK_DEFAULT_TIMEOUT) */
	const struct ck_test *tests;
	size_t n;
};

/* A struct ck_case initializer; the tests are CK_TEST and CK_LOOP entries. */
#define CK_CASE(name, setup, teardown, timeout, ...)                                             \
	{ (name), (setup), (teardown), (timeout), (const struct ck_test[]){ __VA_ARGS__ },      \
	  sizeof((const struct ck_test[]){ __VA_ARGS__ }) / sizeof(struct ck_test) }

/* Run every case, in order, in the suite named suite (see ck_finish for fork). */
static inline int ck_run_cases(const char *suite, enum fork_status fork,
			       const struct ck_case *cases, size_t n)
{
	Suite *s = suite_create(suite);
	for (size_t i = 0; i < n; i++) {
		const struct ck_case *c = &cases[i];
		TCase *tc = tcase_create(c->name);
		if (c->setup || c->teardown)
			tcase_add_checked_fixture(tc, c->setup, c->teardown);
		if (c->timeout > 0)
			tcase_set_timeout(tc, c->timeout);
		for (size_t j = 0; j < c->n; j++)
			tcase_add_loop_test(tc, c->tests[j].test, c->tests[j].start,
					    c->tests[j].end);
		suite_add_tcase(s, tc);
	}
	return ck_finish(s, fork);
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
	return ck_finish(s, CK_FORK_GETENV);
}

/* main()'s body for ck_run_cases: the cases are CK_CASE initializers. */
#define CK_RUN_CASES(suite, fork, ...)                                                           \
	do {                                                                                     \
		const struct ck_case ck_cases_[] = { __VA_ARGS__ };                              \
		return ck_run_cases(suite, fork, ck_cases_, CK_N(ck_cases_));                   \
	} while (0)

/* main()'s body for ck_run: the tests are TTest pointers. */
#define CK_RUN(name, setup, teardown, ...)                                                       \
	do {                                                                                     \
		const TTest *const ck_tests_[] = { __VA_ARGS__ };                                \
		return ck_run(name, setup, teardown, ck_tests_, CK_N(ck_tests_));               \
	} while (0)

#endif
