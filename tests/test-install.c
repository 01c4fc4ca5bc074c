// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Installing Windows (issue 26, point 2): Windows Setup has no virtio driver,
 * so with a virtio disk or NIC and [disk.installer] the plan attaches the
 * virtio-win ISO as a second CD-ROM ([vm] drivers, else where distributions
 * put it), or says what Setup will do without it and what to do about it.
 * Plans on the fixture host `ready`, the ISO planted in a private copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "vmtest.h"

#define WIN "[vm]\nname = win\nos = windows\nmemory = 4G\n[gpu]\nmode = none\n" \
	    "[disk]\npath = /img/win.qcow2\nbus = virtio\n"
#define INSTALLER "[disk.installer]\npath = /img/Win11.iso\n"
#define ISO "/usr/share/virtio-win/virtio-win.iso"

/* @len bytes of @data at @off into the file ROOT/REL, which is at least
 * @size bytes long after. */
static bool poke_to(const char *root, const char *rel, off_t off, const void *data, size_t len,
		    off_t size)
{
	char path[4096];
	struct stat st;
	bool ok;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ok = fd >= 0 && pwrite(fd, data, len, off) == (ssize_t)len && fstat(fd, &st) == 0 &&
	     (st.st_size >= size || ftruncate(fd, size) == 0);
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool poke(const char *root, const char *rel, off_t off, const void *data, size_t len)
{
	return poke_to(root, rel, off, data, len, 0);
}

/* ROOT/REL made anew, @size bytes: zeros but @len bytes of @data at @off. */
static bool put_blob(const char *root, const char *rel, off_t off, const void *data, size_t len,
		     off_t size)
{
	return put_file(root, rel, "") && poke_to(root, rel, off, data, len, size);
}

/* The smallest ISO 9660 image the plan takes: a primary volume descriptor
 * ("\1CD001\1") at 32 KiB, 2 KiB long. */
static bool put_iso(const char *root, const char *rel)
{
	return put_blob(root, rel, 32768, "\001CD001\001", 7, 34816);
}

/* Plan @ini on a copy of `ready` with a file at the absolute path @file (the
 * virtio-win ISO, a disk, a directory's placeholder; NULL: none): an ISO
 * image when its name ends in .iso, else empty. */
static int plan_with(struct vmenv *e, const char *file, const char *ini)
{
	char *root = fixture_host("ready");
	int r = -1;

	if (root && (!file || (strstr(file, ".iso") ? put_iso(root, file + 1)
						     : put_file(root, file + 1, ""))))
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

#define VDA_DRIVER "/domain/devices/disk[target/@dev='vda']/driver"

TEST(install_made_disk_has_discard_and_ssd_cache, "a disk up makes is a sparse image: "
     "discard=unmap gives back what the guest frees, and the default cache = none reads and "
     "writes it directly (io=native) in the XML and the QEMU argv; cache = writeback keeps "
     "discard and leaves io to QEMU's threads")
{
	static const struct { const char *extra, *cache, *io, *drive; } cases[] = {
		{ "", "none", "native", "format=qcow2,cache=none,aio=native,discard=unmap" },
		{ "cache = writeback\n", "writeback", NULL,
		  "format=qcow2,cache=writeback,discard=unmap" },
	};
	char ini[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmenv e;
		xmlDocPtr doc;
		char *xml, **argv;

		snprintf(ini, sizeof(ini), DISK_VM("/img/win.qcow2", "size = 64M\n%s"),
			 cases[i].extra);
		REQUIRE(plan_with(&e, "/img/.keep", ini) == 0);
		REQUIRE(vm_note(&e, "disk /img/win.qcow2 does not exist: up makes it, 64 MiB qcow2"));
		xml = vm_xml(&e);
		REQUIRE(xml);
		doc = xparse(xml);
		REQUIRE(doc);
		CHECK_XSTR(doc, VDA_DRIVER "/@cache", cases[i].cache);
		if (cases[i].io)
			CHECK_XSTR(doc, VDA_DRIVER "/@io", cases[i].io);
		else
			CHECK_INT(xcount(doc, VDA_DRIVER "/@io"), 0);
		CHECK_XSTR(doc, VDA_DRIVER "/@discard", "unmap");
		xmlFreeDoc(doc);
		free(xml);
		argv = vm_argv(&e);
		REQUIRE(argv);
		CHECK(argv_find(argv, "-drive", cases[i].drive) >= 0);
		CHECK_INT(argv_count(argv, "-drive", "file=/img/win.qcow2,if=none,id=drive-vda,"), 1);
		vfk_argv_free(argv);
		vm_close(&e);
	}
}

/* The write hook of the next test: the disk's action is kept in @seen; it
 * plants a file of its own at that path (one appearing since the plan), or
 * fails with -EROFS. */
struct disk_hook {
	char seen[512];
	bool plant;
};

static int disk_hook(void *data, const char *path, const char *value)
{
	struct disk_hook *h = data;
	FILE *f;

	if (!strstr(path, "/img/win.qcow2"))
		return 0;
	snprintf(h->seen, sizeof(h->seen), "%s", value);
	if (!h->plant)
		return -EROFS;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs("mine", f);
	fclose(f);
	return 0;
}

TEST(install_made_disk_never_overwrites_and_goes_through_the_hook, "up on either backend: "
     "the write hook sees the disk it makes (qemu-img, or a libvirt storage volume); a file "
     "that appeared there since the plan is left as it is and up stops in one line; a hook "
     "that fails the action stops up the same way; neither makes a VM record")
{
	static const struct { enum vfk_backend b; const char *action; } backends[] = {
		{ VFK_BACKEND_QEMU, "(qemu-img create -f qcow2, 64M)" },
		{ VFK_BACKEND_LIBVIRT, "(libvirt storage volume, qcow2, 64M)" },
	};
	size_t i, k;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		for (k = 0; k < 2; k++) {
			struct vfk_vm_options o = { .backend = backends[i].b, .unwatched = true,
						    .uri = "qemu:///system" };
			struct disk_hook h = { .plant = k == 0 };
			struct vmenv e;
			char err[512] = "", *text;
			int r;

			REQUIRE(plan_with(&e, "/img/.keep",
					  DISK_VM("/img/win.qcow2", "size = 64M\n")) == 0);
			vfk_ctx_set_write_hook(e.ctx, disk_hook, &h);
			r = vfk_vm_up(e.plan, &o, err, sizeof(err));
			CHECK_STREQ(h.seen, backends[i].action);
			CHECK(strchr(err, '\n') == NULL);
			if (h.plant) {
				CHECK_INT(r, -EEXIST);
				CHECK_CONTAINS(err, "disk /img/win.qcow2: File exists (it appeared "
					       "since the plan; nothing overwritten)");
				snprintf(err, sizeof(err), "%s/img/win.qcow2", e.root);
				text = read_file(err);
				CHECK_STREQ(text, "mine");
				free(text);
			} else {
				CHECK_INT(r, -EROFS);
				CHECK_STREQ(err, "disk /img/win.qcow2: Read-only file system");
				CHECK(!path_exists(e.root, "img/win.qcow2"));
			}
			CHECK(!path_exists(e.root, "run/vfiokit/vms/win"));
			vm_close(&e);
		}
}

/* ------------------------------------------------------- installation media */

#define UDF_VM "[vm]\nname = win\nos = windows\nmemory = 4G\ndrivers = /isos/vw.iso\n" \
	       "[gpu]\nmode = none\n[disk]\npath = /img/win.qcow2\nsize = 64M\nbus = virtio\n" \
	       INSTALLER

TEST(install_media_that_is_no_cd_image_refuses_up, "[disk.installer] or [vm] drivers that "
     "is no ISO 9660 or UDF image (a short file, a qcow2 image, zeros where the volume "
     "descriptor belongs) makes up refuse in one line naming the file and what it is; nothing "
     "is made, no VM record; a UDF-only image and an ISO 9660 one are taken")
{
	static const struct {
		const char *file;	/* the one that is not an image */
		const void *data;
		size_t off, len, size;
		const char *says;
	} cases[] = {
		{ "img/Win11.iso", "hello", 0, 5, 5, "[disk.installer] /img/Win11.iso is not an "
		  "ISO 9660 or UDF image: it is 5 bytes long, and an ISO's first volume "
		  "descriptor ends at 34 KiB" },
		{ "img/Win11.iso", "QFI\xfb\0\0\0\3", 0, 8, 65536, "[disk.installer] "
		  "/img/Win11.iso is not an ISO 9660 or UDF image: it is a qcow2 disk image" },
		{ "isos/vw.iso", "", 0, 0, 65536, "[vm] drivers /isos/vw.iso is not an ISO 9660 "
		  "or UDF image: no ISO 9660 or UDF volume descriptor at 32 KiB" },
		{ "img/Win11.iso", NULL, 0, 0, 0, NULL },	/* both images */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vfk_vm_options o = { .backend = VFK_BACKEND_QEMU, .unwatched = true };
		char *root = fixture_host("ready"), err[512] = "";
		struct vmenv e;
		const char *why;

		REQUIRE(root);
		REQUIRE(put_iso(root, "isos/vw.iso"));
		/* UDF alone: BEA01, then NSR03 in the next descriptor */
		REQUIRE(put_blob(root, "img/Win11.iso", 32768, "\0BEA01\1", 7, 65536));
		REQUIRE(poke(root, "img/Win11.iso", 34816, "\0NSR03\1", 7));
		if (cases[i].data)
			REQUIRE(put_blob(root, cases[i].file, (off_t)cases[i].off, cases[i].data,
					 cases[i].len, (off_t)cases[i].size));
		REQUIRE(vm_plan_root(&e, root, UDF_VM) == 0);
		why = vfk_plan_get_up_refusal(e.plan);
		if (!cases[i].says) {
			CHECK(why == NULL);
			CHECK(vm_note(&e, "the virtio-win ISO /isos/vw.iso goes in as a second CD-ROM"));
			vm_close(&e);
			free(root);
			continue;
		}
		CHECK_STREQ(why, cases[i].says);
		CHECK(vfk_vm_up(e.plan, &o, err, sizeof(err)) < 0);
		CHECK_STREQ(err, cases[i].says);
		CHECK(!path_exists(root, "img/win.qcow2"));
		CHECK(!path_exists(root, "run/vfiokit/vms/win"));
		vm_close(&e);
		free(root);
	}
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
