/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NVIDIA's per-VF vGPU interface (vGPU 17+, kernels 6.8+): no mdev, each
 * SR-IOV VF of the GPU lists the types it can take in
 * nvidia/creatable_vgpu_types and carries one in nvidia/current_vgpu_type.
 * The parent is the PF; a vGPU is created by writing a type id to a free
 * VF's current_vgpu_type and removed by writing 0.
 */
#include <stdio.h>

#include "bind/journal.h"
#include "mdev/mdev.h"

/* The type id the model gives vGPU type @v: "nvidia-<v>". */
static const char *type_id(unsigned int v, char *buf, size_t size)
{
	snprintf(buf, size, "nvidia-%u", v);
	return buf;
}

/* Does @addr (below bus/pci/devices, @devfd) carry the per-VF files? */
static bool has_vgpu_files(int devfd, const char *addr)
{
	char rel[96];

	snprintf(rel, sizeof(rel), "%s/nvidia/creatable_vgpu_types", addr);
	return vfk_exists_at(devfd, rel);
}

/* current_vgpu_type of @addr; 0 (free) when unreadable. */
static unsigned int read_current(struct vfk_ctx *ctx, int devfd, const char *addr)
{
	char rel[96];
	unsigned int cur = 0;

	snprintf(rel, sizeof(rel), "%s/nvidia/current_vgpu_type", addr);
	if (mdev_read_uint(ctx, devfd, rel, &cur) < 0)
		cur = 0;
	return cur;
}

/* The PF of @addr into @pf: its physfn link, or @addr itself when it has none. */
static void physfn_of(int devfd, const char *addr, char *pf, size_t size)
{
	char rel[96];

	snprintf(rel, sizeof(rel), "%s/physfn", addr);
	if (vfk_readlink_base_at(devfd, rel, pf, size) < 0)
		snprintf(pf, size, "%s", addr);
}

/* One "1414 : NVIDIA L4-2Q" line: its id (and name, if new) into @p and @vf. */
static int parse_creatable_line(struct vfk_mdev_parent *p, struct vgpu_vf *vf, char *buf)
{
	char id[32], *colon, *name;
	unsigned long v;
	struct vfk_mdev_type *t;

	colon = strchr(buf, ':');
	if (!colon)
		return 0;
	*colon = '\0';
	v = strtoul(buf, NULL, 10);
	if (v == 0 || v > 0xffffffUL)
		return 0;
	for (name = colon + 1; *name == ' ' || *name == '\t'; name++)
		;
	name[strcspn(name, "\r")] = '\0';
	t = mdev_parent_add_type(p, type_id((unsigned int)v, id, sizeof(id)));
	if (!t)
		return -ENOMEM;
	t->vgpu_id = (unsigned int)v;
	if (!t->name && *name && !(t->name = strdup(name)))
		return -ENOMEM;
	if (vf) {
		unsigned int *n = realloc(vf->creatable, (vf->ncreatable + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		vf->creatable = n;
		vf->creatable[vf->ncreatable++] = (unsigned int)v;
	}
	return 0;
}

/* "1414 : NVIDIA L4-2Q" lines; each id (and name, if new) into @p. */
static int parse_creatable(struct vfk_mdev_parent *p, struct vgpu_vf *vf, const char *text)
{
	const char *line = text;
	int r;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[256];

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < 255 ? len : 255), line);
		line = nl ? nl + 1 : NULL;
		if ((r = parse_creatable_line(p, vf, buf)) < 0)
			return r;
	}
	return 0;
}

bool vgpu_vf_present(struct vfk_ctx *ctx, const char *addr, unsigned int *current)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	unsigned int cur;

	if (dfd < 0 || !has_vgpu_files(dfd, addr))
		return false;
	cur = read_current(ctx, dfd, addr);
	if (current)
		*current = cur;
	return true;
}

bool mdev_vf_type(struct vfk_ctx *ctx, const char *vf, char *type, size_t size)
{
	unsigned int cur = 0;

	if (!vgpu_vf_present(ctx, vf, &cur) || !cur)
		return false;
	type_id(cur, type, size);
	return true;
}

/* What VF @vf adds to its parent's types: its own, or all it could take. */
static int count_vf_types(struct vfk_mdev_parent *p, const struct vgpu_vf *vf)
{
	char id[32];
	size_t i;

	if (vf->current) {
		struct vfk_mdev_type *t = mdev_parent_add_type(p, type_id(vf->current, id, sizeof(id)));
		if (!t)
			return -ENOMEM;
		t->vgpu_id = vf->current;
		t->instances++;
		return 0;
	}
	for (i = 0; i < vf->ncreatable; i++)
		mdev_parent_type_by_id(p, type_id(vf->creatable[i], id, sizeof(id)))->available++;
	return 0;
}

static int add_vf(struct vfk_ctx *ctx, struct vfk_mdev_parent *p, int devfd, const char *addr)
{
	struct vgpu_vf *n, *vf;
	_cleanup_free_ char *text = NULL;
	char rel[96];
	int r;

	n = realloc(p->vfs, (p->nvfs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->vfs = n;
	vf = &p->vfs[p->nvfs++];
	memset(vf, 0, sizeof(*vf));
	snprintf(vf->addr, sizeof(vf->addr), "%s", addr);
	vf->current = read_current(ctx, devfd, addr);
	snprintf(rel, sizeof(rel), "%s/iommu_group", addr);
	vf->group = mdev_link_group(devfd, rel);
	snprintf(rel, sizeof(rel), "%s/nvidia/creatable_vgpu_types", addr);
	text = mdev_read_str(ctx, devfd, rel, 16384);
	r = parse_creatable(p, vf, text ? text : "");
	if (r < 0)
		return r;
	return count_vf_types(p, vf);
}

static int cmp_vf(const void *a, const void *b)
{
	return strcmp(((const struct vgpu_vf *)a)->addr, ((const struct vgpu_vf *)b)->addr);
}

int mdev_load_vf_parent(struct vfk_ctx *ctx, const char *pf, const char *only_vf,
			struct vfk_mdev_parent **out)
{
	_cleanup_(mdev_parent_freep) struct vfk_mdev_parent *p = NULL;
	_cleanup_close_ int devfd = -1;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	char drv[64], rel[96], phys[32];
	size_t i;
	int r;

	devfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	if (devfd < 0)
		return neg_errno(ENODEV);
	snprintf(rel, sizeof(rel), "%s/driver", pf);
	mdev_read_driver(devfd, rel, drv, sizeof(drv));
	p = mdev_parent_new(pf, VFK_MDEV_NVIDIA_VF, *drv ? drv : NULL);
	if (!p)
		return neg_errno(ENOMEM);
	d = vfk_opendir_in(ctx, devfd, "");
	while (d && (e = readdir(d))) {
		char addr[16];
		if (!mdev_pci_norm(e->d_name, addr) || !streq(addr, e->d_name) ||
		    (only_vf && !streq(addr, only_vf)) || !has_vgpu_files(devfd, addr))
			continue;
		physfn_of(devfd, addr, phys, sizeof(phys));
		if (!streq(phys, pf))
			continue;
		r = add_vf(ctx, p, devfd, addr);
		if (r < 0)
			return neg_errno(r);
	}
	if (!p->nvfs)
		return neg_errno(ENODEV);
	qsort_safe(p->vfs, p->nvfs, sizeof(*p->vfs), cmp_vf);
	for (i = 0; i < p->ntypes; i++)
		mdev_type_derive(p->types[i]);
	/* VFs that offer no type leave the list empty (and its pointer NULL) */
	qsort_safe(p->types, p->ntypes, sizeof(*p->types), mdev_cmp_type);
	*out = TAKE_PTR(p);
	return 0;
}

bool mdev_vf_parent_of(struct vfk_ctx *ctx, const char *addr, char *pf, size_t size,
		       bool *is_vf)
{
	_cleanup_close_ int devfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	char rel[96], vf[32];

	if (devfd < 0)
		return false;
	if (vgpu_vf_present(ctx, addr, NULL)) {
		physfn_of(devfd, addr, pf, size);
		if (is_vf)
			*is_vf = !streq(pf, addr);
		return true;
	}
	snprintf(rel, sizeof(rel), "%s/virtfn0", addr);
	if (vfk_readlink_base_at(devfd, rel, vf, sizeof(vf)) > 0 && vgpu_vf_present(ctx, vf, NULL)) {
		snprintf(pf, size, "%s", addr);
		if (is_vf)
			*is_vf = false;
		return true;
	}
	return false;
}

/* The active vGPUs of @p, one instance each, named by their VF. */
static int add_vf_instances(struct vfk_mdevs *m, const struct vfk_mdev_parent *p)
{
	char tid[32], rel[96];
	size_t k;

	for (k = 0; k < p->nvfs; k++) {
		struct vfk_mdev_instance *i;
		if (!p->vfs[k].current)
			continue;
		i = mdev_add_instance(m, p->vfs[k].addr, VFK_MDEV_NVIDIA_VF, p->name,
				      type_id(p->vfs[k].current, tid, sizeof(tid)));
		if (!i)
			return -ENOMEM;
		i->active = true;
		i->group = p->vfs[k].group;
		snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s", p->vfs[k].addr);
		i->sysfs_path = vfk_root_host_path(VFK_ROOT_SYS, rel);
	}
	return 0;
}

/* A VF below bus/pci/devices brings its PF in as a parent, once. A PF
 * that yields no parent after all (-ENODEV) is skipped: the other PFs of
 * the host are still looked at. */
static int scan_vf(struct vfk_mdevs *m, int devfd, const char *name)
{
	struct vfk_mdev_parent *p;
	char pf[32], addr[16];
	int r;

	if (!mdev_pci_norm(name, addr) || !streq(addr, name) ||
	    !vgpu_vf_present(m->ctx, addr, NULL))
		return 0;
	physfn_of(devfd, addr, pf, sizeof(pf));
	if (mdev_parent_by_name(m, pf))
		return 0;
	r = mdev_load_vf_parent(m->ctx, pf, NULL, &p);
	if (r < 0)
		return r == -ENODEV ? 0 : r;
	if ((r = mdev_add_parent(m, p)) < 0)
		return r;
	return add_vf_instances(m, p);
}

int mdev_scan_vf_parents(struct vfk_mdevs *m)
{
	return mdev_scan_sys(m, VFK_SYS_PCI_DEVICES, scan_vf);
}

static bool vf_can_take(const struct vgpu_vf *vf, unsigned int type)
{
	size_t i;

	for (i = 0; i < vf->ncreatable; i++)
		if (vf->creatable[i] == type)
			return true;
	return false;
}

const char *vfk_mdev_type_get_free_vf(const struct vfk_mdev_type *t)
{
	const struct vfk_mdev_parent *p = t->parent;
	size_t k;

	for (k = 0; p->kind == VFK_MDEV_NVIDIA_VF && k < p->nvfs; k++)
		if (!p->vfs[k].current && vf_can_take(&p->vfs[k], t->vgpu_id))
			return p->vfs[k].addr;
	return NULL;
}

static int write_vgpu_type(struct vfk_ctx *ctx, const char *vf, unsigned int type, bool dry,
			   unsigned int ms)
{
	char rel[96], val[16];
	unsigned int now = 0;
	int r;

	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/nvidia/current_vgpu_type", vf);
	snprintf(val, sizeof(val), "%u", type);
	r = ms ? vfk_host_write_timeout(ctx, VFK_ROOT_SYS, rel, val, ms)
	       : vfk_host_write(ctx, VFK_ROOT_SYS, rel, val);
	if (r < 0 || dry)
		return r < 0 ? r : 0;
	if (!vgpu_vf_present(ctx, vf, &now) || now != type)
		return neg_errno(EIO);
	return 0;
}

/* A VF of @p free for @t now: the snapshot was read before the lock, so
 * each candidate is read again. */
static const struct vgpu_vf *free_vf_now(struct vfk_ctx *ctx, const struct vfk_mdev_parent *p,
					 const struct vfk_mdev_type *t)
{
	unsigned int cur = 0;
	size_t k;

	for (k = 0; k < p->nvfs; k++)
		if (!p->vfs[k].current && vf_can_take(&p->vfs[k], t->vgpu_id) &&
		    vgpu_vf_present(ctx, p->vfs[k].addr, &cur) && cur == 0)
			return &p->vfs[k];
	return NULL;
}

/* No VF takes @t: the one VF named has a vGPU already, or the type is full. */
static int no_free_vf(const struct vfk_mdev_parent *p, const struct vfk_mdev_type *t,
		      bool one_vf, char *err, size_t size)
{
	const struct vfk_mdev_type *ct;
	char cid[32];

	if (!one_vf || !p->vfs[0].current)
		return mdev_full_error(p, t, err, size);
	ct = mdev_parent_type_by_id(p, type_id(p->vfs[0].current, cid, sizeof(cid)));
	return op_error(err, size, EBUSY, "VF %s has a vGPU already (%s%s%s): "
			"vfio-mdev remove %s first", p->vfs[0].addr, cid,
			ct && ct->name ? " " : "", ct && ct->name ? ct->name : "",
			p->vfs[0].addr);
}

int mdev_create_vf(struct vfk_ctx *ctx, const struct vfk_mdev_parent *p,
		   const struct vfk_mdev_type *t, bool one_vf, bool dry, char *id, char *err,
		   size_t size)
{
	long holder = 0;
	int lockfd = -1, r;
	const struct vgpu_vf *vf;

	if (!dry) {
		lockfd = vfk_lock_take(ctx, ctx->timeout_ms, &holder);
		if (lockfd < 0)
			return op_error(err, size, -lockfd,
					"another vfiokit operation is running (pid %ld)", holder);
	}
	vf = free_vf_now(ctx, p, t);
	if (!vf) {
		r = no_free_vf(p, t, one_vf, err, size);
		goto out;
	}
	vfk_progress(ctx, "setting vGPU type %u (%s) on VF %s of %s", t->vgpu_id,
		     vfk_mdev_type_get_name(t), vf->addr, p->name);
	r = write_vgpu_type(ctx, vf->addr, t->vgpu_id, dry, 0);
	if (r == -EIO)
		r = op_error(err, size, EIO, "VF %s did not take vGPU type %u (current_vgpu_type "
			     "did not change)", vf->addr, t->vgpu_id);
	else if (r < 0)
		r = op_error(err, size, -r, "setting vGPU type %u on VF %s failed: %s", t->vgpu_id,
			     vf->addr, strerror(-r));
	else if (id)
		snprintf(id, VFK_MDEV_ID_SIZE, "%s", vf->addr);
out:
	if (lockfd >= 0)
		close(lockfd);
	return r;
}

int mdev_remove_vf(struct vfk_ctx *ctx, const char *vf, bool dry, char *err, size_t size)
{
	unsigned int cur = 0;
	int r;

	if (!vgpu_vf_present(ctx, vf, &cur))
		return op_error(err, size, ENOENT, "%s has no NVIDIA per-VF vGPU interface", vf);
	if (!cur)
		return op_error(err, size, ENOENT, "VF %s has no vGPU", vf);
	vfk_progress(ctx, "freeing VF %s (vGPU type %u)", vf, cur);
	r = write_vgpu_type(ctx, vf, 0, dry, ctx->timeout_ms);
	if (r == -ETIMEDOUT)
		return op_error(err, size, ETIMEDOUT, "freeing VF %s did not finish in %u ms: is a VM "
				"still using it?", vf, ctx->timeout_ms);
	if (r < 0)
		return op_error(err, size, -r, "freeing VF %s failed: %s", vf, strerror(-r));
	return 0;
}
