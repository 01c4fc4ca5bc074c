/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libpci behind a wall: its exiting error handler can never end the program. */
#ifndef VFK_PCILIB_H
#define VFK_PCILIB_H
#include <pci/pci.h>
#include "internal.h"

/* A libpci handle reading <sysroot>/sys/bus/pci. Returns 0 or -EIO. */
int pcilib_open(struct vfk_ctx *ctx, struct pci_access **out);
void pcilib_close(struct pci_access *pacc);
/* pci_scan_bus(); -EIO when libpci gave up. */
int pcilib_scan(struct vfk_ctx *ctx, struct pci_access *pacc);
/* Identity and class (incl. prog-if) of one device; -EIO when libpci gave up. */
int pcilib_fill_ident(struct vfk_ctx *ctx, struct pci_dev *pdev);
/* Vendor and device names from pci.ids, then udev's hwdb; NULL when neither knows. */
int pcilib_lookup_names(struct vfk_ctx *ctx, struct pci_access *pacc, uint16_t vendor,
			uint16_t device, char *vname, size_t vsize, char *dname, size_t dsize);
/* Class name for a 16-bit base class + subclass; never NULL. */
const char *pcilib_class_name(struct pci_access *pacc, unsigned int cls, char *buf, size_t size);
/* ACS state from the extended capability 0x000d. */
enum vfk_acs pcilib_read_acs(struct vfk_ctx *ctx, struct pci_dev *pdev);
#endif
