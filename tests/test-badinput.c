/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bad input: a missing or bogus sysroot, malformed addresses, unknown options
 * and unreadable or garbled sysfs files give one clear line on stderr, the
 * documented exit status and nothing on stdout; the library returns errors
 * instead of exiting. */
#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfiokit.h"
#include "harness.h"
#include "vmtest.h"

struct run {
	char *out, *err;
	int status;
};

static void run_close(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}
#define RUN __attribute__((cleanup(run_close))) struct run

static void free_str(char **p)
{
	free(*p);
}
#define AUTOFREE __attribute__((cleanup(free_str))) char *

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

static void tool(struct run *r, const char *const argv[])
{
	memset(r, 0, sizeof(*r));
	r->status = run_tool(&r->out, &r->err, argv);
}

/* The usual contract for refused input: status, silence on stdout, and
 * exactly one line on stderr that starts with the tool's name. */
#define CHECK_ONE_LINE_ERROR(r, tool_name, want_status)                               \
	do {                                                                           \
		CHECK_INT((r).status, want_status);                                    \
		CHECK_STREQ((r).out, "");                                              \
		if (count_lines((r).err) != 1)                                         \
			test_fail_(__FILE__, __LINE__, "expected one line on stderr, got:\n%s", \
				   (r).err ? (r).err : "(null)");                      \
		CHECK((r).err && strncmp((r).err, tool_name ":", strlen(tool_name ":")) == 0); \
	} while (0)

static char *path_in(const char *root, const char *rel)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", root, rel) < 0)
		return NULL;
	return p;
}

/* Replace a file by a directory: open() works, read() fails with EISDIR even
 * for root (chmod 000 does not stop root). */
static bool make_unreadable(const char *root, const char *rel)
{
	AUTOFREE p = path_in(root, rel);

	if (!p || unlink(p) < 0 || mkdir(p, 0755) < 0) {
		test_fail_(__FILE__, __LINE__, "cannot make %s unreadable: %s", rel, strerror(errno));
		return false;
	}
	return true;
}

static bool overwrite(const char *root, const char *rel, const char *data, size_t len)
{
	AUTOFREE p = path_in(root, rel);
	int fd;
	bool ok;

	fd = p ? open(p, O_WRONLY | O_TRUNC | O_CREAT, 0644) : -1;
	if (fd < 0) {
		test_fail_(__FILE__, __LINE__, "cannot write %s: %s", rel, strerror(errno));
		return false;
	}
	ok = write(fd, data, len) == (ssize_t)len;
	close(fd);
	return ok;
}

/* ------------------------------------------------------------ sysroot */

TEST(vfio_ls_missing_sysroot_is_one_line_exit_2,
     "vfio-ls --sysroot on a path that does not exist: usage error, one line naming it")
{
	RUN r;

	tool(&r, (const char *const[]){ "vfio-ls", "--sysroot", "/nonexistent/vfk-root", NULL });
	CHECK_ONE_LINE_ERROR(r, "vfio-ls", 2);
	CHECK_CONTAINS(r.err, "/nonexistent/vfk-root");
}

TEST(vfio_ls_sysroot_that_is_a_file_is_one_line_exit_2,
     "vfio-ls --sysroot on a regular file: usage error, one line")
{
	RUN r;
	AUTOFREE root = fixture_host("single-gpu");
	AUTOFREE file = NULL;

	REQUIRE(root != NULL);
	file = path_in(root, "proc/cmdline");
	tool(&r, (const char *const[]){ "vfio-ls", "--sysroot", file, NULL });
	CHECK_ONE_LINE_ERROR(r, "vfio-ls", 2);
}

TEST(vfio_ls_sysroot_without_pci_bus_is_one_line_exit_3,
     "an existing directory with no sys/bus/pci: operational failure (3), one clear line")
{
	RUN r;
	AUTOFREE root = fixture_host("single-gpu");
	AUTOFREE empty = NULL;

	REQUIRE(root != NULL);
	empty = path_in(root, "usr");	/* exists, holds no sys/ */
	REQUIRE(mkdir(empty, 0755) == 0 || errno == EEXIST);
	tool(&r, (const char *const[]){ "vfio-ls", "--sysroot", empty, NULL });
	CHECK_ONE_LINE_ERROR(r, "vfio-ls", 3);
	CHECK_CONTAINS(r.err, "PCI");
}

TEST(vfio_check_missing_sysroot_is_one_line_exit_2,
     "vfio-check --sysroot on a missing path: usage error, one line")
{
	RUN r;

	tool(&r, (const char *const[]){ "vfio-check", "--sysroot", "/nonexistent/vfk-root", NULL });
	CHECK_ONE_LINE_ERROR(r, "vfio-check", 2);
	CHECK_CONTAINS(r.err, "/nonexistent/vfk-root");
}

TEST(library_rejects_missing_or_non_directory_sysroot,
     "vfk_ctx_new gives -ENOENT / -ENOTDIR; vfk_host_scan without a PCI bus gives -ENOENT")
{
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	AUTOFREE root = fixture_host("single-gpu");
	AUTOFREE file = NULL;
	AUTOFREE dir = NULL;

	CHECK_INT(vfk_ctx_new("/nonexistent/vfk-root", &ctx), -ENOENT);
	REQUIRE(root != NULL);
	file = path_in(root, "proc/cmdline");
	CHECK_INT(vfk_ctx_new(file, &ctx), -ENOTDIR);
	dir = path_in(root, "etc");
	REQUIRE(vfk_ctx_new(dir, &ctx) == 0);
	CHECK_INT(vfk_host_scan(ctx, &host), -ENOENT);
	vfk_ctx_unref(ctx);
}

/* ------------------------------------------------------------ options */

TEST(vfio_ls_malformed_device_address_is_one_line_exit_2,
     "--device with anything but a PCI address is a usage error with one line on stderr")
{
	static const char *const bad[] = {
		"01:00", "zz:00.0", "0000:01:00.8", "0000:01:20.0", "../../../etc/passwd",
		"0000:01:00.0;reboot", "", "0000:01:00.0 ",
		"0000:01:00.0000000000000000000000000000000000000000000000000000000000000000000",
	};
	AUTOFREE root = fixture_host("desktop-dgpu-igpu");
	size_t i;

	REQUIRE(root != NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		RUN r;

		tool(&r, (const char *const[]){ "vfio-ls", "--sysroot", root, "--device", bad[i],
						NULL });
		if (r.status != 2)
			test_fail_(__FILE__, __LINE__, "--device '%s': exit %d, expected 2", bad[i],
				   r.status);
		CHECK_ONE_LINE_ERROR(r, "vfio-ls", 2);
	}
}

TEST(vfio_ls_malformed_group_is_one_line_exit_2,
     "--group with a non-number or a negative number is a usage error")
{
	static const char *const bad[] = { "abc", "-1", "1x", "", "99999999999999999999" };
	AUTOFREE root = fixture_host("desktop-dgpu-igpu");
	size_t i;

	REQUIRE(root != NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		RUN r;

		tool(&r, (const char *const[]){ "vfio-ls", "--sysroot", root, "--group", bad[i],
						NULL });
		if (r.status != 2)
			test_fail_(__FILE__, __LINE__, "--group '%s': exit %d, expected 2", bad[i],
				   r.status);
		CHECK_ONE_LINE_ERROR(r, "vfio-ls", 2);
	}
}

TEST(unknown_option_exits_2_with_help_hint,
     "an unknown option: exit 2, nothing on stdout, the --help hint on stderr (util-linux style)")
{
	static const char *const tools[] = { "vfio-ls", "vfio-check" };
	size_t i;

	for (i = 0; i < 2; i++) {
		RUN r;
		char hint[64];

		tool(&r, (const char *const[]){ tools[i], "--no-such-option", NULL });
		CHECK_INT(r.status, 2);
		CHECK_STREQ(r.out, "");
		snprintf(hint, sizeof(hint), "Try '%s --help'", tools[i]);
		CHECK_CONTAINS(r.err, hint);
		/* getopt's own complaint plus the hint at most */
		CHECK(count_lines(r.err) >= 1 && count_lines(r.err) <= 2);
	}
}

TEST(missing_option_argument_exits_2,
     "--device, --group and --sysroot without their argument are usage errors")
{
	static const char *const opts[] = { "--device", "--group", "--sysroot" };
	size_t i;

	for (i = 0; i < 3; i++) {
		RUN r;

		tool(&r, (const char *const[]){ "vfio-ls", opts[i], NULL });
		CHECK_INT(r.status, 2);
		CHECK_STREQ(r.out, "");
		CHECK(count_lines(r.err) >= 1 && count_lines(r.err) <= 2);
	}
}

TEST(help_and_version_go_to_stdout_and_exit_0,
     "--help prints usage to stdout and --version the version, both exit 0")
{
	RUN r;
	RUN v;

	tool(&r, (const char *const[]){ "vfio-ls", "--help", NULL });
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "--sysroot");
	CHECK_CONTAINS(r.out, "--device");
	CHECK_STREQ(r.err, "");
	tool(&v, (const char *const[]){ "vfio-ls", "--version", NULL });
	CHECK_INT(v.status, 0);
	CHECK_CONTAINS(v.out, vfk_version());
}

/* ------------------------------------------------------------ unreadable files */

TEST(unreadable_vendor_file_fails_cleanly_in_the_library,
     "libpci's error on an unreadable sysfs file returns an error instead of exiting the program")
{
	AUTOFREE root = fixture_host("desktop-dgpu-igpu");
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	int r;

	REQUIRE(root != NULL);
	REQUIRE(make_unreadable(root, "sys/bus/pci/devices/0000:01:00.0/vendor"));
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	vfk_ctx_set_log_priority(ctx, 0);	/* keep the test output quiet */
	r = vfk_host_scan(ctx, &host);
	/* either refused with an errno, or scanned without that device's vendor:
	 * what must not happen is an exit() from inside libpci */
	if (r == 0) {
		CHECK(host != NULL);
		vfk_host_unref(host);
	} else {
		CHECK(r == -EIO || r == -EISDIR || r == -EACCES || r == -EINVAL);
		CHECK(host == NULL);
	}
	vfk_ctx_unref(ctx);
	/* reaching this line proves the process was not ended inside libpci */
}

TEST(unreadable_vendor_file_is_one_line_naming_it,
     "vfio-ls on a tree whose 'uevent' and 'vendor' files cannot be read: exit 3, one line "
     "naming the file")
{
	AUTOFREE root = fixture_host("desktop-dgpu-igpu");
	RUN r;

	REQUIRE(root != NULL);
	/* the scan takes ids from uevent and falls back to the single attributes */
	REQUIRE(make_unreadable(root, "sys/bus/pci/devices/0000:01:00.0/uevent"));
	REQUIRE(make_unreadable(root, "sys/bus/pci/devices/0000:01:00.0/vendor"));
	tool(&r, (const char *const[]){ "vfio-ls", "--sysroot", root, NULL });
	CHECK_ONE_LINE_ERROR(r, "vfio-ls", 3);
	CHECK_CONTAINS(r.err, "vendor");
}

TEST(pci_devices_dir_not_a_directory_is_one_line_exit_3,
     "sys/bus/pci/devices replaced by a file: exit 3, one line, nothing on stdout")
{
	AUTOFREE root = fixture_host("single-gpu");
	AUTOFREE devs = NULL;
	RUN r;

	REQUIRE(root != NULL);
	devs = path_in(root, "sys/bus/pci/devices");
	REQUIRE(devs != NULL);
	/* move the links aside, put a regular file in the directory's place */
	{
		char *old = NULL;

		REQUIRE(asprintf(&old, "%s.old", devs) > 0);
		REQUIRE(rename(devs, old) == 0);
		free(old);
	}
	REQUIRE(overwrite(root, "sys/bus/pci/devices", "", 0));
	tool(&r, (const char *const[]){ "vfio-ls", "--sysroot", root, NULL });
	CHECK_ONE_LINE_ERROR(r, "vfio-ls", 3);
}

TEST(resource_file_unreadable_is_tolerated,
     "a 'resource' file that cannot be read does not stop the listing (libpci treats it as empty)")
{
	AUTOFREE root = fixture_host("desktop-dgpu-igpu");
	RUN r;

	REQUIRE(root != NULL);
	REQUIRE(make_unreadable(root, "sys/bus/pci/devices/0000:01:00.0/resource"));
	tool(&r, (const char *const[]){ "vfio-ls", "--sysroot", root, NULL });
	CHECK(r.status == 0 || (r.status == 3 && count_lines(r.err) == 1));
	if (r.status == 0)
		CHECK_CONTAINS(r.out, "0000:01:00.0");
}

TEST(unreadable_optional_attributes_do_not_stop_the_listing,
     "unreadable numa_node, reset_method, link speed or driver_override: the device is still listed")
{
	static const char *const attrs[] = { "numa_node", "local_cpulist", "reset_method",
					     "current_link_speed", "driver_override",
					     "power_state", "boot_vga" };
	AUTOFREE root = fixture_host("desktop-dgpu-igpu");
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	struct vfk_device *d = NULL;
	size_t i;
	RUN r;

	REQUIRE(root != NULL);
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		char rel[128];

		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/0000:01:00.0/%s", attrs[i]);
		REQUIRE(make_unreadable(root, rel));
	}
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	vfk_ctx_set_log_priority(ctx, 0);
	if (vfk_host_scan(ctx, &host) == 0) {
		CHECK_INT(vfk_host_find_device(host, "0000:01:00.0", &d), 0);
		if (d) {
			CHECK_INT(vfk_device_get_vendor_id(d), 0x10de);
			CHECK_INT(vfk_device_get_numa_node(d), -1);
			CHECK(vfk_device_get_reset_method(d) == NULL);
			CHECK(vfk_device_get_link_speed(d) == NULL);
			CHECK(vfk_device_get_driver_override(d) == NULL);
		}
		vfk_host_unref(host);
	} else {
		test_fail_(__FILE__, __LINE__, "scan failed on optional attributes");
	}
	vfk_ctx_unref(ctx);

	tool(&r, (const char *const[]){ "vfio-ls", "--sysroot", root, NULL });
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "0000:01:00.0");
}

TEST(garbled_sysfs_values_do_not_crash,
     "garbage in class/irq/link width/sriov files and an empty config space: no crash, sane values")
{
	AUTOFREE root = fixture_host("sriov-server");
	struct vfk_ctx *ctx = NULL;
	struct vfk_host *host = NULL;
	struct vfk_device *d = NULL;
	RUN r;

	REQUIRE(root != NULL);
	REQUIRE(overwrite(root, "sys/bus/pci/devices/0000:05:00.0/current_link_width",
			  "banana\n", 7));
	REQUIRE(overwrite(root, "sys/bus/pci/devices/0000:05:00.0/numa_node", "\n", 1));
	REQUIRE(overwrite(root, "sys/bus/pci/devices/0000:01:00.0/sriov_totalvfs",
			  "99999999999999999999999\n", 24));
	REQUIRE(overwrite(root, "sys/bus/pci/devices/0000:00:01.1/config", "", 0));
	REQUIRE(vfk_ctx_new(root, &ctx) == 0);
	vfk_ctx_set_log_priority(ctx, 0);
	if (vfk_host_scan(ctx, &host) == 0) {
		REQUIRE(vfk_host_find_device(host, "0000:00:01.1", &d) == 0);
		/* config space unreadable: ACS is unknown, not "none" */
		CHECK_INT(vfk_device_get_acs(d), VFK_ACS_UNKNOWN);
		REQUIRE(vfk_host_find_device(host, "0000:05:00.0", &d) == 0);
		CHECK_INT(vfk_device_get_numa_node(d), -1);
		vfk_host_unref(host);
	}
	vfk_ctx_unref(ctx);
	tool(&r, (const char *const[]){ "vfio-ls", "--sysroot", root, "--json", NULL });
	CHECK(r.status == 0 || count_lines(r.err) == 1);
	CHECK(r.status < 128);	/* not killed by a signal */
}

TEST(dangling_iommu_group_link_does_not_crash,
     "an iommu_group link pointing nowhere: the device is listed, with or without a group")
{
	AUTOFREE root = fixture_host("desktop-dgpu-igpu");
	AUTOFREE link = NULL;
	RUN r;

	REQUIRE(root != NULL);
	link = path_in(root, "sys/bus/pci/devices/0000:03:00.0/iommu_group");
	REQUIRE(link && unlink(link) == 0);
	REQUIRE(symlink("../../../../kernel/iommu_groups/777", link) == 0);
	tool(&r, (const char *const[]){ "vfio-ls", "--sysroot", root, NULL });
	CHECK(r.status < 128);
	CHECK(r.status == 0 || count_lines(r.err) == 1);
	if (r.status == 0)
		CHECK_CONTAINS(r.out, "0000:03:00.0");
}

/* ------------------------------------------------------------ VM profiles */

/* @text as a profile file in a fresh scratch directory; malloc'ed path. */
static char *profile_file(const char *text)
{
	char dir[] = "/tmp/vfk-badini-XXXXXX";
	char *path;
	int fd;
	bool ok;

	if (!mkdtemp(dir))
		return NULL;
	path = path_in(dir, "vm.ini");
	fd = path ? open(path, O_WRONLY | O_CREAT | O_EXCL, 0644) : -1;
	if (fd < 0) {
		free(path);
		return NULL;
	}
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	if (!ok) {
		free(path);
		return NULL;
	}
	return path;
}

TEST(vfio_vm_profile_value_consumers_cannot_carry_is_one_line_exit_2,
     "vfio-vm gen on a profile with a value QEMU or libvirt cannot carry (a comma in vendor-id, "
     "U+FFFE in the name, listen = 999.1.1.1, an indented [vm]): exit 2, one line naming "
     "file:line and key, nothing on stdout")
{
	static const struct { const char *ini, *want; } bad[] = {
		{ "[vm]\nname = a\n[tuning]\nvendor-id = ab,c\n", "vm.ini:4: [tuning] vendor-id: " },
		{ "[vm]\nname = a\xef\xbf\xbe" "b\n", "vm.ini:2: [vm] name: " },
		{ "[display]\nlisten = 999.1.1.1\n", "vm.ini:2: [display] listen: " },
		{ "  [vm]\nname = a\n", "vm.ini:1: indented line" },
		{ "[vm]\nname: a\n", "vm.ini:2: [vm] name: " },
		{ "[vm]\n\x1b]2;x\x07 = 1\n", "vm.ini:2: [vm] ?]2;x?: unknown key" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		AUTOFREE ini = profile_file(bad[i].ini);
		RUN r;

		REQUIRE(ini != NULL);
		tool(&r, (const char *const[]){ "vfio-vm", "gen", ini, "--format", "qemu", NULL });
		CHECK_ONE_LINE_ERROR(r, "vfio-vm", 2);
		CHECK_CONTAINS(r.err, bad[i].want);
		CHECK(!strchr(r.err, '\x1b') && !strchr(r.err, '\x07'));
		unlink(ini);
		*strrchr(ini, '/') = '\0';
		rmdir(ini);
	}
}

/* ------------------------------------------------------------ --json */

TEST(every_json_option_prints_json_or_is_refused, "every tool and command given --json "
     "either prints one JSON value (parsed here) with exit 0, or refuses the option with "
     "exit 2 and one line: vfio-bind status/persisted/bind --dry-run/restore --dry-run, "
     "vfio-mdev types/list/sriov, vfio-vm plan/status, vfio-check, vfio-ls print it; the "
     "commands that change the host, and gen, refuse it")
{
	char *root = fixture_host_shared("desktop-dgpu-igpu");
	char *profile = write_temp("p.ini", "[vm]\nname = t\n[gpu]\nmode = passthrough\n");
	const struct { const char *argv[10]; bool json; } cases[] = {
		{ { "vfio-ls", "--json" }, true },
		{ { "vfio-check", "--json" }, true },
		{ { "vfio-check", "--fix", "--dry-run", "--json" }, true },
		{ { "vfio-check", "--revert", "--json" }, false },
		{ { "vfio-bind", "status", "--json" }, true },
		{ { "vfio-bind", "persisted", "--json" }, true },
		{ { "vfio-bind", "bind", "--dry-run", "--json", "--gpu", "01:00.0" }, true },
		{ { "vfio-bind", "restore", "--dry-run", "--json", "--all" }, true },
		{ { "vfio-bind", "bind", "--json", "--gpu", "01:00.0" }, false },
		{ { "vfio-bind", "persist", "--json", "01:00.0" }, false },
		{ { "vfio-bind", "unpersist", "--json", "01:00.0" }, false },
		{ { "vfio-mdev", "types", "--json" }, true },
		{ { "vfio-mdev", "list", "--json" }, true },
		{ { "vfio-mdev", "sriov", "--json" }, true },
		{ { "vfio-mdev", "create", "--json", "0000:01:00.0", "nvidia-1" }, false },
		{ { "vfio-mdev", "sriov", "--json", "0000:01:00.0", "2" }, false },
		{ { "vfio-vm", "plan", profile, "--json" }, true },
		{ { "vfio-vm", "status", "--json" }, true },
		{ { "vfio-vm", "gen", profile, "--format", "qemu", "--json" }, false },
		{ { "vfio-vm", "up", profile, "--json" }, false },
		{ { "vfio-vm", "down", "t", "--json" }, false },
	};
	size_t i;

	REQUIRE(root && profile);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[14] = { 0 };
		char *out = NULL, *err = NULL;
		size_t k, n = 0;
		int st;

		for (k = 0; cases[i].argv[k]; k++)
			argv[n++] = cases[i].argv[k];
		argv[n++] = "--sysroot";
		argv[n++] = root;
		st = run_tool(&out, &err, argv);
		if (cases[i].json) {
			json_object *j = out ? json_tokener_parse(out) : NULL;

			if (st != 0 || !j)
				test_fail_(__FILE__, __LINE__, "%s %s: exit %d, %s; stderr: %s", argv[0],
					   argv[1], st, j ? "JSON" : "not JSON", err ? err : "");
			json_object_put(j);
		} else {
			if (st != 2 || !err || !strstr(err, "--json") || strchr(err, '\n') != strrchr(err, '\n'))
				test_fail_(__FILE__, __LINE__, "%s %s: want exit 2 and one line on --json, "
					   "got exit %d: %s", argv[0], argv[1], st, err ? err : "");
		}
		free(out);
		free(err);
	}
	free(root);
	free(profile);
}
