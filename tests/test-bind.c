/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Binding transactions on fixture hosts, with tests/ksim.c playing the kernel. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ksim.h"
#include "vfiokit.h"

struct env {
	char *root;
	struct ksim k;
	struct vfk_ctx *ctx;
	struct vfk_host *host;
};

static bool env_open(struct env *e, const char *fixture)
{
	memset(e, 0, sizeof(*e));
	e->root = fixture_host(fixture);
	if (!e->root)
		return false;
	ksim_init(&e->k, e->root);
	if (vfk_ctx_new(e->root, &e->ctx) < 0)
		return false;
	vfk_ctx_set_write_hook(e->ctx, ksim_hook, &e->k);
	return vfk_host_scan(e->ctx, &e->host) == 0;
}

static void env_rescan(struct env *e)
{
	vfk_host_unref(e->host);
	e->host = NULL;
	vfk_host_scan(e->ctx, &e->host);
}

static void env_close(struct env *e)
{
	vfk_host_unref(e->host);
	vfk_ctx_unref(e->ctx);
	free(e->root);
}

static struct vfk_gpu *gpu_at(struct vfk_host *h, const char *addr)
{
	size_t i;

	for (i = 0; i < vfk_host_gpu_count(h); i++)
		if (!strcmp(vfk_device_get_address(vfk_gpu_get_device(vfk_host_gpu(h, i))), addr))
			return vfk_host_gpu(h, i);
	return NULL;
}

static int bind_gpu(struct env *e, const char *addr, unsigned int flags, char *err, size_t size)
{
	struct vfk_bind *b;
	struct vfk_gpu *g = gpu_at(e->host, addr);
	int r;

	if (!g)
		return -ENODEV;
	r = vfk_bind_new(e->host, "test", flags, &b);
	if (r < 0)
		return r;
	vfk_bind_set_timeout(b, 300);
	vfk_bind_add_gpu(b, g);
	r = vfk_bind_commit(b);
	if (err)
		snprintf(err, size, "%s", vfk_bind_get_error(b) ? vfk_bind_get_error(b) : "");
	vfk_bind_free(b);
	return r;
}

static const char *drv(struct env *e, const char *addr)
{
	static char buf[4][64];
	static int n;

	n = (n + 1) % 4;
	return ksim_driver(e->root, addr, buf[n], sizeof(buf[n]));
}

static const char *ovr(struct env *e, const char *addr)
{
	static char buf[64];

	return ksim_override(e->root, addr, buf, sizeof(buf));
}

static bool exists(struct env *e, const char *rel)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	return lstat(p, &st) == 0;
}

static size_t journal_entries(struct env *e)
{
	struct vfk_journal *j;
	size_t n;

	if (vfk_journal_load(e->ctx, &j) < 0)
		return (size_t)-1;
	n = vfk_journal_count(j);
	vfk_journal_free(j);
	return n;
}

static void write_file(struct env *e, const char *rel, const char *text)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void make_link(struct env *e, const char *rel, const char *target)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	unlink(p);
	if (symlink(target, p) < 0)
		test_fail_(__FILE__, __LINE__, "symlink %s failed", p);
}

static void mkdirs(struct env *e, const char *rel)
{
	char p[4096], *s;

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	for (s = p + strlen(e->root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

/* ----------------------------------------------------------------- tests */

TEST(bind_gpu_moves_every_function_to_vfio_pci, "both functions of the dGPU end on vfio-pci, "
     "the group node appears and the journal records the original drivers")
{
	struct env e;
	char err[512];

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	CHECK_INT(bind_gpu(&e, "0000:01:00.0", 0, err, sizeof(err)), 0);
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "vfio-pci");
	CHECK_STREQ(drv(&e, "0000:01:00.1"), "vfio-pci");
	CHECK_STREQ(ovr(&e, "0000:01:00.0"), "vfio-pci");
	CHECK(exists(&e, "dev/vfio/9"));
	{
		struct vfk_journal *j;
		REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
		REQUIRE(vfk_journal_count(j) == 2);
		CHECK_STREQ(vfk_journal_get(j, 0)->address, "0000:01:00.0");
		CHECK_STREQ(vfk_journal_get(j, 0)->driver, "nvidia");
		CHECK_STREQ(vfk_journal_get(j, 1)->driver, "snd_hda_intel");
		CHECK_INT(vfk_journal_get(j, 0)->state, 1);
		CHECK_STREQ(vfk_journal_get(j, 0)->owner, "test");
		vfk_journal_free(j);
	}
	/* the host's other devices are untouched */
	CHECK_STREQ(drv(&e, "0000:00:02.0"), "i915");
	CHECK_STREQ(drv(&e, "0000:00:1f.3"), "snd_hda_intel");
	env_close(&e);
}

TEST(bind_writes_in_kernel_order_after_journal, "journal first, then per device "
     "driver_override, unbind from the old driver, drivers_probe — in that order")
{
	struct env e;
	static const char *const want[] = {
		"run/vfiokit/journal <- (file)",
		"sys/bus/pci/devices/0000:01:00.0/driver_override <- vfio-pci",
		"sys/bus/pci/drivers/nvidia/unbind <- 0000:01:00.0",
		"sys/bus/pci/drivers_probe <- 0000:01:00.0",
		"sys/bus/pci/devices/0000:01:00.1/driver_override <- vfio-pci",
		"sys/bus/pci/drivers/snd_hda_intel/unbind <- 0000:01:00.1",
		"sys/bus/pci/drivers_probe <- 0000:01:00.1",
		"run/vfiokit/journal <- (file)",
	};
	size_t i;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(bind_gpu(&e, "0000:01:00.0", 0, NULL, 0) == 0);
	CHECK_INT(e.k.nlog, (sizeof(want) / sizeof(want[0])));
	for (i = 0; i < (sizeof(want) / sizeof(want[0])) && i < (size_t)e.k.nlog; i++)
		CHECK_STREQ(e.k.log[i], want[i]);
	env_close(&e);
}

TEST(failure_at_every_write_rolls_back_every_device, "a 2-device bind fails at write 1, 2, "
     "... N in turn; each time both devices end on their original drivers, overrides cleared, "
     "journal empty, no /dev/vfio node")
{
	struct env e;
	int total, n;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(bind_gpu(&e, "0000:01:00.0", 0, NULL, 0) == 0);
	total = e.k.writes;
	env_close(&e);
	REQUIRE(total >= 7);
	for (n = 1; n <= total; n++) {
		char err[512];
		int r;
		REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
		e.k.fail_at = n;
		r = bind_gpu(&e, "0000:01:00.0", 0, err, sizeof(err));
		if (r == 0)
			test_fail_(__FILE__, __LINE__, "bind succeeded although write %d failed", n);
		if (!err[0])
			test_fail_(__FILE__, __LINE__, "write %d: no error message", n);
		if (strcmp(drv(&e, "0000:01:00.0"), "nvidia") || strcmp(drv(&e, "0000:01:00.1"), "snd_hda_intel"))
			test_fail_(__FILE__, __LINE__, "write %d failed: drivers now %s/%s (%s)", n,
				   drv(&e, "0000:01:00.0"), drv(&e, "0000:01:00.1"), err);
		if (ovr(&e, "0000:01:00.0")[0] || ovr(&e, "0000:01:00.1")[0])
			test_fail_(__FILE__, __LINE__, "write %d failed: override left behind", n);
		/* the last write is the journal's final update: if the journal could not be
		 * cleaned either, restore must still find the devices' originals */
		if (journal_entries(&e) != 0 && n != total)
			test_fail_(__FILE__, __LINE__, "write %d failed: journal not empty", n);
		if (exists(&e, "dev/vfio/9"))
			test_fail_(__FILE__, __LINE__, "write %d failed: /dev/vfio/9 left", n);
		env_close(&e);
	}
}

TEST(restore_returns_devices_to_original_drivers, "restore --all after a bind puts nvidia and "
     "snd_hda_intel back, clears driver_override and empties the journal")
{
	struct env e;
	char err[256];

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(bind_gpu(&e, "0000:01:00.0", 0, NULL, 0) == 0);
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, err, sizeof(err)), 0);
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "nvidia");
	CHECK_STREQ(drv(&e, "0000:01:00.1"), "snd_hda_intel");
	CHECK_STREQ(ovr(&e, "0000:01:00.0"), "");
	CHECK_INT(journal_entries(&e), 0);
	CHECK(!exists(&e, "dev/vfio/9"));
	env_close(&e);
}

TEST(restore_waits_out_a_native_driver_that_is_briefly_busy, "when the native driver's probe "
     "says EBUSY a few times (a VFIO user that just exited still holds the BARs), restore "
     "retries the bind and both functions end on their drivers")
{
	struct env e;
	char err[256] = "";

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(bind_gpu(&e, "0000:01:00.0", 0, NULL, 0) == 0);
	e.k.busy_probes = 4;
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, err, sizeof(err)), 0);
	CHECK_STREQ(err, "");
	CHECK_INT(e.k.busy_probes, 0);
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "nvidia");
	CHECK_STREQ(drv(&e, "0000:01:00.1"), "snd_hda_intel");
	CHECK_INT(journal_entries(&e), 0);
	env_close(&e);
}

TEST(restore_of_one_address_leaves_others_held, "restore ADDR only touches that device")
{
	struct env e;
	char err[256];
	const char *one[] = { "01:00.1" };

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(bind_gpu(&e, "0000:01:00.0", 0, NULL, 0) == 0);
	CHECK_INT(vfk_restore(e.ctx, one, 1, 0, err, sizeof(err)), 0);
	CHECK_STREQ(drv(&e, "0000:01:00.1"), "snd_hda_intel");
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "vfio-pci");
	CHECK_INT(journal_entries(&e), 1);
	env_close(&e);
}

TEST(restore_of_unheld_address_is_refused, "restore of a device not in the journal is -ENOENT "
     "with a message naming it")
{
	struct env e;
	char err[256];
	const char *one[] = { "0000:00:02.0" };

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	CHECK_INT(vfk_restore(e.ctx, one, 1, 0, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "0000:00:02.0");
	env_close(&e);
}

TEST(restore_after_binder_killed_midway, "the binder is killed with SIGKILL at each write in "
     "turn; restore from the journal always brings both devices back")
{
	int n;

	for (n = 2; n <= 7; n++) {
		struct env e;
		char err[256];
		pid_t pid;
		int status;

		REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
		pid = fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			e.k.kill_at = n;
			bind_gpu(&e, "0000:01:00.0", 0, NULL, 0);
			_exit(0);
		}
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, err, sizeof(err)), 0);
		if (strcmp(drv(&e, "0000:01:00.0"), "nvidia") || strcmp(drv(&e, "0000:01:00.1"), "snd_hda_intel"))
			test_fail_(__FILE__, __LINE__, "killed at write %d: after restore drivers are %s/%s",
				   n, drv(&e, "0000:01:00.0"), drv(&e, "0000:01:00.1"));
		CHECK_INT(journal_entries(&e), 0);
		env_close(&e);
	}
}

TEST(shared_group_is_refused_naming_blockers, "binding a GPU in a shared chipset group fails "
     "with -EBUSY and the message lists the other endpoints; nothing is written")
{
	struct env e;
	struct vfk_gpu *g = NULL;
	struct vfk_bind *b;
	size_t i;

	REQUIRE(env_open(&e, "shared-chipset"));
	for (i = 0; i < vfk_host_gpu_count(e.host); i++)
		if (!vfk_gpu_is_isolated(vfk_host_gpu(e.host, i)) &&
		    vfk_gpu_blocker_count(vfk_host_gpu(e.host, i)))
			g = vfk_host_gpu(e.host, i);
	REQUIRE(g != NULL);
	REQUIRE(vfk_bind_new(e.host, "test", 0, &b) == 0);
	vfk_bind_add_gpu(b, g);
	CHECK_INT(vfk_bind_commit(b), -EBUSY);
	CHECK_CONTAINS(vfk_bind_get_error(b), vfk_device_get_address(vfk_gpu_blocker(g, 0)));
	CHECK_CONTAINS(vfk_bind_get_error(b), "--include-shared");
	CHECK_INT(e.k.writes, 0);
	vfk_bind_free(b);
	env_close(&e);
}

TEST(include_shared_takes_the_whole_group, "with VFK_BIND_INCLUDE_SHARED every endpoint of the "
     "group goes to vfio-pci, bridges stay")
{
	struct env e;
	struct vfk_gpu *g = NULL;
	struct vfk_bind *b;
	size_t i;

	REQUIRE(env_open(&e, "shared-chipset"));
	for (i = 0; i < vfk_host_gpu_count(e.host); i++)
		if (vfk_gpu_blocker_count(vfk_host_gpu(e.host, i)))
			g = vfk_host_gpu(e.host, i);
	REQUIRE(g != NULL);
	REQUIRE(vfk_bind_new(e.host, "test", VFK_BIND_INCLUDE_SHARED | VFK_BIND_FORCE, &b) == 0);
	vfk_bind_set_timeout(b, 300);
	vfk_bind_add_gpu(b, g);
	CHECK_INT(vfk_bind_commit(b), 0);
	for (i = 0; i < vfk_bind_device_count(b); i++) {
		CHECK(!vfk_device_is_bridge(vfk_bind_device(b, i)));
		CHECK_STREQ(drv(&e, vfk_device_get_address(vfk_bind_device(b, i))), "vfio-pci");
	}
	CHECK(vfk_bind_device_count(b) == vfk_gpu_function_count(g) + vfk_gpu_blocker_count(g));
	vfk_bind_free(b);
	env_close(&e);
}

TEST(root_filesystem_controller_is_guarded, "the NVMe holding / (mountinfo -> dev/block -> PCI "
     "path) is refused with -EPERM unless forced")
{
	struct env e;
	struct vfk_device *d;
	struct vfk_bind *b;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	mkdirs(&e, "proc/self");
	write_file(&e, "proc/self/mountinfo",
		   "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
		   "23 22 0:21 / /proc rw - proc proc rw\n");
	mkdirs(&e, "sys/dev/block");
	make_link(&e, "sys/dev/block/259:2",
		  "../../devices/pci0000:00/0000:00:06.0/0000:02:00.0/nvme/nvme0/nvme0n1/nvme0n1p2");
	REQUIRE(vfk_host_find_device(e.host, "0000:02:00.0", &d) == 0);
	REQUIRE(vfk_bind_new(e.host, "test", 0, &b) == 0);
	vfk_bind_add_device(b, d);
	CHECK_INT(vfk_bind_prepare(b), -EPERM);
	CHECK_CONTAINS(vfk_bind_get_error(b), "root filesystem");
	vfk_bind_free(b);
	REQUIRE(vfk_bind_new(e.host, "test", VFK_BIND_FORCE, &b) == 0);
	vfk_bind_add_device(b, d);
	CHECK_INT(vfk_bind_prepare(b), 0);
	vfk_bind_free(b);
	env_close(&e);
}

TEST(default_route_nic_is_guarded, "the NIC behind the default route's interface is refused")
{
	struct env e;
	struct vfk_device *d;
	struct vfk_bind *b;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	mkdirs(&e, "proc/net");
	write_file(&e, "proc/net/route",
		   "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
		   "enp3s0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
	mkdirs(&e, "sys/class/net/enp3s0");
	make_link(&e, "sys/class/net/enp3s0/device",
		  "../../../devices/pci0000:00/0000:00:1c.0/0000:03:00.0");
	REQUIRE(vfk_host_find_device(e.host, "0000:03:00.0", &d) == 0);
	REQUIRE(vfk_bind_new(e.host, "test", VFK_BIND_INCLUDE_SHARED, &b) == 0);
	vfk_bind_add_device(b, d);
	CHECK_INT(vfk_bind_prepare(b), -EPERM);
	CHECK_CONTAINS(vfk_bind_get_error(b), "default route (enp3s0)");
	vfk_bind_free(b);
	env_close(&e);
}

TEST(only_gpu_is_refused_without_single_gpu, "the host's only GPU is refused; --single-gpu "
     "releases consoles and the EFI framebuffer, recorded (GPU first) before each step, and "
     "restore re-attaches them in reverse order: framebuffer, then consoles")
{
	struct env e;
	char err[512];
	const char *gpu;
	int r;

	REQUIRE(env_open(&e, "single-gpu"));
	REQUIRE(vfk_host_gpu_count(e.host) >= 1);
	gpu = vfk_device_get_address(vfk_gpu_get_device(vfk_host_gpu(e.host, 0)));
	r = bind_gpu(&e, gpu, 0, err, sizeof(err));
	CHECK_INT(r, -EPERM);
	CHECK_CONTAINS(err, "only GPU");
	CHECK_INT(e.k.writes, 0);

	mkdirs(&e, "sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0");
	r = bind_gpu(&e, gpu, VFK_BIND_SINGLE_GPU, err, sizeof(err));
	CHECK_INT(r, 0);
	{
		bool released = false, efifb = false;
		int i;
		for (i = 0; i < e.k.nlog; i++) {
			if (strstr(e.k.log[i], "vtconsole/vtcon1/bind <- 0"))
				released = true;
			if (strstr(e.k.log[i], "efi-framebuffer/unbind <- efi-framebuffer.0"))
				efifb = true;
		}
		CHECK(released);
		CHECK(efifb);
	}
	CHECK_STREQ(drv(&e, gpu), "vfio-pci");
	{
		char p[4096], first[64] = "";
		FILE *f;
		snprintf(p, sizeof(p), "%s/run/vfiokit/consoles", e.root);
		f = fopen(p, "r");
		CHECK(f && fgets(first, sizeof(first), f));
		if (f)
			fclose(f);
		CHECK(!strncmp(first, "gpu ", 4) && strstr(first, gpu));
	}
	e.k.nlog = 0;
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, err, sizeof(err)), 0);
	{
		int i, vt = -1, fb = -1;
		for (i = 0; i < e.k.nlog; i++) {
			if (strstr(e.k.log[i], "vtconsole/vtcon1/bind <- 1"))
				vt = i;
			if (strstr(e.k.log[i], "efi-framebuffer/bind <- efi-framebuffer.0"))
				fb = i;
		}
		CHECK(vt >= 0 && fb >= 0 && fb < vt);
	}
	env_close(&e);
}

TEST(boot_vga_with_console_is_refused, "the iGPU that drives the console is refused unless "
     "--single-gpu or --force")
{
	struct env e;
	char err[512];

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	CHECK_INT(bind_gpu(&e, "0000:00:02.0", 0, err, sizeof(err)), -EPERM);
	CHECK_CONTAINS(err, "boot VGA");
	CHECK_INT(e.k.writes, 0);
	env_close(&e);
}

TEST(device_with_mdevs_is_refused, "a parent with a mediated device instance is refused "
     "naming the mdev UUID")
{
	struct env e;
	char err[512];

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	/* as the kernel has it: a registered parent and one instance below it */
	mkdirs(&e, "sys/bus/pci/devices/0000:01:00.0/mdev_supported_types/nvidia-1");
	mkdirs(&e, "sys/bus/pci/devices/0000:01:00.0/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	env_rescan(&e);
	CHECK_INT(bind_gpu(&e, "0000:01:00.0", 0, err, sizeof(err)), -EEXIST);
	CHECK_CONTAINS(err, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	env_close(&e);
}

TEST(already_held_device_is_refused, "binding a device already in the journal is -EALREADY")
{
	struct env e;
	char err[512];

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(bind_gpu(&e, "0000:01:00.0", 0, NULL, 0) == 0);
	env_rescan(&e);
	CHECK_INT(bind_gpu(&e, "0000:01:00.0", 0, err, sizeof(err)), -EALREADY);
	CHECK_CONTAINS(err, "already held");
	env_close(&e);
}

TEST(dry_run_writes_nothing, "VFK_BIND_DRY_RUN reports the writes through progress and leaves "
     "drivers, overrides and the state directory as they were")
{
	struct env e;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	CHECK_INT(bind_gpu(&e, "0000:01:00.0", VFK_BIND_DRY_RUN, NULL, 0), 0);
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "nvidia");
	CHECK_STREQ(ovr(&e, "0000:01:00.0"), "");
	CHECK(!exists(&e, "run/vfiokit/journal"));
	CHECK_INT(e.k.writes, 0);	/* the kernel stand-in saw nothing */
	env_close(&e);
}

TEST(concurrent_binder_fails_clearly_on_lock, "while another process holds the lock, bind "
     "waits its timeout and fails naming the holder")
{
	struct env e;
	char p[4096], err[512];
	int fd;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	mkdirs(&e, "run/vfiokit");
	snprintf(p, sizeof(p), "%s/run/vfiokit/lock", e.root);
	fd = open(p, O_RDWR | O_CREAT, 0600);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "4242\n", 5) == 5);
	REQUIRE(flock(fd, LOCK_EX) == 0);
	if (fork() == 0) {	/* the lock is per open file: test from another process */
		int r = bind_gpu(&e, "0000:01:00.0", 0, err, sizeof(err));
		_exit(r == -EWOULDBLOCK && strstr(err, "4242") && !strcmp(drv(&e, "0000:01:00.0"), "nvidia") ? 0 : 1);
	}
	{
		int status;
		wait(&status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(fd);
	env_close(&e);
}

TEST(unbind_timeout_rolls_back_and_names_step, "an unbind that never finishes times out, the "
     "error names the device and step, and the override is cleared again")
{
	struct env e;
	char err[512];

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	e.k.hang_unbind = 1;
	CHECK_INT(bind_gpu(&e, "0000:01:00.0", 0, err, sizeof(err)), -ETIMEDOUT);
	CHECK_CONTAINS(err, "unbinding from nvidia");
	CHECK_STREQ(ovr(&e, "0000:01:00.0"), "");
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "nvidia");
	env_close(&e);
}

TEST(persist_roundtrip_and_udev_hook, "persist writes etc/vfiokit/vfio-bind.conf, contains() "
     "finds the device, unpersist removes it")
{
	struct env e;
	struct vfk_device *d;
	char **list;
	size_t n;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(vfk_host_find_device(e.host, "01:00.0", &d) == 0);
	CHECK_INT(vfk_persist_add(e.host, d), 0);
	CHECK_INT(vfk_persist_contains(e.ctx, "0000:01:00.0"), 1);
	CHECK_INT(vfk_persist_contains(e.ctx, "0000:01:00.1"), 0);
	CHECK(exists(&e, "etc/vfiokit/vfio-bind.conf"));
	REQUIRE(vfk_persist_list(e.ctx, &list, &n) == 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_STREQ(list[0], "0000:01:00.0");
	while (n--)
		free(list[n]);
	free(list);
	CHECK_INT(vfk_persist_remove(e.ctx, "01:00.0"), 0);
	CHECK_INT(vfk_persist_contains(e.ctx, "0000:01:00.0"), 0);
	CHECK_INT(vfk_persist_remove(e.ctx, "01:00.0"), -ENOENT);
	env_close(&e);
}

TEST(malformed_journal_is_an_error_not_a_guess, "a corrupt journal line makes load fail with "
     "-EINVAL instead of restoring wrong drivers")
{
	struct env e;
	struct vfk_journal *j;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	mkdirs(&e, "run/vfiokit");
	write_file(&e, "run/vfiokit/journal", "0000:01:00.0 state=bound driver=../../evil\n");
	vfk_ctx_set_log_priority(e.ctx, 0);
	CHECK_INT(vfk_journal_load(e.ctx, &j), -EINVAL);
	env_close(&e);
}

/* ------------------------------------------------------- large groups */

/*
 * Hosts with IOMMU groups of thousands of endpoints, written straight into a
 * tree (mkhost.py would take seconds for 8,000 devices), on tmpfs when there
 * is one: a disk makes creating and removing 50,000 files the slow part.
 * Each group sits in a PCI domain of its own behind a root port and a switch
 * without ACS, so the bridges are members too as on a real host: 32
 * downstream ports, each a bus of 32 slots x 8 functions. The first slot is a
 * GPU and its audio function, the others NICs; an iGPU in a group of its own
 * keeps that GPU from being the host's only one. Per device what a scan and a
 * bind read: uevent (class, ids), the driver and iommu_group links and the
 * bus/pci/devices link (bench/mksynth.py --one-group makes the full shape,
 * config space and all, for make bench).
 */
struct big_host {
	char root[PATH_MAX];
	struct vfk_ctx *ctx;
	struct vfk_host *host;
};

static bool big_mkdir(const struct big_host *h, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", h->root, rel);
	return mkdir(p, 0755) == 0 || errno == EEXIST;
}

/* Device @addr below sys/devices/@parent, in IOMMU group @group. */
static bool big_dev(const struct big_host *h, const char *parent, const char *addr,
		    unsigned int cls, const char *id, const char *driver, int group)
{
	char dir[PATH_MAX], p[PATH_MAX], up[128] = "../../", text[256];
	const char *s;
	FILE *f;

	/* from inside sys/devices/PARENT/ADDR back up to sys */
	for (s = parent; s; s = strchr(s + 1, '/'))
		strcat(up, "../");
	snprintf(dir, sizeof(dir), "%s/sys/devices/%s/%s", h->root, parent, addr);
	if (mkdir(dir, 0755) < 0)
		return false;
	snprintf(p, sizeof(p), "%s/uevent", dir);
	f = fopen(p, "w");
	if (!f)
		return false;
	fprintf(f, "DRIVER=%s\nPCI_CLASS=%X\nPCI_ID=%s\nPCI_SLOT_NAME=%s\n", driver, cls, id, addr);
	fclose(f);
	snprintf(p, sizeof(p), "%s/driver", dir);
	snprintf(text, sizeof(text), "%sbus/pci/drivers/%s", up, driver);
	if (symlink(text, p) < 0)
		return false;
	snprintf(p, sizeof(p), "%s/iommu_group", dir);
	snprintf(text, sizeof(text), "%skernel/iommu_groups/%d", up, group);
	if (symlink(text, p) < 0)
		return false;
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s", h->root, addr);
	snprintf(text, sizeof(text), "../../../devices/%s/%s", parent, addr);
	return symlink(text, p) == 0;
}

/* Group @group of @n endpoints in domain @dom. */
static bool big_group(const struct big_host *h, unsigned int dom, int group, size_t n)
{
	char top[16], rp[16], us[16], ds[16], ep[16], rel[128], parent[96];
	unsigned int port, slot, fn;
	size_t done = 0;

	snprintf(top, sizeof(top), "pci%04x:00", dom);
	snprintf(rel, sizeof(rel), "sys/devices/%s", top);
	big_mkdir(h, rel);
	snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d", group);
	big_mkdir(h, rel);
	snprintf(rp, sizeof(rp), "%04x:00:01.0", dom);
	snprintf(us, sizeof(us), "%04x:01:00.0", dom);
	if (!big_dev(h, top, rp, 0x060400, "8086:7AB8", "pcieport", group))
		return false;
	snprintf(parent, sizeof(parent), "%s/%s", top, rp);
	if (!big_dev(h, parent, us, 0x060400, "10B5:8747", "pcieport", group))
		return false;
	for (port = 0; port < 32 && done < n; port++) {
		snprintf(ds, sizeof(ds), "%04x:02:%02x.0", dom, port);
		snprintf(parent, sizeof(parent), "%s/%s/%s", top, rp, us);
		if (!big_dev(h, parent, ds, 0x060400, "10B5:8747", "pcieport", group))
			return false;
		snprintf(parent, sizeof(parent), "%s/%s/%s/%s", top, rp, us, ds);
		for (slot = 0; slot < 32 && done < n; slot++)
			for (fn = 0; fn < 8 && done < n; fn++, done++) {
				bool gpu = port == 0 && slot == 0, ok;
				if (gpu && fn > 1)
					break;
				snprintf(ep, sizeof(ep), "%04x:%02x:%02x.%u", dom, 3 + port, slot, fn);
				if (gpu)
					ok = big_dev(h, parent, ep, fn ? 0x040300 : 0x030000,
						     fn ? "10DE:22BA" : "10DE:2684",
						     fn ? "snd_hda_intel" : "nvidia", group);
				else
					ok = big_dev(h, parent, ep, 0x020000, "8086:1521", "igb", group);
				if (!ok)
					return false;
			}
	}
	return done == n;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void big_host_close(struct big_host *h)
{
	vfk_host_unref(h->host);
	vfk_ctx_unref(h->ctx);
	if (h->root[0])
		nftw(h->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A host whose groups 1000, 1001, ... hold sizes[0], sizes[1], ... endpoints. */
static bool big_host_open(struct big_host *h, const size_t *sizes, size_t ngroups)
{
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	static const char *const dirs[] = { "sys", "sys/devices", "sys/devices/pci0000:00",
		"sys/bus", "sys/bus/pci", "sys/bus/pci/devices", "sys/bus/pci/drivers",
		"sys/bus/pci/drivers/igb", "sys/bus/pci/drivers/nvidia", "sys/bus/pci/drivers/i915",
		"sys/bus/pci/drivers/snd_hda_intel", "sys/bus/pci/drivers/pcieport", "sys/kernel",
		"sys/kernel/iommu_groups", "sys/kernel/iommu_groups/0" };
	size_t i;

	memset(h, 0, sizeof(*h));
	snprintf(h->root, sizeof(h->root), "%s/vfk-big-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(h->root)) {
		h->root[0] = '\0';
		return false;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (!big_mkdir(h, dirs[i]))
			return false;
	if (!big_dev(h, "pci0000:00", "0000:00:02.0", 0x030000, "8086:4680", "i915", 0))
		return false;
	for (i = 0; i < ngroups; i++)
		if (!big_group(h, (unsigned int)i + 1, 1000 + (int)i, sizes[i]))
			return false;
	return vfk_ctx_new(h->root, &h->ctx) == 0 && vfk_host_scan(h->ctx, &h->host) == 0;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The best of @rounds dry runs of binding group @id (prepare and commit), in
 * CPU seconds: what else the machine runs counts least there. */
static double dry_bind_seconds(struct big_host *h, int id, int rounds, size_t *count)
{
	double best = 1e9;

	*count = 0;
	while (rounds-- > 0) {
		struct vfk_group *g;
		struct vfk_bind *b;
		double t0, t;
		if (vfk_host_find_group(h->host, id, &g) < 0 ||
		    vfk_bind_new(h->host, "test", VFK_BIND_DRY_RUN, &b) < 0)
			return -1;
		t0 = cpu_seconds();
		if (vfk_bind_add_group(b, g) < 0 || vfk_bind_commit(b) < 0) {
			test_fail_(__FILE__, __LINE__, "group %d: %s", id,
				   vfk_bind_get_error(b) ? vfk_bind_get_error(b) : "failed");
			vfk_bind_free(b);
			return -1;
		}
		t = cpu_seconds() - t0;
		if (t < best)
			best = t;
		*count = vfk_bind_device_count(b);
		vfk_bind_free(b);
	}
	return best;
}

TEST(bind_time_is_linear_in_group_size, "a dry-run bind of a group of 8,000 endpoints costs "
     "less than 8x one of 2,000 (linear: 4x, quadratic: 16x) and under 4 s")
{
	static const size_t sizes[] = { 2000, 8000 };
	struct big_host h;
	double small, big;
	size_t ns, nb;

	if (!big_host_open(&h, sizes, 2)) {
		test_fail_(__FILE__, __LINE__, "cannot build the host in %s", h.root);
		big_host_close(&h);
		return;
	}
	small = dry_bind_seconds(&h, 1000, 3, &ns);
	CHECK_INT(ns, 2000);
	/* super-linear, the small group takes seconds already: spare the big one */
	if (small >= 0 && small < 2.0) {
		big = dry_bind_seconds(&h, 1001, 2, &nb);
		CHECK_INT(nb, 8000);
		if (big < 0 || big >= 8 * small || big >= 4.0)
			test_fail_(__FILE__, __LINE__, "2,000 endpoints: %.3f s, 8,000: %.3f s (%.1fx)",
				   small, big, small > 0 ? big / small : 0);
	} else {
		test_fail_(__FILE__, __LINE__, "2,000 endpoints: %.3f s", small);
	}
	big_host_close(&h);
}

struct seen {
	char (*addr)[16];
	size_t n, cap;
};

static void collect_override_writes(void *data, const char *msg)
{
	struct seen *s = data;
	const char *p = strstr(msg, "/devices/"), *end;

	if (!p || !strstr(msg, "/driver_override <- vfio-pci"))
		return;
	p += strlen("/devices/");
	end = strchr(p, '/');
	if (!end || end - p >= 16 || s->n == s->cap)
		return;
	memcpy(s->addr[s->n], p, (size_t)(end - p));
	s->addr[s->n++][end - p] = '\0';
}

static int cmp_addr(const void *a, const void *b)
{
	return strcmp(a, b);
}

TEST(large_group_dry_run_names_every_endpoint_once, "a dry-run bind of a group of 4,000 "
     "endpoints behind a switch writes vfio-pci into each endpoint's driver_override exactly "
     "once, into no bridge's, and writes nothing")
{
	static const size_t sizes[] = { 4000 };
	struct big_host h;
	struct vfk_group *g;
	struct vfk_bind *b = NULL;
	struct seen s = { NULL, 0, 8192 };
	size_t i, bad = 0, bridges = 0;
	char p[PATH_MAX];

	if (!big_host_open(&h, sizes, 1) || vfk_host_find_group(h.host, 1000, &g) < 0) {
		test_fail_(__FILE__, __LINE__, "cannot build the host in %s", h.root);
		big_host_close(&h);
		return;
	}
	for (i = 0; i < vfk_group_device_count(g); i++)
		bridges += vfk_device_is_bridge(vfk_group_device(g, i));
	CHECK(bridges > 2);	/* root port, upstream and downstream ports */
	CHECK_INT(vfk_group_device_count(g) - bridges, 4000);
	s.addr = calloc(s.cap, sizeof(*s.addr));
	if (s.addr && vfk_bind_new(h.host, "test", VFK_BIND_DRY_RUN, &b) == 0) {
		vfk_ctx_set_progress_fn(h.ctx, collect_override_writes, &s);
		CHECK_INT(vfk_bind_add_group(b, g), 0);
		CHECK_INT(vfk_bind_commit(b), 0);
		CHECK_INT(vfk_bind_device_count(b), 4000);
		vfk_ctx_set_progress_fn(h.ctx, NULL, NULL);
	}
	CHECK_INT(s.n, 4000);
	qsort(s.addr, s.n, sizeof(*s.addr), cmp_addr);
	for (i = 0; i < s.n; i++) {
		struct vfk_device *d;
		if ((i > 0 && !strcmp(s.addr[i], s.addr[i - 1])) ||
		    vfk_host_find_device(h.host, s.addr[i], &d) < 0 || vfk_device_is_bridge(d) ||
		    vfk_device_get_iommu_group(d) != 1000)
			bad++;
	}
	CHECK_INT(bad, 0);
	snprintf(p, sizeof(p), "%s/run", h.root);
	CHECK(access(p, F_OK) != 0);	/* no journal, no state directory */
	vfk_bind_free(b);
	free(s.addr);
	big_host_close(&h);
}

/* The next line of @*p (cut in place), or NULL at the end. */
static char *next_line(char **p)
{
	char *line = *p, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = line + strlen(line);
	}
	return line;
}

TEST(vfio_bind_dry_run_prints_every_step_once_in_order, "vfio-bind -n bind --group on a group "
     "of 1,000 endpoints, stdout a pipe (stdio buffers a dry run's lines): per endpoint its "
     "step and then its three writes in kernel order, each endpoint once, the summary last "
     "and nothing lost at exit")
{
	static const size_t sizes[] = { 1000 };
	struct big_host h;
	char *out = NULL, *err = NULL, *p, *line, want[3][PATH_MAX];
	char (*seen)[16] = calloc(2000, sizeof(*seen));
	const char *last = NULL;
	size_t n = 0, i, dups = 0;
	int st;

	REQUIRE(seen != NULL);
	if (!big_host_open(&h, sizes, 1)) {
		test_fail_(__FILE__, __LINE__, "cannot build the host in %s", h.root);
		big_host_close(&h);
		free(seen);
		return;
	}
	{
		const char *const argv[] = { "vfio-bind", "--sysroot", h.root, "-n", "bind", "--group",
					     "1000", NULL };
		st = run_tool(&out, &err, argv);
	}
	CHECK_INT(st, 0);
	for (p = out; (line = next_line(&p)); last = line) {
		char addr[16], drv[64];
		size_t k;
		if (sscanf(line, ":: binding %15s (%63[^)]) to vfio-pci", addr, drv) != 2)
			continue;
		snprintf(want[0], sizeof(want[0]), "%s/sys/bus/pci/devices/%s/driver_override <- vfio-pci",
			 h.root, addr);
		snprintf(want[1], sizeof(want[1]), "%s/sys/bus/pci/drivers/%s/unbind <- %s", h.root,
			 drv, addr);
		snprintf(want[2], sizeof(want[2]), "%s/sys/bus/pci/drivers_probe <- %s", h.root, addr);
		for (k = 0; k < 3; k++) {
			line = next_line(&p);
			if (!line || strcmp(line, want[k])) {
				test_fail_(__FILE__, __LINE__, "after the step for %s: \"%s\", expected \"%s\"",
					   addr, line ? line : "(end)", want[k]);
				break;
			}
		}
		if (n < 2000)
			snprintf(seen[n], sizeof(seen[n]), "%s", addr);
		n++;
	}
	CHECK_INT(n, 1000);
	CHECK_STREQ(last, ":: 1000 devices on vfio-pci");
	qsort(seen, n < 2000 ? n : 2000, sizeof(*seen), cmp_addr);
	for (i = 1; i < n && i < 2000; i++)
		dups += !strcmp(seen[i], seen[i - 1]);
	CHECK_INT(dups, 0);
	if (err && *err)
		test_fail_(__FILE__, __LINE__, "stderr:\n%s", err);
	free(out);
	free(err);
	free(seen);
	big_host_close(&h);
}

static void count_restores(void *data, const char *msg)
{
	if (!strncmp(msg, "restoring ", 10))
		(*(size_t *)data)++;
}

TEST(journal_of_20k_devices_loads_and_restores_whole, "a journal of 20,000 devices (1.6 MB, "
     "past any fixed read buffer) loads every entry, and restoring them by owner (dry run) "
     "visits each once in linear time")
{
	struct env e;
	struct vfk_journal *j = NULL;
	char p[4096], errbuf[512];
	size_t i, restored = 0;
	struct stat st;
	double t0;
	FILE *f;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	mkdirs(&e, "run/vfiokit");
	snprintf(p, sizeof(p), "%s/run/vfiokit/journal", e.root);
	f = fopen(p, "w");
	REQUIRE(f != NULL);
	fputs("# vfiokit journal v1\n", f);
	for (i = 0; i < 20000; i++)
		fprintf(f, "0003:%02zx:%02zx.%zu state=bound driver=igb override= owner=big "
			"since=1732590000\n", i / 256, i / 8 % 32, i % 8);
	fclose(f);
	REQUIRE(stat(p, &st) == 0 && st.st_size > (1 << 20));
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 20000);
	CHECK_STREQ(vfk_journal_get(j, 19999)->address, "0003:4e:03.7");
	vfk_journal_free(j);
	vfk_ctx_set_progress_fn(e.ctx, count_restores, &restored);
	t0 = cpu_seconds();
	CHECK_INT(vfk_restore_owner(e.ctx, "big", VFK_BIND_DRY_RUN, errbuf, sizeof(errbuf)), 0);
	/* a scan of the 20,000 addresses per entry takes minutes */
	if (cpu_seconds() - t0 > 3.0)
		test_fail_(__FILE__, __LINE__, "restore took %.1f s", cpu_seconds() - t0);
	CHECK_INT(restored, 20000);
	vfk_ctx_set_progress_fn(e.ctx, NULL, NULL);
	env_close(&e);
}

/* A VM record as vfio-vm up writes it, for the VM "test" that bind_gpu()'s
 * devices belong to. */
static bool write_record_at(struct env *e, const char *backend, const char *uri, int pid)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/run/vfiokit/vms", e->root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/run/vfiokit/vms/test", e->root);
	f = fopen(p, "w");
	if (!f)
		return false;
	fprintf(f, "# vfiokit VM record v1\nbackend=%s\nuri=%s\npid=%d\nswtpm=0\n"
		"defined=1\nmdev=\nsince=1\nwatcher=0\narmed=\n", backend, uri, pid);
	return fclose(f) == 0;
}

static bool write_record(struct env *e, const char *backend)
{
	return write_record_at(e, backend, "qemu:///system", 0);
}

/* This test process, as the fixture's /proc shows it: a program named @comm. */
static int fake_process(struct env *e, const char *comm)
{
	char rel[64], text[128];
	int pid = (int)getpid();

	snprintf(rel, sizeof(rel), "proc/%d", pid);
	mkdirs(e, rel);
	snprintf(rel, sizeof(rel), "proc/%d/comm", pid);
	snprintf(text, sizeof(text), "%s\n", comm);
	write_file(e, rel, text);
	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	snprintf(text, sizeof(text), "%d (%s) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n", pid, comm);
	write_file(e, rel, text);
	return pid;
}

TEST(vm_release_restores_what_vfiokit_started_on_libvirt_only, "libvirt's release hook "
     "(vfk_vm_release): for a VM vfiokit started on libvirt its devices go back and its record "
     "goes; another domain's name or a VM of the qemu backend changes nothing")
{
	struct env e;
	char err[256] = "";

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(bind_gpu(&e, "0000:01:00.0", 0, NULL, 0) == 0);
	REQUIRE(write_record(&e, "qemu"));
	CHECK_INT(vfk_vm_release(e.ctx, "test", err, sizeof(err)), 0);
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "vfio-pci");	/* its watcher's job, not the hook's */
	REQUIRE(write_record(&e, "libvirt"));
	CHECK_INT(vfk_vm_release(e.ctx, "some-other-domain", err, sizeof(err)), 0);
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "vfio-pci");
	CHECK_INT(vfk_vm_release(e.ctx, "../test", err, sizeof(err)), -EINVAL);
	CHECK_INT(vfk_vm_release(e.ctx, "test", err, sizeof(err)), 0);
	CHECK_STREQ(err, "");
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "nvidia");
	CHECK_STREQ(drv(&e, "0000:01:00.1"), "snd_hda_intel");
	CHECK_INT(journal_entries(&e), 0);
	CHECK(!exists(&e, "run/vfiokit/vms/test"));
	/* the hook runs again for the same domain: nothing left to do */
	CHECK_INT(vfk_vm_release(e.ctx, "test", err, sizeof(err)), 0);
	env_close(&e);
}

TEST(vm_release_stale_restores_gone_vms_and_leaves_running_ones, "at boot (vfio-vm release "
     "--stale): a VM whose QEMU runs, or whose libvirt QEMU runs, or that runs on a remote "
     "libvirt keeps its devices; once its process id names another program (reused after a "
     "soft-reboot) or libvirt's pid file is gone, its devices go back and its record goes")
{
	struct env e;
	char err[256] = "";
	int pid;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(bind_gpu(&e, "0000:01:00.0", 0, NULL, 0) == 0);
	pid = fake_process(&e, "qemu-system-x86");
	REQUIRE(write_record_at(&e, "qemu", "", pid));
	CHECK_INT(vfk_vm_release_stale(e.ctx, err, sizeof(err)), 0);
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "vfio-pci");
	CHECK(exists(&e, "run/vfiokit/vms/test"));
	fake_process(&e, "bash");	/* the id now names another program */
	CHECK_INT(vfk_vm_release_stale(e.ctx, err, sizeof(err)), 1);
	CHECK_STREQ(err, "");
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "nvidia");
	CHECK_STREQ(drv(&e, "0000:01:00.1"), "snd_hda_intel");
	CHECK(!exists(&e, "run/vfiokit/vms/test"));

	REQUIRE(bind_gpu(&e, "0000:01:00.0", 0, NULL, 0) == 0);
	REQUIRE(write_record_at(&e, "libvirt", "qemu+ssh://other/system", 0));
	CHECK_INT(vfk_vm_release_stale(e.ctx, err, sizeof(err)), 0);
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "vfio-pci");
	REQUIRE(write_record_at(&e, "libvirt", "qemu:///system", 0));
	fake_process(&e, "qemu-system-x86");
	mkdirs(&e, "run/libvirt/qemu");
	snprintf(err, sizeof(err), "%d\n", pid);
	write_file(&e, "run/libvirt/qemu/test.pid", err);
	CHECK_INT(vfk_vm_release_stale(e.ctx, err, sizeof(err)), 0);
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "vfio-pci");
	write_file(&e, "run/libvirt/qemu/test.pid", "");
	CHECK_INT(vfk_vm_release_stale(e.ctx, err, sizeof(err)), 1);
	CHECK_STREQ(drv(&e, "0000:01:00.0"), "nvidia");
	CHECK_INT(journal_entries(&e), 0);
	CHECK(!exists(&e, "run/vfiokit/vms/test"));
	CHECK_INT(vfk_vm_release_stale(e.ctx, err, sizeof(err)), 0);	/* nothing left */
	env_close(&e);
}
