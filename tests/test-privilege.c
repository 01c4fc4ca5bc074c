/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Privilege: every command that changes the host refuses at once and clearly
 * when not run as root on the live host, before it reads or changes
 * anything; read-only commands work as a normal user and say what they could
 * not read instead of failing.
 *
 * The tools run as an unprivileged user: when the suite runs as root, a
 * forked child drops to nobody (65534) first; when it already runs as a
 * normal user, the tools simply run. The arguments name devices that do not
 * exist, so even a missing check could not change this machine.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "vfiokit.h"

struct cmd {
	const char *argv[10];
	const char *says;	/* the refusal names this */
};

static void refuse_all(void *arg)
{
	const struct cmd *c;
	char *out, *err;

	if (!user_tools_runnable())
		_exit(77);
	for (c = arg; c->argv[0]; c++) {
		int st = run_tool(&out, &err, c->argv);
		const char *nl = err ? strchr(err, '\n') : NULL;
		if (st != 3)
			test_fail_(__FILE__, __LINE__, "%s %s as a normal user: exit %d, expected 3:\n%s%s",
				   c->argv[0], c->argv[1], st, out, err);
		/* one clear line, and nothing else happened before it */
		if (!err || !strstr(err, "run it as root") || !strstr(err, c->says) ||
		    (nl && nl[1]))
			test_fail_(__FILE__, __LINE__, "%s %s: expected one line saying '%s ... run it "
				   "as root', got:\n%s", c->argv[0], c->argv[1], c->says, err);
		if (out && *out)
			test_fail_(__FILE__, __LINE__, "%s %s printed before refusing:\n%s", c->argv[0],
				   c->argv[1], out);
		free(out);
		free(err);
	}
}

TEST(privilege_write_commands_refuse_without_root, "on the live host, every command that "
     "changes drivers, sysfs or /etc (vfio-bind bind/restore/persist/unpersist, vfio-mdev "
     "create/remove/define/undefine/start/start-defined/sriov N, vfio-vm release) run as "
     "a normal user says 'run it as root' in one line and exits 3, before doing anything "
     "(vfio-vm up/down/wait are the user's own: test-rootless.c)")
{
	static const struct cmd cmds[] = {
		{ { "vfio-bind", "bind", "0000:ff:1f.7", NULL }, "bind" },
		{ { "vfio-bind", "bind", "--gpu", "0000:ff:1f.7", NULL }, "bind" },
		{ { "vfio-bind", "bind", "--group", "4095", "--include-shared", NULL }, "bind" },
		{ { "vfio-bind", "restore", "--all", NULL }, "restore" },
		{ { "vfio-bind", "restore", "0000:ff:1f.7", NULL }, "restore" },
		{ { "vfio-bind", "persist", "0000:ff:1f.7", NULL }, "persist" },
		{ { "vfio-bind", "unpersist", "0000:ff:1f.7", NULL }, "unpersist" },
		{ { "vfio-mdev", "create", "0000:ff:1f.7", "nvidia-1", NULL }, "create" },
		{ { "vfio-mdev", "remove", "00000000-0000-4000-8000-000000000000", NULL }, "remove" },
		{ { "vfio-mdev", "define", "00000000-0000-4000-8000-000000000000", NULL }, "define" },
		{ { "vfio-mdev", "undefine", "00000000-0000-4000-8000-000000000000", NULL }, "undefine" },
		{ { "vfio-mdev", "start", "00000000-0000-4000-8000-000000000000", NULL }, "start" },
		{ { "vfio-mdev", "start-defined", NULL }, "start-defined" },
		{ { "vfio-mdev", "sriov", "0000:ff:1f.7", "0", NULL }, "sriov" },
		{ { "vfio-vm", "release", "vfk-no-such-vm", NULL }, "release" },
		{ { NULL }, NULL },
	};

	as_user(refuse_all, (void *)cmds);
}

/* Without XDG_RUNTIME_DIR a normal user's VM has no place: one line says
 * what to do, before the host is read. */
static void up_refused(void *arg)
{
	const char *profile = arg;
	char *out, *err;
	const char *const cmds[][4] = {
		{ "vfio-vm", "up", profile, NULL },
		{ "vfio-vm", "down", "vfk-no-such-vm", NULL },
		{ "vfio-vm", "wait", "vfk-no-such-vm", NULL },
	};
	size_t i;

	if (!user_tools_runnable())
		_exit(77);
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("VFK_USER_MODE");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *nl;

		CHECK_INT(run_tool(&out, &err, cmds[i]), 3);
		nl = err ? strchr(err, '\n') : NULL;
		CHECK_CONTAINS(err, "XDG_RUNTIME_DIR is not set");
		CHECK(!nl || !nl[1]);
		CHECK_STREQ(out, "");
		free(out);
		free(err);
	}
}

TEST(privilege_vm_up_refuses_without_root, "vfio-vm up PROFILE (and down, wait) as a normal "
     "user on the live host without XDG_RUNTIME_DIR: one line naming it, exit 3, no VM, no "
     "bind")
{
	char *dir = fixture_host("testbed-l2");
	char profile[4096];

	REQUIRE(dir);
	/* readable by the unprivileged child */
	snprintf(profile, sizeof(profile), "%s/vm.ini", dir);
	{
		FILE *f = fopen(profile, "w");
		REQUIRE(f);
		fputs("[vm]\nname = vfk-priv-test\nmemory = 256M\n[gpu]\nmode = none\n", f);
		fclose(f);
	}
	chmod(dir, 0755);
	{
		char parent[4096], *slash;
		snprintf(parent, sizeof(parent), "%s", dir);
		slash = strrchr(parent, '/');
		if (slash)
			*slash = '\0';
		chmod(parent, 0755);
	}
	as_user(up_refused, profile);
	free(dir);
}

/* The same commands on a sysroot the user owns are allowed: the refusal is
 * about the live host, not about vfiokit itself. */
TEST(privilege_sysroot_writes_are_not_refused, "with --sysroot (a tree the user may write) the "
     "root check does not apply: persist then unpersist work")
{
	char *dir = fixture_host("desktop-dgpu-igpu");
	char *out, *err;

	REQUIRE(dir);
	{
		const char *const p[] = { "vfio-bind", "--sysroot", dir, "persist", "01:00.0", NULL };
		const char *const u[] = { "vfio-bind", "--sysroot", dir, "unpersist", "01:00.0", NULL };
		CHECK_INT(run_tool(&out, &err, p), 0);
		free(out);
		free(err);
		CHECK_INT(run_tool(&out, &err, u), 0);
		free(out);
		free(err);
	}
	free(dir);
}

struct ro {
	const char *tree;
};

static void read_only_live(void *arg)
{
	char *out, *err;
	int st;

	(void)arg;
	if (!user_tools_runnable())
		_exit(77);
	{
		const char *const argv[] = { "vfio-ls", NULL };
		st = run_tool(&out, &err, argv);
		/* 0, or 3 when this machine has no PCI bus at all */
		if (st != 0 && !(st == 3 && strstr(err, "no PCI bus")))
			test_fail_(__FILE__, __LINE__, "vfio-ls as a normal user: exit %d:\n%s", st, err);
		CHECK(!strstr(err, "Permission denied"));
		free(out);
		free(err);
	}
	{
		const char *const argv[] = { "vfio-ls", "--json", NULL };
		st = run_tool(&out, &err, argv);
		CHECK(st == 0 || st == 3);
		free(out);
		free(err);
	}
	{
		const char *const argv[] = { "vfio-check", NULL };
		st = run_tool(&out, &err, argv);
		if (st != 0 && st != 1)
			test_fail_(__FILE__, __LINE__, "vfio-check as a normal user: exit %d:\n%s", st, err);
		free(out);
		free(err);
	}
	{
		/* the journal lives in root's /run/vfiokit: readable, or a clear "run it as root" */
		const char *const argv[] = { "vfio-bind", "status", NULL };
		st = run_tool(&out, &err, argv);
		if (st != 0 && !strstr(err, "run it as root"))
			test_fail_(__FILE__, __LINE__, "vfio-bind status as a normal user: exit %d:\n%s", st,
				   err);
		free(out);
		free(err);
	}
	{
		const char *const argv[] = { "vfio-bind", "persisted", NULL };
		CHECK_INT(run_tool(&out, &err, argv), 0);
		free(out);
		free(err);
	}
	{
		const char *const argv[] = { "vfio-mdev", "types", NULL };
		st = run_tool(&out, &err, argv);
		CHECK(st == 0 || st == 1);
		free(out);
		free(err);
	}
}

TEST(privilege_read_only_commands_work_as_normal_user, "vfio-ls, vfio-check, vfio-bind "
     "status/persisted and vfio-mdev types run as a normal user on the live host without failing")
{
	as_user(read_only_live, NULL);
}

static void read_only_tree(void *arg)
{
	const struct ro *r = arg;
	char *out, *err;

	if (!user_tools_runnable())
		_exit(77);
	{
		const char *const argv[] = { "vfio-ls", "--sysroot", r->tree, "--gpus", NULL };
		CHECK_INT(run_tool(&out, &err, argv), 0);
		/* the verdict names what could not be read and how to read it */
		CHECK_CONTAINS(out, "ACS unknown on 0000:00:1c.0: extended config space not readable "
				    "(run as root)");
		free(out);
		free(err);
	}
	{
		const char *const argv[] = { "vfio-ls", "--sysroot", r->tree, "--json", NULL };
		CHECK_INT(run_tool(&out, &err, argv), 0);
		CHECK_CONTAINS(out, "\"reason\":\"ACS unknown on 0000:00:1c.0: extended config space "
				    "not readable (run as root)\"");
		free(out);
		free(err);
	}
	{
		const char *const argv[] = { "vfio-check", "--sysroot", r->tree, NULL };
		int st = run_tool(&out, &err, argv);
		CHECK(st == 0 || st == 1);
		free(out);
		free(err);
	}
	{
		/* root's run/vfiokit: never "holds no devices", but why it cannot tell */
		const char *const argv[] = { "vfio-bind", "--sysroot", r->tree, "status", NULL };
		CHECK_INT(run_tool(&out, &err, argv), 3);
		CHECK_CONTAINS(err, "cannot read the binding journal");
		CHECK_CONTAINS(err, "run it as root");
		CHECK(!strstr(out, "holds no devices"));
		free(out);
		free(err);
	}
}

TEST(privilege_unreadable_config_space_is_reported_not_fatal, "as a normal user the kernel "
     "shows 64 bytes of config space: vfio-ls still lists everything and says ACS is unknown "
     "and why (fixture shared-chipset-nonroot, read by an unprivileged user); status says it "
     "cannot read root's journal instead of claiming nothing is held")
{
	struct ro r;
	char *tree = fixture_host("shared-chipset-nonroot");
	char parent[4096], *slash;

	REQUIRE(tree);
	snprintf(parent, sizeof(parent), "%s", tree);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	chmod(parent, 0755);
	chmod(tree, 0755);
	{
		char run[4096];
		snprintf(run, sizeof(run), "%s/run/vfiokit", tree);
		mkdir(run, 0700);
		chmod(run, 0700);
	}
	r.tree = tree;
	as_user(read_only_tree, &r);
	free(tree);
}
