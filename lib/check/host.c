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
 * Layer check/: owns the host readiness checks behind vfio-check. May call
 * inventory/ and core/ (lib/README.md).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <json-c/json.h>
#include <libkmod.h>
#include <linux/kvm.h>

#include "core/internal.h"

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
};

struct check_impl {
	struct vfk_check pub;	/* pub.detail/pub.fix point at the two below */
	char *detail;
	char *fix;
};

struct vfk_checks {
	struct check_impl c[_CHK_MAX];
};

/* ------------------------------------------------------- gathered facts */

enum cpu_vendor {
	VENDOR_UNKNOWN = 0,
	VENDOR_INTEL,
	VENDOR_AMD,
};

#define MAX_UNITS_SHOWN 4

/* What the checks share, read once. */
struct probe {
	struct vfk_ctx *ctx;
	bool live;		/* sysroot is the running host: live probes allowed */
	bool oom;		/* an allocation failed somewhere */

	enum cpu_vendor vendor;
	enum cpu_vendor iommu_vendor;	/* whose IOMMU the kernel drives: dmar = Intel, ivhd = AMD */
	bool cpuinfo_read;
	char cpu_vendor_id[32];
	bool vmx, svm, hypervisor;

	char *cmdline;		/* kernel parameters (the part before " -- "), or NULL */

	int n_groups;		/* -1 when kernel/iommu_groups is missing */
	int n_units;		/* entries of class/iommu, -1 when missing */
	char units[MAX_UNITS_SHOWN][64];
};

static void probe_oom(struct probe *p)
{
	p->oom = true;
}

static char *xvasprintf(struct probe *p, const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0) {
		probe_oom(p);
		return NULL;
	}
	return s;
}

static char *xasprintf(struct probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *xasprintf(struct probe *p, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(p, fmt, ap);
	va_end(ap);
	return s;
}

/* A growing string for multi-line fixes. */
struct sbuf {
	struct probe *p;
	char *s;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->p->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			probe_oom(b->p);
			return;
		}
		if (b->s && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		if (!ns) {
			probe_oom(b->p);
			return;
		}
		b->s = ns;
		b->cap = cap;
		if (b->len == 0)
			b->s[0] = '\0';
	}
}

/* Hand the buffer out (trailing newlines dropped); NULL when empty or on OOM. */
static char *sb_take(struct sbuf *b)
{
	char *s = b->s;

	b->s = NULL;
	if (!s)
		return NULL;
	if (b->p->oom) {
		free(s);
		return NULL;
	}
	while (b->len > 0 && s[b->len - 1] == '\n')
		s[--b->len] = '\0';
	b->len = b->cap = 0;
	return s;
}

static void sb_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* Store a result; takes ownership of @detail and @fix. */
static void set_result(struct check_impl *c, enum vfk_check_status status, char *detail, char *fix)
{
	c->pub.status = status;
	free(c->detail);
	free(c->fix);
	c->detail = detail;
	c->fix = status == VFK_CHECK_PASS ? (free(fix), NULL) : fix;
	c->pub.detail = c->detail ? c->detail : "";
	c->pub.fix = c->fix;
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

/* ------------------------------------------------------------ file help */

static FILE *fopen_at(struct vfk_ctx *ctx, int dirfd, const char *name)
{
	int fd;
	FILE *f;

	fd = vfk_open_file_in(ctx, dirfd, name);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "re");
	if (!f)
		close(fd);
	return f;
}

/* Read a whole (small) text file below dirfd; malloc'ed, NULL on error. */
static char *read_text_at(struct vfk_ctx *ctx, int dirfd, const char *name, size_t max)
{
	_cleanup_fclose_ FILE *f = NULL;
	char *buf;
	size_t len = 0, n;

	f = fopen_at(ctx, dirfd, name);
	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (!buf)
		return NULL;
	while (len < max && (n = fread(buf + len, 1, max - len, f)) > 0)
		len += n;
	buf[len] = '\0';
	return buf;
}

static DIR *opendir_at(struct vfk_ctx *ctx, int dirfd, const char *rel)
{
	int fd;
	DIR *d;

	fd = vfk_open_dir_in(ctx, dirfd, rel && *rel ? rel : ".");
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

static bool is_dot(const char *name)
{
	return name[0] == '.';
}

/* Path of a place below the sysroot, for messages; never NULL. */
static char *shown_path(struct probe *p, enum vfk_root root, const char *rel)
{
	char *s = vfk_root_path(p->ctx, root, rel);

	if (!s)
		s = xasprintf(p, "%s", rel);
	return s;
}

/* ------------------------------------------------------------- cmdline */

/* Does the kernel command line hold parameter @key (a "key=value" word's
 * key, or a bare flag)? Returns its value ("" for a flag) or NULL. The last
 * occurrence wins, as in the kernel. */
static const char *cmdline_get(const struct probe *p, const char *key, char *buf, size_t size)
{
	const char *s = p->cmdline, *found = NULL;
	size_t klen = strlen(key);

	if (!s)
		return NULL;
	while (*s) {
		const char *w, *e;
		bool quoted = false;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		w = s;
		for (e = s; *e && (quoted || !isspace((unsigned char)*e)); e++)
			if (*e == '"')
				quoted = !quoted;
		s = e;
		if ((size_t)(e - w) >= klen && strncmp(w, key, klen) == 0 &&
		    (w + klen == e || w[klen] == '=')) {
			size_t vlen = w + klen == e ? 0 : (size_t)(e - w - klen - 1);
			const char *v = w + klen + (w + klen == e ? 0 : 1);

			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (vlen >= size)
				vlen = size - 1;
			memcpy(buf, v, vlen);
			buf[vlen] = '\0';
			found = buf;
		}
	}
	return found;
}

/* Is @word one of the comma-separated items of @list? */
static bool list_has(const char *list, const char *word)
{
	size_t wl = strlen(word);

	while (list && *list) {
		size_t n = strcspn(list, ",");
		if (n == wl && strncmp(list, word, wl) == 0)
			return true;
		list += n;
		if (*list == ',')
			list++;
	}
	return false;
}

static bool cmdline_has_value(const struct probe *p, const char *key, const char *value)
{
	char buf[256];
	const char *v = cmdline_get(p, key, buf, sizeof(buf));

	return v && list_has(v, value);
}

static bool cmdline_has_flag(const struct probe *p, const char *key)
{
	char buf[8];

	return cmdline_get(p, key, buf, sizeof(buf)) != NULL;
}

/* Is "key=value" (or a bare flag) on the command line, value as one item? */
static bool cmdline_has_word(const struct probe *p, const char *word)
{
	const char *eq = strchr(word, '=');
	char key[64];

	if (!eq)
		return cmdline_has_flag(p, word);
	if ((size_t)(eq - word) >= sizeof(key))
		return false;
	memcpy(key, word, (size_t)(eq - word));
	key[eq - word] = '\0';
	return cmdline_has_value(p, key, eq + 1);
}

/* ------------------------------------------------------ gathering facts */

static void read_cpuinfo(struct probe *p, int procfd)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	bool got_flags = false;

	f = fopen_at(p->ctx, procfd, "cpuinfo");
	if (!f)
		return;
	p->cpuinfo_read = true;
	while (getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':'), *val, *tok, *save = NULL;
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
			for (tok = strtok_r(val, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
				if (streq(tok, "vmx"))
					p->vmx = true;
				else if (streq(tok, "svm"))
					p->svm = true;
				else if (streq(tok, "hypervisor"))
					p->hypervisor = true;
			}
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

static void read_cmdline(struct probe *p, int procfd)
{
	char *s, *dd;

	s = read_text_at(p->ctx, procfd, "cmdline", 65536);
	if (!s)
		return;
	s[strcspn(s, "\n")] = '\0';
	/* everything after a lone "--" belongs to init */
	if (streq(s, "--") || startswith(s, "-- "))
		s[0] = '\0';
	dd = strstr(s, " -- ");
	if (dd)
		*dd = '\0';
	else if (strlen(s) >= 3 && streq(s + strlen(s) - 3, " --"))
		s[strlen(s) - 3] = '\0';
	p->cmdline = s;
}

static int count_entries(struct probe *p, int dirfd, const char *rel, char names[][64], size_t max_names)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int n = 0;

	d = opendir_at(p->ctx, dirfd, rel);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (is_dot(de->d_name))
			continue;
		if (names && (size_t)n < max_names && strlen(de->d_name) < 64)
			memcpy(names[n], de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	return n;
}

static int cmp_name64(const void *a, const void *b)
{
	return strverscmp((const char *)a, (const char *)b);
}

static void read_iommu(struct probe *p, int sysfd)
{
	size_t shown;

	p->n_groups = count_entries(p, sysfd, VFK_SYS_IOMMU_GROUPS, NULL, 0);
	p->n_units = count_entries(p, sysfd, VFK_SYS_CLASS_IOMMU, p->units, MAX_UNITS_SHOWN);
	shown = p->n_units > 0 ? (size_t)(p->n_units < MAX_UNITS_SHOWN ? p->n_units : MAX_UNITS_SHOWN) : 0;
	qsort_safe(p->units, shown, sizeof(p->units[0]), cmp_name64);
	if (p->vendor == VENDOR_UNKNOWN && shown > 0) {
		if (startswith(p->units[0], "dmar"))
			p->vendor = VENDOR_INTEL;
		else if (startswith(p->units[0], "ivhd"))
			p->vendor = VENDOR_AMD;
	}
	if (p->vendor == VENDOR_UNKNOWN) {
		if (p->vmx && !p->svm)
			p->vendor = VENDOR_INTEL;
		else if (p->svm && !p->vmx)
			p->vendor = VENDOR_AMD;
	}
	/* a VM may run an AMD CPU model on an emulated Intel IOMMU: the units decide */
	p->iommu_vendor = p->vendor;
	if (shown > 0 && startswith(p->units[0], "dmar"))
		p->iommu_vendor = VENDOR_INTEL;
	else if (shown > 0 && startswith(p->units[0], "ivhd"))
		p->iommu_vendor = VENDOR_AMD;
}

static bool module_present(int sysfd, const char *name)
{
	char rel[128];

	snprintf(rel, sizeof(rel), VFK_SYS_MODULE "/%s", name);
	return vfk_exists_at(sysfd, rel);
}

/* --------------------------------------------------------------- checks */

static void check_cpu_virt(struct probe *p, struct check_impl *c)
{
	struct sbuf fix = { .p = p };

	if (!p->cpuinfo_read) {
		_cleanup_free_ char *path = shown_path(p, VFK_ROOT_PROC, "cpuinfo");

		sb_printf(&fix, "check that %s is readable (procfs mounted?)", path ? path : "cpuinfo");
		set_result(c, VFK_CHECK_FAIL, xasprintf(p, "cannot read %s", path ? path : "cpuinfo"),
			   sb_take(&fix));
		return;
	}
	if (p->vmx || p->svm) {
		set_result(c, VFK_CHECK_PASS,
			   xasprintf(p, "%s%s", p->vmx ? "vmx (Intel VT-x)" : "svm (AMD-V)",
				     p->hypervisor ? ", nested under a hypervisor" : ""),
			   NULL);
		return;
	}
	if (p->hypervisor) {
		sb_printf(&fix, "this host is itself a virtual machine: enable nested virtualization on the outer host\n");
		sb_printf(&fix, "  KVM outer host: echo 'options %s nested=1' > /etc/modprobe.d/kvm-nested.conf, reload the module, and give this VM '-cpu host' (libvirt: <cpu mode='host-passthrough'/>)\n",
			  p->vendor == VENDOR_AMD ? "kvm_amd" : "kvm_intel");
		sb_printf(&fix, "  cloud instance: choose an instance type with nested virtualization enabled\n");
		set_result(c, VFK_CHECK_FAIL,
			   xasprintf(p, "no vmx/svm CPU flag; the CPU is virtual (hypervisor flag) and nested virtualization is not exposed"),
			   sb_take(&fix));
		return;
	}
	sb_printf(&fix, "enable %s in the firmware (BIOS/UEFI) setup, save, and power-cycle the machine\n",
		  vendor_virt_name(p->vendor));
	set_result(c, VFK_CHECK_FAIL,
		   xasprintf(p, "no vmx/svm flag in cpuinfo%s%s%s: virtualization is disabled in firmware or unsupported",
			     p->cpu_vendor_id[0] ? " (" : "", p->cpu_vendor_id,
			     p->cpu_vendor_id[0] ? ")" : ""),
		   sb_take(&fix));
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

static void check_kvm(struct probe *p, struct check_impl *c, int devfd, int sysfd)
{
	_cleanup_free_ char *path = shown_path(p, VFK_ROOT_DEV, "kvm");
	struct sbuf fix = { .p = p };
	const char *vmod = p->vendor == VENDOR_AMD ? "kvm_amd" : "kvm_intel";
	bool pvm = sysfd >= 0 && module_present(sysfd, "kvm_pvm");
	bool present = devfd >= 0 && vfk_exists_at(devfd, "kvm");
	char what[160] = "";
	int r = 0, open_err = 0;

	if (!present) {
		if (p->vendor == VENDOR_UNKNOWN)
			sb_printf(&fix, "modprobe kvm_intel   # Intel CPU\nmodprobe kvm_amd     # AMD CPU\n");
		else
			sb_printf(&fix, "modprobe %s\n", vmod);
		sb_printf(&fix, "make it permanent: echo %s > /etc/modules-load.d/kvm.conf\n",
			  p->vendor == VENDOR_UNKNOWN ? "kvm_intel (or kvm_amd)" : vmod);
		sb_printf(&fix, "if the module refuses to load, enable %s in the firmware setup (see cpu-virt)",
			  vendor_virt_name(p->vendor));
		set_result(c, VFK_CHECK_FAIL,
			   xasprintf(p, "%s is missing: KVM module (%s) not loaded", path ? path : "kvm",
				     p->vendor == VENDOR_UNKNOWN ? "kvm_intel/kvm_amd" : vmod),
			   sb_take(&fix));
		return;
	}

	if (p->live)
		r = kvm_live_probe(devfd, what, sizeof(what), &open_err);
	else
		snprintf(what, sizeof(what), "present (not opened: sysroot is not the running host)");

	if (pvm) {
		sb_printf(&fix, "run vfio-vm on a host whose KVM is kvm_intel or kvm_amd (bare metal, or a VM with nested virtualization: see cpu-virt); ");
		sb_printf(&fix, "with kvm-pvm only PVM-enabled guest kernels (CONFIG_PVM_GUEST) run, so vfio-vm uses TCG (slow, but works)");
		set_result(c, VFK_CHECK_WARN,
			   xasprintf(p, "kvm-pvm: only PVM guests; vfio-vm falls back to TCG (%s: %s)",
				     path ? path : "kvm", what),
			   sb_take(&fix));
		return;
	}
	if (r == 0) {
		set_result(c, VFK_CHECK_PASS, xasprintf(p, "%s: %s", path ? path : "kvm", what), NULL);
		return;
	}
	if (open_err == EACCES || open_err == EPERM) {
		sb_printf(&fix, "run as root, or add your user to the kvm group: usermod -aG kvm \"$USER\" (then log in again)");
		set_result(c, VFK_CHECK_WARN, xasprintf(p, "%s: %s", path ? path : "kvm", what),
			   sb_take(&fix));
		return;
	}
	sb_printf(&fix, "enable %s in the firmware setup, then reload KVM: modprobe -r %s && modprobe %s\n",
		  vendor_virt_name(p->vendor), vmod, vmod);
	sb_printf(&fix, "if another hypervisor (VirtualBox, VMware) holds VT-x/AMD-V, stop it first");
	set_result(c, VFK_CHECK_FAIL, xasprintf(p, "%s: %s", path ? path : "kvm", what), sb_take(&fix));
}

static void fix_firmware_iommu(struct sbuf *fix, enum cpu_vendor v)
{
	switch (v) {
	case VENDOR_INTEL:
		sb_printf(fix, "enable VT-d (\"Intel Virtualization Technology for Directed I/O\") in the firmware setup\n");
		break;
	case VENDOR_AMD:
		sb_printf(fix, "enable the IOMMU (\"IOMMU\", \"AMD-Vi\" or \"AMD IOMMU\"; on some boards also \"SVM Mode\") in the firmware setup\n");
		break;
	default:
		sb_printf(fix, "enable VT-d (Intel) or the IOMMU/AMD-Vi (AMD) in the firmware setup\n");
		break;
	}
}

enum acpi_iommu {
	ACPI_UNKNOWN = 0,	/* no ACPI tables directory to look at */
	ACPI_NO_TABLE,
	ACPI_TABLE,
};

static enum acpi_iommu acpi_iommu_table(int sysfd)
{
	if (sysfd < 0 || !vfk_exists_at(sysfd, "firmware/acpi/tables"))
		return ACPI_UNKNOWN;
	/* the tables are mode 0400, but their names can be seen by anyone */
	if (vfk_exists_at(sysfd, "firmware/acpi/tables/DMAR") ||
	    vfk_exists_at(sysfd, "firmware/acpi/tables/IVRS"))
		return ACPI_TABLE;
	return ACPI_NO_TABLE;
}

static void check_iommu(struct probe *p, struct check_impl *c, int sysfd)
{
	enum acpi_iommu acpi = acpi_iommu_table(sysfd);
	struct sbuf fix = { .p = p };
	char units[MAX_UNITS_SHOWN * 66] = "";
	size_t i, shown = p->n_units > 0 ? (size_t)(p->n_units < MAX_UNITS_SHOWN ? p->n_units : MAX_UNITS_SHOWN) : 0;

	for (i = 0; i < shown; i++) {
		if (i)
			strcat(units, ", ");
		strcat(units, p->units[i]);
	}
	if (p->n_units > MAX_UNITS_SHOWN)
		strcat(units, ", ...");

	if (p->n_groups > 0 && p->n_units > 0) {
		set_result(c, VFK_CHECK_PASS,
			   xasprintf(p, "%d IOMMU group%s, %d IOMMU unit%s (%s)", p->n_groups,
				     p->n_groups == 1 ? "" : "s", p->n_units, p->n_units == 1 ? "" : "s",
				     units),
			   NULL);
		return;
	}
	if (p->n_groups > 0) {
		sb_printf(&fix, "no action needed for passthrough if the groups are right; a kernel without IOMMU class devices is unusual: check dmesg for DMAR/AMD-Vi messages");
		set_result(c, VFK_CHECK_WARN,
			   xasprintf(p, "%d IOMMU group%s, but no IOMMU unit in class/iommu", p->n_groups,
				     p->n_groups == 1 ? "" : "s"),
			   sb_take(&fix));
		return;
	}

	/* what on the command line turns the IOMMU off, if anything */
	{
		static const char *const off_words[] = { "iommu=off", "intel_iommu=off", "amd_iommu=off" };
		char off[64] = "";
		size_t k;

		for (k = 0; k < ARRAY_SIZE(off_words); k++)
			if (cmdline_has_word(p, off_words[k]))
				snprintf(off + strlen(off), sizeof(off) - strlen(off), "%s%s",
					 off[0] ? " " : "", off_words[k]);

		if (p->n_units > 0) {
			/* hardware registered but no groups: the kernel did not turn it on */
			if (off[0])
				sb_printf(&fix, "remove %s from the kernel command line (see cmdline for the exact edit)\n", off);
			if (p->vendor != VENDOR_AMD && !cmdline_has_value(p, "intel_iommu", "on"))
				sb_printf(&fix, "add intel_iommu=on to the kernel command line (see cmdline for the exact edit)\n");
			sb_printf(&fix, "reboot");
			set_result(c, VFK_CHECK_FAIL,
				   xasprintf(p, "IOMMU hardware present (%s) but no IOMMU groups: the kernel did not enable it%s%s",
					     units, off[0] ? ", disabled by " : "", off),
				   sb_take(&fix));
			return;
		}
		if (off[0])
			sb_printf(&fix, "remove %s from the kernel command line (see cmdline for the exact edit)\n", off);
		/* the firmware describes its IOMMU in an ACPI table (DMAR on Intel,
		 * IVRS on AMD); without one, it is off in the firmware setup */
		if (acpi != ACPI_TABLE && p->hypervisor)
			sb_printf(&fix, "this host is a virtual machine without a virtual IOMMU: give it one on the outer host\n"
				  "  QEMU: -machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on\n"
				  "  libvirt: <iommu model='intel'><driver intremap='on' caching_mode='on'/></iommu> and <ioapic driver='qemu'/>\n");
		else if (acpi != ACPI_TABLE)
			fix_firmware_iommu(&fix, p->vendor);
		if (p->vendor == VENDOR_AMD)
			sb_printf(&fix, "the kernel turns the AMD IOMMU on by itself once the firmware enables it\n");
		else if (!cmdline_has_value(p, "intel_iommu", "on"))
			sb_printf(&fix, "add intel_iommu=on to the kernel command line%s (see cmdline for the exact edit)\n",
				  p->vendor == VENDOR_INTEL ? "" : " (Intel)");
		sb_printf(&fix, "reboot");
		set_result(c, VFK_CHECK_FAIL,
			   xasprintf(p, "no IOMMU groups and no IOMMU units: IOMMU off (%s)",
				     off[0] ? off :
				     acpi == ACPI_TABLE ? (p->vendor == VENDOR_AMD ?
							   "firmware has an IVRS table, the kernel did not enable it" :
							   "firmware has a DMAR table, the kernel did not enable it") :
				     acpi == ACPI_NO_TABLE && p->hypervisor ? "no ACPI DMAR/IVRS table: this virtual machine has no virtual IOMMU" :
				     acpi == ACPI_NO_TABLE ? "no ACPI DMAR/IVRS table: disabled in the firmware setup" :
				     "firmware setting or kernel default"),
			   sb_take(&fix));
	}
}

/* Is @word (a "key=value" or flag) to be dropped from a command line? */
static bool word_conflicts(const char *w, size_t n, const char *const *drop)
{
	size_t i;

	for (i = 0; drop[i]; i++)
		if (strlen(drop[i]) == n && strncmp(w, drop[i], n) == 0)
			return true;
	return false;
}

/* Build "old words minus @drop plus @add" (no duplicates of @add words). */
static void sb_edited_cmdline(struct sbuf *b, const char *old, const char *const *drop,
			      const char *const *add, bool skip_boot_words)
{
	const char *s = old ? old : "";
	bool first = true;
	size_t i;

	while (*s) {
		const char *w, *e;
		bool quoted = false;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		w = s;
		for (e = s; *e && (quoted || !isspace((unsigned char)*e)); e++)
			if (*e == '"')
				quoted = !quoted;
		s = e;
		if (word_conflicts(w, (size_t)(e - w), drop) || word_conflicts(w, (size_t)(e - w), add))
			continue;
		if (skip_boot_words && ((e - w > 11 && strncmp(w, "BOOT_IMAGE=", 11) == 0) ||
					(e - w > 7 && strncmp(w, "initrd=", 7) == 0)))
			continue;
		sb_printf(b, "%s%.*s", first ? "" : " ", (int)(e - w), w);
		first = false;
	}
	for (i = 0; add[i]; i++) {
		sb_printf(b, "%s%s", first ? "" : " ", add[i]);
		first = false;
	}
}

/* Current value of GRUB_CMDLINE_LINUX_DEFAULT in <sysroot>/etc/default/grub:
 * malloc'ed, NULL when the file or the variable is absent. */
static char *grub_current(struct probe *p, int topfd)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	char *val = NULL;

	if (topfd < 0)
		return NULL;
	f = fopen_at(p->ctx, topfd, "etc/default/grub");
	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		char *s = line, *v;
		size_t n;

		while (isspace((unsigned char)*s))
			s++;
		if (!startswith(s, "GRUB_CMDLINE_LINUX_DEFAULT="))
			continue;
		v = s + strlen("GRUB_CMDLINE_LINUX_DEFAULT=");
		v[strcspn(v, "\n")] = '\0';
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		free(val);
		val = strdup(v);
	}
	return val;
}

/* Write the GRUB and systemd-boot edits that add @add and drop @drop. */
static void fix_cmdline_edit(struct probe *p, struct sbuf *fix, int topfd, const char *const *add,
			     const char *const *drop)
{
	_cleanup_free_ char *grub = grub_current(p, topfd);
	_cleanup_free_ char *kcmd = NULL;
	size_t i;

	bool any = false, shown = false;

	if (add[0]) {
		sb_printf(fix, "kernel parameters to add:");
		for (i = 0; add[i]; i++)
			sb_printf(fix, " %s", add[i]);
	}
	/* name the parameters to remove that are really there (all when none is) */
	for (i = 0; drop[i]; i++)
		any |= cmdline_has_word(p, drop[i]);
	for (i = 0; drop[i]; i++) {
		if (any && !cmdline_has_word(p, drop[i]))
			continue;
		sb_printf(fix, "%s%s", shown ? " " : add[0] ? "; to remove: " : "kernel parameters to remove: ",
			  drop[i]);
		shown = true;
	}
	sb_printf(fix, "\n");

	if (grub) {
		/* the exact new line, from the file's current value */
		sb_printf(fix, "GRUB: in /etc/default/grub set\n  GRUB_CMDLINE_LINUX_DEFAULT=\"");
		sb_edited_cmdline(fix, grub, drop, add, false);
		sb_printf(fix, "\"\n");
		if (drop[0])
			sb_printf(fix, "  (and remove the same from GRUB_CMDLINE_LINUX if it is there)\n");
	} else {
		sb_printf(fix, "GRUB: in /etc/default/grub");
		if (add[0]) {
			sb_printf(fix, " append '");
			for (i = 0; add[i]; i++)
				sb_printf(fix, "%s%s", i ? " " : "", add[i]);
			sb_printf(fix, "' inside the quotes of GRUB_CMDLINE_LINUX_DEFAULT=\"...\"");
		}
		if (drop[0]) {
			sb_printf(fix, "%s remove ", add[0] ? ", and" : "");
			for (i = 0; drop[i]; i++)
				sb_printf(fix, "%s%s", i ? " / " : "", drop[i]);
			sb_printf(fix, " from GRUB_CMDLINE_LINUX_DEFAULT and GRUB_CMDLINE_LINUX");
		}
		sb_printf(fix, "\n");
	}
	sb_printf(fix, "  then run: update-grub   (Fedora/RHEL/openSUSE: grub2-mkconfig -o /boot/grub2/grub.cfg)\n");

	if (topfd >= 0)
		kcmd = read_text_at(p->ctx, topfd, "etc/kernel/cmdline", 8192);
	if (kcmd)
		kcmd[strcspn(kcmd, "\n")] = '\0';
	sb_printf(fix, "systemd-boot: write /etc/kernel/cmdline as\n  ");
	sb_edited_cmdline(fix, kcmd ? kcmd : p->cmdline, drop, add, true);
	sb_printf(fix, "\n  then run: kernel-install add \"$(uname -r)\" \"/usr/lib/modules/$(uname -r)/vmlinuz\"\n");
	sb_printf(fix, "  (or make the same change on the 'options' line of the boot entry in <ESP>/loader/entries/*.conf; 'bootctl list' shows which file)\n");
	sb_printf(fix, "reboot");
}

static void check_cmdline(struct probe *p, struct check_impl *c, int topfd)
{
	struct sbuf fix = { .p = p };
	struct sbuf det = { .p = p };
	const char *add[4] = { NULL }, *drop[6] = { NULL };
	size_t nadd = 0, ndrop = 0;
	enum vfk_check_status st = VFK_CHECK_PASS;
	char buf[256];
	const char *v;
	bool pt, iommu_off, intel_on, intel_off, amd_off;

	if (!p->cmdline) {
		_cleanup_free_ char *path = shown_path(p, VFK_ROOT_PROC, "cmdline");

		sb_printf(&fix, "check that %s is readable (procfs mounted?)", path ? path : "cmdline");
		set_result(c, VFK_CHECK_FAIL, xasprintf(p, "cannot read %s", path ? path : "cmdline"),
			   sb_take(&fix));
		return;
	}
	v = cmdline_get(p, "iommu", buf, sizeof(buf));
	pt = (v && list_has(v, "pt")) || cmdline_has_value(p, "iommu.passthrough", "1") ||
	     cmdline_has_value(p, "iommu.passthrough", "on") || cmdline_has_value(p, "iommu.passthrough", "y");
	iommu_off = v && list_has(v, "off");
	intel_on = cmdline_has_value(p, "intel_iommu", "on");
	intel_off = cmdline_has_value(p, "intel_iommu", "off");
	amd_off = cmdline_has_value(p, "amd_iommu", "off");

	if (iommu_off) {
		drop[ndrop++] = "iommu=off";
		st = VFK_CHECK_FAIL;
		sb_printf(&det, "iommu=off disables the IOMMU; ");
	}
	if (p->iommu_vendor == VENDOR_INTEL || p->iommu_vendor == VENDOR_UNKNOWN) {
		if (intel_off) {
			drop[ndrop++] = "intel_iommu=off";
			if (p->iommu_vendor == VENDOR_INTEL) {
				st = VFK_CHECK_FAIL;
				sb_printf(&det, "intel_iommu=off disables VT-d; ");
			}
		}
		if (!intel_on) {
			add[nadd++] = "intel_iommu=on";
			if (p->iommu_vendor == VENDOR_INTEL && !intel_off) {
				if (p->n_groups > 0) {
					if (st < VFK_CHECK_WARN)
						st = VFK_CHECK_WARN;
					sb_printf(&det, "intel_iommu=on missing (the IOMMU is on by kernel default here); ");
				} else {
					st = VFK_CHECK_FAIL;
					sb_printf(&det, "intel_iommu=on missing; ");
				}
			}
		}
	}
	if (p->iommu_vendor == VENDOR_AMD && amd_off) {
		drop[ndrop++] = "amd_iommu=off";
		st = VFK_CHECK_FAIL;
		sb_printf(&det, "amd_iommu=off disables AMD-Vi; ");
	}
	if (!pt) {
		add[nadd++] = "iommu=pt";
		if (st < VFK_CHECK_WARN)
			st = VFK_CHECK_WARN;
		sb_printf(&det, "iommu=pt missing (recommended: host devices skip DMA translation); ");
	}
	if (p->iommu_vendor == VENDOR_UNKNOWN) {
		if (st < VFK_CHECK_WARN)
			st = VFK_CHECK_WARN;
		sb_printf(&det, "CPU vendor unknown, intel_iommu=on only applies to Intel; ");
	}

	if (st == VFK_CHECK_PASS) {
		sb_free(&det);
		if (p->iommu_vendor == VENDOR_AMD)
			sb_printf(&det, "iommu=pt set; AMD IOMMU on by default%s",
				  cmdline_has_value(p, "amd_iommu", "on") ? " (amd_iommu=on given)" : "");
		else
			sb_printf(&det, "intel_iommu=on iommu=pt set");
		set_result(c, VFK_CHECK_PASS, sb_take(&det), NULL);
		return;
	}
	/* the detail lists its findings joined by "; " */
	if (det.s && det.len >= 2)
		det.s[det.len -= 2] = '\0';
	fix_cmdline_edit(p, &fix, topfd, add, drop);
	set_result(c, st, sb_take(&det), sb_take(&fix));
}

/* Does a line of interrupts show a remapped interrupt domain? */
static bool line_has_ir(const char *line, char *which, size_t size)
{
	const char *s = line;

	while (*s) {
		const char *w;
		size_t n;

		while (isspace((unsigned char)*s))
			s++;
		w = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		n = (size_t)(s - w);
		if ((n > 3 && strncmp(w, "IR-", 3) == 0) || (n >= 6 && strncmp(w, "AMD-IR", 6) == 0) ||
		    (n >= 8 && strncmp(w, "INTEL-IR", 8) == 0)) {
			size_t k = strcspn(w, " \t\n");
			/* "IR-PCI-MSIX-0000:01:00.0" -> "IR-PCI-MSIX" */
			const char *dash;
			size_t keep = k;
			int dashes = 0;

			for (dash = w; dash < w + k; dash++)
				if (*dash == '-' && ++dashes == 3) {
					keep = (size_t)(dash - w);
					break;
				}
			if (keep >= size)
				keep = size - 1;
			memcpy(which, w, keep);
			which[keep] = '\0';
			return true;
		}
	}
	return false;
}

static void check_irq_remap(struct probe *p, struct check_impl *c, int procfd, int sysfd,
			    int topfd)
{
	struct sbuf fix = { .p = p };
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, i;
	char which[32] = "", unsafe[8] = "";
	bool ir_in_use = false, ir_cap = false, disabled;
	char ir_unit[64] = "";

	f = procfd >= 0 ? fopen_at(p->ctx, procfd, "interrupts") : NULL;
	while (f && !ir_in_use && getline(&line, &cap, f) > 0)
		ir_in_use = line_has_ir(line, which, sizeof(which));

	/* VT-d: ECAP bit 3 (IR) of any DMAR unit */
	for (i = 0; !ir_in_use && sysfd >= 0 && p->n_units > 0 && i < MAX_UNITS_SHOWN &&
		    i < (size_t)p->n_units; i++) {
		char rel[160], val[64];
		unsigned long long ecap;
		char *end;

		if (!startswith(p->units[i], "dmar"))
			continue;
		snprintf(rel, sizeof(rel), VFK_SYS_CLASS_IOMMU "/%s/intel-iommu/ecap", p->units[i]);
		if (vfk_read_in(p->ctx, sysfd, rel, val, sizeof(val)) <= 0)
			continue;
		errno = 0;
		ecap = strtoull(val, &end, 16);
		if (errno || end == val)
			continue;
		if (ecap & (1ULL << 3)) {
			ir_cap = true;
			snprintf(ir_unit, sizeof(ir_unit), "%s", p->units[i]);
			break;
		}
	}
	disabled = cmdline_has_value(p, "intremap", "off") || cmdline_has_flag(p, "nointremap");

	if (ir_in_use) {
		set_result(c, VFK_CHECK_PASS, xasprintf(p, "remapped interrupts in use (%s)", which), NULL);
		return;
	}
	if (ir_cap && !disabled) {
		set_result(c, VFK_CHECK_PASS,
			   xasprintf(p, "supported by %s (ECAP.IR set)", ir_unit), NULL);
		return;
	}
	if (sysfd >= 0)
		vfk_read_in(p->ctx, sysfd, VFK_SYS_MODULE "/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
			    unsafe, sizeof(unsafe));

	if (disabled) {
		const char *const add[] = { NULL };
		const char *const drop[] = { "intremap=off", "nointremap", NULL };

		fix_cmdline_edit(p, &fix, topfd, add, drop);
		set_result(c, VFK_CHECK_WARN,
			   xasprintf(p, "interrupt remapping disabled on the kernel command line"),
			   sb_take(&fix));
		return;
	}
	sb_printf(&fix, "interrupt remapping comes with the IOMMU: enable it first (see iommu and cmdline)\n");
	sb_printf(&fix, "if the platform has no interrupt remapping, VFIO refuses to assign devices unless you allow unsafe interrupts:\n");
	sb_printf(&fix, "  echo 'options vfio_iommu_type1 allow_unsafe_interrupts=1' > /etc/modprobe.d/vfio-unsafe-interrupts.conf\n");
	sb_printf(&fix, "  then: modprobe -r vfio_iommu_type1; modprobe vfio_iommu_type1\n");
	sb_printf(&fix, "  (a guest can then forge MSI writes that reach the host: use only with trusted guests)");
	set_result(c, VFK_CHECK_WARN,
		   xasprintf(p, "no remapped interrupts (no IR- entries in interrupts, no IOMMU unit with IR)%s",
			     unsafe[0] == 'Y' || unsafe[0] == '1' ? "; allow_unsafe_interrupts=Y is set" : ""),
		   sb_take(&fix));
}

/* ------------------------------------------------------------ modules */

static const char *const vfio_modules[] = { "vfio", "vfio_pci", "vfio_iommu_type1" };
#define N_VFIO_MODULES ARRAY_SIZE(vfio_modules)

enum mod_avail {
	MOD_MISSING = 0,
	MOD_FILE,	/* a .ko in the module tree */
	MOD_BUILTIN,	/* modules.builtin */
};

static void kmod_log_forward(void *data, int priority _unused_, const char *file, int line,
			     const char *fn, const char *format, va_list args)
{
	struct vfk_ctx *ctx = data;

	/* libkmod complains loudly about missing index files, which is a
	 * normal finding here: everything it says is debug output for us. */
	char msg[512];
	size_t n;

	if (!ctx->log_fn || ctx->log_priority < LOG_DEBUG)
		return;
	vsnprintf(msg, sizeof(msg), format, args);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	vfk_log(ctx, LOG_DEBUG, file, line, fn, "libkmod: %s", msg);
}

/* The kernel release: proc/sys/kernel/osrelease, else the only directory
 * of lib/modules. Rejects anything that is not one path component. */
static int kernel_release(struct probe *p, int procfd, int topfd, char *rel, size_t size)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int n = 0;

	if (procfd >= 0 && vfk_read_in(p->ctx, procfd, "sys/kernel/osrelease", rel, size) > 0)
		goto check;
	if (topfd < 0)
		return -ENOENT;
	d = opendir_at(p->ctx, topfd, "lib/modules");
	if (!d)
		d = opendir_at(p->ctx, topfd, "usr/lib/modules");
	while (d && (de = readdir(d))) {
		if (is_dot(de->d_name) || strlen(de->d_name) >= size)
			continue;
		memcpy(rel, de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	if (n != 1)
		return -ENOENT;
check:
	if (!*rel || strchr(rel, '/') || streq(rel, "..") || streq(rel, "."))
		return -EINVAL;
	(void)p;
	return 0;
}

/* Text fallback when the binary indexes (depmod's *.bin) are missing, as
 * in a hand-made tree: modules.dep / modules.builtin list paths ending in
 * "/NAME.ko[.xz|.zst|.gz]" with '-' and '_' equivalent. */
static bool modfile_lists(struct probe *p, int mdirfd, const char *file, const char *name, bool dep)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, nl = strlen(name);

	f = fopen_at(p->ctx, mdirfd, file);
	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		char *end = dep ? strchr(line, ':') : line + strcspn(line, "\n");
		char *base, *dot;
		size_t i;

		if (!end)
			continue;
		*end = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		dot = strstr(base, ".ko");
		if (!dot || (size_t)(dot - base) != nl)
			continue;
		for (i = 0; i < nl; i++) {
			char a = base[i] == '-' ? '_' : base[i];
			char b = name[i] == '-' ? '_' : name[i];
			if (a != b)
				break;
		}
		if (i == nl)
			return true;
	}
	return false;
}

static void modules_available(struct probe *p, int procfd, int topfd, enum mod_avail *avail,
			      char *release, size_t rsize, bool *have_tree)
{
	_cleanup_free_ char *dirname = NULL, *cfg0 = NULL, *cfg1 = NULL, *cfg2 = NULL, *cfg3 = NULL;
	_cleanup_close_ int mdirfd = -1;
	struct kmod_ctx *kctx = NULL;
	char rel[300];
	size_t i;

	*have_tree = false;
	if (kernel_release(p, procfd, topfd, release, rsize) < 0)
		return;
	snprintf(rel, sizeof(rel), "lib/modules/%s", release);
	mdirfd = vfk_root_open_dir(p->ctx, VFK_ROOT_TOP, rel);
	if (mdirfd < 0) {
		snprintf(rel, sizeof(rel), "usr/lib/modules/%s", release);
		mdirfd = vfk_root_open_dir(p->ctx, VFK_ROOT_TOP, rel);
	}
	if (mdirfd < 0)
		return;
	*have_tree = true;

	dirname = vfk_root_path(p->ctx, VFK_ROOT_TOP, rel);
	cfg0 = vfk_root_path(p->ctx, VFK_ROOT_TOP, "etc/modprobe.d");
	cfg1 = vfk_root_path(p->ctx, VFK_ROOT_TOP, "run/modprobe.d");
	cfg2 = vfk_root_path(p->ctx, VFK_ROOT_TOP, "usr/lib/modprobe.d");
	cfg3 = vfk_root_path(p->ctx, VFK_ROOT_TOP, "lib/modprobe.d");
	if (!dirname || !cfg0 || !cfg1 || !cfg2 || !cfg3) {
		probe_oom(p);
		return;
	}
	{
		const char *const cfg[] = { cfg0, cfg1, cfg2, cfg3, NULL };
		kctx = kmod_new(dirname, cfg);
	}
	if (kctx) {
		kmod_set_log_fn(kctx, kmod_log_forward, p->ctx);
		kmod_set_log_priority(kctx, p->ctx->log_priority >= LOG_DEBUG ? LOG_DEBUG : LOG_ERR);
	}
	for (i = 0; i < N_VFIO_MODULES; i++) {
		struct kmod_list *list = NULL, *it;

		if (kctx && kmod_module_new_from_lookup(kctx, vfio_modules[i], &list) >= 0 && list) {
			bool file = false;

			kmod_list_foreach(it, list) {
				struct kmod_module *mod = kmod_module_get_module(it);
				if (kmod_module_get_path(mod))
					file = true;
				kmod_module_unref(mod);
			}
			avail[i] = file ? MOD_FILE : MOD_BUILTIN;
			kmod_module_unref_list(list);
			dbg(p->ctx, "libkmod: %s %s", vfio_modules[i], file ? "module file" : "built-in");
			continue;
		}
		if (modfile_lists(p, mdirfd, "modules.dep", vfio_modules[i], true))
			avail[i] = MOD_FILE;
		else if (modfile_lists(p, mdirfd, "modules.builtin", vfio_modules[i], false))
			avail[i] = MOD_BUILTIN;
		dbg(p->ctx, "text indexes: %s avail=%d", vfio_modules[i], avail[i]);
	}
	if (kctx)
		kmod_unref(kctx);
}

/* Does the kernel command line keep @name from loading? Returns the word. */
static const char *module_blocked(const struct probe *p, const char *name)
{
	static const char *const keys[] = { "module_blacklist", "modprobe.blacklist" };
	char buf[512];
	size_t i;

	if (cmdline_has_flag(p, "nomodule"))
		return "nomodule";
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = cmdline_get(p, keys[i], buf, sizeof(buf));
		if (v && list_has(v, name))
			return keys[i];
	}
	return NULL;
}

static void check_vfio_modules(struct probe *p, struct check_impl *c, int procfd, int sysfd,
			       int topfd)
{
	struct sbuf fix = { .p = p };
	struct sbuf det = { .p = p };
	enum mod_avail avail[N_VFIO_MODULES] = { MOD_MISSING };
	bool loaded[N_VFIO_MODULES];
	char release[128] = "", missing[64] = "", unloaded[64] = "";
	const char *blocked = NULL;
	bool have_tree;
	size_t i;

	modules_available(p, procfd, topfd, avail, release, sizeof(release), &have_tree);
	for (i = 0; i < N_VFIO_MODULES; i++) {
		char rel[128];
		bool builtin;

		loaded[i] = sysfd >= 0 && module_present(sysfd, vfio_modules[i]);
		snprintf(rel, sizeof(rel), VFK_SYS_MODULE "/%s/initstate", vfio_modules[i]);
		/* a built-in module has a sysfs directory but no initstate */
		builtin = (loaded[i] && !vfk_exists_at(sysfd, rel)) || avail[i] == MOD_BUILTIN;
		if (builtin)
			loaded[i] = true;
		if (!loaded[i] && avail[i] == MOD_MISSING)
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s",
				 vfio_modules[i]);
		else if (!loaded[i])
			snprintf(unloaded + strlen(unloaded), sizeof(unloaded) - strlen(unloaded), " %s",
				 vfio_modules[i]);
		if (!loaded[i] && !blocked)
			blocked = module_blocked(p, vfio_modules[i]);
		sb_printf(&det, "%s%s %s", i ? ", " : "", vfio_modules[i],
			  builtin ? "built-in" : loaded[i] ? "loaded" :
			  avail[i] == MOD_FILE ? "available (not loaded)" : "missing");
	}
	if (!missing[0] && !unloaded[0]) {
		set_result(c, VFK_CHECK_PASS, sb_take(&det), NULL);
		return;
	}
	if (missing[0]) {
		if (!have_tree)
			sb_printf(&det, "; no module tree for %s", release[0] ? release : "this kernel");
		sb_printf(&fix, "install the modules of the running kernel%s%s, or boot a kernel built with CONFIG_VFIO, CONFIG_VFIO_PCI and CONFIG_VFIO_IOMMU_TYPE1:\n",
			  release[0] ? " " : "", release);
		if (release[0] && strstr(release, "-generic"))
			sb_printf(&fix, "  Ubuntu: apt install linux-modules-%s\n", release);
		else
			sb_printf(&fix, "  Debian/Ubuntu: apt install linux-image-%s\n",
				  release[0] ? release : "$(uname -r)");
		sb_printf(&fix, "  Fedora/RHEL: dnf install kernel-modules-core-$(uname -r)\n");
	}
	if (blocked) {
		const char *const add[] = { NULL };
		const char *const drop[] = { "nomodule", NULL };

		sb_printf(&det, "; '%s' on the kernel command line keeps modules from loading", blocked);
		if (streq(blocked, "nomodule"))
			fix_cmdline_edit(p, &fix, topfd, add, drop);
		else
			sb_printf(&fix, "remove the vfio modules from %s= on the kernel command line (GRUB and systemd-boot edits: see cmdline)\nreboot", blocked);
		sb_printf(&fix, "\n");
	}
	sb_printf(&fix, "load now: modprobe -a%s%s\n", missing, unloaded);
	sb_printf(&fix, "load at every boot: printf 'vfio\\nvfio_iommu_type1\\nvfio_pci\\n' > /etc/modules-load.d/vfio.conf");
	set_result(c, missing[0] || blocked ? VFK_CHECK_FAIL : VFK_CHECK_WARN, sb_take(&det),
		   sb_take(&fix));
}

/* ----------------------------------------------------------- hugepages */

static void fmt_pagesize(char *buf, size_t size, unsigned long kb)
{
	if (kb >= 1048576 && kb % 1048576 == 0)
		snprintf(buf, size, "%lu GiB", kb / 1048576);
	else if (kb >= 1024 && kb % 1024 == 0)
		snprintf(buf, size, "%lu MiB", kb / 1024);
	else
		snprintf(buf, size, "%lu KiB", kb);
}

static unsigned long meminfo_total_kb(struct probe *p, int procfd)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	unsigned long kb = 0;

	f = procfd >= 0 ? fopen_at(p->ctx, procfd, "meminfo") : NULL;
	while (f && getline(&line, &cap, f) > 0)
		if (sscanf(line, "MemTotal: %lu kB", &kb) == 1)
			break;
	return kb;
}

struct hp_size {
	unsigned long kb;
	long nr, free;
};

static int cmp_hp(const void *a, const void *b)
{
	const struct hp_size *x = a, *y = b;

	return x->kb < y->kb ? -1 : x->kb > y->kb;
}

static void check_hugepages(struct probe *p, struct check_impl *c, int sysfd, int procfd)
{
	struct sbuf fix = { .p = p };
	struct sbuf det = { .p = p };
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_close_ int hfd = -1;
	struct hp_size sizes[8];
	struct dirent *de;
	size_t n = 0, i;
	long total_nr = 0, total_free = 0;
	bool have_1g = false;
	unsigned long mem_kb, guest_gib;

	hfd = sysfd >= 0 ? vfk_open_dir_in(p->ctx, sysfd, "kernel/mm/hugepages") : -1;
	if (hfd >= 0) {
		d = opendir_at(p->ctx, hfd, NULL);
		while (d && (de = readdir(d)) && n < ARRAY_SIZE(sizes)) {
			char rel[300];
			unsigned long kb;
			long v;

			if (sscanf(de->d_name, "hugepages-%lukB", &kb) != 1)
				continue;
			sizes[n].kb = kb;
			snprintf(rel, sizeof(rel), "%s/nr_hugepages", de->d_name);
			sizes[n].nr = vfk_read_long_in(p->ctx, hfd, rel, &v) == 0 ? v : 0;
			snprintf(rel, sizeof(rel), "%s/free_hugepages", de->d_name);
			sizes[n].free = vfk_read_long_in(p->ctx, hfd, rel, &v) == 0 ? v : 0;
			if (kb == 1048576)
				have_1g = true;
			n++;
		}
	}
	qsort_safe(sizes, n, sizeof(sizes[0]), cmp_hp);
	for (i = 0; i < n; i++) {
		char sz[32];

		fmt_pagesize(sz, sizeof(sz), sizes[i].kb);
		total_nr += sizes[i].nr;
		total_free += sizes[i].free;
		sb_printf(&det, "%s%s: %ld (%ld free)", i ? ", " : "", sz, sizes[i].nr, sizes[i].free);
	}

	if (hfd < 0) {
		sb_free(&det);
		sb_printf(&fix, "use a kernel built with CONFIG_HUGETLBFS (every distribution kernel is); guests then run on normal pages meanwhile");
		set_result(c, VFK_CHECK_WARN, xasprintf(p, "no huge page support in this kernel (kernel/mm/hugepages missing)"),
			   sb_take(&fix));
		return;
	}
	if (total_nr > 0 && total_free > 0) {
		/* name only the sizes that have pages */
		sb_free(&det);
		for (i = 0; i < n; i++) {
			char sz[32];

			if (!sizes[i].nr)
				continue;
			fmt_pagesize(sz, sizeof(sz), sizes[i].kb);
			sb_printf(&det, "%s%ld x %s (%ld free)", det.len ? ", " : "", sizes[i].nr, sz,
				  sizes[i].free);
		}
		set_result(c, VFK_CHECK_PASS, sb_take(&det), NULL);
		return;
	}

	/* suggest half of RAM for the guest, at least 1 GiB, 8 GiB when unknown */
	mem_kb = meminfo_total_kb(p, procfd);
	guest_gib = mem_kb ? mem_kb / 1048576 / 2 : 8;
	if (guest_gib < 1)
		guest_gib = 1;
	sb_printf(&fix, "reserve huge pages for guest memory, sized here for a %lu GiB guest (half of RAM; scale N to your guest):\n",
		  guest_gib);
	if (have_1g)
		sb_printf(&fix, "  at boot, 1 GiB pages (most reliable): add 'default_hugepagesz=1G hugepagesz=1G hugepages=%lu' to the kernel command line (GRUB and systemd-boot edits: see cmdline)\n",
			  guest_gib);
	sb_printf(&fix, "  at runtime, 2 MiB pages: sysctl -w vm.nr_hugepages=%lu\n", guest_gib * 512);
	sb_printf(&fix, "  keep across reboots: echo 'vm.nr_hugepages = %lu' > /etc/sysctl.d/80-vfio-hugepages.conf",
		  guest_gib * 512);
	if (total_nr > 0) {
		_cleanup_free_ char *d2 = sb_take(&det);
		set_result(c, VFK_CHECK_WARN, xasprintf(p, "all reserved huge pages are in use: %s", d2 ? d2 : ""),
			   sb_take(&fix));
		return;
	}
	{
		_cleanup_free_ char *d2 = sb_take(&det);
		set_result(c, VFK_CHECK_WARN,
			   xasprintf(p, "no huge pages reserved%s%s%s", d2 ? " (" : "", d2 ? d2 : "", d2 ? ")" : ""),
			   sb_take(&fix));
	}
}

/* ---------------------------------------------------------------- OVMF */

/* Where distributions put OVMF images, relative to the sysroot. */
static const char *const ovmf_dirs[] = {
	"usr/share/OVMF",		/* Debian, Ubuntu */
	"usr/share/edk2/ovmf",		/* Fedora, RHEL */
	"usr/share/edk2/x64",		/* Arch */
	"usr/share/edk2-ovmf/x64",	/* older Arch */
	"usr/share/edk2-ovmf",		/* Gentoo */
	"usr/share/qemu",		/* openSUSE (ovmf-x86_64-*.bin) */
};

static const char *const fw_descriptor_dirs[] = {
	"etc/qemu/firmware",
	"usr/share/qemu/firmware",
};

static bool is_ovmf_image(const char *dir, const char *name)
{
	size_t n = strlen(name);

	if (startswith(name, "OVMF_CODE") && n > 3 && streq(name + n - 3, ".fd"))
		return true;
	if (streq(dir, "usr/share/qemu"))
		return startswith(name, "ovmf-x86_64") && strstr(name, "code") && n > 4 &&
		       streq(name + n - 4, ".bin");
	return false;
}

/* A QEMU firmware descriptor for x86_64 UEFI whose executable exists below the sysroot. */
static bool descriptor_usable(struct probe *p, int topfd, int dirfd, const char *name)
{
	_cleanup_free_ char *text = NULL;
	struct json_object *root, *o, *mapping, *exe, *fn;
	bool uefi = false, x86 = false, ok = false;
	const char *file;
	size_t i;

	text = read_text_at(p->ctx, dirfd, name, 65536);
	if (!text)
		return false;
	root = json_tokener_parse(text);
	if (!root)
		return false;
	if (json_object_object_get_ex(root, "interface-types", &o) &&
	    json_object_is_type(o, json_type_array))
		for (i = 0; i < json_object_array_length(o); i++)
			if (streq(json_object_get_string(json_object_array_get_idx(o, i)) ?: "", "uefi"))
				uefi = true;
	if (json_object_object_get_ex(root, "targets", &o) && json_object_is_type(o, json_type_array))
		for (i = 0; i < json_object_array_length(o); i++) {
			struct json_object *arch;
			if (json_object_object_get_ex(json_object_array_get_idx(o, i), "architecture", &arch) &&
			    streq(json_object_get_string(arch) ?: "", "x86_64"))
				x86 = true;
		}
	if (uefi && x86 && json_object_object_get_ex(root, "mapping", &mapping)) {
		fn = NULL;
		if (json_object_object_get_ex(mapping, "executable", &exe))
			json_object_object_get_ex(exe, "filename", &fn);
		else
			json_object_object_get_ex(mapping, "filename", &fn);	/* "memory" device */
		file = fn ? json_object_get_string(fn) : NULL;
		/* the path is absolute on the target host: look below the sysroot */
		if (file && file[0] == '/' && !strstr(file, ".."))
			ok = vfk_exists_at(topfd, file + 1);
	}
	json_object_put(root);
	return ok;
}

static void check_ovmf(struct probe *p, struct check_impl *c, int topfd)
{
	struct sbuf fix = { .p = p };
	char first[300] = "", first_dir[64] = "";
	int images = 0, descriptors = 0;
	size_t i;

	for (i = 0; topfd >= 0 && i < ARRAY_SIZE(ovmf_dirs); i++) {
		_cleanup_closedir_ DIR *d = opendir_at(p->ctx, topfd, ovmf_dirs[i]);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			if (!is_ovmf_image(ovmf_dirs[i], de->d_name))
				continue;
			images++;
			/* show the plainest image: shortest name, then alphabetical */
			if (!first[0] || (streq(first_dir, ovmf_dirs[i]) &&
					  (strlen(de->d_name) < strlen(first) ||
					   (strlen(de->d_name) == strlen(first) && strcmp(de->d_name, first) < 0)))) {
				if (!first[0])
					snprintf(first_dir, sizeof(first_dir), "%s", ovmf_dirs[i]);
				snprintf(first, sizeof(first), "%s", de->d_name);
			}
		}
	}
	for (i = 0; topfd >= 0 && i < ARRAY_SIZE(fw_descriptor_dirs); i++) {
		_cleanup_closedir_ DIR *d = opendir_at(p->ctx, topfd, fw_descriptor_dirs[i]);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			size_t n = strlen(de->d_name);

			if (is_dot(de->d_name) || n < 6 || !streq(de->d_name + n - 5, ".json"))
				continue;
			if (descriptor_usable(p, topfd, dirfd(d), de->d_name))
				descriptors++;
		}
	}
	if (images > 0 || descriptors > 0) {
		char more[32] = "", desc[96] = "";

		if (images > 1)
			snprintf(more, sizeof(more), " (+%d more)", images - 1);
		if (descriptors > 0)
			snprintf(desc, sizeof(desc), "%s%d QEMU firmware descriptor%s for x86_64 UEFI",
				 images ? "; " : "", descriptors, descriptors == 1 ? "" : "s");
		if (images > 0)
			set_result(c, VFK_CHECK_PASS,
				   xasprintf(p, "/%s/%s%s%s", first_dir, first, more, desc), NULL);
		else
			set_result(c, VFK_CHECK_PASS, xasprintf(p, "%s", desc), NULL);
		return;
	}
	sb_printf(&fix, "install the OVMF UEFI firmware (modern GPUs need a UEFI guest):\n");
	sb_printf(&fix, "  Debian/Ubuntu: apt install ovmf\n");
	sb_printf(&fix, "  Fedora/RHEL: dnf install edk2-ovmf\n");
	sb_printf(&fix, "  Arch: pacman -S edk2-ovmf\n");
	sb_printf(&fix, "  openSUSE: zypper install qemu-ovmf-x86_64");
	set_result(c, VFK_CHECK_FAIL,
		   xasprintf(p, "no OVMF image (OVMF_CODE*.fd) and no x86_64 UEFI firmware descriptor found"),
		   sb_take(&fix));
}

/* ------------------------------------------------------------- libvirt */

static const char *const libvirt_sockets[] = { "virtqemud-sock", "libvirt-sock" };

/* connect(2) to a UNIX socket of the running host; 0 or a negative errno. */
static int unix_connect(const char *path)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EAGAIN &&
	    errno != EINPROGRESS)
		return -errno;
	return 0;
}

static void check_libvirt(struct probe *p, struct check_impl *c, int topfd)
{
	struct sbuf fix = { .p = p };
	_cleanup_close_ int lfd = -1;
	const char *found = NULL;
	int r = 0;
	size_t i;

	lfd = topfd >= 0 ? vfk_open_dir_in(p->ctx, topfd, "run/libvirt") : -1;
	for (i = 0; lfd >= 0 && i < ARRAY_SIZE(libvirt_sockets); i++) {
		struct stat st;

		if (fstatat(lfd, libvirt_sockets[i], &st, 0) < 0)
			continue;
		if (p->live && !S_ISSOCK(st.st_mode))
			continue;
		found = libvirt_sockets[i];
		if (!p->live)
			break;
		{
			char rel[64];
			_cleanup_free_ char *path = NULL;

			snprintf(rel, sizeof(rel), "run/libvirt/%s", found);
			path = vfk_root_path(p->ctx, VFK_ROOT_TOP, rel);
			r = path ? unix_connect(path) : -ENOMEM;
		}
		if (r == 0)
			break;
	}
	if (found && r == 0) {
		_cleanup_free_ char *rel = xasprintf(p, "run/libvirt/%s", found);
		_cleanup_free_ char *path = rel ? shown_path(p, VFK_ROOT_TOP, rel) : NULL;

		set_result(c, VFK_CHECK_PASS,
			   xasprintf(p, "%s %s", path ? path : found,
				     p->live ? "answers" : "present (not connected: sysroot is not the running host)"),
			   NULL);
		return;
	}
	if (found && (r == -EACCES || r == -EPERM)) {
		sb_printf(&fix, "run as root, or add your user to the libvirt group: usermod -aG libvirt \"$USER\" (then log in again)");
		set_result(c, VFK_CHECK_WARN,
			   xasprintf(p, "libvirt socket %s: %s", found, strerror(-r)), sb_take(&fix));
		return;
	}
	sb_printf(&fix, "%s", found ? "" : "install libvirt:\n  Debian/Ubuntu: apt install libvirt-daemon-system\n  Fedora/RHEL: dnf install libvirt-daemon-kvm\n");
	sb_printf(&fix, "start it: systemctl enable --now libvirtd   (modular daemons: systemctl enable --now virtqemud.socket)\n");
	sb_printf(&fix, "without libvirt, vfio-vm starts QEMU directly");
	set_result(c, VFK_CHECK_WARN,
		   found ? xasprintf(p, "libvirt socket %s exists but does not answer (%s): daemon not running",
				     found, strerror(-r))
			 : xasprintf(p, "no libvirt socket (run/libvirt/virtqemud-sock or libvirt-sock)"),
		   sb_take(&fix));
}

/* ------------------------------------------------------------------ API */

int vfk_checks_run(struct vfk_ctx *ctx, struct vfk_checks **out)
{
	struct vfk_checks *checks;
	struct probe p = { .ctx = ctx, .n_groups = -1, .n_units = -1 };
	int topfd, sysfd, procfd, devfd;
	size_t i;

	if (!ctx || !out)
		return neg_errno(EINVAL);
	checks = calloc(1, sizeof(*checks));
	if (!checks)
		return neg_errno(ENOMEM);
	for (i = 0; i < _CHK_MAX; i++) {
		checks->c[i].pub.id = check_names[i].id;
		checks->c[i].pub.title = check_names[i].title;
		checks->c[i].pub.detail = "";
	}

	p.live = streq(vfk_ctx_get_sysroot(ctx), "/");
	topfd = vfk_root_open_dir(ctx, VFK_ROOT_TOP, NULL);
	sysfd = vfk_root_open_dir(ctx, VFK_ROOT_SYS, NULL);
	procfd = vfk_root_open_dir(ctx, VFK_ROOT_PROC, NULL);
	devfd = vfk_root_open_dir(ctx, VFK_ROOT_DEV, NULL);
	dbg(ctx, "checks: sysroot=%s live=%d sys=%d proc=%d dev=%d", vfk_ctx_get_sysroot(ctx), p.live,
	    sysfd >= 0, procfd >= 0, devfd >= 0);

	if (procfd >= 0) {
		read_cpuinfo(&p, procfd);
		read_cmdline(&p, procfd);
	}
	if (sysfd >= 0)
		read_iommu(&p, sysfd);
	else if (p.vendor == VENDOR_UNKNOWN)
		p.vendor = p.vmx ? VENDOR_INTEL : p.svm ? VENDOR_AMD : VENDOR_UNKNOWN;

	check_cpu_virt(&p, &checks->c[CHK_CPU_VIRT]);
	check_kvm(&p, &checks->c[CHK_KVM], devfd, sysfd);
	check_iommu(&p, &checks->c[CHK_IOMMU], sysfd);
	check_cmdline(&p, &checks->c[CHK_CMDLINE], topfd);
	check_irq_remap(&p, &checks->c[CHK_IRQ_REMAP], procfd, sysfd, topfd);
	check_vfio_modules(&p, &checks->c[CHK_VFIO_MODULES], procfd, sysfd, topfd);
	check_hugepages(&p, &checks->c[CHK_HUGEPAGES], sysfd, procfd);
	check_ovmf(&p, &checks->c[CHK_OVMF], topfd);
	check_libvirt(&p, &checks->c[CHK_LIBVIRT], topfd);

	free(p.cmdline);
	if (topfd >= 0)
		close(topfd);
	if (sysfd >= 0)
		close(sysfd);
	if (procfd >= 0)
		close(procfd);
	if (devfd >= 0)
		close(devfd);

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

void vfk_checks_free(struct vfk_checks *checks)
{
	size_t i;

	if (!checks)
		return;
	for (i = 0; i < _CHK_MAX; i++) {
		free(checks->c[i].detail);
		free(checks->c[i].fix);
	}
	free(checks);
}

size_t vfk_checks_count(const struct vfk_checks *checks)
{
	return checks ? _CHK_MAX : 0;
}

const struct vfk_check *vfk_checks_get(const struct vfk_checks *checks, size_t i)
{
	if (!checks || i >= _CHK_MAX)
		return NULL;
	return &checks->c[i].pub;
}

enum vfk_check_status vfk_checks_worst(const struct vfk_checks *checks)
{
	enum vfk_check_status worst = VFK_CHECK_PASS;
	size_t i;

	for (i = 0; checks && i < _CHK_MAX; i++)
		if (checks->c[i].pub.status > worst)
			worst = checks->c[i].pub.status;
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
