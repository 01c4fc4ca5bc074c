/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's CPU topology as topo.c reads it: cores, their threads, NUMA
 * node, L3 domain and package.
 */
#ifndef VFK_TOPO_H
#define VFK_TOPO_H

#include "core/internal.h"

#define TOPO_MAX_THREADS 8

struct topo_core {
	int first;		/* lowest CPU of the core: its name in messages */
	unsigned int nthreads;
	int cpus[TOPO_MAX_THREADS];
	int node, l3, package;
};

struct vfk_topo {
	size_t ncpus;
	struct vfk_cpu_info *cpus;	/* online CPUs, sorted by id */
	size_t ncores;
	struct topo_core *cores;	/* sorted by first CPU */
	int nnodes;			/* NUMA nodes with CPUs or memory */
	char vendor[16];		/* "AuthenticAMD", "GenuineIntel" or "" */
	unsigned int phys_bits;		/* the CPU's physical address width, 0: unknown */
};

#endif
