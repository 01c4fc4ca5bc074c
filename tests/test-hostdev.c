/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Extra devices in profiles (issue 19, point 1), on the hostdev-desk fixture
 * (desktop-dgpu-igpu with its root filesystem on the NVMe 02:00.0, the
 * default route on the NIC 03:00.0, a free NVMe 05:00.0 alone in its group,
 * USB devices on the xHCI 00:14.0): [hostdev] finds exactly one PCI device,
 * takes its whole IOMMU group, refuses what the host needs or what is no
 * device of its own (bridges, GPUs), binds in one transaction with the GPU,
 * and is written on both backends; [usb] finds a plugged-in device by its
 * ids, bus and port. Bad input is one line, and the host is left alone.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "ksim.h"
#include "vmtest.h"

#define HOST "hostdev-desk"
#define VM "[vm]\nname = desk\nmemory = 8G\nvcpus = 2\n"
#define GPU "[gpu]\ndevice = 01:00.0\n"
#define VIRTIO "[gpu]\nmode = virtio\n"
#define NVME "[hostdev.nvme]\ndevice = 05:00.0\n"

/* Plan @ini on the shared fixture, expecting a one-line refusal containing
 * @want (and the return @rc). */
static void refused(const char *ini, int rc, const char *want)
{
	struct vmenv e;

	CHECK_INT(vm_plan(&e, HOST, ini), rc);
	CHECK_CONTAINS(e.err, want);
	CHECK(strchr(e.err, '\n') == NULL);
	CHECK(e.plan == NULL);
	vm_close(&e);
}

/* The guest address of function @k of hostdev @i (static buffer). */
static const char *guest(const struct vmenv *e, size_t i, size_t k)
{
	static char buf[32];

	return vfk_plan_hostdev_function_guest_address(e->plan, i, k, buf, sizeof(buf));
}

/* ------------------------------------------------------------ finding the device */

TEST(hostdev_by_address_goes_on_a_root_port_after_the_gpu, "[hostdev] device = 05:00.0 with "
     "[gpu] device = 01:00.0: the NVMe alone in its group, guest bus 2 after the GPU's bus 1, "
     "its verdict and section said")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, HOST, VM GPU NVME) == 0);
	CHECK(vfk_plan_get_mode(e.plan) == VFK_GPU_MODE_PASSTHROUGH);
	REQUIRE(vfk_plan_hostdev_count(e.plan) == 1);
	CHECK_STREQ(vfk_plan_hostdev_section(e.plan, 0), "hostdev.nvme");
	CHECK_STREQ(vfk_device_get_address(vfk_plan_hostdev(e.plan, 0)), "0000:05:00.0");
	CHECK_INT(vfk_plan_hostdev_function_count(e.plan, 0), 1);
	CHECK_STREQ(guest(&e, 0, 0), "0000:02:00.0");
	CHECK_CONTAINS(vfk_plan_hostdev_verdict(e.plan, 0),
		       "isolated: IOMMU group 12 holds only it; on nvme now");
	CHECK(vfk_plan_hostdev(e.plan, 1) == NULL);
	vm_close(&e);
}

TEST(hostdev_by_ids_or_by_name_finds_the_one_device, "vendor:device ids (15b7:5011) and a part "
     "of the name in any case (SN850, sn850) name the same NVMe as its address")
{
	static const char *const sel[] = { "15b7:5011", "SN850", "sn850", "0000:05:00.0" };
	size_t i;

	for (i = 0; i < sizeof(sel) / sizeof(sel[0]); i++) {
		struct vmenv e;
		char ini[256];

		snprintf(ini, sizeof(ini), VM GPU "[hostdev]\ndevice = %s\n", sel[i]);
		REQUIRE(vm_plan(&e, HOST, ini) == 0);
		CHECK_STREQ(vfk_device_get_address(vfk_plan_hostdev(e.plan, 0)), "0000:05:00.0");
		CHECK_STREQ(vfk_plan_hostdev_section(e.plan, 0), "hostdev");
		vm_close(&e);
	}
}

TEST(hostdev_matching_nothing_or_several_is_one_line, "no such address, ids or name is "
     "-ENODEV; a name two devices share (NVMe) is -ENOTUNIQ listing both")
{
	refused(VM GPU "[hostdev]\ndevice = 09:00.0\n", -ENODEV,
		"[hostdev] device = 09:00.0: no such PCI device");
	refused(VM GPU "[hostdev]\ndevice = 144d:ffff\n", -ENODEV,
		"[hostdev] device = 144d:ffff: no PCI device has these ids");
	refused(VM GPU "[hostdev]\ndevice = Frobnicator\n", -ENODEV,
		"no PCI device has that in its name");
	refused(VM GPU "[hostdev]\ndevice = NVMe\n", -ENOTUNIQ, "ambiguous, 2 devices match: "
		"0000:02:00.0 Samsung");
	refused(VM GPU "[hostdev]\ndevice = NVMe\n", -ENOTUNIQ, "0000:05:00.0 Sandisk");
}

/* ------------------------------------------------------------ refusals */

TEST(hostdev_root_filesystem_nvme_is_refused_with_the_reason, "the NVMe that holds / "
     "(mountinfo -> dev/block/259:2 -> its PCI path) is refused by the bind layer's guard, "
     "at plan time")
{
	refused(VM GPU "[hostdev.disk]\ndevice = 02:00.0\n", -ENODEV,
		"[hostdev.disk] device = 02:00.0: 0000:02:00.0 holds the root filesystem "
		"(block device 259:2)");
}

TEST(hostdev_default_route_nic_is_refused_with_the_reason, "the NIC of the default route "
     "(proc/net/route -> enp3s0 -> its device) is refused, by address and by name")
{
	refused(VM GPU "[hostdev]\ndevice = 03:00.0\n", -ENODEV,
		"0000:03:00.0 carries the default route (enp3s0)");
	refused(VM GPU "[hostdev]\ndevice = I225\n", -ENODEV,
		"0000:03:00.0 carries the default route (enp3s0)");
}

TEST(hostdev_group_member_the_host_needs_is_refused, "with / on the SanDisk stick behind the "
     "xHCI 00:14.0, naming the SRAM 00:14.2 of its group is refused: the xHCI would go along")
{
	char *root = fixture_host(HOST), link[4096];
	struct vmenv e;

	REQUIRE(root != NULL);
	snprintf(link, sizeof(link), "%s/sys/dev/block/259:2", root);
	REQUIRE(unlink(link) == 0);
	REQUIRE(symlink("../../devices/pci0000:00/0000:00:14.0/usb2/2-2/2-2:1.0/host0/target0:0:0/"
			"0:0:0:0/block/sda/sda2", link) == 0);
	CHECK_INT(vm_plan_root(&e, root, VM GPU "[hostdev]\ndevice = 00:14.2\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "0000:00:14.2 shares IOMMU group 4 with 0000:00:14.0, and a group goes "
		       "to one VM whole: 0000:00:14.0 holds the root filesystem (block device 259:2)");
	vm_close(&e);
	free(root);
}

TEST(hostdev_bridge_or_a_group_holding_one_is_refused, "a PCI bridge, the host bridge, and the "
     "HD audio whose group holds the chipset's ISA bridge are refused naming the bridge")
{
	refused(VM GPU "[hostdev]\ndevice = 00:1c.0\n", -ENODEV,
		"0000:00:1c.0 is a bridge (PCI bridge): bridges stay with the host");
	refused(VM GPU "[hostdev]\ndevice = 00:00.0\n", -ENODEV, "0000:00:00.0 is a bridge");
	refused(VM GPU "[hostdev]\ndevice = 00:1f.3\n", -ENODEV,
		"0000:00:1f.3 shares IOMMU group 8 with 0000:00:1f.0, and a group goes to one VM "
		"whole: 0000:00:1f.0 is a bridge");
}

TEST(hostdev_sriov_pf_with_vfs_is_refused_and_a_vf_goes_alone, "on sriov-server, the "
     "ConnectX-5 PF with 2 VFs enabled is refused (changing its driver destroys them); one of "
     "its VFs, in a group of its own, goes alone")
{
	struct vmenv e;

	CHECK_INT(vm_plan(&e, "sriov-server", VM "[gpu]\nmode = emulated\n[hostdev]\n"
			  "device = 02:00.0\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "0000:02:00.0 has 2 SR-IOV VFs enabled; changing the PF's driver "
		       "destroys them");
	vm_close(&e);
	REQUIRE(vm_plan(&e, "sriov-server", VM "[gpu]\nmode = emulated\n[hostdev]\n"
			"device = 02:00.2\n") == 0);
	CHECK_INT(vfk_plan_hostdev_function_count(e.plan, 0), 1);
	CHECK_STREQ(guest(&e, 0, 0), "0000:01:00.0");
	vm_close(&e);
}

TEST(hostdev_without_an_iommu_is_refused, "on iommu-off (no IOMMU groups) a [hostdev] is "
     "refused saying the IOMMU is off")
{
	struct vmenv e;

	CHECK_INT(vm_plan(&e, "iommu-off", VM "[gpu]\nmode = emulated\n[hostdev.sata]\n"
			  "device = 00:17.0\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "[hostdev.sata] device = 00:17.0: the IOMMU is off");
	vm_close(&e);
}

TEST(hostdev_gpu_function_goes_with_the_gpu_or_is_refused, "the GPU's audio function named "
     "while the GPU is given: left out with a note; without the GPU (virtio): refused naming "
     "the GPU, and so is the GPU itself")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, HOST, VM GPU "[hostdev.audio]\ndevice = 01:00.1\n" NVME) == 0);
	CHECK_INT(vfk_plan_hostdev_count(e.plan), 1);
	CHECK_STREQ(vfk_plan_hostdev_section(e.plan, 0), "hostdev.nvme");
	CHECK(vm_note(&e, "[hostdev.audio] device = 01:00.1: 0000:01:00.1 goes to the guest with "
		      "the GPU 0000:01:00.0 already") != NULL);
	CHECK_STREQ(guest(&e, 0, 0), "0000:02:00.0");
	vm_close(&e);

	refused(VM VIRTIO "[hostdev]\ndevice = 01:00.1\n", -ENODEV,
		"0000:01:00.1 is a function of the GPU 0000:01:00.0: GPUs go by [gpu] device");
	refused(VM VIRTIO "[hostdev]\ndevice = 01:00.0\n", -ENODEV, "0000:01:00.0 is a GPU");
}

TEST(hostdev_group_goes_whole_as_one_multifunction_slot, "the xHCI 00:14.0 takes the SRAM "
     "00:14.2 of its group along, as functions 0 and 1 of one guest slot; naming the SRAM too "
     "is a note, naming the xHCI twice an error")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, HOST, VM GPU NVME "[hostdev.usb]\ndevice = 00:14.0\n"
			"[hostdev.sram]\ndevice = 00:14.2\n") == 0);
	REQUIRE(vfk_plan_hostdev_count(e.plan) == 2);
	REQUIRE(vfk_plan_hostdev_function_count(e.plan, 1) == 2);
	CHECK_STREQ(vfk_device_get_address(vfk_plan_hostdev_function(e.plan, 1, 0)), "0000:00:14.0");
	CHECK_STREQ(vfk_device_get_address(vfk_plan_hostdev_function(e.plan, 1, 1)), "0000:00:14.2");
	CHECK_STREQ(guest(&e, 1, 0), "0000:03:00.0");
	CHECK_STREQ(guest(&e, 1, 1), "0000:03:00.1");
	CHECK_CONTAINS(vfk_plan_hostdev_verdict(e.plan, 1), "IOMMU group 4 goes whole: "
		       "0000:00:14.2 [8086:7aa7] (no driver) goes along; on xhci_hcd now");
	CHECK(vm_note(&e, "[hostdev.sram] device = 00:14.2: 0000:00:14.2 goes to the guest with "
		      "[hostdev.usb] (0000:00:14.0) already") != NULL);
	vm_close(&e);

	refused(VM GPU "[hostdev.a]\ndevice = 00:14.0\n[hostdev.b]\ndevice = 8086:7ae0\n", -EINVAL,
		"[hostdev.b] device = 8086:7ae0: [hostdev.a] names 0000:00:14.0 already");
}

/* ------------------------------------------------------------ both backends */

TEST(hostdev_libvirt_xml_gives_each_slot_its_root_port, "the XML (libvirt's schema) has the "
     "GPU's two hostdevs, the NVMe on guest bus 2 with its ROM, the xHCI pair on bus 3 "
     "(multifunction), three root ports, no balloon")
{
	struct vmenv e;
	char *xml;
	xmlDocPtr doc;

	REQUIRE(vm_plan(&e, HOST, VM GPU NVME "rom = /roms/sn850.rom\n[hostdev.usb]\n"
			"device = 00:14.0\n") == 0);
	xml = vm_xml(&e);
	REQUIRE(xml != NULL);
	xml_validates(xml, "hostdevs");
	doc = xparse(xml);
	REQUIRE(doc != NULL);
	CHECK_INT(xcount(doc, "//hostdev[@type='pci'][@managed='no']"), 5);
	CHECK_INT(xcount(doc, "//controller[@model='pcie-root-port']"), 3);
	CHECK_INT(xcount(doc, "//hostdev[source/address[@bus='0x05'][@slot='0x00']]"
			 "/address[@type='pci'][@bus='0x02'][@slot='0x00'][@function='0x0']"), 1);
	CHECK_XSTR(doc, "//hostdev[source/address[@bus='0x05']]/rom/@file", "/roms/sn850.rom");
	CHECK_INT(xcount(doc, "//hostdev[source/address[@slot='0x14'][@function='0x0']]"
			 "/address[@bus='0x03'][@function='0x0'][@multifunction='on']"), 1);
	CHECK_INT(xcount(doc, "//hostdev[source/address[@slot='0x14'][@function='0x2']]"
			 "/address[@bus='0x03'][@function='0x1']"), 1);
	CHECK_XSTR(doc, "//memballoon/@model", "none");
	xmlFreeDoc(doc);
	free(xml);
	vm_close(&e);
}

TEST(hostdev_qemu_argv_gives_each_slot_its_root_port, "the argv has vfio-pci for the NVMe on "
     "rp2 with its romfile and for the xHCI pair on rp3 (function 0 multifunction), after the "
     "GPU's rp1")
{
	struct vmenv e;
	char **argv;

	REQUIRE(vm_plan(&e, HOST, VM GPU NVME "rom = /roms/sn850.rom\n[hostdev.usb]\n"
			"device = 00:14.0\n") == 0);
	argv = vm_argv(&e);
	REQUIRE(argv != NULL);
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:01:00.0,id=hostdev0,bus=rp1,") >= 0);
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:05:00.0,id=extra0-0,bus=rp2,"
			"addr=0x0.0,romfile=/roms/sn850.rom") >= 0);
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:00:14.0,id=extra1-0,bus=rp3,"
			"addr=0x0.0,multifunction=on") >= 0);
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:00:14.2,id=extra1-1,bus=rp3,"
			"addr=0x0.1") >= 0);
	CHECK(argv_find(argv, "-device", "pcie-root-port,id=rp3,") >= 0);
	CHECK(argv_find(argv, "-device", "pcie-root-port,id=rp3,") <
	      argv_find(argv, "-device", "host=0000:00:14.0"));
	CHECK_INT(argv_count(argv, "-device", "virtio-balloon-pci"), 0);
	vfk_argv_free(argv);
	vm_close(&e);
}

TEST(hostdev_without_a_passthrough_gpu_binds_and_drops_the_balloon, "mode = virtio with an "
     "NVMe: the plan still binds (the NVMe alone), the NVMe takes guest bus 1, and neither "
     "backend has a balloon VFIO's pinned memory would defeat")
{
	struct vmenv e;
	struct vfk_bind *b;
	char *xml, **argv;

	REQUIRE(vm_plan(&e, HOST, VM VIRTIO NVME) == 0);
	CHECK(vfk_plan_get_mode(e.plan) == VFK_GPU_MODE_VIRTIO);
	CHECK_INT(vfk_plan_gpu_count(e.plan), 0);
	CHECK_STREQ(guest(&e, 0, 0), "0000:01:00.0");
	REQUIRE(vfk_bind_new(e.host, "desk", VFK_BIND_DRY_RUN, &b) == 0);
	CHECK_INT(vfk_plan_add_to_bind(e.plan, b), 0);
	CHECK_INT(vfk_bind_prepare(b), 0);
	REQUIRE(vfk_bind_device_count(b) == 1);
	CHECK_STREQ(vfk_device_get_address(vfk_bind_device(b, 0)), "0000:05:00.0");
	vfk_bind_free(b);
	xml = vm_xml(&e);
	CHECK_CONTAINS(xml, "<memballoon model=\"none\"/>");
	CHECK_CONTAINS(xml, "<model type=\"virtio\"");
	free(xml);
	argv = vm_argv(&e);
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:05:00.0,id=extra0-0,bus=rp1,") >= 0);
	CHECK_INT(argv_count(argv, "-device", "virtio-balloon-pci"), 0);
	vfk_argv_free(argv);
	vm_close(&e);
}

/* ------------------------------------------------------------ one transaction */

static int bind_desk(struct ksim *k, int fail_at, struct vmenv *e, char *err, size_t size)
{
	return vm_plan_bind(e, k, HOST, VM GPU NVME, "desk", fail_at, err, size);
}

TEST(hostdev_binds_with_the_gpu_in_one_transaction, "GPU (two functions) and NVMe go to "
     "vfio-pci in one commit, journalled for the VM, and come back at restore; a write failing "
     "on the NVMe's last step puts the GPU back too")
{
	static const char *const devs[] = { "0000:01:00.0", "0000:01:00.1", "0000:05:00.0" };
	static const char *const native[] = { "nvidia", "snd_hda_intel", "nvme" };
	struct vfk_journal *j;
	struct vmenv e;
	struct ksim k;
	char buf[64], err[768];
	int writes;
	size_t i;

	REQUIRE(bind_desk(&k, 0, &e, err, sizeof(err)) == 0);
	for (i = 0; i < 3; i++)
		CHECK_STREQ(ksim_driver(e.root, devs[i], buf, sizeof(buf)), "vfio-pci");
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 3);
	for (i = 0; i < vfk_journal_count(j); i++)
		CHECK_STREQ(vfk_journal_get(j, i)->owner, "desk");
	vfk_journal_free(j);
	/* the NVMe's last write (its probe by vfio-pci), after the GPU's */
	for (writes = k.nlog; writes > 0 && !strstr(k.log[writes - 1], "0000:05:00.0"); writes--)
		;
	CHECK(writes > 0 && strstr(k.log[writes - 1], "drivers_probe <- 0000:05:00.0"));
	CHECK(writes > 3 && strstr(k.log[writes - 4], "drivers_probe <- 0000:01:00.1"));
	CHECK_INT(vfk_restore_owner(e.ctx, "desk", 0, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++)
		CHECK_STREQ(ksim_driver(e.root, devs[i], buf, sizeof(buf)), native[i]);
	vm_close(&e);

	CHECK(bind_desk(&k, writes, &e, err, sizeof(err)) < 0);
	for (i = 0; i < 3; i++)
		CHECK_STREQ(ksim_driver(e.root, devs[i], buf, sizeof(buf)), native[i]);
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 0);
	vfk_journal_free(j);
	vm_close(&e);
}

/* ------------------------------------------------------------ USB */

TEST(usb_device_by_ids_on_both_backends, "[usb] device = 046d:c52b finds the receiver on bus 1 "
     "port 1; libvirt gets its ids, QEMU a usb-host with them on the xHCI")
{
	struct vfk_usb_device_info u;
	struct vmenv e;
	xmlDocPtr doc;
	char *xml, **argv;

	REQUIRE(vm_plan(&e, HOST, VM GPU "[usb.receiver]\ndevice = 046d:c52b\n") == 0);
	REQUIRE(vfk_plan_usb_count(e.plan) == 1);
	CHECK_STREQ(vfk_plan_usb_section(e.plan, 0), "usb.receiver");
	REQUIRE(vfk_plan_usb_device(e.plan, 0, &u) == 0);
	CHECK(u.vendor_id == 0x046d && u.product_id == 0xc52b);
	CHECK_INT(u.bus, 1);
	CHECK_INT(u.address, 2);
	CHECK_STREQ(u.port, "1");
	CHECK_STREQ(u.name, "Logitech USB Receiver");
	CHECK_INT(vfk_plan_usb_device(e.plan, 1, &u), -EINVAL);
	xml = vm_xml(&e);
	REQUIRE(xml != NULL);
	xml_validates(xml, "usb");
	doc = xparse(xml);
	REQUIRE(doc != NULL);
	CHECK_INT(xcount(doc, "//hostdev[@type='usb']"), 1);
	CHECK_XSTR(doc, "//hostdev[@type='usb']/source/vendor/@id", "0x046d");
	CHECK_XSTR(doc, "//hostdev[@type='usb']/source/product/@id", "0xc52b");
	CHECK_INT(xcount(doc, "//hostdev[@type='usb']/source/address"), 0);
	CHECK_INT(xcount(doc, "//controller[@type='usb'][@model='qemu-xhci']"), 1);
	xmlFreeDoc(doc);
	free(xml);
	argv = vm_argv(&e);
	CHECK(argv_find(argv, "-device", "usb-host,id=usbhost0,bus=xhci.0,vendorid=0x046d,"
			"productid=0xc52b") >= 0);
	CHECK(argv_find(argv, "-device", "qemu-xhci,id=xhci") <
	      argv_find(argv, "-device", "usb-host"));
	vfk_argv_free(argv);
	vm_close(&e);
}

TEST(usb_device_by_bus_and_port, "of two identical keyboards behind a hub, bus = 1 and port = "
     "3.2 pick the second: libvirt by bus and address 5, QEMU by hostbus and hostport")
{
	struct vfk_usb_device_info u;
	struct vmenv e;
	xmlDocPtr doc;
	char *xml, **argv;

	REQUIRE(vm_plan(&e, HOST, VM GPU "[usb]\ndevice = 04d9:0006\nbus = 1\nport = 3.2\n") == 0);
	REQUIRE(vfk_plan_usb_device(e.plan, 0, &u) == 0);
	CHECK_INT(u.address, 5);
	CHECK_STREQ(u.port, "3.2");
	xml = vm_xml(&e);
	doc = xml ? xparse(xml) : NULL;
	REQUIRE(doc != NULL);
	CHECK_XSTR(doc, "//hostdev[@type='usb']/source/address/@bus", "1");
	CHECK_XSTR(doc, "//hostdev[@type='usb']/source/address/@device", "5");
	xmlFreeDoc(doc);
	free(xml);
	argv = vm_argv(&e);
	CHECK(argv_find(argv, "-device", "usb-host,id=usbhost0,bus=xhci.0,vendorid=0x04d9,"
			"productid=0x0006,hostbus=1,hostport=3.2") >= 0);
	vfk_argv_free(argv);
	vm_close(&e);
}

TEST(usb_device_absent_ambiguous_hub_or_twice_is_refused, "ids nobody has (listing what is "
     "plugged in), ids two keyboards share (listing their ports), a port where it is not, a "
     "hub, and one device in two sections: one line each")
{
	refused(VM GPU "[usb]\ndevice = 1234:5678\n", -ENODEV, "[usb] device = 1234:5678: no such "
		"USB device is plugged in (USB devices: 046d:c52b on bus 1 port 1 (Logitech USB "
		"Receiver)");
	refused(VM GPU "[usb]\ndevice = 04d9:0006\n", -ENOTUNIQ, "ambiguous, 2 USB devices have "
		"these ids: bus 1 port 3.1, bus 1 port 3.2; say which with bus = and port =");
	refused(VM GPU "[usb]\ndevice = 04d9:0006\nbus = 1\nport = 3.3\n", -ENODEV,
		"no such USB device on bus 1 port 3.3 (devices with these ids: bus 1 port 3.1, "
		"bus 1 port 3.2)");
	refused(VM GPU "[usb]\ndevice = 0781:5583\nbus = 1\n", -ENODEV,
		"no such USB device on bus 1 (devices with these ids: bus 2 port 2)");
	refused(VM GPU "[usb]\ndevice = 05e3:0610\n", -ENODEV, "bus 1 port 3 is a USB hub");
	refused(VM GPU "[usb.a]\ndevice = 0781:5583\n[usb.b]\ndevice = 0781:5583\nbus = 2\n",
		-EINVAL, "[usb.b] device = 0781:5583: [usb.a] names the device on bus 2 port 2 "
		"already");
}

TEST(usb_device_linked_out_of_the_sysroot_is_not_read, "a bus/usb/devices entry whose link "
     "leaves the sysroot (an absolute target, with ids dead:beef there) is no device: [usb] "
     "device = dead:beef is not plugged in")
{
	char *root = fixture_host(HOST), *id = write_temp("idVendor", "dead\n"), *dir, link[4096];
	struct vmenv e;

	REQUIRE(root != NULL && id != NULL);
	dir = strdup(id);
	REQUIRE(dir != NULL);
	*strrchr(dir, '/') = '\0';
	REQUIRE(put_file(dir, "idProduct", "beef\n") && put_file(dir, "busnum", "9\n") &&
		put_file(dir, "devnum", "2\n") && put_file(dir, "devpath", "9\n"));
	snprintf(link, sizeof(link), "%s/sys/bus/usb/devices/9-9", root);
	REQUIRE(symlink(dir, link) == 0);
	CHECK_INT(vm_plan_root(&e, root, VM GPU "[usb]\ndevice = dead:beef\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "no such USB device is plugged in");
	vm_close(&e);
	free(dir);
	free(id);
	free(root);
}

/* ------------------------------------------------------------ bad input */

TEST(hostdev_and_usb_bad_values_are_one_line_naming_the_key, "malformed selectors, lists, ids, "
     "ports, buses, missing keys, unknown keys and section names: -EINVAL, FILE:LINE and the "
     "key in one line")
{
	static const struct { const char *ini, *want; } cases[] = {
		{ "[hostdev]\ndevice = 01:00\n", "test.ini:6: [hostdev] device: '01:00' is neither "
		  "a PCI address" },
		{ "[hostdev]\ndevice = 05:00.0, 02:00.0\n", "[hostdev] device: '05:00.0, 02:00.0' "
		  "names several devices: one device per section" },
		{ "[hostdev.x]\nrom = a.rom\n", "[hostdev.x] device: missing" },
		{ "[hostdev]\nfunctions = all\n", "[hostdev] functions: unknown key (keys of "
		  "[hostdev]: device, rom)" },
		{ "[hostdev.a b]\ndevice = 05:00.0\n", "unknown section [hostdev.a b]" },
		{ "[usb]\ndevice = 46d:c52b\n", "[usb] device: '46d:c52b' is not USB vendor:product "
		  "ids" },
		{ "[usb]\ndevice = 046d:c52b\nbus = 0\n", "[usb] bus: '0' is not a number from 1 "
		  "to 999" },
		{ "[usb]\ndevice = 046d:c52b\nbus = 1\nport = 1..2\n", "[usb] port: '1..2' is not a "
		  "USB port path" },
		{ "[usb]\ndevice = 046d:c52b\nbus = 1\nport = 01\n", "[usb] port: '01' is not" },
		{ "[usb]\ndevice = 046d:c52b\nbus = 1\nport = 1.2.3.4.5.6.7.8\n", "is not a USB port "
		  "path" },
		{ "[usb]\ndevice = 046d:c52b\nbus = 1\nport = 256\n", "is not a USB port path" },
		{ "[usb]\ndevice = 046d:c52b\nport = 1.2\n", "[usb] port: needs bus = N" },
		{ "[usb.k]\nbus = 1\n", "[usb.k] device: missing" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmenv e;
		char ini[512];

		snprintf(ini, sizeof(ini), VM "%s", cases[i].ini);
		CHECK_INT(vm_plan(&e, HOST, ini), -EINVAL);
		CHECK_CONTAINS(e.err, cases[i].want);
		CHECK(strchr(e.err, '\n') == NULL);
		vm_close(&e);
	}
}

/* ------------------------------------------------------------ vfio-vm */


/* A refusal: exit @status, nothing on stdout, one line on stderr saying @want. */
static void check_refusal(const struct tool_run *r, int status, const char *want)
{
	check_one_line(r, status, want);
	CHECK_STREQ(r->out, "");
}

TEST(vfio_vm_plan_shows_extra_devices_and_refuses_in_one_line, "vfio-vm plan prints each "
     "device with its verdict and guest address and --json the same; a root-disk NVMe is exit "
     "1 with one line, a bad value exit 2; up refused leaves the tree without journal or record")
{
	char *root = fixture_host(HOST), *prof, path[4096];
	struct tool_run r = { 0 };
	json_object *j, *h, *f;

	REQUIRE(root != NULL);
	prof = write_temp("desk.ini", VM GPU NVME "[usb.receiver]\ndevice = 046d:c52b\n");
	REQUIRE(prof != NULL);
	vfio_vm(&r, "plan", prof, root, NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "  [hostdev.nvme] 0000:05:00.0: ");
	CHECK_CONTAINS(r.out, "    isolated: IOMMU group 12 holds only it; on nvme now\n"
		       "    in the guest: 0000:05:00.0 -> 0000:02:00.0\n");
	CHECK_CONTAINS(r.out, "  [usb.receiver] USB 046d:c52b on bus 1 port 1 (address 2): "
		       "Logitech USB Receiver\n");

	vfio_vm(&r, "plan", prof, root, "--json", NULL);
	CHECK_INT(r.status, 0);
	j = json_tokener_parse(r.out);
	REQUIRE(j != NULL);
	REQUIRE(json_object_object_get_ex(j, "hostdevs", &h) && json_object_array_length(h) == 1);
	h = json_object_array_get_idx(h, 0);
	CHECK(json_object_object_get_ex(h, "section", &f) &&
	      !strcmp(json_object_get_string(f), "hostdev.nvme"));
	CHECK(json_object_object_get_ex(h, "group", &f) && json_object_get_int(f) == 12);
	CHECK(json_object_object_get_ex(h, "driver", &f) &&
	      !strcmp(json_object_get_string(f), "nvme"));
	CHECK(json_object_object_get_ex(h, "functions", &f) &&
	      !strcmp(json_object_get_string(json_object_object_get(
		      json_object_array_get_idx(f, 0), "guest")), "0000:02:00.0"));
	CHECK(json_object_object_get_ex(j, "usb", &h) &&
	      !strcmp(json_object_get_string(json_object_object_get(
		      json_object_array_get_idx(h, 0), "port")), "1"));
	json_object_put(j);

	vfio_vm(&r, "plan", prof, root, "--set", "hostdev.nvme.device=02:00.0", NULL);
	check_refusal(&r, 1, "holds the root filesystem");
	vfio_vm(&r, "plan", prof, root, "--set", "usb.receiver.port=1.0", NULL);
	check_refusal(&r, 2, "[usb.receiver] port: '1.0' is not a USB port path");
	vfio_vm(&r, "up", prof, root, "--backend", "qemu", "--set", "hostdev.nvme.device=03:00.0",
		NULL);
	check_refusal(&r, 1, "carries the default route (enp3s0)");
	snprintf(path, sizeof(path), "%s/run/vfiokit/journal", root);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof(path), "%s/run/vfiokit/vms/desk", root);
	CHECK(access(path, F_OK) != 0);
	free(r.out);
	free(r.err);
	free(prof);
	free(root);
}
