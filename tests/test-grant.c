// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Passthrough with root only for the host step (issue 23, point 2): root
 * binds with vfio-bind --for-user NAME, which gives each group's node to NAME
 * in the same journalled transaction and puts it back exactly at restore;
 * NAME's own vfio-vm then plans the VM with those devices, binding nothing,
 * and anyone else is refused in one line. With --via-fds the grant is by
 * descriptor instead (the iommufd way): journalled, no node changes, and
 * root's descriptor service later hands the user's VM /dev/iommu and the
 * cdevs; a kernel that cannot hand them out is refused before anything.
 *
 * The library runs on fixture trees with tests/ksim.c as the kernel (the
 * group node is a plain file it makes and removes); vfio-vm runs as nobody
 * (as_user(), harness.c) in user mode.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "kenv.h"
#include "vmtest.h"

#define GPU "0000:01:00.0"
#define HDA "0000:01:00.1"
#define NODE "dev/vfio/9"	/* the dGPU's group on desktop-dgpu-igpu */
#define NOBODY_UID 65534u
#define PASSWD "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n" \
	       "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
#define PASSTHROUGH_VM "[vm]\nname = rl-gpu\nemulator = /bin/false\nmemory = 1G\n[gpu]\n" \
		       "mode = passthrough\ndevice = " GPU "\n[display]\ntype = none\n"

static bool open_host(struct kenv *e)
{
	if (!kenv_open(e, "desktop-dgpu-igpu"))
		return false;
	kenv_put(e, "etc/passwd", PASSWD);
	return vfk_host_scan(e->ctx, &e->host) == 0;
}

/* The same host, its kernel as an iommufd one shows itself: /dev/iommu
 * when @iommu, and boot/config-RELEASE saying @config when not NULL (nothing
 * is on a VFIO driver and the vfio module is not loaded, so the
 * configuration is what answers). The fixture's 6.1 kernel predates cdevs:
 * only what the tree says counts here. */
static bool open_fds_host(struct kenv *e, bool iommu, const char *config)
{
	char rel[192], *release;

	if (!kenv_open(e, "desktop-dgpu-igpu"))
		return false;
	kenv_put(e, "etc/passwd", PASSWD);
	if (iommu && !put_file(e->root, "dev/iommu", ""))
		return false;
	if (config) {
		release = kenv_slurp(e, "proc/sys/kernel/osrelease");
		if (!release)
			return false;
		release[strcspn(release, "\n")] = '\0';
		snprintf(rel, sizeof(rel), "boot/config-%s", release);
		free(release);
		if (!put_file(e->root, rel, config))
			return false;
	}
	return vfk_host_scan(e->ctx, &e->host) == 0;
}

#define CDEV_CONFIG "CONFIG_IOMMUFD=m\nCONFIG_VFIO_DEVICE_CDEV=y\n"
#define NO_CDEV_CONFIG "CONFIG_IOMMUFD=m\n# CONFIG_VFIO_DEVICE_CDEV is not set\n"

static int bind_for_flags(struct kenv *e, const char *user, unsigned int flags);

/* Bind the dGPU (both functions) for @user; the library's result. */
static int bind_for(struct kenv *e, const char *user)
{
	return bind_for_flags(e, user, 0);
}

/* Does any write the kernel saw change a node's owner? */
static bool owner_written(const struct kenv *e)
{
	for (int i = 0; i < e->k.nlog; i++)
		if (strstr(e->k.log[i], " <- owner "))
			return true;
	return false;
}

/* bind_for with VFK_BIND_* @flags; a NULL @user sets none. */
static int bind_for_flags(struct kenv *e, const char *user, unsigned int flags)
{
	struct vfk_user u;
	struct vfk_bind *b;
	struct vfk_gpu *g = NULL;
	size_t i;
	int r;

	for (i = 0; i < vfk_host_gpu_count(e->host); i++)
		if (!strcmp(vfk_device_get_address(vfk_gpu_get_device(vfk_host_gpu(e->host, i))), GPU))
			g = vfk_host_gpu(e->host, i);
	if (!g || (user && vfk_user_lookup(e->ctx, user, &u) < 0) ||
	    vfk_bind_new(e->host, "test", flags, &b) < 0)
		return -EINVAL;
	vfk_bind_set_timeout(b, 300);
	if (user)
		vfk_bind_set_user(b, &u);
	r = vfk_bind_add_gpu(b, g);
	if (r == 0)
		r = vfk_bind_commit(b);
	snprintf(e->err, sizeof(e->err), "%s", vfk_bind_get_error(b) ? vfk_bind_get_error(b) : "");
	vfk_bind_free(b);
	return r;
}

static bool node_is(const struct kenv *e, unsigned int uid, unsigned int gid, unsigned int mode)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s/" NODE, e->root);
	if (lstat(p, &st) < 0)
		return false;
	if (st.st_uid != uid || st.st_gid != gid || (st.st_mode & 07777) != mode) {
		test_fail_(__FILE__, __LINE__, "%s is %u:%u %04o, want %u:%u %04o", NODE,
			   (unsigned int)st.st_uid, (unsigned int)st.st_gid,
			   (unsigned int)st.st_mode & 07777, uid, gid, mode);
		return false;
	}
	return true;
}

/* Nodes made 0640 for group 5, as some distribution's udev rule would. */
static void node_before(struct kenv *e)
{
	e->k.node_gid = 5;
	e->k.node_mode = 0640;
}

/* ksim, then a symlink where the group's node should be, once the last
 * function is on vfio-pci: planted between the bind and the grant */
static int plant_hook(void *data, const char *path, const char *value)
{
	struct kenv *e = data;
	char p[4096];
	int r = ksim_hook(&e->k, path, value);

	if (strstr(path, "drivers_probe") && !strcmp(value, HDA)) {
		snprintf(p, sizeof(p), "%s/" NODE, e->root);
		unlink(p);
		if (symlink("../../etc/passwd", p) < 0)
			test_fail_(__FILE__, __LINE__, "symlink %s: %s", p, strerror(errno));
	}
	return r;
}

/* Run a tool into @r (what it held before freed). */
static void run_bind(struct tool_run *r, const char *const argv[])
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->status = run_tool(&r->out, &r->err, argv);
}

/* ------------------------------------------------------------ the library */

TEST(grant_bind_gives_group_node_to_user_restore_puts_it_back, "bind --for-user alice: both "
     "functions on vfio-pci, /dev/vfio/9 alice's with mode 0600 (group kept), the journal says "
     "user=1000:1000 node=9:0:5:0640 on each entry; restoring one function puts the node back "
     "to 0:5 0640 exactly while the other still holds the group; restoring the rest removes it")
{
	struct kenv e;
	struct vfk_journal *j;
	char *text;

	REQUIRE(open_host(&e));
	node_before(&e);
	CHECK_INT(bind_for(&e, "alice"), 0);
	CHECK(node_is(&e, 1000, 5, 0600));
	CHECK(kenv_log_index(&e, NODE " <- owner 1000:5 mode 0600") >= 0);
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	REQUIRE(vfk_journal_count(j) == 2);
	for (size_t i = 0; i < 2; i++) {
		const struct vfk_journal_entry *je = vfk_journal_get(j, i);
		CHECK(je->granted);
		CHECK_INT(je->grant_uid, 1000);
		CHECK_INT(je->group, 9);
		CHECK_INT(je->node_gid, 5);
		CHECK_INT(je->node_mode, 0640);
	}
	vfk_journal_free(j);
	text = kenv_slurp(&e, "run/vfiokit/journal");
	CHECK_CONTAINS(text, " user=1000:1000 node=9:0:5:0640\n");
	free(text);
	CHECK_CONTAINS(e.progress, "group 9's node given to alice (uid 1000), mode 0600");

	{
		const char *one[] = { HDA };
		CHECK_INT(vfk_restore(e.ctx, one, 1, 0, e.err, sizeof(e.err)), 0);
	}
	CHECK(node_is(&e, 0, 5, 0640));
	CHECK_CONTAINS(e.progress, "group 9's node back to uid 0, gid 5, mode 0640");
	/* the function still held keeps its entry, no longer granted */
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	REQUIRE(vfk_journal_count(j) == 1);
	CHECK(!vfk_journal_get(j, 0)->granted);
	vfk_journal_free(j);
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)), 0);
	CHECK(!kenv_exists(&e, NODE));
	kenv_close(&e);
}

TEST(grant_failure_rolls_back_devices_and_node, "when the node's change fails (EIO from the "
     "kernel) the bind fails in one line naming the user, both functions go back to nvidia and "
     "snd_hda_intel, the journal is empty and no node is left")
{
	struct kenv e;
	int total;

	REQUIRE(open_host(&e));
	REQUIRE(bind_for(&e, "alice") == 0);
	total = kenv_log_index(&e, NODE " <- owner 1000:0 mode 0600") + 1;
	kenv_close(&e);
	REQUIRE(total > 0);
	REQUIRE(open_host(&e));
	e.k.fail_at = total;
	CHECK(bind_for(&e, "alice") < 0);
	CHECK_CONTAINS(e.err, "cannot give the group to alice");
	CHECK_STREQ(ksim_driver(e.root, GPU, (char[64]){ 0 }, 64), "nvidia");
	CHECK_STREQ(ksim_driver(e.root, HDA, (char[64]){ 0 }, 64), "snd_hda_intel");
	CHECK(!kenv_exists(&e, NODE));
	{
		struct vfk_journal *j;
		REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
		CHECK_INT(vfk_journal_count(j), 0);
		vfk_journal_free(j);
	}
	kenv_close(&e);
}

TEST(grant_refuses_a_node_that_is_a_symlink, "a /dev/vfio/9 that is a symlink (to the tree's "
     "etc/passwd) is refused: the bind fails saying the node was moved, is rolled back, and the "
     "symlink's target keeps its owner and mode")
{
	struct kenv e;
	char t[4096];
	struct stat before, after;

	REQUIRE(open_host(&e));
	vfk_ctx_set_write_hook(e.ctx, plant_hook, &e);
	snprintf(t, sizeof(t), "%s/etc/passwd", e.root);
	REQUIRE(stat(t, &before) == 0);
	CHECK(bind_for(&e, "alice") < 0);
	CHECK_CONTAINS(e.err, "a symlink, not the group's node: it was moved");
	REQUIRE(stat(t, &after) == 0);
	CHECK_INT(after.st_uid, before.st_uid);
	CHECK_INT(after.st_mode, before.st_mode);
	CHECK_STREQ(ksim_driver(e.root, GPU, (char[64]){ 0 }, 64), "nvidia");
	kenv_close(&e);
}

TEST(grant_journal_fields_read_strictly, "user= and node= load back; user= without node= (or "
     "the other way), a non-number, a mode above 07777 are refused naming the line")
{
	static const struct { const char *line; const char *says; } bad[] = {
		{ "user=1000:1000", "has user= without node=" },
		{ "node=9:0:0:0600", "has node= without user=" },
		{ "user=alice:1000 node=9:0:0:0600", "user=alice:1000 is not UID:GID" },
		{ "user=1000:1000 node=9:0:0:17777", "node=9:0:0:17777 is not GROUP:UID:GID:MODE" },
		{ "user=1000:1000 node=9:0:0", "node=9:0:0 is not GROUP:UID:GID:MODE" },
	};
	struct kenv e;
	struct vfk_journal *j;
	char text[512];

	REQUIRE(open_host(&e));
	kenv_put(&e, "run/vfiokit/journal", "# vfiokit journal v1\n" GPU " state=bound driver=nvidia "
		 "override= owner=x since=1 user=1000:1001 node=9:0:5:0640\n");
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK(vfk_journal_get(j, 0)->granted);
	CHECK_INT(vfk_journal_get(j, 0)->grant_gid, 1001);
	CHECK_INT(vfk_journal_get(j, 0)->node_mode, 0640);
	vfk_journal_free(j);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "# vfiokit journal v1\n" GPU " state=bound driver=nvidia "
			 "override= owner=x since=1 %s\n", bad[i].line);
		kenv_put(&e, "run/vfiokit/journal", text);
		CHECK_INT(vfk_journal_load(e.ctx, &j), -EINVAL);
		CHECK_CONTAINS(vfk_ctx_get_error(e.ctx), bad[i].says);
	}
	kenv_close(&e);
}

TEST(grant_via_fds_journals_the_user_and_changes_no_node, "bind --for-user alice by descriptor "
     "(VFK_BIND_GRANT_FDS) on a kernel with /dev/iommu and VFIO cdevs: both functions on "
     "vfio-pci, each journal line ends ' user=1000:1000 fds=9' (no node=), /dev/vfio/9 stays "
     "0:5 0640 as the kernel made it and no owner is ever written; status (text and JSON) says "
     "by descriptor; restoring one function, then the rest, ends the grant and still writes "
     "no owner")
{
	struct kenv e;
	struct tool_run r = { 0 };
	struct vfk_journal *j;
	char *text;

	REQUIRE(open_fds_host(&e, true, CDEV_CONFIG));
	node_before(&e);
	CHECK_INT(bind_for_flags(&e, "alice", VFK_BIND_GRANT_FDS), 0);
	CHECK_STREQ(e.err, "");
	CHECK_STREQ(ksim_driver(e.root, GPU, (char[64]){ 0 }, 64), "vfio-pci");
	CHECK_STREQ(ksim_driver(e.root, HDA, (char[64]){ 0 }, 64), "vfio-pci");
	CHECK(node_is(&e, 0, 5, 0640));
	CHECK(!owner_written(&e));
	CHECK_CONTAINS(e.progress, "group 9 granted to alice (uid 1000) by descriptor: no node "
		       "changes");
	CHECK(!strstr(e.progress, "node given"));
	text = kenv_slurp(&e, "run/vfiokit/journal");
	CHECK_CONTAINS(text, GPU " state=bound ");
	CHECK_CONTAINS(text, " user=1000:1000 fds=9\n" HDA " ");
	CHECK_CONTAINS(text, " user=1000:1000 fds=9\n# end ");
	CHECK(text && !strstr(text, "node="));
	free(text);
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	REQUIRE(vfk_journal_count(j) == 2);
	for (size_t i = 0; i < 2; i++) {
		const struct vfk_journal_entry *je = vfk_journal_get(j, i);
		CHECK(je->granted && je->grant_fds);
		CHECK_INT(je->grant_uid, 1000);
		CHECK_INT(je->grant_gid, 1000);
		CHECK_INT(je->group, 9);
		CHECK_INT(je->node_mode, 0);
	}
	vfk_journal_free(j);
	{
		const char *const argv[] = { "vfio-bind", "status", "--sysroot", e.root, NULL };
		run_bind(&r, argv);
		CHECK_INT(r.status, 0);
		CHECK_CONTAINS(r.out, "for user alice (uid 1000): group 9 (by descriptor)");
		CHECK(r.out && !strstr(r.out, "/dev/vfio/9"));
	}
	{
		const char *const argv[] = { "vfio-bind", "status", "--json", "--sysroot", e.root, NULL };
		run_bind(&r, argv);
		CHECK_INT(r.status, 0);
		CHECK_CONTAINS(r.out, "\"user\":{\"name\":\"alice\",\"uid\":1000,\"node\":null,"
			       "\"grant\":\"descriptor\",\"group\":9}");
	}

	{
		const char *one[] = { HDA };
		CHECK_INT(vfk_restore(e.ctx, one, 1, 0, e.err, sizeof(e.err)), 0);
	}
	CHECK(node_is(&e, 0, 5, 0640));
	CHECK_CONTAINS(e.progress, "group 9's grant by descriptor to uid 1000 ends (no node was "
		       "changed)");
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	REQUIRE(vfk_journal_count(j) == 1);
	CHECK(!vfk_journal_get(j, 0)->granted && !vfk_journal_get(j, 0)->grant_fds);
	vfk_journal_free(j);
	text = kenv_slurp(&e, "run/vfiokit/journal");
	CHECK(text && !strstr(text, "user=") && !strstr(text, "fds="));
	free(text);
	CHECK_INT(vfk_restore(e.ctx, NULL, 0, 0, e.err, sizeof(e.err)), 0);
	CHECK_STREQ(ksim_driver(e.root, GPU, (char[64]){ 0 }, 64), "nvidia");
	CHECK(!owner_written(&e));
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 0);
	vfk_journal_free(j);
	free(r.out);
	free(r.err);
	kenv_close(&e);
}

TEST(grant_via_fds_rollback_changes_no_node, "a grant by descriptor whose bind fails at its "
     "last step (the journal saved with the grant: EIO) is rolled back: both functions back on "
     "nvidia and snd_hda_intel, the journal empty, and no owner was written at any point")
{
	struct kenv e;
	struct vfk_journal *j;
	int total;

	REQUIRE(open_fds_host(&e, true, CDEV_CONFIG));
	REQUIRE(bind_for_flags(&e, "alice", VFK_BIND_GRANT_FDS) == 0);
	total = e.k.writes;
	REQUIRE(total > 0);
	CHECK(strstr(e.k.log[total - 1], "run/vfiokit/journal <- ") == e.k.log[total - 1]);
	kenv_close(&e);
	REQUIRE(open_fds_host(&e, true, CDEV_CONFIG));
	node_before(&e);
	e.k.fail_at = total;
	CHECK_INT(bind_for_flags(&e, "alice", VFK_BIND_GRANT_FDS), -EIO);
	CHECK_CONTAINS(e.err, "cannot update the binding journal");
	CHECK_STREQ(ksim_driver(e.root, GPU, (char[64]){ 0 }, 64), "nvidia");
	CHECK_STREQ(ksim_driver(e.root, HDA, (char[64]){ 0 }, 64), "snd_hda_intel");
	CHECK(!owner_written(&e));
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK_INT(vfk_journal_count(j), 0);
	vfk_journal_free(j);
	kenv_close(&e);
}

TEST(grant_via_fds_refused_where_the_kernel_has_no_cdevs, "a grant by descriptor is refused "
     "before anything is written, in one line saying why and pointing at --for-user alone: no "
     "/dev/iommu (library, -ENODEV); /dev/iommu but a kernel configured without "
     "CONFIG_VFIO_DEVICE_CDEV (vfio-bind, exit 1); /dev/iommu and nothing that can tell "
     "(library); each time nothing is bound, no write is made and a journal holding another "
     "device is byte for byte unchanged")
{
	static const char journal[] = "# vfiokit journal v1\n0000:03:00.0 state=bound driver=igc "
				      "override= owner=x since=1\n";
	struct kenv e;
	struct tool_run r = { 0 };
	char *text;

	REQUIRE(open_fds_host(&e, false, CDEV_CONFIG));
	kenv_put(&e, "run/vfiokit/journal", journal);
	CHECK_INT(bind_for_flags(&e, "alice", VFK_BIND_GRANT_FDS), -ENODEV);
	CHECK_CONTAINS(e.err, "--via-fds: this kernel cannot hand out VFIO descriptors: the host "
		       "has no ");
	CHECK_CONTAINS(e.err, "/dev/iommu (a kernel without CONFIG_IOMMUFD");
	CHECK_CONTAINS(e.err, "; use --for-user alone (the group's node)");
	CHECK_INT(e.k.nlog, 0);
	CHECK_STREQ(ksim_driver(e.root, GPU, (char[64]){ 0 }, 64), "nvidia");
	text = kenv_slurp(&e, "run/vfiokit/journal");
	CHECK_STREQ(text, journal);
	free(text);
	kenv_close(&e);

	REQUIRE(open_fds_host(&e, true, NO_CDEV_CONFIG));
	kenv_put(&e, "run/vfiokit/journal", journal);
	{
		const char *const argv[] = { "vfio-bind", "bind", "--gpu", GPU, "--for-user", "alice",
					     "--via-fds", "--sysroot", e.root, NULL };
		run_bind(&r, argv);
		check_one_line(&r, 1, "--via-fds: this kernel cannot hand out VFIO descriptors: "
			       "boot/config-6.1.0-18-amd64 does not enable CONFIG_VFIO_DEVICE_CDEV; "
			       "use --for-user alone (the group's node)");
		CHECK(r.out && !*r.out);
	}
	CHECK_STREQ(ksim_driver(e.root, GPU, (char[64]){ 0 }, 64), "nvidia");
	CHECK_STREQ(ksim_override(e.root, GPU, (char[64]){ 0 }, 64), "");
	CHECK(!kenv_exists(&e, NODE));
	text = kenv_slurp(&e, "run/vfiokit/journal");
	CHECK_STREQ(text, journal);
	free(text);
	kenv_close(&e);

	REQUIRE(open_fds_host(&e, true, NULL));
	CHECK_INT(bind_for_flags(&e, "alice", VFK_BIND_GRANT_FDS | VFK_BIND_DRY_RUN), -ENODEV);
	CHECK_CONTAINS(e.err, "--via-fds: cannot tell whether this kernel hands out VFIO "
		       "descriptors: no device is on a VFIO driver yet");
	CHECK_INT(e.k.nlog, 0);
	CHECK(!kenv_exists(&e, "run/vfiokit/journal"));
	kenv_close(&e);
	free(r.out);
	free(r.err);
}

TEST(grant_journal_fds_field_read_strictly, "user= with fds=GROUP loads back as a grant by "
     "descriptor; fds= with node=, fds= without user=, a group that is no number, negative or "
     "above INT_MAX, and fds= given twice are refused naming the line")
{
	static const struct { const char *line; const char *says; } bad[] = {
		{ "user=1000:1000 node=9:0:0:0600 fds=9", "has node= and fds=: a grant is by node "
		  "or by descriptor, not both" },
		{ "fds=9", "has fds= without user=" },
		{ "user=1000:1000 fds=abc", "fds=abc is not a group number" },
		{ "user=1000:1000 fds=-1", "fds=-1 is not a group number" },
		{ "user=1000:1000 fds=2147483648", "fds=2147483648 is not a group number" },
		{ "user=1000:1000 fds=", "fds= is not a group number" },
		{ "user=1000:1000 fds=9 fds=9", "fds= given twice" },
		{ "user=1000:1000", "has user= without node= or fds=" },
	};
	struct kenv e;
	struct vfk_journal *j;
	char text[512];

	REQUIRE(open_host(&e));
	kenv_put(&e, "run/vfiokit/journal", "# vfiokit journal v1\n" GPU " state=bound driver=nvidia "
		 "override= owner=x since=1 user=1000:1001 fds=2147483647\n");
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK(vfk_journal_get(j, 0)->granted && vfk_journal_get(j, 0)->grant_fds);
	CHECK_INT(vfk_journal_get(j, 0)->grant_uid, 1000);
	CHECK_INT(vfk_journal_get(j, 0)->grant_gid, 1001);
	CHECK_INT(vfk_journal_get(j, 0)->group, 2147483647);
	vfk_journal_free(j);
	/* a node grant is still one, not one by descriptor */
	kenv_put(&e, "run/vfiokit/journal", "# vfiokit journal v1\n" GPU " state=bound driver=nvidia "
		 "override= owner=x since=1 user=1000:1001 node=9:0:5:0640\n");
	REQUIRE(vfk_journal_load(e.ctx, &j) == 0);
	CHECK(vfk_journal_get(j, 0)->granted && !vfk_journal_get(j, 0)->grant_fds);
	vfk_journal_free(j);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "# vfiokit journal v1\n" GPU " state=bound driver=nvidia "
			 "override= owner=x since=1 %s\n", bad[i].line);
		kenv_put(&e, "run/vfiokit/journal", text);
		CHECK_INT(vfk_journal_load(e.ctx, &j), -EINVAL);
		CHECK_CONTAINS(vfk_ctx_get_error(e.ctx), "line 2: ");
		CHECK_CONTAINS(vfk_ctx_get_error(e.ctx), bad[i].says);
	}
	kenv_close(&e);
}

TEST(grant_user_lookup_reads_the_trees_passwd, "vfk_user_lookup finds alice in the tree's "
     "etc/passwd (not the running host's), by name and by uid; an unknown name is -ENOENT, a "
     "name with ':' or a newline -EINVAL")
{
	struct kenv e;
	struct vfk_user u;

	REQUIRE(open_host(&e));
	CHECK_INT(vfk_user_lookup(e.ctx, "alice", &u), 0);
	CHECK_INT(u.uid, 1000);
	CHECK_INT(vfk_user_by_uid(e.ctx, 65534, &u), 0);
	CHECK_STREQ(u.name, "nobody");
	CHECK_INT(vfk_user_lookup(e.ctx, "daemon", &u), -ENOENT);	/* the host has one */
	CHECK_INT(vfk_user_lookup(e.ctx, "al:ice", &u), -EINVAL);
	CHECK_INT(vfk_user_lookup(e.ctx, "alice\n", &u), -EINVAL);
	kenv_close(&e);
}

/* ------------------------------------------------------------ the tools */

TEST(grant_vfio_bind_for_user_refusals_and_status, "vfio-bind bind --for-user: an unknown user "
     "and root are refused in one line, exit 2, nothing written; --for-user with restore is a "
     "usage error; a dry run shows the node's change; status (text and JSON) says whom the "
     "node was given to")
{
	struct kenv e;
	struct tool_run r = { 0 };

	REQUIRE(open_host(&e));
	{
		const char *const argv[] = { "vfio-bind", "bind", GPU, "--for-user", "mallory",
					     "--sysroot", e.root, NULL };
		run_bind(&r, argv);
		check_one_line(&r, 2, "--for-user: no user 'mallory' on this host");
	}
	{
		const char *const argv[] = { "vfio-bind", "bind", GPU, "--for-user", "root",
					     "--sysroot", e.root, NULL };
		run_bind(&r, argv);
		check_one_line(&r, 2, "--for-user: root is root (uid 0), who needs no grant");
	}
	{
		const char *const argv[] = { "vfio-bind", "restore", "--all", "--for-user", "alice",
					     "--sysroot", e.root, NULL };
		run_bind(&r, argv);
		check_one_line(&r, 2, "--for-user goes with bind");
	}
	CHECK(!kenv_exists(&e, "run/vfiokit/journal"));
	{
		const char *const argv[] = { "vfio-bind", "bind", "--gpu", GPU, "--for-user", "alice", "-n",
					     "--sysroot", e.root, NULL };
		run_bind(&r, argv);
		CHECK_INT(r.status, 0);
		CHECK_CONTAINS(r.out, "/" NODE " <- owner 1000:0 mode 0600");
	}
	CHECK(!kenv_exists(&e, "run/vfiokit/journal"));
	REQUIRE(bind_for(&e, "alice") == 0);
	{
		const char *const argv[] = { "vfio-bind", "status", "--sysroot", e.root, NULL };
		run_bind(&r, argv);
		CHECK_INT(r.status, 0);
		CHECK_CONTAINS(r.out, "for user alice (uid 1000): /dev/vfio/9");
	}
	{
		const char *const argv[] = { "vfio-bind", "status", "--json", "--sysroot", e.root, NULL };
		run_bind(&r, argv);
		CHECK_INT(r.status, 0);
		CHECK_CONTAINS(r.out, "\"user\":{\"name\":\"alice\",\"uid\":1000,\"node\":\"/dev/vfio/9\","
			       "\"grant\":\"node\",\"group\":9}");
	}
	free(r.out);
	free(r.err);
	kenv_close(&e);
}

TEST(grant_vfio_bind_via_fds_misuse_and_dry_run, "vfio-bind --via-fds without --for-user, or "
     "with restore or status, is a usage error in one line, exit 2, nothing written; the "
     "library refuses the flag without a user (-EINVAL, one line); a dry run of bind --for-user "
     "alice --via-fds shows the grant by descriptor, writes no owner and leaves no journal")
{
	struct kenv e;
	struct tool_run r = { 0 };

	REQUIRE(open_fds_host(&e, true, CDEV_CONFIG));
	{
		const char *const argv[] = { "vfio-bind", "bind", GPU, "--via-fds", "--sysroot", e.root,
					     NULL };
		run_bind(&r, argv);
		check_one_line(&r, 2, "--via-fds goes with bind --for-user NAME");
	}
	{
		const char *const argv[] = { "vfio-bind", "restore", "--all", "--via-fds", "--sysroot",
					     e.root, NULL };
		run_bind(&r, argv);
		check_one_line(&r, 2, "--via-fds goes with bind --for-user NAME");
	}
	{
		const char *const argv[] = { "vfio-bind", "--via-fds", "status", "--sysroot", e.root,
					     NULL };
		run_bind(&r, argv);
		check_one_line(&r, 2, "--via-fds goes with bind --for-user NAME");
	}
	CHECK(!kenv_exists(&e, "run/vfiokit/journal"));
	CHECK_INT(bind_for_flags(&e, NULL, VFK_BIND_GRANT_FDS), -EINVAL);
	CHECK_CONTAINS(e.err, "a grant by descriptor (--via-fds, VFK_BIND_GRANT_FDS) needs the user "
		       "to grant to (--for-user, vfk_bind_set_user)");
	CHECK(!strchr(e.err, '\n'));
	CHECK_INT(e.k.nlog, 0);
	{
		const char *const argv[] = { "vfio-bind", "bind", "--gpu", GPU, "--for-user", "alice",
					     "--via-fds", "-n", "--sysroot", e.root, NULL };
		run_bind(&r, argv);
		CHECK_INT(r.status, 0);
		CHECK_CONTAINS(r.out, ":: group 9 granted to alice (uid 1000) by descriptor: no node "
			       "changes; vfio-bind pass-fds hands the VM /dev/iommu and the cdevs");
		CHECK(r.out && !strstr(r.out, " <- owner "));
	}
	CHECK(!kenv_exists(&e, "run/vfiokit/journal"));
	CHECK_STREQ(ksim_driver(e.root, GPU, (char[64]){ 0 }, 64), "nvidia");
	free(r.out);
	free(r.err);
	kenv_close(&e);
}

/* What nobody's vfio-vm says of the passthrough VM, on @tree. */
struct user_case {
	const char *tree;
	char profile[4096];
	unsigned long long hard_memlock;	/* 0: as inherited */
	const char *says;	/* in plan; NULL: plan accepts it */
};

static void user_child(void *arg)
{
	struct user_case *c = arg;
	struct tool_run r = { 0 };
	char xdg[64] = "/tmp/vfk-grant-XXXXXX", state[128];

	if (!user_tools_runnable())
		_exit(77);
	if (!mkdtemp(xdg))
		_exit(1);
	snprintf(state, sizeof(state), "%s/state", xdg);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	setenv("XDG_STATE_HOME", state, 1);
	setenv("VFK_USER_MODE", "1", 1);
	if (c->hard_memlock) {
		struct rlimit rl = { c->hard_memlock, c->hard_memlock };
		setrlimit(RLIMIT_MEMLOCK, &rl);
	}
	vfio_vm(&r, "plan", c->profile, c->tree, NULL);
	CHECK_INT(r.status, 0);
	if (!c->says) {
		struct rlimit rl;

		/* the devices pass; only a memlock limit this machine cannot lift may
		 * still stand in the way (the test bed's guest lifts it: scenario 75) */
		CHECK(!strstr(r.out, "not bound for you") && !strstr(r.out, "not granted"));
		CHECK_CONTAINS(r.out, "groups' nodes given to this user by root");
		REQUIRE(getrlimit(RLIMIT_MEMLOCK, &rl) == 0);
		if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= (3ull << 30))
			CHECK(!strstr(r.out, "up refuses it"));
		else
			CHECK_CONTAINS(r.out, "up refuses it: rl-gpu pins 2048 MiB of guest RAM and "
				       "device memory for VFIO, above your hard locked-memory limit");
		vfio_vm(&r, "gen", c->profile, c->tree, "--format", "qemu", NULL);
		CHECK_INT(r.status, 0);
		CHECK_CONTAINS(r.out, "vfio-pci,host=" GPU);
		vfio_vm(&r, "gen", c->profile, c->tree, "--format", "libvirt", NULL);
		CHECK_CONTAINS(r.out, "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"no\">");
	} else {
		CHECK_CONTAINS(r.out, c->says);
		vfio_vm(&r, "up", c->profile, c->tree, "--backend", "qemu", NULL);
		CHECK_INT(r.status, 1);
		CHECK_CONTAINS(r.err, c->says);
		CHECK(!path_exists(xdg, "vfiokit/vms/rl-gpu"));
	}
	free(r.out);
	free(r.err);
	remove_path(xdg, "");
	rmdir(xdg);
}

/* The tree readable by nobody, its passthrough profile, and the host's
 * memlock limit lifted for the child to inherit, where this machine lets root. */
static void user_case_init(struct user_case *c, struct kenv *e)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	char parent[4096], *slash;

	snprintf(parent, sizeof(parent), "%s", e->root);
	if ((slash = strrchr(parent, '/')))
		*slash = '\0';
	chmod(parent, 0755);
	chmod(e->root, 0755);
	kenv_put(e, "vm.ini", PASSTHROUGH_VM);
	c->tree = e->root;
	snprintf(c->profile, sizeof(c->profile), "%s/vm.ini", e->root);
	if (geteuid() == 0)
		(void)setrlimit(RLIMIT_MEMLOCK, &rl);	/* refused in some containers */
}

TEST(grant_user_plans_the_granted_gpu, "after root's bind --for-user nobody, nobody's vfio-vm "
     "plans the passthrough VM with nothing to refuse and a note that root bound it; gen's QEMU "
     "takes vfio-pci,host=01:00.0 and the libvirt XML a managed='no' hostdev")
{
	struct kenv e;
	struct user_case c = { 0 };

	REQUIRE(open_host(&e));
	REQUIRE(bind_for(&e, "nobody") == 0);
	user_case_init(&c, &e);
	as_user(user_child, &c);
	kenv_close(&e);
}

TEST(grant_other_user_and_unbound_gpu_refused, "nobody's VM is refused in one line, exit 1, "
     "nothing made: when root gave the group to alice (its node belongs to uid 1000, and the "
     "line says what root runs), and when the GPU is still on nvidia")
{
	struct kenv e;
	struct user_case c = { 0 };

	REQUIRE(open_host(&e));
	user_case_init(&c, &e);
	c.says = GPU " (group 9) is not bound for you: it is on nvidia; root runs vfio-bind bind "
		 GPU " --for-user nobody";
	as_user(user_child, &c);
	REQUIRE(bind_for(&e, "alice") == 0);
	c.says = GPU " (group 9) is not granted to nobody: its node belongs to uid 1000 (mode "
		 "0600); root runs vfio-bind bind " GPU " --for-user nobody";
	as_user(user_child, &c);
	kenv_close(&e);
}

TEST(grant_user_memlock_too_small_refused, "with nobody's hard memlock limit at 4 MiB, the "
     "granted 1 GiB VM is refused in one line naming the limit and the limits.d line that "
     "covers it")
{
	struct kenv e;
	struct user_case c = { 0 };

	REQUIRE(open_host(&e));
	REQUIRE(bind_for(&e, "nobody") == 0);
	user_case_init(&c, &e);
	c.hard_memlock = 4ull << 20;
	c.says = "rl-gpu pins 2048 MiB of guest RAM and device memory for VFIO, above your hard "
		 "locked-memory limit (4 MiB), which only root raises: root adds /etc/security/"
		 "limits.d/vfiokit-nobody.conf with the line 'nobody hard memlock 2097152' (KiB), then "
		 "you log in again";
	as_user(user_child, &c);
	kenv_close(&e);
}
