// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Installing Windows (issue 26, point 2): Windows Setup has no virtio driver,
 * so with a virtio disk or NIC and [disk.installer] the plan attaches the
 * virtio-win ISO as a second CD-ROM ([vm] drivers, else where distributions
 * put it), or says what Setup will do without it and what to do about it.
 * Plans on the fixture host `ready`, the ISO planted in a private copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vmtest.h"

#define WIN "[vm]\nname = win\nos = windows\nmemory = 4G\n[gpu]\nmode = none\n" \
	    "[disk]\npath = /img/win.qcow2\nbus = virtio\n"
#define INSTALLER "[disk.installer]\npath = /img/Win11.iso\n"
#define ISO "/usr/share/virtio-win/virtio-win.iso"

/* Plan @ini on a copy of `ready` with a file at the absolute path @file (the
 * virtio-win ISO, a disk, a directory's placeholder; NULL: none). */
static int plan_with(struct vmenv *e, const char *file, const char *ini)
{
	char *root = fixture_host("ready");
	int r = -1;

	if (root && (!file || put_file(root, file + 1, "CD001")))
		r = vm_plan_root(e, root, ini);
	free(root);
	return r;
}

TEST(install_windows_attaches_virtio_win_iso, "os = windows, a virtio disk and "
     "[disk.installer]: the ISO at /usr/share/virtio-win goes in as a third disk, a read-only "
     "SATA CD-ROM (sdb) in the XML and the QEMU argv, and the plan says where Setup loads the "
     "drivers from")
{
	struct vmenv e;
	xmlDocPtr doc;
	char *xml, **argv;

	REQUIRE(plan_with(&e, ISO, WIN INSTALLER) == 0);
	CHECK(vm_note(&e, "the virtio-win ISO " ISO " goes in as a second CD-ROM (sdb) while "
			  "[disk.installer] is there; in Setup, 'Load driver' from it: viostor"));
	xml = vm_xml(&e);
	REQUIRE(xml);
	doc = xparse(xml);
	REQUIRE(doc);
	CHECK_INT(xcount(doc, "/domain/devices/disk"), 3);
	CHECK_XSTR(doc, "/domain/devices/disk[source/@file='" ISO "']/@device", "cdrom");
	CHECK_XSTR(doc, "/domain/devices/disk[source/@file='" ISO "']/target/@bus", "sata");
	CHECK_XSTR(doc, "/domain/devices/disk[source/@file='" ISO "']/target/@dev", "sdb");
	CHECK_INT(xcount(doc, "/domain/devices/disk[source/@file='" ISO "']/readonly"), 1);
	CHECK(xml_validates(xml, "the domain with the driver ISO"));
	xmlFreeDoc(doc);
	free(xml);
	argv = vm_argv(&e);
	REQUIRE(argv);
	CHECK(argv_find(argv, "-drive", "file=" ISO ",if=none") >= 0);
	CHECK(argv_find(argv, "-drive", "media=cdrom") >= 0);
	CHECK_INT(argv_count(argv, "-device", "ide-cd,"), 2);
	vfk_argv_free(argv);
	vm_close(&e);
}

TEST(install_windows_without_iso_says_setup_finds_no_drive, "no virtio-win ISO anywhere: "
     "nothing extra attached, and the plan says Setup will find no drive, names the disk and "
     "the NIC it has no driver for, and both ways out ([vm] drivers, bus = sata)")
{
	struct vmenv e;
	char *xml;

	REQUIRE(plan_with(&e, NULL, WIN INSTALLER) == 0);
	CHECK(vm_note(&e, "Windows Setup has no driver for the disk /img/win.qcow2 on bus = virtio "
			  "and network 0 (virtio): it will find no drive to install to"));
	CHECK(vm_note(&e, "with [vm] drivers = PATH, or install with [disk] bus = sata"));
	xml = vm_xml(&e);
	REQUIRE(xml);
	CHECK(!strstr(xml, "virtio-win"));
	free(xml);
	vm_close(&e);
}

TEST(install_drivers_key_wins_and_a_missing_one_is_said, "[vm] drivers = /isos/vw.iso is "
     "attached instead of the usual path; one that does not exist is still attached and the "
     "plan says it does not exist (yet)")
{
	struct vmenv e;
	char *xml;

	REQUIRE(plan_with(&e, ISO, "[vm]\nname = win\nos = windows\nmemory = 4G\ndrivers = "
			  "/isos/vw.iso\n[gpu]\nmode = none\n[disk]\npath = /img/win.qcow2\nbus = "
			  "virtio\n" INSTALLER) == 0);
	CHECK(vm_note(&e, "[vm] drivers: /isos/vw.iso does not exist (yet)"));
	xml = vm_xml(&e);
	REQUIRE(xml);
	CHECK(strstr(xml, "file=\"/isos/vw.iso\"") != NULL);
	CHECK(!strstr(xml, ISO));
	free(xml);
	vm_close(&e);
}

TEST(install_no_iso_when_nothing_needs_it, "nothing attached and no note: without "
     "[disk.installer] (installed), with a SATA disk and an e1000e NIC, and for os = linux")
{
	static const char *const inis[] = {
		WIN,
		"[vm]\nname = win\nos = windows\nmemory = 4G\n[gpu]\nmode = none\n[disk]\npath = "
		"/img/win.qcow2\nbus = sata\n" INSTALLER "[network]\ntype = user\nmodel = e1000e\n",
		"[vm]\nname = lin\nos = linux\nmemory = 4G\n[gpu]\nmode = none\n[disk]\npath = "
		"/img/l.qcow2\nbus = virtio\n" INSTALLER,
	};
	size_t i;

	for (i = 0; i < sizeof(inis) / sizeof(inis[0]); i++) {
		struct vmenv e;
		char *xml;

		REQUIRE(plan_with(&e, ISO, inis[i]) == 0);
		CHECK(!vm_note(&e, "Windows Setup"));
		xml = vm_xml(&e);
		REQUIRE(xml);
		CHECK(!strstr(xml, ISO));
		free(xml);
		vm_close(&e);
	}
}

/* ------------------------------------------------------------ disks made at up */

#define DISK_VM(path, extra) "[vm]\nname = win\nos = windows\nmemory = 4G\n[gpu]\nmode = none\n" \
			     "[disk]\npath = " path "\nbus = virtio\n" extra

TEST(install_missing_disk_is_planned_with_default_or_given_size, "a disk that does not exist: "
     "the plan says up makes it, 128 GiB qcow2 by default for os = windows, [disk] size when "
     "given, and up is not refused; a disk that exists with size = is never resized")
{
	struct vmenv e;

	REQUIRE(plan_with(&e, "/img/.keep", DISK_VM("/img/win.qcow2", "")) == 0);
	/* this machine's /tmp may hold less than the default: then up refuses, saying so */
	if (vfk_plan_get_up_refusal(e.plan))
		CHECK_CONTAINS(vfk_plan_get_up_refusal(e.plan), "disk /img/win.qcow2: 128 GiB wanted, ");
	else
		CHECK(vm_note(&e, "disk /img/win.qcow2 does not exist: up makes it, 128 GiB qcow2 (the "
				  "default for os = windows;"));
	vm_close(&e);
	REQUIRE(plan_with(&e, "/img/.keep", DISK_VM("/img/win.raw", "size = 8G\n")) == 0);
	CHECK(vm_note(&e, "disk /img/win.raw does not exist: up makes it, 8 GiB raw ([disk] size;"));
	vm_close(&e);
	REQUIRE(plan_with(&e, "/img/win.qcow2", DISK_VM("/img/win.qcow2", "size = 8G\n")) == 0);
	CHECK(vm_note(&e, "disk /img/win.qcow2 exists: size = is for a disk vfiokit makes; it never "
			  "resizes or overwrites one"));
	CHECK(!vm_note(&e, "up makes it"));
	vm_close(&e);
}

TEST(install_disk_that_cannot_be_made_refuses_up, "a missing disk whose directory does not "
     "exist, or that would not fit in the free space (16000 GiB), makes up refuse in one "
     "line naming the disk, and the figures; a CD-ROM image is never made")
{
	struct vmenv e;
	const char *why;

	REQUIRE(plan_with(&e, NULL, DISK_VM("/nodir/win.qcow2", "")) == 0);
	why = vfk_plan_get_up_refusal(e.plan);
	CHECK(why && strstr(why, "disk /nodir/win.qcow2 does not exist and cannot be made: its "
			    "directory /nodir: No such file or directory"));
	vm_close(&e);
	REQUIRE(plan_with(&e, "/img/.keep", DISK_VM("/img/win.qcow2", "size = 16000G\n")) == 0);
	why = vfk_plan_get_up_refusal(e.plan);
	CHECK(why && strstr(why, "disk /img/win.qcow2: 16000 GiB wanted, ") &&
	      strstr(why, " free in /img; make room, or set [disk] size = to less"));
	vm_close(&e);
	REQUIRE(plan_with(&e, "/img/.keep", DISK_VM("/img/a.qcow2", "[disk.cd]\npath = /img/x.iso\n")) == 0);
	CHECK(vm_note(&e, "disk /img/x.iso does not exist (yet): a CD-ROM image is never made"));
	vm_close(&e);
}

/* ------------------------------------------------------------ installed */

TEST(install_installed_leaves_installer_and_drivers_out, "[vm] installed = yes: the plan "
     "leaves [disk.installer] and the virtio-win ISO out of the XML and the QEMU argv, the "
     "disk keeps boot order 1, and the plan says so; vfio-vm gen --installed says the same")
{
	struct vmenv e;
	struct tool_run r = { 0 };
	char *xml, **argv, *root, ini[4096];

	REQUIRE(plan_with(&e, ISO, "[vm]\nname = win\nos = windows\nmemory = 4G\ninstalled = yes\n"
			  "[gpu]\nmode = none\n[disk]\npath = /img/win.qcow2\nbus = virtio\n"
			  INSTALLER) == 0);
	CHECK(vm_note(&e, "[vm] installed = yes: [disk.installer] /img/Win11.iso is left out"));
	CHECK(!vm_note(&e, "Windows Setup"));
	xml = vm_xml(&e);
	REQUIRE(xml);
	CHECK(!strstr(xml, "Win11.iso") && !strstr(xml, ISO));
	CHECK(strstr(xml, "<boot order=\"1\"/>") != NULL);
	free(xml);
	argv = vm_argv(&e);
	REQUIRE(argv);
	CHECK_INT(argv_count(argv, "-drive", "file=/img/Win11.iso"), 0);
	CHECK(argv_find(argv, "-device", "bootindex=1") >= 0);
	vfk_argv_free(argv);
	vm_close(&e);

	root = fixture_host("ready");
	REQUIRE(root);
	snprintf(ini, sizeof(ini), "%s/win.ini", root);
	REQUIRE(put_file(root, "win.ini", WIN INSTALLER));
	vfio_vm(&r, "gen", ini, root, "--format", "libvirt", "--installed", NULL);
	CHECK_INT(r.status, 0);
	CHECK(r.out && !strstr(r.out, "Win11.iso"));
	vfio_vm(&r, "gen", ini, root, "--format", "libvirt", NULL);
	CHECK_CONTAINS(r.out, "Win11.iso");
	free(r.out);
	free(r.err);
	free(root);
}
