/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Node Feature Discovery: a feature file of nfd-worker's local source
 * (/etc/kubernetes/node-feature-discovery/features.d/), one "name=value"
 * per line, '#' lines comments. Each name is PREFIX/NAME, a Kubernetes
 * label key: PREFIX a DNS subdomain (feature.node.kubernetes.io unless
 * told otherwise: NFD drops other kubernetes.io namespaces), NAME at most 63
 * characters of A-Z a-z 0-9 '.', '_', '-', alphanumeric at both ends; each
 * value the same or empty. The labels:
 *   vfiokit.iommu                   true when the kernel made IOMMU groups
 *   vfiokit.interrupt-remapping     true when vfio-check's irq-remap check passes
 *   vfiokit.isolated-gpus           the GPUs the export holds
 *   vfiokit.mdev.TYPE               per mdev type id: instances free now
 * A type id a label name cannot carry is named in a comment instead.
 */
#include <stdio.h>

#include "export/export.h"
#include "check/check.h"

/* Is type id @id among the first @n types of @v? */
static bool has_id(const struct export_mtype *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (streq(vfk_mdev_type_get_id(v[i].type), id))
			return true;
	return false;
}

/* The free instances of type id @id over @v. */
static unsigned int free_of(const struct export_mtype *v, size_t n, const char *id)
{
	unsigned int sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (streq(vfk_mdev_type_get_id(v[i].type), id))
			sum += vfk_mdev_type_get_available(v[i].type);
	return sum;
}

static int id_cmp(const void *a, const void *b)
{
	return strverscmp(*(const char *const *)a, *(const char *const *)b);
}

/* One label per type id, classic and per-VF alike, in natural order. */
static void type_labels(struct export_sel *s, const char *prefix)
{
	_cleanup_free_ const char **ids = calloc(s->nmtypes + s->nvftypes + 1, sizeof(*ids));
	size_t n = 0, i;
	int pass;

	if (!ids) {
		s->out.failed = true;
		return;
	}
	for (pass = 0; pass < 2; pass++) {
		const struct export_mtype *v = pass ? s->vftypes : s->mtypes;
		size_t nv = pass ? s->nvftypes : s->nmtypes;

		for (i = 0; i < nv; i++) {
			const char *id = vfk_mdev_type_get_id(v[i].type);

			if (has_id(v, i, id) || (pass && has_id(s->mtypes, s->nmtypes, id)))
				continue;	/* counted already */
			if (!export_type_id_plain(id))
				export_commentf(&s->out, "not labelled: an mdev type whose id '%s' no "
						"label name can hold", id);
			else
				ids[n++] = id;
		}
	}
	qsort_safe(ids, n, sizeof(*ids), id_cmp);
	for (i = 0; i < n; i++)
		sbuf_addf(&s->out, "%s/vfiokit.mdev.%s=%u\n", prefix, ids[i],
			  free_of(s->mtypes, s->nmtypes, ids[i]) +
			  free_of(s->vftypes, s->nvftypes, ids[i]));
}

int export_nfd(struct export_sel *s)
{
	const char *prefix = s->opts->resource_prefix ? s->opts->resource_prefix
						      : VFK_EXPORT_NFD_PREFIX;
	int ir = check_passes(s->ctx, "irq-remap");

	if (ir < 0)
		return ir;
	sbuf_add(&s->out, "# Node Feature Discovery: labels of what this host can give away\n"
		 "# (vfio-ls --export nfd), for a file of nfd-worker's local source:\n"
		 "# /etc/kubernetes/node-feature-discovery/features.d/vfiokit\n");
	sbuf_addf(&s->out, "%s/vfiokit.iommu=%s\n", prefix,
		  vfk_host_iommu_enabled(s->host) ? "true" : "false");
	sbuf_addf(&s->out, "%s/vfiokit.interrupt-remapping=%s\n", prefix, ir ? "true" : "false");
	sbuf_addf(&s->out, "%s/vfiokit.isolated-gpus=%zu\n", prefix, s->ngpus);
	type_labels(s, prefix);
	return s->out.failed ? neg_errno(ENOMEM) : 0;
}
