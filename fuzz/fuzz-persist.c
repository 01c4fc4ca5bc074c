/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The persistence config (<sysroot>/etc/vfiokit/vfio-bind.conf), read with
 * inih by persist.c's handler at every boot-time udev event. Invariants:
 * what is accepted names each device once, by its canonical address, and
 * what vfiokit writes back (persist_save, caught at the write hook) parses
 * again to the same list — a rewrite must never turn a good file bad.
 */
#include "fuzz.h"
#include "../lib/persist.c"

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
	return !*id || (strlen(id) == 9 && id[4] == ':' && strspn(id, "0123456789abcdef:") == 9);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	struct persist_list l = { 0 }, k = { 0 };
	size_t i, x;
	int r;

	r = ini_parse_string(text, persist_handler, &l);
	if (r == 0 && !l.error) {
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
		r = ini_parse_string(written, persist_handler, &k);
		FUZZ_ASSERT(r == 0 && !k.error);
		/* entries without an id line are not written back */
		for (i = 0, x = 0; i < l.n; i++) {
			if (!*l.id[i])
				continue;
			FUZZ_ASSERT(x < k.n);
			FUZZ_ASSERT(!strcmp(l.addr[i], k.addr[x]) && !strcmp(l.id[i], k.id[x]));
			x++;
		}
	}
	persist_free(&l);
	persist_free(&k);
	free(text);
	return 0;
}
