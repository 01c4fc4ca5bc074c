/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The record of each VM vfiokit started, <sysroot>/run/vfiokit/vms/NAME
 * (in user mode $XDG_RUNTIME_DIR/vfiokit/vms/NAME: the VM root VFK_ROOT_VM_RUN):
 * written before the VM starts, so that down, the watcher and libvirt's
 * release hook know what to undo; gone once the host is restored. "key=value"
 * lines; a key this version does not know is skipped.
 */
#include <dirent.h>
#include <stdio.h>

#include "core/strbuf.h"
#include "launch/launch.h"

int record_save(struct vfk_ctx *ctx, const struct vfk_vm_record *r)
{
	char text[1024];
	int w;

	snprintf(text, sizeof(text),
		 "# vfiokit VM record v1\nbackend=%s\nuri=%s\npid=%d\nswtpm=%d\ndefined=%d\n"
		 "mdev=%s\nsince=%lld\nwatcher=%d\narmed=%s\nrun_as=%s\n",
		 r->backend == VFK_BACKEND_QEMU ? "qemu" : "libvirt", r->uri, r->pid, r->swtpm_pid,
		 r->defined ? 1 : 0, r->mdev, r->since, r->watcher_pid, r->armed, r->run_as);
	w = vfk_host_write_file_in(ctx, VFK_ROOT_VM_RUN, VMS_DIR, r->name, text, 0600);

	return w < 0 ? w : 0;	/* the write's own errno: the caller's line says why */
}

static void record_line(struct vfk_vm_record *r, const char *line)
{
	if (startswith(line, "backend="))
		r->backend = streq(line + 8, "qemu") ? VFK_BACKEND_QEMU : VFK_BACKEND_LIBVIRT;
	else if (startswith(line, "uri="))
		snprintf(r->uri, sizeof(r->uri), "%s", line + 4);
	else if (startswith(line, "pid="))
		r->pid = atoi(line + 4);
	else if (startswith(line, "swtpm="))
		r->swtpm_pid = atoi(line + 6);
	else if (startswith(line, "defined="))
		r->defined = atoi(line + 8) != 0;
	else if (startswith(line, "mdev="))
		snprintf(r->mdev, sizeof(r->mdev), "%s", line + 5);
	else if (startswith(line, "since="))
		r->since = atoll(line + 6);
	else if (startswith(line, "watcher="))
		r->watcher_pid = atoi(line + 8);
	else if (startswith(line, "armed="))
		snprintf(r->armed, sizeof(r->armed), "%s", line + 6);
	else if (startswith(line, "run_as="))
		snprintf(r->run_as, sizeof(r->run_as), "%s", line + 7);
}

int record_load(struct vfk_ctx *ctx, const char *name, struct vfk_vm_record *r)
{
	_cleanup_close_ int dfd = -1;
	char text[2048], *line, *save = NULL;
	int n;

	memset(r, 0, sizeof(*r));
	if (!vfk_vm_name_valid(name))
		return -EINVAL;
	dfd = vfk_root_open_dir(ctx, VFK_ROOT_VM_RUN, VMS_DIR);
	if (dfd < 0)
		return -ENOENT;
	n = vfk_read_in(ctx, dfd, name, text, sizeof(text));
	if (n < 0)
		return n;
	snprintf(r->name, sizeof(r->name), "%s", name);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		record_line(r, line);
	return 0;
}

void record_drop(struct vfk_ctx *ctx, const char *name)
{
	char rel[160];

	snprintf(rel, sizeof(rel), VMS_DIR "/%s", name);
	vfk_host_remove_file(ctx, VFK_ROOT_VM_RUN, rel);
}

int record_names(struct vfk_ctx *ctx, struct strv *names)
{
	_cleanup_closedir_ DIR *d = vfk_fdopendir(vfk_root_open_dir(ctx, VFK_ROOT_VM_RUN, VMS_DIR));
	struct dirent *e;

	if (!d)
		return 0;	/* no VM was ever started here */
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		/* records only: not NAME.qmp, NAME.log or temporaries */
		if (!vfk_vm_name_valid(e->d_name) ||
		    (len > 4 && (streq(e->d_name + len - 4, ".qmp") ||
				 streq(e->d_name + len - 4, ".log") ||
				 streq(e->d_name + len - 4, ".tmp"))))
			continue;
		if (strv_add(names, e->d_name) < 0)
			return -ENOMEM;
	}
	return (int)names->n;
}
