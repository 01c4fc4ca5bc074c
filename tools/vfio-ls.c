/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-ls: PCI devices by IOMMU group, GPUs and whether they can be passed through. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "common.h"

struct ls_opts {
	struct common_opts c;
	bool gpus_only;
	long group;		/* -1: all */
	const char *device;	/* NULL: all */
};

static void usage(int status)
{
	FILE *f = status == EXIT_OK ? stdout : stderr;

	fprintf(f,
		"Usage: %s [OPTIONS]\n"
		"List PCI devices by IOMMU group, the GPUs among them, their functions,\n"
		"whether each GPU is integrated or discrete and can be passed through\n"
		"to a VM cleanly.\n\n"
		"Options:\n"
		"      --gpus          only GPUs and the groups they are in\n"
		"      --group N       only IOMMU group N\n"
		"      --device ADDR   only the group of device ADDR ([DDDD:]BB:DD.F)\n"
		"      --json          machine-readable output (schema in vfio-ls(1))\n"
		COMMON_HELP
		"\nExit status: 0 listed, 1 the group or device asked for does not exist,\n"
		"2 usage error, 3 the host could not be read.\n",
		program_name);
	exit(status);
}

static const char *class_hex(const struct vfk_device *d, char *buf, size_t size)
{
	snprintf(buf, size, "%04x", vfk_device_get_class(d) >> 8);
	return buf;
}

static const char *full_name(const struct vfk_device *d, char *buf, size_t size)
{
	snprintf(buf, size, "%s %s", vfk_device_get_vendor_name(d), vfk_device_get_device_name(d));
	return buf;
}

/* A GPU whose functions include @d, or NULL. */
static const struct vfk_gpu *gpu_of(const struct vfk_host *h, const struct vfk_device *d)
{
	size_t i, j;

	for (i = 0; i < vfk_host_gpu_count(h); i++) {
		const struct vfk_gpu *g = vfk_host_gpu(h, i);
		for (j = 0; j < vfk_gpu_function_count(g); j++)
			if (vfk_gpu_function(g, j) == d)
				return g;
	}
	return NULL;
}

static bool gpu_selected(const struct ls_opts *o, const struct vfk_gpu *g,
			 const struct vfk_device *only)
{
	size_t j;

	if (o->group >= 0) {
		for (j = 0; j < vfk_gpu_function_count(g); j++)
			if (vfk_device_get_iommu_group(vfk_gpu_function(g, j)) == o->group)
				return true;
		return false;
	}
	if (only) {
		if (vfk_device_get_iommu_group(only) >= 0)
			return vfk_device_get_iommu_group(vfk_gpu_get_device(g)) ==
			       vfk_device_get_iommu_group(only);
		for (j = 0; j < vfk_gpu_function_count(g); j++)
			if (vfk_gpu_function(g, j) == only)
				return true;
		return false;
	}
	return true;
}

static bool group_has_gpu(const struct vfk_host *h, const struct vfk_group *grp)
{
	size_t i;

	for (i = 0; i < vfk_group_device_count(grp); i++)
		if (gpu_of(h, vfk_group_device(grp, i)))
			return true;
	return false;
}

static bool group_selected(const struct ls_opts *o, const struct vfk_host *h,
			   const struct vfk_group *grp, const struct vfk_device *only)
{
	if (o->group >= 0 && vfk_group_get_id(grp) != o->group)
		return false;
	if (only && vfk_group_get_id(grp) != vfk_device_get_iommu_group(only))
		return false;
	if (o->gpus_only && !group_has_gpu(h, grp))
		return false;
	return true;
}

/* ------------------------------------------------------------ human view */

static void print_device_line(const struct vfk_host *h, const struct vfk_device *d, int verbose)
{
	char name[600];
	const struct vfk_device *pf = vfk_device_get_physfn(d);

	printf("  %s [%04x] %s: %s [%04x:%04x]", vfk_device_get_address(d),
	       vfk_device_get_class(d) >> 8, vfk_device_get_class_name(d),
	       full_name(d, name, sizeof(name)), vfk_device_get_vendor_id(d),
	       vfk_device_get_device_id(d));
	printf(" (%s)", vfk_device_get_driver(d) ? vfk_device_get_driver(d) : "no driver");
	if (vfk_device_is_gpu(d))
		printf(" <GPU>");
	else if (gpu_of(h, d))
		printf(" <GPU function>");
	if (vfk_device_is_boot_vga(d))
		printf(" <boot VGA>");
	if (vfk_device_is_bridge(d))
		printf(" <bridge>");
	if (pf)
		printf(" <VF of %s>", vfk_device_get_address(pf));
	if (vfk_device_get_driver_override(d))
		printf(" <override %s>", vfk_device_get_driver_override(d));
	putchar('\n');
	if (verbose) {
		const char *s;
		printf("      subsystem %04x:%04x rev %02x", vfk_device_get_subsystem_vendor_id(d),
		       vfk_device_get_subsystem_device_id(d), vfk_device_get_revision(d));
		if (vfk_device_get_numa_node(d) >= 0)
			printf(", NUMA node %d", vfk_device_get_numa_node(d));
		if ((s = vfk_device_get_local_cpulist(d)))
			printf(", CPUs %s", s);
		if ((s = vfk_device_get_power_state(d)))
			printf(", power %s", s);
		putchar('\n');
		printf("      reset: %s%s", vfk_device_get_reset_method(d) ? vfk_device_get_reset_method(d) : "unknown method",
		       vfk_device_has_reset(d) ? "" : " (no reset file)");
		if (vfk_device_get_link_speed(d))
			printf(", link %s x%u (max %s x%u)", vfk_device_get_link_speed(d),
			       vfk_device_get_link_width(d),
			       vfk_device_get_max_link_speed(d) ? vfk_device_get_max_link_speed(d) : "?",
			       vfk_device_get_max_link_width(d));
		if (vfk_device_get_sriov_totalvfs(d))
			printf(", SR-IOV %u/%u VFs", vfk_device_get_sriov_numvfs(d),
			       vfk_device_get_sriov_totalvfs(d));
		if (vfk_device_is_bridge(d))
			printf(", ACS %s", vfk_acs_to_string(vfk_device_get_acs(d)));
		putchar('\n');
	}
}

static void print_gpu(const struct vfk_gpu *g)
{
	const struct vfk_device *d = vfk_gpu_get_device(g);
	char name[600];
	size_t i;

	printf("  %s %s", vfk_device_get_address(d), full_name(d, name, sizeof(name)));
	if (vfk_device_get_iommu_group(d) >= 0)
		printf(" — IOMMU group %d", vfk_device_get_iommu_group(d));
	if (vfk_device_get_class(d) >> 8 == 0x0302)
		printf(" — 3D controller (no display outputs: typical laptop dGPU)");
	putchar('\n');
	printf("    functions:");
	for (i = 0; i < vfk_gpu_function_count(g); i++) {
		const struct vfk_device *f = vfk_gpu_function(g, i);
		printf(" %s (%s)", vfk_device_get_address(f), vfk_device_get_class_name(f));
	}
	putchar('\n');
	printf("    %s\n", vfk_gpu_get_placement(g));
	if (vfk_gpu_is_boot_vga(g))
		printf("    boot VGA%s\n", vfk_gpu_console_in_use(g)
					    ? ": the host console uses it (release it with vfio-bind --single-gpu)"
					    : "");
	if (vfk_gpu_is_only_gpu(g))
		printf("    the host's only GPU: passing it through leaves the host headless\n");
	if (vfk_gpu_is_isolated(g)) {
		printf("    verdict: isolated — can be passed through cleanly with its %zu function%s\n",
		       vfk_gpu_function_count(g), vfk_gpu_function_count(g) == 1 ? "" : "s");
	} else if (vfk_gpu_blocker_count(g) == 0) {
		printf("    verdict: cannot be passed through — %s\n", vfk_gpu_get_reason(g));
	} else {
		printf("    verdict: NOT isolated — %s; blockers:\n", vfk_gpu_get_reason(g));
		for (i = 0; i < vfk_gpu_blocker_count(g); i++) {
			const struct vfk_device *b = vfk_gpu_blocker(g, i);
			printf("      %s [%04x] %s: %s (%s)\n", vfk_device_get_address(b),
			       vfk_device_get_class(b) >> 8, vfk_device_get_class_name(b),
			       full_name(b, name, sizeof(name)),
			       vfk_device_get_driver(b) ? vfk_device_get_driver(b) : "no driver");
		}
	}
}

static void print_human(const struct ls_opts *o, const struct vfk_host *h,
			const struct vfk_device *only)
{
	size_t i;
	bool any = false;

	if (vfk_host_iommu_enabled(h)) {
		printf("IOMMU: enabled, %zu groups\n", vfk_host_group_count(h));
		for (i = 0; i < vfk_host_group_count(h); i++) {
			const struct vfk_group *grp = vfk_host_group(h, i);
			size_t j;
			if (!group_selected(o, h, grp, only))
				continue;
			printf("\nIOMMU group %d:\n", vfk_group_get_id(grp));
			for (j = 0; j < vfk_group_device_count(grp); j++)
				print_device_line(h, vfk_group_device(grp, j), o->c.verbose);
		}
	} else {
		printf("IOMMU: disabled — the kernel created no IOMMU groups, so nothing can be\n"
		       "passed through yet. Run vfio-check for the fix.\n\nDevices:\n");
		for (i = 0; i < vfk_host_device_count(h); i++) {
			const struct vfk_device *d = vfk_host_device(h, i);
			if ((only && d != only) || (o->gpus_only && !gpu_of(h, d)))
				continue;
			print_device_line(h, d, o->c.verbose);
		}
	}
	for (i = 0; i < vfk_host_gpu_count(h); i++) {
		const struct vfk_gpu *g = vfk_host_gpu(h, i);
		if (!gpu_selected(o, g, only))
			continue;
		if (!any)
			printf("\nGPUs:\n");
		any = true;
		print_gpu(g);
	}
	if (!any && (o->gpus_only || (!only && o->group < 0)))
		printf("\nGPUs: none found (no PCI class 0300, 0302 or 0380 device)\n");
}

/* ------------------------------------------------------------- JSON view */

static json_object *device_json(const struct vfk_device *d, int verbose)
{
	json_object *o = json_object_new_object();
	char buf[600];
	const struct vfk_device *pf = vfk_device_get_physfn(d);

	json_object_object_add(o, "address", json_object_new_string(vfk_device_get_address(d)));
	json_object_object_add(o, "class", json_object_new_string(class_hex(d, buf, sizeof(buf))));
	snprintf(buf, sizeof(buf), "%04x", vfk_device_get_vendor_id(d));
	json_object_object_add(o, "vendor", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%04x", vfk_device_get_device_id(d));
	json_object_object_add(o, "device", json_object_new_string(buf));
	json_object_object_add(o, "name", json_object_new_string(full_name(d, buf, sizeof(buf))));
	json_object_object_add(o, "class_name", json_object_new_string(vfk_device_get_class_name(d)));
	json_object_object_add(o, "driver", json_str_or_null(vfk_device_get_driver(d)));
	json_object_object_add(o, "bridge", json_object_new_boolean(vfk_device_is_bridge(d)));
	json_object_object_add(o, "gpu", json_object_new_boolean(vfk_device_is_gpu(d)));
	json_object_object_add(o, "boot_vga", json_object_new_boolean(vfk_device_is_boot_vga(d)));
	json_object_object_add(o, "physfn", pf ? json_object_new_string(vfk_device_get_address(pf)) : NULL);
	if (verbose) {
		snprintf(buf, sizeof(buf), "%04x", vfk_device_get_subsystem_vendor_id(d));
		json_object_object_add(o, "subsystem_vendor", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "%04x", vfk_device_get_subsystem_device_id(d));
		json_object_object_add(o, "subsystem_device", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "%02x", vfk_device_get_revision(d));
		json_object_object_add(o, "revision", json_object_new_string(buf));
		json_object_object_add(o, "driver_override", json_str_or_null(vfk_device_get_driver_override(d)));
		json_object_object_add(o, "numa_node", json_object_new_int(vfk_device_get_numa_node(d)));
		json_object_object_add(o, "local_cpulist", json_str_or_null(vfk_device_get_local_cpulist(d)));
		json_object_object_add(o, "reset_method", json_str_or_null(vfk_device_get_reset_method(d)));
		json_object_object_add(o, "reset", json_object_new_boolean(vfk_device_has_reset(d)));
		json_object_object_add(o, "power_state", json_str_or_null(vfk_device_get_power_state(d)));
		json_object_object_add(o, "link_speed", json_str_or_null(vfk_device_get_link_speed(d)));
		json_object_object_add(o, "link_width", json_object_new_int((int)vfk_device_get_link_width(d)));
		json_object_object_add(o, "max_link_speed", json_str_or_null(vfk_device_get_max_link_speed(d)));
		json_object_object_add(o, "max_link_width", json_object_new_int((int)vfk_device_get_max_link_width(d)));
		json_object_object_add(o, "sriov_totalvfs", json_object_new_int((int)vfk_device_get_sriov_totalvfs(d)));
		json_object_object_add(o, "sriov_numvfs", json_object_new_int((int)vfk_device_get_sriov_numvfs(d)));
		if (vfk_device_is_bridge(d))
			json_object_object_add(o, "acs", json_object_new_string(vfk_acs_to_string(vfk_device_get_acs(d))));
	}
	return o;
}

static json_object *gpu_json(const struct vfk_gpu *g)
{
	const struct vfk_device *d = vfk_gpu_get_device(g);
	json_object *o = json_object_new_object(), *fa = json_object_new_array(),
		    *ba = json_object_new_array();
	char buf[600];
	size_t i;

	json_object_object_add(o, "address", json_object_new_string(vfk_device_get_address(d)));
	json_object_object_add(o, "group", vfk_device_get_iommu_group(d) >= 0
						   ? json_object_new_int(vfk_device_get_iommu_group(d))
						   : NULL);
	json_object_object_add(o, "class", json_object_new_string(class_hex(d, buf, sizeof(buf))));
	json_object_object_add(o, "name", json_object_new_string(full_name(d, buf, sizeof(buf))));
	for (i = 0; i < vfk_gpu_function_count(g); i++)
		json_object_array_add(fa, json_object_new_string(vfk_device_get_address(vfk_gpu_function(g, i))));
	json_object_object_add(o, "functions", fa);
	for (i = 0; i < vfk_gpu_blocker_count(g); i++)
		json_object_array_add(ba, json_object_new_string(vfk_device_get_address(vfk_gpu_blocker(g, i))));
	json_object_object_add(o, "blockers", ba);
	json_object_object_add(o, "isolated", json_object_new_boolean(vfk_gpu_is_isolated(g)));
	json_object_object_add(o, "reason", json_str_or_null(vfk_gpu_get_reason(g)));
	json_object_object_add(o, "boot_vga", json_object_new_boolean(vfk_gpu_is_boot_vga(g)));
	json_object_object_add(o, "console_in_use", json_object_new_boolean(vfk_gpu_console_in_use(g)));
	json_object_object_add(o, "only_gpu", json_object_new_boolean(vfk_gpu_is_only_gpu(g)));
	json_object_object_add(o, "vf", json_object_new_boolean(vfk_device_is_vf(d)));
	json_object_object_add(o, "integrated", json_object_new_boolean(vfk_gpu_is_integrated(g)));
	json_object_object_add(o, "placement", json_object_new_string(vfk_gpu_get_placement(g)));
	return o;
}

/* Emit one element and free it at once: a host of 65,536 functions never
 * holds its whole JSON tree in memory. */
static void emit(json_object *o, bool *first)
{
	fputs(*first ? "" : ",", stdout);
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
	json_object_put(o);
	*first = false;
}

static void print_json(const struct ls_opts *o, const struct vfk_host *h,
		       const struct vfk_device *only)
{
	bool first = true;
	size_t i, j;

	printf("{\"iommu\":{\"enabled\":%s},\"groups\":[", vfk_host_iommu_enabled(h) ? "true" : "false");
	for (i = 0; i < vfk_host_group_count(h); i++) {
		const struct vfk_group *grp = vfk_host_group(h, i);
		json_object *g, *devs;
		if (!group_selected(o, h, grp, only))
			continue;
		g = json_object_new_object();
		devs = json_object_new_array();
		json_object_object_add(g, "id", json_object_new_int(vfk_group_get_id(grp)));
		for (j = 0; j < vfk_group_device_count(grp); j++)
			json_object_array_add(devs, device_json(vfk_group_device(grp, j), o->c.verbose));
		json_object_object_add(g, "devices", devs);
		emit(g, &first);
	}
	/* devices the kernel put in no group (all of them when the IOMMU is off) */
	printf("],\"ungrouped\":[");
	first = true;
	for (i = 0; i < vfk_host_device_count(h); i++) {
		const struct vfk_device *d = vfk_host_device(h, i);
		if (vfk_device_get_iommu_group(d) >= 0 || (only && d != only) ||
		    (o->group >= 0) || (o->gpus_only && !gpu_of(h, d)))
			continue;
		emit(device_json(d, o->c.verbose), &first);
	}
	printf("],\"gpus\":[");
	first = true;
	for (i = 0; i < vfk_host_gpu_count(h); i++) {
		const struct vfk_gpu *g = vfk_host_gpu(h, i);
		if (gpu_selected(o, g, only))
			emit(gpu_json(g), &first);
	}
	printf("]}\n");
}

int main(int argc, char **argv)
{
	enum { OPT_GPUS = 0x100, OPT_GROUP, OPT_DEVICE };
	static const struct option longopts[] = {
		{ "gpus", no_argument, NULL, OPT_GPUS },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "device", required_argument, NULL, OPT_DEVICE },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct ls_opts o = { .group = -1 };
	struct vfk_ctx *ctx;
	struct vfk_host *host;
	struct vfk_device *only = NULL;
	struct vfk_pci_addr addr;
	char *end;
	int c, r;

	common_init(argc, argv);
	while ((c = common_getopt(argc, argv, COMMON_SHORTOPTS, longopts, &o.c, usage)) != -1) {
		switch (c) {
		case OPT_GPUS:
			o.gpus_only = true;
			break;
		case OPT_GROUP:
			errno = 0;
			o.group = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o.group < 0 || o.group > 0x7fffffff)
				die(EXIT_USAGE, "--group: '%s' is not a group number", optarg);
			break;
		case OPT_DEVICE:
			if (vfk_pci_addr_parse(optarg, &addr) < 0)
				die(EXIT_USAGE, "--device: '%s' is not a PCI address ([DDDD:]BB:DD.F)",
				    optarg);
			o.device = optarg;
			break;
		default:
			usage_hint();
		}
	}
	if (optind < argc)
		die(EXIT_USAGE, "unexpected argument '%s'", argv[optind]);

	ctx = common_ctx_new(&o.c);
	host = common_host_scan(ctx);
	if (o.device) {
		r = vfk_host_find_device(host, o.device, &only);
		if (r < 0)
			die(EXIT_NOT_SO, "no PCI device %s on this host", o.device);
	}
	if (o.group >= 0) {
		struct vfk_group *g;
		if (vfk_host_find_group(host, (int)o.group, &g) < 0)
			die(EXIT_NOT_SO, "no IOMMU group %ld on this host", o.group);
	}
	if (o.c.json)
		print_json(&o, host, only);
	else
		print_human(&o, host, only);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EXIT_FAILURE_OP, "writing output failed");
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}
