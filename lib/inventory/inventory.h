/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host snapshot's private shapes, shared by inventory.c, device.c, gpu.c. */
#ifndef VFK_INVENTORY_H
#define VFK_INVENTORY_H
#include "core/internal.h"
#include "core/strpool.h"

struct pci_access;
struct pci_dev;

/* reset.c: how the device resets between guests, judged on first use */
struct reset_row;
struct device_reset {
	bool judged;
	enum vfk_reset_verdict verdict;
	const struct reset_row *row;	/* its row of the quirk table, or NULL */
	bool keep;		/* a restore leaves it on its VFIO driver */
	bool failed;		/* it stopped answering: its last reset failed */
	const char *reason, *advice;	/* interned; advice NULL when nothing to do */
};

/* Attributes a listing does not need, read on first use. */
struct vfk_device_details {
	uint16_t subsys_vendor, subsys_device;
	uint8_t revision;
	bool has_reset;
	int numa_node;
	unsigned int link_width, max_link_width;
	unsigned int sriov_totalvfs, sriov_numvfs;
	const char *local_cpulist;
	const char *reset_method;
	const char *power_state;
	const char *link_speed, *max_link_speed;
	struct device_reset reset;
};

struct vfk_device {
	struct vfk_host *host;
	struct vfk_pci_addr addr;
	char address[16];
	uint32_t class;		/* 24 bits */
	uint16_t vendor_id, device_id;
	int group;		/* -1: none */
	bool boot_vga, is_vf, caps_known, override_known;
	const char *override;	/* interned; read on first use */
	bool cdev_known, root_known;
	const char *vfio_cdev;	/* vfio-cdev.c: interned, read on first use */
	const char *pcie_root;	/* interned, read on first use */
	enum vfk_acs acs;	/* with pcie_type: read on first use (device_read_caps) */
	int pcie_type;		/* PCI_EXP_TYPE_*, PCILIB_NOT_PCIE or PCILIB_UNKNOWN */
	int8_t flr, no_soft_reset, answers;	/* with acs: 1, 0, -1 unknown (pcilib.h) */
	const char *driver;	/* interned */
	const char *vendor_name, *device_name, *class_name;	/* interned */
	struct vfk_device *parent, *physfn;
	struct vfk_gpu *gpu;	/* gpu.c: the GPU it is a function of, or NULL */
	struct vfk_device_details *details;
	size_t child0, nchildren;	/* tree.c: its children, host->children[child0...] */
	const char *merge;	/* group-merge.c: why its group is shared from here, or NULL */
};

struct vfk_group {
	int id;
	size_t ndevices;
	struct vfk_device **devices;
};

struct vfk_gpu {
	struct vfk_device *dev;
	size_t nfunctions, nblockers;
	struct vfk_device **functions, **blockers;
	const char *reason;	/* interned */
	bool console_in_use, only_gpu;
	/* another vendor's function (not audio) in the GPU's slot: the slot is
	 * the processor's, e.g. an APU's PSP; NULL for a card */
	const struct vfk_device *soc_function;
	const char *placement;	/* gpu-kind.c, on first use; interned or static */
	bool integrated;
	/* the other GPUs its group holds, when it holds nothing else (all
	 * blockers are their functions): they can go to a VM together */
	size_t ntogether;
	struct vfk_gpu **together;
	/* holders.c, on first use: processes holding its device nodes */
	bool holders_known;
	size_t nholders;
	const struct proc_holder **holders;
	/* link.c, on first use: the card's PCIe link to its slot and the verdict */
	bool link_judged;
	enum vfk_link_verdict link_verdict;
	struct vfk_device *link_dev, *link_port;	/* the card's end, the slot's port */
	const char *link_reason;	/* interned or static */
	/* slot-advice.c, on first use: the places that would isolate it */
	bool advice_judged;
	size_t nadvice;
	struct vfk_slot **advice;
	const char *slot_advice;	/* interned or static; NULL: none needed */
};

/* slots.c: a physical slot of the board (vfk_host_slot()) */
struct vfk_slot {
	struct vfk_host *host;
	enum vfk_slot_source source;
	enum vfk_slot_kind kind;
	const char *name;		/* interned, made printable */
	const char *hotplug;		/* the kernel's slot name too, or NULL */
	const char *note;		/* why no port matches, or NULL */
	uint16_t handle, id;		/* SMBIOS structure handle, slot ID */
	uint8_t usage;			/* SMBIOS current usage: 3 available, 4 in use */
	unsigned int fw_width, fw_gen;	/* what the firmware says; 0 unknown */
	bool has_addr;
	struct vfk_pci_addr addr;	/* the device in it as named (fn 0 for a PCI slot) */
	struct vfk_device *port, *device;
	/* slot-advice.c, on first use */
	bool judged;
	enum vfk_slot_attach attach;
	enum vfk_slot_isolation isolation;
	const char *shares;		/* isolation SHARED: with what, interned */
};

/* holders.c: a process that holds GPU device nodes open */
struct proc_holder {
	int pid;
	const char *comm;	/* interned */
	size_t ntargets;
	const char **targets;	/* interned: "/dev/nvidia0", "/dev/dri/card1" */
};

struct name_cache;
struct guard_facts;
struct vfio_variants;

struct vfk_host {
	int refcount;
	struct vfk_ctx *ctx;
	struct pci_access *pacc;
	struct strpool strings;
	struct name_cache *names;	/* (vendor, device) -> names, filled on first use */
	bool iommu_enabled;
	/* device.c: driver_override read on one device: 1 the kernel has the
	 * attribute, -1 it has none (the first device read had none), 0 unread */
	int8_t has_override;
	/* inventory.c: the same for boot_vga, which the kernel gives every VGA
	 * controller (class 0300) */
	int8_t has_boot_vga;
	size_t ndevices, ngroups, ngpus;
	struct vfk_device *devices;	/* sorted by address */
	struct vfk_group *groups;	/* sorted by id */
	struct vfk_device **group_members;	/* backing store of groups[].devices */
	struct vfk_gpu *gpus;
	struct guard_facts *guard_facts;	/* guards.c, while a bind checks its devices */
	struct vfk_topo *topo;		/* CPU topology, read on first use (host_topo) */
	int topo_err;			/* 0 until read; then 1, or the read's -errno */
	int portable;			/* chassis.c: 0 until read, 1 no, 2 a laptop */
	size_t nfabric;			/* fabric.c: NVSwitches and the like */
	struct vfk_device **fabric;
	bool procs_known;		/* holders.c: /proc read once, on first use */
	size_t nprocs;
	struct proc_holder *procs;
	/* vfio-driver.c, on first use: the module tree's vfio_pci aliases, one
	 * libkmod context, the VFIO driver chosen per device */
	struct vfio_variants *variants;
	int iommufd;			/* vfio-cdev.c: 0 until looked at, 1 no /dev/iommu, 2 one */
	/* tree.c: the PCI hierarchy, from the parent links */
	size_t nroots;
	struct vfk_device **roots;	/* devices without a parent, in address order */
	struct vfk_device **children;	/* the others, by parent, in address order */
	bool merges_known;		/* group-merge.c: judged on first use */
	/* slots.c, on first use: the board's slots; slot_at[device index] is
	 * the slot whose port that device is (or, for a slot on a root bus,
	 * that the device sits in); NULL without slots */
	bool slots_known;
	size_t nslots;
	struct vfk_slot *slots;
	struct vfk_slot **slot_at;
	const char *slots_note;
	/* slot-advice.c: on a board without a slot table, its ports as places */
	bool places_known;
	size_t nplaces;
	struct vfk_slot *places;
};

/* names.c: vendor, device and class names of @dev, looked up on first use
 * (libpci reads all of pci.ids for the first one: most callers never need a
 * name). Never fails: "?" when memory runs out. */
void device_names(const struct vfk_device *dev);
void names_free(struct name_cache *nc);

/* tree.c: each device's children and the roots, from the parent links (the
 * scan's step after break_parent_loops). 0 or -ENOMEM. */
int tree_build(struct vfk_host *host);
void tree_free(struct vfk_host *host);

/* slots.c: read the slot table once (host_slots_read); free it. */
void host_slots_read(const struct vfk_host *host);
void slots_free(struct vfk_host *host);
/* The bus below bridge @b (its secondary bus), -1 when unknown. */
int bridge_secondary_bus(const struct vfk_device *b);
/* slot-advice.c */
void slot_advice_free(struct vfk_host *host);

/* vf-scan.c: which functions of a scan are VFs, from their PFs' SR-IOV
 * attributes. @addrs sorted, as the scan goes through them. */
struct vf_scan {
	const struct vfk_pci_addr *addrs;
	size_t n;
	uint32_t *pf_of;	/* per address: its PF's index + 1, 0 none */
	bool by_link;		/* a PF did not say where its VFs are: read physfn */
};
int vf_scan_init(struct vf_scan *s, const struct vfk_pci_addr *addrs, size_t n);
void vf_scan_free(struct vf_scan *s);
/* Is the function at index @i a VF a PF met before claimed? The PF's index
 * in @pf. */
bool vf_scan_pf_of(const struct vf_scan *s, size_t i, size_t *pf);
/* Is the function at @i (named @address) a PF? Then claim its VFs. */
void vf_scan_probe(struct vfk_ctx *ctx, struct vf_scan *s, size_t i, const char *address);

/* group.c: the groups from the devices' group numbers (the scan's last step). */
int build_groups(struct vfk_host *host);

/* device.c */
struct vfk_device_details *device_details(const struct vfk_device *dev);
void device_details_free(struct vfk_device_details *d);
/* Find by parsed address (binary search) or NULL. */
struct vfk_device *host_lookup(const struct vfk_host *host, const struct vfk_pci_addr *a);
int pci_addr_cmp(const struct vfk_pci_addr *a, const struct vfk_pci_addr *b);
/* Open the device's sysfs directory (bus/pci/devices/ADDR). */
int device_open_dir(const struct vfk_device *dev);
/* vfio-cdev.c: the name of the VFIO cdev ("vfio3") in the device directory
 * @devdirfd as it is now (vfio-dev/vfioN with a dev attribute), uncached:
 * after a bind the snapshot's answer is stale. 0, -ENOENT when none. */
int vfio_cdev_in(struct vfk_ctx *ctx, int devdirfd, char *name, size_t size);
/* The VFIO cdev of the PCI device @addr as it is now, opened read-write
 * (its name, "vfio3", in @cdev): an fd, -ENOENT when it has none, -ENODEV
 * when its node is not in dev/, or -errno. */
int vfio_open_cdev(struct vfk_ctx *ctx, const char *addr, char *cdev, size_t size);
/* /dev/iommu opened read-write, its pinned memory charged per process where
 * the opener may set that (*@per_process): an fd or -errno. */
int vfio_open_iommufd(struct vfk_ctx *ctx, bool *per_process);
/* Fill acs and pcie_type from config space, once. */
void device_read_caps(struct vfk_device *dev);

/* reset.c: what restoring @dev to its native driver risks, when a restore
 * must leave it on its VFIO driver: the journal's left= value ("no-reset",
 * "reset-failed") with why in one phrase in @why ("AMD Navi 21 does not
 * reset"), and *@vendor_reset set when the vendor-reset module would make it
 * safe; NULL when giving it back is safe. A function of a GPU that must stay
 * stays with it. */
const char *device_reset_hold(const struct vfk_device *dev, char *why, size_t size,
			      bool *vendor_reset);

/* fabric.c: the devices of a GPU complex that are not GPUs (the scan's
 * step after gpus_build). 0 or -ENOMEM. */
int fabric_build(struct vfk_host *host);
/* What the fabric device is ("NVSwitch"), or NULL when @dev is none. */
const char *fabric_role(const struct vfk_device *dev);

/* holders.c: processes holding the device nodes the driver of @dev exposes
 * (dri/cardN, dri/renderDN, nvidia*), "Xorg(1234), nvidia-persistenced(88)"
 * into @buf; returns their count. /proc is read once per host snapshot. */
int device_holders(struct vfk_host *host, const struct vfk_device *dev, char *buf, size_t size);
void holders_free(struct vfk_host *host);

/* vfio-driver.c: the VFIO driver a device goes to (vfk_device_vfio_driver()):
 * its module ("mlx5_vfio_pci", "vfio_pci"), the PCI driver name for
 * driver_override ("mlx5_vfio_pci", "vfio-pci", "xe-vfio-pci") and why, in
 * one phrase. Strings interned in the host. */
struct vfio_choice {
	const char *module, *driver, *why;
};
/* @dev's choice, made on the first call and kept with the host. 0 or -ENOMEM. */
int device_vfio_choice(struct vfk_device *dev, struct vfio_choice *out);
/* A VFIO driver (or its module) asked for by name: its module and PCI driver
 * name (why: "asked for"). -EINVAL for a name that is no VFIO driver's,
 * -ENOENT when it is neither loaded nor in the module tree; one line in @err. */
int vfio_driver_resolve(struct vfk_host *host, const char *name, struct vfio_choice *out,
			char *err, size_t errsize);
/* The PCI driver name module @module registers: sys/module/MOD/drivers/pci:NAME
 * once loaded, else the known name ("vfio-pci", "xe-vfio-pci") or @module. */
void vfio_module_driver(struct vfk_ctx *ctx, const char *module, char *buf, size_t size);
/* An NVIDIA vGPU 17+ VF: on nvidia, with the per-VF vGPU files. nvidia is its
 * VFIO driver: it is never rebound. */
bool device_is_vgpu_vf(const struct vfk_device *dev);
void variants_free(struct vfio_variants *v);

/* gpu.c */
int gpus_build(struct vfk_host *host);
void gpus_free(struct vfk_host *host);
/* The GPU whose main function is @dev, or NULL: a binary search. */
struct vfk_gpu *host_gpu_of(const struct vfk_host *host, const struct vfk_device *dev);
/* What the host itself uses @gpu for, as the rest of a sentence naming it
 * ("is the host's only GPU", "drives the host console", "is the boot display
 * of the host"), or NULL: the GPUs nothing gives away unless told to (the
 * plan's ranking, the exports). */
const char *gpu_host_use(const struct vfk_gpu *gpu);
#endif
