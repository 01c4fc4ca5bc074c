/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which functions of a scan are VFs, and whose: learnt from the PFs rather
 * than from a physfn link in every VF. The kernel places VF k of a PF at
 * routing ID PF + sriov_offset + k * sriov_stride (PCIe SR-IOV 3.3.10-11),
 * beside the PF, and says so in the PF's sysfs attributes: three reads a PF
 * instead of one link read a VF. A server of 4,096 functions, 98% of them
 * VFs, saves a system call a function.
 *
 * The scan goes through the addresses in order, and a VF's routing ID is
 * above its PF's (an offset of 0 is refused), so each PF is met before its
 * VFs. Where a PF gives no offset or stride, or figures the kernel would
 * not (a tree of an older kernel, or one that lies), the scan asks each
 * function's physfn link as before: slower, never wrong.
 */
#include <stdio.h>
#include <stdlib.h>

#include "inventory/inventory.h"

int vf_scan_init(struct vf_scan *s, const struct vfk_pci_addr *addrs, size_t n)
{
	s->addrs = addrs;
	s->n = n;
	s->by_link = false;
	s->pf_of = calloc(n ? n : 1, sizeof(*s->pf_of));
	return s->pf_of ? 0 : -ENOMEM;
}

void vf_scan_free(struct vf_scan *s)
{
	free(s->pf_of);
	s->pf_of = NULL;
}

bool vf_scan_pf_of(const struct vf_scan *s, size_t i, size_t *pf)
{
	if (!s->pf_of[i])
		return false;
	*pf = s->pf_of[i] - 1;
	return true;
}

static int cmp_addr(const void *a, const void *b)
{
	return pci_addr_cmp(a, b);
}

static bool read_count(struct vfk_ctx *ctx, const char *address, const char *attr,
		       unsigned long *out)
{
	char rel[96], buf[32], *end;
	unsigned long v;

	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/%s", address, attr);
	if (vfk_root_read_attr(ctx, VFK_ROOT_SYS, rel, buf, sizeof(buf)) <= 0)
		return false;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || v > 0xffff)
		return false;
	*out = v;
	return true;
}

/*
 * Mark the VFs of the PF at index @i. Each VF of a real PF is in the listing
 * (the kernel adds them all before sriov_numvfs reads back), so the walk
 * stops at the first missing or already claimed: a tree that lies costs
 * nothing more than its own functions.
 */
static void claim(struct vf_scan *s, size_t i, unsigned long numvfs, unsigned long offset,
		  unsigned long stride)
{
	const struct vfk_pci_addr *pf = &s->addrs[i];
	unsigned long rid = (unsigned long)pf->bus << 8 | pf->dev << 3 | pf->fn, k;

	for (k = 0, rid += offset; k < numvfs && rid <= 0xffff; k++, rid += stride) {
		struct vfk_pci_addr vf = {
			.domain = pf->domain, .bus = (uint8_t)(rid >> 8),
			.dev = (uint8_t)((rid >> 3) & 0x1f), .fn = (uint8_t)(rid & 7),
		};
		const struct vfk_pci_addr *p = bsearch(&vf, s->addrs, s->n, sizeof(vf), cmp_addr);

		if (!p || s->pf_of[p - s->addrs])
			return;
		s->pf_of[p - s->addrs] = (uint32_t)i + 1;
	}
}

void vf_scan_probe(struct vfk_ctx *ctx, struct vf_scan *s, size_t i, const char *address)
{
	unsigned long numvfs, offset, stride;

	/* the attribute only a PF has: one open that fails for any other */
	if (!read_count(ctx, address, "sriov_numvfs", &numvfs) || numvfs == 0)
		return;
	if (!read_count(ctx, address, "sriov_offset", &offset) ||
	    !read_count(ctx, address, "sriov_stride", &stride) || offset == 0 ||
	    (stride == 0 && numvfs > 1) || s->n > UINT32_MAX - 1) {
		dbg(ctx, "%s: SR-IOV offset and stride unknown: each VF's physfn link is read",
		    address);
		s->by_link = true;
		return;
	}
	claim(s, i, numvfs, offset, stride);
}
