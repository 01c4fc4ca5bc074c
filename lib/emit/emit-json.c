/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A plan as JSON for `vfio-vm plan --json` (schema in vfio-vm(1)). */
#include <json-c/json.h>
#include <stdio.h>

#include "emit/emit.h"

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* {"name": "mlx5_vfio_pci", "why": "modules.alias vfio_pci:v..."}: the VFIO
 * driver @d goes to (vfk_device_vfio_driver()), null when it cannot be told. */
static json_object *vfio_driver_json(const struct vfk_device *d)
{
	char name[64], why[320];
	json_object *o;

	if (vfk_device_vfio_driver((struct vfk_device *)d, name, sizeof(name), why,
				   sizeof(why)) < 0)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "why", json_object_new_string(why));
	return o;
}

/* GPU @g passed through: where it is, where its functions go in the guest. */
static json_object *gpu_json(const struct vfk_plan *pl, size_t g)
{
	const struct vfk_gpu *gpu = pl->gpus[g];
	const struct vfk_device *d = vfk_gpu_get_device(gpu);
	json_object *o = json_object_new_object(), *fa = json_object_new_array();
	char name[600];
	size_t i;

	json_object_object_add(o, "address", json_object_new_string(vfk_device_get_address(d)));
	snprintf(name, sizeof(name), "%s %s", vfk_device_get_vendor_name(d),
		 vfk_device_get_device_name(d));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "group", json_object_new_int(vfk_device_get_iommu_group(d)));
	json_object_object_add(o, "numa_node", json_object_new_int(vfk_device_get_numa_node(d)));
	json_object_object_add(o, "clique", pl->clique[g] >= 0 ? json_object_new_int(pl->clique[g])
							     : NULL);
	for (i = 0; i < vfk_gpu_function_count(gpu); i++) {
		const struct vfk_device *f = vfk_gpu_function(gpu, i);
		json_object *fo = json_object_new_object();
		char guest[40];

		json_object_object_add(fo, "host", json_object_new_string(vfk_device_get_address(f)));
		json_object_object_add(fo, "guest", jstr(vfk_plan_gpu_function_guest_address(
			pl, g, i, guest, sizeof(guest))));
		json_object_object_add(fo, "vfio_driver", vfio_driver_json(f));
		json_object_array_add(fa, fo);
	}
	json_object_object_add(o, "functions", fa);
	json_object_object_add(o, "rom", jstr(g == 0 ? pl->rom : NULL));
	return o;
}

static json_object *gpus_json(const struct vfk_plan *pl)
{
	json_object *a = json_object_new_array();
	size_t g;

	for (g = 0; a && g < pl->ngpus; g++)
		json_object_array_add(a, gpu_json(pl, g));
	return a;
}

/* The NVSwitches given with the GPUs ([gpu] fabric). */
static json_object *fabric_json(const struct vfk_plan *pl)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a && i < pl->nfabric; i++) {
		json_object *o = json_object_new_object();
		char guest[16];

		json_object_object_add(o, "address",
				       json_object_new_string(vfk_device_get_address(pl->fabric[i])));
		json_object_object_add(o, "group",
				       json_object_new_int(vfk_device_get_iommu_group(pl->fabric[i])));
		snprintf(guest, sizeof(guest), "0000:%02x:00.0", plan_fabric_bus(pl, i) & 0xff);
		json_object_object_add(o, "guest", json_object_new_string(guest));
		json_object_object_add(o, "vfio_driver", vfio_driver_json(pl->fabric[i]));
		json_object_array_add(a, o);
	}
	return a;
}

/* The [hostdev] devices with their groups, as plan-hostdev.c resolved them. */
static json_object *hostdevs_json(const struct vfk_plan *pl)
{
	json_object *a = json_object_new_array();
	size_t i, k;

	for (i = 0; a && i < pl->nhostdevs; i++) {
		const struct plan_hostdev *h = &pl->hostdevs[i];
		json_object *o = json_object_new_object(), *fa = json_object_new_array();
		char ids[16];

		json_object_object_add(o, "section", json_object_new_string(h->section));
		json_object_object_add(o, "address", json_object_new_string(vfk_device_get_address(h->dev)));
		snprintf(ids, sizeof(ids), "%04x:%04x", vfk_device_get_vendor_id(h->dev),
			 vfk_device_get_device_id(h->dev));
		json_object_object_add(o, "ids", json_object_new_string(ids));
		json_object_object_add(o, "group", json_object_new_int(vfk_device_get_iommu_group(h->dev)));
		json_object_object_add(o, "driver", jstr(vfk_device_get_driver(h->dev)));
		json_object_object_add(o, "verdict", json_object_new_string(h->verdict));
		json_object_object_add(o, "rom", jstr(h->src->rom));
		for (k = 0; k < h->nfns; k++) {
			json_object *fo = json_object_new_object();
			char guest[16];

			json_object_object_add(fo, "host", json_object_new_string(
				vfk_device_get_address(h->fns[k])));
			json_object_object_add(fo, "guest", json_object_new_string(
				vfk_pci_addr_format(&h->guest[k], guest, sizeof(guest))));
			json_object_object_add(fo, "driver", jstr(vfk_device_get_driver(h->fns[k])));
			json_object_object_add(fo, "vfio_driver", vfio_driver_json(h->fns[k]));
			json_object_array_add(fa, fo);
		}
		json_object_object_add(o, "functions", fa);
		json_object_array_add(a, o);
	}
	return a;
}

/* The [usb] devices as found on the host. */
static json_object *usb_json(const struct vfk_plan *pl)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a && i < pl->nusbs; i++) {
		const struct usb_device *u = &pl->usbs[i].dev;
		json_object *o = json_object_new_object();
		char ids[16];

		json_object_object_add(o, "section", json_object_new_string(pl->usbs[i].section));
		snprintf(ids, sizeof(ids), "%04x:%04x", u->vendor, u->product);
		json_object_object_add(o, "ids", json_object_new_string(ids));
		json_object_object_add(o, "bus", json_object_new_int((int)u->bus));
		json_object_object_add(o, "port", json_object_new_string(u->port));
		json_object_object_add(o, "address", json_object_new_int((int)u->devnum));
		json_object_object_add(o, "name", jstr(*u->desc ? u->desc : NULL));
		json_object_array_add(a, o);
	}
	return a;
}

/* The ranking of plan-gpu-choice.c: address, chosen, reasons. */
static json_object *candidates_json(const struct vfk_plan *pl)
{
	json_object *a = json_object_new_array();
	size_t i, k;

	for (i = 0; a && i < pl->ncands; i++) {
		const struct plan_candidate *c = &pl->cands[i];
		json_object *o = json_object_new_object(), *r = json_object_new_array();

		json_object_object_add(o, "address",
			json_object_new_string(vfk_device_get_address(vfk_gpu_get_device(c->gpu))));
		json_object_object_add(o, "chosen", json_object_new_boolean(c->chosen));
		json_object_object_add(o, "integrated", json_object_new_boolean(c->integrated));
		for (k = 0; k < c->reasons.n; k++)
			json_object_array_add(r, json_object_new_string(c->reasons.v[k]));
		json_object_object_add(o, "reasons", r);
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *cpu_json(const struct vfk_plan *pl)
{
	json_object *o = json_object_new_object(), *topo = json_object_new_object();
	json_object *pins = json_object_new_array();
	unsigned int i;

	json_object_object_add(o, "vcpus", json_object_new_int((int)pl->pin.nvcpus));
	json_object_object_add(o, "model", json_object_new_string(
		pl->cpu_model == CPU_HOST ? "host-passthrough" : pl->cpu_model == CPU_QEMU64 ? "qemu64" : "max"));
	json_object_object_add(o, "topoext", json_object_new_boolean(pl->topoext));
	json_object_object_add(topo, "sockets", json_object_new_int((int)pl->pin.sockets));
	json_object_object_add(topo, "dies", json_object_new_int((int)pl->pin.dies));
	json_object_object_add(topo, "cores", json_object_new_int((int)pl->pin.cores));
	json_object_object_add(topo, "threads", json_object_new_int((int)pl->pin.threads));
	json_object_object_add(o, "topology", topo);
	if (pl->pin.pinned)
		for (i = 0; i < pl->pin.nvcpus; i++)
			json_object_array_add(pins, json_object_new_int(pl->pin.vcpu_cpu[i]));
	json_object_object_add(o, "pinning", pins);
	json_object_object_add(o, "emulator_cpus", jstr(pl->host_cpus));
	json_object_object_add(o, "iothreads", json_object_new_int((int)pl->iothreads));
	json_object_object_add(o, "node", pl->pin.pinned && pl->pin.node >= 0
					  ? json_object_new_int(pl->pin.node) : NULL);
	json_object_object_add(o, "l3_domains", json_object_new_int((int)pl->pin.l3_domains));
	return o;
}

/* Large VMs: what VFIO may lock, and the preallocation threads, in "memory". */
static void memory_large_json(json_object *mem, const struct vfk_plan *pl)
{
	json_object_object_add(mem, "memlock_bytes", json_object_new_int64((int64_t)pl->large.memlock));
	json_object_object_add(mem, "memtune_hard_limit_bytes",
			       pl->large.hard_limit ? json_object_new_int64((int64_t)pl->large.hard_limit)
						    : NULL);
	json_object_object_add(mem, "prealloc_threads",
			       json_object_new_int((int)pl->large.prealloc_threads));
}

/* Large VMs: the BARs, the guest's 64-bit PCI hole and physical address width. */
static json_object *address_space_json(const struct vfk_plan *pl)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "bar_bytes", json_object_new_int64((int64_t)pl->large.bar_bytes));
	json_object_object_add(o, "pci_hole64_bytes",
			       pl->large.hole64 ? json_object_new_int64((int64_t)pl->large.hole64) : NULL);
	json_object_object_add(o, "phys_bits", pl->large.phys_bits
					       ? json_object_new_int((int)pl->large.phys_bits) : NULL);
	json_object_object_add(o, "host_phys_bits", json_object_new_boolean(pl->large.host_phys_bits));
	json_object_object_add(o, "host_cpu_phys_bits", pl->large.host_bits
							? json_object_new_int((int)pl->large.host_bits)
							: NULL);
	return o;
}

int plan_emit_json(const struct vfk_plan *pl, char **out)
{
	const struct vfk_profile *p = pl->prof;
	json_object *o = json_object_new_object(), *rej = json_object_new_object(), *x;
	json_object *notes = json_object_new_array();
	size_t i;

	if (!o || !rej || !notes) {
		json_object_put(o);
		json_object_put(rej);
		json_object_put(notes);
		return neg_errno(ENOMEM);
	}
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "profile", json_object_new_string(p->path));
	json_object_object_add(o, "os", json_object_new_string(prof_os_names[p->os]));
	json_object_object_add(o, "mode", json_object_new_string(vfk_gpu_mode_to_string(pl->mode)));
	json_object_object_add(o, "reason", jstr(pl->mode_reason));
	for (i = 1; i < VFK_GPU_MODE_COUNT; i++)
		if (pl->rejected[i])
			json_object_object_add(rej, vfk_gpu_mode_to_string(i),
					       json_object_new_string(pl->rejected[i]));
	json_object_object_add(o, "rejected", rej);
	json_object_object_add(o, "gpu", pl->ngpus ? gpu_json(pl, 0) : NULL);
	json_object_object_add(o, "gpus", gpus_json(pl));
	json_object_object_add(o, "fabric", fabric_json(pl));
	json_object_object_add(o, "candidates", candidates_json(pl));
	json_object_object_add(o, "hostdevs", hostdevs_json(pl));
	json_object_object_add(o, "usb", usb_json(pl));
	x = json_object_new_object();
	json_object_object_add(x, "backend", pl->vfio_backend == VFIO_AUTO ? NULL :
			       json_object_new_string(plan_vfio_name(pl->vfio_backend)));
	json_object_object_add(x, "reason", jstr(pl->vfio_reason));
	json_object_object_add(x, "asked_emulator", json_object_new_boolean(pl->vfio_asked));
	json_object_object_add(o, "vfio", x);
	if (pl->mdev.uuid) {
		x = json_object_new_object();
		json_object_object_add(x, "parent", json_object_new_string(pl->mdev.parent));
		json_object_object_add(x, "type", json_object_new_string(pl->mdev.type));
		json_object_object_add(x, "type_name", jstr(pl->mdev.type_name));
		json_object_object_add(x, "uuid", json_object_new_string(pl->mdev.uuid));
		json_object_object_add(o, "mdev", x);
	} else {
		json_object_object_add(o, "mdev", NULL);
	}
	json_object_object_add(o, "virgl", json_object_new_boolean(pl->virgl));
	json_object_object_add(o, "render_node", jstr(pl->render_node));
	json_object_object_add(o, "accel", json_object_new_string(pl->kvm ? "kvm" : "tcg"));
	json_object_object_add(o, "cpu", cpu_json(pl));

	x = json_object_new_object();
	json_object_object_add(x, "mib", json_object_new_int64((int64_t)pl->memory_mib));
	json_object_object_add(x, "node", pl->memory_node >= 0 ? json_object_new_int(pl->memory_node) : NULL);
	json_object_object_add(x, "hugepage_kib", json_object_new_int64((int64_t)pl->hugepage_kib));
	memory_large_json(x, pl);
	json_object_object_add(o, "memory", x);
	json_object_object_add(o, "address_space", address_space_json(pl));

	x = json_object_new_array();
	if (pl->hyperv) {
		static const char *const hv[] = { "relaxed", "vapic", "spinlocks", "vpindex", "synic",
						  "stimer", "reset", "frequencies", "tlbflush", "ipi",
						  "hypervclock" };
		for (i = 0; i < ARRAY_SIZE(hv); i++)
			json_object_array_add(x, json_object_new_string(hv[i]));
	}
	{
		json_object *f = json_object_new_object();

		json_object_object_add(f, "hyperv", x);
		json_object_object_add(f, "kvm_hidden", json_object_new_boolean(pl->kvm_hidden));
		json_object_object_add(f, "vendor_id", pl->hyperv ? jstr(p->vendor_id) : NULL);
		json_object_object_add(o, "features", f);
	}

	x = json_object_new_object();
	json_object_object_add(x, "type", json_object_new_string(prof_fw_names[pl->firmware]));
	json_object_object_add(x, "code", jstr(pl->fw_code));
	json_object_object_add(x, "vars", jstr(pl->fw_vars));
	json_object_object_add(x, "tpm", json_object_new_boolean(pl->tpm));
	json_object_object_add(o, "firmware", x);

	x = json_object_new_object();
	json_object_object_add(x, "type", json_object_new_string(prof_display_names[pl->display]));
	json_object_object_add(x, "video", json_object_new_string(
		pl->video == VIDEO_VIRTIO ? "virtio" : pl->video == VIDEO_QXL ? "qxl" : "none"));
	json_object_object_add(x, "looking_glass_mib", json_object_new_int((int)pl->lg_mib));
	json_object_object_add(o, "display", x);

	for (i = 0; i < pl->notes.n; i++)
		json_object_array_add(notes, json_object_new_string(pl->notes.v[i]));
	json_object_object_add(o, "notes", notes);

	*out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							JSON_C_TO_STRING_SPACED |
							JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return *out ? 0 : neg_errno(ENOMEM);
}

int vfk_plan_to_json(const struct vfk_plan *pl, char **out)
{
	return pl && out ? plan_emit_json(pl, out) : neg_errno(EINVAL);
}
