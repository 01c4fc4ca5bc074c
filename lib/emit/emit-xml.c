/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A plan as libvirt domain XML, built as an element tree (xml-tree.c): every
 * name, path and value goes in as a node's text or an attribute's value and
 * is escaped by the writer; no XML is pasted together from strings. Hostdevs
 * are managed='no' because vfiokit binds the devices itself (journal,
 * rollback, single-GPU handling); on a remote host (a plan made on
 * vfk_ctx_new_remote()'s snapshot) they are managed='yes': libvirt binds them
 * there and gives them back, as vfiokit cannot.
 */
#include <stdarg.h>
#include <stdio.h>

#include "emit/emit.h"
#include "emit/xml-tree.h"


struct xw {
	bool oom;
	bool managed;	/* hostdevs bound by libvirt: the plan is for a remote host */
	bool iommufd;	/* hostdevs through iommufd and their VFIO cdevs (libvirt 12.1+) */
};

/* A child element @prefix:@name, with text content when @text is not NULL. */
static struct xml_node *elns(struct xw *w, struct xml_node *parent, const char *prefix,
			     const char *name, const char *text)
{
	struct xml_node *n = parent ? xml_add_child(parent, prefix, name, text) : NULL;

	if (!n)
		w->oom = true;
	return n;
}

/* A child element, with text content when @text is not NULL. */
static struct xml_node *el(struct xw *w, struct xml_node *parent, const char *name,
			   const char *text)
{
	return elns(w, parent, NULL, name, text);
}

static void attr(struct xw *w, struct xml_node *n, const char *name, const char *value)
{
	if (!n || xml_set_attr(n, name, value) < 0)
		w->oom = true;
}

static void attrf(struct xw *w, struct xml_node *n, const char *name, const char *f, ...)
	__attribute__((format(printf, 4, 5)));
static void attrf(struct xw *w, struct xml_node *n, const char *name, const char *f, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	attr(w, n, name, buf);
}

/* An empty element with attributes: ela(w, parent, "timer", "name", "rtc", ..., NULL). */
static struct xml_node *ela(struct xw *w, struct xml_node *parent, const char *name, ...)
{
	struct xml_node *n = el(w, parent, name, NULL);
	const char *k, *v;
	va_list ap;

	va_start(ap, name);
	while ((k = va_arg(ap, const char *)) && (v = va_arg(ap, const char *)))
		attr(w, n, k, v);
	va_end(ap);
	return n;
}

/* A number as element text. */
static struct xml_node *elu(struct xw *w, struct xml_node *parent, const char *name,
			    unsigned long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", v);
	return el(w, parent, name, buf);
}

/* <name state='on'/> */
static struct xml_node *on(struct xw *w, struct xml_node *parent, const char *name)
{
	struct xml_node *n = el(w, parent, name, NULL);

	attr(w, n, "state", "on");
	return n;
}

static void pci_address(struct xw *w, struct xml_node *parent, const struct vfk_pci_addr *a,
			bool with_type, bool multifunction)
{
	struct xml_node *n = el(w, parent, "address", NULL);

	if (with_type)
		attr(w, n, "type", "pci");
	attrf(w, n, "domain", "0x%04x", a->domain);
	attrf(w, n, "bus", "0x%02x", a->bus);
	attrf(w, n, "slot", "0x%02x", a->dev);
	attrf(w, n, "function", "0x%x", a->fn);
	if (multifunction)
		attr(w, n, "multifunction", "on");
}

/* ------------------------------------------------------------ large VMs */

/* libvirt's memlock figure for VFIO is RAM + 1 GiB; a hard limit where the
 * plan's is more (large BARs). */
static void emit_memtune(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	if (pl->large.hard_limit)
		attr(w, elu(w, el(w, dom, "memtune", NULL), "hard_limit", pl->large.hard_limit >> 10),
		     "unit", "KiB");
}

/* Huge pages preallocated by several threads (libvirt 8.2 and later). */
static void emit_allocation(struct xw *w, struct xml_node *backing, const struct vfk_plan *pl)
{
	struct xml_node *n;

	if (!pl->large.prealloc_threads)
		return;
	n = ela(w, backing, "allocation", "mode", "immediate", NULL);
	attrf(w, n, "threads", "%u", pl->large.prealloc_threads);
}

/* The guest's 64-bit PCI hole on the root complex, where QEMU's default
 * cannot hold the BARs. */
static void emit_pcihole64(struct xw *w, struct xml_node *root, const struct vfk_plan *pl)
{
	if (pl->large.hole64)
		attr(w, elu(w, root, "pcihole64", pl->large.hole64 >> 10), "unit", "KiB");
}

/* The guest's physical address width, where QEMU's default does not reach
 * (libvirt 8.7 and later). */
static void emit_maxphysaddr(struct xw *w, struct xml_node *cpu, const struct vfk_plan *pl)
{
	struct xml_node *n;

	if (pl->large.host_phys_bits) {
		ela(w, cpu, "maxphysaddr", "mode", "passthrough", NULL);
	} else if (pl->large.phys_bits) {
		n = ela(w, cpu, "maxphysaddr", "mode", "emulate", NULL);
		attrf(w, n, "bits", "%u", pl->large.phys_bits);
	}
}

/* ------------------------------------------------------------ sections */

static void emit_memory_backing(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	struct xml_node *backing, *n;

	if (!pl->hugepage_kib)
		return;
	backing = el(w, dom, "memoryBacking", NULL);
	n = el(w, el(w, backing, "hugepages", NULL), "page", NULL);
	attrf(w, n, "size", "%lu", pl->hugepage_kib);
	attr(w, n, "unit", "KiB");
	emit_allocation(w, backing, pl);
}

static void emit_numatune(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	struct xml_node *n;

	if (pl->memory_node < 0)
		return;
	n = el(w, el(w, dom, "numatune", NULL), "memory", NULL);
	attr(w, n, "mode", "strict");
	attrf(w, n, "nodeset", "%d", pl->memory_node);
}

static void emit_cputune(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	struct xml_node *tune, *n;
	unsigned int i;

	if (!pl->pin.pinned)
		return;
	tune = el(w, dom, "cputune", NULL);
	for (i = 0; i < pl->pin.nvcpus; i++) {
		n = el(w, tune, "vcpupin", NULL);
		attrf(w, n, "vcpu", "%u", i);
		attrf(w, n, "cpuset", "%d", pl->pin.vcpu_cpu[i]);
	}
	if (pl->host_cpus) {
		n = el(w, tune, "emulatorpin", NULL);
		attr(w, n, "cpuset", pl->host_cpus);
		for (i = 1; i <= pl->iothreads; i++) {
			n = el(w, tune, "iothreadpin", NULL);
			attrf(w, n, "iothread", "%u", i);
			attr(w, n, "cpuset", pl->host_cpus);
		}
	}
}

static void emit_os(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	struct xml_node *os = el(w, dom, "os", NULL), *n;

	n = el(w, os, "type", "hvm");
	attr(w, n, "arch", "x86_64");
	attr(w, n, "machine", "q35");
	if (pl->fw_code) {
		n = el(w, os, "loader", pl->fw_code);
		attr(w, n, "readonly", "yes");
		attr(w, n, "secure", pl->firmware == FW_UEFI_SECURE ? "yes" : "no");
		attr(w, n, "type", "pflash");
		n = el(w, os, "nvram", NULL);
		attr(w, n, "template", pl->fw_vars);
	}
	if (p->kernel) {
		el(w, os, "kernel", p->kernel);
		if (p->initrd)
			el(w, os, "initrd", p->initrd);
		if (p->cmdline)
			el(w, os, "cmdline", p->cmdline);
	}
}

static void emit_features(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	struct xml_node *f = el(w, dom, "features", NULL), *hv, *n;

	el(w, f, "acpi", NULL);
	el(w, f, "apic", NULL);
	if (pl->hyperv) {
		hv = el(w, f, "hyperv", NULL);
		attr(w, hv, "mode", "custom");
		on(w, hv, "relaxed");
		on(w, hv, "vapic");
		n = on(w, hv, "spinlocks");
		attr(w, n, "retries", "8191");
		on(w, hv, "vpindex");
		on(w, hv, "synic");
		on(w, hv, "stimer");
		on(w, hv, "reset");
		if (pl->prof->vendor_id) {
			n = on(w, hv, "vendor_id");
			attr(w, n, "value", pl->prof->vendor_id);
		}
		on(w, hv, "frequencies");
		on(w, hv, "tlbflush");
		on(w, hv, "ipi");
	}
	if (pl->kvm_hidden) {
		n = el(w, f, "kvm", NULL);
		on(w, n, "hidden");
	}
	n = el(w, f, "vmport", NULL);
	attr(w, n, "state", "off");
	if (pl->firmware == FW_UEFI_SECURE)
		on(w, f, "smm");
}

static void emit_cpu(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	struct xml_node *cpu = el(w, dom, "cpu", NULL), *n;

	switch (pl->cpu_model) {
	case CPU_HOST:
		attr(w, cpu, "mode", "host-passthrough");
		attr(w, cpu, "check", "none");
		attr(w, cpu, "migratable", "off");
		break;
	case CPU_QEMU64:
		attr(w, cpu, "mode", "custom");
		attr(w, cpu, "match", "exact");
		attr(w, cpu, "check", "none");
		n = el(w, cpu, "model", "qemu64");
		attr(w, n, "fallback", "forbid");
		break;
	default:
		attr(w, cpu, "mode", "maximum");
		attr(w, cpu, "check", "none");
	}
	n = el(w, cpu, "topology", NULL);
	attrf(w, n, "sockets", "%u", pl->pin.sockets);
	attrf(w, n, "dies", "%u", pl->pin.dies);
	attrf(w, n, "cores", "%u", pl->pin.cores);
	attrf(w, n, "threads", "%u", pl->pin.threads);
	if (pl->cpu_model == CPU_HOST)
		ela(w, cpu, "cache", "mode", "passthrough", NULL);
	emit_maxphysaddr(w, cpu, pl);
	if (pl->topoext)
		ela(w, cpu, "feature", "policy", "require", "name", "topoext", NULL);
}

static void emit_clock(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	struct xml_node *c = ela(w, dom, "clock", "offset",
			   pl->prof->os == OS_WINDOWS ? "localtime" : "utc", NULL);

	ela(w, c, "timer", "name", "rtc", "tickpolicy", "catchup", NULL);
	ela(w, c, "timer", "name", "pit", "tickpolicy", "delay", NULL);
	ela(w, c, "timer", "name", "hpet", "present", "no", NULL);
	if (pl->hyperv)
		ela(w, c, "timer", "name", "hypervclock", "present", "yes", NULL);
}

static void emit_disks(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	size_t i;

	for (i = 0; i < pl->ndisks; i++) {
		const struct plan_disk *d = &pl->disks[i];
		const struct prof_disk *s = d->src;
		struct xml_node *disk = el(w, devs, "disk", NULL), *n;
		bool direct = s->cache == CACHE_NONE || s->cache == CACHE_DIRECTSYNC;

		attr(w, disk, "type", d->block ? "block" : "file");
		attr(w, disk, "device", d->cdrom ? "cdrom" : "disk");
		n = el(w, disk, "driver", NULL);
		attr(w, n, "name", "qemu");
		attr(w, n, "type", d->format == FMT_QCOW2 ? "qcow2" : "raw");
		attr(w, n, "cache", disk_cache_names[s->cache]);
		if (direct && !d->cdrom)
			attr(w, n, "io", "native");
		if (!d->cdrom)
			attr(w, n, "discard", "unmap");
		if (d->bus == BUS_VIRTIO && pl->iothreads)
			attr(w, n, "iothread", "1");
		n = el(w, disk, "source", NULL);
		attr(w, n, d->block ? "dev" : "file", s->path);
		n = el(w, disk, "target", NULL);
		attr(w, n, "dev", d->target);
		attr(w, n, "bus", disk_bus_names[d->bus]);
		if (d->readonly)
			el(w, disk, "readonly", NULL);
		if (!pl->prof->kernel) {
			n = el(w, disk, "boot", NULL);
			attrf(w, n, "order", "%u", d->boot);
		}
	}
}

static void emit_controllers(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	unsigned int k;

	emit_pcihole64(w, ela(w, devs, "controller", "type", "pci", "index", "0", "model",
			      "pcie-root", NULL), pl);
	/* a root port for each GPU and NVSwitch given: buses 1, 2, ... */
	for (k = 1; k <= plan_root_ports(pl); k++) {
		char index[16];

		snprintf(index, sizeof(index), "%u", k);
		ela(w, devs, "controller", "type", "pci", "index", index, "model",
		    "pcie-root-port", NULL);
	}
	ela(w, devs, "controller", "type", "usb", "index", "0", "model", "qemu-xhci", "ports", "15",
	    NULL);
	if (pl->scsi)
		ela(w, devs, "controller", "type", "scsi", "index", "0", "model", "virtio-scsi", NULL);
}

static void emit_nets(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	static const char *const types[] = { "user", "bridge", "network" };
	size_t i;

	for (i = 0; i < pl->nnets; i++) {
		const struct plan_net *d = &pl->nets[i];
		struct xml_node *iface = el(w, devs, "interface", NULL), *n;

		attr(w, iface, "type", types[d->src->type]);
		n = el(w, iface, "mac", NULL);
		attr(w, n, "address", d->mac);
		if (d->src->type == NET_BRIDGE) {
			n = el(w, iface, "source", NULL);
			attr(w, n, "bridge", d->src->bridge);
		} else if (d->src->type == NET_NETWORK) {
			n = el(w, iface, "source", NULL);
			attr(w, n, "network", d->src->network ? d->src->network : "default");
		}
		n = el(w, iface, "model", NULL);
		attr(w, n, "type", net_model_names[d->src->model]);
	}
}

static void emit_serial(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	const char *type = pl->serial == SERIAL_STDIO ? "stdio" : "pty";
	struct xml_node *n, *t;

	if (pl->serial == SERIAL_NO)
		return;
	n = el(w, devs, "serial", NULL);
	attr(w, n, "type", type);
	t = el(w, n, "target", NULL);
	attr(w, t, "port", "0");
	n = el(w, devs, "console", NULL);
	attr(w, n, "type", type);
	t = el(w, n, "target", NULL);
	attr(w, t, "type", "serial");
	attr(w, t, "port", "0");
}

static void emit_input(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	struct xml_node *n, *s;

	if (pl->tablet)
		ela(w, devs, "input", "type", "tablet", "bus", "usb", NULL);
	if (p->keyboard) {
		n = el(w, devs, "input", NULL);
		attr(w, n, "type", "evdev");
		s = el(w, n, "source", NULL);
		attr(w, s, "dev", p->keyboard);
		attr(w, s, "grab", "all");
		attr(w, s, "grabToggle", grab_toggle_names[p->grab_toggle]);
		attr(w, s, "repeat", "on");
	}
	if (p->mouse) {
		n = el(w, devs, "input", NULL);
		attr(w, n, "type", "evdev");
		s = el(w, n, "source", NULL);
		attr(w, s, "dev", p->mouse);
	}
}

/* A <graphics type=@type> that listens on the profile's address, port chosen by libvirt. */
static struct xml_node *graphics_on_address(struct xw *w, struct xml_node *devs,
					    const struct vfk_plan *pl, const char *type)
{
	struct xml_node *g = el(w, devs, "graphics", NULL), *n;

	attr(w, g, "type", type);
	attr(w, g, "autoport", "yes");
	n = el(w, g, "listen", NULL);
	attr(w, n, "type", "address");
	attr(w, n, "address", pl->prof->listen ? pl->prof->listen : "127.0.0.1");
	return g;
}

static void emit_graphics(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	struct xml_node *g, *n;

	switch (pl->display) {
	case DISP_SPICE:
		if (!pl->virgl) {
			graphics_on_address(w, devs, pl, "spice");
			break;
		}
		g = el(w, devs, "graphics", NULL);
		attr(w, g, "type", "spice");
		n = el(w, g, "listen", NULL);
		attr(w, n, "type", "none");
		n = el(w, g, "gl", NULL);
		attr(w, n, "enable", "yes");
		attr(w, n, "rendernode", pl->render_node);
		break;
	case DISP_VNC:
		graphics_on_address(w, devs, pl, "vnc");
		break;
	case DISP_SDL:
		g = el(w, devs, "graphics", NULL);
		attr(w, g, "type", "sdl");
		if (pl->virgl) {
			n = el(w, g, "gl", NULL);
			attr(w, n, "enable", "yes");
		}
		break;
	default:
		break;
	}
	if (pl->virgl && (pl->display == DISP_VNC || pl->display == DISP_NONE)) {
		g = el(w, devs, "graphics", NULL);
		attr(w, g, "type", "egl-headless");
		n = el(w, g, "gl", NULL);
		attr(w, n, "rendernode", pl->render_node);
	}
}

static void emit_audio(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	struct xml_node *n, *a;

	if (p->audio == AUDIO_NONE)
		return;
	n = el(w, devs, "sound", NULL);
	attr(w, n, "model", prof_sound_names[p->sound]);
	a = el(w, n, "audio", NULL);
	attr(w, a, "id", "1");
	a = el(w, devs, "audio", NULL);
	attr(w, a, "id", "1");
	attr(w, a, "type", prof_audio_names[p->audio]);
}

static void emit_video(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	struct xml_node *v = el(w, devs, "video", NULL), *m, *a;

	m = el(w, v, "model", NULL);
	switch (pl->video) {
	case VIDEO_VIRTIO:
		attr(w, m, "type", "virtio");
		attr(w, m, "heads", "1");
		attr(w, m, "primary", "yes");
		if (pl->virgl) {
			a = el(w, m, "acceleration", NULL);
			attr(w, a, "accel3d", "yes");
		}
		break;
	case VIDEO_QXL:
		attr(w, m, "type", "qxl");
		attr(w, m, "ram", "65536");
		attr(w, m, "vram", "65536");
		attr(w, m, "vgamem", "16384");
		attr(w, m, "heads", "1");
		attr(w, m, "primary", "yes");
		break;
	default:
		attr(w, m, "type", "none");
	}
}

/* A PCI hostdev of the host's device at @src, managed by vfiokit (by
 * libvirt on a remote host). */
static struct xml_node *hostdev(struct xw *w, struct xml_node *devs, const struct vfk_pci_addr *src)
{
	struct xml_node *h = el(w, devs, "hostdev", NULL);

	attr(w, h, "mode", "subsystem");
	attr(w, h, "type", "pci");
	attr(w, h, "managed", w->managed ? "yes" : "no");
	if (w->iommufd)	/* libvirt opens /dev/iommu and the cdev and passes them */
		ela(w, h, "driver", "iommufd", "yes", NULL);
	pci_address(w, el(w, h, "source", NULL), src, false, false);
	return h;
}

static void emit_hostdevs(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	struct xml_node *h, *s, *n;
	size_t g, i, nf;

	for (g = 0; g < pl->ngpus; g++) {
		/* every function on the GPU's root port, slot 0: one
		 * multifunction device; Intel's iGPU at 00:02.0 as on the host */
		const struct vfk_gpu *gpu = pl->gpus[g];

		nf = vfk_gpu_function_count(gpu);
		for (i = 0; i < nf; i++) {
			struct vfk_pci_addr guest;

			plan_gpu_guest_addr(pl, g, i, &guest);
			h = hostdev(w, devs, vfk_device_get_addr(vfk_gpu_function(gpu, i)));
			if (g == 0 && i == 0 && pl->rom) {
				n = el(w, h, "rom", NULL);
				attr(w, n, "file", pl->rom);
			}
			pci_address(w, h, &guest, true, i == 0 && nf > 1);
			if (i == 0 && ((g == 0 && pl->igd) || pl->clique[g] >= 0))	/* qemu:override's */
				attrf(w, el(w, h, "alias", NULL), "name", "ua-gpu%zu", g);
		}
	}
	for (g = 0; g < pl->nfabric; g++) {
		struct vfk_pci_addr guest = { 0, (uint8_t)plan_fabric_bus(pl, g), 0, 0 };

		h = hostdev(w, devs, vfk_device_get_addr(pl->fabric[g]));
		pci_address(w, h, &guest, true, false);
	}
	if (pl->mdev.vf) {
		/* NVIDIA vGPU 17+: the vGPU is a VF, left on NVIDIA's VFIO driver */
		struct vfk_pci_addr a;

		if (vfk_pci_addr_parse(pl->mdev.vf, &a) < 0) {
			w->oom = true;
			return;
		}
		hostdev(w, devs, &a);
	} else if (pl->mdev.uuid) {
		h = el(w, devs, "hostdev", NULL);
		attr(w, h, "mode", "subsystem");
		attr(w, h, "type", "mdev");
		attr(w, h, "model", "vfio-pci");
		attr(w, h, "display", "off");
		s = el(w, h, "source", NULL);
		n = el(w, s, "address", NULL);
		attr(w, n, "uuid", pl->mdev.uuid);
	}
}

/* The [hostdev] devices: each with its group, each slot on its root port. */
static void emit_extra_pci(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	size_t i, k;

	for (i = 0; i < pl->nhostdevs; i++) {
		const struct plan_hostdev *x = &pl->hostdevs[i];

		for (k = 0; k < x->nfns; k++) {
			struct xml_node *h = hostdev(w, devs, vfk_device_get_addr(x->fns[k]));
			bool multi = x->guest[k].fn == 0 && k + 1 < x->nfns &&
				     x->guest[k + 1].bus == x->guest[k].bus;

			if (x->fns[k] == x->dev && x->src->rom)
				attr(w, el(w, h, "rom", NULL), "file", x->src->rom);
			pci_address(w, h, &x->guest[k], true, multi);
		}
	}
}

/* The [usb] devices by their ids, and by bus and address when a section says
 * where (libvirt then wants both to match; QEMU's argv names the port). */
static void emit_extra_usb(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	size_t i;

	for (i = 0; i < pl->nusbs; i++) {
		const struct usb_device *u = &pl->usbs[i].dev;
		struct xml_node *h = ela(w, devs, "hostdev", "mode", "subsystem", "type", "usb", NULL);
		struct xml_node *s = el(w, h, "source", NULL), *n;

		attrf(w, el(w, s, "vendor", NULL), "id", "0x%04x", u->vendor);
		attrf(w, el(w, s, "product", NULL), "id", "0x%04x", u->product);
		if (pl->usbs[i].src->bus) {
			n = el(w, s, "address", NULL);
			attrf(w, n, "bus", "%u", u->bus);
			attrf(w, n, "device", "%u", u->devnum);
		}
	}
}

static void emit_emulator(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	el(w, devs, "emulator", pl->emulator);
}

static void emit_tpm(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	if (pl->tpm)
		ela(w, ela(w, devs, "tpm", "model", "tpm-crb", NULL), "backend", "type", "emulator",
		    "version", "2.0", NULL);
}

static void emit_shmem(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	struct xml_node *n;

	if (!pl->lg_mib)
		return;
	n = ela(w, devs, "shmem", "name", "looking-glass", NULL);
	ela(w, n, "model", "type", "ivshmem-plain", NULL);
	attr(w, elu(w, n, "size", pl->lg_mib), "unit", "M");
}

static void emit_memballoon(struct xw *w, struct xml_node *devs, const struct vfk_plan *pl)
{
	struct xml_node *n = el(w, devs, "memballoon", NULL);

	/* a balloon cannot take back memory VFIO has pinned */
	attr(w, n, "model", plan_binds_devices(pl) ? "none" : "virtio");
}

/* One part of the domain, written as children of @parent. */
typedef void (*section_fn)(struct xw *w, struct xml_node *parent, const struct vfk_plan *pl);

static void emit_sections(struct xw *w, struct xml_node *parent, const struct vfk_plan *pl,
			  const section_fn *sections, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sections[i](w, parent, pl);
}

static void emit_devices(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	static const section_fn sections[] = {	/* in libvirt's order */
		emit_emulator, emit_disks, emit_controllers, emit_nets, emit_serial, emit_input,
		emit_graphics, emit_audio, emit_video, emit_hostdevs, emit_extra_pci, emit_extra_usb,
		emit_tpm, emit_shmem, emit_memballoon,
	};

	emit_sections(w, el(w, dom, "devices", NULL), pl, sections, ARRAY_SIZE(sections));
}

static void emit_metadata(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	struct xml_node *md = el(w, dom, "metadata", NULL);
	struct xml_node *n = elns(w, md, "vfiokit", "vm", NULL);

	if (!n || xml_declare_ns(n, "vfiokit", VFK_XMLNS) < 0) {
		w->oom = true;
		return;
	}
	attr(w, n, "profile", pl->prof->path);
	attr(w, n, "mode", vfk_gpu_mode_to_string(pl->mode));
	if (pl->gpu)
		attr(w, n, "gpu", vfk_device_get_address(vfk_gpu_get_device(pl->gpu)));
	if (pl->mdev.uuid) {
		attr(w, n, "mdev-parent", pl->mdev.parent);
		attr(w, n, "mdev-type", pl->mdev.type);
	}
}

#define QEMU_XMLNS "http://libvirt.org/schemas/domain/qemu/1.0"

static void override_prop(struct xw *w, struct xml_node *ovr, size_t gpu, const char *name,
			  const char *type, const char *value)
{
	struct xml_node *d = elns(w, ovr, "qemu", "device", NULL);
	struct xml_node *p = elns(w, elns(w, d, "qemu", "frontend", NULL), "qemu", "property", NULL);

	attrf(w, d, "alias", "ua-gpu%zu", gpu);
	attr(w, p, "name", name);
	attr(w, p, "type", type);
	attr(w, p, "value", value);
}

/*
 * QEMU properties libvirt has no element for, set on the hostdev's frontend
 * by a qemu:override (libvirt 8.2 and later): Intel GVT-d's
 * x-igd-opregion=on, and the GPUDirect peer-to-peer clique of NVIDIA GPUs
 * under one switch (x-nv-gpudirect-clique).
 */
static void emit_overrides(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	struct xml_node *ovr = NULL;
	size_t g;

	for (g = 0; g < pl->ngpus; g++) {
		char clique[16];

		if (!(g == 0 && pl->igd) && pl->clique[g] < 0)
			continue;
		if (!ovr) {
			if (xml_declare_ns(dom, "qemu", QEMU_XMLNS) < 0) {
				w->oom = true;
				return;
			}
			ovr = elns(w, dom, "qemu", "override", NULL);
		}
		if (g == 0 && pl->igd)
			override_prop(w, ovr, g, "x-igd-opregion", "bool", "true");
		if (pl->clique[g] >= 0) {
			snprintf(clique, sizeof(clique), "%d", pl->clique[g]);
			override_prop(w, ovr, g, "x-nv-gpudirect-clique", "unsigned", clique);
		}
	}
}

static void emit_identity(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	el(w, dom, "name", pl->prof->name);
	if (pl->prof->description)
		el(w, dom, "description", pl->prof->description);
}

static void emit_memory(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	attr(w, elu(w, dom, "memory", pl->memory_mib), "unit", "MiB");
	attr(w, elu(w, dom, "currentMemory", pl->memory_mib), "unit", "MiB");
	emit_memtune(w, dom, pl);
}

static void emit_vcpus(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	attr(w, elu(w, dom, "vcpu", pl->pin.nvcpus), "placement", "static");
	if (pl->iothreads)
		elu(w, dom, "iothreads", pl->iothreads);
}

static void emit_lifecycle(struct xw *w, struct xml_node *dom, const struct vfk_plan *pl)
{
	struct xml_node *n;

	el(w, dom, "on_poweroff", "destroy");
	el(w, dom, "on_reboot", "restart");
	el(w, dom, "on_crash", "destroy");
	n = el(w, dom, "pm", NULL);
	attr(w, el(w, n, "suspend-to-mem", NULL), "enabled", "no");
	attr(w, el(w, n, "suspend-to-disk", NULL), "enabled", "no");
}

int plan_emit_xml(const struct vfk_plan *pl, char **out)
{
	static const section_fn sections[] = {	/* in libvirt's order */
		emit_identity, emit_metadata, emit_memory, emit_memory_backing, emit_vcpus,
		emit_cputune, emit_numatune, emit_os, emit_features, emit_cpu, emit_clock,
		emit_lifecycle, emit_devices, emit_overrides,
	};
	struct xw w = { .managed = pl->ctx->remote_uri != NULL,
			.iommufd = pl->vfio_backend == VFIO_IOMMUFD };
	struct xml_node *dom = xml_new_root("domain");
	int r;

	*out = NULL;
	if (!dom)
		return neg_errno(ENOMEM);
	attr(&w, dom, "type", pl->kvm ? "kvm" : "qemu");
	emit_sections(&w, dom, pl, sections, ARRAY_SIZE(sections));
	r = w.oom ? neg_errno(ENOMEM) : xml_format(dom, out);
	xml_free(dom);
	return r;
}

int vfk_plan_to_libvirt_xml(const struct vfk_plan *pl, char **out)
{
	return pl && out ? plan_emit_xml(pl, out) : neg_errno(EINVAL);
}
