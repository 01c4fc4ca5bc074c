/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VFK_GUARDS_H
#define VFK_GUARDS_H
#include "inventory/inventory.h"

/*
 * Read what the guards need of the host as a whole (the block devices of "/",
 * the default route's interfaces, driverctl and vfio-pci.ids= claims) once,
 * for every check until guard_facts_drop(): checking a group of 16k endpoints
 * must not read mountinfo, the routes and modprobe.d 16k times. Without it,
 * each check reads them itself. 0 or -ENOMEM.
 */
int guard_facts_keep(struct vfk_host *host);
void guard_facts_drop(struct vfk_host *host);
/* Why the host needs @dev ("holds the root filesystem (/dev/nvme0n1)",
 * "carries the default route (eno1)"), or NULL. Result interned in host. */
const char *guard_host_needs(struct vfk_host *host, const struct vfk_device *dev);
/* Processes holding the device's nodes ("Xorg(1234), nvidia-persistenced(88)")
 * into @buf; returns the count. */
int guard_holders(struct vfk_host *host, const struct vfk_device *dev, char *buf, size_t size);
/* Something that depends on the device (its mdevs, enabled VFs): one line, or 0. */
int guard_dependents(struct vfk_host *host, const struct vfk_device *dev, char *buf, size_t size);
/* Configuration that fights vfiokit over the device (driverctl, vfio-pci.ids=). */
int guard_conflicts(struct vfk_host *host, const struct vfk_device *dev, char *buf, size_t size);
/* 1 and a phrase in @buf ("named in vfio-pci.ids= on the kernel command
 * line") when the host's configuration gives @dev to vfio-pci at boot. */
int guard_vfio_claim(struct vfk_host *host, const struct vfk_device *dev, char *buf, size_t size);
#endif
