/* SPDX-License-Identifier: MIT */
/* timers.c on a real event_base: start, restart, stop, expiry order, growth. */
#include <check.h>
#include <stdlib.h>

#include <event2/event.h>

#include "timers.h"
#include "../ck_run.h"

static struct cc_timer_key fired[4096];
static size_t nfired;
static struct timers *T;

static void expired(void *ctx, struct cc_timer_key k)
{
	ck_assert_ptr_eq(ctx, &nfired);
	ck_assert(!timers_running(T, k)); /* out of the table before the callback */
	fired[nfired++] = k;
}

static struct event_base *setup(void)
{
	struct event_base *b = event_base_new();
	ck_assert_ptr_nonnull(b);
	T = timers_new(b, expired, &nfired);
	ck_assert_ptr_nonnull(T);
	nfired = 0;
	return b;
}

START_TEST(start_stop_expire)
{
	struct event_base *b = setup();
	struct cc_timer_key a = { CC_T303, 1 }, c = { CC_T303, 2 }, p = { CC_T309, 1 };
	ck_assert_int_eq(timers_start(T, a, 30), CM_OK);
	ck_assert_int_eq(timers_start(T, c, 10), CM_OK);
	ck_assert_int_eq(timers_start(T, p, 20), CM_OK);
	ck_assert_uint_eq(timers_count(T), 3);
	/* the same key is one timer, started again */
	ck_assert_int_eq(timers_start(T, a, 5), CM_OK);
	ck_assert_uint_eq(timers_count(T), 3);
	ck_assert(timers_running(T, p));
	timers_stop(T, p);
	timers_stop(T, p); /* not running: nothing */
	ck_assert(!timers_running(T, p));
	ck_assert_uint_eq(timers_count(T), 2);
	event_base_dispatch(b);
	ck_assert_uint_eq(nfired, 2);
	ck_assert_uint_eq(fired[0].obj, 1); /* restarted to 5 ms: first */
	ck_assert_uint_eq(fired[1].obj, 2);
	ck_assert_uint_eq(timers_count(T), 0);
	timers_free(T);
	event_base_free(b);
}
END_TEST

/* Past the first table size the buckets double; every timer is still found. */
START_TEST(many)
{
	struct event_base *b = setup();
	for (uint64_t i = 0; i < 2000; i++)
		ck_assert_int_eq(timers_start(T, (struct cc_timer_key){ CC_T399, i }, 1), CM_OK);
	for (uint64_t i = 0; i < 2000; i += 2)
		timers_stop(T, (struct cc_timer_key){ CC_T399, i });
	ck_assert_uint_eq(timers_count(T), 1000);
	for (uint64_t i = 0; i < 2000; i++)
		ck_assert(timers_running(T, (struct cc_timer_key){ CC_T399, i }) == (i % 2 == 1));
	event_base_dispatch(b);
	ck_assert_uint_eq(nfired, 1000);
	for (size_t i = 0; i < nfired; i++)
		ck_assert_uint_eq(fired[i].obj % 2, 1);
	/* freeing with timers still running runs no callback */
	timers_start(T, (struct cc_timer_key){ CC_T308, 1 }, 1000);
	timers_free(T);
	ck_assert_uint_eq(nfired, 1000);
	event_base_free(b);
}
END_TEST

int main(void)
{
	CK_RUN("daemon-timers", NULL, NULL, start_stop_expire, many);
}
