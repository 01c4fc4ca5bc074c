/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mediated devices on fixture hosts, with tests/ksim.c playing the kernel:
 * NVIDIA vGPU (classic mdev, GRID T4 types), Intel GVT-g, NVIDIA vGPU 17's
 * per-VF interface, mdevctl's definition files, and vfio-mdev as a user and
 * a script see it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "harness.h"
#include "kenv.h"
#include "vfiokit.h"

#define T4_UUID "5b2f4e1c-8a7d-4c3e-9f60-1d2e3f4a5b6c"	/* the running GRID T4-2Q */
#define T4_MANUAL "c0ffee00-1234-4abc-8def-0123456789ab"	/* defined, not active */
#define GVT_UUID "3f1e8c2a-7b4d-4e6f-a1c3-9d8e7f6a5b4c"	/* the running GVTg_V5_4 */
#define NEW_UUID "11111111-2222-4333-8444-555555555555"

static bool env_open(struct kenv *e, const char *fixture)
{
	return kenv_open(e, fixture) && vfk_mdevs_scan(e->ctx, &e->m) == 0;
}

static bool kenv_logged(const struct kenv *e, const char *line)
{
	return kenv_log_index(e, line) >= 0;
}

static void env_rescan(struct kenv *e)
{
	vfk_mdevs_unref(e->m);
	e->m = NULL;
	if (vfk_mdevs_scan(e->ctx, &e->m) < 0)
		test_fail_(__FILE__, __LINE__, "rescan failed");
}

static struct vfk_mdev_type *type_of(struct kenv *e, const char *parent, const char *id)
{
	struct vfk_mdev_parent *p;
	size_t i;

	if (vfk_mdevs_find_parent(e->m, parent, &p) < 0)
		return NULL;
	for (i = 0; i < vfk_mdev_parent_type_count(p); i++)
		if (!strcmp(vfk_mdev_type_get_id(vfk_mdev_parent_type(p, i)), id))
			return vfk_mdev_parent_type(p, i);
	return NULL;
}

static struct vfk_mdev_instance *instance(struct kenv *e, const char *id)
{
	struct vfk_mdev_instance *i;

	return vfk_mdevs_find_instance(e->m, id, &i) == 0 ? i : NULL;
}

static json_object *json_file(const struct kenv *e, const char *rel)
{
	char *text = kenv_slurp(e, rel);
	json_object *o = text ? json_tokener_parse(text) : NULL;

	free(text);
	return o;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* ------------------------------------------------------ classic: reading */

TEST(mdev_types_list_grid_t4_types_with_counts_and_sizes, "both T4 parents offer the 16 GRID "
     "types with name, description, available_instances, device_api, size and heads")
{
	struct kenv e;
	struct vfk_mdev_type *t;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	REQUIRE(vfk_mdevs_parent_count(e.m) == 2);
	CHECK_STREQ(vfk_mdev_parent_get_name(vfk_mdevs_parent(e.m, 0)), "0000:3b:00.0");
	CHECK_STREQ(vfk_mdev_parent_get_driver(vfk_mdevs_parent(e.m, 0)), "nvidia");
	CHECK_INT(vfk_mdev_parent_get_kind(vfk_mdevs_parent(e.m, 0)), VFK_MDEV_CLASSIC);
	CHECK_INT(vfk_mdev_parent_type_count(vfk_mdevs_parent(e.m, 0)), 16);
	/* natural order: nvidia-234 before nvidia-319 */
	CHECK_STREQ(vfk_mdev_type_get_id(vfk_mdev_parent_type(vfk_mdevs_parent(e.m, 0), 12)),
		    "nvidia-234");
	t = type_of(&e, "0000:3b:00.0", "nvidia-231");
	REQUIRE(t);
	CHECK_STREQ(vfk_mdev_type_get_name(t), "GRID T4-2Q");
	CHECK_CONTAINS(vfk_mdev_type_get_description(t), "framebuffer=2048M");
	CHECK_STREQ(vfk_mdev_type_get_device_api(t), "vfio-pci");
	CHECK_INT(vfk_mdev_type_get_available(t), 7);
	CHECK_INT(vfk_mdev_type_get_instance_count(t), 1);
	CHECK_INT(vfk_mdev_type_get_max_instances(t), 8);
	CHECK(vfk_mdev_type_get_free_vf(t) == NULL);	/* classic: no VFs */
	CHECK_INT(vfk_mdev_type_get_framebuffer_mb(t), 2048);
	CHECK_INT(vfk_mdev_type_get_heads(t), 4);
	CHECK(vfk_mdev_type_get_parent(t) == vfk_mdevs_parent(e.m, 0));
	t = type_of(&e, "0000:3b:00.0", "nvidia-232");
	REQUIRE(t);
	CHECK_INT(vfk_mdev_type_get_available(t), 0);
	t = type_of(&e, "3b:00.0", "nvidia-225");	/* short address finds the parent */
	REQUIRE(t);
	CHECK_INT(vfk_mdev_type_get_heads(t), 1);
	t = type_of(&e, "0000:d8:00.0", "nvidia-222");
	REQUIRE(t);
	CHECK_INT(vfk_mdev_type_get_available(t), 16);
	kenv_close(&e);
}

TEST(mdev_instances_show_parent_type_group_and_definition, "the running vGPU is listed with "
     "parent, type, IOMMU group and host sysfs path; the mdevctl definitions are merged in")
{
	struct kenv e;
	struct vfk_mdev_instance *i;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	REQUIRE(vfk_mdevs_instance_count(e.m) == 2);
	i = instance(&e, "5B2F4E1C-8A7D-4C3E-9F60-1D2E3F4A5B6C");	/* any case */
	REQUIRE(i);
	CHECK_STREQ(vfk_mdev_instance_get_id(i), T4_UUID);
	CHECK_INT(vfk_mdev_instance_get_kind(i), VFK_MDEV_CLASSIC);
	CHECK_STREQ(vfk_mdev_instance_get_parent(i), "0000:3b:00.0");
	CHECK_STREQ(vfk_mdev_instance_get_type_id(i), "nvidia-231");
	CHECK_STREQ(vfk_mdev_instance_get_type_name(i), "GRID T4-2Q");
	CHECK_INT(vfk_mdev_instance_get_iommu_group(i), 8);
	CHECK_STREQ(vfk_mdev_instance_get_sysfs_path(i), "/sys/bus/mdev/devices/" T4_UUID);
	CHECK(vfk_mdev_instance_is_active(i));
	CHECK(vfk_mdev_instance_is_defined(i));
	CHECK(vfk_mdev_instance_is_autostart(i));
	i = instance(&e, T4_MANUAL);
	REQUIRE(i);
	CHECK(!vfk_mdev_instance_is_active(i));
	CHECK(vfk_mdev_instance_is_defined(i));
	CHECK(!vfk_mdev_instance_is_autostart(i));
	CHECK_STREQ(vfk_mdev_instance_get_type_name(i), "GRID T4-4Q");
	CHECK_INT(vfk_mdev_instance_get_iommu_group(i), -1);
	CHECK(vfk_mdev_instance_get_sysfs_path(i) == NULL);
	CHECK_INT(vfk_mdevs_find_instance(e.m, "not-a-uuid", &i), -EINVAL);
	CHECK_INT(vfk_mdevs_find_instance(e.m, NEW_UUID, &i), -ENOENT);
	kenv_close(&e);
}

TEST(mdev_host_without_parents_is_empty_not_an_error, "a host with no vGPU driver scans to "
     "zero parents; auto-pick says -ENODEV")
{
	struct kenv e;
	struct vfk_mdev_type *t;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	CHECK_INT(vfk_mdevs_parent_count(e.m), 0);
	CHECK_INT(vfk_mdevs_instance_count(e.m), 0);
	CHECK_INT(vfk_mdevs_pick_type(e.m, NULL, 0, 0, &t), -ENODEV);
	kenv_close(&e);
}

TEST(mdev_find_type_takes_id_name_or_short_id, "types resolve by id, case-insensitive name "
     "and the id without the driver prefix; without a parent a free one wins")
{
	struct kenv e;
	struct vfk_mdev_type *t;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	REQUIRE(vfk_mdevs_find_type(e.m, "0000:3b:00.0", "grid t4-2q", &t) == 0);
	CHECK_STREQ(vfk_mdev_type_get_id(t), "nvidia-231");
	REQUIRE(vfk_mdevs_find_type(e.m, "0000:3b:00.0", "231", &t) == 0);
	CHECK_STREQ(vfk_mdev_type_get_id(t), "nvidia-231");
	/* full on the first T4, free on the second */
	REQUIRE(vfk_mdevs_find_type(e.m, NULL, "nvidia-232", &t) == 0);
	CHECK_STREQ(vfk_mdev_parent_get_name(vfk_mdev_type_get_parent(t)), "0000:d8:00.0");
	CHECK_INT(vfk_mdevs_find_type(e.m, NULL, "nvidia-999", &t), -ENOENT);
	kenv_close(&e);
}

TEST(mdev_auto_picks_smallest_free_type_that_fits, "mode auto: the smallest framebuffer with "
     "a free instance at least as big as asked, more free instances breaking ties")
{
	struct kenv e;
	struct vfk_mdev_type *t;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	REQUIRE(vfk_mdevs_pick_type(e.m, NULL, 0, 0, &t) == 0);
	CHECK_INT(vfk_mdev_type_get_framebuffer_mb(t), 1024);
	CHECK_STREQ(vfk_mdev_parent_get_name(vfk_mdev_type_get_parent(t)), "0000:d8:00.0");
	REQUIRE(vfk_mdevs_pick_type(e.m, NULL, 3000, VFK_MDEV_PICK_DISPLAY, &t) == 0);
	CHECK_INT(vfk_mdev_type_get_framebuffer_mb(t), 4096);
	CHECK(vfk_mdev_type_get_available(t) > 0);
	/* on the busy T4 only the 2 GB types are left */
	REQUIRE(vfk_mdevs_pick_type(e.m, "0000:3b:00.0", 0, 0, &t) == 0);
	CHECK_INT(vfk_mdev_type_get_framebuffer_mb(t), 2048);
	CHECK_INT(vfk_mdevs_pick_type(e.m, "0000:3b:00.0", 4096, 0, &t), -ENOSPC);
	CHECK_INT(vfk_mdevs_pick_type(e.m, NULL, 32768, 0, &t), -ENOSPC);
	CHECK_INT(vfk_mdevs_pick_type(e.m, "0000:02:00.0", 0, 0, &t), -ENODEV);
	kenv_close(&e);
}

/* ------------------------------------------------ classic: create/remove */

TEST(mdev_create_writes_uuid_to_create_and_instance_appears, "create by type name writes the "
     "UUID to the type's create file; the new mdev has its own group and the count drops")
{
	struct kenv e;
	char id[VFK_MDEV_ID_SIZE];
	struct vfk_mdev_instance *i;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	CHECK_INT(vfk_mdev_create(e.ctx, "3b:00.0", "GRID T4-2Q", NEW_UUID, 0, id, e.err,
				  sizeof(e.err)), 0);
	CHECK_STREQ(id, NEW_UUID);
	CHECK(kenv_logged(&e, "sys/class/mdev_bus/0000:3b:00.0/mdev_supported_types/nvidia-231/create"
			 " <- " NEW_UUID));
	CHECK_INT(e.k.writes, 1);
	env_rescan(&e);
	i = instance(&e, NEW_UUID);
	REQUIRE(i);
	CHECK(vfk_mdev_instance_is_active(i));
	CHECK(!vfk_mdev_instance_is_defined(i));
	CHECK_STREQ(vfk_mdev_instance_get_parent(i), "0000:3b:00.0");
	CHECK_INT(vfk_mdev_instance_get_iommu_group(i), 9);
	CHECK(kenv_exists(&e, "dev/vfio/9"));
	CHECK_INT(vfk_mdev_type_get_available(type_of(&e, "0000:3b:00.0", "nvidia-231")), 6);
	CHECK_INT(vfk_mdev_type_get_instance_count(type_of(&e, "0000:3b:00.0", "nvidia-231")), 2);
	kenv_close(&e);
}

TEST(mdev_create_makes_random_uuid_with_libuuid, "without --uuid each instance gets a fresh "
     "random (version 4) UUID in lower case")
{
	struct kenv e;
	char a[VFK_MDEV_ID_SIZE], b[VFK_MDEV_ID_SIZE];
	size_t i;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	REQUIRE(vfk_mdev_create(e.ctx, "0000:d8:00.0", "nvidia-230", NULL, 0, a, e.err,
				sizeof(e.err)) == 0);
	REQUIRE(vfk_mdev_create(e.ctx, "0000:d8:00.0", "nvidia-230", NULL, 0, b, e.err,
				sizeof(e.err)) == 0);
	CHECK_INT(strlen(a), 36);
	CHECK(a[14] == '4');
	CHECK(strcmp(a, b) != 0);
	for (i = 0; a[i]; i++)
		CHECK(a[i] == '-' || (a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
	env_rescan(&e);
	CHECK(instance(&e, a) && instance(&e, b));
	kenv_close(&e);
}

TEST(mdev_create_full_type_is_refused_with_reason, "a type with available_instances 0 is "
     "-ENOSPC naming the type, the count and NVIDIA's one-size rule; nothing is written")
{
	struct kenv e;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:3b:00.0", "nvidia-232", NULL, 0, NULL, e.err,
				  sizeof(e.err)), -ENOSPC);
	CHECK_CONTAINS(e.err, "no free instance of nvidia-232 (GRID T4-4Q) on 0000:3b:00.0");
	CHECK_CONTAINS(e.err, "available_instances is 0");
	CHECK_CONTAINS(e.err, "1 x nvidia-231 (GRID T4-2Q)");
	CHECK_CONTAINS(e.err, "same framebuffer size");
	CHECK_INT(e.k.writes, 0);
	kenv_close(&e);
}

TEST(mdev_create_unknown_type_lists_the_types, "an unknown type is -ENOENT and the message "
     "lists what the parent offers")
{
	struct kenv e;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:3b:00.0", "nvidia-999", NULL, 0, NULL, e.err,
				  sizeof(e.err)), -ENOENT);
	CHECK_CONTAINS(e.err, "has no type 'nvidia-999'");
	CHECK_CONTAINS(e.err, "nvidia-231 GRID T4-2Q");
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:3b:00.0", "../../x", NULL, 0, NULL, e.err,
				  sizeof(e.err)), -ENOENT);
	CHECK_INT(vfk_mdev_create(e.ctx, "../0000:3b:00.0", "nvidia-231", NULL, 0, NULL, e.err,
				  sizeof(e.err)), -EINVAL);
	CHECK_INT(e.k.writes, 0);
	kenv_close(&e);
}

TEST(mdev_create_duplicate_or_bad_uuid_is_refused, "a UUID that exists is -EEXIST, a "
     "malformed one -EINVAL, both before any write")
{
	struct kenv e;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:3b:00.0", "nvidia-231", T4_UUID, 0, NULL, e.err,
				  sizeof(e.err)), -EEXIST);
	CHECK_CONTAINS(e.err, "exists already");
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:3b:00.0", "nvidia-231", "1234", 0, NULL, e.err,
				  sizeof(e.err)), -EINVAL);
	CHECK_INT(e.k.writes, 0);
	kenv_close(&e);
}

TEST(mdev_create_kernel_error_is_reported, "a create write the kernel fails is reported "
     "with the step and the error")
{
	struct kenv e;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	e.k.fail_at = 1;
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:d8:00.0", "nvidia-234", NULL, 0, NULL, e.err,
				  sizeof(e.err)), -EIO);
	CHECK_CONTAINS(e.err, "creating nvidia-234 on 0000:d8:00.0 failed");
	kenv_close(&e);
}

TEST(mdev_parent_on_vfio_pci_names_the_vendor_driver, "a GPU handed to vfio-pci offers no "
     "types: the error says it is not on its vendor driver (nvidia)")
{
	struct kenv e;
	struct vfk_host *h;
	struct vfk_device *d;
	struct vfk_bind *b;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(vfk_host_scan(e.ctx, &h) == 0);
	REQUIRE(vfk_bind_new(h, "test", 0, &b) == 0);
	REQUIRE(vfk_host_find_device(h, "0000:01:00.0", &d) == 0);
	vfk_bind_add_device(b, d);
	REQUIRE(vfk_host_find_device(h, "0000:01:00.1", &d) == 0);	/* its HDMI audio */
	vfk_bind_add_device(b, d);
	REQUIRE(vfk_bind_commit(b) == 0);
	vfk_bind_free(b);
	vfk_host_unref(h);
	CHECK_INT(vfk_mdev_create(e.ctx, "01:00.0", "nvidia-231", NULL, 0, NULL, e.err,
				  sizeof(e.err)), -ENODEV);
	CHECK_CONTAINS(e.err, "bound to vfio-pci, not to its vendor driver (nvidia)");
	CHECK_CONTAINS(e.err, "vfio-bind restore");
	kenv_close(&e);
}

TEST(mdev_parent_check_explains_drivers_without_vgpu, "the desktop nvidia driver, i915 "
     "without GVT-g, a missing device and a non-GPU each get their own reason")
{
	struct kenv e;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	CHECK_INT(vfk_mdev_parent_check(e.ctx, "0000:01:00.0", e.err, sizeof(e.err)), -ENODEV);
	CHECK_CONTAINS(e.err, "vGPU host driver");
	CHECK_INT(vfk_mdev_parent_check(e.ctx, "0000:00:02.0", e.err, sizeof(e.err)), -ENODEV);
	CHECK_CONTAINS(e.err, "i915.enable_gvt=1");
	CHECK_INT(vfk_mdev_parent_check(e.ctx, "0000:09:00.0", e.err, sizeof(e.err)), -ENODEV);
	CHECK_CONTAINS(e.err, "no PCI device 0000:09:00.0");
	CHECK_INT(vfk_mdev_parent_check(e.ctx, "mtty", e.err, sizeof(e.err)), -ENODEV);
	CHECK_CONTAINS(e.err, "not a mediated-device parent");
	CHECK_INT(vfk_mdev_parent_check(e.ctx, "a/b", e.err, sizeof(e.err)), -EINVAL);
	kenv_close(&e);
}

TEST(mdev_remove_writes_1_and_keeps_definition, "remove writes 1 to the mdev's remove file; "
     "the instance is gone, its group too, the count is back, the definition stays")
{
	struct kenv e;
	struct vfk_mdev_instance *i;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	CHECK_INT(vfk_mdev_remove(e.ctx, T4_UUID, 0, e.err, sizeof(e.err)), 0);
	CHECK(kenv_logged(&e, "sys/bus/mdev/devices/" T4_UUID "/remove <- 1"));
	CHECK(!kenv_exists(&e, "sys/bus/mdev/devices/" T4_UUID));
	CHECK(!kenv_exists(&e, "dev/vfio/8"));
	env_rescan(&e);
	i = instance(&e, T4_UUID);
	REQUIRE(i);
	CHECK(!vfk_mdev_instance_is_active(i));
	CHECK(vfk_mdev_instance_is_defined(i));
	CHECK_INT(vfk_mdev_type_get_available(type_of(&e, "0000:3b:00.0", "nvidia-231")), 8);
	CHECK_INT(vfk_mdev_remove(e.ctx, T4_UUID, 0, e.err, sizeof(e.err)), -ENOENT);
	CHECK_CONTAINS(e.err, "no active mediated device");
	CHECK_INT(vfk_mdev_remove(e.ctx, "bogus", 0, e.err, sizeof(e.err)), -EINVAL);
	kenv_close(&e);
}

TEST(mdev_dry_run_reports_writes_and_changes_nothing, "VFK_MDEV_DRY_RUN narrates 'path <- "
     "value' through progress; the kernel stand-in sees no write")
{
	struct kenv e;
	char id[VFK_MDEV_ID_SIZE];

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:3b:00.0", "nvidia-231", NEW_UUID, VFK_MDEV_DRY_RUN,
				  id, e.err, sizeof(e.err)), 0);
	CHECK_CONTAINS(e.progress, "mdev_supported_types/nvidia-231/create <- " NEW_UUID);
	CHECK_INT(vfk_mdev_remove(e.ctx, T4_UUID, VFK_MDEV_DRY_RUN, e.err, sizeof(e.err)), 0);
	CHECK_CONTAINS(e.progress, T4_UUID "/remove <- 1");
	CHECK_INT(vfk_mdev_undefine(e.ctx, T4_UUID, VFK_MDEV_DRY_RUN, e.err, sizeof(e.err)), 0);
	CHECK_CONTAINS(e.progress, T4_UUID " <- " VFK_WRITE_REMOVE);
	CHECK_INT(e.k.writes, 0);
	CHECK(kenv_exists(&e, "sys/bus/mdev/devices/" T4_UUID));
	CHECK(kenv_exists(&e, "etc/mdevctl.d/0000:3b:00.0/" T4_UUID));
	kenv_close(&e);
}

/* ---------------------------------------------------------------- GVT-g */

TEST(gvtg_types_sizes_come_from_graphics_memory, "GVT-g types: size is low_gm_size + "
     "high_gm_size, one display head, short ids like GVTg_V5_8 resolve")
{
	struct kenv e;
	struct vfk_mdev_type *t;

	REQUIRE(env_open(&e, "intel-gvtg"));
	REQUIRE(vfk_mdevs_parent_count(e.m) == 1);
	CHECK_STREQ(vfk_mdev_parent_get_driver(vfk_mdevs_parent(e.m, 0)), "i915");
	t = type_of(&e, "0000:00:02.0", "i915-GVTg_V5_4");
	REQUIRE(t);
	CHECK_STREQ(vfk_mdev_type_get_name(t), "GVTg_V5_4");
	CHECK_INT(vfk_mdev_type_get_framebuffer_mb(t), 640);
	CHECK_INT(vfk_mdev_type_get_heads(t), 1);
	CHECK_INT(vfk_mdev_type_get_available(t), 1);
	CHECK_INT(vfk_mdev_type_get_max_instances(t), 2);
	CHECK_CONTAINS(vfk_mdev_type_get_description(t), "\nhigh_gm_size: 512MB\n");
	REQUIRE(vfk_mdevs_find_type(e.m, NULL, "GVTg_V5_8", &t) == 0);
	CHECK_INT(vfk_mdev_type_get_framebuffer_mb(t), 448);
	REQUIRE(instance(&e, GVT_UUID));
	CHECK_INT(vfk_mdev_instance_get_iommu_group(instance(&e, GVT_UUID)), 6);
	kenv_close(&e);
}

TEST(gvtg_create_short_id_and_full_type, "GVTg_V5_8 is created on the iGPU; GVTg_V5_2, whose "
     "graphics memory is taken, is refused as full")
{
	struct kenv e;
	char id[VFK_MDEV_ID_SIZE];

	REQUIRE(env_open(&e, "intel-gvtg"));
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:00:02.0", "GVTg_V5_8", NULL, 0, id, e.err,
				  sizeof(e.err)), 0);
	env_rescan(&e);
	REQUIRE(instance(&e, id));
	CHECK_STREQ(vfk_mdev_instance_get_type_id(instance(&e, id)), "i915-GVTg_V5_8");
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:00:02.0", "i915-GVTg_V5_2", NULL, 0, NULL, e.err,
				  sizeof(e.err)), -ENOSPC);
	CHECK_CONTAINS(e.err, "no free instance of i915-GVTg_V5_2 (GVTg_V5_2)");
	CHECK(!strstr(e.err, "framebuffer size"));	/* NVIDIA's rule only */
	kenv_close(&e);
}

/* ------------------------------------------------- mdevctl definitions */

TEST(mdev_define_active_instance_writes_mdevctl_json, "define UUID of a running mdev writes "
     "etc/mdevctl.d/PARENT/UUID with mdev_type, start auto and an attrs array")
{
	struct kenv e;
	json_object *o, *attrs;
	char id[VFK_MDEV_ID_SIZE];

	REQUIRE(env_open(&e, "intel-gvtg"));
	CHECK_INT(vfk_mdev_define(e.ctx, GVT_UUID, NULL, NULL, 0, id, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(id, GVT_UUID);
	CHECK(kenv_logged(&e, "etc/mdevctl.d/0000:00:02.0/" GVT_UUID " <- (file)"));
	o = json_file(&e, "etc/mdevctl.d/0000:00:02.0/" GVT_UUID);
	REQUIRE(o);
	CHECK_STREQ(jstr(o, "mdev_type"), "i915-GVTg_V5_4");
	CHECK_STREQ(jstr(o, "start"), "auto");
	CHECK(json_object_object_get_ex(o, "attrs", &attrs) &&
	      json_object_is_type(attrs, json_type_array));
	json_object_put(o);
	env_rescan(&e);
	CHECK(vfk_mdev_instance_is_autostart(instance(&e, GVT_UUID)));
	kenv_close(&e);
}

TEST(mdev_define_parent_and_type_without_instance, "define PARENT TYPE --manual makes a UUID "
     "and a manual definition; an absent parent is taken as written, as mdevctl does")
{
	struct kenv e;
	char id[VFK_MDEV_ID_SIZE], rel[128];
	json_object *o;
	struct vfk_mdev_instance *i;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	CHECK_INT(vfk_mdev_define(e.ctx, NULL, "0000:d8:00.0", "GRID T4-8Q", VFK_MDEV_MANUAL, id,
				  e.err, sizeof(e.err)), 0);
	snprintf(rel, sizeof(rel), "etc/mdevctl.d/0000:d8:00.0/%s", id);
	o = json_file(&e, rel);
	REQUIRE(o);
	CHECK_STREQ(jstr(o, "mdev_type"), "nvidia-233");
	CHECK_STREQ(jstr(o, "start"), "manual");
	json_object_put(o);
	env_rescan(&e);
	i = instance(&e, id);
	REQUIRE(i);
	CHECK(!vfk_mdev_instance_is_active(i) && vfk_mdev_instance_is_defined(i));
	/* a parent that appears later (driver not loaded yet) */
	CHECK_INT(vfk_mdev_define(e.ctx, NEW_UUID, "mbochs", "mbochs-small", 0, NULL, e.err,
				  sizeof(e.err)), 0);
	CHECK(kenv_exists(&e, "etc/mdevctl.d/mbochs/" NEW_UUID));
	/* but a present parent's types are checked */
	CHECK_INT(vfk_mdev_define(e.ctx, NULL, "0000:d8:00.0", "nvidia-9", 0, NULL, e.err,
				  sizeof(e.err)), -ENOENT);
	CHECK_INT(vfk_mdev_define(e.ctx, "nope", NULL, NULL, 0, NULL, e.err, sizeof(e.err)),
		  -EINVAL);
	kenv_close(&e);
}

TEST(mdev_define_keeps_mdevctl_attrs_and_refuses_other_parent, "redefining a file mdevctl "
     "wrote keeps its attrs; the same UUID on another parent is -EEXIST")
{
	struct kenv e;
	json_object *o, *attrs;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	kenv_put(&e, "etc/mdevctl.d/0000:d8:00.0/" T4_MANUAL,
	    "{\n  \"mdev_type\": \"nvidia-232\",\n  \"start\": \"manual\",\n  \"attrs\": [\n"
	    "    {\n      \"vgpu_params\": \"frame_rate_limiter=0\"\n    }\n  ]\n}\n");
	CHECK_INT(vfk_mdev_define(e.ctx, T4_MANUAL, "0000:d8:00.0", "nvidia-232", 0, NULL, e.err,
				  sizeof(e.err)), 0);
	o = json_file(&e, "etc/mdevctl.d/0000:d8:00.0/" T4_MANUAL);
	REQUIRE(o);
	CHECK_STREQ(jstr(o, "start"), "auto");
	REQUIRE(json_object_object_get_ex(o, "attrs", &attrs));
	REQUIRE(json_object_array_length(attrs) == 1);
	CHECK_STREQ(jstr(json_object_array_get_idx(attrs, 0), "vgpu_params"), "frame_rate_limiter=0");
	json_object_put(o);
	CHECK_INT(vfk_mdev_define(e.ctx, T4_MANUAL, "0000:3b:00.0", "nvidia-231", 0, NULL, e.err,
				  sizeof(e.err)), -EEXIST);
	CHECK_CONTAINS(e.err, "defined on 0000:d8:00.0 already");
	kenv_close(&e);
}

TEST(mdev_undefine_removes_the_file_not_the_instance, "undefine removes mdevctl's file "
     "through the write hook; the running mdev stays")
{
	struct kenv e;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	CHECK_INT(vfk_mdev_undefine(e.ctx, T4_UUID, 0, e.err, sizeof(e.err)), 0);
	CHECK(kenv_logged(&e, "etc/mdevctl.d/0000:3b:00.0/" T4_UUID " <- " VFK_WRITE_REMOVE));
	CHECK(!kenv_exists(&e, "etc/mdevctl.d/0000:3b:00.0/" T4_UUID));
	env_rescan(&e);
	CHECK(vfk_mdev_instance_is_active(instance(&e, T4_UUID)));
	CHECK(!vfk_mdev_instance_is_defined(instance(&e, T4_UUID)));
	CHECK_INT(vfk_mdev_undefine(e.ctx, T4_UUID, 0, e.err, sizeof(e.err)), -ENOENT);
	kenv_close(&e);
}

TEST(mdev_start_defined_recreates_autostart_instances_only, "at boot the auto definition is "
     "created with its own UUID; the manual one is not; an active one is left alone")
{
	struct kenv e;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	/* already active: nothing to do, nothing written */
	CHECK_INT(vfk_mdev_start_defined(e.ctx, NULL, 0, e.err, sizeof(e.err)), 0);
	CHECK_INT(e.k.writes, 0);
	REQUIRE(vfk_mdev_remove(e.ctx, T4_UUID, 0, e.err, sizeof(e.err)) == 0);
	CHECK_INT(vfk_mdev_start_defined(e.ctx, NULL, 0, e.err, sizeof(e.err)), 1);
	CHECK(kenv_logged(&e, "sys/class/mdev_bus/0000:3b:00.0/mdev_supported_types/nvidia-231/create"
			 " <- " T4_UUID));
	env_rescan(&e);
	CHECK(vfk_mdev_instance_is_active(instance(&e, T4_UUID)));
	CHECK(!vfk_mdev_instance_is_active(instance(&e, T4_MANUAL)));
	/* the manual one starts when asked */
	CHECK_INT(vfk_mdev_start(e.ctx, T4_MANUAL, 0, e.err, sizeof(e.err)), 0);
	env_rescan(&e);
	CHECK(vfk_mdev_instance_is_active(instance(&e, T4_MANUAL)));
	CHECK_INT(vfk_mdev_start(e.ctx, NEW_UUID, 0, e.err, sizeof(e.err)), -ENOENT);
	kenv_close(&e);
}

TEST(mdev_start_defined_filters_by_parent_and_reports_type_clash, "start-defined PARENT only "
     "touches that parent; an active instance of another type is -EEXIST")
{
	struct kenv e;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	REQUIRE(vfk_mdev_remove(e.ctx, T4_UUID, 0, e.err, sizeof(e.err)) == 0);
	CHECK_INT(vfk_mdev_start_defined(e.ctx, "0000:d8:00.0", 0, e.err, sizeof(e.err)), 0);
	CHECK_INT(vfk_mdev_start_defined(e.ctx, "3b:00.0", 0, e.err, sizeof(e.err)), 1);
	/* the definition now says 2B, the running one is 2Q */
	kenv_put(&e, "etc/mdevctl.d/0000:3b:00.0/" T4_UUID,
	    "{\"mdev_type\": \"nvidia-223\", \"start\": \"auto\", \"attrs\": []}\n");
	CHECK_INT(vfk_mdev_start(e.ctx, T4_UUID, 0, e.err, sizeof(e.err)), -EEXIST);
	CHECK_CONTAINS(e.err, "active with type nvidia-231, defined as nvidia-223");
	kenv_close(&e);
}

/* The stand-in kernel has no vendor attributes: take those writes here. */
static int attr_hook(void *data, const char *path, const char *value)
{
	struct ksim *k = data;
	int r = ksim_hook(data, path, value);

	if (r == 0 && strstr(path, "/vgpu_params"))
		return 1;
	(void)k;
	return r;
}

TEST(mdev_start_writes_mdevctl_attrs_after_create, "a definition's attrs are written to the "
     "new mdev's sysfs attributes in order, after the create")
{
	struct kenv e;
	int i, at_create = -1, at_attr = -1;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	vfk_ctx_set_write_hook(e.ctx, attr_hook, &e.k);
	kenv_put(&e, "etc/mdevctl.d/0000:d8:00.0/" NEW_UUID,
	    "{\"mdev_type\": \"nvidia-234\", \"start\": \"auto\", "
	    "\"attrs\": [{\"vgpu_params\": \"frame_rate_limiter=0\"}]}\n");
	CHECK_INT(vfk_mdev_start(e.ctx, NEW_UUID, 0, e.err, sizeof(e.err)), 0);
	for (i = 0; i < e.k.nlog; i++) {
		if (strstr(e.k.log[i], "nvidia-234/create <- " NEW_UUID))
			at_create = i;
		if (!strcmp(e.k.log[i], "sys/bus/mdev/devices/" NEW_UUID
					"/vgpu_params <- frame_rate_limiter=0"))
			at_attr = i;
	}
	CHECK(at_create >= 0);
	CHECK(at_attr > at_create);
	kenv_close(&e);
}

TEST(mdev_unreadable_definition_is_ignored, "a definition file that is not mdevctl's JSON "
     "is skipped with a warning, not fatal")
{
	struct kenv e;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	kenv_put(&e, "etc/mdevctl.d/0000:d8:00.0/" NEW_UUID, "{ not json");
	vfk_ctx_set_log_priority(e.ctx, 0);	/* keep the warning off the test output */
	env_rescan(&e);
	CHECK_INT(vfk_mdevs_instance_count(e.m), 2);
	CHECK(!instance(&e, NEW_UUID));
	kenv_close(&e);
}

/* ------------------------------------------- NVIDIA vGPU 17+ per-VF */

TEST(vgpu_vf_parent_aggregates_its_free_vfs, "per-VF interface: the PF is the parent, a "
     "type's available count is the number of free VFs that list it")
{
	struct kenv e;
	struct vfk_mdev_parent *p;
	struct vfk_mdev_type *t;
	struct vfk_mdev_instance *i;

	REQUIRE(env_open(&e, "nvidia-vgpu17-vf"));
	REQUIRE(vfk_mdevs_parent_count(e.m) == 2);
	REQUIRE(vfk_mdevs_find_parent(e.m, "0000:41:00.6", &p) == 0);	/* a VF finds its PF */
	CHECK_STREQ(vfk_mdev_parent_get_name(p), "0000:41:00.0");
	CHECK_INT(vfk_mdev_parent_get_kind(p), VFK_MDEV_NVIDIA_VF);
	CHECK_INT(vfk_mdev_parent_vf_count(p), 4);
	CHECK_INT(vfk_mdev_parent_type_count(p), 2);
	t = type_of(&e, "0000:41:00.0", "nvidia-1395");
	REQUIRE(t);
	CHECK_STREQ(vfk_mdev_type_get_name(t), "NVIDIA L4-4Q");
	CHECK_INT(vfk_mdev_type_get_available(t), 3);
	CHECK_INT(vfk_mdev_type_get_instance_count(t), 1);
	CHECK_INT(vfk_mdev_type_get_framebuffer_mb(t), 4096);
	CHECK_STREQ(vfk_mdev_type_get_device_api(t), "vfio-pci");
	CHECK_INT(vfk_mdev_type_get_heads(type_of(&e, "0000:41:00.0", "nvidia-1400")), 0);
	CHECK_STREQ(vfk_mdev_type_get_free_vf(t), "0000:41:00.5");	/* what create would take */
	CHECK_INT(vfk_mdev_parent_type_count(vfk_mdevs_parent(e.m, 1)), 15);
	CHECK_INT(vfk_mdevs_find_parent(e.m, "0000:e1:00.0", &p), -ENODEV);
	i = instance(&e, "41:00.4");
	REQUIRE(i);
	CHECK_INT(vfk_mdev_instance_get_kind(i), VFK_MDEV_NVIDIA_VF);
	CHECK_STREQ(vfk_mdev_instance_get_parent(i), "0000:41:00.0");
	CHECK_STREQ(vfk_mdev_instance_get_type_name(i), "NVIDIA L4-4Q");
	CHECK_INT(vfk_mdev_instance_get_iommu_group(i), 5);
	CHECK_STREQ(vfk_mdev_instance_get_sysfs_path(i), "/sys/bus/pci/devices/0000:41:00.4");
	kenv_close(&e);
}

TEST(vgpu_vf_create_on_pf_sets_type_on_first_free_vf, "create on the PF writes the numeric "
     "type id to current_vgpu_type of the first free VF that lists it, then the next")
{
	struct kenv e;
	char id[VFK_MDEV_ID_SIZE];

	REQUIRE(env_open(&e, "nvidia-vgpu17-vf"));
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:41:00.0", "NVIDIA L4-4Q", NULL, 0, id, e.err,
				  sizeof(e.err)), 0);
	CHECK_STREQ(id, "0000:41:00.5");
	CHECK(kenv_logged(&e, "sys/bus/pci/devices/0000:41:00.5/nvidia/current_vgpu_type <- 1395"));
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:41:00.0", "nvidia-1400", NULL, 0, id, e.err,
				  sizeof(e.err)), 0);
	CHECK_STREQ(id, "0000:41:00.6");
	env_rescan(&e);
	CHECK_STREQ(vfk_mdev_instance_get_type_id(instance(&e, "0000:41:00.6")), "nvidia-1400");
	CHECK_INT(vfk_mdev_type_get_available(type_of(&e, "0000:41:00.0", "nvidia-1395")), 1);
	/* a named VF; the per-VF interface has no UUIDs, a given one is ignored */
	CHECK_INT(vfk_mdev_create(e.ctx, "c1:00.5", "1399", NEW_UUID, 0, id, e.err,
				  sizeof(e.err)), 0);
	CHECK_STREQ(id, "0000:c1:00.5");
	kenv_close(&e);
}

TEST(vgpu_vf_other_size_is_not_creatable_now, "on a GPU running a 4 GB vGPU a 24 GB type "
     "is not creatable: -ENOENT with what is creatable and NVIDIA's one-size rule")
{
	struct kenv e;

	REQUIRE(env_open(&e, "nvidia-vgpu17-vf"));
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:41:00.0", "NVIDIA L4-24Q", NULL, 0, NULL, e.err,
				  sizeof(e.err)), -ENOENT);
	CHECK_CONTAINS(e.err, "cannot create vGPU type 'NVIDIA L4-24Q' now");
	CHECK_CONTAINS(e.err, "nvidia-1395 NVIDIA L4-4Q");
	CHECK_CONTAINS(e.err, "same framebuffer size");
	CHECK_INT(e.k.writes, 0);
	kenv_close(&e);
}

TEST(vgpu_vf_full_and_busy_vfs_are_refused, "when every VF is taken the type is -ENOSPC; a "
     "named VF that has a vGPU is -EBUSY")
{
	struct kenv e;
	int n;

	REQUIRE(env_open(&e, "nvidia-vgpu17-vf"));
	for (n = 0; n < 3; n++)
		REQUIRE(vfk_mdev_create(e.ctx, "0000:41:00.0", "nvidia-1395", NULL, 0, NULL, e.err,
					sizeof(e.err)) == 0);
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:41:00.0", "nvidia-1395", NULL, 0, NULL, e.err,
				  sizeof(e.err)), -ENOSPC);
	CHECK_CONTAINS(e.err, "no free VF can take it now");
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:41:00.4", "nvidia-1395", NULL, 0, NULL, e.err,
				  sizeof(e.err)), -EBUSY);
	CHECK_CONTAINS(e.err, "VF 0000:41:00.4 has a vGPU already (nvidia-1395 NVIDIA L4-4Q)");
	kenv_close(&e);
}

TEST(vgpu_vf_remove_writes_zero_to_current_type, "remove VF writes 0 to current_vgpu_type; "
     "a free VF or a device without the interface is -ENOENT")
{
	struct kenv e;
	char *cur;

	REQUIRE(env_open(&e, "nvidia-vgpu17-vf"));
	CHECK_INT(vfk_mdev_remove(e.ctx, "0000:41:00.4", 0, e.err, sizeof(e.err)), 0);
	CHECK(kenv_logged(&e, "sys/bus/pci/devices/0000:41:00.4/nvidia/current_vgpu_type <- 0"));
	cur = kenv_slurp(&e, "sys/bus/pci/devices/0000:41:00.4/nvidia/current_vgpu_type");
	CHECK_STREQ(cur, "0\n");
	free(cur);
	env_rescan(&e);
	CHECK(!instance(&e, "0000:41:00.4"));
	CHECK_INT(vfk_mdev_remove(e.ctx, "0000:41:00.4", 0, e.err, sizeof(e.err)), -ENOENT);
	CHECK_CONTAINS(e.err, "has no vGPU");
	CHECK_INT(vfk_mdev_remove(e.ctx, "0000:41:00.0", 0, e.err, sizeof(e.err)), -ENOENT);
	kenv_close(&e);
}

TEST(vgpu_vf_pf_without_vfs_points_to_sriov_manage, "an L4 on nvidia whose VFs are not "
     "enabled is not a parent yet, and the reason says how to enable them")
{
	struct kenv e;

	REQUIRE(env_open(&e, "nvidia-vgpu17-vf"));
	CHECK_INT(vfk_mdev_create(e.ctx, "0000:e1:00.0", "nvidia-1395", NULL, 0, NULL, e.err,
				  sizeof(e.err)), -ENODEV);
	CHECK_CONTAINS(e.err, "SR-IOV VFs are not enabled");
	CHECK_CONTAINS(e.err, "sriov-manage -e 0000:e1:00.0");
	kenv_close(&e);
}

TEST(vgpu_vf_define_persists_per_vf_and_restarts, "a per-VF vGPU is defined in "
     "etc/vfiokit/vgpu/VF (mdevctl's schema) and set again by start-defined")
{
	struct kenv e;
	json_object *o;

	REQUIRE(env_open(&e, "nvidia-vgpu17-vf"));
	CHECK_INT(vfk_mdev_define(e.ctx, "0000:41:00.4", NULL, NULL, 0, NULL, e.err,
				  sizeof(e.err)), 0);
	o = json_file(&e, "etc/vfiokit/vgpu/0000:41:00.4");
	REQUIRE(o);
	CHECK_STREQ(jstr(o, "mdev_type"), "nvidia-1395");
	CHECK_STREQ(jstr(o, "start"), "auto");
	json_object_put(o);
	CHECK(!kenv_exists(&e, "etc/mdevctl.d"));	/* mdevctl would not know it */
	REQUIRE(vfk_mdev_remove(e.ctx, "0000:41:00.4", 0, e.err, sizeof(e.err)) == 0);
	env_rescan(&e);
	CHECK(instance(&e, "0000:41:00.4") && !vfk_mdev_instance_is_active(instance(&e, "0000:41:00.4")));
	CHECK_INT(vfk_mdev_start_defined(e.ctx, "0000:41:00.0", 0, e.err, sizeof(e.err)), 1);
	CHECK(kenv_logged(&e, "sys/bus/pci/devices/0000:41:00.4/nvidia/current_vgpu_type <- 1395"));
	/* a definition names one VF, not the PF */
	CHECK_INT(vfk_mdev_define(e.ctx, NULL, "0000:c1:00.0", "nvidia-1399", 0, NULL, e.err,
				  sizeof(e.err)), -EINVAL);
	CHECK_CONTAINS(e.err, "defined per VF");
	CHECK_INT(vfk_mdev_define(e.ctx, NULL, "0000:c1:00.4", "NVIDIA L4-24Q", 0, NULL, e.err,
				  sizeof(e.err)), 0);
	CHECK(kenv_exists(&e, "etc/vfiokit/vgpu/0000:c1:00.4"));
	kenv_close(&e);
}

/* ------------------------------------------------------------ vfio-mdev */

struct run {
	char *root, *out, *err;
	int status;
	json_object *json;
};

static void run_close(struct run *r)
{
	if (r->json)
		json_object_put(r->json);
	free(r->root);
	free(r->out);
	free(r->err);
}
#define RUN __attribute__((cleanup(run_close))) struct run

static bool mdev_run(struct run *r, const char *host, bool shared, const char *const *args)
{
	const char *argv[16] = { "vfio-mdev", "--sysroot" };
	size_t n = 2;
	bool json = false;

	memset(r, 0, sizeof(*r));
	r->root = shared ? fixture_host_shared(host) : fixture_host(host);
	if (!r->root)
		return false;
	argv[n++] = r->root;
	for (; *args && n < 15; args++) {
		argv[n++] = *args;
		json |= !strcmp(*args, "--json");
	}
	argv[n] = NULL;
	r->status = run_tool(&r->out, &r->err, argv);
	if (json && r->status == 0 && !(r->json = json_tokener_parse(r->out ? r->out : ""))) {
		test_fail_(__FILE__, __LINE__, "--json output does not parse:\n%s", r->out);
		return false;
	}
	return true;
}

TEST(vfio_mdev_types_json_has_documented_schema, "types --json: parents[] with name, kind, "
     "driver and types[] with id, name, description, available_instances, device_api, ...")
{
	RUN r;
	json_object *parents, *p, *types, *t, *v;
	static const char *const keys[] = { "id", "name", "description", "available_instances",
		"instances", "max_instances", "framebuffer_mb", "heads", "device_api" };
	size_t i;

	REQUIRE(mdev_run(&r, "nvidia-vgpu", true, (const char *const[]){ "types", "--json", NULL }));
	CHECK_INT(r.status, 0);
	REQUIRE(json_object_object_get_ex(r.json, "parents", &parents));
	REQUIRE(json_object_array_length(parents) == 2);
	p = json_object_array_get_idx(parents, 0);
	CHECK_STREQ(jstr(p, "name"), "0000:3b:00.0");
	CHECK_STREQ(jstr(p, "kind"), "mdev");
	CHECK_STREQ(jstr(p, "driver"), "nvidia");
	REQUIRE(json_object_object_get_ex(p, "types", &types));
	t = json_object_array_get_idx(types, 9);
	CHECK_STREQ(jstr(t, "id"), "nvidia-231");
	CHECK_STREQ(jstr(t, "name"), "GRID T4-2Q");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(json_object_object_get_ex(t, keys[i], &v));
	json_object_object_get_ex(t, "available_instances", &v);
	CHECK_INT(json_object_get_int(v), 7);
}

TEST(vfio_mdev_types_human_and_per_vf, "types shows each parent with its types; a per-VF "
     "parent is marked and counts its VFs; a PF without VFs explains itself (exit 1)")
{
	RUN r;
	RUN s;

	REQUIRE(mdev_run(&r, "nvidia-vgpu17-vf", true, (const char *const[]){ "types", NULL }));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "0000:41:00.0  nvidia, NVIDIA per-VF vGPU (4 VFs)");
	CHECK_CONTAINS(r.out, "nvidia-1395");
	CHECK_CONTAINS(r.out, "NVIDIA L4-4Q");
	REQUIRE(mdev_run(&s, "nvidia-vgpu17-vf", true,
			 (const char *const[]){ "types", "e1:00.0", NULL }));
	CHECK_INT(s.status, 1);
	CHECK_CONTAINS(s.err, "sriov-manage");
}

TEST(vfio_mdev_list_json_has_documented_schema, "list --json: instances[] with id, kind, "
     "parent, type, type_name, iommu_group, active, defined, start, sysfs_path")
{
	RUN r;
	json_object *arr, *i, *v;

	REQUIRE(mdev_run(&r, "nvidia-vgpu", true, (const char *const[]){ "list", "--json", NULL }));
	CHECK_INT(r.status, 0);
	REQUIRE(json_object_object_get_ex(r.json, "instances", &arr));
	REQUIRE(json_object_array_length(arr) == 2);
	i = json_object_array_get_idx(arr, 0);
	CHECK_STREQ(jstr(i, "id"), T4_UUID);
	CHECK_STREQ(jstr(i, "kind"), "mdev");
	CHECK_STREQ(jstr(i, "type"), "nvidia-231");
	CHECK_STREQ(jstr(i, "type_name"), "GRID T4-2Q");
	CHECK_STREQ(jstr(i, "start"), "auto");
	CHECK_STREQ(jstr(i, "sysfs_path"), "/sys/bus/mdev/devices/" T4_UUID);
	CHECK(json_object_object_get_ex(i, "iommu_group", &v) && json_object_get_int(v) == 8);
	i = json_object_array_get_idx(arr, 1);
	CHECK(json_object_object_get_ex(i, "iommu_group", &v) && v == NULL);
	CHECK(json_object_object_get_ex(i, "active", &v) && !json_object_get_boolean(v));
}

TEST(vfio_mdev_create_full_type_exits_1_with_reason, "create of a full type exits 1 and "
     "says why on stderr; a dry run prints the write and exits 0")
{
	RUN r;
	RUN d;

	REQUIRE(mdev_run(&r, "nvidia-vgpu", true,
			 (const char *const[]){ "create", "0000:3b:00.0", "GRID T4-4Q", NULL }));
	CHECK_INT(r.status, 1);
	CHECK_CONTAINS(r.err, "no free instance of nvidia-232");
	REQUIRE(mdev_run(&d, "nvidia-vgpu", true,
			 (const char *const[]){ "-n", "create", "0000:3b:00.0", "GRID T4-2Q",
						"--uuid", NEW_UUID, NULL }));
	CHECK_INT(d.status, 0);
	CHECK_CONTAINS(d.out, "nvidia-231/create <- " NEW_UUID);
}

TEST(vfio_mdev_usage_errors_exit_2, "unknown options, commands and missing arguments exit "
     "2 with a hint")
{
	RUN a;
	RUN b;
	RUN c;

	REQUIRE(mdev_run(&a, "nvidia-vgpu", true, (const char *const[]){ "--bogus", "list", NULL }));
	CHECK_INT(a.status, 2);
	CHECK_CONTAINS(a.err, "Try 'vfio-mdev --help'");
	REQUIRE(mdev_run(&b, "nvidia-vgpu", true, (const char *const[]){ "frobnicate", NULL }));
	CHECK_INT(b.status, 2);
	REQUIRE(mdev_run(&c, "nvidia-vgpu", true, (const char *const[]){ "create", "x", NULL }));
	CHECK_INT(c.status, 2);
}

TEST(vfio_mdev_define_and_undefine_through_the_tool, "define prints the id and writes "
     "mdevctl's file; undefine removes it; list shows the change")
{
	RUN r;
	char p[4096];
	struct stat st;
	const char *root;

	REQUIRE(mdev_run(&r, "intel-gvtg", false, (const char *const[]){ "define", GVT_UUID, NULL }));
	CHECK_INT(r.status, 0);
	CHECK_STREQ(r.out, GVT_UUID "\n");
	snprintf(p, sizeof(p), "%s/etc/mdevctl.d/0000:00:02.0/" GVT_UUID, r.root);
	CHECK(stat(p, &st) == 0);
	root = r.root;
	{
		const char *argv[] = { "vfio-mdev", "--sysroot", root, "undefine", GVT_UUID, NULL };
		char *out = NULL, *err = NULL;
		CHECK_INT(run_tool(&out, &err, argv), 0);
		free(out);
		free(err);
	}
	CHECK(stat(p, &st) < 0);
}

/* ------------------------------------------ a captured tree is untrusted */

#define SECRET "SECRET-7f3a9c"	/* what lies outside the sysroot */
#define T4_231 "sys/class/mdev_bus/0000:3b:00.0/mdev_supported_types/nvidia-231"
#define T4_232 "sys/class/mdev_bus/0000:3b:00.0/mdev_supported_types/nvidia-232"

/* "<root>/../outside/@name" (malloc'ed): next to the tree, not in it. */
static char *outside(const struct kenv *e, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/../outside%s%s", e->root, *name ? "/" : "", name) < 0)
		return NULL;
	return p;
}

/* The file @name outside the tree, holding @text; its path (malloc'ed). */
static char *put_outside(const struct kenv *e, const char *name, const char *text)
{
	char *dir = outside(e, ""), *p = outside(e, name);
	FILE *f;

	if (dir)
		mkdir(dir, 0755);
	free(dir);
	f = p ? fopen(p, "w") : NULL;
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		test_fail_(__FILE__, __LINE__, "cannot write %s", p ? p : name);
	return p;
}

/* Replace the file @rel below the root with a symlink to @target. */
static void link_at(const struct kenv *e, const char *rel, const char *target)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	unlink(p);
	if (symlink(target, p) < 0)
		test_fail_(__FILE__, __LINE__, "symlink %s -> %s: %s", p, target, strerror(errno));
}

/* A relative target for a link at @rel that climbs out of the tree by "..":
 * as many levels up as the link's real directory lies below the root, one
 * more, then outside/@name. */
static void link_climbing_out(const struct kenv *e, const char *rel, const char *name)
{
	char p[4096], dir[4096], root[4096], target[4096] = "";
	const char *c;

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	*strrchr(p, '/') = '\0';
	if (!realpath(p, dir) || !realpath(e->root, root)) {
		test_fail_(__FILE__, __LINE__, "realpath %s: %s", p, strerror(errno));
		return;
	}
	for (c = dir + strlen(root); *c; c++)
		if (*c == '/')
			strcat(target, "../");
	strcat(target, "../outside/");
	strcat(target, name);
	link_at(e, rel, target);
}

/* Move the directory @rel out of the tree and leave a symlink to it. */
static void move_out(const struct kenv *e, const char *rel, const char *name)
{
	char p[4096];
	char *dir = outside(e, ""), *to = outside(e, name);

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	if (dir)
		mkdir(dir, 0755);
	if (!to || rename(p, to) < 0 || symlink(to, p) < 0)
		test_fail_(__FILE__, __LINE__, "moving %s out: %s", p, strerror(errno));
	free(dir);
	free(to);
}

/* vfio-mdev --sysroot ROOT ARGS... under a 5 s alarm: exit status, stdout
 * and stderr joined into @all (malloc'ed). */
static int tool_on(const struct kenv *e, char **all, const char *a1, const char *a2)
{
	const char *argv[] = { "vfio-mdev", "--sysroot", e->root, a1, a2, NULL };
	char *out, *err;
	unsigned int left = alarm(5);
	int st = run_tool(&out, &err, argv);

	alarm(left);
	if (asprintf(all, "%s%s", out ? out : "", err ? err : "") < 0)
		*all = NULL;
	free(out);
	free(err);
	return st;
}

TEST(mdev_type_attributes_linked_out_of_the_sysroot_are_not_read, "a captured tree whose mdev "
     "type name (absolute link), description (climbing by '..'), available_instances, whole "
     "type directory and mdevctl parent directory lead outside the sysroot: nothing there is "
     "read, the types are listed without those values, no tool output carries them")
{
	static const char def[] = "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", \"attrs\": "
				  "[{\"vgpu_params\": \"" SECRET "\"}]}\n";
	struct kenv e;
	struct vfk_mdev_type *t;
	char *p, *all;
	static const char *const runs[][2] = { { "types", "--json" }, { "list", "--json" },
					       { "types", "-v" }, { "list", NULL } };
	size_t i;

	REQUIRE(kenv_open(&e, "nvidia-vgpu"));
	p = put_outside(&e, "name", "GRID " SECRET "-2Q");
	link_at(&e, T4_231 "/name", p);
	free(p);
	free(put_outside(&e, "description", "num_heads=4, framebuffer=65536M, " SECRET));
	link_climbing_out(&e, T4_231 "/description", "description");
	free(put_outside(&e, "available_instances", "86420"));
	link_climbing_out(&e, T4_231 "/available_instances", "available_instances");
	move_out(&e, T4_232, "nvidia-232");
	free(put_outside(&e, "nvidia-232/name", SECRET));
	move_out(&e, "etc/mdevctl.d/0000:d8:00.0", "mdevctl");
	free(put_outside(&e, "mdevctl/" NEW_UUID, def));

	REQUIRE(vfk_mdevs_scan(e.ctx, &e.m) == 0);
	t = type_of(&e, "0000:3b:00.0", "nvidia-231");
	REQUIRE(t);
	CHECK_STREQ(vfk_mdev_type_get_name(t), "nvidia-231");	/* the id, for want of a name */
	CHECK(vfk_mdev_type_get_description(t) == NULL);
	CHECK_INT(vfk_mdev_type_get_available(t), 0);
	CHECK_INT(vfk_mdev_type_get_framebuffer_mb(t), 0);
	t = type_of(&e, "0000:3b:00.0", "nvidia-232");
	REQUIRE(t);
	CHECK_STREQ(vfk_mdev_type_get_name(t), "nvidia-232");
	REQUIRE(instance(&e, T4_UUID));
	CHECK_STREQ(vfk_mdev_instance_get_type_name(instance(&e, T4_UUID)), "nvidia-231");
	/* the definitions kept in the linked-out directory are not read */
	CHECK(instance(&e, T4_MANUAL) == NULL);
	CHECK(instance(&e, NEW_UUID) == NULL);
	CHECK_INT(vfk_mdevs_broken_count(e.m), 0);
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		tool_on(&e, &all, runs[i][0], runs[i][1]);
		CHECK(all && !strstr(all, SECRET) && !strstr(all, "86420"));
		if (all && strstr(all, SECRET))
			test_fail_(__FILE__, __LINE__, "%s %s printed:\n%s", runs[i][0],
				   runs[i][1] ? runs[i][1] : "", all);
		free(all);
	}
	/* the start of a definition in it: nothing is created */
	CHECK(vfk_mdev_start(e.ctx, NEW_UUID, 0, e.err, sizeof(e.err)) < 0);
	CHECK_INT(e.k.writes, 0);
	kenv_close(&e);
}

TEST(mdev_per_vf_vgpu_files_linked_out_of_the_sysroot_are_not_read, "per-VF interface: a "
     "VF's creatable_vgpu_types and current_vgpu_type that lead outside the sysroot are not "
     "read: the VF offers no types and holds no vGPU, and no tool prints what is there")
{
	struct kenv e;
	struct vfk_mdev_parent *p;
	char *path, *all;
	size_t i;

	REQUIRE(kenv_open(&e, "nvidia-vgpu17-vf"));
	path = put_outside(&e, "creatable", "1395 : NVIDIA L4-4Q\n1398 : " SECRET "\n");
	link_at(&e, "sys/bus/pci/devices/0000:41:00.5/nvidia/creatable_vgpu_types", path);
	free(path);
	free(put_outside(&e, "current", "1398"));
	link_climbing_out(&e, "sys/bus/pci/devices/0000:41:00.6/nvidia/current_vgpu_type",
			  "current");
	REQUIRE(vfk_mdevs_scan(e.ctx, &e.m) == 0);
	REQUIRE(vfk_mdevs_find_parent(e.m, "0000:41:00.0", &p) == 0);
	for (i = 0; i < vfk_mdev_parent_type_count(p); i++)
		CHECK(!strstr(vfk_mdev_type_get_name(vfk_mdev_parent_type(p, i)), SECRET));
	CHECK(type_of(&e, "0000:41:00.0", "nvidia-1398") == NULL);
	CHECK(instance(&e, "0000:41:00.6") == NULL);
	CHECK(tool_on(&e, &all, "types", "--json") == 0);
	CHECK(all && !strstr(all, SECRET));
	free(all);
	kenv_close(&e);
}

TEST(mdev_type_attributes_that_are_fifos_are_unreadable_not_a_hang, "an mdev type's name, "
     "description and available_instances that are FIFOs (no writer): the scan and vfio-mdev "
     "types finish at once, the type is listed without those values")
{
	static const char *const attrs[] = { "name", "description", "available_instances" };
	struct kenv e;
	struct vfk_mdev_type *t;
	char p[4096], *all = NULL;
	unsigned int left;
	size_t i;
	int r;

	REQUIRE(kenv_open(&e, "nvidia-vgpu"));
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(p, sizeof(p), "%s/" T4_231 "/%s", e.root, attrs[i]);
		unlink(p);
		REQUIRE(mkfifo(p, 0644) == 0);
	}
	left = alarm(5);	/* a blocked open is SIGALRM: the test fails, nothing hangs */
	r = vfk_mdevs_scan(e.ctx, &e.m);
	alarm(left);
	REQUIRE(r == 0);
	t = type_of(&e, "0000:3b:00.0", "nvidia-231");
	REQUIRE(t);
	CHECK_STREQ(vfk_mdev_type_get_name(t), "nvidia-231");
	CHECK(vfk_mdev_type_get_description(t) == NULL);
	CHECK_INT(vfk_mdev_type_get_available(t), 0);
	t = type_of(&e, "0000:3b:00.0", "nvidia-232");	/* its neighbour is read as ever */
	REQUIRE(t);
	CHECK_STREQ(vfk_mdev_type_get_name(t), "GRID T4-4Q");
	CHECK_INT(tool_on(&e, &all, "types", "--json"), 0);
	CHECK_CONTAINS(all, "\"nvidia-231\"");
	free(all);
	kenv_close(&e);
}
