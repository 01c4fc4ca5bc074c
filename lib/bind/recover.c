/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Recovery when the journal cannot be trusted (vfio-bind restore --from-scan).
 *
 * A damaged journal no longer says for certain which driver a device had,
 * but it still names the devices: every line whose first token is a PCI
 * address. Each of those (and each the caller names) that is on a VFIO driver
 * (vfio-pci or a variant, vfk_driver_is_vfio()), or set to go to one, is
 * handed back to the kernel rather than to a guessed
 * driver: driver_override cleared, unbound from that driver, probed again, so it
 * lands on the driver its modalias selects, as at boot. On the live host that
 * driver's module is loaded first (libkmod, as udev would).
 *
 * The devices come first, the journal after: killed halfway, the damaged
 * journal is still there and a second run finds the devices already given
 * back left alone. Then the damaged file is renamed journal.damaged (kept,
 * not copied: nothing is lost) and a fresh journal holds only the devices
 * that could not be given back; none left, no journal.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/kmod-dl.h"
#include "bind/bind-internal.h"
#include "bind/console.h"
#include "bind/journal.h"

struct recovery {
	struct vfk_ctx *ctx;
	bool dry;
	bool have_file;		/* there is a journal file (good or damaged) */
	bool damaged;		/* it was refused: set it aside */
	struct vfk_journal j;	/* the devices to look at, the journal's first */
	size_t from_journal;	/* j.e[0 .. from_journal) came from the journal */
	int devfd;		/* bus/pci/devices */
	int first;		/* the first error, its reason in errbuf */
	char *errbuf;
	size_t errsize;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct recovery *rv, int err, const char *fmt, ...)
{
	va_list ap;

	err = neg_errno(err);
	if (!rv->first) {
		rv->first = err;
		va_start(ap, fmt);
		vsnprintf(rv->errbuf, rv->errsize, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* The journal's devices: all of its entries when it parses, else every
 * address a line of it still starts with. */
static int recovery_load(struct recovery *rv)
{
	_cleanup_free_ char *text = NULL;
	char why[400];
	size_t len = 0;
	int r;

	r = journal_read(rv->ctx, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r == -EINVAL) {	/* a FIFO, directory or link in its place: set it aside */
		rv->have_file = rv->damaged = true;
		vfk_progress(rv->ctx, "%s", vfk_ctx_get_error(rv->ctx));
		return 0;
	}
	if (r < 0)
		return fail(rv, r, "cannot read the binding journal: %s",
			    vfk_ctx_get_error(rv->ctx) ? vfk_ctx_get_error(rv->ctx) : strerror(-r));
	rv->have_file = true;
	r = journal_parse(text, len, &rv->j, why, sizeof(why));
	if (r == -EINVAL) {
		rv->damaged = true;
		r = journal_salvage(text, len, &rv->j);
		vfk_progress(rv->ctx, "the journal is damaged (%s): %zu device%s named in it", why,
			     rv->j.n, rv->j.n == 1 ? "" : "s");
	}
	return r < 0 ? fail(rv, r, "reading the binding journal: %s", strerror(-r)) : 0;
}

/* The caller's addresses, after the journal's; checked by the caller. */
static int add_addresses(struct recovery *rv, const char *const *addresses, size_t n)
{
	size_t i;

	rv->from_journal = rv->j.n;
	for (i = 0; addresses && i < n; i++) {
		struct vfk_journal_entry e = { .state = 1 };
		struct vfk_pci_addr a;
		vfk_pci_addr_parse(addresses[i], &a);
		vfk_pci_addr_format(&a, e.address, sizeof(e.address));
		if (!journal_find(&rv->j, e.address) && journal_add(&rv->j, &e) < 0)
			return fail(rv, ENOMEM, "out of memory");
	}
	return 0;
}

static void kmod_log_dbg(void *data, int priority _unused_, const char *file, int line,
			 const char *fn, const char *format, va_list args)
{
	struct vfk_ctx *ctx = data;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), format, args);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	vfk_log(ctx, LOG_DEBUG, file, line, fn, "libkmod: %s", msg);
}

/*
 * The modules the device's modalias selects that are not loaded yet, loaded
 * as udev does at boot (blacklists honoured). vfio-pci and its variant
 * drivers are skipped: the point is to leave them. A module that will not
 * load is no error here: the probe below reports where the device landed.
 */
static void load_modules(struct recovery *rv, const char *addr)
{
	const struct kmod_api *km = kmod_api(NULL, 0);
	struct kmod_ctx *kctx;
	struct kmod_list *list = NULL, *it;
	char rel[64], alias[256];

	snprintf(rel, sizeof(rel), "%s/modalias", addr);
	if (!km || vfk_read_in(rv->ctx, rv->devfd, rel, alias, sizeof(alias)) <= 0)
		return;
	kctx = km->kmod_new(NULL, NULL);
	if (!kctx)
		return;
	km->kmod_set_log_fn(kctx, kmod_log_dbg, rv->ctx);
	if (km->kmod_module_new_from_lookup(kctx, alias, &list) < 0)
		list = NULL;
	KMOD_FOREACH(km, it, list) {
		struct kmod_module *mod = km->kmod_module_get_module(it);
		const char *name = km->kmod_module_get_name(mod);
		int state = km->kmod_module_get_initstate(mod), r;

		if (strstr(name, "vfio") || state == KMOD_MODULE_LIVE ||
		    state == KMOD_MODULE_BUILTIN || state == KMOD_MODULE_COMING) {
			km->kmod_module_unref(mod);
			continue;
		}
		vfk_progress(rv->ctx, "%sloading kernel module %s for %s", rv->dry ? "would be " : "",
			     name, addr);
		if (!rv->dry) {
			r = km->kmod_module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST, NULL,
								NULL, NULL, NULL);
			if (r < 0)
				warn(rv->ctx, "%s: loading %s failed: %s", addr, name, strerror(-r));
		}
		km->kmod_module_unref(mod);
	}
	km->kmod_module_unref_list(list);
	km->kmod_unref(kctx);
}

/* The device is off vfio-pci and driverless: the kernel picks its driver. */
static int probe_again(struct recovery *rv, const char *addr)
{
	long long deadline;
	char cur[64];
	int r;

	if (vfk_ctx_is_live(rv->ctx))
		load_modules(rv, addr);
	r = vfk_host_write(rv->ctx, VFK_ROOT_SYS, VFK_SYS_PCI_BUS "/drivers_probe", addr);
	if (r < 0)
		return fail(rv, r, "%s: drivers_probe failed: %s", addr, strerror(-r));
	if (rv->dry) {
		vfk_progress(rv->ctx, "%s: would leave its VFIO driver for the driver its modalias "
			     "selects", addr);
		return 0;
	}
	/* PCI drivers mostly probe within the write; an asynchronous one gets a moment */
	deadline = now_ms() + PROBE_SETTLE_MS;
	while (current_driver(rv->ctx, addr, cur, sizeof(cur)) == 0 && !*cur && now_ms() < deadline)
		poll(NULL, 0, 10);
	if (vfk_driver_is_vfio(cur))
		return fail(rv, EBUSY, "%s: %s took it again when probed (vfio-pci.ids= or a "
			    "modprobe.d alias claims it)", addr, cur);
	vfk_progress(rv->ctx, "%s: back with the host, now on %s", addr,
		     *cur ? cur : "no driver (none matches its modalias)");
	return 0;
}

/* One device: 0 given back or nothing to do, -errno when it is still held. */
static int recover_one(struct recovery *rv, const char *addr)
{
	struct vfk_ctx *ctx = rv->ctx;
	char cur[64], ovr[64], rel[128];
	int r;

	if (rv->devfd < 0 || !vfk_exists_at(rv->devfd, addr)) {
		vfk_progress(ctx, "%s: no such device, nothing to give back", addr);
		return 0;
	}
	current_driver(ctx, addr, cur, sizeof(cur));
	read_override(ctx, rv->devfd, addr, ovr, sizeof(ovr));
	if (!vfk_driver_is_vfio(cur) && !vfk_driver_is_vfio(ovr)) {
		vfk_progress(ctx, "%s: on %s, not held for vfio-pci: left as it is", addr,
			     *cur ? cur : "no driver");
		return 0;
	}
	vfk_progress(ctx, "recovering %s from %s", addr, vfk_driver_is_vfio(cur) ? cur : ovr);
	if (vfk_driver_is_vfio(ovr)) {
		snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/driver_override", addr);
		/* a lone newline clears driver_override */
		r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, "\n");
		if (r < 0)
			return fail(rv, r, "%s: clearing driver_override failed: %s", addr,
				    strerror(-r));
	}
	if (!vfk_driver_is_vfio(cur) && *cur) {
		vfk_progress(ctx, "%s: stays on %s, driver_override cleared", addr, cur);
		return 0;
	}
	if (*cur) {
		snprintf(rel, sizeof(rel), VFK_SYS_PCI_DRIVERS "/%s/unbind", cur);
		r = vfk_host_write_timeout(ctx, VFK_ROOT_SYS, rel, addr, rv->ctx->timeout_ms);
		if (r < 0)
			return fail(rv, r, "%s: unbinding from %s failed: %s%s", addr, cur,
				    strerror(-r), r == -ETIMEDOUT ? " (a VM still uses it?)" : "");
	}
	return probe_again(rv, addr);
}

/*
 * The journal after recovery: the journal's devices still held (@held), as
 * the journal said them when it parsed, by address alone when salvaged.
 */
static int recovery_save(struct recovery *rv, const bool *held)
{
	struct vfk_journal left = { 0 };
	char aside[64];
	size_t i;
	int r = 0;

	for (i = 0; i < rv->from_journal && r >= 0; i++)
		if (held[i]) {
			struct vfk_journal_entry e = rv->j.e[i];
			if (rv->damaged)
				snprintf(e.owner, sizeof(e.owner), "recovery");
			r = journal_add(&left, &e);
		}
	if (r >= 0 && rv->damaged) {
		r = journal_set_aside(rv->ctx, aside, sizeof(aside));
		if (r >= 0)
			vfk_progress(rv->ctx, "the damaged journal %s kept as %s",
				     rv->dry ? "would be" : "is", aside);
	}
	if (r >= 0 && left.n)
		r = journal_save(rv->ctx, &left);
	else if (r >= 0 && rv->have_file && !rv->damaged)
		r = vfk_host_remove_file(rv->ctx, VFK_ROOT_RUN, JOURNAL_FILE);
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		fail(rv, r, "cannot update the binding journal: %s", strerror(-r));
	/* consoles come back once vfiokit holds nothing that might need them gone */
	if (r >= 0 && !left.n && (r = console_reattach(rv->ctx)) < 0)
		fail(rv, r, "re-attaching the host console failed: %s", strerror(-r));
	journal_clear(&left);
	return r;
}

static int recover_all(struct recovery *rv)
{
	_cleanup_free_ bool *held = calloc(rv->j.n ? rv->j.n : 1, sizeof(*held));
	size_t i;

	if (!held)
		return fail(rv, ENOMEM, "out of memory");
	rv->devfd = vfk_root_open_dir(rv->ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	if (rv->j.n == 0)
		vfk_progress(rv->ctx, "no device named: nothing to recover");
	/* newest first, as restore does */
	for (i = rv->j.n; i-- > 0;)
		held[i] = recover_one(rv, rv->j.e[i].address) < 0;
	if (rv->devfd >= 0)
		close(rv->devfd);
	return recovery_save(rv, held);
}

int vfk_restore_from_scan(struct vfk_ctx *ctx, const char *const *addresses, size_t n,
			  unsigned int flags, char *errbuf, size_t errsize)
{
	struct recovery rv = { .ctx = ctx, .dry = flags & VFK_BIND_DRY_RUN, .devfd = -1,
			       .errbuf = errbuf, .errsize = errsize };
	vfk_write_hook saved_hook = ctx->write_hook;
	void *saved_data = ctx->write_data;
	long holder = 0;
	int lockfd = -1;
	size_t i;

	errbuf[0] = '\0';
	ctx->error[0] = '\0';
	for (i = 0; addresses && i < n; i++) {
		struct vfk_pci_addr a;
		if (vfk_pci_addr_parse(addresses[i], &a) < 0)
			return fail(&rv, EINVAL, "'%s' is not a PCI address", addresses[i]);
	}
	if (rv.dry)
		vfk_ctx_set_write_hook(ctx, dry_hook, ctx);
	if (!rv.dry) {	/* the lock restore takes: no bind or restore runs meanwhile */
		lockfd = vfk_lock_take(ctx, ctx->timeout_ms, &holder);
		if (lockfd < 0) {
			fail(&rv, lockfd, "another vfiokit operation is running (pid %ld)", holder);
			goto out;
		}
	}
	if (recovery_load(&rv) == 0 && add_addresses(&rv, addresses, n) == 0)
		recover_all(&rv);
out:
	journal_clear(&rv.j);
	if (lockfd >= 0)
		close(lockfd);
	vfk_ctx_set_write_hook(ctx, saved_hook, saved_data);
	return rv.first < 0 ? neg_errno(rv.first) : 0;
}
