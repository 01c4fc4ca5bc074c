/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qemu backend's share of what libvirt does with <cputune>: once QEMU
 * runs, each vCPU thread (QMP query-cpus-fast) goes to the host CPU the plan
 * chose for it, every other thread of the process (main loop, I/O threads,
 * workers) to the host's share. Threads QEMU starts later inherit the
 * affinity of the thread that starts them, which is never a vCPU's.
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "launch/qmp.h"
#include "launch/launch.h"

struct vcpu_thread {
	pid_t tid;
	struct cpuset cpus;
};

static int set_affinity(pid_t tid, const struct cpuset *s)
{
	size_t size = CPU_ALLOC_SIZE(VFK_MAX_CPUS);
	cpu_set_t *set = CPU_ALLOC(VFK_MAX_CPUS);
	unsigned int c;
	int r = 0;

	if (!set)
		return -ENOMEM;
	CPU_ZERO_S(size, set);
	for (c = 0; c < VFK_MAX_CPUS; c++)
		if (cpuset_has(s, (int)c))
			CPU_SET_S(c, size, set);
	if (sched_setaffinity(tid, size, set) < 0)
		r = -errno;
	CPU_FREE(set);
	return r;
}

/* vCPU threads from query-cpus-fast; with single-threaded TCG several vCPUs
 * share one thread, which then gets the union of their CPUs. */
static int vcpu_threads(const struct vfk_plan *pl, int qmp_fd, struct vcpu_thread **out,
			size_t *n, char *err, size_t errsize)
{
	json_object *cpus = NULL;
	struct vcpu_thread *t;
	size_t i, j, len;
	int r;

	*out = NULL;
	*n = 0;
	r = qmp_query(qmp_fd, "query-cpus-fast", 3000, &cpus, err, errsize);
	if (r < 0)
		return r;
	if (!json_object_is_type(cpus, json_type_array)) {
		json_object_put(cpus);
		snprintf(err, errsize, "query-cpus-fast gave no list");
		return -EPROTO;
	}
	len = json_object_array_length(cpus);
	t = calloc(len ? len : 1, sizeof(*t));
	if (!t) {
		json_object_put(cpus);
		return -ENOMEM;
	}
	for (i = 0; i < len; i++) {
		json_object *cpu = json_object_array_get_idx(cpus, i), *v;
		int index, tid, host;

		if (!json_object_object_get_ex(cpu, "cpu-index", &v))
			continue;
		index = json_object_get_int(v);
		if (!json_object_object_get_ex(cpu, "thread-id", &v))
			continue;
		tid = json_object_get_int(v);
		if (index < 0 || (unsigned int)index >= pl->pin.nvcpus || tid <= 0)
			continue;
		host = pl->pin.vcpu_cpu[index];
		if (host < 0)
			continue;
		for (j = 0; j < *n && t[j].tid != tid; j++)
			;
		if (j == *n) {
			t[j].tid = tid;
			(*n)++;
		}
		cpuset_set(&t[j].cpus, (unsigned int)host);
	}
	json_object_put(cpus);
	*out = t;
	return 0;
}

int qemu_pin_threads(struct vfk_ctx *ctx, const struct vfk_plan *pl, int qmp_fd, pid_t pid,
		     char *err, size_t errsize)
{
	_cleanup_free_ struct vcpu_thread *vt = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	char rel[48], cpus[256];
	size_t nvt = 0, i;
	int fd, r;

	if (!pl->pin.pinned)
		return 0;
	r = vcpu_threads(pl, qmp_fd, &vt, &nvt, err, errsize);
	if (r < 0)
		return r;
	if (nvt == 0) {
		snprintf(err, errsize, "QEMU named no vCPU thread to pin");
		return -ESRCH;
	}
	/* every other thread to the host's share first */
	snprintf(rel, sizeof(rel), "%d/task", (int)pid);
	fd = vfk_root_open_dir(ctx, VFK_ROOT_PROC, rel);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errsize, "cannot list the threads of QEMU (pid %d)", (int)pid);
		return -ESRCH;
	}
	while (cpuset_count(&pl->pin.host) && (e = readdir(d))) {
		pid_t tid = (pid_t)strtol(e->d_name, NULL, 10);
		bool is_vcpu = false;

		if (tid <= 0)
			continue;
		for (i = 0; i < nvt; i++)
			is_vcpu |= vt[i].tid == tid;
		if (is_vcpu)
			continue;
		r = set_affinity(tid, &pl->pin.host);
		if (r < 0 && r != -ESRCH) {
			snprintf(err, errsize, "pinning QEMU thread %d to CPUs %s: %s", (int)tid,
				 cpuset_format(&pl->pin.host, cpus, sizeof(cpus)), strerror(-r));
			return r;
		}
	}
	for (i = 0; i < nvt; i++) {
		r = set_affinity(vt[i].tid, &vt[i].cpus);
		if (r < 0) {
			snprintf(err, errsize, "pinning vCPU thread %d to CPU %s: %s", (int)vt[i].tid,
				 cpuset_format(&vt[i].cpus, cpus, sizeof(cpus)), strerror(-r));
			return r;
		}
	}
	return 0;
}
