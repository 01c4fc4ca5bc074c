/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CPU topology from sysfs: cores and their SMT siblings, packages, L3
 * domains, NUMA nodes (what plan/pin.c chooses vCPU placement from).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>

#include "core/cpuset.h"
#include "inventory/topo.h"

static int read_int_at(struct vfk_ctx *ctx, int dirfd, const char *name, int def)
{
	long v;

	return vfk_read_long_in(ctx, dirfd, name, &v) == 0 ? (int)v : def;
}

/*
 * What the CPUs read so far say about the others: the kernel lists a core's
 * threads and an L3's sharers in one file each, so a CPU already named in
 * one needs no read of its own (a 64-thread host reads 32 sibling lists and
 * one L3 list, not 64 of each and 256 cache levels).
 */
struct topo_scan {
	int core_of[VFK_MAX_CPUS];	/* the core's lowest CPU, or -1: not seen */
	int l3_of[VFK_MAX_CPUS];	/* the L3's lowest CPU, or -1 */
	int l3_index;			/* cache/indexN that was level 3 last time */
	size_t info_of[VFK_MAX_CPUS];	/* index in t->cpus of a CPU seen */
};

static int lowest(const struct cpuset *s)
{
	int c;

	for (c = 0; c < VFK_MAX_CPUS; c++)
		if (cpuset_has(s, c))
			return c;
	return -1;
}

/* @cpu's level-3 cache: the lowest CPU sharing it, recorded for all sharers. */
static int read_l3(struct vfk_ctx *ctx, int cpufd, int cpu, struct topo_scan *sc)
{
	char rel[64], buf[4096];
	struct cpuset s;
	int k, i, c, low;

	if (sc->l3_of[cpu] >= 0)
		return sc->l3_of[cpu];
	for (k = 0; k < 16; k++) {
		_cleanup_close_ int fd = -1;

		/* the index that was L3 for the last CPU first: it is the same on
		 * every CPU the kernel has shown us */
		i = k == 0 ? sc->l3_index : k - (k <= sc->l3_index);
		snprintf(rel, sizeof(rel), "cpu%d/cache/index%d", cpu, i);
		fd = vfk_open_dir_in(ctx, cpufd, rel);
		if (fd < 0) {
			if (k == 0)
				continue;
			break;
		}
		if (read_int_at(ctx, fd, "level", 0) != 3)
			continue;
		sc->l3_index = i;
		if (vfk_read_in(ctx, fd, "shared_cpu_list", buf, sizeof(buf)) < 0 ||
		    cpuset_parse(buf, &s) < 0 || (low = lowest(&s)) < 0)
			return -1;
		for (c = 0; c < VFK_MAX_CPUS; c++)
			if (cpuset_has(&s, c))
				sc->l3_of[c] = low;
		return low;
	}
	return -1;
}

/* Package, die and core of @c: from its topology files, or copied from the
 * sibling that named it. */
static void read_core(struct vfk_ctx *ctx, int cpufd, const struct cpuset *online,
		      struct vfk_topo *t, struct vfk_cpu_info *ci, struct topo_scan *sc)
{
	_cleanup_close_ int tfd = -1;
	struct cpuset sibs;
	char rel[64], buf[4096];
	int s, low = -1;

	if (sc->core_of[ci->cpu] >= 0) {
		const struct vfk_cpu_info *first = &t->cpus[sc->info_of[sc->core_of[ci->cpu]]];

		ci->core = first->core;
		ci->package = first->package;
		ci->die = first->die;
		return;
	}
	snprintf(rel, sizeof(rel), "cpu%d/topology", ci->cpu);
	tfd = vfk_open_dir_in(ctx, cpufd, rel);
	if (tfd < 0)
		return;
	ci->package = read_int_at(ctx, tfd, "physical_package_id", 0);
	ci->die = read_int_at(ctx, tfd, "die_id", 0);
	if (vfk_read_in(ctx, tfd, "thread_siblings_list", buf, sizeof(buf)) < 0 ||
	    cpuset_parse(buf, &sibs) < 0)
		return;
	for (s = 0; s <= ci->cpu && low < 0; s++)
		if (cpuset_has(&sibs, s) && cpuset_has(online, s))
			low = s;
	if (low < ci->cpu && low >= 0) {
		ci->core = low;		/* a sibling before it whose files said otherwise */
		return;
	}
	/* the first thread of its core: the later ones copy it */
	for (s = ci->cpu + 1; s < VFK_MAX_CPUS; s++)
		if (cpuset_has(&sibs, s) && cpuset_has(online, s))
			sc->core_of[s] = ci->cpu;
}

/* The CPU vendor and the physical address width ("address sizes : 39 bits
 * physical, 48 bits virtual") of the first processor in cpuinfo. */
static void read_cpuinfo(struct vfk_ctx *ctx, struct vfk_topo *t)
{
	_cleanup_close_ int procfd = vfk_root_open_dir(ctx, VFK_ROOT_PROC, NULL);
	_cleanup_close_ int fd = -1;
	_cleanup_fclose_ FILE *f = NULL;
	char line[512];
	bool bol = true, was_bol;	/* at the beginning of a line (a long one comes in parts) */

	t->vendor[0] = '\0';
	if (procfd < 0)
		return;
	fd = vfk_open_file_in(ctx, procfd, "cpuinfo");
	if (fd < 0)
		return;
	f = fdopen(fd, "r");
	if (!f)
		return;
	fd = -1;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		unsigned int bits;

		was_bol = bol;
		bol = strchr(line, '\n') != NULL;
		if (!was_bol)
			continue;
		if (line[0] == '\n')
			return;		/* the end of the first processor */
		if (!colon)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		colon[strcspn(colon, "\n")] = '\0';
		if (startswith(line, "vendor_id"))
			snprintf(t->vendor, sizeof(t->vendor), "%s", colon);
		else if (startswith(line, "address sizes") &&
			 sscanf(colon, "%u bits physical", &bits) == 1 && bits >= 32 && bits <= 64)
			t->phys_bits = bits;
	}
}

/* node of each CPU from devices/system/node/nodeN/cpulist */
static int read_nodes(struct vfk_ctx *ctx, struct vfk_topo *t)
{
	_cleanup_close_ int nodefd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, "devices/system/node");
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char rel[300], buf[4096];
	int fd;

	if (nodefd < 0)
		return 0;
	fd = dup(nodefd);
	if (!(d = vfk_fdopendir(fd)))
		return 0;
	while ((de = readdir(d))) {
		struct cpuset s;
		unsigned int node;
		char *end;
		size_t i;

		if (!startswith(de->d_name, "node") || !isdigit((unsigned char)de->d_name[4]))
			continue;
		node = (unsigned int)strtoul(de->d_name + 4, &end, 10);
		if (*end)
			continue;
		t->nnodes++;
		snprintf(rel, sizeof(rel), "%s/cpulist", de->d_name);
		if (vfk_read_in(ctx, nodefd, rel, buf, sizeof(buf)) < 0 || cpuset_parse(buf, &s) < 0)
			continue;
		for (i = 0; i < t->ncpus; i++)
			if (cpuset_has(&s, t->cpus[i].cpu))
				t->cpus[i].node = (int)node;
	}
	return 0;
}

static int build_cores(struct vfk_topo *t)
{
	size_t i, j;

	t->cores = calloc(t->ncpus ? t->ncpus : 1, sizeof(*t->cores));
	if (!t->cores)
		return neg_errno(ENOMEM);
	for (i = 0; i < t->ncpus; i++) {
		struct topo_core *c;

		if (t->cpus[i].core != t->cpus[i].cpu)
			continue;
		c = &t->cores[t->ncores++];
		c->first = t->cpus[i].cpu;
		c->node = t->cpus[i].node;
		c->l3 = t->cpus[i].l3;
		c->package = t->cpus[i].package;
		for (j = i; j < t->ncpus; j++)
			if (t->cpus[j].core == c->first && c->nthreads < TOPO_MAX_THREADS)
				c->cpus[c->nthreads++] = t->cpus[j].cpu;
	}
	return 0;
}

int vfk_topo_read(struct vfk_ctx *ctx, struct vfk_topo **out)
{
	_cleanup_close_ int cpufd = -1;
	struct vfk_topo *t;
	struct topo_scan *sc;
	struct cpuset online;
	char buf[4096];
	int c, r;
	size_t i;

	if (!ctx || !out)
		return neg_errno(EINVAL);
	*out = NULL;
	cpufd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, "devices/system/cpu");
	if (cpufd < 0)
		return neg_errno(ENOENT);
	if (vfk_read_in(ctx, cpufd, "online", buf, sizeof(buf)) < 0 || cpuset_parse(buf, &online) < 0 ||
	    !cpuset_count(&online))
		return neg_errno(ENOENT);

	t = calloc(1, sizeof(*t));
	if (!t)
		return neg_errno(ENOMEM);
	t->cpus = calloc(cpuset_count(&online), sizeof(*t->cpus));
	if (!t->cpus) {
		free(t);
		return neg_errno(ENOMEM);
	}
	sc = malloc(sizeof(*sc));
	if (!sc) {
		vfk_topo_free(t);
		return neg_errno(ENOMEM);
	}
	memset(sc->core_of, 0xff, sizeof(sc->core_of));	/* all -1 */
	memset(sc->l3_of, 0xff, sizeof(sc->l3_of));
	sc->l3_index = 3;
	for (c = 0; c < VFK_MAX_CPUS; c++) {
		struct vfk_cpu_info *ci;

		if (!cpuset_has(&online, c))
			continue;
		sc->info_of[c] = t->ncpus;
		ci = &t->cpus[t->ncpus++];
		ci->cpu = c;
		ci->core = c;
		read_core(ctx, cpufd, &online, t, ci, sc);
		ci->l3 = read_l3(ctx, cpufd, c, sc);
	}
	free(sc);
	/* without cache information the package is the L3 domain */
	for (i = 0; i < t->ncpus; i++) {
		size_t j;

		if (t->cpus[i].l3 >= 0)
			continue;
		for (j = 0; j < t->ncpus; j++)
			if (t->cpus[j].package == t->cpus[i].package) {
				t->cpus[i].l3 = t->cpus[j].cpu;
				break;
			}
	}
	read_nodes(ctx, t);
	read_cpuinfo(ctx, t);
	r = build_cores(t);
	if (r < 0) {
		vfk_topo_free(t);
		return r;
	}
	dbg(ctx, "topology: %zu CPUs, %zu cores, %d nodes, vendor '%s'", t->ncpus, t->ncores,
	    t->nnodes, t->vendor);
	*out = t;
	return 0;
}

void vfk_topo_free(struct vfk_topo *topo)
{
	if (!topo)
		return;
	free(topo->cpus);
	free(topo->cores);
	free(topo);
}

size_t vfk_topo_cpu_count(const struct vfk_topo *topo) { return topo ? topo->ncpus : 0; }

const struct vfk_cpu_info *vfk_topo_cpu(const struct vfk_topo *topo, size_t i)
{
	return topo && i < topo->ncpus ? &topo->cpus[i] : NULL;
}

size_t vfk_topo_core_count(const struct vfk_topo *topo) { return topo ? topo->ncores : 0; }

unsigned int vfk_topo_threads_per_core(const struct vfk_topo *topo)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; topo && i < topo->ncores; i++)
		if (topo->cores[i].nthreads > n)
			n = topo->cores[i].nthreads;
	return n;
}

const char *vfk_topo_get_vendor(const struct vfk_topo *topo) { return topo ? topo->vendor : ""; }
