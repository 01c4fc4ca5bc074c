/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gpu-fabric check: GPUs joined by NVSwitches (HGX/DGX boards) keep
 * NVLink in a VM only in one of NVIDIA's virtualization models (Fabric
 * Manager user guide): full passthrough (the GPUs and the NVSwitches they
 * need in one VM, Fabric Manager in that VM), shared NVSwitch multitenancy
 * (the NVSwitches in a service VM running Fabric Manager, the GPUs in
 * tenant VMs), or GPUs without NVLink. A guest that has NVSwitch GPUs and
 * no fabric set up fails in CUDA with error 802 ("system not yet
 * initialized"). The check says which model the drivers show now and what
 * each needs; choosing one per VM is the profile's job ([gpu] fabric).
 */
#include <stdio.h>

#include "check/check.h"

#define PCI_VENDOR_NVIDIA 0x10de

struct fabric_state {
	size_t nfabric, nvfio_fabric, nhost_fabric;	/* all, on vfio-pci, on a host driver */
	size_t ngpus, nvfio_gpus;			/* NVIDIA GPUs, on vfio-pci */
};

/* On vfio-pci or a vendor's variant (nvgrace_gpu_vfio_pci). */
static bool on_vfio(const struct vfk_device *d)
{
	return vfk_driver_is_vfio(vfk_device_get_driver(d));
}

static void count(const struct vfk_host *h, struct fabric_state *s)
{
	size_t i;

	for (i = 0; i < vfk_host_fabric_count(h); i++) {
		const struct vfk_device *d = vfk_host_fabric_device(h, i);
		s->nfabric++;
		s->nvfio_fabric += on_vfio(d);
		s->nhost_fabric += vfk_device_get_driver(d) && !on_vfio(d);
	}
	for (i = 0; i < vfk_host_gpu_count(h); i++) {
		const struct vfk_device *d = vfk_gpu_get_device(vfk_host_gpu(h, i));
		if (vfk_device_get_vendor_id(d) != PCI_VENDOR_NVIDIA || vfk_device_is_vf(d))
			continue;
		s->ngpus++;
		s->nvfio_gpus += on_vfio(d);
	}
}

/* "0000:1c:00.0 (group 22, nvidia), ..." */
static void list_fabric(const struct vfk_host *h, struct sbuf *b)
{
	size_t i;

	for (i = 0; i < vfk_host_fabric_count(h); i++) {
		const struct vfk_device *d = vfk_host_fabric_device(h, i);
		const char *drv = vfk_device_get_driver(d);
		sbuf_addf(b, "%s%s (", i ? ", " : "", vfk_device_get_address(d));
		if (vfk_device_get_iommu_group(d) >= 0)
			sbuf_addf(b, "group %d, ", vfk_device_get_iommu_group(d));
		sbuf_addf(b, "%s)", drv ? drv : "no driver");
	}
}

/* Which model the drivers show now. */
static const char *model_now(const struct fabric_state *s)
{
	if (s->nvfio_fabric == s->nfabric && s->nvfio_gpus == s->ngpus)
		return "full passthrough: every GPU and NVSwitch is on vfio-pci";
	if (s->nvfio_gpus == s->ngpus)
		return "GPUs without NVLink: the GPUs are on vfio-pci, the NVSwitches are not";
	if (s->nhost_fabric == s->nfabric && s->nvfio_gpus == 0)
		return "bare metal: the NVSwitches are on the host's driver, Fabric Manager on the "
		       "host owns the fabric";
	return "none complete: the GPUs and NVSwitches are split between drivers";
}

static char *fabric_fix(struct probe *p, const struct fabric_state *s)
{
	struct sbuf b = { 0 };

	sbuf_addf(&b, "NVLink between passed-through GPUs needs the NVSwitches; pick a model:\n"
		  "- full passthrough: the GPUs and the NVSwitches they use (all %zu and all %zu "
		  "for one 8-GPU VM) on vfio-pci (vfio-bind DEVICE...), all to one VM; "
		  "Fabric Manager (nvidia-fabricmanager) runs in the guest\n", s->ngpus,
		  s->nfabric);
	sbuf_add(&b, "- shared NVSwitch multitenancy: the NVSwitches to a service VM running "
		 "Fabric Manager (FABRIC_MODE=1), the GPUs to tenant VMs in the partitions it "
		 "activates\n"
		 "- GPUs without NVLink: pass GPUs alone and disable NVLink in the guest driver "
		 "(nvidia NVreg_NvLinkDisable=1); otherwise CUDA fails there with error 802\n");
	if (s->nhost_fabric)
		sbuf_add(&b, "Either way stop the host's Fabric Manager first (systemctl stop "
			 "nvidia-fabricmanager) and let vfio-bind take the devices from nvidia.\n");
	sbuf_addf(&b, "In a VM profile, [gpu] count = %zu with [gpu] fabric = yes is the full "
		  "passthrough model: vfio-vm up binds every GPU and NVSwitch in one transaction.",
		  s->ngpus);
	return check_sbuf_take(p, &b);
}

void check_gpu_fabric(struct probe *p, struct check_impl *c)
{
	struct vfk_host *h = NULL;
	struct fabric_state s = { 0 };
	struct sbuf b = { 0 };

	/* the snapshot vfio-check took for its VFIO backend facts, if it holds
	 * one: a second scan of 65,536 functions would cost as much as the first */
	h = host_snapshot_held(p->ctx);
	if (!h && vfk_host_scan(p->ctx, &h) < 0) {
		check_set_result(c, VFK_CHECK_PASS,
				 check_xasprintf(p, "PCI devices not readable: no GPU fabric seen"),
				 NULL);
		return;
	}
	count(h, &s);
	if (!s.nfabric) {
		vfk_host_unref(h);
		check_set_result(c, VFK_CHECK_PASS,
				 check_xasprintf(p, "no NVSwitch: GPUs pass through without a fabric"),
				 NULL);
		return;
	}
	sbuf_addf(&b, "%zu NVSwitch%s for %zu NVIDIA GPU%s: ", s.nfabric, s.nfabric == 1 ? "" : "es",
		  s.ngpus, s.ngpus == 1 ? "" : "s");
	list_fabric(h, &b);
	sbuf_addf(&b, "; model now: %s", model_now(&s));
	vfk_host_unref(h);
	if (s.nvfio_fabric == s.nfabric && s.nvfio_gpus == s.ngpus) {
		sbuf_add(&b, " (Fabric Manager must run in the guest)");
		check_set_result(c, VFK_CHECK_PASS, check_sbuf_take(p, &b), NULL);
		return;
	}
	check_set_result(c, VFK_CHECK_WARN, check_sbuf_take(p, &b), fabric_fix(p, &s));
}
