/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VFK_CONSOLE_H
#define VFK_CONSOLE_H
#include "core/internal.h"

/* For the console GPU @gpu: stop the display manager, release framebuffer
 * consoles and firmware framebuffers, each recorded before it is done; on
 * failure one line in @err (what was done is still recorded:
 * console_reattach() gives it back). */
int console_release(struct vfk_ctx *ctx, const char *gpu, char *err, size_t errsize);
/* Give back what console_release() recorded, the last step first. */
int console_reattach(struct vfk_ctx *ctx);
#endif
