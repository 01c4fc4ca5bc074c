/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Creating and removing vGPUs on the live host: the parent a user names is
 * found in whichever interface has it, read afresh rather than from a
 * snapshot, and the work handed to that interface. When a parent offers
 * nothing, the error says why and what to do.
 */
#include "mdev/mdev.h"

/* The vendor driver that offers vGPU types for a vendor id, for messages. */
static const char *vendor_driver(unsigned int vendor)
{
	switch (vendor) {
	case 0x10de: return "nvidia";
	case 0x8086: return "i915";
	default: return NULL;
	}
}

/* Why PCI device @addr (its directory @dfd) offers no types; -ENODEV. */
static int explain_device(struct vfk_ctx *ctx, int dfd, const char *addr, char *err, size_t size)
{
	char drv[64];
	unsigned int vendor = 0, total = 0, numvfs = 0;
	const char *want;

	mdev_read_driver(dfd, "driver", drv, sizeof(drv));
	mdev_read_uint(ctx, dfd, "vendor", &vendor);
	want = vendor_driver(vendor);
	if (mdev_read_uint(ctx, dfd, "sriov_totalvfs", &total) == 0 && total && want &&
	    streq(want, "nvidia") && mdev_read_uint(ctx, dfd, "sriov_numvfs", &numvfs) == 0 &&
	    numvfs == 0 && streq(drv, "nvidia"))
		return op_error(err, size, ENODEV,
				"%s offers no vGPU types: its SR-IOV VFs are not enabled (vGPUs of "
				"this GPU live on VFs: /usr/lib/nvidia/sriov-manage -e %s, or "
				"vfio-mdev sriov %s %u)", addr, addr, addr, total);
	if (!*drv || (want && !streq(drv, want)))
		return op_error(err, size, ENODEV,
				"%s is bound to %s, not to its vendor driver%s%s%s: only the vendor's "
				"vGPU host driver offers mediated device types%s", addr,
				*drv ? drv : "no driver", want ? " (" : "", want ? want : "",
				want ? ")" : "",
				vfk_driver_is_vfio(drv) ? " (vfio-bind restore it first)" : "");
	if (streq(drv, "nvidia"))
		return op_error(err, size, ENODEV,
				"the nvidia driver on %s offers no vGPU types: it takes NVIDIA's vGPU "
				"host driver (vGPU Manager), not the desktop driver, on a GPU that "
				"supports vGPU", addr);
	if (streq(drv, "i915"))
		return op_error(err, size, ENODEV,
				"i915 on %s offers no GVT-g types: boot with i915.enable_gvt=1 and "
				"load kvmgt (GVT-g covers Broadwell to Comet Lake graphics)", addr);
	return op_error(err, size, ENODEV, "%s (driver %s) offers no mediated device types", addr,
			drv);
}

/* Why @name offers no types: one line into @err; -ENODEV. */
static int explain_not_parent(struct vfk_ctx *ctx, const char *name, char *err, size_t size)
{
	_cleanup_close_ int devfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	_cleanup_close_ int dfd = -1;
	char addr[16];

	if (!mdev_pci_norm(name, addr))
		return op_error(err, size, ENODEV,
				"%s is not a mediated-device parent (none by that name under "
				"class/mdev_bus; 'vfio-mdev types' lists them)", name);
	if (devfd >= 0)
		dfd = vfk_open_dir_in(ctx, devfd, addr);
	if (dfd < 0)
		return op_error(err, size, ENODEV, "no PCI device %s on this host", addr);
	return explain_device(ctx, dfd, addr, err, size);
}

int mdev_load_live_parent(struct vfk_ctx *ctx, const char *name, struct vfk_mdev_parent **out,
			  bool *one_vf, char *err, size_t size)
{
	_cleanup_close_ int cfd = -1, pfd = -1;
	char addr[16], pf[32];
	bool is_vf = false;

	*one_vf = false;
	if (!name || !mdev_name_ok(name, 64))
		return op_error(err, size, EINVAL, "'%s' is not a device name", name ? name : "");
	cfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_CLASS_MDEV_BUS);
	if (cfd >= 0) {
		pfd = vfk_open_dir_in(ctx, cfd, name);
		if (pfd < 0 && mdev_pci_norm(name, addr))
			pfd = vfk_open_dir_in(ctx, cfd, addr);
		if (pfd >= 0)
			return mdev_load_classic(ctx, mdev_pci_norm(name, addr) ? addr : name, pfd, out);
	}
	if (mdev_pci_norm(name, addr) && mdev_vf_parent_of(ctx, addr, pf, sizeof(pf), &is_vf)) {
		*one_vf = is_vf;
		return mdev_load_vf_parent(ctx, pf, is_vf ? addr : NULL, out);
	}
	return explain_not_parent(ctx, name, err, size);
}

/* The live parent @name, which must offer types: why it offers none goes to @err. */
static int load_offering_parent(struct vfk_ctx *ctx, const char *name,
				struct vfk_mdev_parent **out, bool *one_vf, char *err, size_t size)
{
	int r = mdev_load_live_parent(ctx, name, out, one_vf, err, size);

	if (r < 0)
		return r;
	return (*out)->ntypes ? 0 : explain_not_parent(ctx, name, err, size);
}

int vfk_mdev_parent_check(struct vfk_ctx *ctx, const char *name, char *errbuf, size_t errsize)
{
	_cleanup_(mdev_parent_freep) struct vfk_mdev_parent *p = NULL;
	bool one_vf;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	return load_offering_parent(ctx, name, &p, &one_vf, errbuf, errsize);
}

/* @type names nothing @p can create now; -ENOENT. */
static int no_such_type(const struct vfk_mdev_parent *p, const char *type, char *err, size_t size)
{
	char types[600], note[600];

	if (p->kind != VFK_MDEV_NVIDIA_VF)
		return mdev_unknown_type_error(p, type, err, size);
	mdev_list_types(p, true, types, sizeof(types));
	mdev_in_use_note(p, true, note, sizeof(note));
	return op_error(err, size, ENOENT, "%s cannot create vGPU type '%s' now (creatable "
			"now: %s)%s", p->name, type, types, note);
}

int mdev_create_on(struct vfk_ctx *ctx, const char *parent, const char *type, const char *uuid,
		   bool dry, char *id, char *err, size_t size)
{
	_cleanup_(mdev_parent_freep) struct vfk_mdev_parent *p = NULL;
	struct vfk_mdev_type *t;
	bool one_vf;
	int r;

	if (!type || !*type || strlen(type) >= 128)
		return op_error(err, size, EINVAL, "no type given");
	r = load_offering_parent(ctx, parent, &p, &one_vf, err, size);
	if (r < 0)
		return r;
	t = mdev_parent_match_type(p, type);
	if (!t)
		return no_such_type(p, type, err, size);
	if (!t->available && p->kind == VFK_MDEV_CLASSIC)
		return mdev_full_error(p, t, err, size);
	if (p->kind == VFK_MDEV_NVIDIA_VF) {
		if (uuid)
			info(ctx, "per-VF vGPUs have no UUID: ignoring %s", uuid);
		return mdev_create_vf(ctx, p, t, one_vf, dry, id, err, size);
	}
	return mdev_create_classic(ctx, p, t, uuid, dry, id, err, size);
}

int vfk_mdev_create(struct vfk_ctx *ctx, const char *parent, const char *type, const char *uuid,
		    unsigned int flags, char *id, char *errbuf, size_t errsize)
{
	struct op_hook save;

	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, errbuf, errsize, &save);
	return op_end(ctx, &save, mdev_create_on(ctx, parent, type, uuid, flags & VFK_MDEV_DRY_RUN,
						 id, errbuf, errsize));
}

static int remove_on(struct vfk_ctx *ctx, const char *id, bool dry, char *err, size_t size)
{
	char norm[VFK_MDEV_ID_SIZE];

	if (id && mdev_uuid_norm(id, norm) == 0) {
		if (!mdev_classic_exists(ctx, norm))
			return op_error(err, size, ENOENT, "no active mediated device %s", norm);
		return mdev_remove_classic(ctx, norm, dry, err, size);
	}
	if (!id || !mdev_pci_norm(id, norm))
		return op_error(err, size, EINVAL, "'%s' is neither a UUID nor a VF address",
				id ? id : "");
	return mdev_remove_vf(ctx, norm, dry, err, size);
}

int vfk_mdev_remove(struct vfk_ctx *ctx, const char *id, unsigned int flags, char *errbuf,
		    size_t errsize)
{
	struct op_hook save;

	op_begin(ctx, flags & VFK_MDEV_DRY_RUN, errbuf, errsize, &save);
	return op_end(ctx, &save, remove_on(ctx, id, flags & VFK_MDEV_DRY_RUN, errbuf, errsize));
}
