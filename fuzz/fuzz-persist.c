/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The persistence config (<sysroot>/etc/vfiokit/vfio-bind.conf), parsed by
 * persist.c's strict line parser at every boot-time udev event. Invariants:
 * what is accepted names each device once, by its canonical address, with a
 * full vvvv:dddd id; a refusal is one line "PATH:LINE: what"; and what
 * vfiokit writes back (persist_save, caught at the write hook) parses again
 * to the same list: a rewrite must never turn a good file bad.
 */
#include "fuzz.h"
#include "../lib/bind/persist.c"

static struct vfk_ctx *ctx;
static char *written;

static int capture(void *data, const char *path, const char *value)
{
	(void)data, (void)path;
	free(written);
	written = strdup(value);
	return 1;	/* skip the real write */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (vfk_ctx_new(fuzz_scratch(), &ctx) < 0)
		abort();
	vfk_ctx_set_log_fn(ctx, fuzz_log, NULL);
	vfk_ctx_set_write_hook(ctx, capture, NULL);
	return 0;
}

static bool id_ok(const char *id)
{
	return strlen(id) == 9 && id[4] == ':' && strspn(id, "0123456789abcdef:") == 9;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct persist_list l, k;
	char err[512] = "";
	size_t i, x;
	int r;

	/* the raw bytes, NULs included: the parser gets the length, not a C string */
	r = persist_parse((const char *)data, size, "F", &l, err, sizeof(err));
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL && l.n == 0);
		FUZZ_ASSERT(!strncmp(err, "F:", 2) && !strchr(err, '\n'));
		return 0;
	}
	for (i = 0; i < l.n; i++) {
		struct vfk_pci_addr a;
		char norm[16];
		FUZZ_ASSERT(vfk_pci_addr_parse(l.addr[i], &a) == 0);
		FUZZ_ASSERT(!strcmp(vfk_pci_addr_format(&a, norm, sizeof(norm)), l.addr[i]));
		FUZZ_ASSERT(id_ok(l.id[i]));
		for (x = 0; x < i; x++)
			FUZZ_ASSERT(strcmp(l.addr[x], l.addr[i]));
	}
	free(written);
	written = NULL;
	FUZZ_ASSERT(persist_save(ctx, &l) == 0 && written);
	r = persist_parse(written, strlen(written), "W", &k, err, sizeof(err));
	FUZZ_ASSERT(r == 0 && k.n == l.n);
	for (i = 0; i < l.n; i++)
		FUZZ_ASSERT(!strcmp(l.addr[i], k.addr[i]) && !strcmp(l.id[i], k.id[i]));
	persist_free(&l);
	persist_free(&k);
	return 0;
}
