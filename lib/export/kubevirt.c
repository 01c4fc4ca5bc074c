/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * KubeVirt: the fragment spec.configuration.permittedHostDevices of the
 * KubeVirt CR, in YAML. KubeVirt's own device plugins pool PCI devices by
 * vendor:device (pciVendorSelector, which it compares ignoring case; its
 * documentation writes "10DE:1EB8") and mediated devices by the name of
 * their type (mdevNameSelector, the kernel's mdev_supported_types/ID/name,
 * spaces and '_' alike); each pool is the resource resourceName that VMs ask
 * for. externalResourceProvider is false: KubeVirt's plugins serve them.
 * Every string is written double-quoted, escaped as YAML 1.2 says: '"' and
 * '\' and every character outside printable ASCII as \xXX, \uXXXX or
 * \UXXXXXXXX (a byte that is no UTF-8 as U+FFFD).
 */
#include <ctype.h>
#include <stdio.h>

#include "export/export.h"

/* "0000:01:00.0 (with 0000:01:00.1), 0000:02:00.0" of vendor:device @i. */
static void addresses(const struct export_sel *s, size_t i, struct sbuf *b)
{
	const struct vfk_device *d = s->devs[i].dev;
	size_t j, k, n = 0;

	for (j = i; j < s->ndevs; j++) {
		const struct export_dev *e = &s->devs[j];

		if (vfk_device_get_vendor_id(e->dev) != vfk_device_get_vendor_id(d) ||
		    vfk_device_get_device_id(e->dev) != vfk_device_get_device_id(d))
			continue;
		sbuf_addf(b, "%s%s", n++ ? ", " : "", vfk_device_get_address(e->dev));
		for (k = 0; e->gpu && k < vfk_gpu_function_count(e->gpu); k++)
			if (vfk_gpu_function(e->gpu, k) != e->dev)
				sbuf_addf(b, "%s%s", k > 1 ? " " : " (with ",
					  vfk_device_get_address(vfk_gpu_function(e->gpu, k)));
		if (e->gpu && vfk_gpu_function_count(e->gpu) > 1)
			sbuf_add(b, ")");
	}
}

static void pci_devices(struct export_sel *s)
{
	struct sbuf *b = &s->out;
	size_t i;
	bool any = false;

	sbuf_add(b, "      pciHostDevices:");
	for (i = 0; i < s->ndevs; i++) {
		const struct vfk_device *d = s->devs[i].dev;
		struct sbuf where = { 0 };
		_cleanup_free_ char *sel = NULL, *res = NULL, *list = NULL;

		if (!export_first_of_id(s, i))
			continue;
		if (!any)
			sbuf_add(b, "\n");
		any = true;
		addresses(s, i, &where);
		list = sbuf_take(&where);
		sbuf_add(b, "      # ");
		export_comment(b, vfk_device_get_vendor_name(d));
		sbuf_add(b, " ");
		export_comment(b, vfk_device_get_device_name(d));
		sbuf_add(b, ": ");
		export_comment(b, list ? list : "?");
		sbuf_add(b, "\n");
		sel = strdupf("%04X:%04X", vfk_device_get_vendor_id(d), vfk_device_get_device_id(d));
		res = strdupf("%s/%s", export_domain(s, vfk_device_get_vendor_id(d)),
			      export_device_name(s, d));
		if (!sel || !res) {
			b->failed = true;
			return;
		}
		sbuf_add(b, "      - pciVendorSelector: ");
		export_yaml_quoted(b, sel);
		sbuf_add(b, "\n        resourceName: ");
		export_yaml_quoted(b, res);
		sbuf_add(b, "\n        externalResourceProvider: false\n");
	}
	if (!any)
		sbuf_add(b, " []\n");
}

/* The first classic type @i of its name (KubeVirt pools types by name). */
static bool first_of_name(const struct export_sel *s, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (streq(vfk_mdev_type_get_name(s->mtypes[j].type),
			  vfk_mdev_type_get_name(s->mtypes[i].type)))
			return false;
	return true;
}

/* Another type name that makes the same resource name in the same domain. */
static bool resource_shared(const struct export_sel *s, size_t i, const char *res)
{
	char other[64];
	size_t j;

	for (j = 0; j < s->nmtypes; j++)
		if (!streq(vfk_mdev_type_get_name(s->mtypes[j].type),
			   vfk_mdev_type_get_name(s->mtypes[i].type)) &&
		    streq(export_mtype_domain(s, &s->mtypes[j]), export_mtype_domain(s, &s->mtypes[i])) &&
		    streq(export_mtype_resource(s->mtypes[j].type, other, sizeof(other)), res))
			return true;
	return false;
}

/* Type ids in natural order ("nvidia-222" before "nvidia-1395"), then names. */
static int mtype_cmp(const void *a, const void *b)
{
	const struct vfk_mdev_type *x = (*(const struct export_mtype *const *)a)->type;
	const struct vfk_mdev_type *y = (*(const struct export_mtype *const *)b)->type;
	int r = strverscmp(vfk_mdev_type_get_id(x), vfk_mdev_type_get_id(y));

	return r ? r : strcmp(vfk_mdev_type_get_name(x), vfk_mdev_type_get_name(y));
}

static void mediated_devices(struct export_sel *s)
{
	struct sbuf *b = &s->out;
	_cleanup_free_ const struct export_mtype **order = calloc(s->nmtypes + 1, sizeof(*order));
	size_t i, j, k, n = 0;
	bool any = false;

	if (!order) {
		b->failed = true;
		return;
	}
	for (i = 0; i < s->nmtypes; i++)
		if (first_of_name(s, i))
			order[n++] = &s->mtypes[i];
	qsort_safe(order, n, sizeof(*order), mtype_cmp);
	sbuf_add(b, "      mediatedDevices:");
	for (k = 0; k < n; k++) {
		const struct vfk_mdev_type *t = order[k]->type;
		const char *name = vfk_mdev_type_get_name(t);
		char res[64], id[64];
		unsigned int free_n = 0, used = 0;
		_cleanup_free_ char *full = NULL;

		i = (size_t)(order[k] - s->mtypes);
		if (!any)
			sbuf_add(b, "\n");
		any = true;
		export_mtype_resource(t, res, sizeof(res));
		if (resource_shared(s, i, res)) {
			/* the type id tells them apart: "GRID_T4-2Q_nvidia-231" */
			size_t keep = strlen(res), il;

			if (export_type_id_plain(vfk_mdev_type_get_id(t)))
				snprintf(id, sizeof(id), "%s", vfk_mdev_type_get_id(t));
			else
				snprintf(id, sizeof(id), "type%zu", i);
			il = strlen(id);	/* at most 50 */
			if (keep + 1 + il > 63)
				keep = 63 - 1 - il;
			while (keep && !isalnum((unsigned char)res[keep - 1]))
				keep--;
			snprintf(res + keep, sizeof(res) - keep, "%s%s", keep ? "_" : "", id);
		}
		sbuf_add(b, "      # type ");
		export_comment(b, vfk_mdev_type_get_id(t));
		sbuf_add(b, " on");
		for (j = i; j < s->nmtypes; j++) {
			if (!streq(vfk_mdev_type_get_name(s->mtypes[j].type), name))
				continue;
			free_n += vfk_mdev_type_get_available(s->mtypes[j].type);
			used += vfk_mdev_type_get_instance_count(s->mtypes[j].type);
			sbuf_add(b, " ");
			export_comment(b, vfk_mdev_parent_get_name(s->mtypes[j].parent));
		}
		sbuf_addf(b, ": %u free, %u in use\n", free_n, used);
		full = strdupf("%s/%s", export_mtype_domain(s, &s->mtypes[i]), res);
		if (!full) {
			b->failed = true;
			return;
		}
		sbuf_add(b, "      - mdevNameSelector: ");
		export_yaml_quoted(b, name);
		sbuf_add(b, "\n        resourceName: ");
		export_yaml_quoted(b, full);
		sbuf_add(b, "\n        externalResourceProvider: false\n");
	}
	if (!any)
		sbuf_add(b, " []\n");
}

int export_kubevirt(struct export_sel *s)
{
	struct sbuf *b = &s->out;
	size_t i;

	sbuf_add(b, "# KubeVirt: the host devices this host can give away (vfio-ls --export kubevirt),\n"
		 "# for the KubeVirt CR (kubectl edit kubevirt -n kubevirt). The PCI devices must be\n"
		 "# on vfio-pci (vfio-bind) on every node that offers them; a GPU's other functions\n"
		 "# stay on vfio-pci with it.\n");
	for (i = 0; i < s->nvftypes; i++)
		if (export_first_of_parent(s->vftypes, i))
			export_commentf(b, "not exported: the NVIDIA per-VF vGPUs of %s (no mdev; "
					"mediatedDevices selects mdev types only)",
					vfk_mdev_parent_get_name(s->vftypes[i].parent));
	sbuf_add(b, "spec:\n  configuration:\n    permittedHostDevices:\n");
	pci_devices(s);
	mediated_devices(s);
	return b->failed ? neg_errno(ENOMEM) : 0;
}
