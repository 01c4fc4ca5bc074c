/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Several GPUs for one VM: [gpu] device names a list, or [gpu] count = N
 * asks for N. IOMMU groups go whole: the GPUs of a "together" group (one
 * group, nothing else in it) are one set, given all or not at all, and
 * naming one of them alone is refused naming the others. Of the sets that
 * can be given away, N GPUs are taken preferring
 *   1. one PCIe switch: peer-to-peer traffic between them stays below it;
 *   2. one NUMA node: the vCPUs and memory next to every GPU;
 *   3. the single-GPU ranking (plan-gpu-choice.c): the host's vfio-pci
 *      intent, discrete before integrated, then address order.
 * NVIDIA GPUs under one switch are one GPUDirect peer-to-peer clique in
 * the guest (QEMU's x-nv-gpudirect-clique), which NVIDIA's driver needs to
 * allow P2P between GPUs behind emulated root ports. [gpu] fabric = yes
 * adds every NVSwitch, in the same transaction: Fabric Manager's full
 * passthrough model (NVIDIA Fabric Manager user guide).
 */
#include <stdio.h>

#include "plan/plan-internal.h"

#define PCI_VENDOR_NVIDIA	0x10de
#define MAX_CLIQUES		16	/* x-nv-gpudirect-clique takes 0..15 */

bool plan_wants_several(const struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;

	return p->gpu_count > 1 || (p->device && profile_selector_count(p->device) > 1);
}

static bool has(struct vfk_gpu *const *v, size_t n, const struct vfk_gpu *g)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == g)
			return true;
	return false;
}

static const char *addr_of(const struct vfk_gpu *g)
{
	return vfk_device_get_address(vfk_gpu_get_device(g));
}

int plan_resolve_gpus(struct vfk_plan *pl, char *errbuf, size_t errsize)
{
	const char *list = pl->prof->device;
	size_t n = list ? profile_selector_count(list) : 0;
	const char *p = list;

	if (!n)
		return 0;
	pl->named = calloc(n, sizeof(*pl->named));
	if (!pl->named)
		return neg_errno(ENOMEM);
	for (pl->nnamed = 0; pl->nnamed < n; pl->nnamed++) {
		const char *end = strchr(p, ',');
		_cleanup_free_ char *sel = strndup(p, end ? (size_t)(end - p) : strlen(p));
		struct vfk_gpu *g;
		int r;

		if (!sel)
			return neg_errno(ENOMEM);
		r = plan_select_gpu(pl->host, sel, &g, errbuf, errsize);
		if (r < 0)
			return r;
		if (has(pl->named, pl->nnamed, g)) {
			plan_set_error(errbuf, errsize, "[gpu] device names %s twice (%s)",
				       addr_of(g), sel);
			return neg_errno(EINVAL);
		}
		pl->named[pl->nnamed] = g;
		p = end ? end + 1 : p;
	}
	return 0;
}

/* ------------------------------------------------------------ the sets */

/* The GPUs that go to a VM as one: a GPU alone, or a "together" group. */
struct gpu_set {
	size_t n;
	struct plan_candidate *m[PROF_MAX_GPUS];
	const struct vfk_device *upstream;	/* all members' switch, or NULL */
	int node;			/* all members' NUMA node, or -1 */
};

static struct gpu_set *set_of(struct gpu_set *sets, size_t nsets, const struct vfk_gpu *g)
{
	size_t i, k;

	for (i = 0; i < nsets; i++)
		for (k = 0; k < sets[i].n; k++)
			if (sets[i].m[k]->gpu == g)
				return &sets[i];
	return NULL;
}

static struct plan_candidate *cand_of(struct vfk_plan *pl, const struct vfk_gpu *g)
{
	size_t i;

	for (i = 0; i < pl->ncands; i++)
		if (pl->cands[i].gpu == g)
			return &pl->cands[i];
	return NULL;
}

/* Eligible candidates grouped into sets, in rank order of their best member.
 * A together group with a member that cannot go (the console's GPU) cannot
 * go at all; its eligible members are marked so. */
static size_t build_sets(struct vfk_plan *pl, struct gpu_set *sets)
{
	size_t i, k, nsets = 0;

	for (i = 0; i < pl->ncands; i++) {
		struct plan_candidate *c = &pl->cands[i];
		struct gpu_set *s;
		bool whole = true;

		if (!c->eligible || set_of(sets, nsets, c->gpu))
			continue;
		s = &sets[nsets];
		memset(s, 0, sizeof(*s));
		s->m[s->n++] = c;
		for (k = 0; k < vfk_gpu_together_count(c->gpu) && s->n < PROF_MAX_GPUS; k++) {
			struct plan_candidate *o = cand_of(pl, vfk_gpu_together(c->gpu, k));

			if (!o || !o->eligible)
				whole = false;
			else
				s->m[s->n++] = o;
		}
		if (!whole) {
			for (k = 0; k < s->n; k++) {
				s->m[k]->eligible = false;
				strv_addf(&s->m[k]->reasons, "its IOMMU group goes whole, and another "
					  "GPU of it cannot be given away");
			}
			continue;
		}
		s->upstream = vfk_gpu_get_upstream(c->gpu);
		s->node = vfk_device_get_numa_node(vfk_gpu_get_device(c->gpu));
		for (k = 1; k < s->n; k++) {
			if (vfk_gpu_get_upstream(s->m[k]->gpu) != s->upstream)
				s->upstream = NULL;
			if (vfk_device_get_numa_node(vfk_gpu_get_device(s->m[k]->gpu)) != s->node)
				s->node = -1;
		}
		nsets++;
	}
	return nsets;
}

/*
 * Take sets from @pool (indices into @sets, rank order) that add up to
 * exactly @want GPUs, the best-ranked first: a set is taken when the
 * remaining want can still be met exactly with it. take[] marks the sets.
 */
static bool fill_exactly(const struct gpu_set *sets, const size_t *pool, size_t npool,
			 size_t want, bool *take)
{
	bool reach[PROF_MAX_GPUS + 1];
	size_t i, j, left = want;

	for (i = 0; i < npool && left; i++) {
		size_t sz = sets[pool[i]].n;

		if (sz > left)
			continue;
		/* can the sets after i make left - sz? */
		memset(reach, 0, sizeof(reach));
		reach[0] = true;
		for (j = i + 1; j < npool; j++) {
			size_t t = sets[pool[j]].n, v;

			for (v = left - sz; v >= t && t; v--)
				reach[v] = reach[v] || reach[v - t];
		}
		if (reach[left - sz]) {
			take[pool[i]] = true;
			left -= sz;
		}
	}
	return left == 0;
}

enum scope { SCOPE_SWITCH, SCOPE_NODE, SCOPE_HOST };

/* The sets that share @s's switch / node (scope), in rank order. */
static size_t pool_like(const struct gpu_set *sets, size_t nsets, const struct gpu_set *s,
			enum scope scope, size_t *pool)
{
	size_t i, n = 0;

	for (i = 0; i < nsets; i++) {
		if (scope == SCOPE_SWITCH && (!s->upstream || sets[i].upstream != s->upstream))
			continue;
		if (scope == SCOPE_NODE && (s->node < 0 || sets[i].node != s->node))
			continue;
		pool[n++] = i;
	}
	return n;
}

/* The best scope in which @want GPUs can be found, and which sets; @ref is
 * the set whose switch or node it is. */
static int pick_sets(const struct gpu_set *sets, size_t nsets, size_t want, bool *take,
		     enum scope *scope, const struct gpu_set **ref)
{
	size_t pool[PROF_MAX_GPUS * 8 + 1], i, npool;

	if (nsets > ARRAY_SIZE(pool))
		nsets = ARRAY_SIZE(pool);
	for (*scope = SCOPE_SWITCH; *scope <= SCOPE_HOST; (*scope)++)
		for (i = 0; i < (*scope == SCOPE_HOST ? 1 : nsets); i++) {
			memset(take, 0, nsets * sizeof(*take));
			npool = pool_like(sets, nsets, &sets[i], *scope, pool);
			*ref = &sets[i];
			if (npool && fill_exactly(sets, pool, npool, want, take))
				return 0;
		}
	return neg_errno(ENODEV);
}

/* ------------------------------------------------------------ reasons */

static size_t count_eligible(const struct vfk_plan *pl)
{
	size_t i, n = 0;

	for (i = 0; i < pl->ncands; i++)
		n += pl->cands[i].eligible;
	return n;
}

static bool several_nodes(const struct gpu_set *sets, size_t nsets)
{
	size_t i;

	for (i = 1; i < nsets; i++)
		if (sets[i].node != sets[0].node)
			return true;
	return false;
}

/* "under one PCIe switch (0000:16:00.0)", "on NUMA node 1", "on this host" */
static char *scope_text(enum scope scope, const struct gpu_set *ref, bool nodes)
{
	if (scope == SCOPE_SWITCH)
		return strdupf("under one PCIe switch (%s)", vfk_device_get_address(ref->upstream));
	if (scope == SCOPE_NODE)
		return strdupf("on NUMA node %d", ref->node);
	return strdup(nodes ? "on this host (no one switch or NUMA node has that many)"
			    : "on this host");
}

/* One reason per candidate: why it is in the VM, or why not. */
static void explain(struct vfk_plan *pl, const struct gpu_set *sets, size_t nsets,
		    const bool *take, const char *where)
{
	size_t i, k;

	for (i = 0; i < nsets; i++)
		for (k = 0; k < sets[i].n; k++) {
			struct plan_candidate *c = sets[i].m[k];

			c->chosen = take[i];
			if (take[i])
				strv_addf(&c->reasons, "one of the %zu chosen %s%s", pl->ngpus, where,
					  sets[i].n > 1 ? ", with the other GPUs of its IOMMU group" : "");
			else if (pl->nnamed)
				strv_addf(&c->reasons, "[gpu] device names others");
			else
				strv_addf(&c->reasons, "not among the %zu chosen %s", pl->ngpus, where);
		}
}

/* Chosen candidates to pl->gpus, in host address order (the guest's order). */
static int take_chosen(struct vfk_plan *pl)
{
	size_t i, k;

	pl->ngpus = 0;
	pl->gpus = calloc(pl->ncands ? pl->ncands : 1, sizeof(*pl->gpus));
	if (!pl->gpus)
		return neg_errno(ENOMEM);
	for (i = 0; i < vfk_host_gpu_count(pl->host); i++)
		for (k = 0; k < pl->ncands; k++)
			if (pl->cands[k].chosen && pl->cands[k].gpu == vfk_host_gpu(pl->host, i))
				pl->gpus[pl->ngpus++] = pl->cands[k].gpu;
	pl->gpu = pl->ngpus ? pl->gpus[0] : NULL;
	return 0;
}

/* ------------------------------------------------------------ choosing */

/* A named GPU whose group holds other GPUs not named: the error that names them. */
static char *missing_partner(const struct vfk_plan *pl)
{
	size_t i, k;

	for (i = 0; i < pl->nnamed; i++)
		for (k = 0; k < vfk_gpu_together_count(pl->named[i]); k++) {
			const struct vfk_gpu *o = vfk_gpu_together(pl->named[i], k);

			if (!has(pl->named, pl->nnamed, o))
				return strdupf("%s shares IOMMU group %d with the GPU %s: a group "
					       "goes to one VM whole, so name %s in [gpu] device too",
					       addr_of(pl->named[i]),
					       vfk_device_get_iommu_group(vfk_gpu_get_device(o)),
					       addr_of(o), addr_of(o));
		}
	return NULL;
}

static char *named_obstacle(struct vfk_plan *pl)
{
	size_t i;

	for (i = 0; i < pl->nnamed; i++) {
		char *why = plan_gpu_set_obstacle(pl->named[i], true);

		if (why)
			return why;
	}
	return missing_partner(pl);
}

static char *too_few(const struct vfk_plan *pl, size_t want)
{
	size_t n = count_eligible(pl);

	if (n < want)
		return strdupf("[gpu] count = %zu, but %zu GPU%s of this host can be given away "
			       "(vfio-ls --gpus says why of each)", want, n, n == 1 ? "" : "s");
	return strdupf("[gpu] count = %zu cannot be met with whole IOMMU groups: GPUs that "
		       "share a group go together (vfio-ls --gpus lists the sets)", want);
}

int plan_choose_gpus(struct vfk_plan *pl, char **why)
{
	const struct plan_named nm = { pl->named, pl->nnamed, pl->prof->device, true };
	size_t want = pl->nnamed ? pl->nnamed : pl->prof->gpu_count;
	const struct gpu_set *ref = NULL;
	struct gpu_set *sets;
	enum scope scope;
	bool *take;
	size_t nsets;
	int r;

	*why = NULL;
	if (!vfk_host_iommu_enabled(pl->host)) {
		*why = strdup("the IOMMU is off: the kernel made no IOMMU groups (vfio-check tells "
			      "how to turn it on)");
		return neg_errno(ENODEV);
	}
	if (plan_rank_gpus(pl, &nm) < 0)
		return neg_errno(ENOMEM);
	if (pl->nnamed && (*why = named_obstacle(pl)))
		return neg_errno(ENODEV);
	sets = calloc(pl->ncands ? pl->ncands : 1, sizeof(*sets));
	take = calloc(pl->ncands ? pl->ncands : 1, sizeof(*take));
	if (!sets || !take) {
		free(sets);
		free(take);
		return neg_errno(ENOMEM);
	}
	nsets = build_sets(pl, sets);
	r = pick_sets(sets, nsets, want, take, &scope, &ref);
	if (r == 0) {
		_cleanup_free_ char *where = scope_text(scope, ref, several_nodes(sets, nsets));
		size_t i;

		pl->ngpus = 0;
		for (i = 0; i < nsets; i++)
			pl->ngpus += take[i] ? sets[i].n : 0;
		explain(pl, sets, nsets, take, where ? where : "");
		r = take_chosen(pl);
		if (r == 0)
			*why = strdupf("%zu GPUs %s, whole IOMMU groups", pl->ngpus,
				       where ? where : "");
	} else {
		*why = too_few(pl, want);
	}
	free(sets);
	free(take);
	return r;
}

/* ------------------------------------------------------------ after the choice */

/* NVIDIA GPUs under one switch: one clique each switch with two or more. */
static void assign_cliques(struct vfk_plan *pl)
{
	size_t i, k, n = 0, together;

	for (i = 0; i < pl->ngpus; i++)
		pl->clique[i] = -1;
	for (i = 0; i < pl->ngpus; i++) {
		const struct vfk_device *u = vfk_gpu_get_upstream(pl->gpus[i]);

		if (!u || pl->clique[i] >= 0 || n == MAX_CLIQUES ||
		    vfk_device_get_vendor_id(vfk_gpu_get_device(pl->gpus[i])) != PCI_VENDOR_NVIDIA)
			continue;
		for (k = i + 1, together = 0; k < pl->ngpus; k++)
			together += vfk_gpu_get_upstream(pl->gpus[k]) == u &&
				    vfk_device_get_vendor_id(vfk_gpu_get_device(pl->gpus[k])) ==
				    PCI_VENDOR_NVIDIA;
		if (!together)
			continue;
		for (k = i; k < pl->ngpus; k++)
			if (vfk_gpu_get_upstream(pl->gpus[k]) == u &&
			    vfk_device_get_vendor_id(vfk_gpu_get_device(pl->gpus[k])) == PCI_VENDOR_NVIDIA)
				pl->clique[k] = (int)n;
		strv_addf(&pl->notes, "%zu NVIDIA GPUs under the switch %s are peer-to-peer clique "
			  "%zu in the guest (x-nv-gpudirect-clique), so that the guest's driver "
			  "allows GPUDirect P2P between them", together + 1,
			  vfk_device_get_address(u), n);
		n++;
	}
}

/* A fabric device's IOMMU group may hold only fabric devices and the GPUs given. */
static char *fabric_group_obstacle(const struct vfk_plan *pl, const struct vfk_device *d)
{
	struct vfk_group *grp;
	size_t i, k;

	if (vfk_device_get_iommu_group(d) < 0 ||
	    vfk_host_find_group(pl->host, vfk_device_get_iommu_group(d), &grp) < 0)
		return strdupf("the NVSwitch %s is in no IOMMU group", vfk_device_get_address(d));
	for (i = 0; i < vfk_group_device_count(grp); i++) {
		const struct vfk_device *o = vfk_group_device(grp, i);
		bool ok = vfk_device_is_bridge(o) || vfk_device_get_fabric_role(o);

		for (k = 0; k < pl->ngpus && !ok; k++)
			ok = plan_gpu_has_function(pl->gpus[k], o);
		if (!ok)
			return strdupf("the NVSwitch %s shares IOMMU group %d with %s, which is "
				       "not given to the VM", vfk_device_get_address(d),
				       vfk_device_get_iommu_group(d), vfk_device_get_address(o));
	}
	return NULL;
}

static size_t nvidia_gpus(const struct vfk_host *h)
{
	size_t i, n = 0;

	for (i = 0; i < vfk_host_gpu_count(h); i++) {
		const struct vfk_device *d = vfk_gpu_get_device(vfk_host_gpu(h, i));

		n += vfk_device_get_vendor_id(d) == PCI_VENDOR_NVIDIA && !vfk_device_is_vf(d);
	}
	return n;
}

static int take_fabric(struct vfk_plan *pl, char *errbuf, size_t errsize)
{
	size_t i, n = vfk_host_fabric_count(pl->host);

	if (!n) {
		plan_set_error(errbuf, errsize, "[gpu] fabric = yes, but this host has no "
			       "NVSwitch (vfio-check's gpu-fabric check lists them)");
		return neg_errno(ENODEV);
	}
	pl->fabric = calloc(n, sizeof(*pl->fabric));
	if (!pl->fabric)
		return neg_errno(ENOMEM);
	for (i = 0; i < n; i++) {
		struct vfk_device *d = vfk_host_fabric_device(pl->host, i);
		_cleanup_free_ char *why = fabric_group_obstacle(pl, d);

		if (why) {
			plan_set_error(errbuf, errsize, "[gpu] fabric = yes: %s", why);
			return neg_errno(ENODEV);
		}
		pl->fabric[pl->nfabric++] = d;
	}
	if (pl->ngpus < nvidia_gpus(pl->host))
		strv_addf(&pl->notes, "warning: [gpu] fabric = yes with %zu of the host's %zu NVIDIA "
			  "GPUs: NVIDIA's full passthrough model gives one VM every GPU and every "
			  "NVSwitch; the GPUs left on the host have no fabric", pl->ngpus,
			  nvidia_gpus(pl->host));
	strv_addf(&pl->notes, "[gpu] fabric = yes: the %zu NVSwitches go to the VM with the "
		  "GPUs, in one transaction (NVIDIA's full passthrough model): run Fabric "
		  "Manager (nvidia-fabricmanager) in the guest, or CUDA fails there with error 802",
		  pl->nfabric);
	return 0;
}

/* NVSwitches on the host and GPUs given without them: which model that is. */
static void note_no_fabric(struct vfk_plan *pl)
{
	size_t i, nv = 0;

	for (i = 0; i < pl->ngpus; i++)
		nv += vfk_device_get_vendor_id(vfk_gpu_get_device(pl->gpus[i])) == PCI_VENDOR_NVIDIA;
	if (!nv || !vfk_host_fabric_count(pl->host))
		return;
	strv_addf(&pl->notes, "this host has %zu NVSwitches and [gpu] fabric is no: the GPUs "
		  "go without NVLink (disable it in the guest: nvidia NVreg_NvLinkDisable=1), or "
		  "in the shared-NVSwitch model a service VM with Fabric Manager must activate "
		  "their partition; [gpu] fabric = yes gives the NVSwitches to this VM",
		  vfk_host_fabric_count(pl->host));
}

int plan_gpus_finish(struct vfk_plan *pl, char *errbuf, size_t errsize)
{
	if (!pl->gpus && pl->gpu) {
		pl->gpus = calloc(1, sizeof(*pl->gpus));
		if (!pl->gpus)
			return neg_errno(ENOMEM);
		pl->gpus[0] = pl->gpu;
		pl->ngpus = 1;
	}
	pl->clique = calloc(pl->ngpus ? pl->ngpus : 1, sizeof(*pl->clique));
	if (!pl->clique)
		return neg_errno(ENOMEM);
	assign_cliques(pl);
	if (pl->prof->fabric)
		return take_fabric(pl, errbuf, errsize);
	note_no_fabric(pl);
	return 0;
}

void plan_gpus_free(struct vfk_plan *pl)
{
	free(pl->gpus);
	free(pl->clique);
	free(pl->fabric);
	free(pl->named);
	pl->gpus = NULL;
	pl->clique = NULL;
	pl->fabric = NULL;
	pl->named = NULL;
	pl->ngpus = pl->nfabric = pl->nnamed = 0;
}
