/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of check/ share: the probe (host facts read once, before any
 * check runs), the result a check fills in, text that records running out of
 * memory in the probe, and each check as host.c calls it. The checks call
 * only the helpers (text.c, files.c, cmdline.c, bootfix.c), never host.c.
 */
#ifndef VFK_CHECK_H
#define VFK_CHECK_H

#include <dirent.h>
#include <stdio.h>

#include "core/internal.h"
#include "core/strbuf.h"

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

struct check_impl {
	struct vfk_check pub;	/* pub.detail/pub.fix point at the two below */
	char *detail;
	char *fix;
	/* the cmdline check: parameters to add and drop, NULL-terminated
	 * static strings (what vfio-check --fix writes for the boot loader) */
	const char *add[8], *drop[8];
};

/* ---- one check alone, for the layers above (host.c) */

/* Does the check @id pass on @ctx's host? Only checks that read files and
 * touch nothing live: "iommu" and "irq-remap". 1, 0, -EINVAL for another id,
 * -ENOMEM. */
int check_passes(struct vfk_ctx *ctx, const char *id);

/* ---- text whose allocation failures land in probe.oom, and results (text.c) */

static inline void probe_oom(struct probe *p)
{
	p->oom = true;
}

char *check_xasprintf(struct probe *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The text of @b for a detail or fix, trailing newlines dropped (@b is
 * reset); NULL when nothing was added or memory ran out (recorded in @p). */
char *check_sbuf_take(struct probe *p, struct sbuf *b);
/* Path of a place below the sysroot, for messages; NULL only on OOM. */
char *check_shown_path(struct probe *p, enum vfk_root root, const char *rel);

/* Store a result; takes ownership of @detail and @fix. */
void check_set_result(struct check_impl *c, enum vfk_check_status status, char *detail,
		      char *fix);
/* FAIL because the procfs file @name could not be read. */
void check_set_unreadable(struct probe *p, struct check_impl *c, const char *name);

/* ---- reading below the sysroot (files.c) */

FILE *check_fopen_at(struct vfk_ctx *ctx, int dirfd, const char *name);
/* Read a whole (small) text file below dirfd; malloc'ed, NULL on error. */
char *check_read_text_at(struct vfk_ctx *ctx, int dirfd, const char *name, size_t max);
/* Has module @name a directory in sysfs (loaded, or built in)? */
bool check_module_present(int sysfd, const char *name);

static inline bool is_dot(const char *name)
{
	return name[0] == '.';
}

/* ---- the kernel command line (cmdline.c) */

void check_read_cmdline(struct probe *p, int procfd);
/* The next word at *@s, its length in *@len; NULL at the end. */
const char *check_cmdline_next_word(const char **s, size_t *len);
const char *check_cmdline_get(const struct probe *p, const char *key, char *buf, size_t size);
bool check_list_has(const char *list, const char *word);
bool check_cmdline_has_value(const struct probe *p, const char *key, const char *value);
bool check_cmdline_has_flag(const struct probe *p, const char *key);
bool check_cmdline_has_word(const struct probe *p, const char *word);

/* ---- boot loader edits of the command line (bootfix.c) */

/* "old words minus @drop plus @add" (no duplicates of @add words) into @b;
 * with @skip_boot_words without BOOT_IMAGE= and initrd= (loaders add them). */
void check_cmdline_edit(struct sbuf *b, const char *old, const char *const *drop,
			const char *const *add, bool skip_boot_words);
/* The cmdline check's parameters to add and drop (NULL-terminated), from
 * checks vfk_checks_run() filled. */
void check_cmdline_wanted(const struct vfk_checks *checks, const char *const **add,
			  const char *const **drop);
/* Append to @fix the GRUB and systemd-boot edits that add @add and drop
 * @drop (both NULL-terminated), then "reboot". */
void check_fix_cmdline_edit(struct probe *p, struct sbuf *fix, int topfd, const char *const *add,
			    const char *const *drop);

/* ---- the checks, in the order vfio-check shows them (host.c calls them) */

void check_read_cpuinfo(struct probe *p, int procfd);
void check_cpu_virt(struct probe *p, struct check_impl *c);
void check_kvm(struct probe *p, struct check_impl *c, int devfd, int sysfd);

void check_read_iommu(struct probe *p, int sysfd);
void check_iommu(struct probe *p, struct check_impl *c, int sysfd);
void check_cmdline(struct probe *p, struct check_impl *c, int topfd);
void check_irq_remap(struct probe *p, struct check_impl *c, int procfd, int sysfd, int topfd);

void check_vfio_modules(struct probe *p, struct check_impl *c, int procfd, int sysfd, int topfd);

void check_hugepages(struct probe *p, struct check_impl *c, int sysfd, int procfd);
void check_ovmf(struct probe *p, struct check_impl *c, int topfd);
void check_libvirt(struct probe *p, struct check_impl *c, int topfd);
void check_gpu_fabric(struct probe *p, struct check_impl *c);
/* user.c, the checks vfk_checks_add_user() adds, in this order: user-dirs,
 * user-kvm, user-kvm-group, user-libvirt, user-memlock */
#define CHK_USER_COUNT 5
void check_user(struct probe *p, struct check_impl c[CHK_USER_COUNT], int topfd, int devfd);
#define CHK_GPU_COUNT 3	/* vfk_checks_add_gpu(): gpu-group, gpu-link, gpu-reset */
/* reset.c: gpu-reset of @g, the GPU vfk_checks_add_gpu() found. */
void check_gpu_reset(struct probe *p, struct check_impl *c, const struct vfk_gpu *g);
/* gpu.c: gpu-group (isolation and slot advice) into @group, gpu-link into
 * @link, of the same GPU. */
void check_gpu_place(struct probe *p, struct check_impl *group, struct check_impl *link,
		     const struct vfk_gpu *g);

#endif
