/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the parts of the plan share, private to lib/plan/: the steps that
 * each fill one part of struct vfk_plan (vfk_plan_new() in plan.c runs them
 * in order, and the order is the order of the plan's notes), and the few
 * host lookups more than one part needs (plan-host.c).
 */
#ifndef VFK_PLAN_INTERNAL_H
#define VFK_PLAN_INTERNAL_H

#include <stdint.h>
#include <sys/stat.h>

#include "plan/plan.h"

/* 64-bit FNV-1a; stable identifiers (UUIDs, MACs) from names. */
static inline uint64_t plan_fnv1a(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* plan-host.c: what the steps share; plan.c runs the steps */
/* One line into @errbuf (may be NULL). */
void plan_set_error(char *errbuf, size_t errsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A file below the sysroot, by its host path ("/usr/share/OVMF/..."). */
bool plan_host_file_exists(struct vfk_ctx *ctx, const char *path, struct stat *st);
/* Sorted names in a directory below @dirfd (no dot entries); 0 or -errno. */
int plan_list_dir(struct vfk_ctx *ctx, int dirfd, const char *rel, struct strv *out);
/* plan-newdisk.c: up refuses the plan for a disk, saying why in one line
 * (the first refusal is kept); 0 or -ENOMEM. */
int plan_refuse_disk(struct vfk_plan *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forget the mdev the plan had chosen. */
void plan_drop_mdev(struct vfk_plan *pl);
/* "ADDRESS Vendor Device" for lists in messages (malloc'ed; reads the names). */
char *plan_device_name(const struct vfk_device *d);
/* Does a selector that is no address match @d: vendor:device ids, else a
 * part of "Vendor Device" (case-insensitive)? */
bool plan_device_matches(const struct vfk_device *d, const char *sel);

/* plan-gpu.c: the GPU mode, and the ROM of a passed-through GPU */
int plan_choose_mode(struct vfk_plan *pl, char *errbuf, size_t errsize);
/* @d is one of @g's functions. */
bool plan_gpu_has_function(const struct vfk_gpu *g, const struct vfk_device *d);
/* One [gpu] device selector (an address, ids or a name fragment) to a GPU. */
int plan_select_gpu(const struct vfk_host *h, const char *sel, struct vfk_gpu **out,
		    char *errbuf, size_t errsize);

/* plan-gpu-set.c: several GPUs for one VM ([gpu] count, a [gpu] device list) */
bool plan_wants_several(const struct vfk_plan *pl);
/* The GPUs a [gpu] device list names; a selector that matches no GPU, or
 * one GPU twice, is an error in @errbuf. */
int plan_resolve_gpus(struct vfk_plan *pl, char *errbuf, size_t errsize);
/* Choose them: 0, or -ENODEV with *@why saying why they cannot be given. */
int plan_choose_gpus(struct vfk_plan *pl, char **why);
/* The single GPU chosen as a set of one; the NVSwitches ([gpu] fabric). */
int plan_gpus_finish(struct vfk_plan *pl, char *errbuf, size_t errsize);
void plan_gpus_free(struct vfk_plan *pl);
int plan_rom(struct vfk_plan *pl);

/* plan-gpu-choice.c: every GPU ranked for passthrough, with its reasons */
/* Why @g cannot be given away (named: only what no naming overcomes), or NULL. */
char *plan_gpu_obstacle(const struct vfk_gpu *g, bool named);
/* The same for a GPU that goes with the rest of its group ("together"). */
char *plan_gpu_set_obstacle(const struct vfk_gpu *g, bool named);
/* The GPUs [gpu] device names; sets: several GPUs are asked for. */
struct plan_named {
	struct vfk_gpu *const *gpus;
	size_t n;
	const char *text;	/* the profile's list, for reasons */
	bool sets;
};
int plan_rank_gpus(struct vfk_plan *pl, const struct plan_named *named);
/* The chosen candidate's GPU, or NULL when none can be given away. */
struct vfk_gpu *plan_ranked_first(const struct vfk_plan *pl);
void plan_candidates_unchoose(struct vfk_plan *pl);
void plan_candidates_free(struct vfk_plan *pl);
/* Notes for the GPU passed through: integrated graphics, a laptop's 3D controller. */
void plan_note_gpu_kind(struct vfk_plan *pl);

/* plan-tuning.c: KVM, vCPUs and their pinning, NUMA, huge pages, Hyper-V */
int plan_accel(struct vfk_plan *pl);
int plan_cpu(struct vfk_plan *pl);
int plan_hugepages(struct vfk_plan *pl);
int plan_features(struct vfk_plan *pl);

/* plan-firmware.c: OVMF and QEMU on the host */
int plan_firmware(struct vfk_plan *pl);
int plan_emulator(struct vfk_plan *pl);
int plan_bios_note(struct vfk_plan *pl);

/* plan-hostdev.c: the PCI devices of [hostdev] sections, whole IOMMU groups,
 * the host guards applied; their guest root ports after the GPUs' */
int plan_hostdevs(struct vfk_plan *pl, char *errbuf, size_t errsize);
void plan_hostdevs_free(struct vfk_plan *pl);

/* plan-usb.c: the USB devices of [usb] sections, found on the host now */
int plan_usbs(struct vfk_plan *pl, char *errbuf, size_t errsize);
void plan_usbs_free(struct vfk_plan *pl);

/* plan-large.c: the 64-bit PCI hole and physical address width the BARs
 * need, locked memory, preallocation threads (runs after the steps) */
int plan_large_vm(struct vfk_plan *pl, char *errbuf, size_t errsize);

/* plan-vfio.c: group or iommufd, as far as the kernel can tell */
int plan_vfio(struct vfk_plan *pl, char *errbuf, size_t errsize);

/* plan-devices.c: display, Looking Glass, TPM and serial, disks, NICs */
int plan_display(struct vfk_plan *pl);
int plan_looking_glass(struct vfk_plan *pl);
int plan_tpm_serial(struct vfk_plan *pl);
int plan_disks(struct vfk_plan *pl);
int plan_nets(struct vfk_plan *pl);

#endif
