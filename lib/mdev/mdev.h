/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private helpers shared by mdev.c and sriov.c. */
#ifndef VFK_MDEV_H
#define VFK_MDEV_H
#include "core/internal.h"

/* Operations that may write: a dry run swaps in a hook that narrates each
 * write through the progress function and skips it; end restores the hook. */
struct op_hook {
	vfk_write_hook hook;
	void *data;
	bool dry;
};
void op_begin(struct vfk_ctx *ctx, bool dry, struct op_hook *save);
void op_end(struct vfk_ctx *ctx, const struct op_hook *save);

/* One line into @buf (may be NULL); returns -@err and sets errno. */
int op_error(char *buf, size_t size, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Does PCI device @addr carry NVIDIA's per-VF vGPU files? With @current,
 * its current_vgpu_type (0 = free). */
bool vgpu_vf_present(struct vfk_ctx *ctx, const char *addr, unsigned int *current);
/* Does any device below sys have mdev instances as children of @addr? The
 * first UUID goes to @uuid (VFK_MDEV_ID_SIZE). */
bool mdev_children(struct vfk_ctx *ctx, const char *addr, char *uuid);
#endif
