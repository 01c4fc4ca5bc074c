/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Release at boot: the VMs vfiokit started whose VM is gone but whose record
 * is still there, because nothing was left to clean up after them — the
 * watcher was killed together with QEMU (the OOM killer, a session killed
 * whole, systemd ending every process at a soft-reboot), or the domain ended
 * while libvirtd was away and libvirtd never came back to run its hook.
 * systemd's soft-reboot keeps the kernel (the devices are still on vfio-pci)
 * and /run (the journal and the records): vfiokit-restore.service runs this
 * before libvirtd and any VM start. A plain reboot leaves nothing to do.
 *
 * A process id in a record may belong to another program by now, so a VM
 * counts as running only when its id is alive AND names the program the
 * record expects (QEMU; for libvirt, the id in libvirt's own pid file). A VM
 * whose watcher still runs is left to that watcher.
 */
#include <limits.h>
#include <stdio.h>

#include "core/strbuf.h"
#include "launch/launch.h"

#define LIBVIRT_QEMU_RUN "run/libvirt/qemu"	/* libvirtd's NAME.pid, qemu:///system */

/* Is @pid alive and is its program's name (comm) @prefix...? */
static bool process_is(struct vfk_ctx *ctx, int pid, const char *prefix)
{
	char comm[64];

	return pid > 0 && proc_alive(ctx, pid) && proc_comm(ctx, pid, comm, sizeof(comm)) == 0 &&
	       startswith(comm, prefix);
}

/* The QEMU libvirtd started for domain @name, from libvirtd's pid file. */
static int libvirt_qemu_pid(struct vfk_ctx *ctx, const char *name)
{
	_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, LIBVIRT_QEMU_RUN);
	char rel[160];
	long pid;

	snprintf(rel, sizeof(rel), "%s.pid", name);
	if (dfd < 0 || vfk_read_long_in(ctx, dfd, rel, &pid) < 0 || pid <= 0 || pid > INT_MAX)
		return 0;
	return (int)pid;
}

/* NULL when @rec's VM is gone and nobody else will restore the host; else why not. */
static const char *still_held(struct vfk_ctx *ctx, const struct vfk_vm_record *rec)
{
	if (rec->backend == VFK_BACKEND_QEMU) {
		if (process_is(ctx, rec->pid, "qemu"))
			return "its QEMU still runs";
		if (rec->watcher_pid && watch_alive(ctx, rec))
			return "its watcher is restoring the host";
		return NULL;
	}
	if (!lv_uri_is_local(rec->uri))
		return "it runs on a remote libvirt";
	if (process_is(ctx, libvirt_qemu_pid(ctx, rec->name), "qemu"))
		return "libvirt's QEMU for it still runs";
	return NULL;
}

int vfk_vm_release_stale(struct vfk_ctx *ctx, char *errbuf, size_t errsize)
{
	struct strv names = { 0 };
	int r, first = 0, released = 0;
	size_t i;

	if (errbuf && errsize)
		errbuf[0] = '\0';
	r = record_names(ctx, &names);
	for (i = 0; r >= 0 && i < names.n; i++) {
		struct vfk_vm_record rec;
		const char *why;
		char err[512];

		if (record_load(ctx, names.v[i], &rec) < 0)
			continue;
		why = still_held(ctx, &rec);
		if (why) {
			vfk_progress(ctx, "%s left alone: %s", rec.name, why);
			continue;
		}
		/* a TPM id that is no swtpm any more is not ours to stop; its
		 * sockets are still ours to remove (vm_finish: any non-zero id) */
		if (rec.swtpm_pid > 0 && !process_is(ctx, rec.swtpm_pid, "swtpm"))
			rec.swtpm_pid = -1;
		vfk_progress(ctx, "%s is gone: restoring what it held", rec.name);
		r = vm_finish(ctx, &rec, err, sizeof(err));
		if (r < 0 && !first) {
			first = r;
			if (errbuf && errsize)
				snprintf(errbuf, errsize, "%s: %s", rec.name, err);
		}
		released += r >= 0;
		r = 0;
	}
	strv_free(&names);
	if (r < 0)
		return r;
	return first < 0 ? first : released;
}
