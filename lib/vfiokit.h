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

/*
 * A context on another host, read through libvirt at @uri: a snapshot of its
 * PCI node devices (ids, class, IOMMU group, driver, NUMA node: from
 * virConnectListAllNodeDevices and their XML) and of its CPU topology (from
 * the capabilities' NUMA cells, else virNodeGetInfo) written to a private
 * tree below $TMPDIR, which is removed with the context. Plans made on it
 * name the remote devices; their libvirt XML has managed='yes' hostdevs, so
 * libvirt binds them to vfio-pci there and gives them back; vfk_vm_up() on it
 * binds nothing here and keeps the VM's record in @local (this host's
 * context, referenced). The snapshot has no config-space capabilities, boot
 * VGA, BARs, huge pages or mediated-device parents. Returns 0, -ECONNREFUSED
 * when @uri cannot be reached, -ELIBACC without libvirt or libxml2, -EIO when
 * the host's XML cannot be read, with one line in @err.
 */
VFK_API int vfk_ctx_new_remote(struct vfk_ctx *local, const char *uri, struct vfk_ctx **out,
			       char *err, size_t errsize);
/* The libvirt URI of a context made by vfk_ctx_new_remote(), else NULL. */
VFK_API const char *vfk_ctx_get_remote_uri(const struct vfk_ctx *ctx);
/* The context of this host a remote context was made from (it keeps the
 * VMs' records), else NULL. Not referenced for the caller. */
VFK_API struct vfk_ctx *vfk_ctx_get_local(const struct vfk_ctx *ctx);
/* Does libvirt @uri name the QEMU driver of this host (qemu:///..., also
 * over qemu+unix; NULL is qemu:///system)? Any other host or driver is not. */
VFK_API bool vfk_libvirt_uri_is_local(const char *uri);

/*
 * User mode: the VMs a context starts belong to the caller, not to the host.
 * A context is in user mode when it is made on the running host ("/") by a
 * process that is not root (geteuid() != 0), or when the environment says
 * VFK_USER_MODE=1 (=0: never; for tests on a fixture tree). Then the VM
 * records, QMP sockets and each VM's run directory go below
 * $XDG_RUNTIME_DIR/vfiokit, the UEFI variable stores, TPM states and kept
 * domain XML below $XDG_STATE_HOME/vfiokit (~/.local/state/vfiokit when
 * unset), both made 0700; libvirt defaults to qemu:///session; and
 * vfk_vm_up() refuses a VM that needs host devices (binding them needs
 * root). The bind journal stays the host's (root's run/vfiokit).
 */
enum vfk_vm_dir {
	VFK_VM_DIR_RUNTIME = 0,	/* records, sockets: /run/vfiokit or $XDG_RUNTIME_DIR/vfiokit */
	VFK_VM_DIR_STATE,	/* NVRAM, TPM, domains: /var/lib/vfiokit or $XDG_STATE_HOME/vfiokit */
};
/*
 * Switch user mode on or off. On: @runtime_dir and @state_dir are the base
 * directories ($XDG_RUNTIME_DIR and $XDG_STATE_HOME; NULL: from the
 * environment), vfiokit's own go below them. Returns 0, or a negative errno
 * when the runtime directory cannot be used (unset, not absolute, not a
 * directory of this user's): user mode is on all the same, every VM
 * directory is refused, and vfk_ctx_get_user_mode_error() says why and what
 * to do in one line.
 */
VFK_API int vfk_ctx_set_user_mode(struct vfk_ctx *ctx, bool on, const char *runtime_dir,
				  const char *state_dir);
VFK_API bool vfk_ctx_is_user_mode(const struct vfk_ctx *ctx);
/* Why user mode is on ("not root (uid 1000)", "VFK_USER_MODE=1", "asked for
 * by the caller"), NULL in system mode. Owned by @ctx. */
VFK_API const char *vfk_ctx_get_user_mode_reason(const struct vfk_ctx *ctx);
/* Why the user's directories cannot be used, one line, or NULL. */
VFK_API const char *vfk_ctx_get_user_mode_error(const struct vfk_ctx *ctx);
/* The directory @which of the VMs of @ctx, as a path on the running host
 * (with the sysroot in system mode); NULL when unusable. Owned by @ctx. */
VFK_API const char *vfk_ctx_get_vm_dir(struct vfk_ctx *ctx, enum vfk_vm_dir which);
/* The libvirt URI VMs of @ctx use unless told: qemu:///session in user mode,
 * qemu:///system otherwise. */
VFK_API const char *vfk_ctx_get_libvirt_uri(const struct vfk_ctx *ctx);
/* The uid whose VMs a user-mode context starts: geteuid(), or on a fixture
 * tree with VFK_USER_MODE=1 the number in VFK_USER_UID (tests); 0 in
 * system mode. A device root granted to this uid (vfio-bind --for-user) is
 * one its VMs may have. */
VFK_API unsigned int vfk_ctx_get_user_uid(const struct vfk_ctx *ctx);

/* A user of the host: the sysroot's etc/passwd, and on the running host NSS
 * as well (users of LDAP or systemd-homed). */
struct vfk_user {
	char name[65];
	unsigned int uid, gid;	/* gid: the login group */
};
/* By name (or a decimal uid): 0, -ENOENT when there is no such user, -EINVAL for a name no
 * user can have (empty, ':', blanks, control characters), or -errno of
 * etc/passwd. */
VFK_API int vfk_user_lookup(struct vfk_ctx *ctx, const char *name, struct vfk_user *out);
/* By uid: the same answers. */
VFK_API int vfk_user_by_uid(struct vfk_ctx *ctx, unsigned int uid, struct vfk_user *out);

/* syslog(3) priorities. Default: LOG_ERR; the VFK_LOG environment variable
 * ("err", "warning", "info", "debug" or a number) overrides it. */
typedef void (*vfk_log_fn)(void *data, int priority, const char *file, int line,
			   const char *fn, const char *format, va_list args);
VFK_API void vfk_ctx_set_log_fn(struct vfk_ctx *ctx, vfk_log_fn fn, void *data);
VFK_API void vfk_ctx_set_log_priority(struct vfk_ctx *ctx, int priority);
VFK_API int vfk_ctx_get_log_priority(const struct vfk_ctx *ctx);

/* Detail of the last failure a dependency reported (libpci's own message,
 * say) or why a configuration file was refused ("PATH:LINE: what"), or NULL.
 * Valid until the next call into the library. */
VFK_API const char *vfk_ctx_get_error(const struct vfk_ctx *ctx);

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
/* The GPU @dev is a function of (its display function, HDMI audio, USB-C
 * controller...; the first in address order where a slot holds two), or NULL. */
VFK_API struct vfk_gpu *vfk_device_get_gpu(const struct vfk_device *dev);
/* The upstream bridge (parent in the PCI hierarchy) or NULL for root-bus devices. */
VFK_API struct vfk_device *vfk_device_get_parent(const struct vfk_device *dev);
/*
 * The PCI root bus @dev hangs off, "pci0000:00": the first directory named
 * pciDDDD:BB of its sysfs path below devices/ (bus/pci/devices/ADDR links
 * there), as Kubernetes' DRA helper reads the standard attribute
 * resource.kubernetes.io/pcieRoot; NULL when the path has none. Read on the
 * first call and kept; owned by the host.
 */
VFK_API const char *vfk_device_get_pcie_root(const struct vfk_device *dev);
/*
 * The PCI hierarchy as a tree, from the parent links: the devices at the top
 * (on a root bus, or whose parent the scan did not find) and each device's
 * children, both in address order. Built by the scan; a parent link that
 * would close a loop is dropped, so every walk down ends.
 */
VFK_API size_t vfk_host_root_count(const struct vfk_host *host);
VFK_API struct vfk_device *vfk_host_root(const struct vfk_host *host, size_t i);
VFK_API size_t vfk_device_child_count(const struct vfk_device *dev);
VFK_API struct vfk_device *vfk_device_child(const struct vfk_device *dev, size_t i);
/*
 * Where a shared IOMMU group starts: for a bridge at the top of its group
 * (its parent in another group, or on a root bus) when the group holds
 * endpoints of more than one slot, why, in one phrase: the group's ports
 * that do not isolate what is below them ("downstream ports without ACS:
 * 0000:03:08.0, 0000:03:09.0", "root ports without ACS: ...", "ports with
 * ACS unknown: extended config space not readable (run as root): ..."); the
 * group is the bridge's own. NULL for any other device. Judged for the whole
 * host on the first call and kept; owned by the host.
 */
VFK_API const char *vfk_device_get_group_merge(const struct vfk_device *dev);

/* ---- VFIO drivers: vfio-pci and the vendors' variant drivers */
/*
 * Is @driver (a PCI driver or module name) a VFIO driver: "vfio-pci", or a
 * name ending in "vfio_pci" or "-vfio-pci"? The upstream variant drivers,
 * which replace plain vfio-pci for their devices: mlx5_vfio_pci (ConnectX
 * VFs), hisi_acc_vfio_pci (HiSilicon accelerators), pds_vfio_pci
 * (AMD/Pensando DSC), nvgrace_gpu_vfio_pci (Grace Hopper and Grace
 * Blackwell GPUs), virtio_vfio_pci (virtio-net VFs), qat_vfio_pci (Intel
 * QAT VFs), xe-vfio-pci (module xe_vfio_pci: Intel Xe SR-IOV VFs). A device
 * on any of them counts as on VFIO everywhere vfiokit asks. NULL is not.
 */
VFK_API bool vfk_driver_is_vfio(const char *driver);
/*
 * The VFIO driver vfio-bind (and a VM's bind) gives @dev to, chosen as
 * libvirt 10.0+ chooses it: the device's sysfs modalias prefixed with
 * "vfio_" looked up with libkmod in the running kernel's module tree (the
 * release in proc/sys/kernel/osrelease, lib/modules/REL or
 * usr/lib/modules/REL, below the sysroot); of the modules whose
 * "vfio_pci:..." alias (modules.alias) matches, the one whose pattern pins
 * the most of the fields v, d, sv, sd, bc, sc, i wins, ties going to the
 * module name first in byte order; else vfio-pci. @name gets the PCI driver
 * name driver_override takes ("vfio-pci", "mlx5_vfio_pci", "xe-vfio-pci");
 * @why (NULL: not wanted) one phrase: "modules.alias vfio_pci:v000015B3d...",
 * "no variant driver matches", "no module tree for REL", ... An NVIDIA vGPU
 * VF (vGPU 17+: on nvidia, with the per-VF vGPU files) gets "nvidia": that
 * driver is its VFIO driver, and a bind refuses to move it. Computed on the
 * first call for the host (one libkmod context and one read of
 * modules.alias, kept with it) and per device once: a listing that never
 * asks pays nothing. 64 and 320 bytes always suffice. 0, -ENOSPC (cut
 * short), -ENOMEM.
 */
VFK_API int vfk_device_vfio_driver(struct vfk_device *dev, char *name, size_t size, char *why,
				   size_t whysize);
/*
 * Has the host iommufd: is there a /dev/iommu below the sysroot (the
 * kernel's IOMMUFD, Linux 6.2+)? With it and a device's VFIO cdev (below), a
 * VMM opens the device as /dev/vfio/devices/vfioN and maps its DMA through
 * /dev/iommu, instead of through its group (/dev/vfio/N) and the container
 * /dev/vfio/vfio. Looked at on the first call and kept with the host: a
 * listing that never asks pays nothing.
 */
VFK_API bool vfk_host_has_iommufd(const struct vfk_host *host);
/*
 * The name of @dev's VFIO character device, "vfio3" (/dev/vfio/devices/vfio3):
 * the entry of its sysfs directory vfio-dev/, which the kernel makes while the
 * device is on a VFIO driver and has VFIO cdevs (CONFIG_VFIO_DEVICE_CDEV,
 * Linux 6.6+); NULL otherwise. Read on the first call and kept with the host
 * snapshot; owned by the host.
 */
VFK_API const char *vfk_device_get_vfio_cdev(const struct vfk_device *dev);
/*
 * Does the kernel give devices on VFIO drivers a cdev, the way into a device
 * through iommufd? A device already on a VFIO driver says (its vfio-dev/vfioN
 * has a dev attribute, or not); else the kernel's configuration in
 * boot/config-RELEASE below the sysroot (CONFIG_VFIO_DEVICE_CDEV=y). 1 yes,
 * 0 no, -ENOENT nothing says; one line in @why either way. -EINVAL for a
 * NULL argument.
 */
VFK_API int vfk_host_vfio_cdev_support(const struct vfk_host *host, char *why, size_t whysize);
/* ---- end VFIO drivers */

enum vfk_acs {
	VFK_ACS_UNKNOWN = 0,	/* extended config space not readable (not root?) */
	VFK_ACS_NONE,		/* PCIe device without an ACS capability */
	VFK_ACS_DISABLED,	/* capability present, required controls not all on */
	VFK_ACS_ENABLED,	/* source validation, request/completion redirect, upstream forwarding on */
	VFK_ACS_NOT_PCIE,	/* conventional PCI: ACS does not apply */
};
VFK_API enum vfk_acs vfk_device_get_acs(const struct vfk_device *dev);
VFK_API const char *vfk_acs_to_string(enum vfk_acs acs);
/* What @acs means for what is below a bridge, in a few words for people
 * ("ACS: isolates below", "no ACS", "ACS unknown (run as root)"). */
VFK_API const char *vfk_acs_describe(enum vfk_acs acs);

/* ---- reset between guests */
/*
 * Whether a device comes back clean when one guest is done with it, so the
 * next guest (or the host's own driver) can have it. From config space: the
 * PCIe DevCap FLR bit (or the AF capability's), the PM capability's
 * No_Soft_Reset; from sysfs: the kernel's reset_method (absent before Linux
 * 5.15) and power_state; from where it sits: the other devices on its bus;
 * and from a table of cards known not to reset (AMD Polaris, Vega, Navi 1x
 * to 4x: the "AMD reset bug"; NVIDIA GPUs without FLR). Judged on the first
 * call and kept with the host snapshot.
 */
enum vfk_reset_verdict {
	VFK_RESET_UNKNOWN = 0,	/* config space and reset_method say too little (not root?) */
	VFK_RESET_OK,		/* FLR, or another per-function reset that brings it back */
	VFK_RESET_BUS_ONLY,	/* no FLR: a bus reset of its port, its bus holding only
				 * its own functions (they go to one VM together) */
	VFK_RESET_UNRELIABLE,	/* a reset that may not happen or not work: its bus
				 * shared, on the root bus, once per boot */
	VFK_RESET_BROKEN,	/* no working reset, or it stopped answering: after a
				 * guest the host's driver cannot take it back */
};
/* What the table knows about the card. */
enum vfk_reset_quirk {
	VFK_RESET_QUIRK_NONE = 0,
	VFK_RESET_QUIRK_NO_RESET,	/* nothing resets it: it must not go back to its
					 * native driver after a guest used it */
	VFK_RESET_QUIRK_VENDOR_RESET,	/* resets only through the vendor-reset module */
	VFK_RESET_QUIRK_ONCE_PER_BOOT,	/* its reset works once per boot */
	VFK_RESET_QUIRK_NO_FLR,		/* an NVIDIA GPU without FLR: a bus reset, which
					 * works only when its bus holds nothing else */
};
VFK_API enum vfk_reset_verdict vfk_device_get_reset_verdict(const struct vfk_device *dev);
/* "unknown", "ok", "bus-reset-only", "unreliable", "broken". */
VFK_API const char *vfk_reset_verdict_to_string(enum vfk_reset_verdict verdict);
VFK_API enum vfk_reset_quirk vfk_device_get_reset_quirk(const struct vfk_device *dev);
/* "none", "no-reset", "vendor-reset", "once-per-boot", "no-flr". */
VFK_API const char *vfk_reset_quirk_to_string(enum vfk_reset_quirk quirk);
/* Why, in one sentence ("AMD Navi 21 does not reset (the AMD reset bug): ...",
 * "FLR (Function Level Reset)"); never NULL; owned by the host. */
VFK_API const char *vfk_device_get_reset_reason(const struct vfk_device *dev);
/* What to do about it (vendor-reset, keep it on vfio-pci until a reboot, a
 * slot of its own), or NULL when nothing; owned by the host. */
VFK_API const char *vfk_device_get_reset_advice(const struct vfk_device *dev);
/* Config space facts: 1 yes, 0 no, -1 not readable (only root reads past
 * the first 64 bytes). no_soft_reset -1 also when there is no PM capability. */
VFK_API int vfk_device_get_flr(const struct vfk_device *dev);
VFK_API int vfk_device_get_no_soft_reset(const struct vfk_device *dev);
/*
 * Must the device stay on its VFIO driver once a guest has had it: its card
 * does not reset (VFK_RESET_QUIRK_NO_RESET, _ONCE_PER_BOOT, _VENDOR_RESET
 * without vendor-reset's device_specific reset selected), or it stopped
 * answering config reads (its last reset failed). A function of such a GPU
 * (its HDMI audio) stays with it. vfk_restore() leaves these devices.
 */
VFK_API bool vfk_device_reset_keeps_on_vfio(const struct vfk_device *dev);
/* ---- end reset between guests */

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
/*
 * Built into the processor or chipset rather than a card with a PCIe link of
 * its own: on the root bus, a root-complex integrated endpoint, in a slot
 * with another vendor's functions (AMD APUs), conventional PCI behind a
 * PCIe-to-PCI bridge (BMC displays), or, when config space is unreadable, a
 * known AMD APU id.
 */
VFK_API bool vfk_gpu_is_integrated(const struct vfk_gpu *gpu);
/* Why, in one phrase: "integrated: a root-complex integrated endpoint",
 * "discrete: its own PCIe link from 0000:00:01.0". Never NULL. */
VFK_API const char *vfk_gpu_get_placement(const struct vfk_gpu *gpu);

/* What a GPU is for: a display GPU (VGA 0300, display controller 0380), or a
 * 3D controller (0302, no display outputs): a laptop's muxless dGPU when the
 * host is a laptop (vfk_host_is_laptop), else a compute GPU (datacenter). */
enum vfk_gpu_role {
	VFK_GPU_ROLE_DISPLAY = 0,
	VFK_GPU_ROLE_LAPTOP_DGPU,
	VFK_GPU_ROLE_COMPUTE,
};
VFK_API enum vfk_gpu_role vfk_gpu_get_role(const struct vfk_gpu *gpu);
/* "display", "laptop-dgpu", "compute". */
VFK_API const char *vfk_gpu_role_to_string(enum vfk_gpu_role role);
/* The DMI chassis type is a portable one (8 9 10 14 31 32), or, where DMI
 * does not say, a power supply of type Battery exists. Read on first use. */
VFK_API bool vfk_host_is_laptop(const struct vfk_host *host);
/* The upstream port of the PCIe switch the GPU sits behind, or its root
 * port (a switch on the card itself looked through); NULL on the root bus. */
VFK_API struct vfk_device *vfk_gpu_get_upstream(const struct vfk_gpu *gpu);

/*
 * The GPU's PCIe link to its slot: how it trained (current_link_speed and
 * _width) against what the card and the port above it can do (max_link_*
 * of both ends). The card's end is the GPU, or the upstream port of a switch
 * on the card (RX 6800, Intel Arc); the port is the one above that end, the
 * slot's. Judged on the first call and kept.
 */
enum vfk_link_verdict {
	VFK_LINK_UNKNOWN = 0,	/* no link of its own (integrated, a VF) or not reported */
	VFK_LINK_OK,		/* the most both ends do */
	VFK_LINK_IDLE,		/* full width, slower than both ends do, at 2.5 GT/s or
				 * in a low-power state: idle power saving, likely */
	VFK_LINK_SLOT_LIMITED,	/* the port does fewer lanes or a lower speed than the card */
	VFK_LINK_DEGRADED,	/* trained below what both ends do */
};
VFK_API enum vfk_link_verdict vfk_gpu_get_link_verdict(const struct vfk_gpu *gpu);
/* "unknown", "ok", "idle", "slot-limited", "degraded". */
VFK_API const char *vfk_link_verdict_to_string(enum vfk_link_verdict v);
/* Why, in one line ("the slot is x4 (electrically); the card is x16", "at
 * 2.5 GT/s now, 16.0 GT/s possible: may be idle power saving, check under
 * load", "trained at x8 although both ends do x16"); never NULL. */
VFK_API const char *vfk_gpu_get_link_reason(const struct vfk_gpu *gpu);
/* The card's end of the link and the slot's port; NULL without a link of its own. */
VFK_API struct vfk_device *vfk_gpu_get_link_device(const struct vfk_gpu *gpu);
VFK_API struct vfk_device *vfk_gpu_get_link_port(const struct vfk_gpu *gpu);
/* A link speed as sysfs writes it ("16.0 GT/s PCIe", "8 GT/s") in MT/s
 * (16000); 0 for NULL or anything else. */
VFK_API unsigned int vfk_link_speed_mts(const char *speed);

/*
 * The verdict on giving the GPU to a VM: isolated (its group is its own);
 * together (its group holds only other GPUs, their functions and bridges: they
 * can go to one VM together, vfk_gpu_together()); not isolated (other
 * endpoints share the group: the blockers); no group (IOMMU off).
 */
enum vfk_gpu_verdict {
	VFK_GPU_ISOLATED = 0,
	VFK_GPU_TOGETHER,
	VFK_GPU_SHARED,
	VFK_GPU_NO_GROUP,
};
VFK_API enum vfk_gpu_verdict vfk_gpu_get_verdict(const struct vfk_gpu *gpu);
/* "isolated", "together", "not-isolated", "no-group". */
VFK_API const char *vfk_gpu_verdict_to_string(enum vfk_gpu_verdict v);
/* The other GPUs of a "together" group, in address order (none otherwise). */
VFK_API size_t vfk_gpu_together_count(const struct vfk_gpu *gpu);
VFK_API struct vfk_gpu *vfk_gpu_together(const struct vfk_gpu *gpu, size_t i);
/* The host driver that must release the GPU before a VM can have it (any
 * driver but a VFIO driver, vfk_driver_is_vfio(), and pci-stub), or NULL. */
VFK_API const char *vfk_gpu_get_host_driver(const struct vfk_gpu *gpu);
/* Processes holding the GPU's device nodes (nvidia*, dri/cardN, renderDN):
 * the driver cannot let go before they do. /proc is read once per host, on
 * first use; another user's processes are not visible without root. Names
 * belong to the host. */
VFK_API size_t vfk_gpu_holder_count(const struct vfk_gpu *gpu);
VFK_API int vfk_gpu_holder_pid(const struct vfk_gpu *gpu, size_t i);
VFK_API const char *vfk_gpu_holder_name(const struct vfk_gpu *gpu, size_t i);

/* ----------------------------------------------------------------- fabric */

/* Devices of a GPU complex that are not GPUs but carry the GPUs' links to
 * each other: NVSwitches (NVIDIA, class 0680). In address order. */
VFK_API size_t vfk_host_fabric_count(const struct vfk_host *host);
VFK_API struct vfk_device *vfk_host_fabric_device(const struct vfk_host *host, size_t i);
/* "NVSwitch" for a fabric device, NULL for any other. */
VFK_API const char *vfk_device_get_fabric_role(const struct vfk_device *dev);

/* ------------------------------------------------------------------ slots */

struct vfk_slot;	/* a physical slot of the board; owned by its vfk_host */

/*
 * The board's slots: SMBIOS type 9 "System Slots" entries (the designation
 * printed on the board, width, in use, the bus/device/function of what sits
 * in it on SMBIOS 2.6+), then the kernel's PCI slots (bus/pci/slots/NAME:
 * hotplug and ACPI slots) that no SMBIOS entry names, at most 256 in all.
 * Each is matched to the root or downstream port it hangs from: the port
 * named, or the one whose secondary bus is the slot's bus. An entry that
 * cannot be read (truncated, a length past its end, another type) is left
 * out and counted in vfk_host_slot_note(). Read on the first call and kept
 * with the host; a host whose firmware lists no slot has none.
 */
VFK_API size_t vfk_host_slot_count(const struct vfk_host *host);
VFK_API struct vfk_slot *vfk_host_slot(const struct vfk_host *host, size_t i);
/* What reading the slot table left out and why, in one line ("2 SMBIOS
 * slot entries unreadable: 9-3: length 40 past the end of its 20 bytes"), or
 * NULL when nothing was. Owned by the host. */
VFK_API const char *vfk_host_slot_note(const struct vfk_host *host);

/* Where a slot's name comes from: the firmware's table, the kernel's PCI
 * slots, or neither (VFK_SLOT_SOURCE_PORT: a port named by its address, the
 * places slot advice speaks of on a board without a slot table). */
enum vfk_slot_source {
	VFK_SLOT_SOURCE_SMBIOS = 0,
	VFK_SLOT_SOURCE_PCI,
	VFK_SLOT_SOURCE_PORT,
};
/* "smbios", "pci", "port". */
VFK_API const char *vfk_slot_source_to_string(enum vfk_slot_source s);
VFK_API enum vfk_slot_source vfk_slot_get_source(const struct vfk_slot *slot);
/* The designation ("PCIE1", "SLOT6 PCI-E 4.0 X16"), the kernel's slot name
 * or the port's address; firmware text with control characters and bad
 * UTF-8 replaced by '?', at most 64 bytes. Never NULL; owned by the host. */
VFK_API const char *vfk_slot_get_name(const struct vfk_slot *slot);
/* The kernel's PCI slot name of the same slot (bus/pci/slots/NAME), or NULL. */
VFK_API const char *vfk_slot_get_hotplug_name(const struct vfk_slot *slot);
/* What kind of slot the firmware says it is. */
enum vfk_slot_kind {
	VFK_SLOT_KIND_UNKNOWN = 0,	/* not said (a kernel PCI slot, a port) */
	VFK_SLOT_KIND_PCIE,		/* a PCI Express card slot (or U.2 bay) */
	VFK_SLOT_KIND_M2,		/* an M.2 socket: no place for a graphics card */
	VFK_SLOT_KIND_PCI,		/* conventional PCI, PCI-X, AGP */
	VFK_SLOT_KIND_OTHER,
};
VFK_API enum vfk_slot_kind vfk_slot_get_kind(const struct vfk_slot *slot);
/* "unknown", "pcie", "m2", "pci", "other". */
VFK_API const char *vfk_slot_kind_to_string(enum vfk_slot_kind kind);
/* Lanes (16 for x16): the port's maximum link width where the port is known
 * and reports one, else the firmware's data bus width; 0 when unknown. */
VFK_API unsigned int vfk_slot_get_width(const struct vfk_slot *slot);
/* PCIe generation (4 for 16 GT/s): the port's maximum link speed where
 * known, else the firmware's slot type (SMBIOS 3.4's slot information
 * first); 0 when unknown. */
VFK_API unsigned int vfk_slot_get_generation(const struct vfk_slot *slot);
/* A device sits in it: one was found below its port (or at its address);
 * where no port matches, the firmware's current usage says. */
VFK_API bool vfk_slot_in_use(const struct vfk_slot *slot);
/* The root or downstream port the slot hangs from, or NULL (no match, or a
 * slot on a root bus). */
VFK_API struct vfk_device *vfk_slot_get_port(const struct vfk_slot *slot);
/* The function in the slot (its function 0, or the one the firmware
 * names), or NULL when empty or unknown. */
VFK_API struct vfk_device *vfk_slot_get_device(const struct vfk_slot *slot);
/* Why the slot matches no port ("bus 0x42 is below no port and holds no
 * device", "no bus number: SMBIOS before 2.6"), or NULL when it does. */
VFK_API const char *vfk_slot_get_note(const struct vfk_slot *slot);
/*
 * The physical slot @dev sits in, or the card it belongs to (a function
 * below a switch on the card, an HDMI audio function): the name of the slot
 * whose port is the nearest above it, NULL when no slot is known there.
 * Owned by the host.
 */
VFK_API const char *vfk_device_get_slot(const struct vfk_device *dev);

/* How a slot is wired to the processor: a root port of the CPU, the
 * chipset (an Intel PCH's root ports, AMD's chipset switch), or another
 * PCIe switch on the board. */
enum vfk_slot_attach {
	VFK_SLOT_ATTACH_UNKNOWN = 0,
	VFK_SLOT_ATTACH_CPU,
	VFK_SLOT_ATTACH_CHIPSET,
	VFK_SLOT_ATTACH_SWITCH,
};
VFK_API enum vfk_slot_attach vfk_slot_get_attach(const struct vfk_slot *slot);
/* "unknown", "CPU", "chipset", "switch". */
VFK_API const char *vfk_slot_attach_to_string(enum vfk_slot_attach attach);
/*
 * Would a card in the slot get an IOMMU group of its own? By ACS: its port
 * and every port above have ACS enabled (upstream switch ports need none),
 * so the kernel isolates what is below. Alone: not by ACS, but the group
 * a card would join (its port's) holds no endpoint outside the slot on this
 * host. Shared: it holds others. Unknown: no port, or no groups.
 */
enum vfk_slot_isolation {
	VFK_SLOT_ISOLATION_UNKNOWN = 0,
	VFK_SLOT_ISOLATION_SHARED,
	VFK_SLOT_ISOLATION_ACS,
	VFK_SLOT_ISOLATION_ALONE,
};
VFK_API enum vfk_slot_isolation vfk_slot_get_isolation(const struct vfk_slot *slot);
/* "unknown", "shared", "acs", "alone". */
VFK_API const char *vfk_slot_isolation_to_string(enum vfk_slot_isolation iso);

/*
 * Slot advice for a GPU that is not isolated (verdict VFK_GPU_SHARED): the
 * places that would give it a group of its own, best first (CPU before
 * chipset, wider, newer, free before occupied). The slots of the board's
 * table; on a board without one, its root and downstream ports
 * (VFK_SLOT_SOURCE_PORT). None for any other verdict, an integrated GPU,
 * or a board where no place would do. Judged on the first call and kept.
 */
VFK_API size_t vfk_gpu_slot_advice_count(const struct vfk_gpu *gpu);
VFK_API struct vfk_slot *vfk_gpu_slot_advice(const struct vfk_gpu *gpu, size_t i);
/*
 * The advice in one line: "move the card from PCIE3 (chipset, x4 Gen3) to
 * PCIE1 (CPU, x16 Gen3, own group by ACS, occupied by 0000:01:00.0)"; or that
 * no slot of this board would do and what is left (another board, or the
 * ACS override patch and its risk); on a board without a slot table, that
 * it has none, in port addresses. NULL when the GPU needs none. Slot names
 * in it are the firmware's (vfk_slot_get_name()). Owned by the host.
 */
VFK_API const char *vfk_gpu_get_slot_advice(const struct vfk_gpu *gpu);


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

/*
 * The bound on one step that waits on the kernel or on another vfiokit
 * process: an unbind a VM still blocks, a probe, the vfiokit lock. Every
 * operation of the context uses it (restores and recovery, mdev and SR-IOV
 * changes, and binds unless vfk_bind_set_timeout() says otherwise); 0 means
 * the default, VFK_DEFAULT_TIMEOUT_MS.
 */
#define VFK_DEFAULT_TIMEOUT_MS 10000
VFK_API void vfk_ctx_set_timeout(struct vfk_ctx *ctx, unsigned int ms);
VFK_API unsigned int vfk_ctx_get_timeout(const struct vfk_ctx *ctx);

/* Progress messages ("binding 0000:01:00.0 ..."), for tools that narrate. */
typedef void (*vfk_progress_fn)(void *data, const char *message);
VFK_API void vfk_ctx_set_progress_fn(struct vfk_ctx *ctx, vfk_progress_fn fn, void *data);

enum vfk_bind_flags {
	VFK_BIND_INCLUDE_SHARED = 1 << 0,	/* also take the blockers of a shared group */
	VFK_BIND_FORCE = 1 << 1,		/* override the host guards */
	VFK_BIND_SINGLE_GPU = 1 << 2,		/* release consoles/framebuffers first */
	VFK_BIND_DRY_RUN = 1 << 3,		/* report writes, change nothing */
	/* vfk_restore(): give back even devices whose reset is broken
	 * (vfk_device_reset_keeps_on_vfio()) to their native drivers */
	VFK_RESTORE_FORCE_NATIVE = 1 << 4,
	/* with vfk_bind_set_user(): grant by descriptor (vfio-bind --via-fds).
	 * The journal records the grant, no node changes: root's descriptor
	 * service (vfk_fds_serve) hands the user's VM /dev/iommu and the
	 * devices' cdevs. Needs a kernel with iommufd and VFIO cdevs */
	VFK_BIND_GRANT_FDS = 1 << 5,
};

struct vfk_bind;	/* one transaction: devices handed to their VFIO drivers together */

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
/* Per-step timeout (unbind write, wait for the VFIO driver); default 10000 ms. */
VFK_API void vfk_bind_set_timeout(struct vfk_bind *b, unsigned int ms);
/* ---- the VFIO driver of a bind */
/*
 * Give every device of the transaction to VFIO driver @driver (a PCI driver
 * or module name: "vfio-pci", "mlx5_vfio_pci", "xe-vfio-pci") instead of the
 * one vfk_device_vfio_driver() chooses for each; NULL or "" goes back to
 * choosing. Returns 0, -EINVAL for a name that is no VFIO driver's
 * (vfk_driver_is_vfio()), -ENOENT when it is neither loaded nor a module of
 * the running kernel; vfk_bind_get_error() says why in one line. Whichever
 * it is, commit loads each distinct driver's module first (a dry run says
 * "would load"), writes the driver into driver_override and waits until the
 * device is on that driver; the journal records it.
 */
VFK_API int vfk_bind_set_vfio_driver(struct vfk_bind *b, const char *driver);
/*
 * Give each bound group's node (/dev/vfio/GROUP) to @user in the same
 * transaction (vfio-bind --for-user): owner @user->uid, mode 0600, so the
 * user's own QEMU opens it and nobody else. Its owner and mode as the kernel
 * made them are journalled first (vfk_journal_entry's grant fields) and put
 * back by every restore. A symlink or anything but a device node where the
 * node should be fails the commit (rolled back). 0 or -EINVAL.
 *
 * With VFK_BIND_GRANT_FDS the grant is by descriptor instead: journalled
 * (grant_fds), no node changes, nothing to put back. vfk_bind_prepare()
 * refuses it (-ENODEV, nothing changed) where the kernel cannot hand out
 * descriptors (no /dev/iommu, or no VFIO cdevs: vfk_host_vfio_cdev_support()),
 * and the flag without a user (-EINVAL).
 */
VFK_API int vfk_bind_set_user(struct vfk_bind *b, const struct vfk_user *user);
/* The VFIO driver device @i of the transaction goes to, and why (after
 * prepare; NULL out of range). Strings belong to the transaction. */
VFK_API const char *vfk_bind_device_vfio_driver(const struct vfk_bind *b, size_t i,
						const char **why);
/* ---- end the VFIO driver of a bind */
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
 * Journal, then move every device to its VFIO driver (vfk_device_vfio_driver(),
 * or the one vfk_bind_set_vfio_driver() named), each driver's module loaded
 * first; a device already on it is left there. On any failure everything
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
	/* the VFIO driver it was given to ("vfio-pci", "mlx5_vfio_pci"); a
	 * journal line without vfio= (written before variant drivers) means
	 * vfio-pci and loads as such */
	char vfio_driver[64];
	/* why vfk_restore() left it on its VFIO driver instead of giving it
	 * back: "no-reset" (its card does not reset), "reset-failed" (it
	 * stopped answering); "" when it did not. A bind takes such a device
	 * over, the native driver still recorded. */
	char left[16];
	/* vfio-bind --for-user: the user (grant_uid, grant_gid) the group's
	 * node /dev/vfio/GROUP was given to, and its owner and mode before
	 * (node_*), put back by every restore; false when not granted */
	bool granted;
	unsigned int grant_uid, grant_gid;
	int group;	/* the node's group, when granted */
	unsigned int node_uid, node_gid, node_mode;
	/* granted by descriptor (vfio-bind --via-fds, VFK_BIND_GRANT_FDS): no
	 * node was changed, node_* unused, nothing to put back; root's
	 * descriptor service hands the user /dev/iommu and the group's cdevs */
	bool grant_fds;
};
/*
 * The journal, read strictly: a file that is not whole and consistent (a NUL
 * byte, a line cut short, a device listed twice, a bad field, a missing
 * header, in format v2 a missing or mismatching "# end entries=N crc32=X"
 * trailer) is refused with -EINVAL, vfk_ctx_get_error() saying "PATH: line N:
 * what", and nothing is taken from it. No journal is an empty one.
 */
/*
 * Root's descriptor service (vfio-bind pass-fds): answer one normal user's
 * vfio-vm on the connected local socket @conn. The asker is the uid the
 * kernel names (SO_PEERCRED); each device it asks for must be bound by
 * vfio-bind and granted to that uid in the journal (vfio-bind bind
 * --for-user NAME --via-fds); then /dev/iommu (its pinned memory charged to
 * the asker's QEMU, per process) and each device's VFIO cdev are opened here
 * and passed (SCM_RIGHTS), else one line says why. Waits at most 10 s for
 * the request. @who gets "uid U (pid P)" for the caller's log. Returns the
 * number of devices passed, or -errno with vfk_ctx_get_error() saying why
 * (-EPERM not granted, -EPROTO a bad request, -ETIMEDOUT none came).
 */
VFK_API int vfk_fds_serve(struct vfk_ctx *ctx, int conn, char *who, size_t whosize);
/* Where the service listens: <sysroot>/run/vfiokit-fds.sock (malloc'ed). */
VFK_API char *vfk_fds_socket_path(struct vfk_ctx *ctx);

VFK_API int vfk_journal_load(struct vfk_ctx *ctx, struct vfk_journal **out);
VFK_API void vfk_journal_free(struct vfk_journal *j);
VFK_API size_t vfk_journal_count(const struct vfk_journal *j);
VFK_API const struct vfk_journal_entry *vfk_journal_get(const struct vfk_journal *j, size_t i);

/*
 * Put devices back on their original drivers from the journal; @addresses
 * NULL means every journalled device. Works after a crash or kill -9 of the
 * binder. Returns 0, -ENOENT if an address is not in the journal, -EINVAL
 * with nothing written if the journal is refused (vfk_ctx_get_error() says
 * why; see vfk_restore_from_scan()), or the first error (the rest are still
 * tried). @errbuf gets a one-line reason.
 *
 * A device whose reset is broken (vfk_device_reset_keeps_on_vfio(): a card
 * of the AMD reset bug, or one that stopped answering) is not given back to
 * a native driver, which it would hang: it stays on its VFIO driver and in
 * the journal with left= set (not an error), and the progress function gets
 * one line: "left 0000:03:00.0 on vfio-pci: AMD Navi 21 does not reset;
 * reboot to give it back to amdgpu". VFK_RESTORE_FORCE_NATIVE gives it back
 * all the same.
 */
VFK_API int vfk_restore(struct vfk_ctx *ctx, const char *const *addresses, size_t n,
			unsigned int flags, char *errbuf, size_t errsize);

/*
 * Recovery when the journal cannot be trusted: every device a line of the
 * journal still names (its first token a PCI address, whatever follows) and
 * every one of @addresses that is on a VFIO driver (vfio-pci or a variant,
 * vfk_driver_is_vfio()) or has one in driver_override gets its override
 * cleared, is unbound from that driver and probed again, so it
 * lands on the driver its modalias selects (on the live host that module is
 * loaded first, through libkmod). A damaged journal is renamed
 * journal.damaged (or .damaged.N); the journal then holds only the devices
 * that could not be given back, and is removed when none are left. Honours
 * VFK_BIND_DRY_RUN. Returns 0 or the first error (the rest are still tried),
 * with a one-line reason in @errbuf; each device's outcome goes to the
 * progress function.
 */
VFK_API int vfk_restore_from_scan(struct vfk_ctx *ctx, const char *const *addresses, size_t n,
				  unsigned int flags, char *errbuf, size_t errsize);

/*
 * Persistent binding at boot: <sysroot>/etc/vfiokit/vfio-bind.conf. The file
 * is read strictly by every call: it must be a regular file (not a symlink,
 * FIFO or directory) whose every line parses, each [device ADDR] section with
 * exactly one "id = VVVV:DDDD" (hex), no unknown section or key, no NUL byte,
 * and no device given two different ids (the same device under two
 * spellings with one id is one entry). Otherwise the call fails with -EINVAL,
 * nothing is written, and vfk_ctx_get_error() says "PATH:LINE: what".
 */
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
/*
 * Add the checks of the GPU at @address (DDDD:BB:DD.F or BB:DD.F) after the
 * others (vfio-check --gpu ADDR), in this order: "gpu-group", its IOMMU
 * group (pass: isolated, or together with other GPUs only; warn: shared,
 * with the slot advice of vfk_gpu_get_slot_advice() as the fix; fail: no
 * group); "gpu-link", its PCIe link (vfk_gpu_get_link_verdict(); warn:
 * slot-limited or degraded); "gpu-reset", how it resets between guests
 * (vfk_device_get_reset_verdict()) and what to do about it. pass: ok or a
 * bus reset; warn: unknown, unreliable, or a card of the reset-bug table;
 * fail: it stopped answering (its last reset failed). Added again, they
 * replace the earlier ones. 0; -EINVAL (not a PCI address), -ENODEV (no GPU
 * there), -ENOMEM or the scan's error, with one line in @errbuf.
 */
VFK_API int vfk_checks_add_gpu(struct vfk_ctx *ctx, struct vfk_checks *checks,
			       const char *address, char *errbuf, size_t errsize);
/*
 * Add what stands between the calling process's user and a VM of their own
 * (vfio-check --user), after the host's checks: user-dirs (the user's VM
 * directories, vfk_ctx_set_user_mode()), user-kvm (/dev/kvm opened for
 * reading and writing; on a tree other than "/", its mode bits asked),
 * user-kvm-group (the kvm group of the sysroot's /etc/group against this
 * process's groups), user-libvirt (virtqemud or libvirtd below the sysroot;
 * the session sockets in $XDG_RUNTIME_DIR/libvirt), user-memlock (this
 * process's RLIMIT_MEMLOCK). Each with its fix. 0, -EINVAL, -ENOMEM.
 */
VFK_API int vfk_checks_add_user(struct vfk_ctx *ctx, struct vfk_checks *checks);
/* Worst status over all checks. */
VFK_API enum vfk_check_status vfk_checks_worst(const struct vfk_checks *checks);
VFK_API const char *vfk_check_status_to_string(enum vfk_check_status s);

/* ------------------------------------------------------ host preparation */

/*
 * What vfio-check --fix would change so that the checks pass: the kernel
 * parameters the cmdline check asks for, written where this host's boot
 * loader keeps them (GRUB's /etc/default/grub, /etc/kernel/cmdline and the
 * loader entries of systemd-boot, Pop!_OS kernelstub's configuration), and
 * for a GPU named by address (@opts->gpu) its ids for vfio-pci
 * (vfio-pci.ids=, modprobe.d options and softdeps) and vfio-pci in the
 * initramfs (initramfs-tools, dracut, mkinitcpio), huge pages when asked;
 * then the commands that
 * apply them (update-grub, grub2-mkconfig, grubby, kernelstub,
 * update-initramfs, dracut, mkinitcpio). Nothing is written here
 * (vfk_fix_apply() does). A host whose
 * boot loader is unknown, a value that needs a shell to edit, an immutable
 * or read-only root (OSTree), or unified kernel images under Secure Boot
 * (their command line is signed) is an error in @errbuf (one line), with
 * nothing changed. Returns 0 or -errno.
 */
struct vfk_fix;
struct vfk_fix_options {
	const char *gpu;		/* a GPU's address: to vfio-pci at boot; NULL: none */
	/* huge pages to reserve at boot, in MiB (0: none): 2 MiB pages through
	 * /etc/sysctl.d, or with @gigantic 1 GiB pages on the kernel command
	 * line (a whole number of GiB) */
	unsigned long long hugepages_mib;
	bool gigantic;
};
VFK_API int vfk_fix_new(struct vfk_ctx *ctx, const struct vfk_checks *checks,
			const struct vfk_fix_options *opts, struct vfk_fix **out, char *errbuf,
			size_t errsize);
VFK_API void vfk_fix_free(struct vfk_fix *fix);
/* "grub", "grub-bls", "systemd-boot", "kernelstub"; NULL when the command
 * line needs nothing. */
VFK_API const char *vfk_fix_get_loader(const struct vfk_fix *fix);
/* "update-initramfs", "dracut", "mkinitcpio", or NULL. */
VFK_API const char *vfk_fix_get_initramfs(const struct vfk_fix *fix);
/* The files that change: host path (malloc'ed), the text now (NULL: the
 * file is new) and after, and a unified diff of the two (malloc'ed). */
VFK_API size_t vfk_fix_file_count(const struct vfk_fix *fix);
VFK_API char *vfk_fix_file_path(const struct vfk_fix *fix, size_t i);
VFK_API const char *vfk_fix_file_old(const struct vfk_fix *fix, size_t i);
VFK_API const char *vfk_fix_file_new(const struct vfk_fix *fix, size_t i);
VFK_API char *vfk_fix_file_diff(const struct vfk_fix *fix, size_t i);
/* The commands that apply the files, in order: NULL-terminated argv. */
VFK_API size_t vfk_fix_command_count(const struct vfk_fix *fix);
VFK_API const char *const *vfk_fix_command(const struct vfk_fix *fix, size_t i);
/* What the fix cannot do, in lines. */
VFK_API size_t vfk_fix_note_count(const struct vfk_fix *fix);
VFK_API const char *vfk_fix_note(const struct vfk_fix *fix, size_t i);
/*
 * Write the files and run the commands (only on the running system: under a
 * sysroot they are named through the progress callback, not run). Each file
 * is first copied, before and after, to /var/lib/vfiokit/fix/ and recorded
 * in its journal, then replaced by rename with its mode kept. With no file
 * to change, nothing happens. On failure @errbuf says what and that
 * vfk_fix_revert() puts back what was changed. 0 or -errno.
 */
VFK_API int vfk_fix_apply(struct vfk_fix *fix, char *errbuf, size_t errsize);
/*
 * Put back everything the journal records, byte for byte with each file's
 * mode, remove the files a fix created, run the recorded commands again,
 * then drop the journal. A file changed since the fix wrote it, or a copy
 * that is not what was saved, refuses the whole revert before anything is
 * touched. @dry_run: check and name the files through the progress
 * callback only. -ENOENT when there is nothing to revert; 0 or -errno.
 */
VFK_API int vfk_fix_revert(struct vfk_ctx *ctx, bool dry_run, char *errbuf, size_t errsize);

/* ------------------------------------------------ mediated devices, SR-IOV */
/* (vfio-mdev: owned by the vGPU/SR-IOV work; add declarations inside this section) */

/*
 * Mediated devices (vGPUs) behind one model, whichever interface the host has:
 *
 *  VFK_MDEV_CLASSIC     the kernel's mdev framework. Parents are listed in
 *                       /sys/class/mdev_bus; each offers types in
 *                       mdev_supported_types/<id> (name, description,
 *                       available_instances, device_api). An instance is made by
 *                       writing a UUID to <id>/create and shows up as
 *                       /sys/bus/mdev/devices/<uuid> in an IOMMU group of its own;
 *                       writing 1 to its remove file ends it. A VM takes it as
 *                       vfio-pci,sysfsdev=<path> (libvirt: hostdev type='mdev').
 *  VFK_MDEV_NVIDIA_VF   NVIDIA vGPU 17+ on kernels 6.8+: no mdev. Every SR-IOV VF
 *                       of the GPU has nvidia/creatable_vgpu_types ("ID : NAME"
 *                       lines) and nvidia/current_vgpu_type (0 = free). The parent
 *                       is the PF; its types are the union over its free VFs and a
 *                       type's available_instances is the number of free VFs that
 *                       can take it now. An instance is a VF with a type set; its id
 *                       is the VF's address and a VM takes it as a PCI device
 *                       (vfio-pci,host=ADDR; libvirt hostdev type='pci' managed='no',
 *                       the VF stays on NVIDIA's VFIO driver).
 *
 * Type ids are the kernel's ("nvidia-558", "i915-GVTg_V5_4", "mtty-2"); the
 * per-VF interface's numeric ids are shown the same way ("nvidia-1414").
 * Wherever a type is asked for, the id, the name ("GRID T4-2Q", case
 * insensitive) or the id's part after the driver prefix ("558",
 * "GVTg_V5_4") is accepted.
 *
 * Persistence ("defined" instances) uses mdevctl's own format so the two tools
 * agree: one JSON file per instance, <sysroot>/etc/mdevctl.d/<parent>/<uuid>,
 * {"mdev_type": ID, "start": "auto"|"manual", "attrs": [{NAME: VALUE}, ...]}.
 * Per-VF vGPUs, which mdevctl does not know, use the same schema in
 * <sysroot>/etc/vfiokit/vgpu/<VF address>.
 *
 * Every change goes through the write hook; a removed file shows there with
 * the value VFK_WRITE_REMOVE.
 */
#define VFK_WRITE_REMOVE "(remove)"
/* Buffer size for an instance id: a UUID or a VF's PCI address. */
#define VFK_MDEV_ID_SIZE 40

enum vfk_mdev_kind {
	VFK_MDEV_CLASSIC = 0,
	VFK_MDEV_NVIDIA_VF = 1,
};
/* "mdev", "nvidia-vf" */
VFK_API const char *vfk_mdev_kind_to_string(enum vfk_mdev_kind kind);

struct vfk_mdevs;		/* one snapshot: parents, their types, instances */
struct vfk_mdev_parent;		/* owned by its vfk_mdevs */
struct vfk_mdev_type;		/* owned by its parent */
struct vfk_mdev_instance;	/* owned by its vfk_mdevs */

/*
 * Read every parent, type and instance (active in sysfs, or only defined) of
 * the context's host. A host without any is not an error: counts are 0.
 * Returns 0 or -ENOMEM. The snapshot does not follow later changes: scan
 * again after create/remove to see them.
 */
VFK_API int vfk_mdevs_scan(struct vfk_ctx *ctx, struct vfk_mdevs **out);
/*
 * Definition files are read strictly: a regular file (no symlink, FIFO or
 * directory) of complete JSON in the schema above, "mdev_type" a type id,
 * "start" "auto" or "manual", each attrs element one {NAME: VALUE} with NAME a
 * plain sysfs file name that is none of the mdev core's own (remove, uevent,
 * mdev_type, iommu_group, driver, subsystem, power) and VALUE printable ASCII
 * of 1 to 4095 characters; no unknown or repeated key; no attrs on a per-VF
 * vGPU. A file that is not so, and both files of a UUID defined on two
 * parents, are "broken": not among the instances, never acted on, listed
 * here with one line each, "PATH:LINE: what is wrong" (PATH with the sysroot).
 * Files not named by a UUID (per-VF: a PCI address) are no definitions and
 * are passed over, as mdevctl does.
 */
VFK_API size_t vfk_mdevs_broken_count(const struct vfk_mdevs *m);
/* The id (UUID or VF address) and parent (per-VF: the PF) the file is kept under. */
VFK_API const char *vfk_mdevs_broken_id(const struct vfk_mdevs *m, size_t i);
VFK_API const char *vfk_mdevs_broken_parent(const struct vfk_mdevs *m, size_t i);
VFK_API const char *vfk_mdevs_broken_error(const struct vfk_mdevs *m, size_t i);
VFK_API struct vfk_mdevs *vfk_mdevs_ref(struct vfk_mdevs *m);
VFK_API struct vfk_mdevs *vfk_mdevs_unref(struct vfk_mdevs *m);

/* Parents sorted by name. */
VFK_API size_t vfk_mdevs_parent_count(const struct vfk_mdevs *m);
VFK_API struct vfk_mdev_parent *vfk_mdevs_parent(const struct vfk_mdevs *m, size_t i);
/* By name; for the per-VF interface a VF's address finds its PF. 0 or -ENODEV. */
VFK_API int vfk_mdevs_find_parent(const struct vfk_mdevs *m, const char *name,
				  struct vfk_mdev_parent **out);
/* Instances sorted by parent, then id: active ones and defined ones. */
VFK_API size_t vfk_mdevs_instance_count(const struct vfk_mdevs *m);
VFK_API struct vfk_mdev_instance *vfk_mdevs_instance(const struct vfk_mdevs *m, size_t i);
/* By UUID (any case) or VF address. 0, -EINVAL (malformed) or -ENOENT. */
VFK_API int vfk_mdevs_find_instance(const struct vfk_mdevs *m, const char *id,
				    struct vfk_mdev_instance **out);
/*
 * A type by id, name or short id on @parent (NULL: any parent; the first
 * with a free instance wins, else the first). 0 or -ENOENT.
 */
VFK_API int vfk_mdevs_find_type(const struct vfk_mdevs *m, const char *parent, const char *type,
				struct vfk_mdev_type **out);

enum vfk_mdev_pick_flags {
	VFK_MDEV_PICK_DISPLAY = 1 << 0,	/* only types with a display (vfk_mdev_type_get_heads() > 0) */
};
/*
 * Mode "auto": the smallest type (by framebuffer) with a free instance whose
 * framebuffer is at least @min_fb_mb (0: any), on @parent or any parent. Ties
 * go to the type with more free instances, then to the lower parent/id.
 * Returns 0, -ENODEV (no mediated-device parent at all) or -ENOSPC (none free
 * that fits).
 */
VFK_API int vfk_mdevs_pick_type(const struct vfk_mdevs *m, const char *parent,
				unsigned int min_fb_mb, unsigned int flags,
				struct vfk_mdev_type **out);

/*
 * Does @name (a parent's name, a PF or a VF) offer types now? 0, or -ENODEV
 * with the reason in @errbuf: no such device, bound to another driver than
 * its vendor's (vfio-pci, none), the vendor driver without vGPU support,
 * SR-IOV VFs not enabled; -EINVAL for a malformed name.
 */
VFK_API int vfk_mdev_parent_check(struct vfk_ctx *ctx, const char *name, char *errbuf,
				  size_t errsize);

/* "0000:00:02.0", or a virtual device's name ("mtty"). */
VFK_API const char *vfk_mdev_parent_get_name(const struct vfk_mdev_parent *p);
VFK_API enum vfk_mdev_kind vfk_mdev_parent_get_kind(const struct vfk_mdev_parent *p);
/* Driver bound to the parent ("nvidia", "i915"), or NULL. */
VFK_API const char *vfk_mdev_parent_get_driver(const struct vfk_mdev_parent *p);
/* Types sorted by id (numbers in natural order). */
VFK_API size_t vfk_mdev_parent_type_count(const struct vfk_mdev_parent *p);
VFK_API struct vfk_mdev_type *vfk_mdev_parent_type(const struct vfk_mdev_parent *p, size_t i);
/* Per-VF interface: the PF's VFs that carry the vGPU files (0 for classic). */
VFK_API size_t vfk_mdev_parent_vf_count(const struct vfk_mdev_parent *p);

VFK_API struct vfk_mdev_parent *vfk_mdev_type_get_parent(const struct vfk_mdev_type *t);
/* "nvidia-231" */
VFK_API const char *vfk_mdev_type_get_id(const struct vfk_mdev_type *t);
/* "GRID T4-2Q"; the id when the kernel gives no name. Never NULL. */
VFK_API const char *vfk_mdev_type_get_name(const struct vfk_mdev_type *t);
/* As the driver wrote it (may hold newlines), or NULL. */
VFK_API const char *vfk_mdev_type_get_description(const struct vfk_mdev_type *t);
/* "vfio-pci" */
VFK_API const char *vfk_mdev_type_get_device_api(const struct vfk_mdev_type *t);
VFK_API unsigned int vfk_mdev_type_get_available(const struct vfk_mdev_type *t);
/* Instances of this type that exist now on the parent. */
VFK_API unsigned int vfk_mdev_type_get_instance_count(const struct vfk_mdev_type *t);
/*
 * Framebuffer in MiB, 0 when unknown: NVIDIA's "framebuffer=" (or the size in
 * the name, "-2Q" = 2048), GVT-g's low_gm_size + high_gm_size, "N MB" in
 * other descriptions.
 */
VFK_API unsigned int vfk_mdev_type_get_framebuffer_mb(const struct vfk_mdev_type *t);
/* Display heads: NVIDIA's num_heads, 1 for GVT-g and virtual displays, 0 when none. */
VFK_API unsigned int vfk_mdev_type_get_heads(const struct vfk_mdev_type *t);
/* NVIDIA's max_instance, else available + existing instances. */
VFK_API unsigned int vfk_mdev_type_get_max_instances(const struct vfk_mdev_type *t);
/* Per-VF interface: the VF vfk_mdev_create() on the PF would use for this type
 * (the first free VF that lists it, as scanned), or NULL (classic, none free). */
VFK_API const char *vfk_mdev_type_get_free_vf(const struct vfk_mdev_type *t);

/* UUID (lower case) or VF address. */
VFK_API const char *vfk_mdev_instance_get_id(const struct vfk_mdev_instance *i);
VFK_API enum vfk_mdev_kind vfk_mdev_instance_get_kind(const struct vfk_mdev_instance *i);
VFK_API const char *vfk_mdev_instance_get_parent(const struct vfk_mdev_instance *i);
VFK_API const char *vfk_mdev_instance_get_type_id(const struct vfk_mdev_instance *i);
/* The type's name, or its id when unknown. */
VFK_API const char *vfk_mdev_instance_get_type_name(const struct vfk_mdev_instance *i);
/* IOMMU group, -1 when not active. */
VFK_API int vfk_mdev_instance_get_iommu_group(const struct vfk_mdev_instance *i);
/* sysfs directory on the host itself, without the sysroot ("/sys/bus/mdev/
 * devices/<uuid>", for QEMU's sysfsdev=; a VF's "/sys/bus/pci/devices/ADDR"),
 * NULL when not active. */
VFK_API const char *vfk_mdev_instance_get_sysfs_path(const struct vfk_mdev_instance *i);
VFK_API bool vfk_mdev_instance_is_active(const struct vfk_mdev_instance *i);
/* A config file exists (mdevctl's or vfiokit's). */
VFK_API bool vfk_mdev_instance_is_defined(const struct vfk_mdev_instance *i);
/* Defined with "start": "auto": created again at boot. */
VFK_API bool vfk_mdev_instance_is_autostart(const struct vfk_mdev_instance *i);

enum vfk_mdev_flags {
	VFK_MDEV_DRY_RUN = 1 << 0,	/* report writes through the progress function, change nothing */
	VFK_MDEV_MANUAL = 1 << 1,	/* define: "start": "manual" (not created at boot) */
};

/*
 * Create an instance of @type on @parent, reading the live state (not a
 * snapshot). @uuid NULL makes a random one (libuuid); the per-VF interface
 * has no UUIDs and ignores it. For the per-VF interface @parent may be the PF
 * (the first free VF that can take the type is used) or one VF. The new id is
 * written to @id (VFK_MDEV_ID_SIZE bytes). Returns 0 or:
 *   -ENODEV  @parent offers no types (not a parent; not bound to its vendor
 *            driver; vGPU host driver or SR-IOV VFs missing): @errbuf says which
 *   -ENOENT  @parent has no such type
 *   -ENOSPC  the type has no free instance (available_instances 0)
 *   -EEXIST  an mdev with @uuid exists
 *   -EINVAL  malformed parent, type or UUID
 * or the kernel's error. @errbuf gets one line.
 */
VFK_API int vfk_mdev_create(struct vfk_ctx *ctx, const char *parent, const char *type,
			    const char *uuid, unsigned int flags, char *id, char *errbuf,
			    size_t errsize);
/* Remove an active instance (UUID or VF address); its definition stays.
 * 0, -ENOENT, -EINVAL, -ETIMEDOUT (still in use after 10 s) or the kernel's error. */
VFK_API int vfk_mdev_remove(struct vfk_ctx *ctx, const char *id, unsigned int flags,
			    char *errbuf, size_t errsize);
/*
 * Define an instance so it is created at boot (VFK_MDEV_MANUAL: only on
 * vfk_mdev_start()). With @parent and @type NULL, @id names an active
 * instance and its parent and type are recorded; otherwise @id is the UUID to
 * use (NULL: a new one) or, for the per-VF interface, @parent is the VF. An
 * existing definition of the same id is replaced, keeping its attrs. The id
 * is written to @id_out. 0, -ENOENT, -ENODEV, -EINVAL or a write error.
 */
VFK_API int vfk_mdev_define(struct vfk_ctx *ctx, const char *id, const char *parent,
			    const char *type, unsigned int flags, char *id_out, char *errbuf,
			    size_t errsize);
/* Drop the definition(s) of @id, broken ones too; an active instance stays.
 * 0 or -ENOENT. */
VFK_API int vfk_mdev_undefine(struct vfk_ctx *ctx, const char *id, unsigned int flags,
			      char *errbuf, size_t errsize);
/*
 * Create a defined instance now and write its attrs; one already active with
 * the same type is success. A broken definition of @id is -EBADMSG before
 * anything is created (@errbuf: "PATH:LINE: what"). When an attribute write
 * fails, the instance just created is removed again and @errbuf says so.
 * 0, -ENOENT (not defined), -EBADMSG, create's errors or the write's.
 */
VFK_API int vfk_mdev_start(struct vfk_ctx *ctx, const char *id, unsigned int flags,
			   char *errbuf, size_t errsize);
/*
 * Boot: start every autostart definition whose parent (@parent, or any when
 * NULL) is present. Broken definitions on @parent are reported, the good ones
 * started all the same. Returns the number started, or the first error
 * (-EBADMSG for a broken file); @errbuf then holds one line per failure,
 * separated by newlines.
 */
VFK_API int vfk_mdev_start_defined(struct vfk_ctx *ctx, const char *parent, unsigned int flags,
				   char *errbuf, size_t errsize);

/* SR-IOV: the VFs of a PF in the snapshot, in VF index order. */
VFK_API size_t vfk_device_vf_count(const struct vfk_device *pf);
VFK_API struct vfk_device *vfk_device_vf(const struct vfk_device *pf, size_t i);

enum vfk_sriov_flags {
	VFK_SRIOV_NO_AUTOPROBE = 1 << 0,	/* sriov_drivers_autoprobe=0 first: VFs come up unbound */
	VFK_SRIOV_FORCE = 1 << 1,		/* drop VFs vfiokit holds or that carry vGPUs/mdevs */
	VFK_SRIOV_DRY_RUN = 1 << 2,		/* report writes through the progress function */
	VFK_SRIOV_AUTOPROBE = 1 << 3,		/* sriov_drivers_autoprobe=1 first: VFs get drivers again */
};
/*
 * Set the number of enabled VFs of the PF @pf. A new non-zero count is
 * preceded by 0 when VFs are enabled (the kernel refuses a change between two
 * non-zero counts). Without VFK_SRIOV_NO_AUTOPROBE or VFK_SRIOV_AUTOPROBE (not
 * both: -EINVAL), sriov_drivers_autoprobe is left as it is. Returns 0 or -EINVAL (not an address), -ENODEV (no such
 * device), -EOPNOTSUPP (not an SR-IOV PF), -ERANGE (over sriov_totalvfs),
 * -ENOENT (no driver on the PF, or it cannot configure SR-IOV), -EBUSY (a VF
 * is held by vfiokit or carries a vGPU/mdev) or the kernel's error.
 */
VFK_API int vfk_sriov_set_numvfs(struct vfk_ctx *ctx, const char *pf, unsigned int numvfs,
				 unsigned int flags, char *errbuf, size_t errsize);
/* sriov_drivers_autoprobe of @pf: 1, 0, or a negative errno. */
VFK_API int vfk_sriov_get_drivers_autoprobe(struct vfk_ctx *ctx, const char *pf);

/* ------------------------------------------------ end mediated devices, SR-IOV */

/* ------------------------------------------- topology, profiles, VM plans */
/* (vfio-vm plan/gen: owned by the plan work; add declarations inside this section) */

/*
 * CPU topology of the host, read from <sysroot>/sys/devices/system/cpu and
 * .../node: every online CPU with its core (SMT siblings), package, die,
 * NUMA node and L3 domain (the CPUs sharing a last-level cache: an AMD
 * CCX/CCD, or a whole Intel package). A value object: free with
 * vfk_topo_free().
 */
struct vfk_topo;
struct vfk_cpu_info {
	int cpu;	/* logical CPU number */
	int core;	/* the core's lowest CPU (SMT siblings share it) */
	int package;	/* physical_package_id */
	int die;	/* die_id, 0 when the kernel does not say */
	int node;	/* NUMA node, 0 when the host has none */
	int l3;		/* lowest CPU sharing this CPU's L3 cache; the package when unknown */
};
/* Returns 0, -ENOENT (no CPU topology under the sysroot) or -ENOMEM. */
VFK_API int vfk_topo_read(struct vfk_ctx *ctx, struct vfk_topo **out);
VFK_API void vfk_topo_free(struct vfk_topo *topo);
/* Online CPUs, sorted by number. */
VFK_API size_t vfk_topo_cpu_count(const struct vfk_topo *topo);
VFK_API const struct vfk_cpu_info *vfk_topo_cpu(const struct vfk_topo *topo, size_t i);
/* Cores (sets of SMT siblings) and the largest number of threads per core. */
VFK_API size_t vfk_topo_core_count(const struct vfk_topo *topo);
VFK_API unsigned int vfk_topo_threads_per_core(const struct vfk_topo *topo);
/* "AuthenticAMD", "GenuineIntel", or "" when /proc/cpuinfo does not say. */
VFK_API const char *vfk_topo_get_vendor(const struct vfk_topo *topo);

/*
 * VM profiles: INI files (see vfiokit.ini(5)) saying what a VM should be,
 * not how. Parsing checks every key and value; on error nothing is returned
 * and @errbuf (may be NULL) gets one line "FILE:LINE: [SECTION] KEY: what is
 * wrong". Unknown sections and keys are errors. Relative paths in a profile
 * are relative to the profile's directory. A value object.
 */
struct vfk_profile;
/* Returns 0, -EINVAL (invalid profile), -ENOENT/-EACCES/... (cannot read
 * @path) or -ENOMEM. */
VFK_API int vfk_profile_load(const char *path, struct vfk_profile **out, char *errbuf,
			     size_t errsize);
/* The same for INI text; @filename names it in messages and its directory
 * anchors relative paths (NULL: "<string>" and the working directory). */
VFK_API int vfk_profile_parse(const char *text, const char *filename, struct vfk_profile **out,
			      char *errbuf, size_t errsize);
VFK_API void vfk_profile_free(struct vfk_profile *profile);
/* Set one key as if it were in the file ("--set"): @key is "SECTION.KEY"
 * ("vm.memory", "disk.data.path"). Validated like the file; 0 or -EINVAL. */
VFK_API int vfk_profile_set(struct vfk_profile *profile, const char *key, const char *value,
			    char *errbuf, size_t errsize);
/* The value of a key as written (after --set), or NULL when unset. */
VFK_API const char *vfk_profile_get(const struct vfk_profile *profile, const char *section,
				    const char *key);
/* [vm] name (default: the file name without .ini) and the path given. */
VFK_API const char *vfk_profile_get_name(const struct vfk_profile *profile);
VFK_API const char *vfk_profile_get_path(const struct vfk_profile *profile);

/* How the guest gets its GPU. */
enum vfk_gpu_mode {
	VFK_GPU_MODE_AUTO = 0,
	VFK_GPU_MODE_PASSTHROUGH,	/* a whole host GPU through vfio-pci */
	VFK_GPU_MODE_MDEV,		/* a mediated device (vGPU) of a host GPU */
	VFK_GPU_MODE_VIRTIO,		/* virtio-gpu, 3D through virgl when possible */
	VFK_GPU_MODE_EMULATED,		/* QXL */
	VFK_GPU_MODE_NONE,		/* no display device */
};
#define VFK_GPU_MODE_COUNT 6
/* "auto", "passthrough", "mdev", "virtio", "emulated", "none" */
VFK_API const char *vfk_gpu_mode_to_string(enum vfk_gpu_mode mode);

/*
 * Looking Glass shared memory for a guest resolution: width x height x 4
 * bytes, twice (double buffering), plus 10 MiB, rounded up to a power of two,
 * in MiB (1920x1080 -> 32, 2560x1440 -> 64, 3840x2160 -> 128).
 */
VFK_API unsigned int vfk_looking_glass_size_mib(unsigned int width, unsigned int height);

/*
 * A VM plan: the profile resolved against the host. GPU mode (and why every
 * other mode was not chosen), vCPU pinning by topology, memory placement and
 * huge pages, firmware, devices. The plan keeps a reference to @host; the
 * profile must outlive the plan. Returns 0 or:
 *   -ENODEV   the GPU selector matches no GPU, or the mode asked for is not
 *             possible on this host, or a [hostdev] or [usb] device is not
 *             there or cannot be given away (why: @errbuf)
 *   -ENOTUNIQ the selector matches several GPUs or devices (@errbuf lists them)
 *   -EINVAL   a NULL argument
 *   -ENOMEM
 */
struct vfk_plan;
VFK_API int vfk_plan_new(struct vfk_host *host, const struct vfk_profile *profile,
			 struct vfk_plan **out, char *errbuf, size_t errsize);
VFK_API void vfk_plan_free(struct vfk_plan *plan);
VFK_API const char *vfk_plan_get_name(const struct vfk_plan *plan);
VFK_API enum vfk_gpu_mode vfk_plan_get_mode(const struct vfk_plan *plan);
/* Why the mode was chosen, one line. */
VFK_API const char *vfk_plan_get_mode_reason(const struct vfk_plan *plan);
/* In user mode (vfk_ctx_set_user_mode), why vfk_vm_up() refuses this VM,
 * one line naming what it needs (host devices: root; a bridge: the line of
 * /etc/qemu/bridge.conf the admin adds); NULL when a normal user may run it. */
VFK_API const char *vfk_plan_get_user_refusal(const struct vfk_plan *plan);
/* Why vfk_vm_up() refuses this VM, in one line, or NULL: the user-mode
 * refusal above, else a disk the plan should make and cannot (its
 * directory missing, too little room for it: "disk /img/w.qcow2: 128 GiB
 * wanted, 20 GiB free in /img"). */
VFK_API const char *vfk_plan_get_up_refusal(const struct vfk_plan *plan);
/*
 * How QEMU reaches the devices passed through ([vfio] backend,
 * vfiokit.ini(5)): "group" (/dev/vfio/N in a type1 container) or "iommufd"
 * (/dev/iommu and each device's /dev/vfio/devices/vfioN); NULL when no device
 * goes through VFIO. "auto" is settled by what the kernel offers and, once
 * vfk_plan_ask_vmm() has asked it, what the emulator takes. Why, one line.
 */
VFK_API const char *vfk_plan_get_vfio_backend(const struct vfk_plan *plan);
VFK_API const char *vfk_plan_get_vfio_reason(const struct vfk_plan *plan);
/* Why @mode was not chosen, one line; NULL for the chosen mode and AUTO. */
VFK_API const char *vfk_plan_get_rejection(const struct vfk_plan *plan, enum vfk_gpu_mode mode);
/* The GPU passed through (all its functions go to the guest), or NULL. */
VFK_API struct vfk_gpu *vfk_plan_get_gpu(const struct vfk_plan *plan);
/*
 * Where function @i of the GPU passed through sits in the guest,
 * "0000:01:00.0" (its own root port) or "0000:00:02.0" (Intel integrated
 * graphics, where its drivers look); NULL when there is no such function.
 */
VFK_API const char *vfk_plan_get_gpu_guest_address(const struct vfk_plan *plan, size_t i,
						   char *buf, size_t size);
/*
 * Every GPU passed through ([gpu] count, a [gpu] device list; one
 * otherwise), in host address order, the first being vfk_plan_get_gpu();
 * 0 in other modes. Each goes on a guest root port of its own.
 */
VFK_API size_t vfk_plan_gpu_count(const struct vfk_plan *plan);
VFK_API struct vfk_gpu *vfk_plan_gpu(const struct vfk_plan *plan, size_t i);
/* Where function @fn of GPU @i sits in the guest, as above. */
VFK_API const char *vfk_plan_gpu_function_guest_address(const struct vfk_plan *plan, size_t i,
							size_t fn, char *buf, size_t size);
/* GPU @i's GPUDirect peer-to-peer clique (NVIDIA GPUs under one PCIe switch,
 * QEMU's x-nv-gpudirect-clique), or -1. */
VFK_API int vfk_plan_gpu_clique(const struct vfk_plan *plan, size_t i);
/* The NVSwitches given with the GPUs ([gpu] fabric = yes). */
VFK_API size_t vfk_plan_fabric_count(const struct vfk_plan *plan);
VFK_API struct vfk_device *vfk_plan_fabric_device(const struct vfk_plan *plan, size_t i);
/* Add every device the plan passes through (each GPU's functions, the
 * NVSwitches, the [hostdev] devices and their groups) to @b, so that one
 * commit binds them all or none. */
VFK_API int vfk_plan_add_to_bind(const struct vfk_plan *plan, struct vfk_bind *b);

/* ---- extra host devices ([hostdev] and [usb] sections, vfiokit.ini(5)) */
/*
 * The PCI devices of [hostdev] sections, in profile order, whatever the GPU
 * mode. Each goes with every endpoint of its IOMMU group (bridges stay), in
 * the bind transaction of the GPUs; each slot on a guest root port of its
 * own, after the GPUs' and NVSwitches'. vfk_plan_new() refuses, with -ENODEV
 * and the reason, a device the host needs (its root filesystem's controller,
 * the NIC of its default route), a bridge, a GPU not given by [gpu], a device
 * without an IOMMU group, and a group holding any of these; a section naming
 * a device that goes already (a function of a GPU given, a member of another
 * section's group) is left out with a note.
 */
VFK_API size_t vfk_plan_hostdev_count(const struct vfk_plan *plan);
/* The device section @i names; NULL out of range. */
VFK_API struct vfk_device *vfk_plan_hostdev(const struct vfk_plan *plan, size_t i);
/* Its section: "hostdev" or "hostdev.NAME". */
VFK_API const char *vfk_plan_hostdev_section(const struct vfk_plan *plan, size_t i);
/* One line: its IOMMU group, what goes along, its driver now. */
VFK_API const char *vfk_plan_hostdev_verdict(const struct vfk_plan *plan, size_t i);
/* The endpoints that go (the device named among them), address order, and
 * where each sits in the guest ("0000:03:00.0"). */
VFK_API size_t vfk_plan_hostdev_function_count(const struct vfk_plan *plan, size_t i);
VFK_API struct vfk_device *vfk_plan_hostdev_function(const struct vfk_plan *plan, size_t i,
						     size_t k);
VFK_API const char *vfk_plan_hostdev_function_guest_address(const struct vfk_plan *plan,
							    size_t i, size_t k, char *buf,
							    size_t size);
/* A USB device of a [usb] section, as found on the host when planned. */
struct vfk_usb_device_info {
	uint16_t vendor_id, product_id;
	unsigned int bus, address;	/* busnum and devnum (a new address when replugged) */
	char port[32];			/* port path on the bus: "1.2" */
	char name[128];			/* manufacturer and product as the device gives them, or "" */
};
VFK_API size_t vfk_plan_usb_count(const struct vfk_plan *plan);
/* "usb" or "usb.NAME". */
VFK_API const char *vfk_plan_usb_section(const struct vfk_plan *plan, size_t i);
/* 0, or -EINVAL out of range. */
VFK_API int vfk_plan_usb_device(const struct vfk_plan *plan, size_t i,
				struct vfk_usb_device_info *out);
/* ---- end extra host devices */
/*
 * Every GPU the plan considered for passthrough, ranked: the chosen one
 * first (when passthrough is the mode), then those that could be given away
 * in order, then those that cannot. Each has its reasons: the facts that
 * rank it ("discrete", "already on vfio-pci", "2 functions"), then, unless
 * chosen, why not ("drives the host console").
 */
VFK_API size_t vfk_plan_candidate_count(const struct vfk_plan *plan);
VFK_API struct vfk_gpu *vfk_plan_candidate_gpu(const struct vfk_plan *plan, size_t i);
VFK_API bool vfk_plan_candidate_is_chosen(const struct vfk_plan *plan, size_t i);
VFK_API size_t vfk_plan_candidate_reason_count(const struct vfk_plan *plan, size_t i);
VFK_API const char *vfk_plan_candidate_reason(const struct vfk_plan *plan, size_t i, size_t k);
/* Mode mdev: parent device, type id and the instance's UUID (derived from
 * the VM name, parent and type: stable between runs); NULL otherwise. */
VFK_API const char *vfk_plan_get_mdev_parent(const struct vfk_plan *plan);
VFK_API const char *vfk_plan_get_mdev_type(const struct vfk_plan *plan);
VFK_API const char *vfk_plan_get_mdev_uuid(const struct vfk_plan *plan);
/* NVIDIA per-VF vGPU (VFK_MDEV_NVIDIA_VF): the VF the outputs pass through,
 * the first free one that takes the type (give it to vfk_mdev_create() as
 * the parent); NULL otherwise. */
VFK_API const char *vfk_plan_get_mdev_vf(const struct vfk_plan *plan);
/* Mode virtio: 3D through virgl, and the host render node it uses (or NULL). */
VFK_API bool vfk_plan_get_virgl(const struct vfk_plan *plan);
VFK_API const char *vfk_plan_get_render_node(const struct vfk_plan *plan);
/* KVM (true) or TCG. */
VFK_API bool vfk_plan_uses_kvm(const struct vfk_plan *plan);
VFK_API unsigned int vfk_plan_get_vcpus(const struct vfk_plan *plan);
/* Host CPU vCPU @vcpu is pinned to, or -1 (not pinned, out of range). */
VFK_API int vfk_plan_get_vcpu_pin(const struct vfk_plan *plan, unsigned int vcpu);
/* Host CPUs of the emulator and I/O threads ("0,16"), or NULL when not pinned. */
VFK_API const char *vfk_plan_get_emulator_cpus(const struct vfk_plan *plan);
/* Guest CPU topology; sockets x dies x cores x threads = vCPUs. */
VFK_API void vfk_plan_get_topology(const struct vfk_plan *plan, unsigned int *sockets,
				   unsigned int *dies, unsigned int *cores, unsigned int *threads);
VFK_API unsigned long long vfk_plan_get_memory_mib(const struct vfk_plan *plan);
/* NUMA node guest memory is bound to, or -1. */
VFK_API int vfk_plan_get_memory_node(const struct vfk_plan *plan);
/* Huge page size backing guest memory in KiB (2048, 1048576), 0 for none. */
VFK_API unsigned long vfk_plan_get_hugepage_kib(const struct vfk_plan *plan);
/* Looking Glass shared memory in MiB, 0 when not used. */
VFK_API unsigned int vfk_plan_get_ivshmem_mib(const struct vfk_plan *plan);
/* Firmware code and variable-store template (host paths), NULL for BIOS. */
VFK_API const char *vfk_plan_get_firmware_code(const struct vfk_plan *plan);
VFK_API const char *vfk_plan_get_firmware_vars(const struct vfk_plan *plan);
/*
 * Large VMs: what the devices' BARs (sysfs resource), the guest's memory and
 * the host CPU's physical address width make the plan set; each decision is
 * also a note.
 *   memlock_bytes          memory VFIO may lock: guest RAM + the BARs (at
 *                          least RAM + 1 GiB); the QEMU backend raises QEMU's
 *                          RLIMIT_MEMLOCK to it. 0 when nothing is passed
 *                          through.
 *   memtune_hard_limit_bytes  libvirt <memtune><hard_limit>, where libvirt's own
 *                          figure (RAM + 1 GiB) is less; 0: none.
 *   bar_bytes              the memory BARs of every function passed through.
 *   pci_hole64_bytes       the guest's 64-bit PCI hole; 0: QEMU's default.
 *   phys_bits              the guest's physical address bits; 0: the default.
 *   prealloc_threads       threads that preallocate guest memory (huge
 *                          pages); 0 when it is not preallocated.
 */
VFK_API unsigned long long vfk_plan_get_memlock_bytes(const struct vfk_plan *plan);
VFK_API unsigned long long vfk_plan_get_memtune_hard_limit_bytes(const struct vfk_plan *plan);
VFK_API unsigned long long vfk_plan_get_bar_bytes(const struct vfk_plan *plan);
VFK_API unsigned long long vfk_plan_get_pci_hole64_bytes(const struct vfk_plan *plan);
VFK_API unsigned int vfk_plan_get_phys_bits(const struct vfk_plan *plan);
VFK_API unsigned int vfk_plan_get_prealloc_threads(const struct vfk_plan *plan);
/* Decisions and warnings worth telling, one line each, in order. */
VFK_API size_t vfk_plan_note_count(const struct vfk_plan *plan);
VFK_API const char *vfk_plan_note(const struct vfk_plan *plan, size_t i);

/*
 * Output. Each fills *@out with a malloc'ed string (free() it) or argv.
 *  - JSON: the plan, schema in vfio-vm(1).
 *  - libvirt domain XML, every value escaped; hostdevs are managed='no':
 *    vfiokit binds them itself. -EINVAL for a value holding a control
 *    character XML cannot carry (profiles refuse those when read).
 *  - QEMU: the same VM as an argv array (NULL-terminated; free with
 *    vfk_argv_free()), never a shell string.
 * Output is deterministic for a given host and profile. 0 or -ENOMEM.
 */
VFK_API int vfk_plan_to_json(const struct vfk_plan *plan, char **out);
VFK_API int vfk_plan_to_libvirt_xml(const struct vfk_plan *plan, char **out);
VFK_API int vfk_plan_to_qemu_argv(const struct vfk_plan *plan, char ***argv);
VFK_API void vfk_argv_free(char **argv);
/* Quote @argv for a POSIX shell: one option (with its value) per line,
 * joined by " \\\n  ", ending with a newline. 0 or -ENOMEM. */
VFK_API int vfk_argv_to_shell(const char *const *argv, char **out);
/* ------------------------------------------- end topology, profiles, VM plans */

/* ------------------------------------------------ exports for other stacks */

/*
 * What this host can give away, written in the configuration formats of
 * other virtualization stacks, so that they offer exactly these devices:
 *
 *  VFK_EXPORT_KUBEVIRT  YAML: the KubeVirt CR fragment
 *                       spec.configuration.permittedHostDevices, one
 *                       pciHostDevices entry per distinct vendor:device
 *                       (pciVendorSelector "10DE:2684", resourceName
 *                       "DOMAIN/NAME", externalResourceProvider false) and
 *                       one mediatedDevices entry per mdev type name
 *                       (mdevNameSelector as the kernel names the type).
 *  VFK_EXPORT_NOVA      oslo.config ini for nova.conf: [pci] device_spec
 *                       (one per device, by address) and alias (one per
 *                       vendor:device and device_type type-PCI, type-PF or
 *                       type-VF) lines holding JSON; for mediated devices
 *                       [devices] enabled_mdev_types and one
 *                       [mdev_TYPE] device_addresses section per type.
 *  VFK_EXPORT_PROXMOX   entries of Proxmox VE's /etc/pve/mapping/pci.cfg:
 *                       one mapping per vendor:device with a "map" line per
 *                       device on the node (a multi-function GPU by its
 *                       slot, all functions), mdev parents marked "mdev 1".
 *  VFK_EXPORT_NFD       a Node Feature Discovery feature file (features.d):
 *                       labels for the IOMMU, interrupt remapping, the
 *                       number of GPUs that can be given away and one per
 *                       mdev type with its free instances.
 *  VFK_EXPORT_CDI       a Container Device Interface spec (JSON, for
 *                       /etc/cdi): cdiVersion "0.6.0" (the lowest that has
 *                       the annotations it writes), kind VENDOR/vfio (VENDOR
 *                       VFK_EXPORT_CDI_VENDOR or @resource_prefix), one
 *                       device per IOMMU group named by its device's PCI
 *                       address ("0000:01:00.0", a valid CDI device name),
 *                       annotated with the group (vfiokit.org/iommu-group),
 *                       its functions (vfiokit.org/pci-addresses) and the
 *                       model (vfiokit.org/model); its device nodes in one
 *                       mode for the whole spec, named in the annotation
 *                       vfiokit.org/vfio-mode: "iommufd" when the host has
 *                       /dev/iommu and every function exported has its VFIO
 *                       cdev (vfk_device_get_vfio_cdev()): /dev/iommu for
 *                       all, /dev/vfio/devices/vfioN per function; else
 *                       "legacy": /dev/vfio/vfio for all, /dev/vfio/GROUP per
 *                       device. A spec must hold a device: with none, no
 *                       document (-ENODATA). mdev types are not in it.
 *  VFK_EXPORT_DRA       a Kubernetes ResourceSlice (resource.k8s.io/v1,
 *                       YAML) as a node-local DRA driver publishes it:
 *                       driver VFK_EXPORT_DRA_DRIVER or @resource_prefix,
 *                       nodeName and pool @node or the host name, one
 *                       device per IOMMU group ("pci-0000-01-00-0") with the
 *                       standard attributes resource.kubernetes.io/pciBusID,
 *                       pcieRoot and numaNode (when the kernel knows it) and
 *                       the driver's vendorID and deviceID ("0x10de"),
 *                       iommuGroup and iommuFDEnabled (/dev/iommu and a
 *                       VFIO cdev for each function of the group), as
 *                       NVIDIA's DRA driver names its VFIO devices'. mdev
 *                       types are named in comments only.
 *  VFK_EXPORT_SVG       not a configuration but a picture: the PCI tree
 *                       (vfk_host_root(), vfk_device_child()) as a
 *                       standalone SVG 1.1 document, a box per function with
 *                       its address, short name, driver and IOMMU group,
 *                       filled with one colour per group, the ACS of
 *                       bridges, GPU verdicts (isolated ones with a thick
 *                       border) and links, where a shared group starts and
 *                       why (vfk_device_get_group_merge()), a legend and the
 *                       host's name (@node, else the host name) in the
 *                       title. On a host of more than 48 functions the
 *                       siblings below a bridge with nothing worth a box in
 *                       them (no GPU or fabric device, no VFIO driver, no
 *                       shared group's start, no member of a group holding
 *                       one of those) are one "N more functions" box. No
 *                       selection of what can be given away: @gpus_only
 *                       draws the GPUs and fabric devices and the bridges
 *                       above them, @device that device, the bridges above
 *                       it and what is below it.
 *
 * A device is given away with its whole IOMMU group, and the export holds
 * only groups that can go cleanly and alone: a GPU whose verdict is
 * isolated (its group holds only its functions), that the host does not
 * use itself (not its only GPU, not the boot display, not driving the
 * console) and that is no mediated-device parent (those go as their types)
 * nor a VF of NVIDIA's per-VF vGPU interface; or a group holding a single
 * other endpoint that is an SR-IOV VF or that the host already hands to
 * VFIO (bound to vfio-pci or a variant driver, driver_override,
 * vfio-pci.ids= or modprobe.d, vfio-bind's persist list): a controller the
 * host drives itself is never offered. The host guards of
 * vfk_bind_prepare() apply: the controller of the root filesystem, the NIC
 * of the default route, a PF whose SR-IOV VFs are enabled (its VFs go
 * instead) and a parent with mdevs stay. Types of mdev parents go when an
 * instance of them exists or can be made now.
 *
 * Names: NAME is the device's name in pci.ids, upper-cased, every run of
 * characters other than A-Z and 0-9 made one '_' (as NVIDIA's KubeVirt
 * device plugin names its resources, "AD102 [GeForce RTX 4090]" ->
 * "AD102_GEFORCE_RTX_4090", but for characters such as '-' that it drops),
 * at most 63 characters; a NAME two different vendor:device pairs would
 * share gets "_VVVV_DDDD" in both. DOMAIN is the vendor's:
 * nvidia.com (10de), amd.com (1002, 1022), intel.com (8086), else
 * VFK_EXPORT_DEFAULT_DOMAIN; @resource_prefix overrides it (and is the NFD
 * label prefix, default feature.node.kubernetes.io). Everything a device or
 * the kernel names (pci.ids names, mdev type names, the host name) is
 * escaped for the format or, where the format cannot carry it, refused.
 */
#define VFK_EXPORT_DEFAULT_DOMAIN "vfiokit.local"
#define VFK_EXPORT_NFD_PREFIX "feature.node.kubernetes.io"
#define VFK_EXPORT_CDI_VENDOR "vfiokit.org"	/* the CDI kind: vfiokit.org/vfio */
#define VFK_EXPORT_DRA_DRIVER "vfio.vfiokit.org"

enum vfk_export_format {
	VFK_EXPORT_KUBEVIRT = 0,
	VFK_EXPORT_NOVA,
	VFK_EXPORT_PROXMOX,
	VFK_EXPORT_NFD,
	VFK_EXPORT_CDI,
	VFK_EXPORT_DRA,
	VFK_EXPORT_SVG,
};
/* "kubevirt", "nova", "proxmox", "nfd", "cdi", "dra", "svg". */
VFK_API const char *vfk_export_format_to_string(enum vfk_export_format fmt);
/* The format named @name (exactly as above); 0 or -EINVAL. */
VFK_API int vfk_export_format_from_string(const char *name, enum vfk_export_format *out);

/* The device nodes a CDI spec gives: VFK_VFIO_MODE_AUTO iommufd (/dev/iommu and
 * each function's /dev/vfio/devices/vfioN) when the host has /dev/iommu and
 * every function its cdev, else the groups (/dev/vfio/vfio, /dev/vfio/N);
 * _LEGACY the groups always (for a VMM that only speaks them); _IOMMUFD
 * iommufd or -ENODEV naming the device without a cdev. */
enum vfk_vfio_mode {
	VFK_VFIO_MODE_AUTO = 0,
	VFK_VFIO_MODE_LEGACY,
	VFK_VFIO_MODE_IOMMUFD,
};

struct vfk_export_options {
	bool gpus_only;			/* only GPUs (their groups) and the mdev types of GPUs */
	const char *device;		/* only this device's IOMMU group and its mdev types; NULL: all */
	const char *node;		/* Proxmox or Kubernetes (dra) node; NULL: the host name
					 * (proc/sys/kernel/hostname below the sysroot; Proxmox:
					 * up to its first '.'; dra: all of it, lower-cased, as
					 * the kubelet names its node) */
	const char *resource_prefix;	/* the resource domain (KubeVirt), label prefix (NFD),
					 * CDI vendor (cdi) or DRA driver name (dra) */
	enum vfk_vfio_mode vfio_mode;	/* cdi: which device nodes (below) */
};

/*
 * Write the export of @host (its inventory and verdicts, as vfio-ls shows
 * them) in @fmt to *@out (malloc'ed, free() it; a whole document, also when
 * nothing can be given away, but for cdi). @opts may be NULL. Returns the
 * number of entries exported (devices and mdev types; cdi and dra: devices,
 * they hold no mdev types; 0: nothing can be given away; svg: the functions
 * drawn in boxes of their own) or
 * -EINVAL (an unknown format; a @resource_prefix for nova, Proxmox or svg, or
 * one that is no DNS subdomain or is in Kubernetes' own namespaces, for cdi
 * one that does not start with a letter, for dra one over 63 characters; a
 * node name or host name Proxmox or Kubernetes does not take),
 * -ENODEV (@device is no device of @host), -ENODATA (cdi: no device can be
 * given away, and a CDI spec without one is invalid), -ENOENT (proxmox, dra:
 * no host name and no @node), -ENOMEM. vfk_ctx_get_error() says why in one
 * line.
 */
VFK_API int vfk_export(struct vfk_host *host, enum vfk_export_format fmt,
		       const struct vfk_export_options *opts, char **out);

/* --------------------------------------------------- launch and lifecycle */

enum vfk_backend {
	VFK_BACKEND_LIBVIRT = 0,	/* libvirt's C API, any URI, local or remote */
	VFK_BACKEND_QEMU,		/* QEMU started directly, QMP socket for control */
};

struct vfk_vm_options {
	enum vfk_backend backend;
	const char *uri;		/* libvirt URI; NULL: vfk_ctx_get_libvirt_uri() */
	bool transient;			/* libvirt: create without defining */
	unsigned int bind_flags;	/* VFK_BIND_* for the VM's devices */
	unsigned int shutdown_timeout;	/* down: seconds of ACPI shutdown before force; 0: 60 */
	unsigned int start_check_ms;	/* qemu: how long an early exit counts as failure; 0: 1500 */
	const char *console_log;	/* file the guest's serial console goes to, or NULL */
	/* qemu: no watcher process; the caller waits itself (vfk_vm_wait()) and
	 * nothing restores the host if it does not */
	bool unwatched;
	/* libvirt: replace the definition of an existing domain with the
	 * profile's (up --redefine); without it an existing domain is started
	 * as it is defined */
	bool redefine;
	/* down: also undefine the domain (libvirt, with its NVRAM and TPM) or
	 * remove the UEFI variable store and TPM state (qemu); works on a VM
	 * that is not up too */
	bool undefine;
	/* up, qemu backend, as root: QEMU runs as this user (name or uid) with
	 * the files, sockets and VFIO descriptors it needs opened by root and
	 * passed, and a locked-memory limit of what VFIO pins; NULL: as the
	 * caller */
	const char *run_as;
};

/*
 * Ask the emulator @opts names (libvirt at opts->uri, default
 * vfk_ctx_get_libvirt_uri(); or the plan's QEMU, with VFK_BACKEND_QEMU or @opts NULL)
 * whether it takes iommufd, and settle the plan's [vfio] backend with the
 * answer: "auto" goes to iommufd when the kernel and the emulator both take
 * it. Asks nothing when nothing depends on it. QEMU is started with no
 * machine for a few QMP questions (bounded: 20 s). 0, -ENODEV when the
 * profile says backend = iommufd and the emulator cannot (why: @errbuf),
 * -ENOMEM.
 */
/*
 * Does the emulator take iommufd? Asked of it, never guessed from versions:
 * QEMU @emulator is started with no machine and answers over QMP (its QOM
 * type "iommufd" and vfio-pci's "iommufd" property; bounded: 20 s); libvirt at
 * @uri by its domain capabilities (<hostdev><enum name='iommufd'> holding
 * "yes"). 1 yes, 0 no, -errno it could not be asked; one line in @why either
 * way (the version or the reason).
 */
VFK_API int vfk_qemu_takes_iommufd(const char *emulator, char *why, size_t whysize);
VFK_API int vfk_libvirt_takes_iommufd(const char *uri, char *why, size_t whysize);
VFK_API int vfk_plan_ask_vmm(struct vfk_plan *plan, const struct vfk_vm_options *opts,
			     char *errbuf, size_t errsize);

/*
 * Bring the plan's VM up: bind its devices (one transaction, owner = VM
 * name), create its mdev if the mode needs one, start it. Any failure undoes
 * every step done so far; @errbuf gets one line. Returns 0, -EEXIST (a VM of
 * that name is already up), -EBUSY/-EPERM (binding refused), or the error of
 * the failed step.
 */
VFK_API int vfk_vm_up(struct vfk_plan *plan, const struct vfk_vm_options *opts, char *errbuf,
		      size_t errsize);
/* Graceful ACPI shutdown with a timeout, then force; restore the devices,
 * remove transient mdevs, drop the VM's state. -ENOENT when unknown. */
VFK_API int vfk_vm_down(struct vfk_ctx *ctx, const char *name, const struct vfk_vm_options *opts,
			char *errbuf, size_t errsize);
/* Block until the VM stops on its own (libvirt lifecycle event, QEMU exit),
 * then clean up as vfk_vm_down() does (or, when its watcher does that, until
 * the watcher has). */
VFK_API int vfk_vm_wait(struct vfk_ctx *ctx, const char *name, char *errbuf, size_t errsize);
/*
 * libvirt's release hook: the domain @name has stopped and libvirt has let
 * go of its devices. Clean up as vfk_vm_down() does after stopping a VM —
 * mdev removed, devices restored, record dropped — without calling libvirt
 * (a hook must not: libvirtd waits for it). 0 also when vfiokit did not
 * start @name on libvirt (nothing to do).
 */
VFK_API int vfk_vm_release(struct vfk_ctx *ctx, const char *name, char *errbuf, size_t errsize);
/*
 * At boot (vfiokit-restore.service), or whenever a watcher was killed with
 * its VM: for every VM vfiokit started whose VM is gone — its QEMU no longer
 * runs (an id reused by another program does not count) and no watcher is
 * restoring it — clean up as vfk_vm_release() does. VMs still running, and
 * those on a remote libvirt, are left alone. Never calls libvirt (it runs
 * before libvirtd starts). Returns how many VMs were released, or the first
 * error (the others are still tried).
 */
VFK_API int vfk_vm_release_stale(struct vfk_ctx *ctx, char *errbuf, size_t errsize);
/*
 * How the libvirt domain XML of @plan differs from the XML vfiokit defined
 * the VM's domain from at its last define (kept below the sysroot in
 * var/lib/vfiokit/domains/NAME.xml): 0 the same, 1 different with *@diff a
 * unified diff (malloc'ed), -ENOENT when vfiokit has not defined it.
 */
VFK_API int vfk_vm_definition_diff(struct vfk_plan *plan, char **diff);
/* Where the libvirt hook that calls vfio-vm release is installed (below the
 * sysroot): "/etc/libvirt/hooks/qemu.d/vfiokit". */
#define VFK_LIBVIRT_HOOK "etc/libvirt/hooks/qemu.d/vfiokit"

/* What vfiokit started: one record per VM under <sysroot>/run/vfiokit/vms/. */
struct vfk_vm_record {
	char name[65];
	enum vfk_backend backend;
	char uri[256];
	int pid;		/* qemu backend */
	int swtpm_pid;		/* qemu backend: the VM's TPM, 0 when none */
	bool defined;		/* libvirt: a persistent domain (kept after down) */
	char mdev[64];		/* instance vfiokit created, or "" */
	long long since;
	char state[32];		/* "running", "shut off", "gone" ... as seen now */
	int watcher_pid;	/* qemu backend: the process that restores the host when QEMU ends */
	/* What restores the host when the VM stops by itself ("watcher", "libvirt
	 * hook /etc/libvirt/hooks/qemu.d/vfiokit"), "" when nothing does. */
	char armed[160];
	/* qemu backend: the user QEMU runs as (up --run-as), "" when the caller */
	char run_as[65];
};
/* All records (@name NULL) or one; *@out is malloc'ed. Returns the count or -errno. */
VFK_API int vfk_vm_list(struct vfk_ctx *ctx, const char *name, struct vfk_vm_record **out);
/* A name usable as a VM and file name: [A-Za-z0-9_.-], 1..64, not starting with '.' or '-'. */
VFK_API bool vfk_vm_name_valid(const char *name);
/* Release devices held for @owner (a VM name) in the journal. */
VFK_API int vfk_restore_owner(struct vfk_ctx *ctx, const char *owner, unsigned int flags,
			      char *errbuf, size_t errsize);

#ifdef __cplusplus
}
#endif
#endif
