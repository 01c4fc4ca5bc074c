/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disks a plan says up makes (plan-newdisk.c), each a new file, never
 * one that exists: a file that appeared since the plan is left alone and up
 * stops. The libvirt backend has libvirt make it through its storage API,
 * so the file is made by the daemon that will open it (system libvirt's as
 * root, a session's as its user) and a pool of its directory lists it, as
 * virt-manager's disks are; the qemu backend has qemu-img make it (QEMU's
 * own program: the library still never shells out for itself). The write
 * hook sees each ("PATH <- (qemu-img create ...)"): a dry run shows it, a
 * test can fail it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emit/xml-tree.h"
#include "launch/launch.h"
#include "launch/libvirt-dl.h"

#define QEMU_IMG_MS 60000	/* a sparse image: a moment, even on a slow disk */

/* What making one disk needs to know; @full is its path below the sysroot. */
struct new_disk {
	struct vfk_ctx *ctx;
	const struct plan_disk *d;
	const char *path, *full, *fmt;
	int top;		/* the sysroot */
};

static int with_qemu_img(const struct new_disk *n, char *errbuf, size_t errsize)
{
	char size[32], why[512];
	int fd, r;

	/* O_EXCL first: qemu-img create would truncate a file made since the check */
	fd = openat(n->top, n->path + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return launch_fail(errbuf, errsize, errno, "disk %s: %s%s", n->path, strerror(errno),
				   errno == EEXIST ? " (it appeared since the plan; nothing "
				   "overwritten)" : "");
	close(fd);
	snprintf(size, sizeof(size), "%lluM", n->d->create_mib);
	{
		const char *const argv[] = { "qemu-img", "create", "-q", "-f", n->fmt, n->full, size,
					     NULL };

		r = vfk_run_program(argv, QEMU_IMG_MS, why, sizeof(why));
	}
	if (r < 0) {
		unlinkat(n->top, n->path + 1, 0);	/* ours, and empty */
		return launch_fail(errbuf, errsize, r == -ECANCELED ? EIO : -r, "disk %s: qemu-img "
				   "create failed: %s", n->path, *why ? why : strerror(-r));
	}
	vfk_progress(n->ctx, "made disk %s (%s, %llu MiB, qemu-img)", n->path, n->fmt,
		     n->d->create_mib);
	return 0;
}

/* <pool type='dir'> for @dir, or <volume> @name of @mib MiB in format @fmt
 * (allocation 0: sparse); malloc'ed text, escaped, or NULL. */
static char *storage_xml(const char *dir, const char *name, unsigned long long mib,
			 const char *fmt)
{
	struct xml_node *root = xml_new_root(dir ? "pool" : "volume"), *n;
	char *out = NULL, cap[32];
	bool ok = root != NULL;

	snprintf(cap, sizeof(cap), "%llu", mib);
	if (ok && dir) {
		ok = xml_set_attr(root, "type", "dir") == 0 &&
		     xml_add_child(root, NULL, "name", name) &&
		     (n = xml_add_child(root, NULL, "target", NULL)) &&
		     xml_add_child(n, NULL, "path", dir);
	} else if (ok) {
		ok = xml_add_child(root, NULL, "name", name) &&
		     (n = xml_add_child(root, NULL, "capacity", cap)) &&
		     xml_set_attr(n, "unit", "MiB") == 0 &&
		     xml_add_child(root, NULL, "allocation", "0") &&
		     (n = xml_add_child(root, NULL, "target", NULL)) &&
		     (n = xml_add_child(n, NULL, "format", NULL)) &&
		     xml_set_attr(n, "type", fmt) == 0;
	}
	if (ok && xml_format(root, &out) < 0)
		out = NULL;
	xml_free(root);
	return out;
}

/*
 * The active pool whose directory is @dir (refreshed: it lists what is
 * there now), else a transient one made for this job (*@made): libvirt
 * keeps no trace of it once destroyed. A pool defined for @dir but not
 * started is the owner's to start: libvirt refuses a second one, and says so.
 */
static virStoragePoolPtr pool_for(const struct libvirt_api *lv, virConnectPtr c,
				  const char *dir, bool *made)
{
	virStoragePoolPtr pool = lv->virStoragePoolLookupByTargetPath(c, dir);
	_cleanup_free_ char *xml = NULL;
	char name[64];

	*made = false;
	if (pool && lv->virStoragePoolIsActive(pool) == 1) {
		if (lv->virStoragePoolRefresh(pool, 0) == 0)
			return pool;
		lv->virStoragePoolFree(pool);
		return NULL;
	}
	if (pool)
		lv->virStoragePoolFree(pool);
	snprintf(name, sizeof(name), "vfiokit-newdisk-%ld", (long)getpid());
	xml = storage_xml(dir, name, 0, NULL);
	pool = xml ? lv->virStoragePoolCreateXML(c, xml, 0) : NULL;
	*made = pool != NULL;
	return pool;
}

static int with_libvirt(const struct new_disk *n, const struct libvirt_api *lv, virConnectPtr c,
			char *errbuf, size_t errsize)
{
	const char *slash = strrchr(n->full, '/');
	_cleanup_free_ char *dir = strndup(n->full, slash > n->full ? (size_t)(slash - n->full) : 1);
	_cleanup_free_ char *xml = storage_xml(NULL, slash + 1, n->d->create_mib, n->fmt);
	virStoragePoolPtr pool;
	virStorageVolPtr vol;
	bool made;
	int r = 0;

	if (!dir || !xml)
		return launch_fail(errbuf, errsize, ENOMEM, "disk %s: out of memory", n->path);
	pool = pool_for(lv, c, dir, &made);
	if (!pool)
		return launch_fail(errbuf, errsize, EIO, "disk %s: libvirt has no storage pool for "
				   "%s to make it in: %s", n->path, dir,
				   lv->virGetLastErrorMessage());
	vol = lv->virStorageVolCreateXML(pool, xml, 0);
	if (vol) {
		lv->virStorageVolFree(vol);
		vfk_progress(n->ctx, "made disk %s (%s, %llu MiB) through libvirt's storage pool "
			     "%s%s", n->path, n->fmt, n->d->create_mib,
			     lv->virStoragePoolGetName(pool), made ? " (made for it, gone again)" : "");
	} else {
		r = launch_fail(errbuf, errsize, EIO, "disk %s: libvirt could not make it: %s",
				n->path, lv->virGetLastErrorMessage());
	}
	if (made)
		lv->virStoragePoolDestroy(pool);
	lv->virStoragePoolFree(pool);
	return r;
}

int launch_make_disks(const struct vfk_plan *plan, const struct vfk_vm_options *o,
		      char *errbuf, size_t errsize)
{
	_cleanup_close_ int top = vfk_root_open_dir(plan->ctx, VFK_ROOT_TOP, NULL);
	const struct libvirt_api *lv = NULL;
	virConnectPtr c = NULL;
	size_t i;
	int r = 0;

	for (i = 0; i < plan->ndisks && r >= 0; i++) {
		const struct plan_disk *d = &plan->disks[i];
		_cleanup_free_ char *full = NULL;
		struct new_disk n = { plan->ctx, d, d->src->path, NULL,
				      d->format == FMT_QCOW2 ? "qcow2" : "raw", top };
		struct stat st;
		char what[96];

		if (!d->create_mib)
			continue;
		full = vfk_root_path(plan->ctx, VFK_ROOT_TOP, n.path + 1);
		n.full = full;
		if (top < 0 || !full) {
			r = launch_fail(errbuf, errsize, top < 0 ? -top : ENOMEM, "disk %s: cannot "
					"reach its directory", n.path);
			break;
		}
		snprintf(what, sizeof(what), o->backend == VFK_BACKEND_LIBVIRT
			 ? "(libvirt storage volume, %s, %lluM)" : "(qemu-img create -f %s, %lluM)",
			 n.fmt, d->create_mib);
		r = vfk_host_action(plan->ctx, full, what);
		if (r != 0) {
			r = r < 0 ? launch_fail(errbuf, errsize, -r, "disk %s: %s", n.path,
						strerror(-r)) : 0;
			continue;
		}
		/* libvirt refuses a volume whose file exists, qemu-img's O_EXCL
		 * does: this says why before either is asked */
		if (fstatat(top, n.path + 1, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			r = launch_fail(errbuf, errsize, EEXIST, "disk %s: %s (it appeared since the "
					"plan; nothing overwritten)", n.path, strerror(EEXIST));
			break;
		}
		if (o->backend != VFK_BACKEND_LIBVIRT) {
			r = with_qemu_img(&n, errbuf, errsize);
			continue;
		}
		if (!c) {
			c = lv_connect(o->uri ? o->uri : vfk_ctx_get_libvirt_uri(plan->ctx), &lv,
				       errbuf, errsize);
			if (!c) {
				r = -ECONNREFUSED;
				break;
			}
		}
		r = with_libvirt(&n, lv, c, errbuf, errsize);
	}
	if (c)
		lv->virConnectClose(c);
	return r < 0 ? r : 0;
}
