/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The running kernel's module tree below the sysroot (modtree.c): its
 * release, its directory (lib/modules/REL or usr/lib/modules/REL) and
 * libkmod opened on it with the sysroot's modprobe.d directories, so that a
 * fixture tree is asked exactly as the running host is. Shared by the
 * vfio-modules check and the choice of a device's VFIO driver.
 */
#ifndef VFK_MODTREE_H
#define VFK_MODTREE_H

#include "core/internal.h"
#include "core/kmod-dl.h"

/* The kernel release: proc/sys/kernel/osrelease, else the only directory of
 * lib/modules (or usr/lib/modules). 0, -ENOENT when neither says, -EINVAL
 * when it is not one path component. */
int modtree_release(struct vfk_ctx *ctx, char *release, size_t size);
/* The module tree of @release: a directory fd (or -errno), its place below
 * the sysroot ("lib/modules/REL") in @where. */
int modtree_open(struct vfk_ctx *ctx, const char *release, char *where, size_t size);
/* libkmod on the tree at @where, configured from the sysroot's modprobe.d
 * directories, its messages forwarded to @ctx's log at debug level (missing
 * indexes are a finding, not an error). NULL with errno ENOMEM (no memory
 * for the paths) or EIO (kmod_new() failed). */
struct kmod_ctx *modtree_kmod_new(struct vfk_ctx *ctx, const struct kmod_api *km,
				  const char *where);
#endif
