/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated devices (vGPUs) behind one model, for the two interfaces a host
 * may have:
 *
 *  classic     <sysroot>/sys/class/mdev_bus/<parent>/mdev_supported_types/<id>/
 *                  name description available_instances device_api create devices/
 *              <sysroot>/sys/bus/mdev/devices/<uuid> -> .../<parent>/<uuid>/
 *                  mdev_type -> ../mdev_supported_types/<id>, iommu_group, remove
 *  nvidia-vf   <sysroot>/sys/bus/pci/devices/<VF>/nvidia/
 *                  creatable_vgpu_types ("1414 : NVIDIA L4-2Q" lines)
 *                  current_vgpu_type    (0 = free; write an id to create, 0 to free)
 *
 * Everything is read through directory fds below the sysroot; every write
 * passes vfk_host_write*() so dry runs and tests see it. Definitions are
 * mdevctl's JSON files (etc/mdevctl.d/<parent>/<uuid>) and, for per-VF
 * vGPUs, the same schema in etc/vfiokit/vgpu/<VF>. They are read strictly,
 * since boot starts vGPUs from them unattended: a damaged file is kept as
 * "broken" with "PATH:LINE: what", reported, and never acted on.
 *
 * This file holds the snapshot (vfk_mdevs): both interfaces' parents and
 * instances with the definitions merged in, and its lookups. The rest:
 *
 *  common.c    dry runs and error lines, name and id syntax, sysfs readers
 *  parent.c    parents and their types: built, matched, sized, in messages
 *  classic.c   the kernel's mdev interface: scan, create, remove
 *  vgpu.c      NVIDIA's per-VF interface: scan, create, remove
 *  create.c    create and remove on the live host, either interface
 *  def-file.c  one definition file: strict JSON reader, writer
 *  defs.c      every definition on disk: loaded, found, written, removed
 *  define.c    define and undefine
 *  start.c     start and start-defined
 *  sriov.c     SR-IOV VFs
 *
 * Layer mdev/: owns mediated devices (vGPUs) and SR-IOV VFs. May call bind/
 * (the lock, the journal's devices), inventory/ and core/ (lib/README.md).
 */
#include <limits.h>
#include <stdio.h>

#include "mdev/mdev.h"

static void instance_free(struct vfk_mdev_instance *i)
{
	if (!i)
		return;
	free(i->parent);
	free(i->type_id);
	free(i->type_name);
	free(i->sysfs_path);
	free(i);
}

struct vfk_mdev_instance *mdev_add_instance(struct vfk_mdevs *m, const char *id,
					    enum vfk_mdev_kind kind, const char *parent,
					    const char *type_id)
{
	struct vfk_mdev_instance *i, **n;

	n = realloc(m->instances, (m->ninstances + 1) * sizeof(*n));
	if (!n)
		return NULL;
	m->instances = n;
	i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	snprintf(i->id, sizeof(i->id), "%s", id);
	i->kind = kind;
	i->group = -1;
	i->parent = strdup(parent);
	i->type_id = strdup(type_id);
	if (!i->parent || !i->type_id) {
		instance_free(i);
		return NULL;
	}
	m->instances[m->ninstances++] = i;
	return i;
}

int mdev_add_parent(struct vfk_mdevs *m, struct vfk_mdev_parent *p)
{
	struct vfk_mdev_parent **n = realloc(m->parents, (m->nparents + 1) * sizeof(*n));

	if (!n) {
		mdev_parent_free(p);
		return -ENOMEM;
	}
	m->parents = n;
	m->parents[m->nparents++] = p;
	return 0;
}

const struct vfk_mdev_parent *mdev_parent_by_name(const struct vfk_mdevs *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nparents; i++)
		if (streq(m->parents[i]->name, name))
			return m->parents[i];
	return NULL;
}

static struct vfk_mdev_instance *find_instance_in(const struct vfk_mdevs *m, const char *id,
						  const char *parent)
{
	size_t i;

	for (i = 0; i < m->ninstances; i++)
		if (streq(m->instances[i]->id, id) &&
		    (!parent || streq(m->instances[i]->parent, parent)))
			return m->instances[i];
	return NULL;
}

/* The definition @d onto its instance, which is added when not active. */
static int merge_def(struct vfk_mdevs *m, const struct mdev_def *d)
{
	struct vfk_mdev_instance *i = find_instance_in(m, d->id, d->kind == VFK_MDEV_CLASSIC
								 ? d->parent : NULL);

	if (!i) {
		char pf[32];
		const char *parent = d->parent;
		/* per-VF definitions are kept by VF; the parent shown is the PF */
		if (d->kind == VFK_MDEV_NVIDIA_VF &&
		    mdev_vf_parent_of(m->ctx, d->id, pf, sizeof(pf), NULL))
			parent = pf;
		i = mdev_add_instance(m, d->id, d->kind, parent, d->type);
		if (!i)
			return -ENOMEM;
	}
	i->defined = true;
	i->autostart = d->autostart;
	return 0;
}

static int merge_defs(struct vfk_mdevs *m)
{
	struct mdev_defs s;
	size_t k;
	int r;

	r = mdev_defs_load(m->ctx, &s);
	if (r < 0)
		return r;
	for (k = 0; k < s.n; k++)
		if ((r = merge_def(m, &s.v[k])) < 0) {
			mdev_defs_free(&s);
			return r;
		}
	for (k = 0; k < s.nbad; k++) {
		char pf[32];
		if (s.bad[k].kind == VFK_MDEV_NVIDIA_VF &&
		    mdev_vf_parent_of(m->ctx, s.bad[k].id, pf, sizeof(pf), NULL))
			snprintf(s.bad[k].parent, sizeof(s.bad[k].parent), "%s", pf);
	}
	m->bad = TAKE_PTR(s.bad);
	m->nbad = s.nbad;
	s.nbad = 0;
	mdev_defs_free(&s);
	return 0;
}

static int cmp_parent(const void *a, const void *b)
{
	return mdev_cmp_version((*(struct vfk_mdev_parent *const *)a)->name,
				(*(struct vfk_mdev_parent *const *)b)->name);
}

static int cmp_instance(const void *a, const void *b)
{
	const struct vfk_mdev_instance *x = *(struct vfk_mdev_instance *const *)a;
	const struct vfk_mdev_instance *y = *(struct vfk_mdev_instance *const *)b;
	int c = mdev_cmp_version(x->parent, y->parent);

	return c ? c : strcmp(x->id, y->id);
}

/* An instance found in bus/mdev/devices names only its type's id: the name
 * comes from the type its parent offers. */
static void name_instances(struct vfk_mdevs *m)
{
	size_t k;

	for (k = 0; k < m->ninstances; k++) {
		struct vfk_mdev_instance *i = m->instances[k];
		const struct vfk_mdev_parent *p = mdev_parent_by_name(m, i->parent);
		const struct vfk_mdev_type *t = p ? mdev_parent_type_by_id(p, i->type_id) : NULL;
		if (!i->type_name && t && t->name)
			i->type_name = strdup(t->name);
	}
}

int vfk_mdevs_scan(struct vfk_ctx *ctx, struct vfk_mdevs **out)
{
	struct vfk_mdevs *m;
	int r;

	if (!ctx || !out)
		return neg_errno(EINVAL);
	m = calloc(1, sizeof(*m));
	if (!m)
		return neg_errno(ENOMEM);
	m->refcount = 1;
	m->ctx = vfk_ctx_ref(ctx);
	if ((r = mdev_scan_classic_parents(m)) < 0 || (r = mdev_scan_vf_parents(m)) < 0 ||
	    (r = mdev_scan_classic_instances(m)) < 0 || (r = merge_defs(m)) < 0) {
		vfk_mdevs_unref(m);
		return neg_errno(r);
	}
	qsort_safe(m->parents, m->nparents, sizeof(*m->parents), cmp_parent);
	qsort_safe(m->instances, m->ninstances, sizeof(*m->instances), cmp_instance);
	name_instances(m);
	dbg(ctx, "%zu mdev parents, %zu instances", m->nparents, m->ninstances);
	*out = m;
	return 0;
}

struct vfk_mdevs *vfk_mdevs_ref(struct vfk_mdevs *m)
{
	if (m)
		m->refcount++;
	return m;
}

struct vfk_mdevs *vfk_mdevs_unref(struct vfk_mdevs *m)
{
	size_t i;

	if (!m || --m->refcount > 0)
		return NULL;
	for (i = 0; i < m->nparents; i++)
		mdev_parent_free(m->parents[i]);
	for (i = 0; i < m->ninstances; i++)
		instance_free(m->instances[i]);
	free(m->parents);
	free(m->instances);
	mdev_bads_free(m->bad, m->nbad);
	vfk_ctx_unref(m->ctx);
	free(m);
	return NULL;
}

size_t vfk_mdevs_parent_count(const struct vfk_mdevs *m) { return m->nparents; }
size_t vfk_mdevs_broken_count(const struct vfk_mdevs *m) { return m->nbad; }
const char *vfk_mdevs_broken_id(const struct vfk_mdevs *m, size_t i)
{
	return i < m->nbad ? m->bad[i].id : NULL;
}
const char *vfk_mdevs_broken_parent(const struct vfk_mdevs *m, size_t i)
{
	return i < m->nbad ? m->bad[i].parent : NULL;
}
const char *vfk_mdevs_broken_error(const struct vfk_mdevs *m, size_t i)
{
	return i < m->nbad ? m->bad[i].error : NULL;
}
struct vfk_mdev_parent *vfk_mdevs_parent(const struct vfk_mdevs *m, size_t i)
{
	return i < m->nparents ? m->parents[i] : NULL;
}
size_t vfk_mdevs_instance_count(const struct vfk_mdevs *m) { return m->ninstances; }
struct vfk_mdev_instance *vfk_mdevs_instance(const struct vfk_mdevs *m, size_t i)
{
	return i < m->ninstances ? m->instances[i] : NULL;
}

int vfk_mdevs_find_parent(const struct vfk_mdevs *m, const char *name, struct vfk_mdev_parent **out)
{
	char addr[16];
	size_t i, k;

	if (!name)
		return neg_errno(EINVAL);
	if (!mdev_pci_norm(name, addr))
		addr[0] = '\0';
	for (i = 0; i < m->nparents; i++) {
		struct vfk_mdev_parent *p = m->parents[i];
		if (streq(p->name, name) || streq(p->name, addr)) {
			*out = p;
			return 0;
		}
		for (k = 0; k < p->nvfs; k++)
			if (streq(p->vfs[k].addr, addr)) {
				*out = p;
				return 0;
			}
	}
	return neg_errno(ENODEV);
}

int vfk_mdevs_find_instance(const struct vfk_mdevs *m, const char *id, struct vfk_mdev_instance **out)
{
	char norm[VFK_MDEV_ID_SIZE];
	struct vfk_mdev_instance *i;

	if (!mdev_id_norm(id, norm))
		return neg_errno(EINVAL);
	i = find_instance_in(m, norm, NULL);
	if (!i)
		return neg_errno(ENOENT);
	*out = i;
	return 0;
}

int vfk_mdevs_find_type(const struct vfk_mdevs *m, const char *parent, const char *type,
			struct vfk_mdev_type **out)
{
	struct vfk_mdev_type *first = NULL;
	size_t i;

	for (i = 0; i < m->nparents; i++) {
		struct vfk_mdev_parent *p = m->parents[i], *want = NULL;
		struct vfk_mdev_type *t;
		if (parent && (vfk_mdevs_find_parent(m, parent, &want) < 0 || want != p))
			continue;
		t = mdev_parent_match_type(p, type);
		if (!t)
			continue;
		if (t->available) {
			*out = t;
			return 0;
		}
		if (!first)
			first = t;
	}
	if (!first)
		return neg_errno(ENOENT);
	*out = first;
	return 0;
}

/* Smaller framebuffers first; an unknown size sorts after known ones. */
static unsigned int fb_key(const struct vfk_mdev_type *t)
{
	return t->fb_mb ? t->fb_mb : UINT_MAX;
}

int vfk_mdevs_pick_type(const struct vfk_mdevs *m, const char *parent, unsigned int min_fb_mb,
			unsigned int flags, struct vfk_mdev_type **out)
{
	struct vfk_mdev_type *best = NULL;
	struct vfk_mdev_parent *only = NULL;
	size_t i, k;

	if (parent && vfk_mdevs_find_parent(m, parent, &only) < 0)
		return neg_errno(ENODEV);
	if (!m->nparents)
		return neg_errno(ENODEV);
	for (i = 0; i < m->nparents; i++) {
		if (only && m->parents[i] != only)
			continue;
		for (k = 0; k < m->parents[i]->ntypes; k++) {
			struct vfk_mdev_type *t = m->parents[i]->types[k];
			if (!t->available || (min_fb_mb && t->fb_mb < min_fb_mb) ||
			    ((flags & VFK_MDEV_PICK_DISPLAY) && !t->heads))
				continue;
			if (!best || fb_key(t) < fb_key(best) ||
			    (fb_key(t) == fb_key(best) && t->available > best->available))
				best = t;
		}
	}
	if (!best)
		return neg_errno(ENOSPC);
	*out = best;
	return 0;
}

const char *vfk_mdev_kind_to_string(enum vfk_mdev_kind kind)
{
	return kind == VFK_MDEV_NVIDIA_VF ? "nvidia-vf" : "mdev";
}

const char *vfk_mdev_instance_get_id(const struct vfk_mdev_instance *i) { return i->id; }
enum vfk_mdev_kind vfk_mdev_instance_get_kind(const struct vfk_mdev_instance *i) { return i->kind; }
const char *vfk_mdev_instance_get_parent(const struct vfk_mdev_instance *i) { return i->parent; }
const char *vfk_mdev_instance_get_type_id(const struct vfk_mdev_instance *i) { return i->type_id; }
const char *vfk_mdev_instance_get_type_name(const struct vfk_mdev_instance *i)
{
	return i->type_name ? i->type_name : i->type_id;
}
int vfk_mdev_instance_get_iommu_group(const struct vfk_mdev_instance *i) { return i->group; }
const char *vfk_mdev_instance_get_sysfs_path(const struct vfk_mdev_instance *i) { return i->sysfs_path; }
bool vfk_mdev_instance_is_active(const struct vfk_mdev_instance *i) { return i->active; }
bool vfk_mdev_instance_is_defined(const struct vfk_mdev_instance *i) { return i->defined; }
bool vfk_mdev_instance_is_autostart(const struct vfk_mdev_instance *i) { return i->autostart; }
