/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rooted filesystem access. This is the only file that knows where sysfs,
 * procfs, devfs and vfiokit's own state live; everything else works with
 * directory fds handed out from here, so --sysroot can never be escaped by
 * a path built elsewhere.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/syscall.h>

#include "core/internal.h"

static const char *const root_rel[_VFK_ROOT_MAX] = {
	[VFK_ROOT_TOP] = "",
	[VFK_ROOT_SYS] = "sys",
	[VFK_ROOT_PROC] = "proc",
	[VFK_ROOT_DEV] = "dev",
	[VFK_ROOT_RUN] = "run/vfiokit",
	[VFK_ROOT_ETC] = "etc/vfiokit",
	[VFK_ROOT_MDEVCTL] = "etc/mdevctl.d",
	[VFK_ROOT_STATE] = "var/lib/vfiokit",
	/* system mode; in user mode the user's own directories (usermode.c) */
	[VFK_ROOT_VM_RUN] = "run/vfiokit",
	[VFK_ROOT_VM_STATE] = "var/lib/vfiokit",
};

/* Is @root a VM root that user mode puts in the user's directories, outside
 * the sysroot? Those are opened as on the running host. */
static bool root_is_user(const struct vfk_ctx *ctx, enum vfk_root root)
{
	return ctx->user_mode && (root == VFK_ROOT_VM_RUN || root == VFK_ROOT_VM_STATE);
}

static const char *user_dir_of(const struct vfk_ctx *ctx, enum vfk_root root)
{
	return ctx->user_dir[root == VFK_ROOT_VM_STATE ? VFK_VM_DIR_STATE : VFK_VM_DIR_RUNTIME];
}

static bool rel_is_safe(const char *rel)
{
	const char *p;

	if (!rel || !*rel)
		return true;
	if (rel[0] == '/')
		return false;
	for (p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if ((n == 2 && p[0] == '.' && p[1] == '.') || (n == 1 && p[0] == '.'))
			return false;
		p += n;
		while (*p == '/')
			p++;
	}
	return true;
}

#define IN_ROOT_MAX_DEPTH 64	/* directory levels below the sysroot */
#define IN_ROOT_MAX_LINKS 40	/* as the kernel's MAXSYMLINKS */

/*
 * RESOLVE_IN_ROOT by hand, for kernels before 5.6 and for valgrind (neither
 * knows openat2): one component at a time with O_PATH|O_NOFOLLOW, so the
 * kernel never follows a link; a link's target is read and walked the same
 * way (absolute: from @top again), ".." pops our own stack and never goes
 * above @top. Used for directories only, as every caller wants one.
 */
static int open_in_root_slow(int top, const char *rel, int flags)
{
	int stack[IN_ROOT_MAX_DEPTH + 1];
	char path[PATH_MAX], name[NAME_MAX + 1];
	const char *p;
	int depth = 0, links = 0, fd = -1, e;

	if (snprintf(path, sizeof(path), "%s", rel) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	stack[0] = top;
	p = path;
	for (;;) {
		struct stat st;
		size_t len;
		int cur;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		len = strcspn(p, "/");
		if (len > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		if (streq(name, "."))
			continue;
		if (streq(name, "..")) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		cur = openat(stack[depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (cur < 0)
			goto fail;
		if (fstat(cur, &st) < 0) {
			e = errno;
			close(cur);
			errno = e;
			goto fail;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX], rest[PATH_MAX];
			ssize_t n = readlinkat(cur, "", target, sizeof(target) - 1);

			e = errno;
			close(cur);
			errno = e;
			if (n < 0)
				goto fail;
			if (++links > IN_ROOT_MAX_LINKS) {
				errno = ELOOP;
				goto fail;
			}
			target[n] = '\0';
			if (target[0] == '/')
				while (depth > 0)
					close(stack[depth--]);
			snprintf(rest, sizeof(rest), "%s", p);
			if (snprintf(path, sizeof(path), "%s%s", target, rest) >= (int)sizeof(path)) {
				errno = ENAMETOOLONG;
				goto fail;
			}
			p = path;
			continue;
		}
		if (depth == IN_ROOT_MAX_DEPTH) {
			close(cur);
			errno = ENAMETOOLONG;
			goto fail;
		}
		stack[++depth] = cur;
	}
	fd = openat(stack[depth], ".", flags);
fail:
	e = errno;
	while (depth > 0)
		close(stack[depth--]);
	errno = e;
	return fd;
}

/*
 * openat2() resolving @rel from @dirfd with @resolve. -1 with errno ENOSYS or
 * EPERM where the kernel (before 5.6), a seccomp profile or valgrind refuses
 * it; ENOSYS is remembered, so a scan of thousands of files asks once.
 */
static int openat2_in(struct vfk_ctx *ctx, int dirfd, const char *rel, int flags,
		      uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)flags, .resolve = resolve };
	unsigned int tries = 0;
	long fd;

	if (ctx->no_openat2) {
		errno = ENOSYS;
		return -1;
	}
	/* a scoped lookup through ".." says EAGAIN when anything on the system
	 * was renamed or mounted meanwhile (openat2(2)): the path is fine,
	 * asking again is the answer */
	do
		fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < 100);
	if (fd < 0 && errno == ENOSYS)
		ctx->no_openat2 = true;
	return (int)fd;
}

static bool no_openat2(int e)
{
	return e == ENOSYS || e == EPERM;
}

/*
 * Open @rel below the sysroot's fd @top. On a fixture or captured tree every
 * symlink and ".." is resolved as if the tree were "/" (RESOLVE_IN_ROOT, as
 * after a chroot): an absolute link or one with too many ".." lands inside
 * the tree, never beside it. The live host ("/") is opened as it always was.
 * Without openat2 (kernels before 5.6, seccomp filters, valgrind) the same
 * resolution is done component by component.
 */
static int open_in_root(struct vfk_ctx *ctx, int top, const char *rel, int flags)
{
	if (!vfk_ctx_is_live(ctx)) {
		int fd = openat2_in(ctx, top, rel, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);

		if (fd >= 0 || !no_openat2(errno))
			return fd;
		return open_in_root_slow(top, rel, flags);
	}
	return openat(top, rel, flags);
}

static int root_fd(struct vfk_ctx *ctx, enum vfk_root root)
{
	int fd, top;

	if ((unsigned)root >= _VFK_ROOT_MAX)
		return neg_errno(EINVAL);
	if (ctx->rootfd[root] >= 0)
		return ctx->rootfd[root];
	if (root_is_user(ctx, root)) {
		/* the user's own directory of the running host (unusable: none) */
		if (!user_dir_of(ctx, root))
			return neg_errno(ENOENT);
		fd = open(user_dir_of(ctx, root), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else if (root == VFK_ROOT_TOP) {
		fd = open(ctx->sysroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		top = root_fd(ctx, VFK_ROOT_TOP);
		if (top < 0)
			return top;
		fd = open_in_root(ctx, top, root_rel[root], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return neg_errno(errno);
	ctx->rootfd[root] = fd;
	return fd;
}

int vfk_root_open_dir(struct vfk_ctx *ctx, enum vfk_root root, const char *rel)
{
	char path[PATH_MAX];
	int base, fd;

	if (!rel_is_safe(rel))
		return neg_errno(EINVAL);
	base = root_fd(ctx, root);
	if (base < 0)
		return base;
	if (!rel || !*rel || vfk_ctx_is_live(ctx) || root_is_user(ctx, root)) {
		fd = openat(base, rel && *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		/* resolved from the sysroot itself, so links stay inside it */
		if (snprintf(path, sizeof(path), "%s%s%s", root_rel[root], *root_rel[root] ? "/" : "",
			     rel) >= (int)sizeof(path))
			return neg_errno(ENAMETOOLONG);
		fd = open_in_root(ctx, root_fd(ctx, VFK_ROOT_TOP), path,
				  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return neg_errno(errno);
	return fd;
}

char *vfk_root_path(struct vfk_ctx *ctx, enum vfk_root root, const char *rel)
{
	char *s = NULL;
	const char *top = streq(ctx->sysroot, "/") ? "" : ctx->sysroot;

	if ((unsigned)root >= _VFK_ROOT_MAX || !rel_is_safe(rel)) {
		errno = EINVAL;
		return NULL;
	}
	if (root_is_user(ctx, root)) {
		if (!user_dir_of(ctx, root)) {
			errno = ENOENT;
			return NULL;
		}
		if (asprintf(&s, "%s%s%s", user_dir_of(ctx, root), rel && *rel ? "/" : "",
			     rel ? rel : "") < 0)
			return NULL;
		return s;
	}
	if (asprintf(&s, "%s/%s%s%s", top, root_rel[root],
		     (rel && *rel && *root_rel[root]) ? "/" : "", rel ? rel : "") < 0)
		return NULL;
	return s;
}

char *vfk_root_host_path(enum vfk_root root, const char *rel)
{
	char *s = NULL;

	if ((unsigned)root >= _VFK_ROOT_MAX || !rel_is_safe(rel)) {
		errno = EINVAL;
		return NULL;
	}
	if (asprintf(&s, "/%s%s%s", root_rel[root], (rel && *rel && *root_rel[root]) ? "/" : "",
		     rel ? rel : "") < 0)
		return NULL;
	return s;
}

char *vfk_ctx_host_path(struct vfk_ctx *ctx, enum vfk_root root, const char *rel)
{
	if ((unsigned)root < _VFK_ROOT_MAX && root_is_user(ctx, root))
		return vfk_root_path(ctx, root, rel);
	return vfk_root_host_path(root, rel);
}

/* One integer (base 0: "0x10de", "42") and nothing else. */
static int parse_long(const char *buf, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(buf, &end, 0);
	if (errno || end == buf || *end)
		return neg_errno(EINVAL);
	*out = v;
	return 0;
}

static int open_regular_st(int dirfd, const char *name, int flags, struct stat *st);

/* The path the kernel gives an open file (/proc/self/fd). */
static int fd_path(int fd, char *buf, size_t size)
{
	char proc[40];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, size - 1);
	if (n < 0)
		return neg_errno(errno);
	if ((size_t)n >= size - 1)
		return neg_errno(ENAMETOOLONG);
	buf[n] = '\0';
	return 0;
}

static bool path_below(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

/* In user mode the user's own VM directories are the one place outside the
 * sysroot a context reads (its records), as the user's, not the tree's. */
static bool in_user_dirs(struct vfk_ctx *ctx, const char *path)
{
	enum vfk_root roots[] = { VFK_ROOT_VM_RUN, VFK_ROOT_VM_STATE };
	char real[PATH_MAX];
	size_t i;
	int fd;

	for (i = 0; ctx->user_mode && i < ARRAY_SIZE(roots); i++) {
		if (!ctx->user_real[i]) {
			fd = root_fd(ctx, roots[i]);
			if (fd < 0 || fd_path(fd, real, sizeof(real)) < 0)
				continue;
			ctx->user_real[i] = strdup(real);
		}
		if (ctx->user_real[i] && path_below(path, ctx->user_real[i]))
			return true;
	}
	return false;
}

/*
 * Does the file behind @fd lie inside @ctx's sysroot? On "/" everything
 * does. A captured tree is untrusted input: any symlink in it, the last
 * component or one on the way, may point anywhere, and what it reaches
 * would be read as root and printed. The test is on what was opened, so it
 * holds however the name was put together; -EXDEV when outside.
 */
static int check_inside(struct vfk_ctx *ctx, int fd)
{
	char path[PATH_MAX];
	int top, r;

	if (vfk_ctx_is_live(ctx))
		return 0;
	if (!ctx->root_real) {
		top = root_fd(ctx, VFK_ROOT_TOP);
		if (top < 0)
			return top;
		r = fd_path(top, path, sizeof(path));
		if (r < 0)
			return r;
		ctx->root_real = strdup(path);
		if (!ctx->root_real)
			return neg_errno(ENOMEM);
	}
	if (streq(ctx->root_real, "/"))
		return 0;
	r = fd_path(fd, path, sizeof(path));
	if (r < 0)
		return r;
	if (path_below(path, ctx->root_real) || in_user_dirs(ctx, path))
		return 0;
	return neg_errno(EXDEV);
}

/* Is the O_PATH fd @pfd a regular file? Its stat into @st. */
static int check_regular(int pfd, struct stat *st)
{
	if (fstat(pfd, st) < 0)
		return neg_errno(errno);
	if (S_ISLNK(st->st_mode))
		return neg_errno(ELOOP);
	if (!S_ISREG(st->st_mode))
		return neg_errno(S_ISDIR(st->st_mode) ? EISDIR : EINVAL);
	return 0;
}

/* The checked O_PATH fd @pfd opened for reading: the very inode checked, so
 * nothing can be swapped in between. */
static int reopen_checked(int pfd)
{
	char proc[40];
	int fd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	return fd < 0 ? neg_errno(errno) : fd;
}

/*
 * The open behind vfk_open_file_in() and vfk_read_file_in(); with @nofollow
 * a last component that is a symlink is -ELOOP wherever it points. @st gets
 * the file's stat (its size spares a read to find the end).
 */
static int open_file_in(struct vfk_ctx *ctx, int dirfd, const char *name, bool nofollow,
			struct stat *st)
{
	_cleanup_close_ int pfd = -1;
	int r;

	if (vfk_ctx_is_live(ctx))
		return open_regular_st(dirfd, name, nofollow ? O_NOFOLLOW : 0, st);
	/* O_PATH opens nothing: no FIFO wait, no device open, until checked */
	pfd = openat(dirfd, name, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	if (pfd < 0)
		return neg_errno(errno);
	r = check_regular(pfd, st);
	if (r < 0)
		return r;
	r = check_inside(ctx, pfd);
	if (r < 0)
		return r;
	return reopen_checked(pfd);
}

int vfk_open_file_in(struct vfk_ctx *ctx, int dirfd, const char *name)
{
	struct stat st;

	return open_file_in(ctx, dirfd, name, false, &st);
}

/*
 * The open behind vfk_root_read(). On a tree, @rel is resolved from the
 * sysroot itself with RESOLVE_IN_ROOT, as vfk_root_open_dir() resolves
 * directories: whatever links it meets, on the way or last, the kernel keeps
 * it inside the tree, so what is opened needs no check_inside() (no readlink
 * of /proc/self/fd per file). The file itself is still opened O_PATH first
 * and only a regular file is opened for reading. Without openat2 the
 * directory is walked in the root by hand and the last name checked as
 * vfk_open_file_in() checks it.
 */
static int open_root_file(struct vfk_ctx *ctx, enum vfk_root root, const char *rel,
			  struct stat *st)
{
	_cleanup_close_ int pfd = -1;
	char path[PATH_MAX];
	int base, top, r;

	if ((unsigned)root >= _VFK_ROOT_MAX || !rel || !*rel || !rel_is_safe(rel))
		return neg_errno(EINVAL);
	if (vfk_ctx_is_live(ctx) || root_is_user(ctx, root)) {
		base = root_fd(ctx, root);
		return base < 0 ? base : open_regular_st(base, rel, 0, st);
	}
	if (snprintf(path, sizeof(path), "%s%s%s", root_rel[root], *root_rel[root] ? "/" : "",
		     rel) >= (int)sizeof(path))
		return neg_errno(ENAMETOOLONG);
	top = root_fd(ctx, VFK_ROOT_TOP);
	if (top < 0)
		return top;
	pfd = openat2_in(ctx, top, path, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (pfd < 0 && no_openat2(errno)) {
		_cleanup_close_ int dfd = -1;
		char *slash = strrchr(path, '/');

		if (!slash)
			return open_file_in(ctx, top, path, false, st);
		*slash = '\0';
		dfd = open_in_root(ctx, top, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return neg_errno(errno);
		return open_file_in(ctx, dfd, slash + 1, false, st);
	}
	if (pfd < 0)
		return neg_errno(errno);
	r = check_regular(pfd, st);
	return r < 0 ? r : reopen_checked(pfd);
}

int vfk_read_file_in(struct vfk_ctx *ctx, int dirfd, const char *name, size_t max, char **text,
		     size_t *len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t n = 0;
	ssize_t k;

	fd = open_file_in(ctx, dirfd, name, true, &st);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max)
		return neg_errno(EFBIG);
	/* one byte more than allowed, to see a file that grew while read */
	buf = malloc((size_t)st.st_size + 2);
	if (!buf)
		return neg_errno(ENOMEM);
	while (n < (size_t)st.st_size + 1) {
		k = read(fd, buf + n, (size_t)st.st_size + 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return neg_errno(errno);
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > (size_t)st.st_size)
		return neg_errno(EAGAIN);	/* changed under us: not one version */
	buf[n] = '\0';
	*text = TAKE_PTR(buf);
	if (len)
		*len = n;
	return 0;
}

DIR *vfk_fdopendir(int fd)
{
	DIR *d;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

int vfk_open_dir_in(struct vfk_ctx *ctx, int dirfd, const char *name)
{
	int fd, r;

	fd = openat(dirfd, name && *name ? name : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return neg_errno(errno);
	r = check_inside(ctx, fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

DIR *vfk_opendir_in(struct vfk_ctx *ctx, int dirfd, const char *name)
{
	if (dirfd < 0) {
		errno = EBADF;
		return NULL;
	}
	return vfk_fdopendir(vfk_open_dir_in(ctx, dirfd, name));
}

/*
 * Read what @fd holds into @buf, as vfk_read_in() promises. @known is the
 * size fstat() gave the file (0 when it says nothing, as procfs): once that
 * much is read, the end needs no read of its own to be seen. sysfs always
 * says 4096 and hands out less, so there the empty read still ends it.
 */
static int read_fd_upto(int fd, char *buf, size_t size, off_t known)
{
	size_t len = 0;
	ssize_t n;

	/* sysfs hands out the whole attribute in one read; loop for regular files */
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return neg_errno(errno);
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (known > 0 && (off_t)len >= known)
			break;
	}
	buf[len] = '\0';
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return (int)len;
}

/*
 * read_fd_upto() for an attribute: sysfs hands one out whole in one read (at
 * most a page), and a regular file gives less than asked only at its end, so
 * one read is the whole file: no second read to see the end. What does not
 * fit in @buf is cut, as read_fd_upto() cuts it.
 */
static int read_attr_fd(int fd, char *buf, size_t size)
{
	ssize_t n;

	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return neg_errno(errno);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

int vfk_read_in(struct vfk_ctx *ctx, int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (size == 0)
		return neg_errno(EINVAL);
	fd = open_file_in(ctx, dirfd, name, false, &st);
	if (fd < 0)
		return fd;
	return read_fd_upto(fd, buf, size, st.st_size);
}

int vfk_read_long_in(struct vfk_ctx *ctx, int dirfd, const char *name, long *out)
{
	char buf[64];
	int r;

	r = vfk_read_in(ctx, dirfd, name, buf, sizeof(buf));
	return r < 0 ? r : parse_long(buf, out);
}

int vfk_root_read(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, char *buf,
		  size_t size)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (size == 0)
		return neg_errno(EINVAL);
	fd = open_root_file(ctx, root, rel, &st);
	if (fd < 0)
		return fd;
	return read_fd_upto(fd, buf, size, st.st_size);
}

/* Binary files (a device's config space): no terminator added, nothing trimmed.
 * An unprivileged reader of config gets its first 64 bytes and an end: the
 * length returned is what the caller may trust. */
int vfk_root_read_bytes(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, void *buf,
			size_t size)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t len = 0;
	ssize_t n;

	fd = open_root_file(ctx, root, rel, &st);
	if (fd < 0)
		return fd;
	while (len < size) {
		n = read(fd, (char *)buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return neg_errno(errno);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (int)len;
}

/*
 * May vfk_root_read_attr() open files below @base without the O_PATH check?
 * Only where no device node can be opened: sysfs itself (the kernel makes no
 * nodes there) or a filesystem mounted nodev (an open of a node fails). With
 * RESOLVE_NO_XDEV every open stays on @base's filesystem; FIFOs do not block
 * (O_NONBLOCK) and sockets do not open. Asked once per context.
 */
static bool fs_no_nodes(int fd)
{
	struct statfs sfs;
	struct statvfs svfs;

	/* nodev first: the kernel's /sys is mounted so too */
	return (fstatvfs(fd, &svfs) == 0 && (svfs.f_flag & ST_NODEV)) ||
	       (fstatfs(fd, &sfs) == 0 && sfs.f_type == SYSFS_MAGIC);
}

static bool attr_direct(struct vfk_ctx *ctx, int base)
{
	if (ctx->attr_direct == 0)
		ctx->attr_direct = fs_no_nodes(base) ? 1 : -1;
	return ctx->attr_direct > 0;
}

int vfk_root_open_attr_dir(struct vfk_ctx *ctx, enum vfk_root root, const char *rel)
{
	int fd;

	if (root_is_user(ctx, root))
		return neg_errno(EOPNOTSUPP);
	fd = vfk_root_open_dir(ctx, root, rel);
	if (fd >= 0 && !fs_no_nodes(fd)) {
		close(fd);
		return neg_errno(EOPNOTSUPP);
	}
	return fd;
}

static void attr_fds_close(struct vfk_ctx *ctx);

/* In a batch, the file read stays open until the batch closes its files. */
static void attr_keep(struct vfk_ctx *ctx, int *fd)
{
	if (!ctx->attr_batching)
		return;
	ctx->attr_fds[ctx->n_attr_fds++] = *fd;
	*fd = -1;
	if (ctx->n_attr_fds == ARRAY_SIZE(ctx->attr_fds))
		attr_fds_close(ctx);
}

int vfk_root_read_attr(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, char *buf,
		       size_t size)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX];
	uint64_t resolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
	int base, r;

	if (size == 0)
		return neg_errno(EINVAL);
	if ((unsigned)root >= _VFK_ROOT_MAX || !rel || !*rel || !rel_is_safe(rel) ||
	    root_is_user(ctx, root))
		return vfk_root_read(ctx, root, rel, buf, size);
	if (vfk_ctx_is_live(ctx)) {
		/* the kernel's own links stay below /sys */
		base = root_fd(ctx, root);
		resolve |= RESOLVE_BENEATH;
		if (snprintf(path, sizeof(path), "%s", rel) >= (int)sizeof(path))
			return neg_errno(ENAMETOOLONG);
	} else {
		base = root_fd(ctx, VFK_ROOT_TOP);
		resolve |= RESOLVE_IN_ROOT;
		if (snprintf(path, sizeof(path), "%s%s%s", root_rel[root],
			     *root_rel[root] ? "/" : "", rel) >= (int)sizeof(path))
			return neg_errno(ENAMETOOLONG);
	}
	if (base < 0 || !attr_direct(ctx, base))
		return vfk_root_read(ctx, root, rel, buf, size);
	fd = openat2_in(ctx, base, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, resolve);
	if (fd < 0 && errno == EMFILE && ctx->n_attr_fds) {
		/* the batch holds the numbers: give them back first */
		attr_fds_close(ctx);
		fd = openat2_in(ctx, base, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
				resolve);
	}
	if (fd < 0 && (no_openat2(errno) || errno == EXDEV))
		return vfk_root_read(ctx, root, rel, buf, size);
	if (fd < 0)
		return neg_errno(errno);
	r = read_attr_fd(fd, buf, size);
	attr_keep(ctx, &fd);
	return r;
}

int vfk_root_read_attr_at(struct vfk_ctx *ctx, int dirfd, const char *rel, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (size == 0 || !rel || !*rel || !rel_is_safe(rel))
		return neg_errno(EINVAL);
	/* beneath the directory, which is inside the sysroot: a link that
	 * leaves it is -EXDEV, and the caller reads by the rooted path */
	fd = openat2_in(ctx, dirfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
			RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS);
	if (fd < 0 && errno == EMFILE && ctx->n_attr_fds) {
		attr_fds_close(ctx);
		fd = openat2_in(ctx, dirfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
				RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS);
	}
	if (fd < 0)
		return neg_errno(no_openat2(errno) ? EOPNOTSUPP : errno);
	r = read_attr_fd(fd, buf, size);
	attr_keep(ctx, &fd);
	return r;
}

static int cmp_fd(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * Close the batch's files: each run of consecutive numbers in one
 * close_range(2). Safe beside other threads: every number of a run is a
 * file this batch holds, so no other can be open under it. One by one
 * where the kernel has no close_range (before 5.9).
 */
static void attr_fds_close(struct vfk_ctx *ctx)
{
	int *v = ctx->attr_fds;
	size_t n = ctx->n_attr_fds, i, j, k;

	qsort_safe(v, n, sizeof(*v), cmp_fd);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j] == v[j - 1] + 1; j++)
			;
#ifdef SYS_close_range
		if (j - i > 1 && syscall(SYS_close_range, (unsigned int)v[i],
					 (unsigned int)v[j - 1], 0) == 0)
			continue;
#endif
		for (k = i; k < j; k++)
			close(v[k]);
	}
	ctx->n_attr_fds = 0;
}

void vfk_attr_batch_begin(struct vfk_ctx *ctx)
{
	ctx->attr_batching = true;
}

void vfk_attr_batch_end(struct vfk_ctx *ctx)
{
	attr_fds_close(ctx);
	ctx->attr_batching = false;
}

int vfk_root_read_long(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, long *out)
{
	char buf[64];
	int r;

	r = vfk_root_read(ctx, root, rel, buf, sizeof(buf));
	return r < 0 ? r : parse_long(buf, out);
}

/* The open of vfk_open_file_in() on "/": never blocks, regular files only. */
static int open_regular_st(int dirfd, const char *name, int flags, struct stat *st)
{
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);
	if (fd < 0)
		return neg_errno(errno);
	if (fstat(fd, st) < 0)
		r = neg_errno(errno);
	else if (!S_ISREG(st->st_mode))
		r = neg_errno(S_ISDIR(st->st_mode) ? EISDIR : EINVAL);
	else
		return fd;
	close(fd);
	return r;
}

int vfk_readlink_at(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t n;

	if (size == 0)
		return neg_errno(EINVAL);
	n = readlinkat(dirfd, name, buf, size - 1);
	if (n < 0)
		return neg_errno(errno);
	if ((size_t)n >= size - 1)
		return neg_errno(ENAMETOOLONG);
	buf[n] = '\0';
	return (int)n;
}

int vfk_readlink_base_at(int dirfd, const char *name, char *buf, size_t size)
{
	char target[PATH_MAX];
	const char *base;
	size_t len;
	int r;

	r = vfk_readlink_at(dirfd, name, target, sizeof(target));
	if (r < 0)
		return r;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	len = strlen(base);
	/* "." or ".." names no driver, group or device: never hand it on as a name */
	if (len == 0 || streq(base, ".") || streq(base, ".."))
		return neg_errno(EINVAL);
	if (len >= size)
		return neg_errno(ENAMETOOLONG);
	memcpy(buf, base, len + 1);
	return (int)len;
}

int vfk_write_at(int dirfd, const char *name, const char *value)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);
	struct stat st;
	ssize_t n;

	/* O_NONBLOCK: a FIFO planted where an attribute belongs fails the open
	 * (ENXIO, no reader) instead of waiting for one; sysfs ignores the flag */
	fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return neg_errno(errno);
	if (fstat(fd, &st) < 0)
		return neg_errno(errno);
	if (!S_ISREG(st.st_mode))
		return neg_errno(EINVAL);
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return neg_errno(errno);
	if ((size_t)n != len)
		return neg_errno(EIO);
	return 0;
}

bool vfk_exists_at(int dirfd, const char *name)
{
	return faccessat(dirfd, name, F_OK, 0) == 0;
}

int vfk_write_file_atomic_at(int dirfd, const char *name, const char *data, size_t len,
			     mode_t mode)
{
	char tmp[NAME_MAX + 1];
	_cleanup_close_ int fd = -1;
	size_t off = 0;
	int r;

	if (strchr(name, '/') || snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
		return neg_errno(EINVAL);
	/* a fresh inode every time: a stale temp file (or a hard link someone
	 * planted under its name) is never written through */
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
		return neg_errno(errno);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return neg_errno(errno);
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail;
	fsync(dirfd);
	return 0;
fail:
	r = neg_errno(errno);
	unlinkat(dirfd, tmp, 0);
	return r;
}

/*
 * The user's VM directory of @root, made with what is missing above it
 * (~/.local/state may be new too), every new level 0700: a user's VM state
 * is nobody else's. $XDG_RUNTIME_DIR itself is the session's, never made.
 */
static int user_dir_ensure(struct vfk_ctx *ctx, enum vfk_root root)
{
	const char *dir = user_dir_of(ctx, root);
	char sub[PATH_MAX];
	size_t len;
	int fd;

	if (!dir)
		return neg_errno(ENOENT);
	if (strlen(dir) >= sizeof(sub))
		return neg_errno(ENAMETOOLONG);
	for (len = 1; dir[len - 1]; len++) {
		if (dir[len] != '/' && dir[len] != '\0')
			continue;
		memcpy(sub, dir, len);
		sub[len] = '\0';
		if ((root == VFK_ROOT_VM_STATE || !dir[len]) && mkdir(sub, 0700) < 0 &&
		    errno != EEXIST)
			return neg_errno(errno);
	}
	fd = root_fd(ctx, root);
	return fd < 0 ? fd : 0;
}

int vfk_root_ensure(struct vfk_ctx *ctx, enum vfk_root root)
{
	const char *rel = root_rel[root];
	/* state may be secret (journal, TPM state); configuration is world-readable */
	mode_t mode = root == VFK_ROOT_ETC || root == VFK_ROOT_MDEVCTL ? 0755 : 0700;
	char sub[PATH_MAX];
	size_t off, len;
	int top, fd;

	if (root != VFK_ROOT_RUN && root != VFK_ROOT_ETC && root != VFK_ROOT_MDEVCTL &&
	    root != VFK_ROOT_STATE && root != VFK_ROOT_VM_RUN && root != VFK_ROOT_VM_STATE)
		return neg_errno(EINVAL);
	fd = root_fd(ctx, root);
	if (fd >= 0)
		return 0;
	if (root_is_user(ctx, root))
		return user_dir_ensure(ctx, root);
	top = root_fd(ctx, VFK_ROOT_TOP);
	if (top < 0)
		return top;
	/*
	 * run/, etc/ and var/lib/ exist on any real host; a fixture tree may lack
	 * them. Each level is made inside its parent as resolved in the sysroot:
	 * a level that is a symlink out of the tree gets nothing created.
	 */
	for (off = 0;; off += len + 1) {
		_cleanup_close_ int pfd = -1;
		bool last;

		len = strcspn(rel + off, "/");
		last = rel[off + len] == '\0';
		snprintf(sub, sizeof(sub), "%.*s", off ? (int)off - 1 : 0, rel);
		pfd = off ? open_in_root(ctx, top, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
			  : fcntl(top, F_DUPFD_CLOEXEC, 0);
		if (pfd < 0)
			return neg_errno(errno);
		snprintf(sub, sizeof(sub), "%.*s", (int)len, rel + off);
		if (mkdirat(pfd, sub, last ? mode : 0755) < 0 && errno != EEXIST)
			return neg_errno(errno);
		if (last)
			break;
	}
	fd = root_fd(ctx, root);
	return fd < 0 ? fd : 0;
}

int vfk_root_mkdirs(struct vfk_ctx *ctx, enum vfk_root root, const char *rel, mode_t mode)
{
	char sub[PATH_MAX];
	size_t off, len;
	int r;

	if (!rel || !*rel || !rel_is_safe(rel) || strlen(rel) >= sizeof(sub))
		return neg_errno(EINVAL);
	/* vfiokit's own roots may be missing yet; the system's exist */
	r = root == VFK_ROOT_RUN || root == VFK_ROOT_ETC || root == VFK_ROOT_MDEVCTL ||
	    root == VFK_ROOT_STATE || root == VFK_ROOT_VM_RUN || root == VFK_ROOT_VM_STATE
		    ? vfk_root_ensure(ctx, root) : 0;
	if (r < 0)
		return r;
	for (off = 0;; off += len + 1) {
		_cleanup_close_ int pfd = -1;

		len = strcspn(rel + off, "/");
		snprintf(sub, sizeof(sub), "%.*s", off ? (int)off - 1 : 0, rel);
		pfd = vfk_root_open_dir(ctx, root, sub);
		if (pfd < 0)
			return pfd;
		snprintf(sub, sizeof(sub), "%.*s", (int)len, rel + off);
		if (len && mkdirat(pfd, sub, mode) < 0 && errno != EEXIST)
			return neg_errno(errno);
		if (!rel[off + len])
			return 0;
	}
}

int vfk_connect_unix_in(struct vfk_ctx *ctx, int dirfd, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int node = -1;
	struct stat st;
	int fd, r;

	if (!name || !*name || strchr(name, '/'))
		return neg_errno(EINVAL);
	node = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (node < 0)
		return neg_errno(errno);
	if (fstat(node, &st) < 0)
		return neg_errno(errno);
	if (!S_ISSOCK(st.st_mode))
		return neg_errno(ENOTSOCK);
	r = check_inside(ctx, node);
	if (r < 0)
		return r;
	/* connect(2) takes a path: the node's own link, so nothing is looked up again */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", node);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return neg_errno(errno);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = neg_errno(errno);
		close(fd);
		return r;
	}
	return fd;
}

int vfk_open_null(int flags)
{
	/* the running system's, whatever the sysroot: processes we start live here */
	return open("/dev/null", flags | O_CLOEXEC);
}
