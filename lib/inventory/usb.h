/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's USB devices as usb.c reads them from sysfs: what a profile's
 * [usb] sections are matched against.
 */
#ifndef VFK_USB_H
#define VFK_USB_H

#include "core/internal.h"

struct usb_device {
	char name[32];		/* the kernel's name: "1-1.2", "usb1" for a root hub */
	uint16_t vendor, product;
	unsigned int bus, devnum;
	char port[32];		/* devpath: "1.2" ("0" for a root hub) */
	unsigned int cls;	/* bDeviceClass: USB_CLASS_HUB for hubs */
	char desc[128];		/* manufacturer and product, printable ASCII; may be "" */
};

#define USB_CLASS_HUB 0x09

struct usb_list {
	size_t n, cap;
	struct usb_device *v;
};

/*
 * Every USB device below <sysroot>/sys/bus/usb/devices, sorted by bus and
 * port; interfaces ("1-1:1.0") are left out, and so is an entry whose ids,
 * bus, address or port cannot be read. No USB at all is an empty list.
 * 0 or -ENOMEM.
 */
int usb_devices_read(struct vfk_ctx *ctx, struct usb_list *out);
void usb_list_free(struct usb_list *l);

#endif
