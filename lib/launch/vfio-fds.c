/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iommufd backend on the QEMU backend: the launcher opens /dev/iommu and
 * each device's VFIO cdev itself and QEMU gets them as descriptors
 * (-object iommufd,fd=N; -device vfio-pci,fd=M), as libvirt and Kata do. QEMU
 * then needs no access to any device node, and the pinned memory is charged
 * to QEMU's own process (IOMMU_OPTION_RLIMIT_MODE, which needs the
 * privilege the launcher has) against the RLIMIT_MEMLOCK it is started with,
 * not to every VM of the same user together as iommufd does by default.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "emit/emit.h"
#include "inventory/inventory.h"
#include "launch/launch.h"

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
		return -errno;
	if (fstat(fd, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISREG(st.st_mode))) {
		close(fd);
		return -EINVAL;
	}
	fcntl(fd, F_SETFL, 0);	/* QEMU polls nothing on them; plain blocking fds */
	return fd;
}

/* The VFIO cdev of the PCI device @addr now, "vfio/devices/vfioN" below dev/:
 * it is there only once the device is on its VFIO driver, after the bind. */
static int cdev_of(struct vfk_ctx *ctx, const char *addr, char *rel, size_t size)
{
	char sys[96], name[32];
	_cleanup_close_ int dfd = -1;
	int r;

	snprintf(sys, sizeof(sys), VFK_SYS_PCI_DEVICES "/%s", addr);
	dfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, sys);
	r = vfio_cdev_in(ctx, dfd, name, sizeof(name));
	if (r == 0)
		snprintf(rel, size, "vfio/devices/%s", name);
	return r;
}

/* Argument @slot becomes @s (malloc'ed, kept in @f; the old one is @argv's
 * and freed with it); -ENOMEM for a NULL @s. */
static int set_arg(struct vfio_fds *f, char **slot, char *s)
{
	if (!s)
		return -ENOMEM;
	f->args[f->nargs++] = s;
	*slot = s;
	return 0;
}

/* "FMT" with one number and one string, malloc'ed, or NULL. */
static char *argf(const char *prefix, int fd, const char *rest)
{
	char *s = NULL;

	return asprintf(&s, "%s%d%s", prefix, fd, rest) < 0 ? NULL : s;
}

static int keep_fd(struct vfio_fds *f, int fd)
{
	if (f->nfds == ARRAY_SIZE(f->fds)) {
		close(fd);
		return -E2BIG;
	}
	f->fds[f->nfds++] = fd;
	return fd;
}

/* -device vfio-pci,host=ADDR,iommufd=ID,...: its cdev, then fd=M instead of host=. */
static int pass_device(struct vfk_ctx *ctx, struct vfio_fds *f, char **slot, char *errbuf,
		       size_t errsize)
{
	static const char pfx[] = "vfio-pci,host=";
	char addr[32], rel[NAME_MAX + 16];
	const char *rest = *slot + sizeof(pfx) - 1, *comma = strchr(rest, ',');
	int fd;

	if (!comma || (size_t)(comma - rest) >= sizeof(addr))
		return launch_fail(errbuf, errsize, EINVAL, "unexpected vfio-pci option: %s", *slot);
	snprintf(addr, sizeof(addr), "%.*s", (int)(comma - rest), rest);
	if (cdev_of(ctx, addr, rel, sizeof(rel)) < 0)
		return launch_fail(errbuf, errsize, ENODEV, "%s has no VFIO cdev (vfio-dev/vfioN) on "
				   "its VFIO driver: the kernel lacks CONFIG_VFIO_DEVICE_CDEV; use "
				   "[vfio] backend = group", addr);
	fd = open_node(ctx, rel);
	if (fd < 0)
		return launch_fail(errbuf, errsize, -fd, "opening the VFIO cdev of %s failed: %s",
				   addr, strerror(-fd));
	fd = keep_fd(f, fd);
	if (fd < 0)
		return launch_fail(errbuf, errsize, -fd, "too many VFIO devices");
	return set_arg(f, slot, argf("vfio-pci,fd=", fd, comma));
}

/* The iommufd object: /dev/iommu opened here, its accounting per process. */
static int pass_iommufd(struct vfk_ctx *ctx, struct vfio_fds *f, char **slot, char *errbuf,
			size_t errsize)
{
	struct vfk_iommu_option opt = {
		.size = sizeof(opt), .option_id = VFK_IOMMU_OPTION_RLIMIT_MODE,
		.op = VFK_IOMMU_OPTION_OP_SET, .val64 = 1,
	};
	int fd = open_node(ctx, "iommu");

	if (fd < 0) {
		_cleanup_free_ char *node = vfk_root_host_path(VFK_ROOT_DEV, "iommu");

		return launch_fail(errbuf, errsize, -fd, "opening %s failed: %s",
				   node ? node : "iommu", strerror(-fd));
	}
	if (ioctl(fd, VFK_IOMMU_OPTION, &opt) < 0)	/* not privileged: the user's account */
		info(ctx, "iommufd: pinned memory charged to the user, not to "
			"QEMU's process (IOMMU_OPTION_RLIMIT_MODE: %s)", strerror(errno));
	fd = keep_fd(f, fd);
	if (fd < 0)
		return launch_fail(errbuf, errsize, -fd, "too many VFIO devices");
	return set_arg(f, slot, argf("iommufd,id=" QEMU_IOMMUFD_ID ",fd=", fd, ""));
}

int vfio_fds_pass(struct vfk_plan *plan, char **full, size_t n, struct vfio_fds *f,
		  char *errbuf, size_t errsize)
{
	size_t i;
	int r = 0;

	memset(f, 0, sizeof(*f));
	if (plan->vfio_backend != VFIO_IOMMUFD)
		return 0;
	for (i = 1; i < n && r == 0; i++) {
		if (f->nargs == ARRAY_SIZE(f->args)) {
			r = launch_fail(errbuf, errsize, E2BIG, "too many VFIO devices");
			break;
		}
		if (streq(full[i - 1], "-object") && streq(full[i], "iommufd,id=" QEMU_IOMMUFD_ID))
			r = pass_iommufd(plan->ctx, f, &full[i], errbuf, errsize);
		else if (streq(full[i - 1], "-device") && startswith(full[i], "vfio-pci,host=") &&
			 strstr(full[i], ",iommufd=" QEMU_IOMMUFD_ID))
			r = pass_device(plan->ctx, f, &full[i], errbuf, errsize);
	}
	if (r < 0)
		vfio_fds_close(f);
	return r;
}

void vfio_fds_inherit(const struct vfio_fds *f)
{
	size_t i;

	for (i = 0; i < f->nfds; i++)
		fcntl(f->fds[i], F_SETFD, 0);
}

void vfio_fds_close(struct vfio_fds *f)
{
	size_t i;

	for (i = 0; i < f->nfds; i++)
		close(f->fds[i]);
	for (i = 0; i < f->nargs; i++)
		free(f->args[i]);
	memset(f, 0, sizeof(*f));
}
