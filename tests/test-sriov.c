/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SR-IOV on fixture hosts, with tests/ksim.c adding and removing VFs the way
 * the kernel does on a sriov_numvfs write: PF/VF relations, the 0-first
 * rule, drivers_autoprobe, the refusals, and VFs as passthrough candidates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "kenv.h"
#include "vfiokit.h"

#define V620 "0000:01:00.0"	/* Radeon Pro V620 PF (gim), 4 of 8 VFs, offset 16 */
#define CX5 "0000:02:00.0"	/* ConnectX-5 PF (mlx5_core), 2 of 16 VFs */

static bool env_open(struct kenv *e, const char *fixture)
{
	return kenv_open(e, fixture) && vfk_host_scan(e->ctx, &e->host) == 0;
}

static void env_rescan(struct kenv *e)
{
	vfk_host_unref(e->host);
	e->host = NULL;
	if (vfk_host_scan(e->ctx, &e->host) < 0)
		test_fail_(__FILE__, __LINE__, "rescan failed");
}

static struct vfk_device *dev(struct kenv *e, const char *addr)
{
	struct vfk_device *d;

	return vfk_host_find_device(e->host, addr, &d) == 0 ? d : NULL;
}

static int set(struct kenv *e, const char *pf, unsigned int n, unsigned int flags)
{
	return vfk_sriov_set_numvfs(e->ctx, pf, n, flags, e->err, sizeof(e->err));
}

TEST(sriov_snapshot_relates_pfs_and_vfs, "a PF lists its VFs in index order, each VF "
     "points back to its PF, other devices have none")
{
	struct kenv e;
	struct vfk_device *pf, *vf;

	REQUIRE(env_open(&e, "sriov-server"));
	pf = dev(&e, V620);
	REQUIRE(pf);
	CHECK_INT(vfk_device_vf_count(pf), 4);
	vf = vfk_device_vf(pf, 0);
	REQUIRE(vf);
	CHECK_STREQ(vfk_device_get_address(vf), "0000:01:02.0");
	CHECK_STREQ(vfk_device_get_address(vfk_device_vf(pf, 3)), "0000:01:02.3");
	CHECK(vfk_device_vf(pf, 4) == NULL);
	CHECK(vfk_device_get_physfn(vf) == pf);
	CHECK(vfk_device_is_vf(vf));
	CHECK_INT(vfk_device_vf_count(dev(&e, CX5)), 2);
	CHECK_INT(vfk_device_vf_count(vf), 0);
	CHECK_INT(vfk_device_vf_count(dev(&e, "0000:05:00.0")), 0);
	CHECK_INT(vfk_sriov_get_drivers_autoprobe(e.ctx, V620), 1);
	CHECK_INT(vfk_sriov_get_drivers_autoprobe(e.ctx, "0000:05:00.0"), -EOPNOTSUPP);
	kenv_close(&e);
}

TEST(sriov_new_count_is_preceded_by_zero, "going from 4 VFs to 2 writes 0 first, then 2; "
     "the kernel stand-in leaves exactly VFs 0 and 1 at offset 16")
{
	struct kenv e;
	struct vfk_device *pf;
	int zero, two;

	REQUIRE(env_open(&e, "sriov-server"));
	CHECK_INT(set(&e, V620, 2, 0), 0);
	zero = kenv_log_index(&e, "sys/bus/pci/devices/" V620 "/sriov_numvfs <- 0");
	two = kenv_log_index(&e, "sys/bus/pci/devices/" V620 "/sriov_numvfs <- 2");
	CHECK(zero >= 0);
	CHECK(two > zero);
	CHECK_INT(e.k.writes, 2);
	env_rescan(&e);
	pf = dev(&e, V620);
	REQUIRE(pf);
	CHECK_INT(vfk_device_get_sriov_numvfs(pf), 2);
	REQUIRE(vfk_device_vf_count(pf) == 2);
	CHECK_STREQ(vfk_device_get_address(vfk_device_vf(pf, 1)), "0000:01:02.1");
	CHECK(dev(&e, "0000:01:02.2") == NULL);
	/* new VFs look like VFs: the PF's VF device id, their own groups */
	CHECK_INT(vfk_device_get_device_id(vfk_device_vf(pf, 0)), 0x73ae);
	CHECK(vfk_device_get_iommu_group(vfk_device_vf(pf, 0)) >= 0);
	CHECK(vfk_device_get_iommu_group(vfk_device_vf(pf, 0)) !=
	      vfk_device_get_iommu_group(vfk_device_vf(pf, 1)));
	kenv_close(&e);
}

TEST(sriov_no_autoprobe_brings_vfs_up_unbound, "with VFK_SRIOV_NO_AUTOPROBE "
     "sriov_drivers_autoprobe=0 is written first and the new VFs have no driver")
{
	struct kenv e;
	struct vfk_device *pf;
	size_t i;
	int ap, zero, four;

	REQUIRE(env_open(&e, "sriov-server"));
	CHECK_INT(set(&e, CX5, 4, VFK_SRIOV_NO_AUTOPROBE), 0);
	ap = kenv_log_index(&e, "sys/bus/pci/devices/" CX5 "/sriov_drivers_autoprobe <- 0");
	zero = kenv_log_index(&e, "sys/bus/pci/devices/" CX5 "/sriov_numvfs <- 0");
	four = kenv_log_index(&e, "sys/bus/pci/devices/" CX5 "/sriov_numvfs <- 4");
	CHECK(ap >= 0 && zero > ap && four > zero);
	CHECK_INT(vfk_sriov_get_drivers_autoprobe(e.ctx, CX5), 0);
	env_rescan(&e);
	pf = dev(&e, CX5);
	REQUIRE(pf && vfk_device_vf_count(pf) == 4);
	for (i = 0; i < 4; i++)
		CHECK(vfk_device_get_driver(vfk_device_vf(pf, i)) == NULL);
	kenv_close(&e);
}

TEST(sriov_autoprobe_flag_turns_probing_back_on, "after VFs came up unbound, "
     "VFK_SRIOV_AUTOPROBE writes sriov_drivers_autoprobe=1 before the new count and the VFs "
     "get a driver; both flags at once are -EINVAL with nothing written")
{
	struct kenv e;
	struct vfk_device *pf;
	size_t i;
	int ap, four, writes;

	REQUIRE(env_open(&e, "sriov-server"));
	REQUIRE(set(&e, CX5, 3, VFK_SRIOV_NO_AUTOPROBE) == 0);
	REQUIRE(vfk_sriov_get_drivers_autoprobe(e.ctx, CX5) == 0);
	writes = e.k.writes;
	CHECK_INT(set(&e, CX5, 4, VFK_SRIOV_AUTOPROBE | VFK_SRIOV_NO_AUTOPROBE), -EINVAL);
	CHECK_INT(e.k.writes, writes);
	CHECK_INT(set(&e, CX5, 4, VFK_SRIOV_AUTOPROBE), 0);
	ap = kenv_log_index(&e, "sys/bus/pci/devices/" CX5 "/sriov_drivers_autoprobe <- 1");
	four = kenv_log_index(&e, "sys/bus/pci/devices/" CX5 "/sriov_numvfs <- 4");
	CHECK(ap >= 0 && four > ap);
	CHECK_INT(vfk_sriov_get_drivers_autoprobe(e.ctx, CX5), 1);
	env_rescan(&e);
	pf = dev(&e, CX5);
	REQUIRE(pf && vfk_device_vf_count(pf) == 4);
	for (i = 0; i < 4; i++)
		CHECK(vfk_device_get_driver(vfk_device_vf(pf, i)) != NULL);
	kenv_close(&e);
}

TEST(sriov_with_autoprobe_vfs_get_a_driver, "with autoprobe left on, VFs come up on a "
     "driver and nothing about autoprobe is written")
{
	struct kenv e;
	struct vfk_device *pf;

	REQUIRE(env_open(&e, "sriov-server"));
	CHECK_INT(set(&e, CX5, 3, 0), 0);
	CHECK_INT(kenv_log_index(&e, "sys/bus/pci/devices/" CX5 "/sriov_drivers_autoprobe <- 0"), -1);
	env_rescan(&e);
	pf = dev(&e, CX5);
	REQUIRE(pf && vfk_device_vf_count(pf) == 3);
	CHECK_STREQ(vfk_device_get_driver(vfk_device_vf(pf, 2)), "mlx5_core");
	CHECK(!strstr(e.progress, "came up without a driver"));
	kenv_close(&e);
}

/* A PF whose VFs fail their probe, as an NVMe VF without PF-side resources does
 * ("Device not ready; aborting initialisation, CSTS=0x2"): they stay unbound. */
static int failing_probe_hook(void *data, const char *path, const char *value)
{
	struct ksim *k = data;
	int r = ksim_hook(data, path, value), i;

	if (r == 1 && strstr(path, "/sriov_numvfs") && strcmp(value, "0") != 0)
		for (i = 0; i < 8; i++) {
			char p[4096];
			snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/" CX5 "/virtfn%d/driver",
				 k->root, i);
			unlink(p);
		}
	return r;
}

TEST(sriov_vf_left_without_driver_is_reported, "a VF that stays unbound although autoprobe "
     "is on is named, with the hint that it may need PF-side resources first")
{
	struct kenv e;

	REQUIRE(env_open(&e, "sriov-server"));
	vfk_ctx_set_write_hook(e.ctx, failing_probe_hook, &e.k);
	CHECK_INT(set(&e, CX5, 4, 0), 0);
	CHECK_CONTAINS(e.progress, "VF 0000:02:00.5 came up without a driver");
	CHECK_CONTAINS(e.progress, "PF-side resources");
	CHECK_CONTAINS(e.progress, "nvme virt-mgmt");
	kenv_close(&e);
}

TEST(sriov_same_count_and_errors_write_nothing, "the same count, too many VFs, a non-PF, a "
     "VF, a missing device and a bad address all return before any write")
{
	struct kenv e;

	REQUIRE(env_open(&e, "sriov-server"));
	CHECK_INT(set(&e, V620, 4, 0), 0);
	CHECK_CONTAINS(e.progress, "has 4 VFs already");
	CHECK_INT(set(&e, V620, 9, 0), -ERANGE);
	CHECK_CONTAINS(e.err, "at most 8 VFs");
	CHECK_INT(set(&e, "0000:05:00.0", 1, 0), -EOPNOTSUPP);
	CHECK_CONTAINS(e.err, "not an SR-IOV physical function");
	CHECK_INT(set(&e, "0000:01:02.0", 1, 0), -EOPNOTSUPP);
	CHECK_CONTAINS(e.err, "is a VF (of 0000:01:00.0)");
	CHECK_INT(set(&e, "0000:77:00.0", 1, 0), -ENODEV);
	CHECK_INT(set(&e, "../01:00.0", 1, 0), -EINVAL);
	CHECK_INT(e.k.writes, 0);
	kenv_close(&e);
}

TEST(sriov_pf_without_driver_is_refused, "a PF with no driver cannot enable VFs: -ENOENT "
     "saying the driver is needed")
{
	struct kenv e;
	char p[4096];

	REQUIRE(env_open(&e, "sriov-server"));
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/" CX5 "/driver", e.root);
	REQUIRE(unlink(p) == 0);
	CHECK_INT(set(&e, CX5, 4, 0), -ENOENT);
	CHECK_CONTAINS(e.err, "has no driver");
	CHECK_INT(e.k.writes, 0);
	kenv_close(&e);
}

TEST(sriov_refuses_to_drop_a_vf_vfiokit_holds, "a VF bound to vfio-pci by vfiokit blocks "
     "changing the count (-EBUSY naming it) unless forced")
{
	struct kenv e;
	struct vfk_bind *b;

	REQUIRE(env_open(&e, "sriov-server"));
	REQUIRE(vfk_bind_new(e.host, "vm1", 0, &b) == 0);
	vfk_bind_add_device(b, dev(&e, "0000:01:02.2"));
	REQUIRE(vfk_bind_commit(b) == 0);
	vfk_bind_free(b);
	e.k.nlog = 0;
	e.k.writes = 0;
	CHECK_INT(set(&e, V620, 0, 0), -EBUSY);
	CHECK_CONTAINS(e.err, "VF 0000:01:02.2 is held by vfiokit for vm1");
	CHECK_INT(e.k.writes, 0);
	CHECK_INT(set(&e, V620, 0, VFK_SRIOV_FORCE), 0);
	env_rescan(&e);
	CHECK_INT(vfk_device_vf_count(dev(&e, V620)), 0);
	kenv_close(&e);
}

TEST(sriov_refuses_to_drop_a_vf_with_a_vgpu, "on NVIDIA's per-VF interface a VF carrying a "
     "vGPU blocks disabling the VFs")
{
	struct kenv e;

	REQUIRE(env_open(&e, "nvidia-vgpu17-vf"));
	CHECK_INT(set(&e, "0000:41:00.0", 0, 0), -EBUSY);
	CHECK_CONTAINS(e.err, "VF 0000:41:00.4 carries vGPU type 1395");
	CHECK_INT(set(&e, "0000:c1:00.0", 0, 0), 0);
	env_rescan(&e);
	CHECK_INT(vfk_device_vf_count(dev(&e, "0000:c1:00.0")), 0);
	kenv_close(&e);
}

TEST(sriov_kernel_refusal_is_reported, "a numvfs write the kernel fails is reported with the "
     "PF, the count and a hint")
{
	struct kenv e;

	REQUIRE(env_open(&e, "sriov-server"));
	e.k.fail_at = 2;	/* 0 goes through, the new count fails */
	CHECK_INT(set(&e, CX5, 8, 0), -EIO);
	CHECK_CONTAINS(e.err, CX5 ": the kernel could not enable 8 VFs");
	kenv_close(&e);
}

TEST(sriov_dry_run_changes_nothing, "VFK_SRIOV_DRY_RUN narrates the writes and leaves the "
     "VFs as they are")
{
	struct kenv e;

	REQUIRE(env_open(&e, "sriov-server"));
	CHECK_INT(set(&e, CX5, 6, VFK_SRIOV_DRY_RUN | VFK_SRIOV_NO_AUTOPROBE), 0);
	CHECK_CONTAINS(e.progress, CX5 "/sriov_drivers_autoprobe <- 0");
	CHECK_CONTAINS(e.progress, CX5 "/sriov_numvfs <- 6");
	CHECK_INT(e.k.writes, 0);
	env_rescan(&e);
	CHECK_INT(vfk_device_vf_count(dev(&e, CX5)), 2);
	kenv_close(&e);
}

TEST(sriov_new_vf_is_a_passthrough_candidate, "a VF enabled unbound goes to vfio-pci like "
     "any device, alone in its group")
{
	struct kenv e;
	struct vfk_bind *b;
	struct vfk_device *vf;
	char drv[64];

	REQUIRE(env_open(&e, "sriov-server"));
	REQUIRE(set(&e, CX5, 3, VFK_SRIOV_NO_AUTOPROBE) == 0);
	env_rescan(&e);
	vf = vfk_device_vf(dev(&e, CX5), 2);
	REQUIRE(vf);
	REQUIRE(vfk_bind_new(e.host, "vm2", 0, &b) == 0);
	vfk_bind_add_device(b, vf);
	CHECK_INT(vfk_bind_prepare(b), 0);
	CHECK_INT(vfk_bind_device_count(b), 1);
	CHECK_INT(vfk_bind_commit(b), 0);
	vfk_bind_free(b);
	CHECK_STREQ(ksim_driver(e.root, vfk_device_get_address(vf), drv, sizeof(drv)), "vfio-pci");
	kenv_close(&e);
}

TEST(pf_with_vfs_enabled_is_refused_and_pf_without_is_not, "binding a PF whose VFs are "
     "enabled is refused before any write, naming the count; with 0 VFs it binds")
{
	struct kenv e;
	struct vfk_bind *b;

	REQUIRE(env_open(&e, "sriov-server"));
	REQUIRE(vfk_bind_new(e.host, "vm1", 0, &b) == 0);
	vfk_bind_add_device(b, dev(&e, CX5));
	CHECK_INT(vfk_bind_prepare(b), -EEXIST);
	CHECK_CONTAINS(vfk_bind_get_error(b), "has 2 SR-IOV VFs enabled");
	CHECK_INT(e.k.writes, 0);
	vfk_bind_free(b);
	REQUIRE(set(&e, CX5, 0, 0) == 0);
	env_rescan(&e);
	REQUIRE(vfk_bind_new(e.host, "vm1", 0, &b) == 0);
	vfk_bind_add_device(b, dev(&e, CX5));
	CHECK_INT(vfk_bind_prepare(b), 0);
	vfk_bind_free(b);
	kenv_close(&e);
}

/* ------------------------------------------------------------ vfio-mdev */

TEST(vfio_mdev_sriov_shows_pfs_and_vfs, "vfio-mdev sriov lists PFs with counts and autoprobe, "
     "each VF with group and driver; --json has the documented keys")
{
	char *root = fixture_host_shared("sriov-server"), *out = NULL, *err = NULL;
	const char *argv[] = { "vfio-mdev", "--sysroot", root, "sriov", NULL };
	const char *jargv[] = { "vfio-mdev", "--sysroot", root, "sriov", CX5, "--json", NULL };

	REQUIRE(root);
	CHECK_INT(run_tool(&out, &err, argv), 0);
	CHECK_CONTAINS(out, V620 " ");
	CHECK_CONTAINS(out, "(gim): 4 of 8 VFs, drivers_autoprobe on");
	CHECK_CONTAINS(out, "VF 0   0000:01:02.0  group 12   vfio-pci");
	free(out);
	free(err);
	CHECK_INT(run_tool(&out, &err, jargv), 0);
	CHECK_CONTAINS(out, "\"pfs\":[{\"address\":\"" CX5 "\"");
	CHECK_CONTAINS(out, "\"totalvfs\":16,\"numvfs\":2,\"drivers_autoprobe\":true");
	CHECK_CONTAINS(out, "{\"index\":1,\"address\":\"0000:02:00.3\",\"driver\":\"mlx5_core\","
			    "\"iommu_group\":18,\"vgpu_type\":null}");
	free(out);
	free(err);
	free(root);
}

TEST(vfio_mdev_sriov_set_refuses_non_pf_with_exit_1, "vfio-mdev sriov ADDR N on a device "
     "that is not a PF exits 1; a bad count exits 2")
{
	char *root = fixture_host_shared("sriov-server"), *out = NULL, *err = NULL;
	const char *argv[] = { "vfio-mdev", "--sysroot", root, "-n", "sriov", "0000:05:00.0", "2",
			       NULL };
	const char *bad[] = { "vfio-mdev", "--sysroot", root, "sriov", CX5, "two", NULL };

	REQUIRE(root);
	CHECK_INT(run_tool(&out, &err, argv), 1);
	CHECK_CONTAINS(err, "not an SR-IOV physical function");
	free(out);
	free(err);
	CHECK_INT(run_tool(&out, &err, bad), 2);
	free(out);
	free(err);
	free(root);
}
