/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A function's BARs from sysfs "resource" (bars.h): read when a plan needs
 * them (a VM's 64-bit PCI hole, its physical address width, the memory
 * VFIO may lock), never by a listing.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

#include "core/errmsg.h"
#include "inventory/bars.h"

/* include/linux/ioport.h */
#define IORESOURCE_MEM		0x00000200
#define IORESOURCE_PREFETCH	0x00002000
#define IORESOURCE_MEM_64	0x00100000

/* The standard BARs: resource lines 0-5 (6 is the ROM, then IOV BARs and
 * bridge windows). */
#define BAR_LINES 6

/* "0x%016llx 0x%016llx 0x%016llx": three hex numbers and nothing else. */
static bool parse_line(const char *s, uint64_t v[3])
{
	int i;

	for (i = 0; i < 3; i++) {
		char *end;

		while (*s == ' ' || *s == '\t')
			s++;
		if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !isxdigit((unsigned char)s[2]))
			return false;
		errno = 0;
		v[i] = strtoull(s, &end, 16);
		if (errno)
			return false;
		s = end;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0';
}

int device_read_bars(struct vfk_ctx *ctx, const struct vfk_device *dev, struct device_bars *out,
		     char *err, size_t errsize)
{
	_cleanup_free_ char *path = NULL;
	char rel[96], buf[2048], shown[48], *line, *save = NULL;
	struct vfk_where w = { .err = err, .errsize = errsize };
	int n;

	memset(out, 0, sizeof(*out));
	snprintf(rel, sizeof(rel), VFK_SYS_PCI_DEVICES "/%s/resource", vfk_device_get_address(dev));
	n = vfk_root_read(ctx, VFK_ROOT_SYS, rel, buf, sizeof(buf));
	if (n < 0)
		return n;
	path = vfk_root_host_path(VFK_ROOT_SYS, rel);
	w.path = path ? path : rel;
	for (line = strtok_r(buf, "\n", &save); line && w.line < BAR_LINES;
	     line = strtok_r(NULL, "\n", &save)) {
		uint64_t v[3], size;

		w.line++;
		if (!parse_line(line, v))
			return vfk_fail_at(&w, EINVAL, "'%s' is not 'START END FLAGS' in hex",
					   vfk_shown(line, shown, sizeof(shown)));
		if (!(v[2] & IORESOURCE_MEM) || v[1] <= v[0])
			continue;	/* I/O ports, or no BAR here */
		size = v[1] - v[0] + 1;
		if (!size)
			continue;	/* 0 to 2^64 - 1: no BAR is that */
		out->n++;
		out->total += size;
		if ((v[2] & (IORESOURCE_MEM_64 | IORESOURCE_PREFETCH)) ==
		    (IORESOURCE_MEM_64 | IORESOURCE_PREFETCH))
			out->pref64 += size;
		if (size > out->largest)
			out->largest = size;
	}
	dbg(ctx, "%s: %u memory BARs, %" PRIu64 " bytes (%" PRIu64 " 64-bit prefetchable)",
	    vfk_device_get_address(dev), out->n, out->total, out->pref64);
	return 0;
}
