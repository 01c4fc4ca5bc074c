/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host readiness checks (lib/check/host.c) and the vfio-check tool, against fixture
 * hosts built by tests/mkhost.py. Where a case needs one fact changed, the
 * test edits its own scratch copy of a fixture (a different command line, a
 * missing /dev/kvm, ...), so each test names exactly what it proves.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "harness.h"
#include "vfiokit.h"

/* ---------------------------------------------------------------- helpers */

/* Run every check against the tree at @root (NULL: the running host). */
static struct vfk_checks *run_checks(const char *root)
{
	struct vfk_ctx *ctx = NULL;
	struct vfk_checks *checks = NULL;
	int r;

	r = vfk_ctx_new(root, &ctx);
	if (r < 0) {
		test_fail_(__FILE__, __LINE__, "vfk_ctx_new(%s): %s", root ? root : "/", strerror(-r));
		return NULL;
	}
	r = vfk_checks_run(ctx, &checks);
	vfk_ctx_unref(ctx);
	if (r < 0) {
		test_fail_(__FILE__, __LINE__, "vfk_checks_run(%s): %s", root ? root : "/",
			   strerror(-r));
		return NULL;
	}
	return checks;
}

static const struct vfk_check *find_check(const struct vfk_checks *checks, const char *id)
{
	size_t i;

	for (i = 0; i < vfk_checks_count(checks); i++)
		if (strcmp(vfk_checks_get(checks, i)->id, id) == 0)
			return vfk_checks_get(checks, i);
	test_fail_(__FILE__, __LINE__, "no check with id '%s'", id);
	return NULL;
}

#define CHECK_STATUS(checks, id, st)                                                   \
	do {                                                                           \
		const struct vfk_check *_c = find_check(checks, id);                   \
		if (_c && _c->status != (st))                                          \
			test_fail_(__FILE__, __LINE__, "check %s is %s, expected %s: %s", \
				   id, vfk_check_status_to_string(_c->status),          \
				   vfk_check_status_to_string(st), _c->detail);         \
	} while (0)

static const char *fix_of(const struct vfk_checks *checks, const char *id)
{
	const struct vfk_check *c = find_check(checks, id);
	return c && c->fix ? c->fix : "";
}

static const char *detail_of(const struct vfk_checks *checks, const char *id)
{
	const struct vfk_check *c = find_check(checks, id);
	return c ? c->detail : "";
}

static const char *const all_ids[] = {
	"cpu-virt", "kvm", "iommu", "cmdline", "irq-remap",
	"vfio-modules", "hugepages", "ovmf", "libvirt", "gpu-fabric",
};

/* ------------------------------------------------------------ the library */

TEST(checks_ready_host_passes_every_check, "the 'ready' fixture: all checks PASS, no fix texts")
{
	char *root = fixture_host("ready");
	struct vfk_checks *checks;
	size_t i;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_INT(vfk_checks_worst(checks), VFK_CHECK_PASS);
	for (i = 0; i < vfk_checks_count(checks); i++) {
		const struct vfk_check *c = vfk_checks_get(checks, i);
		CHECK_STREQ(vfk_check_status_to_string(c->status), "pass");
		CHECK(c->fix == NULL);
		CHECK(c->detail && *c->detail);
		CHECK(c->title && *c->title);
	}
	CHECK_CONTAINS(detail_of(checks, "cpu-virt"), "vmx");
	CHECK_CONTAINS(detail_of(checks, "iommu"), "dmar0");
	CHECK_CONTAINS(detail_of(checks, "irq-remap"), "IR-");
	CHECK_CONTAINS(detail_of(checks, "hugepages"), "4096 x 2 MiB");
	CHECK_CONTAINS(detail_of(checks, "ovmf"), "OVMF_CODE");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_ids_are_stable_and_in_order, "the ten check ids in their documented order; get() past the end is NULL")
{
	char *root = fixture_host("ready");
	struct vfk_checks *checks;
	size_t i;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_INT(vfk_checks_count(checks), sizeof(all_ids) / sizeof(all_ids[0]));
	for (i = 0; i < vfk_checks_count(checks) && i < sizeof(all_ids) / sizeof(all_ids[0]); i++)
		CHECK_STREQ(vfk_checks_get(checks, i)->id, all_ids[i]);
	CHECK(vfk_checks_get(checks, vfk_checks_count(checks)) == NULL);
	CHECK(vfk_checks_get(NULL, 0) == NULL);
	CHECK_INT(vfk_checks_count(NULL), 0);
	CHECK_STREQ(vfk_check_status_to_string(VFK_CHECK_PASS), "pass");
	CHECK_STREQ(vfk_check_status_to_string(VFK_CHECK_WARN), "warn");
	CHECK_STREQ(vfk_check_status_to_string(VFK_CHECK_FAIL), "fail");
	vfk_checks_free(checks);
	vfk_checks_free(NULL);
	free(root);
}

TEST(checks_every_non_pass_has_a_fix, "on every fixture host each WARN/FAIL carries a fix, each PASS none")
{
	static const char *const hosts[] = {
		"desktop-dgpu-igpu", "iommu-off", "single-gpu", "pvm", "nvidia-4fn", "laptop-0302",
	};
	size_t h, i;

	for (h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		char *root = fixture_host(hosts[h]);
		struct vfk_checks *checks;

		REQUIRE(root);
		checks = run_checks(root);
		REQUIRE(checks);
		for (i = 0; i < vfk_checks_count(checks); i++) {
			const struct vfk_check *c = vfk_checks_get(checks, i);
			if ((c->status == VFK_CHECK_PASS) != (c->fix == NULL))
				test_fail_(__FILE__, __LINE__, "%s: %s is %s with fix %s", hosts[h],
					   c->id, vfk_check_status_to_string(c->status),
					   c->fix ? "set" : "NULL");
			if (c->fix && !*c->fix)
				test_fail_(__FILE__, __LINE__, "%s: %s has an empty fix", hosts[h], c->id);
			if (strchr(c->detail, '\n'))
				test_fail_(__FILE__, __LINE__, "%s: %s detail is not one line", hosts[h], c->id);
		}
		vfk_checks_free(checks);
		free(root);
	}
}

TEST(checks_pvm_kvm_is_a_warning_with_tcg_fallback, "kvm-pvm's /dev/kvm is WARN 'only PVM guests; falls back to TCG'; no vmx is FAIL with a nested-virt fix")
{
	char *root = fixture_host("pvm");
	struct vfk_checks *checks;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "kvm", VFK_CHECK_WARN);
	CHECK_CONTAINS(detail_of(checks, "kvm"), "kvm-pvm: only PVM guests; vfio-vm falls back to TCG");
	CHECK_CONTAINS(fix_of(checks, "kvm"), "kvm_intel or kvm_amd");
	CHECK_STATUS(checks, "cpu-virt", VFK_CHECK_FAIL);
	CHECK_CONTAINS(detail_of(checks, "cpu-virt"), "hypervisor");
	CHECK_CONTAINS(fix_of(checks, "cpu-virt"), "nested=1");
	CHECK_INT(vfk_checks_worst(checks), VFK_CHECK_FAIL);
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_kvm_missing_fails_with_modprobe_fix, "no /dev/kvm on an Intel host: FAIL, fix loads kvm_intel and persists it")
{
	char *root = fixture_host("ready");
	struct vfk_checks *checks;

	REQUIRE(root);
	remove_path(root, "dev/kvm");
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "kvm", VFK_CHECK_FAIL);
	CHECK_CONTAINS(detail_of(checks, "kvm"), "missing");
	CHECK_CONTAINS(fix_of(checks, "kvm"), "modprobe kvm_intel");
	CHECK_CONTAINS(fix_of(checks, "kvm"), "/etc/modules-load.d/kvm.conf");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_cpu_without_vmx_fails_with_firmware_fix, "bare-metal Intel CPU without vmx: FAIL naming VT-x in the firmware setup")
{
	char *root = fixture_host("ready");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "proc/cpuinfo",
			 "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse tsc msr\n\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "cpu-virt", VFK_CHECK_FAIL);
	CHECK_CONTAINS(fix_of(checks, "cpu-virt"), "Intel VT-x");
	CHECK_CONTAINS(fix_of(checks, "cpu-virt"), "firmware");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_iommu_off_intel_fails_with_exact_grub_edit, "IOMMU off on Intel: iommu/cmdline FAIL; fix is the new GRUB line from /etc/default/grub plus update-grub")
{
	char *root = fixture_host("iommu-off");
	struct vfk_checks *checks;
	const char *fix;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "iommu", VFK_CHECK_FAIL);
	CHECK_CONTAINS(fix_of(checks, "iommu"), "intel_iommu=on");
	/* the fixture firmware has a DMAR table: the kernel, not the firmware, is at fault */
	CHECK_CONTAINS(detail_of(checks, "iommu"), "DMAR");
	CHECK_STATUS(checks, "cmdline", VFK_CHECK_FAIL);
	fix = fix_of(checks, "cmdline");
	CHECK_CONTAINS(fix, "kernel parameters to add: intel_iommu=on iommu=pt");
	CHECK_CONTAINS(fix, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt\"");
	CHECK_CONTAINS(fix, "update-grub");
	CHECK_CONTAINS(fix, "grub2-mkconfig -o /boot/grub2/grub.cfg");
	CHECK_CONTAINS(fix, "/etc/kernel/cmdline");
	CHECK_CONTAINS(fix, "kernel-install add");
	CHECK_CONTAINS(fix, "loader/entries");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_iommu_without_acpi_table_points_at_firmware, "no DMAR/IVRS table: the iommu fix starts in the firmware setup (VT-d)")
{
	char *root = fixture_host("iommu-off");
	struct vfk_checks *checks;

	REQUIRE(root);
	remove_path(root, "sys/firmware/acpi/tables/DMAR");
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "iommu", VFK_CHECK_FAIL);
	CHECK_CONTAINS(detail_of(checks, "iommu"), "firmware setup");
	CHECK_CONTAINS(fix_of(checks, "iommu"), "VT-d");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_systemd_boot_fix_rewrites_etc_kernel_cmdline, "systemd-boot: the fix gives the new /etc/kernel/cmdline content and kernel-install")
{
	char *root = fixture_host("two-identical");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=UUID=abcd ro quiet\n"));
	REQUIRE(put_file(root, "etc/kernel/cmdline", "root=UUID=abcd ro quiet\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "cmdline", VFK_CHECK_WARN);
	CHECK_CONTAINS(fix_of(checks, "cmdline"),
		       "systemd-boot: write /etc/kernel/cmdline as\n  root=UUID=abcd ro quiet iommu=pt\n");
	CHECK_CONTAINS(fix_of(checks, "cmdline"), "kernel-install add \"$(uname -r)\"");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_amd_needs_only_iommu_pt, "AMD host without iommu=pt: cmdline WARN adding iommu=pt, never intel_iommu=on")
{
	char *root = fixture_host("single-gpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "iommu", VFK_CHECK_PASS);
	CHECK_STATUS(checks, "cmdline", VFK_CHECK_WARN);
	CHECK_CONTAINS(fix_of(checks, "cmdline"), "kernel parameters to add: iommu=pt\n");
	CHECK(strstr(fix_of(checks, "cmdline"), "intel_iommu") == NULL);
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_amd_iommu_off_on_cmdline_fails, "amd_iommu=off: cmdline FAIL; the fix removes it from the GRUB line")
{
	char *root = fixture_host("single-gpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=UUID=1 ro quiet amd_iommu=off iommu=pt\n"));
	REQUIRE(put_file(root, "etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet amd_iommu=off iommu=pt\"\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "cmdline", VFK_CHECK_FAIL);
	CHECK_CONTAINS(detail_of(checks, "cmdline"), "amd_iommu=off");
	CHECK_CONTAINS(fix_of(checks, "cmdline"), "kernel parameters to remove: amd_iommu=off");
	CHECK_CONTAINS(fix_of(checks, "cmdline"), "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet iommu=pt\"");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_intel_iommu_on_by_default_is_a_warning, "Intel without intel_iommu=on but with IOMMU groups: WARN, not FAIL")
{
	char *root = fixture_host("ready");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=UUID=1 ro quiet iommu=pt\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "cmdline", VFK_CHECK_WARN);
	CHECK_CONTAINS(detail_of(checks, "cmdline"), "kernel default");
	CHECK_CONTAINS(fix_of(checks, "cmdline"), "intel_iommu=on");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_cmdline_ignores_words_after_double_dash, "words after a lone '--' go to init and do not count as kernel parameters")
{
	char *root = fixture_host("ready");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "proc/cmdline", "root=UUID=1 ro quiet -- intel_iommu=on iommu=pt\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "cmdline", VFK_CHECK_WARN);
	CHECK_CONTAINS(detail_of(checks, "cmdline"), "iommu=pt missing");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_irq_remap_missing_warns_with_unsafe_interrupts_fix, "no interrupt remapping: WARN explaining allow_unsafe_interrupts")
{
	char *root = fixture_host("iommu-off");
	struct vfk_checks *checks;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "irq-remap", VFK_CHECK_WARN);
	CHECK_CONTAINS(fix_of(checks, "irq-remap"),
		       "options vfio_iommu_type1 allow_unsafe_interrupts=1");
	CHECK_CONTAINS(fix_of(checks, "irq-remap"), "trusted guests");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_irq_remap_from_dmar_ecap, "VT-d ECAP bit 3 counts as interrupt remapping when interrupts show no IR- domain; without it WARN")
{
	char *root = fixture_host("ready");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "proc/interrupts",
			 "           CPU0\n  0:   10   IO-APIC   2-edge      timer\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	/* the fixture's dmar0 has ECAP.IR set */
	CHECK_STATUS(checks, "irq-remap", VFK_CHECK_PASS);
	CHECK_CONTAINS(detail_of(checks, "irq-remap"), "dmar0");
	vfk_checks_free(checks);

	REQUIRE(put_file(root, "sys/devices/virtual/iommu/dmar0/intel-iommu/ecap", "f050d2\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "irq-remap", VFK_CHECK_WARN);
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_intremap_off_warns_with_cmdline_fix, "intremap=off on the command line: irq-remap WARN whose fix removes it")
{
	char *root = fixture_host("ready");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "proc/cmdline", "root=UUID=1 ro quiet intel_iommu=on iommu=pt intremap=off\n"));
	REQUIRE(put_file(root, "proc/interrupts", "           CPU0\n  0:   10   IO-APIC   2-edge      timer\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "irq-remap", VFK_CHECK_WARN);
	CHECK_CONTAINS(fix_of(checks, "irq-remap"), "kernel parameters to remove: intremap=off\n");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_vfio_available_not_loaded_warns_with_modprobe, "vfio modules on disk but not loaded: WARN, modprobe -a and modules-load.d")
{
	char *root = fixture_host("desktop-dgpu-igpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "vfio-modules", VFK_CHECK_WARN);
	CHECK_CONTAINS(detail_of(checks, "vfio-modules"), "vfio_pci available (not loaded)");
	CHECK_CONTAINS(fix_of(checks, "vfio-modules"), "modprobe -a vfio vfio_pci vfio_iommu_type1");
	CHECK_CONTAINS(fix_of(checks, "vfio-modules"), "/etc/modules-load.d/vfio.conf");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_vfio_partly_loaded_names_only_the_missing_one, "vfio and type1 loaded, vfio_pci on disk: modprobe names vfio_pci only")
{
	char *root = fixture_host("nvidia-4fn");
	struct vfk_checks *checks;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "vfio-modules", VFK_CHECK_WARN);
	CHECK_CONTAINS(fix_of(checks, "vfio-modules"), "modprobe -a vfio_pci\n");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_vfio_missing_fails_with_install_fix, "no vfio module on disk nor loaded: FAIL naming the kernel release to install")
{
	char *root = fixture_host("desktop-dgpu-igpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "lib/modules/6.1.0-18-amd64/modules.dep", "kernel/sound/pci/hda/snd-hda-intel.ko:\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "vfio-modules", VFK_CHECK_FAIL);
	CHECK_CONTAINS(detail_of(checks, "vfio-modules"), "vfio missing");
	CHECK_CONTAINS(fix_of(checks, "vfio-modules"), "linux-image-6.1.0-18-amd64");
	CHECK_CONTAINS(fix_of(checks, "vfio-modules"), "CONFIG_VFIO_PCI");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_vfio_builtin_counts_as_loaded, "vfio modules listed in modules.builtin: PASS as built-in")
{
	char *root = fixture_host("desktop-dgpu-igpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "lib/modules/6.1.0-18-amd64/modules.dep", ""));
	REQUIRE(put_file(root, "lib/modules/6.1.0-18-amd64/modules.builtin",
			 "kernel/drivers/vfio/vfio.ko\nkernel/drivers/vfio/pci/vfio-pci.ko\n"
			 "kernel/drivers/vfio/vfio_iommu_type1.ko\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "vfio-modules", VFK_CHECK_PASS);
	CHECK_CONTAINS(detail_of(checks, "vfio-modules"), "vfio_pci built-in");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_vfio_modules_via_libkmod_indexes, "with depmod's binary indexes (no text files) libkmod finds module files and built-ins")
{
	static const char *const mods[] = { "vfio", "vfio_iommu_type1" };
	char *root = fixture_host("desktop-dgpu-igpu");
	char mdir[PATH_MAX], src[PATH_MAX + 64], ko[PATH_MAX + 64], base[PATH_MAX];
	struct vfk_checks *checks;
	size_t i;

	REQUIRE_PROGRAM("/usr/sbin/depmod", "kmod");
	REQUIRE_PROGRAM("/usr/bin/cc", "gcc");
	REQUIRE(root);
	remove_path(root, "lib/modules/6.1.0-18-amd64");
	snprintf(mdir, sizeof(mdir), "%s/lib/modules/6.1.0-18-amd64", root);
	/* ELF objects with a .modinfo section are enough for depmod */
	for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		char rel[128], code[256];

		snprintf(rel, sizeof(rel), "lib/modules/6.1.0-18-amd64/src/%s.c", mods[i]);
		snprintf(code, sizeof(code),
			 "__attribute__((section(\".modinfo\"), used)) static const char mi[] = "
			 "\"name=%s\\0license=GPL\";\n", mods[i]);
		REQUIRE(put_file(root, rel, code));
		snprintf(rel, sizeof(rel), "lib/modules/6.1.0-18-amd64/kernel/drivers/vfio/%s.ko", mods[i]);
		REQUIRE(put_file(root, rel, ""));
		snprintf(src, sizeof(src), "%s/src/%s.c", mdir, mods[i]);
		snprintf(ko, sizeof(ko), "%s/kernel/drivers/vfio/%s.ko", mdir, mods[i]);
		REQUIRE(run_tool(NULL, NULL, (const char *const[]){ "/usr/bin/cc", "-c", "-o", ko, src, NULL }) == 0);
	}
	remove_path(root, "lib/modules/6.1.0-18-amd64/src");
	REQUIRE(put_file(root, "lib/modules/6.1.0-18-amd64/modules.builtin", "kernel/drivers/vfio/pci/vfio-pci.ko\n"));
	REQUIRE(put_file(root, "lib/modules/6.1.0-18-amd64/modules.order", ""));
	snprintf(base, sizeof(base), "%s", root);
	REQUIRE(run_tool(NULL, NULL, (const char *const[]){ "/usr/sbin/depmod", "-b", base, "6.1.0-18-amd64", NULL }) == 0);
	REQUIRE(path_exists(root, "lib/modules/6.1.0-18-amd64/modules.dep.bin"));
	/* only the binary indexes remain: the text fallback cannot be what answers */
	remove_path(root, "lib/modules/6.1.0-18-amd64/modules.dep");
	remove_path(root, "lib/modules/6.1.0-18-amd64/modules.builtin");
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "vfio-modules", VFK_CHECK_WARN);
	CHECK_CONTAINS(detail_of(checks, "vfio-modules"),
		       "vfio available (not loaded), vfio_pci built-in, vfio_iommu_type1 available (not loaded)");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_nomodule_blocks_vfio_loading, "'nomodule' on the command line with vfio not loaded: FAIL whose fix removes it")
{
	char *root = fixture_host("desktop-dgpu-igpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "proc/cmdline", "root=UUID=1 ro quiet intel_iommu=on nomodule\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "vfio-modules", VFK_CHECK_FAIL);
	CHECK_CONTAINS(detail_of(checks, "vfio-modules"), "nomodule");
	CHECK_CONTAINS(fix_of(checks, "vfio-modules"), "kernel parameters to remove: nomodule");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_hugepages_none_warns_sized_for_half_of_ram, "no huge pages: WARN, fix sized for half of RAM (1G boot pages and 2M sysctl)")
{
	/* desktop-dgpu-igpu: 32768000 kB of RAM -> 31 GiB -> a 15 GiB guest */
	char *root = fixture_host("desktop-dgpu-igpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "hugepages", VFK_CHECK_WARN);
	CHECK_CONTAINS(fix_of(checks, "hugepages"), "default_hugepagesz=1G hugepagesz=1G hugepages=15");
	CHECK_CONTAINS(fix_of(checks, "hugepages"), "sysctl -w vm.nr_hugepages=7680");
	CHECK_CONTAINS(fix_of(checks, "hugepages"), "/etc/sysctl.d/");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_hugepages_all_in_use_warns, "huge pages reserved but none free: WARN")
{
	char *root = fixture_host("ready");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "0\n"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "hugepages", VFK_CHECK_WARN);
	CHECK_CONTAINS(detail_of(checks, "hugepages"), "in use");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_ovmf_missing_fails_with_install_fix, "no OVMF: FAIL with apt and dnf install lines")
{
	char *root = fixture_host("single-gpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "ovmf", VFK_CHECK_FAIL);
	CHECK_CONTAINS(fix_of(checks, "ovmf"), "apt install ovmf");
	CHECK_CONTAINS(fix_of(checks, "ovmf"), "dnf install edk2-ovmf");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_ovmf_fedora_layout_and_descriptor_validation, "usr/share/edk2/ovmf counts; a descriptor whose image is missing does not")
{
	char *root = fixture_host("single-gpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "usr/share/qemu/firmware/60-edk2.json",
			 "{\"interface-types\":[\"uefi\"],\"mapping\":{\"device\":\"flash\","
			 "\"executable\":{\"filename\":\"/usr/share/edk2/ovmf/OVMF_CODE.fd\"}},"
			 "\"targets\":[{\"architecture\":\"x86_64\"}]}"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "ovmf", VFK_CHECK_FAIL);
	vfk_checks_free(checks);

	REQUIRE(put_file(root, "usr/share/edk2/ovmf/OVMF_CODE.fd", "x"));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "ovmf", VFK_CHECK_PASS);
	CHECK_CONTAINS(detail_of(checks, "ovmf"), "/usr/share/edk2/ovmf/OVMF_CODE.fd");
	CHECK_CONTAINS(detail_of(checks, "ovmf"), "1 QEMU firmware descriptor");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_libvirt_missing_warns_with_install_fix, "no libvirt socket: WARN with package and systemctl lines")
{
	char *root = fixture_host("single-gpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "libvirt", VFK_CHECK_WARN);
	CHECK_CONTAINS(fix_of(checks, "libvirt"), "apt install libvirt-daemon-system");
	CHECK_CONTAINS(fix_of(checks, "libvirt"), "systemctl enable --now libvirtd");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_libvirt_modular_socket_counts, "run/libvirt/virtqemud-sock alone is enough for the libvirt check")
{
	char *root = fixture_host("single-gpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	REQUIRE(put_file(root, "run/libvirt/virtqemud-sock", ""));
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "libvirt", VFK_CHECK_PASS);
	CHECK_CONTAINS(detail_of(checks, "libvirt"), "virtqemud-sock");
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_empty_sysroot_fails_cleanly, "an empty tree: checks still run, cpu-virt/kvm/iommu FAIL, nothing crashes")
{
	char dir[] = "/tmp/vfk-empty-XXXXXX";
	struct vfk_checks *checks;

	REQUIRE(mkdtemp(dir));
	checks = run_checks(dir);
	rmdir(dir);
	REQUIRE(checks);
	CHECK_STATUS(checks, "cpu-virt", VFK_CHECK_FAIL);
	CHECK_CONTAINS(detail_of(checks, "cpu-virt"), "cannot read");
	CHECK_STATUS(checks, "kvm", VFK_CHECK_FAIL);
	CHECK_STATUS(checks, "iommu", VFK_CHECK_FAIL);
	CHECK_STATUS(checks, "cmdline", VFK_CHECK_FAIL);
	CHECK_INT(vfk_checks_worst(checks), VFK_CHECK_FAIL);
	vfk_checks_free(checks);
}

TEST(checks_never_write_to_the_sysroot, "running the checks leaves the fixture tree unchanged (no new files)")
{
	char *root = fixture_host("desktop-dgpu-igpu");
	struct vfk_checks *checks;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK(!path_exists(root, "run/vfiokit/journal"));
	CHECK(!path_exists(root, "etc/modules-load.d"));
	CHECK(!path_exists(root, "etc/modprobe.d"));
	vfk_checks_free(checks);
	free(root);
}

TEST(checks_live_host_with_kvm_pvm_warns, "on this machine (kvm-pvm): the live kvm check opens /dev/kvm and reports WARN, not PASS")
{
	struct vfk_checks *checks;
	const struct vfk_check *kvm;

	SKIP_IF(access("/sys/module/kvm_pvm", F_OK) != 0, "not a kvm-pvm host");
	SKIP_IF(access("/dev/kvm", R_OK | W_OK) != 0, "/dev/kvm not accessible");
	checks = run_checks(NULL);
	REQUIRE(checks);
	kvm = find_check(checks, "kvm");
	REQUIRE(kvm);
	CHECK_INT(kvm->status, VFK_CHECK_WARN);
	CHECK_CONTAINS(kvm->detail, "kvm-pvm: only PVM guests; vfio-vm falls back to TCG");
	/* proves the live probe ran: the API version was read */
	CHECK_CONTAINS(kvm->detail, "API 12");
	vfk_checks_free(checks);
}

/* ------------------------------------------------------------ the tool */

TEST(vfio_check_exit_codes, "exit 0 ready (warnings allowed), 1 not ready, 2 usage / bad sysroot")
{
	char *ready = fixture_host("ready"), *warn = fixture_host("desktop-dgpu-igpu");
	char *off = fixture_host("iommu-off");
	char *out = NULL, *err = NULL;

	REQUIRE(ready && warn && off);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "--sysroot", ready, NULL }), 0);
	CHECK_CONTAINS(out, "Ready.");
	free(out), free(err);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "--sysroot", warn, NULL }), 0);
	CHECK_CONTAINS(out, "Ready, with 3 warnings.");
	free(out), free(err);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "--sysroot", off, NULL }), 1);
	CHECK_CONTAINS(out, "Not ready:");
	free(out), free(err);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "--bogus", NULL }), 2);
	CHECK_CONTAINS(err, "Try 'vfio-check --help' for more information.");
	free(out), free(err);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "extra", NULL }), 2);
	free(out), free(err);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "--sysroot", "/nonexistent/vfk", NULL }), 2);
	CHECK_CONTAINS(err, "/nonexistent/vfk");
	CHECK(strchr(err, '\n') == err + strlen(err) - 1);	/* one line */
	free(out), free(err);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "--help", NULL }), 0);
	CHECK_CONTAINS(out, "--json");
	free(out), free(err);
	free(ready), free(warn), free(off);
}

TEST(vfio_check_human_format, "one line per check 'STATUS  id  title  detail', fixes indented under 'fix:'")
{
	char *root = fixture_host("desktop-dgpu-igpu");
	char *out = NULL, *err = NULL;

	REQUIRE(root);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "--sysroot", root, NULL }), 0);
	REQUIRE(out);
	CHECK(strncmp(out, "PASS  cpu-virt  ", 16) == 0);
	CHECK_CONTAINS(out, "\nWARN  cmdline  ");
	CHECK_CONTAINS(out, "\n      fix: kernel parameters to add: iommu=pt\n");
	CHECK_CONTAINS(out, "\n           GRUB: in /etc/default/grub set\n");
	CHECK_STREQ(err, "");
	free(out), free(err), free(root);
}

TEST(vfio_check_quiet_prints_only_non_pass, "-q: nothing on a ready host; only WARN/FAIL lines and fixes otherwise")
{
	char *ready = fixture_host("ready"), *warn = fixture_host("desktop-dgpu-igpu");
	char *out = NULL, *err = NULL;

	REQUIRE(ready && warn);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "-q", "--sysroot", ready, NULL }), 0);
	CHECK_STREQ(out, "");
	free(out), free(err);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "-q", "--sysroot", warn, NULL }), 0);
	REQUIRE(out);
	CHECK(strstr(out, "PASS") == NULL);
	CHECK(strncmp(out, "WARN  cmdline", 13) == 0);
	CHECK(strstr(out, "Ready") == NULL);
	free(out), free(err), free(ready), free(warn);
}

TEST(vfio_check_json_schema, "--json: {ready, checks:[{id,title,status,detail,fix}]}, fix null exactly on pass")
{
	char *root = fixture_host("iommu-off");
	char *out = NULL, *err = NULL;
	json_object *o, *checks, *v;
	size_t i;

	REQUIRE(root);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "--json", "--sysroot", root, NULL }), 1);
	REQUIRE(out);
	o = json_tokener_parse(out);
	REQUIRE(o);
	CHECK(json_object_object_get_ex(o, "ready", &v) && json_object_is_type(v, json_type_boolean) &&
	      !json_object_get_boolean(v));
	REQUIRE(json_object_object_get_ex(o, "checks", &checks) && json_object_is_type(checks, json_type_array));
	CHECK_INT(json_object_array_length(checks), sizeof(all_ids) / sizeof(all_ids[0]));
	for (i = 0; i < json_object_array_length(checks); i++) {
		json_object *c = json_object_array_get_idx(checks, i), *id, *title, *st, *detail, *fix;
		const char *s;

		REQUIRE(json_object_object_get_ex(c, "id", &id) && json_object_object_get_ex(c, "title", &title) &&
			json_object_object_get_ex(c, "status", &st) &&
			json_object_object_get_ex(c, "detail", &detail) && json_object_object_get_ex(c, "fix", &fix));
		if (i < sizeof(all_ids) / sizeof(all_ids[0]))
			CHECK_STREQ(json_object_get_string(id), all_ids[i]);
		CHECK(json_object_is_type(title, json_type_string));
		CHECK(json_object_is_type(detail, json_type_string));
		s = json_object_get_string(st);
		CHECK(strcmp(s, "pass") == 0 || strcmp(s, "warn") == 0 || strcmp(s, "fail") == 0);
		if (strcmp(s, "pass") == 0)
			CHECK(fix == NULL);
		else
			CHECK(json_object_is_type(fix, json_type_string) && *json_object_get_string(fix));
		if (strcmp(json_object_get_string(id), "iommu") == 0)
			CHECK_STREQ(s, "fail");
	}
	json_object_put(o);
	free(out), free(err), free(root);

	/* a ready host says so */
	root = fixture_host("ready");
	REQUIRE(root);
	CHECK_INT(run_tool(&out, &err, (const char *const[]){ "vfio-check", "--json", "--sysroot", root, NULL }), 0);
	o = out ? json_tokener_parse(out) : NULL;
	CHECK(o && json_object_object_get_ex(o, "ready", &v) && json_object_get_boolean(v));
	json_object_put(o);
	free(out), free(err), free(root);
}

TEST(checks_cmdline_follows_the_iommu_not_the_cpu, "an AMD CPU model on an emulated Intel "
     "IOMMU (dmar0), as in the test bed: intel_iommu=on counts, no 'AMD IOMMU' claim")
{
	char *root = fixture_host("testbed-l2");
	struct vfk_checks *checks;

	REQUIRE(root);
	checks = run_checks(root);
	REQUIRE(checks);
	CHECK_STATUS(checks, "cmdline", VFK_CHECK_PASS);
	CHECK(strstr(detail_of(checks, "cmdline"), "AMD") == NULL);
	CHECK_CONTAINS(detail_of(checks, "cmdline"), "intel_iommu=on");
	vfk_checks_free(checks);
	free(root);
}
