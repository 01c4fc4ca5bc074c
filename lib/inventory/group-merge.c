/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where a shared IOMMU group starts in the PCI tree, and why. A group is
 * shared when it holds endpoints of more than one slot (a card's own
 * functions are one slot); it starts at its top bridges, the ones whose
 * parent is in another group or that sit on a root bus. Why: the ports of
 * the group that do not isolate what is below them, in the words of their
 * ACS state (the inventory's, read once per device). Upstream switch ports
 * are left out: ACS does not apply to them (PCIe 6.12.1.3).
 */
#include <stdio.h>

#include "inventory/inventory.h"
#include "inventory/pcilib.h"

#define PCIE_TYPE_ROOT_PORT	0x4
#define PCIE_TYPE_UPSTREAM	0x5
#define PCIE_TYPE_DOWNSTREAM	0x6
#define MAX_NAMED		4	/* ports named in one reason, then "and N more" */

static bool same_slot(const struct vfk_device *a, const struct vfk_device *b)
{
	return a->addr.domain == b->addr.domain && a->addr.bus == b->addr.bus &&
	       a->addr.dev == b->addr.dev;
}

/* Endpoints of more than one slot; members are in address order. */
static bool group_shared(const struct vfk_group *g)
{
	const struct vfk_device *first = NULL;
	size_t i;

	for (i = 0; i < g->ndevices; i++) {
		const struct vfk_device *d = g->devices[i];
		if (vfk_device_is_bridge(d))
			continue;
		if (first && !same_slot(first, d))
			return true;
		if (!first)
			first = d;
	}
	return false;
}

static bool isolates(struct vfk_device *d)
{
	device_read_caps(d);
	return d->acs == VFK_ACS_ENABLED || d->pcie_type == PCIE_TYPE_UPSTREAM;
}

/* "downstream ports", "root ports" or "ports": what the ports have in common. */
static const char *port_noun(struct vfk_device *const *v, size_t n)
{
	int type = v[0]->pcie_type;
	size_t i;

	for (i = 1; i < n; i++)
		if (v[i]->pcie_type != type)
			type = PCILIB_UNKNOWN;
	if (type == PCIE_TYPE_DOWNSTREAM)
		return n == 1 ? "downstream port" : "downstream ports";
	if (type == PCIE_TYPE_ROOT_PORT)
		return n == 1 ? "root port" : "root ports";
	return n == 1 ? "port" : "ports";
}

/* What the ports' ACS states say, as the rest of a phrase after the noun. */
static const char *acs_phrase(struct vfk_device *const *v, size_t n)
{
	bool none = true, disabled = true;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i]->acs == VFK_ACS_NOT_PCIE)
			return "of conventional PCI: no isolation behind a PCI bridge";
		if (v[i]->acs == VFK_ACS_UNKNOWN)
			return "with ACS unknown: extended config space not readable (run as root)";
		none = none && v[i]->acs == VFK_ACS_NONE;
		disabled = disabled && v[i]->acs == VFK_ACS_DISABLED;
	}
	return none ? "without ACS" : disabled ? "with ACS not enabled" : "without ACS enabled";
}

/* The reason for a shared group, the same at each of its top bridges. */
static const char *merge_reason(struct vfk_host *host, const struct vfk_group *g)
{
	struct vfk_device *ports[MAX_NAMED];
	size_t i, n = 0, more = 0, len;
	char buf[320];

	for (i = 0; i < g->ndevices; i++) {
		struct vfk_device *d = g->devices[i];
		if (!vfk_device_is_bridge(d) || (d->class >> 8) == 0x0600 || isolates(d))
			continue;
		if (n < MAX_NAMED)
			ports[n++] = d;
		else
			more++;
	}
	if (n == 0)
		return "every port above has ACS: a platform quirk, or a multifunction device "
		       "without ACS";
	len = (size_t)snprintf(buf, sizeof(buf), "%s %s: ", port_noun(ports, n),
			       acs_phrase(ports, n));
	for (i = 0; i < n && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? ", " : "",
					ports[i]->address);
	if (more && len < sizeof(buf))
		snprintf(buf + len, sizeof(buf) - len, " and %zu more", more);
	return strpool_intern(&host->strings, buf);
}

static void judge_merges(struct vfk_host *host)
{
	size_t i, j;

	host->merges_known = true;
	for (i = 0; i < host->ngroups; i++) {
		const struct vfk_group *g = &host->groups[i];
		const char *why = NULL;
		if (!group_shared(g))
			continue;
		for (j = 0; j < g->ndevices; j++) {
			struct vfk_device *d = g->devices[j];
			/* a host bridge has nothing below it in the tree */
			if (!vfk_device_is_bridge(d) || (d->class >> 8) == 0x0600 ||
			    (d->parent && d->parent->group == g->id))
				continue;
			if (!why)
				why = merge_reason(host, g);
			d->merge = why ? why : "?";	/* out of memory: still marked */
		}
	}
}

const char *vfk_device_get_group_merge(const struct vfk_device *dev)
{
	if (!dev->host->merges_known)
		judge_merges(dev->host);
	return dev->merge;
}
