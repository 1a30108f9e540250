/* SPDX-License-Identifier: MIT */
/*
 * Call control's running timers as libevent timers, keyed by
 * struct cc_timer_key: CC_ACT_TIMER_START/STOP land here, and an expiry
 * comes back through the callback given to timers_new().
 */
#ifndef CALLMGR_DAEMON_TIMERS_H
#define CALLMGR_DAEMON_TIMERS_H

#include <stdbool.h>
#include <stddef.h>

#include "cc/cc.h"

struct event_base;
struct timers;

/*
 * An empty table on base; expired(ctx, key) is called once per expiry,
 * after the timer has left the table (so it may start it again).  NULL
 * when out of memory.
 */
struct timers *timers_new(struct event_base *base,
			  void (*expired)(void *ctx, struct cc_timer_key key), void *ctx);
/* Stops and frees every timer; no callback runs.  NULL is fine. */
void timers_free(struct timers *t);

/*
 * Start k to expire in ms, or restart it if it runs.  CM_OK, or
 * CM_E_NOMEM: the timer is not running, and the caller ends the daemon
 * (log_oom(), the out-of-memory policy of docs/architecture.md).
 */
int timers_start(struct timers *t, struct cc_timer_key k, uint32_t ms);
/* Stop k; nothing when it is not running. */
void timers_stop(struct timers *t, struct cc_timer_key k);
/* Whether k runs. */
bool timers_running(const struct timers *t, struct cc_timer_key k);
/* How many run. */
size_t timers_count(const struct timers *t);

#endif
