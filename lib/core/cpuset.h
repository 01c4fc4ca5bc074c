/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sets of host CPUs in the kernel's list format ("0-3,8") (cpuset.c).
 */
#ifndef VFK_CPUSET_H
#define VFK_CPUSET_H

#include <stdint.h>
#include <string.h>
#include "core/internal.h"

#define VFK_MAX_CPUS 4096
struct cpuset {
	uint64_t bits[VFK_MAX_CPUS / 64];
};
static inline void cpuset_zero(struct cpuset *s) { memset(s, 0, sizeof(*s)); }
static inline void cpuset_set(struct cpuset *s, unsigned int c)
{
	if (c < VFK_MAX_CPUS)
		s->bits[c / 64] |= UINT64_C(1) << (c % 64);
}
static inline bool cpuset_has(const struct cpuset *s, int c)
{
	return c >= 0 && c < VFK_MAX_CPUS && (s->bits[c / 64] >> (c % 64)) & 1;
}
static inline void cpuset_or(struct cpuset *to, const struct cpuset *from)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(to->bits); i++)
		to->bits[i] |= from->bits[i];
}
unsigned int cpuset_count(const struct cpuset *s);
/* "0-3,8,10-11" -> set. 0 or -EINVAL (also for CPUs >= VFK_MAX_CPUS). */
int cpuset_parse(const char *list, struct cpuset *out);
/* The kernel's list format; "" for the empty set. Writes into @buf. */
char *cpuset_format(const struct cpuset *s, char *buf, size_t size);
bool cpuset_subset(const struct cpuset *a, const struct cpuset *b);

#endif
