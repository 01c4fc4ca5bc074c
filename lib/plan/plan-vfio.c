/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How QEMU reaches the devices it is given ([vfio] backend): through their
 * IOMMU group (/dev/vfio/N in a type1 container, every kernel since 3.6) or
 * through iommufd (/dev/iommu) and each device's VFIO cdev
 * (/dev/vfio/devices/vfioN, Linux 6.6+, QEMU 9.0+, libvirt 12.1+).
 *
 * The kernel's side is read here; whether the emulator takes it is asked of
 * the emulator itself by the launch layer (vfk_plan_ask_vmm()), which then
 * settles the choice through plan_vfio_settle(). Until it is asked, "auto"
 * stays on groups: they work wherever VFIO does.
 */
#include <stdarg.h>

#include "plan/plan-internal.h"

static const char *const backend_names[] = { "none", "group", "iommufd" };

/* Devices that go through VFIO, and mediated ones that cannot use the cdev
 * path here (their cdev lives below the mdev bus, not a PCI address). */
static bool has_vfio_devices(const struct vfk_plan *pl)
{
	return plan_binds_devices(pl) || pl->mdev.vf || pl->mdev.uuid;
}

/* iommufd charges pinned memory to the user by default, all of that user's
 * VMs together; type1 to each QEMU process. Said once. */
static void note_accounting(struct vfk_plan *pl)
{
	if (pl->vfio_noted)
		return;
	pl->vfio_noted = true;
	strv_addf(&pl->notes, "locked memory with iommufd: the QEMU backend opens iommufd "
		  "itself and has the pinned memory charged to QEMU's process "
		  "(IOMMU_OPTION_RLIMIT_MODE), against the limit above, as libvirt does; a QEMU that "
		  "opens it itself (gen --format qemu run by hand) is charged to its user, every VM "
		  "of that user together");
}

static int set_reason(struct vfk_plan *pl, int backend, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int set_reason(struct vfk_plan *pl, int backend, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return neg_errno(ENOMEM);
	free(pl->vfio_reason);
	pl->vfio_reason = s;
	pl->vfio_backend = backend;
	if (backend == VFIO_IOMMUFD)
		note_accounting(pl);
	return 0;
}

/* The kernel's answer: 1 it offers iommufd with device cdevs, 0 it does
 * not, -ENOENT cannot tell; @why says which. */
static int kernel_offers(const struct vfk_plan *pl, char *why, size_t whysize)
{
	if (!vfk_host_has_iommufd(pl->host)) {
		_cleanup_free_ char *node = vfk_root_host_path(VFK_ROOT_DEV, "iommu");

		snprintf(why, whysize, "the host has no %s (a kernel without "
			 "CONFIG_IOMMUFD, or its module not loaded: modprobe iommufd)",
			 node ? node : "iommu");
		return 0;
	}
	return vfk_host_vfio_cdev_support(pl->host, why, whysize);
}

int plan_vfio(struct vfk_plan *pl, char *errbuf, size_t errsize)
{
	int want = pl->prof->vfio_backend, k;
	char why[256] = "";

	if (!has_vfio_devices(pl))
		return set_reason(pl, VFIO_AUTO, "no device goes through VFIO");
	if (want == VFIO_GROUP)
		return set_reason(pl, VFIO_GROUP, "[vfio] backend = group");
	if (vfk_ctx_is_user_mode(pl->ctx)) {
		/* what root gave the user (plan-user.c): the group node, or the
		 * descriptors of /dev/iommu and the cdevs from root's service */
		if (pl->user_via_fds)
			return set_reason(pl, VFIO_IOMMUFD, "%s: /dev/iommu and the devices' VFIO "
					  "cdevs as descriptors from root's service (vfio-bind "
					  "pass-fds), for what root granted this user",
					  want == VFIO_IOMMUFD ? "[vfio] backend = iommufd" : "auto");
		return set_reason(pl, VFIO_GROUP, "auto: groups, since a normal user's QEMU opens "
				  "the group node root gave it (vfio-bind --for-user)");
	}
	if (pl->mdev.uuid) {
		if (want == VFIO_IOMMUFD) {
			plan_set_error(errbuf, errsize, "[vfio] backend = iommufd: a mediated device "
				       "(vGPU) goes through its IOMMU group; use backend = group or auto");
			return -ENODEV;
		}
		return set_reason(pl, VFIO_GROUP, "a mediated device (vGPU) goes through its IOMMU "
				  "group");
	}
	k = kernel_offers(pl, why, sizeof(why));
	pl->vfio_kernel = k;
	if (want == VFIO_IOMMUFD) {
		if (k == 0) {
			plan_set_error(errbuf, errsize, "[vfio] backend = iommufd: %s", why);
			return -ENODEV;
		}
		return set_reason(pl, VFIO_IOMMUFD, "[vfio] backend = iommufd (kernel: %s)", why);
	}
	if (k <= 0)
		return set_reason(pl, VFIO_GROUP, "auto: groups, since iommufd is not possible: %s", why);
	return set_reason(pl, VFIO_GROUP, "auto: groups until the emulator is asked about "
			  "iommufd (the kernel offers it: %s)", why);
}

/*
 * The emulator's answer, from the launch layer: @vmm 1 it takes iommufd, 0 it
 * does not (@why: what it said). "auto" moves to iommufd when the kernel
 * offers it too; an explicit "iommufd" the emulator cannot take is refused.
 */
int plan_vfio_settle(struct vfk_plan *pl, int vmm, const char *why, char *errbuf,
		     size_t errsize)
{
	char line[512];

	pl->vfio_asked = true;
	if (pl->user_via_fds && vmm == 0) {
		/* the user has no group node to fall back on */
		plan_set_error(errbuf, errsize, "the devices root granted by descriptor need "
			       "iommufd in QEMU: %s", why);
		return -ENODEV;
	}
	if (!has_vfio_devices(pl) || pl->prof->vfio_backend == VFIO_GROUP || pl->mdev.uuid ||
	    vfk_ctx_is_user_mode(pl->ctx))
		return 0;
	if (pl->prof->vfio_backend == VFIO_IOMMUFD) {
		if (vmm > 0)
			return 0;
		plan_set_error(errbuf, errsize, "[vfio] backend = iommufd: %s", why);
		return -ENODEV;
	}
	if (pl->vfio_kernel <= 0)
		return 0;
	snprintf(line, sizeof(line), "auto: %s", why);
	return set_reason(pl, vmm > 0 ? VFIO_IOMMUFD : VFIO_GROUP, "%s", line);
}

const char *plan_vfio_name(int backend)
{
	return (unsigned int)backend < ARRAY_SIZE(backend_names) ? backend_names[backend] : "?";
}
