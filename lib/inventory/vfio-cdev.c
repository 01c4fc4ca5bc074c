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
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "core/modtree.h"
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

/* A vfio-dev/vfioN that is a character device: the kernel gives it a dev
 * attribute (MAJOR:MINOR) only then. */
static bool has_dev_attr(DIR *d, const char *name)
{
	char rel[NAME_MAX + 8];

	snprintf(rel, sizeof(rel), "%s/dev", name);
	return faccessat(dirfd(d), rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
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

int vfio_cdev_in(struct vfk_ctx *ctx, int devdirfd, char *name, size_t size)
{
	_cleanup_closedir_ DIR *d = vfk_opendir_in(ctx, devdirfd, "vfio-dev");
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (cdev_name(e->d_name) && has_dev_attr(d, e->d_name)) {
			snprintf(name, size, "%s", e->d_name);
			return 0;
		}
	return -ENOENT;
}

const char *vfk_device_get_vfio_cdev(const struct vfk_device *cdev)
{
	struct vfk_device *dev = (struct vfk_device *)cdev;	/* a cache */
	_cleanup_close_ int dfd = -1;
	char name[32];

	if (dev->cdev_known)
		return dev->vfio_cdev;
	dev->cdev_known = true;
	dfd = device_open_dir(dev);
	if (vfio_cdev_in(dev->host->ctx, dfd, name, sizeof(name)) == 0)
		dev->vfio_cdev = strpool_intern(&dev->host->strings, name);
	return dev->vfio_cdev;
}

/*
 * What one device on a VFIO driver says about the kernel: 1 it has a cdev,
 * 0 it has none (Linux before 6.6 makes no vfio-dev directory; later ones
 * make vfio-dev/vfioN either way, but a character device only with
 * CONFIG_VFIO_DEVICE_CDEV), -ENOENT it is not on a VFIO driver.
 */
static int device_says(struct vfk_device *dev, char *why, size_t whysize)
{
	_cleanup_close_ int dfd = -1, vfd = -1;

	if (!dev->driver || !vfk_driver_is_vfio(dev->driver))
		return -ENOENT;
	if (vfk_device_get_vfio_cdev(dev)) {
		snprintf(why, whysize, "%s on %s has the cdev %s", dev->address, dev->driver,
			 dev->vfio_cdev);
		return 1;
	}
	dfd = device_open_dir(dev);
	vfd = dfd >= 0 ? vfk_open_dir_in(dev->host->ctx, dfd, "vfio-dev") : -1;
	snprintf(why, whysize, vfd >= 0 ? "%s on %s has no VFIO cdev: the kernel is built "
		 "without CONFIG_VFIO_DEVICE_CDEV" : "%s on %s has no vfio-dev: the kernel's VFIO "
		 "predates device cdevs (Linux 6.6)", dev->address, dev->driver);
	return 0;
}

/* The loaded vfio module: with CONFIG_VFIO_DEVICE_CDEV it takes a character
 * device region named "vfio-dev" (proc/devices) when it loads, before any
 * device is bound. 1 yes, 0 loaded without it, -ENOENT not loaded. */
static int module_says(struct vfk_ctx *ctx, char *why, size_t whysize)
{
	_cleanup_close_ int mfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_MODULE "/vfio");
	char devices[8192];
	const char *m;
	bool yes = false;

	if (mfd < 0 || vfk_root_read(ctx, VFK_ROOT_PROC, "devices", devices, sizeof(devices)) < 0)
		return -ENOENT;
	for (m = devices; (m = strstr(m, " vfio-dev")) && !yes; m++)
		yes = m[9] == '\n' || m[9] == '\0';
	snprintf(why, whysize, yes ? "the vfio module has its cdev region (vfio-dev in "
		 "proc/devices)" : "the vfio module is loaded without cdevs (no vfio-dev in "
		 "proc/devices: CONFIG_VFIO_DEVICE_CDEV is not set)");
	return yes;
}

/* The kernel's build configuration, where distributions ship it: 1 the
 * option is y, 0 not set or unknown to that kernel, -ENOENT no such file. */
static int config_says(struct vfk_ctx *ctx, char *why, size_t whysize)
{
	char release[128], rel[192];
	_cleanup_close_ int top = -1;
	_cleanup_free_ char *text = NULL;
	const char *s;
	int r;

	if (modtree_release(ctx, release, sizeof(release)) < 0)
		return -ENOENT;
	snprintf(rel, sizeof(rel), "boot/config-%s", release);
	top = vfk_root_open_dir(ctx, VFK_ROOT_TOP, "");
	if (top < 0 || vfk_read_file_in(ctx, top, rel, 1 << 20, &text, NULL) < 0)
		return -ENOENT;
	s = strstr(text, "\nCONFIG_VFIO_DEVICE_CDEV=y\n");
	r = s != NULL;
	snprintf(why, whysize, r ? "%s has CONFIG_VFIO_DEVICE_CDEV=y" :
		 "%s does not enable CONFIG_VFIO_DEVICE_CDEV", rel);
	return r;
}

int vfk_host_vfio_cdev_support(const struct vfk_host *chost, char *why, size_t whysize)
{
	struct vfk_host *host = (struct vfk_host *)chost;
	size_t i;
	int r;

	if (!host || !why || !whysize)
		return -EINVAL;
	for (i = 0; i < host->ndevices; i++) {
		r = device_says(&host->devices[i], why, whysize);
		if (r >= 0)
			return r;
	}
	r = module_says(host->ctx, why, whysize);
	if (r >= 0)
		return r;
	r = config_says(host->ctx, why, whysize);
	if (r == -ENOENT)
		snprintf(why, whysize, "no device is on a VFIO driver yet, the vfio module is "
			 "not loaded, and the kernel's configuration (boot/config-RELEASE) is not "
			 "there to say");
	return r;
}

/* linux/iommufd.h (Linux 6.2+), not in every distribution's headers yet */
struct vfk_iommu_option {
	uint32_t size;
	uint32_t option_id;
	uint16_t op;
	uint16_t reserved;
	uint32_t object_id;
	uint64_t val64;
};
#define VFK_IOMMU_OPTION _IO(';', 0x87)
#define VFK_IOMMU_OPTION_RLIMIT_MODE 0
#define VFK_IOMMU_OPTION_OP_SET 0

/* A device node below the sysroot's /dev, read-write; a FIFO or socket
 * there is refused (opening it could block), as is a symlink. */
static int open_node(struct vfk_ctx *ctx, const char *rel)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_DEV, "");
	struct stat st;
	int fd;

	if (dfd < 0)
		return dfd;
	fd = openat(dfd, rel, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return neg_errno(errno);
	if (fstat(fd, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISREG(st.st_mode))) {
		close(fd);
		return neg_errno(EINVAL);
	}
	fcntl(fd, F_SETFL, 0);	/* QEMU polls nothing on them; plain blocking fds */
	return fd;
}

int vfio_open_cdev(struct vfk_ctx *ctx, const char *addr, char *cdev, size_t size)
{
	char sys[96], rel[NAME_MAX + 16];
	_cleanup_close_ int dfd = -1;
	int r;

	/* as it is now: the cdev appears with the bind, after the snapshot */
	snprintf(sys, sizeof(sys), VFK_SYS_PCI_DEVICES "/%s", addr);
	dfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, sys);
	r = vfio_cdev_in(ctx, dfd, cdev, size);
	if (r < 0)
		return r;
	snprintf(rel, sizeof(rel), "vfio/devices/%s", cdev);
	r = open_node(ctx, rel);
	return r == -ENOENT ? neg_errno(ENODEV) : r;
}

int vfio_open_iommufd(struct vfk_ctx *ctx, bool *per_process)
{
	struct vfk_iommu_option opt = {
		.size = sizeof(opt), .option_id = VFK_IOMMU_OPTION_RLIMIT_MODE,
		.op = VFK_IOMMU_OPTION_OP_SET, .val64 = 1,
	};
	int fd = open_node(ctx, "iommu");
	struct stat st;

	/* pinned memory charged to the process that maps it, against its own
	 * RLIMIT_MEMLOCK, not to every VM of its user together (needs
	 * CAP_SYS_RESOURCE: the opener's, so root opens); a tree's stand-in
	 * node is a plain file, which is asked nothing */
	*per_process = fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
		       ioctl(fd, VFK_IOMMU_OPTION, &opt) == 0;
	return fd;
}
