/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI hierarchy as a tree: each device's children and the devices at the
 * top (on a root bus, or whose parent the scan did not find), from the
 * parent links the scan read. Built once by the scan, after the links that
 * would close a loop are dropped, so every walk down ends too.
 */
#include <stdlib.h>

#include "inventory/inventory.h"

int tree_build(struct vfk_host *host)
{
	size_t i, pos = 0, nroots = 0;

	for (i = 0; i < host->ndevices; i++) {
		struct vfk_device *d = &host->devices[i];
		if (d->parent)
			d->parent->nchildren++;
		else
			nroots++;
	}
	host->roots = calloc(nroots ? nroots : 1, sizeof(*host->roots));
	host->children = calloc(host->ndevices - nroots ? host->ndevices - nroots : 1,
				sizeof(*host->children));
	if (!host->roots || !host->children)
		return -ENOMEM;
	/* each device's children take one run of host->children */
	for (i = 0; i < host->ndevices; i++) {
		host->devices[i].child0 = pos;
		pos += host->devices[i].nchildren;
		host->devices[i].nchildren = 0;
	}
	/* devices are in address order: so is every run, and the roots */
	for (i = 0; i < host->ndevices; i++) {
		struct vfk_device *d = &host->devices[i], *p = d->parent;
		if (p)
			host->children[p->child0 + p->nchildren++] = d;
		else
			host->roots[host->nroots++] = d;
	}
	return 0;
}

void tree_free(struct vfk_host *host)
{
	free(host->roots);
	free(host->children);
}

size_t vfk_host_root_count(const struct vfk_host *host) { return host->nroots; }

struct vfk_device *vfk_host_root(const struct vfk_host *host, size_t i)
{
	return i < host->nroots ? host->roots[i] : NULL;
}

size_t vfk_device_child_count(const struct vfk_device *dev) { return dev->nchildren; }

struct vfk_device *vfk_device_child(const struct vfk_device *dev, size_t i)
{
	return i < dev->nchildren ? dev->host->children[dev->child0 + i] : NULL;
}
