/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM plan: the profile resolved against the host.
 *
 *  - GPU mode (plan-gpu.c). "auto" tries, in order: passthrough (an isolated
 *    GPU that is neither the host's only GPU nor its console, or the one the
 *    selector names), mdev (a parent with a free instance of an acceptable
 *    type), virtio-gpu (virgl when the host has a render node), emulated
 *    (QXL). Every mode is evaluated, so the plan says why each other one was
 *    not chosen. [gpu] count or a [gpu] device list asks for several GPUs
 *    (plan-gpu-set.c): whole IOMMU groups, one switch or NUMA node first.
 *  - Tuning from the host (plan-tuning.c): vCPU pinning (pin.c), memory on
 *    the vCPUs' NUMA node, huge pages when enough are free, Hyper-V
 *    enlightenments for Windows, KVM or TCG; OVMF from QEMU's firmware
 *    descriptors (plan-firmware.c).
 *  - Devices (plan-devices.c): each GPU's functions as one multifunction
 *    device on a root port of its own, Looking Glass shared memory, evdev input, audio, disks, NICs.
 *  - Extra devices: [hostdev] PCI devices with their whole IOMMU groups,
 *    through the host guards, bound with the GPUs (plan-hostdev.c); [usb]
 *    devices found by their ids (plan-usb.c).
 * emit-xml.c and emit-qemu.c turn the same plan into libvirt XML and argv.
 * This file holds the plan object: it runs the steps that fill it, frees it,
 * and answers for it; the host lookups the steps share are in plan-host.c.
 *
 * Layer plan/: owns profiles (profile.c, with profile-values.c and
 * profile-ini.c), vCPU pinning (pin.c) and the plan that resolves a profile
 * against the host (plan.c, with plan-*.c). May call mdev/, bind/, check/,
 * inventory/ and core/ (lib/README.md).
 */
#include <ctype.h>
#include <stdio.h>

#include "plan/plan-internal.h"

/* ------------------------------------------------------------ the plan */

/* A name safe for file names: letters, digits, '.', '_', '-'. */
static char *make_slug(const char *name)
{
	char *s = strdup(name), *p;

	if (!s)
		return NULL;
	for (p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			*p = '_';
	if (s[0] == '.')
		s[0] = '_';
	return s;
}

void vfk_plan_free(struct vfk_plan *pl)
{
	size_t i;

	if (!pl)
		return;
	vfk_host_unref(pl->host);
	free(pl->slug);
	free(pl->mode_reason);
	free(pl->vfio_reason);
	for (i = 0; i < ARRAY_SIZE(pl->rejected); i++)
		free(pl->rejected[i]);
	free(pl->rom);
	plan_candidates_free(pl);
	plan_gpus_free(pl);
	plan_drop_mdev(pl);
	free(pl->render_node);
	topo_pinning_free(&pl->pin);
	free(pl->host_cpus);
	free(pl->hugepage_path);
	free(pl->fw_code);
	free(pl->fw_vars);
	free(pl->nvram);
	free(pl->tpm_socket);
	free(pl->lg_path);
	free(pl->spice_socket);
	free(pl->user_refusal);
	free(pl->emulator);
	free(pl->disks);
	free(pl->drivers.path);
	free(pl->disk_refusal);
	free(pl->nets);
	plan_hostdevs_free(pl);
	plan_usbs_free(pl);
	strv_free(&pl->notes);
	free(pl);
}

/*
 * The steps after the GPU mode, each filling its part of the plan; later
 * ones read what earlier ones chose, and the plan's notes come in this order.
 */
static int (*const plan_steps[])(struct vfk_plan *pl) = {
	plan_rom,		/* plan-gpu.c */
	plan_accel,		/* plan-tuning.c */
	plan_cpu,
	plan_hugepages,
	plan_features,
	plan_firmware,		/* plan-firmware.c */
	plan_display,		/* plan-devices.c */
	plan_looking_glass,
	plan_tpm_serial,
	plan_emulator,		/* plan-firmware.c */
	plan_disks,		/* plan-devices.c */
	plan_nets,
	plan_install_drivers,	/* plan-install.c: after the disks and NICs */
	plan_bios_note,		/* plan-firmware.c */
	plan_user,		/* plan-user.c: after the devices and NICs */
};

int vfk_plan_new(struct vfk_host *host, const struct vfk_profile *profile, struct vfk_plan **out,
		 char *errbuf, size_t errsize)
{
	struct vfk_plan *pl;
	size_t i;
	int r;

	if (!host || !profile || !out)
		return neg_errno(EINVAL);
	*out = NULL;
	plan_set_error(errbuf, errsize, "%s", "");
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return neg_errno(ENOMEM);
	pl->host = vfk_host_ref(host);
	pl->ctx = vfk_host_get_ctx(host);
	pl->prof = profile;
	pl->firmware = profile->firmware;
	pl->memory_mib = profile->memory_mib;
	pl->slug = make_slug(profile->name);
	r = pl->slug ? 0 : neg_errno(ENOMEM);
	/* a normal user's VM keeps its files in the user's directories: without
	 * them there is no VM to plan (the line says what to do) */
	if (r == 0 && vfk_ctx_get_user_mode_error(pl->ctx)) {
		plan_set_error(errbuf, errsize, "%s", vfk_ctx_get_user_mode_error(pl->ctx));
		r = neg_errno(EACCES);
	}
	if (r == 0)
		r = plan_choose_mode(pl, errbuf, errsize);
	if (r == 0)	/* after the GPUs: what goes with them, their root ports */
		r = plan_hostdevs(pl, errbuf, errsize);
	if (r == 0)
		r = plan_usbs(pl, errbuf, errsize);
	for (i = 0; r == 0 && i < ARRAY_SIZE(plan_steps); i++)
		r = plan_steps[i](pl);
	if (r == 0)	/* large VMs: from the devices, memory and pages chosen */
		r = plan_large_vm(pl, errbuf, errsize);
	if (r == 0)	/* a normal user's: what VFIO pins against their limit */
		r = plan_user_memlock(pl);
	if (r == 0)	/* once every device that goes is known */
		r = plan_vfio(pl, errbuf, errsize);
	if (r < 0) {
		if (r == -ENOMEM)
			plan_set_error(errbuf, errsize, "out of memory");
		vfk_plan_free(pl);
		return r;
	}
	*out = pl;
	return 0;
}

/* ------------------------------------------------------------ getters */

const char *vfk_plan_get_name(const struct vfk_plan *pl) { return pl ? pl->prof->name : NULL; }
enum vfk_gpu_mode vfk_plan_get_mode(const struct vfk_plan *pl)
{
	return pl ? (enum vfk_gpu_mode)pl->mode : VFK_GPU_MODE_AUTO;
}
const char *vfk_plan_get_mode_reason(const struct vfk_plan *pl) { return pl ? pl->mode_reason : NULL; }
const char *vfk_plan_get_user_refusal(const struct vfk_plan *pl) { return pl ? pl->user_refusal : NULL; }
const char *vfk_plan_get_up_refusal(const struct vfk_plan *pl)
{
	return !pl ? NULL : pl->user_refusal ? pl->user_refusal : pl->disk_refusal;
}
const char *vfk_plan_get_vfio_backend(const struct vfk_plan *pl)
{
	return pl && pl->vfio_backend != VFIO_AUTO ? plan_vfio_name(pl->vfio_backend) : NULL;
}
const char *vfk_plan_get_vfio_reason(const struct vfk_plan *pl) { return pl ? pl->vfio_reason : NULL; }
const char *vfk_plan_get_rejection(const struct vfk_plan *pl, enum vfk_gpu_mode mode)
{
	return pl && (unsigned int)mode < VFK_GPU_MODE_COUNT ? pl->rejected[mode] : NULL;
}
struct vfk_gpu *vfk_plan_get_gpu(const struct vfk_plan *pl) { return pl ? pl->gpu : NULL; }
size_t vfk_plan_candidate_count(const struct vfk_plan *pl) { return pl ? pl->ncands : 0; }

void plan_gpu_guest_addr(const struct vfk_plan *pl, size_t g, size_t fn, struct vfk_pci_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->fn = (uint8_t)fn;
	if (pl->igd && g == 0)
		out->dev = 2;
	else
		out->bus = (uint8_t)(g + !pl->igd);
}

unsigned int plan_fabric_bus(const struct vfk_plan *pl, size_t i)
{
	return (unsigned int)(pl->ngpus + i + !pl->igd);
}

unsigned int plan_root_ports(const struct vfk_plan *pl)
{
	return (unsigned int)(pl->ngpus + pl->nfabric - (pl->igd && pl->ngpus)) + pl->hostdev_ports;
}

bool plan_binds_devices(const struct vfk_plan *pl)
{
	return pl->ngpus || pl->nfabric || pl->nhostdevs;
}

int vfk_plan_add_to_bind(const struct vfk_plan *pl, struct vfk_bind *b)
{
	size_t i, k;
	int r = 0;

	if (!pl || !b)
		return neg_errno(EINVAL);
	for (i = 0; i < pl->ngpus && r == 0; i++)
		r = vfk_bind_add_gpu(b, pl->gpus[i]);
	for (i = 0; i < pl->nfabric && r == 0; i++)
		r = vfk_bind_add_device(b, pl->fabric[i]);
	for (i = 0; i < pl->nhostdevs && r == 0; i++)
		for (k = 0; k < pl->hostdevs[i].nfns && r == 0; k++)
			r = vfk_bind_add_device(b, pl->hostdevs[i].fns[k]);
	return r;
}

size_t vfk_plan_gpu_count(const struct vfk_plan *pl) { return pl ? pl->ngpus : 0; }

struct vfk_gpu *vfk_plan_gpu(const struct vfk_plan *pl, size_t i)
{
	return pl && i < pl->ngpus ? pl->gpus[i] : NULL;
}

int vfk_plan_gpu_clique(const struct vfk_plan *pl, size_t i)
{
	return pl && i < pl->ngpus ? pl->clique[i] : -1;
}

size_t vfk_plan_fabric_count(const struct vfk_plan *pl) { return pl ? pl->nfabric : 0; }

struct vfk_device *vfk_plan_fabric_device(const struct vfk_plan *pl, size_t i)
{
	return pl && i < pl->nfabric ? pl->fabric[i] : NULL;
}

const char *vfk_plan_gpu_function_guest_address(const struct vfk_plan *pl, size_t g, size_t fn,
						char *buf, size_t size)
{
	struct vfk_pci_addr a;

	if (!pl || g >= pl->ngpus || fn >= vfk_gpu_function_count(pl->gpus[g]) || !buf || size < 13)
		return NULL;
	plan_gpu_guest_addr(pl, g, fn, &a);
	snprintf(buf, size, "%04x:%02x:%02x.%x", a.domain, a.bus, a.dev, a.fn);
	return buf;
}

const char *vfk_plan_get_gpu_guest_address(const struct vfk_plan *pl, size_t i, char *buf,
					   size_t size)
{
	return vfk_plan_gpu_function_guest_address(pl, 0, i, buf, size);
}

/* ------------------------------------------------------------ extra host devices */

size_t vfk_plan_hostdev_count(const struct vfk_plan *pl) { return pl ? pl->nhostdevs : 0; }

static const struct plan_hostdev *hostdev_at(const struct vfk_plan *pl, size_t i)
{
	return pl && i < pl->nhostdevs ? &pl->hostdevs[i] : NULL;
}

struct vfk_device *vfk_plan_hostdev(const struct vfk_plan *pl, size_t i)
{
	const struct plan_hostdev *h = hostdev_at(pl, i);

	return h ? h->dev : NULL;
}

const char *vfk_plan_hostdev_section(const struct vfk_plan *pl, size_t i)
{
	const struct plan_hostdev *h = hostdev_at(pl, i);

	return h ? h->section : NULL;
}

const char *vfk_plan_hostdev_verdict(const struct vfk_plan *pl, size_t i)
{
	const struct plan_hostdev *h = hostdev_at(pl, i);

	return h ? h->verdict : NULL;
}

size_t vfk_plan_hostdev_function_count(const struct vfk_plan *pl, size_t i)
{
	const struct plan_hostdev *h = hostdev_at(pl, i);

	return h ? h->nfns : 0;
}

struct vfk_device *vfk_plan_hostdev_function(const struct vfk_plan *pl, size_t i, size_t k)
{
	const struct plan_hostdev *h = hostdev_at(pl, i);

	return h && k < h->nfns ? h->fns[k] : NULL;
}

const char *vfk_plan_hostdev_function_guest_address(const struct vfk_plan *pl, size_t i,
						    size_t k, char *buf, size_t size)
{
	const struct plan_hostdev *h = hostdev_at(pl, i);

	if (!h || k >= h->nfns || !buf || size < 13)
		return NULL;
	return vfk_pci_addr_format(&h->guest[k], buf, size);
}

size_t vfk_plan_usb_count(const struct vfk_plan *pl) { return pl ? pl->nusbs : 0; }

const char *vfk_plan_usb_section(const struct vfk_plan *pl, size_t i)
{
	return pl && i < pl->nusbs ? pl->usbs[i].section : NULL;
}

int vfk_plan_usb_device(const struct vfk_plan *pl, size_t i, struct vfk_usb_device_info *out)
{
	const struct usb_device *u;

	if (!pl || i >= pl->nusbs || !out)
		return neg_errno(EINVAL);
	u = &pl->usbs[i].dev;
	memset(out, 0, sizeof(*out));
	out->vendor_id = u->vendor;
	out->product_id = u->product;
	out->bus = u->bus;
	out->address = u->devnum;
	snprintf(out->port, sizeof(out->port), "%s", u->port);
	snprintf(out->name, sizeof(out->name), "%s", u->desc);
	return 0;
}

struct vfk_gpu *vfk_plan_candidate_gpu(const struct vfk_plan *pl, size_t i)
{
	return pl && i < pl->ncands ? pl->cands[i].gpu : NULL;
}

bool vfk_plan_candidate_is_chosen(const struct vfk_plan *pl, size_t i)
{
	return pl && i < pl->ncands && pl->cands[i].chosen;
}

size_t vfk_plan_candidate_reason_count(const struct vfk_plan *pl, size_t i)
{
	return pl && i < pl->ncands ? pl->cands[i].reasons.n : 0;
}

const char *vfk_plan_candidate_reason(const struct vfk_plan *pl, size_t i, size_t k)
{
	if (!pl || i >= pl->ncands || k >= pl->cands[i].reasons.n)
		return NULL;
	return pl->cands[i].reasons.v[k];
}
const char *vfk_plan_get_mdev_parent(const struct vfk_plan *pl) { return pl ? pl->mdev.parent : NULL; }
const char *vfk_plan_get_mdev_type(const struct vfk_plan *pl) { return pl ? pl->mdev.type : NULL; }
const char *vfk_plan_get_mdev_uuid(const struct vfk_plan *pl) { return pl ? pl->mdev.uuid : NULL; }
const char *vfk_plan_get_mdev_vf(const struct vfk_plan *pl) { return pl ? pl->mdev.vf : NULL; }
bool vfk_plan_get_virgl(const struct vfk_plan *pl) { return pl && pl->virgl; }
const char *vfk_plan_get_render_node(const struct vfk_plan *pl) { return pl ? pl->render_node : NULL; }
bool vfk_plan_uses_kvm(const struct vfk_plan *pl) { return pl && pl->kvm; }
unsigned int vfk_plan_get_vcpus(const struct vfk_plan *pl) { return pl ? pl->pin.nvcpus : 0; }

int vfk_plan_get_vcpu_pin(const struct vfk_plan *pl, unsigned int vcpu)
{
	if (!pl || vcpu >= pl->pin.nvcpus || !pl->pin.pinned)
		return -1;
	return pl->pin.vcpu_cpu[vcpu];
}

const char *vfk_plan_get_emulator_cpus(const struct vfk_plan *pl)
{
	return pl ? pl->host_cpus : NULL;
}

void vfk_plan_get_topology(const struct vfk_plan *pl, unsigned int *sockets, unsigned int *dies,
			   unsigned int *cores, unsigned int *threads)
{
	if (sockets)
		*sockets = pl ? pl->pin.sockets : 0;
	if (dies)
		*dies = pl ? pl->pin.dies : 0;
	if (cores)
		*cores = pl ? pl->pin.cores : 0;
	if (threads)
		*threads = pl ? pl->pin.threads : 0;
}

unsigned long long vfk_plan_get_memory_mib(const struct vfk_plan *pl) { return pl ? pl->memory_mib : 0; }
int vfk_plan_get_memory_node(const struct vfk_plan *pl) { return pl ? pl->memory_node : -1; }
unsigned long vfk_plan_get_hugepage_kib(const struct vfk_plan *pl) { return pl ? pl->hugepage_kib : 0; }
unsigned int vfk_plan_get_ivshmem_mib(const struct vfk_plan *pl) { return pl ? pl->lg_mib : 0; }
const char *vfk_plan_get_firmware_code(const struct vfk_plan *pl) { return pl ? pl->fw_code : NULL; }
const char *vfk_plan_get_firmware_vars(const struct vfk_plan *pl) { return pl ? pl->fw_vars : NULL; }
size_t vfk_plan_note_count(const struct vfk_plan *pl) { return pl ? pl->notes.n : 0; }
const char *vfk_plan_note(const struct vfk_plan *pl, size_t i)
{
	return pl && i < pl->notes.n ? pl->notes.v[i] : NULL;
}
