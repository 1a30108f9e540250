/* SPDX-License-Identifier: MIT */
/*
 * The data path's one hash: intrusive nodes keyed by a 64-bit id (a VC, a
 * party or a leg), chained, growing by doubling.  Deleting a node during
 * a walk is fine if the walk saved next first.
 */
#ifndef CALLMGR_DATA_DTAB_H
#define CALLMGR_DATA_DTAB_H

#include <stddef.h>
#include <stdint.h>

struct dnode {
	struct dnode *next;
	uint64_t key;
};

struct dtab {
	struct dnode **b;
	size_t nb, n;
};

/* NULL when absent. */
struct dnode *dt_find(const struct dtab *t, uint64_t key);
/* 0, or -1 when out of memory (n is then not added). */
int dt_add(struct dtab *t, struct dnode *n, uint64_t key);
void dt_del(struct dtab *t, struct dnode *n);
/* The bucket array; the nodes are the caller's. */
void dt_free(struct dtab *t);

#endif
