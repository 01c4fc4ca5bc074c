/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-ls as a user and a script see it: human view, the stable --json shape
 * from the product requirements, and the --gpus/--group/--device filters. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "vfiokit.h"
#include "harness.h"

struct run {
	char *root;
	char *out;
	char *err;
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
	memset(r, 0, sizeof(*r));
}
#define RUN __attribute__((cleanup(run_close))) struct run

/* Build the fixture and run vfio-ls --sysroot ROOT ARGS...; parse stdout as
 * JSON when --json is among the arguments. */
static bool ls_run(struct run *r, const char *host, const char *const *args)
{
	const char *argv[16] = { "vfio-ls", "--sysroot" };
	size_t n = 2;
	bool json = false;

	memset(r, 0, sizeof(*r));
	r->root = fixture_host_shared(host);
	if (!r->root)
		return false;
	argv[n++] = r->root;
	for (; args && *args && n < 15; args++) {
		argv[n++] = *args;
		if (strcmp(*args, "--json") == 0)
			json = true;
	}
	argv[n] = NULL;
	r->status = run_tool(&r->out, &r->err, argv);
	if (json && r->status == 0) {
		r->json = json_tokener_parse(r->out ? r->out : "");
		if (!r->json) {
			test_fail_(__FILE__, __LINE__, "vfio-ls --json output does not parse:\n%s",
				   r->out ? r->out : "");
			return false;
		}
	}
	return true;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v)) {
		test_fail_(__FILE__, __LINE__, "JSON key \"%s\" missing", key);
		return NULL;
	}
	return v;
}

static bool is_type(json_object *o, json_type t)
{
	return o && json_object_is_type(o, t);
}

static const char *str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* group object with this id, or NULL */
static json_object *find_group(json_object *root, int id)
{
	json_object *groups = get(root, "groups");
	size_t i;

	for (i = 0; groups && i < json_object_array_length(groups); i++) {
		json_object *g = json_object_array_get_idx(groups, i);
		json_object *v = get(g, "id");

		if (is_type(v, json_type_int) && json_object_get_int(v) == id)
			return g;
	}
	return NULL;
}

static json_object *find_by_address(json_object *arr, const char *addr)
{
	size_t i;

	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *a = str(o, "address");

		if (a && strcmp(a, addr) == 0)
			return o;
	}
	return NULL;
}

/* device object anywhere in groups[] (or ungrouped[] when present) */
static json_object *find_device(json_object *root, const char *addr)
{
	json_object *groups = get(root, "groups"), *v = NULL, *d;
	size_t i;

	for (i = 0; groups && i < json_object_array_length(groups); i++) {
		d = find_by_address(get(json_object_array_get_idx(groups, i), "devices"), addr);
		if (d)
			return d;
	}
	if (json_object_object_get_ex(root, "ungrouped", &v))
		return find_by_address(v, addr);
	return NULL;
}

static bool str_array_has(json_object *arr, const char *s)
{
	size_t i;

	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		if (is_type(v, json_type_string) && strcmp(json_object_get_string(v), s) == 0)
			return true;
	}
	return false;
}

static bool lower_hex(const char *s, size_t len)
{
	size_t i;

	if (!s || strlen(s) != len)
		return false;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* ------------------------------------------------------------ human view */

TEST(vfio_ls_human_view_lists_groups_devices_and_verdicts,
     "human output shows each IOMMU group, its devices with ids and drivers, and GPU verdicts")
{
	RUN r;

	REQUIRE(ls_run(&r, "shared-chipset", NULL));
	CHECK_INT(r.status, 0);
	CHECK_STREQ(r.err, "");
	CHECK_CONTAINS(r.out, "IOMMU group 6");
	CHECK_CONTAINS(r.out, "IOMMU group 1");
	CHECK_CONTAINS(r.out, "0000:02:00.0");
	CHECK_CONTAINS(r.out, "[10de:13c2]");
	CHECK_CONTAINS(r.out, "GM204 [GeForce GTX 970]");
	CHECK_CONTAINS(r.out, "vfio-pci");
	CHECK_CONTAINS(r.out, "ASM1062");
	CHECK_CONTAINS(r.out, "0000:04:00.0");
	/* the verdict names the reason for the shared group */
	CHECK_CONTAINS(r.out, "no ACS on 0000:00:1c.0");
	/* every GPU gets its verdict: address appears after the group listing */
	{
		const char *last_group = r.out ? strstr(r.out, "IOMMU group 7") : NULL;

		REQUIRE(last_group != NULL);
		CHECK_CONTAINS(last_group, "0000:00:02.0");
		CHECK_CONTAINS(last_group, "0000:01:00.0");
		CHECK_CONTAINS(last_group, "0000:02:00.0");
	}
}

TEST(vfio_ls_human_view_says_plainly_when_iommu_is_off,
     "with no IOMMU groups the output says the IOMMU is disabled and still lists devices and GPUs")
{
	RUN r;

	REQUIRE(ls_run(&r, "iommu-off", NULL));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "IOMMU");
	CHECK_CONTAINS(r.out, "disabled");
	CHECK_CONTAINS(r.out, "0000:01:00.0");
	CHECK_CONTAINS(r.out, "0000:01:00.3");
	CHECK_CONTAINS(r.out, "0000:02:00.0");	/* not a GPU, still listed */
	CHECK_CONTAINS(r.out, "[10de:1f08]");
}

TEST(vfio_ls_human_view_marks_boot_vga_bridges_and_vfs,
     "markers tell the boot VGA device, bridges and SR-IOV VFs apart")
{
	RUN r;

	REQUIRE(ls_run(&r, "sriov-server", NULL));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "boot VGA");
	CHECK_CONTAINS(r.out, "bridge");
	CHECK_CONTAINS(r.out, "VF");
	CHECK_CONTAINS(r.out, "0000:01:02.3");
	CHECK_CONTAINS(r.out, "[1002:73ae]");
}

/* ------------------------------------------------------------ JSON */

TEST(vfio_ls_json_has_the_stable_shape,
     "--json: iommu.enabled, groups[].id/devices[] and gpus[] with the documented keys and types")
{
	RUN r;
	json_object *iommu, *groups, *gpus;
	size_t i, j;

	REQUIRE(ls_run(&r, "desktop-dgpu-igpu", ARGS("--json")));
	CHECK_INT(r.status, 0);
	REQUIRE(r.json != NULL);
	CHECK_STREQ(r.err, "");
	iommu = get(r.json, "iommu");
	CHECK(is_type(get(iommu, "enabled"), json_type_boolean));
	CHECK(json_object_get_boolean(get(iommu, "enabled")));
	groups = get(r.json, "groups");
	REQUIRE(is_type(groups, json_type_array));
	CHECK_INT(json_object_array_length(groups), 11);
	for (i = 0; i < json_object_array_length(groups); i++) {
		json_object *g = json_object_array_get_idx(groups, i);
		json_object *devs = get(g, "devices");

		CHECK(is_type(get(g, "id"), json_type_int));
		REQUIRE(is_type(devs, json_type_array));
		CHECK(json_object_array_length(devs) > 0);
		for (j = 0; j < json_object_array_length(devs); j++) {
			json_object *d = json_object_array_get_idx(devs, j);
			json_object *drv = get(d, "driver");

			CHECK(is_type(get(d, "address"), json_type_string));
			CHECK(lower_hex(str(d, "class"), 4));
			CHECK(lower_hex(str(d, "vendor"), 4));
			CHECK(lower_hex(str(d, "device"), 4));
			CHECK(str(d, "name") && *str(d, "name"));
			CHECK(drv == NULL ? json_object_object_get_ex(d, "driver", NULL)
					  : is_type(drv, json_type_string));
			CHECK(is_type(get(d, "bridge"), json_type_boolean));
		}
	}
	gpus = get(r.json, "gpus");
	REQUIRE(is_type(gpus, json_type_array));
	CHECK_INT(json_object_array_length(gpus), 2);
	for (i = 0; i < json_object_array_length(gpus); i++) {
		json_object *g = json_object_array_get_idx(gpus, i);

		CHECK(is_type(get(g, "address"), json_type_string));
		CHECK(is_type(get(g, "group"), json_type_int));
		CHECK(is_type(get(g, "functions"), json_type_array));
		CHECK(is_type(get(g, "blockers"), json_type_array));
		CHECK(is_type(get(g, "isolated"), json_type_boolean));
		CHECK(is_type(get(g, "boot_vga"), json_type_boolean));
	}
}

TEST(vfio_ls_json_device_values_match_the_fixture,
     "class/vendor/device as lowercase hex without 0x, driver string or null, bridge flag")
{
	RUN r;
	json_object *d, *g;

	REQUIRE(ls_run(&r, "desktop-dgpu-igpu", ARGS("--json")));
	REQUIRE(r.json != NULL);
	REQUIRE((d = find_device(r.json, "0000:01:00.0")));
	CHECK_STREQ(str(d, "class"), "0300");
	CHECK_STREQ(str(d, "vendor"), "10de");
	CHECK_STREQ(str(d, "device"), "2684");
	CHECK_STREQ(str(d, "driver"), "nvidia");
	CHECK_CONTAINS(str(d, "name"), "RTX 4090");
	CHECK(!json_object_get_boolean(get(d, "bridge")));
	REQUIRE((d = find_device(r.json, "0000:00:14.2")));
	CHECK(get(d, "driver") == NULL);	/* JSON null */
	CHECK(json_object_object_get_ex(d, "driver", NULL));
	CHECK_STREQ(str(d, "class"), "0500");
	REQUIRE((d = find_device(r.json, "0000:00:01.0")));
	CHECK(json_object_get_boolean(get(d, "bridge")));
	CHECK_STREQ(str(d, "device"), "460d");
	REQUIRE((d = find_device(r.json, "0000:00:00.0")));
	CHECK(json_object_get_boolean(get(d, "bridge")));

	REQUIRE((g = find_by_address(get(r.json, "gpus"), "0000:01:00.0")));
	CHECK_INT(json_object_get_int(get(g, "group")), 9);
	CHECK(json_object_get_boolean(get(g, "isolated")));
	CHECK(!json_object_get_boolean(get(g, "boot_vga")));
	CHECK_INT(json_object_array_length(get(g, "functions")), 2);
	CHECK(str_array_has(get(g, "functions"), "0000:01:00.0"));
	CHECK(str_array_has(get(g, "functions"), "0000:01:00.1"));
	CHECK_INT(json_object_array_length(get(g, "blockers")), 0);
	REQUIRE((g = find_by_address(get(r.json, "gpus"), "0000:00:02.0")));
	CHECK(json_object_get_boolean(get(g, "boot_vga")));
}

TEST(vfio_ls_json_lists_blockers_of_a_shared_group,
     "--json on the shared chipset host: the GTX 970 is not isolated, SATA and NIC block it")
{
	RUN r;
	json_object *g, *b;

	REQUIRE(ls_run(&r, "shared-chipset", ARGS("--json")));
	REQUIRE(r.json != NULL);
	REQUIRE((g = find_by_address(get(r.json, "gpus"), "0000:02:00.0")));
	CHECK(!json_object_get_boolean(get(g, "isolated")));
	b = get(g, "blockers");
	CHECK_INT(json_object_array_length(b), 2);
	CHECK(str_array_has(b, "0000:03:00.0"));
	CHECK(str_array_has(b, "0000:04:00.0"));
	CHECK(!str_array_has(b, "0000:00:1c.0"));
	CHECK_INT(json_object_get_int(get(g, "group")), 6);
	REQUIRE((g = find_by_address(get(r.json, "gpus"), "0000:01:00.0")));
	CHECK(json_object_get_boolean(get(g, "isolated")));
}

TEST(vfio_ls_json_hex_ids_are_lowercase_everywhere,
     "every class/vendor/device value on every fixture is 4 lowercase hex digits")
{
	static const char *const hosts[] = { "amd-switch", "sriov-server", "laptop-0302",
					     "nvidia-4fn" };
	size_t h, i, j;

	for (h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		RUN r;
		json_object *groups;

		REQUIRE(ls_run(&r, hosts[h], ARGS("--json")));
		REQUIRE(r.json != NULL);
		groups = get(r.json, "groups");
		for (i = 0; groups && i < json_object_array_length(groups); i++) {
			json_object *devs = get(json_object_array_get_idx(groups, i), "devices");

			for (j = 0; devs && j < json_object_array_length(devs); j++) {
				json_object *d = json_object_array_get_idx(devs, j);

				if (!lower_hex(str(d, "class"), 4) || !lower_hex(str(d, "vendor"), 4) ||
				    !lower_hex(str(d, "device"), 4))
					test_fail_(__FILE__, __LINE__, "%s %s: class %s vendor %s device %s",
						   hosts[h], str(d, "address"), str(d, "class"),
						   str(d, "vendor"), str(d, "device"));
			}
		}
	}
	{
		RUN r;
		json_object *d;

		REQUIRE(ls_run(&r, "amd-switch", ARGS("--json")));
		REQUIRE(r.json != NULL);
		REQUIRE((d = find_device(r.json, "0000:0d:00.0")));
		CHECK_STREQ(str(d, "vendor"), "1002");
		CHECK_STREQ(str(d, "device"), "73bf");
	}
	{
		RUN r;
		json_object *d;

		REQUIRE(ls_run(&r, "laptop-0302", ARGS("--json")));
		REQUIRE(r.json != NULL);
		REQUIRE((d = find_device(r.json, "0000:01:00.0")));
		CHECK_STREQ(str(d, "class"), "0302");
		CHECK(find_by_address(get(r.json, "gpus"), "0000:01:00.0") != NULL);
	}
}

TEST(vfio_ls_json_iommu_off_reports_disabled_and_still_lists_gpus,
     "--json without groups: iommu.enabled false, groups empty, GPUs and devices still there")
{
	RUN r;
	json_object *gpus;

	REQUIRE(ls_run(&r, "iommu-off", ARGS("--json")));
	CHECK_INT(r.status, 0);
	REQUIRE(r.json != NULL);
	CHECK(!json_object_get_boolean(get(get(r.json, "iommu"), "enabled")));
	CHECK_INT(json_object_array_length(get(r.json, "groups")), 0);
	gpus = get(r.json, "gpus");
	CHECK_INT(json_object_array_length(gpus), 2);
	CHECK(find_by_address(gpus, "0000:01:00.0") != NULL);
	CHECK(!json_object_get_boolean(get(find_by_address(gpus, "0000:01:00.0"), "isolated")));
	/* devices are listed somewhere (the man page documents "ungrouped") */
	CHECK(find_device(r.json, "0000:02:00.0") != NULL);
}

TEST(vfio_ls_json_on_every_fixture_matches_the_library,
     "on each fixture, --json lists as many devices, groups and GPUs as the library sees")
{
	static const char *const hosts[] = {
		"desktop-dgpu-igpu", "nvidia-4fn", "amd-switch", "shared-chipset", "single-gpu",
		"laptop-0302", "two-identical", "sriov-server", "iommu-off", "nonroot", "ready",
		"pvm", "acs-redir-off", "shared-chipset-nonroot",
	};
	size_t h, i;

	for (h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		RUN r;
		struct vfk_ctx *ctx = NULL;
		struct vfk_host *host = NULL;
		json_object *groups, *un = NULL;
		size_t ndev = 0;

		REQUIRE(ls_run(&r, hosts[h], ARGS("--json")));
		if (r.status != 0 || !r.json) {
			test_fail_(__FILE__, __LINE__, "%s: exit %d, stderr: %s", hosts[h], r.status,
				   r.err);
			continue;
		}
		REQUIRE(vfk_ctx_new(r.root, &ctx) == 0);
		if (vfk_host_scan(ctx, &host) < 0) {
			test_fail_(__FILE__, __LINE__, "%s: scan failed", hosts[h]);
			vfk_ctx_unref(ctx);
			continue;
		}
		groups = get(r.json, "groups");
		for (i = 0; groups && i < json_object_array_length(groups); i++)
			ndev += json_object_array_length(
				get(json_object_array_get_idx(groups, i), "devices"));
		if (json_object_object_get_ex(r.json, "ungrouped", &un) && un)
			ndev += json_object_array_length(un);
		if (ndev != vfk_host_device_count(host))
			test_fail_(__FILE__, __LINE__, "%s: JSON lists %zu devices, library %zu",
				   hosts[h], ndev, vfk_host_device_count(host));
		if (json_object_array_length(groups) != vfk_host_group_count(host))
			test_fail_(__FILE__, __LINE__, "%s: JSON lists %zu groups, library %zu",
				   hosts[h], json_object_array_length(groups),
				   vfk_host_group_count(host));
		if (json_object_array_length(get(r.json, "gpus")) != vfk_host_gpu_count(host))
			test_fail_(__FILE__, __LINE__, "%s: JSON lists %zu GPUs, library %zu",
				   hosts[h], json_object_array_length(get(r.json, "gpus")),
				   vfk_host_gpu_count(host));
		vfk_host_unref(host);
		vfk_ctx_unref(ctx);
	}
}

/* ------------------------------------------------------------ filters */

TEST(vfio_ls_gpus_filter_keeps_only_gpu_groups,
     "--gpus: only groups holding GPU functions, and every GPU")
{
	RUN r;
	json_object *groups;

	REQUIRE(ls_run(&r, "desktop-dgpu-igpu", ARGS("--gpus", "--json")));
	CHECK_INT(r.status, 0);
	REQUIRE(r.json != NULL);
	groups = get(r.json, "groups");
	CHECK_INT(json_object_array_length(groups), 2);
	CHECK(find_group(r.json, 2) != NULL);
	CHECK(find_group(r.json, 9) != NULL);
	CHECK(find_group(r.json, 7) == NULL);
	CHECK_INT(json_object_array_length(get(r.json, "gpus")), 2);
	CHECK(find_device(r.json, "0000:01:00.1") != NULL);
	CHECK(find_device(r.json, "0000:03:00.0") == NULL);
}

TEST(vfio_ls_group_filter_shows_one_group_and_its_gpus,
     "--group N: that group only, and only the GPUs with a function in it")
{
	RUN r;
	json_object *gpus;

	REQUIRE(ls_run(&r, "shared-chipset", ARGS("--group", "6", "--json")));
	CHECK_INT(r.status, 0);
	REQUIRE(r.json != NULL);
	CHECK_INT(json_object_array_length(get(r.json, "groups")), 1);
	CHECK(find_group(r.json, 6) != NULL);
	CHECK_INT(json_object_array_length(get(find_group(r.json, 6), "devices")), 7);
	gpus = get(r.json, "gpus");
	CHECK_INT(json_object_array_length(gpus), 1);
	CHECK(find_by_address(gpus, "0000:02:00.0") != NULL);
}

TEST(vfio_ls_group_filter_unknown_group_exits_1,
     "--group of a group that does not exist: exit 1, one line on stderr, no listing")
{
	RUN r;

	REQUIRE(ls_run(&r, "shared-chipset", ARGS("--group", "99")));
	CHECK_INT(r.status, 1);
	CHECK_STREQ(r.out, "");
	CHECK_INT(count_lines(r.err), 1);
	CHECK_CONTAINS(r.err, "99");
}

TEST(vfio_ls_device_filter_tells_identical_gpus_apart,
     "--device ADDR (full or short) shows that device's group and GPU, not its twin's")
{
	RUN r;
	RUN s;
	json_object *g;

	REQUIRE(ls_run(&r, "two-identical", ARGS("--device", "0000:0b:00.0", "--json")));
	CHECK_INT(r.status, 0);
	REQUIRE(r.json != NULL);
	CHECK_INT(json_object_array_length(get(r.json, "groups")), 1);
	REQUIRE((g = find_group(r.json, 9)));
	CHECK(find_device(r.json, "0000:0b:00.1") != NULL);
	CHECK(find_device(r.json, "0000:01:00.0") == NULL);
	CHECK_INT(json_object_array_length(get(r.json, "gpus")), 1);
	CHECK(find_by_address(get(r.json, "gpus"), "0000:0b:00.0") != NULL);

	REQUIRE(ls_run(&s, "two-identical", ARGS("--device", "01:00.1", "--json")));
	CHECK_INT(s.status, 0);
	REQUIRE(s.json != NULL);
	CHECK(find_group(s.json, 7) != NULL);
	CHECK(find_by_address(get(s.json, "gpus"), "0000:01:00.0") != NULL);
	CHECK(find_by_address(get(s.json, "gpus"), "0000:0b:00.0") == NULL);
}

TEST(vfio_ls_device_filter_absent_device_exits_1,
     "--device of a well-formed address not on the host: exit 1, one line, nothing listed")
{
	RUN r;

	REQUIRE(ls_run(&r, "desktop-dgpu-igpu", ARGS("--device", "0000:05:00.0")));
	CHECK_INT(r.status, 1);
	CHECK_STREQ(r.out, "");
	CHECK_INT(count_lines(r.err), 1);
	CHECK_CONTAINS(r.err, "05:00.0");
}

TEST(vfio_ls_reports_iommufd_and_the_vfio_cdev_of_devices_on_vfio,
     "with /dev/iommu and vfio-dev/vfioN in sysfs: --json says iommu.iommufd true and vfio_cdev "
     "for the function on vfio-pci (null for one on its native driver, even with a stray "
     "vfio-dev entry); the text header names iommufd; without them: false, null")
{
	char *root = fixture_host("igpu-dgpu-vfio"), *out = NULL, *err = NULL;
	json_object *j;

	REQUIRE(root);
	CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root, "--json")), 0);
	j = json_tokener_parse(out ? out : "");
	REQUIRE(j);
	CHECK(!json_object_get_boolean(get(get(j, "iommu"), "iommufd")));
	CHECK(json_object_get_type(get(find_device(j, "0000:04:00.0"), "vfio_cdev")) == json_type_null);
	json_object_put(j);
	free(out);
	free(err);

	REQUIRE(put_file(root, "dev/iommu", ""));
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:04:00.0/vfio-dev/vfio5/dev", "511:5\n"));
	REQUIRE(put_file(root, "sys/bus/pci/devices/0000:00:02.0/vfio-dev/vfio9/dev", "511:9\n"));
	CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root, "--json")), 0);
	j = json_tokener_parse(out ? out : "");
	REQUIRE(j);
	CHECK(json_object_get_boolean(get(get(j, "iommu"), "iommufd")));
	CHECK_STREQ(str(find_device(j, "0000:04:00.0"), "vfio_cdev"), "vfio5");
	CHECK(json_object_get_type(get(find_device(j, "0000:00:02.0"), "vfio_cdev")) == json_type_null);
	json_object_put(j);
	free(out);
	free(err);
	CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root)), 0);
	CHECK_CONTAINS(out, ", iommufd (/dev/iommu)\n");
	free(out);
	free(err);
	free(root);
}

/* ------------------------------------------------------------ fixtures */

TEST(fixture_trees_are_read_by_lspci_like_vfio_ls,
     "lspci's sysfs backend reads each fixture, sees ACS on the ports that have it, same devices")
{
	static const char *const lspci = "/usr/bin/lspci";
	static const struct { const char *host, *port; bool acs; } cases[] = {
		{ "desktop-dgpu-igpu", "00:01.0", true }, { "desktop-dgpu-igpu", "00:1c.0", false },
		{ "amd-switch", "0c:00.0", true }, { "shared-chipset", "00:1c.0", false },
		{ "sriov-server", "00:01.1", true }, { "nvidia-4fn", "00:03.1", true },
	};
	size_t i;

	REQUIRE_PROGRAM(lspci, "pciutils");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		RUN r;
		char *out = NULL, *err = NULL, *opt = NULL;
		int st;

		REQUIRE(ls_run(&r, cases[i].host, ARGS("--json")));
		REQUIRE(r.json != NULL);
		REQUIRE(asprintf(&opt, "sysfs.path=%s/sys/bus/pci", r.root) > 0);
		{
			const char *argv[] = { lspci, "-A", "linux-sysfs", "-O", opt, "-nnvvv",
					       "-s", cases[i].port, NULL };

			st = run_tool(&out, &err, argv);
		}
		CHECK_INT(st, 0);
		if (cases[i].acs)
			CHECK_CONTAINS(out, "Access Control Services");
		else
			CHECK(out && !strstr(out, "Access Control Services"));
		CHECK_CONTAINS(out, "Express");
		free(out);
		free(err);
		out = err = NULL;
		{
			const char *argv[] = { lspci, "-A", "linux-sysfs", "-O", opt, "-D", "-n",
					       NULL };

			st = run_tool(&out, &err, argv);
		}
		CHECK_INT(st, 0);
		/* every function lspci sees, vfio-ls lists */
		for (char *line = out, *nl; line && *line; line = nl + 1) {
			char addr[13];

			nl = strchr(line, '\n');
			if (!nl)
				break;
			if (nl - line >= 12) {
				memcpy(addr, line, 12);
				addr[12] = '\0';
				if (!find_device(r.json, addr))
					test_fail_(__FILE__, __LINE__, "%s: lspci sees %s, vfio-ls not",
						   cases[i].host, addr);
			}
		}
		free(out);
		free(err);
		free(opt);
	}
}

/* ------------------------------------------------------------ --tree */

/* The node of --tree --json at @addr, searched depth first, or NULL. */
static json_object *tree_find(json_object *nodes, const char *addr)
{
	size_t i;

	for (i = 0; nodes && i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i), *v = NULL, *hit;
		const char *a = json_object_object_get_ex(n, "address", &v) ? json_object_get_string(v)
									   : NULL;

		if (a && strcmp(a, addr) == 0)
			return n;
		if (json_object_object_get_ex(n, "children", &v) && (hit = tree_find(v, addr)))
			return hit;
	}
	return NULL;
}

static size_t tree_count(json_object *nodes)
{
	size_t i, n = 0;

	for (i = 0; nodes && i < json_object_array_length(nodes); i++) {
		json_object *kids = NULL;

		if (json_object_object_get_ex(json_object_array_get_idx(nodes, i), "address", NULL))
			n++;
		if (json_object_object_get_ex(json_object_array_get_idx(nodes, i), "children", &kids))
			n += tree_count(kids);
	}
	return n;
}

TEST(vfio_ls_tree_text_shows_ports_acs_groups_verdicts_and_merge_points,
     "--tree: one line per device under its port, the ACS of bridges, groups, GPU verdicts "
     "and links, and the bridge where a shared group starts with the reason; no colour off a "
     "terminal")
{
	RUN r;

	REQUIRE(ls_run(&r, "amd-switch", ARGS("--tree")));
	CHECK_INT(r.status, 0);
	CHECK_STREQ(r.err, "");
	CHECK(r.out && strncmp(r.out, "pci0000:00\n", 11) == 0);
	CHECK_CONTAINS(r.out, "├─ 00:01.2 ");
	CHECK_CONTAINS(r.out, "(pcieport) [group 3] ACS: isolates below\n");
	CHECK_CONTAINS(r.out, "│  └─ 02:00.0 ");
	CHECK_CONTAINS(r.out, "│     │   ! group 8 shared below here: downstream ports without ACS: "
			      "0000:03:08.0, 0000:03:09.0\n");
	CHECK_CONTAINS(r.out, "│     ├─ 03:08.0 ");
	CHECK_CONTAINS(r.out, "(pcieport) [group 8] no ACS\n");
	CHECK_CONTAINS(r.out, "│     │  ├─ 04:00.0 ");
	CHECK_CONTAINS(r.out, "(nouveau) [group 8] GPU: NOT isolated (no ACS on 0000:03:08.0)\n");
	CHECK_CONTAINS(r.out, "│     │  └─ 04:00.1 ");
	CHECK_CONTAINS(r.out, "GPU function of 04:00.0\n");
	CHECK_CONTAINS(r.out, "│     └─ 03:09.0 ");
	CHECK_CONTAINS(r.out, "│        └─ 05:00.0 ");
	CHECK_CONTAINS(r.out, "[group 11] GPU: isolated\n");
	CHECK_CONTAINS(r.out, "link 16.0 GT/s x16 (card 16.0 GT/s x16 at its switch 0000:0b:00.0, "
			      "slot 0000:00:03.1 16.0 GT/s x16): ok\n");
	CHECK_CONTAINS(r.out, "└─ 00:14.3 ");
	CHECK(r.out && !strchr(r.out, '\x1b'));
}

TEST(vfio_ls_tree_json_nests_the_same_tree,
     "--tree --json: roots with nested children, every device once, ACS and isolates_below on "
     "bridges, shared_below where a group starts, GPU verdict and link")
{
	RUN r;
	json_object *tree, *kids, *n;
	size_t i, ndev = 0;

	REQUIRE(ls_run(&r, "amd-switch", ARGS("--tree", "--json")));
	CHECK_INT(r.status, 0);
	REQUIRE(r.json != NULL);
	CHECK(is_type(get(get(r.json, "iommu"), "enabled"), json_type_boolean));
	tree = get(r.json, "tree");
	REQUIRE(is_type(tree, json_type_array));
	CHECK_INT(json_object_array_length(tree), 1);
	CHECK_STREQ(str(json_object_array_get_idx(tree, 0), "root"), "pci0000:00");
	kids = get(json_object_array_get_idx(tree, 0), "children");
	for (i = 0; i < json_object_array_length(tree); i++)
		ndev += tree_count(get(json_object_array_get_idx(tree, i), "children"));
	CHECK_INT(ndev, 20);
	REQUIRE((n = tree_find(kids, "0000:02:00.0")));
	CHECK_STREQ(str(n, "shared_below"), "downstream ports without ACS: 0000:03:08.0, 0000:03:09.0");
	CHECK_INT(json_object_get_int(get(n, "group")), 8);
	CHECK_INT(json_object_array_length(get(n, "children")), 2);
	REQUIRE((n = tree_find(kids, "0000:00:01.2")));
	CHECK_STREQ(str(n, "acs"), "enabled");
	CHECK(json_object_get_boolean(get(n, "isolates_below")));
	CHECK(get(n, "shared_below") == NULL);
	REQUIRE((n = tree_find(kids, "0000:04:00.0")));
	CHECK_STREQ(str(n, "verdict"), "not-isolated");
	CHECK_STREQ(str(get(n, "link"), "verdict"), "idle");
	CHECK(json_object_get_boolean(get(n, "gpu")));
	REQUIRE((n = tree_find(kids, "0000:04:00.1")));
	CHECK_STREQ(str(n, "function_of"), "0000:04:00.0");
	CHECK(!json_object_object_get_ex(n, "verdict", NULL));
	REQUIRE((n = tree_find(kids, "0000:00:00.0")));
	CHECK(get(n, "acs") == NULL);	/* a host bridge: no port, no ACS */
	/* the flat --json keeps its shape: no tree there */
	{
		RUN s;

		REQUIRE(ls_run(&s, "amd-switch", ARGS("--json")));
		REQUIRE(s.json != NULL);
		CHECK(!json_object_object_get_ex(s.json, "tree", NULL));
		CHECK(json_object_object_get_ex(s.json, "groups", NULL));
	}
}

TEST(vfio_ls_tree_json_on_every_fixture_lists_every_device,
     "--tree --json on each fixture host parses and holds as many nodes as the host has devices")
{
	static const char *const hosts[] = {
		"desktop-dgpu-igpu", "nvidia-4fn", "amd-switch", "shared-chipset", "single-gpu",
		"laptop-0302", "two-identical", "sriov-server", "iommu-off", "nonroot", "ready",
		"pvm", "acs-redir-off", "shared-chipset-nonroot", "plx-8gpu", "hgx-h100",
		"pcie-links",
	};
	size_t h, i;

	for (h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		RUN r;
		RUN s;
		json_object *tree;
		size_t n = 0, want;

		REQUIRE(ls_run(&r, hosts[h], ARGS("--tree", "--json")));
		REQUIRE(ls_run(&s, hosts[h], ARGS("--json")));
		if (r.status != 0 || !r.json || !s.json) {
			test_fail_(__FILE__, __LINE__, "%s: exit %d: %s", hosts[h], r.status, r.err);
			continue;
		}
		tree = get(r.json, "tree");
		for (i = 0; tree && i < json_object_array_length(tree); i++)
			n += tree_count(get(json_object_array_get_idx(tree, i), "children"));
		want = json_object_array_length(get(s.json, "ungrouped"));
		for (i = 0; i < json_object_array_length(get(s.json, "groups")); i++)
			want += json_object_array_length(
				get(json_object_array_get_idx(get(s.json, "groups"), i), "devices"));
		if (n != want)
			test_fail_(__FILE__, __LINE__, "%s: tree holds %zu nodes, host %zu devices",
				   hosts[h], n, want);
	}
}

TEST(vfio_ls_tree_filters_gpus_device_group_and_refuses_other_views,
     "--tree --gpus: only the paths to GPUs; --tree --device: the path to it and its subtree; "
     "--tree --group: paths to the group's devices; --brief or --export with --tree: exit 2")
{
	RUN r;
	RUN d;
	RUN g;
	RUN b;
	RUN e;
	json_object *kids;

	REQUIRE(ls_run(&r, "amd-switch", ARGS("--tree", "--gpus", "--json")));
	REQUIRE(r.json != NULL);
	kids = get(json_object_array_get_idx(get(r.json, "tree"), 0), "children");
	CHECK(tree_find(kids, "0000:04:00.0") != NULL);
	CHECK(tree_find(kids, "0000:04:00.1") != NULL);
	CHECK(tree_find(kids, "0000:02:00.0") != NULL);	/* on the path */
	CHECK(tree_find(kids, "0000:0d:00.0") != NULL);
	CHECK(tree_find(kids, "0000:05:00.0") == NULL);	/* the NIC */
	CHECK(tree_find(kids, "0000:03:09.0") == NULL);
	CHECK(tree_find(kids, "0000:01:00.0") == NULL);	/* the NVMe */
	CHECK(tree_find(kids, "0000:00:14.0") == NULL);

	REQUIRE(ls_run(&d, "amd-switch", ARGS("--tree", "--device", "02:00.0")));
	CHECK_INT(d.status, 0);
	CHECK_CONTAINS(d.out, "└─ 00:01.2 ");
	CHECK_CONTAINS(d.out, "05:00.0 ");
	CHECK_CONTAINS(d.out, "04:00.1 ");
	CHECK(d.out && !strstr(d.out, "0b:00.0") && !strstr(d.out, "00:14.0"));

	REQUIRE(ls_run(&g, "amd-switch", ARGS("--tree", "--group", "11")));
	CHECK_INT(g.status, 0);
	CHECK_CONTAINS(g.out, "0d:00.1 ");
	CHECK_CONTAINS(g.out, "0b:00.0 ");
	CHECK(g.out && !strstr(g.out, "04:00.0"));

	REQUIRE(ls_run(&b, "amd-switch", ARGS("--tree", "--brief")));
	CHECK_INT(b.status, 2);
	CHECK_STREQ(b.out, "");
	CHECK_INT(count_lines(b.err), 1);
	CHECK_CONTAINS(b.err, "--tree");
	REQUIRE(ls_run(&e, "amd-switch", ARGS("--tree", "--export", "kubevirt")));
	CHECK_INT(e.status, 2);
	CHECK_INT(count_lines(e.err), 1);
}

TEST(vfio_ls_tree_escapes_control_characters_in_names,
     "a pci.ids name holding a terminal escape is printed with '?' in its place by --tree, the "
     "listing, -v and --brief, and JSON-escaped by --tree --json")
{
	char *root = fixture_host("amd-switch"), *out = NULL, *err = NULL;

	REQUIRE(root);
	REQUIRE(put_file(root, "usr/share/misc/pci.ids",
			 "10ec  Realtek\n\t8125  Evil\x1b]2;owned\x07 NIC\xc2\x9b" "31m\n"));
	CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root, "--tree")), 0);
	CHECK_CONTAINS(out, "05:00.0 Evil?]2;owned? NIC?31m (r8169)");
	CHECK(out && !strchr(out, '\x1b') && !strchr(out, '\x07') && !strstr(out, "\xc2\x9b"));
	free(out);
	free(err);
	/* and every other text view: the listing, -v, --brief */
	for (int v = 0; v < 3; v++) {
		const char *opt = v == 0 ? "--quiet" : v == 1 ? "-v" : "--brief";

		CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root, opt)), 0);
		CHECK(out && !strchr(out, '\x1b') && !strchr(out, '\x07') && !strstr(out, "\xc2\x9b"));
		if (v < 2)
			CHECK_CONTAINS(out, "Evil?]2;owned? NIC?31m");
		free(out);
		free(err);
	}
	CHECK_INT(run_tool(&out, &err, ARGS("vfio-ls", "--sysroot", root, "--tree", "--json")), 0);
	CHECK(out && !strchr(out, '\x1b'));
	CHECK_CONTAINS(out, "\\u001b");
	free(out);
	free(err);
	free(root);
}

/* ------------------------------------------------------------ link health */

TEST(vfio_ls_reports_link_health_of_every_gpu,
     "GPU blocks and --json gpus[].link: current and max speed and width of the card and its "
     "port, the verdict ok, idle, slot-limited or degraded, and why; null for an iGPU")
{
	RUN r;
	RUN j;
	json_object *g, *l;

	REQUIRE(ls_run(&r, "pcie-links", ARGS("--gpus")));
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "    link 16.0 GT/s x8 (card 16.0 GT/s x16, slot 0000:00:01.1 32.0 GT/s "
			      "x16): degraded — trained at x8 although both ends do x16\n");
	CHECK_CONTAINS(r.out, "    link 16.0 GT/s x8 (card 16.0 GT/s x16 at its switch 0000:02:00.0, "
			      "slot 0000:00:01.2 32.0 GT/s x8): slot-limited — the slot is x8 "
			      "(electrically); the card is x16\n");
	CHECK_CONTAINS(r.out, "slot-limited — the slot is x4 (electrically); the card is x16\n");
	CHECK_CONTAINS(r.out, "idle — at 2.5 GT/s now, 16.0 GT/s possible: may be idle power saving, "
			      "check under load\n");

	REQUIRE(ls_run(&j, "pcie-links", ARGS("--json")));
	REQUIRE(j.json != NULL);
	REQUIRE((g = find_by_address(get(j.json, "gpus"), "0000:01:00.0")));
	l = get(g, "link");
	CHECK_STREQ(str(l, "verdict"), "degraded");
	CHECK_STREQ(str(get(l, "device"), "address"), "0000:01:00.0");
	CHECK_STREQ(str(get(l, "device"), "speed"), "16.0 GT/s");
	CHECK_INT(json_object_get_int(get(get(l, "device"), "width")), 8);
	CHECK_STREQ(str(get(l, "device"), "max_speed"), "16.0 GT/s");
	CHECK_INT(json_object_get_int(get(get(l, "device"), "max_width")), 16);
	CHECK_STREQ(str(get(l, "port"), "address"), "0000:00:01.1");
	CHECK_STREQ(str(get(l, "port"), "max_speed"), "32.0 GT/s");
	CHECK_INT(json_object_get_int(get(get(l, "port"), "max_width")), 16);
	REQUIRE((g = find_by_address(get(j.json, "gpus"), "0000:04:00.0")));
	CHECK_STREQ(str(get(g, "link"), "verdict"), "slot-limited");
	CHECK_STREQ(str(get(get(g, "link"), "device"), "address"), "0000:02:00.0");
	REQUIRE((g = find_by_address(get(j.json, "gpus"), "0000:08:00.0")));
	CHECK_STREQ(str(get(g, "link"), "verdict"), "slot-limited");
	CHECK_INT(json_object_get_int(get(get(get(g, "link"), "port"), "max_width")), 4);
	REQUIRE((g = find_by_address(get(j.json, "gpus"), "0000:0a:00.0")));
	CHECK_STREQ(str(get(g, "link"), "verdict"), "idle");

	{
		RUN s;

		REQUIRE(ls_run(&s, "shared-chipset", ARGS("--json")));
		REQUIRE(s.json != NULL);
		REQUIRE((g = find_by_address(get(s.json, "gpus"), "0000:01:00.0")));
		CHECK_STREQ(str(get(g, "link"), "verdict"), "ok");
		REQUIRE((g = find_by_address(get(s.json, "gpus"), "0000:02:00.0")));
		CHECK_STREQ(str(get(g, "link"), "verdict"), "slot-limited");
		REQUIRE((g = find_by_address(get(s.json, "gpus"), "0000:00:02.0")));
		CHECK(json_object_object_get_ex(g, "link", NULL));
		CHECK(get(g, "link") == NULL);	/* integrated: no link of its own */
	}
}

/* ------------------------------------------------------------ --tree goldens */

/* vfio-ls --tree of fixture @host, its devices named after the pinned
 * tests/fixtures/svg/pci.ids, equals tests/fixtures/tree/@host.tree
 * (VFK_UPDATE_GOLDEN=1 writes it). */
static void tree_golden(const char *host)
{
	const char *argv[] = { "vfio-ls", "--sysroot", NULL, "--tree", NULL };
	char path[4096], *root = fixture_host(host), *ids, *out = NULL, *err = NULL, *want;
	const char *upd = getenv("VFK_UPDATE_GOLDEN");

	REQUIRE(root != NULL);
	snprintf(path, sizeof(path), "%s/tests/fixtures/svg/pci.ids", test_srcdir());
	ids = read_file(path);
	REQUIRE(ids && put_file(root, "usr/share/misc/pci.ids", ids));
	free(ids);
	argv[2] = root;
	CHECK_INT(run_tool(&out, &err, argv), 0);
	CHECK_STREQ(err, "");
	snprintf(path, sizeof(path), "%s/tests/fixtures/tree/%s.tree", test_srcdir(), host);
	if (upd && *upd && strcmp(upd, "0") != 0) {
		FILE *f = fopen(path, "w");

		REQUIRE(f != NULL);
		fputs(out ? out : "", f);
		REQUIRE(fclose(f) == 0);
	} else if (!(want = read_file(path))) {
		test_fail_(__FILE__, __LINE__, "no golden file %s (VFK_UPDATE_GOLDEN=1 writes it)", path);
	} else {
		if (strcmp(want, out ? out : ""))
			test_fail_(__FILE__, __LINE__, "vfio-ls --tree of %s differs from %s:\n%s", host,
				   path, out ? out : "");
		free(want);
	}
	free(out);
	free(err);
	free(root);
}

TEST(vfio_ls_tree_golden_of_slot_and_switch_hosts, "vfio-ls --tree of a desktop with CPU and "
     "chipset slots, a workstation with a PCIe switch, a laptop without a slot table, an AMD "
     "board with a switch and a GPU server equals its golden text, line for line")
{
	tree_golden("desktop-slots");
	tree_golden("workstation-switch");
	tree_golden("laptop-noslots");
	tree_golden("amd-switch");
	tree_golden("hgx-h100");
}
