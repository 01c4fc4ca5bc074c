/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Applying a fix and taking it back. Each file is backed up (what it held,
 * and what the fix writes) and recorded in the journal before it changes,
 * then replaced by rename, so that whatever stops a fix half-way leaves a
 * host that --revert puts back: every file as it was, byte for byte and
 * with its mode, files the fix created removed, the commands run again so
 * that boot loader and initramfs follow. A file changed since the fix wrote
 * it is not overwritten: the revert refuses before it touches anything.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "bind/journal.h"
#include "fix/fix.h"

#define RUN_MS (15 * 60 * 1000)	/* dracut --regenerate-all on a slow disk */

static mode_t mode_of(struct vfk_ctx *ctx, const char *path)
{
	_cleanup_close_ int top = vfk_root_open_dir(ctx, VFK_ROOT_TOP, NULL);
	_cleanup_close_ int fd = top >= 0 ? vfk_open_file_in(ctx, top, path) : -1;
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 ? st.st_mode & 07777 : 0644;
}

static int backup(struct vfk_ctx *ctx, unsigned int n, const char *ext, const char *data,
		  size_t len)
{
	char rel[64];

	snprintf(rel, sizeof(rel), FIX_DIR "/%u.%s", n, ext);
	return vfk_host_replace_file(ctx, VFK_ROOT_STATE, rel, data, len, 0600);
}

static int read_backup(struct vfk_ctx *ctx, unsigned int n, const char *ext, char **text,
		       size_t *len)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_STATE, FIX_DIR);
	char name[32];

	snprintf(name, sizeof(name), "%u.%s", n, ext);
	return dfd < 0 ? dfd : vfk_read_file_in(ctx, dfd, name, 1024 * 1024, text, len);
}

static int take_lock(struct vfk_ctx *ctx, char *errbuf, size_t errsize)
{
	long holder = 0;
	int fd = vfk_lock_take(ctx, vfk_ctx_get_timeout(ctx), &holder);

	if (fd == -EWOULDBLOCK)
		snprintf(errbuf, errsize, "another vfiokit command (pid %ld) holds the lock", holder);
	else if (fd < 0)
		snprintf(errbuf, errsize, "cannot take vfiokit's lock: %s", strerror(-fd));
	return fd;
}

/* ------------------------------------------------------------ apply */

/* The directories above @path that do not exist yet, parents first: the
 * write creates them, the revert removes them. */
static int note_missing_dirs(struct vfk_ctx *ctx, struct fix_journal *j, const char *path)
{
	const char *slash;
	int r = 0;

	for (slash = strchr(path, '/'); slash && r == 0; slash = strchr(slash + 1, '/')) {
		_cleanup_free_ char *dir = strndup(path, (size_t)(slash - path));
		_cleanup_close_ int fd = dir ? vfk_root_open_dir(ctx, VFK_ROOT_TOP, dir) : -1;

		if (!dir)
			return neg_errno(ENOMEM);
		if (fd == -ENOENT)
			r = fix_journal_add_dir(j, dir);
	}
	return r;
}

static int apply_file(struct vfk_fix *f, struct fix_journal *j, const struct fix_file *ff,
		      unsigned int n, char *errbuf, size_t errsize)
{
	struct fix_jfile e = { .n = n, .path = ff->path, .had_old = ff->old != NULL };
	size_t oldlen = ff->old ? strlen(ff->old) : 0, newlen = strlen(ff->new);
	int r;

	e.mode = mode_of(f->ctx, ff->path);
	e.oldsum = ff->old ? fix_sum(ff->old, oldlen) : 0;
	e.newsum = fix_sum(ff->new, newlen);
	r = ff->old ? backup(f->ctx, n, "old", ff->old, oldlen) : 0;
	if (r >= 0)
		r = backup(f->ctx, n, "new", ff->new, newlen);
	if (r >= 0)
		r = fix_journal_add_file(j, &e);
	if (r >= 0)
		r = note_missing_dirs(f->ctx, j, ff->path);
	if (r >= 0)
		r = fix_journal_save(f->ctx, j);
	if (r < 0) {
		snprintf(errbuf, errsize, "keeping a copy of /%s under /var/lib/vfiokit/" FIX_DIR
			 ": %s; /%s is not changed", ff->path, strerror(-r), ff->path);
		return r;
	}
	r = vfk_host_replace_file(f->ctx, VFK_ROOT_TOP, ff->path, ff->new, newlen, e.mode);
	if (r < 0)
		snprintf(errbuf, errsize, "writing /%s: %s", ff->path, strerror(-r));
	else
		vfk_progress(f->ctx, "%s /%s", ff->old ? "changed" : "created", ff->path);
	return r;
}

static int run_commands(struct vfk_ctx *ctx, char ***cmds, size_t n, char *errbuf,
			size_t errsize)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *const *argv = (const char *const *)cmds[i];
		char why[512];
		int r;

		if (!vfk_ctx_is_live(ctx)) {
			vfk_progress(ctx, "not run: %s (the sysroot is not the running system: run "
				     "it inside, e.g. with chroot)", argv[0]);
			continue;
		}
		vfk_progress(ctx, "running %s", argv[0]);
		r = vfk_run_program(argv, RUN_MS, why, sizeof(why));
		if (r < 0) {
			snprintf(errbuf, errsize, "%s failed (%s)", argv[0],
				 r == -ETIMEDOUT ? "still running after 15 minutes" : why);
			return r;
		}
	}
	return 0;
}

int vfk_fix_apply(struct vfk_fix *f, char *errbuf, size_t errsize)
{
	struct fix_journal j;
	_cleanup_close_ int lock = -1;
	unsigned int n = 1;
	size_t i;
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (!f)
		return neg_errno(EINVAL);
	if (!f->nfiles)
		return 0;	/* a second --fix: nothing to do */
	lock = take_lock(f->ctx, errbuf, errsize);
	if (lock < 0)
		return lock;
	r = fix_journal_load(f->ctx, &j, errbuf, errsize);
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		return r;
	for (i = 0; i < j.nfiles; i++)
		if (j.files[i].n >= n)
			n = j.files[i].n + 1;
	for (i = 0; r >= 0 && i < f->nfiles; i++)
		r = apply_file(f, &j, &f->files[i], n++, errbuf, errsize);
	/* the journal keeps what the revert runs */
	for (i = 0; r >= 0 && i < f->ncmds; i++)
		if (f->undo[i])
			r = fix_journal_add_run(&j, (const char *const *)f->undo[i]);
	if (r >= 0 && f->ncmds)
		r = fix_journal_save(f->ctx, &j);
	if (r >= 0)
		r = run_commands(f->ctx, f->cmds, f->ncmds, errbuf, errsize);
	fix_journal_free(&j);
	if (r < 0 && errbuf && errsize) {
		size_t len = strlen(errbuf);

		snprintf(errbuf + len, errsize - len, "; vfio-check --revert puts back what was "
			 "changed");
	}
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------ revert */

/* A path's first record (its old bytes are the original) and last (its new
 * bytes are what the host should hold now). */
struct revert_item {
	const struct fix_jfile *first, *last;
	char *orig, *expect;		/* bytes; orig NULL when the fix created it */
	size_t origlen, expectlen;
};

static int item_load(struct vfk_ctx *ctx, struct revert_item *it, char *errbuf, size_t errsize)
{
	int r = 0;

	if (it->first->had_old) {
		r = read_backup(ctx, it->first->n, "old", &it->orig, &it->origlen);
		if (r == 0 && fix_sum(it->orig, it->origlen) != it->first->oldsum)
			r = neg_errno(EBADMSG);
	}
	if (r == 0) {
		r = read_backup(ctx, it->last->n, "new", &it->expect, &it->expectlen);
		if (r == 0 && fix_sum(it->expect, it->expectlen) != it->last->newsum)
			r = neg_errno(EBADMSG);
	}
	if (r < 0)
		snprintf(errbuf, errsize, "the copy of /%s under /var/lib/vfiokit/" FIX_DIR " is %s: "
			 "nothing reverted", it->first->path,
			 r == -EBADMSG ? "not what was saved" : strerror(-r));
	return r;
}

/* The host may hold what the fix wrote, or already the original (a fix
 * stopped before the write, or a revert stopped after it); anything else
 * is someone's edit, which a revert does not overwrite. */
static int item_check(struct vfk_ctx *ctx, const struct revert_item *it, char *errbuf,
		      size_t errsize)
{
	_cleanup_close_ int top = vfk_root_open_dir(ctx, VFK_ROOT_TOP, NULL);
	_cleanup_free_ char *now = NULL;
	size_t len = 0;
	int r = top < 0 ? top : vfk_read_file_in(ctx, top, it->first->path, 1024 * 1024, &now, &len);

	if (r == -ENOENT && !it->orig)
		return 0;
	if (r == 0 && ((len == it->expectlen && !memcmp(now, it->expect, len)) ||
		       (it->orig && len == it->origlen && !memcmp(now, it->orig, len))))
		return 0;
	snprintf(errbuf, errsize, "/%s %s since vfio-check --fix wrote it: nothing reverted "
		 "(put back the fixed version or edit the file by hand)", it->first->path,
		 r == -ENOENT ? "was removed" : r < 0 ? "cannot be read" : "was changed");
	return r < 0 && r != -ENOENT ? r : neg_errno(EBUSY);
}

static int item_restore(struct vfk_ctx *ctx, const struct revert_item *it)
{
	int r;

	if (it->orig)
		r = vfk_host_replace_file(ctx, VFK_ROOT_TOP, it->first->path, it->orig, it->origlen,
					  it->first->mode);
	else {
		r = vfk_host_remove_file(ctx, VFK_ROOT_TOP, it->first->path);
		if (r == -ENOENT)
			r = 0;
	}
	if (r >= 0)
		vfk_progress(ctx, "%s /%s", it->orig ? "put back" : "removed", it->first->path);
	return r;
}

/* One item per path, in the order the paths were first changed. */
static size_t items_of(const struct fix_journal *j, struct revert_item *items)
{
	size_t i, k, n = 0;

	for (i = 0; i < j->nfiles; i++) {
		for (k = 0; k < n && strcmp(items[k].first->path, j->files[i].path); k++)
			;
		if (k == n) {
			memset(&items[n], 0, sizeof(items[n]));
			items[n++].first = &j->files[i];
		}
		items[k].last = &j->files[i];
	}
	return n;
}

/* The directories the fix made, deepest first; one that holds something
 * now (a file someone put there) stays. */
static void remove_dirs(struct vfk_ctx *ctx, const struct fix_journal *j)
{
	size_t i;

	for (i = j->dirs.n; i-- > 0;)
		if (vfk_host_remove_dir(ctx, VFK_ROOT_TOP, j->dirs.v[i]) == 0)
			vfk_progress(ctx, "removed /%s", j->dirs.v[i]);
}

static void remove_state(struct vfk_ctx *ctx, const struct fix_journal *j)
{
	char rel[64];
	size_t i;

	for (i = 0; i < j->nfiles; i++) {
		snprintf(rel, sizeof(rel), FIX_DIR "/%u.old", j->files[i].n);
		vfk_host_remove_file(ctx, VFK_ROOT_STATE, rel);
		snprintf(rel, sizeof(rel), FIX_DIR "/%u.new", j->files[i].n);
		vfk_host_remove_file(ctx, VFK_ROOT_STATE, rel);
	}
	vfk_host_remove_file(ctx, VFK_ROOT_STATE, FIX_DIR "/journal");
}

int vfk_fix_revert(struct vfk_ctx *ctx, bool dry_run, char *errbuf, size_t errsize)
{
	_cleanup_close_ int lock = -1;
	struct revert_item *items = NULL;
	struct fix_journal j;
	size_t i, n = 0;
	int r;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (!ctx)
		return neg_errno(EINVAL);
	lock = take_lock(ctx, errbuf, errsize);
	if (lock < 0)
		return lock;
	r = fix_journal_load(ctx, &j, errbuf, errsize);
	if (r < 0)
		return r;	/* -ENOENT: nothing to revert */
	items = calloc(j.nfiles ? j.nfiles : 1, sizeof(*items));
	r = items ? 0 : neg_errno(ENOMEM);
	if (r == 0)
		n = items_of(&j, items);
	for (i = 0; r == 0 && i < n; i++)
		r = item_load(ctx, &items[i], errbuf, errsize);
	for (i = 0; r == 0 && i < n; i++)
		r = item_check(ctx, &items[i], errbuf, errsize);
	for (i = n; r == 0 && !dry_run && i-- > 0;) {
		r = item_restore(ctx, &items[i]);
		if (r < 0)
			snprintf(errbuf, errsize, "putting back /%s: %s (run --revert again)",
				 items[i].first->path, strerror(-r));
	}
	if (r == 0 && !dry_run)
		remove_dirs(ctx, &j);
	for (i = 0; dry_run && r == 0 && i < n; i++)
		vfk_progress(ctx, "would %s /%s", items[i].orig ? "put back" : "remove",
			     items[i].first->path);
	if (r == 0 && !dry_run)
		r = run_commands(ctx, j.runs, j.nruns, errbuf, errsize);
	if (r == 0 && !dry_run)
		remove_state(ctx, &j);
	for (i = 0; i < n; i++) {
		free(items[i].orig);
		free(items[i].expect);
	}
	free(items);
	fix_journal_free(&j);
	return r;
}
