/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices vfiokit holds handed back to the drivers the journal recorded:
 * vfk_restore() by address, vfk_restore_owner() by owner, and the one device
 * put back that a failed commit's rollback uses as well. A device whose card
 * does not reset (inventory/reset.c: the AMD reset bug, or it stopped
 * answering) is not handed back: its native driver would hang on it, and
 * often the host with it. It stays on its VFIO driver, and in the journal
 * marked left=, until a reboot or VFK_RESTORE_FORCE_NATIVE.
 */
#include <stdio.h>

#include "bind/bind-internal.h"
#include "bind/console.h"
#include "bind/journal.h"
#include "inventory/inventory.h"


/*
 * Put one device back: clear or restore the override, leave the driver it is
 * on now, and let the kernel probe it again; if the native driver does not
 * come back on its own, bind it explicitly.
 */
int bind_restore_device(struct vfk_ctx *ctx, struct waiter *w, const char *addr,
			const char *orig_driver, const char *orig_override, unsigned int ms,
			bool dry_run, char *err, size_t errsize)
{
	char cur[64], rel[128];
	long long deadline;
	int r;

	current_driver(ctx, addr, cur, sizeof(cur));
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/driver_override", addr);
	/* a lone newline clears driver_override */
	r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, *orig_override ? orig_override : "\n");
	if (r < 0) {
		snprintf(err, errsize, "%s: writing driver_override failed: %s", addr, strerror(-r));
		return r;
	}
	if (*cur && !streq(cur, orig_driver)) {
		snprintf(rel, sizeof(rel), VFK_SYS_PCI_DRIVERS "/%s/unbind", cur);
		r = vfk_host_write_timeout(ctx, VFK_ROOT_SYS, rel, addr, ms);
		if (r < 0) {
			snprintf(err, errsize, "%s: unbinding from %s failed: %s", addr, cur,
				 strerror(-r));
			return r;
		}
	}
	if (!*orig_driver || streq(cur, orig_driver))
		return 0;
	if (dry_run)
		return vfk_host_write(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_BUS "/drivers_probe", addr) < 0
			       ? neg_errno(EIO) : 0;
	/* PCI drivers mostly probe within the write; a device still driverless
	 * a moment later had a failed probe, and waiting longer will not help */
	r = vfk_host_write(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_BUS "/drivers_probe", addr);
	if (r >= 0 && bind_wait_driver(ctx, w, addr, orig_driver, ms < PROBE_SETTLE_MS ? ms : PROBE_SETTLE_MS) == 0)
		return 0;
	/* another driver may have won the probe, or none matched: be explicit */
	current_driver(ctx, addr, cur, sizeof(cur));
	if (*cur && !streq(cur, orig_driver)) {
		snprintf(rel, sizeof(rel), VFK_SYS_PCI_DRIVERS "/%s/unbind", cur);
		vfk_host_write_timeout(ctx, VFK_ROOT_SYS, rel, addr, ms);
	}
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DRIVERS "/%s/bind", orig_driver);
	/* a VFIO user that just exited may not have let go of the BARs yet:
	 * the native driver's probe says EBUSY for a moment */
	deadline = now_ms() + ms;
	while ((r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, addr)) == -EBUSY) {
		/* or a late asynchronous probe got there first */
		current_driver(ctx, addr, cur, sizeof(cur));
		if (streq(cur, orig_driver)) {
			r = 0;
			break;
		}
		if (now_ms() >= deadline)
			break;
		usleep(100 * 1000);
	}
	if (r >= 0)
		r = bind_wait_driver(ctx, w, addr, orig_driver, ms);
	if (r < 0)
		snprintf(err, errsize, "%s: could not return to driver %s: %s", addr, orig_driver,
			 strerror(-r));
	return r;
}

/* ------------------------------------------------------------- restore */

/* Set @sel[i] for the journal entries @addresses name (all when NULL): one
 * lookup per address, not a scan of the addresses per entry. */
static int select_entries(struct vfk_journal *j, const char *const *addresses, size_t n,
			  bool *sel, char *errbuf, size_t errsize)
{
	size_t i;

	for (i = 0; !addresses && i < j->n; i++)
		sel[i] = true;
	for (i = 0; addresses && i < n; i++) {
		const struct vfk_journal_entry *e;
		struct vfk_pci_addr a;
		char norm[16];
		vfk_pci_addr_parse(addresses[i], &a);	/* checked by the caller */
		e = journal_find(j, vfk_pci_addr_format(&a, norm, sizeof(norm)));
		if (!e) {
			snprintf(errbuf, errsize, "%s is not held by vfiokit (not in the journal)", norm);
			return neg_errno(ENOENT);
		}
		sel[e - j->e] = true;
	}
	return 0;
}

/* The host now, for the reset verdicts of the devices to give back; NULL when
 * the caller forces them back, or it cannot be read (then every device goes
 * back, as it would without the verdicts). */
static struct vfk_host *restore_host(struct vfk_ctx *ctx, unsigned int flags)
{
	struct vfk_host *h = NULL;
	int r;

	if (flags & VFK_RESTORE_FORCE_NATIVE)
		return NULL;
	r = vfk_host_scan(ctx, &h);
	if (r < 0)
		dbg(ctx, "restore: no reset verdicts, the host cannot be read: %s", strerror(-r));
	return r < 0 ? NULL : h;
}

/*
 * Leave @e where it is when giving it back would hang its native driver: it
 * is on a VFIO driver now, it goes back to a native one, and its reset is
 * broken. Marked left= in the journal, told in one line.
 */
static bool leave_entry(struct vfk_ctx *ctx, struct vfk_host *host, struct vfk_journal_entry *e)
{
	struct vfk_device *d;
	const char *kind;
	bool vendor_reset;
	char why[256];

	if (!host || !*e->driver || vfk_driver_is_vfio(e->driver) ||
	    vfk_host_find_device(host, e->address, &d) < 0 ||
	    !vfk_driver_is_vfio(vfk_device_get_driver(d)))
		return false;
	kind = device_reset_hold(d, why, sizeof(why), &vendor_reset);
	if (!kind)
		return false;
	snprintf(e->left, sizeof(e->left), "%s", kind);
	vfk_progress(ctx, "left %s on %s: %s; reboot to give it back to %s%s", e->address,
		     vfk_device_get_driver(d), why, e->driver,
		     vendor_reset ? " (or load vendor-reset)" : "");
	return true;
}

/* A granted entry's node back to its owner before the grant, once a group
 * (@done, @ndone): whatever happens to the device next, the user's access
 * ends here. 0, or -errno with the reason in @err. */
static int ungrant(struct vfk_ctx *ctx, struct vfk_journal_entry *e, int *done, size_t *ndone,
		   size_t cap, char *err, size_t errsize)
{
	int r = 0;

	if (!e->granted)
		return 0;
	if (grant_group_seen(done, ndone, cap, e->group))
		return 0;
	if (e->grant_fds) {	/* no node was changed: nothing to put back */
		vfk_progress(ctx, "group %d's grant by descriptor to uid %u ends (no node was "
			     "changed)", e->group, e->grant_uid);
		return 0;
	}
	r = grant_revoke(ctx, e);
	if (r < 0) {
		grant_error(e->group, -r, err, errsize);
		return r;
	}
	vfk_progress(ctx, "group %d's node back to uid %u, gid %u, mode %04o", e->group,
		     e->node_uid, e->node_gid, e->node_mode);
	return 0;
}

/* The grant of @group is over: no entry of the journal claims it (a
 * function not given back stays, its group's node root's again). */
static void grant_ended(struct vfk_journal *j, int group)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (j->e[i].granted && j->e[i].group == group)
			j->e[i].granted = j->e[i].grant_fds = false;
}

/* The selected entries back (newest first) or left where they are;
 * @drop[i] turns from "asked for" into "gone from the journal". The first
 * error, its reason in @errbuf; the others are still tried. */
static int restore_entries(struct vfk_ctx *ctx, struct session *s, struct vfk_journal *j,
			   bool *drop, unsigned int flags, char *errbuf, size_t errsize)
{
	struct vfk_host *host = restore_host(ctx, flags);
	int r, first = 0, done[64];
	size_t i, ndone = 0;

	for (i = j->n; i-- > 0;) {
		struct vfk_journal_entry *e = &j->e[i];
		char err[300];
		if (!drop[i])
			continue;
		r = ungrant(ctx, e, done, &ndone, ARRAY_SIZE(done), err, sizeof(err));
		if (r < 0 && !first) {
			first = r;
			snprintf(errbuf, errsize, "%s", err);
		}
		if (r == 0 && e->granted)
			grant_ended(j, e->group);
		if (leave_entry(ctx, host, e)) {
			drop[i] = false;
			continue;
		}
		e->left[0] = '\0';
		vfk_progress(ctx, "restoring %s to %s", e->address, *e->driver ? e->driver : "no driver");
		r = bind_restore_device(ctx, &s->w, e->address, e->driver, e->override, ctx->timeout_ms,
					flags & VFK_BIND_DRY_RUN, err, sizeof(err));
		drop[i] = r >= 0;
		if (r < 0 && !first) {
			first = r;
			snprintf(errbuf, errsize, "%s", err);
		}
	}
	vfk_host_unref(host);
	return first;
}

int vfk_restore(struct vfk_ctx *ctx, const char *const *addresses, size_t n, unsigned int flags,
		char *errbuf, size_t errsize)
{
	bool dry = flags & VFK_BIND_DRY_RUN;
	struct vfk_journal *j = NULL;
	_cleanup_free_ bool *drop = NULL;
	struct session s;
	int r, first = 0;
	size_t i;

	errbuf[0] = '\0';
	for (i = 0; addresses && i < n; i++) {
		struct vfk_pci_addr a;
		if (vfk_pci_addr_parse(addresses[i], &a) < 0) {
			snprintf(errbuf, errsize, "'%s' is not a PCI address", addresses[i]);
			return neg_errno(EINVAL);
		}
	}
	first = bind_session_begin(&s, ctx, dry, ctx->timeout_ms);
	if (first < 0) {
		snprintf(errbuf, errsize, "another vfiokit operation is running (pid %ld)",
			 s.holder);
		goto out;
	}
	r = vfk_journal_load(ctx, &j);
	if (r < 0) {
		snprintf(errbuf, errsize, "cannot read the binding journal: %s", journal_why(ctx, r));
		first = r;
		goto out;
	}
	drop = calloc(j->n ? j->n : 1, sizeof(*drop));
	if (!drop) {
		first = neg_errno(ENOMEM);
		goto out;
	}
	first = select_entries(j, addresses, n, drop, errbuf, errsize);
	if (first < 0)
		goto out;
	first = restore_entries(ctx, &s, j, drop, flags, errbuf, errsize);
	journal_remove_marked(j, drop);
	r = journal_save(ctx, j);
	if (r < 0 && !first) {
		first = r;
		snprintf(errbuf, errsize, "cannot update the binding journal: %s", strerror(-r));
	}
	/* consoles come back once no device vfiokit holds might still need them gone */
	if (j->n == 0) {
		r = console_reattach(ctx);
		if (r < 0 && !first) {
			first = r;
			snprintf(errbuf, errsize, "re-attaching the host console failed: %s", strerror(-r));
		}
	}
out:
	vfk_journal_free(j);
	bind_session_end(&s);
	return first < 0 ? neg_errno(first) : 0;
}

int vfk_restore_owner(struct vfk_ctx *ctx, const char *owner, unsigned int flags, char *errbuf,
		      size_t errsize)
{
	struct vfk_journal *j = NULL;
	const char **addrs;
	size_t i, n = 0;
	int r;

	errbuf[0] = '\0';
	r = vfk_journal_load(ctx, &j);
	if (r < 0) {
		snprintf(errbuf, errsize, "cannot read the binding journal: %s", journal_why(ctx, r));
		return r;
	}
	addrs = calloc(j->n + 1, sizeof(*addrs));
	if (!addrs) {
		vfk_journal_free(j);
		return neg_errno(ENOMEM);
	}
	for (i = 0; i < j->n; i++)
		if (streq(j->e[i].owner, owner))
			addrs[n++] = j->e[i].address;
	r = n ? vfk_restore(ctx, addrs, n, flags, errbuf, errsize) : 0;
	free(addrs);
	vfk_journal_free(j);
	return r;
}
