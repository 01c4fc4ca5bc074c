/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integrated or discrete: where a GPU sits says which it is. A card has a
 * PCIe link of its own, from a root or switch port, and its slot holds only
 * its own functions. Graphics built into the processor or chipset sit on the
 * root bus (Intel's 00:02.0), are root-complex integrated endpoints, share
 * their slot with the processor's other functions (AMD APUs: the PSP, USB
 * controllers of vendor 1022 next to the 1002 display), or are conventional
 * PCI behind a PCIe-to-PCI bridge on the board (BMC displays). Only when
 * config space cannot be read and the layout says nothing does the short
 * table of AMD APU ids decide.
 */
#include <stdio.h>

#include "inventory/inventory.h"
#include "inventory/pcilib.h"

#define PCI_VENDOR_AMD_ATI	0x1002
#define PCIE_TYPE_PCI_BRIDGE	0x7	/* PCIe to conventional PCI */
#define PCIE_TYPE_RCIEP		0x9
#define PCIE_TYPE_DOWNSTREAM	0x6

/* AMD APU graphics (vendor 1002), Carrizo to Strix Halo. */
static const uint16_t amd_apu_ids[] = {
	0x9874, 0x98e4, 0x15dd, 0x15d8, 0x1636, 0x1638, 0x164c, 0x15e7, 0x163f, 0x1435,
	0x1681, 0x164e, 0x1506, 0x15bf, 0x15c8, 0x1900, 0x150e, 0x1586, 0x13c0,
};

static bool amd_apu_id(const struct vfk_device *d)
{
	size_t i;

	if (d->vendor_id != PCI_VENDOR_AMD_ATI)
		return false;
	for (i = 0; i < sizeof(amd_apu_ids) / sizeof(amd_apu_ids[0]); i++)
		if (amd_apu_ids[i] == d->device_id)
			return true;
	return false;
}

static const char *classify(const struct vfk_gpu *gpu, bool *integrated)
{
	struct vfk_device *d = gpu->dev;
	struct vfk_host *host = d->host;
	const struct vfk_device *f = gpu->soc_function;
	char buf[160];

	device_read_caps(d);
	*integrated = true;
	if (d->pcie_type == PCIE_TYPE_RCIEP)
		return "integrated: a root-complex integrated endpoint";
	if (!d->parent) {
		snprintf(buf, sizeof(buf), "integrated: on the root bus %04x:%02x, no PCIe link of its own",
			 d->addr.domain, d->addr.bus);
		return strpool_intern(&host->strings, buf);
	}
	if (f) {
		snprintf(buf, sizeof(buf), "integrated: its slot holds %s [%04x:%04x] of another vendor",
			 f->address, f->vendor_id, f->device_id);
		return strpool_intern(&host->strings, buf);
	}
	if (amd_apu_id(d))
		return "integrated: AMD APU graphics";
	device_read_caps(d->parent);
	/* a BMC's display hangs off a PCIe-to-PCI bridge on the board; a
	 * device without PCIe straight below a PCIe port is an emulated card */
	if (d->pcie_type == PCILIB_NOT_PCIE && (d->parent->pcie_type == PCIE_TYPE_PCI_BRIDGE ||
						d->parent->pcie_type == PCILIB_NOT_PCIE)) {
		snprintf(buf, sizeof(buf), "integrated: conventional PCI on the board, behind %s",
			 d->parent->address);
		return strpool_intern(&host->strings, buf);
	}
	*integrated = false;
	snprintf(buf, sizeof(buf), "discrete: its own PCIe link from %s", d->parent->address);
	return strpool_intern(&host->strings, buf);
}

static void gpu_classify(const struct vfk_gpu *cgpu)
{
	struct vfk_gpu *gpu = (struct vfk_gpu *)cgpu;	/* a cache */

	if (gpu->placement)
		return;
	gpu->placement = classify(gpu, &gpu->integrated);
	if (!gpu->placement)		/* out of memory: still an answer */
		gpu->placement = gpu->integrated ? "integrated" : "discrete";
}

bool vfk_gpu_is_integrated(const struct vfk_gpu *gpu)
{
	gpu_classify(gpu);
	return gpu->integrated;
}

const char *vfk_gpu_get_placement(const struct vfk_gpu *gpu)
{
	gpu_classify(gpu);
	return gpu->placement;
}

/*
 * What the GPU is for. A 3D controller (class 0302) has no display outputs:
 * in a laptop it is the muxless dGPU beside the iGPU that drives the panel;
 * anywhere else it is a compute GPU (a datacenter accelerator: H100, L4, T4).
 */
enum vfk_gpu_role vfk_gpu_get_role(const struct vfk_gpu *gpu)
{
	if (gpu->dev->class >> 8 != 0x0302)
		return VFK_GPU_ROLE_DISPLAY;
	return vfk_host_is_laptop(gpu->dev->host) ? VFK_GPU_ROLE_LAPTOP_DGPU : VFK_GPU_ROLE_COMPUTE;
}

const char *vfk_gpu_role_to_string(enum vfk_gpu_role role)
{
	switch (role) {
	case VFK_GPU_ROLE_DISPLAY:
		return "display";
	case VFK_GPU_ROLE_LAPTOP_DGPU:
		return "laptop-dgpu";
	case VFK_GPU_ROLE_COMPUTE:
		return "compute";
	}
	return "unknown";
}

/*
 * The port a GPU shares with its neighbours: the upstream port of the PCIe
 * switch it sits behind (GPUs of one switch share its bandwidth to the CPU
 * and, without ACS, their group), or the root port it hangs from. A switch
 * of the GPU's own vendor is part of the card (RX 6800's 1478/1479) and is
 * looked through. When config space cannot say what a port is, the nearest
 * bridge is all that is known.
 */
struct vfk_device *vfk_gpu_get_upstream(const struct vfk_gpu *gpu)
{
	struct vfk_device *d = gpu->dev, *up;

	for (up = d->parent; up; up = up->parent) {
		if (up->vendor_id == d->vendor_id && up->parent)
			continue;
		device_read_caps(up);
		if (up->pcie_type != PCIE_TYPE_DOWNSTREAM)
			return up;
	}
	return d->parent;
}
