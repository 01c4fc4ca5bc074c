/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sysfs file contents the inventory reads per device: the uevent attribute
 * (PCI_CLASS, PCI_ID), one-integer attributes (boot_vga), and the symlinks
 * whose targets name the parent bridge and the bus's directory, the driver,
 * the IOMMU group and the PF (parent_from_link, vfk_readlink_base_at). The first input byte picks
 * the file; the rest is its contents or the link's target.
 * Invariants: ids in range, a parsed parent/PF is a valid address, a link
 * base is never "", "." or ".." and has no '/'.
 */
#include "fuzz.h"
#include "../lib/inventory/inventory.c"

static int dirfd_;

/* Has @rel a "." or ".." component? */
static bool has_dots(const char *rel)
{
	const char *p;

	for (p = rel; *p; p += strcspn(p, "/"), p += *p == '/') {
		size_t n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return true;
	}
	return false;
}
static struct vfk_ctx *ctx_;	/* the live root: the scratch dir is a real path */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	dirfd_ = open(fuzz_scratch(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd_ < 0 || vfk_ctx_new(NULL, &ctx_) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int mode = size ? data[0] % 4 : 0;
	struct vfk_device d = { 0 };
	struct vfk_pci_addr a;
	char *s, buf[64], dir[PATH_MAX];
	long v;
	int r;

	if (size)
		data++, size--;
	switch (mode) {
	case 0:	/* uevent */
		fuzz_put(dirfd_, "uevent", data, size);
		if (parse_uevent(ctx_, dirfd_, "uevent", &d)) {
			FUZZ_ASSERT(d.class <= 0xffffff);
		}
		break;
	case 1:	/* one-integer attribute */
		fuzz_put(dirfd_, "boot_vga", data, size);
		if (vfk_read_long_in(ctx_, dirfd_, "boot_vga", &v) == 0)
			(void)v;
		r = vfk_read_in(ctx_, dirfd_, "boot_vga", buf, sizeof(buf));
		FUZZ_ASSERT(r < (int)sizeof(buf));
		if (r >= 0)
			FUZZ_ASSERT(strlen(buf) <= (size_t)r);
		break;
	case 2:	/* the device link: parent bridge from its path */
		s = fuzz_strdup(data, size);
		fuzz_link(dirfd_, "dev", s);
		if (parent_from_link(dirfd_, "dev", &a, dir, sizeof(dir))) {
			FUZZ_ASSERT(a.dev <= 31 && a.fn <= 7);
		}
		/* the bus's directory, opened below sys: never above it */
		FUZZ_ASSERT(dir[0] != '/' && strlen(dir) < sizeof(dir));
		FUZZ_ASSERT(!strstr(dir, "//") && !has_dots(dir));
		free(s);
		break;
	case 3:	/* driver / iommu_group / physfn links: their base name */
		s = fuzz_strdup(data, size);
		fuzz_link(dirfd_, "link", s);
		r = vfk_readlink_base_at(dirfd_, "link", buf, sizeof(buf));
		if (r > 0) {
			int group = -1;
			FUZZ_ASSERT((size_t)r == strlen(buf));
			FUZZ_ASSERT(!strchr(buf, '/') && strcmp(buf, ".") && strcmp(buf, ".."));
			parse_int_name(buf, &group);
			FUZZ_ASSERT(group >= -1);
			if (vfk_pci_addr_parse(buf, &a) == 0)
				FUZZ_ASSERT(a.dev <= 31 && a.fn <= 7);
		}
		free(s);
		break;
	}
	return 0;
}
