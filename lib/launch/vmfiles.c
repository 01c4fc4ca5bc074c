/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The files a VM of the qemu backend needs beside QEMU, which libvirt would
 * make for its domains: the directory of its sockets (SPICE, the TPM's
 * control socket), <sysroot>/run/vfiokit/vm/NAME (the VM roots: a normal
 * user's are in the user's own directories), and its UEFI variable
 * store, copied from the firmware's template at the first up and kept from
 * then on (Windows keeps its boot entries there), as libvirt keeps
 * /var/lib/libvirt/qemu/nvram/NAME_VARS.fd.
 */
#include <dirent.h>
#include <stdio.h>

#include "launch/launch.h"

#define NVRAM_DIR "nvram"
#define VARS_MAX (64u << 20)	/* OVMF's are 128 KiB to 4 MiB */

/* Copy the firmware's variable template to the VM's store, once. */
static int nvram_create(struct vfk_ctx *ctx, const struct vfk_plan *pl, char *err, size_t errsize)
{
	const char *base = strrchr(pl->nvram, '/');
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *vars = NULL;
	char rel[300];
	int r;

	base = base ? base + 1 : pl->nvram;
	r = vfk_root_mkdirs(ctx, VFK_ROOT_VM_STATE, NVRAM_DIR, 0700);
	dfd = r < 0 ? r : vfk_root_open_dir(ctx, VFK_ROOT_VM_STATE, NVRAM_DIR);
	if (dfd >= 0 && vfk_exists_at(dfd, base))
		return 0;
	if (dfd >= 0 && !(vars = malloc(VARS_MAX)))
		dfd = -ENOMEM;
	r = dfd < 0 ? dfd : vfk_root_read_bytes(ctx, VFK_ROOT_TOP, pl->fw_vars + 1, vars, VARS_MAX);
	if (r >= 0 && (r == 0 || (unsigned int)r == VARS_MAX))
		r = -EINVAL;
	if (r < 0) {
		snprintf(err, errsize, "cannot make the UEFI variable store of %s from %s: %s",
			 pl->slug, pl->fw_vars, r == -EINVAL ? "not a firmware template" : strerror(-r));
		return r;
	}
	snprintf(rel, sizeof(rel), NVRAM_DIR "/%s", base);
	vfk_progress(ctx, "creating the UEFI variable store %s from %s", pl->nvram, pl->fw_vars);
	r = vfk_host_replace_file(ctx, VFK_ROOT_VM_STATE, rel, vars, (size_t)r, 0600);
	if (r < 0)
		snprintf(err, errsize, "cannot write %s: %s", pl->nvram, strerror(-r));
	return r < 0 ? r : 0;
}

int vm_files_prepare(struct vfk_ctx *ctx, const struct vfk_plan *pl, char *err, size_t errsize)
{
	char rel[128];
	int r;

	snprintf(rel, sizeof(rel), "vm/%s", pl->slug);
	r = vfk_root_mkdirs(ctx, VFK_ROOT_VM_RUN, rel, 0700);
	if (r < 0) {
		snprintf(err, errsize, "cannot create the socket directory of %s: %s", pl->slug,
			 strerror(-r));
		return r;
	}
	return pl->fw_vars && pl->nvram ? nvram_create(ctx, pl, err, errsize) : 0;
}

/* Remove the files in <root>/@rel and then the directory (one level). */
static int remove_tree(struct vfk_ctx *ctx, enum vfk_root root, const char *rel)
{
	DIR *d = vfk_fdopendir(vfk_root_open_dir(ctx, root, rel));
	struct dirent *e;
	char path[300];

	while (d && (e = readdir(d)))
		if (!streq(e->d_name, ".") && !streq(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", rel, e->d_name);
			vfk_host_remove_file(ctx, root, path);
		}
	if (d)
		closedir(d);
	return vfk_host_remove_dir(ctx, root, rel);
}

void vm_files_release(struct vfk_ctx *ctx, const char *name)
{
	char rel[128];

	if (!vfk_vm_name_valid(name))
		return;
	/* the sockets only: the NVRAM and the TPM's state stay for the next up */
	snprintf(rel, sizeof(rel), "vm/%s", name);
	remove_tree(ctx, VFK_ROOT_VM_RUN, rel);
}

void vm_files_forget(struct vfk_ctx *ctx, const char *name)
{
	char rel[128];

	if (!vfk_vm_name_valid(name))
		return;
	snprintf(rel, sizeof(rel), NVRAM_DIR "/%s_VARS.fd", name);
	if (vfk_host_remove_file(ctx, VFK_ROOT_VM_STATE, rel) == 0)
		vfk_progress(ctx, "removed the UEFI variable store of %s", name);
	snprintf(rel, sizeof(rel), "swtpm/%s", name);
	if (remove_tree(ctx, VFK_ROOT_VM_STATE, rel) == 0)
		vfk_progress(ctx, "removed the TPM state of %s", name);
}
