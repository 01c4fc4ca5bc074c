/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfiokit — inspect PCI devices and IOMMU groups, judge GPU passthrough
 * viability, and move devices to vfio-pci and back.
 *
 * Conventions (as in libkmod/libgpiod):
 *  - Every object hangs off a struct vfk_ctx that owns the root directory
 *    (the "sysroot"), the log function and the handles of the libraries used.
 *  - Functions that can fail return 0 or a positive count on success and a
 *    negative errno on failure (errno is set too).
 *  - Strings returned by getters belong to the object they came from and stay
 *    valid as long as that object does; never free them.
 *  - The library never prints (except through the log function) and never exits.
 */
#ifndef VFIOKIT_H
#define VFIOKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef VFK_API
#define VFK_API __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------- context */

struct vfk_ctx;

/*
 * Create a context rooted at @sysroot (NULL or "/" means the running host):
 * sysfs, procfs and devfs are read below @sysroot/sys, @sysroot/proc and
 * @sysroot/dev. Returns 0 or -ENOENT/-ENOTDIR when @sysroot is not a directory.
 */
VFK_API int vfk_ctx_new(const char *sysroot, struct vfk_ctx **out);
VFK_API struct vfk_ctx *vfk_ctx_ref(struct vfk_ctx *ctx);
/* Drops a reference; returns NULL. */
VFK_API struct vfk_ctx *vfk_ctx_unref(struct vfk_ctx *ctx);
/* The sysroot as given (normalised, no trailing slash; "/" for the host). */
VFK_API const char *vfk_ctx_get_sysroot(const struct vfk_ctx *ctx);

/* syslog(3) priorities. Default: LOG_ERR; the VFK_LOG environment variable
 * ("err", "warning", "info", "debug" or a number) overrides it. */
typedef void (*vfk_log_fn)(void *data, int priority, const char *file, int line,
			   const char *fn, const char *format, va_list args);
VFK_API void vfk_ctx_set_log_fn(struct vfk_ctx *ctx, vfk_log_fn fn, void *data);
VFK_API void vfk_ctx_set_log_priority(struct vfk_ctx *ctx, int priority);
VFK_API int vfk_ctx_get_log_priority(const struct vfk_ctx *ctx);

/* Library version, "MAJOR.MINOR.PATCH". */
VFK_API const char *vfk_version(void);

/* ------------------------------------------------------------ PCI address */

struct vfk_pci_addr {
	uint16_t domain;
	uint8_t bus;
	uint8_t dev;	/* 0..31 */
	uint8_t fn;	/* 0..7 */
};

/*
 * Parse "DDDD:BB:DD.F" or "BB:DD.F" (domain 0). Hex, case-insensitive.
 * Returns 0 or -EINVAL; nothing else is accepted (no paths, no spaces).
 */
VFK_API int vfk_pci_addr_parse(const char *s, struct vfk_pci_addr *out);
/* Format as "dddd:bb:dd.f" into @buf (at least 13 bytes). Returns @buf. */
VFK_API char *vfk_pci_addr_format(const struct vfk_pci_addr *a, char *buf, size_t size);

/* -------------------------------------------------------------- inventory */

struct vfk_host;	/* one snapshot of the host's PCI devices and IOMMU groups */
struct vfk_device;	/* one PCI function; owned by its vfk_host */
struct vfk_group;	/* one IOMMU group; owned by its vfk_host */
struct vfk_gpu;		/* one GPU and its passthrough verdict; owned by its vfk_host */

/*
 * Scan the host: every PCI function, its IOMMU group, and the GPU model.
 * Returns 0, or -ENOENT when there is no PCI bus under the sysroot, or
 * -EIO when libpci failed. Devices, groups and GPUs are valid while the
 * host is referenced.
 */
VFK_API int vfk_host_scan(struct vfk_ctx *ctx, struct vfk_host **out);
VFK_API struct vfk_host *vfk_host_ref(struct vfk_host *host);
VFK_API struct vfk_host *vfk_host_unref(struct vfk_host *host);
VFK_API struct vfk_ctx *vfk_host_get_ctx(const struct vfk_host *host);

/* IOMMU enabled = the kernel created IOMMU groups. */
VFK_API bool vfk_host_iommu_enabled(const struct vfk_host *host);

/* Devices sorted by address. */
VFK_API size_t vfk_host_device_count(const struct vfk_host *host);
VFK_API struct vfk_device *vfk_host_device(const struct vfk_host *host, size_t i);
/* Find by address string; returns 0, -EINVAL (malformed) or -ENODEV. */
VFK_API int vfk_host_find_device(const struct vfk_host *host, const char *address,
				 struct vfk_device **out);

/* Groups sorted by id. */
VFK_API size_t vfk_host_group_count(const struct vfk_host *host);
VFK_API struct vfk_group *vfk_host_group(const struct vfk_host *host, size_t i);
/* Returns 0 or -ENOENT. */
VFK_API int vfk_host_find_group(const struct vfk_host *host, int id, struct vfk_group **out);

/* GPUs (class 0300, 0302, 0380) sorted by address; SR-IOV VFs included. */
VFK_API size_t vfk_host_gpu_count(const struct vfk_host *host);
VFK_API struct vfk_gpu *vfk_host_gpu(const struct vfk_host *host, size_t i);

/* ----------------------------------------------------------------- device */

/* "0000:01:00.0" */
VFK_API const char *vfk_device_get_address(const struct vfk_device *dev);
VFK_API const struct vfk_pci_addr *vfk_device_get_addr(const struct vfk_device *dev);
/* 24-bit class code: base class, subclass, prog-if (0x030000 for VGA). */
VFK_API uint32_t vfk_device_get_class(const struct vfk_device *dev);
VFK_API uint16_t vfk_device_get_vendor_id(const struct vfk_device *dev);
VFK_API uint16_t vfk_device_get_device_id(const struct vfk_device *dev);
VFK_API uint16_t vfk_device_get_subsystem_vendor_id(const struct vfk_device *dev);
VFK_API uint16_t vfk_device_get_subsystem_device_id(const struct vfk_device *dev);
VFK_API uint8_t vfk_device_get_revision(const struct vfk_device *dev);
/* Names from pci.ids (libpci), then udev's hwdb; never NULL ("Device 1234"). */
VFK_API const char *vfk_device_get_vendor_name(const struct vfk_device *dev);
VFK_API const char *vfk_device_get_device_name(const struct vfk_device *dev);
/* Human class name ("VGA compatible controller"); never NULL. */
VFK_API const char *vfk_device_get_class_name(const struct vfk_device *dev);
/* Driver bound now, or NULL. */
VFK_API const char *vfk_device_get_driver(const struct vfk_device *dev);
/* driver_override contents, or NULL when unset or absent. */
VFK_API const char *vfk_device_get_driver_override(const struct vfk_device *dev);
/* IOMMU group id, or -1 when the device has none. */
VFK_API int vfk_device_get_iommu_group(const struct vfk_device *dev);
VFK_API bool vfk_device_is_boot_vga(const struct vfk_device *dev);
/* -1 when unknown */
VFK_API int vfk_device_get_numa_node(const struct vfk_device *dev);
/* "0-7,16-23" or NULL */
VFK_API const char *vfk_device_get_local_cpulist(const struct vfk_device *dev);
/* "flr bus" or NULL when the kernel does not say */
VFK_API const char *vfk_device_get_reset_method(const struct vfk_device *dev);
VFK_API bool vfk_device_has_reset(const struct vfk_device *dev);
/* "D0", "D3hot", ... or NULL */
VFK_API const char *vfk_device_get_power_state(const struct vfk_device *dev);
/* "16.0 GT/s PCIe" style strings from sysfs, or NULL; width 0 when unknown */
VFK_API const char *vfk_device_get_link_speed(const struct vfk_device *dev);
VFK_API const char *vfk_device_get_max_link_speed(const struct vfk_device *dev);
VFK_API unsigned int vfk_device_get_link_width(const struct vfk_device *dev);
VFK_API unsigned int vfk_device_get_max_link_width(const struct vfk_device *dev);
/* SR-IOV: totalvfs 0 when the device is not a PF */
VFK_API unsigned int vfk_device_get_sriov_totalvfs(const struct vfk_device *dev);
VFK_API unsigned int vfk_device_get_sriov_numvfs(const struct vfk_device *dev);
VFK_API bool vfk_device_is_vf(const struct vfk_device *dev);
/* The PF of a VF, or NULL */
VFK_API struct vfk_device *vfk_device_get_physfn(const struct vfk_device *dev);
/* Bridges (class 0604) and host bridges (0600) never block and are never passed through. */
VFK_API bool vfk_device_is_bridge(const struct vfk_device *dev);
VFK_API bool vfk_device_is_gpu(const struct vfk_device *dev);
/* The upstream bridge (parent in the PCI hierarchy) or NULL for root-bus devices. */
VFK_API struct vfk_device *vfk_device_get_parent(const struct vfk_device *dev);

enum vfk_acs {
	VFK_ACS_UNKNOWN = 0,	/* extended config space not readable (not root?) */
	VFK_ACS_NONE,		/* PCIe device without an ACS capability */
	VFK_ACS_DISABLED,	/* capability present, required controls not all on */
	VFK_ACS_ENABLED,	/* source validation, request/completion redirect, upstream forwarding on */
	VFK_ACS_NOT_PCIE,	/* conventional PCI: ACS does not apply */
};
VFK_API enum vfk_acs vfk_device_get_acs(const struct vfk_device *dev);
VFK_API const char *vfk_acs_to_string(enum vfk_acs acs);

/* ------------------------------------------------------------------ group */

VFK_API int vfk_group_get_id(const struct vfk_group *group);
VFK_API size_t vfk_group_device_count(const struct vfk_group *group);
VFK_API struct vfk_device *vfk_group_device(const struct vfk_group *group, size_t i);

/* -------------------------------------------------------------------- GPU */

VFK_API struct vfk_device *vfk_gpu_get_device(const struct vfk_gpu *gpu);
/* Every function in the GPU's slot except SR-IOV VFs, the GPU itself first. */
VFK_API size_t vfk_gpu_function_count(const struct vfk_gpu *gpu);
VFK_API struct vfk_device *vfk_gpu_function(const struct vfk_gpu *gpu, size_t i);
/* Endpoints sharing an IOMMU group with a GPU function that are not its functions. */
VFK_API size_t vfk_gpu_blocker_count(const struct vfk_gpu *gpu);
VFK_API struct vfk_device *vfk_gpu_blocker(const struct vfk_gpu *gpu, size_t i);
/*
 * Why the group is shared, in one line ("no ACS on 0000:00:1c.0", "ACS not
 * enabled on ...", "ACS unknown: extended config space of 0000:00:1c.0 not
 * readable (run as root)", "IOMMU disabled"), or NULL when isolated.
 */
VFK_API const char *vfk_gpu_get_reason(const struct vfk_gpu *gpu);
VFK_API bool vfk_gpu_is_isolated(const struct vfk_gpu *gpu);
VFK_API bool vfk_gpu_is_boot_vga(const struct vfk_gpu *gpu);
/* A framebuffer console or DRM driver is using the boot VGA device. */
VFK_API bool vfk_gpu_console_in_use(const struct vfk_gpu *gpu);
/* This is the host's only GPU (VFs of it not counted). */
VFK_API bool vfk_gpu_is_only_gpu(const struct vfk_gpu *gpu);


/* ---------------------------------------------------------------- binding */

/*
 * Every write the library makes to the host (sysfs attributes, journal,
 * persistence files) is first shown to the write hook, if one is set:
 * return 0 to let it happen, 1 to skip it (dry run), or a negative errno to
 * make it fail as if the kernel had refused (tests inject faults this way).
 * @path is the full path including the sysroot.
 */
typedef int (*vfk_write_hook)(void *data, const char *path, const char *value);
VFK_API void vfk_ctx_set_write_hook(struct vfk_ctx *ctx, vfk_write_hook hook, void *data);

/* Progress messages ("binding 0000:01:00.0 ..."), for tools that narrate. */
typedef void (*vfk_progress_fn)(void *data, const char *message);
VFK_API void vfk_ctx_set_progress_fn(struct vfk_ctx *ctx, vfk_progress_fn fn, void *data);

enum vfk_bind_flags {
	VFK_BIND_INCLUDE_SHARED = 1 << 0,	/* also take the blockers of a shared group */
	VFK_BIND_FORCE = 1 << 1,		/* override the host guards */
	VFK_BIND_SINGLE_GPU = 1 << 2,		/* release consoles/framebuffers first */
	VFK_BIND_DRY_RUN = 1 << 3,		/* report writes, change nothing */
};

struct vfk_bind;	/* one transaction: devices handed to vfio-pci together */

/* A transaction over @host's devices; @owner names who holds them ("vfio-bind",
 * a VM name). */
VFK_API int vfk_bind_new(struct vfk_host *host, const char *owner, unsigned int flags,
			 struct vfk_bind **out);
VFK_API void vfk_bind_free(struct vfk_bind *b);
/* Add a device, all functions of a GPU, or a whole group. Endpoints sharing
 * a group with an added device are pulled in at vfk_bind_prepare(). */
VFK_API int vfk_bind_add_device(struct vfk_bind *b, struct vfk_device *dev);
VFK_API int vfk_bind_add_gpu(struct vfk_bind *b, struct vfk_gpu *gpu);
VFK_API int vfk_bind_add_group(struct vfk_bind *b, struct vfk_group *group);
/* Per-step timeout (unbind write, wait for vfio-pci); default 10000 ms. */
VFK_API void vfk_bind_set_timeout(struct vfk_bind *b, unsigned int ms);
/*
 * Expand to whole groups and apply the guards. Returns 0, or -EBUSY (group
 * has endpoints not asked for), -EPERM (a host guard refused), -EEXIST
 * (conflict such as an mdev on the device); vfk_bind_get_error() says why in
 * one line.
 */
VFK_API int vfk_bind_prepare(struct vfk_bind *b);
/* Devices the transaction will move (after prepare). */
VFK_API size_t vfk_bind_device_count(const struct vfk_bind *b);
VFK_API struct vfk_device *vfk_bind_device(const struct vfk_bind *b, size_t i);
/* Warnings found by prepare (processes holding device nodes, vfio-pci.ids, ...). */
VFK_API size_t vfk_bind_warning_count(const struct vfk_bind *b);
VFK_API const char *vfk_bind_warning(const struct vfk_bind *b, size_t i);
/*
 * Journal, then move every device to vfio-pci. On any failure everything
 * already done is undone in reverse and the journal entries are dropped.
 * Returns 0 or a negative errno (-ETIMEDOUT for a step that did not finish).
 */
VFK_API int vfk_bind_commit(struct vfk_bind *b);
VFK_API const char *vfk_bind_get_error(const struct vfk_bind *b);

/* The journal of devices vfiokit holds (<sysroot>/run/vfiokit/journal). */
struct vfk_journal;
struct vfk_journal_entry {
	char address[16];
	char driver[64];	/* original driver, "" when it had none */
	char override[64];	/* original driver_override, "" when unset */
	char owner[64];
	long long since;	/* unix time */
	int state;		/* 0 pending (written before the change), 1 bound */
};
VFK_API int vfk_journal_load(struct vfk_ctx *ctx, struct vfk_journal **out);
VFK_API void vfk_journal_free(struct vfk_journal *j);
VFK_API size_t vfk_journal_count(const struct vfk_journal *j);
VFK_API const struct vfk_journal_entry *vfk_journal_get(const struct vfk_journal *j, size_t i);

/*
 * Put devices back on their original drivers from the journal; @addresses
 * NULL means every journalled device. Works after a crash or kill -9 of the
 * binder. Returns 0, -ENOENT if an address is not in the journal, or the
 * first error (the rest are still tried). @errbuf gets a one-line reason.
 */
VFK_API int vfk_restore(struct vfk_ctx *ctx, const char *const *addresses, size_t n,
			unsigned int flags, char *errbuf, size_t errsize);

/* Persistent binding at boot: <sysroot>/etc/vfiokit/vfio-bind.conf. */
VFK_API int vfk_persist_add(struct vfk_host *host, struct vfk_device *dev);
VFK_API int vfk_persist_remove(struct vfk_ctx *ctx, const char *address);
/* 1 when @address is persisted, 0 when not, negative errno on error. */
VFK_API int vfk_persist_contains(struct vfk_ctx *ctx, const char *address);
/* Fills *@list with malloc'ed addresses (free each and the array). */
VFK_API int vfk_persist_list(struct vfk_ctx *ctx, char ***list, size_t *n);

/* ----------------------------------------------------------- host checks */

enum vfk_check_status {
	VFK_CHECK_PASS = 0,
	VFK_CHECK_WARN,
	VFK_CHECK_FAIL,
};

/* One readiness check of the host, as vfio-check prints it. */
struct vfk_check {
	const char *id;		/* stable key: "cpu-virt", "kvm", "iommu", "cmdline", ... */
	const char *title;	/* "CPU virtualization (VT-x/AMD-V)" */
	enum vfk_check_status status;
	const char *detail;	/* what was found, one line */
	const char *fix;	/* exact fix when status != PASS, else NULL; may hold newlines */
};

struct vfk_checks;

/* Run every readiness check against the context's root. Returns 0 or -ENOMEM. */
VFK_API int vfk_checks_run(struct vfk_ctx *ctx, struct vfk_checks **out);
VFK_API void vfk_checks_free(struct vfk_checks *checks);
VFK_API size_t vfk_checks_count(const struct vfk_checks *checks);
VFK_API const struct vfk_check *vfk_checks_get(const struct vfk_checks *checks, size_t i);
/* Worst status over all checks. */
VFK_API enum vfk_check_status vfk_checks_worst(const struct vfk_checks *checks);
VFK_API const char *vfk_check_status_to_string(enum vfk_check_status s);

/* ------------------------------------------------ mediated devices, SR-IOV */
/* (vfio-mdev: owned by the vGPU/SR-IOV work; add declarations inside this section) */
/* ------------------------------------------------ end mediated devices, SR-IOV */

/* ------------------------------------------- topology, profiles, VM plans */
/* (vfio-vm plan/gen: owned by the plan work; add declarations inside this section) */
/* ------------------------------------------- end topology, profiles, VM plans */

#ifdef __cplusplus
}
#endif
#endif
