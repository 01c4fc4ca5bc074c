/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gpu-group and gpu-link checks (vfio-check --gpu ADDR): can the GPU go
 * to a VM alone, and if not, which slot of the board would let it (the
 * inventory's slot advice); and did its PCIe link train as far as the card
 * and its slot go (the inventory's link verdict). This file only words them
 * as checks. A GPU in a shared group warns: a VM can still have the whole
 * group, and the advice says how to avoid that; a GPU without a group fails,
 * as the iommu check does.
 */
#include <stdio.h>

#include "check/check.h"

static void group_check(struct probe *p, struct check_impl *c, const struct vfk_gpu *g)
{
	const struct vfk_device *d = vfk_gpu_get_device(g);
	const char *a = vfk_device_get_address(d), *advice = vfk_gpu_get_slot_advice(g);

	switch (vfk_gpu_get_verdict(g)) {
	case VFK_GPU_ISOLATED:
		check_set_result(c, VFK_CHECK_PASS, check_xasprintf(p, "%s: isolated — IOMMU group "
				 "%d holds only its functions", a, vfk_device_get_iommu_group(d)), NULL);
		break;
	case VFK_GPU_TOGETHER:
		check_set_result(c, VFK_CHECK_PASS, check_xasprintf(p, "%s: together — its group %d "
				 "holds only GPUs (%s): they go to one VM together", a,
				 vfk_device_get_iommu_group(d), vfk_gpu_get_reason(g)), NULL);
		break;
	case VFK_GPU_SHARED:
		check_set_result(c, VFK_CHECK_WARN, check_xasprintf(p, "%s: NOT isolated — %s; a VM "
				 "must take the %zu other device%s of group %d with it", a,
				 vfk_gpu_get_reason(g), vfk_gpu_blocker_count(g),
				 vfk_gpu_blocker_count(g) == 1 ? "" : "s",
				 vfk_device_get_iommu_group(d)),
				 advice ? check_xasprintf(p, "%s", advice) : NULL);
		break;
	case VFK_GPU_NO_GROUP:
		check_set_result(c, VFK_CHECK_FAIL, check_xasprintf(p, "%s: no IOMMU group — %s", a,
				 vfk_gpu_get_reason(g)),
				 check_xasprintf(p, "turn the IOMMU on: see the iommu check"));
		break;
	}
}

static char *link_fix(struct probe *p, const struct vfk_gpu *g)
{
	const char *a = vfk_device_get_address(vfk_gpu_get_device(g));

	if (vfk_gpu_get_link_verdict(g) == VFK_LINK_SLOT_LIMITED)
		return check_xasprintf(p, "the slot is the limit, not the card: a slot wired for "
				       "more lanes gives it its full link (vfio-ls --device %s lists "
				       "the board's slots)", a);
	return check_xasprintf(p, "check it under load first; then reseat the card, look in the "
			       "board's manual for lanes this slot shares with M.2 sockets or "
			       "other slots, and at the firmware's PCIe link speed setting");
}

static void link_check(struct probe *p, struct check_impl *c, const struct vfk_gpu *g)
{
	enum vfk_link_verdict v = vfk_gpu_get_link_verdict(g);
	bool warn = v == VFK_LINK_SLOT_LIMITED || v == VFK_LINK_DEGRADED;

	check_set_result(c, warn ? VFK_CHECK_WARN : VFK_CHECK_PASS,
			 check_xasprintf(p, "%s: %s — %s",
					 vfk_device_get_address(vfk_gpu_get_device(g)),
					 vfk_link_verdict_to_string(v), vfk_gpu_get_link_reason(g)),
			 warn ? link_fix(p, g) : NULL);
}

void check_gpu_place(struct probe *p, struct check_impl *group, struct check_impl *link,
		     const struct vfk_gpu *g)
{
	group_check(p, group, g);
	link_check(p, link, g);
}
