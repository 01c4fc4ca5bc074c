/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of launch/ share: the VM records (record.c), the cleanup
 * every way of stopping ends in (launch.c), the watcher that runs it when
 * QEMU ends (watch.c), and what launch.c starts beside QEMU: thread pinning
 * (qemu-pin.c) and the TPM (swtpm.c).
 */
#ifndef VFK_LAUNCH_H
#define VFK_LAUNCH_H

#include "launch/memlock.h"	/* QEMU's RLIMIT_MEMLOCK, raised before exec */
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
 * not), as @user when not NULL (up --run-as); stop it again. */
int swtpm_start(struct vfk_ctx *ctx, const struct vfk_plan *pl, const char *name,
		const struct vfk_user *user, pid_t *pid, char *err, size_t errsize);
void swtpm_stop(struct vfk_ctx *ctx, pid_t pid);

/* vfio-fds.c: on the iommufd backend, /dev/iommu and each device's cdev
 * opened (close-on-exec) and @full's "-object iommufd" and "-device
 * vfio-pci,host=..." rewritten to pass them by number; nothing to do on
 * groups. One line in @errbuf on failure. */
struct vfio_fds {
	int fds[64];
	size_t nfds;
	char *args[64];		/* the rewritten arguments, owned here */
	size_t nargs;
};
int vfio_fds_pass(struct vfk_plan *plan, char **full, size_t n, struct vfio_fds *f,
		  char *errbuf, size_t errsize);
/* In the child before exec: the descriptors stay open in QEMU. */
void vfio_fds_inherit(const struct vfio_fds *f);
/* fds-client.c: /dev/iommu into @fds[0] and the VFIO cdev of each of @addrs
 * into @fds[1..n] from root's descriptor service, for a normal user's VM.
 * 0, or -errno with one line in @errbuf (what is there is still @fds'). */
int fds_ask_root(struct vfk_ctx *ctx, char addrs[][32], size_t n, int *fds, char *errbuf,
		 size_t errsize);
void vfio_fds_close(struct vfio_fds *f);

/* runas.c: up --run-as NAME, QEMU exec'ed as that user with every file and
 * socket it needs opened by root and passed (see there). */
struct runas {
	bool on;
	struct vfk_user user;
	gid_t groups[64];
	size_t ngroups;
	int fds[256];
	size_t nfds;
	char *own[384];		/* the rewritten and added arguments */
	size_t nown;
	unsigned int nsets;	/* -add-fd descriptor sets so far */
	char **argv;		/* the command line to exec (NULL-terminated) */
};
/* The user looked up and what cannot be handed over refused (one line);
 * @ra->on when there is a user to run as. */
int runas_check(struct vfk_plan *pl, const struct vfk_vm_options *o, struct runas *ra,
		char *errbuf, size_t errsize);
/* @full (NULL-terminated, ending in -qmp unix:@qmp,...) rewritten into
 * @ra->argv: the files of -drive and the serial log opened and passed as
 * descriptor sets, the QMP socket bound and listening here and passed. */
int runas_rewrite(struct vfk_plan *pl, struct runas *ra, char **full, const char *qmp,
		  char *errbuf, size_t errsize);
/* In the child before exec: memlock limit @memlock (hard and soft, when
 * not 0), the user's groups, gid and uid for good, the descriptors kept
 * open across exec. 0 or -errno. */
int runas_become(const struct runas *ra, unsigned long long memlock);
void runas_free(struct runas *ra);
/* A UNIX socket at @path, bound and listening (mode 0600) or connected;
 * close-on-exec. The descriptor or -errno. */
int launch_unix_socket(const char *path, bool listening);

/* newdisk.c: the disks the plan says up makes, made (before anything else):
 * through libvirt's storage API at @o->uri on the libvirt backend, by
 * qemu-img on the qemu backend. 0, or -errno with one line in @errbuf. */
int launch_make_disks(const struct vfk_plan *plan, const struct vfk_vm_options *o,
		      char *errbuf, size_t errsize);
/* One line into @errbuf (when there is one); the negative errno of @err. */
int launch_fail(char *errbuf, size_t errsize, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* libvirt.c: the libvirt backend. Start @rec->name: defined from the plan
 * when there is no such domain (or with @o->redefine), else started as
 * defined; transient with @o->transient. */
int lv_start(struct vfk_plan *plan, const struct vfk_vm_options *o, struct vfk_vm_record *rec,
	     char *errbuf, size_t errsize);
/* @uri names the QEMU driver of this host ("qemu:///system", also over
 * qemu+unix); any other host or driver ("qemu+ssh://other/system", "test:///")
 * is not this host, whose sysfs vfiokit reads and binds. */
bool lv_uri_is_local(const char *uri);
/* ACPI shutdown for @timeout_s, then destroy; the definition stays. */
int lv_stop(const struct vfk_vm_record *rec, unsigned int timeout_s, char *errbuf, size_t errsize);
/* Until the domain stops (lifecycle events). */
int lv_wait(const struct vfk_vm_record *rec, char *errbuf, size_t errsize);
/* Undefine the shut-off domain @name vfiokit defined, with its NVRAM and
 * TPM; -ENOENT when there is none, -EPERM when it is not vfiokit's. */
int lv_undefine(struct vfk_ctx *ctx, const char *uri, const char *name, char *errbuf,
		size_t errsize);
/* "running", "shut off", "gone" or "unreachable", into @buf. */
const char *lv_state(const char *uri, const char *name, char *buf, size_t size);

/* domain.c: the XML vfiokit defined domain @name from, kept to tell later
 * whether the profile changed (domain_differs: kept and not @xml). */
void domain_record(struct vfk_ctx *ctx, const char *name, const char *xml);
void domain_forget(struct vfk_ctx *ctx, const char *name);
bool domain_differs(struct vfk_plan *plan, const char *xml);

/* vmfiles.c: a qemu-backend VM's socket directory and UEFI variable store,
 * made before QEMU starts (the store only once); its sockets removed when it
 * stops; the store and the TPM's state removed only when forgotten. */
int vm_files_prepare(struct vfk_ctx *ctx, const struct vfk_plan *pl, char *err, size_t errsize);
void vm_files_release(struct vfk_ctx *ctx, const char *name);
void vm_files_forget(struct vfk_ctx *ctx, const char *name);

#endif
