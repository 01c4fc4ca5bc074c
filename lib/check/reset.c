/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gpu-reset check (vfio-check --gpu ADDR): does the GPU come back clean
 * when a guest is done with it, and what to do when it does not. The
 * verdict is the inventory's (inventory/reset.c: FLR, No_Soft_Reset, the
 * kernel's reset_method, the bus it sits on, the table of cards with the AMD
 * reset bug); this file only words it as a check. A card that stopped
 * answering fails (nothing can use it before a reboot); a reset that is
 * broken or unreliable warns, since the host can still pass the card
 * through, but not hand it around freely.
 */
#include <stdio.h>

#include "check/check.h"

static enum vfk_check_status status_of(const struct vfk_device *d)
{
	switch (vfk_device_get_reset_verdict(d)) {
	case VFK_RESET_OK:
	case VFK_RESET_BUS_ONLY:
		return VFK_CHECK_PASS;
	case VFK_RESET_BROKEN:
		/* broken without a table row: it stopped answering, and nothing can
		 * use it before a reboot; a card of the table still works once */
		return vfk_device_get_reset_quirk(d) == VFK_RESET_QUIRK_NONE ? VFK_CHECK_FAIL
									      : VFK_CHECK_WARN;
	case VFK_RESET_UNRELIABLE:
	case VFK_RESET_UNKNOWN:
	default:
		return VFK_CHECK_WARN;
	}
}

static char *reset_fix(struct probe *p, const struct vfk_device *d)
{
	const char *advice = vfk_device_get_reset_advice(d);

	if (advice)
		return check_xasprintf(p, "%s", advice);
	if (vfk_device_get_reset_verdict(d) == VFK_RESET_UNKNOWN)
		return check_xasprintf(p, "run vfio-check as root: only root reads config space past "
				       "its first 64 bytes, where FLR and No_Soft_Reset are");
	return NULL;
}

void check_gpu_reset(struct probe *p, struct check_impl *c, const struct vfk_gpu *g)
{
	const struct vfk_device *d = vfk_gpu_get_device(g);

	check_set_result(c, status_of(d),
			 check_xasprintf(p, "%s: %s — %s", vfk_device_get_address(d),
					 vfk_reset_verdict_to_string(vfk_device_get_reset_verdict(d)),
					 vfk_device_get_reset_reason(d)),
			 reset_fix(p, d));
}
