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

int topo_pin(const struct vfk_topo *t, const struct topo_pin_request *req,
	     struct topo_pinning *out, struct strv *notes)
{
	_cleanup_free_ bool *host = NULL, *cand = NULL, *take = NULL;
	_cleanup_free_ size_t *order = NULL;	/* cores in the order they were taken */
	_cleanup_free_ struct domain *dom = NULL;
	struct cpuset all;
	size_t i, j, ndom = 0, nhost, ncand = 0, best;
	unsigned int want = req->vcpus, got = 0, cand_cpus = 0, tmax = 0, tmin = UINT32_MAX;
	bool constrained = false;
	char a[512], b[512];
	unsigned int alloc;

	memset(out, 0, sizeof(*out));
	out->node = out->l3 = -1;
	alloc = want ? want : 2;
	if (t)
		alloc = alloc > t->ncpus ? alloc : (unsigned int)t->ncpus;
	out->vcpu_cpu = calloc(alloc + TOPO_MAX_THREADS, sizeof(*out->vcpu_cpu));
	if (!out->vcpu_cpu)
		return neg_errno(ENOMEM);
	if (!t || t->ncores == 0) {
		unpinned(out, want ? want : 2);
		strv_addf(notes, "vCPUs: %u, not pinned: no CPU topology under the sysroot",
			  out->nvcpus);
		return 0;
	}
	host = calloc(t->ncores, sizeof(*host));
	cand = calloc(t->ncores, sizeof(*cand));
	take = calloc(t->ncores, sizeof(*take));
	dom = calloc(t->ncores, sizeof(*dom));
	order = calloc(t->ncores, sizeof(*order));
	if (!host || !cand || !take || !dom || !order)
		return neg_errno(ENOMEM);

	/* the host keeps its first core(s) and their siblings */
	nhost = req->host_cores < t->ncores ? req->host_cores : t->ncores - 1;
	cpuset_zero(&out->host);
	for (i = 0; i < nhost; i++) {
		host[i] = true;
		core_cpus(&t->cores[i], &out->host);
	}

	/* the GPU's local CPUs, unless they are all of them */
	cpuset_zero(&all);
	for (i = 0; i < t->ncpus; i++)
		cpuset_set(&all, (unsigned int)t->cpus[i].cpu);
	if (req->local && cpuset_count(req->local) && !cpuset_subset(&all, req->local))
		constrained = true;
	for (;;) {
		for (i = 0; i < t->ncores; i++) {
			struct cpuset s;

			cpuset_zero(&s);
			core_cpus(&t->cores[i], &s);
			cand[i] = !host[i] && (!constrained || cpuset_subset(&s, req->local));
			if (cand[i]) {
				ncand++;
				cand_cpus += t->cores[i].nthreads;
			}
		}
		if (!constrained)
			break;
		if (!ncand) {
			strv_addf(notes, "the GPU's local CPUs (%s) are all kept for the host: vCPUs "
				  "go to other CPUs", cpuset_format(req->local, a, sizeof(a)));
		} else if (want > cand_cpus) {
			strv_addf(notes, "%u vCPUs do not fit the %u CPUs local to the GPU (%s): they "
				  "span NUMA nodes", want, cand_cpus,
				  cpuset_format(req->local, a, sizeof(a)));
		} else {
			break;
		}
		constrained = false;
		ncand = 0;
		cand_cpus = 0;
	}
	if (!ncand) {
		unpinned(out, want ? want : 1);
		strv_addf(notes, "vCPUs: %u, not pinned: the host has a single core", out->nvcpus);
		return 0;
	}
	if (want && want > cand_cpus) {
		unpinned(out, want);
		strv_addf(notes, "vCPUs: %u, not pinned: more than the %u host CPUs left after the "
			  "host's own (%s)", want, cand_cpus, cpuset_format(&out->host, a, sizeof(a)));
		cpuset_zero(&out->host);
		return 0;
	}

	/* L3 domains of the candidate cores, in order of their first CPU */
	for (i = 0; i < t->ncores; i++) {
		if (!cand[i])
			continue;
		for (j = 0; j < ndom && dom[j].l3 != t->cores[i].l3; j++)
			;
		if (j == ndom) {
			dom[ndom].l3 = t->cores[i].l3;
			dom[ndom].node = t->cores[i].node;
			ndom++;
		}
		if (dom[j].ncores == 0)
			dom[j].local = true;
		dom[j].ncores++;
		dom[j].nthreads += t->cores[i].nthreads;
		if (req->local && cpuset_count(req->local)) {
			struct cpuset s;

			cpuset_zero(&s);
			core_cpus(&t->cores[i], &s);
			if (!cpuset_subset(&s, req->local))
				dom[j].local = false;
		}
		if (dom[j].node != t->cores[i].node)
			dom[j].node = -1;
	}
	for (j = 0; j < ndom; j++)
		for (i = 0; i < nhost; i++)
			if (t->cores[i].l3 == dom[j].l3)
				dom[j].has_host = true;
	best = 0;
	for (j = 1; j < ndom; j++)
		if (domain_better(&dom[j], &dom[best], want))
			best = j;

	/* take cores: the best domain first, then (when it is too small) the
	 * domains on its node, then the rest, biggest first */
	size_t ntaken = 0;
	{
		_cleanup_free_ bool *used = calloc(ndom, sizeof(*used));
		size_t cur = best, k;

		if (!used)
			return neg_errno(ENOMEM);
		for (k = 0; k < ndom; k++) {
			used[cur] = true;
			out->l3_domains++;
			for (i = 0; i < t->ncores && (!want || got < want); i++)
				if (cand[i] && t->cores[i].l3 == dom[cur].l3) {
					take[i] = true;
					order[ntaken++] = i;
					got += t->cores[i].nthreads;
				}
			if (!want || got >= want)
				break;
			/* next domain: same node first, then the biggest */
			{
				size_t nb = SIZE_MAX;
				for (j = 0; j < ndom; j++) {
					if (used[j])
						continue;
					if (nb == SIZE_MAX ||
					    ((dom[j].node == dom[best].node) != (dom[nb].node == dom[best].node)
						     ? dom[j].node == dom[best].node
						     : dom[j].nthreads > dom[nb].nthreads))
						nb = j;
				}
				if (nb == SIZE_MAX)
					break;
				cur = nb;
			}
		}
	}

	/* vCPU i: core i / threads, thread i % threads */
	out->nvcpus = 0;
	cpuset_zero(&out->guest);
	out->node = -2;
	out->l3 = -2;
	for (j = 0; j < ntaken; j++) {
		unsigned int k;

		i = order[j];
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
		strv_addf(notes, "the pinned cores have %u to %u threads each: the guest sees %u "
			  "single-thread cores", tmin, tmax, out->nvcpus);
	}
	out->pinned = true;

	if (want && out->nvcpus > want)
		strv_addf(notes, "vcpus = %u rounded up to %u: whole cores with their SMT siblings "
			  "are pinned", want, out->nvcpus);
	if (out->l3_domains == 1)
		snprintf(b, sizeof(b), "one L3 domain (CPUs %s)", fmt_l3(t, out->l3, a, sizeof(a)));
	else
		snprintf(b, sizeof(b), "%u L3 domains: %u vCPUs do not fit in one", out->l3_domains,
			 out->nvcpus);
	strv_addf(notes, "vCPUs: %u on host CPUs %s (%u core%s x %u thread%s), %s%s", out->nvcpus,
		  fmt_cores(t, take, a, sizeof(a)), out->cores, out->cores == 1 ? "" : "s",
		  out->threads, out->threads == 1 ? "" : "s", b,
		  constrained ? ", among the GPU's local CPUs" : "");
	if (t->nnodes > 1) {
		if (out->node >= 0)
			strv_addf(notes, "vCPUs on NUMA node %d%s", out->node,
				  constrained ? " (the GPU's node)" : "");
		else
			strv_addf(notes, "vCPUs span several NUMA nodes");
	}
	if (nhost)
		strv_addf(notes, "host keeps CPUs %s (first core%s and siblings): the emulator "
			  "and I/O threads run there", cpuset_format(&out->host, a, sizeof(a)),
			  nhost == 1 ? "" : "s");
	if (!req->pin) {
		for (i = 0; i < out->nvcpus; i++)
			out->vcpu_cpu[i] = -1;
		out->pinned = false;
		cpuset_zero(&out->host);
		strv_addf(notes, "pinning = no: vCPUs float, sized as if pinned");
	}
	return 0;
}

void topo_pinning_free(struct topo_pinning *p)
{
	free(p->vcpu_cpu);
	p->vcpu_cpu = NULL;
}
