/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's users, by name and by uid: whom root grants a device to
 * (vfio-bind --for-user) and who holds one (vfio-bind status). A sysroot is
 * another machine's tree, so its own etc/passwd answers, read through the
 * rooted path layer; on the running host NSS answers too, as for login
 * (users from LDAP or systemd-homed are not in etc/passwd).
 */
#include <ctype.h>
#include <pwd.h>
#include <stdio.h>

#include "core/internal.h"

/* etc/passwd of a tree: a few hundred lines on a real host; a bound on what
 * a planted file makes us read */
#define PASSWD_MAX (1 << 20)

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	/* useradd's rule, widened to what NSS may return: no ':' or blank */
	if (n == 0 || n > 64 || name[0] == '-')
		return false;
	for (; *name; name++)
		if (*name == ':' || isspace((unsigned char)*name) || !isprint((unsigned char)*name))
			return false;
	return true;
}

/* One "name:pw:uid:gid:..." line; true when it parses. */
static bool passwd_line(char *line, struct vfk_user *u)
{
	char *f[4], *end;
	unsigned long uid, gid;
	int i;

	for (i = 0; i < 4; i++) {
		f[i] = strsep(&line, ":");
		if (!f[i])
			return false;
	}
	errno = 0;
	uid = strtoul(f[2], &end, 10);
	if (*end || !*f[2] || errno || uid > 0xfffffffeUL)
		return false;
	gid = strtoul(f[3], &end, 10);
	if (*end || !*f[3] || errno || gid > 0xfffffffeUL)
		return false;
	if (!name_ok(f[0]))
		return false;
	snprintf(u->name, sizeof(u->name), "%s", f[0]);
	u->uid = (unsigned int)uid;
	u->gid = (unsigned int)gid;
	return true;
}

/* The tree's etc/passwd: the first entry with @name (or, @name NULL, with
 * @uid). 0, -ENOENT, or -errno of the file. */
static int passwd_find(struct vfk_ctx *ctx, const char *name, unsigned int uid, struct vfk_user *out)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, "etc");
	_cleanup_free_ char *text = NULL;
	char *line, *next;
	int r;

	if (dfd < 0)
		return dfd;
	text = malloc(PASSWD_MAX);
	if (!text)
		return neg_errno(ENOMEM);
	r = vfk_read_in(ctx, dfd, "passwd", text, PASSWD_MAX);
	if (r < 0)
		return r;
	for (line = text; line && *line; line = next) {
		struct vfk_user u;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '#' || !passwd_line(line, &u))
			continue;
		if (name ? streq(u.name, name) : u.uid == uid) {
			*out = u;
			return 0;
		}
	}
	return neg_errno(ENOENT);
}

/* NSS, for the running host only: a fixture tree's users are its own. */
static int nss_find(struct vfk_ctx *ctx, const char *name, unsigned int uid, struct vfk_user *out)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (!vfk_ctx_is_live(ctx))
		return neg_errno(ENOENT);
	if (name ? getpwnam_r(name, &pw, buf, sizeof(buf), &res)
		 : getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res))
		return neg_errno(ENOENT);
	if (!res || !name_ok(res->pw_name))
		return neg_errno(ENOENT);
	snprintf(out->name, sizeof(out->name), "%s", res->pw_name);
	out->uid = (unsigned int)res->pw_uid;
	out->gid = (unsigned int)res->pw_gid;
	return 0;
}

int vfk_user_lookup(struct vfk_ctx *ctx, const char *name, struct vfk_user *out)
{
	int r;

	if (!ctx || !name || !out)
		return neg_errno(EINVAL);
	memset(out, 0, sizeof(*out));
	if (!name_ok(name))
		return neg_errno(EINVAL);
	/* a uid, as useradd allows no all-digit names */
	if (name[strspn(name, "0123456789")] == '\0' && strlen(name) < 11) {
		unsigned long long uid = strtoull(name, NULL, 10);
		return uid > 0xfffffffeULL ? neg_errno(ENOENT) : vfk_user_by_uid(ctx, (unsigned int)uid, out);
	}
	r = passwd_find(ctx, name, 0, out);
	if (r == 0 || (r != -ENOENT && !vfk_ctx_is_live(ctx)))
		return r;
	return nss_find(ctx, name, 0, out);
}

int vfk_user_by_uid(struct vfk_ctx *ctx, unsigned int uid, struct vfk_user *out)
{
	int r;

	if (!ctx || !out)
		return neg_errno(EINVAL);
	memset(out, 0, sizeof(*out));
	r = passwd_find(ctx, NULL, uid, out);
	if (r == 0 || (r != -ENOENT && !vfk_ctx_is_live(ctx)))
		return r;
	return nss_find(ctx, NULL, uid, out);
}
