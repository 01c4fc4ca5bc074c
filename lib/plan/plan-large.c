/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a large VM needs to start (issue 19, point 6), from the BARs of the
 * devices passed through (sysfs resource, inventory/bars.c), the guest's
 * memory and the host CPU's physical address width:
 *
 *  - the guest's 64-bit PCI hole, when QEMU's q35 default (32 GiB,
 *    Q35_PCI_HOST_HOLE64_SIZE_DEFAULT in hw/pci-host/q35.c) cannot hold
 *    the 64-bit prefetchable BARs (a 32 GiB Resizable BAR);
 *  - the guest's physical address width, which must reach past RAM and
 *    that hole; a host CPU whose width cannot is refused;
 *  - the memory VFIO may lock (RLIMIT_MEMLOCK), which the QEMU backend
 *    sets and libvirt sets itself;
 *  - threads to preallocate huge pages with.
 *
 * Each decision is a note. Runs last: it reads the devices, the memory and
 * the pages the earlier steps chose.
 */
#include <stdio.h>

#include "inventory/bars.h"
#include "plan/plan-internal.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* QEMU's q35 default for pci-hole64-size (hw/pci-host/q35.c: 1ULL << 35). */
#define Q35_HOLE64_DEFAULT (32 * GiB)
/* Room beside the BARs for the other devices' 64-bit windows (virtio,
 * root port reservations) when the hole is sized. */
#define HOLE64_SLACK GiB
/* QEMU's physical address width for its own CPU models (TCG_PHYS_ADDR_BITS). */
#define QEMU_PHYS_BITS 40
/*
 * libvirt's allowance beside guest RAM for a domain with VFIO hostdevs
 * (src/qemu/qemu_domain.c, qemuDomainGetMemLockLimitBytes(): "factor *
 * guest memory + 1 GiB", factor 1 without a vIOMMU, one per VFIO device
 * with one, since libvirt 8.7.0): the regions QEMU itself maps (ROMs, VGA
 * memory); a <memtune><hard_limit> replaces the whole figure.
 */
#define LIBVIRT_VFIO_ALLOWANCE GiB
/* More preallocation threads than this only contend for memory bandwidth. */
#define PREALLOC_THREADS_MAX 16

/* "32 GiB", "32.05 GiB", "304 MiB", "0.01562 MiB" */
static const char *size_str(unsigned long long b, char *buf, size_t size)
{
	if (b >= GiB && b % GiB == 0)
		snprintf(buf, size, "%llu GiB", b / GiB);
	else if (b >= GiB)
		snprintf(buf, size, "%.2f GiB", (double)b / (double)GiB);
	else
		snprintf(buf, size, "%.4g MiB", (double)b / (double)MiB);
	return buf;
}

static unsigned long long pow2_at_least(unsigned long long v)
{
	unsigned long long p = 1;

	while (p < v && p < (1ULL << 62))
		p <<= 1;
	return p;
}

static unsigned int bits_for(unsigned long long top)
{
	unsigned int b = 0;

	while (b < 64 && (1ULL << b) < top)
		b++;
	return b;
}

/* Add @d's BARs; -EINVAL with the file's line in @errbuf when it does not parse. */
static int add_bars(struct vfk_plan *pl, const struct vfk_device *d, unsigned int *unknown,
		    char *errbuf, size_t errsize)
{
	struct device_bars b;
	char err[512] = "";
	int r = device_read_bars(pl->ctx, d, &b, err, sizeof(err));

	if (r == -EINVAL) {
		plan_set_error(errbuf, errsize, "%s", err);
		return r;
	}
	if (r < 0) {
		(*unknown)++;
		return 0;
	}
	pl->large.bar_bytes += b.total;
	pl->large.bar64_bytes += b.pref64;
	return 0;
}

/* Every function given to the guest: the GPUs', the NVSwitches, [hostdev]
 * devices' groups, NVIDIA's vGPU VF. */
static int sum_bars(struct vfk_plan *pl, unsigned int *unknown, char *errbuf, size_t errsize)
{
	size_t g, i;
	int r = 0;

	for (g = 0; r == 0 && g < pl->ngpus; g++)
		for (i = 0; r == 0 && i < vfk_gpu_function_count(pl->gpus[g]); i++)
			r = add_bars(pl, vfk_gpu_function(pl->gpus[g], i), unknown, errbuf, errsize);
	for (i = 0; r == 0 && i < pl->nfabric; i++)
		r = add_bars(pl, pl->fabric[i], unknown, errbuf, errsize);
	for (g = 0; r == 0 && g < pl->nhostdevs; g++)
		for (i = 0; r == 0 && i < pl->hostdevs[g].nfns; i++)
			r = add_bars(pl, pl->hostdevs[g].fns[i], unknown, errbuf, errsize);
	if (r == 0 && pl->mdev.vf) {
		struct vfk_device *vf = NULL;

		if (vfk_host_find_device(pl->host, pl->mdev.vf, &vf) == 0)
			r = add_bars(pl, vf, unknown, errbuf, errsize);
		else
			(*unknown)++;
	}
	return r;
}

/* The guest's 64-bit PCI hole: the profile's, else QEMU's default when the
 * 64-bit BARs fit it, else the next power of two that holds them. */
static int size_hole(struct vfk_plan *pl, char *errbuf, size_t errsize)
{
	unsigned long long need = pl->large.bar64_bytes, asked = pl->prof->pci_hole64_mib * MiB;
	char a[32], b[32];

	if (asked) {
		if (asked < need) {
			plan_set_error(errbuf, errsize, "[tuning] pci-hole64 = %s cannot hold the %s "
				       "of 64-bit BARs of the devices passed through", size_str(asked, a,
				       sizeof(a)), size_str(need, b, sizeof(b)));
			return neg_errno(ENODEV);
		}
		pl->large.hole64 = asked;
		strv_addf(&pl->notes, "PCI hole: the guest's 64-bit PCI hole is %s ([tuning] "
			  "pci-hole64; the devices' 64-bit BARs take %s)", size_str(asked, a, sizeof(a)),
			  size_str(need, b, sizeof(b)));
		return 0;
	}
	if (!need)
		return 0;
	if (need + HOLE64_SLACK <= Q35_HOLE64_DEFAULT) {
		strv_addf(&pl->notes, "PCI hole: the devices' 64-bit BARs (%s) fit QEMU's default "
			  "64-bit PCI hole (32 GiB): left as it is", size_str(need, a, sizeof(a)));
		return 0;
	}
	pl->large.hole64 = pow2_at_least(need + HOLE64_SLACK);
	strv_addf(&pl->notes, "PCI hole: the devices' 64-bit BARs take %s, more than QEMU's default "
		  "64-bit PCI hole (32 GiB) holds: the guest's is %s (q35 pci-hole64-size, libvirt "
		  "<pcihole64>)", size_str(need, a, sizeof(a)), size_str(pl->large.hole64, b,
		  sizeof(b)));
	return 0;
}

/*
 * The guest's physical addresses must reach past its RAM above 4 GiB and,
 * after it, the 64-bit hole (aligned to its size, as OVMF places it) that
 * holds the BARs: the hole the plan sets, else the BARs' own power of two
 * (q35 keeps the RAM below 2 GiB when the guest has 2.75 GiB or more, the
 * rest goes above 4 GiB). Under KVM the guest's width cannot exceed the host
 * CPU's, and VFIO maps guest addresses into the host's IOMMU: a host whose
 * width is too small is refused.
 */
static int size_phys_bits(struct vfk_plan *pl, bool vfio, char *errbuf, size_t errsize)
{
	unsigned long long ram = pl->memory_mib * MiB;
	unsigned long long hole = pl->large.hole64 ? pl->large.hole64
			       : pl->large.bar64_bytes ? pow2_at_least(pl->large.bar64_bytes) : 0;
	unsigned long long top = 4 * GiB + (ram >= 2816 * MiB ? ram - 2 * GiB : 0);
	unsigned int need, host = pl->topo ? pl->topo->phys_bits : 0;
	char r[32], h[32], b[32];

	if (hole)
		top = (top + hole - 1) / hole * hole + hole;
	need = bits_for(top);
	pl->large.host_bits = host;
	if (vfio && host && need > host) {
		plan_set_error(errbuf, errsize, "the guest needs %u-bit physical addresses for %s of "
			       "RAM and a %s 64-bit PCI hole (the devices' BARs: %s), but this host's "
			       "CPU has %u (cpuinfo's address sizes)", need, size_str(ram, r, sizeof(r)),
			       size_str(hole, h, sizeof(h)), size_str(pl->large.bar_bytes, b,
			       sizeof(b)), host);
		return neg_errno(ENODEV);
	}
	if (!pl->large.hole64 && need <= QEMU_PHYS_BITS)
		return 0;	/* QEMU's defaults reach */
	if (pl->kvm && pl->cpu_model == CPU_HOST) {
		pl->large.host_phys_bits = true;
		pl->large.phys_bits = host;
		if (host)
			snprintf(h, sizeof(h), "%u", host);
		strv_addf(&pl->notes, "physical addresses: RAM and the 64-bit PCI hole need %u bits; "
			  "the guest gets the host CPU's (%s; host-phys-bits, libvirt <maxphysaddr "
			  "mode='passthrough'/>)", need, host ? h : "unknown");
		return 0;
	}
	pl->large.phys_bits = pl->kvm && host ? host : need > QEMU_PHYS_BITS ? need : QEMU_PHYS_BITS;
	strv_addf(&pl->notes, "physical addresses: RAM and the 64-bit PCI hole need %u bits; the "
		  "guest gets %u (phys-bits, libvirt <maxphysaddr mode='emulate'/>)", need,
		  pl->large.phys_bits);
	return 0;
}

/*
 * VFIO pins all guest RAM, and with the iommufd backend the BARs it maps too
 * (the legacy type1 backend does not charge device memory to the limit):
 * RAM plus the BARs, at least libvirt's 1 GiB allowance beside it. libvirt
 * raises QEMU's limit itself to RAM + 1 GiB; a <memtune><hard_limit> only
 * where that is less than the figure, since libvirt also caps the domain's
 * memory cgroup with it. No vIOMMU is planned, so the RAM counts once.
 */
static void size_memlock(struct vfk_plan *pl, unsigned int unknown)
{
	unsigned long long ram = pl->memory_mib * MiB, bars = pl->large.bar_bytes;
	bool big = bars > LIBVIRT_VFIO_ALLOWANCE;
	char m[32], b[32];

	pl->large.memlock = ram + (big ? bars : LIBVIRT_VFIO_ALLOWANCE);
	pl->large.hard_limit = big ? pl->large.memlock : 0;
	size_str(pl->large.memlock, m, sizeof(m));
	size_str(bars, b, sizeof(b));
	if (big)
		strv_addf(&pl->notes, "locked memory: VFIO may lock %s (guest RAM + the devices' "
			  "BARs, %s%s): the QEMU backend raises QEMU's RLIMIT_MEMLOCK to it; libvirt's "
			  "own figure (RAM + 1 GiB) is less, so <memtune><hard_limit> says it (libvirt "
			  "then also caps the VM's memory cgroup there)", m, b,
			  unknown ? ", some unreadable" : "");
	else
		strv_addf(&pl->notes, "locked memory: VFIO may lock %s (guest RAM + 1 GiB; the "
			  "devices' BARs: %s%s): the QEMU backend raises QEMU's RLIMIT_MEMLOCK to it; "
			  "libvirt sets the same itself: no <memtune>", m, b,
			  unknown ? ", some unreadable" : "");
}

/* Huge pages are preallocated: by one thread per vCPU, not QEMU's one. */
static void size_prealloc(struct vfk_plan *pl)
{
	unsigned int asked = pl->prof->prealloc_threads, n = pl->pin.nvcpus;
	size_t cpus = pl->topo ? pl->topo->ncpus : 0;

	if (!pl->hugepage_kib) {
		if (asked)
			strv_addf(&pl->notes, "[tuning] prealloc-threads = %u is ignored: guest memory "
				  "is not preallocated (normal pages)", asked);
		return;
	}
	if (asked) {
		pl->large.prealloc_threads = asked;
		strv_addf(&pl->notes, "memory: huge pages preallocated by %u threads ([tuning] "
			  "prealloc-threads)", asked);
		return;
	}
	if (n > PREALLOC_THREADS_MAX)
		n = PREALLOC_THREADS_MAX;
	if (cpus && n > cpus)
		n = (unsigned int)cpus;
	pl->large.prealloc_threads = n ? n : 1;
	strv_addf(&pl->notes, "memory: huge pages preallocated by %u thread%s (one per vCPU, at most "
		  "%d; libvirt 8.2 or later for <allocation threads>)", pl->large.prealloc_threads,
		  pl->large.prealloc_threads == 1 ? "" : "s", PREALLOC_THREADS_MAX);
}

int plan_large_vm(struct vfk_plan *pl, char *errbuf, size_t errsize)
{
	bool vfio = pl->ngpus || pl->nfabric || pl->nhostdevs || pl->mdev.uuid || pl->mdev.vf;
	unsigned int unknown = 0;
	int r;

	r = sum_bars(pl, &unknown, errbuf, errsize);
	if (r == 0)
		r = size_hole(pl, errbuf, errsize);
	if (r == 0)
		r = size_phys_bits(pl, vfio, errbuf, errsize);
	if (r < 0)
		return r;
	if (vfio)
		size_memlock(pl, unknown);
	size_prealloc(pl);
	return 0;
}

/* ------------------------------------------------------------ getters (large VMs) */

unsigned long long vfk_plan_get_memlock_bytes(const struct vfk_plan *pl)
{
	return pl ? pl->large.memlock : 0;
}

unsigned long long vfk_plan_get_memtune_hard_limit_bytes(const struct vfk_plan *pl)
{
	return pl ? pl->large.hard_limit : 0;
}

unsigned long long vfk_plan_get_bar_bytes(const struct vfk_plan *pl)
{
	return pl ? pl->large.bar_bytes : 0;
}

unsigned long long vfk_plan_get_pci_hole64_bytes(const struct vfk_plan *pl)
{
	return pl ? pl->large.hole64 : 0;
}

unsigned int vfk_plan_get_phys_bits(const struct vfk_plan *pl)
{
	return pl ? pl->large.phys_bits : 0;
}

unsigned int vfk_plan_get_prealloc_threads(const struct vfk_plan *pl)
{
	return pl ? pl->large.prealloc_threads : 0;
}
