/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disks a plan says up makes (plan-newdisk.c): each a new file, never
 * one that exists (made with O_EXCL first, so a file that appeared since
 * the plan is left alone and up stops), then formatted by qemu-img at the
 * planned size. The write hook sees each ("PATH <- (qemu-img create ...)"):
 * a dry run shows it, a test can fail it.
 */
#include <fcntl.h>
#include <stdio.h>

#include "launch/launch.h"

#define QEMU_IMG_MS 60000	/* a sparse image: a moment, even on a slow disk */

static int make_one(struct vfk_ctx *ctx, const struct plan_disk *d, char *errbuf, size_t errsize)
{
	_cleanup_close_ int top = vfk_root_open_dir(ctx, VFK_ROOT_TOP, NULL);
	_cleanup_free_ char *full = NULL;
	const char *path = d->src->path, *fmt = d->format == FMT_QCOW2 ? "qcow2" : "raw";
	char size[32], what[96], why[512];
	int fd, r;

	snprintf(size, sizeof(size), "%lluM", d->create_mib);
	snprintf(what, sizeof(what), "(qemu-img create -f %s, %s)", fmt, size);
	full = vfk_root_path(ctx, VFK_ROOT_TOP, path + 1);
	if (top < 0 || !full)
		return launch_fail(errbuf, errsize, top < 0 ? -top : ENOMEM, "disk %s: cannot "
				   "reach its directory", path);
	r = vfk_host_action(ctx, full, what);
	if (r != 0)
		return r < 0 ? launch_fail(errbuf, errsize, -r, "disk %s: %s", path, strerror(-r)) : 0;
	fd = openat(top, path + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return launch_fail(errbuf, errsize, errno, "disk %s: %s%s", path, strerror(errno),
				   errno == EEXIST ? " (it appeared since the plan; nothing "
				   "overwritten)" : "");
	close(fd);
	{
		const char *const argv[] = { "qemu-img", "create", "-q", "-f", fmt, full, size, NULL };

		r = vfk_run_program(argv, QEMU_IMG_MS, why, sizeof(why));
	}
	if (r < 0) {
		unlinkat(top, path + 1, 0);	/* ours, and empty */
		return launch_fail(errbuf, errsize, r == -ECANCELED ? EIO : -r, "disk %s: qemu-img "
				   "create failed: %s", path, *why ? why : strerror(-r));
	}
	vfk_progress(ctx, "made disk %s (%s, %llu MiB)", path, fmt, d->create_mib);
	return 0;
}

int launch_make_disks(const struct vfk_plan *plan, char *errbuf, size_t errsize)
{
	size_t i;
	int r;

	for (i = 0; i < plan->ndisks; i++)
		if (plan->disks[i].create_mib &&
		    (r = make_one(plan->ctx, &plan->disks[i], errbuf, errsize)) < 0)
			return r;
	return 0;
}
