/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CPU virtualisation and KVM: the cpu-virt and kvm checks, and the CPU facts
 * (vendor, vmx/svm, hypervisor) that the other checks word their fixes by.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "check/check.h"

static void read_cpu_flags(struct probe *p, char *val)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(val, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (streq(tok, "vmx"))
			p->vmx = true;
		else if (streq(tok, "svm"))
			p->svm = true;
		else if (streq(tok, "hypervisor"))
			p->hypervisor = true;
	}
}

void check_read_cpuinfo(struct probe *p, int procfd)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	bool got_flags = false;

	f = check_fopen_at(p->ctx, procfd, "cpuinfo");
	if (!f)
		return;
	p->cpuinfo_read = true;
	while (getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':'), *val;
		size_t klen;

		if (!colon)
			continue;
		klen = (size_t)(colon - line);
		while (klen > 0 && isspace((unsigned char)line[klen - 1]))
			klen--;
		val = colon + 1;
		val[strcspn(val, "\n")] = '\0';
		while (isspace((unsigned char)*val))
			val++;
		if (klen == 9 && strncmp(line, "vendor_id", 9) == 0 && !p->cpu_vendor_id[0]) {
			snprintf(p->cpu_vendor_id, sizeof(p->cpu_vendor_id), "%s", val);
		} else if (klen == 5 && strncmp(line, "flags", 5) == 0 && !got_flags) {
			got_flags = true;
			read_cpu_flags(p, val);
		}
		/* the first processor says it all */
		if (got_flags && p->cpu_vendor_id[0])
			break;
	}
	if (streq(p->cpu_vendor_id, "GenuineIntel"))
		p->vendor = VENDOR_INTEL;
	else if (streq(p->cpu_vendor_id, "AuthenticAMD") || streq(p->cpu_vendor_id, "HygonGenuine"))
		p->vendor = VENDOR_AMD;
}

static const char *vendor_virt_name(enum cpu_vendor v)
{
	switch (v) {
	case VENDOR_INTEL:
		return "Intel VT-x (\"Intel Virtualization Technology\")";
	case VENDOR_AMD:
		return "AMD-V (\"SVM Mode\")";
	default:
		return "VT-x (Intel) or AMD-V/SVM (AMD)";
	}
}

/* The KVM module to load for this CPU; kvm_intel when the vendor is unknown. */
static const char *kvm_module(const struct probe *p)
{
	return p->vendor == VENDOR_AMD ? "kvm_amd" : "kvm_intel";
}

void check_cpu_virt(struct probe *p, struct check_impl *c)
{
	struct sbuf fix = { 0 };

	if (!p->cpuinfo_read) {
		check_set_unreadable(p, c, "cpuinfo");
		return;
	}
	if (p->vmx || p->svm) {
		check_set_result(c, VFK_CHECK_PASS,
				 check_xasprintf(p, "%s%s", p->vmx ? "vmx (Intel VT-x)" : "svm (AMD-V)",
						 p->hypervisor ? ", nested under a hypervisor" : ""),
				 NULL);
		return;
	}
	if (p->hypervisor) {
		sbuf_addf(&fix, "this host is itself a virtual machine: enable nested virtualization on the outer host\n");
		sbuf_addf(&fix, "  KVM outer host: echo 'options %s nested=1' > /etc/modprobe.d/kvm-nested.conf, reload the module, and give this VM '-cpu host' (libvirt: <cpu mode='host-passthrough'/>)\n",
			  kvm_module(p));
		sbuf_addf(&fix, "  cloud instance: choose an instance type with nested virtualization enabled\n");
		check_set_result(c, VFK_CHECK_FAIL,
				 check_xasprintf(p, "no vmx/svm CPU flag; the CPU is virtual (hypervisor flag) and nested virtualization is not exposed"),
				 check_sbuf_take(p, &fix));
		return;
	}
	sbuf_addf(&fix, "enable %s in the firmware (BIOS/UEFI) setup, save, and power-cycle the machine\n",
		  vendor_virt_name(p->vendor));
	check_set_result(c, VFK_CHECK_FAIL,
			 check_xasprintf(p, "no vmx/svm flag in cpuinfo%s%s%s: virtualization is disabled in firmware or unsupported",
					 p->cpu_vendor_id[0] ? " (" : "", p->cpu_vendor_id,
					 p->cpu_vendor_id[0] ? ")" : ""),
			 check_sbuf_take(p, &fix));
}

/* Live probe of the KVM device: API version and VM creation. Fills @what
 * with what happened; returns 0 when a VM could be created. */
static int kvm_live_probe(int devfd, char *what, size_t size, int *open_errno)
{
	_cleanup_close_ int fd = -1;
	int api, vm;

	*open_errno = 0;
	fd = openat(devfd, "kvm", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*open_errno = errno;
		snprintf(what, size, "cannot open it: %s", strerror(errno));
		return -errno;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		if (api < 0)
			snprintf(what, size, "KVM_GET_API_VERSION failed: %s", strerror(errno));
		else
			snprintf(what, size, "KVM API version %d, expected %d", api, KVM_API_VERSION);
		return -EPROTO;
	}
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm < 0) {
		int e = errno;
		snprintf(what, size, "API %d, but KVM_CREATE_VM failed: %s", api, strerror(e));
		return -e;
	}
	close(vm);
	snprintf(what, size, "API %d, test VM created", api);
	return 0;
}

static void fail_kvm_missing(struct probe *p, struct check_impl *c, const char *path)
{
	bool unknown = p->vendor == VENDOR_UNKNOWN;
	struct sbuf fix = { 0 };

	if (unknown)
		sbuf_addf(&fix, "modprobe kvm_intel   # Intel CPU\nmodprobe kvm_amd     # AMD CPU\n");
	else
		sbuf_addf(&fix, "modprobe %s\n", kvm_module(p));
	sbuf_addf(&fix, "make it permanent: echo %s > /etc/modules-load.d/kvm.conf\n",
		  unknown ? "kvm_intel (or kvm_amd)" : kvm_module(p));
	sbuf_addf(&fix, "if the module refuses to load, enable %s in the firmware setup (see cpu-virt)",
		  vendor_virt_name(p->vendor));
	check_set_result(c, VFK_CHECK_FAIL,
			 check_xasprintf(p, "%s is missing: KVM module (%s) not loaded", path,
					 unknown ? "kvm_intel/kvm_amd" : kvm_module(p)),
			 check_sbuf_take(p, &fix));
}

/* /dev/kvm is there: judge what the probe (or its absence) found. */
static void judge_kvm(struct probe *p, struct check_impl *c, const char *path, const char *what,
		      int r, int open_err, bool pvm)
{
	const char *vmod = kvm_module(p);
	struct sbuf fix = { 0 };

	if (pvm) {
		sbuf_addf(&fix, "run vfio-vm on a host whose KVM is kvm_intel or kvm_amd (bare metal, or a VM with nested virtualization: see cpu-virt); ");
		sbuf_addf(&fix, "with kvm-pvm only PVM-enabled guest kernels (CONFIG_PVM_GUEST) run, so vfio-vm uses TCG (slow, but works)");
		check_set_result(c, VFK_CHECK_WARN,
				 check_xasprintf(p, "kvm-pvm: only PVM guests; vfio-vm falls back to TCG (%s: %s)", path, what),
				 check_sbuf_take(p, &fix));
		return;
	}
	if (r == 0) {
		check_set_result(c, VFK_CHECK_PASS, check_xasprintf(p, "%s: %s", path, what), NULL);
		return;
	}
	if (open_err == EACCES || open_err == EPERM) {
		sbuf_addf(&fix, "run as root, or add your user to the kvm group: usermod -aG kvm \"$USER\" (then log in again)");
		check_set_result(c, VFK_CHECK_WARN, check_xasprintf(p, "%s: %s", path, what),
				 check_sbuf_take(p, &fix));
		return;
	}
	sbuf_addf(&fix, "enable %s in the firmware setup, then reload KVM: modprobe -r %s && modprobe %s\n",
		  vendor_virt_name(p->vendor), vmod, vmod);
	sbuf_addf(&fix, "if another hypervisor (VirtualBox, VMware) holds VT-x/AMD-V, stop it first");
	check_set_result(c, VFK_CHECK_FAIL, check_xasprintf(p, "%s: %s", path, what),
			 check_sbuf_take(p, &fix));
}

void check_kvm(struct probe *p, struct check_impl *c, int devfd, int sysfd)
{
	_cleanup_free_ char *path = check_shown_path(p, VFK_ROOT_DEV, "kvm");
	const char *shown = path ? path : "kvm";
	bool pvm = sysfd >= 0 && check_module_present(sysfd, "kvm_pvm");
	char what[160] = "";
	int r = 0, open_err = 0;

	if (devfd < 0 || !vfk_exists_at(devfd, "kvm")) {
		fail_kvm_missing(p, c, shown);
		return;
	}
	if (p->live)
		r = kvm_live_probe(devfd, what, sizeof(what), &open_err);
	else
		snprintf(what, sizeof(what), "present (not opened: sysroot is not the running host)");
	judge_kvm(p, c, shown, what, r, open_err, pvm);
}
