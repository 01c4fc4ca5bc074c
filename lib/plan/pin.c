/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vCPU pinning on the host topology (inventory/topo.c):
 *
 *  - the first core(s) and their siblings stay with the host; the emulator
 *    and I/O threads run there;
 *  - vCPUs get whole cores (a core's SMT siblings become one guest core's
 *    threads), on the GPU's local CPUs (its NUMA node) when it has any,
 *    within one L3 domain (an AMD CCX/CCD) whenever they fit in one;
 *  - the guest topology is what was pinned: cores x threads.
 */
#include <stdio.h>
#include <stdlib.h>

#include "plan/pin.h"

struct domain {
	int l3, node;
	size_t ncores;		/* candidate cores */
	unsigned int nthreads;	/* their CPUs */
	bool has_host;		/* the host's cores share this L3 */
	bool local;		/* all its cores are among the GPU's local CPUs */
};

static void core_cpus(const struct topo_core *c, struct cpuset *s)
{
	unsigned int k;

	for (k = 0; k < c->nthreads; k++)
		cpuset_set(s, (unsigned int)c->cpus[k]);
}

static const char *fmt_cores(const struct vfk_topo *t, const bool *take, char *buf, size_t size)
{
	struct cpuset s;
	size_t i;

	cpuset_zero(&s);
	for (i = 0; i < t->ncores; i++)
		if (take[i])
			core_cpus(&t->cores[i], &s);
	return cpuset_format(&s, buf, size);
}

static const char *fmt_l3(const struct vfk_topo *t, int l3, char *buf, size_t size)
{
	struct cpuset s;
	size_t i;

	cpuset_zero(&s);
	for (i = 0; i < t->ncpus; i++)
		if (t->cpus[i].l3 == l3)
			cpuset_set(&s, (unsigned int)t->cpus[i].cpu);
	return cpuset_format(&s, buf, size);
}

/* Is domain a a better home than b for @want CPUs (0: as many as possible)? */
static bool domain_better(const struct domain *a, const struct domain *b, unsigned int want)
{
	if (a->local != b->local)
		return a->local;
	if (want) {
		bool fa = a->nthreads >= want, fb = b->nthreads >= want;

		if (fa != fb)
			return fa;
		if (!fa)	/* neither fits: the bigger one */
			return a->nthreads > b->nthreads;
		if (a->has_host != b->has_host)
			return !a->has_host;
		return a->nthreads < b->nthreads;	/* the tightest fit */
	}
	if (a->nthreads != b->nthreads)
		return a->nthreads > b->nthreads;
	return !a->has_host && b->has_host;
}

static void unpinned(struct topo_pinning *out, unsigned int nvcpus)
{
	unsigned int i;

	out->nvcpus = nvcpus;
	out->pinned = false;
	for (i = 0; i < nvcpus; i++)
		out->vcpu_cpu[i] = -1;
	out->sockets = out->dies = out->threads = 1;
	out->cores = nvcpus;
	out->node = out->l3 = -1;
	out->l3_domains = 0;
	cpuset_zero(&out->host);
	cpuset_zero(&out->guest);
}

/* One topo_pin() call: the request, what it found so far, and the choice. */
struct pin_work {
	const struct vfk_topo *t;
	const struct topo_pin_request *req;
	struct topo_pinning *out;
	struct strv *notes;
	unsigned int want;	/* vCPUs asked for, 0: as many as possible */
	bool *host;		/* by core: kept for the host */
	bool *cand;		/* by core: may take vCPUs */
	bool *take;		/* by core: takes vCPUs */
	size_t *order;		/* cores in the order they were taken */
	struct domain *dom;
	size_t nhost, ncand, ndom, best, ntaken;
	unsigned int cand_cpus, got;
	bool constrained;	/* the candidates are the GPU's local CPUs */
};

static int pin_work_alloc(struct pin_work *w)
{
	size_t n = w->t->ncores;

	w->host = calloc(n, sizeof(*w->host));
	w->cand = calloc(n, sizeof(*w->cand));
	w->take = calloc(n, sizeof(*w->take));
	w->dom = calloc(n, sizeof(*w->dom));
	w->order = calloc(n, sizeof(*w->order));
	if (!w->host || !w->cand || !w->take || !w->dom || !w->order)
		return neg_errno(ENOMEM);
	return 0;
}

static void pin_work_free(struct pin_work *w)
{
	free(w->host);
	free(w->cand);
	free(w->take);
	free(w->dom);
	free(w->order);
}

/* @out cleared, with room for every vCPU however the request is rounded */
static int pinning_alloc(const struct vfk_topo *t, unsigned int want, struct topo_pinning *out)
{
	unsigned int alloc;

	memset(out, 0, sizeof(*out));
	out->node = out->l3 = -1;
	alloc = want ? want : 2;
	if (t)
		alloc = alloc > t->ncpus ? alloc : (unsigned int)t->ncpus;
	out->vcpu_cpu = calloc(alloc + TOPO_MAX_THREADS, sizeof(*out->vcpu_cpu));
	if (!out->vcpu_cpu)
		return neg_errno(ENOMEM);
	return 0;
}

static bool core_within(const struct topo_core *c, const struct cpuset *set)
{
	struct cpuset s;

	cpuset_zero(&s);
	core_cpus(c, &s);
	return cpuset_subset(&s, set);
}

/* the host keeps its first core(s) and their siblings */
static void keep_host_cores(struct pin_work *w)
{
	size_t i;

	w->nhost = w->req->host_cores < w->t->ncores ? w->req->host_cores : w->t->ncores - 1;
	cpuset_zero(&w->out->host);
	for (i = 0; i < w->nhost; i++) {
		w->host[i] = true;
		core_cpus(&w->t->cores[i], &w->out->host);
	}
}

static void mark_candidates(struct pin_work *w)
{
	const struct vfk_topo *t = w->t;
	size_t i;

	w->ncand = 0;
	w->cand_cpus = 0;
	for (i = 0; i < t->ncores; i++) {
		w->cand[i] = !w->host[i] &&
			     (!w->constrained || core_within(&t->cores[i], w->req->local));
		if (w->cand[i]) {
			w->ncand++;
			w->cand_cpus += t->cores[i].nthreads;
		}
	}
}

/* The candidate cores: the GPU's local CPUs (unless they are all of them),
 * or any core when none of those is left or they are too few. */
static void choose_candidates(struct pin_work *w)
{
	const struct cpuset *local = w->req->local;
	struct cpuset all;
	char a[512];
	size_t i;

	cpuset_zero(&all);
	for (i = 0; i < w->t->ncpus; i++)
		cpuset_set(&all, (unsigned int)w->t->cpus[i].cpu);
	w->constrained = local && cpuset_count(local) && !cpuset_subset(&all, local);
	mark_candidates(w);
	if (!w->constrained)
		return;
	if (!w->ncand)
		strv_addf(w->notes, "the GPU's local CPUs (%s) are all kept for the host: vCPUs "
			  "go to other CPUs", cpuset_format(local, a, sizeof(a)));
	else if (w->want > w->cand_cpus)
		strv_addf(w->notes, "%u vCPUs do not fit the %u CPUs local to the GPU (%s): they "
			  "span NUMA nodes", w->want, w->cand_cpus,
			  cpuset_format(local, a, sizeof(a)));
	else
		return;
	w->constrained = false;
	mark_candidates(w);
}

/* No candidate, or too few: @out says the vCPUs are not pinned, and why. */
static bool cannot_pin(struct pin_work *w)
{
	struct topo_pinning *out = w->out;
	char a[512];

	if (!w->ncand) {
		unpinned(out, w->want ? w->want : 1);
		strv_addf(w->notes, "vCPUs: %u, not pinned: the host has a single core",
			  out->nvcpus);
		return true;
	}
	if (w->want && w->want > w->cand_cpus) {
		unpinned(out, w->want);
		strv_addf(w->notes, "vCPUs: %u, not pinned: more than the %u host CPUs left "
			  "after the host's own (%s)", w->want, w->cand_cpus,
			  cpuset_format(&out->host, a, sizeof(a)));
		cpuset_zero(&out->host);
		return true;
	}
	return false;
}

/* The L3 domains of the candidate cores, in order of their first CPU. */
static void find_domains(struct pin_work *w)
{
	const struct vfk_topo *t = w->t;
	const struct cpuset *local = w->req->local;
	struct domain *dom = w->dom;
	size_t i, j;

	for (i = 0; i < t->ncores; i++) {
		if (!w->cand[i])
			continue;
		for (j = 0; j < w->ndom && dom[j].l3 != t->cores[i].l3; j++)
			;
		if (j == w->ndom) {
			dom[w->ndom].l3 = t->cores[i].l3;
			dom[w->ndom].node = t->cores[i].node;
			w->ndom++;
		}
		if (dom[j].ncores == 0)
			dom[j].local = true;
		dom[j].ncores++;
		dom[j].nthreads += t->cores[i].nthreads;
		if (local && cpuset_count(local) && !core_within(&t->cores[i], local))
			dom[j].local = false;
		if (dom[j].node != t->cores[i].node)
			dom[j].node = -1;
	}
	for (j = 0; j < w->ndom; j++)
		for (i = 0; i < w->nhost; i++)
			if (t->cores[i].l3 == dom[j].l3)
				dom[j].has_host = true;
}

static size_t best_domain(const struct pin_work *w)
{
	size_t j, best = 0;

	for (j = 1; j < w->ndom; j++)
		if (domain_better(&w->dom[j], &w->dom[best], w->want))
			best = j;
	return best;
}

/* The unused domain to take cores from next: one on the best domain's node
 * first, then the biggest; SIZE_MAX when none is left. */
static size_t next_domain(const struct pin_work *w, const bool *used)
{
	const struct domain *dom = w->dom;
	int node = dom[w->best].node;
	size_t j, nb = SIZE_MAX;

	for (j = 0; j < w->ndom; j++) {
		if (used[j])
			continue;
		if (nb == SIZE_MAX ||
		    ((dom[j].node == node) != (dom[nb].node == node)
			     ? dom[j].node == node
			     : dom[j].nthreads > dom[nb].nthreads))
			nb = j;
	}
	return nb;
}

/* The candidate cores of domain @d, in order, until the vCPUs are covered. */
static void take_domain(struct pin_work *w, size_t d)
{
	const struct vfk_topo *t = w->t;
	size_t i;

	for (i = 0; i < t->ncores && (!w->want || w->got < w->want); i++)
		if (w->cand[i] && t->cores[i].l3 == w->dom[d].l3) {
			w->take[i] = true;
			w->order[w->ntaken++] = i;
			w->got += t->cores[i].nthreads;
		}
}

/* take cores: the best domain first, then (when it is too small) the
 * domains on its node, then the rest, biggest first */
static int take_cores(struct pin_work *w)
{
	_cleanup_free_ bool *used = calloc(w->ndom, sizeof(*used));
	size_t cur = w->best, k;

	if (!used)
		return neg_errno(ENOMEM);
	for (k = 0; k < w->ndom; k++) {
		used[cur] = true;
		w->out->l3_domains++;
		take_domain(w, cur);
		if (!w->want || w->got >= w->want)
			break;
		cur = next_domain(w, used);
		if (cur == SIZE_MAX)
			break;
	}
	return 0;
}

/* vCPU i: core i / threads, thread i % threads */
static void build_guest_topology(struct pin_work *w)
{
	const struct vfk_topo *t = w->t;
	struct topo_pinning *out = w->out;
	unsigned int tmax = 0, tmin = UINT32_MAX, k;
	size_t i, j;

	out->nvcpus = 0;
	cpuset_zero(&out->guest);
	out->node = -2;
	out->l3 = -2;
	for (j = 0; j < w->ntaken; j++) {
		i = w->order[j];
		out->cores++;
		if (t->cores[i].nthreads > tmax)
			tmax = t->cores[i].nthreads;
		if (t->cores[i].nthreads < tmin)
			tmin = t->cores[i].nthreads;
		for (k = 0; k < t->cores[i].nthreads; k++) {
			out->vcpu_cpu[out->nvcpus++] = t->cores[i].cpus[k];
			cpuset_set(&out->guest, (unsigned int)t->cores[i].cpus[k]);
		}
		out->node = out->node == -2 || out->node == t->cores[i].node ? t->cores[i].node : -1;
		out->l3 = out->l3 == -2 || out->l3 == t->cores[i].l3 ? t->cores[i].l3 : -1;
	}
	out->sockets = out->dies = 1;
	out->threads = tmax;
	if (tmin != tmax) {
		out->threads = 1;
		out->cores = out->nvcpus;
		strv_addf(w->notes, "the pinned cores have %u to %u threads each: the guest sees %u "
			  "single-thread cores", tmin, tmax, out->nvcpus);
	}
	out->pinned = true;
}

static void note_pinning(const struct pin_work *w)
{
	const struct topo_pinning *out = w->out;
	char a[512], b[512];

	if (w->want && out->nvcpus > w->want)
		strv_addf(w->notes, "vcpus = %u rounded up to %u: whole cores with their SMT "
			  "siblings are pinned", w->want, out->nvcpus);
	if (out->l3_domains == 1)
		snprintf(b, sizeof(b), "one L3 domain (CPUs %s)",
			 fmt_l3(w->t, out->l3, a, sizeof(a)));
	else
		snprintf(b, sizeof(b), "%u L3 domains: %u vCPUs do not fit in one", out->l3_domains,
			 out->nvcpus);
	strv_addf(w->notes, "vCPUs: %u on host CPUs %s (%u core%s x %u thread%s), %s%s",
		  out->nvcpus, fmt_cores(w->t, w->take, a, sizeof(a)), out->cores,
		  out->cores == 1 ? "" : "s", out->threads, out->threads == 1 ? "" : "s", b,
		  w->constrained ? ", among the GPU's local CPUs" : "");
	if (w->t->nnodes > 1) {
		if (out->node >= 0)
			strv_addf(w->notes, "vCPUs on NUMA node %d%s", out->node,
				  w->constrained ? " (the GPU's node)" : "");
		else
			strv_addf(w->notes, "vCPUs span several NUMA nodes");
	}
	if (w->nhost)
		strv_addf(w->notes, "host keeps CPUs %s (first core%s and siblings): the emulator "
			  "and I/O threads run there", cpuset_format(&out->host, a, sizeof(a)),
			  w->nhost == 1 ? "" : "s");
}

/* pinning = no: the VM keeps the size pinning gave it, its vCPUs float */
static void float_vcpus(struct pin_work *w)
{
	struct topo_pinning *out = w->out;
	unsigned int i;

	for (i = 0; i < out->nvcpus; i++)
		out->vcpu_cpu[i] = -1;
	out->pinned = false;
	cpuset_zero(&out->host);
	strv_addf(w->notes, "pinning = no: vCPUs float, sized as if pinned");
}

static int pin_cores(struct pin_work *w)
{
	int r;

	keep_host_cores(w);
	choose_candidates(w);
	if (cannot_pin(w))
		return 0;
	find_domains(w);
	w->best = best_domain(w);
	r = take_cores(w);
	if (r < 0)
		return r;
	build_guest_topology(w);
	note_pinning(w);
	if (!w->req->pin)
		float_vcpus(w);
	return 0;
}

int topo_pin(const struct vfk_topo *t, const struct topo_pin_request *req,
	     struct topo_pinning *out, struct strv *notes)
{
	struct pin_work w = { .t = t, .req = req, .out = out, .notes = notes, .want = req->vcpus };
	int r;

	r = pinning_alloc(t, w.want, out);
	if (r < 0)
		return r;
	if (!t || t->ncores == 0) {
		unpinned(out, w.want ? w.want : 2);
		strv_addf(notes, "vCPUs: %u, not pinned: no CPU topology under the sysroot",
			  out->nvcpus);
		return 0;
	}
	r = pin_work_alloc(&w);
	if (r == 0)
		r = pin_cores(&w);
	pin_work_free(&w);
	return r;
}

void topo_pinning_free(struct topo_pinning *p)
{
	free(p->vcpu_cpu);
	p->vcpu_cpu = NULL;
}
