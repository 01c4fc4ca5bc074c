/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-ls: PCI devices by IOMMU group, GPUs and whether they can be passed through. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "common.h"

#define EXPORT_FORMATS "kubevirt, nova, proxmox, nfd, cdi, dra"

struct ls_opts {
	struct common_opts c;
	bool gpus_only;
	bool brief;		/* one line per GPU */
	long group;		/* -1: all */
	const char *device;	/* NULL: all */
	const char *export;	/* --export FORMAT, or NULL */
	const char *node;	/* --node */
	const char *resource_prefix;	/* --resource-prefix */
	const char *vfio_mode;	/* --vfio-mode */
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
		"      --gpus          only GPUs, fabric devices (NVSwitches) and their groups,\n"
		"                      then a summary line\n"
		"      --brief         one line per GPU (address, model, group, NUMA node,\n"
		"                      upstream port, driver, verdict) and the summary\n"
		"      --group N       only IOMMU group N\n"
		"      --device ADDR   only the group of device ADDR ([DDDD:]BB:DD.F)\n"
		"      --json          machine-readable output (schema in vfio-ls(1))\n"
		"      --export FORMAT only what can be given away, as another stack's\n"
		"                      configuration: kubevirt (permittedHostDevices YAML),\n"
		"                      nova (nova.conf [pci] and mdev sections), proxmox\n"
		"                      (/etc/pve/mapping/pci.cfg entries), nfd (a Node\n"
		"                      Feature Discovery feature file), cdi (a Container\n"
		"                      Device Interface spec, JSON) or dra (a Kubernetes\n"
		"                      ResourceSlice, YAML); with --gpus only GPUs, with\n"
		"                      --device only that device's group\n"
		"      --node NAME     proxmox, dra: the node's name (default: the host name)\n"
		"      --resource-prefix DOMAIN\n"
		"                      kubevirt: the resource names' domain (default: the\n"
		"                      vendor's, nvidia.com, amd.com, intel.com); nfd: the\n"
		"                      labels' prefix (default feature.node.kubernetes.io);\n"
		"                      cdi: the kind's vendor (default vfiokit.org); dra:\n"
		"                      the driver name (default vfio.vfiokit.org)\n"
		"      --vfio-mode MODE  cdi: the device nodes given: auto (iommufd when the\n"
		"                      host has /dev/iommu and every function its VFIO cdev,\n"
		"                      else the groups), legacy (the groups always) or\n"
		"                      iommufd (refused when not possible)\n"
		COMMON_HELP
		"\nExit status: 0 listed, 1 the group or device asked for does not exist\n"
		"(--export cdi: nothing can be given away), 2 usage error, 3 the host\n"
		"could not be read.\n",
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

/* Shown by --gpus: a GPU's function or a fabric device (NVSwitch). */
static bool gpu_complex(const struct vfk_host *h, const struct vfk_device *d)
{
	return gpu_of(h, d) || vfk_device_get_fabric_role(d);
}

static bool group_has_gpu(const struct vfk_host *h, const struct vfk_group *grp)
{
	size_t i;

	for (i = 0; i < vfk_group_device_count(grp); i++)
		if (gpu_complex(h, vfk_group_device(grp, i)))
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

/* ", FLReset+ NoSoftRst-": the config space bits in lspci's words, '?' where
 * they cannot be read. */
static void print_reset_bits(const struct vfk_device *d)
{
	static const char mark[] = "?-+";

	printf(", FLReset%c NoSoftRst%c", mark[vfk_device_get_flr(d) + 1],
	       mark[vfk_device_get_no_soft_reset(d) + 1]);
}

/* A GPU whose reset is not plain: what happens between guests and what to do. */
static void print_gpu_reset(const struct vfk_gpu *g)
{
	const struct vfk_device *d = vfk_gpu_get_device(g);
	enum vfk_reset_verdict v = vfk_device_get_reset_verdict(d);

	if (v == VFK_RESET_OK || v == VFK_RESET_UNKNOWN)
		return;
	printf("    reset: %s — %s\n", vfk_reset_verdict_to_string(v), vfk_device_get_reset_reason(d));
	if (vfk_device_get_reset_advice(d))
		printf("      %s\n", vfk_device_get_reset_advice(d));
}

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
	if (vfk_device_get_fabric_role(d))
		printf(" <%s: GPU fabric>", vfk_device_get_fabric_role(d));
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
		print_reset_bits(d);
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
		if (!vfk_device_is_bridge(d))
			printf("      reset verdict: %s — %s\n",
			       vfk_reset_verdict_to_string(vfk_device_get_reset_verdict(d)),
			       vfk_device_get_reset_reason(d));
	}
}

static const char *role_text(const struct vfk_gpu *g)
{
	switch (vfk_gpu_get_role(g)) {
	case VFK_GPU_ROLE_LAPTOP_DGPU:
		return "3D controller (no display outputs: a laptop's dGPU)";
	case VFK_GPU_ROLE_COMPUTE:
		return "3D controller (no display outputs: a compute GPU, datacenter accelerator)";
	case VFK_GPU_ROLE_DISPLAY:
		break;
	}
	return NULL;
}

/* "nvidia-persistenced(2211), nv-fabricmanager(2304)" into @buf. */
static const char *holders_text(const struct vfk_gpu *g, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < vfk_gpu_holder_count(g) && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s(%d)", i ? ", " : "",
					vfk_gpu_holder_name(g, i), vfk_gpu_holder_pid(g, i));
	return buf;
}

/* The host's driver has the GPU: what must let go before a VM can have it. */
static void print_release(const struct vfk_gpu *g)
{
	const char *drv = vfk_gpu_get_host_driver(g);
	char buf[1024], vfio[64], why[300];

	if (!drv || vfk_gpu_console_in_use(g))	/* the console's: --single-gpu, said above */
		return;
	printf("    on the host's driver %s: it must release the GPU before a VM can have it\n", drv);
	/* the driver vfio-bind would choose: vfio-pci or a vendor's variant */
	if (vfk_device_vfio_driver(vfk_gpu_get_device(g), vfio, sizeof(vfio), why, sizeof(why)) < 0)
		snprintf(vfio, sizeof(vfio), "vfio-pci");
	else if (!streq(vfio, "vfio-pci"))
		printf("      its VFIO driver: %s (%s)\n", vfio, why);
	if (vfk_gpu_holder_count(g)) {
		printf("      held open by %s: stop them first, then vfio-bind moves it to %s\n",
		       holders_text(g, buf, sizeof(buf)), vfio);
		return;
	}
	printf("      no process seen holding its device nodes: vfio-bind moves it to %s\n", vfio);
	if (!strncmp(drv, "nvidia", 6))	/* not seen: another user's, unless root */
		printf("      (NVIDIA's daemons hold /dev/nvidia*: nvidia-persistenced, nv-fabricmanager,\n"
		       "      DCGM's nv-hostengine; only root sees them all)\n");
}

static void print_verdict(const struct vfk_gpu *g)
{
	char name[600];
	size_t i;

	switch (vfk_gpu_get_verdict(g)) {
	case VFK_GPU_ISOLATED:
		printf("    verdict: isolated — can be passed through cleanly with its %zu function%s\n",
		       vfk_gpu_function_count(g), vfk_gpu_function_count(g) == 1 ? "" : "s");
		break;
	case VFK_GPU_TOGETHER:
		printf("    verdict: can go together with");
		for (i = 0; i < vfk_gpu_together_count(g); i++)
			printf("%s %s", i ? "," : "",
			       vfk_device_get_address(vfk_gpu_get_device(vfk_gpu_together(g, i))));
		printf(" — its group holds only GPUs (%s): they go to one VM\n",
		       vfk_gpu_get_reason(g));
		break;
	case VFK_GPU_NO_GROUP:
		printf("    verdict: cannot be passed through — %s\n", vfk_gpu_get_reason(g));
		break;
	case VFK_GPU_SHARED:
		printf("    verdict: NOT isolated — %s; blockers:\n", vfk_gpu_get_reason(g));
		for (i = 0; i < vfk_gpu_blocker_count(g); i++) {
			const struct vfk_device *b = vfk_gpu_blocker(g, i);
			printf("      %s [%04x] %s: %s (%s)\n", vfk_device_get_address(b),
			       vfk_device_get_class(b) >> 8, vfk_device_get_class_name(b),
			       full_name(b, name, sizeof(name)),
			       vfk_device_get_driver(b) ? vfk_device_get_driver(b) : "no driver");
		}
		break;
	}
}

static void print_gpu(const struct vfk_gpu *g)
{
	const struct vfk_device *d = vfk_gpu_get_device(g), *up = vfk_gpu_get_upstream(g);
	char name[600];
	size_t i;

	printf("  %s %s", vfk_device_get_address(d), full_name(d, name, sizeof(name)));
	if (vfk_device_get_iommu_group(d) >= 0)
		printf(" — IOMMU group %d", vfk_device_get_iommu_group(d));
	if (role_text(g))
		printf(" — %s", role_text(g));
	putchar('\n');
	printf("    functions:");
	for (i = 0; i < vfk_gpu_function_count(g); i++) {
		const struct vfk_device *f = vfk_gpu_function(g, i);
		printf(" %s (%s)", vfk_device_get_address(f), vfk_device_get_class_name(f));
	}
	putchar('\n');
	printf("    %s\n", vfk_gpu_get_placement(g));
	printf("    driver %s", vfk_device_get_driver(d) ? vfk_device_get_driver(d) : "none");
	if (vfk_device_get_numa_node(d) >= 0)
		printf(", NUMA node %d", vfk_device_get_numa_node(d));
	if (up)
		printf(", upstream port %s", vfk_device_get_address(up));
	putchar('\n');
	if (vfk_gpu_is_boot_vga(g))
		printf("    boot VGA%s\n", vfk_gpu_console_in_use(g)
					    ? ": the host console uses it (release it with vfio-bind --single-gpu)"
					    : "");
	if (vfk_gpu_is_only_gpu(g))
		printf("    the host's only GPU: passing it through leaves the host headless\n");
	print_verdict(g);
	print_gpu_reset(g);
	print_release(g);
}

static bool fabric_selected(const struct ls_opts *o, const struct vfk_device *d,
			    const struct vfk_device *only)
{
	int grp = vfk_device_get_iommu_group(d);

	if (o->group >= 0)
		return grp == o->group;
	if (only)
		return grp < 0 || vfk_device_get_iommu_group(only) < 0
		       ? d == only : grp == vfk_device_get_iommu_group(only);
	return true;
}

/* Fabric devices (NVSwitches) with their groups and drivers. */
static void print_fabric(const struct ls_opts *o, const struct vfk_host *h,
			 const struct vfk_device *only)
{
	size_t i;
	bool any = false;

	for (i = 0; i < vfk_host_fabric_count(h); i++) {
		const struct vfk_device *d = vfk_host_fabric_device(h, i);
		int grp = vfk_device_get_iommu_group(d);
		if (!fabric_selected(o, d, only))
			continue;
		if (!any)
			printf("\nGPU fabric (NVLink between the GPUs runs through it; vfio-check says "
			       "what passthrough needs):\n");
		any = true;
		printf("  %s %s", vfk_device_get_address(d), vfk_device_get_fabric_role(d));
		if (grp >= 0)
			printf(" — IOMMU group %d", grp);
		printf(" — driver %s", vfk_device_get_driver(d) ? vfk_device_get_driver(d) : "none");
		if (vfk_device_get_numa_node(d) >= 0)
			printf(", NUMA node %d", vfk_device_get_numa_node(d));
		putchar('\n');
	}
}

/* ------------------------------------------------------------- summary */

struct tally {
	const char *name;
	size_t n;
};

static void tally_add(struct tally *t, size_t max, const char *name)
{
	size_t i;

	for (i = 0; i < max && t[i].name; i++)
		if (!strcmp(t[i].name, name))
			break;
	if (i == max)
		return;		/* more distinct names than a line holds */
	t[i].name = name;
	t[i].n++;
}

/* A GPU of a "together" set counts the set once: when it has the lowest address. */
static bool set_leader(const struct vfk_gpu *g)
{
	size_t i;

	for (i = 0; i < vfk_gpu_together_count(g); i++)
		if (strcmp(vfk_device_get_address(vfk_gpu_get_device(vfk_gpu_together(g, i))),
			   vfk_device_get_address(vfk_gpu_get_device(g))) < 0)
			return false;
	return true;
}

static void print_sets(size_t *sets, size_t max)
{
	size_t k;

	for (k = 2; k < max; k++) {
		if (!sets[k])
			continue;
		if (k == 2)
			printf(", %zu pair%s", sets[k], sets[k] == 1 ? "" : "s");
		else
			printf(", %zu set%s of %zu", sets[k], sets[k] == 1 ? "" : "s", k);
		printf(" in %s", sets[k] == 1 ? "a shared group" : "shared groups");
	}
}

/* "8 GPUs: 4 alone, 2 pairs in shared groups; 4 NVSwitches; 8 on nvidia" */
static void print_summary(const struct vfk_host *h)
{
	struct tally drivers[8] = { { 0 } }, roles[4] = { { 0 } };
	size_t sets[17] = { 0 }, alone = 0, shared = 0, nogroup = 0, i;

	for (i = 0; i < vfk_host_gpu_count(h); i++) {
		const struct vfk_gpu *g = vfk_host_gpu(h, i);
		const char *drv = vfk_device_get_driver(vfk_gpu_get_device(g));
		size_t n = vfk_gpu_together_count(g) + 1;
		switch (vfk_gpu_get_verdict(g)) {
		case VFK_GPU_ISOLATED:
			alone++;
			break;
		case VFK_GPU_TOGETHER:
			if (n >= ARRAY_SIZE(sets))
				shared++;	/* a set too big to name apart */
			else if (set_leader(g))
				sets[n]++;
			break;
		case VFK_GPU_SHARED:
			shared++;
			break;
		case VFK_GPU_NO_GROUP:
			nogroup++;
			break;
		}
		tally_add(drivers, ARRAY_SIZE(drivers), drv ? drv : "no driver");
	}
	for (i = 0; i < vfk_host_fabric_count(h); i++)
		tally_add(roles, ARRAY_SIZE(roles),
			  vfk_device_get_fabric_role(vfk_host_fabric_device(h, i)));
	printf("\n%zu GPU%s: %zu alone", vfk_host_gpu_count(h), vfk_host_gpu_count(h) == 1 ? "" : "s",
	       alone);
	print_sets(sets, ARRAY_SIZE(sets));
	if (shared)
		printf(", %zu not isolated", shared);
	if (nogroup)
		printf(", %zu without an IOMMU group", nogroup);
	for (i = 0; i < ARRAY_SIZE(roles) && roles[i].name; i++)
		printf("%s %zu %s%s", i ? "," : ";", roles[i].n, roles[i].name,
		       roles[i].n == 1 ? "" : "es");
	for (i = 0; i < ARRAY_SIZE(drivers) && drivers[i].name; i++)
		printf("%s %zu on %s", i ? "," : ";", drivers[i].n, drivers[i].name);
	putchar('\n');
}

/* --------------------------------------------------------------- brief */

/* "18:00.0" where every address is in domain 0, as lspci shortens them. */
static const char *short_addr(const struct vfk_device *d)
{
	const char *a = vfk_device_get_address(d);

	return vfk_device_get_addr(d)->domain == 0 ? a + 5 : a;
}

/* The model as pci.ids names it inside brackets ("H100 SXM5 80GB"), else whole. */
static const char *model_of(const struct vfk_device *d, char *buf, size_t size)
{
	const char *n = vfk_device_get_device_name(d), *lb = strrchr(n, '['), *rb;

	if (lb && (rb = strchr(lb, ']')) && rb > lb + 1)
		snprintf(buf, size, "%.*s", (int)(rb - lb - 1), lb + 1);
	else
		snprintf(buf, size, "%s", n);
	return buf;
}

static const char *brief_verdict(const struct vfk_gpu *g, char *buf, size_t size)
{
	switch (vfk_gpu_get_verdict(g)) {
	case VFK_GPU_ISOLATED:
		return "isolated";
	case VFK_GPU_TOGETHER:
		if (vfk_gpu_together_count(g) == 1)
			snprintf(buf, size, "with %s",
				 short_addr(vfk_gpu_get_device(vfk_gpu_together(g, 0))));
		else
			snprintf(buf, size, "with %zu others", vfk_gpu_together_count(g));
		return buf;
	case VFK_GPU_SHARED:
		return "NOT isolated";
	case VFK_GPU_NO_GROUP:
		break;
	}
	return "no group";
}

/* GPUs the host's processes hold, one line per set of holders (NVIDIA's
 * daemons hold every GPU on nvidia: one line for eight). */
static void print_brief_holders(const struct ls_opts *o, const struct vfk_host *h,
				const struct vfk_device *only)
{
	char text[1024], other[1024];
	size_t i, k;

	for (i = 0; i < vfk_host_gpu_count(h); i++) {
		const struct vfk_gpu *g = vfk_host_gpu(h, i);
		bool seen = false;
		if (!gpu_selected(o, g, only) || !vfk_gpu_get_host_driver(g) ||
		    !vfk_gpu_holder_count(g))
			continue;
		holders_text(g, text, sizeof(text));
		for (k = 0; k < i && !seen; k++)
			seen = gpu_selected(o, vfk_host_gpu(h, k), only) &&
			       vfk_gpu_holder_count(vfk_host_gpu(h, k)) &&
			       !strcmp(holders_text(vfk_host_gpu(h, k), other, sizeof(other)), text);
		if (seen)
			continue;
		printf("\nheld open by %s (stop them before vfio-bind):\n ", text);
		for (k = i; k < vfk_host_gpu_count(h); k++)
			if (gpu_selected(o, vfk_host_gpu(h, k), only) &&
			    vfk_gpu_holder_count(vfk_host_gpu(h, k)) &&
			    !strcmp(holders_text(vfk_host_gpu(h, k), other, sizeof(other)), text))
				printf(" %s", short_addr(vfk_gpu_get_device(vfk_host_gpu(h, k))));
		putchar('\n');
	}
}

static void brief_row(const struct vfk_device *d, const char *model, const char *upstream,
		      const char *verdict)
{
	const char *drv = vfk_device_get_driver(d);
	char grp[16], node[16];

	snprintf(grp, sizeof(grp), "%d", vfk_device_get_iommu_group(d));
	snprintf(node, sizeof(node), "%d", vfk_device_get_numa_node(d));
	printf("%-12s %-18.18s %5s %4s %-12s %-9.9s %s\n", short_addr(d), model,
	       vfk_device_get_iommu_group(d) >= 0 ? grp : "-",
	       vfk_device_get_numa_node(d) >= 0 ? node : "-", upstream, drv ? drv : "-", verdict);
}

/* One line per GPU, 80 columns: for eight GPUs on one screen. */
static void print_brief(const struct ls_opts *o, const struct vfk_host *h,
			const struct vfk_device *only)
{
	char model[64], verdict[64];
	size_t i;

	printf("%-12s %-18s %5s %4s %-12s %-9s %s\n", "GPU", "MODEL", "GROUP", "NODE", "UPSTREAM",
	       "DRIVER", "VERDICT");
	for (i = 0; i < vfk_host_gpu_count(h); i++) {
		const struct vfk_gpu *g = vfk_host_gpu(h, i);
		const struct vfk_device *d = vfk_gpu_get_device(g), *up = vfk_gpu_get_upstream(g);
		if (gpu_selected(o, g, only))
			brief_row(d, model_of(d, model, sizeof(model)), up ? short_addr(up) : "-",
				  brief_verdict(g, verdict, sizeof(verdict)));
	}
	for (i = 0; i < vfk_host_fabric_count(h); i++) {
		const struct vfk_device *d = vfk_host_fabric_device(h, i);
		if (fabric_selected(o, d, only))
			brief_row(d, vfk_device_get_fabric_role(d), "-", "GPU fabric");
	}
	print_brief_holders(o, h, only);
	print_summary(h);
}

static void print_human(const struct ls_opts *o, const struct vfk_host *h,
			const struct vfk_device *only)
{
	size_t i;
	bool any = false;

	if (vfk_host_iommu_enabled(h)) {
		printf("IOMMU: enabled, %zu groups%s\n", vfk_host_group_count(h),
		       vfk_host_has_iommufd(h) ? ", iommufd (/dev/iommu)" : "");
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
			if ((only && d != only) || (o->gpus_only && !gpu_complex(h, d)))
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
	print_fabric(o, h, only);
	if (any && !only && o->group < 0)
		print_summary(h);
}

/* ------------------------------------------------------------- JSON view */

/* A config space bit: true, false, or null where it cannot be read. */
static json_object *tristate_json(int v)
{
	return v < 0 ? NULL : json_object_new_boolean(v);
}

/* The "reset" object of a GPU: the facts and the verdict (vfio-ls(1)). */
static json_object *reset_json(const struct vfk_device *d)
{
	json_object *o = json_object_new_object(), *methods = NULL;
	const char *m = vfk_device_get_reset_method(d), *s;

	json_object_object_add(o, "flr", tristate_json(vfk_device_get_flr(d)));
	json_object_object_add(o, "no_soft_reset", tristate_json(vfk_device_get_no_soft_reset(d)));
	/* the kernel's reset_method word by word; null where it has no such
	 * attribute (before Linux 5.15, or no method at all) */
	if (m) {
		methods = json_object_new_array();
		for (s = m; *s; s += strspn(s, " ")) {
			size_t n = strcspn(s, " ");
			if (n)
				json_object_array_add(methods, json_object_new_string_len(s, (int)n));
			s += n;
		}
	}
	json_object_object_add(o, "methods", methods);
	json_object_object_add(o, "verdict", json_object_new_string(
		vfk_reset_verdict_to_string(vfk_device_get_reset_verdict(d))));
	json_object_object_add(o, "quirk", json_object_new_string(
		vfk_reset_quirk_to_string(vfk_device_get_reset_quirk(d))));
	json_object_object_add(o, "reason", json_object_new_string(vfk_device_get_reset_reason(d)));
	json_object_object_add(o, "advice", json_str_or_null(vfk_device_get_reset_advice(d)));
	json_object_object_add(o, "keep_on_vfio",
			       json_object_new_boolean(vfk_device_reset_keeps_on_vfio(d)));
	return o;
}

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
	/* only a device on a VFIO driver has a VFIO cdev: the others cost no lookup */
	json_object_object_add(o, "vfio_cdev", vfk_driver_is_vfio(vfk_device_get_driver(d))
			       ? json_str_or_null(vfk_device_get_vfio_cdev(d)) : NULL);
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
		json_object_object_add(o, "flr", tristate_json(vfk_device_get_flr(d)));
		json_object_object_add(o, "no_soft_reset", tristate_json(vfk_device_get_no_soft_reset(d)));
		json_object_object_add(o, "reset_verdict", json_object_new_string(
			vfk_reset_verdict_to_string(vfk_device_get_reset_verdict(d))));
		json_object_object_add(o, "reset_reason", json_object_new_string(vfk_device_get_reset_reason(d)));
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
	const struct vfk_device *d = vfk_gpu_get_device(g), *up = vfk_gpu_get_upstream(g);
	json_object *o = json_object_new_object(), *fa = json_object_new_array(),
		    *ba = json_object_new_array(), *ta = json_object_new_array(),
		    *ha = json_object_new_array();
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
	json_object_object_add(o, "role", json_object_new_string(vfk_gpu_role_to_string(vfk_gpu_get_role(g))));
	json_object_object_add(o, "driver", json_str_or_null(vfk_device_get_driver(d)));
	json_object_object_add(o, "numa_node", json_object_new_int(vfk_device_get_numa_node(d)));
	json_object_object_add(o, "upstream", up ? json_object_new_string(vfk_device_get_address(up)) : NULL);
	json_object_object_add(o, "verdict", json_object_new_string(vfk_gpu_verdict_to_string(vfk_gpu_get_verdict(g))));
	for (i = 0; i < vfk_gpu_together_count(g); i++)
		json_object_array_add(ta, json_object_new_string(
			vfk_device_get_address(vfk_gpu_get_device(vfk_gpu_together(g, i)))));
	json_object_object_add(o, "together", ta);
	json_object_object_add(o, "host_driver", json_str_or_null(vfk_gpu_get_host_driver(g)));
	for (i = 0; i < vfk_gpu_holder_count(g); i++) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "pid", json_object_new_int(vfk_gpu_holder_pid(g, i)));
		json_object_object_add(p, "comm", json_object_new_string(vfk_gpu_holder_name(g, i)));
		json_object_array_add(ha, p);
	}
	json_object_object_add(o, "holders", ha);
	json_object_object_add(o, "reset", reset_json(d));
	return o;
}

static json_object *fabric_json(const struct vfk_device *d)
{
	json_object *o = json_object_new_object();
	char buf[600];

	json_object_object_add(o, "address", json_object_new_string(vfk_device_get_address(d)));
	json_object_object_add(o, "role", json_object_new_string(vfk_device_get_fabric_role(d)));
	json_object_object_add(o, "group", vfk_device_get_iommu_group(d) >= 0
						   ? json_object_new_int(vfk_device_get_iommu_group(d))
						   : NULL);
	json_object_object_add(o, "name", json_object_new_string(full_name(d, buf, sizeof(buf))));
	json_object_object_add(o, "driver", json_str_or_null(vfk_device_get_driver(d)));
	json_object_object_add(o, "numa_node", json_object_new_int(vfk_device_get_numa_node(d)));
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

	printf("{\"iommu\":{\"enabled\":%s,\"iommufd\":%s},\"groups\":[",
	       vfk_host_iommu_enabled(h) ? "true" : "false", vfk_host_has_iommufd(h) ? "true" : "false");
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
		    (o->group >= 0) || (o->gpus_only && !gpu_complex(h, d)))
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
	printf("],\"fabric\":[");
	first = true;
	for (i = 0; i < vfk_host_fabric_count(h); i++)
		if (fabric_selected(o, vfk_host_fabric_device(h, i), only))
			emit(fabric_json(vfk_host_fabric_device(h, i)), &first);
	printf("]}\n");
}

/* ---------------------------------------------------------------- export */

/* --export FORMAT: the document on stdout; a note on stderr when nothing
 * can be given away. */
static void print_export(const struct ls_opts *o, struct vfk_host *h)
{
	struct vfk_export_options eo = {
		.gpus_only = o->gpus_only,
		.device = o->device,
		.node = o->node,
		.resource_prefix = o->resource_prefix,
		.vfio_mode = !o->vfio_mode || !strcmp(o->vfio_mode, "auto") ? VFK_VFIO_MODE_AUTO
			     : !strcmp(o->vfio_mode, "legacy") ? VFK_VFIO_MODE_LEGACY
							       : VFK_VFIO_MODE_IOMMUFD,
	};
	enum vfk_export_format fmt;
	_cleanup_free_ char *doc = NULL;
	int r;

	if (vfk_export_format_from_string(o->export, &fmt) < 0)
		die(EXIT_USAGE, "--export: no format '%s' (" EXPORT_FORMATS ")", o->export);
	r = vfk_export(h, fmt, &eo, &doc);
	if (r == -EINVAL)
		die_result(EXIT_USAGE, r, vfk_ctx_get_error(vfk_host_get_ctx(h)));
	if (r == -ENODEV || r == -ENODATA)
		die_result(EXIT_NOT_SO, r, vfk_ctx_get_error(vfk_host_get_ctx(h)));
	if (r < 0)
		die_result(EXIT_FAILURE_OP, r, vfk_ctx_get_error(vfk_host_get_ctx(h)));
	fputs(doc, stdout);
	if (r == 0 && !o->c.quiet)
		warnx_("nothing %scan be given away%s: the %s document names no device (vfio-ls "
		       "shows the verdicts)", o->gpus_only ? "of the GPUs " : "",
		       o->device ? " in that device's group" : "", o->export);
}

int main(int argc, char **argv)
{
	enum { OPT_GPUS = 0x100, OPT_BRIEF, OPT_GROUP, OPT_DEVICE, OPT_EXPORT, OPT_NODE,
	       OPT_RESOURCE_PREFIX, OPT_VFIO_MODE };
	static const struct option longopts[] = {
		{ "gpus", no_argument, NULL, OPT_GPUS },
		{ "brief", no_argument, NULL, OPT_BRIEF },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "export", required_argument, NULL, OPT_EXPORT },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "resource-prefix", required_argument, NULL, OPT_RESOURCE_PREFIX },
		{ "vfio-mode", required_argument, NULL, OPT_VFIO_MODE },
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
		case OPT_BRIEF:
			o.brief = o.gpus_only = true;
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
		case OPT_EXPORT:
			o.export = optarg;
			break;
		case OPT_NODE:
			o.node = optarg;
			break;
		case OPT_RESOURCE_PREFIX:
			o.resource_prefix = optarg;
			break;
		case OPT_VFIO_MODE:
			if (strcmp(optarg, "auto") && strcmp(optarg, "legacy") && strcmp(optarg, "iommufd"))
				die(EXIT_USAGE, "--vfio-mode must be auto, legacy or iommufd, not '%s'",
				    optarg);
			o.vfio_mode = optarg;
			break;
		default:
			usage_hint();
		}
	}
	if (optind < argc)
		die(EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	if (o.export) {
		enum vfk_export_format fmt;

		/* before the host is read: a typo costs nothing */
		if (vfk_export_format_from_string(o.export, &fmt) < 0)
			die(EXIT_USAGE, "--export: no format '%s' (" EXPORT_FORMATS ")", o.export);
		if (o.c.json || o.brief || o.group >= 0)
			die(EXIT_USAGE, "--export writes its own format: it takes no %s",
			    o.c.json ? "--json" : o.brief ? "--brief" : "--group (--device names a group)");
		if (o.node && fmt != VFK_EXPORT_PROXMOX && fmt != VFK_EXPORT_DRA)
			die(EXIT_USAGE, "--node is for --export proxmox and dra");
		if (o.resource_prefix && (fmt == VFK_EXPORT_NOVA || fmt == VFK_EXPORT_PROXMOX))
			die(EXIT_USAGE, "--resource-prefix is for --export kubevirt, nfd, cdi and dra");
		if (o.vfio_mode && fmt != VFK_EXPORT_CDI)
			die(EXIT_USAGE, "--vfio-mode is for --export cdi");
	} else if (o.node || o.resource_prefix || o.vfio_mode) {
		die(EXIT_USAGE, "%s is for --export", o.node ? "--node" : o.resource_prefix ?
		    "--resource-prefix" : "--vfio-mode");
	}

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
	if (o.export)
		print_export(&o, host);
	else if (o.c.json)
		print_json(&o, host, only);
	else if (o.brief)
		print_brief(&o, host, only);
	else
		print_human(&o, host, only);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EXIT_FAILURE_OP, "writing output failed");
	vfk_host_unref(host);
	vfk_ctx_unref(ctx);
	return EXIT_OK;
}
