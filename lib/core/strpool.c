/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Interned strings. A host of 65,536 functions has a handful of distinct
 * driver and device names; storing each once keeps a scan small.
 */
#include "core/internal.h"
#include "core/strpool.h"

struct strpool_entry {
	struct strpool_entry *next;
	char s[];
};

static size_t hash_str(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static int grow(struct strpool *pool)
{
	size_t n = pool->nbuckets ? pool->nbuckets * 2 : 64, i;
	struct strpool_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (i = 0; i < pool->nbuckets; i++) {
		struct strpool_entry *e = pool->buckets[i], *next;
		for (; e; e = next) {
			size_t k = hash_str(e->s) & (n - 1);
			next = e->next;
			e->next = b[k];
			b[k] = e;
		}
	}
	free(pool->buckets);
	pool->buckets = b;
	pool->nbuckets = n;
	return 0;
}

const char *strpool_intern(struct strpool *pool, const char *s)
{
	struct strpool_entry *e;
	size_t k, len;

	if (!s)
		return NULL;
	if (pool->count >= pool->nbuckets && grow(pool) < 0)
		return NULL;
	k = hash_str(s) & (pool->nbuckets - 1);
	for (e = pool->buckets[k]; e; e = e->next)
		if (streq(e->s, s))
			return e->s;
	len = strlen(s);
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	memcpy(e->s, s, len + 1);
	e->next = pool->buckets[k];
	pool->buckets[k] = e;
	pool->count++;
	return e->s;
}

void strpool_clear(struct strpool *pool)
{
	size_t i;

	for (i = 0; i < pool->nbuckets; i++) {
		struct strpool_entry *e = pool->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(pool->buckets);
	memset(pool, 0, sizeof(*pool));
}
