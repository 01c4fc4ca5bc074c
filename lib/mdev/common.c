/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every part of lib/mdev/ needs the same way: an operation's dry run and
 * its error line, the syntax of names and ids, and the sysfs readers, all
 * confined to the sysroot.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <uuid/uuid.h>

#include "mdev/mdev.h"

int op_error(char *buf, size_t size, int err, const char *fmt, ...)
{
	va_list ap;

	if (buf && size) {
		va_start(ap, fmt);
		vsnprintf(buf, size, fmt, ap);
		va_end(ap);
	}
	return neg_errno(err);
}

static int narrate_hook(void *data, const char *path, const char *value)
{
	struct vfk_ctx *ctx = data;
	const char *nl = strchr(value, '\n');

	if (nl && nl[1])
		vfk_progress(ctx, "%s <- (file, %zu bytes)", path, strlen(value));
	else
		vfk_progress(ctx, "%s <- %.*s", path, (int)strcspn(value, "\n"), value);
	return 1;
}

void op_begin(struct vfk_ctx *ctx, bool dry, char *errbuf, size_t errsize, struct op_hook *save)
{
	if (errbuf && errsize)
		errbuf[0] = '\0';
	save->hook = ctx->write_hook;
	save->data = ctx->write_data;
	save->dry = dry;
	if (dry)
		vfk_ctx_set_write_hook(ctx, narrate_hook, ctx);
}

int op_end(struct vfk_ctx *ctx, const struct op_hook *save, int r)
{
	vfk_ctx_set_write_hook(ctx, save->hook, save->data);
	return r;
}

bool mdev_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= max || streq(s, ".") || streq(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(":._-", s[i]))
			return false;
	return true;
}

int mdev_uuid_norm(const char *in, char *out)
{
	uuid_t u;

	if (strlen(in) != 36 || uuid_parse(in, u) < 0)
		return neg_errno(EINVAL);
	uuid_unparse_lower(u, out);
	return 0;
}

int mdev_uuid_or_new(const char *in, char *out)
{
	uuid_t raw;

	if (in)
		return mdev_uuid_norm(in, out);
	uuid_generate_random(raw);
	uuid_unparse_lower(raw, out);
	return 0;
}

bool mdev_pci_norm(const char *in, char *out)
{
	struct vfk_pci_addr a;

	if (vfk_pci_addr_parse(in, &a) < 0)
		return false;
	vfk_pci_addr_format(&a, out, 16);
	return true;
}

bool mdev_id_norm(const char *in, char *out)
{
	return in && (mdev_uuid_norm(in, out) == 0 || mdev_pci_norm(in, out));
}

/*
 * NULL also covers, on a captured tree, a file that lies outside the
 * sysroot, and a FIFO, whose read would block.
 */
char *mdev_read_str(struct vfk_ctx *ctx, int dfd, const char *rel, size_t max)
{
	_cleanup_free_ char *buf = malloc(max);

	if (!buf || vfk_read_in(ctx, dfd, rel, buf, max) < 0)
		return NULL;
	return TAKE_PTR(buf);
}

int mdev_read_uint(struct vfk_ctx *ctx, int dfd, const char *rel, unsigned int *out)
{
	long v;
	int r = vfk_read_long_in(ctx, dfd, rel, &v);

	if (r < 0)
		return r;
	if (v < 0 || v > (long)UINT_MAX)
		return neg_errno(ERANGE);
	*out = (unsigned int)v;
	return 0;
}

int mdev_link_group(int dfd, const char *rel)
{
	char buf[32], *end;
	long v;

	if (vfk_readlink_base_at(dfd, rel, buf, sizeof(buf)) < 0)
		return -1;
	v = strtol(buf, &end, 10);
	return (*end || v < 0 || v > INT_MAX) ? -1 : (int)v;
}

void mdev_read_driver(int dfd, const char *rel, char *drv, size_t size)
{
	if (vfk_readlink_base_at(dfd, rel, drv, size) < 0)
		drv[0] = '\0';
}

int mdev_scan_sys(struct vfk_mdevs *m, const char *rel,
		  int (*fn)(struct vfk_mdevs *m, int dfd, const char *name))
{
	_cleanup_close_ int dfd = vfk_root_open_dir(m->ctx, VFK_ROOT_SYS, rel);
	_cleanup_closedir_ DIR *d = vfk_opendir_in(m->ctx, dfd, "");
	struct dirent *e;
	int r = 0;

	while (r == 0 && d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			r = fn(m, dfd, e->d_name);
	return r < 0 ? r : 0;
}
