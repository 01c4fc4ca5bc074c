/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * define and undefine: a definition made from an active instance or from a
 * parent and a type, written in mdevctl's format, and every file of an id
 * removed again.
 */
#include <stdio.h>

#include "mdev/mdev.h"

/* Parent and type of the active instance @id into @d. */
static int def_from_active(struct vfk_ctx *ctx, const char *id, struct mdev_def *d, char *err,
			   size_t size)
{
	struct vfk_mdevs *m = NULL;
	struct vfk_mdev_instance *i;
	int r;

	r = vfk_mdevs_scan(ctx, &m);
	if (r < 0)
		return op_error(err, size, -r, "reading mediated devices failed: %s", strerror(-r));
	r = vfk_mdevs_find_instance(m, id, &i);
	if (r < 0 || !i->active) {
		vfk_mdevs_unref(m);
		return op_error(err, size, r == -EINVAL ? EINVAL : ENOENT,
				"%s is not an active instance (name PARENT and TYPE to define one "
				"that is not created yet)", id);
	}
	d->kind = i->kind;
	snprintf(d->id, sizeof(d->id), "%s", i->id);
	snprintf(d->parent, sizeof(d->parent), "%s", i->kind == VFK_MDEV_NVIDIA_VF ? i->id : i->parent);
	snprintf(d->type, sizeof(d->type), "%s", i->type_id);
	vfk_mdevs_unref(m);
	return 0;
}

/* A per-VF vGPU on the live per-VF parent @p, loaded for @parent: it is
 * kept by its VF, so @parent must name one and @id may only repeat it. */
static int def_vf(const struct vfk_mdev_parent *p, const struct vfk_mdev_type *t, bool one_vf,
		  const char *id, const char *parent, struct mdev_def *d, char *err, size_t size)
{
	char addr[16];

	if (!t)
		return op_error(err, size, ENOENT, "%s offers no vGPU type now", p->name);
	if (!one_vf)
		return op_error(err, size, EINVAL, "per-VF vGPUs are defined per VF: name one "
				"of %s's VFs as the parent", p->name);
	d->kind = VFK_MDEV_NVIDIA_VF;
	mdev_pci_norm(parent, addr);
	if (id && (!mdev_pci_norm(id, d->id) || !streq(d->id, addr)))
		return op_error(err, size, EINVAL, "a per-VF vGPU's id is its VF (%s)", addr);
	snprintf(d->id, sizeof(d->id), "%s", addr);
	snprintf(d->parent, sizeof(d->parent), "%s", addr);
	snprintf(d->type, sizeof(d->type), "%s", t->id);
	return 0;
}

/* A classic mdev; a parent that is not there now (@p NULL, or @t NULL) is
 * taken as written, as mdevctl does. */
static int def_classic(struct vfk_ctx *ctx, const struct vfk_mdev_parent *p,
		       const struct vfk_mdev_type *t, const char *id, const char *parent,
		       const char *type, struct mdev_def *d, char *err, size_t size)
{
	char addr[16];

	d->kind = VFK_MDEV_CLASSIC;
	if (mdev_uuid_or_new(id, d->id) < 0)
		return op_error(err, size, EINVAL, "'%s' is not a UUID", id);
	snprintf(d->parent, sizeof(d->parent), "%s",
		 p ? p->name : mdev_pci_norm(parent, addr) ? addr : parent);
	snprintf(d->type, sizeof(d->type), "%s", t ? t->id : type);
	if (!mdev_name_ok(d->type, sizeof(d->type)))
		return op_error(err, size, EINVAL, "'%s' is not a type id", type);
	if (!t)
		info(ctx, "parent %s is not present now: defining type %s as given", parent, type);
	return 0;
}

/* Parent and type given: resolve against the live parent when it is there. */
static int def_from_args(struct vfk_ctx *ctx, const char *id, const char *parent, const char *type,
			 struct mdev_def *d, char *err, size_t size)
{
	_cleanup_(mdev_parent_freep) struct vfk_mdev_parent *p = NULL;
	const struct vfk_mdev_type *t = NULL;
	bool one_vf = false;

	if (!parent || !type || !mdev_name_ok(parent, sizeof(d->parent)) || !*type ||
	    strlen(type) >= 128)
		return op_error(err, size, EINVAL, "define needs a parent and a type");
	if (mdev_load_live_parent(ctx, parent, &p, &one_vf, NULL, 0) == 0 && p->ntypes) {
		t = mdev_parent_match_type(p, type);
		if (!t)
			return mdev_unknown_type_error(p, type, err, size);
	}
	if (p && p->kind == VFK_MDEV_NVIDIA_VF)
		return def_vf(p, t, one_vf, id, parent, d, err, size);
	return def_classic(ctx, p, t, id, parent, type, d, err, size);
}

/* Can @d replace what is defined for its id in @s? Attributes set with
 * mdevctl on the same parent go over to @d. */
static int def_replaces(const struct mdev_defs *s, struct mdev_def *d, char *err, size_t size)
{
	const struct mdev_bad *bad;
	struct mdev_def *old;

	/* its attrs would be lost with the file: the user fixes or undefines it */
	if ((bad = mdev_defs_find_bad(s, d->id)))
		return op_error(err, size, EBADMSG, "%s (fix it or vfio-mdev undefine %s first)",
				bad->error, d->id);
	old = mdev_defs_find(s->v, s->n, d->id, 0);
	if (old && !streq(old->parent, d->parent))
		return op_error(err, size, EEXIST, "%s is defined on %s already (vfio-mdev undefine "
				"%s first)", d->id, old->parent, d->id);
	if (old) {	/* keep attributes set with mdevctl */
		d->attrs = TAKE_PTR(old->attrs);
		d->nattrs = old->nattrs;
		old->nattrs = 0;
	}
	return 0;
}

static int define_on(struct vfk_ctx *ctx, const char *id, const char *parent, const char *type,
		     unsigned int flags, char *id_out, char *err, size_t size)
{
	struct mdev_def d = { 0 };
	struct mdev_defs s;
	int r;

	if (!parent && !type) {
		if (!id)
			return op_error(err, size, EINVAL, "define needs an instance or a parent and a type");
		r = def_from_active(ctx, id, &d, err, size);
	} else {
		r = def_from_args(ctx, id, parent, type, &d, err, size);
	}
	if (r < 0)
		return r;
	d.autostart = !(flags & VFK_MDEV_MANUAL);
	r = mdev_defs_read(ctx, &s, err, size);
	if (r < 0)
		return r;
	r = def_replaces(&s, &d, err, size);
	if (r < 0)
		goto out;
	vfk_progress(ctx, "defining %s: %s on %s, %s", d.id, d.type, d.parent,
		     d.autostart ? "created at boot" : "started by hand");
	r = mdev_def_write(ctx, &d);
	if (r < 0) {
		r = op_error(err, size, -r, "writing the definition of %s failed: %s", d.id,
			     strerror(-r));
		goto out;
	}
	if (id_out)
		snprintf(id_out, VFK_MDEV_ID_SIZE, "%s", d.id);
	r = 0;
out:
	mdev_def_clear(&d);
	mdev_defs_free(&s);
	return r;
}

int vfk_mdev_define(struct vfk_ctx *ctx, const char *id, const char *parent, const char *type,
		    unsigned int flags, char *id_out, char *errbuf, size_t errsize)
{
	struct op_hook save;

	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, errbuf, errsize, &save);
	return op_end(ctx, &save, define_on(ctx, id, parent, type, flags, id_out, errbuf, errsize));
}

/* Every file of @id goes, refused ones too: removing a damaged definition is how it is fixed. */
static int undefine_on(struct vfk_ctx *ctx, const char *id, char *err, size_t size)
{
	struct mdev_defs s;
	struct mdev_def *d;
	char norm[VFK_MDEV_ID_SIZE];
	size_t from = 0, i;
	int r = 0, done = 0;

	if (!mdev_id_norm(id, norm))
		return op_error(err, size, EINVAL, "'%s' is neither a UUID nor a VF address",
				id ? id : "");
	r = mdev_defs_read(ctx, &s, err, size);
	if (r < 0)
		return r;
	while (r == 0 && (d = mdev_defs_find(s.v, s.n, norm, from))) {
		from = (size_t)(d - s.v) + 1;
		vfk_progress(ctx, "undefining %s (%s on %s)", d->id, d->type, d->parent);
		r = mdev_def_remove(ctx, d->kind, d->parent, d->name);
		done += r == 0;
	}
	for (i = 0; r == 0 && i < s.nbad; i++) {
		const struct mdev_bad *b = &s.bad[i];
		if (!streq(b->id, norm))
			continue;
		vfk_progress(ctx, "undefining %s (damaged definition on %s)", b->id, b->parent);
		r = mdev_def_remove(ctx, b->kind, b->parent, b->name);
		done += r == 0;
	}
	mdev_defs_free(&s);
	if (r < 0)
		return op_error(err, size, -r, "removing the definition of %s failed: %s", norm,
				strerror(-r));
	return done ? 0 : op_error(err, size, ENOENT, "%s is not defined", norm);
}

int vfk_mdev_undefine(struct vfk_ctx *ctx, const char *id, unsigned int flags, char *errbuf,
		      size_t errsize)
{
	struct op_hook save;

	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, errbuf, errsize, &save);
	return op_end(ctx, &save, undefine_on(ctx, id, errbuf, errsize));
}
