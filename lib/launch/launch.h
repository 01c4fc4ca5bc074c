/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What launch.c starts beside QEMU: thread pinning (qemu-pin.c) and the
 * TPM (swtpm.c).
 */
#ifndef VFK_LAUNCH_H
#define VFK_LAUNCH_H

#include "plan/plan.h"

/* Pin the threads of a running QEMU (@pid, QMP on @qmp_fd) as the plan says
 * (qemu-pin.c); 0 when the plan pins nothing. */
int qemu_pin_threads(struct vfk_ctx *ctx, const struct vfk_plan *pl, int qmp_fd, pid_t pid,
		     char *err, size_t errsize);
/* swtpm.c: start the TPM of VM @name when the plan has one (*@pid 0 when
 * not); stop it again. */
int swtpm_start(struct vfk_ctx *ctx, const struct vfk_plan *pl, const char *name, pid_t *pid,
		char *err, size_t errsize);
void swtpm_stop(struct vfk_ctx *ctx, pid_t pid);
/* Remove the socket directory of VM @name's TPM (its state is kept). */
void swtpm_forget(struct vfk_ctx *ctx, const char *name);

#endif
