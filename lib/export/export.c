/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfk_export(): what the host can give away, in another stack's format.
 * This file checks the options, has select.c choose the devices and types,
 * and hands them to the format's writer:
 *
 *  select.c    the groups and mdev types that can go (every format alike)
 *  naming.c    names of devices and types, checks of names given, comments
 *  kubevirt.c  KubeVirt's permittedHostDevices (YAML)
 *  nova.c      nova.conf's [pci] and mdev sections (oslo.config ini, JSON)
 *  proxmox.c   Proxmox VE's mapping/pci.cfg sections
 *  nfd.c       a Node Feature Discovery feature file
 *  cdi.c       a Container Device Interface spec (JSON)
 *  dra.c       a Kubernetes ResourceSlice of a DRA driver (YAML)
 *  svg.c       the PCI tree as a picture (svg-layout.c places it): no
 *              selection, the whole tree as vfio-ls --tree shows it
 *
 * Layer export/: owns the exports of what the host can give away to other
 * stacks. May call mdev/, check/, bind/ (its host guards), inventory/ and
 * core/ (lib/README.md).
 */
#include <stdio.h>

#include "export/export.h"

static const char *const format_names[] = {
	[VFK_EXPORT_KUBEVIRT] = "kubevirt",
	[VFK_EXPORT_NOVA] = "nova",
	[VFK_EXPORT_PROXMOX] = "proxmox",
	[VFK_EXPORT_NFD] = "nfd",
	[VFK_EXPORT_CDI] = "cdi",
	[VFK_EXPORT_DRA] = "dra",
	[VFK_EXPORT_SVG] = "svg",
};

const char *vfk_export_format_to_string(enum vfk_export_format fmt)
{
	return (size_t)fmt < ARRAY_SIZE(format_names) ? format_names[fmt] : "unknown";
}

int vfk_export_format_from_string(const char *name, enum vfk_export_format *out)
{
	size_t i;

	for (i = 0; name && out && i < ARRAY_SIZE(format_names); i++)
		if (streq(name, format_names[i])) {
			*out = (enum vfk_export_format)i;
			return 0;
		}
	return neg_errno(EINVAL);
}

/* @domain ends in kubernetes.io or k8s.io (Kubernetes' own namespaces). */
static bool kubernetes_domain(const char *domain)
{
	static const char *const own[] = { "kubernetes.io", "k8s.io" };
	size_t i, n = strlen(domain);

	for (i = 0; i < ARRAY_SIZE(own); i++) {
		size_t k = strlen(own[i]);

		if (n >= k && streq(domain + n - k, own[i]))
			return true;
	}
	return false;
}

/* The resource prefix the format takes, or the line why not. */
static int check_prefix(struct vfk_ctx *ctx, enum vfk_export_format fmt, const char *prefix)
{
	char shown[64];

	if (!prefix)
		return 0;
	if (fmt == VFK_EXPORT_NOVA || fmt == VFK_EXPORT_PROXMOX || fmt == VFK_EXPORT_SVG)
		return export_error(ctx, EINVAL, "a resource prefix means nothing to the %s format",
				    vfk_export_format_to_string(fmt));
	if (!export_dns_subdomain(prefix))
		return export_error(ctx, EINVAL, "resource prefix '%s' is no DNS subdomain (lower-"
				    "case letters, digits, '-' and '.', like nvidia.com)",
				    vfk_shown(prefix, shown, sizeof(shown)));
	/* the vendor of a CDI kind starts with a letter (CDI's parser) */
	if (fmt == VFK_EXPORT_CDI && !(prefix[0] >= 'a' && prefix[0] <= 'z'))
		return export_error(ctx, EINVAL, "resource prefix '%s' is no CDI vendor: it must "
				    "start with a letter", prefix);
	/* a DRA driver name: a DNS subdomain of at most 63 characters */
	if (fmt == VFK_EXPORT_DRA && strlen(prefix) > 63)
		return export_error(ctx, EINVAL, "resource prefix '%.40s...' is too long for a DRA "
				    "driver name (at most 63 characters)", prefix);
	/* KubeVirt: a name in kubernetes.io is Kubernetes' own resource; NFD
	 * drops its namespaces but the two it keeps for features */
	if (kubernetes_domain(prefix) &&
	    !(fmt == VFK_EXPORT_NFD && (streq(prefix, "feature.node.kubernetes.io") ||
					streq(prefix, "profile.node.kubernetes.io"))))
		return export_error(ctx, EINVAL, "resource prefix '%s' is in Kubernetes' own "
				    "namespace", prefix);
	return 0;
}

int vfk_export(struct vfk_host *host, enum vfk_export_format fmt,
	       const struct vfk_export_options *opts, char **out)
{
	static const struct vfk_export_options none = { 0 };
	struct export_sel s = { 0 };
	int r;

	if (!host || !out)
		return neg_errno(EINVAL);
	s.host = host;
	s.ctx = vfk_host_get_ctx(host);
	s.opts = opts ? opts : &none;
	s.ctx->error[0] = '\0';
	if ((size_t)fmt >= ARRAY_SIZE(format_names))
		return export_error(s.ctx, EINVAL, "no export format %d", (int)fmt);
	r = check_prefix(s.ctx, fmt, s.opts->resource_prefix);
	/* the picture draws the whole tree, not what can be given away */
	if (r == 0 && fmt != VFK_EXPORT_SVG)
		r = export_select(&s);
	if (r == 0) {
		switch (fmt) {
		case VFK_EXPORT_KUBEVIRT:
			r = export_kubevirt(&s);
			break;
		case VFK_EXPORT_NOVA:
			r = export_nova(&s);
			break;
		case VFK_EXPORT_PROXMOX:
			r = export_proxmox(&s);
			break;
		case VFK_EXPORT_NFD:
			r = export_nfd(&s);
			break;
		case VFK_EXPORT_CDI:
			r = export_cdi(&s);
			break;
		case VFK_EXPORT_DRA:
			r = export_dra(&s);
			break;
		case VFK_EXPORT_SVG:
			r = export_svg(&s);
			break;
		}
	}
	if (r == 0 && !(*out = sbuf_take(&s.out)))
		r = neg_errno(ENOMEM);
	/* CDI and DRA hold devices, no mdev types; the picture: functions in boxes */
	if (r == 0)
		r = (int)(fmt == VFK_EXPORT_CDI || fmt == VFK_EXPORT_DRA || fmt == VFK_EXPORT_SVG
				  ? s.ndevs : s.ndevs + s.nmtypes + s.nvftypes);
	export_sel_free(&s);
	return r;
}
