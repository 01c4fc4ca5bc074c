/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-ls: PCI devices by IOMMU group, GPUs and whether they can be passed through. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "common.h"

#define EXPORT_FORMATS "kubevirt, nova, proxmox, nfd, cdi, dra"

/* SGR colours of --tree and the link line, on a terminal only (common_color) */
#define SGR_RED "\033[31m"
#define SGR_GREEN "\033[32m"
#define SGR_YELLOW "\033[33m"
#define SGR_OFF "\033[0m"

struct ls_opts {
	struct common_opts c;
	bool gpus_only;
	bool brief;		/* one line per GPU */
	bool tree;		/* the PCI hierarchy */
	long group;		/* -1: all */
	const char *device;	/* NULL: all */
	const char *export;	/* --export FORMAT, or NULL */
	const char *node;	/* --node */
	const char *resource_prefix;	/* --resource-prefix */
	const char *vfio_mode;	/* --vfio-mode */
	const char *svg;	/* --svg FILE ("-": stdout), or NULL */
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
		"      --tree          the PCIe hierarchy: root ports, switches, endpoints with\n"
		"                      their groups, ACS, GPU verdicts and links, and where a\n"
		"                      shared group starts; with --gpus only the paths to GPUs,\n"
		"                      with --device ADDR the path to ADDR and what is below it\n"
		"      --svg FILE      the same tree as a picture (SVG) in FILE, - for standard\n"
		"                      output: a box per function, one colour per IOMMU group,\n"
		"                      isolated GPUs and where shared groups start marked,\n"
		"                      large hosts folded; --gpus and --device ADDR as --tree\n"
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

/* The same for a terminal: pci.ids (the sysroot's own, too) may hold control
 * characters, and an escape sequence must not reach the user's terminal. */
static const char *text_name(const struct vfk_device *d, char *buf, size_t size)
{
	char raw[600];

	return common_printable(full_name(d, raw, sizeof(raw)), buf, size);
}

/* A GPU whose functions include @d, or NULL. */

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
	return vfk_device_get_gpu(d) || vfk_device_get_fabric_role(d);
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

/* ---------------------------------------------------------------- link */

/* "8.0 GT/s x16" for one end of a link, "?" for what is not reported. */
static const char *link_end_text(const char *speed, unsigned int width, char *buf, size_t size)
{
	unsigned int mts = vfk_link_speed_mts(speed);
	char w[16] = "x?";

	if (width)
		snprintf(w, sizeof(w), "x%u", width);
	if (mts)
		snprintf(buf, size, "%u.%u GT/s %s", mts / 1000, mts % 1000 / 100, w);
	else
		snprintf(buf, size, "? GT/s %s", w);
	return buf;
}

static const char *link_color(enum vfk_link_verdict v)
{
	switch (v) {
	case VFK_LINK_OK:
		return SGR_GREEN;
	case VFK_LINK_DEGRADED:
		return SGR_RED;
	case VFK_LINK_IDLE:
	case VFK_LINK_SLOT_LIMITED:
		return SGR_YELLOW;
	case VFK_LINK_UNKNOWN:
		break;
	}
	return "";
}

/* "link 2.5 GT/s x4 (card 8.0 GT/s x16, slot 0000:00:1c.0 8.0 GT/s x4): slot-limited — why";
 * nothing for a GPU without a link of its own. */
static void print_gpu_link(const struct vfk_gpu *g, const char *indent, bool color)
{
	const struct vfk_device *e = vfk_gpu_get_link_device(g), *p = vfk_gpu_get_link_port(g);
	enum vfk_link_verdict v = vfk_gpu_get_link_verdict(g);
	char cur[48], card[48], slot[48];

	if (!e)
		return;
	if (v == VFK_LINK_UNKNOWN) {
		printf("%slink: unknown — %s\n", indent, vfk_gpu_get_link_reason(g));
		return;
	}
	link_end_text(vfk_device_get_link_speed(e), vfk_device_get_link_width(e), cur, sizeof(cur));
	link_end_text(vfk_device_get_max_link_speed(e), vfk_device_get_max_link_width(e), card,
		      sizeof(card));
	link_end_text(vfk_device_get_max_link_speed(p), vfk_device_get_max_link_width(p), slot,
		      sizeof(slot));
	printf("%slink %s (card %s%s%s, slot %s %s): %s%s%s", indent, cur, card,
	       e == vfk_gpu_get_device(g) ? "" : " at its switch ",
	       e == vfk_gpu_get_device(g) ? "" : vfk_device_get_address(e), vfk_device_get_address(p),
	       slot, color ? link_color(v) : "", vfk_link_verdict_to_string(v), color ? SGR_OFF : "");
	if (v != VFK_LINK_OK)
		printf(" — %s", vfk_gpu_get_link_reason(g));
	putchar('\n');
}

/* One end of the link in JSON: as it trained and as far as it goes. */
static json_object *link_end_json(const struct vfk_device *d)
{
	json_object *o = json_object_new_object();
	unsigned int cur = vfk_link_speed_mts(vfk_device_get_link_speed(d)),
		     max = vfk_link_speed_mts(vfk_device_get_max_link_speed(d));
	char buf[32];

	json_object_object_add(o, "address", json_object_new_string(vfk_device_get_address(d)));
	snprintf(buf, sizeof(buf), "%u.%u GT/s", cur / 1000, cur % 1000 / 100);
	json_object_object_add(o, "speed", cur ? json_object_new_string(buf) : NULL);
	json_object_object_add(o, "width", json_object_new_int((int)vfk_device_get_link_width(d)));
	snprintf(buf, sizeof(buf), "%u.%u GT/s", max / 1000, max % 1000 / 100);
	json_object_object_add(o, "max_speed", max ? json_object_new_string(buf) : NULL);
	json_object_object_add(o, "max_width", json_object_new_int((int)vfk_device_get_max_link_width(d)));
	return o;
}

/* The "link" object of a GPU (vfio-ls(1)), or JSON null without a link of its own. */
static json_object *link_json(const struct vfk_gpu *g)
{
	const struct vfk_device *e = vfk_gpu_get_link_device(g), *p = vfk_gpu_get_link_port(g);
	json_object *o;

	if (!e)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "verdict", json_object_new_string(
		vfk_link_verdict_to_string(vfk_gpu_get_link_verdict(g))));
	json_object_object_add(o, "reason", json_object_new_string(vfk_gpu_get_link_reason(g)));
	json_object_object_add(o, "device", link_end_json(e));
	json_object_object_add(o, "port", p ? link_end_json(p) : NULL);
	return o;
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
	char name[600], cls[128];
	const struct vfk_device *pf = vfk_device_get_physfn(d);

	printf("  %s [%04x] %s: %s [%04x:%04x]", vfk_device_get_address(d),
	       vfk_device_get_class(d) >> 8,
	       common_printable(vfk_device_get_class_name(d), cls, sizeof(cls)),
	       text_name(d, name, sizeof(name)), vfk_device_get_vendor_id(d),
	       vfk_device_get_device_id(d));
	printf(" (%s)", vfk_device_get_driver(d) ? vfk_device_get_driver(d) : "no driver");
	if (vfk_device_is_gpu(d))
		printf(" <GPU>");
	else if (vfk_device_get_gpu(d))
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
	char name[600], cls[128];
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
			       vfk_device_get_class(b) >> 8,
			       common_printable(vfk_device_get_class_name(b), cls, sizeof(cls)),
			       text_name(b, name, sizeof(name)),
			       vfk_device_get_driver(b) ? vfk_device_get_driver(b) : "no driver");
		}
		break;
	}
}

/* ------------------------------------------------------------ slots */

/* "x16 Gen4", "x4", "Gen3" or "?" for what the slot's port and the firmware say. */
static const char *slot_lanes(const struct vfk_slot *s, char *buf, size_t size)
{
	unsigned int w = vfk_slot_get_width(s), g = vfk_slot_get_generation(s);

	if (w && g)
		snprintf(buf, size, "x%u Gen%u", w, g);
	else if (w || g)
		snprintf(buf, size, w ? "x%u" : "Gen%u", w ? w : g);
	else
		snprintf(buf, size, "?");
	return buf;
}

/* Would a card there have a group of its own, in a few words. */
static const char *slot_isolation_text(const struct vfk_slot *s, char *buf, size_t size)
{
	const struct vfk_device *p = vfk_slot_get_port(s);

	switch (vfk_slot_get_isolation(s)) {
	case VFK_SLOT_ISOLATION_ACS:
		return "own group (ACS)";
	case VFK_SLOT_ISOLATION_ALONE:
		return "own group (alone here)";
	case VFK_SLOT_ISOLATION_SHARED:
		snprintf(buf, size, "shared (group %d)", vfk_device_get_iommu_group(p));
		return buf;
	case VFK_SLOT_ISOLATION_UNKNOWN:
		break;
	}
	return "group unknown";
}

/* The board's slot table under a GPU shown with --device: where it could go. */
static void print_slot_table(const struct vfk_host *h, const struct vfk_gpu *g)
{
	const char *own = vfk_device_get_slot(vfk_gpu_get_device(g)), *note = vfk_host_slot_note(h);
	char name[300], lanes[32], iso[48], safe[600];
	size_t i;

	if (!vfk_host_slot_count(h))
		return;
	printf("    slots of this board:\n");
	for (i = 0; i < vfk_host_slot_count(h); i++) {
		const struct vfk_slot *s = vfk_host_slot(h, i);
		const struct vfk_device *p = vfk_slot_get_port(s), *d = vfk_slot_get_device(s);
		enum vfk_slot_kind k = vfk_slot_get_kind(s);

		printf("      %-12s %-8s %-9s %-13s ", common_printable(vfk_slot_get_name(s), name, sizeof(name)),
		       k == VFK_SLOT_KIND_M2 ? "M.2" : k == VFK_SLOT_KIND_PCI ? "PCI"
		       : vfk_slot_get_attach(s) == VFK_SLOT_ATTACH_UNKNOWN ? "-"
		       : vfk_slot_attach_to_string(vfk_slot_get_attach(s)),
		       slot_lanes(s, lanes, sizeof(lanes)), p ? vfk_device_get_address(p) : "-");
		if (vfk_slot_get_note(s))
			printf("%s\n", common_printable(vfk_slot_get_note(s), safe, sizeof(safe)));
		else
			printf("%-22s %s%s%s\n", slot_isolation_text(s, iso, sizeof(iso)),
			       d ? "occupied by " : vfk_slot_in_use(s) ? "occupied" : "free",
			       d ? vfk_device_get_address(d) : "",
			       own && vfk_slot_get_name(s) == own ? " (this GPU)" : "");
	}
	if (note)
		printf("      (%s)\n", common_printable(note, safe, sizeof(safe)));
}

/* A GPU not isolated: which slot would isolate it (one line). */
static void print_slot_advice(const struct vfk_gpu *g)
{
	const char *a = vfk_gpu_get_slot_advice(g);
	char buf[4096];

	if (a)
		printf("    slots: %s\n", common_printable(a, buf, sizeof(buf)));
}

/* The "slot_advice" object of a GPU (vfio-ls(1)), or JSON null when it needs none. */
static json_object *slot_json(const struct vfk_slot *s)
{
	json_object *o = json_object_new_object();
	const struct vfk_device *p = vfk_slot_get_port(s), *d = vfk_slot_get_device(s);

	json_object_object_add(o, "name", json_object_new_string(vfk_slot_get_name(s)));
	json_object_object_add(o, "source", json_object_new_string(
		vfk_slot_source_to_string(vfk_slot_get_source(s))));
	json_object_object_add(o, "hotplug_name", json_str_or_null(vfk_slot_get_hotplug_name(s)));
	json_object_object_add(o, "kind", json_object_new_string(
		vfk_slot_kind_to_string(vfk_slot_get_kind(s))));
	json_object_object_add(o, "port", p ? json_object_new_string(vfk_device_get_address(p)) : NULL);
	json_object_object_add(o, "attach", json_object_new_string(
		vfk_slot_attach_to_string(vfk_slot_get_attach(s))));
	json_object_object_add(o, "width", json_object_new_int((int)vfk_slot_get_width(s)));
	json_object_object_add(o, "generation", json_object_new_int((int)vfk_slot_get_generation(s)));
	json_object_object_add(o, "isolation", json_object_new_string(
		vfk_slot_isolation_to_string(vfk_slot_get_isolation(s))));
	json_object_object_add(o, "in_use", json_object_new_boolean(vfk_slot_in_use(s)));
	json_object_object_add(o, "device", d ? json_object_new_string(vfk_device_get_address(d)) : NULL);
	json_object_object_add(o, "note", json_str_or_null(vfk_slot_get_note(s)));
	return o;
}

static json_object *slot_advice_json(const struct vfk_gpu *g)
{
	json_object *o, *places;
	size_t i;

	if (!vfk_gpu_get_slot_advice(g))
		return NULL;
	o = json_object_new_object();
	places = json_object_new_array();
	json_object_object_add(o, "text", json_object_new_string(vfk_gpu_get_slot_advice(g)));
	for (i = 0; i < vfk_gpu_slot_advice_count(g); i++)
		json_object_array_add(places, slot_json(vfk_gpu_slot_advice(g, i)));
	json_object_object_add(o, "places", places);
	return o;
}

static void print_gpu(const struct vfk_gpu *g)
{
	const struct vfk_device *d = vfk_gpu_get_device(g), *up = vfk_gpu_get_upstream(g);
	char name[600];
	size_t i;

	printf("  %s %s", vfk_device_get_address(d), text_name(d, name, sizeof(name)));
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
	if (vfk_device_get_slot(d))
		printf(", slot %s", common_printable(vfk_device_get_slot(d), name, sizeof(name)));
	putchar('\n');
	print_gpu_link(g, "    ", common_color(stdout));
	if (vfk_gpu_is_boot_vga(g))
		printf("    boot VGA%s\n", vfk_gpu_console_in_use(g)
					    ? ": the host console uses it (release it with vfio-bind --single-gpu)"
					    : "");
	if (vfk_gpu_is_only_gpu(g))
		printf("    the host's only GPU: passing it through leaves the host headless\n");
	print_verdict(g);
	print_slot_advice(g);
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
	char raw[512];

	if (lb && (rb = strchr(lb, ']')) && rb > lb + 1)
		snprintf(raw, sizeof(raw), "%.*s", (int)(rb - lb - 1), lb + 1);
	else
		snprintf(raw, sizeof(raw), "%s", n);
	return common_printable(raw, buf, size);	/* a terminal's line, as text_name() */
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
		if (only)
			print_slot_table(h, g);
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

	json_add_new(o, "address", json_object_new_string(vfk_device_get_address(d)));
	json_add_new(o, "class", json_object_new_string(class_hex(d, buf, sizeof(buf))));
	snprintf(buf, sizeof(buf), "%04x", vfk_device_get_vendor_id(d));
	json_add_new(o, "vendor", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%04x", vfk_device_get_device_id(d));
	json_add_new(o, "device", json_object_new_string(buf));
	json_add_new(o, "name", json_object_new_string(full_name(d, buf, sizeof(buf))));
	json_add_new(o, "class_name", json_object_new_string(vfk_device_get_class_name(d)));
	json_add_new(o, "driver", json_str_or_null(vfk_device_get_driver(d)));
	json_add_new(o, "bridge", json_object_new_boolean(vfk_device_is_bridge(d)));
	json_add_new(o, "gpu", json_object_new_boolean(vfk_device_is_gpu(d)));
	json_add_new(o, "boot_vga", json_object_new_boolean(vfk_device_is_boot_vga(d)));
	json_add_new(o, "physfn", pf ? json_object_new_string(vfk_device_get_address(pf)) : NULL);
	/* only a device on a VFIO driver has a VFIO cdev: the others cost no lookup */
	json_add_new(o, "vfio_cdev", vfk_driver_is_vfio(vfk_device_get_driver(d))
			       ? json_str_or_null(vfk_device_get_vfio_cdev(d)) : NULL);
	if (verbose) {
		snprintf(buf, sizeof(buf), "%04x", vfk_device_get_subsystem_vendor_id(d));
		json_add_new(o, "subsystem_vendor", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "%04x", vfk_device_get_subsystem_device_id(d));
		json_add_new(o, "subsystem_device", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "%02x", vfk_device_get_revision(d));
		json_add_new(o, "revision", json_object_new_string(buf));
		json_add_new(o, "driver_override", json_str_or_null(vfk_device_get_driver_override(d)));
		json_add_new(o, "numa_node", json_object_new_int(vfk_device_get_numa_node(d)));
		json_add_new(o, "local_cpulist", json_str_or_null(vfk_device_get_local_cpulist(d)));
		json_add_new(o, "reset_method", json_str_or_null(vfk_device_get_reset_method(d)));
		json_add_new(o, "reset", json_object_new_boolean(vfk_device_has_reset(d)));
		json_add_new(o, "flr", tristate_json(vfk_device_get_flr(d)));
		json_add_new(o, "no_soft_reset", tristate_json(vfk_device_get_no_soft_reset(d)));
		json_add_new(o, "reset_verdict", json_object_new_string(
			vfk_reset_verdict_to_string(vfk_device_get_reset_verdict(d))));
		json_add_new(o, "reset_reason", json_object_new_string(vfk_device_get_reset_reason(d)));
		json_add_new(o, "power_state", json_str_or_null(vfk_device_get_power_state(d)));
		json_add_new(o, "link_speed", json_str_or_null(vfk_device_get_link_speed(d)));
		json_add_new(o, "link_width", json_object_new_int((int)vfk_device_get_link_width(d)));
		json_add_new(o, "max_link_speed", json_str_or_null(vfk_device_get_max_link_speed(d)));
		json_add_new(o, "max_link_width", json_object_new_int((int)vfk_device_get_max_link_width(d)));
		json_add_new(o, "sriov_totalvfs", json_object_new_int((int)vfk_device_get_sriov_totalvfs(d)));
		json_add_new(o, "sriov_numvfs", json_object_new_int((int)vfk_device_get_sriov_numvfs(d)));
		if (vfk_device_is_bridge(d))
			json_add_new(o, "acs", json_object_new_string(vfk_acs_to_string(vfk_device_get_acs(d))));
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
	json_object_object_add(o, "link", link_json(g));
	json_object_object_add(o, "slot", json_str_or_null(vfk_device_get_slot(d)));
	json_object_object_add(o, "slot_advice", slot_advice_json(g));
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
		json_add_new(g, "id", json_object_new_int(vfk_group_get_id(grp)));
		for (j = 0; j < vfk_group_device_count(grp); j++)
			json_object_array_add(devs, device_json(vfk_group_device(grp, j), o->c.verbose));
		json_add_new(g, "devices", devs);
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
	/* the board's slot table, whole in every view: it is short */
	printf("],\"slots\":[");
	first = true;
	for (i = 0; i < vfk_host_slot_count(h); i++)
		emit(slot_json(vfk_host_slot(h, i)), &first);
	printf("],\"slot_note\":");
	first = true;
	emit(json_str_or_null(vfk_host_slot_note(h)), &first);
	printf("}\n");
}

/* ---------------------------------------------------------------- tree */

/* Deeper than 256 bridges cannot be: each level takes a bus number of the
 * domain. A crafted tree stops there, with a note. */
#define TREE_MAX_DEPTH 256

struct tree_view {
	const struct ls_opts *o;
	const struct vfk_host *h;
	const struct vfk_gpu **gpu_at;	/* per device index: the GPU it is a function of */
	unsigned char *shown;		/* per device index; NULL: every device */
	bool color;
	char prefix[TREE_MAX_DEPTH * 5 + 8];	/* "│  " is five bytes */
};

static uint32_t addr_key(const struct vfk_device *d)
{
	const struct vfk_pci_addr *a = vfk_device_get_addr(d);

	return ((uint32_t)a->domain << 16) | ((uint32_t)a->bus << 8) | ((uint32_t)a->dev << 3) | a->fn;
}

/* The index of @d among the host's devices, which are in address order. */
static size_t dev_index(const struct vfk_host *h, const struct vfk_device *d)
{
	size_t lo = 0, hi = vfk_host_device_count(h);
	uint32_t k = addr_key(d);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t m = addr_key(vfk_host_device(h, mid));
		if (m == k)
			return mid;
		if (m < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;	/* not reached: every device is the host's */
}

static bool is_below(const struct vfk_device *d, const struct vfk_device *top)
{
	for (; d; d = vfk_device_get_parent(d))
		if (d == top)
			return true;
	return false;
}

/* @d and the bridges above it are shown; the walk stops at one already shown. */
static void show_path(struct tree_view *v, const struct vfk_device *d)
{
	for (; d && !v->shown[dev_index(v->h, d)]; d = vfk_device_get_parent(d))
		v->shown[dev_index(v->h, d)] = 1;
}

static bool tree_wanted(const struct tree_view *v, const struct vfk_device *d,
			const struct vfk_device *only)
{
	if (v->o->group >= 0 && vfk_device_get_iommu_group(d) != v->o->group)
		return false;
	return !only || is_below(d, only);
}

/* --gpus, --group, --device: the devices they select and the paths to them. */
static int tree_select(struct tree_view *v, const struct vfk_device *only)
{
	const struct vfk_host *h = v->h;
	size_t i, j;

	if (!v->o->gpus_only && v->o->group < 0 && !only)
		return 0;
	v->shown = calloc(vfk_host_device_count(h) + 1, 1);
	if (!v->shown)
		return -ENOMEM;
	if (v->o->gpus_only) {
		for (i = 0; i < vfk_host_gpu_count(h); i++)
			for (j = 0; j < vfk_gpu_function_count(vfk_host_gpu(h, i)); j++)
				if (tree_wanted(v, vfk_gpu_function(vfk_host_gpu(h, i), j), only))
					show_path(v, vfk_gpu_function(vfk_host_gpu(h, i), j));
		for (i = 0; i < vfk_host_fabric_count(h); i++)
			if (tree_wanted(v, vfk_host_fabric_device(h, i), only))
				show_path(v, vfk_host_fabric_device(h, i));
		return 0;
	}
	for (i = 0; i < vfk_host_device_count(h); i++)
		if (tree_wanted(v, vfk_host_device(h, i), only))
			show_path(v, vfk_host_device(h, i));
	return 0;
}

static bool tree_shown(const struct tree_view *v, const struct vfk_device *d)
{
	return !v->shown || v->shown[dev_index(v->h, d)];
}

static const struct vfk_gpu *tree_gpu(const struct tree_view *v, const struct vfk_device *d)
{
	return v->gpu_at[dev_index(v->h, d)];
}

/* Whether ACS isolates what is below a bridge, in a few words and a colour. */
static const char *acs_words(enum vfk_acs acs, const char **sgr)
{
	*sgr = acs == VFK_ACS_ENABLED ? SGR_GREEN : SGR_YELLOW;
	return vfk_acs_describe(acs);
}

static void tag(const struct tree_view *v, const char *sgr, const char *text)
{
	printf(" %s%s%s", v->color ? sgr : "", text, v->color ? SGR_OFF : "");
}

/* The GPU's verdict after its line: "GPU: isolated", "GPU: NOT isolated (why)". */
static void tree_gpu_tag(const struct tree_view *v, const struct vfk_gpu *g)
{
	char buf[700], reason[600];

	common_printable(vfk_gpu_get_reason(g), reason, sizeof(reason));
	switch (vfk_gpu_get_verdict(g)) {
	case VFK_GPU_ISOLATED:
		tag(v, SGR_GREEN, "GPU: isolated");
		return;
	case VFK_GPU_TOGETHER:
		snprintf(buf, sizeof(buf), "GPU: together with %zu other%s (%s)",
			 vfk_gpu_together_count(g), vfk_gpu_together_count(g) == 1 ? "" : "s", reason);
		tag(v, SGR_YELLOW, buf);
		return;
	case VFK_GPU_SHARED:
		snprintf(buf, sizeof(buf), "GPU: NOT isolated (%s)", reason);
		break;
	case VFK_GPU_NO_GROUP:
		snprintf(buf, sizeof(buf), "GPU: no group (%s)", reason);
		break;
	}
	tag(v, SGR_RED, buf);
}

/* "00:01.0 GeForce RTX 4090 (nvidia) [group 9] GPU: isolated" */
/* " [slot PCIE1]" on the first function of what sits in a slot (not on
 * what is below a switch in that slot: its switch has the name). */
static void tree_slot(const struct vfk_device *d)
{
	const struct vfk_device *up = vfk_device_get_parent(d);
	const char *slot = vfk_device_get_slot(d), *upslot = up ? vfk_device_get_slot(up) : NULL;
	const char *addr = vfk_device_get_address(d);
	char safe[160];

	if (slot && addr[strlen(addr) - 1] == '0' && !(upslot && !strcmp(upslot, slot)))
		printf(" [slot %s]", common_printable(slot, safe, sizeof(safe)));
}

static void tree_line(const struct tree_view *v, const struct vfk_device *d)
{
	const struct vfk_gpu *g = tree_gpu(v, d);
	const char *drv = vfk_device_get_driver(d), *sgr;
	char model[600], safe[600];

	model_of(d, model, sizeof(model));
	printf("%s %s", short_addr(d), common_printable(model, safe, sizeof(safe)));
	if (drv)
		printf(" (%s)", common_printable(drv, safe, sizeof(safe)));
	if (vfk_device_get_iommu_group(d) >= 0)
		printf(" [group %d]", vfk_device_get_iommu_group(d));
	tree_slot(d);
	if (vfk_device_is_bridge(d) && (vfk_device_get_class(d) >> 8) != 0x0600) {
		const char *w = acs_words(vfk_device_get_acs(d), &sgr);
		tag(v, sgr, w);
	}
	if (g && vfk_gpu_get_device(g) == d)
		tree_gpu_tag(v, g);
	else if (g)
		printf(" GPU function of %s", short_addr(vfk_gpu_get_device(g)));
	if (vfk_device_get_fabric_role(d))
		printf(" %s: GPU fabric", vfk_device_get_fabric_role(d));
	putchar('\n');
}

static size_t shown_children(const struct tree_view *v, const struct vfk_device *d)
{
	size_t i, n = 0;

	for (i = 0; i < vfk_device_child_count(d); i++)
		n += tree_shown(v, vfk_device_child(d, i));
	return n;
}

/* The lines under a node's own: where a shared group starts, a GPU's link. */
static void tree_notes(struct tree_view *v, const struct vfk_device *d, size_t len, bool kids)
{
	const struct vfk_gpu *g = tree_gpu(v, d);
	const char *merge = vfk_device_get_group_merge(d);
	char indent[sizeof(v->prefix) + 8], why[600];

	snprintf(indent, sizeof(indent), "%.*s%s   ", (int)len, v->prefix, kids ? "│" : " ");
	if (merge)
		printf("%s%s! group %d shared below here: %s%s\n", indent, v->color ? SGR_RED : "",
		       vfk_device_get_iommu_group(d), common_printable(merge, why, sizeof(why)),
		       v->color ? SGR_OFF : "");
	if (g && vfk_gpu_get_device(g) == d)
		print_gpu_link(g, indent, v->color);
}

/* @d's line, its notes, then its shown children below, one level deeper. */
static void tree_print(struct tree_view *v, const struct vfk_device *d, size_t len, bool last,
		       size_t depth)
{
	size_t i, n = shown_children(v, d), k = 0, sub;

	printf("%.*s%s", (int)len, v->prefix, last ? "└─ " : "├─ ");
	tree_line(v, d);
	sub = len + (size_t)snprintf(v->prefix + len, sizeof(v->prefix) - len, "%s",
				     last ? "   " : "│  ");
	tree_notes(v, d, sub, n > 0);
	if (n && depth + 1 >= TREE_MAX_DEPTH) {
		printf("%s└─ (%zu more below: deeper than %d levels, not shown)\n", v->prefix, n,
		       TREE_MAX_DEPTH);
		return;
	}
	for (i = 0; i < vfk_device_child_count(d); i++) {
		const struct vfk_device *c = vfk_device_child(d, i);
		if (tree_shown(v, c))
			tree_print(v, c, sub, ++k == n, depth + 1);
		v->prefix[sub] = '\0';
	}
}

/* "pci0000:00": the root bus a top device hangs off, its header in the tree. */
static const char *root_name(const struct vfk_device *d, char *buf, size_t size)
{
	const char *r = vfk_device_get_pcie_root(d);

	if (r)
		snprintf(buf, size, "%s", r);
	else
		snprintf(buf, size, "pci%04x:%02x", vfk_device_get_addr(d)->domain,
			 vfk_device_get_addr(d)->bus);
	return buf;
}

/* The top devices of the root bus starting at @i: how many follow in a row. */
static size_t root_run(const struct tree_view *v, size_t i, size_t *nshown)
{
	char a[32], b[32];
	size_t j;

	root_name(vfk_host_root(v->h, i), a, sizeof(a));
	*nshown = 0;
	for (j = i; j < vfk_host_root_count(v->h) &&
		    streq(root_name(vfk_host_root(v->h, j), b, sizeof(b)), a); j++)
		*nshown += tree_shown(v, vfk_host_root(v->h, j));
	return j - i;
}

static void tree_text(struct tree_view *v)
{
	size_t i, j, run, n, k;
	char name[32];

	for (i = 0; i < vfk_host_root_count(v->h); i += run) {
		run = root_run(v, i, &n);
		if (!n)
			continue;
		printf("%s\n", root_name(vfk_host_root(v->h, i), name, sizeof(name)));
		for (j = i, k = 0; j < i + run; j++) {
			if (!tree_shown(v, vfk_host_root(v->h, j)))
				continue;
			v->prefix[0] = '\0';
			tree_print(v, vfk_host_root(v->h, j), 0, ++k == n, 0);
		}
	}
}

/* One node of --tree --json and the shown nodes below it (vfio-ls(1): NODE). */
static json_object *tree_node_json(const struct tree_view *v, const struct vfk_device *d,
				   size_t depth)
{
	json_object *o = json_object_new_object(), *kids = json_object_new_array();
	const struct vfk_gpu *g = tree_gpu(v, d);
	const char *merge = vfk_device_get_group_merge(d);
	bool bridge = vfk_device_is_bridge(d) && (vfk_device_get_class(d) >> 8) != 0x0600;
	char buf[600];
	size_t i;

	json_object_object_add(o, "address", json_object_new_string(vfk_device_get_address(d)));
	json_object_object_add(o, "class", json_object_new_string(class_hex(d, buf, sizeof(buf))));
	json_object_object_add(o, "name", json_object_new_string(full_name(d, buf, sizeof(buf))));
	json_object_object_add(o, "driver", json_str_or_null(vfk_device_get_driver(d)));
	json_object_object_add(o, "group", vfk_device_get_iommu_group(d) >= 0
						   ? json_object_new_int(vfk_device_get_iommu_group(d))
						   : NULL);
	json_object_object_add(o, "bridge", json_object_new_boolean(vfk_device_is_bridge(d)));
	json_object_object_add(o, "acs", bridge ? json_object_new_string(
					 vfk_acs_to_string(vfk_device_get_acs(d))) : NULL);
	json_object_object_add(o, "isolates_below", bridge ? json_object_new_boolean(
					 vfk_device_get_acs(d) == VFK_ACS_ENABLED) : NULL);
	json_object_object_add(o, "shared_below", json_str_or_null(merge));
	json_object_object_add(o, "gpu", json_object_new_boolean(vfk_device_is_gpu(d)));
	json_object_object_add(o, "function_of", g && vfk_gpu_get_device(g) != d
		? json_object_new_string(vfk_device_get_address(vfk_gpu_get_device(g))) : NULL);
	if (g && vfk_gpu_get_device(g) == d) {
		json_object_object_add(o, "verdict", json_object_new_string(
			vfk_gpu_verdict_to_string(vfk_gpu_get_verdict(g))));
		json_object_object_add(o, "reason", json_str_or_null(vfk_gpu_get_reason(g)));
		json_object_object_add(o, "link", link_json(g));
	}
	json_object_object_add(o, "fabric", json_str_or_null(vfk_device_get_fabric_role(d)));
	if (depth + 1 >= TREE_MAX_DEPTH && vfk_device_child_count(d))
		json_object_object_add(o, "truncated", json_object_new_boolean(true));
	else
		for (i = 0; i < vfk_device_child_count(d); i++)
			if (tree_shown(v, vfk_device_child(d, i)))
				json_object_array_add(kids, tree_node_json(v, vfk_device_child(d, i),
									   depth + 1));
	json_object_object_add(o, "children", kids);
	return o;
}

/* {"iommu": ..., "tree": [{"root": "pci0000:00", "children": [NODE...]}]}, one
 * top device at a time: a host of 65,536 functions never holds its whole tree. */
static void tree_json(const struct tree_view *v)
{
	size_t i, j, run, n;
	bool first_root = true, first;
	char name[32];

	printf("{\"iommu\":{\"enabled\":%s,\"iommufd\":%s},\"tree\":[",
	       vfk_host_iommu_enabled(v->h) ? "true" : "false",
	       vfk_host_has_iommufd(v->h) ? "true" : "false");
	for (i = 0; i < vfk_host_root_count(v->h); i += run) {
		json_object *s;
		run = root_run(v, i, &n);
		if (!n)
			continue;
		s = json_object_new_string(root_name(vfk_host_root(v->h, i), name, sizeof(name)));
		printf("%s{\"root\":%s,\"children\":[", first_root ? "" : ",",
		       json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN));
		json_object_put(s);
		first_root = false;
		for (j = i, first = true; j < i + run; j++)
			if (tree_shown(v, vfk_host_root(v->h, j)))
				emit(tree_node_json(v, vfk_host_root(v->h, j), 0), &first);
		printf("]}");
	}
	printf("]}\n");
}

/* --tree: the PCI hierarchy, as text or JSON. */
static void print_tree(const struct ls_opts *o, const struct vfk_host *h,
		       const struct vfk_device *only)
{
	_cleanup_free_ struct tree_view *v = calloc(1, sizeof(*v));
	size_t i, j;

	if (!v || !(v->gpu_at = calloc(vfk_host_device_count(h) + 1, sizeof(*v->gpu_at))))
		die(EXIT_FAILURE_OP, "out of memory");
	v->o = o;
	v->h = h;
	v->color = !o->c.json && common_color(stdout);
	for (i = 0; i < vfk_host_gpu_count(h); i++)
		for (j = 0; j < vfk_gpu_function_count(vfk_host_gpu(h, i)); j++)
			v->gpu_at[dev_index(h, vfk_gpu_function(vfk_host_gpu(h, i), j))] =
				vfk_host_gpu(h, i);
	if (tree_select(v, only) < 0)
		die(EXIT_FAILURE_OP, "out of memory");
	if (o->c.json)
		tree_json(v);
	else
		tree_text(v);
	free(v->gpu_at);
	free(v->shown);
}

/* --svg FILE: the tree as a picture; a FILE that cannot be written is one
 * line and exit 3. */
static void print_svg(const struct ls_opts *o, struct vfk_host *h)
{
	struct vfk_export_options eo = { .gpus_only = o->gpus_only, .device = o->device };
	_cleanup_free_ char *doc = NULL;
	FILE *f = stdout;
	int r = vfk_export(h, VFK_EXPORT_SVG, &eo, &doc);

	if (r < 0)
		die_result(r == -ENODEV ? EXIT_NOT_SO : EXIT_FAILURE_OP, r,
			   vfk_ctx_get_error(vfk_host_get_ctx(h)));
	if (strcmp(o->svg, "-") != 0 && !(f = fopen(o->svg, "w")))
		die(EXIT_FAILURE_OP, "--svg: cannot write %s: %s", o->svg, strerror(errno));
	if (fputs(doc, f) == EOF || (f != stdout && fclose(f) != 0))
		die(EXIT_FAILURE_OP, "--svg: writing %s failed: %s", o->svg, strerror(errno));
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
	       OPT_RESOURCE_PREFIX, OPT_VFIO_MODE, OPT_TREE, OPT_SVG };
	static const struct option longopts[] = {
		{ "gpus", no_argument, NULL, OPT_GPUS },
		{ "brief", no_argument, NULL, OPT_BRIEF },
		{ "tree", no_argument, NULL, OPT_TREE },
		{ "svg", required_argument, NULL, OPT_SVG },
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
		case OPT_TREE:
			o.tree = true;
			break;
		case OPT_SVG:
			o.svg = optarg;
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
	if (o.svg && (o.export || o.brief || o.c.json || o.group >= 0))
		die(EXIT_USAGE, "--svg draws the tree as a picture: it takes no %s",
		    o.export ? "--export" : o.brief ? "--brief" : o.c.json ? "--json" : "--group");
	if (o.tree && (o.export || o.brief))
		die(EXIT_USAGE, "--tree is a view of its own: it takes no %s",
		    o.export ? "--export" : "--brief");
	if (o.export) {
		enum vfk_export_format fmt;

		/* before the host is read: a typo costs nothing */
		if (vfk_export_format_from_string(o.export, &fmt) < 0)
			die(EXIT_USAGE, "--export: no format '%s' (" EXPORT_FORMATS ")", o.export);
		if (fmt == VFK_EXPORT_SVG)
			die(EXIT_USAGE, "--export svg: the picture of the tree is --svg FILE");
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
	if (o.svg)
		print_svg(&o, host);
	else if (o.export)
		print_export(&o, host);
	else if (o.tree)
		print_tree(&o, host, only);
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
