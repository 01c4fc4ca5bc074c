/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kubernetes Dynamic Resource Allocation: the ResourceSlice (YAML) a
 * node-local DRA driver publishes for the devices this host can give away,
 * so that a driver (its kubelet plugin) or a person sees what it would say.
 *
 *  - apiVersion resource.k8s.io/v1: DRA's GA API (Kubernetes 1.34), whose
 *    devices carry their attributes directly, spec.devices[].attributes
 *    {NAME: {string|int|bool|version: VALUE}} (v1beta2 has the same shape;
 *    v1beta1 nests them below "basic").
 *  - spec.driver: VFK_EXPORT_DRA_DRIVER or the resource prefix (a DNS
 *    subdomain of at most 63 characters); spec.nodeName and spec.pool.name:
 *    the node, opts->node or the host name lower-cased, as the kubelet names
 *    its node (a DNS subdomain, or refused); generation 1, one slice.
 *    metadata.name NODE.DRIVER (a DNS subdomain of at most 253 characters).
 *  - one device per IOMMU group that can go, named after its device's
 *    address, "pci-0000-01-00-0" (a DNS label), with at most 7 of the 32
 *    attributes a device may have:
 *        resource.kubernetes.io/pciBusID   "0000:01:00.0"  standard attributes
 *        resource.kubernetes.io/pcieRoot   "pci0000:00"    (Kubernetes' names and
 *        resource.kubernetes.io/numaNode   0               values; numaNode only
 *                                                          when sysfs knows it)
 *        vendorID        "0x10de"  the driver's own, unqualified, as NVIDIA's
 *        deviceID        "0x2684"  DRA driver names its VFIO devices'
 *        iommuGroup      9         (iommuGroup as the DRA example driver's
 *        iommuFDEnabled  false     vfio-gpu profile): iommufd usable, i.e.
 *                                  /dev/iommu and a VFIO cdev per function
 *  - comments: each device's pci.ids names and functions, the mdev types
 *    left out (mediated devices are no DRA devices here). The kubelet
 *    deletes its node's slices when it starts and when a driver leaves: a
 *    slice applied by hand lasts until then.
 */
#include <ctype.h>
#include <stdio.h>

#include "export/export.h"

/* The node: @opts->node, else the host name lower-cased (the kubelet's
 * default); a DNS subdomain, as Kubernetes names nodes, or refused. */
static int node_name(struct export_sel *s, char *buf, size_t size)
{
	char shown[64], *p;
	int r;

	if (s->opts->node) {
		if (!export_dns_subdomain(s->opts->node))
			return export_error(s->ctx, EINVAL, "'%s' is no Kubernetes node name (a DNS "
					    "subdomain: lower-case letters, digits, '-' and '.')",
					    vfk_shown(s->opts->node, shown, sizeof(shown)));
		snprintf(buf, size, "%s", s->opts->node);
		return 0;
	}
	r = export_host_name(s, buf, size);
	if (r < 0)
		return export_error(s->ctx, -r, "the host name cannot be read "
				    "(proc/sys/kernel/hostname): name the Kubernetes node (vfio-ls --node)");
	for (p = buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!export_dns_subdomain(buf))
		return export_error(s->ctx, EINVAL, "the host name '%s' is no Kubernetes node name "
				    "(a DNS subdomain): name the node (vfio-ls --node)",
				    vfk_shown(buf, shown, sizeof(shown)));
	return 0;
}

static void attr_str(struct sbuf *b, const char *name, const char *value)
{
	sbuf_addf(b, "      %s: {string: ", name);
	export_yaml_quoted(b, value);
	sbuf_add(b, "}\n");
}

static void device(struct export_sel *s, const struct export_dev *e)
{
	const struct vfk_device *d = e->dev;
	const struct vfk_pci_addr *a = vfk_device_get_addr(d);
	struct sbuf *b = &s->out;
	const char *root = vfk_device_get_pcie_root(d);
	char hex[8];
	bool with = false;
	size_t i;

	sbuf_add(b, "  # ");
	export_comment(b, vfk_device_get_vendor_name(d));
	sbuf_add(b, " ");
	export_comment(b, vfk_device_get_device_name(d));
	sbuf_addf(b, ": %s", vfk_device_get_address(d));
	for (i = 0; i < export_function_count(e); i++) {
		const struct vfk_device *f = export_function(e, i);

		if (f == d)
			continue;
		sbuf_addf(b, "%s%s", with ? " " : " (with ", vfk_device_get_address(f));
		with = true;
	}
	sbuf_addf(b, "%s, IOMMU group %d\n", with ? ")" : "", vfk_group_get_id(e->group));
	sbuf_addf(b, "  - name: \"pci-%04x-%02x-%02x-%x\"\n    attributes:\n", a->domain, a->bus,
		  a->dev, a->fn);
	attr_str(b, "resource.kubernetes.io/pciBusID", vfk_device_get_address(d));
	if (root)
		attr_str(b, "resource.kubernetes.io/pcieRoot", root);
	if (vfk_device_get_numa_node(d) >= 0)
		sbuf_addf(b, "      resource.kubernetes.io/numaNode: {int: %d}\n",
			  vfk_device_get_numa_node(d));
	snprintf(hex, sizeof(hex), "0x%04x", vfk_device_get_vendor_id(d));
	attr_str(b, "vendorID", hex);
	snprintf(hex, sizeof(hex), "0x%04x", vfk_device_get_device_id(d));
	attr_str(b, "deviceID", hex);
	sbuf_addf(b, "      iommuGroup: {int: %d}\n", vfk_group_get_id(e->group));
	sbuf_addf(b, "      iommuFDEnabled: {bool: %s}\n",
		  export_iommufd_ready(s, e) ? "true" : "false");
}

int export_dra(struct export_sel *s)
{
	const char *driver = s->opts->resource_prefix ? s->opts->resource_prefix
						      : VFK_EXPORT_DRA_DRIVER;
	struct sbuf *b = &s->out;
	char node[256];
	size_t i;
	int r = node_name(s, node, sizeof(node));

	if (r < 0)
		return r;
	if (strlen(node) + 1 + strlen(driver) > 253)
		return export_error(s->ctx, EINVAL, "the ResourceSlice's name, NODE.%s, would be "
				    "over 253 characters: name the node shorter (vfio-ls --node)",
				    driver);
	sbuf_add(b, "# Kubernetes DRA: the devices this host can give away (vfio-ls --export dra),\n"
		 "# as the ResourceSlice a node-local DRA driver publishes for them\n"
		 "# (resource.k8s.io/v1, Kubernetes 1.34+). The kubelet deletes its node's\n"
		 "# slices when it starts and when a driver leaves: the driver publishes it.\n");
	for (i = 0; i < s->nmtypes; i++)
		if (export_first_of_parent(s->mtypes, i))
			export_commentf(b, "not exported: the mdev types of %s (mediated devices are "
					"no DRA devices here)", vfk_mdev_parent_get_name(s->mtypes[i].parent));
	for (i = 0; i < s->nvftypes; i++)
		if (export_first_of_parent(s->vftypes, i))
			export_commentf(b, "not exported: the NVIDIA per-VF vGPUs of %s",
					vfk_mdev_parent_get_name(s->vftypes[i].parent));
	sbuf_add(b, "apiVersion: resource.k8s.io/v1\nkind: ResourceSlice\nmetadata:\n  name: ");
	sbuf_addf(b, "\"%s.%s\"\nspec:\n  driver: \"%s\"\n  nodeName: \"%s\"\n", node, driver,
		  driver, node);
	sbuf_addf(b, "  pool:\n    name: \"%s\"\n    generation: 1\n    resourceSliceCount: 1\n",
		  node);
	sbuf_add(b, "  devices:");
	sbuf_add(b, s->ndevs ? "\n" : " []\n");
	for (i = 0; i < s->ndevs; i++)
		device(s, &s->devs[i]);
	return b->failed ? neg_errno(ENOMEM) : 0;
}
