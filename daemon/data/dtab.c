/* SPDX-License-Identifier: MIT */
#include "dtab.h"

#include <stdlib.h>

static size_t dt_slot(size_t nb, uint64_t key)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (nb - 1);
}

struct dnode *dt_find(const struct dtab *t, uint64_t key)
{
	if (!t->nb)
		return NULL;
	for (struct dnode *n = t->b[dt_slot(t->nb, key)]; n; n = n->next)
		if (n->key == key)
			return n;
	return NULL;
}

int dt_add(struct dtab *t, struct dnode *n, uint64_t key)
{
	if (t->n + 1 > t->nb) {
		size_t nb = t->nb ? t->nb * 2 : 16;
		struct dnode **b = calloc(nb, sizeof(struct dnode *));
		if (!b)
			return -1;
		for (size_t i = 0; i < t->nb; i++)
			for (struct dnode *m = t->b[i], *next; m; m = next) {
				next = m->next;
				size_t s = dt_slot(nb, m->key);
				m->next = b[s];
				b[s] = m;
			}
		free(t->b);
		t->b = b;
		t->nb = nb;
	}
	n->key = key;
	size_t s = dt_slot(t->nb, key);
	n->next = t->b[s];
	t->b[s] = n;
	t->n++;
	return 0;
}

void dt_del(struct dtab *t, struct dnode *n)
{
	for (struct dnode **pp = &t->b[dt_slot(t->nb, n->key)]; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			t->n--;
			return;
		}
}

void dt_free(struct dtab *t)
{
	free(t->b);
	t->b = NULL;
	t->nb = t->n = 0;
}
