/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Several GPUs for one VM (issue 28, point 3), on the HGX H100 fixture (8
 * H100s behind four PCIe switches, two of whose groups hold two GPUs each;
 * four NVSwitches; two NUMA nodes) and the PLX 8-GPU server: [gpu] count
 * picks whole groups, preferring one switch, then one NUMA node; a
 * [gpu] device list gives a group whole or is refused; every GPU gets a root
 * port of its own on both backends, NVIDIA GPUs under one switch one
 * peer-to-peer clique; vCPUs and memory go to the GPUs' node; [gpu] fabric
 * adds the NVSwitches.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ksim.h"
#include "vmtest.h"

#define VM "[vm]\nname = train\nmemory = 64G\nvcpus = 16\n[gpu]\n"

/* The plan's GPUs, "addr(clique) addr(clique) ..." (static buffer). */
static const char *gpus(const struct vmenv *e)
{
	static char buf[1024];
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < vfk_plan_gpu_count(e->plan); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s(%d)", i ? " " : "",
					vfk_device_get_address(vfk_gpu_get_device(
						vfk_plan_gpu(e->plan, i))) + 5,
					vfk_plan_gpu_clique(e->plan, i));
	return buf;
}

/* The XML with the writer's line breaks and indents taken out, in place. */
static char *flat(char *xml)
{
	char *r = xml, *w = xml;

	while (r && *r) {
		if (*r == '\n') {
			while (*++r == ' ')
				;
			continue;
		}
		*w++ = *r++;
	}
	if (w)
		*w = '\0';
	return xml;
}

TEST(gpu_set_count_prefers_one_switch_then_one_numa_node, "count = 2 takes the two H100s "
     "under one switch (one clique); 3 and 4 stay on NUMA node 0; 6 adds a whole pair from "
     "node 1; 8 takes all, a clique per switch")
{
	static const struct { unsigned int count; const char *want; } cases[] = {
		{ 2, "18:00.0(0) 19:00.0(0)" },
		{ 3, "18:00.0(0) 19:00.0(0) 3a:00.0(-1)" },
		{ 4, "18:00.0(0) 19:00.0(0) 3a:00.0(1) 3b:00.0(1)" },
		{ 6, "18:00.0(0) 19:00.0(0) 3a:00.0(1) 3b:00.0(1) 9a:00.0(2) 9b:00.0(2)" },
		{ 8, "18:00.0(0) 19:00.0(0) 3a:00.0(1) 3b:00.0(1) 9a:00.0(2) 9b:00.0(2) "
		     "ba:00.0(3) bb:00.0(3)" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmenv e;
		char ini[256];

		snprintf(ini, sizeof(ini), VM "count = %u\n", cases[i].count);
		CHECK(vm_plan(&e, "hgx-h100", ini) == 0);
		CHECK(vfk_plan_get_mode(e.plan) == VFK_GPU_MODE_PASSTHROUGH);
		CHECK_STREQ(gpus(&e), cases[i].want);
		vm_close(&e);
	}
}

TEST(gpu_set_count_reasons_say_where_and_why_not, "plan names the switch the two chosen share, "
     "and each GPU left out says it is not among them")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "hgx-h100", VM "count = 2\n") == 0);
	CHECK_CONTAINS(vfk_plan_get_mode_reason(e.plan),
		       "2 GPUs under one PCIe switch (0000:16:00.0), whole IOMMU groups");
	for (size_t i = 0; i < vfk_plan_candidate_count(e.plan); i++) {
		const char *addr = vfk_device_get_address(vfk_gpu_get_device(
			vfk_plan_candidate_gpu(e.plan, i)));
		size_t n = vfk_plan_candidate_reason_count(e.plan, i);
		const char *last = n ? vfk_plan_candidate_reason(e.plan, i, n - 1) : "";

		if (!strcmp(addr, "0000:18:00.0") || !strcmp(addr, "0000:19:00.0"))
			CHECK_CONTAINS(last, "one of the 2 chosen under one PCIe switch");
		else if (!strcmp(addr, "0000:03:00.0"))
			CHECK_CONTAINS(last, "drives the host console");
		else
			CHECK_CONTAINS(last, "not among the 2 chosen");
	}
	vm_close(&e);
}

TEST(gpu_set_device_list_gives_a_group_whole_or_names_the_rest, "device = both GPUs of a "
     "shared group plans; one of them alone, or with a GPU of another group, is refused "
     "naming the GPU left out")
{
	struct vmenv e;

	CHECK(vm_plan(&e, "hgx-h100", VM "device = 9a:00.0, 9b:00.0\n") == 0);
	CHECK_STREQ(gpus(&e), "9a:00.0(0) 9b:00.0(0)");
	vm_close(&e);

	CHECK(vm_plan(&e, "hgx-h100", VM "device = 0000:9a:00.0\n") < 0);
	CHECK_CONTAINS(e.err, "shares IOMMU group 52 with the GPU 0000:9b:00.0");
	CHECK_CONTAINS(e.err, "[gpu] device = 0000:9a:00.0, 0000:9b:00.0 gives them together");
	CHECK(strchr(e.err, '\n') == NULL);
	vm_close(&e);

	CHECK(vm_plan(&e, "hgx-h100", VM "device = 9a:00.0, 18:00.0\n") < 0);
	CHECK_CONTAINS(e.err, "name 0000:9b:00.0 in [gpu] device too");
	vm_close(&e);
}

TEST(gpu_set_bad_lists_and_counts_are_one_line, "a GPU named twice, an empty item, a count "
     "the host cannot meet, a count that differs from the list, count with mode = mdev: "
     "each one line naming the problem")
{
	static const struct { const char *gpu, *err; } cases[] = {
		{ "device = 18:00.0, 0000:18:00.0\n", "names 0000:18:00.0 twice" },
		{ "device = 18:00.0,,19:00.0\n", "an empty GPU in the list" },
		{ "device = 18:00.0, 01:00\n", "'01:00' is neither a PCI address" },
		{ "count = 9\n", "count = 9, but 8 GPUs of this host can be given away" },
		{ "count = 17\n", "'17' is not a number from 1 to 16" },
		{ "count = 3\ndevice = 18:00.0, 19:00.0\n", "is 3, but device names 2 GPUs" },
		{ "mode = mdev\ncount = 2\n", "only for mode = passthrough or auto" },
		{ "mode = virtio\nfabric = yes\n", "only for mode = passthrough or auto" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmenv e;
		char ini[256];

		snprintf(ini, sizeof(ini), VM "%s", cases[i].gpu);
		CHECK(vm_plan(&e, "hgx-h100", ini) < 0);
		CHECK_CONTAINS(e.err, cases[i].err);
		CHECK(strchr(e.err, '\n') == NULL);
		vm_close(&e);
	}
}

TEST(gpu_set_count_takes_pairs_whole, "count = 7 (more than either node has) takes three GPUs "
     "alone and both pairs whole, never half a pair; a list across switches keeps each "
     "switch's clique")
{
	struct vmenv e;

	CHECK(vm_plan(&e, "hgx-h100", VM "count = 7\n") == 0);
	CHECK_STREQ(gpus(&e), "18:00.0(0) 19:00.0(0) 3a:00.0(-1) 9a:00.0(1) 9b:00.0(1) ba:00.0(2) "
			    "bb:00.0(2)");
	vm_close(&e);
	CHECK(vm_plan(&e, "hgx-h100", VM "device = 9a:00.0, 9b:00.0, ba:00.0, bb:00.0\n") == 0);
	CHECK_STREQ(gpus(&e), "9a:00.0(0) 9b:00.0(0) ba:00.0(1) bb:00.0(1)");
	vm_close(&e);
}

TEST(gpu_set_each_gpu_its_own_root_port_on_both_backends, "count = 4: four pcie-root-port "
     "controllers and hostdevs on guest buses 1-4, the cliques as qemu:override properties; "
     "the QEMU argv puts each GPU on its own root port with x-nv-gpudirect-clique")
{
	struct vmenv e;
	char *xml, **argv;

	REQUIRE(vm_plan(&e, "hgx-h100", VM "count = 4\n") == 0);
	xml = flat(vm_xml(&e));
	argv = vm_argv(&e);
	REQUIRE(xml && argv);
	CHECK_CONTAINS(xml, "<controller type=\"pci\" index=\"4\" model=\"pcie-root-port\"/>");
	CHECK(!strstr(xml, "index=\"5\" model=\"pcie-root-port\""));
	CHECK_CONTAINS(xml, "<address domain=\"0x0000\" bus=\"0x3b\" slot=\"0x00\" function=\"0x0\"/>"
			    "</source><address type=\"pci\" domain=\"0x0000\" bus=\"0x04\"");
	CHECK_CONTAINS(xml, "<qemu:device alias=\"ua-gpu3\"><qemu:frontend><qemu:property "
			    "name=\"x-nv-gpudirect-clique\" type=\"unsigned\" value=\"1\"/>");
	CHECK(argv_count(argv, "-device", "vfio-pci,host=0000:") == 4);
	CHECK(argv_find(argv, "-device", "host=0000:18:00.0,id=hostdev0,bus=rp1,addr=0x0.0,"
					 "x-nv-gpudirect-clique=0") >= 0);
	CHECK(argv_find(argv, "-device", "host=0000:3b:00.0,id=hostdev3-0,bus=rp4,addr=0x0.0,"
					 "x-nv-gpudirect-clique=1") >= 0);
	free(xml);
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
	vm_close(&e);
}

TEST(gpu_set_vcpus_and_memory_on_the_gpus_node, "the pair on NUMA node 1 brings the vCPUs to "
     "node 1's CPUs and binds memory there; GPUs on both nodes say so in a note")
{
	struct vmenv e;
	unsigned int i;

	REQUIRE(vm_plan(&e, "hgx-h100", VM "device = 9a:00.0, 9b:00.0\n") == 0);
	for (i = 0; i < vfk_plan_get_vcpus(e.plan); i++) {
		int c = vfk_plan_get_vcpu_pin(e.plan, i);

		CHECK((c >= 56 && c <= 111) || (c >= 168 && c <= 223));
	}
	CHECK(vfk_plan_get_memory_node(e.plan) == 1);
	vm_close(&e);

	REQUIRE(vm_plan(&e, "hgx-h100", VM "count = 8\n") == 0);
	CHECK(vm_note(&e, "the 8 GPUs are on more than one NUMA node") != NULL);
	vm_close(&e);
}

TEST(gpu_set_fabric_adds_every_nvswitch, "fabric = yes with count = 8: the four NVSwitches "
     "in the plan, its JSON and both outputs, each on a root port of its own; fewer GPUs "
     "warn; a host without NVSwitches refuses in one line")
{
	struct vmenv e;
	char *xml, **argv, *json = NULL;
	json_object *root;

	REQUIRE(vm_plan(&e, "hgx-h100", VM "count = 8\nfabric = yes\n") == 0);
	CHECK(vfk_plan_fabric_count(e.plan) == 4);
	CHECK_STREQ(vfk_device_get_address(vfk_plan_fabric_device(e.plan, 3)), "0000:9f:00.0");
	CHECK(vm_note(&e, "run Fabric Manager (nvidia-fabricmanager) in the guest") != NULL);
	CHECK(vm_note(&e, "warning: [gpu] fabric = yes with") == NULL);
	xml = flat(vm_xml(&e));
	argv = vm_argv(&e);
	REQUIRE(xml && argv);
	CHECK_CONTAINS(xml, "<controller type=\"pci\" index=\"12\" model=\"pcie-root-port\"/>");
	CHECK_CONTAINS(xml, "bus=\"0x9f\" slot=\"0x00\" function=\"0x0\"/></source><address "
			    "type=\"pci\" domain=\"0x0000\" bus=\"0x0c\"");
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:9f:00.0,id=fabric3,bus=rp12") >= 0);
	REQUIRE(vfk_plan_to_json(e.plan, &json) == 0);
	root = json_tokener_parse(json);
	REQUIRE(root);
	CHECK_CONTAINS(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN), "\"fabric\":[{\"address\":\"0000:1c:00.0\",\"group\":22,"
			     "\"guest\":\"0000:09:00.0\",\"vfio_driver\":{\"name\":\"vfio-pci\","
			     "\"why\":\"no variant driver matches\"}}");
	json_object_put(root);
	free(json);
	free(xml);
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
	vm_close(&e);

	REQUIRE(vm_plan(&e, "hgx-h100", VM "count = 2\nfabric = yes\n") == 0);
	CHECK(vm_note(&e, "warning: [gpu] fabric = yes with 2 of the host's 8 NVIDIA GPUs") != NULL);
	vm_close(&e);
	REQUIRE(vm_plan(&e, "hgx-h100", VM "count = 2\n") == 0);
	CHECK(vm_note(&e, "this host has 4 NVSwitches and [gpu] fabric is no") != NULL);
	vm_close(&e);

	CHECK(vm_plan(&e, "plx-8gpu", VM "count = 2\nfabric = yes\n") < 0);
	CHECK_CONTAINS(e.err, "[gpu] fabric = yes, but this host has no NVSwitch");
	vm_close(&e);
}

TEST(gpu_set_plan_json_lists_every_gpu_and_the_ranking, "plan --json: gpus[] with address, "
     "numa_node, clique and guest addresses; gpu is the first; candidates[] marks the chosen")
{
	struct vmenv e;
	json_object *root, *a, *o, *v;
	char *json = NULL;
	size_t i, chosen = 0;

	REQUIRE(vm_plan(&e, "hgx-h100", VM "count = 2\n") == 0);
	REQUIRE(vfk_plan_to_json(e.plan, &json) == 0);
	root = json_tokener_parse(json);
	REQUIRE(root && json_object_object_get_ex(root, "gpus", &a));
	CHECK(json_object_array_length(a) == 2);
	o = json_object_array_get_idx(a, 1);
	CHECK(json_object_object_get_ex(o, "address", &v) &&
	      !strcmp(json_object_get_string(v), "0000:19:00.0"));
	CHECK(json_object_object_get_ex(o, "numa_node", &v) && json_object_get_int(v) == 0);
	CHECK(json_object_object_get_ex(o, "clique", &v) && json_object_get_int(v) == 0);
	CHECK_CONTAINS(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		       "\"guest\":\"0000:02:00.0\"");
	CHECK(json_object_object_get_ex(root, "gpu", &o) && json_object_object_get_ex(o, "address", &v) &&
	      !strcmp(json_object_get_string(v), "0000:18:00.0"));
	REQUIRE(json_object_object_get_ex(root, "candidates", &a));
	for (i = 0; i < json_object_array_length(a); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(a, i), "chosen", &v))
			chosen += json_object_get_boolean(v);
	CHECK(chosen == 2);
	json_object_put(root);
	free(json);
	vm_close(&e);
}

TEST(gpu_set_plx_server_count_under_one_switch, "on the PLX 8-GPU server count = 4 takes the "
     "four GPUs of one switch when one switch has four")
{
	struct vmenv e;
	const struct vfk_device *up0;

	REQUIRE(vm_plan(&e, "plx-8gpu", VM "count = 4\n") == 0);
	REQUIRE(vfk_plan_gpu_count(e.plan) == 4);
	up0 = vfk_gpu_get_upstream(vfk_plan_gpu(e.plan, 0));
	for (size_t i = 1; i < 4; i++)
		CHECK(vfk_gpu_get_upstream(vfk_plan_gpu(e.plan, i)) == up0);
	CHECK_CONTAINS(vfk_plan_get_mode_reason(e.plan), "under one PCIe switch");
	vm_close(&e);
}

/* ------------------------------------------------------------ one transaction */

/* Plan count = 2 on a writable copy of dual-a6000 whose kernel writes go to
 * the simulator; commit the plan's bind; the commit's result. */
static int bind_two(struct ksim *k, int fail_at, struct vmenv *e)
{
	return vm_plan_bind(e, k, "dual-a6000", VM "count = 2\n", "train", fail_at, NULL, 0);
}

TEST(gpu_set_binds_in_one_transaction_and_rolls_all_back, "both A6000s (four functions, two "
     "groups) go to vfio-pci in one commit; a write failing on the last step of the second "
     "GPU puts the first back on nvidia too")
{
	static const char *const fns[] = { "0000:41:00.0", "0000:41:00.1", "0000:42:00.0",
					   "0000:42:00.1" };
	struct vmenv e;
	struct ksim k;
	char buf[64];
	int writes;
	size_t i;

	REQUIRE(bind_two(&k, 0, &e) == 0);
	for (i = 0; i < 4; i++)
		CHECK_STREQ(ksim_driver(e.root, fns[i], buf, sizeof(buf)), "vfio-pci");
	writes = k.writes;
	vm_close(&e);

	CHECK(bind_two(&k, writes, &e) < 0);
	for (i = 0; i < 4; i++) {
		CHECK_STREQ(ksim_driver(e.root, fns[i], buf, sizeof(buf)),
			    strstr(fns[i], ".1") ? "snd_hda_intel" : "nvidia");
		CHECK_STREQ(ksim_override(e.root, fns[i], buf, sizeof(buf)), "");
	}
	vm_close(&e);
}
