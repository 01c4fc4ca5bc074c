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

#include "inventory/pcilib.h"

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

/* The pci.ids of a sysroot that is not the running host, when it has one
 * (a copied root, a fixture): its names, not this machine's. malloc'ed or
 * NULL (libpci's own file then). */
static char *sysroot_ids(struct vfk_ctx *ctx)
{
	static const char *const where[] = { "usr/share/misc", "usr/share/hwdata" };
	size_t i;

	if (vfk_ctx_is_live(ctx))
		return NULL;
	for (i = 0; i < ARRAY_SIZE(where); i++) {
		_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, where[i]);
		int fd = dfd >= 0 ? vfk_open_file_in(ctx, dfd, "pci.ids") : -1;

		if (fd >= 0) {
			char rel[64];

			close(fd);
			snprintf(rel, sizeof(rel), "%s/pci.ids", where[i]);
			return vfk_root_path(ctx, VFK_ROOT_TOP, rel);
		}
	}
	return NULL;
}

int pcilib_open(struct vfk_ctx *ctx, struct pci_access **out)
{
	struct pci_access *volatile pacc = NULL;
	_cleanup_free_ char *path = NULL;
	char *ids;

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
	if ((ids = sysroot_ids(ctx)))
		pci_set_name_list_path(pacc, ids, 1);	/* libpci frees it */
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

/* PMCSR bit 3: a D3hot->D0 transition keeps the device's state, so the
 * kernel's "pm" reset method does nothing for it (pci_pm_reset()). */
#define PM_CTRL_NO_SOFT_RESET	0x0008

/* The reset capabilities in the standard capability list: FLR from the PCIe
 * capability's DevCap, or for conventional PCI from the Advanced Features
 * capability (the kernel's "af_flr"); No_Soft_Reset from the PM capability
 * (-1 when there is none: no power-state reset either). */
static void reset_caps(struct pci_dev *pdev, const struct pci_cap *exp, struct pcilib_caps *out)
{
	struct pci_cap *cap;

	if (exp) {
		out->flr = !!(pci_read_long(pdev, exp->addr + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLRESET);
	} else {
		cap = pci_find_cap(pdev, PCI_CAP_ID_AF, PCI_CAP_NORMAL);
		out->flr = cap && (pci_read_byte(pdev, cap->addr + PCI_AF_CAP) & PCI_AF_CAP_FLR);
	}
	cap = pci_find_cap(pdev, PCI_CAP_ID_PM, PCI_CAP_NORMAL);
	out->no_soft_reset = cap ? !!(pci_read_word(pdev, cap->addr + PCI_PM_CTRL) &
				      PM_CTRL_NO_SOFT_RESET) : -1;
}

/* What the capability walk makes of a config space of @len bytes read by
 * vfiokit (libpci only parses it). */
static void caps_from_config(struct pci_dev *pdev, size_t len, struct pcilib_caps *out)
{
	struct pci_cap *cap;
	u16 caps, ctrl, need;

	pci_fill_info(pdev, PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
	cap = pci_find_cap(pdev, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
	reset_caps(pdev, cap, out);
	if (!cap) {
		out->acs = VFK_ACS_NOT_PCIE;
		out->pcie_type = PCILIB_NOT_PCIE;
		return;
	}
	out->pcie_type = (pci_read_word(pdev, cap->addr + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> 4;
	if (len < 0x104)
		return;		/* ACS stays unknown */
	cap = pci_find_cap(pdev, PCI_EXT_CAP_ACS, PCI_CAP_EXTENDED);
	if (!cap) {
		out->acs = VFK_ACS_NONE;
		return;
	}
	caps = pci_read_word(pdev, cap->addr + ACS_CAP_REG);
	ctrl = pci_read_word(pdev, cap->addr + ACS_CTRL_REG);
	need = ACS_REQUIRED & caps;
	out->acs = (ctrl & need) == need ? VFK_ACS_ENABLED : VFK_ACS_DISABLED;
}

/*
 * vfiokit reads the config file through the path layer (inside the sysroot,
 * a regular file, never a wait) and hands the bytes to libpci as the device's
 * cache. The cache covers all 4 KiB a capability walk can reach, so libpci
 * itself opens nothing below the sysroot; what the kernel did not hand out
 * reads as all ones, as libpci's own failed reads do.
 */
void pcilib_read_caps(struct vfk_ctx *ctx, struct pci_access *pacc,
		      const struct vfk_pci_addr *addr, struct pcilib_caps *out)
{
	static __thread u8 config[4096];
	struct pci_dev *volatile pdev = NULL;
	char rel[128], name[32];
	int n;

	out->acs = VFK_ACS_UNKNOWN;
	out->pcie_type = PCILIB_UNKNOWN;
	out->flr = out->no_soft_reset = out->answers = -1;
	vfk_pci_addr_format(addr, name, sizeof(name));
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/config", name);
	n = vfk_root_read_bytes(ctx, VFK_ROOT_SYS, rel, config, sizeof(config));
	/* the vendor id is in the 64 bytes anyone may read: whether the device
	 * answers at all is known even where its capabilities are not */
	if (n >= 2)
		out->answers = !(config[0] == 0xff && config[1] == 0xff);
	/* Unprivileged readers get only the first 64 bytes of config space:
	 * then the answer is "unknown", never a guess. */
	if (n < 0x100)
		return;
	/* a device powered off (D3cold) answers all ones: nothing is known */
	if (!out->answers)
		return;
	memset(config + n, 0xff, sizeof(config) - (size_t)n);
	{
		PCI_GUARDED(ctx, goto out);
		pdev = pci_get_dev(pacc, addr->domain, addr->bus, addr->dev, addr->fn);
		pci_setup_cache(pdev, config, (int)sizeof(config));
		caps_from_config(pdev, (size_t)n, out);
		PCI_UNGUARD();
	}
out:
	if (pdev)
		pci_free_dev(pdev);
}
