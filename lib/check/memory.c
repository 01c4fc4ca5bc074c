/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hugepages check: are huge pages reserved and free for guest memory,
 * and if not, how many to reserve for a guest of half this host's RAM.
 */
#include <stdio.h>

#include "check/check.h"

#define KB_PER_GIB 1048576UL

struct hp_size {
	unsigned long kb;
	long nr, free;
};

static void fmt_pagesize(char *buf, size_t size, unsigned long kb)
{
	if (kb >= KB_PER_GIB && kb % KB_PER_GIB == 0)
		snprintf(buf, size, "%lu GiB", kb / KB_PER_GIB);
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

	f = procfd >= 0 ? check_fopen_at(p->ctx, procfd, "meminfo") : NULL;
	while (f && getline(&line, &cap, f) > 0)
		if (sscanf(line, "MemTotal: %lu kB", &kb) == 1)
			break;
	return kb;
}

static int cmp_hp(const void *a, const void *b)
{
	const struct hp_size *x = a, *y = b;

	return x->kb < y->kb ? -1 : x->kb > y->kb;
}

/* The pools of kernel/mm/hugepages, smallest page first; -1 when the kernel
 * has no huge page support at all. */
static int read_hugepage_sizes(struct probe *p, int sysfd, struct hp_size *sizes, size_t max)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_close_ int hfd = -1;
	struct dirent *de;
	size_t n = 0;

	hfd = sysfd >= 0 ? vfk_open_dir_in(p->ctx, sysfd, "kernel/mm/hugepages") : -1;
	if (hfd < 0)
		return -1;
	d = vfk_opendir_in(p->ctx, hfd, NULL);
	while (d && (de = readdir(d)) && n < max) {
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
		n++;
	}
	qsort_safe(sizes, n, sizeof(sizes[0]), cmp_hp);
	return (int)n;
}

/* "2 MiB: 0 (0 free), 1 GiB: 0 (0 free)": every pool, empty ones too. */
static void describe_all_pools(struct sbuf *det, const struct hp_size *sizes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char sz[32];

		fmt_pagesize(sz, sizeof(sz), sizes[i].kb);
		sbuf_addf(det, "%s%s: %ld (%ld free)", i ? ", " : "", sz, sizes[i].nr, sizes[i].free);
	}
}

/* "4096 x 2 MiB (4096 free)": only the pools that have pages. */
static void describe_reserved_pools(struct sbuf *det, const struct hp_size *sizes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char sz[32];

		if (!sizes[i].nr)
			continue;
		fmt_pagesize(sz, sizeof(sz), sizes[i].kb);
		sbuf_addf(det, "%s%ld x %s (%ld free)", det->len ? ", " : "", sizes[i].nr, sz,
			  sizes[i].free);
	}
}

static void fix_reserve_hugepages(struct probe *p, struct sbuf *fix, int procfd, bool have_1g)
{
	/* suggest half of RAM for the guest, at least 1 GiB, 8 GiB when unknown */
	unsigned long mem_kb = meminfo_total_kb(p, procfd);
	unsigned long guest_gib = mem_kb ? mem_kb / KB_PER_GIB / 2 : 8;

	if (guest_gib < 1)
		guest_gib = 1;
	sbuf_addf(fix, "reserve huge pages for guest memory, sized here for a %lu GiB guest (half of RAM; scale N to your guest):\n",
		  guest_gib);
	if (have_1g)
		sbuf_addf(fix, "  at boot, 1 GiB pages (most reliable): add 'default_hugepagesz=1G hugepagesz=1G hugepages=%lu' to the kernel command line (GRUB and systemd-boot edits: see cmdline)\n",
			  guest_gib);
	sbuf_addf(fix, "  at runtime, 2 MiB pages: sysctl -w vm.nr_hugepages=%lu\n", guest_gib * 512);
	sbuf_addf(fix, "  keep across reboots: echo 'vm.nr_hugepages = %lu' > /etc/sysctl.d/80-vfio-hugepages.conf",
		  guest_gib * 512);
}

void check_hugepages(struct probe *p, struct check_impl *c, int sysfd, int procfd)
{
	struct sbuf fix = { 0 };
	struct sbuf det = { 0 };
	_cleanup_free_ char *pools = NULL;
	struct hp_size sizes[8];
	long total_nr = 0, total_free = 0;
	bool have_1g = false;
	int n = read_hugepage_sizes(p, sysfd, sizes, ARRAY_SIZE(sizes));
	size_t i;

	if (n < 0) {
		sbuf_addf(&fix, "use a kernel built with CONFIG_HUGETLBFS (every distribution kernel is); guests then run on normal pages meanwhile");
		check_set_result(c, VFK_CHECK_WARN, check_xasprintf(p, "no huge page support in this kernel (kernel/mm/hugepages missing)"),
				 check_sbuf_take(p, &fix));
		return;
	}
	for (i = 0; i < (size_t)n; i++) {
		total_nr += sizes[i].nr;
		total_free += sizes[i].free;
		if (sizes[i].kb == KB_PER_GIB)
			have_1g = true;
	}
	if (total_nr > 0 && total_free > 0) {
		describe_reserved_pools(&det, sizes, (size_t)n);
		check_set_result(c, VFK_CHECK_PASS, check_sbuf_take(p, &det), NULL);
		return;
	}
	fix_reserve_hugepages(p, &fix, procfd, have_1g);
	describe_all_pools(&det, sizes, (size_t)n);
	pools = check_sbuf_take(p, &det);
	if (total_nr > 0)
		check_set_result(c, VFK_CHECK_WARN,
				 check_xasprintf(p, "all reserved huge pages are in use: %s", pools ? pools : ""),
				 check_sbuf_take(p, &fix));
	else
		check_set_result(c, VFK_CHECK_WARN,
				 check_xasprintf(p, "no huge pages reserved%s%s%s", pools ? " (" : "", pools ? pools : "",
						 pools ? ")" : ""),
				 check_sbuf_take(p, &fix));
}
