/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Is the host a laptop? The firmware says so in the DMI chassis type (SMBIOS
 * 3.x, table 17: 8 portable, 9 laptop, 10 notebook, 14 sub-notebook, 31
 * convertible, 32 detachable); where DMI is missing or says nothing useful
 * (1 other, 2 unknown: cheap boards, some laptops), a battery among the power
 * supplies is the answer. A GPU's role depends on it: a 3D controller in a
 * laptop is its muxless dGPU, in a server a compute GPU.
 */
#include <dirent.h>
#include <stdio.h>

#include "inventory/inventory.h"

enum { PORTABLE_UNREAD = 0, PORTABLE_NO, PORTABLE_YES };

/* 1 portable, 0 not, -1 DMI does not say. */
static int chassis_portable(struct vfk_ctx *ctx)
{
	static const long portable[] = { 8, 9, 10, 14, 31, 32 };
	long type;
	size_t i;

	if (vfk_root_read_long(ctx, VFK_ROOT_SYS, "class/dmi/id/chassis_type", &type) < 0 ||
	    type <= 2)
		return -1;
	for (i = 0; i < ARRAY_SIZE(portable); i++)
		if (type == portable[i])
			return 1;
	return 0;
}

static bool has_battery(struct vfk_ctx *ctx)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;

	d = vfk_fdopendir(vfk_root_open_dir(ctx, VFK_ROOT_SYS, "class/power_supply"));
	if (!d)
		return false;
	while ((e = readdir(d))) {
		char rel[300], type[32];
		if (e->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "%s/type", e->d_name);
		if (vfk_read_in(ctx, dirfd(d), rel, type, sizeof(type)) > 0 &&
		    streq(type, "Battery"))
			return true;
	}
	return false;
}

bool vfk_host_is_laptop(const struct vfk_host *chost)
{
	struct vfk_host *host = (struct vfk_host *)chost;	/* a cache */
	int r;

	if (host->portable == PORTABLE_UNREAD) {
		r = chassis_portable(host->ctx);
		if (r < 0)
			r = has_battery(host->ctx);
		host->portable = r ? PORTABLE_YES : PORTABLE_NO;
	}
	return host->portable == PORTABLE_YES;
}
