/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A plan (plan.c): the profile resolved against this host, every choice
 * made and explained; what the emitters and the launcher read.
 */
#ifndef VFK_PLAN_H
#define VFK_PLAN_H

#include "inventory/topo.h"
#include "inventory/usb.h"
#include "plan/pin.h"
#include "plan/profile.h"

enum plan_video { VIDEO_NONE, VIDEO_VIRTIO, VIDEO_QXL };

struct plan_disk {
	const struct prof_disk *src;
	bool block, cdrom, readonly;
	int format;		/* FMT_RAW or FMT_QCOW2 */
	int bus;		/* enum disk_bus (a cdrom moves off virtio) */
	char target[8];		/* "vda", "sdb" */
	unsigned int boot;	/* boot order, 1-based */
	unsigned long long create_mib;	/* plan-newdisk.c: made at up, this big; 0: it exists */
};

struct plan_net {
	const struct prof_net *src;
	char mac[18];
	const char *bridge;	/* QEMU's bridge for user/bridge/network types */
};

/* A PCI device of a [hostdev] section with every endpoint of its IOMMU group,
 * which go to the guest with it (plan-hostdev.c). */
struct plan_hostdev {
	const struct prof_hostdev *src;
	char *section;			/* "hostdev", "hostdev.nvme" */
	struct vfk_device *dev;		/* the device named */
	struct vfk_device **fns;	/* its group's endpoints, address order */
	struct vfk_pci_addr *guest;	/* where each sits in the guest */
	size_t nfns;
	char *verdict;			/* its group, what goes along, its driver now */
};

/* A USB device of a [usb] section, as found on the host (plan-usb.c). */
struct plan_usb {
	const struct prof_usb *src;
	char *section;			/* "usb", "usb.key" */
	struct usb_device dev;
};

/* A GPU the plan considered for passthrough (plan-gpu-choice.c). */
struct plan_candidate {
	struct vfk_gpu *gpu;
	size_t index;			/* host order: ties go to the first */
	bool eligible, chosen, vfio, integrated;
	struct strv reasons;		/* the facts that rank it, then why not */
};

struct vfk_plan {
	struct vfk_host *host;		/* referenced */
	struct vfk_ctx *ctx;
	const struct vfk_profile *prof;
	char *slug;			/* name made safe for file names */

	int mode;			/* enum vfk_gpu_mode */
	char *mode_reason;
	char *rejected[8];		/* per mode, NULL for the chosen one */

	struct vfk_gpu *gpu;		/* passthrough: the first of gpus[] */
	struct vfk_gpu **gpus;		/* every GPU given, in host address order */
	int *clique;			/* per GPU: its peer-to-peer clique, -1: none */
	size_t ngpus;
	struct vfk_device **fabric;	/* [gpu] fabric: the NVSwitches given too */
	size_t nfabric;
	bool several;			/* [gpu] count or a [gpu] device list */
	struct vfk_gpu **named;		/* what a [gpu] device list names */
	size_t nnamed;
	struct plan_candidate *cands;	/* ranked: the chosen ones first */
	size_t ncands;
	bool igd;			/* Intel GVT-d: guest 00:02.0, OpRegion */
	char *rom;
	struct {
		char *parent, *type, *type_name, *uuid;
		char *vf;		/* NVIDIA per-VF vGPU: the VF passed through */
		unsigned int available;
	} mdev;
	bool virgl;
	char *render_node;		/* host path of a dri/renderD* node */

	bool kvm;			/* false: TCG */
	int cpu_model;			/* enum prof_cpu, resolved (never AUTO) */
	bool topoext;
	const struct vfk_topo *topo;	/* the host's, borrowed */
	struct topo_pinning pin;
	char *host_cpus;		/* emulator + I/O threads, NULL when not pinned */
	unsigned int iothreads;

	unsigned long long memory_mib;
	int memory_node;		/* -1: no NUMA placement */
	unsigned long hugepage_kib;	/* 0: normal pages */
	char *hugepage_path;		/* hugetlbfs mount for QEMU */

	bool hyperv, kvm_hidden;
	int firmware;			/* enum prof_fw */
	char *fw_code, *fw_vars;	/* host paths; NULL for BIOS */
	char *nvram;			/* per-VM variable store (QEMU) */
	bool tpm;
	char *tpm_socket;

	unsigned int lg_mib;		/* Looking Glass ivshmem, 0: none */
	char *lg_path;
	int display;			/* enum prof_display, resolved (never AUTO) */
	int video;			/* enum plan_video */
	int serial;			/* resolved (never AUTO) */
	bool tablet;
	char *spice_socket;		/* QEMU: spice with GL listens on a socket */
	char *emulator;

	size_t ndisks, nnets;
	struct plan_disk *disks;
	char *disk_refusal;	/* why up refuses a disk: one it cannot make
				 * (plan-newdisk.c), installation media that
				 * is no CD image (plan-install.c) */
	/* plan-install.c: the virtio-win ISO Windows Setup needs, as a disk */
	struct prof_disk drivers;
	struct plan_net *nets;
	bool scsi;			/* a virtio-scsi controller is needed */

	struct plan_hostdev *hostdevs;	/* [hostdev] sections, profile order */
	size_t nhostdevs;
	unsigned int hostdev_ports;	/* guest root ports they take, after the GPUs' */
	struct plan_usb *usbs;		/* [usb] sections */
	size_t nusbs;

	struct {			/* plan-large.c: what a large VM needs */
		unsigned long long bar_bytes;	/* memory BARs of every function given */
		unsigned long long bar64_bytes;	/* of which 64-bit prefetchable */
		unsigned long long hole64;	/* guest 64-bit PCI hole, 0: QEMU's default */
		unsigned int phys_bits;		/* guest physical address bits, 0: default */
		bool host_phys_bits;		/* ... the host CPU's (host-passthrough, KVM) */
		unsigned int host_bits;		/* the host CPU's, 0: unknown */
		unsigned long long memlock;	/* RLIMIT_MEMLOCK for QEMU, 0: no VFIO device */
		unsigned long long hard_limit;	/* libvirt <memtune><hard_limit>, 0: none */
		unsigned int prealloc_threads;	/* 0: memory is not preallocated */
	} large;

	/* plan-vfio.c: how QEMU reaches the devices */
	int vfio_backend;		/* enum prof_vfio; VFIO_AUTO: no VFIO device */
	char *vfio_reason;
	int vfio_kernel;		/* the kernel offers iommufd: 1, 0, -ENOENT unknown */
	bool vfio_asked;		/* the emulator was asked (plan_vfio_settle) */
	bool vfio_noted;		/* the note on iommufd's memory accounting */
	/* plan-user.c: a normal user's devices come as descriptors from root's
	 * service (vfio-bind pass-fds) on iommufd, not through group nodes */
	bool user_via_fds;

	/* plan-user.c: in user mode, why vfk_vm_up() refuses (NULL: it does not) */
	char *user_refusal;

	struct strv notes;
};

/* The guest's PCI layout of what is passed through (plan.c): GPU @g's
 * function @fn, each GPU on a root port of its own (buses 1, 2, ...; Intel
 * GVT-d's iGPU at 00:02 instead), then each NVSwitch on its own. */
void plan_gpu_guest_addr(const struct vfk_plan *pl, size_t g, size_t fn, struct vfk_pci_addr *out);
unsigned int plan_fabric_bus(const struct vfk_plan *pl, size_t i);
/* Root ports those need, numbered 1..N; the [hostdev] devices' come last. */
unsigned int plan_root_ports(const struct vfk_plan *pl);
/* Does the plan bind host devices to vfio-pci (GPUs, NVSwitches, [hostdev])? */
bool plan_binds_devices(const struct vfk_plan *pl);

/* plan-user.c: what a normal user's VM (user mode) cannot have: host
 * devices, a bridge qemu-bridge-helper would refuse; notes for the rest. */
int plan_user(struct vfk_plan *pl);
/* plan-newdisk.c: a disk of the profile that does not exist: what up makes
 * (size, format), or why it cannot (no directory, no room). */
int plan_new_disk(struct vfk_plan *pl, struct plan_disk *d);
/* plan-install.c: the installation media a domain defined before [vm]
 * installed = yes may still hold: [disk.installer]'s image and the driver
 * ISOs plan_install_drivers() would attach. Up to @max paths into @out. */
size_t plan_install_media(const struct vfk_plan *pl, const char **out, size_t max);
/* plan-install.c: after the disks and NICs: Windows Setup's virtio drivers;
 * up refuses installation media that is no ISO 9660 or UDF image. */
int plan_install_drivers(struct vfk_plan *pl);
/* plan-user.c: after plan_large_vm(): a user's hard memlock limit against
 * what VFIO pins (a refusal naming the limits.d line when too small). */
int plan_user_memlock(struct vfk_plan *pl);

/* plan-vfio.c: the emulator's answer about iommufd (1 takes it, 0 not; @why
 * one line), from the launch layer that asked it: "auto" follows it, an
 * explicit "iommufd" it cannot take is -ENODEV with the reason. */
int plan_vfio_settle(struct vfk_plan *pl, int vmm, const char *why, char *errbuf,
		     size_t errsize);
/* "none", "group", "iommufd" */
const char *plan_vfio_name(int backend);

#endif
