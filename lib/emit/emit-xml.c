/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A plan as libvirt domain XML, built as a libxml2 tree: every name, path and
 * value goes in through xmlNewTextChild()/xmlNewProp(), so libxml2 escapes it;
 * no XML is pasted together from strings. Hostdevs are managed='no' because
 * vfiokit binds the devices itself (journal, rollback, single-GPU handling).
 */
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <stdarg.h>
#include <stdio.h>

#include "emit/emit.h"

#define VFK_XMLNS "https://vfiokit.org/xmlns/vm/1"

struct xw {
	bool oom;
};

static const xmlChar *X(const char *s) { return (const xmlChar *)s; }

/* A child element, with text content when @text is not NULL. */
static xmlNodePtr el(struct xw *w, xmlNodePtr parent, const char *name, const char *text)
{
	xmlNodePtr n;

	if (!parent) {
		w->oom = true;
		return NULL;
	}
	n = xmlNewTextChild(parent, NULL, X(name), text ? X(text) : NULL);
	if (!n)
		w->oom = true;
	return n;
}

static void attr(struct xw *w, xmlNodePtr n, const char *name, const char *value)
{
	if (!n || !xmlNewProp(n, X(name), X(value)))
		w->oom = true;
}

static void attrf(struct xw *w, xmlNodePtr n, const char *name, const char *f, ...)
	__attribute__((format(printf, 4, 5)));
static void attrf(struct xw *w, xmlNodePtr n, const char *name, const char *f, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	attr(w, n, name, buf);
}

/* An empty element with attributes: ela(w, parent, "timer", "name", "rtc", ..., NULL). */
static xmlNodePtr ela(struct xw *w, xmlNodePtr parent, const char *name, ...)
{
	xmlNodePtr n = el(w, parent, name, NULL);
	const char *k, *v;
	va_list ap;

	va_start(ap, name);
	while ((k = va_arg(ap, const char *)) && (v = va_arg(ap, const char *)))
		attr(w, n, k, v);
	va_end(ap);
	return n;
}

/* A number as element text. */
static xmlNodePtr elu(struct xw *w, xmlNodePtr parent, const char *name, unsigned long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", v);
	return el(w, parent, name, buf);
}

/* <name state='on'/> */
static xmlNodePtr on(struct xw *w, xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = el(w, parent, name, NULL);

	attr(w, n, "state", "on");
	return n;
}

static void pci_address(struct xw *w, xmlNodePtr parent, const struct vfk_pci_addr *a,
			bool with_type, bool multifunction)
{
	xmlNodePtr n = el(w, parent, "address", NULL);

	if (with_type)
		attr(w, n, "type", "pci");
	attrf(w, n, "domain", "0x%04x", a->domain);
	attrf(w, n, "bus", "0x%02x", a->bus);
	attrf(w, n, "slot", "0x%02x", a->dev);
	attrf(w, n, "function", "0x%x", a->fn);
	if (multifunction)
		attr(w, n, "multifunction", "on");
}

/* ------------------------------------------------------------ sections */

static void emit_cputune(struct xw *w, xmlNodePtr dom, const struct vfk_plan *pl)
{
	xmlNodePtr tune, n;
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

static void emit_os(struct xw *w, xmlNodePtr dom, const struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	xmlNodePtr os = el(w, dom, "os", NULL), n;

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

static void emit_features(struct xw *w, xmlNodePtr dom, const struct vfk_plan *pl)
{
	xmlNodePtr f = el(w, dom, "features", NULL), hv, n;

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

static void emit_cpu(struct xw *w, xmlNodePtr dom, const struct vfk_plan *pl)
{
	xmlNodePtr cpu = el(w, dom, "cpu", NULL), n;

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
	if (pl->topoext)
		ela(w, cpu, "feature", "policy", "require", "name", "topoext", NULL);
}

static void emit_clock(struct xw *w, xmlNodePtr dom, const struct vfk_plan *pl)
{
	xmlNodePtr c = ela(w, dom, "clock", "offset",
			   pl->prof->os == OS_WINDOWS ? "localtime" : "utc", NULL);

	ela(w, c, "timer", "name", "rtc", "tickpolicy", "catchup", NULL);
	ela(w, c, "timer", "name", "pit", "tickpolicy", "delay", NULL);
	ela(w, c, "timer", "name", "hpet", "present", "no", NULL);
	if (pl->hyperv)
		ela(w, c, "timer", "name", "hypervclock", "present", "yes", NULL);
}

static void emit_disks(struct xw *w, xmlNodePtr devs, const struct vfk_plan *pl)
{
	size_t i;

	for (i = 0; i < pl->ndisks; i++) {
		const struct plan_disk *d = &pl->disks[i];
		const struct prof_disk *s = d->src;
		xmlNodePtr disk = el(w, devs, "disk", NULL), n;
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

static void emit_controllers(struct xw *w, xmlNodePtr devs, const struct vfk_plan *pl)
{
	ela(w, devs, "controller", "type", "pci", "index", "0", "model", "pcie-root", NULL);
	if (pl->gpu && !pl->igd)	/* the GPU's own root port: bus 1 */
		ela(w, devs, "controller", "type", "pci", "index", "1", "model", "pcie-root-port",
		    NULL);
	ela(w, devs, "controller", "type", "usb", "index", "0", "model", "qemu-xhci", "ports", "15",
	    NULL);
	if (pl->scsi)
		ela(w, devs, "controller", "type", "scsi", "index", "0", "model", "virtio-scsi", NULL);
}

static void emit_nets(struct xw *w, xmlNodePtr devs, const struct vfk_plan *pl)
{
	static const char *const types[] = { "user", "bridge", "network" };
	size_t i;

	for (i = 0; i < pl->nnets; i++) {
		const struct plan_net *d = &pl->nets[i];
		xmlNodePtr iface = el(w, devs, "interface", NULL), n;

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

static void emit_serial(struct xw *w, xmlNodePtr devs, const struct vfk_plan *pl)
{
	const char *type = pl->serial == SERIAL_STDIO ? "stdio" : "pty";
	xmlNodePtr n, t;

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

static void emit_input(struct xw *w, xmlNodePtr devs, const struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	xmlNodePtr n, s;

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
static xmlNodePtr graphics_on_address(struct xw *w, xmlNodePtr devs, const struct vfk_plan *pl,
				      const char *type)
{
	xmlNodePtr g = el(w, devs, "graphics", NULL), n;

	attr(w, g, "type", type);
	attr(w, g, "autoport", "yes");
	n = el(w, g, "listen", NULL);
	attr(w, n, "type", "address");
	attr(w, n, "address", pl->prof->listen ? pl->prof->listen : "127.0.0.1");
	return g;
}

static void emit_graphics(struct xw *w, xmlNodePtr devs, const struct vfk_plan *pl)
{
	xmlNodePtr g, n;

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

static void emit_audio(struct xw *w, xmlNodePtr devs, const struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	xmlNodePtr n, a;

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

static void emit_video(struct xw *w, xmlNodePtr devs, const struct vfk_plan *pl)
{
	xmlNodePtr v = el(w, devs, "video", NULL), m, a;

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

static void emit_hostdevs(struct xw *w, xmlNodePtr devs, const struct vfk_plan *pl)
{
	xmlNodePtr h, s, n;
	size_t i, nf;

	if (pl->gpu) {
		/* every function on the GPU's root port (bus 1), slot 0: one
		 * multifunction device; Intel's iGPU at 00:02.0 as on the host */
		nf = vfk_gpu_function_count(pl->gpu);
		for (i = 0; i < nf; i++) {
			const struct vfk_device *d = vfk_gpu_function(pl->gpu, i);
			struct vfk_pci_addr guest = { 0, pl->igd ? 0 : 1, pl->igd ? 2 : 0, (uint8_t)i };

			h = el(w, devs, "hostdev", NULL);
			attr(w, h, "mode", "subsystem");
			attr(w, h, "type", "pci");
			attr(w, h, "managed", "no");
			s = el(w, h, "source", NULL);
			pci_address(w, s, vfk_device_get_addr(d), false, false);
			if (i == 0 && pl->rom) {
				n = el(w, h, "rom", NULL);
				attr(w, n, "file", pl->rom);
			}
			pci_address(w, h, &guest, true, i == 0 && nf > 1);
			if (i == 0 && pl->igd)	/* the alias qemu:override names */
				attr(w, el(w, h, "alias", NULL), "name", "ua-igd");
		}
	}
	if (pl->mdev.vf) {
		/* NVIDIA vGPU 17+: the vGPU is a VF, left on NVIDIA's VFIO driver */
		struct vfk_pci_addr a;

		if (vfk_pci_addr_parse(pl->mdev.vf, &a) < 0) {
			w->oom = true;
			return;
		}
		h = el(w, devs, "hostdev", NULL);
		attr(w, h, "mode", "subsystem");
		attr(w, h, "type", "pci");
		attr(w, h, "managed", "no");
		s = el(w, h, "source", NULL);
		pci_address(w, s, &a, false, false);
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

static void emit_devices(struct xw *w, xmlNodePtr dom, const struct vfk_plan *pl)
{
	xmlNodePtr devs = el(w, dom, "devices", NULL), n;

	el(w, devs, "emulator", pl->emulator);
	emit_disks(w, devs, pl);
	emit_controllers(w, devs, pl);
	emit_nets(w, devs, pl);
	emit_serial(w, devs, pl);
	emit_input(w, devs, pl);
	emit_graphics(w, devs, pl);
	emit_audio(w, devs, pl);
	emit_video(w, devs, pl);
	emit_hostdevs(w, devs, pl);
	if (pl->tpm) {
		xmlNodePtr b;

		n = el(w, devs, "tpm", NULL);
		attr(w, n, "model", "tpm-crb");
		b = el(w, n, "backend", NULL);
		attr(w, b, "type", "emulator");
		attr(w, b, "version", "2.0");
	}
	if (pl->lg_mib) {
		xmlNodePtr m;

		n = el(w, devs, "shmem", NULL);
		attr(w, n, "name", "looking-glass");
		m = el(w, n, "model", NULL);
		attr(w, m, "type", "ivshmem-plain");
		m = elu(w, n, "size", pl->lg_mib);
		attr(w, m, "unit", "M");
	}
	n = el(w, devs, "memballoon", NULL);
	/* a balloon cannot take back memory VFIO has pinned */
	attr(w, n, "model", pl->mode == VFK_GPU_MODE_PASSTHROUGH ? "none" : "virtio");
}

static void emit_metadata(struct xw *w, xmlNodePtr dom, const struct vfk_plan *pl)
{
	xmlNodePtr md = el(w, dom, "metadata", NULL), n;
	xmlNsPtr ns;

	n = el(w, md, "vm", NULL);
	if (!n)
		return;
	ns = xmlNewNs(n, X(VFK_XMLNS), X("vfiokit"));
	if (!ns) {
		w->oom = true;
		return;
	}
	xmlSetNs(n, ns);
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

/*
 * Intel GVT-d: x-igd-opregion=on has no libvirt element; a qemu:override
 * sets it on the hostdev's frontend (libvirt 8.2 and later).
 */
static void emit_igd_override(struct xw *w, xmlNodePtr dom, const struct vfk_plan *pl)
{
	xmlNsPtr ns;
	xmlNodePtr o, d, f, p;

	if (!pl->igd)
		return;
	ns = xmlNewNs(dom, X(QEMU_XMLNS), X("qemu"));
	o = ns ? xmlNewChild(dom, ns, X("override"), NULL) : NULL;
	d = o ? xmlNewChild(o, ns, X("device"), NULL) : NULL;
	f = d ? xmlNewChild(d, ns, X("frontend"), NULL) : NULL;
	p = f ? xmlNewChild(f, ns, X("property"), NULL) : NULL;
	if (!p) {
		w->oom = true;
		return;
	}
	attr(w, d, "alias", "ua-igd");
	attr(w, p, "name", "x-igd-opregion");
	attr(w, p, "type", "bool");
	attr(w, p, "value", "true");
}

int plan_emit_xml(const struct vfk_plan *pl, char **out)
{
	const struct vfk_profile *p = pl->prof;
	struct xw w = { 0 };
	xmlDocPtr doc;
	xmlNodePtr dom, n;
	xmlBufferPtr buf;
	xmlSaveCtxtPtr save;
	int r = 0;

	*out = NULL;
	doc = xmlNewDoc(X("1.0"));
	dom = doc ? xmlNewNode(NULL, X("domain")) : NULL;
	if (!dom) {
		xmlFreeDoc(doc);
		return neg_errno(ENOMEM);
	}
	xmlDocSetRootElement(doc, dom);
	attr(&w, dom, "type", pl->kvm ? "kvm" : "qemu");
	el(&w, dom, "name", p->name);
	if (p->description)
		el(&w, dom, "description", p->description);
	emit_metadata(&w, dom, pl);
	n = elu(&w, dom, "memory", pl->memory_mib);
	attr(&w, n, "unit", "MiB");
	n = elu(&w, dom, "currentMemory", pl->memory_mib);
	attr(&w, n, "unit", "MiB");
	if (pl->hugepage_kib) {
		xmlNodePtr mb = el(&w, dom, "memoryBacking", NULL), hp;

		hp = el(&w, mb, "hugepages", NULL);
		n = el(&w, hp, "page", NULL);
		attrf(&w, n, "size", "%lu", pl->hugepage_kib);
		attr(&w, n, "unit", "KiB");
	}
	n = elu(&w, dom, "vcpu", pl->pin.nvcpus);
	attr(&w, n, "placement", "static");
	if (pl->iothreads)
		elu(&w, dom, "iothreads", pl->iothreads);
	emit_cputune(&w, dom, pl);
	if (pl->memory_node >= 0) {
		xmlNodePtr nt = el(&w, dom, "numatune", NULL);

		n = el(&w, nt, "memory", NULL);
		attr(&w, n, "mode", "strict");
		attrf(&w, n, "nodeset", "%d", pl->memory_node);
	}
	emit_os(&w, dom, pl);
	emit_features(&w, dom, pl);
	emit_cpu(&w, dom, pl);
	emit_clock(&w, dom, pl);
	el(&w, dom, "on_poweroff", "destroy");
	el(&w, dom, "on_reboot", "restart");
	el(&w, dom, "on_crash", "destroy");
	n = el(&w, dom, "pm", NULL);
	attr(&w, el(&w, n, "suspend-to-mem", NULL), "enabled", "no");
	attr(&w, el(&w, n, "suspend-to-disk", NULL), "enabled", "no");
	emit_devices(&w, dom, pl);
	emit_igd_override(&w, dom, pl);

	buf = w.oom ? NULL : xmlBufferCreate();
	save = buf ? xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL) : NULL;
	if (!save || xmlSaveDoc(save, doc) < 0) {
		r = neg_errno(ENOMEM);
	}
	if (save)
		xmlSaveClose(save);
	if (r == 0) {
		const char *text = (const char *)xmlBufferContent(buf);
		size_t len = (size_t)xmlBufferLength(buf);

		/* a text file ends with a newline */
		*out = strdupf("%.*s%s", (int)len, text, len && text[len - 1] == '\n' ? "" : "\n");
		if (!*out)
			r = neg_errno(ENOMEM);
	}
	if (buf)
		xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return r;
}

int vfk_plan_to_libvirt_xml(const struct vfk_plan *pl, char **out)
{
	return pl && out ? plan_emit_xml(pl, out) : neg_errno(EINVAL);
}
