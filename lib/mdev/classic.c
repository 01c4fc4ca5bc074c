/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's mdev interface: parents in class/mdev_bus with their
 * mdev_supported_types, instances in bus/mdev/devices, an instance created
 * by writing its UUID to a type's create and removed through its remove.
 */
#include <limits.h>
#include <stdio.h>

#include "mdev/mdev.h"

static int count_entries(struct vfk_ctx *ctx, int dfd, const char *rel)
{
	_cleanup_closedir_ DIR *d = vfk_opendir_in(ctx, dfd, rel);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	return n;
}

/* The type mdev_supported_types/@id (below @tfd) into @p. */
static int load_type(struct vfk_ctx *ctx, struct vfk_mdev_parent *p, int tfd, const char *id)
{
	struct vfk_mdev_type *t = mdev_parent_add_type(p, id);
	char rel[320];

	if (!t)
		return neg_errno(ENOMEM);
	snprintf(rel, sizeof(rel), "%s/name", id);
	t->name = mdev_read_str(ctx, tfd, rel, 256);
	snprintf(rel, sizeof(rel), "%s/description", id);
	t->description = mdev_read_str(ctx, tfd, rel, 2048);
	snprintf(rel, sizeof(rel), "%s/device_api", id);
	t->device_api = mdev_read_str(ctx, tfd, rel, 64);
	snprintf(rel, sizeof(rel), "%s/available_instances", id);
	if (mdev_read_uint(ctx, tfd, rel, &t->available) < 0)
		dbg(ctx, "%s: %s has no readable available_instances", p->name, id);
	snprintf(rel, sizeof(rel), "%s/devices", id);
	t->instances = (unsigned int)count_entries(ctx, tfd, rel);
	if (t->name && !*t->name) {
		free(t->name);
		t->name = NULL;
	}
	mdev_type_derive(t);
	return 0;
}

int mdev_load_classic(struct vfk_ctx *ctx, const char *name, int pfd,
		      struct vfk_mdev_parent **out)
{
	_cleanup_(mdev_parent_freep) struct vfk_mdev_parent *p = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	char drv[64];
	_cleanup_close_ int tfd = -1;
	int r;

	mdev_read_driver(pfd, "driver", drv, sizeof(drv));
	p = mdev_parent_new(name, VFK_MDEV_CLASSIC, *drv ? drv : NULL);
	if (!p)
		return neg_errno(ENOMEM);
	tfd = vfk_open_dir_in(ctx, pfd, "mdev_supported_types");
	d = vfk_opendir_in(ctx, tfd, "");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !mdev_name_ok(e->d_name, 128))
			continue;
		r = load_type(ctx, p, tfd, e->d_name);
		if (r < 0)
			return r;
	}
	qsort_safe(p->types, p->ntypes, sizeof(*p->types), mdev_cmp_type);
	*out = TAKE_PTR(p);
	return 0;
}

/* One parent below class/mdev_bus. */
static int scan_classic_parent(struct vfk_mdevs *m, int dfd, const char *name)
{
	_cleanup_close_ int pfd = -1;
	struct vfk_mdev_parent *p;
	int r;

	if (!mdev_name_ok(name, 64))
		return 0;
	pfd = vfk_open_dir_in(m->ctx, dfd, name);
	if (pfd < 0)
		return 0;
	r = mdev_load_classic(m->ctx, name, pfd, &p);
	return r < 0 ? r : mdev_add_parent(m, p);
}

int mdev_scan_classic_parents(struct vfk_mdevs *m)
{
	return mdev_scan_sys(m, VFK_SYS_CLASS_MDEV_BUS, scan_classic_parent);
}

/* The type id of instance @uuid below bus/mdev/devices (@bfd): its mdev_type link. */
static int instance_type_at(int bfd, const char *uuid, char *type, size_t size)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "%s/mdev_type", uuid);
	return vfk_readlink_base_at(bfd, rel, type, size);
}

/* bus/mdev/devices/<uuid> -> ../../../devices/.../<parent>/<uuid> */
static int scan_classic_instance(struct vfk_mdevs *m, int dfd, const char *name)
{
	struct vfk_mdev_instance *i;
	char uuid[37], target[PATH_MAX], type[128], rel[128], *last, *parent;

	if (mdev_uuid_norm(name, uuid) < 0 || strcmp(uuid, name))
		return 0;
	if (vfk_readlink_at(dfd, name, target, sizeof(target)) < 0 ||
	    !(last = strrchr(target, '/')))
		return 0;
	*last = '\0';
	parent = strrchr(target, '/');
	parent = parent ? parent + 1 : target;
	if (instance_type_at(dfd, uuid, type, sizeof(type)) < 0)
		snprintf(type, sizeof(type), "unknown");
	i = mdev_add_instance(m, uuid, VFK_MDEV_CLASSIC, parent, type);
	if (!i)
		return -ENOMEM;
	i->active = true;
	snprintf(rel, sizeof(rel), "%s/iommu_group", uuid);
	i->group = mdev_link_group(dfd, rel);
	snprintf(rel, sizeof(rel), "%s/mdev_type/name", uuid);
	i->type_name = mdev_read_str(m->ctx, dfd, rel, 256);
	snprintf(rel, sizeof(rel), VFK_SYS_MDEV_DEVICES "/%s", uuid);
	i->sysfs_path = vfk_root_host_path(VFK_ROOT_SYS, rel);
	return 0;
}

int mdev_scan_classic_instances(struct vfk_mdevs *m)
{
	return mdev_scan_sys(m, VFK_SYS_MDEV_DEVICES, scan_classic_instance);
}

bool mdev_classic_type(struct vfk_ctx *ctx, const char *uuid, char *type, size_t size)
{
	_cleanup_close_ int bfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_MDEV_DEVICES);

	if (bfd < 0 || !vfk_exists_at(bfd, uuid))
		return false;
	if (instance_type_at(bfd, uuid, type, size) < 0)
		type[0] = '\0';
	return true;
}

bool mdev_classic_exists(struct vfk_ctx *ctx, const char *uuid)
{
	_cleanup_close_ int bfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_MDEV_DEVICES);

	return bfd >= 0 && vfk_exists_at(bfd, uuid);
}

int mdev_create_classic(struct vfk_ctx *ctx, const struct vfk_mdev_parent *p,
			const struct vfk_mdev_type *t, const char *uuid, bool dry, char *id,
			char *err, size_t size)
{
	char u[37], rel[384];
	int r;

	if (mdev_uuid_or_new(uuid, u) < 0)
		return op_error(err, size, EINVAL, "'%s' is not a UUID", uuid);
	if (mdev_classic_exists(ctx, u))
		return op_error(err, size, EEXIST, "a mediated device %s exists already", u);
	vfk_progress(ctx, "creating %s (%s) on %s as %s", t->id, vfk_mdev_type_get_name(t), p->name, u);
	snprintf(rel, sizeof(rel), VFK_SYS_CLASS_MDEV_BUS "/%s/mdev_supported_types/%s/create",
		 p->name, t->id);
	r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, u);
	if (r == -EUSERS || r == -ENOSPC)
		return mdev_full_error(p, t, err, size);
	if (r == -EEXIST)
		return op_error(err, size, EEXIST, "a mediated device %s exists already", u);
	if (r < 0)
		return op_error(err, size, -r, "creating %s on %s failed: %s", t->id, p->name,
				strerror(-r));
	if (!dry && !mdev_classic_exists(ctx, u))
		return op_error(err, size, EIO, "the kernel took the UUID but %s/%s did not appear",
				VFK_SYS_MDEV_DEVICES, u);
	if (id)
		snprintf(id, VFK_MDEV_ID_SIZE, "%s", u);
	return 0;
}

int mdev_remove_classic(struct vfk_ctx *ctx, const char *u, bool dry, char *err, size_t size)
{
	char rel[128];
	int r;

	vfk_progress(ctx, "removing mediated device %s", u);
	snprintf(rel, sizeof(rel), VFK_SYS_MDEV_DEVICES "/%s/remove", u);
	r = vfk_host_write_timeout(ctx, VFK_ROOT_SYS, rel, "1", ctx->timeout_ms);
	if (r == -ETIMEDOUT)
		return op_error(err, size, ETIMEDOUT, "removing %s did not finish in %u ms: is a VM "
				"still using it?", u, ctx->timeout_ms);
	if (r < 0)
		return op_error(err, size, -r, "removing %s failed: %s", u, strerror(-r));
	if (!dry && mdev_classic_exists(ctx, u))
		return op_error(err, size, EIO, "%s is still there after remove", u);
	return 0;
}

static bool is_uuid(const char *s)
{
	char tmp[37];

	return mdev_uuid_norm(s, tmp) == 0;
}

bool mdev_children(struct vfk_ctx *ctx, const char *addr, char *uuid)
{
	_cleanup_close_ int devfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	_cleanup_closedir_ DIR *d = vfk_opendir_in(ctx, devfd, addr);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (is_uuid(e->d_name)) {
			if (uuid)
				mdev_uuid_norm(e->d_name, uuid);
			return true;
		}
	return false;
}
