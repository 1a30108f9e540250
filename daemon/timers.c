/* SPDX-License-Identifier: MIT */
#include "timers.h"

#include <stdlib.h>

#include <event2/event.h>

/* A running cc timer: libevent timer keyed by (kind, object). */
struct dtimer {
	struct timers *owner;
	struct cc_timer_key key;
	struct event *ev;
	struct dtimer *next;
};

struct timers {
	struct event_base *base;
	void (*expired)(void *ctx, struct cc_timer_key key);
	void *ctx;
	struct dtimer **tb; /* hash buckets, a power of two of them */
	size_t ntb, n;
};

struct timers *timers_new(struct event_base *base,
			  void (*expired)(void *ctx, struct cc_timer_key key), void *ctx)
{
	struct timers *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->base = base;
	t->expired = expired;
	t->ctx = ctx;
	t->ntb = 256;
	t->tb = calloc(t->ntb, sizeof(struct dtimer *));
	if (!t->tb) {
		free(t);
		return NULL;
	}
	return t;
}

static size_t bucket(const struct timers *t, struct cc_timer_key k)
{
	uint64_t h = (k.obj ^ ((uint64_t)k.kind << 56)) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 29) & (t->ntb - 1);
}

static struct dtimer **slot(const struct timers *t, struct cc_timer_key k)
{
	struct dtimer **pp = &t->tb[bucket(t, k)];
	while (*pp && ((*pp)->key.kind != k.kind || (*pp)->key.obj != k.obj))
		pp = &(*pp)->next;
	return pp;
}

static void grow(struct timers *t)
{
	size_t n = t->ntb * 2;
	struct dtimer **nb = calloc(n, sizeof(struct dtimer *));
	if (!nb)
		return; /* longer chains, still correct */
	struct dtimer **old = t->tb;
	size_t oldn = t->ntb;
	t->tb = nb;
	t->ntb = n;
	for (size_t i = 0; i < oldn; i++) {
		for (struct dtimer *x = old[i], *next; x; x = next) {
			next = x->next;
			size_t b = bucket(t, x->key);
			x->next = nb[b];
			nb[b] = x;
		}
	}
	free(old);
}

static void unlink_free(struct timers *t, struct dtimer **pp)
{
	struct dtimer *x = *pp;
	*pp = x->next;
	t->n--;
	event_free(x->ev);
	free(x);
}

static void fired(evutil_socket_t fd, short what, void *arg)
{
	struct dtimer *x = arg;
	struct timers *t = x->owner;
	struct cc_timer_key k = x->key;
	unlink_free(t, slot(t, k));
	t->expired(t->ctx, k);
}

int timers_start(struct timers *t, struct cc_timer_key k, uint32_t ms)
{
	struct dtimer **pp = slot(t, k);
	struct dtimer *x = *pp;
	if (!x) {
		if (t->n + 1 > t->ntb * 2) {
			grow(t);
			pp = slot(t, k);
		}
		x = calloc(1, sizeof(*x));
		if (!x || !(x->ev = evtimer_new(t->base, fired, x))) {
			free(x);
			return CM_E_NOMEM;
		}
		x->owner = t;
		x->key = k;
		*pp = x;
		t->n++;
	}
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(x->ev, &tv);
	return CM_OK;
}

void timers_stop(struct timers *t, struct cc_timer_key k)
{
	struct dtimer **pp = slot(t, k);
	if (*pp)
		unlink_free(t, pp);
}

bool timers_running(const struct timers *t, struct cc_timer_key k)
{
	return *slot(t, k) != NULL;
}

size_t timers_count(const struct timers *t)
{
	return t->n;
}

void timers_free(struct timers *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ntb; i++)
		while (t->tb[i])
			unlink_free(t, &t->tb[i]);
	free(t->tb);
	free(t);
}
