/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Extra PCI devices: each [hostdev] section names one device (an address,
 * vendor:device ids, or a part of its name: exactly one must match), which
 * goes to the guest through the GPUs' machinery: its whole IOMMU group (every
 * endpoint; bridges stay, as the bind layer leaves them), the host guards of
 * bind/guards.c (the controller of the root filesystem and the NIC of the
 * default route are refused with the reason), one bind transaction with the
 * GPUs (vfk_plan_add_to_bind), restored at down. Refused too: a bridge, a GPU
 * that [gpu] does not give (GPUs go with all their functions there), a device
 * without an IOMMU group, and a group that holds any of these. A device that
 * goes already (a function of a GPU given, an NVSwitch, a member of another
 * section's group) is left out with a note. Each slot of what goes sits on a
 * guest root port of its own after the GPUs' and NVSwitches', its functions
 * numbered from 0 as the guest must find them.
 */
#include <stdio.h>

#include "plan/plan-internal.h"
#include "bind/guards.h"

/* ------------------------------------------------------------ the device named */

/* "0000:02:00.0 Samsung ...; 0000:..." of the endpoints @sel matches. */
static char *list_matches(const struct vfk_host *h, const char *sel)
{
	struct sbuf b = { 0 };
	size_t i, n = 0;

	for (i = 0; i < vfk_host_device_count(h); i++) {
		const struct vfk_device *d = vfk_host_device(h, i);
		_cleanup_free_ char *name = NULL;

		if (vfk_device_is_bridge(d) || !plan_device_matches(d, sel))
			continue;
		name = plan_device_name(d);
		sbuf_addf(&b, "%s%s", n++ ? "; " : "", name ? name : "?");
	}
	return sbuf_take(&b);
}

/* The one device selector @sel of section @sec names; -ENODEV or -ENOTUNIQ
 * with the line in @errbuf. */
static int select_device(const struct vfk_host *h, const char *sec, const char *sel,
			 struct vfk_device **out, char *errbuf, size_t errsize)
{
	struct vfk_pci_addr a;
	size_t i, n = 0;

	if (vfk_pci_addr_parse(sel, &a) == 0) {
		if (vfk_host_find_device(h, sel, out) == 0)
			return 0;
		plan_set_error(errbuf, errsize, "[%s] device = %s: no such PCI device (vfio-ls "
			       "lists them)", sec, sel);
		return neg_errno(ENODEV);
	}
	for (i = 0; i < vfk_host_device_count(h); i++) {
		struct vfk_device *d = vfk_host_device(h, i);

		if (!vfk_device_is_bridge(d) && plan_device_matches(d, sel)) {
			*out = d;
			n++;
		}
	}
	if (n == 1)
		return 0;
	if (n == 0) {
		plan_set_error(errbuf, errsize, "[%s] device = %s: no PCI device %s (vfio-ls lists "
			       "them)", sec, sel, profile_is_vendor_device(sel) ? "has these ids"
			       : "has that in its name");
		return neg_errno(ENODEV);
	}
	{
		_cleanup_free_ char *list = list_matches(h, sel);

		plan_set_error(errbuf, errsize, "[%s] device = %s: ambiguous, %zu devices match: "
			       "%s; name one by its address", sec, sel, n, list ? list : "?");
	}
	return neg_errno(ENOTUNIQ);
}

/* ------------------------------------------------------------ what goes already */

/* The GPU of the host that @d is a function of, or NULL. */
static struct vfk_gpu *gpu_of(const struct vfk_host *h, const struct vfk_device *d)
{
	size_t i;

	for (i = 0; i < vfk_host_gpu_count(h); i++)
		if (plan_gpu_has_function(vfk_host_gpu(h, i), d))
			return vfk_host_gpu(h, i);
	return NULL;
}

static bool given_gpu(const struct vfk_plan *pl, const struct vfk_gpu *g)
{
	size_t i;

	for (i = 0; g && i < pl->ngpus; i++)
		if (pl->gpus[i] == g)
			return true;
	return false;
}

/* What @d goes to the guest with already ("the GPU 0000:01:00.0", "[hostdev.a]"), or NULL. */
static char *goes_with(const struct vfk_plan *pl, size_t upto, const struct vfk_device *d)
{
	const struct vfk_gpu *g = gpu_of(pl->host, d);
	size_t i, k;

	if (given_gpu(pl, g))
		return strdupf("the GPU %s", vfk_device_get_address(vfk_gpu_get_device(g)));
	for (i = 0; i < pl->nfabric; i++)
		if (pl->fabric[i] == d)
			return strdup("the NVSwitches ([gpu] fabric)");
	for (i = 0; i < upto; i++)
		for (k = 0; k < pl->hostdevs[i].nfns; k++)
			if (pl->hostdevs[i].fns[k] == d)
				return strdupf("[%s] (%s)", pl->hostdevs[i].section,
					       vfk_device_get_address(pl->hostdevs[i].dev));
	return NULL;
}

/* ------------------------------------------------------------ refusals */

/* Why the host keeps @d (the device named, or one of its group); NULL when it can go. */
static char *obstacle(struct vfk_plan *pl, const struct vfk_device *d)
{
	const char *addr = vfk_device_get_address(d), *why;
	const struct vfk_gpu *g;
	char buf[700];

	if ((vfk_device_get_class(d) >> 16) == 0x06)
		return strdupf("%s is a bridge (%s): bridges stay with the host", addr,
			       vfk_device_get_class_name(d));
	g = gpu_of(pl->host, d);
	if (g && vfk_gpu_get_device(g) == d)
		return strdupf("%s is a GPU: GPUs go by [gpu] device, with all their functions",
			       addr);
	if (g)
		return strdupf("%s is a function of the GPU %s: GPUs go by [gpu] device, with all "
			       "their functions", addr, vfk_device_get_address(vfk_gpu_get_device(g)));
	if (vfk_device_get_iommu_group(d) < 0)
		return strdupf("%s is in no IOMMU group", addr);
	if ((why = guard_host_needs(pl->host, d)))
		return strdupf("%s: the host cannot give it away", why);
	if (guard_dependents(pl->host, d, buf, sizeof(buf)))
		return strdup(buf);
	return NULL;
}

/* ------------------------------------------------------------ one section */

/* @h's group: every endpoint, address order (host->devices is sorted). */
static int take_group(struct vfk_plan *pl, struct plan_hostdev *h)
{
	struct vfk_group *grp;
	size_t i, n;

	if (vfk_host_find_group(pl->host, vfk_device_get_iommu_group(h->dev), &grp) < 0)
		return neg_errno(ENODEV);
	n = vfk_group_device_count(grp);
	h->fns = calloc(n, sizeof(*h->fns));
	h->guest = calloc(n, sizeof(*h->guest));
	if (!h->fns || !h->guest)
		return neg_errno(ENOMEM);
	for (i = 0; i < n; i++)
		if (!vfk_device_is_bridge(vfk_group_device(grp, i)))
			h->fns[h->nfns++] = vfk_group_device(grp, i);
	return 0;
}

/* The first member of @h's group that cannot go, with why, into @errbuf. */
static int check_group(struct vfk_plan *pl, const struct plan_hostdev *h, char *errbuf,
		       size_t errsize)
{
	const struct vfk_device *d = h->dev;
	struct vfk_group *grp;
	size_t i;

	if (vfk_host_find_group(pl->host, vfk_device_get_iommu_group(d), &grp) < 0)
		return neg_errno(ENODEV);
	for (i = 0; i < vfk_group_device_count(grp); i++) {
		const struct vfk_device *o = vfk_group_device(grp, i);
		_cleanup_free_ char *why = NULL, *with = NULL;

		if (o == d || vfk_device_is_bridge(o))
			continue;	/* the bind layer leaves bridges alone */
		with = goes_with(pl, (size_t)(h - pl->hostdevs), o);
		why = with ? strdupf("%s goes to the guest with %s already", vfk_device_get_address(o),
				     with) : obstacle(pl, o);
		if (!why)
			continue;
		plan_set_error(errbuf, errsize, "[%s] device = %s: %s shares IOMMU group %d with %s, "
			       "and a group goes to one VM whole: %s", h->section, h->src->device,
			       vfk_device_get_address(d), vfk_device_get_iommu_group(d),
			       vfk_device_get_address(o), why);
		return neg_errno(ENODEV);
	}
	return 0;
}

/* "isolated: IOMMU group 10 holds only it; on nvme now", or what goes along. */
static char *verdict(const struct plan_hostdev *h)
{
	const char *drv = vfk_device_get_driver(h->dev);
	int group = vfk_device_get_iommu_group(h->dev);
	struct sbuf b = { 0 };
	size_t k, n = 0;

	if (h->nfns == 1)
		sbuf_addf(&b, "isolated: IOMMU group %d holds only it", group);
	else
		sbuf_addf(&b, "IOMMU group %d goes whole:", group);
	for (k = 0; k < h->nfns; k++) {
		const struct vfk_device *o = h->fns[k];

		if (o == h->dev)
			continue;
		sbuf_addf(&b, "%s %s [%04x:%04x] (%s)", n++ ? "," : "", vfk_device_get_address(o),
			  vfk_device_get_vendor_id(o), vfk_device_get_device_id(o),
			  vfk_device_get_driver(o) ? vfk_device_get_driver(o) : "no driver");
	}
	if (n)
		sbuf_addf(&b, " go%s along", n == 1 ? "es" : "");
	sbuf_addf(&b, "; on %s now", drv ? drv : "no driver");
	return sbuf_take(&b);
}

/* Other tools' claims on what goes (driverctl, vfio-pci.ids=): notes, as bind warns. */
static void note_conflicts(struct vfk_plan *pl, const struct plan_hostdev *h)
{
	char buf[700];
	size_t k;

	for (k = 0; k < h->nfns; k++)
		if (guard_conflicts(pl->host, h->fns[k], buf, sizeof(buf)))
			strv_addf(&pl->notes, "warning: [%s]: %s", h->section, buf);
	if (h->src->rom && !plan_host_file_exists(pl->ctx, h->src->rom, NULL))
		strv_addf(&pl->notes, "[%s] rom %s does not exist (yet)", h->section, h->src->rom);
}

/*
 * Section @src into pl->hostdevs[pl->nhostdevs], or left out with a note when
 * its device goes already; -ENODEV, -ENOTUNIQ or -EINVAL with @errbuf set.
 */
static int add_section(struct vfk_plan *pl, const struct prof_hostdev *src, char *errbuf,
		       size_t errsize)
{
	struct plan_hostdev *h = &pl->hostdevs[pl->nhostdevs];
	_cleanup_free_ char *with = NULL, *why = NULL;
	size_t i;
	int r;

	memset(h, 0, sizeof(*h));
	h->src = src;
	h->section = profile_section_name("hostdev", src->id);
	if (!h->section)
		return neg_errno(ENOMEM);
	r = select_device(pl->host, h->section, src->device, &h->dev, errbuf, errsize);
	for (i = 0; r == 0 && i < pl->nhostdevs; i++)
		if (pl->hostdevs[i].dev == h->dev) {
			plan_set_error(errbuf, errsize, "[%s] device = %s: [%s] names %s already",
				       h->section, src->device, pl->hostdevs[i].section,
				       vfk_device_get_address(h->dev));
			r = neg_errno(EINVAL);
		}
	if (r == 0 && (with = goes_with(pl, pl->nhostdevs, h->dev))) {
		strv_addf(&pl->notes, "[%s] device = %s: %s goes to the guest with %s already",
			  h->section, src->device, vfk_device_get_address(h->dev), with);
		free(h->section);
		return 0;
	}
	if (r == 0 && (why = obstacle(pl, h->dev))) {
		plan_set_error(errbuf, errsize, "[%s] device = %s: %s", h->section, src->device, why);
		r = neg_errno(ENODEV);
	}
	if (r == 0)
		r = check_group(pl, h, errbuf, errsize);
	if (r == 0)
		r = take_group(pl, h);
	if (r == 0 && !(h->verdict = verdict(h)))
		r = neg_errno(ENOMEM);
	pl->nhostdevs++;	/* freed with the rest, whatever happened */
	if (r == 0)
		note_conflicts(pl, h);
	return r;
}

/* ------------------------------------------------------------ guest addresses */

/* Each host slot of what goes on a root port of its own after the GPUs' and
 * NVSwitches'; its functions 0, 1, ... in address order. */
static int place(struct vfk_plan *pl, char *errbuf, size_t errsize)
{
	unsigned int first = plan_root_ports(pl), bus = first;
	const struct vfk_pci_addr *prev = NULL;
	uint8_t fn = 0;
	size_t i, k;

	for (i = 0; i < pl->nhostdevs; i++)
		for (k = 0; k < pl->hostdevs[i].nfns; k++) {
			const struct vfk_pci_addr *a = vfk_device_get_addr(pl->hostdevs[i].fns[k]);

			if (prev && k && a->domain == prev->domain && a->bus == prev->bus &&
			    a->dev == prev->dev && fn < 7) {
				fn++;
			} else {
				bus++;
				fn = 0;
			}
			if (bus > 0xff) {
				plan_set_error(errbuf, errsize, "[%s]: more devices than guest PCI "
					       "buses (255)", pl->hostdevs[i].section);
				return neg_errno(EINVAL);
			}
			pl->hostdevs[i].guest[k] = (struct vfk_pci_addr){ 0, (uint8_t)bus, 0, fn };
			prev = a;
		}
	pl->hostdev_ports = bus - first;
	return 0;
}

int plan_hostdevs(struct vfk_plan *pl, char *errbuf, size_t errsize)
{
	const struct vfk_profile *p = pl->prof;
	size_t i;
	bool kept;
	int r = 0;

	if (!p->nhostdevs)
		return 0;
	if (!vfk_host_iommu_enabled(pl->host)) {
		_cleanup_free_ char *sec = profile_section_name("hostdev", p->hostdevs[0].id);

		plan_set_error(errbuf, errsize, "[%s] device = %s: the IOMMU is off: the kernel made "
			       "no IOMMU groups (vfio-check tells how to turn it on)",
			       sec ? sec : "hostdev", p->hostdevs[0].device);
		return neg_errno(ENODEV);
	}
	pl->hostdevs = calloc(p->nhostdevs, sizeof(*pl->hostdevs));
	if (!pl->hostdevs)
		return neg_errno(ENOMEM);
	/* the root filesystem, the routes, driverctl: read once for every device */
	kept = !pl->host->guard_facts && guard_facts_keep(pl->host) == 0;
	for (i = 0; i < p->nhostdevs && r == 0; i++)
		r = add_section(pl, &p->hostdevs[i], errbuf, errsize);
	if (kept)
		guard_facts_drop(pl->host);
	return r < 0 ? r : place(pl, errbuf, errsize);
}

void plan_hostdevs_free(struct vfk_plan *pl)
{
	size_t i;

	for (i = 0; i < pl->nhostdevs; i++) {
		free(pl->hostdevs[i].section);
		free(pl->hostdevs[i].fns);
		free(pl->hostdevs[i].guest);
		free(pl->hostdevs[i].verdict);
	}
	free(pl->hostdevs);
	pl->hostdevs = NULL;
	pl->nhostdevs = 0;
	pl->hostdev_ports = 0;
}
