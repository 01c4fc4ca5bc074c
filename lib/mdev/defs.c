/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The definitions on disk: mdevctl's etc/mdevctl.d/<parent>/<uuid> and, for
 * per-VF vGPUs, etc/vfiokit/vgpu/<VF>. All of them are read at once, so that
 * a file refused and a UUID defined twice are known before anything acts;
 * one is written or removed at a time.
 */
#include <stdio.h>

#include "mdev/mdev.h"

#define VGPU_DIR "vgpu"			/* below VFK_ROOT_ETC */

void mdev_def_clear(struct mdev_def *d)
{
	size_t i;

	for (i = 0; i < d->nattrs; i++)
		free(d->attrs[i].value);
	free(d->attrs);
	d->attrs = NULL;
	d->nattrs = 0;
}

void mdev_bads_free(struct mdev_bad *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(b[i].error);
	free(b);
}

void mdev_defs_free(struct mdev_defs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		mdev_def_clear(&s->v[i]);
	free(s->v);
	mdev_bads_free(s->bad, s->nbad);
	memset(s, 0, sizeof(*s));
}

static int defs_add(struct mdev_defs *s, const struct mdev_def *d)
{
	struct mdev_def *nd = realloc(s->v, (s->n + 1) * sizeof(*nd));

	if (!nd)
		return neg_errno(ENOMEM);
	s->v = nd;
	nd[s->n++] = *d;
	return 0;
}

static int defs_add_bad(struct mdev_defs *s, const struct mdev_def *d, const char *error)
{
	struct mdev_bad *nb = realloc(s->bad, (s->nbad + 1) * sizeof(*nb));

	if (!nb)
		return neg_errno(ENOMEM);
	s->bad = nb;
	nb += s->nbad;
	nb->kind = d->kind;
	snprintf(nb->parent, sizeof(nb->parent), "%s", d->parent);
	snprintf(nb->id, sizeof(nb->id), "%s", d->id);
	snprintf(nb->name, sizeof(nb->name), "%s", d->name);
	if (!(nb->error = strdup(error)))
		return neg_errno(ENOMEM);
	s->nbad++;
	return 0;
}

/* The directory that holds definitions of @kind on @parent: its root, and
 * the path below it in @dir. */
static enum vfk_root def_dir(enum vfk_mdev_kind kind, const char *parent, const char **dir)
{
	if (kind == VFK_MDEV_NVIDIA_VF) {
		*dir = VGPU_DIR;
		return VFK_ROOT_ETC;
	}
	*dir = parent;
	return VFK_ROOT_MDEVCTL;
}

/* The file @name of a definition: its root, and the path below it in @rel. */
static enum vfk_root def_file(enum vfk_mdev_kind kind, const char *parent, const char *name,
			      char *rel, size_t size)
{
	const char *dir;
	enum vfk_root root = def_dir(kind, parent, &dir);

	snprintf(rel, size, "%s/%s", dir, name);
	return root;
}

/* Where a definition lives, for messages: the path on this host, sysroot included. */
static char *def_path(struct vfk_ctx *ctx, const struct mdev_def *d)
{
	char rel[160];
	enum vfk_root root = def_file(d->kind, d->parent, d->name, rel, sizeof(rel));

	return vfk_root_path(ctx, root, rel);
}

/* The file @name below @dfd into @s, as a definition or as refused; a file
 * not named as a definition is passed over. 0 or -ENOMEM. */
static int defs_read_file(struct vfk_ctx *ctx, int dfd, enum vfk_mdev_kind kind,
			  const char *parent, const char *name, struct mdev_defs *s)
{
	struct mdev_def def = { .kind = kind };
	_cleanup_free_ char *path = NULL;
	char err[512];
	int r;

	/* not a definition at all (mdevctl's scripts.d, an editor's backup) */
	if (kind == VFK_MDEV_CLASSIC ? mdev_uuid_norm(name, def.id) < 0
				     : !mdev_pci_norm(name, def.id)) {
		dbg(ctx, "ignoring %s/%s: not named by %s", parent ? parent : VGPU_DIR, name,
		    kind == VFK_MDEV_CLASSIC ? "a UUID" : "a PCI address");
		return 0;
	}
	/* a UUID or an address: shorter than the buffer, as the check above made sure */
	snprintf(def.name, sizeof(def.name), "%.*s", (int)sizeof(def.name) - 1, name);
	snprintf(def.parent, sizeof(def.parent), "%s", parent ? parent : def.id);
	if (!(path = def_path(ctx, &def)))
		return neg_errno(ENOMEM);
	r = mdev_def_load(ctx, dfd, name, path, &def, err, sizeof(err));
	if (r == -EBADMSG) {
		dbg(ctx, "%s", err);	/* reported by the callers, once */
		r = defs_add_bad(s, &def, err);
		mdev_def_clear(&def);
	} else if (r == 0) {
		r = defs_add(s, &def);
	}
	if (r < 0)
		mdev_def_clear(&def);
	return r;
}

/* Read every file of one directory of definitions; @parent NULL for per-VF ones. */
static int defs_read_dir(struct vfk_ctx *ctx, int dfd, enum vfk_mdev_kind kind, const char *parent,
			 struct mdev_defs *s)
{
	_cleanup_closedir_ DIR *d = vfk_opendir_in(ctx, dfd, "");
	struct dirent *e;
	int r;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		r = defs_read_file(ctx, dfd, kind, parent, e->d_name, s);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One UUID defined on two parents: which one is meant cannot be told, so neither is used. */
static int defs_refuse_twins(struct vfk_ctx *ctx, struct mdev_defs *s)
{
	_cleanup_free_ size_t *twin = calloc(s->n + 1, sizeof(*twin));	/* its twin + 1, or 0 */
	size_t i, k, keep = 0;
	int r = 0;

	if (!twin)
		return neg_errno(ENOMEM);
	for (i = 0; i < s->n; i++)
		for (k = 0; k < s->n && !twin[i]; k++)
			if (k != i && streq(s->v[k].id, s->v[i].id) &&
			    !streq(s->v[k].parent, s->v[i].parent))
				twin[i] = k + 1;
	for (i = 0; i < s->n && r == 0; i++)
		if (twin[i]) {
			_cleanup_free_ char *path = def_path(ctx, &s->v[i]);
			char err[512];
			snprintf(err, sizeof(err), "%s: %s is also defined on %s: one UUID, one parent",
				 path ? path : s->v[i].name, s->v[i].id, s->v[twin[i] - 1].parent);
			r = defs_add_bad(s, &s->v[i], err);
		}
	for (i = 0; i < s->n; i++) {
		if (twin[i])
			mdev_def_clear(&s->v[i]);
		else
			s->v[keep++] = s->v[i];
	}
	s->n = keep;
	return r;
}

static int cmp_bad(const void *a, const void *b)
{
	const struct mdev_bad *x = a, *y = b;
	int c = mdev_cmp_version(x->parent, y->parent);

	return c ? c : strcmp(x->id, y->id);
}

int mdev_defs_load(struct vfk_ctx *ctx, struct mdev_defs *s)
{
	_cleanup_close_ int mfd = vfk_root_open_dir(ctx, VFK_ROOT_MDEVCTL, "");
	_cleanup_close_ int vfd = vfk_root_open_dir(ctx, VFK_ROOT_ETC, VGPU_DIR);
	_cleanup_closedir_ DIR *d = vfk_opendir_in(ctx, mfd, "");
	struct dirent *e;
	int r = 0;

	memset(s, 0, sizeof(*s));
	while (d && (e = readdir(d)) && r == 0) {
		_cleanup_close_ int pfd = -1;
		if (e->d_name[0] == '.' || !mdev_name_ok(e->d_name, 64))
			continue;
		pfd = vfk_open_dir_in(ctx, mfd, e->d_name);
		if (pfd >= 0)
			r = defs_read_dir(ctx, pfd, VFK_MDEV_CLASSIC, e->d_name, s);
		else
			dbg(ctx, "ignoring definitions under %s: %s", e->d_name, strerror(-pfd));
	}
	if (r == 0 && vfd >= 0)
		r = defs_read_dir(ctx, vfd, VFK_MDEV_NVIDIA_VF, NULL, s);
	if (r == 0)
		r = defs_refuse_twins(ctx, s);
	if (r < 0)
		mdev_defs_free(s);
	else	/* readdir's order is the disk's: messages in a stable one */
		qsort_safe(s->bad, s->nbad, sizeof(*s->bad), cmp_bad);
	return r;
}

int mdev_defs_read(struct vfk_ctx *ctx, struct mdev_defs *s, char *err, size_t size)
{
	int r = mdev_defs_load(ctx, s);

	if (r < 0)
		return op_error(err, size, -r, "reading definitions failed: %s", strerror(-r));
	return 0;
}

struct mdev_def *mdev_defs_find(struct mdev_def *defs, size_t n, const char *id, size_t from)
{
	size_t i;

	for (i = from; i < n; i++)
		if (streq(defs[i].id, id))
			return &defs[i];
	return NULL;
}

const struct mdev_bad *mdev_defs_find_bad(const struct mdev_defs *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nbad; i++)
		if (streq(s->bad[i].id, id))
			return &s->bad[i];
	return NULL;
}

int mdev_def_write(struct vfk_ctx *ctx, const struct mdev_def *d)
{
	_cleanup_free_ char *text = mdev_def_format(d);
	const char *dir;
	enum vfk_root root = def_dir(d->kind, d->parent, &dir);

	if (!text)
		return neg_errno(ENOMEM);
	return vfk_host_write_file_in(ctx, root, dir, d->id, text, 0644);
}

int mdev_def_remove(struct vfk_ctx *ctx, enum vfk_mdev_kind kind, const char *parent,
		    const char *name)
{
	char rel[160];
	enum vfk_root root = def_file(kind, parent, name, rel, sizeof(rel));
	int r = vfk_host_remove_file(ctx, root, rel);

	return r < 0 ? r : 0;	/* 1: a dry run's hook skipped it */
}
