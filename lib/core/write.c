/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every change vfiokit makes to a host passes through here, so a dry run can
 * print it, a test can fail any single one, and a write the kernel blocks on
 * cannot hang the tool.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "core/internal.h"

static int call_hook(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, const char *value)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (!ctx->write_hook)
		return 0;
	path = vfk_root_path(ctx, root, rel);
	if (!path)	/* -EINVAL for a path that would leave its root */
		return neg_errno(errno ? errno : ENOMEM);
	r = ctx->write_hook(ctx->write_data, path, value);
	if (r < 0)
		dbg(ctx, "write hook failed %s: %d", path, r);
	return r;
}

int vfk_host_action(struct vfk_ctx *ctx, const char *what, const char *value)
{
	return ctx->write_hook ? ctx->write_hook(ctx->write_data, what, value) : 0;
}

/* Split "a/b/c" into an fd for "a/b" and the name "c". */
static int open_parent(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, const char **name)
{
	char dir[512];
	const char *slash = strrchr(rel, '/');
	size_t len;

	if (!slash) {
		*name = rel;
		return vfk_root_open_dir(ctx, root, "");
	}
	len = (size_t)(slash - rel);
	if (len >= sizeof(dir))
		return neg_errno(ENAMETOOLONG);
	memcpy(dir, rel, len);
	dir[len] = '\0';
	*name = slash + 1;
	return vfk_root_open_dir(ctx, root, dir);
}

/* What every write to a file below @root starts with: the hook sees it (0 to
 * go on, 1 skipped, or its error), then the parent directory is opened
 * inside the sysroot into *@dfd. */
static int begin_write(struct vfk_ctx *ctx, enum vfk_root root, const char *rel,
		       const char *value, int *dfd, const char **name)
{
	int r = call_hook(ctx, root, rel, value);

	if (r != 0)
		return r;
	*dfd = open_parent(ctx, root, rel, name);
	return *dfd < 0 ? *dfd : 0;
}

int vfk_host_write(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, const char *value)
{
	_cleanup_close_ int dfd = -1;
	const char *name;
	int r;

	r = begin_write(ctx, root, rel, value, &dfd, &name);
	if (r != 0)
		return r;
	r = vfk_write_at(dfd, name, value);
	dbg(ctx, "write %s <- %s: %d", rel, value, r);
	return r;
}

int vfk_host_write_timeout(struct vfk_ctx *ctx, enum vfk_root root, const char *rel,
			   const char *value, unsigned int ms)
{
	_cleanup_close_ int dfd = -1;
	const char *name;
	long long deadline;
	pid_t pid;
	int r, status;

	r = begin_write(ctx, root, rel, value, &dfd, &name);
	if (r != 0)
		return r;
	pid = fork();
	if (pid < 0)
		return neg_errno(errno);
	if (pid == 0) {
		r = vfk_write_at(dfd, name, value);
		_exit(r < 0 ? -r : 0);
	}
	deadline = now_ms() + ms;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return neg_errno(errno);
		if (now_ms() >= deadline) {
			/* The child is stuck in the kernel; it finishes or dies on
			 * its own. We report instead of hanging with it. */
			kill(pid, SIGKILL);
			warn(ctx, "write %s <- %s did not finish in %u ms", rel, value, ms);
			return neg_errno(ETIMEDOUT);
		}
		poll(NULL, 0, 5);
	}
	if (!WIFEXITED(status))
		return neg_errno(EIO);
	r = WEXITSTATUS(status);
	dbg(ctx, "write %s <- %s: %d", rel, value, -r);
	return r ? neg_errno(r) : 0;
}

int vfk_host_write_file(struct vfk_ctx *ctx, enum vfk_root root, const char *name,
			const char *data, mode_t mode)
{
	_cleanup_close_ int dfd = -1;
	int r;

	r = call_hook(ctx, root, name, data);
	if (r != 0)
		return r;
	if (root == VFK_ROOT_RUN || root == VFK_ROOT_ETC || root == VFK_ROOT_VM_RUN ||
	    root == VFK_ROOT_VM_STATE) {
		r = vfk_root_ensure(ctx, root);
		if (r < 0)
			return r;
	}
	dfd = vfk_root_open_dir(ctx, root, "");
	if (dfd < 0)
		return dfd;
	return vfk_write_file_atomic_at(dfd, name, data, strlen(data), mode);
}

int vfk_host_write_file_in(struct vfk_ctx *ctx, enum vfk_root root, const char *dir,
			   const char *name, const char *data, mode_t mode)
{
	_cleanup_free_ char *rel = NULL;
	_cleanup_close_ int rfd = -1, dfd = -1;
	int r;

	if (!*dir || strchr(dir, '/') || strchr(name, '/') || asprintf(&rel, "%s/%s", dir, name) < 0)
		return neg_errno(EINVAL);
	r = call_hook(ctx, root, rel, data);
	if (r != 0)
		return r;
	r = vfk_root_ensure(ctx, root);
	if (r < 0)
		return r;
	rfd = vfk_root_open_dir(ctx, root, "");
	if (rfd < 0)
		return rfd;
	/* the VMs' directories hold sockets and records of their owner alone */
	if (mkdirat(rfd, dir, root == VFK_ROOT_VM_RUN || root == VFK_ROOT_VM_STATE ? 0700 : 0755) < 0 &&
	    errno != EEXIST)
		return neg_errno(errno);
	dfd = vfk_root_open_dir(ctx, root, dir);
	if (dfd < 0)
		return dfd;
	return vfk_write_file_atomic_at(dfd, name, data, strlen(data), mode);
}

int vfk_host_replace_file(struct vfk_ctx *ctx, enum vfk_root root, const char *rel,
			  const char *data, size_t len, mode_t mode)
{
	_cleanup_close_ int dfd = -1;
	const char *slash = strrchr(rel, '/'), *name;
	int r;

	r = call_hook(ctx, root, rel, data);
	if (r != 0)
		return r;
	if (!slash && root != VFK_ROOT_TOP && root != VFK_ROOT_SYS && root != VFK_ROOT_PROC &&
	    root != VFK_ROOT_DEV && (r = vfk_root_ensure(ctx, root)) < 0)
		return r;	/* vfiokit's own directories may be missing yet */
	if (slash) {
		_cleanup_free_ char *dir = strndup(rel, (size_t)(slash - rel));

		if (!dir)
			return neg_errno(ENOMEM);
		r = vfk_root_mkdirs(ctx, root, dir, 0755);
		if (r < 0)
			return r;
	}
	dfd = open_parent(ctx, root, rel, &name);
	if (dfd < 0)
		return dfd;
	r = vfk_write_file_atomic_at(dfd, name, data, len, mode);
	dbg(ctx, "replaced %s (%zu bytes): %d", rel, len, r);
	return r;
}

/* unlinkat() of @rel below @root (@flags 0 or AT_REMOVEDIR), through the hook. */
static int remove_at(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, int flags)
{
	_cleanup_close_ int dfd = -1;
	const char *name;
	int r;

	r = begin_write(ctx, root, rel, VFK_WRITE_REMOVE, &dfd, &name);
	if (r != 0)
		return r;
	if (unlinkat(dfd, name, flags) < 0)
		return neg_errno(errno);
	dbg(ctx, "removed %s%s", flags ? "directory " : "", rel);
	return 0;
}

int vfk_host_remove_dir(struct vfk_ctx *ctx, enum vfk_root root, const char *rel)
{
	return remove_at(ctx, root, rel, AT_REMOVEDIR);
}

int vfk_host_remove_file(struct vfk_ctx *ctx, enum vfk_root root, const char *rel)
{
	return remove_at(ctx, root, rel, 0);
}

/* The node's owner and mode, checked to be a node a grant may change: not a
 * symlink (which would carry the change elsewhere), a character device (a
 * plain file on a fixture tree). */
static int node_stat(int dfd, const char *name, struct stat *st)
{
	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return neg_errno(errno);
	if (S_ISLNK(st->st_mode))
		return neg_errno(ELOOP);
	if (!S_ISCHR(st->st_mode) && !S_ISREG(st->st_mode))
		return neg_errno(EINVAL);
	return 0;
}

int vfk_host_stat_node(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, struct stat *st)
{
	_cleanup_close_ int dfd = -1;
	const char *name;

	dfd = open_parent(ctx, root, rel, &name);
	return dfd < 0 ? dfd : node_stat(dfd, name, st);
}

int vfk_host_set_owner(struct vfk_ctx *ctx, enum vfk_root root, const char *rel,
		       unsigned int uid, unsigned int gid, unsigned int mode)
{
	_cleanup_close_ int dfd = -1;
	const char *name;
	struct stat st, now;
	char value[64];
	int r;

	snprintf(value, sizeof(value), "owner %u:%u mode %04o", uid, gid, mode & 07777);
	r = begin_write(ctx, root, rel, value, &dfd, &name);
	if (r != 0)
		return r;
	r = node_stat(dfd, name, &st);
	if (r < 0)
		return r;
	if (fchownat(dfd, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0)
		return neg_errno(errno);
	/* fchmodat follows a symlink: the name must still be the node just
	 * changed (only root writes where device nodes live; this is a check,
	 * not a lock) */
	r = node_stat(dfd, name, &now);
	if (r < 0)
		return r;
	if (now.st_ino != st.st_ino || now.st_dev != st.st_dev)
		return neg_errno(ESTALE);
	if (fchmodat(dfd, name, (mode_t)(mode & 07777), 0) < 0)
		return neg_errno(errno);
	dbg(ctx, "owner of %s <- %s", rel, value);
	return 0;
}
