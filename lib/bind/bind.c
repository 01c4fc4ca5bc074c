/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Moving devices to their VFIO drivers and back, as one transaction.
 *
 * Each device's VFIO driver is vfio-pci or the vendor's variant driver the
 * running kernel's modules.alias names for it (inventory/vfio-driver.c, as
 * libvirt chooses), or the one the caller asks for; each distinct driver's
 * module is loaded first. Per device, in the kernel's own order (as libvirt
 * does it): driver_override <- that driver, unbind from the current driver,
 * drivers_probe <- address, then wait until the device really is on it.
 * Whole IOMMU groups only. The original driver and override of every device
 * (and the VFIO driver it goes to) are journalled before the first write, so
 * a failure, a timeout or a kill -9 can always be undone.
 *
 * Layer bind/: owns moving devices to their VFIO drivers and back: the transaction
 * (bind.c), putting devices back (restore.c), the sysfs steps both take
 * (common.c), the journal and the lock (journal.c), host guards (guards.c),
 * console release (console.c), boot-time persistence (persist.c), recovery
 * from a damaged journal (recover.c). May call inventory/ and core/
 * (lib/README.md).
 */
#include <poll.h>
#include <stdio.h>
#include <time.h>

#include "core/kmod-dl.h"
#include "bind/bind-internal.h"
#include "bind/console.h"
#include "bind/guards.h"
#include "bind/journal.h"


struct bind_item {
	struct vfk_device *dev;
	char orig_driver[64];
	char orig_override[64];
	struct vfio_choice target;	/* the VFIO driver it goes to, and why */
	bool touched;	/* at least one write was made */
	/* a device a restore left on its VFIO driver (journal left=): taken
	 * over with its journal entry, whose native driver still stands; a
	 * rollback puts that entry back and never hands it to that driver */
	bool adopted;
	struct vfk_journal_entry was;
};

/* Per host device: asked for, and among the items. */
enum { MARK_ASKED = 1, MARK_ITEM = 2 };

struct vfk_bind {
	struct vfk_host *host;
	struct vfk_ctx *ctx;
	char owner[64];
	unsigned int flags;
	unsigned int timeout_ms;
	struct vfk_device **asked;
	size_t nasked, asked_cap;
	struct bind_item *items;
	size_t nitems, items_cap;
	/* MARK_* by the device's index in host->devices, which is sorted by
	 * address: set membership in O(1), so a group binds in linear time */
	unsigned char *marks;
	char **warnings;
	size_t nwarnings, warnings_cap;
	int devfd;	/* bus/pci/devices, opened once for all the devices; -1 */
	struct vfio_choice forced;	/* vfk_bind_set_vfio_driver(); .driver NULL: none */
	struct vfk_user user;	/* vfk_bind_set_user(); granting when @grant */
	bool grant;
	char error[768];
	bool prepared;
};

/* ------------------------------------------------------------ helpers */

static int wait_vfio_node(struct vfk_ctx *ctx, int group, unsigned int ms)
{
	long long deadline = now_ms() + ms;
	char name[32];

	snprintf(name, sizeof(name), "vfio/%d", group);
	for (;;) {
		_cleanup_close_ int dfd = vfk_root_open_dir(ctx, VFK_ROOT_DEV, "");
		if (dfd >= 0 && vfk_exists_at(dfd, name))
			return 0;
		if (now_ms() >= deadline)
			return neg_errno(ETIMEDOUT);
		poll(NULL, 0, 10);
	}
}

static bool driver_present(struct vfk_ctx *ctx, const char *driver)
{
	_cleanup_close_ int fd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DRIVERS);

	return fd >= 0 && vfk_exists_at(fd, driver);
}

/* Module @module loaded on the live host, through libkmod as modprobe does. */
static int load_module(struct vfk_bind *b, const char *module)
{
	const struct kmod_api *km;
	struct kmod_ctx *kctx;
	struct kmod_module *mod = NULL;
	char why[512];
	int r;

	km = kmod_api(why, sizeof(why));
	if (!km) {
		snprintf(b->error, sizeof(b->error), "cannot load kernel module %s: %s", module, why);
		return neg_errno(ELIBACC);
	}
	kctx = km->kmod_new(NULL, NULL);
	if (!kctx)
		return neg_errno(ENOMEM);
	r = km->kmod_module_new_from_name(kctx, module, &mod);
	if (r == 0)
		r = km->kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	km->kmod_module_unref(mod);
	km->kmod_unref(kctx);
	if (r < 0)
		snprintf(b->error, sizeof(b->error), "cannot load kernel module %s: %s", module,
			 strerror(-r));
	return r < 0 ? neg_errno(r) : 0;
}

/* Every item going to module @module now goes to driver @driver. */
static int retarget(struct vfk_bind *b, const char *module, const char *driver)
{
	const char *name = strpool_intern(&b->host->strings, driver);
	size_t i;

	if (!name)
		return neg_errno(ENOMEM);
	for (i = 0; i < b->nitems; i++)
		if (streq(b->items[i].target.module, module))
			b->items[i].target.driver = name;
	return 0;
}

/* One VFIO driver there before any device is asked to use it: its module
 * loaded, and the name it registered with (sys/module/MOD/drivers). */
static int ensure_driver(struct vfk_bind *b, const struct vfio_choice *t)
{
	const char *module = t->module;
	char drv[64], name[160];
	int r;

	if (driver_present(b->ctx, t->driver))
		return 0;
	if (streq(module, t->driver))
		snprintf(name, sizeof(name), "%s", module);
	else
		snprintf(name, sizeof(name), "%s for driver %s", module, t->driver);
	if (b->flags & VFK_BIND_DRY_RUN) {
		vfk_progress(b->ctx, "would load kernel module %s", name);
		return 0;
	}
	if (!vfk_ctx_is_live(b->ctx)) {
		snprintf(b->error, sizeof(b->error),
			 "the %s driver is not loaded in the host tree (no %s/%s)", t->driver,
			 VFK_SYS_PCI_DRIVERS, t->driver);
		return neg_errno(ENODEV);
	}
	vfk_progress(b->ctx, "loading kernel module %s", name);
	r = load_module(b, module);
	if (r < 0)
		return r;
	/* the name it registered, which the items use from here on */
	vfio_module_driver(b->ctx, module, drv, sizeof(drv));
	if (!streq(drv, t->driver) && (r = retarget(b, module, drv)) < 0)
		return r;
	if (!driver_present(b->ctx, drv)) {
		snprintf(b->error, sizeof(b->error), "cannot load kernel module %s: no %s/%s after "
			 "loading it", module, VFK_SYS_PCI_DRIVERS, drv);
		return neg_errno(ENOENT);
	}
	return 0;
}

/* Each distinct VFIO driver of the items, once. */
static int ensure_drivers(struct vfk_bind *b)
{
	size_t i, k;
	int r;

	for (i = 0; i < b->nitems; i++) {
		const struct vfio_choice *t = &b->items[i].target;
		for (k = 0; k < i && !streq(b->items[k].target.module, t->module); k++)
			;
		if (k == i && (r = ensure_driver(b, t)) < 0)
			return r;
	}
	return 0;
}

/* --------------------------------------------------------- transaction */

int vfk_bind_new(struct vfk_host *host, const char *owner, unsigned int flags, struct vfk_bind **out)
{
	struct vfk_bind *b = calloc(1, sizeof(*b));
	size_t i;

	if (!b)
		return neg_errno(ENOMEM);
	b->marks = calloc(host->ndevices ? host->ndevices : 1, sizeof(*b->marks));
	if (!b->marks) {
		free(b);
		return neg_errno(ENOMEM);
	}
	b->host = vfk_host_ref(host);
	b->ctx = host->ctx;
	b->devfd = -1;
	b->flags = flags;
	b->timeout_ms = host->ctx->timeout_ms;
	snprintf(b->owner, sizeof(b->owner), "%s", owner && *owner ? owner : "vfiokit");
	/* the journal only takes a conservative charset */
	for (i = 0; b->owner[i]; i++)
		if (!journal_value_ok((char[]){ b->owner[i], 0 }))
			b->owner[i] = '_';
	*out = b;
	return 0;
}

void vfk_bind_free(struct vfk_bind *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->nwarnings; i++)
		free(b->warnings[i]);
	free(b->warnings);
	free(b->asked);
	free(b->items);
	free(b->marks);
	if (b->devfd >= 0)
		close(b->devfd);
	vfk_host_unref(b->host);
	free(b);
}

void vfk_bind_set_timeout(struct vfk_bind *b, unsigned int ms)
{
	b->timeout_ms = ms ? ms : b->ctx->timeout_ms;
}

int vfk_bind_set_vfio_driver(struct vfk_bind *b, const char *driver)
{
	int r;

	b->error[0] = '\0';
	b->prepared = false;
	memset(&b->forced, 0, sizeof(b->forced));
	if (!driver || !*driver)
		return 0;
	r = vfio_driver_resolve(b->host, driver, &b->forced, b->error, sizeof(b->error));
	if (r < 0)
		memset(&b->forced, 0, sizeof(b->forced));
	return r;
}

/* bus/pci/devices: a directory of links that stays, so one fd serves every
 * device (a group of 16k needs no 16k opens of it). -errno if unreadable. */
int vfk_bind_set_user(struct vfk_bind *b, const struct vfk_user *user)
{
	if (!b || !user || b->prepared)
		return neg_errno(EINVAL);
	b->user = *user;
	b->grant = true;
	return 0;
}

static int devices_fd(struct vfk_bind *b)
{
	if (b->devfd < 0)
		b->devfd = vfk_root_open_dir(b->ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	return b->devfd;
}

static unsigned char *mark(const struct vfk_bind *b, const struct vfk_device *d)
{
	return &b->marks[d - b->host->devices];
}

static bool asked(const struct vfk_bind *b, const struct vfk_device *d)
{
	return *mark(b, d) & MARK_ASKED;
}

int vfk_bind_add_device(struct vfk_bind *b, struct vfk_device *dev)
{
	if (!dev || dev->host != b->host)
		return neg_errno(EINVAL);
	if (asked(b, dev))
		return 0;
	if (GROW_ARRAY(b->asked, b->asked_cap, b->nasked + 1) < 0)
		return neg_errno(ENOMEM);
	b->asked[b->nasked++] = dev;
	*mark(b, dev) |= MARK_ASKED;
	b->prepared = false;
	return 0;
}

int vfk_bind_add_gpu(struct vfk_bind *b, struct vfk_gpu *gpu)
{
	size_t i;
	int r;

	for (i = 0; i < gpu->nfunctions; i++)
		if ((r = vfk_bind_add_device(b, gpu->functions[i])) < 0)
			return r;
	return 0;
}

int vfk_bind_add_group(struct vfk_bind *b, struct vfk_group *group)
{
	size_t i;
	int r;

	for (i = 0; i < group->ndevices; i++)
		if (!vfk_device_is_bridge(group->devices[i]) &&
		    (r = vfk_bind_add_device(b, group->devices[i])) < 0)
			return r;
	return 0;
}

static int add_warning(struct vfk_bind *b, const char *msg)
{
	if (GROW_ARRAY(b->warnings, b->warnings_cap, b->nwarnings + 1) < 0)
		return -ENOMEM;
	b->warnings[b->nwarnings] = strdup(msg);
	if (!b->warnings[b->nwarnings])
		return -ENOMEM;
	b->nwarnings++;
	return 0;
}

static int add_item(struct vfk_bind *b, struct vfk_device *d)
{
	if (*mark(b, d) & MARK_ITEM)
		return 0;
	if (GROW_ARRAY(b->items, b->items_cap, b->nitems + 1) < 0)
		return -ENOMEM;
	memset(&b->items[b->nitems], 0, sizeof(*b->items));
	b->items[b->nitems++].dev = d;
	*mark(b, d) |= MARK_ITEM;
	return 0;
}

static void clear_items(struct vfk_bind *b)
{
	size_t i;

	for (i = 0; i < b->nitems; i++)
		*mark(b, b->items[i].dev) &= (unsigned char)~MARK_ITEM;
	b->nitems = 0;
}

static int fail(struct vfk_bind *b, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct vfk_bind *b, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->error, sizeof(b->error), fmt, ap);
	va_end(ap);
	return neg_errno(err);
}

/* Every other endpoint of @g is unasked: name them (as many as fit). */
static int shared_error(struct vfk_bind *b, const struct vfk_device *d, const struct vfk_group *g)
{
	char buf[700];
	size_t x, len = 0;

	buf[0] = '\0';
	for (x = 0; x < g->ndevices && len + 80 <= sizeof(buf); x++) {
		struct vfk_device *o = g->devices[x];
		if (vfk_device_is_bridge(o) || asked(b, o))
			continue;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s (%s)", len ? ", " : "",
					o->address, vfk_device_get_class_name(o));
	}
	return fail(b, EBUSY,
		    "IOMMU group %d of %s is shared with %s: a group goes to vfio-pci whole; add "
		    "--include-shared to take them too", g->id, d->address, buf);
}

/* Whole groups: everything in an asked device's group goes, or nothing. Each
 * group is walked once, however many of its devices were asked for. */
static int add_groups(struct vfk_bind *b)
{
	size_t i, k;
	int r;

	for (i = 0; i < b->nasked; i++) {
		struct vfk_device *d = b->asked[i];
		struct vfk_group *g;
		if (vfk_device_is_bridge(d))
			return fail(b, EINVAL, "%s is a bridge: bridges stay with the host",
				    d->address);
		if (*mark(b, d) & MARK_ITEM)
			continue;	/* its group is in already */
		if (d->group < 0 || vfk_host_find_group(b->host, d->group, &g) < 0)
			return fail(b, ENODEV, "%s has no IOMMU group", d->address);
		for (k = 0; k < g->ndevices; k++) {
			struct vfk_device *m = g->devices[k];
			if (vfk_device_is_bridge(m))
				continue;
			if (!asked(b, m) && !(b->flags & VFK_BIND_INCLUDE_SHARED))
				return shared_error(b, d, g);
			if ((r = add_item(b, m)) < 0)
				return neg_errno(r);
		}
	}
	return 0;
}

/* --single-gpu with the console GPU among the devices: consoles must let go.
 * That GPU's address, NULL when none is. */
static const char *console_gpu(const struct vfk_bind *b)
{
	size_t i;

	if (!(b->flags & VFK_BIND_SINGLE_GPU))
		return NULL;
	for (i = 0; i < b->nitems; i++) {
		const struct vfk_gpu *g = host_gpu_of(b->host, b->items[i].dev);
		if (g && (g->console_in_use || g->only_gpu))
			return b->items[i].dev->address;
	}
	return NULL;
}

/* A device a restore left on its VFIO driver: the bind takes over its entry,
 * so the driver it goes back to is the native one recorded then, not the
 * VFIO driver it is on now. */
static int adopt_item(struct vfk_bind *b, struct bind_item *it, const struct vfk_journal_entry *e)
{
	char msg[300];
	int r;

	it->adopted = true;
	it->was = *e;
	snprintf(it->orig_driver, sizeof(it->orig_driver), "%s", e->driver);
	snprintf(it->orig_override, sizeof(it->orig_override), "%s", e->override);
	snprintf(msg, sizeof(msg), "%s was left on %s by a restore (left=%s): taken over; it "
		 "still goes back to %s only after a reboot", e->address, e->vfio_driver, e->left,
		 *e->driver ? e->driver : "no driver");
	r = add_warning(b, msg);
	return r < 0 ? neg_errno(r) : 0;
}

/* Refusals for one device (held already, guards, the host's GPU), its
 * warnings, and what it is on now, for the journal. */
static int check_item(struct vfk_bind *b, struct vfk_journal *j, struct bind_item *it)
{
	struct vfk_device *d = it->dev;
	const struct vfk_gpu *gpu = host_gpu_of(b->host, d);
	const struct vfk_journal_entry *e = journal_find(j, d->address);
	bool force = b->flags & VFK_BIND_FORCE;
	char buf[700];
	const char *why;
	int r;

	if (e && !*e->left)
		return fail(b, EALREADY, "%s is already held by %s (vfio-bind status)", d->address,
			    e->owner);
	if (device_is_vgpu_vf(d))
		return fail(b, EPERM, "refusing: %s is an NVIDIA vGPU VF: the nvidia driver is its "
			    "VFIO driver and a VM takes it as it is (vfio-mdev sets its vGPU type); "
			    "it is never rebound", d->address);
	if (!force && (why = guard_host_needs(b->host, d)))
		return fail(b, EPERM, "refusing: %s; --force overrides", why);
	if (gpu && !force && !(b->flags & VFK_BIND_SINGLE_GPU)) {
		if (gpu->only_gpu)
			return fail(b, EPERM,
				    "refusing: %s is the host's only GPU; use --single-gpu to "
				    "release the host console and hand it over deliberately",
				    d->address);
		if (d->boot_vga && gpu->console_in_use)
			return fail(b, EPERM,
				    "refusing: %s is the boot VGA and the host console or a DRM "
				    "driver uses it; use --single-gpu or --force", d->address);
	}
	if (!force && guard_dependents(b->host, d, buf, sizeof(buf)))
		return fail(b, EEXIST, "refusing: %s; --force overrides", buf);
	if (guard_conflicts(b->host, d, buf, sizeof(buf)) && (r = add_warning(b, buf)) < 0)
		return neg_errno(r);
	if (guard_holders(b->host, d, buf + 300, sizeof(buf) - 300) > 0) {
		char msg[640];
		const char *cg = console_gpu(b);
		snprintf(msg, sizeof(msg), "%s is held open by %s: %s", d->address, buf + 300,
			 cg && streq(cg, d->address)
			 ? "the display manager is stopped first; anything else must let go, "
			   "or unbinding waits for it"
			 : "unbinding waits for them (stop them first)");
		if ((r = add_warning(b, msg)) < 0)
			return neg_errno(r);
	}
	if (b->forced.driver)
		it->target = b->forced;
	else if ((r = device_vfio_choice(d, &it->target)) < 0)
		return neg_errno(r);
	if (!journal_value_ok(it->target.driver))
		return fail(b, EINVAL, "%s: unexpected VFIO driver name", d->address);
	if (e)
		return adopt_item(b, it, e);
	snprintf(it->orig_driver, sizeof(it->orig_driver), "%s", d->driver ? d->driver : "");
	read_override(b->ctx, devices_fd(b), d->address, it->orig_override, sizeof(it->orig_override));
	if (!journal_value_ok(it->orig_driver))
		return fail(b, EINVAL, "%s: unexpected driver name", d->address);
	return 0;
}

/* VFK_BIND_GRANT_FDS: a user to grant to, and a kernel that hands out what
 * root's descriptor service passes (/dev/iommu, a cdev per device), asked
 * as the planner asks (plan-vfio.c): refused before anything is written,
 * rather than a grant the service could never honour. */
static int check_grant_fds(struct vfk_bind *b)
{
	char why[320];
	int k;

	if (!(b->flags & VFK_BIND_GRANT_FDS))
		return 0;
	if (!b->grant)
		return fail(b, EINVAL, "a grant by descriptor (--via-fds, VFK_BIND_GRANT_FDS) needs "
			    "the user to grant to (--for-user, vfk_bind_set_user)");
	if (!vfk_host_has_iommufd(b->host)) {
		_cleanup_free_ char *node = vfk_root_host_path(VFK_ROOT_DEV, "iommu");

		snprintf(why, sizeof(why), "the host has no %s (a kernel without CONFIG_IOMMUFD, "
			 "or its module not loaded: modprobe iommufd)", node ? node : "iommu");
		k = 0;
	} else {
		k = vfk_host_vfio_cdev_support(b->host, why, sizeof(why));
	}
	if (k == 0)
		return fail(b, ENODEV, "--via-fds: this kernel cannot hand out VFIO descriptors: %s; "
			    "use --for-user alone (the group's node)", why);
	if (k < 0)
		return fail(b, ENODEV, "--via-fds: cannot tell whether this kernel hands out VFIO "
			    "descriptors: %s; load the vfio module (modprobe vfio) and bind again, or "
			    "use --for-user alone (the group's node)", why);
	return 0;
}

int vfk_bind_prepare(struct vfk_bind *b)
{
	struct vfk_journal *j = NULL;
	size_t i;
	int r;

	clear_items(b);
	b->error[0] = '\0';
	if (b->nasked == 0)
		return fail(b, EINVAL, "no devices to bind");
	if (!b->host->iommu_enabled)
		return fail(b, ENODEV,
			    "the IOMMU is disabled (no IOMMU groups): vfio-pci cannot take devices; "
			    "run vfio-check for the fix");
	r = check_grant_fds(b);
	if (r < 0)
		return r;
	r = add_groups(b);
	if (r < 0)
		return r;
	r = vfk_journal_load(b->ctx, &j);
	if (r < 0)
		return fail(b, -r, "cannot read the binding journal: %s", journal_why(b->ctx, r));
	r = guard_facts_keep(b->host);
	if (r < 0)
		r = fail(b, -r, "cannot read what the host needs: %s", strerror(-r));
	for (i = 0; i < b->nitems && r >= 0; i++)
		r = check_item(b, j, &b->items[i]);
	guard_facts_drop(b->host);
	vfk_journal_free(j);
	if (r < 0)
		return r;
	b->prepared = true;
	return 0;
}

size_t vfk_bind_device_count(const struct vfk_bind *b) { return b->nitems; }
struct vfk_device *vfk_bind_device(const struct vfk_bind *b, size_t i)
{
	return i < b->nitems ? b->items[i].dev : NULL;
}
const char *vfk_bind_device_vfio_driver(const struct vfk_bind *b, size_t i, const char **why)
{
	if (i >= b->nitems || !b->items[i].target.driver)
		return NULL;
	if (why)
		*why = b->items[i].target.why;
	return b->items[i].target.driver;
}
size_t vfk_bind_warning_count(const struct vfk_bind *b) { return b->nwarnings; }
const char *vfk_bind_warning(const struct vfk_bind *b, size_t i)
{
	return i < b->nwarnings ? b->warnings[i] : NULL;
}
const char *vfk_bind_get_error(const struct vfk_bind *b) { return b->error[0] ? b->error : NULL; }

static int bind_one(struct vfk_bind *b, struct waiter *w, struct bind_item *it)
{
	struct vfk_ctx *ctx = b->ctx;
	const char *addr = it->dev->address;
	bool dry = b->flags & VFK_BIND_DRY_RUN;
	const char *want = it->target.driver;
	char cur[64], rel[128];
	int r;

	/* a real bind acts on the driver the device is on now; a dry run changes
	 * nothing, so that is still the one prepare read (and journalled) */
	if (dry)
		snprintf(cur, sizeof(cur), "%s", it->orig_driver);
	else
		bind_driver_at(devices_fd(b), addr, cur, sizeof(cur));
	vfk_progress(ctx, "binding %s (%s) to %s (%s)", addr, *cur ? cur : "no driver", want,
		     it->target.why);
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/driver_override", addr);
	it->touched = true;
	r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, want);
	if (r < 0)
		return fail(b, -r, "%s: writing driver_override failed: %s", addr, strerror(-r));
	if (streq(cur, want))
		return 0;
	if (*cur) {
		snprintf(rel, sizeof(rel), VFK_SYS_PCI_DRIVERS "/%s/unbind", cur);
		r = vfk_host_write_timeout(ctx, VFK_ROOT_SYS, rel, addr, b->timeout_ms);
		if (r == -ETIMEDOUT) {
			char holders[300];
			holders_free(b->host);	/* who holds it now, not at prepare */
			guard_holders(b->host, it->dev, holders, sizeof(holders));
			return fail(b, ETIMEDOUT, "%s: unbinding from %s did not finish in %u ms%s%s",
				    addr, cur, b->timeout_ms, *holders ? "; held by " : "", holders);
		}
		if (r < 0)
			return fail(b, -r, "%s: unbinding from %s failed: %s", addr, cur, strerror(-r));
	}
	r = vfk_host_write(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_BUS "/drivers_probe", addr);
	if (r < 0)
		return fail(b, -r, "%s: drivers_probe failed: %s", addr, strerror(-r));
	if (dry)
		return 0;
	r = bind_wait_driver(ctx, w, addr, want, b->timeout_ms);
	if (r < 0) {
		current_driver(ctx, addr, cur, sizeof(cur));
		return fail(b, ETIMEDOUT, "%s: not on %s after %u ms (driver: %s)", addr, want,
			    b->timeout_ms, *cur ? cur : "none");
	}
	return 0;
}

/* Each group's /dev/vfio node, once per group: prepare adds a group's
 * members together, so they are neighbours among the items. */
static int wait_groups(struct vfk_bind *b)
{
	size_t i;

	for (i = 0; i < b->nitems; i++) {
		int g = b->items[i].dev->group;
		char rel[32];
		_cleanup_free_ char *node = NULL;

		if ((i > 0 && b->items[i - 1].dev->group == g) ||
		    wait_vfio_node(b->ctx, g, b->timeout_ms) == 0)
			continue;
		snprintf(rel, sizeof(rel), "vfio/%d", g);
		node = vfk_root_host_path(VFK_ROOT_DEV, rel);
		return fail(b, ETIMEDOUT, "%s did not appear in %u ms", node ? node : rel,
			    b->timeout_ms);
	}
	return 0;
}

/* Rolled back: the journal forgets every item put back (all but those a
 * restore failed for), in one pass over it; a device taken over from a
 * restore has its left entry back. */
static void drop_untouched(struct vfk_bind *b, struct vfk_journal *j)
{
	_cleanup_free_ bool *drop = calloc(j->n ? j->n : 1, sizeof(*drop));
	struct vfk_journal_entry *e;
	size_t i;

	for (i = 0; i < b->nitems; i++) {
		if (b->items[i].touched || !(e = journal_find(j, b->items[i].dev->address)))
			continue;
		if (b->items[i].adopted) {
			*e = b->items[i].was;
			continue;
		}
		if (drop)
			drop[e - j->e] = true;
		else	/* no memory for the marks: one by one, slower */
			journal_remove(j, b->items[i].dev->address);
	}
	if (drop)
		journal_remove_marked(j, drop);
}

/* The journal read again under the lock: another vfiokit may have taken one
 * of the devices since prepare (a device prepare took over from a restore
 * must still be left as it was). */
static int refuse_held(struct vfk_bind *b, struct vfk_journal *j)
{
	const struct vfk_journal_entry *e;
	size_t i;

	for (i = 0; i < b->nitems; i++) {
		e = journal_find(j, b->items[i].dev->address);
		if (e && !(b->items[i].adopted && *e->left))
			return fail(b, EALREADY, "%s is already held (vfio-bind status)",
				    b->items[i].dev->address);
	}
	return 0;
}

/* Every item's original driver and override into @j (not saved yet). */
static int journal_items(struct vfk_bind *b, struct vfk_journal *j)
{
	size_t i;
	int r;

	for (i = 0; i < b->nitems; i++) {
		struct vfk_journal_entry e = { 0 }, *old;
		snprintf(e.address, sizeof(e.address), "%s", b->items[i].dev->address);
		snprintf(e.driver, sizeof(e.driver), "%s", b->items[i].orig_driver);
		snprintf(e.override, sizeof(e.override), "%s", b->items[i].orig_override);
		snprintf(e.owner, sizeof(e.owner), "%s", b->owner);
		snprintf(e.vfio_driver, sizeof(e.vfio_driver), "%s", b->items[i].target.driver);
		e.since = (long long)time(NULL);
		/* a device taken over keeps its one line, now the new owner's */
		if (b->items[i].adopted && (old = journal_find(j, e.address))) {
			*old = e;
			continue;
		}
		if ((r = journal_add(j, &e)) < 0)
			return neg_errno(r);
	}
	return 0;
}

/* --for-user: each item's group node as the kernel made it, with the user,
 * into its journal entry (saved before any node changes). A dry run has no
 * nodes: it only shows the change. A grant by descriptor records the user
 * and the group alone: no node will change. */
static int grant_record_items(struct vfk_bind *b, struct vfk_journal *j)
{
	char err[256];
	size_t i;
	int r;

	for (i = 0; b->grant && i < b->nitems; i++) {
		struct vfk_journal_entry *e = journal_find(j, b->items[i].dev->address);
		if (b->flags & VFK_BIND_GRANT_FDS) {
			grant_record_fds(e, b->items[i].dev->group, b->user.uid, b->user.gid);
			continue;
		}
		if (b->flags & VFK_BIND_DRY_RUN) {
			e->granted = true;
			e->grant_uid = b->user.uid;
			e->group = b->items[i].dev->group;
			continue;
		}
		r = grant_record(b->ctx, e, b->items[i].dev->group, b->user.uid, b->user.gid);
		if (r < 0) {
			grant_error(b->items[i].dev->group, -r, err, sizeof(err));
			return fail(b, -r, "cannot give the group to %s: %s", b->user.name, err);
		}
	}
	return 0;
}

/* --for-user: each group's node to the user, once per group (a group's
 * members are neighbours among the items); a grant by descriptor changes
 * no node, one line per group says so. */
static int grant_items(struct vfk_bind *b, struct vfk_journal *j)
{
	char err[256];
	size_t i;
	int r;

	for (i = 0; b->grant && i < b->nitems; i++) {
		const struct vfk_journal_entry *e = journal_find(j, b->items[i].dev->address);
		if (i > 0 && b->items[i - 1].dev->group == e->group)
			continue;
		if (e->grant_fds) {
			vfk_progress(b->ctx, "group %d granted to %s (uid %u) by descriptor: no node "
				     "changes; vfio-bind pass-fds hands the VM /dev/iommu and the "
				     "cdevs", e->group, b->user.name, b->user.uid);
			continue;
		}
		r = grant_apply(b->ctx, e);
		if (r < 0) {
			grant_error(e->group, -r, err, sizeof(err));
			return fail(b, -r, "cannot give the group to %s: %s", b->user.name, err);
		}
		vfk_progress(b->ctx, "group %d's node given to %s (uid %u), mode 0600", e->group,
			     b->user.name, b->user.uid);
	}
	return 0;
}

/* Rolled back: every granted node back to its owner before, once a group. */
static void ungrant_items(struct vfk_bind *b, struct vfk_journal *j)
{
	int done[64];
	size_t i, n = 0;
	char err[256];
	int r;

	for (i = 0; b->grant && i < b->nitems; i++) {
		const struct vfk_journal_entry *e = journal_find(j, b->items[i].dev->address);
		if (!e || !e->granted || grant_group_seen(done, &n, ARRAY_SIZE(done), e->group))
			continue;
		if ((r = grant_revoke(b->ctx, e)) < 0) {
			grant_error(e->group, -r, err, sizeof(err));
			warn(b->ctx, "rollback: %s", err);
		}
	}
}

/* The journalled part: consoles let go when needed, every item to its VFIO driver,
 * their groups' nodes there, and the journal marks them bound. On failure
 * b->error says why and the caller rolls back. */
static int bind_items(struct vfk_bind *b, struct waiter *w, struct vfk_journal *j)
{
	const char *gpu;
	size_t i;
	int r;

	if ((gpu = console_gpu(b))) {
		char err[512];
		r = console_release(b->ctx, gpu, err, sizeof(err));
		if (r < 0) {
			fail(b, -r, "releasing the host console failed: %s", err);
			console_reattach(b->ctx);
			return r;
		}
	}
	for (i = 0; i < b->nitems; i++) {
		r = bind_one(b, w, &b->items[i]);
		if (r < 0)
			return r;
	}
	if (!(b->flags & VFK_BIND_DRY_RUN) && (r = wait_groups(b)) < 0)
		return r;
	if ((r = grant_record_items(b, j)) < 0)
		return r;
	for (i = 0; i < b->nitems; i++)
		journal_find(j, b->items[i].dev->address)->state = 1;
	r = journal_save(b->ctx, j);
	if (r < 0) {
		fail(b, -r, "cannot update the binding journal: %s", strerror(-r));
		return r;
	}
	return grant_items(b, j);
}

/* The journal forgets what is back where it was; what is not stays for restore. */
static void unjournal_restored(struct vfk_bind *b, struct vfk_journal *j)
{
	drop_untouched(b, j);
	if (journal_save(b->ctx, j) < 0)
		warn(b->ctx, "rollback: cannot update the binding journal");
}

/* Every touched item back, the last first, consoles back, and the journal. */
static void roll_back(struct vfk_bind *b, struct waiter *w, struct vfk_journal *j)
{
	struct vfk_ctx *ctx = b->ctx;
	size_t k;

	vfk_progress(ctx, "rolling back: %s", b->error);
	ungrant_items(b, j);
	for (k = b->nitems; k-- > 0;) {
		struct bind_item *it = &b->items[k];
		char err[300];
		if (!it->touched)
			continue;
		/* left on VFIO because its native driver would hang on it: it stays */
		if (it->adopted) {
			it->touched = false;
			continue;
		}
		if (bind_restore_device(ctx, w, it->dev->address, it->orig_driver, it->orig_override,
					b->timeout_ms, b->flags & VFK_BIND_DRY_RUN, err, sizeof(err)) < 0)
			warn(ctx, "rollback: %s", err);
		else
			it->touched = false;
	}
	if (console_gpu(b))
		console_reattach(ctx);
	unjournal_restored(b, j);
}

/* "2 devices on vfio-pci", "1 device on mlx5_vfio_pci", "3 devices on
 * nvgrace_gpu_vfio_pci, vfio-pci": the drivers in the items' order. */
static void progress_done(struct vfk_bind *b)
{
	char drivers[256] = "";
	size_t i, k, len = 0;

	for (i = 0; i < b->nitems && len < sizeof(drivers) - 1; i++) {
		const char *d = b->items[i].target.driver;
		for (k = 0; k < i && !streq(b->items[k].target.driver, d); k++)
			;
		if (k == i)
			len += (size_t)snprintf(drivers + len, sizeof(drivers) - len, "%s%s",
						len ? ", " : "", d);
	}
	vfk_progress(b->ctx, "%zu device%s on %s", b->nitems, b->nitems == 1 ? "" : "s", drivers);
}

int vfk_bind_commit(struct vfk_bind *b)
{
	struct vfk_ctx *ctx = b->ctx;
	struct vfk_journal *j = NULL;
	struct session s;
	int r;

	if (!b->prepared && (r = vfk_bind_prepare(b)) < 0)
		return r;
	r = bind_session_begin(&s, ctx, b->flags & VFK_BIND_DRY_RUN, b->timeout_ms);
	if (r < 0) {
		r = fail(b, -r, r == -EWOULDBLOCK
				      ? "another vfiokit operation is running (pid %ld)"
				      : "cannot take the vfiokit lock (pid %ld)", s.holder);
		goto out;
	}
	r = vfk_journal_load(ctx, &j);
	if (r < 0) {
		fail(b, -r, "cannot read the binding journal: %s", journal_why(ctx, r));
		goto out;
	}
	r = refuse_held(b, j);
	if (r < 0)
		goto out;
	r = ensure_drivers(b);
	if (r < 0)
		goto out;

	/* journal first: from here on every change can be undone */
	r = journal_items(b, j);
	if (r < 0)
		goto out;
	r = journal_save(ctx, j);
	if (r < 0) {
		fail(b, -r, "cannot write the binding journal: %s", strerror(-r));
		unjournal_restored(b, j);
		goto out;
	}
	r = bind_items(b, &s.w, j);
	if (r < 0) {
		roll_back(b, &s.w, j);
		goto out;
	}
	progress_done(b);
out:
	vfk_journal_free(j);
	bind_session_end(&s);
	return r < 0 ? neg_errno(r) : 0;
}
