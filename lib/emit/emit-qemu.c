/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A plan as a QEMU argv array: the same VM as emit-xml.c describes, device
 * for device. Never a shell string: values inside QEMU's "key=value,..."
 * options have their commas doubled (QEMU's own escaping), and
 * vfk_argv_to_shell() quotes the array for display.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "emit/emit.h"

struct qw {
	struct strv argv;
	unsigned int chassis;	/* last pcie-root-port made */
	unsigned int port_slot;	/* pcie.0 slot of the first root ports */
	bool oom;
};

static void arg(struct qw *q, const char *s)
{
	if (strv_add(&q->argv, s) < 0)
		q->oom = true;
}

static void argf(struct qw *q, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void argf(struct qw *q, const char *f, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;

	va_start(ap, f);
	s = vstrdupf(f, ap);
	va_end(ap);
	if (s)
		arg(q, s);
	else
		q->oom = true;
}

/* An option value list under construction: "driver,key=value,..." */
static void opt_raw(struct sbuf *b, const char *s) { sbuf_add(b, s); }

/* ",key=value" with the value's commas doubled */
static void opt(struct sbuf *b, const char *key, const char *value)
{
	const char *p;

	sbuf_addf(b, "%s%s=", b->len ? "," : "", key);
	for (p = value; *p; p++) {
		sbuf_addn(b, p, 1);
		if (*p == ',')
			sbuf_addn(b, ",", 1);
	}
}

static void optf(struct sbuf *b, const char *key, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
static void optf(struct sbuf *b, const char *key, const char *f, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	opt(b, key, buf);
}

/* "-flag" followed by the built option list */
static void flag_opts(struct qw *q, const char *flag, struct sbuf *b)
{
	_cleanup_free_ char *s = sbuf_take(b);

	if (!s) {
		q->oom = true;
		return;
	}
	arg(q, flag);
	arg(q, s);
}

/*
 * A new pcie-root-port; returns its id number. Ports sit in pcie.0 slots 2
 * and up, eight functions to a slot as libvirt places them (slot 1 is the
 * video device's, 0x1b the sound card's, 0x1f the chipset's; slot 2 is an
 * Intel iGPU's when one is passed through, and the ports move to 3).
 */
static unsigned int root_port(struct qw *q)
{
	struct sbuf b = { 0 };
	unsigned int k = q->chassis++;

	opt_raw(&b, "pcie-root-port");
	optf(&b, "id", "rp%u", q->chassis);
	opt(&b, "bus", "pcie.0");
	optf(&b, "chassis", "%u", q->chassis);
	optf(&b, "port", "0x%x", 0x10 + k);
	optf(&b, "addr", "0x%x.%x", q->port_slot + k / 8, k % 8);
	if (k % 8 == 0)
		opt(&b, "multifunction", "on");
	flag_opts(q, "-device", &b);
	return q->chassis;
}

/* ------------------------------------------------------------ large VMs */

/* A size as QEMU's size properties take it: "64G", "40960M". */
static void size_opt(struct sbuf *b, unsigned long long bytes)
{
	if (bytes % (1ULL << 30) == 0)
		sbuf_addf(b, "%lluG", bytes >> 30);
	else
		sbuf_addf(b, "%lluM", bytes >> 20);
}

/* The guest's 64-bit PCI hole, where QEMU's default cannot hold the BARs. */
static void emit_pci_hole64(struct qw *q, const struct vfk_plan *pl)
{
	struct sbuf b = { 0 };

	if (!pl->large.hole64)
		return;
	sbuf_add(&b, "q35-pcihost.pci-hole64-size=");
	size_opt(&b, pl->large.hole64);
	flag_opts(q, "-global", &b);
}

/* The guest's physical address width, where QEMU's default does not reach. */
static void cpu_phys_bits(struct sbuf *b, const struct vfk_plan *pl)
{
	if (pl->large.host_phys_bits)
		opt(b, "host-phys-bits", "on");
	else if (pl->large.phys_bits)
		optf(b, "phys-bits", "%u", pl->large.phys_bits);
}

/* ------------------------------------------------------------ sections */

static void emit_machine(struct qw *q, const struct vfk_plan *pl)
{
	struct sbuf b = { 0 };

	opt_raw(&b, "q35");
	opt(&b, "accel", pl->kvm ? "kvm" : "tcg");
	opt(&b, "vmport", "off");
	opt(&b, "hpet", "off");
	if (pl->firmware == FW_UEFI_SECURE)
		opt(&b, "smm", "on");
	if (pl->hugepage_kib || pl->memory_node >= 0)
		opt(&b, "memory-backend", "mem0");
	flag_opts(q, "-machine", &b);
	emit_pci_hole64(q, pl);
}

static void emit_cpu(struct qw *q, const struct vfk_plan *pl)
{
	struct sbuf b = { 0 };

	if (pl->cpu_model == CPU_MAX) {
		opt_raw(&b, "max");
	} else if (pl->cpu_model == CPU_QEMU64) {
		opt_raw(&b, "qemu64");
	} else {
		opt_raw(&b, "host");
		opt(&b, "migratable", "off");
		opt(&b, "host-cache-info", "on");
		if (pl->topoext)
			opt(&b, "topoext", "on");
	}
	if (pl->hyperv) {
		opt(&b, "hv-relaxed", "on");
		opt(&b, "hv-vapic", "on");
		opt(&b, "hv-spinlocks", "0x1fff");
		opt(&b, "hv-vpindex", "on");
		opt(&b, "hv-synic", "on");
		opt(&b, "hv-stimer", "on");
		opt(&b, "hv-reset", "on");
		if (pl->prof->vendor_id)
			opt(&b, "hv-vendor-id", pl->prof->vendor_id);
		opt(&b, "hv-frequencies", "on");
		opt(&b, "hv-tlbflush", "on");
		opt(&b, "hv-ipi", "on");
		opt(&b, "hv-time", "on");
	}
	if (pl->kvm_hidden)
		opt(&b, "kvm", "off");
	cpu_phys_bits(&b, pl);
	flag_opts(q, "-cpu", &b);

	arg(q, "-smp");
	argf(q, "%u,sockets=%u,dies=%u,cores=%u,threads=%u", pl->pin.nvcpus, pl->pin.sockets,
	     pl->pin.dies, pl->pin.cores, pl->pin.threads);
}

static void emit_memory(struct qw *q, const struct vfk_plan *pl)
{
	struct sbuf b = { 0 };

	arg(q, "-m");
	argf(q, "%lluM", pl->memory_mib);
	if (pl->hugepage_kib) {
		opt_raw(&b, "memory-backend-file");
		opt(&b, "id", "mem0");
		optf(&b, "size", "%lluM", pl->memory_mib);
		opt(&b, "mem-path", pl->hugepage_path ? pl->hugepage_path : "");
		opt(&b, "prealloc", "on");
		if (pl->large.prealloc_threads)
			optf(&b, "prealloc-threads", "%u", pl->large.prealloc_threads);
	} else if (pl->memory_node >= 0) {
		opt_raw(&b, "memory-backend-ram");
		opt(&b, "id", "mem0");
		optf(&b, "size", "%lluM", pl->memory_mib);
	} else {
		return;
	}
	if (pl->memory_node >= 0) {
		optf(&b, "host-nodes", "%d", pl->memory_node);
		opt(&b, "policy", "bind");
	}
	flag_opts(q, "-object", &b);
}

static void emit_firmware(struct qw *q, const struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	struct sbuf b = { 0 };

	if (pl->fw_code) {
		if (pl->firmware == FW_UEFI_SECURE) {
			arg(q, "-global");
			arg(q, "driver=cfi.pflash01,property=secure,value=on");
		}
		opt(&b, "if", "pflash");
		opt(&b, "format", "raw");
		opt(&b, "unit", "0");
		opt(&b, "readonly", "on");
		opt(&b, "file", pl->fw_code);
		flag_opts(q, "-drive", &b);
		opt(&b, "if", "pflash");
		opt(&b, "format", "raw");
		opt(&b, "unit", "1");
		opt(&b, "file", pl->nvram);
		flag_opts(q, "-drive", &b);
	}
	if (p->kernel) {
		arg(q, "-kernel");
		arg(q, p->kernel);
		if (p->initrd) {
			arg(q, "-initrd");
			arg(q, p->initrd);
		}
		if (p->cmdline) {
			arg(q, "-append");
			arg(q, p->cmdline);
		}
	}
}

/* The host device of a vfio-pci: by address, and with the iommufd backend
 * through the VM's iommufd object (QEMU then opens the device's cdev; the
 * launcher passes both as descriptors instead, see launch.c). */
static void opt_vfio_host(struct sbuf *b, const struct vfk_plan *pl, const char *addr)
{
	opt(b, "host", addr);
	if (pl->vfio_backend == VFIO_IOMMUFD)
		opt(b, "iommufd", QEMU_IOMMUFD_ID);
}

/* Every function of GPU @g on its own root port (or 00:02 for GVT-d). */
static void emit_one_gpu(struct qw *q, const struct vfk_plan *pl, size_t g)
{
	const struct vfk_gpu *gpu = pl->gpus[g];
	size_t i, nf = vfk_gpu_function_count(gpu);
	bool igd = pl->igd && g == 0;
	unsigned int rp = igd ? 0 : root_port(q);
	struct sbuf b = { 0 };

	for (i = 0; i < nf; i++) {
		opt_raw(&b, "vfio-pci");
		opt_vfio_host(&b, pl, vfk_device_get_address(vfk_gpu_function(gpu, i)));
		if (g == 0)	/* the ids one-GPU VMs always had */
			optf(&b, "id", "hostdev%zu", i);
		else
			optf(&b, "id", "hostdev%zu-%zu", g, i);
		if (igd) {	/* where Intel's drivers look for it */
			opt(&b, "bus", "pcie.0");
			optf(&b, "addr", "0x2.%zx", i);
			if (i == 0)
				opt(&b, "x-igd-opregion", "on");
		} else {
			optf(&b, "bus", "rp%u", rp);
			optf(&b, "addr", "0x0.%zx", i);
		}
		if (i == 0 && nf > 1)
			opt(&b, "multifunction", "on");
		if (i == 0 && pl->clique[g] >= 0)
			optf(&b, "x-nv-gpudirect-clique", "%d", pl->clique[g]);
		if (g == 0 && i == 0 && pl->rom)
			opt(&b, "romfile", pl->rom);
		flag_opts(q, "-device", &b);
	}
}

static void emit_gpu(struct qw *q, const struct vfk_plan *pl)
{
	struct sbuf b = { 0 };
	unsigned int rp;
	size_t g;

	if (pl->vfio_backend == VFIO_IOMMUFD) {	/* one address space for every device */
		opt_raw(&b, "iommufd");
		opt(&b, "id", QEMU_IOMMUFD_ID);
		flag_opts(q, "-object", &b);
	}
	for (g = 0; g < pl->ngpus; g++)
		emit_one_gpu(q, pl, g);
	for (g = 0; g < pl->nfabric; g++) {
		rp = root_port(q);
		opt_raw(&b, "vfio-pci");
		opt_vfio_host(&b, pl, vfk_device_get_address(pl->fabric[g]));
		optf(&b, "id", "fabric%zu", g);
		optf(&b, "bus", "rp%u", rp);
		flag_opts(q, "-device", &b);
	}
	if (pl->mdev.vf) {
		rp = root_port(q);
		opt_raw(&b, "vfio-pci");
		opt_vfio_host(&b, pl, pl->mdev.vf);
		opt(&b, "id", "hostdev-vgpu");
		optf(&b, "bus", "rp%u", rp);
		flag_opts(q, "-device", &b);
	} else if (pl->mdev.uuid) {
		_cleanup_free_ char *rel = NULL, *path = NULL;

		if (asprintf(&rel, VFK_SYS_MDEV_DEVICES "/%s", pl->mdev.uuid) < 0) {
			rel = NULL;
			q->oom = true;
			return;
		}
		path = vfk_root_host_path(VFK_ROOT_SYS, rel);
		if (!path) {
			q->oom = true;
			return;
		}
		rp = root_port(q);
		opt_raw(&b, "vfio-pci");
		opt(&b, "sysfsdev", path);
		opt(&b, "id", "hostdev-mdev");
		opt(&b, "display", "off");
		optf(&b, "bus", "rp%u", rp);
		flag_opts(q, "-device", &b);
	}
}

/* The [hostdev] devices: each with its group, each slot on a root port of its own. */
static void emit_extra_pci(struct qw *q, const struct vfk_plan *pl)
{
	struct sbuf b = { 0 };
	unsigned int rp = 0;
	size_t i, k;

	for (i = 0; i < pl->nhostdevs; i++) {
		const struct plan_hostdev *x = &pl->hostdevs[i];

		for (k = 0; k < x->nfns; k++) {
			if (x->guest[k].fn == 0)
				rp = root_port(q);
			opt_raw(&b, "vfio-pci");
			opt_vfio_host(&b, pl, vfk_device_get_address(x->fns[k]));
			optf(&b, "id", "extra%zu-%zu", i, k);
			optf(&b, "bus", "rp%u", rp);
			optf(&b, "addr", "0x0.%x", x->guest[k].fn);
			if (x->guest[k].fn == 0 && k + 1 < x->nfns && x->guest[k + 1].fn)
				opt(&b, "multifunction", "on");
			if (x->fns[k] == x->dev && x->src->rom)
				opt(&b, "romfile", x->src->rom);
			flag_opts(q, "-device", &b);
		}
	}
}

/* The [usb] devices on the xHCI controller: by their ids, and by bus and port
 * as far as a section says where (a port stays when the device is replugged). */
static void emit_extra_usb(struct qw *q, const struct vfk_plan *pl)
{
	struct sbuf b = { 0 };
	size_t i;

	for (i = 0; i < pl->nusbs; i++) {
		const struct plan_usb *u = &pl->usbs[i];

		opt_raw(&b, "usb-host");
		optf(&b, "id", "usbhost%zu", i);
		opt(&b, "bus", "xhci.0");
		optf(&b, "vendorid", "0x%04x", u->dev.vendor);
		optf(&b, "productid", "0x%04x", u->dev.product);
		if (u->src->bus)
			optf(&b, "hostbus", "%u", u->dev.bus);
		if (u->src->port)
			opt(&b, "hostport", u->dev.port);
		flag_opts(q, "-device", &b);
	}
}

static void emit_disks(struct qw *q, const struct vfk_plan *pl)
{
	unsigned int sata = 0, rp;
	struct sbuf b = { 0 };
	size_t i;

	if (pl->scsi) {
		rp = root_port(q);
		opt_raw(&b, "virtio-scsi-pci");
		opt(&b, "id", "scsi0");
		optf(&b, "bus", "rp%u", rp);
		if (pl->iothreads)
			opt(&b, "iothread", "iothread1");
		flag_opts(q, "-device", &b);
	}
	for (i = 0; i < pl->ndisks; i++) {
		const struct plan_disk *d = &pl->disks[i];
		const struct prof_disk *s = d->src;
		bool direct = s->cache == CACHE_NONE || s->cache == CACHE_DIRECTSYNC;
		char id[32];

		snprintf(id, sizeof(id), "drive-%s", d->target);
		opt(&b, "file", s->path);
		opt(&b, "if", "none");
		opt(&b, "id", id);
		opt(&b, "format", d->format == FMT_QCOW2 ? "qcow2" : "raw");
		opt(&b, "cache", disk_cache_names[s->cache]);
		if (direct && !d->cdrom)
			opt(&b, "aio", "native");
		if (!d->cdrom)
			opt(&b, "discard", "unmap");
		if (d->readonly)
			opt(&b, "readonly", "on");
		if (d->cdrom)
			opt(&b, "media", "cdrom");
		flag_opts(q, "-drive", &b);

		switch (d->bus) {
		case BUS_VIRTIO:
			rp = root_port(q);
			opt_raw(&b, "virtio-blk-pci");
			opt(&b, "drive", id);
			opt(&b, "id", d->target);
			optf(&b, "bus", "rp%u", rp);
			if (pl->iothreads)
				opt(&b, "iothread", "iothread1");
			break;
		case BUS_SATA:
			opt_raw(&b, d->cdrom ? "ide-cd" : "ide-hd");
			opt(&b, "drive", id);
			opt(&b, "id", d->target);
			optf(&b, "bus", "ide.%u", sata++);
			break;
		case BUS_SCSI:
			opt_raw(&b, d->cdrom ? "scsi-cd" : "scsi-hd");
			opt(&b, "drive", id);
			opt(&b, "id", d->target);
			opt(&b, "bus", "scsi0.0");
			break;
		default:
			opt_raw(&b, "usb-storage");
			opt(&b, "drive", id);
			opt(&b, "id", d->target);
			opt(&b, "bus", "xhci.0");
		}
		if (!pl->prof->kernel)
			optf(&b, "bootindex", "%u", d->boot);
		flag_opts(q, "-device", &b);
	}
}

static void emit_nets(struct qw *q, const struct vfk_plan *pl)
{
	static const char *const nic[] = { "virtio-net-pci", "e1000e", "rtl8139" };
	struct sbuf b = { 0 };
	unsigned int rp;
	size_t i;

	for (i = 0; i < pl->nnets; i++) {
		const struct plan_net *n = &pl->nets[i];
		char id[32];

		snprintf(id, sizeof(id), "net%zu", i);
		if (n->bridge) {
			opt_raw(&b, "bridge");
			opt(&b, "id", id);
			opt(&b, "br", n->bridge);
		} else {
			opt_raw(&b, "user");
			opt(&b, "id", id);
		}
		flag_opts(q, "-netdev", &b);
		rp = root_port(q);
		opt_raw(&b, nic[n->src->model]);
		opt(&b, "netdev", id);
		opt(&b, "mac", n->mac);
		optf(&b, "bus", "rp%u", rp);
		flag_opts(q, "-device", &b);
	}
}

static void emit_display(struct qw *q, const struct vfk_plan *pl)
{
	const char *listen = pl->prof->listen ? pl->prof->listen : "127.0.0.1";
	struct sbuf b = { 0 };

	switch (pl->display) {
	case DISP_SPICE:
		if (pl->virgl) {
			opt(&b, "unix", "on");
			opt(&b, "addr", pl->spice_socket);
			opt(&b, "disable-ticketing", "on");
			opt(&b, "gl", "on");
			opt(&b, "rendernode", pl->render_node);
		} else {
			opt(&b, "addr", listen);
			opt(&b, "port", "5900");
			opt(&b, "disable-ticketing", "on");
		}
		flag_opts(q, "-spice", &b);
		break;
	case DISP_VNC:
		arg(q, "-vnc");
		argf(q, strchr(listen, ':') ? "[%s]:0,to=99" : "%s:0,to=99", listen);
		break;
	default:
		break;
	}
	if (pl->virgl && (pl->display == DISP_VNC || pl->display == DISP_NONE)) {
		opt_raw(&b, "egl-headless");
		opt(&b, "rendernode", pl->render_node);
		flag_opts(q, "-display", &b);
	} else if (pl->display == DISP_SDL) {
		opt_raw(&b, "sdl");
		if (pl->virgl)
			opt(&b, "gl", "on");
		flag_opts(q, "-display", &b);
	} else {
		arg(q, "-display");
		arg(q, "none");
	}
	switch (pl->video) {
	case VIDEO_VIRTIO:
		opt_raw(&b, pl->virgl ? "virtio-vga-gl" : "virtio-vga");
		opt(&b, "id", "video0");
		opt(&b, "bus", "pcie.0");
		opt(&b, "addr", "0x1");
		flag_opts(q, "-device", &b);
		break;
	case VIDEO_QXL:
		opt_raw(&b, "qxl-vga");
		opt(&b, "id", "video0");
		opt(&b, "ram_size_mb", "64");
		opt(&b, "vram_size_mb", "64");
		opt(&b, "vgamem_mb", "16");
		opt(&b, "bus", "pcie.0");
		opt(&b, "addr", "0x1");
		flag_opts(q, "-device", &b);
		break;
	default:
		break;
	}
}

static void emit_input(struct qw *q, const struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	struct sbuf b = { 0 };

	if (pl->tablet) {
		opt_raw(&b, "usb-tablet");
		opt(&b, "id", "input0");
		opt(&b, "bus", "xhci.0");
		flag_opts(q, "-device", &b);
	}
	if (p->keyboard) {
		opt_raw(&b, "input-linux");
		opt(&b, "id", "kbd0");
		opt(&b, "evdev", p->keyboard);
		opt(&b, "grab_all", "on");
		opt(&b, "repeat", "on");
		opt(&b, "grab-toggle", grab_toggle_names[p->grab_toggle]);
		flag_opts(q, "-object", &b);
	}
	if (p->mouse) {
		opt_raw(&b, "input-linux");
		opt(&b, "id", "mouse0");
		opt(&b, "evdev", p->mouse);
		flag_opts(q, "-object", &b);
	}
}

static void emit_audio(struct qw *q, const struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	struct sbuf b = { 0 };

	if (p->audio == AUDIO_NONE)
		return;
	opt_raw(&b, p->audio == AUDIO_SPICE ? "spice" : "pa");
	opt(&b, "id", "audio1");
	flag_opts(q, "-audiodev", &b);
	if (p->sound == SOUND_USB) {
		opt_raw(&b, "usb-audio");
		opt(&b, "audiodev", "audio1");
		opt(&b, "bus", "xhci.0");
		flag_opts(q, "-device", &b);
		return;
	}
	opt_raw(&b, p->sound == SOUND_ICH9 ? "ich9-intel-hda" : "intel-hda");
	opt(&b, "id", "sound0");
	opt(&b, "bus", "pcie.0");
	opt(&b, "addr", "0x1b");
	flag_opts(q, "-device", &b);
	opt_raw(&b, "hda-duplex");
	opt(&b, "audiodev", "audio1");
	opt(&b, "bus", "sound0.0");
	flag_opts(q, "-device", &b);
}

static void emit_misc(struct qw *q, const struct vfk_plan *pl)
{
	struct sbuf b = { 0 };
	unsigned int rp;

	if (pl->serial == SERIAL_STDIO) {
		arg(q, "-serial");
		arg(q, "mon:stdio");
	} else if (pl->serial == SERIAL_PTY) {
		arg(q, "-chardev");
		arg(q, "pty,id=charserial0");
		arg(q, "-serial");
		arg(q, "chardev:charserial0");
	}
	if (pl->tpm) {
		opt_raw(&b, "socket");
		opt(&b, "id", "chrtpm");
		opt(&b, "path", pl->tpm_socket);
		flag_opts(q, "-chardev", &b);
		arg(q, "-tpmdev");
		arg(q, "emulator,id=tpm0,chardev=chrtpm");
		arg(q, "-device");
		arg(q, "tpm-crb,tpmdev=tpm0");
	}
	if (pl->lg_mib) {
		opt_raw(&b, "memory-backend-file");
		opt(&b, "id", "looking-glass");
		opt(&b, "mem-path", pl->lg_path);
		optf(&b, "size", "%uM", pl->lg_mib);
		opt(&b, "share", "on");
		flag_opts(q, "-object", &b);
		rp = root_port(q);
		opt_raw(&b, "ivshmem-plain");
		opt(&b, "id", "shmem0");
		opt(&b, "memdev", "looking-glass");
		optf(&b, "bus", "rp%u", rp);
		flag_opts(q, "-device", &b);
	}
	if (!plan_binds_devices(pl)) {	/* no balloon takes back what VFIO pinned */
		rp = root_port(q);
		opt_raw(&b, "virtio-balloon-pci");
		opt(&b, "id", "balloon0");
		optf(&b, "bus", "rp%u", rp);
		flag_opts(q, "-device", &b);
	}
}

/*
 * QEMU's seccomp filter: no obsolete system calls, no set*uid, no changes to
 * scheduling or affinity (the launcher pins QEMU's threads from outside), no
 * fork or exec unless an SDL window may start helpers. A VM on a bridge runs
 * without it: qemu-bridge-helper is setuid, and the filter's no_new_privs
 * would keep it from making the tap (the plan says so).
 */
static void emit_sandbox(struct qw *q, const struct vfk_plan *pl)
{
	size_t i;

	for (i = 0; i < pl->nnets; i++)
		if (pl->nets[i].bridge)
			return;
	arg(q, "-sandbox");
	argf(q, "on,obsolete=deny,elevateprivileges=deny,spawn=%s,resourcecontrol=deny",
	     pl->display == DISP_SDL ? "allow" : "deny");
}

int plan_emit_qemu(const struct vfk_plan *pl, char ***out)
{
	struct qw q = { .port_slot = pl->igd ? 3 : 2 };
	struct sbuf b = { 0 };
	unsigned int rp, i;

	*out = NULL;
	arg(&q, pl->emulator);
	opt(&b, "guest", pl->prof->name);
	opt(&b, "debug-threads", "on");
	flag_opts(&q, "-name", &b);
	arg(&q, "-nodefaults");
	arg(&q, "-no-user-config");
	emit_sandbox(&q, pl);
	emit_machine(&q, pl);
	emit_cpu(&q, pl);
	emit_memory(&q, pl);
	for (i = 1; i <= pl->iothreads; i++) {
		arg(&q, "-object");
		argf(&q, "iothread,id=iothread%u", i);
	}
	arg(&q, "-rtc");
	arg(&q, pl->prof->os == OS_WINDOWS ? "base=localtime,driftfix=slew" : "base=utc,driftfix=slew");
	if (pl->kvm) {
		arg(&q, "-global");
		arg(&q, "kvm-pit.lost_tick_policy=delay");
	}
	emit_firmware(&q, pl);
	emit_gpu(&q, pl);
	emit_extra_pci(&q, pl);
	/* USB controller first: tablet, usb disks and audio hang off xhci.0 */
	rp = root_port(&q);
	opt_raw(&b, "qemu-xhci");
	opt(&b, "id", "xhci");
	opt(&b, "p2", "15");
	opt(&b, "p3", "15");
	optf(&b, "bus", "rp%u", rp);
	flag_opts(&q, "-device", &b);
	emit_extra_usb(&q, pl);
	emit_disks(&q, pl);
	emit_nets(&q, pl);
	emit_display(&q, pl);
	emit_input(&q, pl);
	emit_audio(&q, pl);
	emit_misc(&q, pl);
	arg(&q, "-msg");
	arg(&q, "timestamp=on");
	if (q.oom) {
		strv_free(&q.argv);
		return neg_errno(ENOMEM);
	}
	*out = q.argv.v;
	return 0;
}

void vfk_argv_free(char **argv)
{
	char **p;

	for (p = argv; p && *p; p++)
		free(*p);
	free(argv);
}

/* ------------------------------------------------------------ shell quoting */

static void shell_word(struct sbuf *b, const char *s)
{
	const char *p;
	bool plain = *s != '\0';

	for (p = s; *p && plain; p++)
		if (!isalnum((unsigned char)*p) && !strchr("%+,-./:=@_^", *p))
			plain = false;
	if (plain) {
		sbuf_add(b, s);
		return;
	}
	sbuf_add(b, "'");
	for (p = s; *p; p++) {
		if (*p == '\'')
			sbuf_add(b, "'\\''");
		else
			sbuf_addn(b, p, 1);
	}
	sbuf_add(b, "'");
}

int vfk_argv_to_shell(const char *const *argv, char **out)
{
	struct sbuf b = { 0 };
	size_t i;

	if (!argv || !out)
		return neg_errno(EINVAL);
	for (i = 0; argv[i]; i++) {
		if (i > 0)
			sbuf_add(&b, argv[i][0] == '-' ? " \\\n  " : " ");
		shell_word(&b, argv[i]);
	}
	sbuf_add(&b, "\n");
	*out = sbuf_take(&b);
	return *out ? 0 : neg_errno(ENOMEM);
}

int vfk_plan_to_qemu_argv(const struct vfk_plan *pl, char ***argv)
{
	return pl && argv ? plan_emit_qemu(pl, argv) : neg_errno(EINVAL);
}
