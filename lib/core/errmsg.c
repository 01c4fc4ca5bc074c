/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error lines that name a place in a file (errmsg.h). */
#include <stdarg.h>
#include <stdio.h>

#include "core/errmsg.h"

int vfk_fail_at(const struct vfk_where *w, int e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!w->err || !w->errsize)
		return neg_errno(e);
	n = snprintf(w->err, w->errsize, "%s:%u: ", w->path, w->line);
	if (n >= 0 && (size_t)n < w->errsize) {
		va_start(ap, fmt);
		vsnprintf(w->err + n, w->errsize - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return neg_errno(e);
}

const char *vfk_shown_n(const char *s, size_t len, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < len && s[i] && i < 40 && i + 1 < size; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}
