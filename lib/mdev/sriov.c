/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR-IOV: PF/VF relations in the host snapshot, and changing the number of
 * enabled VFs of a PF through sysfs (sriov_numvfs, sriov_drivers_autoprobe).
 *
 * The kernel refuses to go from one non-zero count to another, so a new
 * count is always preceded by 0 when VFs are enabled. Dropping VFs destroys
 * them, so VFs that vfiokit holds for a VM or that carry a vGPU or mdev are
 * refused unless forced.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>


#include "inventory/inventory.h"
#include "bind/journal.h"
#include "mdev/mdev.h"

#define PROBE_WAIT_MS 3000

size_t vfk_device_vf_count(const struct vfk_device *pf)
{
	const struct vfk_host *h = pf->host;
	size_t i, n = 0;

	for (i = 0; i < h->ndevices; i++)
		if (h->devices[i].physfn == pf)
			n++;
	return n;
}

/* Devices are sorted by address and VFs sit at offset + index * stride. */
struct vfk_device *vfk_device_vf(const struct vfk_device *pf, size_t idx)
{
	const struct vfk_host *h = pf->host;
	size_t i, n = 0;

	for (i = 0; i < h->ndevices; i++)
		if (h->devices[i].physfn == pf && n++ == idx)
			return &h->devices[i];
	return NULL;
}

static int open_device(struct vfk_ctx *ctx, const char *addr)
{
	_cleanup_close_ int devfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, VFK_SYS_PCI_DEVICES);
	int fd;

	if (devfd < 0)
		return devfd;
	fd = vfk_open_dir_in(ctx, devfd, addr);
	return fd < 0 ? neg_errno(errno == ENOENT ? ENODEV : errno) : fd;
}

int vfk_sriov_get_drivers_autoprobe(struct vfk_ctx *ctx, const char *pf)
{
	_cleanup_close_ int dfd = -1;
	struct vfk_pci_addr a;
	char addr[16];
	long v;
	int r;

	if (!pf || vfk_pci_addr_parse(pf, &a) < 0)
		return neg_errno(EINVAL);
	dfd = open_device(ctx, vfk_pci_addr_format(&a, addr, sizeof(addr)));
	if (dfd < 0)
		return dfd;
	r = vfk_read_long_in(ctx, dfd, "sriov_drivers_autoprobe", &v);
	if (r < 0)
		return r == -ENOENT ? neg_errno(EOPNOTSUPP) : r;
	return v ? 1 : 0;
}

/* VF addresses from the PF's virtfnN links, in index order. */
static size_t list_vfs(int pffd, unsigned int max, char (*vfs)[16])
{
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < max; i++) {
		char link[24];
		snprintf(link, sizeof(link), "virtfn%u", i);
		if (vfk_readlink_base_at(pffd, link, vfs[n], 16) > 0)
			n++;
	}
	return n;
}

/* A VF that must not vanish: held by vfiokit, carrying a vGPU or an mdev. */
static int vf_in_use(struct vfk_ctx *ctx, const struct vfk_journal *j, const char *vf,
		     char *err, size_t size)
{
	unsigned int cur = 0;
	char uuid[VFK_MDEV_ID_SIZE];
	size_t i;

	for (i = 0; j && i < j->n; i++)
		if (streq(j->e[i].address, vf))
			return op_error(err, size, EBUSY, "VF %s is held by vfiokit for %s: vfio-bind "
					"restore %s first (or force)", vf, j->e[i].owner, vf);
	if (vgpu_vf_present(ctx, vf, &cur) && cur)
		return op_error(err, size, EBUSY, "VF %s carries vGPU type %u: vfio-mdev remove %s "
				"first (or force)", vf, cur, vf);
	if (mdev_children(ctx, vf, uuid))
		return op_error(err, size, EBUSY, "VF %s has mediated device %s: vfio-mdev remove "
				"%s first (or force)", vf, uuid, uuid);
	return 0;
}

/* With autoprobe on, VFs should find drivers; name those that did not. */
static void report_unbound(struct vfk_ctx *ctx, int pffd, unsigned int n)
{
	char (*vfs)[16] = calloc(n ? n : 1, 16), drv[64], rel[48];
	size_t cnt, i;

	if (!vfs)
		return;
	cnt = list_vfs(pffd, n, vfs);
	/* A driver can bind and then give up asynchronously (nvme removes a VF
	 * whose controller is not ready ~0.5 s after probing it): on a live host
	 * look only after the whole window, not as soon as every VF has a driver. */
	if (vfk_ctx_is_live(ctx))
		poll(NULL, 0, PROBE_WAIT_MS);
	for (i = 0; i < cnt; i++) {
		snprintf(rel, sizeof(rel), "virtfn%zu/driver", i);
		if (vfk_readlink_base_at(pffd, rel, drv, sizeof(drv)) >= 0)
			continue;
		vfk_progress(ctx, "VF %s came up without a driver: no host driver matched it, or its "
			     "probe failed (a VF may need PF-side resources first, e.g. "
			     "'nvme virt-mgmt' for an NVMe VF; see the kernel log)", vfs[i]);
	}
	free(vfs);
}

/* What set_numvfs() reads of a PF before it changes anything. */
struct pf_state {
	unsigned int total;	/* sriov_totalvfs */
	unsigned int cur;	/* VFs enabled now */
	bool autoprobe;		/* sriov_drivers_autoprobe */
	char drv[64];		/* the PF's driver */
};

/* sriov_totalvfs, sriov_numvfs and sriov_drivers_autoprobe: a device without
 * the first is no PF. */
static int read_pf(struct vfk_ctx *ctx, int dfd, const char *addr, struct pf_state *pf,
		   char *err, size_t size)
{
	long v = 0;

	if (vfk_read_long_in(ctx, dfd, "sriov_totalvfs", &v) < 0) {
		char phys[32];
		if (vfk_readlink_base_at(dfd, "physfn", phys, sizeof(phys)) > 0)
			return op_error(err, size, EOPNOTSUPP, "%s is a VF (of %s), not a physical "
					"function", addr, phys);
		return op_error(err, size, EOPNOTSUPP, "%s is not an SR-IOV physical function (no "
				"sriov_totalvfs)", addr);
	}
	pf->total = v > 0 ? (unsigned int)v : 0;
	if (vfk_read_long_in(ctx, dfd, "sriov_numvfs", &v) == 0 && v > 0)
		pf->cur = (unsigned int)v;
	if (vfk_read_long_in(ctx, dfd, "sriov_drivers_autoprobe", &v) == 0)
		pf->autoprobe = v != 0;
	return 0;
}

/* Dropping VFs destroys them: refuse when one of the @cur there is in use. */
static int refuse_vfs_in_use(struct vfk_ctx *ctx, int dfd, unsigned int cur, char *err,
			     size_t size)
{
	char (*vfs)[16] = calloc(cur, 16);
	struct vfk_journal *j = NULL;
	size_t n, i;
	int r;

	if (!vfs)
		return neg_errno(ENOMEM);
	if (vfk_journal_load(ctx, &j) < 0)
		j = NULL;
	n = list_vfs(dfd, cur, vfs);
	for (i = 0, r = 0; i < n && r == 0; i++)
		r = vf_in_use(ctx, j, vfs[i], err, size);
	free(vfs);
	vfk_journal_free(j);
	return r;
}

/* The switch is read when VFs are enabled: set it before, never after. */
static int set_autoprobe(struct vfk_ctx *ctx, const char *addr, unsigned int numvfs,
			 unsigned int flags, struct pf_state *pf, char *err, size_t size)
{
	char rel[96];
	int r;

	if (!numvfs || !(((flags & VFK_SRIOV_NO_AUTOPROBE) && pf->autoprobe) ||
			 ((flags & VFK_SRIOV_AUTOPROBE) && !pf->autoprobe)))
		return 0;
	pf->autoprobe = !pf->autoprobe;
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/sriov_drivers_autoprobe", addr);
	r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, pf->autoprobe ? "1" : "0");
	if (r < 0)
		return op_error(err, size, -r, "%s: writing sriov_drivers_autoprobe failed: %s",
				addr, strerror(-r));
	return 0;
}

/* sriov_numvfs <- 0 when VFs are enabled, then <- @numvfs unless that is 0. */
static int write_numvfs(struct vfk_ctx *ctx, const char *addr, unsigned int numvfs,
			const struct pf_state *pf, char *err, size_t size)
{
	char rel[96], val[16];
	int r;

	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/sriov_numvfs", addr);
	if (pf->cur) {
		vfk_progress(ctx, "disabling the %u VF%s of %s", pf->cur, pf->cur == 1 ? "" : "s",
			     addr);
		r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, "0");
		if (r < 0)
			return op_error(err, size, -r, "%s: disabling VFs failed: %s", addr,
					strerror(-r));
	}
	if (!numvfs)
		return 0;
	vfk_progress(ctx, "enabling %u VF%s on %s%s", numvfs, numvfs == 1 ? "" : "s", addr,
		     pf->autoprobe ? "" : " (drivers_autoprobe off: they come up unbound)");
	snprintf(val, sizeof(val), "%u", numvfs);
	r = vfk_host_write(ctx, VFK_ROOT_SYS, rel, val);
	if (r == -ENOENT || r == -EOPNOTSUPP)
		return op_error(err, size, ENOENT, "%s: its driver (%s) cannot configure SR-IOV "
				"through sysfs", addr, pf->drv);
	if (r == -ENOMEM || r == -ENOSPC || r == -EIO)
		return op_error(err, size, -r, "%s: the kernel could not enable %u VFs (%s): "
				"not enough bus numbers or BAR space for them? (see the kernel "
				"log; 'pci=realloc' may help)", addr, numvfs, strerror(-r));
	if (r < 0)
		return op_error(err, size, -r, "%s: enabling %u VFs failed: %s", addr, numvfs,
				strerror(-r));
	return 0;
}

/* The count read back must be the one written; with autoprobe on, name the
 * VFs that found no driver. */
static int check_numvfs(struct vfk_ctx *ctx, int dfd, const char *addr, unsigned int numvfs,
			bool autoprobe, char *err, size_t size)
{
	unsigned int now;
	long v = 0;

	vfk_read_long_in(ctx, dfd, "sriov_numvfs", &v);
	now = v > 0 ? (unsigned int)v : 0;
	if (now != numvfs)
		return op_error(err, size, EIO, "%s: sriov_numvfs reads %u after writing %u", addr,
				now, numvfs);
	if (numvfs && autoprobe)
		report_unbound(ctx, dfd, numvfs);
	return 0;
}

static int set_numvfs(struct vfk_ctx *ctx, const char *addr, unsigned int numvfs,
		      unsigned int flags, char *err, size_t size)
{
	_cleanup_close_ int dfd = -1;
	bool dry = flags & VFK_SRIOV_DRY_RUN;
	struct pf_state pf = { .autoprobe = true };
	long holder = 0;
	int lockfd = -1, r;

	if ((flags & VFK_SRIOV_NO_AUTOPROBE) && (flags & VFK_SRIOV_AUTOPROBE))
		return op_error(err, size, EINVAL, "autoprobe on and off at once");
	dfd = open_device(ctx, addr);
	if (dfd < 0)
		return op_error(err, size, ENODEV, "no PCI device %s on this host", addr);
	r = read_pf(ctx, dfd, addr, &pf, err, size);
	if (r < 0)
		return r;
	if (numvfs > pf.total)
		return op_error(err, size, ERANGE, "%s supports at most %u VFs (sriov_totalvfs)", addr,
				pf.total);
	if (vfk_readlink_base_at(dfd, "driver", pf.drv, sizeof(pf.drv)) < 0)
		return op_error(err, size, ENOENT, "%s has no driver: the kernel enables VFs through "
				"the PF's driver, bind it first", addr);
	if (numvfs == pf.cur) {
		vfk_progress(ctx, "%s has %u VF%s already", addr, pf.cur, pf.cur == 1 ? "" : "s");
		return 0;
	}
	if (pf.cur && !(flags & VFK_SRIOV_FORCE) &&
	    (r = refuse_vfs_in_use(ctx, dfd, pf.cur, err, size)) < 0)
		return r;
	if (!dry) {
		lockfd = vfk_lock_take(ctx, ctx->timeout_ms, &holder);
		if (lockfd < 0)
			return op_error(err, size, -lockfd,
					"another vfiokit operation is running (pid %ld)", holder);
	}
	r = set_autoprobe(ctx, addr, numvfs, flags, &pf, err, size);
	if (r == 0)
		r = write_numvfs(ctx, addr, numvfs, &pf, err, size);
	if (r == 0 && !dry)
		r = check_numvfs(ctx, dfd, addr, numvfs, pf.autoprobe, err, size);
	if (lockfd >= 0)
		close(lockfd);
	return r;
}

int vfk_sriov_set_numvfs(struct vfk_ctx *ctx, const char *pf, unsigned int numvfs,
			 unsigned int flags, char *errbuf, size_t errsize)
{
	struct vfk_pci_addr a;
	struct op_hook save;
	char addr[16];

	if (!pf || vfk_pci_addr_parse(pf, &a) < 0)
		return op_error(errbuf, errsize, EINVAL, "'%s' is not a PCI address", pf ? pf : "");
	vfk_pci_addr_format(&a, addr, sizeof(addr));
	op_begin(ctx, flags & VFK_SRIOV_DRY_RUN, errbuf, errsize, &save);
	return op_end(ctx, &save, set_numvfs(ctx, addr, numvfs, flags, errbuf, errsize));
}
