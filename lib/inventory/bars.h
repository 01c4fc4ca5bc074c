/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The memory BARs of one PCI function as the kernel lists them in its sysfs
 * "resource" file (bars.c): what a VM that is given the function must map.
 */
#ifndef VFK_BARS_H
#define VFK_BARS_H

#include <stdint.h>

#include "core/internal.h"

struct device_bars {
	uint64_t total;		/* every memory BAR (0-5), in bytes */
	uint64_t pref64;	/* the 64-bit prefetchable ones among them */
	uint64_t largest;	/* the largest one */
	unsigned int n;		/* memory BARs that have a size */
};

/*
 * Lines 0-5 of @dev's resource file ("0xSTART 0xEND 0xFLAGS", the kernel's
 * format): memory BARs by IORESOURCE_MEM, 64-bit prefetchable by
 * IORESOURCE_MEM_64 and IORESOURCE_PREFETCH; I/O ports, the ROM and bridge
 * windows are not counted. 0; -ENOENT when the file is missing; -EINVAL
 * with "PATH:LINE: what" in @err when a line does not parse.
 */
int device_read_bars(struct vfk_ctx *ctx, const struct vfk_device *dev, struct device_bars *out,
		     char *err, size_t errsize);

#endif
