/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Error lines of the files vfiokit reads strictly (vfio-bind.conf, mdevctl
 * definitions, the journal): each names the place, "PATH:LINE: what", and
 * shows the file's own bytes only as harmless text.
 */
#ifndef VFK_ERRMSG_H
#define VFK_ERRMSG_H

#include <stdint.h>

#include "core/internal.h"

/* Where a strict parser is, for its messages. */
struct vfk_where {
	const char *path;
	unsigned int line;
	char *err;		/* the message goes here; NULL: none wanted */
	size_t errsize;
};

/* "PATH:LINE: what" into @w->err; returns -@e (errno set). */
int vfk_fail_at(const struct vfk_where *w, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Up to 40 of the @len bytes at @s (fewer at a NUL) for a message, control
 * and non-ASCII bytes as '?': a damaged file must not drive the terminal the
 * error is shown on. Returns @buf. */
const char *vfk_shown_n(const char *s, size_t len, char *buf, size_t size);

/* vfk_shown_n() of a C string. */
static inline const char *vfk_shown(const char *s, char *buf, size_t size)
{
	return vfk_shown_n(s, SIZE_MAX, buf, size);
}

#endif
