/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library context: root directory, logging, reference counting.
 *
 * Layer core/: owns the context (root directory, logging, the write hook,
 * errors), the rooted path layer every sysfs, proc, dev, run and etc access
 * goes through (path.c), writes to the host (write.c), PCI addresses,
 * strings, CPU sets, process liveness. May call libc and vfiokit.h's types
 * only (lib/README.md).
 */
#include <ctype.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/internal.h"

static void log_stderr(void *data _unused_, int priority _unused_, const char *file _unused_,
		       int line _unused_, const char *fn, const char *format, va_list args)
{
	fflush(stdout);	/* what a tool printed before (a dry run buffers) comes first */
	fprintf(stderr, "libvfiokit: %s: ", fn);
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
}

static int priority_from_string(const char *s)
{
	static const struct { const char *name; int prio; } names[] = {
		{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
		{ "warn", LOG_WARNING }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};
	char *end;
	long v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].prio;
	v = strtol(s, &end, 10);
	if (end != s && *end == '\0' && v >= 0 && v <= LOG_DEBUG)
		return (int)v;
	return -1;
}

int vfk_ctx_new(const char *sysroot, struct vfk_ctx **out)
{
	struct vfk_ctx *ctx;
	struct stat st;
	const char *env;
	size_t len, i;

	if (!out)
		return neg_errno(EINVAL);
	if (!sysroot || !*sysroot)
		sysroot = "/";
	if (stat(sysroot, &st) < 0)
		return neg_errno(errno);
	if (!S_ISDIR(st.st_mode))
		return neg_errno(ENOTDIR);

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return neg_errno(ENOMEM);
	ctx->refcount = 1;
	ctx->sysroot = strdup(sysroot);
	if (!ctx->sysroot) {
		free(ctx);
		return neg_errno(ENOMEM);
	}
	len = strlen(ctx->sysroot);
	while (len > 1 && ctx->sysroot[len - 1] == '/')
		ctx->sysroot[--len] = '\0';
	for (i = 0; i < _VFK_ROOT_MAX; i++)
		ctx->rootfd[i] = -1;
	ctx->log_fn = log_stderr;
	ctx->log_priority = LOG_ERR;
	ctx->timeout_ms = VFK_DEFAULT_TIMEOUT_MS;
	env = secure_getenv("VFK_LOG");
	if (env && priority_from_string(env) >= 0)
		ctx->log_priority = priority_from_string(env);
	ctx_user_mode_init(ctx);
	*out = ctx;
	return 0;
}

struct vfk_ctx *vfk_ctx_ref(struct vfk_ctx *ctx)
{
	if (ctx)
		ctx->refcount++;
	return ctx;
}

static int remove_entry(const char *path, const struct stat *st _unused_, int flag _unused_,
			struct FTW *ftw _unused_)
{
	remove(path);
	return 0;
}

struct vfk_ctx *vfk_ctx_unref(struct vfk_ctx *ctx)
{
	size_t i;

	if (!ctx || --ctx->refcount > 0)
		return NULL;
	for (i = 0; i < _VFK_ROOT_MAX; i++)
		if (ctx->rootfd[i] >= 0)
			close(ctx->rootfd[i]);
	/* a remote host's snapshot is the context's own private tree */
	if (ctx->remote_uri)
		nftw(ctx->sysroot, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(ctx->remote_uri);
	vfk_ctx_unref(ctx->local);
	for (i = 0; i < 2; i++) {
		free(ctx->user_dir[i]);
		free(ctx->user_real[i]);
		free(ctx->vm_dir[i]);
	}
	free(ctx->root_real);
	free(ctx->sysroot);
	free(ctx);
	return NULL;
}

const char *vfk_ctx_get_remote_uri(const struct vfk_ctx *ctx)
{
	return ctx ? ctx->remote_uri : NULL;
}

struct vfk_ctx *vfk_ctx_get_local(const struct vfk_ctx *ctx)
{
	return ctx ? ctx->local : NULL;
}

const char *vfk_ctx_get_sysroot(const struct vfk_ctx *ctx)
{
	return ctx->sysroot;
}

void vfk_ctx_set_log_fn(struct vfk_ctx *ctx, vfk_log_fn fn, void *data)
{
	ctx->log_fn = fn;
	ctx->log_data = data;
}

void vfk_ctx_set_log_priority(struct vfk_ctx *ctx, int priority)
{
	ctx->log_priority = priority;
}

int vfk_ctx_get_log_priority(const struct vfk_ctx *ctx)
{
	return ctx->log_priority;
}

void vfk_log(struct vfk_ctx *ctx, int priority, const char *file, int line, const char *fn,
	     const char *format, ...)
{
	va_list ap;

	if (!ctx->log_fn)
		return;
	va_start(ap, format);
	ctx->log_fn(ctx->log_data, priority, file, line, fn, format, ap);
	va_end(ap);
}

const char *vfk_version(void)
{
	return VFK_VERSION;
}

void vfk_ctx_set_write_hook(struct vfk_ctx *ctx, vfk_write_hook hook, void *data)
{
	ctx->write_hook = hook;
	ctx->write_data = data;
}

void vfk_ctx_set_timeout(struct vfk_ctx *ctx, unsigned int ms)
{
	ctx->timeout_ms = ms ? ms : VFK_DEFAULT_TIMEOUT_MS;
}

unsigned int vfk_ctx_get_timeout(const struct vfk_ctx *ctx)
{
	return ctx->timeout_ms;
}

void vfk_ctx_set_progress_fn(struct vfk_ctx *ctx, vfk_progress_fn fn, void *data)
{
	ctx->progress_fn = fn;
	ctx->progress_data = data;
	/* a remote host's context: what up says through this host's (records) too */
	if (ctx->local)
		vfk_ctx_set_progress_fn(ctx->local, fn, data);
}

void vfk_progress(struct vfk_ctx *ctx, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	info(ctx, "%s", buf);
	if (ctx->progress_fn)
		ctx->progress_fn(ctx->progress_data, buf);
}

bool vfk_ctx_is_live(const struct vfk_ctx *ctx)
{
	return streq(ctx->sysroot, "/");
}

const char *vfk_ctx_get_error(const struct vfk_ctx *ctx)
{
	return ctx->error[0] ? ctx->error : NULL;
}
