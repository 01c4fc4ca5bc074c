// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-group-status — what a VMM does first with a VFIO group, as a test probe.
 * Built on the host by tests/vm/lib.sh, run inside the test guest.
 *
 *   vfio-group-status GROUP [BDF]
 *
 * Opens /dev/vfio/vfio and checks the API version and Type1 support, opens
 * /dev/vfio/GROUP and asks VFIO_GROUP_GET_STATUS whether the group is viable (every
 * device in it bound to vfio-pci or to no driver). With BDF it also attaches the group
 * to the container, selects the Type1 IOMMU and gets a device fd for BDF, and prints
 * the device's region and IRQ counts.
 *
 * Exit status: 0 viable (and device fd obtained when BDF is given), 1 group not
 * viable, 2 usage, 3 a VFIO call failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

static int fail(const char *what)
{
	fprintf(stderr, "vfio-group-status: %s: %s\n", what, strerror(errno));
	return 3;
}

static int valid_group(const char *s)
{
	if (!*s || strlen(s) > 10)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	char path[64];
	int container, group, device, api;
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_device_info info = { .argsz = sizeof(info) };

	if (argc < 2 || argc > 3 || !valid_group(argv[1])) {
		fprintf(stderr, "usage: vfio-group-status GROUP [BDF]\n");
		return 2;
	}

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		return fail("open /dev/vfio/vfio");
	api = ioctl(container, VFIO_GET_API_VERSION);
	printf("api version %d\n", api);
	if (api != VFIO_API_VERSION) {
		fprintf(stderr, "vfio-group-status: unknown VFIO API version %d\n", api);
		return 3;
	}
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) <= 0) {
		fprintf(stderr, "vfio-group-status: Type1 IOMMU not supported\n");
		return 3;
	}

	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	group = open(path, O_RDWR | O_CLOEXEC);
	if (group < 0)
		return fail(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) < 0)
		return fail("VFIO_GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		printf("group %s not viable (flags 0x%x)\n", argv[1], status.flags);
		return 1;
	}
	printf("group %s viable (flags 0x%x)\n", argv[1], status.flags);
	if (argc == 2)
		return 0;

	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
		return fail("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
		return fail("VFIO_SET_IOMMU(VFIO_TYPE1_IOMMU)");
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
	if (device < 0)
		return fail("VFIO_GROUP_GET_DEVICE_FD");
	if (ioctl(device, VFIO_DEVICE_GET_INFO, &info) < 0)
		return fail("VFIO_DEVICE_GET_INFO");
	printf("device %s fd %d flags 0x%x%s regions %u irqs %u\n", argv[2], device, info.flags,
	       (info.flags & VFIO_DEVICE_FLAGS_PCI) ? " (pci)" : "", info.num_regions, info.num_irqs);
	close(device);
	close(group);
	close(container);
	return 0;
}
