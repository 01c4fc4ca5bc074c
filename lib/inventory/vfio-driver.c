/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which VFIO driver a device goes to, chosen as libvirt (10.0+) and NVIDIA's
 * DRA driver choose it: vendors' "variant" drivers replace plain vfio-pci
 * for some devices, and announce which with "vfio_pci:" aliases in the
 * running kernel's modules.alias (PCI_DRIVER_OVERRIDE_DEVICE_VFIO entries
 * of their id tables, matched only through driver_override). The device's
 * sysfs modalias prefixed with "vfio_" is looked up; of the modules whose
 * alias matches, the most specific one wins: the one whose pattern pins the
 * most of the fields v, d, sv, sd, bc, sc, i (not '*'), ties going to the
 * module name first in byte order, so the choice never depends on file
 * order. vfio-pci's own alias (vfio_pci:v*d*sv*sd*bc*sc*i*, nothing pinned)
 * matches every device: it is the choice when nothing else does.
 *
 * The candidates come from libkmod (kmod_module_new_from_lookup() on the
 * module tree of the kernel release in proc/sys/kernel/osrelease, below the
 * sysroot, with the sysroot's modprobe.d), the patterns that rank them from
 * the text modules.alias of that tree, read through the path layer: libvirt
 * reads that very file, it is one small stream per host where
 * kmod_module_get_info() would open and decompress every candidate's .ko
 * (outside the path layer, needing liblzma or libzstd), and libkmod does not
 * say which pattern matched. Where the binary index is missing (a tree made
 * by hand) the text alone gives the candidates.
 *
 * Everything is read on the first question and kept with the host: one
 * libkmod context, the tree's vfio_pci aliases, one answer per device. A
 * listing that never asks pays nothing.
 *
 * Upstream variant drivers (module; PCI driver name where it differs):
 * mlx5_vfio_pci (ConnectX VFs), hisi_acc_vfio_pci (HiSilicon accelerator
 * VFs), pds_vfio_pci (AMD/Pensando DSC VFs), nvgrace_gpu_vfio_pci (Grace
 * Hopper and Grace Blackwell GPUs), virtio_vfio_pci (virtio-net VFs),
 * qat_vfio_pci (Intel QAT VFs), xe_vfio_pci ("xe-vfio-pci": Intel Xe SR-IOV
 * VFs). NVIDIA's vGPU 17+ VFs are their own case: the nvidia driver itself
 * is their VFIO driver, and they are never rebound.
 */
#include <fnmatch.h>
#include <stdio.h>

#include "core/modtree.h"
#include "inventory/inventory.h"

#define VFIO_PCI_MODULE "vfio_pci"
#define WHY_NO_VARIANT "no variant driver matches"

/* An "alias vfio_pci:PATTERN MODULE" line of modules.alias. */
struct vfio_alias {
	char *pattern;		/* "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*" */
	char *module;		/* "mlx5_vfio_pci" */
	int pinned;		/* of v, d, sv, sd, bc, sc, i: how many are not '*' */
};

struct vfio_variants {
	bool kmod_tried;
	const char *none;	/* why no device has a variant (host-wide), or NULL */
	char release[128];
	char where[300];	/* "lib/modules/REL" below the sysroot, "" when none */
	const struct kmod_api *km;
	struct kmod_ctx *kctx;
	struct vfio_alias *aliases;
	size_t naliases, cap;
	struct vfio_choice *choice;	/* by device index; .driver NULL until chosen */
};

/* Module name -> PCI driver name, where KBUILD_MODNAME is not the name. */
static const struct {
	const char *module, *driver;
} driver_names[] = {
	{ VFIO_PCI_MODULE, "vfio-pci" },
	{ "xe_vfio_pci", "xe-vfio-pci" },
};

bool vfk_driver_is_vfio(const char *driver)
{
	size_t n;

	if (!driver)
		return false;
	n = strlen(driver);
	return streq(driver, "vfio-pci") || (n >= 8 && streq(driver + n - 8, "vfio_pci")) ||
	       (n > 9 && streq(driver + n - 9, "-vfio-pci"));
}

bool device_is_vgpu_vf(const struct vfk_device *dev)
{
	char rel[128];
	long v;

	if (!dev->is_vf || !dev->driver || !streq(dev->driver, "nvidia"))
		return false;
	/* the per-VF vGPU files (mdev/vgpu.c reads them) */
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/nvidia/current_vgpu_type",
		 dev->address);
	return vfk_root_read_long(dev->host->ctx, VFK_ROOT_SYS, rel, &v) == 0;
}

/* "mlx5_vfio_pci": the module of driver (or module) @name: '-' read as '_'. */
static void module_of(const char *name, char *buf, size_t size)
{
	size_t i;

	if (buf != name)
		snprintf(buf, size, "%s", name);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '-')
			buf[i] = '_';
}

void vfio_module_driver(struct vfk_ctx *ctx, const char *module, char *buf, size_t size)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	char rel[160];
	size_t i;

	/* loaded: sys/module/MOD/drivers/pci:NAME names the driver it registered */
	snprintf(rel, sizeof(rel), VFK_SYS_MODULE "/%s/drivers", module);
	d = vfk_fdopendir(vfk_root_open_dir(ctx, VFK_ROOT_SYS, rel));
	while (d && (e = readdir(d)))
		if (startswith(e->d_name, "pci:") && e->d_name[4]) {
			snprintf(buf, size, "%s", e->d_name + 4);
			return;
		}
	for (i = 0; i < ARRAY_SIZE(driver_names); i++)
		if (streq(module, driver_names[i].module)) {
			snprintf(buf, size, "%s", driver_names[i].driver);
			return;
		}
	snprintf(buf, size, "%s", module);	/* the variant drivers use KBUILD_MODNAME */
}

/* How many of the fields of @pattern ("vfio_pci:v...d...sv...") are pinned:
 * a field is a lower-case tag and what follows up to the next one. */
static int pinned_fields(const char *pattern)
{
	const char *s = strchr(pattern, ':');
	int n = 0;

	if (!s)
		return 0;
	for (s++; *s;) {
		const char *v;
		bool wild = false;
		while (*s >= 'a' && *s <= 'z')
			s++;
		for (v = s; *s && !(*s >= 'a' && *s <= 'z'); s++)
			wild |= *s == '*' || *s == '?' || *s == '[';
		n += s > v && !wild;
	}
	return n;
}

/* modules.alias of the tree: its "alias vfio_pci:..." lines. 0, -ENOENT
 * when there is no such file, -ENOMEM. */
static int read_aliases(struct vfk_ctx *ctx, struct vfio_variants *v, int mdirfd)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int fd = vfk_open_file_in(ctx, mdirfd, "modules.alias");

	if (fd < 0)
		return fd;
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return neg_errno(ENOMEM);
	}
	while (getline(&line, &cap, f) > 0) {
		char pattern[256], module[64];
		struct vfio_alias *a;
		if (!startswith(line, "alias vfio_pci:") ||
		    sscanf(line, "alias %255s %63s", pattern, module) != 2)
			continue;
		if (GROW_ARRAY(v->aliases, v->cap, v->naliases + 1) < 0)
			return neg_errno(ENOMEM);
		a = &v->aliases[v->naliases];
		a->pattern = strdup(pattern);
		a->module = strdup(module);
		if (!a->pattern || !a->module) {
			free(a->pattern);
			free(a->module);
			return neg_errno(ENOMEM);
		}
		a->pinned = pinned_fields(pattern);
		v->naliases++;
	}
	return 0;
}

/* Is there a variant among the aliases, anything but vfio_pci's own? */
static bool any_variant(const struct vfio_variants *v)
{
	size_t i;

	for (i = 0; i < v->naliases; i++)
		if (!streq(v->aliases[i].module, VFIO_PCI_MODULE))
			return true;
	return false;
}

/* The host's module tree and its aliases, read once. NULL without memory. */
static struct vfio_variants *variants(struct vfk_host *host)
{
	struct vfk_ctx *ctx = host->ctx;
	struct vfio_variants *v = host->variants;
	_cleanup_close_ int mdirfd = -1;
	char why[400];
	int r;

	if (v)
		return v;
	v = host->variants = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	if (ctx->remote_uri) {
		v->none = "libvirt on the remote host picks it: vfio-pci unless a variant driver "
			  "matches there";
		return v;
	}
	r = modtree_release(ctx, v->release, sizeof(v->release));
	if (r < 0) {
		v->none = "kernel release unknown: no proc/sys/kernel/osrelease";
		return v;
	}
	mdirfd = modtree_open(ctx, v->release, v->where, sizeof(v->where));
	if (mdirfd < 0) {
		snprintf(why, sizeof(why), "no module tree for %s", v->release);
		v->where[0] = '\0';
		v->none = strpool_intern(&host->strings, why);
		return v;
	}
	r = read_aliases(ctx, v, mdirfd);
	if (r == -ENOMEM) {	/* asked again, read again */
		variants_free(v);
		host->variants = NULL;
		return NULL;
	}
	if (r < 0 && !vfk_exists_at(mdirfd, "modules.alias.bin")) {
		snprintf(why, sizeof(why), "no modules.alias in %s: depmod has not run", v->where);
		v->none = strpool_intern(&host->strings, why);
	} else if (r == 0 && !any_variant(v)) {
		v->none = WHY_NO_VARIANT;	/* one stream read, no libkmod */
	}
	dbg(ctx, "vfio variants: %zu vfio_pci aliases in %s%s%s", v->naliases, v->where,
	    v->none ? ": " : "", v->none ? v->none : "");
	return v;
}

/* libkmod on the host's tree, started once; NULL when it cannot be. */
static struct kmod_ctx *variants_kmod(struct vfk_host *host, struct vfio_variants *v)
{
	if (!v->kmod_tried && *v->where) {
		char why[256];
		v->kmod_tried = true;
		v->km = kmod_api(why, sizeof(why));
		if (v->km)
			v->kctx = modtree_kmod_new(host->ctx, v->km, v->where);
		else
			dbg(host->ctx, "vfio variants: %s", why);
	}
	return v->kctx;
}

void variants_free(struct vfio_variants *v)
{
	size_t i;

	if (!v)
		return;
	if (v->kctx)
		v->km->kmod_unref(v->kctx);
	for (i = 0; i < v->naliases; i++) {
		free(v->aliases[i].pattern);
		free(v->aliases[i].module);
	}
	free(v->aliases);
	free(v->choice);
	free(v);
}

/* One candidate: a module that matches, and how specifically. */
struct candidate {
	char module[64];
	const char *pattern;	/* its most specific matching alias; NULL: libkmod's only */
	int pinned;
};

static void consider(struct candidate *best, const char *module, const char *pattern, int pinned)
{
	if (pinned > best->pinned ||
	    (pinned == best->pinned && (!best->module[0] || strcmp(module, best->module) < 0))) {
		snprintf(best->module, sizeof(best->module), "%s", module);
		best->pattern = pattern;
		best->pinned = pinned;
	}
}

/* The most specific alias of @module that matches @key, or NULL. */
static const struct vfio_alias *best_alias_of(const struct vfio_variants *v, const char *module,
					      const char *key)
{
	const struct vfio_alias *best = NULL;
	size_t i;

	for (i = 0; i < v->naliases; i++) {
		const struct vfio_alias *a = &v->aliases[i];
		if (streq(a->module, module) && (!best || a->pinned > best->pinned) &&
		    fnmatch(a->pattern, key, 0) == 0)
			best = a;
	}
	return best;
}

/* "vfio_pci:v...": the device's modalias with "vfio_" before it, as sysfs
 * says it, else made from the snapshot's ids. */
static void lookup_key(struct vfk_device *dev, char *key, size_t size)
{
	char rel[64], alias[160];
	const struct vfk_device_details *x;

	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/modalias", dev->address);
	if (vfk_root_read(dev->host->ctx, VFK_ROOT_SYS, rel, alias, sizeof(alias)) > 0 &&
	    startswith(alias, "pci:")) {
		snprintf(key, size, "vfio_%s", alias);
		return;
	}
	x = device_details(dev);
	snprintf(key, size, "vfio_pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", dev->vendor_id,
		 dev->device_id, x ? x->subsys_vendor : 0, x ? x->subsys_device : 0,
		 (dev->class >> 16) & 0xff, (dev->class >> 8) & 0xff, dev->class & 0xff);
}

/* The winner among libkmod's modules for @key and the text's. */
static void rank(struct vfk_host *host, struct vfio_variants *v, const char *key,
		 struct candidate *best)
{
	struct kmod_ctx *kctx = variants_kmod(host, v);
	struct kmod_list *list = NULL, *it;
	size_t i;

	best->module[0] = '\0';
	best->pattern = NULL;
	best->pinned = -1;
	if (kctx && v->km->kmod_module_new_from_lookup(kctx, key, &list) < 0)
		list = NULL;
	KMOD_FOREACH(v->km, it, list) {
		struct kmod_module *mod = v->km->kmod_module_get_module(it);
		const char *name = v->km->kmod_module_get_name(mod);
		const struct vfio_alias *a = name ? best_alias_of(v, name, key) : NULL;
		if (name)
			consider(best, name, a ? a->pattern : NULL, a ? a->pinned : 0);
		v->km->kmod_module_unref(mod);
	}
	if (list)
		v->km->kmod_module_unref_list(list);
	/* the text's own matches: the candidates where the tree has no binary index */
	for (i = 0; i < v->naliases; i++)
		if (fnmatch(v->aliases[i].pattern, key, 0) == 0)
			consider(best, v->aliases[i].module, v->aliases[i].pattern,
				 v->aliases[i].pinned);
}

static int set_choice(struct vfk_host *host, struct vfio_choice *c, const char *module,
		      const char *driver, const char *why)
{
	c->module = strpool_intern(&host->strings, module);
	c->why = strpool_intern(&host->strings, why);
	c->driver = strpool_intern(&host->strings, driver);
	return c->module && c->why && c->driver ? 0 : neg_errno(ENOMEM);
}

int device_vfio_choice(struct vfk_device *dev, struct vfio_choice *out)
{
	struct vfk_host *host = dev->host;
	struct vfio_variants *v;
	struct vfio_choice *c;
	struct candidate best;
	char key[200], drv[64], why[320];
	int r;

	v = variants(host);
	if (!v)
		return neg_errno(ENOMEM);
	if (!v->choice && !(v->choice = calloc(host->ndevices ? host->ndevices : 1,
					       sizeof(*v->choice))))
		return neg_errno(ENOMEM);
	c = &v->choice[dev - host->devices];
	if (c->driver) {
		*out = *c;
		return 0;
	}
	if (device_is_vgpu_vf(dev))
		r = set_choice(host, c, "nvidia", "nvidia",
			       "an NVIDIA vGPU VF: the nvidia driver is its VFIO driver, never rebound");
	else if (v->none)
		r = set_choice(host, c, VFIO_PCI_MODULE, "vfio-pci", v->none);
	else {
		lookup_key(dev, key, sizeof(key));
		rank(host, v, key, &best);
		if (!best.module[0] || streq(best.module, VFIO_PCI_MODULE)) {
			r = set_choice(host, c, VFIO_PCI_MODULE, "vfio-pci", WHY_NO_VARIANT);
		} else {
			vfio_module_driver(host->ctx, best.module, drv, sizeof(drv));
			if (best.pattern)
				snprintf(why, sizeof(why), "modules.alias %s", best.pattern);
			else
				snprintf(why, sizeof(why), "libkmod alias for %s", key);
			r = set_choice(host, c, best.module, drv, why);
		}
		dbg(host->ctx, "%s: %s -> %s", dev->address, key, c->driver ? c->driver : "?");
	}
	if (r < 0) {
		c->driver = NULL;
		return r;
	}
	*out = *c;
	return 0;
}

int vfk_device_vfio_driver(struct vfk_device *dev, char *name, size_t size, char *why,
			   size_t whysize)
{
	struct vfio_choice c;
	int r;

	if (!dev || !name || !size)
		return neg_errno(EINVAL);
	r = device_vfio_choice(dev, &c);
	if (r < 0)
		return r;
	if ((size_t)snprintf(name, size, "%s", c.driver) >= size)
		r = neg_errno(ENOSPC);
	if (why && whysize && (size_t)snprintf(why, whysize, "%s", c.why) >= whysize)
		r = neg_errno(ENOSPC);
	return r;
}

/* ------------------------------------------------- a driver asked for */

/* Does the text index @file of the tree list module @module (".../MOD.ko*")? */
static bool text_index_lists(struct vfk_ctx *ctx, int mdirfd, const char *file, const char *module)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, n = strlen(module);
	int fd = vfk_open_file_in(ctx, mdirfd, file);

	if (fd < 0 || !(f = fdopen(fd, "re"))) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (getline(&line, &cap, f) > 0) {
		char *end = line + strcspn(line, ":\n"), *base, mod[64];
		*end = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		if (!strstr(base, ".ko") || (size_t)(strstr(base, ".ko") - base) != n)
			continue;
		snprintf(mod, sizeof(mod), "%.*s", (int)n, base);
		module_of(mod, mod, sizeof(mod));
		if (streq(mod, module))
			return true;
	}
	return false;
}

/* Is module @module in the host's tree (a file or built in)? */
static bool module_in_tree(struct vfk_host *host, struct vfio_variants *v, const char *module)
{
	struct kmod_ctx *kctx = variants_kmod(host, v);
	struct kmod_list *list = NULL;
	_cleanup_close_ int mdirfd = -1;

	if (kctx && v->km->kmod_module_new_from_lookup(kctx, module, &list) == 0 && list) {
		v->km->kmod_module_unref_list(list);
		return true;
	}
	/* a tree without depmod's binary indexes: its text ones */
	if (!*v->where || (mdirfd = vfk_root_open_dir(host->ctx, VFK_ROOT_TOP, v->where)) < 0)
		return false;
	return text_index_lists(host->ctx, mdirfd, "modules.dep", module) ||
	       text_index_lists(host->ctx, mdirfd, "modules.builtin", module);
}

int vfio_driver_resolve(struct vfk_host *host, const char *name, struct vfio_choice *out,
			char *err, size_t errsize)
{
	struct vfk_ctx *ctx = host->ctx;
	struct vfio_variants *v;
	_cleanup_close_ int drvfd = -1;
	char module[64], drv[64], rel[160];
	size_t i, n = name ? strlen(name) : 0;

	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", name[i]))
			break;
	if (n == 0 || n >= sizeof(module) || i < n) {
		snprintf(err, errsize, "'%s' is not a driver name", name ? name : "");
		return neg_errno(EINVAL);
	}
	if (!vfk_driver_is_vfio(name)) {
		snprintf(err, errsize, "%s is not a VFIO driver (vfio-pci or a vendor's variant: "
			 "*_vfio_pci, *-vfio-pci)", name);
		return neg_errno(EINVAL);
	}
	v = variants(host);
	if (!v)
		return neg_errno(ENOMEM);
	module_of(name, module, sizeof(module));
	drvfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DRIVERS);
	if (drvfd >= 0 && vfk_exists_at(drvfd, name)) {
		/* loaded: its module is what drivers/NAME/module names */
		snprintf(rel, sizeof(rel), "%s/module", name);
		if (vfk_readlink_base_at(drvfd, rel, drv, sizeof(drv)) > 0)
			module_of(drv, module, sizeof(module));
		return set_choice(host, out, module, name, "asked for (--driver)");
	}
	vfio_module_driver(ctx, module, drv, sizeof(drv));
	if (drvfd >= 0 && vfk_exists_at(drvfd, drv))
		return set_choice(host, out, module, drv, "asked for (--driver)");
	if (module_in_tree(host, v, module))
		return set_choice(host, out, module, drv, "asked for (--driver)");
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DRIVERS "/%s", drv);
	_cleanup_free_ char *missing = vfk_root_host_path(VFK_ROOT_SYS, rel);
	if (*v->where)
		snprintf(err, errsize, "no VFIO driver %s on this host: not loaded (no %s) and no "
			 "module %s in /%s", name, missing ? missing : rel, module, v->where);
	else
		snprintf(err, errsize, "no VFIO driver %s on this host: not loaded (no %s) and %s",
			 name, missing ? missing : rel, v->none ? v->none : "no module tree");
	return neg_errno(ENOENT);
}
