/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host readiness checks (vfio-check): is this host able to run a VM with a
 * passed-through PCI device, and if not, what exactly has to change.
 *
 * Every fact comes from below the context's sysroot through the path layer
 * (directory fds + *at calls), so a fixture tree is judged exactly like the
 * running host. Only two probes touch live kernel objects, and only when the
 * sysroot is the running host ("/"): the KVM device is opened and asked to
 * create a VM, and the libvirt socket is connected to.
 *
 * Each check gets a status, a one-line detail of what was found and, unless
 * it passed, the exact fix (commands and file edits, possibly several lines).
 *
 * The checks live one area to a file: cpu.c (cpu-virt, kvm), iommu.c
 * (iommu, cmdline, irq-remap), modules.c (vfio-modules), memory.c
 * (hugepages), firmware.c (ovmf), libvirt.c (libvirt), fabric.c (gpu-fabric:
 * NVSwitches and NVIDIA's passthrough models), and on request one GPU's
 * group with the slot that would isolate it and its link (gpu.c: gpu-group,
 * gpu-link), its reset between guests (reset.c: gpu-reset) and what stands between the
 * calling user and a VM of their own (user.c: user-*). They share the kernel
 * command line (cmdline.c), its boot loader edits (bootfix.c), text building
 * (text.c) and reads below the sysroot (files.c), declared in check.h. This
 * file holds the table of checks, their results and the public calls.
 *
 * Layer check/: owns the host readiness checks behind vfio-check. May call
 * inventory/ and core/ (lib/README.md).
 */
#include "check/check.h"

/* ------------------------------------------------------------ the result */

enum check_index {
	CHK_CPU_VIRT = 0,
	CHK_KVM,
	CHK_IOMMU,
	CHK_CMDLINE,
	CHK_IRQ_REMAP,
	CHK_VFIO_MODULES,
	CHK_HUGEPAGES,
	CHK_OVMF,
	CHK_LIBVIRT,
	CHK_GPU_FABRIC,
	_CHK_MAX,
};

static const struct {
	const char *id;
	const char *title;
} check_names[_CHK_MAX] = {
	[CHK_CPU_VIRT] = { "cpu-virt", "CPU virtualization (VT-x/AMD-V)" },
	[CHK_KVM] = { "kvm", "KVM device present and usable" },
	[CHK_IOMMU] = { "iommu", "IOMMU enabled (groups exist)" },
	[CHK_CMDLINE] = { "cmdline", "Kernel command line (IOMMU options)" },
	[CHK_IRQ_REMAP] = { "irq-remap", "Interrupt remapping" },
	[CHK_VFIO_MODULES] = { "vfio-modules", "VFIO modules available and loaded" },
	[CHK_HUGEPAGES] = { "hugepages", "Huge pages reserved for guest memory" },
	[CHK_OVMF] = { "ovmf", "OVMF (UEFI firmware for guests)" },
	[CHK_LIBVIRT] = { "libvirt", "libvirt daemon reachable" },
	[CHK_GPU_FABRIC] = { "gpu-fabric", "GPU fabric (NVSwitch) passthrough model" },
};

static const struct {
	const char *id;
	const char *title;
} user_check_names[CHK_USER_COUNT] = {
	{ "user-dirs", "This user's VM directories" },
	{ "user-kvm", "KVM device open to this user" },
	{ "user-kvm-group", "This user in the kvm group" },
	{ "user-libvirt", "Session libvirt (qemu:///session)" },
	{ "user-memlock", "Locked-memory limit (RLIMIT_MEMLOCK)" },
};

struct vfk_checks {
	struct check_impl c[_CHK_MAX];
	/* vfk_checks_add_user(): user-*, after the host's */
	struct check_impl user[CHK_USER_COUNT];
	bool has_user;
	/* vfk_checks_add_gpu(): gpu-group, gpu-link, gpu-reset, after the others */
	struct check_impl gpu[CHK_GPU_COUNT];
	bool has_gpu;
};

/* ------------------------------------------------------------------ API */

/* The four roots the checks read below; -1 where one cannot be opened. */
struct roots {
	int top, sys, proc, dev;
};

static void roots_open(struct vfk_ctx *ctx, struct roots *r)
{
	r->top = vfk_root_open_dir(ctx, VFK_ROOT_TOP, NULL);
	r->sys = vfk_root_open_dir(ctx, VFK_ROOT_SYS, NULL);
	r->proc = vfk_root_open_dir(ctx, VFK_ROOT_PROC, NULL);
	r->dev = vfk_root_open_dir(ctx, VFK_ROOT_DEV, NULL);
}

static void roots_close(struct roots *r)
{
	if (r->top >= 0)
		close(r->top);
	if (r->sys >= 0)
		close(r->sys);
	if (r->proc >= 0)
		close(r->proc);
	if (r->dev >= 0)
		close(r->dev);
}

static struct vfk_checks *checks_new(void)
{
	struct vfk_checks *checks = calloc(1, sizeof(*checks));
	size_t i;

	for (i = 0; checks && i < _CHK_MAX; i++) {
		checks->c[i].pub.id = check_names[i].id;
		checks->c[i].pub.title = check_names[i].title;
		checks->c[i].pub.detail = "";
	}
	return checks;
}

/* The facts several checks share; the vendor decides how fixes are worded. */
static void gather_facts(struct probe *p, const struct roots *r)
{
	if (r->proc >= 0) {
		check_read_cpuinfo(p, r->proc);
		check_read_cmdline(p, r->proc);
	}
	if (r->sys >= 0)
		check_read_iommu(p, r->sys);
	else if (p->vendor == VENDOR_UNKNOWN)
		p->vendor = p->vmx ? VENDOR_INTEL : p->svm ? VENDOR_AMD : VENDOR_UNKNOWN;
}

static void run_all(struct probe *p, struct vfk_checks *checks, const struct roots *r)
{
	check_cpu_virt(p, &checks->c[CHK_CPU_VIRT]);
	check_kvm(p, &checks->c[CHK_KVM], r->dev, r->sys);
	check_iommu(p, &checks->c[CHK_IOMMU], r->sys);
	check_cmdline(p, &checks->c[CHK_CMDLINE], r->top);
	check_irq_remap(p, &checks->c[CHK_IRQ_REMAP], r->proc, r->sys, r->top);
	check_vfio_modules(p, &checks->c[CHK_VFIO_MODULES], r->proc, r->sys, r->top);
	check_hugepages(p, &checks->c[CHK_HUGEPAGES], r->sys, r->proc);
	check_ovmf(p, &checks->c[CHK_OVMF], r->top);
	check_libvirt(p, &checks->c[CHK_LIBVIRT], r->top);
	check_gpu_fabric(p, &checks->c[CHK_GPU_FABRIC]);
}

int vfk_checks_run(struct vfk_ctx *ctx, struct vfk_checks **out)
{
	struct vfk_checks *checks;
	struct probe p = { .ctx = ctx, .n_groups = -1, .n_units = -1 };
	struct roots r;
	size_t i;

	if (!ctx || !out)
		return neg_errno(EINVAL);
	checks = checks_new();
	if (!checks)
		return neg_errno(ENOMEM);

	p.live = streq(vfk_ctx_get_sysroot(ctx), "/");
	roots_open(ctx, &r);
	dbg(ctx, "checks: sysroot=%s live=%d sys=%d proc=%d dev=%d", vfk_ctx_get_sysroot(ctx), p.live,
	    r.sys >= 0, r.proc >= 0, r.dev >= 0);
	gather_facts(&p, &r);
	run_all(&p, checks, &r);
	free(p.cmdline);
	roots_close(&r);

	/* a check whose text could not be allocated is not a check */
	if (p.oom) {
		vfk_checks_free(checks);
		return neg_errno(ENOMEM);
	}
	for (i = 0; i < _CHK_MAX; i++)
		dbg(ctx, "check %s: %s: %s", checks->c[i].pub.id,
		    vfk_check_status_to_string(checks->c[i].pub.status), checks->c[i].pub.detail);
	*out = checks;
	return 0;
}

int check_passes(struct vfk_ctx *ctx, const char *id)
{
	struct probe p = { .ctx = ctx, .n_groups = -1, .n_units = -1 };
	struct check_impl c;
	struct roots r;
	int ret;

	if (!ctx || !id || !(streq(id, "iommu") || streq(id, "irq-remap")))
		return neg_errno(EINVAL);
	memset(&c, 0, sizeof(c));
	roots_open(ctx, &r);
	gather_facts(&p, &r);
	if (streq(id, "iommu"))
		check_iommu(&p, &c, r.sys);
	else
		check_irq_remap(&p, &c, r.proc, r.sys, r.top);
	free(p.cmdline);
	roots_close(&r);
	ret = p.oom ? neg_errno(ENOMEM) : c.pub.status == VFK_CHECK_PASS;
	free(c.detail);
	free(c.fix);
	return ret;
}

void check_cmdline_wanted(const struct vfk_checks *checks, const char *const **add,
			  const char *const **drop)
{
	*add = checks->c[CHK_CMDLINE].add;
	*drop = checks->c[CHK_CMDLINE].drop;
}

static void gpu_checks_free(struct check_impl *c)
{
	size_t i;

	for (i = 0; i < CHK_GPU_COUNT; i++) {
		free(c[i].detail);
		free(c[i].fix);
	}
}

/* The GPU at @address on a fresh scan of the host (*@h to unref): 0, or
 * -EINVAL (no PCI address), -ENODEV (no GPU there) or the scan's error,
 * @errbuf saying so in one line. */
static int find_gpu(struct vfk_ctx *ctx, const char *address, struct vfk_host **h,
		    const struct vfk_gpu **g, char *errbuf, size_t errsize)
{
	struct vfk_device *d;
	struct vfk_pci_addr a;
	char norm[16];
	size_t i;
	int r;

	if (vfk_pci_addr_parse(address, &a) < 0) {
		snprintf(errbuf, errsize, "'%s' is not a PCI address ([DDDD:]BB:DD.F)", address);
		return neg_errno(EINVAL);
	}
	vfk_pci_addr_format(&a, norm, sizeof(norm));
	r = vfk_host_scan(ctx, h);
	if (r < 0) {
		snprintf(errbuf, errsize, "cannot read the PCI devices: %s", strerror(-r));
		return r;
	}
	if (vfk_host_find_device(*h, norm, &d) == 0)
		for (i = 0; i < vfk_host_gpu_count(*h); i++)
			if (vfk_gpu_get_device(vfk_host_gpu(*h, i)) == d) {
				*g = vfk_host_gpu(*h, i);
				return 0;
			}
	snprintf(errbuf, errsize, "no GPU at %s (class 0300, 0302 or 0380)", norm);
	return neg_errno(ENODEV);
}

int vfk_checks_add_gpu(struct vfk_ctx *ctx, struct vfk_checks *checks, const char *address,
		       char *errbuf, size_t errsize)
{
	struct probe p = { .ctx = ctx, .n_groups = -1, .n_units = -1 };
	struct check_impl c[CHK_GPU_COUNT] = {
		{ .pub = { .id = "gpu-group", .title = "GPU in an IOMMU group of its own", .detail = "" } },
		{ .pub = { .id = "gpu-link", .title = "GPU PCIe link", .detail = "" } },
		{ .pub = { .id = "gpu-reset", .title = "GPU reset between guests", .detail = "" } },
	};
	struct vfk_host *h = NULL;
	const struct vfk_gpu *g = NULL;
	int r;

	if (!ctx || !checks || !address || !errbuf)
		return neg_errno(EINVAL);
	errbuf[0] = '\0';
	r = find_gpu(ctx, address, &h, &g, errbuf, errsize);
	if (r == 0) {
		check_gpu_place(&p, &c[0], &c[1], g);
		check_gpu_reset(&p, &c[2], g);
	}
	vfk_host_unref(h);
	if (r == 0 && p.oom)
		r = neg_errno(ENOMEM);
	if (r < 0) {
		gpu_checks_free(c);
		return r;
	}
	if (checks->has_gpu)
		gpu_checks_free(checks->gpu);
	memcpy(checks->gpu, c, sizeof(c));
	checks->has_gpu = true;
	return 0;
}

int vfk_checks_add_user(struct vfk_ctx *ctx, struct vfk_checks *checks)
{
	struct probe p = { .ctx = ctx, .n_groups = -1, .n_units = -1 };
	struct check_impl c[CHK_USER_COUNT];
	struct roots r;
	size_t i;

	if (!ctx || !checks)
		return neg_errno(EINVAL);
	memset(c, 0, sizeof(c));
	for (i = 0; i < CHK_USER_COUNT; i++) {
		c[i].pub.id = user_check_names[i].id;
		c[i].pub.title = user_check_names[i].title;
		c[i].pub.detail = "";
	}
	p.live = streq(vfk_ctx_get_sysroot(ctx), "/");
	roots_open(ctx, &r);
	check_user(&p, c, r.top, r.dev);
	roots_close(&r);
	for (i = 0; i < CHK_USER_COUNT; i++) {
		if (checks->has_user) {
			free(checks->user[i].detail);
			free(checks->user[i].fix);
		}
		checks->user[i] = c[i];
		dbg(ctx, "check %s: %s: %s", c[i].pub.id, vfk_check_status_to_string(c[i].pub.status),
		    c[i].pub.detail);
	}
	checks->has_user = true;
	if (p.oom)
		return neg_errno(ENOMEM);
	return 0;
}

void vfk_checks_free(struct vfk_checks *checks)
{
	size_t i;

	if (!checks)
		return;
	for (i = 0; i < _CHK_MAX; i++) {
		free(checks->c[i].detail);
		free(checks->c[i].fix);
	}
	for (i = 0; checks->has_user && i < CHK_USER_COUNT; i++) {
		free(checks->user[i].detail);
		free(checks->user[i].fix);
	}
	gpu_checks_free(checks->gpu);
	free(checks);
}

size_t vfk_checks_count(const struct vfk_checks *checks)
{
	return checks ? _CHK_MAX + (checks->has_user ? CHK_USER_COUNT : 0) +
				(checks->has_gpu ? CHK_GPU_COUNT : 0)
		      : 0;
}

const struct vfk_check *vfk_checks_get(const struct vfk_checks *checks, size_t i)
{
	size_t nuser = checks && checks->has_user ? CHK_USER_COUNT : 0;

	if (!checks || i >= vfk_checks_count(checks))
		return NULL;
	if (i < _CHK_MAX)
		return &checks->c[i].pub;
	if (i < _CHK_MAX + nuser)
		return &checks->user[i - _CHK_MAX].pub;
	return &checks->gpu[i - _CHK_MAX - nuser].pub;
}

enum vfk_check_status vfk_checks_worst(const struct vfk_checks *checks)
{
	enum vfk_check_status worst = VFK_CHECK_PASS;
	size_t i;

	for (i = 0; checks && i < vfk_checks_count(checks); i++)
		if (vfk_checks_get(checks, i)->status > worst)
			worst = vfk_checks_get(checks, i)->status;
	return worst;
}

const char *vfk_check_status_to_string(enum vfk_check_status s)
{
	switch (s) {
	case VFK_CHECK_PASS:
		return "pass";
	case VFK_CHECK_WARN:
		return "warn";
	case VFK_CHECK_FAIL:
		return "fail";
	}
	return "unknown";
}
