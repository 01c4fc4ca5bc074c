/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VM profiles (INI, vfiokit.ini(5)) as vfio-vm reads them, and "--set
 * SECTION.KEY=VALUE" on top. Input: the INI text, then (after a NUL byte)
 * one --set key, a NUL, and its value. Invariants: an error is one line; a
 * parsed profile has a name without '/' and values without newlines; a
 * refused --set says why.
 */
#include "fuzz.h"

static const char *const probes[][2] = {
	{ "vm", "name" }, { "vm", "memory" }, { "vm", "vcpus" }, { "vm", "kernel" },
	{ "vm", "cmdline" }, { "gpu", "mode" }, { "gpu", "device" }, { "gpu", "mdev-type" },
	{ "tuning", "vendor-id" }, { "display", "resolution" }, { "display", "listen" },
	{ "network", "mac" }, { "disk", "path" }, { "disk.data", "path" }, { "network.lan", "bridge" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rest, *val;
	size_t n = fuzz_split(data, size, "\xff\xfe", &rest, &size), vn, i;
	char *text = fuzz_strdup(data, n), *key, *value, err[512] = "";
	struct vfk_profile *p = NULL;
	int r;

	vn = fuzz_split(rest, size, "=", &val, &size);
	key = fuzz_strdup(rest, vn);
	value = fuzz_strdup(val, size);
	r = vfk_profile_parse(text, "/fuzz/profiles/vm.ini", &p, err, sizeof(err));
	if (r == 0) {
		const char *name = vfk_profile_get_name(p);
		FUZZ_ASSERT(name && *name && !strchr(name, '/'));
		FUZZ_ASSERT(vfk_profile_get_path(p));
		for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			const char *v = vfk_profile_get(p, probes[i][0], probes[i][1]);
			if (v)
				FUZZ_ASSERT(!strchr(v, '\n'));
		}
		err[0] = '\0';
		r = vfk_profile_set(p, key, value, err, sizeof(err));
		if (r < 0)	/* may echo the key as typed, newlines and all */
			FUZZ_ASSERT(*err);
		vfk_profile_free(p);
	} else {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM);
		FUZZ_ASSERT(*err && !strchr(err, '\n'));
	}
	free(text);
	free(key);
	free(value);
	return 0;
}
