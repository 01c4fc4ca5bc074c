/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPU lists ("0-7,16-23") from sysfs (local_cpulist, node cpulists, cache
 * shared_cpu_list) and profiles (vcpu pinning). Invariants: what parses
 * formats back to a list that parses to the same set.
 */
#include "fuzz.h"
#include "core/internal.h"
#include "core/cpuset.h"
#include "core/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size);
	struct cpuset a, b;
	static char buf[VFK_MAX_CPUS * 12];
	char tiny[8];

	if (cpuset_parse(s, &a) == 0) {
		cpuset_format(&a, buf, sizeof(buf));
		FUZZ_ASSERT(cpuset_parse(buf, &b) == 0);
		FUZZ_ASSERT(!memcmp(&a, &b, sizeof(a)));
		FUZZ_ASSERT(cpuset_count(&a) <= VFK_MAX_CPUS);
		FUZZ_ASSERT(cpuset_subset(&a, &b) && cpuset_subset(&b, &a));
		cpuset_format(&a, tiny, sizeof(tiny));	/* truncates, never overflows */
		FUZZ_ASSERT(strlen(tiny) < sizeof(tiny));
	}
	free(s);
	return 0;
}
