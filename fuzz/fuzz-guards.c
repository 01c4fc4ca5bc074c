/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host guards' readers of /proc: mountinfo (which block device holds /),
 * net/route and net/ipv6_route (which interfaces carry a default route),
 * cmdline and modprobe.d (vfio-pci.ids= claims), and the pure matchers
 * behind them. The first input byte picks the file(s); files of a pair are
 * separated by "\n--\n". Invariants: the root device is "MAJ:MIN" (it becomes
 * the path dev/block/MAJ:MIN), interface lists fit their buffer and every
 * name handed on passes name_ok(), nothing overflows.
 */
#include "fuzz.h"
#include "../lib/bind/guards.c"

static struct vfk_ctx *ctx;
static int topfd, sysfd;
static struct vfk_host host;
static struct vfk_device dev;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	topfd = open(fuzz_scratch(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (topfd < 0)
		abort();
	fuzz_mkdirs(topfd, "proc/self");
	fuzz_mkdirs(topfd, "proc/net");
	fuzz_mkdirs(topfd, "etc/modprobe.d");
	fuzz_mkdirs(topfd, "sys/dev/block");
	fuzz_mkdirs(topfd, "sys/class/block/dm-0/slaves");
	fuzz_mkdirs(topfd, "sys/class/net/br0/brif");
	fuzz_mkdirs(topfd, "sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/net/eno1");
	symlinkat("../../devices/pci0000:00/0000:00:1d.0/0000:03:00.0/nvme/nvme0/nvme0n1/nvme0n1p2",
		  topfd, "sys/dev/block/259:2");
	symlinkat("../../devices/virtual/block/dm-0", topfd, "sys/dev/block/254:0");
	symlinkat("../../../../devices/pci0000:00/0000:00:1d.0/0000:03:00.0/nvme/nvme0/nvme0n1/nvme0n1p3",
		  topfd, "sys/class/block/dm-0/slaves/nvme0n1p3");
	symlinkat("../../../devices/pci0000:00/0000:00:1d.0/0000:03:00.0/nvme/nvme0/nvme0n1/nvme0n1p3",
		  topfd, "sys/class/block/nvme0n1p3");
	symlinkat("../../devices/pci0000:00/0000:00:1c.0/0000:02:00.0/net/eno1", topfd,
		  "sys/class/net/eno1");
	symlinkat("../../../../devices/pci0000:00/0000:00:1c.0/0000:02:00.0", topfd,
		  "sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/net/eno1/device");
	symlinkat("../../eno1", topfd, "sys/class/net/br0/brif/eno1");
	if (vfk_ctx_new(fuzz_scratch(), &ctx) < 0)
		abort();
	vfk_ctx_set_log_fn(ctx, fuzz_log, NULL);
	sysfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, "");
	if (sysfd < 0)
		abort();
	host.ctx = ctx;
	host.refcount = 1;
	dev.host = &host;
	snprintf(dev.address, sizeof(dev.address), "0000:03:00.0");
	dev.class = 0x010802;
	dev.vendor_id = 0x10de;
	dev.device_id = 0x2684;
	dev.group = -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int mode = size ? data[0] % 4 : 0;
	const uint8_t *rest;
	size_t n, rest_size;
	char majmin[32], rel[64], ifaces[512], buf[600], *ifn, *save = NULL, *s;

	if (size)
		data++, size--;
	n = fuzz_split(data, size, "\n--\n", &rest, &rest_size);
	switch (mode) {
	case 0:	/* mountinfo */
		fuzz_put(topfd, "proc/self/mountinfo", data, size);
		if (root_block_dev(ctx, majmin, sizeof(majmin))) {
			FUZZ_ASSERT(strspn(majmin, "0123456789:") == strlen(majmin));
			FUZZ_ASSERT(strchr(majmin, ':') && strncmp(majmin, "0:", 2));
			snprintf(rel, sizeof(rel), "dev/block/%s", majmin);
			block_on_device(ctx, sysfd, rel, dev.address, 0);
		}
		break;
	case 1:	/* net/route, net/ipv6_route */
		fuzz_put(topfd, "proc/net/route", data, n);
		fuzz_put(topfd, "proc/net/ipv6_route", rest, rest_size);
		default_route_ifaces(ctx, ifaces, sizeof(ifaces));
		FUZZ_ASSERT(strlen(ifaces) < sizeof(ifaces));
		for (ifn = strtok_r(ifaces, " ", &save); ifn; ifn = strtok_r(NULL, " ", &save))
			netdev_on_device(ctx, sysfd, ifn, dev.address, 0);
		break;
	case 2:	/* /proc/cmdline, a modprobe.d file */
		fuzz_put(topfd, "proc/cmdline", data, n);
		fuzz_put(topfd, "etc/modprobe.d/fuzz.conf", rest, rest_size);
		if (guard_conflicts(&host, &dev, buf, sizeof(buf)))
			FUZZ_ASSERT(strlen(buf) < sizeof(buf));
		break;
	case 3:	/* the pure matchers */
		s = fuzz_strdup(data, size);
		if (size >= 4) {
			uint16_t v = (uint16_t)(data[0] << 8 | data[1]), d = (uint16_t)(data[2] << 8 | data[3]);
			ids_contain(s + 4 <= s + strlen(s) ? s + 4 : s, v, d);
		}
		path_has_device(s, dev.address);
		name_ok(s);
		looks_like_uuid(s);
		free(s);
		break;
	}
	return 0;
}
