/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which GPU a plan gives away when the profile names none, on real iGPU +
 * dGPU layouts: integrated or discrete from where the GPU sits, the ranking
 * with one reason per GPU, and what integrated graphics need when named.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "vmtest.h"

static const char *gpu_addr(const struct vmenv *e)
{
	struct vfk_gpu *g = vfk_plan_get_gpu(e->plan);

	return g ? vfk_device_get_address(vfk_gpu_get_device(g)) : "(none)";
}

/* The candidate at @address: its index, or -1. */
static int cand(const struct vmenv *e, const char *address)
{
	size_t i;

	for (i = 0; i < vfk_plan_candidate_count(e->plan); i++)
		if (!strcmp(vfk_device_get_address(vfk_gpu_get_device(
				vfk_plan_candidate_gpu(e->plan, i))), address))
			return (int)i;
	return -1;
}

/* A candidate's reasons joined by ", " (static buffer). */
static const char *reasons(const struct vmenv *e, const char *address)
{
	static char buf[2048];
	int i = cand(e, address);
	size_t k, len = 0;

	buf[0] = '\0';
	if (i < 0)
		return "(not a candidate)";
	for (k = 0; k < vfk_plan_candidate_reason_count(e->plan, (size_t)i); k++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", k ? ", " : "",
					vfk_plan_candidate_reason(e->plan, (size_t)i, k));
	return buf;
}

static struct vfk_gpu *host_gpu(struct vfk_host *h, const char *address)
{
	size_t i;

	for (i = 0; i < vfk_host_gpu_count(h); i++)
		if (!strcmp(vfk_device_get_address(vfk_gpu_get_device(vfk_host_gpu(h, i))), address))
			return vfk_host_gpu(h, i);
	return NULL;
}

/* ------------------------------------------------------------ placement */

TEST(gpu_placement_from_the_layout_not_the_vendor, "integrated: Intel's iGPU (RCiEP), the same "
     "iGPU when config space is unreadable (root bus), an AMD APU whose slot holds the PSP, a "
     "BMC display on conventional PCI; discrete: cards behind a root or switch port, a "
     "powered-off laptop dGPU")
{
	static const struct { const char *host, *addr; bool integrated; const char *why; } cases[] = {
		{ "desktop-dgpu-igpu", "0000:00:02.0", true, "root-complex integrated endpoint" },
		{ "nonroot", "0000:00:02.0", true, "on the root bus 0000:00" },
		{ "apu-laptop", "0000:05:00.0", true, "its slot holds 0000:05:00.2 [1022:15df]" },
		{ "sriov-server", "0000:04:00.0", true, "conventional PCI on the board" },
		{ "ryzen-2ccd", "0000:10:00.0", true, "AMD APU graphics" },
		{ "desktop-dgpu-igpu", "0000:01:00.0", false, "its own PCIe link from 0000:00:01.0" },
		{ "nonroot", "0000:01:00.0", false, "its own PCIe link" },
		{ "ryzen-2ccd", "0000:03:00.0", false, "its own PCIe link from 0000:02:00.0" },
		{ "laptop-0302", "0000:01:00.0", false, "its own PCIe link" },
		{ "apu-laptop", "0000:01:00.0", false, "its own PCIe link from 0000:00:01.1" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *root = fixture_host_shared(cases[i].host);
		struct vfk_ctx *ctx = NULL;
		struct vfk_host *h = NULL;
		struct vfk_gpu *g;

		REQUIRE(root && vfk_ctx_new(root, &ctx) == 0 && vfk_host_scan(ctx, &h) == 0);
		g = host_gpu(h, cases[i].addr);
		CHECK(g != NULL);
		if (g) {
			if (vfk_gpu_is_integrated(g) != cases[i].integrated)
				test_fail_(__FILE__, __LINE__, "%s %s: integrated %d, expected %d",
					   cases[i].host, cases[i].addr, vfk_gpu_is_integrated(g),
					   cases[i].integrated);
			CHECK_CONTAINS(vfk_gpu_get_placement(g), cases[i].why);
		}
		vfk_host_unref(h);
		vfk_ctx_unref(ctx);
		free(root);
	}
}

TEST(gpu_apu_functions_are_the_gpus_not_the_processors, "an APU's slot: the GPU's functions are "
     "its display and HDMI audio; the PSP, USB, ACP and HD audio of vendor 1022 are not")
{
	char *root = fixture_host_shared("apu-laptop");
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *h = NULL;
	struct vfk_gpu *g;

	REQUIRE(root && vfk_ctx_new(root, &ctx) == 0 && vfk_host_scan(ctx, &h) == 0);
	g = host_gpu(h, "0000:05:00.0");
	REQUIRE(g);
	CHECK_INT(vfk_gpu_function_count(g), 2);
	CHECK_STREQ(vfk_device_get_address(vfk_gpu_function(g, 1)), "0000:05:00.1");
	vfk_host_unref(h);
	vfk_ctx_unref(ctx);
	free(root);
}

/* ------------------------------------------------------------ ranking */

TEST(gpu_choice_card_on_vfio_pci_over_idle_igpu, "iGPU idle on i915, the host's card on the "
     "console, a second card on vfio-pci: the card on vfio-pci is chosen, each GPU with its reason")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "igpu-dgpu-vfio", "[vm]\nname = t\n[gpu]\nmode = passthrough\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:04:00.0");
	CHECK_INT(vfk_plan_candidate_count(e.plan), 3);
	CHECK_INT(cand(&e, "0000:04:00.0"), 0);
	CHECK(vfk_plan_candidate_is_chosen(e.plan, 0));
	CHECK_STREQ(reasons(&e, "0000:04:00.0"), "discrete, already on vfio-pci, 2 functions");
	CHECK(!vfk_plan_candidate_is_chosen(e.plan, (size_t)cand(&e, "0000:00:02.0")));
	CHECK_CONTAINS(reasons(&e, "0000:00:02.0"), "integrated, 1 function, ranked after 0000:04:00.0");
	CHECK_CONTAINS(reasons(&e, "0000:00:02.0"), "[gpu] device = 0000:00:02.0");
	CHECK_CONTAINS(reasons(&e, "0000:01:00.0"), "discrete, 2 functions, drives the host console");
	vm_close(&e);
}

TEST(gpu_choice_discrete_before_integrated, "nothing set up for vfio: of an idle iGPU and an idle "
     "card the card is chosen, the iGPU ranked after it for being integrated")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "igpu-dgpu-idle", "[vm]\nname = t\n") == 0);
	CHECK_INT(vfk_plan_get_mode(e.plan), VFK_GPU_MODE_PASSTHROUGH);
	CHECK_STREQ(gpu_addr(&e), "0000:04:00.0");
	CHECK_STREQ(reasons(&e, "0000:04:00.0"), "discrete, 2 functions");
	CHECK_CONTAINS(reasons(&e, "0000:00:02.0"), "a discrete card before integrated graphics");
	/* the same host when the firmware's display is the iGPU's: the one card left */
	vm_close(&e);
	REQUIRE(vm_plan(&e, "desktop-dgpu-igpu", "[vm]\nname = t\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:01:00.0");
	CHECK_CONTAINS(reasons(&e, "0000:00:02.0"), "integrated, 1 function, drives the host console");
	vm_close(&e);
}

TEST(gpu_choice_vfio_pci_ids_and_persist_count_as_intent, "a card named in vfio-pci.ids= (by "
     "its ids) or in vfio-bind's persist list ranks first although it is on its native driver")
{
	char *root = fixture_host("igpu-dgpu-idle");
	struct vmenv e;
	FILE *f;
	char path[4096];

	REQUIRE(root);
	/* modprobe.d names the 3060's ids */
	snprintf(path, sizeof(path), "%s/etc", root);
	(void)mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc/modprobe.d", root);
	(void)mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc/modprobe.d/vfio.conf", root);
	f = fopen(path, "w");
	REQUIRE(f);
	fputs("options vfio-pci ids=10de:2503,10de:228e\n", f);
	fclose(f);
	REQUIRE(vm_plan_root(&e, root, "[vm]\nname = t\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:04:00.0");
	CHECK_CONTAINS(reasons(&e, "0000:04:00.0"), "named in 'options vfio-pci ids=' (/etc/modprobe.d/vfio.conf)");
	vm_close(&e);
	free(root);

	/* the persist list names the iGPU: the user's intent wins over discrete */
	root = fixture_host("igpu-dgpu-idle");
	REQUIRE(root);
	{
		struct vfk_ctx *ctx = NULL;
		struct vfk_host *h = NULL;
		struct vfk_device *d = NULL;

		REQUIRE(vfk_ctx_new(root, &ctx) == 0 && vfk_host_scan(ctx, &h) == 0);
		REQUIRE(vfk_host_find_device(h, "0000:00:02.0", &d) == 0);
		CHECK_INT(vfk_persist_add(h, d), 0);
		vfk_host_unref(h);
		vfk_ctx_unref(ctx);
	}
	REQUIRE(vm_plan_root(&e, root, "[vm]\nname = t\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:00:02.0");
	CHECK_STREQ(reasons(&e, "0000:00:02.0"), "integrated, in vfio-bind's persist list, 1 function");
	CHECK_CONTAINS(reasons(&e, "0000:04:00.0"), "the host gives that one to vfio-pci already");
	vm_close(&e);
	free(root);
}

TEST(gpu_choice_two_identical_cards_first_by_address, "two identical idle cards: the first by "
     "address is chosen, the other named in its reason with the line that takes it")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "dual-a6000", "[vm]\nname = t\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:41:00.0");
	CHECK_CONTAINS(reasons(&e, "0000:42:00.0"), "identical to 0000:41:00.0, which comes first "
		       "by address; to take this one, set [gpu] device = 0000:42:00.0");
	CHECK_CONTAINS(reasons(&e, "0000:01:00.0"), "drives the host console");
	vm_close(&e);
	/* naming the second takes it, and says why the first was not */
	REQUIRE(vm_plan(&e, "dual-a6000", "[vm]\nname = t\n[gpu]\ndevice = 0000:42:00.0\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:42:00.0");
	CHECK_CONTAINS(reasons(&e, "0000:42:00.0"), "named by [gpu] device");
	CHECK_CONTAINS(reasons(&e, "0000:41:00.0"), "[gpu] device names 0000:42:00.0");
	vm_close(&e);
}

TEST(gpu_choice_only_card_in_chipset_group_is_refused_with_reasons, "the only discrete card "
     "shares its group with the chipset and the iGPU drives the console: passthrough is refused "
     "naming both, auto falls back, and no GPU is chosen")
{
	struct vmenv e;

	CHECK_INT(vm_plan(&e, "chipset-only-dgpu", "[vm]\nname = t\n[gpu]\nmode = passthrough\n"),
		  -ENODEV);
	CHECK_CONTAINS(e.err, "no GPU can be given away");
	CHECK_CONTAINS(e.err, "0000:02:00.0 shares IOMMU group 6 with 0000:03:00.0, 0000:04:00.0");
	CHECK_CONTAINS(e.err, "0000:00:02.0 drives the host console");
	vm_close(&e);
	REQUIRE(vm_plan(&e, "chipset-only-dgpu", "[vm]\nname = t\n") == 0);
	CHECK(vfk_plan_get_mode(e.plan) != VFK_GPU_MODE_PASSTHROUGH);
	CHECK(vfk_plan_get_gpu(e.plan) == NULL);
	CHECK_INT(vfk_plan_candidate_count(e.plan), 2);
	CHECK(!vfk_plan_candidate_is_chosen(e.plan, 0) && !vfk_plan_candidate_is_chosen(e.plan, 1));
	CHECK_CONTAINS(reasons(&e, "0000:02:00.0"), "discrete, already on vfio-pci, 2 functions, "
		       "shares IOMMU group 6");
	vm_close(&e);
}

TEST(gpu_choice_laptop_3d_controller_over_igpu, "muxless laptop: the 3D controller is chosen "
     "over the iGPU, with a note that its frames go through the iGPU")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "laptop-0302", "[vm]\nname = t\n[gpu]\nmode = passthrough\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:01:00.0");
	CHECK_STREQ(reasons(&e, "0000:01:00.0"), "discrete, 3D controller, no display outputs, 1 function");
	CHECK(vm_note(&e, "through the integrated GPU 0000:00:02.0") != NULL);
	CHECK(vm_note(&e, "Looking Glass") != NULL);
	vm_close(&e);
}

/* ------------------------------------------------------------ integrated, named */

TEST(gpu_named_intel_igpu_gets_gvt_d_options, "an Intel iGPU named in [gpu] device goes to guest "
     "00:02.0 with x-igd-opregion=on in the QEMU argv and in libvirt's qemu:override, with notes")
{
	struct vmenv e;
	char **argv;
	char *xml;
	char guest[32];

	REQUIRE(vm_plan(&e, "igpu-dgpu-idle", "[vm]\nname = t\n[gpu]\ndevice = 0000:00:02.0\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:00:02.0");
	CHECK_STREQ(vfk_plan_get_gpu_guest_address(e.plan, 0, guest, sizeof(guest)), "0000:00:02.0");
	CHECK(vm_note(&e, "Intel integrated graphics (GVT-d)") != NULL);
	CHECK(vm_note(&e, "GOP ROM") != NULL);
	argv = vm_argv(&e);
	REQUIRE(argv);
	CHECK(argv_find(argv, "-device", "vfio-pci,host=0000:00:02.0,id=hostdev0,bus=pcie.0,"
			"addr=0x2.0,x-igd-opregion=on") >= 0);
	/* the root ports moved out of slot 2 */
	CHECK(argv_find(argv, "-device", "addr=0x2.0,multifunction") < 0);
	vfk_argv_free(argv);
	xml = vm_xml(&e);
	REQUIRE(xml);
	CHECK_CONTAINS(xml, "xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\"");
	CHECK_CONTAINS(xml, "<address type=\"pci\" domain=\"0x0000\" bus=\"0x00\" slot=\"0x02\" function=\"0x0\"/>");
	CHECK_CONTAINS(xml, "<alias name=\"ua-gpu0\"/>");
	CHECK_CONTAINS(xml, "<qemu:device alias=\"ua-gpu0\">");
	CHECK_CONTAINS(xml, "<qemu:property name=\"x-igd-opregion\" type=\"bool\" value=\"true\"/>");
	free(xml);
	vm_close(&e);
	/* a card gets none of it */
	REQUIRE(vm_plan(&e, "igpu-dgpu-idle", "[vm]\nname = t\n") == 0);
	xml = vm_xml(&e);
	REQUIRE(xml);
	CHECK(strstr(xml, "x-igd-opregion") == NULL && strstr(xml, "xmlns:qemu") == NULL);
	free(xml);
	vm_close(&e);
}

TEST(gpu_named_amd_apu_warns_about_its_vbios, "AMD APU graphics named without a ROM: a warning "
     "that they need their VBIOS; with [gpu] rom the ROM is used and the warning goes")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "apu-laptop", "[vm]\nname = t\n[gpu]\ndevice = 0000:05:00.0\n") == 0);
	CHECK_STREQ(gpu_addr(&e), "0000:05:00.0");
	CHECK(vm_note(&e, "warning: 0000:05:00.0 is AMD APU graphics") != NULL);
	CHECK(vm_note(&e, "set [gpu] rom = FILE") != NULL);
	vm_close(&e);
	REQUIRE(vm_plan(&e, "apu-laptop", "[vm]\nname = t\n[gpu]\ndevice = 0000:05:00.0\n"
			"rom = /usr/share/vbios/renoir.rom\n") == 0);
	CHECK(vm_note(&e, "is AMD APU graphics") == NULL);
	vm_close(&e);
}

/* ------------------------------------------------------------ the tool */

TEST(gpu_choice_in_plan_text_and_json, "vfio-vm plan prints the ranking one GPU a line; --json "
     "carries candidates with address, chosen and reasons")
{
	char *root = fixture_host_shared("igpu-dgpu-vfio");
	char *ini = write_temp("c.ini", "[vm]\nname = c\n");
	char *out = NULL, *err = NULL;
	json_object *o, *a, *c, *x;
	int rc;

	REQUIRE(root && ini);
	{
		const char *argv[] = { "vfio-vm", "plan", ini, "--sysroot", root, NULL };

		rc = run_tool(&out, &err, argv);
	}
	CHECK_INT(rc, 0);
	CHECK_CONTAINS(out, "    0000:04:00.0  chosen: discrete, already on vfio-pci, 2 functions\n");
	CHECK_CONTAINS(out, "    0000:01:00.0  not chosen: discrete, 2 functions, drives the host console\n");
	free(out);
	free(err);
	{
		const char *argv[] = { "vfio-vm", "plan", ini, "--json", "--sysroot", root, NULL };

		rc = run_tool(&out, &err, argv);
	}
	CHECK_INT(rc, 0);
	o = json_tokener_parse(out ? out : "");
	REQUIRE(o);
	REQUIRE(json_object_object_get_ex(o, "candidates", &a));
	CHECK_INT(json_object_array_length(a), 3);
	c = json_object_array_get_idx(a, 0);
	CHECK(json_object_object_get_ex(c, "address", &x));
	CHECK_STREQ(json_object_get_string(x), "0000:04:00.0");
	CHECK(json_object_object_get_ex(c, "chosen", &x) && json_object_get_boolean(x));
	CHECK(json_object_object_get_ex(c, "reasons", &x));
	CHECK_INT(json_object_array_length(x), 3);
	CHECK_STREQ(json_object_get_string(json_object_array_get_idx(x, 1)), "already on vfio-pci");
	c = json_object_array_get_idx(a, 1);
	CHECK(json_object_object_get_ex(c, "chosen", &x) && !json_object_get_boolean(x));
	CHECK(json_object_object_get_ex(c, "integrated", &x) && json_object_get_boolean(x));
	json_object_put(o);
	free(out);
	free(err);
	free(ini);
	free(root);
}
