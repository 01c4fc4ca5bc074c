/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpci is the field's reference for reading PCI devices, names and config
 * space, but its default error handler calls exit(). We install one that
 * longjmps back to the entry point that called into libpci, so a malformed
 * tree costs the caller an -EIO, not the process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <libudev.h>

#include "pcilib.h"

static __thread jmp_buf *pci_jmp;
static __thread struct vfk_ctx *pci_ctx;

static void pcilib_vlog(int prio, const char *msg, va_list ap)
{
	char buf[512];

	if (!pci_ctx || vfk_ctx_get_log_priority(pci_ctx) < prio)
		return;
	vsnprintf(buf, sizeof(buf), msg, ap);
	vfk_log(pci_ctx, prio, __FILE__, __LINE__, "libpci", "%s", buf);
}

static void __attribute__((noreturn)) pcilib_error(char *msg, ...)
{
	va_list ap;

	/* the caller turns this into one line; keep libpci's words for it */
	if (pci_ctx) {
		va_start(ap, msg);
		vsnprintf(pci_ctx->error, sizeof(pci_ctx->error), msg, ap);
		va_end(ap);
	}
	va_start(ap, msg);
	pcilib_vlog(LOG_DEBUG, msg, ap);
	va_end(ap);
	if (pci_jmp)
		longjmp(*pci_jmp, 1);
	/* Only reachable if libpci calls us outside a guarded entry point. */
	abort();
}

static void pcilib_warning(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	pcilib_vlog(LOG_WARNING, msg, ap);
	va_end(ap);
}

static void pcilib_debug(char *msg, ...)
{
	(void)msg;
}

/* Every call into libpci that may hit its error handler goes through this. */
#define PCI_GUARDED(ctx, on_error)                        \
	jmp_buf _jb;                                       \
	jmp_buf *_saved = pci_jmp;                          \
	struct vfk_ctx *_saved_ctx = pci_ctx;               \
	pci_ctx = (ctx);                                   \
	pci_jmp = &_jb;                                     \
	if (setjmp(_jb)) {                                  \
		pci_jmp = _saved;                           \
		pci_ctx = _saved_ctx;                       \
		on_error;                                   \
	}
#define PCI_UNGUARD()                \
	do {                         \
		pci_jmp = _saved;     \
		pci_ctx = _saved_ctx; \
	} while (0)

int pcilib_open(struct vfk_ctx *ctx, struct pci_access **out)
{
	struct pci_access *volatile pacc = NULL;
	_cleanup_free_ char *path = NULL;

	path = vfk_root_path(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_BUS);
	if (!path)
		return neg_errno(ENOMEM);
	pacc = pci_alloc();
	if (!pacc)
		return neg_errno(ENOMEM);
	pacc->error = pcilib_error;
	pacc->warning = pcilib_warning;
	pacc->debug = pcilib_debug;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	{
		PCI_GUARDED(ctx, return neg_errno(EIO));
		if (pci_set_param(pacc, (char *)"sysfs.path", path) < 0) {
			PCI_UNGUARD();
			pci_cleanup(pacc);
			return neg_errno(EINVAL);
		}
		pci_init(pacc);
		PCI_UNGUARD();
	}
	*out = pacc;
	return 0;
}

void pcilib_close(struct pci_access *pacc)
{
	if (pacc)
		pci_cleanup(pacc);
}

int pcilib_scan(struct vfk_ctx *ctx, struct pci_access *pacc)
{
	PCI_GUARDED(ctx, return neg_errno(EIO));
	pci_scan_bus(pacc);
	PCI_UNGUARD();
	return 0;
}

int pcilib_fill_ident(struct vfk_ctx *ctx, struct pci_dev *pdev)
{
	PCI_GUARDED(ctx, return neg_errno(EIO));
	pci_fill_info(pdev, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT);
	PCI_UNGUARD();
	return 0;
}

static bool hwdb_lookup(struct vfk_ctx *ctx, uint16_t vendor, uint16_t device, char *vname,
			size_t vsize, char *dname, size_t dsize)
{
	static __thread struct udev_hwdb *hwdb;
	static __thread bool tried;
	struct udev_list_entry *e;
	char modalias[64];
	bool found = false;

	if (!tried) {
		struct udev *udev = udev_new();
		tried = true;
		if (udev) {
			hwdb = udev_hwdb_new(udev);
			udev_unref(udev);
		}
	}
	if (!hwdb)
		return false;
	snprintf(modalias, sizeof(modalias), "pci:v%08Xd%08X*", vendor, device);
	udev_list_entry_foreach(e, udev_hwdb_get_properties_list_entry(hwdb, modalias, 0)) {
		const char *k = udev_list_entry_get_name(e), *v = udev_list_entry_get_value(e);
		if (streq(k, "ID_VENDOR_FROM_DATABASE") && !*vname) {
			snprintf(vname, vsize, "%s", v);
			found = true;
		} else if (streq(k, "ID_MODEL_FROM_DATABASE") && !*dname) {
			snprintf(dname, dsize, "%s", v);
			found = true;
		}
	}
	dbg(ctx, "hwdb %04x:%04x: %s", vendor, device, found ? "found" : "unknown");
	return found;
}

int pcilib_lookup_names(struct vfk_ctx *ctx, struct pci_access *pacc, uint16_t vendor,
			uint16_t device, char *vname, size_t vsize, char *dname, size_t dsize)
{
	const char *v, *d;

	vname[0] = dname[0] = '\0';
	{
		PCI_GUARDED(ctx, return neg_errno(EIO));
		v = pci_lookup_name(pacc, vname, (int)vsize,
				    PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB,
				    vendor);
		if (!v)
			vname[0] = '\0';
		d = pci_lookup_name(pacc, dname, (int)dsize,
				    PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB,
				    vendor, device);
		if (!d)
			dname[0] = '\0';
		PCI_UNGUARD();
	}
	if (v && v != vname)
		snprintf(vname, vsize, "%s", v);
	if (d && d != dname)
		snprintf(dname, dsize, "%s", d);
	if (!*vname || !*dname)
		hwdb_lookup(ctx, vendor, device, vname, vsize, dname, dsize);
	if (!*vname)
		snprintf(vname, vsize, "Vendor %04x", vendor);
	if (!*dname)
		snprintf(dname, dsize, "Device %04x", device);
	return 0;
}

static const char *lookup_class_guarded(struct pci_access *pacc, unsigned int cls, char *buf,
					int size)
{
	const char *n;

	PCI_GUARDED(pci_ctx, return NULL);
	n = pci_lookup_name(pacc, buf, size,
			    PCI_LOOKUP_CLASS | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, cls);
	PCI_UNGUARD();
	return n;
}

const char *pcilib_class_name(struct pci_access *pacc, unsigned int cls, char *buf, size_t size)
{
	const char *n = lookup_class_guarded(pacc, cls, buf, (int)size);

	if (!n) {
		snprintf(buf, size, "Class %04x", cls);
		return buf;
	}
	return n;
}

/* ACS control bits the kernel requires for isolation (pci_acs_enabled()):
 * source validation, P2P request redirect, P2P completion redirect,
 * upstream forwarding. Bits the port does not implement count as satisfied. */
#define ACS_CAP_REG	0x04
#define ACS_CTRL_REG	0x06
#define ACS_REQUIRED	(0x0001 | 0x0004 | 0x0008 | 0x0010)
#define PCI_EXT_CAP_ACS	0x000d

enum vfk_acs pcilib_read_acs(struct vfk_ctx *ctx, struct pci_dev *pdev)
{
	volatile enum vfk_acs res = VFK_ACS_UNKNOWN;
	u8 probe[4];
	struct pci_cap *cap;

	PCI_GUARDED(ctx, return VFK_ACS_UNKNOWN);
	/* Unprivileged readers get only the first 64 bytes of config space:
	 * then the answer is "unknown", never a guess. */
	if (!pci_read_block(pdev, 0x40, probe, sizeof(probe))) {
		res = VFK_ACS_UNKNOWN;
		goto out;
	}
	pci_fill_info(pdev, PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
	if (!pci_find_cap(pdev, PCI_CAP_ID_EXP, PCI_CAP_NORMAL)) {
		res = VFK_ACS_NOT_PCIE;
		goto out;
	}
	if (!pci_read_block(pdev, 0x100, probe, sizeof(probe))) {
		res = VFK_ACS_UNKNOWN;
		goto out;
	}
	cap = pci_find_cap(pdev, PCI_EXT_CAP_ACS, PCI_CAP_EXTENDED);
	if (!cap) {
		res = VFK_ACS_NONE;
	} else {
		u16 caps = pci_read_word(pdev, cap->addr + ACS_CAP_REG);
		u16 ctrl = pci_read_word(pdev, cap->addr + ACS_CTRL_REG);
		u16 need = ACS_REQUIRED & caps;
		res = (ctrl & need) == need ? VFK_ACS_ENABLED : VFK_ACS_DISABLED;
	}
out:
	PCI_UNGUARD();
	return res;
}
