/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The two ways into a device on a VFIO driver. The legacy one goes through
 * its IOMMU group: /dev/vfio/N, attached to a container opened from
 * /dev/vfio/vfio. The newer one goes through the device itself: the kernel
 * (CONFIG_VFIO_DEVICE_CDEV, Linux 6.6+) gives each device on a VFIO driver a
 * character device /dev/vfio/devices/vfioN, named in its sysfs directory as
 * vfio-dev/vfioN, and a VMM binds it to an I/O address space of iommufd,
 * /dev/iommu (CONFIG_IOMMUFD, Linux 6.2+). NVIDIA's device plugins and DRA
 * driver look at exactly these two places to choose: /dev/iommu on the host,
 * vfio-dev/vfioN on the device.
 *
 * Both are read on the first question and kept with the host snapshot: a
 * listing that never asks pays nothing.
 */
#include <dirent.h>

#include "inventory/inventory.h"

bool vfk_host_has_iommufd(const struct vfk_host *chost)
{
	struct vfk_host *host = (struct vfk_host *)chost;	/* a cache, not a change */

	if (!host->iommufd) {
		_cleanup_close_ int dfd = vfk_root_open_dir(host->ctx, VFK_ROOT_DEV, "");

		host->iommufd = dfd >= 0 && vfk_exists_at(dfd, "iommu") ? 2 : 1;
	}
	return host->iommufd == 2;
}

/* "vfio" and a number, as the kernel names the cdevs ("vfio%d"). */
static bool cdev_name(const char *s)
{
	size_t n = 0;

	if (strncmp(s, "vfio", 4) != 0)
		return false;
	for (s += 4; *s >= '0' && *s <= '9' && n < 10; s++)
		n++;
	return n > 0 && *s == '\0';
}

const char *vfk_device_get_vfio_cdev(const struct vfk_device *cdev)
{
	struct vfk_device *dev = (struct vfk_device *)cdev;	/* a cache */
	_cleanup_close_ int dfd = -1;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;

	if (dev->cdev_known)
		return dev->vfio_cdev;
	dev->cdev_known = true;
	dfd = device_open_dir(dev);
	d = vfk_opendir_in(dev->host->ctx, dfd, "vfio-dev");
	while (d && (e = readdir(d)))
		if (cdev_name(e->d_name)) {
			dev->vfio_cdev = strpool_intern(&dev->host->strings, e->d_name);
			break;
		}
	return dev->vfio_cdev;
}
