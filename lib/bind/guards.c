/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host guards: the devices a host cannot lose (its root disk controller, the
 * NIC of its default route) and the things that make a driver change hurt
 * (processes holding the device, mdevs and VFs hanging off it, other tools'
 * configuration for it).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>

#include "bind/guards.h"

/* Does the sysfs path @path pass through (or end at) PCI device @addr? */
static bool path_has_device(const char *path, const char *addr)
{
	const char *p = path;
	size_t alen = strlen(addr);

	while ((p = strstr(p, addr))) {
		bool start = p == path || p[-1] == '/';
		bool end = p[alen] == '\0' || p[alen] == '/';
		if (start && end)
			return true;
		p += alen;
	}
	return false;
}

static bool name_ok(const char *s)
{
	if (!*s || streq(s, ".") || streq(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || !isprint((unsigned char)*s))
			return false;
	return true;
}

/* Block device of "/" from mountinfo: "maj:min" of the last mount on "/". */
static bool root_block_dev(struct vfk_ctx *ctx, char *majmin, size_t size)
{
	_cleanup_close_ int pfd = -1;
	_cleanup_free_ char *text = malloc(1 << 18);
	char *line, *save = NULL;
	bool found = false;

	if (!text)
		return false;
	pfd = vfk_root_open_dir(ctx, VFK_ROOT_PROC, "self");
	if (pfd < 0 || vfk_read_in(ctx, pfd, "mountinfo", text, 1 << 18) < 0)
		return false;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char mm[32], mnt[256];
		unsigned int maj, min;
		int n = 0;
		/* "maj:min" and nothing else: it becomes the path dev/block/MAJ:MIN */
		if (sscanf(line, "%*d %*d %31s %*s %255s", mm, mnt) == 2 && streq(mnt, "/") &&
		    sscanf(mm, "%u:%u%n", &maj, &min, &n) == 2 && (size_t)n == strlen(mm) &&
		    strspn(mm, "0123456789:") == strlen(mm)) {
			snprintf(majmin, size, "%s", mm);
			found = true;
		}
	}
	return found && !startswith(majmin, "0:");
}

/* Called with each sysfs path a walk finds; true ends the walk. */
typedef bool (*path_fn)(void *data, const char *path);

static bool path_is_on(void *addr, const char *path)
{
	return path_has_device(path, addr);
}

/* The sysfs paths of block device @rel (below sys, e.g. "dev/block/259:0" or
 * "class/block/sda2") and of everything it is stacked on, to @fn. */
static bool block_walk(struct vfk_ctx *ctx, int sysfd, const char *rel, int depth, path_fn fn, void *data)
{
	char target[PATH_MAX], slaves[300];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;

	if (depth > 4)
		return false;
	if (vfk_readlink_at(sysfd, rel, target, sizeof(target)) > 0 && fn(data, target))
		return true;
	/* dm, md, LVM: follow the devices it is built from */
	snprintf(slaves, sizeof(slaves), "%s/slaves", rel);
	d = vfk_fdopendir(vfk_open_dir_in(ctx, sysfd, slaves));
	if (!d)
		return false;
	while ((e = readdir(d))) {
		char sub[300];
		if (e->d_name[0] == '.' || !name_ok(e->d_name))
			continue;
		snprintf(sub, sizeof(sub), "class/block/%s", e->d_name);
		if (block_walk(ctx, sysfd, sub, depth + 1, fn, data))
			return true;
	}
	return false;
}

/* Does block device @rel or anything it is stacked on sit on @addr? (The
 * guards walk once for all devices; fuzz/fuzz-guards.c drives the walk here.) */
_unused_ static bool block_on_device(struct vfk_ctx *ctx, int sysfd, const char *rel,
				     const char *addr, int depth)
{
	return block_walk(ctx, sysfd, rel, depth, path_is_on, (void *)addr);
}

/* The sysfs paths of interface @ifname's device and of the ports below it, to @fn. */
static bool netdev_walk(struct vfk_ctx *ctx, int sysfd, const char *ifname, int depth, path_fn fn, void *data)
{
	char rel[300], target[PATH_MAX];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;

	if (depth > 4 || !name_ok(ifname))
		return false;
	snprintf(rel, sizeof(rel), "class/net/%s/device", ifname);
	if (vfk_readlink_at(sysfd, rel, target, sizeof(target)) > 0 && fn(data, target))
		return true;
	/* bridges, bonds, VLANs: the ports below them */
	snprintf(rel, sizeof(rel), "class/net/%s", ifname);
	d = vfk_fdopendir(vfk_open_dir_in(ctx, sysfd, rel));
	if (!d)
		return false;
	while ((e = readdir(d))) {
		if (startswith(e->d_name, "lower_") &&
		    netdev_walk(ctx, sysfd, e->d_name + 6, depth + 1, fn, data))
			return true;
		if (streq(e->d_name, "brif")) {
			_cleanup_closedir_ DIR *b = NULL;
			struct dirent *be;
			int bfd = openat(dirfd(d), "brif", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (!(b = vfk_fdopendir(bfd)))
				continue;
			while ((be = readdir(b)))
				if (be->d_name[0] != '.' &&
				    netdev_walk(ctx, sysfd, be->d_name, depth + 1, fn, data))
					return true;
		}
	}
	return false;
}

/* Does interface @ifname or a port below it sit on @addr? (As block_on_device.) */
_unused_ static bool netdev_on_device(struct vfk_ctx *ctx, int sysfd, const char *ifname, const char *addr, int depth)
{
	return netdev_walk(ctx, sysfd, ifname, depth, path_is_on, (void *)addr);
}

/* Interfaces carrying a default route (IPv4 and IPv6), space separated. */
static void default_route_ifaces(struct vfk_ctx *ctx, char *out, size_t size)
{
	_cleanup_close_ int nfd = -1;
	_cleanup_free_ char *text = malloc(1 << 16);
	char *line, *save = NULL;

	out[0] = '\0';
	if (!text)
		return;
	nfd = vfk_root_open_dir(ctx, VFK_ROOT_PROC, "net");
	if (nfd < 0)
		return;
	if (vfk_read_in(ctx, nfd, "route", text, 1 << 16) > 0)
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char ifn[64], dst[16], mask[16];
			if (sscanf(line, "%63s %15s %*s %*s %*s %*s %*s %15s", ifn, dst, mask) == 3 &&
			    streq(dst, "00000000") && streq(mask, "00000000") &&
			    strlen(out) + strlen(ifn) + 2 < size) {
				strcat(out, ifn);
				strcat(out, " ");
			}
		}
	save = NULL;
	if (vfk_read_in(ctx, nfd, "ipv6_route", text, 1 << 16) > 0)
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char dst[40], plen[4], ifn[64];
			if (sscanf(line, "%39s %3s %*s %*s %*s %*s %*s %*s %*s %63s", dst, plen, ifn) == 3 &&
			    streq(plen, "00") && strspn(dst, "0") == 32 && !streq(ifn, "lo") &&
			    strlen(out) + strlen(ifn) + 2 < size) {
				strcat(out, ifn);
				strcat(out, " ");
			}
		}
}

/* ---------------------------------------------------- host-wide facts */

/* A sysfs path the host cannot lose a device under. */
struct need {
	char *path;
	char *iface;	/* carries the default route; NULL: holds the root filesystem */
};

/* An 'options vfio-pci ids=...' line of /etc/modprobe.d/FILE. */
struct claim {
	char *file, *ids;
};

/* What the guards read of the host as a whole, whichever device they check. */
struct guard_facts {
	char majmin[32];	/* the block device of "/" */
	struct need *needs;
	size_t nneeds, needs_cap;
	struct claim *claims;
	size_t nclaims, claims_cap;
	char cmdline[4096];	/* "" when unreadable */
	int driverctl_fd;	/* etc/driverctl.d, or -1 */
	int err;		/* -ENOMEM while reading */
};

struct collect {
	struct guard_facts *f;
	const char *iface;
};

static bool collect_need(void *data, const char *path)
{
	struct collect *c = data;
	struct guard_facts *f = c->f;
	struct need *n;

	if (GROW_ARRAY(f->needs, f->needs_cap, f->nneeds + 1) < 0) {
		f->err = -ENOMEM;
		return true;
	}
	n = &f->needs[f->nneeds];
	n->path = strdup(path);
	n->iface = c->iface ? strdup(c->iface) : NULL;
	if (!n->path || (c->iface && !n->iface)) {
		free(n->path);
		free(n->iface);
		f->err = -ENOMEM;
		return true;
	}
	f->nneeds++;
	return false;
}

/* The paths of the root filesystem's block devices, then of the default
 * route's interfaces: the order guard_host_needs() reports them in. */
static void read_needs(struct vfk_ctx *ctx, struct guard_facts *f)
{
	_cleanup_close_ int sysfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, "");
	char rel[64], ifaces[512], *ifn, *save = NULL;
	struct collect c = { f, NULL };

	if (sysfd < 0)
		return;
	if (root_block_dev(ctx, f->majmin, sizeof(f->majmin))) {
		snprintf(rel, sizeof(rel), "dev/block/%s", f->majmin);
		block_walk(ctx, sysfd, rel, 0, collect_need, &c);
	}
	default_route_ifaces(ctx, ifaces, sizeof(ifaces));
	for (ifn = strtok_r(ifaces, " ", &save); ifn && !f->err; ifn = strtok_r(NULL, " ", &save)) {
		c.iface = ifn;
		netdev_walk(ctx, sysfd, ifn, 0, collect_need, &c);
	}
}

static void add_claim(struct guard_facts *f, const char *file, const char *ids)
{
	struct claim *c;

	if (GROW_ARRAY(f->claims, f->claims_cap, f->nclaims + 1) < 0) {
		f->err = -ENOMEM;
		return;
	}
	c = &f->claims[f->nclaims];
	c->file = strdup(file);
	c->ids = strdup(ids);
	if (!c->file || !c->ids) {
		free(c->file);
		free(c->ids);
		f->err = -ENOMEM;
		return;
	}
	f->nclaims++;
}

/* The 'options vfio-pci ids=' lines of the .conf files in /etc/modprobe.d, in
 * directory order. */
static void read_claims(struct vfk_ctx *ctx, struct guard_facts *f)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int fd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, "etc/modprobe.d");

	if (!(d = vfk_fdopendir(fd)))
		return;
	while (!f->err && (e = readdir(d))) {
		char text[8192], *line, *save = NULL;
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".conf") ||
		    vfk_read_in(ctx, dirfd(d), e->d_name, text, sizeof(text)) <= 0)
			continue;
		for (line = strtok_r(text, "\n", &save); line && !f->err;
		     line = strtok_r(NULL, "\n", &save)) {
			char *ids;
			while (*line == ' ' || *line == '\t')
				line++;
			if (!startswith(line, "options") ||
			    (!strstr(line, "vfio-pci") && !strstr(line, "vfio_pci")))
				continue;
			ids = strstr(line, "ids=");
			if (ids)
				add_claim(f, e->d_name, ids + 4);
		}
	}
}

static void facts_free(struct guard_facts *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->nneeds; i++) {
		free(f->needs[i].path);
		free(f->needs[i].iface);
	}
	for (i = 0; i < f->nclaims; i++) {
		free(f->claims[i].file);
		free(f->claims[i].ids);
	}
	free(f->needs);
	free(f->claims);
	if (f->driverctl_fd >= 0)
		close(f->driverctl_fd);
	free(f);
}

static int facts_read(struct vfk_host *host, bool needs, struct guard_facts **out)
{
	struct vfk_ctx *ctx = host->ctx;
	_cleanup_close_ int pfd = -1;
	struct guard_facts *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->driverctl_fd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, "etc/driverctl.d");
	if (f->driverctl_fd < 0)
		f->driverctl_fd = -1;
	pfd = vfk_root_open_dir(ctx, VFK_ROOT_PROC, "");
	if (pfd < 0 || vfk_read_in(ctx, pfd, "cmdline", f->cmdline, sizeof(f->cmdline)) <= 0)
		f->cmdline[0] = '\0';
	if (needs)
		read_needs(ctx, f);
	read_claims(ctx, f);
	if (f->err) {
		r = f->err;
		facts_free(f);
		return r;
	}
	*out = f;
	return 0;
}

int guard_facts_keep(struct vfk_host *host)
{
	guard_facts_drop(host);
	return facts_read(host, true, &host->guard_facts);
}

void guard_facts_drop(struct vfk_host *host)
{
	facts_free(host->guard_facts);
	host->guard_facts = NULL;
}

/* The kept facts, else a fresh read into *@own for the caller to free. */
static struct guard_facts *facts_of(struct vfk_host *host, struct guard_facts **own)
{
	*own = NULL;
	if (host->guard_facts)
		return host->guard_facts;
	return facts_read(host, true, own) == 0 ? *own : NULL;
}

const char *guard_host_needs(struct vfk_host *host, const struct vfk_device *dev)
{
	struct guard_facts *own, *f;
	const char *why = NULL;
	char buf[600];
	size_t i;

	if (vfk_device_is_bridge(dev))
		return NULL;	/* bridges are never handed over anyway */
	f = facts_of(host, &own);
	if (!f)	/* never "not needed" for want of memory */
		return "the host's own devices could not be checked (out of memory)";
	for (i = 0; i < f->nneeds && !why; i++) {
		if (!path_has_device(f->needs[i].path, dev->address))
			continue;
		if (f->needs[i].iface)
			snprintf(buf, sizeof(buf), "%s carries the default route (%s)", dev->address,
				 f->needs[i].iface);
		else
			snprintf(buf, sizeof(buf), "%s holds the root filesystem (block device %s)",
				 dev->address, f->majmin);
		why = strpool_intern(&host->strings, buf);
		if (!why)
			why = "the host needs it (out of memory for the details)";
	}
	facts_free(own);
	return why;
}

int guard_holders(struct vfk_host *host, const struct vfk_device *dev, char *buf, size_t size)
{
	return device_holders(host, dev, buf, size);
}

static bool looks_like_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* The mdev children of a parent: directories named by UUID beside its attributes. */
static int name_mdev_children(const struct vfk_device *dev, char *buf, size_t size)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int dfd, mdevs = 0;

	dfd = device_open_dir(dev);
	if (!(d = vfk_fdopendir(dfd)))
		return 0;
	while ((e = readdir(d))) {
		if (!looks_like_uuid(e->d_name))
			continue;
		if (!mdevs)
			snprintf(buf, size, "%s has mediated devices (%s", dev->address, e->d_name);
		else if (strlen(buf) + 40 < size)
			snprintf(buf + strlen(buf), size - strlen(buf), ", %s", e->d_name);
		mdevs++;
	}
	if (mdevs)
		snprintf(buf + strlen(buf), size - strlen(buf),
			 "); remove them first (vfio-mdev remove UUID)");
	return mdevs;
}

int guard_dependents(struct vfk_host *host, const struct vfk_device *dev, char *buf, size_t size)
{
	char rel[96];
	long numvfs = 0;
	int fd;

	buf[0] = '\0';
	/* Two probes instead of listing the directory: the kernel gives every mdev
	 * parent an mdev_supported_types directory, and only SR-IOV PFs have
	 * sriov_numvfs. Most endpoints have neither, and a group can have 16k. */
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/mdev_supported_types", dev->address);
	fd = vfk_root_open_dir(host->ctx, VFK_ROOT_SYS, rel);
	if (fd >= 0) {
		close(fd);
		if (name_mdev_children(dev, buf, size))
			return 1;
	}
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/sriov_numvfs", dev->address);
	if (vfk_root_read_long(host->ctx, VFK_ROOT_SYS, rel, &numvfs) == 0 && numvfs > 0) {
		snprintf(buf, size,
			 "%s has %ld SR-IOV VFs enabled; changing the PF's driver destroys them "
			 "(set sriov_numvfs to 0 first)", dev->address, numvfs);
		return 1;
	}
	return 0;
}

/* Is vendor:device listed in an "ids=" value ("10de:2684,10de:22ba")? */
static bool ids_contain(const char *ids, uint16_t vendor, uint16_t device)
{
	char want[16];
	const char *p = ids;

	snprintf(want, sizeof(want), "%04x:%04x", vendor, device);
	while (*p) {
		size_t n = strcspn(p, ", \t\n");
		if (n == 9 && !strncasecmp(p, want, 9))
			return true;
		p += n;
		if (*p != ',')
			break;
		p++;
	}
	return false;
}

enum claim_kind { CLAIM_NONE, CLAIM_DRIVERCTL, CLAIM_CMDLINE, CLAIM_MODPROBE };

/* Who else decides @dev's driver at boot; *file names the modprobe.d file. */
static enum claim_kind claim_of(const struct guard_facts *f, const struct vfk_device *dev,
				const char **file)
{
	char rel[64];
	const char *ids;
	size_t i;

	snprintf(rel, sizeof(rel), "pci-%s.conf", dev->address);
	if (f->driverctl_fd >= 0 && vfk_exists_at(f->driverctl_fd, rel))
		return CLAIM_DRIVERCTL;
	ids = strstr(f->cmdline, "vfio-pci.ids=");
	if (!ids)
		ids = strstr(f->cmdline, "vfio_pci.ids=");
	if (ids && ids_contain(ids + 13, dev->vendor_id, dev->device_id))
		return CLAIM_CMDLINE;
	for (i = 0; i < f->nclaims; i++)
		if (ids_contain(f->claims[i].ids, dev->vendor_id, dev->device_id)) {
			*file = f->claims[i].file;
			return CLAIM_MODPROBE;
		}
	return CLAIM_NONE;
}

static int conflicts(const struct guard_facts *f, const struct vfk_device *dev, char *buf,
		     size_t size)
{
	const char *file = NULL;

	switch (claim_of(f, dev, &file)) {
	case CLAIM_DRIVERCTL:
		snprintf(buf, size,
			 "driverctl also overrides %s (/etc/driverctl.d/pci-%s.conf): it will "
			 "re-apply its driver at boot; run 'driverctl unset-override %s'",
			 dev->address, dev->address, dev->address);
		return 1;
	case CLAIM_CMDLINE:
		snprintf(buf, size,
			 "vfio-pci.ids= on the kernel command line claims %04x:%04x: every such "
			 "device goes to vfio-pci at boot, whatever vfiokit restores",
			 dev->vendor_id, dev->device_id);
		return 1;
	case CLAIM_MODPROBE:
		snprintf(buf, size,
			 "'options vfio-pci ids=' in /etc/modprobe.d/%s claims %04x:%04x: "
			 "every such device goes to vfio-pci when the module loads",
			 file, dev->vendor_id, dev->device_id);
		return 1;
	case CLAIM_NONE:
		break;
	}
	return 0;
}

int guard_vfio_claim(struct vfk_host *host, const struct vfk_device *dev, char *buf, size_t size)
{
	struct guard_facts *own = NULL, *f = host->guard_facts;
	const char *file = NULL;
	int r = 1;

	buf[0] = '\0';
	if (!f && facts_read(host, false, &own) < 0)
		return 0;	/* a preference only: nothing lost */
	switch (claim_of(f ? f : own, dev, &file)) {
	case CLAIM_CMDLINE:
		snprintf(buf, size, "named in vfio-pci.ids= on the kernel command line");
		break;
	case CLAIM_MODPROBE:
		snprintf(buf, size, "named in 'options vfio-pci ids=' (/etc/modprobe.d/%s)", file);
		break;
	default:
		r = 0;
	}
	facts_free(own);
	return r;
}

int guard_conflicts(struct vfk_host *host, const struct vfk_device *dev, char *buf, size_t size)
{
	struct guard_facts *own, *f = facts_of(host, &own);
	int r = 0;

	buf[0] = '\0';
	if (!f) {
		snprintf(buf, size, "%s: other tools' claims on it could not be checked (out of "
			 "memory)", dev->address);
		return 1;
	}
	r = conflicts(f, dev, buf, size);
	facts_free(own);
	return r;
}
