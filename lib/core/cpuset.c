/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CPU sets and the kernel's CPU list format ("0-3,8,10-11"). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/cpuset.h"

unsigned int cpuset_count(const struct cpuset *s)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(s->bits); i++)
		n += (unsigned int)__builtin_popcountll(s->bits[i]);
	return n;
}

int cpuset_parse(const char *list, struct cpuset *out)
{
	const char *p = list;

	cpuset_zero(out);
	if (!list)
		return neg_errno(EINVAL);
	while (*p == ' ')
		p++;
	if (!*p)
		return 0;
	for (;;) {
		char *end;
		unsigned long a, b;

		if (!isdigit((unsigned char)*p))
			return neg_errno(EINVAL);
		a = strtoul(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return neg_errno(EINVAL);
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (b < a || b >= VFK_MAX_CPUS)
			return neg_errno(EINVAL);
		for (; a <= b; a++)
			cpuset_set(out, (unsigned int)a);
		if (*p == ',') {
			p++;
			continue;
		}
		while (*p == ' ' || *p == '\n')
			p++;
		return *p ? neg_errno(EINVAL) : 0;
	}
}

char *cpuset_format(const struct cpuset *s, char *buf, size_t size)
{
	size_t len = 0;
	int c = 0;

	if (size)
		buf[0] = '\0';
	while (c < VFK_MAX_CPUS) {
		int end;

		if (!cpuset_has(s, c)) {
			c++;
			continue;
		}
		end = c;
		while (end + 1 < VFK_MAX_CPUS && cpuset_has(s, end + 1))
			end++;
		if (len < size)
			len += (size_t)snprintf(buf + len, size - len, end == c ? "%s%d" : "%s%d-%d",
						len ? "," : "", c, end);
		c = end + 1;
	}
	return buf;
}

bool cpuset_subset(const struct cpuset *a, const struct cpuset *b)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(a->bits); i++)
		if (a->bits[i] & ~b->bits[i])
			return false;
	return true;
}
