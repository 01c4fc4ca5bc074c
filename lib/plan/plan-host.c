/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the steps of the plan share (plan-internal.h): the error line, host
 * files and directories below the sysroot, devices named by a selector, and
 * dropping a chosen mdev. Here,
 * below plan.c, so that plan.c calls the steps and the steps never call it.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "plan/plan-internal.h"

void plan_set_error(char *errbuf, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || !errsize)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errsize, fmt, ap);
	va_end(ap);
}

bool plan_host_file_exists(struct vfk_ctx *ctx, const char *path, struct stat *st)
{
	_cleanup_close_ int top = vfk_root_open_dir(ctx, VFK_ROOT_TOP, NULL);
	struct stat tmp;

	if (top < 0 || !path || path[0] != '/' || strstr(path, "/../"))
		return false;
	return fstatat(top, path[1] ? path + 1 : ".", st ? st : &tmp, 0) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int plan_list_dir(struct vfk_ctx *ctx, int dirfd, const char *rel, struct strv *out)
{
	_cleanup_closedir_ DIR *d = vfk_opendir_in(ctx, dirfd, rel);
	struct dirent *de;

	if (!d)
		return neg_errno(errno);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strv_add(out, de->d_name) < 0)
			return neg_errno(ENOMEM);
	qsort_safe(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

char *plan_device_name(const struct vfk_device *d)
{
	return strdupf("%s %s %s", vfk_device_get_address(d), vfk_device_get_vendor_name(d),
		       vfk_device_get_device_name(d));
}

bool plan_device_matches(const struct vfk_device *d, const char *sel)
{
	char full[512];

	if (profile_is_vendor_device(sel)) {
		unsigned int v = (unsigned int)strtoul(sel, NULL, 16);
		unsigned int id = (unsigned int)strtoul(sel + 5, NULL, 16);

		return vfk_device_get_vendor_id(d) == v && vfk_device_get_device_id(d) == id;
	}
	snprintf(full, sizeof(full), "%s %s", vfk_device_get_vendor_name(d),
		 vfk_device_get_device_name(d));
	return strcasestr(full, sel) != NULL;
}

void plan_drop_mdev(struct vfk_plan *pl)
{
	free(pl->mdev.parent);
	free(pl->mdev.type);
	free(pl->mdev.type_name);
	free(pl->mdev.uuid);
	free(pl->mdev.vf);
	memset(&pl->mdev, 0, sizeof(pl->mdev));
}
