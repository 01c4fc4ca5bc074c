/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Safety: nothing a user types, nothing a sysfs tree holds and nothing a state
 * file says can make vfiokit read or write outside its sysroot, hang, or lose
 * the previous state file; regressions of what the fuzzers (fuzz/) found.
 *
 * Escapes are proven, not assumed: every test keeps a canary tree next to the
 * fixture ("outside"), points crafted input and symlinks into it, and watches
 * it with inotify while the library and the tools run. Any open, read or
 * write of a file there (by the test process or a tool it runs) is an event.
 * The write hook additionally checks every path the library announces.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ksim.h"
#include "vfiokit.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define CANARY "canary: vfiokit must never touch this\n"

/* ------------------------------------------------------------ helpers */

static void free_str(char **p)
{
	free(*p);
}
#define AUTOFREE __attribute__((cleanup(free_str))) char *

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		p = NULL;
	va_end(ap);
	return p;
}

/* The directory part of @path, in place. */
static char *dirname_of(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash && slash != path)
		*slash = '\0';
	return path;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		test_fail_(__FILE__, __LINE__, "cannot write %s: %s", path, strerror(errno));
		return;
	}
	fputs(text, f);
	fclose(f);
}

static void mkdirs(const char *path)
{
	char p[PATH_MAX], *s;

	snprintf(p, sizeof(p), "%s", path);
	for (s = p + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

/* Replace @link (a path) by a symlink to @target. */
static void relink(const char *link, const char *target)
{
	struct stat st;

	if (lstat(link, &st) == 0 && S_ISDIR(st.st_mode)) {
		test_fail_(__FILE__, __LINE__, "%s is a directory", link);
		return;
	}
	unlink(link);
	if (symlink(target, link) < 0)
		test_fail_(__FILE__, __LINE__, "symlink %s -> %s: %s", link, target, strerror(errno));
}

/* Move a directory away and leave a symlink to @target in its place. */
static void dir_to_link(const char *dir, const char *target)
{
	AUTOFREE aside = pathf("%s.orig", dir);

	if (rename(dir, aside) < 0)
		test_fail_(__FILE__, __LINE__, "rename %s: %s", dir, strerror(errno));
	if (symlink(target, dir) < 0)
		test_fail_(__FILE__, __LINE__, "symlink %s: %s", dir, strerror(errno));
}

/*
 * The canary tree next to a fixture root:
 *   outside/canary                 a file nobody may touch
 *   outside/drivers/evil/{bind,unbind,new_id}, outside/drivers/nvidia/...
 *   outside/groups/9/{type,devices/}
 *   outside/dev/{driver_override,uevent,config}   a device's files
 *   outside/run, outside/etc, outside/mdevctl     state directories
 */
static const char *const canary_files[] = {
	"canary", "drivers/evil/bind", "drivers/evil/unbind", "drivers/evil/new_id",
	"drivers/nvidia/bind", "drivers/nvidia/unbind", "groups/9/type",
	"dev/driver_override", "dev/uevent", "run/journal", "etc/vfio-bind.conf",
	"mdevctl/canary",
};
#define files canary_files

static char *make_outside(const char *root)
{
	AUTOFREE copy = strdup(root);
	char *dir = pathf("%s/outside", dirname_of(copy));
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		AUTOFREE p = pathf("%s/%s", dir, files[i]);
		char *slash = strrchr(p, '/');
		*slash = '\0';
		mkdirs(p);
		*slash = '/';
		put(p, CANARY);
	}
	{
		AUTOFREE p = pathf("%s/groups/9/devices", dir);
		mkdirs(p);
	}
	return dir;
}

/* ---- inotify over a whole tree: every open, access and change is seen */

#define MAX_WATCH 64
struct watch {
	int fd;
	int n;
	int wd[MAX_WATCH];
	char dir[MAX_WATCH][PATH_MAX];
};
static struct watch *cur_watch;

static int add_watch(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct watch *w = cur_watch;

	(void)st, (void)ftw;
	if (flag != FTW_D || w->n == MAX_WATCH)
		return 0;
	w->wd[w->n] = inotify_add_watch(w->fd, path, IN_ALL_EVENTS | IN_ONLYDIR);
	if (w->wd[w->n] >= 0)
		snprintf(w->dir[w->n++], PATH_MAX, "%s", path);
	return 0;
}

/* Events matching @mask since the start (or the last call), as a report. */
static int watch_events(struct watch *w, uint32_t mask, char *report, size_t size)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t len = 0;
	int count = 0;
	ssize_t n;

	report[0] = '\0';
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		char *p;
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			int i;
			p += sizeof(*ev) + ev->len;
			if (!(ev->mask & mask))
				continue;
			count++;
			for (i = 0; i < w->n && w->wd[i] != ev->wd; i++)
				;
			if (len + 300 < size)
				len += (size_t)snprintf(report + len, size - len, "  %s/%s (mask 0x%x)\n",
							i < w->n ? w->dir[i] : "?", ev->len ? ev->name : "",
							ev->mask);
		}
	}
	return count;
}

static bool watch_start(struct watch *w, const char *dir)
{
	memset(w, 0, sizeof(*w));
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return false;
	cur_watch = w;
	nftw(dir, add_watch, 16, FTW_PHYS);
	{	/* the walk itself opened the directories: forget that */
		char rep[64];
		watch_events(w, IN_ALL_EVENTS, rep, sizeof(rep));
	}
	return w->n > 0;
}

static void watch_stop(struct watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

#define IN_WRITES (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | \
		   IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

/* No event of @mask in the canary tree; names them otherwise. */
#define CHECK_UNTOUCHED(w, mask, what)                                                    \
	do {                                                                              \
		char _rep[4096];                                                          \
		if (watch_events((w), (mask), _rep, sizeof(_rep)) > 0)                    \
			test_fail_(__FILE__, __LINE__, "%s reached outside the sysroot:\n%s", \
				   (what), _rep);                                         \
	} while (0)

/* Every canary file still says CANARY. */
static void check_canaries(const char *outside)
{
	size_t i;

	for (i = 0; i < sizeof(canary_files) / sizeof(canary_files[0]); i++) {
		AUTOFREE p = pathf("%s/%s", outside, canary_files[i]);
		AUTOFREE text = read_file(p);
		if (!text || strcmp(text, CANARY))
			test_fail_(__FILE__, __LINE__, "%s was changed", p);
	}
}

/* ---- the write hook: every announced path is below the sysroot, with no
 *      "." or ".." component; then the kernel stand-in (or the write itself) */
struct guard {
	struct ksim k;
	char root[PATH_MAX];
	bool let_write;	/* return 0: the library writes the file itself */
	int calls;
};

static bool path_clean(const char *root, const char *path)
{
	size_t rl = strlen(root);
	const char *p;

	if (strncmp(path, root, rl) || path[rl] != '/')
		return false;
	for (p = path + rl; *p; p++)
		if (p[0] == '/' && p[1] == '.' && (p[2] == '/' || !p[2] || (p[2] == '.' && (p[3] == '/' || !p[3]))))
			return false;
	return true;
}

static int guard_hook(void *data, const char *path, const char *value)
{
	struct guard *g = data;

	g->calls++;
	if (!path_clean(g->root, path))
		test_fail_(__FILE__, __LINE__, "write hook saw a path outside the sysroot: %s", path);
	return g->let_write ? 0 : ksim_hook(&g->k, path, value);
}

struct env {
	char *root, *outside;
	struct guard g;
	struct vfk_ctx *ctx;
	struct vfk_host *host;
	struct watch w;
};

static bool env_open(struct env *e, const char *fixture)
{
	memset(e, 0, sizeof(*e));
	e->w.fd = -1;
	e->root = fixture_host(fixture);
	if (!e->root)
		return false;
	e->outside = make_outside(e->root);
	ksim_init(&e->g.k, e->root);
	snprintf(e->g.root, sizeof(e->g.root), "%s", e->root);
	return vfk_ctx_new(e->root, &e->ctx) == 0;
}

static bool env_scan(struct env *e)
{
	vfk_host_unref(e->host);
	e->host = NULL;
	vfk_ctx_set_write_hook(e->ctx, guard_hook, &e->g);
	return vfk_host_scan(e->ctx, &e->host) == 0;
}

static void env_close(struct env *e)
{
	watch_stop(&e->w);
	vfk_host_unref(e->host);
	vfk_ctx_unref(e->ctx);
	free(e->root);
	free(e->outside);
}

static char *at(const struct env *e, const char *rel)
{
	return pathf("%s/%s", e->root, rel);
}

/* A relative link target from the directory of @link (below the scratch
 * root, next to "outside") to outside/@sub, by as many ".." as it takes. */
static char *climb(const struct env *e, const char *link, const char *sub)
{
	AUTOFREE copy = strdup(e->root);
	const char *scratch = dirname_of(copy);
	const char *p = link + strlen(scratch);
	char buf[PATH_MAX] = "";
	int ups = -1;	/* the link's own name is no level */

	for (; *p; p++)
		if (*p == '/')
			ups++;
	while (ups-- > 0)
		strcat(buf, "../");
	return pathf("%soutside/%s", buf, sub);
}

static const char *out_target(const struct env *e, const char *link, const char *sub,
			      bool climbing, char *buf, size_t size)
{
	AUTOFREE c = climbing ? climb(e, link, sub) : pathf("%s/%s", e->outside, sub);

	snprintf(buf, size, "%s", c);
	return buf;
}

/* Read every attribute the tools show, so a followed link would be read. */
static void touch_everything(struct vfk_host *host)
{
	size_t i, k;

	for (i = 0; i < vfk_host_device_count(host); i++) {
		struct vfk_device *d = vfk_host_device(host, i);
		(void)vfk_device_get_driver_override(d);
		(void)vfk_device_get_local_cpulist(d);
		(void)vfk_device_get_reset_method(d);
		(void)vfk_device_get_power_state(d);
		(void)vfk_device_get_link_speed(d);
		(void)vfk_device_get_sriov_totalvfs(d);
		(void)vfk_device_get_acs(d);
		(void)vfk_device_get_revision(d);
		(void)vfk_device_get_group_merge(d);
		for (k = 0; k < vfk_device_child_count(d); k++)
			(void)vfk_device_child(d, k);
	}
	for (i = 0; i < vfk_host_gpu_count(host); i++) {
		struct vfk_gpu *g = vfk_host_gpu(host, i);
		(void)vfk_gpu_get_reason(g);
		(void)vfk_gpu_console_in_use(g);
		(void)vfk_gpu_get_link_verdict(g);
		(void)vfk_gpu_get_link_reason(g);
		for (k = 0; k < vfk_gpu_blocker_count(g); k++)
			(void)vfk_gpu_blocker(g, k);
	}
}

static int tool_status(const char *const argv[], char **out, char **err)
{
	return run_tool(out, err, argv);
}

/* Run @fn in a child; false when it did not finish within @secs (killed). */
static bool finishes_within(void (*fn)(void *), void *arg, unsigned int secs, int *status)
{
	pid_t pid = fork();
	unsigned int waited = 0;

	if (pid < 0)
		return false;
	if (pid == 0) {
		alarm(secs + 5);
		fn(arg);
		_exit(test_failures ? 1 : 0);
	}
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			return true;
		if (waited >= secs * 10) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return false;
		}
		usleep(100000);
		waited++;
	}
}

/* ------------------------------------------------- user input and paths */

TEST(safety_user_input_never_becomes_a_path, "--device ../../x, a group number that is a path, "
     "path-like addresses, parents and ids to every tool: refused as usage errors; nothing "
     "outside the sysroot is opened and the tree is unchanged")
{
	struct env e;
	char *out = NULL, *err = NULL;
	size_t i;
	static const char *const evil[] = {
		"../../x", "../../../../../outside/canary", "/etc/passwd", "0000:01:00.0/../..",
		"01:00.0/..", "..", ".", "0000:01:00.0/driver", "",
	};

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(watch_start(&e.w, e.outside));
	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		const char *x = evil[i];
		const char *const cmds[][9] = {
			{ "vfio-ls", "--sysroot", e.root, "--device", x, NULL },
			{ "vfio-ls", "--sysroot", e.root, "--group", x, NULL },
			{ "vfio-bind", "--sysroot", e.root, "bind", x, NULL },
			{ "vfio-bind", "--sysroot", e.root, "bind", "--gpu", x, NULL },
			{ "vfio-bind", "--sysroot", e.root, "bind", "--group", x, NULL },
			{ "vfio-bind", "--sysroot", e.root, "restore", x, NULL },
			{ "vfio-bind", "--sysroot", e.root, "persist", x, NULL },
			{ "vfio-bind", "--sysroot", e.root, "unpersist", x, NULL },
			{ "vfio-bind", "--sysroot", e.root, "udev-hook", x, NULL },
		};
		size_t c;
		for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
			int st = tool_status(cmds[c], &out, &err);
			if (st != 2)
				test_fail_(__FILE__, __LINE__, "%s %s %s '%s': exit %d, expected a refusal:\n%s",
					   cmds[c][0], cmds[c][3], cmds[c][4], x, st, err);
			free(out);
			free(err);
		}
		/* vGPU commands take parents, types and ids that become path parts */
		{
			const char *const mdev[][8] = {
				{ "vfio-mdev", "--sysroot", e.root, "types", x, NULL },
				{ "vfio-mdev", "--sysroot", e.root, "create", x, "nvidia-231", NULL },
				{ "vfio-mdev", "--sysroot", e.root, "create", GPU, x, NULL },
				{ "vfio-mdev", "--sysroot", e.root, "remove", x, NULL },
				{ "vfio-mdev", "--sysroot", e.root, "define", x, NULL },
				{ "vfio-mdev", "--sysroot", e.root, "start", x, NULL },
				{ "vfio-mdev", "--sysroot", e.root, "sriov", x, "2", NULL },
			};
			for (c = 0; c < sizeof(mdev) / sizeof(mdev[0]); c++) {
				int st = tool_status(mdev[c], &out, &err);
				if (st == 0)
					test_fail_(__FILE__, __LINE__, "vfio-mdev %s '%s' succeeded:\n%s",
						   mdev[c][3], x, out);
				free(out);
				free(err);
			}
		}
	}
	CHECK_UNTOUCHED(&e.w, IN_ALL_EVENTS, "a path-like argument");
	check_canaries(e.outside);
	CHECK(!e.g.calls);
	env_close(&e);
}

TEST(safety_library_refuses_path_like_names, "the library's entry points refuse addresses, "
     "parents and ids that are paths, before any write")
{
	struct env e;
	struct vfk_device *d;
	struct vfk_mdevs *m;
	struct vfk_mdev_instance *inst;
	char errbuf[256], id[VFK_MDEV_ID_SIZE];
	static const char *const evil[] = { "../../x", "../../../../../outside/canary",
					    "0000:01:00.0/..", "/etc/passwd", ".." };
	size_t i;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	REQUIRE(env_scan(&e));
	REQUIRE(watch_start(&e.w, e.outside));
	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		const char *x = evil[i];
		const char *one[1] = { x };
		CHECK_INT(vfk_host_find_device(e.host, x, &d), -EINVAL);
		CHECK_INT(vfk_restore(e.ctx, one, 1, 0, errbuf, sizeof(errbuf)), -EINVAL);
		CHECK_INT(vfk_persist_remove(e.ctx, x), -EINVAL);
		CHECK_INT(vfk_persist_contains(e.ctx, x), -EINVAL);
		CHECK(vfk_mdev_parent_check(e.ctx, x, errbuf, sizeof(errbuf)) < 0);
		CHECK(vfk_mdev_create(e.ctx, x, "nvidia-231", NULL, 0, id, errbuf, sizeof(errbuf)) < 0);
		CHECK(vfk_mdev_create(e.ctx, "0000:3b:00.0", x, NULL, 0, id, errbuf, sizeof(errbuf)) < 0);
		CHECK(vfk_mdev_create(e.ctx, "0000:3b:00.0", "nvidia-231", x, 0, id, errbuf,
				      sizeof(errbuf)) < 0);
		CHECK(vfk_mdev_remove(e.ctx, x, 0, errbuf, sizeof(errbuf)) < 0);
		CHECK(vfk_sriov_set_numvfs(e.ctx, x, 1, 0, errbuf, sizeof(errbuf)) < 0);
		if (vfk_mdevs_scan(e.ctx, &m) == 0) {
			CHECK(vfk_mdevs_find_instance(m, x, &inst) < 0);
			vfk_mdevs_unref(m);
		}
	}
	CHECK_INT(e.g.calls, 0);
	CHECK_UNTOUCHED(&e.w, IN_ALL_EVENTS, "a path-like name");
	env_close(&e);
}

/* ------------------------------------------------ links out of the tree */

TEST(safety_sysfs_links_out_of_the_sysroot_are_not_followed, "driver, iommu_group, physfn and "
     "mdev_type links pointing outside the sysroot (absolute and by '..'): scanning, listing, "
     "checking and preparing a bind open nothing there")
{
	struct env e;
	char *out = NULL, *err = NULL;
	struct vfk_bind *b;
	struct vfk_mdevs *m;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	{
		AUTOFREE drv = at(&e, "sys/bus/pci/devices/" GPU "/driver");
		AUTOFREE grp = at(&e, "sys/bus/pci/devices/" GPU "/iommu_group");
		AUTOFREE adrv = at(&e, "sys/bus/pci/devices/" AUDIO "/driver");
		AUTOFREE pf = at(&e, "sys/bus/pci/devices/" AUDIO "/physfn");
		AUTOFREE t1 = pathf("%s/drivers/evil", e.outside);
		AUTOFREE t2 = pathf("%s/groups/9", e.outside);
		relink(drv, t1);
		relink(grp, t2);
		/* the same by climbing: more ".." than the tree is deep */
		AUTOFREE c1 = climb(&e, adrv, "drivers/nvidia");
		AUTOFREE c2 = climb(&e, pf, "dev");
		relink(adrv, c1);
		relink(pf, c2);
	}
	REQUIRE(watch_start(&e.w, e.outside));
	REQUIRE(env_scan(&e));
	touch_everything(e.host);
	{
		struct vfk_device *d;
		REQUIRE(vfk_host_find_device(e.host, GPU, &d) == 0);
		/* the driver is the name uevent gives: its link is not read */
		CHECK_STREQ(vfk_device_get_driver(d), "nvidia");
		CHECK_INT(vfk_device_get_iommu_group(d), 9);
		REQUIRE(vfk_bind_new(e.host, "test", VFK_BIND_INCLUDE_SHARED, &b) == 0);
		vfk_bind_add_device(b, d);
		vfk_bind_prepare(b);
		vfk_bind_free(b);
	}
	if (vfk_mdevs_scan(e.ctx, &m) == 0)
		vfk_mdevs_unref(m);
	{
		const char *const ls[] = { "vfio-ls", "--sysroot", e.root, "-v", "--json", NULL };
		const char *const ls2[] = { "vfio-ls", "--sysroot", e.root, "-v", NULL };
		const char *const st[] = { "vfio-bind", "--sysroot", e.root, "status", NULL };
		const char *const mt[] = { "vfio-mdev", "--sysroot", e.root, "types", NULL };
		const char *const *cmds[] = { ls, ls2, st, mt };
		size_t i;
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			run_tool(&out, &err, cmds[i]);
			free(out);
			free(err);
		}
	}
	CHECK_UNTOUCHED(&e.w, IN_ALL_EVENTS, "following a sysfs link");
	check_canaries(e.outside);
	env_close(&e);
}

TEST(safety_mdev_type_link_out_of_the_sysroot_is_not_followed, "a running mdev whose mdev_type "
     "link points outside: listing instances opens nothing there")
{
	struct env e;
	struct vfk_mdevs *m;
	char *out = NULL, *err = NULL;

	REQUIRE(env_open(&e, "nvidia-vgpu"));
	{
		AUTOFREE l = at(&e, "sys/bus/pci/devices/0000:3b:00.0/5b2f4e1c-8a7d-4c3e-9f60-1d2e3f4a5b6c/mdev_type");
		AUTOFREE t = pathf("%s/drivers/evil", e.outside);
		relink(l, t);
	}
	REQUIRE(watch_start(&e.w, e.outside));
	if (vfk_mdevs_scan(e.ctx, &m) == 0) {
		size_t i;
		for (i = 0; i < vfk_mdevs_instance_count(m); i++)
			(void)vfk_mdev_instance_get_type_name(vfk_mdevs_instance(m, i));
		vfk_mdevs_unref(m);
	}
	{
		const char *const argv[] = { "vfio-mdev", "--sysroot", e.root, "list", "--json", NULL };
		run_tool(&out, &err, argv);
		free(out);
		free(err);
	}
	CHECK_UNTOUCHED(&e.w, IN_ALL_EVENTS, "following mdev_type");
	env_close(&e);
}

/* Every tool that shows what a file says, on the tree at @root; none may print
 * what a canary says. */
static void tools_show_no_canary(const char *root)
{
	const char *const ls[] = { "vfio-ls", "--sysroot", root, "-v", NULL };
	const char *const lsj[] = { "vfio-ls", "--sysroot", root, "-v", "--json", NULL };
	const char *const dev[] = { "vfio-ls", "--sysroot", root, "--device", GPU, NULL };
	const char *const st[] = { "vfio-bind", "--sysroot", root, "status", NULL };
	const char *const pe[] = { "vfio-bind", "--sysroot", root, "persisted", NULL };
	const char *const ml[] = { "vfio-mdev", "--sysroot", root, "list", NULL };
	const char *const ck[] = { "vfio-check", "--sysroot", root, NULL };
	const char *const *cmds[] = { ls, lsj, dev, st, pe, ml, ck };
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *out = NULL, *err = NULL;
		run_tool(&out, &err, cmds[i]);
		if ((out && strstr(out, "canary")) || (err && strstr(err, "canary")))
			test_fail_(__FILE__, __LINE__, "%s %s printed a file outside the sysroot:\n%s%s",
				   cmds[i][0], cmds[i][3], out ? out : "", err ? err : "");
		free(out);
		free(err);
	}
}

TEST(safety_file_links_out_of_the_sysroot_are_not_read, "driver_override, uevent, "
     "local_cpulist, boot_vga, the journal, the persistence config and an mdevctl definition "
     "that are symlinks to files outside the sysroot (absolute, by '..', and through a linked "
     "directory): nothing there is read, no tool prints it")
{
	struct env e;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	{
		AUTOFREE d1 = at(&e, "sys/bus/pci/devices/" GPU "/driver_override");
		AUTOFREE d2 = at(&e, "sys/bus/pci/devices/" GPU "/uevent");
		AUTOFREE d3 = at(&e, "sys/bus/pci/devices/" AUDIO "/local_cpulist");
		AUTOFREE d4 = at(&e, "sys/bus/pci/devices/" GPU "/boot_vga");
		AUTOFREE j = at(&e, "run/vfiokit/journal");
		AUTOFREE c = at(&e, "etc/vfiokit/vfio-bind.conf");
		AUTOFREE mdir = at(&e, "etc/mdevctl.d/" GPU);
		AUTOFREE m = at(&e, "etc/mdevctl.d/" GPU "/5b2f4e1c-8a7d-4c3e-9f60-1d2e3f4a5b6c");
		AUTOFREE t1 = pathf("%s/dev/driver_override", e.outside);
		AUTOFREE t2 = pathf("%s/dev/uevent", e.outside);
		AUTOFREE t3 = climb(&e, d3, "canary");
		AUTOFREE t4 = pathf("%s/run/journal", e.outside);
		AUTOFREE t5 = climb(&e, c, "etc/vfio-bind.conf");
		AUTOFREE t6 = pathf("%s/mdevctl/canary", e.outside);
		AUTOFREE t7 = pathf("%s/dev/../canary", e.outside);

		relink(d1, t1);
		relink(d2, t2);
		relink(d3, t3);
		relink(d4, t7);
		mkdirs(mdir);
		relink(m, t6);
		{
			AUTOFREE run = at(&e, "run/vfiokit");
			AUTOFREE etc = at(&e, "etc/vfiokit");
			mkdirs(run);
			mkdirs(etc);
		}
		put(j, "x");
		relink(j, t4);
		put(c, "x");
		relink(c, t5);
	}
	REQUIRE(watch_start(&e.w, e.outside));
	REQUIRE(env_scan(&e));
	touch_everything(e.host);
	{
		struct vfk_device *d;
		const char *o;
		REQUIRE(vfk_host_find_device(e.host, GPU, &d) == 0);
		o = vfk_device_get_driver_override(d);
		CHECK(!o || !strstr(o, "canary"));
	}
	{
		struct vfk_journal *j;
		char **list;
		size_t n;
		if (vfk_journal_load(e.ctx, &j) == 0)
			vfk_journal_free(j);
		if (vfk_persist_list(e.ctx, &list, &n) == 0) {
			while (n--)
				free(list[n]);
			free(list);
		}
	}
	tools_show_no_canary(e.root);
	CHECK_UNTOUCHED(&e.w, IN_ACCESS | IN_MODIFY | IN_CLOSE_WRITE, "reading a file link");
	check_canaries(e.outside);
	env_close(&e);
}

/* Copy @from to @to byte for byte (config space holds NULs). */
static void copy_bytes(const char *from, const char *to)
{
	char buf[8192];
	size_t n = 0;
	FILE *f = fopen(from, "rb"), *t;

	if (f) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	t = fopen(to, "wb");
	if (!f || !t || fwrite(buf, 1, n, t) != n)
		test_fail_(__FILE__, __LINE__, "copy %s to %s failed", from, to);
	if (t)
		fclose(t);
}

#define PORT1 "0000:00:01.0"
#define PORT6 "0000:00:06.0"

static const char *acs_of(struct vfk_host *host, const char *addr)
{
	struct vfk_device *d;

	if (vfk_host_find_device(host, addr, &d) < 0)
		return "no such device";
	return vfk_acs_to_string(vfk_device_get_acs(d));
}

TEST(safety_config_space_out_of_the_sysroot_is_not_read, "a root port's config file that is a "
     "symlink outside the sysroot (absolute, by '..') holding an ACS capability: nothing "
     "there is read (libpci reads no device file itself) and the port's ACS is unknown, not "
     "what the outside file says; the intact tree says enabled")
{
	struct env e;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(env_scan(&e));
	CHECK_STREQ(acs_of(e.host, PORT1), "enabled");
	CHECK_STREQ(acs_of(e.host, PORT6), "enabled");
	vfk_host_unref(e.host);
	e.host = NULL;
	{
		AUTOFREE c1 = at(&e, "sys/bus/pci/devices/" PORT1 "/config");
		AUTOFREE c6 = at(&e, "sys/devices/pci0000:00/" PORT6 "/config");
		AUTOFREE o1 = pathf("%s/dev/config", e.outside);
		AUTOFREE o6 = pathf("%s/config6", e.outside);
		AUTOFREE t6 = climb(&e, c6, "config6");

		copy_bytes(c1, o1);
		copy_bytes(c6, o6);
		relink(c1, o1);
		relink(c6, t6);
	}
	REQUIRE(watch_start(&e.w, e.outside));
	REQUIRE(env_scan(&e));
	CHECK_STREQ(acs_of(e.host, PORT1), "unknown");
	CHECK_STREQ(acs_of(e.host, PORT6), "unknown");
	touch_everything(e.host);
	tools_show_no_canary(e.root);
	CHECK_UNTOUCHED(&e.w, IN_ACCESS | IN_OPEN, "reading config space through a link");
	env_close(&e);
}

TEST(safety_device_identity_out_of_the_sysroot_is_refused, "a device whose uevent is gone and "
     "whose vendor file, or whose whole bus/pci/devices entry, leads outside the sysroot: the "
     "scan fails naming the device, vfio-ls says so in one line and exits non-zero, nothing "
     "outside is opened")
{
	static const bool whole_dir[] = { false, true };
	size_t k;

	for (k = 0; k < 2; k++) {
		struct env e;
		struct vfk_host *h = NULL;
		char *out = NULL, *err = NULL;
		const char *msg;
		int st;

		REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
		if (whole_dir[k]) {
			AUTOFREE l = at(&e, "sys/bus/pci/devices/" GPU);
			AUTOFREE real = at(&e, "sys/devices/pci0000:00/" PORT1 "/" GPU);
			AUTOFREE o = pathf("%s/gpu", e.outside);
			AUTOFREE cmd = pathf("cp -a '%s' '%s'", real, o);
			REQUIRE(system(cmd) == 0);
			relink(l, o);
		} else {
			AUTOFREE u = at(&e, "sys/bus/pci/devices/" GPU "/uevent");
			AUTOFREE v = at(&e, "sys/bus/pci/devices/" GPU "/vendor");
			AUTOFREE o = pathf("%s/dev/vendor", e.outside);
			put(o, "0x10de\n");
			unlink(u);
			relink(v, o);
		}
		REQUIRE(watch_start(&e.w, e.outside));
		CHECK_INT(vfk_host_scan(e.ctx, &h), -EIO);
		msg = vfk_ctx_get_error(e.ctx);
		CHECK(msg && strstr(msg, GPU));
		{
			const char *const ls[] = { "vfio-ls", "--sysroot", e.root, NULL };
			st = run_tool(&out, &err, ls);
			CHECK(st != 0);
			CHECK(err && strstr(err, GPU) && strchr(err, '\n') == strrchr(err, '\n'));
			free(out);
			free(err);
		}
		CHECK_UNTOUCHED(&e.w, IN_ACCESS | IN_OPEN, "reading a device's identity through a link");
		vfk_host_unref(h);
		env_close(&e);
	}
}

/*
 * The reads made per device by the file's path in the sysroot (lib/core/path.c
 * vfk_root_read: one openat2 RESOLVE_IN_ROOT, no per-file check): the
 * driver_override read on first use and by a bind's prepare. The snapshot is
 * taken on the intact tree; then an attribute becomes a symlink out of the
 * sysroot (absolute, by climbing) and a device's directory on the way does
 * too. Nothing outside is opened or read and no value comes from there.
 */
#define XHCI "0000:00:14.0"
#define NIC "0000:03:00.0"
#define NVME "0000:02:00.0"

static void root_reads_stay_inside(uint32_t mask, const char *what)
{
	static const char *const addrs[] = { GPU, XHCI, NIC, NVME };
	struct env e;
	struct vfk_bind *b;
	size_t i;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(env_scan(&e));
	{
		AUTOFREE a1 = at(&e, "sys/bus/pci/devices/" GPU "/driver_override");
		/* by its real directory, so the climb counts the levels a walk meets */
		AUTOFREE a2 = at(&e, "sys/devices/pci0000:00/" XHCI "/driver_override");
		AUTOFREE d1 = at(&e, "sys/devices/pci0000:00/0000:00:1c.0/" NIC);
		AUTOFREE d2 = at(&e, "sys/devices/pci0000:00/0000:00:06.0/" NVME);
		AUTOFREE t1 = pathf("%s/dev/driver_override", e.outside);
		AUTOFREE t2 = climb(&e, a2, "dev/driver_override");
		AUTOFREE t3 = pathf("%s/nic", e.outside);
		AUTOFREE t4 = climb(&e, d2, "nvme");
		static const char *const dirs[] = { "nic", "nvme" };

		/* the directories the links on the way reach: a device's files */
		for (i = 0; i < 2; i++) {
			AUTOFREE dir = pathf("%s/%s", e.outside, dirs[i]);
			AUTOFREE ovr = pathf("%s/driver_override", dir);
			AUTOFREE uev = pathf("%s/uevent", dir);
			mkdirs(dir);
			put(ovr, CANARY);
			put(uev, CANARY);
		}
		relink(a1, t1);
		relink(a2, t2);
		dir_to_link(d1, t3);
		dir_to_link(d2, t4);
	}
	REQUIRE(watch_start(&e.w, e.outside));
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct vfk_device *d;
		const char *o;
		REQUIRE(vfk_host_find_device(e.host, addrs[i], &d) == 0);
		o = vfk_device_get_driver_override(d);
		if (o)
			test_fail_(__FILE__, __LINE__, "%s: driver_override \"%s\" came through a link "
				   "out of the sysroot", addrs[i], o);
	}
	/* prepare reads each device's override for the journal */
	REQUIRE(vfk_bind_new(e.host, "test", VFK_BIND_DRY_RUN | VFK_BIND_INCLUDE_SHARED |
					    VFK_BIND_FORCE, &b) == 0);
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct vfk_device *d;
		REQUIRE(vfk_host_find_device(e.host, addrs[i], &d) == 0);
		vfk_bind_add_device(b, d);
	}
	vfk_bind_prepare(b);
	vfk_bind_free(b);
	CHECK_UNTOUCHED(&e.w, mask, what);
	check_canaries(e.outside);
	env_close(&e);
}

TEST(safety_root_reads_resolve_links_inside_the_sysroot, "driver_override read on first use "
     "and by a bind's prepare (one openat2 RESOLVE_IN_ROOT, no per-file check) through a "
     "symlinked attribute pointing out of the sysroot (absolute, by '..') or a symlinked "
     "device directory on the way: nothing outside is opened, no value comes from there")
{
	/* resolved in the root by the kernel: not even an O_PATH open out there */
	root_reads_stay_inside(IN_OPEN | IN_ACCESS | IN_MODIFY | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE,
			       "opening an attribute by its path in the sysroot");
}

static bool without_openat2(void);

TEST(safety_root_reads_resolve_links_inside_without_openat2, "the same with openat2 refused "
     "(old kernels, seccomp, valgrind): the directory is walked in the root by hand and the "
     "last name checked")
{
	SKIP_IF(!without_openat2(), "cannot install a seccomp filter here");
	root_reads_stay_inside(IN_ACCESS | IN_MODIFY | IN_CLOSE_WRITE,
			       "reading an attribute by its path in the sysroot");
}

static void bind_gpu(void *arg)
{
	const char *root = arg;
	const char *const argv[] = { "vfio-bind", "--sysroot", root, "--timeout", "2000", "bind",
				     "--gpu", GPU, NULL };
	char *out = NULL, *err = NULL;
	int st = run_tool(&out, &err, argv);

	if (st == 0)
		test_fail_(__FILE__, __LINE__, "bind through a FIFO driver_override succeeded:\n%s", out);
	free(out);
	free(err);
}

TEST(safety_non_regular_files_are_refused_not_read, "a FIFO or a directory where the journal "
     "and the persistence config belong is an error, not an empty file; a FIFO where "
     "driver_override belongs fails the bind at once instead of waiting for a reader")
{
	struct env e;
	struct vfk_journal *j = NULL;
	char **list = NULL, before[256];
	size_t n = 0;
	int status;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	{
		AUTOFREE run = at(&e, "run/vfiokit");
		AUTOFREE etc = at(&e, "etc/vfiokit");
		AUTOFREE jp = at(&e, "run/vfiokit/journal");
		AUTOFREE cp = at(&e, "etc/vfiokit/vfio-bind.conf");
		AUTOFREE ov = at(&e, "sys/bus/pci/devices/" GPU "/driver_override");
		mkdirs(run);
		mkdirs(etc);
		unlink(jp);
		REQUIRE(mkfifo(jp, 0600) == 0);
		REQUIRE(mkdir(cp, 0755) == 0);
		CHECK(vfk_journal_load(e.ctx, &j) < 0);
		CHECK(vfk_persist_list(e.ctx, &list, &n) < 0);
		unlink(jp);
		rmdir(cp);
		unlink(ov);
		REQUIRE(mkfifo(ov, 0644) == 0);
	}
	{
		AUTOFREE drv = at(&e, "sys/bus/pci/devices/" GPU "/driver");
		char target[PATH_MAX];
		ssize_t len = readlink(drv, target, sizeof(target) - 1);
		REQUIRE(len > 0);
		target[len] = '\0';
		snprintf(before, sizeof(before), "%s", strrchr(target, '/') + 1);
	}
	CHECK(finishes_within(bind_gpu, e.root, 15, &status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		AUTOFREE drv = at(&e, "sys/bus/pci/devices/" GPU "/driver");
		char target[PATH_MAX];
		ssize_t len = readlink(drv, target, sizeof(target) - 1);
		REQUIRE(len > 0);
		target[len] = '\0';
		CHECK_STREQ(strrchr(target, '/') + 1, before);
	}
	env_close(&e);
}

/* The write side: directories on the way to a written file are links out. */
static void links_out_for_writes(struct env *e, bool climbing)
{
	char target[PATH_MAX];
	AUTOFREE drv = at(e, "sys/bus/pci/drivers/nvidia");
	AUTOFREE dev = at(e, "sys/devices/pci0000:00/0000:00:01.0/" AUDIO);
	AUTOFREE run = at(e, "run/vfiokit");
	AUTOFREE etc = at(e, "etc/vfiokit");

#define OUT(link, sub) out_target(e, link, sub, climbing, target, sizeof(target))
	dir_to_link(drv, OUT(drv, "drivers/nvidia"));
	/* the audio function's own directory: its driver_override is written */
	{
		AUTOFREE cmd = pathf("cp -a '%s/.' '%s/dev/' 2>/dev/null", dev, e->outside);
		if (system(cmd) != 0)
			test_fail_(__FILE__, __LINE__, "cannot copy %s", dev);
		/* copying replaced the canary files: put them back */
		AUTOFREE o1 = pathf("%s/dev/driver_override", e->outside);
		AUTOFREE o2 = pathf("%s/dev/uevent", e->outside);
		put(o1, CANARY);
		put(o2, CANARY);
	}
	dir_to_link(dev, OUT(dev, "dev"));
	dir_to_link(run, OUT(run, "run"));
	dir_to_link(etc, OUT(etc, "etc"));
#undef OUT
}

static void writes_stay_inside(bool climbing)
{
	struct env e;
	struct vfk_bind *b;
	struct vfk_device *d;
	char errbuf[512];

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	links_out_for_writes(&e, climbing);
	REQUIRE(watch_start(&e.w, e.outside));
	if (!env_scan(&e)) {
		/* a scan may refuse such a tree; then nothing is written at all */
		CHECK_UNTOUCHED(&e.w, IN_WRITES, "scanning");
		env_close(&e);
		return;
	}
	/* let the library write every file itself, as it would on a real host */
	e.g.let_write = true;
	REQUIRE(vfk_host_find_device(e.host, GPU, &d) == 0);
	REQUIRE(vfk_bind_new(e.host, "test", 0, &b) == 0);
	vfk_bind_set_timeout(b, 200);
	vfk_bind_add_gpu(b, vfk_host_gpu(e.host, 1) && vfk_gpu_get_device(vfk_host_gpu(e.host, 1)) == d
				 ? vfk_host_gpu(e.host, 1) : vfk_host_gpu(e.host, 0));
	vfk_bind_add_device(b, d);
	CHECK(vfk_bind_commit(b) < 0);	/* no kernel here: it fails, but where? */
	vfk_bind_free(b);
	vfk_restore(e.ctx, NULL, 0, 0, errbuf, sizeof(errbuf));
	vfk_persist_add(e.host, d);
	vfk_persist_remove(e.ctx, GPU);
	CHECK_UNTOUCHED(&e.w, IN_WRITES, climbing ? "a write through a climbing link"
						  : "a write through an absolute link");
	check_canaries(e.outside);
	env_close(&e);
}

TEST(safety_writes_through_absolute_links_stay_inside, "driver, device and state directories "
     "that are absolute symlinks out of the tree: bind, rollback, restore and persist write "
     "nothing outside (openat2 RESOLVE_IN_ROOT)")
{
	writes_stay_inside(false);
}

TEST(safety_writes_through_climbing_links_stay_inside, "the same with relative links of many "
     "'..': they end at the sysroot, as at a real '/'")
{
	writes_stay_inside(true);
}

/*
 * Make openat2 fail with ENOSYS in this (forked) test process, as on kernels
 * before 5.6, under seccomp profiles that predate it, and under valgrind: the
 * path layer must then resolve in the root by itself. False when the filter
 * cannot be installed.
 */
static bool without_openat2(void)
{
#if defined(__NR_openat2) && defined(AUDIT_ARCH_X86_64) && defined(__x86_64__)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return false;
	return syscall(__NR_openat2, AT_FDCWD, ".", NULL, 0) < 0 && errno == ENOSYS;
#else
	return false;
#endif
}

TEST(safety_absolute_links_stay_inside_without_openat2, "with openat2 refused by a seccomp "
     "filter (old kernels, container profiles), the path layer's own walk keeps every write "
     "through absolute links inside the sysroot")
{
	SKIP_IF(!without_openat2(), "cannot install a seccomp filter here");
	writes_stay_inside(false);
}

TEST(safety_climbing_links_stay_inside_without_openat2, "the same for links of many '..' "
     "without openat2: they stop at the sysroot")
{
	SKIP_IF(!without_openat2(), "cannot install a seccomp filter here");
	writes_stay_inside(true);
}

TEST(safety_vm_names_that_could_be_paths_or_options_are_refused, "a VM name becomes file "
     "names under /run/vfiokit and /var/lib/vfiokit and part of swtpm's comma-separated "
     "options: slashes, dots in front, commas, dashes in front, spaces, empty and overlong "
     "names are refused")
{
	static const char *const bad[] = { "", ".", "..", "../x", "a/b", ".hidden", "-o",
					    "a,b", "a b", "a\nb", "tpm,path=/x", "x\x01" };
	static const char *const good[] = { "win11", "gaming-passthrough", "render_vgpu.2", "A0" };
	char longest[66];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vfk_vm_name_valid(bad[i]))
			test_fail_(__FILE__, __LINE__, "VM name '%s' accepted", bad[i]);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!vfk_vm_name_valid(good[i]))
			test_fail_(__FILE__, __LINE__, "VM name '%s' refused", good[i]);
	memset(longest, 'a', sizeof(longest) - 1);
	longest[65] = '\0';
	CHECK(!vfk_vm_name_valid(longest));
	longest[64] = '\0';
	CHECK(vfk_vm_name_valid(longest));
}

/* @src without comments and with the insides of string and character
 * literals blanked, so only code is left to search. */
static void code_only(char *src)
{
	char *p = src, quote;

	while (*p) {
		if (p[0] == '/' && p[1] == '*') {
			char *end = strstr(p + 2, "*/");
			end = end ? end + 2 : p + strlen(p);
			memset(p, ' ', (size_t)(end - p));
			p = end;
		} else if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				*p++ = ' ';
		} else if (*p == '"' || *p == '\'') {
			quote = *p++;
			while (*p && *p != quote) {
				if (*p == '\\' && p[1])
					*p++ = ' ';
				*p++ = ' ';
			}
			if (*p)
				p++;
		} else {
			p++;
		}
	}
}

/* Every .c file below lib/ (the layers are folders), as paths relative to lib/. */
static char *lib_sources[256];
static size_t nlib_sources;
static size_t lib_prefix;

static int collect_source(const char *path, const struct stat *st, int type, struct FTW *f)
{
	size_t len = strlen(path);

	(void)st;
	(void)f;
	if (type == FTW_F && len > 2 && !strcmp(path + len - 2, ".c") &&
	    nlib_sources < sizeof(lib_sources) / sizeof(lib_sources[0]))
		lib_sources[nlib_sources++] = strdup(path + lib_prefix);
	return 0;
}

/* How many calls @src makes to any of @names (a word followed by '('); each
 * is a failure naming @file unless @allowed. */
static int calls_to(const char *file, char *src, const char *const *names, size_t nnames,
		    bool allowed)
{
	int found = 0;
	char *p;

	for (p = src; *p; p++) {
		char name[32];
		size_t n = 0, i;

		if (!(isalpha((unsigned char)*p) || *p == '_') ||
		    (p > src && (isalnum((unsigned char)p[-1]) || p[-1] == '_')))
			continue;
		while ((isalnum((unsigned char)p[n]) || p[n] == '_') && n < sizeof(name) - 1) {
			name[n] = p[n];
			n++;
		}
		name[n] = '\0';
		if (p[n + strspn(p + n, " \t")] != '(')
			continue;
		for (i = 0; i < nnames; i++)
			if (!strcmp(name, names[i])) {
				found++;
				if (!allowed)
					test_fail_(__FILE__, __LINE__, "lib/%s calls %s()", file, name);
			}
	}
	return found;
}

TEST(safety_library_never_runs_a_shell, "no system(), popen() or posix_spawn() anywhere in "
     "lib/, and exec*() only where QEMU (to run a VM, and to ask it what it takes), swtpm and "
     "the other programs a job needs (the boot tools of vfio-check --fix, qemu-img) are started "
     "(lib/launch/launch.c, lib/launch/vmm-caps.c, lib/launch/swtpm.c, lib/core/run.c), with "
     "an argv")
{
	static const char *const never[] = { "system", "popen", "posix_spawn", "posix_spawnp",
					     "execl", "execlp", "execle" };
	static const char *const argv_only[] = { "execv", "execvp", "execve", "execvpe", "fexecve" };
	AUTOFREE dir = pathf("%s/lib", test_srcdir());
	int nfiles = 0, execs = 0;
	size_t i;

	lib_prefix = strlen(dir) + 1;
	REQUIRE(nftw(dir, collect_source, 16, FTW_PHYS) == 0);
	for (i = 0; i < nlib_sources; i++) {
		const char *file = lib_sources[i];
		AUTOFREE path = pathf("%s/%s", dir, file);
		AUTOFREE src = read_file(path);

		if (!src) {
			test_fail_(__FILE__, __LINE__, "cannot read %s", path);
			continue;
		}
		nfiles++;
		code_only(src);
		calls_to(file, src, never, sizeof(never) / sizeof(never[0]), false);
		execs += calls_to(file, src, argv_only, sizeof(argv_only) / sizeof(argv_only[0]),
				  !strcmp(file, "launch/launch.c") || !strcmp(file, "launch/swtpm.c") ||
				  !strcmp(file, "launch/vmm-caps.c") || !strcmp(file, "core/run.c"));
		free(lib_sources[i]);
	}
	CHECK(nfiles > 20);
	CHECK_INT(execs, 4);	/* QEMU, QEMU asked, swtpm, programs run: a new one must be looked at */
}

/* --------------------------------------------------------- the journal */

TEST(safety_journal_naming_dotdot_drivers_is_refused, "a journal whose driver or override is "
     "'..', '.', a path or names a driver directory that leads outside: load refuses the "
     "malformed ones, restore writes nothing outside")
{
	struct env e;
	struct vfk_journal *j;
	char errbuf[512];
	static const char *const bad[] = {
		"0000:01:00.0 state=bound driver=.. override= owner=x since=1\n",
		"0000:01:00.0 state=bound driver=. override= owner=x since=1\n",
		"0000:01:00.0 state=bound driver=../../../../outside/drivers/evil override= owner=x since=1\n",
		"0000:01:00.0 state=bound driver= override=.. owner=x since=1\n",
		"0000:01:00.0 state=bound driver=/etc override= owner=x since=1\n",
		"../../x state=bound driver=nvidia override= owner=x since=1\n",
	};
	size_t i;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(env_scan(&e));
	REQUIRE(watch_start(&e.w, e.outside));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		AUTOFREE jp = at(&e, "run/vfiokit/journal");
		char *out = NULL, *err = NULL;
		const char *const argv[] = { "vfio-bind", "--sysroot", e.root, "restore", "--all", NULL };
		put(jp, bad[i]);
		CHECK_INT(vfk_journal_load(e.ctx, &j), -EINVAL);
		CHECK(vfk_restore(e.ctx, NULL, 0, 0, errbuf, sizeof(errbuf)) < 0);
		CHECK(run_tool(&out, &err, argv) != 0);
		free(out);
		free(err);
	}
	CHECK_INT(e.g.calls, 0);
	/* a well-formed name whose driver directory is a link out of the tree */
	{
		AUTOFREE jp = at(&e, "run/vfiokit/journal");
		AUTOFREE drv = at(&e, "sys/bus/pci/drivers/evil");
		AUTOFREE t = pathf("%s/drivers/evil", e.outside);
		relink(drv, t);
		put(jp, "# vfiokit journal v1\n"
			"0000:01:00.0 state=bound driver=evil override= owner=x since=1\n");
		e.g.let_write = true;
		CHECK(vfk_restore(e.ctx, NULL, 0, 0, errbuf, sizeof(errbuf)) < 0);
	}
	CHECK_UNTOUCHED(&e.w, IN_ALL_EVENTS, "restoring from a crafted journal");
	check_canaries(e.outside);
	env_close(&e);
}

/* ---------------------------------------------------------- /proc input */

TEST(safety_mountinfo_device_field_never_becomes_a_path, "the root guard builds "
     "dev/block/MAJ:MIN from mountinfo: a crafted field naming a path outside is ignored "
     "(fuzz-guards)")
{
	struct env e;
	struct vfk_bind *b;
	struct vfk_device *d;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	{
		AUTOFREE self = at(&e, "proc/self");
		AUTOFREE mi = at(&e, "proc/self/mountinfo");
		mkdirs(self);
		/* from sys/dev/block: "../../../../outside/blk" is the canary tree,
		 * whose slaves/ the guard would list and follow */
		AUTOFREE blk = pathf("%s/blk/slaves/nvme0n1p2", e.outside);
		AUTOFREE devblock = at(&e, "sys/dev/block");
		mkdirs(blk);
		mkdirs(devblock);
		put(mi, "22 1 ../../../../outside/blk / / rw - ext4 /dev/x rw\n");
	}
	REQUIRE(env_scan(&e));
	REQUIRE(watch_start(&e.w, e.outside));
	REQUIRE(vfk_host_find_device(e.host, "0000:02:00.0", &d) == 0);
	REQUIRE(vfk_bind_new(e.host, "test", 0, &b) == 0);
	vfk_bind_add_device(b, d);
	CHECK_INT(vfk_bind_prepare(b), 0);	/* no root device found: nothing to refuse */
	vfk_bind_free(b);
	CHECK_UNTOUCHED(&e.w, IN_ALL_EVENTS, "the root-device guard");
	env_close(&e);
}

/* ------------------------------------------------------------- no hang */

static void scan_and_explain(void *arg)
{
	const char *root = arg;
	struct vfk_ctx *ctx;
	struct vfk_host *host;

	if (vfk_ctx_new(root, &ctx) < 0)
		_exit(2);
	if (vfk_host_scan(ctx, &host) == 0) {
		size_t i;
		for (i = 0; i < vfk_host_device_count(host); i++) {
			struct vfk_device *up = vfk_host_device(host, i);
			size_t steps = 0;
			while ((up = vfk_device_get_parent(up)) && steps++ <= vfk_host_device_count(host))
				;
			CHECK(steps <= vfk_host_device_count(host));
		}
		touch_everything(host);
		vfk_host_unref(host);
	}
	vfk_ctx_unref(ctx);
}

TEST(safety_parent_link_loops_do_not_hang, "bridges whose sysfs paths make them their own "
     "parent, or each other's: the scan and the group verdicts end (regression)")
{
	struct env e;
	int status;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	{
		/* the NVMe joins the dGPU's group, so the verdict walks up from it */
		AUTOFREE grp = at(&e, "sys/bus/pci/devices/0000:02:00.0/iommu_group");
		relink(grp, "../../../../kernel/iommu_groups/9");
		/* 00:01.0 (ACS on) below itself; 00:06.0 and ... each other's */
		AUTOFREE self = at(&e, "sys/devices/pci0000:00/0000:00:01.0/0000:00:01.0");
		AUTOFREE l1 = at(&e, "sys/bus/pci/devices/0000:00:01.0");
		relink(self, ".");
		relink(l1, "../../../devices/pci0000:00/0000:00:01.0/0000:00:01.0");
	}
	CHECK(finishes_within(scan_and_explain, e.root, 20, &status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		AUTOFREE l1 = at(&e, "sys/bus/pci/devices/0000:00:01.0");
		AUTOFREE l2 = at(&e, "sys/bus/pci/devices/0000:00:06.0");
		AUTOFREE a = at(&e, "sys/devices/pci0000:00/0000:00:06.0/0000:00:01.0");
		AUTOFREE b = at(&e, "sys/devices/pci0000:00/0000:00:01.0/0000:00:06.0");
		relink(a, "../0000:00:01.0");
		relink(b, "../0000:00:06.0");
		relink(l1, "../../../devices/pci0000:00/0000:00:06.0/0000:00:01.0");
		relink(l2, "../../../devices/pci0000:00/0000:00:01.0/0000:00:06.0");
	}
	CHECK(finishes_within(scan_and_explain, e.root, 20, &status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		const char *const argv[] = { "vfio-ls", "--sysroot", e.root, "-v", NULL };
		const char *const tree[] = { "vfio-ls", "--sysroot", e.root, "--tree", NULL };
		const char *const tjson[] = { "vfio-ls", "--sysroot", e.root, "--tree", "--json", NULL };
		char *out = NULL, *err = NULL;
		CHECK(run_tool(&out, &err, argv) == 0);
		free(out);
		free(err);
		/* the link closing a loop is dropped: both devices still in the tree */
		CHECK(run_tool(&out, &err, tree) == 0);
		CHECK_CONTAINS(out, "00:01.0 ");
		CHECK_CONTAINS(out, "00:06.0 ");
		free(out);
		free(err);
		CHECK(run_tool(&out, &err, tjson) == 0);
		CHECK_CONTAINS(out, "\"0000:00:06.0\"");
		free(out);
		free(err);
	}
	env_close(&e);
}

static void read_state(void *arg)
{
	const char *root = arg;
	struct vfk_ctx *ctx;
	struct vfk_host *host;
	struct vfk_journal *j;
	char **list;
	size_t n;

	if (vfk_ctx_new(root, &ctx) < 0)
		_exit(2);
	if (vfk_host_scan(ctx, &host) == 0) {
		touch_everything(host);
		vfk_host_unref(host);
	}
	if (vfk_journal_load(ctx, &j) == 0)
		vfk_journal_free(j);
	if (vfk_persist_list(ctx, &list, &n) == 0) {
		while (n--)
			free(list[n]);
		free(list);
	}
	vfk_ctx_unref(ctx);
}

TEST(safety_fifos_in_the_tree_do_not_hang, "sysfs attributes, the journal and the persistence "
     "config replaced by FIFOs nobody writes: reading them ends at once")
{
	struct env e;
	int status;
	static const char *const fifos[] = {
		"sys/bus/pci/devices/" GPU "/uevent", "sys/bus/pci/devices/" GPU "/boot_vga",
		"sys/bus/pci/devices/" GPU "/driver_override", "sys/bus/pci/devices/" GPU "/local_cpulist",
		"sys/bus/pci/devices/" GPU "/reset_method", "sys/bus/pci/devices/0000:00:01.0/config",
		"run/vfiokit/journal",
		"etc/vfiokit/vfio-bind.conf", "run/vfiokit/lock",
	};
	size_t i;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	for (i = 0; i < sizeof(fifos) / sizeof(fifos[0]); i++) {
		AUTOFREE p = at(&e, fifos[i]);
		unlink(p);
		if (mkfifo(p, 0644) < 0)
			test_fail_(__FILE__, __LINE__, "mkfifo %s: %s", p, strerror(errno));
	}
	CHECK(finishes_within(read_state, e.root, 20, &status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the lock is never a FIFO: a bind refuses instead of waiting on it */
	REQUIRE(env_scan(&e));
	{
		struct vfk_bind *b;
		struct vfk_device *d;
		REQUIRE(vfk_host_find_device(e.host, GPU, &d) == 0);
		REQUIRE(vfk_bind_new(e.host, "test", 0, &b) == 0);
		vfk_bind_set_timeout(b, 200);
		vfk_bind_add_gpu(b, vfk_host_gpu(e.host, 1));
		CHECK(vfk_bind_commit(b) < 0);
		vfk_bind_free(b);
	}
	env_close(&e);
}

/* ------------------------------------------------- fuzzer regressions */

TEST(safety_persist_spellings_of_one_device_are_one_entry, "[device 01:00.0] and [device "
     "0000:01:00.0] are one device: listed once, unpersist drops both (fuzz-persist)")
{
	struct env e;
	char **list;
	size_t n;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	{
		AUTOFREE p = at(&e, "etc/vfiokit/vfio-bind.conf");
		put(p, "[device 01:00.0]\nid = 10de:2684\n[device 0000:01:00.0]\nid = 10de:2684\n");
	}
	REQUIRE(vfk_persist_list(e.ctx, &list, &n) == 0);
	CHECK_INT(n, 1);
	while (n--)
		free(list[n]);
	free(list);
	CHECK_INT(vfk_persist_remove(e.ctx, "0000:01:00.0"), 0);
	CHECK_INT(vfk_persist_contains(e.ctx, "01:00.0"), 0);
	env_close(&e);
}

TEST(safety_persist_ids_are_hex_only, "'id = -1:+2' is refused: accepted once, the rewritten "
     "file could not be read back (fuzz-persist crash)")
{
	struct env e;
	char **list;
	size_t n;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	{
		AUTOFREE p = at(&e, "etc/vfiokit/vfio-bind.conf");
		put(p, "[device 0000:02:00.0]\nid = -1:+2\n");
	}
	CHECK_INT(vfk_persist_list(e.ctx, &list, &n), -EINVAL);
	env_close(&e);
}

TEST(safety_profile_values_must_be_text_xml_can_carry, "a profile value with bytes that are "
     "not UTF-8 (an out-of-range 4-byte form, an overlong form, a surrogate, a lone "
     "continuation byte, a sequence cut short) or a control character is refused naming "
     "file, line and key; "
     "the libvirt XML of such a value was malformed (fuzz-plan crash); real UTF-8 passes")
{
	static const char *const bad[] = {
		"[vm]\nkernel = /boot/vmlinuz-\xf4\x96\x91\x96t\n",	/* > U+10FFFF */
		"[vm]\nkernel = /boot/\xc0\xaf\n",				/* overlong '/' */
		"[vm]\nkernel = /boot/\xed\xa0\x80\n",			/* surrogate */
		"[vm]\nkernel = /boot/\x80\n",				/* lone continuation */
		"[vm]\nkernel = /boot/\xe2\x82\n",				/* cut short */
		"[vm]\nkernel = /boot/a\x01" "b\n",				/* control character */
		"[vm]\nkernel = /boot/a\x1b[31mb\n",				/* terminal escape */
	};
	struct vfk_profile *p = NULL;
	struct vfk_plan *pl = NULL;
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *h = NULL;
	char err[512], *root, *xml = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(vfk_profile_parse(bad[i], "/etc/vfiokit/vm.ini", &p, err, sizeof(err)), -EINVAL);
		CHECK_CONTAINS(err, "/etc/vfiokit/vm.ini:2: [vm] kernel: ");
		CHECK_CONTAINS(err, "control characters or invalid UTF-8 in the value");
		vfk_profile_free(p);
		p = NULL;
	}
	CHECK_INT(vfk_profile_parse("[vm]\nkernel = /boot/vmlinuz-\xc3\xbc\xe2\x82\xac\xf0\x9f\x8e\xae\n",
				    "/etc/vfiokit/vm.ini", &p, err, sizeof(err)), 0);
	/* and that value makes well-formed XML */
	root = fixture_host("ready");
	REQUIRE(root && vfk_ctx_new(root, &ctx) == 0 && vfk_host_scan(ctx, &h) == 0);
	if (p && vfk_plan_new(h, p, &pl, err, sizeof(err)) == 0 &&
	    vfk_plan_to_libvirt_xml(pl, &xml) == 0)
		CHECK_CONTAINS(xml, "vmlinuz-\xc3\xbc\xe2\x82\xac\xf0\x9f\x8e\xae");
	else
		test_fail_(__FILE__, __LINE__, "planning the UTF-8 profile failed: %s", err);
	free(xml);
	vfk_plan_free(pl);
	vfk_profile_free(p);
	vfk_host_unref(h);
	vfk_ctx_unref(ctx);
	free(root);
}

TEST(safety_mdev_vf_parent_without_types, "a per-VF vGPU parent whose VFs offer no type at all "
     "(empty creatable_vgpu_types) scans without undefined behaviour (fuzz-mdev: qsort of a "
     "NULL list; caught by the sanitizer build)")
{
	struct env e;
	struct vfk_mdevs *m;
	static const char *const vfs[] = { "0000:41:00.4", "0000:41:00.5", "0000:41:00.6",
					   "0000:41:00.7" };
	size_t i;

	REQUIRE(env_open(&e, "nvidia-vgpu17-vf"));
	for (i = 0; i < sizeof(vfs) / sizeof(vfs[0]); i++) {
		AUTOFREE p = pathf("%s/sys/bus/pci/devices/%s/nvidia/creatable_vgpu_types", e.root, vfs[i]);
		AUTOFREE c = pathf("%s/sys/bus/pci/devices/%s/nvidia/current_vgpu_type", e.root, vfs[i]);
		put(p, "");
		put(c, "0\n");	/* no running vGPU either: the parent has no type at all */
	}
	REQUIRE(vfk_mdevs_scan(e.ctx, &m) == 0);
	vfk_mdevs_unref(m);
	env_close(&e);
}

/* ------------------------------------------------------ atomic writes */

/* A persistence config with @n entries, big enough to need several writes. */
static char *big_config(size_t n)
{
	size_t i, len = 0, cap = n * 48 + 64;
	char *s = malloc(cap);

	len += (size_t)snprintf(s, cap, "# old\n");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "\n[device 0000:%02zx:%02zx.%zx]\nid = 10de:2684\n",
					(i >> 8) + 0x40, (i >> 3) & 0x1f, i & 7);
	return s;
}

static int count_temp_files(const char *dir)
{
	AUTOFREE cmd = pathf("ls -A '%s' | grep -c '^\\..*\\.tmp$'", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;

	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static void persist_add_gpu(void *arg)
{
	struct env *e = arg;
	struct vfk_device *d;

	if (vfk_host_find_device(e->host, GPU, &d) < 0)
		_exit(3);
	_exit(vfk_persist_add(e->host, d) < 0 ? 1 : 0);
}

static void atomic_failure(bool crash)
{
	struct env e;
	AUTOFREE old = big_config(400);
	AUTOFREE conf = NULL;
	AUTOFREE dir = NULL;
	AUTOFREE now = NULL;
	struct rlimit rl = { 4096, 4096 };
	int status;
	pid_t pid;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(env_scan(&e));
	e.g.let_write = true;
	conf = at(&e, "etc/vfiokit/vfio-bind.conf");
	dir = at(&e, "etc/vfiokit");
	put(conf, old);
	REQUIRE(strlen(old) > 3 * 4096);
	/* the write fails (EFBIG) or the process dies (SIGXFSZ) 4 KiB into the new file */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (!crash)
			signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		persist_add_gpu(&e);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	if (crash)
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ);
	else
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	now = read_file(conf);
	CHECK(now && !strcmp(now, old));	/* the old file, whole */
	CHECK_INT(count_temp_files(dir), crash ? 1 : 0);	/* a crash leaves its temp file */
	/* the next write goes through, and takes the stale temp file away */
	{
		struct vfk_device *d;
		REQUIRE(vfk_host_find_device(e.host, GPU, &d) == 0);
		CHECK_INT(vfk_persist_add(e.host, d), 0);
		CHECK_INT(vfk_persist_contains(e.ctx, GPU), 1);
		CHECK_INT(count_temp_files(dir), 0);
		free(now);
		now = read_file(conf);
		CHECK(now && strlen(now) > strlen(old));
	}
	env_close(&e);
}

TEST(safety_atomic_write_failing_midway_keeps_old_file, "a state file write that fails after "
     "4 KiB (EFBIG from RLIMIT_FSIZE) leaves the old file whole and no temp file")
{
	atomic_failure(false);
}

TEST(safety_atomic_write_crash_midway_keeps_old_file, "the writer killed in the middle of "
     "write(2) (SIGXFSZ): the old file is whole; the next write succeeds and removes the stale "
     "temp file")
{
	atomic_failure(true);
}

/*
 * Make the mount holding @path private in this (new) mount namespace, so a
 * mount below it never propagates back to the host. "/" is tried first; in a
 * chroot "/" is no mount point, and the nearest mount above @path is used.
 */
static bool make_private(const char *path)
{
	char p[PATH_MAX], *slash;
	struct stat st, up;

	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0)
		return true;
	if (!realpath(path, p) || stat(p, &st) < 0)
		return false;
	while (strcmp(p, "/") != 0) {
		char parent[PATH_MAX];

		slash = strrchr(p, '/');
		snprintf(parent, sizeof(parent), "%.*s", slash == p ? 1 : (int)(slash - p), p);
		if (stat(parent, &up) < 0)
			return false;
		if (up.st_dev != st.st_dev)	/* @p is the mount point */
			return mount("none", p, "none", MS_REC | MS_PRIVATE, NULL) == 0;
		strcpy(p, parent);
		st = up;
	}
	return false;
}

TEST(safety_atomic_write_on_full_filesystem_keeps_old_file, "etc/vfiokit on a nearly full "
     "16 KiB tmpfs (private mount namespace): ENOSPC, the old file whole, no temp file")
{
	struct env e;
	AUTOFREE dir = NULL;
	int status;
	pid_t pid;

	SKIP_IF(geteuid() != 0, "needs root for a private mount namespace and a tmpfs");
	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(env_scan(&e));
	e.g.let_write = true;
	dir = at(&e, "etc/vfiokit");
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		AUTOFREE conf = pathf("%s/vfio-bind.conf", dir);
		AUTOFREE fill = pathf("%s/filler", dir);
		AUTOFREE old = big_config(150);	/* ~6 KiB: two pages */
		AUTOFREE now = NULL;
		struct vfk_device *d;
		int fd, r;
		if (unshare(CLONE_NEWNS) < 0 || !make_private(dir) ||
		    mount("vfk-test", dir, "tmpfs", 0, "size=16k,mode=0755") < 0)
			_exit(77);
		put(conf, old);
		/* fill what is left but one page: the new file needs two */
		fd = open(fill, O_WRONLY | O_CREAT, 0600);
		for (;;) {
			static const char page[4096];
			if (write(fd, page, sizeof(page)) < (ssize_t)sizeof(page))
				break;
		}
		close(fd);
		fd = open(fill, O_WRONLY);
		{
			struct stat st;
			fstat(fd, &st);
			if (ftruncate(fd, st.st_size - 4096) < 0)
				_exit(4);
		}
		close(fd);
		/* a context of this mount namespace: fds opened before unshare() would
		 * still see the directory below the tmpfs */
		{
			struct vfk_ctx *ctx;
			struct vfk_host *host;
			if (vfk_ctx_new(e.root, &ctx) < 0 || vfk_host_scan(ctx, &host) < 0 ||
			    vfk_host_find_device(host, GPU, &d) < 0)
				_exit(3);
			r = vfk_persist_add(host, d);
		}
		now = read_file(conf);
		if (r != -ENOSPC) {
			fprintf(stderr, "persist_add: %d (%s)\n", r, strerror(-r));
			r = 10;
		} else if (!now || strcmp(now, old)) {
			r = 11;
		} else if (count_temp_files(dir) != 0) {
			r = 12;
		} else {
			r = 0;
		}
		free(now);
		free(old);
		free(fill);
		free(conf);
		now = old = fill = conf = NULL;
		_exit(r);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	SKIP_IF(WIFEXITED(status) && WEXITSTATUS(status) == 77,
		"cannot mount a tmpfs in a private mount namespace here");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		test_fail_(__FILE__, __LINE__, "full filesystem: status %d (10: not ENOSPC, 11: old "
			   "file changed, 12: temp file left)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	env_close(&e);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

TEST(safety_state_files_get_exact_modes_whatever_the_umask, "journal 0600 in a 0700 run/vfiokit, "
     "vfio-bind.conf 0644, mdevctl definitions 0644, under umask 000 and 077; no temp files left")
{
	static const mode_t masks[] = { 0, 077 };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct env e;
		struct vfk_bind *b;
		struct vfk_device *d;
		char id[VFK_MDEV_ID_SIZE], errbuf[512];

		umask(masks[i]);
		REQUIRE(env_open(&e, "nvidia-vgpu"));
		{
			/* no state dirs yet: they are made with their modes too */
			AUTOFREE cmd = pathf("rm -rf '%s/run/vfiokit' '%s/etc/vfiokit'", e.root, e.root);
			CHECK(system(cmd) == 0);
		}
		REQUIRE(env_scan(&e));
		REQUIRE(vfk_host_find_device(e.host, "0000:d8:00.0", &d) == 0);
		REQUIRE(vfk_bind_new(e.host, "test", 0, &b) == 0);
		vfk_bind_set_timeout(b, 500);
		vfk_bind_add_device(b, d);
		CHECK_INT(vfk_bind_commit(b), 0);
		vfk_bind_free(b);
		CHECK_INT(vfk_persist_add(e.host, d), 0);
		CHECK_INT(vfk_mdev_define(e.ctx, NULL, "0000:d8:00.0", "nvidia-231", 0, id, errbuf,
					  sizeof(errbuf)), 0);
		{
			AUTOFREE run = at(&e, "run/vfiokit");
			AUTOFREE journal = at(&e, "run/vfiokit/journal");
			AUTOFREE etc = at(&e, "etc/vfiokit");
			AUTOFREE conf = at(&e, "etc/vfiokit/vfio-bind.conf");
			AUTOFREE mdevctl = pathf("%s/etc/mdevctl.d/0000:d8:00.0", e.root);
			AUTOFREE def = pathf("%s/%s", mdevctl, id);
			CHECK_INT(mode_of(run), 0700);
			CHECK_INT(mode_of(journal), 0600);
			CHECK_INT(mode_of(conf), 0644);
			CHECK_INT(mode_of(def), 0644);
			CHECK_INT(count_temp_files(run), 0);
			CHECK_INT(count_temp_files(etc), 0);
			CHECK_INT(count_temp_files(mdevctl), 0);
		}
		env_close(&e);
	}
	umask(022);
}

TEST(safety_atomic_write_never_writes_through_a_planted_temp_file, "a symlink or a hard link "
     "to another file planted under the temp file's name is replaced, never written through")
{
	struct env e;
	struct vfk_device *d;
	AUTOFREE tmp = NULL;
	AUTOFREE canary = NULL;

	REQUIRE(env_open(&e, "desktop-dgpu-igpu"));
	REQUIRE(env_scan(&e));
	e.g.let_write = true;
	tmp = at(&e, "etc/vfiokit/.vfio-bind.conf.tmp");
	canary = pathf("%s/canary", e.outside);
	REQUIRE(vfk_host_find_device(e.host, GPU, &d) == 0);
	REQUIRE(symlink(canary, tmp) == 0);
	CHECK_INT(vfk_persist_add(e.host, d), 0);
	unlink(tmp);
	CHECK_INT(vfk_persist_remove(e.ctx, GPU), 0);
	REQUIRE(link(canary, tmp) == 0);
	CHECK_INT(vfk_persist_add(e.host, d), 0);
	check_canaries(e.outside);
	env_close(&e);
}
