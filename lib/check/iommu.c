/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The IOMMU: whether firmware and kernel turned it on (iommu), whether the
 * kernel command line asks for it as passthrough wants it (cmdline), and
 * whether interrupts are remapped through it (irq-remap).
 */
#include <ctype.h>

#include "check/check.h"

/* Room for MAX_UNITS_SHOWN unit names joined by ", " and a trailing ", ...". */
#define UNITS_TEXT_SIZE (MAX_UNITS_SHOWN * 66)

static int count_entries(struct probe *p, int dirfd, const char *rel, char names[][64], size_t max_names)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int n = 0;

	d = vfk_opendir_in(p->ctx, dirfd, rel);
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

/* How many of p->units hold a name. */
static size_t units_shown(const struct probe *p)
{
	return p->n_units > 0 ? (size_t)(p->n_units < MAX_UNITS_SHOWN ? p->n_units : MAX_UNITS_SHOWN) : 0;
}

void check_read_iommu(struct probe *p, int sysfd)
{
	size_t shown;

	p->n_groups = count_entries(p, sysfd, VFK_SYS_IOMMU_GROUPS, NULL, 0);
	p->n_units = count_entries(p, sysfd, VFK_SYS_CLASS_IOMMU, p->units, MAX_UNITS_SHOWN);
	shown = units_shown(p);
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

/* ---------------------------------------------------------------- iommu */

static void fix_firmware_iommu(struct sbuf *fix, enum cpu_vendor v)
{
	switch (v) {
	case VENDOR_INTEL:
		sbuf_addf(fix, "enable VT-d (\"Intel Virtualization Technology for Directed I/O\") in the firmware setup\n");
		break;
	case VENDOR_AMD:
		sbuf_addf(fix, "enable the IOMMU (\"IOMMU\", \"AMD-Vi\" or \"AMD IOMMU\"; on some boards also \"SVM Mode\") in the firmware setup\n");
		break;
	default:
		sbuf_addf(fix, "enable VT-d (Intel) or the IOMMU/AMD-Vi (AMD) in the firmware setup\n");
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

/* "dmar0, dmar1, ..." into @units (UNITS_TEXT_SIZE bytes). */
static void units_text(const struct probe *p, char *units)
{
	size_t i;

	units[0] = '\0';
	for (i = 0; i < units_shown(p); i++) {
		if (i)
			strcat(units, ", ");
		strcat(units, p->units[i]);
	}
	if (p->n_units > MAX_UNITS_SHOWN)
		strcat(units, ", ...");
}

/* What on the command line turns the IOMMU off ("" when nothing does). */
static void iommu_off_words(const struct probe *p, char *off, size_t size)
{
	static const char *const off_words[] = { "iommu=off", "intel_iommu=off", "amd_iommu=off" };
	size_t k;

	off[0] = '\0';
	for (k = 0; k < ARRAY_SIZE(off_words); k++)
		if (check_cmdline_has_word(p, off_words[k]))
			snprintf(off + strlen(off), size - strlen(off), "%s%s",
				 off[0] ? " " : "", off_words[k]);
}

/* Hardware registered but no groups: the kernel did not turn it on. */
static void fail_units_without_groups(struct probe *p, struct check_impl *c, const char *units,
				      const char *off)
{
	struct sbuf fix = { 0 };

	if (off[0])
		sbuf_addf(&fix, "remove %s from the kernel command line (see cmdline for the exact edit)\n", off);
	if (p->vendor != VENDOR_AMD && !check_cmdline_has_value(p, "intel_iommu", "on"))
		sbuf_addf(&fix, "add intel_iommu=on to the kernel command line (see cmdline for the exact edit)\n");
	sbuf_addf(&fix, "reboot");
	check_set_result(c, VFK_CHECK_FAIL,
			 check_xasprintf(p, "IOMMU hardware present (%s) but no IOMMU groups: the kernel did not enable it%s%s",
					 units, off[0] ? ", disabled by " : "", off),
			 check_sbuf_take(p, &fix));
}

/* Why there is no IOMMU, as far as this host tells. */
static const char *no_iommu_reason(const struct probe *p, enum acpi_iommu acpi, const char *off)
{
	if (off[0])
		return off;
	if (acpi == ACPI_TABLE)
		return p->vendor == VENDOR_AMD ? "firmware has an IVRS table, the kernel did not enable it" :
						 "firmware has a DMAR table, the kernel did not enable it";
	if (acpi == ACPI_NO_TABLE && p->hypervisor)
		return "no ACPI DMAR/IVRS table: this virtual machine has no virtual IOMMU";
	if (acpi == ACPI_NO_TABLE)
		return "no ACPI DMAR/IVRS table: disabled in the firmware setup";
	return "firmware setting or kernel default";
}

static void fail_no_iommu(struct probe *p, struct check_impl *c, int sysfd, const char *off)
{
	enum acpi_iommu acpi = acpi_iommu_table(sysfd);
	struct sbuf fix = { 0 };

	if (off[0])
		sbuf_addf(&fix, "remove %s from the kernel command line (see cmdline for the exact edit)\n", off);
	/* the firmware describes its IOMMU in an ACPI table (DMAR on Intel,
	 * IVRS on AMD); without one, it is off in the firmware setup */
	if (acpi != ACPI_TABLE && p->hypervisor)
		sbuf_addf(&fix, "this host is a virtual machine without a virtual IOMMU: give it one on the outer host\n"
			  "  QEMU: -machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on\n"
			  "  libvirt: <iommu model='intel'><driver intremap='on' caching_mode='on'/></iommu> and <ioapic driver='qemu'/>\n");
	else if (acpi != ACPI_TABLE)
		fix_firmware_iommu(&fix, p->vendor);
	if (p->vendor == VENDOR_AMD)
		sbuf_addf(&fix, "the kernel turns the AMD IOMMU on by itself once the firmware enables it\n");
	else if (!check_cmdline_has_value(p, "intel_iommu", "on"))
		sbuf_addf(&fix, "add intel_iommu=on to the kernel command line%s (see cmdline for the exact edit)\n",
			  p->vendor == VENDOR_INTEL ? "" : " (Intel)");
	sbuf_addf(&fix, "reboot");
	check_set_result(c, VFK_CHECK_FAIL,
			 check_xasprintf(p, "no IOMMU groups and no IOMMU units: IOMMU off (%s)",
					 no_iommu_reason(p, acpi, off)),
			 check_sbuf_take(p, &fix));
}

void check_iommu(struct probe *p, struct check_impl *c, int sysfd)
{
	struct sbuf fix = { 0 };
	char units[UNITS_TEXT_SIZE], off[64];

	units_text(p, units);
	if (p->n_groups > 0 && p->n_units > 0) {
		check_set_result(c, VFK_CHECK_PASS,
				 check_xasprintf(p, "%d IOMMU group%s, %d IOMMU unit%s (%s)", p->n_groups,
						 p->n_groups == 1 ? "" : "s", p->n_units, p->n_units == 1 ? "" : "s",
						 units),
				 NULL);
		return;
	}
	if (p->n_groups > 0) {
		sbuf_addf(&fix, "no action needed for passthrough if the groups are right; a kernel without IOMMU class devices is unusual: check dmesg for DMAR/AMD-Vi messages");
		check_set_result(c, VFK_CHECK_WARN,
				 check_xasprintf(p, "%d IOMMU group%s, but no IOMMU unit in class/iommu", p->n_groups,
						 p->n_groups == 1 ? "" : "s"),
				 check_sbuf_take(p, &fix));
		return;
	}
	iommu_off_words(p, off, sizeof(off));
	if (p->n_units > 0)
		fail_units_without_groups(p, c, units, off);
	else
		fail_no_iommu(p, c, sysfd, off);
}

/* -------------------------------------------------------------- cmdline */

/* What the command line gets wrong, and the words that would put it right. */
struct cmdline_findings {
	const char *add[4], *drop[6];	/* NULL-terminated */
	size_t nadd, ndrop;
	enum vfk_check_status st;
	struct sbuf det;		/* findings, each ending in "; " */
};

static void worsen(enum vfk_check_status *st, enum vfk_check_status to)
{
	if (*st < to)
		*st = to;
}

/* intel_iommu=: a fault only where the IOMMU is Intel's; advised where unknown. */
static void judge_intel_iommu(struct probe *p, struct cmdline_findings *f)
{
	bool intel_on = check_cmdline_has_value(p, "intel_iommu", "on");
	bool intel_off = check_cmdline_has_value(p, "intel_iommu", "off");
	bool intel = p->iommu_vendor == VENDOR_INTEL;

	if (intel_off) {
		f->drop[f->ndrop++] = "intel_iommu=off";
		if (intel) {
			worsen(&f->st, VFK_CHECK_FAIL);
			sbuf_addf(&f->det, "intel_iommu=off disables VT-d; ");
		}
	}
	if (intel_on)
		return;
	f->add[f->nadd++] = "intel_iommu=on";
	if (!intel || intel_off)
		return;
	if (p->n_groups > 0) {
		worsen(&f->st, VFK_CHECK_WARN);
		sbuf_addf(&f->det, "intel_iommu=on missing (the IOMMU is on by kernel default here); ");
	} else {
		worsen(&f->st, VFK_CHECK_FAIL);
		sbuf_addf(&f->det, "intel_iommu=on missing; ");
	}
}

static void judge_cmdline(struct probe *p, struct cmdline_findings *f)
{
	char buf[256];
	const char *v = check_cmdline_get(p, "iommu", buf, sizeof(buf));
	bool pt = (v && check_list_has(v, "pt")) || check_cmdline_has_value(p, "iommu.passthrough", "1") ||
		  check_cmdline_has_value(p, "iommu.passthrough", "on") ||
		  check_cmdline_has_value(p, "iommu.passthrough", "y");

	if (v && check_list_has(v, "off")) {
		f->drop[f->ndrop++] = "iommu=off";
		worsen(&f->st, VFK_CHECK_FAIL);
		sbuf_addf(&f->det, "iommu=off disables the IOMMU; ");
	}
	if (p->iommu_vendor == VENDOR_INTEL || p->iommu_vendor == VENDOR_UNKNOWN)
		judge_intel_iommu(p, f);
	if (p->iommu_vendor == VENDOR_AMD && check_cmdline_has_value(p, "amd_iommu", "off")) {
		f->drop[f->ndrop++] = "amd_iommu=off";
		worsen(&f->st, VFK_CHECK_FAIL);
		sbuf_addf(&f->det, "amd_iommu=off disables AMD-Vi; ");
	}
	if (!pt) {
		f->add[f->nadd++] = "iommu=pt";
		worsen(&f->st, VFK_CHECK_WARN);
		sbuf_addf(&f->det, "iommu=pt missing (recommended: host devices skip DMA translation); ");
	}
	if (p->iommu_vendor == VENDOR_UNKNOWN) {
		worsen(&f->st, VFK_CHECK_WARN);
		sbuf_addf(&f->det, "CPU vendor unknown, intel_iommu=on only applies to Intel; ");
	}
}

void check_cmdline(struct probe *p, struct check_impl *c, int topfd)
{
	struct cmdline_findings f = { .st = VFK_CHECK_PASS };
	struct sbuf fix = { 0 };

	if (!p->cmdline) {
		check_set_unreadable(p, c, "cmdline");
		return;
	}
	judge_cmdline(p, &f);
	if (f.st == VFK_CHECK_PASS) {
		sbuf_free(&f.det);
		if (p->iommu_vendor == VENDOR_AMD)
			sbuf_addf(&f.det, "iommu=pt set; AMD IOMMU on by default%s",
				  check_cmdline_has_value(p, "amd_iommu", "on") ? " (amd_iommu=on given)" : "");
		else
			sbuf_addf(&f.det, "intel_iommu=on iommu=pt set");
		check_set_result(c, VFK_CHECK_PASS, check_sbuf_take(p, &f.det), NULL);
		return;
	}
	/* the detail lists its findings joined by "; " */
	if (f.det.s && f.det.len >= 2)
		f.det.s[f.det.len -= 2] = '\0';
	check_fix_cmdline_edit(p, &fix, topfd, f.add, f.drop);
	memcpy(c->add, f.add, sizeof(f.add));
	memcpy(c->drop, f.drop, sizeof(f.drop));
	check_set_result(c, f.st, check_sbuf_take(p, &f.det), check_sbuf_take(p, &fix));
}

/* ------------------------------------------------------------ irq-remap */

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

/* Remapped interrupts in use: the first such domain of interrupts in @which. */
static bool interrupts_remapped(struct probe *p, int procfd, char *which, size_t size)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	bool found = false;

	f = procfd >= 0 ? check_fopen_at(p->ctx, procfd, "interrupts") : NULL;
	while (f && !found && getline(&line, &cap, f) > 0)
		found = line_has_ir(line, which, size);
	return found;
}

/* VT-d: ECAP bit 3 (IR) of any DMAR unit, the first such unit in @unit. */
static bool dmar_unit_with_ir(struct probe *p, int sysfd, char *unit, size_t size)
{
	size_t i;

	for (i = 0; sysfd >= 0 && i < units_shown(p); i++) {
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
			snprintf(unit, size, "%s", p->units[i]);
			return true;
		}
	}
	return false;
}

/* No remapping anywhere: VFIO refuses devices unless told to trust guests. */
static void warn_no_irq_remap(struct probe *p, struct check_impl *c, int sysfd)
{
	struct sbuf fix = { 0 };
	char unsafe[8] = "";

	if (sysfd >= 0)
		vfk_read_in(p->ctx, sysfd, VFK_SYS_MODULE "/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
			    unsafe, sizeof(unsafe));
	sbuf_addf(&fix, "interrupt remapping comes with the IOMMU: enable it first (see iommu and cmdline)\n");
	sbuf_addf(&fix, "if the platform has no interrupt remapping, VFIO refuses to assign devices unless you allow unsafe interrupts:\n");
	sbuf_addf(&fix, "  echo 'options vfio_iommu_type1 allow_unsafe_interrupts=1' > /etc/modprobe.d/vfio-unsafe-interrupts.conf\n");
	sbuf_addf(&fix, "  then: modprobe -r vfio_iommu_type1; modprobe vfio_iommu_type1\n");
	sbuf_addf(&fix, "  (a guest can then forge MSI writes that reach the host: use only with trusted guests)");
	check_set_result(c, VFK_CHECK_WARN,
			 check_xasprintf(p, "no remapped interrupts (no IR- entries in interrupts, no IOMMU unit with IR)%s",
					 unsafe[0] == 'Y' || unsafe[0] == '1' ? "; allow_unsafe_interrupts=Y is set" : ""),
			 check_sbuf_take(p, &fix));
}

void check_irq_remap(struct probe *p, struct check_impl *c, int procfd, int sysfd, int topfd)
{
	char which[32] = "", ir_unit[64] = "";
	bool ir_in_use, ir_cap = false, disabled;

	ir_in_use = interrupts_remapped(p, procfd, which, sizeof(which));
	if (!ir_in_use)
		ir_cap = dmar_unit_with_ir(p, sysfd, ir_unit, sizeof(ir_unit));
	disabled = check_cmdline_has_value(p, "intremap", "off") || check_cmdline_has_flag(p, "nointremap");

	if (ir_in_use) {
		check_set_result(c, VFK_CHECK_PASS,
				 check_xasprintf(p, "remapped interrupts in use (%s)", which), NULL);
		return;
	}
	if (ir_cap && !disabled) {
		check_set_result(c, VFK_CHECK_PASS,
				 check_xasprintf(p, "supported by %s (ECAP.IR set)", ir_unit), NULL);
		return;
	}
	if (disabled) {
		const char *const add[] = { NULL };
		const char *const drop[] = { "intremap=off", "nointremap", NULL };
		struct sbuf fix = { 0 };

		check_fix_cmdline_edit(p, &fix, topfd, add, drop);
		check_set_result(c, VFK_CHECK_WARN,
				 check_xasprintf(p, "interrupt remapping disabled on the kernel command line"),
				 check_sbuf_take(p, &fix));
		return;
	}
	warn_no_irq_remap(p, c, sysfd);
}
