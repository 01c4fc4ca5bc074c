/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Proxmox VE: sections of /etc/pve/mapping/pci.cfg, the cluster's PCI
 * resource mappings (PVE::Mapping::PCI, a PVE::SectionConfig file). A
 * section is its id alone on a line (pve-configid: a letter, then letters,
 * digits, '_' and '-'), then its properties, each on a line of its own after
 * a tab, then an empty line. The property "map" is an array (one line per
 * device) of a property string:
 *     id=VVVV:DDDD,iommugroup=N,node=NODE,path=DDDD:BB:DD[.F],subsystem-id=VVVV:DDDD
 * with the ids in lower-case hex as sysfs gives them (Proxmox compares them
 * as strings), and path without the function for a whole multi-function
 * device, whose attributes are then those of function 0. Several map lines
 * of one node are alternatives: a guest gets the first one free. One
 * mapping per vendor:device, named after it ("ad102-geforce-rtx-4090");
 * mdev parents in mappings of their own ("...-mdev") with "mdev 1", from
 * which a guest picks a type. "description" holds the pci.ids name as
 * printable ASCII. Lines starting with '#' are comments to Proxmox's parser.
 */
#include <ctype.h>
#include <stdio.h>

#include "export/export.h"

/* "AD102_GEFORCE_RTX_4090" -> "ad102-geforce-rtx-4090" (+ @suffix), a pve-configid. */
static char *mapping_id(const struct export_sel *s, const struct vfk_device *d, const char *suffix)
{
	const char *name = export_device_name(s, d);
	char *id, *p;

	id = strdupf("%s%s%s", isalpha((unsigned char)name[0]) && name[1] ? "" : "pci-", name,
		     suffix);
	for (p = id; p && *p; p++)
		*p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
	return id;
}

static void map_line(struct export_sel *s, const struct vfk_device *d, bool whole_slot,
		     const char *node)
{
	const struct vfk_pci_addr *a = vfk_device_get_addr(d);

	sbuf_addf(&s->out, "\tmap id=%04x:%04x,iommugroup=%d,node=%s,path=", vfk_device_get_vendor_id(d),
		  vfk_device_get_device_id(d), vfk_device_get_iommu_group(d), node);
	if (whole_slot)
		sbuf_addf(&s->out, "%04x:%02x:%02x", a->domain, a->bus, a->dev);
	else
		sbuf_add(&s->out, vfk_device_get_address(d));
	sbuf_addf(&s->out, ",subsystem-id=%04x:%04x\n", vfk_device_get_subsystem_vendor_id(d),
		  vfk_device_get_subsystem_device_id(d));
}

static void description(struct export_sel *s, const struct vfk_device *d, const char *extra)
{
	_cleanup_free_ char *text = strdupf("%s %s%s", vfk_device_get_vendor_name(d),
					    vfk_device_get_device_name(d), extra);
	struct sbuf plain = { 0 };
	_cleanup_free_ char *line = NULL;
	size_t start = 0, end;

	if (!text) {
		s->out.failed = true;
		return;
	}
	export_comment(&plain, text);
	line = sbuf_take(&plain);
	if (!line) {
		s->out.failed = true;
		return;
	}
	/* the parser drops blanks at either end: none to lose */
	end = strlen(line);
	while (start < end && line[start] == ' ')
		start++;
	while (end > start && line[end - 1] == ' ')
		end--;
	if (end > start)
		sbuf_addf(&s->out, "\tdescription %.*s\n", (int)(end - start), line + start);
}

/* A GPU's functions fill its slot: the whole device goes by the slot's path. */
static bool whole_slot(const struct export_dev *e)
{
	return e->gpu && vfk_gpu_function_count(e->gpu) > 1 && vfk_device_get_addr(e->dev)->fn == 0;
}

static void pci_mappings(struct export_sel *s, const char *node)
{
	size_t i, j;

	for (i = 0; i < s->ndevs; i++) {
		const struct vfk_device *d = s->devs[i].dev;
		_cleanup_free_ char *id = NULL;

		if (!export_first_of_id(s, i))
			continue;
		id = mapping_id(s, d, "");
		if (!id) {
			s->out.failed = true;
			return;
		}
		sbuf_addf(&s->out, "%s\n", id);
		for (j = i; j < s->ndevs; j++)
			if (vfk_device_get_vendor_id(s->devs[j].dev) == vfk_device_get_vendor_id(d) &&
			    vfk_device_get_device_id(s->devs[j].dev) == vfk_device_get_device_id(d))
				map_line(s, s->devs[j].dev, whole_slot(&s->devs[j]), node);
		description(s, d, "");
		sbuf_add(&s->out, "\n");
	}
}

/* The first parent of @i's vendor:device among the classic PCI parents. */
static bool first_parent_of_id(const struct export_sel *s, size_t i)
{
	const struct vfk_device *d = s->mtypes[i].pdev;
	size_t j;

	for (j = 0; j < i; j++)
		if (s->mtypes[j].pdev &&
		    vfk_device_get_vendor_id(s->mtypes[j].pdev) == vfk_device_get_vendor_id(d) &&
		    vfk_device_get_device_id(s->mtypes[j].pdev) == vfk_device_get_device_id(d))
			return false;
	return true;
}

static void mdev_mappings(struct export_sel *s, const char *node)
{
	size_t i, j;

	for (i = 0; i < s->nmtypes; i++) {
		const struct export_mtype *m = &s->mtypes[i];
		_cleanup_free_ char *id = NULL;

		if (!export_first_of_parent(s->mtypes, i))
			continue;
		if (!m->pdev) {
			export_commentf(&s->out, "not mapped: %s is no PCI device (a virtual mdev "
					"parent)", vfk_mdev_parent_get_name(m->parent));
			continue;
		}
		if (!first_parent_of_id(s, i))
			continue;
		id = mapping_id(s, m->pdev, "-mdev");
		if (!id) {
			s->out.failed = true;
			return;
		}
		sbuf_addf(&s->out, "%s\n", id);
		for (j = i; j < s->nmtypes; j++)
			if (s->mtypes[j].pdev && export_first_of_parent(s->mtypes, j) &&
			    vfk_device_get_vendor_id(s->mtypes[j].pdev) == vfk_device_get_vendor_id(m->pdev) &&
			    vfk_device_get_device_id(s->mtypes[j].pdev) == vfk_device_get_device_id(m->pdev))
				map_line(s, s->mtypes[j].pdev, false, node);
		description(s, m->pdev, ", mediated devices");
		sbuf_add(&s->out, "\tmdev 1\n\n");
	}
	for (i = 0; i < s->nvftypes; i++)
		if (export_first_of_parent(s->vftypes, i))
			export_commentf(&s->out, "not mapped: the NVIDIA per-VF vGPUs of %s (no mdev)",
					vfk_mdev_parent_get_name(s->vftypes[i].parent));
}

/* Proxmox's pve-node: letters, digits and '-', alphanumeric at both ends. */
static bool node_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* The node: @opts->node, else the host name up to its first '.' (as Proxmox
 * names its node); refused when Proxmox would not take it. */
static int node_name(struct export_sel *s, char *buf, size_t size)
{
	char shown[64];
	int r;

	if (s->opts->node) {
		if (!node_name_ok(s->opts->node))
			return export_error(s->ctx, EINVAL, "'%s' is no Proxmox node name (letters, "
					    "digits and '-', alphanumeric at both ends)",
					    vfk_shown(s->opts->node, shown, sizeof(shown)));
		snprintf(buf, size, "%s", s->opts->node);
		return 0;
	}
	r = export_host_name(s, buf, size);
	if (r < 0)
		return export_error(s->ctx, -r, "the host name cannot be read "
				    "(proc/sys/kernel/hostname): name the Proxmox node (vfio-ls --node)");
	buf[strcspn(buf, ".")] = '\0';
	if (!node_name_ok(buf))
		return export_error(s->ctx, EINVAL, "the host name '%s' is no Proxmox node name "
				    "(letters, digits and '-'): name the node (vfio-ls --node)",
				    vfk_shown(buf, shown, sizeof(shown)));
	return 0;
}

int export_proxmox(struct export_sel *s)
{
	char node[256];
	int r = node_name(s, node, sizeof(node));

	if (r < 0)
		return r;
	sbuf_add(&s->out, "# Proxmox VE: resource mappings of the devices this host can give away\n"
		 "# (vfio-ls --export proxmox), for /etc/pve/mapping/pci.cfg (Datacenter >\n"
		 "# Resource Mappings). Another node's devices join a mapping of the same id\n"
		 "# as map lines of their own.\n");
	sbuf_addf(&s->out, "# node %s\n", node);
	pci_mappings(s, node);
	mdev_mappings(s, node);
	return s->out.failed ? neg_errno(ENOMEM) : 0;
}
