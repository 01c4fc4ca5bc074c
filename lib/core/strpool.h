/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VFK_STRPOOL_H
#define VFK_STRPOOL_H
#include <stddef.h>

struct strpool_entry;
struct strpool {
	struct strpool_entry **buckets;
	size_t nbuckets;
	size_t count;
};

/* Returns the pool's copy of @s (NULL for NULL or on ENOMEM). */
const char *strpool_intern(struct strpool *pool, const char *s);
void strpool_clear(struct strpool *pool);
#endif
