/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A parsed profile (profile.c): the VM the user asked for, every value
 * checked, before anything about the host is decided.
 */
#ifndef VFK_PROFILE_H
#define VFK_PROFILE_H

#include "core/strbuf.h"

enum prof_os { OS_LINUX, OS_WINDOWS, OS_OTHER };
enum prof_fw { FW_UEFI, FW_UEFI_SECURE, FW_BIOS };
enum prof_accel { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };
enum prof_huge { HUGE_AUTO, HUGE_NO, HUGE_2M, HUGE_1G };
enum prof_cpu { CPU_AUTO, CPU_HOST, CPU_MAX, CPU_QEMU64 };
enum prof_display { DISP_AUTO, DISP_NONE, DISP_SPICE, DISP_VNC, DISP_SDL };
enum prof_audio { AUDIO_NONE, AUDIO_SPICE, AUDIO_PULSEAUDIO };
enum prof_sound { SOUND_ICH9, SOUND_ICH6, SOUND_USB };
enum prof_serial { SERIAL_AUTO, SERIAL_NO, SERIAL_PTY, SERIAL_STDIO };
/* How QEMU reaches the devices: the IOMMU group (/dev/vfio/N in a type1
 * container) or iommufd with the device's VFIO cdev. */
enum prof_vfio { VFIO_AUTO, VFIO_GROUP, VFIO_IOMMUFD };
extern const char *const prof_vfio_names[];
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
	unsigned long long size_mib;	/* of a disk created when missing; 0: default */
	int line;		/* of the section's first key */
};

struct prof_net {
	char *id;
	int type, model;	/* enum net_type, net_model */
	char *bridge, *network, *mac;
	int line;
};

/* Extra host devices: a PCI device ([hostdev], [hostdev.NAME]) and a USB
 * device ([usb], [usb.NAME]) given to the guest as they are. */
struct prof_hostdev {
	char *id;		/* "" for [hostdev], "nvme" for [hostdev.nvme] */
	char *device;		/* an address, vendor:device ids or a part of the name */
	char *rom;
	int line;
};

struct prof_usb {
	char *id;
	char *device;		/* vendor:product ids, "046d:c52b" */
	unsigned int bus;	/* 0: any */
	char *port;		/* the port path on that bus, "1.2"; NULL: any */
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
	char *drivers;		/* the virtio-win driver ISO for Windows Setup */
	int installed;		/* bool: [disk.installer] left out */
	/* [tuning] */
	int pinning, hugepages, hyperv, kvm_hidden, cpu_model;
	unsigned int host_cores, iothreads;
	char *vendor_id;
	unsigned int prealloc_threads;		/* 0: auto */
	unsigned long long pci_hole64_mib;	/* 0: auto */
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
	char *device;		/* one selector or several, "a,b" */
	char *mdev_type, *rom;
	unsigned int gpu_count;	/* [gpu] count, 0: unset */
	int virgl, fabric;
	/* [vfio] */
	int vfio_backend;	/* enum prof_vfio */

	size_t ndisks, nnets;
	struct prof_disk *disks;
	struct prof_net *nets;
	bool net_given;		/* a [network] section exists (else: one user NIC) */

	size_t nhostdevs, nusbs;
	struct prof_hostdev *hostdevs;
	struct prof_usb *usbs;
};

/* The line a key was set on, 0 when unset or set programmatically. */
int profile_line(const struct vfk_profile *p, const char *section, const char *key);

/* The most GPUs one VM takes: an 8-GPU board twice over. */
#define PROF_MAX_GPUS 16

/* "10de:2684": vendor:device ids, one form of the [gpu] device selector
 * (profile-values.c checks it, plan-gpu.c matches GPUs by it). */
bool profile_is_vendor_device(const char *s);
/* "disk", "disk.NAME": the section an element of a named array (disks,
 * nets, hostdevs, usbs) comes from, for messages (malloc'ed). */
char *profile_section_name(const char *kind, const char *id);
/* How many GPUs a stored [gpu] device ("a,b") names. */
size_t profile_selector_count(const char *device);

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
