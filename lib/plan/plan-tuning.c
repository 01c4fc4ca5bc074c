/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plan's tuning from the host: KVM or TCG, the CPU model, vCPU pinning
 * (pin.c decides it), memory on the vCPUs' or the GPU's NUMA node, huge pages
 * when enough are free, Hyper-V enlightenments for Windows.
 */
#include <stdio.h>

#include "plan/plan-internal.h"

/* ------------------------------------------------------------ CPU */

/* KVM unless the profile says tcg, there is no usable kvm device, or it is kvm-pvm. */
int plan_accel(struct vfk_plan *pl)
{
	_cleanup_close_ int devfd = vfk_root_open_dir(pl->ctx, VFK_ROOT_DEV, NULL);
	_cleanup_close_ int sysfd = vfk_root_open_dir(pl->ctx, VFK_ROOT_SYS, NULL);
	bool kvm = devfd >= 0 && vfk_exists_at(devfd, "kvm");
	bool pvm = sysfd >= 0 && vfk_exists_at(sysfd, "module/kvm_pvm");

	switch (pl->prof->accel) {
	case ACCEL_TCG:
		pl->kvm = false;
		strv_addf(&pl->notes, "accel = tcg: QEMU emulates the CPU (slow)");
		break;
	case ACCEL_KVM:
		pl->kvm = true;
		if (!kvm || pvm)
			strv_addf(&pl->notes, "accel = kvm, but %s: the VM will not start",
				  pvm ? "this host's KVM is kvm-pvm (PVM guests only)"
				      : "the host has no kvm device");
		break;
	default:
		pl->kvm = kvm && !pvm;
		if (!pl->kvm)
			strv_addf(&pl->notes, "KVM cannot run this guest (%s): falling back to TCG, "
				  "much slower; the CPU is QEMU's 'max' model",
				  pvm ? "kvm-pvm runs PVM guests only" : "no kvm device");
	}
	return 0;
}

/* Memory follows the vCPUs (or the GPU, @gdev) on multi-node hosts. */
static void place_memory(struct vfk_plan *pl, const struct vfk_device *gdev)
{
	pl->memory_node = -1;
	if (!pl->topo || pl->topo->nnodes <= 1)
		return;
	if (pl->pin.pinned && pl->pin.node >= 0)
		pl->memory_node = pl->pin.node;
	else if (gdev && vfk_device_get_numa_node(gdev) >= 0)
		pl->memory_node = vfk_device_get_numa_node(gdev);
	if (pl->memory_node >= 0)
		strv_addf(&pl->notes, "memory: bound to NUMA node %d%s", pl->memory_node,
			  gdev && vfk_device_get_numa_node(gdev) == pl->memory_node
			  ? " (the GPU's node)" : "");
}

/*
 * Several GPUs: the CPUs local to any of them (their NUMA nodes). True when
 * they all share one node; memory follows the vCPUs either way.
 */
static bool gpus_local(struct vfk_plan *pl, struct cpuset *local)
{
	int node = vfk_device_get_numa_node(vfk_gpu_get_device(pl->gpus[0]));
	bool one = true;
	size_t i;

	cpuset_zero(local);
	for (i = 0; i < pl->ngpus; i++) {
		const struct vfk_device *d = vfk_gpu_get_device(pl->gpus[i]);
		struct cpuset s;

		if (vfk_device_get_local_cpulist(d) &&
		    cpuset_parse(vfk_device_get_local_cpulist(d), &s) == 0)
			cpuset_or(local, &s);
		one = one && vfk_device_get_numa_node(d) == node;
	}
	if (!one)
		strv_addf(&pl->notes, "the %zu GPUs are on more than one NUMA node: vCPUs go to "
			  "CPUs local to any of them, and memory follows the vCPUs",
			  pl->ngpus);
	return one;
}

int plan_cpu(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	struct topo_pin_request req = { .vcpus = p->vcpus, .host_cores = p->host_cores,
					.pin = p->pinning != 0 };
	struct cpuset local;
	const struct vfk_device *gdev = NULL;
	struct vfk_device *mdev_parent = NULL;
	int r;

	r = host_topo(pl->host, &pl->topo);
	if (r < 0 && r != -ENOENT)
		return r;
	if (pl->ngpus > 1)
		gdev = gpus_local(pl, &local) ? vfk_gpu_get_device(pl->gpu) : NULL;
	else if (pl->gpu)
		gdev = vfk_gpu_get_device(pl->gpu);
	else if (pl->mdev.parent && vfk_host_find_device(pl->host, pl->mdev.parent, &mdev_parent) == 0)
		gdev = mdev_parent;
	if (pl->ngpus > 1)
		req.local = cpuset_count(&local) ? &local : NULL;
	else if (gdev && vfk_device_get_local_cpulist(gdev) &&
		 cpuset_parse(vfk_device_get_local_cpulist(gdev), &local) == 0)
		req.local = &local;
	r = topo_pin(pl->topo, &req, &pl->pin, &pl->notes);
	if (r < 0)
		return r;
	if (pl->pin.pinned && cpuset_count(&pl->pin.host)) {
		char buf[4096];

		pl->host_cpus = strdup(cpuset_format(&pl->pin.host, buf, sizeof(buf)));
		if (!pl->host_cpus)
			return neg_errno(ENOMEM);
	}
	pl->cpu_model = p->cpu_model != CPU_AUTO ? p->cpu_model : pl->kvm ? CPU_HOST : CPU_MAX;
	if (pl->cpu_model == CPU_HOST && !pl->kvm) {
		pl->cpu_model = CPU_MAX;
		strv_addf(&pl->notes, "cpu-model = host-passthrough needs KVM: QEMU's max model instead");
	}
	pl->topoext = pl->topo && streq(pl->topo->vendor, "AuthenticAMD") && pl->cpu_model == CPU_HOST &&
		      pl->pin.threads > 1;
	if (pl->cpu_model != CPU_HOST && pl->pin.threads > 1) {
		/* QEMU's own models know no SMT topology without topoext: plain cores */
		pl->pin.cores = pl->pin.nvcpus;
		pl->pin.threads = 1;
	}
	pl->iothreads = p->iothreads;
	place_memory(pl, gdev);
	return 0;
}

/* Hyper-V enlightenments (Windows' by default) and KVM hidden: both need KVM. */
int plan_features(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;

	pl->hyperv = p->hyperv == TRI_AUTO ? p->os == OS_WINDOWS : p->hyperv == TRI_YES;
	if (pl->hyperv && !pl->kvm) {
		pl->hyperv = false;
		strv_addf(&pl->notes, "Hyper-V enlightenments need KVM: left out under TCG");
	}
	pl->kvm_hidden = p->kvm_hidden == 1 && pl->kvm;
	if (p->vendor_id && !pl->hyperv)
		strv_addf(&pl->notes, "vendor-id = %s is ignored: it is a Hyper-V setting and "
			  "hyperv is off", p->vendor_id);
	return 0;
}

/* ------------------------------------------------------------ memory */

struct hp_count {
	long nr, free;
	bool present;
};

static struct hp_count read_hugepages(struct vfk_ctx *ctx, int node, unsigned long kib)
{
	struct hp_count c = { 0 };
	char rel[160];
	_cleanup_close_ int fd = -1;

	if (node >= 0)
		snprintf(rel, sizeof(rel), "devices/system/node/node%d/hugepages/hugepages-%lukB",
			 node, kib);
	else
		snprintf(rel, sizeof(rel), "kernel/mm/hugepages/hugepages-%lukB", kib);
	fd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, rel);
	if (fd < 0) {
		if (node >= 0)
			return read_hugepages(ctx, -1, kib);
		return c;
	}
	c.present = true;
	if (vfk_read_long_in(ctx, fd, "nr_hugepages", &c.nr) < 0)
		c.nr = 0;
	if (vfk_read_long_in(ctx, fd, "free_hugepages", &c.free) < 0)
		c.free = 0;
	return c;
}

/* The hugetlbfs mount for @kib pages from the proc mounts table, as a host path. */
static char *hugetlbfs_mount(struct vfk_ctx *ctx, unsigned long kib)
{
	_cleanup_close_ int procfd = vfk_root_open_dir(ctx, VFK_ROOT_PROC, NULL);
	_cleanup_fclose_ FILE *f = NULL;
	char line[1024], want[32];
	int fd;

	snprintf(want, sizeof(want), "pagesize=%s", kib == 1048576 ? "1G" : "2M");
	if (procfd < 0)
		return NULL;
	fd = vfk_open_file_in(ctx, procfd, "mounts");
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		char src[256], dir[512], type[64], opts[512];

		if (sscanf(line, "%255s %511s %63s %511s", src, dir, type, opts) != 4 ||
		    !streq(type, "hugetlbfs"))
			continue;
		if (strstr(opts, want) || (kib == 2048 && !strstr(opts, "pagesize=")))
			return strdup(dir);
	}
	return NULL;
}

/* The page size asked for, else 1 GiB or 2 MiB pages when enough are free now. */
int plan_hugepages(struct vfk_plan *pl)
{
	const struct vfk_profile *p = pl->prof;
	unsigned long long mib = pl->memory_mib;
	int node = pl->memory_node;
	struct hp_count g1 = read_hugepages(pl->ctx, node, 1048576);
	struct hp_count m2 = read_hugepages(pl->ctx, node, 2048);
	unsigned long long need1 = mib / 1024, need2 = mib / 2;
	char where[48] = "";
	bool ok1 = g1.nr > 0 && mib % 1024 == 0 && (unsigned long long)g1.free >= need1;
	bool ok2 = mib % 2 == 0 && (unsigned long long)m2.free >= need2;

	if (node >= 0)
		snprintf(where, sizeof(where), " on node %d", node);
	switch (p->hugepages) {
	case HUGE_NO:
		strv_addf(&pl->notes, "hugepages = no: guest memory uses normal pages");
		return 0;
	case HUGE_1G:
		pl->hugepage_kib = 1048576;
		if (!g1.present)
			strv_addf(&pl->notes, "hugepages = 1G, but this CPU or kernel has no 1 GiB "
				  "pages (pdpe1gb): the VM will not start");
		else if (!ok1)
			strv_addf(&pl->notes, "hugepages = 1G: %llu pages needed, %ld free%s now; "
				  "reserve more before starting (hugepagesz=1G hugepages=N on the kernel "
				  "command line)", need1, g1.free, where);
		break;
	case HUGE_2M:
		pl->hugepage_kib = 2048;
		if (!ok2)
			strv_addf(&pl->notes, "hugepages = 2M: %llu pages needed, %ld free%s now; "
				  "reserve more before starting (sysctl vm.nr_hugepages)", need2,
				  m2.free, where);
		break;
	default:
		if (ok1) {
			pl->hugepage_kib = 1048576;
			strv_addf(&pl->notes, "memory: 1 GiB huge pages (%llu needed, %ld free%s)",
				  need1, g1.free, where);
		} else if (ok2) {
			pl->hugepage_kib = 2048;
			strv_addf(&pl->notes, "memory: 2 MiB huge pages (%llu needed, %ld free%s)%s",
				  need2, m2.free, where,
				  g1.nr > 0 ? "; too few 1 GiB pages free" : "");
		} else {
			strv_addf(&pl->notes, "memory: normal pages: not enough free huge pages%s "
				  "(%llu x 2 MiB needed, %ld free; %llu x 1 GiB needed, %ld free); "
				  "reserve them for better performance (sysctl vm.nr_hugepages=%llu, or "
				  "hugepagesz=1G hugepages=%llu on the kernel command line)", where, need2,
				  m2.free, need1 ? need1 : 1, g1.free, need2, need1 ? need1 : 1);
			return 0;
		}
	}
	pl->hugepage_path = hugetlbfs_mount(pl->ctx, pl->hugepage_kib);
	if (!pl->hugepage_path) {
		pl->hugepage_path = vfk_root_host_path(VFK_ROOT_DEV, pl->hugepage_kib == 2048
						       ? "hugepages" : "hugepages1G");
		strv_addf(&pl->notes, "no hugetlbfs mount with %s pages: QEMU expects one at %s",
			  pl->hugepage_kib == 2048 ? "2 MiB" : "1 GiB",
			  pl->hugepage_path ? pl->hugepage_path : "?");
	}
	return 0;
}
