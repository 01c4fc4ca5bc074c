/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One snapshot of the host: every PCI function (the names below
 * <sysroot>/sys/bus/pci/devices, read inside the sysroot), its driver and
 * IOMMU group from the kernel's links, the groups themselves and the GPU
 * model on top.
 *
 * Layer inventory/: owns the host snapshot: PCI functions, IOMMU groups,
 * GPUs, names (libpci, udev's hwdb) and the CPU topology. May call core/ only
 * (lib/README.md).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>

#include "inventory/inventory.h"
#include "inventory/pcilib.h"

static int cmp_device(const void *a, const void *b)
{
	return pci_addr_cmp(&((const struct vfk_device *)a)->addr,
			    &((const struct vfk_device *)b)->addr);
}

static int cmp_addr(const void *a, const void *b)
{
	return pci_addr_cmp(a, b);
}

static void parse_int_name(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end != s && *end == '\0' && v >= 0 && v <= INT_MAX)
		*out = (int)v;
}

/*
 * The directory a bus/pci/devices link's target is in, relative to sys,
 * worked out from the link's text ("../../../devices/pci0000:00/0000:00:01.0"
 * -> "devices/pci0000:00/0000:00:01.0"); false where it climbs above sys.
 */
static bool link_dir_in_sys(const char *target, char *out, size_t size)
{
	const char *p = target, *end = strrchr(target, '/');
	size_t len = (size_t)snprintf(out, size, "%s", VFK_SYS_PCI_DEVICES);

	if (!end || target[0] == '/')
		return false;
	while (p < end) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *up = strrchr(out, '/');
			if (!len)
				return false;
			len = up ? (size_t)(up - out) : 0;
			out[len] = '\0';
		} else if (n && !(n == 1 && p[0] == '.')) {
			if (len + n + 2 > size)
				return false;
			len += (size_t)snprintf(out + len, size - len, "%s%.*s", len ? "/" : "",
						(int)n, p);
		}
		p += n + (p[n] == '/');
	}
	return len > 0;
}

/* The parent bridge is the directory above the device in the sysfs tree:
 * bus/pci/devices/0000:01:00.0 -> ../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0
 * Also where that directory is, relative to sys (@dir, "" when unknown). */
static bool parent_from_link(int devfd, const char *name, struct vfk_pci_addr *parent,
			     char *dir, size_t size)
{
	char target[PATH_MAX], *last, *prev;

	dir[0] = '\0';
	if (vfk_readlink_at(devfd, name, target, sizeof(target)) < 0)
		return false;
	if (!link_dir_in_sys(target, dir, size))
		dir[0] = '\0';
	last = strrchr(target, '/');
	if (!last)
		return false;
	*last = '\0';
	prev = strrchr(target, '/');
	prev = prev ? prev + 1 : target;
	return vfk_pci_addr_parse(prev, parent) == 0;
}

static bool iommu_groups_exist(struct vfk_ctx *ctx)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;

	d = vfk_fdopendir(vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_IOMMU_GROUPS));
	if (!d)
		return false;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			return true;
	return false;
}

/* A driver name as the kernel's link would give it: printable, no '/', not
 * "." or "..". */
static bool driver_name_ok(const char *s)
{
	const char *p;

	if (!*s || streq(s, ".") || streq(s, ".."))
		return false;
	for (p = s; *p; p++)
		if (*p == '/' || (unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* A hex number the kernel wrote ("%X", "%04X"), at most @max, ending where
 * @stop is (a character, or '\0'). Not sscanf: a scan parses two a device. */
static bool hex_upto(const char *s, unsigned long max, char stop, unsigned int *out, const char **end)
{
	unsigned long v = 0;
	const char *p = s;

	for (; isxdigit((unsigned char)*p) && p - s < 8; p++)
		v = v * 16 + (unsigned long)(isdigit((unsigned char)*p) ? *p - '0'
								 : (*p | 0x20) - 'a' + 10);
	if (p == s || v > max || *p != stop)
		return false;
	*out = (unsigned int)v;
	if (end)
		*end = p;
	return true;
}

/* PCI_CLASS=30000, PCI_ID=10DE:2684 from the text of <device>/uevent (cut up
 * in place); its DRIVER= into @driver (size @dsize, "" when there is none). */
static bool parse_uevent_text(char *buf, struct vfk_device *d, char *driver, size_t dsize)
{
	char *line, *save = NULL;
	unsigned int cls = 0, v = 0, dv = 0;
	bool have_class = false, have_id = false;

	if (dsize)
		driver[0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *colon;

		if (startswith(line, "PCI_CLASS="))
			have_class = hex_upto(line + 10, 0xffffff, '\0', &cls, NULL);
		else if (startswith(line, "PCI_ID="))
			have_id = hex_upto(line + 7, 0xffff, ':', &v, &colon) &&
				  hex_upto(colon + 1, 0xffff, '\0', &dv, NULL);
		else if (startswith(line, "DRIVER=") && dsize && driver_name_ok(line + 7) &&
			 strlen(line + 7) < dsize)
			strcpy(driver, line + 7);
	}
	if (!have_class || !have_id)
		return false;
	d->class = cls;
	d->vendor_id = (uint16_t)v;
	d->device_id = (uint16_t)dv;
	return true;
}

/* The same from the file @rel below @devfd: what fuzz/fuzz-uevent.c drives
 * (the scan reads the file with vfk_root_read()). */
_unused_ static bool parse_uevent(struct vfk_ctx *ctx, int devfd, const char *rel,
				  struct vfk_device *d)
{
	char buf[1024];

	char driver[64];

	return vfk_read_in(ctx, devfd, rel, buf, sizeof(buf)) > 0 &&
	       parse_uevent_text(buf, d, driver, sizeof(driver));
}

/* Trees captured without uevent: the kernel's vendor, device and class files. */
static bool read_ident_files(struct vfk_ctx *ctx, struct vfk_device *d)
{
	static const char *const names[] = { "vendor", "device", "class" };
	long v[3];
	char rel[PATH_MAX];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/%s", d->address, names[i]);
		if (vfk_root_read_long(ctx, VFK_ROOT_SYS, rel, &v[i]) < 0 || v[i] < 0 ||
		    v[i] > (i < 2 ? 0xffff : 0xffffff))
			return false;
	}
	d->vendor_id = (uint16_t)v[0];
	d->device_id = (uint16_t)v[1];
	d->class = (uint32_t)v[2];
	return true;
}

/*
 * The kernel gives every VGA controller a boot_vga attribute (or, before it
 * had one, none): when the first one read has none, the kernel (or the
 * tree's maker) has it for none, and the next are not asked.
 */
static bool read_boot_vga(struct vfk_host *host, const char *address)
{
	char rel[64], buf[16];
	int r;

	if (host->has_boot_vga < 0)
		return false;
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/boot_vga", address);
	r = vfk_root_read_attr(host->ctx, VFK_ROOT_SYS, rel, buf, sizeof(buf));
	if (!host->has_boot_vga)
		host->has_boot_vga = r == -ENOENT ? -1 : 1;
	return r > 0 && streq(buf, "1");
}

struct scan_extra {
	struct vfk_pci_addr parent, physfn;
	bool has_parent, has_physfn;
};

/*
 * The parent of the bus the scan is on. Every function of one bus sits in
 * the same sysfs directory: the kernel gives each the bus's bridge as its
 * parent (a VF its PF's parent, which bridges the VF's bus too). So one
 * link read a bus, the scan going through the addresses in order.
 */
struct bus_parent {
	bool known, has_parent;
	uint16_t domain;
	uint8_t bus;
	struct vfk_pci_addr parent;
	/* for first_below_parent(): the scan's sorted addresses, whether a
	 * function below each was met, the last domain a function with no
	 * parent was met in (+1, 0 none) */
	const struct vfk_pci_addr *addrs;
	size_t n;
	bool *has_child;
	uint32_t rootless_domain;
	struct vf_scan vfs;
	const struct scan_extra *extra;	/* per address, as far as the scan got */
	int dirfd;	/* the bus's directory (the functions are in it), or -1 */
};

/* A bus of this many functions or more is read from its own directory:
 * opening it costs two calls, and every lookup below it is a short one. */
#define BUS_DIR_MIN 8

/*
 * Is @addr the first function the scan meets below its parent (its bridge,
 * or for a function on a root bus, the root buses of its domain)? Then it
 * is no VF: the kernel puts a VF beside its PF, with the PF's parent, at a
 * routing ID above the PF's (a first VF offset of 0 is refused), so its PF
 * came before it. The addresses go by in order.
 */
static bool first_below_parent(struct bus_parent *c, const struct vfk_pci_addr *addr,
			       const struct scan_extra *x)
{
	const struct vfk_pci_addr *p;

	if (!x->has_parent) {
		if (c->rootless_domain == addr->domain + 1u)
			return false;
		c->rootless_domain = addr->domain + 1u;
		return true;
	}
	p = bsearch(&x->parent, c->addrs, c->n, sizeof(*c->addrs), cmp_addr);
	if (!p || c->has_child[p - c->addrs])
		return false;
	c->has_child[p - c->addrs] = true;
	return true;
}

static bool on_bus(const struct vfk_pci_addr *a, const struct vfk_pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus;
}

static bool parent_of_bus(struct vfk_ctx *ctx, int devfd, const char *name, size_t i,
			  struct bus_parent *c, struct vfk_pci_addr *parent)
{
	const struct vfk_pci_addr *addr = &c->addrs[i];
	char dir[PATH_MAX];
	size_t k;

	if (!c->known || c->domain != addr->domain || c->bus != addr->bus) {
		c->known = true;
		c->domain = addr->domain;
		c->bus = addr->bus;
		c->has_parent = parent_from_link(devfd, name, &c->parent, dir, sizeof(dir));
		if (c->dirfd >= 0)
			close(c->dirfd);
		c->dirfd = -1;
		for (k = i; k < c->n && k - i < BUS_DIR_MIN && on_bus(&c->addrs[k], addr); k++)
			;
		if (dir[0] && k - i == BUS_DIR_MIN)
			c->dirfd = vfk_root_open_attr_dir(ctx, VFK_ROOT_SYS, dir);
	}
	*parent = c->parent;
	return c->has_parent;
}

/* A function's uevent: from its bus's directory where the scan opened one,
 * else (or where that lookup would leave it) by the rooted path. */
static int read_uevent(struct vfk_ctx *ctx, int busfd, const char *address, char *text,
		       size_t size)
{
	char rel[96];
	int r = -EOPNOTSUPP;

	if (busfd >= 0) {
		snprintf(rel, sizeof(rel), "%s/uevent", address);
		r = vfk_root_read_attr_at(ctx, busfd, rel, text, size);
	}
	if (r == -EOPNOTSUPP || r == -EXDEV) {
		snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/uevent", address);
		r = vfk_root_read_attr(ctx, VFK_ROOT_SYS, rel, text, size);
	}
	return r;
}

/*
 * One device of the scan: its uevent (class, ids and the driver: the kernel
 * writes DRIVER= there exactly while one is bound, as it makes the driver
 * link) by its path below the sysroot's sys in one open and one read
 * (vfk_root_read_attr), then the links below bus/pci/devices.
 */
/*
 * Is the function at index @i a VF, and whose? Bridges (a type 1 header,
 * which no VF has) are not. A PF met before may have claimed it (vf-scan.c);
 * else it may be a PF itself. Where a PF did not say where its VFs are, the
 * physfn link says, except for the first function below a parent, which is
 * no VF.
 */
static void find_physfn(struct vfk_host *host, int devfd, size_t i, struct vfk_device *d,
			struct scan_extra *x, struct bus_parent *bp)
{
	char link[PATH_MAX], buf[64];
	size_t pf;
	bool first;

	if ((d->class >> 8) == 0x0604 || (d->class >> 8) == 0x0609)
		return;
	first = first_below_parent(bp, &d->addr, x);
	if (vf_scan_pf_of(&bp->vfs, i, &pf)) {
		/* the kernel gives a VF its PF's parent: a claim that lands
		 * below another bridge is a tree that lies, and the function
		 * is taken for what it says it is */
		const struct scan_extra *px = &bp->extra[pf];

		if (px->has_parent == x->has_parent &&
		    (!x->has_parent || pci_addr_cmp(&px->parent, &x->parent) == 0)) {
			x->physfn = bp->addrs[pf];
			d->is_vf = x->has_physfn = true;
			return;
		}
	}
	if (!bp->vfs.by_link) {
		vf_scan_probe(host->ctx, &bp->vfs, i, d->address);
		return;
	}
	snprintf(link, sizeof(link), "%s/physfn", d->address);
	if (!first && vfk_readlink_base_at(devfd, link, buf, sizeof(buf)) > 0 &&
	    vfk_pci_addr_parse(buf, &x->physfn) == 0)
		d->is_vf = x->has_physfn = true;
}

static int fill_device(struct vfk_host *host, int devfd, size_t i, struct vfk_device *d,
		       struct scan_extra *x, struct bus_parent *bp)
{
	const struct vfk_pci_addr *addr = &bp->addrs[i];
	char link[PATH_MAX], buf[64], text[4096];

	d->host = host;
	d->addr = *addr;
	vfk_pci_addr_format(&d->addr, d->address, sizeof(d->address));
	d->group = -1;
	x->has_parent = parent_of_bus(host->ctx, devfd, d->address, i, bp, &x->parent);
	if (bp->dirfd >= 0)	/* the links below are read there too */
		devfd = bp->dirfd;
	if (read_uevent(host->ctx, bp->dirfd, d->address, text, sizeof(text)) > 0 &&
	    parse_uevent_text(text, d, buf, sizeof(buf))) {
		if (buf[0])
			d->driver = strpool_intern(&host->strings, buf);
	} else if (read_ident_files(host->ctx, d)) {
		/* no uevent to say it: the link does */
		snprintf(link, sizeof(link), "%s/driver", d->address);
		if (vfk_readlink_base_at(devfd, link, buf, sizeof(buf)) > 0)
			d->driver = strpool_intern(&host->strings, buf);
	} else {
		snprintf(host->ctx->error, sizeof(host->ctx->error),
			 "%s: neither uevent nor vendor, device and class can be read", d->address);
		return -EIO;
	}
	snprintf(link, sizeof(link), "%s/iommu_group", d->address);
	if (vfk_readlink_base_at(devfd, link, buf, sizeof(buf)) > 0)
		parse_int_name(buf, &d->group);
	find_physfn(host, devfd, i, d, x, bp);
	if ((d->class >> 8) == 0x0300)
		d->boot_vga = read_boot_vga(host, d->address);
	return 0;
}

/*
 * Parents come from each device's own sysfs path, so on a real host they form
 * a tree. A crafted tree can make them loop (a device its own parent, two
 * bridges each other's); every walk towards the root complex must end, so
 * the link that closes a loop is dropped. Linear: each device is walked once.
 */
static int break_parent_loops(struct vfk_host *host)
{
	unsigned char *state;	/* 0 unseen, 1 on the current walk, 2 done */
	size_t i;

	state = calloc(host->ndevices ? host->ndevices : 1, 1);
	if (!state)
		return -ENOMEM;
	for (i = 0; i < host->ndevices; i++) {
		struct vfk_device *x = &host->devices[i], *prev = NULL;

		while (x && state[x - host->devices] == 0) {
			state[x - host->devices] = 1;
			prev = x;
			x = x->parent;
		}
		if (x && state[x - host->devices] == 1) {
			dbg(host->ctx, "parent link of %s loops back to %s: dropped", prev->address,
			    x->address);
			prev->parent = NULL;
		}
		for (x = &host->devices[i]; x && state[x - host->devices] == 1; x = x->parent)
			state[x - host->devices] = 2;
	}
	free(state);
	return 0;
}

/*
 * The names below bus/pci/devices, read from the directory the path layer
 * opened inside the sysroot. Only canonical addresses count: the kernel
 * writes nothing else there, and a second spelling of one address would be
 * a second device.
 */
static int list_addresses(int devfd, struct vfk_pci_addr **out, size_t *count)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct vfk_pci_addr *v = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *e;
	char canon[32];
	int fd;

	fd = openat(devfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return neg_errno(errno);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return neg_errno(ENOMEM);
	}
	while ((e = readdir(d))) {
		struct vfk_pci_addr a;

		if (vfk_pci_addr_parse(e->d_name, &a) < 0 ||
		    strcmp(vfk_pci_addr_format(&a, canon, sizeof(canon)), e->d_name) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			grown = reallocarray(v, cap, sizeof(*v));
			if (!grown) {
				free(v);
				return neg_errno(ENOMEM);
			}
			v = grown;
		}
		v[n++] = a;
	}
	*out = v;
	*count = n;
	return 0;
}

int vfk_host_scan(struct vfk_ctx *ctx, struct vfk_host **out)
{
	struct vfk_host *host;
	struct scan_extra *extra = NULL;
	struct bus_parent bp = { .known = false };
	_cleanup_free_ struct vfk_pci_addr *addrs = NULL;
	_cleanup_free_ bool *has_child = NULL;
	_cleanup_close_ int devfd = -1;
	size_t n = 0, i;
	int r;

	ctx->error[0] = '\0';
	devfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	if (devfd < 0)
		return devfd == -ENOTDIR ? neg_errno(ENOENT) : devfd;

	host = calloc(1, sizeof(*host));
	if (!host)
		return neg_errno(ENOMEM);
	host->refcount = 1;
	host->ctx = vfk_ctx_ref(ctx);

	r = pcilib_open(ctx, &host->pacc);
	if (r < 0)
		goto fail;
	r = list_addresses(devfd, &addrs, &n);
	if (r < 0)
		goto fail;
	host->devices = calloc(n ? n : 1, sizeof(*host->devices));
	extra = calloc(n ? n : 1, sizeof(*extra));
	has_child = calloc(n ? n : 1, sizeof(*has_child));
	bp.has_child = has_child;
	if (!host->devices || !extra || !has_child) {
		r = -ENOMEM;
		goto fail;
	}
	qsort_safe(addrs, n, sizeof(*addrs), cmp_addr);	/* a bus's functions together */
	bp.addrs = addrs;
	bp.n = n;
	bp.extra = extra;
	bp.dirfd = -1;
	r = vf_scan_init(&bp.vfs, addrs, n);
	if (r < 0)
		goto fail;
	vfk_attr_batch_begin(ctx);
	for (i = 0, r = 0; i < n && r >= 0; i++)
		r = fill_device(host, devfd, i, &host->devices[i], &extra[i], &bp);
	vfk_attr_batch_end(ctx);
	vf_scan_free(&bp.vfs);
	if (bp.dirfd >= 0)
		close(bp.dirfd);
	if (r < 0)
		goto fail;
	host->ndevices = n;

	/* sort devices and their side data together */
	for (i = 0; i < n; i++)
		host->devices[i].details = (void *)&extra[i];
	qsort_safe(host->devices, n, sizeof(*host->devices), cmp_device);
	for (i = 0; i < n; i++) {
		struct vfk_device *d = &host->devices[i];
		struct scan_extra *x = (struct scan_extra *)d->details;
		d->details = NULL;
		if (x->has_parent)
			d->parent = host_lookup(host, &x->parent);
		if (x->has_physfn)
			d->physfn = host_lookup(host, &x->physfn);
	}
	free(extra);
	extra = NULL;
	r = break_parent_loops(host);
	if (r >= 0)
		r = tree_build(host);
	if (r < 0)
		goto fail;

	host->iommu_enabled = iommu_groups_exist(ctx);
	r = build_groups(host);
	if (r < 0)
		goto fail;
	r = gpus_build(host);
	if (r >= 0)
		r = fabric_build(host);
	if (r < 0)
		goto fail;
	dbg(ctx, "scanned %zu devices, %zu groups, %zu GPUs, %zu fabric devices", host->ndevices,
	    host->ngroups, host->ngpus, host->nfabric);
	ctx->snapshot = host;
	*out = host;
	return 0;
fail:
	free(extra);
	if (host->devices)
		for (i = 0; i < host->ndevices; i++)
			host->devices[i].details = NULL;
	vfk_host_unref(host);
	return neg_errno(r);
}

struct vfk_host *vfk_host_ref(struct vfk_host *host)
{
	if (host)
		host->refcount++;
	return host;
}

int host_topo(struct vfk_host *host, const struct vfk_topo **out)
{
	if (!host->topo_err) {
		int r = vfk_topo_read(host->ctx, &host->topo);
		host->topo_err = r < 0 ? r : 1;
	}
	*out = host->topo;
	return host->topo_err < 0 ? host->topo_err : 0;
}

struct vfk_host *host_snapshot_held(struct vfk_ctx *ctx)
{
	return ctx ? vfk_host_ref(ctx->snapshot) : NULL;
}

struct vfk_host *vfk_host_unref(struct vfk_host *host)
{
	size_t i;

	if (!host || --host->refcount > 0)
		return NULL;
	if (host->ctx->snapshot == host)
		host->ctx->snapshot = NULL;
	slot_advice_free(host);
	slots_free(host);
	gpus_free(host);
	free(host->fabric);
	holders_free(host);
	variants_free(host->variants);
	vfk_topo_free(host->topo);
	tree_free(host);
	for (i = 0; i < host->ndevices; i++)
		device_details_free(host->devices[i].details);
	free(host->devices);
	free(host->groups);
	free(host->group_members);
	pcilib_close(host->pacc);
	names_free(host->names);
	strpool_clear(&host->strings);
	vfk_ctx_unref(host->ctx);
	free(host);
	return NULL;
}

struct vfk_ctx *vfk_host_get_ctx(const struct vfk_host *host) { return host->ctx; }
bool vfk_host_iommu_enabled(const struct vfk_host *host) { return host->iommu_enabled; }
size_t vfk_host_device_count(const struct vfk_host *host) { return host->ndevices; }
size_t vfk_host_group_count(const struct vfk_host *host) { return host->ngroups; }
size_t vfk_host_gpu_count(const struct vfk_host *host) { return host->ngpus; }

struct vfk_device *vfk_host_device(const struct vfk_host *host, size_t i)
{
	return i < host->ndevices ? &host->devices[i] : NULL;
}

struct vfk_group *vfk_host_group(const struct vfk_host *host, size_t i)
{
	return i < host->ngroups ? &host->groups[i] : NULL;
}

struct vfk_gpu *vfk_host_gpu(const struct vfk_host *host, size_t i)
{
	return i < host->ngpus ? &host->gpus[i] : NULL;
}

int vfk_host_find_device(const struct vfk_host *host, const char *address, struct vfk_device **out)
{
	struct vfk_pci_addr a;
	struct vfk_device *d;

	if (vfk_pci_addr_parse(address, &a) < 0)
		return neg_errno(EINVAL);
	d = host_lookup(host, &a);
	if (!d)
		return neg_errno(ENODEV);
	*out = d;
	return 0;
}
