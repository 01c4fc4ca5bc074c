/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hosts a fix must not touch, each refused in one line with nothing
 * changed: an OSTree root (Fedora Silverblue/CoreOS: /etc is merged at
 * each deployment and kernel parameters go through rpm-ostree kargs), a
 * root whose /etc is read-only, and unified kernel images under Secure
 * Boot, whose command line is inside the signed image: editing
 * /etc/kernel/cmdline would need a re-signed image vfiokit cannot make.
 */
#include <dirent.h>
#include <stdio.h>
#include <sys/statvfs.h>

#include "fix/fix.h"

/* EFI global variable GUID: SecureBoot is 4 attribute bytes, then 0 or 1. */
#define SECURE_BOOT_VAR "firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e5fbdc9ab3b0"

static bool secure_boot_on(struct vfk_fix *f)
{
	unsigned char v[5];

	return vfk_root_read_bytes(f->ctx, VFK_ROOT_SYS, SECURE_BOOT_VAR, v, sizeof(v)) == 5 &&
	       v[4] == 1;
}

static bool has_efi_image(struct vfk_fix *f, const char *dir)
{
	_cleanup_close_ int top = vfk_root_open_dir(f->ctx, VFK_ROOT_TOP, NULL);
	int fd = top >= 0 ? vfk_open_dir_in(f->ctx, top, dir) : -1;
	struct dirent *de;
	bool found = false;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		found = n > 4 && !strcasecmp(de->d_name + n - 4, ".efi");
	}
	closedir(d);
	return found;
}

/* Kernels installed as unified kernel images: kernel-install's uki layout, or
 * images in the ESP's EFI/Linux. */
static bool uses_uki(struct vfk_fix *f)
{
	_cleanup_free_ char *conf = NULL;

	if (fix_text(f, "etc/kernel/install.conf", &conf) == 0 && strstr(conf, "layout=uki"))
		return true;
	return fix_exists(f, "etc/kernel/uki.conf") || has_efi_image(f, "boot/EFI/Linux") ||
	       has_efi_image(f, "efi/EFI/Linux") || has_efi_image(f, "boot/efi/EFI/Linux");
}

static bool etc_read_only(struct vfk_fix *f)
{
	_cleanup_close_ int etc = vfk_root_open_dir(f->ctx, VFK_ROOT_TOP, "etc");
	struct statvfs sv;

	return etc >= 0 && fstatvfs(etc, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

int fix_refuse_unsafe(struct vfk_fix *f, char *errbuf, size_t errsize)
{
	if (fix_exists(f, "run/ostree-booted")) {
		snprintf(errbuf, errsize, "this root is an OSTree deployment (Silverblue, CoreOS): "
			 "kernel parameters go through 'rpm-ostree kargs --append=...'; nothing changed");
		return neg_errno(EROFS);
	}
	if (etc_read_only(f)) {
		snprintf(errbuf, errsize, "/etc is on a read-only file system: nothing changed");
		return neg_errno(EROFS);
	}
	if (uses_uki(f) && secure_boot_on(f)) {
		snprintf(errbuf, errsize, "Secure Boot is on and the kernels are unified kernel images: "
			 "their command line is inside the signed image, which vfiokit cannot sign "
			 "again; nothing changed (add the parameters where your UKIs are built and signed)");
		return neg_errno(EPERM);
	}
	if (uses_uki(f))
		strv_addf(&f->notes, "the kernels are unified kernel images: the new /etc/kernel/cmdline "
			  "reaches them when they are built again (kernel-install add, or your UKI tool)");
	return 0;
}
