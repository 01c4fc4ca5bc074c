/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of launch/ share: the VM records (record.c), the cleanup
 * every way of stopping ends in (launch.c), the watcher that runs it when
 * QEMU ends (watch.c), and what launch.c starts beside QEMU: thread pinning
 * (qemu-pin.c) and the TPM (swtpm.c).
 */
#ifndef VFK_LAUNCH_H
#define VFK_LAUNCH_H

#include "plan/plan.h"

#define VMS_DIR "vms"	/* under run/vfiokit */

/* record.c: <sysroot>/run/vfiokit/vms/NAME */
int record_save(struct vfk_ctx *ctx, const struct vfk_vm_record *r);
int record_load(struct vfk_ctx *ctx, const char *name, struct vfk_vm_record *r);
void record_drop(struct vfk_ctx *ctx, const char *name);
/* The names of the records there are (added to @names); their number. */
int record_names(struct vfk_ctx *ctx, struct strv *names);

/* launch.c: what down does once the VM is stopped: the TPM stopped, the
 * mdev removed, the devices restored, the record dropped. */
int vm_finish(struct vfk_ctx *ctx, const struct vfk_vm_record *rec, char *errbuf,
	      size_t errsize);

/* watch.c: a process of its own, in its own session, that waits for QEMU
 * (@rec->pid, a child of the caller not yet reaped) to end however it ends,
 * then runs vm_finish(); sets rec->watcher_pid and rec->armed. */
int watch_qemu(struct vfk_ctx *ctx, struct vfk_vm_record *rec, char *errbuf, size_t errsize);
/* End @rec's watcher, if it is still there, so that the caller cleans up
 * alone; bounded. */
void watch_stop(struct vfk_ctx *ctx, const struct vfk_vm_record *rec);
/* Is @rec's watcher still there? */
bool watch_alive(struct vfk_ctx *ctx, const struct vfk_vm_record *rec);

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
