/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers used inside lib/, tools/ and tests/ — never in the public header. */
#ifndef VFK_MACRO_H
#define VFK_MACRO_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

#define streq(a, b) (strcmp((a), (b)) == 0)
#define startswith(s, p) (strncmp((s), (p), strlen(p)) == 0)

/* Milliseconds on the monotonic clock, for timeouts. */
static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Room for @need elements in array @p of capacity @cap (both updated): the
 * capacity doubles, so appending n elements one at a time costs O(n) in all,
 * where growing by one each time copies O(n^2). 0 or -ENOMEM. */
#define GROW_ARRAY(p, cap, need)                                               \
	({                                                                     \
		int _r = 0;                                                    \
		if ((need) > (cap)) {                                          \
			size_t _c = (cap) ? (cap) : 8;                         \
			__typeof__(p) _n;                                      \
			while (_c < (need))                                    \
				_c *= 2;                                       \
			_n = reallocarray((p), _c, sizeof(*(p)));              \
			if (_n) {                                              \
				(p) = _n;                                      \
				(cap) = _c;                                    \
			} else {                                               \
				_r = -ENOMEM;                                  \
			}                                                      \
		}                                                              \
		_r;                                                            \
	})

/* qsort() of an empty list whose pointer is still NULL is undefined. */
static inline void qsort_safe(void *base, size_t n, size_t size,
			      int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

#endif
