/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fabric devices: the parts of a GPU complex that are not GPUs but that GPUs
 * in a VM need for their links to each other. An HGX board's NVSwitches
 * (NVIDIA, class 0680 "bridge: other") carry NVLink between its GPUs;
 * without them in the VM, or a Fabric Manager outside it that set up the
 * fabric, CUDA in the guest fails (error 802, "system not yet initialized").
 * They are endpoints (not PCI bridges): the kernel puts them in groups of
 * their own, and a listing of GPUs would otherwise leave them out.
 */
#include "inventory/inventory.h"

#define PCI_CLASS_BRIDGE_OTHER	0x0680

static const struct {
	uint16_t vendor;
	uint16_t class;
	const char *role;
} fabric_kinds[] = {
	{ 0x10de, PCI_CLASS_BRIDGE_OTHER, "NVSwitch" },
};

const char *fabric_role(const struct vfk_device *dev)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fabric_kinds); i++)
		if (dev->vendor_id == fabric_kinds[i].vendor &&
		    dev->class >> 8 == fabric_kinds[i].class && !dev->is_vf)
			return fabric_kinds[i].role;
	return NULL;
}

int fabric_build(struct vfk_host *host)
{
	size_t i, cap = 0;

	for (i = 0; i < host->ndevices; i++) {
		if (!fabric_role(&host->devices[i]))
			continue;
		if (GROW_ARRAY(host->fabric, cap, host->nfabric + 1) < 0)
			return -ENOMEM;
		host->fabric[host->nfabric++] = &host->devices[i];
	}
	return 0;
}

size_t vfk_host_fabric_count(const struct vfk_host *host) { return host->nfabric; }

struct vfk_device *vfk_host_fabric_device(const struct vfk_host *host, size_t i)
{
	return i < host->nfabric ? host->fabric[i] : NULL;
}

const char *vfk_device_get_fabric_role(const struct vfk_device *dev)
{
	return fabric_role(dev);
}
