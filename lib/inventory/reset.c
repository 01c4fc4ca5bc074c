/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reset between guests: does a device come back clean when a guest is done
 * with it? vfio-pci resets a device when a VM opens and releases it, with
 * the first of the kernel's reset methods that works: a device-specific
 * reset, ACPI _RST, FLR (PCIe DevCap, or the AF capability of conventional
 * PCI), a D3hot->D0 power-state reset (only without No_Soft_Reset), and a
 * secondary bus reset of its parent bridge, which resets everything on that
 * bus and so is done only when the bus holds nothing else (or, through
 * VFIO's hot reset, nothing one VM does not own). The facts come from config
 * space (pcilib.c), the kernel's reset_method and power_state attributes,
 * and the bus the device sits on.
 *
 * Some cards have a reset that does not bring them back: the "AMD reset
 * bug" of Polaris to Navi 4x. The table below names them by vendor:device
 * (display class only), with what is known to help. Given back to amdgpu
 * after a guest used them, they hang the driver and often the host: so the
 * table also decides which devices a restore leaves on their VFIO driver
 * (device_reset_hold(), used by lib/bind/restore.c).
 */
#include <stdarg.h>
#include <stdio.h>

#include "inventory/inventory.h"

#define PCI_VENDOR_AMD_ATI	0x1002
#define PCI_VENDOR_NVIDIA	0x10de

/* A family of cards the reset bug hits. @vga_only: VGA class (0300) only,
 * for families whose display-controller (0380) parts are server cards
 * handled by their own driver (the Radeon Pro V620 on gim). */
struct reset_row {
	uint16_t vendor;
	const uint16_t *ids;
	size_t nids;
	bool vga_only;
	const char *family;		/* "AMD Navi 21" */
	enum vfk_reset_quirk quirk;
};

/*
 * Device ids. Polaris 10/11/12, Vega 10/20, Navi 10/12/14 and Arcturus are
 * the devices gnif/vendor-reset resets (src/device-db.h, the module's
 * "Supported Devices"): neither FLR nor a bus reset brings them back, its
 * BACO/mode1 sequences do. Navi 21 to 24 are amdgpu's own pciidlist
 * (drivers/gpu/drm/amd/amdgpu/amdgpu_drv.c: CHIP_SIENNA_CICHLID,
 * NAVY_FLOUNDER, DIMGREY_CAVEFISH, BEIGE_GOBY) plus pci.ids' RX 6300; Navi
 * 3x and 4x are matched by amdgpu through IP discovery, so their ids come
 * from pci.ids (pciutils/pciids, 2026.08.22: "Navi 31/32/33/44/48"). What
 * each family does after a guest is what passthrough users keep reporting
 * (issue 20: r/VFIO, Level1Techs, the Proxmox forum): RX 6000 cards restart
 * in a VM but hang amdgpu when given back; RX 7000 and RX 9000 (9060 XT,
 * 9070) come back once per boot. vendor-reset has no sequence for them.
 */
static const uint16_t polaris10[] = { 0x67c0, 0x67c1, 0x67c2, 0x67c4, 0x67c7, 0x67c8, 0x67c9,
				      0x67ca, 0x67cc, 0x67cf, 0x67d0, 0x67df, 0x6fdf };
static const uint16_t polaris11[] = { 0x67e0, 0x67e1, 0x67e3, 0x67e7, 0x67e8, 0x67e9, 0x67eb,
				      0x67ef, 0x67ff };
static const uint16_t polaris12[] = { 0x6980, 0x6981, 0x6985, 0x6986, 0x6987, 0x6995, 0x6997,
				      0x699f };
static const uint16_t vega10[] = { 0x6860, 0x6861, 0x6862, 0x6863, 0x6864, 0x6867, 0x6868,
				   0x6869, 0x686a, 0x686b, 0x686c, 0x686d, 0x686e, 0x686f, 0x687f };
static const uint16_t vega20[] = { 0x66a0, 0x66a1, 0x66a2, 0x66a3, 0x66a4, 0x66a7, 0x66af };
static const uint16_t arcturus[] = { 0x738c };
static const uint16_t navi10[] = { 0x7310, 0x7312, 0x7318, 0x7319, 0x731a, 0x731b, 0x731e,
				   0x731f };
static const uint16_t navi12[] = { 0x7360, 0x7362 };
static const uint16_t navi14[] = { 0x7340, 0x7341, 0x7347, 0x734f };
static const uint16_t navi21[] = { 0x73a0, 0x73a1, 0x73a2, 0x73a3, 0x73a5, 0x73a8, 0x73a9,
				   0x73ab, 0x73ac, 0x73ad, 0x73ae, 0x73af, 0x73bf };
static const uint16_t navi22[] = { 0x73c0, 0x73c1, 0x73c3, 0x73da, 0x73db, 0x73dc, 0x73dd,
				   0x73de, 0x73df };
static const uint16_t navi23[] = { 0x73e0, 0x73e1, 0x73e2, 0x73e3, 0x73e8, 0x73e9, 0x73ea,
				   0x73eb, 0x73ec, 0x73ed, 0x73ef, 0x73ff };
static const uint16_t navi24[] = { 0x7420, 0x7421, 0x7422, 0x7423, 0x7424, 0x743f };
static const uint16_t navi31[] = { 0x7448, 0x7449, 0x744a, 0x744b, 0x744c, 0x745e };
static const uint16_t navi32[] = { 0x7460, 0x7461, 0x7470, 0x747e };
static const uint16_t navi33[] = { 0x73f0, 0x7480, 0x7481, 0x7483, 0x7487, 0x7489, 0x748b,
				   0x7499, 0x749f };
static const uint16_t navi44[] = { 0x7590 };
static const uint16_t navi48[] = { 0x7550, 0x7551 };

#define ROW(ids, vga, name, q) { PCI_VENDOR_AMD_ATI, ids, ARRAY_SIZE(ids), vga, name, q }
static const struct reset_row amd_rows[] = {
	ROW(polaris10, false, "AMD Polaris 10", VFK_RESET_QUIRK_VENDOR_RESET),
	ROW(polaris11, false, "AMD Polaris 11", VFK_RESET_QUIRK_VENDOR_RESET),
	ROW(polaris12, false, "AMD Polaris 12", VFK_RESET_QUIRK_VENDOR_RESET),
	ROW(vega10, false, "AMD Vega 10", VFK_RESET_QUIRK_VENDOR_RESET),
	ROW(vega20, false, "AMD Vega 20", VFK_RESET_QUIRK_VENDOR_RESET),
	ROW(arcturus, false, "AMD Arcturus", VFK_RESET_QUIRK_VENDOR_RESET),
	ROW(navi10, false, "AMD Navi 10", VFK_RESET_QUIRK_VENDOR_RESET),
	ROW(navi12, false, "AMD Navi 12", VFK_RESET_QUIRK_VENDOR_RESET),
	ROW(navi14, false, "AMD Navi 14", VFK_RESET_QUIRK_VENDOR_RESET),
	ROW(navi21, true, "AMD Navi 21", VFK_RESET_QUIRK_NO_RESET),
	ROW(navi22, true, "AMD Navi 22", VFK_RESET_QUIRK_NO_RESET),
	ROW(navi23, true, "AMD Navi 23", VFK_RESET_QUIRK_NO_RESET),
	ROW(navi24, true, "AMD Navi 24", VFK_RESET_QUIRK_NO_RESET),
	ROW(navi31, true, "AMD Navi 31", VFK_RESET_QUIRK_ONCE_PER_BOOT),
	ROW(navi32, true, "AMD Navi 32", VFK_RESET_QUIRK_ONCE_PER_BOOT),
	ROW(navi33, true, "AMD Navi 33", VFK_RESET_QUIRK_ONCE_PER_BOOT),
	ROW(navi44, true, "AMD Navi 44", VFK_RESET_QUIRK_ONCE_PER_BOOT),
	ROW(navi48, true, "AMD Navi 48", VFK_RESET_QUIRK_ONCE_PER_BOOT),
};
#undef ROW

/* NVIDIA's consumer GPUs mostly have no FLR; vfio-pci then resets them by a
 * bus reset of their port, which the GPU's own functions never block. */
static const struct reset_row nvidia_no_flr = {
	PCI_VENDOR_NVIDIA, NULL, 0, false, "NVIDIA GPU", VFK_RESET_QUIRK_NO_FLR,
};

static bool is_display(const struct vfk_device *d) { return (d->class >> 16) == 0x03; }

static const struct reset_row *amd_row(const struct vfk_device *d)
{
	size_t i, k;

	if (d->vendor_id != PCI_VENDOR_AMD_ATI || !is_display(d))
		return NULL;
	for (i = 0; i < ARRAY_SIZE(amd_rows); i++) {
		if (amd_rows[i].vga_only && (d->class >> 8) != 0x0300)
			continue;
		for (k = 0; k < amd_rows[i].nids; k++)
			if (amd_rows[i].ids[k] == d->device_id)
				return &amd_rows[i];
	}
	return NULL;
}

/* ------------------------------------------------------------ the facts */

/* Is @word one of the kernel's reset methods in @methods ("flr bus")? */
static bool has_method(const char *methods, const char *word)
{
	size_t n = strlen(word);
	const char *s;

	for (s = methods; s && (s = strstr(s, word)); s += n)
		if ((s == methods || s[-1] == ' ') && (s[n] == '\0' || s[n] == ' '))
			return true;
	return false;
}

/* vendor-reset makes the kernel's device_specific method work for its cards;
 * since Linux 5.15 it is used only when selected first in reset_method. */
static bool vendor_reset_selected(const char *methods)
{
	return methods && startswith(methods, "device_specific");
}

static bool module_loaded(struct vfk_ctx *ctx, const char *name)
{
	_cleanup_close_ int fd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_MODULE);

	return fd >= 0 && vfk_exists_at(fd, name);
}

/* It does not answer config reads while the kernel thinks it is powered:
 * what a reset that failed leaves ("not ready after FLR; giving up"). A VF
 * reads all ones by design, a device in D3cold is off; without power_state
 * (before Linux 5.19) nothing tells those apart. */
static bool stopped_answering(struct vfk_device *d, const struct vfk_device_details *det)
{
	return d->answers == 0 && !d->is_vf && det->power_state &&
	       !startswith(det->power_state, "D3");
}

/* The first device on @d's bus outside its slot (its own functions and their
 * VFs go to one VM with it), or NULL. Devices are sorted by address, so the
 * bus is one run of them, found by a binary search. */
static const struct vfk_device *bus_neighbour(const struct vfk_device *d)
{
	const struct vfk_host *h = d->host;
	struct vfk_pci_addr first = { .domain = d->addr.domain, .bus = d->addr.bus };
	size_t lo = 0, hi = h->ndevices, i;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pci_addr_cmp(&h->devices[mid].addr, &first) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < h->ndevices; i++) {
		const struct vfk_device *o = &h->devices[i];
		const struct vfk_device *pf = o->physfn ? o->physfn : o;
		if (o->addr.domain != d->addr.domain || o->addr.bus != d->addr.bus)
			break;
		if (pf->addr.bus != d->addr.bus || pf->addr.dev != d->addr.dev)
			return o;
	}
	return NULL;
}

/* ------------------------------------------------------------ verdicts */

struct judge {
	struct vfk_device *d;
	struct device_reset *r;
	const char *methods;		/* reset_method, NULL when absent */
	char reason[512], advice[768];
};

static void set(struct judge *j, enum vfk_reset_verdict v, const char *reason_fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set(struct judge *j, enum vfk_reset_verdict v, const char *reason_fmt, ...)
{
	va_list ap;

	j->r->verdict = v;
	va_start(ap, reason_fmt);
	vsnprintf(j->reason, sizeof(j->reason), reason_fmt, ap);
	va_end(ap);
}

/* The device's reset_method attribute by its host path (the path layer's
 * sysfs root, not the sysroot's copy): what the user types in the fix. */
static void reset_method_path(const struct vfk_device *d, char *buf, size_t size)
{
	char rel[96];
	_cleanup_free_ char *p = NULL;

	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/reset_method", d->address);
	p = vfk_root_host_path(VFK_ROOT_SYS, rel);
	snprintf(buf, size, "%s", p ? p : rel);
}

static void judge_vendor_reset(struct judge *j, const char *family)
{
	char path[160];

	if (vendor_reset_selected(j->methods)) {
		set(j, VFK_RESET_OK, "%s: reset by the vendor-reset module (device_specific is "
		    "its first reset method)", family);
		return;
	}
	j->r->keep = true;
	set(j, VFK_RESET_BROKEN, "%s does not reset without help (the AMD reset bug): neither "
	    "FLR nor a bus reset brings it back, the vendor-reset module does", family);
	reset_method_path(j->d, path, sizeof(path));
	/* since Linux 5.15 the kernel uses vendor-reset's reset only when told to */
	snprintf(j->advice, sizeof(j->advice), "%s: echo device_specific > %s; until then keep it "
		 "on vfio-pci and reboot to give it back to amdgpu",
		 module_loaded(j->d->host->ctx, "vendor_reset")
		 ? "vendor-reset is loaded, select its reset"
		 : "load the vendor-reset module early (modules-load.d and the initramfs) and "
		   "select its reset", path);
}

static void judge_row(struct judge *j, const struct reset_row *row)
{
	switch (row->quirk) {
	case VFK_RESET_QUIRK_VENDOR_RESET:
		judge_vendor_reset(j, row->family);
		return;
	case VFK_RESET_QUIRK_NO_RESET:
		j->r->keep = true;
		set(j, VFK_RESET_BROKEN, "%s does not reset (the AMD reset bug): once a guest has "
		    "used it, amdgpu cannot take it back and may hang the host", row->family);
		snprintf(j->advice, sizeof(j->advice), "keep it on vfio-pci (a VM restart can "
			 "have it again) and reboot to give it back to amdgpu; vfio-bind restore "
			 "leaves it there unless --force-native. Boot the host on another GPU "
			 "(the firmware's primary display) so this one stays uninitialised until "
			 "its guest; a guest that disables the card before it shuts down (a "
			 "shutdown script) leaves it in a state its next guest can start");
		return;
	case VFK_RESET_QUIRK_ONCE_PER_BOOT:
	default:
		j->r->keep = true;
		set(j, VFK_RESET_UNRELIABLE, "%s resets once per boot (the AMD reset bug): the "
		    "first guest gets a clean card, a second guest or amdgpu after it may not",
		    row->family);
		snprintf(j->advice, sizeof(j->advice), "start its VM once per boot, keep it on "
			 "vfio-pci, and reboot to give it back to amdgpu; vfio-bind restore leaves "
			 "it there unless --force-native. Boot the host on another GPU (the "
			 "firmware's primary display), and stop the VM with an ACPI shutdown "
			 "(vfio-vm down) rather than a reset or a power-off from inside the guest");
		return;
	}
}

/* No per-function reset: what a bus reset of its parent can do. */
static void judge_bus(struct judge *j, const char *who)
{
	const struct vfk_device *up = j->d->parent, *other;

	if (!up) {
		set(j, VFK_RESET_UNRELIABLE, "%s without FLR on the root bus: no bridge above "
		    "it can reset it, so the kernel has no reset for it", who);
		snprintf(j->advice, sizeof(j->advice), "a guest gets it as the last one left it: "
			 "reboot the host between guests that must not share it");
		return;
	}
	other = bus_neighbour(j->d);
	if (other) {
		set(j, VFK_RESET_UNRELIABLE, "%s without FLR: its reset is a bus reset of %s, but "
		    "that bus also holds %s, so it happens only when one VM has both", who,
		    up->address, other->address);
		snprintf(j->advice, sizeof(j->advice), "move it to a slot of its own, or give %s "
			 "to the same VM", other->address);
		return;
	}
	set(j, VFK_RESET_BUS_ONLY, "%s without FLR: reset by a bus reset of %s, whose bus holds "
	    "only its own functions (they go to one VM together)", who, up->address);
}

/* No table row: the reset the kernel would pick. */
static void judge_generic(struct judge *j)
{
	struct vfk_device *d = j->d;
	const char *m = j->methods;

	if (d->flr == 1 || has_method(m, "flr") || has_method(m, "af_flr"))
		set(j, VFK_RESET_OK, "FLR (Function Level Reset)");
	else if (has_method(m, "device_specific"))
		set(j, VFK_RESET_OK, "a device-specific reset the kernel knows");
	else if (has_method(m, "acpi"))
		set(j, VFK_RESET_OK, "the firmware's reset (ACPI _RST)");
	else if (has_method(m, "pm") || (!m && d->no_soft_reset == 0))
		set(j, VFK_RESET_OK, "a power-state reset (D3hot to D0; No_Soft_Reset is clear)");
	else if (d->flr < 0 && !m)
		set(j, VFK_RESET_UNKNOWN, "config space is not readable (run as root) and the "
		    "kernel does not list its reset methods");
	else if (d->vendor_id == PCI_VENDOR_NVIDIA && is_display(d)) {
		j->r->row = &nvidia_no_flr;
		judge_bus(j, "an NVIDIA GPU");
	} else {
		judge_bus(j, "a device");
	}
}

static void judge(struct judge *j, const struct vfk_device_details *det)
{
	struct vfk_device *d = j->d;

	if (vfk_device_is_bridge(d)) {
		set(j, VFK_RESET_UNKNOWN, "a bridge: never passed through");
	} else if (d->is_vf) {
		set(j, VFK_RESET_OK, "an SR-IOV VF: VFs always have FLR");
	} else if (stopped_answering(d, det)) {
		j->r->failed = j->r->keep = true;
		set(j, VFK_RESET_BROKEN, "it does not answer config reads although powered (%s): "
		    "its last reset failed", det->power_state);
		snprintf(j->advice, sizeof(j->advice), "reboot the host (or power it off) before "
			 "any driver takes it again; keep it on vfio-pci until then");
	} else if ((j->r->row = amd_row(d))) {
		judge_row(j, j->r->row);
	} else {
		judge_generic(j);
	}
}

/* The verdict, once per device; NULL only when memory ran out. */
static const struct device_reset *device_reset(const struct vfk_device *cdev)
{
	struct vfk_device *dev = (struct vfk_device *)cdev;	/* a cache, not a change */
	struct vfk_device_details *det = device_details(dev);
	struct judge j = { .d = dev };

	if (!det)
		return NULL;
	if (det->reset.judged)
		return &det->reset;
	device_read_caps(dev);
	j.r = &det->reset;
	j.methods = det->reset_method;
	judge(&j, det);
	j.r->reason = strpool_intern(&dev->host->strings, j.reason);
	j.r->advice = j.advice[0] ? strpool_intern(&dev->host->strings, j.advice) : NULL;
	j.r->judged = j.r->reason != NULL;
	return j.r->judged ? j.r : NULL;
}

/* ------------------------------------------------------------ public */

enum vfk_reset_verdict vfk_device_get_reset_verdict(const struct vfk_device *dev)
{
	const struct device_reset *r = device_reset(dev);

	return r ? r->verdict : VFK_RESET_UNKNOWN;
}

enum vfk_reset_quirk vfk_device_get_reset_quirk(const struct vfk_device *dev)
{
	const struct device_reset *r = device_reset(dev);

	return r && r->row ? r->row->quirk : VFK_RESET_QUIRK_NONE;
}

const char *vfk_device_get_reset_reason(const struct vfk_device *dev)
{
	const struct device_reset *r = device_reset(dev);

	return r ? r->reason : "unknown (out of memory)";
}

const char *vfk_device_get_reset_advice(const struct vfk_device *dev)
{
	const struct device_reset *r = device_reset(dev);

	return r ? r->advice : NULL;
}

int vfk_device_get_flr(const struct vfk_device *cdev)
{
	struct vfk_device *dev = (struct vfk_device *)cdev;	/* a cache */

	device_read_caps(dev);
	return dev->flr;
}

int vfk_device_get_no_soft_reset(const struct vfk_device *cdev)
{
	struct vfk_device *dev = (struct vfk_device *)cdev;	/* a cache */

	device_read_caps(dev);
	return dev->no_soft_reset;
}

/* The GPU @d is a function of, when that is not @d itself: its HDMI audio
 * goes and stays with it. */
static const struct vfk_device *gpu_of_function(const struct vfk_device *d)
{
	const struct vfk_host *h = d->host;
	size_t i, k;

	for (i = 0; i < h->ngpus; i++) {
		const struct vfk_gpu *g = &h->gpus[i];
		if (g->dev == d || g->dev->addr.bus != d->addr.bus ||
		    g->dev->addr.domain != d->addr.domain)
			continue;
		for (k = 0; k < g->nfunctions; k++)
			if (g->functions[k] == d)
				return g->dev;
	}
	return NULL;
}

bool vfk_device_reset_keeps_on_vfio(const struct vfk_device *dev)
{
	const struct device_reset *r = device_reset(dev);
	const struct vfk_device *g;

	if (r && r->keep)
		return true;
	g = gpu_of_function(dev);
	r = g ? device_reset(g) : NULL;
	return r && r->keep;
}

const char *device_reset_hold(const struct vfk_device *dev, char *why, size_t size,
			      bool *vendor_reset)
{
	const struct device_reset *r = device_reset(dev);
	const struct vfk_device *g = dev;

	*vendor_reset = false;
	if (!r || !r->keep) {
		g = gpu_of_function(dev);
		r = g ? device_reset(g) : NULL;
		if (!r || !r->keep)
			return NULL;
	}
	*vendor_reset = r->row && r->row->quirk == VFK_RESET_QUIRK_VENDOR_RESET;
	if (g == dev && r->failed)
		snprintf(why, size, "it did not come back from its last reset (it does not answer "
			 "config reads)");
	else if (g == dev)
		snprintf(why, size, "%s %s", r->row->family, r->row->quirk ==
			 VFK_RESET_QUIRK_ONCE_PER_BOOT ? "resets once per boot" : "does not reset");
	else if (r->failed)
		snprintf(why, size, "a function of %s, which did not come back from its last reset",
			 g->address);
	else
		snprintf(why, size, "a function of %s (%s), which %s", g->address, r->row->family,
			 r->row->quirk == VFK_RESET_QUIRK_ONCE_PER_BOOT ? "resets once per boot"
									 : "does not reset");
	return r->failed ? "reset-failed" : "no-reset";
}

const char *vfk_reset_verdict_to_string(enum vfk_reset_verdict verdict)
{
	switch (verdict) {
	case VFK_RESET_OK: return "ok";
	case VFK_RESET_BUS_ONLY: return "bus-reset-only";
	case VFK_RESET_UNRELIABLE: return "unreliable";
	case VFK_RESET_BROKEN: return "broken";
	case VFK_RESET_UNKNOWN:
	default: return "unknown";
	}
}

const char *vfk_reset_quirk_to_string(enum vfk_reset_quirk quirk)
{
	switch (quirk) {
	case VFK_RESET_QUIRK_NO_RESET: return "no-reset";
	case VFK_RESET_QUIRK_VENDOR_RESET: return "vendor-reset";
	case VFK_RESET_QUIRK_ONCE_PER_BOOT: return "once-per-boot";
	case VFK_RESET_QUIRK_NO_FLR: return "no-flr";
	case VFK_RESET_QUIRK_NONE:
	default: return "none";
	}
}
