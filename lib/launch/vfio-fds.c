/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iommufd backend on the QEMU backend: the launcher opens /dev/iommu and
 * each device's VFIO cdev itself and QEMU gets them as descriptors
 * (-object iommufd,fd=N; -device vfio-pci,fd=M), as libvirt and Kata do. QEMU
 * then needs no access to any device node, and the pinned memory is charged
 * to QEMU's own process (IOMMU_OPTION_RLIMIT_MODE, which needs the
 * privilege the launcher has) against the RLIMIT_MEMLOCK it is started with,
 * not to every VM of the same user together as iommufd does by default.
 * A normal user's VM gets the same descriptors from root's service
 * (vfio-bind pass-fds, fds-client.c), for the devices root granted that
 * user: no device node changes owner.
 */
#include <fcntl.h>
#include <stdio.h>

#include "emit/emit.h"
#include "inventory/inventory.h"
#include "launch/launch.h"

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

/* The address in "vfio-pci,host=ADDR,iommufd=ID,..." and where its options go on. */
static int device_addr(const char *arg, char *addr, size_t size, const char **rest)
{
	static const char pfx[] = "vfio-pci,host=";
	const char *a = arg + sizeof(pfx) - 1, *comma = strchr(a, ',');

	if (!comma || (size_t)(comma - a) >= size)
		return -EINVAL;
	snprintf(addr, size, "%.*s", (int)(comma - a), a);
	*rest = comma;
	return 0;
}

/* Root's own: /dev/iommu and each device's cdev opened here. */
static int open_here(struct vfk_ctx *ctx, char addrs[][32], size_t n, int *fds, char *errbuf,
		     size_t errsize)
{
	char cdev[NAME_MAX];
	bool per_process;
	size_t i;
	int fd;

	fd = vfio_open_iommufd(ctx, &per_process);
	if (fd < 0) {
		_cleanup_free_ char *node = vfk_root_host_path(VFK_ROOT_DEV, "iommu");

		return launch_fail(errbuf, errsize, -fd, "opening %s failed: %s",
				   node ? node : "iommu", strerror(-fd));
	}
	if (!per_process)
		info(ctx, "iommufd: pinned memory charged to the user, not to QEMU's process "
		     "(IOMMU_OPTION_RLIMIT_MODE refused)");
	fds[0] = fd;
	for (i = 0; i < n; i++) {
		fd = vfio_open_cdev(ctx, addrs[i], cdev, sizeof(cdev));
		if (fd == -ENOENT)
			return launch_fail(errbuf, errsize, ENODEV, "%s has no VFIO cdev "
					   "(vfio-dev/vfioN) on its VFIO driver: the kernel lacks "
					   "CONFIG_VFIO_DEVICE_CDEV; use [vfio] backend = group",
					   addrs[i]);
		if (fd < 0)
			return launch_fail(errbuf, errsize, -fd, "opening the VFIO cdev of %s "
					   "failed: %s", addrs[i], strerror(-fd));
		fds[i + 1] = fd;
	}
	return 0;
}

/*
 * The descriptors: opened here by root, or in a normal user's VM handed over
 * by root's service (vfio-bind pass-fds), which checks that root granted
 * each device to this user: the user opens no node, and none changes owner.
 */
int vfio_fds_pass(struct vfk_plan *plan, char **full, size_t n, struct vfio_fds *f,
		  char *errbuf, size_t errsize)
{
	char addrs[ARRAY_SIZE(f->fds) - 1][32];
	size_t slot[ARRAY_SIZE(f->fds)], i, k, ndev = 0, iommu = 0;
	int fds[ARRAY_SIZE(f->fds)], r = 0;
	const char *rest = NULL;

	memset(f, 0, sizeof(*f));
	if (plan->vfio_backend != VFIO_IOMMUFD)
		return 0;
	for (i = 1; i < n; i++) {
		if (streq(full[i - 1], "-object") && streq(full[i], "iommufd,id=" QEMU_IOMMUFD_ID)) {
			iommu = i;
		} else if (streq(full[i - 1], "-device") && startswith(full[i], "vfio-pci,host=") &&
			   strstr(full[i], ",iommufd=" QEMU_IOMMUFD_ID)) {
			if (ndev == ARRAY_SIZE(addrs))
				return launch_fail(errbuf, errsize, E2BIG, "too many VFIO devices");
			if (device_addr(full[i], addrs[ndev], sizeof(addrs[ndev]), &rest) < 0)
				return launch_fail(errbuf, errsize, EINVAL, "unexpected vfio-pci "
						   "option: %s", full[i]);
			slot[ndev++] = i;
		}
	}
	if (!iommu)
		return ndev ? launch_fail(errbuf, errsize, EINVAL, "VFIO devices on iommufd "
					  "without its object") : 0;
	for (i = 0; i <= ndev; i++)
		fds[i] = -1;
	if (vfk_ctx_is_user_mode(plan->ctx))
		r = fds_ask_root(plan->ctx, addrs, ndev, fds, errbuf, errsize);
	else
		r = open_here(plan->ctx, addrs, ndev, fds, errbuf, errsize);
	for (i = 0; i <= ndev; i++)	/* kept from here on, closed with @f */
		if (fds[i] >= 0)
			f->fds[f->nfds++] = fds[i];
	if (r < 0) {
		vfio_fds_close(f);
		return r;
	}
	r = set_arg(f, &full[iommu], argf("iommufd,id=" QEMU_IOMMUFD_ID ",fd=", fds[0], ""));
	for (k = 0; k < ndev && r == 0; k++) {
		device_addr(full[slot[k]], addrs[k], sizeof(addrs[k]), &rest);
		r = set_arg(f, &full[slot[k]], argf("vfio-pci,fd=", fds[k + 1], rest));
	}
	if (r < 0) {
		vfio_fds_close(f);
		return launch_fail(errbuf, errsize, ENOMEM, "out of memory");
	}
	return 0;
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
