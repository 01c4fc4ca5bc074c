/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text for details and fixes, and the results they go into. An allocation
 * failure is recorded in the probe rather than returned, so a check can
 * build its text straight through and vfk_checks_run() still refuses the
 * whole result.
 */
#include <stdarg.h>
#include <stdio.h>

#include "check/check.h"

char *check_xasprintf(struct probe *p, const char *fmt, ...)
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

char *check_sbuf_take(struct probe *p, struct sbuf *b)
{
	size_t len;
	char *s;

	if (!b->s && !b->failed)
		return NULL;
	s = sbuf_take(b);
	if (!s) {
		probe_oom(p);
		return NULL;
	}
	len = strlen(s);
	while (len > 0 && s[len - 1] == '\n')
		s[--len] = '\0';
	return s;
}

char *check_shown_path(struct probe *p, enum vfk_root root, const char *rel)
{
	char *s = vfk_root_path(p->ctx, root, rel);

	if (!s)
		s = check_xasprintf(p, "%s", rel);
	return s;
}

void check_set_result(struct check_impl *c, enum vfk_check_status status, char *detail, char *fix)
{
	c->pub.status = status;
	free(c->detail);
	free(c->fix);
	c->detail = detail;
	c->fix = status == VFK_CHECK_PASS ? (free(fix), NULL) : fix;
	c->pub.detail = c->detail ? c->detail : "";
	c->pub.fix = c->fix;
}

void check_set_unreadable(struct probe *p, struct check_impl *c, const char *name)
{
	_cleanup_free_ char *path = check_shown_path(p, VFK_ROOT_PROC, name);
	struct sbuf fix = { 0 };

	sbuf_addf(&fix, "check that %s is readable (procfs mounted?)", path ? path : name);
	check_set_result(c, VFK_CHECK_FAIL,
			 check_xasprintf(p, "cannot read %s", path ? path : name),
			 check_sbuf_take(p, &fix));
}
