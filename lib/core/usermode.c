/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * User mode: whose VMs a context starts. Decided here, once per context:
 * root's VMs are the host's (records in <sysroot>/run/vfiokit, state in
 * <sysroot>/var/lib/vfiokit, libvirt's qemu:///system); a normal user's are
 * the user's own, kept where a session keeps such things (the XDG base
 * directories) and run by session libvirt, since KVM and QEMU need no root
 * for a VM without host devices. The path layer (path.c) resolves the VM
 * roots from what is decided here.
 */
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/internal.h"

#define USER_SUBDIR "vfiokit"
#define URI_SYSTEM "qemu:///system"
#define URI_SESSION "qemu:///session"

void ctx_vm_roots_reset(struct vfk_ctx *ctx)
{
	size_t i;

	for (i = VFK_ROOT_VM_RUN; i <= VFK_ROOT_VM_STATE; i++)
		if (ctx->rootfd[i] >= 0) {
			close(ctx->rootfd[i]);
			ctx->rootfd[i] = -1;
		}
	for (i = 0; i < 2; i++) {
		free(ctx->user_real[i]);
		free(ctx->vm_dir[i]);
		ctx->user_real[i] = ctx->vm_dir[i] = NULL;
	}
}

static void user_dirs_free(struct vfk_ctx *ctx)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		free(ctx->user_dir[i]);
		ctx->user_dir[i] = NULL;
	}
}

/* What to do about an unusable XDG_RUNTIME_DIR, said the same everywhere */
#define RUNTIME_HINT "log in through a session that sets it (pam_systemd), or set it to a " \
		     "directory of yours with mode 0700"

/* Is @dir a runtime directory this user may keep sockets in? 0, or -errno
 * with @ctx->user_error saying why and what to do. */
static int runtime_dir_check(struct vfk_ctx *ctx, const char *dir)
{
	struct stat st;

	if (!dir || !*dir) {
		snprintf(ctx->user_error, sizeof(ctx->user_error), "XDG_RUNTIME_DIR is not set: a "
			 "normal user's VMs keep their records and sockets there; " RUNTIME_HINT);
		return neg_errno(ENOENT);
	}
	if (dir[0] != '/') {
		snprintf(ctx->user_error, sizeof(ctx->user_error), "XDG_RUNTIME_DIR=%s is not an "
			 "absolute path; " RUNTIME_HINT, dir);
		return neg_errno(EINVAL);
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int e = errno;
		bool missing = stat(dir, &st) < 0;	/* errno of the first, kept in @e */

		snprintf(ctx->user_error, sizeof(ctx->user_error), "XDG_RUNTIME_DIR=%s cannot be "
			 "used: %s; " RUNTIME_HINT, dir, missing ? strerror(e) : "not a directory");
		return neg_errno(missing ? e : ENOTDIR);
	}
	/* someone else's directory would hand them our sockets */
	if (st.st_uid != geteuid()) {
		snprintf(ctx->user_error, sizeof(ctx->user_error), "XDG_RUNTIME_DIR=%s belongs to "
			 "uid %u, not to you (uid %u); " RUNTIME_HINT, dir, (unsigned int)st.st_uid,
			 (unsigned int)geteuid());
		return neg_errno(EACCES);
	}
	if (access(dir, W_OK | X_OK) < 0) {
		int e = errno;

		snprintf(ctx->user_error, sizeof(ctx->user_error), "XDG_RUNTIME_DIR=%s cannot be "
			 "written: %s; " RUNTIME_HINT, dir, strerror(e));
		return neg_errno(e);
	}
	return 0;
}

/* The base of the user's state: @given, $XDG_STATE_HOME when absolute (the
 * XDG spec ignores a relative one), else ~/.local/state. malloc'ed or NULL. */
static char *state_base(const char *given)
{
	const char *env = secure_getenv("XDG_STATE_HOME"), *home = secure_getenv("HOME");
	struct passwd *pw;
	char *s = NULL;

	if (given)
		return strdup(given);
	if (env && env[0] == '/')
		return strdup(env);
	if (!home || home[0] != '/') {
		pw = getpwuid(geteuid());
		home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
	}
	if (!home)
		return NULL;
	if (asprintf(&s, "%s/.local/state", streq(home, "/") ? "" : home) < 0)
		return NULL;
	return s;
}

static char *join(const char *base, const char *sub)
{
	char *s = NULL;
	size_t len = strlen(base);

	while (len > 1 && base[len - 1] == '/')
		len--;
	if (asprintf(&s, "%.*s/%s", (int)len, base, sub) < 0)
		return NULL;
	return s;
}

/* Whose VMs: this process's user; a test on a fixture tree names one. */
static unsigned int user_uid_of(const struct vfk_ctx *ctx)
{
	const char *env = secure_getenv("VFK_USER_UID");
	char *end;
	unsigned long u;

	if (env && *env && !vfk_ctx_is_live(ctx)) {
		errno = 0;
		u = strtoul(env, &end, 10);
		if (!*end && !errno && u <= 0xfffffffeUL)
			return (unsigned int)u;
	}
	return (unsigned int)geteuid();
}

int vfk_ctx_set_user_mode(struct vfk_ctx *ctx, bool on, const char *runtime_dir,
			  const char *state_dir)
{
	_cleanup_free_ char *state = NULL;
	int r;

	if (!ctx)
		return neg_errno(EINVAL);
	ctx_vm_roots_reset(ctx);
	user_dirs_free(ctx);
	ctx->user_error[0] = '\0';
	ctx->user_mode = on;
	ctx->user_uid = on ? user_uid_of(ctx) : 0;
	if (!on) {
		ctx->user_why[0] = '\0';
		return 0;
	}
	if (!ctx->user_why[0])
		snprintf(ctx->user_why, sizeof(ctx->user_why), "asked for by the caller");
	if (!runtime_dir)
		runtime_dir = secure_getenv("XDG_RUNTIME_DIR");
	r = runtime_dir_check(ctx, runtime_dir);
	if (r < 0)
		return r;
	state = state_base(state_dir);
	if (!state || state[0] != '/') {
		snprintf(ctx->user_error, sizeof(ctx->user_error), "no directory for the VMs' state: "
			 "set XDG_STATE_HOME (or HOME) to an absolute path");
		return neg_errno(state ? EINVAL : ENOENT);
	}
	ctx->user_dir[VFK_VM_DIR_RUNTIME] = join(runtime_dir, USER_SUBDIR);
	ctx->user_dir[VFK_VM_DIR_STATE] = join(state, USER_SUBDIR);
	if (!ctx->user_dir[0] || !ctx->user_dir[1]) {
		user_dirs_free(ctx);
		snprintf(ctx->user_error, sizeof(ctx->user_error), "out of memory");
		return neg_errno(ENOMEM);
	}
	return 0;
}

/*
 * vfk_ctx_new(): the environment decides for tests (VFK_USER_MODE=1 on a
 * fixture tree, =0 never), else a normal user on the running host is in
 * user mode. Its directories may be unusable: the context is made anyway
 * (vfio-ls needs none of them), and what needs them refuses.
 */
void ctx_user_mode_init(struct vfk_ctx *ctx)
{
	const char *env = secure_getenv("VFK_USER_MODE");

	if (env && (streq(env, "0") || streq(env, "1"))) {
		if (streq(env, "0"))
			return;
		snprintf(ctx->user_why, sizeof(ctx->user_why), "VFK_USER_MODE=1");
	} else if (geteuid() != 0 && vfk_ctx_is_live(ctx)) {
		snprintf(ctx->user_why, sizeof(ctx->user_why), "not root (uid %u)",
			 (unsigned int)geteuid());
	} else {
		return;
	}
	vfk_ctx_set_user_mode(ctx, true, NULL, NULL);
}

bool vfk_ctx_is_user_mode(const struct vfk_ctx *ctx)
{
	return ctx && ctx->user_mode;
}

unsigned int vfk_ctx_get_user_uid(const struct vfk_ctx *ctx)
{
	return ctx && ctx->user_mode ? ctx->user_uid : 0;
}

const char *vfk_ctx_get_user_mode_reason(const struct vfk_ctx *ctx)
{
	return ctx && ctx->user_mode ? ctx->user_why : NULL;
}

const char *vfk_ctx_get_user_mode_error(const struct vfk_ctx *ctx)
{
	return ctx && ctx->user_mode && ctx->user_error[0] ? ctx->user_error : NULL;
}

const char *vfk_ctx_get_vm_dir(struct vfk_ctx *ctx, enum vfk_vm_dir which)
{
	enum vfk_root root = which == VFK_VM_DIR_STATE ? VFK_ROOT_VM_STATE : VFK_ROOT_VM_RUN;

	if (!ctx || (which != VFK_VM_DIR_RUNTIME && which != VFK_VM_DIR_STATE))
		return NULL;
	if (!ctx->vm_dir[which])
		ctx->vm_dir[which] = vfk_root_path(ctx, root, NULL);
	return ctx->vm_dir[which];
}

const char *vfk_ctx_get_libvirt_uri(const struct vfk_ctx *ctx)
{
	/* a remote host's context keeps its own URI; its VMs are not ours */
	if (ctx && ctx->remote_uri)
		return ctx->remote_uri;
	return ctx && ctx->user_mode ? URI_SESSION : URI_SYSTEM;
}
