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

/* The lowest CPU sharing @cpu's level-3 cache, or -1. */
static int read_l3(struct vfk_ctx *ctx, int cpufd, int cpu)
{
	char rel[64], buf[4096];
	struct cpuset s;
	int i, c;

	for (i = 0; i < 16; i++) {
		_cleanup_close_ int fd = -1;

		snprintf(rel, sizeof(rel), "cpu%d/cache/index%d", cpu, i);
		fd = vfk_open_dir_in(ctx, cpufd, rel);
		if (fd < 0)
			break;
		if (read_int_at(ctx, fd, "level", 0) != 3)
			continue;
		if (vfk_read_in(ctx, fd, "shared_cpu_list", buf, sizeof(buf)) < 0 ||
		    cpuset_parse(buf, &s) < 0 || !cpuset_count(&s))
			return -1;
		for (c = 0; c < VFK_MAX_CPUS; c++)
			if (cpuset_has(&s, c))
				return c;
	}
	return -1;
}

static void read_vendor(struct vfk_ctx *ctx, char *vendor, size_t size)
{
	_cleanup_close_ int procfd = vfk_root_open_dir(ctx, VFK_ROOT_PROC, NULL);
	_cleanup_close_ int fd = -1;
	_cleanup_fclose_ FILE *f = NULL;
	char line[512];

	vendor[0] = '\0';
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
		char *colon;

		if (!startswith(line, "vendor_id") || !(colon = strchr(line, ':')))
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(vendor, size, "%s", colon);
		return;
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
	for (c = 0; c < VFK_MAX_CPUS; c++) {
		_cleanup_close_ int tfd = -1;
		struct vfk_cpu_info *ci;
		struct cpuset sibs;
		char rel[64];
		int s;

		if (!cpuset_has(&online, c))
			continue;
		ci = &t->cpus[t->ncpus++];
		ci->cpu = c;
		ci->core = c;
		ci->l3 = -1;
		snprintf(rel, sizeof(rel), "cpu%d/topology", c);
		tfd = vfk_open_dir_in(ctx, cpufd, rel);
		if (tfd >= 0) {
			ci->package = read_int_at(ctx, tfd, "physical_package_id", 0);
			ci->die = read_int_at(ctx, tfd, "die_id", 0);
			if (vfk_read_in(ctx, tfd, "thread_siblings_list", buf, sizeof(buf)) >= 0 &&
			    cpuset_parse(buf, &sibs) == 0)
				for (s = 0; s < c; s++)
					if (cpuset_has(&sibs, s) && cpuset_has(&online, s)) {
						ci->core = s;
						break;
					}
		}
		ci->l3 = read_l3(ctx, cpufd, c);
	}
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
	read_vendor(ctx, t->vendor, sizeof(t->vendor));
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
