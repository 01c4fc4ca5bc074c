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
/* What the capability walk of a device's config file says (read by the path
 * layer; libpci only walks the capabilities). */
#define PCILIB_NOT_PCIE	(-1)	/* no PCI Express capability: conventional PCI */
#define PCILIB_UNKNOWN	(-2)	/* config space not readable (not root?) */
struct pcilib_caps {
	enum vfk_acs acs;
	int pcie_type;		/* PCI_EXP_TYPE_* (0 endpoint ... 9 RCiEP), or one of the above */
	/* reset facts (reset.c): 1 yes, 0 no, -1 not readable. flr: Function
	 * Level Reset, from the PCIe DevCap or the conventional AF capability;
	 * no_soft_reset: the PM capability's No_Soft_Reset (a D3hot->D0
	 * transition keeps the device's state: no power-state reset); answers:
	 * the vendor id reads as something else than all ones */
	int flr, no_soft_reset, answers;
};
void pcilib_read_caps(struct vfk_ctx *ctx, struct pci_access *pacc,
		      const struct vfk_pci_addr *addr, struct pcilib_caps *out);
#endif
