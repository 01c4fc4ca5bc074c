/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Inventory of PCI functions and IOMMU groups, read from fixture host trees
 * through the public API only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfiokit.h"
#include "harness.h"

/* ---- a scanned fixture host, released when it goes out of scope */
struct fx {
	char *root;
	struct vfk_ctx *ctx;
	struct vfk_host *host;
};

static void fx_close(struct fx *f)
{
	if (f->host)
		vfk_host_unref(f->host);
	if (f->ctx)
		vfk_ctx_unref(f->ctx);
	free(f->root);
	memset(f, 0, sizeof(*f));
}
#define FX __attribute__((cleanup(fx_close))) struct fx

static bool fx_open(struct fx *f, const char *name)
{
	int r;

	memset(f, 0, sizeof(*f));
	f->root = fixture_host_shared(name);
	if (!f->root)
		return false;
	r = vfk_ctx_new(f->root, &f->ctx);
	if (r < 0) {
		test_fail_(__FILE__, __LINE__, "vfk_ctx_new(%s): %s", name, strerror(-r));
		return false;
	}
	r = vfk_host_scan(f->ctx, &f->host);
	if (r < 0) {
		test_fail_(__FILE__, __LINE__, "vfk_host_scan(%s): %s", name, strerror(-r));
		return false;
	}
	return true;
}

static struct vfk_device *dev_at(const struct fx *f, const char *addr)
{
	struct vfk_device *d = NULL;
	int r = vfk_host_find_device(f->host, addr, &d);

	if (r < 0 || !d) {
		test_fail_(__FILE__, __LINE__, "device %s not found: %s", addr, strerror(-r));
		return NULL;
	}
	return d;
}

/* ------------------------------------------------------------------ ids */

TEST(inventory_reads_ids_class_subsystem_and_revision,
     "vendor/device, subsystem ids, revision and 24-bit class come from the fixture's sysfs")
{
	FX f;
	struct vfk_device *d;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	REQUIRE((d = dev_at(&f, "0000:01:00.0")));
	CHECK_INT(vfk_device_get_vendor_id(d), 0x10de);
	CHECK_INT(vfk_device_get_device_id(d), 0x2684);
	CHECK_INT(vfk_device_get_subsystem_vendor_id(d), 0x1043);
	CHECK_INT(vfk_device_get_subsystem_device_id(d), 0x889d);
	CHECK_INT(vfk_device_get_revision(d), 0xa1);
	CHECK_INT(vfk_device_get_class(d), 0x030000);
	CHECK_STREQ(vfk_device_get_address(d), "0000:01:00.0");
	CHECK_INT(vfk_device_get_addr(d)->bus, 1);
	CHECK_INT(vfk_device_get_addr(d)->dev, 0);
	CHECK_INT(vfk_device_get_addr(d)->fn, 0);

	REQUIRE((d = dev_at(&f, "0000:00:17.0")));
	CHECK_INT(vfk_device_get_class(d), 0x010601);	/* prog-if kept */
	CHECK_INT(vfk_device_get_vendor_id(d), 0x8086);
	CHECK_INT(vfk_device_get_device_id(d), 0x7ae2);
	CHECK_INT(vfk_device_get_revision(d), 0x11);
}

TEST(inventory_names_are_from_pci_ids_and_never_empty,
     "vendor, device and class names come from pci.ids; unknown ids still get a name")
{
	FX f;
	struct vfk_device *d;
	size_t i;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	REQUIRE((d = dev_at(&f, "0000:01:00.0")));
	CHECK_CONTAINS(vfk_device_get_vendor_name(d), "NVIDIA");
	CHECK_CONTAINS(vfk_device_get_device_name(d), "RTX 4090");
	CHECK_STREQ(vfk_device_get_class_name(d), "VGA compatible controller");
	REQUIRE((d = dev_at(&f, "0000:01:00.1")));
	CHECK_STREQ(vfk_device_get_class_name(d), "Audio device");
	for (i = 0; i < vfk_host_device_count(f.host); i++) {
		d = vfk_host_device(f.host, i);
		REQUIRE(d != NULL);
		CHECK(vfk_device_get_vendor_name(d) && *vfk_device_get_vendor_name(d));
		CHECK(vfk_device_get_device_name(d) && *vfk_device_get_device_name(d));
		CHECK(vfk_device_get_class_name(d) && *vfk_device_get_class_name(d));
	}
	fx_close(&f);

	/* 1022:43ea (B550 downstream port) has no pci.ids entry */
	REQUIRE(fx_open(&f, "amd-switch"));
	REQUIRE((d = dev_at(&f, "0000:03:08.0")));
	CHECK(vfk_device_get_device_name(d) && *vfk_device_get_device_name(d));
	CHECK_CONTAINS(vfk_device_get_device_name(d), "43ea");
	CHECK_CONTAINS(vfk_device_get_vendor_name(d), "AMD");
}

/* --------------------------------------------------------------- drivers */

TEST(inventory_reports_bound_driver_or_null,
     "the driver link names the driver in use; an unbound function has none")
{
	FX f;
	struct vfk_device *d;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	REQUIRE((d = dev_at(&f, "0000:01:00.0")));
	CHECK_STREQ(vfk_device_get_driver(d), "nvidia");
	REQUIRE((d = dev_at(&f, "0000:00:01.0")));
	CHECK_STREQ(vfk_device_get_driver(d), "pcieport");
	REQUIRE((d = dev_at(&f, "0000:00:14.0")));
	CHECK_STREQ(vfk_device_get_driver(d), "xhci_hcd");
	REQUIRE((d = dev_at(&f, "0000:00:14.2")));
	CHECK(vfk_device_get_driver(d) == NULL);
	REQUIRE((d = dev_at(&f, "0000:00:1f.0")));
	CHECK(vfk_device_get_driver(d) == NULL);
}

TEST(inventory_driver_comes_from_uevent_and_hostile_names_are_dropped,
     "the driver is uevent's DRIVER= (as the kernel writes it while one is bound), not the "
     "link; a DRIVER= with '/', '..', blanks, control bytes or over 63 bytes names none; "
     "a tree without uevent still has the link")
{
	static const struct {
		const char *addr, *value;
	} bad[] = {
		{ "0000:00:14.2", "../../evil" }, { "0000:00:1f.0", "a/b" },
		{ "0000:00:1f.3", ".." }, { "0000:00:1f.4", "." }, { "0000:00:1f.5", "x y" },
		{ "0000:00:02.0", "\001ctl" }, { "0000:01:00.1", "" },
		{ "0000:00:01.0", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	};
	char *root = fixture_host("desktop-dgpu-igpu");
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	struct vfk_device *d = NULL;
	char rel[128], text[512];
	size_t i;

	REQUIRE(root);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/uevent", bad[i].addr);
		snprintf(text, sizeof(text), "DRIVER=%s\nPCI_CLASS=30000\nPCI_ID=10DE:2684\n",
			 bad[i].value);
		REQUIRE(put_file(root, rel, text));
	}
	/* the GPU: DRIVER= says vfio-pci though the link still says nvidia */
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:01:00.0/uevent",
			 "PCI_CLASS=30000\nDRIVER=vfio-pci\nPCI_ID=10DE:2684\n"));
	/* no uevent at all: vendor, device, class and the link */
	remove_path(root, "sys/bus/pci/devices/0000:00:14.0/uevent");
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:00:14.0/class", "0x0c0330\n"));
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	REQUIRE(vfk_host_scan(ctx, &host) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		REQUIRE(vfk_host_find_device(host, bad[i].addr, &d) == 0);
		if (vfk_device_get_driver(d))
			test_fail_(__FILE__, __LINE__, "%s: DRIVER=%s gave driver %s", bad[i].addr,
				   bad[i].value, vfk_device_get_driver(d));
	}
	REQUIRE(vfk_host_find_device(host, "0000:01:00.0", &d) == 0);
	CHECK_STREQ(vfk_device_get_driver(d), "vfio-pci");
	REQUIRE(vfk_host_find_device(host, "0000:00:14.0", &d) == 0);
	CHECK_INT(vfk_device_get_class(d), 0x0c0330);
	CHECK_STREQ(vfk_device_get_driver(d), "xhci_hcd");
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
	free(root);
}

TEST(inventory_driver_override_null_when_kernel_prints_null,
     "driver_override \"(null)\" means unset (NULL); a set override is returned as is")
{
	FX f;
	struct vfk_device *d;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	REQUIRE((d = dev_at(&f, "0000:01:00.0")));
	CHECK(vfk_device_get_driver_override(d) == NULL);
	fx_close(&f);

	REQUIRE(fx_open(&f, "ready"));
	REQUIRE((d = dev_at(&f, "0000:01:00.0")));
	CHECK_STREQ(vfk_device_get_driver_override(d), "vfio-pci");
	CHECK_STREQ(vfk_device_get_driver(d), "vfio-pci");
	REQUIRE((d = dev_at(&f, "0000:01:00.1")));
	CHECK_STREQ(vfk_device_get_driver_override(d), "vfio-pci");
	REQUIRE((d = dev_at(&f, "0000:00:02.0")));
	CHECK(vfk_device_get_driver_override(d) == NULL);
}

/* --------------------------------------------------------------- attributes */

TEST(inventory_boot_vga_only_on_the_firmware_display,
     "boot_vga is true only for the device whose boot_vga attribute is 1")
{
	FX f;
	size_t i, n = 0;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	CHECK(vfk_device_is_boot_vga(dev_at(&f, "0000:00:02.0")));
	CHECK(!vfk_device_is_boot_vga(dev_at(&f, "0000:01:00.0")));
	CHECK(!vfk_device_is_boot_vga(dev_at(&f, "0000:01:00.1")));
	for (i = 0; i < vfk_host_device_count(f.host); i++)
		n += vfk_device_is_boot_vga(vfk_host_device(f.host, i));
	CHECK_INT(n, 1);
	fx_close(&f);

	/* conventional-PCI ASPEED BMC VGA behind a PCIe-to-PCI bridge */
	REQUIRE(fx_open(&f, "sriov-server"));
	CHECK(vfk_device_is_boot_vga(dev_at(&f, "0000:04:00.0")));
	CHECK(!vfk_device_is_boot_vga(dev_at(&f, "0000:01:00.0")));
}

TEST(inventory_numa_node_and_local_cpulist,
     "numa_node -1 on a desktop, 0 on the server; local_cpulist as the kernel lists it")
{
	FX f;
	struct vfk_device *d;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	REQUIRE((d = dev_at(&f, "0000:01:00.0")));
	CHECK_INT(vfk_device_get_numa_node(d), -1);
	CHECK_STREQ(vfk_device_get_local_cpulist(d), "0-19");
	fx_close(&f);

	REQUIRE(fx_open(&f, "sriov-server"));
	REQUIRE((d = dev_at(&f, "0000:01:00.0")));
	CHECK_INT(vfk_device_get_numa_node(d), 0);
	CHECK_STREQ(vfk_device_get_local_cpulist(d), "0-63");
}

TEST(inventory_reset_method_and_reset_file,
     "reset_method is read verbatim and has_reset follows the presence of 'reset'")
{
	FX f;
	struct vfk_device *d;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	REQUIRE((d = dev_at(&f, "0000:01:00.0")));
	CHECK_STREQ(vfk_device_get_reset_method(d), "bus");
	CHECK(vfk_device_has_reset(d));
	REQUIRE((d = dev_at(&f, "0000:01:00.1")));
	CHECK_STREQ(vfk_device_get_reset_method(d), "flr bus");
	CHECK(vfk_device_has_reset(d));
	REQUIRE((d = dev_at(&f, "0000:00:14.2")));
	CHECK(vfk_device_get_reset_method(d) == NULL);
	CHECK(!vfk_device_has_reset(d));
}

TEST(inventory_power_state_d0_and_runtime_suspended_d3cold,
     "power_state is read from sysfs, including a laptop dGPU suspended in D3cold")
{
	FX f;
	struct vfk_device *d;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	CHECK_STREQ(vfk_device_get_power_state(dev_at(&f, "0000:01:00.0")), "D0");
	fx_close(&f);

	REQUIRE(fx_open(&f, "laptop-0302"));
	REQUIRE((d = dev_at(&f, "0000:01:00.0")));
	CHECK_STREQ(vfk_device_get_power_state(d), "D3cold");
	/* config space reads all-ones in D3cold: ids must still come from sysfs */
	CHECK_INT(vfk_device_get_vendor_id(d), 0x10de);
	CHECK_INT(vfk_device_get_device_id(d), 0x25a2);
	CHECK_INT(vfk_device_get_class(d), 0x030200);
}

TEST(inventory_pcie_link_speed_and_width,
     "current and max link speed strings and widths as sysfs formats them; none for PCI")
{
	FX f;
	struct vfk_device *d;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	REQUIRE((d = dev_at(&f, "0000:01:00.0")));
	CHECK_STREQ(vfk_device_get_link_speed(d), "2.5 GT/s PCIe");
	CHECK_STREQ(vfk_device_get_max_link_speed(d), "16.0 GT/s PCIe");
	CHECK_INT(vfk_device_get_link_width(d), 16);
	CHECK_INT(vfk_device_get_max_link_width(d), 16);
	REQUIRE((d = dev_at(&f, "0000:02:00.0")));
	CHECK_STREQ(vfk_device_get_link_speed(d), "16.0 GT/s PCIe");
	CHECK_INT(vfk_device_get_link_width(d), 4);
	/* conventional PCI function: no link attributes at all */
	REQUIRE((d = dev_at(&f, "0000:00:14.0")));
	CHECK(vfk_device_get_link_speed(d) == NULL);
	CHECK(vfk_device_get_max_link_speed(d) == NULL);
	CHECK_INT(vfk_device_get_link_width(d), 0);
	CHECK_INT(vfk_device_get_max_link_width(d), 0);
}

/* --------------------------------------------------------------- SR-IOV */

TEST(inventory_sriov_pf_counts_and_vf_physfn,
     "a PF reports totalvfs/numvfs; each VF is flagged and points back at its PF")
{
	FX f;
	struct vfk_device *pf, *vf, *other;
	static const char *const vfs[] = { "0000:01:02.0", "0000:01:02.1", "0000:01:02.2",
					   "0000:01:02.3" };
	size_t i;

	REQUIRE(fx_open(&f, "sriov-server"));
	REQUIRE((pf = dev_at(&f, "0000:01:00.0")));
	CHECK_INT(vfk_device_get_sriov_totalvfs(pf), 8);
	CHECK_INT(vfk_device_get_sriov_numvfs(pf), 4);
	CHECK(!vfk_device_is_vf(pf));
	CHECK(vfk_device_get_physfn(pf) == NULL);
	for (i = 0; i < 4; i++) {
		REQUIRE((vf = dev_at(&f, vfs[i])));
		CHECK(vfk_device_is_vf(vf));
		CHECK(vfk_device_get_physfn(vf) == pf);
		CHECK_INT(vfk_device_get_sriov_totalvfs(vf), 0);
		/* VF config space reads 0xffff ids; sysfs has the real ones */
		CHECK_INT(vfk_device_get_vendor_id(vf), 0x1002);
		CHECK_INT(vfk_device_get_device_id(vf), 0x73ae);
	}
	/* the NIC's VFs share the PF's slot and still point at it */
	REQUIRE((pf = dev_at(&f, "0000:02:00.0")));
	REQUIRE((vf = dev_at(&f, "0000:02:00.3")));
	CHECK(vfk_device_is_vf(vf));
	CHECK(vfk_device_get_physfn(vf) == pf);
	CHECK_INT(vfk_device_get_sriov_totalvfs(pf), 16);
	CHECK_INT(vfk_device_get_sriov_numvfs(pf), 2);
	/* an ordinary device is neither */
	REQUIRE((other = dev_at(&f, "0000:05:00.0")));
	CHECK(!vfk_device_is_vf(other));
	CHECK_INT(vfk_device_get_sriov_totalvfs(other), 0);
	CHECK_INT(vfk_device_get_sriov_numvfs(other), 0);
}

/* Scan @root; is @addr a VF, and is its PF @pf (NULL: none)? */
static void check_vf(const char *root, const char *addr, const char *pf, int line)
{
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	struct vfk_device *d = NULL, *p;

	if (vfk_ctx_new(root, &ctx) < 0 || vfk_host_scan(ctx, &host) < 0 ||
	    vfk_host_find_device(host, addr, &d) < 0)
		test_fail_(__FILE__, line, "%s: no scan, or no %s in it", root, addr);
	else if (vfk_device_is_vf(d) != (pf != NULL))
		test_fail_(__FILE__, line, "%s: is_vf %d, wanted %d", addr, vfk_device_is_vf(d),
			   pf != NULL);
	else if (pf && (!(p = vfk_device_get_physfn(d)) ||
			strcmp(vfk_device_get_address(p), pf) != 0))
		test_fail_(__FILE__, line, "%s: physfn %s, wanted %s", addr,
			   p ? vfk_device_get_address(p) : "none", pf);
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
}

TEST(inventory_vfs_known_from_pf_offset_and_stride_or_else_from_physfn,
     "a VF is known from its PF's sriov_numvfs/offset/stride without a physfn link; where a "
     "PF gives no offset (an older kernel) or an impossible one, each physfn link is read; "
     "a PF claiming more VFs than the tree has, or a device below another bridge, claims "
     "no other device")
{
	static const char *const vfs[] = { "0000:01:02.0", "0000:01:02.3", "0000:02:00.3" };
	char *a = fixture_host("sriov-server"), *b = fixture_host("sriov-server");
	char *c = fixture_host("sriov-server");
	char rel[128];
	size_t i;

	REQUIRE(a && b && c);
	/* a: no VF has a physfn link; the PFs say where their VFs are */
	for (i = 0; i < sizeof(vfs) / sizeof(vfs[0]); i++) {
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/physfn", vfs[i]);
		remove_path(a, rel);
	}
	check_vf(a, "0000:01:02.0", "0000:01:00.0", __LINE__);
	check_vf(a, "0000:01:02.3", "0000:01:00.0", __LINE__);
	check_vf(a, "0000:02:00.3", "0000:02:00.0", __LINE__);
	check_vf(a, "0000:01:00.0", NULL, __LINE__);
	/* b: one PF without sriov_offset, the other's offset 0: the links say */
	remove_path(b, "sys/bus/pci/devices/0000:01:00.0/sriov_offset");
	REQUIRE(put_file(b, "sys/bus/pci/devices/0000:02:00.0/sriov_offset", "0\n"));
	check_vf(b, "0000:01:02.0", "0000:01:00.0", __LINE__);
	check_vf(b, "0000:01:02.3", "0000:01:00.0", __LINE__);
	check_vf(b, "0000:02:00.2", "0000:02:00.0", __LINE__);
	check_vf(b, "0000:02:00.3", "0000:02:00.0", __LINE__);
	/* c: a PF claiming 65535 VFs: only the two there; one whose offset
	 * lands on a device below another bridge: not its VF */
	REQUIRE(put_file(c, "sys/bus/pci/devices/0000:02:00.0/sriov_numvfs", "65535\n"));
	REQUIRE(put_file(c, "sys/bus/pci/devices/0000:01:00.0/sriov_offset", "1024\n"));
	check_vf(c, "0000:02:00.3", "0000:02:00.0", __LINE__);
	check_vf(c, "0000:05:00.0", NULL, __LINE__);
	free(a);
	free(b);
	free(c);
}

/* --------------------------------------------------------------- topology */

TEST(inventory_flags_pci_bridges_and_host_bridges_only,
     "class 0604 and 0600 are bridges; ISA/LPC bridges (0601) and endpoints are not")
{
	FX f;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	CHECK(vfk_device_is_bridge(dev_at(&f, "0000:00:00.0")));	/* host bridge */
	CHECK(vfk_device_is_bridge(dev_at(&f, "0000:00:01.0")));	/* root port */
	CHECK(vfk_device_is_bridge(dev_at(&f, "0000:00:1c.0")));
	CHECK(!vfk_device_is_bridge(dev_at(&f, "0000:00:1f.0")));	/* LPC: an endpoint */
	CHECK(!vfk_device_is_bridge(dev_at(&f, "0000:01:00.0")));
	CHECK(!vfk_device_is_bridge(dev_at(&f, "0000:00:17.0")));
	CHECK(vfk_device_is_gpu(dev_at(&f, "0000:01:00.0")));
	CHECK(!vfk_device_is_gpu(dev_at(&f, "0000:01:00.1")));
	fx_close(&f);

	REQUIRE(fx_open(&f, "amd-switch"));
	CHECK(vfk_device_is_bridge(dev_at(&f, "0000:0b:00.0")));	/* switch upstream */
	CHECK(vfk_device_is_bridge(dev_at(&f, "0000:0c:00.0")));	/* switch downstream */
	fx_close(&f);

	REQUIRE(fx_open(&f, "sriov-server"));
	CHECK(vfk_device_is_bridge(dev_at(&f, "0000:03:00.0")));	/* PCIe-to-PCI */
}

TEST(inventory_devices_sorted_by_address_and_complete,
     "every function of the fixture is listed once, in ascending address order")
{
	static const struct { const char *host; size_t n; } hosts[] = {
		{ "desktop-dgpu-igpu", 17 }, { "nvidia-4fn", 27 }, { "amd-switch", 20 },
		{ "shared-chipset", 21 }, { "sriov-server", 27 }, { "iommu-off", 14 },
	};
	size_t h, i;

	for (h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		FX f;

		REQUIRE(fx_open(&f, hosts[h].host));
		if (vfk_host_device_count(f.host) != hosts[h].n)
			test_fail_(__FILE__, __LINE__, "%s: %zu devices, expected %zu", hosts[h].host,
				   vfk_host_device_count(f.host), hosts[h].n);
		for (i = 1; i < vfk_host_device_count(f.host); i++) {
			const char *a = vfk_device_get_address(vfk_host_device(f.host, i - 1));
			const char *b = vfk_device_get_address(vfk_host_device(f.host, i));

			if (strcmp(a, b) >= 0)
				test_fail_(__FILE__, __LINE__, "%s: %s listed before %s",
					   hosts[h].host, a, b);
		}
		CHECK(vfk_host_device(f.host, vfk_host_device_count(f.host)) == NULL);
	}
}

TEST(inventory_parent_is_the_upstream_bridge,
     "parents follow the sysfs hierarchy up through switch ports to the root bus")
{
	FX f;
	struct vfk_device *d;

	REQUIRE(fx_open(&f, "amd-switch"));
	REQUIRE((d = dev_at(&f, "0000:0d:00.0")));
	REQUIRE((d = vfk_device_get_parent(d)));
	CHECK_STREQ(vfk_device_get_address(d), "0000:0c:00.0");
	REQUIRE((d = vfk_device_get_parent(d)));
	CHECK_STREQ(vfk_device_get_address(d), "0000:0b:00.0");
	REQUIRE((d = vfk_device_get_parent(d)));
	CHECK_STREQ(vfk_device_get_address(d), "0000:00:03.1");
	CHECK(vfk_device_get_parent(d) == NULL);
	CHECK(vfk_device_get_parent(dev_at(&f, "0000:00:14.0")) == NULL);
	fx_close(&f);

	/* a VF's parent is its PF's parent, not the PF */
	REQUIRE(fx_open(&f, "sriov-server"));
	REQUIRE((d = dev_at(&f, "0000:01:02.1")));
	REQUIRE((d = vfk_device_get_parent(d)));
	CHECK_STREQ(vfk_device_get_address(d), "0000:00:01.1");
}

/* --------------------------------------------------------------- lookup */

TEST(find_device_accepts_full_short_and_uppercase_addresses,
     "DDDD:BB:DD.F and BB:DD.F, any hex case, find the same device")
{
	FX f;
	struct vfk_device *a = NULL, *b = NULL, *c = NULL;

	REQUIRE(fx_open(&f, "amd-switch"));
	CHECK_INT(vfk_host_find_device(f.host, "0000:0d:00.0", &a), 0);
	CHECK_INT(vfk_host_find_device(f.host, "0d:00.0", &b), 0);
	CHECK_INT(vfk_host_find_device(f.host, "0000:0D:00.0", &c), 0);
	REQUIRE(a != NULL);
	CHECK(a == b);
	CHECK(a == c);
	CHECK_STREQ(vfk_device_get_address(a), "0000:0d:00.0");
}

TEST(find_device_rejects_malformed_addresses_with_einval,
     "anything but a PCI address (paths, spaces, out-of-range parts) is -EINVAL")
{
	static const char *const bad[] = {
		"", "01:00", "1:00", "0000:01:00", "0000:01:00.8", "0000:01:20.0",
		"0000:01:00.0 ", " 0000:01:00.0", "0000:01:00.0/", "../../etc/passwd",
		"zz:00.0", "0000:01:00.0.1", "00000:01:00.0", "0000:100:00.0", "0000:01:00.-1",
		"0000-01-00.0", "0x00:01:00.0", "0000:01:00.0\n", "0000:01:0g.0",
	};
	FX f;
	size_t i;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vfk_device *d = NULL;
		struct vfk_pci_addr pa;
		int r = vfk_host_find_device(f.host, bad[i], &d);

		if (r != -EINVAL)
			test_fail_(__FILE__, __LINE__, "find_device(\"%s\") = %d, expected -EINVAL",
				   bad[i], r);
		r = vfk_pci_addr_parse(bad[i], &pa);
		if (r != -EINVAL)
			test_fail_(__FILE__, __LINE__, "vfk_pci_addr_parse(\"%s\") = %d, expected -EINVAL",
				   bad[i], r);
	}
}

TEST(find_device_absent_address_gives_enodev,
     "a well-formed address with no device behind it is -ENODEV")
{
	FX f;
	struct vfk_device *d = NULL;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	CHECK_INT(vfk_host_find_device(f.host, "0000:09:00.0", &d), -ENODEV);
	CHECK_INT(vfk_host_find_device(f.host, "0001:01:00.0", &d), -ENODEV);
	CHECK_INT(vfk_host_find_device(f.host, "01:00.7", &d), -ENODEV);
}

TEST(pci_addr_parse_and_format_round_trip,
     "parsing fills domain/bus/dev/fn and formatting gives the canonical lowercase form")
{
	struct vfk_pci_addr a;
	char buf[16];

	CHECK_INT(vfk_pci_addr_parse("0A:1f.7", &a), 0);
	CHECK_INT(a.domain, 0);
	CHECK_INT(a.bus, 0x0a);
	CHECK_INT(a.dev, 0x1f);
	CHECK_INT(a.fn, 7);
	CHECK_STREQ(vfk_pci_addr_format(&a, buf, sizeof(buf)), "0000:0a:1f.7");
	CHECK_INT(vfk_pci_addr_parse("10000:00:00.0", &a), -EINVAL);
	CHECK_INT(vfk_pci_addr_parse("FFFF:ff:1F.0", &a), 0);
	CHECK_INT(a.domain, 0xffff);
	CHECK_STREQ(vfk_pci_addr_format(&a, buf, sizeof(buf)), "ffff:ff:1f.0");
}

/* --------------------------------------------------------------- groups */

TEST(groups_come_from_iommu_group_links,
     "group ids and members match the iommu_group links; groups sorted by id")
{
	FX f;
	struct vfk_group *g = NULL;
	size_t i;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	CHECK(vfk_host_iommu_enabled(f.host));
	CHECK_INT(vfk_host_group_count(f.host), 11);
	for (i = 1; i < vfk_host_group_count(f.host); i++)
		CHECK(vfk_group_get_id(vfk_host_group(f.host, i - 1)) <
		      vfk_group_get_id(vfk_host_group(f.host, i)));
	CHECK_INT(vfk_device_get_iommu_group(dev_at(&f, "0000:01:00.0")), 9);
	CHECK_INT(vfk_device_get_iommu_group(dev_at(&f, "0000:01:00.1")), 9);
	CHECK_INT(vfk_device_get_iommu_group(dev_at(&f, "0000:03:00.0")), 7);
	REQUIRE(vfk_host_find_group(f.host, 9, &g) == 0);
	REQUIRE(g != NULL);
	CHECK_INT(vfk_group_get_id(g), 9);
	REQUIRE(vfk_group_device_count(g) == 2);
	CHECK_STREQ(vfk_device_get_address(vfk_group_device(g, 0)), "0000:01:00.0");
	CHECK_STREQ(vfk_device_get_address(vfk_group_device(g, 1)), "0000:01:00.1");
	/* the PCH root port's group holds the port and the NIC behind it */
	REQUIRE(vfk_host_find_group(f.host, 7, &g) == 0);
	CHECK_INT(vfk_group_device_count(g), 2);
	CHECK_INT(vfk_host_find_group(f.host, 42, &g), -ENOENT);
	fx_close(&f);

	REQUIRE(fx_open(&f, "shared-chipset"));
	REQUIRE(vfk_host_find_group(f.host, 6, &g) == 0);
	CHECK_INT(vfk_group_device_count(g), 7);
	fx_close(&f);

	/* the AMD IOMMU device itself is in no group */
	REQUIRE(fx_open(&f, "nvidia-4fn"));
	CHECK_INT(vfk_device_get_iommu_group(dev_at(&f, "0000:00:00.2")), -1);
}

TEST(iommu_off_host_has_no_groups_but_lists_devices,
     "with no IOMMU groups, iommu_enabled is false and every device is still listed")
{
	FX f;
	size_t i;

	REQUIRE(fx_open(&f, "iommu-off"));
	CHECK(!vfk_host_iommu_enabled(f.host));
	CHECK_INT(vfk_host_group_count(f.host), 0);
	CHECK_INT(vfk_host_device_count(f.host), 14);
	for (i = 0; i < vfk_host_device_count(f.host); i++)
		CHECK_INT(vfk_device_get_iommu_group(vfk_host_device(f.host, i)), -1);
	CHECK_INT(vfk_host_gpu_count(f.host), 2);
}

/* --------------------------------------------------------------- ACS */

TEST(acs_state_read_from_extended_config_space,
     "ACS enabled, absent, present-but-not-enabled and not-PCIe are told apart")
{
	FX f;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	CHECK_INT(vfk_device_get_acs(dev_at(&f, "0000:00:01.0")), VFK_ACS_ENABLED);
	CHECK_INT(vfk_device_get_acs(dev_at(&f, "0000:00:06.0")), VFK_ACS_ENABLED);
	CHECK_INT(vfk_device_get_acs(dev_at(&f, "0000:00:1c.0")), VFK_ACS_NONE);
	CHECK_INT(vfk_device_get_acs(dev_at(&f, "0000:00:14.0")), VFK_ACS_NOT_PCIE);
	fx_close(&f);

	REQUIRE(fx_open(&f, "amd-switch"));
	CHECK_INT(vfk_device_get_acs(dev_at(&f, "0000:0c:00.0")), VFK_ACS_ENABLED);
	CHECK_INT(vfk_device_get_acs(dev_at(&f, "0000:03:08.0")), VFK_ACS_NONE);
	fx_close(&f);

	REQUIRE(fx_open(&f, "acs-redir-off"));
	CHECK_INT(vfk_device_get_acs(dev_at(&f, "0000:00:03.1")), VFK_ACS_DISABLED);
	CHECK_INT(vfk_device_get_acs(dev_at(&f, "0000:00:01.1")), VFK_ACS_ENABLED);
	fx_close(&f);

	REQUIRE(fx_open(&f, "nonroot"));
	CHECK_INT(vfk_device_get_acs(dev_at(&f, "0000:00:01.0")), VFK_ACS_UNKNOWN);
	CHECK_INT(vfk_device_get_acs(dev_at(&f, "0000:00:1c.0")), VFK_ACS_UNKNOWN);
}

TEST(acs_to_string_names_every_state,
     "each ACS state has a distinct non-empty name")
{
	static const enum vfk_acs all[] = { VFK_ACS_UNKNOWN, VFK_ACS_NONE, VFK_ACS_DISABLED,
					    VFK_ACS_ENABLED, VFK_ACS_NOT_PCIE };
	size_t i, j;

	for (i = 0; i < 5; i++) {
		const char *s = vfk_acs_to_string(all[i]);

		CHECK(s && *s);
		for (j = 0; j < i; j++)
			CHECK(strcmp(s, vfk_acs_to_string(all[j])) != 0);
	}
	CHECK_CONTAINS(vfk_acs_to_string(VFK_ACS_UNKNOWN), "unknown");
}

TEST(host_scan_keeps_context_and_refcounts,
     "the host refers to its context; ref/unref pairs keep it alive")
{
	FX f;
	struct vfk_host *h;

	REQUIRE(fx_open(&f, "single-gpu"));
	CHECK(vfk_host_get_ctx(f.host) == f.ctx);
	CHECK_STREQ(vfk_ctx_get_sysroot(f.ctx), f.root);
	h = vfk_host_ref(f.host);
	CHECK(h == f.host);
	CHECK(vfk_host_unref(h) == NULL);
	/* still usable after the extra reference is dropped */
	CHECK_INT(vfk_host_gpu_count(f.host), 1);
}

/* ----------------------------------------------------------------- tree */

TEST(inventory_tree_holds_every_device_once_below_its_parent,
     "the PCI tree on every fixture: roots have no parent, each child's parent is the node it "
     "is listed under, children in address order, every device listed exactly once")
{
	static const char *const hosts[] = {
		"desktop-dgpu-igpu", "nvidia-4fn", "amd-switch", "shared-chipset", "single-gpu",
		"laptop-0302", "two-identical", "sriov-server", "iommu-off", "nonroot", "ready",
		"pvm", "acs-redir-off", "shared-chipset-nonroot", "plx-8gpu", "hgx-h100",
		"pcie-links",
	};
	size_t h, i, j;

	for (h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		FX f;
		size_t listed = 0;

		REQUIRE(fx_open(&f, hosts[h]));
		for (i = 0; i < vfk_host_root_count(f.host); i++) {
			CHECK(vfk_device_get_parent(vfk_host_root(f.host, i)) == NULL);
			listed++;
		}
		CHECK(vfk_host_root(f.host, vfk_host_root_count(f.host)) == NULL);
		for (i = 0; i < vfk_host_device_count(f.host); i++) {
			struct vfk_device *d = vfk_host_device(f.host, i);
			for (j = 0; j < vfk_device_child_count(d); j++) {
				struct vfk_device *c = vfk_device_child(d, j);
				CHECK(vfk_device_get_parent(c) == d);
				if (j > 0)
					CHECK(strcmp(vfk_device_get_address(vfk_device_child(d, j - 1)),
						     vfk_device_get_address(c)) < 0);
				listed++;
			}
			CHECK(vfk_device_child(d, j) == NULL);
		}
		if (listed != vfk_host_device_count(f.host))
			test_fail_(__FILE__, __LINE__, "%s: the tree lists %zu of %zu devices",
				   hosts[h], listed, vfk_host_device_count(f.host));
	}
}

TEST(inventory_group_merge_names_the_bridge_where_a_shared_group_starts,
     "a shared group is marked at its top bridges with the ports lacking ACS; groups of one "
     "card, a port with one endpoint, and host bridges are not marked")
{
	FX f;

	REQUIRE(fx_open(&f, "amd-switch"));
	/* the chipset switch: its upstream port starts group 8 */
	CHECK_STREQ(vfk_device_get_group_merge(dev_at(&f, "0000:02:00.0")),
		    "downstream ports without ACS: 0000:03:08.0, 0000:03:09.0");
	CHECK(vfk_device_get_group_merge(dev_at(&f, "0000:03:08.0")) == NULL);
	CHECK(vfk_device_get_group_merge(dev_at(&f, "0000:04:00.0")) == NULL);
	CHECK(vfk_device_get_group_merge(dev_at(&f, "0000:00:03.1")) == NULL);
	CHECK(vfk_device_get_group_merge(dev_at(&f, "0000:0b:00.0")) == NULL);
	fx_close(&f);

	/* root ports of one slot without ACS: each starts group 6 */
	REQUIRE(fx_open(&f, "shared-chipset"));
	CHECK_STREQ(vfk_device_get_group_merge(dev_at(&f, "0000:00:1c.0")),
		    "root ports without ACS: 0000:00:1c.0, 0000:00:1c.2, 0000:00:1c.4");
	CHECK(vfk_device_get_group_merge(dev_at(&f, "0000:00:1c.4")) != NULL);
	/* the PEG port's group holds only the GTX 1080's slot */
	CHECK(vfk_device_get_group_merge(dev_at(&f, "0000:00:01.0")) == NULL);
	CHECK(vfk_device_get_group_merge(dev_at(&f, "0000:00:00.0")) == NULL);
	fx_close(&f);

	/* a port with a single endpoint below shares nothing */
	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	CHECK(vfk_device_get_group_merge(dev_at(&f, "0000:00:1c.0")) == NULL);
	fx_close(&f);

	/* not root: ACS cannot be read, and the reason says so */
	REQUIRE(fx_open(&f, "shared-chipset-nonroot"));
	CHECK_CONTAINS(vfk_device_get_group_merge(dev_at(&f, "0000:00:1c.0")),
		       "ACS unknown: extended config space not readable (run as root)");
}

/* ----------------------------------------------------------------- link */

TEST(inventory_link_speed_strings_to_mts,
     "vfk_link_speed_mts reads the kernel's speed strings, old and new, and nothing else")
{
	CHECK_INT(vfk_link_speed_mts("2.5 GT/s PCIe"), 2500);
	CHECK_INT(vfk_link_speed_mts("16.0 GT/s PCIe"), 16000);
	CHECK_INT(vfk_link_speed_mts("8 GT/s"), 8000);
	CHECK_INT(vfk_link_speed_mts("5.0 GT/s"), 5000);
	CHECK_INT(vfk_link_speed_mts("64.0 GT/s PCIe"), 64000);
	CHECK_INT(vfk_link_speed_mts("Unknown"), 0);
	CHECK_INT(vfk_link_speed_mts("16.0"), 0);
	CHECK_INT(vfk_link_speed_mts(""), 0);
	CHECK_INT(vfk_link_speed_mts(NULL), 0);
	CHECK_INT(vfk_link_speed_mts("99999999999 GT/s"), 0);
}

static const struct vfk_gpu *gpu_at(const struct fx *f, const char *addr)
{
	size_t i;

	for (i = 0; i < vfk_host_gpu_count(f->host); i++)
		if (!strcmp(vfk_device_get_address(vfk_gpu_get_device(vfk_host_gpu(f->host, i))), addr))
			return vfk_host_gpu(f->host, i);
	test_fail_(__FILE__, __LINE__, "no GPU %s", addr);
	return NULL;
}

TEST(inventory_gpu_link_verdicts,
     "degraded (x16 card at x8 in a x16 slot), slot-limited (x16 card in a x8 or x4 slot, a "
     "switch on the card looked through), idle (2.5 GT/s in D3hot), ok, and none for an iGPU")
{
	FX f;
	const struct vfk_gpu *g;

	REQUIRE(fx_open(&f, "pcie-links"));
	REQUIRE((g = gpu_at(&f, "0000:01:00.0")));
	CHECK_INT(vfk_gpu_get_link_verdict(g), VFK_LINK_DEGRADED);
	CHECK_STREQ(vfk_gpu_get_link_reason(g), "trained at x8 although both ends do x16");
	CHECK_STREQ(vfk_device_get_address(vfk_gpu_get_link_port(g)), "0000:00:01.1");
	REQUIRE((g = gpu_at(&f, "0000:04:00.0")));
	CHECK_INT(vfk_gpu_get_link_verdict(g), VFK_LINK_SLOT_LIMITED);
	CHECK_STREQ(vfk_device_get_address(vfk_gpu_get_link_device(g)), "0000:02:00.0");
	CHECK_STREQ(vfk_device_get_address(vfk_gpu_get_link_port(g)), "0000:00:01.2");
	CHECK_STREQ(vfk_gpu_get_link_reason(g), "the slot is x8 (electrically); the card is x16");
	REQUIRE((g = gpu_at(&f, "0000:08:00.0")));
	CHECK_INT(vfk_gpu_get_link_verdict(g), VFK_LINK_SLOT_LIMITED);
	CHECK_STREQ(vfk_gpu_get_link_reason(g), "the slot is x4 (electrically); the card is x16");
	REQUIRE((g = gpu_at(&f, "0000:0a:00.0")));
	CHECK_INT(vfk_gpu_get_link_verdict(g), VFK_LINK_IDLE);
	CHECK_CONTAINS(vfk_gpu_get_link_reason(g), "may be idle power saving, check under load");
	CHECK_STREQ(vfk_link_verdict_to_string(VFK_LINK_SLOT_LIMITED), "slot-limited");
	fx_close(&f);

	REQUIRE(fx_open(&f, "shared-chipset"));
	REQUIRE((g = gpu_at(&f, "0000:01:00.0")));
	CHECK_INT(vfk_gpu_get_link_verdict(g), VFK_LINK_OK);
	/* a x16 card in the chipset's x4 slot, idling: the slot is what lasts */
	REQUIRE((g = gpu_at(&f, "0000:02:00.0")));
	CHECK_INT(vfk_gpu_get_link_verdict(g), VFK_LINK_SLOT_LIMITED);
	CHECK_CONTAINS(vfk_gpu_get_link_reason(g), "the slot is x4 (electrically); the card is x16");
	CHECK_CONTAINS(vfk_gpu_get_link_reason(g), "idle power saving");
	REQUIRE((g = gpu_at(&f, "0000:00:02.0")));
	CHECK_INT(vfk_gpu_get_link_verdict(g), VFK_LINK_UNKNOWN);
	CHECK(vfk_gpu_get_link_device(g) == NULL);
	CHECK_STREQ(vfk_gpu_get_link_reason(g), "integrated: no PCIe link of its own");
	fx_close(&f);

	/* an RX 6800's own switch: the link to the slot is its upstream port's */
	REQUIRE(fx_open(&f, "amd-switch"));
	REQUIRE((g = gpu_at(&f, "0000:0d:00.0")));
	CHECK_STREQ(vfk_device_get_address(vfk_gpu_get_link_device(g)), "0000:0b:00.0");
	CHECK_STREQ(vfk_device_get_address(vfk_gpu_get_link_port(g)), "0000:00:03.1");
}

TEST(inventory_gpu_link_speed_below_both_ends_is_degraded_unless_idle,
     "at 8.0 GT/s in D0 where both ends do 16.0: degraded; at 2.5 GT/s in D0: idle; link down "
     "in D3cold: unknown, saying so")
{
	static const struct { const char *speed, *power; enum vfk_link_verdict v; const char *why; } c[] = {
		{ "8.0 GT/s PCIe", "D0", VFK_LINK_DEGRADED,
		  "trained at 8.0 GT/s although both ends do 16.0 GT/s" },
		{ "2.5 GT/s PCIe", "D0", VFK_LINK_IDLE, "at 2.5 GT/s now, 16.0 GT/s possible" },
		{ "5.0 GT/s PCIe", "D3hot", VFK_LINK_IDLE, "may be idle power saving" },
		{ "Unknown", "D3cold", VFK_LINK_UNKNOWN, "in D3cold: its link is down" },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *root = fixture_host("pcie-links");
		struct vfk_ctx *ctx = NULL;
		struct vfk_host *host = NULL;
		struct vfk_device *d = NULL;
		const struct vfk_gpu *g = NULL;
		size_t k;

		REQUIRE(root);
		REQUIRE(put_file(root, "sys/bus/pci/devices/0000:0a:00.0/current_link_speed", c[i].speed));
		REQUIRE(put_file(root, "sys/bus/pci/devices/0000:0a:00.0/power_state", c[i].power));
		REQUIRE(vfk_ctx_new(root, &ctx) == 0);
		REQUIRE(vfk_host_scan(ctx, &host) == 0);
		REQUIRE(vfk_host_find_device(host, "0000:0a:00.0", &d) == 0);
		for (k = 0; k < vfk_host_gpu_count(host); k++)
			if (vfk_gpu_get_device(vfk_host_gpu(host, k)) == d)
				g = vfk_host_gpu(host, k);
		REQUIRE(g);
		CHECK_INT(vfk_gpu_get_link_verdict(g), c[i].v);
		CHECK_CONTAINS(vfk_gpu_get_link_reason(g), c[i].why);
		vfk_host_unref(host);
		vfk_ctx_unref(ctx);
		free(root);
	}
}
