/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IOMMU groups of a snapshot: the devices sorted by the group the kernel put
 * them in, and lookups by group number.
 */
#include <stdlib.h>

#include "inventory/inventory.h"

static int cmp_member(const void *a, const void *b)
{
	const struct vfk_device *x = *(struct vfk_device *const *)a;
	const struct vfk_device *y = *(struct vfk_device *const *)b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return pci_addr_cmp(&x->addr, &y->addr);
}

int build_groups(struct vfk_host *host)
{
	size_t i, n = 0, g;

	for (i = 0; i < host->ndevices; i++)
		if (host->devices[i].group >= 0)
			n++;
	if (n == 0)
		return 0;
	host->group_members = calloc(n, sizeof(*host->group_members));
	if (!host->group_members)
		return -ENOMEM;
	for (i = 0, n = 0; i < host->ndevices; i++)
		if (host->devices[i].group >= 0)
			host->group_members[n++] = &host->devices[i];
	qsort_safe(host->group_members, n, sizeof(*host->group_members), cmp_member);
	for (i = 0, g = 0; i < n; i++)
		if (i == 0 || host->group_members[i]->group != host->group_members[i - 1]->group)
			g++;
	host->groups = calloc(g, sizeof(*host->groups));
	if (!host->groups)
		return -ENOMEM;
	for (i = 0, g = 0; i < n; i++) {
		if (i == 0 || host->group_members[i]->group != host->group_members[i - 1]->group) {
			host->groups[g].id = host->group_members[i]->group;
			host->groups[g].devices = &host->group_members[i];
			g++;
		}
		host->groups[g - 1].ndevices++;
	}
	host->ngroups = g;
	return 0;
}

int vfk_host_find_group(const struct vfk_host *host, int id, struct vfk_group **out)
{
	size_t lo = 0, hi = host->ngroups;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (host->groups[mid].id == id) {
			*out = &host->groups[mid];
			return 0;
		}
		if (host->groups[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return neg_errno(ENOENT);
}

int vfk_group_get_id(const struct vfk_group *group) { return group->id; }
size_t vfk_group_device_count(const struct vfk_group *group) { return group->ndevices; }
struct vfk_device *vfk_group_device(const struct vfk_group *group, size_t i)
{
	return i < group->ndevices ? group->devices[i] : NULL;
}
