/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VFK_CONSOLE_H
#define VFK_CONSOLE_H
#include "core/internal.h"

/* Release framebuffer consoles and firmware framebuffers; records them. */
int console_release(struct vfk_ctx *ctx);
/* Re-attach what console_release() recorded. */
int console_reattach(struct vfk_ctx *ctx);
#endif
