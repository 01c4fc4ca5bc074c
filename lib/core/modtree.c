/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The running kernel's module tree below the sysroot: see modtree.h. */
#include <stdarg.h>
#include <stdio.h>

#include "core/modtree.h"

static bool is_dot(const char *s)
{
	return streq(s, ".") || streq(s, "..");
}

int modtree_release(struct vfk_ctx *ctx, char *release, size_t size)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_close_ int topfd = -1;
	struct dirent *de;
	int n = 0;

	if (vfk_root_read(ctx, VFK_ROOT_PROC, "sys/kernel/osrelease", release, size) > 0)
		goto check;
	topfd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, "");
	if (topfd < 0)
		return neg_errno(ENOENT);
	d = vfk_opendir_in(ctx, topfd, "lib/modules");
	if (!d)
		d = vfk_opendir_in(ctx, topfd, "usr/lib/modules");
	while (d && (de = readdir(d))) {
		if (is_dot(de->d_name) || strlen(de->d_name) >= size)
			continue;
		memcpy(release, de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	if (n != 1)
		return neg_errno(ENOENT);
check:
	if (!*release || strchr(release, '/') || is_dot(release))
		return neg_errno(EINVAL);
	return 0;
}

int modtree_open(struct vfk_ctx *ctx, const char *release, char *where, size_t size)
{
	int fd;

	snprintf(where, size, "lib/modules/%s", release);
	fd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, where);
	if (fd < 0) {
		snprintf(where, size, "usr/lib/modules/%s", release);
		fd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, where);
	}
	return fd;
}

static void kmod_log_forward(void *data, int priority _unused_, const char *file, int line,
			     const char *fn, const char *format, va_list args)
{
	struct vfk_ctx *ctx = data;
	char msg[512];
	size_t n;

	/* libkmod complains loudly about missing index files, which is a
	 * normal finding here: everything it says is debug output for us */
	if (!ctx->log_fn || ctx->log_priority < LOG_DEBUG)
		return;
	vsnprintf(msg, sizeof(msg), format, args);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	vfk_log(ctx, LOG_DEBUG, file, line, fn, "libkmod: %s", msg);
}

struct kmod_ctx *modtree_kmod_new(struct vfk_ctx *ctx, const struct kmod_api *km,
				  const char *where)
{
	static const char *const conf_dirs[] = {
		"etc/modprobe.d", "run/modprobe.d", "usr/lib/modprobe.d", "lib/modprobe.d",
	};
	_cleanup_free_ char *dirname = vfk_root_path(ctx, VFK_ROOT_TOP, where);
	char *cfg[ARRAY_SIZE(conf_dirs) + 1] = { NULL };
	struct kmod_ctx *kctx = NULL;
	bool ok = dirname != NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(conf_dirs); i++) {
		cfg[i] = vfk_root_path(ctx, VFK_ROOT_TOP, conf_dirs[i]);
		if (!cfg[i])
			ok = false;
	}
	if (ok) {
		errno = 0;
		kctx = km->kmod_new(dirname, (const char *const *)cfg);
		if (!kctx)	/* libkmod's own reasons; never taken for ENOMEM */
			errno = EIO;
	}
	for (i = 0; i < ARRAY_SIZE(conf_dirs); i++)
		free(cfg[i]);
	if (!ok) {
		errno = ENOMEM;
		return NULL;
	}
	if (kctx) {
		km->kmod_set_log_fn(kctx, kmod_log_forward, ctx);
		km->kmod_set_log_priority(kctx, ctx->log_priority >= LOG_DEBUG ? LOG_DEBUG : LOG_ERR);
	}
	return kctx;
}
