/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libpci behind a wall: its exiting error handler can never end the program. */
#ifndef VFK_PCILIB_H
#define VFK_PCILIB_H
#include <pci/pci.h>
#include "core/internal.h"

/* A libpci handle for names and capability walks; it reads no device file
 * itself (see pcilib_read_acs()). Returns 0 or -EIO. */
int pcilib_open(struct vfk_ctx *ctx, struct pci_access **out);
void pcilib_close(struct pci_access *pacc);
/* Vendor and device names from pci.ids, then udev's hwdb; NULL when neither knows. */
int pcilib_lookup_names(struct vfk_ctx *ctx, struct pci_access *pacc, uint16_t vendor,
			uint16_t device, char *vname, size_t vsize, char *dname, size_t dsize);
/* Class name for a 16-bit base class + subclass; never NULL. */
const char *pcilib_class_name(struct pci_access *pacc, unsigned int cls, char *buf, size_t size);
/* ACS state from the extended capability 0x000d of the device's config file
 * (read by the path layer; libpci only walks the capabilities). */
enum vfk_acs pcilib_read_acs(struct vfk_ctx *ctx, struct pci_access *pacc,
			     const struct vfk_pci_addr *addr);
#endif
