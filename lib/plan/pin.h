/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which host CPUs a VM's vCPUs get (pin.c): whole cores, threads of one core
 * side by side, close to the GPU, one L3 domain where that fits.
 */
#ifndef VFK_PIN_H
#define VFK_PIN_H

#include "core/cpuset.h"
#include "core/strbuf.h"
#include "inventory/topo.h"

struct topo_pin_request {
	const struct cpuset *local;	/* the GPU's local CPUs, NULL: no constraint */
	unsigned int vcpus;		/* 0: auto */
	unsigned int host_cores;	/* first cores left to the host */
	bool pin;			/* false: size only, no pinning */
};

struct topo_pinning {
	unsigned int nvcpus;
	int *vcpu_cpu;			/* nvcpus entries, -1 when not pinned */
	bool pinned;
	struct cpuset host;		/* emulator and I/O threads */
	struct cpuset guest;
	unsigned int sockets, dies, cores, threads;
	int node;			/* node of every pinned CPU, -1 when several/unknown */
	int l3;				/* L3 domain (first CPU) of every pinned CPU, -1: several */
	unsigned int l3_domains;	/* how many L3 domains the vCPUs span */
};

/* Choose host CPUs for the vCPUs (see pin.c); notes explain the choice. */
int topo_pin(const struct vfk_topo *t, const struct topo_pin_request *req,
	     struct topo_pinning *out, struct strv *notes);
void topo_pinning_free(struct topo_pinning *p);

#endif
