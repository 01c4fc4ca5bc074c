/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One PCI function: cheap identity fields, details read on first use. */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>

#include "inventory/inventory.h"
#include "inventory/pcilib.h"

int pci_addr_cmp(const struct vfk_pci_addr *a, const struct vfk_pci_addr *b)
{
	uint32_t x = ((uint32_t)a->domain << 16) | (a->bus << 8) | (a->dev << 3) | a->fn;
	uint32_t y = ((uint32_t)b->domain << 16) | (b->bus << 8) | (b->dev << 3) | b->fn;

	return x < y ? -1 : x > y;
}

struct vfk_device *host_lookup(const struct vfk_host *host, const struct vfk_pci_addr *a)
{
	size_t lo = 0, hi = host->ndevices;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = pci_addr_cmp(&host->devices[mid].addr, a);
		if (c == 0)
			return &host->devices[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int device_open_dir(const struct vfk_device *dev)
{
	char rel[64];

	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s", dev->address);
	return vfk_root_open_dir(dev->host->ctx, VFK_ROOT_SYS, rel);
}

/* The attributes device_details() reads, as bits of what the directory holds. */
static const char *const detail_names[] = {
	"subsystem_vendor", "subsystem_device", "revision", "numa_node", "local_cpulist",
	"reset_method", "reset", "power_state", "current_link_speed", "max_link_speed",
	"current_link_width", "max_link_width", "sriov_totalvfs", "sriov_numvfs",
};

/* Which of detail_names the directory @dfd holds: one listing instead of a
 * failed open for each attribute a kernel (or a tree) does not have. All of
 * them when it cannot be listed: then each open says. */
static unsigned int detail_present(int dfd)
{
	_cleanup_closedir_ DIR *d = NULL;
	unsigned int have = 0;
	struct dirent *e;
	size_t i;

	d = vfk_fdopendir(dup(dfd));
	if (!d)
		return ~0u;
	while ((e = readdir(d)))
		for (i = 0; i < ARRAY_SIZE(detail_names); i++)
			if (streq(e->d_name, detail_names[i]))
				have |= 1u << i;
	return have;
}

struct detail_reader {
	struct vfk_host *host;
	int dfd;
	unsigned int have;
};

static bool has_attr(const struct detail_reader *r, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(detail_names); i++)
		if (streq(detail_names[i], name))
			return r->have & (1u << i);
	return true;
}

static const char *read_str(const struct detail_reader *r, const char *name)
{
	char buf[256];

	if (!has_attr(r, name) || vfk_read_in(r->host->ctx, r->dfd, name, buf, sizeof(buf)) <= 0)
		return NULL;
	return strpool_intern(&r->host->strings, buf);
}

static unsigned long read_ulong(const struct detail_reader *r, const char *name,
				unsigned long dflt)
{
	long v;

	if (!has_attr(r, name) || vfk_read_long_in(r->host->ctx, r->dfd, name, &v) < 0 || v < 0)
		return dflt;
	return (unsigned long)v;
}

struct vfk_device_details *device_details(const struct vfk_device *cdev)
{
	struct vfk_device *dev = (struct vfk_device *)cdev;	/* a cache, not a change */
	struct vfk_device_details *d;
	_cleanup_close_ int dfd = -1;
	struct detail_reader r = { .host = dev->host };
	long numa;

	if (dev->details)
		return dev->details;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->numa_node = -1;
	dfd = device_open_dir(dev);
	if (dfd >= 0) {
		r.dfd = dfd;
		r.have = detail_present(dfd);
		d->subsys_vendor = (uint16_t)read_ulong(&r, "subsystem_vendor", 0);
		d->subsys_device = (uint16_t)read_ulong(&r, "subsystem_device", 0);
		d->revision = (uint8_t)read_ulong(&r, "revision", 0);
		if (has_attr(&r, "numa_node") &&
		    vfk_read_long_in(dev->host->ctx, dfd, "numa_node", &numa) == 0)
			d->numa_node = (int)numa;
		d->local_cpulist = read_str(&r, "local_cpulist");
		d->reset_method = read_str(&r, "reset_method");
		d->has_reset = has_attr(&r, "reset") && vfk_exists_at(dfd, "reset");
		d->power_state = read_str(&r, "power_state");
		d->link_speed = read_str(&r, "current_link_speed");
		d->max_link_speed = read_str(&r, "max_link_speed");
		d->link_width = (unsigned int)read_ulong(&r, "current_link_width", 0);
		d->max_link_width = (unsigned int)read_ulong(&r, "max_link_width", 0);
		d->sriov_totalvfs = (unsigned int)read_ulong(&r, "sriov_totalvfs", 0);
		d->sriov_numvfs = (unsigned int)read_ulong(&r, "sriov_numvfs", 0);
		/* "Unknown speed" / "255" mean the link is not reported */
		if (d->link_speed && startswith(d->link_speed, "Unknown"))
			d->link_speed = NULL;
		if (d->max_link_speed && startswith(d->max_link_speed, "Unknown"))
			d->max_link_speed = NULL;
		if (d->link_width == 255)
			d->link_width = 0;
		if (d->max_link_width == 255)
			d->max_link_width = 0;
	}
	dev->details = d;
	return d;
}

void device_details_free(struct vfk_device_details *d)
{
	free(d);	/* strings are interned in the host */
}

#define DETAIL(dev, field, dflt)                                        \
	({                                                              \
		struct vfk_device_details *_d = device_details(dev);    \
		_d ? _d->field : (dflt);                                \
	})

const char *vfk_device_get_address(const struct vfk_device *dev) { return dev->address; }
const struct vfk_pci_addr *vfk_device_get_addr(const struct vfk_device *dev) { return &dev->addr; }
uint32_t vfk_device_get_class(const struct vfk_device *dev) { return dev->class; }
uint16_t vfk_device_get_vendor_id(const struct vfk_device *dev) { return dev->vendor_id; }
uint16_t vfk_device_get_device_id(const struct vfk_device *dev) { return dev->device_id; }
const char *vfk_device_get_vendor_name(const struct vfk_device *dev)
{
	device_names(dev);
	return dev->vendor_name;
}
const char *vfk_device_get_device_name(const struct vfk_device *dev)
{
	device_names(dev);
	return dev->device_name;
}
const char *vfk_device_get_class_name(const struct vfk_device *dev)
{
	device_names(dev);
	return dev->class_name;
}
const char *vfk_device_get_driver(const struct vfk_device *dev) { return dev->driver; }
int vfk_device_get_iommu_group(const struct vfk_device *dev) { return dev->group; }
bool vfk_device_is_boot_vga(const struct vfk_device *dev) { return dev->boot_vga; }
bool vfk_device_is_vf(const struct vfk_device *dev) { return dev->is_vf; }
struct vfk_device *vfk_device_get_physfn(const struct vfk_device *dev) { return dev->physfn; }
struct vfk_device *vfk_device_get_parent(const struct vfk_device *dev) { return dev->parent; }

/* "pci0000:00", "pci10000:e0": "pci", a hex domain, ':', a hex bus. */
static bool root_bus_name(const char *s, size_t len)
{
	size_t i = 3, dom = 0;

	if (len < 8 || strncmp(s, "pci", 3) != 0)
		return false;
	for (; i < len && isxdigit((unsigned char)s[i]); i++)
		dom++;
	return dom >= 4 && dom <= 8 && i + 3 == len && s[i] == ':' &&
	       isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2]);
}

const char *vfk_device_get_pcie_root(const struct vfk_device *cdev)
{
	struct vfk_device *dev = (struct vfk_device *)cdev;	/* a cache */
	_cleanup_close_ int fd = -1;
	char target[PATH_MAX], name[16];
	const char *p, *next;
	bool below_devices = false;

	if (dev->root_known)
		return dev->pcie_root;
	dev->root_known = true;
	/* bus/pci/devices/0000:01:00.0 -> ../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0 */
	fd = vfk_root_open_dir(dev->host->ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	if (fd < 0 || vfk_readlink_at(fd, dev->address, target, sizeof(target)) < 0)
		return NULL;
	for (p = target; *p; p = *next ? next + 1 : next) {
		size_t len;

		next = strchrnul(p, '/');
		len = (size_t)(next - p);
		if (below_devices && root_bus_name(p, len)) {
			snprintf(name, sizeof(name), "%.*s", (int)len, p);
			dev->pcie_root = strpool_intern(&dev->host->strings, name);
			break;
		}
		if (len == 7 && strncmp(p, "devices", 7) == 0)
			below_devices = true;
	}
	return dev->pcie_root;
}

uint16_t vfk_device_get_subsystem_vendor_id(const struct vfk_device *dev)
{
	return DETAIL(dev, subsys_vendor, 0);
}
uint16_t vfk_device_get_subsystem_device_id(const struct vfk_device *dev)
{
	return DETAIL(dev, subsys_device, 0);
}
uint8_t vfk_device_get_revision(const struct vfk_device *dev) { return DETAIL(dev, revision, 0); }
const char *vfk_device_get_driver_override(const struct vfk_device *cdev)
{
	struct vfk_device *dev = (struct vfk_device *)cdev;	/* a cache */
	const char *ovr = NULL;
	char rel[64], buf[256];
	int r;

	if (dev->override_known)
		return dev->override;
	/* its own read: listings show it for every device, the details not;
	 * by its path in the sysroot, so no directory is opened for it.
	 * driver_override is an attribute of every PCI device (Linux 3.16+):
	 * when the first device read has none, the kernel (or the tree's
	 * maker) has it for none, and no other device is asked */
	dev->override_known = true;
	if (dev->host->has_override < 0)
		return NULL;
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/driver_override", dev->address);
	r = vfk_root_read_attr(dev->host->ctx, VFK_ROOT_SYS, rel, buf, sizeof(buf));
	if (!dev->host->has_override)
		dev->host->has_override = r == -ENOENT ? -1 : 1;
	if (r > 0)
		ovr = strpool_intern(&dev->host->strings, buf);
	/* the kernel prints "(null)" for an unset override */
	dev->override = (ovr && !streq(ovr, "(null)")) ? ovr : NULL;
	dev->override_known = true;
	return dev->override;
}
int vfk_device_get_numa_node(const struct vfk_device *dev) { return DETAIL(dev, numa_node, -1); }
const char *vfk_device_get_local_cpulist(const struct vfk_device *dev)
{
	return DETAIL(dev, local_cpulist, NULL);
}
const char *vfk_device_get_reset_method(const struct vfk_device *dev)
{
	return DETAIL(dev, reset_method, NULL);
}
bool vfk_device_has_reset(const struct vfk_device *dev) { return DETAIL(dev, has_reset, false); }
const char *vfk_device_get_power_state(const struct vfk_device *dev)
{
	return DETAIL(dev, power_state, NULL);
}
const char *vfk_device_get_link_speed(const struct vfk_device *dev)
{
	return DETAIL(dev, link_speed, NULL);
}
const char *vfk_device_get_max_link_speed(const struct vfk_device *dev)
{
	return DETAIL(dev, max_link_speed, NULL);
}
unsigned int vfk_device_get_link_width(const struct vfk_device *dev)
{
	return DETAIL(dev, link_width, 0);
}
unsigned int vfk_device_get_max_link_width(const struct vfk_device *dev)
{
	return DETAIL(dev, max_link_width, 0);
}
unsigned int vfk_device_get_sriov_totalvfs(const struct vfk_device *dev)
{
	return DETAIL(dev, sriov_totalvfs, 0);
}
unsigned int vfk_device_get_sriov_numvfs(const struct vfk_device *dev)
{
	return DETAIL(dev, sriov_numvfs, 0);
}

bool vfk_device_is_bridge(const struct vfk_device *dev)
{
	unsigned int cls = dev->class >> 8;

	return cls == 0x0600 || cls == 0x0604 || cls == 0x0609;
}

bool vfk_device_is_gpu(const struct vfk_device *dev)
{
	unsigned int cls = dev->class >> 8;

	return cls == 0x0300 || cls == 0x0302 || cls == 0x0380;
}

enum vfk_acs vfk_device_get_acs(const struct vfk_device *cdev)
{
	struct vfk_device *dev = (struct vfk_device *)cdev;	/* a cache */

	device_read_caps(dev);
	return dev->acs;
}

void device_read_caps(struct vfk_device *dev)
{
	struct pcilib_caps caps;

	if (dev->caps_known)
		return;
	pcilib_read_caps(dev->host->ctx, dev->host->pacc, &dev->addr, &caps);
	dev->acs = caps.acs;
	dev->pcie_type = caps.pcie_type;
	dev->flr = (int8_t)caps.flr;
	dev->no_soft_reset = (int8_t)caps.no_soft_reset;
	dev->answers = (int8_t)caps.answers;
	dev->caps_known = true;
}

const char *vfk_acs_describe(enum vfk_acs acs)
{
	switch (acs) {
	case VFK_ACS_ENABLED: return "ACS: isolates below";
	case VFK_ACS_NONE: return "no ACS";
	case VFK_ACS_DISABLED: return "ACS not enabled";
	case VFK_ACS_NOT_PCIE: return "conventional PCI: no isolation below";
	case VFK_ACS_UNKNOWN:
	default: return "ACS unknown (run as root)";
	}
}

const char *vfk_acs_to_string(enum vfk_acs acs)
{
	switch (acs) {
	case VFK_ACS_NONE: return "none";
	case VFK_ACS_DISABLED: return "disabled";
	case VFK_ACS_ENABLED: return "enabled";
	case VFK_ACS_NOT_PCIE: return "not-pcie";
	case VFK_ACS_UNKNOWN:
	default: return "unknown";
	}
}
