/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The whole inventory over a fuzzed tiny sysroot: fuzz/tiny.host is built
 * once (tests/mkhost.py), then every input rewrites the sysfs files of the
 * GPU 0000:01:00.0 and its root port 0000:00:01.0 — uevent, class, ids,
 * binary config space (capabilities, ACS), driver / iommu_group / physfn
 * links, the attributes vfio-ls shows — and picks each device's place in the
 * tree (its parent, possibly a loop). Then vfk_host_scan() and every getter
 * a tool calls. Invariants: no crash, no hang (a walk to the root ends), the
 * snapshot is consistent (groups hold their devices, GPUs are GPUs).
 *
 * Input: a sequence of chunks, see fuzz_chunk() in fuzz.h.
 */
#include "fuzz.h"
#include "core/internal.h"

#define GPU "0000:01:00.0"
#define PORT "0000:00:01.0"
#define AUDIO "0000:01:00.1"

static struct vfk_ctx *ctx;
static int gpufd, portfd, busfd, topfd;
static bool verbose;

static void build_tree(const char *dir)
{
	const char *src = getenv("VFK_SRCDIR");
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "python3 %s/tests/mkhost.py %s/fuzz/tiny.host %s/host",
		 src && *src ? src : ".", src && *src ? src : ".", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "fuzz-scan: '%s' failed (run from the source tree or set VFK_SRCDIR)\n",
			cmd);
		exit(1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char root[4200];
	static const char *const devs[] = { PORT, GPU, AUDIO };
	size_t i, k;

	(void)argc, (void)argv;
	verbose = getenv("VFK_FUZZ_VERBOSE") != NULL;
	build_tree(fuzz_scratch());
	snprintf(root, sizeof(root), "%s/host", fuzz_scratch());
	topfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	busfd = openat(topfd, "sys/bus/pci/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	gpufd = openat(busfd, GPU, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	portfd = openat(busfd, PORT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (topfd < 0 || busfd < 0 || gpufd < 0 || portfd < 0)
		abort();
	/* sys/devices/fz/P/X -> the real directory of X: a bus link through
	 * there makes P the parent of X (parent_from_link) while every file of
	 * X stays readable */
	for (i = 0; i < 3; i++)
		for (k = 0; k < 3; k++) {
			char rel[256], target[256];
			snprintf(rel, sizeof(rel), "sys/devices/fz/%s", devs[i]);
			fuzz_mkdirs(topfd, rel);
			snprintf(rel, sizeof(rel), "sys/devices/fz/%s/%s", devs[i], devs[k]);
			snprintf(target, sizeof(target), "../../pci0000:00/0000:00:01.0%s%s",
				 strcmp(devs[k], PORT) ? "/" : "", strcmp(devs[k], PORT) ? devs[k] : "");
			symlinkat(target, topfd, rel);
		}
	if (vfk_ctx_new(root, &ctx) < 0)
		abort();
	if (!verbose)
		vfk_ctx_set_log_fn(ctx, fuzz_log, NULL);
	return 0;
}

/* One attribute of @dfd from the next chunk; length 255 means "absent". */
static void put_attr(struct fuzz_in *in, int dfd, const char *name, bool wide)
{
	const uint8_t *p;
	size_t len = fuzz_chunk(in, wide, &p);

	if (!wide && len == 255) {
		unlinkat(dfd, name, 0);
		return;
	}
	fuzz_put(dfd, name, p, len);
}

static void put_link(struct fuzz_in *in, int dfd, const char *name)
{
	char target[256];

	fuzz_link(dfd, name, fuzz_chunk_str(in, target, sizeof(target)));
}

/* Where the bus link of @dev points: its real place, or below another
 * device (which becomes its parent), or its own name (a loop). */
static void place(unsigned int how, const char *dev, const char *real)
{
	static const char *const devs[] = { PORT, GPU, AUDIO };
	char target[256];

	if (how % 4 == 0)
		snprintf(target, sizeof(target), "%s", real);
	else
		snprintf(target, sizeof(target), "../../../devices/fz/%s/%s", devs[how % 4 - 1], dev);
	fuzz_link(busfd, dev, target);
}

static void walk_device(struct vfk_host *host, struct vfk_device *d)
{
	struct vfk_device *up;
	size_t steps = 0;

	FUZZ_ASSERT(vfk_device_get_address(d) && strlen(vfk_device_get_address(d)) == 12);
	(void)vfk_device_get_driver(d);
	(void)vfk_device_get_driver_override(d);
	(void)vfk_device_get_numa_node(d);
	(void)vfk_device_get_local_cpulist(d);
	(void)vfk_device_get_reset_method(d);
	(void)vfk_device_has_reset(d);
	(void)vfk_device_get_power_state(d);
	(void)vfk_device_get_link_speed(d);
	(void)vfk_device_get_max_link_speed(d);
	(void)vfk_device_get_link_width(d);
	(void)vfk_device_get_sriov_totalvfs(d);
	(void)vfk_device_get_sriov_numvfs(d);
	(void)vfk_device_get_subsystem_vendor_id(d);
	(void)vfk_device_get_revision(d);
	FUZZ_ASSERT(vfk_acs_to_string(vfk_device_get_acs(d)));
	if (vfk_device_is_vf(d) && vfk_device_get_physfn(d))
		(void)vfk_device_get_address(vfk_device_get_physfn(d));
	for (up = vfk_device_get_parent(d); up; up = vfk_device_get_parent(up))
		FUZZ_ASSERT(++steps <= vfk_host_device_count(host));
	if (vfk_device_get_iommu_group(d) >= 0) {
		struct vfk_group *g;
		size_t i;
		bool found = false;
		FUZZ_ASSERT(vfk_host_find_group(host, vfk_device_get_iommu_group(d), &g) == 0);
		for (i = 0; i < vfk_group_device_count(g); i++)
			found |= vfk_group_device(g, i) == d;
		FUZZ_ASSERT(found);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct vfk_host *host = NULL;
	struct vfk_device *d;
	unsigned int where;
	size_t i, k;

	where = fuzz_byte(&in);
	place(where, GPU, "../../../devices/pci0000:00/0000:00:01.0/" GPU);
	place(where >> 2, PORT, "../../../devices/pci0000:00/0000:00:01.0");
	put_attr(&in, gpufd, "uevent", false);
	put_attr(&in, gpufd, "config", true);
	put_attr(&in, gpufd, "class", false);
	put_attr(&in, gpufd, "vendor", false);
	put_attr(&in, gpufd, "device", false);
	put_link(&in, gpufd, "driver");
	put_link(&in, gpufd, "iommu_group");
	put_link(&in, gpufd, "physfn");
	put_attr(&in, gpufd, "boot_vga", false);
	put_attr(&in, gpufd, "driver_override", false);
	put_attr(&in, gpufd, "local_cpulist", false);
	put_attr(&in, gpufd, "reset_method", false);
	put_attr(&in, gpufd, "power_state", false);
	put_attr(&in, gpufd, "current_link_speed", false);
	put_attr(&in, gpufd, "current_link_width", false);
	put_attr(&in, gpufd, "sriov_totalvfs", false);
	put_attr(&in, gpufd, "sriov_numvfs", false);
	put_attr(&in, gpufd, "numa_node", false);
	put_attr(&in, gpufd, "irq", false);
	put_attr(&in, gpufd, "resource", false);
	put_attr(&in, portfd, "config", true);
	put_attr(&in, portfd, "uevent", false);
	put_link(&in, portfd, "iommu_group");

	if (vfk_host_scan(ctx, &host) < 0)
		return 0;
	for (i = 0; i < vfk_host_device_count(host); i++)
		walk_device(host, vfk_host_device(host, i));
	for (i = 0; i < vfk_host_group_count(host); i++) {
		struct vfk_group *g = vfk_host_group(host, i);
		for (k = 0; k < vfk_group_device_count(g); k++)
			FUZZ_ASSERT(vfk_device_get_iommu_group(vfk_group_device(g, k)) ==
				    vfk_group_get_id(g));
	}
	for (i = 0; i < vfk_host_gpu_count(host); i++) {
		struct vfk_gpu *g = vfk_host_gpu(host, i);
		FUZZ_ASSERT(vfk_device_is_gpu(vfk_gpu_get_device(g)));
		FUZZ_ASSERT(vfk_gpu_function_count(g) >= 1 && vfk_gpu_function(g, 0) == vfk_gpu_get_device(g));
		for (k = 0; k < vfk_gpu_blocker_count(g); k++)
			FUZZ_ASSERT(!vfk_device_is_bridge(vfk_gpu_blocker(g, k)));
		(void)vfk_gpu_get_reason(g);
		(void)vfk_gpu_is_isolated(g);
		(void)vfk_gpu_console_in_use(g);
		(void)vfk_gpu_is_only_gpu(g);
	}
	FUZZ_ASSERT(vfk_host_find_device(host, GPU, &d) == 0 || vfk_host_find_device(host, GPU, &d) == -ENODEV);
	vfk_host_unref(host);
	return 0;
}
