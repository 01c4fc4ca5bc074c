/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the host can give away, for every export format alike: whole IOMMU
 * groups that can go cleanly and alone, and the mdev types of its parents.
 *
 *  - A group holding GPU functions goes when it holds one GPU whose verdict
 *    is isolated (nothing but its functions in the group), that the host
 *    does not use itself (inventory's gpu_host_use(): its only GPU, the boot
 *    display, the console), as the plan's GPU ranking decides.
 *  - Another group goes when it holds one endpoint (bridges stay, as the
 *    bind layer leaves them) that is an SR-IOV VF (made to be given away) or
 *    that the host already hands to VFIO (bound to vfio-pci or a variant,
 *    driver_override, vfio-pci.ids= or modprobe.d, vfio-bind's persist
 *    list): a controller the host uses itself must not turn up in a
 *    cluster's list because no guard knew what it holds (the guards know the
 *    root filesystem and the default route, not /home or a data array).
 *    Several endpoints in one group would have to go to one guest together,
 *    which a selector by vendor:device cannot say.
 *  - Every endpoint of the group passes the host guards of bind/guards.c:
 *    not the root filesystem's controller nor the default route's NIC, no
 *    mdevs or enabled SR-IOV VFs hanging off it; and none is an NVSwitch
 *    (it goes with a set of GPUs), an mdev parent (it goes as its types) or
 *    a VF of NVIDIA's per-VF vGPU interface (a vGPU slot).
 *  - An mdev type goes when an instance of it exists or can be made now.
 */
#include <stdio.h>

#include "export/export.h"
#include "bind/guards.h"
#include "inventory/inventory.h"

/* Does the host already hand @d to VFIO: bound, driver_override, vfio-pci.ids=
 * or modprobe.d, vfio-bind's persist list? (The intent the plan's GPU
 * ranking reads.) */
static bool vfio_intent(const struct export_sel *s, const struct vfk_device *d)
{
	char buf[300];

	return vfk_driver_is_vfio(vfk_device_get_driver(d)) ||
	       vfk_driver_is_vfio(vfk_device_get_driver_override(d)) ||
	       guard_vfio_claim(s->host, d, buf, sizeof(buf)) == 1 ||
	       vfk_persist_contains(s->ctx, vfk_device_get_address(d)) == 1;
}

/* The GPU whose functions include @d, or NULL. */
static struct vfk_gpu *gpu_of(const struct vfk_host *h, const struct vfk_device *d)
{
	size_t i, j;

	for (i = 0; i < vfk_host_gpu_count(h); i++) {
		struct vfk_gpu *g = vfk_host_gpu(h, i);

		for (j = 0; j < vfk_gpu_function_count(g); j++)
			if (vfk_gpu_function(g, j) == d)
				return g;
	}
	return NULL;
}

/* @d offers mdev types (a classic parent), or is a PF or VF of NVIDIA's
 * per-VF vGPU interface. */
static bool vgpu_device(const struct export_sel *s, const struct vfk_device *d)
{
	struct vfk_mdev_parent *p;

	if (vfk_mdevs_find_parent(s->mdevs, vfk_device_get_address(d), &p) < 0)
		return false;
	return vfk_mdev_parent_get_kind(p) == VFK_MDEV_NVIDIA_VF ||
	       streq(vfk_mdev_parent_get_name(p), vfk_device_get_address(d));
}

/* Can endpoint @d leave the host with its group? */
static bool endpoint_free(const struct export_sel *s, const struct vfk_device *d)
{
	char buf[700];

	if (vfk_device_get_fabric_role(d) || vgpu_device(s, d))
		return false;
	if (guard_host_needs(s->host, d))
		return false;
	return guard_dependents(s->host, d, buf, sizeof(buf)) == 0;
}

static int add_dev(struct export_sel *s, struct vfk_device *d, struct vfk_gpu *g,
		   const struct vfk_group *grp)
{
	struct export_dev *e;

	if (GROW_ARRAY(s->devs, s->devs_cap, s->ndevs + 1) < 0)
		return neg_errno(ENOMEM);
	e = &s->devs[s->ndevs++];
	e->dev = d;
	e->gpu = g;
	e->group = grp;
	if (vfk_device_is_vf(d))
		e->nova_type = "type-VF";
	else if (vfk_device_get_sriov_totalvfs(d))
		e->nova_type = "type-PF";
	else
		e->nova_type = "type-PCI";
	if (g)
		s->ngpus++;
	return 0;
}

/* Group @grp into the selection when it can go. */
static int consider_group(struct export_sel *s, const struct vfk_group *grp)
{
	struct vfk_device *first = NULL;
	struct vfk_gpu *gpu = NULL;
	size_t i, n = 0;

	if (s->only && vfk_device_get_iommu_group(s->only) != vfk_group_get_id(grp))
		return 0;
	for (i = 0; i < vfk_group_device_count(grp); i++) {
		struct vfk_device *d = vfk_group_device(grp, i);
		struct vfk_gpu *g;

		if (vfk_device_is_bridge(d))
			continue;
		if (!endpoint_free(s, d))
			return 0;
		if (!first)
			first = d;
		n++;
		g = gpu_of(s->host, d);
		if (g && gpu && g != gpu)
			return 0;	/* GPUs that go together: no selector says so */
		if (g)
			gpu = g;
	}
	if (!n)
		return 0;
	if (gpu) {
		if (vfk_gpu_get_verdict(gpu) != VFK_GPU_ISOLATED || gpu_host_use(gpu))
			return 0;
		for (i = 0; i < vfk_group_device_count(grp); i++) {
			struct vfk_device *d = vfk_group_device(grp, i);

			if (!vfk_device_is_bridge(d) && gpu_of(s->host, d) != gpu)
				return 0;
		}
		return add_dev(s, vfk_gpu_get_device(gpu), gpu, grp);
	}
	if (s->opts->gpus_only || n != 1 || !(vfk_device_is_vf(first) || vfio_intent(s, first)))
		return 0;
	return add_dev(s, first, NULL, grp);
}

static int add_mtype(struct export_mtype **v, size_t *n, size_t *cap,
		     struct vfk_mdev_parent *p, struct vfk_device *pdev, struct vfk_mdev_type *t)
{
	if (GROW_ARRAY(*v, *cap, *n + 1) < 0)
		return neg_errno(ENOMEM);
	(*v)[(*n)++] = (struct export_mtype){ p, pdev, t };
	return 0;
}

/* The types of parent @p that go. */
static int consider_parent(struct export_sel *s, struct vfk_mdev_parent *p)
{
	struct vfk_device *pdev = NULL;
	bool vf = vfk_mdev_parent_get_kind(p) == VFK_MDEV_NVIDIA_VF;
	size_t i;
	int r = 0;

	if (vfk_host_find_device(s->host, vfk_mdev_parent_get_name(p), &pdev) < 0)
		pdev = NULL;	/* a virtual parent ("mbochs") */
	if (s->only && !(pdev && (pdev == s->only || (vfk_device_get_iommu_group(pdev) >= 0 &&
			vfk_device_get_iommu_group(pdev) == vfk_device_get_iommu_group(s->only)))))
		return 0;
	if (s->opts->gpus_only && pdev && !vfk_device_is_gpu(pdev))
		return 0;
	for (i = 0; i < vfk_mdev_parent_type_count(p) && r == 0; i++) {
		struct vfk_mdev_type *t = vfk_mdev_parent_type(p, i);

		if (!vfk_mdev_type_get_available(t) && !vfk_mdev_type_get_instance_count(t))
			continue;
		/* a virtual parent's types count as GPUs' when they have a display */
		if (s->opts->gpus_only && !pdev && !vfk_mdev_type_get_heads(t))
			continue;
		r = vf ? add_mtype(&s->vftypes, &s->nvftypes, &s->vftypes_cap, p, pdev, t)
		       : add_mtype(&s->mtypes, &s->nmtypes, &s->mtypes_cap, p, pdev, t);
	}
	return r;
}

static int dev_cmp(const void *a, const void *b)
{
	const struct export_dev *x = a, *y = b;

	return pci_addr_cmp(vfk_device_get_addr(x->dev), vfk_device_get_addr(y->dev));
}

int export_select(struct export_sel *s)
{
	struct vfk_host *h = s->host;
	struct vfk_device *only = NULL;
	bool kept;
	size_t i;
	int r;

	if (s->opts->device) {
		if (vfk_host_find_device(h, s->opts->device, &only) < 0) {
			char shown[64];

			return export_error(s->ctx, ENODEV, "no PCI device %s on this host",
					    vfk_shown(s->opts->device, shown, sizeof(shown)));
		}
		s->only = only;
	}
	r = vfk_mdevs_scan(s->ctx, &s->mdevs);
	if (r < 0)
		return r;
	/* the root filesystem, the routes: read once for every endpoint */
	kept = !h->guard_facts && guard_facts_keep(h) == 0;
	for (i = 0; r == 0 && vfk_host_iommu_enabled(h) && i < vfk_host_group_count(h); i++)
		r = consider_group(s, vfk_host_group(h, i));
	if (kept)
		guard_facts_drop(h);
	qsort_safe(s->devs, s->ndevs, sizeof(*s->devs), dev_cmp);	/* groups came by id */
	for (i = 0; r == 0 && i < vfk_mdevs_parent_count(s->mdevs); i++)
		r = consider_parent(s, vfk_mdevs_parent(s->mdevs, i));
	return r < 0 ? r : export_names_build(s);
}

void export_sel_free(struct export_sel *s)
{
	free(s->devs);
	free(s->mtypes);
	free(s->vftypes);
	export_names_free(s);
	vfk_mdevs_unref(s->mdevs);
	sbuf_free(&s->out);
}

bool export_first_of_id(const struct export_sel *s, size_t i)
{
	const struct vfk_device *d = s->devs[i].dev;
	size_t j;

	for (j = 0; j < i; j++)
		if (vfk_device_get_vendor_id(s->devs[j].dev) == vfk_device_get_vendor_id(d) &&
		    vfk_device_get_device_id(s->devs[j].dev) == vfk_device_get_device_id(d))
			return false;
	return true;
}

bool export_first_of_parent(const struct export_mtype *t, size_t i)
{
	return i == 0 || t[i - 1].parent != t[i].parent;
}

size_t export_function_count(const struct export_dev *e)
{
	size_t i, n = 0;

	for (i = 0; i < vfk_group_device_count(e->group); i++)
		n += !vfk_device_is_bridge(vfk_group_device(e->group, i));
	return n;
}

struct vfk_device *export_function(const struct export_dev *e, size_t k)
{
	size_t i;

	for (i = 0; i < vfk_group_device_count(e->group); i++) {
		struct vfk_device *d = vfk_group_device(e->group, i);

		if (!vfk_device_is_bridge(d) && k-- == 0)
			return d;
	}
	return NULL;
}

bool export_iommufd_ready(const struct export_sel *s, const struct export_dev *e)
{
	size_t i, n = export_function_count(e);

	if (!vfk_host_has_iommufd(s->host))
		return false;
	for (i = 0; i < n; i++)
		if (!vfk_device_get_vfio_cdev(export_function(e, i)))
			return false;
	return n > 0;
}
