/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Large VMs start (issue 19, point 6), on the rebar-32g fixture: an RTX 4090
 * with a 32 GiB Resizable BAR and an RTX 3060 with a 256 MiB one, read from
 * sysfs resource; the same host with a 36-bit CPU. The 64-bit PCI hole and the
 * guest's physical address width are sized to the BARs on both backends, or
 * the plan is refused; the memory VFIO may lock is RAM + BARs (the QEMU
 * backend raises RLIMIT_MEMLOCK, libvirt gets a hard limit only beyond its
 * own RAM + 1 GiB); huge pages are preallocated by one thread per vCPU.
 */
#include <errno.h>
#include <json-c/json.h>
#include <libxml/tree.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"
#include "launch/memlock.h"
#include "vmtest.h"

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)
/* The 4090's memory BARs in rebar-32g: 16 MiB, 32 GiB, 32 MiB; its audio's 16 KiB
 * (the 128-byte I/O BAR is not memory). */
#define BARS_4090 (16 * MIB + 32 * GIB + 32 * MIB + 16384)
#define BARS_3060 (16 * MIB + 256 * MIB + 32 * MIB + 16384)

#define BIG "[vm]\nname = big\nmemory = 16G\nvcpus = 4\n[gpu]\ndevice = 01:00.0\n"
#define SMALL "[vm]\nname = small\nmemory = 16G\nvcpus = 4\n[gpu]\ndevice = 04:00.0\n"

/* Plan @ini on rebar-32g; its QEMU argv and its libvirt XML parsed back. */
static int plan_outputs(struct vmenv *e, const char *ini, char ***argv, xmlDocPtr *doc)
{
	int r = vm_plan(e, "rebar-32g", ini);
	char *xml;

	*argv = NULL;
	*doc = NULL;
	if (r < 0)
		return r;
	*argv = vm_argv(e);
	xml = vm_xml(e);
	*doc = xml ? xparse(xml) : NULL;
	free(xml);
	return *argv && *doc ? 0 : -EIO;
}

static void outputs_free(struct vmenv *e, char **argv, xmlDocPtr doc)
{
	vfk_argv_free(argv);
	xmlFreeDoc(doc);
	vm_close(e);
}

/* The QEMU argument after @flag that contains @value, or NULL. */
static const char *arg_of(char **argv, const char *flag, const char *value)
{
	int i = argv_find(argv, flag, value);

	return i >= 0 ? argv[i + 1] : NULL;
}

/* The plan's JSON member @obj.@key as an int64, -1 when absent or null. */
static long long json_figure(const struct vmenv *e, const char *obj, const char *key)
{
	char *text = NULL;
	json_object *root, *o, *v;
	long long n = -1;

	if (vfk_plan_to_json(e->plan, &text) < 0)
		return -2;
	root = json_tokener_parse(text);
	if (root && json_object_object_get_ex(root, obj, &o) && json_object_object_get_ex(o, key, &v) &&
	    v)
		n = json_object_get_int64(v);
	json_object_put(root);
	free(text);
	return n;
}

TEST(large_vm_32g_bar_sizes_the_pci_hole_on_both_backends, "the 4090's 32 GiB BAR read from "
     "sysfs resource makes a 64 GiB hole: QEMU's -global q35-pcihost.pci-hole64-size=64G and "
     "libvirt's <pcihole64 unit='KiB'> on pcie-root, parsed back; a note says why; the XML "
     "validates")
{
	struct vmenv e;
	xmlDocPtr doc;
	char **argv, *xml;

	REQUIRE(plan_outputs(&e, BIG, &argv, &doc) == 0);
	CHECK_INT(vfk_plan_get_bar_bytes(e.plan), BARS_4090);
	CHECK_INT(vfk_plan_get_pci_hole64_bytes(e.plan), 64 * GIB);
	CHECK(vm_note(&e, "PCI hole: the devices' 64-bit BARs take 32.03 GiB, more than QEMU's "
		      "default 64-bit PCI hole (32 GiB) holds: the guest's is 64 GiB") != NULL);
	CHECK(argv_find(argv, "-global", "q35-pcihost.pci-hole64-size=64G") >= 0);
	CHECK_XSTR(doc, "/domain/devices/controller[@type='pci'][@model='pcie-root']/pcihole64",
		   "67108864");
	CHECK_XSTR(doc, "/domain/devices/controller[@model='pcie-root']/pcihole64/@unit", "KiB");
	xml = vm_xml(&e);
	if (xml)
		xml_validates(xml, "the 32 GiB BAR's domain");
	free(xml);
	outputs_free(&e, argv, doc);
}

TEST(large_vm_small_bar_leaves_hole_phys_bits_and_memtune_alone, "the 3060's 256 MiB BAR fits "
     "QEMU's default hole: no pci-hole64-size, no <pcihole64>, no phys-bits, no <maxphysaddr>, "
     "no <memtune>; the note says it fits")
{
	struct vmenv e;
	xmlDocPtr doc;
	char **argv;

	REQUIRE(plan_outputs(&e, SMALL, &argv, &doc) == 0);
	CHECK_INT(vfk_plan_get_bar_bytes(e.plan), BARS_3060);
	CHECK_INT(vfk_plan_get_pci_hole64_bytes(e.plan), 0);
	CHECK_INT(vfk_plan_get_phys_bits(e.plan), 0);
	CHECK(vm_note(&e, "64-bit BARs (288 MiB) fit QEMU's default 64-bit PCI hole (32 GiB): left "
		      "as it is") != NULL);
	CHECK(argv_count(argv, "-global", "q35-pcihost") == 0);
	CHECK(!strstr(arg_of(argv, "-cpu", "host") ? arg_of(argv, "-cpu", "host") : "", "phys-bits"));
	CHECK_INT(xcount(doc, "//pcihole64"), 0);
	CHECK_INT(xcount(doc, "//maxphysaddr"), 0);
	CHECK_INT(xcount(doc, "//memtune"), 0);
	outputs_free(&e, argv, doc);
}

TEST(large_vm_phys_bits_cover_ram_and_hole_per_cpu_model, "with the 32 GiB BAR the guest's "
     "address width is set: host-phys-bits=on and <maxphysaddr mode='passthrough'/> for "
     "host-passthrough under KVM; phys-bits=39 (the host's) and mode='emulate' bits='39' for "
     "QEMU's max model under KVM; 40 under TCG")
{
	static const struct { const char *tuning, *cpu, *mode, *bits; unsigned int want; } cases[] = {
		{ "", "host-phys-bits=on", "passthrough", "", 39 },
		{ "[tuning]\ncpu-model = max\n", "phys-bits=39", "emulate", "39", 39 },
		{ "[vm]\naccel = tcg\n", "phys-bits=40", "emulate", "40", 40 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmenv e;
		xmlDocPtr doc;
		char ini[512], **argv;

		snprintf(ini, sizeof(ini), "%s%s", BIG, cases[i].tuning);
		REQUIRE(plan_outputs(&e, ini, &argv, &doc) == 0);
		CHECK_INT(vfk_plan_get_phys_bits(e.plan), cases[i].want);
		CHECK(vm_note(&e, "physical addresses: RAM and the 64-bit PCI hole need 37 bits") != NULL);
		CHECK(argv_find(argv, "-cpu", cases[i].cpu) >= 0);
		CHECK_XSTR(doc, "/domain/cpu/maxphysaddr/@mode", cases[i].mode);
		if (*cases[i].bits)
			CHECK_XSTR(doc, "/domain/cpu/maxphysaddr/@bits", cases[i].bits);
		else
			CHECK_INT(xcount(doc, "/domain/cpu/maxphysaddr/@bits"), 0);
		outputs_free(&e, argv, doc);
	}
}

TEST(large_vm_host_phys_bits_too_small_is_refused_in_one_line, "on a 36-bit CPU the 32 GiB "
     "BAR's 64 GiB hole and 16 GiB of RAM (37 bits) cannot fit: the plan is refused naming "
     "both widths; vfio-vm plan and gen exit 1 with one line and write nothing; the 3060 "
     "still plans there")
{
	char *root = fixture_host_shared("rebar-32g-36bit"), *ini = write_temp("big.ini", BIG);
	char outfile[4200], *out = NULL, *err = NULL;
	struct vmenv e;
	struct stat st;

	REQUIRE(root && ini);
	CHECK_INT(vm_plan(&e, "rebar-32g-36bit", BIG), -ENODEV);
	CHECK_CONTAINS(e.err, "the guest needs 37-bit physical addresses for 16 GiB of RAM and a "
			      "64 GiB 64-bit PCI hole (the devices' BARs: 32.05 GiB), but this "
			      "host's CPU has 36");
	CHECK(strchr(e.err, '\n') == NULL);
	vm_close(&e);
	{
		const char *argv[] = { "vfio-vm", "plan", ini, "--sysroot", root, NULL };

		CHECK_INT(run_tool(&out, &err, argv), 1);
	}
	CHECK(out && !*out);
	CHECK_CONTAINS(err, "this host's CPU has 36");
	CHECK(err && strchr(err, '\n') == err + strlen(err) - 1);
	free(out);
	free(err);
	snprintf(outfile, sizeof(outfile), "%s.xml", ini);
	{
		const char *argv[] = { "vfio-vm", "gen", ini, "--format", "libvirt", "-o", outfile,
				       "--sysroot", root, NULL };

		CHECK_INT(run_tool(&out, &err, argv), 1);
	}
	CHECK(stat(outfile, &st) < 0 && errno == ENOENT);
	free(out);
	free(err);
	CHECK_INT(vm_plan(&e, "rebar-32g-36bit", SMALL), 0);
	vm_close(&e);
	free(ini);
	free(root);
}

TEST(large_vm_memlock_is_ram_plus_bars, "VFIO may lock RAM + BARs: 16 GiB + the 4090's BARs, "
     "a <memtune><hard_limit> of the same in KiB (libvirt's own RAM + 1 GiB is less); the 3060: "
     "RAM + 1 GiB (libvirt's figure), no hard limit; no device passed through: 0")
{
	struct vmenv e;
	xmlDocPtr doc;
	char **argv, want[32];

	REQUIRE(plan_outputs(&e, BIG, &argv, &doc) == 0);
	CHECK_INT(vfk_plan_get_memlock_bytes(e.plan), 16 * GIB + BARS_4090);
	CHECK_INT(vfk_plan_get_memtune_hard_limit_bytes(e.plan), 16 * GIB + BARS_4090);
	CHECK(vm_note(&e, "locked memory: VFIO may lock 48.05 GiB (guest RAM + the devices' BARs, "
		      "32.05 GiB): the QEMU backend raises QEMU's RLIMIT_MEMLOCK to it; libvirt's "
		      "own figure (RAM + 1 GiB) is less, so <memtune><hard_limit> says it") != NULL);
	snprintf(want, sizeof(want), "%llu", (16 * GIB + BARS_4090) >> 10);
	CHECK_XSTR(doc, "/domain/memtune/hard_limit", want);
	CHECK_XSTR(doc, "/domain/memtune/hard_limit/@unit", "KiB");
	outputs_free(&e, argv, doc);

	REQUIRE(vm_plan(&e, "rebar-32g", SMALL) == 0);
	CHECK_INT(vfk_plan_get_memlock_bytes(e.plan), 17 * GIB);
	CHECK_INT(vfk_plan_get_memtune_hard_limit_bytes(e.plan), 0);
	CHECK(vm_note(&e, "libvirt sets the same itself: no <memtune>") != NULL);
	vm_close(&e);

	REQUIRE(vm_plan(&e, "rebar-32g", "[vm]\nmemory = 16G\n[gpu]\nmode = emulated\n") == 0);
	CHECK_INT(vfk_plan_get_memlock_bytes(e.plan), 0);
	CHECK(vm_note(&e, "locked memory") == NULL);
	vm_close(&e);
}

TEST(large_vm_prealloc_threads_on_both_backends, "huge pages preallocated by one thread per "
     "vCPU: prealloc-threads=4 on QEMU's memory backend and <allocation mode='immediate' "
     "threads='4'/> in libvirt's <memoryBacking>; [tuning] prealloc-threads = 2 wins; normal "
     "pages: none, and a prealloc-threads asked for is said to be ignored")
{
	static const struct { const char *tuning; unsigned int want; } cases[] = {
		{ "", 4 }, { "[tuning]\nprealloc-threads = 2\n", 2 },
	};
	struct vmenv e;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char ini[512], opt[64], want[16], **argv;
		xmlDocPtr doc;

		snprintf(ini, sizeof(ini), "%s%s", BIG, cases[i].tuning);
		REQUIRE(plan_outputs(&e, ini, &argv, &doc) == 0);
		CHECK_INT(vfk_plan_get_hugepage_kib(e.plan), 1048576);
		CHECK_INT(vfk_plan_get_prealloc_threads(e.plan), cases[i].want);
		snprintf(opt, sizeof(opt), "prealloc=on,prealloc-threads=%u", cases[i].want);
		CHECK(argv_find(argv, "-object", opt) >= 0);
		snprintf(want, sizeof(want), "%u", cases[i].want);
		CHECK_XSTR(doc, "/domain/memoryBacking/allocation/@threads", want);
		CHECK_XSTR(doc, "/domain/memoryBacking/allocation/@mode", "immediate");
		outputs_free(&e, argv, doc);
	}
	REQUIRE(vm_plan(&e, "rebar-32g", BIG "[tuning]\nhugepages = no\nprealloc-threads = 3\n") == 0);
	CHECK_INT(vfk_plan_get_prealloc_threads(e.plan), 0);
	CHECK(vm_note(&e, "[tuning] prealloc-threads = 3 is ignored: guest memory is not "
		      "preallocated") != NULL);
	vm_close(&e);
}

TEST(large_vm_json_carries_the_figures, "vfio-vm plan --json: memory.memlock_bytes, "
     "memory.memtune_hard_limit_bytes, memory.prealloc_threads, address_space.bar_bytes, "
     "pci_hole64_bytes, phys_bits, host_cpu_phys_bits; null where nothing is set")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "rebar-32g", BIG) == 0);
	CHECK_INT(json_figure(&e, "memory", "memlock_bytes"), 16 * GIB + BARS_4090);
	CHECK_INT(json_figure(&e, "memory", "memtune_hard_limit_bytes"), 16 * GIB + BARS_4090);
	CHECK_INT(json_figure(&e, "memory", "prealloc_threads"), 4);
	CHECK_INT(json_figure(&e, "address_space", "bar_bytes"), BARS_4090);
	CHECK_INT(json_figure(&e, "address_space", "pci_hole64_bytes"), 64 * GIB);
	CHECK_INT(json_figure(&e, "address_space", "phys_bits"), 39);
	CHECK_INT(json_figure(&e, "address_space", "host_cpu_phys_bits"), 39);
	vm_close(&e);
	REQUIRE(vm_plan(&e, "rebar-32g", SMALL) == 0);
	CHECK_INT(json_figure(&e, "address_space", "pci_hole64_bytes"), -1);
	CHECK_INT(json_figure(&e, "address_space", "phys_bits"), -1);
	CHECK_INT(json_figure(&e, "memory", "memtune_hard_limit_bytes"), -1);
	vm_close(&e);
}

TEST(large_vm_profile_hole_is_used_or_refused, "[tuning] pci-hole64 = 128G sets the hole "
     "(and so the address width); one smaller than the BARs is refused in one line naming "
     "the key; a malformed one is a profile error")
{
	struct vmenv e;

	REQUIRE(vm_plan(&e, "rebar-32g", BIG "[tuning]\npci-hole64 = 128G\n") == 0);
	CHECK_INT(vfk_plan_get_pci_hole64_bytes(e.plan), 128 * GIB);
	CHECK(vm_note(&e, "the guest's 64-bit PCI hole is 128 GiB ([tuning] pci-hole64") != NULL);
	CHECK(vm_note(&e, "need 38 bits") != NULL);
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "rebar-32g", BIG "[tuning]\npci-hole64 = 16G\n"), -ENODEV);
	CHECK_STREQ(e.err, "[tuning] pci-hole64 = 16 GiB cannot hold the 32.03 GiB of 64-bit BARs of "
			   "the devices passed through");
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "rebar-32g", BIG "[tuning]\npci-hole64 = lots\n"), -EINVAL);
	CHECK_CONTAINS(e.err, "[tuning] pci-hole64: 'lots' is not a size");
	CHECK(strchr(e.err, '\n') == NULL);
	vm_close(&e);
	CHECK_INT(vm_plan(&e, "rebar-32g", BIG "[tuning]\nprealloc-threads = 0\n"), -EINVAL);
	CHECK_CONTAINS(e.err, "[tuning] prealloc-threads: '0' is neither auto nor a number from 1 to 64");
	vm_close(&e);
}

TEST(large_vm_malformed_resource_is_one_line, "a resource line that is not three hex numbers "
     "refuses the plan with one line naming the file and line; vfio-vm exits 3")
{
	char *root = fixture_host("rebar-32g"), *ini = write_temp("big.ini", BIG), *out = NULL;
	char *err = NULL;
	struct vmenv e;

	REQUIRE(root && ini);
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:01:00.1/resource",
			 "0x00000000e1000000 0x00000000e1003fff 0x0000000000040200\n0x12 zz\n"));
	CHECK_INT(vm_plan_root(&e, root, BIG), -EINVAL);
	CHECK_STREQ(e.err, "/sys/bus/pci/devices/0000:01:00.1/resource:2: '0x12 zz' is not "
			   "'START END FLAGS' in hex");
	vm_close(&e);
	{
		const char *argv[] = { "vfio-vm", "plan", ini, "--sysroot", root, NULL };

		CHECK_INT(run_tool(&out, &err, argv), 3);
	}
	CHECK_CONTAINS(err, "resource:2: '0x12 zz' is not 'START END FLAGS' in hex\n");
	CHECK(err && strchr(err, '\n') == err + strlen(err) - 1);
	free(out);
	free(err);
	free(ini);
	free(root);
}

/* ------------------------------------------------------------ the QEMU backend's limit */

/* Is @cap in this process's effective set? With @drop, take CAP_IPC_LOCK and
 * CAP_SYS_RESOURCE out of it instead (true when done). */
static bool lock_caps(int cap, bool drop)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	if (!drop)
		return d[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
	d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	d[CAP_TO_INDEX(CAP_SYS_RESOURCE)].effective &= ~CAP_TO_MASK(CAP_SYS_RESOURCE);
	return syscall(SYS_capset, &h, d) == 0;
}

TEST(large_vm_memlock_raise_sets_the_limit_or_says_why_not, "the QEMU backend's child raises "
     "RLIMIT_MEMLOCK to the plan's figure (the hard limit too with CAP_SYS_RESOURCE; with only "
     "CAP_IPC_LOCK it goes on, VFIO does not count); without either a limit above the hard "
     "one fails with one line; 0 bytes changes nothing")
{
	struct rlimit rl, low;
	int fds[2];
	char line[512] = "";
	ssize_t n;

	REQUIRE(getrlimit(RLIMIT_MEMLOCK, &rl) == 0);
	low.rlim_cur = 64 * 1024;
	low.rlim_max = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 4 * MIB ? 4 * MIB : rl.rlim_max;
	REQUIRE(setrlimit(RLIMIT_MEMLOCK, &low) == 0);
	CHECK_INT(memlock_raise(0, 2), 0);
	CHECK_INT(memlock_raise(low.rlim_max, 2), 0);
	REQUIRE(getrlimit(RLIMIT_MEMLOCK, &rl) == 0);
	CHECK_INT(rl.rlim_cur, low.rlim_max);
	if (lock_caps(CAP_SYS_RESOURCE, false)) {	/* the hard limit is raised too */
		CHECK_INT(memlock_raise(GIB, 2), 0);
		REQUIRE(getrlimit(RLIMIT_MEMLOCK, &rl) == 0);
		CHECK_INT(rl.rlim_cur, GIB);
		CHECK_INT(rl.rlim_max, GIB);
	} else if (lock_caps(CAP_IPC_LOCK, false)) {	/* VFIO does not count: nothing to say */
		CHECK_INT(memlock_raise(GIB, 2), 0);
		REQUIRE(getrlimit(RLIMIT_MEMLOCK, &rl) == 0);
		CHECK_INT(rl.rlim_max, low.rlim_max);
	}
	REQUIRE(setrlimit(RLIMIT_MEMLOCK, &low) == 0);
	REQUIRE(lock_caps(0, true));
	REQUIRE(pipe(fds) == 0);
	CHECK_INT(memlock_raise(2 * GIB, fds[1]), -EPERM);
	close(fds[1]);
	n = read(fds[0], line, sizeof(line) - 1);
	close(fds[0]);
	CHECK(n > 0 && line[n - 1] == '\n' && strchr(line, '\n') == line + n - 1);
	CHECK_CONTAINS(line, "vfiokit: the locked-memory limit (RLIMIT_MEMLOCK) of 64 KiB cannot be "
			     "raised to the 2048 MiB VFIO needs");
}
