/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * start and start-defined: vGPUs created from their definitions, mdevctl's
 * attrs written after the create. A damaged file is never acted on, but at
 * boot it costs only its own vGPU.
 */
#include <stdio.h>

#include "mdev/mdev.h"

/* mdevctl's attrs, in order after create; names and values were checked when
 * the file was parsed. A missing attribute fails its write (-ENOENT). */
static int apply_attrs(struct vfk_ctx *ctx, const struct mdev_def *d, char *err, size_t size)
{
	size_t i;

	for (i = 0; i < d->nattrs; i++) {
		char rel[192];
		int r;
		snprintf(rel, sizeof(rel), VFK_SYS_MDEV_DEVICES "/%s/%s", d->id, d->attrs[i].name);
		r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, d->attrs[i].value);
		if (r < 0)
			return op_error(err, size, -r, "%s: writing attribute %s failed: %s", d->id,
					d->attrs[i].name, strerror(-r));
	}
	return 0;
}

/* Is the definition running already? 1 yes, 0 no, -EEXIST with another type. */
static int def_active(struct vfk_ctx *ctx, const struct mdev_def *d, char *err, size_t size)
{
	char type[128];
	bool active = d->kind == VFK_MDEV_NVIDIA_VF ? mdev_vf_type(ctx, d->id, type, sizeof(type))
						    : mdev_classic_type(ctx, d->id, type, sizeof(type));

	if (!active)
		return 0;
	if (streq(type, d->type))
		return 1;
	return op_error(err, size, EEXIST, "%s is active with type %s, defined as %s", d->id, type,
			d->type);
}

/*
 * A step after the create failed: the instance goes again (as mdevctl does),
 * so no half-configured vGPU is left for a VM to take. Says so in @err.
 */
static void start_undo(struct vfk_ctx *ctx, const struct mdev_def *d, bool dry, char *err,
		       size_t size)
{
	size_t len = strlen(err);
	char e[256];

	if (mdev_remove_classic(ctx, d->id, dry, e, sizeof(e)) < 0)
		snprintf(err + len, size - len, "; removing the mdev created for it failed too: %s", e);
	else
		snprintf(err + len, size - len, "; the mdev created for it was removed again");
}

/* 1 created, 0 active already, or a negative errno. */
static int start_def(struct vfk_ctx *ctx, const struct mdev_def *d, bool dry, char *err,
		     size_t size)
{
	int r;

	vfk_progress(ctx, "starting %s (%s on %s)", d->id, d->type, d->parent);
	r = def_active(ctx, d, err, size);
	if (r != 0)
		return r < 0 ? r : 0;
	r = mdev_create_on(ctx, d->kind == VFK_MDEV_NVIDIA_VF ? d->id : d->parent, d->type,
			   d->kind == VFK_MDEV_CLASSIC ? d->id : NULL, dry, NULL, err, size);
	/* mdevctl's udev rule may have started it meanwhile: that is fine */
	if (r == -EEXIST && def_active(ctx, d, NULL, 0) == 1)
		return 0;
	if (r < 0)
		return r;
	r = d->kind == VFK_MDEV_CLASSIC ? apply_attrs(ctx, d, err, size) : 0;
	if (r < 0)
		start_undo(ctx, d, dry, err, size);
	return r < 0 ? r : 1;
}

static bool parent_present(struct vfk_ctx *ctx, const struct mdev_def *d)
{
	_cleanup_close_ int cfd = -1;

	if (d->kind == VFK_MDEV_NVIDIA_VF)
		return vgpu_vf_present(ctx, d->id, NULL);
	cfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_CLASS_MDEV_BUS);
	return cfd >= 0 && vfk_exists_at(cfd, d->parent);
}

/* Is a definition kept under @dparent on @pnorm? A per-VF one also is on its PF. */
static bool def_on_parent(struct vfk_ctx *ctx, enum vfk_mdev_kind kind, const char *dparent,
			  const char *id, const char *pnorm)
{
	char pf[32];

	if (streq(dparent, pnorm))
		return true;
	return kind == VFK_MDEV_NVIDIA_VF && mdev_vf_parent_of(ctx, id, pf, sizeof(pf), NULL) &&
	       streq(pf, pnorm);
}

/* One more line of a list of failures. */
static void err_add(char *err, size_t size, const char *line)
{
	size_t len;

	if (!err || !size)
		return;
	len = strlen(err);
	if (len + 2 < size)
		snprintf(err + len, size - len, "%s%s", len ? "\n" : "", line);
}

/* start ID: a damaged file of that id means nothing is created (which one was meant?). */
static int start_one(struct vfk_ctx *ctx, const struct mdev_defs *s, const char *id, bool dry,
		     char *err, size_t size)
{
	const struct mdev_bad *bad = mdev_defs_find_bad(s, id);
	struct mdev_def *d = mdev_defs_find(s->v, s->n, id, 0);
	int r;

	if (bad)
		return op_error(err, size, EBADMSG, "%s", bad->error);
	if (!d)
		return op_error(err, size, ENOENT, "%s is not defined", id);
	r = start_def(ctx, d, dry, err, size);
	return r < 0 ? r : 0;
}

/*
 * start-defined: every damaged file on @parent is one line of @err, and the
 * good definitions are started all the same (a boot must not lose every
 * vGPU for one bad file). The number started, or the first error.
 */
static int start_all(struct vfk_ctx *ctx, const struct mdev_defs *s, const char *parent,
		     bool dry, char *err, size_t size)
{
	int r, first = 0, started = 0;
	size_t i;

	for (i = 0; i < s->nbad; i++)
		if (!parent || def_on_parent(ctx, s->bad[i].kind, s->bad[i].parent, s->bad[i].id,
					     parent)) {
			err_add(err, size, s->bad[i].error);
			first = first ? first : neg_errno(EBADMSG);
		}
	for (i = 0; i < s->n; i++) {
		const struct mdev_def *d = &s->v[i];
		char e[768] = "";
		if (!d->autostart || (parent && !def_on_parent(ctx, d->kind, d->parent, d->id, parent)))
			continue;
		if (!parent_present(ctx, d)) {
			dbg(ctx, "%s: parent %s not present", d->id, d->parent);
			continue;
		}
		r = start_def(ctx, d, dry, e, sizeof(e));
		if (r < 0) {
			err_add(err, size, e);
			first = first ? first : r;
			continue;
		}
		started += r;
	}
	return first ? first : started;
}

static int start_on(struct vfk_ctx *ctx, const char *id, const char *parent, bool dry,
		    char *err, size_t size)
{
	struct mdev_defs s;
	char norm[VFK_MDEV_ID_SIZE], pnorm[64];
	int r;

	if (id && !mdev_id_norm(id, norm))
		return op_error(err, size, EINVAL, "'%s' is neither a UUID nor a VF address", id);
	if (parent && !mdev_pci_norm(parent, pnorm))
		snprintf(pnorm, sizeof(pnorm), "%s", parent);
	r = mdev_defs_read(ctx, &s, err, size);
	if (r < 0)
		return r;
	r = id ? start_one(ctx, &s, norm, dry, err, size)
	       : start_all(ctx, &s, parent ? pnorm : NULL, dry, err, size);
	mdev_defs_free(&s);
	return r;
}

int vfk_mdev_start(struct vfk_ctx *ctx, const char *id, unsigned int flags, char *errbuf,
		   size_t errsize)
{
	struct op_hook save;
	int r;

	if (!id)
		return op_error(errbuf, errsize, EINVAL, "start needs an instance id");
	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, errbuf, errsize, &save);
	r = op_end(ctx, &save,
		   start_on(ctx, id, NULL, flags & VFK_MDEV_DRY_RUN, errbuf, errsize));
	return r < 0 ? r : 0;
}

int vfk_mdev_start_defined(struct vfk_ctx *ctx, const char *parent, unsigned int flags,
			   char *errbuf, size_t errsize)
{
	struct op_hook save;

	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, errbuf, errsize, &save);
	return op_end(ctx, &save,
		      start_on(ctx, NULL, parent, flags & VFK_MDEV_DRY_RUN, errbuf, errsize));
}

