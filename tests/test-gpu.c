/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GPU model: which GPUs a host has, their functions, blockers, isolation
 * verdict and reason, boot VGA / console / only-GPU flags. Public API only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfiokit.h"
#include "harness.h"

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

static struct vfk_gpu *gpu_at(const struct fx *f, const char *addr)
{
	size_t i;

	for (i = 0; i < vfk_host_gpu_count(f->host); i++) {
		struct vfk_gpu *g = vfk_host_gpu(f->host, i);

		if (strcmp(vfk_device_get_address(vfk_gpu_get_device(g)), addr) == 0)
			return g;
	}
	test_fail_(__FILE__, __LINE__, "no GPU at %s", addr);
	return NULL;
}

/* Compare a GPU's blockers (or functions) with an exact list, order-free. */
static void check_addr_set(const char *what, size_t n, struct vfk_device *(*get)(
				   const struct vfk_gpu *, size_t),
			   const struct vfk_gpu *g, const char *const *want, size_t nwant)
{
	size_t i, j;

	if (n != nwant)
		test_fail_(__FILE__, __LINE__, "%s of %s: %zu, expected %zu", what,
			   vfk_device_get_address(vfk_gpu_get_device(g)), n, nwant);
	for (j = 0; j < nwant; j++) {
		bool found = false;

		for (i = 0; i < n; i++)
			if (strcmp(vfk_device_get_address(get(g, i)), want[j]) == 0)
				found = true;
		if (!found)
			test_fail_(__FILE__, __LINE__, "%s of %s lacks %s", what,
				   vfk_device_get_address(vfk_gpu_get_device(g)), want[j]);
	}
}

#define CHECK_BLOCKERS(g, ...)                                                          \
	do {                                                                            \
		static const char *const _w[] = { __VA_ARGS__ };                        \
		check_addr_set("blockers", vfk_gpu_blocker_count(g), vfk_gpu_blocker, g, _w, \
			       sizeof(_w) / sizeof(_w[0]));                             \
	} while (0)
#define CHECK_FUNCTIONS(g, ...)                                                          \
	do {                                                                             \
		static const char *const _w[] = { __VA_ARGS__ };                         \
		check_addr_set("functions", vfk_gpu_function_count(g), vfk_gpu_function, g, \
			       _w, sizeof(_w) / sizeof(_w[0]));                          \
	} while (0)

/* ------------------------------------------------------------ which GPUs */

static const struct {
	const char *host;
	const char *gpus[8];
} expected_gpus[] = {
	{ "desktop-dgpu-igpu", { "0000:00:02.0", "0000:01:00.0" } },
	{ "nvidia-4fn", { "0000:07:00.0" } },
	{ "amd-switch", { "0000:04:00.0", "0000:0d:00.0" } },
	{ "shared-chipset", { "0000:00:02.0", "0000:01:00.0", "0000:02:00.0" } },
	{ "single-gpu", { "0000:0a:00.0" } },
	{ "laptop-0302", { "0000:00:02.0", "0000:01:00.0" } },
	{ "two-identical", { "0000:01:00.0", "0000:0b:00.0" } },
	{ "sriov-server", { "0000:01:00.0", "0000:01:02.0", "0000:01:02.1", "0000:01:02.2",
			    "0000:01:02.3", "0000:04:00.0" } },
	{ "iommu-off", { "0000:00:02.0", "0000:01:00.0" } },
	{ "nonroot", { "0000:00:02.0", "0000:01:00.0" } },
	{ "ready", { "0000:00:02.0", "0000:01:00.0" } },
};

TEST(gpus_found_on_every_fixture_host_in_address_order,
     "each fixture's GPUs (0300, 0302, 0380, VFs included) are listed, sorted, nothing else")
{
	size_t h, i;

	for (h = 0; h < sizeof(expected_gpus) / sizeof(expected_gpus[0]); h++) {
		FX f;
		size_t n = 0;

		REQUIRE(fx_open(&f, expected_gpus[h].host));
		while (n < 8 && expected_gpus[h].gpus[n])
			n++;
		if (vfk_host_gpu_count(f.host) != n)
			test_fail_(__FILE__, __LINE__, "%s: %zu GPUs, expected %zu",
				   expected_gpus[h].host, vfk_host_gpu_count(f.host), n);
		for (i = 0; i < n && i < vfk_host_gpu_count(f.host); i++) {
			struct vfk_device *d = vfk_gpu_get_device(vfk_host_gpu(f.host, i));

			if (strcmp(vfk_device_get_address(d), expected_gpus[h].gpus[i]) != 0)
				test_fail_(__FILE__, __LINE__, "%s: GPU %zu is %s, expected %s",
					   expected_gpus[h].host, i, vfk_device_get_address(d),
					   expected_gpus[h].gpus[i]);
			CHECK(vfk_device_is_gpu(d));
		}
		CHECK(vfk_host_gpu(f.host, vfk_host_gpu_count(f.host)) == NULL);
	}
}

TEST(gpus_include_laptop_3d_controller_class_0302,
     "a laptop dGPU of class 0302 (3D controller) is a GPU, isolated, with one function")
{
	FX f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, "laptop-0302"));
	REQUIRE((g = gpu_at(&f, "0000:01:00.0")));
	CHECK_INT(vfk_device_get_class(vfk_gpu_get_device(g)), 0x030200);
	CHECK_FUNCTIONS(g, "0000:01:00.0");
	CHECK(vfk_gpu_is_isolated(g));
	CHECK(vfk_gpu_get_reason(g) == NULL);
	CHECK(!vfk_gpu_is_boot_vga(g));
	CHECK(!vfk_gpu_is_only_gpu(g));
}

TEST(gpus_include_0380_display_controllers_and_their_vfs,
     "an SR-IOV PF of class 0380 and each of its VFs are GPUs; VFs are each isolated")
{
	FX f;
	struct vfk_gpu *g;
	static const char *const vfs[] = { "0000:01:02.0", "0000:01:02.1", "0000:01:02.2",
					   "0000:01:02.3" };
	int groups[4];
	size_t i, j;

	REQUIRE(fx_open(&f, "sriov-server"));
	REQUIRE((g = gpu_at(&f, "0000:01:00.0")));
	CHECK_INT(vfk_device_get_class(vfk_gpu_get_device(g)), 0x038000);
	CHECK(vfk_gpu_is_isolated(g));
	for (i = 0; i < 4; i++) {
		struct vfk_device *d;

		REQUIRE((g = gpu_at(&f, vfs[i])));
		d = vfk_gpu_get_device(g);
		CHECK(vfk_device_is_vf(d));
		CHECK(vfk_gpu_is_isolated(g));
		CHECK_INT(vfk_gpu_blocker_count(g), 0);
		groups[i] = vfk_device_get_iommu_group(d);
		CHECK(groups[i] >= 0);
		for (j = 0; j < i; j++)
			CHECK(groups[i] != groups[j]);
	}
	/* NIC VFs are not GPUs */
	for (i = 0; i < vfk_host_gpu_count(f.host); i++)
		CHECK(vfk_device_get_vendor_id(vfk_gpu_get_device(vfk_host_gpu(f.host, i))) !=
		      0x15b3);
}

/* ------------------------------------------------------------ functions */

TEST(gpu_functions_of_four_function_turing_card,
     "RTX 2080 Ti: VGA, HDMI audio, USB xHCI and USB-C UCSI are its functions, VGA first")
{
	FX f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, "nvidia-4fn"));
	REQUIRE((g = gpu_at(&f, "0000:07:00.0")));
	REQUIRE(vfk_gpu_function_count(g) == 4);
	CHECK(vfk_gpu_function(g, 0) == vfk_gpu_get_device(g));
	CHECK_FUNCTIONS(g, "0000:07:00.0", "0000:07:00.1", "0000:07:00.2", "0000:07:00.3");
	CHECK_INT(vfk_device_get_class(vfk_gpu_function(g, 1)) >> 8, 0x0403);
	CHECK_INT(vfk_device_get_class(vfk_gpu_function(g, 2)) >> 8, 0x0c03);
	CHECK_INT(vfk_device_get_class(vfk_gpu_function(g, 3)) >> 8, 0x0c80);
	CHECK_INT(vfk_gpu_blocker_count(g), 0);
	CHECK(vfk_gpu_is_isolated(g));
	CHECK(vfk_gpu_get_reason(g) == NULL);
	CHECK(vfk_gpu_is_only_gpu(g));
	CHECK(vfk_gpu_is_boot_vga(g));
}

TEST(gpu_functions_exclude_sriov_vfs,
     "a PF's functions do not include its VFs; a VF's functions are just itself")
{
	FX f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, "sriov-server"));
	REQUIRE((g = gpu_at(&f, "0000:01:00.0")));
	CHECK_FUNCTIONS(g, "0000:01:00.0");
	REQUIRE((g = gpu_at(&f, "0000:01:02.2")));
	CHECK_FUNCTIONS(g, "0000:01:02.2");
	CHECK(vfk_gpu_function(g, 0) == vfk_gpu_get_device(g));
}

TEST(device_get_gpu_names_the_gpu_of_each_of_its_functions_and_no_other,
     "each of a 4-function card's functions answers with that card's GPU; a VF with its own "
     "GPU, its PF's GPU with the PF's; a bridge and a NIC with none")
{
	FX f, s;
	struct vfk_gpu *g;
	struct vfk_device *nic = NULL;
	size_t j;

	REQUIRE(fx_open(&f, "nvidia-4fn"));
	REQUIRE((g = gpu_at(&f, "0000:07:00.0")));
	for (j = 0; j < vfk_gpu_function_count(g); j++)
		CHECK(vfk_device_get_gpu(vfk_gpu_function(g, j)) == g);
	CHECK(vfk_device_get_gpu(vfk_device_get_parent(vfk_gpu_get_device(g))) == NULL);
	CHECK(vfk_device_get_gpu(NULL) == NULL);
	REQUIRE(fx_open(&s, "sriov-server"));
	REQUIRE((g = gpu_at(&s, "0000:01:02.2")));
	CHECK(vfk_device_get_gpu(vfk_gpu_get_device(g)) == g);
	REQUIRE((g = gpu_at(&s, "0000:01:00.0")));
	CHECK(vfk_device_get_gpu(vfk_gpu_get_device(g)) == g);
	REQUIRE(vfk_host_find_device(s.host, "0000:02:00.0", &nic) == 0);
	CHECK(vfk_device_get_gpu(nic) == NULL);
}

/* ------------------------------------------------------------ verdicts */

TEST(shared_chipset_gpu_blocked_by_sata_and_nic_no_acs_on_root_port,
     "a GPU behind ACS-less PCH root ports shares its group: blockers listed, reason names 00:1c.0")
{
	FX f;
	struct vfk_gpu *g;
	const char *reason;

	REQUIRE(fx_open(&f, "shared-chipset"));
	REQUIRE((g = gpu_at(&f, "0000:02:00.0")));
	CHECK(!vfk_gpu_is_isolated(g));
	CHECK_BLOCKERS(g, "0000:03:00.0", "0000:04:00.0");
	CHECK_FUNCTIONS(g, "0000:02:00.0", "0000:02:00.1");
	reason = vfk_gpu_get_reason(g);
	CHECK_CONTAINS(reason, "0000:00:1c.0");
	CHECK_CONTAINS(reason, "no ACS");
	CHECK(reason == NULL || strchr(reason, '\n') == NULL);
}

TEST(bridges_never_block_a_gpu,
     "a GPU sharing its group only with its root port is isolated; no blocker is a bridge")
{
	size_t h, i, j;
	FX f;
	struct vfk_gpu *g;

	/* GTX 1080 on the ACS-less Intel PEG port: group = port + GPU functions */
	REQUIRE(fx_open(&f, "shared-chipset"));
	REQUIRE((g = gpu_at(&f, "0000:01:00.0")));
	CHECK(vfk_gpu_is_isolated(g));
	CHECK_INT(vfk_gpu_blocker_count(g), 0);
	CHECK(vfk_gpu_get_reason(g) == NULL);
	fx_close(&f);

	/* the ASPEED VGA shares its group with the PCIe-to-PCI bridge above it */
	REQUIRE(fx_open(&f, "sriov-server"));
	REQUIRE((g = gpu_at(&f, "0000:04:00.0")));
	CHECK(vfk_gpu_is_isolated(g));
	CHECK_INT(vfk_gpu_blocker_count(g), 0);
	fx_close(&f);

	/* the bridge that fell into the GPU's group on acs-redir-off */
	REQUIRE(fx_open(&f, "acs-redir-off"));
	REQUIRE((g = gpu_at(&f, "0000:07:00.0")));
	CHECK(vfk_gpu_is_isolated(g));
	CHECK_INT(vfk_gpu_blocker_count(g), 0);
	fx_close(&f);

	for (h = 0; h < sizeof(expected_gpus) / sizeof(expected_gpus[0]); h++) {
		REQUIRE(fx_open(&f, expected_gpus[h].host));
		for (i = 0; i < vfk_host_gpu_count(f.host); i++) {
			g = vfk_host_gpu(f.host, i);
			for (j = 0; j < vfk_gpu_blocker_count(g); j++) {
				struct vfk_device *b = vfk_gpu_blocker(g, j);
				uint32_t cls = vfk_device_get_class(b) >> 8;

				if (vfk_device_is_bridge(b) || cls == 0x0604 || cls == 0x0600)
					test_fail_(__FILE__, __LINE__, "%s: bridge %s blocks %s",
						   expected_gpus[h].host, vfk_device_get_address(b),
						   vfk_device_get_address(vfk_gpu_get_device(g)));
			}
			for (j = 0; j < vfk_gpu_function_count(g); j++)
				CHECK(!vfk_device_is_bridge(vfk_gpu_function(g, j)));
			/* isolated <=> no blockers, and a reason exactly when not isolated */
			CHECK(vfk_gpu_is_isolated(g) == (vfk_gpu_blocker_count(g) == 0) ||
			      !vfk_host_iommu_enabled(f.host));
			CHECK((vfk_gpu_get_reason(g) == NULL) == vfk_gpu_is_isolated(g));
		}
		fx_close(&f);
	}
}

TEST(amd_gpu_isolated_behind_its_own_switch,
     "RX 6800 XT below its 1478/1479 switch is isolated; the chipset GT 1030 is blocked by the NIC")
{
	FX f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, "amd-switch"));
	REQUIRE((g = gpu_at(&f, "0000:0d:00.0")));
	CHECK(vfk_gpu_is_isolated(g));
	CHECK_FUNCTIONS(g, "0000:0d:00.0", "0000:0d:00.1");
	CHECK_INT(vfk_gpu_blocker_count(g), 0);
	CHECK(!vfk_gpu_is_boot_vga(g));
	CHECK(!vfk_gpu_is_only_gpu(g));
	CHECK_INT(vfk_device_get_iommu_group(vfk_gpu_get_device(g)), 11);

	REQUIRE((g = gpu_at(&f, "0000:04:00.0")));
	CHECK(!vfk_gpu_is_isolated(g));
	CHECK_BLOCKERS(g, "0000:05:00.0");
	CHECK_CONTAINS(vfk_gpu_get_reason(g), "0000:03:08.0");
}

TEST(two_identical_gpus_told_apart_by_address,
     "same ids and subsystem: two GPUs, distinct addresses, groups, functions and boot VGA flag")
{
	FX f;
	struct vfk_gpu *a, *b;
	struct vfk_device *da, *db;

	REQUIRE(fx_open(&f, "two-identical"));
	REQUIRE(vfk_host_gpu_count(f.host) == 2);
	REQUIRE((a = gpu_at(&f, "0000:01:00.0")));
	REQUIRE((b = gpu_at(&f, "0000:0b:00.0")));
	da = vfk_gpu_get_device(a);
	db = vfk_gpu_get_device(b);
	CHECK(da != db);
	CHECK_INT(vfk_device_get_device_id(da), vfk_device_get_device_id(db));
	CHECK_INT(vfk_device_get_subsystem_device_id(da), vfk_device_get_subsystem_device_id(db));
	CHECK_INT(vfk_device_get_iommu_group(da), 7);
	CHECK_INT(vfk_device_get_iommu_group(db), 9);
	CHECK_FUNCTIONS(a, "0000:01:00.0", "0000:01:00.1");
	CHECK_FUNCTIONS(b, "0000:0b:00.0", "0000:0b:00.1");
	CHECK(vfk_gpu_is_boot_vga(a));
	CHECK(!vfk_gpu_is_boot_vga(b));
	CHECK(vfk_gpu_is_isolated(a));
	CHECK(vfk_gpu_is_isolated(b));
	CHECK(!vfk_gpu_is_only_gpu(a));
	CHECK(!vfk_gpu_is_only_gpu(b));
	CHECK_STREQ(vfk_device_get_driver(db), "vfio-pci");
}

TEST(single_gpu_host_flags_only_gpu_and_console_in_use,
     "the only GPU, boot VGA with efifb console and nvidia-drm, is flagged as such")
{
	FX f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, "single-gpu"));
	REQUIRE(vfk_host_gpu_count(f.host) == 1);
	REQUIRE((g = gpu_at(&f, "0000:0a:00.0")));
	CHECK(vfk_gpu_is_only_gpu(g));
	CHECK(vfk_gpu_is_boot_vga(g));
	CHECK(vfk_gpu_console_in_use(g));
	CHECK(vfk_gpu_is_isolated(g));
	CHECK_FUNCTIONS(g, "0000:0a:00.0", "0000:0a:00.1");
}

TEST(dgpu_next_to_igpu_is_not_only_gpu_and_has_no_console,
     "with an iGPU as boot VGA, the dGPU is neither boot VGA nor the console nor the only GPU")
{
	FX f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, "desktop-dgpu-igpu"));
	REQUIRE((g = gpu_at(&f, "0000:01:00.0")));
	CHECK(!vfk_gpu_is_only_gpu(g));
	CHECK(!vfk_gpu_is_boot_vga(g));
	CHECK(!vfk_gpu_console_in_use(g));
	CHECK(vfk_gpu_is_isolated(g));
	CHECK_FUNCTIONS(g, "0000:01:00.0", "0000:01:00.1");
	REQUIRE((g = gpu_at(&f, "0000:00:02.0")));
	CHECK(vfk_gpu_is_boot_vga(g));
	CHECK(vfk_gpu_console_in_use(g));
	CHECK(!vfk_gpu_is_only_gpu(g));
}

TEST(gpu_boot_vga_flag_matches_its_device,
     "vfk_gpu_is_boot_vga agrees with vfk_device_is_boot_vga on every fixture")
{
	size_t h, i;

	for (h = 0; h < sizeof(expected_gpus) / sizeof(expected_gpus[0]); h++) {
		FX f;

		REQUIRE(fx_open(&f, expected_gpus[h].host));
		for (i = 0; i < vfk_host_gpu_count(f.host); i++) {
			struct vfk_gpu *g = vfk_host_gpu(f.host, i);

			CHECK(vfk_gpu_is_boot_vga(g) == vfk_device_is_boot_vga(vfk_gpu_get_device(g)));
			if (!vfk_gpu_is_boot_vga(g))
				CHECK(!vfk_gpu_console_in_use(g));
		}
	}
}

/* ------------------------------------------------------------ ACS unknown */

TEST(acs_unknown_as_non_root_is_reported_never_guessed,
     "with only 64 bytes of config space the ports' ACS is unknown and the reason says so")
{
	FX f;
	struct vfk_gpu *g;
	const char *reason;

	REQUIRE(fx_open(&f, "nonroot"));
	CHECK_INT(vfk_device_get_acs(vfk_device_get_parent(
			  vfk_gpu_get_device(gpu_at(&f, "0000:01:00.0")))), VFK_ACS_UNKNOWN);
	/* groups are the kernel's fact: the dGPU is still isolated */
	REQUIRE((g = gpu_at(&f, "0000:01:00.0")));
	CHECK(vfk_gpu_is_isolated(g));
	fx_close(&f);

	REQUIRE(fx_open(&f, "shared-chipset-nonroot"));
	REQUIRE((g = gpu_at(&f, "0000:02:00.0")));
	CHECK(!vfk_gpu_is_isolated(g));
	CHECK_BLOCKERS(g, "0000:03:00.0", "0000:04:00.0");
	reason = vfk_gpu_get_reason(g);
	CHECK_CONTAINS(reason, "unknown");
	CHECK_CONTAINS(reason, "0000:00:1c.0");
	CHECK(reason == NULL || strstr(reason, "no ACS") == NULL);
}

TEST(iommu_off_gpus_are_not_isolated_and_say_why,
     "without IOMMU groups no GPU is isolated and the reason names the disabled IOMMU")
{
	FX f;
	size_t i;

	REQUIRE(fx_open(&f, "iommu-off"));
	REQUIRE(vfk_host_gpu_count(f.host) == 2);
	for (i = 0; i < vfk_host_gpu_count(f.host); i++) {
		struct vfk_gpu *g = vfk_host_gpu(f.host, i);

		CHECK(!vfk_gpu_is_isolated(g));
		CHECK_CONTAINS(vfk_gpu_get_reason(g), "IOMMU");
	}
	/* functions are still known without groups */
	CHECK_FUNCTIONS(gpu_at(&f, "0000:01:00.0"), "0000:01:00.0", "0000:01:00.1",
			"0000:01:00.2", "0000:01:00.3");
}

TEST(aspeed_bmc_vga_is_boot_console_behind_pci_bridge,
     "the server's BMC VGA is boot VGA with its console in use, not the only GPU")
{
	FX f;
	struct vfk_gpu *g;

	REQUIRE(fx_open(&f, "sriov-server"));
	REQUIRE((g = gpu_at(&f, "0000:04:00.0")));
	CHECK(vfk_gpu_is_boot_vga(g));
	CHECK(vfk_gpu_console_in_use(g));
	CHECK(!vfk_gpu_is_only_gpu(g));
	CHECK_INT(vfk_device_get_acs(vfk_gpu_get_device(g)), VFK_ACS_NOT_PCIE);
}
