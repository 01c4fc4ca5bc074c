/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The [vfio] backend (issue 20, point 1): groups or iommufd, chosen from what
 * the kernel offers (/dev/iommu; a device's VFIO cdev, else the kernel's
 * configuration) and what the emulator answers when asked over QMP; written
 * as -object iommufd + vfio-pci iommufd= for QEMU and <driver iommufd='yes'/>
 * for libvirt. The emulator here is a small QMP speaker that answers as a
 * QEMU with or without iommufd would; the real QEMU 10 does it in the
 * real-kernel scenario 70-iommufd.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "vmtest.h"

#define HOST "hostdev-desk"
#define VM "[vm]\nname = desk\nmemory = 8G\nvcpus = 2\n"
#define GPU "[gpu]\ndevice = 01:00.0\n"

/* A private hostdev-desk whose kernel offers iommufd: /dev/iommu, and its
 * configuration says CONFIG_VFIO_DEVICE_CDEV=y (nothing is on VFIO yet). */
static char *iommufd_host(bool cdev_config)
{
	char *root = fixture_host(HOST), rel[256], path[4096], *release;
	bool ok;

	if (!root)
		return NULL;
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/osrelease", root);
	release = read_file(path);
	if (!release) {
		free(root);
		return NULL;
	}
	release[strcspn(release, "\n")] = '\0';
	snprintf(rel, sizeof(rel), "boot/config-%s", release);
	free(release);
	ok = put_file(root, "dev/iommu", "") &&
	     put_file(root, rel, cdev_config ? "CONFIG_IOMMUFD=m\nCONFIG_VFIO_DEVICE_CDEV=y\n"
					     : "CONFIG_IOMMUFD=m\n# CONFIG_VFIO_DEVICE_CDEV is not set\n");
	if (!ok) {
		free(root);
		return NULL;
	}
	return root;
}

static int ask(struct vmenv *e, enum vfk_backend b)
{
	struct vfk_vm_options o = { .backend = b };

	return vfk_plan_ask_vmm(e->plan, &o, e->err, sizeof(e->err));
}

TEST(iommufd_profile_key_takes_auto_group_or_iommufd_only, "[vfio] backend = auto, group and "
     "iommufd are read; anything else is one line naming the values")
{
	struct vmenv e;

	CHECK_INT(vm_plan(&e, HOST, VM GPU "[vfio]\nbackend = group\n"), 0);
	CHECK_STREQ(vfk_plan_get_vfio_backend(e.plan), "group");
	CHECK_STREQ(vfk_plan_get_vfio_reason(e.plan), "[vfio] backend = group");
	vm_close(&e);
	CHECK_INT(vm_plan(&e, HOST, VM GPU "[vfio]\nbackend = cdev\n"), -EINVAL);
	CHECK_CONTAINS(e.err, "auto, group, iommufd");
	CHECK(strchr(e.err, '\n') == NULL);
	vm_close(&e);
	/* nothing through VFIO: no backend at all */
	CHECK_INT(vm_plan(&e, HOST, VM "[gpu]\nmode = virtio\n"), 0);
	CHECK(vfk_plan_get_vfio_backend(e.plan) == NULL);
	vm_close(&e);
}

TEST(iommufd_auto_stays_on_groups_when_the_kernel_cannot, "auto without /dev/iommu, or with it "
     "but a kernel configured without CONFIG_VFIO_DEVICE_CDEV: groups, the reason named, the "
     "emulator not asked; an explicit iommufd there is refused in one line")
{
	char *root = iommufd_host(false);
	struct vmenv e;

	CHECK_INT(vm_plan(&e, HOST, VM GPU), 0);
	CHECK_STREQ(vfk_plan_get_vfio_backend(e.plan), "group");
	CHECK_CONTAINS(vfk_plan_get_vfio_reason(e.plan), "no /dev/iommu");
	CHECK_INT(ask(&e, VFK_BACKEND_QEMU), 0);	/* asks nothing: no QEMU needed */
	CHECK_STREQ(vfk_plan_get_vfio_backend(e.plan), "group");
	vm_close(&e);
	CHECK_INT(vm_plan(&e, HOST, VM GPU "[vfio]\nbackend = iommufd\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "[vfio] backend = iommufd: the host has no /dev/iommu");
	vm_close(&e);

	REQUIRE(root != NULL);
	CHECK_INT(vm_plan_root(&e, root, VM GPU), 0);
	CHECK_STREQ(vfk_plan_get_vfio_backend(e.plan), "group");
	CHECK_CONTAINS(vfk_plan_get_vfio_reason(e.plan), "does not enable CONFIG_VFIO_DEVICE_CDEV");
	vm_close(&e);
	CHECK_INT(vm_plan_root(&e, root, VM GPU "[vfio]\nbackend = iommufd\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "CONFIG_VFIO_DEVICE_CDEV");
	vm_close(&e);
	free(root);
}

TEST(iommufd_auto_follows_what_qemu_answers_over_qmp, "kernel ready: auto is groups until QEMU "
     "is asked; a QEMU with the iommufd QOM type and vfio-pci property moves it to iommufd (argv: "
     "-object iommufd,id=iommufd0 and iommufd=iommufd0 on every vfio-pci; XML: <driver "
     "iommufd='yes'/> on every hostdev); one without keeps groups and says so")
{
	char *root = iommufd_host(true), *yes = fake_qemu_iommufd(true);
	char *no = fake_qemu_iommufd(false);
	char ini[1024], **argv;
	struct vmenv e;
	xmlDocPtr doc;
	char *xml;

	REQUIRE(root && yes && no);
	snprintf(ini, sizeof(ini), VM "emulator = %s\n" GPU, yes);
	CHECK_INT(vm_plan_root(&e, root, ini), 0);
	CHECK_STREQ(vfk_plan_get_vfio_backend(e.plan), "group");
	CHECK_CONTAINS(vfk_plan_get_vfio_reason(e.plan), "until the emulator is asked");
	CHECK_CONTAINS(vfk_plan_get_vfio_reason(e.plan), "has CONFIG_VFIO_DEVICE_CDEV=y");
	CHECK_INT(ask(&e, VFK_BACKEND_QEMU), 0);
	CHECK_STREQ(vfk_plan_get_vfio_backend(e.plan), "iommufd");
	CHECK_CONTAINS(vfk_plan_get_vfio_reason(e.plan), "QEMU 10.0.2");
	CHECK_CONTAINS(vfk_plan_get_vfio_reason(e.plan), "iommufd object and vfio-pci's iommufd property");
	CHECK(vm_note(&e, "locked memory with iommufd") != NULL);
	argv = vm_argv(&e);
	REQUIRE(argv != NULL);
	CHECK_INT(argv_count(argv, "-object", "iommufd,id=iommufd0"), 1);
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:01:00.0,iommufd=iommufd0,") >= 0);
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:01:00.1,iommufd=iommufd0,") >= 0);
	CHECK(argv_find(argv, "-object", "iommufd,id=iommufd0") <
	      argv_find(argv, "-device", "vfio-pci,host=0000:01:00.0"));
	vfk_argv_free(argv);
	xml = vm_xml(&e);
	REQUIRE(xml != NULL);
	/* not validated: Debian 12's libvirt schema (9.0) predates iommufd='yes' */
	doc = xparse(xml);
	CHECK_INT(xcount(doc, "//hostdev"), 2);
	CHECK_INT(xcount(doc, "//hostdev/driver[@iommufd='yes']"), 2);
	xmlFreeDoc(doc);
	free(xml);
	vm_close(&e);

	snprintf(ini, sizeof(ini), VM "emulator = %s\n" GPU, no);
	CHECK_INT(vm_plan_root(&e, root, ini), 0);
	CHECK_INT(ask(&e, VFK_BACKEND_QEMU), 0);
	CHECK_STREQ(vfk_plan_get_vfio_backend(e.plan), "group");
	CHECK_CONTAINS(vfk_plan_get_vfio_reason(e.plan), "QEMU 8.1.2");
	CHECK_CONTAINS(vfk_plan_get_vfio_reason(e.plan), "has no iommufd object type");
	argv = vm_argv(&e);
	REQUIRE(argv != NULL);
	CHECK_INT(argv_count(argv, "-object", "iommufd"), 0);
	CHECK_INT(argv_find(argv, "-device", "iommufd="), -1);
	vfk_argv_free(argv);
	vm_close(&e);
	free(root);
	free(yes);
	free(no);
}

TEST(iommufd_explicit_backend_refused_when_the_emulator_cannot, "backend = iommufd with a QEMU "
     "without it, or a program that is no QEMU at all: vfk_plan_ask_vmm() is -ENODEV with one "
     "line naming the emulator; vfio-vm plan exits 1 with that line")
{
	char *root = iommufd_host(true), *no = fake_qemu_iommufd(false), *prof;
	char ini[1024];
	struct tool_run r = { 0 };
	struct vmenv e;

	REQUIRE(root && no);
	snprintf(ini, sizeof(ini), VM "emulator = %s\n" GPU "[vfio]\nbackend = iommufd\n", no);
	CHECK_INT(vm_plan_root(&e, root, ini), 0);
	CHECK_INT(ask(&e, VFK_BACKEND_QEMU), -ENODEV);
	CHECK_CONTAINS(e.err, "[vfio] backend = iommufd: QEMU 8.1.2");
	CHECK(strchr(e.err, '\n') == NULL);
	vm_close(&e);
	snprintf(ini, sizeof(ini), VM "emulator = /bin/true\n" GPU "[vfio]\nbackend = iommufd\n");
	CHECK_INT(vm_plan_root(&e, root, ini), 0);
	CHECK_INT(ask(&e, VFK_BACKEND_QEMU), -ENODEV);
	CHECK_CONTAINS(e.err, "/bin/true did not answer over QMP");
	vm_close(&e);

	prof = write_temp("desk.ini", ini);
	REQUIRE(prof != NULL);
	vfio_vm(&r, "gen", prof, root, "--format", "qemu", NULL);
	check_one_line(&r, 1, "/bin/true did not answer over QMP");
	free(r.out);
	free(r.err);
	free(prof);
	free(root);
	free(no);
}

TEST(iommufd_cdev_support_read_from_a_device_on_vfio_before_the_kernel_config,
     "vfk_host_vfio_cdev_support: a device on vfio-pci with vfio-dev/vfioN/dev says yes, one "
     "with vfio-dev but no dev attribute says no; none on VFIO: the loaded vfio module's "
     "vfio-dev chrdev region in proc/devices says; nothing loaded and no config: -ENOENT")
{
	char *root = fixture_host("igpu-dgpu-vfio"), why[256];
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	char addr[16] = "";
	size_t i;

	REQUIRE(root != NULL);
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	for (i = 0; i < vfk_host_device_count(host) && !addr[0]; i++)
		if (vfk_device_get_driver(vfk_host_device(host, i)) &&
		    !strcmp(vfk_device_get_driver(vfk_host_device(host, i)), "vfio-pci"))
			snprintf(addr, sizeof(addr), "%s", vfk_device_get_address(vfk_host_device(host, i)));
	REQUIRE(addr[0] != '\0');
	CHECK_INT(vfk_host_vfio_cdev_support(host, why, sizeof(why)), 0);
	CHECK_CONTAINS(why, "has no vfio-dev");
	vfk_host_unref(host);

	snprintf(why, sizeof(why), "sys/bus/pci/devices/%s/vfio-dev/vfio0/uevent", addr);
	REQUIRE(put_file(root, why, ""));
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	CHECK_INT(vfk_host_vfio_cdev_support(host, why, sizeof(why)), 0);
	CHECK_CONTAINS(why, "without CONFIG_VFIO_DEVICE_CDEV");
	{
		struct vfk_device *d = NULL;

		REQUIRE(vfk_host_find_device(host, addr, &d) == 0);
		CHECK(vfk_device_get_vfio_cdev(d) == NULL);
	}
	vfk_host_unref(host);

	snprintf(why, sizeof(why), "sys/bus/pci/devices/%s/vfio-dev/vfio0/dev", addr);
	REQUIRE(put_file(root, why, "511:0\n"));
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	CHECK_INT(vfk_host_vfio_cdev_support(host, why, sizeof(why)), 1);
	CHECK_CONTAINS(why, "has the cdev vfio0");
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
	free(root);

	root = fixture_host(HOST);
	REQUIRE(root != NULL);
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	CHECK_INT(vfk_host_vfio_cdev_support(host, why, sizeof(why)), -ENOENT);
	CHECK_CONTAINS(why, "no device is on a VFIO driver yet");
	vfk_host_unref(host);
	/* the vfio module loaded: its chrdev region says, before any bind */
	REQUIRE(put_file(root, "sys/module/vfio/refcnt", "0\n"));
	REQUIRE(put_file(root, "proc/devices", "Character devices:\n  1 mem\n510 vfio\n"));
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	CHECK_INT(vfk_host_vfio_cdev_support(host, why, sizeof(why)), 0);
	CHECK_CONTAINS(why, "loaded without cdevs");
	vfk_host_unref(host);
	REQUIRE(put_file(root, "proc/devices", "Character devices:\n  1 mem\n510 vfio\n511 vfio-dev\n"
			 "\nBlock devices:\n  8 sd\n"));
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	CHECK_INT(vfk_host_vfio_cdev_support(host, why, sizeof(why)), 1);
	CHECK_CONTAINS(why, "vfio-dev in proc/devices");
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
	free(root);
}

TEST(iommufd_vfio_check_reports_kernel_and_asks_qemu_only_when_the_kernel_can,
     "vfio-check: without /dev/iommu the VFIO backend section says groups and asks no emulator; "
     "with /dev/iommu and CONFIG_VFIO_DEVICE_CDEV=y it asks this machine's QEMU (Debian 12's "
     "7.2: no iommufd object type); --json carries the same under vfio_backend")
{
	char *root = iommufd_host(true), *plain = fixture_host(HOST);
	struct tool_run r = { 0 };
	json_object *j, *b, *k, *v;

	REQUIRE(root && plain);
	r.status = run_tool(&r.out, &r.err, (const char *const[]){ "vfio-check", "--sysroot", plain, NULL });
	CHECK_CONTAINS(r.out, "\nVFIO backend: groups (/dev/vfio/N); iommufd is not possible here\n"
		       "  kernel   no       no /dev/iommu");
	CHECK_CONTAINS(r.out, "  QEMU     unknown  not asked: the kernel cannot\n");
	free(r.out);
	free(r.err);
	r.status = run_tool(&r.out, &r.err, (const char *const[]){ "vfio-check", "--sysroot", root, NULL });
	CHECK_CONTAINS(r.out, "  kernel   yes      boot/config-");
	CHECK_CONTAINS(r.out, "  QEMU     no       QEMU 7.2.");
	CHECK_CONTAINS(r.out, "has no iommufd object type (QOM)\n");
	free(r.out);
	free(r.err);
	r.status = run_tool(&r.out, &r.err,
			    (const char *const[]){ "vfio-check", "--sysroot", root, "--json", NULL });
	j = json_tokener_parse(r.out ? r.out : "");
	REQUIRE(j != NULL);
	REQUIRE(json_object_object_get_ex(j, "vfio_backend", &b));
	CHECK(json_object_object_get_ex(b, "kernel", &k) && json_object_object_get_ex(k, "iommufd", &v) &&
	      json_object_get_boolean(v));
	CHECK(json_object_object_get_ex(b, "qemu", &k) && json_object_object_get_ex(k, "iommufd", &v) &&
	      json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v));
	json_object_put(j);
	free(r.out);
	free(r.err);
	free(root);
	free(plain);
}

TEST(iommufd_plan_without_libvirt_asks_the_profiles_qemu, "backend libvirt whose daemon cannot be "
     "reached (plan on a host that starts QEMU itself): the profile's QEMU is asked instead, "
     "and the reason says libvirt was not")
{
	char *root = iommufd_host(true), *yes = fake_qemu_iommufd(true);
	struct vfk_vm_options o = { .backend = VFK_BACKEND_LIBVIRT,
				    .uri = "qemu+unix:///system?socket=/nonexistent/libvirt-sock" };
	char ini[1024];
	struct vmenv e;

	REQUIRE(root && yes);
	snprintf(ini, sizeof(ini), VM "emulator = %s\n" GPU "[vfio]\nbackend = iommufd\n", yes);
	CHECK_INT(vm_plan_root(&e, root, ini), 0);
	CHECK_INT(vfk_plan_ask_vmm(e.plan, &o, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(vfk_plan_get_vfio_backend(e.plan), "iommufd");
	vm_close(&e);
	snprintf(ini, sizeof(ini), VM "emulator = %s\n" GPU, yes);
	CHECK_INT(vm_plan_root(&e, root, ini), 0);
	CHECK_INT(vfk_plan_ask_vmm(e.plan, &o, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(vfk_plan_get_vfio_backend(e.plan), "iommufd");
	CHECK_CONTAINS(vfk_plan_get_vfio_reason(e.plan), "QEMU 10.0.2");
	CHECK_CONTAINS(vfk_plan_get_vfio_reason(e.plan), "(libvirt not asked: ");
	vm_close(&e);
	free(root);
	free(yes);
}
