/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-pci before the native drivers, for the GPU named with --gpu: its ids
 * go to vfio-pci (the kernel command line has vfio-pci.ids= from loader.c;
 * modprobe.d says the same for when vfio-pci loads as a module), a softdep
 * makes each native driver's module load vfio-pci first, and the
 * initramfs, which loads the native driver before the root is mounted,
 * gets vfio-pci and the modprobe.d file, rebuilt with the distribution's
 * tool: update-initramfs (initramfs-tools), dracut, or mkinitcpio.
 */
#include <stdio.h>

#include "fix/fix.h"

#define MODPROBE_FILE	"etc/modprobe.d/vfiokit.conf"

static const char *const vfio_modules[] = { "vfio_pci", "vfio", "vfio_iommu_type1", NULL };

/* The module of a driver ("bochs-drm" is in "bochs"); NULL when built in. */
static bool driver_module(struct vfk_fix *f, const char *drv, char *buf, size_t size)
{
	_cleanup_close_ int sys = vfk_root_open_dir(f->ctx, VFK_ROOT_SYS, NULL);
	char rel[256];

	snprintf(rel, sizeof(rel), "bus/pci/drivers/%s/module", drv);
	return sys >= 0 && vfk_readlink_base_at(sys, rel, buf, size) > 0;
}

static int modprobe_file(struct vfk_fix *f, const struct fix_gpu *g)
{
	struct sbuf b = { 0 };
	size_t i;
	int r;

	sbuf_add(&b, "# written by vfio-check --fix (vfio-check --revert puts back what was here):\n"
		     "# vfio-pci takes these devices before their native drivers\n");
	sbuf_addf(&b, "options vfio-pci ids=%s\n", g->ids);
	for (i = 0; g->drivers[i]; i++) {
		char mod[64];

		if (driver_module(f, g->drivers[i], mod, sizeof(mod)))
			sbuf_addf(&b, "softdep %s pre: vfio-pci\n", mod);
		else
			strv_addf(&f->notes, "%s is built into the kernel: no softdep can order it "
				  "after vfio-pci; vfio-pci.ids= on the command line claims the "
				  "devices first only if vfio-pci is built in too", g->drivers[i]);
	}
	r = b.s ? fix_set(f, MODPROBE_FILE, b.s) : neg_errno(ENOMEM);
	sbuf_free(&b);
	return r;
}

/* initramfs-tools: one module a line in /etc/initramfs-tools/modules. */
static int initramfs_tools(struct vfk_fix *f)
{
	_cleanup_free_ char *text = NULL;
	struct sbuf b = { 0 };
	size_t i;
	int r = fix_text(f, "etc/initramfs-tools/modules", &text);

	if (r < 0 && r != -ENOENT)
		return r;
	sbuf_add(&b, text ? text : "");
	if (b.len && b.s[b.len - 1] != '\n')
		sbuf_add(&b, "\n");
	for (i = 0; vfio_modules[i]; i++) {
		char line[64];

		snprintf(line, sizeof(line), "\n%s\n", vfio_modules[i]);
		if (!(text && (strstr(text, line) || startswith(text, line + 1))))
			sbuf_addf(&b, "%s\n", vfio_modules[i]);
	}
	r = b.s ? fix_set(f, "etc/initramfs-tools/modules", b.s) : neg_errno(ENOMEM);
	sbuf_free(&b);
	f->initramfs = "update-initramfs";
	return r;
}

static int dracut(struct vfk_fix *f)
{
	int r = fix_set(f, "etc/dracut.conf.d/vfiokit.conf",
			"# written by vfio-check --fix: vfio-pci in the initramfs, before the "
			"native drivers\nforce_drivers+=\" vfio_pci vfio vfio_iommu_type1 \"\n"
			"install_items+=\" /" MODPROBE_FILE " \"\n");

	f->initramfs = "dracut";
	return r;
}

/* mkinitcpio: the vfio modules first in MODULES=(...) of /etc/mkinitcpio.conf
 * (its modconf hook brings /etc/modprobe.d). */
static int mkinitcpio(struct vfk_fix *f)
{
	_cleanup_free_ char *text = NULL;
	struct sbuf b = { 0 };
	const char *line = NULL, *s, *open, *close;
	size_t i;
	int r = fix_text(f, "etc/mkinitcpio.conf", &text);

	if (r < 0 && r != -ENOENT)
		return r;
	for (s = text ? text : ""; *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : s + strlen(s))
		if (startswith(s, "MODULES=("))
			line = s;
	if (!line) {
		sbuf_add(&b, text ? text : "");
		if (b.len && b.s[b.len - 1] != '\n')
			sbuf_add(&b, "\n");
		sbuf_add(&b, "MODULES=(vfio_pci vfio vfio_iommu_type1)\n");
	} else {
		open = line + strlen("MODULES=(");
		close = strchr(open, ')');
		if (!close || memchr(open, '\n', (size_t)(close - open)))
			return neg_errno(EINVAL);
		sbuf_addn(&b, text, (size_t)(open - text));
		for (i = 0; vfio_modules[i]; i++)
			sbuf_addf(&b, "%s%s", i ? " " : "", vfio_modules[i]);
		/* the rest, without the vfio modules it may hold already */
		for (s = open; s < close;) {
			size_t n = strcspn(s, " \t)");
			bool vfio = false;

			for (i = 0; vfio_modules[i]; i++)
				vfio |= n == strlen(vfio_modules[i]) && !strncmp(s, vfio_modules[i], n);
			if (n && !vfio)
				sbuf_addf(&b, " %.*s", (int)n, s);
			s += n ? n : 1;
		}
		sbuf_add(&b, close);
	}
	r = b.s ? fix_set(f, "etc/mkinitcpio.conf", b.s) : neg_errno(ENOMEM);
	sbuf_free(&b);
	f->initramfs = "mkinitcpio";
	return r;
}

static bool have(struct vfk_fix *f, const char *tool)
{
	char a[64], b[64];

	snprintf(a, sizeof(a), "usr/sbin/%s", tool);
	snprintf(b, sizeof(b), "usr/bin/%s", tool);
	return fix_exists(f, a) || fix_exists(f, b);
}

/* The initramfs is rebuilt when its inputs changed: the modprobe.d file
 * (in it too) or the tool's own list. */
int fix_early_vfio(struct vfk_fix *f, const struct fix_gpu *g)
{
	int changed = modprobe_file(f, g), r;

	if (changed < 0)
		return changed;
	if (have(f, "update-initramfs"))
		r = initramfs_tools(f);
	else if (have(f, "dracut"))
		r = dracut(f);
	else if (have(f, "mkinitcpio"))
		r = mkinitcpio(f);
	else {
		strv_addf(&f->notes, "no initramfs tool found (update-initramfs, dracut, "
			  "mkinitcpio): vfio-pci gets the devices only if their native drivers "
			  "load after the root is mounted");
		return 0;
	}
	if (r < 0 || !(r || changed))
		return r;
	if (streq(f->initramfs, "update-initramfs"))
		return fix_command(f, "update-initramfs", "-u", "-k", "all", NULL);
	if (streq(f->initramfs, "dracut"))
		return fix_command(f, "dracut", "-f", "--regenerate-all", NULL);
	return fix_command(f, "mkinitcpio", "-P", NULL);
}
