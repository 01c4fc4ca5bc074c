/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text for details and fixes. An allocation failure is recorded in the probe
 * rather than returned, so a check can build its text straight through and
 * vfk_checks_run() still refuses the whole result.
 */
#include <stdarg.h>
#include <stdio.h>

#include "check/check.h"

char *xasprintf(struct probe *p, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		probe_oom(p);
		return NULL;
	}
	return s;
}

/* Room for @need more bytes and the NUL; false (and the probe told) on OOM. */
static bool sb_grow(struct sbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	char *ns;

	while (cap < b->len + need + 1)
		cap *= 2;
	ns = realloc(b->s, cap);
	if (!ns) {
		probe_oom(b->p);
		return false;
	}
	b->s = ns;
	b->cap = cap;
	if (b->len == 0)
		b->s[0] = '\0';
	return true;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->p->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			probe_oom(b->p);
			return;
		}
		if (b->s && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		if (!sb_grow(b, (size_t)n))
			return;
	}
}

char *sb_take(struct sbuf *b)
{
	char *s = b->s;

	b->s = NULL;
	if (!s)
		return NULL;
	if (b->p->oom) {
		free(s);
		return NULL;
	}
	while (b->len > 0 && s[b->len - 1] == '\n')
		s[--b->len] = '\0';
	b->len = b->cap = 0;
	return s;
}

void sb_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}
