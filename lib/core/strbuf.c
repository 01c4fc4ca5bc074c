/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growing strings and string lists for the plan and its emitters. */
#include <stdarg.h>
#include <stdio.h>

#include "core/strbuf.h"

char *vstrdupf(const char *fmt, va_list ap)
{
	char *s;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *strdupf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vstrdupf(fmt, ap);
	va_end(ap);
	return s;
}

int strv_add(struct strv *s, const char *str)
{
	char **v;
	char *copy = strdup(str);

	if (!copy)
		return neg_errno(ENOMEM);
	v = realloc(s->v, (s->n + 2) * sizeof(*v));
	if (!v) {
		free(copy);
		return neg_errno(ENOMEM);
	}
	v[s->n++] = copy;
	v[s->n] = NULL;
	s->v = v;
	return 0;
}

int strv_addf(struct strv *s, const char *fmt, ...)
{
	_cleanup_free_ char *str = NULL;
	va_list ap;

	va_start(ap, fmt);
	str = vstrdupf(fmt, ap);
	va_end(ap);
	return str ? strv_add(s, str) : neg_errno(ENOMEM);
}

void strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Room for @n more bytes and the NUL; false, and the buffer failed, on ENOMEM. */
static bool sbuf_grow(struct sbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap * 2 : 256;
	char *p;

	if (b->len + n + 1 <= b->cap)
		return true;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->s, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->s = p;
	b->cap = cap;
	return true;
}

void sbuf_addn(struct sbuf *b, const char *str, size_t n)
{
	if (b->failed || !sbuf_grow(b, n))
		return;
	memcpy(b->s + b->len, str, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sbuf_add(struct sbuf *b, const char *str)
{
	sbuf_addn(b, str, strlen(str));
}

/* Formatted into a string of its own first: an argument may point into @b
 * itself, which formatting in place would read while writing over it. */
void sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	_cleanup_free_ char *str = NULL;
	va_list ap;

	va_start(ap, fmt);
	str = vstrdupf(fmt, ap);
	va_end(ap);
	if (str)
		sbuf_add(b, str);
	else
		b->failed = true;
}

char *sbuf_take(struct sbuf *b)
{
	char *s = b->failed ? NULL : b->s;

	if (b->failed)
		free(b->s);
	else if (!s)
		s = strdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	b->failed = false;
	return s;
}

void sbuf_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}
