/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VM plans on fixture hosts: every GPU mode decision, pinning, huge pages, features. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vmtest.h"

static const char *gpu_addr(const struct vmenv *e)
{
	struct vfk_gpu *g = vfk_plan_get_gpu(e->plan);

	return g ? vfk_device_get_address(vfk_gpu_get_device(g)) : "(none)";
}

/* vCPU pins as a list "8,24,9,25" */
static char *pins(const struct vmenv *e)
{
	static char buf[4096];
	unsigned int i;
	size_t len = 0;

	buf[0] = '\0';
	for (i = 0; i < vfk_plan_get_vcpus(e->plan) && len < sizeof(buf) - 16; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%d", i ? "," : "",
					vfk_plan_get_vcpu_pin(e->plan, i));
	return buf;
}

static void check_topology_matches(const struct vmenv *e)
{
	unsigned int s, d, c, t;

	vfk_plan_get_topology(e->plan, &s, &d, &c, &t);
	CHECK_INT(s * d * c * t, vfk_plan_get_vcpus(e->plan));
}

/* ------------------------------------------------------------ mode decisions */

TEST(plan_auto_passthrough_isolated_dgpu, "auto: the isolated dGPU that is not the host's display is passed through")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "desktop-dgpu-igpu", "[vm]\nname = t\n") == 0);
	CHECK_INT(vfk_plan_get_mode(e.plan), VFK_GPU_MODE_PASSTHROUGH);
	CHECK_STREQ(gpu_addr(&e), "0000:01:00.0");
	CHECK_CONTAINS(vfk_plan_get_mode_reason(e.plan), "auto: 0000:01:00.0");
	CHECK_CONTAINS(vfk_plan_get_mode_reason(e.plan), "isolated (IOMMU group 9, 2 functions)");
	CHECK(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_PASSTHROUGH) == NULL);
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_MDEV), "no GPU offers mediated devices");
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_VIRTIO), "but passthrough comes first");
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_EMULATED), "but passthrough comes first");
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_NONE), "auto never leaves");
	CHECK(vm_note(&e, "0000:01:00.0 is on nvidia now") != NULL);
	vm_close(&e);
}

TEST(plan_auto_only_gpu_goes_virtio_with_virgl, "auto: the host's only GPU is not taken; virtio-gpu with virgl on its render node")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "single-gpu", "[vm]\nname = t\n") == 0);
	CHECK_INT(vfk_plan_get_mode(e.plan), VFK_GPU_MODE_VIRTIO);
	CHECK(vfk_plan_get_virgl(e.plan));
	CHECK_STREQ(vfk_plan_get_render_node(e.plan), "/dev/dri/renderD128");
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_PASSTHROUGH),
		       "0000:0a:00.0 is the host's only GPU");
	CHECK(vfk_plan_get_gpu(e.plan) == NULL);
	vm_close(&e);
}

TEST(plan_auto_windows_without_gpu_is_emulated, "auto: a Windows guest without a GPU to pass gets QXL, virtio rejected with the reason")
{
	struct vmenv e;
	char *xml;

	REQUIRE(vm_plan(&e, "single-gpu", "[vm]\nname = t\nos = windows\n") == 0);
	CHECK_INT(vfk_plan_get_mode(e.plan), VFK_GPU_MODE_EMULATED);
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_VIRTIO), "Windows has no virtio-gpu 3D driver");
	xml = vm_xml(&e);
	CHECK_CONTAINS(xml, "<model type=\"qxl\"");
	free(xml);
	vm_close(&e);
}

TEST(plan_auto_iommu_off_rejects_passthrough, "auto: without IOMMU groups passthrough is rejected saying so")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "iommu-off", "[vm]\nname = t\n") == 0);
	CHECK(vfk_plan_get_mode(e.plan) != VFK_GPU_MODE_PASSTHROUGH);
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_PASSTHROUGH), "the IOMMU is off");
	vm_close(&e);
}

TEST(plan_explicit_passthrough_impossible_is_error, "mode = passthrough that cannot be met fails with the reason")
{
	struct vmenv e;

	CHECK_INT(vm_plan(&e, "iommu-off", "[gpu]\nmode = passthrough\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "mode = passthrough is not possible on this host: the IOMMU is off");
	vm_close(&e);
}

TEST(plan_shared_group_names_blockers, "a selected GPU in a shared group is rejected naming the group and the devices in it")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "shared-chipset", "[gpu]\ndevice = GTX 970\n") == 0);
	CHECK(vfk_plan_get_mode(e.plan) != VFK_GPU_MODE_PASSTHROUGH);
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_PASSTHROUGH), "shares IOMMU group 6 with");
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_PASSTHROUGH), "no ACS");
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "shared-chipset", "[gpu]\nmode = passthrough\ndevice = GTX 970\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "shares IOMMU group 6");
	vm_close(&e);
	/* the same host's other GPU is fine */
	REQUIRE(vm_plan(&e, "shared-chipset", "[gpu]\nmode = passthrough\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:01:00.0");
	vm_close(&e);
}

TEST(plan_auto_mdev_on_gvtg, "auto: a boot-VGA iGPU offering GVT-g gives an mdev; the type and a stable UUID are planned")
{
	struct vmenv e, again;

	REQUIRE(vm_plan(&e, "intel-gvtg", "[vm]\nname = render\n") == 0);
	CHECK_INT(vfk_plan_get_mode(e.plan), VFK_GPU_MODE_MDEV);
	CHECK_STREQ(vfk_plan_get_mdev_parent(e.plan), "0000:00:02.0");
	CHECK_STREQ(vfk_plan_get_mdev_type(e.plan), "i915-GVTg_V5_8");
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_PASSTHROUGH), "only GPU");
	REQUIRE(vfk_plan_get_mdev_uuid(e.plan));
	CHECK_INT(strlen(vfk_plan_get_mdev_uuid(e.plan)), 36);
	REQUIRE(vm_plan(&again, "intel-gvtg", "[vm]\nname = render\n") == 0);
	CHECK_STREQ(vfk_plan_get_mdev_uuid(again.plan), vfk_plan_get_mdev_uuid(e.plan));
	vm_close(&again);
	vm_close(&e);
}

TEST(plan_mdev_type_asked_for, "mdev-type picks that type by name; an exhausted type fails mode = mdev")
{
	struct vmenv e;
	char *xml;

	REQUIRE(vm_plan(&e, "intel-gvtg", "[gpu]\nmode = mdev\nmdev-type = GVTg_V5_4\n") == 0);
	CHECK_STREQ(vfk_plan_get_mdev_type(e.plan), "i915-GVTg_V5_4");
	xml = vm_xml(&e);
	CHECK_CONTAINS(xml, "<hostdev mode=\"subsystem\" type=\"mdev\" model=\"vfio-pci\"");
	CHECK_CONTAINS(xml, vfk_plan_get_mdev_uuid(e.plan));
	free(xml);
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "intel-gvtg", "[gpu]\nmode = mdev\nmdev-type = i915-GVTg_V5_1\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "no free instance");
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "intel-gvtg", "[gpu]\nmode = mdev\nmdev-type = nvidia-63\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "no mediated device type matches mdev-type = nvidia-63");
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "desktop-dgpu-igpu", "[gpu]\nmode = mdev\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "no GPU offers mediated devices");
	vm_close(&e);
}

TEST(plan_mdev_device_names_a_virtual_parent, "[gpu] device may name an mdev parent that is no "
     "PCI GPU (the sample drivers' mbochs, mdpy): mode mdev plans on it; other modes and "
     "unknown names still fail as no GPU")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "testbed-mdev", "[gpu]\nmode = mdev\ndevice = mdpy\n") == 0);
	CHECK_STREQ(vfk_plan_get_mdev_parent(e.plan), "mdpy");
	CHECK_STREQ(vfk_plan_get_mdev_type(e.plan), "mdpy-vga");
	vm_close(&e);
	REQUIRE(vm_plan(&e, "testbed-mdev", "[gpu]\nmode = mdev\ndevice = mbochs\n") == 0);
	CHECK_STREQ(vfk_plan_get_mdev_parent(e.plan), "mbochs");
	CHECK_STREQ(vfk_plan_get_mdev_type(e.plan), "mbochs-small");
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "testbed-mdev", "[gpu]\nmode = passthrough\ndevice = mdpy\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "[gpu] device = mdpy: no GPU matches");
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "testbed-mdev", "[gpu]\nmode = mdev\ndevice = mtty\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "[gpu] device = mtty: no GPU matches");
	vm_close(&e);
}

TEST(plan_mdev_nvidia_vf, "NVIDIA per-VF vGPU: a free VF that takes the type is planned as a PCI hostdev")
{
	struct vmenv e;
	char *xml;
	char **argv;

	REQUIRE(vm_plan(&e, "nvidia-vgpu17-vf", "[gpu]\nmode = mdev\n") == 0);
	CHECK_INT(vfk_plan_get_mode(e.plan), VFK_GPU_MODE_MDEV);
	REQUIRE(vm_note(&e, "on VF") != NULL);
	REQUIRE(vfk_plan_get_mdev_vf(e.plan));
	CHECK(strstr(vm_note(&e, "on VF"), vfk_plan_get_mdev_vf(e.plan)) != NULL);
	xml = vm_xml(&e);
	argv = vm_argv(&e);
	CHECK_CONTAINS(xml, "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"no\">");
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:") >= 0);
	free(xml);
	vfk_argv_free(argv);
	vm_close(&e);
}

TEST(plan_mode_none_and_emulated, "mode = none plans no display device; mode = emulated plans QXL")
{
	struct vmenv e;
	char *xml;

	REQUIRE(vm_plan(&e, "desktop-dgpu-igpu", "[gpu]\nmode = none\n") == 0);
	CHECK_INT(vfk_plan_get_mode(e.plan), VFK_GPU_MODE_NONE);
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_PASSTHROUGH), "not asked for (mode = none)");
	xml = vm_xml(&e);
	CHECK_CONTAINS(xml, "<model type=\"none\"/>");
	CHECK(!strstr(xml, "<graphics"));
	free(xml);
	vm_close(&e);
	REQUIRE(vm_plan(&e, "desktop-dgpu-igpu", "[gpu]\nmode = emulated\n") == 0);
	CHECK_INT(vfk_plan_get_mode(e.plan), VFK_GPU_MODE_EMULATED);
	vm_close(&e);
}

TEST(plan_virgl_yes_needs_render_node, "virgl = yes on a host without a render node of its own fails; virgl = no plans 2D")
{
	struct vmenv e;

	CHECK_INT(vm_plan(&e, "sriov-server", "[gpu]\nmode = virtio\nvirgl = yes\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "virgl = yes, but the host has no render node");
	vm_close(&e);
	REQUIRE(vm_plan(&e, "single-gpu", "[gpu]\nmode = virtio\nvirgl = no\n") == 0);
	CHECK(!vfk_plan_get_virgl(e.plan));
	CHECK(vfk_plan_get_render_node(e.plan) == NULL);
	vm_close(&e);
}

TEST(plan_render_node_of_passed_gpu_not_used, "the render node of the GPU being passed through is not offered for virgl")
{
	struct vmenv e;

	/* ryzen-2ccd: the dGPU's renderD129 goes to the guest, the iGPU's renderD128 stays */
	REQUIRE(vm_plan(&e, "ryzen-2ccd", "[vm]\nname = t\n") == 0);
	CHECK_INT(vfk_plan_get_mode(e.plan), VFK_GPU_MODE_PASSTHROUGH);
	CHECK_CONTAINS(vfk_plan_get_rejection(e.plan, VFK_GPU_MODE_VIRTIO), "renderD128");
	vm_close(&e);
}

TEST(plan_single_gpu_passthrough_when_selected, "a selected isolated GPU is passed even when it is the only one, with a single-GPU note")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "single-gpu", "[gpu]\nmode = passthrough\ndevice = 0a:00.0\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:0a:00.0");
	CHECK(vm_note(&e, "single-GPU passthrough") != NULL);
	vm_close(&e);
}

/* ------------------------------------------------------------ selectors */

TEST(plan_selector_ambiguous_lists_candidates, "a name matching two GPUs is an error listing both")
{
	struct vmenv e;

	CHECK_INT(vm_plan(&e, "two-identical", "[gpu]\ndevice = RTX 3090\n"), -ENOTUNIQ);
	CHECK_CONTAINS(e.err, "[gpu] device = RTX 3090: ambiguous, 2 GPUs match");
	CHECK_CONTAINS(e.err, "0000:01:00.0");
	CHECK_CONTAINS(e.err, "0000:0b:00.0");
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "two-identical", "[gpu]\ndevice = 10de:2204\n"), -ENOTUNIQ);
	vm_close(&e);
}

TEST(plan_selector_forms, "a GPU is selected by address, by one of its functions, by vendor:device, by name")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "two-identical", "[gpu]\ndevice = 0000:0b:00.0\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:0b:00.0");
	vm_close(&e);
	REQUIRE(vm_plan(&e, "two-identical", "[gpu]\ndevice = 0b:00.1\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:0b:00.0");
	vm_close(&e);
	REQUIRE(vm_plan(&e, "testbed-l2", "[gpu]\ndevice = 1234:1111\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:01:00.0");
	vm_close(&e);
	REQUIRE(vm_plan(&e, "desktop-dgpu-igpu", "[gpu]\ndevice = rtx 4090\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:01:00.0");
	vm_close(&e);
}

TEST(plan_selector_no_match_or_not_gpu, "a selector matching nothing lists the GPUs; an address of a non-GPU is refused")
{
	struct vmenv e;

	CHECK_INT(vm_plan(&e, "desktop-dgpu-igpu", "[gpu]\ndevice = Radeon\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "[gpu] device = Radeon: no GPU matches (GPUs: 0000:00:02.0");
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "desktop-dgpu-igpu", "[gpu]\ndevice = 0000:02:00.0\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "is not a GPU");
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "desktop-dgpu-igpu", "[gpu]\ndevice = 0000:42:00.0\n"), -ENODEV);
	CHECK_CONTAINS(e.err, "no such PCI device");
	vm_close(&e);
}

TEST(plan_selector_ignored_without_host_gpu, "with mode virtio the selector is not used, and a note says so")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "two-identical", "[gpu]\nmode = virtio\ndevice = RTX 3090\n") == 0);
	CHECK(vm_note(&e, "[gpu] device = RTX 3090 is ignored") != NULL);
	vm_close(&e);
}

/* ------------------------------------------------------------ pinning */

TEST(plan_pin_two_ccds_one_l3, "16-core SMT host with 2 CCDs: auto pins the whole CCD without the host's core")
{
	struct vmenv e;
	unsigned int s, d, c, t;

	REQUIRE(vm_plan(&e, "ryzen-2ccd", "[vm]\nname = t\n") == 0);
	CHECK_INT(vfk_plan_get_vcpus(e.plan), 16);
	CHECK_STREQ(pins(&e), "8,24,9,25,10,26,11,27,12,28,13,29,14,30,15,31");
	CHECK_STREQ(vfk_plan_get_emulator_cpus(e.plan), "0,16");
	vfk_plan_get_topology(e.plan, &s, &d, &c, &t);
	CHECK_INT(s, 1);
	CHECK_INT(c, 8);
	CHECK_INT(t, 2);
	vm_close(&e);
}

TEST(plan_pin_small_request_stays_in_one_ccd, "8 vCPUs: 4 whole cores of one CCD, the one the host does not use")
{
	struct vmenv e;
	unsigned int i;

	REQUIRE(vm_plan(&e, "ryzen-2ccd", "[vm]\nvcpus = 8\n") == 0);
	CHECK_INT(vfk_plan_get_vcpus(e.plan), 8);
	CHECK_STREQ(pins(&e), "8,24,9,25,10,26,11,27");
	for (i = 0; i < 8; i += 2)	/* siblings pair up as guest threads */
		CHECK_INT(vfk_plan_get_vcpu_pin(e.plan, i) + 16, vfk_plan_get_vcpu_pin(e.plan, i + 1));
	check_topology_matches(&e);
	vm_close(&e);
}

TEST(plan_pin_numa_gpu_node, "16-core SMT host, 2 CCDs, GPU on node 1: vCPUs and memory on node-1 cores of one CCD")
{
	struct vmenv e;
	unsigned int i;

	REQUIRE(vm_plan(&e, "threadripper-numa", "[vm]\nvcpus = 8\nmemory = 8G\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:41:00.0");
	for (i = 0; i < vfk_plan_get_vcpus(e.plan); i++) {
		int cpu = vfk_plan_get_vcpu_pin(e.plan, i);
		CHECK((cpu >= 8 && cpu <= 15) || (cpu >= 24 && cpu <= 31));
	}
	CHECK_INT(vfk_plan_get_memory_node(e.plan), 1);
	CHECK(vm_note(&e, "among the GPU's local CPUs") != NULL);
	CHECK(vm_note(&e, "vCPUs on NUMA node 1 (the GPU's node)") != NULL);
	vm_close(&e);
}

TEST(plan_pin_numa_spills_when_too_big, "vCPUs that do not fit the GPU's node span nodes, the GPU's CCD first")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "threadripper-numa", "[vm]\nvcpus = 20\n") == 0);
	CHECK_INT(vfk_plan_get_vcpus(e.plan), 20);
	CHECK_INT(vfk_plan_get_vcpu_pin(e.plan, 0), 8);
	CHECK_INT(vfk_plan_get_vcpu_pin(e.plan, 16), 1);
	CHECK(vm_note(&e, "20 vCPUs do not fit the 16 CPUs local to the GPU") != NULL);
	CHECK(vm_note(&e, "2 L3 domains") != NULL);
	check_topology_matches(&e);
	vm_close(&e);
}

TEST(plan_pin_odd_request_rounds_to_cores, "an odd vCPU count on an SMT host is rounded up to whole cores, with a note")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "ryzen-2ccd", "[vm]\nvcpus = 5\n") == 0);
	CHECK_INT(vfk_plan_get_vcpus(e.plan), 6);
	CHECK(vm_note(&e, "vcpus = 5 rounded up to 6") != NULL);
	check_topology_matches(&e);
	vm_close(&e);
}

TEST(plan_pin_host_cores, "host-cores = 2 keeps the first two cores and their siblings for emulator and I/O threads")
{
	struct vmenv e;
	char *xml;

	REQUIRE(vm_plan(&e, "ryzen-2ccd", "[vm]\nvcpus = 4\n[tuning]\nhost-cores = 2\n") == 0);
	CHECK_STREQ(vfk_plan_get_emulator_cpus(e.plan), "0-1,16-17");
	xml = vm_xml(&e);
	CHECK_CONTAINS(xml, "<emulatorpin cpuset=\"0-1,16-17\"/>");
	CHECK_CONTAINS(xml, "<iothreadpin iothread=\"1\" cpuset=\"0-1,16-17\"/>");
	free(xml);
	vm_close(&e);
}

TEST(plan_pin_intel_single_l3, "one L3 per package: every core but the first, with siblings (i7-12700K: 18 vCPUs)")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "desktop-dgpu-igpu", "[vm]\nname = t\n") == 0);
	CHECK_INT(vfk_plan_get_vcpus(e.plan), 18);
	CHECK_STREQ(vfk_plan_get_emulator_cpus(e.plan), "0,10");
	CHECK_INT(vfk_plan_get_vcpu_pin(e.plan, 0), 1);
	CHECK_INT(vfk_plan_get_vcpu_pin(e.plan, 1), 11);
	check_topology_matches(&e);
	vm_close(&e);
}

TEST(plan_pin_too_many_vcpus_unpinned, "more vCPUs than host CPUs left: not pinned, said so")
{
	struct vmenv e;
	char *xml;

	REQUIRE(vm_plan(&e, "ryzen-2ccd", "[vm]\nvcpus = 40\n") == 0);
	CHECK_INT(vfk_plan_get_vcpus(e.plan), 40);
	CHECK_INT(vfk_plan_get_vcpu_pin(e.plan, 0), -1);
	CHECK(vfk_plan_get_emulator_cpus(e.plan) == NULL);
	CHECK(vm_note(&e, "not pinned: more than the 30 host CPUs") != NULL);
	check_topology_matches(&e);
	xml = vm_xml(&e);
	CHECK(!strstr(xml, "<cputune>"));
	free(xml);
	vm_close(&e);
}

TEST(plan_pinning_no, "pinning = no sizes the VM the same but pins nothing")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "ryzen-2ccd", "[tuning]\npinning = no\n") == 0);
	CHECK_INT(vfk_plan_get_vcpus(e.plan), 16);
	CHECK_INT(vfk_plan_get_vcpu_pin(e.plan, 0), -1);
	CHECK(vm_note(&e, "pinning = no") != NULL);
	check_topology_matches(&e);
	vm_close(&e);
}

TEST(plan_topoext_on_amd_smt, "AMD host with SMT guest topology requires topoext; Intel does not")
{
	struct vmenv e;
	char *xml;

	REQUIRE(vm_plan(&e, "ryzen-2ccd", "[vm]\nname = t\n") == 0);
	xml = vm_xml(&e);
	CHECK_CONTAINS(xml, "<feature policy=\"require\" name=\"topoext\"/>");
	free(xml);
	vm_close(&e);
	REQUIRE(vm_plan(&e, "desktop-dgpu-igpu", "[vm]\nname = t\n") == 0);
	xml = vm_xml(&e);
	CHECK(!strstr(xml, "topoext"));
	free(xml);
	vm_close(&e);
}

/* ------------------------------------------------------------ huge pages */

TEST(plan_hugepages_1g_when_enough, "1 GiB pages when configured and enough are free")
{
	struct vmenv e;
	char *xml;

	REQUIRE(vm_plan(&e, "ryzen-2ccd", "[vm]\nmemory = 16G\n") == 0);
	CHECK_INT(vfk_plan_get_hugepage_kib(e.plan), 1048576);
	xml = vm_xml(&e);
	CHECK_CONTAINS(xml, "<page size=\"1048576\" unit=\"KiB\"/>");
	free(xml);
	vm_close(&e);
}

TEST(plan_hugepages_per_node, "huge pages are counted on the GPU's node: 1G when it has enough, else 2M, else none")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "threadripper-numa", "[vm]\nmemory = 8G\nvcpus = 4\n") == 0);
	CHECK_INT(vfk_plan_get_hugepage_kib(e.plan), 1048576);
	CHECK(vm_note(&e, "1 GiB huge pages (8 needed, 8 free on node 1)") != NULL);
	vm_close(&e);
	/* node 0 has 16 free 1G pages, node 1 only 8: 2 MiB pages on node 1 */
	REQUIRE(vm_plan(&e, "threadripper-numa", "[vm]\nmemory = 16G\nvcpus = 4\n") == 0);
	CHECK_INT(vfk_plan_get_hugepage_kib(e.plan), 2048);
	CHECK(vm_note(&e, "too few 1 GiB pages free") != NULL);
	vm_close(&e);
	REQUIRE(vm_plan(&e, "threadripper-numa", "[vm]\nmemory = 32G\nvcpus = 4\n") == 0);
	CHECK_INT(vfk_plan_get_hugepage_kib(e.plan), 0);
	CHECK(vm_note(&e, "normal pages: not enough free huge pages on node 1") != NULL);
	vm_close(&e);
}

TEST(plan_hugepages_2m_global, "2 MiB pages from the global pool when enough; otherwise normal pages and how to reserve")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "ready", "[vm]\nmemory = 8G\n") == 0);
	CHECK_INT(vfk_plan_get_hugepage_kib(e.plan), 2048);
	vm_close(&e);
	REQUIRE(vm_plan(&e, "ready", "[vm]\nmemory = 9G\n") == 0);
	CHECK_INT(vfk_plan_get_hugepage_kib(e.plan), 0);
	CHECK(vm_note(&e, "sysctl vm.nr_hugepages=4608") != NULL);
	vm_close(&e);
}

TEST(plan_hugepages_explicit, "hugepages = no uses normal pages; hugepages = 1G is kept with a warning when short")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "ryzen-2ccd", "[vm]\nmemory = 16G\n[tuning]\nhugepages = no\n") == 0);
	CHECK_INT(vfk_plan_get_hugepage_kib(e.plan), 0);
	vm_close(&e);
	REQUIRE(vm_plan(&e, "ryzen-2ccd", "[vm]\nmemory = 32G\n[tuning]\nhugepages = 1G\n") == 0);
	CHECK_INT(vfk_plan_get_hugepage_kib(e.plan), 1048576);
	CHECK(vm_note(&e, "hugepages = 1G: 32 pages needed, 16 free") != NULL);
	vm_close(&e);
}

TEST(plan_hugepages_changed_pool, "the decision follows the host's free counts (a private tree with its pool drained)")
{
	char *root = fixture_host("ryzen-2ccd");
	char path[4200];
	struct vmenv e;
	FILE *f;

	REQUIRE(root);
	/* one NUMA node: the host-wide pool counts */
	snprintf(path, sizeof(path), "%s/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", root);
	f = fopen(path, "w");
	REQUIRE(f);
	fputs("4\n", f);
	fclose(f);
	REQUIRE(vm_plan_root(&e, root, "[vm]\nmemory = 8G\n") == 0);
	CHECK_INT(vfk_plan_get_hugepage_kib(e.plan), 0);
	CHECK(vm_note(&e, "8 x 1 GiB needed, 4 free") != NULL);
	vm_close(&e);
	free(root);
}

/* ------------------------------------------------------------ features, firmware */

TEST(plan_windows_enlightenments_secure_boot_tpm, "Windows 11: Hyper-V enlightenments, hypervclock, Secure Boot OVMF, SMM and TPM 2.0")
{
	struct vmenv e;
	char *xml;

	REQUIRE(vm_plan(&e, "ready", "[vm]\nos = windows\nfirmware = uefi-secure\n") == 0);
	CHECK_STREQ(vfk_plan_get_firmware_code(e.plan), "/usr/share/OVMF/OVMF_CODE_4M.ms.fd");
	CHECK_STREQ(vfk_plan_get_firmware_vars(e.plan), "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
	xml = vm_xml(&e);
	CHECK_CONTAINS(xml, "<hyperv mode=\"custom\">");
	CHECK_CONTAINS(xml, "<spinlocks state=\"on\" retries=\"8191\"/>");
	CHECK_CONTAINS(xml, "<tlbflush state=\"on\"/>");
	CHECK_CONTAINS(xml, "<ipi state=\"on\"/>");
	CHECK_CONTAINS(xml, "<timer name=\"hypervclock\" present=\"yes\"/>");
	CHECK_CONTAINS(xml, "<smm state=\"on\"/>");
	CHECK_CONTAINS(xml, "secure=\"yes\"");
	CHECK_CONTAINS(xml, "<tpm model=\"tpm-crb\">");
	CHECK_CONTAINS(xml, "<clock offset=\"localtime\">");
	CHECK(!strstr(xml, "<kvm>"));
	free(xml);
	vm_close(&e);
}

TEST(plan_plain_uefi_and_linux, "plain uefi picks the non-Secure-Boot OVMF; Linux gets no enlightenments and no TPM")
{
	struct vmenv e;
	char *xml;

	REQUIRE(vm_plan(&e, "ready", "[vm]\nos = linux\n") == 0);
	CHECK_STREQ(vfk_plan_get_firmware_code(e.plan), "/usr/share/OVMF/OVMF_CODE_4M.fd");
	xml = vm_xml(&e);
	CHECK(!strstr(xml, "<hyperv"));
	CHECK(!strstr(xml, "<tpm"));
	CHECK_CONTAINS(xml, "secure=\"no\"");
	free(xml);
	vm_close(&e);
}

TEST(plan_kvm_hidden_vendor_id, "kvm-hidden and vendor-id for old NVIDIA drivers")
{
	struct vmenv e;
	char *xml;
	char **argv;

	REQUIRE(vm_plan(&e, "ready", "[vm]\nos = windows\n[tuning]\nkvm-hidden = yes\nvendor-id = 0123456789ab\n") == 0);
	xml = vm_xml(&e);
	CHECK_CONTAINS(xml, "<kvm>\n      <hidden state=\"on\"/>\n    </kvm>");
	CHECK_CONTAINS(xml, "<vendor_id state=\"on\" value=\"0123456789ab\"/>");
	argv = vm_argv(&e);
	CHECK(argv_find(argv, "-cpu", ",kvm=off") >= 0);
	CHECK(argv_find(argv, "-cpu", "hv-vendor-id=0123456789ab") >= 0);
	free(xml);
	vfk_argv_free(argv);
	vm_close(&e);
}

TEST(plan_tcg_fallback_on_pvm, "a kvm-pvm host cannot run the guest under KVM: TCG, QEMU's max CPU, no Hyper-V, said so")
{
	struct vmenv e;
	char *xml;

	REQUIRE(vm_plan(&e, "pvm", "[vm]\nos = windows\n") == 0);
	CHECK(!vfk_plan_uses_kvm(e.plan));
	CHECK(vm_note(&e, "falling back to TCG") != NULL);
	CHECK(vm_note(&e, "Hyper-V enlightenments need KVM") != NULL);
	xml = vm_xml(&e);
	CHECK_CONTAINS(xml, "<domain type=\"qemu\">");
	CHECK_CONTAINS(xml, "<cpu mode=\"maximum\"");
	free(xml);
	vm_close(&e);
}

TEST(plan_ovmf_missing_noted, "without OVMF under the sysroot the plan says so and assumes Debian's path")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "single-gpu", "[vm]\nfirmware = uefi\n") == 0);
	CHECK(vm_note(&e, "OVMF not found under the sysroot") != NULL);
	CHECK_STREQ(vfk_plan_get_firmware_code(e.plan), "/usr/share/OVMF/OVMF_CODE_4M.fd");
	vm_close(&e);
	REQUIRE(vm_plan(&e, "single-gpu", "[vm]\nfirmware = bios\n") == 0);
	CHECK(vfk_plan_get_firmware_code(e.plan) == NULL);
	vm_close(&e);
}

/* ------------------------------------------------------------ Looking Glass */

TEST(plan_looking_glass_sizes, "ivshmem = w*h*4*2 + 10 MiB, rounded up to a power of two (MiB)")
{
	CHECK_INT(vfk_looking_glass_size_mib(1920, 1080), 32);
	CHECK_INT(vfk_looking_glass_size_mib(2560, 1440), 64);
	CHECK_INT(vfk_looking_glass_size_mib(3440, 1440), 64);
	CHECK_INT(vfk_looking_glass_size_mib(3840, 2160), 128);
	CHECK_INT(vfk_looking_glass_size_mib(1280, 720), 32);
	CHECK_INT(vfk_looking_glass_size_mib(640, 480), 16);
	CHECK_INT(vfk_looking_glass_size_mib(7680, 4320), 512);
}

TEST(plan_looking_glass_in_outputs, "Looking Glass adds ivshmem of the right size to XML and argv, and a SPICE display")
{
	struct vmenv e;
	char *xml;
	char **argv;

	REQUIRE(vm_plan(&e, "ready", "[display]\nlooking-glass = yes\nresolution = 3840x2160\n") == 0);
	CHECK_INT(vfk_plan_get_ivshmem_mib(e.plan), 128);
	xml = vm_xml(&e);
	CHECK_CONTAINS(xml, "<shmem name=\"looking-glass\">\n      <model type=\"ivshmem-plain\"/>\n      <size unit=\"M\">128</size>");
	CHECK_CONTAINS(xml, "<graphics type=\"spice\"");
	CHECK_CONTAINS(xml, "<model type=\"none\"/>");
	argv = vm_argv(&e);
	CHECK(argv_find(argv, "-object", "memory-backend-file,id=looking-glass,mem-path=/dev/shm/looking-glass,size=128M,share=on") >= 0);
	CHECK(argv_find(argv, "-device", "ivshmem-plain,id=shmem0,memdev=looking-glass") >= 0);
	free(xml);
	vfk_argv_free(argv);
	vm_close(&e);
}

TEST(plan_looking_glass_ignored_without_gpu, "looking-glass with auto resolving to virtio is dropped with a note")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "single-gpu", "[display]\nlooking-glass = yes\n") == 0);
	CHECK_INT(vfk_plan_get_ivshmem_mib(e.plan), 0);
	CHECK(vm_note(&e, "looking-glass ignored") != NULL);
	vm_close(&e);
}

/* ------------------------------------------------------------ the tool */

TEST(plan_tool_json, "vfio-vm plan --json: mode, reasons for every other mode, CPU, memory, firmware")
{
	char *root = fixture_host_shared("threadripper-numa");
	char *ini = write_temp("numa.ini", "[vm]\nname = numa\nvcpus = 8\nmemory = 8G\n");
	char *out = NULL, *err = NULL;
	json_object *o, *x, *y;
	int rc;

	REQUIRE(root && ini);
	{
		const char *argv[] = { "vfio-vm", "plan", ini, "--json", "--sysroot", root, NULL };

		rc = run_tool(&out, &err, argv);
	}
	CHECK_INT(rc, 0);
	o = json_tokener_parse(out ? out : "");
	REQUIRE(o);
	CHECK(json_object_object_get_ex(o, "mode", &x));
	CHECK_STREQ(json_object_get_string(x), "passthrough");
	CHECK(json_object_object_get_ex(o, "rejected", &x));
	CHECK(json_object_object_get_ex(x, "mdev", &y));
	CHECK(json_object_object_get_ex(x, "virtio", &y));
	CHECK(json_object_object_get_ex(x, "emulated", &y));
	CHECK(json_object_object_get_ex(x, "none", &y));
	CHECK(!json_object_object_get_ex(x, "passthrough", &y));
	CHECK(json_object_object_get_ex(o, "gpu", &x));
	CHECK(json_object_object_get_ex(x, "address", &y));
	CHECK_STREQ(json_object_get_string(y), "0000:41:00.0");
	CHECK(json_object_object_get_ex(o, "cpu", &x));
	CHECK(json_object_object_get_ex(x, "pinning", &y));
	CHECK_INT(json_object_array_length(y), 8);
	CHECK(json_object_object_get_ex(x, "emulator_cpus", &y));
	CHECK_STREQ(json_object_get_string(y), "0,16");
	CHECK(json_object_object_get_ex(o, "memory", &x));
	CHECK(json_object_object_get_ex(x, "node", &y));
	CHECK_INT(json_object_get_int(y), 1);
	CHECK(json_object_object_get_ex(x, "hugepage_kib", &y));
	CHECK_INT(json_object_get_int(y), 1048576);
	json_object_put(o);
	free(out);
	free(err);
	free(ini);
	free(root);
}

TEST(plan_tool_exit_codes, "vfio-vm plan exits 1 when the host cannot meet the profile, naming why")
{
	char *root = fixture_host_shared("two-identical");
	char *ini = write_temp("amb.ini", "[gpu]\ndevice = RTX 3090\n");
	char *out = NULL, *err = NULL;
	int rc;

	REQUIRE(root && ini);
	{
		const char *argv[] = { "vfio-vm", "plan", ini, "--sysroot", root, NULL };

		rc = run_tool(&out, &err, argv);
	}
	CHECK_INT(rc, 1);
	CHECK_CONTAINS(err, "ambiguous, 2 GPUs match");
	free(out);
	free(err);
	{
		const char *argv[] = { "vfio-vm", "plan", ini, "--sysroot", root, "--set",
				       "gpu.device=0b:00.0", NULL };

		rc = run_tool(&out, &err, argv);
	}
	CHECK_INT(rc, 0);
	CHECK_CONTAINS(out, "GPU mode: passthrough");
	CHECK_CONTAINS(out, "not mdev:");
	free(out);
	free(err);
	free(ini);
	free(root);
}

TEST(plan_names_what_holds_a_server_gpu_and_calls_it_compute, "an H200 named on the HGX host: "
     "the plan calls it a compute GPU (not a laptop's dGPU) and names the processes holding "
     "it on nvidia (nvidia-persistenced, nv-fabricmanager, nv-hostengine) as what must stop "
     "before up")
{
	struct vmenv e;
	const char *n;

	REQUIRE(vm_plan(&e, "hgx-h200", "[vm]\nname = t\n[gpu]\nmode = passthrough\n"
			"device = 18:00.0\n") == 0);
	CHECK(vm_note(&e, "0000:18:00.0 is a compute GPU") != NULL);
	CHECK(vm_note(&e, "laptop") == NULL);
	n = vm_note(&e, "held open by");
	REQUIRE(n != NULL);
	CHECK_CONTAINS(n, "on the host's nvidia driver");
	CHECK_CONTAINS(n, "nvidia-persistenced(2211)");
	CHECK_CONTAINS(n, "nv-fabricmanager(2304)");
	CHECK_CONTAINS(n, "nv-hostengine(2417)");
	CHECK(vm_note(&e, "hands its functions") == NULL);	/* said once, with the holders */
	vm_close(&e);
}
