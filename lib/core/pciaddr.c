/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI addresses: parsed once, validated, never pasted into paths unchecked. */
#include <ctype.h>
#include <stdio.h>

#include "core/internal.h"

static int parse_hex(const char **p, unsigned int maxdigits, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	unsigned int n = 0;

	while (isxdigit((unsigned char)**p) && n < maxdigits) {
		int c = tolower((unsigned char)**p);
		v = v * 16 + (unsigned long)(isdigit(c) ? c - '0' : c - 'a' + 10);
		(*p)++;
		n++;
	}
	if (n == 0 || isxdigit((unsigned char)**p) || v > max)
		return -1;
	*out = v;
	return 0;
}

int vfk_pci_addr_parse(const char *s, struct vfk_pci_addr *out)
{
	unsigned long dom = 0, bus, dev, fn;
	const char *p = s, *colon2;

	if (!s || !out)
		return neg_errno(EINVAL);
	/* with domain there are two colons before the dot */
	colon2 = strchr(s, ':');
	if (colon2 && strchr(colon2 + 1, ':')) {
		if (parse_hex(&p, 4, 0xffff, &dom) < 0 || *p++ != ':')
			return neg_errno(EINVAL);
	}
	if (parse_hex(&p, 2, 0xff, &bus) < 0 || *p++ != ':')
		return neg_errno(EINVAL);
	if (parse_hex(&p, 2, 0x1f, &dev) < 0 || *p++ != '.')
		return neg_errno(EINVAL);
	if (parse_hex(&p, 1, 7, &fn) < 0 || *p != '\0')
		return neg_errno(EINVAL);
	out->domain = (uint16_t)dom;
	out->bus = (uint8_t)bus;
	out->dev = (uint8_t)dev;
	out->fn = (uint8_t)fn;
	return 0;
}

char *vfk_pci_addr_format(const struct vfk_pci_addr *a, char *buf, size_t size)
{
	snprintf(buf, size, "%04x:%02x:%02x.%x", a->domain, a->bus, a->dev, a->fn);
	return buf;
}

bool vfk_pci_id_valid(const char *s)
{
	size_t i;

	if (strlen(s) != 9 || s[4] != ':')
		return false;
	for (i = 0; i < 9; i++)
		if (i != 4 && !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}
