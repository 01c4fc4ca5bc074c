/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest's devices in the plan: the display, the video device and the
 * tablet, Looking Glass shared memory, the TPM and the serial console, disks
 * and NICs.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "plan/plan-internal.h"

/* ------------------------------------------------------------ display */

unsigned int vfk_looking_glass_size_mib(unsigned int width, unsigned int height)
{
	uint64_t bytes = (uint64_t)width * height * 4 * 2 + (UINT64_C(10) << 20);
	uint64_t mib = (bytes + (1 << 20) - 1) >> 20;
	unsigned int p = 1;

	while (p < mib && p < (1u << 30))
		p <<= 1;
	return p;
}

int plan_display(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	char rel[300];

	/* the display (how a human sees the guest) */
	if (p->display != DISP_AUTO)
		pl->display = p->display;
	else if (pl->mode == VFK_GPU_MODE_NONE)
		pl->display = DISP_NONE;
	else if (pl->mode == VFK_GPU_MODE_PASSTHROUGH)
		pl->display = p->looking_glass ? DISP_SPICE : DISP_NONE;
	else
		pl->display = DISP_SPICE;
	/* the guest's emulated video device */
	switch (pl->mode) {
	case VFK_GPU_MODE_VIRTIO:
		pl->video = VIDEO_VIRTIO;
		break;
	case VFK_GPU_MODE_EMULATED:
		pl->video = VIDEO_QXL;
		break;
	case VFK_GPU_MODE_MDEV:
		pl->video = pl->display == DISP_NONE ? VIDEO_NONE
			    : p->os == OS_WINDOWS ? VIDEO_QXL : VIDEO_VIRTIO;
		break;
	default:
		pl->video = VIDEO_NONE;
	}
	pl->tablet = p->tablet == TRI_AUTO ? pl->display != DISP_NONE : p->tablet == TRI_YES;
	if (pl->virgl && pl->display == DISP_SPICE) {
		snprintf(rel, sizeof(rel), "vm/%s/spice.sock", pl->slug);
		pl->spice_socket = vfk_ctx_host_path(pl->ctx, VFK_ROOT_VM_RUN, rel);
		if (!pl->spice_socket)
			return neg_errno(ENOMEM);
	}
	if (pl->virgl && pl->display == DISP_VNC)
		strv_addf(&pl->notes, "virgl renders headless (egl-headless); VNC shows the result");
	return 0;
}

/* Looking Glass copies frames out of a GPU of the guest's own: passthrough or mdev. */
int plan_looking_glass(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;

	if (!p->looking_glass)
		return 0;
	if (pl->mode != VFK_GPU_MODE_PASSTHROUGH && pl->mode != VFK_GPU_MODE_MDEV) {
		strv_addf(&pl->notes, "looking-glass ignored: mode %s gives the guest no GPU "
			  "of its own", vfk_gpu_mode_to_string(pl->mode));
		return 0;
	}
	pl->lg_mib = vfk_looking_glass_size_mib(p->res[0], p->res[1]);
	pl->lg_path = vfk_root_host_path(VFK_ROOT_DEV, "shm/looking-glass");
	if (!pl->lg_path)
		return neg_errno(ENOMEM);
	strv_addf(&pl->notes, "Looking Glass: %u MiB of shared memory (ivshmem) for "
		  "%ux%u", pl->lg_mib, p->res[0], p->res[1]);
	return 0;
}

/* ------------------------------------------------------------ TPM and serial */

/* A TPM (swtpm) by default with Secure Boot, a serial console but for Windows. */
int plan_tpm_serial(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	char rel[300];

	pl->tpm = p->tpm == TRI_AUTO ? p->firmware == FW_UEFI_SECURE : p->tpm == TRI_YES;
	pl->serial = p->serial != SERIAL_AUTO ? p->serial
					      : (p->os == OS_WINDOWS ? SERIAL_NO : SERIAL_PTY);
	if (pl->tpm) {
		snprintf(rel, sizeof(rel), "vm/%s/swtpm.sock", pl->slug);
		pl->tpm_socket = vfk_ctx_host_path(pl->ctx, VFK_ROOT_VM_RUN, rel);
		if (!pl->tpm_socket)
			return neg_errno(ENOMEM);
	}
	return 0;
}

/* ------------------------------------------------------------ disks and NICs */

static const char *ext_of(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	return dot && (!slash || dot > slash) ? dot + 1 : "";
}

int plan_disks(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	unsigned int nvd = 0, nsd = 0;
	size_t i;

	pl->disks = calloc(p->ndisks ? p->ndisks : 1, sizeof(*pl->disks));
	if (!pl->disks)
		return neg_errno(ENOMEM);
	for (i = 0; i < p->ndisks; i++) {
		const struct prof_disk *s = &p->disks[i];
		struct plan_disk *d;
		struct stat st;
		int bus = s->bus;

		if (p->installed && streq(s->id, "installer")) {
			strv_addf(&pl->notes, "[vm] installed = yes: [disk.installer] %s is left out "
				  "(and Setup's driver ISO with it); the VM boots from its disk", s->path);
			continue;
		}
		d = &pl->disks[pl->ndisks++];

		d->src = s;
		d->cdrom = s->media == MEDIA_CDROM ||
			   (s->media == MEDIA_AUTO && !strcasecmp(ext_of(s->path), "iso"));
		if (d->cdrom && bus == BUS_VIRTIO)
			bus = BUS_SATA;
		d->readonly = d->cdrom || s->readonly;
		if (s->format != FMT_AUTO)
			d->format = s->format;
		else
			d->format = !strcasecmp(ext_of(s->path), "qcow2") ? FMT_QCOW2 : FMT_RAW;
		if (plan_host_file_exists(pl->ctx, s->path, &st))
			d->block = S_ISBLK(st.st_mode);
		if (bus == BUS_VIRTIO)
			snprintf(d->target, sizeof(d->target), "vd%c", 'a' + (nvd++ % 26));
		else
			snprintf(d->target, sizeof(d->target), "sd%c", 'a' + (nsd++ % 26));
		if (bus == BUS_SCSI)
			pl->scsi = true;
		d->boot = (unsigned int)pl->ndisks;
		d->bus = bus;
		if (!plan_host_file_exists(pl->ctx, s->path, &st)) {
			int r = plan_new_disk(pl, d);
			if (r < 0)
				return r;
		} else if (s->size_mib) {
			strv_addf(&pl->notes, "disk %s exists: size = is for a disk vfiokit makes; it "
				  "never resizes or overwrites one", s->path);
		}
	}
	return 0;
}

int plan_nets(struct vfk_plan *pl)
{
	static const struct prof_net default_net = { .id = (char *)"", .type = NET_USER,
						     .model = NIC_VIRTIO };
	const struct vfk_profile *p = pl->prof;
	size_t i, n = p->net_given ? p->nnets : 1;
	bool bridged = false;

	pl->nets = calloc(n ? n : 1, sizeof(*pl->nets));
	if (!pl->nets)
		return neg_errno(ENOMEM);
	for (i = 0; i < n; i++) {
		const struct prof_net *s = p->net_given ? &p->nets[i] : &default_net;
		struct plan_net *d;
		char key[256];
		uint64_t h;

		if (s->type == NET_NONE)
			continue;
		d = &pl->nets[pl->nnets];
		d->src = s;
		if (s->mac) {
			snprintf(d->mac, sizeof(d->mac), "%s", s->mac);
		} else {
			snprintf(key, sizeof(key), "vfiokit-mac:%s/%zu", p->name, pl->nnets);
			h = plan_fnv1a(key, UINT64_C(0xcbf29ce484222325));
			snprintf(d->mac, sizeof(d->mac), "52:54:00:%02x:%02x:%02x",
				 (unsigned int)(h >> 16) & 0xff, (unsigned int)(h >> 8) & 0xff,
				 (unsigned int)h & 0xff);
		}
		if (s->type == NET_BRIDGE) {
			d->bridge = s->bridge;
		} else if (s->type == NET_NETWORK) {
			d->bridge = s->bridge ? s->bridge : "virbr0";
			strv_addf(&pl->notes, "network %s: the QEMU command joins bridge %s "
				  "(libvirt networks exist only for libvirt; set bridge = to change)",
				  s->network ? s->network : "default", d->bridge);
		}
		if (d->bridge && !bridged)
			strv_addf(&pl->notes, "the QEMU command runs without -sandbox: joining bridge %s "
				  "takes qemu-bridge-helper, which is setuid, and the seccomp filter's "
				  "no_new_privs would stop it", d->bridge);
		bridged |= d->bridge != NULL;
		pl->nnets++;
	}
	return 0;
}
