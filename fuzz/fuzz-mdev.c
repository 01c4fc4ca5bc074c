/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mediated devices over a fuzzed tiny sysroot (fuzz/tiny-mdev.host, built
 * once): every input rewrites the mdev_supported_types entries of a classic
 * parent (name, description, available_instances, device_api), the per-VF
 * interface's creatable_vgpu_types / current_vgpu_type, the running
 * instance's mdev_type link, and both kinds of JSON definition files
 * (mdevctl's and vfiokit's per-VF ones); then vfk_mdevs_scan() and every
 * getter and lookup the tools use, with a fuzzed type / id query.
 * Invariants: ids and names handed out are sane (no '/', the kernel's
 * charset), counts add up, lookups return what they were asked for.
 */
#include "fuzz.h"

#define T4 "0000:3b:00.0"
#define VF "0000:41:00.4"
#define UUID "5b2f4e1c-8a7d-4c3e-9f60-1d2e3f4a5b6c"

static struct vfk_ctx *ctx;
static int t1fd, t2fd, vffd, instfd, mdevctlfd, vgpufd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *src = getenv("VFK_SRCDIR");
	char cmd[8192], root[4200];
	int topfd;

	(void)argc, (void)argv;
	snprintf(root, sizeof(root), "%s/host", fuzz_scratch());
	snprintf(cmd, sizeof(cmd), "python3 %s/tests/mkhost.py %s/fuzz/tiny-mdev.host %s",
		 src && *src ? src : ".", src && *src ? src : ".", root);
	if (system(cmd) != 0) {
		fprintf(stderr, "fuzz-mdev: '%s' failed (run from the source tree or set VFK_SRCDIR)\n", cmd);
		exit(1);
	}
	topfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fuzz_mkdirs(topfd, "etc/vfiokit/vgpu");
	t1fd = openat(topfd, "sys/bus/pci/devices/" T4 "/mdev_supported_types/nvidia-231", O_RDONLY | O_DIRECTORY);
	t2fd = openat(topfd, "sys/bus/pci/devices/" T4 "/mdev_supported_types/nvidia-232", O_RDONLY | O_DIRECTORY);
	vffd = openat(topfd, "sys/bus/pci/devices/" VF "/nvidia", O_RDONLY | O_DIRECTORY);
	instfd = openat(topfd, "sys/bus/pci/devices/" T4 "/" UUID, O_RDONLY | O_DIRECTORY);
	mdevctlfd = openat(topfd, "etc/mdevctl.d/" T4, O_RDONLY | O_DIRECTORY);
	vgpufd = openat(topfd, "etc/vfiokit/vgpu", O_RDONLY | O_DIRECTORY);
	if (t1fd < 0 || t2fd < 0 || vffd < 0 || instfd < 0 || mdevctlfd < 0 || vgpufd < 0)
		abort();
	close(topfd);
	if (vfk_ctx_new(root, &ctx) < 0)
		abort();
	if (!getenv("VFK_FUZZ_VERBOSE"))
		vfk_ctx_set_log_fn(ctx, fuzz_log, NULL);
	return 0;
}

static void put(struct fuzz_in *in, int dfd, const char *name, bool wide)
{
	const uint8_t *p;
	size_t len = fuzz_chunk(in, wide, &p);

	if (!wide && len == 255)
		unlinkat(dfd, name, 0);
	else
		fuzz_put(dfd, name, p, len);
}

static bool sane(const char *s)
{
	return s && *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct vfk_mdevs *m = NULL;
	struct vfk_mdev_parent *par;
	struct vfk_mdev_type *t;
	struct vfk_mdev_instance *inst;
	char query[256], target[256];
	size_t i, k;

	put(&in, t1fd, "name", false);
	put(&in, t1fd, "description", true);
	put(&in, t1fd, "available_instances", false);
	put(&in, t1fd, "device_api", false);
	put(&in, t2fd, "description", true);
	put(&in, vffd, "creatable_vgpu_types", true);
	put(&in, vffd, "current_vgpu_type", false);
	put(&in, mdevctlfd, UUID, true);
	put(&in, vgpufd, VF, true);
	fuzz_link(instfd, "mdev_type", fuzz_chunk_str(&in, target, sizeof(target)));
	fuzz_chunk_str(&in, query, sizeof(query));

	if (vfk_mdevs_scan(ctx, &m) < 0)
		return 0;
	for (i = 0; i < vfk_mdevs_parent_count(m); i++) {
		par = vfk_mdevs_parent(m, i);
		FUZZ_ASSERT(sane(vfk_mdev_parent_get_name(par)));
		(void)vfk_mdev_kind_to_string(vfk_mdev_parent_get_kind(par));
		(void)vfk_mdev_parent_get_driver(par);
		(void)vfk_mdev_parent_vf_count(par);
		for (k = 0; k < vfk_mdev_parent_type_count(par); k++) {
			t = vfk_mdev_parent_type(par, k);
			FUZZ_ASSERT(vfk_mdev_type_get_parent(t) == par);
			FUZZ_ASSERT(sane(vfk_mdev_type_get_id(t)));
			(void)vfk_mdev_type_get_name(t);
			(void)vfk_mdev_type_get_description(t);
			(void)vfk_mdev_type_get_device_api(t);
			(void)vfk_mdev_type_get_available(t);
			(void)vfk_mdev_type_get_instance_count(t);
			(void)vfk_mdev_type_get_framebuffer_mb(t);
			(void)vfk_mdev_type_get_heads(t);
			(void)vfk_mdev_type_get_max_instances(t);
			(void)vfk_mdev_type_get_free_vf(t);
		}
	}
	for (i = 0; i < vfk_mdevs_instance_count(m); i++) {
		inst = vfk_mdevs_instance(m, i);
		FUZZ_ASSERT(sane(vfk_mdev_instance_get_id(inst)));
		FUZZ_ASSERT(strlen(vfk_mdev_instance_get_id(inst)) < VFK_MDEV_ID_SIZE);
		(void)vfk_mdev_instance_get_kind(inst);
		(void)vfk_mdev_instance_get_parent(inst);
		(void)vfk_mdev_instance_get_type_id(inst);
		(void)vfk_mdev_instance_get_type_name(inst);
		(void)vfk_mdev_instance_get_iommu_group(inst);
		(void)vfk_mdev_instance_get_sysfs_path(inst);
		FUZZ_ASSERT(vfk_mdev_instance_is_active(inst) || vfk_mdev_instance_is_defined(inst));
		(void)vfk_mdev_instance_is_autostart(inst);
		FUZZ_ASSERT(vfk_mdevs_find_instance(m, vfk_mdev_instance_get_id(inst), &inst) == 0);
	}
	if (vfk_mdevs_find_type(m, NULL, query, &t) == 0)
		FUZZ_ASSERT(sane(vfk_mdev_type_get_id(t)));
	if (vfk_mdevs_find_type(m, T4, query, &t) == 0)
		FUZZ_ASSERT(!strcmp(vfk_mdev_parent_get_name(vfk_mdev_type_get_parent(t)), T4));
	(void)vfk_mdevs_find_parent(m, query, &par);
	(void)vfk_mdevs_find_instance(m, query, &inst);
	if (vfk_mdevs_pick_type(m, NULL, size ? data[0] * 16u : 0, size && data[0] & 1 ? VFK_MDEV_PICK_DISPLAY : 0, &t) == 0)
		FUZZ_ASSERT(vfk_mdev_type_get_available(t) > 0);
	vfk_mdevs_unref(m);
	return 0;
}
