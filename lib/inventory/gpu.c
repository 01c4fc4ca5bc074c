/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GPU model: for each GPU its functions (the whole slot but SR-IOV VFs),
 * the endpoints that share an IOMMU group with any of them (blockers), and
 * the reason the group is shared, named after the port where isolation ends.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>

#include "inventory/inventory.h"

static bool same_slot(const struct vfk_device *a, const struct vfk_device *b)
{
	return a->addr.domain == b->addr.domain && a->addr.bus == b->addr.bus &&
	       a->addr.dev == b->addr.dev;
}

static bool in_list(struct vfk_device **list, size_t n, const struct vfk_device *d)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == d)
			return true;
	return false;
}

static int collect_functions(struct vfk_host *host, struct vfk_gpu *gpu)
{
	struct vfk_device *dev = gpu->dev;
	size_t first, i, n = 0;

	/* devices are sorted by address: the slot is a contiguous run */
	first = (size_t)(dev - host->devices);
	while (first > 0 && same_slot(&host->devices[first - 1], dev))
		first--;
	for (i = first; i < host->ndevices && same_slot(&host->devices[i], dev); i++)
		n++;
	gpu->functions = calloc(n, sizeof(*gpu->functions));
	if (!gpu->functions)
		return -ENOMEM;
	gpu->functions[gpu->nfunctions++] = dev;
	/* an SR-IOV VF is a function alone: the PF in its slot (Intel's VFs at
	 * 00:02.1.., Xe's at 03:00.1..) stays the PF's */
	if (dev->is_vf)
		return 0;
	for (i = first; i < first + n; i++) {
		struct vfk_device *f = &host->devices[i];
		if (f != dev && !f->is_vf && f->vendor_id != dev->vendor_id &&
		    f->class >> 8 != 0x0403 && !gpu->soc_function)
			gpu->soc_function = f;
	}
	for (i = first; i < first + n; i++) {
		struct vfk_device *f = &host->devices[i];
		/* in a slot of the processor (an APU's PSP and USB next to
		 * its display) only the GPU vendor's functions are the GPU's */
		if (f != dev && !f->is_vf &&
		    (!gpu->soc_function || f->vendor_id == dev->vendor_id))
			gpu->functions[gpu->nfunctions++] = f;
	}
	return 0;
}

/* Did a function before @i lie in the same group? Its members are in already. */
static bool group_seen(const struct vfk_gpu *gpu, size_t i)
{
	size_t k;

	for (k = 0; k < i; k++)
		if (gpu->functions[k]->group == gpu->functions[i]->group)
			return true;
	return false;
}

/*
 * The endpoints sharing a group with any function. Each group is walked once
 * and lists a device once, so no blocker needs looking up among the others:
 * linear in the group's size (a GPU in a group of 16k endpoints has 16k).
 */
static int collect_blockers(struct vfk_host *host, struct vfk_gpu *gpu)
{
	size_t cap = 0, i, j;

	for (i = 0; i < gpu->nfunctions; i++) {
		struct vfk_group *g;
		if (gpu->functions[i]->group < 0 || group_seen(gpu, i) ||
		    vfk_host_find_group(host, gpu->functions[i]->group, &g) < 0)
			continue;
		for (j = 0; j < g->ndevices; j++) {
			struct vfk_device *d = g->devices[j];
			if (vfk_device_is_bridge(d) || in_list(gpu->functions, gpu->nfunctions, d))
				continue;
			if (GROW_ARRAY(gpu->blockers, cap, gpu->nblockers + 1) < 0)
				return -ENOMEM;
			gpu->blockers[gpu->nblockers++] = d;
		}
	}
	return 0;
}

/* Walk from the GPU towards the root complex; the first port that does not
 * isolate its downstream traffic is why the group is shared. */
static const char *explain_sharing(struct vfk_host *host, struct vfk_gpu *gpu)
{
	char buf[256];
	struct vfk_device *up;

	for (up = gpu->dev->parent; up; up = up->parent) {
		enum vfk_acs acs = vfk_device_get_acs(up);
		switch (acs) {
		case VFK_ACS_ENABLED:
			continue;
		case VFK_ACS_NONE:
			snprintf(buf, sizeof(buf), "no ACS on %s", up->address);
			break;
		case VFK_ACS_DISABLED:
			snprintf(buf, sizeof(buf), "ACS not enabled on %s", up->address);
			break;
		case VFK_ACS_NOT_PCIE:
			snprintf(buf, sizeof(buf),
				 "conventional PCI behind %s: no isolation below a PCI bridge",
				 up->address);
			break;
		case VFK_ACS_UNKNOWN:
		default:
			snprintf(buf, sizeof(buf),
				 "ACS unknown on %s: extended config space not readable (run as root)",
				 up->address);
			break;
		}
		return strpool_intern(&host->strings, buf);
	}
	if (!gpu->dev->parent)
		snprintf(buf, sizeof(buf),
			 "%s sits on the root bus: the root complex groups it with its neighbours",
			 gpu->dev->address);
	else
		snprintf(buf, sizeof(buf),
			 "group shared although every upstream port has ACS (platform quirk or "
			 "multifunction peer without ACS)");
	return strpool_intern(&host->strings, buf);
}

/* Firmware framebuffers (efifb, simplefb, vesafb) sit on the boot VGA device. */
static bool firmware_fb_active(struct vfk_ctx *ctx, const struct vfk_device *bootvga,
			       bool *fb_on_device)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	bool firmware = false;

	*fb_on_device = false;
	d = vfk_fdopendir(vfk_root_open_dir(ctx, VFK_ROOT_SYS, "class/graphics"));
	if (!d)
		return false;
	while ((e = readdir(d))) {
		char rel[300], buf[128];
		if (!startswith(e->d_name, "fb"))
			continue;
		snprintf(rel, sizeof(rel), "%s/device", e->d_name);
		if (vfk_readlink_base_at(dirfd(d), rel, buf, sizeof(buf)) > 0 &&
		    streq(buf, bootvga->address))
			*fb_on_device = true;
		snprintf(rel, sizeof(rel), "%s/name", e->d_name);
		if (vfk_read_in(ctx, dirfd(d), rel, buf, sizeof(buf)) > 0 &&
		    (strstr(buf, "EFI VGA") || strstr(buf, "simple") || strstr(buf, "VESA VGA") ||
		     strstr(buf, "efidrm") || strstr(buf, "simpledrm")))
			firmware = true;
	}
	return firmware;
}

static bool console_in_use(struct vfk_host *host, const struct vfk_device *dev)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	bool fb_on_device;

	if (firmware_fb_active(host->ctx, dev, &fb_on_device) || fb_on_device)
		return true;
	/* a DRM driver bound to it has created drm/cardN */
	dfd = device_open_dir(dev);
	if (dfd < 0)
		return false;
	d = vfk_fdopendir(vfk_open_dir_in(host->ctx, dfd, "drm"));
	if (!d)
		return false;
	while ((e = readdir(d)))
		if (startswith(e->d_name, "card"))
			return true;
	return false;
}

/* The GPU one of whose functions @d is, or NULL. */
static struct vfk_gpu *gpu_owning(struct vfk_host *host, const struct vfk_device *d)
{
	size_t i;

	for (i = 0; i < host->ngpus; i++)
		if (same_slot(host->gpus[i].dev, d) &&
		    in_list(host->gpus[i].functions, host->gpus[i].nfunctions, d))
			return &host->gpus[i];
	return NULL;
}

/*
 * A group that holds nothing but GPUs (their functions, and bridges) is
 * shared, but not with anything the host needs: its GPUs can go to one VM
 * together. Any other endpoint among the blockers, and it is just shared.
 */
static int find_together(struct vfk_host *host, struct vfk_gpu *gpu)
{
	size_t i, k;

	if (!gpu->nblockers)
		return 0;
	gpu->together = calloc(gpu->nblockers, sizeof(*gpu->together));
	if (!gpu->together)
		return -ENOMEM;
	for (i = 0; i < gpu->nblockers; i++) {
		struct vfk_gpu *other = gpu_owning(host, gpu->blockers[i]);
		if (!other || other == gpu || other->dev->is_vf) {
			gpu->ntogether = 0;
			return 0;
		}
		for (k = 0; k < gpu->ntogether && gpu->together[k] != other; k++)
			;
		if (k == gpu->ntogether)
			gpu->together[gpu->ntogether++] = other;
	}
	return 0;
}

int gpus_build(struct vfk_host *host)
{
	size_t i, j, n = 0, physical = 0;
	int r;

	for (i = 0; i < host->ndevices; i++)
		if (vfk_device_is_gpu(&host->devices[i])) {
			n++;
			if (!host->devices[i].is_vf)
				physical++;
		}
	if (n == 0)
		return 0;
	host->gpus = calloc(n, sizeof(*host->gpus));
	if (!host->gpus)
		return -ENOMEM;
	for (i = 0; i < host->ndevices; i++) {
		struct vfk_device *d = &host->devices[i];
		struct vfk_gpu *gpu;
		if (!vfk_device_is_gpu(d))
			continue;
		gpu = &host->gpus[host->ngpus++];
		gpu->dev = d;
		r = collect_functions(host, gpu);
		if (r < 0)
			return r;
		if (!host->iommu_enabled || d->group < 0) {
			gpu->reason = host->iommu_enabled ? "device has no IOMMU group"
							  : "IOMMU disabled: no IOMMU groups";
		} else {
			r = collect_blockers(host, gpu);
			if (r < 0)
				return r;
			if (gpu->nblockers)
				gpu->reason = explain_sharing(host, gpu);
		}
		gpu->only_gpu = physical == 1 && !d->is_vf;
		if (d->boot_vga)
			gpu->console_in_use = console_in_use(host, d);
	}
	/* every GPU's functions are known only now */
	for (i = 0; i < host->ngpus; i++)
		if ((r = find_together(host, &host->gpus[i])) < 0)
			return r;
	/* each function's GPU: the first whose functions it is among (two
	 * display functions of one slot are each other's) */
	for (i = 0; i < host->ngpus; i++)
		for (j = 0; j < host->gpus[i].nfunctions; j++)
			if (!host->gpus[i].functions[j]->gpu)
				host->gpus[i].functions[j]->gpu = &host->gpus[i];
	return 0;
}

struct vfk_gpu *vfk_device_get_gpu(const struct vfk_device *dev)
{
	return dev ? dev->gpu : NULL;
}

struct vfk_gpu *host_gpu_of(const struct vfk_host *host, const struct vfk_device *dev)
{
	size_t lo = 0, hi = host->ngpus;

	/* gpus_build() follows host->devices: the GPUs are in address order too */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (host->gpus[mid].dev == dev)
			return &host->gpus[mid];
		if (host->gpus[mid].dev < dev)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void gpus_free(struct vfk_host *host)
{
	size_t i;

	for (i = 0; i < host->ngpus; i++) {
		free(host->gpus[i].functions);
		free(host->gpus[i].blockers);
		free(host->gpus[i].together);
		free(host->gpus[i].holders);
	}
	free(host->gpus);
}

struct vfk_device *vfk_gpu_get_device(const struct vfk_gpu *gpu) { return gpu->dev; }
size_t vfk_gpu_function_count(const struct vfk_gpu *gpu) { return gpu->nfunctions; }
size_t vfk_gpu_blocker_count(const struct vfk_gpu *gpu) { return gpu->nblockers; }
const char *vfk_gpu_get_reason(const struct vfk_gpu *gpu) { return gpu->reason; }
bool vfk_gpu_is_boot_vga(const struct vfk_gpu *gpu) { return gpu->dev->boot_vga; }
bool vfk_gpu_console_in_use(const struct vfk_gpu *gpu) { return gpu->console_in_use; }
bool vfk_gpu_is_only_gpu(const struct vfk_gpu *gpu) { return gpu->only_gpu; }

bool vfk_gpu_is_isolated(const struct vfk_gpu *gpu)
{
	return gpu->reason == NULL;
}

const char *gpu_host_use(const struct vfk_gpu *gpu)
{
	if (gpu->only_gpu)
		return "is the host's only GPU";
	if (gpu->console_in_use)
		return "drives the host console";
	if (gpu->dev->boot_vga)
		return "is the boot display of the host";
	return NULL;
}

size_t vfk_gpu_together_count(const struct vfk_gpu *gpu) { return gpu->ntogether; }

struct vfk_gpu *vfk_gpu_together(const struct vfk_gpu *gpu, size_t i)
{
	return i < gpu->ntogether ? gpu->together[i] : NULL;
}

enum vfk_gpu_verdict vfk_gpu_get_verdict(const struct vfk_gpu *gpu)
{
	if (!gpu->reason)
		return VFK_GPU_ISOLATED;
	if (gpu->ntogether)
		return VFK_GPU_TOGETHER;
	return gpu->nblockers ? VFK_GPU_SHARED : VFK_GPU_NO_GROUP;
}

const char *vfk_gpu_verdict_to_string(enum vfk_gpu_verdict v)
{
	switch (v) {
	case VFK_GPU_ISOLATED:
		return "isolated";
	case VFK_GPU_TOGETHER:
		return "together";
	case VFK_GPU_SHARED:
		return "not-isolated";
	case VFK_GPU_NO_GROUP:
		return "no-group";
	}
	return "unknown";
}

const char *vfk_gpu_get_host_driver(const struct vfk_gpu *gpu)
{
	const char *drv = gpu->dev->driver;

	/* VFIO drivers (vfio-pci, a variant) and pci-stub hold a device for a
	 * VM: nothing to release */
	if (!drv || vfk_driver_is_vfio(drv) || streq(drv, "pci-stub"))
		return NULL;
	return drv;
}

struct vfk_device *vfk_gpu_function(const struct vfk_gpu *gpu, size_t i)
{
	return i < gpu->nfunctions ? gpu->functions[i] : NULL;
}

struct vfk_device *vfk_gpu_blocker(const struct vfk_gpu *gpu, size_t i)
{
	return i < gpu->nblockers ? gpu->blockers[i] : NULL;
}
