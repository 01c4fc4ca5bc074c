/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI addresses: vfk_pci_addr_parse() is the gate every --device, journal
 * line, persisted section and sysfs link name passes before it becomes part
 * of a path. Invariants: whatever it accepts is short, has no '/' or "..",
 * is in range, and formats to a canonical string that parses back the same.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size);
	struct vfk_pci_addr a, b;
	char buf[16], small[6];

	if (vfk_pci_addr_parse(s, &a) == 0) {
		FUZZ_ASSERT(strlen(s) <= 12);
		FUZZ_ASSERT(!strchr(s, '/') && !strstr(s, ".."));
		FUZZ_ASSERT(!strpbrk(s, " \t\n\r"));
		FUZZ_ASSERT(a.dev <= 31 && a.fn <= 7);
		vfk_pci_addr_format(&a, buf, sizeof(buf));
		FUZZ_ASSERT(strlen(buf) == 12);
		FUZZ_ASSERT(vfk_pci_addr_parse(buf, &b) == 0);
		FUZZ_ASSERT(a.domain == b.domain && a.bus == b.bus && a.dev == b.dev && a.fn == b.fn);
		/* a too small buffer truncates, never overflows */
		vfk_pci_addr_format(&a, small, sizeof(small));
		FUZZ_ASSERT(strlen(small) == sizeof(small) - 1);
	}
	free(s);
	return 0;
}
