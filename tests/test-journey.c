// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The first hour, walked on a fixture root (issue 26, point 4): the README's
 * three commands on a Debian desktop with a discrete GPU, the Windows ISO
 * downloaded and the virtio-win package installed, and no file edited by
 * hand: vfio-check --fix --gpu, a reboot (the new kernel line), vfio-vm
 * plan/gen of configs/gaming-passthrough.ini as shipped, the downloaded ISO
 * named with --set.
 * The launch suite (tests/launch/journey.sh) boots the same steps with real
 * QEMU: the disk made, an installer booted from CD, then the installed
 * system from the disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define GPU "0000:01:00.0"
/* the README's: the ISO where the user downloaded it, named on the command line */
#define SETUP "disk.installer.path=/home/ann/Win11.iso"
#define RUNNING "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=6b1e ro quiet splash\n"

/* A Debian desktop: GRUB's defaults, its update tools, the running line; the
 * ISOs where the profile and virtio-win's package put them. */
static char *debian_desktop(void)
{
	static const char iso_pvd[] = "\001CD001\001";
	char *root = fixture_host("desktop-dgpu-igpu");
	const char *isos[] = { "home/ann/Win11.iso",
			       "usr/share/virtio-win/virtio-win.iso" };
	size_t i;

	if (!root || !put_file(root, "proc/cmdline", RUNNING) ||
	    !put_file(root, "etc/default/grub", "GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n"
		      "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nGRUB_CMDLINE_LINUX=\"\"\n") ||
	    !put_file(root, "usr/sbin/update-grub", "#!/bin/sh\n") ||
	    !put_file(root, "usr/sbin/update-initramfs", "#!/bin/sh\n") ||
	    !put_file(root, "etc/initramfs-tools/modules", "# List of modules\n") ||
	    /* libvirt's image directory, there once libvirt is installed */
	    !put_file(root, "var/lib/libvirt/images/.keep", "")) {
		free(root);
		return NULL;
	}
	for (i = 0; i < 2; i++) {
		char path[4096];
		FILE *f;

		put_file(root, isos[i], "");
		snprintf(path, sizeof(path), "%s/%s", root, isos[i]);
		f = fopen(path, "r+");
		if (!f || fseek(f, 32768, SEEK_SET) || fwrite(iso_pvd, 1, 7, f) != 7 ||
		    fseek(f, 34815, SEEK_SET) || fputc(0, f) == EOF) {
			if (f)
				fclose(f);
			free(root);
			return NULL;
		}
		fclose(f);
	}
	return root;
}

/* The GRUB line --fix wrote, as the rebooted kernel's /proc/cmdline. */
static bool reboot(const char *root)
{
	char path[4096], *grub, *q, line[1024];
	bool ok;

	snprintf(path, sizeof(path), "%s/etc/default/grub", root);
	grub = read_file(path);
	q = grub ? strstr(grub, "GRUB_CMDLINE_LINUX_DEFAULT=\"") : NULL;
	if (!q) {
		free(grub);
		return false;
	}
	q += strlen("GRUB_CMDLINE_LINUX_DEFAULT=\"");
	snprintf(line, sizeof(line), "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=6b1e ro "
		 "%.*s\n", (int)strcspn(q, "\""), q);
	ok = put_file(root, "proc/cmdline", line);
	free(grub);
	return ok;
}

TEST(journey_three_commands_and_no_hand_edit_on_a_debian_desktop,
     "vfio-check --fix --gpu writes the kernel line and the card's vfio-pci ids (exit 0); after "
     "the reboot vfio-check's cmdline check passes; plan of the shipped gaming profile says up "
     "makes the missing disk (qcow2, the size given on the command line: 1 GiB, so that any "
     "scratch file system has room), attaches Windows "
     "Setup from where --set names it and the virtio-win ISO; gen's XML has both CD-ROMs, the disk with discard=unmap and "
     "the card; --installed leaves both ISOs out")
{
	char *root = debian_desktop(), *out = NULL, *err = NULL, profile[4096];
	int st;

	REQUIRE(root);
	snprintf(profile, sizeof(profile), "%s/configs/gaming-passthrough.ini", test_srcdir());
	{
		const char *argv[] = { "vfio-check", "--sysroot", root, "--fix", "--gpu", GPU, NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "Done: 3 files changed");
	free(out);
	free(err);
	REQUIRE(reboot(root));
	{
		const char *argv[] = { "vfio-check", "--sysroot", root, "--json", NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_CONTAINS(out, "\"detail\": \"intel_iommu=on iommu=pt set\"");
	free(out);
	free(err);
	{
		const char *argv[] = { "vfio-vm", "plan", profile, "--sysroot", root, "--set",
				       "disk.size=1G", "--set", SETUP, NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "disk /var/lib/libvirt/images/win11.qcow2 does not exist: up makes it, "
		       "1 GiB qcow2");
	CHECK_CONTAINS(out, "/usr/share/virtio-win/virtio-win.iso");
	free(out);
	free(err);
	{
		const char *argv[] = { "vfio-vm", "gen", profile, "--sysroot", root, "--format",
				       "libvirt", "--set", "disk.size=1G", "--set", SETUP, NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "<source file=\"/home/ann/Win11.iso\"/>");
	CHECK_CONTAINS(out, "<source file=\"/usr/share/virtio-win/virtio-win.iso\"/>");
	CHECK_CONTAINS(out, "discard=\"unmap\"");
	CHECK_CONTAINS(out, "<source file=\"/var/lib/libvirt/images/win11.qcow2\"/>");
	CHECK_CONTAINS(out, "<address domain=\"0x0000\" bus=\"0x01\" slot=\"0x00\" function=\"0x0\"/>");
	free(out);
	free(err);
	{
		const char *argv[] = { "vfio-vm", "gen", profile, "--sysroot", root, "--format",
				       "libvirt", "--set", "disk.size=1G", "--set", SETUP, "--installed",
				       NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 0);
	CHECK(out && !strstr(out, ".iso"));
	CHECK_CONTAINS(out, "<source file=\"/var/lib/libvirt/images/win11.qcow2\"/>");
	free(out);
	free(err);
	free(root);
}
