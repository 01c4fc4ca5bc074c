/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lists of strings and a growing string (strbuf.c): what profiles, plans
 * and emitters build their output with.
 */
#ifndef VFK_STRBUF_H
#define VFK_STRBUF_H

#include <stdarg.h>
#include "core/internal.h"

struct strv {
	char **v;
	size_t n;
};
/* asprintf() that returns the string (NULL on ENOMEM). */
char *strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *vstrdupf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

int strv_add(struct strv *s, const char *str);
int strv_addf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *s);

/* A growing string (asprintf-style appends; on ENOMEM it stays failed). */
struct sbuf {
	char *s;
	size_t len, cap;
	bool failed;
};
void sbuf_add(struct sbuf *b, const char *str);
void sbuf_addn(struct sbuf *b, const char *str, size_t n);
void sbuf_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand out the string (NULL after a failed append); the buffer is reset. */
char *sbuf_take(struct sbuf *b);
void sbuf_free(struct sbuf *b);

#endif
