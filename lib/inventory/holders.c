/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who holds a device open: the processes whose open files are the device
 * nodes its driver exposes (dri/cardN, dri/renderDN; nvidia* for NVIDIA's
 * driver: nvidia-persistenced, nv-fabricmanager, DCGM, a CUDA job). A driver
 * cannot let go of a device before they do: unbinding waits for them.
 *
 * /proc is read once per host snapshot, and of each process only the open
 * files below /dev/dri/ and /dev/nvidia are kept: eight GPUs on a server with
 * thousands of processes cost one walk, not eight. The fd links name the
 * nodes as the process sees them, on the running system's /dev (not below
 * the sysroot); they are read, never followed.
 */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>

#include "inventory/inventory.h"

#define NODE_MAX 300

/* @rel below the running system's /dev, into a NODE_MAX-byte buffer. */
static void host_dev_name(char *buf, const char *rel)
{
	_cleanup_free_ char *p = vfk_root_host_path(VFK_ROOT_DEV, rel);

	snprintf(buf, NODE_MAX, "%s", p ? p : "");
}

/* cardN, renderDN: a name the kernel made, never a path */
static bool node_name_ok(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
			     strlen(s);
}

/* The nodes of device drivers: what a holder can hold. */
static bool interesting(const char *target, const char *dri, const char *nvidia)
{
	return startswith(target, dri) || startswith(target, nvidia);
}

/* One process's open nodes of interest into @p; 0 when it holds none. */
static int read_process(struct vfk_host *host, int procfd, const char *pid,
			struct proc_holder *p)
{
	char rel[64], target[PATH_MAX], comm[64], dri[NODE_MAX], nvidia[NODE_MAX];
	_cleanup_closedir_ DIR *fdd = NULL;
	struct dirent *fe;
	size_t cap = 0;

	host_dev_name(dri, "dri/");
	host_dev_name(nvidia, "nvidia");
	snprintf(rel, sizeof(rel), "%s/fd", pid);
	if (!(fdd = vfk_opendir_in(host->ctx, procfd, rel)))
		return 0;	/* gone, or another user's: not ours to see */
	while ((fe = readdir(fdd))) {
		const char *t;
		if (fe->d_name[0] == '.' ||
		    vfk_readlink_at(dirfd(fdd), fe->d_name, target, sizeof(target)) < 0 ||
		    !interesting(target, dri, nvidia))
			continue;
		if (GROW_ARRAY(p->targets, cap, p->ntargets + 1) < 0 ||
		    !(t = strpool_intern(&host->strings, target)))
			return -ENOMEM;
		p->targets[p->ntargets++] = t;
	}
	if (!p->ntargets)
		return 0;
	snprintf(rel, sizeof(rel), "%s/comm", pid);
	if (vfk_read_in(host->ctx, procfd, rel, comm, sizeof(comm)) <= 0)
		snprintf(comm, sizeof(comm), "?");
	p->pid = atoi(pid);
	p->comm = strpool_intern(&host->strings, comm);
	return p->comm ? 1 : -ENOMEM;
}

static int pid_cmp(const void *a, const void *b)
{
	const struct proc_holder *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Every process holding a node of interest, once per snapshot, by pid. */
static int procs_read(struct vfk_host *host)
{
	_cleanup_close_ int procfd = -1;
	_cleanup_closedir_ DIR *pd = NULL;
	struct dirent *pe;
	size_t cap = 0;
	int r;

	if (host->procs_known)
		return 0;
	host->procs_known = true;
	procfd = vfk_root_open_dir(host->ctx, VFK_ROOT_PROC, "");
	if (procfd < 0 || !(pd = vfk_opendir_in(host->ctx, procfd, "")))
		return 0;
	while ((pe = readdir(pd))) {
		struct proc_holder p = { 0 };
		if (!isdigit((unsigned char)pe->d_name[0]) || strlen(pe->d_name) > 10)
			continue;
		r = read_process(host, procfd, pe->d_name, &p);
		if (r <= 0) {
			free(p.targets);
			if (r < 0)
				return r;
			continue;
		}
		if (GROW_ARRAY(host->procs, cap, host->nprocs + 1) < 0) {
			free(p.targets);
			return -ENOMEM;
		}
		host->procs[host->nprocs++] = p;
	}
	if (host->nprocs > 1)
		qsort(host->procs, host->nprocs, sizeof(*host->procs), pid_cmp);
	return 0;
}

void holders_free(struct vfk_host *host)
{
	size_t i;

	for (i = 0; i < host->nprocs; i++)
		free(host->procs[i].targets);
	free(host->procs);
}

/* Device node names the device's driver exposes, as a process's fd links
 * name them; an NVIDIA node is a prefix (nvidia0, nvidia1, ...). */
static size_t device_nodes(struct vfk_host *host, const struct vfk_device *dev,
			   char nodes[][NODE_MAX], bool prefix[], size_t max)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	char rel[64];
	size_t n = 0;

	if (dev->driver && startswith(dev->driver, "nvidia")) {
		host_dev_name(nodes[n], "nvidiactl");
		prefix[n++] = false;
		host_dev_name(nodes[n], "nvidia");
		prefix[n++] = true;
	}
	/* one lookup: most devices have no drm directory */
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/drm", dev->address);
	if (!(d = vfk_fdopendir(vfk_root_open_dir(host->ctx, VFK_ROOT_SYS, rel))))
		return n;
	while ((e = readdir(d)) && n < max)
		if ((startswith(e->d_name, "card") || startswith(e->d_name, "renderD")) &&
		    node_name_ok(e->d_name)) {
			char node[NODE_MAX - 20];
			snprintf(node, sizeof(node), "dri/%s", e->d_name);
			host_dev_name(nodes[n], node);
			prefix[n++] = false;
		}
	return n;
}

static bool process_holds(const struct proc_holder *p, char nodes[][NODE_MAX],
			  const bool prefix[], size_t nn)
{
	size_t i, k;

	for (i = 0; i < p->ntargets; i++)
		for (k = 0; k < nn; k++)
			if (prefix[k] ? startswith(p->targets[i], nodes[k])
				      : streq(p->targets[i], nodes[k]))
				return true;
	return false;
}

/* Calls @fn for each process holding a node of @dev; returns their count. */
static int each_holder(struct vfk_host *host, const struct vfk_device *dev,
		       void (*fn)(const struct proc_holder *p, void *data), void *data)
{
	char nodes[16][NODE_MAX];
	bool prefix[16];
	size_t nn, i;
	int count = 0;

	nn = device_nodes(host, dev, nodes, prefix, ARRAY_SIZE(nodes));
	if (nn == 0 || procs_read(host) < 0)
		return 0;
	for (i = 0; i < host->nprocs; i++)
		if (process_holds(&host->procs[i], nodes, prefix, nn)) {
			fn(&host->procs[i], data);
			count++;
		}
	return count;
}

struct text {
	char *buf;
	size_t size;
	bool first;
};

static void add_text(const struct proc_holder *p, void *data)
{
	struct text *t = data;
	size_t len = strlen(t->buf);

	if (len + strlen(p->comm) + 16 < t->size)
		snprintf(t->buf + len, t->size - len, "%s%s(%d)", t->first ? "" : ", ", p->comm,
			 p->pid);
	t->first = false;
}

int device_holders(struct vfk_host *host, const struct vfk_device *dev, char *buf, size_t size)
{
	struct text t = { buf, size, true };

	buf[0] = '\0';
	return each_holder(host, dev, add_text, &t);
}

/* ------------------------------------------------------------ the GPU's */

static void add_gpu(const struct proc_holder *p, void *data)
{
	struct vfk_gpu *gpu = data;

	gpu->holders[gpu->nholders++] = p;
}

static void gpu_holders(const struct vfk_gpu *cgpu)
{
	struct vfk_gpu *gpu = (struct vfk_gpu *)cgpu;	/* a cache */
	struct vfk_host *host = gpu->dev->host;

	if (gpu->holders_known)
		return;
	gpu->holders_known = true;
	if (procs_read(host) < 0 || host->nprocs == 0)
		return;
	gpu->holders = calloc(host->nprocs, sizeof(*gpu->holders));
	if (gpu->holders)	/* out of memory: none known, as for another user's */
		each_holder(host, gpu->dev, add_gpu, gpu);
}

size_t vfk_gpu_holder_count(const struct vfk_gpu *gpu)
{
	gpu_holders(gpu);
	return gpu->nholders;
}

int vfk_gpu_holder_pid(const struct vfk_gpu *gpu, size_t i)
{
	gpu_holders(gpu);
	return i < gpu->nholders ? gpu->holders[i]->pid : -1;
}

const char *vfk_gpu_holder_name(const struct vfk_gpu *gpu, size_t i)
{
	gpu_holders(gpu);
	return i < gpu->nholders ? gpu->holders[i]->comm : NULL;
}
