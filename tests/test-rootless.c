// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VMs of a normal user (issue 23, point 1): vfio-vm run by an unprivileged
 * user keeps its VMs in the user's directories ($XDG_RUNTIME_DIR/vfiokit,
 * $XDG_STATE_HOME/vfiokit), says so in plan, refuses in one line what needs
 * root (host devices, a bridge the helper's ACL does not allow, no runtime
 * directory), and vfio-check --user lists what the user still needs.
 *
 * The tools run as nobody (as_user(), harness.c) on fixture trees, in user
 * mode through VFK_USER_MODE=1 (on "/" a normal user is in it anyway), with
 * a runtime directory the child makes for itself. QEMU is /bin/false: up
 * goes as far as starting it as the user; tests/launch/rootless.sh starts a
 * real one.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "vmtest.h"

#define VIRTIO_VM "[vm]\nname = rl\nfirmware = uefi\nemulator = /bin/false\nmemory = 512M\n" \
		  "[gpu]\nmode = virtio\nvirgl = no\n[display]\ntype = none\n[network]\ntype = user\n"
#define PASSTHROUGH_VM "[vm]\nname = rl-gpu\nemulator = /bin/false\nmemory = 1G\n[gpu]\n" \
		       "mode = passthrough\n[display]\ntype = none\n"
#define BRIDGE_VM "[vm]\nname = rl-br\nemulator = /bin/false\nmemory = 512M\n[gpu]\nmode = none\n" \
		  "[display]\ntype = none\n[network]\ntype = bridge\nbridge = br0\n"
#define TEMPLATE "OVMF variable template\001\002"

struct env {
	char *tree;		/* the fixture host, readable by nobody */
	char profile[4096];	/* a profile in it */
	char xdg[64];		/* the child's own runtime directory */
	char state[128];	/* its XDG_STATE_HOME */
	char vmdir[160];	/* xdg/vfiokit */
};

/* A fixture tree an unprivileged child can read, with @ini as its profile. */
static bool env_new(struct env *e, const char *fixture, const char *ini)
{
	char parent[4096], *slash;

	memset(e, 0, sizeof(*e));
	e->tree = fixture_host(fixture);
	if (!e->tree)
		return false;
	snprintf(parent, sizeof(parent), "%s", e->tree);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	chmod(parent, 0755);
	chmod(e->tree, 0755);
	snprintf(e->profile, sizeof(e->profile), "%s/vm.ini", e->tree);
	return put_file(e->tree, "vm.ini", ini) && put_file(e->tree, "usr/share/OVMF/OVMF_VARS_4M.fd",
							      TEMPLATE);
}

static void env_free(struct env *e)
{
	free(e->tree);
}

/* In the child: its runtime directory (0700, its own) and user mode on. */
static void child_dirs(struct env *e)
{
	snprintf(e->xdg, sizeof(e->xdg), "/tmp/vfk-rootless-XXXXXX");
	if (!mkdtemp(e->xdg)) {
		test_fail_(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
		_exit(1);
	}
	snprintf(e->state, sizeof(e->state), "%s/state", e->xdg);
	snprintf(e->vmdir, sizeof(e->vmdir), "%s/vfiokit", e->xdg);
	setenv("XDG_RUNTIME_DIR", e->xdg, 1);
	setenv("XDG_STATE_HOME", e->state, 1);
	setenv("VFK_USER_MODE", "1", 1);
}

static void child_done(struct env *e)
{
	remove_path(e->xdg, "");
	rmdir(e->xdg);
}

static mode_t mode_of(const char *dir, const char *rel)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* ------------------------------------------------------------ plan, gen */

static void plan_child(void *arg)
{
	struct env *e = arg;
	struct tool_run r = { 0 };
	char want[512];

	if (!user_tools_runnable())
		_exit(77);
	child_dirs(e);
	vfio_vm(&r, "plan", e->profile, e->tree, NULL);
	CHECK_INT(r.status, 0);
	snprintf(want, sizeof(want), "Runs in user mode: state in %s and %s/vfiokit, libvirt "
		 "qemu:///session: VFK_USER_MODE=1", e->vmdir, e->state);
	CHECK_CONTAINS(r.out, want);
	CHECK(!strstr(r.out, "up refuses it"));
	/* --connect still wins */
	vfio_vm(&r, "plan", e->profile, e->tree, "--connect", "qemu:///system", NULL);
	CHECK_CONTAINS(r.out, "libvirt qemu:///system (--connect): VFK_USER_MODE=1");
	vfio_vm(&r, "plan", e->profile, e->tree, "--json", NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "\"mode\":\"user\"");
	CHECK_CONTAINS(r.out, "\"libvirt_uri\":\"qemu:///session\"");
	CHECK_CONTAINS(r.out, "\"up_refused\":null");
	/* the QEMU command line names the user's files */
	vfio_vm(&r, "gen", e->profile, e->tree, "--format", "qemu", NULL);
	CHECK_INT(r.status, 0);
	snprintf(want, sizeof(want), "file=%s/vfiokit/nvram/rl_VARS.fd", e->state);
	CHECK_CONTAINS(r.out, want);
	/* plan and gen wrote nothing */
	CHECK(!path_exists(e->xdg, "vfiokit"));
	free(r.out);
	free(r.err);
	child_done(e);
}

TEST(rootless_plan_says_user_mode, "as a normal user, vfio-vm plan says 'user mode: state in "
     "$XDG_RUNTIME_DIR/vfiokit and $XDG_STATE_HOME/vfiokit, libvirt qemu:///session' and why "
     "(text and --json); --connect wins; gen names the user's NVRAM copy; neither writes")
{
	struct env e;

	REQUIRE(env_new(&e, "desktop-dgpu-igpu", VIRTIO_VM));
	as_user(plan_child, &e);
	env_free(&e);
}

/* ------------------------------------------------------------ up, status, down */

static void up_child(void *arg)
{
	struct env e = *(struct env *)arg;
	struct tool_run r = { 0 };
	char rel[256];

	if (!user_tools_runnable())
		_exit(77);
	child_dirs(&e);
	/* QEMU (/bin/false) is started as the user: everything before it worked */
	vfio_vm(&r, "up", e.profile, e.tree, "--backend", "qemu", NULL);
	CHECK_INT(r.status, 3);
	CHECK_CONTAINS(r.err, "QEMU exited at start");
	CHECK_CONTAINS(r.out, ":: user mode: state in");
	CHECK_INT(mode_of(e.xdg, "vfiokit"), 0700);
	CHECK_INT(mode_of(e.state, "vfiokit"), 0700);
	CHECK_INT(mode_of(e.state, "vfiokit/nvram"), 0700);
	CHECK_INT(mode_of(e.state, "vfiokit/nvram/rl_VARS.fd"), 0600);
	{
		char path[4096], *text;

		snprintf(path, sizeof(path), "%s/vfiokit/nvram/rl_VARS.fd", e.state);
		text = read_file(path);
		CHECK_STREQ(text, TEMPLATE);
		free(text);
	}
	/* undone: no record, no sockets; nothing in the tree's host dirs */
	CHECK(!path_exists(e.vmdir, "vms/rl"));
	CHECK(!path_exists(e.vmdir, "vm/rl"));
	CHECK(!path_exists(e.tree, "run/vfiokit/vms"));
	CHECK(!path_exists(e.tree, "var/lib/vfiokit/nvram"));

	/* a VM that is up (its QEMU gone): status lists it, down forgets it */
	snprintf(rel, sizeof(rel), "vfiokit/vms/rl");
	REQUIRE(put_file(e.xdg, rel, "# vfiokit VM record v1\nbackend=qemu\nuri=qemu:///session\n"
			 "pid=0\nswtpm=0\ndefined=0\nmdev=\nsince=1\nwatcher=0\narmed=\n"));
	vfio_vm(&r, "status", NULL, e.tree, NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "rl: gone (qemu)");
	CHECK_CONTAINS(r.out, "nothing of the host to restore");
	free(r.out);	/* status's: run_tool() below fills them anew */
	free(r.err);
	{
		const char *const argv[] = { "vfio-vm", "down", "rl", "--sysroot", e.tree, NULL };

		CHECK_INT(run_tool(&r.out, &r.err, argv), 0);
		CHECK_CONTAINS(r.out, ":: stopped");
		free(r.out);
		free(r.err);
		r.out = r.err = NULL;
	}
	CHECK(!path_exists(e.vmdir, "vms/rl"));
	/* down --undefine of the VM that is not up: its NVRAM goes */
	{
		const char *const argv[] = { "vfio-vm", "down", "rl", "--sysroot", e.tree,
					     "--undefine", "--backend", "qemu", NULL };

		CHECK_INT(run_tool(&r.out, &r.err, argv), 0);
	}
	CHECK(!path_exists(e.state, "vfiokit/nvram/rl_VARS.fd"));
	free(r.out);
	free(r.err);
	child_done(&e);
}

TEST(rootless_up_keeps_state_in_user_dirs, "as a normal user, vfio-vm up (qemu backend) makes "
     "$XDG_RUNTIME_DIR/vfiokit and $XDG_STATE_HOME/vfiokit 0700, copies the UEFI template to "
     "the user's NVRAM (0600) and starts QEMU as the user; undone on failure; status and down "
     "work on the user's records, down --undefine removes the user's NVRAM")
{
	struct env e;

	REQUIRE(env_new(&e, "desktop-dgpu-igpu", VIRTIO_VM));
	as_user(up_child, &e);
	env_free(&e);
}

/* ------------------------------------------------------------ refusals */

static void devices_child(void *arg)
{
	struct env e = *(struct env *)arg;
	struct tool_run r = { 0 };
	char *before, *after, path[4096], want[512];

	if (!user_tools_runnable())
		_exit(77);
	child_dirs(&e);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:01:00.0/driver_override",
		 e.tree);
	before = read_file(path);
	vfio_vm(&r, "plan", e.profile, e.tree, NULL);
	CHECK_INT(r.status, 0);
	snprintf(want, sizeof(want), "up refuses it: rl-gpu needs host devices (GPU 0000:01:00.0 "
		 "passed through): 0000:01:00.0 (group 9) is not bound for you: it is on nvidia; root "
		 "runs vfio-bind bind 0000:01:00.0 --for-user %u", (unsigned int)geteuid());
	CHECK_CONTAINS(r.out, want);
	vfio_vm(&r, "up", e.profile, e.tree, "--backend", "qemu", NULL);
	check_one_line(&r, 1, want + strlen("up refuses it: "));
	/* the host untouched, nothing of the user's made */
	after = read_file(path);
	CHECK_STREQ(after, before);
	CHECK(!path_exists(e.xdg, "vfiokit/vms/rl-gpu"));
	CHECK(!path_exists(e.tree, "run/vfiokit/journal"));
	free(before);
	free(after);
	free(r.out);
	free(r.err);
	child_done(&e);
}

TEST(rootless_host_devices_refused, "as a normal user, a passthrough VM whose GPU root did not "
     "bind for them: plan says up refuses it and why; up refuses in one line naming the GPU, its "
     "driver and the vfio-bind --for-user command root runs, exit 1, no bind, no record")
{
	struct env e;

	REQUIRE(env_new(&e, "desktop-dgpu-igpu", PASSTHROUGH_VM));
	as_user(devices_child, &e);
	env_free(&e);
}

static void no_runtime_child(void *arg)
{
	struct env *e = arg;
	struct tool_run r = { 0 };

	if (!user_tools_runnable())
		_exit(77);
	setenv("VFK_USER_MODE", "1", 1);
	unsetenv("XDG_RUNTIME_DIR");
	vfio_vm(&r, "plan", e->profile, e->tree, NULL);
	check_one_line(&r, 3, "XDG_RUNTIME_DIR is not set");
	CHECK_CONTAINS(r.err, "set it to a directory of yours with mode 0700");
	vfio_vm(&r, "status", NULL, e->tree, NULL);
	check_one_line(&r, 3, "XDG_RUNTIME_DIR is not set");
	setenv("XDG_RUNTIME_DIR", "relative/dir", 1);
	vfio_vm(&r, "up", e->profile, e->tree, NULL);
	check_one_line(&r, 3, "XDG_RUNTIME_DIR=relative/dir is not an absolute path");
	CHECK_STREQ(r.out, "");
	/* another user's directory would get our sockets */
	if (geteuid() != 0) {
		setenv("XDG_RUNTIME_DIR", "/", 1);
		vfio_vm(&r, "status", NULL, e->tree, NULL);
		check_one_line(&r, 3, "XDG_RUNTIME_DIR=/ belongs to uid 0, not to you");
	}
	free(r.out);
	free(r.err);
}

TEST(rootless_no_runtime_dir_refused, "as a normal user without XDG_RUNTIME_DIR (or with a "
     "relative one, or one of another user), plan, status and up refuse in one line saying what "
     "to do, exit 3, nothing printed before")
{
	struct env e;

	REQUIRE(env_new(&e, "desktop-dgpu-igpu", VIRTIO_VM));
	as_user(no_runtime_child, &e);
	env_free(&e);
}

/* ------------------------------------------------------------ bridges */

struct bridge_case {
	struct env *e;
	const char *conf;	/* etc/qemu/bridge.conf, NULL: none */
	const char *says;	/* in the plan */
	bool refused;
};

static void bridge_child(void *arg)
{
	const struct bridge_case *b = arg;
	struct env e = *b->e;
	struct tool_run r = { 0 };

	if (!user_tools_runnable())
		_exit(77);
	child_dirs(&e);
	vfio_vm(&r, "plan", e.profile, e.tree, NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, b->says);
	CHECK(!!strstr(r.out, "up refuses it") == b->refused);
	if (b->refused) {
		vfio_vm(&r, "up", e.profile, e.tree, "--backend", "qemu", NULL);
		check_one_line(&r, 1, b->says);
		CHECK(!path_exists(e.xdg, "vfiokit/vms/rl-br"));
	}
	free(r.out);
	free(r.err);
	child_done(&e);
}

TEST(rootless_bridge_needs_the_helpers_acl, "as a normal user, a NIC on bridge br0 goes "
     "through qemu-bridge-helper: plan says whether /etc/qemu/bridge.conf allows it (allow, "
     "allow all, deny wins, include), up refuses in one line naming the line the admin adds; "
     "without the helper installed, up says so")
{
	static const struct {
		const char *conf, *says;
		bool refused, helper;
	} cases[] = {
		{ NULL, "does not allow it for qemu-bridge-helper; the admin adds the line 'allow br0' "
			"there, or use [network] type = user", true, true },
		{ "allow br0\n", "network 0 joins bridge br0 through /usr/lib/qemu/qemu-bridge-helper "
				 "(user mode): /etc/qemu/bridge.conf allows it", false, true },
		{ "# local\nallow all\ndeny br0\n", "'allow br0'", true, true },
		{ "include /etc/qemu/users.conf\n", "/etc/qemu/bridge.conf allows it", false, true },
		{ "allow br0\n", "qemu-bridge-helper for that, and it is not installed", true, false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct env e;
		struct bridge_case b = { &e, cases[i].conf, cases[i].says, cases[i].refused };

		REQUIRE(env_new(&e, "desktop-dgpu-igpu", BRIDGE_VM));
		if (cases[i].helper) {
			char path[4096];

			REQUIRE(put_file(e.tree, "usr/lib/qemu/qemu-bridge-helper", "#!/bin/false\n"));
			snprintf(path, sizeof(path), "%s/usr/lib/qemu/qemu-bridge-helper", e.tree);
			chmod(path, 04755);
		}
		if (cases[i].conf)
			REQUIRE(put_file(e.tree, "etc/qemu/bridge.conf", cases[i].conf));
		REQUIRE(put_file(e.tree, "etc/qemu/users.conf", "allow br0\n"));
		as_user(bridge_child, &b);
		env_free(&e);
	}
}

/* ------------------------------------------------------------ vfio-check --user */

static const char *line_of(const char *out, const char *id, char *buf, size_t size)
{
	const char *p = out ? strstr(out, id) : NULL;

	while (p && p > out && p[-1] != '\n')
		p--;
	snprintf(buf, size, "%.*s", p ? (int)strcspn(p, "\n") : 0, p ? p : "");
	return buf;
}

static void check_child(void *arg)
{
	struct env e = *(struct env *)arg;
	struct passwd *pw = getpwuid(geteuid());
	const char *name = pw ? pw->pw_name : "?";
	struct rlimit rl = { 64 << 10, 64 << 10 };
	char *out, *err, line[512], want[256], group[128];
	const char *const argv[] = { "vfio-check", "--user", "--sysroot", e.tree, NULL };
	const char *const json[] = { "vfio-check", "--user", "--sysroot", e.tree, "--json", NULL };

	if (!user_tools_runnable())
		_exit(77);
	child_dirs(&e);
	/* lowering is allowed to anyone: the limit is known */
	CHECK_INT(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	run_tool(&out, &err, argv);
	CHECK_CONTAINS(line_of(out, "user-dirs ", line, sizeof(line)), "PASS");
	CHECK_CONTAINS(line, e.vmdir);
	if (geteuid() != 0) {
		CHECK_CONTAINS(line_of(out, "user-kvm ", line, sizeof(line)), "FAIL");
		CHECK_CONTAINS(line, "cannot be opened for reading and writing: Permission denied");
		snprintf(want, sizeof(want), "fix: sudo usermod -aG kvm %s", name);
		CHECK_CONTAINS(out, want);
		CHECK_CONTAINS(line_of(out, "user-kvm-group", line, sizeof(line)), "FAIL");
		snprintf(want, sizeof(want), "%s is not in group kvm (gid 993)", name);
		CHECK_CONTAINS(line, want);
		CHECK_CONTAINS(line_of(out, "user-memlock", line, sizeof(line)), "WARN");
		CHECK_CONTAINS(line, "soft 64 KiB, hard 64 KiB: enough for VMs without host devices");
		snprintf(want, sizeof(want), "%s hard memlock unlimited", name);
		CHECK_CONTAINS(out, want);
	}
	CHECK_CONTAINS(line_of(out, "user-libvirt", line, sizeof(line)), "WARN");
	CHECK_CONTAINS(line, "neither virtqemud nor libvirtd is installed");
	free(out);
	free(err);

	/* the group of this process, a session daemon that ran once */
	snprintf(group, sizeof(group), "kvm:x:%u:\n", (unsigned int)getegid());
	if (put_file(e.tree, "etc/group", group) && put_file(e.tree, "usr/sbin/virtqemud", "") &&
	    put_file(e.xdg, "libvirt/virtqemud-sock", "")) {
		run_tool(&out, &err, argv);
		if (geteuid() != 0)
			CHECK_CONTAINS(line_of(out, "user-kvm-group", line, sizeof(line)), "PASS");
		CHECK_CONTAINS(line_of(out, "user-libvirt", line, sizeof(line)), "PASS");
		CHECK_CONTAINS(line, "/usr/sbin/virtqemud for qemu:///session; its session sockets "
				     "are in $XDG_RUNTIME_DIR/libvirt");
		free(out);
		free(err);
	}
	run_tool(&out, &err, json);
	CHECK_CONTAINS(out, "\"id\": \"user-memlock\"");
	CHECK_CONTAINS(out, "\"id\": \"user-kvm-group\"");
	free(out);
	free(err);
	child_done(&e);
}

TEST(rootless_check_user_lists_what_is_missing, "vfio-check --user as a normal user on a "
     "fixture: user-dirs, user-kvm (/dev/kvm not writable: usermod -aG kvm NAME), "
     "user-kvm-group (gid from the tree's /etc/group against the process's groups), "
     "user-libvirt (virtqemud or libvirtd, the session socket dir), user-memlock (64 KiB: "
     "warned, limits.d fix); text and --json")
{
	struct env e;

	REQUIRE(env_new(&e, "desktop-dgpu-igpu", VIRTIO_VM));
	REQUIRE(put_file(e.tree, "etc/group", "root:x:0:\nkvm:x:993:\n"));
	remove_path(e.tree, "usr/sbin/libvirtd");
	remove_path(e.tree, "usr/sbin/virtqemud");
	as_user(check_child, &e);
	env_free(&e);
}

/* ------------------------------------------------------------ the API */

TEST(rootless_ctx_user_mode_api, "vfk_ctx_set_user_mode: the VM dirs below the given bases, "
     "qemu:///session; off again: the tree's run/vfiokit and qemu:///system; a relative or "
     "missing runtime dir is refused with one line and no VM dir")
{
	char *root = fixture_host("desktop-dgpu-igpu"), dir[4096], want[4200];
	struct vfk_ctx *ctx;

	REQUIRE(root);
	unsetenv("VFK_USER_MODE");
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	CHECK(!vfk_ctx_is_user_mode(ctx));
	snprintf(dir, sizeof(dir), "%s/xdg", root);
	REQUIRE(mkdir(dir, 0700) == 0);
	CHECK_INT(vfk_ctx_set_user_mode(ctx, true, dir, "/nonexistent/state"), 0);
	CHECK(vfk_ctx_is_user_mode(ctx));
	CHECK_STREQ(vfk_ctx_get_user_mode_reason(ctx), "asked for by the caller");
	snprintf(want, sizeof(want), "%s/vfiokit", dir);
	CHECK_STREQ(vfk_ctx_get_vm_dir(ctx, VFK_VM_DIR_RUNTIME), want);
	CHECK_STREQ(vfk_ctx_get_vm_dir(ctx, VFK_VM_DIR_STATE), "/nonexistent/state/vfiokit");
	CHECK_STREQ(vfk_ctx_get_libvirt_uri(ctx), "qemu:///session");
	CHECK(vfk_ctx_get_user_mode_error(ctx) == NULL);
	CHECK_INT(vfk_ctx_set_user_mode(ctx, false, NULL, NULL), 0);
	snprintf(want, sizeof(want), "%s/run/vfiokit", root);
	CHECK_STREQ(vfk_ctx_get_vm_dir(ctx, VFK_VM_DIR_RUNTIME), want);
	CHECK_STREQ(vfk_ctx_get_libvirt_uri(ctx), "qemu:///system");
	CHECK_INT(vfk_ctx_set_user_mode(ctx, true, "rel", NULL), -EINVAL);
	CHECK_CONTAINS(vfk_ctx_get_user_mode_error(ctx), "XDG_RUNTIME_DIR=rel is not an absolute");
	CHECK(vfk_ctx_get_vm_dir(ctx, VFK_VM_DIR_RUNTIME) == NULL);
	snprintf(want, sizeof(want), "%s/missing", root);
	CHECK_INT(vfk_ctx_set_user_mode(ctx, true, want, NULL), -ENOENT);
	CHECK_CONTAINS(vfk_ctx_get_user_mode_error(ctx), "No such file or directory");
	vfk_ctx_unref(ctx);
	free(root);
}
