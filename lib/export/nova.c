/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * OpenStack nova: nova.conf text for oslo.config. [pci] gets one device_spec
 * per device, by address (nova's keys vendor_id, product_id, address: four
 * lower-case hex digits, the full PCI address), and one alias per
 * vendor:device with its device_type: type-VF for an SR-IOV VF, type-PF for
 * a device that can have VFs (nova wants type-PF to give such a device
 * whole), type-PCI for any other. Both are JSON values, written by json-c.
 * Mediated devices: [devices] enabled_mdev_types lists the types and each
 * gets [mdev_TYPE] device_addresses, the parents' PCI addresses. nova takes
 * one type per parent (an address under two types stops nova-compute), so
 * each parent goes under the type its instances have, else the type
 * vfk_mdevs_pick_type() chooses (the smallest with a free instance, as
 * vfio-vm's mode auto does); the other types it offers are named in a
 * comment. Virtual parents (no PCI address) and NVIDIA's per-VF vGPUs are
 * named in comments only.
 */
#include <stdio.h>
#include <json-c/json.h>

#include "export/export.h"

/* @o as one line of JSON; false when memory ran out. */
static bool add_json(struct sbuf *b, const char *key, json_object *o)
{
	const char *text;

	if (!o)
		return false;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text)
		sbuf_addf(b, "%s = %s\n", key, text);
	json_object_put(o);
	return text != NULL;
}

static bool add_str(json_object *o, const char *key, const char *value)
{
	json_object *v = json_object_new_string(value);

	if (!v)
		return false;
	json_object_object_add(o, key, v);
	return true;
}

static json_object *ids_object(const struct vfk_device *d)
{
	json_object *o = json_object_new_object();
	char v[8], p[8];

	snprintf(v, sizeof(v), "%04x", vfk_device_get_vendor_id(d));
	snprintf(p, sizeof(p), "%04x", vfk_device_get_device_id(d));
	if (o && add_str(o, "vendor_id", v) && add_str(o, "product_id", p))
		return o;
	json_object_put(o);
	return NULL;
}

static bool device_spec(struct export_sel *s, const struct export_dev *e)
{
	json_object *o = ids_object(e->dev);

	if (o && !add_str(o, "address", vfk_device_get_address(e->dev))) {
		json_object_put(o);
		o = NULL;
	}
	return add_json(&s->out, "device_spec", o);
}

static bool alias(struct export_sel *s, const struct export_dev *e)
{
	json_object *o = json_object_new_object(), *ids = NULL;

	if (o && add_str(o, "name", export_device_name(s, e->dev)) && (ids = ids_object(e->dev))) {
		json_object_object_foreach(ids, k, v)
			json_object_object_add(o, k, json_object_get(v));
		json_object_put(ids);
		if (add_str(o, "device_type", e->nova_type))
			return add_json(&s->out, "alias", o);
	}
	json_object_put(o);
	return false;
}

static void pci_section(struct export_sel *s)
{
	struct sbuf *b = &s->out;
	size_t i, k;

	sbuf_add(b, "[pci]\n");
	for (i = 0; i < s->ndevs; i++) {
		const struct export_dev *e = &s->devs[i];

		if (e->gpu && vfk_gpu_function_count(e->gpu) > 1) {
			sbuf_addf(b, "# %s goes with", vfk_device_get_address(e->dev));
			for (k = 0; k < vfk_gpu_function_count(e->gpu); k++)
				if (vfk_gpu_function(e->gpu, k) != e->dev)
					sbuf_addf(b, " %s",
						  vfk_device_get_address(vfk_gpu_function(e->gpu, k)));
			sbuf_addf(b, " (IOMMU group %d): keep them on vfio-pci too\n",
				  vfk_device_get_iommu_group(e->dev));
		}
		if (!device_spec(s, e))
			b->failed = true;
	}
	for (i = 0; i < s->ndevs; i++) {
		const struct vfk_device *d = s->devs[i].dev;

		if (!export_first_of_id(s, i))
			continue;
		sbuf_add(b, "# ");
		export_comment(b, vfk_device_get_vendor_name(d));
		sbuf_add(b, " ");
		export_comment(b, vfk_device_get_device_name(d));
		sbuf_add(b, "\n");
		if (!alias(s, &s->devs[i]))
			b->failed = true;
	}
}

/* The type parent @first's run of types (s->mtypes[first..]) goes under. */
static const struct vfk_mdev_type *parent_type(const struct export_sel *s, size_t first)
{
	struct vfk_mdev_parent *p = s->mtypes[first].parent;
	struct vfk_mdev_type *t = NULL;
	size_t i;

	for (i = first; i < s->nmtypes && s->mtypes[i].parent == p; i++)
		if (vfk_mdev_type_get_instance_count(s->mtypes[i].type) &&
		    export_type_id_plain(vfk_mdev_type_get_id(s->mtypes[i].type)))
			return s->mtypes[i].type;
	if (vfk_mdevs_pick_type(s->mdevs, vfk_mdev_parent_get_name(p), 0, 0, &t) < 0 ||
	    !export_type_id_plain(vfk_mdev_type_get_id(t)))
		return NULL;
	return t;
}

struct chosen {
	const struct vfk_mdev_type *type;
	const struct export_mtype *at;	/* the parent's first type */
};

static void mdev_sections(struct export_sel *s)
{
	struct sbuf *b = &s->out;
	_cleanup_free_ struct chosen *c = calloc(s->nmtypes ? s->nmtypes : 1, sizeof(*c));
	size_t i, j, n = 0;
	bool first;

	if (!c) {
		b->failed = true;
		return;
	}
	for (i = 0; i < s->nmtypes; i++) {
		const struct export_mtype *m = &s->mtypes[i];

		if (!export_first_of_parent(s->mtypes, i))
			continue;
		if (!m->pdev) {
			export_commentf(b, "not exported: the mdev types of %s (nova takes parents "
					"by PCI address)", vfk_mdev_parent_get_name(m->parent));
			continue;
		}
		c[n].type = parent_type(s, i);
		c[n].at = m;
		if (!c[n].type) {
			export_commentf(b, "not exported: %s has no type nova could name",
					vfk_mdev_parent_get_name(m->parent));
			continue;
		}
		n++;
	}
	for (i = 0; i < s->nvftypes; i++)
		if (export_first_of_parent(s->vftypes, i))
			export_commentf(b, "not exported: the NVIDIA per-VF vGPUs of %s (no mdev)",
					vfk_mdev_parent_get_name(s->vftypes[i].parent));
	if (!n)
		return;
	sbuf_add(b, "\n[devices]\nenabled_mdev_types = ");
	for (i = 0, first = true; i < n; i++) {
		for (j = 0; j < i && !streq(vfk_mdev_type_get_id(c[j].type),
					    vfk_mdev_type_get_id(c[i].type)); j++)
			;
		if (j < i)
			continue;	/* named already */
		sbuf_addf(b, "%s%s", first ? "" : ", ", vfk_mdev_type_get_id(c[i].type));
		first = false;
	}
	sbuf_add(b, "\n");
	for (i = 0; i < n; i++) {
		const char *id = vfk_mdev_type_get_id(c[i].type);

		for (j = 0; j < i && !streq(vfk_mdev_type_get_id(c[j].type), id); j++)
			;
		if (j < i)
			continue;
		sbuf_addf(b, "\n[mdev_%s]\n", id);
		sbuf_add(b, "# ");
		export_comment(b, vfk_mdev_type_get_name(c[i].type));
		sbuf_add(b, "\n");
		for (j = i; j < n; j++) {
			const struct export_mtype *m;

			if (!streq(vfk_mdev_type_get_id(c[j].type), id))
				continue;
			/* the parent's other types, for the one who would rather have them */
			for (m = c[j].at, first = true;
			     m < s->mtypes + s->nmtypes && m->parent == c[j].at->parent; m++) {
				if (m->type == c[j].type ||
				    !export_type_id_plain(vfk_mdev_type_get_id(m->type)))
					continue;
				sbuf_addf(b, "%s%s", first ? "# " : ", ", vfk_mdev_type_get_id(m->type));
				if (first)
					first = false;
			}
			if (!first)
				sbuf_addf(b, ": other types of %s\n", vfk_device_get_address(c[j].at->pdev));
		}
		sbuf_add(b, "device_addresses = ");
		for (j = i, first = true; j < n; j++) {
			if (!streq(vfk_mdev_type_get_id(c[j].type), id))
				continue;
			sbuf_addf(b, "%s%s", first ? "" : ",", vfk_device_get_address(c[j].at->pdev));
			first = false;
		}
		sbuf_add(b, "\n");
	}
}

int export_nova(struct export_sel *s)
{
	sbuf_add(&s->out, "# nova: the devices this host can give away (vfio-ls --export nova), for\n"
		 "# nova.conf of nova-compute; [pci] alias belongs in nova-api's nova.conf too.\n"
		 "# libvirt moves a device to vfio-pci when a guest gets it; the other functions\n"
		 "# of its IOMMU group must be on vfio-pci first (vfio-bind).\n");
	pci_section(s);
	mdev_sections(s);
	return s->out.failed ? neg_errno(ENOMEM) : 0;
}
