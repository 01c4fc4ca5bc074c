/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Vendor, device and class names of a device (pci.ids through libpci, then
 * udev's hwdb), looked up on first use and cached per (vendor, device).
 */
#include <stdlib.h>

#include "inventory/inventory.h"
#include "inventory/pcilib.h"

/* Small cache of (vendor, device) -> names: lookups are the costly part of naming. */
struct name_slot {
	uint32_t key;	/* vendor << 16 | device, +1 so 0 means empty */
	const char *vendor, *device;
};

struct name_cache {
	struct name_slot *slots;
	size_t size, used;
};

static int name_cache_get(struct vfk_host *host, struct name_cache *nc, uint16_t vendor,
			  uint16_t device, const char **vname, const char **dname)
{
	uint32_t key = (((uint32_t)vendor << 16) | device) + 1;
	char vb[256], db[256];
	size_t i;

	if (nc->used * 2 >= nc->size) {
		size_t nsize = nc->size ? nc->size * 2 : 64, j;
		struct name_slot *ns = calloc(nsize, sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		for (j = 0; j < nc->size; j++) {
			if (!nc->slots[j].key)
				continue;
			for (i = (nc->slots[j].key * 2654435761u) & (nsize - 1); ns[i].key;
			     i = (i + 1) & (nsize - 1))
				;
			ns[i] = nc->slots[j];
		}
		free(nc->slots);
		nc->slots = ns;
		nc->size = nsize;
	}
	for (i = (key * 2654435761u) & (nc->size - 1); nc->slots[i].key; i = (i + 1) & (nc->size - 1)) {
		if (nc->slots[i].key == key) {
			*vname = nc->slots[i].vendor;
			*dname = nc->slots[i].device;
			return 0;
		}
	}
	pcilib_lookup_names(host->ctx, host->pacc, vendor, device, vb, sizeof(vb), db, sizeof(db));
	nc->slots[i].key = key;
	nc->slots[i].vendor = *vname = strpool_intern(&host->strings, vb);
	nc->slots[i].device = *dname = strpool_intern(&host->strings, db);
	nc->used++;
	return (*vname && *dname) ? 0 : -ENOMEM;
}

void device_names(const struct vfk_device *cdev)
{
	struct vfk_device *dev = (struct vfk_device *)cdev;	/* a cache of the snapshot */
	struct vfk_host *host = dev->host;
	char cbuf[128];

	if (dev->vendor_name)
		return;
	if (!host->names)
		host->names = calloc(1, sizeof(*host->names));
	if (!host->names || name_cache_get(host, host->names, dev->vendor_id, dev->device_id,
					   &dev->vendor_name, &dev->device_name) < 0 ||
	    !dev->vendor_name || !dev->device_name) {
		dev->vendor_name = "?";
		dev->device_name = "?";
	}
	dev->class_name = strpool_intern(&host->strings,
					 pcilib_class_name(host->pacc, dev->class >> 8, cbuf,
							   sizeof(cbuf)));
	if (!dev->class_name)
		dev->class_name = "?";
}

void names_free(struct name_cache *nc)
{
	if (nc)
		free(nc->slots);
	free(nc);
}
