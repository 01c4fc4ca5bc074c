/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private shapes of the VM work, shared by topo.c, profile.c, plan.c,
 * plan-json.c, emit-xml.c and emit-qemu.c: CPU sets, the host topology, the
 * parsed profile and the plan both emitters turn into a VM definition.
 */
#ifndef VFK_VM_H
#define VFK_VM_H

#include <stdarg.h>
#include <stdint.h>

#include "internal.h"

/* ------------------------------------------------------------ lists of strings */

struct strv {
	char **v;
	size_t n;
};
/* asprintf() that returns the string (NULL on ENOMEM). */
char *strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *vstrdupf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

int strv_add(struct strv *s, const char *str);
int strv_addf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *s);

/* A growing string (asprintf-style appends; on ENOMEM it stays failed). */
struct sbuf {
	char *s;
	size_t len, cap;
	bool failed;
};
void sbuf_add(struct sbuf *b, const char *str);
void sbuf_addn(struct sbuf *b, const char *str, size_t n);
void sbuf_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand out the string (NULL after a failed append); the buffer is reset. */
char *sbuf_take(struct sbuf *b);
void sbuf_free(struct sbuf *b);

/* ------------------------------------------------------------ CPU sets */

#define VFK_MAX_CPUS 4096
struct cpuset {
	uint64_t bits[VFK_MAX_CPUS / 64];
};
static inline void cpuset_zero(struct cpuset *s) { memset(s, 0, sizeof(*s)); }
static inline void cpuset_set(struct cpuset *s, unsigned int c)
{
	if (c < VFK_MAX_CPUS)
		s->bits[c / 64] |= UINT64_C(1) << (c % 64);
}
static inline bool cpuset_has(const struct cpuset *s, int c)
{
	return c >= 0 && c < VFK_MAX_CPUS && (s->bits[c / 64] >> (c % 64)) & 1;
}
unsigned int cpuset_count(const struct cpuset *s);
/* "0-3,8,10-11" -> set. 0 or -EINVAL (also for CPUs >= VFK_MAX_CPUS). */
int cpuset_parse(const char *list, struct cpuset *out);
/* The kernel's list format; "" for the empty set. Writes into @buf. */
char *cpuset_format(const struct cpuset *s, char *buf, size_t size);
bool cpuset_subset(const struct cpuset *a, const struct cpuset *b);

/* ------------------------------------------------------------ topology */

#define TOPO_MAX_THREADS 8

struct topo_core {
	int first;		/* lowest CPU of the core: its name in messages */
	unsigned int nthreads;
	int cpus[TOPO_MAX_THREADS];
	int node, l3, package;
};

struct vfk_topo {
	size_t ncpus;
	struct vfk_cpu_info *cpus;	/* online CPUs, sorted by id */
	size_t ncores;
	struct topo_core *cores;	/* sorted by first CPU */
	int nnodes;			/* NUMA nodes with CPUs or memory */
	char vendor[16];		/* "AuthenticAMD", "GenuineIntel" or "" */
};

struct topo_pin_request {
	const struct cpuset *local;	/* the GPU's local CPUs, NULL: no constraint */
	unsigned int vcpus;		/* 0: auto */
	unsigned int host_cores;	/* first cores left to the host */
	bool pin;			/* false: size only, no pinning */
};

struct topo_pinning {
	unsigned int nvcpus;
	int *vcpu_cpu;			/* nvcpus entries, -1 when not pinned */
	bool pinned;
	struct cpuset host;		/* emulator and I/O threads */
	struct cpuset guest;
	unsigned int sockets, dies, cores, threads;
	int node;			/* node of every pinned CPU, -1 when several/unknown */
	int l3;				/* L3 domain (first CPU) of every pinned CPU, -1: several */
	unsigned int l3_domains;	/* how many L3 domains the vCPUs span */
};

/* Choose host CPUs for the vCPUs (see topo.c); notes explain the choice. */
int topo_pin(const struct vfk_topo *t, const struct topo_pin_request *req,
	     struct topo_pinning *out, struct strv *notes);
void topo_pinning_free(struct topo_pinning *p);

/* ------------------------------------------------------------ profile */

enum prof_os { OS_LINUX, OS_WINDOWS, OS_OTHER };
enum prof_fw { FW_UEFI, FW_UEFI_SECURE, FW_BIOS };
enum prof_accel { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };
enum prof_huge { HUGE_AUTO, HUGE_NO, HUGE_2M, HUGE_1G };
enum prof_cpu { CPU_AUTO, CPU_HOST, CPU_MAX, CPU_QEMU64 };
enum prof_display { DISP_AUTO, DISP_NONE, DISP_SPICE, DISP_VNC, DISP_SDL };
enum prof_audio { AUDIO_NONE, AUDIO_SPICE, AUDIO_PULSEAUDIO };
enum prof_sound { SOUND_ICH9, SOUND_ICH6, SOUND_USB };
enum prof_serial { SERIAL_AUTO, SERIAL_NO, SERIAL_PTY, SERIAL_STDIO };
enum disk_bus { BUS_VIRTIO, BUS_SATA, BUS_SCSI, BUS_USB };
enum disk_fmt { FMT_AUTO, FMT_RAW, FMT_QCOW2 };
enum disk_media { MEDIA_AUTO, MEDIA_DISK, MEDIA_CDROM };
enum disk_cache { CACHE_NONE, CACHE_WRITEBACK, CACHE_WRITETHROUGH, CACHE_DIRECTSYNC, CACHE_UNSAFE };
enum net_type { NET_USER, NET_BRIDGE, NET_NETWORK, NET_NONE };
enum net_model { NIC_VIRTIO, NIC_E1000E, NIC_RTL8139 };
enum tri { TRI_AUTO = -1, TRI_NO = 0, TRI_YES = 1 };

struct prof_disk {
	char *id;		/* "" for [disk], "data" for [disk.data] */
	char *path;
	int format, bus, media, cache;	/* enum disk_fmt, disk_bus, disk_media, disk_cache */
	int readonly;		/* bool */
	int line;		/* of the section's first key */
};

struct prof_net {
	char *id;
	int type, model;	/* enum net_type, net_model */
	char *bridge, *network, *mac;
	int line;
};

struct prof_entry {
	char *section, *key, *value;
	int line;		/* 0: set with vfk_profile_set() */
};

struct vfk_profile {
	char *path;		/* as given, for messages */
	char *basedir;		/* absolute directory relative paths start from */
	size_t nentries;
	struct prof_entry *entries;

	/* [vm] */
	char *name, *description;
	unsigned long long memory_mib;
	unsigned int vcpus;	/* 0: auto */
	int os, firmware, tpm, accel, serial;
	char *emulator, *kernel, *initrd, *cmdline;
	/* [tuning] */
	int pinning, hugepages, hyperv, kvm_hidden, cpu_model;
	unsigned int host_cores, iothreads;
	char *vendor_id;
	/* [display] */
	int display, looking_glass;
	unsigned int res[2];
	char *listen;
	/* [input] */
	char *keyboard, *mouse;
	int grab_toggle, tablet;
	/* [audio] */
	int audio, sound;
	/* [gpu] */
	int mode;		/* enum vfk_gpu_mode */
	char *device, *mdev_type, *rom;
	int virgl;

	size_t ndisks, nnets;
	struct prof_disk *disks;
	struct prof_net *nets;
	bool net_given;		/* a [network] section exists (else: one user NIC) */
};

/* The line a key was set on, 0 when unset or set programmatically. */
int profile_line(const struct vfk_profile *p, const char *section, const char *key);

/* ------------------------------------------------------------ plan */

enum plan_video { VIDEO_NONE, VIDEO_VIRTIO, VIDEO_QXL };

struct plan_disk {
	const struct prof_disk *src;
	bool block, cdrom, readonly;
	int format;		/* FMT_RAW or FMT_QCOW2 */
	int bus;		/* enum disk_bus (a cdrom moves off virtio) */
	char target[8];		/* "vda", "sdb" */
	unsigned int boot;	/* boot order, 1-based */
};

struct plan_net {
	const struct prof_net *src;
	char mac[18];
	const char *bridge;	/* QEMU's bridge for user/bridge/network types */
};

struct vfk_plan {
	struct vfk_host *host;		/* referenced */
	struct vfk_ctx *ctx;
	const struct vfk_profile *prof;
	char *slug;			/* name made safe for file names */

	int mode;			/* enum vfk_gpu_mode */
	char *mode_reason;
	char *rejected[8];		/* per mode, NULL for the chosen one */

	struct vfk_gpu *gpu;		/* passthrough */
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
	struct plan_net *nets;
	bool scsi;			/* a virtio-scsi controller is needed */

	struct strv notes;
};

/* Render into a NUL-terminated malloc'ed string / NULL-terminated argv. */
int plan_emit_xml(const struct vfk_plan *plan, char **out);
int plan_emit_qemu(const struct vfk_plan *plan, char ***argv);
int plan_emit_json(const struct vfk_plan *plan, char **out);
/* Pin the threads of a running QEMU (@pid, QMP on @qmp_fd) as the plan says
 * (qemu-pin.c); 0 when the plan pins nothing. */
int qemu_pin_threads(struct vfk_ctx *ctx, const struct vfk_plan *pl, int qmp_fd, pid_t pid,
		     char *err, size_t errsize);
/* swtpm.c: start the TPM of VM @name when the plan has one (*@pid 0 when
 * not); stop it again. */
int swtpm_start(struct vfk_ctx *ctx, const struct vfk_plan *pl, const char *name, pid_t *pid,
		char *err, size_t errsize);
void swtpm_stop(struct vfk_ctx *ctx, pid_t pid);
/* Remove the socket directory of VM @name's TPM (its state is kept). */
void swtpm_forget(struct vfk_ctx *ctx, const char *name);
/* launch.c: @pid still runs (a zombie whose last thread has exited does not;
 * our own exited children are reaped). */
bool launch_pid_alive(struct vfk_ctx *ctx, int pid);

/* Names of enum values, for messages and emitters. */
extern const char *const prof_os_names[];
extern const char *const prof_fw_names[];
extern const char *const prof_display_names[];
extern const char *const prof_audio_names[];
extern const char *const prof_sound_names[];
extern const char *const disk_bus_names[];
extern const char *const disk_cache_names[];
extern const char *const net_type_names[];
extern const char *const net_model_names[];
extern const char *const grab_toggle_names[];

#endif
