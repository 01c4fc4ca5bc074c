/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GPU servers (issue 28), on fixture hosts shaped like an HGX H100 board, an
 * HGX H200 run bare metal and a PLX 8-GPU server: what a GPU is (compute or
 * a laptop's dGPU, from the chassis), its NUMA node and upstream port, the
 * NVSwitches beside it, GPUs that share a group only with GPUs, what holds a
 * GPU on the host's driver, and the screenful vfio-ls makes of eight GPUs.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vfiokit.h"

struct fx {
	char *root;
	struct vfk_ctx *ctx;
	struct vfk_host *host;
};

static bool fx_open(struct fx *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->root = fixture_host_shared(name);
	return f->root && vfk_ctx_new(f->root, &f->ctx) == 0 && vfk_host_scan(f->ctx, &f->host) == 0;
}

static void fx_close(struct fx *f)
{
	vfk_host_unref(f->host);
	vfk_ctx_unref(f->ctx);
	free(f->root);
}

static struct vfk_gpu *gpu_at(const struct fx *f, const char *addr)
{
	size_t i;

	for (i = 0; i < vfk_host_gpu_count(f->host); i++)
		if (!strcmp(vfk_device_get_address(vfk_gpu_get_device(vfk_host_gpu(f->host, i))), addr))
			return vfk_host_gpu(f->host, i);
	return NULL;
}

/* vfio-ls ARGS --sysroot the fixture; stdout, exit status in *@status. */
static char *ls(const char *host, const char *a1, const char *a2, int *status)
{
	char *root = fixture_host_shared(host), *out = NULL, *err = NULL;
	const char *argv[] = { "vfio-ls", "--sysroot", root, a1, a2, NULL };

	*status = root ? run_tool(&out, &err, argv) : -1;
	free(root);
	free(err);
	return out;
}

static const char *const h100_gpus[] = {
	"0000:18:00.0", "0000:19:00.0", "0000:3a:00.0", "0000:3b:00.0",
	"0000:9a:00.0", "0000:9b:00.0", "0000:ba:00.0", "0000:bb:00.0",
};

/* ------------------------------------------------------------ what a GPU is */

TEST(gpu_server_3d_controller_is_compute_gpu_off_laptops, "an H100 (class 0302) on a rack "
     "server and a T4 on a server without DMI are compute GPUs; the laptop's 3D controller "
     "(DMI notebook) stays a laptop dGPU; a VGA card is a display GPU")
{
	static const struct { const char *host, *addr; enum vfk_gpu_role role; } cases[] = {
		{ "hgx-h100", "0000:18:00.0", VFK_GPU_ROLE_COMPUTE },
		{ "hgx-h200", "0000:bb:00.0", VFK_GPU_ROLE_COMPUTE },
		{ "nvidia-vgpu", "0000:3b:00.0", VFK_GPU_ROLE_COMPUTE },
		{ "laptop-0302", "0000:01:00.0", VFK_GPU_ROLE_LAPTOP_DGPU },
		{ "plx-8gpu", "0000:1a:00.0", VFK_GPU_ROLE_DISPLAY },
		{ "hgx-h100", "0000:03:00.0", VFK_GPU_ROLE_DISPLAY },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx f;
		struct vfk_gpu *g;
		REQUIRE(fx_open(&f, cases[i].host));
		g = gpu_at(&f, cases[i].addr);
		CHECK(g != NULL);
		if (g && vfk_gpu_get_role(g) != cases[i].role)
			test_fail_(__FILE__, __LINE__, "%s %s: role %s, expected %s", cases[i].host,
				   cases[i].addr, vfk_gpu_role_to_string(vfk_gpu_get_role(g)),
				   vfk_gpu_role_to_string(cases[i].role));
		fx_close(&f);
	}
	CHECK_STREQ(vfk_gpu_role_to_string(VFK_GPU_ROLE_COMPUTE), "compute");
	CHECK_STREQ(vfk_gpu_role_to_string(VFK_GPU_ROLE_LAPTOP_DGPU), "laptop-dgpu");
}

TEST(gpu_server_laptop_from_dmi_chassis_or_battery, "a laptop is known by its DMI chassis "
     "type (notebook: 10) or, where DMI says 'unknown', by a battery; servers (rack 23, "
     "main server 17) and a host without DMI are not laptops")
{
	static const struct { const char *host; bool laptop; } cases[] = {
		{ "laptop-0302", true }, { "apu-laptop", true }, { "hgx-h100", false },
		{ "plx-8gpu", false }, { "desktop-dgpu-igpu", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx f;
		REQUIRE(fx_open(&f, cases[i].host));
		if (vfk_host_is_laptop(f.host) != cases[i].laptop)
			test_fail_(__FILE__, __LINE__, "%s: laptop %d, expected %d", cases[i].host,
				   vfk_host_is_laptop(f.host), cases[i].laptop);
		fx_close(&f);
	}
}

TEST(gpu_server_text_names_compute_gpu_and_laptop_dgpu, "vfio-ls calls an H100 a compute "
     "GPU, never a laptop dGPU, and the laptop's RTX 3050 Mobile still a laptop's dGPU")
{
	int st;
	char *out = ls("hgx-h100", "--gpus", NULL, &st);

	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "3D controller (no display outputs: a compute GPU, datacenter accelerator)");
	CHECK(out && !strstr(out, "laptop"));
	free(out);
	out = ls("laptop-0302", "--gpus", NULL, &st);
	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "3D controller (no display outputs: a laptop's dGPU)");
	free(out);
}

TEST(gpu_server_numa_node_and_upstream_switch, "each H100's NUMA node and the upstream port of "
     "the PEX switch it sits behind; a card's own switch (RX 6800 XT) is looked through to the "
     "root port; a GPU straight on a root port names it")
{
	struct fx f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, "hgx-h100"));
	g = gpu_at(&f, "0000:19:00.0");
	REQUIRE(g);
	CHECK_INT(vfk_device_get_numa_node(vfk_gpu_get_device(g)), 0);
	REQUIRE(vfk_gpu_get_upstream(g));
	CHECK_STREQ(vfk_device_get_address(vfk_gpu_get_upstream(g)), "0000:16:00.0");
	g = gpu_at(&f, "0000:bb:00.0");
	REQUIRE(g);
	CHECK_INT(vfk_device_get_numa_node(vfk_gpu_get_device(g)), 1);
	CHECK_STREQ(vfk_device_get_address(vfk_gpu_get_upstream(g)), "0000:b8:00.0");
	fx_close(&f);

	REQUIRE(fx_open(&f, "amd-switch"));
	g = gpu_at(&f, "0000:0d:00.0");
	REQUIRE(g && vfk_gpu_get_upstream(g));
	CHECK(vfk_device_get_vendor_id(vfk_gpu_get_upstream(g)) != 0x1002);
	fx_close(&f);

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	g = gpu_at(&f, "0000:01:00.0");
	REQUIRE(g && vfk_gpu_get_upstream(g));
	CHECK_STREQ(vfk_device_get_address(vfk_gpu_get_upstream(g)), "0000:00:01.0");
	CHECK(vfk_gpu_get_upstream(gpu_at(&f, "0000:00:02.0")) == NULL);
	fx_close(&f);
}

TEST(gpu_server_json_gpus_have_driver_numa_upstream_role, "JSON gpus[] entries carry driver, "
     "numa_node, upstream, role and verdict")
{
	int st;
	char *out = ls("hgx-h200", "--gpus", "--json", &st);
	json_object *root = out ? json_tokener_parse(out) : NULL, *gpus, *g, *v;
	size_t i, n = 0;

	CHECK_INT(st, 0);
	REQUIRE(root && json_object_object_get_ex(root, "gpus", &gpus));
	for (i = 0; i < json_object_array_length(gpus); i++) {
		g = json_object_array_get_idx(gpus, i);
		json_object_object_get_ex(g, "address", &v);
		if (strcmp(json_object_get_string(v), "0000:9b:00.0"))
			continue;
		n++;
		CHECK(json_object_object_get_ex(g, "driver", &v));
		CHECK_STREQ(json_object_get_string(v), "nvidia");
		CHECK(json_object_object_get_ex(g, "numa_node", &v));
		CHECK_INT(json_object_get_int(v), 1);
		CHECK(json_object_object_get_ex(g, "upstream", &v));
		CHECK_STREQ(json_object_get_string(v), "0000:98:00.0");
		CHECK(json_object_object_get_ex(g, "role", &v));
		CHECK_STREQ(json_object_get_string(v), "compute");
		CHECK(json_object_object_get_ex(g, "verdict", &v));
		CHECK_STREQ(json_object_get_string(v), "together");
	}
	CHECK_INT(n, 1);
	json_object_put(root);
	free(out);
}

/* ------------------------------------------------------------ fabric */

TEST(gpu_server_nvswitches_are_fabric_devices, "the four NVSwitches (10de, class 0680) are "
     "the host's fabric devices, each with its group and driver; a GPU, a NIC and a PCIe "
     "switch port are not; a desktop has none")
{
	static const char *const nvswitches[] = {
		"0000:1c:00.0", "0000:1d:00.0", "0000:9e:00.0", "0000:9f:00.0",
	};
	struct fx f;
	struct vfk_device *d;
	size_t i;

	REQUIRE(fx_open(&f, "hgx-h200"));
	CHECK_INT(vfk_host_fabric_count(f.host), 4);
	for (i = 0; i < 4 && i < vfk_host_fabric_count(f.host); i++) {
		d = vfk_host_fabric_device(f.host, i);
		CHECK_STREQ(vfk_device_get_address(d), nvswitches[i]);
		CHECK_STREQ(vfk_device_get_fabric_role(d), "NVSwitch");
		CHECK_STREQ(vfk_device_get_driver(d), "nvidia");
		CHECK(vfk_device_get_iommu_group(d) >= 0);
	}
	CHECK(vfk_host_fabric_device(f.host, 4) == NULL);
	REQUIRE(vfk_host_find_device(f.host, "0000:18:00.0", &d) == 0);
	CHECK(vfk_device_get_fabric_role(d) == NULL);
	REQUIRE(vfk_host_find_device(f.host, "0000:1a:00.0", &d) == 0);
	CHECK(vfk_device_get_fabric_role(d) == NULL);
	REQUIRE(vfk_host_find_device(f.host, "0000:17:04.0", &d) == 0);
	CHECK(vfk_device_get_fabric_role(d) == NULL);
	fx_close(&f);
	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	CHECK_INT(vfk_host_fabric_count(f.host), 0);
	fx_close(&f);
}

TEST(gpu_server_ls_lists_nvswitches_with_gpus, "vfio-ls --gpus marks each NVSwitch, lists it "
     "with its group and driver, and JSON has them in fabric[]")
{
	int st;
	char *out = ls("hgx-h100", "--gpus", NULL, &st);
	json_object *root, *fabric, *v;

	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "0000:9e:00.0 [0680] Bridge: ");
	CHECK_CONTAINS(out, "<NVSwitch: GPU fabric>");
	CHECK_CONTAINS(out, "  0000:9e:00.0 NVSwitch — IOMMU group 60 — driver none, NUMA node 1");
	free(out);
	out = ls("hgx-h100", "--gpus", "--json", &st);
	root = out ? json_tokener_parse(out) : NULL;
	REQUIRE(root && json_object_object_get_ex(root, "fabric", &fabric));
	CHECK_INT(json_object_array_length(fabric), 4);
	REQUIRE(json_object_object_get_ex(json_object_array_get_idx(fabric, 2), "address", &v));
	CHECK_STREQ(json_object_get_string(v), "0000:9e:00.0");
	REQUIRE(json_object_object_get_ex(json_object_array_get_idx(fabric, 2), "group", &v));
	CHECK_INT(json_object_get_int(v), 60);
	REQUIRE(json_object_object_get_ex(json_object_array_get_idx(fabric, 2), "role", &v));
	CHECK_STREQ(json_object_get_string(v), "NVSwitch");
	json_object_put(root);
	free(out);
}

static const struct vfk_check *check_of(const struct vfk_checks *checks, const char *id)
{
	size_t i;

	for (i = 0; i < vfk_checks_count(checks); i++)
		if (!strcmp(vfk_checks_get(checks, i)->id, id))
			return vfk_checks_get(checks, i);
	return NULL;
}

TEST(gpu_server_check_names_the_fabric_model, "vfio-check's gpu-fabric: on the H200 run bare "
     "metal it names the model now and each model's needs (Fabric Manager in the guest, a "
     "service VM, error 802) and the profile keys that choose full passthrough; on a "
     "desktop it passes")
{
	struct fx f;
	struct vfk_checks *checks = NULL;
	const struct vfk_check *c;

	REQUIRE(fx_open(&f, "hgx-h200"));
	REQUIRE(vfk_checks_run(f.ctx, &checks) == 0);
	c = check_of(checks, "gpu-fabric");
	REQUIRE(c);
	CHECK_INT(c->status, VFK_CHECK_WARN);
	CHECK_CONTAINS(c->detail, "4 NVSwitches for 8 NVIDIA GPUs");
	CHECK_CONTAINS(c->detail, "0000:9f:00.0 (group 61, nvidia)");
	CHECK_CONTAINS(c->detail, "model now: bare metal");
	CHECK_CONTAINS(c->fix, "Fabric Manager (nvidia-fabricmanager) runs in the guest");
	CHECK_CONTAINS(c->fix, "service VM running Fabric Manager");
	CHECK_CONTAINS(c->fix, "error 802");
	CHECK_CONTAINS(c->fix, "[gpu] count = 8 with [gpu] fabric = yes is the full passthrough "
			       "model");
	vfk_checks_free(checks);
	fx_close(&f);

	REQUIRE(fx_open(&f, "hgx-h100"));
	REQUIRE(vfk_checks_run(f.ctx, &checks) == 0);
	c = check_of(checks, "gpu-fabric");
	REQUIRE(c);
	CHECK_CONTAINS(c->detail, "model now: GPUs without NVLink");
	vfk_checks_free(checks);
	fx_close(&f);

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	REQUIRE(vfk_checks_run(f.ctx, &checks) == 0);
	c = check_of(checks, "gpu-fabric");
	REQUIRE(c);
	CHECK_INT(c->status, VFK_CHECK_PASS);
	CHECK(c->fix == NULL);
	vfk_checks_free(checks);
	fx_close(&f);
}

/* ------------------------------------------------------------ shared groups */

TEST(gpu_server_gpus_sharing_a_group_only_with_gpus_go_together, "two H100s alone in a group "
     "(with their switch ports) are 'together' with each other, not plain not-isolated; four "
     "A6000s with their audio functions behind a PLX switch without ACS go as a set of four; a "
     "GPU beside a NIC stays not isolated")
{
	struct fx f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, "hgx-h100"));
	g = gpu_at(&f, "0000:9a:00.0");
	REQUIRE(g);
	CHECK(!vfk_gpu_is_isolated(g));
	CHECK_INT(vfk_gpu_get_verdict(g), VFK_GPU_TOGETHER);
	CHECK_STREQ(vfk_gpu_verdict_to_string(vfk_gpu_get_verdict(g)), "together");
	CHECK_INT(vfk_gpu_together_count(g), 1);
	CHECK(vfk_gpu_together(g, 0) == gpu_at(&f, "0000:9b:00.0"));
	CHECK(vfk_gpu_together(g, 1) == NULL);
	CHECK_INT(vfk_gpu_get_verdict(gpu_at(&f, "0000:18:00.0")), VFK_GPU_ISOLATED);
	CHECK_INT(vfk_gpu_together_count(gpu_at(&f, "0000:18:00.0")), 0);
	fx_close(&f);

	REQUIRE(fx_open(&f, "plx-8gpu"));
	g = gpu_at(&f, "0000:b3:00.0");
	REQUIRE(g);
	CHECK_INT(vfk_gpu_get_verdict(g), VFK_GPU_TOGETHER);
	CHECK_INT(vfk_gpu_together_count(g), 3);
	fx_close(&f);

	REQUIRE(fx_open(&f, "shared-chipset"));
	g = gpu_at(&f, "0000:02:00.0");
	REQUIRE(g);
	CHECK_INT(vfk_gpu_get_verdict(g), VFK_GPU_SHARED);
	CHECK_INT(vfk_gpu_together_count(g), 0);
	fx_close(&f);
}

TEST(gpu_server_together_said_in_text_and_json, "vfio-ls says 'can go together with' the other "
     "GPU, never 'NOT isolated', and JSON gives verdict together with the list")
{
	int st;
	char *out = ls("hgx-h100", "--gpus", NULL, &st);
	json_object *root, *gpus, *g, *v;
	size_t i;

	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "verdict: can go together with 0000:9b:00.0");
	CHECK_CONTAINS(out, "verdict: can go together with 0000:ba:00.0");
	CHECK(out && !strstr(out, "NOT isolated"));
	free(out);
	out = ls("hgx-h100", "--gpus", "--json", &st);
	root = out ? json_tokener_parse(out) : NULL;
	REQUIRE(root && json_object_object_get_ex(root, "gpus", &gpus));
	for (i = 0; i < json_object_array_length(gpus); i++) {
		g = json_object_array_get_idx(gpus, i);
		json_object_object_get_ex(g, "address", &v);
		if (strcmp(json_object_get_string(v), "0000:ba:00.0"))
			continue;
		CHECK(json_object_object_get_ex(g, "verdict", &v));
		CHECK_STREQ(json_object_get_string(v), "together");
		CHECK(json_object_object_get_ex(g, "together", &v));
		CHECK_INT(json_object_array_length(v), 1);
		CHECK_STREQ(json_object_get_string(json_object_array_get_idx(v, 0)), "0000:bb:00.0");
	}
	json_object_put(root);
	free(out);
}

/* ------------------------------------------------------------ host driver */

TEST(gpu_server_host_driver_and_its_holders, "a GPU on nvidia must be released by the host "
     "driver, and nvidia-persistenced, nv-fabricmanager and nv-hostengine hold it (by pid); "
     "sshd, holding no GPU node, does not; a GPU on vfio-pci has nothing to release")
{
	struct fx f;
	struct vfk_gpu *g;
	size_t i;

	REQUIRE(fx_open(&f, "hgx-h200"));
	for (i = 0; i < 8; i++) {
		g = gpu_at(&f, h100_gpus[i]);
		REQUIRE(g);
		CHECK_STREQ(vfk_gpu_get_host_driver(g), "nvidia");
	}
	g = gpu_at(&f, "0000:18:00.0");
	CHECK_INT(vfk_gpu_holder_count(g), 3);
	CHECK_INT(vfk_gpu_holder_pid(g, 0), 2211);
	CHECK_STREQ(vfk_gpu_holder_name(g, 0), "nvidia-persistenced");
	CHECK_STREQ(vfk_gpu_holder_name(g, 1), "nv-fabricmanager");
	CHECK_STREQ(vfk_gpu_holder_name(g, 2), "nv-hostengine");
	CHECK(vfk_gpu_holder_name(g, 3) == NULL);
	CHECK_INT(vfk_gpu_holder_pid(g, 3), -1);
	fx_close(&f);

	REQUIRE(fx_open(&f, "hgx-h100"));
	g = gpu_at(&f, "0000:18:00.0");
	REQUIRE(g);
	CHECK(vfk_gpu_get_host_driver(g) == NULL);
	CHECK_INT(vfk_gpu_holder_count(g), 0);
	fx_close(&f);
}

TEST(gpu_server_release_said_in_text_and_json, "vfio-ls says the host driver must release "
     "the GPU and who holds it; JSON gives host_driver and holders with pid and comm")
{
	int st;
	char *out = ls("hgx-h200", "--gpus", NULL, &st);
	json_object *root, *gpus, *g, *v;

	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "on the host's driver nvidia: it must release the GPU before a VM can "
			    "have it\n");
	CHECK_CONTAINS(out, "held open by nvidia-persistenced(2211), nv-fabricmanager(2304), "
			    "nv-hostengine(2417): stop them first, then vfio-bind moves it to "
			    "vfio-pci\n");
	free(out);
	out = ls("hgx-h200", "--gpus", "--json", &st);
	root = out ? json_tokener_parse(out) : NULL;
	REQUIRE(root && json_object_object_get_ex(root, "gpus", &gpus));
	g = json_object_array_get_idx(gpus, 1);		/* 0000:18:00.0, after the BMC's */
	REQUIRE(json_object_object_get_ex(g, "host_driver", &v));
	CHECK_STREQ(json_object_get_string(v), "nvidia");
	REQUIRE(json_object_object_get_ex(g, "holders", &v));
	CHECK_INT(json_object_array_length(v), 3);
	g = json_object_array_get_idx(v, 0);
	REQUIRE(json_object_object_get_ex(g, "pid", &v));
	CHECK_INT(json_object_get_int(v), 2211);
	REQUIRE(json_object_object_get_ex(g, "comm", &v));
	CHECK_STREQ(json_object_get_string(v), "nvidia-persistenced");
	json_object_put(root);
	free(out);
}

/* ------------------------------------------------------------ a screenful */

TEST(gpu_server_gpus_end_with_a_summary_line, "vfio-ls --gpus ends with one line counting GPUs "
     "alone, pairs and sets sharing a group, NVSwitches and drivers")
{
	int st;
	char *out = ls("hgx-h200", "--gpus", NULL, &st);

	CHECK_INT(st, 0);
	CHECK_CONTAINS(out, "\n9 GPUs: 5 alone, 2 pairs in shared groups; 4 NVSwitches; "
			    "1 on ast, 8 on nvidia\n");
	free(out);
	out = ls("plx-8gpu", "--gpus", NULL, &st);
	CHECK_CONTAINS(out, "\n9 GPUs: 5 alone, 1 set of 4 in a shared group; 1 on ast, "
			    "8 on nvidia\n");
	free(out);
	out = ls("shared-chipset", "--gpus", NULL, &st);
	CHECK_CONTAINS(out, "1 not isolated");
	free(out);
}

TEST(gpu_server_brief_fits_eight_gpus_on_80_columns, "vfio-ls --brief: a header, one line per "
     "GPU and NVSwitch with address, model, group, NUMA node, upstream port, driver and "
     "verdict, the holders and the summary, every line within 80 columns, under 24 lines")
{
	int st;
	char *out = ls("hgx-h200", "--brief", NULL, &st), *line, *save = NULL;
	size_t lines = 0;

	CHECK_INT(st, 0);
	REQUIRE(out);
	CHECK_CONTAINS(out, "GPU          MODEL              GROUP NODE UPSTREAM     DRIVER    VERDICT\n");
	CHECK_CONTAINS(out, "9a:00.0      H200 SXM 141GB        52    1 98:00.0      nvidia    with 9b:00.0\n");
	CHECK_CONTAINS(out, "18:00.0      H200 SXM 141GB        18    0 16:00.0      nvidia    isolated\n");
	CHECK_CONTAINS(out, "9f:00.0      NVSwitch              61    1 -            nvidia    GPU fabric\n");
	CHECK_CONTAINS(out, "(stop them before vfio-bind):\n"
			    "  18:00.0 19:00.0 3a:00.0 3b:00.0 9a:00.0 9b:00.0 ba:00.0 bb:00.0\n");
	CHECK_CONTAINS(out, "9 GPUs: 5 alone, 2 pairs");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lines++;
		if (strncmp(line, "held open by", 12) && strlen(line) > 80)
			test_fail_(__FILE__, __LINE__, "line over 80 columns: %s", line);
	}
	CHECK(lines <= 24);
	free(out);
	out = ls("plx-8gpu", "--brief", NULL, &st);
	CHECK_CONTAINS(out, "b4:00.0      RTX A6000             32    1 af:00.0      nvidia    with 3 others\n");
	free(out);
}

TEST(gpu_server_brief_bad_input_is_one_line, "vfio-ls --brief with a stray argument or an "
     "unknown device: one line naming the problem, non-zero exit")
{
	char *root = fixture_host_shared("hgx-h100"), *out = NULL, *err = NULL;
	const char *a1[] = { "vfio-ls", "--brief", "--sysroot", root, "extra", NULL };
	const char *a2[] = { "vfio-ls", "--brief", "--sysroot", root, "--device", "77:00.0", NULL };

	REQUIRE(root);
	CHECK_INT(run_tool(&out, &err, a1), 2);
	CHECK_CONTAINS(err, "unexpected argument 'extra'");
	CHECK(err && strchr(err, '\n') == err + strlen(err) - 1);
	free(out);
	free(err);
	CHECK_INT(run_tool(&out, &err, a2), 1);
	CHECK_CONTAINS(err, "no PCI device 77:00.0");
	CHECK(err && strchr(err, '\n') == err + strlen(err) - 1);
	free(out);
	free(err);
	free(root);
}
