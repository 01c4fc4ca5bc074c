// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Remote hosts: a host read through libvirt (vfk_ctx_new_remote), planned and
 * started there with vfio-vm --connect. The remote host is libvirt's test
 * driver on tests/fixtures/libvirt/remote-host.xml (an RTX 4090 with its
 * audio in group 12, an iGPU, a NIC, two devices sharing group 14); the
 * local host is a fixture tree that keeps the records and must stay as it was.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "vmtest.h"

#define LOCAL "desktop-dgpu-igpu"
#define GAMING "[vm]\nname = rgame\nmemory = 4G\nvcpus = 4\n[gpu]\nmode = passthrough\n"

/* test:///SRCDIR/tests/fixtures/libvirt/remote-host.xml */
static const char *remote_uri(void)
{
	static char uri[4200];

	snprintf(uri, sizeof(uri), "test://%s/tests/fixtures/libvirt/remote-host.xml",
		 test_srcdir());
	return uri;
}



TEST(remote_snapshot_has_the_node_devices_groups_and_cpus,
     "vfk_ctx_new_remote on libvirt's test driver: the remote PCI functions with their ids, "
     "IOMMU groups (as libvirt reports them, shared ones too) and NUMA node; the CPUs from "
     "virNodeGetInfo; the private tree is removed with the context")
{
	char *root = fixture_host_shared(LOCAL), err[512] = "", *tree;
	struct vfk_ctx *local, *rc = NULL;
	struct vfk_host *host;
	struct vfk_device *d;
	struct vfk_group *g;
	struct vfk_topo *topo;

	REQUIRE(root);
	REQUIRE(vfk_ctx_new(root, &local) == 0);
	REQUIRE(vfk_ctx_new_remote(local, remote_uri(), &rc, err, sizeof(err)) == 0);
	CHECK_STREQ(vfk_ctx_get_remote_uri(rc), remote_uri());
	CHECK(vfk_ctx_get_remote_uri(local) == NULL);
	REQUIRE(vfk_host_scan(rc, &host) == 0);
	CHECK_INT((int)vfk_host_device_count(host), 7);
	REQUIRE(vfk_host_find_device(host, "0000:01:00.0", &d) == 0);
	CHECK_INT(vfk_device_get_vendor_id(d), 0x10de);
	CHECK_INT(vfk_device_get_device_id(d), 0x2684);
	CHECK_INT((int)vfk_device_get_class(d), 0x030000);
	CHECK_INT(vfk_device_get_iommu_group(d), 12);
	CHECK_INT(vfk_device_get_numa_node(d), 0);
	REQUIRE(vfk_host_find_group(host, 12, &g) == 0);
	CHECK_INT((int)vfk_group_device_count(g), 2);
	REQUIRE(vfk_host_find_group(host, 14, &g) == 0);
	CHECK_INT((int)vfk_group_device_count(g), 2);
	REQUIRE(vfk_host_find_device(host, "0000:03:00.0", &d) == 0);
	CHECK_INT(vfk_device_get_iommu_group(d), 13);
	/* this machine's fixture has no 04:00.1: the devices are the remote host's */
	CHECK(vfk_host_find_device(host, "0000:04:00.1", &d) == 0);
	CHECK_INT((int)vfk_host_gpu_count(host), 2);
	REQUIRE(vfk_topo_read(rc, &topo) == 0);
	CHECK_INT((int)vfk_topo_cpu_count(topo), 8);
	CHECK_INT((int)vfk_topo_core_count(topo), 4);
	vfk_topo_free(topo);
	vfk_host_unref(host);
	tree = strdup(vfk_ctx_get_sysroot(rc));
	REQUIRE(tree);
	CHECK(path_exists(tree, "sys/bus/pci/devices/0000:01:00.0"));
	vfk_ctx_unref(rc);
	CHECK(!path_exists(tree, ""));
	free(tree);
	vfk_ctx_unref(local);
	free(root);
}

TEST(remote_unreachable_uri_is_one_line,
     "vfk_ctx_new_remote on a libvirt that is not there: -ECONNREFUSED, one line naming the "
     "URI, no context; vfio-vm plan --connect to a libvirtd that does not listen: one line "
     "naming the URI, exit 3")
{
	char *root = fixture_host_shared(LOCAL), err[512] = "", *prof;
	struct vfk_ctx *local, *rc = NULL;
	struct tool_run r = { 0 };
	const char *bad = "test:///nonexistent/vfiokit/host.xml";	/* libvirt warns on stderr */

	REQUIRE(root);
	REQUIRE(vfk_ctx_new(root, &local) == 0);
	CHECK_INT(vfk_ctx_new_remote(local, bad, &rc, err, sizeof(err)), -ECONNREFUSED);
	CHECK(rc == NULL);
	CHECK_CONTAINS(err, bad);
	CHECK(strchr(err, '\n') == NULL);
	vfk_ctx_unref(local);
	prof = write_temp("rgame.ini", GAMING);
	REQUIRE(prof);
	/* a port where no libvirtd listens (libvirt's test driver itself warns on
	 * stderr about a missing file, so the tool is checked on this one) */
	bad = "qemu+tcp://127.0.0.1:1/system";
	vfio_vm(&r, "plan", prof, root, "--connect", bad, NULL);
	check_one_line(&r, 3, bad);
	CHECK_STREQ(r.out, "");
	free(r.out);
	free(r.err);
	free(prof);
	free(root);
}

TEST(remote_plan_and_gen_read_the_remote_host,
     "vfio-vm plan --connect test:///...: the remote RTX 4090 (10de:2684 in group 12) is the "
     "GPU, not this machine's; --json says the same; gen --connect writes managed='yes' "
     "hostdevs (libvirt binds them there); without --connect they are managed='no'")
{
	char *root = fixture_host_shared(LOCAL), *prof;
	struct tool_run r = { 0 };

	REQUIRE(root);
	prof = write_temp("rgame.ini", GAMING);
	REQUIRE(prof);
	vfio_vm(&r, "plan", prof, root, "--connect", remote_uri(), NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "0000:01:00.0 [10de:2684] is isolated (IOMMU group 12, 2 functions)");
	CHECK_CONTAINS(r.out, "0000:00:02.0  not chosen");
	vfio_vm(&r, "plan", prof, root, "--connect", remote_uri(), "--json", NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "0000:01:00.1");
	vfio_vm(&r, "gen", prof, root, "--format", "libvirt", "--connect", remote_uri(), NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"yes\">");
	CHECK(strstr(r.out, "managed=\"no\"") == NULL);
	CHECK_CONTAINS(r.out, "bus=\"0x01\" slot=\"0x00\" function=\"0x1\"");
	vfio_vm(&r, "gen", prof, root, "--format", "libvirt", NULL);
	CHECK_INT(r.status, 0);
	CHECK(strstr(r.out, "managed=\"yes\"") == NULL);
	free(r.out);
	free(r.err);
	free(prof);
	free(root);
}

TEST(remote_up_binds_nothing_here_and_down_forgets_it,
     "vfio-vm up --connect test:///...: the domain is defined and started by libvirt's test "
     "driver (its hostdevs managed), the VM's record kept on this host with the remote URI, "
     "no journal and no driver_override written here; down stops it there and drops the "
     "record, still without a journal")
{
	char *root = fixture_host(LOCAL), *prof, *rec, *ov, p[4200];
	struct tool_run r = { 0 };

	REQUIRE(root);
	prof = write_temp("rgame.ini", GAMING);
	REQUIRE(prof);
	vfio_vm(&r, "up", prof, root, "--connect", remote_uri(), NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "rgame is running");
	CHECK(!path_exists(root, "run/vfiokit/journal"));
	/* this machine's own 4090 sits at the same address: untouched */
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:01:00.0/driver_override", root);
	ov = read_file(p);
	CHECK(!ov || !strstr(ov, "vfio-pci"));
	free(ov);
	snprintf(p, sizeof(p), "%s/run/vfiokit/vms/rgame", root);
	rec = read_file(p);
	REQUIRE(rec);
	CHECK_CONTAINS(rec, "uri=test://");
	free(rec);
	vfio_vm(&r, "down", "rgame", root, NULL);
	CHECK_INT(r.status, 0);
	CHECK(!path_exists(root, "run/vfiokit/vms/rgame"));
	CHECK(!path_exists(root, "run/vfiokit/journal"));
	free(r.out);
	free(r.err);
	free(prof);
	free(root);
}

TEST(remote_refusals_are_one_line,
     "on a remote host: up --single-gpu (a console vfiokit cannot release there), the qemu "
     "backend, and mode = mdev (no mediated-device parents are read remotely) are each one "
     "line naming why, exit 1 or 2, with no record or journal on this host")
{
	char *root = fixture_host(LOCAL), *prof, *mdev;
	struct tool_run r = { 0 };

	REQUIRE(root);
	prof = write_temp("rgame.ini", GAMING);
	mdev = write_temp("rmdev.ini", "[vm]\nname = rmdev\n[gpu]\nmode = mdev\n");
	REQUIRE(prof && mdev);
	/* -q: the test driver has no KVM, which up warns about first */
	vfio_vm(&r, "up", prof, root, "--connect", remote_uri(), "--single-gpu", "-q", NULL);
	check_one_line(&r, 1, "--single-gpu releases the console of the host vfiokit runs on");
	vfio_vm(&r, "up", prof, root, "--connect", remote_uri(), "--backend", "qemu", NULL);
	check_one_line(&r, 2, "the qemu backend starts QEMU on this one");
	vfio_vm(&r, "plan", mdev, root, "--connect", remote_uri(), NULL);
	CHECK_INT(r.status, 1);
	CHECK(r.err && strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
	CHECK(!path_exists(root, "run/vfiokit/vms/rgame"));
	CHECK(!path_exists(root, "run/vfiokit/journal"));
	free(r.out);
	free(r.err);
	free(prof);
	free(mdev);
	free(root);
}
